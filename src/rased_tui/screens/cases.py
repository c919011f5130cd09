"""The "Dossiers" screen, home of the application: the cases of a school year in a table.

Filters (`f`) and search (`/`) are applied in SQL by the store; the table holds one page at
a time and the next page is appended when the cursor nears the end, so the screen stays quick
with tens of thousands of cases. `enter` opens a case, `n` records a new request, `e` edits
the request of the case under the cursor.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Header, Input, Static

from rased_tui.domain.calendar import format_french_date, school_year_of, today
from rased_tui.domain.enums import CaseStatus, Motif
from rased_tui.domain.filters import CaseFilter, StatusGroup
from rased_tui.domain.french import count
from rased_tui.store import StoreError
from rased_tui.widgets.quick_table import QuickTable

PAGE_SIZE = 100
LOAD_AHEAD = 10  # rows before the end of what is loaded when the next page is read
SEARCH_DELAY = 0.15  # seconds of quiet typing before the list follows the search box
# Longest case number shown whole. A local number has 9 characters (2026-0021); one imported
# and renumbered keeps its site (2026-0021-ROUENNOR) and must not look like the local one.
NUMBER_WIDTH = 20
# (label, width) of each column. What matters most comes first, so that an 80-column terminal
# shows number, urgency, date, who and status; the rest scrolls sideways. The number's column
# (width None) is as wide as the longest number loaded: 9 unless an imported one is longer.
COLUMNS = (("N°", None), ("!", 1), ("Demande", 10), ("Élève / demandeur", 22), ("Statut", 16),
           ("Niveau", 7), ("École", 22), ("Motif principal", 22), ("Membres", 16), ("Dernière étape", 14))


class CasesScreen(Screen[None]):
    """The list of cases, filtered and searched in the database."""

    HELP = """\
**Dossiers** — les demandes d'aide de l'année scolaire, la plus récente en haut.

| Touche | Action |
|---|---|
| `/` | rechercher (nom, prénom, numéro, texte ; sans se soucier des accents ni des majuscules) |
| `f` | filtres : année, statut, école, membre, motif, urgents seulement |
| `entrée` | ouvrir le dossier |
| `n` | nouvelle demande |
| `e` | modifier la demande du dossier sélectionné |
| `échap` | quitter la recherche |
"""

    BINDINGS = [
        Binding("slash", "search", "Rechercher", key_display="/", id="search"),
        Binding("f", "filters", "Filtres", id="filters"),
        Binding("n", "new_request", "Nouvelle demande", id="new_request"),
        Binding("e", "edit_request", "Modifier", id="edit_request"),
        Binding("escape", "leave_search", "Liste", show=False, id="leave_search"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.case_filter = CaseFilter(school_year=school_year_of(today()))
        self._total = 0
        self._loaded = 0
        self._search_timer: Timer | None = None
        self._read_at: tuple | None = None  # the base's version when the list was last read

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="Rechercher : nom, numéro, texte…  (/)", id="cases-search", compact=True)
        yield Static(id="cases-summary")
        yield Static(id="cases-warning")
        yield QuickTable(id="cases-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.reload()
        table.focus()

    # -- loading ---------------------------------------------------------------------------

    def reload(self, select_case_id: str | None = None, *, warnings: bool = True) -> None:
        """Read the count and the first page again (after a filter, a search or a save);
        the urgent warning too, unless only the search changed."""
        store = self.app.store
        table = self.query_one(DataTable)
        table.clear()
        self._loaded = 0
        try:
            self._read_at = store.base_version()
            self._total = store.count_cases(self.case_filter)
            self._append_page()
            if warnings:
                self._show_urgent_warning()
        except StoreError as error:
            self._total = self._loaded
            self._read_at = None  # read again next time
            self.notify(str(error), title="Lecture impossible", severity="error")
        self._show_summary()
        if select_case_id is not None and select_case_id in table.rows:
            table.move_cursor(row=table.get_row_index(select_case_id))

    def _append_page(self) -> None:
        rows = self.app.store.case_page(self.case_filter, self._loaded, PAGE_SIZE)
        table = self.query_one(DataTable)
        for row in rows:
            table.add_row(*_cells(row), key=row["id"])
        self._loaded += len(rows)

    @on(DataTable.RowHighlighted)
    def _load_more_near_the_end(self, event: DataTable.RowHighlighted) -> None:
        if self._loaded < self._total and event.cursor_row >= self._loaded - LOAD_AHEAD:
            try:
                self._append_page()
            except StoreError as error:
                self.notify(str(error), title="Lecture impossible", severity="error")

    def _show_summary(self) -> None:
        self.query_one("#cases-summary", Static).update(summary_text(self._total, self.case_filter, self.app.store))

    def _show_urgent_warning(self) -> None:
        waiting = self.app.store.urgent_waiting_count(self.case_filter.school_year)
        warning = self.query_one("#cases-warning", Static)
        warning.display = bool(waiting)
        if waiting:
            plural = "s" if waiting > 1 else ""
            meeting = self.app.store.next_meeting(today())  # a few small queries, only when warning
            when = f" — prochaine réunion du pôle le {format_french_date(meeting.date)}" if meeting else ""
            warning.update(f"⚠ {waiting} demande{plural} urgente{plural} pas encore analysée{plural}{when}")

    # -- search ----------------------------------------------------------------------------

    def action_search(self) -> None:
        self.query_one("#cases-search", Input).focus()

    def action_leave_search(self) -> None:
        self.query_one(DataTable).focus()

    @on(Input.Changed, "#cases-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self._drop_pending_search()
        self._search_timer = self.set_timer(SEARCH_DELAY, partial(self._search_after_pause, event.value))

    def _search_after_pause(self, text: str) -> None:
        self._search_timer = None
        self.apply_search(text)

    def _drop_pending_search(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
            self._search_timer = None

    @on(Input.Submitted, "#cases-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self.apply_search(event.value)
        self.query_one(DataTable).focus()

    def apply_search(self, text: str) -> None:
        """Show the cases the search finds, now: a search still waiting for a pause in the
        typing is dropped (it would come back to an older text)."""
        self._drop_pending_search()
        if text != self.case_filter.search:
            self.case_filter = replace(self.case_filter, search=text)
            self.reload(warnings=False)

    # -- actions ---------------------------------------------------------------------------

    def action_filters(self) -> None:
        from rased_tui.screens.filters import FiltersScreen

        def apply(chosen: CaseFilter | None) -> None:
            if chosen is not None:
                self.case_filter = replace(chosen, search=self.case_filter.search)
                self.reload()

        self.app.push_screen(FiltersScreen(self.case_filter), apply)

    def selected_case_id(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(DataTable.RowSelected)
    def _open_case(self, event: DataTable.RowSelected) -> None:
        self.open_case(event.row_key.value)

    def open_case(self, case_id: str) -> None:
        from rased_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(case_id))

    def on_screen_resume(self) -> None:
        """Back on the list (from a case: escape, or `1` from deeper), the rows are read again
        if anything was written meanwhile (statuses follow the steps recorded), the cursor kept
        on its case; after a look only, nothing is read again."""
        if self.is_mounted and self._read_at != self.app.store.base_version():
            self.reload(select_case_id=self.selected_case_id())

    def action_new_request(self) -> None:
        from rased_tui.screens.intake import IntakeScreen

        self.app.push_screen(IntakeScreen(), self._after_save)

    def action_edit_request(self) -> None:
        from rased_tui.screens.intake import IntakeScreen

        case_id = self.selected_case_id()
        if case_id is None:
            self.notify("Aucun dossier sélectionné.", severity="warning")
            return
        case = self.app.store.get_case(case_id)
        if case is None:  # removed meanwhile (an import, another window)
            self.notify("Dossier introuvable : la liste est mise à jour.", severity="warning")
            self.reload()
            return
        self.app.push_screen(IntakeScreen(case), self._after_save)

    def _after_save(self, saved) -> None:
        """After the form: the list again, the saved case under the cursor, then opened."""
        if saved is None:
            return
        self.reload(select_case_id=saved.id)
        if saved.id not in self.query_one(DataTable).rows:  # hidden by the filters: show its year, unfiltered
            self.query_one("#cases-search", Input).value = ""
            self.case_filter = CaseFilter(school_year=saved.school_year or self.case_filter.school_year)
            self.reload(select_case_id=saved.id)
        self.open_case(saved.id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In read-only mode the editing keys are hidden (and do nothing)."""
        if action in ("new_request", "edit_request") and self.app.store.read_only:
            return False
        return True


# Statuses as the narrow column of the list writes them.
SHORT_STATUS = {
    CaseStatus.PREMIERE_INTENTION: "1re intention",
    CaseStatus.SECONDE_INTENTION: "2de intention",
    CaseStatus.CLASSEE_SANS_SUITE: "Sans suite",
}


def _cells(row) -> tuple[str, ...]:
    """The cells of one row of the table, in French."""
    main_motif = Motif(row["main_motif"]).label if row["main_motif"] else ""
    status = CaseStatus(row["status"])
    return (_number_cell(row["number"]), "⚠" if row["urgent"] else "", format_french_date(row["date_sent"]),
            row["subject"] or "", SHORT_STATUS.get(status, status.label), row["levels"] or "", row["school"],
            main_motif, row["members"] or "", format_french_date(row["last_entry"]))


def _number_cell(number: str) -> str:
    """The number whole, up to NUMBER_WIDTH characters (longer: cut, with an ellipsis)."""
    return number if len(number) <= NUMBER_WIDTH else number[:NUMBER_WIDTH - 1] + "…"


def summary_text(total: int, case_filter: CaseFilter, store) -> str:
    """'N dossiers' and the active filters, always in view."""
    parts = [count(total, "dossier"), case_filter.school_year]
    if case_filter.status is not StatusGroup.TOUS:
        parts.append(case_filter.status.label.lower())
    if case_filter.school_id:
        school = store.get_school(case_filter.school_id)
        parts.append(school.name if school else "école ?")
    if case_filter.member_id:
        member = store.get_member(case_filter.member_id)
        parts.append(f"membre : {member.full_name}" if member else "membre ?")
    if case_filter.motif:
        parts.append(f"motif : {case_filter.motif.label}")
    if case_filter.urgent_only:
        parts.append("urgents seulement")
    if case_filter.search.strip():
        parts.append(f"recherche « {case_filter.search.strip()} »")
    return " · ".join(parts)

"""The "Prises en charge" screen (`2`): the aids each RASED member holds, in three groups.

Aide à dominante pédagogique (maîtres E), aide à dominante rééducative (maîtres G), aide
psychologique (psychologues): under each group its members, each with a gauge of the pupils
held against the capacity written in the directory, and under each member his or her aids.
Totals per member, per group and for the whole RASED count a pupil once, however many members
help him or her. Filters: school, période (the aids that ran in it) and antenna.
`entrée` opens the case, `f` ends the aid under the cursor (date and reason).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select, Static

from rased_tui.domain.calendar import PeriodSpan, format_french_date, period_of, school_year_of, today
from rased_tui.domain.caseloads import (
    CaseloadAid,
    CaseloadFilter,
    Load,
    caseload_members,
    gauge,
    is_over_capacity,
    load_of,
    over_capacity_text,
    rhythm_text,
)
from rased_tui.domain.enums import AidKind
from rased_tui.domain.french import count
from rased_tui.domain.models import Member, fold
from rased_tui.store import StoreError
from rased_tui.widgets.quick_table import QuickTable

# Short enough for the first column; the help and the summary give the full names.
KIND_HEADINGS = {AidKind.E: "Aides E (pédagogiques)", AidKind.G: "Aides G (rééducatives)",
                 AidKind.PSY: "Aides psychologiques"}
# (label, width): who, then what an 80-column terminal must show; the rest scrolls sideways.
COLUMNS = (("Membre / élève", 22), ("Charge / école", 14), ("Niv.", 4), ("Sem.", 4),
           ("Bilan dû", 12), ("Modalité", 15), ("Début", 10), ("Rythme", 8), ("N°", 9))
TODAY_OPTION = "aujourdhui"
ALL = "toutes"


def held_text(load: Load) -> str:
    """'5 élèves', '5 élèves + 1 gr.' (groups and classes)."""
    return count(load.pupils, "élève") + (f" + {load.groups} gr." if load.groups else "")


class CaseloadsScreen(Screen[None]):
    """The caseloads of the maîtres E, maîtres G and psychologues."""

    CSS_PATH = "caseloads.tcss"
    HELP = """\
**Prises en charge** — les aides en cours de chaque membre du RASED, en trois groupes :
maîtres E (aide à dominante pédagogique), maîtres G (aide à dominante rééducative),
psychologues (aide psychologique).

- Sous chaque membre : ses aides, avec l'élève (ou le groupe, la classe), l'école, le niveau,
  la modalité, le rythme, le début, les semaines écoulées, la date du prochain bilan et le
  numéro du dossier.
- **Bilan dû** : à la fin de la durée prévue de l'aide ; sans durée prévue, à la fin de la
  période en cours. ⚠ quand la date est passée.
- **Charge** : les élèves (et groupes) suivis par le membre, face à sa capacité inscrite dans
  l'annuaire (`6`). ⚠ quand elle est dépassée.
- **Totaux** : un élève suivi par plusieurs membres ne compte qu'une fois.
- **Période** : sans période, les aides en cours aujourd'hui ; avec une période, toutes les
  aides qui ont eu lieu pendant celle-ci (même terminées depuis).

| Touche | Action |
|---|---|
| `entrée` | ouvrir le dossier de l'aide |
| `f` | mettre fin à l'aide (date et motif) |
| `ctrl+f` | filtres : école, période, antenne (`échap` pour revenir au tableau) |
| `5` | liste d'attente |
| `6` | annuaire : capacités, passation des aides d'un membre qui part |
"""
    BINDINGS = [
        Binding("enter", "open_case", "Ouvrir", id="caseload_open_case"),
        Binding("f", "end_aid", "Fin de l'aide", id="caseload_end_aid"),
        Binding("ctrl+f", "filters", "Filtres", id="caseload_filters"),
        Binding("escape", "back_to_table", "Tableau", show=False, id="caseload_back_to_table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.caseload_filter = CaseloadFilter()
        self.aids: dict[str, CaseloadAid] = {}
        self.members: list[Member] = []
        self._periods: dict[str, PeriodSpan] = {}
        self._read_at: tuple | None = None  # the base's version and the day when last read

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="caseload-filters"):
            for widget_id, options in self._filter_options().items():
                yield Select(options, value=options[0][1], allow_blank=False, compact=True, id=widget_id)
        yield Static(id="caseload-summary")
        yield Static(id="caseload-warning")
        yield QuickTable(id="caseload-table", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.reload()
        table.focus()

    # -- filters ----------------------------------------------------------------------------

    def _filter_options(self) -> dict[str, list[tuple[str, str]]]:
        """The choices of the three filters, by widget id, "all" first."""
        store = self.app.store
        day = today()
        schools = [("Toutes les écoles", ALL)] + [(school.name, school.id) for school in
                                                   sorted(store.list_schools(), key=lambda school: fold(school.name))]
        periods = [("En cours aujourd'hui", TODAY_OPTION)]
        year = school_year_of(day)
        previous = f"{int(year[:4]) - 1}-{year[:4]}"
        for span in store.periods_of_year(year) + store.periods_of_year(previous):
            if span.start <= day:
                key = f"{span.school_year}:{span.number}"
                self._periods[key] = span
                periods.append((f"Période {span.number} {span.school_year} (du {format_french_date(span.start)}"
                                f" au {format_french_date(span.end)})", key))
        antennas = [("Toutes les antennes", ALL)] + [(name, name) for name in store.member_antennas()]
        return {"caseload-school": schools, "caseload-period": periods, "caseload-antenna": antennas}

    @on(Select.Changed)
    def _filter_changed(self) -> None:
        school = self.query_one("#caseload-school", Select).value
        period = self.query_one("#caseload-period", Select).value
        antenna = self.query_one("#caseload-antenna", Select).value
        chosen = CaseloadFilter(
            school_id=None if school in (ALL, Select.NULL) else school,
            period=self._periods.get(period),
            antenna=None if antenna in (ALL, Select.NULL) else antenna)
        if chosen != self.caseload_filter:  # each Select says its first value when mounted: no news
            self.caseload_filter = chosen
            self.reload()

    def action_filters(self) -> None:
        self.query_one("#caseload-school", Select).focus()

    def action_back_to_table(self) -> None:
        self.query_one(DataTable).focus()

    # -- reading ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the aids and members again and draw the table, the cursor kept on its row."""
        store = self.app.store
        day = today()
        try:
            self._read_at = (store.base_version(), day)
            aids = store.caseload_aids(self.caseload_filter, day)
            # a member's gauge is his or her whole load, whatever the school shown
            whole = store.caseload_aids(replace(self.caseload_filter, school_id=None), day) \
                if self.caseload_filter.school_id else aids
            members = caseload_members(store.list_members(), self.caseload_filter, day, aids)
            current = period_of(day, store.periods_of_year(school_year_of(day)))
            waiting = store.waiting_list(day)
        except StoreError as error:
            self._read_at = None  # read again next time
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        self.aids = {aid.aid_id: aid for aid in aids}
        self.members = members
        loads = {member.id: load_of(aid for aid in whole if aid.member_id == member.id) for member in members}
        self._draw(aids, members, loads, current, day)
        self._show_summary(aids, waiting, day)
        self._show_warnings(whole, members, loads, day)

    def on_screen_resume(self) -> None:
        """Back from a case or a form: what was changed there shows here (nothing is read
        again when nothing was written, as after the help or the palette)."""
        if self.is_mounted and self._read_at != (self.app.store.base_version(), today()):
            self.reload()

    def _draw(self, aids: list[CaseloadAid], members: list[Member], loads: dict[str, Load],
              current: PeriodSpan | None, day: date) -> None:
        table = self.query_one(DataTable)
        kept, kept_index = self.selected_key(), table.cursor_row
        table.clear()
        for kind in AidKind:
            kind_aids = [aid for aid in aids if aid.kind is kind]
            self._add_total_row(table, KIND_HEADINGS[kind], load_of(kind_aids), f"kind:{kind.value}")
            for member in [m for m in members if m.role is kind.role]:
                held = [aid for aid in kind_aids if aid.member_id == member.id]
                self._add_member_row(table, member, loads[member.id], len(held), day)
                for aid in held:
                    table.add_row(*self._aid_cells(aid, current, day), key=f"aid:{aid.aid_id}")
        self._add_total_row(table, "Ensemble du RASED", load_of(aids), "total")
        if kept in table.rows:
            table.move_cursor(row=table.get_row_index(kept))
        elif kept is not None:  # that aid ended or left the filter: stay at the same height
            table.move_cursor(row=min(kept_index, table.row_count - 1))
        else:  # the first drawing: on the first aid
            first_aid = next((key.value for key in table.rows if key.value.startswith("aid:")), None)
            if first_aid is not None:
                table.move_cursor(row=table.get_row_index(first_aid))

    @staticmethod
    def _add_total_row(table: DataTable, heading: str, load: Load, key: str) -> None:
        """A group's line (or the whole RASED's): its pupils, each once, and its aids."""
        style = "bold reverse"
        table.add_row(Text(heading, style=style), Text(held_text(load), style=style), "", "", "",
                      Text(count(load.aids, "aide"), style=style), "", "", "", key=key)

    @staticmethod
    def _add_member_row(table: DataTable, member: Member, load: Load, shown: int, day: date) -> None:
        """A member's line: the gauge of his or her whole load, the number of aids listed below."""
        name = member.full_name
        if member.active_to is not None and member.active_to < day:
            name += f" (parti·e le {format_french_date(member.active_to)})"
        over = is_over_capacity(load.held, member.capacity)
        table.add_row(Text(name, style="bold"),
                      Text(gauge(load.held, member.capacity, width=6), style="bold red" if over else ""),
                      "", "", "", count(shown, "aide"), "", "", "", key=f"member:{member.id}")

    @staticmethod
    def _aid_cells(aid: CaseloadAid, current: PeriodSpan | None, day: date) -> tuple:
        due = aid.bilan_due(current)
        if due is None:
            due_cell = Text("fait" if aid.final_bilan else "—")
        else:
            due_cell = Text(format_french_date(due) + (" ⚠" if due < day else ""),
                            style="bold red" if due < day else "")
        subject = f"  {aid.subject}" + ("" if aid.is_open else f" (fin {format_french_date(aid.end_date)})")
        return (subject, aid.school, aid.levels, str(aid.weeks_elapsed(day)), due_cell, aid.modality.label,
                format_french_date(aid.start_date), rhythm_text(aid.sessions_per_week), aid.case_number)

    def _show_summary(self, aids: list[CaseloadAid], waiting: list, day: date) -> None:
        load = load_of(aids)
        when = f"période {self.caseload_filter.period.number} {self.caseload_filter.period.school_year}" \
            if self.caseload_filter.period else f"au {format_french_date(day)}"
        parts = [f"{count(load.aids, 'aide')} {when}", f"{count(load.pupils, 'élève aidé', 'élèves aidés')}"]
        if load.groups:
            parts.append(count(load.groups, "groupe ou classe", "groupes ou classes"))
        if waiting:
            longest = max(case.days_waited(day) for case in waiting)
            parts.append(f"liste d'attente : {count(len(waiting), 'dossier')}, jusqu'à {count(longest, 'jour')} (5)")
        self.query_one("#caseload-summary", Static).update(" · ".join(parts))

    def _show_warnings(self, aids: list[CaseloadAid], members: list[Member], loads: dict[str, Load],
                       day: date) -> None:
        lines = []
        for member in members:
            held = [aid for aid in aids if aid.member_id == member.id]
            load = loads[member.id]
            if over_capacity := over_capacity_text(load.held, member.capacity):
                lines.append(f"⚠ {member.full_name} : {over_capacity}.")
            still_open = [aid for aid in held if aid.is_open]
            if still_open and member.active_to is not None and member.active_to < day:
                lines.append(f"⚠ {member.full_name} n'est plus en fonction et garde "
                             f"{count(len(still_open), 'aide')} : passation dans l'annuaire (6, p).")
        warning = self.query_one("#caseload-warning", Static)
        warning.display = bool(lines)
        warning.update("\n".join(lines))

    # -- actions ----------------------------------------------------------------------------

    def selected_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def selected_aid(self) -> CaseloadAid | None:
        key = self.selected_key() or ""
        return self.aids.get(key.removeprefix("aid:")) if key.startswith("aid:") else None

    @on(DataTable.RowSelected)
    def action_open_case(self) -> None:
        aid = self.selected_aid()
        if aid is None:
            self.notify("Choisissez une aide (les lignes sous le nom d'un membre).", severity="warning")
            return
        from rased_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(aid.case_id))

    def action_end_aid(self) -> None:
        """End the aid under the cursor: the form of the case screen, asking date and reason."""
        aid = self.selected_aid()
        if aid is None or not aid.is_open:
            self.notify("Choisissez une aide en cours.", severity="warning")
            return
        from rased_tui.screens.case_context import case_context
        from rased_tui.screens.steps import EndAidForm

        store = self.app.store
        try:
            case = store.get_case(aid.case_id)
            full_aid = store.get_aid(aid.aid_id)
            if case is None or full_aid is None:
                raise StoreError("Cette aide n'existe plus.")
            context = case_context(store, case, store.list_entries(case.id, include_confidential=False))
        except StoreError as error:
            self.notify(str(error), severity="error")
            self.reload()
            return
        self.app.push_screen(EndAidForm(context, full_aid), lambda saved: saved and self.reload())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: no ending of aids (the key is hidden)."""
        if action == "end_aid" and self.app.store.read_only:
            return False
        return True

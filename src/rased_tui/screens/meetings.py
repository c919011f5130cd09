"""The "Réunions du pôle" screen (`7`): the périodes of a school year, the pôle's meeting in
each, and the agenda of the next meeting.

The upper table lists the five périodes of the year shown (`-` / `+` another year): their
dates and where they come from (official calendar of the base's zone, typed by hand, or
approximate), and the ordinary meeting of each — recorded or proposed — with the last day a
request can come in to be analysed there. `e` edits the période and its meeting under the
cursor, `o` takes the official dates again.

The lower table is the agenda of the next meeting from today (exchange/agenda.py): the
requests waiting for an analysis, the bilans due, the aids ending before the following
meeting. `entrée` on a line opens its case; `x` writes the agenda (CSV and Markdown) into a
folder, also from a base opened read-only — it writes outside the base, like an export.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from rased_tui.domain.calendar import format_french_date, period_of, school_year_of, today
from rased_tui.domain.enums import Zone
from rased_tui.domain.meetings import MeetingPlan, YearPeriod, weekday_name
from rased_tui.exchange.agenda import (
    BILANS,
    ENDINGS,
    REQUESTS,
    Agenda,
    AgendaLine,
    agenda_lines,
    build_agenda,
)
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.store import StoreError

# (label, width): the périodes fit in 80 columns.
PERIOD_COLUMNS = (("N°", 3), ("Du", 10), ("Au", 10), ("Dates", 12), ("Réunion", 10), ("", 11), ("Limite", 10))
AGENDA_COLUMNS = (("Élève / demandeur", 20), ("Date", 10), ("!", 1), ("Remarque", 10), ("Motif / aide", 16),
                  ("N°", 9), ("Niv.", 7), ("École", 30))
SECTIONS = ((REQUESTS, "À analyser", "reçue le", "Aucune demande en attente."),
            (BILANS, "Bilans dus", "bilan dû", "Aucun bilan dû."),
            (ENDINGS, "Fins d'aide", "fin prévue", "Aucune fin d'aide d'ici là."))
EDITING_ACTIONS = ("edit", "official")
KIND_SHORT = {"E": "Aide E", "G": "Aide G", "psy": "Aide psy"}


class MeetingsScreen(Screen[None]):
    """The périodes, the pôle's meetings and the agenda of the next one."""

    CSS_PATH = "meetings.tcss"
    HELP = """\
**Réunions du pôle** — en haut, les cinq périodes de l'année scolaire et la réunion
ordinaire du pôle de chacune ; en bas, l'ordre du jour de la prochaine réunion.

- **Dates** : *officiel* (calendrier officiel des vacances de la zone choisie dans les
  paramètres, `8`), *manuel* (saisies à la main), *approximatif* (ni zone choisie ni
  calendrier officiel pour cette année : à saisir).
- **Réunion** : *enregistrée* (une analyse y a eu lieu, ou sa date a été saisie) ou
  *proposée* (le jeudi de la 4e semaine de la période). **Limite** : dernier jour de réception
  d'une demande pour qu'elle y soit analysée (6 jours avant, modifiable).
- **Ordre du jour** : les demandes reçues et pas encore analysées (les urgentes d'abord, `⚠`,
  puis les plus anciennes ; *hors délai* : reçue après la date limite), les bilans dus d'ici
  la réunion (à la fin prévue de l'aide ; sans durée prévue, à la réunion de chaque période),
  les aides dont la fin prévue tombe avant la réunion suivante.

| Touche | Action |
|---|---|
| `e` | modifier la période et sa réunion (ligne du tableau du haut) |
| `o` | reprendre les dates du calendrier officiel pour l'année |
| `x` | écrire l'ordre du jour (CSV et Markdown, pseudonymisé sauf demande) |
| `entrée` | ouvrir le dossier (tableau du bas) |
| `tab` | passer d'un tableau à l'autre |
| `-` / `+` | année scolaire précédente / suivante |
"""
    BINDINGS = [
        Binding("enter", "open_case", "Ouvrir", id="meetings_open_case"),
        Binding("e", "edit", "Modifier", id="meetings_edit"),
        Binding("o", "official", "Officiel", id="meetings_official"),
        Binding("x", "write_agenda", "Ordre du jour", id="meetings_write_agenda"),
        Binding("minus", "change_year(-1)", "Année préc.", key_display="-", show=False, id="meetings_previous_year"),
        Binding("plus", "change_year(1)", "Année suiv.", key_display="+", show=False, id="meetings_next_year"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.school_year = school_year_of(today())
        self.periods: list[YearPeriod] = []
        self.plans: list[MeetingPlan] = []
        self.agenda: Agenda | None = None
        self.lines: dict[str, AgendaLine] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="meetings-year")
        yield DataTable(id="meetings-periods", cursor_type="row")
        yield Static(id="meetings-agenda-title")
        yield DataTable(id="meetings-agenda", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns in (("#meetings-periods", PERIOD_COLUMNS), ("#meetings-agenda", AGENDA_COLUMNS)):
            table = self.query_one(table_id, DataTable)
            for label, width in columns:
                table.add_column(label, width=width, key=label or "state")
        self.reload()
        self._put_cursor_on_the_current_period()
        self.query_one("#meetings-agenda", DataTable).focus()

    def on_screen_resume(self) -> None:
        """Back from a case (an analysis recorded) or a dialog: read everything again."""
        if self.is_mounted:
            self.reload()

    # -- reading ----------------------------------------------------------------------------

    def reload(self) -> None:
        store = self.app.store
        try:
            self.periods = store.year_periods(self.school_year)
            self.plans = store.meeting_plans(self.school_year)
            self.agenda = build_agenda(store, today())
            zone = store.holiday_zone()
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        self._draw_periods()
        self.query_one("#meetings-year", Static).update(year_text(self.school_year, self.periods, zone))
        self._draw_agenda()

    def _draw_periods(self) -> None:
        table = self.query_one("#meetings-periods", DataTable)
        kept = table.cursor_row
        table.clear()
        next_meeting = self.agenda.meeting if self.agenda else None
        for period, plan in zip(self.periods, self.plans):
            is_next = next_meeting is not None and plan.period == next_meeting.period
            style = "bold" if is_next else ""  # the next meeting, whose agenda is below
            table.add_row(Text(("▶" if is_next else "") + str(period.span.number), style=style, justify="right"),
                          format_french_date(period.span.start), format_french_date(period.span.end),
                          period.source_label, Text(format_french_date(plan.date), style=style),
                          Text(plan.state_label, style=style), format_french_date(plan.deadline),
                          key=str(period.span.number))
        table.move_cursor(row=min(kept, table.row_count - 1))

    def _put_cursor_on_the_current_period(self) -> None:
        current = period_of(today(), [period.span for period in self.periods])
        if current is not None:
            self.query_one("#meetings-periods", DataTable).move_cursor(row=current.number - 1)

    def _draw_agenda(self) -> None:
        title = self.query_one("#meetings-agenda-title", Static)
        table = self.query_one("#meetings-agenda", DataTable)
        kept = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        table.clear()
        self.lines = {}
        if self.agenda is None:
            title.update("Aucune réunion du pôle à venir.")
            return
        meeting = self.agenda.meeting
        title.update(f"Prochaine réunion : {weekday_name(meeting.date)} {format_french_date(meeting.date)} "
                     f"({meeting.state_label}) · limite : {format_french_date(meeting.deadline)}")
        lines = agenda_lines(self.agenda, nominative=True)
        for section, heading, what_date, nothing in SECTIONS:
            chosen = [line for line in lines if line.section == section]
            self._add_heading(table, f"{heading} ({len(chosen)})", what_date, section)
            if not chosen:
                table.add_row(Text(f"  {nothing}", style="dim"), *[""] * (len(AGENDA_COLUMNS) - 1),
                              key=f"empty:{section}")
            for line in chosen:
                self.lines[line.key] = line
                table.add_row(*_line_cells(line), key=line.key)
        if kept not in self.lines and self.lines:  # the first time: on the first case, under its heading
            kept = next(iter(self.lines))
        if kept in table.rows:
            table.move_cursor(row=table.get_row_index(kept))

    @staticmethod
    def _add_heading(table: DataTable, heading: str, what_date: str, section: str) -> None:
        style = "bold reverse"
        cells = [Text(heading, style=style), Text(what_date, style=style)] + [""] * (len(AGENDA_COLUMNS) - 2)
        table.add_row(*cells, key=f"section:{section}")

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: no editing of périodes or meetings (the keys are hidden); writing the
        agenda stays, it writes outside the base."""
        if action in EDITING_ACTIONS and self.app.store.read_only:
            return False
        return True

    @on(DataTable.RowSelected, "#meetings-agenda")
    def action_open_case(self) -> None:
        table = self.query_one("#meetings-agenda", DataTable)
        if self.focused is not table or not table.row_count:
            return
        line = self.lines.get(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        if line is None:
            self.notify("Choisissez une ligne de l'ordre du jour (sous les titres).", severity="warning")
            return
        from rased_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(line.case_id))

    @on(DataTable.RowSelected, "#meetings-periods")
    def _period_selected(self) -> None:
        if not self.app.store.read_only:
            self.action_edit()

    def action_edit(self) -> None:
        """The période under the cursor of the upper table, and its meeting."""
        from rased_tui.screens.meetings_forms import PeriodForm

        if not self.periods:
            return
        index = self.query_one("#meetings-periods", DataTable).cursor_row
        form = PeriodForm(self.periods[index], self.plans[index], [period.span for period in self.periods])
        self.app.push_screen(form, lambda saved: saved and self.reload())

    def action_official(self) -> None:
        """Record the official dates of the year shown (asking first when it replaces some)."""
        store = self.app.store
        if store.holiday_zone() is None:
            self.notify("Choisissez d'abord la zone de vacances (A, B ou C) dans les paramètres (8).",
                        severity="warning")
            return
        typed = [period.span.number for period in self.periods if period.source_label == "manuel"]
        if not typed:
            self._take_official()
            return
        which = ", ".join(str(number) for number in typed)
        question = (f"Reprendre les dates du calendrier officiel (zone {store.holiday_zone()}) pour {self.school_year} ? "
                    f"Les dates saisies à la main (période{'s' if len(typed) > 1 else ''} {which}) seront remplacées.")
        self.app.push_screen(ConfirmDialog(question), lambda yes: yes and self._take_official())

    def _take_official(self) -> None:
        try:
            self.app.store.record_official_periods(self.school_year)
        except StoreError as error:
            self.notify(str(error), title="Rien n'a été changé", severity="error")
            return
        self.notify(f"Périodes de {self.school_year} : dates du calendrier officiel enregistrées.", title="Enregistré")
        self.reload()

    def action_write_agenda(self) -> None:
        from rased_tui.screens.meetings_forms import AgendaDialog

        if self.agenda is None:
            self.notify("Aucune réunion du pôle à venir.", severity="warning")
            return
        self.app.push_screen(AgendaDialog(self.agenda))

    def action_change_year(self, step: int) -> None:
        start = int(self.school_year[:4]) + step
        self.school_year = f"{start}-{start + 1}"
        self.reload()


def _line_cells(line: AgendaLine) -> tuple:
    what = line.motif or f"{KIND_SHORT[line.aid_code]} · {line.member}"
    note = "hors délai" if line.late else "rouverte" if line.reopened else ""
    return (f"  {line.subject}", format_french_date(line.day), "⚠" if line.urgent else "",
            Text(note, style="bold" if line.late else ""), what, line.case_number, line.levels, line.school)


def year_text(school_year: str, periods: list[YearPeriod], zone: Zone | None) -> str:
    """'Année 2026-2027 · zone B · calendrier officiel · -/+ autre année', with a warning when
    the dates are only approximate."""
    sources = {period.source_label for period in periods}
    if zone is None and sources == {"approximatif"}:
        where = "⚠ zone de vacances à choisir (8)"
    elif sources == {"approximatif"}:
        where = f"zone {zone} · ⚠ dates approchées, à saisir (e)"
    elif sources == {"manuel"}:
        where = "dates saisies à la main"
    else:
        typed = [str(period.span.number) for period in periods if period.source_label == "manuel"]
        zone = next((period.zone for period in periods if period.source_label == "officiel" and period.zone), zone)
        where = (f"zone {zone} · " if zone else "") + "calendrier officiel" + (
            f" (à la main : {', '.join(typed)})" if typed else "")
    return f"Année {school_year} · {where} · -/+ autre année"

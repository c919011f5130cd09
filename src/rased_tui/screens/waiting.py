"""The "Liste d'attente" screen (`5`): the cases waiting for a RASED aid, the longest wait first.

A case waits when its first analysis called for an aide E, G or psychologique (or an aid was
proposed to the family) and no such aid has started. Each line gives the days waited, since
when, for which aid, and where the wait stands: to be given to a member, the family's
agreement awaited, or a start already planned. `entrée` opens the case.
"""

from __future__ import annotations

import statistics
from datetime import date

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from rased_tui.domain.calendar import format_french_date, today
from rased_tui.domain.caseloads import WaitingCase
from rased_tui.domain.enums import AidKind
from rased_tui.domain.french import count
from rased_tui.store import StoreError

# (label, width): what the IEN asks first — how long — comes first.
COLUMNS = (("Jours", 5), ("!", 1), ("Depuis le", 10), ("Aide", 5), ("Élève / demandeur", 20), ("Niv.", 4),
           ("État", 19), ("École", 24), ("N°", 9))
KIND_SHORT = {AidKind.E: "E", AidKind.G: "G", AidKind.PSY: "psy"}


class WaitingListScreen(Screen[None]):
    """The cases whose RASED aid has not started, oldest first."""

    CSS_PATH = "caseloads.tcss"
    HELP = """\
**Liste d'attente** — les dossiers dont la première analyse a demandé une aide du RASED
(E, G ou psychologique), ou à qui une aide a été proposée, et dont l'aide n'a pas commencé :
la plus longue attente en haut, avec le nombre de jours depuis la première analyse qui a
demandé l'aide (ou depuis la proposition de l'aide).

- **État** : *à attribuer* (aucun membre ne l'a encore prise), *accord attendu* (aide
  proposée, la famille n'a pas encore répondu).
- `⚠` : demande urgente.
- Un dossier sort de la liste quand l'aide commence (accord donné, date de début passée), quand
  la famille refuse, ou quand le dossier est clôturé.
- La demande d'aide se coche dans la première analyse du dossier (« Aides du RASED demandées »).

| Touche | Action |
|---|---|
| `entrée` | ouvrir le dossier |
| `2` | prises en charge des membres du RASED |
| `échap` | retour à la liste des dossiers |
"""

    BINDINGS = [Binding("enter", "open_case", "Ouvrir", id="waiting_open_case"),
                Binding("escape", "back", "Retour", id="waiting_back")]

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[WaitingCase] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="waiting-summary")
        yield DataTable(id="waiting-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        """Back from a case: an aid started there leaves the list."""
        if self.is_mounted:
            self.reload()

    def reload(self) -> None:
        day = today()
        try:
            self.waiting = self.app.store.waiting_list(day)
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        table = self.query_one(DataTable)
        kept = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        table.clear()
        for case in self.waiting:
            table.add_row(*_cells(case, day), key=case.case_id)
        if kept in table.rows:
            table.move_cursor(row=table.get_row_index(kept))
        self.query_one("#waiting-summary", Static).update(summary_text(self.waiting, day))

    def action_back(self) -> None:
        self.dismiss(None)

    @on(DataTable.RowSelected)
    def action_open_case(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        from rased_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))


def _cells(case: WaitingCase, day: date) -> tuple:
    days = case.days_waited(day)
    return (Text(str(days), justify="right"), "⚠" if case.urgent else "", format_french_date(case.since),
            "+".join(KIND_SHORT[kind] for kind in case.kinds), case.subject, case.levels, case.state(),
            case.school, case.case_number)


def summary_text(waiting: list[WaitingCase], day: date) -> str:
    """'14 dossiers en attente d'une aide du RASED · attente médiane 21 jours · la plus longue 47'."""
    if not waiting:
        return "Aucun dossier n'attend une aide du RASED."
    days = sorted(case.days_waited(day) for case in waiting)
    median = round(statistics.median(days))
    by_kind = " · ".join(f"{KIND_SHORT[kind]} : {sum(kind in case.kinds for case in waiting)}" for kind in AidKind)
    return (f"{count(len(waiting), 'dossier')} en attente d'une aide du RASED ({by_kind}) · "
            f"attente médiane {count(median, 'jour')} · la plus longue {count(days[-1], 'jour')}")

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

from rased_tui.domain.calendar import format_french_date, today
from rased_tui.domain.caseloads import WaitingCase
from rased_tui.domain.enums import AidKind
from rased_tui.domain.french import count
from rased_tui.screens.case_table import CaseTableScreen, Row

# (label, width): what the IEN asks first — how long — comes first.
COLUMNS = (("Jours", 5), ("!", 1), ("Depuis le", 10), ("Aide", 5), ("Élève / demandeur", 20), ("Niv.", 4),
           ("État", 19), ("École", 24), ("N°", 9))
KIND_SHORT = {AidKind.E: "E", AidKind.G: "G", AidKind.PSY: "psy"}


class WaitingListScreen(CaseTableScreen):
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

    ID_PREFIX = "waiting"

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[WaitingCase] = []
        self._day = today()

    def columns(self) -> tuple[tuple[str, int], ...]:
        return COLUMNS

    def read_rows(self) -> list[Row]:
        self._day = today()
        self.waiting = self.app.store.waiting_list(self._day)
        return [(case.case_id, _cells(case, self._day)) for case in self.waiting]

    def summary(self) -> str:
        return summary_text(self.waiting, self._day)


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

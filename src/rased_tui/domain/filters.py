"""What the list of cases is asked to show: the filters a person sets on the "Dossiers" screen.

Pure data; the store turns a CaseFilter into SQL (store/case_list.py, `count_cases` and
`case_page`): the list is filtered in the database and read a page at a time; only the order of
the selected cases (small integer keys) is kept in memory between keystrokes.
"""

from __future__ import annotations

from dataclasses import dataclass

from rased_tui.domain.enums import LabelledEnum, Motif


class StatusGroup(LabelledEnum):
    OUVERTS = "ouverts", "Ouverts"
    CLOTURES = "clotures", "Clôturés"
    TOUS = "tous", "Tous"


@dataclass(frozen=True)
class CaseFilter:
    """The cases of one school year (its own, or carried into it), narrowed by the rest."""

    school_year: str
    status: StatusGroup = StatusGroup.TOUS
    school_id: str | None = None
    member_id: str | None = None  # a member involved in a step or giving an aid
    motif: Motif | None = None  # any of the case's motifs
    urgent_only: bool = False
    search: str = ""  # words, each the start of a word of the names, number or texts

    @property
    def search_terms(self) -> list[str]:
        return search_words(self.search)


def search_words(text: str) -> list[str]:
    """The words of a search that can match something: control characters dropped (a paste),
    pieces with no letter or digit (a lone quote, a dash, an operator's symbol) ignored."""
    cleaned = "".join(char if char.isprintable() else " " for char in text)
    return [word for word in cleaned.split() if any(char.isalnum() for char in word)]

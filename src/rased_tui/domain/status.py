"""A case's status, derived from its timeline — never stored.

The rule (the view `case_status` in schema.sql applies the same one in SQL, and a test
checks they agree):

- entries are taken in order of date, then of recording;
- the last closure or reopening decides: after a closure the case is "clôturée" (or "classée
  sans suite" when that was the outcome);
- otherwise the furthest stage reached since the last reopening (or since the start) gives
  the status: première analyse < 1re intention < 2de intention < bilan;
- with no stage since then: "reçue", or "rouverte" after a reopening.

Notes and carry-overs into the next school year do not change the status.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol

from rased_tui.domain.enums import CaseStatus, ClosureOutcome, EntryKind

_STAGE_STATUS = {
    EntryKind.ANALYSE: CaseStatus.EN_ANALYSE,
    EntryKind.PREMIERE_INTENTION: CaseStatus.PREMIERE_INTENTION,
    EntryKind.SECONDE_INTENTION: CaseStatus.SECONDE_INTENTION,
    EntryKind.BILAN: CaseStatus.BILAN,
}
_STAGE_RANK = {kind: rank for rank, kind in enumerate(_STAGE_STATUS, start=1)}


class EntryLike(Protocol):
    """What the rule reads of a timeline entry (a TimelineEntry, or a plain row)."""

    id: str
    date: date
    created_at: str | None
    kind: EntryKind
    sub_kind: str | None


def timeline_order(entry: EntryLike) -> tuple[date, str, str]:
    """Sort key of timeline entries: date, then time of recording, then id."""
    return (entry.date, entry.created_at or "", entry.id)


def derive_status(entries: Iterable[EntryLike], *, ordered: bool = False) -> CaseStatus:
    """The status of a case given its timeline entries (sorted here unless `ordered`)."""
    timeline = list(entries) if ordered else sorted(entries, key=timeline_order)
    turns = [i for i, entry in enumerate(timeline) if entry.kind in (EntryKind.CLOTURE, EntryKind.REOUVERTURE)]
    last_turn = timeline[turns[-1]] if turns else None
    if last_turn is not None and last_turn.kind == EntryKind.CLOTURE:
        if last_turn.sub_kind == ClosureOutcome.SANS_SUITE.value:
            return CaseStatus.CLASSEE_SANS_SUITE
        return CaseStatus.CLOTUREE
    episode = timeline[turns[-1] + 1 :] if turns else timeline
    stages = [entry.kind for entry in episode if entry.kind in _STAGE_RANK]
    if stages:
        return _STAGE_STATUS[max(stages, key=_STAGE_RANK.__getitem__)]
    return CaseStatus.ROUVERTE if last_turn is not None else CaseStatus.RECUE

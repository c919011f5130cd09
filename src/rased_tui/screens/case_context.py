"""`CaseContext`: what the case screen reads of a case, once, and hands to the forms of its
steps (the case, its status, timeline, aids and their evaluations, the members, its years).

Apart from the forms (screens/steps.py) so that opening a case does not import them: they are
imported when a step is first added or edited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rased_tui.domain.calendar import today
from rased_tui.domain.enums import CaseStatus, Role
from rased_tui.domain.models import Aid, AidEvaluation, Case, Member, TimelineEntry
from rased_tui.store import Store


@dataclass
class CaseContext:
    """What the forms need to know of the case they add to (read once by the case screen)."""

    case: Case
    status: CaseStatus
    entries: list[TimelineEntry]
    aids: list[Aid]
    evaluations: dict[str, list[AidEvaluation]]
    members: list[Member]
    years: list[str] = field(default_factory=list)
    recorded: dict[str, str] = field(default_factory=dict)  # when evaluations and aid ends were entered

    def member(self, member_id: str) -> Member | None:
        return next((member for member in self.members if member.id == member_id), None)

    def available_members(self, keep: list[str] = (), roles: tuple[Role, ...] = ()) -> list[Member]:
        """Members active today (of these roles, when given), and those already chosen."""
        return [member for member in self.members
                if member.id in keep or (member.is_active_on(today()) and (not roles or member.role in roles))]


def case_context(store: Store, case: Case, entries: list[TimelineEntry]) -> CaseContext:
    """What the forms need of a case, read from the store (`entries`: its timeline as shown)."""
    return CaseContext(
        case=case, status=store.case_status(case.id), entries=entries, aids=store.list_aids(case.id),
        evaluations=store.case_evaluations(case.id), members=store.list_members(),
        years=store.case_years(case.id), recorded=store.recording_times(case.id))

"""Caseloads of the RASED members and the waiting list: the rules, over what the store reads.

- `CaseloadFilter`: which aids a caseload shows (school, période, antenna);
- `CaseloadAid`: one aid as the "Prises en charge" screen lists it, with the weeks elapsed and
  the date its next bilan is due;
- `Load` and `load_of`: the totals of a member, of a kind of aid, of the whole RASED, where a
  pupil followed by several members counts once;
- `gauge`: a member's load against his or her capacity, drawn in text;
- `WaitingCase`: a case whose analysis called for a RASED aid that has not started.

Pure: no I/O. The store reads the rows (store/caseloads.py); the screens show them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from rased_tui.domain.calendar import PeriodSpan
from rased_tui.domain.enums import AidKind, Modality, Role
from rased_tui.domain.models import Member

GAUGE_WIDTH = 10
RASED_ROLES = (Role.MAITRE_E, Role.MAITRE_G, Role.PSYCHOLOGUE)


@dataclass(frozen=True)
class CaseloadFilter:
    """The aids a caseload shows. Without a période: the aids running today; with one: every
    aid that ran at some time in it (some may have ended since)."""

    school_id: str | None = None
    antenna: str | None = None
    period: PeriodSpan | None = None

    def span(self, day: date) -> tuple[date, date]:
        """The first and last days an aid must overlap to be shown."""
        return (self.period.start, self.period.end) if self.period else (day, day)


@dataclass(frozen=True)
class CaseloadAid:
    """One aid of a member's caseload."""

    aid_id: str
    case_id: str
    case_number: str
    member_id: str
    kind: AidKind
    subject: str  # the pupil, or the teacher / team / class of a request about them
    pupil_id: str | None
    school: str
    levels: str
    modality: Modality
    sessions_per_week: float | None
    start_date: date
    expected_weeks: int | None
    end_date: date | None
    final_bilan: date | None  # the date of its end-of-aid evaluation, once made

    @property
    def is_open(self) -> bool:
        return self.end_date is None

    def weeks_elapsed(self, day: date) -> int:
        """Whole weeks from the start of the aid to `day` (or to its end, when it ended)."""
        last = min(day, self.end_date) if self.end_date else day
        return max(0, (last - self.start_date).days // 7)

    def planned_end(self) -> date | None:
        return self.start_date + timedelta(weeks=self.expected_weeks) if self.expected_weeks else None

    def bilan_due(self, current_period: PeriodSpan | None) -> date | None:
        """When the next bilan of the aid is due: at the end of its planned length; without
        one, at the end of the current période (aids are reviewed each période). None once
        the end-of-aid evaluation is made, or for an aid that ended."""
        if self.final_bilan is not None or not self.is_open:
            return None
        return self.planned_end() or (current_period.end if current_period else None)


def caseload_members(members: Iterable[Member], caseload_filter: CaseloadFilter, day: date,
                     aids: Iterable[CaseloadAid]) -> list[Member]:
    """The members a caseload lists: the maîtres E, maîtres G and psychologues in office at
    some time in its span (of the antenna chosen), and whoever holds one of its aids — a
    member who left without handing over his or her aids shows, so that they are handed over."""
    first, last = caseload_filter.span(day)
    holding = {aid.member_id for aid in aids}
    return [member for member in members
            if member.id in holding
            or (member.role in RASED_ROLES and member.active_from <= last
                and (member.active_to is None or member.active_to >= first)
                and (caseload_filter.antenna is None or member.antenna == caseload_filter.antenna))]


@dataclass(frozen=True)
class Load:
    """What a set of aids amounts to: aids, distinct pupils, and groups (requests about a
    teacher, a team or a class, each counted once)."""

    aids: int = 0
    pupils: int = 0
    groups: int = 0

    @property
    def held(self) -> int:
        """Pupils and groups: what a member's capacity is measured against."""
        return self.pupils + self.groups


def load_of(aids: Iterable[CaseloadAid]) -> Load:
    """The totals of these aids; a pupil (or a group) helped by several of them counts once."""
    aids = list(aids)
    pupils = {aid.pupil_id for aid in aids if aid.pupil_id}
    groups = {aid.case_id for aid in aids if not aid.pupil_id}
    return Load(aids=len(aids), pupils=len(pupils), groups=len(groups))


def rhythm_text(sessions_per_week: float | None) -> str:
    """'2/sem.', '1,5/sem.', or '' when the rhythm was not given."""
    if sessions_per_week is None:
        return ""
    number = f"{sessions_per_week:g}".replace(".", ",")
    return f"{number}/sem."


def gauge(held: int, capacity: int | None, width: int = GAUGE_WIDTH) -> str:
    """'███████░░░ 7/10', or '██████████ 12/10 ⚠' when over capacity; '7 (capacité ?)'
    without a capacity in the directory."""
    if not capacity:
        return f"{held} (capacité ?)"
    filled = min(width, round(width * held / capacity))
    warning = " ⚠" if held > capacity else ""
    return f"{'█' * filled}{'░' * (width - filled)} {held}/{capacity}{warning}"


def is_over_capacity(held: int, capacity: int | None) -> bool:
    return capacity is not None and held > capacity


def over_capacity_text(held: int, capacity: int | None) -> str | None:
    """'25 suivis pour une capacité de 24' when over capacity, None otherwise."""
    return f"{held} suivis pour une capacité de {capacity}" if is_over_capacity(held, capacity) else None


@dataclass(frozen=True)
class WaitingCase:
    """A case waiting for a RASED aid: since when, for which kinds, and where it stands."""

    case_id: str
    case_number: str
    subject: str
    school: str
    levels: str
    urgent: bool
    kinds: tuple[AidKind, ...]
    since: date  # the day the aid was first called for
    consent_pending: bool  # an aid was proposed and the family has not answered
    planned_start: date | None  # an aid agreed to, starting later

    def days_waited(self, day: date) -> int:
        return max(0, (day - self.since).days)

    def state(self) -> str:
        """Where the wait stands, in French."""
        if self.planned_start is not None:
            return f"début le {self.planned_start:%d/%m/%Y}"
        if self.consent_pending:
            return "accord attendu"
        return "à attribuer"

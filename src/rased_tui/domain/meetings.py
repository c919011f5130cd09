"""The périodes of a school year as the pôle plans them, and its ordinary meetings.

- `YearPeriod`: a période with where its dates come from — the official calendar, typed by
  hand, or approximated when the base has neither (no zone chosen, or a year the official
  calendar does not cover yet);
- `MeetingPlan`: the ordinary meeting of a période, recorded in the base or only proposed, and
  its deadline for requests (the date minus N days, 6 by default);
- `proposed_meeting_date`: the date proposed when none is recorded — the Thursday of the
  période's fourth week;
- `period_problem` and `meeting_problem`: why hand-typed dates are refused, in French;
- `WaitingRequest`: a request received and not analysed yet, as the agenda of a meeting lists it.

Pure: no I/O. The store reads and writes them (store/calendar.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from rased_tui.domain.calendar import PeriodSpan, format_french_date, parse_school_year
from rased_tui.domain.enums import Motif, PeriodSource, SubjectKind, Zone

DEFAULT_DEADLINE_DAYS = 6
MAX_DEADLINE_DAYS = 60  # as Meeting.request_deadline_days allows
THURSDAY = 3
APPROXIMATE_LABEL = "approximatif"
SOURCE_LABELS = {PeriodSource.OFFICIEL: "officiel", PeriodSource.MANUEL: "manuel"}


@dataclass(frozen=True)
class YearPeriod:
    """One période of a year and the origin of its dates."""

    span: PeriodSpan
    source: PeriodSource | None  # None: approximated, nothing official nor typed
    zone: Zone | None
    recorded: bool  # kept in the base (else worked out each time it is read)

    @property
    def source_label(self) -> str:
        return SOURCE_LABELS[self.source] if self.source else APPROXIMATE_LABEL


@dataclass(frozen=True)
class MeetingPlan:
    """The ordinary meeting of a période: recorded (`meeting_id`) or proposed."""

    period: PeriodSpan
    date: date
    deadline_days: int = DEFAULT_DEADLINE_DAYS
    meeting_id: str | None = None

    @property
    def recorded(self) -> bool:
        return self.meeting_id is not None

    @property
    def deadline(self) -> date:
        """The last day a request can be received to be analysed at this meeting."""
        return self.date - timedelta(days=self.deadline_days)

    @property
    def state_label(self) -> str:
        return "enregistrée" if self.recorded else "proposée"


def proposed_meeting_date(span: PeriodSpan) -> date:
    """The Thursday of the période's fourth week (the first Thursday three weeks after its
    start); never after the période's last day."""
    third_week = span.start + timedelta(days=21)
    thursday = third_week + timedelta(days=(THURSDAY - third_week.weekday()) % 7)
    return min(thursday, span.end)


def period_problem(spans: list[PeriodSpan], number: int, start: date, end: date) -> tuple[str, str] | None:
    """Why new dates for période `number` cannot be kept, as (the bound at fault, "start" or
    "end"; the reason in French); None when they can. Refused: the end before the start, a
    date outside its school year, an overlap with the période before or after."""
    if end < start:
        return "end", "La fin de la période précède son début."
    school_year = spans[0].school_year
    first_year = parse_school_year(school_year)
    outside = (f"La période doit se situer dans l'année scolaire {school_year} "
               f"(du 01/08/{first_year} au 31/07/{first_year + 1}).")
    if start < date(first_year, 8, 1):
        return "start", outside
    if end > date(first_year + 1, 7, 31):
        return "end", outside
    by_number = {span.number: span for span in spans}
    before, after = by_number.get(number - 1), by_number.get(number + 1)
    if before is not None and start <= before.end:
        return "start", (f"La période {number} commencerait avant la fin de la période {before.number} "
                         f"({format_french_date(before.end)}) : modifiez d'abord celle-ci.")
    if after is not None and end >= after.start:
        return "end", (f"La période {number} finirait après le début de la période {after.number} "
                       f"({format_french_date(after.start)}) : modifiez d'abord celle-ci.")
    return None


def meeting_problem(span: PeriodSpan, day: date) -> str | None:
    """Why an ordinary meeting cannot be held on `day`: it is the meeting of its période."""
    if span.start <= day <= span.end:
        return None
    return (f"La réunion de la période {span.number} se tient pendant celle-ci "
            f"(du {format_french_date(span.start)} au {format_french_date(span.end)}).")


def deadline_problem(days: int) -> str | None:
    """Why a deadline of `days` before the meeting cannot be kept."""
    if 0 <= days <= MAX_DEADLINE_DAYS:
        return None
    return f"Le délai de dépôt des demandes va de 0 à {MAX_DEADLINE_DAYS} jours avant la réunion."


def weekday_name(day: date) -> str:
    """'jeudi' for a Thursday."""
    return ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")[day.weekday()]


@dataclass(frozen=True)
class WaitingRequest:
    """A request received (or a case reopened) and not analysed yet."""

    case_id: str
    case_number: str
    urgent: bool
    subject_kind: SubjectKind
    subject: str  # the pupil's or the teacher's name, the team's reference: for nominative lists only
    levels: str
    school: str
    motif: Motif | None  # the main motif
    received: date  # the day the request came in, or the day the case was reopened
    reopened: bool

    def after_deadline(self, meeting: MeetingPlan) -> bool:
        """Came in after the meeting's deadline: analysed there only if time allows."""
        return self.received > meeting.deadline

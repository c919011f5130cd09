"""Périodes, the pôle's meetings and the agenda of the next meeting, in the store. A mixin of
`Store` (it uses the store's transaction, audit and query helpers).

The périodes of a school year are those recorded in the base; without any, the official ones
of the base's holiday zone (setting `zone`, domain/holidays.py); without those, an
approximation (calendar.approximate_periods). Recording the official dates writes all five
(source « officiel »); typing a période's dates by hand makes it « manuel ». A year is always
recorded whole: five périodes or none.

Each période has one ordinary meeting of the pôle: recorded (by an analysis held there, or
dated here by hand) or proposed (domain/meetings.py). An ordinary meeting stays within its
période, and so do the périodes' changes around a recorded meeting. Recording an ordinary
meeting records its year's périodes as they were shown, in the same transaction: a later
change of the zone setting then moves neither the meeting out of its période nor the past
years' statistics.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from rased_tui.domain.calendar import PeriodSpan, approximate_periods, school_year_of
from rased_tui.domain.enums import MeetingKind, Motif, PeriodSource, SubjectKind, Zone
from rased_tui.domain.holidays import official_periods
from rased_tui.domain.meetings import (
    DEFAULT_DEADLINE_DAYS,
    MeetingPlan,
    WaitingRequest,
    YearPeriod,
    deadline_problem,
    meeting_problem,
    period_problem,
    proposed_meeting_date,
)
from rased_tui.domain.models import STORED, Meeting, Period
from rased_tui.store.case_columns import LEVELS_SQL, SUBJECT_SQL
from rased_tui.store.errors import StoreError

ZONE_SETTING = "zone"
NO_ZONE_MESSAGE = "Choisissez d'abord la zone de vacances (A, B ou C) dans les paramètres (8)."


class CalendarQueries:
    """The périodes of each school year, the pôle's ordinary meetings, the requests waiting
    for an analysis. Uses the Store's helpers (transaction, _one, _all, _insert, _update)."""

    # -- périodes ---------------------------------------------------------------------------

    def add_period(self, period: Period) -> Period:
        with self.transaction():
            self._insert("periods", period.model_dump(mode="json"))
        return period

    def list_periods(self, school_year: str) -> list[Period]:
        rows = self._all("SELECT * FROM periods WHERE school_year = ? ORDER BY number", (school_year,))
        return [Period.model_validate(dict(row), context=STORED) for row in rows]

    def holiday_zone(self) -> Zone | None:
        """The base's holiday zone (setting `zone`), None when not chosen."""
        value = self.get_setting(ZONE_SETTING)
        return Zone(value) if value in {zone.value for zone in Zone} else None

    def year_periods(self, school_year: str) -> list[YearPeriod]:
        """The five périodes of a school year, each with where its dates come from."""
        recorded = self.list_periods(school_year)
        if recorded:
            return [YearPeriod(PeriodSpan(school_year, p.number, p.start_date, p.end_date), p.source, p.zone, True)
                    for p in recorded]
        zone = self.holiday_zone()
        official = official_periods(school_year, zone) if zone else None
        if official:
            return [YearPeriod(span, PeriodSource.OFFICIEL, zone, False) for span in official]
        return [YearPeriod(span, None, None, False) for span in approximate_periods(school_year)]

    def periods_of_year(self, school_year: str) -> list[PeriodSpan]:
        """The périodes of a school year: recorded, else official for the zone, else approximate."""
        return [period.span for period in self.year_periods(school_year)]

    def record_official_periods(self, school_year: str) -> list[PeriodSpan]:
        """Record the official périodes of a year for the base's zone, replacing dates typed by
        hand (« reprendre les dates officielles »). Refused without a zone, beyond the official
        calendar's data, or when a recorded meeting would no longer fall in its période."""
        zone = self.holiday_zone()
        if zone is None:
            raise StoreError(NO_ZONE_MESSAGE)
        spans = official_periods(school_year, zone)
        if spans is None:
            raise StoreError(f"Le calendrier officiel fourni avec rased-tui ne va pas jusqu'à {school_year} : "
                             "saisissez les dates des périodes à la main.")
        with self.transaction():
            for span in spans:
                self._check_meeting_stays(span)
            recorded = {period.number: period for period in self.list_periods(school_year)}
            for span in spans:
                self._write_period(recorded.get(span.number), span, PeriodSource.OFFICIEL, zone)
        return spans

    def edit_period(self, school_year: str, number: int, start: date, end: date) -> PeriodSpan:
        """Dates typed by hand for one période (it becomes « manuel »)."""
        self.plan_period(school_year, number, start=start, end=end)
        return _numbered(self.periods_of_year(school_year), number)

    def _write_period(self, recorded: Period | None, span: PeriodSpan, source: PeriodSource,
                      zone: Zone | None) -> None:
        row = {"start_date": span.start.isoformat(), "end_date": span.end.isoformat(),
               "zone": zone.value if zone else None, "source": source.value}
        if recorded is None:
            self._insert("periods", Period(school_year=span.school_year, number=span.number, start_date=span.start,
                                           end_date=span.end, zone=zone, source=source).model_dump(mode="json"))
        elif (recorded.start_date, recorded.end_date, recorded.zone, recorded.source) != (span.start, span.end, zone,
                                                                                          source):
            self._update("periods", recorded.id, row)

    def _record_year(self, school_year: str) -> dict[int, Period]:
        """Write the five périodes shown for a year (official or approximate) when none is
        recorded yet: a year is recorded whole before one période changes by hand, or before
        an ordinary meeting of it is recorded or moved (it must stay in its période)."""
        if not self.list_periods(school_year):
            for period in self.year_periods(school_year):
                self._write_period(None, period.span, period.source or PeriodSource.MANUEL, period.zone)
        return {period.number: period for period in self.list_periods(school_year)}

    def _check_meeting_stays(self, span: PeriodSpan) -> None:
        meeting = self.ordinary_meeting(span.school_year, span.number)
        if meeting is not None and meeting_problem(span, meeting.date):
            raise StoreError(f"La réunion de la période {span.number} est fixée au {meeting.date:%d/%m/%Y}, hors des "
                             f"nouvelles dates (du {span.start:%d/%m/%Y} au {span.end:%d/%m/%Y}) : changez aussi sa date.")

    # -- meetings ---------------------------------------------------------------------------

    def add_meeting(self, meeting: Meeting) -> Meeting:
        with self.transaction():
            self._insert("meetings", meeting.model_dump(mode="json"))
        return meeting

    def list_meetings(self, school_year: str) -> list[Meeting]:
        rows = self._all("SELECT * FROM meetings WHERE school_year = ? ORDER BY date", (school_year,))
        return [Meeting.model_validate(dict(row), context=STORED) for row in rows]

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        row = self._one("SELECT * FROM meetings WHERE id = ?", (meeting_id,))
        return Meeting.model_validate(dict(row), context=STORED) if row else None

    def get_meetings(self, meeting_ids: Collection[str]) -> dict[str, Meeting]:
        """The meetings of these ids (those that exist), by id: the ones a timeline refers to."""
        rows = self._all(f"SELECT * FROM meetings WHERE id IN ({', '.join('?' * len(meeting_ids))})",
                         tuple(meeting_ids))
        return {row["id"]: Meeting.model_validate(dict(row), context=STORED) for row in rows}

    def ordinary_meeting(self, school_year: str, period_number: int) -> Meeting | None:
        """The ordinary meeting recorded for a période, if any."""
        row = self._one("SELECT * FROM meetings WHERE school_year = ? AND period_number = ? AND kind = 'ordinaire'",
                        (school_year, period_number))
        return Meeting.model_validate(dict(row), context=STORED) if row else None

    def meeting_for(self, school_year: str, kind: MeetingKind, *, period_number: int | None,
                    day: date) -> Meeting:
        """The meeting an analysis took place in: the période's ordinary meeting, or the
        urgent meeting of that day — recorded now if it was not yet (dated that day)."""
        if kind is MeetingKind.ORDINAIRE:
            if period_number is None:
                raise StoreError("Une réunion ordinaire est celle d'une période : laquelle ?")
            meeting = self.ordinary_meeting(school_year, period_number)
        else:
            row = self._one("SELECT * FROM meetings WHERE date = ? AND kind = ?", (day.isoformat(), kind.value))
            meeting = Meeting.model_validate(dict(row), context=STORED) if row else None
        if meeting is not None:
            return meeting
        with self.transaction():
            if kind is MeetingKind.ORDINAIRE:
                self._record_year(school_year)
            return self.add_meeting(Meeting(school_year=school_year, period_number=period_number, date=day,
                                            kind=kind))

    def set_meeting(self, school_year: str, number: int, day: date,
                    deadline_days: int = DEFAULT_DEADLINE_DAYS) -> MeetingPlan:
        """Date the ordinary meeting of a période (recording it), with its deadline in days."""
        self.plan_period(school_year, number, meeting_date=day, deadline_days=deadline_days)
        return next(plan for plan in self.meeting_plans(school_year) if plan.period.number == number)

    def plan_period(self, school_year: str, number: int, *, start: date | None = None, end: date | None = None,
                    meeting_date: date | None = None, deadline_days: int | None = None) -> list[str]:
        """Change a période's dates and its meeting in one transaction; what is not given stays.
        A meeting only proposed is recorded when its date or deadline is given and differs
        from the proposal. Returns what changed: "période", "réunion" (empty: nothing)."""
        changed = []
        with self.transaction():
            spans = self.periods_of_year(school_year)
            span = _numbered(spans, number)
            new_span = PeriodSpan(school_year, number, start or span.start, end or span.end)
            if new_span != span:
                if problem := period_problem(spans, number, new_span.start, new_span.end):
                    raise StoreError(problem[1])
                changed.append("période")
            if self._save_meeting(span, new_span, meeting_date, deadline_days):
                changed.append("réunion")
            if new_span != span:
                self._check_meeting_stays(new_span)
                recorded = self._record_year(school_year)
                self._write_period(recorded[number], new_span, PeriodSource.MANUEL, recorded[number].zone)
        return changed

    def _save_meeting(self, span: PeriodSpan, new_span: PeriodSpan, day: date | None,
                      deadline_days: int | None) -> bool:
        """Record or move the ordinary meeting of a période when asked; True when written."""
        meeting = self.ordinary_meeting(span.school_year, span.number)
        current = (meeting.date, meeting.request_deadline_days) if meeting else \
            (proposed_meeting_date(span), DEFAULT_DEADLINE_DAYS)
        wanted = (day or current[0], current[1] if deadline_days is None else deadline_days)
        if wanted == current:
            return False
        if problem := meeting_problem(new_span, wanted[0]) or deadline_problem(wanted[1]):
            raise StoreError(problem)
        self._record_year(span.school_year)  # the périodes as shown: a zone changed later moves none
        if meeting is None:
            self._insert("meetings", Meeting(school_year=span.school_year, period_number=span.number, date=wanted[0],
                                             request_deadline_days=wanted[1]).model_dump(mode="json"))
        else:
            self._update("meetings", meeting.id, {"date": wanted[0].isoformat(), "request_deadline_days": wanted[1]})
        return True

    def meeting_plans(self, school_year: str) -> list[MeetingPlan]:
        """The ordinary meeting of each période of a year: recorded, or proposed."""
        recorded = {meeting.period_number: meeting for meeting in self.list_meetings(school_year)
                    if meeting.kind is MeetingKind.ORDINAIRE}
        plans = []
        for span in self.periods_of_year(school_year):
            meeting = recorded.get(span.number)
            plans.append(MeetingPlan(span, meeting.date, meeting.request_deadline_days, meeting.id) if meeting
                         else MeetingPlan(span, proposed_meeting_date(span)))
        return plans

    def upcoming_meetings(self, day: date, count: int = 2) -> list[MeetingPlan]:
        """The next `count` ordinary meetings on or after `day`, this school year and the next."""
        year = school_year_of(day)
        found: list[MeetingPlan] = []
        for school_year in (year, f"{int(year[:4]) + 1}-{int(year[:4]) + 2}"):
            found += sorted((plan for plan in self.meeting_plans(school_year) if plan.date >= day),
                            key=lambda plan: plan.date)
            if len(found) >= count:
                break
        return found[:count]

    def next_meeting(self, day: date) -> MeetingPlan | None:
        """The next ordinary meeting of the pôle on or after `day` (recorded or proposed)."""
        upcoming = self.upcoming_meetings(day, count=1)
        return upcoming[0] if upcoming else None

    # -- the agenda -------------------------------------------------------------------------

    def waiting_requests(self) -> list[WaitingRequest]:
        """Every request received and not analysed yet (status « reçue » or « rouverte »),
        urgent first, then the oldest first."""
        rows = self._all(
            f"""SELECT c.id, c.number, c.urgent, c.subject_kind, {SUBJECT_SQL} AS subject, {LEVELS_SQL} AS levels,
                       s.name AS school, st.status,
                       (SELECT m.motif FROM case_motifs m WHERE m.case_id = c.id ORDER BY m.rank LIMIT 1) AS motif,
                       CASE WHEN st.status = 'rouverte'
                            THEN (SELECT max(e.date) FROM timeline_entries e
                                   WHERE e.case_id = c.id AND e.kind = 'reouverture')
                            ELSE coalesce(c.date_received, c.date_sent) END AS received
                  FROM case_status st
                  JOIN cases c ON c.id = st.case_id
                  JOIN schools s ON s.id = c.school_id
                  LEFT JOIN pupils p ON p.id = c.pupil_id
                 WHERE st.status IN ('recue', 'rouverte')
                 ORDER BY c.urgent DESC, received, c.number""")
        return [WaitingRequest(
            case_id=row["id"], case_number=row["number"], urgent=bool(row["urgent"]),
            subject_kind=SubjectKind(row["subject_kind"]), subject=row["subject"] or "", levels=row["levels"] or "",
            school=row["school"], motif=Motif(row["motif"]) if row["motif"] else None,
            received=date.fromisoformat(row["received"]), reopened=row["status"] == "rouverte") for row in rows]


def _numbered(spans: list[PeriodSpan], number: int) -> PeriodSpan:
    span = next((span for span in spans if span.number == number), None)
    if span is None:
        raise StoreError(f"La période {number} n'existe pas.")
    return span

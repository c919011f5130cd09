"""Périodes from the official calendar of the school holidays (domain/holidays.py), the store's
périodes and ordinary meetings (store/calendar.py), and the demo's calendar.

The expected dates below are written out by hand from the official calendar (arrêtés fixing
the school calendar; the same dates as in the package vacances-scolaires-france): the first
school day after each holiday, the last school day before the next one.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from rased_tui.domain.calendar import PeriodSpan, approximate_periods
from rased_tui.domain.enums import EntryKind, MeetingKind, PeriodSource
from rased_tui.domain.holidays import first_weekday_after, last_school_day, official_periods
from rased_tui.domain.meetings import MeetingPlan, meeting_problem, period_problem, proposed_meeting_date
from rased_tui.domain.models import TimelineEntry
from rased_tui.exchange.demo import generate_demo
from rased_tui.store import Store, StoreError


def spans(*pairs: str) -> list[tuple[date, date]]:
    """'01/09/2026-16/10/2026' -> (date, date), for dates written as the calendar gives them."""
    def day(text: str) -> date:
        d, m, y = text.split("/")
        return date(int(y), int(m), int(d))

    return [(day(pair.split("-")[0]), day(pair.split("-")[1])) for pair in pairs]


def dates_of(periods: list[PeriodSpan]) -> list[tuple[date, date]]:
    return [(span.start, span.end) for span in periods]


OFFICIAL = {
    ("2026-2027", "A"): spans("01/09/2026-16/10/2026", "02/11/2026-18/12/2026", "04/01/2027-12/02/2027",
                              "01/03/2027-09/04/2027", "26/04/2027-02/07/2027"),
    ("2026-2027", "B"): spans("01/09/2026-16/10/2026", "02/11/2026-18/12/2026", "04/01/2027-19/02/2027",
                              "08/03/2027-16/04/2027", "03/05/2027-02/07/2027"),
    ("2026-2027", "C"): spans("01/09/2026-16/10/2026", "02/11/2026-18/12/2026", "04/01/2027-05/02/2027",
                              "22/02/2027-02/04/2027", "19/04/2027-02/07/2027"),
    # Summer 2028 starts on Tuesday 4 July after class: période 5 ends that day. The Pont de
    # l'Ascension (26 and 27 May 2028) is inside période 5, not a boundary.
    ("2027-2028", "C"): spans("01/09/2027-22/10/2027", "08/11/2027-17/12/2027", "03/01/2028-11/02/2028",
                              "28/02/2028-14/04/2028", "02/05/2028-04/07/2028"),
}


# -- the official périodes ------------------------------------------------------------------------


@pytest.mark.parametrize(("school_year", "zone"), sorted(OFFICIAL))
def test_official_periodes_of_a_zone(school_year, zone):
    periods = official_periods(school_year, zone)
    assert dates_of(periods) == OFFICIAL[(school_year, zone)]
    assert [span.number for span in periods] == [1, 2, 3, 4, 5]
    assert {span.school_year for span in periods} == {school_year}


def test_a_weekday_departure_is_still_a_school_day():
    """« Le départ en vacances a lieu après la classe des jours indiqués »: summer 2022 began
    on Thursday 7 July after class; a Saturday departure ends the période on the Friday."""
    assert official_periods("2021-2022", "B")[-1].end == date(2022, 7, 7)
    assert last_school_day(date(2022, 7, 7)) == date(2022, 7, 7)
    assert last_school_day(date(2026, 10, 17)) == date(2026, 10, 16)  # a Saturday
    assert first_weekday_after(date(2026, 11, 1)) == date(2026, 11, 2)
    assert first_weekday_after(date(2027, 5, 1)) == date(2027, 5, 3)  # the day after is a Sunday


def test_no_data_no_official_periodes():
    assert official_periods("2028-2029", "B") is None  # the package stops after summer 2028
    assert official_periods("2035-2036", "A") is None
    assert official_periods("1980-1981", "C") is None


def test_the_package_is_read_only_when_needed():
    code = ("import sys; import rased_tui.domain.holidays, rased_tui.store, rased_tui.cli; "
            "print('vacances_scolaires_france' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


# -- the périodes of the store ---------------------------------------------------------------------


def test_periodes_of_a_year_recorded_else_official_else_approximate(store):
    assert store.periods_of_year("2026-2027") == approximate_periods("2026-2027")  # no zone yet
    assert {period.source_label for period in store.year_periods("2026-2027")} == {"approximatif"}
    store.set_setting("zone", "B")
    assert dates_of(store.periods_of_year("2026-2027")) == OFFICIAL[("2026-2027", "B")]
    assert [(p.source, p.recorded) for p in store.year_periods("2026-2027")] == [(PeriodSource.OFFICIEL, False)] * 5
    assert store.periods_of_year("2028-2029") == approximate_periods("2028-2029")  # beyond the data
    store.set_setting("zone", "C")
    assert dates_of(store.periods_of_year("2026-2027")) == OFFICIAL[("2026-2027", "C")]
    assert store.list_periods("2026-2027") == []  # reading writes nothing


def test_recording_the_official_periodes(store):
    with pytest.raises(StoreError, match="zone de vacances"):
        store.record_official_periods("2026-2027")
    store.set_setting("zone", "A")
    store.record_official_periods("2026-2027")
    recorded = store.list_periods("2026-2027")
    assert [(p.start_date, p.end_date) for p in recorded] == OFFICIAL[("2026-2027", "A")]
    assert {(p.source, p.zone.value) for p in recorded} == {(PeriodSource.OFFICIEL, "A")}
    store.set_setting("zone", "B")  # the base moved: what is recorded stays until taken again
    assert dates_of(store.periods_of_year("2026-2027")) == OFFICIAL[("2026-2027", "A")]
    with pytest.raises(StoreError, match="ne va pas jusqu'à 2028-2029 : saisissez les dates"):
        store.record_official_periods("2028-2029")


def test_a_periode_typed_by_hand_becomes_manual_and_the_year_is_recorded_whole(store):
    store.set_setting("zone", "B")
    store.edit_period("2026-2027", 3, date(2027, 1, 5), date(2027, 2, 19))
    periods = store.year_periods("2026-2027")
    assert [p.source_label for p in periods] == ["officiel", "officiel", "manuel", "officiel", "officiel"]
    assert all(p.recorded for p in periods)
    assert periods[2].span == PeriodSpan("2026-2027", 3, date(2027, 1, 5), date(2027, 2, 19))
    audit = store.connection.execute("SELECT action, count(*) FROM audit_log WHERE table_name = 'periods'"
                                     " GROUP BY action").fetchall()
    assert dict(audit) == {"ajout": 5, "modification": 1}


@pytest.mark.parametrize(("number", "start", "end", "message"), [
    (2, date(2026, 12, 18), date(2026, 11, 2), "La fin de la période précède son début."),
    (2, date(2026, 10, 16), date(2026, 12, 18), "commencerait avant la fin de la période 1 (16/10/2026)"),
    (2, date(2026, 11, 2), date(2027, 1, 4), "finirait après le début de la période 3 (04/01/2027)"),
    (1, date(2026, 7, 20), date(2026, 10, 16), "dans l'année scolaire 2026-2027"),
    (5, date(2027, 5, 3), date(2027, 8, 2), "dans l'année scolaire 2026-2027"),
])
def test_hand_typed_dates_are_refused_in_french_and_nothing_is_written(store, number, start, end, message):
    store.set_setting("zone", "B")
    audit_rows = store.counts()["audit_log"]
    with pytest.raises(StoreError, match=message.replace("(", r"\(").replace(")", r"\)")):
        store.edit_period("2026-2027", number, start, end)
    assert store.list_periods("2026-2027") == []
    assert store.counts()["audit_log"] == audit_rows


def test_period_problem_names_the_bound_at_fault():
    year = approximate_periods("2026-2027")
    assert period_problem(year, 2, year[1].start, year[1].end) is None
    assert period_problem(year, 2, year[0].end, year[1].end)[0] == "start"
    assert period_problem(year, 2, year[1].start, year[2].start)[0] == "end"


def test_official_dates_taken_again(store):
    store.set_setting("zone", "B")
    store.edit_period("2026-2027", 5, date(2027, 5, 3), date(2027, 7, 1))
    store.edit_period("2026-2027", 1, date(2026, 9, 2), date(2026, 10, 16))
    store.record_official_periods("2026-2027")
    recorded = store.list_periods("2026-2027")
    assert [(p.start_date, p.end_date) for p in recorded] == OFFICIAL[("2026-2027", "B")]
    assert {p.source for p in recorded} == {PeriodSource.OFFICIEL}
    assert len(recorded) == 5


# -- meetings ---------------------------------------------------------------------------------------


def test_the_proposed_meeting_is_the_thursday_of_the_fourth_week():
    b = official_periods("2026-2027", "B")
    assert proposed_meeting_date(b[0]) == date(2026, 9, 24)  # rentrée on Tuesday 1/09
    assert proposed_meeting_date(b[1]) == date(2026, 11, 26)  # Monday 2/11
    assert proposed_meeting_date(b[4]) == date(2027, 5, 27)
    short = PeriodSpan("2026-2027", 1, date(2026, 9, 1), date(2026, 9, 18))
    assert proposed_meeting_date(short) == date(2026, 9, 18)  # never after its période
    plan = MeetingPlan(b[1], date(2026, 11, 26), 6)
    assert plan.deadline == date(2026, 11, 20) and not plan.recorded and plan.state_label == "proposée"


def test_meetings_proposed_then_recorded_with_their_deadline(store):
    store.set_setting("zone", "B")
    plans = store.meeting_plans("2026-2027")
    assert [(p.date, p.recorded) for p in plans][:2] == [(date(2026, 9, 24), False), (date(2026, 11, 26), False)]
    assert store.next_meeting(date(2026, 11, 21)) == plans[1]
    recorded = store.set_meeting("2026-2027", 2, date(2026, 12, 3), deadline_days=10)
    assert (recorded.date, recorded.deadline, recorded.recorded) == (date(2026, 12, 3), date(2026, 11, 23), True)
    [meeting] = store.list_meetings("2026-2027")
    assert (meeting.kind, meeting.period_number, meeting.request_deadline_days) == (MeetingKind.ORDINAIRE, 2, 10)
    store.set_meeting("2026-2027", 2, date(2026, 12, 10))
    assert store.ordinary_meeting("2026-2027", 2).date == date(2026, 12, 10)
    assert len(store.list_meetings("2026-2027")) == 1
    with pytest.raises(StoreError, match="délai de dépôt"):
        store.set_meeting("2026-2027", 2, date(2026, 12, 10), deadline_days=90)


def test_untouched_proposals_are_not_recorded(store):
    store.set_setting("zone", "B")
    assert store.plan_period("2026-2027", 2, meeting_date=date(2026, 11, 26), deadline_days=6) == []
    assert store.list_meetings("2026-2027") == [] and store.list_periods("2026-2027") == []


def test_a_meeting_with_analyses_moves_within_its_periode_only(store, make_school, make_pupil_case):
    store.set_setting("zone", "B")
    school = store.add_school(make_school())
    case = store.add_case(make_pupil_case(school.id, date_sent="2026-11-03"))
    meeting = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 12))
    store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.ANALYSE, date="2026-11-12",
                                  text="Problématique.", meeting_id=meeting.id))
    store.set_meeting("2026-2027", 2, date(2026, 11, 19))  # allowed: still in période 2
    assert store.get_meeting(meeting.id).date == date(2026, 11, 19)
    for outside in (date(2026, 10, 29), date(2026, 12, 21), date(2027, 1, 7)):
        with pytest.raises(StoreError, match=r"se tient pendant celle-ci \(du 02/11/2026 au 18/12/2026\)"):
            store.set_meeting("2026-2027", 2, outside)
    assert store.get_meeting(meeting.id).date == date(2026, 11, 19)
    # nor can its période move away from it
    with pytest.raises(StoreError, match="hors des nouvelles dates"):
        store.edit_period("2026-2027", 2, date(2026, 11, 23), date(2026, 12, 18))
    # both at once, in one change: allowed
    assert store.plan_period("2026-2027", 2, start=date(2026, 11, 23), end=date(2026, 12, 18),
                             meeting_date=date(2026, 12, 3)) == ["période", "réunion"]
    assert store.get_meeting(meeting.id).date == date(2026, 12, 3)
    assert store.periods_of_year("2026-2027")[1].start == date(2026, 11, 23)


def test_taking_the_official_dates_again_keeps_recorded_meetings_in_their_periode(store):
    store.set_setting("zone", "B")
    store.plan_period("2026-2027", 1, end=date(2026, 10, 23), meeting_date=date(2026, 10, 22))
    with pytest.raises(StoreError, match="La réunion de la période 1 est fixée au 22/10/2026"):
        store.record_official_periods("2026-2027")
    assert store.periods_of_year("2026-2027")[0].end == date(2026, 10, 23)


@pytest.mark.parametrize("recording", ["by hand", "by an analysis"])
def test_a_recorded_meeting_keeps_its_periodes_when_the_zone_changes(store, recording):
    """Zone B, période 4 (08/03-16/04/2027) gets its meeting on 15/04/2027, official dates not
    recorded before: they are recorded with it, so that moving the base to zone A (période 4
    01/03-09/04) strands neither the meeting nor that year's statistics."""
    store.set_setting("zone", "B")
    if recording == "by hand":
        store.set_meeting("2026-2027", 4, date(2027, 4, 15))
    else:
        store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=4, day=date(2027, 4, 15))
    recorded = store.list_periods("2026-2027")
    assert [(p.start_date, p.end_date) for p in recorded] == OFFICIAL[("2026-2027", "B")]
    assert {(p.source, p.zone.value) for p in recorded} == {(PeriodSource.OFFICIEL, "B")}
    store.set_setting("zone", "A")
    assert dates_of(store.periods_of_year("2026-2027")) == OFFICIAL[("2026-2027", "B")]
    plan = store.meeting_plans("2026-2027")[3]
    assert plan.recorded and plan.date == date(2027, 4, 15) and meeting_problem(plan.period, plan.date) is None
    assert dates_of(store.periods_of_year("2027-2028")) == dates_of(official_periods("2027-2028", "A"))  # untouched


def test_an_urgent_meeting_or_a_refused_one_records_no_periode(store):
    store.set_setting("zone", "B")
    audit_rows = store.counts()["audit_log"]
    with pytest.raises(StoreError, match="se tient pendant celle-ci"):
        store.set_meeting("2026-2027", 4, date(2027, 4, 30))  # in the holidays: nothing written
    assert store.list_periods("2026-2027") == [] and store.counts()["audit_log"] == audit_rows
    store.meeting_for("2026-2027", MeetingKind.URGENTE, period_number=2, day=date(2026, 11, 16))
    assert store.list_periods("2026-2027") == []


def test_the_next_meetings_run_into_the_next_school_year(store):
    store.set_setting("zone", "B")
    upcoming = store.upcoming_meetings(date(2027, 5, 28))  # after période 5's meeting
    assert [(plan.period.school_year, plan.period.number, plan.date) for plan in upcoming] == \
        [("2027-2028", 1, date(2027, 9, 23)), ("2027-2028", 2, date(2027, 12, 2))]
    assert [plan.period.number for plan in store.upcoming_meetings(date(2027, 4, 2))] == [5, 1]
    assert store.next_meeting(date(2027, 7, 10)).period.school_year == "2027-2028"
    assert store.next_meeting(date(2027, 5, 27)).date == date(2027, 5, 27)  # on the day itself


def test_read_only_refuses_every_calendar_write(store, db_path):
    store.set_setting("zone", "B")
    with Store.open(db_path, read_only=True) as reader:
        assert len(reader.periods_of_year("2026-2027")) == 5
        for write in (lambda: reader.record_official_periods("2026-2027"),
                      lambda: reader.edit_period("2026-2027", 1, date(2026, 9, 2), date(2026, 10, 16)),
                      lambda: reader.set_meeting("2026-2027", 2, date(2026, 12, 3))):
            with pytest.raises(StoreError, match="lecture seule"):
                write()


# -- the demo ---------------------------------------------------------------------------------------


def test_the_demo_records_the_official_periodes_of_zone_b_and_proposed_meetings(tmp_path):
    with Store.open(tmp_path / "demo.db") as demo:
        generate_demo(demo, cases=30)
        for year in ("2023-2024", "2024-2025", "2025-2026", "2026-2027"):
            recorded = demo.list_periods(year)
            assert [(p.start_date, p.end_date) for p in recorded] == dates_of(official_periods(year, "B"))
            assert {(p.source, p.zone.value) for p in recorded} == {(PeriodSource.OFFICIEL, "B")}
            assert [plan.date for plan in demo.meeting_plans(year)] == \
                [proposed_meeting_date(span) for span in official_periods(year, "B")]
            assert all(plan.recorded for plan in demo.meeting_plans(year))

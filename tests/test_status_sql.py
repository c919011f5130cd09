"""The status rule exists twice — domain/status.py and the view `case_status` of schema.sql —
and must give the same answer for any timeline."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rased_tui.domain.enums import ClosureOutcome, EntryKind, FirstResponse, SecondResponse
from rased_tui.domain.models import TimelineEntry
from rased_tui.domain.status import derive_status

SUB_KINDS = {
    EntryKind.PREMIERE_INTENTION: [member.value for member in FirstResponse],
    EntryKind.SECONDE_INTENTION: [member.value for member in SecondResponse],
    # sans_suite twice as likely: it is the one outcome that changes the status
    EntryKind.CLOTURE: [member.value for member in ClosureOutcome] + [ClosureOutcome.SANS_SUITE.value],
}
# Turns (closure, reopening) more often than the rest, so that every path is reached.
KINDS = [*EntryKind, EntryKind.CLOTURE, EntryKind.REOUVERTURE, EntryKind.REOUVERTURE]
FIRST_DAY = date(2026, 9, 1)

_serial = itertools.count(1)


@st.composite
def timeline_entry(draw) -> dict:
    kind = draw(st.sampled_from(KINDS))
    return {
        "kind": kind,
        "sub_kind": draw(st.sampled_from(SUB_KINDS[kind])) if kind in SUB_KINDS else None,
        # few days and few recording times: many entries share a day, some share both
        "day": draw(st.integers(0, 4)),
        "minute": draw(st.integers(0, 3)),
        # the last tie-break is the id: a small rank puts the entry first among equals
        "rank": draw(st.integers(0, 3)),
    }


def build(case_id: str, serial: int, index: int, spec: dict) -> TimelineEntry:
    day = FIRST_DAY + timedelta(days=spec["day"])
    return TimelineEntry(
        id=f"{spec['rank']:08x}-{index:04x}-4000-8000-{serial:012x}",
        case_id=case_id,
        kind=spec["kind"],
        sub_kind=spec["sub_kind"],
        date=day,
        text="Problématique à préciser" if spec["kind"] is EntryKind.ANALYSE else "",
        to_school_year="2027-2028" if spec["kind"] is EntryKind.REPORT else None,
        partner="cmpp" if spec["sub_kind"] == "orientation_partenaire" and spec["kind"] is EntryKind.SECONDE_INTENTION
        else None,
        created_at=f"2026-11-0{1 + spec['minute'] % 2}T10:0{spec['minute']}:00.000000Z",
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(timeline_entry(), max_size=8))
def test_sql_view_and_domain_agree(store, make_school, make_pupil_case, specs):
    # One database for all examples, a fresh case for each.
    schools = store.list_schools()
    school = schools[0] if schools else store.add_school(make_school())
    serial = next(_serial)
    # A bulk load records any history as it stands (a person entering steps meets the order
    # rules of domain/timeline.py, which would refuse, say, a step after a closure).
    with store.bulk_load("chronologie quelconque"):
        case = store.add_case(make_pupil_case(school.id, date_sent=FIRST_DAY))
        entries = [store.add_entry(build(case.id, serial, index, spec)) for index, spec in enumerate(specs)]

    expected = derive_status(entries)
    assert store.case_status(case.id) is expected
    # The same from the timeline read back, and whatever order the entries come in.
    assert derive_status(store.list_entries(case.id, include_confidential=True), ordered=True) is expected
    assert derive_status(list(reversed(entries))) is expected

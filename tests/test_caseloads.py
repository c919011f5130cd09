"""Caseloads ("Prises en charge", `2`) and the waiting list (`5`): the rules (domain/caseloads.py),
the store's queries (store/caseloads.py) and both screens driven through Pilot.

The totals shown are checked against SQL written here independently, on a demo database and
on small hand-made ones: a pupil helped by two members counts once, a case carried over into
the next school year counts once, a member over capacity is flagged.
"""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest
from textual.widgets import DataTable, Select

from rased_tui.domain.calendar import PeriodSpan
from rased_tui.domain.caseloads import (
    CaseloadAid,
    CaseloadFilter,
    Load,
    gauge,
    load_of,
    rhythm_text,
)
from rased_tui.domain.enums import AidEndReason, AidKind, CaseStatus, EntryKind, Modality
from rased_tui.domain.models import Aid, AidEvaluation, Case, Member, TimelineEntry
from rased_tui.domain.timeline import Step, suggest_next_step
from rased_tui.exchange.demo import generate_demo
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.caseloads import CaseloadsScreen
from rased_tui.screens.steps import AidForm, EndAidForm, EntryForm
from rased_tui.screens.waiting import WaitingListScreen
from rased_tui.store import SCHEMA_VERSION, Store
from tests.schema_history import downgrade_to_version_4
from tests.pilot import new_app

SIZE = (120, 40)
DAY = date(2026, 11, 21)


# -- building blocks ----------------------------------------------------------------------------


@pytest.fixture
def school(store, make_school):
    return store.add_school(make_school(name="École Jean-Jaurès"))


@pytest.fixture
def rased(store, make_member) -> dict[str, Member]:
    """Two maîtres E (one of another antenna), a maître G and a psychologue."""
    return {
        "e": store.add_member(make_member(last_name="Lefèvre", first_name="Anne", role="maitre_e", capacity=2)),
        "e2": store.add_member(make_member(last_name="Roussel", first_name="Paul", role="maitre_e",
                                           antenna="Rouen Sud", capacity=10)),
        "g": store.add_member(make_member(last_name="Morel", first_name="Luc", role="maitre_g", capacity=10)),
        "psy": store.add_member(make_member(last_name="Garnier", first_name="Inès", role="psychologue")),
    }


def new_case(store: Store, make_pupil_case, school, first_name: str = "Hélène", **fields) -> Case:
    return store.add_case(make_pupil_case(school.id, {"first_name": first_name}, **fields))


def analyse(store: Store, case: Case, day: str, *kinds: str) -> TimelineEntry:
    """A first analysis that calls for these RASED aids."""
    return store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.ANALYSE, date=day,
                                         text="Problématique : entrée dans l'écrit.", aids_called=list(kinds)))


def start_aid(store: Store, case: Case, member: Member, kind: str = "E", *, start: str = "2026-10-20",
              consent: str = "donne", **fields) -> Aid:
    """An aid opened through the store with its second-intention step."""
    form = "ecrit" if consent == "donne" else None
    aid = Aid(case_id=case.id, member_id=member.id, kind=kind, modality="petit_groupe", start_date=start,
              consent_status=consent, consent_form=form, sessions_per_week=2, **fields)
    entry = TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION, sub_kind="aide_specialisee",
                          date=start, member_ids=[member.id])
    store.open_aid(aid, entry)
    return aid


async def press(pilot, *keys: str):
    await pilot.press(*keys)
    await pilot.pause()
    return pilot.app.screen


def table_rows(screen, table_id: str) -> dict[str, list[str]]:
    """Each row of a table by key, its cells as text, in the order shown."""
    table = screen.query_one(f"#{table_id}", DataTable)
    return {row.key.value: [str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows}


def select_row(screen, table_id: str, key: str) -> None:
    table = screen.query_one(f"#{table_id}", DataTable)
    table.move_cursor(row=table.get_row_index(key))


def shown(screen, widget_id: str) -> str:
    widget = screen.query_one(f"#{widget_id}")
    return str(widget.render()) if widget.display else ""


# -- the rules ------------------------------------------------------------------------------------


def caseload_aid(**fields) -> CaseloadAid:
    defaults = dict(aid_id="a", case_id="c", case_number="2026-0001", member_id="m", kind=AidKind.E,
                    subject="Dupré Hélène", pupil_id="p", school="École", levels="CE1",
                    modality=Modality.PETIT_GROUPE, sessions_per_week=2.0, start_date=date(2026, 10, 5),
                    expected_weeks=None, end_date=None, final_bilan=None)
    return CaseloadAid(**{**defaults, **fields})


def test_weeks_elapsed_and_the_next_bilan_due():
    period = PeriodSpan("2026-2027", 2, date(2026, 11, 3), date(2026, 12, 19))
    planned = caseload_aid(expected_weeks=10)
    assert planned.weeks_elapsed(DAY) == 6  # 05/10 → 21/11: 47 days
    assert planned.bilan_due(period) == date(2026, 12, 14)  # the end of its planned length
    assert caseload_aid().bilan_due(period) == date(2026, 12, 19)  # no length: the end of the période
    assert caseload_aid().bilan_due(None) is None
    assert caseload_aid(final_bilan=date(2026, 11, 20)).bilan_due(period) is None  # done
    ended = caseload_aid(end_date=date(2026, 10, 26))
    assert ended.weeks_elapsed(DAY) == 3 and ended.bilan_due(period) is None


def test_a_pupil_counts_once_in_totals_and_groups_count_by_case():
    aids = [caseload_aid(aid_id="1", pupil_id="p1", case_id="c1"),
            caseload_aid(aid_id="2", pupil_id="p1", case_id="c1", kind=AidKind.G),
            caseload_aid(aid_id="3", pupil_id="p2", case_id="c2"),
            caseload_aid(aid_id="4", pupil_id=None, case_id="c3"),
            caseload_aid(aid_id="5", pupil_id=None, case_id="c3", kind=AidKind.G)]
    assert load_of(aids) == Load(aids=5, pupils=2, groups=1)
    assert load_of(aids).held == 3
    assert load_of([]) == Load()


def test_gauge_and_rhythm_texts():
    assert gauge(5, 10) == "█████░░░░░ 5/10"
    assert gauge(12, 10) == "██████████ 12/10 ⚠"
    assert gauge(0, 4, width=4) == "░░░░ 0/4"
    assert gauge(3, None) == "3 (capacité ?)"
    assert rhythm_text(2.0) == "2/sem." and rhythm_text(1.5) == "1,5/sem." and rhythm_text(None) == ""


def test_an_analysis_calling_for_an_aid_suggests_it():
    entries = [TimelineEntry(case_id="c", kind=EntryKind.ANALYSE, date="2026-10-06", text="P",
                             aids_called=["G"]),
               TimelineEntry(case_id="c", kind=EntryKind.PREMIERE_INTENTION, sub_kind="contact", date="2026-10-08")]
    suggestion = suggest_next_step(CaseStatus.PREMIERE_INTENTION, entries, [], {})
    assert suggestion.step is Step.AIDE and "aide G" in suggestion.reason and "liste d'attente" in suggestion.reason


def test_only_an_analysis_calls_for_an_aid():
    with pytest.raises(ValueError, match="Seule la première analyse"):
        TimelineEntry(case_id="c", kind=EntryKind.BILAN, date="2026-10-06", aids_called=["E"])


# -- the store: caseloads ---------------------------------------------------------------------------


def test_the_caseload_holds_agreed_open_aids_with_their_details(store, school, rased, make_pupil_case):
    helene = new_case(store, make_pupil_case, school)
    running = start_aid(store, helene, rased["e"], expected_weeks=8)
    store.add_evaluation(AidEvaluation(aid_id=running.id, date="2026-10-22", phase="debut", score=3))
    pending = new_case(store, make_pupil_case, school, "Noé")
    start_aid(store, pending, rased["g"], "G", consent="en_attente")
    ended = new_case(store, make_pupil_case, school, "Léa")
    store.end_aid(start_aid(store, ended, rased["e"]).id, date(2026, 11, 2), AidEndReason.OBJECTIFS_ATTEINTS)

    [shown_aid] = store.caseload_aids(CaseloadFilter(), DAY)
    assert (shown_aid.aid_id, shown_aid.case_number, shown_aid.subject, shown_aid.school, shown_aid.levels) == \
        (running.id, helene.number, "Dupré Hélène", "École Jean-Jaurès", "CE1")
    assert shown_aid.planned_end() == date(2026, 12, 15) and shown_aid.sessions_per_week == 2


def test_filters_by_school_antenna_and_periode(store, school, rased, make_school, make_pupil_case):
    other_school = store.add_school(make_school(name="École Pasteur"))
    here = start_aid(store, new_case(store, make_pupil_case, school), rased["e"])
    there = start_aid(store, new_case(store, make_pupil_case, other_school, "Noé"), rased["e2"])
    ended_in_p1 = start_aid(store, new_case(store, make_pupil_case, school, "Léa"), rased["g"], "G",
                            start="2026-10-06")
    store.end_aid(ended_in_p1.id, date(2026, 10, 16), AidEndReason.OBJECTIFS_ATTEINTS)

    def ids(caseload_filter: CaseloadFilter) -> set[str]:
        return {aid.aid_id for aid in store.caseload_aids(caseload_filter, DAY)}

    assert ids(CaseloadFilter()) == {here.id, there.id}
    assert ids(CaseloadFilter(school_id=other_school.id)) == {there.id}
    assert ids(CaseloadFilter(antenna="Rouen Sud")) == {there.id}
    periods = store.periods_of_year("2026-2027")
    assert ids(CaseloadFilter(period=periods[0])) == {ended_in_p1.id}  # P1 ends on 17/10
    assert ids(CaseloadFilter(period=periods[1])) == {here.id, there.id}  # begun in the holidays
    assert ids(CaseloadFilter(period=periods[2])) == {here.id, there.id}  # still running in P3
    assert store.member_antennas() == ["Rouen Nord", "Rouen Sud"]


def test_a_case_carried_over_into_the_next_year_counts_once(store, school, rased, make_pupil_case):
    case = new_case(store, make_pupil_case, school, date_sent="2026-03-02", levels=["CP"])
    assert case.school_year == "2025-2026"
    analyse(store, case, "2026-03-05", "E")
    aid = start_aid(store, case, rased["e"], start="2026-03-16")
    store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.REPORT, date="2026-07-03",
                                  to_school_year="2026-2027"))
    assert store.case_years(case.id) == ["2025-2026", "2026-2027"]
    for caseload_filter in (CaseloadFilter(), CaseloadFilter(period=store.periods_of_year("2026-2027")[0]),
                            CaseloadFilter(period=store.periods_of_year("2025-2026")[3])):
        aids = store.caseload_aids(caseload_filter, DAY)
        assert [a.aid_id for a in aids] == [aid.id]
        assert load_of(aids) == Load(aids=1, pupils=1, groups=0)
    assert store.waiting_list(DAY) == []


# -- the store: waiting list ------------------------------------------------------------------------


def test_the_waiting_list_oldest_first_and_what_takes_a_case_off_it(store, school, rased, make_pupil_case):
    oldest = new_case(store, make_pupil_case, school, "Léa")
    analyse(store, oldest, "2026-10-06", "E", "psy")
    proposed = new_case(store, make_pupil_case, school, "Noé")
    analyse(store, proposed, "2026-10-12", "G")
    start_aid(store, proposed, rased["g"], "G", start="2026-11-09", consent="en_attente")
    recent = new_case(store, make_pupil_case, school, "Zoé", urgent=True)
    analyse(store, recent, "2026-11-16", "E")
    started = new_case(store, make_pupil_case, school, "Tom")
    analyse(store, started, "2026-10-07", "E")
    start_aid(store, started, rased["e"], start="2026-11-02")
    refused = new_case(store, make_pupil_case, school, "Max")
    analyse(store, refused, "2026-10-07", "G")
    start_aid(store, refused, rased["g"], "G", start="2026-11-02", consent="refuse")
    closed = new_case(store, make_pupil_case, school, "Ana")
    analyse(store, closed, "2026-10-07", "E")
    store.close_case(TimelineEntry(case_id=closed.id, kind=EntryKind.CLOTURE, sub_kind="depart_ecole",
                                   date="2026-11-10"))
    no_call = new_case(store, make_pupil_case, school, "Eva")
    analyse(store, no_call, "2026-10-07")

    waiting = store.waiting_list(DAY)
    assert [(w.case_number, w.kinds, w.days_waited(DAY), w.state(), w.urgent) for w in waiting] == [
        (oldest.number, (AidKind.E, AidKind.PSY), 46, "à attribuer", False),
        (proposed.number, (AidKind.G,), 40, "accord attendu", False),
        (recent.number, (AidKind.E,), 5, "à attribuer", True),
    ]
    assert [w.case_number for w in store.waiting_list(DAY, school_id=school.id)] == [w.case_number for w in waiting]

    # the psy aid starts: the case still waits for its aide E, since the same day
    start_aid(store, oldest, rased["psy"], "psy", start="2026-11-16")
    first = store.waiting_list(DAY)[0]
    assert (first.case_number, first.kinds, first.since) == (oldest.number, (AidKind.E,), date(2026, 10, 6))


def test_an_aid_agreed_to_and_starting_later_keeps_the_case_waiting(store, school, rased, make_pupil_case):
    case = new_case(store, make_pupil_case, school)
    analyse(store, case, "2026-10-06", "E")
    start_aid(store, case, rased["e"], start="2026-11-20")
    assert store.waiting_list(date(2026, 11, 19))[0].state() == "début le 20/11/2026"
    assert store.waiting_list(date(2026, 11, 20)) == []


def test_migration_from_version_3_adds_the_aid_calls(tmp_path, make_school, make_pupil_case):
    path = tmp_path / "rased.db"
    with Store.open(path) as old:
        school = old.add_school(make_school())
        case = old.add_case(make_pupil_case(school.id))
        analyse(old, case, "2026-10-06")
    downgrade_to_version_4(path)
    connection = sqlite3.connect(path)
    connection.executescript("DROP TABLE analysis_aid_calls; DROP INDEX timeline_by_aid; PRAGMA user_version = 3;")
    connection.close()
    with Store.open(path) as migrated:
        assert migrated.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        [entry] = migrated.list_entries(case.id, include_confidential=True)
        assert entry.aids_called == []
        saved = analyse(migrated, migrated.get_case(case.id), "2026-10-07", "G")
        assert migrated.get_entry(saved.id).aids_called == [AidKind.G]
        assert migrated.check().ok


def test_aid_calls_are_edited_and_audited_with_their_analysis(store, school, make_pupil_case):
    case = new_case(store, make_pupil_case, school)
    entry = analyse(store, case, "2026-10-06", "E")
    store.update_entry(entry.model_copy(update={"aids_called": [AidKind.G, AidKind.PSY]}))
    assert store.get_entry(entry.id).aids_called == [AidKind.G, AidKind.PSY]
    [row] = store.connection.execute(
        "SELECT before, after FROM audit_log WHERE action = 'modification' AND row_id = ?", (entry.id,)).fetchall()
    assert '"aids_called": ["E"]' in row["before"] and '"aids_called": ["G", "psy"]' in row["after"]
    store.delete_entry(entry.id)
    assert store.connection.execute("SELECT count(*) FROM analysis_aid_calls").fetchone()[0] == 0


# -- the screens ------------------------------------------------------------------------------------


def independent_totals(connection: sqlite3.Connection) -> dict:
    """The caseload's figures, computed here in SQL without the app's code."""
    open_aids = "FROM aids a JOIN cases c ON c.id = a.case_id WHERE a.end_date IS NULL AND a.consent_status = 'donne'"
    by_kind = {kind: (aids, pupils) for kind, aids, pupils in connection.execute(
        f"SELECT a.kind, count(*), count(DISTINCT c.pupil_id) {open_aids} GROUP BY a.kind")}
    by_member = {member: (aids, held) for member, aids, held in connection.execute(
        f"SELECT a.member_id, count(*), count(DISTINCT coalesce(c.pupil_id, c.id)) {open_aids} GROUP BY a.member_id")}
    pupils, aids = connection.execute(f"SELECT count(DISTINCT c.pupil_id), count(*) {open_aids}").fetchone()
    return {"kind": by_kind, "member": by_member, "pupils": pupils, "aids": aids}


async def test_the_caseload_screen_shows_the_totals_sql_computes_on_a_demo(tmp_path):
    with Store.open(tmp_path / "demo.db") as store:
        generate_demo(store, cases=400, seed=3)
        expected = independent_totals(store.connection)
        assert expected["aids"] > 5
        app = new_app(store)
        async with app.run_test(size=SIZE) as pilot:
            screen = await press(pilot, "2")
            assert isinstance(screen, CaseloadsScreen)
            rows = table_rows(screen, "caseload-table")
            for kind, (aids, pupils) in expected["kind"].items():
                cells = rows[f"kind:{kind}"]
                assert cells[1].startswith(f"{pupils} élève") and cells[5] == f"{aids} aide{'s' if aids > 1 else ''}"
            for member_id, (aids, held) in expected["member"].items():
                member = store.get_member(member_id)
                assert f" {held}/{member.capacity}" in rows[f"member:{member_id}"][1]
                assert len([key for key in rows if key.startswith("aid:")
                            and screen.aids[key[4:]].member_id == member_id]) == aids
            assert f"{expected['pupils']} élève" in shown(screen, "caseload-summary")
            assert rows["total"][1].startswith(f"{expected['pupils']} élève")
            order = list(rows)
            assert order.index("kind:E") < order.index("kind:G") < order.index("kind:psy") < order.index("total")


async def test_capacity_warning_a_pupil_counted_once_and_a_member_who_left(store, school, rased, make_pupil_case):
    twins = [new_case(store, make_pupil_case, school, name) for name in ("Léa", "Noé", "Zoé")]
    for case in twins:
        start_aid(store, case, rased["e"])  # three pupils for a capacity of two
    start_aid(store, twins[0], rased["g"], "G")  # Léa also helped by the maître G
    store.update_member(rased["g"].model_copy(update={"active_to": date(2026, 11, 13)}))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "2")
        rows = table_rows(screen, "caseload-table")
        assert rows[f"member:{rased['e'].id}"][1] == "██████ 3/2 ⚠"
        assert rows[f"member:{rased['e2'].id}"][1] == "░░░░░░ 0/10"  # in office, no aid: listed
        assert "parti·e le 13/11/2026" in rows[f"member:{rased['g'].id}"][0]
        warning = shown(screen, "caseload-warning")
        assert "Anne Lefèvre : 3 suivis pour une capacité de 2" in warning
        assert "Luc Morel n'est plus en fonction et garde 1 aide" in warning
        assert rows["kind:E"][1] == "3 élèves" and rows["kind:G"][1] == "1 élève"
        assert rows["total"][1] == "3 élèves" and rows["total"][5] == "4 aides"
        assert "3 élèves aidés" in shown(screen, "caseload-summary")
        assert f"member:{rased['psy'].id}" in rows and "3 (capacité ?)" not in rows[f"member:{rased['psy'].id}"][1]


async def test_ending_an_aid_from_the_caseload(store, school, rased, make_pupil_case):
    case = new_case(store, make_pupil_case, school)
    aid = start_aid(store, case, rased["e"])
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "2")
        select_row(screen, "caseload-table", f"member:{rased['e'].id}")
        assert isinstance(await press(pilot, "f"), CaseloadsScreen)  # a member's line: nothing to end
        select_row(screen, "caseload-table", f"aid:{aid.id}")
        form = await press(pilot, "f")
        assert isinstance(form, EndAidForm)
        form.query_one("#date").value = "16/11/2026"
        form.query_one("#reason", Select).value = AidEndReason.OBJECTIFS_ATTEINTS.value
        screen = await press(pilot, "ctrl+s")
        assert isinstance(screen, CaseloadsScreen)
        ended = store.get_aid(aid.id)
        assert (ended.end_date, ended.end_reason) == (date(2026, 11, 16), AidEndReason.OBJECTIFS_ATTEINTS)
        assert f"aid:{aid.id}" not in table_rows(screen, "caseload-table")
        assert store.connection.execute("SELECT count(*) FROM audit_log WHERE table_name = 'aids'"
                                        " AND action = 'modification' AND row_id = ?", (aid.id,)).fetchone()[0] == 1


async def test_caseload_filters_and_opening_a_case(store, school, rased, make_school, make_pupil_case):
    other_school = store.add_school(make_school(name="École Pasteur"))
    here = start_aid(store, new_case(store, make_pupil_case, school), rased["e"])
    there = start_aid(store, new_case(store, make_pupil_case, other_school, "Noé"), rased["e2"])
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "2")
        screen.query_one("#caseload-school", Select).value = other_school.id
        await pilot.pause()
        rows = table_rows(screen, "caseload-table")
        assert f"aid:{there.id}" in rows and f"aid:{here.id}" not in rows
        screen.query_one("#caseload-school", Select).value = "toutes"
        screen.query_one("#caseload-antenna", Select).value = "Rouen Nord"
        await pilot.pause()
        rows = table_rows(screen, "caseload-table")
        assert f"aid:{here.id}" in rows and f"member:{rased['e2'].id}" not in rows
        screen.query_one("#caseload-period", Select).value = "2026-2027:2"
        await pilot.pause()
        assert "période 2 2026-2027" in shown(screen, "caseload-summary")
        screen.query_one(DataTable).focus()
        select_row(screen, "caseload-table", f"aid:{here.id}")
        case_screen = await press(pilot, "enter")
        assert isinstance(case_screen, CaseScreen) and case_screen.case_id == here.case_id
        assert isinstance(await press(pilot, "escape"), CaseloadsScreen)


async def test_read_only_caseload_hides_the_end_of_aids(db_path, store, school, rased, make_pupil_case):
    aid = start_aid(store, new_case(store, make_pupil_case, school), rased["e"])
    with Store.open(db_path, read_only=True) as reader:
        app = new_app(reader)
        async with app.run_test(size=SIZE) as pilot:
            screen = await press(pilot, "2")
            select_row(screen, "caseload-table", f"aid:{aid.id}")
            assert "caseload_end_aid" not in {active.binding.id for active in app.active_bindings.values()
                                              if active.enabled}
            assert isinstance(await press(pilot, "f"), CaseloadsScreen)
    assert store.get_aid(aid.id).end_date is None


async def test_the_waiting_list_screen_from_the_analysis_to_the_start_of_the_aid(store, school, rased,
                                                                                make_pupil_case):
    older = new_case(store, make_pupil_case, school, "Léa")
    analyse(store, older, "2026-10-06", "psy")
    start_aid(store, older, rased["e"])  # the maître E's one place (capacity 1 below) is taken
    store.update_member(rased["e"].model_copy(update={"capacity": 1}))
    case = new_case(store, make_pupil_case, school)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CaseScreen(case.id))
        await pilot.pause()
        form = await press(pilot, "a")
        assert isinstance(form, EntryForm)
        form.query_one("#date").value = "12/10/2026"
        form.query_one("#meeting", Select).value = "synthese"
        form.query_one("#members").select(rased["e"].id)
        form.query_one("#text").text = "Entrée dans l'écrit."
        form.query_one("#aids-called").select("E")
        case_screen = await press(pilot, "ctrl+s")
        assert isinstance(case_screen, CaseScreen)
        assert "aide E demandée" in " ".join(str(c) for c in case_screen.query_one("#timeline", DataTable).get_row(
            f"entry:{store.list_entries(case.id, include_confidential=True)[0].id}"))

        screen = await press(pilot, "5")
        assert isinstance(screen, WaitingListScreen)
        rows = table_rows(screen, "waiting-table")
        assert list(rows) == [older.id, case.id]  # the longest wait first
        assert rows[older.id][:4] == ["46", "", "06/10/2026", "psy"] and rows[case.id][0] == "40"
        assert "2 dossiers en attente" in shown(screen, "waiting-summary")
        assert "la plus longue 46 jours" in shown(screen, "waiting-summary")

        select_row(screen, "waiting-table", case.id)
        case_screen = await press(pilot, "enter")
        assert isinstance(case_screen, CaseScreen)
        form = await press(pilot, "s")
        assert isinstance(form, AidForm)
        assert form.query_one("#kind").pressed_button.name == "E"  # the kind the analysis called for
        await pilot.pause()
        form.query_one("#giver", Select).value = rased["e"].id
        form.query_one("#modality", Select).value = "petit_groupe"
        form.query_one("#start").value = "16/11/2026"
        form.query_one("#consent", Select).value = "donne"
        form.query_one("#consent-form", Select).value = "oral"
        form.query_one("#consent-date").value = "13/11/2026"
        assert isinstance(await press(pilot, "ctrl+s"), CaseScreen)
        assert any("Attention : 2 suivis pour une capacité de 1." in str(notification.message)
                   for notification in app._notifications)
        screen = await press(pilot, "escape")
        assert isinstance(screen, WaitingListScreen)
        assert list(table_rows(screen, "waiting-table")) == [older.id]
        assert "1 dossier en attente" in shown(screen, "waiting-summary")


async def test_an_empty_waiting_list_says_so(store):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "5")
        assert shown(screen, "waiting-summary") == "Aucun dossier n'attend une aide du RASED."
        assert table_rows(screen, "waiting-table") == {}


async def test_a_member_who_left_with_ended_aids_gets_no_warning_in_a_past_periode(store, school, rased,
                                                                                   make_pupil_case):
    """Regression: in a past période, a member who left showed '⚠ … garde 1 aide' for aids
    already ended by the handover."""
    case = new_case(store, make_pupil_case, school, date_sent="2026-09-07")
    aid = start_aid(store, case, rased["g"], "G", start="2026-09-14")
    store.hand_over_aids(rased["g"].id, store.add_member(rased["g"].model_copy(
        update={"id": "0" * 8 + "-0000-4000-8000-" + "0" * 12, "last_name": "Neveu"})).id, date(2026, 11, 16))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "2")
        screen.query_one("#caseload-period", Select).value = "2026-2027:1"
        await pilot.pause()
        rows = table_rows(screen, "caseload-table")
        assert f"aid:{aid.id}" in rows and "parti·e le 16/11/2026" in rows[f"member:{rased['g'].id}"][0]
        assert "n'est plus en fonction" not in shown(screen, "caseload-warning")


async def test_with_a_school_chosen_the_gauge_still_shows_the_whole_load(store, school, rased, make_school,
                                                                         make_pupil_case):
    """Regression: with a school filter, a member's gauge counted only that school's pupils."""
    other_school = store.add_school(make_school(name="École Pasteur"))
    for name in ("Léa", "Noé"):
        start_aid(store, new_case(store, make_pupil_case, other_school, name), rased["e"])
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "2")
        screen.query_one("#caseload-school", Select).value = school.id
        await pilot.pause()
        member_row = table_rows(screen, "caseload-table")[f"member:{rased['e'].id}"]
        assert member_row[1] == "██████ 2/2" and member_row[5] == "0 aide"


async def test_the_caseload_is_read_once_when_shown_and_again_only_after_a_change(store, school, rased,
                                                                                 make_pupil_case, monkeypatch):
    """Its three filters each announce their first value when shown: no news, nothing read
    again; after the help or a case only looked at, nothing either; after a step elsewhere, yes."""
    case = new_case(store, make_pupil_case, school)
    aid = start_aid(store, case, rased["e"])
    reads = []
    reload = CaseloadsScreen.reload
    monkeypatch.setattr(CaseloadsScreen, "reload", lambda self: (reads.append(1), reload(self)))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "2")
        assert len(reads) == 1
        await press(pilot, "f1")
        await press(pilot, "escape")
        select_row(screen, "caseload-table", f"aid:{aid.id}")
        assert isinstance(await press(pilot, "enter"), CaseScreen)
        assert await press(pilot, "escape") is screen
        assert len(reads) == 1
        with Store.open(store.path) as other_window:
            other_window.end_aid(aid.id, date(2026, 11, 16), AidEndReason.OBJECTIFS_ATTEINTS)
        await press(pilot, "f1")
        await press(pilot, "escape")
        assert len(reads) == 2 and f"aid:{aid.id}" not in table_rows(screen, "caseload-table")


async def test_the_waiting_list_is_read_again_on_return_only_after_a_change(store, school, rased, make_pupil_case,
                                                                           monkeypatch):
    case = new_case(store, make_pupil_case, school)
    analyse(store, case, "2026-10-06", "E")
    reads = []
    read_rows = WaitingListScreen.read_rows
    monkeypatch.setattr(WaitingListScreen, "read_rows", lambda self: (reads.append(1), read_rows(self))[1])
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await press(pilot, "5")
        await press(pilot, "f1")
        await press(pilot, "escape")
        assert len(reads) == 1 and list(table_rows(screen, "waiting-table")) == [case.id]
        store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.CLOTURE, sub_kind="sans_suite",
                                      date="2026-11-20"))
        await press(pilot, "f1")
        await press(pilot, "escape")
        assert len(reads) == 2 and list(table_rows(screen, "waiting-table")) == []

"""The figures of the tableau de bord and of the bilan d'activité: the store's counts
(store/statistics.py), the report as text and as CSV (exchange/statistics.py), and
`rased-tui stats`.

Every figure is checked against a count made here in plain Python over the rows of the tables
(read with `SELECT *`, no GROUP BY), with the rules written the way a person states them: a
request belongs to the période `calendar.period_of` gives for its date (after the last one, to
the last one), an aid runs once it has begun and until it ends, a status is what
`domain.status.derive_status` makes of the timeline, a pupil is a pupil id counted once.
"""

from __future__ import annotations

import csv
import os
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from rased_tui.cli import main
from rased_tui.domain.calendar import period_of, school_year_of
from rased_tui.domain.enums import AidEndReason, ClassLevel, EntryKind
from rased_tui.domain.models import Aid, Case, Period, TimelineEntry
from rased_tui.domain.status import derive_status
from rased_tui.exchange.demo import generate_demo
from rased_tui.exchange.spreadsheet import CsvFormat
from rased_tui.exchange.statistics import CSV_HEADER, bar, build_report, csv_rows, render_text, write_csv
from rased_tui.store import Store, StoreError
from rased_tui.store.statistics import Delay, Figure, nearest_rank

TODAY = date(2026, 11, 21)
YEAR = "2026-2027"
PERIODS = ((date(2026, 9, 1), date(2026, 10, 16)), (date(2026, 11, 2), date(2026, 12, 18)),
           (date(2027, 1, 4), date(2027, 2, 12)), (date(2027, 3, 1), date(2027, 4, 16)),
           (date(2027, 5, 3), date(2027, 7, 3)))
# Names no report may ever print (the hand-made base's pupils, teacher and team).
SECRET_NAMES = ("Quenouille", "Zanzibar", "Vermicelle", "Périgourdin", "Xylophone")


# -- percentiles and bars ---------------------------------------------------------------------------


def test_nearest_rank_on_known_lists():
    assert nearest_rank([], 50) is None
    assert nearest_rank([7], 50) == nearest_rank([7], 90) == 7
    assert nearest_rank(range(1, 11), 50) == 5 and nearest_rank(range(1, 11), 90) == 9
    assert nearest_rank([40, 10, 30, 20], 50) == 20  # ⌈2⌉: the lower middle, a delay that happened
    assert nearest_rank([40, 10, 30, 20], 90) == 40  # ⌈3.6⌉ = 4
    assert nearest_rank([10, 20], 50) == 10 and nearest_rank([10, 20], 90) == 20
    assert nearest_rank(range(1, 101), 90) == 90 and nearest_rank(range(1, 102), 90) == 91
    delay = Delay("d", "D", (3, 5, 8, 13, 21), ("a",))
    assert (delay.count, delay.median, delay.p90) == (5, 8, 21)
    assert (Delay("d", "D", (), ()).median, Delay("d", "D", (), ()).p90) == (None, None)


def test_bars_scale_to_the_largest_figure():
    assert bar(10, 10, 4) == "████"
    assert bar(5, 10, 4) == "██"
    assert bar(1, 16, 4) == "▎"  # 2 eighths of a cell
    assert bar(1, 1000, 4) == "▏"  # small, but never invisible
    assert bar(0, 10, 4) == "" and bar(3, 0, 4) == ""


# -- an independent count ---------------------------------------------------------------------------


@dataclass
class Count:
    """What a figure should hold, counted by hand."""

    count: int = 0
    pupils: set = field(default_factory=set)
    groups: set = field(default_factory=set)
    cases: set = field(default_factory=set)

    def add(self, case: dict) -> None:
        self.count += 1
        self.cases.add(case["id"])
        if case["pupil_id"]:
            self.pupils.add(case["pupil_id"])
        else:
            self.groups.add(case["id"])

    def as_tuple(self) -> tuple:
        return (self.count, len(self.pupils), len(self.groups), self.cases)


def as_tuple(figure: Figure) -> tuple:
    return (figure.count, figure.pupils, figure.groups, set(figure.case_ids))


def read_base(store: Store) -> SimpleNamespace:
    """Every row the figures are made of, as plain dicts."""
    def rows(sql: str) -> list[dict]:
        return [dict(row) for row in store.connection.execute(sql)]

    base = SimpleNamespace(cases={case["id"]: case for case in rows("SELECT * FROM cases")},
                           aids=rows("SELECT * FROM aids"), levels=defaultdict(set), motifs=defaultdict(set),
                           entries=defaultdict(list))
    for row in rows("SELECT * FROM case_levels"):
        base.levels[row["case_id"]].add(row["level"])
    for row in rows("SELECT * FROM case_motifs"):
        base.motifs[row["case_id"]].add(row["motif"])
    for row in rows("SELECT * FROM timeline_entries"):
        base.entries[row["case_id"]].append(row)
    return base


def independent_figures(store: Store, school_year: str, period_number: int | None) -> dict:
    """Every figure of the store's statistics, counted here in Python."""
    base = read_base(store)
    periods = store.periods_of_year(school_year)
    start = int(school_year[:4])
    if period_number is None:
        span = (date(start, 8, 1), date(start + 1, 7, 31))
    else:
        period = next(p for p in periods if p.number == period_number)
        span = (period.start, period.end)

    def dated_in(text: str | None) -> bool:
        """A date that counts: in the year, and (a période chosen) in it or the holidays before,
        or for the last période, the days after it up to 31 July."""
        if text is None:
            return False
        day = date.fromisoformat(text)
        if school_year_of(day) != school_year:
            return False
        found = period_of(day, periods)
        number = found.number if found else max(p.number for p in periods)  # after the last one: in it
        return period_number is None or number == period_number

    counts: dict = defaultdict(lambda: defaultdict(Count))
    requests = [case for case in base.cases.values() if dated_in(case["date_sent"])]
    for case in requests:
        counts["requests"]["total"].add(case)
        counts["school"][case["school_id"]].add(case)
        counts["subject"][case["subject_kind"]].add(case)
        counts["requester"][case["requester"]].add(case)
        for level in base.levels[case["id"]] or {""}:
            counts["level"][level].add(case)
        for cycle in {str(ClassLevel(level).cycle) for level in base.levels[case["id"]]} or {""}:
            counts["cycle"][cycle].add(case)
        for motif in base.motifs[case["id"]]:
            counts["motif"][motif].add(case)
    for case in base.cases.values():
        if in_year(base, case, school_year) and (period_number is None or active_in(base, case, period)):
            counts["cases"]["total"].add(case)
            counts["status"][status_of(base, case["id"])].add(case)
    for aid in base.aids:
        first_day = date.fromisoformat(aid["start_date"])
        last_day = date.fromisoformat(aid["end_date"]) if aid["end_date"] else None
        begun = first_day <= TODAY  # an aid planned for later is not running yet
        overlaps = first_day <= span[1] and (last_day is None or last_day >= span[0])
        if aid["consent_status"] == "donne" and begun and overlaps:
            case = base.cases[aid["case_id"]]
            for name, key in (("aids", "total"), ("kind", aid["kind"]), ("modality", aid["modality"])):
                counts[name][key].add(case)
    for case_id, entries in base.entries.items():
        closures = sorted((e for e in entries if e["kind"] == "cloture" and dated_in(e["date"])),
                          key=lambda e: (e["date"], e["created_at"], e["id"]))
        if closures:
            counts["closures"]["total"].add(base.cases[case_id])
            counts["outcome"][closures[-1]["sub_kind"]].add(base.cases[case_id])
    return {"counts": counts, "delays": independent_delays(base, requests, dated_in)}


def in_year(base: SimpleNamespace, case: dict, school_year: str) -> bool:
    return case["school_year"] == school_year or any(e["to_school_year"] == school_year
                                                     for e in base.entries[case["id"]])


def active_in(base: SimpleNamespace, case: dict, period) -> bool:
    """Sent by the end of the période, and open at its start or reopened during it."""
    if case["date_sent"] > period.end.isoformat():
        return False
    turns = sorted((e for e in base.entries[case["id"]] if e["kind"] in ("cloture", "reouverture")),
                   key=lambda e: (e["date"], e["created_at"]))
    before = [e for e in turns if e["date"] < period.start.isoformat()]
    reopened = any(e["kind"] == "reouverture" and period.start.isoformat() <= e["date"] <= period.end.isoformat()
                   for e in turns)
    return not before or before[-1]["kind"] != "cloture" or reopened


def status_of(base: SimpleNamespace, case_id: str) -> str:
    entries = [SimpleNamespace(**entry) for entry in base.entries[case_id]]
    return derive_status(entries).value


def independent_delays(base: SimpleNamespace, requests: list[dict], dated_in) -> dict[str, list[int]]:
    def days(first: str, last: str) -> int:
        return (date.fromisoformat(last) - date.fromisoformat(first)).days

    delays: dict[str, list[int]] = {"analyse": [], "reponse": [], "aide": [], "duree_aides": []}
    for case in requests:
        entries = base.entries[case["id"]]
        analyses = [e["date"] for e in entries if e["kind"] == "analyse"]
        responses = [e["date"] for e in entries if e["kind"] in ("premiere_intention", "seconde_intention")]
        starts = [a["start_date"] for a in base.aids if a["case_id"] == case["id"] and a["consent_status"] == "donne"
                  and date.fromisoformat(a["start_date"]) <= TODAY]
        for key, dates in (("analyse", analyses), ("reponse", responses), ("aide", starts)):
            if dates:
                delays[key].append(days(case["date_sent"], min(dates)))
    delays["duree_aides"] = [days(a["start_date"], a["end_date"]) for a in base.aids
                             if a["consent_status"] == "donne" and dated_in(a["end_date"])]
    return {key: sorted(values) for key, values in delays.items()}


def assert_same_figures(store: Store, school_year: str, period_number: int | None) -> None:
    statistics = store.activity_statistics(school_year, period_number)
    expected = independent_figures(store, school_year, period_number)
    counts = expected["counts"]
    lists = {"school": statistics.by_school, "subject": statistics.by_subject, "requester": statistics.by_requester,
             "level": statistics.by_level, "cycle": statistics.by_cycle, "motif": statistics.by_motif,
             "status": statistics.by_status, "kind": statistics.aids_by_kind,
             "modality": statistics.aids_by_modality, "outcome": statistics.by_outcome}
    for name, figures in lists.items():
        got = {figure.key: as_tuple(figure) for figure in figures if figure.count}
        assert got == {key: count.as_tuple() for key, count in counts[name].items()}, name
        assert all(figure.case_ids == () for figure in figures if not figure.count), name
    for name, total in (("requests", statistics.requests), ("cases", statistics.cases), ("aids", statistics.aids),
                        ("closures", statistics.closures)):
        assert as_tuple(total) == counts[name]["total"].as_tuple(), name
    assert {delay.key: list(delay.days) for delay in statistics.delays} == expected["delays"]
    for delay in statistics.delays:
        assert delay.median == nearest_rank(expected["delays"][delay.key], 50)


# -- on a demo database --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo of 300 cases over 2025-2026 and 2026-2027, made once for the module."""
    path = tmp_path_factory.mktemp("stats") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", TODAY.isoformat())
        with Store.open(path) as store:
            generate_demo(store, cases=300, seed=7)
    return path


@pytest.fixture
def demo_store(demo):
    with Store.open(demo, read_only=True) as store:
        yield store


@pytest.mark.parametrize("school_year, period_number", [
    ("2026-2027", None), ("2025-2026", None), ("2025-2026", 1), ("2025-2026", 2), ("2025-2026", 3),
    ("2025-2026", 4), ("2025-2026", 5), ("2026-2027", 1), ("2026-2027", 2)])
def test_every_figure_of_a_demo_equals_an_independent_count(demo_store, school_year, period_number):
    assert_same_figures(demo_store, school_year, period_number)


def test_the_demo_has_something_to_count(demo_store):
    """Guard: the comparisons above compare real figures, not empty ones."""
    statistics = demo_store.activity_statistics("2025-2026")
    assert statistics.requests.count > 50 and statistics.requests.groups > 0
    assert statistics.aids.count > statistics.aids.pupils > 10  # some pupils have two aids
    assert statistics.closures.count > 10 and all(delay.count for delay in statistics.delays)
    assert sum(figure.count for figure in statistics.by_level) >= statistics.requests.count


def test_the_periodes_split_the_requests_of_the_year(demo_store):
    """Each request, closure and end of aid of the year falls in exactly one période: the five
    add up to the year."""
    whole = demo_store.activity_statistics("2025-2026")
    parts = [demo_store.activity_statistics("2025-2026", number) for number in range(1, 6)]
    by_period = [set(part.requests.case_ids) for part in parts]
    assert sum(map(len, by_period)) == len(set().union(*by_period))
    assert set().union(*by_period) == set(whole.requests.case_ids)
    assert sum(part.requests.count for part in parts) == whole.requests.count
    assert sum(part.closures.count for part in parts) >= whole.closures.count  # a case closed twice: in each
    ended = [{d.key: d for d in part.delays}["duree_aides"].count for part in parts]
    assert sum(ended) == {d.key: d for d in whole.delays}["duree_aides"].count
    # (the demo dates nothing after période 5: test_the_days_after_periode_5_count_in_it does)


def test_the_text_and_the_csv_name_no_pupil_and_no_teacher(demo_store, tmp_path):
    report = build_report(demo_store.activity_statistics("2025-2026"))
    text = render_text(report)
    write_csv(report, tmp_path / "bilan.csv", CsvFormat.EXCEL)
    written = (tmp_path / "bilan.csv").read_text(encoding="utf-8-sig")
    pupils = demo_store.connection.execute("SELECT first_name, last_name FROM pupils").fetchall()
    teachers = {row[0] for row in demo_store.connection.execute("SELECT teacher_name FROM cases WHERE teacher_name <> ''")}
    names = [f"{first} {last}" for first, last in pupils] + [f"{last} {first}" for first, last in pupils]
    assert len(names) > 100 and len(teachers) > 10
    for output in (text, written):
        assert not [name for name in names if name in output]
        assert not [teacher for teacher in teachers if teacher in output]
    school = demo_store.list_schools()[0].name
    assert school in text  # school names are no secret


# -- on hand-made cases ---------------------------------------------------------------------------------


@pytest.fixture
def hand_made(store, make_school, make_member, make_pupil_case):
    """Five requests of 2026-2027 and one carried over from 2025-2026 (see the test below)."""
    for number, (first, last) in enumerate(PERIODS, start=1):
        store.add_period(Period(school_year=YEAR, number=number, start_date=first, end_date=last, source="manuel"))
    school_a = store.add_school(make_school(name="École Jean-Jaurès"))
    school_b = store.add_school(make_school(name="École Pasteur"))
    members = {role: store.add_member(make_member(role=role, last_name=f"Membre {role}"))
               for role in ("maitre_e", "maitre_g", "psychologue")}
    lea = {"last_name": "Quenouille-Bastide", "first_name": "Léa", "birth_date": "2019-01-04"}
    cases = SimpleNamespace()
    cases.lea1 = store.add_case(make_pupil_case(school_a.id, lea, date_sent="2026-09-07", levels=["CE1"],
                                                motifs=["lecture", "attention"], teacher_name="M. Oscar Périgourdin"))
    lea_pupil = cases.lea1.pupil
    cases.lea2 = store.add_case(make_pupil_case(school_a.id, lea_pupil, date_sent="2026-10-20", levels=["CE1"],
                                                motifs=["comportement"], requester="famille"))
    cases.noe = store.add_case(make_pupil_case(school_b.id, {"last_name": "Zanzibar", "first_name": "Noé"},
                                               date_sent="2026-10-01", levels=["CP"], motifs=["mathematiques"],
                                               requester="directeur"))
    cases.classe = store.add_case(group_case(
        school_b.id, subject_kind="classe", teacher_name="M. Oscar Périgourdin", levels=["CM1", "CM2"],
        date_sent="2026-11-03", motifs=["comportement"], requester="conseil_cycle"))
    cases.equipe = store.add_case(group_case(
        school_a.id, subject_kind="equipe", team_reference="Équipe du cycle Xylophone", levels=[],
        date_sent="2026-09-15", motifs=["situation_crise"], requester="conseil_ecole"))
    cases.tom = store.add_case(make_pupil_case(school_a.id, {"last_name": "Vermicelle", "first_name": "Tom"},
                                               date_sent="2026-03-02", levels=["CP"]))

    def step(case, kind, day, sub_kind=None, **fields):
        return store.add_entry(TimelineEntry(case_id=case.id, kind=kind, sub_kind=sub_kind, date=day, **fields))

    def aid(case, role, kind, start, consent="donne", modality="petit_groupe"):
        new = Aid(case_id=case.id, member_id=members[role].id, kind=kind, modality=modality, start_date=start,
                  consent_status=consent, consent_form="ecrit" if consent == "donne" else None)
        store.open_aid(new, TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION,
                                          sub_kind="aide_specialisee", date=start, member_ids=[members[role].id]))
        return new

    step(cases.lea1, EntryKind.ANALYSE, "2026-09-14", text="Lecture")
    step(cases.lea1, EntryKind.PREMIERE_INTENTION, "2026-09-21", "contact")
    aid(cases.lea1, "maitre_e", "E", "2026-10-05")
    lea_g = aid(cases.lea1, "maitre_g", "G", "2026-10-12")
    store.end_aid(lea_g.id, date(2026, 11, 6), AidEndReason.OBJECTIFS_ATTEINTS)
    aid(cases.lea2, "psychologue", "psy", "2026-11-09", modality="individuel")
    step(cases.noe, EntryKind.ANALYSE, "2026-10-08", text="Calcul")
    aid(cases.noe, "maitre_e", "E", "2026-10-12", consent="refuse")
    store.close_case(TimelineEntry(case_id=cases.noe.id, kind=EntryKind.CLOTURE, sub_kind="sans_suite",
                                   date="2026-10-14"))
    step(cases.noe, EntryKind.REOUVERTURE, "2026-10-21")
    store.close_case(TimelineEntry(case_id=cases.noe.id, kind=EntryKind.CLOTURE, sub_kind="refus_famille",
                                   date="2026-11-16"))
    aid(cases.classe, "maitre_g", "G", "2026-11-16", modality="en_classe")
    step(cases.equipe, EntryKind.ANALYSE, "2026-09-16", text="Crise")
    step(cases.tom, EntryKind.ANALYSE, "2026-03-05", text="Entrée dans l'écrit")
    aid(cases.tom, "maitre_e", "E", "2026-03-16")
    step(cases.tom, EntryKind.REPORT, "2026-07-03", to_school_year=YEAR)
    return cases


def group_case(school_id: str, **fields) -> Case:
    """A request about a teacher, a team or a class (cas n°2): no pupil."""
    return Case(**{"school_id": school_id, "description": "Climat de classe difficile.", **fields})


def figure(figures: list[Figure], key: str) -> tuple:
    return as_tuple(next(f for f in figures if f.key == key))


def test_hand_made_year_counted_by_hand(store, hand_made):
    c = hand_made
    s = store.activity_statistics(YEAR)
    assert as_tuple(s.requests) == (5, 2, 2, {c.lea1.id, c.lea2.id, c.noe.id, c.classe.id, c.equipe.id})
    assert figure(s.by_subject, "eleve") == (3, 2, 0, {c.lea1.id, c.lea2.id, c.noe.id})
    assert figure(s.by_level, "CE1") == (2, 1, 0, {c.lea1.id, c.lea2.id})  # Léa twice: one pupil
    assert figure(s.by_level, "CM1") == figure(s.by_level, "CM2") == (1, 0, 1, {c.classe.id})
    assert figure(s.by_level, "") == (1, 0, 1, {c.equipe.id})  # a whole team: no level
    assert figure(s.by_cycle, "3") == (1, 0, 1, {c.classe.id})  # CM1-CM2 counts once in its cycle
    assert figure(s.by_cycle, "2") == (3, 2, 0, {c.lea1.id, c.lea2.id, c.noe.id})
    assert figure(s.by_motif, "comportement") == (2, 1, 1, {c.lea2.id, c.classe.id})
    assert [f.label for f in s.by_school] == ["École Jean-Jaurès", "École Pasteur"]  # the most requests first
    # aids: Léa has three (E and G in one case, psy in another), Tom one carried over, the
    # class one; Noé's refused aid is no aid
    assert as_tuple(s.aids)[:3] == (5, 2, 1)
    assert figure(s.aids_by_kind, "E") == (2, 2, 0, {c.lea1.id, c.tom.id})
    assert figure(s.aids_by_kind, "G") == (2, 1, 1, {c.lea1.id, c.classe.id})
    assert figure(s.aids_by_modality, "en_classe") == (1, 0, 1, {c.classe.id})
    assert as_tuple(s.cases)[:3] == (6, 3, 2)  # Tom's case shows in the year it was carried into
    assert figure(s.by_status, "cloturee") == (1, 1, 0, {c.noe.id})
    assert figure(s.by_outcome, "refus_famille") == (1, 1, 0, {c.noe.id})  # its last closure of the year
    assert figure(s.by_outcome, "sans_suite")[0] == 0
    delays = {d.key: d for d in s.delays}
    assert delays["analyse"].days == (1, 7, 7) and (delays["analyse"].median, delays["analyse"].p90) == (7, 7)
    assert delays["reponse"].days == (11, 13, 14, 20)  # Noé: the step proposing the aid he refused
    assert delays["aide"].days == (13, 20, 28) and delays["aide"].median == 20
    assert delays["duree_aides"].days == (25,) and delays["duree_aides"].case_ids == (c.lea1.id,)
    assert_same_figures(store, YEAR, None)


def test_hand_made_periodes(store, hand_made):
    c = hand_made
    first, second = store.activity_statistics(YEAR, 1), store.activity_statistics(YEAR, 2)
    assert first.scope.window == (date(2026, 8, 1), date(2026, 10, 16))
    assert second.scope.window == (date(2026, 10, 17), date(2026, 12, 18))  # the holidays before it in
    assert second.scope.span == PERIODS[1]
    assert set(first.requests.case_ids) == {c.lea1.id, c.noe.id, c.equipe.id}
    assert set(second.requests.case_ids) == {c.lea2.id, c.classe.id}  # Léa's 2nd: sent in the holidays
    assert as_tuple(first.aids)[:3] == (3, 2, 0)  # Léa E and G, Tom
    assert as_tuple(second.aids)[:3] == (5, 2, 1)  # Léa's G ended on 06/11, in the période
    assert figure(first.by_outcome, "sans_suite") == (1, 1, 0, {c.noe.id})
    assert figure(second.by_outcome, "refus_famille") == (1, 1, 0, {c.noe.id})
    assert {d.key: d.days for d in first.delays}["duree_aides"] == ()
    assert {d.key: d.days for d in second.delays}["aide"] == (13, 20)
    assert as_tuple(store.activity_statistics(YEAR, 3).requests) == (0, 0, 0, set())
    for number in range(1, 6):
        assert_same_figures(store, YEAR, number)


def test_an_unknown_periode_is_refused_in_french(store):
    store.add_period(Period(school_year=YEAR, number=1, start_date=PERIODS[0][0], end_date=PERIODS[0][1],
                            source="manuel"))
    with pytest.raises(StoreError, match="pas de période 4"):
        store.activity_statistics(YEAR, 4)


def test_an_empty_base_counts_zeros(store):
    s = store.activity_statistics(YEAR)
    assert s.requests.count == s.aids.count == s.cases.count == s.closures.count == 0
    assert all(figure.count == 0 for figure in s.by_motif) and len(s.by_motif) == 14
    assert all(delay.median is None for delay in s.delays)
    text = render_text(build_report(s))
    assert "Bilan d'activité 2026-2027" in text and "—" in text


# -- the report -----------------------------------------------------------------------------------------


def test_the_report_names_who_sends_it(store, hand_made):
    report = build_report(store.activity_statistics(YEAR), "Rouen Nord", "RASED de Maromme")
    assert render_text(report).splitlines()[2] == "Circonscription Rouen Nord · RASED de Maromme"
    assert {tuple(row[:2]) for row in csv_rows(report)[1:]} == {("Rouen Nord", "RASED de Maromme")}


def test_the_text_report_aligns_its_columns(store, hand_made):
    text = render_text(build_report(store.activity_statistics(YEAR, 2)))
    lines = text.splitlines()
    assert lines[0] == "Bilan d'activité 2026-2027 — période 2"
    unwrapped = " ".join(lines)
    assert "du 17/10/2026 au 18/12/2026" in unwrapped and "(les vacances qui précèdent la période" in unwrapped
    assert max(len(line) for line in lines) <= 100
    figure_lines = [line for line in lines if line.startswith("  ") and not line.startswith("  (")]
    assert len({len(line) for line in figure_lines}) == 1  # every number column ends at the same place
    requests = lines.index(next(line for line in lines if line.startswith("Demandes reçues par objet")))
    total = next(line for line in lines[requests:] if line.startswith("  Total"))
    assert total.split()[-3:] == ["2", "1", "1"]
    assert not [name for name in SECRET_NAMES if name in text]


def test_csv_rows_hold_every_figure_and_neutralise_texts(store, make_school, hand_made, make_pupil_case):
    formula = store.add_school(make_school(name="=HYPERLIEN(\"x\") école"))
    store.add_case(make_pupil_case(formula.id, {"first_name": "Ana"}, date_sent="2026-11-05"))
    rows = csv_rows(build_report(store.activity_statistics(YEAR)))
    assert tuple(rows[0]) == CSV_HEADER
    assert ["", "", "2026-2027", "toute l'année", "Demandes reçues par école", "'=HYPERLIEN(\"x\") école", 1, 1, 0, "", ""] \
        in rows
    assert ["", "", "2026-2027", "toute l'année", "Demandes reçues par objet", "Total", 6, 3, 2, "", ""] in rows
    assert ["", "", "2026-2027", "toute l'année", "Délais en jours", "Demande → première analyse", 3, "", "", 7, 7] in rows


# -- the command line -----------------------------------------------------------------------------------


def run(capsys, *arguments: str) -> tuple[int, str, str]:
    try:
        code = main(list(arguments))
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_csv(path, csv_format: CsvFormat) -> list[list[str]]:
    with open(path, encoding=csv_format.encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=csv_format.delimiter))


def test_cli_stats_prints_the_report_and_writes_the_csv(db_path, store, hand_made, tmp_path, capsys):
    target = tmp_path / "bilan.csv"
    code, out, err = run(capsys, "stats", "--db", str(db_path), "--annee", YEAR, "--csv", str(target))
    assert code == 0, err
    expected = build_report(store.activity_statistics(YEAR))
    assert out.startswith(render_text(expected)) and f"écrit : {target}" in out
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw and raw.count(b"\n") == raw.count(b"\r\n")
    rows = read_csv(target, CsvFormat.EXCEL)
    assert rows == [[str(cell) for cell in row] for row in csv_rows(expected)]
    by_label = {(row[4], row[5]): row for row in rows[1:]}
    assert by_label[("Aides en cours par type", "Total")][6:9] == ["5", "2", "1"]
    assert by_label[("Demandes reçues par niveau", "CE1")][6:9] == ["2", "1", "0"]
    assert not [name for name in SECRET_NAMES if name in out or name in raw.decode("utf-8-sig")]
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_cli_stats_of_a_periode_in_rfc4180(db_path, store, hand_made, tmp_path, capsys):
    target = tmp_path / "p2.csv"
    code, out, err = run(capsys, "stats", "--db", str(db_path), "--periode", "2", "--csv", str(target),
                         "--format", "rfc4180")
    assert code == 0, err  # the year: the current one (21/11/2026: 2026-2027)
    assert out.startswith("Bilan d'activité 2026-2027 — période 2\n")
    assert not target.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(target, CsvFormat.RFC4180)
    assert rows[0] == list(CSV_HEADER) and {row[3] for row in rows[1:]} == {"2"}
    requests = next(row for row in rows if row[4] == "Demandes reçues par objet" and row[5] == "Total")
    assert requests[6:9] == ["2", "1", "1"]


def test_cli_stats_errors_are_one_french_line(db_path, store, tmp_path, capsys):
    existing = tmp_path / "deja.csv"
    existing.write_text("à garder")
    for arguments, message in (
            (("--csv", str(existing)), "existe déjà"),
            (("--csv", str(tmp_path)), "est un dossier"),
            (("--annee", "2026"), "n'est pas une année scolaire"),
            (("--periode", "6"), "de 1 à 5")):
        code, out, err = run(capsys, "stats", "--db", str(db_path), *arguments)
        assert code in (1, 2) and len(err.strip().splitlines()) == 1 and message in err, err
        assert "Traceback" not in err
    assert existing.read_text() == "à garder"
    code, _, err = run(capsys, "stats", "--db", str(tmp_path / "absente.db"))
    assert code == 1 and "n'existe pas" in err
    assert not (tmp_path / "absente.db").exists()


def test_cli_stats_opens_the_base_read_only(db_path, store, hand_made, capsys, monkeypatch):
    opened = []
    real_open = Store.open.__func__

    def spy(cls, path, *, read_only=False):
        opened.append(read_only)
        return real_open(cls, path, read_only=read_only)

    monkeypatch.setattr(Store, "open", classmethod(spy))
    code, out, err = run(capsys, "stats", "--db", str(db_path))
    assert code == 0, err
    assert opened == [True] and "Demandes reçues par objet" in out


# -- in a real spreadsheet ----------------------------------------------------------------------------


@pytest.mark.libreoffice
def test_the_stats_csv_opens_in_libreoffice_as_numbers_and_texts(store, make_school, hand_made,
                                                                  make_pupil_case, tmp_path):
    from tests.test_spreadsheet_libreoffice import FRENCH_EXCEL, SOFFICE, convert, read_xlsx

    if SOFFICE is None:
        pytest.skip("LibreOffice (soffice) n'est pas installé")
    formula = store.add_school(make_school(name="=SOMME(1;2) école"))
    store.add_case(make_pupil_case(formula.id, {"first_name": "Ana"}, date_sent="2026-11-05"))
    target = tmp_path / "bilan.csv"
    report = build_report(store.activity_statistics(YEAR), "Rouen Nord", "-RASED de Maromme")
    write_csv(report, target, CsvFormat.EXCEL)
    sheet = read_xlsx(convert([target], FRENCH_EXCEL, tmp_path)[target.name])
    assert [cell.text for cell in sheet[0]] == list(CSV_HEADER)
    assert not [cell for row in sheet for cell in row if cell is not None and (cell.formula or cell.kind == "e")]
    assert {(row[0].text, row[1].text) for row in sheet[1:]} == {("Rouen Nord", "'-RASED de Maromme")}
    school = next(row for row in sheet if row[5] is not None and "SOMME" in row[5].text)
    assert school[5].is_text and school[5].text == "'=SOMME(1;2) école"
    assert school[6].kind == "n" and school[6].text == "1"
    years = {row[2].text for row in sheet[1:]}
    assert years == {"2026-2027"} and all(row[2].is_text for row in sheet[1:])  # not taken for a date
    delay = next(row for row in sheet if row[5] is not None and row[5].text == "Demande → première analyse")
    assert [cell.kind for cell in delay[6:7]] == ["n"] and delay[9].text == "7"


def test_dates_of_the_window_cover_the_year_without_gap(store, make_school, make_pupil_case, monkeypatch):
    monkeypatch.setenv("RASED_TUI_TODAY", "2027-07-31")  # the year over: a request of July can be written
    for number, (first, last) in enumerate(PERIODS, start=1):
        store.add_period(Period(school_year=YEAR, number=number, start_date=first, end_date=last, source="manuel"))
    windows = [store.statistics_scope(YEAR, number).window for number in range(1, 6)]
    assert windows[0][0] == date(2026, 8, 1)
    assert all(windows[i + 1][0] == windows[i][1] + timedelta(days=1) for i in range(4))
    assert store.statistics_scope(YEAR).window == (date(2026, 8, 1), date(2027, 7, 31))
    assert windows[4] == (date(2027, 4, 17), date(2027, 7, 31))  # période 5: up to the year's last day
    school = store.add_school(make_school())
    late = store.add_case(make_pupil_case(school.id, date_sent="2027-07-06"))  # after période 5's end (03/07)
    assert store.activity_statistics(YEAR, 5).requests.case_ids == (late.id,)
    assert store.activity_statistics(YEAR).requests.case_ids == (late.id,)
    assert [store.activity_statistics(YEAR, number).requests.count for number in range(1, 5)] == [0, 0, 0, 0]


def test_the_days_after_periode_5_count_in_it(store, make_school, make_member, make_pupil_case):
    """A request, a closure and an end of aid dated after période 5 and up to 31/07 count in
    période 5 as in the year: the five périodes add up to the year (2025-2026, over)."""
    last_year = "2025-2026"
    spans = ((date(2025, 9, 1), date(2025, 10, 17)), (date(2025, 11, 3), date(2025, 12, 19)),
             (date(2026, 1, 5), date(2026, 2, 13)), (date(2026, 3, 2), date(2026, 4, 17)),
             (date(2026, 5, 4), date(2026, 7, 3)))
    for number, (first, last) in enumerate(spans, start=1):
        store.add_period(Period(school_year=last_year, number=number, start_date=first, end_date=last,
                                source="manuel"))
    school = store.add_school(make_school())
    member = store.add_member(make_member(active_from="2025-09-01"))
    early = store.add_case(make_pupil_case(school.id, {"first_name": "Ana"}, date_sent="2026-05-11"))
    late = store.add_case(make_pupil_case(school.id, {"first_name": "Eva"}, date_sent="2026-07-06"))
    aid = Aid(case_id=early.id, member_id=member.id, kind="E", modality="petit_groupe", start_date="2026-05-18",
              consent_status="donne", consent_form="ecrit")
    store.open_aid(aid, TimelineEntry(case_id=early.id, kind=EntryKind.SECONDE_INTENTION,
                                      sub_kind="aide_specialisee", date="2026-05-18", member_ids=[member.id]))
    store.end_aid(aid.id, date(2026, 7, 10), AidEndReason.OBJECTIFS_ATTEINTS)
    store.close_case(TimelineEntry(case_id=early.id, kind=EntryKind.CLOTURE, sub_kind="sans_suite",
                                   date="2026-07-15"))
    assert store.statistics_scope(last_year, 5).window == (date(2026, 4, 18), date(2026, 7, 31))
    assert store.statistics_scope(last_year, 5).span == spans[4]  # the aids running: the période's own days
    for statistics in (store.activity_statistics(last_year), store.activity_statistics(last_year, 5)):
        assert set(statistics.requests.case_ids) == {early.id, late.id}
        assert statistics.closures.case_ids == (early.id,)
        assert {d.key: d.days for d in statistics.delays}["duree_aides"] == (53,)  # 18/05 → 10/07
    text = render_text(build_report(store.activity_statistics(last_year, 5)))
    assert "datées du 18/04/2026 au 31/07/2026" in " ".join(text.splitlines())
    for number in range(1, 5):
        statistics = store.activity_statistics(last_year, number)
        assert (statistics.requests.count, statistics.closures.count) == (0, 0)
        assert {d.key: d.days for d in statistics.delays}["duree_aides"] == ()
    for number in range(1, 6):
        assert_same_figures(store, last_year, number)


def test_an_aid_that_has_not_begun_is_not_running_yet(store, hand_made, make_member, make_pupil_case):
    """On 21/11/2026, an aid agreed to that starts on 01/03/2027 counts neither in 2026-2027
    nor in the current période, nor in période 4 where it will begin."""
    c = hand_made
    member = store.add_member(make_member(role="maitre_e", last_name="Membre à venir"))
    ana = store.add_case(make_pupil_case(c.lea1.school_id, {"last_name": "Quenouille", "first_name": "Ana"},
                                         date_sent="2026-11-05", levels=["CE2"]))
    later = Aid(case_id=ana.id, member_id=member.id, kind="E", modality="petit_groupe", start_date="2027-03-01",
                consent_status="donne", consent_form="ecrit")
    store.open_aid(later, TimelineEntry(case_id=ana.id, kind=EntryKind.SECONDE_INTENTION,
                                        sub_kind="aide_specialisee", date="2026-11-20", member_ids=[member.id]))
    running = {c.lea1.id, c.lea2.id, c.classe.id, c.tom.id}  # Léa E and psy, the class's G, Tom's E
    year, current, fourth = (store.activity_statistics(YEAR, number) for number in (None, 2, 4))
    assert as_tuple(year.aids) == (5, 2, 1, running | {c.lea1.id})  # and Léa's G, ended 06/11
    assert figure(year.aids_by_kind, "E") == (2, 2, 0, {c.lea1.id, c.tom.id})  # not Ana's
    assert as_tuple(current.aids) == (5, 2, 1, running)
    assert as_tuple(fourth.aids) == (4, 2, 1, running)  # open, begun: they may still run in March
    assert ana.id in year.requests.case_ids and ana.id not in year.aids.case_ids
    for number in (None, 2, 4):
        assert_same_figures(store, YEAR, number)

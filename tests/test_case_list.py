"""The list of cases as the "Dossiers" screen asks for it: filters, search and pages in SQL."""

from __future__ import annotations

import pytest

from rased_tui.domain.enums import Motif
from rased_tui.domain.filters import CaseFilter, StatusGroup
from rased_tui.domain.models import Aid, Case, Pupil, TimelineEntry

YEAR = "2026-2027"


@pytest.fixture
def listed(store, make_school, make_member, make_pupil_case):
    """Six cases of 2026-2027 and one of 2025-2026 carried into it, with known properties."""
    centre, tilleuls = store.add_school(make_school(name="École du Centre")), store.add_school(make_school(name="Les Tilleuls"))
    martin = store.add_member(make_member(last_name="Martin", role="maitre_e"))
    dubois = store.add_member(make_member(last_name="Dubois", role="maitre_g"))
    cases = {}

    def pupil_case(key, school, first, last, sent, **fields):
        pupil = Pupil(last_name=last, first_name=first, birth_date="2019-01-15")
        cases[key] = store.add_case(make_pupil_case(school.id, pupil=pupil, date_sent=sent, **fields))
        return cases[key]

    pupil_case("helene", centre, "Hélène", "Lefèvre", "2026-09-15", motifs=["lecture", "attention"])
    pupil_case("noe", centre, "Noé", "Martin", "2026-10-01", motifs=["mathematiques"], urgent=True)
    pupil_case("zoe", tilleuls, "Zoé", "N'Diaye", "2026-10-10", motifs=["comportement"])
    pupil_case("old", tilleuls, "Maël", "Dupré", "2026-06-10", motifs=["lecture"])  # 2025-2026
    cases["team"] = store.add_case(Case(subject_kind="equipe", team_reference="Équipe du cycle 2",
                                        school_id=tilleuls.id, requester="conseil_cycle", date_sent="2026-11-02",
                                        description="Climat de classe dégradé.", motifs=["situation_sensible"]))
    # Noé: analysed by Martin; Zoé: closed; the 2025-2026 case carried into 2026-2027 with an aid by Dubois
    store.add_entry(TimelineEntry(case_id=cases["noe"].id, kind="analyse", date="2026-10-03",
                                  text="Numération fragile", member_ids=[martin.id]))
    store.add_entry(TimelineEntry(case_id=cases["zoe"].id, kind="cloture", sub_kind="relais_enseignant",
                                  date="2026-11-05"))
    store.add_entry(TimelineEntry(case_id=cases["old"].id, kind="report", to_school_year=YEAR,
                                  date="2026-07-03", text="À suivre à la rentrée"))
    store.add_aid(Aid(case_id=cases["old"].id, member_id=dubois.id, kind="G", modality="petit_groupe",
                      start_date="2026-09-14", consent_status="donne", consent_form="ecrit"))
    return store, cases, {"centre": centre, "tilleuls": tilleuls, "martin": martin, "dubois": dubois}


def numbers(store, case_filter, offset=0, limit=100):
    return [row["number"] for row in store.case_page(case_filter, offset, limit)]


def test_the_year_holds_its_cases_and_those_carried_into_it_newest_first(listed):
    store, cases, _ = listed
    shown = numbers(store, CaseFilter(YEAR))
    assert shown == [cases[k].number for k in ("team", "zoe", "noe", "helene", "old")]
    assert store.count_cases(CaseFilter(YEAR)) == 5
    assert numbers(store, CaseFilter("2025-2026")) == [cases["old"].number]


def test_a_row_says_what_the_list_shows(listed):
    store, cases, _ = listed
    rows = {row["number"]: row for row in store.case_page(CaseFilter(YEAR), 0, 100)}
    noe = rows[cases["noe"].number]
    assert noe["subject"] == "Martin Noé" and noe["school"] == "École du Centre" and noe["levels"] == "CE1"
    assert noe["main_motif"] == "mathematiques" and noe["status"] == "en_analyse" and noe["urgent"] == 1
    assert noe["members"] == "Martin" and noe["last_entry"] == "2026-10-03" and noe["date_sent"] == "2026-10-01"
    team = rows[cases["team"].number]
    assert team["subject"] == "Équipe du cycle 2" and team["status"] == "recue" and team["members"] is None
    assert rows[cases["old"].number]["members"] == "Dubois"


@pytest.mark.parametrize("status, expected", [
    (StatusGroup.OUVERTS, {"team", "noe", "helene", "old"}),
    (StatusGroup.CLOTURES, {"zoe"}),
    (StatusGroup.TOUS, {"team", "zoe", "noe", "helene", "old"}),
])
def test_filter_by_status(listed, status, expected):
    store, cases, _ = listed
    case_filter = CaseFilter(YEAR, status=status)
    assert set(numbers(store, case_filter)) == {cases[k].number for k in expected}
    assert store.count_cases(case_filter) == len(expected)


def test_filter_by_school_member_motif_and_urgency(listed):
    store, cases, refs = listed
    by = lambda **kw: set(numbers(store, CaseFilter(YEAR, **kw)))  # noqa: E731
    assert by(school_id=refs["centre"].id) == {cases["noe"].number, cases["helene"].number}
    assert by(member_id=refs["martin"].id) == {cases["noe"].number}
    assert by(member_id=refs["dubois"].id) == {cases["old"].number}  # through the aid
    assert by(motif=Motif.ATTENTION) == {cases["helene"].number}  # any motif, not only the main one
    assert by(urgent_only=True) == {cases["noe"].number}
    assert by(school_id=refs["tilleuls"].id, status=StatusGroup.OUVERTS) == {cases["team"].number, cases["old"].number}


@pytest.mark.parametrize("typed, expected", [
    ("lefevre", {"helene"}), ("LEFÈVRE", {"helene"}), ("hel", {"helene"}), ("ndiaye", {"zoe"}),
    ("diaye", {"zoe"}), ("n'diaye", {"zoe"}), ("zoe", {"zoe"}), ("cycle", {"team"}),
    ("numeration", {"noe"}), ("2026-0002", {"noe"}), ("rentrée", {"old"}), ("", None),
    ('"', None), ("NEAR(", set()), ("*", None), ("'", None), ("-", None), ("lefe\x00vre", set()),
    ("OR", set()), ("number:2026", set()),
])
def test_search_ignores_case_and_accents(listed, typed, expected):
    store, cases, _ = listed
    shown = set(numbers(store, CaseFilter(YEAR, search=typed)))
    if expected is None:
        expected = {"team", "zoe", "noe", "helene", "old"}
    assert shown == {cases[k].number for k in expected}
    assert store.count_cases(CaseFilter(YEAR, search=typed)) == len(expected)


def test_pages_follow_each_other_without_overlap(listed):
    store, _, _ = listed
    everything = numbers(store, CaseFilter(YEAR))
    pages = numbers(store, CaseFilter(YEAR), 0, 2) + numbers(store, CaseFilter(YEAR), 2, 2) + \
        numbers(store, CaseFilter(YEAR), 4, 2)
    assert pages == everything and numbers(store, CaseFilter(YEAR), 6, 2) == []


def test_pages_of_a_search_follow_each_other_in_list_order(listed):
    store, cases, _ = listed
    found = CaseFilter(YEAR, search="m")  # four of the five cases
    everything = numbers(store, found)
    assert len(everything) == store.count_cases(found) == 4
    assert everything == [number for number in numbers(store, CaseFilter(YEAR)) if number in everything]
    assert numbers(store, found, 0, 1) + numbers(store, found, 1, 2) + numbers(store, found, 3, 10) == everything


def test_the_list_follows_what_this_connection_writes(listed, make_pupil_case):
    store, cases, refs = listed
    before = numbers(store, CaseFilter(YEAR))
    assert store.count_cases(CaseFilter(YEAR, search="lefevre")) == 1
    newest = store.add_case(make_pupil_case(refs["centre"].id, pupil=Pupil(
        last_name="Lefèvre", first_name="Jules", birth_date="2019-03-03"), date_sent="2026-11-12"))
    assert numbers(store, CaseFilter(YEAR)) == [newest.number, *before]
    assert store.count_cases(CaseFilter(YEAR, search="lefevre")) == 2
    store.add_entry(TimelineEntry(case_id=newest.id, kind="cloture", sub_kind="sans_suite", date="2026-11-13"))
    assert newest.number in numbers(store, CaseFilter(YEAR, status=StatusGroup.CLOTURES))


def test_the_list_follows_what_another_window_commits(listed, db_path):
    from rased_tui.store import Store

    store, cases, _ = listed
    assert store.count_cases(CaseFilter(YEAR, status=StatusGroup.OUVERTS)) == 4
    with Store.open(db_path) as other_window:
        other_window.add_entry(TimelineEntry(case_id=cases["helene"].id, kind="cloture", sub_kind="sans_suite",
                                             date="2026-11-12"))
    assert store.count_cases(CaseFilter(YEAR, status=StatusGroup.OUVERTS)) == 3
    assert cases["helene"].number in numbers(store, CaseFilter(YEAR, status=StatusGroup.CLOTURES))


def test_the_base_version_moves_with_each_write_here_or_elsewhere_and_not_with_a_read(listed, db_path):
    from rased_tui.store import Store

    store, cases, _ = listed
    version = store.base_version()
    store.count_cases(CaseFilter(YEAR))
    store.get_case(cases["noe"].id)
    assert store.base_version() == version
    store.set_setting("antenna", "Rouen Nord")
    assert store.base_version() != version
    version = store.base_version()
    with Store.open(db_path) as other_window:
        other_window.set_setting("antenna", "Rouen Sud")
    assert store.base_version() != version


# -- the screen ---------------------------------------------------------------------------------


async def test_a_renumbered_imported_case_shows_its_whole_number_even_at_80_by_24(tmp_path, make_school,
                                                                                  make_pupil_case):
    """Imported into a base that already has 2026-0001, a case becomes 2026-0001-<site>: the
    list must not cut it back to 2026-0001, which would look like the local case."""
    from textual.widgets import DataTable

    from rased_tui.app import RasedApp
    from rased_tui.exchange.export import ExportOptions, export_bundle
    from rased_tui.exchange.importer import import_bundle
    from rased_tui.store import Store

    with Store.open(tmp_path / "antenne.db") as origin:
        origin.set_setting("antenna", "Rouen Nord")
        school = origin.add_school(make_school())
        origin.add_case(make_pupil_case(school.id, pupil={"last_name": "Lefèvre", "first_name": "Noé"}))
        key = tmp_path / "cle"
        key.mkdir()
        bundle = export_bundle(origin, key, ExportOptions()).path
    with Store.open(tmp_path / "ien.db") as store:
        local = store.add_case(make_pupil_case(store.add_school(make_school()).id, date_sent="2026-10-06"))
        assert local.number == "2026-0001"
        import_bundle(store.path, bundle)
        numbers_here = sorted(row["number"] for row in store.case_page(CaseFilter(YEAR), 0, 10))
        [imported] = [number for number in numbers_here if number != local.number]
        assert imported.startswith("2026-0001-") and len(imported) > 10
        for size in ((120, 40), (80, 24)):
            app = RasedApp(store)
            async with app.run_test(size=size) as pilot:
                await pilot.pause()
                table = app.screen.query_one(DataTable)
                assert sorted(str(table.get_row_at(index)[0]) for index in range(table.row_count)) == numbers_here
                text = "\n".join("".join(segment.text for segment in strip)
                                 for strip in app.screen._compositor.render_strips())
                assert imported in text and local.number in text
                if size == (80, 24):  # the status still shows beside the wider number
                    assert "Reçue" in text or "reçue" in text.lower()

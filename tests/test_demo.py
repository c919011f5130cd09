"""The demo generator: deterministic, realistic, coherent data that the store accepts whole.

One database of 2000 cases is generated once for the module (on 21/11/2026) and examined by
most tests; the determinism tests build their own small databases.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import date

import pytest

from rased_tui.domain.calendar import parse_school_year
from rased_tui.domain.enums import AidKind, CaseStatus, Role
from rased_tui.domain.models import Aid, AidEvaluation, Member, Pupil, School, TimelineEntry, fold, uai_key_letter
from rased_tui.exchange.demo import DemoSummary, generate_demo
import rased_tui.store.store as store_module
from rased_tui.store import Store, StoreError

TODAY = "2026-11-21"
CASES = 2000
LEVEL_AGE = {"TPS": 2, "PS": 3, "MS": 4, "GS": 5, "CP": 6, "CE1": 7, "CE2": 8, "CM1": 9, "CM2": 10}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(store, summary, progress calls) of one demo database of 2000 cases, seed 1."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", TODAY)
        store = Store.open(tmp_path_factory.mktemp("demo") / "demo.db")
        calls: list[tuple[int, int]] = []
        summary = generate_demo(store, cases=CASES, seed=1, progress=lambda done, total: calls.append((done, total)))
        yield store, summary, calls
        store.close()


@pytest.fixture
def store(demo) -> Store:
    return demo[0]


@pytest.fixture
def db(store) -> sqlite3.Connection:
    return store.connection


def rows(db: sqlite3.Connection, sql: str, parameters: tuple = ()) -> list[tuple]:
    return [tuple(row) for row in db.execute(sql, parameters)]


def column(db: sqlite3.Connection, sql: str, parameters: tuple = ()) -> list:
    return [row[0] for row in db.execute(sql, parameters)]


# -- determinism ---------------------------------------------------------------------------

# Columns the store stamps with the time of writing (the timeline's created_at is the demo's own).
STAMPED = {"created_at", "updated_at"}
COMPARED_TABLES = ("settings", "schools", "members", "pupils", "cases", "case_levels", "case_motifs",
                   "case_prior_actions", "periods", "meetings", "aids", "aid_evaluations",
                   "timeline_entries", "timeline_entry_members")


def snapshot(path) -> dict[str, list[tuple]]:
    with sqlite3.connect(path) as connection:
        tables = {}
        for table in COMPARED_TABLES:
            columns = [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
            if table != "timeline_entries":
                columns = [name for name in columns if name not in STAMPED]
            tables[table] = sorted(connection.execute(f"SELECT {', '.join(columns)} FROM {table}").fetchall(),
                                   key=repr)
    return tables


def generate(path, cases: int, seed: int) -> DemoSummary:
    with Store.open(path) as store:
        return generate_demo(store, cases=cases, seed=seed)


def test_same_seed_same_day_gives_the_same_rows(tmp_path):
    first = generate(tmp_path / "a.db", 300, seed=7)
    second = generate(tmp_path / "b.db", 300, seed=7)
    assert first == second
    a, b = snapshot(tmp_path / "a.db"), snapshot(tmp_path / "b.db")
    for table in COMPARED_TABLES:
        assert a[table] == b[table], table
    assert len(a["timeline_entries"]) == first.entries


def test_rows_written_in_background_batches_are_the_same(tmp_path, monkeypatch):
    """A large load hands its rows to a writer thread in batches: small batches (hundreds of
    them, children often in a later batch than their parent) give the same base."""
    generate(tmp_path / "a.db", 300, seed=7)
    monkeypatch.setattr(store_module, "FLUSH_EVERY", 97)
    generate(tmp_path / "b.db", 300, seed=7)
    a, b = snapshot(tmp_path / "a.db"), snapshot(tmp_path / "b.db")
    for table in COMPARED_TABLES:
        assert a[table] == b[table], table
    with Store.open(tmp_path / "b.db") as store:
        assert store.check().ok
        assert store.counts()["cases"] == 300


def member_row(number: int, role: str = "maitre_e") -> dict[str, str]:
    return {"id": f"{number:08d}-0000-4000-8000-000000000000", "last_name": f"Membre {number}",
            "first_name": "Test", "role": role, "active_from": "2026-09-01",
            "created_at": "2026-09-01T08:00:00Z", "updated_at": "2026-09-01T08:00:00Z"}


def test_a_row_refused_in_a_background_batch_stops_the_load_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "FLUSH_EVERY", 50)
    with Store.open(tmp_path / "refus.db") as store:
        with pytest.raises(StoreError), store.bulk_load("essai"):
            for number in range(400):
                store._hold("members", member_row(number, role="voisin" if number == 120 else "maitre_e"))
        assert store.counts()["members"] == 0
        store.set_setting("zone", "A")  # the store is usable again
        assert store.check().ok


def test_another_seed_gives_other_data(tmp_path):
    generate(tmp_path / "a.db", 100, seed=1)
    generate(tmp_path / "b.db", 100, seed=2)
    a, b = snapshot(tmp_path / "a.db"), snapshot(tmp_path / "b.db")
    assert a["cases"] != b["cases"]
    assert a["settings"] == b["settings"]


# -- volumes and shape ---------------------------------------------------------------------

def test_summary_matches_the_database_and_the_request(demo):
    store, summary, _ = demo
    counts = store.counts()
    assert summary.cases == counts["cases"] == CASES
    assert summary == DemoSummary(schools=counts["schools"], members=counts["members"], pupils=counts["pupils"],
                                  cases=counts["cases"], entries=counts["timeline_entries"],
                                  aids=counts["aids"], evaluations=counts["aid_evaluations"])
    assert 20 <= summary.schools <= 30
    assert 15 <= summary.members <= 25
    assert summary.entries > 3 * CASES and summary.aids > CASES // 4 and summary.evaluations > summary.aids


def test_progress_is_reported_every_few_hundred_cases(demo):
    _, _, calls = demo
    assert calls[-1] == (CASES, CASES)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert 4 <= len(calls) <= 20


def test_one_bulk_load_leaves_one_summary_in_the_audit_and_an_intact_store(store, db):
    assert store.check().ok
    imports = rows(db, "SELECT after FROM audit_log WHERE action = 'import'")
    assert len(imports) == 1 and "démo : 2000 dossiers (graine 1)" in imports[0][0]
    assert column(db, "SELECT count(*) FROM audit_log WHERE table_name NOT IN ('*', 'settings')") == [0]
    assert store.get_setting("circonscription") == "Rouen Nord"
    assert store.get_setting("zone") == "B"
    assert store.get_setting("search_suspended") is None


def test_cases_spread_over_the_school_days_of_four_years(db):
    by_year = dict(rows(db, "SELECT school_year, count(*) FROM cases GROUP BY school_year"))
    assert sorted(by_year) == ["2023-2024", "2024-2025", "2025-2026", "2026-2027"]
    # Full years grow a little; on 21/11 the current year is under three months old.
    assert by_year["2023-2024"] < by_year["2024-2025"] < by_year["2025-2026"]
    assert by_year["2025-2026"] * 0.15 < by_year["2026-2027"] < by_year["2025-2026"] * 0.5
    assert column(db, "SELECT count(*) FROM periods") == [20]
    assert column(db, "SELECT count(*) FROM meetings WHERE kind = 'ordinaire'") == [20]
    assert column(db, "SELECT DISTINCT request_deadline_days FROM meetings") == [6]


def test_subjects_requesters_and_motifs_are_plausible(db):
    subjects = dict(rows(db, "SELECT subject_kind, count(*) FROM cases GROUP BY subject_kind"))
    assert set(subjects) == {"eleve", "enseignant", "equipe", "classe"}
    assert 0.80 <= subjects["eleve"] / CASES <= 0.90
    assert column(db, "SELECT count(*) FROM cases WHERE subject_kind = 'equipe' AND team_reference = ''") == [0]
    assert column(db, "SELECT count(*) FROM cases WHERE subject_kind IN ('enseignant', 'classe')"
                      " AND teacher_name = ''") == [0]
    urgent = column(db, "SELECT count(*) FROM cases WHERE urgent = 1")[0]
    assert 0.05 <= urgent / CASES <= 0.11
    main_motifs = rows(db, "SELECT motif, count(*) FROM case_motifs WHERE rank = 1 GROUP BY motif"
                           " ORDER BY count(*) DESC")
    assert main_motifs[0][0] == "lecture" and len(main_motifs) >= 10
    assert len(column(db, "SELECT DISTINCT requester FROM cases")) >= 5
    assert column(db, "SELECT count(*) FROM case_prior_actions")[0] > CASES
    assert column(db, "SELECT count(*) FROM cases WHERE parents_informed_on IS NOT NULL")[0] > CASES // 2


# -- schools and the pôle ------------------------------------------------------------------

def test_schools_have_valid_uai_codes_and_every_kind(store, db):
    schools = store.list_schools()
    for school in schools:
        assert re.fullmatch(r"076\d{4}[A-Z]", school.uai)
        assert school.uai[7] == uai_key_letter(school.uai[:7])
        School.model_validate(school.model_dump())
    assert {school.kind.value for school in schools} == {"maternelle", "elementaire", "primaire"}
    assert {"rep", "rep_plus"} <= {school.priority_education.value for school in schools}


def test_the_pole_has_a_complete_rased_antenna_and_the_circonscription_staff(store):
    members = store.list_members()
    roles = [member.role for member in members]
    assert roles.count(Role.MAITRE_E) >= 1 and roles.count(Role.MAITRE_G) >= 1 and Role.PSYCHOLOGUE in roles
    assert {Role.IEN, Role.CPC, Role.REFERENT_HANDICAP, Role.ERUN, Role.COORDO_PIAL, Role.COORDO_ULIS,
            Role.INFIRMIER, Role.ASSISTANT_SOCIAL} <= set(roles)
    rased = [member for member in members if member.role.is_rased]
    assert all(member.capacity and member.antenna for member in rased)
    left = [member for member in members if member.active_to is not None]
    assert len(left) == 1 and left[0].role is Role.MAITRE_G
    assert date(2025, 9, 1) < left[0].active_to < date(2026, 7, 1)
    today = date.fromisoformat(TODAY)
    for kind in AidKind:
        assert any(member.role is kind.role and member.is_active_on(today) for member in members)


# -- pupils --------------------------------------------------------------------------------

def test_names_carry_accents_apostrophes_and_hyphens(db):
    names = rows(db, "SELECT first_name, last_name FROM pupils")
    first_names = {first for first, _ in names}
    last_names = {last for _, last in names}
    assert {"Zoé", "Noémie", "Maël", "Bérénice"} & first_names
    assert any("-" in name for name in first_names)
    assert any("'" in name for name in last_names)
    assert any(re.search(r"[éèêëàâîïôöûüçœ]", name) for name in last_names)


def test_homonyms_and_twins_are_present(db):
    homonyms = column(db, "SELECT name_key FROM pupils GROUP BY name_key HAVING count(DISTINCT birth_date) > 1")
    assert homonyms
    twins = rows(db, "SELECT a.id, b.id FROM pupils a JOIN pupils b ON a.last_name = b.last_name"
                     " AND a.birth_date = b.birth_date AND a.first_name < b.first_name")
    assert twins


def test_some_pupils_have_requests_in_several_years(db):
    assert column(db, "SELECT count(*) FROM (SELECT pupil_id FROM cases WHERE pupil_id IS NOT NULL"
                      " GROUP BY pupil_id HAVING count(DISTINCT school_year) > 1)")[0] > 10


def test_birth_dates_fit_the_class_level(db):
    checked = 0
    for school_year, level, birth in rows(
            db, "SELECT c.school_year, l.level, p.birth_date FROM cases c JOIN case_levels l ON l.case_id = c.id"
                " JOIN pupils p ON p.id = c.pupil_id"):
        age = parse_school_year(school_year) - date.fromisoformat(birth).year  # age reached in the rentrée's year
        assert age in (LEVEL_AGE[level], LEVEL_AGE[level] + 1), (school_year, level, birth)
        checked += 1
    assert checked > CASES * 0.8


def test_search_finds_a_pupil_by_their_name_without_accents(store, db):
    pupil_id, first, last = rows(
        db, "SELECT p.id, p.first_name, p.last_name FROM pupils p WHERE p.first_name IN ('Zoé', 'Maël', 'Noémie', "
            "'Bérénice', 'Héloïse', 'Anaïs') ORDER BY p.id LIMIT 1")[0]
    assert fold(first) != first.casefold()
    found = set(store.search_case_ids(f"{fold(first)} {fold(last)}"))
    assert set(column(db, "SELECT id FROM cases WHERE pupil_id = ?", (pupil_id,))) <= found


# -- timelines -----------------------------------------------------------------------------

def test_every_status_is_reached(db):
    statuses = set(column(db, "SELECT DISTINCT status FROM case_status"))
    assert statuses == {status.value for status in CaseStatus}


def test_old_years_are_closed_and_the_current_one_busy(db):
    def open_share(year: str) -> float:
        total, still_open = rows(
            db, "SELECT count(*), sum(s.status NOT IN ('cloturee', 'classee_sans_suite')) FROM cases c"
                " JOIN case_status s ON s.case_id = c.id WHERE c.school_year = ?", (year,))[0]
        return still_open / total

    assert open_share("2023-2024") <= 0.02
    assert open_share("2024-2025") <= 0.05
    assert open_share("2026-2027") >= 0.5


def test_no_date_is_after_today(db):
    dated = {"cases": ("date_sent", "date_received", "parents_informed_on"),
             "pupils": ("birth_date",), "members": ("active_from", "active_to"),
             "timeline_entries": ("date", "substr(created_at, 1, 10)"),
             "aids": ("start_date", "end_date", "consent_date", "consent_withdrawn_on"),
             "aid_evaluations": ("date",)}
    for table, columns in dated.items():
        for name in columns:
            assert column(db, f"SELECT count(*) FROM {table} WHERE {name} > ?", (TODAY,)) == [0], (table, name)


def test_every_row_passes_the_domain_rules_as_of_today(db):
    """The rules for new records (no date in the future...) hold for every generated row."""
    members = {}
    for row in db.execute("SELECT m.entry_id, m.member_id FROM timeline_entry_members m"):
        members.setdefault(row[0], []).append(row[1])
    for row in db.execute("SELECT * FROM timeline_entries"):
        TimelineEntry.model_validate({**{k: row[k] for k in row.keys() if k != "updated_at"},
                                      "member_ids": members.get(row["id"], [])})
    for row in db.execute("SELECT * FROM aids"):
        Aid.model_validate({k: row[k] for k in row.keys() if k not in STAMPED})
    for row in db.execute("SELECT id, aid_id, date, phase, observations, score FROM aid_evaluations"):
        AidEvaluation.model_validate(dict(row))
    for row in db.execute("SELECT id, last_name, first_name, birth_date FROM pupils"):
        Pupil.model_validate(dict(row))
    for row in db.execute("SELECT * FROM members"):
        Member.model_validate({k: row[k] for k in row.keys() if k not in STAMPED})


def test_cases_are_valid_models(store, db):
    for case_id in column(db, "SELECT id FROM cases ORDER BY id LIMIT 300"):
        case = store.get_case(case_id)
        type(case).model_validate(case.model_dump())


def test_dates_follow_each_other(db):
    queries = {
        "entry before the request": "SELECT count(*) FROM timeline_entries e JOIN cases c ON c.id = e.case_id"
                                    " WHERE e.date < c.date_sent OR e.date < coalesce(c.date_received, c.date_sent)",
        "request before birth": "SELECT count(*) FROM cases c JOIN pupils p ON p.id = c.pupil_id"
                                " WHERE c.date_sent <= p.birth_date",
        "aid before the analysis": "SELECT count(*) FROM aids a WHERE a.start_date < (SELECT min(e.date)"
                                   " FROM timeline_entries e WHERE e.case_id = a.case_id AND e.kind = 'analyse')",
        "consent after the start": "SELECT count(*) FROM aids WHERE consent_date > start_date",
        "aid ends before it starts": "SELECT count(*) FROM aids WHERE end_date < start_date",
        "evaluation outside its aid": "SELECT count(*) FROM aid_evaluations v JOIN aids a ON a.id = v.aid_id"
                                      " WHERE v.date < a.start_date OR v.date > coalesce(a.end_date, '9999')",
        "created_at against date": "SELECT count(*) FROM timeline_entries WHERE substr(created_at, 1, 10) <> date",
    }
    for what, sql in queries.items():
        assert column(db, sql) == [0], what


def test_timeline_order_of_recording_follows_the_dates(db):
    previous: dict[str, tuple[str, str]] = {}
    for case_id, day, created in rows(db, "SELECT case_id, date, created_at FROM timeline_entries"
                                          " ORDER BY case_id, created_at"):
        if case_id in previous:
            assert day >= previous[case_id][0] and created > previous[case_id][1]
        previous[case_id] = (day, created)


def test_analyses_name_a_problematique_and_members(db):
    assert column(db, "SELECT count(*) FROM timeline_entries WHERE kind = 'analyse' AND text = ''") == [0]
    assert column(db, "SELECT count(*) FROM timeline_entries e WHERE kind = 'analyse' AND NOT EXISTS"
                      " (SELECT 1 FROM timeline_entry_members m WHERE m.entry_id = e.id)") == [0]
    assert column(db, "SELECT count(*) FROM timeline_entries WHERE kind = 'analyse'"
                      " AND meeting_id IS NOT NULL")[0] > 0


def test_every_kind_of_step_and_response_appears(db):
    kinds = set(rows(db, "SELECT DISTINCT kind, coalesce(sub_kind, '') FROM timeline_entries"))
    for expected in [("analyse", ""), ("premiere_intention", "contact"),
                     ("premiere_intention", "observation_classe"),
                     ("premiere_intention", "entretien_explicitation"), ("seconde_intention", "aide_specialisee"),
                     ("seconde_intention", "orientation_partenaire"),
                     ("seconde_intention", "accompagnement_professionnel"), ("seconde_intention", "formation_ciblee"),
                     ("bilan", ""), ("cloture", "sans_suite"), ("cloture", "objectifs_atteints"),
                     ("cloture", "relais_enseignant"), ("reouverture", ""), ("report", ""), ("note", "")]:
        assert expected in kinds, expected
    partners = set(column(db, "SELECT DISTINCT partner FROM timeline_entries WHERE partner IS NOT NULL"))
    assert {"cmpp", "camsp", "sessad"} <= partners
    shared = column(db, "SELECT count(*) FROM (SELECT action_id FROM timeline_entries WHERE action_id IS NOT NULL"
                        " GROUP BY action_id HAVING count(DISTINCT case_id) > 1)")
    assert shared[0] > 0


def test_carry_overs_point_to_the_next_school_year(db):
    carried = rows(db, "SELECT c.school_year, e.to_school_year, e.date FROM timeline_entries e"
                       " JOIN cases c ON c.id = e.case_id WHERE e.kind = 'report'")
    assert len(carried) > 10
    for _, to_year, day in carried:
        assert parse_school_year(to_year) in (date.fromisoformat(day).year, date.fromisoformat(day).year + 1)
    assert any(parse_school_year(to) == parse_school_year(year) + 1 for year, to, _ in carried)


def test_the_psychologues_notes_are_confidential(db):
    notes = rows(db, "SELECT e.confidential, m.role FROM timeline_entries e JOIN members m"
                     " ON m.id = e.author_member_id WHERE e.kind = 'note'")
    assert notes and all(confidential == 1 and role == "psychologue" for confidential, role in notes)


# -- aids ----------------------------------------------------------------------------------

def test_psychological_aids_all_have_written_consent(db):
    assert column(db, "SELECT count(*) FROM aids WHERE kind = 'psy'")[0] > 20
    assert column(db, "SELECT count(*) FROM aids WHERE kind = 'psy' AND consent_status = 'donne'"
                      " AND consent_form IS NOT 'ecrit'") == [0]
    assert set(column(db, "SELECT DISTINCT consent_status FROM aids")) == {"donne", "refuse", "en_attente"}


def test_each_aid_is_given_by_a_member_of_its_kind_in_post(db):
    role_of_kind = {kind.value: kind.role.value for kind in AidKind}
    for kind, role, start, active_from, active_to in rows(
            db, "SELECT a.kind, m.role, a.start_date, m.active_from, m.active_to FROM aids a"
                " JOIN members m ON m.id = a.member_id"):
        assert role == role_of_kind[kind]
        assert active_from <= start and (active_to is None or start <= active_to)


def test_closed_aids_have_an_end_and_open_ones_fill_the_caseloads(store, db):
    assert column(db, "SELECT count(*) FROM aids WHERE (end_date IS NULL) <> (end_reason IS NULL)") == [0]
    reasons = set(column(db, "SELECT DISTINCT end_reason FROM aids WHERE end_reason IS NOT NULL"))
    assert {"objectifs_atteints", "fin_annee", "passation", "retrait_consentement"} <= reasons
    today = date.fromisoformat(TODAY)
    for member in store.list_members():
        if member.role.is_rased and member.is_active_on(today):
            assert store.open_aids_of_member(member.id), member.full_name
    open_before = column(db, "SELECT count(*) FROM aids a JOIN cases c ON c.id = a.case_id"
                             " WHERE a.end_date IS NULL AND c.school_year < '2025-2026'")
    assert open_before == [0]


def test_evaluations_are_scored_at_each_phase(db):
    phases = dict(rows(db, "SELECT phase, count(*) FROM aid_evaluations GROUP BY phase"))
    assert set(phases) == {"debut", "intermediaire", "fin"}
    assert column(db, "SELECT count(*) FROM aid_evaluations WHERE score NOT BETWEEN 0 AND 10"
                      " OR observations = ''") == [0]


def test_some_urgent_requests_of_the_last_days_still_wait(db):
    waiting = column(db, "SELECT count(*) FROM cases c JOIN case_status s ON s.case_id = c.id"
                         " WHERE c.urgent = 1 AND s.status = 'recue' AND c.school_year = '2026-2027'")
    assert waiting[0] >= 1

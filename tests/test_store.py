"""The store: round trips, numbering, search, the file (permissions, pragmas, refusals),
migrations, backups and the audit chain."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from rased_tui.domain.enums import CaseStatus, Motif
from rased_tui.domain.models import (
    Aid,
    AidEvaluation,
    Case,
    Meeting,
    Period,
    PriorActionItem,
    TimelineEntry,
)
from rased_tui.store import SCHEMA_VERSION, Store, StoreError
from rased_tui.store import audit as audit_module
from rased_tui.store import migrations, opening

POSIX = os.name == "posix"
ROOT = POSIX and os.geteuid() == 0
posix_only = pytest.mark.skipif(not POSIX, reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def audit_rows(store: Store) -> list[sqlite3.Row]:
    return store.connection.execute("SELECT * FROM audit_log ORDER BY seq").fetchall()


@pytest.fixture
def school(store, make_school):
    return store.add_school(make_school(uai="0761234D", name="École élémentaire Jean-Moulin"))


@pytest.fixture
def saved_db(tmp_path, make_school, make_pupil_case) -> Path:
    """A closed rased-tui database holding one school and one case."""
    path = tmp_path / "saved" / "rased.db"
    with Store.open(path) as store:
        school = store.add_school(make_school())
        store.add_case(make_pupil_case(school.id))
    return path


# -- round trips ---------------------------------------------------------------------------------


def test_school_round_trip(store, make_school):
    school = make_school(commune="Déville-lès-Rouen", kind="maternelle", priority_education="rep_plus")
    store.add_school(school)
    assert store.get_school(school.id) == school
    changed = school.model_copy(update={"name": "École maternelle Les Tilleuls", "active": False})
    store.update_school(changed)
    assert store.get_school(school.id) == changed
    assert store.list_schools(active_only=True) == []
    assert store.list_schools() == [changed]
    assert store.get_school("0" * 36) is None


def test_member_round_trip(store, make_member):
    member = make_member(role="psychologue", active_to="2027-07-04", capacity=40, first_name="Éloïse")
    store.add_member(member)
    assert store.get_member(member.id) == member
    changed = member.model_copy(update={"capacity": 35})
    store.update_member(changed)
    assert store.get_member(member.id) == changed
    other = store.add_member(make_member(last_name="Abel", role="cpc"))
    assert [m.id for m in store.list_members()] == [other.id, member.id]  # by last name


def test_pupil_case_round_trip(store, school, make_pupil_case):
    case = make_pupil_case(
        school.id, pupil={"last_name": "N'Diaye-Lefèvre", "first_name": "Zoé"}, levels=["CP"],
        dispositif="ulis", handicap=True, aesh=False, urgent=True, date_received="2026-10-07",
        parents_informed_on="2026-10-06", requester="conseil_cycle", requester_detail="Cycle 2",
        motifs=["comportement_severe", "autre", "lecture"], other_motif="Mise en danger",
        prior_actions=[PriorActionItem(action="ppre", detail="depuis septembre"),
                       PriorActionItem(action="apc")])
    saved = store.add_case(case)
    got = store.get_case(case.id)
    assert got.model_dump(exclude={"prior_actions"}) == saved.model_dump(exclude={"prior_actions"})
    assert {(item.action, item.detail) for item in got.prior_actions} == {("ppre", "depuis septembre"), ("apc", "")}
    assert got.motifs[0] == "comportement_severe"  # the main motif stays first
    assert got.pupil == case.pupil
    assert store.get_pupil(case.pupil.id) == case.pupil
    assert store.get_case_by_number(saved.number) == got
    assert store.get_case("0" * 36) is None and store.get_case_by_number("2026-9999") is None


def test_class_case_round_trip(store, school):
    case = Case(subject_kind="classe", teacher_name="M. Lebœuf", levels=["CE1", "CP"], school_id=school.id,
                requester="enseignant", date_sent="2026-09-20", description="Classe agitée après un deuil.",
                motifs=["situation_crise", "comportement"])
    saved = store.add_case(case)
    got = store.get_case(case.id)
    assert got == saved
    assert got.pupil is None and [level.value for level in got.levels] == ["CP", "CE1"]
    team = Case(subject_kind="equipe", team_reference="Conseil d'école", school_id=school.id,
                requester="conseil_ecole", date_sent="2026-09-21", description="Conflit avec des parents.",
                motifs=["conflit_parents"])
    assert store.get_case(store.add_case(team).id) == store.get_case_by_number("2026-0002")


def test_a_pupil_keeps_one_record_across_cases(store, school, make_pupil_case):
    first = store.add_case(make_pupil_case(school.id, date_sent="2025-11-03", levels=["CP"]))
    second = store.add_case(make_pupil_case(school.id, pupil=first.pupil, date_sent="2026-10-01"))
    assert store.counts()["pupils"] == 1
    assert [c.id for c in store.cases_of_pupil(first.pupil.id)] == [first.id, second.id]


def test_timeline_entry_round_trip(store, school, make_member, make_pupil_case):
    case = store.add_case(make_pupil_case(school.id))
    e_teacher = store.add_member(make_member())
    psy = store.add_member(make_member(role="psychologue", last_name="Garnier"))
    meeting = store.add_meeting(Meeting(school_year="2026-2027", period_number=2, date="2026-11-10"))
    aid = store.add_aid(Aid(case_id=case.id, member_id=e_teacher.id, kind="E", modality="petit_groupe",
                            start_date="2026-10-12", consent_status="donne", consent_form="oral"))
    entry = TimelineEntry(case_id=case.id, kind="seconde_intention", sub_kind="orientation_partenaire",
                          partner="cmpp", date="2026-11-10", text="Orientation vers le CMPP.\nRendez-vous pris.",
                          meeting_id=meeting.id, aid_id=aid.id, action_id="a" * 36, author_member_id=psy.id,
                          member_ids=[psy.id, e_teacher.id, psy.id])
    saved = store.add_entry(entry)
    assert saved.created_at and saved.created_at.endswith("Z")
    [got] = store.list_entries(case.id, include_confidential=True)
    assert sorted(got.member_ids) == sorted({psy.id, e_teacher.id})
    assert got.model_dump(exclude={"member_ids"}) == saved.model_dump(exclude={"member_ids"})


def test_timeline_order_and_confidential_filter(store, school, make_pupil_case, make_member):
    case = store.add_case(make_pupil_case(school.id))
    psychologue = store.add_member(make_member(role="psychologue"))
    late = store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-20", text="b"))
    early = store.add_entry(TimelineEntry(case_id=case.id, kind="analyse", date="2026-10-10", text="a"))
    secret = store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-15", author_member_id=psychologue.id,
                                           text="Note de la psychologue", confidential=True))
    assert [e.id for e in store.list_entries(case.id, include_confidential=True)] == [early.id, secret.id, late.id]
    assert [e.id for e in store.list_entries(case.id, include_confidential=False)] == [early.id, late.id]


def test_aid_and_evaluation_round_trip(store, school, make_member, make_pupil_case):
    case = store.add_case(make_pupil_case(school.id))
    psy = store.add_member(make_member(role="psychologue"))
    aid = Aid(case_id=case.id, member_id=psy.id, kind="psy", modality="individuel", sessions_per_week=0.5,
              objectives="Restaurer l'estime de soi.", start_date="2026-10-12", expected_weeks=12,
              consent_status="donne", consent_form="ecrit", consent_date="2026-10-05",
              consent_by="Mère et père")
    store.add_aid(aid)
    assert store.get_aid(aid.id) == aid
    assert store.list_aids(case.id) == [aid]
    assert store.open_aids_of_member(psy.id) == [aid]
    evaluation = AidEvaluation(aid_id=aid.id, date="2026-10-12", phase="debut", observations="Repli.", score=3)
    store.add_evaluation(evaluation)
    later = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-20", phase="intermediaire"))
    assert store.list_evaluations(aid.id) == [evaluation, later]
    ended = Aid(**{**aid.model_dump(), "end_date": "20/11/2026", "end_reason": "objectifs_atteints"})
    store.update_aid(ended)
    assert store.get_aid(aid.id) == ended
    assert store.open_aids_of_member(psy.id) == []


def test_period_and_meeting_round_trip(store):
    period = Period(school_year="2026-2027", number=2, start_date="03/11/2026", end_date="18/12/2026",
                    zone="B", source="officiel")
    first = Period(school_year="2026-2027", number=1, start_date="2026-09-01", end_date="2026-10-16")
    store.add_period(period)
    store.add_period(first)
    assert store.list_periods("2026-2027") == [first, period]
    assert store.list_periods("2025-2026") == []
    urgent = Meeting(school_year="2026-2027", date="2026-10-02", kind="urgente", notes="Situation de crise")
    ordinary = Meeting(school_year="2026-2027", period_number=1, date="2026-09-25")
    store.add_meeting(urgent)
    store.add_meeting(ordinary)
    assert store.list_meetings("2026-2027") == [ordinary, urgent]


def test_settings(store):
    assert store.get_setting("circonscription") is None
    assert store.get_setting("circonscription", "?") == "?"
    store.set_setting("circonscription", "Rouen Nord")
    store.set_setting("circonscription", "Rouen Sud")
    assert store.get_setting("circonscription") == "Rouen Sud"
    rows = [row for row in audit_rows(store) if row["table_name"] == "settings"]
    assert [(json.loads(r["before"]) if r["before"] else None, json.loads(r["after"])) for r in rows] == [
        (None, {"value": "Rouen Nord"}), ({"value": "Rouen Nord"}, {"value": "Rouen Sud"})]


def test_refused_write_leaves_nothing_behind(store, school, make_school, make_pupil_case):
    before_counts = store.counts()
    with pytest.raises(StoreError, match="Une école porte déjà ce code UAI"):
        store.add_school(make_school(uai=school.uai))  # same UAI twice
    with pytest.raises(StoreError, match="Enregistrement refusé : il renvoie à une fiche qui n'existe pas"):
        store.add_case(make_pupil_case("f" * 36))  # no such school: pupil, counter and case rolled back
    assert store.counts() == before_counts
    assert store.add_case(make_pupil_case(school.id)).number == "2026-0001"


# -- numbering -----------------------------------------------------------------------------------


def test_numbering_per_school_year(store, school, make_pupil_case):
    numbers = [store.add_case(make_pupil_case(school.id, date_sent=day)).number
               for day in ("2026-09-10", "2026-06-15", "2026-10-01", "2026-08-20", "2025-09-02")]
    # June 2026 and September 2025 are 2025-2026; August 2026 already belongs to 2026-2027.
    assert numbers == ["2026-0001", "2025-0001", "2026-0002", "2026-0003", "2025-0002"]
    case = store.get_case_by_number("2025-0002")
    assert (case.school_year, case.sequence) == ("2025-2026", 2)


def test_numbers_are_never_reused(store, school, make_pupil_case):
    store.add_case(make_pupil_case(school.id))
    last = store.add_case(make_pupil_case(school.id))
    assert last.number == "2026-0002"
    with store.transaction():
        store.connection.execute("DELETE FROM cases WHERE id = ?", (last.id,))
    assert store.add_case(make_pupil_case(school.id)).number == "2026-0003"


# -- finding pupils and searching ---------------------------------------------------------------


def test_find_pupils_ignores_accents_and_case(store, school, make_pupil_case):
    first = store.add_case(make_pupil_case(school.id)).pupil  # Hélène Dupré, 14/03/2019
    homonym = store.add_case(make_pupil_case(
        school.id, pupil={"last_name": "DUPRE", "first_name": "helene", "birth_date": "2018-05-02"},
        levels=["CE2"])).pupil
    store.add_case(make_pupil_case(school.id, pupil={"first_name": "Hélèna"}))
    found = store.find_pupils("dupré", "HELENE")
    assert [p.id for p in found] == [homonym.id, first.id]  # two pupils, oldest first
    assert found[1] == first
    assert store.find_pupils("  Dupre ", "Hélène ") == found
    assert store.find_pupils("Dupont", "Hélène") == []


@pytest.fixture
def searchable(store, school, make_pupil_case):
    """Three cases: Hélène Dupré, Théo Martin (teacher Mme Lebœuf), and a class of M. Durand."""
    helene = store.add_case(make_pupil_case(school.id))
    theo = store.add_case(make_pupil_case(school.id, pupil={"last_name": "Martin", "first_name": "Théo"},
                                          teacher_name="Mme Lebœuf", description="Agitation en classe.",
                                          motifs=["comportement"]))
    klass = store.add_case(Case(subject_kind="classe", teacher_name="M. Durand", levels=["CM1"],
                                school_id=school.id, requester="enseignant", date_sent="2026-10-02",
                                description="Climat de classe dégradé.", motifs=["comportement"]))
    return helene, theo, klass


def test_search_ignores_accents_and_case(store, searchable):
    helene, theo, _ = searchable
    assert store.search_case_ids("helene") == [helene.id]
    assert store.search_case_ids("HÉLÈNE dupre") == [helene.id]
    assert store.search_case_ids("theo") == [theo.id]


def test_search_by_prefix_number_and_teacher(store, searchable):
    helene, theo, klass = searchable
    assert store.search_case_ids("hél") == [helene.id]
    assert store.search_case_ids("dup hel") == [helene.id]
    assert store.search_case_ids(helene.number) == [helene.id]
    assert store.search_case_ids("lebœuf") == [theo.id]
    assert store.search_case_ids("durand") == [klass.id]
    assert store.search_case_ids("agitation") == [theo.id]
    assert store.search_case_ids("zzz") == []
    assert store.search_case_ids("   ") == []


@pytest.mark.parametrize("query", ['"', "*", "(", "AND", "NEAR(", "-x", "hel*ene", "a:b", "'"])
def test_search_never_fails_on_odd_input(store, searchable, query):
    assert isinstance(store.search_case_ids(query), list)


def test_search_finds_entry_texts_but_not_confidential_ones(store, searchable, make_member):
    helene, theo, _ = searchable
    psychologue = store.add_member(make_member(role="psychologue"))
    store.add_entry(TimelineEntry(case_id=helene.id, kind="note", date="2026-10-20",
                                  text="Bilan orthophonique demandé"))
    store.add_entry(TimelineEntry(case_id=theo.id, kind="note", date="2026-10-21", author_member_id=psychologue.id,
                                  text="Père incarcéré, enfant très affecté", confidential=True))
    assert store.search_case_ids("orthophonique") == [helene.id]
    assert store.search_case_ids("incarcere") == []
    assert store.search_case_ids("affecte") == []
    # Adding another entry rebuilds the document: the confidential text must still stay out.
    store.add_entry(TimelineEntry(case_id=theo.id, kind="analyse", date="2026-10-22", text="Problématique : deuil"))
    assert store.search_case_ids("deuil") == [theo.id]
    assert store.search_case_ids("incarcere") == []


def test_search_finds_aid_objectives(store, searchable, make_member):
    helene, _, _ = searchable
    member = store.add_member(make_member())
    store.add_aid(Aid(case_id=helene.id, member_id=member.id, kind="E", modality="petit_groupe",
                      objectives="Conscience phonologique", start_date="2026-10-12",
                      consent_status="en_attente"))
    assert store.search_case_ids("phonologique") == [helene.id]


def test_renaming_a_pupil_updates_the_search_index(store, searchable):
    helene, _, _ = searchable
    with store.transaction():
        store.connection.execute(
            "UPDATE pupils SET last_name = 'Lemaître', name_key = 'lemaitre helene' WHERE id = ?",
            (helene.pupil.id,))
    assert store.search_case_ids("lemaitre") == [helene.id]
    assert store.search_case_ids("dupre") == []


def test_bulk_load_writes_one_audit_row_and_rebuilds_the_index(store, school, make_pupil_case):
    before = len(audit_rows(store))
    with store.bulk_load("3 dossiers importés"):
        for first_name in ("Inès", "Noé", "Maëlys"):
            store.add_case(make_pupil_case(school.id, pupil={"first_name": first_name}))
    rows = audit_rows(store)[before:]
    assert [(r["action"], json.loads(r["after"])) for r in rows] == [("import", {"resume": "3 dossiers importés"})]
    assert len(store.search_case_ids("maelys")) == 1 and len(store.search_case_ids("dupre")) == 3
    assert store.get_setting("search_suspended") is None
    assert store.verify_audit().intact


def test_failed_bulk_load_leaves_nothing(store, school, make_pupil_case):
    before = store.counts()
    with pytest.raises(RuntimeError), store.bulk_load("interrompu"):
        store.add_case(make_pupil_case(school.id))
        raise RuntimeError("coupure")
    assert store.counts() == before
    assert store.get_setting("search_suspended") is None
    assert store.add_case(make_pupil_case(school.id)).number == "2026-0001"
    assert store.search_case_ids("helene") != []


# -- the file: permissions and pragmas -----------------------------------------------------------


@posix_only
def test_new_file_and_folders_are_private(tmp_path):
    old_umask = os.umask(0)  # even with a permissive umask
    try:
        path = tmp_path / "données" / "rased" / "rased.db"
        with Store.open(path) as store:
            store.set_setting("zone", "B")
            assert mode(path) == 0o600
            assert mode(Path(f"{path}-wal")) == 0o600
            assert mode(path.parent) == 0o700
            assert mode(path.parent.parent) == 0o700
    finally:
        os.umask(old_umask)
    assert sorted(p.name for p in path.parent.iterdir()) == ["rased.db"]  # no scratch file left


def test_pragmas(store):
    connection = store.connection
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert connection.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert connection.execute("PRAGMA application_id").fetchone()[0] == opening.APPLICATION_ID
    assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == store.check().schema_version


def test_foreign_keys_are_enforced(store, school, make_pupil_case):
    case = store.add_case(make_pupil_case(school.id))
    with pytest.raises(StoreError, match="Enregistrement refusé"):
        store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-10",
                                      author_member_id="9" * 36))


def test_reopening_keeps_the_data(saved_db):
    with Store.open(saved_db) as store:
        assert store.counts()["cases"] == 1
        assert store.get_case_by_number("2026-0001").pupil.first_name == "Hélène"


# -- refusals: one French sentence, the file untouched -------------------------------------------


def assert_refused(path: Path, pattern: str, *, read_only_too: bool = True) -> None:
    before = digest(path)
    for read_only in (False, True) if read_only_too else (False,):
        with pytest.raises(StoreError, match=pattern) as caught:
            Store.open(path, read_only=read_only)
        message = str(caught.value)
        assert "\n" not in message and "Traceback" not in message
        assert digest(path) == before, f"{path.name} modified by a refused opening"


def test_refuses_a_directory(tmp_path):
    folder = tmp_path / "dossier.db"
    folder.mkdir()
    for read_only in (False, True):
        with pytest.raises(StoreError, match="est un dossier, pas un fichier"):
            Store.open(folder, read_only=read_only)
    assert list(folder.iterdir()) == []


def test_refuses_an_empty_file(tmp_path):
    path = tmp_path / "vide.db"
    path.touch()
    assert_refused(path, r"est vide \(0 octet\)")


def test_refuses_a_text_file(tmp_path):
    path = tmp_path / "eleves.db"
    path.write_text("nom;prénom;naissance\nDupré;Hélène;14/03/2019\n", encoding="utf-8")
    assert_refused(path, "n'est pas une base de données SQLite")


def test_refuses_a_truncated_database(saved_db, tmp_path):
    data = saved_db.read_bytes()
    assert len(data) > 4 * 4096
    cut = tmp_path / "coupee.db"
    cut.write_bytes(data[: 3 * 4096])
    assert_refused(cut, "est tronqué")
    header_only = tmp_path / "entete.db"
    header_only.write_bytes(data[:60])
    assert_refused(header_only, "est tronqué")


def test_refuses_a_sqlite_file_of_another_program(tmp_path):
    path = tmp_path / "autre.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE contacts (nom TEXT)")
        connection.execute("INSERT INTO contacts VALUES ('Dupont')")
    connection.close()
    assert_refused(path, "d'un autre programme")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["autre.db"]  # no -wal/-shm left beside it


def test_refuses_a_rased_file_without_schema_version(saved_db):
    with sqlite3.connect(saved_db) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute("PRAGMA user_version = 0")
    connection.close()
    assert_refused(saved_db, "pas de version de schéma connue")


@pytest.mark.parametrize("journal", ["WAL", "DELETE"])
def test_refuses_a_newer_schema(saved_db, journal):
    with sqlite3.connect(saved_db) as connection:
        connection.execute(f"PRAGMA journal_mode = {journal}")
        connection.execute("PRAGMA user_version = 99")
    connection.close()
    assert_refused(saved_db, r"version plus récente de rased-tui \(schéma 99")


@posix_only
@pytest.mark.skipif(ROOT, reason="root may write to a 0400 file")
def test_refuses_to_write_to_a_read_only_file(saved_db):
    os.chmod(saved_db, 0o400)
    assert_refused(saved_db, "n'est pas accessible en écriture (pour seulement le consulter : --lecture-seule)",
                   read_only_too=False)
    with Store.open(saved_db, read_only=True) as store:
        assert store.counts()["cases"] == 1


def test_refuses_to_write_to_a_read_only_file_emulated(saved_db, monkeypatch):
    """The same refusal when tests run as root (who may write anything): os.access says no."""
    real_access = os.access

    def access(path, how, *args, **kwargs):
        if how & os.W_OK and Path(path) == saved_db:
            return False
        return real_access(path, how, *args, **kwargs)

    monkeypatch.setattr(opening.os, "access", access)
    assert_refused(saved_db, "n'est pas accessible en écriture", read_only_too=False)
    with Store.open(saved_db, read_only=True) as store:
        assert store.counts()["cases"] == 1


def test_read_only_store_refuses_writes(saved_db, make_school):
    before = digest(saved_db)
    with Store.open(saved_db, read_only=True) as store:
        assert store.read_only
        assert len(store.list_schools()) == 1
        assert store.search_case_ids("helene")
        assert store.check().ok
        with pytest.raises(StoreError, match="lecture seule"):
            store.add_school(make_school())
        with pytest.raises(StoreError, match="lecture seule"):
            store.set_setting("zone", "A")
        with pytest.raises(StoreError, match="lecture seule"):
            with store.transaction():
                pass
        assert len(store.list_schools()) == 1
    assert digest(saved_db) == before


def test_read_only_store_refuses_writes_even_by_hand(saved_db):
    with Store.open(saved_db, read_only=True) as store:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store.connection.execute("DELETE FROM settings")


def test_read_only_refuses_a_missing_file(tmp_path):
    with pytest.raises(StoreError, match="n'existe pas"):
        Store.open(tmp_path / "absent.db", read_only=True)
    assert not (tmp_path / "absent.db").exists()


# -- migration from schema version 1 -------------------------------------------------------------


@pytest.fixture
def version_1_db(tmp_path) -> Path:
    """A database as rased-tui's schema version 1 made it, with one school, pupil and case."""
    path = tmp_path / "ancienne" / "rased.db"
    path.parent.mkdir()
    connection = sqlite3.connect(path)
    connection.executescript((Path(__file__).parent / "data" / "schema_v1.sql").read_text(encoding="utf-8"))
    now = "2025-10-01T08:00:00.000000Z"
    connection.execute(
        "INSERT INTO schools (id, uai, name, kind, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        ("1" * 8 + "-1111-4111-8111-" + "1" * 12, "0761234D", "École Jean-Moulin", "primaire", now, now))
    connection.execute(
        "INSERT INTO pupils (id, last_name, first_name, birth_date, name_key, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        ("2" * 8 + "-2222-4222-8222-" + "2" * 12, "Dupré", "Hélène", "2018-02-01", "dupre helene", now, now))
    connection.execute(
        "INSERT INTO cases (id, number, school_year, sequence, subject_kind, pupil_id, school_id, requester,"
        " date_sent, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        ("3" * 8 + "-3333-4333-8333-" + "3" * 12, "2025-0007", "2025-2026", 7, "eleve",
         "2" * 8 + "-2222-4222-8222-" + "2" * 12, "1" * 8 + "-1111-4111-8111-" + "1" * 12, "enseignant",
         "2025-09-30", "Lecture très hésitante.", now, now))
    connection.execute("INSERT INTO case_levels VALUES (?, 'CE1')", ("3" * 8 + "-3333-4333-8333-" + "3" * 12,))
    connection.execute("INSERT INTO case_motifs VALUES (?, 'lecture', 1)", ("3" * 8 + "-3333-4333-8333-" + "3" * 12,))
    connection.execute("INSERT INTO case_counters VALUES ('2025-2026', 7)")
    audit_module.append(connection, at=now, actor="os:rased", action="ajout", table="cases",
                        row_id="3" * 8 + "-3333-4333-8333-" + "3" * 12, before=None, after={"number": "2025-0007"})
    connection.commit()
    connection.close()
    return path


def user_version(path: Path) -> int:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA user_version").fetchone()[0]
    finally:
        connection.close()


def dump(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def test_migration_from_version_1(version_1_db):
    original = dump(version_1_db)
    assert user_version(version_1_db) == 1
    with Store.open(version_1_db) as store:
        assert store.connection.execute("PRAGMA user_version").fetchone()[0] == migrations.SCHEMA_VERSION
        [case_id] = store.search_case_ids("helene")
        case = store.get_case(case_id)
        assert case.number == "2025-0007" and case.pupil.full_name == "Hélène Dupré"
        assert store.search_case_ids("hesitante") == [case_id]
        assert store.case_status(case_id) is CaseStatus.RECUE
        assert store.check().ok
        # The counter carried over: the next number of 2025-2026 is 0008.
        again = store.add_case(case.model_copy(update={"id": "4" * 8 + "-4444-4444-8444-" + "4" * 12,
                                                       "number": None}))
        assert again.number == "2025-0008"
    [copy] = version_1_db.parent.glob("rased.avant-migration-v1-*")
    assert copy.name.endswith(".db")
    if POSIX:
        assert mode(copy) == 0o600
    assert user_version(copy) == 1
    assert dump(copy) == original  # the content exactly as it was before the migration
    with Store.open(version_1_db) as store:  # opening again migrates nothing more
        assert store.counts()["cases"] == 2
    assert len(list(version_1_db.parent.glob("*avant-migration*"))) == 1


def test_old_schema_is_not_migrated_in_read_only_mode(version_1_db):
    before = digest(version_1_db)
    with pytest.raises(StoreError, match=r"schéma ancien \(1\)"):
        Store.open(version_1_db, read_only=True)
    assert digest(version_1_db) == before
    assert list(version_1_db.parent.glob("*avant-migration*")) == []


def test_failed_migration_leaves_the_file_at_its_old_version(version_1_db, monkeypatch):
    def broken_step(connection):
        connection.execute("CREATE TABLE half_done (x)")
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setitem(migrations.MIGRATIONS, 1, broken_step)
    with pytest.raises(StoreError, match="disque"):
        Store.open(version_1_db)
    assert user_version(version_1_db) == 1
    connection = sqlite3.connect(version_1_db)
    names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    connection.close()
    assert "half_done" not in names and "case_search" not in names


def test_migration_refused_when_no_copy_can_be_made(version_1_db, monkeypatch):
    before = digest(version_1_db)

    def no_room(path):
        raise PermissionError(13, "Permission non accordée", str(path))

    monkeypatch.setattr(opening, "create_private_file", no_room)
    with pytest.raises(StoreError, match="Impossible de mettre une copie .* de côté.*rien n'a été modifié"):
        Store.open(version_1_db)
    assert digest(version_1_db) == before
    assert user_version(version_1_db) == 1


# -- backups -------------------------------------------------------------------------------------


def test_backup(store, school, make_pupil_case, tmp_path):
    store.add_case(make_pupil_case(school.id))
    target = tmp_path / "cle-usb" / "sauvegarde.db"
    store.backup_to(target)
    if POSIX:
        assert mode(target) == 0o600
        assert mode(target.parent) == 0o700
    assert target.read_bytes()[18:20] == b"\x01\x01"  # rollback journal: one self-contained file
    with Store.open(target, read_only=True) as copy:
        assert copy.counts() == store.counts()
        assert copy.check().ok
        assert copy.search_case_ids("helene")
    assert sorted(p.name for p in target.parent.iterdir()) == ["sauvegarde.db"]


def test_backup_refuses_an_existing_target(store, tmp_path):
    target = tmp_path / "existe.db"
    target.write_text("à garder")
    with pytest.raises(StoreError, match="existe déjà"):
        store.backup_to(target)
    assert target.read_text() == "à garder"


def test_backup_while_another_program_writes(saved_db, tmp_path, make_school):
    with Store.open(saved_db) as app, Store.open(saved_db) as other:
        app.add_school(make_school())
        writer = sqlite3.connect(saved_db, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("INSERT INTO settings (key, value) VALUES ('pas_encore', 'non validé')")
            other.backup_to(tmp_path / "pendant.db")
            writer.execute("ROLLBACK")
        finally:
            writer.close()
        with Store.open(tmp_path / "pendant.db", read_only=True) as copy:
            assert copy.counts() == app.counts()
            assert copy.get_setting("pas_encore") is None  # uncommitted work is not copied
            assert copy.check().ok


def test_backup_from_a_read_only_store(saved_db, tmp_path):
    with Store.open(saved_db, read_only=True) as store:
        store.backup_to(tmp_path / "copie-ien.db")
    with Store.open(tmp_path / "copie-ien.db", read_only=True) as copy:
        assert copy.counts()["cases"] == 1


# -- the audit chain -----------------------------------------------------------------------------


def test_every_write_appends_chained_rows(store, school, make_member, make_pupil_case):
    actions = []

    def count() -> int:
        return len(audit_rows(store))

    start = count()
    assert start == 1  # the school
    member = store.add_member(make_member())
    actions.append(count() - start)
    case = store.add_case(make_pupil_case(school.id))  # a new pupil and the case
    actions.append(count() - start)
    store.add_entry(TimelineEntry(case_id=case.id, kind="analyse", date="2026-10-10", text="Lecture"))
    aid = store.add_aid(Aid(case_id=case.id, member_id=member.id, kind="E", modality="individuel",
                            start_date="2026-10-12", consent_status="donne", consent_form="oral"))
    store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-10-12", phase="debut"))
    store.add_period(Period(school_year="2026-2027", number=1, start_date="2026-09-01", end_date="2026-10-16"))
    store.add_meeting(Meeting(school_year="2026-2027", date="2026-10-01"))
    store.set_setting("zone", "B")
    store.update_school(school.model_copy(update={"commune": "Maromme"}))
    actions.append(count() - start)
    assert actions == [1, 3, 10]

    rows = audit_rows(store)
    assert rows[0]["prev_hash"] == audit_module.GENESIS_HASH
    for previous, row in zip(rows, rows[1:]):
        assert row["prev_hash"] == previous["hash"]
        assert row["seq"] == previous["seq"] + 1
    for row in rows:
        assert row["hash"] == audit_module.chain_hash(
            row["prev_hash"], row["at"], row["actor"], row["action"], row["table_name"], row["row_id"],
            row["before_digest"], row["after_digest"])
        assert row["before_digest"] == audit_module.digest(row["before"])
        assert row["after_digest"] == audit_module.digest(row["after"])
        assert row["at"].endswith("Z")
    assert [r["table_name"] for r in rows] == [
        "schools", "members", "pupils", "cases", "timeline_entries", "aids", "aid_evaluations",
        "periods", "meetings", "settings", "schools"]
    case_row = json.loads(rows[3]["after"])
    assert case_row["number"] == "2026-0001" and case_row["motifs"] == ["lecture"]
    assert case_row["pupil_id"] == case.pupil.id and case_row["levels"] == ["CE1"]
    assert store.verify_audit().intact and store.verify_audit().rows == len(rows)


def test_actor_is_the_os_user_then_the_member(store, make_school, make_member):
    member = store.add_member(make_member())
    store.act_as(member.id)
    store.add_school(make_school())
    store.act_as(None)
    store.set_setting("zone", "C")
    actors = [row["actor"] for row in audit_rows(store)]
    assert actors[0] == f"os:{audit_module.operating_system_user()}" and actors[0] != "os:"
    assert actors[1] == f"membre:{member.id}"
    assert actors[2] == actors[0]


def test_update_keeps_before_and_after(store, school):
    store.update_school(school.model_copy(update={"name": "École Simone-Veil"}))
    row = audit_rows(store)[-1]
    assert (row["action"], row["table_name"], row["row_id"]) == ("modification", "schools", school.id)
    before, after = json.loads(row["before"]), json.loads(row["after"])
    assert before["name"] == "École élémentaire Jean-Moulin" and after["name"] == "École Simone-Veil"
    assert before["uai"] == after["uai"] == "0761234D"


def test_update_of_a_missing_record(store, make_school):
    with pytest.raises(StoreError, match="introuvable"):
        store.update_school(make_school())
    assert audit_rows(store) == []


def test_audit_log_refuses_update_and_delete(store, school):
    with pytest.raises(sqlite3.DatabaseError, match="modification interdite"):
        store.connection.execute("UPDATE audit_log SET actor = 'os:intrus'")
    with pytest.raises(sqlite3.DatabaseError, match="suppression interdite"):
        store.connection.execute("DELETE FROM audit_log")
    assert store.verify_audit().intact


@pytest.fixture
def audited_db(saved_db, make_school) -> Path:
    """A closed database with a few audit rows (school, pupil, case, two schools)."""
    with Store.open(saved_db) as store:
        store.add_school(make_school())
        store.add_school(make_school())
        assert len(audit_rows(store)) == 5
    return saved_db


def tamper(path: Path, *statements: str) -> None:
    """Edit the file by hand, as someone with the sqlite3 shell would."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            connection.execute(statement)
    finally:
        connection.close()


def chain_report(path: Path):
    with Store.open(path, read_only=True) as store:
        return store.verify_audit(), store.check()


NO_UPDATE = "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END"
NO_DELETE = "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'x'); END"


def test_intact_chain_and_check(audited_db):
    report, check = chain_report(audited_db)
    assert report.intact and report.rows == 5 and report.problem is None
    assert check.ok and check.integrity == "ok" and check.foreign_key_errors == 0
    assert check.schema_version == SCHEMA_VERSION and check.counts["audit_log"] == 5


def test_edited_audit_row_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_update",
           "UPDATE audit_log SET actor = 'os:quelquun' WHERE seq = 2", NO_UPDATE)
    report, check = chain_report(audited_db)
    assert not report.intact and not check.ok
    assert report.problem == "ligne 2 du journal modifiée après coup"
    assert check.integrity == "ok"  # the file itself is sound: only the chain tells


def test_edited_audit_row_with_recomputed_hash_is_detected_by_the_next_row(audited_db):
    connection = sqlite3.connect(audited_db, isolation_level=None)
    connection.row_factory = sqlite3.Row
    row = connection.execute("SELECT * FROM audit_log WHERE seq = 2").fetchone()
    forged = audit_module.chain_hash(row["prev_hash"], row["at"], "os:quelquun", row["action"], row["table_name"],
                                     row["row_id"], row["before_digest"], row["after_digest"])
    connection.close()
    tamper(audited_db, "DROP TRIGGER audit_log_no_update",
           f"UPDATE audit_log SET actor = 'os:quelquun', hash = '{forged}' WHERE seq = 2", NO_UPDATE)
    report, _ = chain_report(audited_db)
    assert not report.intact and "ligne 3" in report.problem and "chaînage rompu" in report.problem


def test_deleted_middle_row_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq = 3", NO_DELETE)
    report, check = chain_report(audited_db)
    assert not report.intact and not check.ok
    assert "supprimée" in report.problem and "3" in report.problem


def test_deleted_first_row_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq = 1", NO_DELETE)
    report, _ = chain_report(audited_db)
    assert not report.intact and "ligne 2" in report.problem


def test_deleted_last_row_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log WHERE seq = 5", NO_DELETE)
    report, _ = chain_report(audited_db)
    assert not report.intact
    assert report.problem.startswith("dernière(s) ligne(s) du journal supprimée(s)")


def test_removed_protection_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_delete")
    report, _ = chain_report(audited_db)
    assert not report.intact and "protections" in report.problem


def test_chain_continues_across_sessions(audited_db, make_school):
    with Store.open(audited_db) as store:
        store.add_school(make_school())
        rows = audit_rows(store)
        assert rows[-1]["prev_hash"] == rows[-2]["hash"]
        assert store.verify_audit().intact and store.verify_audit().rows == 6


def test_an_entry_cannot_predate_the_request(store, school, make_pupil_case):
    from rased_tui.domain.models import TimelineEntry

    case = store.add_case(make_pupil_case(school.id, date_sent="2026-10-05"))
    with pytest.raises(StoreError, match="d'avant l'envoi de la demande"):
        store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-04", text="trop tôt"))
    assert store.list_entries(case.id, include_confidential=True) == []
    store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-05", text="le jour même"))
    assert len(store.list_entries(case.id, include_confidential=True)) == 1


def test_an_aid_is_given_by_a_member_of_the_matching_role(store, school, make_pupil_case, make_member):
    from rased_tui.domain.models import Aid

    case = store.add_case(make_pupil_case(school.id))
    maitre_g = store.add_member(make_member(role="maitre_g"))
    maitre_e = store.add_member(make_member(role="maitre_e"))
    aid = dict(case_id=case.id, kind="E", modality="petit_groupe", start_date="2026-11-02",
               consent_status="donne", consent_form="oral", consent_date="2026-10-20")
    with pytest.raises(StoreError, match="Une aide E est donnée par un maître E"):
        store.add_aid(Aid(member_id=maitre_g.id, **aid))
    assert store.list_aids(case.id) == []
    store.add_aid(Aid(member_id=maitre_e.id, **aid))
    assert [a.member_id for a in store.list_aids(case.id)] == [maitre_e.id]


def test_blanking_the_texts_of_audit_rows_keeps_the_chain(audited_db):
    """The retention purge may blank before/after (children's names); nothing else."""
    before = chain_report(audited_db)[0]
    tamper(audited_db, "UPDATE audit_log SET before = NULL, after = NULL WHERE seq IN (2, 3)")
    report, check = chain_report(audited_db)
    assert report.intact and check.ok
    assert report.purged == 2 and report.head == before.head != audit_module.GENESIS_HASH
    with sqlite3.connect(audited_db) as connection:
        assert connection.execute("SELECT count(*) FROM audit_log WHERE after IS NULL").fetchone()[0] == 2


@pytest.mark.parametrize("statement", [
    "UPDATE audit_log SET after = '{}' WHERE seq = 2",
    "UPDATE audit_log SET before = NULL, after = NULL, actor = 'x' WHERE seq = 2",
    "UPDATE audit_log SET before = NULL, after = NULL, after_digest = '' WHERE seq = 2",
    "DELETE FROM audit_log WHERE seq = 2",
])
def test_every_other_change_to_the_audit_log_is_refused(audited_db, statement):
    with sqlite3.connect(audited_db) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="journal d'audit"):
            connection.execute(statement)


def test_a_text_changed_under_its_digest_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_update",
           "UPDATE audit_log SET after = replace(after, 'École', 'Ecole') WHERE seq = 1", NO_UPDATE)
    report, _ = chain_report(audited_db)
    assert not report.intact and report.problem == "ligne 1 du journal modifiée après coup"


# -- opening from odd places ---------------------------------------------------------------------


def test_read_only_uri_quotes_accents_and_spaces(tmp_path):
    from rased_tui.store.opening import read_only_uri

    path = tmp_path / "Données RASED" / "base élèves.db"
    uri = read_only_uri(path)
    assert uri.startswith("file:/") and "?mode=ro" in uri
    assert "Donn%C3%A9es%20RASED/base%20%C3%A9l%C3%A8ves.db" in uri


def test_a_database_in_a_folder_with_accents_and_spaces(tmp_path, make_school):
    path = tmp_path / "Clé USB – RASED" / "l'antenne.db"
    with Store.open(path) as store:
        store.add_school(make_school())
    with Store.open(path, read_only=True) as store:
        assert len(store.list_schools()) == 1


def test_read_only_from_a_write_protected_folder(saved_db, make_school, monkeypatch):
    """The IEN's copy on a locked USB key: SQLite cannot create its -shm file there."""
    from rased_tui.store import opening

    real_access = os.access
    folder = os.fspath(saved_db.parent)
    monkeypatch.setattr(opening.os, "access", lambda path, mode, *a, **k:
                        False if os.fspath(path) == folder and mode & os.W_OK else real_access(path, mode, *a, **k))
    assert "immutable=1" in opening.read_only_uri(saved_db)
    Path(f"{saved_db}-wal").write_bytes(b"")  # a journal may hold data: then never immutable
    assert "immutable=1" not in opening.read_only_uri(saved_db)
    Path(f"{saved_db}-wal").unlink()
    with Store.open(saved_db, read_only=True) as store:
        assert store.check().ok


def test_a_plain_read_only_store_sees_what_a_writer_saves_meanwhile(saved_db, make_school):
    """`check` and `backup` read the file itself, never an immutable view of it."""
    from rased_tui.store import opening

    assert "immutable=1" not in opening.read_only_uri(saved_db)
    with Store.open(saved_db, read_only=True) as reader, Store.open(saved_db) as writer:
        before = len(reader.list_schools())
        writer.add_school(make_school())
        assert len(reader.list_schools()) == before + 1
        assert reader.check().ok


def test_a_snapshot_leaves_the_file_alone_and_ignores_later_saves(saved_db, make_school):
    """The review (`--lecture-seule`): a copy in memory, taken at opening."""
    before = saved_db.read_bytes()
    with Store.open_snapshot(saved_db) as snapshot:
        assert snapshot.read_only and len(snapshot.list_schools()) == 1
        assert sorted(os.listdir(saved_db.parent)) == [saved_db.name]  # no -wal, no -shm
        assert saved_db.read_bytes() == before
        with Store.open(saved_db) as writer:
            for _ in range(50):
                writer.add_school(make_school())
        assert len(snapshot.list_schools()) == 1 and snapshot.check().ok
        with pytest.raises(StoreError, match="lecture seule"):
            snapshot.add_school(make_school())
        with pytest.raises(sqlite3.OperationalError, match="readonly"):  # SQLite refuses too
            snapshot.connection.execute("DELETE FROM schools")


def test_a_snapshot_reads_the_journal_of_a_base_open_for_writing(saved_db, make_school):
    with Store.open(saved_db) as writer:
        writer.add_school(make_school())  # still in the -wal file
        with Store.open_snapshot(saved_db) as snapshot:
            assert len(snapshot.list_schools()) == 2


def test_a_snapshot_refuses_what_is_not_a_base(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("pas une base")
    with pytest.raises(StoreError, match="SQLite"):
        Store.open_snapshot(text)
    with pytest.raises(StoreError, match="n'existe pas"):
        Store.open_snapshot(tmp_path / "absente.db")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_database_copied_in_with_loose_permissions_is_made_private(saved_db):
    saved_db.chmod(0o644)
    with Store.open(saved_db) as store:
        store.set_setting("zone", "B")
        for file in (saved_db, Path(f"{saved_db}-wal")):
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file


def test_an_old_sqlite_library_is_refused_in_french(tmp_path, monkeypatch):
    from rased_tui.store import opening

    monkeypatch.setattr(opening.sqlite3, "sqlite_version_info", (3, 22, 0))
    with pytest.raises(StoreError, match="trop ancienne"):
        Store.open(tmp_path / "x.db")


def test_two_copies_aside_in_the_same_second_get_two_names(tmp_path):
    from rased_tui.store.opening import _create_first_free

    first = _create_first_free(tmp_path / "a.db", "a.avant-migration-v1-20261121-101010", ".db")
    second = _create_first_free(tmp_path / "a.db", "a.avant-migration-v1-20261121-101010", ".db")
    assert first.name == "a.avant-migration-v1-20261121-101010.db"
    assert second.name == "a.avant-migration-v1-20261121-101010-2.db"


def test_search_follows_an_entry_moved_to_another_case_and_a_deleted_aid(store, school, make_pupil_case, make_member):
    from rased_tui.domain.models import Aid, TimelineEntry

    first = store.add_case(make_pupil_case(school.id))
    second = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    entry = store.add_entry(TimelineEntry(case_id=first.id, kind="note", date="2026-10-06",
                                          text="Orthophoniste consultée"))
    assert store.search_case_ids("orthophoniste") == [first.id]
    with store.transaction():  # by hand, as an import or a merge might
        store.connection.execute("UPDATE timeline_entries SET case_id = ? WHERE id = ?", (second.id, entry.id))
    assert store.search_case_ids("orthophoniste") == [second.id]

    maitre_e = store.add_member(make_member(role="maitre_e"))
    aid = store.add_aid(Aid(case_id=first.id, member_id=maitre_e.id, kind="E", modality="individuel",
                            start_date="2026-11-02", objectives="Conscience phonologique",
                            consent_status="donne", consent_form="oral"))
    assert store.search_case_ids("phonologique") == [first.id]
    with store.transaction():
        store.connection.execute("DELETE FROM aids WHERE id = ?", (aid.id,))
    assert store.search_case_ids("phonologique") == []


def test_a_wiped_audit_log_with_its_counter_reset_is_detected(audited_db):
    tamper(audited_db, "DROP TRIGGER audit_log_no_delete", "DELETE FROM audit_log",
           "DELETE FROM sqlite_sequence WHERE name = 'audit_log'", NO_DELETE)
    report, check = chain_report(audited_db)
    assert not report.intact and not check.ok
    assert "journal d'audit vide" in report.problem


def test_an_empty_new_database_has_an_intact_empty_log(tmp_path):
    Store.open(tmp_path / "neuve.db").close()
    report, check = chain_report(tmp_path / "neuve.db")
    assert report.intact and report.rows == 0 and check.ok


def test_update_case_keeps_its_number_and_replaces_its_lists(store, school, make_pupil_case):
    case = store.add_case(make_pupil_case(school.id, motifs=["lecture", "attention"]))
    edited = Case.model_validate({
        **case.model_dump(),
        "date_sent": "2025-06-02",  # another school year: the number stays
        "motifs": ["comportement", "lecture"], "levels": ["CE2"], "urgent": True,
        "prior_actions": [{"action": "apc"}], "description": "Décrit autrement.",
        "pupil": {**case.pupil.model_dump(), "first_name": "Hélèna"}})
    saved = store.update_case(edited)
    again = store.get_case(case.id)
    assert again.number == case.number == saved.number and again.school_year == "2026-2027"
    assert again.motifs == [Motif.COMPORTEMENT, Motif.LECTURE] and again.main_motif is Motif.COMPORTEMENT
    assert [level.value for level in again.levels] == ["CE2"] and again.urgent
    assert [item.action.value for item in again.prior_actions] == ["apc"]
    assert again.pupil.first_name == "Hélèna" and store.find_pupils("Dupre", "helena") == [again.pupil]
    assert store.search_case_ids("helena") == [case.id]
    last = audit_rows(store)[-1]
    assert last["action"] == "modification" and last["table_name"] == "cases"
    assert json.loads(last["before"])["motifs"] == ["lecture", "attention"]
    assert json.loads(last["after"])["motifs"] == ["comportement", "lecture"]


def test_update_of_an_unknown_case_is_refused(store, school, make_pupil_case):
    with pytest.raises(StoreError, match="Dossier introuvable"):
        store.update_case(make_pupil_case(school.id))


def test_a_confidential_note_is_a_psychologist_s_own(store, school, make_pupil_case, make_member):
    """Only a psychologue writes a confidential note; the store refuses it from anyone else."""
    case = store.add_case(make_pupil_case(school.id))
    maitre_e = store.add_member(make_member(role="maitre_e"))
    before = store.counts()
    for author in (None, maitre_e.id):
        with pytest.raises(StoreError, match="psychologue"):
            store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-15", author_member_id=author,
                                          text="Secret", confidential=True))
    assert store.counts() == before
    note = store.add_entry(TimelineEntry(case_id=case.id, kind="note", date="2026-10-15", author_member_id=maitre_e.id,
                                         text="Note ordinaire"))
    with pytest.raises(StoreError, match="psychologue"):
        store.update_entry(note.model_copy(update={"confidential": True}))

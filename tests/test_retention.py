"""The retention purge (store/retention.py, `rased-tui purge`, `p` on the settings screen):
expired closed cases lose their identities and texts, the figures stay, the audit chain holds."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from rased_tui import cli
from rased_tui.domain.models import Aid, AidEvaluation, Case, TimelineEntry
from rased_tui.exchange.demo import generate_demo
from rased_tui.store import Store
from rased_tui.store.retention import PURGED_TEXT, closure_limit
from tests.pilot import new_app

SIZE = (120, 40)
OLD_NAME, OLD_FIRST = "Zubrowska", "Quentine"  # names found nowhere else in the base
KEPT_NAME, KEPT_FIRST = "Marchetti", "Ysolde"
TWICE_NAME = "Oyelaran"  # a pupil with one expired case and one still open


def close(store: Store, case: Case, day: str, outcome: str = "objectifs_atteints") -> None:
    store.close_case(TimelineEntry(case_id=case.id, kind="cloture", sub_kind=outcome, date=day,
                                   text=f"Bilan final : {case.pupil.first_name if case.pupil else ''} a progressé."))


@pytest.fixture
def base(store, make_school, make_member, make_pupil_case):
    """Retention 3 years (today 21/11/2026): an expired case (closed 15/06/2023), one closed too
    recently, an expired case of a pupil whose other case is open, and an expired class case."""
    school = store.add_school(make_school())
    psy = store.add_member(make_member(role="psychologue", last_name="Garnier"))
    maitre_e = store.add_member(make_member(role="maitre_e", last_name="Roussel"))
    old = store.add_case(make_pupil_case(
        school.id, {"last_name": OLD_NAME, "first_name": OLD_FIRST, "birth_date": "2015-02-03"},
        date_sent="2022-10-03", description=f"{OLD_FIRST} ne lit pas encore ; sa mère s'inquiète.",
        teacher_name="Mme Vasseur", requester_detail="appel de la directrice"))
    store.add_entry(TimelineEntry(case_id=old.id, kind="analyse", date="2022-10-10",
                                  text=f"Problématique : {OLD_FIRST} confond les sons.", follow_up="revoir en janvier"))
    store.add_entry(TimelineEntry(case_id=old.id, kind="note", date="2022-11-10", author_member_id=psy.id,
                                  text=f"Note confidentielle sur la famille {OLD_NAME}.", confidential=True))
    aid = store.add_aid(Aid(case_id=old.id, member_id=maitre_e.id, kind="E", modality="petit_groupe",
                            objectives=f"Que {OLD_FIRST} lise des syllabes.", start_date="2022-11-14",
                            consent_status="donne", consent_form="oral", consent_by=f"Mme {OLD_NAME}"))
    store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2023-01-20", phase="intermediaire",
                                       observations=f"{OLD_FIRST} progresse.", score=6))
    store.end_aid(aid.id, date(2023, 6, 9), "objectifs_atteints", note="Fin d'année.")
    close(store, store.get_case(old.id), "2023-06-15")

    recent = store.add_case(make_pupil_case(school.id, {"last_name": KEPT_NAME, "first_name": KEPT_FIRST},
                                            date_sent="2023-09-20"))
    close(store, recent, "2024-01-10")
    twice_old = store.add_case(make_pupil_case(school.id, {"last_name": TWICE_NAME, "first_name": "Ada"},
                                               date_sent="2022-09-20"))
    close(store, twice_old, "2022-12-01")
    twice_pupil = store.get_case(twice_old.id).pupil
    twice_open = store.add_case(make_pupil_case(school.id, twice_pupil, date_sent="2026-10-01"))
    team = store.add_case(Case(subject_kind="classe", teacher_name="M. Lemaire-Kowalczyk", levels=["CM1"],
                               school_id=school.id, requester="enseignant", date_sent="2022-11-02",
                               description="Classe agitée l'après-midi.", motifs=["comportement"]))
    close(store, team, "2023-03-01", "relais_enseignant")
    return {"old": old, "recent": recent, "twice_old": twice_old, "twice_open": twice_open, "team": team,
            "aid": aid, "school": school}


def test_closure_limit_is_the_same_day_years_before():
    assert closure_limit(date(2026, 11, 21), 3) == date(2023, 11, 21)
    assert closure_limit(date(2028, 2, 29), 1) == date(2027, 2, 28)


def test_the_plan_names_expired_closed_cases_and_pupils_without_another_case(store, base):
    plan = store.purge_plan()
    assert plan.closed_by == date(2023, 11, 21) and plan.retention_years == 3
    assert set(plan.case_ids) == {base["old"].id, base["twice_old"].id, base["team"].id}
    assert plan.pupil_ids == [base["old"].pupil.id]  # the twice-helped pupil has an open case
    assert plan.cases_by_year == {"2022-2023": 3}


def test_a_reopened_case_is_not_expired(store, base):
    store.add_entry(TimelineEntry(case_id=base["team"].id, kind="reouverture", date="2023-09-05", text="De retour."))
    assert base["team"].id not in store.purge_plan().case_ids


def test_a_longer_retention_keeps_everything(store, base):
    store.save_settings(store.settings().model_copy(update={"retention_years": 10}))
    assert store.purge_plan().empty
    assert store.purge_expired().empty


def test_the_purge_effaces_identities_and_texts(store, base):
    store.purge_expired()
    old = store.get_case(base["old"].id)  # a purged case still reads as a model
    assert old.description == PURGED_TEXT and old.teacher_name == PURGED_TEXT and old.requester_detail == ""
    assert old.pupil.last_name.startswith("ELV-") and old.pupil.first_name == "Élève"
    assert old.pupil.birth_date is None and old.pupil.pseudonymous
    stored = store.connection.execute("SELECT pseudonym FROM pupils WHERE id = ?", (old.pupil.id,)).fetchone()
    assert stored["pseudonym"] == old.pupil.last_name  # exports give the same pseudonym
    entries = store.list_entries(old.id, include_confidential=True)
    assert {entry.text for entry in entries} == {PURGED_TEXT} and {entry.follow_up for entry in entries} == {""}
    [aid] = store.list_aids(old.id)
    assert (aid.objectives, aid.end_note, aid.consent_by) == ("", "", "")
    assert [e.observations for e in store.list_evaluations(aid.id)] == [""]
    assert store.get_case(base["team"].id).teacher_name == PURGED_TEXT
    # kept: a case closed too recently, and the identity of a pupil with an open case
    assert store.get_case(base["recent"].id).pupil.last_name == KEPT_NAME
    assert store.get_case(base["twice_open"].id).pupil.last_name == TWICE_NAME
    assert store.get_case(base["twice_old"].id).description == PURGED_TEXT


def test_what_the_figures_count_stays(store, base):
    before = store.get_case(base["old"].id)
    [aid_before] = store.list_aids(before.id)
    store.purge_expired()
    after = store.get_case(before.id)
    assert (after.number, after.date_sent, after.levels, after.motifs, after.school_id, after.pupil.id) == \
        (before.number, before.date_sent, before.levels, before.motifs, before.school_id, before.pupil.id)
    assert store.case_status(before.id) == "cloturee"
    [aid_after] = store.list_aids(before.id)
    assert aid_after.model_dump(exclude={"objectives", "end_note", "consent_by"}) == \
        aid_before.model_dump(exclude={"objectives", "end_note", "consent_by"})


def test_names_are_no_longer_found_and_the_purged_are_found_by_number(store, base):
    assert store.search_case_ids(OLD_NAME) == [base["old"].id]
    assert store.find_pupils(OLD_NAME, OLD_FIRST)
    store.purge_expired()
    for words in (OLD_NAME, OLD_FIRST, "Vasseur", "syllabes", "Kowalczyk"):
        assert store.search_case_ids(words) == [], words
    assert store.find_pupils(OLD_NAME, OLD_FIRST) == []
    assert store.search_case_ids(base["old"].number) == [base["old"].id]
    assert store.search_case_ids(KEPT_NAME) == [base["recent"].id]


def test_the_audit_log_loses_the_texts_keeps_the_chain_and_says_what_was_purged(store, base):
    store.purge_expired()
    report = store.check()
    assert report.ok and report.audit.purged > 0
    rows = store.connection.execute("SELECT before, after FROM audit_log WHERE before IS NOT NULL OR after IS NOT NULL")
    texts = " ".join(f"{row['before']} {row['after']}" for row in rows)
    for name in (OLD_NAME, OLD_FIRST, "Vasseur", "Kowalczyk"):
        assert name not in texts
    assert KEPT_NAME in texts  # the kept case's rows are untouched
    [purge] = store.connection.execute("SELECT after FROM audit_log WHERE action = 'purge' AND row_id = '*'").fetchall()
    assert base["old"].number in purge["after"] and "3 dossiers" in purge["after"]


def test_the_names_leave_the_file_itself(db_path, base):
    """Not only the tables: the freed space, the search index and the journal file too."""
    with Store.open(db_path) as store:
        store.purge_expired()
    data = db_path.read_bytes() + (db_path.with_name(db_path.name + "-wal").read_bytes()
                                   if db_path.with_name(db_path.name + "-wal").exists() else b"")
    for name in (OLD_NAME, OLD_FIRST, "Vasseur", "Kowalczyk", OLD_NAME.lower(), OLD_FIRST.lower(), "kowalczyk"):
        assert name.encode() not in data, name
    assert KEPT_NAME.encode() in data


def test_a_second_purge_finds_nothing_and_writes_nothing(store, base):
    store.purge_expired()
    rows = store.counts()
    version = store.connection.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
    assert store.purge_plan().empty and store.purge_expired().empty
    assert store.counts() == rows
    assert store.connection.execute("SELECT max(seq) FROM audit_log").fetchone()[0] == version


def test_a_pupil_purged_later_leaves_no_name_in_an_earlier_purged_case(store, base):
    """The twice-helped pupil's old case is purged first; once the open case closes and
    expires too, the pupil's name must leave the search index of both."""
    store.purge_expired()
    close(store, store.get_case(base["twice_open"].id), "2026-11-20")
    plan = store.purge_expired(on=date(2030, 1, 1))
    assert base["twice_open"].pupil.id in plan.pupil_ids
    assert store.search_case_ids(TWICE_NAME) == []


def test_the_annual_statistics_are_the_same_after_the_purge(tmp_path, monkeypatch):
    path = tmp_path / "demo.db"
    with Store.open(path) as store:
        generate_demo(store, cases=250, seed=11)
        store.save_settings(store.settings().model_copy(update={"retention_years": 1}))
        years = store.school_years()
        before = {year: store.activity_statistics(year) for year in years}
        periods = {year: store.activity_statistics(year, 2) for year in years}
        plan = store.purge_expired()
        assert len(plan.case_ids) > 20 and plan.pupil_ids  # the demo has old closed cases to purge
        assert {year: store.activity_statistics(year) for year in years} == before
        assert {year: store.activity_statistics(year, 2) for year in years} == periods
        assert store.check().ok


# -- the command line ---------------------------------------------------------------------------


def test_the_dry_run_says_what_and_leaves_the_file_alone(db_path, base, capsys):
    before = db_path.read_bytes()
    assert cli.main(["purge", "--db", str(db_path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "3 dossiers clôturés au plus tard le 21/11/2023" in out and "1 élève" in out
    assert base["old"].number in out and "rien n'a été modifié" in out
    assert OLD_NAME not in out
    assert db_path.read_bytes() == before


def test_the_command_purges_then_finds_nothing(db_path, base, capsys):
    assert cli.main(["purge", "--db", str(db_path)]) == 0
    assert "Identités et textes effacés" in capsys.readouterr().out
    assert cli.main(["purge", "--db", str(db_path)]) == 0
    assert "Rien à purger" in capsys.readouterr().out
    with Store.open(db_path, read_only=True) as store:
        assert store.get_case(base["old"].id).description == PURGED_TEXT


def test_the_command_refuses_a_missing_base_and_read_only(tmp_path, capsys):
    assert cli.main(["purge", "--db", str(tmp_path / "absente.db")]) == 1
    assert "n'existe pas" in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        cli.main(["--lecture-seule", "purge", "--db", str(tmp_path / "x.db")])
    assert stop.value.code == 2
    assert not (tmp_path / "absente.db").exists()


# -- the settings screen -------------------------------------------------------------------------


async def test_p_on_the_settings_screen_asks_then_purges(store, base):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("8")
        await pilot.press("p")
        await pilot.pause()
        question = str(app.screen.query_one("#confirm-question").render())
        assert "3 dossiers clôturés au plus tard le 21/11/2023" in question and "Purger ?" in question
        await pilot.press("n")
        assert store.get_case(base["old"].id).description != PURGED_TEXT
        await pilot.press("p")
        await pilot.press("o")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert store.get_case(base["old"].id).description == PURGED_TEXT
        assert any(n.title == "Purge faite" for n in app._notifications)
        await pilot.press("p")
        await pilot.pause()
        assert any(n.title == "Rien à purger" for n in app._notifications)


async def test_no_purge_in_read_only_mode(db_path, base):
    with Store.open(db_path, read_only=True) as store:
        app = new_app(store)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("8")
            await pilot.press("p")
            await pilot.pause()
            assert "confirm-question" not in {widget.id for widget in app.screen.query("*")}
        assert store.purge_plan().case_ids  # nothing was purged


def test_an_older_nominative_export_imported_again_brings_no_identity_back(db_path, base, tmp_path):
    """A deletion does not travel, but the purge must hold against a bundle made before it."""
    from rased_tui.exchange.importer import import_bundle
    from tests.test_exchange import export

    bundle = export(db_path, tmp_path / "cle", nominative=True, include_confidential=True)
    with Store.open(db_path) as store:
        store.purge_expired()
    import_bundle(db_path, bundle, prefer_newer=True)
    with Store.open(db_path) as store:
        old = store.get_case(base["old"].id)
        assert old.pupil.pseudonymous and old.description == PURGED_TEXT
        assert {entry.text for entry in store.list_entries(old.id, include_confidential=True)} == {PURGED_TEXT}
        assert store.search_case_ids(OLD_NAME) == [] and store.check().ok


# -- what the review found --------------------------------------------------------------------


def test_a_purged_case_reopened_keeps_its_pupil_and_is_purged_again_once_closed(store, base):
    store.purge_expired()
    old = store.get_case(base["old"].id)
    store.add_entry(TimelineEntry(case_id=old.id, kind="reouverture", date="2026-09-10", text="Retour de Quentine."))
    store.add_entry(TimelineEntry(case_id=old.id, kind="analyse", date="2026-09-20", text="Quentine relit."))
    assert base["old"].id not in store.purge_plan().case_ids  # open again: kept
    close(store, store.get_case(old.id), "2026-10-01")
    assert store.purge_plan().empty  # closed too recently
    plan = store.purge_expired(on=date(2030, 1, 1))
    assert base["old"].id in plan.case_ids
    assert {e.text for e in store.list_entries(old.id, include_confidential=True)} == {PURGED_TEXT}
    assert store.search_case_ids("relit") == []


def test_a_description_typed_as_the_mark_does_not_make_an_open_case_expired(store, base, make_pupil_case):
    case = store.add_case(make_pupil_case(base["school"].id, {"last_name": "Piquemal", "first_name": "Léon"},
                                          description=PURGED_TEXT))
    plan = store.purge_plan()
    assert case.id not in plan.case_ids and case.pupil.id not in plan.pupil_ids


def test_a_pupil_left_without_a_case_is_purged(store, base):
    """A request given to another pupil (an identity corrected) leaves the first one alone."""
    orphan = store.get_case(base["recent"].id).pupil
    store.connection.execute("UPDATE cases SET pupil_id = ? WHERE id = ?", (base["old"].pupil.id, base["recent"].id))
    plan = store.purge_plan()
    assert orphan.id in plan.pupil_ids and base["old"].pupil.id not in plan.pupil_ids  # that one has a kept case
    store.purge_expired()
    assert store.find_pupils(KEPT_NAME, KEPT_FIRST) == [] and store.check().ok


def test_a_reader_keeping_the_journal_is_said_and_the_next_purge_empties_it(db_path, base, capsys):
    reader = sqlite3.connect(db_path)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM cases").fetchone()  # a read transaction held open
    try:
        assert cli.main(["purge", "--db", str(db_path)]) == 0
        out = capsys.readouterr().out
        assert "Identités et textes effacés" in out and "un autre programme lit la base" in out
    finally:
        reader.close()
    assert cli.main(["purge", "--db", str(db_path)]) == 0
    out = capsys.readouterr().out
    assert "Rien à purger" in out and "Attention" not in out
    base_bytes = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    assert OLD_NAME.encode() not in base_bytes + (wal.read_bytes() if wal.exists() else b"")


def test_a_shared_action_keeps_its_text_for_the_cases_kept(store, base, make_member):
    trainer = store.add_member(make_member(role="cpc", last_name="Formatrice"))
    action = "f" * 36
    store.add_entry(TimelineEntry(case_id=base["old"].id, kind="reouverture", date="2023-07-01", text="Reprise."))
    for case, day in ((base["old"], "2023-07-02"), (base["twice_open"], "2026-10-20")):
        store.add_entry(TimelineEntry(case_id=case.id, kind="seconde_intention", sub_kind="formation_ciblee",
                                      date=day, text="Formation : lecture à voix haute.", action_id=action,
                                      author_member_id=trainer.id))
    close(store, store.get_case(base["old"].id), "2023-07-03")
    store.purge_expired()
    [shared] = store.shared_actions([action])
    assert shared.text == "Formation : lecture à voix haute."


def test_a_form_opened_before_the_purge_cannot_put_the_texts_back(store, base):
    """Found by the tester: the step or the request, edited in a form opened before the purge
    (in this window or another), was saved over the purged row."""
    from rased_tui.store import StoreError

    old_case = store.get_case(base["old"].id)
    [closure] = [e for e in store.list_entries(old_case.id, include_confidential=True) if e.kind == "cloture"]
    [aid] = store.list_aids(old_case.id)
    [evaluation] = store.list_evaluations(aid.id)
    store.purge_expired()
    for stale_save in (lambda: store.update_case(old_case), lambda: store.update_entry(closure),
                       lambda: store.update_aid(aid), lambda: store.update_evaluation(evaluation)):
        with pytest.raises(StoreError, match="a été purgé"):
            stale_save()
    assert store.get_case(old_case.id).description == PURGED_TEXT
    assert {e.text for e in store.list_entries(old_case.id, include_confidential=True)} == {PURGED_TEXT}
    # a case closed too recently is edited as before
    recent = store.get_case(base["recent"].id)
    store.update_case(recent.model_copy(update={"description": "Précisée."}))


def test_the_family_file_after_a_purge(db_path, base, tmp_path, capsys):
    """A purged pupil has no file to hand to a family; a pupil with a purged case and a kept
    one gets a file that says, in words, that the old texts were effaced."""
    from rased_tui.exchange.parents_access import PURGED_FOR_FAMILY

    with Store.open(db_path) as store:
        store.purge_expired()
    assert cli.main(["dossier", "--db", str(db_path), "--eleve", base["old"].number,
                     "--out", str(tmp_path / "purge.md")]) == 1
    assert "que par un pseudonyme" in capsys.readouterr().err and not (tmp_path / "purge.md").exists()
    assert cli.main(["dossier", "--db", str(db_path), "--eleve", base["twice_open"].number,
                     "--out", str(tmp_path / "famille.md")]) == 0
    document = (tmp_path / "famille.md").read_text(encoding="utf-8")
    assert TWICE_NAME in document and PURGED_FOR_FAMILY in document and "\\[effacé" not in document


def test_the_journal_of_a_purged_case_says_so(store, base):
    store.purge_expired()
    last = store.case_journal(base["old"].id, include_confidential=True)[-1]
    assert (last.action, last.table, last.before, last.after) == ("purge", "cases", None, None)
    assert all(line.before is None and line.after is None
               for line in store.case_journal(base["old"].id, include_confidential=True))

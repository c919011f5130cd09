"""The store's timeline layer: the order rules of add_entry (closed case, reopening, carry-over
into the next year, dates), editing and removing steps with their audit, aids opened with their
step and ended, closures, evaluations, the journal of a case, meetings, périodes, shared
actions, and the migration of a version-2 database to version 3.

Every test ends with an intact audit chain (the autouse fixture below checks it)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from rased_tui.domain.calendar import approximate_periods
from rased_tui.domain.enums import (
    AidEndReason,
    CaseStatus,
    ClosureOutcome,
    EntryKind,
    Interlocutor,
    MeetingKind,
)
from rased_tui.domain.filters import CaseFilter
from rased_tui.domain.models import Aid, AidEvaluation, Period, TimelineEntry
from rased_tui.domain.timeline import CLOSED_MESSAGE, aid_end_reason_at_closure
from rased_tui.store import SCHEMA_VERSION, Store, StoreError
from tests.schema_history import downgrade_to_version_4
from rased_tui.store.journal import JournalLine

ACTION = "a" * 8 + "-aaaa-4aaa-8aaa-" + "a" * 12
OTHER_ACTION = "b" * 8 + "-bbbb-4bbb-8bbb-" + "b" * 12


# -- fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def audit_stays_intact(store):
    """Whatever a test wrote or had refused, the audit chain is intact at its end."""
    yield
    report = store.verify_audit()
    assert report.intact, report.problem


@pytest.fixture
def school(store, make_school):
    return store.add_school(make_school())


@pytest.fixture
def case(store, school, make_pupil_case):
    """A request about Hélène Dupré, sent on 05/10/2026 (school year 2026-2027)."""
    return store.add_case(make_pupil_case(school.id))


@pytest.fixture
def maitre_e(store, make_member):
    return store.add_member(make_member(role="maitre_e", last_name="Lefèvre"))


@pytest.fixture
def maitre_g(store, make_member):
    return store.add_member(make_member(role="maitre_g", last_name="Morel"))


@pytest.fixture
def psy(store, make_member):
    return store.add_member(make_member(role="psychologue", last_name="Garnier"))


def step(case, kind: str, day: str, sub_kind: str | None = None, **fields) -> TimelineEntry:
    """A valid (unsaved) entry of `case`, with what its kind requires."""
    defaults: dict = {}
    if kind == "analyse":
        defaults["text"] = "Problématique : entrée dans l'écrit."
    if kind == "seconde_intention" and sub_kind == "orientation_partenaire":
        defaults["partner"] = "cmpp"
    return TimelineEntry(**{**defaults, "case_id": case.id, "kind": kind, "sub_kind": sub_kind, "date": day,
                            **fields})


def closure(case, day: str = "2026-11-16", outcome: str = "objectifs_atteints") -> TimelineEntry:
    return step(case, "cloture", day, outcome)


def aid_of(case, member, kind: str = "E", *, start: str = "2026-11-02", consent: str = "donne",
           **fields) -> Aid:
    consent_form = ("ecrit" if kind == "psy" else "oral") if consent == "donne" else None
    return Aid(**{"case_id": case.id, "member_id": member.id, "kind": kind, "modality": "petit_groupe",
                  "start_date": start, "objectives": "Conscience phonologique", "consent_status": consent,
                  "consent_form": consent_form, **fields})


def aid_step(case, day: str = "2026-11-02", **fields) -> TimelineEntry:
    return step(case, "seconde_intention", day, "aide_specialisee", **fields)


def audit(store: Store, *, table: str | None = None, row_id: str | None = None,
          action: str | None = None) -> list[dict]:
    """Rows of the audit log, oldest first, their before/after read back from JSON."""
    clauses, parameters = ["1 = 1"], []
    for column, value in (("table_name", table), ("row_id", row_id), ("action", action)):
        if value is not None:
            clauses.append(f"{column} = ?")
            parameters.append(value)
    rows = store.connection.execute(
        f"SELECT * FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY seq", parameters).fetchall()
    return [{**dict(row), "before": json.loads(row["before"]) if row["before"] else None,
             "after": json.loads(row["after"]) if row["after"] else None} for row in rows]


def entry_count(store: Store, case) -> int:
    return len(store.list_entries(case.id, include_confidential=True))


# -- the order rules of add_entry ---------------------------------------------------------------


@pytest.mark.parametrize("kind, sub_kind, extra", [
    ("note", None, {"text": "Appel de la maman."}),
    ("analyse", None, {}),
    ("premiere_intention", "contact", {}),
    ("seconde_intention", "mutualisation", {}),
    ("seconde_intention", "orientation_partenaire", {}),
    ("bilan", None, {}),
    ("cloture", "relais_enseignant", {}),
    ("report", None, {"to_school_year": "2027-2028"}),
])
def test_any_step_on_a_closed_case_is_refused_until_it_is_reopened(store, case, kind, sub_kind, extra):
    store.add_entry(step(case, "analyse", "2026-10-06"))
    store.close_case(closure(case, "2026-11-16"))
    before = store.counts()
    with pytest.raises(StoreError) as refused:
        store.add_entry(step(case, kind, "2026-11-20", sub_kind, **extra))
    assert str(refused.value) == CLOSED_MESSAGE
    assert "rouvrez" in str(refused.value)
    assert store.counts() == before  # nothing written, not even an audit row
    assert store.case_status(case.id) is CaseStatus.CLOTUREE


def test_a_case_classee_sans_suite_is_closed_too(store, case):
    store.add_entry(closure(case, "2026-10-07", "sans_suite"))
    assert store.case_status(case.id) is CaseStatus.CLASSEE_SANS_SUITE
    with pytest.raises(StoreError, match="rouvrez-le d'abord"):
        store.add_entry(step(case, "note", "2026-10-08", text="Relance"))
    store.add_entry(step(case, "reouverture", "2026-10-09"))
    assert store.case_status(case.id) is CaseStatus.ROUVERTE


@pytest.mark.parametrize("history, status", [
    ([], CaseStatus.RECUE),
    ([("analyse", None)], CaseStatus.EN_ANALYSE),
    ([("analyse", None), ("premiere_intention", "contact")], CaseStatus.PREMIERE_INTENTION),
    ([("cloture", "objectifs_atteints"), ("reouverture", None)], CaseStatus.ROUVERTE),
])
def test_reopening_an_open_case_is_refused(store, case, history, status):
    for day, (kind, sub_kind) in enumerate(history, start=6):
        store.add_entry(step(case, kind, f"2026-10-{day:02d}", sub_kind))
    assert store.case_status(case.id) is status
    before = store.counts()
    with pytest.raises(StoreError, match="^Le dossier est ouvert : il n'y a rien à rouvrir.$"):
        store.add_entry(step(case, "reouverture", "2026-11-20"))
    assert store.counts() == before
    assert store.case_status(case.id) is status


def test_reopening_a_closed_case_then_new_steps_are_allowed(store, case):
    store.add_entry(step(case, "analyse", "2026-10-06"))
    store.close_case(closure(case, "2026-10-20"))
    reopening = store.add_entry(step(case, "reouverture", "2026-11-03", text="Nouvelle demande de l'enseignante"))
    assert store.case_status(case.id) is CaseStatus.ROUVERTE
    assert store.get_entry(reopening.id).kind is EntryKind.REOUVERTURE
    store.add_entry(step(case, "note", "2026-11-04", text="Rendez-vous pris"))
    assert store.case_status(case.id) is CaseStatus.ROUVERTE  # a note changes nothing
    store.add_entry(step(case, "analyse", "2026-11-05"))
    assert store.case_status(case.id) is CaseStatus.EN_ANALYSE
    assert entry_count(store, case) == 5


def test_a_report_carries_the_case_into_the_next_school_year(store, case, school, make_pupil_case):
    other = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    store.add_entry(step(case, "analyse", "2026-10-06"))
    report = store.add_entry(step(case, "report", "2026-11-20", to_school_year="2027-2028",
                                  text="Aide à poursuivre en CE2"))
    assert store.get_entry(report.id).to_school_year == "2027-2028"
    assert store.case_years(case.id) == ["2026-2027", "2027-2028"]
    assert store.case_years(other.id) == ["2026-2027"]
    assert store.count_cases(CaseFilter(school_year="2026-2027")) == 2
    assert store.count_cases(CaseFilter(school_year="2027-2028")) == 1
    assert [row["id"] for row in store.case_page(CaseFilter(school_year="2027-2028"), 0, 10)] == [case.id]
    assert store.case_status(case.id) is CaseStatus.EN_ANALYSE  # a report changes no status
    assert "2027-2028" in store.school_years()


@pytest.mark.parametrize("year", ["2026-2027", "2028-2029", "2025-2026", "2030-2031"])
def test_a_report_into_another_year_than_the_next_is_refused(store, case, year):
    before = store.counts()
    with pytest.raises(StoreError) as refused:
        store.add_entry(step(case, "report", "2026-11-20", to_school_year=year))
    assert str(refused.value) == "Un dossier se reporte sur l'année qui suit sa dernière année : 2027-2028."
    assert store.counts() == before
    assert store.case_years(case.id) == ["2026-2027"]


def test_a_second_report_goes_one_year_further(store, case):
    store.add_entry(step(case, "report", "2026-11-19", to_school_year="2027-2028"))
    with pytest.raises(StoreError, match="2028-2029"):
        store.add_entry(step(case, "report", "2026-11-20", to_school_year="2027-2028"))
    store.add_entry(step(case, "report", "2026-11-20", to_school_year="2028-2029"))
    assert store.case_years(case.id) == ["2026-2027", "2027-2028", "2028-2029"]
    for year in ("2026-2027", "2027-2028", "2028-2029"):
        assert store.count_cases(CaseFilter(school_year=year)) == 1


def test_a_case_of_last_year_is_carried_into_this_one(store, school, make_pupil_case):
    old = store.add_case(make_pupil_case(school.id, date_sent="2025-11-03", levels=["CP"]))
    assert old.school_year == "2025-2026"
    assert store.count_cases(CaseFilter(school_year="2026-2027")) == 0
    with pytest.raises(StoreError, match="2026-2027"):
        store.add_entry(step(old, "report", "2026-09-01", to_school_year="2027-2028"))
    store.add_entry(step(old, "report", "2026-09-01", to_school_year="2026-2027"))
    assert store.count_cases(CaseFilter(school_year="2026-2027")) == 1
    assert store.count_cases(CaseFilter(school_year="2025-2026")) == 1


def test_a_closed_case_is_not_carried_over(store, case):
    store.close_case(closure(case, "2026-11-10"))
    with pytest.raises(StoreError, match="rouvrez"):
        store.add_entry(step(case, "report", "2026-11-20", to_school_year="2027-2028"))
    assert store.case_years(case.id) == ["2026-2027"]
    assert store.count_cases(CaseFilter(school_year="2027-2028")) == 0


def test_a_step_dated_before_the_request_is_refused(store, case):
    before = store.counts()
    with pytest.raises(StoreError, match="^Cette étape est datée d'avant l'envoi de la demande.$"):
        store.add_entry(step(case, "analyse", "2026-10-04"))
    assert store.counts() == before
    store.add_entry(step(case, "analyse", "2026-10-05"))  # the day itself is fine
    assert store.case_status(case.id) is CaseStatus.EN_ANALYSE


@pytest.mark.parametrize("backdated", ["reouverture", "cloture"])
def test_a_turn_dated_before_the_last_turn_is_refused(store, case, maitre_e, backdated):
    """Closed on 10/11: a reopening dated 01/11 would reopen nothing. Reopened on 15/11: a
    closure dated 12/11 would close nothing (and end the running aids). Both are refused."""
    store.add_entry(step(case, "analyse", "2026-10-06"))
    store.close_case(closure(case, "2026-11-10"))
    if backdated == "reouverture":
        turn, expected = step(case, "reouverture", "2026-11-01"), CaseStatus.ROUVERTE
    else:
        store.add_entry(step(case, "reouverture", "2026-11-15"))
        store.open_aid(aid_of(case, maitre_e, start="2026-11-16"), aid_step(case, "2026-11-16"))
        turn, expected = closure(case, "2026-11-12"), CaseStatus.CLOTUREE
    before = store.counts()
    with pytest.raises(StoreError, match="avant la dernière clôture ou réouverture"):
        store.close_case(turn) if backdated == "cloture" else store.add_entry(turn)
    assert store.counts() == before
    assert store.case_status(case.id) is not expected


# -- get_entry, update_entry --------------------------------------------------------------------


def test_get_entry_reads_back_every_field(store, case, maitre_e, psy):
    saved = store.add_entry(step(case, "premiere_intention", "2026-10-12", "entretien_explicitation",
                                 interlocutor="famille", text="Entretien avec les parents",
                                 author_member_id=psy.id, member_ids=[psy.id, maitre_e.id]))
    got = store.get_entry(saved.id)
    assert got.interlocutor is Interlocutor.FAMILLE
    assert sorted(got.member_ids) == sorted([psy.id, maitre_e.id])
    assert got.model_dump(exclude={"member_ids"}) == saved.model_dump(exclude={"member_ids"})
    assert store.get_entry("0" * 36) is None


def test_an_orientation_keeps_its_partner_and_follow_up(store, case):
    saved = store.add_entry(step(case, "seconde_intention", "2026-11-02", "orientation_partenaire",
                                 partner="camsp", follow_up="Premier rendez-vous le 12/01."))
    got = store.get_entry(saved.id)
    assert got.partner == "camsp" and got.follow_up == "Premier rendez-vous le 12/01."
    row = store.connection.execute("SELECT partner, follow_up, interlocutor FROM timeline_entries WHERE id = ?",
                                   (saved.id,)).fetchone()
    assert tuple(row) == ("camsp", "Premier rendez-vous le 12/01.", None)


def test_update_entry_keeps_kind_case_and_creation_and_replaces_members(store, case, school, make_pupil_case,
                                                                      maitre_e, maitre_g, psy):
    other = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    saved = store.add_entry(step(case, "analyse", "2026-10-06", member_ids=[maitre_e.id, maitre_g.id]))
    audit_rows = len(audit(store))
    edited = TimelineEntry(id=saved.id, case_id=other.id, kind="note", date="2026-10-07",
                           text="Problématique reformulée : compréhension.", member_ids=[psy.id],
                           created_at="2000-01-01T00:00:00.000000Z")
    kept = store.update_entry(edited)
    got = store.get_entry(saved.id)
    assert got.kind is EntryKind.ANALYSE and got.case_id == case.id and got.created_at == saved.created_at
    assert got.text == "Problématique reformulée : compréhension." and got.date == date(2026, 10, 7)
    assert got.member_ids == [psy.id]
    assert kept == got
    members = store.connection.execute("SELECT member_id FROM timeline_entry_members WHERE entry_id = ?",
                                       (saved.id,)).fetchall()
    assert [row[0] for row in members] == [psy.id]
    assert entry_count(store, other) == 0
    # one audit row, with the record before and after
    assert len(audit(store)) == audit_rows + 1
    [row] = audit(store, action="modification", row_id=saved.id)
    assert row["table_name"] == "timeline_entries"
    assert row["before"]["text"] == "Problématique : entrée dans l'écrit."
    assert sorted(row["before"]["member_ids"]) == sorted([maitre_e.id, maitre_g.id])
    assert row["after"]["text"] == "Problématique reformulée : compréhension."
    assert row["after"]["member_ids"] == [psy.id]
    assert row["after"]["kind"] == "analyse" and row["after"]["case_id"] == case.id
    assert row["before"]["created_at"] == row["after"]["created_at"] == saved.created_at


def test_update_entry_refuses_a_date_before_the_request_and_a_missing_step(store, case):
    saved = store.add_entry(step(case, "note", "2026-10-10", text="avant"))
    before = store.counts()
    with pytest.raises(StoreError, match="d'avant l'envoi de la demande"):
        store.update_entry(saved.model_copy(update={"date": date(2026, 9, 1), "text": "après"}))
    assert store.get_entry(saved.id) == saved
    with pytest.raises(StoreError, match="^Cette étape n'existe plus.$"):
        store.update_entry(step(case, "note", "2026-10-10", text="fantôme"))
    assert store.counts() == before


def test_editing_an_entry_can_change_the_status(store, case):
    """A closure corrected into another outcome: 'sans suite' is a status of its own."""
    closed = store.close_case(closure(case, "2026-10-10", "objectifs_atteints"))
    assert store.case_status(case.id) is CaseStatus.CLOTUREE
    store.update_entry(closed.model_copy(update={"sub_kind": "sans_suite"}))
    assert store.case_status(case.id) is CaseStatus.CLASSEE_SANS_SUITE


def test_the_confidential_notes_of_a_case_are_counted_without_being_read(store, case, psy):
    store.add_entry(step(case, "note", "2026-10-07", text="Entretien.", confidential=True, author_member_id=psy.id))
    store.add_entry(step(case, "note", "2026-10-08", text="Appel de l'école."))
    assert store.count_confidential_entries(case.id) == 1
    assert store.count_confidential_entries("0" * 36) == 0


# -- delete_entry -------------------------------------------------------------------------------


def test_delete_entry_keeps_the_record_in_the_audit_log(store, case, maitre_e):
    analysis = store.add_entry(step(case, "analyse", "2026-10-06"))
    note = store.add_entry(step(case, "note", "2026-10-07", text="Mauvais dossier", member_ids=[maitre_e.id]))
    store.delete_entry(note.id)
    assert store.get_entry(note.id) is None
    assert [e.id for e in store.list_entries(case.id, include_confidential=True)] == [analysis.id]
    assert store.connection.execute("SELECT count(*) FROM timeline_entry_members WHERE entry_id = ?",
                                    (note.id,)).fetchone()[0] == 0
    [row] = audit(store, action="suppression")
    assert (row["table_name"], row["row_id"], row["after"]) == ("timeline_entries", note.id, None)
    assert row["before"]["text"] == "Mauvais dossier" and row["before"]["case_id"] == case.id
    assert row["before"]["member_ids"] == [maitre_e.id]
    assert TimelineEntry.model_validate(row["before"]) == note  # the whole record, readable again
    with pytest.raises(StoreError, match="^Cette étape n'existe plus.$"):
        store.delete_entry(note.id)


def test_deleting_a_closure_reopens_the_status(store, case):
    store.add_entry(step(case, "analyse", "2026-10-06"))
    closed = store.close_case(closure(case, "2026-10-10"))
    store.delete_entry(closed.id)
    assert store.case_status(case.id) is CaseStatus.EN_ANALYSE


def test_deleting_the_step_of_an_aid_deletes_the_aid_and_its_evaluations(store, case, maitre_e, maitre_g):
    aid, opening = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    first = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut", score=3))
    second = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-16", phase="intermediaire"))
    kept_aid, _ = store.open_aid(aid_of(case, maitre_g, "G"), aid_step(case, "2026-11-03"))
    kept_evaluation = store.add_evaluation(AidEvaluation(aid_id=kept_aid.id, date="2026-11-03", phase="debut"))
    store.delete_entry(opening.id)
    assert store.get_entry(opening.id) is None and store.get_aid(aid.id) is None
    assert store.list_aids(case.id) == [kept_aid]
    assert store.case_evaluations(case.id) == {kept_aid.id: [kept_evaluation]}
    deleted = [(row["table_name"], row["row_id"]) for row in audit(store, action="suppression")]
    assert deleted == [("timeline_entries", opening.id), ("aid_evaluations", first.id),
                       ("aid_evaluations", second.id), ("aids", aid.id)]
    [aid_row] = audit(store, action="suppression", table="aids")
    assert aid_row["before"]["objectives"] == "Conscience phonologique"
    assert aid_row["before"]["case_id"] == case.id
    evaluation_rows = audit(store, action="suppression", table="aid_evaluations")
    assert [row["before"]["case_id"] for row in evaluation_rows] == [case.id, case.id]
    assert evaluation_rows[0]["before"]["score"] == 3


def test_deleting_another_step_leaves_the_aids_alone(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    bilan = store.add_entry(step(case, "bilan", "2026-11-20", aid_id=aid.id, text="Bilan intermédiaire"))
    store.delete_entry(bilan.id)
    assert store.get_aid(aid.id) == aid
    assert [row["table_name"] for row in audit(store, action="suppression")] == ["timeline_entries"]


# -- open_aid, update_aid_and_entry, end_aid ----------------------------------------------------


def test_open_aid_writes_the_aid_and_its_step_together(store, case, school, make_pupil_case, maitre_e):
    other = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    store.add_entry(step(case, "analyse", "2026-10-06"))
    before = len(audit(store))
    aid, opening = store.open_aid(aid_of(case, maitre_e), aid_step(other, member_ids=[maitre_e.id]))
    assert store.get_aid(aid.id) == aid
    got = store.get_entry(opening.id)
    assert got.aid_id == aid.id and got.case_id == case.id  # the aid's case wins
    assert got.sub_kind == "aide_specialisee" and got.member_ids == [maitre_e.id]
    assert entry_count(store, other) == 0
    assert store.case_status(case.id) is CaseStatus.SECONDE_INTENTION
    assert [(row["action"], row["table_name"]) for row in audit(store)[before:]] == [
        ("ajout", "aids"), ("ajout", "timeline_entries")]


def test_open_aid_on_a_closed_case_writes_nothing(store, case, maitre_e):
    store.close_case(closure(case, "2026-11-10"))
    before = store.counts()
    with pytest.raises(StoreError, match="rouvrez"):
        store.open_aid(aid_of(case, maitre_e), aid_step(case, "2026-11-12"))
    assert store.counts() == before
    assert store.list_aids(case.id) == []


def test_open_aid_is_all_or_nothing(store, case, maitre_e, maitre_g):
    before = store.counts()
    with pytest.raises(StoreError, match="d'avant l'envoi de la demande"):  # the step fails: no aid
        store.open_aid(aid_of(case, maitre_e), aid_step(case, "2026-10-01"))
    with pytest.raises(StoreError, match="Une aide E est donnée par un maître E"):  # the aid fails: no step
        store.open_aid(aid_of(case, maitre_g, "E"), aid_step(case))
    assert store.counts() == before


def test_update_aid_and_entry_saves_both_and_keeps_them_linked(store, case, maitre_e):
    aid, opening = store.open_aid(aid_of(case, maitre_e), aid_step(case, text="Aide E en petit groupe"))
    changed_aid = aid.model_copy(update={"modality": "individuel", "sessions_per_week": 2.0})
    changed_entry = opening.model_copy(update={"aid_id": None, "text": "Aide E individuelle",
                                               "date": date(2026, 11, 3)})
    saved_aid, saved_entry = store.update_aid_and_entry(changed_aid, changed_entry)
    assert store.get_aid(aid.id) == saved_aid == changed_aid
    got = store.get_entry(opening.id)
    assert got.aid_id == aid.id and got.text == "Aide E individuelle" and got.date == date(2026, 11, 3)
    assert saved_entry == got
    modifications = audit(store, action="modification")
    assert [(row["table_name"], row["row_id"]) for row in modifications] == [
        ("aids", aid.id), ("timeline_entries", opening.id)]
    assert modifications[0]["before"]["modality"] == "petit_groupe"
    assert modifications[0]["after"]["modality"] == "individuel"


def test_update_aid_and_entry_is_all_or_nothing(store, case, maitre_e):
    aid, opening = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    before = store.counts()
    with pytest.raises(StoreError, match="d'avant l'envoi de la demande"):
        store.update_aid_and_entry(aid.model_copy(update={"modality": "individuel"}),
                                   opening.model_copy(update={"date": date(2026, 9, 30)}))
    assert store.get_aid(aid.id) == aid and store.get_entry(opening.id) == opening
    assert store.counts() == before


def test_end_aid_before_its_start_is_refused_in_french(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-02"), aid_step(case))
    before = store.counts()
    with pytest.raises(StoreError, match="^La fin de l'aide précède son début.$"):
        store.end_aid(aid.id, date(2026, 11, 1), AidEndReason.OBJECTIFS_ATTEINTS)
    assert store.get_aid(aid.id) == aid and store.counts() == before
    with pytest.raises(StoreError, match="^Cette aide n'existe plus.$"):
        store.end_aid("0" * 36, date(2026, 11, 10), AidEndReason.OBJECTIFS_ATTEINTS)


def test_end_aid_records_date_reason_and_note(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    ended = store.end_aid(aid.id, date(2026, 11, 2), AidEndReason.PASSATION, "Relais par la collègue")
    got = store.get_aid(aid.id)
    assert got == ended
    assert (got.end_date, got.end_reason, got.end_note) == (date(2026, 11, 2), AidEndReason.PASSATION,
                                                            "Relais par la collègue")
    assert got.consent_withdrawn_on is None and not got.is_open
    assert store.open_aids_of_member(maitre_e.id) == []
    [row] = audit(store, action="modification", table="aids")
    assert row["before"]["end_date"] is None and row["after"]["end_date"] == "2026-11-02"


def test_a_withdrawn_consent_is_dated_by_the_end_of_the_aid(store, case, psy):
    aid, _ = store.open_aid(aid_of(case, psy, "psy", consent_date="2026-10-30"), aid_step(case))
    store.end_aid(aid.id, date(2026, 11, 18), AidEndReason.RETRAIT_CONSENTEMENT)
    got = store.get_aid(aid.id)
    assert got.consent_withdrawn_on == date(2026, 11, 18) == got.end_date
    assert got.end_reason is AidEndReason.RETRAIT_CONSENTEMENT
    assert got.consent_status == "donne"  # it was given, then withdrawn
    [line] = [line for line in store.case_journal(case.id, include_confidential=True) if line.action == "modification"]
    assert sorted(line.changed_fields) == ["consent_withdrawn_on", "end_date", "end_reason"]


def test_an_aid_cannot_end_before_its_last_evaluation(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-02"), aid_step(case))
    store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-16", phase="fin"))
    with pytest.raises(StoreError):
        store.end_aid(aid.id, date(2026, 11, 10), AidEndReason.OBJECTIFS_ATTEINTS)


# -- close_case ---------------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", list(ClosureOutcome))
def test_close_case_ends_the_running_aids_on_its_date(store, case, maitre_e, maitre_g, outcome):
    running, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-02"), aid_step(case))
    ended, _ = store.open_aid(aid_of(case, maitre_g, "G", start="2026-11-03"), aid_step(case, "2026-11-03"))
    store.end_aid(ended.id, date(2026, 11, 9), AidEndReason.PASSATION)
    saved = store.close_case(closure(case, "2026-11-16", outcome.value))
    assert store.get_entry(saved.id).sub_kind == outcome.value
    got = store.get_aid(running.id)
    assert got.end_date == date(2026, 11, 16)
    assert got.end_reason is aid_end_reason_at_closure(outcome)
    assert got.end_note == "Fin de l'aide à la clôture du dossier."
    assert store.get_aid(ended.id).end_date == date(2026, 11, 9)  # already ended: untouched
    assert store.get_aid(ended.id).end_reason is AidEndReason.PASSATION
    expected = CaseStatus.CLASSEE_SANS_SUITE if outcome is ClosureOutcome.SANS_SUITE else CaseStatus.CLOTUREE
    assert store.case_status(case.id) is expected


def test_close_case_maps_outcomes_to_end_reasons(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    store.close_case(closure(case, "2026-11-16", "orientation_partenaire"))
    assert store.get_aid(aid.id).end_reason is AidEndReason.ORIENTATION
    assert store.case_status(case.id) is CaseStatus.CLOTUREE


def test_an_aid_starting_after_the_closure_ends_on_its_start(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-18"), aid_step(case, "2026-11-10"))
    store.close_case(closure(case, "2026-11-16"))
    assert store.get_aid(aid.id).end_date == date(2026, 11, 18)


def test_close_case_may_leave_the_aids_running(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    store.close_case(closure(case, "2026-11-16"), end_date_of_aids=False)
    assert store.get_aid(aid.id).is_open
    assert store.case_status(case.id) is CaseStatus.CLOTUREE


def test_close_case_wants_a_closure_and_an_open_case(store, case, maitre_e):
    before = store.counts()
    with pytest.raises(StoreError, match="^Une clôture est attendue.$"):
        store.close_case(step(case, "bilan", "2026-11-16"))
    assert store.counts() == before
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    store.close_case(closure(case, "2026-11-16"), end_date_of_aids=False)
    before = store.counts()
    with pytest.raises(StoreError, match="rouvrez"):
        store.close_case(closure(case, "2026-11-18"))
    assert store.counts() == before and store.get_aid(aid.id).is_open  # the refusal ended nothing


def test_a_closure_writes_its_entry_and_the_aid_endings_in_order(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    before = len(audit(store))
    saved = store.close_case(closure(case, "2026-11-16"))
    assert [(row["action"], row["table_name"], row["row_id"]) for row in audit(store)[before:]] == [
        ("ajout", "timeline_entries", saved.id), ("modification", "aids", aid.id)]


# -- evaluations --------------------------------------------------------------------------------


@pytest.mark.parametrize("consent", ["en_attente", "refuse"])
def test_no_evaluation_without_the_familys_consent(store, case, maitre_g, consent):
    aid, _ = store.open_aid(aid_of(case, maitre_g, "G", consent=consent), aid_step(case))
    before = store.counts()
    with pytest.raises(StoreError, match="^Cette aide n'a pas commencé : l'accord de la famille n'est pas donné.$"):
        store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-10", phase="debut"))
    assert store.counts() == before


def test_an_evaluation_lies_within_the_dates_of_its_aid(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-02"), aid_step(case))
    store.end_aid(aid.id, date(2026, 11, 13), AidEndReason.OBJECTIFS_ATTEINTS)
    before = store.counts()
    with pytest.raises(StoreError, match=r"^L'évaluation précède le début de l'aide \(02/11/2026\)\.$"):
        store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-01", phase="debut"))
    with pytest.raises(StoreError, match=r"^L'évaluation suit la fin de l'aide \(13/11/2026\)\.$"):
        store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-14", phase="fin"))
    assert store.counts() == before
    start = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut"))
    end = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-13", phase="fin", score=8))
    assert store.list_evaluations(aid.id) == [start, end]
    [row] = audit(store, action="ajout", row_id=end.id)
    assert row["table_name"] == "aid_evaluations" and row["after"]["case_id"] == case.id
    assert row["after"]["score"] == 8


def test_no_evaluation_on_a_closed_case(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-02"), aid_step(case))
    store.close_case(closure(case, "2026-11-16"))
    before = store.counts()
    with pytest.raises(StoreError) as refused:  # within the aid's dates, but the case is closed
        store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-10", phase="intermediaire"))
    assert str(refused.value) == CLOSED_MESSAGE
    assert store.counts() == before
    store.add_entry(step(case, "reouverture", "2026-11-18"))
    store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-10", phase="intermediaire"))
    assert len(store.list_evaluations(aid.id)) == 1


def test_update_evaluation_keeps_its_aid_and_is_audited(store, case, maitre_e, maitre_g):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    other, _ = store.open_aid(aid_of(case, maitre_g, "G"), aid_step(case))
    saved = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut", score=2))
    edited = AidEvaluation(id=saved.id, aid_id=other.id, date="2026-11-03", phase="debut",
                           observations="Segmente les syllabes", score=4)
    kept = store.update_evaluation(edited)
    assert kept.aid_id == aid.id
    assert store.get_evaluation(saved.id) == kept == edited.model_copy(update={"aid_id": aid.id})
    assert store.list_evaluations(other.id) == []
    [row] = audit(store, action="modification", table="aid_evaluations")
    assert row["row_id"] == saved.id
    assert (row["before"]["score"], row["after"]["score"]) == (2, 4)
    assert row["before"]["case_id"] == row["after"]["case_id"] == case.id
    assert row["after"]["aid_id"] == aid.id


def test_update_evaluation_refuses_a_date_outside_the_aid_and_a_missing_one(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e, start="2026-11-02"), aid_step(case))
    saved = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut"))
    before = store.counts()
    with pytest.raises(StoreError, match="précède le début de l'aide"):
        store.update_evaluation(saved.model_copy(update={"date": date(2026, 10, 30)}))
    with pytest.raises(StoreError, match="^Cette évaluation n'existe plus.$"):
        store.update_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-05", phase="fin"))
    assert store.get_evaluation(saved.id) == saved and store.counts() == before


def test_delete_evaluation_keeps_it_in_the_audit_log(store, case, maitre_e):
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    saved = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-05", phase="debut",
                                               observations="Lit 20 mots par minute"))
    store.delete_evaluation(saved.id)
    assert store.get_evaluation(saved.id) is None and store.case_evaluations(case.id) == {}
    [row] = audit(store, action="suppression")
    assert (row["table_name"], row["row_id"], row["after"]) == ("aid_evaluations", saved.id, None)
    assert row["before"]["observations"] == "Lit 20 mots par minute" and row["before"]["case_id"] == case.id
    with pytest.raises(StoreError, match="^Cette évaluation n'existe plus.$"):
        store.delete_evaluation(saved.id)


def test_case_evaluations_groups_by_aid_oldest_first(store, case, school, make_pupil_case, maitre_e, maitre_g):
    other_case = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    e_aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    g_aid, _ = store.open_aid(aid_of(case, maitre_g, "G"), aid_step(case))
    elsewhere, _ = store.open_aid(aid_of(other_case, maitre_e), aid_step(other_case))
    late = store.add_evaluation(AidEvaluation(aid_id=e_aid.id, date="2026-11-20", phase="intermediaire"))
    early = store.add_evaluation(AidEvaluation(aid_id=e_aid.id, date="2026-11-02", phase="debut"))
    g_start = store.add_evaluation(AidEvaluation(aid_id=g_aid.id, date="2026-11-03", phase="debut"))
    store.add_evaluation(AidEvaluation(aid_id=elsewhere.id, date="2026-11-03", phase="debut"))
    assert store.case_evaluations(case.id) == {e_aid.id: [early, late], g_aid.id: [g_start]}
    assert list(store.case_evaluations(other_case.id)) == [elsewhere.id]


# -- the journal of a case ----------------------------------------------------------------------


def test_case_journal_lists_every_change_of_the_case_and_nothing_else(store, case, school, make_pupil_case,
                                                                    maitre_e):
    other = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    analysis = store.add_entry(step(case, "analyse", "2026-10-06"))
    store.add_entry(step(other, "analyse", "2026-10-06"))
    store.update_entry(analysis.model_copy(update={"text": "Problématique : compréhension."}))
    note = store.add_entry(step(case, "note", "2026-10-07", text="Erreur de dossier"))
    store.delete_entry(note.id)
    other_note = store.add_entry(step(other, "note", "2026-10-07", text="Autre élève"))
    store.delete_entry(other_note.id)
    aid, opening = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    other_aid, _ = store.open_aid(aid_of(other, maitre_e), aid_step(other))
    kept = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut", score=2))
    store.update_evaluation(kept.model_copy(update={"score": 3}))
    dropped = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-03", phase="intermediaire"))
    store.delete_evaluation(dropped.id)
    other_evaluation = store.add_evaluation(AidEvaluation(aid_id=other_aid.id, date="2026-11-02", phase="debut"))
    store.delete_evaluation(other_evaluation.id)
    store.end_aid(aid.id, date(2026, 11, 20), AidEndReason.OBJECTIFS_ATTEINTS, "Lecture fluide")
    store.update_case(store.get_case(case.id).model_copy(update={"urgent": True}))

    journal = store.case_journal(case.id, include_confidential=True)
    assert [(line.action, line.table, line.row_id) for line in journal] == [
        ("ajout", "cases", case.id),
        ("ajout", "timeline_entries", analysis.id),
        ("modification", "timeline_entries", analysis.id),
        ("ajout", "timeline_entries", note.id),
        ("suppression", "timeline_entries", note.id),
        ("ajout", "aids", aid.id),
        ("ajout", "timeline_entries", opening.id),
        ("ajout", "aid_evaluations", kept.id),
        ("modification", "aid_evaluations", kept.id),
        ("ajout", "aid_evaluations", dropped.id),
        ("suppression", "aid_evaluations", dropped.id),
        ("modification", "aids", aid.id),
        ("modification", "cases", case.id),
    ]
    assert [line.at for line in journal] == sorted(line.at for line in journal)
    assert all(line.actor.startswith("os:") for line in journal)
    assert journal[4].before["text"] == "Erreur de dossier" and journal[4].after is None
    assert journal[0].before is None and journal[0].after["number"] == case.number
    # the other case's journal holds only its own records
    other_ids = {line.row_id for line in store.case_journal(other.id, include_confidential=True)}
    assert other.id in other_ids and other_note.id in other_ids and other_evaluation.id in other_ids
    assert not other_ids & {line.row_id for line in journal}


def test_case_journal_changed_fields(store, case, maitre_e):
    analysis = store.add_entry(step(case, "analyse", "2026-10-06", member_ids=[maitre_e.id]))
    store.update_entry(analysis.model_copy(update={"text": "Problématique : compréhension.", "member_ids": []}))
    aid, _ = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    evaluation = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut"))
    store.update_evaluation(evaluation.model_copy(update={"score": 5, "observations": "Progrès"}))
    store.end_aid(aid.id, date(2026, 11, 20), AidEndReason.OBJECTIFS_ATTEINTS, "Lecture fluide")
    changed = {(line.table, line.action): line.changed_fields for line in store.case_journal(case.id, include_confidential=True)}
    assert sorted(changed[("timeline_entries", "modification")]) == ["member_ids", "text"]
    assert sorted(changed[("aid_evaluations", "modification")]) == ["observations", "score"]
    assert sorted(changed[("aids", "modification")]) == ["end_date", "end_note", "end_reason"]
    assert changed[("timeline_entries", "ajout")] == [] and changed[("cases", "ajout")] == []


def test_case_journal_keeps_an_aid_removed_with_its_step(store, case, maitre_e):
    aid, opening = store.open_aid(aid_of(case, maitre_e), aid_step(case))
    evaluation = store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-11-02", phase="debut"))
    store.end_aid(aid.id, date(2026, 11, 20), AidEndReason.OBJECTIFS_ATTEINTS)
    store.delete_entry(opening.id)
    lines = [(line.action, line.table, line.row_id) for line in store.case_journal(case.id, include_confidential=True)]
    assert lines == [
        ("ajout", "cases", case.id),
        ("ajout", "aids", aid.id),
        ("ajout", "timeline_entries", opening.id),
        ("ajout", "aid_evaluations", evaluation.id),
        ("modification", "aids", aid.id),
        ("suppression", "timeline_entries", opening.id),
        ("suppression", "aid_evaluations", evaluation.id),
        ("suppression", "aids", aid.id),
    ]


def test_journal_line_changed_fields_ignores_stamps():
    line = JournalLine("2026-11-21T10:00:00Z", "os:anne", "modification", "aids", "x" * 36,
                       {"a": 1, "b": "x", "updated_at": "t1", "created_at": "t0", "gone": 1},
                       {"a": 1, "b": "y", "updated_at": "t2", "created_at": "t9", "new": 2})
    assert line.changed_fields == ["b", "gone", "new"]
    assert JournalLine("t", "os:anne", "ajout", "aids", "x", None, {"a": 1}).changed_fields == []
    assert JournalLine("t", "os:anne", "suppression", "aids", "x", {"a": 1}, None).changed_fields == []


def test_case_journal_of_a_case_with_nothing_but_its_request(store, case):
    [line] = store.case_journal(case.id, include_confidential=True)
    assert (line.action, line.table, line.row_id) == ("ajout", "cases", case.id)
    assert store.case_journal("0" * 36, include_confidential=True) == []


# -- meetings and périodes ----------------------------------------------------------------------


def test_the_ordinary_meeting_of_a_periode_is_made_once(store):
    first = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 10))
    assert (first.school_year, first.period_number, first.date, first.kind) == (
        "2026-2027", 2, date(2026, 11, 10), MeetingKind.ORDINAIRE)
    again = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 17))
    assert again == first  # the période's meeting, still dated on its day
    assert store.list_meetings("2026-2027") == [first]
    assert len(audit(store, table="meetings", action="ajout")) == 1
    third = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=3, day=date(2026, 11, 20))
    next_year = store.meeting_for("2027-2028", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 20))
    assert len({first.id, third.id, next_year.id}) == 3
    assert [m.id for m in store.list_meetings("2026-2027")] == [first.id, third.id]


def test_an_urgent_meeting_per_day(store):
    monday = store.meeting_for("2026-2027", MeetingKind.URGENTE, period_number=2, day=date(2026, 11, 16))
    assert monday.kind is MeetingKind.URGENTE and monday.date == date(2026, 11, 16)
    assert store.meeting_for("2026-2027", MeetingKind.URGENTE, period_number=2, day=date(2026, 11, 16)) == monday
    tuesday = store.meeting_for("2026-2027", MeetingKind.URGENTE, period_number=2, day=date(2026, 11, 17))
    ordinary = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 16))
    assert len({monday.id, tuesday.id, ordinary.id}) == 3
    assert store.get_meeting(tuesday.id) == tuesday
    assert len(store.list_meetings("2026-2027")) == 3


def test_the_meetings_a_timeline_refers_to_are_read_together(store):
    monday = store.meeting_for("2026-2027", MeetingKind.URGENTE, period_number=2, day=date(2026, 11, 16))
    ordinary = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 16))
    assert store.get_meetings({monday.id, ordinary.id, "0" * 36}) == {monday.id: monday, ordinary.id: ordinary}


def test_an_analysis_links_its_meeting(store, case):
    meeting = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=2, day=date(2026, 11, 10))
    saved = store.add_entry(step(case, "analyse", "2026-11-10", meeting_id=meeting.id))
    assert store.get_entry(saved.id).meeting_id == meeting.id


def test_periods_of_year_are_approximate_until_recorded(store):
    approximate = store.periods_of_year("2026-2027")
    assert approximate == approximate_periods("2026-2027")
    assert [span.number for span in approximate] == [1, 2, 3, 4, 5]
    assert approximate[0].start == date(2026, 9, 1)  # the first Tuesday of September 2026
    recorded = [("2026-09-01", "2026-10-17"), ("2026-11-03", "2026-12-18"), ("2027-01-04", "2027-02-19"),
                ("2027-03-08", "2027-04-16"), ("2027-05-03", "2027-07-03")]
    for number, (start, end) in enumerate(recorded, start=1):
        store.add_period(Period(school_year="2026-2027", number=number, start_date=start, end_date=end,
                                zone="B", source="officiel"))
    spans = store.periods_of_year("2026-2027")
    assert [(s.number, s.start.isoformat(), s.end.isoformat()) for s in spans] == [
        (number, start, end) for number, (start, end) in enumerate(recorded, start=1)]
    assert all(s.school_year == "2026-2027" for s in spans)
    assert store.periods_of_year("2027-2028") == approximate_periods("2027-2028")


# -- shared actions -----------------------------------------------------------------------------


def test_two_cases_linked_by_one_action_make_one_shared_action(store, school, make_school, make_pupil_case):
    other_school = store.add_school(make_school())
    first = store.add_case(make_pupil_case(school.id))
    second = store.add_case(make_pupil_case(other_school.id, pupil={"first_name": "Noé"}))
    third = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Lina"}))
    store.add_entry(step(second, "seconde_intention", "2026-10-22", "formation_ciblee", action_id=ACTION,
                         text="Formation : lecture au CE1 (suite)"))
    store.add_entry(step(first, "seconde_intention", "2026-10-20", "formation_ciblee", action_id=ACTION,
                         text="Formation : lecture au CE1"))
    store.add_entry(step(first, "seconde_intention", "2026-10-21", "formation_ciblee",
                         text="Formation sans action partagée"))
    [action] = store.shared_actions()
    assert action.action_id == ACTION
    assert action.first_date == date(2026, 10, 20)
    assert action.text == "Formation : lecture au CE1"  # that of the first session
    assert action.case_numbers == sorted([first.number, second.number])
    assert action.school_count == 2
    # a newer action shows first; two steps of one case count the case once
    store.add_entry(step(third, "seconde_intention", "2026-11-05", "formation_ciblee", action_id=OTHER_ACTION,
                         text="Formation : gestion de classe"))
    store.add_entry(step(third, "seconde_intention", "2026-11-12", "formation_ciblee", action_id=OTHER_ACTION))
    newest, oldest = store.shared_actions()
    assert (newest.action_id, newest.case_numbers, newest.school_count) == (OTHER_ACTION, [third.number], 1)
    assert oldest == action


def test_no_shared_action_without_action_id(store, case):
    store.add_entry(step(case, "seconde_intention", "2026-10-20", "formation_ciblee"))
    assert store.shared_actions() == []


def test_the_shared_actions_of_a_case_only(store, school, make_pupil_case):
    first = store.add_case(make_pupil_case(school.id))
    second = store.add_case(make_pupil_case(school.id, pupil={"first_name": "Noé"}))
    store.add_entry(step(first, "seconde_intention", "2026-10-20", "formation_ciblee", action_id=ACTION))
    store.add_entry(step(second, "seconde_intention", "2026-10-22", "formation_ciblee", action_id=ACTION))
    store.add_entry(step(second, "seconde_intention", "2026-11-05", "formation_ciblee", action_id=OTHER_ACTION))
    [action] = store.shared_actions({ACTION})
    assert action == next(action for action in store.shared_actions() if action.action_id == ACTION)
    assert action.case_numbers == sorted([first.number, second.number])
    assert store.shared_actions(set()) == []


# -- the status follows every write -------------------------------------------------------------


def test_the_status_follows_each_step_and_the_audit_stays_intact(store, case, maitre_e):
    assert store.case_status(case.id) is CaseStatus.RECUE
    walk = [
        (lambda: store.add_entry(step(case, "analyse", "2026-10-06")), CaseStatus.EN_ANALYSE),
        (lambda: store.add_entry(step(case, "note", "2026-10-07", text="Appel")), CaseStatus.EN_ANALYSE),
        (lambda: store.add_entry(step(case, "premiere_intention", "2026-10-08", "entretien_explicitation",
                                      interlocutor="enseignant")), CaseStatus.PREMIERE_INTENTION),
        (lambda: store.open_aid(aid_of(case, maitre_e), aid_step(case)), CaseStatus.SECONDE_INTENTION),
        (lambda: store.add_evaluation(AidEvaluation(aid_id=store.list_aids(case.id)[0].id, date="2026-11-02",
                                                    phase="debut")), CaseStatus.SECONDE_INTENTION),
        (lambda: store.add_entry(step(case, "report", "2026-11-12", to_school_year="2027-2028")),
         CaseStatus.SECONDE_INTENTION),
        (lambda: store.add_entry(step(case, "bilan", "2026-11-13")), CaseStatus.BILAN),
        (lambda: store.close_case(closure(case, "2026-11-16")), CaseStatus.CLOTUREE),
        (lambda: store.add_entry(step(case, "reouverture", "2026-11-18")), CaseStatus.ROUVERTE),
        (lambda: store.add_entry(step(case, "analyse", "2026-11-19")), CaseStatus.EN_ANALYSE),
        (lambda: store.close_case(closure(case, "2026-11-20", "sans_suite")), CaseStatus.CLASSEE_SANS_SUITE),
    ]
    rows = len(audit(store))
    for write, status in walk:
        write()
        assert store.case_status(case.id) is status
        report = store.verify_audit()
        assert report.intact and report.rows > rows
        rows = report.rows
    assert store.check().ok


# -- migration from schema version 2 ------------------------------------------------------------


def shape(path: Path) -> tuple[dict[str, list[tuple]], list[str]]:
    """The columns of every table (PRAGMA table_info) and the names of every index."""
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        columns = {table: connection.execute(f"PRAGMA table_info('{table}')").fetchall() for table in tables}
        indexes = sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'"))
        return columns, indexes
    finally:
        connection.close()


def undo_version_3(path: Path) -> None:
    """Bring a new file back to version 2 (versions 5, 4 and 3 undone)."""
    downgrade_to_version_4(path)
    connection = sqlite3.connect(path)
    try:
        for statement in ("DROP TABLE analysis_aid_calls", "DROP INDEX timeline_by_aid", "DROP INDEX audit_by_row", "DROP INDEX audit_deletions",
                          "ALTER TABLE timeline_entries DROP COLUMN follow_up",
                          "ALTER TABLE timeline_entries DROP COLUMN interlocutor",
                          "PRAGMA user_version = 2"):
            connection.execute(statement)
        connection.commit()
    finally:
        connection.close()


@pytest.fixture
def version_2_db(tmp_path, make_school, make_pupil_case) -> Path:
    """A database at schema version 2 holding a school, a case and two steps."""
    path = tmp_path / "ancienne" / "rased.db"
    with Store.open(path) as old:
        school = old.add_school(make_school())
        case = old.add_case(make_pupil_case(school.id))
        old.add_entry(step(case, "analyse", "2026-10-06"))
        old.add_entry(step(case, "premiere_intention", "2026-10-08", "contact"))
    undo_version_3(path)
    columns, indexes = shape(path)
    assert "interlocutor" not in [column[1] for column in columns["timeline_entries"]]
    assert "audit_by_row" not in indexes
    return path


def test_migration_from_version_2_gives_the_schema_of_a_new_database(tmp_path, version_2_db):
    fresh = tmp_path / "neuve" / "rased.db"
    Store.open(fresh).close()
    with Store.open(version_2_db) as migrated:
        assert migrated.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        [case_id] = migrated.search_case_ids("helene")
        assert migrated.case_status(case_id) is CaseStatus.PREMIERE_INTENTION
        entries = migrated.list_entries(case_id, include_confidential=True)
        assert [(e.interlocutor, e.follow_up) for e in entries] == [(None, ""), (None, "")]
        assert migrated.check().ok
    assert shape(version_2_db) == shape(fresh)
    [copy] = version_2_db.parent.glob("rased.avant-migration-v2-*.db")  # put aside, as it was
    copy_columns, copy_indexes = shape(copy)
    assert "interlocutor" not in [column[1] for column in copy_columns["timeline_entries"]]
    assert "audit_by_row" not in copy_indexes


def test_a_migrated_database_takes_the_new_fields_and_their_rule(version_2_db):
    with Store.open(version_2_db) as migrated:
        [case_id] = migrated.search_case_ids("helene")
        case = migrated.get_case(case_id)
        saved = migrated.add_entry(step(case, "premiere_intention", "2026-10-09", "entretien_explicitation",
                                        interlocutor="equipe"))
        assert migrated.get_entry(saved.id).interlocutor is Interlocutor.EQUIPE
        with pytest.raises(sqlite3.IntegrityError):  # the column's CHECK came with the migration
            migrated.connection.execute(
                "UPDATE timeline_entries SET interlocutor = 'famille' WHERE sub_kind = 'contact'")
        assert migrated.verify_audit().intact
    with Store.open(version_2_db) as again:  # opening again migrates nothing more
        assert again.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert len(list(version_2_db.parent.glob("*avant-migration*"))) == 1


def test_closing_ends_an_aid_still_waiting_for_consent_as_never_started(store, case, maitre_e):
    """An aid proposed and never agreed to does not get the closure's outcome as its reason."""
    store.add_entry(step(case, "analyse", "2026-10-06"))
    waiting, _ = store.open_aid(aid_of(case, maitre_e, consent="en_attente", start="2026-11-02"),
                                aid_step(case, "2026-11-02"))
    store.close_case(closure(case, "2026-11-16", "objectifs_atteints"))
    ended = store.get_aid(waiting.id)
    assert ended.end_date == date(2026, 11, 16) and ended.end_reason is AidEndReason.AUTRE
    assert "jamais commencée" in ended.end_note


def test_every_field_the_journal_can_name_has_a_french_title():
    """The journal names changed fields by their models' titles: none may show a code name."""
    from rased_tui.domain.models import Aid as AidModel, AidEvaluation as EvaluationModel, Case as CaseModel

    for model in (TimelineEntry, AidModel, EvaluationModel, CaseModel):
        untitled = [name for name, info in model.model_fields.items()
                    if not info.title and name not in ("id", "case_id", "aid_id", "created_at", "number",
                                                       "school_year", "sequence", "pupil")]
        assert untitled == [], (model.__name__, untitled)

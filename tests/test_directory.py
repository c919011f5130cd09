"""The directory of the pôle (issue: members and schools, deactivate rather than delete, handover
of a leaving member's aids): the store's rules (store/directory.py), then the screen (key 6,
screens/directory.py and its forms), driven through Textual's Pilot.

Every test checks the database; the screen tests check what is shown too. Today is 21/11/2026
(conftest.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from textual.widgets import DataTable, Label, Select

from rased_tui.app import RasedApp
from rased_tui.domain.enums import AidEndReason, AidKind, ConsentStatus, EntryKind, Role
from rased_tui.domain.models import Aid, AidEvaluation, Case, Member, School, TimelineEntry
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.directory import DirectoryScreen, RecordJournal
from rased_tui.screens.directory_forms import (
    DirectoryForm,
    EndOfOfficeForm,
    HandoverForm,
    MemberForm,
    SchoolForm,
)
from rased_tui.store import Store, StoreError
from rased_tui.store.directory import Handover, is_running_before, remaining_weeks
from tests.pilot import new_app

SIZE = (120, 40)


# -- setup ------------------------------------------------------------------------------------


@dataclass
class Pole:
    """A school, two requests, three maîtres E (one leaving), a maître G, a CPC."""

    school: School
    case: Case  # Hélène Dupré, sent 05/10/2026
    other_case: Case  # Noé Petit, sent 12/10/2026
    leaving: Member  # Anne Lefèvre, maître E
    successor: Member  # Marc Roux, maître E
    retired: Member  # Jeanne Vasseur, maître E, left on 31/08/2026
    maitre_g: Member
    cpc: Member


@pytest.fixture
def pole(store, make_school, make_member, make_pupil_case) -> Pole:
    school = store.add_school(make_school(name="École Jules-Ferry"))
    return Pole(
        school=school,
        case=store.add_case(make_pupil_case(school.id)),
        other_case=store.add_case(make_pupil_case(school.id, {"last_name": "Petit", "first_name": "Noé"},
                                                  date_sent="2026-10-12")),
        leaving=store.add_member(make_member(last_name="Lefèvre", first_name="Anne", role="maitre_e", capacity=24)),
        successor=store.add_member(make_member(last_name="Roux", first_name="Marc", role="maitre_e", capacity=20,
                                               active_from="2025-09-01")),
        retired=store.add_member(make_member(last_name="Vasseur", first_name="Jeanne", role="maitre_e",
                                             active_from="2010-09-01", active_to="2026-08-31")),
        maitre_g=store.add_member(make_member(last_name="Martin", first_name="Paul", role="maitre_g")),
        cpc=store.add_member(make_member(last_name="Durand", first_name="Luc", role="cpc")),
    )


@pytest.fixture(autouse=True)
def audit_stays_intact(store):
    """Whatever a test wrote or had refused, the audit chain is intact at its end."""
    yield
    report = store.verify_audit()
    assert report.intact, report.problem


def give_aid(store: Store, case: Case, member: Member, *, start: str = "2026-10-20",
             consent: ConsentStatus = ConsentStatus.DONNE, kind: AidKind = AidKind.E, **fields) -> Aid:
    """An aid opened through the store, with its step (as the case screen does)."""
    aid = Aid(case_id=case.id, member_id=member.id, kind=kind, modality="petit_groupe", start_date=start,
              objectives="Fluence de lecture", consent_status=consent,
              consent_form="oral" if consent is ConsentStatus.DONNE else None,
              consent_date="2026-10-18" if consent is ConsentStatus.DONNE else None,
              consent_by="la mère" if consent is ConsentStatus.DONNE else "", **fields)
    entry = TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION, sub_kind="aide_specialisee",
                          date=start, text=f"Aide {kind.value}", member_ids=[member.id], author_member_id=member.id)
    store.open_aid(aid, entry)
    return aid


def evaluate(store: Store, aid: Aid, day: str, phase: str = "debut", score: int = 3) -> AidEvaluation:
    return store.add_evaluation(AidEvaluation(aid_id=aid.id, date=day, phase=phase, score=score))


def audit(store: Store, *, table: str | None = None, action: str | None = None,
          row_id: str | None = None) -> list[dict]:
    clauses, parameters = ["1 = 1"], []
    for column, value in (("table_name", table), ("action", action), ("row_id", row_id)):
        if value is not None:
            clauses.append(f"{column} = ?")
            parameters.append(value)
    rows = store.connection.execute(
        f"SELECT * FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY seq", parameters).fetchall()
    return [{**dict(row), "before": json.loads(row["before"]) if row["before"] else None,
             "after": json.loads(row["after"]) if row["after"] else None} for row in rows]


def audit_size(store: Store) -> int:
    return store.connection.execute("SELECT count(*) FROM audit_log").fetchone()[0]


# -- usage, deletion, deactivation -------------------------------------------------------------


def test_a_member_with_history_is_never_deleted(store, pole):
    give_aid(store, pole.case, pole.leaving)
    store.add_entry(TimelineEntry(case_id=pole.case.id, kind=EntryKind.ANALYSE, date="2026-10-19",
                                  text="Lecture.", member_ids=[pole.cpc.id]))
    store.act_as(pole.maitre_g.id)
    store.set_setting("zone", "B")  # an action recorded in the audit log as this member
    store.act_as(None)
    usage = store.member_usage(pole.leaving.id)
    assert (usage.cases, usage.aids, usage.open_aids, usage.entries) == (1, 1, 1, 1)
    before = audit_size(store)
    for member, history in ((pole.leaving, "1 dossier, 1 aide, 1 étape"), (pole.cpc, "1 dossier, 1 étape"),
                            (pole.maitre_g, "1 action enregistrée")):
        with pytest.raises(StoreError) as refused:
            store.delete_member(member.id)
        assert str(refused.value) == (f"{member.full_name} a un historique ({history}) : sa fiche ne peut être "
                                      "supprimée. Mettez fin à sa fonction (d) à la place.")
        assert store.get_member(member.id) == member
    assert audit_size(store) == before


def test_a_school_with_cases_is_never_deleted(store, pole):
    assert store.school_usage(pole.school.id).cases == 2
    with pytest.raises(StoreError, match=r"L'école École Jules-Ferry a un historique \(2 dossiers\) : elle ne peut "
                                         r"être supprimée\. Désactivez-la \(d\) à la place\."):
        store.delete_school(pole.school.id)
    assert store.get_school(pole.school.id) == pole.school


def test_a_record_typed_by_mistake_is_deleted_and_the_audit_log_keeps_it(store, pole, make_school, make_member):
    typo = store.add_member(make_member(last_name="Lefèbre", first_name="Anne"))
    school = store.add_school(make_school(name="Écol Jules-Fery"))
    assert store.member_usage(typo.id).total == store.school_usage(school.id).total == 0
    store.delete_member(typo.id)
    store.delete_school(school.id)
    assert store.get_member(typo.id) is None and store.get_school(school.id) is None
    [deleted_member] = audit(store, table="members", action="suppression")
    [deleted_school] = audit(store, table="schools", action="suppression")
    assert (deleted_member["row_id"], deleted_member["before"]["last_name"], deleted_member["after"]) == (
        typo.id, "Lefèbre", None)
    assert (deleted_school["row_id"], deleted_school["before"]["name"]) == (school.id, "Écol Jules-Fery")
    with pytest.raises(StoreError, match="n'existe plus"):
        store.delete_member(typo.id)


def test_a_member_leaves_on_a_last_day_and_can_come_back(store, pole):
    left = store.deactivate_member(pole.cpc.id, date(2026, 12, 18))  # a departure known in advance
    assert left.active_to == date(2026, 12, 18) and left.is_active_on(date(2026, 11, 21))
    assert not left.is_active_on(date(2026, 12, 19))
    with pytest.raises(StoreError, match=r"La fin de fonction \(31/08/2026\) précède l'entrée en fonction "
                                         r"\(01/09/2026\)\."):
        store.deactivate_member(pole.cpc.id, date(2026, 8, 31))
    assert store.get_member(pole.cpc.id).active_to == date(2026, 12, 18)
    back = store.reactivate_member(pole.cpc.id)
    assert back.active_to is None
    changes = [(row["before"]["active_to"], row["after"]["active_to"])
               for row in audit(store, table="members", action="modification", row_id=pole.cpc.id)]
    assert changes == [(None, "2026-12-18"), ("2026-12-18", None)]


def test_a_school_is_deactivated_then_reactivated(store, pole):
    assert not store.deactivate_school(pole.school.id).active
    assert [school.id for school in store.list_schools(active_only=True)] == []
    assert store.get_case(pole.case.id).school_id == pole.school.id  # its cases stay
    assert store.reactivate_school(pole.school.id).active
    changes = [(row["before"]["active"], row["after"]["active"])
               for row in audit(store, table="schools", action="modification")]
    assert changes == [(1, 0), (0, 1)]


def test_the_role_of_a_member_who_gave_aids_does_not_change(store, pole):
    give_aid(store, pole.case, pole.leaving)
    changed = pole.leaving.model_copy(update={"role": Role.MAITRE_G})
    with pytest.raises(StoreError) as refused:
        store.edit_member(changed)
    assert str(refused.value).startswith("Anne Lefèvre a donné 1 aide en tant que Maître E : sa fonction ne peut "
                                         "plus changer.")
    assert store.get_member(pole.leaving.id).role is Role.MAITRE_E
    # an ended aid counts too: the history would say that a maître G gave an aid E
    store.end_aid(store.open_aids_of_member(pole.leaving.id)[0].id, date(2026, 11, 2), AidEndReason.AUTRE)
    assert store.role_change_problem(pole.leaving.id, Role.MAITRE_G)
    # other fields change; a member without aids changes role
    renamed = store.edit_member(pole.leaving.model_copy(update={"last_name": "Lefèvre-Dubois", "capacity": 30}))
    assert store.get_member(pole.leaving.id) == renamed
    assert store.edit_member(pole.cpc.model_copy(update={"role": Role.IEN})).role is Role.IEN


# -- the handover -------------------------------------------------------------------------------


def test_a_handover_moves_every_open_aid_and_keeps_the_history(store, pole):
    """The issue's scenario: Anne Lefèvre leaves on 16/11/2026; Marc Roux takes over."""
    running = give_aid(store, pole.case, pole.leaving, start="2026-10-20", expected_weeks=10, sessions_per_week=2)
    first = evaluate(store, running, "2026-10-22", "debut", 3)
    second = evaluate(store, running, "2026-11-10", "intermediaire", 5)
    pending = give_aid(store, pole.other_case, pole.leaving, start="2026-10-26", consent=ConsentStatus.EN_ATTENTE)
    done = give_aid(store, pole.other_case, pole.leaving, start="2026-10-19")
    store.end_aid(done.id, date(2026, 10, 23), AidEndReason.OBJECTIFS_ATTEINTS)
    assert store.handover_plan(pole.leaving.id, date(2026, 11, 16)) == Handover(running=1, pending=1)

    summary = store.hand_over_aids(pole.leaving.id, pole.successor.id, date(2026, 11, 16))

    assert summary == Handover(running=1, pending=1, ended_membership=True)
    assert store.open_aids_of_member(pole.leaving.id) == []
    ended = store.get_aid(running.id)
    assert (ended.member_id, ended.end_date, ended.end_reason, ended.end_note) == (
        pole.leaving.id, date(2026, 11, 16), AidEndReason.PASSATION, "Passée à Marc Roux.")
    assert store.list_evaluations(running.id) == [first, second]  # the evaluations stay with the aid they measured
    [taken_over] = [aid for aid in store.list_aids(pole.case.id) if aid.is_open]
    assert taken_over.id != running.id
    assert (taken_over.member_id, taken_over.kind, taken_over.modality, taken_over.sessions_per_week,
            taken_over.objectives, taken_over.start_date, taken_over.expected_weeks) == (
        pole.successor.id, AidKind.E, running.modality, 2, "Fluence de lecture", date(2026, 11, 16), 7)
    assert (taken_over.consent_status, taken_over.consent_form, taken_over.consent_date, taken_over.consent_by) == (
        ConsentStatus.DONNE, running.consent_form, date(2026, 10, 18), "la mère")
    assert store.list_evaluations(taken_over.id) == []
    moved = store.get_aid(pending.id)
    assert (moved.member_id, moved.consent_status, moved.start_date, moved.end_date) == (
        pole.successor.id, ConsentStatus.EN_ATTENTE, date(2026, 10, 26), None)
    done = store.get_aid(done.id)
    assert (done.member_id, done.end_reason) == (pole.leaving.id, AidEndReason.OBJECTIFS_ATTEINTS)  # not moved
    assert store.get_member(pole.leaving.id).active_to == date(2026, 11, 16)
    assert {aid.id for aid in store.open_aids_of_member(pole.successor.id)} == {taken_over.id, pending.id}

    # the case's timeline tells it: the step that opens the new aid, named after both members
    handover = [entry for entry in store.list_entries(pole.case.id, include_confidential=True)
                if entry.aid_id == taken_over.id]
    assert [(e.kind, e.sub_kind, e.date, e.member_ids, e.text) for e in handover] == [
        (EntryKind.SECONDE_INTENTION, "aide_specialisee", date(2026, 11, 16), [pole.successor.id],
         "Passation : aide E reprise par Marc Roux (auparavant Anne Lefèvre).")]
    assert store.case_status(pole.case.id).is_open
    # ...and the audit log, each change in the journal of its case
    journal = [(line.action, line.table, line.row_id) for line in store.case_journal(pole.case.id,
                                                                                      include_confidential=True)]
    assert journal[-3:] == [("modification", "aids", running.id), ("ajout", "aids", taken_over.id),
                            ("ajout", "timeline_entries", handover[0].id)]
    [reassigned] = [row for row in audit(store, table="aids", action="modification", row_id=pending.id)]
    assert (reassigned["before"]["member_id"], reassigned["after"]["member_id"]) == (pole.leaving.id,
                                                                                     pole.successor.id)
    [left] = audit(store, table="members", action="modification", row_id=pole.leaving.id)
    assert (left["before"]["active_to"], left["after"]["active_to"]) == (None, "2026-11-16")


def test_an_aid_starting_on_the_day_of_the_handover_changes_hands_as_it_is(store, pole):
    same_day = give_aid(store, pole.case, pole.leaving, start="2026-11-16")
    summary = store.hand_over_aids(pole.leaving.id, pole.successor.id, date(2026, 11, 16), end_membership=False)
    assert summary == Handover(running=0, pending=1, ended_membership=False)
    assert store.get_aid(same_day.id).member_id == pole.successor.id and store.get_aid(same_day.id).is_open
    assert store.get_member(pole.leaving.id).active_to is None  # not asked to end it


def test_a_handover_keeps_an_earlier_last_day(store, pole):
    give_aid(store, pole.case, pole.leaving, start="2026-10-20")
    store.deactivate_member(pole.leaving.id, date(2026, 11, 13))
    store.hand_over_aids(pole.leaving.id, pole.successor.id, date(2026, 11, 16))
    assert store.get_member(pole.leaving.id).active_to == date(2026, 11, 13)


@pytest.mark.parametrize("who, day, message", [
    ("maitre_g", "2026-11-16", "Paul Martin est Maître G : les aides de Anne Lefèvre (Maître E) passent à un "
                               "membre de la même fonction."),
    ("retired", "2026-11-16", "Jeanne Vasseur n'est pas en fonction le 16/11/2026."),
    ("leaving", "2026-11-16", "Choisissez un·e autre membre que Anne Lefèvre pour reprendre ses aides."),
    ("successor", "2026-11-23", "La passation ne peut pas être datée dans le futur."),
    ("successor", "2026-08-28", "La passation précède l'entrée en fonction de Anne Lefèvre (01/09/2026)."),
])
def test_a_handover_is_refused_in_french_and_writes_nothing(store, pole, who, day, message):
    running = give_aid(store, pole.case, pole.leaving)
    before = audit_size(store)
    with pytest.raises(StoreError) as refused:
        store.hand_over_aids(pole.leaving.id, getattr(pole, who).id, date.fromisoformat(day))
    assert str(refused.value) == message
    assert store.get_aid(running.id) == running
    assert store.get_member(pole.leaving.id).active_to is None
    assert audit_size(store) == before


def test_a_last_day_in_office_cannot_precede_the_work_recorded(store, pole):
    """Regression: a last day before the member's own aids and evaluations was accepted."""
    aid = give_aid(store, pole.case, pole.leaving, start="2026-11-09")
    evaluate(store, aid, "2026-11-15")
    assert store.last_activity(pole.leaving.id) == date(2026, 11, 15)
    message = "Anne Lefèvre a une activité enregistrée jusqu'au 15/11/2026 : sa fin de fonction ne peut la précéder."
    with pytest.raises(StoreError, match=message):
        store.deactivate_member(pole.leaving.id, date(2026, 11, 1))
    with pytest.raises(StoreError, match=message):
        store.edit_member(pole.leaving.model_copy(update={"active_to": date(2026, 11, 1)}))
    assert store.get_member(pole.leaving.id).active_to is None
    assert store.deactivate_member(pole.leaving.id, date(2026, 11, 15)).active_to == date(2026, 11, 15)


def test_a_handover_dated_before_an_aid_began_is_refused(store, pole):
    """Regression: a backdated handover gave a whole aid, and its evaluations, to the successor
    as if he had begun it."""
    begun_later = give_aid(store, pole.case, pole.leaving, start="2026-11-09")
    evaluate(store, begun_later, "2026-11-15")
    before = audit_size(store)
    with pytest.raises(StoreError, match="l'aide E de Anne Lefèvre a commencé le 09/11/2026, après la date"):
        store.hand_over_aids(pole.leaving.id, pole.successor.id, date(2026, 11, 5))
    assert store.get_aid(begun_later.id).member_id == pole.leaving.id and audit_size(store) == before


def test_a_member_leaving_that_day_cannot_take_over(store, pole, make_member):
    """Regression: a member whose last day was the handover day was offered as successor."""
    store.deactivate_member(pole.successor.id, date(2026, 11, 16))
    give_aid(store, pole.case, pole.leaving)
    with pytest.raises(StoreError, match="Marc Roux quitte ses fonctions le 16/11/2026"):
        store.hand_over_aids(pole.leaving.id, pole.successor.id, date(2026, 11, 16))
    assert store.successors(pole.leaving.id, date(2026, 11, 16)) == []


def test_a_successor_not_yet_in_office_is_refused(store, pole, make_member):
    newcomer = store.add_member(make_member(last_name="Bastide", first_name="Léa", active_from="2026-11-20"))
    give_aid(store, pole.case, pole.leaving)
    with pytest.raises(StoreError, match="Léa Bastide n'est pas en fonction le 16/11/2026."):
        store.hand_over_aids(pole.leaving.id, newcomer.id, date(2026, 11, 16))
    assert [m.id for m in store.successors(pole.leaving.id, date(2026, 11, 16))] == [pole.successor.id]
    assert [m.id for m in store.successors(pole.leaving.id, date(2026, 11, 21))] == [newcomer.id, pole.successor.id]


def test_a_handover_is_all_or_nothing_and_names_the_case_at_fault(store, pole):
    """An aid evaluated after the day of the handover cannot end that day: nothing moves."""
    pending = give_aid(store, pole.other_case, pole.leaving, start="2026-10-26", consent=ConsentStatus.EN_ATTENTE)
    running = give_aid(store, pole.case, pole.leaving, start="2026-10-20")
    evaluate(store, running, "2026-11-18")
    before = audit_size(store)
    with pytest.raises(StoreError) as refused:
        store.hand_over_aids(pole.leaving.id, pole.successor.id, date(2026, 11, 16))
    assert str(refused.value) == (f"Dossier {pole.case.number} : L'aide ne peut finir avant sa dernière évaluation "
                                  "(18/11/2026).")
    assert store.get_aid(pending.id) == pending and store.get_aid(running.id) == running
    assert len(store.list_aids(pole.case.id)) == 1
    assert store.get_member(pole.leaving.id).active_to is None
    assert audit_size(store) == before


def test_remaining_weeks_and_running_aids():
    aid = Aid(case_id="c", member_id="m", kind="E", modality="individuel", start_date="2026-10-20",
              expected_weeks=4, consent_status="donne", consent_form="oral")
    assert remaining_weeks(aid, date(2026, 10, 27)) == 3
    assert remaining_weeks(aid, date(2026, 11, 28)) == 1  # past its planned end: at least one week
    assert remaining_weeks(aid.model_copy(update={"expected_weeks": None}), date(2026, 11, 2)) is None
    assert is_running_before(aid, date(2026, 10, 21)) and not is_running_before(aid, date(2026, 10, 20))
    waiting = aid.model_copy(update={"consent_status": ConsentStatus.EN_ATTENTE, "consent_form": None})
    assert not is_running_before(waiting, date(2026, 11, 2))


def test_the_journal_of_a_record_lists_its_changes(store, pole):
    store.edit_member(pole.cpc.model_copy(update={"antenna": "Circonscription de Maromme"}))
    store.deactivate_member(pole.cpc.id, date(2026, 11, 20))
    lines = store.record_journal("members", pole.cpc.id)
    assert [line.action for line in lines] == ["ajout", "modification", "modification"]
    assert [line.changed_fields for line in lines[1:]] == [["antenna"], ["active_to"]]
    with pytest.raises(StoreError):
        store.record_journal("aids", pole.cpc.id)


# -- the screen -----------------------------------------------------------------------------------


async def press(pilot, *keys: str):
    await pilot.press(*keys)
    await pilot.pause()
    return pilot.app.screen


async def open_directory(pilot) -> DirectoryScreen:
    screen = await press(pilot, "6")
    assert isinstance(screen, DirectoryScreen)
    return screen


def fill(form, **values) -> None:
    """Set fields by id (underscores for dashes): text, a Select's value, a radio's code, a box."""
    for key, value in values.items():
        widget = form.query_one(f"#{key.replace('_', '-')}")
        if widget.__class__.__name__ == "RadioSet":
            next(button for button in widget.query("RadioButton") if button.name == value).value = True
        else:
            widget.value = value


def field_error(form: DirectoryForm, field: str) -> str:
    label = form.query_one(f"#{field}-error", Label)
    return str(label.render()) if label.display else ""


def shown(screen, widget_id: str) -> str:
    widget = screen.query_one(f"#{widget_id}")
    return str(widget.render()) if widget.display else ""


def table_rows(screen: DirectoryScreen, table_id: str) -> dict[str, list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return {row.key.value: [str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows}


def select_row(screen: DirectoryScreen, table_id: str, key: str) -> None:
    table = screen.query_one(f"#{table_id}", DataTable)
    table.move_cursor(row=table.get_row_index(key))


def notifications(app: RasedApp) -> list[str]:
    return [notification.message for notification in app._notifications]


async def test_the_directory_lists_members_by_role_and_the_schools(store, pole, make_school):
    store.add_school(make_school(name="École Pasteur", kind="maternelle", priority_education="rep_plus",
                                 commune="Maromme"))
    give_aid(store, pole.case, pole.leaving)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        members = table_rows(screen, "members")
        assert list(members) == [pole.leaving.id, pole.successor.id, pole.retired.id, pole.maitre_g.id, pole.cpc.id]
        assert members[pole.leaving.id][:6] == ["Lefèvre Anne", "Maître E", "actif", "1", "24", "01/09/2026"]
        assert members[pole.successor.id][:5] == ["Roux Marc", "Maître E", "actif", "0", "20"]
        assert members[pole.retired.id][2] == "inactif" and members[pole.retired.id][6] == "31/08/2026"
        assert members[pole.cpc.id][1:4] == ["CPC", "actif", ""]
        assert shown(screen, "directory-summary") == "4 membres en fonction (1 inactif) · 2 écoles actives"
        assert screen.current == "members"
        screen = await press(pilot, "tab")
        assert screen.current == "schools" and screen.focused.id == "schools"
        schools = table_rows(screen, "schools")
        assert [cells[1] for cells in schools.values()] == ["École Jules-Ferry", "École Pasteur"]
        pasteur = next(cells for cells in schools.values() if cells[1] == "École Pasteur")
        assert pasteur[2:] == ["Maromme", "active", "Maternelle", "REP+", "0"]
        assert schools[pole.school.id][-1] == "2"  # its cases
        assert "directory_handover" not in {b.binding.id for b in app.active_bindings.values() if b.enabled}
        await press(pilot, "tab")
        assert screen.current == "members"
        await press(pilot, "é")
        assert screen.current == "schools"
        await press(pilot, "m")
        assert screen.current == "members"
        assert await press(pilot, "escape") is not screen  # back to the cases


async def test_adding_a_member_shows_each_error_by_its_field_then_saves(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        form = await press(pilot, "n")
        assert isinstance(form, MemberForm)
        assert form.value("active-from") == "21/11/2026"
        assert not form.query_one("#capacity-row").display  # no role yet
        fill(form, last_name="N'Diaye", first_name="Aïssatou", active_from="31/02/2026", active_to="15/01/2026")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "role") == "Choisissez la fonction."
        assert field_error(form, "active-from") == "Le 31/02/2026 n'existe pas dans le calendrier."
        assert "2 erreurs à corriger" in shown(form, "directory-errors")
        fill(form, role="psychologue", active_from="01/02/2026", capacity="douze")
        await pilot.pause()
        assert form.query_one("#capacity-row").display
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "capacity") == "Capacité : un nombre entier d'élèves."
        fill(form, capacity="0")
        await press(pilot, "ctrl+s")
        assert field_error(form, "capacity") == "Capacité (élèves suivis) : doit être supérieur à 0"
        assert field_error(form, "active-to") == "La fin de fonction précède le début."
        assert len(store.list_members()) == 5  # nothing written
        fill(form, capacity="40", active_to="")
        assert await press(pilot, "ctrl+s") is screen
        [added] = [member for member in store.list_members() if member.last_name == "N'Diaye"]
        assert (added.first_name, added.role, added.active_from, added.active_to, added.capacity) == (
            "Aïssatou", Role.PSYCHOLOGUE, date(2026, 2, 1), None, 40)
        assert table_rows(screen, "members")[added.id][:5] == ["N'Diaye Aïssatou", "Psychologue EN", "actif", "0",
                                                               "40"]
        assert screen.query_one("#members", DataTable).cursor_row == list(table_rows(screen, "members")).index(
            added.id)
        assert "Aïssatou N'Diaye ajouté·e à l'annuaire (Psychologue de l'Éducation nationale)." in notifications(app)
        [row] = audit(store, table="members", action="ajout", row_id=added.id)
        assert row["after"]["capacity"] == 40

        # a capacity typed for a role outside the RASED is not kept (the field is hidden)
        form = await press(pilot, "n")
        fill(form, last_name="Baptiste", first_name="Jean", role="erun", capacity="12")
        await pilot.pause()
        assert not form.query_one("#capacity-row").display
        await press(pilot, "ctrl+s")
        [erun] = [member for member in store.list_members() if member.last_name == "Baptiste"]
        assert erun.capacity is None


async def test_a_school_with_a_wrong_key_letter_is_refused_with_the_right_letter(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        await press(pilot, "tab")
        form = await press(pilot, "n")
        assert isinstance(form, SchoolForm) and form.value("priority") == "aucune"
        fill(form, uai="0761234A", name="  ", commune="Maromme")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "uai") == "La lettre clé du code UAI 0761234 est D, pas A."
        assert field_error(form, "kind") == "Choisissez le type d'école : maternelle, élémentaire ou primaire."
        fill(form, uai="0761234d", name="École Louise-Michel", kind="primaire", priority="rep")
        assert await press(pilot, "ctrl+s") is screen  # the letter is read in capitals
        [saved] = [school for school in store.list_schools() if school.name == "École Louise-Michel"]
        assert (saved.uai, saved.kind.value, saved.priority_education.value, saved.active) == (
            "0761234D", "primaire", "rep", True)
        assert table_rows(screen, "schools")[saved.id][:6] == [
            "0761234D", "École Louise-Michel", "Maromme", "active", "Primaire", "REP"]

        # the same UAI twice: refused by its field
        form = await press(pilot, "n")
        fill(form, uai="0761234D", name="Autre école", kind="maternelle")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "uai") == "Le code UAI 0761234D est déjà celui de l'école « École Louise-Michel »."
        await press(pilot, "escape")
        assert isinstance(app.screen, ConfirmDialog)  # something was typed: asked first
        assert await press(pilot, "o") is screen


async def test_editing_a_member_and_a_school(store, pole):
    give_aid(store, pole.case, pole.leaving)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        select_row(screen, "members", pole.leaving.id)
        form = await press(pilot, "e")
        assert isinstance(form, MemberForm) and form.value("last-name") == "Lefèvre"
        assert "Anne Lefèvre a donné 1 aide : sa fonction ne change plus" in shown(form, "role-hint")
        assert await press(pilot, "escape") is screen  # nothing typed: no question
        form = await press(pilot, "enter")
        assert isinstance(form, MemberForm)
        fill(form, role="maitre_g", antenna="RASED de Canteleu")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "role").startswith("Anne Lefèvre a donné 1 aide en tant que Maître E : sa fonction "
                                                    "ne peut plus changer.")
        assert store.get_member(pole.leaving.id) == pole.leaving
        fill(form, role="maitre_e")
        assert await press(pilot, "ctrl+s") is screen
        assert store.get_member(pole.leaving.id).antenna == "RASED de Canteleu"
        assert table_rows(screen, "members")[pole.leaving.id][-1] == "RASED de Canteleu"

        await press(pilot, "tab")
        form = await press(pilot, "e")
        assert isinstance(form, SchoolForm) and form.value("uai") == pole.school.uai
        fill(form, commune="Déville-lès-Rouen")
        await press(pilot, "ctrl+s")
        assert store.get_school(pole.school.id).commune == "Déville-lès-Rouen"
        assert table_rows(screen, "schools")[pole.school.id][2] == "Déville-lès-Rouen"


async def test_deactivating_and_reactivating_a_member_and_a_school(store, pole):
    give_aid(store, pole.case, pole.leaving)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        select_row(screen, "members", pole.leaving.id)
        form = await press(pilot, "d")
        assert isinstance(form, EndOfOfficeForm) and form.value("last-day") == "21/11/2026"
        assert "1 aide en cours à son nom : faites-en d'abord la passation (p)" in shown(form, "directory-intro")
        fill(form, last_day="15/08/2026")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "last-day") == "Le dernier jour précède l'entrée en fonction (01/09/2026)."
        fill(form, last_day="20/11/2026")
        assert await press(pilot, "ctrl+s") is screen
        assert store.get_member(pole.leaving.id).active_to == date(2026, 11, 20)
        cells = table_rows(screen, "members")[pole.leaving.id]
        assert (cells[2], cells[6]) == ("inactif", "20/11/2026")
        assert list(table_rows(screen, "members"))[:3] == [pole.successor.id, pole.leaving.id, pole.retired.id]
        await press(pilot, "r")
        assert store.get_member(pole.leaving.id).active_to is None
        assert table_rows(screen, "members")[pole.leaving.id][2] == "actif"

        await press(pilot, "tab")
        dialog = await press(pilot, "d")
        assert isinstance(dialog, ConfirmDialog) and "Désactiver l'école École Jules-Ferry" in dialog.question
        assert await press(pilot, "o") is screen
        assert not store.get_school(pole.school.id).active
        assert table_rows(screen, "schools")[pole.school.id][3] == "inactive"
        assert shown(screen, "directory-summary") == "4 membres en fonction (1 inactif) · 0 école active (1 inactive)"
        await press(pilot, "r")
        assert store.get_school(pole.school.id).active


async def test_deleting_is_refused_for_a_record_with_history_and_allowed_for_a_mistake(store, pole, make_member):
    give_aid(store, pole.case, pole.leaving)
    typo = store.add_member(make_member(last_name="Lefèbre", first_name="Anne"))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        select_row(screen, "members", pole.leaving.id)
        assert await press(pilot, "delete") is screen  # no question: refused at once, with the reason
        assert ("Anne Lefèvre a un historique (1 dossier, 1 aide, 1 étape) : sa fiche ne peut être supprimée. "
                "Mettez fin à sa fonction (d) à la place.") in notifications(app)
        assert store.get_member(pole.leaving.id) is not None
        await press(pilot, "tab")
        await press(pilot, "delete")
        assert any("L'école École Jules-Ferry a un historique (2 dossiers)" in text for text in notifications(app))
        await press(pilot, "tab")
        select_row(screen, "members", typo.id)
        dialog = await press(pilot, "delete")
        assert isinstance(dialog, ConfirmDialog) and "Supprimer la fiche de Anne Lefèbre ?" in dialog.question
        assert await press(pilot, "n") is screen
        assert store.get_member(typo.id) is not None
        await press(pilot, "delete", "o")
        assert store.get_member(typo.id) is None
        assert typo.id not in table_rows(screen, "members")
        assert "Fiche de Anne Lefèbre supprimée." in notifications(app)


async def test_a_handover_through_the_dialog(store, pole):
    """`p` on a leaving member: the successor among the members of the same role in office,
    what will move said before saving, then all the aids moved and the history kept."""
    running = give_aid(store, pole.case, pole.leaving, start="2026-10-20", expected_weeks=10)
    evaluation = evaluate(store, running, "2026-10-22")
    pending = give_aid(store, pole.other_case, pole.leaving, start="2026-10-26", consent=ConsentStatus.EN_ATTENTE)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        select_row(screen, "members", pole.successor.id)
        await press(pilot, "p")
        assert "Marc Roux n'a aucune aide en cours : rien à transmettre." in notifications(app)[-1]
        select_row(screen, "members", pole.leaving.id)
        form = await press(pilot, "p")
        assert isinstance(form, HandoverForm)
        options = [value for _, value in form.query_one("#successor", Select)._options if value is not Select.NULL]
        assert options == [pole.successor.id]  # maîtres E in office: not Jeanne Vasseur, gone
        assert form.value("successor") == pole.successor.id and form.value("end-membership") is True
        assert shown(form, "successor-hint") == "Marc Roux a déjà 0 aide en cours (capacité : 20)."
        plan = shown(form, "handover-plan")
        assert plan.startswith("Le 21/11/2026, 2 aides passeront à la personne choisie :")
        assert "1 aide commencée : terminée ce jour (passation)" in plan
        assert "1 aide pas encore commencée : confiée telle quelle." in plan
        fill(form, date="22/11/2026")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "date") == "La date de la passation ne peut pas être dans le futur."
        fill(form, date="16/11/2026")
        await pilot.pause()
        assert shown(form, "handover-plan").startswith("Le 16/11/2026, 2 aides")
        assert await press(pilot, "ctrl+s") is screen

        assert ("Passation du 16/11/2026 : 2 aides de Anne Lefèvre reprises par Marc Roux. "
                "Fin de fonction de Anne Lefèvre.") in notifications(app)
        assert store.open_aids_of_member(pole.leaving.id) == []
        ended = store.get_aid(running.id)
        assert (ended.end_date, ended.end_reason) == (date(2026, 11, 16), AidEndReason.PASSATION)
        assert store.list_evaluations(running.id) == [evaluation]
        assert store.get_aid(pending.id).member_id == pole.successor.id
        assert len(store.open_aids_of_member(pole.successor.id)) == 2
        members = table_rows(screen, "members")
        assert members[pole.leaving.id][3] == "0" and members[pole.leaving.id][6] == "16/11/2026"
        assert members[pole.leaving.id][2] == "inactif"
        assert members[pole.successor.id][3] == "1"  # the aid awaiting consent is not counted, as in `2`

        # the case screen shows the end of the old aid and the step that opened the new one
        app.push_screen(CaseScreen(pole.case.id))
        await pilot.pause()
        timeline = app.screen.query_one("#timeline", DataTable)
        texts = [" | ".join(str(cell) for cell in timeline.get_row(row.key)) for row in timeline.ordered_rows]
        assert any("Fin d'aide" in text and "Passation à un·e collègue" in text for text in texts)
        assert any("Passation : aide E reprise par Marc Roux (auparavant Anne Lefèvre)." in text for text in texts)
        assert "Aide E · Marc Roux" in shown(app.screen, "case-aids")


async def test_a_handover_with_no_one_to_take_over_says_so(store, pole):
    give_aid(store, pole.case, pole.maitre_g, kind=AidKind.G)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        select_row(screen, "members", pole.maitre_g.id)
        form = await press(pilot, "p")
        assert isinstance(form, HandoverForm)
        assert shown(form, "successor-hint").startswith("Aucun autre membre « Maître G » en fonction à cette date")
        assert await press(pilot, "ctrl+s") is form
        assert field_error(form, "successor") == "Choisissez le membre qui reprend les aides."
        assert store.open_aids_of_member(pole.maitre_g.id)
        assert await press(pilot, "escape") is screen


async def test_the_journal_of_a_member(store, pole):
    store.edit_member(pole.cpc.model_copy(update={"antenna": "Circonscription"}))
    store.deactivate_member(pole.cpc.id, date(2026, 11, 20))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_directory(pilot)
        select_row(screen, "members", pole.cpc.id)
        journal = await press(pilot, "j")
        assert isinstance(journal, RecordJournal)
        table = journal.query_one(DataTable)
        lines = [[str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows]
        assert [line[2] for line in lines] == ["Création", "Modification", "Modification"]
        assert lines[0][3] == "fiche créée"
        assert lines[1][3] == "Antenne : Rouen Nord → Circonscription"
        assert lines[2][3] == "En fonction jusqu'au : — → 20/11/2026"
        assert await press(pilot, "escape") is screen


async def test_read_only_the_directory_shows_and_hides_every_editing_key(store, pole, db_path):
    give_aid(store, pole.case, pole.leaving)
    with Store.open(db_path, read_only=True) as read_only:
        app = new_app(read_only)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_directory(pilot)
            assert len(table_rows(screen, "members")) == 5
            assert shown(screen, "directory-summary").endswith("· lecture seule")
            enabled = {active.binding.id for active in app.active_bindings.values() if active.enabled}
            assert {"directory_to_schools", "directory_journal"} <= enabled
            assert not enabled & {"directory_new", "directory_edit", "directory_deactivate", "directory_delete",
                                  "directory_handover", "directory_reactivate"}
            select_row(screen, "members", pole.leaving.id)
            for key in ("n", "e", "d", "r", "delete", "p"):
                assert await press(pilot, key) is screen, key
            assert isinstance(await press(pilot, "enter"), RecordJournal)  # enter reads, it does not edit
    assert store.get_member(pole.leaving.id) == pole.leaving
    assert len(store.open_aids_of_member(pole.leaving.id)) == 1


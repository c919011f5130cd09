"""The case screen (screens/case.py), the forms of its steps (screens/steps.py) and the journal
(screens/journal.py), driven through Textual's Pilot on a small database.

Each test starts one app and runs several steps in it (starting an app costs more than a
step). Values are set on the widgets directly, keys open the forms, save and confirm; every
test checks both the database (store, audit_log) and what the screen shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from textual.widgets import Checkbox, DataTable, Label, RadioSet, Select, SelectionList, TextArea

from rased_tui.app import RasedApp
from rased_tui.domain.enums import (
    AidEndReason,
    AidKind,
    CaseStatus,
    ConsentStatus,
    EntryKind,
    EvaluationPhase,
    MeetingKind,
)
from rased_tui.domain.filters import CaseFilter
from rased_tui.domain.models import Aid, AidEvaluation, Case, Member, TimelineEntry
from rased_tui.domain.timeline import CLOSED_MESSAGE
from rased_tui.screens.case import CaseScreen, StepMenu, TextDialog
from rased_tui.screens.cases import SHORT_STATUS, CasesScreen
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.intake import IntakeScreen
from rased_tui.screens.journal import JournalScreen
from rased_tui.screens.steps import AidForm, EndAidForm, EntryForm, EvaluationForm, StepForm
from rased_tui.store import Store, StoreError
from tests.pilot import new_app

SIZE = (120, 40)


# -- setup ----------------------------------------------------------------------------------


@dataclass
class Team:
    """A school, a request about Hélène Dupré sent on 05/10/2026, and the people of the RASED."""

    case: Case
    maitre_e: Member
    maitre_g: Member
    psy: Member
    cpc: Member


@pytest.fixture
def team(store, make_school, make_member, make_pupil_case) -> Team:
    school = store.add_school(make_school())
    return Team(
        case=store.add_case(make_pupil_case(school.id)),
        maitre_e=store.add_member(make_member(last_name="Lefèvre", first_name="Anne", role="maitre_e")),
        maitre_g=store.add_member(make_member(last_name="Martin", first_name="Paul", role="maitre_g")),
        psy=store.add_member(make_member(last_name="Bernard", first_name="Claire", role="psychologue")),
        cpc=store.add_member(make_member(last_name="Durand", first_name="Luc", role="cpc")),
    )


@pytest.fixture(autouse=True)
def audit_stays_intact(store):
    """Whatever a test wrote or had refused, the audit chain is intact at its end."""
    yield
    report = store.verify_audit()
    assert report.intact, report.problem


async def open_case(app: RasedApp, pilot, case_id: str) -> CaseScreen:
    app.push_screen(CaseScreen(case_id))
    await pilot.pause()
    assert isinstance(app.screen, CaseScreen)
    return app.screen


async def press(pilot, *keys: str):
    """Press keys, let the app settle, return the screen in front."""
    await pilot.press(*keys)
    await pilot.pause()
    return pilot.app.screen


def fill(screen, **values) -> None:
    """Set fields by id (underscores for dashes): text for Input/TextArea, a list for a
    SelectionList, a code for a RadioSet, a value for Select/Checkbox."""
    for key, value in values.items():
        widget = screen.query_one(f"#{key.replace('_', '-')}")
        if isinstance(widget, SelectionList):
            widget.deselect_all()
            for item in value:
                widget.select(item)
        elif isinstance(widget, TextArea):
            widget.text = value
        elif isinstance(widget, RadioSet):
            button = next(button for button in widget.query("RadioButton") if button.name == value)
            button.value = True
        else:
            widget.value = value


async def step(pilot, key: str, form_type: type[StepForm] = EntryForm, **values) -> StepForm:
    """Open a step's form with its key and fill it (not saved)."""
    form = await press(pilot, key)
    assert isinstance(form, form_type), (key, form)
    fill(form, **values)
    await pilot.pause()
    return form


async def save(pilot) -> CaseScreen:
    """ctrl+s on a form that must save: back on the case screen."""
    screen = await press(pilot, "ctrl+s")
    assert isinstance(screen, CaseScreen), errors_of(screen)
    return screen


async def refused(pilot, form: StepForm) -> str:
    """ctrl+s on a form that must refuse: the form stays; returns the summary of errors."""
    assert await press(pilot, "ctrl+s") is form
    return shown(form, "step-errors")


def shown(screen, widget_id: str) -> str:
    widget = screen.query_one(f"#{widget_id}")
    return str(widget.render()) if widget.display else ""


def field_error(form: StepForm, field: str) -> str:
    label = form.query_one(f"#{field}-error", Label)
    return str(label.render()) if label.display else ""


def errors_of(screen) -> str:
    return shown(screen, "step-errors") if isinstance(screen, StepForm) else repr(screen)


def rows(screen: CaseScreen) -> list[str]:
    table = screen.query_one("#timeline", DataTable)
    return [row.key.value for row in table.ordered_rows]


def cells(screen: CaseScreen, key: str) -> list[str]:
    return [str(cell) for cell in screen.query_one("#timeline", DataTable).get_row(key)]


def select_row(screen: CaseScreen, key: str) -> None:
    table = screen.query_one("#timeline", DataTable)
    table.move_cursor(row=table.get_row_index(key))


def options(form: StepForm, select_id: str) -> list:
    """The values a Select offers (its blank left out)."""
    return [value for _, value in form.query_one(f"#{select_id}", Select)._options if value is not Select.NULL]


def heading(screen: CaseScreen) -> str:
    return shown(screen, "case-heading")


def notifications(app: RasedApp) -> list[str]:
    return [notification.message for notification in app._notifications]


def entries(store: Store, case: Case) -> list[TimelineEntry]:
    return store.list_entries(case.id, include_confidential=True)


def audit(store: Store, action: str | None = None, table: str | None = None) -> list[dict]:
    sql = "SELECT action, table_name, row_id, before, after FROM audit_log WHERE 1"
    parameters: list = []
    if action:
        sql += " AND action = ?"
        parameters.append(action)
    if table:
        sql += " AND table_name = ?"
        parameters.append(table)
    return [dict(row) for row in store.connection.execute(sql + " ORDER BY seq", parameters)]


def open_aid(store: Store, team: Team, kind: AidKind = AidKind.E, *, start: str = "2026-10-20",
             consent: ConsentStatus = ConsentStatus.DONNE, **fields) -> Aid:
    """An aid opened through the store (for tests about what comes after)."""
    giver = {AidKind.E: team.maitre_e, AidKind.G: team.maitre_g, AidKind.PSY: team.psy}[kind]
    aid = Aid(case_id=team.case.id, member_id=giver.id, kind=kind, modality="petit_groupe", start_date=start,
              consent_status=consent, consent_form="ecrit" if consent is ConsentStatus.DONNE else None, **fields)
    entry = TimelineEntry(case_id=team.case.id, kind=EntryKind.SECONDE_INTENTION, sub_kind="aide_specialisee",
                          date=start, text=f"Aide {kind.value}", member_ids=[giver.id])
    store.open_aid(aid, entry)
    return aid


def add_entry(store: Store, team: Team, kind: EntryKind, day: str = "2026-10-12", **fields) -> TimelineEntry:
    return store.add_entry(TimelineEntry(case_id=team.case.id, kind=kind, date=day, **fields))


# -- each entry kind through its form -------------------------------------------------------


async def test_an_analysis_records_its_meeting_members_and_problematique(store, team):
    """`a`: the ordinary meeting of the période is recorded once; urgent and synthèse too."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        assert "Statut : Reçue" in heading(screen)
        assert "Première analyse (a)" in shown(screen, "case-next")
        form = await step(pilot, "a", date="12/10/2026")
        assert form.query_one("#meeting", Select).value == "ordinaire"
        assert "Réunion de la période 1 : elle sera enregistrée" in shown(form, "meeting-hint")
        message = await refused(pilot, form)
        assert "La problématique est obligatoire." in message
        assert field_error(form, "members") == "Cochez au moins un membre du pôle sollicité."
        assert entries(store, team.case) == []
        fill(form, members=[team.maitre_e.id, team.psy.id], text="Difficultés de décodage.")
        screen = await save(pilot)

        [analysis] = entries(store, team.case)
        assert (analysis.kind, analysis.date, analysis.text) == (EntryKind.ANALYSE, date(2026, 10, 12),
                                                                 "Difficultés de décodage.")
        assert set(analysis.member_ids) == {team.maitre_e.id, team.psy.id}
        [meeting] = store.list_meetings("2026-2027")
        assert (meeting.id, meeting.kind, meeting.period_number, meeting.date) == (
            analysis.meeting_id, MeetingKind.ORDINAIRE, 1, date(2026, 10, 12))
        assert store.case_status(team.case.id) is CaseStatus.EN_ANALYSE
        assert "Statut : En analyse" in heading(screen)
        date_text, kind, detail, who, text = cells(screen, f"entry:{analysis.id}")
        assert (date_text, kind, text) == ("12/10/2026", "Analyse", "Difficultés de décodage.")
        assert "réunion du 12/10/2026" in detail and set(who.split(", ")) == {"Lefèvre", "Bernard"}
        assert "Statut du dossier : En analyse." in notifications(app)

        # a second analysis in the same période joins the same meeting; urgent and synthèse
        for where, day in (("ordinaire", "16/10/2026"), ("urgente", "19/11/2026"), ("synthese", "20/11/2026")):
            form = await step(pilot, "a", date=day, meeting=where, members=[team.maitre_g.id], text=f"Analyse {where}")
            if where == "ordinaire":
                assert "Réunion de la période 1 du 12/10/2026." in shown(form, "meeting-hint")
                fill(form, date="08/10/2026")  # before the période's meeting: not in it
                await refused(pilot, form)
                assert "n'a pas encore eu lieu (prévue le 12/10/2026)" in field_error(form, "meeting")
                fill(form, date=day)
            screen = await save(pilot)
        analyses = entries(store, team.case)
        assert analyses[1].meeting_id == meeting.id
        urgent = store.get_meeting(analyses[2].meeting_id)
        assert (urgent.kind, urgent.date) == (MeetingKind.URGENTE, date(2026, 11, 19))
        assert analyses[3].meeting_id is None
        assert len(store.list_meetings("2026-2027")) == 2
        assert "urgence du 19/11/2026" in cells(screen, f"entry:{analyses[2].id}")[2]
        assert cells(screen, f"entry:{analyses[3].id}")[2] == "synthèse du RASED"


async def test_first_intention_responses_and_the_skipped_analysis_warning(store, team):
    """`p`: contact, observation, entretien (with whom); no analysis yet: a warning, not a refusal."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        form = await step(pilot, "p")
        assert "Aucune première analyse n'est enregistrée" in shown(form, "step-warnings")
        assert form.value("sub-kind") == "contact"
        assert not form.query_one("#interlocutor-row").display
        assert "Cochez le ou les membres qui ont répondu." in await refused(pilot, form)
        fill(form, date="13/10/2026", members=[team.maitre_e.id], text="Appel de Mme Martin.")
        screen = await save(pilot)

        form = await step(pilot, "p", sub_kind="observation_classe", date="15/10/2026",
                          members=[team.maitre_g.id], text="Observation en lecture.")
        assert not form.query_one("#interlocutor-row").display
        screen = await save(pilot)

        form = await step(pilot, "p", sub_kind="entretien_explicitation")
        assert form.query_one("#interlocutor-row").display
        fill(form, interlocutor="famille", date="16/10/2026", members=[team.psy.id], text="Entretien avec la mère.")
        screen = await save(pilot)

        contact, observation, entretien = entries(store, team.case)
        assert [(e.kind, e.sub_kind, e.interlocutor) for e in (contact, observation, entretien)] == [
            (EntryKind.PREMIERE_INTENTION, "contact", None),
            (EntryKind.PREMIERE_INTENTION, "observation_classe", None),
            (EntryKind.PREMIERE_INTENTION, "entretien_explicitation", "famille")]
        assert entretien.member_ids == [team.psy.id] and entretien.text == "Entretien avec la mère."
        assert store.case_status(team.case.id) is CaseStatus.PREMIERE_INTENTION
        assert "Statut : Réponses de 1re intention" in heading(screen)
        _, kind, detail, who, text = cells(screen, f"entry:{contact.id}")
        assert (kind, who, text) == ("1re intention", "Lefèvre", "Appel de Mme Martin.")
        assert "Prise de contact" in detail
        assert "Observation en classe" in cells(screen, f"entry:{observation.id}")[2]
        assert "avec la famille" in cells(screen, f"entry:{entretien.id}")[2]
        assert rows(screen) == ["request", f"entry:{contact.id}", f"entry:{observation.id}", f"entry:{entretien.id}"]


async def test_second_intention_responses_other_than_an_aid(store, team, make_pupil_case):
    """`m`: accompagnement professionnel by the RASED alone is refused; a formation ciblée
    makes a new action, that a second case can join. `o`: the partner is required; the
    follow-up shows in the timeline."""
    other = store.add_case(make_pupil_case(team.case.school_id, {"last_name": "Petit", "first_name": "Noé"}))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        form = await step(pilot, "m", date="20/10/2026", members=[team.maitre_e.id], text="Co-construction.")
        warnings = shown(form, "step-warnings")
        assert "Aucune première analyse" in warnings and "Aucune réponse de première intention" in warnings
        assert form.value("sub-kind") == "accompagnement_professionnel"
        assert not form.query_one("#action-row").display
        await refused(pilot, form)
        assert field_error(form, "members").startswith("L'accompagnement professionnel est mené par un membre "
                                                       "de l'équipe de circonscription")
        assert entries(store, team.case) == []
        fill(form, members=[team.maitre_e.id, team.cpc.id])
        await save(pilot)

        form = await step(pilot, "m", sub_kind="formation_ciblee")
        assert form.query_one("#action-row").display and form.value("action") == "nouvelle"
        fill(form, date="21/10/2026", members=[team.cpc.id], text="Formation : enseigner la fluence.")
        screen = await save(pilot)
        accompagnement, formation = entries(store, team.case)
        assert (accompagnement.sub_kind, set(accompagnement.member_ids)) == (
            "accompagnement_professionnel", {team.maitre_e.id, team.cpc.id})
        assert formation.sub_kind == "formation_ciblee" and formation.action_id
        assert "action partagée" in cells(screen, f"entry:{formation.id}")[2]
        assert store.case_status(team.case.id) is CaseStatus.SECONDE_INTENTION

        await press(pilot, "escape")
        await open_case(app, pilot, other.id)
        form = await step(pilot, "m", sub_kind="formation_ciblee", date="22/10/2026", members=[team.cpc.id],
                          text="Même formation.")
        assert options(form, "action") == ["nouvelle", formation.action_id]
        fill(form, action=formation.action_id)
        await save(pilot)
        [joined] = entries(store, other)
        assert joined.action_id == formation.action_id
        [action] = store.shared_actions()
        assert action.action_id == formation.action_id
        assert action.case_numbers == sorted([team.case.number, other.number])

        form = await step(pilot, "o", date="23/10/2026", members=[team.psy.id], text="Bilan orthophonique.")
        assert "Choisissez le partenaire." in await refused(pilot, form)
        assert field_error(form, "partner") == "Choisissez le partenaire."
        fill(form, partner="cmpp", follow_up="Rendez-vous au CMPP le 02/12")
        screen = await save(pilot)
        [_, orientation] = entries(store, other)
        assert (orientation.kind, orientation.sub_kind, orientation.partner, orientation.follow_up) == (
            EntryKind.SECONDE_INTENTION, "orientation_partenaire", "cmpp", "Rendez-vous au CMPP le 02/12")
        _, kind, detail, who, text = cells(screen, f"entry:{orientation.id}")
        assert (kind, who) == ("2de intention", "Bernard") and detail.endswith("CMPP")
        assert text == "Bilan orthophonique. — suivi : Rendez-vous au CMPP le 02/12"


async def test_aids_givers_by_role_consent_rules_and_the_aids_line(store, team, make_member):
    """`s`: the giver select offers only the members of the aid's role; a psychological aid
    needs written consent; a pending consent proposes the aid without starting it; `e`
    reloads the aid with its giver."""
    second_e = store.add_member(make_member(last_name="Roux", first_name="Marc", role="maitre_e"))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        form = await step(pilot, "s", AidForm)
        assert "Aucune première analyse" in shown(form, "step-warnings")
        assert form.value("kind") == "E"
        assert set(options(form, "giver")) == {team.maitre_e.id, second_e.id}
        assert form.value("giver") is None  # two maîtres E: no choice made for you
        fill(form, kind="G")
        await pilot.pause()
        assert options(form, "giver") == [team.maitre_g.id] and form.value("giver") == team.maitre_g.id
        fill(form, kind="psy")
        await pilot.pause()
        assert options(form, "giver") == [team.psy.id]
        assert "autorisation écrite" in shown(form, "consent-hint")
        fill(form, kind="E")
        await pilot.pause()
        message = await refused(pilot, form)
        assert field_error(form, "giver") == "Choisissez le membre du RASED qui donne l'aide."
        assert field_error(form, "modality") == "Choisissez la modalité."
        assert field_error(form, "consent").startswith("Indiquez l'accord de la famille")
        assert "3 erreurs" in message
        fill(form, giver=second_e.id, modality="petit_groupe", sessions="2,5", objectives="Fluence de lecture",
             start="20/10/2026", weeks="abc", consent="donne", consent_form="oral", consent_date="18/10/2026",
             consent_by="la mère")
        await refused(pilot, form)
        assert field_error(form, "weeks") == "Nombre entier attendu."
        fill(form, weeks="10")
        screen = await save(pilot)

        [aid_e] = store.list_aids(team.case.id)
        assert (aid_e.kind, aid_e.member_id, aid_e.modality, aid_e.sessions_per_week, aid_e.expected_weeks) == (
            AidKind.E, second_e.id, "petit_groupe", 2.5, 10)
        assert (aid_e.start_date, aid_e.consent_status, aid_e.consent_form, aid_e.consent_date, aid_e.consent_by) == (
            date(2026, 10, 20), ConsentStatus.DONNE, "oral", date(2026, 10, 18), "la mère")
        [opening] = entries(store, team.case)
        assert (opening.kind, opening.sub_kind, opening.aid_id, opening.member_ids) == (
            EntryKind.SECONDE_INTENTION, "aide_specialisee", aid_e.id, [second_e.id])
        assert store.case_status(team.case.id) is CaseStatus.SECONDE_INTENTION
        aids_line = shown(screen, "case-aids")
        assert aids_line.startswith("Aide E · Marc Roux · petit groupe")
        assert "depuis le 20/10/2026 (4 sem. sur 10)" in aids_line and "pas encore évaluée" in aids_line
        assert "Évaluation d'une aide (v)" in shown(screen, "case-next")

        # psychological aid: oral consent refused, written consent accepted
        form = await step(pilot, "s", AidForm, kind="psy")
        await pilot.pause()
        fill(form, modality="individuel", start="02/11/2026", consent="donne", consent_form="oral")
        await refused(pilot, form)
        assert "autorisation écrite des parents" in field_error(form, "consent-form")
        assert len(store.list_aids(team.case.id)) == 1
        fill(form, consent_form="ecrit")
        await save(pilot)

        # aid G, consent pending: proposed, not started
        form = await step(pilot, "s", AidForm, kind="G")
        await pilot.pause()
        fill(form, modality="individuel", start="10/11/2026", consent="en_attente")
        await pilot.pause()
        assert "Accord en attente" in shown(form, "consent-hint")
        screen = await save(pilot)
        aids = {aid.kind: aid for aid in store.list_aids(team.case.id)}
        assert (aids[AidKind.PSY].member_id, aids[AidKind.PSY].consent_form) == (team.psy.id, "ecrit")
        assert (aids[AidKind.G].member_id, aids[AidKind.G].consent_status) == (team.maitre_g.id, "en_attente")
        assert "accord en attente — non commencée" in shown(screen, "case-aids")

        # editing the aid keeps its giver (one of two maîtres E) and writes one modification
        select_row(screen, f"entry:{opening.id}")
        form = await press(pilot, "e")
        assert isinstance(form, AidForm) and form.aid.id == aid_e.id
        assert form.value("giver") == second_e.id and form.value("weeks") == "10"
        fill(form, sessions="3")
        await save(pilot)
        assert store.get_aid(aid_e.id).sessions_per_week == 3
        assert len(audit(store, "modification", "aids")) == 1


async def test_refused_or_pending_consent_no_evaluation_and_no_aid_g_by_a_maitre_e(store, team):
    """A refused consent: the aid is recorded as proposed and ended on its start, an end that
    `suppr` cannot undo. `v` opens no form while no aid started with the family's consent
    (the store refuses too). Without a maître G, no one is offered for an aid G; the store
    refuses a maître E."""
    store.update_member(team.maitre_g.model_copy(update={"active_to": date(2026, 10, 31)}))
    pending = open_aid(store, team, AidKind.PSY, start="2026-10-20", consent=ConsentStatus.EN_ATTENTE)
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        form = await step(pilot, "s", AidForm, modality="individuel", start="21/10/2026", consent="refuse")
        assert form.value("giver") == team.maitre_e.id  # the only maître E, chosen for you
        await pilot.pause()
        assert "Accord refusé" in shown(form, "consent-hint")
        screen = await save(pilot)
        refused_aid = next(aid for aid in store.list_aids(team.case.id) if aid.kind is AidKind.E)
        assert (refused_aid.consent_status, refused_aid.end_date, refused_aid.end_reason) == (
            ConsentStatus.REFUSE, date(2026, 10, 21), AidEndReason.AUTRE)
        assert "accord refusé — non commencée" in shown(screen, "case-aids")
        select_row(screen, f"aidend:{refused_aid.id}")
        assert await press(pilot, "delete") is screen
        assert "Cette aide n'a jamais commencé (accord refusé) : il n'y a pas de fin à annuler." in notifications(app)

        assert await press(pilot, "v") is screen
        assert "Aucune aide commencée avec l'accord de la famille : rien à évaluer." in notifications(app)
        form = await step(pilot, "s", AidForm, kind="G")
        await pilot.pause()
        assert options(form, "giver") == [] and form.value("giver") is None
        assert field_error(await refused(pilot, form) and form, "giver") == (
            "Choisissez le membre du RASED qui donne l'aide.")
    with pytest.raises(StoreError, match="l'accord de la famille n'est pas donné"):
        store.add_evaluation(AidEvaluation(aid_id=pending.id, date="2026-11-02", phase="debut", score=4))
    before = store.counts()
    aid = Aid(case_id=team.case.id, member_id=team.maitre_e.id, kind="G", modality="individuel",
              start_date="2026-10-20", consent_status="donne", consent_form="oral")
    entry = TimelineEntry(case_id=team.case.id, kind=EntryKind.SECONDE_INTENTION, sub_kind="aide_specialisee",
                          date="2026-10-20", member_ids=[team.maitre_e.id])
    with pytest.raises(StoreError, match="une aide G par un maître G"):
        store.open_aid(aid, entry)
    assert store.counts() == before


async def test_a_refused_consent_corrected_to_given_starts_the_aid(store, team):
    """A refusal ends the aid on its start (it never began); once the family agrees after
    all and the consent is corrected with `e`, the aid runs."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        await step(pilot, "s", AidForm, modality="individuel", start="20/10/2026", consent="refuse")
        screen = await save(pilot)
        [aid] = store.list_aids(team.case.id)
        assert (aid.end_date, aid.consent_status) == (date(2026, 10, 20), ConsentStatus.REFUSE)
        assert "accord refusé — non commencée" in shown(screen, "case-aids")
        [opening] = entries(store, team.case)
        select_row(screen, f"entry:{opening.id}")
        form = await press(pilot, "e")
        fill(form, consent="donne", consent_form="ecrit", consent_date="20/10/2026")
        screen = await save(pilot)
        corrected = store.get_aid(aid.id)
        assert corrected.consent_status is ConsentStatus.DONNE
        assert corrected.is_open, (corrected.end_date, corrected.end_note)
        assert f"aidend:{aid.id}" not in rows(screen)


async def test_the_giver_field_says_when_no_member_has_the_role(store, team):
    """No active maître G: choosing an aid G says why the list of givers is empty."""
    store.update_member(team.maitre_g.model_copy(update={"active_to": date(2026, 10, 31)}))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        form = await step(pilot, "s", AidForm, kind="G")
        await pilot.pause()
        hint = form.query_one("#giver-hint")
        assert hint.display and str(hint.render()).startswith("Aucun membre actif n'a la fonction « Maître G")


async def test_evaluations_and_the_end_of_an_aid(store, team):
    """`v` twice (début, intermédiaire): the progression shows; `f` refuses an end before the start."""
    add_entry(store, team, EntryKind.ANALYSE, text="Problématique", member_ids=[team.maitre_e.id])
    aid = open_aid(store, team, AidKind.E, start="2026-10-20")
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        form = await step(pilot, "v", EvaluationForm)
        assert (form.value("aid"), form.value("phase")) == (aid.id, "debut")
        fill(form, date="19/10/2026", score="12")
        await refused(pilot, form)
        assert field_error(form, "date").startswith("L'évaluation précède le début de l'aide (20/10/2026)")
        assert field_error(form, "score") == "Score : un nombre entier de 0 à 10."
        fill(form, date="21/10/2026", score="3", observations="Lit 30 mots par minute.")
        screen = await save(pilot)
        form = await step(pilot, "v", EvaluationForm)
        assert form.value("phase") == "intermediaire"
        fill(form, date="18/11/2026", score="6")
        screen = await save(pilot)

        first, second = store.list_evaluations(aid.id)
        assert [(e.phase, e.date, e.score) for e in (first, second)] == [
            (EvaluationPhase.DEBUT, date(2026, 10, 21), 3), (EvaluationPhase.INTERMEDIAIRE, date(2026, 11, 18), 6)]
        assert first.observations == "Lit 30 mots par minute."
        assert "progrès : 3/10 → 6/10" in shown(screen, "case-aids")
        _, kind, detail, who, text = cells(screen, f"evaluation:{first.id}")
        assert (kind, who, text) == ("Évaluation", "Lefèvre", "Lit 30 mots par minute.")
        assert "3/10" in detail and "début" in detail

        form = await step(pilot, "f", EndAidForm)
        assert form.value("aid") == aid.id
        fill(form, date="15/10/2026")
        await refused(pilot, form)
        assert field_error(form, "date") == "La fin de l'aide précède son début (20/10/2026)."
        assert field_error(form, "reason") == "Choisissez le motif de fin."
        assert store.get_aid(aid.id).is_open
        fill(form, date="20/11/2026", reason="objectifs_atteints", note="Lecteur autonome.")
        screen = await save(pilot)
        ended = store.get_aid(aid.id)
        assert (ended.end_date, ended.end_reason, ended.end_note) == (
            date(2026, 11, 20), AidEndReason.OBJECTIFS_ATTEINTS, "Lecteur autonome.")
        assert rows(screen)[-1] == f"aidend:{aid.id}"
        assert cells(screen, f"aidend:{aid.id}")[1] == "Fin d'aide"
        assert "20/11/2026 → 20/11/2026" not in shown(screen, "case-aids")
        assert "20/10/2026 → 20/11/2026 (objectifs atteints)" in shown(screen, "case-aids")

        # no aid running any more: `f` only says so
        assert await press(pilot, "f") is screen
        assert "Aucune aide en cours dans ce dossier." in notifications(app)


async def test_report_bilan_closure_refusals_on_a_closed_case_and_reopening(store, team):
    """`y` carries the case into the next year; `b` (an aid or the whole case); `c` ends the
    running aids, then every step is refused but `r`, which wants a reason; a reopened case
    refuses `r`."""
    add_entry(store, team, EntryKind.ANALYSE, text="Problématique", member_ids=[team.maitre_e.id])
    aid = open_aid(store, team, AidKind.E, start="2026-10-20")
    assert store.count_cases(CaseFilter(school_year="2027-2028")) == 0
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        form = await step(pilot, "y", date="15/11/2026", members=[team.maitre_e.id],
                          text="Suivi à poursuivre à la rentrée.")
        assert "il figurera aussi dans la liste de l'année 2027-2028" in shown(form, "report-year")
        screen = await save(pilot)
        report = entries(store, team.case)[-1]
        assert (report.kind, report.to_school_year, report.date) == (EntryKind.REPORT, "2027-2028", date(2026, 11, 15))
        assert store.count_cases(CaseFilter(school_year="2026-2027")) == 1
        assert store.count_cases(CaseFilter(school_year="2027-2028")) == 1
        assert "2026-2027 + 2027-2028" in heading(screen)
        assert "Statut : Réponses de 2de intention" in heading(screen)  # a report leaves the status alone
        assert "vers 2027-2028" in cells(screen, f"entry:{report.id}")[2]

        form = await step(pilot, "b")
        assert options(form, "aid") == [aid.id, "dossier"] and form.value("aid") == aid.id
        assert "Écrivez le bilan." in await refused(pilot, form)
        fill(form, aid="dossier", date="16/11/2026", text="Progrès nets en lecture.")
        screen = await save(pilot)
        bilan = entries(store, team.case)[-1]
        assert (bilan.kind, bilan.aid_id, bilan.text) == (EntryKind.BILAN, None, "Progrès nets en lecture.")
        assert "Statut : Bilan" in heading(screen) and "Clôture (c)" in shown(screen, "case-next")

        form = await step(pilot, "c")
        assert "1 aide en cours : elle prendra fin à la date de la clôture." in shown(form, "step-warnings")
        assert "Choisissez l'issue du dossier." in await refused(pilot, form)
        fill(form, date="19/11/2026", outcome="objectifs_atteints", members=[team.maitre_e.id], text="Fin du suivi.")
        screen = await save(pilot)
        closure = entries(store, team.case)[-1]
        assert (closure.kind, closure.sub_kind) == (EntryKind.CLOTURE, "objectifs_atteints")
        ended = store.get_aid(aid.id)
        assert (ended.end_date, ended.end_reason) == (date(2026, 11, 19), AidEndReason.OBJECTIFS_ATTEINTS)
        assert store.case_status(team.case.id) is CaseStatus.CLOTUREE
        assert "Statut : Clôturée" in heading(screen)
        assert "Réouverture (r)" in shown(screen, "case-next")
        assert {f"aidend:{aid.id}", f"entry:{closure.id}"} <= set(rows(screen))

        # a closed case: no form for any step; the menu offers the reopening only
        before = store.counts()
        for key in "apsmovfbcyt":
            app._notifications.clear()
            assert await press(pilot, key) is screen, key
            assert notifications(app) == [CLOSED_MESSAGE]
        menu = await press(pilot, "plus")
        assert isinstance(menu, StepMenu)
        listed = menu.query_one("#step-menu-options")
        enabled = [listed.get_option_at_index(i).id for i in range(listed.option_count)
                   if not listed.get_option_at_index(i).disabled]
        assert enabled == ["reouverture"]
        assert "← suggérée" in str(listed.get_option_at_index(0).prompt)
        form = await press(pilot, "r")  # picked in the menu
        assert isinstance(form, EntryForm) and form.step.value == "reouverture"
        assert store.counts() == before
        assert "Indiquez pourquoi le dossier est rouvert." in await refused(pilot, form)
        fill(form, text="Nouvelle demande de l'enseignante.")
        screen = await save(pilot)
        assert store.case_status(team.case.id) is CaseStatus.ROUVERTE
        assert "Statut : Rouverte" in heading(screen)
        assert entries(store, team.case)[-1].kind is EntryKind.REOUVERTURE

        app._notifications.clear()
        assert await press(pilot, "r") is screen
        assert notifications(app) == ["Le dossier est ouvert : il n'y a rien à rouvrir."]
        assert len(entries(store, team.case)) == 6


async def test_dates_before_the_request_or_in_the_future_are_refused(store, team):
    """Nothing is written: the error is shown under the date and in the summary."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        form = await step(pilot, "p", members=[team.maitre_e.id], text="Contact.")
        assert form.value("date") == "21/11/2026"  # today by default
        for typed, message in (
                ("04/10/2026", "Cette étape est datée d'avant l'envoi de la demande (05/10/2026)."),
                ("22/11/2026", "La date ne peut pas être dans le futur."),
                ("31/09/2026", "Le 31/09/2026 n'existe pas dans le calendrier."),
                ("", "La date est obligatoire.")):
            fill(form, date=typed)
            summary = await refused(pilot, form)
            assert field_error(form, "date") == message, typed
            assert message in summary and "Rien n'a été enregistré" in summary
            assert form.query_one("#date").has_focus
        assert entries(store, team.case) == []
        fill(form, date="05/10/2026")  # the day of the request itself is fine
        await save(pilot)
        assert [entry.date for entry in entries(store, team.case)] == [date(2026, 10, 5)]


# -- confidential notes and the read-only mode ------------------------------------------------


async def write_notes(app: RasedApp, pilot, team: Team) -> None:
    """Two notes through `t`: the psychologue's (confidential by default), a maître E's."""
    form = await step(pilot, "t")
    assert set(options(form, "author")) == {team.maitre_e.id, team.maitre_g.id, team.psy.id, team.cpc.id}
    assert form.query_one("#confidential", Checkbox).value is False
    assert "La note est vide." in await refused(pilot, form)
    fill(form, author=team.psy.id, text="Entretien avec la mère : séparation récente.")
    await pilot.pause()
    assert form.query_one("#confidential", Checkbox).value is True
    await save(pilot)
    form = await step(pilot, "t", author=team.maitre_e.id, text="Cahier de liaison vu.")
    await pilot.pause()
    assert form.query_one("#confidential", Checkbox).value is False
    fill(form, confidential=True)  # only a psychologue's note is confidential
    await refused(pilot, form)
    assert field_error(form, "confidential").startswith("Une note confidentielle est celle d'un·e psychologue")
    fill(form, confidential=False)
    await save(pilot)


async def test_a_confidential_note_is_hidden_in_read_only_mode(store, team, db_path):
    """Writable: the note shows marked confidential. Read-only: the row is gone, the screen
    says a note is hidden, and no editing key opens anything."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        await write_notes(app, pilot, team)
        secret, shared = entries(store, team.case)
        assert (secret.kind, secret.confidential, secret.author_member_id, secret.member_ids) == (
            EntryKind.NOTE, True, team.psy.id, [team.psy.id])
        assert (shared.confidential, shared.author_member_id) == (False, team.maitre_e.id)
        assert cells(screen, f"entry:{secret.id}")[4] == (
            "🔒 confidentiel — Entretien avec la mère : séparation récente.")
        assert cells(screen, f"entry:{shared.id}")[4] == "Cahier de liaison vu."
        assert "Statut : Reçue" in heading(screen)  # notes do not change the status

    with Store.open(db_path, read_only=True) as read_only:
        before = read_only.counts()
        app = new_app(read_only)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_case(app, pilot, team.case.id)
            assert rows(screen) == ["request", f"entry:{shared.id}"]
            assert shown(screen, "case-next") == "Lecture seule — 1 note confidentielle masquée"
            for key in ("a", "t", "r", "plus", "e", "delete"):
                assert await press(pilot, key) is screen, key
            select_row(screen, "request")
            assert await press(pilot, "e") is screen
            assert isinstance(await press(pilot, "j"), JournalScreen)  # reading stays possible
        assert read_only.counts() == before


async def test_the_journal_hides_confidential_notes_in_read_only_mode(store, team, db_path):
    """The IEN's read-only review must not read the psychologue's note through the journal."""
    add_entry(store, team, EntryKind.NOTE, day="2026-11-02", text="Séparation des parents.", confidential=True,
              author_member_id=team.psy.id, member_ids=[team.psy.id])
    with Store.open(db_path, read_only=True) as read_only:
        app = new_app(read_only)
        async with app.run_test(size=SIZE) as pilot:
            await open_case(app, pilot, team.case.id)
            journal = await press(pilot, "j")
            assert isinstance(journal, JournalScreen)
            dialog = await press(pilot, "enter")  # the last line: the note's addition
            assert isinstance(dialog, TextDialog)
            assert "Séparation des parents" not in dialog.markdown
            assert all("Séparation" not in json.dumps(line.after) for line in journal.lines)


async def test_a_note_keeps_the_confidential_box_as_unticked_when_the_date_changes(store, team):
    """The psychologue unticks « confidentielle », then corrects the date: the box stays unticked."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        form = await step(pilot, "t", author=team.psy.id, text="Peut être lue par l'IEN.")
        await pilot.pause()
        fill(form, confidential=False)
        await pilot.pause()
        fill(form, date="20/11/2026")
        await pilot.pause()
        assert form.query_one("#confidential", Checkbox).value is False


# -- editing and deleting the lines of the timeline --------------------------------------------


async def confirm(pilot, answer: str) -> CaseScreen:
    """Answer the ConfirmDialog in front: 'o' (oui) or 'n' (non)."""
    assert isinstance(pilot.app.screen, ConfirmDialog)
    return await press(pilot, answer)


async def test_edit_and_delete_lines_with_their_audit_and_journal(store, team):
    """`e` loads a line in its form and saves one 'modification'; `suppr` asks first, `n`
    keeps, `o` removes (an aid with its evaluations); the request is never deleted; `j`
    lists it all."""
    analysis = add_entry(store, team, EntryKind.ANALYSE, text="Problématique", member_ids=[team.maitre_e.id])
    contact = add_entry(store, team, EntryKind.PREMIERE_INTENTION, day="2026-10-13", sub_kind="contact",
                        text="Appel.", member_ids=[team.maitre_g.id])
    aid = open_aid(store, team, AidKind.E, start="2026-10-20")
    evaluations = [store.add_evaluation(AidEvaluation(aid_id=aid.id, date=day, phase=phase, score=score))
                   for day, phase, score in (("2026-10-22", "debut", 2), ("2026-11-12", "intermediaire", 5))]
    store.end_aid(aid.id, date(2026, 11, 16), AidEndReason.RELAIS_ENSEIGNANT)
    [opening] = [entry for entry in entries(store, team.case) if entry.aid_id == aid.id]
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        assert rows(screen) == ["request", f"entry:{analysis.id}", f"entry:{contact.id}", f"entry:{opening.id}",
                                f"evaluation:{evaluations[0].id}", f"evaluation:{evaluations[1].id}",
                                f"aidend:{aid.id}"]
        assert screen.selected_key() == f"aidend:{aid.id}"  # the cursor starts on the latest line

        # `enter` reads a line in full; `d`, or `enter` on the request, reads the request
        select_row(screen, f"entry:{contact.id}")
        dialog = await press(pilot, "enter")
        assert isinstance(dialog, TextDialog) and "Appel" in dialog.markdown
        screen = await press(pilot, "escape")
        for keys in (("d",), ("home", "enter")):
            dialog = await press(pilot, *keys)
            assert isinstance(dialog, TextDialog) and "Déchiffrage lent" in dialog.markdown, keys
            screen = await press(pilot, "escape")
        assert screen.selected_key() == "request"

        # the request: `e` opens the intake form, `suppr` refuses
        form = await press(pilot, "e")
        assert isinstance(form, IntakeScreen)
        screen = await press(pilot, "escape")
        app._notifications.clear()
        assert await press(pilot, "delete") is screen
        assert notifications(app) == [
            "La demande elle-même ne se supprime pas : modifiez-la (e) ou clôturez le dossier (c)."]

        # edit a step: its form comes loaded; escape with changes asks before leaving
        select_row(screen, f"entry:{contact.id}")
        form = await press(pilot, "e")
        assert isinstance(form, EntryForm) and form.entry.id == contact.id
        assert (form.value("date"), form.value("sub-kind"), form.value("members"), form.value("text")) == (
            "13/10/2026", "contact", [team.maitre_g.id], "Appel.")
        assert shown(form, "step-warnings") == ""
        fill(form, text="Appel de Mme Martin, rendez-vous pris.")
        assert isinstance(await press(pilot, "escape"), ConfirmDialog)
        assert await confirm(pilot, "n") is form
        screen = await save(pilot)
        assert store.get_entry(contact.id).text == "Appel de Mme Martin, rendez-vous pris."
        assert [row["row_id"] for row in audit(store, "modification", "timeline_entries")] == [contact.id]
        assert cells(screen, f"entry:{contact.id}")[4] == "Appel de Mme Martin, rendez-vous pris."

        # edit an evaluation and the end of the aid
        select_row(screen, f"evaluation:{evaluations[1].id}")
        form = await press(pilot, "e")
        assert isinstance(form, EvaluationForm) and (form.value("phase"), form.value("score")) == ("intermediaire", "5")
        fill(form, score="6")
        screen = await save(pilot)
        assert store.get_evaluation(evaluations[1].id).score == 6
        select_row(screen, f"aidend:{aid.id}")
        form = await press(pilot, "e")
        assert isinstance(form, EndAidForm) and form.value("reason") == "relais_enseignant"
        fill(form, reason="objectifs_atteints")
        screen = await save(pilot)
        assert store.get_aid(aid.id).end_reason is AidEndReason.OBJECTIFS_ATTEINTS

        # deleting the end of an aid resumes it
        select_row(screen, f"aidend:{aid.id}")
        await press(pilot, "delete")
        assert "L'aide reprend" in str(app.screen.query_one("#confirm-question").render())
        screen = await confirm(pilot, "o")
        assert store.get_aid(aid.id).is_open and f"aidend:{aid.id}" not in rows(screen)

        # delete a step: `n` keeps it, `o` removes it
        before = store.counts()
        select_row(screen, f"entry:{contact.id}")
        await press(pilot, "delete")
        question = str(app.screen.query_one("#confirm-question").render())
        assert question.startswith("Supprimer l'étape « 1re intention » du 13/10/2026")
        screen = await confirm(pilot, "n")
        assert store.counts() == before and store.get_entry(contact.id) is not None
        await press(pilot, "delete")
        screen = await confirm(pilot, "o")
        assert store.get_entry(contact.id) is None and f"entry:{contact.id}" not in rows(screen)
        [removed] = audit(store, "suppression", "timeline_entries")
        assert removed["row_id"] == contact.id and json.loads(removed["before"])["text"].startswith("Appel de Mme")
        assert "Statut : Réponses de 2de intention" in heading(screen)  # the aid's step is still there

        # deleting the step that opened the aid removes the aid and its evaluations
        select_row(screen, f"entry:{opening.id}")
        await press(pilot, "delete")
        assert "L'aide elle-même sera supprimée, avec 2 évaluations." in str(
            app.screen.query_one("#confirm-question").render())
        screen = await confirm(pilot, "o")
        assert store.list_aids(team.case.id) == [] and store.list_evaluations(aid.id) == []
        assert rows(screen) == ["request", f"entry:{analysis.id}"]
        assert "Statut : En analyse" in heading(screen) and not screen.query_one("#case-aids").display
        assert {row["row_id"] for row in audit(store, "suppression", "aid_evaluations")} == {e.id for e in evaluations}
        assert [row["row_id"] for row in audit(store, "suppression", "aids")] == [aid.id]

        # the journal lists every addition, modification and deletion of the case
        journal = await press(pilot, "j")
        assert isinstance(journal, JournalScreen)
        table = journal.query_one("#journal-table", DataTable)
        lines = [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]
        assert len(lines) == len(store.case_journal(team.case.id, include_confidential=True)) == table.row_count
        actions = [(line[2], line[3]) for line in lines]
        assert actions[0] == ("Ajout", "Demande")
        for expected in (("Modification", "Étape : 1re intention"), ("Modification", "Évaluation"),
                         ("Modification", "Aide E"), ("Suppression", "Étape : 1re intention"),
                         ("Suppression", "Évaluation"), ("Suppression", "Aide E")):
            assert expected in actions, expected
        assert actions.count(("Suppression", "Évaluation")) == 2
        modified_text = next(line for line in lines if line[2:4] == ["Modification", "Étape : 1re intention"])
        assert modified_text[4] == "Texte"
        dialog = await press(pilot, "enter")
        assert isinstance(dialog, TextDialog)
        await press(pilot, "escape")
        assert isinstance(await press(pilot, "escape"), CaseScreen)


async def test_a_refused_analysis_records_no_meeting(store, team, db_path):
    """Another window closes the case while the analysis form is open: nothing is written."""
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_case(app, pilot, team.case.id)
        form = await step(pilot, "a", date="12/10/2026", members=[team.maitre_e.id], text="Problématique")
        with Store.open(db_path) as other_window:
            other_window.close_case(TimelineEntry(case_id=team.case.id, kind=EntryKind.CLOTURE,
                                                  sub_kind="sans_suite", date="2026-10-10"))
        assert "Le dossier est clôturé" in await refused(pilot, form)
        assert [entry.kind for entry in entries(store, team.case)] == [EntryKind.CLOTURE]
        assert store.list_meetings("2026-2027") == []


# -- the whole story of a case, at the keyboard ---------------------------------------------------


async def back_to_the_list(pilot, case_id: str) -> str:
    """`escape` to the list, read the case's status there (column 4), `enter` to reopen it."""
    cases = await press(pilot, "escape")
    assert isinstance(cases, CasesScreen)
    status = str(cases.query_one(DataTable).get_row(case_id)[4])
    assert isinstance(await press(pilot, "enter"), CaseScreen)
    return status


async def test_the_story_of_a_request_from_reception_to_reopening(store, team):
    """The issue's scenario: request, analysis, contact, observation, aide E with consent, two
    evaluations, closure, reopening — the status follows on the case screen and in the list."""
    case = team.case
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        cases = app.screen
        assert isinstance(cases, CasesScreen)
        assert str(cases.query_one(DataTable).get_row(case.id)[4]) == "Reçue"
        screen = await press(pilot, "enter")
        assert isinstance(screen, CaseScreen) and f"Dossier {case.number}" in heading(screen)
        assert "Statut : Reçue" in heading(screen)

        story = [
            ("a", EntryForm, dict(date="12/10/2026", members=[team.maitre_e.id, team.psy.id],
                                  text="Difficultés de lecture, hypothèse d'un trouble du langage écrit."),
             CaseStatus.EN_ANALYSE),
            ("p", EntryForm, dict(date="14/10/2026", members=[team.maitre_e.id], text="Appel de Mme Martin."),
             CaseStatus.PREMIERE_INTENTION),
            ("p", EntryForm, dict(sub_kind="observation_classe", date="16/10/2026", members=[team.maitre_e.id],
                                  text="Observation pendant la lecture."), CaseStatus.PREMIERE_INTENTION),
            ("s", AidForm, dict(modality="petit_groupe", sessions="2", objectives="Fluence", start="03/11/2026",
                                weeks="8", consent="donne", consent_form="oral", consent_date="02/11/2026",
                                consent_by="les deux parents"), CaseStatus.SECONDE_INTENTION),
            ("v", EvaluationForm, dict(date="04/11/2026", score="3", observations="30 mots/minute"),
             CaseStatus.SECONDE_INTENTION),
            ("v", EvaluationForm, dict(date="18/11/2026", score="5", observations="45 mots/minute"),
             CaseStatus.SECONDE_INTENTION),
            ("c", EntryForm, dict(date="20/11/2026", outcome="relais_enseignant", text="Relais en classe."),
             CaseStatus.CLOTUREE),
            ("r", EntryForm, dict(date="21/11/2026", text="Nouvelle demande de l'enseignante."), CaseStatus.ROUVERTE),
        ]
        before = CaseStatus.RECUE
        for key, form_type, values, status in story:
            app._notifications.clear()
            await step(pilot, key, form_type, **values)
            screen = await save(pilot)
            assert store.case_status(case.id) is status, key
            assert f"Statut : {status.label}" in heading(screen), key
            if status is not before:
                assert f"Statut du dossier : {status.label}." in notifications(app), key
            in_the_list = SHORT_STATUS.get(status, status.label)  # the list's narrow column
            if key in ("a", "r"):  # `escape` to the list and `enter` back
                assert await back_to_the_list(pilot, case.id) == in_the_list, key
                screen = app.screen
            else:  # cheaper: the list under the case screen, read again as `escape` does
                cases.reload(select_case_id=case.id)
                assert str(cases.query_one(DataTable).get_row(case.id)[4]) == in_the_list, key
            before = status

        kinds = [(entry.kind.value, entry.sub_kind) for entry in entries(store, case)]
        assert kinds == [("analyse", None), ("premiere_intention", "contact"),
                         ("premiere_intention", "observation_classe"), ("seconde_intention", "aide_specialisee"),
                         ("cloture", "relais_enseignant"), ("reouverture", None)]
        [aid] = store.list_aids(case.id)
        assert (aid.member_id, aid.end_date, aid.end_reason) == (team.maitre_e.id, date(2026, 11, 20),
                                                                 AidEndReason.RELAIS_ENSEIGNANT)
        assert [e.score for e in store.list_evaluations(aid.id)] == [3, 5]
        assert "3/10 → 5/10" in shown(screen, "case-aids")
        assert "Première analyse (a)" in shown(screen, "case-next")
        assert store.case_status(case.id) is CaseStatus.ROUVERTE
        assert len(rows(screen)) == 1 + 6 + 2 + 1  # request, steps, evaluations, end of the aid
        assert store.verify_audit().intact


# -- a long timeline, quick to show -------------------------------------------------------------


async def test_the_timeline_shows_texts_as_typed_and_the_palette_offers_the_steps(store, team):
    """Square brackets are not markup: '[sic]' shows. Each step, and the journal, is in the
    palette while the case is in front."""
    note = add_entry(store, team, EntryKind.NOTE, text="Lit « chateau » [sic] pour « château ».")
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        table = screen.query_one("#timeline", DataTable)
        line = table.render_line(1 + table.get_row_index(f"entry:{note.id}")).text
        assert "Lit « chateau » [sic] pour « château »." in line
        titles = [command.title for command in app.get_system_commands(screen)]
        assert {"Première analyse", "Note de suivi", "Journal du dossier"} <= set(titles)


async def test_a_long_timeline_shows_each_step_with_its_meeting_read_once(store, team, monkeypatch):
    meeting = store.meeting_for("2026-2027", MeetingKind.ORDINAIRE, period_number=1, day=date(2026, 10, 12))
    add_entry(store, team, EntryKind.ANALYSE, "2026-10-12", text="Problématique", meeting_id=meeting.id,
              member_ids=[team.maitre_e.id])
    notes = [add_entry(store, team, EntryKind.NOTE, f"2026-10-{day}", text=f"Note {day}",
                       member_ids=[team.maitre_g.id]) for day in range(13, 31)]
    meeting_reads = []
    get_meetings = Store.get_meetings
    monkeypatch.setattr(Store, "get_meetings", lambda self, ids: (meeting_reads.append(set(ids)),
                                                                  get_meetings(self, ids))[1])
    monkeypatch.setattr(Store, "get_meeting", lambda self, meeting_id: pytest.fail("one meeting at a time"))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_case(app, pilot, team.case.id)
        assert len(rows(screen)) == 1 + 1 + len(notes)
        assert meeting_reads == [{meeting.id}]
        assert [cells(screen, f"entry:{note.id}")[3:] for note in notes[:2]] == [["Martin", "Note 13"],
                                                                                 ["Martin", "Note 14"]]

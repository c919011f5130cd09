"""The order of a case's timeline (domain/timeline.py) and the timeline rules of the models:
steps and the entries they write, the current episode, refusals, suggestions, warnings,
dates, the carry-over year, evaluations of an aid, and aids ending at a closure."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from pydantic import ValidationError

from rased_tui.domain.enums import (
    AidEndReason,
    CaseStatus,
    ClosureOutcome,
    EntryKind,
    EvaluationPhase,
    Interlocutor,
    Partner,
    SecondResponse,
)
from rased_tui.domain.models import STORED, Aid, AidEvaluation, TimelineEntry, french_messages
from rased_tui.domain.timeline import (
    AID_END_AT_CLOSURE,
    CLOSED_MESSAGE,
    OTHER_RESPONSES,
    STEP_ENTRY_KIND,
    Step,
    Suggestion,
    aid_end_reason_at_closure,
    carry_over_year,
    current_episode,
    date_problem,
    evaluation_problem,
    refusal,
    skipped_steps,
    step_of,
    suggest_next_step,
)

CASE_ID = "c" * 8 + "-cccc-4ccc-8ccc-" + "c" * 12
_ids = itertools.count(1)


def entry(kind: str, day: str = "2026-10-10", sub_kind: str | None = None, *, created_at: str | None = None,
          **fields) -> TimelineEntry:
    """A valid entry of the test case, with the fields its kind requires."""
    kind = EntryKind(kind)
    defaults: dict = {"id": f"{next(_ids):08d}-0000-4000-8000-000000000000"}
    if kind is EntryKind.ANALYSE:
        defaults["text"] = "Problématique : lecture."
    if kind is EntryKind.REPORT:
        defaults["to_school_year"] = "2027-2028"
    if kind is EntryKind.SECONDE_INTENTION and sub_kind == "orientation_partenaire":
        defaults["partner"] = "cmpp"
    return TimelineEntry(**{**defaults, "case_id": CASE_ID, "kind": kind, "sub_kind": sub_kind, "date": day,
                            "created_at": created_at, **fields})


def aid(kind: str = "E", *, consent: str = "donne", start: str = "2026-11-02", end: str | None = None,
        **fields) -> Aid:
    consent_form = ("ecrit" if kind == "psy" else "oral") if consent == "donne" else None
    return Aid(**{"case_id": CASE_ID, "member_id": "m" * 36, "kind": kind, "modality": "petit_groupe",
                  "start_date": start, "end_date": end, "end_reason": "objectifs_atteints" if end else None,
                  "consent_status": consent, "consent_form": consent_form, **fields})


def evaluation(of: Aid, phase: str, day: str = "2026-11-10") -> AidEvaluation:
    return AidEvaluation(aid_id=of.id, date=day, phase=phase)


def refused(**fields) -> list[str]:
    """The French messages a TimelineEntry with these fields is refused with."""
    with pytest.raises(ValidationError) as caught:
        TimelineEntry(**{"case_id": CASE_ID, "date": "2026-10-10", **fields})
    return french_messages(caught.value, TimelineEntry)


# -- Step and the entries each step writes ------------------------------------------------------


def test_every_step_has_a_french_label_and_is_found_by_it():
    assert Step.AIDE.label == "Aide spécialisée du RASED (E, G, psy)"
    assert Step.REOUVERTURE.label == "Réouverture"
    for step in Step:
        assert step.label and Step.from_label(step.label) is step


def test_every_step_writes_an_entry_but_evaluations_and_aid_endings():
    assert set(Step) - set(STEP_ENTRY_KIND) == {Step.EVALUATION, Step.FIN_AIDE}
    assert {STEP_ENTRY_KIND[step] for step in (Step.AIDE, Step.AUTRE_REPONSE, Step.ORIENTATION)} == \
        {EntryKind.SECONDE_INTENTION}
    # every kind of entry is written by some step
    assert set(STEP_ENTRY_KIND.values()) == set(EntryKind)


@pytest.mark.parametrize("kind, sub_kind, step", [
    ("analyse", None, Step.ANALYSE),
    ("premiere_intention", "contact", Step.PREMIERE_INTENTION),
    ("premiere_intention", "observation_classe", Step.PREMIERE_INTENTION),
    ("premiere_intention", "entretien_explicitation", Step.PREMIERE_INTENTION),
    ("seconde_intention", "aide_specialisee", Step.AIDE),
    ("seconde_intention", "orientation_partenaire", Step.ORIENTATION),
    ("seconde_intention", "accompagnement_professionnel", Step.AUTRE_REPONSE),
    ("seconde_intention", "mutualisation", Step.AUTRE_REPONSE),
    ("seconde_intention", "observation_dispositif", Step.AUTRE_REPONSE),
    ("seconde_intention", "formation_ciblee", Step.AUTRE_REPONSE),
    ("bilan", None, Step.BILAN),
    ("cloture", "objectifs_atteints", Step.CLOTURE),
    ("cloture", "orientation_partenaire", Step.CLOTURE),  # a closure, not an orientation
    ("cloture", "sans_suite", Step.CLOTURE),
    ("reouverture", None, Step.REOUVERTURE),
    ("report", None, Step.REPORT),
    ("note", None, Step.NOTE),
])
def test_step_of_names_the_form_that_wrote_an_entry(kind, sub_kind, step):
    written = entry(kind, sub_kind=sub_kind)
    assert step_of(written) is step
    assert STEP_ENTRY_KIND[step] is written.kind


def test_other_responses_are_the_second_intention_responses_without_a_form_of_their_own():
    assert set(OTHER_RESPONSES) == set(SecondResponse) - {SecondResponse.AIDE_SPECIALISEE,
                                                          SecondResponse.ORIENTATION_PARTENAIRE}
    for response in OTHER_RESPONSES:
        assert step_of(entry("seconde_intention", sub_kind=response.value)) is Step.AUTRE_REPONSE


# -- the current episode ------------------------------------------------------------------------


def test_current_episode_without_reopening_is_the_whole_timeline_in_order():
    note = entry("note", "2026-10-20", text="b")
    analysis = entry("analyse", "2026-10-10")
    contact = entry("premiere_intention", "2026-10-15", "contact")
    assert current_episode([note, analysis, contact]) == [analysis, contact, note]
    assert current_episode([]) == []


def test_current_episode_starts_after_the_last_reopening():
    first = [entry("analyse", "2026-10-06"), entry("cloture", "2026-10-08", "objectifs_atteints")]
    reopened = entry("reouverture", "2026-10-12")
    second = [entry("analyse", "2026-10-13"), entry("cloture", "2026-10-14", "relais_enseignant")]
    reopened_again = entry("reouverture", "2026-10-20")
    last = entry("note", "2026-10-21", text="Reprise")
    timeline = [last, *second, reopened_again, *first, reopened]
    assert current_episode(timeline) == [last]
    assert current_episode([*first, reopened, *second]) == second
    assert current_episode([*first, reopened]) == []  # reopened, nothing since


def test_current_episode_orders_a_day_by_time_of_recording():
    reopening = entry("reouverture", "2026-10-12", created_at="2026-10-12T10:00:00.000000Z")
    before = entry("note", "2026-10-12", text="avant", created_at="2026-10-12T09:00:00.000000Z")
    after = entry("note", "2026-10-12", text="après", created_at="2026-10-12T11:00:00.000000Z")
    assert current_episode([after, reopening, before]) == [after]


# -- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", list(CaseStatus))
@pytest.mark.parametrize("step", list(Step))
def test_refusal_depends_only_on_whether_the_case_is_open(step, status):
    problem = refusal(step, status)
    if step is Step.REOUVERTURE:
        expected = "Le dossier est ouvert : il n'y a rien à rouvrir." if status.is_open else None
    else:
        expected = None if status.is_open else CLOSED_MESSAGE
    assert problem == expected


def test_the_closed_message_says_to_reopen_first():
    assert CLOSED_MESSAGE == "Le dossier est clôturé : rouvrez-le d'abord (r) pour y ajouter une étape."
    assert refusal(Step.NOTE, CaseStatus.CLASSEE_SANS_SUITE) == CLOSED_MESSAGE
    assert refusal(Step.REOUVERTURE, CaseStatus.CLASSEE_SANS_SUITE) is None
    assert refusal(Step.REOUVERTURE, CaseStatus.ROUVERTE) == "Le dossier est ouvert : il n'y a rien à rouvrir."


# -- the suggested next step --------------------------------------------------------------------


@pytest.mark.parametrize("status, step, reason", [
    (CaseStatus.CLOTUREE, Step.REOUVERTURE, "le dossier est clôturé ; une nouvelle demande le rouvre"),
    (CaseStatus.CLASSEE_SANS_SUITE, Step.REOUVERTURE, "le dossier est clôturé ; une nouvelle demande le rouvre"),
    (CaseStatus.RECUE, Step.ANALYSE, "toute demande reçoit une première analyse de l'équipe restreinte"),
    (CaseStatus.ROUVERTE, Step.ANALYSE, "toute demande reçoit une première analyse de l'équipe restreinte"),
    (CaseStatus.EN_ANALYSE, Step.PREMIERE_INTENTION, "prendre contact avec le demandeur"),
    (CaseStatus.PREMIERE_INTENTION, Step.AIDE,
     "choisir une réponse de seconde intention (aide, accompagnement, orientation)"),
    (CaseStatus.BILAN, Step.CLOTURE, "le bilan est fait"),
    (CaseStatus.SECONDE_INTENTION, Step.BILAN, "la réponse de seconde intention est en place : en faire le bilan"),
])
def test_suggestion_by_status(status, step, reason):
    assert suggest_next_step(status, [], [], {}) == Suggestion(step, reason)


def test_suggestion_by_status_ignores_running_aids_outside_second_intention():
    running = aid()
    assert suggest_next_step(CaseStatus.BILAN, [], [running], {}).step is Step.CLOTURE
    assert suggest_next_step(CaseStatus.CLOTUREE, [], [running], {}).step is Step.REOUVERTURE


def test_suggestion_an_aid_started_with_consent_is_first_evaluated_at_its_start():
    running = aid("G")
    suggestion = suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [running], {})
    assert suggestion == Suggestion(Step.EVALUATION, "évaluer le point de départ de l'aide G")
    # an interim evaluation is not a starting point
    interim = {running.id: [evaluation(running, "intermediaire")]}
    assert suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [running], interim).step is Step.EVALUATION
    assert suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [running], interim).reason == \
        "évaluer le point de départ de l'aide G"


def test_suggestion_once_the_start_is_evaluated_progress_is_evaluated():
    first, second = aid("E"), aid("psy")
    evaluations = {first.id: [evaluation(first, "debut")], second.id: [evaluation(second, "debut")]}
    suggestion = suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [first, second], evaluations)
    assert suggestion == Suggestion(Step.EVALUATION, "2 aides en cours : évaluer les progrès")
    one = suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [first], evaluations)
    assert one == Suggestion(Step.EVALUATION, "1 aide en cours : évaluer les progrès")


def test_suggestion_after_the_final_evaluation_the_aid_ends():
    running = aid("psy")
    evaluations = {running.id: [evaluation(running, "debut", "2026-11-03"), evaluation(running, "fin")]}
    suggestion = suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [running], evaluations)
    assert suggestion == Suggestion(Step.FIN_AIDE, "l'évaluation de fin de l'aide psy est faite")


def test_suggestion_a_start_to_evaluate_comes_before_an_aid_to_end():
    ending, starting = aid("E"), aid("G")
    evaluations = {ending.id: [evaluation(ending, "debut"), evaluation(ending, "fin")]}
    suggestion = suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [ending, starting], evaluations)
    assert suggestion == Suggestion(Step.EVALUATION, "évaluer le point de départ de l'aide G")


def test_suggestion_ended_aids_lead_to_the_bilan():
    ended = aid("E", end="2026-11-15")
    evaluations = {ended.id: [evaluation(ended, "debut"), evaluation(ended, "fin")]}
    assert suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [ended], evaluations).step is Step.BILAN


@pytest.mark.parametrize("consent", ["en_attente", "refuse"])
def test_suggestion_never_proposes_an_evaluation_the_rules_refuse(consent):
    """An aid waiting for (or refused) the family's agreement has not started: proposing to
    evaluate its progress sends the user to a form whose save is always refused."""
    waiting = aid("E", consent=consent)
    suggestion = suggest_next_step(CaseStatus.SECONDE_INTENTION, [], [waiting], {})
    assert evaluation_problem(waiting, date(2026, 11, 20)) is not None  # the store would refuse
    assert suggestion.step is not Step.EVALUATION


# -- warnings when a step is skipped ------------------------------------------------------------

NO_ANALYSIS = ("Aucune première analyse n'est enregistrée : toute demande est d'abord analysée "
               "par l'équipe restreinte.")
NO_FIRST = ("Aucune réponse de première intention (prise de contact, observation, entretien) "
            "n'est enregistrée.")
NO_SECOND = "Aucune réponse de seconde intention n'est enregistrée : de quoi ce bilan rend-il compte ?"


@pytest.mark.parametrize("step, expected", [
    (Step.ANALYSE, []),
    (Step.PREMIERE_INTENTION, [NO_ANALYSIS]),
    (Step.AIDE, [NO_ANALYSIS, NO_FIRST]),
    (Step.AUTRE_REPONSE, [NO_ANALYSIS, NO_FIRST]),
    (Step.ORIENTATION, [NO_ANALYSIS, NO_FIRST]),
    (Step.BILAN, [NO_ANALYSIS, NO_SECOND]),
    (Step.CLOTURE, [NO_ANALYSIS]),
    (Step.NOTE, []),
    (Step.REPORT, []),
    (Step.EVALUATION, []),
    (Step.FIN_AIDE, []),
    (Step.REOUVERTURE, []),
])
def test_skipped_steps_on_an_empty_timeline(step, expected):
    assert skipped_steps(step, [], []) == expected


def test_no_warning_when_the_usual_steps_were_taken():
    timeline = [entry("analyse", "2026-10-06"), entry("premiere_intention", "2026-10-08", "observation_classe"),
                entry("seconde_intention", "2026-10-12", "mutualisation")]
    for step in Step:
        assert skipped_steps(step, timeline, []) == []


def test_skipped_steps_only_look_at_the_current_episode():
    """After a reopening, the analysis of the earlier request no longer counts."""
    timeline = [entry("analyse", "2026-10-06"), entry("premiere_intention", "2026-10-07", "contact"),
                entry("cloture", "2026-10-08", "objectifs_atteints"), entry("reouverture", "2026-10-12")]
    since = " depuis la réouverture du 12/10/2026"
    no_analysis = NO_ANALYSIS.replace("enregistrée :", f"enregistrée{since} :")
    no_first = NO_FIRST.replace("enregistrée.", f"enregistrée{since}.")
    assert skipped_steps(Step.AIDE, timeline, []) == [no_analysis, no_first]
    timeline.append(entry("analyse", "2026-10-13"))
    assert skipped_steps(Step.AIDE, timeline, []) == [no_first]


def test_a_closure_warns_that_running_aids_will_end_with_it():
    timeline = [entry("analyse", "2026-10-06")]
    one = skipped_steps(Step.CLOTURE, timeline, [aid("E"), aid("G", end="2026-11-10")])
    assert one == ["1 aide en cours : elle prendra fin à la date de la clôture."]
    two = skipped_steps(Step.CLOTURE, timeline, [aid("E"), aid("G")])
    assert two == ["2 aides en cours : elles prendront fin à la date de la clôture."]
    assert skipped_steps(Step.BILAN, [*timeline, entry("seconde_intention", sub_kind="aide_specialisee")],
                         [aid("E")]) == []


# -- dates, carry-over, evaluations, aids ended at a closure ------------------------------------


def test_date_problem_refuses_a_step_before_the_request_only():
    sent = date(2026, 10, 5)
    assert date_problem(date(2026, 10, 4), sent) == \
        "Cette étape est datée d'avant l'envoi de la demande (05/10/2026)."
    assert date_problem(sent, sent) is None
    assert date_problem(date(2026, 11, 21), sent) is None
    assert date_problem(None, sent) is None


@pytest.mark.parametrize("years, expected", [
    (["2026-2027"], "2027-2028"),
    (["2025-2026", "2026-2027"], "2027-2028"),
    (["2027-2028", "2026-2027"], "2028-2029"),  # the last year, whatever the order given
    (["2099-2100"], "2100-2101"),
])
def test_carry_over_year_is_the_year_after_the_last(years, expected):
    assert carry_over_year(years) == expected


def test_carry_over_year_needs_a_year():
    with pytest.raises(ValueError):
        carry_over_year([])


@pytest.mark.parametrize("consent", ["en_attente", "refuse"])
def test_an_aid_without_consent_cannot_be_evaluated(consent):
    waiting = aid(consent=consent)
    message = "Cette aide n'a pas commencé : l'accord de la famille n'est pas donné."
    assert evaluation_problem(waiting, date(2026, 11, 10)) == message
    assert evaluation_problem(waiting, None) == message


def test_an_aid_is_evaluated_within_its_dates():
    running = aid(start="2026-11-02")
    assert evaluation_problem(running, date(2026, 11, 1)) == \
        "L'évaluation précède le début de l'aide (02/11/2026)."
    assert evaluation_problem(running, date(2026, 11, 2)) is None
    assert evaluation_problem(running, date(2026, 11, 21)) is None
    assert evaluation_problem(running, None) is None
    ended = aid(start="2026-10-12", end="2026-11-13")
    assert evaluation_problem(ended, date(2026, 11, 13)) is None
    assert evaluation_problem(ended, date(2026, 11, 14)) == "L'évaluation suit la fin de l'aide (13/11/2026)."
    assert evaluation_problem(ended, date(2026, 10, 11)) == \
        "L'évaluation précède le début de l'aide (12/10/2026)."


@pytest.mark.parametrize("outcome, reason", [
    (ClosureOutcome.OBJECTIFS_ATTEINTS, AidEndReason.OBJECTIFS_ATTEINTS),
    (ClosureOutcome.RELAIS_ENSEIGNANT, AidEndReason.RELAIS_ENSEIGNANT),
    (ClosureOutcome.ORIENTATION_PARTENAIRE, AidEndReason.ORIENTATION),
    (ClosureOutcome.DEPART_ECOLE, AidEndReason.DEPART_ECOLE),
    (ClosureOutcome.PAP_PPS, AidEndReason.AUTRE),
    (ClosureOutcome.REFUS_FAMILLE, AidEndReason.AUTRE),
    (ClosureOutcome.SANS_SUITE, AidEndReason.AUTRE),
    (ClosureOutcome.AUTRE, AidEndReason.AUTRE),
])
def test_aid_end_reason_at_closure(outcome, reason):
    assert aid_end_reason_at_closure(outcome) is reason


def test_every_closure_outcome_gives_an_aid_end_reason():
    assert set(AID_END_AT_CLOSURE) < set(ClosureOutcome)
    assert all(isinstance(aid_end_reason_at_closure(outcome), AidEndReason) for outcome in ClosureOutcome)


# -- the timeline rules of the models -----------------------------------------------------------


@pytest.mark.parametrize("interlocutor", list(Interlocutor))
def test_an_entretien_says_with_whom(interlocutor):
    held = entry("premiere_intention", sub_kind="entretien_explicitation", interlocutor=interlocutor.value)
    assert held.interlocutor is interlocutor
    assert entry("premiere_intention", sub_kind="entretien_explicitation").interlocutor is None  # optional


def test_interlocutor_labels_read_after_entretien():
    assert [i.label for i in Interlocutor] == ["avec l'enseignant·e", "avec l'équipe", "avec la famille"]


@pytest.mark.parametrize("fields", [
    {"kind": "premiere_intention", "sub_kind": "contact"},
    {"kind": "premiere_intention", "sub_kind": "observation_classe"},
    {"kind": "note", "text": "Échange avec la famille"},
    {"kind": "seconde_intention", "sub_kind": "accompagnement_professionnel"},
    {"kind": "bilan"},
])
def test_with_whom_only_for_an_entretien(fields):
    assert refused(**fields, interlocutor="famille") == [
        "« Avec qui » ne se précise que pour un entretien d'explicitation."]


def test_an_unknown_interlocutor_is_refused_in_french():
    assert refused(kind="premiere_intention", sub_kind="entretien_explicitation", interlocutor="voisin") == [
        "Avec qui : valeur inconnue"]


def test_an_orientation_names_its_partner():
    assert refused(kind="seconde_intention", sub_kind="orientation_partenaire") == [
        "Choisissez le partenaire de l'orientation."]
    oriented = entry("seconde_intention", sub_kind="orientation_partenaire", partner="camsp",
                     follow_up="Premier rendez-vous le 12/12.")
    assert oriented.partner is Partner.CAMSP and oriented.follow_up == "Premier rendez-vous le 12/12."


def test_a_closure_by_orientation_needs_no_partner_but_may_name_one():
    closed = entry("cloture", sub_kind="orientation_partenaire")
    assert closed.partner is None
    assert entry("cloture", sub_kind="orientation_partenaire", partner="sessad").partner is Partner.SESSAD


@pytest.mark.parametrize("fields", [
    {"kind": "seconde_intention", "sub_kind": "aide_specialisee"},
    {"kind": "cloture", "sub_kind": "objectifs_atteints"},
    {"kind": "note", "text": "x"},
])
def test_a_partner_only_for_an_orientation(fields):
    assert refused(**fields, partner="cmpp") == ["Un partenaire ne se précise que pour une orientation."]


def test_follow_up_is_cleaned_text():
    oriented = entry("seconde_intention", sub_kind="orientation_partenaire",
                     follow_up="  Dossier transmis.\r\nRéponse attendue.  ")
    assert oriented.follow_up == "Dossier transmis.\nRéponse attendue."
    assert entry("note", text="x").follow_up == ""
    assert refused(kind="note", text="x", follow_up="bip\x07") == [
        "Le texte contient des caractères de contrôle invisibles."]


def test_stored_entries_keep_their_new_fields():
    """Read back from the database (context STORED), an entry keeps with whom and the follow-up."""
    data = entry("premiere_intention", "2026-10-10", "entretien_explicitation", interlocutor="equipe",
                 follow_up="Revoir en janvier").model_dump(mode="json")
    again = TimelineEntry.model_validate(data, context=STORED)
    assert again.interlocutor is Interlocutor.EQUIPE and again.follow_up == "Revoir en janvier"


def test_evaluations_of_an_aid_follow_each_other_in_order():
    """One début, one fin, intermediate ones between: no progression read backwards."""
    from rased_tui.domain.timeline import evaluation_order_problem

    def evaluation(phase: str, day: str, id_: str = "") -> AidEvaluation:
        return AidEvaluation.model_construct(id=id_ or phase + day, aid_id="a", phase=EvaluationPhase(phase),
                                             date=date.fromisoformat(day))

    start, middle = evaluation("debut", "2026-10-01"), evaluation("intermediaire", "2026-11-01")
    assert evaluation_order_problem(evaluation("intermediaire", "2026-11-15"), [start, middle]) is None
    assert "ne peut précéder" in evaluation_order_problem(evaluation("intermediaire", "2026-09-20"), [start])
    assert "ne peut suivre" in evaluation_order_problem(evaluation("debut", "2026-12-15", "x"), [middle])
    assert "déjà une évaluation début" in evaluation_order_problem(evaluation("debut", "2026-09-01"), [start])
    # an evaluation moved by its own correction is not compared with its former self
    assert evaluation_order_problem(evaluation("debut", "2026-10-05", start.id), [start, middle]) is None


def test_closure_warning_tells_running_aids_from_aids_waiting_for_consent():
    waiting = aid("E", consent="en_attente")
    [warning] = skipped_steps(Step.CLOTURE, [entry("analyse", "2026-10-06")], [waiting])
    assert warning == "1 aide proposée sans l'accord de la famille prendra fin, jamais commencée."

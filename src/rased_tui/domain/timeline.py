"""The order of a case's timeline: the steps a person can take, the one that makes sense next,
the warnings when a step is skipped, and the refusals that do not depend on a form.

The screen proposes, it does not impose: a team may close a request right after the analysis,
or record an observation before the analysis was written up. Only what would make the record
false is refused: any new step on a closed case (reopen it first), reopening an open case,
carrying a closed case into the next year, a step dated before the request.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from rased_tui.domain.calendar import format_french_date, next_school_year
from rased_tui.domain.enums import (
    AidEndReason,
    AidKind,
    CaseStatus,
    ClosureOutcome,
    ConsentStatus,
    EntryKind,
    EvaluationPhase,
    LabelledEnum,
    SecondResponse,
)
from rased_tui.domain.french import count
from rased_tui.domain.models import Aid, AidEvaluation, TimelineEntry
from rased_tui.domain.status import timeline_order


class Step(LabelledEnum):
    """What can be added to a case, each with its own form on the case screen."""

    ANALYSE = "analyse", "Première analyse"
    PREMIERE_INTENTION = "premiere_intention", "Réponse de 1re intention"
    AIDE = "aide", "Aide spécialisée du RASED (E, G, psy)"
    AUTRE_REPONSE = "autre_reponse", "Autre réponse de 2de intention"
    ORIENTATION = "orientation", "Orientation vers un partenaire"
    EVALUATION = "evaluation", "Évaluation d'une aide"
    FIN_AIDE = "fin_aide", "Fin d'une aide"
    BILAN = "bilan", "Bilan"
    CLOTURE = "cloture", "Clôture"
    REOUVERTURE = "reouverture", "Réouverture"
    REPORT = "report", "Report sur l'année suivante"
    NOTE = "note", "Note de suivi"


# The timeline entry each step writes (evaluations and aid endings write none).
STEP_ENTRY_KIND = {
    Step.ANALYSE: EntryKind.ANALYSE,
    Step.PREMIERE_INTENTION: EntryKind.PREMIERE_INTENTION,
    Step.AIDE: EntryKind.SECONDE_INTENTION,
    Step.AUTRE_REPONSE: EntryKind.SECONDE_INTENTION,
    Step.ORIENTATION: EntryKind.SECONDE_INTENTION,
    Step.BILAN: EntryKind.BILAN,
    Step.CLOTURE: EntryKind.CLOTURE,
    Step.REOUVERTURE: EntryKind.REOUVERTURE,
    Step.REPORT: EntryKind.REPORT,
    Step.NOTE: EntryKind.NOTE,
}

# The second-intention responses that the form "autre réponse" offers.
OTHER_RESPONSES = (
    SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL,
    SecondResponse.MUTUALISATION,
    SecondResponse.OBSERVATION_DISPOSITIF,
    SecondResponse.FORMATION_CIBLEE,
)

# When a case closes, its aids still running end on the same day, for this reason.
AID_END_AT_CLOSURE = {
    ClosureOutcome.OBJECTIFS_ATTEINTS: AidEndReason.OBJECTIFS_ATTEINTS,
    ClosureOutcome.RELAIS_ENSEIGNANT: AidEndReason.RELAIS_ENSEIGNANT,
    ClosureOutcome.ORIENTATION_PARTENAIRE: AidEndReason.ORIENTATION,
    ClosureOutcome.DEPART_ECOLE: AidEndReason.DEPART_ECOLE,
}

CLOSED_MESSAGE = "Le dossier est clôturé : rouvrez-le d'abord (r) pour y ajouter une étape."


def step_of(entry: TimelineEntry) -> Step:
    """The step (hence the form) that wrote a timeline entry."""
    if entry.kind is EntryKind.SECONDE_INTENTION:
        if entry.sub_kind == SecondResponse.AIDE_SPECIALISEE.value:
            return Step.AIDE
        if entry.sub_kind == SecondResponse.ORIENTATION_PARTENAIRE.value:
            return Step.ORIENTATION
        return Step.AUTRE_REPONSE
    return next(step for step, kind in STEP_ENTRY_KIND.items() if kind is entry.kind)


def current_episode(entries: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """The entries since the last reopening (all of them when the case was never reopened)."""
    timeline = sorted(entries, key=timeline_order)
    reopenings = [index for index, entry in enumerate(timeline) if entry.kind is EntryKind.REOUVERTURE]
    return timeline[reopenings[-1] + 1:] if reopenings else timeline


def refusal(step: Step, status: CaseStatus) -> str | None:
    """Why this step cannot be added to a case in this status (None: it can)."""
    if step is Step.REOUVERTURE:
        return None if not status.is_open else "Le dossier est ouvert : il n'y a rien à rouvrir."
    if not status.is_open:
        return CLOSED_MESSAGE
    return None


@dataclass(frozen=True)
class Suggestion:
    step: Step | None  # None: nothing to add, something to do (an aid waits for consent)
    reason: str


def suggest_next_step(status: CaseStatus, entries: Sequence[TimelineEntry], aids: Sequence[Aid],
                      evaluations: dict[str, list[AidEvaluation]], *, about_a_pupil: bool = True) -> Suggestion:
    """The step that makes sense next, and why, in French. A request about a teacher or a
    team (cas n°2) calls for an accompaniment rather than an aid to a pupil."""
    if not status.is_open:
        return Suggestion(Step.REOUVERTURE, "le dossier est clôturé ; une nouvelle demande le rouvre")
    if status in (CaseStatus.RECUE, CaseStatus.ROUVERTE):
        return Suggestion(Step.ANALYSE, "toute demande reçoit une première analyse de l'équipe restreinte")
    if status is CaseStatus.EN_ANALYSE:
        return Suggestion(Step.PREMIERE_INTENTION, "prendre contact avec le demandeur")
    if status is CaseStatus.PREMIERE_INTENTION:
        if called := aids_called(entries):
            names = " et ".join(kind.value for kind in called)
            return Suggestion(Step.AIDE, f"la première analyse a demandé une aide {names} : le dossier est sur "
                                         "la liste d'attente jusqu'à son début")
        if not about_a_pupil:
            return Suggestion(Step.AUTRE_REPONSE, "choisir une réponse de seconde intention (accompagnement, "
                                                  "formation ciblée…)")
        return Suggestion(Step.AIDE, "choisir une réponse de seconde intention (aide, accompagnement, "
                                     "orientation)")
    if status is CaseStatus.BILAN:
        return Suggestion(Step.CLOTURE, "le bilan est fait")
    # an aid runs once the family agreed; one still waiting for that agreement cannot be evaluated
    running = [aid for aid in aids if aid.is_open and aid.consent_status is ConsentStatus.DONNE]
    waiting = [aid for aid in aids if aid.is_open and aid.consent_status is ConsentStatus.EN_ATTENTE]
    for aid in running:
        phases = {evaluation.phase for evaluation in evaluations.get(aid.id, [])}
        if EvaluationPhase.DEBUT not in phases:
            return Suggestion(Step.EVALUATION, f"évaluer le point de départ de l'aide {aid.kind.value}")
    for aid in running:
        phases = {evaluation.phase for evaluation in evaluations.get(aid.id, [])}
        if EvaluationPhase.FIN in phases:
            return Suggestion(Step.FIN_AIDE, f"l'évaluation de fin de l'aide {aid.kind.value} est faite")
    if running:
        return Suggestion(Step.EVALUATION, f"{count(len(running), 'aide')} en cours : évaluer les progrès")
    if waiting:
        return Suggestion(None, f"l'aide {waiting[0].kind.value} attend l'accord de la famille : "
                                "modifiez-la (e) quand il est donné")
    return Suggestion(Step.BILAN, "la réponse de seconde intention est en place : en faire le bilan")


def aids_called(entries: Sequence[TimelineEntry]) -> list[AidKind]:
    """The RASED aids the analyses of the current episode called for, in the order E, G, psy."""
    called = {kind for entry in current_episode(entries) for kind in entry.aids_called}
    return [kind for kind in AidKind if kind in called]


def skipped_steps(step: Step, entries: Sequence[TimelineEntry], aids: Sequence[Aid]) -> list[str]:
    """Warnings (never refusals) when a step comes before the ones that usually precede it."""
    episode = current_episode(entries)
    reached = {entry.kind for entry in episode}
    reopenings = [entry.date for entry in entries if entry.kind is EntryKind.REOUVERTURE]
    since = f" depuis la réouverture du {format_french_date(max(reopenings))}" if reopenings else ""
    warnings = []
    needs_analysis = step in (Step.PREMIERE_INTENTION, Step.AIDE, Step.AUTRE_REPONSE, Step.ORIENTATION,
                              Step.BILAN, Step.CLOTURE)
    if needs_analysis and EntryKind.ANALYSE not in reached:
        warnings.append(f"Aucune première analyse n'est enregistrée{since} : toute demande est d'abord "
                        "analysée par l'équipe restreinte.")
    if step in (Step.AIDE, Step.AUTRE_REPONSE, Step.ORIENTATION) and EntryKind.PREMIERE_INTENTION not in reached:
        warnings.append("Aucune réponse de première intention (prise de contact, observation, entretien) "
                        f"n'est enregistrée{since}.")
    if step is Step.BILAN and EntryKind.SECONDE_INTENTION not in reached:
        warnings.append(f"Aucune réponse de seconde intention n'est enregistrée{since} : de quoi ce bilan "
                        "rend-il compte ?")
    running = [aid for aid in aids if aid.is_open and aid.consent_status is ConsentStatus.DONNE]
    proposed = [aid for aid in aids if aid.is_open and aid.consent_status is not ConsentStatus.DONNE]
    if step is Step.CLOTURE and proposed:
        warnings.append(f"{count(len(proposed), 'aide proposée', 'aides proposées')} sans l'accord de la famille "
                        "prendr" + ("ont" if len(proposed) > 1 else "a") + " fin, jamais commencée"
                        + ("s" if len(proposed) > 1 else "") + ".")
    if step is Step.CLOTURE and running:
        warnings.append(f"{count(len(running), 'aide')} en cours : elle{'s' if len(running) > 1 else ''} "
                        "prendr" + ("ont" if len(running) > 1 else "a") + " fin à la date de la clôture.")
    return warnings


def date_problem(day: date | None, request_sent: date) -> str | None:
    """A step dated before the request is refused (the future is refused by the models)."""
    if day is not None and day < request_sent:
        return f"Cette étape est datée d'avant l'envoi de la demande ({format_french_date(request_sent)})."
    return None


def turn_date_problem(day: date | None, entries: Iterable[TimelineEntry]) -> str | None:
    """A new step is dated on or after the last closure or reopening: before it, it would
    belong to a closed episode of the case (and a reopening dated before the closure would
    reopen nothing)."""
    turns = [entry.date for entry in entries if entry.kind in (EntryKind.CLOTURE, EntryKind.REOUVERTURE)]
    if day is not None and turns and day < max(turns):
        return ("Cette étape est datée d'avant la dernière clôture ou réouverture du dossier "
                f"({format_french_date(max(turns))}).")
    return None


def carry_over_year(case_years: Sequence[str]) -> str:
    """The school year a case is carried into: the one after the last year it shows in."""
    return next_school_year(max(case_years))


def evaluation_problem(aid: Aid, day: date | None) -> str | None:
    """An aid is evaluated once started with the family's agreement, within its dates."""
    if aid.consent_status is not ConsentStatus.DONNE:
        return "Cette aide n'a pas commencé : l'accord de la famille n'est pas donné."
    if day is None:
        return None
    if day < aid.start_date:
        return f"L'évaluation précède le début de l'aide ({format_french_date(aid.start_date)})."
    if aid.end_date is not None and day > aid.end_date:
        return f"L'évaluation suit la fin de l'aide ({format_french_date(aid.end_date)})."
    return None


PHASE_ORDER = {EvaluationPhase.DEBUT: 0, EvaluationPhase.INTERMEDIAIRE: 1, EvaluationPhase.FIN: 2}


def evaluation_order_problem(evaluation: AidEvaluation, others: Iterable[AidEvaluation]) -> str | None:
    """An aid has one evaluation at the start and one at the end, and its evaluations follow
    each other in that order: début, intermédiaire(s), fin (a progression read at a glance
    must not invent a regression)."""
    rank = PHASE_ORDER[evaluation.phase]
    for other in others:
        if other.id == evaluation.id:
            continue
        other_rank = PHASE_ORDER[other.phase]
        what = f"l'évaluation {other.phase.label.lower()} du {format_french_date(other.date)}"
        if other.phase is evaluation.phase and evaluation.phase is not EvaluationPhase.INTERMEDIAIRE:
            return f"Cette aide a déjà une évaluation {other.phase.label.lower()} ({format_french_date(other.date)})."
        if other_rank < rank and other.date > evaluation.date:
            return f"Cette évaluation ({evaluation.phase.label.lower()}) ne peut précéder {what}."
        if other_rank > rank and other.date < evaluation.date:
            return f"Cette évaluation ({evaluation.phase.label.lower()}) ne peut suivre {what}."
    return None


def aid_end_reason_at_closure(outcome: ClosureOutcome) -> AidEndReason:
    return AID_END_AT_CLOSURE.get(outcome, AidEndReason.AUTRE)

"""The forms of the steps of a case (opened from the case screen, one key each).

- `EntryForm`: première analyse, réponse de 1re intention, autre réponse de 2de intention
  (accompagnement, mutualisation, observation, formation ciblée), orientation vers un
  partenaire, bilan, clôture, réouverture, report sur l'année suivante, note de suivi;
- `AidForm`: an aide spécialisée of the RASED with the family's consent;
- `EvaluationForm`: an evaluation of an aid (début / intermédiaire / fin, score 0-10);
- `EndAidForm`: the end of an aid (date and reason).

Each is a dialog: `ctrl+s` checks every field, shows the problems in French by their fields
and saves through the store in one transaction; `escape` leaves, asking first when something
was typed. Each dismisses with True when it saved. Warnings (a skipped step) never block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from pydantic import ValidationError
from textual import on
from textual.widget import Widget
from textual.widgets import Checkbox, Input, RadioSet, Select, Static, TextArea
from textual.widgets.selection_list import Selection

from rased_tui.domain.caseloads import CaseloadFilter, load_of, over_capacity_text
from rased_tui.domain.calendar import format_french_date, period_of, read_past_date, school_year_of, today
from rased_tui.domain.enums import (
    AidEndReason,
    AidKind,
    ClosureOutcome,
    ConsentForm,
    ConsentStatus,
    EntryKind,
    EvaluationPhase,
    FirstResponse,
    Interlocutor,
    MeetingKind,
    Modality,
    Partner,
    Role,
    SecondResponse,
)
from rased_tui.domain.french import count
from rased_tui.domain.models import Aid, AidEvaluation, Member, TimelineEntry, new_id
from rased_tui.domain.timeline import (
    OTHER_RESPONSES,
    STEP_ENTRY_KIND,
    Step,
    aids_called,
    carry_over_year,
    date_problem,
    evaluation_order_problem,
    evaluation_problem,
    skipped_steps,
    turn_date_problem,
)
from rased_tui.screens.case_context import CaseContext
from rased_tui.screens.form_dialog import FormDialog
from rased_tui.store.store import CONFIDENTIAL_AUTHOR_MESSAGE
from rased_tui.widgets.toggles import CheckList, TickBox
from rased_tui.widgets.form import choice, date_input, field_row, text_input

RASED_ROLES = (Role.MAITRE_E, Role.MAITRE_G, Role.PSYCHOLOGUE)
NEW_ACTION = "nouvelle"
WHOLE_CASE = "dossier"
MEETING_SYNTHESE = "synthese"


def member_label(member: Member) -> str:
    """'Claire Duchêne — Maître E': the role without its explanation in brackets."""
    return f"{member.full_name} — {member.role.label.split(' (')[0]}"


def aid_label(aid: Aid, context: CaseContext) -> str:
    giver = context.member(aid.member_id)
    state = "en cours" if aid.is_open else f"terminée le {format_french_date(aid.end_date)}"
    return f"Aide {aid.kind.value} — {giver.full_name if giver else '?'} — depuis le " \
           f"{format_french_date(aid.start_date)} ({state})"


class StepForm(FormDialog[bool]):
    """The frame of the step forms: the case they add to, the warnings, the date rules."""

    CSS_PATH = "steps.tcss"
    HELP = """\
**Étape d'un dossier** — remplissez les champs puis `ctrl+s` pour enregistrer, `échap` pour
annuler. `tab` passe au champ suivant ; `espace` coche une case ou un membre. Les
avertissements (en jaune) n'empêchent pas d'enregistrer ; les erreurs (en rouge) si.
"""
    ID_PREFIX = "step"
    CANCELLED = False

    def __init__(self, context: CaseContext) -> None:
        super().__init__()
        self.context = context

    def heading(self) -> Iterator[Widget]:
        yield Static(f"Dossier {self.context.case.number} — {self.context.case.subject_label}",
                     id="step-case", markup=False)
        warnings = Static("\n".join(f"⚠ {warning}" for warning in self.warnings()), id="step-warnings",
                          markup=False)
        warnings.display = bool(self.warnings())
        yield warnings

    def warnings(self) -> list[str]:
        return []

    def day(self, widget_id: str = "date") -> tuple[date | None, str | None]:
        """The date typed in a field, or the reason it is not a good one."""
        return read_past_date(self.value(widget_id))

    def step_day(self, widget_id: str = "date") -> tuple[date | None, str | None]:
        """A step's date: a date, not in the future, not before the request, nor (for a new
        step) before the last closure or reopening."""
        day, problem = self.day(widget_id)
        problem = problem or date_problem(day, self.context.case.date_sent)
        if not problem and self.is_new:
            problem = turn_date_problem(day, self.context.entries)
        return day, problem

    @property
    def is_new(self) -> bool:
        """True for a form that adds a record (False when it corrects one)."""
        return True

    # -- shared fields --------------------------------------------------------------------

    def members_field(self, label: str, chosen: list[str], roles: tuple[Role, ...] = ()) -> Widget:
        members = self.context.available_members(chosen, roles)
        return field_row(label, CheckList[str](
            *[Selection(member_label(member), member.id, member.id in chosen) for member in members],
            compact=True, id="members"))

    def text_field(self, label: str, text: str, placeholder: str = "", widget_id: str = "text") -> Widget:
        return field_row(label, TextArea(text, compact=True, id=widget_id, soft_wrap=True, tab_behavior="focus",
                                         placeholder=placeholder))



def _entry_date_text(entry: TimelineEntry | None) -> str:
    return format_french_date(entry.date if entry else today())


class EntryForm(StepForm):
    """One timeline entry: the fields depend on the step (see the module's docstring)."""

    TITLES = {
        Step.ANALYSE: "Première analyse par l'équipe restreinte",
        Step.PREMIERE_INTENTION: "Réponse de première intention",
        Step.AUTRE_REPONSE: "Réponse de seconde intention",
        Step.ORIENTATION: "Orientation vers un partenaire",
        Step.BILAN: "Bilan",
        Step.CLOTURE: "Clôture du dossier",
        Step.REOUVERTURE: "Réouverture du dossier",
        Step.REPORT: "Report du dossier sur l'année scolaire suivante",
        Step.NOTE: "Note de suivi",
    }

    def __init__(self, context: CaseContext, step: Step, entry: TimelineEntry | None = None) -> None:
        super().__init__(context)
        self.step = step
        self.entry = entry
        verb = "Modifier : " if entry else ""
        self.title_text = verb + self.TITLES[step]

    @property
    def is_new(self) -> bool:
        return self.entry is None

    def warnings(self) -> list[str]:
        if self.entry is not None:
            return []
        return skipped_steps(self.step, self.context.entries, self.context.aids)

    # -- fields per step ------------------------------------------------------------------

    def fields(self) -> Iterator[Widget]:
        entry = self.entry
        yield field_row("Date", date_input("date", _entry_date_text(entry)))
        chosen = list(entry.member_ids) if entry else []
        compose = {
            Step.ANALYSE: self._analysis_fields,
            Step.PREMIERE_INTENTION: self._first_response_fields,
            Step.AUTRE_REPONSE: self._other_response_fields,
            Step.ORIENTATION: self._orientation_fields,
            Step.BILAN: self._bilan_fields,
            Step.CLOTURE: self._closure_fields,
            Step.REOUVERTURE: self._reopening_fields,
            Step.REPORT: self._report_fields,
            Step.NOTE: self._note_fields,
        }[self.step]
        yield from compose(entry, chosen)

    def _analysis_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        meeting = self.app.store.get_meeting(entry.meeting_id) if entry and entry.meeting_id else None
        if entry is not None:
            where = meeting.kind.value if meeting else MEETING_SYNTHESE
        else:
            where = MeetingKind.URGENTE.value if self.context.case.urgent else MeetingKind.ORDINAIRE.value
        yield field_row("Réunion", choice("meeting", [
            ("Réunion ordinaire du pôle (période)", MeetingKind.ORDINAIRE.value),
            ("Traitement en urgence", MeetingKind.URGENTE.value),
            ("Synthèse du RASED (hors réunion du pôle)", MEETING_SYNTHESE),
        ], where))
        yield Static("", id="meeting-hint", markup=False)
        yield self.members_field("Membres sollicités", chosen)
        yield self.text_field("Problématique", entry.text if entry else "",
                              "La problématique retenue par l'équipe restreinte")
        called = entry.aids_called if entry else []
        yield field_row("Aides du RASED demandées", CheckList[str](
            *[Selection(kind.label, kind.value, kind in called) for kind in AidKind],
            compact=True, id="aids-called"))
        yield Static("Cochées, elles mettent le dossier sur la liste d'attente (5) jusqu'au début de l'aide.",
                     id="aids-called-hint")

    def _first_response_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        yield self.radio_field("Réponse", "sub-kind", [(item.label, item.value) for item in FirstResponse],
                               entry.sub_kind if entry else FirstResponse.CONTACT.value)
        yield field_row("Avec qui", choice("interlocutor", [(item.label, item.value) for item in Interlocutor],
                                           entry.interlocutor.value if entry and entry.interlocutor
                                           else Interlocutor.ENSEIGNANT.value))
        yield self.members_field("Membres", chosen)
        yield self.text_field("Compte rendu", entry.text if entry else "", "Ce qui a été fait, vu, convenu")

    def _other_response_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        yield self.radio_field("Réponse", "sub-kind", [(item.label, item.value) for item in OTHER_RESPONSES],
                               entry.sub_kind if entry else SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL.value)
        actions = self.app.store.shared_actions()
        options = [("Nouvelle action", NEW_ACTION)] + [
            (f"{format_french_date(action.first_date)} — {action.text[:40] or 'action'} "
             f"({count(len(action.case_numbers), 'dossier')}, {count(action.school_count, 'école')})",
             action.action_id) for action in actions]
        current = entry.action_id if entry and entry.action_id else NEW_ACTION
        yield field_row("Action de formation", Select(options, allow_blank=False, value=current, compact=True,
                                                      id="action"))
        yield self.members_field("Membres", chosen)
        yield self.text_field("Description", entry.text if entry else "", "Ce qui est mis en place")

    def _orientation_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        yield field_row("Partenaire", choice("partner", [(item.label, item.value) for item in Partner],
                                             entry.partner.value if entry and entry.partner else Select.NULL))
        yield self.members_field("Membres", chosen)
        yield self.text_field("Motif de l'orientation", entry.text if entry else "")
        yield field_row("Suivi", text_input("follow-up", entry.follow_up if entry else "",
                                            placeholder="ex. : rendez-vous pris au CMPP le …"))

    def _bilan_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        options = [(aid_label(aid, self.context), aid.id) for aid in self.context.aids]
        options.append(("Le dossier dans son ensemble", WHOLE_CASE))
        current = entry.aid_id if entry and entry.aid_id else (
            next((aid.id for aid in reversed(self.context.aids)), WHOLE_CASE) if entry is None else WHOLE_CASE)
        yield field_row("Bilan de", Select(options, allow_blank=False, value=current, compact=True, id="aid"))
        yield self.members_field("Membres", chosen)
        yield self.text_field("Bilan", entry.text if entry else "", "Les progrès au regard des objectifs")

    def _closure_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        yield field_row("Issue", choice("outcome", [(item.label, item.value) for item in ClosureOutcome],
                                        entry.sub_kind if entry else Select.NULL))
        yield self.members_field("Membres", chosen)
        yield self.text_field("Commentaire", entry.text if entry else "")

    def _reopening_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        yield self.members_field("Membres", chosen)
        yield self.text_field("Motif de la réouverture", entry.text if entry else "",
                              "ex. : nouvelle demande de l'enseignant·e")

    def _report_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        year = entry.to_school_year if entry else carry_over_year(self.context.years or
                                                                   [self.context.case.school_year])
        self.target_year = year
        yield Static(f"Le dossier garde son numéro et son histoire ; il figurera aussi dans la liste de "
                     f"l'année {year}.", id="report-year", markup=False)
        yield self.members_field("Membres", chosen)
        yield self.text_field("Commentaire", entry.text if entry else "", "ex. : suivi à poursuivre à la rentrée")

    def _note_fields(self, entry: TimelineEntry | None, chosen: list[str]) -> Iterator[Widget]:
        authors = self.context.available_members([entry.author_member_id] if entry and entry.author_member_id else [])
        yield field_row("Auteur·rice", choice("author", [(member_label(member), member.id) for member in authors],
                                              entry.author_member_id if entry and entry.author_member_id
                                              else Select.NULL))
        yield field_row("Confidentielle", TickBox("Note confidentielle (psychologue) : hors exports et hors "
                                                   "consultation de l'IEN", entry.confidential if entry else False,
                                                   compact=True, id="confidential"))
        yield self.text_field("Note", entry.text if entry else "")

    # -- what depends on a choice ---------------------------------------------------------

    def after_mount(self) -> None:
        self._show_dependent_fields()

    @on(RadioSet.Changed)
    @on(Select.Changed)
    @on(Input.Changed, "#date")
    def _choice_changed(self) -> None:
        self._show_dependent_fields()

    def _show_dependent_fields(self) -> None:
        if self.step is Step.PREMIERE_INTENTION:
            entretien = self.value("sub-kind") == FirstResponse.ENTRETIEN_EXPLICITATION.value
            self.query_one("#interlocutor-row").display = entretien
        elif self.step is Step.AUTRE_REPONSE:
            formation = self.value("sub-kind") == SecondResponse.FORMATION_CIBLEE.value
            self.query_one("#action-row").display = formation
        elif self.step is Step.ANALYSE:
            self.query_one("#meeting-hint", Static).update(self._meeting_hint())

    @on(Select.Changed, "#author")
    def _author_changed(self) -> None:
        """A new note of the psychologue is confidential unless unticked; an edited note keeps
        its choice, and so does a note whose date is corrected."""
        if self.entry is None and self.value("author"):
            author = self.context.member(self.value("author"))
            self.query_one("#confidential", Checkbox).value = bool(author and author.role is Role.PSYCHOLOGUE)

    def _meeting_hint(self) -> str:
        if self.value("meeting") != MeetingKind.ORDINAIRE.value:
            return ""
        day, problem = self.day()
        if day is None:
            return ""
        year = school_year_of(day)
        span = period_of(day, self.app.store.periods_of_year(year))
        if span is None:
            return "Aucune période scolaire à cette date : choisissez une autre réunion."
        meetings = [meeting for meeting in self.app.store.list_meetings(year)
                    if meeting.kind is MeetingKind.ORDINAIRE and meeting.period_number == span.number]
        if meetings and meetings[0].date > day:
            return self._future_meeting(span.number, meetings[0].date)
        if meetings:
            return f"Réunion de la période {span.number} du {format_french_date(meetings[0].date)}."
        return f"Réunion de la période {span.number} : elle sera enregistrée à la date de l'analyse."

    @staticmethod
    def _future_meeting(period: int, day: date) -> str:
        return (f"La réunion de la période {period} n'a pas encore eu lieu (prévue le {format_french_date(day)}) : "
                "choisissez le traitement en urgence ou la synthèse du RASED.")

    # -- building the entry ---------------------------------------------------------------

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], str] | None:
        day, problem = self.step_day()
        if problem:
            problems.append(("date", problem))
        data: dict[str, Any] = {"kind": STEP_ENTRY_KIND[self.step], "date": day or today(),
                                "case_id": self.context.case.id}
        if self.query("#members"):
            data["member_ids"] = self.value("members")
        if self.query("#text"):
            data["text"] = self.value("text")
        check = {
            Step.ANALYSE: self._check_analysis,
            Step.PREMIERE_INTENTION: self._check_first_response,
            Step.AUTRE_REPONSE: self._check_other_response,
            Step.ORIENTATION: self._check_orientation,
            Step.BILAN: self._check_bilan,
            Step.CLOTURE: self._check_closure,
            Step.REOUVERTURE: self._check_reopening,
            Step.REPORT: self._check_report,
            Step.NOTE: self._check_note,
        }[self.step]
        check(data, problems)
        if problems:
            return None
        if self.entry is not None:
            data.update(id=self.entry.id, created_at=self.entry.created_at, aid_id=data.get("aid_id",
                        self.entry.aid_id if self.step is not Step.BILAN else None))
        try:
            entry = TimelineEntry(**data)
        except ValidationError as error:
            problems.extend(self.model_problems(error, TimelineEntry, {
                "date": "date", "text": "text", "partner": "partner", "sub_kind": "sub-kind",
                "problematique": "text", "partenaire_requis": "partner"}))
            return None
        return lambda: self._write(entry, day)

    def _check_analysis(self, data: dict, problems: list) -> None:
        data["aids_called"] = self.value("aids-called")
        if not data["member_ids"]:
            problems.append(("members", "Cochez au moins un membre du pôle sollicité."))
        if not data["text"].strip():
            problems.append(("text", "La problématique est obligatoire."))
        where = self.value("meeting")
        if where is None:
            problems.append(("meeting", "Choisissez la réunion."))
        elif where == MeetingKind.ORDINAIRE.value and data["date"]:
            year = school_year_of(data["date"])
            span = period_of(data["date"], self.app.store.periods_of_year(year))
            if span is None:
                problems.append(("meeting", "Aucune période scolaire à cette date : choisissez une autre réunion."))
                return
            planned = [meeting.date for meeting in self.app.store.list_meetings(year)
                       if meeting.kind is MeetingKind.ORDINAIRE and meeting.period_number == span.number]
            if planned and planned[0] > data["date"]:
                problems.append(("meeting", self._future_meeting(span.number, planned[0])))

    def _check_first_response(self, data: dict, problems: list) -> None:
        data["sub_kind"] = self.value("sub-kind")
        if data["sub_kind"] == FirstResponse.ENTRETIEN_EXPLICITATION.value:
            data["interlocutor"] = self.value("interlocutor")
        if not data["member_ids"]:
            problems.append(("members", "Cochez le ou les membres qui ont répondu."))

    def _check_other_response(self, data: dict, problems: list) -> None:
        data["sub_kind"] = self.value("sub-kind")
        if data["sub_kind"] == SecondResponse.FORMATION_CIBLEE.value:
            action = self.value("action")
            data["action_id"] = new_id() if action == NEW_ACTION else action
        if not data["member_ids"]:
            problems.append(("members", "Cochez le ou les membres qui mènent cette réponse."))
        elif data["sub_kind"] == SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL.value:
            roles = {self.context.member(member_id).role for member_id in data["member_ids"]}
            if roles <= set(RASED_ROLES):
                problems.append(("members", "L'accompagnement professionnel est mené par un membre de l'équipe "
                                            "de circonscription (CPC, maître-formateur…)."))
        if not data["text"].strip():
            problems.append(("text", "Décrivez ce qui est mis en place."))

    def _check_orientation(self, data: dict, problems: list) -> None:
        data["sub_kind"] = SecondResponse.ORIENTATION_PARTENAIRE.value
        data["partner"] = self.value("partner")
        data["follow_up"] = self.value("follow-up")
        if data["partner"] is None:
            problems.append(("partner", "Choisissez le partenaire."))

    def _check_bilan(self, data: dict, problems: list) -> None:
        aid = self.value("aid")
        data["aid_id"] = None if aid == WHOLE_CASE else aid
        if not data["text"].strip():
            problems.append(("text", "Écrivez le bilan."))

    def _check_closure(self, data: dict, problems: list) -> None:
        data["sub_kind"] = self.value("outcome")
        if data["sub_kind"] is None:
            problems.append(("outcome", "Choisissez l'issue du dossier."))

    def _check_reopening(self, data: dict, problems: list) -> None:
        if not data["text"].strip():
            problems.append(("text", "Indiquez pourquoi le dossier est rouvert."))

    def _check_report(self, data: dict, problems: list) -> None:
        data["to_school_year"] = self.target_year

    def _check_note(self, data: dict, problems: list) -> None:
        data["author_member_id"] = self.value("author")
        data["confidential"] = self.value("confidential")
        if data["author_member_id"]:
            data["member_ids"] = [data["author_member_id"]]
        if not data["text"].strip():
            problems.append(("text", "La note est vide."))
        author = self.context.member(data["author_member_id"]) if data["author_member_id"] else None
        if data["confidential"] and (author is None or author.role is not Role.PSYCHOLOGUE):
            problems.append(("confidential", CONFIDENTIAL_AUTHOR_MESSAGE))

    def _write(self, entry: TimelineEntry, day: date | None) -> str:
        store = self.app.store
        what = f"{self.step.label} du {format_french_date(entry.date)}"
        with store.transaction():  # a meeting recorded for the analysis goes if the analysis is refused
            if self.step is Step.ANALYSE:
                entry = entry.model_copy(update={"meeting_id": self._meeting_id(entry.date)})
            if self.entry is not None:
                store.update_entry(entry)
                return f"Étape modifiée : {what}."
            if self.step is Step.CLOTURE:
                store.close_case(entry)
            else:
                store.add_entry(entry)
        return f"Étape enregistrée : {what}."

    def _meeting_id(self, day: date) -> str | None:
        where = self.value("meeting")
        if where == MEETING_SYNTHESE:
            return None
        year = school_year_of(day)
        kind = MeetingKind(where)
        span = period_of(day, self.app.store.periods_of_year(year)) if kind is MeetingKind.ORDINAIRE else None
        return self.app.store.meeting_for(year, kind, period_number=span.number if span else None, day=day).id


class AidForm(StepForm):
    """An aide spécialisée of the RASED: who, how, how often, what for, and the consent."""

    def __init__(self, context: CaseContext, aid: Aid | None = None, entry: TimelineEntry | None = None) -> None:
        super().__init__(context)
        self.aid = aid
        self.entry = entry
        self.title_text = ("Modifier : " if aid else "") + "Aide spécialisée du RASED"

    @property
    def is_new(self) -> bool:
        return self.aid is None

    def warnings(self) -> list[str]:
        return [] if self.aid else skipped_steps(Step.AIDE, self.context.entries, self.context.aids)

    def fields(self) -> Iterator[Widget]:
        aid = self.aid
        # a new aid is of the kind the analysis called for (the first of them), E otherwise
        kind = aid.kind if aid else next(iter(aids_called(self.context.entries)), AidKind.E)
        yield self.radio_field("Type d'aide", "kind", [(item.label, item.value) for item in AidKind], kind.value)
        yield field_row("Membre du RASED", Select([], prompt="Choisir…", compact=True, id="giver"))
        yield Static("", id="giver-hint", markup=False)
        yield field_row("Modalité", choice("modality", [(item.label, item.value) for item in Modality],
                                           aid.modality.value if aid else Select.NULL))
        yield field_row("Séances par semaine", text_input("sessions", _number_text(aid.sessions_per_week if aid else None),
                                                          placeholder="ex. : 2"))
        yield self.text_field("Objectifs", aid.objectives if aid else "", "Les compétences visées",
                              widget_id="objectives")
        yield field_row("Début", date_input("start", format_french_date(aid.start_date if aid else today())))
        yield field_row("Durée prévue (semaines)", text_input("weeks", str(aid.expected_weeks or "") if aid else "",
                                                              placeholder="ex. : 10"))
        yield Static("Accord de la famille", classes="section")
        yield field_row("Accord", choice("consent", [(item.label, item.value) for item in ConsentStatus],
                                         aid.consent_status.value if aid else Select.NULL))
        yield field_row("Forme", choice("consent-form", [(item.label, item.value) for item in ConsentForm],
                                        aid.consent_form.value if aid and aid.consent_form else Select.NULL))
        yield field_row("Date de l'accord", date_input("consent-date", format_french_date(aid.consent_date)
                                                       if aid and aid.consent_date else ""))
        yield field_row("Donné par", text_input("consent-by", aid.consent_by if aid else "",
                                                placeholder="ex. : la mère, les deux parents"))
        yield Static("", id="consent-hint", markup=False)

    def after_mount(self) -> None:
        self._fill_givers(self.aid.member_id if self.aid else None)
        self._show_consent_hint()

    @on(RadioSet.Changed, "#kind")
    def _kind_changed(self) -> None:
        self._fill_givers(None)
        self._show_consent_hint()

    @on(Select.Changed, "#consent")
    def _consent_changed(self) -> None:
        self._show_consent_hint()

    def _kind(self) -> AidKind:
        return AidKind(self.value("kind"))

    def _fill_givers(self, chosen: str | None) -> None:
        """Only members of the matching role give an aid: maître E, maître G, psychologue."""
        role = self._kind().role
        givers = self.context.available_members([chosen] if chosen else [], (role,))
        givers = [member for member in givers if member.role is role]
        select = self.query_one("#giver", Select)
        select.set_options([(member.full_name, member.id) for member in givers])
        if chosen and any(member.id == chosen for member in givers):
            select.value = chosen
        elif len(givers) == 1:
            select.value = givers[0].id
        hint = self.query_one("#giver-hint", Static)
        hint.update("" if givers else f"Aucun membre actif n'a la fonction « {role.label} » dans l'annuaire.")
        hint.display = not givers

    def _show_consent_hint(self) -> None:
        consent = self.value("consent")
        if self._kind() is AidKind.PSY:
            hint = "Un bilan ou un suivi psychologique demande l'autorisation écrite des parents."
        else:
            hint = "L'aide commence quand l'enfant, la famille et l'enseignant·e sont d'accord."
        if consent == ConsentStatus.EN_ATTENTE.value:
            hint += " Accord en attente : l'aide est proposée, elle commencera avec l'accord."
        elif consent == ConsentStatus.REFUSE.value:
            hint += " Accord refusé : l'aide est notée comme proposée et non commencée."
        self.query_one("#consent-hint", Static).update(hint)

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], str] | None:
        start, problem = self.step_day("start")
        if problem:
            problems.append(("start", problem))
        giver = self.value("giver")
        if giver is None:
            problems.append(("giver", "Choisissez le membre du RASED qui donne l'aide."))
        elif (member := self.context.member(giver)) is not None and member.role is not self._kind().role:
            problems.append(("giver", f"Une aide {self._kind().value} est donnée par un·e "
                                      f"{self._kind().role.label}."))
        if self.value("modality") is None:
            problems.append(("modality", "Choisissez la modalité."))
        consent = self.value("consent")
        if consent is None:
            problems.append(("consent", "Indiquez l'accord de la famille (donné, refusé ou en attente)."))
        sessions, weeks = self._number("sessions", float, problems), self._number("weeks", int, problems)
        consent_day = None
        if self.value("consent-date").strip():
            consent_day, problem = self.day("consent-date")
            if problem:
                problems.append(("consent-date", problem))
        if problems:
            return None
        data: dict[str, Any] = {
            "case_id": self.context.case.id, "member_id": giver, "kind": self._kind(),
            "modality": self.value("modality"), "sessions_per_week": sessions, "objectives": self.value("objectives"),
            "start_date": start, "expected_weeks": weeks, "consent_status": consent,
            "consent_form": self.value("consent-form"), "consent_date": consent_day,
            "consent_by": self.value("consent-by"),
        }
        was_refused = self.aid is not None and self.aid.consent_status is ConsentStatus.REFUSE
        if self.aid is not None and not (was_refused and consent != ConsentStatus.REFUSE.value):
            # the end stays, unless a refusal (which ended the aid at once) became an agreement
            data.update(id=self.aid.id, end_date=self.aid.end_date, end_reason=self.aid.end_reason,
                        end_note=self.aid.end_note, consent_withdrawn_on=self.aid.consent_withdrawn_on)
        elif self.aid is not None:
            data["id"] = self.aid.id
        if consent == ConsentStatus.REFUSE.value and (self.aid is None or self.aid.end_date is None):
            data.update(end_date=start, end_reason=AidEndReason.AUTRE,
                        end_note="Accord refusé par la famille : l'aide n'a pas commencé.")
        try:
            aid = Aid(**data)
        except ValidationError as error:
            problems.extend(self.model_problems(error, Aid, {
                "consentement_ecrit": "consent-form", "consentement_forme": "consent-form",
                "consentement_apres": "consent-date", "fin_avant_debut": "start", "sessions_per_week": "sessions",
                "expected_weeks": "weeks", "objectives": "objectives"}))
            return None
        return lambda: self._write(aid)

    def _number(self, widget_id: str, kind: type, problems: list) -> Any:
        text = self.value(widget_id).strip().replace(",", ".")
        if not text:
            return None
        try:
            number = kind(text)
        except ValueError:
            problems.append((widget_id, "Nombre attendu." if kind is float else "Nombre entier attendu."))
            return None
        if number <= 0:
            problems.append((widget_id, "Le nombre doit être positif."))
        return number

    def _write(self, aid: Aid) -> str:
        giver = self.context.member(aid.member_id)
        text = f"{aid.kind.label} — {aid.modality.label}"
        if aid.sessions_per_week:
            plural = "s" if aid.sessions_per_week >= 2 else ""
            text += f", {_number_text(aid.sessions_per_week)} séance{plural} par semaine"
        if aid.objectives:
            text += f". Objectifs : {aid.objectives}"
        entry = TimelineEntry(
            id=self.entry.id if self.entry else new_id(),
            case_id=aid.case_id, kind=EntryKind.SECONDE_INTENTION, sub_kind=SecondResponse.AIDE_SPECIALISEE.value,
            date=aid.start_date, text=text, member_ids=[aid.member_id], author_member_id=aid.member_id,
            created_at=self.entry.created_at if self.entry else None)
        store = self.app.store
        if self.aid is not None:
            store.update_aid_and_entry(aid, entry)
            return f"Aide {aid.kind.value} modifiée."
        store.open_aid(aid, entry)
        if aid.consent_status is ConsentStatus.DONNE:
            return f"Aide {aid.kind.value} ouverte avec {giver.full_name if giver else '?'}." + self._capacity_note(giver)
        return f"Aide {aid.kind.value} proposée ({aid.consent_status.label.lower()})."

    def _capacity_note(self, giver: Member | None) -> str:
        """' Attention : 25 suivis pour une capacité de 24.' when the new aid takes the giver
        over the capacity written in the directory."""
        if giver is None or giver.capacity is None:
            return ""
        held = load_of(aid for aid in self.app.store.caseload_aids(CaseloadFilter(), today())
                       if aid.member_id == giver.id).held
        warning = over_capacity_text(held, giver.capacity)
        return f" Attention : {warning}." if warning else ""


def _number_text(number: float | None) -> str:
    if number is None:
        return ""
    return str(int(number)) if float(number).is_integer() else str(number).replace(".", ",")


class EvaluationForm(StepForm):
    """An evaluation of an aid against its objectives (psychologue: self-esteem)."""

    def __init__(self, context: CaseContext, evaluation: AidEvaluation | None = None) -> None:
        super().__init__(context)
        self.evaluation = evaluation
        self.title_text = ("Modifier : " if evaluation else "") + "Évaluation d'une aide"

    @property
    def is_new(self) -> bool:
        return self.evaluation is None

    def _aids(self) -> list[Aid]:
        if self.evaluation is not None:
            return [aid for aid in self.context.aids if aid.id == self.evaluation.aid_id]
        return [aid for aid in self.context.aids if aid.consent_status is ConsentStatus.DONNE]

    def fields(self) -> Iterator[Widget]:
        aids = self._aids()
        evaluation = self.evaluation
        running = [aid for aid in aids if aid.is_open]
        chosen = evaluation.aid_id if evaluation else (running or aids or [None])[-1]
        chosen = chosen.id if isinstance(chosen, Aid) else chosen
        yield field_row("Aide", choice("aid", [(aid_label(aid, self.context), aid.id) for aid in aids],
                                       chosen if chosen else Select.NULL))
        yield field_row("Moment", choice("phase", [(item.label, item.value) for item in EvaluationPhase],
                                         evaluation.phase.value if evaluation else self._next_phase(chosen)))
        yield field_row("Date", date_input("date", format_french_date(evaluation.date if evaluation else today())))
        yield field_row("Score (0 à 10)", text_input("score", str(evaluation.score) if evaluation and
                                                     evaluation.score is not None else "", placeholder="0 à 10"))
        yield Static("", id="score-hint", markup=False)
        yield self.text_field("Observations", evaluation.observations if evaluation else "",
                              "Progrès au regard des objectifs", widget_id="observations")

    def _next_phase(self, aid_id: str | None) -> Any:
        done = {evaluation.phase for evaluation in self.context.evaluations.get(aid_id or "", [])}
        if EvaluationPhase.DEBUT not in done:
            return EvaluationPhase.DEBUT.value
        return EvaluationPhase.INTERMEDIAIRE.value if EvaluationPhase.FIN not in done else Select.NULL

    def after_mount(self) -> None:
        self._show_score_hint()
        if not self._aids():
            self.refuse([(None, "Aucune aide commencée avec l'accord de la famille : rien à évaluer.")])

    @on(Select.Changed, "#aid")
    def _show_score_hint(self) -> None:
        aid = self._aid()
        if aid is not None and aid.kind is AidKind.PSY:
            hint = "Score : l'estime de soi de l'élève, de 0 (très fragile) à 10 (restaurée)."
        else:
            hint = "Score : la maîtrise des compétences visées, de 0 (pas du tout) à 10 (acquises)."
        self.query_one("#score-hint", Static).update(hint)

    def _aid(self) -> Aid | None:
        aid_id = self.value("aid")
        return next((aid for aid in self.context.aids if aid.id == aid_id), None)

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], str] | None:
        aid = self._aid()
        if aid is None:
            problems.append(("aid", "Choisissez l'aide évaluée."))
        day, problem = self.step_day()
        if problem:
            problems.append(("date", problem))
        elif aid is not None and (problem := evaluation_problem(aid, day)):
            problems.append(("date", problem))
        elif aid is not None and self.value("phase") is not None:
            candidate = AidEvaluation.model_construct(id=self.evaluation.id if self.evaluation else "", aid_id=aid.id,
                                                      date=day, phase=EvaluationPhase(self.value("phase")))
            if problem := evaluation_order_problem(candidate, self.context.evaluations.get(aid.id, [])):
                problems.append(("phase", problem))
        if self.value("phase") is None:
            problems.append(("phase", "Choisissez le moment de l'évaluation."))
        score = None
        if self.value("score").strip():
            try:
                score = int(self.value("score").strip())
            except ValueError:
                problems.append(("score", "Score : un nombre entier de 0 à 10."))
            else:
                if not 0 <= score <= 10:
                    problems.append(("score", "Score : un nombre entier de 0 à 10."))
        if score is None and not self.value("observations").strip() and not problems:
            problems.append(("score", "Donnez un score ou des observations."))
        if problems:
            return None
        data = {"aid_id": aid.id, "date": day, "phase": self.value("phase"), "score": score,
                "observations": self.value("observations")}
        if self.evaluation is not None:
            data["id"] = self.evaluation.id
        try:
            evaluation = AidEvaluation(**data)
        except ValidationError as error:
            problems.extend(self.model_problems(error, AidEvaluation, {"date": "date", "score": "score"}))
            return None
        return lambda: self._write(evaluation, aid)

    def _write(self, evaluation: AidEvaluation, aid: Aid) -> str:
        if self.evaluation is not None:
            self.app.store.update_evaluation(evaluation)
            return "Évaluation modifiée."
        self.app.store.add_evaluation(evaluation)
        return f"Évaluation ({evaluation.phase.label.lower()}) de l'aide {aid.kind.value} enregistrée."


class EndAidForm(StepForm):
    """The end of an aid: the date and the reason (a withdrawn consent among them)."""

    def __init__(self, context: CaseContext, aid: Aid | None = None) -> None:
        super().__init__(context)
        self.aid = aid
        self.title_text = "Modifier la fin d'une aide" if aid and aid.end_date else "Fin d'une aide"

    def fields(self) -> Iterator[Widget]:
        aid = self.aid
        aids = [aid] if aid else [item for item in self.context.aids if item.is_open]
        yield field_row("Aide", choice("aid", [(aid_label(item, self.context), item.id) for item in aids],
                                       aids[0].id if len(aids) == 1 else Select.NULL))
        yield field_row("Date de fin", date_input("date", format_french_date(aid.end_date if aid and aid.end_date
                                                                            else today())))
        yield field_row("Motif", choice("reason", [(item.label, item.value) for item in AidEndReason],
                                        aid.end_reason.value if aid and aid.end_reason else Select.NULL))
        yield self.text_field("Commentaire", aid.end_note if aid else "", widget_id="note")

    def after_mount(self) -> None:
        if self.aid is None and not any(aid.is_open for aid in self.context.aids):
            self.refuse([(None, "Aucune aide en cours dans ce dossier.")])

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], str] | None:
        aid_id = self.value("aid")
        aid = next((aid for aid in self.context.aids if aid.id == aid_id), None)
        if aid is None:
            problems.append(("aid", "Choisissez l'aide qui prend fin."))
        day, problem = self.day()
        if problem:
            problems.append(("date", problem))
        elif aid is not None and day < aid.start_date:
            problems.append(("date", f"La fin de l'aide précède son début ({format_french_date(aid.start_date)})."))
        reason = self.value("reason")
        if reason is None:
            problems.append(("reason", "Choisissez le motif de fin."))
        if problems:
            return None
        note = self.value("note")
        return lambda: self._write(aid, day, AidEndReason(reason), note)

    def _write(self, aid: Aid, day: date, reason: AidEndReason, note: str) -> str:
        self.app.store.end_aid(aid.id, day, reason, note)
        return f"Aide {aid.kind.value} terminée le {format_french_date(day)}."

"""Pydantic models of the domain, with their rules and French validation messages.

Every model validates what a person can get wrong (a birth date in the future, a request
dated before the pupil was born, an empty description, a bad UAI key letter...). A rejected
model raises pydantic's ValidationError; `french_messages()` turns it into sentences for the
interface and the command line.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date
from typing import Annotated, Any, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, PydanticKnownError
from pydantic_core.core_schema import ErrorType

from rased_tui.domain.calendar import parse_french_date, parse_school_year, school_year_of, today
from rased_tui.domain.enums import (
    AidEndReason,
    AidKind,
    ClassLevel,
    ClosureOutcome,
    ConsentForm,
    ConsentStatus,
    Dispositif,
    EntryKind,
    EvaluationPhase,
    FirstResponse,
    Interlocutor,
    MeetingKind,
    Modality,
    Motif,
    Partner,
    PeriodSource,
    PriorAction,
    PriorityEducation,
    Requester,
    Role,
    SchoolKind,
    SecondResponse,
    SubjectKind,
    Zone,
)

UAI_KEY_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
MAX_NAME_LENGTH = 100
MAX_TEXT_LENGTH = 20_000
FIRST_PLAUSIBLE_YEAR = 1900  # before it, a year typed wrong (0026, 1026...): school years have 4 digits


def new_id() -> str:
    """A new random UUID, as stored in every key column."""
    return str(uuid.uuid4())


def fold(text: str) -> str:
    """Lower case without accents or extra spaces: 'Hélène  Dupré' -> 'helene dupre'."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def uai_key_letter(digits: str) -> str:
    """The key letter of a UAI's seven digits."""
    return UAI_KEY_LETTERS[int(digits) % 23]


def _error(kind: str, message: str) -> PydanticCustomError:
    """A refusal with a French message. `kind` must not be one of pydantic's own error types
    (french_messages() rewrites those), hence French names like 'date_dans_le_futur'."""
    return PydanticCustomError(kind, message)


def _coerce_date(value: Any) -> Any:
    """Accept JJ/MM/AAAA as well as ISO strings; leave dates and None alone."""
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            return parse_french_date(value)
        except ValueError as error:
            raise _error("date_francaise", str(error)) from None
    return value


def _plausible_year(value: date | None) -> date | None:
    if value is not None and value.year < FIRST_PLAUSIBLE_YEAR:
        raise _error("date_ancienne", f"Le {value.day:02d}/{value.month:02d}/{value.year:04d} est trop ancien "
                                      f"(avant {FIRST_PLAUSIBLE_YEAR}) : vérifiez l'année.")
    return value


FrenchDate = Annotated[date, BeforeValidator(_coerce_date), AfterValidator(_plausible_year)]
OptionalFrenchDate = Annotated[date | None, BeforeValidator(_coerce_date), AfterValidator(_plausible_year)]


# Unicode's "Cc" control characters (C0, DEL, C1) except tab and line feed.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _reject_control_characters(text: str) -> str:
    if _CONTROL_CHARACTERS.search(text):
        raise _error("caracteres_controle", "Le texte contient des caractères de contrôle invisibles.")
    return text


def _check_name(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise _error("nom_vide", "Ce nom est obligatoire.")
    if len(text) > MAX_NAME_LENGTH:
        raise _error("nom_long", f"Ce nom dépasse {MAX_NAME_LENGTH} caractères.")
    return _reject_control_characters(text)


def _check_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # Windows and old Mac line breaks
    if len(text) > MAX_TEXT_LENGTH:
        raise _error("texte_long", f"Ce texte dépasse {MAX_TEXT_LENGTH} caractères.")
    return _reject_control_characters(text.strip())


def _check_short_text(text: str) -> str:
    """A commune, an antenna: may be empty, but one line of a name's length (the export's
    columns for them take no more)."""
    text = text.strip()
    if len(text) > MAX_NAME_LENGTH:
        raise _error("texte_court_long", f"Ce texte dépasse {MAX_NAME_LENGTH} caractères.")
    return _reject_control_characters(text)


Name = Annotated[str, BeforeValidator(lambda v: _check_name(v) if isinstance(v, str) else v)]
ShortText = Annotated[str, BeforeValidator(lambda v: _check_short_text(v) if isinstance(v, str) else v)]
Text = Annotated[str, BeforeValidator(lambda v: _check_text(v) if isinstance(v, str) else v)]


# Records read back from the database are validated with this context: rules that depend on
# "today" (no date in the future) held when they were written and must not reject them later.
STORED = {"stored": True}


def _not_in_future(day: date | None, what: str, info: ValidationInfo) -> None:
    if info.context and info.context.get("stored"):
        return
    if day is not None and day > today():
        raise _error("date_dans_le_futur", f"{what} ne peut pas être dans le futur.")


class DomainModel(BaseModel):
    """Common configuration: strip strings, validate on assignment, forbid unknown fields."""

    model_config = ConfigDict(
        str_strip_whitespace=True, validate_assignment=True, extra="forbid", use_enum_values=False
    )


class School(DomainModel):
    id: str = Field(default_factory=new_id)
    uai: str = Field(title="Code UAI")
    name: Name = Field(title="Nom de l'école")
    commune: ShortText = Field(default="", title="Commune")
    kind: SchoolKind = Field(title="Type d'école")
    priority_education: PriorityEducation = Field(default=PriorityEducation.AUCUNE, title="Éducation prioritaire")
    active: bool = True

    @field_validator("uai", mode="before")
    @classmethod
    def _check_uai(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        uai = value.strip().upper()
        if len(uai) != 8 or not uai[:7].isascii() or not uai[:7].isdigit() or not "A" <= uai[7] <= "Z":
            raise _error("uai_format", "Un code UAI a 7 chiffres et une lettre (exemple : 0761234D).")
        expected = uai_key_letter(uai[:7])
        if uai[7] != expected:
            raise _error("uai_cle", f"La lettre clé du code UAI {uai[:7]} est {expected}, pas {uai[7]}.")
        return uai


class Member(DomainModel):
    id: str = Field(default_factory=new_id)
    last_name: Name = Field(title="Nom")
    first_name: Name = Field(title="Prénom")
    role: Role = Field(title="Fonction")
    antenna: ShortText = Field(default="", title="Antenne")
    active_from: FrenchDate = Field(title="En fonction depuis le")
    active_to: OptionalFrenchDate = Field(default=None, title="En fonction jusqu'au")
    capacity: int | None = Field(default=None, gt=0, le=200, title="Capacité (élèves suivis)")

    @model_validator(mode="after")
    def _check_dates(self) -> "Member":
        if self.active_to is not None and self.active_to < self.active_from:
            raise _error("fin_avant_debut", "La fin de fonction précède le début.")
        return self

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_active_on(self, day: date) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


# The first name given to a pupil known by a pseudonym only (an import from a pseudonymised
# export, or a pupil whose identity the retention purge effaced): its last name is the pseudonym.
PSEUDONYMOUS_FIRST_NAME = "Élève"


class Pupil(DomainModel):
    id: str = Field(default_factory=new_id)
    last_name: Name = Field(title="Nom de l'élève")
    first_name: Name = Field(title="Prénom de l'élève")
    # None only for a pupil known by a pseudonym (imported from a pseudonymised export).
    birth_date: OptionalFrenchDate = Field(default=None, validate_default=True, title="Date de naissance")

    @field_validator("birth_date")
    @classmethod
    def _birth_in_past(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            if not (info.context and info.context.get("stored")):
                raise PydanticKnownError("missing")  # worded like any other missing field
            return value
        _not_in_future(value, "La date de naissance", info)
        if value.year < 1990:
            raise _error("naissance_ancienne", "Cette date de naissance est trop ancienne pour un élève du premier degré.")
        return value

    @property
    def pseudonymous(self) -> bool:
        """Known only by a pseudonym: the identity stayed with the antenna that exported it."""
        return self.birth_date is None

    @property
    def name_key(self) -> str:
        return fold(f"{self.last_name} {self.first_name}")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class PriorActionItem(DomainModel):
    action: PriorAction
    detail: Text = ""


class Case(DomainModel):
    """A demande d'aide, about a pupil (cas n°1) or a teacher, team or class (cas n°2).

    `number`, `school_year` and `sequence` are given by the store when the case is saved.
    """

    id: str = Field(default_factory=new_id)
    number: str | None = None
    school_year: str | None = None
    sequence: int | None = None
    subject_kind: SubjectKind = Field(title="Objet de la demande")
    pupil: Pupil | None = None
    teacher_name: Text = Field(default="", title="Enseignant·e")
    team_reference: Text = Field(default="", title="Référence de l'équipe")
    levels: list[ClassLevel] = Field(default_factory=list, title="Niveau de classe")
    dispositif: Dispositif | None = Field(default=None, title="Dispositif")
    handicap: bool | None = Field(default=None, title="Élève en situation de handicap")
    aesh: bool | None = Field(default=None, title="Présence d'un AESH/AVS")
    school_id: str = Field(title="École")
    requester: Requester = Field(title="Demandeur")
    requester_detail: Text = Field(default="", title="Précision (demandeur)")
    date_sent: FrenchDate = Field(title="Date d'envoi")
    date_received: OptionalFrenchDate = Field(default=None, title="Date de réception")
    urgent: bool = Field(default=False, title="Demande urgente")
    description: Text = Field(title="Difficultés rencontrées")
    motifs: list[Motif] = Field(default_factory=list, validate_default=True, title="Motifs")
    other_motif: Text = Field(default="", title="Autre motif")
    prior_actions: list[PriorActionItem] = Field(default_factory=list, title="Actions déjà menées")
    parents_informed_on: OptionalFrenchDate = Field(default=None, title="Parents informés le")

    @field_validator("description")
    @classmethod
    def _description_required(cls, value: str) -> str:
        if not value.strip():
            raise _error("description_vide", "La description factuelle des difficultés est obligatoire.")
        return value

    @field_validator("levels")
    @classmethod
    def _distinct_levels(cls, value: list[ClassLevel]) -> list[ClassLevel]:
        return sorted(set(value), key=list(ClassLevel).index)

    @field_validator("motifs")
    @classmethod
    def _distinct_motifs(cls, value: list[Motif]) -> list[Motif]:
        if not value:
            raise _error("motif_requis", "Choisissez au moins un motif.")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _check_request(self, info: ValidationInfo) -> "Case":
        _not_in_future(self.date_sent, "La date d'envoi", info)
        _not_in_future(self.date_received, "La date de réception", info)
        if self.date_received is not None and self.date_received < self.date_sent:
            raise _error("reception_avant_envoi", "La date de réception précède la date d'envoi.")
        if self.parents_informed_on is not None:
            _not_in_future(self.parents_informed_on, "La date d'information des parents", info)
        self._check_subject(stored=bool(info.context and info.context.get("stored")))
        if Motif.AUTRE in self.motifs and not self.other_motif:
            raise _error("autre_motif", "Précisez le motif « autre ».")
        return self

    def _check_subject(self, *, stored: bool = False) -> None:
        kind = self.subject_kind
        if kind is SubjectKind.ELEVE:
            if self.pupil is None:
                raise _error("eleve_requis", "Une demande pour un élève doit nommer l'élève.")
            if self.pupil.birth_date and self.date_sent < self.pupil.birth_date:
                raise _error("avant_naissance", "La demande est datée d'avant la naissance de l'élève.")
            if len(self.levels) != 1:
                raise _error("niveau_eleve", "Indiquez le niveau de classe de l'élève (un seul niveau).")
            return
        if self.pupil is not None:
            raise _error("eleve_interdit", "Une demande pour un enseignant ou une équipe ne nomme pas d'élève.")
        if self.handicap is not None or self.aesh is not None:
            raise _error("handicap_eleve", "Handicap et AESH ne concernent qu'une demande pour un élève.")
        if kind is SubjectKind.EQUIPE and not self.team_reference:
            raise _error("equipe_requise", "Indiquez la référence de l'équipe d'école.")
        # A case imported from a pseudonymised export is stored without its teacher's name.
        if kind in (SubjectKind.ENSEIGNANT, SubjectKind.CLASSE) and not self.teacher_name and not stored:
            raise _error("enseignant_requis", "Indiquez le nom de l'enseignant·e.")

    @property
    def main_motif(self) -> Motif:
        return self.motifs[0]

    @property
    def request_school_year(self) -> str:
        """The school year a case number belongs to: that of the date the request was sent."""
        return school_year_of(self.date_sent)

    @property
    def subject_label(self) -> str:
        """Who the case is about, as the list shows it."""
        if self.pupil is not None:
            return self.pupil.full_name
        if self.subject_kind is SubjectKind.EQUIPE:
            return self.team_reference
        return self.teacher_name


_SUB_KINDS: dict[EntryKind, type] = {
    EntryKind.PREMIERE_INTENTION: FirstResponse,
    EntryKind.SECONDE_INTENTION: SecondResponse,
    EntryKind.CLOTURE: ClosureOutcome,
}


class TimelineEntry(DomainModel):
    """One dated step of a case. `sub_kind` is the response or, for a closure, its outcome."""

    id: str = Field(default_factory=new_id)
    case_id: str
    kind: EntryKind = Field(title="Étape")
    sub_kind: str | None = Field(default=None, title="Type")
    date: FrenchDate = Field(title="Date")
    text: Text = Field(default="", title="Texte")
    partner: Partner | None = Field(default=None, title="Partenaire")
    meeting_id: str | None = Field(default=None, title="Réunion")
    aid_id: str | None = Field(default=None, title="Aide")
    action_id: str | None = Field(default=None, title="Action partagée")
    to_school_year: str | None = Field(default=None, title="Année de report")
    confidential: bool = Field(default=False, title="Confidentielle")
    author_member_id: str | None = Field(default=None, title="Auteur·rice")
    member_ids: list[str] = Field(default_factory=list, title="Membres")
    created_at: str | None = None
    interlocutor: Interlocutor | None = Field(default=None, title="Avec qui")
    follow_up: Text = Field(default="", title="Suivi")
    aids_called: list[AidKind] = Field(default_factory=list, title="Aides du RASED demandées")

    @model_validator(mode="after")
    def _check_entry(self, info: ValidationInfo) -> "TimelineEntry":
        _not_in_future(self.date, "La date de l'étape", info)
        allowed = _SUB_KINDS.get(self.kind)
        if allowed is None and self.sub_kind is not None:
            raise _error("sous_type_interdit", f"L'étape « {self.kind.label} » n'a pas de sous-type.")
        if allowed is not None:
            codes = {member.value for member in allowed}
            if self.sub_kind not in codes:
                what = "l'issue de la clôture" if self.kind is EntryKind.CLOTURE else "le type de réponse"
                raise _error("sous_type_requis", f"Précisez {what}.")
        if self.kind is EntryKind.ANALYSE and not self.text:
            raise _error("problematique", "La problématique de la première analyse est obligatoire.")
        if (self.kind is EntryKind.REPORT) != (self.to_school_year is not None):
            raise _error("report", "Un report indique l'année scolaire où le dossier continue.")
        if self.to_school_year is not None:
            try:
                parse_school_year(self.to_school_year)
            except ValueError as error:
                raise _error("annee_scolaire", str(error)) from None
        if self.partner is not None and self.sub_kind != SecondResponse.ORIENTATION_PARTENAIRE.value:
            raise _error("partenaire", "Un partenaire ne se précise que pour une orientation.")
        orientation = self.kind is EntryKind.SECONDE_INTENTION and \
            self.sub_kind == SecondResponse.ORIENTATION_PARTENAIRE.value
        if orientation and self.partner is None:
            raise _error("partenaire_requis", "Choisissez le partenaire de l'orientation.")
        if self.interlocutor is not None and self.sub_kind != FirstResponse.ENTRETIEN_EXPLICITATION.value:
            raise _error("interlocuteur", "« Avec qui » ne se précise que pour un entretien d'explicitation.")
        if self.aids_called and self.kind is not EntryKind.ANALYSE:
            raise _error("aides_demandees", "Seule la première analyse demande une aide du RASED.")
        return self


class Aid(DomainModel):
    """An aide spécialisée of the RASED (E, G or psychologique) given by one member."""

    id: str = Field(default_factory=new_id)
    case_id: str
    member_id: str = Field(title="Membre du RASED")
    kind: AidKind = Field(title="Type d'aide")
    modality: Modality = Field(title="Modalité")
    sessions_per_week: float | None = Field(default=None, gt=0, le=20, title="Séances par semaine")
    objectives: Text = Field(default="", title="Objectifs")
    start_date: FrenchDate = Field(title="Début")
    expected_weeks: int | None = Field(default=None, gt=0, le=52 * 3, title="Durée prévue (semaines)")
    end_date: OptionalFrenchDate = Field(default=None, title="Fin")
    end_reason: AidEndReason | None = Field(default=None, title="Motif de fin")
    end_note: Text = Field(default="", title="Commentaire de fin")
    consent_status: ConsentStatus = Field(title="Accord de la famille")
    consent_form: ConsentForm | None = Field(default=None, title="Forme de l'accord")
    consent_date: OptionalFrenchDate = Field(default=None, title="Date de l'accord")
    consent_by: Text = Field(default="", title="Accord donné par")
    consent_withdrawn_on: OptionalFrenchDate = Field(default=None, title="Accord retiré le")

    @model_validator(mode="after")
    def _check_aid(self) -> "Aid":
        if self.consent_status is ConsentStatus.DONNE:
            if self.kind is AidKind.PSY and self.consent_form is not ConsentForm.ECRIT:
                raise _error(
                    "consentement_ecrit",
                    "Un bilan ou un suivi psychologique ne peut commencer sans l'autorisation écrite des parents.",
                )
            if self.consent_form is None:
                raise _error("consentement_forme", "Précisez si l'accord de la famille est oral ou écrit.")
            if self.consent_date is not None and self.consent_date > self.start_date:
                raise _error("consentement_apres", "L'aide ne peut commencer avant l'accord de la famille.")
        if (self.end_date is None) != (self.end_reason is None):
            raise _error("fin_aide", "Une aide terminée a une date et un motif de fin.")
        if self.end_date is not None and self.end_date < self.start_date:
            raise _error("fin_avant_debut", "La fin de l'aide précède son début.")
        if self.consent_withdrawn_on is not None and self.end_reason is not AidEndReason.RETRAIT_CONSENTEMENT:
            raise _error("retrait", "Un retrait de l'accord met fin à l'aide (motif « retrait du consentement »).")
        return self

    @property
    def is_open(self) -> bool:
        return self.end_date is None


class AidEvaluation(DomainModel):
    id: str = Field(default_factory=new_id)
    aid_id: str
    date: FrenchDate = Field(title="Date")
    phase: EvaluationPhase = Field(title="Moment")
    observations: Text = Field(default="", title="Observations")
    score: int | None = Field(default=None, ge=0, le=10, title="Score (0 à 10)")

    @field_validator("date")
    @classmethod
    def _past(cls, value: date, info: ValidationInfo) -> date:
        _not_in_future(value, "La date de l'évaluation", info)
        return value


class Period(DomainModel):
    id: str = Field(default_factory=new_id)
    school_year: str = Field(title="Année scolaire")
    number: int = Field(ge=1, le=5, title="Période")
    start_date: FrenchDate = Field(title="Début")
    end_date: FrenchDate = Field(title="Fin")
    zone: Zone | None = None
    source: PeriodSource = PeriodSource.MANUEL

    @model_validator(mode="after")
    def _check_period(self) -> "Period":
        try:
            start_year = parse_school_year(self.school_year)
        except ValueError as error:
            raise _error("annee_scolaire", str(error)) from None
        if self.end_date < self.start_date:
            raise _error("fin_avant_debut", "La fin de la période précède son début.")
        if not date(start_year, 8, 1) <= self.start_date <= date(start_year + 1, 7, 31):
            raise _error("hors_annee", f"La période doit se situer dans l'année scolaire {self.school_year}.")
        return self


class Meeting(DomainModel):
    id: str = Field(default_factory=new_id)
    school_year: str
    period_number: int | None = Field(default=None, ge=1, le=5)
    date: FrenchDate = Field(title="Date de la réunion")
    kind: MeetingKind = MeetingKind.ORDINAIRE
    request_deadline_days: int = Field(default=6, ge=0, le=60, title="Délai de dépôt (jours)")
    notes: Text = ""


_PYDANTIC_MESSAGES = {
    "missing": "ce champ est obligatoire",
    "date_parsing": "date invalide (JJ/MM/AAAA)",
    "date_from_datetime_parsing": "date invalide (JJ/MM/AAAA)",
    "date_type": "date invalide (JJ/MM/AAAA)",
    "enum": "valeur inconnue",
    "greater_than": "doit être supérieur à {gt}",
    "greater_than_equal": "doit être au moins {ge}",
    "less_than_equal": "doit être au plus {le}",
    "int_parsing": "nombre entier attendu",
    "int_from_float": "nombre entier attendu",
    "float_parsing": "nombre attendu",
    "bool_parsing": "oui ou non attendu",
    "string_type": "texte attendu",
    "string_unicode": "caractère illisible (mal encodé)",
    "extra_forbidden": "champ inconnu",
    "date_from_datetime_inexact": "date invalide (JJ/MM/AAAA)",
}
# pydantic's own error types: any of them missing above still gets a French sentence.
_PYDANTIC_TYPES = frozenset(get_args(ErrorType))


def _french_number(value: Any) -> Any:
    """0.0 -> 0, 2.5 -> 2,5: numbers in limits as a French reader writes them."""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value).replace(".", ",")
    return value


def french_messages(error: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """One French sentence per problem, prefixed by the field's French title when known."""
    messages = []
    for item in error.errors():
        kind = item["type"]
        builtin = kind in _PYDANTIC_TYPES
        if kind in _PYDANTIC_MESSAGES:
            context = {key: _french_number(value) for key, value in item.get("ctx", {}).items()}
            text = _PYDANTIC_MESSAGES[kind].format(**context)
        elif builtin:
            text = "valeur invalide"
        else:
            text = item["msg"]
        field = item["loc"][0] if item["loc"] else None
        title = None
        if model is not None and isinstance(field, str) and field in model.model_fields:
            title = model.model_fields[field].title
        messages.append(f"{title} : {text}" if title and builtin else text)
    return messages

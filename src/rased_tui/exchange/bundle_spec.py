"""What an export bundle holds: its files, and for each file its columns, in order.

One list serves both ways, so that what the export writes is exactly what the import reads:
each column has its French header, the field it carries (a column of the database, or a value
derived for the reader), how its cells are written (exchange/spreadsheet.py), and two marks:
- `derived`: computed for the person reading the spreadsheet (a status, a school's name, an
  age...); the import ignores it, since the database derives it again;
- `identity`: an identifying field (a pupil's name, birth date, a teacher's name), left empty
  in a pseudonymised export.
"""

from __future__ import annotations

from dataclasses import dataclass

from rased_tui.domain.enums import (
    AidEndReason,
    AidKind,
    CaseStatus,
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
from rased_tui.exchange.spreadsheet import (
    NAME,
    Day,
    Decimal,
    Identifier,
    IdentifierList,
    Integer,
    Kind,
    Label,
    LabelList,
    SchoolYear,
    Text,
    Timestamp,
    YesNo,
)

BUNDLE_FORMAT = 1  # the layout of the files below; bump it when a column changes meaning
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    kind: Kind
    derived: bool = False
    identity: bool = False


@dataclass(frozen=True)
class BundleFile:
    name: str
    table: str  # the database table its rows go to
    columns: tuple[Column, ...]

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    @property
    def stored(self) -> tuple[Column, ...]:
        """The columns the import reads."""
        return tuple(column for column in self.columns if not column.derived)


def derived(header: str, field: str, kind: Kind = Text()) -> Column:
    return Column(header, field, kind, derived=True)


ID = Identifier()
STAMPS = (Column("Créé le (UTC)", "created_at", Timestamp()), Column("Modifié le (UTC)", "updated_at", Timestamp()))

SCHOOLS = BundleFile("ecoles.csv", "schools", (
    Column("Identifiant", "id", ID),
    Column("UAI", "uai", Text(8)),
    Column("Nom", "name", NAME),
    Column("Commune", "commune", NAME),
    Column("Type", "kind", Label((SchoolKind,))),
    Column("Éducation prioritaire", "priority_education", Label((PriorityEducation,))),
    Column("Active", "active", YesNo()),
    *STAMPS,
))

MEMBERS = BundleFile("membres.csv", "members", (
    Column("Identifiant", "id", ID),
    Column("Nom", "last_name", NAME),
    Column("Prénom", "first_name", NAME),
    Column("Fonction", "role", Label((Role,))),
    Column("Antenne", "antenna", NAME),
    Column("En poste depuis le", "active_from", Day()),
    Column("En poste jusqu'au", "active_to", Day()),
    Column("Capacité (élèves)", "capacity", Integer()),
    *STAMPS,
))

PERIODS = BundleFile("periodes.csv", "periods", (
    Column("Identifiant", "id", ID),
    Column("Année scolaire", "school_year", SchoolYear()),
    Column("Période", "number", Integer()),
    Column("Début", "start_date", Day()),
    Column("Fin", "end_date", Day()),
    Column("Zone", "zone", Label((Zone,))),
    Column("Source", "source", Label((PeriodSource,))),
))

MEETINGS = BundleFile("reunions.csv", "meetings", (
    Column("Identifiant", "id", ID),
    Column("Année scolaire", "school_year", SchoolYear()),
    Column("Période", "period_number", Integer()),
    Column("Date", "date", Day()),
    Column("Type", "kind", Label((MeetingKind,))),
    Column("Délai des demandes (jours)", "request_deadline_days", Integer()),
    Column("Notes", "notes", Text(), identity=True),
))

PUPILS = BundleFile("eleves.csv", "pupils", (
    Column("Identifiant", "id", ID),
    Column("Pseudonyme", "pseudonym", Text(40)),
    Column("Nom", "last_name", NAME, identity=True),
    Column("Prénom", "first_name", NAME, identity=True),
    Column("Date de naissance", "birth_date", Day(), identity=True),
    *STAMPS,
))

CASES = BundleFile("dossiers.csv", "cases", (
    Column("Identifiant", "id", ID),
    Column("Numéro", "number", Text(40)),
    Column("Année scolaire", "school_year", SchoolYear()),
    Column("N° d'ordre", "sequence", Integer()),
    Column("Objet de la demande", "subject_kind", Label((SubjectKind,))),
    Column("Élève (identifiant)", "pupil_id", ID),
    derived("Pseudonyme de l'élève", "pseudonym"),
    Column("Nom de l'élève", "pupil_last_name", NAME, derived=True, identity=True),
    Column("Prénom de l'élève", "pupil_first_name", NAME, derived=True, identity=True),
    Column("Date de naissance", "birth_date", Day(), derived=True, identity=True),
    derived("Âge à la demande (ans)", "age", Integer()),
    Column("Niveau(x)", "levels", LabelList(Label((ClassLevel,), by_code=True))),
    derived("Cycle", "cycles"),
    # Texts in the models (a class or team may be described at length), not names of 100 at most.
    Column("Enseignant·e", "teacher_name", Text(), identity=True),
    Column("Équipe ou classe", "team_reference", Text()),
    Column("Dispositif", "dispositif", Label((Dispositif,))),
    Column("Situation de handicap", "handicap", YesNo()),
    Column("AESH", "aesh", YesNo()),
    Column("École (identifiant)", "school_id", ID),
    derived("UAI", "school_uai"),
    derived("École", "school_name"),
    Column("Demandeur", "requester", Label((Requester,))),
    Column("Précision sur le demandeur", "requester_detail", Text()),
    Column("Envoyée le", "date_sent", Day()),
    Column("Reçue le", "date_received", Day()),
    Column("Urgente", "urgent", YesNo()),
    Column("Description", "description", Text()),
    Column("Motifs (le premier est le principal)", "motifs", LabelList(Label((Motif,)))),
    Column("Autre motif", "other_motif", Text()),
    Column("Parents informés le", "parents_informed_on", Day()),
    derived("Actions déjà menées", "prior_action_labels", LabelList(Label((PriorAction,)))),
    derived("Statut", "status", Label((CaseStatus,))),
    derived("Première analyse le", "analysed_on", Day()),
    derived("1re intention le", "first_response_on", Day()),
    derived("2de intention le", "second_response_on", Day()),
    derived("Bilan le", "bilan_on", Day()),
    derived("Clôture le", "closed_on", Day()),
    derived("Aides en cours", "current_aids"),
    *STAMPS,
))

PRIOR_ACTIONS = BundleFile("actions_prealables.csv", "case_prior_actions", (
    Column("Dossier (identifiant)", "case_id", ID),
    derived("Numéro", "number"),
    Column("Action", "action", Label((PriorAction,))),
    Column("Précision", "detail", Text()),
))

AIDS = BundleFile("prises_en_charge.csv", "aids", (
    Column("Identifiant", "id", ID),
    Column("Dossier (identifiant)", "case_id", ID),
    derived("Numéro", "number"),
    Column("Type (E / G / psy)", "kind", Label((AidKind,), by_code=True)),
    Column("Membre (identifiant)", "member_id", ID),
    derived("Membre", "member_name"),
    Column("Modalité", "modality", Label((Modality,))),
    Column("Séances par semaine", "sessions_per_week", Decimal()),
    Column("Objectifs", "objectives", Text()),
    Column("Début", "start_date", Day()),
    Column("Durée prévue (semaines)", "expected_weeks", Integer()),
    Column("Fin", "end_date", Day()),
    Column("Motif de fin", "end_reason", Label((AidEndReason,))),
    Column("Note de fin", "end_note", Text()),
    Column("Accord de la famille", "consent_status", Label((ConsentStatus,))),
    Column("Forme de l'accord", "consent_form", Label((ConsentForm,))),
    Column("Accord le", "consent_date", Day()),
    Column("Accord donné par", "consent_by", Text(), identity=True),
    Column("Accord retiré le", "consent_withdrawn_on", Day()),
    *STAMPS,
))

EVALUATIONS = BundleFile("evaluations.csv", "aid_evaluations", (
    Column("Identifiant", "id", ID),
    Column("Aide (identifiant)", "aid_id", ID),
    derived("Numéro", "number"),
    Column("Date", "date", Day()),
    Column("Moment", "phase", Label((EvaluationPhase,))),
    Column("Observations", "observations", Text()),
    Column("Note sur 10", "score", Integer()),
    *STAMPS,
))

ENTRIES = BundleFile("chronologie.csv", "timeline_entries", (
    Column("Identifiant", "id", ID),
    Column("Dossier (identifiant)", "case_id", ID),
    derived("Numéro", "number"),
    Column("Date", "date", Day()),
    Column("Étape", "kind", Label((EntryKind,))),
    Column("Réponse ou issue", "sub_kind", Label((FirstResponse, SecondResponse, ClosureOutcome))),
    Column("Texte", "text", Text()),
    Column("Interlocuteur", "interlocutor", Label((Interlocutor,))),
    Column("Partenaire", "partner", Label((Partner,))),
    Column("Suite donnée", "follow_up", Text()),
    Column("Aides du RASED demandées", "aids_called", LabelList(Label((AidKind,), by_code=True))),
    Column("Reporté sur l'année", "to_school_year", SchoolYear()),
    Column("Confidentielle", "confidential", YesNo()),
    Column("Auteur·rice (identifiant)", "author_member_id", ID),
    derived("Auteur·rice", "author_name"),
    Column("Membres (identifiants)", "member_ids", IdentifierList()),
    derived("Membres", "member_names"),
    Column("Réunion (identifiant)", "meeting_id", ID),
    Column("Aide (identifiant)", "aid_id", ID),
    Column("Action collective (identifiant)", "action_id", ID),
    Column("Créé le (UTC)", "created_at", Timestamp()),
    Column("Modifié le (UTC)", "updated_at", Timestamp()),
))

# Parents before children: the order the import reads them in.
FILES = (SCHOOLS, MEMBERS, PERIODS, MEETINGS, PUPILS, CASES, PRIOR_ACTIONS, AIDS, EVALUATIONS, ENTRIES)
FILES_BY_NAME = {bundle_file.name: bundle_file for bundle_file in FILES}

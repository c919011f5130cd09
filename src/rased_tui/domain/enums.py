"""Enumerations of the domain, each value with the French label a person reads.

Values are the short codes stored in the database (and checked there by schema.sql);
`.label` is what the interface and the spreadsheet exports show.
"""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members are declared as `CODE = "code", "Libellé"`."""

    label: str

    def __new__(cls, value: str, label: str) -> "LabelledEnum":
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def from_label(cls, label: str) -> "LabelledEnum":
        """The member whose French label is `label` (exact match)."""
        for member in cls:
            if member.label == label:
                return member
        raise ValueError(label)


class Role(LabelledEnum):
    MAITRE_E = "maitre_e", "Maître E (aide à dominante pédagogique)"
    MAITRE_G = "maitre_g", "Maître G (aide à dominante rééducative)"
    PSYCHOLOGUE = "psychologue", "Psychologue de l'Éducation nationale"
    IEN = "ien", "IEN"
    CPC = "cpc", "Conseiller·ère pédagogique (CPC)"
    MAITRE_FORMATEUR = "maitre_formateur", "Maître-formateur·rice"
    MAT = "mat", "MAT"
    ERUN = "erun", "ERUN"
    REFERENT_HANDICAP = "referent_handicap", "Enseignant·e référent·e handicap"
    ENSEIGNANT_UPE2A = "enseignant_upe2a", "Enseignant·e UPE2A"
    COORDO_PIAL = "coordo_pial", "Coordonnateur·rice PIAL"
    COORDO_ULIS = "coordo_ulis", "Coordonnateur·rice ULIS"
    COORDO_REP_PLUS = "coordo_rep_plus", "Coordonnateur·rice REP+"
    DIRECTEUR_REFERENT = "directeur_referent", "Directeur·rice référent·e"
    EQUIPE_PHARE = "equipe_phare", "Équipe pHARe"
    INFIRMIER = "infirmier", "Infirmier·ère scolaire"
    ASSISTANT_SOCIAL = "assistant_social", "Assistant·e social·e"
    AUTRE = "autre", "Autre"

    @property
    def is_rased(self) -> bool:
        return self in (Role.MAITRE_E, Role.MAITRE_G, Role.PSYCHOLOGUE)


class SchoolKind(LabelledEnum):
    MATERNELLE = "maternelle", "Maternelle"
    ELEMENTAIRE = "elementaire", "Élémentaire"
    PRIMAIRE = "primaire", "Primaire"


class PriorityEducation(LabelledEnum):
    AUCUNE = "aucune", "Hors éducation prioritaire"
    REP = "rep", "REP"
    REP_PLUS = "rep_plus", "REP+"


class SubjectKind(LabelledEnum):
    """Whom a request is about: cas n°1 (a pupil) or cas n°2 (a teacher, a team, a class)."""

    ELEVE = "eleve", "Élève"
    ENSEIGNANT = "enseignant", "Enseignant·e"
    EQUIPE = "equipe", "Équipe d'école"
    CLASSE = "classe", "Classe"


class Requester(LabelledEnum):
    ENSEIGNANT = "enseignant", "Enseignant·e"
    CONSEIL_CYCLE = "conseil_cycle", "Conseil des maîtres de cycle"
    CONSEIL_ECOLE = "conseil_ecole", "Conseil d'école"
    DIRECTEUR = "directeur", "Directeur·rice"
    FAMILLE = "famille", "Famille"
    AUTRE = "autre", "Autre"


class ClassLevel(LabelledEnum):
    TPS = "TPS", "TPS"
    PS = "PS", "PS"
    MS = "MS", "MS"
    GS = "GS", "GS"
    CP = "CP", "CP"
    CE1 = "CE1", "CE1"
    CE2 = "CE2", "CE2"
    CM1 = "CM1", "CM1"
    CM2 = "CM2", "CM2"

    @property
    def cycle(self) -> int:
        """Cycle 1 (TPS to GS), 2 (CP to CE2) or 3 (CM1, CM2)."""
        order = list(ClassLevel)
        index = order.index(self)
        return 1 if index <= 3 else 2 if index <= 6 else 3


class Dispositif(LabelledEnum):
    """ULIS and UPE2A are dispositifs a pupil belongs to, not class levels."""

    ULIS = "ulis", "ULIS"
    UPE2A = "upe2a", "UPE2A"


class Motif(LabelledEnum):
    COMPORTEMENT_SEVERE = "comportement_severe", "Troubles sévères du comportement"
    SITUATION_SENSIBLE = "situation_sensible", "Situation sensible (harcèlement…)"
    SITUATION_CRISE = "situation_crise", "Situation de crise (événement grave)"
    CONFLIT_PARENTS = "conflit_parents", "Conflit avec des parents"
    BEP = "bep", "Besoin éducatif particulier (EIP…)"
    AIDE_PAP = "aide_pap", "Aide à la décision d'un PAP"
    ORIENTATION_SEGPA_MAINTIEN = "orientation_segpa_maintien", "Orientation SEGPA ou maintien exceptionnel"
    LECTURE = "lecture", "Difficultés en lecture"
    ECRITURE = "ecriture", "Difficultés en écriture"
    MATHEMATIQUES = "mathematiques", "Difficultés en mathématiques"
    LANGAGE_ORAL = "langage_oral", "Langage oral"
    ATTENTION = "attention", "Attention"
    COMPORTEMENT = "comportement", "Comportement"
    AUTRE = "autre", "Autre"


class PriorAction(LabelledEnum):
    """What the school tried within the droit commun before asking."""

    DIFFERENCIATION = "differenciation", "Différenciation en classe"
    APC = "apc", "APC"
    PPRE = "ppre", "PPRE"
    CONSEIL_MAITRES = "conseil_maitres", "Conseil des maîtres"
    EQUIPE_EDUCATIVE = "equipe_educative", "Équipe éducative"
    RENCONTRE_FAMILLE = "rencontre_famille", "Rencontre avec la famille"
    PAP_PPS = "pap_pps", "PAP / PPS en cours"
    AUTRE = "autre", "Autre"


class EntryKind(LabelledEnum):
    ANALYSE = "analyse", "Première analyse"
    PREMIERE_INTENTION = "premiere_intention", "Réponse de 1re intention"
    SECONDE_INTENTION = "seconde_intention", "Réponse de 2de intention"
    BILAN = "bilan", "Bilan"
    CLOTURE = "cloture", "Clôture"
    REOUVERTURE = "reouverture", "Réouverture"
    REPORT = "report", "Report sur l'année suivante"
    NOTE = "note", "Note de suivi"


class FirstResponse(LabelledEnum):
    CONTACT = "contact", "Prise de contact avec le demandeur"
    OBSERVATION_CLASSE = "observation_classe", "Observation en classe"
    ENTRETIEN_EXPLICITATION = "entretien_explicitation", "Entretien d'explicitation"


class Interlocutor(LabelledEnum):
    """With whom an entretien d'explicitation is held."""

    ENSEIGNANT = "enseignant", "avec l'enseignant·e"
    EQUIPE = "equipe", "avec l'équipe"
    FAMILLE = "famille", "avec la famille"


class SecondResponse(LabelledEnum):
    AIDE_SPECIALISEE = "aide_specialisee", "Aide spécialisée du RASED"
    ACCOMPAGNEMENT_PROFESSIONNEL = "accompagnement_professionnel", "Accompagnement professionnel"
    MUTUALISATION = "mutualisation", "Mutualisation d'expérience avec un collègue"
    OBSERVATION_DISPOSITIF = "observation_dispositif", "Observation de dispositifs ou de structures"
    FORMATION_CIBLEE = "formation_ciblee", "Action de formation ciblée"
    ORIENTATION_PARTENAIRE = "orientation_partenaire", "Orientation vers un partenaire"


class ClosureOutcome(LabelledEnum):
    OBJECTIFS_ATTEINTS = "objectifs_atteints", "Objectifs atteints"
    RELAIS_ENSEIGNANT = "relais_enseignant", "Relais par l'enseignant·e"
    ORIENTATION_PARTENAIRE = "orientation_partenaire", "Orientation vers un partenaire"
    PAP_PPS = "pap_pps", "PAP / PPS engagé"
    DEPART_ECOLE = "depart_ecole", "Départ de l'école"
    REFUS_FAMILLE = "refus_famille", "Refus de la famille"
    SANS_SUITE = "sans_suite", "Classée sans suite"
    AUTRE = "autre", "Autre"


class Partner(LabelledEnum):
    CELLULE_EBEP = "cellule_ebep", "Cellule EBEP"
    EQUIPE_TSA = "equipe_tsa", "Équipe TSA"
    ITEP = "itep", "ITEP"
    IME = "ime", "IME"
    IEM = "iem", "IEM"
    IES = "ies", "IES"
    SESSAD = "sessad", "SESSAD"
    CMPP = "cmpp", "CMPP"
    CMP = "cmp", "CMP"
    CAMSP = "camsp", "CAMSP"
    CMS = "cms", "CMS"
    AUTRE = "autre", "Autre partenaire"


class AidKind(LabelledEnum):
    E = "E", "Aide à dominante pédagogique (E)"
    G = "G", "Aide à dominante rééducative (G)"
    PSY = "psy", "Aide psychologique"

    @property
    def role(self) -> Role:
        """The role of the member who gives this kind of aid."""
        return {AidKind.E: Role.MAITRE_E, AidKind.G: Role.MAITRE_G, AidKind.PSY: Role.PSYCHOLOGUE}[self]


class Modality(LabelledEnum):
    EN_CLASSE = "en_classe", "En classe"
    CO_INTERVENTION = "co_intervention", "Co-intervention"
    PETIT_GROUPE = "petit_groupe", "Petit groupe"
    INDIVIDUEL = "individuel", "Individuel"


class AidEndReason(LabelledEnum):
    OBJECTIFS_ATTEINTS = "objectifs_atteints", "Objectifs atteints"
    RELAIS_ENSEIGNANT = "relais_enseignant", "Relais par l'enseignant·e"
    ORIENTATION = "orientation", "Orientation"
    RETRAIT_CONSENTEMENT = "retrait_consentement", "Retrait du consentement"
    DEPART_ECOLE = "depart_ecole", "Départ de l'école"
    FIN_ANNEE = "fin_annee", "Fin d'année scolaire"
    PASSATION = "passation", "Passation à un·e collègue"
    AUTRE = "autre", "Autre"


class ConsentStatus(LabelledEnum):
    DONNE = "donne", "Donné"
    REFUSE = "refuse", "Refusé"
    EN_ATTENTE = "en_attente", "En attente"


class ConsentForm(LabelledEnum):
    ORAL = "oral", "Oral"
    ECRIT = "ecrit", "Écrit"


class EvaluationPhase(LabelledEnum):
    DEBUT = "debut", "Début"
    INTERMEDIAIRE = "intermediaire", "Intermédiaire"
    FIN = "fin", "Fin"


class MeetingKind(LabelledEnum):
    ORDINAIRE = "ordinaire", "Réunion de période"
    URGENTE = "urgente", "Traitement urgent"


class PeriodSource(LabelledEnum):
    OFFICIEL = "officiel", "Calendrier officiel"
    MANUEL = "manuel", "Saisie manuelle"


class Zone(LabelledEnum):
    A = "A", "Zone A"
    B = "B", "Zone B"
    C = "C", "Zone C"


class CaseStatus(LabelledEnum):
    """Where a case stands, derived from its timeline (see domain/status.py), never stored."""

    RECUE = "recue", "Reçue"
    EN_ANALYSE = "en_analyse", "En analyse"
    PREMIERE_INTENTION = "premiere_intention", "Réponses de 1re intention"
    SECONDE_INTENTION = "seconde_intention", "Réponses de 2de intention"
    BILAN = "bilan", "Bilan"
    CLOTUREE = "cloturee", "Clôturée"
    CLASSEE_SANS_SUITE = "classee_sans_suite", "Classée sans suite"
    ROUVERTE = "rouverte", "Rouverte"

    @property
    def is_open(self) -> bool:
        return self not in (CaseStatus.CLOTUREE, CaseStatus.CLASSEE_SANS_SUITE)

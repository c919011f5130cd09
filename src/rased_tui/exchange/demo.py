"""Demo data: a fictitious but realistic circonscription, the same for the same seed.

`generate_demo(store, cases, seed)` fills a database through the Store's public methods, in
one bulk load (one transaction, the search index rebuilt once, one audit summary row):

- the settings (circonscription « Rouen Nord », antenna, zone B), the five périodes of each
  school year (official for zone B where domain/holidays.py has the calendar, else
  approximate) and one ordinary meeting of the pôle ressource per période, on the date
  domain/meetings.py proposes;
- 25 schools (maternelles, élémentaires, primaires; some REP and REP+) with valid UAI codes;
- a pôle ressource of 20 members: one RASED antenna (2 maîtres E, 2 maîtres G of whom one left
  in the middle of last year, 1 psychologue) and the circonscription's staff;
- `cases` requests over the current school year and the three before it, spread over their
  school days so far (a young current year holds fewer): 85 % about a pupil, the rest about a
  teacher, a team or a class. Each case has the timeline it has reached by today: received, analysed, first- and second-intention
  responses, specialised aids with their evaluations, bilans, closures (some « sans suite »),
  reopenings, carry-overs into the next year and the psychologue's confidential notes.

"Today" is `calendar.today()` (frozen by RASED_TUI_TODAY): no date written is after it,
except the périodes and the meetings planned for the rest of the current year. Everything
comes from one `random.Random(seed)`: the same seed on the same day gives the same rows,
identifiers and timeline timestamps included; only the audit log and the created_at /
updated_at columns that the store stamps itself differ. No Textual here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from itertools import accumulate
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel

from rased_tui.domain.calendar import (
    PeriodSpan,
    approximate_periods,
    school_year_start,
    today,
)
from rased_tui.domain.holidays import official_periods
from rased_tui.domain.meetings import DEFAULT_DEADLINE_DAYS, proposed_meeting_date
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
from rased_tui.domain.models import (
    Aid,
    AidEvaluation,
    Case,
    Meeting,
    Member,
    Period,
    PriorActionItem,
    Pupil,
    School,
    TimelineEntry,
    uai_key_letter,
)
from rased_tui.store import Store

Record = TypeVar("Record", bound=BaseModel)

# -- the shape of the data ---------------------------------------------------------------------

PAST_YEARS = 3                       # school years before the current one
YEARLY_GROWTH = 0.08                 # requests per school day grow a little each year
PROGRESS_EVERY = 250                 # cases between two calls of `progress`
PUPIL_CASES = 0.85
URGENT = 0.08
URGENT_LAST_DAYS = 0.5              # the last few days: some urgent requests still wait
RETURNING_PUPIL = 0.07               # a pupil already helped in an earlier year
TWIN = 0.012
HOMONYM = 0.015
HELD_BACK = 0.04
SANS_SUITE = 0.06
REOPEN = 0.06
CARRY_OVER = 0.4                     # at the summer, a case still open goes on next year...
CARRY_OVER_AID = 0.55                # ...more often when an aid is under way
CARRY_OVER_AGAIN = 0.15
ANALYSIS_AT_MEETING = 0.4
LONGEST_WAITS = (15, 15, 35, 70)     # days from the first responses to an aid: places are scarce

CIRCONSCRIPTION = "Rouen Nord"
ANTENNA = "RASED de Maromme"
ZONE = Zone.B
DEPARTMENT = "076"

# -- names -------------------------------------------------------------------------------------

GIRLS = (
    "Zoé", "Noémie", "Bérénice", "Léa", "Chloé", "Inès", "Manon", "Camille", "Jade", "Louise",
    "Emma", "Alice", "Léna", "Anaïs", "Maëlys", "Clémence", "Héloïse", "Agathe", "Océane",
    "Éloïse", "Romane", "Lina", "Aïcha", "Fatoumata", "Yasmine", "Salomé", "Mathilde",
    "Capucine", "Marie-Lou", "Lou-Ann", "Maëlle", "Nour", "Coline", "Élise", "Margaux", "Zélie",
    "Ambre", "Apolline", "Rose", "Mia", "Louna", "Joséphine", "Gabrielle", "Daphné", "Kenza",
    "Anne-Charlotte", "Célestine", "Mélodie", "Thaïs", "Énora",
)
BOYS = (
    "Maël", "Jean-Baptiste", "Noé", "Léo", "Gabriel", "Raphaël", "Louis", "Arthur", "Jules",
    "Adam", "Lucas", "Hugo", "Nathan", "Timéo", "Éthan", "Théo", "Mathéo", "Noah", "Sacha",
    "Aymeric", "Bastien", "Côme", "Évan", "Gaël", "Ilyès", "Joël", "Kylian", "Loïc", "Mehdi",
    "Moussa", "Naël", "Oscar", "Paul-Henri", "Rémi", "Samuel", "Tristan", "Valentin", "Wassim",
    "Yanis", "Anthonin", "Élie", "Clément", "François", "Grégoire", "Jean-Noël", "Anaël",
    "Mamadou", "Lénaïc", "Ewen", "Titouan",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Lefebvre", "Mercier", "Dupont",
    "Lambert", "Bonnet", "François", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc",
    "Guérin", "Muller", "Henry", "Roussel", "Perrin", "Morin", "Gauthier", "Dumont", "Lopez",
    "Fontaine", "Chevalier", "Robin", "Masson", "Gérard", "Nguyen", "Boyer", "Lemaire", "Duval",
    "Joly", "Noël", "Meunier", "Marchand", "Dufour", "Blanchard", "Barbier", "Brunet", "Leroux",
    "Colin", "Renard", "Caron", "Aubert", "Leclerc", "Lemoine", "Picard", "Lacroix", "Dupuis",
    "Hubert", "Rivière", "Le Gall", "Ménard", "Fleury", "Deschamps", "Carpentier", "Prévost",
    "Poirier", "Huet", "Carré", "Rémy", "Hébert", "Lévêque", "Bénard", "Hervé", "Crépin",
    "Lemaître", "Lecœur", "Dupré", "Lesueur", "Delacroix", "Quéméner", "Le Bihan", "N'Diaye",
    "D'Almeida", "N'Guessan", "Diallo", "Traoré", "Benali", "Haddad", "Yılmaz", "Da Silva",
    "Saint-Martin", "Lebrun-Duval", "Moreau-Lefèvre", "Boulanger", "Tessier", "Vasseur",
    "Leblond", "Letellier", "Duhamel", "Lecanu", "Anquetil", "Quesnel", "Lemonnier", "Thélot",
)
WOMEN = ("Sophie", "Nathalie", "Isabelle", "Céline", "Stéphanie", "Aurélie", "Émilie", "Julie",
         "Sandrine", "Virginie", "Hélène", "Marion", "Laure", "Agnès")
MEN = ("Frédéric", "Stéphane", "Nicolas", "Sébastien", "Jérôme", "Cédric", "Grégory", "Benoît",
       "Thierry", "François")

# -- the circonscription -----------------------------------------------------------------------

# name, commune, kind, priority education, how many requests it sends compared with others
SCHOOLS = (
    ("École maternelle Jules-Ferry", "Maromme", SchoolKind.MATERNELLE, PriorityEducation.REP, 1.0),
    ("École élémentaire Jean-Jaurès", "Maromme", SchoolKind.ELEMENTAIRE, PriorityEducation.REP, 1.6),
    ("École primaire Les Tilleuls", "Déville-lès-Rouen", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 1.0),
    ("École maternelle Louise-Michel", "Canteleu", SchoolKind.MATERNELLE, PriorityEducation.REP_PLUS, 1.4),
    ("École élémentaire Pierre-et-Marie-Curie", "Canteleu", SchoolKind.ELEMENTAIRE, PriorityEducation.REP_PLUS, 2.2),
    ("École primaire Jacques-Prévert", "Notre-Dame-de-Bondeville", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 1.1),
    ("École élémentaire Victor-Hugo", "Mont-Saint-Aignan", SchoolKind.ELEMENTAIRE, PriorityEducation.AUCUNE, 0.9),
    ("École maternelle Le Petit Prince", "Mont-Saint-Aignan", SchoolKind.MATERNELLE, PriorityEducation.AUCUNE, 0.5),
    ("École primaire Simone-Veil", "Bois-Guillaume", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 0.8),
    ("École élémentaire Guy-de-Maupassant", "Bihorel", SchoolKind.ELEMENTAIRE, PriorityEducation.AUCUNE, 0.9),
    ("École maternelle Les Coquelicots", "Bihorel", SchoolKind.MATERNELLE, PriorityEducation.AUCUNE, 0.5),
    ("École élémentaire Gustave-Flaubert", "Déville-lès-Rouen", SchoolKind.ELEMENTAIRE, PriorityEducation.REP, 1.4),
    ("École primaire Pierre-Corneille", "Malaunay", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 1.0),
    ("École maternelle Marie-Curie", "Déville-lès-Rouen", SchoolKind.MATERNELLE, PriorityEducation.REP, 0.8),
    ("École élémentaire Anne-Frank", "Le Houlme", SchoolKind.ELEMENTAIRE, PriorityEducation.AUCUNE, 0.8),
    ("École primaire Jean-de-La-Fontaine", "Houppeville", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 0.7),
    ("École élémentaire Paul-Éluard", "Canteleu", SchoolKind.ELEMENTAIRE, PriorityEducation.REP_PLUS, 1.8),
    ("École maternelle Françoise-Dolto", "Maromme", SchoolKind.MATERNELLE, PriorityEducation.AUCUNE, 0.6),
    ("École primaire Jules-Verne", "Isneauville", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 0.6),
    ("École élémentaire Albert-Camus", "Notre-Dame-de-Bondeville", SchoolKind.ELEMENTAIRE, PriorityEducation.AUCUNE, 1.0),
    ("École maternelle Claude-Monet", "Bois-Guillaume", SchoolKind.MATERNELLE, PriorityEducation.AUCUNE, 0.4),
    ("École élémentaire Arthur-Rimbaud", "Malaunay", SchoolKind.ELEMENTAIRE, PriorityEducation.AUCUNE, 0.9),
    ("École primaire Antoine-de-Saint-Exupéry", "Montville", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 0.8),
    ("École maternelle La Farandole", "Le Houlme", SchoolKind.MATERNELLE, PriorityEducation.AUCUNE, 0.5),
    ("École primaire Condorcet", "Eslettes", SchoolKind.PRIMAIRE, PriorityEducation.AUCUNE, 0.6),
)

# last name, first name, role, years in post before the current one (None: see _special_members)
POLE = (
    ("Duchêne", "Claire", Role.MAITRE_E, 9),
    ("Marchand-Lebon", "Julien", Role.MAITRE_E, 4),
    ("Le Goff", "Anne-Sophie", Role.PSYCHOLOGUE, 7),
    ("Lemaître", "Bernard", Role.IEN, 5),
    ("Féret", "Catherine", Role.CPC, 8),
    ("Benhamou", "Karim", Role.CPC, 2),
    ("Quesnel", "Agnès", Role.MAITRE_FORMATEUR, 6),
    ("Lhermitte", "Pascal", Role.MAT, 5),
    ("Nguyen", "Thierry", Role.ERUN, 4),
    ("D'Anjou", "Marie-Hélène", Role.REFERENT_HANDICAP, 10),
    ("Okafor", "Grâce", Role.ENSEIGNANT_UPE2A, 3),
    ("Leprévost", "Sandrine", Role.COORDO_PIAL, 4),
    ("Cavelier", "Mathilde", Role.COORDO_ULIS, 6),
    ("Saïdi", "Nadia", Role.COORDO_REP_PLUS, 3),
    ("Vautier", "Éric", Role.DIRECTEUR_REFERENT, 8),
    ("Hauchecorne", "Lucie", Role.EQUIPE_PHARE, 3),
    ("Morisse", "Béatrice", Role.INFIRMIER, 9),
    ("Lecerf", "Amandine", Role.ASSISTANT_SOCIAL, 5),
)
LEAVING_G = ("Quéré", "Hélène")      # the maître G who left at the end of période 3 last year
ARRIVING_G = ("Bouvier", "Mathieu")  # who took over her pupils after the winter holidays
CAPACITIES = {Role.MAITRE_E: 24, Role.MAITRE_G: 20, Role.PSYCHOLOGUE: 40}

# -- requests ----------------------------------------------------------------------------------

# age reached during the calendar year of the rentrée, by level (CP: 6)
LEVEL_AGE = {ClassLevel.TPS: 2, ClassLevel.PS: 3, ClassLevel.MS: 4, ClassLevel.GS: 5, ClassLevel.CP: 6,
             ClassLevel.CE1: 7, ClassLevel.CE2: 8, ClassLevel.CM1: 9, ClassLevel.CM2: 10}
AGE_LEVEL = {age: level for level, age in LEVEL_AGE.items()}
LEVEL_WEIGHTS = {ClassLevel.TPS: 0.5, ClassLevel.PS: 2, ClassLevel.MS: 5, ClassLevel.GS: 11, ClassLevel.CP: 20,
                 ClassLevel.CE1: 19, ClassLevel.CE2: 15, ClassLevel.CM1: 14, ClassLevel.CM2: 12}
NURSERY = (ClassLevel.TPS, ClassLevel.PS, ClassLevel.MS, ClassLevel.GS)
ELEMENTARY = (ClassLevel.CP, ClassLevel.CE1, ClassLevel.CE2, ClassLevel.CM1, ClassLevel.CM2)
LEVELS_OF_KIND = {SchoolKind.MATERNELLE: NURSERY, SchoolKind.ELEMENTAIRE: ELEMENTARY,
                  SchoolKind.PRIMAIRE: NURSERY + ELEMENTARY}

PUPIL_MOTIFS = {
    Motif.LECTURE: 24, Motif.MATHEMATIQUES: 12, Motif.ECRITURE: 6, Motif.LANGAGE_ORAL: 9,
    Motif.ATTENTION: 10, Motif.COMPORTEMENT: 12, Motif.COMPORTEMENT_SEVERE: 5,
    Motif.SITUATION_SENSIBLE: 3, Motif.SITUATION_CRISE: 2, Motif.CONFLIT_PARENTS: 2, Motif.BEP: 4,
    Motif.AIDE_PAP: 4, Motif.ORIENTATION_SEGPA_MAINTIEN: 3, Motif.AUTRE: 2,
}
TEAM_MOTIFS = {
    Motif.COMPORTEMENT: 30, Motif.COMPORTEMENT_SEVERE: 15, Motif.SITUATION_SENSIBLE: 15,
    Motif.SITUATION_CRISE: 8, Motif.CONFLIT_PARENTS: 10, Motif.LECTURE: 10, Motif.BEP: 7, Motif.AUTRE: 5,
}
LEARNING = (Motif.LECTURE, Motif.ECRITURE, Motif.MATHEMATIQUES, Motif.LANGAGE_ORAL, Motif.ATTENTION)
OTHER_MOTIFS = ("Absentéisme important depuis la rentrée", "Fatigue et somnolence en classe",
                "Refus scolaire anxieux", "Problèmes de santé répétés")

DESCRIPTIONS = {
    Motif.LECTURE: ("Ne parvient pas à décoder les syllabes simples malgré les séances d'APC.",
                    "Lecture très lente, compréhension fragile même sur des textes courts.",
                    "Confond les sons proches (f/v, p/b) et devine les mots plutôt que de les lire."),
    Motif.ECRITURE: ("Geste graphique difficile, copie très lente et peu lisible.",
                     "Production d'écrit quasi impossible sans la dictée à l'adulte."),
    Motif.MATHEMATIQUES: ("Ne dénombre pas une collection au-delà de dix objets.",
                          "La valeur des chiffres selon leur position n'est pas comprise.",
                          "Résolution de problèmes impossible sans manipulation."),
    Motif.LANGAGE_ORAL: ("Parle peu, vocabulaire très restreint, phrases de deux ou trois mots.",
                         "Articulation difficile, comprend mal les consignes orales."),
    Motif.ATTENTION: ("Se disperse très vite, ne termine aucune tâche sans l'adulte.",
                      "Attention très fluctuante, oublie la consigne en cours de tâche."),
    Motif.COMPORTEMENT: ("S'oppose aux consignes, conflits fréquents en récréation.",
                         "Repli sur soi, ne participe pas aux activités collectives."),
    Motif.COMPORTEMENT_SEVERE: ("Crises violentes répétées en classe, mise en danger des autres élèves.",
                                "Sorties de classe sans autorisation et gestes violents envers les adultes."),
    Motif.SITUATION_SENSIBLE: ("Moqueries répétées signalées par la famille, suspicion de harcèlement.",
                               "Élève isolé du groupe, pleure souvent à l'arrivée à l'école."),
    Motif.SITUATION_CRISE: ("Décès d'un parent pendant les vacances : élève très affecté.",
                            "Accident grave dans la famille, l'élève ne parvient plus à se concentrer."),
    Motif.CONFLIT_PARENTS: ("Désaccord persistant entre la famille et l'école sur les difficultés de l'enfant.",),
    Motif.BEP: ("Suspicion de précocité : ennui en classe, refus d'écrire, questions très pointues.",
                "Élève allophone arrivé en cours d'année : besoin d'évaluer ses acquis."),
    Motif.AIDE_PAP: ("Dyslexie diagnostiquée par l'orthophoniste : un PAP est envisagé.",),
    Motif.ORIENTATION_SEGPA_MAINTIEN: ("Écarts importants avec les attendus de fin de cycle : "
                                       "la question d'un maintien se pose.",),
    Motif.AUTRE: ("Situation qui inquiète l'enseignante, sans motif précis d'apprentissage.",),
}
TEAM_DESCRIPTIONS = {
    SubjectKind.ENSEIGNANT: ("Enseignante débutante en difficulté pour gérer le groupe classe.",
                             "L'enseignant demande de l'aide pour différencier dans sa classe à double niveau.",
                             "Épuisement de l'enseignante face à plusieurs élèves très agités."),
    SubjectKind.EQUIPE: ("L'équipe souhaite une réflexion commune sur l'accueil des élèves allophones.",
                         "Tensions avec plusieurs familles : l'équipe demande un appui.",
                         "Nombreux conflits en récréation : l'équipe veut construire des règles communes."),
    SubjectKind.CLASSE: ("Classe difficile : bavardages, conflits, climat peu propice aux apprentissages.",
                         "Un groupe d'élèves perturbe la classe depuis la rentrée.",
                         "Événement grave dans la classe (accident d'un élève) : élèves choqués."),
}
PROBLEMATIQUES = {
    Motif.LECTURE: "Entrée dans l'écrit non stabilisée : le décodage n'est pas automatisé.",
    Motif.ECRITURE: "Difficultés graphomotrices qui freinent toute production écrite.",
    Motif.MATHEMATIQUES: "Construction du nombre fragile : la numération n'est pas acquise.",
    Motif.LANGAGE_ORAL: "Langage oral peu développé, qui gêne la compréhension en classe.",
    Motif.ATTENTION: "Difficultés d'attention et d'organisation dans le travail.",
    Motif.COMPORTEMENT: "Difficultés à entrer dans le métier d'élève et à accepter la règle.",
    Motif.COMPORTEMENT_SEVERE: "Troubles du comportement importants : sécurité de l'élève et du groupe.",
    Motif.SITUATION_SENSIBLE: "Situation de mal-être à l'école, relations entre élèves à travailler.",
    Motif.SITUATION_CRISE: "Élève (ou groupe) éprouvé par un événement grave : besoin d'écoute.",
    Motif.CONFLIT_PARENTS: "Relation école-famille à restaurer avant toute aide.",
    Motif.BEP: "Besoins éducatifs particuliers à évaluer pour adapter la scolarité.",
    Motif.AIDE_PAP: "Aide à la décision d'un PAP : évaluer les besoins et les aménagements.",
    Motif.ORIENTATION_SEGPA_MAINTIEN: "Aide à la décision : maintien exceptionnel ou orientation.",
    Motif.AUTRE: "Situation complexe à éclairer avec la famille et l'enseignant·e.",
}
TEAM_PROBLEMATIQUE = "Gestion de classe et climat scolaire : accompagner l'équipe dans ses pratiques."
SANS_SUITE_TEXTS = ("La demande relève du droit commun : conseils donnés à l'enseignante.",
                    "La famille a déménagé avant l'analyse de la demande.",
                    "Difficultés résorbées depuis l'envoi de la demande.")
PRIOR_ACTION_WEIGHTS = ((PriorAction.DIFFERENCIATION, 0.9), (PriorAction.APC, 0.6),
                        (PriorAction.RENCONTRE_FAMILLE, 0.6), (PriorAction.PPRE, 0.35),
                        (PriorAction.CONSEIL_MAITRES, 0.3), (PriorAction.EQUIPE_EDUCATIVE, 0.12))
PRIOR_ACTION_DETAILS = {PriorAction.APC: "APC deux fois trente minutes par semaine",
                        PriorAction.PPRE: "PPRE depuis la période 1",
                        PriorAction.RENCONTRE_FAMILLE: "Rencontre avec les parents"}
REQUESTERS = {Requester.ENSEIGNANT: 70, Requester.CONSEIL_CYCLE: 10, Requester.DIRECTEUR: 8,
              Requester.FAMILLE: 7, Requester.AUTRE: 5}
TEAM_REQUESTERS = {Requester.ENSEIGNANT: 35, Requester.CONSEIL_CYCLE: 25, Requester.CONSEIL_ECOLE: 20,
                   Requester.DIRECTEUR: 20}
REQUESTER_DETAILS = {Requester.FAMILLE: ("La mère de l'élève", "Le père de l'élève", "Les parents"),
                     Requester.AUTRE: ("Médecin scolaire", "Orthophoniste", "Service de PMI")}

# -- responses and aids ------------------------------------------------------------------------

AID_KINDS_BY_MOTIF = {
    Motif.LECTURE: {AidKind.E: 80, AidKind.G: 10, AidKind.PSY: 10},
    Motif.ECRITURE: {AidKind.E: 80, AidKind.G: 10, AidKind.PSY: 10},
    Motif.MATHEMATIQUES: {AidKind.E: 85, AidKind.G: 10, AidKind.PSY: 5},
    Motif.LANGAGE_ORAL: {AidKind.E: 50, AidKind.G: 30, AidKind.PSY: 20},
    Motif.ATTENTION: {AidKind.E: 25, AidKind.G: 50, AidKind.PSY: 25},
    Motif.COMPORTEMENT: {AidKind.E: 10, AidKind.G: 60, AidKind.PSY: 30},
}
AID_KINDS_OTHERWISE = {AidKind.G: 40, AidKind.PSY: 60}
MODALITIES = {
    AidKind.E: {Modality.PETIT_GROUPE: 50, Modality.EN_CLASSE: 15, Modality.CO_INTERVENTION: 15, Modality.INDIVIDUEL: 20},
    AidKind.G: {Modality.PETIT_GROUPE: 40, Modality.INDIVIDUEL: 50, Modality.EN_CLASSE: 10},
    AidKind.PSY: {Modality.INDIVIDUEL: 90, Modality.PETIT_GROUPE: 10},
}
SESSIONS = {AidKind.E: (1.5, 2.0, 2.0, 3.0), AidKind.G: (1.0, 1.0, 2.0), AidKind.PSY: (0.5, 1.0, 1.0)}
OBJECTIVES = {
    AidKind.E: ("Automatiser le décodage ; lire une phrase courte et la comprendre.",
                "Construire le nombre jusqu'à 100 ; résoudre des problèmes simples avec du matériel.",
                "Enrichir le lexique ; reformuler une consigne avec ses mots.",
                "Planifier une tâche simple et la mener à son terme."),
    AidKind.G: ("Restaurer la confiance en soi et le désir d'apprendre.",
                "Accepter la règle et trouver sa place dans le groupe.",
                "Mettre des mots sur ses émotions plutôt que de passer à l'acte."),
    AidKind.PSY: ("Bilan psychologique, puis suivi pour soutenir l'estime de soi.",
                  "Comprendre l'origine des difficultés avec la famille ; conseiller l'équipe.",
                  "Accompagner l'élève après l'événement ; évaluer le besoin d'un soin extérieur."),
}
EVALUATION_NOTES = {
    (AidKind.E, EvaluationPhase.DEBUT): "Évaluation initiale : connaissances fragiles, peu de stratégies.",
    (AidKind.E, EvaluationPhase.INTERMEDIAIRE): "Progrès sur les compétences visées, encore peu de transfert en classe.",
    (AidKind.E, EvaluationPhase.FIN): "Compétences visées en grande partie acquises, transfert en classe observé.",
    (AidKind.G, EvaluationPhase.DEBUT): "Se dévalorise, refuse souvent d'essayer, relation au groupe difficile.",
    (AidKind.G, EvaluationPhase.INTERMEDIAIRE): "Ose davantage, accepte mieux la frustration et l'erreur.",
    (AidKind.G, EvaluationPhase.FIN): "Plus disponible pour apprendre, mieux intégré au groupe classe.",
    (AidKind.PSY, EvaluationPhase.DEBUT): "Estime de soi très fragile, anxiété importante à l'école.",
    (AidKind.PSY, EvaluationPhase.INTERMEDIAIRE): "Estime de soi en progrès, verbalise mieux ce qu'il ressent.",
    (AidKind.PSY, EvaluationPhase.FIN): "Estime de soi nettement restaurée ; relais possible par l'enseignant·e.",
}
AID_ENDINGS = {AidEndReason.OBJECTIFS_ATTEINTS: 42, AidEndReason.RELAIS_ENSEIGNANT: 30,
               AidEndReason.ORIENTATION: 12, AidEndReason.DEPART_ECOLE: 5,
               AidEndReason.RETRAIT_CONSENTEMENT: 4, AidEndReason.AUTRE: 3}
OUTCOME_OF_AID_ENDING = {
    AidEndReason.OBJECTIFS_ATTEINTS: ClosureOutcome.OBJECTIFS_ATTEINTS,
    AidEndReason.RELAIS_ENSEIGNANT: ClosureOutcome.RELAIS_ENSEIGNANT,
    AidEndReason.ORIENTATION: ClosureOutcome.ORIENTATION_PARTENAIRE,
    AidEndReason.DEPART_ECOLE: ClosureOutcome.DEPART_ECOLE,
    AidEndReason.RETRAIT_CONSENTEMENT: ClosureOutcome.REFUS_FAMILLE,
    AidEndReason.AUTRE: ClosureOutcome.AUTRE,
}
CLOSURE_TEXTS = {
    ClosureOutcome.OBJECTIFS_ATTEINTS: "Objectifs atteints : fin de l'aide, point avec l'enseignant·e.",
    ClosureOutcome.RELAIS_ENSEIGNANT: "Relais par l'enseignant·e avec des pistes de différenciation.",
    ClosureOutcome.ORIENTATION_PARTENAIRE: "Le partenaire a pris le relais ; dossier clos au pôle.",
    ClosureOutcome.PAP_PPS: "PAP mis en place ; aménagements transmis à l'équipe.",
    ClosureOutcome.DEPART_ECOLE: "L'élève a quitté la circonscription.",
    ClosureOutcome.REFUS_FAMILLE: "La famille ne souhaite pas de suite.",
    ClosureOutcome.AUTRE: "Situation apaisée ; l'équipe reprend la main.",
}
SECOND_RESPONSES_PUPIL = {SecondResponse.AIDE_SPECIALISEE: 68, SecondResponse.ORIENTATION_PARTENAIRE: 12,
                          SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL: 10, SecondResponse.MUTUALISATION: 5,
                          SecondResponse.OBSERVATION_DISPOSITIF: 5}
SECOND_RESPONSES_TEAM = {
    SubjectKind.ENSEIGNANT: {SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL: 55, SecondResponse.FORMATION_CIBLEE: 15,
                             SecondResponse.MUTUALISATION: 15, SecondResponse.OBSERVATION_DISPOSITIF: 15},
    SubjectKind.EQUIPE: {SecondResponse.FORMATION_CIBLEE: 45, SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL: 30,
                         SecondResponse.MUTUALISATION: 25},
    SubjectKind.CLASSE: {SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL: 35, SecondResponse.AIDE_SPECIALISEE: 40,
                         SecondResponse.FORMATION_CIBLEE: 25},
}
RESPONDERS = {  # who carries a second-intention response other than an aid
    SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL: (Role.CPC, Role.MAITRE_FORMATEUR, Role.CPC, Role.ERUN),
    SecondResponse.FORMATION_CIBLEE: (Role.CPC, Role.MAITRE_FORMATEUR),
    SecondResponse.MUTUALISATION: (Role.MAITRE_FORMATEUR, Role.DIRECTEUR_REFERENT),
    SecondResponse.OBSERVATION_DISPOSITIF: (Role.COORDO_ULIS, Role.ENSEIGNANT_UPE2A, Role.COORDO_PIAL),
    SecondResponse.ORIENTATION_PARTENAIRE: (Role.PSYCHOLOGUE, Role.REFERENT_HANDICAP, Role.INFIRMIER,
                                            Role.ASSISTANT_SOCIAL),
}
RESPONSE_TEXTS = {
    SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL: "Accompagnement de l'enseignant·e en classe : trois visites.",
    SecondResponse.FORMATION_CIBLEE: "Animation pédagogique ciblée proposée à plusieurs écoles.",
    SecondResponse.MUTUALISATION: "Échange de pratiques avec une collègue expérimentée.",
    SecondResponse.OBSERVATION_DISPOSITIF: "Observation du dispositif ULIS / UPE2A d'une école voisine.",
}
PARTNERS_YOUNG = {Partner.CAMSP: 60, Partner.CMPP: 25, Partner.SESSAD: 15}
PARTNERS = {Partner.CMPP: 35, Partner.CMP: 15, Partner.SESSAD: 12, Partner.ITEP: 6, Partner.IME: 5,
            Partner.CELLULE_EBEP: 10, Partner.EQUIPE_TSA: 7, Partner.CMS: 6, Partner.IES: 2, Partner.IEM: 2}
CONFIDENTIAL_NOTES = (
    "Entretien avec la mère : séparation récente, climat familial tendu. Ne pas diffuser.",
    "Passation de tests : efficience dans la norme, forte anxiété de performance.",
    "L'enfant évoque des violences entre adultes à la maison : information préoccupante à envisager.",
    "Entretien avec le père : suivi pédopsychiatrique antérieur, interrompu.",
)
CONSENT_GIVERS = ("Les deux parents", "La mère", "Le père", "Le responsable légal")


# -- small helpers -----------------------------------------------------------------------------

class _Weighted:
    """Choices with fixed weights, the cumulative sums computed once."""

    def __init__(self, weights: dict) -> None:
        self.items = list(weights)
        self.cumulative = list(accumulate(weights.values()))

    def pick(self, rng: random.Random):
        return rng.choices(self.items, cum_weights=self.cumulative)[0]


PUPIL_MOTIFS_PICK = _Weighted(PUPIL_MOTIFS)
TEAM_MOTIFS_PICK = _Weighted(TEAM_MOTIFS)
REQUESTERS_PICK = _Weighted(REQUESTERS)
TEAM_REQUESTERS_PICK = _Weighted(TEAM_REQUESTERS)
LEVELS_PICK = _Weighted(LEVEL_WEIGHTS)
AID_ENDINGS_PICK = _Weighted(AID_ENDINGS)
PARTNERS_PICK = _Weighted(PARTNERS)
PARTNERS_YOUNG_PICK = _Weighted(PARTNERS_YOUNG)
SECOND_RESPONSES_PUPIL_PICK = _Weighted(SECOND_RESPONSES_PUPIL)
SECOND_RESPONSES_TEAM_PICK = {kind: _Weighted(weights) for kind, weights in SECOND_RESPONSES_TEAM.items()}
MODALITIES_PICK = {kind: _Weighted(weights) for kind, weights in MODALITIES.items()}
AID_KINDS_PICK = {motif: _Weighted(weights) for motif, weights in AID_KINDS_BY_MOTIF.items()}
AID_KINDS_OTHERWISE_PICK = _Weighted(AID_KINDS_OTHERWISE)


# the bits uuid.UUID(version=4) sets: version 4 and the RFC 4122 variant
_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48)) & ((1 << 128) - 1)
_UUID_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)


def _weekday(day: date) -> date:
    """The day itself from Monday to Friday, else the Monday after."""
    weekday = day.weekday()
    return day + timedelta(days=7 - weekday) if weekday >= 5 else day


def _timestamp(day: date, minutes: int) -> str:
    """An ISO UTC timestamp on `day`, `minutes` after midnight (kept within the day)."""
    minutes = min(minutes, 24 * 60 - 1)
    return f"{day.isoformat()}T{minutes // 60:02d}:{minutes % 60:02d}:00.000000Z"


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` by `weights`, the rounding left to the last share."""
    shares = [int(total * weight / sum(weights)) for weight in weights]
    shares[-1] += total - sum(shares)
    return shares


@dataclass(frozen=True)
class DemoSummary:
    """How many records of each kind the demo wrote."""

    schools: int
    members: int
    pupils: int
    cases: int
    entries: int
    aids: int
    evaluations: int


@dataclass
class _Year:
    """One school year of the demo: its périodes, meetings and last school day."""

    label: str
    start_year: int
    periods: list[PeriodSpan]
    official: bool  # the périodes of the official calendar (else approximate)
    meetings: list[tuple[date, str]] = field(default_factory=list)

    @property
    def rentree(self) -> date:
        return self.periods[0].start

    @property
    def end(self) -> date:
        return self.periods[-1].end

    def request_days(self, until: date) -> list[date]:
        """School days on which a request may be sent: from the rentrée's first week to the
        last fortnight of June, and not after `until`."""
        first = self.rentree + timedelta(days=3)
        last = min(date(self.start_year + 1, 6, 19), until)
        days = []
        for span in self.periods:
            day = max(span.start, first)
            while day <= min(span.end, last):
                if day.weekday() < 5:
                    days.append(day)
                day += timedelta(days=1)
        return days

    def period_number(self, day: date) -> int:
        for span in self.periods:
            if day <= span.end:
                return span.number
        return 5


@dataclass
class _PupilRecord:
    """A pupil already written, to send another request about them (or a twin, a homonym)."""

    pupil: Pupil
    school: School
    held_back: int


@dataclass
class _Request:
    """What the timeline of a new case needs to know about its request."""

    case: Case
    year: _Year
    main_motif: Motif
    aid_kind: AidKind
    age: int | None


class _Stop(Exception):
    """The next step would come after today: the case stays where it is."""


class _Closed(Exception):
    """The case has just been closed."""


# -- the generator -----------------------------------------------------------------------------

def generate_demo(store: Store, cases: int = 500, seed: int = 1,
                  progress: Callable[[int, int], None] | None = None) -> DemoSummary:
    """Fill `store` (best a new database) with a realistic circonscription and `cases` requests,
    the same for the same seed and the same today, in one bulk load."""
    demo = _Demo(store, random.Random(seed))
    with store.bulk_load(f"démo : {cases} dossiers (graine {seed})"):
        demo.write_settings()
        demo.write_calendar()
        demo.write_schools()
        demo.write_pole()
        demo.write_cases(cases, progress)
    return demo.summary()


class _Demo:
    """The circonscription being written and its counters."""

    def __init__(self, store: Store, rng: random.Random) -> None:
        self.store = store
        self.rng = rng
        self.today = today()
        current = school_year_start(self.today)
        self._years: dict[int, _Year] = {}
        self.years = [self.year(start) for start in range(current - PAST_YEARS, current + 1)]
        self.schools: list[School] = []
        self.school_weights: dict[str, float] = {}
        self.members: list[Member] = []
        self.members_by_role: dict[Role, list[Member]] = {}
        self.pupils_by_year: dict[str, list[_PupilRecord]] = {}
        self.pupil_ids: set[str] = set()
        self.collective_actions: dict[tuple[str, int], str] = {}
        self.cases = self.entries = self.aids = self.evaluations = 0

    def new_id(self) -> str:
        """A version-4 UUID drawn from the seeded generator, so that identifiers repeat with the
        seed: the same text as `str(uuid.UUID(int=bits, version=4))`, four times faster."""
        bits = self.rng.getrandbits(128) & _UUID_CLEAR | _UUID_VERSION_4
        hex_ = f"{bits:032x}"
        return f"{hex_[:8]}-{hex_[8:12]}-{hex_[12:16]}-{hex_[16:20]}-{hex_[20:]}"

    def year(self, start_year: int) -> _Year:
        if start_year not in self._years:
            label = f"{start_year}-{start_year + 1}"
            official = official_periods(label, ZONE)
            self._years[start_year] = _Year(label, start_year, official or approximate_periods(label),
                                            official=official is not None)
        return self._years[start_year]

    def next_year(self, year: _Year) -> _Year:
        return self.year(year.start_year + 1)

    def summary(self) -> DemoSummary:
        return DemoSummary(schools=len(self.schools), members=len(self.members), pupils=len(self.pupil_ids),
                           cases=self.cases, entries=self.entries, aids=self.aids,
                           evaluations=self.evaluations)

    # -- settings, calendar, schools, pôle ------------------------------------------------

    def write_settings(self) -> None:
        self.store.set_setting("circonscription", CIRCONSCRIPTION)
        self.store.set_setting("antenne", ANTENNA)
        self.store.set_setting("zone", ZONE.value)

    def write_calendar(self) -> None:
        """Five périodes per school year and the pôle's ordinary meeting in each (the Thursday of
        its fourth week; requests are due six days before)."""
        for year in self.years:
            source = PeriodSource.OFFICIEL if year.official else PeriodSource.MANUEL
            for span in year.periods:
                self.store.add_period(Period(id=self.new_id(), school_year=year.label, number=span.number,
                                             start_date=span.start, end_date=span.end, zone=ZONE, source=source))
                meeting = Meeting(id=self.new_id(), school_year=year.label, period_number=span.number,
                                  date=proposed_meeting_date(span), kind=MeetingKind.ORDINAIRE,
                                  request_deadline_days=DEFAULT_DEADLINE_DAYS,
                                  notes=f"Réunion du pôle ressource, période {span.number}.")
                self.store.add_meeting(meeting)
                year.meetings.append((meeting.date, meeting.id))

    def write_schools(self) -> None:
        used: set[str] = set()
        for name, commune, kind, priority, weight in SCHOOLS:
            digits = DEPARTMENT + f"{self.rng.randrange(10_000):04d}"
            while digits in used:
                digits = DEPARTMENT + f"{self.rng.randrange(10_000):04d}"
            used.add(digits)
            school = School(id=self.new_id(), uai=digits + uai_key_letter(digits), name=name, commune=commune,
                            kind=kind, priority_education=priority)
            self.store.add_school(school)
            self.schools.append(school)
            self.school_weights[school.id] = weight
        self.schools_for_level = {
            level: _Weighted({s.id: self.school_weights[s.id] for s in self.schools
                              if level in LEVELS_OF_KIND[s.kind]})
            for level in ClassLevel}
        self.school_by_id = {school.id: school for school in self.schools}
        self.any_school = _Weighted(self.school_weights)

    def write_pole(self) -> None:
        current = self.years[-1]
        for last_name, first_name, role, years_in_post in POLE:
            self._add_member(last_name, first_name, role, self.year(current.start_year - years_in_post).rentree)
        last_year = self.years[-2]
        self._add_member(*LEAVING_G, Role.MAITRE_G, self.year(current.start_year - 12).rentree,
                         active_to=last_year.periods[2].end)
        self._add_member(*ARRIVING_G, Role.MAITRE_G, last_year.periods[3].start)

    def _add_member(self, last_name: str, first_name: str, role: Role, active_from: date,
                    active_to: date | None = None) -> None:
        member = Member(id=self.new_id(), last_name=last_name, first_name=first_name, role=role,
                        antenna=ANTENNA if role.is_rased else "", active_from=active_from,
                        active_to=active_to, capacity=CAPACITIES.get(role))
        self.store.add_member(member)
        self.members.append(member)
        self.members_by_role.setdefault(role, []).append(member)

    def member(self, role: Role, day: date) -> Member | None:
        """A member of this role in post on `day`, if any."""
        candidates = [m for m in self.members_by_role.get(role, ()) if m.is_active_on(day)]
        return self.rng.choice(candidates) if candidates else None

    def first_day_in_post(self, role: Role, day: date) -> date:
        """The first weekday from `day` on when someone of this role is in post (the post of
        a member who left stays vacant until the successor arrives)."""
        day = _weekday(day)
        while not any(member.is_active_on(day) for member in self.members_by_role[role]):
            day = _weekday(day + timedelta(days=1))
        return day

    def collective_action(self, year: _Year, day: date) -> str:
        """One training action per période, shared by the cases it answers."""
        key = (year.label, year.period_number(day))
        if key not in self.collective_actions:
            self.collective_actions[key] = self.new_id()
        return self.collective_actions[key]

    # -- cases ----------------------------------------------------------------------------

    def write_cases(self, total: int, progress: Callable[[int, int], None] | None) -> None:
        """`total` requests spread over the years (oldest first, in date order within a year,
        so that case numbers follow the dates), each with its timeline."""
        days_by_year = [(year, year.request_days(self.today)) for year in self.years]
        days_by_year = [(year, days) for year, days in days_by_year if days]
        # Requests are spread over the school days so far: the current year, a few weeks old,
        # holds fewer than the full years before it.
        weights = [len(days) * (1 + YEARLY_GROWTH) ** index for index, (_, days) in enumerate(days_by_year)]
        done = 0
        for (year, days), count in zip(days_by_year, _shares(total, weights)):
            for day in sorted(self.rng.choices(days, k=count)):
                request = self._pupil_request(year, day) if self.rng.random() < PUPIL_CASES \
                    else self._team_request(year, day)
                self.store.add_case(request.case)
                self.cases += 1
                _CaseWriter(self, request).write()
                done += 1
                if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                    progress(done, total)

    def _urgent(self, sent: date) -> bool:
        """About one request in twelve is urgent; more among the very last ones, so that the
        demo shows urgent requests waiting for their analysis, as on a real Monday."""
        recent = (self.today - sent).days <= 3
        return self.rng.random() < (URGENT_LAST_DAYS if recent else URGENT)

    def _received(self, sent: date) -> date:
        return min(_weekday(sent + timedelta(days=self.rng.randint(0, 6))), self.today)

    def _motifs(self, weights: _Weighted) -> tuple[list[Motif], str]:
        motifs = [weights.pick(self.rng)]
        for _ in range(self.rng.choice((0, 0, 1, 1, 2))):
            extra = weights.pick(self.rng)
            if extra not in motifs:
                motifs.append(extra)
        other = self.rng.choice(OTHER_MOTIFS) if Motif.AUTRE in motifs else ""
        return motifs, other

    def _prior_actions(self, handicap: bool) -> list[PriorActionItem]:
        actions = [_prior_action(action) for action, chance in PRIOR_ACTION_WEIGHTS if self.rng.random() < chance]
        if handicap:
            actions.append(PPS_NOTIFIED)
        return actions

    def _pupil_request(self, year: _Year, sent: date) -> _Request:
        record, level = self._pupil_for(year)
        motifs, other = self._motifs(PUPIL_MOTIFS_PICK)
        dispositif = self.rng.choices((None, Dispositif.ULIS, Dispositif.UPE2A), cum_weights=(94, 97, 100))[0]
        if level in NURSERY and dispositif is Dispositif.ULIS:
            dispositif = None
        handicap = dispositif is Dispositif.ULIS or self.rng.random() < 0.04
        aesh = handicap and self.rng.random() < 0.6
        requester = REQUESTERS_PICK.pick(self.rng)
        details = REQUESTER_DETAILS.get(requester)
        description = " ".join(self.rng.choice(DESCRIPTIONS[motif]) for motif in motifs[:2])
        informed = sent - timedelta(days=self.rng.randint(0, 20)) if self.rng.random() < 0.85 else None
        case = _unchecked(
            Case, id=self.new_id(), subject_kind=SubjectKind.ELEVE, pupil=record.pupil, levels=[level],
            teacher_name=self._teacher(), dispositif=dispositif, handicap=handicap, aesh=aesh, school_id=record.school.id,
            requester=requester, requester_detail=self.rng.choice(details) if details else "",
            date_sent=sent, date_received=self._received(sent), urgent=self._urgent(sent),
            description=description, motifs=motifs, other_motif=other,
            prior_actions=self._prior_actions(handicap) if requester is not Requester.FAMILLE else [],
            parents_informed_on=informed)
        main = motifs[0]
        aid_kind = AID_KINDS_PICK.get(main, AID_KINDS_OTHERWISE_PICK).pick(self.rng)
        return _Request(case, year, main, aid_kind, year.start_year - record.pupil.birth_date.year)

    def _teacher(self) -> str:
        """A teacher's name as the schools write it: « Mme Sophie Lemaire »."""
        title, first_names = self.rng.choice((("Mme", WOMEN), ("Mme", WOMEN), ("M.", MEN)))
        return f"{title} {self.rng.choice(first_names)} {self.rng.choice(LAST_NAMES)}"

    def _team_request(self, year: _Year, sent: date) -> _Request:
        kind = self.rng.choices((SubjectKind.ENSEIGNANT, SubjectKind.EQUIPE, SubjectKind.CLASSE),
                                cum_weights=(40, 67, 100))[0]
        school = self.school_by_id[self.any_school.pick(self.rng)]
        allowed = LEVELS_OF_KIND[school.kind]
        first = self.rng.randrange(len(allowed))
        levels = list(allowed[first:first + self.rng.choice((1, 1, 2))])
        if kind is SubjectKind.EQUIPE and self.rng.random() < 0.5:
            levels = []
        teacher = self._teacher()
        team = f"{self.rng.choice(('Équipe pédagogique', 'Conseil des maîtres'))} — {school.name}"
        motifs, other = self._motifs(TEAM_MOTIFS_PICK)
        case = _unchecked(
            Case, id=self.new_id(), subject_kind=kind, levels=levels, school_id=school.id,
            teacher_name=teacher if kind is not SubjectKind.EQUIPE else "",
            team_reference=team if kind is SubjectKind.EQUIPE else "",
            requester=TEAM_REQUESTERS_PICK.pick(self.rng), date_sent=sent, date_received=self._received(sent),
            urgent=self._urgent(sent), description=self.rng.choice(TEAM_DESCRIPTIONS[kind]),
            motifs=motifs, other_motif=other, prior_actions=self._prior_actions(False)[:2])
        return _Request(case, year, motifs[0], AidKind.E if self.rng.random() < 0.6 else AidKind.G, None)

    # -- pupils ---------------------------------------------------------------------------

    def _pupil_for(self, year: _Year) -> tuple[_PupilRecord, ClassLevel]:
        """A pupil for a new request: someone helped in an earlier year, a twin or a homonym of
        an earlier pupil, or (mostly) somebody new."""
        if self.rng.random() < RETURNING_PUPIL:
            returning = self._returning_pupil(year)
            if returning is not None:
                return returning
        this_year = self.pupils_by_year.setdefault(year.label, [])
        draw = self.rng.random()
        if draw < TWIN and this_year:
            record = self._twin_of(self.rng.choice(this_year[-50:]))
        else:
            record = self._new_pupil(year, homonym=draw < TWIN + HOMONYM)
        this_year.append(record)
        self.pupil_ids.add(record.pupil.id)
        return record, self._level(record, year)

    def _level(self, record: _PupilRecord, year: _Year) -> ClassLevel | None:
        return AGE_LEVEL.get(year.start_year - record.pupil.birth_date.year - record.held_back)

    def _new_pupil(self, year: _Year, *, homonym: bool) -> _PupilRecord:
        level = LEVELS_PICK.pick(self.rng)
        school = self.school_by_id[self.schools_for_level[level].pick(self.rng)]
        held_back = 1 if level in ELEMENTARY and self.rng.random() < HELD_BACK else 0
        birth_year = year.start_year - LEVEL_AGE[level] - held_back
        birth = self._birth_date(birth_year, latest_month=8 if level is ClassLevel.TPS else 12)
        earlier = [r for records in self.pupils_by_year.values() for r in records[-20:]] if homonym else []
        if earlier:
            model = self.rng.choice(earlier).pupil
            last_name, first_name = model.last_name, model.first_name
            while birth == model.birth_date:
                birth = self._birth_date(birth_year, latest_month=8 if level is ClassLevel.TPS else 12)
        else:
            last_name = self.rng.choice(LAST_NAMES)
            first_name = self.rng.choice(GIRLS if self.rng.random() < 0.5 else BOYS)
        pupil = _unchecked(Pupil, id=self.new_id(), last_name=last_name, first_name=first_name, birth_date=birth)
        return _PupilRecord(pupil, school, held_back)

    def _birth_date(self, year: int, latest_month: int) -> date:
        first = date(year, 1, 1)
        span = (date(year, latest_month, 28) - first).days
        return min(first + timedelta(days=self.rng.randint(0, span)), self.today)

    def _twin_of(self, sibling: _PupilRecord) -> _PupilRecord:
        names = GIRLS + BOYS
        first_name = self.rng.choice(names)
        while first_name == sibling.pupil.first_name:
            first_name = self.rng.choice(names)
        pupil = _unchecked(Pupil, id=self.new_id(), last_name=sibling.pupil.last_name, first_name=first_name,
                           birth_date=sibling.pupil.birth_date)
        return _PupilRecord(pupil, sibling.school, sibling.held_back)

    def _returning_pupil(self, year: _Year) -> tuple[_PupilRecord, ClassLevel] | None:
        """A pupil of an earlier year, now a level or more higher, maybe in another school."""
        earlier = [label for label in self.pupils_by_year if label < year.label]
        if not earlier:
            return None
        records = self.pupils_by_year[self.rng.choice(earlier)]
        record = self.rng.choice(records)
        level = self._level(record, year)
        if level is None:
            return None
        if level not in LEVELS_OF_KIND[record.school.kind]:
            school = self.school_by_id[self.schools_for_level[level].pick(self.rng)]
            record = _PupilRecord(record.pupil, school, record.held_back)
        return record, level


# -- records built without validation ----------------------------------------------------------

@cache
def _blank(model: type[Record]) -> Record:
    """A record of `model` with every field at its default (the required ones unset)."""
    return model.model_construct(**{name: None if field.default_factory else field.default
                                    for name, field in model.model_fields.items()})


@cache
def _prior_action(action: PriorAction) -> PriorActionItem:
    """The same value for every case that lists this action (records are never changed in place)."""
    return PriorActionItem(action=action, detail=PRIOR_ACTION_DETAILS.get(action, ""))


PPS_NOTIFIED = PriorActionItem(action=PriorAction.PAP_PPS, detail="PPS notifié par la MDPH")


def _unchecked(model: type[Record], **values: Any) -> Record:
    """A record of `model` built from `values` without pydantic's validation: half a million
    validated records would spend most of the run there, and `model_construct` itself looks up
    every default the slow way. The rules still hold: the database enforces its own, and
    tests/test_demo.py validates every record read back. The defaults made by a factory (an
    empty list) are made anew for each record."""
    fresh = {name: field.default_factory() for name, field in model.model_fields.items()
             if field.default_factory is not None and name not in values}
    return _blank(model).model_copy(update={**fresh, **values})


# -- one case's timeline -----------------------------------------------------------------------

class _CaseWriter:
    """Writes the timeline of one case step after step, until it is closed or today is reached.

    `self.day` is the date of the last step; `at(soonest, latest)` draws the next one. A step
    that would fall after today stops the case where it is (`_Stop`); one that would fall after
    the summer either closes the case at the end of the year or carries it into the next.
    """

    def __init__(self, demo: _Demo, request: _Request) -> None:
        self.demo = demo
        self.rng = demo.rng
        self.store = demo.store
        self.request = request
        self.case = request.case
        self.year = request.year
        self.day = self.case.date_received or self.case.date_sent
        self.minute = self.rng.randrange(8 * 60, 16 * 60)  # time of day of the first recording
        self.carried = False
        self.reopened = False

    def write(self) -> None:
        for episode in (1, 2):
            try:
                self._episode()
            except _Stop:
                return
            except _Closed:
                if episode == 2 or self.rng.random() >= REOPEN:
                    return
                try:
                    self._reopen()
                except _Stop:
                    return

    # -- dates ----------------------------------------------------------------------------

    def at(self, soonest: int, latest: int) -> date:
        """The date of the next step, `soonest` to `latest` days after the last one."""
        day = _weekday(self.day + timedelta(days=self.rng.randint(soonest, latest)))
        if day > self.year.end:
            day = self._across_summer()
        return self._move_to(day)

    def _move_to(self, day: date) -> date:
        if day > self.demo.today:
            raise _Stop
        self.day = day
        return day

    def _across_summer(self) -> date:
        """The year ends before the next step: close the case then, or carry it over and
        return the date of the next step after the rentrée."""
        if self.year.end > self.demo.today:
            raise _Stop
        if self.rng.random() < (CARRY_OVER_AGAIN if self.carried else CARRY_OVER):
            self._carry_over()
            return _weekday(self.year.rentree + timedelta(days=self.rng.randint(4, 25)))
        self._close(ClosureOutcome.RELAIS_ENSEIGNANT, self.year.end,
                    "Fin d'année scolaire : relais à l'enseignant·e de l'an prochain.")

    def _carry_over(self, text: str = "Suivi à poursuivre l'an prochain.") -> None:
        """A report entry on the last school day; the case goes on next year."""
        following = self.demo.next_year(self.year)
        self.day = max(self.day, self.year.end)
        self.entry(EntryKind.REPORT, self.day, to_school_year=following.label, text=text)
        self.year = following
        self.carried = True

    # -- writing --------------------------------------------------------------------------

    def entry(self, kind: EntryKind, day: date, *, sub_kind: str | None = None, text: str = "",
              members: Sequence[Member | None] = (), **fields) -> TimelineEntry:
        """Write one timeline entry dated `day` (never before the previous one).

        Built without validation (`_unchecked`)."""
        present = list({member.id: member for member in members if member is not None}.values())
        self.minute += self.rng.randint(1, 9)
        entry = _unchecked(
            TimelineEntry, id=self.demo.new_id(), case_id=self.case.id, kind=kind, sub_kind=sub_kind, date=day,
            text=text, member_ids=[member.id for member in present],
            author_member_id=present[0].id if present else None, created_at=_timestamp(day, self.minute),
            **fields)
        self.store.add_entry(entry)
        self.demo.entries += 1
        return entry

    def _close(self, outcome: ClosureOutcome, day: date, text: str | None = None) -> NoReturn:
        self.entry(EntryKind.CLOTURE, day, sub_kind=outcome.value, text=text or CLOSURE_TEXTS[outcome])
        raise _Closed

    # -- the path of a case ---------------------------------------------------------------

    def _episode(self) -> None:
        """Analysis, first- then second-intention responses, bilan and closure."""
        response = self._second_response()
        lead = self._analyse(calls_aid=response is SecondResponse.AIDE_SPECIALISEE)
        if self.rng.random() < SANS_SUITE:
            self._close(ClosureOutcome.SANS_SUITE, self.at(0, 10), self.rng.choice(SANS_SUITE_TEXTS))
        self._first_intention(lead)
        if response is SecondResponse.AIDE_SPECIALISEE:
            self._specialised_aid()
        elif response is SecondResponse.ORIENTATION_PARTENAIRE:
            self._orientation()
            self._close(ClosureOutcome.ORIENTATION_PARTENAIRE, self.at(7, 40))
        else:
            self._other_response(response)

    def _analyse(self, *, calls_aid: bool) -> Member | None:
        """The première analyse: the problématique, the members best placed to answer, and the
        RASED aid it calls for (the waiting list until it starts). Returns the member who
        will lead the first responses."""
        day, meeting_id = self._analysis_day()
        is_pupil = self.case.subject_kind is SubjectKind.ELEVE
        lead = self._rased(self.request.aid_kind, day) if is_pupil else self.demo.member(Role.CPC, day)
        members = [lead]
        if self.case.urgent:
            members.append(self.demo.member(Role.IEN, day))
        if self.case.handicap:
            members.append(self.demo.member(Role.REFERENT_HANDICAP, day))
        if self.case.dispositif is Dispositif.UPE2A:
            members.append(self.demo.member(Role.ENSEIGNANT_UPE2A, day))
        if self.rng.random() < 0.3:
            members.append(self.demo.member(Role.PSYCHOLOGUE, day))
        problematique = PROBLEMATIQUES[self.request.main_motif] if is_pupil else TEAM_PROBLEMATIQUE
        self.entry(EntryKind.ANALYSE, day, text=problematique, members=members, meeting_id=meeting_id,
                   aids_called=[self.request.aid_kind] if calls_aid else [])
        return lead

    def _analysis_day(self) -> tuple[date, str | None]:
        """Urgent requests within days; others at the RASED's weekly synthèse or at the pôle's
        next meeting when the request came in before its deadline (always for a reopening)."""
        if self.case.urgent:
            return self.at(0, 3), None
        if self.reopened or self.rng.random() < ANALYSIS_AT_MEETING:
            horizon = 60 if self.reopened else 35
            for meeting_day, meeting_id in self.year.meetings:
                if self.day + timedelta(days=6) <= meeting_day <= self.day + timedelta(days=horizon):
                    return self._move_to(meeting_day), meeting_id
        return self.at(3, 18), None

    def _rased(self, kind: AidKind, day: date) -> Member | None:
        """The RASED member for this kind of aid, or another one when that post is vacant."""
        return self.demo.member(kind.role, day) or self.demo.member(Role.PSYCHOLOGUE, day)

    def _first_intention(self, lead: Member | None) -> None:
        self.entry(EntryKind.PREMIERE_INTENTION, self.at(1, 8), sub_kind=FirstResponse.CONTACT.value,
                   text="Prise de contact avec le demandeur.", members=[lead])
        if self.rng.random() < 0.6:
            self.entry(EntryKind.PREMIERE_INTENTION, self.at(3, 15),
                       sub_kind=FirstResponse.OBSERVATION_CLASSE.value,
                       text="Observation en classe pendant une séance.", members=[lead])
        if self.rng.random() < 0.45:
            self.entry(EntryKind.PREMIERE_INTENTION, self.at(2, 12),
                       sub_kind=FirstResponse.ENTRETIEN_EXPLICITATION.value,
                       text="Entretien d'explicitation avec l'enseignant·e.", members=[lead])
        if lead is not None and lead.role is Role.PSYCHOLOGUE and self.rng.random() < 0.35:
            self._confidential_note(self.at(1, 10), lead)

    def _confidential_note(self, day: date, psychologue: Member) -> None:
        self.entry(EntryKind.NOTE, day, text=self.rng.choice(CONFIDENTIAL_NOTES), members=[psychologue],
                   confidential=True)

    def _second_response(self) -> SecondResponse:
        if self.case.subject_kind is SubjectKind.ELEVE:
            return SECOND_RESPONSES_PUPIL_PICK.pick(self.rng)
        return SECOND_RESPONSES_TEAM_PICK[self.case.subject_kind].pick(self.rng)

    def _orientation(self) -> None:
        young = self.request.age is not None and self.request.age < 6
        partner = (PARTNERS_YOUNG_PICK if young else PARTNERS_PICK).pick(self.rng)
        day = self.at(5, 25)
        role = self.rng.choice(RESPONDERS[SecondResponse.ORIENTATION_PARTENAIRE])
        self.entry(EntryKind.SECONDE_INTENTION, day, sub_kind=SecondResponse.ORIENTATION_PARTENAIRE.value,
                   partner=partner, text=f"Orientation proposée à la famille : {partner.label}.",
                   members=[self.demo.member(role, day)])

    def _other_response(self, response: SecondResponse) -> None:
        """Accompagnement, formation, mutualisation or observation: then a bilan and closure."""
        day = self.at(5, 25)
        member = self.demo.member(self.rng.choice(RESPONDERS[response]), day)
        action = self.demo.collective_action(self.year, day) if response is SecondResponse.FORMATION_CIBLEE else None
        self.entry(EntryKind.SECONDE_INTENTION, day, sub_kind=response.value, text=RESPONSE_TEXTS[response],
                   members=[member], action_id=action)
        self.entry(EntryKind.BILAN, self.at(21, 70), text="Bilan avec l'équipe : pratiques ajustées.",
                   members=[member])
        outcome = self.rng.choice((ClosureOutcome.OBJECTIFS_ATTEINTS, ClosureOutcome.RELAIS_ENSEIGNANT,
                                   ClosureOutcome.AUTRE))
        self._close(outcome, self.at(0, 20))

    def _reopen(self) -> None:
        """A new request about a closed case, weeks later (maybe after the summer)."""
        day = _weekday(self.day + timedelta(days=self.rng.randint(15, 60)))
        if day > self.year.end:
            following = self.demo.next_year(self.year)
            day = self._move_to(_weekday(following.rentree + timedelta(days=self.rng.randint(3, 30))))
            self.entry(EntryKind.REPORT, day, to_school_year=following.label,
                       text=f"Dossier repris en {following.label}.")
            self.year = following
        self.entry(EntryKind.REOUVERTURE, self._move_to(day),
                   text="Nouvelle demande de l'enseignant·e : les difficultés réapparaissent.")
        self.reopened = True

    # -- specialised aids -----------------------------------------------------------------

    def _specialised_aid(self) -> None:
        """An aid of the RASED, from the family's consent to the bilan and the closure; it may
        pass from a member who leaves to their successor, or over the summer into next year
        (each stretch with one member is one Aid row)."""
        kind = self.request.aid_kind
        proposed = self.at(3, self.rng.choice(LONGEST_WAITS))
        start = self._move_to(self.demo.first_day_in_post(kind.role, proposed))
        consent = self._consent(kind, proposed, start)
        if consent["consent_status"] is ConsentStatus.REFUSE:
            self._refused_aid(kind, start, consent)
        ending = AID_ENDINGS_PICK.pick(self.rng)
        weeks = self.rng.randint(2, 5) if ending is AidEndReason.RETRAIT_CONSENTEMENT else self.rng.randint(6, 20)
        planned_end = _weekday(start + timedelta(weeks=weeks))
        objectives = self.rng.choice(OBJECTIVES[kind])
        text = f"{kind.label} : {objectives}"
        while True:
            member = self.demo.member(kind.role, start)
            end, reason = min((planned_end, ending), (self.year.end, AidEndReason.FIN_ANNEE),
                              (member.active_to or date.max, AidEndReason.PASSATION), key=lambda pair: pair[0])
            aid = self._write_aid(kind, member, start, end, reason, consent, objectives, text)
            if reason is AidEndReason.PASSATION:
                next_start = self._move_to(self.demo.first_day_in_post(kind.role, end + timedelta(days=1)))
                text = f"Reprise de l'aide après le départ de {member.full_name} (passation)."
            elif reason is AidEndReason.FIN_ANNEE:
                next_start = self._after_summer(aid, kind, member)
                text = "Reprise de l'aide après le report sur la nouvelle année."
            else:
                break
            planned_end = next_start + (planned_end - end)
            start = next_start
        self._end_of_aid(aid, kind, member, ending)

    def _consent(self, kind: AidKind, proposed: date, start: date) -> dict:
        """The family's consent: written for the psychologue, oral or written otherwise; a few
        refusals, and pending for aids proposed in the last days."""
        if self.rng.random() < 0.03:
            return {"consent_status": ConsentStatus.REFUSE, "consent_date": proposed,
                    "consent_by": self.rng.choice(CONSENT_GIVERS)}
        if (self.demo.today - start).days < 10 and self.year.end > self.demo.today and self.rng.random() < 0.3:
            return {"consent_status": ConsentStatus.EN_ATTENTE}
        form = ConsentForm.ECRIT if kind is AidKind.PSY or self.rng.random() < 0.4 else ConsentForm.ORAL
        given = proposed + timedelta(days=self.rng.randint(0, (start - proposed).days))
        return {"consent_status": ConsentStatus.DONNE, "consent_form": form, "consent_date": given,
                "consent_by": self.rng.choice(CONSENT_GIVERS)}

    def _refused_aid(self, kind: AidKind, start: date, consent: dict) -> None:
        member = self.demo.member(kind.role, start)
        aid = self._aid(kind, member, start, start, AidEndReason.AUTRE, consent, "",
                        end_note="La famille n'a pas donné son accord : l'aide n'a pas commencé.")
        self.entry(EntryKind.SECONDE_INTENTION, start, sub_kind=SecondResponse.AIDE_SPECIALISEE.value,
                   text="Aide proposée, refusée par la famille.", members=[member], aid_id=aid.id)
        self._close(ClosureOutcome.REFUS_FAMILLE, self.at(0, 10))

    def _aid(self, kind: AidKind, member: Member, start: date, end: date | None, reason: AidEndReason | None,
             consent: dict, objectives: str, **fields) -> Aid:
        if self.case.subject_kind is SubjectKind.ELEVE:
            modality = MODALITIES_PICK[kind].pick(self.rng)
        else:  # an aid for a whole class
            modality = self.rng.choice((Modality.CO_INTERVENTION, Modality.EN_CLASSE))
        aid = _unchecked(Aid, id=self.demo.new_id(), case_id=self.case.id, member_id=member.id, kind=kind,
                         modality=modality, sessions_per_week=self.rng.choice(SESSIONS[kind]),
                         objectives=objectives, start_date=start, expected_weeks=self.rng.randint(6, 16),
                         end_date=end, end_reason=reason, **consent, **fields)
        self.store.add_aid(aid)
        self.demo.aids += 1
        return aid

    def _write_aid(self, kind: AidKind, member: Member, start: date, end: date, reason: AidEndReason,
                   consent: dict, objectives: str, text: str) -> Aid:
        """One stretch of an aid with one member, its seconde-intention entry and evaluations.
        An end after today leaves the aid open (in the member's caseload) and stops the case."""
        still_open = end > self.demo.today
        if still_open:
            aid = self._aid(kind, member, start, None, None, consent, objectives)
        else:
            withdrawn = {"consent_withdrawn_on": end} if reason is AidEndReason.RETRAIT_CONSENTEMENT else {}
            aid = self._aid(kind, member, start, end, reason, consent, objectives, **withdrawn)
        self.entry(EntryKind.SECONDE_INTENTION, start, sub_kind=SecondResponse.AIDE_SPECIALISEE.value,
                   text=text, members=[member], aid_id=aid.id)
        self._evaluations(aid, kind, start, end, reason)
        halfway = _weekday(start + (end - start) / 2)
        if kind is AidKind.PSY and halfway <= min(end, self.demo.today) and self.rng.random() < 0.5:
            self._confidential_note(halfway, member)
        if still_open:
            raise _Stop
        self.day = end
        return aid

    def _evaluations(self, aid: Aid, kind: AidKind, start: date, end: date, reason: AidEndReason) -> None:
        """Scores out of ten at the start, halfway through a long aid, and at the end."""
        first = self.rng.randint(1, 5)
        middle = min(10, first + self.rng.randint(0, 3))
        if reason is AidEndReason.OBJECTIFS_ATTEINTS:
            last = self.rng.randint(max(7, middle), 10)
        elif reason in (AidEndReason.RELAIS_ENSEIGNANT, AidEndReason.FIN_ANNEE, AidEndReason.PASSATION):
            last = self.rng.randint(middle, min(10, middle + 3))
        else:
            last = self.rng.randint(max(0, first - 1), middle)
        plan = [(min(start + timedelta(days=self.rng.randint(0, 7)), end), EvaluationPhase.DEBUT, first)]
        if (end - start).days >= 42:
            plan.append((start + (end - start) / 2, EvaluationPhase.INTERMEDIAIRE, middle))
        if reason is not AidEndReason.RETRAIT_CONSENTEMENT:
            plan.append((end, EvaluationPhase.FIN, last))
        for day, phase, score in plan:
            if day <= self.demo.today:
                self.store.add_evaluation(_unchecked(
                    AidEvaluation, id=self.demo.new_id(), aid_id=aid.id, date=day, phase=phase, score=score,
                    observations=EVALUATION_NOTES[(kind, phase)]))
                self.demo.evaluations += 1

    def _after_summer(self, aid: Aid, kind: AidKind, member: Member) -> date:
        """The aid stopped at the end of the year: either a bilan and the closure, or the case
        goes on next year with a new aid after the rentrée. Returns that aid's first day.

        (No bilan entry before a carry-over: the status is the furthest stage reached, so a
        case whose aid resumes would read « bilan » all next year.)"""
        if self.rng.random() >= (CARRY_OVER_AGAIN if self.carried else CARRY_OVER_AID):
            self.entry(EntryKind.BILAN, self.day, text="Bilan de fin d'année de l'aide.", members=[member],
                       aid_id=aid.id)
            self._close(ClosureOutcome.RELAIS_ENSEIGNANT, self.day,
                        "Fin d'année : relais à l'enseignant·e de la classe suivante.")
        self._carry_over("Bilan de fin d'année : l'aide reprendra à la rentrée.")
        restart = _weekday(self.year.rentree + timedelta(days=self.rng.randint(7, 21)))
        return self._move_to(self.demo.first_day_in_post(kind.role, restart))

    def _end_of_aid(self, aid: Aid, kind: AidKind, member: Member, ending: AidEndReason) -> NoReturn:
        """After an aid ended as planned: maybe an orientation, the bilan, the closure."""
        if ending is AidEndReason.ORIENTATION:
            self._orientation()
        if ending is AidEndReason.OBJECTIFS_ATTEINTS:
            bilan = f"Bilan de l'aide : {EVALUATION_NOTES[(kind, EvaluationPhase.FIN)]}"
        else:
            bilan = "Bilan de l'aide présenté en synthèse ; pistes transmises à l'enseignant·e."
        self.entry(EntryKind.BILAN, self.at(0, 7), text=bilan, members=[member], aid_id=aid.id)
        outcome = OUTCOME_OF_AID_ENDING[ending]
        if outcome is ClosureOutcome.RELAIS_ENSEIGNANT and self.request.main_motif is Motif.AIDE_PAP:
            outcome = ClosureOutcome.PAP_PPS
        self._close(outcome, self.at(0, 20))

"""One pupil's file for the family who asks for it (RGPD right of access), as Markdown to read
or print.

`find_pupil(store, reference)` finds the pupil by its id or by the number of one of its cases
(2026-0042). `build_document(store, pupil, produced_on)` lays out, in French, everything the
base holds about that pupil: identity, each request about the pupil, the official steps of
its timeline, the RASED aids with their consent and evaluations, the closures and bilans.

What it never holds: the psychologists' confidential notes (left out whole); what concerns
other children — a text shared by several cases (a collective action) is not reproduced, and
the name of another pupil of the base written in a text is replaced by « [autre enfant] »;
the meetings' notes (only the date of the meeting is said); the audit log. The document says
so, without telling what was left out. It cannot catch a child named otherwise (a nickname, a
child not in the base): the staff reread it before handing it over.

`write_document` writes it where the user said, readable by its owner only, under a hidden
temporary name until complete (the helpers of exchange/agenda.py), and never over a file
already there; `write_into_folder` picks a free name in a folder (the screen's `x`). No Textual.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rased_tui.domain.calendar import format_french_date
from rased_tui.domain.enums import (
    AidKind,
    ClosureOutcome,
    ConsentForm,
    EntryKind,
    FirstResponse,
    Partner,
    Role,
    SecondResponse,
)
from rased_tui.domain.french import count
from rased_tui.domain.models import Aid, AidEvaluation, Case, Member, Pupil, TimelineEntry, fold
from rased_tui.exchange.agenda import claim_name, write_partial
from rased_tui.store.parents_access_queries import other_pupil_names
from rased_tui.store.retention import PURGED_TEXT

OTHER_CHILD_MARK = "[autre enfant]"
PURGED_FOR_FAMILY = "*(texte effacé : la durée de conservation du dossier est écoulée)*"
SHARED_TEXT_MARK = "[texte commun à plusieurs dossiers, qui concerne aussi d'autres élèves : non reproduit]"
SUB_KIND_LABELS = {member.value: member.label for enum in (FirstResponse, SecondResponse) for member in enum}
CONSENT_FORMS = {ConsentForm.ORAL: "oralement", ConsentForm.ECRIT: "par écrit"}
RASED_ROLES = {Role.MAITRE_E: "maître E", Role.MAITRE_G: "maître G", Role.PSYCHOLOGUE: "psychologue"}
_CASE_NUMBER = re.compile(r"^\d{4}-\d{4,}(-\S+)?$")  # 2026-0042, or 2026-0042-ROUENSUD (imported)
_WORD = re.compile(r"\w+")


class ParentsAccessError(Exception):
    """A file that could not be found or written; the message is one French sentence."""


class FileAlreadyThere(ParentsAccessError):
    """The file to write already exists: it is never overwritten."""


@dataclass
class LeftOut:
    """What the document left out, counted for the staff (the document does not count it)."""

    confidential_notes: int = 0
    shared_texts: int = 0
    other_children_names: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.confidential_notes or self.shared_texts or self.other_children_names)

    def summary(self) -> str:
        """'Laissé de côté : 2 notes confidentielles, 1 nom d'un autre enfant.'"""
        parts = [count(number, singular, plural) for number, singular, plural in (
            (self.confidential_notes, "note confidentielle", "notes confidentielles"),
            (self.shared_texts, "texte commun à plusieurs dossiers", "textes communs à plusieurs dossiers"),
            (self.other_children_names, "nom d'un autre enfant", "noms d'autres enfants")) if number]
        return "Laissé de côté : " + ", ".join(parts) + "." if parts else "Rien n'a été laissé de côté."


@dataclass(frozen=True)
class ParentsDocument:
    pupil: Pupil
    produced_on: date
    markdown: str
    left_out: LeftOut = field(default_factory=LeftOut)


def of_name(name: str) -> str:
    """'de Nour Huet', "d'Anaïs Aubert": French elides before a vowel."""
    return f"d'{name}" if fold(name[:1]) in set("aeiouy") else f"de {name}"


# -- finding the pupil ------------------------------------------------------------------------------

def find_pupil(store, reference: str) -> Pupil:
    """The pupil of this id, or of the case of this number (2026-0042)."""
    reference = reference.strip()
    if _CASE_NUMBER.match(reference):
        case = store.get_case_by_number(reference)
        if case is None:
            raise ParentsAccessError(f"aucun dossier n° {reference} dans la base.")
        if case.pupil is None:
            raise ParentsAccessError(f"le dossier {reference} ne concerne pas un élève (objet : "
                                     f"{case.subject_kind.label.lower()}) : il n'y a pas de dossier d'élève à remettre.")
        pupil = case.pupil
    else:
        pupil = store.get_pupil(reference)
        if pupil is None:
            raise ParentsAccessError(f"aucun élève d'identifiant « {reference} » dans la base "
                                     "(donnez l'identifiant de l'élève ou le numéro d'un de ses dossiers, 2026-0042).")
    if pupil.pseudonymous:
        raise ParentsAccessError(
            f"l'élève {pupil.last_name} n'est connu·e de cette base que par un pseudonyme (identité effacée par la "
            "purge de conservation, ou restée à l'antenne qui a fait l'export) : il n'y a pas de dossier nominatif "
            "à remettre à une famille.")
    return pupil


# -- other children's names -------------------------------------------------------------------------

class OtherChildren:
    """Finds the full names of the base's other pupils in a text ('Lucas Martin', 'MARTIN
    Lucas', any case and accents), never a first or last name alone. A name the pupil shares
    with another (a homonym) stays: it is the pupil's own."""

    def __init__(self, names: Iterable[tuple[str, str]], own: Pupil) -> None:
        own_keys = {_name_key(own.first_name, own.last_name), _name_key(own.last_name, own.first_name)}
        self.keys = {key for last, first in names
                     for key in (_name_key(first, last), _name_key(last, first)) if key not in own_keys}
        self.longest = max((len(key) for key in self.keys), default=0)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where other children's names are in `text` (start, end), in order."""
        if not self.keys:
            return []
        words = [(fold(match.group()), match.start(), match.end()) for match in _WORD.finditer(text)]
        found, index = [], 0
        while index < len(words):
            length = self._name_at(words, index)
            if length:
                found.append((words[index][1], words[index + length - 1][2]))
            index += length or 1
        return found

    def _name_at(self, words: list[tuple[str, int, int]], index: int) -> int:
        """How many words from `index` make another child's name (0: none)."""
        for length in range(min(self.longest, len(words) - index), 1, -1):
            if tuple(word for word, _, _ in words[index:index + length]) in self.keys:
                return length
        return 0


def _name_key(*names: str) -> tuple[str, ...]:
    return tuple(fold(word) for name in names for word in _WORD.findall(name))


# -- Markdown ---------------------------------------------------------------------------------------

_INLINE_SIGNS = str.maketrans({sign: f"\\{sign}" for sign in "\\`*_[]<>|"})
_LINE_START = re.compile(r"^(\s*)(#|>|[-+](?=\s))", re.MULTILINE)
_NUMBERED_LINE = re.compile(r"^(\s*\d+)([.)])(?=\s)", re.MULTILINE)


def escape(text: str) -> str:
    """A typed text shown as it is: the signs Markdown would read escaped, and nothing else
    (the file stays readable as plain text)."""
    escaped = _LINE_START.sub(r"\1\\\2", str(text).translate(_INLINE_SIGNS))
    return _NUMBERED_LINE.sub(r"\1\\\2", escaped)


class TextCleaner:
    """Typed texts made ready for the family: other children's names replaced, Markdown signs
    escaped, lines kept."""

    def __init__(self, others: OtherChildren, left_out: LeftOut) -> None:
        self.others = others
        self.left_out = left_out

    def inline(self, text: str) -> str:
        """A short text on one line."""
        return self(" ".join(str(text).split()))

    def __call__(self, text: str) -> str:
        """A text of several lines (a line break kept as such)."""
        if str(text).strip() == PURGED_TEXT:
            return PURGED_FOR_FAMILY
        return "  \n".join(self._line(line) for line in str(text).strip().splitlines())

    def _line(self, line: str) -> str:
        pieces, last = [], 0
        for start, end in self.others.spans(line):
            pieces += [escape(line[last:start]), OTHER_CHILD_MARK]
            last = end
            self.left_out.other_children_names += 1
        pieces.append(escape(line[last:]))
        return "".join(pieces)


# -- the document -----------------------------------------------------------------------------------

@dataclass
class _Sources:
    """What the document reads of the base, once."""

    store: object
    members: dict[str, Member]
    clean: TextCleaner
    left_out: LeftOut


def build_document(store, pupil: Pupil, produced_on: date) -> ParentsDocument:
    """The pupil's file, in French Markdown, for the family."""
    left_out = LeftOut()
    others = OtherChildren(other_pupil_names(store, pupil.id), pupil)
    sources = _Sources(store, {member.id: member for member in store.list_members()},
                       TextCleaner(others, left_out), left_out)
    cases = store.cases_of_pupil(pupil.id)
    lines = [*_title(store, pupil, produced_on), *_identity(store, pupil, cases)]
    for case in cases:
        lines += _case_section(sources, case)
    if not cases:
        lines += ["", "Aucune demande d'aide ne concerne cet·te élève."]
    lines += _what_is_not_here(left_out)
    return ParentsDocument(pupil, produced_on, "\n".join(lines) + "\n", left_out)


def _title(store, pupil: Pupil, produced_on: date) -> list[str]:
    settings = store.settings()
    where = " — ".join(part for part in (
        f"circonscription {settings.circonscription}" if settings.circonscription else "",
        f"antenne {settings.antenna}" if settings.antenna else "") if part)
    return [
        f"# Dossier RASED {of_name(escape(pupil.full_name))}", "",
        f"Document établi le {format_french_date(produced_on)} par le RASED"
        + (f" ({escape(where)})" if where else "") + ", à la demande de la famille (droit d'accès aux "
        "données personnelles, article 15 du RGPD).", "",
        "Il reprend ce que le logiciel de suivi du RASED enregistre sur votre enfant : son identité, "
        "chaque demande d'aide qui le ou la concerne, les étapes de son suivi, les aides spécialisées "
        "et leurs évaluations.",
    ]


def _identity(store, pupil: Pupil, cases: list[Case]) -> list[str]:
    lines = ["", "## L'élève", "", f"- **Nom** : {escape(pupil.last_name)}", f"- **Prénom** : {escape(pupil.first_name)}"]
    if pupil.pseudonymous:
        lines.append("- **Date de naissance** : non connue de cette base (élève connu·e par un pseudonyme)")
    else:
        lines.append(f"- **Date de naissance** : {format_french_date(pupil.birth_date)}")
    for case in cases:
        lines.append(f"- **En {case.school_year}** : {escape(_school_name(store, case.school_id))}, "
                     f"{_levels(case)} (demande n° {case.number})")
    return lines


def _school_name(store, school_id: str) -> str:
    school = store.get_school(school_id)
    if school is None:
        return "école inconnue"
    return school.name + (f" ({school.commune})" if school.commune else "")


def _levels(case: Case) -> str:
    levels = "-".join(level.value for level in case.levels) or "niveau non précisé"
    return levels + (f", dispositif {case.dispositif.label}" if case.dispositif else "")


def _yes_no(value: bool | None) -> str:
    return "non précisé" if value is None else "oui" if value else "non"


def _case_section(sources: _Sources, case: Case) -> list[str]:
    entries = sources.store.list_entries(case.id, include_confidential=False)
    sources.left_out.confidential_notes += sources.store.count_confidential_entries(case.id)
    lines = ["", f"## Demande d'aide n° {case.number} (année scolaire {case.school_year})", ""]
    lines += _request_fields(sources, case)
    lines += ["", "**Difficultés rencontrées** (description de la demande) :", "", sources.clean(case.description)]
    lines += _steps(sources, case, entries)
    lines += _aids(sources, sources.store.list_aids(case.id))
    return lines


def _request_fields(sources: _Sources, case: Case) -> list[str]:
    clean = sources.clean.inline
    received = f" ; reçue le {format_french_date(case.date_received)}" if case.date_received else ""
    motifs = ", ".join(motif.label for motif in case.motifs) + (f" ({clean(case.other_motif)})" if case.other_motif else "")
    fields = [
        ("État du dossier", sources.store.case_status(case.id).label),
        ("Demande envoyée le", format_french_date(case.date_sent) + received + (" ; urgente" if case.urgent else "")),
        ("Demandée par", case.requester.label + (f" ({clean(case.requester_detail)})" if case.requester_detail else "")),
        ("Enseignant·e", clean(case.teacher_name) or "non précisé"),
        ("École", escape(_school_name(sources.store, case.school_id))),
        ("Niveau", _levels(case)),
        ("Élève en situation de handicap", _yes_no(case.handicap)),
        ("Présence d'un AESH/AVS", _yes_no(case.aesh)),
        ("Motifs", motifs),
    ]
    if case.prior_actions:
        fields.append(("Ce que l'école avait déjà mis en place", ", ".join(
            item.action.label + (f" ({clean(item.detail)})" if item.detail else "") for item in case.prior_actions)))
    if case.parents_informed_on:
        fields.append(("Parents informés de la demande le", format_french_date(case.parents_informed_on)))
    return [f"- **{label}** : {value}" for label, value in fields]


# -- steps ------------------------------------------------------------------------------------------

def _steps(sources: _Sources, case: Case, entries: list[TimelineEntry]) -> list[str]:
    lines = ["", "### Les étapes du suivi"]
    if not entries:
        return lines + ["", "Aucune étape enregistrée après la demande."]
    meetings = _meeting_labels(sources.store, entries)
    shared = _shared_action_ids(sources.store, entries)
    aids = {aid.id: aid for aid in sources.store.list_aids(case.id)}
    for entry in entries:
        lines += ["", _step_heading(sources, entry, meetings, aids)]
        lines += _step_body(sources, entry, entry.action_id in shared)
    return lines


def _meeting_labels(store, entries: list[TimelineEntry]) -> dict[str, str]:
    """The meetings the steps were decided at, by their date only: never their notes, which
    speak of other children."""
    ids = {entry.meeting_id for entry in entries if entry.meeting_id}
    if not ids:
        return {}
    return {meeting_id: f"réunion du pôle ressource du {format_french_date(meeting.date)}"
            for meeting_id, meeting in store.get_meetings(ids).items()}


def _shared_action_ids(store, entries: list[TimelineEntry]) -> set[str]:
    """The collective actions (formation ciblée) that serve other cases too."""
    ids = {entry.action_id for entry in entries if entry.action_id}
    if not ids:
        return set()
    return {action.action_id for action in store.shared_actions(ids) if len(action.case_numbers) > 1}


def _step_heading(sources: _Sources, entry: TimelineEntry, meetings: dict[str, str], aids: dict[str, Aid]) -> str:
    details = [_sub_kind_label(entry)]
    if entry.interlocutor:
        details.append(entry.interlocutor.label)
    if entry.partner:
        details.append(Partner(entry.partner).label)
    if entry.aid_id in aids:
        details.append(_lower_first(aids[entry.aid_id].kind.label))
    if entry.to_school_year:
        details.append(f"vers l'année {entry.to_school_year}")
    if entry.meeting_id in meetings:
        details.append(meetings[entry.meeting_id])
    who = _member_names(sources.members, entry.member_ids)
    heading = f"**{format_french_date(entry.date)} — {entry.kind.label}**"
    return " — ".join([heading, *(detail for detail in details if detail)]) + (f" ({who})" if who else "")


def _sub_kind_label(entry: TimelineEntry) -> str:
    if entry.kind is EntryKind.CLOTURE and entry.sub_kind:
        return f"issue : {ClosureOutcome(entry.sub_kind).label.lower()}"
    return SUB_KIND_LABELS.get(entry.sub_kind or "", "")


def _member_names(members: dict[str, Member], member_ids: list[str]) -> str:
    """The members of a step, by name (the base keeps them in no order)."""
    known = sorted((members[member_id] for member_id in member_ids if member_id in members),
                   key=lambda member: (fold(member.last_name), fold(member.first_name)))
    unknown = [None] * (len(member_ids) - len(known))
    return " ; ".join(_member_name(member) for member in [*known, *unknown])


def _member_name(member: Member | None) -> str:
    if member is None:
        return "membre du pôle"
    return escape(member.full_name) + f", {RASED_ROLES.get(member.role) or _lower_first(member.role.label)}"


def _lower_first(label: str) -> str:
    """'Conseiller·ère pédagogique (CPC)' -> 'conseiller·ère...'; an acronym (IEN) stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _step_body(sources: _Sources, entry: TimelineEntry, shared: bool) -> list[str]:
    lines = []
    if entry.aids_called:
        lines.append("Aides du RASED demandées : " + ", ".join(_lower_first(kind.label) for kind in entry.aids_called) + ".")
    if shared:
        sources.left_out.shared_texts += 1
        lines.append(SHARED_TEXT_MARK)
    elif entry.text.strip():
        lines.append(sources.clean(entry.text))
    if entry.follow_up.strip():
        lines.append("Suite donnée : " + sources.clean(entry.follow_up))
    return [line for paragraph in lines for line in ("", paragraph)]


# -- aids -------------------------------------------------------------------------------------------

def _aids(sources: _Sources, aids: list[Aid]) -> list[str]:
    if not aids:
        return []
    lines = ["", "### Les aides spécialisées du RASED"]
    for aid in aids:
        lines += _aid_section(sources, aid, sources.store.list_evaluations(aid.id))
    return lines


def _aid_section(sources: _Sources, aid: Aid, evaluations: list[AidEvaluation]) -> list[str]:
    clean = sources.clean
    giver = sources.members.get(aid.member_id)
    lines = ["", f"#### {aid.kind.label}, par {_member_name(giver)}", ""]
    lines.append(f"- **Modalité** : {aid.modality.label}" + _rhythm(aid))
    lines.append(f"- **Accord de la famille** : {_consent(aid, clean)}")
    lines.append(f"- **Dates** : {_aid_dates(aid)}")
    if aid.end_note.strip():
        lines.append(f"- **Commentaire de fin** : {clean.inline(aid.end_note)}")
    if aid.objectives.strip():
        lines += ["", "**Objectifs** :", "", clean(aid.objectives)]
    lines += _evaluations(clean, evaluations, "estime de soi " if aid.kind is AidKind.PSY else "")
    return lines


def _rhythm(aid: Aid) -> str:
    if not aid.sessions_per_week:
        return ""
    sessions = f"{aid.sessions_per_week:g}".replace(".", ",")
    return f", {sessions} séance{'s' if aid.sessions_per_week >= 2 else ''} par semaine"


def _consent(aid: Aid, clean: TextCleaner) -> str:
    parts = [aid.consent_status.label.lower()]
    if aid.consent_form:
        parts.append(CONSENT_FORMS[aid.consent_form])
    if aid.consent_date:
        parts.append(f"le {format_french_date(aid.consent_date)}")
    if aid.consent_by.strip():
        parts.append(f"({clean.inline(aid.consent_by)})")
    text = " ".join(parts)
    if aid.consent_withdrawn_on:
        text += f" ; retiré le {format_french_date(aid.consent_withdrawn_on)}"
    return text


def _aid_dates(aid: Aid) -> str:
    text = f"depuis le {format_french_date(aid.start_date)}"
    if aid.expected_weeks:
        text += f", durée prévue {count(aid.expected_weeks, 'semaine')}"
    if aid.end_date:
        text = (f"du {format_french_date(aid.start_date)} au {format_french_date(aid.end_date)} "
                f"({aid.end_reason.label.lower()})")
    return text


def _evaluations(clean: TextCleaner, evaluations: list[AidEvaluation], measured: str) -> list[str]:
    """Each evaluation on a line; `measured` names what the score measures (the psychologist's:
    self-esteem)."""
    if not evaluations:
        return []
    lines = ["", "**Évaluations** :", ""]
    for evaluation in evaluations:
        score = f", {measured}{evaluation.score}/10" if evaluation.score is not None else ""
        observations = f" : {clean.inline(evaluation.observations)}" if evaluation.observations.strip() else ""
        lines.append(f"- {format_french_date(evaluation.date)} ({evaluation.phase.label.lower()}{score}){observations}")
    return lines


# -- the end ------------------------------------------------------------------------------------------

def _what_is_not_here(left_out: LeftOut) -> list[str]:
    lines = [
        "", "## À savoir", "",
        "Ce document ne contient pas :", "",
        "- les notes de travail personnelles des psychologues, qui restent confidentielles ;",
        f"- ce qui concerne d'autres enfants ou d'autres familles : le nom d'un autre enfant est remplacé "
        f"par {OTHER_CHILD_MARK}, et le texte d'une action menée pour plusieurs élèves n'est pas reproduit ;",
        "- les comptes rendus des réunions du pôle ressource (seule leur date est indiquée) ;",
        "- le journal technique des modifications de la base.",
    ]
    if left_out.anything:
        lines += ["", "Dans ce dossier, certains éléments ont été retirés pour ces raisons."]
    lines += ["", "Pour toute question, ou pour demander qu'une information soit corrigée, adressez-vous "
              "au RASED ou à l'inspection de la circonscription."]
    return lines


# -- the file -----------------------------------------------------------------------------------------

def file_stem(pupil: Pupil, day: date) -> str:
    """'dossier-dupre-helene-2026-11-21': the pupil's names without accents, and the day."""
    names = re.sub(r"[^a-z0-9]+", "-", fold(f"{pupil.last_name} {pupil.first_name}")).strip("-")
    return f"dossier-{names or 'eleve'}-{day.isoformat()}"


def write_document(document: ParentsDocument, path: Path) -> Path:
    """Write the document at `path`, owner-only, complete or not at all; never over a file."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise ParentsAccessError(f"{path} est un dossier : donnez le nom du fichier à créer.")
    if not path.parent.is_dir():
        raise ParentsAccessError(f"{path.parent} n'existe pas ou n'est pas un dossier.")
    if path.exists():
        raise _already_there(path)
    partial = write_partial(path, document.markdown.encode("utf-8"))
    try:
        _publish(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def _already_there(path: Path) -> FileAlreadyThere:
    return FileAlreadyThere(f"{path} existe déjà : choisissez un autre nom de fichier (rien n'a été écrit).")


def _publish(partial: Path, path: Path) -> None:
    """Give the complete hidden file its name, unless a file has it (even one that appeared
    just now)."""
    try:
        linked = claim_name(partial, path)
    except FileExistsError:
        raise _already_there(path) from None
    if linked:
        return
    try:
        os.replace(partial, path)  # over the empty private file `claim_name` reserved
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def write_into_folder(document: ParentsDocument, folder: Path) -> Path:
    """Write the document into `folder` as `dossier-<nom>-<prénom>-<date>.md` (-2, -3... when
    taken)."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ParentsAccessError(f"{folder} n'existe pas ou n'est pas un dossier : la clé USB est-elle branchée ?")
    for name in _candidate_names(file_stem(document.pupil, document.produced_on)):
        try:
            return write_document(document, folder / name)
        except FileAlreadyThere:
            continue
    raise ParentsAccessError(f"Trop de fichiers du même nom dans {folder}.")


def _candidate_names(stem: str) -> Iterator[str]:
    yield f"{stem}.md"
    for attempt in range(2, 100):
        yield f"{stem}-{attempt}.md"

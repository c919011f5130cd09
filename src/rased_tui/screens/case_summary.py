"""A case at a glance, read-only (`enter` on the list): the request and its timeline.

The full case screen, with its steps one keystroke away, is the timeline issue's; this one
already shows everything recorded, in French, oldest step first.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from rased_tui.domain.calendar import format_french_date
from rased_tui.domain.enums import ClosureOutcome, EntryKind, FirstResponse, SecondResponse, SubjectKind
from rased_tui.domain.models import Case, TimelineEntry

SUB_KIND_LABELS = {kind: {member.value: member.label for member in enum}
                   for kind, enum in ((EntryKind.PREMIERE_INTENTION, FirstResponse),
                                      (EntryKind.SECONDE_INTENTION, SecondResponse),
                                      (EntryKind.CLOTURE, ClosureOutcome))}


class CaseSummaryScreen(ModalScreen[str | None]):
    """The request and the timeline of one case, to read. `escape` closes; `e` closes asking
    the list to edit the request (dismisses with "edit")."""

    CSS_PATH = "case_summary.tcss"
    BINDINGS = [
        Binding("escape", "close", "Fermer", id="close"),
        Binding("q", "close", "Fermer", show=False, id="close_q"),
        Binding("e", "edit", "Modifier la demande", id="edit"),
    ]
    HELP = ("**Dossier** — la demande et sa chronologie, en lecture. `e` modifie la demande, "
            "`échap` revient à la liste. En lecture seule, les notes confidentielles sont masquées.")

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="summary-dialog"):
            yield Markdown(self._text(), id="summary-text")

    def _text(self) -> str:
        store = self.app.store
        case = store.get_case(self.case_id)
        if case is None:
            return "Dossier introuvable."
        school = store.get_school(case.school_id)
        members = {member.id: member.full_name for member in store.list_members()}
        # the IEN's read-only review never shows the psychologist's confidential notes
        entries = store.list_entries(case.id, include_confidential=not store.read_only)
        return request_markdown(case, school.name if school else "?", store.case_status(case.id).label) + \
            timeline_markdown(entries, members)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.dismiss("edit")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action == "edit" and self.app.store.read_only)


_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~")


def md(text: str) -> str:
    """A text typed by a person, shown as it is: every Markdown sign escaped."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in str(text))


def request_markdown(case: Case, school_name: str, status_label: str) -> str:
    """The request as annexe 1 lays it out, one line per field."""
    urgent = " — urgente" if case.urgent else ""
    fields = [("Statut", status_label)]
    if case.subject_kind is SubjectKind.ELEVE and case.pupil is not None:
        fields.append(("Élève", f"{case.pupil.full_name}, né·e le {format_french_date(case.pupil.birth_date)}"))
        extras = [label for flag, label in ((case.handicap, "situation de handicap"), (case.aesh, "AESH/AVS")) if flag]
        if case.dispositif:
            extras.append(case.dispositif.label)
        if extras:
            fields.append(("Particularités", ", ".join(extras)))
    else:
        fields.append(("Objet", f"{case.subject_kind.label} — {case.subject_label}"))
    motifs = ", ".join(motif.label for motif in case.motifs) + (f" ({case.other_motif})" if case.other_motif else "")
    fields += [
        ("Niveau", "-".join(level.value for level in case.levels) or "—"),
        ("Enseignant·e", case.teacher_name or "—"),
        ("École", school_name),
        ("Demandeur", case.requester.label + (f" ({case.requester_detail})" if case.requester_detail else "")),
        ("Envoyée le", format_french_date(case.date_sent)),
        ("Reçue le", format_french_date(case.date_received) or "—"),
        ("Motifs", motifs),
    ]
    if case.prior_actions:
        fields.append(("Actions déjà menées", ", ".join(
            item.action.label + (f" ({item.detail})" if item.detail else "") for item in case.prior_actions)))
    if case.parents_informed_on:
        fields.append(("Parents informés le", format_french_date(case.parents_informed_on)))
    lines = [f"# Dossier {case.number}{urgent}", ""]
    lines += [f"- **{label}** : {md(value)}" for label, value in fields]
    description = "  \n".join(md(line) for line in case.description.splitlines())
    lines += ["", "**Difficultés rencontrées** (description factuelle) :", "", description, ""]
    return "\n".join(lines)


def timeline_markdown(entries: list[TimelineEntry], members: dict[str, str]) -> str:
    if not entries:
        return "\n## Chronologie\n\nAucune étape pour l'instant.\n"
    lines = ["", "## Chronologie", ""]
    for entry in entries:
        kind = entry.kind.label
        sub = SUB_KIND_LABELS.get(entry.kind, {}).get(entry.sub_kind or "")
        heading = f"{kind} — {sub}" if sub else kind
        who = ", ".join(members.get(member_id, "?") for member_id in entry.member_ids)
        secret = " *(confidentiel)*" if entry.confidential else ""
        text = " ".join(md(line) for line in entry.text.splitlines())
        lines.append(f"- **{format_french_date(entry.date)}** · {heading}{secret}"
                     + (f" · {md(who)}" if who else "") + (f" — {text}" if text else ""))
    return "\n".join(lines) + "\n"

"""The case screen (`enter` on the list): the request, the aids and the timeline of one case.

At the top, the request in one line (`d` shows all of it), the aids with their progression at a
glance, and the step that makes sense next. Below, the timeline, oldest first: the request,
each step with its date, members and text, each evaluation of an aid and each end of an aid.
Each step is one key away (see HELP) or chosen from a menu (`+`); `e` edits and `suppr`
deletes the line under the cursor (the request itself is edited, never deleted); `j` shows
the case's journal; `x` writes the pupil's file for the family (screens/parents_access.py). In
read-only mode every editing key is hidden and confidential notes too (`x` stays: it writes
outside the base and never holds confidential notes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial

from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, OptionList, Static
from textual.widgets.option_list import Option

from rased_tui.domain.calendar import format_french_date, today
from rased_tui.domain.enums import (
    AidKind,
    ClosureOutcome,
    ConsentStatus,
    EntryKind,
    FirstResponse,
    Partner,
    SecondResponse,
    SubjectKind,
)
from rased_tui.domain.french import count
from rased_tui.domain.models import Aid, AidEvaluation, Case, TimelineEntry
from rased_tui.domain.timeline import Step, refusal, step_of, suggest_next_step
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.case_context import CaseContext, case_context
from rased_tui.store import StoreError
from rased_tui.widgets.quick_table import QuickTable

# The key of each step on the case screen.
STEP_KEYS = {
    Step.ANALYSE: "a", Step.PREMIERE_INTENTION: "p", Step.AIDE: "s", Step.AUTRE_REPONSE: "m",
    Step.ORIENTATION: "o", Step.EVALUATION: "v", Step.FIN_AIDE: "f", Step.BILAN: "b", Step.CLOTURE: "c",
    Step.REOUVERTURE: "r", Step.REPORT: "y", Step.NOTE: "t",
}
EDITING_ACTIONS = {"step", "steps_menu", "edit", "delete"}
REQUEST_ROW = "request"
SUB_KIND_LABELS = {kind: {member.value: member.label for member in enum}
                   for kind, enum in ((EntryKind.PREMIERE_INTENTION, FirstResponse),
                                      (EntryKind.SECONDE_INTENTION, SecondResponse),
                                      (EntryKind.CLOTURE, ClosureOutcome))}
# Shorter names of the responses, for the narrow "Détail" column.
SHORT_SUB_KIND = {
    FirstResponse.CONTACT.value: "Prise de contact",
    SecondResponse.AIDE_SPECIALISEE.value: "Aide spécialisée",
    SecondResponse.ACCOMPAGNEMENT_PROFESSIONNEL.value: "Accompagnement",
    SecondResponse.MUTUALISATION.value: "Mutualisation",
    SecondResponse.OBSERVATION_DISPOSITIF.value: "Observation de dispositifs",
    SecondResponse.ORIENTATION_PARTENAIRE.value: "Orientation",
}
SHORT_KIND = {
    EntryKind.ANALYSE: "Analyse", EntryKind.PREMIERE_INTENTION: "1re intention",
    EntryKind.SECONDE_INTENTION: "2de intention", EntryKind.BILAN: "Bilan", EntryKind.CLOTURE: "Clôture",
    EntryKind.REOUVERTURE: "Réouverture", EntryKind.REPORT: "Report", EntryKind.NOTE: "Note",
}
# (label, width) of the columns; "Texte" takes the width that is left (at least TEXT_MIN_WIDTH).
COLUMNS = (("Date", 10), ("Étape", 13), ("Détail", 28), ("Membres", 16))
NARROW_COLUMNS = (("Date", 10), ("Étape", 13), ("Détail", 20), ("Membres", 12))  # under 100 columns
TEXT_MIN_WIDTH = 12
SPARK = "▁▂▃▄▅▆▇█"


# -- texts ------------------------------------------------------------------------------------

_MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~")


def md(text: str) -> str:
    """A text typed by a person, shown as it is: every Markdown sign escaped."""
    return "".join(f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in str(text))


def request_markdown(case: Case, school_name: str) -> str:
    """The request as annexe 1 lays it out, one line per field."""
    fields = []
    if case.subject_kind is SubjectKind.ELEVE and case.pupil is not None:
        if case.pupil.pseudonymous:
            fields.append(("Élève", f"{case.pupil.last_name} (pseudonyme : identité restée à l'antenne qui a fait "
                                    "l'export, ou effacée par la purge de conservation)"))
        else:
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
        ("Urgente", "oui" if case.urgent else "non"),
        ("Motifs", motifs),
    ]
    if case.prior_actions:
        fields.append(("Actions déjà menées", ", ".join(
            item.action.label + (f" ({item.detail})" if item.detail else "") for item in case.prior_actions)))
    if case.parents_informed_on:
        fields.append(("Parents informés le", format_french_date(case.parents_informed_on)))
    lines = [f"- **{label}** : {md(value)}" for label, value in fields]
    description = "  \n".join(md(line) for line in case.description.splitlines())
    lines += ["", "**Difficultés rencontrées** (description factuelle) :", "", description]
    return "\n".join(lines)


def progression(evaluations: list[AidEvaluation]) -> str:
    """The scores of an aid's evaluations, readable at a glance: '3 → 5 → 8 ▃▅█'."""
    scores = [evaluation.score for evaluation in evaluations if evaluation.score is not None]
    if not scores:
        return "pas encore évaluée" if not evaluations else count(len(evaluations), "évaluation")
    marks = "".join(SPARK[round(score * (len(SPARK) - 1) / 10)] for score in scores)
    return f"{' → '.join(f'{score}/10' for score in scores)}  {marks}"


def aid_line(aid: Aid, context: CaseContext, evaluations: list[AidEvaluation]) -> str:
    giver = context.member(aid.member_id)
    parts = [f"Aide {aid.kind.value}", giver.full_name if giver else "?", aid.modality.label.lower()]
    if aid.sessions_per_week:
        sessions = f"{aid.sessions_per_week:g}".replace(".", ",")
        parts.append(f"{sessions} séance{'s' if aid.sessions_per_week >= 2 else ''}/sem.")
    if aid.consent_status is not ConsentStatus.DONNE:
        parts.append(f"accord {aid.consent_status.label.lower()} — non commencée")
    elif aid.is_open:
        weeks = max(0, (today() - aid.start_date).days // 7)
        planned = f" sur {aid.expected_weeks}" if aid.expected_weeks else ""
        parts.append(f"depuis le {format_french_date(aid.start_date)} ({weeks} sem.{planned})")
    else:
        parts.append(f"{format_french_date(aid.start_date)} → {format_french_date(aid.end_date)} "
                     f"({aid.end_reason.label.lower()})")
    label = "estime de soi" if aid.kind is AidKind.PSY else "progrès"
    parts.append(f"{label} : {progression(evaluations)}")
    return " · ".join(parts)


# -- the rows of the timeline ---------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineRow:
    key: str  # 'request', 'entry:<id>', 'evaluation:<id>', 'aidend:<id>'
    day: date
    rank: tuple  # order among the rows of the same day
    cells: tuple[str, str, str, str, str]
    full_text: str  # what `enter` shows


def timeline_rows(context: CaseContext, linked: dict[str, str]) -> list[TimelineRow]:
    """Every line of the timeline, oldest first. `linked` names the meetings and the shared
    actions the steps refer to, by id."""
    case = context.case
    names = {member.id: member.last_name for member in context.members}
    rows = [TimelineRow(REQUEST_ROW, case.date_sent, (0,), (
        format_french_date(case.date_sent), "Demande", case.requester.label + (" — urgente" if case.urgent else ""),
        "", _first_line(case.description)), case.description)]
    aids = {aid.id: aid for aid in context.aids}
    for entry in context.entries:
        detail = _entry_detail(entry, aids, linked)
        who = ", ".join(names.get(member_id, "?") for member_id in entry.member_ids)
        text = ("🔒 confidentiel — " if entry.confidential else "") + _first_line(entry.text)
        if entry.follow_up:
            text += f" — suivi : {_first_line(entry.follow_up)}"
        rows.append(TimelineRow(f"entry:{entry.id}", entry.date, (1, entry.created_at or "", 0, entry.id), (
            format_french_date(entry.date), SHORT_KIND[entry.kind], detail, who, text),
            entry.text + (f"\n\nSuivi : {entry.follow_up}" if entry.follow_up else "")))
    for aid in context.aids:
        giver = names.get(aid.member_id, "?")
        for evaluation in context.evaluations.get(aid.id, []):
            score = f"{evaluation.score}/10 · " if evaluation.score is not None else ""
            rank = (1, context.recorded.get(evaluation.id, ""), 1, evaluation.id)
            rows.append(TimelineRow(f"evaluation:{evaluation.id}", evaluation.date, rank, (
                format_french_date(evaluation.date), "Évaluation",
                f"{score}{evaluation.phase.label.lower()} · aide {aid.kind.value}", giver,
                _first_line(evaluation.observations)), evaluation.observations))
        if aid.end_date is not None:
            rank = (1, context.recorded.get(aid.id, ""), 2, aid.id)
            rows.append(TimelineRow(f"aidend:{aid.id}", aid.end_date, rank, (
                format_french_date(aid.end_date), "Fin d'aide", f"Aide {aid.kind.value} · {aid.end_reason.label}",
                giver, _first_line(aid.end_note)), aid.end_note))
    return sorted(rows, key=lambda row: (row.day, row.rank))


def _entry_detail(entry: TimelineEntry, aids: dict[str, Aid], linked: dict[str, str]) -> str:
    parts = []
    sub = SUB_KIND_LABELS.get(entry.kind, {}).get(entry.sub_kind or "")
    if entry.kind is not EntryKind.CLOTURE:
        sub = SHORT_SUB_KIND.get(entry.sub_kind or "", sub)
    if sub:
        parts.append(sub)
    if entry.interlocutor:
        parts.append(entry.interlocutor.label)
    if entry.partner:
        parts.append(Partner(entry.partner).label)
    if entry.aid_id and entry.aid_id in aids:
        aid = aids[entry.aid_id]
        parts.append(f"aide {aid.kind.value}" + ("" if entry.kind is EntryKind.BILAN else f", {aid.modality.label.lower()}"))
    if entry.meeting_id:
        parts.append(linked.get(entry.meeting_id, "réunion"))
    elif entry.kind is EntryKind.ANALYSE:
        parts.append("synthèse du RASED")
    if entry.aids_called:
        parts.append("aide " + "+".join(kind.value for kind in entry.aids_called) + " demandée")
    if entry.to_school_year:
        parts.append(f"vers {entry.to_school_year}")
    if entry.action_id:
        parts.append(linked.get(entry.action_id, "action partagée"))
    return " · ".join(parts)


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0]


# -- dialogs ------------------------------------------------------------------------------------

class StepMenu(ModalScreen[Step | None]):
    """Every step, the suggested one first; a refused one says why. `enter` or its key picks."""

    BINDINGS = [Binding("escape", "close", "Fermer", id="menu_close")] + [
        Binding(key, f"pick('{step.value}')", step.label, show=False, id=f"menu_{step.value}")
        for step, key in STEP_KEYS.items()]

    def __init__(self, context: CaseContext, suggested: Step | None) -> None:
        super().__init__()
        self.context = context
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        options = []
        first = [self.suggested] if self.suggested else []
        for step in [*first, *[step for step in STEP_KEYS if step is not self.suggested]]:
            problem = refusal(step, self.context.status)
            mark = "  ← suggérée" if step is self.suggested else ""
            why = f"  ({problem})" if problem else ""
            options.append(Option(f"{STEP_KEYS[step]}  {step.label}{mark}{why}", id=step.value,
                                  disabled=problem is not None))
        with VerticalScroll(id="step-menu"):
            yield Static("Ajouter une étape", id="step-menu-title")
            yield OptionList(*options, id="step-menu-options")

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Step(event.option.id))

    def action_pick(self, code: str) -> None:
        self.dismiss(Step(code))

    def action_close(self) -> None:
        self.dismiss(None)


class TextDialog(ModalScreen[None]):
    """A text to read in full (the request, a line of the timeline or of the journal);
    the arrows scroll it, `escape` closes."""

    BINDINGS = [Binding("escape", "close", "Fermer", id="text_close"),
                Binding("enter", "close", "Fermer", show=False, id="text_close_enter")]

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        from textual.widgets import Markdown  # its parser is imported when a text is first read

        with VerticalScroll(id="text-dialog"):
            yield Markdown(self.markdown, id="text-dialog-body")

    def action_close(self) -> None:
        self.dismiss(None)


# -- the screen -----------------------------------------------------------------------------------

class CaseScreen(Screen[None]):
    """One case: the request, the aids, the timeline, and a key for each step."""

    CSS_PATH = "case.tcss"
    BINDINGS = [
        Binding("plus", "steps_menu", "Étape", key_display="+", id="case_steps_menu"),
        Binding("e", "edit", "Modifier", id="case_edit"),
        Binding("delete", "delete", "Supprimer", key_display="suppr", id="case_delete"),
        Binding("d", "show_request", "Demande", id="case_request"),
        Binding("home", "first_line", "Première ligne", show=False, priority=True, id="case_first_line"),
        Binding("end", "last_line", "Dernière ligne", show=False, priority=True, id="case_last_line"),
        Binding("j", "journal", "Journal", id="case_journal"),
        # a rare need: in the help (F1) and the palette, not in a footer already full at 110 columns
        Binding("x", "parents_file", "Pour la famille", show=False, id="case_parents_file"),
        Binding("escape", "back", "Retour", id="case_back"),
    ] + [Binding(key, f"step('{step.value}')", step.label, show=False, id=f"case_step_{step.value}")
         for step, key in STEP_KEYS.items()]

    HELP = """\
**Dossier** — la demande (`d` la montre en entier), les aides en cours avec leur progression,
l'étape suggérée, puis la chronologie, de la plus ancienne à la plus récente.

| Touche | Étape à ajouter |
|---|---|
| `+` | menu de toutes les étapes (la suggérée en premier) |
| `a` | première analyse par l'équipe restreinte |
| `p` | réponse de 1re intention : prise de contact, observation en classe, entretien d'explicitation |
| `s` | aide spécialisée du RASED (E, G, psychologique) avec l'accord de la famille |
| `m` | autre réponse de 2de intention : accompagnement professionnel, mutualisation, observation de dispositifs, formation ciblée |
| `o` | orientation vers un partenaire (cellule EBEP, équipe TSA, ESMS, soins, CMS) |
| `v` | évaluation d'une aide (début, intermédiaire, fin) |
| `f` | fin d'une aide |
| `b` | bilan |
| `c` | clôture (les aides en cours prennent fin) |
| `r` | réouverture d'un dossier clôturé |
| `y` | report sur l'année scolaire suivante |
| `t` | note de suivi (confidentielle pour le ou la psychologue) |

| Touche | Action sur la ligne sélectionnée |
|---|---|
| `entrée` | lire la ligne en entier (la demande, une étape, une évaluation) |
| `début` / `fin` | première / dernière ligne |
| `e` | modifier (la demande, une étape, une évaluation, une fin d'aide) |
| `suppr` | supprimer, après confirmation (la demande ne se supprime pas) |
| `j` | journal : qui a modifié quoi et quand |
| `x` | dossier de l'élève pour sa famille (droit d'accès) : un fichier à imprimer, sans notes confidentielles ni ce qui concerne d'autres enfants |
| `échap` | revenir à la liste |

Un dossier clôturé n'accepte plus d'étape : rouvrez-le (`r`). Une étape sautée est signalée
sans bloquer. En lecture seule, rien ne se modifie et les notes confidentielles sont masquées.
"""

    def __init__(self, case_id: str) -> None:
        super().__init__()
        self.case_id = case_id
        self.context: CaseContext | None = None
        self.hidden_confidential = 0
        self._request_text = ""
        self._rows: dict[str, TimelineRow] = {}
        self._laid_out_for = 0  # the screen width the table's columns were made for

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="case-heading", markup=False)
        yield Static("", id="case-request", markup=False)
        yield Static("", id="case-aids", markup=False)
        yield Static("", id="case-next", markup=False)
        yield QuickTable(id="timeline", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        if self.reload():
            table.move_cursor(row=table.row_count - 1)
        table.focus()

    # -- reading --------------------------------------------------------------------------

    def reload(self) -> bool:
        """Read the case again and show it (after each save). False when it is gone."""
        store = self.app.store
        try:
            case = store.get_case(self.case_id)
            if case is None:
                self.notify("Ce dossier n'existe plus.", severity="error")
                self.dismiss(None)
                return False
            # the IEN's read-only review never shows the psychologist's confidential notes
            entries = store.list_entries(case.id, include_confidential=not store.read_only)
            self.hidden_confidential = store.count_confidential_entries(case.id) if store.read_only else 0
            self.context = case_context(store, case, entries)
            school = store.get_school(case.school_id)
            linked = self._linked_labels(entries)
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return False
        self._show_heading(school.name if school else "?")
        self._request_text = f"# Demande {case.number}\n\n" + request_markdown(case, school.name if school else "?")
        self._show_aids()
        self._show_next_step()
        self._fill_table(timeline_rows(self.context, linked))
        return True

    def _linked_labels(self, entries: list[TimelineEntry]) -> dict[str, str]:
        """Names of the meetings and of the shared actions (formation ciblée) of the steps,
        each read once for the whole timeline."""
        labels = {}
        if action_ids := {entry.action_id for entry in entries if entry.action_id}:
            for action in self.app.store.shared_actions(action_ids):
                others = [number for number in action.case_numbers if number != self.context.case.number]
                labels[action.action_id] = (f"avec {', '.join(others[:3])}{'…' if len(others) > 3 else ''}"
                                            if others else "action partagée")
        if meeting_ids := {entry.meeting_id for entry in entries if entry.meeting_id}:
            for meeting_id, meeting in self.app.store.get_meetings(meeting_ids).items():
                what = "urgence" if meeting.kind.value == "urgente" else "réunion"
                labels[meeting_id] = f"{what} du {format_french_date(meeting.date)}"
        return labels

    def _show_heading(self, school_name: str) -> None:
        context = self.context
        case = context.case
        level = "-".join(level.value for level in case.levels)
        years = " + ".join(context.years) if len(context.years) > 1 else case.school_year
        urgent = " · ⚠ urgente" if case.urgent else ""
        self.query_one("#case-heading", Static).update(
            f"Dossier {case.number} · {case.subject_label}" + (f" ({level})" if level else "")
            + f" · {school_name} · {years} · Statut : {context.status.label}{urgent}")
        self.query_one("#case-request", Static).update(
            f"Demande du {format_french_date(case.date_sent)} — {case.main_motif.label} — d : lire la demande")

    def _show_aids(self) -> None:
        context = self.context
        lines = [aid_line(aid, context, context.evaluations.get(aid.id, [])) for aid in context.aids]
        aids = self.query_one("#case-aids", Static)
        aids.update("\n".join(lines))
        aids.display = bool(lines)

    def _show_next_step(self) -> None:
        line = self.query_one("#case-next", Static)
        if self.app.store.read_only:
            hidden = self.hidden_confidential
            line.update(f"Lecture seule — {count(hidden, 'note confidentielle masquée', 'notes confidentielles masquées')}"
                        if hidden else "Lecture seule.")
            return
        suggestion = self._suggestion()
        if suggestion.step is None:
            line.update(f"→ {suggestion.reason[0].upper()}{suggestion.reason[1:]}.   + : toutes les étapes")
            return
        line.update(f"→ Étape suggérée : {suggestion.step.label} ({STEP_KEYS[suggestion.step]}) — "
                    f"{suggestion.reason}.   + : toutes les étapes")

    def _suggestion(self):
        context = self.context
        return suggest_next_step(context.status, context.entries, context.aids, context.evaluations,
                                 about_a_pupil=context.case.subject_kind is SubjectKind.ELEVE)

    def _fill_table(self, rows: list[TimelineRow]) -> None:
        """The timeline in the table, the text column as wide as the screen leaves it."""
        table = self.query_one(DataTable)
        selected = self.selected_key()
        table.clear(columns=True)
        columns = COLUMNS if self.size.width >= 100 else NARROW_COLUMNS
        for label, width in columns:
            table.add_column(label, width=width, key=label)
        padding = 2 * table.cell_padding * (len(columns) + 1) + 2  # and the scroll bar
        self._laid_out_for = self.size.width
        text_width = max(TEXT_MIN_WIDTH, self.size.width - sum(width for _, width in columns) - padding)
        table.add_column("Texte", width=text_width, key="Texte")
        self._rows = {row.key: row for row in rows}
        for row in rows:
            table.add_row(*row.cells, key=row.key)
        if selected in self._rows:
            table.move_cursor(row=table.get_row_index(selected))

    def on_resize(self) -> None:
        if self.context is not None and self.size.width != self._laid_out_for:
            self._fill_table(list(self._rows.values()))

    def selected_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    # -- steps ----------------------------------------------------------------------------

    def action_step(self, code: str) -> None:
        step = Step(code)
        problem = refusal(step, self.context.status)
        if problem:
            self.notify(problem, title=step.label, severity="error")
            return
        if step is Step.EVALUATION and not any(aid.consent_status is ConsentStatus.DONNE for aid in self.context.aids):
            self.notify("Aucune aide commencée avec l'accord de la famille : rien à évaluer.", severity="warning")
            return
        if step is Step.FIN_AIDE and not any(aid.is_open for aid in self.context.aids):
            self.notify("Aucune aide en cours dans ce dossier.", severity="warning")
            return
        from rased_tui.screens.steps import AidForm, EndAidForm, EntryForm, EvaluationForm

        forms: dict[Step, Callable[[], ModalScreen]] = {
            Step.AIDE: lambda: AidForm(self.context),
            Step.EVALUATION: lambda: EvaluationForm(self.context),
            Step.FIN_AIDE: lambda: EndAidForm(self.context),
        }
        form = forms.get(step, lambda: EntryForm(self.context, step))()
        self.app.push_screen(form, self._after_form)

    def action_steps_menu(self) -> None:
        suggestion = self._suggestion()

        def picked(step: Step | None) -> None:
            if step is not None:
                self.action_step(step.value)

        self.app.push_screen(StepMenu(self.context, suggestion.step), picked)

    def _after_form(self, saved: bool | None) -> None:
        if saved:
            before = self.context.status
            self.reload()
            if self.context.status is not before:
                self.notify(f"Statut du dossier : {self.context.status.label}.")
            self.query_one(DataTable).focus()

    # -- the line under the cursor --------------------------------------------------------

    @on(DataTable.RowSelected)
    def _read_line(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key == REQUEST_ROW:
            self.action_show_request()
            return
        row = self._rows.get(key)
        if row is not None:
            date_text, kind, detail, who, _ = row.cells
            heading = " · ".join(part for part in (date_text, kind, detail, who) if part)
            body = "  \n".join(md(line) for line in row.full_text.splitlines()) or "*(pas de texte)*"
            self.app.push_screen(TextDialog(f"## {md(heading)}\n\n{body}"))

    def action_show_request(self) -> None:
        """The whole request, in a dialog that scrolls (`d`, or `entrée` on its line)."""
        self.app.push_screen(TextDialog(self._request_text))

    def action_first_line(self) -> None:
        self.query_one(DataTable).move_cursor(row=0)

    def action_last_line(self) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=table.row_count - 1)

    def action_edit(self) -> None:
        key = self.selected_key()
        store = self.app.store
        if key is None:
            return
        if key == REQUEST_ROW:
            from rased_tui.screens.intake import IntakeScreen

            self.app.push_screen(IntakeScreen(self.context.case), lambda saved: self._after_form(saved is not None))
            return
        from rased_tui.screens.steps import AidForm, EndAidForm, EntryForm, EvaluationForm

        kind, record_id = key.split(":", 1)
        context = self.context
        if kind == "entry":
            entry = store.get_entry(record_id)
            step = step_of(entry)
            if step is Step.AIDE and entry.aid_id:
                form = AidForm(context, store.get_aid(entry.aid_id), entry)
            else:
                form = EntryForm(context, step, entry)
        elif kind == "evaluation":
            form = EvaluationForm(context, store.get_evaluation(record_id))
        else:
            form = EndAidForm(context, store.get_aid(record_id))
        self.app.push_screen(form, self._after_form)

    def action_delete(self) -> None:
        key = self.selected_key()
        if key is None:
            return
        if key == REQUEST_ROW:
            self.notify("La demande elle-même ne se supprime pas : modifiez-la (e) ou clôturez le dossier (c).",
                        severity="warning")
            return
        kind, record_id = key.split(":", 1)
        question, delete = self._deletion(kind, record_id)
        if question is None:
            return

        def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                message = delete()
            except StoreError as error:
                self.notify(str(error), title="Rien n'a été supprimé", severity="error")
                return
            self.notify(message)
            self._after_form(True)

        self.app.push_screen(ConfirmDialog(question), answered)

    def _deletion(self, kind: str, record_id: str) -> tuple[str | None, Callable[[], str]]:
        """The question to ask, and the deletion to run once the answer is yes (it returns
        what to tell). No question when the line cannot be deleted (the reason is shown)."""
        row = self._rows[f"{kind}:{record_id}"]
        if kind == "entry":
            return self._entry_deletion(record_id, row)
        if kind == "evaluation":
            return self._evaluation_deletion(record_id, row)
        return self._aid_end_deletion(record_id, row)

    def _entry_deletion(self, entry_id: str, row: TimelineRow) -> tuple[str | None, Callable[[], str]]:
        store = self.app.store
        entry = store.get_entry(entry_id)
        question = f"Supprimer l'étape « {row.cells[1]} » du {row.cells[0]}" + \
            (f" ({row.cells[2]})" if row.cells[2] else "") + " ?"
        if step_of(entry) is Step.AIDE and entry.aid_id:
            evaluations = len(self.context.evaluations.get(entry.aid_id, []))
            question += f"\nL'aide elle-même sera supprimée, avec {count(evaluations, 'évaluation')}."
        question += "\nLe journal du dossier en gardera la trace."

        def delete() -> str:
            store.delete_entry(entry_id)
            return "Étape supprimée."

        return question, delete

    def _evaluation_deletion(self, evaluation_id: str, row: TimelineRow) -> tuple[str | None, Callable[[], str]]:
        def delete() -> str:
            self.app.store.delete_evaluation(evaluation_id)
            return "Évaluation supprimée."

        return f"Supprimer l'évaluation du {row.cells[0]} ({row.cells[2]}) ?", delete

    def _aid_end_deletion(self, aid_id: str, row: TimelineRow) -> tuple[str | None, Callable[[], str]]:
        """Deleting the end of an aid resumes the aid."""
        store = self.app.store
        aid = store.get_aid(aid_id)
        if aid.consent_status is ConsentStatus.REFUSE:
            self.notify("Cette aide n'a jamais commencé (accord refusé) : il n'y a pas de fin à annuler.",
                        severity="warning")
            return None, str
        if not self.context.status.is_open:
            self.notify("Le dossier est clôturé : rouvrez-le d'abord (r) pour reprendre une aide.", severity="error")
            return None, str

        def resume() -> str:
            store.update_aid(aid.model_copy(update={"end_date": None, "end_reason": None, "end_note": "",
                                                    "consent_withdrawn_on": None}))
            return f"L'aide {aid.kind.value} reprend."

        return f"Annuler la fin de l'aide {aid.kind.value} du {row.cells[0]} ? L'aide reprend.", resume

    # -- the command palette ---------------------------------------------------------------

    def system_commands(self) -> Iterator[SystemCommand]:
        """Each step of this case, and its journal, as the palette offers them (the App asks
        the screen in front; not in read-only mode)."""
        for step, key in STEP_KEYS.items():
            yield SystemCommand(step.label, f"Ajouter au dossier en cours ({key})", partial(self.action_step, step.value))
        yield SystemCommand("Journal du dossier", "Qui a modifié quoi, et quand (j)", self.action_journal)
        if self.context is not None and self.context.case.pupil is not None:
            yield SystemCommand("Dossier pour la famille", "Le dossier de l'élève à remettre à sa famille (x)",
                                self.action_parents_file)

    # -- journal and leaving ---------------------------------------------------------------

    def action_journal(self) -> None:
        from rased_tui.screens.journal import JournalScreen

        self.app.push_screen(JournalScreen(self.context.case))

    def action_parents_file(self) -> None:
        """`x`: the pupil's file for the family who asks (RGPD right of access)."""
        pupil = self.context.case.pupil
        if pupil is None:
            self.notify("Ce dossier ne concerne pas un élève : il n'y a pas de dossier à remettre à une famille.",
                        severity="warning")
            return
        from rased_tui.screens.parents_access import ParentsAccessDialog

        self.app.push_screen(ParentsAccessDialog(pupil))

    def action_back(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """In read-only mode the editing keys are hidden (and do nothing)."""
        if action in EDITING_ACTIONS and self.app.store.read_only:
            return False
        return True

"""The journal of a case (`j` on the case screen): who added, changed or removed what, and
when — read from the audit log, oldest first; `enter` shows a line before and after."""

from __future__ import annotations

import json
from datetime import datetime

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from rased_tui.domain.models import Aid, AidEvaluation, Case, TimelineEntry
from rased_tui.screens.case import SHORT_KIND, TextDialog, md
from rased_tui.store import StoreError
from rased_tui.store.journal import JournalLine

ACTIONS = {"ajout": "Ajout", "modification": "Modification", "suppression": "Suppression", "purge": "Purge"}
TABLES = {"cases": "Demande", "timeline_entries": "Étape", "aids": "Aide", "aid_evaluations": "Évaluation"}
MODELS = {"cases": Case, "timeline_entries": TimelineEntry, "aids": Aid, "aid_evaluations": AidEvaluation}
COLUMNS = (("Quand", 16), ("Qui", 16), ("Quoi", 12), ("Élément", 22), ("Champs modifiés", 30))


def local_time(at: str) -> str:
    """A UTC timestamp of the log as the local 'JJ/MM/AAAA HH:MM'."""
    try:
        return datetime.fromisoformat(at).astimezone().strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return at


def field_title(table: str, name: str) -> str:
    """A column's French title when the model gives one, else its name."""
    model = MODELS.get(table)
    info = model.model_fields.get(name) if model else None
    return info.title if info is not None and info.title else name


def element(line: JournalLine) -> str:
    record = line.after or line.before or {}
    what = TABLES.get(line.table, line.table)
    if line.table == "timeline_entries" and record.get("kind"):
        kind = next((kind for kind in SHORT_KIND if kind.value == record["kind"]), None)
        what = f"Étape : {SHORT_KIND[kind]}" if kind else what
    elif line.table == "aids" and record.get("kind"):
        what = f"Aide {record['kind']}"
    return what


class JournalScreen(ModalScreen[None]):
    """Every change of one case, from the audit log."""

    CSS_PATH = "case.tcss"
    BINDINGS = [Binding("escape", "close", "Fermer", id="journal_close"),
                Binding("f1", "app.help", "Aide", key_display="F1", id="journal_help")]
    HELP = """\
**Journal du dossier** — chaque ajout, modification ou suppression, avec son auteur et son
heure. `entrée` montre la ligne avant et après ; `échap` revient au dossier. Le journal ne se
modifie pas : `rased-tui check` vérifie qu'il n'a pas été altéré.
"""

    def __init__(self, case: Case) -> None:
        super().__init__()
        self.case = case
        self.lines: list[JournalLine] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="journal-dialog"):
            yield Static(f"Journal du dossier {self.case.number}", id="journal-title", markup=False)
            yield DataTable(id="journal-table", cursor_type="row", zebra_stripes=True)
            yield Static("entrée : détail · échap : retour", id="journal-keys")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in COLUMNS:
            table.add_column(label, width=width, key=label)
        store = self.app.store
        try:
            # the IEN's read-only review never shows the psychologist's confidential notes
            self.lines = store.case_journal(self.case.id, include_confidential=not store.read_only)
            members = {f"membre:{member.id}": member.full_name for member in store.list_members()}
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        for index, line in enumerate(self.lines):
            who = members.get(line.actor) or line.actor.removeprefix("os:")
            changed = ", ".join(field_title(line.table, name) for name in line.changed_fields)
            table.add_row(local_time(line.at), who, ACTIONS.get(line.action, line.action), element(line), changed,
                          key=str(index))
        if not self.lines:  # a case loaded in bulk (demo, import) has one summary line in the audit log
            self.query_one("#journal-keys", Static).update(
                "Aucune modification depuis que ce dossier a été chargé (démonstration ou import) ; "
                "échap : retour")
        table.move_cursor(row=table.row_count - 1)
        table.focus()

    @on(DataTable.RowSelected)
    def _show_line(self, event: DataTable.RowSelected) -> None:
        line = self.lines[int(event.row_key.value)]
        parts = [f"## {md(ACTIONS.get(line.action, line.action))} — {md(element(line))}",
                 f"{md(local_time(line.at))}, {md(line.actor)}"]
        if line.action == "modification":
            for name in line.changed_fields:
                parts.append(f"- **{md(field_title(line.table, name))}** : {_value(line.before.get(name))} → "
                             f"{_value(line.after.get(name))}")
        else:
            record = line.after if line.action == "ajout" else line.before
            for name, value in (record or {}).items():
                if value not in (None, "", [], {}):
                    parts.append(f"- **{md(field_title(line.table, name))}** : {_value(value)}")
        if line.action == "purge":
            parts.append("*(identité et textes effacés : la durée de conservation du dossier était écoulée)*")
        elif line.before is None and line.after is None:
            parts.append("*(textes effacés par la purge de conservation)*")
        self.app.push_screen(TextDialog("\n\n".join(parts[:2]) + "\n\n" + "\n".join(parts[2:])))

    def action_close(self) -> None:
        self.dismiss(None)


def _value(value: object) -> str:
    if isinstance(value, (dict, list)):
        return md(json.dumps(value, ensure_ascii=False))
    return md(str(value)) if value not in (None, "") else "—"

"""The "Annuaire du pôle" screen (key 6): the members of the pôle ressource and the schools of
the circonscription, in two tables (`tab` switches, `m` members, `é` schools).

Members are listed by role (RASED first), then by name, those who left at the end of their
role, marked « inactif ». `n` adds, `e` or `entrée` edits, `d` deactivates (a member's last
day; a school no longer offered), `r` reactivates, `suppr` deletes a record typed by mistake
(refused, with the reason, when it holds history), `p` hands a leaving member's open aids to a
member of the same role, `j` shows who changed the record and when. Forms are in
directory_forms.py. In read-only mode the directory shows, every editing key is hidden.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Header, Static, TabbedContent, TabPane, Tabs

from rased_tui.domain.calendar import format_french_date, today
from rased_tui.domain.enums import PriorityEducation, Role, SchoolKind
from rased_tui.domain.french import count
from rased_tui.domain.models import Member, School, fold
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.directory_forms import EndOfOfficeForm, HandoverForm, MemberForm, SchoolForm
from rased_tui.store import StoreError
from rased_tui.store.directory import role_name
from rased_tui.store.journal import JournalLine

MEMBERS, SCHOOLS = "members", "schools"
# (label, width): what matters most first, so that 80 columns show name, role, state, aids.
MEMBER_COLUMNS = (("Nom", 22), ("Fonction", 18), ("État", 7), ("Aides", 5), ("Capacité", 8),
                  ("Depuis", 10), ("Jusqu'au", 10), ("Antenne", 20))
SCHOOL_COLUMNS = (("UAI", 8), ("École", 28), ("Commune", 16), ("État", 8), ("Type", 11), ("Éd. prio.", 9),
                  ("Dossiers", 8))
# Roles as the narrow "Fonction" column writes them (the form shows the full labels).
SHORT_ROLE = {Role.PSYCHOLOGUE: "Psychologue EN", Role.CPC: "CPC", Role.MAITRE_FORMATEUR: "Maître-formateur",
              Role.REFERENT_HANDICAP: "Réf. handicap", Role.ENSEIGNANT_UPE2A: "Enseignant·e UPE2A",
              Role.COORDO_PIAL: "Coordo. PIAL", Role.COORDO_ULIS: "Coordo. ULIS", Role.COORDO_REP_PLUS: "Coordo. REP+",
              Role.DIRECTEUR_REFERENT: "Dir. référent·e", Role.INFIRMIER: "Infirmier·ère",
              Role.ASSISTANT_SOCIAL: "Assistant·e social·e"}
EDITING_ACTIONS = {"new", "edit", "deactivate", "reactivate", "delete", "handover"}
ROLE_ORDER = {role: index for index, role in enumerate(Role)}


def member_state(member: Member) -> str:
    """'actif', 'inactif' (left) or 'à venir' (not yet in office), on today's date."""
    day = today()
    if member.active_to is not None and member.active_to < day:
        return "inactif"
    return "à venir" if member.active_from > day else "actif"


def member_order(member: Member) -> tuple:
    """By role (RASED first), those in office before those who left, then by name."""
    return (ROLE_ORDER[member.role], member_state(member) == "inactif", fold(member.last_name), fold(member.first_name))


def member_cells(member: Member, open_aids: int) -> tuple:
    state = member_state(member)
    cells = (f"{member.last_name} {member.first_name}", SHORT_ROLE.get(member.role, role_name(member.role)), state,
             str(open_aids) if member.role.is_rased or open_aids else "",
             str(member.capacity) if member.capacity else "", format_french_date(member.active_from),
             format_french_date(member.active_to), member.antenna)
    return _dimmed(cells) if state == "inactif" else cells


def school_cells(school: School, cases: int) -> tuple:
    priority = "" if school.priority_education is PriorityEducation.AUCUNE else school.priority_education.label
    cells = (school.uai, school.name, school.commune, "active" if school.active else "inactive", school.kind.label,
             priority, str(cases))
    return cells if school.active else _dimmed(cells)


def _dimmed(cells: tuple) -> tuple:
    """A past record: dimmed (its state column says it in words too)."""
    return tuple(Text(cell, style="dim") for cell in cells)


class DirectoryScreen(Screen[None]):
    """Annuaire du pôle: members and schools."""

    CSS_PATH = "directory.tcss"
    BINDINGS = [
        # tab shows the other table: one binding per table, the one in view disabled
        Binding("tab", "show_table('schools')", "Écoles", key_display="tab", id="directory_to_schools"),
        Binding("tab", "show_table('members')", "Membres", key_display="tab", id="directory_to_members"),
        Binding("m", "show_table('members')", "Membres", show=False, id="directory_members"),
        Binding("é", "show_table('schools')", "Écoles", show=False, id="directory_schools"),
        Binding("n", "new", "Ajouter", id="directory_new"),
        Binding("e", "edit", "Modifier", id="directory_edit"),
        Binding("d", "deactivate", "Désactiver", id="directory_deactivate"),
        Binding("r", "reactivate", "Réactiver", show=False, id="directory_reactivate"),
        Binding("p", "handover", "Passation", id="directory_handover"),
        Binding("delete", "delete", "Supprimer", key_display="suppr", id="directory_delete"),
        Binding("j", "journal", "Journal", id="directory_journal"),
        Binding("escape", "back", "Retour", show=False, id="directory_back"),
    ]
    HELP = """\
**Annuaire du pôle** — les membres du pôle ressource (RASED et circonscription) et les écoles.

| Touche | Action |
|---|---|
| `tab` | passer des membres aux écoles, et retour (ou `m` : membres, `é` : écoles) |
| `n` | ajouter un membre ou une école |
| `e` ou `entrée` | modifier la fiche sélectionnée |
| `d` | désactiver : fin de fonction d'un membre (son dernier jour), école qui n'est plus proposée |
| `r` | réactiver |
| `p` | passation : confier toutes les aides en cours d'un membre qui part à un membre de la même fonction |
| `suppr` | supprimer une fiche saisie par erreur (refusé si elle a un historique : désactivez-la) |
| `j` | journal de la fiche : qui l'a créée ou modifiée, et quand |
| `échap` | revenir à la liste des dossiers |

Un membre ou une école qui a un historique (dossiers, aides, étapes) ne se supprime jamais.
Lors d'une passation, les aides commencées se terminent à la date choisie (motif « passation »)
avec leurs évaluations et reprennent le même jour avec la personne choisie ; les aides pas encore
commencées lui sont confiées telles quelles. Une aide E est donnée par un maître E, une aide G
par un maître G, une aide psychologique par un·e psychologue : la fonction d'un membre qui a
donné des aides ne change plus. En lecture seule, l'annuaire se consulte sans modification.
"""

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[str, Member] = {}
        self.schools: dict[str, School] = {}
        self.open_aids: dict[str, int] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="directory-summary", markup=False)
        with TabbedContent(id="directory-tabs"):
            with TabPane("Membres (m)", id="members-tab"):
                yield DataTable(id=MEMBERS, cursor_type="row", zebra_stripes=True)
            with TabPane("Écoles (é)", id="schools-tab"):
                yield DataTable(id=SCHOOLS, cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Tabs).can_focus = False  # tab switches the tables; the tables hold the focus
        for table_id, columns in ((MEMBERS, MEMBER_COLUMNS), (SCHOOLS, SCHOOL_COLUMNS)):
            table = self.query_one(f"#{table_id}", DataTable)
            for label, width in columns:
                table.add_column(label, width=width, key=label)
        self.reload()
        self.query_one(f"#{MEMBERS}", DataTable).focus()

    # -- reading --------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Read both lists again (after each change), the cursor kept or put on `select`."""
        store = self.app.store
        try:
            members = sorted(store.list_members(), key=member_order)
            schools = sorted(store.list_schools(), key=lambda school: (not school.active, fold(school.name)))
            self.open_aids = store.open_aid_counts()
            cases = store.school_case_counts()
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        self.members = {member.id: member for member in members}
        self.schools = {school.id: school for school in schools}
        self._fill(MEMBERS, [(member.id, member_cells(member, self.open_aids.get(member.id, 0)))
                             for member in members], select)
        self._fill(SCHOOLS, [(school.id, school_cells(school, cases.get(school.id, 0))) for school in schools],
                   select)
        self._show_summary()

    def _fill(self, table_id: str, rows: list[tuple[str, tuple]], select: str | None) -> None:
        table = self.query_one(f"#{table_id}", DataTable)
        kept = select if select in dict(rows) else self._selected_in(table)
        row = table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        if kept is not None and kept in table.rows:
            table.move_cursor(row=table.get_row_index(kept))
        elif table.row_count:  # the record is gone (deleted): the line that took its place
            table.move_cursor(row=min(row, table.row_count - 1))

    def _show_summary(self) -> None:
        left = sum(1 for member in self.members.values() if member_state(member) == "inactif")
        closed = sum(1 for school in self.schools.values() if not school.active)
        parts = [f"{count(len(self.members) - left, 'membre')} en fonction"
                 + (f" ({count(left, 'inactif')})" if left else ""),
                 f"{count(len(self.schools) - closed, 'école')} active" + ("s" if len(self.schools) - closed > 1 else "")
                 + (f" ({count(closed, 'inactive')})" if closed else "")]
        if self.app.store.read_only:
            parts.append("lecture seule")
        self.query_one("#directory-summary", Static).update(" · ".join(parts))

    @staticmethod
    def _selected_in(table: DataTable) -> str | None:
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @property
    def current(self) -> str:
        """MEMBERS or SCHOOLS: the table in view."""
        return SCHOOLS if self.query_one(TabbedContent).active == "schools-tab" else MEMBERS

    def selected(self) -> Member | School | None:
        key = self._selected_in(self.query_one(f"#{self.current}", DataTable))
        records = self.members if self.current == MEMBERS else self.schools
        return records.get(key) if key else None

    # -- switching tables -------------------------------------------------------------------

    def action_show_table(self, table_id: str) -> None:
        self.query_one(TabbedContent).active = f"{table_id}-tab"
        self.query_one(f"#{table_id}", DataTable).focus()
        self.refresh_bindings()

    @on(TabbedContent.TabActivated)
    def _tab_clicked(self, event: TabbedContent.TabActivated) -> None:
        self.query_one(f"#{self.current}", DataTable).focus()
        self.refresh_bindings()

    # -- adding and editing -----------------------------------------------------------------

    def action_new(self) -> None:
        form = MemberForm() if self.current == MEMBERS else SchoolForm()
        self.app.push_screen(form, self._after_form)

    def action_edit(self) -> None:
        record = self._selected_or_say()
        if isinstance(record, Member):
            try:
                given = self.app.store.member_usage(record.id).aids
            except StoreError as error:
                self.notify(str(error), title="Lecture impossible", severity="error")
                return
            self.app.push_screen(MemberForm(record, given), self._after_form)
        elif isinstance(record, School):
            self.app.push_screen(SchoolForm(record), self._after_form)

    @on(DataTable.RowSelected)
    def _row_chosen(self) -> None:
        """`entrée` edits the record (in read-only mode it shows its journal)."""
        if self.app.store.read_only:
            self.action_journal()
        else:
            self.action_edit()

    def _after_form(self, saved_id: str | None) -> None:
        if saved_id is not None:
            self.reload(select=saved_id)

    def _selected_or_say(self) -> Member | School | None:
        record = self.selected()
        if record is None:
            self.notify("Aucune fiche sélectionnée.", severity="warning")
        return record

    # -- deactivating, reactivating, deleting ------------------------------------------------

    def action_deactivate(self) -> None:
        record = self._selected_or_say()
        if isinstance(record, Member):
            form = EndOfOfficeForm(record, self.open_aids.get(record.id, 0))
            self.app.push_screen(form, self._after_form)
        elif isinstance(record, School):
            if not record.active:
                self.notify(f"L'école {record.name} est déjà inactive (r pour la réactiver).", severity="warning")
                return
            self._confirm_then(f"Désactiver l'école {record.name} ({record.uai}) ?\nElle ne sera plus proposée "
                               "pour une nouvelle demande ; ses dossiers restent.",
                               lambda: self._run(record.id, lambda: self.app.store.deactivate_school(record.id),
                                                 f"École {record.name} désactivée."))

    def action_reactivate(self) -> None:
        record = self._selected_or_say()
        store = self.app.store
        if isinstance(record, Member):
            if record.active_to is None:
                self.notify(f"{record.full_name} est en fonction (pas de fin de fonction).", severity="warning")
                return
            self._run(record.id, lambda: store.reactivate_member(record.id),
                      f"{record.full_name} est de nouveau en fonction (fin de fonction retirée).")
        elif isinstance(record, School):
            if record.active:
                self.notify(f"L'école {record.name} est déjà active.", severity="warning")
                return
            self._run(record.id, lambda: store.reactivate_school(record.id), f"École {record.name} réactivée.")

    def action_delete(self) -> None:
        record = self._selected_or_say()
        if record is None:
            return
        store = self.app.store
        is_member = isinstance(record, Member)
        try:
            problem = store.member_deletion_problem(record.id) if is_member else store.school_deletion_problem(record.id)
        except StoreError as error:
            problem = str(error)
        if problem:
            self.notify(problem, title="Suppression refusée", severity="error")
            return
        name = record.full_name if is_member else f"l'école {record.name}"
        delete = store.delete_member if is_member else store.delete_school
        self._confirm_then(f"Supprimer la fiche de {name} ?\nElle n'a aucun historique (saisie par erreur) ; "
                           "le journal d'audit en gardera la trace.",
                           lambda: self._run(None, lambda: delete(record.id), f"Fiche de {name} supprimée."))

    def _confirm_then(self, question: str, then: Callable[[], None]) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                then()

        self.app.push_screen(ConfirmDialog(question), answered)

    def _run(self, select: str | None, write: Callable[[], object], message: str) -> None:
        try:
            write()
        except StoreError as error:
            self.notify(str(error), title="Rien n'a été enregistré", severity="error")
            return
        self.notify(message)
        self.reload(select=select)

    # -- handover and journal ----------------------------------------------------------------

    def action_handover(self) -> None:
        record = self._selected_or_say()
        if not isinstance(record, Member):
            return
        if not self.open_aids.get(record.id):
            self.notify(f"{record.full_name} n'a aucune aide en cours : rien à transmettre. Pour son départ, "
                        "mettez fin à sa fonction (d).", severity="warning")
            return
        self.app.push_screen(HandoverForm(record), self._after_form)

    def action_journal(self) -> None:
        record = self._selected_or_say()
        if record is None:
            return
        is_member = isinstance(record, Member)
        self.app.push_screen(RecordJournal(MEMBERS if is_member else SCHOOLS, record.id,
                                           record.full_name if is_member else record.name))

    def action_back(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only mode hides the editing keys; the handover is about members."""
        if action in EDITING_ACTIONS and self.app.store.read_only:
            return False
        if action == "handover" and self.current != MEMBERS:
            return False
        if action == "show_table" and parameters and parameters[0] == self.current:
            return False  # tab goes to the other table; `m` on the members does nothing
        return True


# -- the journal of one record ----------------------------------------------------------------

ACTIONS = {"ajout": "Création", "modification": "Modification", "suppression": "Suppression"}
JOURNAL_COLUMNS = (("Quand", 16), ("Qui", 16), ("Quoi", 12), ("Changements", 60))
MODELS = {MEMBERS: Member, SCHOOLS: School}
LABELLED = {"role": Role, "kind": SchoolKind, "priority_education": PriorityEducation}


def shown_value(name: str, value: object) -> str:
    """A stored value as a person reads it: dates JJ/MM/AAAA, codes by their labels."""
    if value in (None, ""):
        return "—"
    if name in LABELLED:
        try:
            return LABELLED[name](value).label
        except ValueError:
            return str(value)
    if name == "active":
        return "oui" if value else "non"
    if name.startswith("active_") and isinstance(value, str):
        return format_french_date(value)
    return str(value)


def changes(table: str, line: JournalLine) -> str:
    """'Jusqu'au : — → 31/12/2026; Fonction : …' for a modification; a word otherwise."""
    if line.action != "modification":
        return "fiche créée" if line.action == "ajout" else "fiche supprimée"
    fields = MODELS[table].model_fields
    return "; ".join(f"{fields[name].title if name in fields and fields[name].title else name} : "
                     f"{shown_value(name, line.before.get(name))} → {shown_value(name, line.after.get(name))}"
                     for name in line.changed_fields)


class RecordJournal(ModalScreen[None]):
    """Who created or changed a member or a school, and when (from the audit log)."""

    CSS_PATH = "directory.tcss"
    BINDINGS = [Binding("escape", "close", "Fermer", id="record_journal_close"),
                Binding("f1", "app.help", "Aide", key_display="F1", id="record_journal_help")]
    HELP = """\
**Journal d'une fiche** — chaque création ou modification de la fiche, avec son auteur et son
heure, et ce qui a changé. `échap` revient à l'annuaire. Le journal ne se modifie pas.
"""

    def __init__(self, table: str, row_id: str, name: str) -> None:
        super().__init__()
        self.table, self.row_id, self.record_name = table, row_id, name

    def compose(self) -> ComposeResult:
        with Vertical(id="record-journal"):
            yield Static(f"Journal de la fiche : {self.record_name}", id="record-journal-title", markup=False)
            yield DataTable(id="record-journal-table", cursor_type="row", zebra_stripes=True)
            yield Static("échap : retour", id="record-journal-keys", markup=False)

    def on_mount(self) -> None:
        from rased_tui.screens.journal import local_time

        table = self.query_one(DataTable)
        for label, width in JOURNAL_COLUMNS:
            table.add_column(label, width=width, key=label)
        store = self.app.store
        try:
            lines = store.record_journal(self.table, self.row_id)
            members = {f"membre:{member.id}": member.full_name for member in store.list_members()}
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        for index, line in enumerate(lines):
            table.add_row(local_time(line.at), members.get(line.actor) or line.actor.removeprefix("os:"),
                          ACTIONS.get(line.action, line.action), changes(self.table, line), key=str(index))
        if not lines:  # loaded in bulk (demo, import): one summary line in the audit log
            self.query_one("#record-journal-keys", Static).update(
                "Aucune modification depuis que cette fiche a été chargée (démonstration ou import) ; échap : retour")
        table.move_cursor(row=table.row_count - 1)
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)

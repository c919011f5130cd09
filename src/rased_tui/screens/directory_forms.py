"""The forms of the directory of the pôle (screens/directory.py), each a dialog:

- `MemberForm`: a member of the pôle, new or edited (name, role, antenna, time in office,
  capacity for the RASED);
- `SchoolForm`: a school, new or edited (UAI with its key letter, name, commune, kind,
  éducation prioritaire);
- `EndOfOfficeForm`: a member's last day in office;
- `HandoverForm`: the handover of a leaving member's open aids to a member of the same role.

`ctrl+s` checks every field, shows the problems in French by their fields and saves through the
store; `escape` leaves, asking first when something was typed. Each dismisses with the id of
the record to show under the cursor when it saved, None otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

from pydantic import ValidationError
from textual import on
from textual.widget import Widget
from textual.widgets import Input, Select, Static

from rased_tui.domain.calendar import format_french_date, read_past_date, today
from rased_tui.domain.enums import PriorityEducation, Role, SchoolKind
from rased_tui.domain.french import count
from rased_tui.domain.models import MAX_NAME_LENGTH, Member, School
from rased_tui.screens.form_dialog import FormDialog, read_date
from rased_tui.store.directory import Handover, handover_date_problem, role_name, successor_problem
from rased_tui.widgets.form import choice, date_input, field_row, text_input
from rased_tui.widgets.toggles import TickBox



class DirectoryForm(FormDialog[str | None]):
    """The frame of the directory's forms: an introduction under the title. Each closes with
    the id of the record saved, None when nothing was."""

    CSS_PATH = "directory.tcss"
    HELP = """\
**Fiche de l'annuaire** — remplissez les champs puis `ctrl+s` pour enregistrer, `échap` pour
annuler (la saisie est demandée avant d'être abandonnée). `tab` passe au champ suivant ;
les flèches choisissent dans une liste ; `espace` coche une case. Les dates s'écrivent
JJ/MM/AAAA. Une erreur s'affiche sous son champ, en rouge : rien n'est enregistré tant qu'il
en reste.
"""
    ID_PREFIX = "directory"

    def heading(self) -> Iterator[Widget]:
        intro = Static(self.intro(), id="directory-intro", markup=False)
        intro.display = bool(self.intro())
        yield intro

    def intro(self) -> str:
        return ""


# -- members ------------------------------------------------------------------------------------

MEMBER_FIELDS = {"last_name": "last-name", "first_name": "first-name", "role": "role", "antenna": "antenna",
                 "active_from": "active-from", "active_to": "active-to", "fin_avant_debut": "active-to",
                 "capacity": "capacity"}


class MemberForm(DirectoryForm):
    """A member of the pôle ressource, new (`member=None`) or edited."""

    def __init__(self, member: Member | None = None, aids_given: int = 0) -> None:
        super().__init__()
        self.member = member
        self.aids_given = aids_given
        self.title_text = f"Modifier la fiche de {member.full_name}" if member else "Nouveau membre du pôle"

    def fields(self) -> Iterator[Widget]:
        member = self.member
        yield field_row("Nom", text_input("last-name", member.last_name if member else "", MAX_NAME_LENGTH))
        yield field_row("Prénom", text_input("first-name", member.first_name if member else "", MAX_NAME_LENGTH))
        yield field_row("Fonction", choice("role", [(role.label, role.value) for role in Role],
                                           member.role.value if member else Select.NULL))
        yield Static(self._role_hint(), id="role-hint", markup=False)
        yield field_row("Antenne", text_input("antenna", member.antenna if member else "", MAX_NAME_LENGTH,
                                              placeholder="ex. : RASED de Maromme (vide hors RASED)"))
        yield field_row("En fonction depuis le", date_input(
            "active-from", format_french_date(member.active_from if member else today())))
        yield field_row("Jusqu'au", date_input("active-to", format_french_date(member.active_to if member else None)))
        yield field_row("Capacité", text_input("capacity", str(member.capacity) if member and member.capacity else "",
                                               3, placeholder="nombre d'élèves suivis"))
        yield Static("Capacité : le nombre d'élèves qu'un maître E, un maître G ou un·e psychologue peut suivre "
                     "à la fois (facultatif).", id="capacity-hint", markup=False)

    def _role_hint(self) -> str:
        if self.member is None or not self.aids_given:
            return ""
        return (f"{self.member.full_name} a donné {count(self.aids_given, 'aide')} : sa fonction ne change plus "
                "(une aide E est donnée par un maître E…).")

    def after_mount(self) -> None:
        self.query_one("#role-hint").display = bool(self._role_hint())
        self._show_capacity()

    @on(Select.Changed, "#role")
    def _show_capacity(self) -> None:
        role = self.value("role")
        rased = role is not None and Role(role).is_rased
        self.query_one("#capacity-row").display = rased
        self.query_one("#capacity-hint").display = rased

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[str, str]] | None:
        role = self.value("role")
        if role is None:
            problems.append(("role", "Choisissez la fonction."))
        elif self.member is not None and (problem := self.app.store.role_change_problem(self.member.id, Role(role))):
            problems.append(("role", problem))
        active_from = self.date_field("active-from", "La date d'entrée en fonction", problems)
        active_to = self.date_field("active-to", "La fin de fonction", problems, required=False)
        if active_from and active_to and active_to < active_from:
            problems.append(("active-to", "La fin de fonction précède le début."))
        capacity = self._capacity(role, problems)
        data = {"last_name": self.value("last-name"), "first_name": self.value("first-name"), "role": role,
                "antenna": self.value("antenna"), "active_from": active_from, "active_to": active_to,
                "capacity": capacity}
        if self.member is not None:
            data["id"] = self.member.id
        try:
            member = Member(**{key: value for key, value in data.items() if value is not None or key == "active_to"})
        except ValidationError as error:
            known = {widget_id for widget_id, _ in problems}
            problems.extend(problem for problem in self.model_problems(error, Member, MEMBER_FIELDS)
                            if problem[0] not in known)
            return None
        return None if problems else (lambda: self._write(member))

    def _capacity(self, role: str | None, problems: list) -> int | None:
        text = self.value("capacity").strip()
        if not text or role is None or not Role(role).is_rased:
            return None
        try:
            return int(text)
        except ValueError:
            problems.append(("capacity", "Capacité : un nombre entier d'élèves."))
            return None

    def _write(self, member: Member) -> tuple[str, str]:
        store = self.app.store
        if self.member is None:
            store.add_member(member)
            return member.id, f"{member.full_name} ajouté·e à l'annuaire ({role_name(member.role)})."
        store.edit_member(member)
        return member.id, f"Fiche de {member.full_name} modifiée."


# -- schools ----------------------------------------------------------------------------------

SCHOOL_FIELDS = {"uai": "uai", "name": "name", "commune": "commune", "kind": "kind",
                 "priority_education": "priority"}


class SchoolForm(DirectoryForm):
    """A school of the circonscription, new (`school=None`) or edited."""

    def __init__(self, school: School | None = None) -> None:
        super().__init__()
        self.school = school
        self.title_text = f"Modifier l'école {school.name}" if school else "Nouvelle école"

    def fields(self) -> Iterator[Widget]:
        school = self.school
        yield field_row("Code UAI", text_input("uai", school.uai if school else "", 8, placeholder="0761234D"))
        yield Static("7 chiffres et la lettre clé (contrôlée).", id="uai-hint", markup=False)
        yield field_row("Nom de l'école", text_input("name", school.name if school else "", MAX_NAME_LENGTH))
        yield field_row("Commune", text_input("commune", school.commune if school else "", MAX_NAME_LENGTH))
        yield self.radio_field("Type", "kind", [(kind.label, kind.value) for kind in SchoolKind],
                               school.kind.value if school else None)
        yield self.radio_field("Éducation prioritaire", "priority",
                               [(item.label, item.value) for item in PriorityEducation],
                               (school.priority_education if school else PriorityEducation.AUCUNE).value)

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[str, str]] | None:
        if self.value("kind") is None:
            problems.append(("kind", "Choisissez le type d'école : maternelle, élémentaire ou primaire."))
        data = {"uai": self.value("uai"), "name": self.value("name"), "commune": self.value("commune"),
                "kind": self.value("kind") or SchoolKind.PRIMAIRE.value, "priority_education": self.value("priority"),
                "active": self.school.active if self.school else True}
        if self.school is not None:
            data["id"] = self.school.id
        try:
            school = School(**data)
        except ValidationError as error:
            problems.extend(self.model_problems(error, School, SCHOOL_FIELDS))
            return None
        same = self.app.store.find_school_by_uai(school.uai)
        if same is not None and same.id != school.id:
            problems.append(("uai", f"Le code UAI {school.uai} est déjà celui de l'école « {same.name} »."))
        return None if problems else (lambda: self._write(school))

    def _write(self, school: School) -> tuple[str, str]:
        if self.school is None:
            self.app.store.add_school(school)
            return school.id, f"École ajoutée : {school.name} ({school.uai})."
        self.app.store.update_school(school)
        return school.id, f"École {school.name} modifiée."


# -- end of office ----------------------------------------------------------------------------


class EndOfOfficeForm(DirectoryForm):
    """A member's last day in office: he or she stays in the directory and in history."""

    def __init__(self, member: Member, open_aids: int) -> None:
        super().__init__()
        self.member = member
        self.open_aids = open_aids
        self.title_text = f"Fin de fonction de {member.full_name}"

    def intro(self) -> str:
        text = (f"{self.member.full_name} ({role_name(self.member.role)}) reste dans l'annuaire et dans "
                "l'historique des dossiers, mais n'est plus proposé·e après son dernier jour.")
        if self.open_aids:
            text += (f"\n⚠ {count(self.open_aids, 'aide')} en cours à son nom : faites-en d'abord la passation "
                     "(p), sinon elles resteront à son nom.")
        return text

    def fields(self) -> Iterator[Widget]:
        yield field_row("Dernier jour en fonction", date_input(
            "last-day", format_french_date(self.member.active_to or today())))

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[str, str]] | None:
        day, problem = read_date(self.value("last-day"), "Le dernier jour en fonction", required=True)
        if not problem and day < self.member.active_from:
            problem = (f"Le dernier jour précède l'entrée en fonction "
                       f"({format_french_date(self.member.active_from)}).")
        if problem:
            problems.append(("last-day", problem))
            return None
        return lambda: self._write(day)

    def _write(self, day: date) -> tuple[str, str]:
        self.app.store.deactivate_member(self.member.id, day)
        return self.member.id, f"{self.member.full_name} : fin de fonction le {format_french_date(day)}."


# -- handover ---------------------------------------------------------------------------------


def _agreed(number: int, word: str) -> str:
    """A past participle agreeing with a number of aids: 'terminée', 'terminées'."""
    return word + ("s" if number > 1 else "")


def plan_text(plan: Handover, day: date) -> str:
    """What a handover on `day` will move, said before it is saved."""
    if not plan.total:
        return f"Aucune aide en cours le {format_french_date(day)} : rien ne passera."
    lines = [f"Le {format_french_date(day)}, {count(plan.total, 'aide')} {'passeront' if plan.total > 1 else 'passera'} "
             "à la personne choisie :"]
    if plan.running:
        lines.append(f"• {count(plan.running, 'aide commencée', 'aides commencées')} : "
                     f"{_agreed(plan.running, 'terminée')} ce jour (passation) et {_agreed(plan.running, 'reprise')} "
                     "le même jour, pour la durée prévue restante")
    if plan.pending:
        lines.append(f"• {count(plan.pending, 'aide pas encore commencée', 'aides pas encore commencées')} : "
                     f"{_agreed(plan.pending, 'confiée')} telle{'s' if plan.pending > 1 else ''} "
                     f"quelle{'s' if plan.pending > 1 else ''}")
    return "\n".join(lines) + "."


class HandoverForm(DirectoryForm):
    """The open aids of a leaving member, handed in one step to a member of the same role."""

    def __init__(self, member: Member) -> None:
        super().__init__()
        self.member = member
        self.title_text = f"Passation des aides de {member.full_name}"
        self._successors: list[Member] = []

    def intro(self) -> str:
        return (f"{self.member.full_name} ({role_name(self.member.role)}) confie ses aides en cours à un membre "
                "de la même fonction. L'historique reste : les aides commencées se terminent à la date de la "
                "passation (motif « passation ») avec leurs évaluations, et reprennent ce jour-là avec la "
                "personne choisie, par une étape de chaque dossier.")

    def fields(self) -> Iterator[Widget]:
        yield field_row("Reprises par", choice("successor", [], Select.NULL))
        yield Static("", id="successor-hint", markup=False)
        yield field_row("Date de la passation", date_input("date", format_french_date(today())))
        yield field_row("Fin de fonction", TickBox(f"de {self.member.full_name} à cette date",
                                                   self.member.active_to is None, compact=True,
                                                   id="end-membership"))
        yield Static("", id="handover-plan", markup=False)

    def after_mount(self) -> None:
        self._follow_date()

    @on(Input.Changed, "#date")
    def _follow_date(self) -> None:
        """The members in office on the date typed, and what will move that day."""
        day, problem = read_past_date(self.value("date"))
        if problem:
            return
        store = self.app.store
        self._successors = store.successors(self.member.id, day)
        select = self.query_one("#successor", Select)
        chosen = self.value("successor")
        with select.prevent(Select.Changed):
            select.set_options([(member.full_name, member.id) for member in self._successors])
            if any(member.id == chosen for member in self._successors):
                select.value = chosen
            elif len(self._successors) == 1:
                select.value = self._successors[0].id
        self._show_successor_hint()
        self.query_one("#handover-plan", Static).update(plan_text(store.handover_plan(self.member.id, day), day))

    @on(Select.Changed, "#successor")
    def _show_successor_hint(self) -> None:
        hint = self.query_one("#successor-hint", Static)
        chosen = next((member for member in self._successors if member.id == self.value("successor")), None)
        hint.set_class(not self._successors, "warning")
        text = ""
        if not self._successors:
            text = (f"Aucun autre membre « {role_name(self.member.role)} » en fonction à cette date : "
                    "ajoutez d'abord la personne qui reprend ses aides (n).")
        elif chosen is not None:
            load = self.app.store.open_aid_counts().get(chosen.id, 0)
            capacity = f" (capacité : {chosen.capacity})" if chosen.capacity else ""
            text = f"{chosen.full_name} a déjà {count(load, 'aide')} en cours{capacity}."
        hint.update(text)
        hint.display = bool(text)

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[str, str]] | None:
        end_membership = bool(self.value("end-membership"))
        day, problem = read_past_date(self.value("date"), "La date de la passation")
        problem = problem or handover_date_problem(self.member, day, end_membership=end_membership)
        if problem:
            problems.append(("date", problem))
        successor = self.app.store.get_member(self.value("successor")) if self.value("successor") else None
        if successor is None:
            problems.append(("successor", "Choisissez le membre qui reprend les aides."))
        elif day is not None and (problem := successor_problem(self.member, successor, day)):
            problems.append(("successor", problem))
        if problems:
            return None
        return lambda: self._write(successor, day, end_membership)

    def _write(self, successor: Member, day: date, end_membership: bool) -> tuple[str, str]:
        done = self.app.store.hand_over_aids(self.member.id, successor.id, day, end_membership=end_membership)
        message = (f"Passation du {format_french_date(day)} : {count(done.total, 'aide')} de "
                   f"{self.member.full_name} reprise" + ("s" if done.total > 1 else "") + f" par {successor.full_name}.")
        if end_membership:
            message += f" Fin de fonction de {self.member.full_name}."
        return self.member.id, message

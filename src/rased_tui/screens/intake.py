"""Intake form "Nouvelle demande": a demande d'aide au pôle ressource (annexe 1 of note n°6,
motifs of seed 003), new or edited.

`IntakeScreen(case=None)` records a new request; `IntakeScreen(case)` edits that request, the
form loaded from it. `ctrl+s` validates every field, builds the `Case` through pydantic and
saves it in one call to the store (one transaction), then dismisses with the saved case;
`escape` dismisses with None, asking first when something was changed.

Main motif: the order of the motifs is the order in which they were checked (Textual's
SelectionList keeps it), and the first one checked is the main motif; the form says which one
under the list. Unchecking and checking again moves a motif to the end.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    Footer,
    Header,
    Input,
    Label,
    RadioSet,
    Select,
    SelectionList,
    Static,
    TextArea,
)
from textual.widgets.selection_list import Selection

from rased_tui.domain.calendar import (
    format_french_date,
    parse_french_date,
    read_past_date,
    school_year_start,
    today,
)
from rased_tui.domain.enums import ClassLevel, Dispositif, Motif, PriorAction, Requester, SchoolKind, SubjectKind
from rased_tui.domain.models import (
    MAX_NAME_LENGTH,
    Case,
    Name,
    PriorActionItem,
    Pupil,
    School,
    french_messages,
)
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.store import Store, StoreError
from rased_tui.widgets.toggles import CheckList, RadioChoice, TickBox
from rased_tui.widgets.form import choice, date_input, field_row, field_value, text_input

T = TypeVar("T")

DISCARD_QUESTION = "Abandonner la saisie ? Les modifications seront perdues."
QUIT_QUESTION = "Quitter rased-tui ? La demande en cours de saisie sera perdue."
READ_ONLY_MESSAGE = "Base en lecture seule : impossible de saisir ou de modifier une demande."
PSEUDONYM_NOTE = ("Élève connu par son pseudonyme (identité restée à l'antenne) : sans date de naissance, "
                  "laissez le nom et le prénom tels quels.")

# Age on 31 December of the first calendar year of the school year, by level.
EXPECTED_AGE = {
    ClassLevel.TPS: 2, ClassLevel.PS: 3, ClassLevel.MS: 4, ClassLevel.GS: 5, ClassLevel.CP: 6,
    ClassLevel.CE1: 7, ClassLevel.CE2: 8, ClassLevel.CM1: 9, ClassLevel.CM2: 10,
}

KIND_BUTTONS = {
    SubjectKind.ELEVE: ("kind-eleve", "Cas n°1 : pour un·e élève"),
    SubjectKind.ENSEIGNANT: ("kind-enseignant", "Cas n°2 : pour un·e enseignant·e"),
    SubjectKind.EQUIPE: ("kind-equipe", "Cas n°2 : pour l'équipe d'école"),
    SubjectKind.CLASSE: ("kind-classe", "Cas n°2 : pour une classe"),
}
KIND_OF_BUTTON = {button_id: kind for kind, (button_id, _) in KIND_BUTTONS.items()}

YES, NO = "oui", "non"
NO_DISPOSITIF = "aucun"

# Where an error of the Case model is shown: by the field it is about, else by its type.
CASE_FIELD_IDS = {
    "date_sent": "sent", "date_received": "received", "school_id": "school", "requester": "requester",
    "requester_detail": "requester-detail", "team_reference": "team-reference", "description": "description",
    "motifs": "motifs", "other_motif": "other-motif", "prior_actions": "prior-detail",
    "parents_informed_on": "parents-informed",
}
CASE_ERROR_IDS = {
    "reception_avant_envoi": "received", "avant_naissance": "birth-date", "niveau_eleve": "level",
    "autre_motif": "other-motif", "equipe_requise": "team-reference", "eleve_requis": "last-name",
}
PUPIL_FIELD_IDS = {"last_name": "last-name", "first_name": "first-name", "birth_date": "birth-date"}

_NAME = TypeAdapter(Name)


def _yes_no(widget_id: str, value: bool | None) -> Select:
    """Oui / Non, or left blank ("non renseigné") as on the paper form."""
    initial = Select.NULL if value is None else (YES if value else NO)
    return Select([("Oui", YES), ("Non", NO)], prompt="Non renseigné", id=widget_id, value=initial, compact=True)


def _first_message(error: ValidationError) -> str:
    return french_messages(error)[0]


class SchoolDialog(ModalScreen[School | None]):
    """Add a school on the spot: UAI, name, commune, type. Saved here, returned saved."""

    CSS_PATH = "intake.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="school_save"),
        Binding("escape", "cancel", "Annuler", id="school_cancel"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="school-dialog"):
            yield Static("Nouvelle école", id="school-title")
            yield Label("Code UAI (7 chiffres et une lettre)")
            yield Input(placeholder="0761234D", id="school-uai", max_length=8)
            yield Label("Nom de l'école")
            yield Input(id="school-name", max_length=MAX_NAME_LENGTH)
            yield Label("Commune")
            yield Input(id="school-commune", max_length=MAX_NAME_LENGTH)
            yield Label("Type d'école")
            yield Select([(kind.label, kind) for kind in SchoolKind], prompt="Choisir…", id="school-kind")
            yield Static("", id="school-errors", classes="error", markup=False)
            with Horizontal(id="school-buttons"):
                yield Button("Enregistrer (ctrl+s)", id="school-save", variant="primary")
                yield Button("Annuler (échap)", id="school-cancel")

    @on(Button.Pressed, "#school-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#school-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        data: dict[str, Any] = {
            "uai": self.query_one("#school-uai", Input).value,
            "name": self.query_one("#school-name", Input).value,
            "commune": self.query_one("#school-commune", Input).value,
        }
        kind = self.query_one("#school-kind", Select).value
        if kind is not Select.NULL:
            data["kind"] = kind
        errors = self.query_one("#school-errors", Static)
        try:
            school = School(**data)
        except ValidationError as error:
            errors.update("\n".join(french_messages(error, School)))
            errors.display = True
            return
        try:
            saved = self.app.store.add_school(school)
        except StoreError as error:
            errors.update(str(error))
            errors.display = True
            self.notify(str(error), title="École non enregistrée", severity="error")
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        self.dismiss(None)


class IntakeScreen(Screen[Case | None]):
    """The demande d'aide form. Dismisses with the saved Case, or None when abandoned."""

    CSS_PATH = "intake.tcss"
    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="intake_save"),
        Binding("escape", "cancel", "Annuler", id="intake_cancel"),
        Binding("ctrl+n", "add_school", "Nouvelle école", id="intake_add_school"),
        Binding("q", "quit_app", "Quitter", id="intake_quit"),
    ]

    HELP = """\
**Nouvelle demande** — la demande d'aide au pôle ressource (annexe 1) : date d'envoi, école,
demandeur, urgence ; puis *cas n°1* (un élève : nom, prénom, date de naissance, niveau,
dispositif, enseignant·e, handicap, AESH) ou *cas n°2* (un·e enseignant·e, l'équipe d'école ou
une classe) ; les motifs, la description factuelle des difficultés, les actions déjà menées.

| Touche | Action |
|---|---|
| `tab` / `maj+tab` | champ suivant / précédent |
| `espace` ou `entrée` | cocher, ouvrir une liste |
| `ctrl+n` | ajouter une école qui n'est pas dans la liste |
| `ctrl+s` | vérifier et enregistrer la demande |
| `échap` | abandonner (confirmation si quelque chose a changé) |

Chaque champ signale son erreur en dessous ; rien n'est enregistré tant qu'il reste une
erreur. Le **motif principal** est le premier motif coché. Un·e élève déjà connu·e (même nom
et même date de naissance) est repris·e avec ses demandes précédentes ; un homonyme né à une
autre date est un autre élève. Une date de naissance inhabituelle pour le niveau (maintien,
TPS) est signalée sans bloquer. Un·e élève importé·e d'un export pseudonymisé est connu·e par
son pseudonyme, sans date de naissance : laissez son nom et son prénom tels quels.
"""

    def __init__(self, case: Case | None = None) -> None:
        super().__init__()
        self.case = case
        self._touched: set[str] = set()
        self._errors: dict[str, str] = {}
        self._initial: tuple | None = None
        self._known_pupil: Pupil | None = None
        self._homonyms: list[Pupil] = []
        self._age_warning = ""
        self._received_follows = case is None
        self._mirrored = ""

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        case = self.case
        pupil = case.pupil if case else None
        sent = format_french_date(case.date_sent) if case else format_french_date(today())
        received = format_french_date(case.date_received) if case else sent
        kind = case.subject_kind if case else SubjectKind.ELEVE
        schools = self._read(lambda store: store.list_schools(active_only=True), []) \
            if not self.app.store.read_only else []
        school_options = self._school_options(schools)
        school_id: str | Any = case.school_id if case else Select.NULL
        if case and case.school_id not in {value for _, value in school_options}:
            inactive = self._read(lambda store: store.get_school(case.school_id), None)  # kept by its cases
            if inactive is not None:
                school_options.append((f"{inactive.name} (inactive)", inactive.id))
            else:
                school_id = Select.NULL
        levels = case.levels if case else []
        other_detail = ""
        if case:
            other_detail = next((item.detail for item in case.prior_actions if item.action is PriorAction.AUTRE), "")

        yield Header()
        title = f"Modifier la demande {case.number}" if case and case.number else \
            "Nouvelle demande d'aide au pôle ressource"
        pupil_case = kind is SubjectKind.ELEVE
        with VerticalScroll(id="intake-form", can_focus=False):
            yield Static(title, id="intake-title", markup=False)
            yield Static("", id="form-errors", classes="error", markup=False)

            yield Static("Demande", classes="section")
            yield field_row("Date d'envoi", date_input("sent", sent))
            yield field_row("Date de réception", date_input("received", received))
            yield field_row(
                "École",
                Select(school_options, prompt="Choisir l'école…", compact=True, id="school", value=school_id),
                Button("+ École", id="add-school", compact=True, tooltip="Ajouter une école (ctrl+n)"),
            )
            yield field_row("Demandeur", choice("requester", [(item.label, item) for item in Requester],
                                              case.requester if case else Select.NULL))
            yield field_row("Précision (demandeur)", text_input("requester-detail", case.requester_detail if case else ""))
            yield field_row("Urgence", TickBox("Demande urgente", case.urgent if case else False, compact=True,
                                             id="urgent"))

            yield Static("Objet de la demande", classes="section")
            with RadioSet(id="subject-kind", compact=True):
                for item, (button_id, label) in KIND_BUTTONS.items():
                    yield RadioChoice(label, item is kind, id=button_id)

            with Vertical(id="pupil-fields"):
                yield field_row("Nom de l'élève", text_input("last-name", pupil.last_name if pupil else "", MAX_NAME_LENGTH))
                yield field_row("Prénom", text_input("first-name", pupil.first_name if pupil else "", MAX_NAME_LENGTH))
                yield field_row("Date de naissance",
                             date_input("birth-date", format_french_date(pupil.birth_date) if pupil else ""))
                yield Static("", id="pupil-status")
                yield field_row("Niveau de classe", choice("level", [(level.label, level) for level in ClassLevel],
                                                         levels[0] if pupil_case and levels else Select.NULL))
                yield Static("", id="level-warning", markup=False)
                yield field_row(
                    "Dispositif",
                    Select([("Aucun", NO_DISPOSITIF)] + [(item.label, item.value) for item in Dispositif],
                           allow_blank=False, compact=True, id="dispositif",
                           value=case.dispositif.value if case and case.dispositif else NO_DISPOSITIF),
                )
                yield field_row("Enseignant·e", text_input("pupil-teacher", case.teacher_name if case and pupil_case else ""))
                yield field_row("Situation de handicap", _yes_no("handicap", case.handicap if case else None))
                yield field_row("Présence d'un AESH/AVS", _yes_no("aesh", case.aesh if case else None))

            with Vertical(id="group-fields"):
                yield field_row("Nom de l'enseignant·e",
                             text_input("teacher-name", case.teacher_name if case and not pupil_case else ""))
                yield field_row("Référence de l'équipe", text_input("team-reference", case.team_reference if case else "",
                                                             placeholder="ex. : équipe du cycle 2"))
                yield field_row("Niveau(x) de classe", CheckList[ClassLevel](
                    *[Selection(level.label, level, not pupil_case and level in levels) for level in ClassLevel],
                    compact=True, id="levels"))

            yield Static("Motifs et difficultés", classes="section")
            yield field_row("Motifs", CheckList[Motif](*[Selection(m.label, m) for m in Motif], compact=True,
                                                        id="motifs"))
            yield Static("", id="main-motif", markup=False)
            yield field_row("Autre motif", text_input("other-motif", case.other_motif if case else ""))
            yield field_row("Difficultés rencontrées", TextArea(
                case.description if case else "", compact=True, id="description", soft_wrap=True,
                tab_behavior="focus", placeholder="Description factuelle succincte"))
            done = [item.action for item in case.prior_actions] if case else []
            yield field_row("Actions déjà menées", CheckList[PriorAction](
                *[Selection(action.label, action, action in done) for action in PriorAction],
                compact=True, id="prior-actions"))
            yield field_row("Autre action", text_input("prior-detail", other_detail))
            yield field_row("Parents informés le", date_input(
                "parents-informed", format_french_date(case.parents_informed_on) if case else ""))
        yield Footer()

    def _read(self, query: Callable[[Store], T], default: T) -> T:
        """A read from the store; a StoreError becomes a French notification and `default`."""
        try:
            return query(self.app.store)
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return default

    @staticmethod
    def _school_options(schools: list[School]) -> list[tuple[str, str]]:
        return [(f"{school.name} — {school.commune}" if school.commune else school.name, school.id)
                for school in schools]

    def on_mount(self) -> None:
        if self.app.store.read_only:
            self.notify(READ_ONLY_MESSAGE, severity="error")
            self.dismiss(None)
            return
        for label in self.query(".error"):
            label.display = False
        if self.case:
            motifs = self.query_one("#motifs", SelectionList)
            with motifs.prevent(SelectionList.SelectedChanged):
                for motif in self.case.motifs:  # in their order: the first is the main motif
                    motifs.select(motif)
        self._show_subject()
        self._show_main_motif()
        self._show_optional_rows()
        self._lookup_pupil()
        self._check_age()
        self._initial = self._state()
        self._mirrored = self._value("received")
        self.query_one("#sent", Input).focus()

    # -- state ----------------------------------------------------------------------------

    def _value(self, widget_id: str) -> Any:
        return field_value(self.query_one(f"#{widget_id}"))

    STATE_FIELDS = (
        "sent", "received", "school", "requester", "requester-detail", "urgent", "last-name", "first-name",
        "birth-date", "level", "dispositif", "pupil-teacher", "handicap", "aesh", "teacher-name",
        "team-reference", "levels", "motifs", "other-motif", "description", "prior-actions", "prior-detail",
        "parents-informed",
    )

    def _state(self) -> tuple:
        return (self.subject_kind, *(self._value(field) for field in self.STATE_FIELDS))

    @property
    def has_changes(self) -> bool:
        """True when the form differs from what it was loaded with."""
        return self._initial is not None and self._state() != self._initial

    @property
    def subject_kind(self) -> SubjectKind:
        pressed = self.query_one("#subject-kind", RadioSet).pressed_button
        return KIND_OF_BUTTON.get(pressed.id if pressed else "", SubjectKind.ELEVE)

    # -- reacting to input ----------------------------------------------------------------

    def _changed(self, widget_id: str | None) -> None:
        if not widget_id or self._initial is None or widget_id not in self.STATE_FIELDS:
            return
        if self._value(widget_id) == self._initial[self.STATE_FIELDS.index(widget_id) + 1]:
            if widget_id in ("last-name", "first-name") and self._pseudonymous_pupil is not None:
                self._pseudonym_put_back()
            return  # a widget settling on the value it was loaded with, not a person's change
        self._touched.add(widget_id)
        if widget_id in self._errors:
            self._validate(widget_id)
        if widget_id == "sent" and self._received_follows:
            # In a new request the reception date follows the sending date, until it is changed.
            received = self.query_one("#received", Input)
            if received.value == self._mirrored:
                self._mirrored = self._value("sent")
                with received.prevent(Input.Changed):
                    received.value = self._mirrored
            else:
                self._received_follows = False
        if widget_id in ("last-name", "first-name", "birth-date"):
            self._lookup_pupil()
            if widget_id != "birth-date" and "birth-date" in self._errors:
                self._validate("birth-date")
        if widget_id in ("birth-date", "level", "sent"):
            self._check_age()
        if widget_id == "sent" and "birth-date" in self._errors:
            self._validate("birth-date")
        if widget_id == "motifs":
            self._show_main_motif()
        if widget_id in ("motifs", "prior-actions", "requester"):
            self._show_optional_rows()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        self._changed(event.input.id)

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        self._changed(event.select.id)

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self, event: SelectionList.SelectedChanged) -> None:
        self._changed(event.selection_list.id)

    @on(TextArea.Changed)
    def _text_changed(self, event: TextArea.Changed) -> None:
        self._changed(event.text_area.id)

    @on(RadioSet.Changed, "#subject-kind")
    def _kind_changed(self) -> None:
        self._show_subject()

    @on(Button.Pressed, "#add-school")
    def _add_school_pressed(self) -> None:
        self.action_add_school()

    def on_descendant_blur(self, event) -> None:
        widget_id = event.widget.id
        if widget_id in self._touched or widget_id in self._errors:
            self._validate(widget_id)

    def _show_subject(self) -> None:
        kind = self.subject_kind
        self.query_one("#pupil-fields").display = kind is SubjectKind.ELEVE
        self.query_one("#group-fields").display = kind is not SubjectKind.ELEVE
        self.query_one("#teacher-name-row").display = kind in (SubjectKind.ENSEIGNANT, SubjectKind.CLASSE)
        self.query_one("#team-reference-row").display = kind is SubjectKind.EQUIPE
        for hidden in set(self._errors) - set(self._active_fields()):
            self._show_error(hidden, "")

    def _show_optional_rows(self) -> None:
        self.query_one("#other-motif-row").display = Motif.AUTRE in self._value("motifs")
        self.query_one("#prior-detail-row").display = PriorAction.AUTRE in self._value("prior-actions")
        self.query_one("#requester-detail-row").display = self._value("requester") is Requester.AUTRE
        for hidden in set(self._errors) - set(self._active_fields()):
            self._show_error(hidden, "")

    def _show_main_motif(self) -> None:
        motifs = self._value("motifs")
        text = f"Motif principal : {motifs[0].label} (le premier coché)" if motifs else ""
        widget = self.query_one("#main-motif", Static)
        widget.update(text)
        widget.display = bool(text)

    def _parsed_date(self, widget_id: str) -> date | None:
        try:
            return parse_french_date(self._value(widget_id))
        except ValueError:
            return None

    def _lookup_pupil(self) -> None:
        """Offer the known pupil with this name and birth date; mention homonyms."""
        self._known_pupil, self._homonyms = None, []
        status = self.query_one("#pupil-status", Static)
        last, first = self._value("last-name").strip(), self._value("first-name").strip()
        birth = self._parsed_date("birth-date")
        if self._keeps_pseudonym():
            status.update(escape(PSEUDONYM_NOTE))
            status.display = True
            status.set_class(False, "known")
            return
        if not (last and first and birth):
            status.update("")
            status.display = False
            return
        found = self._read(lambda store: store.find_pupils(last, first), [])
        own_id = self.case.pupil.id if self.case and self.case.pupil else None
        self._known_pupil = next((pupil for pupil in found if pupil.birth_date == birth), None)
        self._homonyms = [pupil for pupil in found if pupil.birth_date != birth and pupil.id != own_id]
        lines = []
        if self._known_pupil is not None:
            known_id = self._known_pupil.id
            earlier = [(case, state) for case, state in self._read(
                lambda store: [(case, store.case_status(case.id)) for case in store.cases_of_pupil(known_id)], [])
                if not (self.case and case.id == self.case.id)]
            if self._known_pupil.id != own_id:
                lines.append(f"[b]Élève déjà connu·e[/b] : {escape(self._known_pupil.full_name)}, "
                             f"né·e le {format_french_date(self._known_pupil.birth_date)} — "
                             "la demande lui sera rattachée.")
            if earlier:
                lines.append("Demandes précédentes :")
                for case, state in earlier:
                    lines.append(f"  {case.number} du {format_french_date(case.date_sent)} — {state.label}")
        for homonym in self._homonyms:
            lines.append(f"[dim]Homonyme : autre élève (né·e le {format_french_date(homonym.birth_date)}).[/dim]")
        status.update("\n".join(lines))
        status.display = bool(lines)
        status.set_class(self._known_pupil is not None and self._known_pupil.id != own_id, "known")

    def _pseudonym_put_back(self) -> None:
        """A pseudonym's name typed back as it was: the note again, no birth date needed."""
        self._lookup_pupil()
        if "birth-date" in self._errors:
            self._validate("birth-date")

    def _check_age(self) -> None:
        """Warn (without blocking) when the birth date does not fit the level."""
        self._age_warning = ""
        birth, level = self._parsed_date("birth-date"), self._value("level")
        if birth is not None and level is not None:
            start = school_year_start(self._parsed_date("sent") or today())
            age = start - birth.year
            expected = EXPECTED_AGE[level]
            if abs(age - expected) > 1:
                self._age_warning = (
                    f"⚠ Âge inhabituel pour {level.label} : {age} ans au 31/12/{start} (attendu : {expected} ans)."
                    " Vérifiez la date de naissance (maintien, saut de classe ?). L'enregistrement reste possible.")
        warning = self.query_one("#level-warning", Static)
        warning.update(self._age_warning)
        warning.display = bool(self._age_warning)

    # -- validation -----------------------------------------------------------------------

    def _active_fields(self) -> list[str]:
        """The fields that count, in the order of the form."""
        kind = self.subject_kind
        fields = ["sent", "received", "school", "requester"]
        if kind is SubjectKind.ELEVE:
            fields += ["last-name", "first-name", "birth-date", "level", "pupil-teacher"]
        elif kind is SubjectKind.EQUIPE:
            fields += ["team-reference", "levels"]
        else:
            fields += ["teacher-name", "levels"]
        fields += ["motifs"]
        if Motif.AUTRE in self._value("motifs"):
            fields.append("other-motif")
        fields.append("description")
        if PriorAction.AUTRE in self._value("prior-actions"):
            fields.append("prior-detail")
        fields.append("parents-informed")
        return fields

    def _check(self, widget_id: str) -> str:
        """What is wrong with one field, in French ('' when nothing)."""
        value = self._value(widget_id)
        if widget_id == "sent":
            return self._check_date(value, "La date d'envoi", required=True)
        if widget_id == "received":
            problem = self._check_date(value, "La date de réception")
            if not problem and value.strip():
                sent = self._parsed_date("sent")
                if sent and parse_french_date(value) < sent:
                    return "La date de réception précède la date d'envoi."
            return problem
        if widget_id == "parents-informed":
            return self._check_date(value, "La date d'information des parents")
        if widget_id == "school":
            return "" if value else "Choisissez l'école (ou ajoutez-la : ctrl+n)."
        if widget_id == "requester":
            return "" if value else "Choisissez le demandeur."
        if widget_id in ("last-name", "first-name"):
            if not value.strip():
                return "Le nom de l'élève est obligatoire." if widget_id == "last-name" else \
                    "Le prénom de l'élève est obligatoire."
            try:
                _NAME.validate_python(value)
            except ValidationError as error:
                return _first_message(error)
            return ""
        if widget_id == "birth-date":
            return self._check_birth_date(value)
        if widget_id == "level":
            return "" if value else "Choisissez le niveau de classe de l'élève."
        if widget_id == "teacher-name":
            return "" if value.strip() else "Indiquez le nom de l'enseignant·e."
        if widget_id == "team-reference":
            return "" if value.strip() else "Indiquez la référence de l'équipe d'école."
        if widget_id == "levels":
            if self.subject_kind is SubjectKind.CLASSE and not value:
                return "Cochez le ou les niveaux de la classe."
            return ""
        if widget_id == "motifs":
            return "" if value else "Choisissez au moins un motif."
        if widget_id == "other-motif":
            return "" if value.strip() else "Précisez le motif « autre »."
        if widget_id == "description":
            return "" if value.strip() else "La description factuelle des difficultés est obligatoire."
        if widget_id == "prior-detail":
            return "" if value.strip() else "Précisez l'action « autre »."
        return ""

    @staticmethod
    def _check_date(text: str, what: str, *, required: bool = False) -> str:
        return read_past_date(text, what, required=required)[1] or ""

    @property
    def _pseudonymous_pupil(self) -> Pupil | None:
        """The pupil of the case edited when known by a pseudonym only (imported, no birth date)."""
        pupil = self.case.pupil if self.case else None
        return pupil if pupil is not None and pupil.pseudonymous else None

    def _keeps_pseudonym(self) -> bool:
        """The pseudonymous pupil left as it is: same name and first name, no birth date typed."""
        pupil = self._pseudonymous_pupil
        return (pupil is not None and self._value("last-name").strip() == pupil.last_name
                and self._value("first-name").strip() == pupil.first_name
                and not self._value("birth-date").strip())

    def _check_birth_date(self, text: str) -> str:
        if not text.strip() and self._keeps_pseudonym():
            return ""  # the identity stayed with the antenna that exported the case
        if not text.strip():
            return "La date de naissance est obligatoire."
        try:
            birth = Pupil(last_name="x", first_name="x", birth_date=text).birth_date
        except ValidationError as error:
            return _first_message(error)
        sent = self._parsed_date("sent")
        if sent is not None and sent < birth:
            return "La demande est datée d'avant la naissance de l'élève."
        return ""

    def _validate(self, widget_id: str) -> str:
        if widget_id not in self._active_fields():
            self._show_error(widget_id, "")
            return ""
        problem = self._check(widget_id)
        self._show_error(widget_id, problem)
        return problem

    def _show_error(self, widget_id: str, message: str) -> None:
        labels = self.query(f"#{widget_id}-error")
        if not labels:
            return
        label = labels.first(Label)
        if self._errors.get(widget_id, "") != message:  # touch the DOM only when it changes
            label.update(message)
            label.display = bool(message)
        if message:
            self._errors[widget_id] = message
        else:
            self._errors.pop(widget_id, None)

    def _show_form_errors(self, messages: list[str]) -> None:
        summary = self.query_one("#form-errors", Static)
        if messages:
            plural = "s" if len(messages) > 1 else ""
            summary.update(f"Rien n'a été enregistré — {len(messages)} erreur{plural} à corriger :\n"
                           + "\n".join(f"• {message}" for message in messages))
        else:
            summary.update("")
        summary.display = bool(messages)

    def _refuse(self, problems: list[tuple[str | None, str]]) -> None:
        """Show the problems by their fields and at the top, focus the first field."""
        for widget_id, message in problems:
            if widget_id:
                self._show_error(widget_id, message)
        self._show_form_errors([message for _, message in problems])
        plural = "s" if len(problems) > 1 else ""
        self.notify(f"{len(problems)} erreur{plural} : rien n'a été enregistré.", title="Demande incomplète",
                    severity="error")
        first = next((widget_id for widget_id, _ in problems if widget_id), None)
        if first:
            widget = self.query_one(f"#{first}")
            widget.focus()
            self.query_one(f"#{first}-row").scroll_visible()
        else:
            self.query_one("#intake-form").scroll_home()

    # -- building and saving --------------------------------------------------------------

    def _build_pupil(self) -> Pupil:
        known, own = self._known_pupil, self.case.pupil if self.case else None
        if own is not None and self._keeps_pseudonym():
            return own  # the same pupil, known by its pseudonym, as stored
        typed = {"last_name": self._value("last-name"), "first_name": self._value("first-name"),
                 "birth_date": self._value("birth-date")}
        if known is not None and (own is None or known.id != own.id):
            return known  # the pupil already in the database, as recorded there
        if own is not None:
            return Pupil(id=own.id, **typed)  # a correction of this request's pupil
        return Pupil(**typed)

    def _case_data(self, pupil: Pupil | None) -> dict[str, Any]:
        kind = self.subject_kind
        motifs = list(self._value("motifs"))
        actions = list(self._value("prior-actions"))
        detail = self._value("prior-detail")
        data: dict[str, Any] = {
            "subject_kind": kind,
            "pupil": pupil,
            "school_id": self._value("school"),
            "requester": self._value("requester"),
            "requester_detail": self._value("requester-detail") if self._value("requester") is Requester.AUTRE else "",
            "date_sent": self._value("sent"),
            "date_received": self._value("received"),
            "urgent": self._value("urgent"),
            "description": self._value("description"),
            "motifs": motifs,
            "other_motif": self._value("other-motif") if Motif.AUTRE in motifs else "",
            "prior_actions": [PriorActionItem(action=action, detail=detail if action is PriorAction.AUTRE else "")
                              for action in actions],
            "parents_informed_on": self._value("parents-informed"),
        }
        if kind is SubjectKind.ELEVE:
            dispositif = self._value("dispositif")
            handicap, aesh = self._value("handicap"), self._value("aesh")
            data.update(
                teacher_name=self._value("pupil-teacher"),
                levels=[self._value("level")] if self._value("level") else [],
                dispositif=None if dispositif == NO_DISPOSITIF else Dispositif(dispositif),
                handicap=None if handicap is None else handicap == YES,
                aesh=None if aesh is None else aesh == YES,
            )
        else:
            data.update(
                teacher_name=self._value("teacher-name") if kind is not SubjectKind.EQUIPE else "",
                team_reference=self._value("team-reference") if kind is SubjectKind.EQUIPE else "",
                levels=list(self._value("levels")),
            )
        if self.case:
            data.update(id=self.case.id, number=self.case.number, school_year=self.case.school_year,
                        sequence=self.case.sequence)
        return {key: value for key, value in data.items() if value is not None or key == "pupil"}

    def build_case(self) -> Case | None:
        """The Case the form describes, or None after showing what is wrong."""
        active = self._active_fields()
        for hidden in set(self._errors) - set(active):
            self._show_error(hidden, "")
        problems = [(widget_id, problem) for widget_id in active if (problem := self._check(widget_id))]
        for widget_id in active:
            self._show_error(widget_id, dict(problems).get(widget_id, ""))
        if problems:
            self._refuse(problems)
            return None
        pupil = None
        if self.subject_kind is SubjectKind.ELEVE:
            try:
                pupil = self._build_pupil()
            except ValidationError as error:
                self._refuse([(PUPIL_FIELD_IDS.get(str(item["loc"][0]) if item["loc"] else "", None), message)
                              for item, message in zip(error.errors(), french_messages(error, Pupil))])
                return None
        try:
            case = Case(**self._case_data(pupil))
        except ValidationError as error:
            self._refuse([(self._case_error_field(item), message)
                          for item, message in zip(error.errors(), french_messages(error, Case))])
            return None
        self._show_form_errors([])
        return case

    def _case_error_field(self, item: dict) -> str | None:
        field = str(item["loc"][0]) if item["loc"] else ""
        if field == "pupil" and len(item["loc"]) > 1:
            return PUPIL_FIELD_IDS.get(str(item["loc"][1]))
        if field == "teacher_name":
            return "pupil-teacher" if self.subject_kind is SubjectKind.ELEVE else "teacher-name"
        if field == "levels":
            return "level" if self.subject_kind is SubjectKind.ELEVE else "levels"
        return CASE_FIELD_IDS.get(field) or CASE_ERROR_IDS.get(item["type"])

    def action_save(self) -> None:
        case = self.build_case()
        if case is None:
            return
        store = self.app.store
        try:
            saved = store.update_case(case) if self.case else store.add_case(case)
        except StoreError as error:
            self.notify(str(error), title="Enregistrement impossible", severity="error")
            return
        verb = "modifiée" if self.case else "enregistrée"
        self.notify(f"Demande {saved.number} {verb}.", title="Enregistré")
        self.dismiss(saved)

    # -- leaving --------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if not self.has_changes:
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmDialog(DISCARD_QUESTION), answered)

    def action_quit_app(self) -> None:
        if not self.has_changes:
            self.app.exit()
            return

        def answered(leave: bool | None) -> None:
            if leave:
                self.app.exit()

        self.app.push_screen(ConfirmDialog(QUIT_QUESTION), answered)

    def action_add_school(self) -> None:
        def added(school: School | None) -> None:
            if school is None:
                return
            schools = self._read(lambda store: store.list_schools(active_only=True), [school])
            select = self.query_one("#school", Select)
            select.set_options(self._school_options(schools))
            select.value = school.id
            self._show_error("school", "")
            self.notify(f"École « {school.name} » ajoutée.")
            select.focus()

        self.app.push_screen(SchoolDialog(), added)

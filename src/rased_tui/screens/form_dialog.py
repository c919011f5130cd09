"""The frame every form dialog shares: the steps of a case (steps.py) and the directory's
records (directory_forms.py).

A `FormDialog` shows a title, a heading of its own, a summary of the errors, its fields and two
buttons. `ctrl+s` asks `build` to check the fields: the problems show in French under their
fields and at the top, and nothing is written; otherwise the write `build` returned runs (one
store call) and the dialog closes. `escape` leaves, asking first when something was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Select, SelectionList, Static, TextArea

from rased_tui.domain.calendar import parse_french_date
from rased_tui.domain.french import count
from rased_tui.domain.models import french_messages
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.store import StoreError
from rased_tui.widgets.form import field_row, field_value
from rased_tui.widgets.toggles import RadioChoice

DISCARD_QUESTION = "Abandonner la saisie ? Ce qui a été tapé sera perdu."
FIELDS = "Input, Select, RadioSet, SelectionList, TextArea, Checkbox"
ResultT = TypeVar("ResultT")
# What `build` returns: the write to run, which returns the message to show once saved, or
# (the value the dialog closes with, that message).
Write = Callable[[], "str | tuple[Any, str]"]


def read_date(text: str, what: str, *, required: bool) -> tuple[date | None, str | None]:
    """A date typed in a form, past or future: (the date, None) or (None, the reason)."""
    if not text.strip():
        return None, f"{what} est obligatoire." if required else None
    try:
        return parse_french_date(text), None
    except ValueError as error:
        return None, str(error)


class FormDialog(ModalScreen[ResultT]):
    """The common frame of the forms; subclasses give `fields` and `build`."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Enregistrer", id="form_save"),
        Binding("escape", "cancel", "Annuler", id="form_cancel"),
        # a dialog does not pass keys on to the application: its help key is its own
        Binding("f1", "app.help", "Aide", key_display="F1", id="form_help"),
    ]
    ID_PREFIX = "form"  # the ids of the frame: {prefix}-form, -title, -errors, -buttons, -save, -cancel
    SAVED: Any = True  # what the dialog closes with after a write that returns only its message
    CANCELLED: Any = None  # ...and when nothing was saved
    NOTHING_DONE = "Rien n'a été enregistré"  # said above the problems (a form that writes a file: « écrit »)
    title_text = ""

    def __init__(self) -> None:
        super().__init__()
        self._initial: tuple | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        prefix = self.ID_PREFIX
        with VerticalScroll(id=f"{prefix}-form"):
            yield Static(self.title_text, id=f"{prefix}-title", markup=False)
            yield from self.heading()
            yield Static("", id=f"{prefix}-errors", classes="error", markup=False)
            yield from self.fields()
            with Horizontal(id=f"{prefix}-buttons"):
                yield Button("Enregistrer (ctrl+s)", id=f"{prefix}-save", variant="primary")
                yield Button("Annuler (échap)", id=f"{prefix}-cancel")

    def heading(self) -> Iterator[Widget]:
        """What the form says between its title and its fields."""
        return iter(())

    def fields(self) -> Iterator[Widget]:
        raise NotImplementedError

    def on_mount(self) -> None:
        for label in self.query(".error"):
            label.display = False
        self.after_mount()
        self._initial = self._state()
        first = next((widget for widget in self.query(FIELDS) if widget.display and widget.can_focus), None)
        if first is not None:
            first.focus()
            if isinstance(first, Input):
                first.select_all()  # typing replaces the date proposed
        for area in self.query(TextArea):
            area.move_cursor(area.document.end)  # a correction goes on from the end of the text

    def after_mount(self) -> None:
        """Show or hide the fields that depend on a choice."""

    @on(Input.Changed)
    @on(TextArea.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    @on(RadioSet.Changed)
    @on(Checkbox.Changed)
    def _field_changed(self, event) -> None:
        """A field being corrected loses its error message (the next save checks it again)."""
        widget = getattr(event, "control", None) or getattr(event, "selection_list", None)
        if widget is not None and widget.id:
            self.show_error(widget.id, "")

    # -- reading the fields ---------------------------------------------------------------

    def value(self, widget_id: str) -> Any:
        """A field's value; the values checked in a list as a list, as the models hold them."""
        value = field_value(self.query_one(f"#{widget_id}"))
        return list(value) if isinstance(value, tuple) else value

    def date_field(self, widget_id: str, what: str, problems: list[tuple[str | None, str]], *,
                   required: bool = True) -> date | None:
        """The date typed in a field (past or future); None, and the problem appended, when it
        does not read (or is missing and required)."""
        day, problem = read_date(self.value(widget_id), what, required=required)
        if problem:
            problems.append((widget_id, problem))
        return day

    def _state(self) -> tuple:
        return tuple(repr(self.value(widget.id)) for widget in self.query(FIELDS) if widget.id)

    @property
    def has_changes(self) -> bool:
        return self._initial is not None and self._state() != self._initial

    # -- errors ---------------------------------------------------------------------------

    def show_error(self, widget_id: str, message: str) -> None:
        labels = self.query(f"#{widget_id}-error")
        if labels:
            label = labels.first(Label)
            label.update(message)
            label.display = bool(message)

    def refuse(self, problems: list[tuple[str | None, str]]) -> None:
        """Show the problems by their fields and at the top; focus the first field concerned."""
        for label in self.query(".field .error"):
            label.display = False
        for widget_id, message in problems:
            if widget_id:
                self.show_error(widget_id, message)
        summary = self.query_one(f"#{self.ID_PREFIX}-errors", Static)
        summary.update(f"{self.NOTHING_DONE} — {count(len(problems), 'erreur')} à corriger :\n"
                       + "\n".join(f"• {message}" for _, message in problems))
        summary.display = True
        first = next((widget_id for widget_id, _ in problems if widget_id), None)
        if first:
            self.query_one(f"#{first}").focus()
            self.query_one(f"#{first}-row").scroll_visible()
        else:
            self.query_one(f"#{self.ID_PREFIX}-form").scroll_home()

    @staticmethod
    def model_problems(error: ValidationError, model: type, field_ids: dict[str, str]) -> list[tuple]:
        """A pydantic refusal as (field id, message) pairs."""
        problems = []
        for item, message in zip(error.errors(), french_messages(error, model)):
            field_name = str(item["loc"][0]) if item["loc"] else ""
            problems.append((field_ids.get(field_name) or field_ids.get(item["type"]), message))
        return problems

    # -- saving and leaving ---------------------------------------------------------------

    @on(Button.Pressed)
    def _button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == f"{self.ID_PREFIX}-save":
            self.action_save()
        elif event.button.id == f"{self.ID_PREFIX}-cancel":
            self.action_cancel()

    def action_save(self) -> None:
        problems: list[tuple[str | None, str]] = []
        write = self.build(problems)
        if problems or write is None:
            self.refuse(problems or [(None, "Formulaire incomplet.")])
            return
        try:
            outcome = write()
        except StoreError as error:
            self.refuse([(None, str(error))])
            self.notify(str(error), title=self.NOTHING_DONE, severity="error")
            return
        result, message = outcome if isinstance(outcome, tuple) else (self.SAVED, outcome)
        self.notify(message, title="Enregistré")
        self.dismiss(result)

    def build(self, problems: list[tuple[str | None, str]]) -> Write | None:
        """Check the fields: append the problems, or return the write to run."""
        raise NotImplementedError

    def action_cancel(self) -> None:
        if not self.has_changes:
            self.dismiss(self.CANCELLED)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(self.CANCELLED)

        self.app.push_screen(ConfirmDialog(DISCARD_QUESTION), answered)

    # -- shared fields --------------------------------------------------------------------

    def radio_field(self, label: str, widget_id: str, options: list[tuple[str, str]], chosen: str | None) -> Widget:
        radio = RadioSet(*[RadioChoice(text, value == chosen, name=value) for text, value in options],
                         id=widget_id, compact=True)
        return field_row(label, radio)

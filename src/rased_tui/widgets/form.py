"""Builders for the lines of a form, shared by the request form and the forms of the steps.

A line is its label, its widget, and under them a label holding the field's error (id
`<widget id>-error`, hidden while empty); the whole line has the id `<widget id>-row`.
"""

from __future__ import annotations

from typing import Any

from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, RadioSet, Select, SelectionList, TextArea


def field_row(label: str, widget: Widget, *extra: Widget) -> Vertical:
    """One line of a form: its label, its widget, and under them the place of its error."""
    return Vertical(
        Horizontal(Label(label, classes="field-label"), widget, *extra, classes="field-line"),
        Label("", id=f"{widget.id}-error", classes="error"),
        id=f"{widget.id}-row",
        classes="field",
    )


def text_input(widget_id: str, value: str, max_length: int = 0, placeholder: str = "") -> Input:
    return Input(value, placeholder=placeholder, id=widget_id, max_length=max_length, compact=True)


def date_input(widget_id: str, value: str) -> Input:
    return text_input(widget_id, value, max_length=10, placeholder="JJ/MM/AAAA")


def choice(widget_id: str, options: list[tuple[str, Any]], value: Any, prompt: str = "Choisir…") -> Select:
    return Select(options, prompt=prompt, id=widget_id, value=value, compact=True)


def field_value(widget: Widget) -> Any:
    """What a field of a form holds: its text, its choice (None when nothing is chosen), its
    checked values (a tuple), its box, or the name of the radio button pressed."""
    if isinstance(widget, Input):
        return widget.value
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, SelectionList):
        return tuple(widget.selected)
    if isinstance(widget, Select):
        return None if widget.value is Select.NULL else widget.value
    if isinstance(widget, Checkbox):
        return widget.value
    if isinstance(widget, RadioSet):
        pressed = widget.pressed_button
        return pressed.name if pressed is not None else None
    raise TypeError(widget.id)

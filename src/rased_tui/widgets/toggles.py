"""Check boxes, radio buttons and check lists that read without colours.

Textual's Checkbox, RadioButton and SelectionList draw the same mark ("X", "●") in every box
and tell the checked ones apart by colour only: in a terminal without colours (NO_COLOR, a
screen reader, a capture) everything looks checked. These draw the mark only when checked.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from rich.segment import Segment
from textual.strip import Strip
from textual.widgets import Checkbox, RadioButton, SelectionList
from textual.widgets.option_list import OptionDoesNotExist

ValueT = TypeVar("ValueT")


class CheckList(SelectionList[ValueT], Generic[ValueT]):
    """A SelectionList with an empty box for the lines that are not checked."""

    def render_line(self, y: int) -> Strip:
        strip = super().render_line(y)
        _, scroll_y = self.scroll_offset
        try:
            selection = self.get_option_at_index(scroll_y + y)
        except OptionDoesNotExist:
            return strip
        if selection.value in self._selected:
            return strip
        segments = list(strip)
        if len(segments) > 1:
            segments[1] = Segment(" " * len(segments[1].text), segments[1].style)
        return Strip(segments, strip.cell_length)


class TickBox(Checkbox):
    """A Checkbox whose box is empty when unchecked."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (Textual's name)
        return "X" if self.value else " "


class RadioChoice(RadioButton):
    """A RadioButton whose circle is empty when not chosen."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 (Textual's name)
        return "●" if self.value else " "

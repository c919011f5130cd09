"""ConfirmDialog: a yes/no question ("Oui" / "Non"), answered with o, n or escape (= non)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class ConfirmDialog(ModalScreen[bool]):
    """Ask a question; dismiss with True (Oui) or False (Non, escape). "Non" has the focus, so
    an absent-minded enter does not discard anything."""

    CSS_PATH = "confirm.tcss"
    BINDINGS = [
        Binding("o", "answer(True)", "Oui", id="confirm_yes"),
        Binding("n", "answer(False)", "Non", id="confirm_no"),
        Binding("escape", "answer(False)", "Non", show=False, id="confirm_escape"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(id="confirm-buttons"):
                yield Button("Oui (o)", id="confirm-yes", variant="error")
                yield Button("Non (n)", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

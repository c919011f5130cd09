"""The "Prises en charge" screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class CaseloadsScreen(Screen[None]):
    """Prises en charge."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Prises en charge")
        yield Footer()

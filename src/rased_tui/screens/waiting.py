"""The "Liste d'attente" screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class WaitingListScreen(Screen[None]):
    """Liste d'attente."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Liste d'attente")
        yield Footer()

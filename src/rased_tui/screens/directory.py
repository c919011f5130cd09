"""The "Annuaire du pôle" screen (being built)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class DirectoryScreen(Screen[None]):
    """Annuaire du pôle."""

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Annuaire du pôle")
        yield Footer()

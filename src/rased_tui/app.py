"""The Textual application: screens, global keys, title, help and the command palette.

The App receives an open Store from the command line (cli.py) and hands it to the screens;
screens never touch SQL themselves.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from rased_tui import __version__
from rased_tui.screens.help import HelpScreen
from rased_tui.screens.home import HomeScreen
from rased_tui.store import Store


class RasedApp(App[None]):
    """rased-tui: the cases of a RASED antenna and of the pôle ressource, at the keyboard."""

    CSS_PATH = "app.tcss"
    TITLE = "rased-tui"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("q", "quit", "Quitter", id="quit"),
        Binding("f1", "help", "Aide", key_display="F1", id="help"),
        Binding("question_mark", "help", "Aide", show=False, id="help_alt"),
    ]

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def on_mount(self) -> None:
        mode = " — lecture seule" if self.store.read_only else ""
        self.title = f"rased-tui {__version__}{mode}"
        self.sub_title = str(self.store.path)
        self.push_screen(HomeScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's commands, in French. Textual's "Screenshot" is left out on purpose: it
        would write the screen (children's names) to ~/Downloads, readable by all."""
        yield SystemCommand("Aide", "Les touches de cet écran et de l'application (F1)", self.action_help)
        yield SystemCommand("Thème", "Changer les couleurs de l'interface", self.action_change_theme)
        yield SystemCommand("Quitter", "Fermer rased-tui (q)", self.action_quit)

    def action_command_palette(self) -> None:
        """The command palette (ctrl+p), its prompt in French."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder="Chercher une commande…"))

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (it copies in a text field): say how to quit, in French."""
        self.notify("Pour quitter, appuyez sur [b]q[/b].", title="Quitter ?")

    def action_help(self) -> None:
        """Open the help of the screen in front (F1 or ?)."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

"""The Textual application: screens, global keys, title, help and the command palette.

The App receives an open Store from the command line (cli.py) and hands it to the screens;
screens never touch SQL themselves. Only the list of cases is imported with the App: each other
screen when first shown (the export and its encryption, the dashboard and its statistics, the
case screen and its forms cost more to import than the list takes to draw).
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from rased_tui import __version__
from rased_tui.screens.cases import CasesScreen
from rased_tui.store import Store


class RasedApp(App[None]):
    """rased-tui: the cases of a RASED antenna and of the pôle ressource, at the keyboard."""

    # The case screen's styles too: read when the first case opens, they would have every style
    # of the app worked out again (a tenth of a second) at that moment.
    CSS_PATH = ["app.tcss", "screens/case.tcss"]
    TITLE = "rased-tui"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        Binding("q", "quit", "Quitter", id="quit"),
        Binding("f1", "help", "Aide", key_display="F1", id="help"),
        Binding("question_mark", "help", "Aide", show=False, id="help_alt"),
        Binding("1", "cases", "Dossiers", show=False, id="cases"),
        Binding("2", "caseloads", "Prises en charge", show=False, id="caseloads"),
        Binding("3", "dashboard", "Tableau de bord", show=False, id="dashboard"),
        Binding("4", "export", "Export / import", show=False, id="export"),
        Binding("5", "waiting_list", "Liste d'attente", show=False, id="waiting_list"),
        Binding("6", "directory", "Annuaire", show=False, id="directory"),
        Binding("7", "meetings", "Réunions du pôle", show=False, id="meetings"),
        Binding("8", "settings", "Paramètres", show=False, id="settings"),
        Binding("ctrl+p", "command_palette", "Commandes", show=False, priority=True,
                tooltip="Ouvrir la palette de commandes", id="command_palette"),
    ]

    def __init__(self, store: Store, *, source: str | None = None, backup_on_start: bool = False) -> None:
        """`source` names what is open under the title, when it is not the store's file (an
        export reviewed in memory). `backup_on_start`: copy the base into its rotating backups
        (store/backups.py) in the background, once the list shows."""
        super().__init__()
        self.store = store
        self.source = source or str(store.path)
        self.backup_on_start = backup_on_start and not store.read_only

    def on_mount(self) -> None:
        mode = " — lecture seule" if self.store.read_only else ""
        self.title = f"rased-tui {__version__}{mode}"
        self.sub_title = self.source
        self.push_screen(CasesScreen())
        if self.backup_on_start:
            self.run_worker(self._rotate_backups, name="backup", group="backup", thread=True, exit_on_error=False)

    def _rotate_backups(self) -> None:
        """A failed backup is said, and the work goes on: the base itself is not touched."""
        from rased_tui.store.backups import backup_before_writing

        problem = backup_before_writing(self.store.path)
        if problem:
            self.call_from_thread(self.notify, f"{problem} La base elle-même n'est pas touchée.",
                                  title="Sauvegarde automatique impossible", severity="warning", timeout=30)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette's commands, in French. Textual's "Screenshot" is left out on purpose: it
        would write the screen (children's names) to ~/Downloads, readable by all."""
        yield SystemCommand("Dossiers", "La liste des dossiers (1)", self.action_cases)
        yield SystemCommand("Prises en charge", "Les aides en cours de chaque membre du RASED (2)",
                            self.action_caseloads)
        yield SystemCommand("Tableau de bord", "Les chiffres de l'année ou d'une période : demandes, aides, "
                            "clôtures, délais (3)", self.action_dashboard)
        yield SystemCommand("Export / import", "Les dossiers sur une clé USB (CSV, pseudonymisés), "
                            "ou l'import d'un export (4)", self.action_export)
        yield SystemCommand("Liste d'attente", "Les aides demandées et pas encore commencées (5)",
                            self.action_waiting_list)
        yield SystemCommand("Annuaire du pôle", "Les membres et les écoles de la circonscription (6)",
                            self.action_directory)
        yield SystemCommand("Réunions du pôle", "Les périodes, les réunions et l'ordre du jour de la prochaine (7)",
                            self.action_meetings)
        yield SystemCommand("Paramètres", "Circonscription, antenne, zone, conservation, options d'export (8)",
                            self.action_settings)
        cases = self._cases_screen()
        if cases is not None and not self.store.read_only:
            yield SystemCommand("Nouvelle demande", "Saisir une demande d'aide au pôle ressource (n)",
                                lambda: self._on_cases(cases.action_new_request))
            yield SystemCommand("Modifier la demande", "Modifier la demande du dossier sélectionné (e)",
                                lambda: self._on_cases(cases.action_edit_request))
        if not self.store.read_only:  # the screen's own commands (a case: its steps, its journal)
            yield from getattr(screen, "system_commands", tuple)()
        if cases is not None:
            yield SystemCommand("Rechercher", "Chercher un élève, un numéro, un texte (/)",
                                lambda: self._on_cases(cases.action_search))
            yield SystemCommand("Filtres", "Année, statut, école, membre, motif, urgents (f)",
                                lambda: self._on_cases(cases.action_filters))
        yield SystemCommand("Aide", "Les touches de cet écran et de l'application (F1)", self.action_help)
        yield SystemCommand("Thème", "Changer les couleurs de l'interface", self.action_change_theme)
        yield SystemCommand("Quitter", "Fermer rased-tui (q)", self.action_quit)

    def _cases_screen(self) -> CasesScreen | None:
        return next((screen for screen in self.screen_stack if isinstance(screen, CasesScreen)), None)

    def action_cases(self) -> bool:
        """Back to the list of cases (1), closing what stands above it — but never a form
        with unsaved changes (a screen says so through its `has_changes` property).
        True when the list is in front."""
        cases = self._cases_screen()
        while cases is not None and self.screen is not cases:
            if busy := getattr(self.screen, "busy_message", ""):  # an export or an import running
                self.notify(busy, severity="warning")
                return False
            if getattr(self.screen, "has_changes", False):
                self.notify("Enregistrez (ctrl+s) ou annulez (échap) d'abord.", severity="warning")
                return False
            self.pop_screen()
        return cases is not None

    def _on_cases(self, action) -> None:
        if self.action_cases():
            action()

    def _show(self, screen_class: type[Screen]) -> None:
        """Bring a screen reached by its number key in front of the list (one of each kind)."""
        if isinstance(self.screen, screen_class):
            return
        if self.action_cases():
            self.push_screen(screen_class())

    def action_caseloads(self) -> None:
        """The caseloads of the RASED members (2)."""
        from rased_tui.screens.caseloads import CaseloadsScreen

        self._show(CaseloadsScreen)

    def action_dashboard(self) -> None:
        """The figures of a school year or a période (3)."""
        from rased_tui.screens.dashboard import DashboardScreen

        self._show(DashboardScreen)

    def action_export(self) -> None:
        """The export for a USB key, and the import of an export (4)."""
        from rased_tui.screens.export import ExportScreen

        self._show(ExportScreen)

    def action_waiting_list(self) -> None:
        """The cases waiting for a RASED aid, oldest first (5)."""
        from rased_tui.screens.waiting import WaitingListScreen

        self._show(WaitingListScreen)

    def action_directory(self) -> None:
        """The directory of the pôle: members and schools (6)."""
        from rased_tui.screens.directory import DirectoryScreen

        self._show(DirectoryScreen)

    def action_meetings(self) -> None:
        """The périodes, the pôle's meetings and the agenda of the next one (7)."""
        from rased_tui.screens.meetings import MeetingsScreen

        self._show(MeetingsScreen)

    def action_settings(self) -> None:
        """The settings of the base (8)."""
        from rased_tui.screens.settings import SettingsScreen

        self._show(SettingsScreen)

    def action_command_palette(self) -> None:
        """The command palette (ctrl+p), its prompt in French."""
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(CommandPalette(id="--command-palette", placeholder="Chercher une commande…"))

    def action_help_quit(self) -> None:
        """ctrl+c does not quit (it copies in a text field): say how to quit, in French."""
        self.notify("Pour quitter, appuyez sur [b]q[/b].", title="Quitter ?")

    def action_help(self) -> None:
        """Open the help of the screen in front (F1 or ?)."""
        from rased_tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

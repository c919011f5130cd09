"""The "Paramètres" screen (`8`): the settings of the base, and their form.

The screen reads the settings (domain/settings.py) and says what each one is for; `e` opens
`SettingsForm` to change them (`ctrl+s` saves, each change audited); `p` runs the retention
purge (store/retention.py) once confirmed. In read-only mode both keys are hidden and the
settings can only be read. The file's own facts (path, schema version,
mode) close the page: the IEN sees which copy he or she is reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from pydantic import ValidationError
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Header, Select, Static

from rased_tui.domain.enums import Zone
from rased_tui.domain.french import count
from rased_tui.domain.settings import MAX_RETENTION_YEARS, Settings
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.form_dialog import FormDialog
from rased_tui.store import Store, StoreError
from rased_tui.store.migrations import SCHEMA_VERSION
from rased_tui.store.retention import JOURNAL_NOT_EMPTIED, purge_summary
from rased_tui.widgets.form import choice, field_row, text_input
from rased_tui.widgets.toggles import TickBox

FORMAT_LABELS = {"excel": "Excel (tableur, séparateur « ; », dates JJ/MM/AAAA)",
                 "rfc4180": "RFC 4180 pour scripts (séparateur « , », dates ISO)"}
# field of Settings -> id of its widget in the form
FIELD_IDS = {"circonscription": "circonscription", "antenna": "antenna", "zone": "zone",
             "retention_years": "retention", "export_folder": "export-folder", "export_format": "export-format"}
NOT_SET = "(non renseigné)"


def yes_no(value: bool) -> str:
    return "oui" if value else "non"


def settings_lines(settings: Settings) -> list[tuple[str, str, str]]:
    """(label, value, what it is for) for each setting, as the screen shows them."""
    zone = settings.zone.label if settings.zone else NOT_SET
    return [
        ("Circonscription", settings.circonscription or NOT_SET, "en tête des exports et du bilan d'activité"),
        ("Antenne", settings.antenna or NOT_SET, "nomme les exports ; un import la reconnaît"),
        ("Zone de vacances", zone, "les dates officielles des périodes d'une année pas encore enregistrée ; "
         "pour une année déjà enregistrée, la touche o de l'écran des réunions (7) reprend celles de la zone"),
        ("Durée de conservation", f"{count(settings.retention_years, 'an')} après la clôture",
         "au-delà, p efface l'identité et les textes d'un dossier clôturé (les chiffres restent)"),
        ("Dossier d'export", settings.export_folder or NOT_SET,
         "proposé par l'export (4) et l'ordre du jour (7) ; sans lui, le dossier du dernier export"),
        ("Format d'export", FORMAT_LABELS[settings.export_format], "proposé par l'export"),
        ("Export chiffré", yes_no(settings.export_encrypted), "case « Chiffrer » cochée d'avance"),
        ("Dossiers ouverts seulement", yes_no(settings.export_open_only), "case cochée d'avance dans l'export"),
    ]


class SettingsScreen(Screen[None]):
    """The settings of the base, read; `e` edits them."""

    CSS_PATH = "settings.tcss"
    HELP = """\
**Paramètres** — les réglages de cette base, gardés dans le fichier lui-même (ils voyagent
avec une copie de la base, pas avec un export).

- **Circonscription**, **antenne** : nomment les exports et le bilan d'activité.
- **Zone de vacances** (A, B ou C) : les périodes de l'année viennent du calendrier officiel
  de la zone (voir les réunions du pôle, `7`).
- **Durée de conservation** : combien d'années un dossier clôturé garde l'identité de l'élève
  et ses textes. Au-delà, `p` (ou `rased-tui purge`) les efface : l'élève n'est plus qu'un
  pseudonyme (s'il n'a pas d'autre dossier gardé), les textes deviennent « [effacé] », le
  journal d'audit perd les siens ; dates, étapes, aides, niveaux et motifs restent, donc les
  chiffres du tableau de bord aussi. Irréversible ; les sauvegardes et exports faits avant
  gardent ces données.
- **Options de l'export** proposées par défaut : dossier, format, chiffrement, dossiers
  ouverts seulement. « Nominatif » et « notes confidentielles » ne se règlent pas ici : ils se
  choisissent à chaque export, exprès.

| Touche | Action |
|---|---|
| `e` | modifier les paramètres (pas en lecture seule) |
| `p` | purge de conservation : efface l'identité et les textes des dossiers clôturés depuis plus longtemps que la durée de conservation, après confirmation ; les chiffres restent (pas en lecture seule) |
| `échap` | retour à la liste des dossiers |
"""

    BINDINGS = [Binding("e", "edit", "Modifier", id="settings_edit"),
                Binding("p", "purge", "Purger les dossiers expirés", id="settings_purge"),
                Binding("escape", "back", "Retour", id="settings_back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="settings-main"):
            yield Static("Paramètres de la base", id="settings-title", markup=False)
            yield Vertical(id="settings-values")
            yield Static("", id="settings-file", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.show_settings()

    def show_settings(self) -> None:
        store = self.app.store
        try:
            settings = store.settings()
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        values = self.query_one("#settings-values", Vertical)
        values.remove_children()
        values.mount_all(Horizontal(Static(label, classes="setting-label", markup=False),
                                    Static(Text.assemble(value, "\n", (purpose, "dim")), classes="setting-value"),
                                    classes="setting")
                         for label, value, purpose in settings_lines(settings))
        mode = "lecture seule" if store.read_only else "lecture et écriture"
        self.query_one("#settings-file", Static).update(
            f"Fichier : {store.path}\nSchéma : version {SCHEMA_VERSION} · ouvert en {mode}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: the settings are shown, not edited (the key is hidden)."""
        return not (action in ("edit", "purge") and self.app.store.read_only)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        try:
            settings = self.app.store.settings()
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        self.app.push_screen(SettingsForm(settings), lambda saved: self.show_settings() if saved else None)

    def action_purge(self) -> None:
        """Say what the retention purge would efface, and do it once confirmed."""
        store = self.app.store
        try:
            plan = store.purge_plan()
        except StoreError as error:
            self.notify(str(error), title="Purge impossible", severity="error")
            return
        if plan.empty:
            self.notify(f"Aucun dossier clôturé au plus tard le {plan.closed_by:%d/%m/%Y} n'a encore son identité "
                        "ou ses textes.", title="Rien à purger")
            return
        by_year = ", ".join(f"{year} : {number}" for year, number in sorted(plan.cases_by_year.items()))
        question = (f"Purge de conservation ({count(plan.retention_years, 'an')} après la clôture) : "
                    f"{purge_summary(plan)}{f' — par année : {by_year}' if by_year else ''}.\n\n"
                    "Les chiffres du tableau de bord restent les mêmes ; ce qui est effacé ne peut pas être "
                    "retrouvé (les sauvegardes faites avant le gardent). Purger ?")

        def answered(yes: bool | None) -> None:
            if yes:
                self._purge()

        self.app.push_screen(ConfirmDialog(question), answered)

    def _purge(self) -> None:
        """In a thread: a purge of tens of thousands of cases takes several seconds."""
        self.notify("Purge en cours…", title="Purge")
        self.run_worker(self._purge_in_background, name="purge", thread=True, exclusive=True, exit_on_error=False)

    def _purge_in_background(self) -> None:
        """On a connection of its own: the screens' connection stays free for them meanwhile,
        and their writes never join the purge's transaction."""
        try:
            with Store.open(self.app.store.path) as own:
                plan = own.purge_expired()
        except StoreError as error:
            self.app.call_from_thread(self.notify, str(error), title="Purge impossible", severity="error")
            return
        self.app.call_from_thread(self.notify, f"{purge_summary(plan)}.", title="Purge faite")
        if not plan.journal_emptied:
            self.app.call_from_thread(self.notify, JOURNAL_NOT_EMPTIED, title="Purge à terminer",
                                      severity="warning", timeout=60)


class SettingsForm(FormDialog[bool]):
    """The settings, edited; closes with True once saved."""

    CSS_PATH = "settings.tcss"
    HELP = """\
**Modifier les paramètres** — `ctrl+s` enregistre, `échap` annule (la saisie est demandée avant
d'être abandonnée). `tab` passe au champ suivant, `espace` coche une case.
"""
    ID_PREFIX = "settings"
    CANCELLED = False
    title_text = "Modifier les paramètres"

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def fields(self) -> Iterator[Widget]:
        settings = self.settings
        yield field_row("Circonscription", text_input("circonscription", settings.circonscription, 120,
                                                      placeholder="Rouen Nord"))
        yield field_row("Antenne", text_input("antenna", settings.antenna, 120, placeholder="RASED de Maromme"))
        yield field_row("Zone de vacances", choice("zone", [(zone.label, zone.value) for zone in Zone],
                                                   settings.zone.value if settings.zone else Select.NULL))
        yield field_row("Conservation (années)", text_input("retention", str(settings.retention_years), 2,
                                                            placeholder=f"1 à {MAX_RETENTION_YEARS}"))
        yield field_row("Dossier d'export", text_input("export-folder", settings.export_folder, 1000,
                                                       placeholder="/media/…/CLE-USB"))
        yield field_row("Format d'export", Select([(label, value) for value, label in FORMAT_LABELS.items()],
                                                  value=settings.export_format, allow_blank=False, compact=True,
                                                  id="export-format"))
        yield field_row("", TickBox("Chiffrer les exports par défaut", settings.export_encrypted, compact=True,
                                    id="export-encrypted"))
        yield field_row("", TickBox("Dossiers ouverts seulement par défaut", settings.export_open_only,
                                    compact=True, id="export-open-only"))

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], str] | None:
        retention = self.value("retention").strip()
        if not retention.isdigit():
            problems.append(("retention", f"Durée de conservation : un nombre d'années, de 1 à {MAX_RETENTION_YEARS}."))
            return None
        data = {"circonscription": self.value("circonscription"), "antenna": self.value("antenna"),
                "zone": self.value("zone"), "retention_years": int(retention),
                "export_folder": self.value("export-folder"), "export_format": self.value("export-format"),
                "export_encrypted": self.value("export-encrypted"), "export_open_only": self.value("export-open-only")}
        try:
            settings = Settings.model_validate(data)
        except ValidationError as error:
            problems.extend(self.model_problems(error, Settings, FIELD_IDS))
            return None
        return lambda: self._write(settings)

    def _write(self, settings: Settings) -> str:
        self.app.store.save_settings(settings)
        return "Paramètres enregistrés."

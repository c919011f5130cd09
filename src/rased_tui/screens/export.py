"""The "Export / import" screen (`4`): the bundle for a USB key, and the import of one.

The form chooses what leaves (a school year, one of its périodes, open cases only), how
(pseudonymised or nominative, with or without the psychologists' confidential notes, CSV for a
spreadsheet or for scripts, in clear or encrypted with a passphrase) and where (a folder, the
one last used kept in the database). A line says how many cases the choice holds and what
will leave. `ctrl+s` exports (exchange/export.py) in a thread worker with a progress bar; a
nominative or confidential export asks first, saying plainly what will leave.

`i` opens `ImportDialog` (a bundle folder or an encrypted `.rased` file, its passphrase, what to
do with conflicts) and imports it (exchange/importer.py, its own connection to the same file)
in a thread worker; the report shows here and the list of cases is read again. Hidden in
read-only mode. `échap` interrupts a running export or import: nothing is written then.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Header, Input, ProgressBar, Select, Static
from textual.worker import Worker, WorkerState, get_current_worker

from rased_tui.domain.calendar import format_french_date
from rased_tui.domain.french import count, os_reason
from rased_tui.exchange.bundle_spec import FILES, MANIFEST
from rased_tui.exchange.export import ExportError, ExportOptions, ExportResult, export_bundle, pseudonym_secret
from rased_tui.exchange.importer import ImportRefused, ImportReport, import_bundle
from rased_tui.store.backups import backup_before_writing
from rased_tui.exchange.sealed import SEALED_SUFFIX, WRONG_PASSPHRASE, SealError, check_passphrase, looks_sealed
from rased_tui.domain.settings import Settings
from rased_tui.exchange.spreadsheet import CsvFormat
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.form_dialog import FormDialog
from rased_tui.store import StoreError
from rased_tui.store.exports import ExportSelection
from rased_tui.store.merge import LABELS
from rased_tui.widgets.form import field_row
from rased_tui.widgets.toggles import TickBox

ALL = "toutes"
# The folder of the last export, proposed when the settings (8) name no default folder. Kept
# apart from the settings' own `export_folder`, which an export never changes.
LAST_FOLDER_SETTING = "last_export_folder"
FOLDER_PLACEHOLDER = "/media/…/CLE-USB"
EXPORT, IMPORT = "export", "import"
FORMATS = [("Excel (tableur, séparateur « ; »)", CsvFormat.EXCEL.value),
           ("RFC 4180 pour scripts (séparateur « , »)", CsvFormat.RFC4180.value)]
PSEUDONYMISED_TEXT = ("pseudonymisé : ni nom ni date de naissance d'élève, ni nom d'enseignant "
                      "(un pseudonyme et l'âge à la place)")
NOMINATIVE_TEXT = "⚠ NOMINATIF : noms et dates de naissance des élèves, noms des enseignants"
# The files counted after an export, with the noun of their rows.
FILE_LABELS = {"dossiers.csv": "dossier", "chronologie.csv": "étape", "prises_en_charge.csv": "aide",
               "evaluations.csv": "évaluation", "eleves.csv": "élève", "ecoles.csv": "école",
               "membres.csv": "membre"}


class Interrupted(Exception):
    """Raised from a progress callback when asked to stop (échap, or the app closing): the
    engine then removes what it had begun to write, or rolls the import back. (A thread worker
    cannot be cancelled from outside: Textual's cancel would only stop waiting for it.)"""


@dataclass
class Outcome:
    """What a worker hands back: its result, or the French sentence saying why there is none."""

    result: ExportResult | ImportReport | None = None
    error: str = ""
    wrong_passphrase: bool = False
    field: str = ""  # the field the error is about (said under it, and focused)


@dataclass
class ImportRequest:
    """What the import dialog asks."""

    path: Path
    passphrase: str = field(default="", repr=False)
    prefer_newer: bool = False
    sealed: bool = False


def is_sealed_file(path: Path) -> bool:
    """A file whose first bytes are those of an encrypted bundle (or named *.rased)."""
    try:
        if not path.is_file():
            return False
        if path.suffix == SEALED_SUFFIX:
            return True
        with path.open("rb") as stream:
            return looks_sealed(stream.read(64))
    except OSError:
        return False


def missing_folder_text(folder: Path) -> str:
    """The destination is not there (often: the USB key is not plugged in)."""
    return f"{folder} n'existe pas : la clé USB est-elle branchée ? Choisissez un dossier existant."


def file_error_text(error: OSError, where: Path | str) -> str:
    """An error of the file system as one French sentence."""
    return f"Écriture impossible dans {error.filename or where} : {os_reason(error)}. Rien n'a été exporté."


def counts_text(row_counts: dict[str, int]) -> str:
    """'40 dossiers, 312 étapes, 35 aides, 20 évaluations, 38 élèves, 12 écoles, 15 membres'."""
    return ", ".join(count(row_counts.get(name, 0), noun) for name, noun in FILE_LABELS.items())


def what_leaves(nominative: bool, confidential: bool, encrypted: bool) -> str:
    """The line under the form: what an export with these options carries, and how."""
    parts = [NOMINATIVE_TEXT if nominative else PSEUDONYMISED_TEXT.capitalize(),
             "⚠ avec les notes confidentielles des psychologues" if confidential else
             "sans les notes confidentielles",
             f"chiffré (un seul fichier {SEALED_SUFFIX})" if encrypted else "en clair (un dossier de fichiers CSV)"]
    return " · ".join(parts)


class PathSuggester(Suggester):
    """Completes a path with the first entry of its folder that starts like what is typed
    (→ accepts): folders only, or folders and encrypted files for an import."""

    def __init__(self, *, bundles: bool) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.bundles = bundles

    async def get_suggestion(self, value: str) -> str | None:
        if not value:
            return None
        typed = Path(value).expanduser()
        folder, start = (typed, "") if value.endswith(("/", os.sep)) else (typed.parent, typed.name)
        try:
            with os.scandir(folder) as entries:
                names = sorted(entry.name for entry in entries
                               if entry.name.startswith(start) and not entry.name.startswith(".")
                               and (entry.is_dir() or self.bundles and entry.name.endswith(SEALED_SUFFIX)))
        except OSError:
            return None
        if self.bundles:  # the newest export first (their names end with the date and time)
            exports = sorted((name for name in names if name.startswith("rased-export")), reverse=True)
            names = exports or names
        if not names or names[0] == start:
            return None
        return value + names[0][len(start):]


class ExportScreen(Screen[None]):
    """Export for a USB key, and import of an export."""

    CSS_PATH = "export.tcss"
    HELP = f"""\
**Export / import** — les dossiers sur une clé USB, pour un tableur ou pour une autre antenne,
et l'import d'un export reçu.

- **Année scolaire**, **période**, **dossiers ouverts seulement** : les dossiers qui partent
  (avec leurs élèves, étapes, aides et évaluations ; les écoles, les membres, les périodes et
  les réunions partent entiers). La ligne sous le formulaire dit combien.
- Par défaut l'export est **pseudonymisé** : ni nom ni date de naissance d'élève, ni nom
  d'enseignant ; chaque élève a un pseudonyme stable et un âge. **Nominatif** ajoute les noms
  et dates de naissance ; **notes confidentielles** ajoute les notes des psychologues. Ces deux
  choix sont demandés une seconde fois avant d'écrire.
- **Format** : *Excel* (séparateur « ; », s'ouvre d'un double clic) ou *RFC 4180* (« , », pour
  des scripts).
- **Chiffrer** : un seul fichier `{SEALED_SUFFIX}` protégé par une phrase de passe (au moins
  10 caractères, plusieurs mots) ; sans elle, personne ne l'ouvre — ne la perdez pas.
- L'export s'écrit dans un dossier `rased-export-…` (10 fichiers CSV et {MANIFEST}) sous le
  **dossier de destination**, qui doit exister (la clé USB branchée) : vide tant que vous ne
  l'avez pas choisi, puis celui du dernier export est proposé. `→` complète un chemin.
- **Importer** (`i`) : un dossier `rased-export-…` ou un fichier `{SEALED_SUFFIX}`. Tout est
  vérifié avant d'écrire (un fichier modifié est refusé) ; un dossier modifié des deux côtés
  est un conflit : la version d'ici est gardée, sauf si vous choisissez la plus récente.

| Touche | Action |
|---|---|
| `ctrl+s` | exporter |
| `i` | importer un export (pas en lecture seule) |
| `tab` / `maj+tab` | champ suivant / précédent |
| `espace` | cocher une case ; `entrée` ouvre une liste |
| `échap` | interrompre l'export ou l'import en cours (rien n'est écrit), sinon revenir aux dossiers |

En ligne de commande : `rased-tui export --out DOSSIER [--nominatif] [--inclure-confidentiel]
[--chiffrer] [--format excel|rfc4180] [--annee AAAA-AAAA [--periode N]] [--ouverts]` et
`rased-tui import EXPORT [--prefer-newer]`.
"""
    BINDINGS = [
        Binding("ctrl+s", "export", "Exporter", id="export_run"),
        Binding("i", "import_bundle", "Importer", id="export_import"),
        # échap: back to the list, or while an export or an import runs, interrupt it
        Binding("escape", "back", "Retour", id="export_back"),
        Binding("escape", "interrupt", "Interrompre", id="export_interrupt"),
        Binding("q", "quit_app", "Quitter", id="export_quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.job: str | None = None  # EXPORT or IMPORT while a worker runs
        self.last_result: ExportResult | ImportReport | None = None
        self._interrupt = threading.Event()
        self._running: ExportOptions | None = None  # the options of the export running
        self._last_import: ImportRequest | None = None

    # -- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="export-main"):
            yield Static("Export pour une clé USB (fichiers CSV pour un tableur) · import d'un export",
                         id="export-title", markup=False)
            with Vertical(id="export-form"):
                yield from self._fields()
                yield Static("", id="export-summary", markup=False)
                with Horizontal(id="export-buttons"):
                    yield Button("Exporter (ctrl+s)", id="export-run", variant="primary", compact=True)
                    yield Button("Importer (i)", id="export-import", compact=True)
            with Vertical(id="export-activity"):
                yield Static("", id="export-status", markup=False)
                yield ProgressBar(total=len(FILES), show_eta=False, id="export-progress")
                yield Static("", id="export-result", markup=False)
        yield Footer()

    def _fields(self) -> Iterator[Widget]:
        store = self.app.store
        try:
            years = store.school_years()
            defaults = store.settings()  # the default options of the settings (8)
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            years, defaults = [], Settings()
        yield field_row("Année scolaire", Select([("Toutes les années", ALL)] + [(year, year) for year in years],
                                                 value=ALL, allow_blank=False, compact=True, id="export-year"))
        yield field_row("Période", Select([("Toute l'année", ALL)], value=ALL, allow_blank=False, compact=True,
                                          id="export-period"))
        yield field_row("Dossiers", TickBox("Dossiers ouverts seulement", defaults.export_open_only, compact=True,
                                            id="export-open-only"))
        yield field_row("Contenu", TickBox("Nominatif (noms, dates de naissance)", compact=True,
                                           id="export-nominative"))
        yield field_row("", TickBox("Inclure les notes confidentielles", compact=True, id="export-confidential"))
        yield field_row("Format", Select(FORMATS, value=defaults.export_format, allow_blank=False, compact=True,
                                         id="export-format"))
        yield field_row("Chiffrement", TickBox(f"Chiffrer (phrase de passe, un fichier {SEALED_SUFFIX})",
                                               defaults.export_encrypted, compact=True, id="export-encrypt"))
        yield field_row("Phrase de passe", Input(password=True, compact=True, id="export-passphrase",
                                                 placeholder="au moins 10 caractères, plusieurs mots"))
        yield field_row("Confirmation", Input(password=True, compact=True, id="export-passphrase-again",
                                              placeholder="la même phrase, encore"))
        yield field_row("Dossier de destination", Input(self.proposed_folder(defaults), compact=True, id="export-folder",
                                                        suggester=PathSuggester(bundles=False),
                                                        placeholder=FOLDER_PLACEHOLDER))

    def proposed_folder(self, defaults: Settings) -> str:
        """The settings' folder, else the last export's; empty when neither (nothing is
        written where the user did not choose)."""
        try:
            return defaults.export_folder or self.app.store.get_setting(LAST_FOLDER_SETTING) or ""
        except StoreError:
            return defaults.export_folder

    def on_mount(self) -> None:
        for label in self.query(".field .error"):
            label.display = False
        self.query_one("#export-progress").display = False
        self._status("")
        self._say("")
        self.query_one("#export-import").display = not self.app.store.read_only
        # a read-only review hides the confidential notes: it cannot export them either
        self.query_one("#export-confidential-row").display = not self.app.store.read_only
        self._show_encryption()
        self._show_periods()
        self._show_summary()
        self.query_one("#export-year", Select).focus()

    # -- the form -------------------------------------------------------------------------

    def value(self, widget_id: str):
        widget = self.query_one(f"#{widget_id}")
        if isinstance(widget, Select):
            return None if widget.value in (ALL, Select.NULL) else widget.value
        return widget.value

    def selection(self) -> ExportSelection:
        year = self.value("export-year")
        period = self.value("export-period") if year else None
        return ExportSelection(school_year=year, period_number=int(period) if period else None,
                               open_only=self.value("export-open-only"),
                               include_confidential=self.value("export-confidential"))

    @on(Select.Changed, "#export-year")
    def _show_periods(self) -> None:
        """The périodes of the year chosen (with their dates); none without a year."""
        year = self.value("export-year")
        period = self.query_one("#export-period", Select)
        options = [("Toute l'année", ALL)]
        if year:
            try:
                options += [(f"Période {span.number} (du {format_french_date(span.start)} au "
                             f"{format_french_date(span.end)})", str(span.number))
                            for span in self.app.store.periods_of_year(year)]
            except StoreError as error:
                self.notify(str(error), title="Lecture impossible", severity="error")
        with period.prevent(Select.Changed):
            period.set_options(options)
            period.value = ALL
        period.disabled = not year
        self._show_summary()

    @on(Checkbox.Changed, "#export-encrypt")
    def _show_encryption(self) -> None:
        encrypted = self.value("export-encrypt")
        for widget_id in ("export-passphrase", "export-passphrase-again"):
            self.query_one(f"#{widget_id}-row").display = encrypted
            if not encrypted:
                self.query_one(f"#{widget_id}", Input).value = ""

    @on(Select.Changed)
    @on(Checkbox.Changed)
    def _show_summary(self) -> None:
        """How many cases the choice holds, and what will leave."""
        try:
            chosen = self.app.store.count_chosen_cases(self.selection())
        except StoreError as error:
            self.query_one("#export-summary", Static).update(f"Lecture impossible : {error}")
            return
        text = (f"{count(chosen, 'dossier')} à exporter · "
                + what_leaves(self.value("export-nominative"), self.value("export-confidential"),
                              self.value("export-encrypt")))
        summary = self.query_one("#export-summary", Static)
        summary.update(text)
        summary.set_class(bool(self.value("export-nominative") or self.value("export-confidential")), "warning")

    @on(Input.Changed)
    def _field_changed(self, event: Input.Changed) -> None:
        """A field being corrected loses its error message (the next export checks it again)."""
        if event.input.id:
            self.show_error(event.input.id, "")

    def show_error(self, widget_id: str, message: str) -> None:
        label = self.query_one(f"#{widget_id}-error", Static)
        label.update(message)
        label.display = bool(message)

    def _options(self) -> tuple[Path, ExportOptions] | None:
        """The options of the form, or None when a field is wrong (said under it)."""
        problems: list[tuple[str, str]] = []
        passphrase = None
        if self.value("export-encrypt"):
            passphrase = self.value("export-passphrase")
            try:
                check_passphrase(passphrase)
            except SealError as error:
                problems.append(("export-passphrase", str(error)))
            else:
                if self.value("export-passphrase-again") != passphrase:
                    problems.append(("export-passphrase-again",
                                     "Les deux phrases de passe diffèrent : retapez-la à l'identique."))
        typed = self.value("export-folder").strip()
        folder = Path(typed).expanduser()
        if not typed:
            problems.append(("export-folder", "Indiquez le dossier où écrire l'export (la clé USB, par exemple)."))
        elif not folder.exists():
            problems.append(("export-folder", missing_folder_text(folder)))
        elif not folder.is_dir():
            problems.append(("export-folder", f"{folder} n'est pas un dossier."))
        for widget_id, message in problems:
            self.show_error(widget_id, message)
        if problems:
            self.query_one(f"#{problems[0][0]}").focus()
            self._say("Rien n'a été exporté : " + " ".join(message for _, message in problems), error=True)
            return None
        options = ExportOptions(selection=self.selection(), nominative=self.value("export-nominative"),
                                csv_format=CsvFormat(self.value("export-format")), passphrase=passphrase)
        return folder, options

    # -- exporting ------------------------------------------------------------------------

    @on(Button.Pressed, "#export-run")
    def action_export(self) -> None:
        if self._busy_says_so():
            return
        chosen = self._options()
        if chosen is None:
            return
        folder, options = chosen
        question = self._question(options)
        if question is None:
            self._start_export(folder, options)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._start_export(folder, options)
            else:
                self._say("Export annulé : rien n'a été écrit.")

        self.app.push_screen(ConfirmDialog(question), answered)

    def _question(self, options: ExportOptions) -> str | None:
        """What a nominative or confidential export carries, asked before writing it."""
        selection = options.selection
        if not options.nominative and not selection.include_confidential:
            return None
        store = self.app.store
        try:
            cases = store.count_chosen_cases(selection)
            pupils = store.count_chosen_pupils(selection) if options.nominative else 0
        except StoreError as error:
            self._say(str(error), error=True)
            return None
        lines = [f"Cet export de {count(cases, 'dossier')} contiendra :"]
        if options.nominative:
            lines.append(f"• les noms, prénoms et dates de naissance de {count(pupils, 'élève')} ;")
            lines.append("• les noms des enseignants et les textes tels qu'ils ont été saisis ;")
        if selection.include_confidential:
            lines.append("• les notes confidentielles des psychologues ;")
        lines.append("• " + ("chiffré par la phrase de passe." if options.passphrase else
                             "EN CLAIR : lisible par quiconque trouve la clé USB."))
        lines.append("\nÀ ne remettre qu'à une personne qui doit le connaître. Exporter ?")
        return "\n".join(lines)

    def _start_export(self, folder: Path, options: ExportOptions) -> None:
        store = self.app.store
        try:
            pseudonym_secret(store)  # made here, in this thread, on the first export of a base
        except StoreError as error:
            self._say(str(error), error=True)
            return
        self._running = options
        self._begin(EXPORT, "Export en cours…", len(FILES))

        def work() -> Outcome:
            worker = get_current_worker()

            def progress(name: str, done: int, total: int, rows: int) -> None:
                if worker.is_cancelled or self._interrupt.is_set():
                    raise Interrupted
                self.app.call_from_thread(self._show_progress, EXPORT, name, done, total, rows,
                                          bool(options.passphrase))

            try:
                return Outcome(export_bundle(store, folder, options, progress=progress))
            except Interrupted:
                return Outcome(error="Export interrompu : rien n'a été écrit.")
            except ExportError as error:  # about the destination: said under it
                return Outcome(error=str(error), field="export-folder")
            except (SealError, StoreError) as error:
                return Outcome(error=f"{error} Rien n'a été exporté." if isinstance(error, StoreError) else str(error))
            except FileNotFoundError:  # the key pulled out meanwhile
                return Outcome(error=f"{missing_folder_text(folder)} Rien n'a été exporté.", field="export-folder")
            except OSError as error:
                return Outcome(error=file_error_text(error, folder), field="export-folder")
            except Exception as error:  # never a traceback on the screen
                return Outcome(error=f"Erreur inattendue ({type(error).__name__}) : rien n'a été exporté.")

        self.run_worker(work, name=EXPORT, group="exchange", thread=True, exclusive=True, exit_on_error=False)

    def _export_done(self, outcome: Outcome) -> None:
        if outcome.error:
            self._say(outcome.error, error=True)
            if outcome.field:
                self.show_error(outcome.field, outcome.error)
            self.notify(outcome.error, title="Export impossible", severity="error")
            return
        result = outcome.result
        assert isinstance(result, ExportResult)
        self.last_result = result
        options = self._running or ExportOptions()
        lines = [f"Export écrit : {result.path}",
                 counts_text(result.row_counts) + f" ({len(FILES)} fichiers CSV et {MANIFEST}).",
                 (NOMINATIVE_TEXT if options.nominative else PSEUDONYMISED_TEXT.capitalize()) + "."]
        if options.selection.include_confidential:
            lines.append("⚠ Notes confidentielles des psychologues incluses.")
        if result.path.name.endswith(SEALED_SUFFIX):
            lines.append("Chiffré : il s'ouvre avec sa phrase de passe (rased-tui import, ou `i` ici).")
        if not result.stable_pseudonyms:
            lines.append("Base en lecture seule : les pseudonymes de cet export ne seront pas les mêmes "
                         "au prochain export.")
        self._say("\n".join(lines))
        self.notify(str(result.path), title="Export écrit")
        for widget_id in ("export-passphrase", "export-passphrase-again"):
            self.query_one(f"#{widget_id}", Input).value = ""  # the passphrase does not stay on screen
        self._remember_folder(result.path.parent)

    def _remember_folder(self, folder: Path) -> None:
        """The folder is proposed for the next export (kept in the base when it can be written)."""
        store = self.app.store
        if store.read_only:
            return
        try:
            if store.get_setting(LAST_FOLDER_SETTING) != str(folder):
                store.set_setting(LAST_FOLDER_SETTING, str(folder))
        except StoreError as error:
            self.notify(str(error), title="Dossier non retenu", severity="warning")

    # -- importing ------------------------------------------------------------------------

    @on(Button.Pressed, "#export-import")
    def action_import_bundle(self) -> None:
        if self.app.store.read_only:
            self.notify("Base ouverte en lecture seule : pas d'import.", severity="warning")
            return
        if self._busy_says_so():
            return
        self._ask_import(self._last_import)

    def _ask_import(self, previous: ImportRequest | None, passphrase_error: str = "") -> None:
        try:
            folder = self.proposed_folder(self.app.store.settings())
        except StoreError:
            folder = ""
        # the last import, else the folder of the last export (often the USB key) to complete
        # with → ; else nothing
        if previous:
            start = str(previous.path)
        else:
            start = folder.rstrip(os.sep) + os.sep if folder else ""
        dialog = ImportDialog(start, previous.prefer_newer if previous else False, passphrase_error)
        self.app.push_screen(dialog, self._start_import)

    def _start_import(self, request: ImportRequest | None) -> None:
        if request is None:
            return
        self._last_import = ImportRequest(request.path, prefer_newer=request.prefer_newer, sealed=request.sealed)
        database = self.app.store.path
        reading = "Déchiffrement et vérification" if request.sealed else "Lecture et vérification"
        self._begin(IMPORT, f"{reading} de {request.path.name}…", len(FILES) - 1)

        def work() -> Outcome:
            worker = get_current_worker()

            def progress(table: str, done: int, total: int, rows: int) -> None:
                if worker.is_cancelled or self._interrupt.is_set():
                    raise Interrupted
                self.app.call_from_thread(self._show_progress, IMPORT, table, done, total, rows, False)

            problem = backup_before_writing(database)
            if problem:
                self.app.call_from_thread(self.notify, f"{problem} L'import continue.",
                                          title="Sauvegarde automatique impossible", severity="warning")
            try:
                return Outcome(import_bundle(database, request.path, prefer_newer=request.prefer_newer,
                                             passphrase=lambda: request.passphrase, progress=progress))
            except ImportRefused as error:
                return Outcome(error=str(error), wrong_passphrase=str(error) == WRONG_PASSPHRASE)
            except Interrupted:
                return Outcome(error="Import interrompu : rien n'a été importé.")
            except StoreError as error:
                return Outcome(error=f"{error} Rien n'a été importé.")
            except OSError as error:
                return Outcome(error=f"Lecture impossible de {error.filename or request.path} : "
                                     f"{os_reason(error)}. Rien n'a été importé.")
            except Exception as error:  # never a traceback on the screen
                return Outcome(error=f"Erreur inattendue ({type(error).__name__}) : rien n'a été importé.")

        self.run_worker(work, name=IMPORT, group="exchange", thread=True, exclusive=True, exit_on_error=False)

    def _import_done(self, outcome: Outcome) -> None:
        if outcome.error:
            self._say(outcome.error, error=True)
            self.notify(outcome.error, title="Import refusé", severity="error")
            if outcome.wrong_passphrase and self._last_import is not None:
                self._ask_import(self._last_import, outcome.error)
            return
        report = outcome.result
        assert isinstance(report, ImportReport)
        self.last_result = report
        self._say("\n".join(report.lines()))
        changed = report.merge.changed_anything
        self.notify(f"{report.bundle.name} : " + ("importé." if changed else "rien de nouveau."),
                    title="Import terminé")
        if changed:
            self._after_import()

    def _after_import(self) -> None:
        """What the other screens show follows the import: the list of cases is read again
        (the other screens read theirs when they come back), and so are the years here."""
        from rased_tui.screens.cases import CasesScreen

        for screen in self.app.screen_stack:
            if isinstance(screen, CasesScreen) and screen.is_mounted:
                screen.reload(select_case_id=screen.selected_case_id())
        year = self.query_one("#export-year", Select)
        kept = year.value
        try:
            years = self.app.store.school_years()
        except StoreError as error:
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        with year.prevent(Select.Changed):
            year.set_options([("Toutes les années", ALL)] + [(item, item) for item in years])
            year.value = kept if kept in years else ALL
        self._show_periods()
        self._show_summary()

    # -- the workers ------------------------------------------------------------------------

    def _begin(self, job: str, status: str, total: int) -> None:
        self.job = job
        self._interrupt.clear()
        self.query_one("#export-form").disabled = True
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=total, progress=0)
        bar.display = True
        self._status(status)
        self._say("")
        self.refresh_bindings()

    def _show_progress(self, job: str, name: str, done: int, total: int, rows: int, sealing: bool) -> None:
        if self.job != job:
            return
        self.query_one("#export-progress", ProgressBar).update(total=total, progress=done)
        if job == EXPORT:
            if done >= total:
                text = "Chiffrement…" if sealing else "Écriture du manifeste…"
            else:
                text = f"{done}/{total} fichiers écrits · {name} : {count(rows, 'ligne')}"
        else:
            label = LABELS.get(name, name)
            text = f"Import : {count(rows, label)} ({done}/{total})"
        self._status(text)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.name not in (EXPORT, IMPORT) or not self.is_mounted or event.state not in (
                WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if event.state is WorkerState.SUCCESS and isinstance(worker.result, Outcome):
            outcome = worker.result
        elif event.state is WorkerState.CANCELLED:
            outcome = Outcome(error="Interrompu : rien n'a été écrit.")
        else:
            outcome = Outcome(error=f"Erreur inattendue : rien n'a été {'exporté' if worker.name == EXPORT else 'importé'}.")
        self.job = None
        self.query_one("#export-form").disabled = False
        self._status("")
        bar = self.query_one("#export-progress", ProgressBar)
        bar.display = outcome.error == ""
        self.refresh_bindings()
        if worker.name == EXPORT:
            self._export_done(outcome)
        else:
            self._import_done(outcome)
        if outcome.field:  # back in the field to correct (letters typed go there, not to shortcuts)
            self.query_one(f"#{outcome.field}", Input).focus()
            self.query_one(f"#{outcome.field}-row").scroll_visible()
        else:
            self.query_one("#export-run", Button).focus()
            self.query_one("#export-activity").scroll_visible()

    def _status(self, text: str) -> None:
        status = self.query_one("#export-status", Static)
        status.update(text)
        status.display = bool(text)

    def _say(self, text: str, *, error: bool = False) -> None:
        result = self.query_one("#export-result", Static)
        result.update(text)
        result.set_class(error, "error-text")
        result.display = bool(text)

    @property
    def busy_message(self) -> str:
        """While an export or an import runs, the screen stays (the app asks before leaving)."""
        if self.job is None:
            return ""
        what = "L'export" if self.job == EXPORT else "L'import"
        return f"{what} est en cours : attendez la fin, ou échap pour l'interrompre."

    def _busy_says_so(self) -> bool:
        if self.job is not None:
            self.notify(self.busy_message, severity="warning")
        return self.job is not None

    # -- leaving --------------------------------------------------------------------------

    def action_back(self) -> None:
        """Back to the list of cases."""
        if self.job is None:
            self.dismiss(None)

    def action_interrupt(self) -> None:
        """Stop the export or import running: the engine removes what it began (or rolls back)."""
        if self.job is not None:
            self._interrupt.set()
            self._status("Interruption… (rien ne sera écrit)")

    async def action_quit_app(self) -> None:
        if self._busy_says_so():
            return
        await self.app.action_quit()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Read-only: no import (the key is hidden); neither export nor import while one runs."""
        if action == "import_bundle" and self.app.store.read_only:
            return False
        if action in ("export", "import_bundle", "back") and self.job is not None:
            return False
        if action == "interrupt" and self.job is None:
            return False
        return True


class ImportDialog(FormDialog[ImportRequest | None]):
    """The bundle to import (a folder rased-export-… or a .rased file), its passphrase when it
    is encrypted, and whether the newer version wins a conflict. Closes with the request."""

    CSS_PATH = "export.tcss"
    ID_PREFIX = "import"
    HELP = f"""\
**Importer un export** — le chemin d'un dossier `rased-export-…` ou d'un fichier `{SEALED_SUFFIX}`
(chiffré : sa phrase de passe est alors demandée). `→` complète le chemin avec le dernier export
du dossier. L'export est vérifié en entier avant d'écrire quoi que ce soit ; un dossier, une
étape, une aide modifiés ici et dans l'export sont des conflits : la version d'ici est gardée,
sauf si vous cochez « garder la version la plus récente ». `ctrl+s` ou `entrée` importe,
`échap` annule.
"""

    def __init__(self, path: str = "", prefer_newer: bool = False, passphrase_error: str = "") -> None:
        super().__init__()
        self.start_path = path
        self.prefer_newer = prefer_newer
        self.passphrase_error = passphrase_error
        self.title_text = "Importer un export"

    def heading(self) -> Iterator[Widget]:
        yield Static("Un dossier rased-export-… ou un fichier chiffré .rased (sur la clé USB, par exemple). "
                     "Rien n'est écrit si l'export est incomplet ou a été modifié.", id="import-intro", markup=False)

    def fields(self) -> Iterator[Widget]:
        yield field_row("Export à importer", Input(self.start_path, compact=True, id="import-path",
                                                   suggester=PathSuggester(bundles=True),
                                                   placeholder="dossier rased-export-… ou fichier .rased"))
        yield field_row("Phrase de passe", Input(password=True, compact=True, id="import-passphrase",
                                                 placeholder="celle choisie lors de l'export"))
        yield field_row("Conflits", TickBox("En cas de conflit, garder la version la plus récente",
                                            self.prefer_newer, compact=True, id="import-prefer-newer"))

    def after_mount(self) -> None:
        self.query_one("#import-save", Button).label = "Importer (ctrl+s)"
        self._show_passphrase()
        if self.passphrase_error:
            self.show_error("import-passphrase", self.passphrase_error)
            self.call_after_refresh(self.query_one("#import-passphrase", Input).focus)
        else:
            self.call_after_refresh(self._cursor_at_end)

    def _cursor_at_end(self) -> None:
        """The path proposed is completed, not replaced: the cursor after it."""
        path = self.query_one("#import-path", Input)
        path.cursor_position = len(path.value)

    def _path(self) -> Path:
        return Path(self.value("import-path").strip()).expanduser()

    @on(Input.Changed, "#import-path")
    def _show_passphrase(self) -> None:
        self.query_one("#import-passphrase-row").display = is_sealed_file(self._path())

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        problems: list[tuple[str | None, str]] = []
        request = self.build(problems)
        if problems or request is None:
            self.refuse(problems or [(None, "Formulaire incomplet.")])
            return
        self.dismiss(request)

    def build(self, problems: list[tuple[str | None, str]]) -> ImportRequest | None:  # type: ignore[override]
        typed = self.value("import-path").strip()
        path = self._path()
        if not typed:
            problems.append(("import-path", "Indiquez le dossier rased-export-… ou le fichier .rased à importer."))
            return None
        if not path.exists():
            problems.append(("import-path", f"{path} n'existe pas."))
            return None
        sealed = is_sealed_file(path)
        passphrase = self.value("import-passphrase") if sealed else ""
        if sealed and not passphrase:
            problems.append(("import-passphrase", "Cet export est chiffré : saisissez sa phrase de passe."))
            return None
        return ImportRequest(path, passphrase, bool(self.value("import-prefer-newer")), sealed)

    def refuse(self, problems: list[tuple[str | None, str]]) -> None:
        super().refuse(problems)
        summary = self.query_one("#import-errors", Static)
        summary.update("Rien n'a été importé :\n" + "\n".join(f"• {message}" for _, message in problems))

"""The "Export / import" screen (`4`, screens/export.py) driven through Textual's Pilot, over the
engine (exchange/export.py, exchange/importer.py): what is written on disk, what the database
holds, and what the screen says. Today is 21/11/2026 (conftest.py); scrypt runs at its test cost.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from textual.widgets import Button, Checkbox, DataTable, Input, Select

from rased_tui.app import RasedApp
from rased_tui.domain.filters import CaseFilter
from rased_tui.exchange import sealed
from rased_tui.exchange.bundle_spec import FILES, MANIFEST
from rased_tui.exchange.demo import generate_demo
from rased_tui.exchange.export import ExportOptions, export_bundle
from rased_tui.screens import export as export_screen
from rased_tui.screens.cases import CasesScreen
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.directory import DirectoryScreen
from rased_tui.screens.export import ExportScreen, ImportDialog
from rased_tui.screens.help import HelpScreen
from rased_tui.store import Store
from rased_tui.store.exports import ExportSelection

SIZE = (120, 40)
BUNDLE_FILES = {bundle_file.name for bundle_file in FILES} | {MANIFEST}
PASSPHRASE = "cheval agrafe pile correcte"


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setattr(sealed, "SCRYPT_LOG2_N", 14)


@pytest.fixture
def demo(store) -> Store:
    generate_demo(store, cases=40, seed=1)
    return store


# -- helpers ------------------------------------------------------------------------------------


async def press(pilot, *keys: str):
    await pilot.press(*keys)
    await pilot.pause()
    return pilot.app.screen


async def open_export(pilot) -> ExportScreen:
    screen = await press(pilot, "4")
    assert isinstance(screen, ExportScreen)
    return screen


async def finish(pilot) -> None:
    """Wait for the export or import worker, then for the screen to show its outcome."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


def shown(screen, widget_id: str) -> str:
    widget = screen.query_one(f"#{widget_id}")
    return str(widget.render()) if widget.display else ""


def field_error(screen, widget_id: str) -> str:
    return shown(screen, f"{widget_id}-error")


async def set_fields(pilot, screen, **values) -> None:
    """Set fields by id without the 'export-' prefix (underscores for dashes)."""
    for key, value in values.items():
        widget = screen.query_one(f"#export-{key.replace('_', '-')}")
        widget.value = value
        await pilot.pause()


def usb_key(tmp_path: Path, name: str = "out") -> Path:
    """The destination: a folder that exists (the USB key plugged in)."""
    folder = tmp_path / name
    folder.mkdir()
    return folder


def bundles_in(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def manifest_of(bundle: Path) -> dict:
    return json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))


# -- export -------------------------------------------------------------------------------------


async def test_export_with_defaults_writes_the_bundle_says_where_and_remembers_the_folder(demo, tmp_path):
    out = usb_key(tmp_path, "cle-usb")
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        folder = screen.query_one("#export-folder", Input)
        # nothing remembered yet: empty, the user chooses where the data goes
        assert folder.value == "" and folder.placeholder == "/media/…/CLE-USB"
        assert shown(screen, "export-summary").startswith("40 dossiers à exporter · Pseudonymisé")
        assert not screen.query_one("#export-passphrase-row").display
        assert screen.query_one("#export-period", Select).disabled  # no période without a year
        await set_fields(pilot, screen, folder=str(out))
        await press(pilot, "ctrl+s")
        await finish(pilot)
        [bundle] = bundles_in(out)
        assert bundle.is_dir() and bundle.name.startswith("rased-export-")
        assert {path.name for path in bundle.iterdir()} == BUNDLE_FILES
        manifest = manifest_of(bundle)
        assert manifest["options"]["nominative"] is False and manifest["options"]["confidential"] is False
        assert manifest["options"]["format"] == "excel" and manifest["options"]["encrypted"] is False
        assert manifest["files"]["dossiers.csv"]["rows"] == 40
        result = shown(screen, "export-result")
        assert f"Export écrit : {bundle}" in result
        assert "40 dossiers" in result and "Pseudonymisé" in result
        assert screen.last_result.path == bundle
        assert demo.get_setting("last_export_folder") == str(out)
        # back to the list, then `4` again: the folder of the last export is proposed
        assert isinstance(await press(pilot, "escape"), CasesScreen)
        screen = await open_export(pilot)
        assert screen.query_one("#export-folder", Input).value == str(out)


async def test_the_selection_line_follows_year_period_and_open_only_and_the_manifest_says_so(demo, tmp_path):
    out = usb_key(tmp_path)
    year = "2026-2027"
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, year=year)
        period = screen.query_one("#export-period", Select)
        assert not period.disabled
        labels = [str(label) for label, _ in period._options]
        assert labels[:3] == ["Toute l'année", "Période 1 (du 01/09/2026 au 16/10/2026)",
                              "Période 2 (du 02/11/2026 au 18/12/2026)"] and len(labels) == 6  # official, zone B
        selection = ExportSelection(school_year=year)
        assert shown(screen, "export-summary").startswith(f"{demo.count_chosen_cases(selection)} dossier")
        await set_fields(pilot, screen, period="1", open_only=True, format="rfc4180", folder=str(out))
        selection = ExportSelection(school_year=year, period_number=1, open_only=True)
        chosen = demo.count_chosen_cases(selection)
        assert 0 < chosen < 40
        assert shown(screen, "export-summary").startswith(f"{chosen} dossier")
        await press(pilot, "ctrl+s")
        await finish(pilot)
        [bundle] = bundles_in(out)
        options = manifest_of(bundle)["options"]
        assert (options["school_year"], options["period"], options["open_only"], options["format"]) == \
            (year, 1, True, "rfc4180")
        assert manifest_of(bundle)["files"]["dossiers.csv"]["rows"] == chosen
        # back to all years: the période goes back to the whole year, and is locked
        await set_fields(pilot, screen, year=export_screen.ALL)
        assert period.disabled and period.value == export_screen.ALL


async def test_a_nominative_export_asks_first_cancel_writes_nothing_yes_writes_it(demo, tmp_path):
    out = usb_key(tmp_path)
    pupils = demo.count_chosen_pupils(ExportSelection())
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, nominative=True, folder=str(out))
        assert "NOMINATIF" in shown(screen, "export-summary")
        dialog = await press(pilot, "ctrl+s")
        assert isinstance(dialog, ConfirmDialog)
        assert f"dates de naissance de {pupils} élèves" in dialog.question
        assert "noms des enseignants" in dialog.question and "EN CLAIR" in dialog.question
        assert "confidentielles" not in dialog.question
        assert await press(pilot, "n") is screen
        await finish(pilot)
        assert bundles_in(out) == []
        assert "annulé" in shown(screen, "export-result")
        assert isinstance(await press(pilot, "ctrl+s"), ConfirmDialog)
        assert await press(pilot, "o") is screen
        await finish(pilot)
        [bundle] = bundles_in(out)
        assert manifest_of(bundle)["options"]["nominative"] is True
        assert "NOMINATIF" in shown(screen, "export-result")


async def test_confidential_notes_ask_first_too(demo, tmp_path):
    out = usb_key(tmp_path)
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, confidential=True, folder=str(out))
        dialog = await press(pilot, "ctrl+s")
        assert isinstance(dialog, ConfirmDialog)
        assert "notes confidentielles des psychologues" in dialog.question
        assert "dates de naissance" not in dialog.question
        await press(pilot, "escape")
        await finish(pilot)
        assert bundles_in(out) == []
        await press(pilot, "ctrl+s")
        await press(pilot, "o")
        await finish(pilot)
        [bundle] = bundles_in(out)
        assert manifest_of(bundle)["options"]["confidential"] is True
        assert manifest_of(bundle)["options"]["nominative"] is False


async def test_encryption_refuses_a_short_or_mismatched_passphrase_on_its_field(demo, tmp_path):
    out = usb_key(tmp_path)
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, encrypt=True, folder=str(out))
        assert screen.query_one("#export-passphrase-row").display
        assert screen.query_one("#export-passphrase", Input).password
        await set_fields(pilot, screen, passphrase="court", passphrase_again="court")
        await press(pilot, "ctrl+s")
        assert "trop courte" in field_error(screen, "export-passphrase")
        assert screen.focused is screen.query_one("#export-passphrase")
        await set_fields(pilot, screen, passphrase=PASSPHRASE, passphrase_again=PASSPHRASE + "x")
        assert field_error(screen, "export-passphrase") == ""  # corrected: the message goes
        await press(pilot, "ctrl+s")
        await finish(pilot)
        assert "diffèrent" in field_error(screen, "export-passphrase-again")
        assert "Rien n'a été exporté" in shown(screen, "export-result")
        assert bundles_in(out) == []
        # no folder: said on its field
        await set_fields(pilot, screen, encrypt=False, folder="  ")
        assert not screen.query_one("#export-passphrase-row").display
        await press(pilot, "ctrl+s")
        assert "Indiquez le dossier" in field_error(screen, "export-folder")


async def test_a_wrong_destination_is_said_under_its_field_which_gets_the_focus_back(demo, tmp_path):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        folder = screen.query_one("#export-folder", Input)
        # nothing remembered, nothing typed: refused before starting, said on the field
        assert folder.value == ""
        await press(pilot, "ctrl+s")
        assert "Indiquez le dossier" in field_error(screen, "export-folder")
        assert screen.focused is folder and screen.job is None
        for typed, said in ((blocker, "n'est pas un dossier"),
                            (tmp_path / "cle-absente", "n'existe pas : la clé USB est-elle branchée ?"),
                            (blocker / "dessous", "n'existe pas")):
            await set_fields(pilot, screen, folder=str(typed))
            screen.query_one("#export-run", Button).focus()
            await press(pilot, "ctrl+s")
            await finish(pilot)
            assert said in field_error(screen, "export-folder")
            assert "Rien n'a été exporté" in shown(screen, "export-result")
            assert screen.focused is folder
        assert not (tmp_path / "cle-absente").exists()  # not created
        # the next letters typed go into the field, not to the shortcuts (i: import)
        folder.value = ""
        assert await press(pilot, *"media") is screen
        assert folder.value == "media" and field_error(screen, "export-folder") == ""
        assert not screen.query_one("#export-form").disabled
    assert demo.get_setting("last_export_folder") is None


@pytest.mark.parametrize("refusal, said", [
    (export_screen.ExportError("/media/CLE n'existe pas : la clé USB est-elle branchée ?"),
     "/media/CLE n'existe pas : la clé USB est-elle branchée ?"),
    (PermissionError(13, "Permission non accordée", "/media/CLE"), "Écriture impossible dans /media/CLE"),
])
async def test_a_destination_the_engine_refuses_is_said_under_its_field(demo, tmp_path, monkeypatch, refusal, said):
    """The engine's own refusals (the key pulled out after the screen's check, no right to
    write) come back under the field, which gets the focus."""
    out = usb_key(tmp_path)

    def refused(store, folder, options, *, progress):
        raise refusal

    monkeypatch.setattr(export_screen, "export_bundle", refused)
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, folder=str(out))
        await press(pilot, "ctrl+s")
        await finish(pilot)
        assert said in field_error(screen, "export-folder")
        assert said in shown(screen, "export-result") and "Traceback" not in shown(screen, "export-result")
        assert screen.focused is screen.query_one("#export-folder")
        assert await press(pilot, "i") is screen  # typed into the field, no import dialog
        assert screen.query_one("#export-folder", Input).value.endswith("i")
        assert not screen.query_one("#export-form").disabled
    assert bundles_in(out) == [] and demo.get_setting("last_export_folder") is None


async def test_encrypted_export_then_import_through_the_dialog_into_an_empty_base(demo, tmp_path):
    out = usb_key(tmp_path)
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, encrypt=True, passphrase=PASSPHRASE, passphrase_again=PASSPHRASE,
                         folder=str(out))
        await press(pilot, "ctrl+s")
        await finish(pilot)
        [bundle] = bundles_in(out)
        assert bundle.is_file() and bundle.suffix == ".rased"
        assert "Chiffré" in shown(screen, "export-result")
        assert screen.query_one("#export-passphrase", Input).value == ""  # not left on screen
    current_year = demo.count_cases(CaseFilter(school_year="2026-2027"))
    assert current_year > 0

    with Store.open(tmp_path / "vide.db") as empty:
        app = RasedApp(empty)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert app.screen.query_one(DataTable).row_count == 0
            screen = await open_export(pilot)
            dialog = await press(pilot, "i")
            assert isinstance(dialog, ImportDialog)
            dialog.query_one("#import-path", Input).value = str(bundle)
            await pilot.pause()
            assert dialog.query_one("#import-passphrase-row").display  # an encrypted file: asked
            dialog.query_one("#import-passphrase", Input).value = "pas la bonne phrase"
            await press(pilot, "ctrl+s")
            await finish(pilot)
            # refused: said on the screen, and the dialog comes back with the message on the field
            assert sealed.WRONG_PASSPHRASE in shown(screen, "export-result")
            dialog = app.screen
            assert isinstance(dialog, ImportDialog)
            assert field_error(dialog, "import-passphrase") == sealed.WRONG_PASSPHRASE
            assert dialog.query_one("#import-path", Input).value == str(bundle)
            assert empty.counts()["cases"] == 0
            dialog.query_one("#import-passphrase", Input).value = PASSPHRASE
            await press(pilot, "ctrl+s")
            await finish(pilot)
            assert app.screen is screen
            report = shown(screen, "export-result")
            assert report.startswith(f"Import de {bundle.name}") and "40 ajoutés" in report
            # the base was copied into its backups before the first attempt (unchanged at the second)
            from rased_tui.store.backups import existing_backups
            assert len(existing_backups(tmp_path / "vide.db")) == 1
            assert empty.counts()["cases"] == 40
            # importing it again changes nothing
            dialog = await press(pilot, "i")
            assert dialog.query_one("#import-path", Input).value == str(bundle)  # proposed again
            dialog.query_one("#import-passphrase", Input).value = PASSPHRASE
            await press(pilot, "ctrl+s")
            await finish(pilot)
            assert "Rien n'a changé" in shown(screen, "export-result")
            # the list of cases shows them
            cases = await press(pilot, "1")
            assert isinstance(cases, CasesScreen)
            assert cases.query_one(DataTable).row_count == current_year


async def test_a_tampered_bundle_is_refused_and_the_database_stays_as_it_was(demo, tmp_path, monkeypatch):
    asked = []
    real_import = export_screen.import_bundle

    def spied_import(database, bundle, **options):
        asked.append((database, bundle, options["prefer_newer"]))
        return real_import(database, bundle, **options)

    monkeypatch.setattr(export_screen, "import_bundle", spied_import)
    result = export_bundle(demo, usb_key(tmp_path), ExportOptions())
    cases_file = result.path / "dossiers.csv"
    data = bytearray(cases_file.read_bytes())
    data[-3] = ord("X") if data[-3] != ord("X") else ord("Y")
    cases_file.write_bytes(bytes(data))
    with Store.open(tmp_path / "autre.db") as other:
        before = other.counts()
        app = RasedApp(other)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_export(pilot)
            dialog = await press(pilot, "i")
            dialog.query_one("#import-path", Input).value = str(result.path)
            await pilot.pause()
            assert not dialog.query_one("#import-passphrase-row").display  # a folder: no passphrase
            dialog.query_one("#import-prefer-newer", Checkbox).value = True
            assert await press(pilot, "ctrl+s") is screen
            await finish(pilot)
            message = shown(screen, "export-result")
            assert "dossiers.csv a été modifié ou abîmé" in message and "rien n'a été importé" in message
        assert asked == [(other.path, result.path, True)]
        assert other.counts() == before


async def test_the_import_dialog_checks_the_path_first(demo, tmp_path):
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_export(pilot)
        dialog = await press(pilot, "i")
        dialog.query_one("#import-path", Input).value = str(tmp_path / "nulle-part")
        await press(pilot, "ctrl+s")
        assert app.screen is dialog
        assert "n'existe pas" in field_error(dialog, "import-path")
        dialog.query_one("#import-path", Input).value = ""
        await press(pilot, "ctrl+s")
        assert "Indiquez" in field_error(dialog, "import-path")
        assert shown(dialog, "import-errors").startswith("Rien n'a été importé")
        assert isinstance(await press(pilot, "escape"), (ExportScreen, ConfirmDialog))


async def test_read_only_no_import_but_the_export_works(demo, db_path, tmp_path):
    out = usb_key(tmp_path)
    with Store.open(db_path, read_only=True) as reader:
        app = RasedApp(reader)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_export(pilot)
            enabled = {active.binding.id for active in app.active_bindings.values() if active.enabled}
            assert "export_run" in enabled and "export_import" not in enabled
            assert not screen.query_one("#export-import", Button).display
            assert not screen.query_one("#export-confidential-row").display  # hidden notes stay hidden
            assert await press(pilot, "i") is screen
            await set_fields(pilot, screen, folder=str(out))
            await press(pilot, "ctrl+s")
            await finish(pilot)
            [bundle] = bundles_in(out)
            assert {path.name for path in bundle.iterdir()} == BUNDLE_FILES
            assert f"Export écrit : {bundle}" in shown(screen, "export-result")
    assert demo.get_setting("last_export_folder") is None  # a read-only base keeps nothing


def test_a_read_only_base_never_exports_confidential_notes(demo, db_path, tmp_path, capsys):
    """The tester ticked « notes confidentielles » in the IEN's review and got them all."""
    from rased_tui import cli
    from rased_tui.exchange.export import ExportError

    out = usb_key(tmp_path)
    with Store.open(db_path, read_only=True) as reader, pytest.raises(ExportError, match="lecture seule"):
        export_bundle(reader, out, ExportOptions(selection=ExportSelection(include_confidential=True)))
    assert cli.main(["--lecture-seule", "export", "--db", str(db_path), "--out", str(out),
                     "--inclure-confidentiel"]) == 1
    assert "notes confidentielles" in capsys.readouterr().err
    assert bundles_in(out) == []


async def test_while_an_export_runs_the_screen_stays_and_escape_interrupts_it(demo, tmp_path, monkeypatch):
    out = usb_key(tmp_path)
    gate = threading.Event()
    real_export = export_screen.export_bundle

    def held_export(store, folder, options, *, progress):
        def held(*arguments):
            gate.wait(10)
            progress(*arguments)

        return real_export(store, folder, options, progress=held)

    monkeypatch.setattr(export_screen, "export_bundle", held_export)
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_export(pilot)
        await set_fields(pilot, screen, folder=str(out))
        await press(pilot, "ctrl+s")
        assert screen.job == "export"
        assert screen.query_one("#export-form").disabled
        assert screen.query_one("#export-progress").display
        enabled = {active.binding.id for active in app.active_bindings.values() if active.enabled}
        assert "export_interrupt" in enabled and not enabled & {"export_back", "export_run", "export_import"}
        assert await press(pilot, "1") is screen  # refused: the export runs
        assert await press(pilot, "q") is screen and app.is_running
        assert any("en cours" in str(notice.message) for notice in app._notifications)
        await press(pilot, "escape")
        gate.set()
        await finish(pilot)
        assert screen.job is None
        assert "interrompu" in shown(screen, "export-result")
        assert list(out.iterdir()) == []  # not even the hidden partial folder
        assert isinstance(await press(pilot, "escape"), CasesScreen)


async def test_key_4_from_other_screens_the_palette_the_help_and_80_by_24(demo, tmp_path):
    out = usb_key(tmp_path)
    app = RasedApp(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(await press(pilot, "6"), DirectoryScreen)
        screen = await open_export(pilot)
        assert isinstance(await press(pilot, "f1"), HelpScreen)
        assert "Export / import" in str(app.screen.query_one("Markdown").source)
        assert await press(pilot, "escape") is screen
        assert isinstance(await press(pilot, "1"), CasesScreen)
        [command] = [command for command in app.get_system_commands(app.screen) if command.title == "Export / import"]
        command.callback()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        # with the keyboard alone: year focused first, tab to the boxes, space ticks
        assert screen.focused is screen.query_one("#export-year")
        await press(pilot, "tab", "tab")  # the période is locked without a year: skipped
        assert screen.focused is screen.query_one("#export-nominative")
        await press(pilot, "shift+tab")
        assert screen.focused is screen.query_one("#export-open-only")
        await press(pilot, "space")
        assert screen.query_one("#export-open-only", Checkbox).value
        open_cases = demo.count_chosen_cases(ExportSelection(open_only=True))
        assert shown(screen, "export-summary").startswith(f"{open_cases} dossier")
        await set_fields(pilot, screen, folder=str(out))
        await press(pilot, "ctrl+s")
        await finish(pilot)
        [bundle] = bundles_in(out)
        result = screen.query_one("#export-result")
        assert f"Export écrit : {bundle}" in shown(screen, "export-result")
        assert result.region.y < 24 and screen.query_one("#export-run", Button).has_focus


async def test_the_rows_of_the_import_dialog_are_aligned(demo, tmp_path):
    sealed_file = tmp_path / "export.rased"
    sealed_file.write_bytes(b"pas vraiment chiffre")
    app = RasedApp(demo)
    async with app.run_test(size=SIZE) as pilot:
        await open_export(pilot)
        dialog = await press(pilot, "i")
        assert isinstance(dialog, ImportDialog)
        assert dialog.query_one("#import-path", Input).value == ""  # nothing remembered: nothing proposed
        dialog.query_one("#import-path", Input).value = str(sealed_file)
        await pilot.pause()
        assert dialog.query_one("#import-passphrase-row").display
        lines = ["".join(segment.text for segment in strip) for strip in dialog._compositor.render_strips()]
        labels = ("Export à importer", "Phrase de passe", "Conflits")
        starts = {next(line.index(label) for line in lines if label in line) for label in labels}
        assert len(starts) == 1  # the labels begin in the same column...
        fields = ("#import-path", "#import-passphrase", "#import-prefer-newer")
        assert len({dialog.query_one(field).region.x for field in fields}) == 1  # ...and so do the fields
        # the errors at the top are not indented like those under the fields
        await press(pilot, "ctrl+s")
        assert "saisissez sa phrase de passe" in field_error(dialog, "import-passphrase")
        lines = ["".join(segment.text for segment in strip) for strip in dialog._compositor.render_strips()]
        summary = next(line for line in lines if "Rien n'a été importé" in line)
        assert summary.index("Rien") == starts.pop()

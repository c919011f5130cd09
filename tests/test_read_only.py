"""The IEN's read-only review (`--lecture-seule`): a base that cannot be written whatever is
pressed, and an export bundle opened in memory without writing anything to disk.

Every screen reached by its number key is visited; every key it binds is pressed; every command
of the palette is listed. The file's bytes must not change, no journal file may appear, and no
editing key or command may be offered.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input

from rased_tui import cli
from rased_tui.app import RasedApp
from rased_tui.domain.enums import EntryKind
from rased_tui.domain.models import TimelineEntry
from rased_tui.exchange import sealed
from rased_tui.exchange.demo import generate_demo
from rased_tui.exchange.export import ExportOptions, export_bundle
from rased_tui.exchange.importer import ImportRefused
from rased_tui.exchange.review import open_bundle_for_review
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.cases import CasesScreen
from rased_tui.store import Store, StoreError
from rased_tui.store.exports import ExportSelection

SIZE = (120, 40)
PASSPHRASE = "cheval agrafe pile correcte"
CONFIDENTIAL_TEXT = "Entretien avec la mère : séparation récente."

# What the reader may still do. A new key or command that writes must be hidden in read-only
# mode; one that only reads is added here.
READING_ACTIONS = {
    "quit", "help", "cases", "caseloads", "dashboard", "export", "waiting_list", "directory", "meetings",
    "settings", "command_palette", "search", "filters", "leave_search", "open_case", "back_to_table",
    "show_request", "first_line", "last_line", "journal", "back", "interrupt", "quit_app", "show_table",
    "open_figure", "previous_period", "next_period", "previous_year", "next_year", "choose_period",
    "write_agenda", "parents_file", "change_year", "open_line", "focus_next", "focus_previous", "apply", "cancel", "close", "reset", "copy_text",
}
EDITING_COMMANDS = {"Nouvelle demande", "Modifier la demande", "Journal du dossier"} | {
    kind.label for kind in EntryKind}


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    monkeypatch.setattr(sealed, "SCRYPT_LOG2_N", 14)


@pytest.fixture
def demo_path(db_path) -> Path:
    with Store.open(db_path) as store:
        generate_demo(store, cases=60, seed=3)
    return db_path


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def files_beside(path: Path) -> set[str]:
    return set(os.listdir(path.parent))


async def visit_everything(app: RasedApp, pilot) -> list[str]:
    """Go to each screen of the application and press every key it binds; back to the list
    after each. Returns what was offered that is not a reading action."""
    offered: list[str] = []
    number_keys = [binding.key for binding in app.BINDINGS if binding.key.isdigit()]
    for number in number_keys:
        await pilot.press(number)
        await pilot.pause()
        screen = app.screen
        offered += offered_editing(app, screen)
        for key in keys_of(screen):
            await pilot.press(key)
            await pilot.pause()
            offered += offered_editing(app, app.screen)
            await back_to(pilot, screen)
        await pilot.press("1")
        await pilot.pause()
    return offered


def keys_of(screen) -> list[str]:
    keys = [binding.key for binding in screen.BINDINGS if binding.key not in ("q", "escape")]
    return [key for key in keys if key not in ("tab",)]


async def back_to(pilot, screen) -> None:
    """Escape until `screen` is in front, its focus out of any text field (the next key must
    act, not be typed)."""
    for _ in range(5):
        if pilot.app.screen is screen and not isinstance(pilot.app.focused, Input):
            return
        await pilot.press("escape")
        await pilot.pause()


def offered_editing(app: RasedApp, screen) -> list[str]:
    """The actions the footer offers on `screen` that are not reading ones, and the editing
    commands of the palette."""
    actions = {active.binding.action.split("(")[0].removeprefix("app.").removeprefix("screen.")
               for active in screen.active_bindings.values() if isinstance(active.node, (App, Screen))}
    commands = {command.title for command in app.get_system_commands(screen)}
    return sorted(actions - READING_ACTIONS) + sorted(commands & EDITING_COMMANDS)


async def test_read_only_mode_offers_nothing_that_writes_and_leaves_the_file_unchanged(demo_path):
    before = fingerprint(demo_path)
    around = files_beside(demo_path)
    with Store.open_snapshot(demo_path) as store:
        app = RasedApp(store)
        async with app.run_test(size=SIZE) as pilot:
            assert "lecture seule" in app.title
            offered = await visit_everything(app, pilot)
            assert isinstance(app.screen, CasesScreen)
            await pilot.press("enter")  # a case, and every step key on it
            await pilot.pause()
            case_screen = app.screen
            assert isinstance(case_screen, CaseScreen)
            offered += offered_editing(app, case_screen)
            for key in keys_of(case_screen):
                await pilot.press(key)
                await pilot.pause()
                await back_to(pilot, case_screen)
            assert app.screen is case_screen
    assert sorted(set(offered)) == [], ",".join(sorted(set(offered)))
    assert fingerprint(demo_path) == before
    assert files_beside(demo_path) == around  # no -wal, no -shm, no copy


def test_every_write_of_the_store_is_refused_in_read_only_mode(demo_path):
    with Store.open(demo_path, read_only=True) as store:
        settings = store.settings()
        case_id = store.case_page(store_filter(store), 0, 1)[0]["id"]
        writes = [lambda: store.save_settings(settings.model_copy(update={"retention_years": 7})),
                  lambda: store.set_setting("zone", "A"),
                  lambda: store.add_entry(TimelineEntry(case_id=case_id, kind=EntryKind.NOTE, date="2026-11-20",
                                                        text="Note.")),
                  lambda: store.update_school(store.list_schools()[0])]
        for write in writes:
            with pytest.raises(StoreError, match="lecture seule"):
                write()
    assert Store.open(demo_path, read_only=True).settings().retention_years == settings.retention_years


def store_filter(store):
    from rased_tui.domain.filters import CaseFilter

    return CaseFilter(school_year="2026-2027")


def test_a_read_only_copy_in_a_write_protected_folder_opens_and_stays_as_it_was(demo_path, tmp_path):
    """A copy on a locked USB key: the file and its folder cannot be written."""
    key = tmp_path / "cle"
    key.mkdir()
    copy = key / "rased.db"
    copy.write_bytes(demo_path.read_bytes())
    copy.chmod(0o400)
    key.chmod(0o500)
    try:
        before = fingerprint(copy)
        with Store.open_snapshot(copy) as store:
            assert store.counts()["cases"] == 60
        assert fingerprint(copy) == before
        assert os.listdir(key) == ["rased.db"]
    finally:
        key.chmod(0o700)


# -- an export bundle opened for review ---------------------------------------------------------


def with_confidential_note(store: Store) -> str:
    """A psychologue's confidential note on the first case of the demo; its case id."""
    psy = next(member for member in store.list_members() if member.role == "psychologue")
    case_id = store.case_page(store_filter(store), 0, 1)[0]["id"]
    store.add_entry(TimelineEntry(case_id=case_id, kind=EntryKind.NOTE, date="2026-11-20", text=CONFIDENTIAL_TEXT,
                                  confidential=True, author_member_id=psy.id, member_ids=[psy.id]))
    return case_id


def export(store: Store, folder: Path, *, passphrase: str | None = None, confidential: bool = False) -> Path:
    options = ExportOptions(selection=ExportSelection(include_confidential=confidential), passphrase=passphrase)
    return export_bundle(store, folder, options).path


def tree(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


async def test_a_bundle_opens_in_memory_read_only_with_confidential_notes_hidden(demo_path, tmp_path):
    outbox = tmp_path / "cle"
    outbox.mkdir()
    with Store.open(demo_path) as store:
        case_id = with_confidential_note(store)
        number = store.get_case(case_id).number
        bundle = export(store, outbox, confidential=True)  # the author asked for it in so many words
        counts = store.counts()
        sender = store.settings()
    content = tree(outbox)

    reviewed = open_bundle_for_review(bundle)
    store = reviewed.store
    try:
        assert store.read_only
        assert store.counts()["cases"] == counts["cases"]
        assert store.counts()["timeline_entries"] == counts["timeline_entries"]
        assert f"export de « {sender.antenna} »" in reviewed.describe() and "pseudonymisé" in reviewed.describe()
        assert (store.settings().zone, store.settings().circonscription) == (sender.zone, sender.circonscription)
        with pytest.raises(StoreError, match="lecture seule"):
            store.set_setting("zone", "A")
        rows = store.case_page(store_filter(store), 0, 200)
        teachers = [row["subject"] for row in rows if row["subject_kind"] == "enseignant"]
        assert teachers and set(teachers) == {"Enseignant·e"}  # the name masked, not a blank
        app = RasedApp(store, source=reviewed.describe())
        async with app.run_test(size=SIZE) as pilot:
            assert "lecture seule" in app.title and "pseudonymisé" in app.sub_title
            app.push_screen(CaseScreen(store.get_case_by_number(number).id))
            await pilot.pause()
            table = app.screen.query_one("DataTable")
            shown = " ".join(str(cell) for key in table.rows for cell in table.get_row(key))
            assert "Entretien" not in shown and "note confidentielle masquée" in str(
                app.screen.query_one("#case-next").render())
            assert offered_editing(app, app.screen) == []
    finally:
        store.close()
    assert tree(outbox) == content  # the bundle is exactly as it was, nothing added beside it


def test_an_encrypted_bundle_opens_with_its_passphrase_only(demo_path, tmp_path):
    with Store.open(demo_path) as store:
        sealed_file = export(store, tmp_path, passphrase=PASSPHRASE)
    reviewed = open_bundle_for_review(sealed_file, passphrase=lambda: PASSPHRASE)
    try:
        assert reviewed.store.read_only and reviewed.store.counts()["cases"] == 60
    finally:
        reviewed.store.close()
    with pytest.raises(ImportRefused):
        open_bundle_for_review(sealed_file, passphrase=lambda: "une autre phrase de passe")


def test_a_manifest_date_that_does_not_read_is_said_unknown():
    from rased_tui.exchange.review import ReviewedBundle

    assert ReviewedBundle(None, "RASED de Maromme", "hier soir", True).describe() == (
        "export de « RASED de Maromme » (date inconnue), pseudonymisé")
    assert "du 21/11/2026, nominatif" in ReviewedBundle(None, "X", "2026-11-21T10:00:00Z", False).describe()


def test_a_bundle_changed_by_hand_is_refused(demo_path, tmp_path):
    with Store.open(demo_path) as store:
        bundle = export(store, tmp_path)
    cases_file = bundle / "dossiers.csv"
    cases_file.write_bytes(cases_file.read_bytes().replace(b"CE1", b"CE2", 1))
    with pytest.raises(ImportRefused, match="dossiers.csv"):
        open_bundle_for_review(bundle)


def test_the_command_line_opens_a_bundle_read_only_and_writes_nothing(demo_path, tmp_path, monkeypatch, capsys):
    with Store.open(demo_path) as store:
        bundle = export(store, tmp_path)
    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("HOME", str(elsewhere))
    seen = {}

    def run(app) -> None:
        seen.update(read_only=app.store.read_only, cases=app.store.counts()["cases"], source=app.source)

    monkeypatch.setattr(RasedApp, "run", run)
    before = tree(bundle.parent)
    assert cli.main(["--lecture-seule", str(bundle)]) == 0
    assert seen["read_only"] and seen["cases"] == 60 and str(bundle) in seen["source"]
    assert cli.main([str(bundle)]) == 0  # an export is always opened read-only
    assert tree(bundle.parent) == before
    assert os.listdir(elsewhere) == []


def test_the_command_line_reviews_a_base_from_a_snapshot(demo_path, monkeypatch):
    seen = {}

    def run(app) -> None:
        seen.update(read_only=app.store.read_only, in_memory=app.store.connection.execute(
            "SELECT file FROM pragma_database_list WHERE name = 'main'").fetchone()[0] == "")

    monkeypatch.setattr(RasedApp, "run", run)
    before = fingerprint(demo_path)
    around = files_beside(demo_path)
    assert cli.main(["--lecture-seule", "--db", str(demo_path)]) == 0
    assert seen == {"read_only": True, "in_memory": True}
    assert fingerprint(demo_path) == before and files_beside(demo_path) == around


def test_a_mistyped_passphrase_is_asked_again_at_a_terminal(demo_path, tmp_path, monkeypatch, capsys):
    with Store.open(demo_path) as store:
        sealed_file = export(store, tmp_path, passphrase=PASSPHRASE)
    monkeypatch.delenv("RASED_TUI_PASSPHRASE", raising=False)
    monkeypatch.setattr(RasedApp, "run", lambda app: None)
    monkeypatch.setattr(cli.sys.stdin, "isatty", lambda: True, raising=False)
    typed = iter(["une faute de frappe", PASSPHRASE])
    monkeypatch.setattr(sealed, "passphrase_from_terminal", lambda confirm: next(typed))
    assert cli.main([str(sealed_file)]) == 0
    assert "phrase de passe incorrecte, essayez encore" in capsys.readouterr().err
    typed = iter(["faux 1", "faux 2", "faux 3", PASSPHRASE])
    assert cli.main([str(sealed_file)]) == 1  # three tries, then it stops
    assert "l'export n'a pas été ouvert" in capsys.readouterr().err and next(typed) == PASSPHRASE


def test_the_command_line_says_what_it_cannot_open(demo_path, tmp_path, capsys):
    assert cli.main(["--lecture-seule", str(tmp_path / "absent")]) == 1
    assert "n'existe pas" in capsys.readouterr().err
    assert cli.main(["--lecture-seule", str(demo_path)]) == 1
    assert f"--lecture-seule --db {demo_path}" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_code:
        cli.main(["--db", str(demo_path), str(tmp_path)])
    assert exit_code.value.code == 2


def test_the_bundle_word_is_told_apart_from_commands_and_options():
    commands = {"demo", "check", "export"}
    assert cli.split_bundle_argument(["--lecture-seule", "cle/x"], commands) == ("cle/x", ["--lecture-seule"])
    assert cli.split_bundle_argument(["envoi.rased"], commands) == ("envoi.rased", [])
    assert cli.split_bundle_argument(["frobnique"], commands) == (None, ["frobnique"])  # argparse: unknown command
    assert cli.split_bundle_argument(["--db", "base.db", "check"], commands) == (None, ["--db", "base.db", "check"])
    assert cli.split_bundle_argument(["--db", "base.db"], commands) == (None, ["--db", "base.db"])
    assert cli.split_bundle_argument(["export", "--out", "x"], commands) == (None, ["export", "--out", "x"])

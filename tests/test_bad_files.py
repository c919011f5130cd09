"""Bad files, for every command that opens a base: not a database, truncated, zero bytes, a
newer schema, another program's base, a folder, no permission to read — each one French line,
exit 1, the file left as it was and nothing written beside it. And a full disk, simulated by
making writes fail: SQLite's (a page limit) and the export's (ENOSPC)."""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

import pytest

from rased_tui.exchange.demo import generate_demo
from rased_tui.store import Store, StoreError, opening
from rased_tui.store.migrations import SCHEMA_VERSION
from tests.test_cli import assert_one_french_line, run

ENGLISH = ("file is not a database", "database disk image", "unable to open", "Traceback", "Error:",
           "No such file", "Permission denied", "No space left", "is full")


@pytest.fixture(scope="module")
def good_base(tmp_path_factory) -> Path:
    """A small demo base, made once; each test works on a copy."""
    path = tmp_path_factory.mktemp("good") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", "2026-11-21")
        with Store.open(path) as store:
            generate_demo(store, cases=40, seed=5)
    return path


@pytest.fixture(scope="module")
def bundle(good_base, tmp_path_factory) -> Path:
    from rased_tui.exchange.export import ExportOptions, export_bundle
    from rased_tui.store.exports import ExportSelection

    out = tmp_path_factory.mktemp("cle")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", "2026-11-21")
        with Store.open(good_base, read_only=True) as store:
            return export_bundle(store, out, ExportOptions(selection=ExportSelection())).path


def copy_of(good_base: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    target = folder / "rased.db"
    with sqlite3.connect(good_base) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    copy.close()
    os.chmod(target, 0o600)
    return target


def text_file(folder: Path, good_base: Path) -> Path:
    path = folder / "rased.db"
    path.write_text("Nom;Prénom\nDupré;Hélène\n", encoding="utf-8")
    return path


def zero_bytes(folder: Path, good_base: Path) -> Path:
    path = folder / "rased.db"
    path.write_bytes(b"")
    return path


def truncated(folder: Path, good_base: Path) -> Path:
    path = copy_of(good_base, folder)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    return path


def newer_schema(folder: Path, good_base: Path) -> Path:
    path = copy_of(good_base, folder)
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    connection.close()
    return path


def another_program(folder: Path, good_base: Path) -> Path:
    path = folder / "rased.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE comptes (id INTEGER PRIMARY KEY, libelle TEXT)")
    connection.close()
    return path


def a_folder(folder: Path, good_base: Path) -> Path:
    path = folder / "rased.db"
    path.mkdir()
    (path / "dedans.txt").write_text("x")
    return path


BAD_FILES = {
    "texte": (text_file, "n'est pas une base de données SQLite"),
    "vide": (zero_bytes, "est vide (0 octet)"),
    "tronquée": (truncated, "tronqué"),
    "schéma plus récent": (newer_schema, "vient d'une version plus récente"),
    "autre programme": (another_program, "d'un autre programme"),
    "dossier": (a_folder, "est un dossier"),
}


def commands(path: Path, folder: Path, bundle: Path) -> dict[str, list[str]]:
    out = folder / "sortie"
    out.mkdir(exist_ok=True)
    return {
        "interface": ["--db", str(path)],
        "lecture seule": ["--lecture-seule", "--db", str(path)],
        "check": ["check", "--db", str(path)],
        "stats": ["stats", "--db", str(path)],
        "export": ["export", "--db", str(path), "--out", str(out)],
        "import": ["import", "--db", str(path), str(bundle)],
        "agenda": ["agenda", "--db", str(path), "--out", str(out)],
        "backup": ["backup", "--db", str(path), "--out", str(out / "copie.db")],
        "purge": ["purge", "--db", str(path)],
        "purge --dry-run": ["purge", "--db", str(path), "--dry-run"],
        "dossier": ["dossier", "--db", str(path), "--eleve", "2026-0001", "--out", str(out / "dossier.md")],
    }


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file under the folder with its bytes (None for a folder)."""
    return {str(path.relative_to(folder)): (path.read_bytes() if path.is_file() else None)
            for path in sorted(folder.rglob("*"))}


COMMANDS = list(commands(Path("x"), Path("."), Path("b")))


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_file_is_refused_in_one_french_line_and_left_as_it_was(kind, command, good_base, bundle, tmp_path,
                                                                     capsys):
    make, expected = BAD_FILES[kind]
    folder = tmp_path / "base"
    folder.mkdir()
    path = make(folder, good_base)
    arguments = commands(path, folder, bundle)[command]
    before = snapshot(folder)
    code, _, err = run(capsys, *arguments)
    assert code == 1, err
    assert_one_french_line(err)
    assert expected in err, err
    assert not any(english in err for english in ENGLISH), err
    assert snapshot(folder) == before  # no byte changed, no -wal, -shm, backup or export beside it


@pytest.fixture
def unreadable(good_base, tmp_path, monkeypatch) -> Path:
    """A base its user may not read: chmod 000, and os.access saying so when tests run as root
    (who reads anything)."""
    path = copy_of(good_base, tmp_path / "base")
    os.chmod(path, 0)
    real_access = os.access

    def access(target, how, *args, **kwargs):
        if Path(target) == path:
            return False
        return real_access(target, how, *args, **kwargs)

    monkeypatch.setattr(opening.os, "access", access)
    yield path
    os.chmod(path, 0o600)


@pytest.mark.parametrize("command", COMMANDS)
def test_a_base_without_permission_is_refused(command, unreadable, bundle, tmp_path, capsys):
    folder = unreadable.parent
    arguments = commands(unreadable, folder, bundle)[command]
    before = snapshot(folder) if os.geteuid() == 0 else None  # root alone may read it to compare
    code, _, err = run(capsys, *arguments)
    assert code == 1, err
    assert_one_french_line(err)
    assert "Pas la permission de lire" in err, err
    if before is not None:
        assert snapshot(folder) == before


# -- a full disk ------------------------------------------------------------------------------


def fill_the_disk(monkeypatch) -> None:
    """From now on, a base opened to be written may not grow by one page: what SQLite meets
    when the disk is full."""
    real_prepare = opening.prepare_for_writing

    def prepare_then_fill(connection: sqlite3.Connection) -> None:
        real_prepare(connection)
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {max(pages, 1)}")

    monkeypatch.setattr(opening, "prepare_for_writing", prepare_then_fill)


def test_an_import_onto_a_full_disk_writes_nothing(bundle, tmp_path, capsys, monkeypatch):
    path = tmp_path / "antenne.db"
    Store.open(path).close()  # an empty base, then the disk is full
    before = path.read_bytes()
    fill_the_disk(monkeypatch)
    code, _, err = run(capsys, "import", "--db", str(path), str(bundle))
    assert code == 1, err
    assert_one_french_line(err)
    assert "Le disque est plein : rien n'a été enregistré" in err, err
    with Store.open(path, read_only=True) as store:
        assert store.counts()["cases"] == 0 and store.check().ok
    assert path.read_bytes() == before


def test_a_save_onto_a_full_disk_is_refused_and_the_base_goes_on(db_path, make_school, make_pupil_case):
    with Store.open(db_path) as store:
        school = store.add_school(make_school())
        counts = store.counts()
        pages = store.connection.execute("PRAGMA page_count").fetchone()[0]
        store.connection.execute(f"PRAGMA max_page_count = {pages}")
        big = make_pupil_case(school.id, description="Texte long. " * 1500)
        with pytest.raises(StoreError, match="Le disque est plein : rien n'a été enregistré"):
            store.add_case(big)
        assert store.counts() == counts and store.check().ok
        store.connection.execute("PRAGMA max_page_count = 1073741823")  # room again
        store.add_case(big)
        assert store.counts()["cases"] == counts["cases"] + 1 and store.check().ok


def test_a_new_base_on_a_full_disk_leaves_no_file(tmp_path, capsys, monkeypatch):
    fill_the_disk(monkeypatch)
    path = tmp_path / "neuve.db"
    code, _, err = run(capsys, "demo", "--db", str(path), "--cases", "5")
    assert code == 1, err
    assert_one_french_line(err)
    assert "Le disque est plein" in err, err
    assert list(tmp_path.iterdir()) == []


def test_an_export_onto_a_full_key_leaves_nothing(good_base, tmp_path, capsys, monkeypatch):
    from rased_tui.exchange import export as export_module

    class FullKey:
        def __init__(self, stream):
            self.stream, self.written = stream, 0

        def write(self, data):
            self.written += len(data)
            if self.written > 10_000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return self.stream.write(data)

        def __getattr__(self, name):
            return getattr(self.stream, name)

    real_enter = export_module._PrivateFile.__enter__
    monkeypatch.setattr(export_module._PrivateFile, "__enter__", lambda self: FullKey(real_enter(self)))
    key = tmp_path / "cle"
    key.mkdir()
    code, _, err = run(capsys, "export", "--db", str(good_base), "--out", str(key), "--nominatif")
    assert code == 1, err
    assert_one_french_line(err)
    assert "plus de place sur le disque" in err and ".partiel" not in err, err
    assert list(key.iterdir()) == []

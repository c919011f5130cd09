"""The command line: each command, each error as one French line with a non-zero exit."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys

import pytest

from rased_tui import __version__
from rased_tui.cli import main
from rased_tui.store import Store

POSIX = os.name == "posix"


def run(capsys, *arguments: str) -> tuple[int, str, str]:
    try:
        code = main(list(arguments))
    except SystemExit as exit_:  # argparse's own exits (--version, wrong arguments)
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_french_line(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rased-tui")
    assert "Traceback" not in err


@pytest.fixture
def demo_db(tmp_path, capsys):
    path = tmp_path / "demo.db"
    code, _, err = run(capsys, "demo", "--db", str(path), "--cases", "60", "--seed", "3")
    assert code == 0, err
    return path


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out.strip() == f"rased-tui {__version__}"


def test_python_dash_m_and_console_script_work():
    for command in ([sys.executable, "-m", "rased_tui", "--version"],
                    [os.path.join(os.path.dirname(sys.executable), "rased-tui"), "--version"]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert __version__ in result.stdout


def test_demo_then_check_reports_intact_chain(demo_db, capsys):
    code, out, err = run(capsys, "check", "--db", str(demo_db))
    assert code == 0, err
    assert "chaîne intacte" in out
    assert "Intégrité SQLite : ok" in out
    assert "60 dossiers" in out
    with sqlite3.connect(demo_db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if POSIX:
        assert stat.S_IMODE(demo_db.stat().st_mode) == 0o600


def test_demo_output_names_the_database(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--db", str(tmp_path / "d.db"), "--cases", "20")
    assert code == 0
    assert "20 dossiers" in out


def test_demo_refuses_a_database_that_already_holds_cases(demo_db, capsys):
    with Store.open(demo_db, read_only=True) as store:
        before = store.counts()
    code, _, err = run(capsys, "demo", "--db", str(demo_db), "--cases", "5")
    assert code == 1
    assert_one_french_line(err)
    assert "contient déjà des dossiers" in err
    with Store.open(demo_db, read_only=True) as store:
        assert store.counts() == before  # opening for writing may checkpoint, so compare contents


def test_demo_requires_an_explicit_database(capsys, monkeypatch):
    monkeypatch.delenv("RASED_TUI_DB", raising=False)
    code, _, err = run(capsys, "demo")
    assert code == 2
    assert_one_french_line(err)
    assert "jamais dans la base par défaut" in err


def test_demo_accepts_the_global_db_option(tmp_path, capsys):
    code, out, err = run(capsys, "--db", str(tmp_path / "g.db"), "demo", "--cases", "10")
    assert code == 0, err
    assert "10 dossiers" in out


def test_demo_refuses_read_only(tmp_path, capsys):
    code, _, err = run(capsys, "--lecture-seule", "demo", "--db", str(tmp_path / "r.db"))
    assert code == 2
    assert "--lecture-seule ne va pas avec demo" in err
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize("arguments, expected", [
    (["demo", "--db", "x.db", "--seed", "abc"], "« abc » n'est pas un nombre entier"),
    (["--db", "", "check"], "chemin vide"),
    (["backup"], "argument(s) obligatoire(s) : --out"),
    (["frobnique"], "choix inconnu"),
    (["check", "--inconnu"], "argument(s) inconnu(s)"),
])
def test_a_wrong_command_line_is_one_french_line(capsys, arguments, expected):
    code, _, err = run(capsys, *arguments)
    assert code == 2
    assert_one_french_line(err)
    assert expected in err


def test_help_speaks_french(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "afficher cette aide" in out and "afficher la version" in out
    assert "show" not in out and "usage:" not in out


def test_a_wrong_frozen_today_is_said_before_anything_is_written(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("RASED_TUI_TODAY", "demain")
    code, _, err = run(capsys, "demo", "--db", str(tmp_path / "t.db"))
    assert code == 1
    assert_one_french_line(err)
    assert "RASED_TUI_TODAY=demain" in err
    assert not (tmp_path / "t.db").exists()


def test_demo_rejects_a_bad_number_of_cases(tmp_path, capsys):
    code, _, err = run(capsys, "demo", "--db", str(tmp_path / "d.db"), "--cases", "zéro")
    assert code == 2
    assert "n'est pas un nombre entier" in err


def test_database_from_environment_variable(demo_db, capsys, monkeypatch):
    monkeypatch.setenv("RASED_TUI_DB", str(demo_db))
    code, out, _ = run(capsys, "check")
    assert code == 0
    assert str(demo_db) in out


def test_global_db_option_before_the_command(demo_db, capsys):
    code, out, _ = run(capsys, "--db", str(demo_db), "check")
    assert code == 0
    assert str(demo_db) in out


def test_check_detects_an_audit_row_edited_by_hand(demo_db, capsys):
    with sqlite3.connect(demo_db) as connection:
        connection.execute("DROP TRIGGER audit_log_no_update")
        connection.execute("UPDATE audit_log SET actor = 'quelqu''un' WHERE seq = 1")
        connection.execute("""CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'journal d''audit : modification interdite'); END""")
    code, out, err = run(capsys, "check", "--db", str(demo_db))
    assert code == 1
    assert_one_french_line(err)
    assert "journal d'audit rompu" in err
    assert "ROMPU" in out


def test_check_refuses_a_text_file(tmp_path, capsys):
    path = tmp_path / "notes.db"
    path.write_text("ceci n'est pas une base\n", encoding="utf-8")
    code, _, err = run(capsys, "check", "--db", str(path))
    assert code == 1
    assert_one_french_line(err)
    assert "n'est pas une base de données SQLite" in err


def test_check_refuses_a_truncated_database(demo_db, tmp_path, capsys):
    truncated = tmp_path / "tronque.db"
    data = demo_db.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    code, _, err = run(capsys, "check", "--db", str(truncated))
    assert code == 1
    assert_one_french_line(err)
    assert "tronqué" in err


def test_check_of_a_missing_file(tmp_path, capsys):
    code, _, err = run(capsys, "check", "--db", str(tmp_path / "absent.db"))
    assert code == 1
    assert_one_french_line(err)
    assert "n'existe pas" in err


def test_a_read_only_file_asked_to_take_a_write(demo_db, capsys, monkeypatch):
    real_access = os.access

    def access(path, mode, *args, **kwargs):  # as for a user (root writes anyway)
        if os.fspath(path) == os.fspath(demo_db) and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    if POSIX:
        demo_db.chmod(0o400)
    monkeypatch.setattr(os, "access", access)
    try:
        before = demo_db.read_bytes()
        code, _, err = run(capsys, "demo", "--db", str(demo_db), "--cases", "5")
        assert code == 1
        assert_one_french_line(err)
        assert "--lecture-seule" in err
        assert demo_db.read_bytes() == before
    finally:
        if POSIX:
            demo_db.chmod(0o600)


def test_a_write_on_a_read_only_store_is_refused_in_french(demo_db):
    from rased_tui.domain.models import School
    from rased_tui.store import StoreError

    before = demo_db.read_bytes()
    with Store.open(demo_db, read_only=True) as store:
        with pytest.raises(StoreError, match="lecture seule"):
            store.add_school(School(uai="0761234D", name="École", kind="primaire"))
    assert demo_db.read_bytes() == before


def test_backup_writes_a_private_consistent_copy(demo_db, tmp_path, capsys):
    target = tmp_path / "copies" / "sauvegarde.db"
    code, out, err = run(capsys, "backup", "--db", str(demo_db), "--out", str(target))
    assert code == 0, err
    assert "Sauvegarde écrite" in out
    if POSIX:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with Store.open(target, read_only=True) as copy, Store.open(demo_db, read_only=True) as original:
        assert copy.counts() == original.counts()
        assert copy.check().ok


def test_backup_while_the_database_is_being_written(demo_db, tmp_path, capsys):
    with Store.open(demo_db) as writer:
        writer.set_setting("antenne", "Rouen Nord")
        with writer.transaction():  # a write in progress, not yet committed
            writer.set_setting("antenne", "pas encore enregistrée")
            code, _, err = run(capsys, "backup", "--db", str(demo_db), "--out", str(tmp_path / "b.db"))
            assert code == 0, err
    with Store.open(tmp_path / "b.db", read_only=True) as copy:
        assert copy.get_setting("antenne") == "Rouen Nord"
        assert copy.check().ok


def test_backup_refuses_to_overwrite(demo_db, tmp_path, capsys):
    target = tmp_path / "existe.db"
    target.write_text("à garder", encoding="utf-8")
    code, _, err = run(capsys, "backup", "--db", str(demo_db), "--out", str(target))
    assert code == 1
    assert_one_french_line(err)
    assert "existe déjà" in err
    assert target.read_text(encoding="utf-8") == "à garder"


def test_opening_the_interface_on_a_bad_file_fails_before_the_screen(tmp_path, capsys):
    path = tmp_path / "vide.db"
    path.write_bytes(b"")
    code, _, err = run(capsys, "--db", str(path))
    assert code == 1
    assert_one_french_line(err)
    assert "vide" in err


def test_a_directory_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "check", "--db", str(tmp_path))
    assert code == 1
    assert_one_french_line(err)
    assert "est un dossier" in err


def test_a_file_system_error_is_one_french_line(tmp_path, capsys, monkeypatch):
    from rased_tui import cli

    def refuse(arguments):
        raise PermissionError(13, "Permission non accordée", str(tmp_path / "x.db"))

    monkeypatch.setattr(cli, "run_check", refuse)
    code, _, err = run(capsys, "check", "--db", str(tmp_path / "x.db"))
    assert code == 1
    assert_one_french_line(err)
    assert "erreur du système de fichiers" in err and "x.db" in err


def test_an_unexpected_error_is_one_line_unless_debugging(tmp_path, capsys, monkeypatch):
    from rased_tui import cli

    def crash(arguments):
        raise RuntimeError("bug")

    monkeypatch.setattr(cli, "run_check", crash)
    code, _, err = run(capsys, "check")
    assert code == 1
    assert_one_french_line(err)
    assert "RASED_TUI_DEBUG=1" in err
    monkeypatch.setenv("RASED_TUI_DEBUG", "1")
    with pytest.raises(RuntimeError):
        main(["check"])


def test_check_reports_a_corrupt_database(demo_db, capsys):
    data = bytearray(demo_db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(3, len(data) // page_size, 3):  # scribble over every third page
        start = page * page_size + 8
        data[start:start + 200] = b"\xde\xad\xbe\xef" * 50
    demo_db.write_bytes(bytes(data))
    code, _, err = run(capsys, "check", "--db", str(demo_db))
    assert code == 1
    assert_one_french_line(err)
    assert "endommagé" in err


def test_counts_are_written_in_good_french(tmp_path, capsys):
    code, out, _ = run(capsys, "demo", "--db", str(tmp_path / "un.db"), "--cases", "1")
    assert code == 0
    assert "1 dossier," in out and "1 élève," in out
    code, out, _ = run(capsys, "check", "--db", str(tmp_path / "un.db"))
    assert "1 dossier," in out and "Journal d'audit : 1 ligne," in out


def test_backup_to_a_folder_says_so(demo_db, tmp_path, capsys):
    code, _, err = run(capsys, "backup", "--db", str(demo_db), "--out", str(tmp_path))
    assert code == 1
    assert_one_french_line(err)
    assert "est un dossier" in err


def test_demo_refuses_an_absurd_number_of_cases(tmp_path, capsys):
    code, _, err = run(capsys, "demo", "--db", str(tmp_path / "d.db"), "--cases", "99999999")
    assert code == 2
    assert "entre 1 et 500000" in err

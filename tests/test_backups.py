"""Rotating backups (store/backups.py): made when the interface opens a base for writing and
before an import, the last N kept, owner-only; and the restore that README describes."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
from datetime import datetime, timedelta

import pytest

from rased_tui import cli
from rased_tui.store import Store, StoreError
from rased_tui.store.backups import BACKUP_FOLDER, PARTIAL_SUFFIX, existing_backups, rotating_backup
from tests.pilot import new_app

SIZE = (120, 40)
NOON = datetime(2026, 11, 21, 12, 0, 0)


@pytest.fixture
def filled(db_path, make_school, make_pupil_case):
    with Store.open(db_path) as store:
        school = store.add_school(make_school())
        store.add_case(make_pupil_case(school.id))
    return db_path


def add_a_case(path, make_pupil_case) -> None:
    with Store.open(path) as store:
        store.add_case(make_pupil_case(store.list_schools()[0].id))


def test_a_backup_is_a_whole_private_copy_beside_the_base(filled):
    target = rotating_backup(filled, now=NOON)
    assert target == filled.parent / BACKUP_FOLDER / "rased.db-20261121-120000.db"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    assert not list(target.parent.glob("*-wal")) and not list(target.parent.glob(".*"))
    with Store.open(target, read_only=True) as copy, Store.open(filled, read_only=True) as original:
        assert copy.counts() == original.counts() and copy.check().ok


def test_no_new_copy_while_the_base_has_not_changed(filled, make_pupil_case):
    first = rotating_backup(filled, now=NOON)
    assert rotating_backup(filled, now=NOON + timedelta(hours=1)) is None
    add_a_case(filled, make_pupil_case)
    second = rotating_backup(filled, now=NOON + timedelta(hours=2))
    assert existing_backups(filled) == [first, second]


def test_only_the_last_copies_are_kept(filled, make_pupil_case):
    made = []
    for hour in range(5):
        add_a_case(filled, make_pupil_case)
        made.append(rotating_backup(filled, keep=3, now=NOON + timedelta(hours=hour)))
    assert existing_backups(filled) == made[-3:]
    assert not made[0].exists()


def test_an_interrupted_copy_is_removed_later_but_not_one_being_written(filled):
    folder = filled.parent / BACKUP_FOLDER
    folder.mkdir(mode=0o700)
    stale = folder / f".rased.db-20261120-080000.db{PARTIAL_SUFFIX}"
    fresh = folder / f".rased.db-20261121-115959.db{PARTIAL_SUFFIX}"
    for partial in (stale, fresh):
        partial.write_bytes(b"SQLite format 3\x00 half")
    an_hour_ago = datetime.now().timestamp() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    rotating_backup(filled, now=NOON)
    assert not stale.exists() and fresh.exists()


def test_a_copy_is_consistent_while_another_program_writes(filled, make_pupil_case):
    writer = sqlite3.connect(filled, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO settings (key, value) VALUES ('en_cours', 'pas encore')")
    try:
        target = rotating_backup(filled, now=NOON)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with Store.open(target, read_only=True) as copy:
        assert copy.get_setting("en_cours") is None and copy.check().ok


def test_a_folder_that_cannot_be_made_is_said_in_french_and_the_base_is_untouched(filled):
    (filled.parent / BACKUP_FOLDER).write_text("un fichier à la place du dossier")
    before = filled.read_bytes()
    with pytest.raises(StoreError, match="dossier des sauvegardes"):
        rotating_backup(filled, now=NOON)
    assert filled.read_bytes() == before


def test_a_file_that_is_not_a_base_is_not_copied(tmp_path):
    text = tmp_path / "notes.db"
    text.write_text("pas une base")
    with pytest.raises(StoreError, match="pas une base de données SQLite"):
        rotating_backup(text)
    assert not (tmp_path / BACKUP_FOLDER).exists()


def test_the_restore_that_readme_describes(filled, make_pupil_case, tmp_path):
    """Close; remove -wal and -shm; copy the backup over the base; `rased-tui check`."""
    target = rotating_backup(filled, now=NOON)
    add_a_case(filled, make_pupil_case)  # a change after the backup, to be undone
    for journal in ("-wal", "-shm"):
        filled.with_name(filled.name + journal).unlink(missing_ok=True)
    shutil.copyfile(target, filled)
    assert cli.main(["check", "--db", str(filled)]) == 0
    with Store.open(filled, read_only=True) as restored:
        assert restored.counts()["cases"] == 1


# -- when copies are made ------------------------------------------------------------------------


async def test_the_interface_opened_for_writing_makes_a_copy(filled):
    with Store.open(filled) as store:
        app = new_app(store)
        app.backup_on_start = True
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
    [copy] = existing_backups(filled)
    assert copy.stat().st_size > 0


async def test_a_failed_copy_is_said_and_the_interface_goes_on(filled):
    (filled.parent / BACKUP_FOLDER).write_text("un fichier à la place du dossier")
    with Store.open(filled) as store:
        app = new_app(store)
        app.backup_on_start = True
        async with app.run_test(size=SIZE) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert [n.title for n in app._notifications] == ["Sauvegarde automatique impossible"]
            await pilot.press("n")  # the app is still usable
            await pilot.pause()
            assert app.screen.__class__.__name__ == "IntakeScreen"


def test_read_only_and_the_plain_app_make_no_copy(filled):
    from rased_tui.app import RasedApp

    with Store.open(filled, read_only=True) as store:
        assert RasedApp(store, backup_on_start=True).backup_on_start is False
    with Store.open(filled) as store:
        assert RasedApp(store).backup_on_start is False


def test_an_import_backs_up_the_base_first(filled, tmp_path, capsys):
    from tests.test_exchange import export

    bundle = export(filled, tmp_path / "cle")
    assert cli.main(["import", "--db", str(filled), str(bundle)]) == 0
    assert len(existing_backups(filled)) == 1
    fresh = tmp_path / "neuve.db"
    assert cli.main(["import", "--db", str(fresh), str(bundle)]) == 0  # a new base: nothing to copy
    assert existing_backups(fresh) == []


def test_two_bases_in_one_folder_keep_their_own_copies(filled, make_pupil_case):
    other = filled.with_name("rased.sqlite")
    shutil.copyfile(filled, other)
    mine = rotating_backup(filled, now=NOON)
    for hour in range(3):
        add_a_case(other, make_pupil_case)
        rotating_backup(other, keep=2, now=NOON + timedelta(hours=hour + 1))
    assert existing_backups(filled) == [mine] and len(existing_backups(other)) == 2


def test_a_second_copy_in_the_same_second_counts_as_the_newest(filled, make_pupil_case):
    first = rotating_backup(filled, now=NOON)
    add_a_case(filled, make_pupil_case)
    second = rotating_backup(filled, now=NOON)
    assert existing_backups(filled) == [first, second]
    assert rotating_backup(filled, now=NOON + timedelta(seconds=1)) is None  # compared with the newest
    add_a_case(filled, make_pupil_case)
    rotating_backup(filled, keep=2, now=NOON + timedelta(seconds=2))
    assert not first.exists() and second.exists()

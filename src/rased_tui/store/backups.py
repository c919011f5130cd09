"""Rotating backups: a copy of the base each time the interface opens it for writing.

The copies go to a folder `sauvegardes/` beside the base (0700), one file per copy
(`rased.db-AAAAMMJJ-HHMMSS.db` for `rased.db`, 0600), and only the last `BACKUPS_KEPT` are kept. A copy is made
only when the base changed since the newest one (its audit log has moved on: every change is
audited), so opening and closing the app ten times does not push the older copies out.

A copy is consistent even while the app writes (SQLite's backup API, on its own read-only
connection: in WAL mode it waits for nobody), is written under a hidden temporary name, flushed
to disk, then renamed: an interrupted copy never looks like a whole one, and is removed the next
time.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from datetime import datetime
from pathlib import Path

from rased_tui.domain.french import os_reason
from rased_tui.store.errors import StoreError, translate_sqlite_error
from rased_tui.store.opening import create_private_file, make_private_directory, open_connection, read_only_uri

BACKUPS_KEPT = 7
BACKUP_FOLDER = "sauvegardes"
PARTIAL_SUFFIX = ".partiel"
STALE_AFTER_SECONDS = 600  # a copy being made takes seconds; one this old was interrupted


def backup_folder(database: Path) -> Path:
    return database.parent / BACKUP_FOLDER


def _backup_pattern(database: Path) -> re.Pattern[str]:
    """`rased.db` gives rased.db-20261121-083000.db (and -2, -3… in the same second): the whole
    name, so that rased.db and rased.sqlite in one folder never share their copies."""
    return re.compile(re.escape(database.name) + r"-(?P<stamp>\d{8}-\d{6})(-(?P<attempt>\d+))?\.db")


def existing_backups(database: Path) -> list[Path]:
    """This base's rotating backups, oldest first: by the time in their name, then by the
    number added to a second copy made in the same second."""
    folder = backup_folder(database)
    if not folder.is_dir():
        return []
    pattern = _backup_pattern(database)
    found = [(match, path) for path in folder.iterdir() if (match := pattern.fullmatch(path.name))]
    found.sort(key=lambda item: (item[0]["stamp"], int(item[0]["attempt"] or 1)))
    return [path for _, path in found]


def audit_head(connection: sqlite3.Connection) -> tuple[int, str] | None:
    """The last row of the audit log (its number and hash): it moves with every change."""
    row = connection.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else None


def rotating_backup(database: Path, *, keep: int = BACKUPS_KEPT, now: datetime | None = None) -> Path | None:
    """Copy the base into its backup folder and keep the last `keep` copies; None when the
    newest copy already holds what the base holds. StoreError (French) when it cannot."""
    database = Path(database)
    folder = backup_folder(database)
    source = _open_source(database)  # refused before any folder is made: not a base, a newer one…
    try:
        try:
            make_private_directory(folder)
            _remove_interrupted_copies(folder, database)
        except OSError as error:
            raise StoreError(f"Impossible de préparer le dossier des sauvegardes {folder} : "
                             f"{os_reason(error)}.") from None
        backups = existing_backups(database)
        if backups and _same_audit_head(source, backups[-1]):
            return None
        target = _write_copy(source, folder, database, now or datetime.now())
    finally:
        source.close()
    try:
        for old in existing_backups(database)[:-keep]:
            old.unlink(missing_ok=True)
    except OSError as error:
        raise StoreError(f"La sauvegarde {target.name} est faite, mais les plus anciennes n'ont pas pu être "
                         f"retirées de {folder} : {os_reason(error)}.") from None
    return target


def backup_before_writing(database: Path) -> str | None:
    """`rotating_backup`, for the callers that go on whatever happens (the interface opening a
    base, an import): None when it is done or not needed, else why not, in French."""
    try:
        rotating_backup(database)
    except StoreError as error:
        return str(error)
    except OSError as error:
        return f"Impossible d'écrire la sauvegarde dans {backup_folder(database)} : {os_reason(error)}."
    return None


def _open_source(database: Path) -> sqlite3.Connection:
    """The base, read-only, once known to be a rased-tui base of this version."""
    return open_connection(database, read_only=True)


def _same_audit_head(source: sqlite3.Connection, backup: Path) -> bool:
    try:
        copy = sqlite3.connect(read_only_uri(backup), uri=True)
        try:
            return audit_head(copy) == audit_head(source)
        finally:
            copy.close()
    except sqlite3.Error:  # a damaged copy: make a new one
        return False


def _write_copy(source: sqlite3.Connection, folder: Path, database: Path, now: datetime) -> Path:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{database.name}-{stamp}.db"
    attempt = 1
    while target.exists():
        attempt += 1
        target = folder / f"{database.name}-{stamp}-{attempt}.db"
    partial = folder / f".{target.name}{PARTIAL_SUFFIX}"
    try:
        partial.unlink(missing_ok=True)
        create_private_file(partial)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
            copy.execute("PRAGMA journal_mode = DELETE")  # one file, nothing beside it
        finally:
            copy.close()
        _flush_to_disk(partial)
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as error:
        partial.unlink(missing_ok=True)
        if isinstance(error, sqlite3.Error):
            raise translate_sqlite_error(error) from None
        raise StoreError(f"Impossible d'écrire la sauvegarde dans {folder} : {os_reason(error)}.") from None
    return target


def _flush_to_disk(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_interrupted_copies(folder: Path, database: Path) -> None:
    """Copies left half-written by a crash; not one being written right now by another window."""
    pattern = re.compile(r"\." + _backup_pattern(database).pattern + re.escape(PARTIAL_SUFFIX))
    for path in folder.iterdir():
        if pattern.fullmatch(path.name) and time.time() - path.stat().st_mtime > STALE_AFTER_SECONDS:
            path.unlink(missing_ok=True)

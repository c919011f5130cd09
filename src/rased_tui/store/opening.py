"""Finding, creating and opening the database file safely.

- The path: `--db`, else RASED_TUI_DB, else the platform's user data folder.
- A new file is built aside (owner-only, 0600, in a folder made 0700) and renamed into place
  once its schema is complete, so a crash never leaves a half-made database behind.
- An existing file is checked before SQLite touches it: a folder, an empty file, a text
  file, a truncated database, a database of another program or of a newer version of
  rased-tui are refused with one French sentence (StoreError).
- Pragmas: WAL (readers never wait for the writer), foreign keys, a busy timeout, and
  synchronous=FULL: a save is on disk when the screen says so, even through a power cut;
  with WAL that costs one fsync per transaction, a few milliseconds on a laptop.
- An older schema is copied aside, then migrated (migrations.py).
"""

from __future__ import annotations

import os
import sqlite3
import struct
from datetime import datetime
from functools import cache
from pathlib import Path
from urllib.parse import quote

from rased_tui.domain.french import os_reason
from rased_tui.store.errors import StoreError, translate_sqlite_error
from rased_tui.store.migrations import SCHEMA_VERSION, apply_schema, migrate

APPLICATION_ID = 1380012869  # 'RASE', set by schema.sql
DATABASE_VARIABLE = "RASED_TUI_DB"
BUSY_TIMEOUT_MS = 5000
SQLITE_HEADER = b"SQLite format 3\x00"


def default_database_path() -> Path:
    """Where the database lives when neither --db nor RASED_TUI_DB says otherwise."""
    import platformdirs

    return platformdirs.user_data_path("rased-tui", appauthor=False) / "rased.db"


def resolve_database_path(argument: str | os.PathLike | None) -> Path:
    """--db first, then the RASED_TUI_DB variable, then the user data folder."""
    if argument:
        return Path(argument).expanduser()
    from_environment = os.environ.get(DATABASE_VARIABLE)
    if from_environment:
        return Path(from_environment).expanduser()
    return default_database_path()


def make_private_directory(directory: Path) -> None:
    """Create a folder (and missing parents) readable by its owner only."""
    missing = []
    current = directory
    while not current.exists():
        missing.append(current)
        current = current.parent
    for folder in reversed(missing):
        folder.mkdir(mode=0o700)
        restrict_to_owner(folder, 0o700)


def restrict_to_owner(path: Path, mode: int = 0o600) -> None:
    """chmod where the system has POSIX permissions (on Windows, the user profile protects)."""
    if os.name == "posix":
        os.chmod(path, mode)


def create_private_file(path: Path) -> None:
    """Create an empty file that only its owner can read and write; fails if it exists."""
    descriptor = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0), 0o600)
    os.close(descriptor)
    restrict_to_owner(path)


def read_only_uri(path: Path, *, leave_no_trace: bool = False) -> str:
    """A `file:` URI opening `path` read-only, also from a write-protected folder.

    Drive letters and Windows network paths (\\\\serveur\\partage) are written the way SQLite
    expects them. When no journal file (-wal) is there, no program has the base open to write
    it; then `immutable=1` lets SQLite read without creating its -wal and -shm files beside the
    base — needed where the folder cannot be written (a locked USB key), and asked for by
    `leave_no_trace` (a snapshot taken at once). It is not the default: an immutable reader
    would not see, and could misread, what a writer opening the base later saves.
    """
    posix = Path(os.path.abspath(path)).as_posix()
    if posix.startswith("//"):  # UNC path: file:////serveur/partage/...
        posix = "//" + posix
    elif not posix.startswith("/"):  # C:/...: file:///C:/...
        posix = "/" + posix
    uri = f"file:{quote(posix, safe='/:')}?mode=ro"
    journal_pending = Path(f"{path}-wal").exists()
    if not journal_pending and (leave_no_trace or not os.access(path.parent, os.W_OK)):
        uri += "&immutable=1"
    return uri


def connect(path: Path, *, read_only: bool, leave_no_trace: bool = False) -> sqlite3.Connection:
    """An sqlite3 connection in autocommit mode (the store opens its own transactions)."""
    check_sqlite_features()
    try:
        if read_only:
            connection = sqlite3.connect(read_only_uri(path, leave_no_trace=leave_no_trace), uri=True,
                                         isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                         check_same_thread=False)
        else:  # the file exists (checked or just created): a plain path never creates one here
            connection = sqlite3.connect(os.fspath(path), isolation_level=None,
                                         timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as error:
        raise StoreError(f"Impossible d'ouvrir {path} : {error}.") from None
    try:
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        connection.execute("PRAGMA foreign_keys = ON")
        # Sorts and temporary tables in memory: SQLite would otherwise spill them to files in
        # the system's temporary folder, outside the database's own, with children's data.
        connection.execute("PRAGMA temp_store = MEMORY")
    except sqlite3.Error as error:
        connection.close()
        raise translate_sqlite_error(error) from None
    return connection


MINIMUM_SQLITE = (3, 31, 0)  # FTS5 with remove_diacritics 2, upserts, row values


def check_sqlite_features() -> None:
    """Refuse, in French, an SQLite library too old or built without full-text search."""
    if sqlite3.sqlite_version_info < MINIMUM_SQLITE:
        raise StoreError(
            f"La bibliothèque SQLite de ce Python est trop ancienne ({sqlite3.sqlite_version}) : "
            f"il faut au moins {'.'.join(map(str, MINIMUM_SQLITE))}.")
    if not _has_fts5():
        raise StoreError("La bibliothèque SQLite de ce Python n'a pas la recherche plein texte (FTS5).")


@cache
def _has_fts5() -> bool:
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE probe USING fts5(text, tokenize = 'unicode61 remove_diacritics 2')")
        return True
    except sqlite3.Error:
        return False
    finally:
        probe.close()


def prepare_for_writing(connection: sqlite3.Connection) -> None:
    """WAL and synchronous=FULL. Switching to WAL rewrites the file's header, so this is done
    only once the file is known to be ours: a refused file is left exactly as it was."""
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")


def check_file(path: Path, *, read_only: bool) -> None:
    """Refuse, before SQLite reads it, a path that cannot be a usable rased-tui database."""
    if path.is_dir():
        raise StoreError(f"{path} est un dossier, pas un fichier de base de données.")
    if not os.access(path, os.R_OK):
        raise StoreError(f"Pas la permission de lire {path}.")
    if not read_only and not os.access(path, os.W_OK):
        raise StoreError(f"{path} n'est pas accessible en écriture (pour seulement le consulter : --lecture-seule).")
    size = path.stat().st_size
    if size == 0:
        raise StoreError(f"{path} est vide (0 octet) : ce n'est pas une base rased-tui (copie interrompue ?).")
    with open(path, "rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_HEADER):
        raise StoreError(f"{path} n'est pas une base de données SQLite (fichier texte ou autre format).")
    if len(header) < 100:
        raise StoreError(f"{path} est tronqué : l'en-tête de la base est incomplet.")
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    page_count = struct.unpack(">I", header[28:32])[0]
    header_is_current = header[24:28] == header[92:96]
    if header_is_current and page_count and size < page_size * page_count:
        raise StoreError(
            f"{path} est tronqué ({size} octets au lieu de {page_size * page_count}) : "
            "utilisez une sauvegarde."
        )


def read_identity(connection: sqlite3.Connection) -> tuple[int, int, int]:
    """(application_id, user_version, number of schema objects) of an open database."""
    try:
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        objects = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.Error as error:
        raise translate_sqlite_error(error) from None
    return application_id, version, objects


def check_identity(path: Path, application_id: int, version: int, objects: int) -> None:
    if objects and application_id != APPLICATION_ID:
        raise StoreError(f"{path} est une base SQLite d'un autre programme, pas de rased-tui.")
    if objects and version < 1:
        raise StoreError(f"{path} n'a pas de version de schéma connue : ce n'est pas une base rased-tui valide.")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} vient d'une version plus récente de rased-tui (schéma {version}, "
            f"celle-ci connaît le schéma {SCHEMA_VERSION}) : mettez le programme à jour."
        )


def create_database(path: Path) -> None:
    """Build a complete new database aside, then move it to `path` in one rename."""
    make_private_directory(path.parent)
    scratch = path.with_name(f".{path.name}.creation-{os.getpid()}.tmp")
    scratch.unlink(missing_ok=True)
    create_private_file(scratch)
    try:
        connection = connect(scratch, read_only=False)
        try:
            prepare_for_writing(connection)
            apply_schema(connection)
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
        os.replace(scratch, path)
    except BaseException:
        remove_database_files(scratch)
        raise


def remove_database_files(path: Path) -> None:
    """A database file and its journal files (-wal, -shm), where they exist."""
    for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        leftover.unlink(missing_ok=True)


def copy_aside(connection: sqlite3.Connection, path: Path, version: int) -> Path:
    """A consistent copy of the file next to it, before a migration, readable by the owner only."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        target = _create_first_free(path, f"{path.stem}.avant-migration-v{version}-{stamp}", path.suffix)
    except OSError as error:
        raise StoreError(
            f"Impossible de mettre une copie de {path} de côté avant sa mise à jour "
            f"({os_reason(error)}) : rien n'a été modifié."
        ) from None
    copy = sqlite3.connect(target)
    try:
        connection.backup(copy)
    finally:
        copy.close()
    return target


def _create_first_free(path: Path, stem: str, suffix: str) -> Path:
    """Create (owner-only) the first of stem.ext, stem-2.ext, stem-3.ext... that does not exist."""
    for attempt in range(1, 100):
        target = path.with_name(f"{stem}{'' if attempt == 1 else f'-{attempt}'}{suffix}")
        try:
            create_private_file(target)
            return target
        except FileExistsError:
            continue
    raise FileExistsError(f"{stem}{suffix}")


def tighten_permissions(path: Path) -> None:
    """A database copied in with loose permissions (say 0644) becomes owner-only, with its
    journal files, before it takes any write."""
    if os.name != "posix":
        return
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if file.exists() and file.stat().st_mode & 0o077:
            restrict_to_owner(file)


def open_snapshot(path: Path) -> sqlite3.Connection:
    """The base at `path` as it is now, copied into memory: the read-only review works on that
    copy, so the file keeps its bytes and gets no -wal or -shm beside it, and a writer saving
    meanwhile changes nothing of what the reviewer reads (he or she sees the base as it was
    when opened). The file is checked like any other (identity, version) first."""
    source = open_connection(path, read_only=True, leave_no_trace=True)
    try:
        snapshot = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        source.backup(snapshot)
    except sqlite3.Error as error:
        raise translate_sqlite_error(error) from None
    finally:
        source.close()
    snapshot.execute("PRAGMA foreign_keys = ON")
    snapshot.execute("PRAGMA temp_store = MEMORY")
    snapshot.execute("PRAGMA query_only = ON")
    return snapshot


def open_in_memory() -> sqlite3.Connection:
    """A new database in memory with the schema: an export opened for review lives there, and
    nothing of it reaches the disk (sorts and temporary tables stay in memory too)."""
    check_sqlite_features()
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    try:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("PRAGMA temp_store = MEMORY")
        apply_schema(connection)
    except sqlite3.Error as error:
        connection.close()
        raise translate_sqlite_error(error) from None
    return connection


def open_connection(path: Path, *, read_only: bool = False, leave_no_trace: bool = False) -> sqlite3.Connection:
    """Open (creating or migrating it if needed) the database at `path`; StoreError if unusable."""
    if not path.exists():
        if read_only:
            raise StoreError(f"{path} n'existe pas.")
        try:
            create_database(path)
        except OSError as error:
            raise StoreError(f"Impossible de créer {path} : {os_reason(error)}.") from None
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None
    check_file(path, read_only=read_only)
    if not read_only:
        tighten_permissions(path)
    connection = connect(path, read_only=read_only, leave_no_trace=leave_no_trace)
    try:
        application_id, version, objects = read_identity(connection)
        check_identity(path, application_id, version, objects)
        if objects == 0:
            if read_only:
                raise StoreError(f"{path} est une base vide : rien à consulter.")
            prepare_for_writing(connection)
            apply_schema(connection)
        elif version < SCHEMA_VERSION:
            if read_only:
                raise StoreError(
                    f"{path} a un schéma ancien ({version}) : ouvrez-le une fois en écriture pour le mettre à jour."
                )
            copy_aside(connection, path, version)  # the file exactly as it was
            prepare_for_writing(connection)
            migrate(connection, version)
        elif not read_only:
            prepare_for_writing(connection)
    except sqlite3.Error as error:
        connection.close()
        raise translate_sqlite_error(error) from None
    except BaseException:
        connection.close()
        raise
    return connection

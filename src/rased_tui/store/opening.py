"""Finding, creating and opening the database file safely.

- The path: `--db`, else RASED_TUI_DB, else the platform's user data folder.
- A new file is built aside (owner-only, 0600, in a folder made 0700) and renamed into place
  once its schema is complete (the folder synced), so a crash never leaves a half-made
  database behind; what a killed creation left aside is removed at the next one.
- A base at the current version lacking tables, views or triggers of schema.sql (a schema
  stopped midway by hand) is refused; `check` names a missing index.
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
import re
import sqlite3
import struct
import threading
import time
from collections import Counter
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


class HeldConnection(sqlite3.Connection):
    """A connection that remembers which file it holds open in this program, until it closes.

    On POSIX, closing *any* descriptor of a file drops every lock this program holds on it,
    SQLite's included. If `check_file` read the header of a base this program already has open
    (the interface backing it up, or importing into it), the interface would lose its locks;
    another program closing the base would then take itself for the last one, fold and delete
    the journal the interface still writes in, and its saves would be lost. So `check_file`
    does not read a file held here: it was checked when first opened."""

    held_file: tuple[int, int] | None = None

    def close(self) -> None:
        _let_go(self.held_file)
        self.held_file = None
        super().close()


_HELD_HERE: Counter[tuple[int, int]] = Counter()  # (device, inode) -> connections open on it here
_HELD_LOCK = threading.Lock()


def _file_identity(path: Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def _hold(connection: HeldConnection, path: Path) -> None:
    identity = _file_identity(path)
    if identity is not None:
        with _HELD_LOCK:
            _HELD_HERE[identity] += 1
        connection.held_file = identity


def _let_go(identity: tuple[int, int] | None) -> None:
    if identity is not None:
        with _HELD_LOCK:
            _HELD_HERE[identity] -= 1
            if _HELD_HERE[identity] <= 0:
                del _HELD_HERE[identity]


def held_here(path: Path) -> bool:
    """Whether this program has a connection open on the file at `path`."""
    identity = _file_identity(path)
    with _HELD_LOCK:
        return identity is not None and _HELD_HERE[identity] > 0


def connect(path: Path, *, read_only: bool, leave_no_trace: bool = False, uri: str | None = None) -> sqlite3.Connection:
    """An sqlite3 connection in autocommit mode (the store opens its own transactions)."""
    check_sqlite_features()
    try:
        if read_only:
            connection = sqlite3.connect(uri or read_only_uri(path, leave_no_trace=leave_no_trace), uri=True,
                                         factory=HeldConnection,
                                         isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                                         check_same_thread=False)
        else:  # the file exists (checked or just created): a plain path never creates one here
            connection = sqlite3.connect(os.fspath(path), isolation_level=None, factory=HeldConnection,
                                         timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    except sqlite3.Error as error:
        raise StoreError(f"Impossible d'ouvrir {path} : {error}.") from None
    _hold(connection, path)
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
    if held_here(path):
        return  # checked when this program opened it; reading it now would drop our locks (HeldConnection)
    size = path.stat().st_size
    if size == 0:
        raise StoreError(f"{path} est vide (0 octet) : ce n'est pas une base rased-tui (copie interrompue ?).")
    with open(path, "rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_HEADER):
        raise StoreError(f"{path} n'est pas une base de données SQLite (fichier texte ou autre format).")
    if len(header) < 100:
        raise StoreError(f"{path} est tronqué : l'en-tête de la base est incomplet.")
    expected = _expected_size(header)
    if size < expected and not _journal_holds_pages(path):
        raise StoreError(f"{path} est tronqué ({size} octets au lieu de {expected}) : utilisez une sauvegarde.")
    if not Path(f"{path}-wal").exists():
        # No writer: the header is the base's own word. Read from it, a newer schema or another
        # program's identity is refused before SQLite opens the file — a read-only SQLite
        # connection to a base in WAL mode would leave -wal and -shm beside it.
        application_id = struct.unpack(">I", header[68:72])[0]
        version = struct.unpack(">I", header[60:64])[0]
        check_identity(path, application_id, version, objects=int(application_id not in (0, APPLICATION_ID)))


def _journal_holds_pages(path: Path) -> bool:
    """A -wal beside the base with pages in it: the file may rightly be shorter than its header
    says — a program copying its journal into the file writes the header first, and one killed
    in the middle leaves it so; SQLite completes the file from the journal."""
    try:
        return os.path.getsize(f"{path}-wal") > 0
    except OSError:
        return False


def _expected_size(header: bytes) -> int:
    """The size the header of a database file announces (0 when it does not say)."""
    if len(header) < 100:
        return 0
    page_size = struct.unpack(">H", header[16:18])[0]
    page_size = 65536 if page_size == 1 else page_size
    page_count = struct.unpack(">I", header[28:32])[0]
    header_is_current = header[24:28] == header[92:96]
    return page_size * page_count if header_is_current else 0


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


OBJECT_WORDS = {"table": "table", "view": "vue", "index": "index", "trigger": "déclencheur"}


@cache
def schema_objects() -> frozenset[tuple[str, str]]:
    """(type, name) of every table, view, index and trigger that schema.sql creates."""
    probe = sqlite3.connect(":memory:", isolation_level=None)
    try:
        apply_schema(probe)
        return frozenset(probe.execute(
            "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'").fetchall())
    finally:
        probe.close()


def missing_schema_objects(connection: sqlite3.Connection) -> list[tuple[str, str]]:
    """The objects of schema.sql that a base at the current version lacks, sorted."""
    present = {(kind, name) for kind, name in connection.execute("SELECT type, name FROM sqlite_master")}
    return sorted(schema_objects() - present)


def describe_objects(objects: list[tuple[str, str]], limit: int = 6) -> str:
    """« table cases, index cases_by_school… » for a message."""
    names = [f"{OBJECT_WORDS.get(kind, kind)} {name}" for kind, name in objects]
    return ", ".join(names[:limit]) + (f" et {len(names) - limit} autre(s)" if len(names) > limit else "")


AUDIT_PROTECTIONS = {("trigger", "audit_log_no_update"), ("trigger", "audit_log_no_delete")}


def check_schema_complete(connection: sqlite3.Connection, path: Path) -> None:
    """Refuse a base at the current version that lacks tables, views or triggers of schema.sql
    (a creation interrupted by hand, a copy of a part): it would fail at the first screen that
    reads them, or keep its search index and rules only in part. A missing index leaves the
    data whole, and removed protections of the audit log are tampering to show: `check`
    reports both."""
    missing = [item for item in missing_schema_objects(connection)
               if item[0] != "index" and item not in AUDIT_PROTECTIONS]
    if missing:
        raise StoreError(
            f"{path} est une base rased-tui incomplète (création interrompue ?) : il lui manque "
            f"{describe_objects(missing)}. Utilisez une sauvegarde, ou supprimez ce fichier s'il ne contient rien.")


SCRATCH_NAME = re.compile(r"^\.(?P<name>.+)\.creation-(?P<pid>\d+)\.tmp(-wal|-shm|-journal)?$")


def remove_abandoned_scratch_files(folder: Path) -> None:
    """The files a creation killed midway left in `folder` (`.NAME.creation-PID.tmp` and its
    journal files): an empty schema, no personal data, but clutter. Only those of a process
    that is no longer running (POSIX only: elsewhere they are left alone)."""
    if os.name != "posix":
        return
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = SCRATCH_NAME.match(name)
        if match and not _process_alive(int(match["pid"])):
            try:
                (folder / name).unlink()
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # alive, another user's
        return True
    return True


def _sync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX; elsewhere the system does it its own way)."""
    if os.name != "posix":
        return
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def create_database(path: Path) -> None:
    """Build a complete new database aside, then move it to `path` in one rename."""
    make_private_directory(path.parent)
    remove_abandoned_scratch_files(path.parent)
    scratch = path.with_name(f".{path.name}.creation-{os.getpid()}.tmp")
    remove_database_files(scratch)
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
        _sync_folder(path.parent)  # the rename survives a power cut too
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


SNAPSHOT_ATTEMPTS = 8


def open_snapshot(path: Path) -> sqlite3.Connection:
    """The base at `path` as it is now, copied into memory: the read-only review works on that
    copy, so the file keeps its bytes and gets no -wal or -shm beside it, and a writer saving
    meanwhile changes nothing of what the reviewer reads (he or she sees the base as it was
    when opened). The file is checked like any other (identity, version) first.

    With no -wal beside the base, the copy reads it `immutable`, without SQLite's locks: a
    program that opens the base to write meanwhile could copy its journal into the file under
    the copy's eyes (a torn copy: half a case, or a "malformed" base). So the file is looked
    at before and after: if it changed, or a writer has come, the copy is thrown away and made
    again — from the fifth attempt through SQLite's locks, the writer's -wal and -shm being
    there anyway while it comes and goes."""
    for attempt in range(SNAPSHOT_ATTEMPTS):
        before = _file_state(path)
        uri = read_only_uri(path, leave_no_trace=attempt < SNAPSHOT_ATTEMPTS // 2)
        unlocked = "immutable=1" in uri
        try:
            snapshot = _copy_into_memory(path, uri)
        except StoreError:
            if unlocked and before is not None and _file_state(path) != before:
                time.sleep(0.01 * (attempt + 1))
                continue  # refused in the middle of a writer's work: look again
            raise
        if not unlocked or (before is not None and not before[0] and _file_state(path) == before):
            snapshot.execute("PRAGMA foreign_keys = ON")
            snapshot.execute("PRAGMA temp_store = MEMORY")
            snapshot.execute("PRAGMA query_only = ON")
            return snapshot
        snapshot.close()
        time.sleep(0.01 * (attempt + 1))
    raise StoreError(f"{path} est en train d'être écrit par un autre programme : réessayez dans un instant.")


def _file_state(path: Path) -> tuple | None:
    """What changes when a program writes the base: its -wal beside it, its size and times."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (Path(f"{path}-wal").exists(), status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def _copy_into_memory(path: Path, uri: str) -> sqlite3.Connection:
    source = open_connection(path, read_only=True, uri=uri)
    try:
        snapshot = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            source.backup(snapshot)  # in one step: one read transaction, never restarted
        except BaseException:
            snapshot.close()
            raise
    except sqlite3.Error as error:
        raise translate_sqlite_error(error) from None
    finally:
        source.close()
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


def open_connection(path: Path, *, read_only: bool = False, leave_no_trace: bool = False,
                    uri: str | None = None) -> sqlite3.Connection:
    """Open (creating or migrating it if needed) the database at `path`; StoreError if unusable.
    `uri`: read-only, the URI to open (read_only_uri's, decided by the caller)."""
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
    connection = connect(path, read_only=read_only, leave_no_trace=leave_no_trace, uri=uri)
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
        else:
            check_schema_complete(connection, path)
            if not read_only:
                prepare_for_writing(connection)
    except sqlite3.Error as error:
        connection.close()
        raise translate_sqlite_error(error) from None
    except BaseException:
        connection.close()
        raise
    return connection

"""Reading an export bundle back: check it whole, then merge it into a database.

`read_bundle(path)` takes a bundle folder (its files read from the disk when needed) or an
encrypted `.rased` file (decrypted in memory, nothing written to disk), and
`check_bundle(files)` checks, before the database is even opened:
- manifest.json readable, from rased-tui, of a schema and bundle format this version knows;
- every file listed there, present, with its SHA-256 (a file changed by hand, or cut short on a
  USB key, is refused).
`import_bundle` then merges (store/merge.py) in one transaction while it reads the files, one
after the other, parents first, in chunks (`incoming_tables`): every header and every cell (a
date, a label, an identifier...) is checked, a wrong one reported with its file, line and
column, then each file's row count and the records found twice in it. Any refusal is an
`ImportRefused` with one French sentence; a row the database refuses stops the writing with its
file and line, and is told once the files are read to the end (a problem in a file is told
first, as if every file had been checked before the merge). Either way the transaction is
rolled back: nothing at all is written (and a database created for the import is removed).

Cells are read column by column with the quick readers of exchange/spreadsheet.py, and only a
chunk of a file is in memory at a time (the cases file whole): a département's bundle weighs
hundreds of MB.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from rased_tui.domain.calendar import format_french_date
from rased_tui.domain.french import count, os_reason
from rased_tui.domain.models import (
    PSEUDONYMOUS_FIRST_NAME,
    STORED,
    Aid,
    AidEvaluation,
    Case,
    Meeting,
    Member,
    Period,
    Pupil,
    School,
    TimelineEntry,
    french_messages,
)
from rased_tui.exchange.bundle_spec import (
    AIDS,
    BUNDLE_FORMAT,
    CASES,
    ENTRIES,
    EVALUATIONS,
    FILES,
    FILES_BY_NAME,
    MANIFEST,
    MEETINGS,
    MEMBERS,
    PERIODS,
    PRIOR_ACTIONS,
    PUPILS,
    SCHOOLS,
    BundleFile,
)
from rased_tui.exchange.spreadsheet import CellError, CsvFormat
from rased_tui.store import Store, StoreError
from rased_tui.store.merge import LABELS, IncomingTable, MergeReport
from rased_tui.store.migrations import SCHEMA_VERSION
from rased_tui.store.opening import remove_database_files

MAX_MANIFEST_BYTES = 1 << 20
CHUNK_ROWS = 5000  # rows of a file read (column by column) and merged at a time
BLOCK_BYTES = 1 << 20  # read at a time to check a file's SHA-256 and encoding


class ImportRefused(Exception):
    """A bundle that cannot be imported; the message is one French sentence."""


@dataclass
class CheckedBundle:
    """A bundle whose manifest and checksums hold; its files are read when merged."""

    manifest: dict[str, Any]
    files: Mapping[str, bytes]
    not_utf8: dict[str, int] = field(default_factory=dict)  # file -> line of its first byte not in UTF-8
    birth_dates: dict[str, date | None] = field(default_factory=dict)  # pupil id -> birth date, as read

    @property
    def csv_format(self) -> CsvFormat:
        return CsvFormat(self.manifest["options"]["format"])

    @property
    def pseudonymised(self) -> bool:
        return not self.manifest["options"].get("nominative", False)

    @property
    def site(self) -> str:
        return str(self.manifest.get("site") or "")

    @property
    def settings(self) -> dict[str, str]:
        """The sender's circonscription, antenna and zone, where the manifest has them (a
        bundle of an older version has none)."""
        from rased_tui.exchange.export import SHARED_SETTINGS

        given = self.manifest.get("settings")
        if not isinstance(given, dict):
            return {}
        return {key: value.strip() for key, value in given.items()
                if key in SHARED_SETTINGS and isinstance(value, str) and value.strip()}


# -- reading ------------------------------------------------------------------------------

def read_bundle(path: Path, passphrase: Callable[[], str] | None = None) -> Mapping[str, bytes]:
    """The files of a bundle (folder or encrypted file) by name."""
    path = Path(path).expanduser()
    if path.is_dir():
        return _folder_files(path)
    if not path.exists():
        raise ImportRefused(f"{path} n'existe pas.")
    from rased_tui.exchange.sealed import SealError, looks_sealed, unseal

    data = path.read_bytes()
    if not looks_sealed(data[:64]):
        raise ImportRefused(f"{path} n'est ni un dossier d'export ni un export chiffré de rased-tui.")
    if passphrase is None:
        raise ImportRefused("Cet export est chiffré : il faut sa phrase de passe.")
    try:
        return unseal(data, passphrase())
    except SealError as error:
        raise ImportRefused(str(error)) from None


class FolderFiles(Mapping[str, bytes]):
    """The files of a bundle folder, each read from the disk when asked for."""

    def __init__(self, folder: Path, manifest: bytes, names: list[str]) -> None:
        self.folder = folder
        self._manifest = manifest
        self._names = [MANIFEST, *names]

    def __getitem__(self, name: str) -> bytes:
        if name == MANIFEST:
            return self._manifest
        if name not in self._names:
            raise KeyError(name)
        try:
            return (self.folder / name).read_bytes()
        except OSError as error:
            raise _unreadable(error, self.folder / name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._names  # without reading the file, as Mapping would

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def blocks(self, name: str) -> Iterator[bytes]:
        try:
            with open(self.folder / name, "rb") as handle:
                while block := handle.read(BLOCK_BYTES):
                    yield block
        except OSError as error:
            raise _unreadable(error, self.folder / name) from None

    def open(self, name: str) -> "_HashingReader":
        """The file as a stream, its SHA-256 computed as it is read."""
        try:
            return _HashingReader(open(self.folder / name, "rb"), self.folder / name)
        except OSError as error:
            raise _unreadable(error, self.folder / name) from None


class _HashingReader(io.RawIOBase):
    def __init__(self, handle: io.BufferedReader, path: Path) -> None:
        self.handle = handle
        self.path = path
        self.digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            count = self.handle.readinto(buffer)
        except OSError as error:
            raise _unreadable(error, self.path) from None
        self.digest.update(memoryview(buffer)[:count])
        return count

    def close(self) -> None:
        self.handle.close()
        super().close()


def _unreadable(error: OSError, path: Path) -> ImportRefused:
    return ImportRefused(f"Lecture impossible de {error.filename or path} : {os_reason(error)}.")


def _folder_files(folder: Path) -> FolderFiles:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ImportRefused(f"{folder} n'est pas un export complet de rased-tui : {MANIFEST} manque "
                            "(export interrompu, ou mauvais dossier).")
    with open(manifest_path, "rb") as handle:
        manifest = handle.read(MAX_MANIFEST_BYTES + 1)
    names = _listed_files(_manifest(manifest))
    for name in names:
        if not (folder / name).is_file():
            raise ImportRefused(f"Export incomplet : {name} manque dans {folder}. Rien n'a été importé.")
    return FolderFiles(folder, manifest, names)


# -- checking -----------------------------------------------------------------------------

def _manifest(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_MANIFEST_BYTES:
        raise ImportRefused(f"{MANIFEST} est anormalement gros : ce n'est pas un export de rased-tui.")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportRefused(f"{MANIFEST} est illisible : l'export est endommagé.") from None
    if not isinstance(manifest, dict) or manifest.get("application") != "rased-tui":
        raise ImportRefused(f"{MANIFEST} ne décrit pas un export de rased-tui.")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or schema < 1:
        raise ImportRefused(f"{MANIFEST} : version de schéma absente ou invalide.")
    if schema > SCHEMA_VERSION:
        raise ImportRefused(f"Cet export vient d'une version plus récente de rased-tui (schéma {schema}, "
                            f"celle-ci connaît le schéma {SCHEMA_VERSION}) : mettez le programme à jour.")
    bundle_format = manifest.get("bundle_format")
    if type(bundle_format) is not int or bundle_format < 1:
        raise ImportRefused(f"{MANIFEST} : format de fichiers absent ou invalide.")
    if bundle_format > BUNDLE_FORMAT:
        raise ImportRefused(f"Cet export a un format de fichiers inconnu ({bundle_format}) : "
                            "mettez rased-tui à jour.")
    options = manifest.get("options")
    if not isinstance(options, dict) or not isinstance(options.get("format"), str) \
            or options["format"] not in {item.value for item in CsvFormat} \
            or type(options.get("nominative")) is not bool:
        raise ImportRefused(f"{MANIFEST} : options absentes ou invalides (format de CSV, nominatif ou non).")
    _listed_files(manifest)
    return manifest


def _listed_files(manifest: dict[str, Any]) -> list[str]:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise ImportRefused(f"{MANIFEST} ne liste pas les fichiers de l'export.")
    for bundle_file in FILES:
        entry = listed.get(bundle_file.name)
        if not isinstance(entry, dict) or type(entry.get("rows")) is not int \
                or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256", ""))):
            raise ImportRefused(f"{MANIFEST} ne décrit pas {bundle_file.name} : export incomplet ou altéré.")
    return [bundle_file.name for bundle_file in FILES]


def check_bundle(files: Mapping[str, bytes]) -> CheckedBundle:
    """The manifest, and every file it lists present with its SHA-256; ImportRefused at the
    first problem. The rows are checked as they are merged (`incoming_tables`)."""
    if MANIFEST not in files:
        raise ImportRefused(f"{MANIFEST} manque : ce n'est pas un export complet de rased-tui.")
    manifest = _manifest(files[MANIFEST])
    bundle = CheckedBundle(manifest, files)
    for name in _listed_files(manifest):
        if name not in files:
            raise ImportRefused(f"Export incomplet : {name} manque. Rien n'a été importé.")
        digest, not_utf8 = _sha256_and_encoding(_blocks(files, name))
        _check_sha256(name, digest, manifest)
        if not_utf8:
            bundle.not_utf8[name] = not_utf8  # told when the file's turn comes
    return bundle


def _blocks(files: Mapping[str, bytes], name: str) -> Iterator[bytes]:
    if isinstance(files, FolderFiles):
        return files.blocks(name)
    view = memoryview(files[name])
    return (view[start:start + BLOCK_BYTES] for start in range(0, len(view), BLOCK_BYTES))


def _sha256_and_encoding(blocks: Iterable[bytes]) -> tuple[str, int | None]:
    """The SHA-256 of a file, and the line of its first byte that is not UTF-8 (None: none)."""
    digest, decoder = hashlib.sha256(), codecs.getincrementaldecoder("utf-8")()
    lines_before, not_utf8 = 0, None
    for block in blocks:
        digest.update(block)
        if not_utf8 is None:
            held = len(decoder.getstate()[0])  # the start of a character cut by the previous block
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                not_utf8 = lines_before + bytes(block[:max(error.start - held, 0)]).count(b"\n") + 1
            lines_before += bytes(block).count(b"\n")
    if not_utf8 is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            not_utf8 = lines_before + 1  # cut in the middle of a character
    return digest.hexdigest(), not_utf8


def _check_sha256(name: str, digest: str, manifest: dict[str, Any]) -> None:
    if digest != manifest["files"][name]["sha256"]:
        raise ImportRefused(f"{name} a été modifié ou abîmé depuis l'export (empreinte SHA-256 différente) : "
                            "rien n'a été importé.")


def incoming_tables(bundle: CheckedBundle) -> Iterator[IncomingTable]:
    """The records of each file, parents first, each file read when its turn comes; the cases
    whole, with their prior actions (checked against them before any case is written)."""
    for bundle_file in FILES:
        if bundle_file is PRIOR_ACTIONS:
            continue
        fields = tuple(column.field for column in bundle_file.stored)
        chunks = checked_rows(bundle, bundle_file)
        if bundle_file is not CASES:
            yield IncomingTable(bundle_file.table, bundle_file.name, fields, chunks)
            continue
        cases = list(chunks)
        case_ids = {row[fields.index("id")] for rows, _ in cases for row in rows}
        yield IncomingTable(bundle_file.table, bundle_file.name, fields, cases,
                            {"prior_actions": _prior_actions(bundle, case_ids)})
        del cases, case_ids  # not held while the next files are merged


def _prior_actions(bundle: CheckedBundle, case_ids: set[str]) -> dict[str, list[tuple[str, str]]]:
    """The actions already tried, by case."""
    by_case: dict[str, list[tuple[str, str]]] = {}
    unknown = None
    for rows, lines in checked_rows(bundle, PRIOR_ACTIONS):
        for (case_id, action, detail), line in zip(rows, lines):
            by_case.setdefault(case_id, []).append((action, detail))
            if unknown is None and case_id not in case_ids:
                unknown = line
    if unknown:
        raise ImportRefused(f"{PRIOR_ACTIONS.name}, ligne {unknown} : ce dossier n'est pas dans l'export.")
    return by_case


def checked_rows(bundle: CheckedBundle, bundle_file: BundleFile) -> Iterator[tuple[list[tuple], list[int]]]:
    """The rows of one file in chunks (with the line each starts on), each cell read by its
    column's kind; ImportRefused at the first problem in the order of the lines, then, the
    file read to its end: changed since it was checked, a row count other than the manifest's,
    a record twice."""
    name = bundle_file.name
    if name in bundle.not_utf8:
        raise ImportRefused(f"{name}, ligne {bundle.not_utf8[name]} : ce n'est pas du texte UTF-8.")
    rows_reader, seen = _RowReader(bundle_file, bundle.csv_format), _Seen(bundle_file)
    records = _RecordCheck(bundle_file, rows_reader.fields, bundle.birth_dates)
    count = 0
    with _text(bundle, name) as (text, digest):
        reader = csv.reader(text, delimiter=bundle.csv_format.delimiter, strict=True)
        try:
            _check_header(bundle_file, reader)
            for chunk, lines, malformed in _chunks(bundle_file, reader):
                rows = rows_reader.rows(chunk, lines)
                records.check(rows, lines)
                if malformed:
                    raise malformed
                count += len(rows)
                seen.note(rows, lines)
                yield rows, lines
        except UnicodeDecodeError:  # checked before: the file changed since
            raise _changed(name) from None
        if digest is not None and digest() != bundle.manifest["files"][name]["sha256"]:
            raise _changed(name)
    expected = bundle.manifest["files"][name]["rows"]
    if count != expected:
        raise ImportRefused(f"{name} : {count} lignes au lieu des {expected} annoncées.")
    seen.refuse_twice()


@contextmanager
def _text(bundle: CheckedBundle, name: str) -> Iterator[tuple[io.TextIOWrapper, Callable[[], str] | None]]:
    """The file as text, and for a file on disk its SHA-256 once read (it may have changed
    since it was checked)."""
    if isinstance(bundle.files, FolderFiles):
        with bundle.files.open(name) as stream:
            yield io.TextIOWrapper(io.BufferedReader(stream), encoding="utf-8-sig", newline=""), \
                lambda: stream.digest.hexdigest()
    else:
        yield io.TextIOWrapper(io.BytesIO(bundle.files[name]), encoding="utf-8-sig", newline=""), None


def _changed(name: str) -> ImportRefused:
    return ImportRefused(f"{name} a été modifié ou abîmé depuis l'export (empreinte SHA-256 différente) : "
                         "rien n'a été importé.")


def _check_header(bundle_file: BundleFile, reader) -> None:
    try:
        header = next(reader, None)
    except csv.Error:
        raise _malformed(bundle_file, reader, "guillemets ou séparateurs mal placés") from None
    if header != bundle_file.headers:
        raise ImportRefused(f"{bundle_file.name} : les colonnes ne sont pas celles d'un export de rased-tui "
                            "(fichier modifié, ou d'une autre version).")


class _Seen:
    """The records of a file met so far, to refuse one found twice (told once the file is read:
    a wrong cell or row count is told first)."""

    def __init__(self, bundle_file: BundleFile) -> None:
        self.file = bundle_file.name
        fields = [column.field for column in bundle_file.stored]
        self.key = itemgetter(*(fields.index(name) for name in
                                (("case_id", "action") if bundle_file is PRIOR_ACTIONS else ("id",))))
        self.lines: dict[Any, int] = {}
        self.twice: tuple[int, int] | None = None  # (line, line of the first one)

    def note(self, rows: list[tuple], lines: list[int]) -> None:
        if self.twice is not None:
            return
        for key, line in zip(map(self.key, rows), lines):
            first = self.lines.setdefault(key, line)
            if first != line:
                self.twice = (line, first)
                return

    def refuse_twice(self) -> None:
        if self.twice is not None:
            line, first = self.twice
            raise ImportRefused(f"{self.file}, ligne {line} : cette fiche figure déjà ligne {first}.")


def _chunks(bundle_file: BundleFile, reader) -> Iterator[tuple[list[list[str]], list[int], ImportRefused | None]]:
    """The rows in chunks, each with the line it starts on; a malformed line ends the last chunk
    with its refusal (the rows before it are checked first)."""
    chunk: list[list[str]] = []
    lines: list[int] = []
    line = reader.line_num + 1
    try:
        for cells in reader:
            chunk.append(cells)
            lines.append(line)
            line = reader.line_num + 1
            if len(chunk) == CHUNK_ROWS:
                yield chunk, lines, None
                chunk, lines = [], []
    except csv.Error as error:
        reason = "une cellule démesurée" if "field larger" in str(error) else "guillemets ou séparateurs mal placés"
        yield chunk, lines, _malformed(bundle_file, reader, reason)
        return
    if chunk:
        yield chunk, lines, None


def _malformed(bundle_file: BundleFile, reader, reason: str) -> ImportRefused:
    return ImportRefused(f"{bundle_file.name}, ligne {reader.line_num} : CSV mal formé ({reason}).")


class _RowReader:
    """Reads the rows of one file into tuples of values (the columns the import reads)."""

    def __init__(self, bundle_file: BundleFile, csv_format: CsvFormat) -> None:
        self.bundle_file = bundle_file
        self.width = len(bundle_file.columns)
        self.indexes = [index for index, column in enumerate(bundle_file.columns) if not column.derived]
        self.columns = [bundle_file.columns[index] for index in self.indexes]
        self.fields = tuple(column.field for column in self.columns)
        self.readers = [column.kind.reader(csv_format) for column in self.columns]
        self.pick = itemgetter(*self.indexes)
        self.id_index = self.fields.index("id") if "id" in self.fields else None

    def rows(self, chunk: list[list[str]], lines: list[int]) -> list[tuple]:
        """The chunk read column by column; should anything be wrong in it, read again row by
        row, so that the first problem in the order of the lines is the one told."""
        if chunk and set(map(len, chunk)) == {self.width}:
            try:
                columns = [list(map(read, cells)) for read, cells in zip(self.readers, zip(*map(self.pick, chunk)))]
            except CellError:
                pass
            else:
                if self.id_index is None or None not in columns[self.id_index]:
                    return list(zip(*columns))
        return [self._row(cells, line) for cells, line in zip(chunk, lines)]

    def _row(self, cells: list[str], line: int) -> tuple:
        name = self.bundle_file.name
        if len(cells) != self.width:
            raise ImportRefused(f"{name}, ligne {line} : {len(cells)} colonnes au lieu de {self.width}.")
        values = []
        for index, column, read in zip(self.indexes, self.columns, self.readers):
            try:
                values.append(read(cells[index]))
            except CellError as error:
                raise ImportRefused(f"{name}, ligne {line}, colonne « {column.header} » : {error}.") from None
        if self.id_index is not None and values[self.id_index] is None:
            raise ImportRefused(f"{name}, ligne {line} : identifiant manquant.")
        return tuple(values)


_MODELS: dict[str, type[BaseModel]] = {
    SCHOOLS.name: School, MEMBERS.name: Member, PERIODS.name: Period, MEETINGS.name: Meeting,
    PUPILS.name: Pupil, CASES.name: Case, AIDS.name: Aid, EVALUATIONS.name: AidEvaluation,
    ENTRIES.name: TimelineEntry,
}


class _RecordCheck:
    """Each record read as the program reads it back from the database (the domain's rules for
    a stored record): a row the database would take but that no screen could show (an aid of
    999 weeks, a description of blank lines, a pupil's case without its level...) is refused
    with its file and line, in French."""

    def __init__(self, bundle_file: BundleFile, fields: tuple[str, ...], birth_dates: dict[str, date | None]) -> None:
        self.file = bundle_file.name
        self.model = _MODELS.get(self.file)
        self.fields = fields
        self.kept = [name for name in fields if self.model is not None and name in self.model.model_fields]
        self.birth_dates = birth_dates

    def check(self, rows: list[tuple], lines: list[int]) -> None:
        if self.model is None:
            return
        for row, line in zip(rows, lines):
            values = dict(zip(self.fields, row))
            record = {name: values[name] for name in self.kept}
            if self.model is Pupil:
                if not values["last_name"]:  # known by its pseudonym only, as merge.py stores it
                    record.update(last_name=values["pseudonym"] or "", first_name=PSEUDONYMOUS_FIRST_NAME, birth_date=None)
            elif self.model is Case:
                record["pupil"] = self._pupil(values["pupil_id"])
            try:
                self.model.model_validate(record, context=STORED)
            except ValidationError as error:
                raise ImportRefused(f"{self.file}, ligne {line} : "
                                    + " ".join(french_messages(error, self.model))) from None
            if self.model is Pupil:
                birth = record.get("birth_date")
                self.birth_dates[values["id"]] = date.fromisoformat(birth) if birth else None

    def _pupil(self, pupil_id: str | None) -> Pupil | None:
        if pupil_id is None:
            return None
        return Pupil.model_construct(id=pupil_id, last_name="-", first_name="-",
                                     birth_date=self.birth_dates.get(pupil_id))


# -- merging ------------------------------------------------------------------------------

@dataclass
class ImportReport:
    bundle: Path
    database: Path
    manifest: dict[str, Any]
    merge: MergeReport

    def lines(self) -> list[str]:
        return import_summary(self)


def import_bundle(database: Path, bundle: Path, *, prefer_newer: bool = False,
                  passphrase: Callable[[], str] | None = None,
                  progress: Callable[[str, int, int, int], None] | None = None) -> ImportReport:
    """Check the bundle, then merge it into `database` (created if missing). ImportRefused
    (nothing written; a database created for the import is removed again) or the report."""
    if passphrase is None:
        from rased_tui.exchange.sealed import passphrase_from_terminal

        def passphrase() -> str:
            return passphrase_from_terminal(confirm=False)

    checked = check_bundle(read_bundle_or_refuse(bundle, passphrase))
    database = Path(database).expanduser()
    created = not database.exists()
    try:
        with Store.open(database) as store:
            report = merge_checked(store, checked, prefer_newer=prefer_newer, progress=progress)
    except StoreError as error:
        if created:
            remove_database_files(database)
        raise ImportRefused(f"{error} Rien n'a été importé.") from None
    except BaseException:  # a file of the bundle refused on its turn: rolled back already
        if created:
            remove_database_files(database)
        raise
    return ImportReport(Path(bundle), database, checked.manifest, report)


def read_bundle_or_refuse(bundle: Path, passphrase: Callable[[], str] | None) -> Mapping[str, bytes]:
    """read_bundle, a file system error told in French as an ImportRefused."""
    try:
        return read_bundle(bundle, passphrase)  # a wrong passphrase is already an ImportRefused
    except OSError as error:
        raise ImportRefused(f"Lecture impossible de {error.filename or bundle} : {os_reason(error)}.") from None


def merge_checked(store: Store, bundle: CheckedBundle, *, prefer_newer: bool = False,
                  progress: Callable[[str, int, int, int], None] | None = None) -> MergeReport:
    """Merge the bundle's files, read and checked one by one, in one transaction."""
    tables = [bundle_file.table for bundle_file in FILES if bundle_file is not PRIOR_ACTIONS]

    def table_done(table: str, rows: int) -> None:
        if progress:
            progress(table, tables.index(table) + 1, len(tables), rows)

    from rased_tui.exchange.export import SCRUBBED_TEXTS

    pseudonymised = bundle.pseudonymised
    masked = {bundle_file.table: {column.field for column in bundle_file.stored if column.identity}
              for bundle_file in FILES} if pseudonymised else {}
    scrubbed = {FILES_BY_NAME[name].table: set(fields) for name, fields in SCRUBBED_TEXTS.items()} \
        if pseudonymised else {}
    return store.merge_bundle(incoming_tables(bundle), prefer_newer=prefer_newer, masked=masked, scrubbed=scrubbed,
                              site_tag=site_tag(bundle.site), progress=table_done,
                              summary=lambda report: _audit_summary(bundle, report))


SITE_STOP_WORDS = {"rased", "antenne", "de", "du", "des", "la", "le", "les", "d", "l"}


def site_tag(site: str) -> str:
    """The suffix of a case renumbered on import: the exporting site's name in capitals,
    without the words every site shares ('rased-de-maromme' -> 'MAROMME')."""
    words = [word for word in re.split(r"[^a-z0-9]+", site.lower()) if word and word not in SITE_STOP_WORDS]
    return "".join(words).upper()[:10] or "IMPORT"


def _audit_summary(bundle: CheckedBundle, report: MergeReport) -> str:
    added = sum(report.added.values())
    updated = sum(report.updated.values())
    return (f"import de l'export du site « {bundle.site} » créé le {bundle.manifest.get('created_at')} : "
            f"{added} ajout(s), {updated} mise(s) à jour, {len(report.conflicts)} conflit(s)")


def import_summary(result: ImportReport) -> list[str]:
    """What the import did, in French, for the terminal and the screen."""
    report, options = result.merge, result.manifest["options"]
    kind = "nominatif" if options.get("nominative") else "pseudonymisé"
    lines = [f"Import de {result.bundle.name} (site « {result.manifest.get('site')} », {kind}) "
             f"dans {result.database} :"]
    for table, label in LABELS.items():
        feminine = table in FEMININE
        numbers = [(report.added[table], "ajoutée" if feminine else "ajouté"),
                   (report.updated[table], "mise à jour" if feminine else "mis à jour"),
                   (report.unchanged[table], "déjà là"),
                   (report.recognised[table], "reconnue" if feminine else "reconnu")]
        said = [f"{number} {_plural(word, number)}" for number, word in numbers if number]
        if said:
            lines.append(f"  {label}s : " + ", ".join(said))
    for original, number in report.renumbered[:20]:
        lines.append(f"  dossier {original} : numéro déjà pris ici, devient {number}")
    if len(report.renumbered) > 20:
        lines.append(f"  … et {len(report.renumbered) - 20} autres dossiers renumérotés")
    lines.extend(conflict_lines(report))
    if not report.changed_anything and not report.conflicts:
        lines.append("Rien n'a changé : tout ce que contient cet export est déjà dans la base.")
    return lines


FEMININE = {"schools", "periods", "meetings", "aids", "aid_evaluations", "timeline_entries"}


def _plural(word: str, number: int) -> str:
    """'ajoutée' -> 'ajoutées', 'mis à jour' -> 'mis à jour', 'mise à jour' -> 'mises à jour'."""
    if number < 2 or word == "déjà là":
        return word
    first, _, rest = word.partition(" ")
    first = first if first.endswith("s") else first + "s"
    return f"{first} {rest}".strip()


def conflict_lines(report: MergeReport) -> list[str]:
    if not report.conflicts:
        return []
    lines = [count(len(report.conflicts), "conflit") + " (modifié des deux côtés) :"]
    for conflict in report.conflicts[:50]:
        outcome = "version de l'export prise (plus récente)" if conflict.took_incoming else "version d'ici gardée"
        lines.append(f"  {conflict.what} ({conflict.file}, ligne {conflict.line}) : ici {_when(conflict.local_version)}, "
                     f"dans l'export {_when(conflict.incoming_version)} — {outcome}")
    if len(report.conflicts) > 50:
        lines.append(f"  … et {len(report.conflicts) - 50} autres")
    if not any(conflict.took_incoming for conflict in report.conflicts):
        lines.append("  Pour prendre la version la plus récente : rased-tui import --prefer-newer")
    return lines


def _when(version: str | None) -> str:
    """'modifié le 22/11/2026 à 14:03:12 (UTC)': to the second, so that the newer one shows."""
    if not version:
        return "sans date de modification"
    return f"modifié le {format_french_date(version[:10])} à {version[11:19]} (UTC)"

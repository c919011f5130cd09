"""The export bundle for the USB key: CSV files for a spreadsheet, and their manifest.

`export_bundle(store, folder, options)` writes `rased-export-<site>-<AAAAMMJJ-HHMMSS>/` (the
files of exchange/bundle_spec.py and manifest.json: versions, options, row counts, SHA-256 of
each file), or with a passphrase one encrypted file `rased-export-...rased` (exchange/sealed.py).

- Pseudonymised unless `nominative`: no pupil name, birth date or teacher name leaves; each
  pupil has a stable pseudonym and an age; names are taken out of free texts
  (exchange/pseudonyms.py). Confidential notes leave only with `include_confidential`.
- Safe on a USB key: everything is written under a hidden temporary name (`.…partiel`), flushed
  to the device, and renamed when complete: a key pulled out mid-export never holds a bundle
  that looks whole. Files are readable by their owner only where the file system allows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import queue
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain, compress, count, islice, repeat
from operator import ne, not_, sub, truth
from pathlib import Path
from typing import Any, BinaryIO

from rased_tui import __version__
from rased_tui.domain.calendar import utc_now
from rased_tui.domain.enums import ClassLevel
from rased_tui.domain.models import fold
from rased_tui.exchange import pseudonyms
from rased_tui.exchange.pseudonyms import pseudonym_secret
from rased_tui.exchange.bundle_spec import (
    AIDS,
    BUNDLE_FORMAT,
    CASES,
    ENTRIES,
    EVALUATIONS,
    FILES,
    MANIFEST,
    MEETINGS,
    MEMBERS,
    PERIODS,
    PRIOR_ACTIONS,
    PUPILS,
    SCHOOLS,
    BundleFile,
)
from rased_tui.exchange.spreadsheet import CsvFormat
from rased_tui.store.exports import ExportSelection
from rased_tui.store.migrations import SCHEMA_VERSION
from rased_tui.store.opening import create_private_file, restrict_to_owner

PARTIAL_SUFFIX = ".partiel"
CYCLE_OF_LEVEL = {level.value: level.cycle for level in ClassLevel}
# Free texts that may name the pupil or the teacher, file by file.
SCRUBBED_TEXTS = {
    CASES.name: ("description", "other_motif", "requester_detail", "team_reference"),
    PRIOR_ACTIONS.name: ("detail",),
    AIDS.name: ("objectives", "end_note"),
    EVALUATIONS.name: ("observations",),
    ENTRIES.name: ("text", "follow_up"),
}

# (file name, files done, files in all, rows written in this file)
Progress = Callable[[str, int, int, int], None]


class ExportError(Exception):
    """An export that could not be written; the message is one French sentence."""


@dataclass(frozen=True)
class ExportOptions:
    selection: ExportSelection = field(default_factory=ExportSelection)
    nominative: bool = False
    csv_format: CsvFormat = CsvFormat.EXCEL
    passphrase: str | None = None  # given: one encrypted file instead of a folder


@dataclass(frozen=True)
class ExportResult:
    path: Path
    row_counts: dict[str, int]
    stable_pseudonyms: bool

    @property
    def cases(self) -> int:
        return self.row_counts[CASES.name]


# The read-only review hides the psychologists' notes: only their authors, at work on their own
# base, may ask for them in an export.
READ_ONLY_CONFIDENTIAL = ("Base ouverte en lecture seule : les notes confidentielles y restent masquées et "
                          "ne peuvent pas être exportées.")


def export_bundle(store, folder: Path, options: ExportOptions, *, progress: Progress | None = None,
                  clock: Callable[[], datetime] = datetime.now) -> ExportResult:
    """Write the bundle into `folder` (created if missing) and return where it is."""
    folder = Path(folder).expanduser()
    if not folder.exists():  # never made here: a mistyped path, or a key not plugged in
        raise ExportError(f"{folder} n'existe pas : la clé USB est-elle branchée ? Choisissez un dossier existant.")
    if not folder.is_dir():
        raise ExportError(f"{folder} n'est pas un dossier.")
    if options.selection.include_confidential and store.read_only:
        raise ExportError(READ_ONLY_CONFIDENTIAL)
    name = f"rased-export-{site_of(store)}-{clock().strftime('%Y%m%d-%H%M%S')}"
    secret, stable = pseudonym_secret(store)
    rows = BundleRows(store, options, secret)
    if options.passphrase:
        return _export_sealed(folder, name, rows, options, stable, progress)
    return _export_folder(folder, name, rows, options, stable, progress)


# Settings the bundle carries in its manifest: what names the sender, and the holiday zone.
SHARED_SETTINGS = ("circonscription", "antenne", "zone")


def site_of(store) -> str:
    """The antenna's (or circonscription's) name as a file name, else the database's name."""
    name = store.get_setting("antenne") or store.get_setting("circonscription") or store.path.stem
    slug = re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:40].strip("-")
    return slug or "base"


class BundleRows:
    """The rows of each file of the bundle, each a sequence of cells in the order of its columns,
    ready for csv.writer (pseudonymised if asked). The store gives them a chunk at a time, as
    columns: each column's cells are made in one pass, by a function that is mostly a lookup in
    C (a date, a label), and the texts are scrubbed of names in one pass too. The cases are read
    before the files that hang from them: reading a case makes the scrubber for its own texts
    and its children's."""

    def __init__(self, store, options: ExportOptions, secret: str) -> None:
        self.store = store
        self.options = options
        self.secret = secret
        self._plans = {bundle_file.name: CellPlan(bundle_file, options.csv_format, pseudonymised=not options.nominative)
                       for bundle_file in FILES}
        self._scrubber_of_case: dict[str, pseudonyms.Scrubber] = {}
        self._pseudonyms: dict[str, str] = {}  # pupil id -> pseudonym: each computed once

    def of(self, bundle_file: BundleFile) -> Iterator[Sequence[Any]]:
        plan = self._plans[bundle_file.name]
        return chain.from_iterable(self._rows(bundle_file, plan, columns) for columns in self._chunks(bundle_file))

    def _chunks(self, bundle_file: BundleFile) -> Iterator[list[Sequence[Any]]]:
        """The values of one file from the store, a chunk of rows at a time, as columns."""
        selection, fields = self.options.selection, self._plans[bundle_file.name].fields
        return {
            SCHOOLS.name: lambda: self.store.export_schools(fields),
            MEMBERS.name: lambda: self.store.export_members(fields),
            PERIODS.name: lambda: self.store.export_periods(fields),
            MEETINGS.name: lambda: self.store.export_meetings(fields),
            PUPILS.name: lambda: self.store.export_pupils(selection, fields, by_name=self.options.nominative),
            CASES.name: lambda: self.store.export_cases(selection, fields),
            PRIOR_ACTIONS.name: lambda: self.store.export_prior_actions(selection, fields),
            AIDS.name: lambda: self.store.export_aids(selection, fields),
            EVALUATIONS.name: lambda: self.store.export_evaluations(selection, fields),
            ENTRIES.name: lambda: self.store.export_entries(selection, fields),
        }[bundle_file.name]()

    def _rows(self, bundle_file: BundleFile, plan: CellPlan, columns: list[Sequence[Any]]) -> Iterator[tuple]:
        """One chunk's rows of cells, from its columns of values."""
        position = plan.position
        if bundle_file is PUPILS:
            columns[position["pseudonym"]] = list(map(self._pupil_pseudonym, columns[position["pseudonym"]],
                                                      columns[position["id"]]))
        elif bundle_file is CASES:
            columns[position["pseudonym"]] = list(map(self._case_pseudonym, columns[position["pseudonym"]],
                                                      columns[position["pupil_id"]]))
            if plan.extra_position:
                self._make_scrubbers(columns, plan)
        if plan.scrubbed:
            self._scrub(columns, plan)
        for index, write in plan.cells:
            columns[index] = write(columns[index])
        return zip(*columns[:plan.width])

    def pseudonym(self, pupil_id: str) -> str:
        known = self._pseudonyms.get(pupil_id)
        if known is None:
            known = self._pseudonyms[pupil_id] = pseudonyms.pseudonym(self.secret, pupil_id)
        return known

    def _pupil_pseudonym(self, stored: str | None, pupil_id: str) -> str:
        return stored or self.pseudonym(pupil_id)  # a pupil imported with a pseudonym keeps it

    def _case_pseudonym(self, stored: str | None, pupil_id: str | None) -> str:
        return (stored or self.pseudonym(pupil_id)) if pupil_id else ""

    def _make_scrubbers(self, columns: list[Sequence[Any]], plan: CellPlan) -> None:
        """The scrubber of each case whose pupil or teacher has a name."""
        extra = plan.extra_position
        for case_id, first_name, last_name, teacher, birth_date in zip(
                columns[plan.position["id"]], *(columns[extra[name]] for name in SCRUBBER_INPUTS)):
            pupil = tuple(filter(None, (first_name, last_name)))
            if pupil or teacher:
                self._scrubber_of_case[case_id] = pseudonyms.Scrubber(pupil, (teacher,) if teacher else (),
                                                                      birth_date)

    def _scrub(self, columns: list[Sequence[Any]], plan: CellPlan) -> None:
        """Scrub the texts of a chunk: the rows of a case follow each other (every file is in the
        order of the cases), so the texts of each case make one group, row after row."""
        width = len(plan.scrubbed)
        texts = list(chain.from_iterable(zip(*(columns[index] for index in plan.scrubbed))))
        groups = ((scrubber, first * width, last * width) for case_id, first, last in _runs(columns[plan.case_key])
                  if (scrubber := self._scrubber_of_case.get(case_id)) is not None)
        scrubbed = pseudonyms.scrub_groups(texts, groups)
        for number, index in enumerate(plan.scrubbed):
            columns[index] = scrubbed[number::width]


def _runs(keys: Sequence[Any]) -> Iterator[tuple[Any, int, int]]:
    """(key, first, last) for each run of equal keys: keys[first:last]. The runs are found in C."""
    if not keys:
        return iter(())
    starts = [0, *compress(range(1, len(keys)), map(ne, islice(keys, 1, None), keys))]
    return zip(map(keys.__getitem__, starts), starts, [*starts[1:], len(keys)])


class CellPlan:
    """How the cells of one file are made: the fields the store reads, in order (the columns,
    then, in a pseudonymised export, what the scrubber needs beside them: the names of a case, an
    evaluation's case), the texts to scrub, and the function that makes the cells of each column
    (texts all: CsvText joins them)."""

    def __init__(self, bundle_file: BundleFile, csv_format: CsvFormat, *, pseudonymised: bool) -> None:
        columns = bundle_file.columns
        self.width = len(columns)
        self.position = {column.field: index for index, column in enumerate(columns)}
        self.fields: list[str | None] = []
        self.cells: list[tuple[int, Callable[[Sequence[Any]], Iterable[str]]]] = []
        for index, column in enumerate(columns):
            if pseudonymised and column.identity:
                self.fields.append(None)  # never read
                self.cells.append((index, _blank_column))
            elif bundle_file is CASES and column.field == "cycles":
                self.fields.append("levels")
                self.cells.append((index, _cycles_column(column.kind.writer(csv_format))))
            else:
                self.fields.append(column.field)
                self.cells.append((index, column.kind.column_writer(csv_format)))
        scrubbed = SCRUBBED_TEXTS.get(bundle_file.name, ()) if pseudonymised else ()
        self.scrubbed = [self.position[name] for name in scrubbed]
        extras = SCRUBBER_INPUTS if bundle_file is CASES and pseudonymised else ()
        key = "id" if bundle_file is CASES else "case_id"
        if scrubbed and key not in self.position:  # an evaluation knows its case through its aid
            extras = (*extras, key)
        self.extra_position = {name: self.width + index for index, name in enumerate(extras)}
        self.fields.extend(extras)
        self.case_key = self.position.get(key, self.extra_position.get(key))


def _blank_column(values: Sequence[Any]) -> list[str]:
    return [""] * len(values)


def _cycles_column(write_text: Callable[[Any], str]) -> Callable[[Sequence[list[str]]], Iterable[str]]:
    """The levels of cases -> the cells of their cycles: 'cycle 2', 'cycles 2 et 3', or ''."""
    def write(levels: list[str]) -> str:
        cycles = sorted({CYCLE_OF_LEVEL[level] for level in levels})
        if len(cycles) == 1:
            return write_text(f"cycle {cycles[0]}")
        return write_text("cycles " + " et ".join(map(str, cycles)) if cycles else "")

    return lambda column: map(write, column)


# What a pseudonymised export of cases reads beside the columns, for the scrubber of names.
SCRUBBER_INPUTS = ("pupil_first_name", "pupil_last_name", "teacher_name", "birth_date")


def write_csv(stream: BinaryIO, bundle_file: BundleFile, rows: Iterable[Sequence[Any]], csv_format: CsvFormat,
              on_row: Callable[[int], None] | None = None) -> tuple[int, str]:
    """Write one file of the bundle (rows of cells in the order of its columns); return its row
    count and SHA-256. The text is made a chunk of rows at a time, encoded, then hashed and
    written by a thread of its own (HashingWriter)."""
    csv_text = CsvText(csv_format.delimiter)
    with HashingWriter(stream) as sink:
        if csv_format is CsvFormat.EXCEL:
            sink.put("\ufeff".encode())  # the BOM
        sink.put(csv_text.of([bundle_file.headers]).encode())
        rows, written = iter(rows), 0
        while chunk := list(islice(rows, ROWS_PER_CHUNK)):
            sink.put(csv_text.of(chunk).encode())
            written += len(chunk)
            if on_row and written % ROWS_PER_CHUNK == 0:
                on_row(written)
    return written, sink.sha256.hexdigest()


class HashingWriter:
    """Bytes counted into SHA-256 and written to a stream by a thread of its own, in order:
    hashing and writing let go of Python's lock, so they go on while the next chunk is made. An
    error of the stream (a key pulled out) is raised in the calling thread, at the next `put` or
    at the end of the block."""

    WAITING = 4  # chunks at most between the two threads

    def __init__(self, stream: BinaryIO) -> None:
        self.sha256 = hashlib.sha256()
        self._stream = stream
        self._queue: queue.Queue[bytes | None] = queue.Queue(self.WAITING)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="export-writer", daemon=True)

    def __enter__(self) -> HashingWriter:
        self._thread.start()
        return self

    def put(self, data: bytes) -> None:
        self._raise_error()
        self._queue.put(data)

    def __exit__(self, kind, error, trace) -> None:
        self._queue.put(None)
        self._thread.join()
        if kind is None:
            self._raise_error()

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _drain(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:  # after an error the rest is let go: the export has failed
                try:
                    self.sha256.update(data)
                    self._stream.write(data)
                except BaseException as error:
                    self._error = error


class CsvText:
    """Rows of cells as csv.writer writes them (minimal quoting, CRLF), made quicker. A row of
    texts is its cells joined by the delimiter, for a whole chunk in C; where a cell holds the
    delimiter, a quote or a line break (one step in eight, in a large base: a « ; » in a text),
    that cell is put between quotes, its quotes doubled. csv.writer itself writes a chunk with
    a cell that is not a text, and a row of one empty cell."""

    LINE_END = "\r\n"
    QUOTED = re.compile('["\r\n]')  # besides the delimiter, what makes csv.writer quote a cell

    def __init__(self, delimiter: str) -> None:
        self.delimiter = delimiter
        self._to_quote = re.compile(f'[{re.escape(delimiter)}"\r\n]').search
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=delimiter, lineterminator=self.LINE_END,
                                  quoting=csv.QUOTE_MINIMAL)

    def of(self, rows: Sequence[Sequence[Any]]) -> str:
        """The text of `rows`, each line ended by CRLF."""
        try:
            lines = list(map(self.delimiter.join, rows))
        except TypeError:  # a cell that is not a text
            return self._by_csv_writer(rows)
        for index in self._needing_quotes(rows, lines):
            lines[index] = self._quoted(rows[index]) if lines[index] else \
                self._by_csv_writer([rows[index]])[:-len(self.LINE_END)]
        lines.append("")
        return self.LINE_END.join(lines)

    def _quoted(self, row: Sequence[str]) -> str:
        cells = list(row)
        for index in compress(count(), map(self._to_quote, row)):  # the cells to quote, found in C
            cells[index] = '"' + cells[index].replace('"', '""') + '"'
        return self.delimiter.join(cells)

    def _needing_quotes(self, rows: Sequence[Sequence[Any]], lines: list[str]) -> list[int]:
        """The places of the lines that csv.writer writes otherwise: a cell holds the delimiter, a
        quote or a line break, or the row is one empty cell (written ""). Looked for in the whole
        chunk first, line by line only where the chunk holds one; in C either way."""
        chunk = "\0".join(lines)
        separators = list(map(sub, map(len, rows), repeat(1)))
        checks = []
        if chunk.count(self.delimiter) != sum(separators):
            checks.append(map(ne, map(str.count, lines, repeat(self.delimiter)), separators))
        if '"' in chunk or "\r" in chunk or "\n" in chunk:
            checks.append(map(truth, map(self.QUOTED.search, lines)))
        if "" in lines:
            checks.append(map(not_, lines))
        if not checks:
            return []
        return list(compress(count(), map(any, zip(*checks))))

    def _by_csv_writer(self, rows: Sequence[Sequence[Any]]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerows(rows)
        return self._buffer.getvalue()


ROWS_PER_CHUNK = 5000  # also how often the progress is told


def manifest(store, options: ExportOptions, stable: bool, files: dict[str, tuple[int, str]]) -> bytes:
    selection = options.selection
    content = {
        "application": "rased-tui",
        "app_version": __version__,
        "schema_version": SCHEMA_VERSION,
        "bundle_format": BUNDLE_FORMAT,
        "created_at": utc_now(),
        "site": site_of(store),
        # who sent it, as people read it (the review of the export shows it)
        "settings": {key: store.get_setting(key) or "" for key in SHARED_SETTINGS},
        "options": {
            "format": options.csv_format.value,
            "nominative": options.nominative,
            "confidential": selection.include_confidential,
            "school_year": selection.school_year,
            "period": selection.period_number,
            "open_only": selection.open_only,
            "encrypted": bool(options.passphrase),
        },
        "stable_pseudonyms": stable,
        "files": {name: {"rows": rows, "sha256": digest} for name, (rows, digest) in files.items()},
    }
    return (json.dumps(content, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _write_all(rows: BundleRows, options: ExportOptions, open_file: Callable[[str], BinaryIO],
               progress: Progress | None) -> dict[str, tuple[int, str]]:
    written: dict[str, tuple[int, str]] = {}
    for index, bundle_file in enumerate(FILES):
        def on_row(count: int, name: str = bundle_file.name, index: int = index) -> None:
            if progress:
                progress(name, index, len(FILES), count)

        with open_file(bundle_file.name) as stream:
            written[bundle_file.name] = write_csv(stream, bundle_file, rows.of(bundle_file), options.csv_format,
                                                  on_row)
        if progress:
            progress(bundle_file.name, index + 1, len(FILES), written[bundle_file.name][0])
    return written





def _export_folder(folder: Path, name: str, rows: BundleRows, options: ExportOptions, stable: bool,
                   progress: Progress | None) -> ExportResult:
    final = _free_name(folder, name, "")
    partial = folder / f".{final.name}{PARTIAL_SUFFIX}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    restrict_to_owner(partial, 0o700)
    try:
        written = _write_all(rows, options, lambda file_name: _PrivateFile(partial / file_name), progress)
        with _PrivateFile(partial / MANIFEST) as stream:
            stream.write(manifest(rows.store, options, stable, written))
        _sync_directory(partial)
        os.rename(partial, final)
        _sync_directory(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ExportResult(final, {file_name: count for file_name, (count, _) in written.items()}, stable)


def _export_sealed(folder: Path, name: str, rows: BundleRows, options: ExportOptions, stable: bool,
                   progress: Progress | None) -> ExportResult:
    from rased_tui.exchange.sealed import SEALED_SUFFIX, seal

    buffers: dict[str, io.BytesIO] = {}

    def open_buffer(file_name: str) -> io.BytesIO:
        buffers[file_name] = _KeptBytesIO()
        return buffers[file_name]

    written = _write_all(rows, options, open_buffer, progress)
    contents = {file_name: buffer.getvalue() for file_name, buffer in buffers.items()}
    contents[MANIFEST] = manifest(rows.store, options, stable, written)
    sealed = seal(contents, options.passphrase)
    final = _free_name(folder, name, SEALED_SUFFIX)
    partial = folder / f".{final.name}{PARTIAL_SUFFIX}"
    try:
        with _PrivateFile(partial) as stream:
            stream.write(sealed)
        os.rename(partial, final)
        _sync_directory(folder)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return ExportResult(final, {file_name: count for file_name, (count, _) in written.items()}, stable)


class _KeptBytesIO(io.BytesIO):
    """A buffer whose content stays readable after the `with` block closes it."""

    def close(self) -> None:
        pass


class _PrivateFile:
    """A new file, owner-only, flushed to the device (fsync) when the block ends."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> BinaryIO:
        create_private_file(self.path)
        self.stream = open(self.path, "wb", buffering=1 << 20)
        return self.stream

    def __exit__(self, kind, error, trace) -> None:
        try:
            if kind is None:
                self.stream.flush()
                os.fsync(self.stream.fileno())
        finally:
            self.stream.close()


def _free_name(folder: Path, name: str, suffix: str) -> Path:
    """folder/name+suffix, or name-2, name-3... when two exports share the same second."""
    for attempt in range(1, 100):
        candidate = folder / f"{name}{'' if attempt == 1 else f'-{attempt}'}{suffix}"
        if not candidate.exists():
            return candidate
    raise ExportError(f"Trop d'exports du même nom dans {folder}.")


def _sync_directory(directory: Path) -> None:
    """Make a rename durable (POSIX); other systems have no directory handle to flush."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems (FAT on a USB key, network shares) refuse; the rename stands
    finally:
        os.close(descriptor)

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
import re
import shutil
from operator import itemgetter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from rased_tui import __version__
from rased_tui.domain.calendar import utc_now
from rased_tui.domain.enums import ClassLevel
from rased_tui.domain.models import fold
from rased_tui.exchange import pseudonyms
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
from rased_tui.exchange.spreadsheet import CsvFormat, Text
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


def pseudonym_secret(store) -> tuple[str, bool]:
    """The base's secret, made on the first export. A base opened read-only that has none
    gets a secret for this export only: its pseudonyms will differ from the next export's."""
    secret = store.get_setting(pseudonyms.SECRET_SETTING)
    if secret:
        return secret, True
    secret = pseudonyms.new_secret()
    if store.read_only:
        return secret, False
    store.set_setting(pseudonyms.SECRET_SETTING, secret)
    return secret, True


class BundleRows:
    """The rows of each file of the bundle, ready to be written (pseudonymised if asked)."""

    def __init__(self, store, options: ExportOptions, secret: str) -> None:
        self.store = store
        self.options = options
        self.secret = secret
        self._scrubber_of_case: dict[str, pseudonyms.Scrubber] = {}

    def of(self, bundle_file: BundleFile) -> Iterator[dict[str, Any]]:
        selection = self.options.selection
        source = {
            SCHOOLS.name: self.store.export_schools,
            MEMBERS.name: self.store.export_members,
            PERIODS.name: self.store.export_periods,
            MEETINGS.name: self.store.export_meetings,
            PUPILS.name: lambda: self.store.export_pupils(selection, by_name=self.options.nominative),
            CASES.name: lambda: self.store.export_cases(selection),
            PRIOR_ACTIONS.name: lambda: self.store.export_prior_actions(selection),
            AIDS.name: lambda: self.store.export_aids(selection),
            EVALUATIONS.name: lambda: self.store.export_evaluations(selection),
            ENTRIES.name: lambda: self.store.export_entries(selection),
        }[bundle_file.name]
        for row in source():
            yield self._prepare(bundle_file, row)

    def _prepare(self, bundle_file: BundleFile, row: dict[str, Any]) -> dict[str, Any]:
        if bundle_file is PUPILS:
            row["pseudonym"] = row["pseudonym"] or pseudonyms.pseudonym(self.secret, row["id"])
        elif bundle_file is CASES:
            self._add_reader_fields(row)
        if self.options.nominative:
            return row
        for name, blank in IDENTITY_FIELDS[bundle_file.name]:
            row[name] = blank
        scrub = self._scrubber_of_case.get(row["id"] if bundle_file is CASES else row.get("case_id"))
        if scrub is not None:
            for name in SCRUBBED_TEXTS.get(bundle_file.name, ()):
                row[name] = scrub(row[name])
        return row

    def _add_reader_fields(self, row: dict[str, Any]) -> None:
        if row["pupil_id"]:
            row["pseudonym"] = row["stored_pseudonym"] or pseudonyms.pseudonym(self.secret, row["pupil_id"])
        else:
            row["pseudonym"] = ""
        row["age"] = pseudonyms.age_in_years(row["birth_date"], row["date_sent"])
        cycles = sorted({CYCLE_OF_LEVEL[level] for level in row["levels"]})
        row["cycles"] = "cycle " + " et ".join(map(str, cycles)) if len(cycles) == 1 else \
            ("cycles " + " et ".join(map(str, cycles)) if cycles else "")
        if not self.options.nominative:
            pupil = tuple(name for name in (row["pupil_first_name"], row["pupil_last_name"]) if name)
            teacher = (row["teacher_name"],) if row["teacher_name"] else ()
            if pupil or teacher:
                self._scrubber_of_case[row["id"]] = pseudonyms.Scrubber(pupil, teacher, row["birth_date"])


# The fields a pseudonymised export leaves empty, each with its empty value, by file name
# (a dict by name: hashing a whole BundleFile for each row would cost more than the row).
IDENTITY_FIELDS = {bundle_file.name: tuple((column.field, "" if isinstance(column.kind, Text) else None)
                                           for column in bundle_file.columns if column.identity)
                   for bundle_file in FILES}


class HashingSink:
    """What csv.writer writes to: gathers the text, and by chunks encodes it, counts it into
    SHA-256 and passes it on to a file. Call `flush` at the end."""

    CHUNK = 1 << 16

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.sha256 = hashlib.sha256()
        self._pending: list[str] = []
        self._size = 0

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= self.CHUNK:
            self.flush()

    def write_bytes(self, data: bytes) -> None:
        self.flush()
        self.sha256.update(data)
        self.stream.write(data)

    def flush(self) -> None:
        data = "".join(self._pending).encode("utf-8")
        self._pending, self._size = [], 0
        self.sha256.update(data)
        self.stream.write(data)


def write_csv(stream: BinaryIO, bundle_file: BundleFile, rows: Iterable[dict[str, Any]], csv_format: CsvFormat,
              on_row: Callable[[int], None] | None = None) -> tuple[int, str]:
    """Write one file of the bundle; return its row count and SHA-256."""
    sink = HashingSink(stream)
    if csv_format is CsvFormat.EXCEL:
        sink.write_bytes(b"\xef\xbb\xbf")
    writer = csv.writer(sink, delimiter=csv_format.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(bundle_file.headers)
    values_of = itemgetter(*(column.field for column in bundle_file.columns))
    conversions = [(index, write) for index, column in enumerate(bundle_file.columns)
                   if (write := column.kind.writer(csv_format)) is not None]
    count = 0
    for row in rows:
        cells = list(values_of(row))
        for index, write in conversions:
            cells[index] = write(cells[index])
        writer.writerow(cells)
        count += 1
        if on_row and count % 5000 == 0:
            on_row(count)
    sink.flush()
    return count, sink.sha256.hexdigest()


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

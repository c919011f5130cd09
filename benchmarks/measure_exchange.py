"""Exchanges: the export of the whole base and the import of that bundle, beside their floors.

- export floor: for each file of the bundle, a plain SELECT of the same rows (every column of
  its table, the same filter) written by Python's own `csv.writer`, and the
  same SELECTs dumped by the `sqlite3 -csv` command-line tool; the export itself is
  `rased-tui export` as a person runs it (a whole process, defaults: pseudonymised, Excel);
- import floor: the bundle's CSV files read with the `csv` module and the same rows inserted
  into the tables of schema.sql with `executemany`, in one transaction (cells converted by the
  cheapest means, without the import's checks; the search index triggers suspended, as a bulk
  load does, and the same page cache); the import is `import_bundle` into a new base, checks,
  merge, search index, audit and commit included.
The floor and the measure alternate run by run, so that a busy machine weighs on both alike.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from common import environment, fresh_folder, rased_command

from rased_tui.domain.models import fold
from rased_tui.exchange import spreadsheet as kinds
from rased_tui.exchange.bundle_spec import ENTRIES, FILES, PUPILS, BundleFile
from rased_tui.exchange.importer import import_bundle
from rased_tui.store.migrations import schema_text
from rased_tui.store.store import BULK_CACHE_SIZE

SQLITE_CLI = shutil.which("sqlite3") or "sqlite3"
# The rows each file holds in a whole, pseudonymised export without confidential notes.
ROW_FILTERS = {
    ENTRIES.name: "WHERE confidential = 0",
    PUPILS.name: "WHERE id IN (SELECT pupil_id FROM cases)",
}


@dataclass(frozen=True)
class Timing:
    clock: float  # seconds by the clock
    processor: float  # seconds of processor time (user + system)


def floor_queries(database: Path) -> dict[str, str]:
    """File name -> a plain dump of the rows of its table: every column, the same rows."""
    return {bundle_file.name: f"SELECT * FROM {bundle_file.table} {ROW_FILTERS.get(bundle_file.name, '')}".strip()
            for bundle_file in FILES}


def python_floor(database: Path, folder: Path, queries: dict[str, str]) -> Timing:
    """Python's sqlite3 and csv modules dumping the same rows, file by file (in this process)."""
    fresh_folder(folder)
    start, start_processor = time.perf_counter(), time.process_time()
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        for name, sql in queries.items():
            with open(folder / name, "w", encoding="utf-8", newline="") as stream:
                writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
                cursor = connection.execute(sql)
                writer.writerow(column[0] for column in cursor.description)
                writer.writerows(cursor)
    finally:
        connection.close()
    return Timing(time.perf_counter() - start, time.process_time() - start_processor)


def sqlite_cli(database: Path, folder: Path, queries: dict[str, str]) -> Timing:
    """The sqlite3 command-line tool dumping the same rows, in one process."""
    fresh_folder(folder)
    script = "".join(f".output {folder / name}\n{sql};\n" for name, sql in queries.items())
    return _timed_process([SQLITE_CLI, "-readonly", "-csv", "-header", str(database)], input=script)


def rased_export(database: Path, folder: Path) -> Timing:
    """`rased-tui export` (a whole process, the defaults: whole base, pseudonymised, Excel)
    writing its bundle into `folder`."""
    fresh_folder(folder)
    return _timed_process(rased_command("export", "--db", str(database), "--out", str(folder)), env=environment())


def _timed_process(command: list[str], *, input: str | None = None, env: dict[str, str] | None = None) -> Timing:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=env)
    if input is not None:
        process.stdin.write(input)
        process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    clock = time.perf_counter() - start
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command)
    return Timing(clock, usage.ru_utime + usage.ru_stime)


# Child tables fed by a list cell: field -> (table, key column, value column).
LIST_CELLS = {"levels": ("case_levels", "case_id", "level"), "motifs": ("case_motifs", "case_id", "motif"),
              "member_ids": ("timeline_entry_members", "entry_id", "member_id"),
              "aids_called": ("analysis_aid_calls", "entry_id", "kind")}


def _cheap_converter(kind: kinds.Kind, delimiter: str):
    """A cell to its stored value, trusting the cell (no check at all)."""
    if isinstance(kind, kinds.Text):
        return lambda cell: cell[1:] if cell.startswith("'") else cell
    if isinstance(kind, kinds.Day):
        if delimiter == ";":
            return lambda cell: f"{cell[6:10]}-{cell[3:5]}-{cell[0:2]}" if cell else None
        return lambda cell: cell or None
    if isinstance(kind, kinds.YesNo):
        return lambda cell: (cell == "oui") if cell else None
    if isinstance(kind, kinds.Integer):
        return lambda cell: int(cell) if cell else None
    if isinstance(kind, kinds.Decimal):
        return lambda cell: float(cell.replace(",", ".")) if cell else None
    if isinstance(kind, kinds.Label):
        codes = {cell: code for code, cell in kind.cells().items()}
        return lambda cell: codes[cell] if cell else None
    if isinstance(kind, kinds.LabelList):
        codes = {cell: code for code, cell in kind.label.cells().items()}
        return lambda cell: [codes[part] for part in cell.split(" | ")] if cell else []
    if isinstance(kind, kinds.IdentifierList):
        return lambda cell: cell.split(" | ") if cell else []
    return lambda cell: cell or None  # identifiers, timestamps, school years


def _floor_rows(bundle_file: BundleFile, data: bytes, delimiter: str) -> dict[str, list[tuple]]:
    """The rows one file gives each table, as tuples (the table's own first, then its lists)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter)
    next(reader)
    picked = [(index, column.field, _cheap_converter(column.kind, delimiter))
              for index, column in enumerate(bundle_file.columns) if not column.derived]
    tables: dict[str, list[tuple]] = {bundle_file.table: []}
    plain = [(index, convert) for index, field, convert in picked if field not in LIST_CELLS]
    lists = [(index, field, convert) for index, field, convert in picked if field in LIST_CELLS]
    for table, _, _ in (LIST_CELLS[field] for _, field, _ in lists):
        tables[table] = []
    own = tables[bundle_file.table]
    for cells in reader:
        values = [convert(cells[index]) for index, convert in plain]
        if bundle_file is PUPILS:  # known by the pseudonym only, as the import stores it
            values[2:4] = [values[1], "Élève"]
            values.append(fold(f"{values[2]} {values[3]}"))
        own.append(tuple(values))
        for index, field, convert in lists:
            table = LIST_CELLS[field][0]
            items = convert(cells[index])
            if field == "motifs":
                tables[table].extend((values[0], item, rank) for rank, item in enumerate(items, start=1))
            else:
                tables[table].extend((values[0], item) for item in items)
    return tables


def _floor_columns(bundle_file: BundleFile) -> dict[str, tuple[str, ...]]:
    fields = tuple(column.field for column in bundle_file.stored if column.field not in LIST_CELLS)
    if bundle_file is PUPILS:
        fields = (*fields, "name_key")
    columns = {bundle_file.table: fields}
    for column in bundle_file.stored:
        if column.field in LIST_CELLS:
            table, key, value = LIST_CELLS[column.field]
            columns[table] = (key, value, "rank") if column.field == "motifs" else (key, value)
    return columns


def floor_seconds(bundle: Path, database: Path) -> float:
    """The floor: csv + executemany of the bundle's rows into a new base, one transaction."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    manifest = json.loads((bundle / "manifest.json").read_bytes())
    delimiter = ";" if manifest["options"]["format"] == "excel" else ","
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA foreign_keys = ON")
    connection.executescript(schema_text())
    connection.execute(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")
    connection.execute("BEGIN IMMEDIATE")
    connection.execute("INSERT INTO settings (key, value) VALUES ('search_suspended', '1')")
    for bundle_file in FILES:
        rows = _floor_rows(bundle_file, (bundle / bundle_file.name).read_bytes(), delimiter)
        for table, columns in _floor_columns(bundle_file).items():
            placeholders = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})",
                                   rows[table])
    connection.execute("DELETE FROM settings WHERE key = 'search_suspended'")
    connection.execute("COMMIT")
    connection.close()
    return time.perf_counter() - start


def import_seconds(bundle: Path, database: Path) -> float:
    """rased-tui import of the bundle into a new base, everything included."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    import_bundle(database, bundle)
    return time.perf_counter() - start


@dataclass
class ExportFigures:
    seconds: float
    floor: float
    sqlite_cli: float
    bundle: Path

    @property
    def ratio(self) -> float:
        return round(self.seconds / self.floor, 2)

    @property
    def ratio_sqlite_cli(self) -> float:
        return round(self.seconds / self.sqlite_cli, 2)


@dataclass
class ImportFigures:
    seconds: float
    floor: float

    @property
    def ratio(self) -> float:
        return round(self.seconds / self.floor, 2)


def measure_export(database: Path, folder: Path, runs: int) -> ExportFigures:
    """Medians of the export and its two floors; the bundle of the last run is kept."""
    queries = floor_queries(database)
    samples: dict[str, list[float]] = {"floor": [], "sqlite_cli": [], "export": []}
    for _ in range(runs):
        samples["floor"].append(python_floor(database, folder / "floor", queries).clock)
        samples["sqlite_cli"].append(sqlite_cli(database, folder / "cli", queries).clock)
        samples["export"].append(rased_export(database, folder / "export").clock)
    [bundle] = (folder / "export").glob("rased-export-*")
    return ExportFigures(*(round(statistics.median(samples[name]), 2) for name in ("export", "floor", "sqlite_cli")),
                         bundle=bundle)


def measure_import(bundle: Path, folder: Path, runs: int) -> ImportFigures:
    folder.mkdir(parents=True, exist_ok=True)
    floors, imports = [], []
    for _ in range(runs):
        floors.append(floor_seconds(bundle, folder / "floor.db"))
        imports.append(import_seconds(bundle, folder / "import.db"))
    return ImportFigures(round(statistics.median(imports), 2), round(statistics.median(floors), 2))

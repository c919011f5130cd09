"""Performance of rased-tui on a département-sized database, each figure beside its floor.

    python benchmarks/run.py [--cases 50000] [--db BASE] [--runs 5] [--json FICHIER]

Builds a demo database with `rased-tui demo` (or works on a copy of --db: the original is never
written), then measures, each the median of several runs, with its floor measured in the same
run (the ratio means more than the seconds on a shared machine):

- demo: `rased-tui demo --cases N`, a whole process (built once);
- first screen: creating the app to the list drawn with its first page / a bare Textual app
  that mounts a 500-row DataTable;
- search: a keystroke in the search box to the table redrawn / the same SQL alone;
- open a case with 50 timeline entries: `entrée` on its row to the case drawn;
- save a new request: `Store.add_case`, its transaction committed;
- export of the whole database, pseudonymised / the same rows dumped by Python's `sqlite3` and
  `csv` modules (and by the `sqlite3 -csv` command-line tool);
- import of that bundle into an empty database / Python's `executemany` loading the same rows
  into the same tables in one transaction;
- peak memory (RSS) of the app open on the list / the bare app.

Headless (Textual's Pilot) for the screens. Not part of the test suite: tests never depend on
timing. Prints a table (target held or not) and writes JSON with --json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import measure_exchange as exchange
import measure_screens as screens
import measure_writes as writes
from common import environment, median_ms, median_s, ratio

from rased_tui.store import Store

DEFAULT_CASES = 50_000
SAVES = 30


@dataclass
class Figure:
    """One line of the results: a measure, its floor, and the target it must meet."""

    what: str
    value: float
    unit: str
    target: float | None  # None: reported only
    floor: float | None = None
    ratio: float | None = None
    target_on_ratio: bool = False

    @property
    def held(self) -> bool | None:
        if self.target is None:
            return None
        measured = self.ratio if self.target_on_ratio else self.value
        return measured is not None and measured <= self.target

    def row(self) -> list[str]:
        floor = "" if self.floor is None else f"{self.floor:g} {self.unit}"
        rate = "" if self.ratio is None else f"{self.ratio:g}×"
        if self.target is None:
            target, held = "", ""
        else:
            target = f"≤ {self.target:g}{'×' if self.target_on_ratio else ' ' + self.unit}"
            held = "oui" if self.held else "NON"
        return [self.what, f"{self.value:g} {self.unit}", floor, rate, target, held]


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's backup (the source's WAL included, nothing written)."""
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
    finally:
        reader.close()
        writer.close()
    target.chmod(0o600)


def measure_screens(path: Path, runs: int) -> list[Figure]:
    with Store.open(path) as store:
        case_id = screens.with_long_timeline(store)
    with Store.open(path, read_only=True) as store:
        rased = [asyncio.run(screens.first_screen_rased(store)) for _ in range(runs)]
        bare = [asyncio.run(screens.first_screen_bare()) for _ in range(runs)]
        keystrokes = [s for _ in range(runs) for s in asyncio.run(screens.search_keystrokes(store))]
        queries = [s for _ in range(runs) for s in screens.sql_alone(store)]
        opening = [asyncio.run(screens.open_case_seconds(store, case_id)) for _ in range(runs)]
        opening_floor = [asyncio.run(screens.open_floor_seconds()) for _ in range(runs)]
    return [
        Figure("premier écran", median_ms(rased), "ms", 1.3, median_ms(bare), ratio(rased, bare), True),
        Figure("recherche : touche → tableau", median_ms(keystrokes), "ms", 60, median_ms(queries),
               ratio(keystrokes, queries)),
        Figure("ouvrir un dossier de 50 étapes", median_ms(opening), "ms", 100, median_ms(opening_floor),
               ratio(opening, opening_floor)),
    ]


def measure_memory(path: Path, runs: int) -> Figure:
    rased = [screens.peak_memory_mb(str(path)) for _ in range(runs)]
    bare = [screens.peak_memory_mb("bare") for _ in range(runs)]
    rased_mb, bare_mb = median_s(rased), median_s(bare)
    return Figure("mémoire (RSS) : liste ouverte, en plus", round(rased_mb - bare_mb, 1), "Mo", 100, bare_mb)


def measure_save(path: Path) -> Figure:
    return Figure("enregistrer une demande", median_ms(writes.save_requests(path, SAVES)), "ms", 20)


def measure_exchange(path: Path, folder: Path, runs: int) -> list[Figure]:
    export = exchange.measure_export(path, folder / "export", runs)
    imported = exchange.measure_import(export.bundle, folder / "import", runs)
    return [
        Figure("export pseudonymisé, toute la base", export.seconds, "s", 2.5, export.floor,
               export.ratio, True),
        Figure("  le même, rapporté à sqlite3 -csv", export.seconds, "s", None, export.sqlite_cli,
               export.ratio_sqlite_cli, True),
        Figure("import de cet export, base vide", imported.seconds, "s", 4, imported.floor, imported.ratio, True),
    ]


def print_table(figures: list[Figure]) -> None:
    header = ["mesure", "rased-tui", "plancher", "rapport", "cible", "tenue"]
    rows = [header] + [figure.row() for figure in figures]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=DEFAULT_CASES)
    parser.add_argument("--db", type=Path, help="work on a copy of this database instead of building one")
    parser.add_argument("--runs", type=int, default=5, help="runs of each quick measure (3 for the long ones)")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    os.environ.update(environment())  # today frozen for the app measured in this process too

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="rased-bench-") as scratch:
        folder = Path(scratch)
        path = folder / "bench.db"
        if arguments.db:
            copy_database(arguments.db, path)
        else:
            figures.append(Figure(f"demo --cases {arguments.cases}", median_s([writes.build_demo(path, arguments.cases)]),
                                  "s", 20))
        with Store.open(path, read_only=True) as store:
            counts = store.counts()
        figures += measure_screens(path, arguments.runs)
        figures.append(measure_memory(path, min(arguments.runs, 3)))
        figures.append(measure_save(path))
        figures += measure_exchange(path, folder, min(arguments.runs, 3))

    print(f"{counts['cases']} dossiers, {counts['timeline_entries']} étapes ; Python {sys.version.split()[0]}")
    print_table(figures)
    if arguments.json:
        results = {"cases": counts["cases"], "timeline_entries": counts["timeline_entries"],
                   "python": sys.version.split()[0],
                   "figures": [{**asdict(figure), "held": figure.held} for figure in figures]}
        arguments.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

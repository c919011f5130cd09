"""Performance of rased-tui on a département-sized database, each figure beside its floor.

    python benchmarks/run.py [--cases 50000] [--db PATH] [--runs 5] [--json FILE]

Builds (or reuses, with --db) a demo database, then measures, as the median of several runs:

- first screen: from creating the app to the list of cases drawn with its first page, against
  a bare Textual app that mounts a 500-row DataTable (the floor);
- search: from a keystroke in the search box to the table redrawn, against the same SQL
  queries alone (count and first page);
- demo: the time to generate the database (once, when it is built here).

Headless (Textual's Pilot), on the machine at hand: ratios to the floors measured in the same
run mean more than the absolute times. Not part of the test suite: tests never depend on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RASED_TUI_TODAY", "2026-11-21")

from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import DataTable  # noqa: E402

from rased_tui.app import RasedApp  # noqa: E402
from rased_tui.domain.filters import CaseFilter  # noqa: E402
from rased_tui.exchange.demo import generate_demo  # noqa: E402
from rased_tui.screens.cases import CasesScreen  # noqa: E402
from rased_tui.store import Store  # noqa: E402

SIZE = (120, 40)
SEARCHES = ("lef", "martin", "lecture", "2026-01", "zoe")


class BareTableApp(App[None]):
    """The floor: a Textual app that mounts a DataTable of 500 rows and 10 columns."""

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(f"Colonne {n}" for n in range(10)))
        table.add_rows([[f"{row}-{column}" for column in range(10)] for row in range(500)])


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


async def first_screen_rased(store: Store) -> float:
    start = time.perf_counter()
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        while not (isinstance(app.screen, CasesScreen) and app.screen.query_one(DataTable).row_count):
            await pilot.pause(0.001)
        await pilot.pause()
        return time.perf_counter() - start


async def first_screen_bare() -> float:
    start = time.perf_counter()
    app = BareTableApp()
    async with app.run_test(size=SIZE) as pilot:
        while app.query_one(DataTable).row_count < 500:
            await pilot.pause(0.001)
        await pilot.pause()
        return time.perf_counter() - start


async def search_keystrokes(store: Store) -> list[float]:
    """Each search: type the word but its last letter, then time the last keystroke to the
    table redrawn with its results (the search's short debounce is not counted)."""
    samples = []
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        for word in SEARCHES:
            screen.query_one("#cases-search").value = word[:-1]
            screen.apply_search(word[:-1])
            await pilot.pause()
            start = time.perf_counter()
            screen.apply_search(word)
            await pilot.pause()
            samples.append(time.perf_counter() - start)
    return samples


def sql_alone(store: Store) -> list[float]:
    samples = []
    for word in SEARCHES:
        case_filter = CaseFilter("2026-2027", search=word)
        start = time.perf_counter()
        store.count_cases(case_filter)
        store.case_page(case_filter, 0, 100)
        samples.append(time.perf_counter() - start)
    return samples


def build(path: Path, cases: int) -> float:
    start = time.perf_counter()
    with Store.open(path) as store:
        generate_demo(store, cases=cases, seed=1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--db", type=Path, help="reuse this demo database instead of building one")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()

    results: dict[str, object] = {"cases": arguments.cases, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as folder:
        path = arguments.db or Path(folder) / "bench.db"
        if arguments.db is None:
            results["demo_s"] = round(build(path, arguments.cases), 1)
        with Store.open(path, read_only=True) as store:
            results["cases"] = store.counts()["cases"]
            rased = [asyncio.run(first_screen_rased(store)) for _ in range(arguments.runs)]
            bare = [asyncio.run(first_screen_bare()) for _ in range(arguments.runs)]
            keystrokes = [s for _ in range(arguments.runs) for s in asyncio.run(search_keystrokes(store))]
            queries = [s for _ in range(arguments.runs) for s in sql_alone(store)]
    results.update({
        "first_screen_ms": median_ms(rased), "first_screen_floor_ms": median_ms(bare),
        "first_screen_ratio": round(statistics.median(rased) / statistics.median(bare), 2),
        "search_keystroke_ms": median_ms(keystrokes), "search_sql_alone_ms": median_ms(queries),
        "search_ratio": round(statistics.median(keystrokes) / statistics.median(queries), 2),
    })
    width = max(map(len, results))
    for key, value in results.items():
        print(f"{key:<{width}}  {value}")
    if arguments.json:
        arguments.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

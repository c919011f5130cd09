"""The screens: time to the first screen, a search keystroke, opening a long case, memory.

Each measure has its floor, a bare Textual app of the same shape, run in the same process
(memory: in fresh processes, one per app). Headless, at 120×40, through Textual's Pilot.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from datetime import date, timedelta

from common import environment
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from rased_tui.app import RasedApp
from rased_tui.domain.enums import EntryKind, Role
from rased_tui.domain.filters import CaseFilter
from rased_tui.domain.models import TimelineEntry
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.cases import CasesScreen
from rased_tui.store import Store

SIZE = (120, 40)
SEARCHES = ("lef", "martin", "lecture", "2026-01", "zoe")
LONG_TIMELINE = 50


class BareTableApp(App[None]):
    """The floor: a Textual app that mounts a DataTable of 500 rows and 10 columns."""

    def compose(self) -> ComposeResult:
        yield DataTable()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(*(f"Colonne {n}" for n in range(10)))
        table.add_rows([[f"{row}-{column}" for column in range(10)] for row in range(500)])


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


def with_long_timeline(store: Store, entries: int = LONG_TIMELINE) -> str:
    """Add `entries` steps (notes and contacts, with members; a few confidential notes of a
    psychologist) to the open case of the current year that has the most steps already; its id."""
    case_id = store.connection.execute(
        """SELECT c.id FROM cases c JOIN case_status s ON s.case_id = c.id
            WHERE c.school_year = '2026-2027' AND s.status NOT IN ('cloturee', 'classee_sans_suite', 'recue')
            ORDER BY (SELECT count(*) FROM timeline_entries WHERE case_id = c.id) DESC, c.number
            LIMIT 1""").fetchone()[0]
    case = store.get_case(case_id)
    members = [member for member in store.list_members() if member.active_to is None]
    psychologist = next(member for member in members if member.role is Role.PSYCHOLOGUE)
    span = max(1, (date(2026, 11, 20) - case.date_sent).days)
    for number in range(entries):
        day = case.date_sent + timedelta(days=number * span // entries)
        who = [members[number % len(members)].id, members[(number * 7 + 3) % len(members)].id]
        if number % 10 == 9:
            entry = TimelineEntry(case_id=case_id, kind=EntryKind.NOTE, date=day, confidential=True,
                                  author_member_id=psychologist.id, member_ids=[psychologist.id],
                                  text=f"Note confidentielle {number} : entretien avec la famille.")
        elif number % 3 == 0:
            entry = TimelineEntry(case_id=case_id, kind=EntryKind.PREMIERE_INTENTION, sub_kind="contact",
                                  date=day, member_ids=who, text=f"Contact {number} avec l'enseignante.")
        else:
            entry = TimelineEntry(case_id=case_id, kind=EntryKind.NOTE, date=day, member_ids=who,
                                  text=f"Note {number} : observation en classe [lecture], suivi à prévoir.\n"
                                       "Deuxième ligne de la note.")
        store.add_entry(entry)
    return case_id


async def open_case_seconds(store: Store, case_id: str) -> float:
    """Seconds from `enter` on the case's row in the list (found by its number in the search
    box) to the case screen drawn with its timeline."""
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        while not (isinstance(app.screen, CasesScreen) and app.screen.query_one(DataTable).row_count):
            await pilot.pause(0.001)
        cases = app.screen
        cases.apply_search(store.get_case(case_id).number)
        await pilot.pause()
        table = cases.query_one(DataTable)
        table.move_cursor(row=table.get_row_index(case_id))
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("enter")
        while not (isinstance(app.screen, CaseScreen) and app.screen.query_one(DataTable).row_count):
            await pilot.pause(0.001)
        await pilot.pause()
        return time.perf_counter() - start


class _TimelinePage(Screen[None]):
    """The floor's case screen: a header, four lines of text, a DataTable of 57 rows × 5 columns."""

    BINDINGS = [Binding(key, "noop", key) for key in "abcdef"]

    def compose(self) -> ComposeResult:
        yield Header()
        for line in range(4):
            yield Static(f"Ligne {line}")
        yield DataTable(cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for column in range(5):
            table.add_column(f"Colonne {column}", width=14)
        table.add_rows([[f"{row}-{column}" for column in range(5)] for row in range(57)])


class _BareListApp(App[None]):
    """The floor's list: a header, a table, a footer; `enter` pushes the timeline page."""

    BINDINGS = [Binding("enter", "open", "Ouvrir", priority=True)]

    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable()
        yield Footer()

    def action_open(self) -> None:
        self.push_screen(_TimelinePage())


async def open_floor_seconds() -> float:
    """The floor: seconds from `enter` to a bare Textual screen of the same shape drawn."""
    app = _BareListApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        start = time.perf_counter()
        await pilot.press("enter")
        while not (isinstance(app.screen, _TimelinePage) and app.screen.query_one(DataTable).row_count):
            await pilot.pause(0.001)
        await pilot.pause()
        return time.perf_counter() - start


def peak_memory_mb(what: str) -> float:
    """Peak RSS in MB of a fresh process showing `what`: "bare" (the floor) or a database path
    (rased-tui on it, on the list of cases): this file run as a program."""
    result = subprocess.run([sys.executable, __file__, what], capture_output=True, text=True, check=True,
                            env=environment())
    return round(int(result.stdout.split()[-1]) / 1024, 1)  # KiB


def _own_peak_kib() -> int:
    """This process's peak RSS. On Linux from /proc: `ru_maxrss` would also count the parent it
    was forked from (the benchmark, with its large database in cache)."""
    try:
        with open("/proc/self/status") as status:
            return int(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _shown(app: App, table_ready) -> None:
    async with app.run_test(size=SIZE) as pilot:
        while not table_ready(app):
            await pilot.pause(0.001)
        await pilot.pause()


def _show_and_report_peak(what: str) -> None:
    if what == "bare":
        asyncio.run(_shown(BareTableApp(), lambda app: app.query_one(DataTable).row_count >= 500))
    else:
        with Store.open(what) as store:
            asyncio.run(_shown(RasedApp(store), lambda app: isinstance(app.screen, CasesScreen)
                               and app.screen.query_one(DataTable).row_count > 0))
    print(_own_peak_kib())


if __name__ == "__main__":
    _show_and_report_peak(sys.argv[1])

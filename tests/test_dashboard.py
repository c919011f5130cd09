"""The tableau de bord (`3`) driven through Pilot: the figures shown are the store's, a
période changes them, `entrée` on a figure lists exactly the cases behind it, `entrée` there
opens the case, and it all works read-only and at 80×24.

The store's figures themselves are checked against an independent count in test_statistics.py;
here the cases listed are checked against rows read with plain SELECTs and filtered in Python,
or against hand-made cases.
"""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import DataTable, Select

from rased_tui.domain.enums import EntryKind
from rased_tui.domain.models import Aid, TimelineEntry
from rased_tui.exchange.demo import generate_demo
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.dashboard import DashboardScreen, FigureCasesScreen
from rased_tui.screens.help import HelpScreen
from rased_tui.store import Store
from tests.pilot import new_app

SIZE = (120, 40)
TODAY = date(2026, 11, 21)
YEAR_DAYS = (date(2026, 8, 1), date(2027, 7, 31))  # 2026-2027


def running(aid, days: tuple[date, date]) -> bool:
    """An aid begun by today whose days meet `days` (an aid planned for later is not running)."""
    first = date.fromisoformat(aid["start_date"])
    last = date.fromisoformat(aid["end_date"]) if aid["end_date"] else None
    return first <= TODAY and first <= days[1] and (last is None or last >= days[0])


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo of 300 cases, made once for the module."""
    path = tmp_path_factory.mktemp("dashboard") / "demo.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", TODAY.isoformat())
        with Store.open(path) as store:
            generate_demo(store, cases=300, seed=11)
    return path


@pytest.fixture
def demo_store(demo):
    """The demo, read and written by the app (nothing here writes)."""
    with Store.open(demo) as store:
        yield store


async def settle(pilot) -> None:
    """Let the statistics worker finish and its result be drawn."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_dashboard(pilot) -> DashboardScreen:
    await pilot.press("3")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, DashboardScreen)
    return screen


def rows(screen, table_id: str = "dashboard-table") -> dict[str, list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return {row.key.value: [str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows}


def select_row(screen, key: str, table_id: str = "dashboard-table") -> None:
    table = screen.query_one(f"#{table_id}", DataTable)
    table.move_cursor(row=table.get_row_index(key))


def shown(screen, widget_id: str) -> str:
    return str(screen.query_one(f"#{widget_id}").render())


def assert_shows(screen: DashboardScreen, store: Store, school_year: str, period: int | None) -> None:
    """Every figure of the store's statistics is on a line of the table, with its numbers."""
    statistics = store.activity_statistics(school_year, period)
    table = rows(screen)
    for section, figures in (("demandes", statistics.by_subject), ("ecoles", statistics.by_school),
                             ("niveaux", statistics.by_level), ("motifs", statistics.by_motif),
                             ("statuts", statistics.by_status), ("aides", statistics.aids_by_kind),
                             ("clotures", statistics.by_outcome)):
        for figure in figures:
            cells = table[f"figure:{section}:{figure.key}"]
            assert cells[0].strip() == figure.label
            assert cells[2:] == [str(figure.count), str(figure.pupils), str(figure.groups)], (section, figure.key)
    for section, total in (("demandes", statistics.requests), ("statuts", statistics.cases),
                           ("aides", statistics.aids), ("clotures", statistics.closures)):
        assert table[f"total:{section}"][2:] == [str(total.count), str(total.pupils), str(total.groups)]
    for delay in statistics.delays:
        cells = table[f"delay:{delay.key}"]
        assert cells[2] == str(delay.count) and cells[3] == (f"{delay.median} j" if delay.median is not None else "—")
    summary = shown(screen, "dashboard-summary")
    assert summary.startswith(f"{statistics.requests.count} demande")
    assert f"{statistics.aids.count} aide" in summary


async def test_key_3_shows_the_figures_of_the_current_year(demo_store):
    app = new_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        assert screen.query_one("#dashboard-year", Select).value == "2026-2027"
        assert screen.query_one("#dashboard-period", Select).value == "annee"
        assert_shows(screen, demo_store, "2026-2027", None)
        table = rows(screen)
        assert table["section:demandes"][0] == "Demandes reçues par objet"
        assert "█" in "".join(cells[1] for cells in table.values())  # the bars
        assert "du 01/08/2026 au 31/07/2027" in shown(screen, "dashboard-scope")


async def test_changing_the_periode_and_the_year_changes_the_figures(demo_store):
    app = new_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        whole = rows(screen)
        await pilot.press("p")
        await settle(pilot)
        assert screen.query_one("#dashboard-period", Select).value == "1"
        assert_shows(screen, demo_store, "2026-2027", 1)
        assert rows(screen)["total:demandes"] != whole["total:demandes"]
        screen.query_one("#dashboard-period", Select).value = "2"
        await settle(pilot)
        assert_shows(screen, demo_store, "2026-2027", 2)
        await pilot.press("a")  # the year before, the période kept
        await settle(pilot)
        assert screen.query_one("#dashboard-year", Select).value == "2025-2026"
        assert screen.query_one("#dashboard-period", Select).value == "2"
        assert_shows(screen, demo_store, "2025-2026", 2)
        for _ in range(4):  # 3, 4, 5, then the whole year
            await pilot.press("p")
        await settle(pilot)
        assert screen.query_one("#dashboard-period", Select).value == "annee"
        assert_shows(screen, demo_store, "2025-2026", None)


async def test_enter_on_a_figure_lists_exactly_the_cases_behind_it_and_opens_one(demo_store):
    statistics = demo_store.activity_statistics("2026-2027")
    school = statistics.by_school[0]
    expected = {row[0] for row in demo_store.connection.execute(
        "SELECT id FROM cases WHERE school_id = ? AND date_sent BETWEEN '2026-08-01' AND '2027-07-31'", (school.key,))}
    assert len(expected) >= 2
    app = new_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        select_row(screen, f"figure:ecoles:{school.key}")
        await pilot.press("enter")
        await pilot.pause()
        listing = app.screen
        assert isinstance(listing, FigureCasesScreen)
        listed = rows(listing, "figure-cases-table")
        assert set(listed) == expected
        assert list(listed) == sorted(listed, key=lambda case_id: listed[case_id][0])  # by number
        assert f"{school.label} : {len(expected)} dossiers" in shown(listing, "figure-cases-summary")
        first = next(iter(listed))
        number, subject, school_name, status = listed[first]
        case = demo_store.get_case(first)
        name = f"{case.pupil.last_name} {case.pupil.first_name}" if case.pupil else case.subject_label
        assert (number, subject, school_name) == (case.number, name, school.label)  # as the list of cases
        assert status == demo_store.case_status(first).label

        select_row(listing, first, "figure-cases-table")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == first
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is listing
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert_shows(screen, demo_store, "2026-2027", None)


async def test_the_cases_behind_aids_and_delays(demo_store):
    """An aid figure lists the cases of its aids; a delay the cases measured."""
    statistics = demo_store.activity_statistics("2026-2027")
    psy = next(figure for figure in statistics.aids_by_kind if figure.key == "psy")
    expected = {aid["case_id"] for aid in demo_store.connection.execute("SELECT * FROM aids")
                if aid["kind"] == "psy" and aid["consent_status"] == "donne" and running(aid, YEAR_DAYS)}
    analysed = {row[0] for row in demo_store.connection.execute(
        "SELECT DISTINCT c.id FROM cases c JOIN timeline_entries e ON e.case_id = c.id"
        " WHERE e.kind = 'analyse' AND c.date_sent >= '2026-08-01'")}
    assert expected and analysed
    app = new_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        for key, cases in ((f"figure:aides:{psy.key}", expected), ("delay:analyse", analysed)):
            select_row(screen, key)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FigureCasesScreen)
            assert set(rows(app.screen, "figure-cases-table")) == cases
            await pilot.press("escape")
            await settle(pilot)
        select_row(screen, "section:demandes")  # a heading: nothing to list
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen


async def test_read_only_at_80_by_24(demo):
    with Store.open(demo, read_only=True) as reader:
        app = new_app(reader)
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await open_dashboard(pilot)
            assert_shows(screen, reader, "2026-2027", None)
            table = screen.query_one("#dashboard-table", DataTable)
            assert table.size.width <= 80 and table.virtual_size.height > table.size.height  # it scrolls
            assert sum(column.get_render_width(table) for column in table.columns.values()) <= 78
            table.move_cursor(row=table.get_row_index("delay:reponse"))
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, FigureCasesScreen)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, CaseScreen)
    assert reader.read_only


async def test_the_palette_and_the_help_know_the_dashboard(demo_store):
    app = new_app(demo_store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any(command.title == "Tableau de bord" for command in app.get_system_commands(app.screen))
        screen = await open_dashboard(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and "Tableau de bord" in DashboardScreen.HELP
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("1")
        await pilot.pause()
        assert not isinstance(app.screen, DashboardScreen)


async def test_an_empty_base_shows_zeros(store):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        assert shown(screen, "dashboard-summary").startswith("0 demande (0 élève, 0 groupe)")
        assert rows(screen)["total:demandes"][2:] == ["0", "0", "0"]
        select_row(screen, "total:demandes")
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # nothing behind a 0


async def test_an_aid_yet_to_begin_is_neither_counted_nor_listed(store, make_school, make_member, make_pupil_case):
    """On 21/11/2026, of two E aids agreed to, the one begun on 05/10/2026 counts and is listed;
    the one to begin on 01/03/2027 is neither (in the year nor in the current période)."""
    school = store.add_school(make_school())
    member = store.add_member(make_member())
    begun = store.add_case(make_pupil_case(school.id, {"first_name": "Ana"}, date_sent="2026-09-14"))
    planned = store.add_case(make_pupil_case(school.id, {"first_name": "Eva"}, date_sent="2026-10-05"))
    for case, start in ((begun, "2026-10-05"), (planned, "2027-03-01")):
        store.open_aid(Aid(case_id=case.id, member_id=member.id, kind="E", modality="petit_groupe", start_date=start,
                           consent_status="donne", consent_form="ecrit"),
                       TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION, sub_kind="aide_specialisee",
                                     date="2026-10-05", member_ids=[member.id]))
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_dashboard(pilot)
        for period in ("annee", "2"):  # the whole year, then the current période
            screen.query_one("#dashboard-period", Select).value = period
            await settle(pilot)
            table = rows(screen)
            assert table["total:aides"][2:] == table["figure:aides:E"][2:] == ["1", "1", "0"], period
            assert " · 1 aide (1 élève) · " in shown(screen, "dashboard-summary")
            for key in ("total:aides", "figure:aides:E"):
                select_row(screen, key)
                await pilot.press("enter")
                await pilot.pause()
                assert isinstance(app.screen, FigureCasesScreen)
                assert set(rows(app.screen, "figure-cases-table")) == {begun.id}
                assert "1 dossier" in shown(app.screen, "figure-cases-summary")
                await pilot.press("escape")
                await settle(pilot)

"""The application shell, driven through Textual's Pilot: title, figures, help, quit."""

from __future__ import annotations


from textual.widgets import Static

import pytest
from textual.widgets import Checkbox, DataTable, Input, Select

from rased_tui.app import RasedApp
from rased_tui.domain.filters import CaseFilter, StatusGroup
from rased_tui.domain.models import TimelineEntry, fold
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.cases import CasesScreen
from rased_tui.screens.filters import FiltersScreen
from rased_tui.screens.help import HelpScreen
from rased_tui.store import Store


@pytest.fixture
def demo_store(tmp_path):
    from rased_tui.exchange.demo import generate_demo

    with Store.open(tmp_path / "d.db") as store:
        generate_demo(store, cases=400, seed=2)
        yield store


def table_numbers(app: RasedApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [table.get_row_at(index)[0] for index in range(table.row_count)]


def summary(app: RasedApp) -> str:
    return str(app.screen.query_one("#cases-summary", Static).render())


async def test_the_list_shows_the_cases_of_the_year_newest_first(demo_store):
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
        expected = demo_store.count_cases(CaseFilter("2026-2027"))
        assert summary(app).startswith(f"{expected} dossiers · 2026-2027")
        shown = table_numbers(app)
        assert shown == [row["number"] for row in demo_store.case_page(CaseFilter("2026-2027"), 0, len(shown))]
        assert len(shown) == expected  # fewer than a page: all here


async def test_search_without_accents_finds_the_pupil(demo_store):
    row = demo_store.connection.execute(
        "SELECT p.last_name FROM pupils p JOIN cases c ON c.pupil_id = p.id"
        " WHERE c.school_year = '2026-2027' AND p.last_name GLOB '*[éèêëï]*' LIMIT 1").fetchone()
    accented = row[0]
    typed = fold(accented).split()[0]
    assert typed != accented.lower()
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("slash")
        assert app.screen.query_one("#cases-search", Input).has_focus
        await pilot.press(*typed)
        await pilot.press("enter")
        await pilot.pause()
        expected = demo_store.count_cases(CaseFilter("2026-2027", search=typed))
        assert expected >= 1 and summary(app).startswith(f"{expected} dossier")
        assert f"recherche « {typed} »" in summary(app)
        table = app.screen.query_one(DataTable)
        assert table.has_focus
        subjects = [table.get_row_at(index)[3] for index in range(table.row_count)]
        assert any(accented in subject for subject in subjects)


async def test_filters_dialog_narrows_the_list_and_says_so(demo_store):
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        assert isinstance(app.screen, FiltersScreen)
        app.screen.query_one("#filter-status", Select).value = StatusGroup.CLOTURES
        app.screen.query_one("#filter-urgent", Checkbox).value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
        wanted = CaseFilter("2026-2027", status=StatusGroup.CLOTURES, urgent_only=True)
        count = demo_store.count_cases(wanted)
        assert summary(app).startswith(f"{count} dossier") and "clôturés · urgents seulement" in summary(app)
        assert len(table_numbers(app)) == count
        await pilot.press("f")
        await pilot.press("escape")  # cancel keeps the filters
        await pilot.pause()
        assert "clôturés" in summary(app)


async def test_pages_are_added_as_the_cursor_goes_down(demo_store, monkeypatch):
    from rased_tui.screens import cases

    monkeypatch.setattr(cases, "PAGE_SIZE", 25)
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 25 < demo_store.count_cases(CaseFilter("2026-2027"))
        total = demo_store.count_cases(CaseFilter("2026-2027"))
        for _ in range(total):
            await pilot.press("down")
        await pilot.pause()
        assert table.row_count == total
        assert table_numbers(app) == [row["number"] for row in demo_store.case_page(CaseFilter("2026-2027"), 0, total)]


async def test_enter_opens_the_case(demo_store):
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        first = table_numbers(app)[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert f"Dossier {first}" in str(app.screen.query_one("#case-heading").render())
        await pilot.press("escape")
        assert isinstance(app.screen, CasesScreen)


async def test_empty_database_shows_no_case_and_no_warning(tmp_path):
    with Store.open(tmp_path / "vide.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert summary(app) == "0 dossier · 2026-2027"
            assert not app.screen.query_one("#cases-warning").display
            await pilot.press("enter", "e")  # nothing under the cursor: no crash
            await pilot.pause()
            assert isinstance(app.screen, CasesScreen)


async def test_read_only_hides_the_editing_keys(demo_store, tmp_path):
    path = demo_store.path
    with Store.open(path, read_only=True) as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            footer_keys = [key for key, active in app.active_bindings.items() if active.enabled]
            assert "n" not in footer_keys and "e" not in footer_keys
            opened = []
            from rased_tui.screens import intake

            original = intake.IntakeScreen.__init__
            intake.IntakeScreen.__init__ = lambda self, *a, **k: (opened.append(1), original(self, *a, **k))[1]
            try:
                await pilot.press("n", "e")
                await pilot.pause()
            finally:
                intake.IntakeScreen.__init__ = original
            assert opened == [] and isinstance(app.screen, CasesScreen)


async def test_help_opens_with_f1_and_question_mark_and_closes_with_escape(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, CasesScreen)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("q")  # q closes the help, not the application
            assert isinstance(app.screen, CasesScreen)


async def test_q_quits(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("q")
            await pilot.pause()
        assert app.return_code == 0


async def test_read_only_says_so_in_the_title(tmp_path):
    Store.open(tmp_path / "a.db").close()
    with Store.open(tmp_path / "a.db", read_only=True) as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert "lecture seule" in app.title


async def test_works_at_80_by_24(demo_store):
    app = RasedApp(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = app.screen
        for widget_id in ("#cases-search", "#cases-summary", "#cases-table"):
            region = screen.query_one(widget_id).region
            assert region.height >= 1 and region.bottom <= 23, widget_id  # above the footer
        assert screen.query_one("#cases-table").region.height >= 12  # a dozen cases in view
        table = screen.query_one(DataTable)
        first_five = list(table.columns.values())[:5]
        assert [str(column.label) for column in first_five] == ["N°", "!", "Demande", "Élève / demandeur", "Statut"]
        assert sum(column.get_render_width(table) for column in first_five) <= 80  # status in view


async def test_urgent_warning_shows_first_even_at_80_by_24(tmp_path):
    from rased_tui.domain.models import Case, Pupil, School

    with Store.open(tmp_path / "u.db") as store:
        school = store.add_school(School(uai="0761234D", name="École du Centre", kind="primaire"))
        for first_name in ("Léa", "Noé"):
            store.add_case(Case(
                subject_kind="eleve", pupil=Pupil(last_name="Martin", first_name=first_name, birth_date="2019-05-02"),
                levels=["CE1"], school_id=school.id, requester="enseignant", date_sent="2026-11-18",
                urgent=True, description="Crises répétées en classe.", motifs=["comportement_severe"]))
        app = RasedApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            warning = app.screen.query_one("#cases-warning", Static)
            assert warning.display
            assert "2 demandes urgentes pas encore analysées" in str(warning.render())
            assert 0 < warning.region.y and warning.region.bottom <= 23  # on screen, above the footer


async def test_palette_speaks_french_and_offers_no_screenshot(tmp_path):
    with Store.open(tmp_path / "p.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert titles == ["Dossiers", "Prises en charge", "Tableau de bord", "Export / import", "Liste d'attente",
                              "Annuaire du pôle", "Réunions du pôle", "Paramètres", "Nouvelle demande",
                              "Modifier la demande", "Rechercher", "Filtres", "Aide", "Thème", "Quitter"]
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert app.screen.query_one("Input").placeholder == "Chercher une commande…"
            await pilot.press("escape")
            await pilot.press("ctrl+c")
            await pilot.pause()
            assert any("Pour quitter" in str(n.message) for n in app._notifications)


async def test_n_records_a_request_that_lands_at_the_top_then_e_edits_it(demo_store):
    from tests.test_intake import fill_pupil_request

    from rased_tui.screens.intake import IntakeScreen

    school = demo_store.list_schools()[0]
    before = demo_store.count_cases(CaseFilter("2026-2027"))
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)
        fill_pupil_request(app.screen, school, last_name="Quémeneur", first_name="Zélie")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)  # the new case opens
        await pilot.press("escape")
        await pilot.pause()
        first = app.screen.query_one(DataTable).get_row_at(0)
        saved = demo_store.get_case_by_number(first[0])
        assert saved.pupil.last_name == "Quémeneur" and first[3] == "Quémeneur Zélie"
        assert first[4] == "Reçue" and first[0].startswith("2026-")
        assert summary(app).startswith(f"{before + 1} dossiers")

        await pilot.press("e")  # the cursor is on the new case
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)
        assert app.screen.query_one("#last-name", Input).value == "Quémeneur"
        app.screen.query_one("#description").text = "Décrit à nouveau, plus précisément."
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        again = demo_store.get_case(saved.id)
        assert again.description == "Décrit à nouveau, plus précisément." and again.number == saved.number


async def test_one_does_not_leave_a_form_with_unsaved_changes(demo_store):
    from rased_tui.screens.intake import IntakeScreen

    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#last-name", Input).value = "Martin"
        await pilot.pause()
        app.action_cases()  # what `1` or the palette's "Dossiers" do
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)


async def test_filters_dialog_sets_school_member_and_motif(demo_store):
    from rased_tui.domain.enums import Motif

    # a real case of 2025-2026 about reading, with an aid: its school and its member
    school_id, member_id = demo_store.connection.execute(
        "SELECT c.school_id, a.member_id FROM cases c JOIN aids a ON a.case_id = c.id"
        " JOIN case_motifs m ON m.case_id = c.id AND m.motif = 'lecture'"
        " WHERE c.school_year = '2025-2026' LIMIT 1").fetchone()
    school, member = demo_store.get_school(school_id), demo_store.get_member(member_id)
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f")
        dialog = app.screen
        dialog.query_one("#filter-year", Select).value = "2025-2026"
        dialog.query_one("#filter-school", Select).value = school.id
        dialog.query_one("#filter-member", Select).value = member.id
        dialog.query_one("#filter-motif", Select).value = Motif.LECTURE
        await pilot.press("ctrl+s")
        await pilot.pause()
        wanted = CaseFilter("2025-2026", school_id=school.id, member_id=member.id, motif=Motif.LECTURE)
        count = demo_store.count_cases(wanted)
        assert summary(app) == (f"{count} dossier{'s' if count > 1 else ''} · 2025-2026 · {school.name}"
                                f" · membre : {member.full_name} · motif : {Motif.LECTURE.label}")
        assert count >= 1 and len(table_numbers(app)) == count
        await pilot.press("f", "ctrl+r", "ctrl+s")  # everything cleared: back to this year, all cases
        await pilot.pause()
        assert summary(app).startswith(f"{demo_store.count_cases(CaseFilter('2026-2027'))} dossiers · 2026-2027")


async def test_no_color_still_shows_the_list_and_its_urgency_sign(demo_store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = RasedApp(demo_store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.no_color
        rows = table_numbers(app)
        assert rows
        urgent_marks = [app.screen.query_one(DataTable).get_row_at(i)[1] for i in range(len(rows))]
        assert "⚠" in urgent_marks  # urgency is written, so it survives the loss of colours


async def test_confidential_notes_are_hidden_in_read_only_review(demo_store):
    case_id, secret = demo_store.connection.execute(
        "SELECT case_id, text FROM timeline_entries WHERE confidential = 1 AND text <> '' LIMIT 1").fetchone()

    async def summary_source(store) -> str:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            app.push_screen(CaseScreen(case_id))
            await pilot.pause()
            table = app.screen.query_one("#timeline", DataTable)
            return "\n".join(" ".join(map(str, table.get_row_at(i))) for i in range(table.row_count))

    assert "confidentiel" in await summary_source(demo_store)
    with Store.open(demo_store.path, read_only=True) as reader:
        shown = await summary_source(reader)
    assert "confidentiel" not in shown and secret.split()[0] not in shown


async def test_e_on_an_open_case_edits_its_request(demo_store):
    from rased_tui.screens.intake import IntakeScreen

    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        number = next(number for number in table_numbers(app) if demo_store.get_case_by_number(number).pupil)
        app.screen.query_one(DataTable).move_cursor(row=table_numbers(app).index(number))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("home", "e")  # the first line of the timeline is the request
        await pilot.pause()
        assert isinstance(app.screen, IntakeScreen)
        assert app.screen.query_one("#last-name", Input).value == demo_store.get_case_by_number(number).pupil.last_name


async def test_the_palette_does_not_stack_a_form_on_an_unsaved_one(demo_store):
    from rased_tui.screens.intake import IntakeScreen

    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        app.screen.query_one("#last-name", Input).value = "Martin"
        await pilot.pause()
        called = []
        app._on_cases(lambda: called.append(True))
        await pilot.pause()
        assert called == [] and sum(isinstance(s, IntakeScreen) for s in app.screen_stack) == 1


def test_text_typed_by_a_person_is_not_read_as_markdown():
    from rased_tui.screens.case import md

    assert md("# titre *gras* [lien](x) - tiret") == r"\# titre \*gras\* \[lien\]\(x\) \- tiret"


async def test_the_list_follows_a_step_recorded_on_the_case_screen_even_when_left_with_1(store, make_school, make_member,
                                                                                        make_pupil_case):
    """Escape or `1` from the case screen: either way the list is read again (statuses follow)."""
    from textual.widgets import SelectionList, TextArea

    school = store.add_school(make_school())
    member = store.add_member(make_member())
    case = store.add_case(make_pupil_case(school.id))
    app = RasedApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.screen.query_one(DataTable).get_row_at(0)[4] == "Reçue"
        await pilot.press("enter", "a")
        await pilot.pause()
        app.screen.query_one("#members", SelectionList).select(member.id)
        app.screen.query_one("#text", TextArea).text = "Entrée dans l'écrit"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "En analyse" in str(app.screen.query_one("#case-heading").render())
        await pilot.press("1")
        await pilot.pause()
        assert isinstance(app.screen, CasesScreen)
        assert app.screen.query_one(DataTable).get_row_at(0)[4] == "En analyse"
        assert store.case_status(case.id).label == "En analyse"


# -- quick on a large base: nothing read or imported that the screen in front does not need ------


STARTUP_PROBE = """
import asyncio, sys
from rased_tui.app import RasedApp
from rased_tui.store import Store

async def first_screen(store):
    app = RasedApp(store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()

with Store.open(sys.argv[1]) as store:
    asyncio.run(first_screen(store))
print("\\n".join(sorted(sys.modules)))
"""
NOT_AT_STARTUP = ("cryptography", "rased_tui.exchange.export", "rased_tui.exchange.importer",
                  "rased_tui.exchange.sealed", "rased_tui.exchange.statistics", "rased_tui.exchange.demo",
                  "rased_tui.exchange.spreadsheet", "rased_tui.exchange.agenda", "rased_tui.screens.export",
                  "rased_tui.screens.dashboard", "rased_tui.screens.steps", "markdown_it")


def test_the_list_opens_without_importing_export_import_statistics_encryption_or_demo(tmp_path):
    import subprocess
    import sys

    Store.open(tmp_path / "a.db").close()
    result = subprocess.run([sys.executable, "-c", STARTUP_PROBE, str(tmp_path / "a.db")],
                            capture_output=True, text=True, check=True)
    loaded = set(result.stdout.split())
    assert "rased_tui.screens.cases" in loaded
    assert [module for module in NOT_AT_STARTUP if module in loaded] == []


async def test_a_search_applied_at_once_is_not_undone_by_the_pause_in_the_typing(demo_store):
    from rased_tui.screens.cases import SEARCH_DELAY

    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        screen.query_one("#cases-search", Input).value = "mar"  # typed: waits for a pause
        await pilot.pause()
        screen.apply_search("martin")
        await pilot.pause(SEARCH_DELAY * 3)
        assert screen.case_filter.search == "martin"
        assert "recherche « martin »" in summary(app)


async def test_back_on_the_list_the_rows_are_read_again_only_if_the_base_changed(demo_store, monkeypatch):
    reads = []
    reload = CasesScreen.reload
    monkeypatch.setattr(CasesScreen, "reload", lambda self, *args, **kw: (reads.append(1), reload(self, *args, **kw)))
    app = RasedApp(demo_store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("down", "down")
        numbers = table_numbers(app)
        await pilot.press("f1", "escape", "enter")  # the help, then a case, only looked at
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert len(reads) == 1 and table_numbers(app) == numbers

        await pilot.press("enter")
        await pilot.pause()
        case = demo_store.get_case_by_number(numbers[2])
        with Store.open(demo_store.path) as other_window:  # meanwhile, the case is closed elsewhere
            other_window.close_case(TimelineEntry(case_id=case.id, kind="cloture", sub_kind="sans_suite",
                                                  date="2026-11-21"))
        await pilot.press("escape")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert len(reads) == 2 and table.cursor_row == 2
        assert table.get_row_at(2)[0] == case.number and table.get_row_at(2)[4] == "Sans suite"

"""The application shell, driven through Textual's Pilot: title, figures, help, quit."""

from __future__ import annotations

from datetime import date

from textual.widgets import Static

from rased_tui.app import RasedApp
from rased_tui.screens.help import HelpScreen
from rased_tui.screens.home import HomeScreen
from rased_tui.store import Store


def shown_text(app: RasedApp) -> str:
    return "\n".join(str(widget.render()) for widget in app.screen.query(Static))


async def test_home_shows_the_school_year_and_real_figures(tmp_path):
    from rased_tui.exchange.demo import generate_demo

    with Store.open(tmp_path / "d.db") as store:
        generate_demo(store, cases=80, seed=2)
        expected = store.overview("2026-2027", date(2026, 11, 21))
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen)
            text = shown_text(app)
            assert "Année scolaire 2026-2027" in text
            assert f"Dossiers de l'année : {expected.cases}" in text
            assert f"(ouverts : {expected.open_cases})" in text
            assert "rased-tui" in app.title


async def test_empty_database_shows_zero_and_no_warning(tmp_path):
    with Store.open(tmp_path / "vide.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            assert "Dossiers de l'année : 0" in shown_text(app)
            assert not app.screen.query_one("#home-warning").display


async def test_help_opens_with_f1_and_question_mark_and_closes_with_escape(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("escape")
            assert isinstance(app.screen, HomeScreen)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("q")  # q closes the help, not the application
            assert isinstance(app.screen, HomeScreen)


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


async def test_works_at_80_by_24(tmp_path):
    with Store.open(tmp_path / "a.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "Année scolaire" in shown_text(app)


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
            warning = app.screen.query_one("#home-warning", Static)
            assert warning.display
            assert "2 demandes urgentes pas encore analysées" in str(warning.render())
            assert 0 < warning.region.y and warning.region.bottom <= 23  # on screen, above the footer


async def test_palette_speaks_french_and_offers_no_screenshot(tmp_path):
    with Store.open(tmp_path / "p.db") as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert titles == ["Aide", "Thème", "Quitter"]
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert app.screen.query_one("Input").placeholder == "Chercher une commande…"
            await pilot.press("escape")
            await pilot.press("ctrl+c")
            await pilot.pause()
            assert any("Pour quitter" in str(n.message) for n in app._notifications)

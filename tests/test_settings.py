"""The settings of a base (domain/settings.py, store, screen `8`) and what uses them: the
export form's defaults and the export command's format."""

from __future__ import annotations

import json

import pytest
from textual.widgets import Checkbox, Input, Select

from rased_tui import cli
from rased_tui.app import RasedApp
from rased_tui.domain.enums import Zone
from rased_tui.domain.settings import Settings
from rased_tui.exchange.demo import generate_demo
from rased_tui.screens.export import ExportScreen
from rased_tui.screens.settings import SettingsForm, SettingsScreen
from rased_tui.store import Store, StoreError

SIZE = (120, 40)


def audit_rows(store: Store) -> list[dict]:
    rows = store.connection.execute("SELECT action, row_id, before, after FROM audit_log WHERE table_name = 'settings'")
    return [dict(row) for row in rows]


# -- the model and the store ----------------------------------------------------------------------


def test_defaults_and_a_round_trip_through_the_table(store):
    assert store.settings() == Settings()
    assert Settings().retention_years == 3 and Settings().zone is None
    chosen = Settings(circonscription="Rouen Nord", antenna="RASED de Maromme", zone="C", retention_years=5,
                      export_folder="/media/cle", export_format="rfc4180", export_encrypted=True,
                      export_open_only=True)
    store.save_settings(chosen)
    assert store.settings() == chosen
    assert store.get_setting("antenne") == "RASED de Maromme"  # the key the export already reads


def test_only_the_settings_that_change_are_written_and_audited(store):
    store.save_settings(Settings(zone="B"))
    assert [row["row_id"] for row in audit_rows(store)] == ["zone"]  # defaults are not written
    first = len(audit_rows(store))
    store.save_settings(Settings(zone="B"))
    assert len(audit_rows(store)) == first
    store.save_settings(Settings(zone=None))
    assert store.get_setting("zone") is None
    last = audit_rows(store)[-1]
    assert (last["row_id"], json.loads(last["before"]), last["after"]) == ("zone", {"value": "B"}, None)
    store.set_setting("retention_years", "douze")  # reads as the default, 3
    store.save_settings(Settings())
    assert store.get_setting("retention_years") == "3"


def test_a_value_that_no_longer_reads_falls_back_to_its_default(store):
    for key, value in (("retention_years", "douze"), ("zone", "D"), ("export_format", "xls"),
                       ("export_encrypted", "peut-être")):
        store.set_setting(key, value)
    settings = store.settings()
    assert (settings.retention_years, settings.zone, settings.export_format, settings.export_encrypted) == (
        3, None, "excel", False)


@pytest.mark.parametrize("field, value", [("retention_years", 0), ("retention_years", 11),
                                          ("export_format", "xls"), ("circonscription", "x" * 121)])
def test_values_out_of_bounds_are_refused(field, value):
    with pytest.raises(ValueError):
        Settings(**{field: value})


def test_read_only_base_refuses_to_save_settings(db_path):
    Store.open(db_path).close()
    with Store.open(db_path, read_only=True) as store, pytest.raises(StoreError, match="lecture seule"):
        store.save_settings(Settings(zone="A"))


# -- the screen ---------------------------------------------------------------------------------------


async def open_settings(pilot) -> SettingsScreen:
    await pilot.press("8")
    await pilot.pause()
    assert isinstance(pilot.app.screen, SettingsScreen)
    return pilot.app.screen


def shown_text(screen: SettingsScreen) -> str:
    return " ".join(str(widget.render()) for widget in screen.query(".setting-label, .setting-value"))


async def test_the_screen_shows_the_settings_and_the_form_saves_them(store):
    store.save_settings(Settings(circonscription="Rouen Nord", zone="B"))
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_settings(pilot)
        assert "Rouen Nord" in shown_text(screen) and "Zone B" in shown_text(screen)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, SettingsForm)
        form.query_one("#antenna", Input).value = "RASED d'Elbeuf"
        form.query_one("#zone", Select).value = "C"
        form.query_one("#retention", Input).value = "6"
        form.query_one("#export-format", Select).value = "rfc4180"
        form.query_one("#export-encrypted", Checkbox).value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "RASED d'Elbeuf" in shown_text(screen) and "6 ans" in shown_text(screen)
    assert store.settings() == Settings(circonscription="Rouen Nord", antenna="RASED d'Elbeuf", zone=Zone.C,
                                        retention_years=6, export_format="rfc4180", export_encrypted=True)


@pytest.mark.parametrize("typed, message", [("", "un nombre d'années"), ("0", "au moins 1"), ("15", "au plus 10"),
                                            ("trois", "un nombre d'années")])
async def test_a_wrong_retention_is_said_under_its_field_and_nothing_is_written(store, typed, message):
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_settings(pilot)
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        form.query_one("#retention", Input).value = typed
        form.query_one("#antenna", Input).value = "Autre antenne"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert message in str(form.query_one("#retention-error").render())
    assert store.settings() == Settings()


async def test_read_only_shows_the_settings_without_the_edit_key(db_path):
    with Store.open(db_path) as store:
        store.save_settings(Settings(antenna="RASED de Maromme"))
    with Store.open(db_path, read_only=True) as store:
        app = RasedApp(store)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_settings(pilot)
            assert "RASED de Maromme" in shown_text(screen)
            assert "edit" not in {active.binding.action for active in screen.active_bindings.values()}
            await pilot.press("e")
            await pilot.pause()
            assert app.screen is screen
            assert "lecture seule" in str(screen.query_one("#settings-file").render())


# -- what the settings change elsewhere ---------------------------------------------------------------


async def test_the_export_form_starts_from_the_default_options(store, tmp_path):
    store.save_settings(Settings(export_folder=str(tmp_path), export_format="rfc4180", export_encrypted=True,
                                 export_open_only=True))
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("4")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExportScreen)
        assert screen.query_one("#export-format", Select).value == "rfc4180"
        assert screen.query_one("#export-encrypt", Checkbox).value is True
        assert screen.query_one("#export-open-only", Checkbox).value is True
        assert screen.query_one("#export-folder", Input).value == str(tmp_path)
        # never ticked in advance: a nominative export and confidential notes are chosen each time
        assert screen.query_one("#export-nominative", Checkbox).value is False
        assert screen.query_one("#export-confidential", Checkbox).value is False


def test_the_export_command_takes_the_format_of_the_settings_unless_told(db_path, tmp_path, capsys):
    with Store.open(db_path) as store:
        generate_demo(store, cases=10, seed=2)
        store.save_settings(store.settings().model_copy(update={"export_format": "rfc4180"}))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert cli.main(["export", "--db", str(db_path), "--out", str(tmp_path / "a")]) == 0
    assert cli.main(["export", "--db", str(db_path), "--out", str(tmp_path / "b"), "--format", "excel"]) == 0
    [settings_bundle] = (tmp_path / "a").iterdir()
    [told_bundle] = (tmp_path / "b").iterdir()
    assert json.loads((settings_bundle / "manifest.json").read_text())["options"]["format"] == "rfc4180"
    assert json.loads((told_bundle / "manifest.json").read_text())["options"]["format"] == "excel"

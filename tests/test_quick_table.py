"""QuickTable, the table of the long lists: drawn as the stock DataTable draws it, text shown as
typed, and only the columns without a fixed width measured."""

from __future__ import annotations

import pytest
from rich.segment import Segment
from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from rased_tui.widgets.quick_table import QuickTable

TEXTS = ["", "2026-0042", "Lefèvre Hélène", "⚠", "🔒 confidentiel — note", "x" * 40, "日本語のテキストです",
         "espaces   ", "  en tête", "deux\nlignes", "ab🔒cd🔒ef🔒gh"]
WIDTHS = [None, 1, 10, 22, 5]


class Tables(App[None]):
    """The stock table and a QuickTable, side by side, filled alike."""

    def __init__(self, rows, **options) -> None:
        super().__init__()
        self.rows, self.options = rows, options

    def compose(self) -> ComposeResult:
        yield DataTable(id="stock", **self.options)
        yield QuickTable(id="quick", **self.options)

    def on_mount(self) -> None:
        for table in self.query(DataTable):
            table.styles.height = len(self.rows) + 2
            for index, width in enumerate(WIDTHS):
                table.add_column(f"Colonne {index}", width=width, key=f"c{index}")
            for index, cells in enumerate(self.rows):
                table.add_row(*cells, key=str(index))


async def drawn(app: Tables, pilot, table_id: str) -> list[list[Segment]]:
    """The lines of a table as they are drawn with the focus on it."""
    table = app.query_one(f"#{table_id}", DataTable)
    table.focus()
    await pilot.pause()
    return [list(Segment.simplify(table.render_line(y))) for y in range(len(app.rows) + 1)]


@pytest.mark.parametrize("options", [
    {"cursor_type": "row", "zebra_stripes": True},
    {"cursor_type": "row"},
    {"cursor_type": "cell", "zebra_stripes": True},
])
async def test_text_cells_are_drawn_exactly_as_the_stock_table_draws_them(options):
    app = Tables([[text] * len(WIDTHS) for text in TEXTS], **options)
    async with app.run_test(size=(120, 30)) as pilot:
        for cursor_row in (0, 4):
            for table in app.query(DataTable):
                table.move_cursor(row=cursor_row, column=2)
            assert await drawn(app, pilot, "quick") == await drawn(app, pilot, "stock")


async def test_a_styled_cell_keeps_its_style_beside_text_cells():
    rows = [[Text("12", style="bold", justify="right"), "⚠", "Lefèvre", "en attente", "E"]]
    app = Tables(rows, cursor_type="row")
    async with app.run_test(size=(120, 10)) as pilot:
        assert await drawn(app, pilot, "quick") == await drawn(app, pilot, "stock")


async def test_text_is_shown_as_typed_not_read_as_markup():
    app = Tables([["[b]Léa[/b]", "", "[sic]", "a [link=x]b", ""]], cursor_type="row")
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        line = app.query_one(QuickTable).render_line(1).text
        assert "[b]Léa[/b]" in line and "[sic]" in line and "a [link=x]b" in line


async def test_only_a_column_without_width_grows_to_its_longest_text():
    app = Tables([["2026-0042-ROUENNOR", "⚠", "12/10/2026", "Un nom bien plus long que la colonne", "E"]])
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(QuickTable)
        widths = [column.get_render_width(table) for column in table.ordered_columns]
        assert widths == [2 + len("2026-0042-ROUENNOR"), 3, 12, 24, 7]
        assert table.virtual_size.width == sum(widths)


async def test_columns_added_removed_or_cleared_are_drawn_as_they_now_stand():
    app = Tables([["a", "b", "c", "d", "e"]])
    async with app.run_test(size=(120, 10)) as pilot:
        await pilot.pause()
        table = app.query_one(QuickTable)
        table.remove_column("c1")
        assert [str(column.label) for column in table.ordered_columns] == [
            "Colonne 0", "Colonne 2", "Colonne 3", "Colonne 4"]
        table.clear(columns=True)
        table.add_column("Date", width=10, key="date")
        table.add_column("Texte", width=20, key="text")
        table.add_row("12/10/2026", "Première ligne", key="r")
        await pilot.pause()
        assert [str(column.label) for column in table.ordered_columns] == ["Date", "Texte"]
        assert table.render_line(1).text.startswith(" 12/10/2026  Première ligne ")

"""`QuickTable`: a DataTable for long lists of plain text, quick to fill and to draw.

The stock DataTable measures every cell it is given and draws each one through Rich (markup,
wrapping, padding): on a modest laptop that is tens of milliseconds for a page of rows, paid
again at each keystroke of a search. Here a text cell (`str`) on a one-line row is plain text:
measured by its length in terminal cells, and only for the columns whose width is not fixed;
drawn as one padded segment. Markup is not interpreted, so names and texts typed by people
show as typed ('[sic]' stays). Any other cell (a Rich `Text` with its style, a number) and the
header are drawn by the stock code, as are texts with control or unusual spacing characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from rich.cells import cell_len, set_cell_size
from rich.console import Console
from rich.measure import Measurement
from rich.segment import Segment
from rich.style import Style
from textual.color import Color
from textual.coordinate import Coordinate
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widgets import DataTable
from textual.widgets._data_table import Column, ColumnKey, RowKey, default_cell_formatter


def plain_line(cell: object) -> str | None:
    """The one line a text cell shows (up to its first line break), or None when the cell
    needs the stock drawing (not a text, or a character Rich would treat specially)."""
    if not isinstance(cell, str):
        return None
    line = cell.split("\n", 1)[0]
    return line if line.isprintable() else None


def cell_width(cell: object, console: Console) -> int:
    """The width a cell of a one-line row needs, in terminal cells."""
    if cell is None:
        return 0
    line = plain_line(cell)
    if line is not None:
        return cell_len(line)
    return Measurement.get(console, console.options, default_cell_formatter(cell, wrap=False, height=1)).maximum


@lru_cache(maxsize=4096)
def _cell_style(row_style: Style, row_index: int, column_index: int, component_style: Style,
                post_style: Style) -> Style:
    """The style of a text cell: its row's, the cursor's, and where it is (for the mouse)."""
    return row_style + Style.from_meta({"row": row_index, "column": column_index}) + component_style + post_style


class QuickTable(DataTable):
    """A DataTable whose text cells are measured and drawn as plain one-line text."""

    _drawing: dict[str, Any] | None = None  # while lines are drawn: what they share
    _columns_in_order: list[Column] | None = None  # until a column is added or removed

    @property
    def ordered_columns(self) -> list[Column]:
        """The columns in their order, kept (the stock table works it out again for every row
        added and every line drawn)."""
        if self._columns_in_order is None:
            self._columns_in_order = super().ordered_columns
        return self._columns_in_order

    def add_column(self, *args, **kwargs) -> ColumnKey:
        self._columns_in_order = None
        try:
            return super().add_column(*args, **kwargs)
        finally:
            self._columns_in_order = None

    def remove_column(self, column_key: ColumnKey | str) -> None:
        self._columns_in_order = None
        try:
            super().remove_column(column_key)
        finally:
            self._columns_in_order = None

    def clear(self, columns: bool = False) -> QuickTable:
        self._columns_in_order = None
        try:
            return super().clear(columns)
        finally:
            self._columns_in_order = None

    def render_lines(self, crop: Region) -> list[Strip]:
        """The widget's style and its rows' are worked out once for the lines drawn together:
        the stock table works them out again for each line (each walks up the DOM)."""
        self._drawing = {}
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    def _shared(self, name: str, work_out: Callable[[], Any]) -> Any:
        """`work_out()`, once for the lines drawn together (every time outside a drawing)."""
        if self._drawing is None:
            return work_out()
        if name not in self._drawing:
            self._drawing[name] = work_out()
        return self._drawing[name]

    @property
    def rich_style(self) -> Style:
        return self._shared("style", lambda: super(QuickTable, self).rich_style)

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        if row_index < max(0, self.fixed_rows) or not self.zebra_stripes:
            return super()._get_row_style(row_index, base_style)
        name = "datatable--odd-row" if row_index % 2 else "datatable--even-row"
        return self._shared(name, lambda: self.get_component_styles(name).rich_style)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        """Only the columns without a fixed width are measured (the stock table measures every
        cell); rows with a label or an automatic height keep the stock way."""
        new_rows = [key for key in new_rows if key in self.rows]
        if any(self.rows[key].label is not None or self.rows[key].auto_height for key in new_rows):
            super()._update_dimensions(new_rows)
            return
        console = self.app.console
        measured = [column for column in self.ordered_columns if column.auto_width]
        for row_key in new_rows:
            cells = self._data[row_key]
            for column in measured:
                column.content_width = max(column.content_width, cell_width(cells.get(column.key), console))
        header_height = self.header_height if self.show_header else 0
        self.virtual_size = Size(
            sum(column.get_render_width(self) for column in self.columns.values()) + self._row_label_column_width,
            self._total_row_height + header_height)

    def _render_line_in_row(self, row_key: RowKey, line_no: int, base_style: Style,
                            cursor_location: Coordinate, hover_location: Coordinate) -> tuple[list, list]:
        """A one-line row drawn with its styles worked out once (the stock table works them out
        for each cell); rows with a label or fixed columns keep the stock way. Cached as the
        stock table caches its rows."""
        row = self.rows.get(row_key)
        if row is None or row.height != 1 or self.fixed_columns or (self._labelled_row_exists and self.show_row_labels):
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        cache_key = (row_key, line_no, base_style, cursor_location, hover_location, self.cursor_type,
                     self.show_cursor, self._show_hover_cursor, self._update_count, self._pseudo_class_state)
        drawn = self._row_render_cache.get(cache_key)
        if drawn is None:
            drawn = [], self._draw_row(row_key, line_no, base_style, cursor_location, hover_location)
            self._row_render_cache[cache_key] = drawn
        return drawn

    def _draw_row(self, row_key: RowKey, line_no: int, base_style: Style, cursor_location: Coordinate,
                  hover_location: Coordinate) -> list[list[Segment]]:
        """Each cell of a row, then the blank to the widget's edge: a text cell is one segment,
        cut or padded to its column; another cell is drawn by the stock code."""
        row_index = self._row_locations.get(row_key)
        row_style = self._get_row_style(row_index, base_style)
        cells = self._data[row_key]
        drawn = []
        table_width = self._row_label_column_width
        for column_index, column in enumerate(self.ordered_columns):
            location = Coordinate(row_index, column_index)
            cursor = self._should_highlight(cursor_location, location, self.cursor_type)
            hover = self._should_highlight(hover_location, location, self.cursor_type)
            width = 2 * self.cell_padding + (column.content_width if column.auto_width else column.width)
            table_width += width
            line = plain_line(cells.get(column.key, ""))
            if line is None:
                drawn.append(self._render_cell(row_index, column_index, row_style, width, cursor, hover)[line_no])
            else:
                drawn.append([self._text_cell(line, width, row_style, location, cursor, hover)])
        drawn.append([self._row_end(row_index, row_style, table_width, cursor_location, hover_location)])
        return drawn

    def _text_cell(self, line: str, width: int, row_style: Style, location: Coordinate, cursor: bool,
                   hover: bool) -> Segment:
        """A text cell: the line cut or padded to the column, styled as the stock table styles it."""
        component_style, post_style = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, self.show_cursor, self._show_hover_cursor,
            self.cursor_foreground_priority == "css", self.cursor_background_priority == "css")
        padding = " " * self.cell_padding
        text = padding + set_cell_size(line, max(0, width - 2 * len(padding))) + padding
        return Segment(text, _cell_style(row_style, location.row, location.column, component_style, post_style))

    def _row_end(self, row_index: int, row_style: Style, table_width: int, cursor_location: Coordinate,
                 hover_location: Coordinate) -> Segment:
        """The blank that extends a row from the table's width to the widget's, styled as the
        stock table styles it."""
        if self.cursor_type == "row":
            hover = self._should_highlight(hover_location, Coordinate(row_index or 0, 0), self.cursor_type)
            extend_style, _ = self._get_styles_to_render_cell(
                row_index == -1, False, False, hover, row_index == cursor_location.row, self.show_cursor,
                self._show_hover_cursor, False, False)
            extend_style = row_style + extend_style
        elif row_style.bgcolor is not None:
            faded = Color.from_rich_color(row_style.bgcolor).blend(self.background_colors[1], factor=0.25)
            extend_style = Style.from_color(color=row_style.color, bgcolor=faded.rich_color)
        else:
            extend_style = Style.from_color(row_style.color, row_style.bgcolor)
        extend_style += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        return Segment(" " * max(0, self.size.width - table_width), extend_style)

"""`CaseTableScreen`: a screen that is one table of cases under a summary line, read again when
it comes back in front if the base changed meanwhile (a case opened from it may have changed),
`entrée` opening a case and `échap` going back. The waiting list (`5`) and the cases behind a
figure of the tableau de bord are such screens; each says which columns, which rows and which
summary.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from rased_tui.domain.calendar import today
from rased_tui.store import StoreError
from rased_tui.widgets.quick_table import QuickTable

Row = tuple[str, tuple]  # (case id, the cells of its line)


class CaseTableScreen(Screen[None]):
    """One table of cases; subclasses give `columns`, `read_rows` and `summary`."""

    BINDINGS = [
        Binding("enter", "open_case", "Ouvrir", id="case_table_open"),
        Binding("escape", "back", "Retour", id="case_table_back"),
    ]
    ID_PREFIX = "case-table"  # the ids: {prefix}-summary and {prefix}-table
    _read_at: tuple | None = None  # the base's version and the day when the rows were read

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id=f"{self.ID_PREFIX}-summary")
        yield QuickTable(id=f"{self.ID_PREFIX}-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def columns(self) -> Iterable[tuple[str, int]]:
        """(label, width) of each column."""
        raise NotImplementedError

    def read_rows(self) -> list[Row]:
        """The lines of the table, read from the store (StoreError is told to the user)."""
        raise NotImplementedError

    def summary(self) -> str:
        """The line above the table, once the rows are read."""
        raise NotImplementedError

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in self.columns():
            table.add_column(label, width=width, key=label)
        self.reload()
        table.focus()

    def on_screen_resume(self) -> None:
        """Back in front: read again only if something may have changed (a step recorded in a
        case opened from here, or a new day), not after the help or the palette."""
        if self.is_mounted and self._read_at != self._now():
            self.reload()

    def _now(self) -> tuple:
        return self.app.store.base_version(), today()

    def reload(self) -> None:
        """Read the rows again and draw them, the cursor kept on its case."""
        try:
            self._read_at = self._now()
            rows = self.read_rows()
        except StoreError as error:
            self._read_at = None  # read again next time
            self.notify(str(error), title="Lecture impossible", severity="error")
            return
        table = self.query_one(DataTable)
        kept = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value if table.row_count else None
        table.clear()
        for case_id, cells in rows:
            table.add_row(*cells, key=case_id)
        if kept in table.rows:
            table.move_cursor(row=table.get_row_index(kept))
        self.query_one(f"#{self.ID_PREFIX}-summary", Static).update(self.summary())

    @on(DataTable.RowSelected)
    def action_open_case(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        from rased_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value))

    def action_back(self) -> None:
        self.dismiss(None)

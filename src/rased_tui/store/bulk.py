"""Rows held back during a bulk load (demo data, an import) and written table by table.

One `executemany` per table and column set instead of one statement per record: parents are
written before their children (INSERT_ORDER), so foreign keys hold at every step, and the
rules that schema.sql enforces in triggers still apply to every row.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

# Every table a bulk load may fill, parents first.
INSERT_ORDER = (
    "schools", "members", "pupils", "periods", "meetings", "cases", "case_levels", "case_motifs",
    "case_prior_actions", "aids", "aid_evaluations", "timeline_entries", "timeline_entry_members",
    "analysis_aid_calls",
)
FLUSH_EVERY = 50_000  # rows: bounds the memory held while keeping the batches large


def insert_statement(table: str, columns: tuple[str, ...] | list[str]) -> str:
    """INSERT INTO table (a, b) VALUES (?, ?): the one place such a statement is written."""
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


class PendingRows:
    """Rows waiting to be inserted, grouped by table and by the columns they fill."""

    def __init__(self) -> None:
        self._batches: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = defaultdict(list)
        self.count = 0

    def add(self, table: str, row: dict[str, Any]) -> None:
        self._batches[(table, tuple(row))].append(tuple(row.values()))
        self.count += 1

    def flush(self, connection: sqlite3.Connection) -> None:
        """Insert everything held, parents first, and start empty again."""
        for table in INSERT_ORDER:
            for (batch_table, columns), rows in self._batches.items():
                if batch_table != table:
                    continue
                connection.executemany(insert_statement(table, columns), rows)
        unknown = {table for table, _ in self._batches} - set(INSERT_ORDER)
        if unknown:
            raise ValueError(f"bulk load: no insertion order for {sorted(unknown)}")
        self._batches.clear()
        self.count = 0

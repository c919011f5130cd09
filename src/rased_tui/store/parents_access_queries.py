"""The few reads the parents' copy of a pupil's file needs beyond the Store's own methods.

`other_pupil_names(store, pupil_id)` gives the names of every other pupil of the base (known by
name, not by a pseudonym), so that a free text naming one of them can be cleaned before it is
handed to this pupil's family (exchange/parents_access.py). Read-only; plain rows.
"""

from __future__ import annotations

import sqlite3

from rased_tui.store.errors import translate_sqlite_error


def other_pupil_names(store, pupil_id: str) -> list[tuple[str, str]]:
    """(last name, first name) of every pupil but `pupil_id` whose identity the base holds."""
    try:
        rows = store.connection.execute(
            "SELECT last_name, first_name FROM pupils WHERE id <> ? AND birth_date IS NOT NULL", (pupil_id,))
        return [(row[0], row[1]) for row in rows]
    except sqlite3.Error as error:
        raise translate_sqlite_error(error) from None


"""Older layouts of the database, rebuilt from a current file, to test the migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rased_tui.store.migrations import BIRTH_DATE_REQUIRED


def downgrade_to_version_4(path: Path) -> None:
    """Undo schema version 5 on a file made by the current schema (its rows stay)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.executescript(
            "ALTER TABLE timeline_entries DROP COLUMN updated_at;"
            "ALTER TABLE aid_evaluations DROP COLUMN updated_at;"
            "ALTER TABLE pupils DROP COLUMN pseudonym;"
            "DROP TABLE merged_versions;")
        (definition,) = connection.execute("SELECT sql FROM sqlite_schema WHERE name = 'pupils'").fetchone()
        (schema_version,) = connection.execute("PRAGMA schema_version").fetchone()
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute("UPDATE sqlite_schema SET sql = ? WHERE name = 'pupils'", (definition.replace(
            "birth_date TEXT CHECK (birth_date IS date(birth_date))", BIRTH_DATE_REQUIRED),))
        connection.execute(f"PRAGMA schema_version = {schema_version + 1}")
        connection.execute("PRAGMA writable_schema = OFF")
        connection.execute("PRAGMA user_version = 4")
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()

"""Older layouts of the database, rebuilt from a current file, to test the migrations."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from rased_tui.store.migrations import BIRTH_DATE_REQUIRED


VERSION_5_SCHEMA = Path(__file__).parent / "data" / "schema_v5.sql"


def version_5_table_definitions() -> dict[str, str]:
    """The CREATE TABLE statements of schema version 5 (tests/data/schema_v5.sql), by table."""
    text = VERSION_5_SCHEMA.read_text(encoding="utf-8")
    return {match.group(1): match.group(0)[:-1]
            for match in re.finditer(r"^CREATE TABLE (\w+) .*?^\)[^;]*;", text, re.S | re.M)}


def downgrade_to_version_5(path: Path) -> None:
    """Undo schema version 6 on a file made by the current schema: its tables' definitions as
    version 5 wrote them, with IN lists (its rows stay)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        (schema_version,) = connection.execute("PRAGMA schema_version").fetchone()
        connection.execute("PRAGMA writable_schema = ON")
        connection.executemany("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?",
                               [(sql, name) for name, sql in version_5_table_definitions().items()])
        connection.execute(f"PRAGMA schema_version = {schema_version + 1}")
        connection.execute("PRAGMA writable_schema = OFF")
        connection.execute("PRAGMA user_version = 5")
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        connection.close()


def downgrade_to_version_4(path: Path) -> None:
    """Undo schema versions 6 and 5 on a file made by the current schema (its rows stay)."""
    downgrade_to_version_5(path)
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

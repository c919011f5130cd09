"""schema.sql and the migrations that bring an older database file up to it.

The schema version lives in `PRAGMA user_version`. A new file gets schema.sql whole; a file
at version N gets the steps N -> N+1 -> ... in one transaction, after a copy of the file was
put aside (see opening.py).

History:
- version 1: the first layout, without full-text search.
- version 2: the search index over names, numbers and texts (the section of schema.sql between
  `BEGIN search index` and `END search index`), filled from the existing cases. Should a later
  version change that section, freeze the version-2 text here first for the step 1 -> 2.
- version 3: timeline entries say with whom an entretien d'explicitation was held and how an
  orientation was followed up; the audit log is indexed for the journal of a case.
- version 4: a first analysis says which RASED aids (E, G, psy) it called for (the waiting list);
  timeline entries are indexed by the aid they open.
- version 5 (exports and imports): a pupil may lack a birth date (known by a pseudonym only)
  and keeps the pseudonym it was imported with;
  timeline entries and evaluations record when they were last changed; `merged_versions`
  remembers the version of each record an import took.
- version 6 (performance): the CHECKs of the tables list allowed values as chains of `=`
  instead of `IN` lists, which SQLite rebuilt for every row inserted (store/fast_checks.py).

tests/data/schema_v1.sql keeps version 1 as it stood, to test the migration.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path

from rased_tui.store.fast_checks import rewrite_table_checks

SCHEMA_VERSION = 6
SEARCH_SECTION = re.compile(r"^-- BEGIN search index.*?^-- END search index\n", re.S | re.M)


@cache
def schema_text() -> str:
    """The text of schema.sql: inside the installed package, or at the top of a checkout."""
    packaged = resources.files("rased_tui").joinpath("schema.sql")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    checkout = Path(__file__).resolve().parents[3] / "schema.sql"
    return checkout.read_text(encoding="utf-8")


def search_section() -> str:
    """The statements of schema.sql that create the full-text search index."""
    match = SEARCH_SECTION.search(schema_text())
    if match is None:
        raise RuntimeError("schema.sql: section 'search index' introuvable")
    return match.group(0)


def rebuild_search_index(connection: sqlite3.Connection) -> None:
    """Fill the search index again from every case (after a bulk load or a migration)."""
    connection.execute("INSERT OR IGNORE INTO case_search_key (case_id) SELECT id FROM cases")
    connection.execute("DELETE FROM case_search")
    connection.execute(
        "INSERT INTO case_search (rowid, number, names, texts)"
        " SELECT key, number, names, texts FROM case_search_document"
    )


def _add_search_index(connection: sqlite3.Connection) -> None:
    for statement in _statements(search_section()):
        connection.execute(statement)
    rebuild_search_index(connection)


def _statements(script: str) -> list[str]:
    """Split a script into complete statements (triggers hold ';' inside BEGIN...END)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current:
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [statement for statement in statements if statement.strip(" ;\n")]


# Version 3, as schema.sql writes it for a new file (the columns at the end of the table).
VERSION_3_STATEMENTS = (
    "ALTER TABLE timeline_entries ADD COLUMN interlocutor TEXT CHECK (interlocutor IS NULL OR"
    " (interlocutor IN ('enseignant', 'equipe', 'famille') AND sub_kind = 'entretien_explicitation'))",
    "ALTER TABLE timeline_entries ADD COLUMN follow_up TEXT NOT NULL DEFAULT ''",
    "CREATE INDEX audit_by_row ON audit_log (row_id)",
    "CREATE INDEX audit_deletions ON audit_log (table_name) WHERE action = 'suppression'",
)


def _add_entry_details_and_journal_indexes(connection: sqlite3.Connection) -> None:
    for statement in VERSION_3_STATEMENTS:
        connection.execute(statement)


VERSION_4_STATEMENTS = (
    "CREATE TABLE analysis_aid_calls ("
    " entry_id TEXT NOT NULL REFERENCES timeline_entries (id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL CHECK (kind IN ('E', 'G', 'psy')),"
    " PRIMARY KEY (entry_id, kind)) WITHOUT ROWID",
    "CREATE INDEX timeline_by_aid ON timeline_entries (aid_id) WHERE aid_id IS NOT NULL",
)


def _add_analysis_aid_calls(connection: sqlite3.Connection) -> None:
    for statement in VERSION_4_STATEMENTS:
        connection.execute(statement)


VERSION_5_STATEMENTS = (
    "ALTER TABLE timeline_entries ADD COLUMN updated_at TEXT"
    " CHECK (updated_at IS NULL OR datetime(updated_at) IS NOT NULL)",
    "ALTER TABLE aid_evaluations ADD COLUMN updated_at TEXT"
    " CHECK (updated_at IS NULL OR datetime(updated_at) IS NOT NULL)",
    "ALTER TABLE pupils ADD COLUMN pseudonym TEXT CHECK (pseudonym IS NULL OR length(pseudonym) BETWEEN 4 AND 40)",
    "CREATE TABLE merged_versions (table_name TEXT NOT NULL, row_id TEXT NOT NULL,"
    " version TEXT NOT NULL, PRIMARY KEY (table_name, row_id)) WITHOUT ROWID",
)
BIRTH_DATE_REQUIRED = "birth_date TEXT NOT NULL CHECK (birth_date IS date(birth_date))"


def _prepare_for_exchanges(connection: sqlite3.Connection) -> None:
    for statement in VERSION_5_STATEMENTS:
        connection.execute(statement)
    _drop_not_null_on_birth_date(connection)


def _drop_not_null_on_birth_date(connection: sqlite3.Connection) -> None:
    """Remove NOT NULL from pupils.birth_date by editing the table's definition, the way
    SQLite's documentation allows for a change that leaves the stored rows valid as they are
    (https://sqlite.org/lang_altertable.html#otheralter): rebuilding `pupils` instead would
    mean dropping a table that cases refer to."""
    (definition,) = connection.execute(
        "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = 'pupils'").fetchone()
    if BIRTH_DATE_REQUIRED not in definition:
        raise RuntimeError("pupils.birth_date: définition inattendue, migration impossible")
    (schema_version,) = connection.execute("PRAGMA schema_version").fetchone()
    connection.execute("PRAGMA writable_schema = ON")
    try:
        connection.execute(
            "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = 'pupils'",
            (definition.replace(BIRTH_DATE_REQUIRED, "birth_date TEXT CHECK (birth_date IS date(birth_date))"),))
        connection.execute(f"PRAGMA schema_version = {schema_version + 1}")
    finally:
        connection.execute("PRAGMA writable_schema = OFF")


# Step from version N to N+1, keyed by N.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _add_search_index,
    2: _add_entry_details_and_journal_indexes,
    3: _add_analysis_aid_calls,
    4: _prepare_for_exchanges,
    5: rewrite_table_checks,
}


def apply_schema(connection: sqlite3.Connection) -> None:
    """Create every table of schema.sql in a new, empty database, in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for statement in _statements(schema_text()):
            connection.execute(statement)
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise


def migrate(connection: sqlite3.Connection, from_version: int) -> None:
    """Run the steps from `from_version` up to SCHEMA_VERSION in one transaction."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        for version in range(from_version, SCHEMA_VERSION):
            MIGRATIONS[version](connection)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise

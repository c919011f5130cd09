"""CHECK constraints written as chains of `=` instead of `IN` lists (schema version 6).

SQLite builds a small temporary index for `column IN ('a', 'b', ...)` each time a statement
runs, and an INSERT is run once per row: a table with five such CHECKs spent three quarters of
its insertion time rebuilding them (30 µs a row instead of 8 for the timeline). The same rule
written `(column = 'a' OR column = 'b' ...)` costs next to nothing and accepts exactly the same
values, NULL included (NULL = 'a' OR NULL = 'b' is NULL, which a CHECK lets through, as it
does NULL IN (...)).

`or_chains(definition)` rewrites a CREATE TABLE statement; schema.sql was written through it,
and the migration to version 6 applies it to the tables of an older file, editing their
definition in place the way SQLite's documentation allows for a change that every stored row
already satisfies (https://sqlite.org/lang_altertable.html#otheralter).
"""

from __future__ import annotations

import re
import sqlite3

CONSTANT = r"(?:'[^']*'|-?\d+)"
IN_LIST = re.compile(rf"\b(\w+) IN \((\s*)({CONSTANT}(?:,\s*{CONSTANT})*)(\s*)\)")


def _chain(match: re.Match[str]) -> str:
    column, leading, items_text, trailing = match.groups()
    parts = re.split(r",(\s*)", items_text)  # item, space, item, space, item...
    items, spaces = parts[0::2], parts[1::2]
    chain = f"{column} = {items[0]}"
    for space, item in zip(spaces, items[1:]):
        chain += f" OR{space or ' '}{column} = {item}"
    return f"({leading}{chain}{trailing})"


def or_chains(definition: str) -> str:
    """A CREATE TABLE statement with each `column IN (constants)` written as a chain of `=`."""
    return IN_LIST.sub(_chain, definition)


def rewrite_table_checks(connection: sqlite3.Connection) -> None:
    """Migration to schema version 6: every table's CHECKs as chains (inside the migration's
    transaction). The stored rows are not touched: they satisfy the same rules."""
    definitions = connection.execute(
        "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE TABLE%'").fetchall()
    changed = [(or_chains(sql), name) for name, sql in definitions if or_chains(sql) != sql]
    if not changed:
        return
    (schema_version,) = connection.execute("PRAGMA schema_version").fetchone()
    connection.execute("PRAGMA writable_schema = ON")
    try:
        connection.executemany("UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", changed)
        connection.execute(f"PRAGMA schema_version = {schema_version + 1}")
    finally:
        connection.execute("PRAGMA writable_schema = OFF")

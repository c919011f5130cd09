"""Schema version 6: CHECKs written as chains of `=` accept exactly what the IN lists accepted,
and the migration from version 5 gives the tables of a new file, rows untouched."""

from __future__ import annotations

import sqlite3

import pytest

from rased_tui.exchange.demo import generate_demo
from rased_tui.store import Store
from rased_tui.store.fast_checks import IN_LIST, or_chains
from rased_tui.store.migrations import SCHEMA_VERSION
from tests.schema_history import downgrade_to_version_5, version_5_table_definitions


def table_definitions(path) -> dict[str, str]:
    connection = sqlite3.connect(path)
    try:
        return dict(connection.execute("SELECT name, sql FROM sqlite_schema WHERE type = 'table'"))
    finally:
        connection.close()


def rows_of_every_table(path) -> dict[str, list[tuple]]:
    connection = sqlite3.connect(path)
    try:
        names = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'case_search%'"
            " AND name NOT LIKE 'sqlite_%'")]
        return {name: sorted(connection.execute(f"SELECT * FROM {name}"), key=repr) for name in names}
    finally:
        connection.close()


def test_a_list_becomes_a_chain_keeping_its_line_breaks():
    assert or_chains("kind TEXT CHECK (kind IN ('E', 'G', 'psy'))") == \
        "kind TEXT CHECK ((kind = 'E' OR kind = 'G' OR kind = 'psy'))"
    assert or_chains("active INTEGER CHECK (active IN (0, 1))") == "active INTEGER CHECK ((active = 0 OR active = 1))"
    assert or_chains("role TEXT CHECK (role IN (\n    'a', 'b',\n    'c'))") == \
        "role TEXT CHECK ((\n    role = 'a' OR role = 'b' OR\n    role = 'c'))"
    # inside a larger expression, the chain keeps its parentheses: AND binds tighter than OR
    assert or_chains("CHECK (x IS NULL OR (x IN ('a', 'b') AND y = 'z'))") == \
        "CHECK (x IS NULL OR ((x = 'a' OR x = 'b') AND y = 'z'))"
    # a list that is not made of constants is no CHECK of ours: left alone
    assert or_chains("WHERE rowid IN (SELECT key FROM t)") == "WHERE rowid IN (SELECT key FROM t)"


def test_no_table_of_a_new_file_keeps_an_in_list(db_path):
    Store.open(db_path).close()
    for name, definition in table_definitions(db_path).items():
        assert definition is None or IN_LIST.search(definition) is None, name


@pytest.mark.parametrize("value", ["maitre_e", "psy", "E", "ulis", "CE1", 0, 1, 2, "zzz", "", None, "Maitre_E"])
def test_each_chain_accepts_exactly_what_its_list_accepted(value):
    """Every IN list of version 5, evaluated against its chain on the same value."""
    connection = sqlite3.connect(":memory:")
    lists = [match for definition in version_5_table_definitions().values()
             for match in IN_LIST.finditer(definition)]
    assert len(lists) == 30  # every one of version 5
    for match in lists:
        column = match.group(1)
        as_list, as_chain = match.group(0), or_chains(match.group(0))
        query = f"SELECT {{}} FROM (SELECT ? AS {column})"
        assert connection.execute(query.format(as_list), (value,)).fetchone() == \
            connection.execute(query.format(as_chain), (value,)).fetchone(), as_list


def test_migration_from_version_5_rewrites_the_checks_and_keeps_every_row(tmp_path):
    fresh, old = tmp_path / "neuve.db", tmp_path / "ancienne.db"
    Store.open(fresh).close()
    with Store.open(old) as store:
        generate_demo(store, cases=40, seed=3)
    downgrade_to_version_5(old)
    assert any(IN_LIST.search(sql or "") for sql in table_definitions(old).values())
    rows_before = rows_of_every_table(old)

    with Store.open(old) as store:
        assert store.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 6
        assert store.connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert store.check().ok
        with pytest.raises(Exception):  # the rules still hold after the rewrite
            store.connection.execute("UPDATE cases SET requester = 'voisin' WHERE rowid = 1")
    assert table_definitions(old) == table_definitions(fresh)
    after = rows_of_every_table(old)
    assert {name: rows for name, rows in after.items() if name != "audit_log"} == \
        {name: rows for name, rows in rows_before.items() if name != "audit_log"}

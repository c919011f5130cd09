"""The append-only audit log and its hash chain.

Each row records who did what to which record, with the record before and after (JSON), and
the SHA-256 of its own content joined to the previous row's hash. Editing or removing a row
by hand breaks the chain; removing the last rows shows against SQLite's AUTOINCREMENT counter.
Triggers in schema.sql refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import sqlite3
from dataclasses import dataclass

GENESIS_HASH = "0" * 64


def operating_system_user() -> str:
    """The login name of whoever runs the program (the actor when no member is known)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):
        return "inconnu"


def to_json(row: dict | None) -> str | None:
    if row is None:
        return None
    return json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)


def chain_hash(prev_hash: str, at: str, actor: str, action: str, table: str, row_id: str,
               before: str | None, after: str | None) -> str:
    payload = json.dumps([prev_hash, at, actor, action, table, row_id, before, after], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def last_hash(connection: sqlite3.Connection) -> str:
    row = connection.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return row[0] if row else GENESIS_HASH


def append(connection: sqlite3.Connection, *, at: str, actor: str, action: str, table: str,
           row_id: str, before: dict | None, after: dict | None) -> None:
    """Append one chained row; call inside the transaction that made the change."""
    before_json, after_json = to_json(before), to_json(after)
    prev = last_hash(connection)
    digest = chain_hash(prev, at, actor, action, table, row_id, before_json, after_json)
    connection.execute(
        "INSERT INTO audit_log (at, actor, action, table_name, row_id, before, after, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (at, actor, action, table, row_id, before_json, after_json, prev, digest),
    )


@dataclass(frozen=True)
class ChainReport:
    rows: int
    intact: bool
    problem: str | None = None


def verify(connection: sqlite3.Connection) -> ChainReport:
    """Walk the chain from the first row; say where it breaks, in French."""
    expected_prev = GENESIS_HASH
    expected_seq = None
    rows = 0
    cursor = connection.execute(
        "SELECT seq, at, actor, action, table_name, row_id, before, after, prev_hash, hash"
        " FROM audit_log ORDER BY seq"
    )
    for seq, at, actor, action, table, row_id, before, after, prev, digest in cursor:
        rows += 1
        if expected_seq is not None and seq != expected_seq:
            return ChainReport(rows, False, f"ligne(s) {expected_seq} à {seq - 1} du journal supprimée(s)")
        if prev != expected_prev:
            return ChainReport(rows, False, f"ligne {seq} du journal : chaînage rompu (ligne précédente modifiée ou supprimée)")
        if chain_hash(prev, at, actor, action, table, row_id, before, after) != digest:
            return ChainReport(rows, False, f"ligne {seq} du journal modifiée après coup")
        expected_prev, expected_seq = digest, seq + 1
    counter = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    last_seq = (expected_seq or 1) - 1
    if counter and counter[0] > last_seq:
        return ChainReport(rows, False, f"dernière(s) ligne(s) du journal supprimée(s) (jusqu'à la ligne {counter[0]})")
    triggers = {name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")}
    if triggers != {"audit_log_no_update", "audit_log_no_delete"}:
        return ChainReport(rows, False, "les protections du journal (déclencheurs) ont été retirées")
    return ChainReport(rows, True)

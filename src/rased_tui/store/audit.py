"""The append-only audit log and its hash chain.

Each row records who did what to which record, with the record before and after (JSON).
The row's hash covers its fields, the SHA-256 digests of the before/after texts, and the
previous row's hash. So:
- editing a row by hand, or removing one in the middle, breaks the chain;
- removing the last rows shows against SQLite's AUTOINCREMENT counter — and, against someone
  who also rewrites that counter, against the head hash that `check` prints for the user to
  note elsewhere;
- blanking the before/after texts (the retention purge: they hold children's names) keeps the
  chain intact, and `check` counts those rows as purged.
Triggers in schema.sql refuse DELETE and any UPDATE but that blanking.
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


def digest(text: str | None) -> str:
    """SHA-256 of a before/after text ('' for no text at all)."""
    return "" if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(prev_hash: str, at: str, actor: str, action: str, table: str, row_id: str,
               before_digest: str, after_digest: str) -> str:
    payload = json.dumps([prev_hash, at, actor, action, table, row_id, before_digest, after_digest],
                         ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def last_hash(connection: sqlite3.Connection) -> str:
    row = connection.execute("SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return row[0] if row else GENESIS_HASH


def append(connection: sqlite3.Connection, *, at: str, actor: str, action: str, table: str,
           row_id: str, before: dict | None, after: dict | None) -> None:
    """Append one chained row; call inside the transaction that made the change."""
    before_json, after_json = to_json(before), to_json(after)
    before_digest, after_digest = digest(before_json), digest(after_json)
    prev = last_hash(connection)
    row_hash = chain_hash(prev, at, actor, action, table, row_id, before_digest, after_digest)
    connection.execute(
        "INSERT INTO audit_log (at, actor, action, table_name, row_id, before, after,"
        " before_digest, after_digest, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (at, actor, action, table, row_id, before_json, after_json, before_digest, after_digest,
         prev, row_hash),
    )


@dataclass(frozen=True)
class ChainReport:
    rows: int
    intact: bool
    problem: str | None = None
    head: str = GENESIS_HASH  # hash of the last row: noted elsewhere, it proves nothing was cut off
    purged: int = 0  # rows whose before/after texts were blanked by the retention purge


def _text_matches(text: str | None, expected_digest: str) -> bool:
    """A text matches its digest, or was blanked (purged)."""
    return text is None or digest(text) == expected_digest


def verify(connection: sqlite3.Connection) -> ChainReport:
    """Walk the chain from the first row; say where it breaks, in French."""
    expected_prev, expected_seq = GENESIS_HASH, None
    rows = purged = 0
    cursor = connection.execute(
        "SELECT seq, at, actor, action, table_name, row_id, before, after, before_digest,"
        " after_digest, prev_hash, hash FROM audit_log ORDER BY seq")
    for seq, at, actor, action, table, row_id, before, after, before_d, after_d, prev, row_hash in cursor:
        rows += 1
        if expected_seq is not None and seq != expected_seq:
            return ChainReport(rows, False, f"ligne(s) {expected_seq} à {seq - 1} du journal supprimée(s)")
        if prev != expected_prev:
            return ChainReport(rows, False, f"ligne {seq} du journal : chaînage rompu (ligne précédente modifiée ou supprimée)")
        if chain_hash(prev, at, actor, action, table, row_id, before_d, after_d) != row_hash \
                or not _text_matches(before, before_d) or not _text_matches(after, after_d):
            return ChainReport(rows, False, f"ligne {seq} du journal modifiée après coup")
        purged += (before is None and before_d != "") or (after is None and after_d != "")
        expected_prev, expected_seq = row_hash, seq + 1
    counter = connection.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").fetchone()
    last_seq = (expected_seq or 1) - 1
    if counter and counter[0] > last_seq:
        return ChainReport(rows, False, f"dernière(s) ligne(s) du journal supprimée(s) (jusqu'à la ligne {counter[0]})")
    triggers = {name for (name,) in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")}
    if triggers != {"audit_log_no_update", "audit_log_no_delete"}:
        return ChainReport(rows, False, "les protections du journal (déclencheurs) ont été retirées")
    return ChainReport(rows, True, head=expected_prev, purged=purged)

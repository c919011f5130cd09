"""The journal of one case: who added, changed or removed what in it, and when, read from the
audit log (the request, its steps, its aids and their evaluations — removed ones included,
since the log keeps the record as it was)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

# The tables whose records belong to one case, and how a record names its case.
CASE_TABLES = ("cases", "timeline_entries", "aids", "aid_evaluations")


@dataclass(frozen=True)
class JournalLine:
    at: str  # UTC timestamp, ISO
    actor: str  # 'os:<user>' or 'membre:<id>'
    action: str  # 'ajout', 'modification', 'suppression'
    table: str
    row_id: str
    before: dict | None
    after: dict | None

    @property
    def about_confidential(self) -> bool:
        """A line about a confidential note (before or after the change)."""
        return any(record and record.get("confidential") for record in (self.before, self.after))

    @property
    def changed_fields(self) -> list[str]:
        """The fields whose value differs between before and after (for a modification)."""
        if not self.before or not self.after:
            return []
        names = dict.fromkeys([*self.before, *self.after])
        ignored = {"updated_at", "created_at"}
        return [name for name in names if name not in ignored
                and _comparable(self.before.get(name)) != _comparable(self.after.get(name))]


def _comparable(value: object) -> object:
    """Lists of ids (the members of a step) compare whatever their order."""
    return sorted(map(str, value)) if isinstance(value, list) else value


def case_journal(connection: sqlite3.Connection, case_id: str) -> list[JournalLine]:
    """Every audit row about a case, oldest first."""
    ids = {case_id}
    ids.update(row[0] for row in connection.execute("SELECT id FROM timeline_entries WHERE case_id = ?", (case_id,)))
    aid_ids = [row[0] for row in connection.execute("SELECT id FROM aids WHERE case_id = ?", (case_id,))]
    ids.update(aid_ids)
    for aid_id in aid_ids:
        ids.update(row[0] for row in connection.execute("SELECT id FROM aid_evaluations WHERE aid_id = ?", (aid_id,)))
    # removed records: their ids are gone from the tables, the log kept them with their case
    for row_id, before in connection.execute(
            "SELECT row_id, before FROM audit_log WHERE action = 'suppression' AND table_name IN (?, ?, ?)",
            CASE_TABLES[1:]):
        if before and json.loads(before).get("case_id") == case_id:
            ids.add(row_id)
    marks = ", ".join("?" for _ in ids)
    rows = connection.execute(
        f"SELECT at, actor, action, table_name, row_id, before, after FROM audit_log"
        f" WHERE row_id IN ({marks}) AND table_name IN ({', '.join('?' for _ in CASE_TABLES)}) ORDER BY seq",
        (*ids, *CASE_TABLES)).fetchall()
    return [JournalLine(row[0], row[1], row[2], row[3], row[4], _load(row[5]), _load(row[6])) for row in rows]


def _load(text: str | None) -> dict | None:
    return json.loads(text) if text else None

"""Store: every read and write of the database, returning domain models.

Each write is one transaction that also appends to the audit log (who, when, what, the record
before and after). Screens and commands never write SQL: they call these methods.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from rased_tui.domain.calendar import (
    case_number,
    format_french_date,
    school_year_of,
    utc_now,
)
from rased_tui.domain import timeline as timeline_rules
from rased_tui.domain.enums import (
    AidEndReason,
    CaseStatus,
    ClosureOutcome,
    ConsentStatus,
    EntryKind,
    Role,
    SecondResponse,
)
from rased_tui.domain.french import os_reason
from rased_tui.domain.settings import Settings
from rased_tui.domain.filters import search_words
from rased_tui.domain.models import (
    STORED,
    Aid,
    AidEvaluation,
    Case,
    Member,
    PriorActionItem,
    Pupil,
    School,
    TimelineEntry,
    fold,
    french_messages,
)
from rased_tui.store import audit
from rased_tui.store.bulk import FLUSH_EVERY, PendingRows, insert_statement
from rased_tui.store.errors import StoreError, translate_sqlite_error
from rased_tui.store.journal import JournalLine, case_journal
from rased_tui.store.migrations import SCHEMA_VERSION, rebuild_search_index
from rased_tui.store.opening import (
    create_private_file,
    describe_objects,
    make_private_directory,
    missing_schema_objects,
    open_connection,
    open_in_memory,
    open_snapshot,
)
from rased_tui.store.case_list import CaseListQueries, fts_query
from rased_tui.store.caseloads import CaseloadQueries
from rased_tui.store.calendar import CalendarQueries
from rased_tui.store.directory import DirectoryQueries
from rased_tui.store.exports import ExportQueries
from rased_tui.store.merge import MergeQueries
from rased_tui.store.retention import PURGED_TEXT, RetentionQueries
from rased_tui.store.statistics import StatisticsQueries

BULK_CACHE_SIZE = -512_000  # KiB: at most 500 MB of page cache during a bulk load
ModelT = TypeVar("ModelT", bound=BaseModel)
READ_ONLY_MESSAGE = "Base ouverte en lecture seule : aucune modification n'est possible."
CONFIDENTIAL_AUTHOR_MESSAGE = ("Une note confidentielle est celle d'un·e psychologue : choisissez-le ou la comme "
                               "auteur·rice, ou décochez « confidentielle ».")

# Tables counted by `check` (the records people enter, and the audit log).
DATA_TABLES = (
    "schools", "members", "pupils", "cases", "case_levels", "case_motifs", "case_prior_actions",
    "periods", "meetings", "aids", "aid_evaluations", "timeline_entries", "timeline_entry_members",
    "analysis_aid_calls", "audit_log",
)
# The lists of a timeline entry kept in tables of their own: field -> (table, column).
ENTRY_LISTS = {"member_ids": ("timeline_entry_members", "member_id"),
               "aids_called": ("analysis_aid_calls", "kind")}
ENTRY_LIST_FIELDS = frozenset(ENTRY_LISTS)


def _model_row(model: BaseModel, exclude: set[str] | frozenset[str] | None = None) -> dict[str, Any]:
    """A model's fields as a database row, dates in ISO. Enums (str) and booleans (int) bind
    as they are. Read from the instance directly: model_dump costs several times more, and a
    bulk load calls this for every row."""
    return {name: value.isoformat() if type(value) is date else value
            for name, value in model.__dict__.items() if not exclude or name not in exclude}


def _audit_view(model: BaseModel, **extra: Any) -> dict[str, Any]:
    """Everything about a record, nested lists included, as the audit log keeps it."""
    return {**model.model_dump(mode="json"), **extra}


@dataclass(frozen=True)
class SharedAction:
    """One action de formation ciblée, linked from the timelines of the cases it serves."""

    action_id: str
    first_date: date
    text: str
    case_numbers: list[str]
    school_count: int


@dataclass(frozen=True)
class IntegrityReport:
    schema_version: int
    integrity: str
    foreign_key_errors: int
    audit: audit.ChainReport
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.foreign_key_errors == 0 and self.audit.intact


class Store(CaseListQueries, DirectoryQueries, CaseloadQueries, CalendarQueries, ExportQueries, MergeQueries, StatisticsQueries,
            RetentionQueries):
    """One open database file. Use `Store.open(path)`; close it, or use it in a `with` block."""

    def __init__(self, connection: sqlite3.Connection, path: Path, *, read_only: bool) -> None:
        self._connection = connection
        self._connection.row_factory = sqlite3.Row
        self.path = path
        self.read_only = read_only
        self.actor = f"os:{audit.operating_system_user()}"
        self._depth = 0
        self._audit_each_row = True
        self._pending: PendingRows | None = None  # rows held back during a bulk load
        self._pupils_in_bulk: set[str] = set()
        self._no_pupils_before_bulk = False  # then a pupil not held back in the load is new
        self._bulk_sequences: dict[str, int] = {}  # school year -> last case number given
        self._bulk_writer: ThreadPoolExecutor | None = None  # writes held rows during a bulk load
        self._bulk_batch_written: Future | None = None
        self._bulk_started_at: str | None = None

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> "Store":
        path = Path(path)
        return cls(open_connection(path, read_only=read_only), path, read_only=read_only)

    @classmethod
    def open_snapshot(cls, path: str | Path) -> "Store":
        """The base as it is now, read-only, copied into memory: the IEN's review of a copy
        (the file is left exactly as it was, nothing beside it; see opening.open_snapshot)."""
        path = Path(path)
        return cls(open_snapshot(path), path, read_only=True)

    @classmethod
    def in_memory(cls, label: str | Path) -> "Store":
        """An empty base in memory (an export opened for review); `label` names it on screen."""
        return cls(open_in_memory(), Path(label), read_only=False)

    def make_read_only(self) -> None:
        """From now on nothing can be written: the store refuses, and SQLite too."""
        self.read_only = True
        self._connection.execute("PRAGMA query_only = ON")

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def act_as(self, member_id: str | None) -> None:
        """Record the acting member in the audit log from now on (else the OS user)."""
        self.actor = f"membre:{member_id}" if member_id else f"os:{audit.operating_system_user()}"

    # -- transactions and audit -------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested calls join the outer one. sqlite3 errors become StoreError."""
        if self.read_only:
            raise StoreError(READ_ONLY_MESSAGE)
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        try:
            self._connection.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None
        self._depth = 1
        try:
            yield
            self._connection.execute("COMMIT")
        except sqlite3.Error as error:
            self._rollback()
            raise translate_sqlite_error(error) from None
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth = 0

    def _rollback(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    @contextmanager
    def bulk_load(self, summary: str) -> Iterator[None]:
        """A large load in one transaction: rows are written in batches (store/bulk.py), the
        search index is rebuilt once at the end, and the audit log gets one summary row
        instead of one per record. Reads inside the block may not see the rows added in it."""
        with self.large_cache(), self.transaction(), ThreadPoolExecutor(1, "rased-bulk") as writer:
            self._connection.execute("INSERT INTO settings (key, value) VALUES ('search_suspended', '1')")
            self._audit_each_row = False
            self._pending = PendingRows()
            self._no_pupils_before_bulk = self._one("SELECT 1 FROM pupils LIMIT 1") is None
            self._bulk_started_at = utc_now()
            self._bulk_writer = writer
            try:
                yield
                self._settle_bulk_writes()
                self._pending.flush(self._connection)
                self._save_bulk_sequences()
                rebuild_search_index(self._connection)
                self._connection.execute("DELETE FROM settings WHERE key = 'search_suspended'")
            finally:
                self._bulk_writer = None
                if self._bulk_batch_written is not None:  # an error left it running: wait, ignore
                    wait([self._bulk_batch_written])
                    self._bulk_batch_written = None
                self._audit_each_row = True
                self._pending = None
                self._bulk_started_at = None
                self._pupils_in_bulk.clear()
                self._no_pupils_before_bulk = False
                self._bulk_sequences.clear()
            self._audit("import", "*", "*", None, {"resume": summary})

    @contextmanager
    def large_cache(self) -> Iterator[None]:
        """A large page cache for a bulk load or an import. UUID keys land at random places in
        the indexes: with the default 2 MB cache a large load spills pages back and forth; a
        large cache keeps the load in memory until COMMIT."""
        cache_size = self._connection.execute("PRAGMA cache_size").fetchone()[0]
        self._connection.execute(f"PRAGMA cache_size = {BULK_CACHE_SIZE}")
        try:
            yield
        finally:
            self._connection.execute(f"PRAGMA cache_size = {cache_size}")

    def _now(self) -> str:
        """The UTC timestamp for created_at / updated_at: the clock, or during a bulk load the
        moment it started (one load, one time, and no clock read per row)."""
        return self._bulk_started_at or utc_now()

    def _audit(self, action: str, table: str, row_id: str, before: dict | None, after: dict | None) -> None:
        audit.append(self._connection, at=self._now(), actor=self.actor, action=action, table=table,
                     row_id=row_id, before=before, after=after)

    def _insert(self, table: str, row: dict[str, Any], audited: dict[str, Any] | None = None) -> None:
        """Insert a row and log it (`audited`: what the log keeps, when more than the row)."""
        if self._pending is not None:
            self._hold(table, row)
            return
        self._connection.execute(insert_statement(table, list(row)), tuple(row.values()))
        if self._audit_each_row:
            self._audit("ajout", table, row["id"], None, audited or row)

    def _insert_rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert the rows of a child table (levels, motifs...), logged with their parent."""
        if self._pending is not None:
            for row in rows:
                self._hold(table, row)
            return
        if rows:
            self._connection.executemany(insert_statement(table, list(rows[0])),
                                         [tuple(row.values()) for row in rows])

    def _hold(self, table: str, row: dict[str, Any]) -> None:
        self._pending.add(table, row)
        if self._pending.count >= FLUSH_EVERY:
            self._write_held_rows_in_background()

    def _write_held_rows_in_background(self) -> None:
        """Hand the rows held so far to the bulk load's writer thread and go on: SQLite works
        without Python's lock, so on two cores the next rows are made while these are written.
        One batch at a time, in order; nothing else touches the connection meanwhile (`_one`,
        `_all` and the end of the load wait for it)."""
        self._settle_bulk_writes()
        batch, self._pending = self._pending, PendingRows()
        self._bulk_batch_written = self._bulk_writer.submit(batch.flush, self._connection)

    def _settle_bulk_writes(self) -> None:
        """Wait for the batch being written, if any; its error is raised here."""
        if self._bulk_batch_written is not None:
            written, self._bulk_batch_written = self._bulk_batch_written, None
            try:
                written.result()
            except sqlite3.Error as error:
                raise translate_sqlite_error(error) from None

    def _update(self, table: str, row_id: str, changes: dict[str, Any]) -> None:
        before = self._connection.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if before is None:
            raise StoreError(f"Enregistrement introuvable ({table}).")
        assignments = ", ".join(f"{column} = ?" for column in changes)
        self._connection.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*changes.values(), row_id))
        after = self._connection.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        if self._audit_each_row:
            self._audit("modification", table, row_id, dict(before), dict(after))

    def _one(self, sql: str, parameters: tuple | dict = ()) -> sqlite3.Row | None:
        self._settle_bulk_writes()
        try:
            return self._connection.execute(sql, parameters).fetchone()
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None

    def _all(self, sql: str, parameters: tuple | dict = ()) -> list[sqlite3.Row]:
        self._settle_bulk_writes()
        try:
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None

    # -- settings -------------------------------------------------------------------------

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        row = self._one("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.transaction():
            before = self.get_setting(key)
            self._connection.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
            if self._audit_each_row:
                self._audit("reglage", "settings", key,
                            None if before is None else {"value": before}, {"value": value})

    def settings(self) -> Settings:
        """The settings of the base (defaults for those never set)."""
        return Settings.from_stored({row["key"]: row["value"] for row in self._all("SELECT key, value FROM settings")})

    def save_settings(self, settings: Settings) -> Settings:
        """Write the settings that changed, in one transaction, each audited."""
        defaults = self.settings().stored()
        with self.transaction():
            for key, value in settings.stored().items():
                stored = self.get_setting(key)
                if stored == value or (stored is None and value == defaults[key]):
                    continue  # unchanged, or a default never set that stays so
                if value is None:
                    self._remove_setting(key)
                else:
                    self.set_setting(key, value)
        return settings

    def _remove_setting(self, key: str) -> None:
        before = self.get_setting(key)
        if before is None:
            return
        self._connection.execute("DELETE FROM settings WHERE key = ?", (key,))
        self._audit("reglage", "settings", key, {"value": before}, None)

    # -- schools and members --------------------------------------------------------------

    def add_school(self, school: School) -> School:
        now = self._now()
        with self.transaction():
            self._insert("schools", {**_model_row(school), "created_at": now, "updated_at": now})
        return school

    def update_school(self, school: School) -> School:
        with self.transaction():
            self._update("schools", school.id, {**_model_row(school, {"id"}), "updated_at": self._now()})
        return school

    def get_school(self, school_id: str) -> School | None:
        row = self._one("SELECT * FROM schools WHERE id = ?", (school_id,))
        return _from_row(School, row) if row else None

    def list_schools(self, *, active_only: bool = False) -> list[School]:
        where = "WHERE active = 1" if active_only else ""
        return [_from_row(School, row) for row in self._all(f"SELECT * FROM schools {where} ORDER BY name")]

    def add_member(self, member: Member) -> Member:
        now = self._now()
        with self.transaction():
            self._insert("members", {**_model_row(member), "created_at": now, "updated_at": now})
        return member

    def update_member(self, member: Member) -> Member:
        with self.transaction():
            self._update("members", member.id, {**_model_row(member, {"id"}), "updated_at": self._now()})
        return member

    def get_member(self, member_id: str) -> Member | None:
        row = self._one("SELECT * FROM members WHERE id = ?", (member_id,))
        return _from_row(Member, row) if row else None

    def list_members(self) -> list[Member]:
        return [_from_row(Member, row) for row in self._all("SELECT * FROM members ORDER BY last_name, first_name")]

    # -- pupils and cases -----------------------------------------------------------------

    def _ensure_pupil(self, pupil: Pupil) -> None:
        """Add the pupil of a new case unless already known (an earlier case, or held back
        in this bulk load)."""
        if pupil.id in self._pupils_in_bulk:
            return
        if not self._no_pupils_before_bulk and self._one("SELECT 1 FROM pupils WHERE id = ?", (pupil.id,)):
            return
        if self._pending is not None:
            self._pupils_in_bulk.add(pupil.id)
        now = self._now()
        self._insert("pupils", {**_model_row(pupil), "name_key": pupil.name_key,
                                "created_at": now, "updated_at": now})

    def get_pupil(self, pupil_id: str) -> Pupil | None:
        row = self._one("SELECT id, last_name, first_name, birth_date FROM pupils WHERE id = ?", (pupil_id,))
        return Pupil.model_validate(dict(row), context=STORED) if row else None

    def find_pupils(self, last_name: str, first_name: str) -> list[Pupil]:
        """Pupils with this name, whatever the case and accents (homonyms included)."""
        rows = self._all(
            "SELECT id, last_name, first_name, birth_date FROM pupils WHERE name_key = ? ORDER BY birth_date",
            (fold(f"{last_name} {first_name}"),))
        return [Pupil.model_validate(dict(row), context=STORED) for row in rows]

    def _next_sequence(self, school_year: str) -> int:
        if self._pending is not None:
            return self._next_sequence_in_bulk(school_year)
        self._connection.execute(
            "INSERT INTO case_counters (school_year, last_sequence) VALUES (?, 1)"
            " ON CONFLICT (school_year) DO UPDATE SET last_sequence = last_sequence + 1", (school_year,))
        return self._connection.execute(
            "SELECT last_sequence FROM case_counters WHERE school_year = ?", (school_year,)).fetchone()[0]

    def _next_sequence_in_bulk(self, school_year: str) -> int:
        """The counters of a bulk load are kept here and written once at its end
        (`_save_bulk_sequences`): two statements per case fewer."""
        last = self._bulk_sequences.get(school_year)
        if last is None:
            row = self._one("SELECT last_sequence FROM case_counters WHERE school_year = ?", (school_year,))
            last = row[0] if row else 0
        self._bulk_sequences[school_year] = last + 1
        return last + 1

    def _save_bulk_sequences(self) -> None:
        self._connection.executemany(
            "INSERT INTO case_counters (school_year, last_sequence) VALUES (?, ?)"
            " ON CONFLICT (school_year) DO UPDATE SET last_sequence = excluded.last_sequence",
            self._bulk_sequences.items())

    def add_case(self, case: Case) -> Case:
        """Save a new request; gives it its number 'AAAA-NNNN' in the school year of its date."""
        with self.transaction():
            if case.pupil is not None:
                self._ensure_pupil(case.pupil)
            school_year = school_year_of(case.date_sent)
            sequence = self._next_sequence(school_year)
            numbered = case.model_copy(update={
                "school_year": school_year, "sequence": sequence,
                "number": case_number(school_year, sequence)})
            now = self._now()
            row = {**_model_row(numbered, {"pupil", "levels", "motifs", "prior_actions"}),
                   "pupil_id": case.pupil.id if case.pupil else None, "created_at": now, "updated_at": now}
            full = _audit_view(numbered, pupil_id=row["pupil_id"]) if self._audit_each_row else None
            self._insert("cases", row, audited=full)
            self._write_case_children(numbered)
        return numbered

    def update_case(self, case: Case) -> Case:
        """Save an edited request. Its number stays (even if its date moves to another
        year: a number is never reused or changed); its pupil's identity may be corrected."""
        with self.transaction():
            before = self.get_case(case.id)
            if before is None:
                raise StoreError("Dossier introuvable.")
            self.refuse_if_purged(case.id)
            kept = case.model_copy(update={"number": before.number, "school_year": before.school_year,
                                           "sequence": before.sequence})
            if kept.pupil is not None:
                self._save_pupil(kept.pupil)
            columns = _model_row(kept, {"id", "number", "school_year", "sequence", "pupil", "levels",
                                        "motifs", "prior_actions"})
            self._connection.execute(
                f"UPDATE cases SET {', '.join(f'{column} = ?' for column in columns)}, pupil_id = ?,"
                " updated_at = ? WHERE id = ?",
                (*columns.values(), kept.pupil.id if kept.pupil else None, self._now(), kept.id))
            for table in ("case_levels", "case_motifs", "case_prior_actions"):
                self._connection.execute(f"DELETE FROM {table} WHERE case_id = ?", (kept.id,))
            self._write_case_children(kept)
            self._audit("modification", "cases", kept.id, _audit_view(before), _audit_view(kept))
        return kept

    def _save_pupil(self, pupil: Pupil) -> None:
        """Add a pupil, or correct the name or birth date of a known one."""
        known = self.get_pupil(pupil.id)
        if known is None:
            self._ensure_pupil(pupil)
        elif known != pupil:
            self._update("pupils", pupil.id, {**_model_row(pupil, {"id"}), "name_key": pupil.name_key,
                                              "updated_at": self._now()})

    def _write_case_children(self, case: Case) -> None:
        self._insert_rows("case_levels", [{"case_id": case.id, "level": level.value} for level in case.levels])
        self._insert_rows("case_motifs", [{"case_id": case.id, "motif": motif.value, "rank": rank}
                                          for rank, motif in enumerate(case.motifs, start=1)])
        self._insert_rows("case_prior_actions", [{"case_id": case.id, "action": item.action.value,
                                                  "detail": item.detail} for item in case.prior_actions])

    def get_case(self, case_id: str) -> Case | None:
        row = self._one("SELECT * FROM cases WHERE id = ?", (case_id,))
        return self._case(row) if row else None

    def get_case_by_number(self, number: str) -> Case | None:
        row = self._one("SELECT * FROM cases WHERE number = ?", (number,))
        return self._case(row) if row else None

    def _case(self, row: sqlite3.Row) -> Case:
        data = dict(row)
        case_id = data["id"]
        pupil_id = data.pop("pupil_id")
        for column in STAMPS:
            data.pop(column)
        data["pupil"] = self.get_pupil(pupil_id) if pupil_id else None
        data["levels"] = [r[0] for r in self._all("SELECT level FROM case_levels WHERE case_id = ?", (case_id,))]
        data["motifs"] = [r[0] for r in self._all(
            "SELECT motif FROM case_motifs WHERE case_id = ? ORDER BY rank", (case_id,))]
        data["prior_actions"] = [PriorActionItem(action=r[0], detail=r[1]) for r in self._all(
            "SELECT action, detail FROM case_prior_actions WHERE case_id = ? ORDER BY action", (case_id,))]
        return Case.model_validate(data, context=STORED)

    def cases_of_pupil(self, pupil_id: str) -> list[Case]:
        rows = self._all("SELECT * FROM cases WHERE pupil_id = ? ORDER BY date_sent", (pupil_id,))
        return [self._case(row) for row in rows]

    def case_status(self, case_id: str) -> CaseStatus:
        row = self._one("SELECT status FROM case_status WHERE case_id = ?", (case_id,))
        if row is None:
            raise StoreError("Dossier introuvable.")
        return CaseStatus(row["status"])

    def search_case_ids(self, words: str, limit: int = 200) -> list[str]:
        """Cases whose names, number or texts contain words starting with the ones typed,
        insensitive to case and accents."""
        terms = search_words(words)
        if not terms:
            return []
        query = fts_query(terms)
        rows = self._all(
            "SELECT k.case_id FROM case_search s JOIN case_search_key k ON k.key = s.rowid"
            " WHERE case_search MATCH ? ORDER BY rank LIMIT ?", (query, limit))
        return [row[0] for row in rows]

    # -- the list of cases (count and pages: store/case_list.py) -------------------------

    def school_years(self) -> list[str]:
        """The school years that hold cases, newest first."""
        # the view case_years written out, each half read from its index (through the view,
        # every case and every carry-over is read); a step carries over exactly when it has a year
        return [row[0] for row in self._all(
            "SELECT school_year FROM cases UNION SELECT to_school_year FROM timeline_entries"
            " WHERE to_school_year IS NOT NULL ORDER BY 1 DESC")]

    # -- timeline -------------------------------------------------------------------------

    def add_entry(self, entry: TimelineEntry) -> TimelineEntry:
        """Add a step to a case's timeline. Refused: any step on a closed case but its
        reopening, reopening an open case, a carry-over into another year than the next one
        (domain/timeline.py), and a step dated before the request (schema.sql). A bulk load
        (demo, import) records history as it stands and skips the order rules."""
        stamped = entry if entry.created_at else entry.model_copy(update={"created_at": self._now()})
        if self._pending is not None:
            self._hold_entry(stamped)
            return stamped
        with self.transaction():
            self._check_order(stamped)
            self._check_confidential(stamped)
            full = _audit_view(stamped) if self._audit_each_row else None
            self._insert("timeline_entries", _model_row(stamped, ENTRY_LIST_FIELDS), audited=full)
            self._write_entry_lists(stamped)
        return stamped

    def _hold_entry(self, entry: TimelineEntry) -> None:
        """An entry of a bulk load, held back with its lists: no transaction to open (the load
        is one), no order rule, no audit row of its own."""
        pending = self._pending
        pending.add("timeline_entries", _model_row(entry, ENTRY_LIST_FIELDS))
        for field_name, (table, column) in ENTRY_LISTS.items():
            for value in dict.fromkeys(getattr(entry, field_name)):
                pending.add(table, {"entry_id": entry.id, column: value})
        if pending.count >= FLUSH_EVERY:
            self._write_held_rows_in_background()

    def _write_entry_lists(self, entry: TimelineEntry) -> None:
        """The members named in a step and the aids an analysis called for."""
        for field_name, (table, column) in ENTRY_LISTS.items():
            self._insert_rows(table, [{"entry_id": entry.id, column: value}
                                      for value in dict.fromkeys(getattr(entry, field_name))])

    def _entry_lists(self, where: str, parameters: tuple) -> dict[str, dict[str, list[str]]]:
        """For the entries `where` selects (an SQL condition on `e`): entry id -> field -> values."""
        lists: dict[str, dict[str, list[str]]] = {}
        for field_name, (table, column) in ENTRY_LISTS.items():
            for entry_id, value in self._all(
                    f"SELECT x.entry_id, x.{column} FROM {table} x JOIN timeline_entries e ON e.id = x.entry_id"
                    f" WHERE {where}", parameters):
                lists.setdefault(entry_id, {}).setdefault(field_name, []).append(value)
        return lists

    def _check_confidential(self, entry: TimelineEntry) -> None:
        """A confidential entry is a psychologist's own note (DOMAIN.md, « qui voit quoi »)."""
        if not entry.confidential:
            return
        author = self.get_member(entry.author_member_id) if entry.author_member_id else None
        if author is None or author.role is not Role.PSYCHOLOGUE:
            raise StoreError(CONFIDENTIAL_AUTHOR_MESSAGE)

    def _check_order(self, entry: TimelineEntry) -> None:
        problem = timeline_rules.refusal(timeline_rules.step_of(entry), self.case_status(entry.case_id)) or \
            timeline_rules.turn_date_problem(entry.date, self.list_entries(entry.case_id, include_confidential=True))
        if problem:
            raise StoreError(problem)
        if entry.kind is EntryKind.REPORT:
            expected = timeline_rules.carry_over_year(self.case_years(entry.case_id))
            if entry.to_school_year != expected:
                raise StoreError(f"Un dossier se reporte sur l'année qui suit sa dernière année : {expected}.")

    def get_entry(self, entry_id: str) -> TimelineEntry | None:
        row = self._one("SELECT * FROM timeline_entries WHERE id = ?", (entry_id,))
        if row is None:
            return None
        return _entry_from_row(row, self._entry_lists("e.id = ?", (entry_id,)).get(entry_id, {}))

    def update_entry(self, entry: TimelineEntry) -> TimelineEntry:
        """Save a corrected step (its kind and its case stay); the audit log keeps both."""
        with self.transaction():
            before = self.get_entry(entry.id)
            if before is None:
                raise StoreError("Cette étape n'existe plus.")
            self.refuse_if_purged(before.case_id)
            kept = entry.model_copy(update={"case_id": before.case_id, "kind": before.kind,
                                            "created_at": before.created_at})
            self._check_confidential(kept)
            columns = {**_model_row(kept, {"id", "case_id", "kind", "created_at", *ENTRY_LISTS}),
                       "updated_at": self._now()}
            self._connection.execute(
                f"UPDATE timeline_entries SET {', '.join(f'{column} = ?' for column in columns)} WHERE id = ?",
                (*columns.values(), kept.id))
            for table, _column in ENTRY_LISTS.values():
                self._connection.execute(f"DELETE FROM {table} WHERE entry_id = ?", (kept.id,))
            self._write_entry_lists(kept)
            self._audit("modification", "timeline_entries", kept.id, _audit_view(before), _audit_view(kept))
        return kept

    def delete_entry(self, entry_id: str) -> None:
        """Remove a step. The step that opened an aid takes the aid and its evaluations with it.
        Every removed record stays readable in the audit log."""
        with self.transaction():
            entry = self.get_entry(entry_id)
            if entry is None:
                raise StoreError("Cette étape n'existe plus.")
            self._connection.execute("DELETE FROM timeline_entries WHERE id = ?", (entry_id,))
            self._audit("suppression", "timeline_entries", entry_id, _audit_view(entry), None)
            if entry.sub_kind == SecondResponse.AIDE_SPECIALISEE.value and entry.aid_id:
                self._delete_aid(entry.aid_id)

    def _delete_aid(self, aid_id: str) -> None:
        aid = self.get_aid(aid_id)
        if aid is None:
            return
        for evaluation in self.list_evaluations(aid_id):
            self._delete_evaluation(evaluation, aid.case_id)
        self._connection.execute("DELETE FROM aids WHERE id = ?", (aid_id,))
        self._audit("suppression", "aids", aid_id, _audit_view(aid), None)

    def case_years(self, case_id: str) -> list[str]:
        """The school years a case shows in: its own and each it was carried into."""
        # the view case_years written out (through the view SQLite reads both halves whole);
        # `+kind`: the case's own steps are read, not every carry-over of the base by kind
        return [row[0] for row in self._all(
            "SELECT school_year FROM cases WHERE id = ?"
            " UNION SELECT to_school_year FROM timeline_entries WHERE case_id = ? AND +kind = 'report' ORDER BY 1",
            (case_id, case_id))]

    def close_case(self, entry: TimelineEntry, *, end_date_of_aids: bool = True) -> TimelineEntry:
        """Close a case: the closure entry, and its aids still running end on that day."""
        if entry.kind is not EntryKind.CLOTURE:
            raise StoreError("Une clôture est attendue.")
        reason = timeline_rules.aid_end_reason_at_closure(ClosureOutcome(entry.sub_kind))
        with self.transaction():
            saved = self.add_entry(entry)
            if end_date_of_aids:
                for aid in self.list_aids(entry.case_id):
                    if not aid.is_open:
                        continue
                    if aid.consent_status is ConsentStatus.DONNE:
                        self.end_aid(aid.id, max(entry.date, aid.start_date), reason,
                                     "Fin de l'aide à la clôture du dossier.")
                    else:  # proposed, never started: no outcome to give it
                        self.end_aid(aid.id, max(entry.date, aid.start_date), AidEndReason.AUTRE,
                                     "Aide proposée, jamais commencée (accord de la famille non donné) : "
                                     "dossier clôturé.")
        return saved

    def list_entries(self, case_id: str, *, include_confidential: bool) -> list[TimelineEntry]:
        """A case's timeline, oldest first. Confidential entries (the psychologist's notes)
        only when asked in so many words: the caller must say which it wants."""
        hidden = "" if include_confidential else "AND confidential = 0"
        rows = self._all(
            f"SELECT * FROM timeline_entries WHERE case_id = ? {hidden} ORDER BY date, created_at, id",
            (case_id,))
        lists = self._entry_lists("e.case_id = ?", (case_id,))
        return [_entry_from_row(row, lists.get(row["id"], {})) for row in rows]

    def count_confidential_entries(self, case_id: str) -> int:
        """How many confidential notes a case holds (what a read-only review says it hides)."""
        return self._one("SELECT count(*) FROM timeline_entries WHERE case_id = ? AND confidential = 1",
                         (case_id,))[0]

    # -- aids and evaluations ---------------------------------------------------------------

    def add_aid(self, aid: Aid) -> Aid:
        """Open a specialised aid; schema.sql checks that its giver's role matches its kind."""
        now = self._now()
        with self.transaction():
            self._insert("aids", {**_model_row(aid), "created_at": now, "updated_at": now})
        return aid

    def update_aid(self, aid: Aid) -> Aid:
        with self.transaction():
            self.refuse_if_purged(aid.case_id)
            self._update("aids", aid.id, {**_model_row(aid, {"id"}), "updated_at": self._now()})
        return aid

    def open_aid(self, aid: Aid, entry: TimelineEntry) -> tuple[Aid, TimelineEntry]:
        """A specialised aid and the second-intention step that opens it, in one transaction."""
        linked = entry.model_copy(update={"aid_id": aid.id, "case_id": aid.case_id})
        with self.transaction():
            self._check_order(linked)  # before the aid: nothing opens on a closed case
            saved_aid = self.add_aid(aid)
            saved_entry = self.add_entry(linked)
        return saved_aid, saved_entry

    def update_aid_and_entry(self, aid: Aid, entry: TimelineEntry) -> tuple[Aid, TimelineEntry]:
        """A corrected aid and its opening step, in one transaction."""
        with self.transaction():
            return self.update_aid(aid), self.update_entry(entry.model_copy(update={"aid_id": aid.id}))

    def end_aid(self, aid_id: str, end_date: date, reason: AidEndReason, note: str = "") -> Aid:
        """End an aid on a date, for a reason (a withdrawn consent is dated that day)."""
        with self.transaction():
            aid = self.get_aid(aid_id)
            if aid is None:
                raise StoreError("Cette aide n'existe plus.")
            evaluated = [evaluation.date for evaluation in self.list_evaluations(aid_id)]
            if evaluated and end_date < max(evaluated):
                raise StoreError("L'aide ne peut finir avant sa dernière évaluation "
                                 f"({format_french_date(max(evaluated))}).")
            changes: dict[str, Any] = {"end_date": end_date, "end_reason": reason, "end_note": note}
            if reason is AidEndReason.RETRAIT_CONSENTEMENT:
                changes["consent_withdrawn_on"] = end_date
            try:
                ended = Aid.model_validate({**aid.model_dump(), **changes})
            except ValidationError as error:
                raise StoreError(" ".join(french_messages(error, Aid))) from None
            return self.update_aid(ended)

    def get_aid(self, aid_id: str) -> Aid | None:
        row = self._one("SELECT * FROM aids WHERE id = ?", (aid_id,))
        return _from_row(Aid, row) if row else None

    def list_aids(self, case_id: str) -> list[Aid]:
        return [_from_row(Aid, row) for row in self._all(
            "SELECT * FROM aids WHERE case_id = ? ORDER BY start_date", (case_id,))]

    def open_aids_of_member(self, member_id: str) -> list[Aid]:
        return [_from_row(Aid, row) for row in self._all(
            "SELECT * FROM aids WHERE member_id = ? AND end_date IS NULL ORDER BY start_date", (member_id,))]

    def add_evaluation(self, evaluation: AidEvaluation) -> AidEvaluation:
        """Record an evaluation of an aid: once it started with the family's agreement, within
        its dates (domain/timeline.py). A bulk load records history as it stands."""
        with self.transaction():
            aid = self.get_aid(evaluation.aid_id) if self._pending is None else None
            if aid is not None:
                self._check_evaluation(aid, evaluation)
            row = {**_model_row(evaluation), "created_at": self._now()}
            self._insert("aid_evaluations", row, audited={**row, "case_id": aid.case_id} if aid else None)
        return evaluation

    def _check_evaluation(self, aid: Aid, evaluation: AidEvaluation) -> None:
        problem = timeline_rules.evaluation_problem(aid, evaluation.date) or \
            timeline_rules.evaluation_order_problem(evaluation, self.list_evaluations(aid.id))
        if problem:
            raise StoreError(problem)
        if not self.case_status(aid.case_id).is_open:
            raise StoreError(timeline_rules.CLOSED_MESSAGE)

    def get_evaluation(self, evaluation_id: str) -> AidEvaluation | None:
        row = self._one("SELECT id, aid_id, date, phase, observations, score FROM aid_evaluations WHERE id = ?",
                        (evaluation_id,))
        return AidEvaluation.model_validate(dict(row), context=STORED) if row else None

    def update_evaluation(self, evaluation: AidEvaluation) -> AidEvaluation:
        with self.transaction():
            before = self.get_evaluation(evaluation.id)
            if before is None:
                raise StoreError("Cette évaluation n'existe plus.")
            aid = self.get_aid(before.aid_id)
            self.refuse_if_purged(aid.case_id)
            kept = evaluation.model_copy(update={"aid_id": before.aid_id})
            problem = timeline_rules.evaluation_problem(aid, kept.date) or \
                timeline_rules.evaluation_order_problem(kept, self.list_evaluations(aid.id))
            if problem:
                raise StoreError(problem)
            columns = {**_model_row(kept, {"id", "aid_id"}), "updated_at": self._now()}
            self._connection.execute(
                f"UPDATE aid_evaluations SET {', '.join(f'{column} = ?' for column in columns)} WHERE id = ?",
                (*columns.values(), kept.id))
            self._audit("modification", "aid_evaluations", kept.id, _audit_view(before, case_id=aid.case_id),
                        _audit_view(kept, case_id=aid.case_id))
        return kept

    def delete_evaluation(self, evaluation_id: str) -> None:
        with self.transaction():
            evaluation = self.get_evaluation(evaluation_id)
            if evaluation is None:
                raise StoreError("Cette évaluation n'existe plus.")
            self._delete_evaluation(evaluation, self.get_aid(evaluation.aid_id).case_id)

    def _delete_evaluation(self, evaluation: AidEvaluation, case_id: str) -> None:
        self._connection.execute("DELETE FROM aid_evaluations WHERE id = ?", (evaluation.id,))
        self._audit("suppression", "aid_evaluations", evaluation.id, _audit_view(evaluation, case_id=case_id), None)

    def recording_times(self, case_id: str) -> dict[str, str]:
        """When each evaluation of a case was recorded and each ended aid was last changed
        (UTC), by id: lines of the same day are shown in the order they were entered."""
        rows = self._all(
            "SELECT v.id, v.created_at FROM aid_evaluations v JOIN aids a ON a.id = v.aid_id WHERE a.case_id = ?"
            " UNION ALL SELECT id, updated_at FROM aids WHERE case_id = ? AND end_date IS NOT NULL",
            (case_id, case_id))
        return {row[0]: row[1] for row in rows}

    def case_evaluations(self, case_id: str) -> dict[str, list[AidEvaluation]]:
        """The evaluations of each aid of a case, oldest first, by aid id."""
        rows = self._all(
            "SELECT v.id, v.aid_id, v.date, v.phase, v.observations, v.score FROM aid_evaluations v"
            " JOIN aids a ON a.id = v.aid_id WHERE a.case_id = ? ORDER BY v.date, v.created_at", (case_id,))
        evaluations: dict[str, list[AidEvaluation]] = {}
        for row in rows:
            evaluations.setdefault(row["aid_id"], []).append(AidEvaluation.model_validate(dict(row), context=STORED))
        return evaluations

    def list_evaluations(self, aid_id: str) -> list[AidEvaluation]:
        rows = self._all("SELECT id, aid_id, date, phase, observations, score FROM aid_evaluations"
                         " WHERE aid_id = ? ORDER BY date", (aid_id,))
        return [AidEvaluation.model_validate(dict(row), context=STORED) for row in rows]

    # -- the journal of a case ---------------------------------------------------------------

    def case_journal(self, case_id: str, *, include_confidential: bool) -> list[JournalLine]:
        """Who added, changed or removed what in a case, and when (from the audit log). The
        lines about confidential notes only when asked in so many words, as for the timeline."""
        try:
            lines = case_journal(self._connection, case_id)
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None
        return lines if include_confidential else [line for line in lines if not line.about_confidential]

    # -- shared actions (formation ciblée) --------------------------------------------------

    def shared_actions(self, action_ids: Collection[str] | None = None) -> list[SharedAction]:
        """The actions de formation ciblée (all, or those of `action_ids`: a case's own), newest
        first, with the cases each one serves."""
        # the text of the earliest entry whose case was not purged (store/retention.py)
        chosen = "" if action_ids is None else "AND e.action_id IN (SELECT value FROM json_each(:chosen))"
        rows = self._all(
            f"""SELECT e.action_id, min(e.date) AS first_date,
                      (SELECT f.text FROM timeline_entries f WHERE f.action_id = e.action_id
                        ORDER BY f.text = :purged, f.date, f.created_at LIMIT 1) AS text,
                      group_concat(DISTINCT c.number) AS numbers,
                      count(DISTINCT c.school_id) AS schools
                 FROM timeline_entries e JOIN cases c ON c.id = e.case_id
                WHERE e.action_id IS NOT NULL {chosen} GROUP BY e.action_id ORDER BY first_date DESC""",
            {"purged": PURGED_TEXT, "chosen": json.dumps(list(action_ids or ()))})
        return [SharedAction(row["action_id"], date.fromisoformat(row["first_date"]), row["text"] or "",
                             sorted(row["numbers"].split(",")), row["schools"]) for row in rows]

    # -- warnings -------------------------------------------------------------------------

    def urgent_waiting_count(self, school_year: str) -> int:
        """Urgent requests of a school year not analysed yet (received, or reopened)."""
        return self._one(
            "SELECT count(*) FROM cases c WHERE c.urgent = 1"
            " AND (c.school_year = ? OR c.id IN (SELECT case_id FROM timeline_entries WHERE to_school_year = ?))"
            " AND (SELECT status FROM case_status WHERE case_id = c.id) IN ('recue', 'rouverte')",
            (school_year, school_year))[0]

    # -- checks and copies ------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {table: self._one(f"SELECT count(*) FROM {table}")[0] for table in DATA_TABLES}

    def base_version(self) -> tuple[int, int]:
        """Changes whenever the base may have changed (a commit by another connection, a write
        by this one): what was read at an equal version needs no reading again."""
        return self._one("PRAGMA data_version")[0], self._connection.total_changes

    def verify_audit(self) -> audit.ChainReport:
        """The audit chain, and a log that cannot be empty while records exist (wiped by hand,
        counter reset included)."""
        try:
            report = audit.verify(self._connection)
            records = self._connection.execute(
                "SELECT EXISTS (SELECT 1 FROM schools) OR EXISTS (SELECT 1 FROM members)"
                " OR EXISTS (SELECT 1 FROM cases)").fetchone()[0]
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None
        if report.intact and report.rows == 0 and records:
            return audit.ChainReport(0, False, "journal d'audit vide alors que la base contient des données (effacé ?)")
        return report

    def check(self) -> IntegrityReport:
        """Integrity of the file, foreign keys, the audit chain, and the number of records."""
        integrity = "; ".join(row[0] for row in self._all("PRAGMA integrity_check"))
        foreign_key_errors = len(self._all("PRAGMA foreign_key_check"))
        version = self._one("PRAGMA user_version")[0]
        missing = missing_schema_objects(self._connection) if version == SCHEMA_VERSION else []
        if missing:  # an index or a trigger of schema.sql dropped (the file opens without its tables)
            problem = f"manque au schéma : {describe_objects(missing)}"
            integrity = problem if integrity == "ok" else f"{integrity}; {problem}"
        return IntegrityReport(version, integrity, foreign_key_errors, self.verify_audit(), self.counts())

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the whole database at `target` (a new file, owner-only),
        even while another program writes to it."""
        target = Path(target)
        if target.is_dir():
            raise StoreError(f"{target} est un dossier : donnez le nom du fichier de sauvegarde à créer.")
        try:
            make_private_directory(target.parent)
            create_private_file(target)
        except FileExistsError:
            raise StoreError(f"{target} existe déjà : choisissez un autre nom de fichier.") from None
        except OSError as error:
            raise StoreError(f"Impossible d'écrire la sauvegarde {target} : {os_reason(error)}.") from None
        try:
            copy = sqlite3.connect(target)
            try:
                self._connection.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")  # a lone file, whatever its folder
            finally:
                copy.close()
        except (OSError, sqlite3.Error) as error:
            target.unlink(missing_ok=True)  # ours: created above
            if isinstance(error, sqlite3.Error):
                raise translate_sqlite_error(error) from None
            raise StoreError(f"Impossible d'écrire la sauvegarde {target} : {os_reason(error)}.") from None

    @property
    def connection(self) -> sqlite3.Connection:
        """The raw connection, for the bulk streams of exchange/ (export, statistics)."""
        return self._connection


STAMPS = ("created_at", "updated_at")  # kept by the database, not part of the models


def _entry_from_row(row: sqlite3.Row, lists: dict[str, list[str]]) -> TimelineEntry:
    """A timeline entry from its row (updated_at is the database's, not the model's)."""
    data = {key: row[key] for key in row.keys() if key != "updated_at"}
    return TimelineEntry.model_validate({**data, **lists}, context=STORED)


def _from_row(model: type[ModelT], row: sqlite3.Row) -> ModelT:
    """A stored record as its model (validated as stored: no rule about "today")."""
    return model.model_validate({key: row[key] for key in row.keys() if key not in STAMPS}, context=STORED)

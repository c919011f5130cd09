"""Merging an imported bundle into the database, in one transaction (a mixin of `Store`).

Records are matched by their UUID. For each record of the bundle:
- unknown here: added (with its lists: levels, motifs, members of a step...);
- the same content, or the same version (`updated_at`; a pseudonymised bundle differs from the
  nominative original only by what it hides): skipped;
- changed in the bundle and not here since the last import took it (`merged_versions`): the
  newer version replaces this one;
- changed on both sides: a conflict, listed and left as it is here, unless `prefer_newer`,
  which takes the newer of the two.
A school with the same UAI, a member with the same name and role, a période of the same year
and number, the ordinary meeting of the same période are recognised as the ones already here,
not duplicated: the references of the bundle follow them. A case whose number is taken here
gets a new one (the old one and the site, '2026-0042-NORD'). Every row that breaks a rule of
schema.sql stops the merge with the file and line it came from: then nothing is written. The
tables come as their files are read; after a refusal the files are still read to their end, so
that a problem found in a file is told first, as if the bundle had been checked before.

A table still empty here (a new base, the review of a bundle in memory) has nothing to match,
compare or recognise: its records are all added, in batches (one `executemany` per table and
batch) rather than one statement each — the same rows, lists, versions and numbers.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from rased_tui.domain.models import PSEUDONYMOUS_FIRST_NAME, fold
from rased_tui.store.bulk import insert_statement
from rased_tui.store.errors import StoreError, translate_sqlite_error
from rased_tui.store.migrations import rebuild_search_index
from rased_tui.store.retention import identity_expired

STAMPS = ("created_at", "updated_at")
FULL_SEARCH_REBUILD_ABOVE = 2000  # cases touched: past this, rebuilding the whole index is faster
BATCH_ROWS = 5000  # records of a table written together when the table was empty
LOAD_EMPTY_TABLES_IN_BATCHES = True  # off: every record through the general path (tests compare both)
RECOGNISABLE = ("schools", "members", "periods", "meetings")  # may be recognised under another id


@dataclass
class IncomingRow:
    """One record of the bundle: its columns, its lists, and where it was read."""

    file: str
    line: int
    values: dict[str, Any]
    lists: dict[str, list] = field(default_factory=dict)


@dataclass
class IncomingTable:
    """The records of one file of a bundle, for one table, in chunks as the file is read: a
    tuple of values per record (its lists included) in the order of `fields`, and the line each
    was read on. Reading the chunks may raise (a problem found further in the file)."""

    table: str
    file: str
    fields: tuple[str, ...]
    chunks: Iterable[tuple[list[tuple], list[int]]]
    # lists read from another file: list name -> record id -> items (the prior actions of cases)
    extra_lists: dict[str, dict[str, list]] = field(default_factory=dict)

    def records(self, rows: list[tuple], lines: list[int]) -> Iterator[IncomingRow]:
        list_fields = [name for name in RULES[self.table].lists if name in self.fields]
        for values, line in zip(rows, lines):
            record = dict(zip(self.fields, values))
            lists = {name: record.pop(name) for name in list_fields}
            for name, by_id in self.extra_lists.items():
                lists[name] = by_id.get(record["id"], [])
            yield IncomingRow(self.file, line, record, lists)


@dataclass
class Conflict:
    what: str
    file: str
    line: int
    local_version: str | None
    incoming_version: str | None
    took_incoming: bool


@dataclass
class MergeReport:
    added: Counter = field(default_factory=Counter)
    updated: Counter = field(default_factory=Counter)
    unchanged: Counter = field(default_factory=Counter)
    recognised: Counter = field(default_factory=Counter)
    conflicts: list[Conflict] = field(default_factory=list)
    renumbered: list[tuple[str, str]] = field(default_factory=list)

    @property
    def changed_anything(self) -> bool:
        return bool(sum(self.added.values()) or sum(self.updated.values())
                    or any(conflict.took_incoming for conflict in self.conflicts))


class MergeRowError(StoreError):
    """A row of the bundle the database refuses; says which file and line."""


@dataclass(frozen=True)
class TableRule:
    table: str
    versioned: bool = True
    # columns an existing record keeps whatever the bundle says
    fixed: tuple[str, ...] = ()
    # the lists of a record kept in child tables (see LIST_TABLES)
    lists: tuple[str, ...] = ()


RULES = {
    "schools": TableRule("schools"),
    "members": TableRule("members"),
    "periods": TableRule("periods", versioned=False),
    "meetings": TableRule("meetings", versioned=False),
    "pupils": TableRule("pupils", fixed=("pseudonym", "name_key")),
    "cases": TableRule("cases", fixed=("number", "sequence"), lists=("levels", "motifs", "prior_actions")),
    "aids": TableRule("aids"),
    "aid_evaluations": TableRule("aid_evaluations"),
    "timeline_entries": TableRule("timeline_entries", lists=("member_ids", "aids_called")),
}
LABELS = {"schools": "école", "members": "membre", "periods": "période", "meetings": "réunion",
          "pupils": "élève", "cases": "dossier", "aids": "aide", "aid_evaluations": "évaluation",
          "timeline_entries": "étape"}


class MergeQueries:
    """`merge_bundle`: the import's writes."""

    def merge_bundle(self, incoming: Iterable[IncomingTable], *, prefer_newer: bool, masked: dict[str, set[str]],
                     scrubbed: dict[str, set[str]], site_tag: str, summary: Callable[[MergeReport], str],
                     progress: Callable[[str, int], None] | None = None) -> MergeReport:
        """Merge the bundle's tables (parents first, each read as its turn comes) in one
        transaction. For a pseudonymised bundle, `masked`: the columns of each table it leaves
        empty (never compared nor taken); `scrubbed`: its texts with names replaced, not taken
        over a case whose identity this base knows."""
        merger = _Merger(self._connection, prefer_newer=prefer_newer, masked=masked, scrubbed=scrubbed,
                         site_tag=site_tag, audit=self._audit)
        with self.large_cache(), self.transaction():
            self._connection.execute("INSERT INTO settings (key, value) VALUES ('search_suspended', '1')")
            for table in incoming:
                read = merger.merge_table(table)
                if progress:
                    progress(table.table, read)
            if merger.refusal is not None:
                raise merger.refusal
            merger.finish()
            self._connection.execute("DELETE FROM settings WHERE key = 'search_suspended'")
            _refresh_search(self._connection, merger.touched_cases)
            if merger.report.changed_anything:  # a bundle imported again leaves no trace
                self._audit("import", "*", "*", None, {"resume": summary(merger.report)})
        return merger.report


class _Merger:
    def __init__(self, connection: sqlite3.Connection, *, prefer_newer: bool, masked: dict[str, set[str]],
                 scrubbed: dict[str, set[str]], site_tag: str, audit: Callable[..., None]) -> None:
        self.db = connection
        self.prefer_newer = prefer_newer
        self.masked = masked
        self.pseudonymised = bool(masked)
        self.scrubbed = scrubbed
        self.audit = audit
        self.site_tag = site_tag
        self.report = MergeReport()
        self.same_as: dict[str, str] = {}  # bundle id -> id here, for recognised records
        self.touched_cases: set[str] = set()
        self._taken: list[tuple[str, str, str]] = []  # (table, id, version) written to merged_versions
        self._inserted: set[str] = set()  # ids this import added: never "recognised" as a twin
        self._bundle_sequences: dict[str, int] = {}
        self._numbers_added: set[str] = set()  # of a cases table empty before: what is taken now
        self._sequences_added: set[tuple[str, int]] = set()
        self.refusal: MergeRowError | None = None  # the first row refused: nothing more is written
        self._versions: dict[tuple[str, str], str] = {
            (table, row_id): version for table, row_id, version in
            connection.execute("SELECT table_name, row_id, version FROM merged_versions")}

    # -- one table ------------------------------------------------------------------------

    def merge_table(self, incoming: IncomingTable) -> int:
        """Merge one table chunk by chunk, as its file is read; the number of records read. Once
        a row is refused nothing more is written, but the files are still read to their end: a
        problem found in a file is told first, as if every file was checked before the merge."""
        rule, chunks = RULES[incoming.table], incoming.chunks
        if rule.table == "cases":  # a renumbered case goes past every sequence of the bundle: all read first
            chunks = list(chunks)
            year_index, sequence_index = incoming.fields.index("school_year"), incoming.fields.index("sequence")
            for rows, _ in chunks:
                for row in rows:
                    year, sequence = row[year_index], row[sequence_index]
                    self._bundle_sequences[year] = max(self._bundle_sequences.get(year, 0), sequence or 0)
        add, finish = self._writer(rule, incoming) if self.refusal is None else (None, None)
        read = 0
        for rows, lines in chunks:
            read += len(rows)
            if self.refusal is None:
                self._unless_refused(add, rows, lines)
        if self.refusal is None:
            self._unless_refused(finish)
        return read

    def _writer(self, rule: TableRule, incoming: IncomingTable) -> tuple[Callable[..., None], Callable[[], None]]:
        """How the chunks of a table are written (`add`), and what is done after the last one."""
        if LOAD_EMPTY_TABLES_IN_BATCHES and self.db.execute(f"SELECT 1 FROM {rule.table} LIMIT 1").fetchone() is None:
            load = _EmptyTableLoad(self, rule, incoming)
            return load.add, load.finish
        known = {row_id for (row_id,) in self.db.execute(f"SELECT id FROM {rule.table}")}

        def add(rows: list[tuple], lines: list[int]) -> None:
            for row in incoming.records(rows, lines):
                self._follow_references(rule.table, row)
                try:
                    self._merge_row(rule, row, known)
                except sqlite3.Error as error:
                    raise MergeRowError(f"{row.file}, ligne {row.line} : {translate_sqlite_error(error)}") from None

        return add, lambda: None

    def _unless_refused(self, write: Callable[..., None], *arguments: Any) -> None:
        try:
            write(*arguments)
        except MergeRowError as refusal:
            self.refusal = refusal

    def _merge_row(self, rule: TableRule, row: IncomingRow, known: set[str]) -> None:
        table, row_id = rule.table, row.values["id"]
        if row_id not in known:
            twin = self._recognised(table, row)
            if twin is not None:
                self.same_as[row_id] = twin
                self.report.recognised[table] += 1
                return
            self._insert(rule, row)
            known.add(row_id)
            if table in RECOGNISABLE:
                self._inserted.add(row_id)
            return
        local = dict(self.db.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone())
        self._check_same_parent(table, row, local)
        if table == "pupils" and (self.pseudonymised or local["birth_date"] is None):
            self._merge_pupil_identity(row, local)
            return
        compared = self._compared_columns(rule, row)
        same = all(local.get(column) == row.values.get(column) for column in compared if column not in STAMPS) \
            and self._lists_of(rule, row_id) == self._normalised_lists(rule, row.lists)
        local_version, incoming_version = _version(local), _version(row.values)
        if same or (rule.versioned and incoming_version is not None and incoming_version == local_version):
            self.report.unchanged[table] += 1
            return
        untouched_here = rule.versioned and self._versions.get((table, row_id)) == local_version
        if untouched_here:
            if incoming_version and local_version and incoming_version > local_version:
                self._update(rule, row, compared)
                self.report.updated[table] += 1
            else:
                self.report.unchanged[table] += 1  # an older version of what is here
            return
        if not rule.versioned and all(local.get(column) in ("", None) or local.get(column) == row.values.get(column)
                                      for column in compared):
            self._update(rule, row, compared)  # only blanks filled in (notes a pseudonymised bundle left out)
            self.report.updated[table] += 1
            return
        take = bool(self.prefer_newer and rule.versioned and incoming_version and local_version
                    and incoming_version > local_version)
        self.report.conflicts.append(Conflict(self._describe(table, local), row.file, row.line, local_version,
                                              incoming_version, take))
        if take:
            self._update(rule, row, compared)
            self.report.updated[table] += 1

    def _merge_pupil_identity(self, row: IncomingRow, local: dict[str, Any]) -> None:
        """A bundle without names never overwrites a pupil; a nominative one gives its
        identity to a pupil known here by a pseudonym only."""
        incoming = row.values
        same = (local["last_name"], local["first_name"], local["birth_date"]) == \
            (incoming.get("last_name"), incoming.get("first_name"), incoming.get("birth_date"))
        if self.pseudonymised or not incoming.get("birth_date") or same or self._purged_here(local["id"]):
            self.report.unchanged["pupils"] += 1  # no identity to give, the same one, or one effaced here
            return
        self._update(RULES["pupils"], row, ["last_name", "first_name", "birth_date", "updated_at"])
        self.report.updated["pupils"] += 1

    def _purged_here(self, pupil_id: str) -> bool:
        """Whether the retention purge effaced (or would efface) this pupil's identity here
        (store/retention.py): an older nominative bundle must not bring it back."""
        return identity_expired(self.db, pupil_id)

    def _case_has_identity_here(self, table: str, values: dict[str, Any]) -> bool:
        """Whether this base knows who the record's case is about (a pupil with a birth date,
        or a teacher's name): then a pseudonymised bundle's texts are poorer than ours."""
        if table == "aid_evaluations":
            owner = self.db.execute("SELECT case_id FROM aids WHERE id = ?", (values["aid_id"],)).fetchone()
            case_id = owner[0] if owner else None
        else:
            case_id = values["id"] if table == "cases" else values.get("case_id")
        return bool(case_id) and self.db.execute(
            "SELECT 1 FROM cases c LEFT JOIN pupils p ON p.id = c.pupil_id"
            " WHERE c.id = ? AND (p.birth_date IS NOT NULL OR c.teacher_name <> '')", (case_id,)).fetchone() is not None

    def _check_same_parent(self, table: str, row: IncomingRow, local: dict[str, Any]) -> None:
        """A record known here under the same id belongs to the same case (or aid) on both sides."""
        for column in ("case_id", "aid_id") if table != "timeline_entries" else ("case_id",):
            if column in local and column in row.values and local[column] != row.values[column]:
                raise MergeRowError(f"{row.file}, ligne {row.line} : cet identifiant désigne ici une fiche d'un autre "
                                    "dossier : ce n'est pas le même enregistrement. Rien n'a été importé.")

    def _compared_columns(self, rule: TableRule, row: IncomingRow) -> list[str]:
        masked = self.masked.get(rule.table, set())
        if self.scrubbed.get(rule.table) and self._case_has_identity_here(rule.table, row.values):
            masked = masked | self.scrubbed[rule.table]  # never replace texts with their "[élève]" copy
        return [column for column in row.values
                if column != "id" and column not in rule.fixed and column not in masked]

    def _numbered_among_added(self, values: dict[str, Any], batch: "_Batch") -> dict[str, Any]:
        """`_numbered` for a cases table empty before the import: only a case added by it can
        hold the number (a bundle changed by hand), and then `_numbered` reads the base."""
        if values["number"] in self._numbers_added \
                or (values["school_year"], values["sequence"]) in self._sequences_added:
            batch.write()
            values = self._numbered(values)
        self._numbers_added.add(values["number"])
        self._sequences_added.add((values["school_year"], values["sequence"]))
        return values

    # -- recognising a record under another id --------------------------------------------

    def _recognised(self, table: str, row: IncomingRow) -> str | None:
        values = row.values
        if table == "schools":
            found = self.db.execute("SELECT id FROM schools WHERE uai = ?", (values["uai"],)).fetchone()
        elif table == "members":
            return next((member_id for member_id, last, first in self.db.execute(
                "SELECT id, last_name, first_name FROM members WHERE role = ?", (values["role"],))
                if member_id not in self._inserted
                and (fold(last), fold(first)) == (fold(values["last_name"]), fold(values["first_name"]))), None)
        elif table == "periods":
            found = self.db.execute("SELECT id FROM periods WHERE school_year = ? AND number = ?",
                                    (values["school_year"], values["number"])).fetchone()
        elif table == "meetings" and values["kind"] == "ordinaire":
            found = self.db.execute(
                "SELECT id FROM meetings WHERE school_year = ? AND period_number IS ? AND kind = 'ordinaire'",
                (values["school_year"], values["period_number"])).fetchone()
        else:
            return None
        return found[0] if found and found[0] not in self._inserted else None

    def _follow_references(self, table: str, row: IncomingRow) -> None:
        """Point the row's references at the records recognised here."""
        if not self.same_as:
            return
        values = row.values
        for column in ("school_id", "member_id", "author_member_id", "meeting_id"):
            if values.get(column) in self.same_as:
                values[column] = self.same_as[values[column]]
        if "member_ids" in row.lists:
            row.lists["member_ids"] = list(dict.fromkeys(self.same_as.get(member_id, member_id)
                                                         for member_id in row.lists["member_ids"]))

    # -- writing ---------------------------------------------------------------------------

    def _insert(self, rule: TableRule, row: IncomingRow) -> None:
        values = dict(row.values)
        if rule.table == "timeline_entries" and values.get("aid_id"):
            owner = self.db.execute("SELECT case_id FROM aids WHERE id = ?", (values["aid_id"],)).fetchone()
            if owner is not None and owner[0] != values["case_id"]:
                raise MergeRowError(f"{row.file}, ligne {row.line} : cette étape renvoie à l'aide d'un autre dossier. "
                                    "Rien n'a été importé.")
        if rule.table == "pupils":
            values = self._pupil_values(values)
        elif rule.table == "cases":
            values = self._numbered(values)
        self._write_record(rule, values, row.lists)
        self._remember(rule, values)
        self.report.added[rule.table] += 1
        self._touch(rule.table, values)

    def _write_record(self, rule: TableRule, values: dict[str, Any], lists: dict[str, list]) -> None:
        self.db.execute(insert_statement(rule.table, list(values)), tuple(values.values()))
        self._write_lists(rule, values["id"], lists)

    def _update(self, rule: TableRule, row: IncomingRow, columns: list[str]) -> None:
        row_id, values = row.values["id"], dict(row.values)
        if rule.table == "pupils":
            values["name_key"] = fold(f"{values['last_name']} {values['first_name']}")
            columns = [*columns, "name_key"]
        before = dict(self.db.execute(f"SELECT * FROM {rule.table} WHERE id = ?", (row_id,)).fetchone())
        self.db.execute(f"UPDATE {rule.table} SET {', '.join(f'{column} = ?' for column in columns)} WHERE id = ?",
                        (*(values[column] for column in columns), row_id))
        after = dict(self.db.execute(f"SELECT * FROM {rule.table} WHERE id = ?", (row_id,)).fetchone())
        self.audit("modification", rule.table, row_id, before, after)  # what an import replaced stays readable
        if rule.lists:
            self._delete_lists(rule, row_id)
            self._write_lists(rule, row_id, row.lists)
        self._remember(rule, row.values)
        self._touch(rule.table, row.values)

    def _remember(self, rule: TableRule, values: dict[str, Any]) -> None:
        version = _version(values)
        if rule.versioned and version:
            self._taken.append((rule.table, values["id"], version))

    def _touch(self, table: str, values: dict[str, Any]) -> None:
        if table == "cases":
            self.touched_cases.add(values["id"])
        elif table in ("timeline_entries", "aids"):
            self.touched_cases.add(values["case_id"])
        elif table == "pupils":  # a name filled in: the pupil's cases are found by it
            self.touched_cases.update(case_id for (case_id,) in self.db.execute(
                "SELECT id FROM cases WHERE pupil_id = ?", (values["id"],)))

    def _pupil_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """A pupil as stored here; from a pseudonymised bundle, known by the pseudonym only."""
        if not values.get("last_name"):
            values.update(last_name=values["pseudonym"], first_name=PSEUDONYMOUS_FIRST_NAME, birth_date=None)
        values["name_key"] = fold(f"{values['last_name']} {values['first_name']}")
        return values

    def _numbered(self, values: dict[str, Any]) -> dict[str, Any]:
        """Keep the case's number unless taken here: then the number and the site, and the
        next free sequence of its year."""
        taken = self.db.execute("SELECT 1 FROM cases WHERE number = ? OR (school_year = ? AND sequence = ?)",
                                (values["number"], values["school_year"], values["sequence"])).fetchone()
        if not taken:
            return values
        original = values["number"]
        number, attempt = f"{original}-{self.site_tag}", 1
        while self.db.execute("SELECT 1 FROM cases WHERE number = ?", (number,)).fetchone():
            attempt += 1
            number = f"{original}-{self.site_tag}{attempt}"
        (sequence,) = self.db.execute(
            "SELECT max(coalesce((SELECT last_sequence FROM case_counters WHERE school_year = :year), 0),"
            " coalesce((SELECT max(sequence) FROM cases WHERE school_year = :year), 0), :bundle) + 1",
            {"year": values["school_year"], "bundle": self._bundle_sequences.get(values["school_year"], 0)}).fetchone()
        self.report.renumbered.append((original, number))
        return {**values, "number": number, "sequence": sequence}

    # -- lists of a case or a step ----------------------------------------------------------

    def _write_lists(self, rule: TableRule, row_id: str, lists: dict[str, list]) -> None:
        for name in rule.lists:
            rows = _list_rows(name, row_id, lists.get(name, []))
            if rows:
                self.db.executemany(_list_insert(name), rows)

    def _delete_lists(self, rule: TableRule, row_id: str) -> None:
        for name in rule.lists:
            table, key = LIST_TABLES[name][:2]
            self.db.execute(f"DELETE FROM {table} WHERE {key} = ?", (row_id,))

    def _lists_of(self, rule: TableRule, row_id: str) -> dict[str, Any]:
        lists = {}
        for name in rule.lists:
            table, key, columns = LIST_TABLES[name]
            order = "rank" if name == "motifs" else ", ".join(columns)
            values = [tuple(found) if len(columns) > 1 else found[0] for found in self.db.execute(
                f"SELECT {', '.join(columns)} FROM {table} WHERE {key} = ? ORDER BY {order}", (row_id,))]
            lists[name] = values
        return self._normalised_lists(rule, lists, stored=True)

    @staticmethod
    def _normalised_lists(rule: TableRule, lists: dict[str, list], stored: bool = False) -> dict[str, Any]:
        """Lists in a comparable form: the order matters for motifs only."""
        normalised = {}
        for name in rule.lists:
            values = [tuple(value) if isinstance(value, list) else value for value in lists.get(name, [])]
            normalised[name] = values if name == "motifs" else sorted(values)
        return normalised

    def _describe(self, table: str, local: dict[str, Any]) -> str:
        detail = {"cases": local.get("number"), "schools": local.get("uai"),
                  "members": f"{local.get('first_name')} {local.get('last_name')}",
                  "pupils": local.get("pseudonym") or "", "periods": f"{local.get('school_year')} n°{local.get('number')}",
                  "meetings": local.get("date"), "aids": local.get("start_date"),
                  "aid_evaluations": local.get("date"), "timeline_entries": local.get("date")}.get(table)
        return f"{LABELS[table]} {detail}".strip() if detail else LABELS[table]

    def finish(self) -> None:
        """Remember the versions taken; case counters past every sequence now in the base,
        so that new cases never collide."""
        self.db.executemany("INSERT INTO merged_versions (table_name, row_id, version) VALUES (?, ?, ?)"
                            " ON CONFLICT (table_name, row_id) DO UPDATE SET version = excluded.version",
                            self._taken)
        self.db.execute(
            "INSERT INTO case_counters (school_year, last_sequence)"
            " SELECT school_year, max(sequence) FROM cases WHERE true GROUP BY school_year"
            " ON CONFLICT (school_year) DO UPDATE SET last_sequence = max(last_sequence, excluded.last_sequence)")


class _EmptyTableLoad:
    """Every record added to a table that was empty before the import, in batches. Nothing to
    match nor compare, and nothing to recognise: a record is only recognised among those here
    before the import. The rows, lists, numbers and versions are those `_insert` writes one by
    one."""

    def __init__(self, merger: _Merger, rule: TableRule, incoming: IncomingTable) -> None:
        self.merger = merger
        self.rule = rule
        self.incoming = incoming
        self.batch = _Batch(merger, rule, incoming)
        self.aid_cases = {aid_id: case_id for aid_id, case_id in merger.db.execute("SELECT id, case_id FROM aids")} \
            if rule.table == "timeline_entries" else {}
        # the rows as read, when there is no reference to follow and no value to change
        self.as_read = not (merger.same_as or incoming.extra_lists or rule.table in ("pupils", "cases"))

    def add(self, rows: list[tuple], lines: list[int]) -> None:
        if self.as_read:
            self._add_rows(rows, lines)
        else:
            self._add_records(rows, lines)

    def finish(self) -> None:
        self.batch.write()
        if self.rule.versioned:  # what `_remember` notes of each record, for the whole table at once
            self.merger.db.execute(
                "INSERT INTO merged_versions (table_name, row_id, version)"
                f" SELECT ?, id, coalesce(updated_at, created_at) FROM {self.rule.table}"
                " WHERE coalesce(updated_at, created_at) IS NOT NULL ORDER BY id"
                " ON CONFLICT (table_name, row_id) DO UPDATE SET version = excluded.version", (self.rule.table,))

    def _add_records(self, rows: list[tuple], lines: list[int]) -> None:
        """Each record as `_insert` prepares it: references followed, a pupil's name key, a case
        renumbered if its number is taken."""
        merger, table, batch = self.merger, self.rule.table, self.batch
        for row in self.incoming.records(rows, lines):
            merger._follow_references(table, row)
            values = row.values
            if table == "pupils":
                values = merger._pupil_values(dict(values))
            elif table == "cases":
                values = merger._numbered_among_added(values, batch)
            elif self.aid_cases and values["aid_id"]:
                self._check_aid_of_same_case(row.line, values["aid_id"], values["case_id"])
            batch.add(row.line, tuple(values[column] for column in batch.columns), row.lists)

    def _add_rows(self, rows: list[tuple], lines: list[int]) -> None:
        fields, batch = self.incoming.fields, self.batch
        row_of = itemgetter(*(fields.index(column) for column in batch.columns))
        lists_of = [(name, fields.index(name)) for name in batch.lists]
        aid_index, case_index = (fields.index("aid_id"), fields.index("case_id")) if self.aid_cases else (0, 0)
        for values, line in zip(rows, lines):
            if self.aid_cases and values[aid_index]:
                self._check_aid_of_same_case(line, values[aid_index], values[case_index])
            batch.add(line, row_of(values), {name: values[index] for name, index in lists_of})

    def _check_aid_of_same_case(self, line: int, aid_id: str, case_id: str) -> None:
        """What `_insert` checks of a step that names an aid (an unknown aid is the database's
        to refuse)."""
        if self.aid_cases.get(aid_id, case_id) != case_id:
            self.batch.write()  # a row before it that the database refuses is told first
            raise MergeRowError(f"{self.incoming.file}, ligne {line} : cette étape renvoie à l'aide d'un autre "
                                "dossier. Rien n'a été importé.")


class _Batch:
    """Records of one table held back, then written together: one `executemany` for the table
    and one for each of its lists. Should the database refuse a row, the refusal told is the one
    `_insert`, record by record, would have met first, with its line (see `write`)."""

    def __init__(self, merger: _Merger, rule: TableRule, incoming: IncomingTable) -> None:
        self.merger = merger
        self.rule = rule
        self.file = incoming.file
        self.lists = [name for name in rule.lists if name in incoming.fields or name in incoming.extra_lists]
        self.columns = [name for name in incoming.fields if name not in rule.lists]
        if rule.table == "pupils":
            self.columns.append("name_key")
        self.id_index = self.columns.index("id")
        self.lines: list[int] = []
        self.rows: list[tuple] = []
        self.list_items: list[dict[str, list]] = []

    def add(self, line: int, row: tuple, lists: dict[str, list]) -> None:
        self.lines.append(line)
        self.rows.append(row)
        self.list_items.append(lists)
        if len(self.rows) >= BATCH_ROWS:
            self.write()

    def write(self) -> None:
        """Write what is held. No savepoint to undo a refused batch (around the cases' search
        trigger, one made the load ten times slower), and none needed: the row of a record never
        depends on the lists of the others, nor a list on the rows after its own. So when the row
        of record k is refused, records 0..k-1 are written and their lists are written one by
        one (the first refused is told); when a list is refused, the lists of the batch are
        deleted and written again one by one. The whole transaction is rolled back after."""
        if not self.rows:
            return
        db = self.merger.db
        try:
            db.executemany(insert_statement(self.rule.table, self.columns), self.rows)
        except sqlite3.Error as error:
            refused = self._first_not_written()
            if refused is None:  # never seen: then the refusal is told without its line
                raise
            self._write_lists_one_by_one(refused)
            raise MergeRowError(f"{self.file}, ligne {self.lines[refused]} : {translate_sqlite_error(error)}") from None
        try:
            for name in self.lists:
                rows = [item for row, lists in zip(self.rows, self.list_items)
                        for item in _list_rows(name, row[self.id_index], lists.get(name, []))]
                if rows:
                    db.executemany(_list_insert(name), rows)
        except sqlite3.Error:
            self._delete_lists()
            self._write_lists_one_by_one(len(self.rows))
        self._count_added()
        self.lines, self.rows, self.list_items = [], [], []

    def _count_added(self) -> None:
        """What `_insert` counts and notes of each record (`_touch`; a pupil new here has no
        case yet; the versions are noted for the whole table)."""
        merger, table, ids = self.merger, self.rule.table, map(itemgetter(self.id_index), self.rows)
        merger.report.added[table] += len(self.rows)
        if table in RECOGNISABLE:
            merger._inserted.update(ids)
        elif table == "cases":
            merger.touched_cases.update(ids)
        elif table in ("aids", "timeline_entries"):
            merger.touched_cases.update(map(itemgetter(self.columns.index("case_id")), self.rows))

    def _first_not_written(self) -> int | None:
        """The record whose row was refused: the rows before it were written, none after."""
        query = f"SELECT 1 FROM {self.rule.table} WHERE id = ?"
        return next((index for index, row in enumerate(self.rows)
                     if self.merger.db.execute(query, (row[self.id_index],)).fetchone() is None), None)

    def _delete_lists(self) -> None:
        ids = [(row[self.id_index],) for row in self.rows]
        for name in self.lists:
            table, key = LIST_TABLES[name][:2]
            self.merger.db.executemany(f"DELETE FROM {table} WHERE {key} = ?", ids)

    def _write_lists_one_by_one(self, count: int) -> None:
        """The lists of the first `count` records, record by record, as `_insert` writes them."""
        for line, row, lists in zip(self.lines[:count], self.rows, self.list_items):
            try:
                self.merger._write_lists(self.rule, row[self.id_index], lists)
            except sqlite3.Error as error:
                raise MergeRowError(f"{self.file}, ligne {line} : {translate_sqlite_error(error)}") from None


# Child tables of the lists: name -> (table, key column, value columns).
LIST_TABLES = {
    "levels": ("case_levels", "case_id", ("level",)),
    "motifs": ("case_motifs", "case_id", ("motif",)),
    "prior_actions": ("case_prior_actions", "case_id", ("action", "detail")),
    "member_ids": ("timeline_entry_members", "entry_id", ("member_id",)),
    "aids_called": ("analysis_aid_calls", "entry_id", ("kind",)),
}


def _list_insert(name: str) -> str:
    """The statement that writes one item of a list: key, values (and rank, for motifs)."""
    table, key, columns = LIST_TABLES[name]
    return insert_statement(table, (key, *columns, "rank") if name == "motifs" else (key, *columns))


def _list_rows(name: str, row_id: str, values: Iterable) -> list[tuple]:
    """The rows of a record's list, in the order of `_list_insert`."""
    if name == "motifs":
        return [(row_id, motif, rank) for rank, motif in enumerate(values, start=1)]
    if len(LIST_TABLES[name][2]) > 1:
        return [(row_id, *value) for value in values]
    return [(row_id, value) for value in values]


def _version(values: dict[str, Any]) -> str | None:
    """When a record last changed: updated_at, else (a step never edited) created_at."""
    return values.get("updated_at") or values.get("created_at")


def _refresh_search(connection: sqlite3.Connection, case_ids: set[str]) -> None:
    if not case_ids:
        return
    if len(case_ids) > FULL_SEARCH_REBUILD_ABOVE:
        rebuild_search_index(connection)
        return
    for case_id in case_ids:
        connection.execute("DELETE FROM case_search WHERE rowid = (SELECT key FROM case_search_key WHERE case_id = ?)",
                           (case_id,))
        connection.execute("INSERT INTO case_search (rowid, number, names, texts)"
                           " SELECT key, number, names, texts FROM case_search_document WHERE case_id = ?", (case_id,))

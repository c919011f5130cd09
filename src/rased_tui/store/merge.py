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
schema.sql stops the merge with the file and line it came from: then nothing is written.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rased_tui.domain.models import fold
from rased_tui.store.bulk import insert_statement
from rased_tui.store.errors import StoreError, translate_sqlite_error
from rased_tui.store.migrations import rebuild_search_index

PSEUDONYMOUS_FIRST_NAME = "Élève"
STAMPS = ("created_at", "updated_at")
FULL_SEARCH_REBUILD_ABOVE = 2000  # cases touched: past this, rebuilding the whole index is faster


@dataclass
class IncomingRow:
    """One record of the bundle: its columns, its lists, and where it was read."""

    file: str
    line: int
    values: dict[str, Any]
    lists: dict[str, list] = field(default_factory=dict)


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

    def merge_bundle(self, incoming: dict[str, list[IncomingRow]], *, prefer_newer: bool, masked: dict[str, set[str]],
                     scrubbed: dict[str, set[str]], site_tag: str, summary: Callable[[MergeReport], str],
                     progress: Callable[[str, int], None] | None = None) -> MergeReport:
        """Merge the bundle's rows (by table, parents first) in one transaction. For a
        pseudonymised bundle, `masked`: the columns of each table it leaves empty (never
        compared nor taken); `scrubbed`: its texts with names replaced, not taken over a case
        whose identity this base knows."""
        merger = _Merger(self._connection, prefer_newer=prefer_newer, masked=masked, scrubbed=scrubbed,
                         site_tag=site_tag, audit=self._audit)
        with self.large_cache(), self.transaction():
            self._connection.execute("INSERT INTO settings (key, value) VALUES ('search_suspended', '1')")
            for table, rows in incoming.items():
                merger.merge_table(table, rows)
                if progress:
                    progress(table, len(rows))
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
        self._versions: dict[tuple[str, str], str] = {
            (table, row_id): version for table, row_id, version in
            connection.execute("SELECT table_name, row_id, version FROM merged_versions")}

    # -- one table ------------------------------------------------------------------------

    def merge_table(self, table: str, rows: list[IncomingRow]) -> None:
        rule = RULES[table]
        known = {row_id for (row_id,) in self.db.execute(f"SELECT id FROM {table}")}
        if table == "cases":  # a renumbered case goes past every sequence of the bundle too
            for row in rows:
                year, sequence = row.values["school_year"], row.values["sequence"]
                self._bundle_sequences[year] = max(self._bundle_sequences.get(year, 0), sequence or 0)
        for row in rows:
            self._follow_references(table, row)
            try:
                self._merge_row(rule, row, known)
            except sqlite3.Error as error:
                raise MergeRowError(f"{row.file}, ligne {row.line} : {translate_sqlite_error(error)}") from None

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
        if self.pseudonymised or not incoming.get("birth_date") or same:
            self.report.unchanged["pupils"] += 1  # no identity to give, or the same one
            return
        self._update(RULES["pupils"], row, ["last_name", "first_name", "birth_date", "updated_at"])
        self.report.updated["pupils"] += 1

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
        self.db.execute(insert_statement(rule.table, list(values)), tuple(values.values()))
        self._write_lists(rule, values["id"], row.lists)
        self._remember(rule, values)
        self.report.added[rule.table] += 1
        self._touch(rule.table, values)

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
            table, rows = _list_rows(name, row_id, lists.get(name, []))
            if rows:
                self.db.executemany(insert_statement(table, list(rows[0])), [tuple(item.values()) for item in rows])

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


# Child tables of the lists: name -> (table, key column, value columns).
LIST_TABLES = {
    "levels": ("case_levels", "case_id", ("level",)),
    "motifs": ("case_motifs", "case_id", ("motif",)),
    "prior_actions": ("case_prior_actions", "case_id", ("action", "detail")),
    "member_ids": ("timeline_entry_members", "entry_id", ("member_id",)),
    "aids_called": ("analysis_aid_calls", "entry_id", ("kind",)),
}


def _list_rows(name: str, row_id: str, values: Iterable) -> tuple[str, list[dict[str, Any]]]:
    table, key, columns = LIST_TABLES[name]
    if name == "motifs":
        return table, [{key: row_id, "motif": motif, "rank": rank} for rank, motif in enumerate(values, start=1)]
    if len(columns) > 1:
        return table, [{key: row_id, **dict(zip(columns, value))} for value in values]
    return table, [{key: row_id, columns[0]: value} for value in values]


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

"""The rows an export bundle is made of, read straight from the database (a mixin of `Store`).

Bulk streams of plain values, not domain models: an export of 50,000 cases must take seconds.
The caller names the fields it wants (those of exchange/bundle_spec.py), in order, and gets the
rows a chunk at a time, each chunk as columns (one tuple of values per field): the caller makes
the cells of a column in one pass (exchange/export.py). A few fields are lists kept beside the
rows and filled in Python (a case's levels, a step's members), looked up by key, again a column
at a time.

The selection (a school year, a période, open cases only) picks the cases; their pupils, steps,
aids and evaluations follow them. Schools, members, périodes and meetings go whole: every
reference in the bundle must resolve.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from rased_tui.domain.enums import ClassLevel

LEVEL_ORDER = {level.value: position for position, level in enumerate(ClassLevel)}
LIST_SEPARATOR = " | "
# The dates of a case's steps, read from its timeline: field -> (aggregate, kind of step).
PHASES = {"analysed_on": ("min", "analyse"), "first_response_on": ("min", "premiere_intention"),
          "second_response_on": ("min", "seconde_intention"), "bilan_on": ("min", "bilan"),
          "closed_on": ("max", "cloture")}
ROWS_PER_CHUNK = 2000
CLOSED = ("cloturee", "classee_sans_suite")  # the statuses of a closed case
Fields = Sequence["str | None"]  # the fields wanted, in order; None: a column left empty
Chunks = Iterator[list[Sequence[Any]]]  # the rows a chunk at a time, each chunk as its columns


@dataclass(frozen=True)
class ExportSelection:
    """Which cases leave: those of a school year (or of one of its périodes), open ones only."""

    school_year: str | None = None
    period_number: int | None = None
    open_only: bool = False
    include_confidential: bool = False


@dataclass(frozen=True)
class Filled:
    """A field filled in Python from what SQL expressions (`keys`) read in the same row: looked
    up in `values` by the first key (`missing` where it is not there), or made by `make`."""

    keys: tuple[str, ...]
    values: dict[Any, Any] | None = None
    missing: Any = None
    make: Callable[..., Any] | None = None


@dataclass(frozen=True)
class RowSource:
    """One stream: the fields it reads, as SQL expressions; the rest of its query (FROM... WHERE...
    ORDER BY...); and the fields filled in Python."""

    fields: dict[str, str]
    body: str
    parameters: dict[str, Any] = field(default_factory=dict)
    filled: dict[str, Filled] = field(default_factory=dict)


class ExportQueries:
    """Row streams for exchange/export.py."""

    def chosen_cases_sql(self, selection: ExportSelection) -> tuple[str, dict[str, Any]]:
        """A `SELECT id FROM cases` picking the selected cases, and its parameters."""
        conditions, parameters = [], {}
        if selection.school_year:
            conditions.append("c.id IN (SELECT case_id FROM case_years WHERE school_year = :year)")
            parameters["year"] = selection.school_year
            if selection.period_number:
                span = next(span for span in self.periods_of_year(selection.school_year)
                            if span.number == selection.period_number)
                # active during the période: sent by its end, and open at its start (the last
                # closure or reopening before it was not a closure) or reopened during it
                conditions.append(
                    "c.date_sent <= :period_end AND (coalesce((SELECT t.kind FROM timeline_entries t"
                    " WHERE t.case_id = c.id AND t.kind IN ('cloture', 'reouverture') AND t.date < :period_start"
                    " ORDER BY t.date DESC, t.created_at DESC LIMIT 1), '') <> 'cloture'"
                    " OR EXISTS (SELECT 1 FROM timeline_entries t WHERE t.case_id = c.id AND t.kind = 'reouverture'"
                    " AND t.date BETWEEN :period_start AND :period_end))")
                parameters.update(period_start=span.start.isoformat(), period_end=span.end.isoformat())
        if selection.open_only:
            conditions.append("(SELECT status FROM case_status s WHERE s.case_id = c.id)"
                              " NOT IN ('cloturee', 'classee_sans_suite')")
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        return f"SELECT c.id FROM cases c{where}", parameters

    def _of_chosen_cases(self, column: str, selection: ExportSelection) -> tuple[str, dict[str, Any]]:
        """An SQL condition keeping the rows whose `column` is a chosen case (always true when
        every case goes: no subquery to run then)."""
        if not (selection.school_year or selection.open_only):
            return "1", {}
        chosen, parameters = self.chosen_cases_sql(selection)
        return f"{column} IN ({chosen})", parameters

    def count_chosen_cases(self, selection: ExportSelection) -> int:
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._one(f"SELECT count(*) FROM ({chosen})", parameters)[0]

    def count_chosen_pupils(self, selection: ExportSelection) -> int:
        """How many pupils the chosen cases are about (each once): what a nominative export names."""
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._one(f"SELECT count(DISTINCT pupil_id) FROM cases WHERE id IN ({chosen})", parameters)[0]


    def export_schools(self, wanted: Fields) -> Chunks:
        return self._columns(RowSource(self._fields_of("schools", "s"), "FROM schools s ORDER BY s.uai"), wanted)

    def export_members(self, wanted: Fields) -> Chunks:
        return self._columns(RowSource(self._fields_of("members", "m"),
                                       "FROM members m ORDER BY m.last_name, m.first_name, m.id"), wanted)

    def export_periods(self, wanted: Fields) -> Chunks:
        return self._columns(RowSource(self._fields_of("periods", "x"),
                                       "FROM periods x ORDER BY x.school_year, x.number"), wanted)

    def export_meetings(self, wanted: Fields) -> Chunks:
        return self._columns(RowSource(self._fields_of("meetings", "x"), "FROM meetings x ORDER BY x.date, x.id"),
                             wanted)

    def export_pupils(self, selection: ExportSelection, wanted: Fields, *,
                      by_name: bool) -> Chunks:
        """The pupils of the chosen cases, by name, or (a pseudonymised export: an order by
        name would tell who is who) by their random id."""
        chosen, parameters = self._of_chosen_cases("id", selection)
        order = "p.last_name, p.first_name, p.id" if by_name else "p.id"
        return self._columns(RowSource(
            self._fields_of("pupils", "p"),
            f"FROM pupils p WHERE p.id IN (SELECT pupil_id FROM cases WHERE {chosen}) ORDER BY {order}", parameters),
            wanted)

    def export_cases(self, selection: ExportSelection, wanted: Fields) -> Chunks:
        """Each case with its lists and what the reader of the spreadsheet wants beside it: its
        pupil (`pseudonym`: the one stored, if any), school, status, age, and the dates of its steps."""
        chosen, parameters = self._of_chosen_cases("c.id", selection)
        fields = self._fields_of("cases", "c") | {
            "pupil_last_name": "p.last_name", "pupil_first_name": "p.first_name", "birth_date": "p.birth_date",
            "pseudonym": "p.pseudonym", "school_uai": "s.uai", "school_name": "s.name", "status": "st.status",
            # whole years from birth to request: ISO 'MM-DD' texts compare as the dates do
            "age": "CAST(substr(c.date_sent, 1, 4) AS INTEGER) - CAST(substr(p.birth_date, 1, 4) AS INTEGER)"
                   " - (substr(c.date_sent, 6, 5) < substr(p.birth_date, 6, 5))",
        }
        levels = self._case_lists("SELECT case_id, level FROM case_levels", selection, order="case_id")
        for values in levels.values():
            values.sort(key=LEVEL_ORDER.__getitem__)
        current_aids = self._case_lists(
            "SELECT a.case_id, a.kind || ' — ' || m.first_name || ' ' || m.last_name"
            " FROM aids a JOIN members m ON m.id = a.member_id"
            " WHERE a.end_date IS NULL AND a.consent_status = 'donne'", selection, order="a.start_date",
            case_column="a.case_id")
        filled = {
            "levels": Filled(("c.id",), levels, []),
            "motifs": Filled(("c.id",), self._case_lists("SELECT case_id, motif FROM case_motifs", selection,
                                                         order="case_id, rank"), []),
            "prior_action_labels": Filled(("c.id",), self._case_lists(
                "SELECT case_id, action FROM case_prior_actions", selection, order="case_id, action"), []),
            "current_aids": Filled(("c.id",), {case: LIST_SEPARATOR.join(aids) for case, aids in current_aids.items()},
                                   ""),
        }
        phases = self._phases(selection)
        filled |= {name: Filled(("c.id",), dates) for name, dates in phases.items()}
        # a closure date only for a closed case: its status read once (the view works it out for each
        # mention of it)
        filled["closed_on"] = Filled(("st.status", "c.id"), make=lambda status, case_id:
                                     phases["closed_on"].get(case_id) if status in CLOSED else None)
        return self._columns(RowSource(
            fields,
            f"""FROM cases c
                JOIN schools s ON s.id = c.school_id
                JOIN case_status st ON st.case_id = c.id
                LEFT JOIN pupils p ON p.id = c.pupil_id
               WHERE {chosen}
               ORDER BY c.school_year, c.number""", parameters, filled), wanted)

    def _phases(self, selection: ExportSelection) -> dict[str, dict[str, str | None]]:
        """Field of PHASES -> case id -> the date of that step of the case (None: not reached)."""
        chosen, parameters = self._of_chosen_cases("case_id", selection)
        aggregates = ", ".join(f"{aggregate}(CASE WHEN kind = '{kind}' THEN date END)"
                               for aggregate, kind in PHASES.values())
        rows = self._plain_cursor().execute(
            f"SELECT case_id, {aggregates} FROM timeline_entries WHERE {chosen} GROUP BY case_id",
            parameters).fetchall()
        case_ids, *dates = zip(*rows) if rows else ((),) * (len(PHASES) + 1)
        return {name: dict(zip(case_ids, column)) for name, column in zip(PHASES, dates)}

    def _case_lists(self, select: str, selection: ExportSelection, *, order: str,
                    case_column: str = "case_id") -> dict[str, list[str]]:
        """case id -> the values `select` reads (its 1st column is the case id), in `order`
        (after the case id, where an index of the table gives them in that order)."""
        chosen, parameters = self._of_chosen_cases(case_column, selection)
        connector = " AND " if " WHERE " in select else " WHERE "
        lists: dict[str, list[str]] = {}
        for case_id, value in self._plain_cursor().execute(f"{select}{connector}{chosen} ORDER BY {order}",
                                                           parameters):
            lists.setdefault(case_id, []).append(value)
        return lists

    def export_prior_actions(self, selection: ExportSelection, wanted: Fields) -> Chunks:
        chosen, parameters = self._of_chosen_cases("x.case_id", selection)
        return self._columns(RowSource(
            self._fields_of("case_prior_actions", "x") | {"number": "c.number"},
            f"""FROM case_prior_actions x JOIN cases c ON c.id = x.case_id
               WHERE {chosen} ORDER BY c.school_year, c.number, x.action""", parameters), wanted)

    def export_aids(self, selection: ExportSelection, wanted: Fields) -> Chunks:
        chosen, parameters = self._of_chosen_cases("a.case_id", selection)
        return self._columns(RowSource(
            self._fields_of("aids", "a") | {"number": "c.number", "member_name": "m.first_name || ' ' || m.last_name"},
            f"""FROM aids a JOIN cases c ON c.id = a.case_id JOIN members m ON m.id = a.member_id
               WHERE {chosen} ORDER BY c.school_year, c.number, a.start_date, a.id""", parameters), wanted)

    def export_evaluations(self, selection: ExportSelection, wanted: Fields) -> Chunks:
        chosen, parameters = self._of_chosen_cases("a.case_id", selection)
        return self._columns(RowSource(
            self._fields_of("aid_evaluations", "v") | {"case_id": "a.case_id", "number": "c.number"},
            f"""FROM aid_evaluations v JOIN aids a ON a.id = v.aid_id JOIN cases c ON c.id = a.case_id
               WHERE {chosen} ORDER BY c.school_year, c.number, v.date, v.created_at, v.id""", parameters), wanted)

    def export_entries(self, selection: ExportSelection, wanted: Fields) -> Chunks:
        """The steps of the chosen cases; confidential notes only when asked in so many words."""
        chosen, parameters = self._of_chosen_cases("e.case_id", selection)
        hidden = "" if selection.include_confidential else " AND e.confidential = 0"
        cursor = self._plain_cursor()
        names = dict(cursor.execute("SELECT id, first_name || ' ' || last_name FROM members"))
        members: dict[str, list[str]] = {}
        for entry_id, member_id in cursor.execute(
                "SELECT entry_id, member_id FROM timeline_entry_members ORDER BY entry_id, member_id"):
            members.setdefault(entry_id, []).append(member_id)
        calls: dict[str, list[str]] = {}
        for entry_id, kind in cursor.execute(
                "SELECT entry_id, kind FROM analysis_aid_calls"
                " ORDER BY entry_id, instr(',E,G,psy,', ',' || kind || ',')"):
            calls.setdefault(entry_id, []).append(kind)
        names_of_team: dict[tuple[str, ...], str] = {}  # the same few teams, step after step
        member_names = {}
        for entry_id, ids in members.items():
            team = tuple(ids)
            if (team_names := names_of_team.get(team)) is None:
                team_names = names_of_team[team] = LIST_SEPARATOR.join(names.get(member, "") for member in team)
            member_names[entry_id] = team_names
        return self._columns(RowSource(
            self._fields_of("timeline_entries", "e") | {"number": "c.number"},
            f"""FROM timeline_entries e JOIN cases c ON c.id = e.case_id
               WHERE {chosen}{hidden}
               ORDER BY c.school_year, c.number, e.date, e.created_at, e.id""", parameters,
            {"member_ids": Filled(("e.id",), members, []), "member_names": Filled(("e.id",), member_names, ""),
             "aids_called": Filled(("e.id",), calls, []), "author_name": Filled(("e.author_member_id",), names, "")}),
            wanted)

    def _fields_of(self, table: str, alias: str) -> dict[str, str]:
        """Each column of `table`, as `alias.column`."""
        return {row[1]: f"{alias}.{row[1]}" for row in self._plain_cursor().execute(f"PRAGMA table_info({table})")}

    def _plain_cursor(self) -> sqlite3.Cursor:
        cursor = self._connection.cursor()
        cursor.row_factory = None  # plain tuples: a sqlite3.Row for each of a million rows costs
        return cursor

    def _columns(self, source: RowSource, wanted: Fields) -> Chunks:
        """The rows of `source` a chunk at a time, each chunk as columns: one sequence of values
        for each `wanted` field, in that order (None: a column of NULL, a field left out). Each
        expression is read once, however many fields use it (a case's id keys eight of them)."""
        read: dict[str, int] = {}  # SQL expression -> its place in the SELECT
        places, fills = [], []
        for position, name in enumerate(wanted):
            filled = source.filled.get(name)
            if filled is None:
                places.append(read.setdefault("NULL" if name is None else source.fields[name], len(read)))
            else:
                places.append(None)
                fills.append((position, filled, [read.setdefault(key, len(read)) for key in filled.keys]))
        cursor = self._plain_cursor()
        cursor.execute(f"SELECT {', '.join(read)} {source.body}", source.parameters)
        while chunk := cursor.fetchmany(ROWS_PER_CHUNK):
            selected = list(zip(*chunk))
            columns: list[Sequence[Any]] = [() if place is None else selected[place] for place in places]
            for position, filled, keys in fills:
                if filled.make is None:
                    columns[position] = list(map(filled.values.get, selected[keys[0]], repeat(filled.missing)))
                else:
                    columns[position] = list(map(filled.make, *(selected[key] for key in keys)))
            yield columns

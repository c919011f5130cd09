"""The list of cases of the "Dossiers" screen in the store: `count_cases` and `case_page`.
A mixin of `Store` (it uses the store's query helpers).

A search reads the list again at each keystroke. Filtering 50,000 cases in one statement cost
a tenth of a second or more: the school-year clause (the cases of the year and those carried
into it) and the full-text match were worked out for every case, twice (the count, then the
page). So the list is read in two steps:

- the order of the cases the filter selects, search aside, newest request first, as the small
  integer keys the full-text index knows them by (`case_search_key`: every case has one). It is
  read once and kept while the filter, search aside, stays the same and the base does not
  change (`Store.base_version`: another connection committed, or this one wrote);
- for a search, the keys the full-text index matches, kept in that order: the count is their
  number, a page their slice, and only the rows of a page are read from the cases.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace

from rased_tui.domain.filters import CaseFilter, StatusGroup
from rased_tui.store.case_columns import LEVELS_SQL, SUBJECT_SQL

CLOSED_STATUSES = ("cloturee", "classee_sans_suite")

# The columns of a row of the list, for the cases whose keys are given (`keys`: a placeholder
# per key).
PAGE_SQL = f"""
    SELECT c.id, c.number, c.date_sent, c.subject_kind, c.urgent,
           {SUBJECT_SQL} AS subject,
           s.name AS school,
           {LEVELS_SQL} AS levels,
           (SELECT motif FROM case_motifs WHERE case_id = c.id AND rank = 1) AS main_motif,
           (SELECT status FROM case_status WHERE case_id = c.id) AS status,
           (SELECT group_concat(last_name, ', ') FROM (
                SELECT DISTINCT m.last_name FROM members m
                 WHERE m.id IN (SELECT em.member_id FROM timeline_entry_members em
                                  JOIN timeline_entries e ON e.id = em.entry_id
                                 WHERE e.case_id = c.id
                                UNION SELECT a.member_id FROM aids a WHERE a.case_id = c.id)
                 ORDER BY m.last_name)) AS members,
           (SELECT max(date) FROM timeline_entries WHERE case_id = c.id) AS last_entry
      FROM case_search_key k
      JOIN cases c ON c.id = k.case_id
      JOIN schools s ON s.id = c.school_id
      LEFT JOIN pupils p ON p.id = c.pupil_id
     WHERE k.key IN ({{keys}})
     ORDER BY c.date_sent DESC, c.number DESC"""


@dataclass(frozen=True)
class _Keys:
    """The keys a filter selected, in list order, and the state of the base they were read in."""

    case_filter: CaseFilter
    base_version: tuple[int, int]
    keys: list[int]


class CaseListQueries:
    """The list of cases a CaseFilter selects: its count, and one page at a time."""

    _order: _Keys | None = None  # the last filter's order, search aside
    _matches: _Keys | None = None  # the last search's keys, in that order

    def count_cases(self, case_filter: CaseFilter) -> int:
        return len(self._matching_keys(case_filter))

    def case_page(self, case_filter: CaseFilter, offset: int, limit: int) -> list[sqlite3.Row]:
        """One page of the list, newest request first, as plain rows (a page is read on every
        keystroke of the search: no models). Columns: id, number, date_sent, subject,
        subject_kind, school, levels, main_motif, status, urgent, members, last_entry."""
        keys = self._matching_keys(case_filter)[offset:offset + limit]
        if not keys:
            return []
        return self._all(PAGE_SQL.format(keys=", ".join("?" * len(keys))), tuple(keys))

    def _matching_keys(self, case_filter: CaseFilter) -> list[int]:
        """The keys of the cases the filter selects, search included, in list order."""
        version = self.base_version()
        if self._matches and self._matches.case_filter == case_filter and self._matches.base_version == version:
            return self._matches.keys
        order = self._ordered_keys(replace(case_filter, search=""), version)
        terms = case_filter.search_terms
        if terms:
            found = {row[0] for row in self._all("SELECT rowid FROM case_search WHERE case_search MATCH ?",
                                                 (fts_query(terms),))}
            order = [key for key in order if key in found]
        self._matches = _Keys(case_filter, version, order)
        return order

    def _ordered_keys(self, case_filter: CaseFilter, version: tuple[int, int]) -> list[int]:
        """The keys of the cases a filter without search selects, newest request first."""
        if self._order and self._order.case_filter == case_filter and self._order.base_version == version:
            return self._order.keys
        where, parameters = _filter_sql(case_filter)
        keys = [row[0] for row in self._all(
            f"SELECT k.key FROM cases c JOIN case_search_key k ON k.case_id = c.id WHERE {where}"
            " ORDER BY c.date_sent DESC, c.number DESC", parameters)]
        self._order = _Keys(case_filter, version, keys)
        return keys


def _filter_sql(case_filter: CaseFilter) -> tuple[str, tuple]:
    """The WHERE clause (on `cases c`) and its parameters for a CaseFilter, search aside (the
    search is matched on the keys: `_matching_keys`)."""
    # "own year OR carried into it": the cases of the year come from their index, and only
    # the few carried ones from the steps (a UNION of ids compared every case's id to a set)
    clauses = ["(c.school_year = ? OR c.id IN (SELECT case_id FROM timeline_entries WHERE to_school_year = ?))"]
    parameters: list = [case_filter.school_year, case_filter.school_year]
    if case_filter.status is not StatusGroup.TOUS:
        negation = "NOT " if case_filter.status is StatusGroup.OUVERTS else ""
        clauses.append(f"(SELECT status FROM case_status WHERE case_id = c.id) {negation}IN (?, ?)")
        parameters += CLOSED_STATUSES
    if case_filter.school_id:
        clauses.append("c.school_id = ?")
        parameters.append(case_filter.school_id)
    if case_filter.member_id:
        # a set computed once (a correlated EXISTS ran cases × steps: minutes at 50,000 cases)
        clauses.append("c.id IN (SELECT e.case_id FROM timeline_entry_members em JOIN timeline_entries e"
                       " ON e.id = em.entry_id WHERE em.member_id = ?"
                       " UNION SELECT a.case_id FROM aids a WHERE a.member_id = ?)")
        parameters += [case_filter.member_id, case_filter.member_id]
    if case_filter.motif:
        clauses.append("EXISTS (SELECT 1 FROM case_motifs m WHERE m.case_id = c.id AND m.motif = ?)")
        parameters.append(case_filter.motif.value)
    if case_filter.urgent_only:
        clauses.append("c.urgent = 1")
    return " AND ".join(clauses), tuple(parameters)


def fts_query(terms: list[str]) -> str:
    """Each typed word as the start of a word, quoted: FTS5 syntax (OR, NEAR, :) never leaks."""
    return " ".join('"{}"*'.format(term.replace('"', '""')) for term in terms)

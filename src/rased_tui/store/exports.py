"""The rows an export bundle is made of, read straight from the database (a mixin of `Store`).

Bulk streams of plain rows (dicts keyed by the fields of exchange/bundle_spec.py), not domain
models: an export of 50,000 cases must take seconds. The selection (a school year, a période,
open cases only) picks the cases; their pupils, steps, aids and evaluations follow them. Schools,
members, périodes and meetings go whole: every reference in the bundle must resolve.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rased_tui.domain.enums import ClassLevel

LEVEL_ORDER = {level.value: position for position, level in enumerate(ClassLevel)}


@dataclass(frozen=True)
class ExportSelection:
    """Which cases leave: those of a school year (or of one of its périodes), open ones only."""

    school_year: str | None = None
    period_number: int | None = None
    open_only: bool = False
    include_confidential: bool = False


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

    def _stream(self, sql: str, parameters: dict[str, Any] | tuple = ()) -> Iterator[dict[str, Any]]:
        cursor = self._connection.cursor()
        cursor.row_factory = None  # plain tuples, made into dicts with the names read once
        cursor.execute(sql, parameters)
        names = [column[0] for column in cursor.description]
        while rows := cursor.fetchmany(2000):
            for row in rows:
                yield dict(zip(names, row))

    def count_chosen_cases(self, selection: ExportSelection) -> int:
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._one(f"SELECT count(*) FROM ({chosen})", parameters)[0]

    def count_chosen_pupils(self, selection: ExportSelection) -> int:
        """How many pupils the chosen cases are about (each once): what a nominative export names."""
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._one(f"SELECT count(DISTINCT pupil_id) FROM cases WHERE id IN ({chosen})", parameters)[0]

    def export_schools(self) -> Iterator[dict[str, Any]]:
        return self._stream("SELECT * FROM schools ORDER BY uai")

    def export_members(self) -> Iterator[dict[str, Any]]:
        return self._stream("SELECT * FROM members ORDER BY last_name, first_name, id")

    def export_periods(self) -> Iterator[dict[str, Any]]:
        return self._stream("SELECT * FROM periods ORDER BY school_year, number")

    def export_meetings(self) -> Iterator[dict[str, Any]]:
        return self._stream("SELECT * FROM meetings ORDER BY date, id")

    def export_pupils(self, selection: ExportSelection, *, by_name: bool) -> Iterator[dict[str, Any]]:
        """The pupils of the chosen cases, by name, or (a pseudonymised export: an order by
        name would tell who is who) by their random id."""
        chosen, parameters = self.chosen_cases_sql(selection)
        order = "last_name, first_name, id" if by_name else "id"
        return self._stream(f"SELECT * FROM pupils WHERE id IN (SELECT pupil_id FROM cases WHERE id IN ({chosen}))"
                            f" ORDER BY {order}", parameters)

    def export_cases(self, selection: ExportSelection) -> Iterator[dict[str, Any]]:
        """Each case with its lists and what the reader of the spreadsheet wants beside it."""
        chosen, parameters = self.chosen_cases_sql(selection)
        levels = self._case_lists("SELECT case_id, level FROM case_levels", chosen, parameters)
        motifs = self._case_lists("SELECT case_id, motif FROM case_motifs", chosen, parameters, order="rank")
        actions = self._case_lists("SELECT case_id, action FROM case_prior_actions", chosen, parameters, order="action")
        phases = {row["case_id"]: row for row in self._all(
            f"""SELECT case_id,
                       min(CASE WHEN kind = 'analyse' THEN date END) AS analysed_on,
                       min(CASE WHEN kind = 'premiere_intention' THEN date END) AS first_response_on,
                       min(CASE WHEN kind = 'seconde_intention' THEN date END) AS second_response_on,
                       min(CASE WHEN kind = 'bilan' THEN date END) AS bilan_on,
                       max(CASE WHEN kind = 'cloture' THEN date END) AS closed_on
                  FROM timeline_entries WHERE case_id IN ({chosen}) GROUP BY case_id""", parameters)}
        current_aids = self._case_lists(
            "SELECT a.case_id, a.kind || ' — ' || m.first_name || ' ' || m.last_name"
            " FROM aids a JOIN members m ON m.id = a.member_id"
            " WHERE a.end_date IS NULL AND a.consent_status = 'donne'", chosen, parameters, order="a.start_date",
            case_column="a.case_id")
        rows = self._stream(
            f"""SELECT c.*, p.last_name AS pupil_last_name, p.first_name AS pupil_first_name,
                       p.birth_date, p.pseudonym AS stored_pseudonym, s.uai AS school_uai,
                       s.name AS school_name, st.status
                  FROM cases c
                  JOIN schools s ON s.id = c.school_id
                  JOIN case_status st ON st.case_id = c.id
                  LEFT JOIN pupils p ON p.id = c.pupil_id
                 WHERE c.id IN ({chosen})
                 ORDER BY c.school_year, c.number""", parameters)
        for row in rows:
            case_id = row["id"]
            row["levels"] = sorted(levels.get(case_id, []), key=LEVEL_ORDER.__getitem__)
            row["motifs"] = motifs.get(case_id, [])
            row["prior_action_labels"] = actions.get(case_id, [])
            phase = phases.get(case_id)
            for name in ("analysed_on", "first_response_on", "second_response_on", "bilan_on", "closed_on"):
                row[name] = phase[name] if phase else None
            if row["status"] not in ("cloturee", "classee_sans_suite"):
                row["closed_on"] = None
            row["current_aids"] = " | ".join(current_aids.get(case_id, []))
            yield row

    def _case_lists(self, select: str, chosen: str, parameters: dict[str, Any], *, order: str = "2",
                    case_column: str = "case_id") -> dict[str, list[str]]:
        """case id -> the values `select` reads (its 1st column is the case id), in `order`."""
        connector = " AND " if " WHERE " in select else " WHERE "
        lists: dict[str, list[str]] = {}
        for case_id, value in self._connection.execute(
                f"{select}{connector}{case_column} IN ({chosen}) ORDER BY {order}", parameters):
            lists.setdefault(case_id, []).append(value)
        return lists

    def export_prior_actions(self, selection: ExportSelection) -> Iterator[dict[str, Any]]:
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._stream(
            f"""SELECT x.*, c.number FROM case_prior_actions x JOIN cases c ON c.id = x.case_id
                 WHERE x.case_id IN ({chosen}) ORDER BY c.school_year, c.number, x.action""", parameters)

    def export_aids(self, selection: ExportSelection) -> Iterator[dict[str, Any]]:
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._stream(
            f"""SELECT a.*, c.number, m.first_name || ' ' || m.last_name AS member_name
                  FROM aids a JOIN cases c ON c.id = a.case_id JOIN members m ON m.id = a.member_id
                 WHERE a.case_id IN ({chosen}) ORDER BY c.school_year, c.number, a.start_date, a.id""", parameters)

    def export_evaluations(self, selection: ExportSelection) -> Iterator[dict[str, Any]]:
        chosen, parameters = self.chosen_cases_sql(selection)
        return self._stream(
            f"""SELECT v.*, a.case_id, c.number
                  FROM aid_evaluations v JOIN aids a ON a.id = v.aid_id JOIN cases c ON c.id = a.case_id
                 WHERE a.case_id IN ({chosen}) ORDER BY c.school_year, c.number, v.date, v.created_at, v.id""",
            parameters)

    def export_entries(self, selection: ExportSelection) -> Iterator[dict[str, Any]]:
        """The steps of the chosen cases; confidential notes only when asked in so many words."""
        chosen, parameters = self._of_chosen_cases("e.case_id", selection)
        hidden = "" if selection.include_confidential else " AND e.confidential = 0"
        names = {row[0]: row[1] for row in self._connection.execute(
            "SELECT id, first_name || ' ' || last_name FROM members")}
        members: dict[str, list[str]] = {}
        for entry_id, member_id in self._connection.execute(
                "SELECT entry_id, member_id FROM timeline_entry_members ORDER BY entry_id, member_id"):
            members.setdefault(entry_id, []).append(member_id)
        calls: dict[str, list[str]] = {}
        for entry_id, kind in self._connection.execute(
                "SELECT entry_id, kind FROM analysis_aid_calls"
                " ORDER BY entry_id, instr(',E,G,psy,', ',' || kind || ',')"):
            calls.setdefault(entry_id, []).append(kind)
        rows = self._stream(
            f"""SELECT e.*, c.number FROM timeline_entries e JOIN cases c ON c.id = e.case_id
                 WHERE {chosen}{hidden}
                 ORDER BY c.school_year, c.number, e.date, e.created_at, e.id""", parameters)
        for row in rows:
            row["member_ids"] = members.get(row["id"], [])
            row["member_names"] = " | ".join(names.get(member_id, "") for member_id in row["member_ids"])
            row["author_name"] = names.get(row["author_member_id"], "") if row["author_member_id"] else ""
            row["aids_called"] = calls.get(row["id"], [])
            yield row

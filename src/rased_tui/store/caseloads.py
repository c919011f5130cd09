"""Caseloads and the waiting list in the store: the SQL behind "Prises en charge" and
"Liste d'attente". A mixin of `Store` (it uses the store's query helpers).

A caseload holds the aids agreed to by the family (consent 'donne'); an aid proposed and still
waiting for that agreement is on the waiting list instead, with the cases whose first analysis
called for a RASED aid that has not started.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from rased_tui.domain.caseloads import CaseloadAid, CaseloadFilter, WaitingCase
from rased_tui.domain.enums import AidKind, Modality
from rased_tui.store.case_columns import LEVELS_SQL, SUBJECT_SQL

# The calls for an aid of each case: the kinds a first analysis asked for, and the aids
# proposed to a family who has not answered yet, each with its date.
CALLS_SQL = """
    SELECT e.case_id, x.kind, e.date AS since
      FROM analysis_aid_calls x JOIN timeline_entries e ON e.id = x.entry_id
    UNION ALL
    SELECT a.case_id, a.kind, coalesce(e.date, a.start_date)
      FROM aids a LEFT JOIN timeline_entries e ON e.aid_id = a.id AND e.sub_kind = 'aide_specialisee'
     WHERE a.consent_status = 'en_attente' AND a.end_date IS NULL"""

# A call is answered by an aid of its kind that started (agreed to, begun by `day`, and still
# running or begun since the call), or by the family's refusal since the call.
ANSWERED_SQL = """
    EXISTS (SELECT 1 FROM aids a
             WHERE a.case_id = calls.case_id AND a.kind = calls.kind
               AND ((a.consent_status = 'donne' AND a.start_date <= :day
                     AND (a.end_date IS NULL OR a.start_date >= calls.since))
                    OR (a.consent_status = 'refuse' AND a.start_date >= calls.since)))"""


class CaseloadQueries:
    """The aids of each RASED member, and the cases waiting for one."""

    def caseload_aids(self, caseload_filter: CaseloadFilter, day: date) -> list[CaseloadAid]:
        """The aids agreed to and running (today, or at some time in the période chosen),
        with their member, case, pupil or group, school and levels."""
        first, last = caseload_filter.span(day)
        clauses = ["a.consent_status = 'donne'"]
        parameters: dict[str, str] = {"first": first.isoformat(), "last": last.isoformat()}
        if caseload_filter.period is None:
            clauses.append("a.end_date IS NULL")
        else:
            clauses.append("a.start_date <= :last AND (a.end_date IS NULL OR a.end_date >= :first)")
        if caseload_filter.school_id:
            clauses.append("c.school_id = :school")
            parameters["school"] = caseload_filter.school_id
        if caseload_filter.antenna is not None:
            clauses.append("m.antenna = :antenna")
            parameters["antenna"] = caseload_filter.antenna
        rows = self._all(
            f"""SELECT a.id, a.case_id, c.number, a.member_id, a.kind, c.pupil_id,
                       {SUBJECT_SQL} AS subject, s.name AS school, {LEVELS_SQL} AS levels,
                       a.modality, a.sessions_per_week, a.start_date, a.expected_weeks, a.end_date,
                       (SELECT max(v.date) FROM aid_evaluations v
                         WHERE v.aid_id = a.id AND v.phase = 'fin') AS final_bilan
                  FROM aids a
                  JOIN members m ON m.id = a.member_id
                  JOIN cases c ON c.id = a.case_id
                  JOIN schools s ON s.id = c.school_id
                  LEFT JOIN pupils p ON p.id = c.pupil_id
                 WHERE {' AND '.join(clauses)}
                 ORDER BY a.start_date, c.number""", parameters)
        return [_caseload_aid(row) for row in rows]

    def member_antennas(self) -> list[str]:
        """The antennas named in the directory, for the caseload's filter."""
        return [row[0] for row in self._all(
            "SELECT DISTINCT antenna FROM members WHERE antenna <> '' ORDER BY antenna")]

    def waiting_list(self, day: date, *, school_id: str | None = None) -> list[WaitingCase]:
        """Open cases whose analysis called for a RASED aid (or that were proposed one) that
        has not started by `day`, the longest wait first."""
        school_clause = "AND c.school_id = :school" if school_id else ""
        rows = self._all(
            f"""WITH calls AS ({CALLS_SQL}),
                     waiting AS (
                         SELECT case_id, group_concat(DISTINCT kind) AS kinds, min(since) AS since
                           FROM calls WHERE NOT {ANSWERED_SQL}
                          GROUP BY case_id)
                SELECT c.id, c.number, {SUBJECT_SQL} AS subject, s.name AS school,
                       {LEVELS_SQL} AS levels, c.urgent, waiting.kinds, waiting.since,
                       EXISTS (SELECT 1 FROM aids a WHERE a.case_id = c.id AND a.end_date IS NULL
                                  AND a.consent_status = 'en_attente') AS consent_pending,
                       (SELECT min(a.start_date) FROM aids a
                         WHERE a.case_id = c.id AND a.end_date IS NULL AND a.consent_status = 'donne'
                           AND a.start_date > :day) AS planned_start
                  FROM waiting
                  JOIN cases c ON c.id = waiting.case_id
                  JOIN case_status st ON st.case_id = c.id
                  JOIN schools s ON s.id = c.school_id
                  LEFT JOIN pupils p ON p.id = c.pupil_id
                 WHERE st.status NOT IN ('cloturee', 'classee_sans_suite') {school_clause}
                 ORDER BY waiting.since, c.number""",
            {"day": day.isoformat(), "school": school_id})
        return [_waiting_case(row) for row in rows]


def _caseload_aid(row: sqlite3.Row) -> CaseloadAid:
    return CaseloadAid(
        aid_id=row["id"], case_id=row["case_id"], case_number=row["number"], member_id=row["member_id"],
        kind=AidKind(row["kind"]), subject=row["subject"] or "", pupil_id=row["pupil_id"],
        school=row["school"], levels=row["levels"] or "", modality=Modality(row["modality"]),
        sessions_per_week=row["sessions_per_week"], start_date=date.fromisoformat(row["start_date"]),
        expected_weeks=row["expected_weeks"], end_date=_day(row["end_date"]), final_bilan=_day(row["final_bilan"]))


def _waiting_case(row: sqlite3.Row) -> WaitingCase:
    kinds = set(row["kinds"].split(","))
    return WaitingCase(
        case_id=row["id"], case_number=row["number"], subject=row["subject"] or "", school=row["school"],
        levels=row["levels"] or "", urgent=bool(row["urgent"]),
        kinds=tuple(kind for kind in AidKind if kind.value in kinds), since=date.fromisoformat(row["since"]),
        consent_pending=bool(row["consent_pending"]), planned_start=_day(row["planned_start"]))


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None

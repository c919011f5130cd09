"""The figures of the tableau de bord and of the bilan annuel d'activité (a mixin of `Store`).

For a school year, or one of its périodes, `activity_statistics` counts:

- the requests received, by school, level, cycle, motif, subject (élève, enseignant…) and
  requester;
- the cases of the year by their current status;
- the specialised aids (E, G, psy) running, by kind and by modality;
- the cases closed, by outcome;
- the delays: request → first analysis, → first response, → first aid, and the length of
  the aids that ended.

Every figure carries the ids of the cases behind it, so that a screen can list them. A
figure counts things (requests, cases or aids) and also the distinct pupils among them — a
pupil with two aids, or with aids in two cases, counts once — and the distinct cases about a
teacher, a team or a class ("groups": no pupil to count).

Which dates count (a `StatisticsScope`):
- a request belongs to the year its date of sending (`cases.date_sent`) falls in (1 August to
  31 July, as `school_year_of`), and to the first période of that year whose end is on or
  after it (`calendar.period_of`): a request sent during the holidays belongs to the période
  that follows them, and one sent after the last période (période 5) up to 31 July belongs to
  that last période, so that the five périodes add up to the year. Closures and ends of aids
  are dated the same way (the "window");
- an aid counts when it ran during the période's own dates, from its first to its last day
  (the "span", as the caseload screen filters by période), and has begun: its first day is
  on or before both the span's last day and today (an aid planned to start later is not
  running yet); an aid is one the family agreed to (consent 'donne'), as in the caseloads;
- the status is the current one (view `case_status`) of the cases that show in the year
  (view `case_years`), and with a période, of those active during it (as the export picks
  them: `ExportQueries.chosen_cases_sql`).

Medians and 90th percentiles use the nearest-rank definition: the p-th percentile of n
values is the value of rank ⌈p × n / 100⌉ once they are sorted. It is always a delay that
really happened, and reads « la moitié des demandes (90 % des demandes) ont eu leur première
analyse en N jours au plus ».

Each section is one SQL statement: its rows are gathered once (a MATERIALIZED common table
expression) and counted in all, then by each criterion, by SQLite (GROUP BY, count(DISTINCT),
group_concat for the case ids): a school year of 20,000 requests is counted in well under a
second.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from rased_tui.domain.calendar import PeriodSpan, parse_school_year, today
from rased_tui.domain.enums import (
    AidKind,
    CaseStatus,
    ClassLevel,
    ClosureOutcome,
    Modality,
    Motif,
    Requester,
    SubjectKind,
)
from rased_tui.domain.models import fold
from rased_tui.store.case_columns import SUBJECT_SQL
from rased_tui.store.errors import StoreError
from rased_tui.store.exports import ExportSelection

TOTAL = "total"  # the key of a section's total
NO_LEVEL = ""  # the key of the requests without a class level (a whole team, a school)
NO_LEVEL_LABEL = "Sans niveau (équipe, école)"
CYCLE_LABELS = {"1": "Cycle 1 (TPS à GS)", "2": "Cycle 2 (CP à CE2)", "3": "Cycle 3 (CM1, CM2)"}
CYCLE_SQL = "CASE level {} ELSE '' END".format(
    " ".join(f"WHEN '{level.value}' THEN '{level.cycle}'" for level in ClassLevel))
MAX_LISTED_CASES = 2000  # a drill-down lists at most this many cases (a DataTable of more is slow)


def nearest_rank(values: Iterable[int], percent: int) -> int | None:
    """The `percent`-th percentile of the values by nearest rank (None when there is none)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = -(-percent * len(ordered) // 100)  # ⌈percent × n / 100⌉, in integers
    return ordered[max(rank, 1) - 1]


@dataclass(frozen=True)
class Figure:
    """One line of a count: how many requests, cases or aids, and the cases behind them."""

    key: str  # the code counted (an enum value, a school id, a cycle), TOTAL for a total
    label: str  # in French, as people read it
    count: int  # requests, cases or aids
    pupils: int  # distinct pupils among them
    groups: int  # distinct cases about a teacher, a team or a class among them
    case_ids: tuple[str, ...]  # distinct, sorted


@dataclass(frozen=True)
class Delay:
    """Delays in days, one per case (or per aid, for the length of aids), and the cases."""

    key: str
    label: str
    days: tuple[int, ...]  # sorted
    case_ids: tuple[str, ...]  # distinct, sorted

    @property
    def count(self) -> int:
        return len(self.days)

    @property
    def median(self) -> int | None:
        return nearest_rank(self.days, 50)

    @property
    def p90(self) -> int | None:
        return nearest_rank(self.days, 90)


@dataclass(frozen=True)
class StatisticsScope:
    """A school year, or one période of it, and the dates that count."""

    school_year: str
    period: PeriodSpan | None
    # requests, closures, ends of aids: the holidays before a période count with it, and the
    # days after the last période (5), up to 31 July, with that one
    window: tuple[date, date]
    span: tuple[date, date]  # the aids running: the période's own first and last day


@dataclass(frozen=True)
class ActivityStatistics:
    """Every figure of the bilan d'activité, for one scope. Each `by_…` list of an
    enumeration has one line per member, in its order, lines at 0 included. `by_school` lists
    only the schools with at least one request, the most requests first; the "Sans niveau"
    line of `by_level` and `by_cycle` shows only when some request has no class level."""

    scope: StatisticsScope
    requests: Figure
    by_school: list[Figure]
    by_level: list[Figure]  # a mixed class under each of its levels
    by_cycle: list[Figure]
    by_motif: list[Figure]  # each motif a request names
    by_subject: list[Figure]
    by_requester: list[Figure]
    cases: Figure
    by_status: list[Figure]
    aids: Figure  # count: aids; pupils: each once
    aids_by_kind: list[Figure]
    aids_by_modality: list[Figure]
    closures: Figure
    by_outcome: list[Figure]
    delays: list[Delay]


# What each grouped line counts, over rows having case_id and pupil_id columns. Where a line
# holds each case once (a request under its school, under one of its levels…) counting rows is
# enough, and quicker than count(DISTINCT); a case may come twice under one cycle (CE1
# and CE2), and under one kind of aid.
CASES_COUNTED = """count(*) AS count, count(DISTINCT pupil_id) AS pupils,
                   coalesce(sum(pupil_id IS NULL), 0) AS group_cases, group_concat(case_id) AS case_ids"""
DISTINCT_CASES_COUNTED = """count(DISTINCT case_id) AS count, count(DISTINCT pupil_id) AS pupils,
                            count(DISTINCT CASE WHEN pupil_id IS NULL THEN case_id END) AS group_cases,
                            group_concat(DISTINCT case_id) AS case_ids"""
AIDS_COUNTED = """count(*) AS count, count(DISTINCT pupil_id) AS pupils,
                  count(DISTINCT CASE WHEN pupil_id IS NULL THEN case_id END) AS group_cases,
                  group_concat(DISTINCT case_id) AS case_ids"""


class StatisticsQueries:
    """The counts of the tableau de bord and of `rased-tui stats`."""

    def statistics_scope(self, school_year: str, period_number: int | None = None) -> StatisticsScope:
        """The dates that count for a school year, or for one of its périodes."""
        start = parse_school_year(school_year)
        year = (date(start, 8, 1), date(start + 1, 7, 31))  # as school_year_of splits the years
        if period_number is None:
            return StatisticsScope(school_year, None, year, year)
        periods = sorted(self.periods_of_year(school_year), key=lambda span: span.start)
        index = next((i for i, span in enumerate(periods) if span.number == period_number), None)
        if index is None:
            raise StoreError(f"L'année {school_year} n'a pas de période {period_number}.")
        period = periods[index]
        first = periods[index - 1].end + timedelta(days=1) if index else year[0]
        last = year[1] if index == len(periods) - 1 else period.end  # période 5: up to 31 July
        return StatisticsScope(school_year, period, (first, last), (period.start, period.end))

    def activity_statistics(self, school_year: str, period_number: int | None = None) -> ActivityStatistics:
        """Every figure for a school year, or one of its périodes (see the module's docstring)."""
        scope = self.statistics_scope(school_year, period_number)
        window = {"first": scope.window[0].isoformat(), "last": scope.window[1].isoformat()}
        return ActivityStatistics(
            scope=scope, **self._request_figures(window), **self._status_figures(scope),
            **self._aid_figures(scope), **self._closure_figures(window), delays=self._delays(window))

    def _grouped(self, sql: str, parameters: dict[str, str]) -> dict[str, dict[str, sqlite3.Row]]:
        """The rows of a section's statement, by dimension then key."""
        lines: dict[str, dict[str, sqlite3.Row]] = {}
        for row in self._all(sql, parameters):
            lines.setdefault(row["dimension"], {})[row["key"]] = row
        return lines

    # -- requests -------------------------------------------------------------------------------

    def _request_figures(self, window: dict[str, str]) -> dict[str, object]:
        """The requests of the window: in all, and by school, level, cycle, motif, subject and
        requester. A request for a mixed class counts under each of its levels, one naming two
        motifs under each motif: those lines add up to more than the requests."""
        lines = self._grouped(
            f"""WITH requests AS MATERIALIZED (
                         SELECT id AS case_id, pupil_id, school_id, subject_kind, requester
                           FROM cases WHERE date_sent BETWEEN :first AND :last),
                     levels AS MATERIALIZED (
                         SELECT r.case_id, r.pupil_id, coalesce(l.level, '') AS level
                           FROM requests r LEFT JOIN case_levels l ON l.case_id = r.case_id),
                     motifs AS (
                         SELECT r.case_id, r.pupil_id, m.motif
                           FROM requests r JOIN case_motifs m ON m.case_id = r.case_id)
                SELECT 'total' AS dimension, '{TOTAL}' AS key, {CASES_COUNTED} FROM requests
                UNION ALL SELECT 'school', school_id, {CASES_COUNTED} FROM requests GROUP BY school_id
                UNION ALL SELECT 'subject', subject_kind, {CASES_COUNTED} FROM requests GROUP BY subject_kind
                UNION ALL SELECT 'requester', requester, {CASES_COUNTED} FROM requests GROUP BY requester
                UNION ALL SELECT 'level', level, {CASES_COUNTED} FROM levels GROUP BY level
                UNION ALL SELECT 'cycle', {CYCLE_SQL}, {DISTINCT_CASES_COUNTED} FROM levels GROUP BY 2
                UNION ALL SELECT 'motif', motif, {CASES_COUNTED} FROM motifs GROUP BY motif""", window)
        school_names = {row["id"]: row["name"] for row in self._all("SELECT id, name FROM schools")}
        schools = _figures(lines.get("school", {}), {key: school_names[key] for key in lines.get("school", {})})
        schools.sort(key=lambda figure: (-figure.count, fold(figure.label)))
        no_level = {NO_LEVEL: NO_LEVEL_LABEL} if NO_LEVEL in lines.get("level", {}) else {}
        return {
            "requests": _figure(lines["total"][TOTAL], TOTAL, "Demandes reçues"),
            "by_school": schools,
            "by_level": _figures(lines.get("level", {}), {**_labels(ClassLevel), **no_level}),
            "by_cycle": _figures(lines.get("cycle", {}), {**CYCLE_LABELS, **no_level}),
            "by_motif": _figures(lines.get("motif", {}), _labels(Motif)),
            "by_subject": _figures(lines.get("subject", {}), _labels(SubjectKind)),
            "by_requester": _figures(lines.get("requester", {}), _labels(Requester)),
        }

    # -- status, aids, closures ---------------------------------------------------------------

    def _status_figures(self, scope: StatisticsScope) -> dict[str, object]:
        if scope.period:  # the cases of the year active during the période, as an export picks them
            chosen, parameters = self.chosen_cases_sql(
                ExportSelection(school_year=scope.school_year, period_number=scope.period.number))
        else:  # the view case_years written out: through the view SQLite reads both halves whole
            chosen = ("SELECT id FROM cases WHERE school_year = :year"
                      " UNION SELECT case_id FROM timeline_entries WHERE to_school_year = :year")
            parameters = {"year": scope.school_year}
        lines = self._grouped(
            f"""WITH chosen AS MATERIALIZED (
                         SELECT c.id AS case_id, c.pupil_id,
                                (SELECT status FROM case_status WHERE case_id = c.id) AS status
                           FROM cases c WHERE c.id IN ({chosen}))
                SELECT 'total' AS dimension, '{TOTAL}' AS key, {CASES_COUNTED} FROM chosen
                UNION ALL SELECT 'status', status, {CASES_COUNTED} FROM chosen GROUP BY status""", parameters)
        label = f"Dossiers actifs pendant la période {scope.period.number}" if scope.period \
            else f"Dossiers de l'année {scope.school_year}"
        return {"cases": _figure(lines["total"][TOTAL], TOTAL, label),
                "by_status": _figures(lines.get("status", {}), _labels(CaseStatus))}

    def _aid_figures(self, scope: StatisticsScope) -> dict[str, object]:
        """The aids agreed to that ran during the span and have begun (started on or before
        the span's last day and today): one count per aid, each pupil once."""
        lines = self._grouped(
            f"""WITH running AS MATERIALIZED (
                         SELECT a.case_id, c.pupil_id, a.kind, a.modality
                           FROM aids a JOIN cases c ON c.id = a.case_id
                          WHERE a.consent_status = 'donne' AND a.start_date <= :last
                            AND (a.end_date IS NULL OR a.end_date >= :first))
                SELECT 'total' AS dimension, '{TOTAL}' AS key, {AIDS_COUNTED} FROM running
                UNION ALL SELECT 'kind', kind, {AIDS_COUNTED} FROM running GROUP BY kind
                UNION ALL SELECT 'modality', modality, {AIDS_COUNTED} FROM running GROUP BY modality""",
            {"first": scope.span[0].isoformat(), "last": min(scope.span[1], today()).isoformat()})
        return {"aids": _figure(lines["total"][TOTAL], TOTAL, "Aides spécialisées en cours"),
                "aids_by_kind": _figures(lines.get("kind", {}), _labels(AidKind)),
                "aids_by_modality": _figures(lines.get("modality", {}), _labels(Modality))}

    def _closure_figures(self, window: dict[str, str]) -> dict[str, object]:
        """The cases closed in the window, each by the outcome of its last closure there."""
        lines = self._grouped(
            f"""WITH closed AS MATERIALIZED (
                         SELECT case_id, pupil_id, outcome FROM (
                             SELECT e.case_id, c.pupil_id, e.sub_kind AS outcome,
                                    row_number() OVER (PARTITION BY e.case_id
                                                       ORDER BY e.date DESC, e.created_at DESC, e.id DESC) AS latest
                               FROM timeline_entries e JOIN cases c ON c.id = e.case_id
                              WHERE e.kind = 'cloture' AND e.date BETWEEN :first AND :last)
                          WHERE latest = 1)
                SELECT 'total' AS dimension, '{TOTAL}' AS key, {CASES_COUNTED} FROM closed
                UNION ALL SELECT 'outcome', outcome, {CASES_COUNTED} FROM closed GROUP BY outcome""", window)
        return {"closures": _figure(lines["total"][TOTAL], TOTAL, "Dossiers clôturés"),
                "by_outcome": _figures(lines.get("outcome", {}), _labels(ClosureOutcome))}

    # -- delays ---------------------------------------------------------------------------------

    def _delays(self, window: dict[str, str]) -> list[Delay]:
        """From the request to its first analysis, first response and first aid (the requests
        of the window that reached that step; an aid whose start is still to come does not
        count), and the length of the aids ended in the window."""
        measures: dict[str, list[tuple[str, int]]] = {key: [] for key in DELAY_LABELS}
        # Steps are never dated before their request (schema.sql): `e.date >= :first` lets
        # SQLite read each case's steps from the index, from the window on.
        for measure, case_id, days in self._all(
                """WITH requests AS MATERIALIZED (
                           SELECT id, date_sent FROM cases WHERE date_sent BETWEEN :first AND :last),
                        steps AS MATERIALIZED (
                           SELECT r.id AS case_id, r.date_sent,
                                  min(CASE WHEN e.kind = 'analyse' THEN e.date END) AS analysis,
                                  min(CASE WHEN e.kind <> 'analyse' THEN e.date END) AS response
                             FROM requests r JOIN timeline_entries e ON e.case_id = r.id
                            WHERE e.kind IN ('analyse', 'premiere_intention', 'seconde_intention')
                              AND e.date >= :first
                            GROUP BY r.id),
                        first_aids AS (
                           SELECT r.id AS case_id, r.date_sent, min(a.start_date) AS start
                             FROM requests r JOIN aids a ON a.case_id = r.id
                            WHERE a.consent_status = 'donne' AND a.start_date <= :today
                            GROUP BY r.id)
                   SELECT 'analyse', case_id, julianday(analysis) - julianday(date_sent)
                     FROM steps WHERE analysis IS NOT NULL
                   UNION ALL SELECT 'reponse', case_id, julianday(response) - julianday(date_sent)
                     FROM steps WHERE response IS NOT NULL
                   UNION ALL SELECT 'aide', case_id, julianday(start) - julianday(date_sent) FROM first_aids
                   UNION ALL SELECT 'duree_aides', case_id, julianday(end_date) - julianday(start_date)
                     FROM aids WHERE consent_status = 'donne' AND end_date BETWEEN :first AND :last""",
                {**window, "today": today().isoformat()}):
            measures[measure].append((case_id, int(days)))
        return [Delay(key, label, tuple(sorted(days for _, days in measures[key])),
                      tuple(sorted({case_id for case_id, _ in measures[key]})))
                for key, label in DELAY_LABELS.items()]

    # -- the cases behind a figure ------------------------------------------------------------

    def cases_overview(self, case_ids: Iterable[str], limit: int = MAX_LISTED_CASES) -> list[sqlite3.Row]:
        """The cases behind a figure as a list shows them, by number, at most `limit`.
        Columns: id, number, subject, school, status."""
        return self._all(
            f"""WITH listed AS (SELECT id FROM cases WHERE id IN (SELECT value FROM json_each(:ids))
                                 ORDER BY number LIMIT :limit)
                SELECT c.id, c.number, {SUBJECT_SQL} AS subject, s.name AS school,
                       (SELECT status FROM case_status WHERE case_id = c.id) AS status
                  FROM listed JOIN cases c ON c.id = listed.id
                  JOIN schools s ON s.id = c.school_id
                  LEFT JOIN pupils p ON p.id = c.pupil_id
                 ORDER BY c.number""", {"ids": json.dumps(list(case_ids)), "limit": limit})


DELAY_LABELS = {
    "analyse": "Demande → première analyse",
    "reponse": "Demande → première réponse",  # of first or second intention
    "aide": "Demande → début de la première aide",
    "duree_aides": "Durée des aides terminées",
}


def _figure(row: sqlite3.Row | None, key: str, label: str) -> Figure:
    if row is None:
        return Figure(key, label, 0, 0, 0, ())
    case_ids = tuple(sorted(row["case_ids"].split(","))) if row["case_ids"] else ()
    return Figure(key, label, row["count"], row["pupils"], row["group_cases"], case_ids)


def _figures(rows: dict[str, sqlite3.Row], labels: dict[str, str]) -> list[Figure]:
    """One figure per key of `labels`, in its order (0 where no row counts it)."""
    return [_figure(rows.get(key), key, label) for key, label in labels.items()]


def _labels(enum) -> dict[str, str]:
    return {member.value: member.label for member in enum}

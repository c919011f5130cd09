"""The retention purge: what a closed case keeps once its retention period is over.

A case whose last step is a closure (clôturé, or classé sans suite) dated `retention_years`
(settings) or more before today is **expired**. Purging it:

- effaces what names or describes a person: the request's description, teacher's name, team
  reference and free details; the texts of its steps (confidential notes included), of its
  aids (objectives, end notes, who consented) and of their evaluations;
- turns its pupil, when every case of that pupil is expired, into a pupil known by a
  pseudonym only (as an import from a pseudonymised export would: `ELV-…`, "Élève", no birth
  date); a pupil with a case still kept keeps the identity; a pupil left without any case
  (a request given to another pupil) loses it too;
- blanks the texts of the audit rows about those records (the chain stays verifiable), and
  adds one audit row saying what was purged, by case number (never by name);
- decides from each case's status, closure date and what it still holds, never from a mark:
  a purged case reopened keeps its pupil, and is purged again once closed and expired;
- keeps every figure the statistics count: dates, kinds of steps, aids, levels, motifs,
  schools, outcomes, the pupil's id (a pupil still counts once).

The space the old texts took is overwritten (`secure_delete`), the search index is rewritten
without them, and the write-ahead journal is emptied, so that they do not linger in the file.
Copies made before (backups, an export) keep them: see README.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date

from rased_tui.domain.calendar import today
from rased_tui.domain.french import count
from rased_tui.domain.models import PSEUDONYMOUS_FIRST_NAME, fold
from rased_tui.domain.settings import Settings
from rased_tui.exchange import pseudonyms
from rased_tui.store.errors import StoreError

PURGED_TEXT = "[effacé]"  # where the schema or a rule wants a text: a description, a problématique
PURGED_CASE = ("Ce dossier a été purgé (durée de conservation écoulée) : il ne se modifie plus. "
               "Rien n'a été enregistré.")
CLOSED_STATUSES = ("cloturee", "classee_sans_suite")


@dataclass(frozen=True)
class PurgePlan:
    """What a purge would efface, or did: the cases closed on or before `closed_by`."""

    retention_years: int
    closed_by: date
    case_ids: list[str] = field(default_factory=list)
    case_numbers: list[str] = field(default_factory=list)
    pupil_ids: list[str] = field(default_factory=list)  # pupils who lose their identity
    cases_by_year: dict[str, int] = field(default_factory=dict)
    journal_emptied: bool = True  # False: a reader kept the old pages in the -wal (see purge_expired)

    @property
    def empty(self) -> bool:
        return not self.case_ids and not self.pupil_ids


def closure_limit(on: date, years: int) -> date:
    """The last closure date that has expired on `on`: the same day, `years` years earlier
    (a 29 February gives the 28th)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


# Cases whose last turn is a closure dated on or before :limit (the latest closure of a closed
# case is the day it was closed), whatever they still hold.
EXPIRED_CASES = f"""
WITH closed AS (SELECT case_id FROM timeline_entries WHERE kind = 'cloture'
                 GROUP BY case_id HAVING max(date) <= :limit)
SELECT c.id, c.number, c.school_year
  FROM closed JOIN cases c ON c.id = closed.case_id JOIN case_status s ON s.case_id = c.id
 WHERE s.status IN {CLOSED_STATUSES!r}
 ORDER BY c.school_year, c.number"""

# Among them, those that still hold a text to efface: one purged already holds none, unless it
# was reopened, written in and closed again since. The state of the texts says it, no marker.
STILL_HOLDING_TEXTS = """
SELECT c.id FROM cases c
 WHERE c.id IN (SELECT value FROM json_each(:cases))
   AND (c.description IS NOT :purged OR c.requester_detail <> ''
        OR c.teacher_name NOT IN ('', :purged) OR c.team_reference NOT IN ('', :purged)
        OR c.other_motif NOT IN ('', :purged)
        OR EXISTS (SELECT 1 FROM case_prior_actions p WHERE p.case_id = c.id AND p.detail <> '')
        OR EXISTS (SELECT 1 FROM timeline_entries e
                    WHERE e.case_id = c.id AND (e.text NOT IN ('', :purged) OR e.follow_up <> ''))
        OR EXISTS (SELECT 1 FROM aids a
                    WHERE a.case_id = c.id AND (a.objectives <> '' OR a.end_note <> '' OR a.consent_by <> ''))
        OR EXISTS (SELECT 1 FROM aids a JOIN aid_evaluations v ON v.aid_id = a.id
                    WHERE a.case_id = c.id AND v.observations <> ''))"""

# Pupils who still have an identity and no case kept: every case of theirs expired (or none at
# all: a pupil left behind when a request was given to another pupil).
PUPILS_TO_PURGE = """
SELECT p.id
  FROM pupils p
 WHERE (p.birth_date IS NOT NULL OR p.first_name IS NOT :pseudonymous OR p.last_name IS NOT p.pseudonym)
   AND NOT EXISTS (SELECT 1 FROM cases kept
                    WHERE kept.pupil_id = p.id AND kept.id NOT IN (SELECT value FROM json_each(:expired)))
 ORDER BY p.id"""


class RetentionQueries:
    """The purge of expired closed cases (mixed into Store)."""

    def purge_plan(self, on: date | None = None) -> PurgePlan:
        """What `purge_expired` would efface today (or on `on`), without writing anything."""
        years = self.settings().retention_years
        limit = closure_limit(on or today(), years)
        expired = self._all(EXPIRED_CASES, {"limit": limit.isoformat()})
        holding = {row["id"] for row in self._all(STILL_HOLDING_TEXTS, {
            "cases": _json([row["id"] for row in expired]), "purged": PURGED_TEXT})}
        rows = [row for row in expired if row["id"] in holding]
        pupils = self._all(PUPILS_TO_PURGE, {"expired": _json([row["id"] for row in expired]),
                                             "pseudonymous": PSEUDONYMOUS_FIRST_NAME})
        return PurgePlan(years, limit, [row["id"] for row in rows], [row["number"] for row in rows],
                         [row["id"] for row in pupils], dict(Counter(row["school_year"] for row in rows)))

    def purge_expired(self, on: date | None = None) -> PurgePlan:
        """Efface the identities and texts of the expired closed cases (module docstring), in
        one transaction, the plan worked out inside it (a case reopened meanwhile by another
        program is kept); the plan carried out is returned, with whether the journal could be
        emptied. Nothing to do: nothing written."""
        connection = self._connection
        connection.execute("PRAGMA secure_delete = ON")
        try:
            with self.transaction():
                plan = self.purge_plan(on)
                if not plan.empty:
                    self._carry_out(plan)
        finally:
            connection.execute("PRAGMA secure_delete = OFF")
        return replace(plan, journal_emptied=self._empty_the_journal())

    def refuse_if_purged(self, case_id: str) -> None:
        """A purged case, still closed and expired, is not edited any more: a form opened before
        the purge (here or in another window) would otherwise put its texts back."""
        row = self._one("SELECT description FROM cases WHERE id = ?", (case_id,))
        if row is not None and row[0] == PURGED_TEXT and case_expired(self._connection, case_id):
            raise StoreError(PURGED_CASE)

    def _carry_out(self, plan: PurgePlan) -> None:
        self._connection.execute("INSERT INTO settings (key, value) VALUES ('search_suspended', '1')")
        self._efface_cases(plan.case_ids)
        self._efface_pupils(plan.pupil_ids)
        self._connection.execute("DELETE FROM settings WHERE key = 'search_suspended'")
        self._index_again(plan)
        self._blank_audit_texts(plan)
        for case_id in plan.case_ids:  # the case's own journal (j) says it, with no text
            self._audit("purge", "cases", case_id, None, None)
        self._audit("purge", "*", "*", None, {"resume": f"purge de conservation : {purge_summary(plan)}",
                                             "dossiers": plan.case_numbers})

    def _empty_the_journal(self) -> bool:
        """Fold the write-ahead journal into the file and empty it: until then the pages as they
        were before the purge, names included, are still in the -wal, and in the file itself.
        False when another program reading the base keeps it from finishing."""
        try:
            busy = self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error:
            return False
        return not busy

    def _efface_cases(self, case_ids: list[str]) -> None:
        now = self._now()
        chosen = [(case_id,) for case_id in case_ids]
        run = self._connection.executemany
        run("""UPDATE cases
                  SET description = :purged, requester_detail = '',
                      teacher_name = CASE WHEN teacher_name = '' THEN '' ELSE :purged END,
                      team_reference = CASE WHEN team_reference = '' THEN '' ELSE :purged END,
                      other_motif = CASE WHEN other_motif = '' THEN '' ELSE :purged END,
                      updated_at = :now
                WHERE id = :id""", [{"purged": PURGED_TEXT, "now": now, "id": case_id} for case_id in case_ids])
        run("UPDATE case_prior_actions SET detail = '' WHERE case_id = ?", chosen)
        run(f"""UPDATE timeline_entries
                   SET text = CASE WHEN text = '' THEN '' ELSE '{PURGED_TEXT}' END, follow_up = '',
                       updated_at = '{now}'
                 WHERE case_id = ?""", chosen)
        run(f"""UPDATE aid_evaluations SET observations = '', updated_at = '{now}'
                WHERE aid_id IN (SELECT id FROM aids WHERE case_id = ?)""", chosen)
        run(f"UPDATE aids SET objectives = '', end_note = '', consent_by = '', updated_at = '{now}' WHERE case_id = ?",
            chosen)

    def _index_again(self, plan: PurgePlan) -> None:
        """The search documents of the purged cases and of every case of the purged pupils
        (one purged earlier still named its pupil), made again once — the index's triggers were
        held back: each step's update would have remade its case's document — then the index
        merged into one segment, which drops the deleted terms it kept until then."""
        chosen = {"cases": _json(plan.case_ids), "pupils": _json(plan.pupil_ids)}
        self._connection.execute("""CREATE TEMP TABLE reindexed AS
                                    SELECT value AS case_id FROM json_each(:cases)
                                    UNION SELECT id FROM cases WHERE pupil_id IN (SELECT value FROM json_each(:pupils))""",
                                 chosen)
        try:
            self._connection.execute("""DELETE FROM case_search WHERE rowid IN (
                                            SELECT key FROM case_search_key WHERE case_id IN temp.reindexed)""")
            self._connection.execute("""INSERT INTO case_search (rowid, number, names, texts)
                                        SELECT key, number, names, texts FROM case_search_document
                                         WHERE case_id IN temp.reindexed""")
        finally:
            self._connection.execute("DROP TABLE temp.reindexed")
        self._connection.execute("INSERT INTO case_search (case_search) VALUES ('optimize')")

    def _efface_pupils(self, pupil_ids: list[str]) -> None:
        secret, _ = pseudonyms.pseudonym_secret(self)
        rows = []
        for (pupil_id, stored_pseudonym) in self._connection.execute(
                "SELECT id, pseudonym FROM pupils WHERE id IN (SELECT value FROM json_each(?))",
                (_json(pupil_ids),)):
            code = stored_pseudonym or pseudonyms.pseudonym(secret, pupil_id)
            rows.append({"id": pupil_id, "code": code, "key": fold(f"{code} {PSEUDONYMOUS_FIRST_NAME}"),
                         "first": PSEUDONYMOUS_FIRST_NAME, "now": self._now()})
        self._connection.executemany(
            """UPDATE pupils SET last_name = :code, first_name = :first, birth_date = NULL, pseudonym = :code,
                                 name_key = :key, updated_at = :now
                WHERE id = :id""", rows)

    def _blank_audit_texts(self, plan: PurgePlan) -> None:
        """The before/after texts of every audit row about a purged record: the case, its
        steps, aids and evaluations (also those deleted since, found by what their rows say),
        and the pupils who lost their identity."""
        self._connection.execute("CREATE TEMP TABLE purged_rows (id TEXT PRIMARY KEY) WITHOUT ROWID")
        try:
            cases = _json(plan.case_ids)
            self._connection.execute(
                """INSERT OR IGNORE INTO temp.purged_rows
                   SELECT value FROM json_each(:cases)
                   UNION SELECT value FROM json_each(:pupils)
                   UNION SELECT id FROM timeline_entries WHERE case_id IN (SELECT value FROM json_each(:cases))
                   UNION SELECT id FROM aids WHERE case_id IN (SELECT value FROM json_each(:cases))""",
                {"cases": cases, "pupils": _json(plan.pupil_ids)})
            self._connection.execute(  # records of the cases deleted since, and evaluations
                """INSERT OR IGNORE INTO temp.purged_rows
                   SELECT row_id FROM audit_log
                    WHERE table_name IN ('timeline_entries', 'aids', 'aid_evaluations')
                      AND (coalesce(json_extract(before, '$.case_id'), json_extract(after, '$.case_id'))
                               IN (SELECT value FROM json_each(:cases))
                           OR coalesce(json_extract(before, '$.aid_id'), json_extract(after, '$.aid_id'))
                               IN (SELECT id FROM temp.purged_rows))""", {"cases": cases})
            self._connection.execute(
                """UPDATE audit_log SET before = NULL, after = NULL
                    WHERE row_id IN (SELECT id FROM temp.purged_rows)
                      AND (before IS NOT NULL OR after IS NOT NULL)""")
        finally:
            self._connection.execute("DROP TABLE temp.purged_rows")


def purge_summary(plan: PurgePlan) -> str:
    """What is purged, in a few French words: numbers only, never a name."""
    closed = "clôturé" if len(plan.case_ids) == 1 else "clôturés"
    return (f"{count(len(plan.case_ids), 'dossier')} {closed} au plus tard le {plan.closed_by:%d/%m/%Y} "
            f"(textes effacés), {count(len(plan.pupil_ids), 'élève')} sans autre dossier gardé (identité effacée)")


def _expired_cases_among(connection: sqlite3.Connection, where: str, parameter: str, on: date | None) -> tuple[int, int]:
    """(cases, expired cases) among those `where` picks (with one parameter)."""
    stored = dict(connection.execute("SELECT key, value FROM settings").fetchall())
    limit = closure_limit(on or today(), Settings.from_stored(stored).retention_years)
    return tuple(connection.execute(
        f"""SELECT count(*), coalesce(sum(s.status IN {CLOSED_STATUSES!r}
                                         AND (SELECT max(t.date) FROM timeline_entries t
                                               WHERE t.case_id = c.id AND +t.kind = 'cloture') <= ?), 0)
              FROM cases c JOIN case_status s ON s.case_id = c.id
             WHERE {where}""", (limit.isoformat(), parameter)).fetchone())


def identity_expired(connection: sqlite3.Connection, pupil_id: str, on: date | None = None) -> bool:
    """Whether every case of the pupil has expired (and there is one): the purge has effaced,
    or would efface, the pupil's identity, which an import must then not bring back."""
    cases, expired = _expired_cases_among(connection, "c.pupil_id = ?", pupil_id, on)
    return cases > 0 and cases == expired


def case_expired(connection: sqlite3.Connection, case_id: str, on: date | None = None) -> bool:
    """Whether the case is closed, and was closed `retention_years` or more ago."""
    return _expired_cases_among(connection, "c.id = ?", case_id, on) == (1, 1)


LISTED_NUMBERS = 20
JOURNAL_NOT_EMPTIED = ("Attention : un autre programme lit la base en ce moment ; les textes effacés restent dans "
                       "son journal (fichier -wal) tant qu'il ne l'a pas fermée. Fermez-le, puis relancez "
                       "la purge : elle videra le journal.")


def purge_report(plan: PurgePlan, *, done: bool) -> str:
    """What a purge did, or would do (`done` False: a dry run), in French, for the terminal."""
    rule = f"{count(plan.retention_years, 'an')} après la clôture"
    if not plan.case_ids and not plan.pupil_ids:
        return (f"Rien à purger : aucun dossier clôturé au plus tard le {plan.closed_by:%d/%m/%Y} "
                f"(conservation : {rule}) n'a encore son identité ou ses textes."
                + ("" if plan.journal_emptied else "\n" + JOURNAL_NOT_EMPTIED))
    numbers = ", ".join(plan.case_numbers[:LISTED_NUMBERS]) + ("…" if len(plan.case_numbers) > LISTED_NUMBERS else "")
    lines = [f"Purge de conservation ({rule}) : {purge_summary(plan)}."]
    lines += [f"  {year} : {count(number, 'dossier')}" for year, number in sorted(plan.cases_by_year.items())]
    if numbers:
        lines.append(f"  numéros : {numbers}")
    if done:
        lines.append("Identités et textes effacés (journal d'audit compris) ; les chiffres du bilan d'activité "
                     "restent les mêmes. Les sauvegardes et exports faits avant gardent ces données.")
    else:
        lines.append("Essai (--dry-run) : rien n'a été modifié.")
    if not plan.journal_emptied:
        lines.append(JOURNAL_NOT_EMPTIED)
    return "\n".join(lines)


def _json(values: list[str]) -> str:
    return json.dumps(values)

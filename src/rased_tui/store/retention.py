"""The retention purge: what a closed case keeps once its retention period is over.

A case whose last step is a closure (clôturé, or classé sans suite) dated `retention_years`
(settings) or more before today is **expired**. Purging it:

- effaces what names or describes a person: the request's description, teacher's name, team
  reference and free details; the texts of its steps (confidential notes included), of its
  aids (objectives, end notes, who consented) and of their evaluations;
- turns its pupil, when every case of that pupil is expired, into a pupil known by a
  pseudonym only (as an import from a pseudonymised export would: `ELV-…`, "Élève", no birth
  date); a pupil with a case still kept keeps the identity;
- blanks the texts of the audit rows about those records (the chain stays verifiable), and
  adds one audit row saying what was purged, by case number (never by name);
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
from dataclasses import dataclass, field
from datetime import date

from rased_tui.domain.calendar import today
from rased_tui.domain.french import count
from rased_tui.domain.models import fold
from rased_tui.exchange import pseudonyms
from rased_tui.store.errors import translate_sqlite_error
from rased_tui.store.merge import PSEUDONYMOUS_FIRST_NAME  # a pupil known by a pseudonym only

PURGED_TEXT = "[effacé]"  # where the schema or a rule wants a text: a description, a problématique
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


# Cases closed on or before :limit, not purged yet. A closed case's last turn is a closure,
# so its latest closure date is the date it was closed.
EXPIRED_CASES = f"""
WITH closed AS (SELECT case_id FROM timeline_entries WHERE kind = 'cloture'
                 GROUP BY case_id HAVING max(date) <= :limit)
SELECT c.id, c.number, c.school_year
  FROM closed JOIN cases c ON c.id = closed.case_id JOIN case_status s ON s.case_id = c.id
 WHERE s.status IN {CLOSED_STATUSES!r} AND c.description IS NOT :purged
 ORDER BY c.school_year, c.number"""

# Pupils of expired cases (purged or about to be) who still have an identity, and no other case.
PUPILS_TO_PURGE = """
SELECT p.id
  FROM pupils p
 WHERE p.id IN (SELECT pupil_id FROM cases WHERE pupil_id IS NOT NULL AND id IN (SELECT value FROM json_each(:cases))
                UNION SELECT pupil_id FROM cases WHERE pupil_id IS NOT NULL AND description = :purged)
   AND (p.birth_date IS NOT NULL OR p.first_name IS NOT :pseudonymous OR p.last_name IS NOT p.pseudonym)
   AND NOT EXISTS (SELECT 1 FROM cases other
                    WHERE other.pupil_id = p.id AND other.description IS NOT :purged
                      AND other.id NOT IN (SELECT value FROM json_each(:cases)))
 ORDER BY p.id"""


class RetentionQueries:
    """The purge of expired closed cases (mixed into Store)."""

    def purge_plan(self, on: date | None = None) -> PurgePlan:
        """What `purge_expired` would efface today (or on `on`), without writing anything."""
        years = self.settings().retention_years
        limit = closure_limit(on or today(), years)
        rows = self._all(EXPIRED_CASES, {"limit": limit.isoformat(), "purged": PURGED_TEXT})
        case_ids = [row["id"] for row in rows]
        pupils = self._all(PUPILS_TO_PURGE, {"cases": _json(case_ids), "purged": PURGED_TEXT,
                                             "pseudonymous": PSEUDONYMOUS_FIRST_NAME})
        return PurgePlan(years, limit, case_ids, [row["number"] for row in rows], [row["id"] for row in pupils],
                         dict(Counter(row["school_year"] for row in rows)))

    def purge_expired(self, on: date | None = None) -> PurgePlan:
        """Efface the identities and texts of the expired closed cases (module docstring), in
        one transaction; the plan carried out is returned. Nothing to do: nothing written."""
        plan = self.purge_plan(on)
        if plan.empty:
            return plan
        connection = self._connection
        connection.execute("PRAGMA secure_delete = ON")
        try:
            with self.transaction():
                connection.execute("INSERT INTO settings (key, value) VALUES ('search_suspended', '1')")
                self._efface_cases(plan.case_ids)
                self._efface_pupils(plan.pupil_ids)
                connection.execute("DELETE FROM settings WHERE key = 'search_suspended'")
                self._index_again(plan)
                self._blank_audit_texts(plan)
                self._audit("purge", "*", "*", None, {"resume": f"purge de conservation : {purge_summary(plan)}",
                                                     "dossiers": plan.case_numbers})
        finally:
            connection.execute("PRAGMA secure_delete = OFF")
        try:  # the journal held the pages as they were: fold it in and empty it
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as error:
            raise translate_sqlite_error(error) from None
        return plan

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


LISTED_NUMBERS = 20


def purge_report(plan: PurgePlan, *, done: bool) -> str:
    """What a purge did, or would do (`done` False: a dry run), in French, for the terminal."""
    rule = f"{count(plan.retention_years, 'an')} après la clôture"
    if not plan.case_ids and not plan.pupil_ids:
        return (f"Rien à purger : aucun dossier clôturé au plus tard le {plan.closed_by:%d/%m/%Y} "
                f"(conservation : {rule}) n'a encore son identité ou ses textes.")
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
    return "\n".join(lines)


def _json(values: list[str]) -> str:
    return json.dumps(values)

"""The directory of the pôle ressource in the store: members and schools.

A mixin of `Store`: its methods use the store's transaction, audit and query helpers. A member
or a school that holds history (cases, aids, steps, actions in the audit log) is never deleted:
it is deactivated — a member's last day in office, a school's `active` flag. Only a record
typed by mistake, that nothing refers to, can be deleted (and the audit log keeps it).

When a member leaves, `hand_over_aids` gives all of his or her open aids to a member of the
same role in one transaction: an aid already running ends on the day of the handover (reason
« passation ») and a new aid, with the same project, starts that day with the successor —
so the evaluations stay with the aid they measured; an aid not started yet simply changes
hands.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta

from pydantic import ValidationError

from rased_tui.domain.calendar import format_french_date, today
from rased_tui.domain.enums import AidEndReason, ConsentStatus, EntryKind, Role, SecondResponse
from rased_tui.domain.french import count
from rased_tui.domain.models import Aid, Member, School, TimelineEntry, french_messages
from rased_tui.store.errors import StoreError, translate_sqlite_error
from rased_tui.store.journal import JournalLine

DIRECTORY_TABLES = ("members", "schools")


def role_name(role: Role) -> str:
    """'Maître E' for 'Maître E (aide à dominante pédagogique)': the role without its gloss."""
    return role.label.split(" (")[0]


@dataclass(frozen=True)
class Usage:
    """What refers to a member or a school: its history (all zero: typed by mistake)."""

    cases: int = 0
    aids: int = 0
    open_aids: int = 0
    entries: int = 0  # steps of a case naming the member, or written by him or her
    actions: int = 0  # rows of the audit log written while acting as this member

    @property
    def total(self) -> int:
        return self.cases + self.aids + self.entries + self.actions

    def describe(self) -> str:
        """'3 dossiers, 2 aides, 5 étapes': what the history holds, in French."""
        parts = [count(self.cases, "dossier") if self.cases else "",
                 count(self.aids, "aide") if self.aids else "",
                 count(self.entries, "étape") if self.entries else "",
                 count(self.actions, "action enregistrée", "actions enregistrées") if self.actions else ""]
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Handover:
    """What a handover moved (or, before it is saved, will move)."""

    running: int  # aids under way: ended on the day, reopened with the successor
    pending: int  # aids not started yet (consent awaited, or starting later): given as they are
    ended_membership: bool = False

    @property
    def total(self) -> int:
        return self.running + self.pending


def is_running_before(aid: Aid, day: date) -> bool:
    """An aid that started with the family's agreement before `day`: a handover ends it and
    opens a new one; any other open aid changes hands as it is."""
    return aid.consent_status is ConsentStatus.DONNE and aid.start_date < day


def remaining_weeks(aid: Aid, day: date) -> int | None:
    """The weeks left on `day` until the aid's planned end (at least 1), when it was planned."""
    if aid.expected_weeks is None:
        return None
    planned_end = aid.start_date + timedelta(weeks=aid.expected_weeks)
    return max(1, math.ceil((planned_end - day).days / 7))


def successor_problem(leaving: Member, successor: Member, day: date) -> str | None:
    """Why `successor` cannot take over the aids of `leaving` on `day` (None: he or she can)."""
    if successor.id == leaving.id:
        return f"Choisissez un·e autre membre que {leaving.full_name} pour reprendre ses aides."
    if successor.role is not leaving.role:
        return (f"{successor.full_name} est {role_name(successor.role)} : les aides de {leaving.full_name} "
                f"({role_name(leaving.role)}) passent à un membre de la même fonction.")
    if not successor.is_active_on(day):
        return f"{successor.full_name} n'est pas en fonction le {format_french_date(day)}."
    if successor.active_to == day:
        return f"{successor.full_name} quitte ses fonctions le {format_french_date(day)} : choisissez qui reste."
    return None


def handover_date_problem(leaving: Member, day: date, *, end_membership: bool) -> str | None:
    """Why a handover cannot be dated `day` (None: it can)."""
    if day > today():
        return "La passation ne peut pas être datée dans le futur."
    if end_membership and day < leaving.active_from:
        return (f"La passation précède l'entrée en fonction de {leaving.full_name} "
                f"({format_french_date(leaving.active_from)}).")
    return None


def handover_problem(leaving: Member, successor: Member, day: date, *, end_membership: bool) -> str | None:
    """Why this handover cannot be made (None: it can)."""
    return successor_problem(leaving, successor, day) or \
        handover_date_problem(leaving, day, end_membership=end_membership)


class DirectoryQueries:
    """Members and schools: usage, deactivation, deletion of unused records, handover of aids.
    Uses the Store's helpers (transaction, _one, _all, _update, _audit, _now) and readers."""

    # -- reading --------------------------------------------------------------------------

    def member_usage(self, member_id: str) -> Usage:
        """The history that names a member: aids given, steps, actions in the audit log."""
        row = self._one(
            """SELECT (SELECT count(*) FROM aids WHERE member_id = :id) AS aids,
                      (SELECT count(*) FROM aids WHERE member_id = :id AND end_date IS NULL) AS open_aids,
                      (SELECT count(*) FROM timeline_entries WHERE author_member_id = :id
                          OR id IN (SELECT entry_id FROM timeline_entry_members WHERE member_id = :id)) AS entries,
                      (SELECT count(DISTINCT case_id) FROM (
                          SELECT case_id FROM aids WHERE member_id = :id
                          UNION SELECT e.case_id FROM timeline_entries e WHERE e.author_member_id = :id
                          UNION SELECT e.case_id FROM timeline_entry_members m
                                  JOIN timeline_entries e ON e.id = m.entry_id WHERE m.member_id = :id)) AS cases,
                      (SELECT count(*) FROM audit_log WHERE actor = 'membre:' || :id) AS actions""",
            {"id": member_id})
        return Usage(cases=row["cases"], aids=row["aids"], open_aids=row["open_aids"], entries=row["entries"],
                     actions=row["actions"])

    def school_usage(self, school_id: str) -> Usage:
        """The history that names a school: its cases."""
        return Usage(cases=self._one("SELECT count(*) FROM cases WHERE school_id = ?", (school_id,))[0])

    def open_aid_counts(self) -> dict[str, int]:
        """The number of aids each member gives now (agreed to by the family and not ended, as
        the caseloads count them), by member id."""
        return {row[0]: row[1] for row in self._all(
            "SELECT member_id, count(*) FROM aids WHERE end_date IS NULL AND consent_status = 'donne'"
            " GROUP BY member_id")}

    def school_case_counts(self) -> dict[str, int]:
        """The number of cases of each school that has some, by school id."""
        return {row[0]: row[1] for row in self._all("SELECT school_id, count(*) FROM cases GROUP BY school_id")}

    def find_school_by_uai(self, uai: str) -> School | None:
        row = self._one("SELECT id FROM schools WHERE uai = ?", (uai.strip().upper(),))
        return self.get_school(row[0]) if row else None

    def successors(self, member_id: str, day: date) -> list[Member]:
        """The members who can take over a member's aids on `day`: same role, in office that day."""
        leaving = self._member(member_id)
        rows = self._all("SELECT id FROM members WHERE role = ? AND id <> ? ORDER BY last_name, first_name",
                         (leaving.role.value, member_id))
        members = [self.get_member(row[0]) for row in rows]
        return [member for member in members if successor_problem(leaving, member, day) is None]

    def handover_plan(self, member_id: str, day: date) -> Handover:
        """What a handover on `day` would move (nothing is written)."""
        aids = self.open_aids_of_member(member_id)
        running = sum(1 for aid in aids if is_running_before(aid, day))
        return Handover(running=running, pending=len(aids) - running)

    def record_journal(self, table: str, row_id: str) -> list[JournalLine]:
        """Who added or changed a member or a school, and when (its rows of the audit log)."""
        if table not in DIRECTORY_TABLES:
            raise StoreError("Seuls les membres et les écoles ont un journal dans l'annuaire.")
        rows = self._all("SELECT at, actor, action, table_name, row_id, before, after FROM audit_log"
                         " WHERE table_name = ? AND row_id = ? ORDER BY seq", (table, row_id))
        return [JournalLine(row[0], row[1], row[2], row[3], row[4], _load(row[5]), _load(row[6])) for row in rows]

    def _member(self, member_id: str) -> Member:
        member = self.get_member(member_id)
        if member is None:
            raise StoreError("Ce membre n'existe plus dans l'annuaire.")
        return member

    def _school(self, school_id: str) -> School:
        school = self.get_school(school_id)
        if school is None:
            raise StoreError("Cette école n'existe plus dans l'annuaire.")
        return school

    # -- members --------------------------------------------------------------------------

    def role_change_problem(self, member_id: str, role: Role) -> str | None:
        """A member who gave aids keeps his or her role: an aid E is given by a maître E."""
        before = self._member(member_id)
        if role is before.role:
            return None
        given = self._one("SELECT count(*) FROM aids WHERE member_id = ?", (member_id,))[0]
        if not given:
            return None
        return (f"{before.full_name} a donné {count(given, 'aide')} en tant que {role_name(before.role)} : "
                "sa fonction ne peut plus changer. Mettez fin à cette fonction (d) et créez une nouvelle "
                "fiche (n) pour la nouvelle.")

    def last_activity(self, member_id: str) -> date | None:
        """The last day the member's work is recorded: an aid begun or ended, an evaluation of
        one of his or her aids, a step naming him or her."""
        row = self._one(
            """SELECT max(day) FROM (
                   SELECT max(start_date, coalesce(end_date, start_date)) AS day FROM aids WHERE member_id = :id
                   UNION ALL SELECT v.date FROM aid_evaluations v JOIN aids a ON a.id = v.aid_id
                              WHERE a.member_id = :id
                   UNION ALL SELECT e.date FROM timeline_entries e
                              JOIN timeline_entry_members m ON m.entry_id = e.id WHERE m.member_id = :id)""",
            {"id": member_id})
        return date.fromisoformat(row[0]) if row and row[0] else None

    def _check_last_day(self, member: Member, last_day: date | None) -> None:
        """A last day in office cannot precede the work recorded in the member's name."""
        worked = self.last_activity(member.id)
        if last_day is not None and worked is not None and last_day < worked:
            raise StoreError(f"{member.full_name} a une activité enregistrée jusqu'au {format_french_date(worked)} : "
                             "sa fin de fonction ne peut la précéder.")

    def edit_member(self, member: Member) -> Member:
        """Save an edited member; the role stays while he or she has aids (see above), and the
        last day in office does not precede the work recorded in his or her name."""
        with self.transaction():
            self._check_last_day(member, member.active_to)
            problem = self.role_change_problem(member.id, member.role)
            if problem:
                raise StoreError(problem)
            return self.update_member(member)

    def deactivate_member(self, member_id: str, last_day: date) -> Member:
        """End a member's time in office on `last_day` (kept in the directory and in history)."""
        with self.transaction():
            member = self._member(member_id)
            if last_day < member.active_from:
                raise StoreError(f"La fin de fonction ({format_french_date(last_day)}) précède l'entrée en "
                                 f"fonction ({format_french_date(member.active_from)}).")
            self._check_last_day(member, last_day)
            self._update("members", member_id, {"active_to": last_day.isoformat(), "updated_at": self._now()})
            return self._member(member_id)

    def reactivate_member(self, member_id: str) -> Member:
        """A member back in office: no last day any more."""
        with self.transaction():
            self._member(member_id)
            self._update("members", member_id, {"active_to": None, "updated_at": self._now()})
            return self._member(member_id)

    def member_deletion_problem(self, member_id: str) -> str | None:
        member = self._member(member_id)
        usage = self.member_usage(member_id)
        if not usage.total:
            return None
        return (f"{member.full_name} a un historique ({usage.describe()}) : sa fiche ne peut être supprimée. "
                "Mettez fin à sa fonction (d) à la place.")

    def delete_member(self, member_id: str) -> None:
        """Delete a member typed by mistake: refused when anything refers to him or her."""
        with self.transaction():
            problem = self.member_deletion_problem(member_id)
            if problem:
                raise StoreError(problem)
            self._delete("members", member_id)

    # -- schools --------------------------------------------------------------------------

    def deactivate_school(self, school_id: str) -> School:
        """A school no longer offered for new requests (closed, merged…); its cases stay."""
        return self._set_school_active(school_id, False)

    def reactivate_school(self, school_id: str) -> School:
        return self._set_school_active(school_id, True)

    def _set_school_active(self, school_id: str, active: bool) -> School:
        with self.transaction():
            self._school(school_id)
            self._update("schools", school_id, {"active": int(active), "updated_at": self._now()})
            return self._school(school_id)

    def school_deletion_problem(self, school_id: str) -> str | None:
        school = self._school(school_id)
        usage = self.school_usage(school_id)
        if not usage.total:
            return None
        return (f"L'école {school.name} a un historique ({usage.describe()}) : elle ne peut être supprimée. "
                "Désactivez-la (d) à la place.")

    def delete_school(self, school_id: str) -> None:
        """Delete a school typed by mistake: refused when it has cases."""
        with self.transaction():
            problem = self.school_deletion_problem(school_id)
            if problem:
                raise StoreError(problem)
            self._delete("schools", school_id)

    def _delete(self, table: str, row_id: str) -> None:
        before = self._connection.execute(f"SELECT * FROM {table} WHERE id = ?", (row_id,)).fetchone()
        self._connection.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        self._audit("suppression", table, row_id, dict(before), None)

    # -- handover ---------------------------------------------------------------------------

    def hand_over_aids(self, from_member_id: str, to_member_id: str, day: date, *,
                       end_membership: bool = True) -> Handover:
        """Give every open aid of a leaving member to a member of the same role, on `day`, in
        one transaction (all or nothing). A running aid ends that day (« passation ») and a
        new aid with the same project starts with the successor, opened by a step of the
        case; an aid not started yet changes hands. `end_membership`: the leaving member's
        last day in office is `day` (at the latest)."""
        with self.transaction():
            leaving, successor = self._member(from_member_id), self._member(to_member_id)
            problem = handover_problem(leaving, successor, day, end_membership=end_membership)
            if problem:
                raise StoreError(problem)
            running = pending = 0
            for aid in self.open_aids_of_member(leaving.id):
                with self._about_case(aid.case_id):
                    if aid.start_date > day:  # a handover cannot rewrite who began an aid
                        raise StoreError(f"l'aide {aid.kind.value} de {leaving.full_name} a commencé le "
                                         f"{format_french_date(aid.start_date)}, après la date de la passation.")
                    if is_running_before(aid, day):
                        self._pass_on(aid, leaving, successor, day)
                        running += 1
                    else:
                        self._update("aids", aid.id, {"member_id": successor.id, "updated_at": self._now()})
                        pending += 1
            if end_membership and (leaving.active_to is None or leaving.active_to > day):
                self.deactivate_member(leaving.id, day)  # an earlier last day stays
        return Handover(running=running, pending=pending, ended_membership=end_membership)

    def _pass_on(self, aid: Aid, leaving: Member, successor: Member, day: date) -> None:
        """End a running aid on `day` and open the same aid with the successor that day."""
        self.end_aid(aid.id, day, AidEndReason.PASSATION, f"Passée à {successor.full_name}.")
        try:
            taken_over = Aid(case_id=aid.case_id, member_id=successor.id, kind=aid.kind, modality=aid.modality,
                             sessions_per_week=aid.sessions_per_week, objectives=aid.objectives, start_date=day,
                             expected_weeks=remaining_weeks(aid, day), consent_status=aid.consent_status,
                             consent_form=aid.consent_form, consent_date=aid.consent_date, consent_by=aid.consent_by)
            entry = TimelineEntry(
                case_id=aid.case_id, kind=EntryKind.SECONDE_INTENTION, sub_kind=SecondResponse.AIDE_SPECIALISEE.value,
                date=day, member_ids=[successor.id], author_member_id=successor.id,
                text=f"Passation : aide {aid.kind.value} reprise par {successor.full_name} "
                     f"(auparavant {leaving.full_name}).")
        except ValidationError as error:
            raise StoreError(" ".join(french_messages(error, Aid))) from None
        self.open_aid(taken_over, entry)

    @contextmanager
    def _about_case(self, case_id: str) -> Iterator[None]:
        """Refusals about one aid name its case: 'Dossier 2026-0042 : …'."""
        try:
            yield
        except sqlite3.Error as error:
            raise StoreError(f"Dossier {self.get_case(case_id).number} : {translate_sqlite_error(error)}") from None
        except StoreError as error:
            raise StoreError(f"Dossier {self.get_case(case_id).number} : {error}") from None


def _load(text: str | None) -> dict | None:
    return json.loads(text) if text else None

"""The agenda (ordre du jour) of the pôle's next ordinary meeting, and its files.

`build_agenda(store, day)` assembles what the next meeting on or after `day` (recorded, or only
proposed) has to look at, in three parts, and nothing else:

1. the requests received and not analysed yet (status « reçue » or « rouverte »), urgent first,
   then the oldest; those received after the meeting's deadline are flagged;
2. the bilans due by the meeting, reckoned from the meeting and never from the day the agenda
   is built (`bilan_due`): an open aid with a planned length is due at its planned end; one
   without is reviewed at the meeting of each période, so due at this meeting if it started
   before it; none once its end-of-aid evaluation is made;
3. the aids ending: open aids whose planned end falls after this meeting and before the next.

`agenda_lines` gives its lines, pseudonymised unless asked otherwise: a case is named by its
number, the request by its kind (élève, enseignant·e, équipe, classe) — never a pupil's or a
teacher's name. `write_agenda` writes them into a folder the user chose, as a CSV file for a
spreadsheet (exchange/spreadsheet.py: excel or rfc4180, formulas neutralised) and as Markdown,
each readable by its owner only, under a temporary name until complete; both or neither, and
never over a file already there. No Textual here.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rased_tui.domain.calendar import format_french_date
from rased_tui.domain.caseloads import CaseloadAid, CaseloadFilter
from rased_tui.domain.french import count
from rased_tui.domain.meetings import MeetingPlan, WaitingRequest, weekday_name
from rased_tui.exchange.spreadsheet import CsvFormat, neutralise
from rased_tui.store.opening import create_private_file

REQUESTS, BILANS, ENDINGS = "Demande à analyser", "Bilan dû", "Fin d'aide prévue"
GROUP_SUBJECT = "Enseignant·e, équipe ou classe"
CSV_COLUMNS = ("Rubrique", "N° dossier", "Urgente", "Élève / demandeur", "Niveau", "École", "Motif", "Aide",
               "Membre", "Reçue le", "Après la date limite", "Bilan dû le", "Fin prévue le")
PARTIAL_SUFFIX = ".partiel"


class AgendaError(Exception):
    """An agenda that could not be written; the message is one French sentence."""


@dataclass(frozen=True)
class Agenda:
    """The next meeting, the one after it, and the three parts of the agenda."""

    meeting: MeetingPlan
    following: MeetingPlan | None
    requests: list[WaitingRequest]
    bilans: list[CaseloadAid]
    endings: list[CaseloadAid]
    members: dict[str, str]  # id -> full name of the members giving the aids

    def bilan_due(self, aid: CaseloadAid) -> date | None:
        return bilan_due(aid, self.meeting)


@dataclass(frozen=True)
class AgendaLine:
    """One line of the agenda, as the screen, the CSV file and the Markdown show it."""

    section: str
    case_id: str
    key: str  # unique in the agenda: a case may be in several parts, with several aids
    case_number: str
    subject: str
    levels: str
    school: str
    urgent: bool | None = None
    motif: str = ""
    aid: str = ""
    aid_code: str = ""  # E, G or psy
    member: str = ""
    received: date | None = None
    late: bool | None = None
    bilan_due: date | None = None
    planned_end: date | None = None
    reopened: bool = False

    @property
    def day(self) -> date | None:
        """The date that matters for the line's part."""
        return self.received or self.bilan_due or self.planned_end

    @property
    def note(self) -> str:
        notes = ["rouverte" if self.reopened else "", "après la date limite" if self.late else ""]
        return ", ".join(note for note in notes if note)


@dataclass(frozen=True)
class AgendaFiles:
    csv_path: Path
    markdown_path: Path


# -- assembling ---------------------------------------------------------------------------------

def build_agenda(store, day: date) -> Agenda | None:
    """The agenda of the next ordinary meeting on or after `day`; None if none is known."""
    upcoming = store.upcoming_meetings(day, count=2)
    if not upcoming:
        return None
    meeting, following = upcoming[0], (upcoming[1] if len(upcoming) > 1 else None)
    aids = store.caseload_aids(CaseloadFilter(), day)  # every open aid agreed to, whatever the day
    bilans = sorted((aid for aid in aids if (due := bilan_due(aid, meeting)) is not None and due <= meeting.date),
                    key=lambda aid: (bilan_due(aid, meeting), aid.case_number))
    endings = sorted((aid for aid in aids if _ends_between(aid, meeting, following)),
                     key=lambda aid: (aid.planned_end(), aid.case_number))
    members = {member.id: member.full_name for member in store.list_members()}
    return Agenda(meeting, following, store.waiting_requests(), bilans, endings, members)


def bilan_due(aid: CaseloadAid, meeting: MeetingPlan) -> date | None:
    """When the bilan of an aid is due, for the agenda of `meeting`: at the end of its planned
    length; without one, at this meeting if the aid started before it (aids are reviewed at the
    meeting of each période). None once the end-of-aid evaluation is made, or for an aid that
    ended. Unlike CaseloadAid.bilan_due (today's période), it does not depend on the day the
    agenda is built."""
    if aid.final_bilan is not None or not aid.is_open:
        return None
    if (end := aid.planned_end()) is not None:
        return end
    return meeting.date if aid.start_date < meeting.date else None


def _ends_between(aid: CaseloadAid, meeting: MeetingPlan, following: MeetingPlan | None) -> bool:
    end = aid.planned_end()
    return end is not None and following is not None and meeting.date < end < following.date


# -- its lines ----------------------------------------------------------------------------------

def agenda_lines(agenda: Agenda, *, nominative: bool) -> list[AgendaLine]:
    """Every line of the agenda, part by part; without names unless `nominative`."""
    lines = [_request_line(request, agenda.meeting, nominative) for request in agenda.requests]
    lines += [_aid_line(aid, agenda, BILANS, nominative, bilan_due=agenda.bilan_due(aid)) for aid in agenda.bilans]
    lines += [_aid_line(aid, agenda, ENDINGS, nominative, planned_end=aid.planned_end()) for aid in agenda.endings]
    return lines


def _request_line(request: WaitingRequest, meeting: MeetingPlan, nominative: bool) -> AgendaLine:
    return AgendaLine(
        section=REQUESTS, case_id=request.case_id, key=f"request:{request.case_id}", case_number=request.case_number,
        subject=request.subject if nominative else request.subject_kind.label, levels=request.levels,
        school=request.school, urgent=request.urgent, motif=request.motif.label if request.motif else "",
        received=request.received, late=request.after_deadline(meeting), reopened=request.reopened)


def _aid_line(aid: CaseloadAid, agenda: Agenda, section: str, nominative: bool, **dates: date | None) -> AgendaLine:
    if nominative:
        subject = aid.subject
    else:
        subject = "Élève" if aid.pupil_id else GROUP_SUBJECT
    return AgendaLine(
        section=section, case_id=aid.case_id, key=f"{section}:{aid.aid_id}", case_number=aid.case_number,
        subject=subject, levels=aid.levels, school=aid.school, aid=aid.kind.label, aid_code=aid.kind.value,
        member=agenda.members.get(aid.member_id, ""), **dates)


def meeting_title(meeting: MeetingPlan) -> str:
    """'jeudi 26/11/2026 (proposée), période 2 de 2026-2027'."""
    return (f"{weekday_name(meeting.date)} {format_french_date(meeting.date)} ({meeting.state_label}), "
            f"période {meeting.period.number} de {meeting.period.school_year}")


def summary_text(agenda: Agenda) -> str:
    """'12 demandes à analyser (dont 2 urgentes, 3 après la date limite) · 5 bilans dus · 3 fins d'aide'."""
    urgent = sum(request.urgent for request in agenda.requests)
    late = sum(request.after_deadline(agenda.meeting) for request in agenda.requests)
    details = [count(urgent, "urgente") if urgent else "", f"{late} après la date limite" if late else ""]
    detail = ", ".join(part for part in details if part)
    return " · ".join([
        count(len(agenda.requests), "demande à analyser", "demandes à analyser") + (f" (dont {detail})" if detail else ""),
        count(len(agenda.bilans), "bilan dû", "bilans dus"),
        count(len(agenda.endings), "fin d'aide prévue", "fins d'aide prévues")])


# -- the files ----------------------------------------------------------------------------------

def write_agenda(agenda: Agenda, folder: Path, *, nominative: bool = False,
                 csv_format: CsvFormat = CsvFormat.EXCEL, written_on: date | None = None) -> AgendaFiles:
    """Write the agenda into `folder` as `ordre-du-jour-AAAA-MM-JJ.csv` and `.md` (the meeting's
    date; -2, -3... when such files are already there)."""
    folder = Path(folder).expanduser()
    if not folder.exists():
        raise AgendaError(f"{folder} n'existe pas : la clé USB est-elle branchée ? Choisissez un dossier existant.")
    if not folder.is_dir():
        raise AgendaError(f"{folder} n'est pas un dossier.")
    lines = agenda_lines(agenda, nominative=nominative)
    stem = f"ordre-du-jour-{agenda.meeting.date.isoformat()}"
    contents = {".csv": csv_bytes(lines, csv_format),
                ".md": markdown_text(agenda, lines, nominative=nominative, written_on=written_on).encode("utf-8")}
    partials: list[Path] = []
    try:
        for suffix, data in contents.items():
            partials.append(write_partial(folder / f"{stem}{suffix}", data))
        return _publish_pair(folder, stem, *partials)
    finally:
        for partial in partials:
            partial.unlink(missing_ok=True)


def csv_bytes(lines: list[AgendaLine], csv_format: CsvFormat) -> bytes:
    """The agenda as one table for a spreadsheet: a line per request or aid, its part first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=csv_format.delimiter, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    cell = _cell_writer(csv_format)
    for line in lines:
        writer.writerow([cell(value) for value in (
            line.section, line.case_number, line.urgent, line.subject, line.levels, line.school, line.motif,
            line.aid, line.member, line.received, line.late, line.bilan_due, line.planned_end)])
    return buffer.getvalue().encode(csv_format.encoding)


def _cell_writer(csv_format: CsvFormat) -> Callable[[object], str]:
    """Dates JJ/MM/AAAA (excel) or ISO, oui / non, texts neutralised against formulas."""
    def cell(value: object) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "oui" if value else "non"
        if isinstance(value, date):
            return format_french_date(value) if csv_format is CsvFormat.EXCEL else value.isoformat()
        return neutralise(str(value))

    return cell


def markdown_text(agenda: Agenda, lines: list[AgendaLine], *, nominative: bool, written_on: date | None = None) -> str:
    """The agenda to read or print: the meeting, then its three parts as tables."""
    meeting = agenda.meeting
    out = [f"# Ordre du jour de la réunion du pôle ressource du {weekday_name(meeting.date)} "
           f"{format_french_date(meeting.date)}", ""]
    out.append(f"- Période {meeting.period.number} de {meeting.period.school_year} ; réunion "
               + ("enregistrée." if meeting.recorded else "proposée (date à confirmer)."))
    out.append(f"- Demandes reçues jusqu'au {format_french_date(meeting.deadline)} ({count(meeting.deadline_days, 'jour')}"
               " avant la réunion) ; celles reçues après sont signalées.")
    if agenda.following is not None:
        out.append(f"- Réunion suivante : {weekday_name(agenda.following.date)} "
                   f"{format_french_date(agenda.following.date)} ({agenda.following.state_label}).")
    out.append("- Nominatif : noms des élèves et des enseignant·es." if nominative else
               "- Pseudonymisé : ni nom d'élève ni nom d'enseignant ; chaque dossier est désigné par son numéro.")
    if written_on is not None:
        out.append(f"- Établi le {format_french_date(written_on)}.")
    parts = (
        (REQUESTS, "1. Demandes à analyser", "Aucune demande en attente d'analyse.",
         ("N° dossier", "Urgente", "Élève / demandeur", "Niveau", "École", "Motif", "Reçue le", "Remarque"),
         lambda line: (line.case_number, "oui" if line.urgent else "", line.subject, line.levels, line.school,
                       line.motif, format_french_date(line.received), line.note)),
        (BILANS, f"2. Bilans dus d'ici le {format_french_date(meeting.date)}", "Aucun bilan dû.",
         ("N° dossier", "Élève / demandeur", "Niveau", "École", "Aide", "Membre", "Bilan dû le"),
         lambda line: (line.case_number, line.subject, line.levels, line.school, line.aid, line.member,
                       format_french_date(line.bilan_due))),
        (ENDINGS, "3. Aides qui se terminent avant la réunion suivante", "Aucune aide ne se termine d'ici là.",
         ("N° dossier", "Élève / demandeur", "Niveau", "École", "Aide", "Membre", "Fin prévue le"),
         lambda line: (line.case_number, line.subject, line.levels, line.school, line.aid, line.member,
                       format_french_date(line.planned_end))),
    )
    for section, title, nothing, headings, cells in parts:
        chosen = [line for line in lines if line.section == section]
        out += ["", f"## {title} ({len(chosen)})", ""]
        out += _markdown_table(headings, [cells(line) for line in chosen]) if chosen else [nothing]
    return "\n".join(out) + "\n"


def _markdown_table(headings: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    def row(cells) -> str:
        return "| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |"

    return [row(headings), "|" + "---|" * len(headings)] + [row(cells) for cells in rows]


def _markdown_cell(text: str) -> str:
    """A cell on one line, its bars escaped so that they do not split the table."""
    return " ".join(str(text).split()).replace("\\", "\\\\").replace("|", "\\|")


def _free_stems(folder: Path, stem: str) -> Iterator[str]:
    """The names to try, in order: `stem`, `stem-2`, `stem-3`... when neither file is there."""
    for attempt in range(1, 100):
        candidate = stem if attempt == 1 else f"{stem}-{attempt}"
        if not (folder / f"{candidate}.csv").exists() and not (folder / f"{candidate}.md").exists():
            yield candidate
    raise AgendaError(f"Trop d'ordres du jour du même nom dans {folder}.")


def write_partial(path: Path, data: bytes) -> Path:
    """Write `data` into a hidden file beside `path`, readable by its owner only: a USB key
    pulled out in the middle never holds a file that looks whole. Returns the hidden file."""
    partial = path.with_name(f".{path.name}{PARTIAL_SUFFIX}")
    partial.unlink(missing_ok=True)  # left by an interrupted attempt
    create_private_file(partial)
    try:
        with open(partial, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return partial


def _publish_pair(folder: Path, stem: str, csv_partial: Path, markdown_partial: Path) -> AgendaFiles:
    """Give the two complete files their names, under the first free stem: both or neither,
    and never over a file that appeared since the name was found free (then the next stem)."""
    for candidate in _free_stems(folder, stem):
        files = AgendaFiles(folder / f"{candidate}.csv", folder / f"{candidate}.md")
        claimed: list[tuple[Path, Path, bool]] = []  # (partial, name, linked)
        try:
            for partial, path in ((csv_partial, files.csv_path), (markdown_partial, files.markdown_path)):
                claimed.append((partial, path, claim_name(partial, path)))
        except FileExistsError:  # taken since _free_stems looked: the next name
            _release(claimed)
            continue
        except BaseException:
            _release(claimed)
            raise
        try:
            for partial, path, linked in claimed:
                if not linked:
                    os.replace(partial, path)  # over the empty file reserved just before
        except BaseException:
            _release(claimed)
            raise
        return files
    raise AssertionError("unreachable")  # _free_stems raises when it runs out of names


def claim_name(partial: Path, path: Path) -> bool:
    """Take the name `path` for the complete `partial`; FileExistsError when a file has it.

    A hard link gives the name at once (True) and, unlike a rename, fails when the name is
    taken. A folder that cannot hold hard links (a USB key in FAT or exFAT) gets the name
    reserved by the exclusive creation of an empty private file (False), which the caller then
    replaces with the partial."""
    try:
        os.link(partial, path)
        return True
    except FileExistsError:
        raise
    except OSError:
        pass  # no hard links here; a real failure (the key pulled out) shows again just below
    create_private_file(path)
    return False


def _release(claimed: list[tuple[Path, Path, bool]]) -> None:
    """Remove the names taken by a write that failed: nothing of it stays."""
    for _partial, path, _linked in claimed:
        path.unlink(missing_ok=True)

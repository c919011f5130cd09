"""The agenda of the pôle's next meeting (exchange/agenda.py), its files and its command, the
"Réunions du pôle" screen (`7`) and the next meeting on the home screen.

Every case and aid is made by hand here, so that each part of the agenda can be checked to hold
exactly what it must: the requests not analysed yet (urgent first, then the oldest; late ones
flagged), the bilans due by the meeting, the aids ending before the following one.
"""

from __future__ import annotations

import csv
import errno
import io
import os
import stat
from datetime import date

import pytest
from textual.widgets import DataTable, Input

from rased_tui.cli import main
from rased_tui.domain.enums import AidEndReason, EntryKind
from rased_tui.domain.models import Aid, AidEvaluation, Case, TimelineEntry
from rased_tui.exchange import agenda as agenda_module
from rased_tui.exchange.agenda import (
    BILANS,
    CSV_COLUMNS,
    ENDINGS,
    REQUESTS,
    AgendaError,
    agenda_lines,
    bilan_due,
    build_agenda,
    write_agenda,
)
from rased_tui.exchange.spreadsheet import CsvFormat
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.meetings import MeetingsScreen
from rased_tui.screens.meetings_forms import AgendaDialog, PeriodForm
from rased_tui.store import Store, StoreError
from tests.pilot import new_app

DAY = date(2026, 11, 21)
SIZE = (120, 40)
PUPIL_NAMES = ("Quémeneur", "Zélie", "Lebrun-Duval", "Anaël", "N'Guessan", "Maëlle", "Thélot", "Côme")
TEACHER = "Mme Bérangère Tessier"


# -- a small pôle, made by hand ----------------------------------------------------------------------


def pupil_case(store: Store, make_pupil_case, school, last: str, first: str, sent: str, **fields) -> Case:
    return store.add_case(make_pupil_case(school.id, {"last_name": last, "first_name": first}, date_sent=sent,
                                          teacher_name=TEACHER, **fields))


def open_aid(store: Store, case: Case, member, kind: str, start: str, weeks: int | None, **fields) -> Aid:
    aid = Aid(case_id=case.id, member_id=member.id, kind=kind, modality="petit_groupe", start_date=start,
              expected_weeks=weeks, consent_status=fields.pop("consent", "donne"),
              consent_form=fields.pop("form", "ecrit"), **fields)
    store.open_aid(aid, TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION, sub_kind="aide_specialisee",
                                      date=start, member_ids=[member.id]))
    return aid


def analyse(store: Store, case: Case, day: str) -> None:
    store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.ANALYSE, date=day, text="Problématique."))


@pytest.fixture
def pole(store, make_school, make_member, make_pupil_case) -> dict:
    """Zone B: the next meeting is période 2's, proposed on Thursday 26/11/2026 (requests until
    20/11), the following one période 3's on Thursday 28/01/2027."""
    store.set_setting("zone", "B")
    school = store.add_school(make_school(name="École Jean-Jaurès"))
    formula = store.add_school(make_school(name="=SOMME(A1:A9) École"))
    e = store.add_member(make_member(last_name="Lefèvre", first_name="Anne", role="maitre_e"))
    g = store.add_member(make_member(last_name="Morel", first_name="Luc", role="maitre_g"))
    cases: dict = {}

    def case(key: str, sent: str, **fields) -> Case:
        names = PUPIL_NAMES[(len(cases) * 2) % len(PUPIL_NAMES):][:2]
        cases[key] = pupil_case(store, make_pupil_case, fields.pop("at", school), *names, sent, **fields)
        return cases[key]

    # the requests
    case("old", "2026-06-15")  # a request of last year never analysed
    case("early", "2026-11-02", at=formula)
    case("urgent", "2026-11-19", urgent=True)
    case("late", "2026-11-20", date_received="2026-11-21")  # received after the deadline
    cases["team"] = store.add_case(Case(subject_kind="equipe", team_reference=f"Cycle 2 de {TEACHER}",
                                        school_id=school.id, requester="conseil_cycle", date_sent="2026-11-05",
                                        levels=["CP", "CE1"], description="Climat de classe.",
                                        motifs=["comportement"]))
    reopened = case("reopened", "2026-09-10")
    analyse(store, reopened, "2026-09-14")
    store.add_entry(TimelineEntry(case_id=reopened.id, kind=EntryKind.CLOTURE, sub_kind="relais_enseignant",
                                  date="2026-10-01"))
    store.add_entry(TimelineEntry(case_id=reopened.id, kind=EntryKind.REOUVERTURE, date="2026-11-10",
                                  text="La difficulté revient."))
    analyse(store, case("analysed", "2026-11-03"), "2026-11-05")
    store.add_entry(TimelineEntry(case_id=case("dropped", "2026-11-04").id, kind=EntryKind.CLOTURE,
                                  sub_kind="sans_suite", date="2026-11-06"))

    # the aids (each case analysed: they are not requests waiting)
    aids: dict = {}
    for key, kind, member, start, weeks, extra in (
            ("overdue", "E", e, "2026-09-07", 10, {}),        # planned end 16/11: bilan due
            ("on_the_day", "G", g, "2026-09-17", 10, {}),     # planned end 26/11, the meeting's day
            ("evaluated", "E", e, "2026-09-07", 10, {}),      # its final evaluation is made
            ("no_length", "E", e, "2026-10-05", None, {}),     # no length: bilan at each période's meeting
            ("ending", "E", e, "2026-10-01", 10, {}),         # ends 10/12: before the next meeting
            ("ending_late", "G", g, "2026-11-02", 12, {}),    # ends 25/01/2027: still before it
            ("ends_then", "E", e, "2026-11-05", 12, {}),      # ends 28/01/2027: at the next meeting
            ("after", "E", e, "2026-11-02", 13, {}),          # ends 01/02/2027: after it
            ("pending", "G", g, "2026-11-02", 4, {"consent": "en_attente", "form": None}),
            ("ended", "E", e, "2026-10-01", 10, {})):
        aided = case(f"aid_{key}", "2026-09-01")
        analyse(store, aided, "2026-09-03")
        aids[key] = open_aid(store, aided, member, kind, start, weeks, **extra)
    store.add_evaluation(AidEvaluation(aid_id=aids["evaluated"].id, date="2026-11-16", phase="fin"))
    store.end_aid(aids["ended"].id, date(2026, 11, 13), AidEndReason.OBJECTIFS_ATTEINTS)
    return {"cases": cases, "aids": aids, "school": school}


@pytest.fixture
def key(tmp_path):
    """A folder of its own, as a USB key would be (the base is in tmp_path)."""
    folder = tmp_path / "cle"
    folder.mkdir()
    return folder


def numbers(pole: dict, *keys: str) -> list[str]:
    return [pole["cases"][key].number for key in keys]


# -- what the agenda holds -------------------------------------------------------------------------


def test_the_next_meeting_and_the_one_after(store, pole):
    agenda = build_agenda(store, DAY)
    assert (agenda.meeting.date, agenda.meeting.recorded, agenda.meeting.deadline) == \
        (date(2026, 11, 26), False, date(2026, 11, 20))
    assert (agenda.following.date, agenda.following.period.number) == (date(2027, 1, 28), 3)


def test_exactly_the_requests_not_analysed_urgent_first_then_the_oldest(store, pole):
    agenda = build_agenda(store, DAY)
    assert [request.case_number for request in agenda.requests] == numbers(
        pole, "urgent", "old", "early", "team", "reopened", "late")
    by_key = {request.case_number: request for request in agenda.requests}
    late = by_key[pole["cases"]["late"].number]
    assert late.received == date(2026, 11, 21) and late.after_deadline(agenda.meeting)
    reopened = by_key[pole["cases"]["reopened"].number]
    assert reopened.reopened and reopened.received == date(2026, 11, 10)
    assert [r.case_number for r in agenda.requests if r.after_deadline(agenda.meeting)] == numbers(pole, "late")


def test_exactly_the_bilans_due_and_the_aids_ending(store, pole):
    agenda = build_agenda(store, DAY)
    aids = pole["aids"]
    assert [aid.aid_id for aid in agenda.bilans] == [aids["overdue"].id, aids["on_the_day"].id,
                                                     aids["no_length"].id]
    assert [agenda.bilan_due(aid) for aid in agenda.bilans] == [date(2026, 11, 16), date(2026, 11, 26),
                                                                date(2026, 11, 26)]
    assert [aid.aid_id for aid in agenda.endings] == [aids["ending"].id, aids["ending_late"].id]
    assert [aid.planned_end() for aid in agenda.endings] == [date(2026, 12, 10), date(2027, 1, 25)]


def test_a_recorded_meeting_and_its_deadline_are_used(store, pole):
    store.set_meeting("2026-2027", 2, date(2026, 11, 24), deadline_days=2)
    agenda = build_agenda(store, DAY)
    assert (agenda.meeting.date, agenda.meeting.recorded, agenda.meeting.deadline) == \
        (date(2026, 11, 24), True, date(2026, 11, 22))
    assert not any(request.after_deadline(agenda.meeting) for request in agenda.requests)
    assert [aid.aid_id for aid in agenda.bilans] == [pole["aids"]["overdue"].id, pole["aids"]["no_length"].id]
    assert agenda.bilan_due(agenda.bilans[1]) == date(2026, 11, 24)  # on_the_day's 26/11 is after it now


@pytest.mark.parametrize("built_on", [date(2026, 11, 27), date(2026, 12, 10), date(2026, 12, 18),
                                      date(2026, 12, 26), date(2027, 1, 5), date(2027, 1, 20), date(2027, 1, 28)])
def test_the_bilans_do_not_depend_on_the_day_the_agenda_is_built(store, pole, built_on):
    """Période 3's meeting (28/01/2027), built at the end of période 2, in the holidays or in
    période 3: the same bilans, among them the aid without planned length (reviewed at the
    meeting of each période) — not only when built in période 2 as before."""
    agenda = build_agenda(store, built_on)
    assert agenda.meeting.date == date(2027, 1, 28)
    aids = pole["aids"]
    expected = [("overdue", date(2026, 11, 16)), ("on_the_day", date(2026, 11, 26)), ("ending", date(2026, 12, 10)),
                ("ending_late", date(2027, 1, 25)), ("no_length", date(2027, 1, 28)), ("ends_then", date(2027, 1, 28))]
    assert sorted((aid.aid_id, agenda.bilan_due(aid)) for aid in agenda.bilans) == \
        sorted((aids[key].id, due) for key, due in expected)


def test_the_bilan_of_an_aid_is_reckoned_from_the_meeting(store, pole):
    meeting = build_agenda(store, DAY).meeting  # 26/11/2026
    by_id = {aid.aid_id: aid for aid in store.caseload_aids(agenda_module.CaseloadFilter(), DAY)}
    no_length = by_id[pole["aids"]["no_length"].id]
    assert bilan_due(no_length, meeting) == date(2026, 11, 26)
    assert bilan_due(no_length.__class__(**{**no_length.__dict__, "start_date": meeting.date}), meeting) is None
    assert bilan_due(no_length.__class__(**{**no_length.__dict__, "final_bilan": DAY}), meeting) is None
    assert bilan_due(by_id[pole["aids"]["after"].id], meeting) == date(2027, 2, 1)  # its planned end


def test_an_empty_base_has_an_empty_agenda(store):
    agenda = build_agenda(store, DAY)
    assert agenda.meeting.date == date(2026, 11, 26)  # approximate périodes: no zone
    assert (agenda.requests, agenda.bilans, agenda.endings) == ([], [], [])


# -- the files ---------------------------------------------------------------------------------------


def read_csv(path, csv_format: CsvFormat = CsvFormat.EXCEL) -> list[dict[str, str]]:
    text = path.read_bytes().decode(csv_format.encoding)
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=csv_format.delimiter))


def test_the_csv_file_reads_back_for_a_spreadsheet(store, pole, key):
    files = write_agenda(build_agenda(store, DAY), key, written_on=DAY)
    assert files.csv_path.name == "ordre-du-jour-2026-11-26.csv" and files.markdown_path.suffix == ".md"
    raw = files.csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = read_csv(files.csv_path)
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert [row["Rubrique"] for row in rows] == [REQUESTS] * 6 + [BILANS] * 3 + [ENDINGS] * 2
    requests = rows[:6]
    assert [row["N° dossier"] for row in requests] == numbers(pole, "urgent", "old", "early", "team", "reopened",
                                                              "late")
    assert [row["Urgente"] for row in requests] == ["oui"] + ["non"] * 5
    assert [row["Après la date limite"] for row in requests] == ["non"] * 5 + ["oui"]
    assert requests[-1]["Reçue le"] == "21/11/2026" and requests[0]["Motif"] == "Difficultés en lecture"
    assert requests[2]["École"] == "'=SOMME(A1:A9) École"  # never computed by a spreadsheet
    assert [row["Bilan dû le"] for row in rows[6:9]] == ["16/11/2026", "26/11/2026", "26/11/2026"]
    assert [row["Fin prévue le"] for row in rows[9:]] == ["10/12/2026", "25/01/2027"]
    assert rows[6]["Aide"] == "Aide à dominante pédagogique (E)" and rows[6]["Membre"] == "Anne Lefèvre"
    assert stat.S_IMODE(files.csv_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.markdown_path.stat().st_mode) == 0o600
    assert sorted(path.name for path in key.iterdir()) == [files.csv_path.name, files.markdown_path.name]


def test_the_rfc4180_format_for_scripts(store, pole, key):
    files = write_agenda(build_agenda(store, DAY), key, csv_format=CsvFormat.RFC4180)
    assert not files.csv_path.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = read_csv(files.csv_path, CsvFormat.RFC4180)
    assert rows[-1]["Fin prévue le"] == "2027-01-25" and rows[0]["Reçue le"] == "2026-11-19"


def test_the_markdown_file(store, pole, key):
    files = write_agenda(build_agenda(store, DAY), key, written_on=DAY)
    text = files.markdown_path.read_text(encoding="utf-8")
    assert text.startswith("# Ordre du jour de la réunion du pôle ressource du jeudi 26/11/2026\n")
    assert "réunion proposée (date à confirmer)" in text
    assert "Demandes reçues jusqu'au 20/11/2026 (6 jours avant la réunion)" in text
    assert "Réunion suivante : jeudi 28/01/2027 (proposée)." in text
    assert "## 1. Demandes à analyser (6)" in text and "## 2. Bilans dus d'ici le 26/11/2026 (3)" in text
    assert "## 3. Aides qui se terminent avant la réunion suivante (2)" in text
    late_line = next(line for line in text.splitlines() if pole["cases"]["late"].number in line)
    assert late_line.endswith("| 21/11/2026 | après la date limite |")
    reopened_line = next(line for line in text.splitlines() if pole["cases"]["reopened"].number in line)
    assert "| rouverte |" in reopened_line
    assert text.count("\n| ") == 3 + 6 + 3 + 2  # three headings and the lines


def test_an_empty_agenda_says_so(store, key):
    text = write_agenda(build_agenda(store, DAY), key).markdown_path.read_text(encoding="utf-8")
    assert "Aucune demande en attente d'analyse." in text and "Aucun bilan dû." in text
    assert len(read_csv(key / "ordre-du-jour-2026-11-26.csv")) == 0


def test_no_name_leaves_unless_asked(store, pole, key):
    agenda = build_agenda(store, DAY)
    pseudonymised = write_agenda(agenda, key)
    written = pseudonymised.csv_path.read_text(encoding="utf-8-sig") + pseudonymised.markdown_path.read_text()
    for name in (*PUPIL_NAMES, "Tessier", "Bérangère", "Cycle 2 de"):
        assert name not in written
    assert "Élève" in written and "Équipe d'école" in written and "ni nom d'élève" in written
    nominative = write_agenda(agenda, key, nominative=True)
    written = nominative.csv_path.read_text(encoding="utf-8-sig") + nominative.markdown_path.read_text()
    assert "Quémeneur Zélie" in written and f"Cycle 2 de {TEACHER}" in written
    assert "Nominatif" in written


def test_lines_name_the_subject_only_when_nominative(store, pole):
    agenda = build_agenda(store, DAY)
    line = agenda_lines(agenda, nominative=False)[0]
    assert (line.subject, line.urgent, line.levels, line.school) == ("Élève", True, "CE1", "École Jean-Jaurès")
    assert agenda_lines(agenda, nominative=True)[0].subject == "N'Guessan Maëlle"


def test_files_never_overwrite_and_a_missing_folder_is_said(store, pole, key):
    agenda = build_agenda(store, DAY)
    first = write_agenda(agenda, key)
    second = write_agenda(agenda, key)
    assert second.csv_path.name == "ordre-du-jour-2026-11-26-2.csv" and first.csv_path.exists()
    with pytest.raises(AgendaError, match="n'existe pas : la clé USB est-elle branchée"):
        write_agenda(agenda, key / "absent")
    with pytest.raises(AgendaError, match="n'est pas un dossier"):
        write_agenda(agenda, first.csv_path)


@pytest.mark.parametrize("taken", [".csv", ".md"])
@pytest.mark.parametrize("hard_links", [True, False])
def test_a_file_appearing_after_the_name_was_found_free_is_never_overwritten(store, pole, key, monkeypatch,
                                                                              taken, hard_links):
    """Another program creates ordre-du-jour-2026-11-26.csv (or .md) just after the name was
    checked: it stays as it was, and the agenda takes the next name, both files or neither —
    also on a USB key without hard links (FAT), where the name is reserved first."""
    stem = "ordre-du-jour-2026-11-26"
    checked = agenda_module._free_stems

    def racing(folder, first):
        for candidate in checked(folder, first):
            if candidate == stem:
                (folder / f"{stem}{taken}").write_bytes(b"autre programme")
            yield candidate

    monkeypatch.setattr(agenda_module, "_free_stems", racing)
    if not hard_links:
        def no_link(source, target):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(target))
        monkeypatch.setattr(os, "link", no_link)
    files = write_agenda(build_agenda(store, DAY), key)
    assert (files.csv_path.name, files.markdown_path.name) == (f"{stem}-2.csv", f"{stem}-2.md")
    assert (key / f"{stem}{taken}").read_bytes() == b"autre programme"
    assert sorted(path.name for path in key.iterdir()) == sorted([f"{stem}{taken}", f"{stem}-2.csv", f"{stem}-2.md"])
    assert len(read_csv(files.csv_path)) == 11 and files.markdown_path.read_text(encoding="utf-8").startswith("# ")
    assert {stat.S_IMODE(path.stat().st_mode) for path in (files.csv_path, files.markdown_path)} == {0o600}


@pytest.mark.parametrize("failing", ["write_partial", "claim_name"])
def test_a_markdown_that_cannot_be_written_leaves_no_csv_either(store, pole, key, monkeypatch, failing):
    """The key is full (or pulled out) when the Markdown is written, or named: nothing stays,
    so that the dialog's « Rien n'a été écrit » is true."""
    original = getattr(agenda_module, failing)

    def fail_on_markdown(*arguments):
        path = arguments[1] if failing == "claim_name" else arguments[0]  # (partial, path) or (path, data)
        if path.suffix == ".md":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return original(*arguments)

    monkeypatch.setattr(agenda_module, failing, fail_on_markdown)
    agenda = build_agenda(store, DAY)
    with pytest.raises(OSError, match="No space left"):
        write_agenda(agenda, key)
    assert list(key.iterdir()) == []
    with pytest.raises(StoreError, match="plus de place sur le disque.* Rien n'a été écrit."):
        AgendaDialog(agenda)._write(key, CsvFormat.EXCEL, False)
    assert list(key.iterdir()) == []


# -- the command line -----------------------------------------------------------------------------


def test_the_agenda_command(store, pole, db_path, tmp_path, key, capsys):
    store.close()
    out = key
    assert main(["agenda", "--db", str(db_path), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Ordre du jour écrit" in printed and "jeudi 26/11/2026 (proposée)" in printed
    assert "6 demandes à analyser (dont 1 urgente, 1 après la date limite) · 3 bilans dus · 2 fins" in printed
    assert "Pseudonymisé" in printed
    rows = read_csv(out / "ordre-du-jour-2026-11-26.csv")
    assert len(rows) == 11 and not any("Quémeneur" in value for row in rows for value in row.values())
    assert main(["--lecture-seule", "agenda", "--db", str(db_path), "--out", str(out), "--nominatif",
                 "--format", "rfc4180"]) == 0
    rows = read_csv(out / "ordre-du-jour-2026-11-26-2.csv", CsvFormat.RFC4180)
    assert any("Quémeneur" in row["Élève / demandeur"] for row in rows)
    assert main(["agenda", "--db", str(db_path), "--out", str(tmp_path / "absent")]) == 1
    assert "n'existe pas" in capsys.readouterr().err
    assert main(["agenda", "--db", str(tmp_path / "none.db"), "--out", str(out)]) == 1


def test_the_agenda_command_takes_the_format_of_the_settings(store, pole, db_path, tmp_path):
    store.set_setting("export_format", "rfc4180")
    store.close()
    assert main(["agenda", "--db", str(db_path), "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "ordre-du-jour-2026-11-26.csv").read_bytes().startswith(b"\xef\xbb\xbf")


# -- the screen (7) -----------------------------------------------------------------------------------


async def open_meetings(pilot) -> MeetingsScreen:
    await pilot.pause()
    await pilot.press("7")
    await pilot.pause()
    assert isinstance(pilot.app.screen, MeetingsScreen)
    return pilot.app.screen


def rows_of(screen, table_id: str) -> dict[str, list[str]]:
    table = screen.query_one(f"#{table_id}", DataTable)
    return {row.key.value: [str(cell) for cell in table.get_row(row.key)] for row in table.ordered_rows}


def footer_keys(app) -> set[str]:
    return {binding.action for _, binding, enabled, _ in app.active_bindings.values() if binding.show and enabled}


async def test_the_screen_shows_periodes_meetings_and_the_agenda(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_meetings(pilot)
        periods = rows_of(screen, "meetings-periods")
        assert periods["2"] == ["▶2", "02/11/2026", "18/12/2026", "officiel", "26/11/2026", "proposée", "20/11/2026"]
        assert periods["3"][1:] == ["04/01/2027", "19/02/2027", "officiel", "28/01/2027", "proposée", "22/01/2027"]
        assert "Année 2026-2027 · zone B · calendrier officiel" in str(screen.query_one("#meetings-year").render())
        assert "Prochaine réunion : jeudi 26/11/2026 (proposée) · limite : 20/11/2026" in \
            str(screen.query_one("#meetings-agenda-title").render())
        agenda = rows_of(screen, "meetings-agenda")
        assert [key for key in agenda if key.startswith("section:")] == [f"section:{s}" for s in (REQUESTS, BILANS,
                                                                                                 ENDINGS)]
        requests = [row for key, row in agenda.items() if key.startswith("request:")]
        assert [row[5] for row in requests] == numbers(pole, "urgent", "old", "early", "team", "reopened", "late")
        assert requests[0][2] == "⚠" and requests[-1][3] == "hors délai" and requests[4][3] == "rouverte"
        assert agenda[f"section:{REQUESTS}"][0] == "À analyser (6)"
        assert len([key for key in agenda if key.startswith(f"{BILANS}:")]) == 3
        assert len([key for key in agenda if key.startswith(f"{ENDINGS}:")]) == 2


async def test_enter_on_an_agenda_line_opens_the_case(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_meetings(pilot)
        table = screen.query_one("#meetings-agenda", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(f"request:{pole['cases']['late'].id}"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen) and app.screen.case_id == pole["cases"]["late"].id


async def test_e_edits_a_meeting_date_and_the_base_changes(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_meetings(pilot)
        screen.query_one("#meetings-periods", DataTable).move_cursor(row=2)  # période 3
        await pilot.press("e")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, PeriodForm) and form.title_text == "Période 3 de 2026-2027 et sa réunion"
        form.query_one("#meeting-date", Input).value = "25/12/2026"  # in the holidays
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "se tient pendant celle-ci" in str(form.query_one("#meeting-date-error").render())
        assert store.ordinary_meeting("2026-2027", 3) is None
        form.query_one("#meeting-date", Input).value = "04/02/2027"
        form.query_one("#meeting-deadline", Input).value = "365"  # no longer cut silently to 36
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "de 0 à 60 jours" in str(form.query_one("#meeting-deadline-error").render())
        form.query_one("#meeting-deadline", Input).value = "36"  # the tester's case: before the période
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "(30/12/2026) tomberait avant le début de la période (04/01/2027)" in str(
            form.query_one("#meeting-deadline-error").render())
        assert store.ordinary_meeting("2026-2027", 3) is None
        form.query_one("#meeting-deadline", Input).value = "7"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        meeting = store.ordinary_meeting("2026-2027", 3)
        assert (meeting.date, meeting.request_deadline_days) == (date(2027, 2, 4), 7)
        assert rows_of(screen, "meetings-periods")["3"][4:] == ["04/02/2027", "enregistrée", "28/01/2027"]
        # the période did not change, but its year is recorded as shown (zone B), with the meeting
        recorded = store.list_periods("2026-2027")
        assert [(p.start_date, p.end_date, p.source.value, p.zone.value) for p in recorded][2] == \
            (date(2027, 1, 4), date(2027, 2, 19), "officiel", "B")
        assert rows_of(screen, "meetings-periods")["3"][1:4] == ["04/01/2027", "19/02/2027", "officiel"]


async def test_e_types_a_periode_by_hand_and_o_takes_the_official_dates_again(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_meetings(pilot)
        screen.query_one("#meetings-periods", DataTable).move_cursor(row=4)
        await pilot.press("e")
        await pilot.pause()
        app.screen.query_one("#period-end", Input).value = "01/07/2027"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert rows_of(screen, "meetings-periods")["5"][2:4] == ["01/07/2027", "manuel"]
        assert "calendrier officiel (à la main : 5)" in str(screen.query_one("#meetings-year").render())
        await pilot.press("o")
        await pilot.pause()
        assert "période 5" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("o")
        await pilot.pause()
        assert rows_of(screen, "meetings-periods")["5"][2:4] == ["02/07/2027", "officiel"]
        assert {period.source.value for period in store.list_periods("2026-2027")} == {"officiel"}


async def test_other_years_with_plus_and_minus(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_meetings(pilot)
        await pilot.press("plus", "plus")
        await pilot.pause()
        assert "Année 2028-2029 · zone B · ⚠ dates approchées" in str(screen.query_one("#meetings-year").render())
        assert {row[3] for row in rows_of(screen, "meetings-periods").values()} == {"approximatif"}
        await pilot.press("minus")
        await pilot.pause()
        assert rows_of(screen, "meetings-periods")["5"][2] == "04/07/2028"


async def test_read_only_hides_and_refuses_editing_but_writes_the_agenda(store, pole, db_path, tmp_path):
    store.set_setting("export_folder", str(tmp_path))
    with Store.open(db_path, read_only=True) as reader:
        app = new_app(reader)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_meetings(pilot)
            assert {"edit", "official"}.isdisjoint(footer_keys(app)) and "write_agenda" in footer_keys(app)
            for key in ("e", "o"):
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is screen
            screen.query_one("#meetings-periods", DataTable).focus()
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is screen
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, AgendaDialog)
            assert app.screen.query_one("#agenda-folder", Input).value == str(tmp_path)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen
    assert (tmp_path / "ordre-du-jour-2026-11-26.csv").exists()
    assert store.ordinary_meeting("2026-2027", 2) is None and store.list_periods("2026-2027") == []


async def test_a_nominative_agenda_is_confirmed_first(store, pole, key):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_meetings(pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#agenda-folder", Input).value = str(key)
        dialog.query_one("#agenda-nominative").value = True
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "AVEC les noms" in str(app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog and list(key.iterdir()) == []
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert not isinstance(app.screen, AgendaDialog)
    assert "Quémeneur" in (key / "ordre-du-jour-2026-11-26.md").read_text(encoding="utf-8")


async def test_the_dialog_asks_for_an_existing_folder(store, pole, tmp_path):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_meetings(pilot)
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "Indiquez le dossier" in str(dialog.query_one("#agenda-folder-error").render())
        dialog.query_one("#agenda-folder", Input).value = str(tmp_path / "absent")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "n'existe pas" in str(dialog.query_one("#agenda-folder-error").render())
        assert app.screen is dialog


async def test_the_screen_fits_80_columns(store, pole):
    app = new_app(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_meetings(pilot)
        periods = screen.query_one("#meetings-periods", DataTable)
        assert periods.virtual_size.width <= periods.size.width
        assert screen.query_one("#meetings-agenda", DataTable).size.height >= 8


async def test_the_palette_and_help_name_the_screen(store):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "Réunions du pôle" in [command.title for command in app.get_system_commands(app.screen)]
        screen = await open_meetings(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert app.screen is not screen and "Réunions du pôle" in screen.HELP


# -- the home screen -----------------------------------------------------------------------------------


async def test_the_home_warning_names_the_next_meeting(store, pole):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        warning = str(app.screen.query_one("#cases-warning").render())
        assert warning == "⚠ 1 demande urgente pas encore analysée — prochaine réunion du pôle le 26/11/2026"

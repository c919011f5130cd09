"""The export bundle opened by a real spreadsheet: LibreOffice converts dossiers.csv,
chronologie.csv and prises_en_charge.csv to .xlsx, and the workbook (read with the standard
library only) must show what the CSV holds: no formula, no error, the formula-like texts as text
with their apostrophe, a multi-line description in one cell, names with their accents, dates as
dates of the right day and month, case numbers and school years left as text.

Needs `soffice` (apt-get install libreoffice-calc-nogui); skipped where it is missing. Each test
starts LibreOffice once, with a private profile under tmp_path (parallel runs never share one).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from rased_tui.domain.enums import EntryKind
from rased_tui.domain.models import Aid, TimelineEntry
from rased_tui.exchange.bundle_spec import AIDS, CASES, ENTRIES, BundleFile
from rased_tui.exchange.export import ExportOptions, export_bundle
from rased_tui.exchange.spreadsheet import CsvFormat, Day, Decimal, Integer
from rased_tui.store.exports import ExportSelection

SOFFICE = shutil.which("soffice")

pytestmark = [
    pytest.mark.libreoffice,
    pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) n'est pas installé"),
]

# LibreOffice's CSV import options ("CSV Filter Options" of its help), token by token:
#  1 field separator (59 ';' / 44 ','), 2 text delimiter (34 '"'), 3 character set (76 UTF-8),
#  4 first line read (1: the header is row 1), 5 column formats (empty: all « Standard », so
#  LibreOffice guesses each cell's type), 6 language (1036 fr-FR: decimal comma, JJ/MM/AAAA
#  read day first; 1033 en-US for the rfc4180 format's decimal point), 7 « quoted field as
#  text » false (a quoted cell is guessed too: its quotes protect nothing), 8 « detect special
#  numbers » true (dates, times, percentages, scientific notation are guessed: the setting that
#  could turn a case number 2026-0042 or a school year 2026-2027 into a date), 9 unused on
#  import, 10 export only, 11 « trim spaces » false, 12 export only, 13 « evaluate formulas »
#  true (a cell starting with '=' becomes a formula: LibreOffice 7.4 does so even when the token
#  is left out, though the help gives false as its default). So the options are the harshest a
#  user could pick, and only the export's leading apostrophe keeps a text from being evaluated
#  (test_the_import_options_do_evaluate_a_bare_formula shows they would).
FRENCH_EXCEL = "CSV:59,34,76,1,,1036,false,true,false,false,false,0,true"
RFC4180_ENGLISH = "CSV:44,34,76,1,,1033,false,true,false,false,false,0,true"
CONVERTED = (CASES, ENTRIES, AIDS)

FORMULA_LIKE = ("=SOMME(1;2) au dernier bilan de calcul", "+33 6 12 34 56 78 (maman)",
                "-2 points en fluence depuis septembre", "@cellule d'écoute du collège")
MULTILINE = ('Déchiffrage lent ; confusions b/d.\n'
             'Elle dit "je n\'y arrive pas" et pleure ; la maîtresse écrit « "fatiguée" ».\n'
             'Calcul mental : fragile.')
QUOTED_START = "'Petit parleur' selon l'enseignante"
PUPILS = ({"last_name": "N'Diaye", "first_name": "Marie-Hélène", "birth_date": "2018-02-03"},
          {"last_name": "Lefèvre-Ça", "first_name": "Éloïse", "birth_date": "2019-12-01"},
          {"last_name": "Dûpont", "first_name": "Zoé-Anaïs", "birth_date": "2017-06-30"})
TEACHER = "Mme Bérangère O'Connor-Dubœuf"


# -- the database ------------------------------------------------------------------------------


@pytest.fixture
def hard_base(store, make_school, make_member, make_pupil_case):
    """Three pupils with hard names, formula-like and multi-line texts in their requests, steps
    and aids (one aid at 1.5 sessions a week), and a psychologist's confidential note."""
    school = store.add_school(make_school(name="École Jean-Jaurès-d'Arc", commune="Saint-Étienne-du-Rouvray"))
    maitre_e = store.add_member(make_member(last_name="Lefèvre", first_name="Anne"))
    psy = store.add_member(make_member(last_name="Garnier", first_name="Inès", role="psychologue"))
    first = store.add_case(make_pupil_case(
        school.id, PUPILS[0], teacher_name=TEACHER, description=MULTILINE, date_sent="2026-10-05",
        date_received="2026-10-07", urgent=True, handicap=True, aesh=False, levels=["CE1"],
        requester="autre", requester_detail=FORMULA_LIKE[1], motifs=["lecture", "autre"],
        other_motif=FORMULA_LIKE[3], parents_informed_on="2026-10-01"))
    second = store.add_case(make_pupil_case(
        school.id, PUPILS[1], teacher_name=TEACHER, description=FORMULA_LIKE[0], date_sent="2026-09-14",
        levels=["GS"], team_reference=FORMULA_LIKE[2]))
    third = store.add_case(make_pupil_case(
        school.id, PUPILS[2], teacher_name="M. Ñúñez", description=QUOTED_START, date_sent="2026-11-02",
        levels=["CM2"], motifs=["mathematiques"]))
    store.add_entry(TimelineEntry(case_id=first.id, kind=EntryKind.ANALYSE, date="2026-10-12",
                                  text=FORMULA_LIKE[0], follow_up=FORMULA_LIKE[3], aids_called=["E"]))
    store.add_entry(TimelineEntry(case_id=first.id, kind=EntryKind.NOTE, date="2026-10-13",
                                  text="Marie-Hélène N'Diaye lit « papa » ;\n\"mama\" ensuite."))
    store.add_entry(TimelineEntry(case_id=second.id, kind=EntryKind.NOTE, date="2026-09-20", text=FORMULA_LIKE[1],
                                  follow_up=QUOTED_START))
    store.add_entry(TimelineEntry(case_id=second.id, kind=EntryKind.NOTE, date="2026-09-21", text=FORMULA_LIKE[2]))
    store.add_entry(TimelineEntry(case_id=third.id, kind=EntryKind.NOTE, date="2026-11-03", text=FORMULA_LIKE[3],
                                  confidential=True, author_member_id=psy.id))
    for case, objectives, start, sessions in ((first, FORMULA_LIKE[2], "2026-10-19", 1.5),
                                              (second, FORMULA_LIKE[0], "2026-09-28", 2)):
        aid = Aid(case_id=case.id, member_id=maitre_e.id, kind="E", modality="petit_groupe", start_date=start,
                  sessions_per_week=sessions, expected_weeks=8, objectives=objectives, consent_status="donne",
                  consent_form="ecrit", consent_date=start, consent_by="Mme Awa N'Diaye-Lefèvre")
        store.open_aid(aid, TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION,
                                          sub_kind="aide_specialisee", date=start, member_ids=[maitre_e.id]))
    return store


def export(store, folder: Path, *, nominative: bool, csv_format: CsvFormat = CsvFormat.EXCEL) -> Path:
    options = ExportOptions(nominative=nominative, csv_format=csv_format,
                            selection=ExportSelection(include_confidential=True))
    folder.mkdir(parents=True, exist_ok=True)
    return export_bundle(store, folder, options).path


# -- LibreOffice and the .xlsx it writes -------------------------------------------------------


def convert(csv_files: list[Path], infilter: str, tmp_path: Path) -> dict[str, Path]:
    """The .xlsx LibreOffice makes of each file, in one run of a French desktop's LibreOffice
    (its locale decides how a date it detected is displayed)."""
    out = tmp_path / "xlsx"
    command = [SOFFICE, f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}", "--headless", "--norestore",
               f"--infilter={infilter}", "--convert-to", "xlsx", "--outdir", str(out), *map(str, csv_files)]
    environment = {**os.environ, "LC_ALL": "fr_FR.UTF-8", "LANG": "fr_FR.UTF-8", "LANGUAGE": "fr_FR"}
    run = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)
    converted = {path.name: out / f"{path.stem}.xlsx" for path in csv_files}
    missing = [name for name, xlsx in converted.items() if not xlsx.exists()]
    assert not missing, f"LibreOffice did not convert {missing}: {run.stdout}\n{run.stderr}"
    return converted


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
BUILTIN_FORMATS = {0: "General", 14: "mm-dd-yy", 49: "@"}


@dataclass(frozen=True)
class Cell:
    kind: str  # the <c t=...>: s (shared string), inlineStr, str (formula text), n, b, e (error)
    text: str  # the string, or the number as written
    formula: str | None
    number_format: str

    @property
    def is_text(self) -> bool:
        return self.kind in ("s", "inlineStr") and self.formula is None


def _string(element) -> str:
    """The text of an <si> or <is>: its <t>, or its rich-text runs' <t> (phonetic runs left out)."""
    parts = [element.find(f"{MAIN}t")] + [run.find(f"{MAIN}t") for run in element.iterfind(f"{MAIN}r")]
    return "".join(part.text or "" for part in parts if part is not None)


def _column_index(reference: str) -> int:
    index = 0
    for char in reference:
        if not char.isalpha():
            break
        index = index * 26 + ord(char.upper()) - ord("A") + 1
    return index - 1


def read_xlsx(path: Path) -> list[list[Cell | None]]:
    """The first sheet's rows, each a list of cells by column (None where there is none)."""
    with zipfile.ZipFile(path) as workbook:
        names = set(workbook.namelist())
        shared = []
        if "xl/sharedStrings.xml" in names:
            shared = [_string(si) for si in ElementTree.fromstring(workbook.read("xl/sharedStrings.xml"))
                      .iterfind(f"{MAIN}si")]
        styles = ElementTree.fromstring(workbook.read("xl/styles.xml"))
        codes = {**BUILTIN_FORMATS, **{int(fmt.get("numFmtId")): fmt.get("formatCode")
                                       for fmt in styles.iter(f"{MAIN}numFmt")}}
        cell_formats = [int(xf.get("numFmtId", "0")) for xf in styles.find(f"{MAIN}cellXfs")]
        sheet = ElementTree.fromstring(workbook.read("xl/worksheets/sheet1.xml"))
    rows: list[list[Cell | None]] = []
    for row in sheet.find(f"{MAIN}sheetData").iterfind(f"{MAIN}row"):
        number = int(row.get("r"))
        rows.extend([] for _ in range(number - len(rows)))
        cells = rows[number - 1]
        for c in row.iterfind(f"{MAIN}c"):
            kind, value, formula = c.get("t", "n"), c.find(f"{MAIN}v"), c.find(f"{MAIN}f")
            if kind == "s":
                text = shared[int(value.text)]
            elif kind == "inlineStr":
                text = _string(c.find(f"{MAIN}is"))
            else:
                text = (value.text or "") if value is not None else ""
            if formula is None and value is None and kind != "inlineStr":
                continue  # a styled empty cell
            index = _column_index(c.get("r"))
            cells.extend([None] * (index + 1 - len(cells)))
            number_format = codes.get(cell_formats[int(c.get("s", "0"))], "?")
            cells[index] = Cell(kind, text, None if formula is None else (formula.text or ""), number_format)
    while rows and not any(rows[-1]):
        rows.pop()
    return rows


def as_date(cell: Cell) -> date:
    """A date cell's day: .xlsx dates count days from 30/12/1899."""
    return date(1899, 12, 30) + timedelta(days=float(cell.text))


def read_csv(path: Path, csv_format: CsvFormat) -> list[list[str]]:
    with open(path, encoding=csv_format.encoding, newline="") as stream:
        return list(csv.reader(stream, delimiter=csv_format.delimiter))


def differences(csv_path: Path, rows: list[list[Cell | None]], bundle_file: BundleFile,
                csv_format: CsvFormat) -> list[str]:
    """Every cell where what LibreOffice made differs from what the CSV meant: a text column must
    be that very text (so no formula, no error, no date or number guessed out of a case number,
    a school year, an identifier, a time stamp); a date column a date of that day, shown day
    first (excel) or year first (rfc4180); an integer or decimal column that number."""
    expected = read_csv(csv_path, csv_format)
    problems = []
    if len(rows) != len(expected):
        problems.append(f"{len(rows)} rows in the workbook, {len(expected)} in the CSV")
    for number, (row, cells) in enumerate(zip(rows, expected), 1):
        if len(row) > len(bundle_file.columns):
            problems.append(f"row {number}: {len(row)} columns, {len(bundle_file.columns)} expected")
        for index, (column, wanted) in enumerate(zip(bundle_file.columns, cells)):
            cell = row[index] if index < len(row) else None
            where = f"row {number}, « {column.header} » ({wanted!r})"
            if cell is not None and (cell.formula is not None or cell.kind == "e"):
                problems.append(f"{where}: formula {cell.formula!r} or error {cell.text!r}")
            elif wanted == "":
                if cell is not None and cell.text != "":
                    problems.append(f"{where}: became {cell!r}")
            elif cell is None:
                problems.append(f"{where}: the cell is empty")
            elif number == 1 or not isinstance(column.kind, (Day, Integer, Decimal)):
                if not (cell.is_text and cell.text == wanted):
                    problems.append(f"{where}: became {cell.kind} {cell.text!r} ({cell.number_format})")
            elif isinstance(column.kind, Day):
                pattern = "%d/%m/%Y" if csv_format is CsvFormat.EXCEL else "%Y-%m-%d"
                shown = cell.number_format.lower().replace("\\", "")
                first = "d" if csv_format is CsvFormat.EXCEL else "y"
                if cell.kind != "n" or as_date(cell) != datetime.strptime(wanted, pattern).date() \
                        or not shown.startswith(first) or "m" not in shown:
                    problems.append(f"{where}: became {cell.kind} {cell.text!r} shown as {cell.number_format!r}")
            else:
                number_wanted = float(wanted.replace(",", ".") if csv_format is CsvFormat.EXCEL else wanted)
                if cell.kind != "n" or float(cell.text) != number_wanted:
                    problems.append(f"{where}: became {cell.kind} {cell.text!r}")
    return problems


def open_in_libreoffice(bundle: Path, infilter: str, tmp_path: Path, csv_format: CsvFormat) -> dict[str, list]:
    """Convert the three files, check each cell against its CSV, return the workbooks' rows."""
    converted = convert([bundle / bundle_file.name for bundle_file in CONVERTED], infilter, tmp_path)
    workbooks = {}
    for bundle_file in CONVERTED:
        rows = read_xlsx(converted[bundle_file.name])
        problems = differences(bundle / bundle_file.name, rows, bundle_file, csv_format)
        assert not problems, f"{bundle_file.name}:\n" + "\n".join(problems[:20])
        workbooks[bundle_file.name] = rows
    return workbooks


def column(rows: list[list[Cell | None]], bundle_file: BundleFile, header: str) -> list[Cell | None]:
    """The cells of a column below its header."""
    index = bundle_file.headers.index(header)
    return [row[index] if index < len(row) else None for row in rows[1:]]


def texts(rows: list[list[Cell | None]]) -> list[str]:
    return [cell.text for row in rows for cell in row if cell is not None and cell.is_text]


# -- the tests ---------------------------------------------------------------------------------


def test_the_import_options_do_evaluate_a_bare_formula(tmp_path):
    """The harsh options are not toothless: a formula left bare is evaluated, quoted or not, and
    the same text behind an apostrophe is not."""
    raw = tmp_path / "brut.csv"
    raw.write_bytes('\ufeffa;b;c\r\n"=SOMME(1;2)";=1+1;\'=1+1\r\n'.encode())
    rows = read_xlsx(convert([raw], FRENCH_EXCEL, tmp_path)["brut.csv"])
    assert rows[1][0].formula is not None and rows[1][1].formula is not None
    assert rows[1][2].is_text and rows[1][2].text == "'=1+1"


def test_nominative_excel_export_opens_in_libreoffice_as_it_was_written(hard_base, tmp_path):
    bundle = export(hard_base, tmp_path / "export", nominative=True)
    books = open_in_libreoffice(bundle, FRENCH_EXCEL, tmp_path, CsvFormat.EXCEL)
    cases, entries, aids = (books[bundle_file.name] for bundle_file in CONVERTED)

    # one row per case, step and aid under the header: no text split into two rows
    assert (len(cases), len(entries), len(aids)) == (3 + 1, 7 + 1, 2 + 1)
    everything = texts(cases) + texts(entries) + texts(aids)
    for text in FORMULA_LIKE:  # shown as text, behind the apostrophe that keeps it inert
        assert "'" + text in everything
    assert "'" + QUOTED_START in everything  # a text that began with an apostrophe gets a second one
    assert QUOTED_START not in everything
    assert not [text for text in everything if text.startswith(("=", "+", "-", "@"))]

    # the multi-line description: one cell, its line breaks, its ';' and its quotes
    descriptions = [cell.text for cell in column(cases, CASES, "Description")]
    assert MULTILINE in descriptions
    assert descriptions[descriptions.index(MULTILINE)].count("\n") == 2
    assert "Marie-Hélène N'Diaye lit « papa » ;\n\"mama\" ensuite." in texts(entries)

    # names as typed: accents, apostrophes, hyphens
    names = {(last.text, first.text) for last, first in zip(column(cases, CASES, "Nom de l'élève"),
                                                            column(cases, CASES, "Prénom de l'élève"))}
    assert names == {(pupil["last_name"], pupil["first_name"]) for pupil in PUPILS}
    assert [cell.text for cell in column(cases, CASES, "Enseignant·e")].count(TEACHER) == 2
    assert "M. Ñúñez" in texts(cases) and "Mme Awa N'Diaye-Lefèvre" in texts(aids)

    # Dates are read as dates, day before month (not as text): the value is the right day, and
    # the display is the locale's short date, « JJ/MM/AA » for a French LibreOffice (21/11/26 for
    # 21/11/2026): LibreOffice 7.4 does not keep the CSV's four-digit year in the display.
    sent = {as_date(cell) for cell in column(cases, CASES, "Envoyée le")}
    assert sent == {date(2026, 10, 5), date(2026, 9, 14), date(2026, 11, 2)}
    born = column(cases, CASES, "Date de naissance")
    assert {as_date(cell) for cell in born} == {date(2018, 2, 3), date(2019, 12, 1), date(2017, 6, 30)}
    assert all(cell.number_format.lower().startswith("dd") for cell in born)
    # what a guess could have turned into a date or a number stays text
    assert all(cell.is_text and cell.text.startswith("2026-") for cell in column(cases, CASES, "Numéro"))
    assert {cell.text for cell in column(cases, CASES, "Année scolaire")} == {"2026-2027"}
    # 1,5 sessions a week is the number 1.5 with a French decimal comma
    assert sorted(float(cell.text) for cell in column(aids, AIDS, "Séances par semaine")) == [1.5, 2.0]


def test_pseudonymised_excel_export_opens_in_libreoffice_without_names(hard_base, tmp_path):
    bundle = export(hard_base, tmp_path / "export", nominative=False)
    books = open_in_libreoffice(bundle, FRENCH_EXCEL, tmp_path, CsvFormat.EXCEL)
    cases = books[CASES.name]
    everything = [text for rows in books.values() for text in texts(rows)]
    for word in ("N'Diaye", "Hélène", "Lefèvre-Ça", "Éloïse", "Zoé", "Bérangère", "O'Connor", "Ñúñez"):
        assert not [text for text in everything if word.casefold() in text.casefold()], word
    assert all(cell is None for header in ("Nom de l'élève", "Prénom de l'élève", "Date de naissance",
                                           "Enseignant·e") for cell in column(cases, CASES, header))
    pseudonyms = column(cases, CASES, "Pseudonyme de l'élève")
    assert all(cell.is_text and cell.text.startswith("ELV-") for cell in pseudonyms)
    assert {cell.text for cell in column(cases, CASES, "Âge à la demande (ans)")} == {"8", "6", "9"}
    for text in FORMULA_LIKE:
        assert "'" + text in everything
    assert "[élève] [élève] lit « papa » ;\n\"mama\" ensuite." in everything
    assert MULTILINE in [cell.text for cell in column(cases, CASES, "Description")]


def test_rfc4180_export_opens_with_commas_and_iso_dates(hard_base, tmp_path):
    """The script format (',', ISO dates, decimal point) read by an English-language import:
    dates are read as dates and displayed year first (YYYY-MM-DD), 1.5 is a number."""
    bundle = export(hard_base, tmp_path / "export", nominative=True, csv_format=CsvFormat.RFC4180)
    books = open_in_libreoffice(bundle, RFC4180_ENGLISH, tmp_path, CsvFormat.RFC4180)
    cases, entries, aids = (books[bundle_file.name] for bundle_file in CONVERTED)
    assert (len(cases), len(entries), len(aids)) == (4, 8, 3)
    sent = column(cases, CASES, "Envoyée le")
    assert {as_date(cell) for cell in sent} == {date(2026, 10, 5), date(2026, 9, 14), date(2026, 11, 2)}
    assert {cell.number_format.replace("\\", "").lower() for cell in sent} == {"yyyy-mm-dd"}
    assert MULTILINE in [cell.text for cell in column(cases, CASES, "Description")]
    assert "'" + FORMULA_LIKE[0] in texts(entries)
    assert sorted(float(cell.text) for cell in column(aids, AIDS, "Séances par semaine")) == [1.5, 2.0]

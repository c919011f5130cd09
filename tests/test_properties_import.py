"""Bad input at scale, on the import of a bundle (issue 9, point 4).

A valid bundle of a small demo base gets garbage: a cell replaced (control characters, NUL,
huge or odd Unicode texts, impossible dates, numbers out of range, a label or identifier of
another column), a file cut short, a BOM or a stray quote in the middle, a cell too many or
too few, bytes that are not UTF-8, or a manifest value of the wrong type. The manifest's
checksum (and, when asked, its row count) is sealed again, so that the garbage reaches the
cell parser and the merge. Then the import either succeeds — and every record it wrote reads
back through the domain models — or refuses with ImportRefused, one French sentence naming
the file (and the line where there is one); the base imported into is then exactly as it was
(same dump, same counts, audit chain intact), and a base created for the import is gone.
Never any other exception.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
import tempfile
import uuid
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rased_tui.domain.enums import AidKind, ClassLevel, EntryKind, Motif, Role
from rased_tui.exchange.bundle_spec import FILES, FILES_BY_NAME, MANIFEST
from rased_tui.exchange.demo import generate_demo
from rased_tui.exchange.importer import ImportRefused, import_bundle
from rased_tui.exchange import spreadsheet
from rased_tui.exchange.spreadsheet import CsvFormat
from rased_tui.store import Store
from tests.conftest import TODAY, valid_uai
from tests.test_exchange import build_base, dump, export, rewrite
from tests.test_properties import ODD_DATES, PROPERTIES, assert_french, huge_text, odd_text

NAMES = [bundle_file.name for bundle_file in FILES]
GARBAGE_EXAMPLES = 100
CELL_EXAMPLES = 200


# -- built once per module: two bundles of a demo base, and a base to import them into ---------------

@pytest.fixture(scope="module")
def material(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("proprietes-import")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", TODAY)
        demo = folder / "demo.db"
        with Store.open(demo) as store:
            generate_demo(store, cases=8, seed=11)
        target = folder / "cible.db"
        build_base(target, school_uai=valid_uai(760200), pupils=(("Martin", "Léo"),))
        with Store.open(target) as store:  # one file, nothing beside it: copied as it is
            store._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return {"excel": export(demo, folder / "excel", nominative=True, include_confidential=True),
                "rfc4180": export(demo, folder / "rfc", csv_format=CsvFormat.RFC4180),
                "target": target}


# -- garbage -------------------------------------------------------------------------------------

def _labels(*enums) -> list[str]:
    return [member.label for enum in enums for member in enum] + [member.value for enum in enums for member in enum]


cell_value = st.one_of(
    odd_text, huge_text, st.text(max_size=20), st.just(""),
    st.sampled_from(ODD_DATES + ["31/02/2026", "2026-02-31", "21/11/2026", "2026-11-21", "01/09/2026", "1900-01-01"]),
    st.sampled_from(["2026-11-21T24:00:00Z", "2026-02-30T10:00:00Z", "2026-11-21T10:00:00.1234567Z", "2026-11-21",
                     "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2026-11-21T10:00:00+01:00"]),
    st.integers(-2**40, 2**40).map(str),
    st.sampled_from(["0", "-1", "201", "999999999", "1000000000", "1,5", "1.5", "20,0000001", "0,0", "١٢", "²",
                     "1e3", "nan", "inf", "oui", "non", "OUI", "vrai", "2026-2027", "2026-2028", "0-1", "9999-10000",
                     "E | G", "E | E", "CP | CE1", " | ", "|", "|||"]),
    st.sampled_from(_labels(Role, Motif, ClassLevel, AidKind, EntryKind)),
    st.uuids().map(str), st.just(str(uuid.UUID(int=0))), st.just("00000000-0000-4000-8000-00000000000G"),
)


WHITE = st.lists(st.sampled_from([" ", "\n", "\r\n", "\t", "\u3000", "\u2028", "\u00a0", "\u200b", "\ufeff"]),
                 min_size=1, max_size=4).map("".join)


def _day_cells(day) -> list[str]:
    return [f"{day.day:02d}/{day.month:02d}/{day.year:04d}", day.isoformat()]


@st.composite
def kind_value(draw, kind) -> str:
    """A cell for one column's kind: in its format but out of the rules, mostly."""
    if isinstance(kind, spreadsheet.Integer):
        return str(draw(st.one_of(st.integers(-3, 300), st.integers(-10**9 + 1, 10**9 - 1))))
    if isinstance(kind, spreadsheet.Decimal):
        number = draw(st.one_of(st.floats(0, 50, allow_nan=False), st.integers(0, 10**6)))
        return draw(st.sampled_from([str(number), str(number).replace(".", ",")]))
    if isinstance(kind, spreadsheet.Day):
        return draw(st.sampled_from(_day_cells(draw(st.one_of(
            st.dates(), st.dates(max_value=date(1999, 12, 31)), st.dates(date(2015, 1, 1), date(2028, 12, 31)))))))
    if isinstance(kind, spreadsheet.Text):
        return draw(st.one_of(WHITE, odd_text, st.text(max_size=kind.max_length + 2), huge_text))
    if isinstance(kind, spreadsheet.Label):
        return draw(st.sampled_from([*kind.cells().values(), *kind.cells(), ""]))
    if isinstance(kind, spreadsheet.LabelList):
        cells = list(kind.label.cells().values())
        return " | ".join(draw(st.lists(st.sampled_from(cells), max_size=3)))
    if isinstance(kind, spreadsheet.SchoolYear):
        year = draw(st.integers(0, 9999))
        return f"{year:04d}-{year + draw(st.sampled_from([1, 1, 2, 0])):04d}"
    if isinstance(kind, spreadsheet.YesNo):
        return draw(st.sampled_from(["oui", "non", ""]))
    return draw(cell_value)


# Every column the import reads but identifiers and times: (file, column index).
VALUE_COLUMNS = [(bundle_file, index) for bundle_file in FILES for index, column in enumerate(bundle_file.columns)
                 if not column.derived and not isinstance(column.kind, (spreadsheet.Identifier, spreadsheet.Timestamp))]


@st.composite
def cell_change(draw, *, in_format_only: bool = False) -> tuple:
    bundle_file, column = draw(st.sampled_from(VALUE_COLUMNS))
    in_format = kind_value(bundle_file.columns[column].kind)
    value = draw(in_format if in_format_only else st.one_of(in_format, in_format, cell_value))
    return "cell", bundle_file.name, draw(st.integers(0, 400)), column, value


def csv_format_of(bundle: Path) -> CsvFormat:
    return CsvFormat(json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))["options"]["format"])


def set_rows_count(bundle: Path, name: str) -> None:
    """The manifest's row count made that of the file as it now reads, when it still reads."""
    csv_format = csv_format_of(bundle)
    try:
        text = (bundle / name).read_bytes().decode("utf-8-sig")
        rows = len(list(csv.reader(io.StringIO(text, newline=""), delimiter=csv_format.delimiter))) - 1
    except (UnicodeDecodeError, csv.Error):
        return
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][name]["rows"] = max(rows, 0)
    (bundle / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def write_bytes_sealed(bundle: Path, name: str, data: bytes) -> None:
    (bundle / name).write_bytes(data)
    manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    manifest["files"][name]["sha256"] = hashlib.sha256(data).hexdigest()
    (bundle / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def replace_cell(bundle: Path, name: str, row: int, column: int, value: str) -> None:
    """One cell replaced (a lone surrogate in it written as its three bytes: not UTF-8)."""
    csv_format = csv_format_of(bundle)
    text = (bundle / name).read_bytes().decode(csv_format.encoding)
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=csv_format.delimiter))
    line = rows[1 + row % (len(rows) - 1)] if len(rows) > 1 else rows[0]
    line[column % len(line)] = value
    out = io.StringIO(newline="")
    csv.writer(out, delimiter=csv_format.delimiter, lineterminator="\r\n").writerows(rows)
    write_bytes_sealed(bundle, name, out.getvalue().encode(csv_format.encoding, errors="surrogatepass"))


def _lines_change(action: str, where: int, value: str, delimiter: str):
    def change(text: str) -> str:
        lines = text.split("\r\n")
        index = where % len(lines)
        position = where % (len(text) + 1)
        if action == "cut":
            return text[:position]
        if action == "insert":  # a BOM, a quote, a NUL, a line break... anywhere
            return text[:position] + value + text[position:]
        if action == "extra_cell":
            lines[index] += delimiter + value
        elif action == "missing_cell":
            lines[index] = lines[index].rsplit(delimiter, 1)[0]
        elif action == "twice":
            lines.insert(index, lines[index])
        elif action == "dropped":
            del lines[index]
        elif action == "swapped_header":
            cells = lines[0].split(delimiter)
            lines[0] = delimiter.join(cells[1:] + cells[:1])
        return "\r\n".join(lines)

    return change


mutation = st.one_of(
    cell_change(), cell_change(), cell_change(),
    st.tuples(st.just("cell"), st.sampled_from(NAMES), st.integers(0, 400), st.integers(0, 60), cell_value),
    st.tuples(st.sampled_from(["cut", "insert", "extra_cell", "missing_cell", "twice", "dropped", "swapped_header"]),
              st.sampled_from(NAMES), st.integers(0, 100_000), st.just(0),
              st.one_of(st.sampled_from(["\ufeff", '"', "\x00", "\r\n", "\r", "\n", ";", ",", "\u2028", "'"]),
                        cell_value)),
    st.tuples(st.just("bytes"), st.sampled_from(NAMES), st.integers(0, 100_000), st.just(0),
              st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbb", b"\x80\x80", b"\xf4\x90\x80\x80"])),
    st.tuples(st.just("latin1"), st.sampled_from(NAMES), st.just(0), st.just(0), st.just("")),
)


def mutate(bundle: Path, change: tuple) -> str:
    action, name, where, column, value = change
    delimiter = csv_format_of(bundle).delimiter
    try:
        (bundle / name).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:  # already made not UTF-8 by an earlier change: leave it so
        return name
    if action == "cell":
        replace_cell(bundle, name, where, column, value)
    elif action == "bytes":
        data = (bundle / name).read_bytes()
        position = where % (len(data) + 1)
        write_bytes_sealed(bundle, name, data[:position] + value + data[position:])
    elif action == "latin1":
        text = (bundle / name).read_bytes().decode("utf-8-sig")
        write_bytes_sealed(bundle, name, text.encode("latin-1", errors="replace"))
    else:
        rewrite(bundle, name, _lines_change(action, where, value, delimiter))
    return name


# -- the properties ------------------------------------------------------------------------------

def read_back_everything(path: Path) -> None:
    """What the screens read, through the domain models: nothing the import wrote may fail there."""
    connection = sqlite3.connect(path)
    try:
        case_ids = [row[0] for row in connection.execute("SELECT id FROM cases")]
        years = [row[0] for row in connection.execute("SELECT DISTINCT school_year FROM periods"
                                                      " UNION SELECT DISTINCT school_year FROM meetings")]
    finally:
        connection.close()
    with Store.open(path) as store:
        assert store.check().ok
        store.list_schools()
        store.list_members()
        for year in years:
            store.list_periods(year)
            store.list_meetings(year)
        for case_id in case_ids:
            store.get_case(case_id)
            store.case_status(case_id)
            store.list_entries(case_id, include_confidential=True)
            for aid in store.list_aids(case_id):
                store.list_evaluations(aid.id)


def assert_told_well(refusal: ImportRefused, *, names_a_file: bool = True) -> None:
    message = str(refusal)
    assert_french(message)
    if names_a_file:
        assert any(name in message for name in (*NAMES, MANIFEST)), message
        if ", ligne" in message:
            assert re.search(r"\.csv, ligne \d+[ ,]", message), message


def import_into_both(bundle: Path, target: Path, work: Path, *, names_a_file: bool = True) -> None:
    """Into a new base, and into a copy of one that holds records."""
    new = work / "neuve.db"
    try:
        import_bundle(new, bundle)
    except ImportRefused as refusal:
        assert_told_well(refusal, names_a_file=names_a_file)
        assert not new.exists() and not list(work.glob("neuve.db*"))
    else:
        read_back_everything(new)
    holding = work / "cible.db"
    shutil.copyfile(target, holding)
    with Store.open(holding) as store:
        counts = store.counts()
    before = dump(holding)
    try:
        import_bundle(holding, bundle)
    except ImportRefused as refusal:
        assert_told_well(refusal, names_a_file=names_a_file)
        assert dump(holding) == before
        with Store.open(holding) as store:
            assert store.counts() == counts and store.verify_audit().intact
    else:
        read_back_everything(holding)


@settings(PROPERTIES, max_examples=CELL_EXAMPLES)
@given(which=st.sampled_from(["excel", "rfc4180"]), change=cell_change(in_format_only=True))
def test_a_cell_in_its_format_but_against_the_rules_is_imported_and_read_back_or_refused_in_french(material, which,
                                                                                                   change):
    """One cell each time, that the cell parser takes (a number, a date, a label, a text where
    such go): the rules of the records — the models' and schema.sql's — decide."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bundle = work / "export"
        shutil.copytree(material[which], bundle)
        mutate(bundle, change)
        new = work / "neuve.db"
        try:
            import_bundle(new, bundle)
        except ImportRefused as refusal:
            assert_told_well(refusal)
            assert not new.exists() and not list(work.glob("neuve.db*"))
        else:
            read_back_everything(new)


@settings(PROPERTIES, max_examples=GARBAGE_EXAMPLES)
@given(which=st.sampled_from(["excel", "rfc4180"]), changes=st.lists(mutation, min_size=1, max_size=3),
       recount=st.booleans())
def test_a_bundle_with_garbage_is_imported_or_refused_in_french_leaving_the_base_as_it_was(material, which,
                                                                                          changes, recount):
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bundle = work / "export"
        shutil.copytree(material[which], bundle)
        for change in changes:
            name = mutate(bundle, change)
            if recount:
                set_rows_count(bundle, name)
        import_into_both(bundle, material["target"], work)


json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False), odd_text),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(odd_text, inner, max_size=3)),
    max_leaves=6)


@PROPERTIES
@given(path=st.sampled_from([("schema_version",), ("bundle_format",), ("options",), ("options", "format"),
                             ("options", "nominative"), ("files",), ("files", "dossiers.csv"),
                             ("files", "dossiers.csv", "rows"), ("files", "eleves.csv", "sha256"), ("site",),
                             ("created_at",), ("settings",), ("application",), ()]),
       value=json_value)
def test_a_manifest_with_garbage_is_refused_in_french_or_harmless(material, path, value):
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bundle = work / "export"
        shutil.copytree(material["excel"], bundle)
        manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
        if path:
            holder = manifest
            for key in path[:-1]:
                holder = holder[key]
            holder[path[-1]] = value
        else:
            manifest = value
        (bundle / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
        import_into_both(bundle, material["target"], work, names_a_file=False)


# -- focused regressions for what these properties found ----------------------------------------

@pytest.mark.parametrize(("path", "value", "message"), [
    (("options", "format"), [], "options absentes ou invalides"),
    (("options", "format"), {"excel": 1}, "options absentes ou invalides"),
    (("bundle_format",), None, "format de fichiers absent ou invalide"),
    (("bundle_format",), "1", "format de fichiers absent ou invalide"),
])
def test_a_manifest_value_of_the_wrong_type_is_refused_in_french(bundle_copy, tmp_path, path, value, message):
    """A list as the CSV format was a TypeError (« unhashable type »)."""
    manifest = json.loads((bundle_copy / MANIFEST).read_text(encoding="utf-8"))
    holder = manifest
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    (bundle_copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ImportRefused, match=message):
        import_bundle(tmp_path / "neuve.db", bundle_copy)
    assert not (tmp_path / "neuve.db").exists()


@pytest.fixture
def bundle_copy(material, tmp_path) -> Path:
    bundle = tmp_path / "export"
    shutil.copytree(material["excel"], bundle)
    return bundle


def column_of(name: str, header: str) -> int:
    return FILES_BY_NAME[name].headers.index(header)


@pytest.mark.parametrize(("name", "header", "value", "message"), [
    ("membres.csv", "Capacité (élèves)", "999", r"membres\.csv, ligne 2 : Capacité \(élèves suivis\) : doit être au plus 200"),
    ("membres.csv", "Nom", "\u3000", r"membres\.csv, ligne 2 : Ce nom est obligatoire\."),
    ("dossiers.csv", "Description", "\n \n", r"dossiers\.csv, ligne 2 : La description factuelle des difficultés est"),
    ("dossiers.csv", "Motifs (le premier est le principal)", "", r"dossiers\.csv, ligne 2 : Choisissez au moins un motif"),
    ("prises_en_charge.csv", "Durée prévue (semaines)", "999", r"prises_en_charge\.csv, ligne 2 : Durée prévue"),
    ("reunions.csv", "Délai des demandes (jours)", "61", r"reunions\.csv, ligne 2 : Délai de dépôt \(jours\) : doit"),
    ("eleves.csv", "Date de naissance", "01/01/1950", r"eleves\.csv, ligne 2 : Cette date de naissance est trop ancienne"),
    ("periodes.csv", "Année scolaire", "2001-2002", r"periodes\.csv, ligne 2 : La période doit se situer"),
    ("dossiers.csv", "Envoyée le", "01/01/0999", r"dossiers\.csv, ligne 2 : .*trop ancien"),
])
def test_a_row_the_base_takes_but_no_screen_could_show_is_refused(bundle_copy, material, tmp_path, name, header, value,
                                                                 message):
    """These rows passed schema.sql, then made every screen that read them fail (a
    ValidationError, in English for some): the import now reads each one as the program will."""
    replace_cell(bundle_copy, name, 0, column_of(name, header), value)
    before = dump(material["target"])
    holding = tmp_path / "cible.db"
    shutil.copyfile(material["target"], holding)
    with pytest.raises(ImportRefused, match=message):
        import_bundle(holding, bundle_copy)
    assert dump(holding) == before
    with pytest.raises(ImportRefused, match=message):
        import_bundle(tmp_path / "neuve.db", bundle_copy)
    assert not (tmp_path / "neuve.db").exists()


def test_a_pseudonymised_bundle_of_teacher_and_class_requests_reads_back(material, tmp_path):
    """A pseudonymised export leaves the teacher's name empty: the imported request about a
    class or a teacher could not be opened (« Indiquez le nom de l'enseignant·e »)."""
    import_bundle(tmp_path / "ien.db", material["rfc4180"])
    with sqlite3.connect(tmp_path / "ien.db") as connection:
        kinds = {row[0] for row in connection.execute("SELECT subject_kind FROM cases WHERE teacher_name = ''")}
    assert kinds & {"classe", "enseignant"}
    read_back_everything(tmp_path / "ien.db")


def test_texts_of_names_columns_take_what_the_models_take(material, tmp_path):
    """A teacher's name, a team, who gave the consent: the models take up to 20 000 characters,
    the import only took 100 — a base's own export was refused by its import."""
    from rased_tui.domain.models import Case, School

    path = tmp_path / "longs.db"
    with Store.open(path) as store:
        school = store.add_school(School(uai=valid_uai(761234), name="École", kind="elementaire"))
        store.add_case(Case(subject_kind="classe", teacher_name="Mme " + "Martin-" * 30, levels=["CP"],
                            school_id=school.id, requester="enseignant", date_sent="2026-10-05", motifs=["lecture"],
                            description="Texte.", team_reference="Classe de " + "CP " * 50))
    bundle = export(path, tmp_path / "cle", nominative=True)
    import_bundle(tmp_path / "copie.db", bundle)
    read_back_everything(tmp_path / "copie.db")
    assert re.search("Martin-Martin", (bundle / "dossiers.csv").read_text(encoding="utf-8-sig"))

"""Export bundles and their import: spreadsheet-ready CSV, pseudonymisation, encryption,
refusals that write nothing, merging by UUID, conflicts, and the round trip."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest

from rased_tui.cli import main
from rased_tui.domain.enums import EntryKind
from rased_tui.domain.models import Aid, AidEvaluation, Case, Member, Pupil, School, TimelineEntry
from rased_tui.exchange import export as export_module
from rased_tui.exchange import sealed
from rased_tui.exchange.bundle_spec import CASES, FILES
from rased_tui.exchange.export import ExportOptions, export_bundle
from rased_tui.exchange.importer import ImportRefused, import_bundle
from rased_tui.exchange.spreadsheet import CsvFormat, neutralise, restore
from rased_tui.store import Store
from rased_tui.store.exports import ExportSelection
from rased_tui.store.migrations import SCHEMA_VERSION
from tests.conftest import valid_uai
from tests.schema_history import downgrade_to_version_4

PASSPHRASE = "une phrase de passe assez longue"
MULTI_LINE = 'Lit « lentement » ; confond b/d.\nÉcrit "en miroir".\nÀ revoir avec la famille.'
FORMULAS = ("=SOMME(1;2)", "+33 6 12 34 56 78", "-2 points depuis la rentrée", "@cellule", "'déjà cité")


@pytest.fixture(autouse=True)
def quick_encryption(monkeypatch):
    monkeypatch.setattr(sealed, "SCRYPT_LOG2_N", 14)


# -- building bases ---------------------------------------------------------------------------

def build_base(path: Path, *, school_uai: str | None = None, member_id_seed: str = "", antenna: str = "Rouen Nord",
               pupils: tuple[tuple[str, str], ...] = (("N'Diaye", "Marie-Hélène"),)) -> dict[str, str]:
    """A base with hard texts: names with apostrophes and hyphens, a multi-line description with
    ';' and quotes, texts a spreadsheet would take for formulas, a confidential note."""
    ids: dict[str, str] = {}
    with Store.open(path) as store:
        store.set_setting("antenne", antenna)
        school = store.add_school(School(uai=school_uai or valid_uai(760100), name="École Jules-Ferry",
                                         commune="Évreux", kind="elementaire"))
        maitre_e = store.add_member(Member(last_name="Lefèvre", first_name="Anne", role="maitre_e",
                                           antenna=antenna, active_from="2025-09-01", capacity=20))
        psy = store.add_member(Member(last_name="Garnier", first_name="Inès", role="psychologue",
                                      antenna=antenna, active_from="2025-09-01"))
        ids.update(school=school.id, maitre_e=maitre_e.id, psy=psy.id)
        for index, (last, first) in enumerate(pupils):
            case = store.add_case(Case(
                subject_kind="eleve", pupil=Pupil(last_name=last, first_name=first, birth_date="2018-05-04"),
                levels=["CE1"], school_id=school.id, requester="enseignant", teacher_name="Mme Boulanger",
                date_sent="2026-09-21", motifs=["lecture", "attention"],
                description=f"{first} : {MULTI_LINE}" if index == 0 else FORMULAS[0]))
            ids[f"case{index}"] = case.id
            store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.ANALYSE, date="2026-10-01",
                                          text=f"{FORMULAS[index % len(FORMULAS)]} — vu avec {first} {last}.",
                                          aids_called=["E"]))
            aid = Aid(case_id=case.id, member_id=maitre_e.id, kind="E", modality="petit_groupe",
                      start_date="2026-10-12", consent_status="donne", consent_form="ecrit",
                      consent_by=f"Mme {last}, mère", sessions_per_week=1.5, objectives=FORMULAS[2])
            store.open_aid(aid, TimelineEntry(case_id=case.id, kind=EntryKind.SECONDE_INTENTION,
                                              sub_kind="aide_specialisee", date="2026-10-12",
                                              member_ids=[maitre_e.id]))
            store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-10-13", phase="debut",
                                               observations=FORMULAS[3], score=4))
            note = store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.NOTE, date="2026-10-14",
                                                 text="Note confidentielle : entretien avec la mère.",
                                                 confidential=True, author_member_id=psy.id))
            ids[f"aid{index}"], ids[f"note{index}"] = aid.id, note.id
        team = store.add_case(Case(subject_kind="equipe", team_reference="Cycle 2", levels=["CP", "CE1"],
                                   school_id=school.id, requester="conseil_cycle", date_sent="2026-09-25",
                                   motifs=["comportement"], description=FORMULAS[4]))
        ids["team"] = team.id
    return ids


@pytest.fixture
def base(tmp_path) -> tuple[Path, dict[str, str]]:
    path = tmp_path / "antenne.db"
    return path, build_base(path)


def export(path: Path, out: Path, **options) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    selection = ExportSelection(**{key: options.pop(key) for key in
                                   ("school_year", "period_number", "open_only", "include_confidential")
                                   if key in options})
    with Store.open(path) as store:
        return export_bundle(store, out, ExportOptions(selection=selection, **options)).path


def read_rows(bundle: Path, name: str, csv_format: CsvFormat = CsvFormat.EXCEL) -> list[dict[str, str]]:
    """A file of the bundle as a spreadsheet user's program reads it (the Excel dialect)."""
    text = (bundle / name).read_bytes().decode(csv_format.encoding)
    dialect = csv.excel if csv_format is CsvFormat.RFC4180 else type("fr", (csv.excel,), {"delimiter": ";"})
    return list(csv.DictReader(io.StringIO(text, newline=""), dialect=dialect))


def all_text(bundle: Path) -> str:
    return "\n".join(path.read_bytes().decode("utf-8-sig") for path in sorted(bundle.iterdir()))


def dump(path: Path) -> list[str]:
    """Everything a base holds, for 'nothing changed' checks."""
    connection = sqlite3.connect(path)
    try:
        return [line for line in connection.iterdump() if "sqlite_sequence" not in line]
    finally:
        connection.close()


def rewrite(bundle: Path, name: str, change, *, fix_checksum: bool = True) -> None:
    """Edit one file of a bundle (as text), keeping the manifest's checksum right if asked."""
    path = bundle / name
    path.write_bytes(change(path.read_bytes().decode("utf-8-sig")).encode("utf-8-sig"))
    if fix_checksum:
        manifest_path = bundle / "manifest.json"
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["files"][name]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


# -- the files, as a spreadsheet reads them ----------------------------------------------------

def test_a_bundle_holds_every_file_and_a_manifest_that_checks_them(base, tmp_path):
    path, _ = base
    bundle = export(path, tmp_path / "cle", nominative=True)
    assert bundle.name.startswith("rased-export-rouen-nord-")
    names = {file.name for file in bundle.iterdir()}
    assert names == {bundle_file.name for bundle_file in FILES} | {"manifest.json"}
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["site"] == "rouen-nord"
    assert manifest["options"]["nominative"] is True and manifest["options"]["confidential"] is False
    for bundle_file in FILES:
        described = manifest["files"][bundle_file.name]
        assert described["sha256"] == hashlib.sha256((bundle / bundle_file.name).read_bytes()).hexdigest()
        assert described["rows"] == len(read_rows(bundle, bundle_file.name))
    assert manifest["files"]["dossiers.csv"]["rows"] == 2


def test_excel_format_bom_semicolons_crlf_french_dates_and_labels(base, tmp_path):
    path, ids = base
    bundle = export(path, tmp_path / "cle", nominative=True)
    raw = (bundle / "dossiers.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    [pupil_case] = [row for row in read_rows(bundle, "dossiers.csv") if row["Identifiant"] == ids["case0"]]
    assert pupil_case["Nom de l'élève"] == "N'Diaye" and pupil_case["Prénom de l'élève"] == "Marie-Hélène"
    assert pupil_case["Description"] == f"Marie-Hélène : {MULTI_LINE}"  # one cell: lines, ';' and quotes
    assert pupil_case["Envoyée le"] == "21/09/2026" and pupil_case["Date de naissance"] == "04/05/2018"
    assert pupil_case["Urgente"] == "non" and pupil_case["Statut"] == "Réponses de 2de intention"
    assert pupil_case["Motifs (le premier est le principal)"] == "Difficultés en lecture | Attention"
    assert pupil_case["Âge à la demande (ans)"] == "8" and pupil_case["Cycle"] == "cycle 2"
    assert pupil_case["Aides en cours"] == "E — Anne Lefèvre"
    [aid] = read_rows(bundle, "prises_en_charge.csv")[:1]
    assert aid["Type (E / G / psy)"] == "E" and aid["Séances par semaine"] == "1,5" and aid["Membre"] == "Anne Lefèvre"


def test_formula_like_texts_are_neutralised_and_come_back_intact(base, tmp_path):
    path, ids = base
    bundle = export(path, tmp_path / "cle", nominative=True)
    cells = [cell for name in ("dossiers.csv", "chronologie.csv", "prises_en_charge.csv", "evaluations.csv")
             for row in read_rows(bundle, name) for cell in row.values()]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'-2 points depuis la rentrée" in cells and "'@cellule" in cells and "''déjà cité" in cells
    for text in FORMULAS:
        assert restore(neutralise(text)) == text
    imported = tmp_path / "ien.db"
    import_bundle(imported, bundle)
    with Store.open(imported) as store:
        assert store.get_case(ids["team"]).description == "'déjà cité"
        assert store.list_aids(ids["case0"])[0].objectives == "-2 points depuis la rentrée"


def test_rfc4180_format_commas_iso_dates_no_bom_and_it_imports(base, tmp_path):
    path, ids = base
    bundle = export(path, tmp_path / "cle", csv_format=CsvFormat.RFC4180)
    raw = (bundle / "dossiers.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.split(b"\r\n")[0].count(b",") > 20
    row = next(row for row in read_rows(bundle, "dossiers.csv", CsvFormat.RFC4180) if row["Identifiant"] == ids["case0"])
    assert row["Envoyée le"] == "2026-09-21"
    assert read_rows(bundle, "prises_en_charge.csv", CsvFormat.RFC4180)[0]["Séances par semaine"] == "1.5"
    report = import_bundle(tmp_path / "ien.db", bundle)
    assert report.merge.added["cases"] == 2


# -- pseudonymisation and confidential notes ---------------------------------------------------

def test_a_default_bundle_holds_no_pupil_name_birth_date_nor_teacher_name(base, tmp_path):
    path, ids = base
    bundle = export(path, tmp_path / "cle")
    text = all_text(bundle)
    for secret in ("N'Diaye", "Diaye", "Marie-Hélène", "Hélène", "2018-05-04", "04/05/2018", "Boulanger"):
        assert secret.casefold() not in text.casefold(), secret
    [pupil_case] = [row for row in read_rows(bundle, "dossiers.csv") if row["Identifiant"] == ids["case0"]]
    assert pupil_case["Pseudonyme de l'élève"].startswith("ELV-") and pupil_case["Âge à la demande (ans)"] == "8"
    assert pupil_case["Description"].startswith("[élève] : Lit")  # the name taken out of the text
    assert "Mme [élève], mère" not in text  # who consented is a parent's name: not exported at all
    analysis = next(row for row in read_rows(bundle, "chronologie.csv") if row["Étape"] == "Première analyse")
    assert analysis["Texte"].endswith("vu avec [élève] [élève].")
    assert json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["options"]["nominative"] is False


def test_a_birth_date_written_in_a_text_is_taken_out(base, tmp_path):
    path, ids = base
    with Store.open(path) as store:
        store.add_entry(TimelineEntry(case_id=ids["case0"], kind=EntryKind.NOTE, date="2026-10-15",
                                      text="Née le 4 mai 2018 (04/05/2018, 4/5/18) ; vue le 04/05/2026."))
    texts = [row["Texte"] for row in read_rows(export(path, tmp_path / "cle"), "chronologie.csv")]
    assert "Née le [date de naissance] ([date de naissance], [date de naissance]) ; vue le 04/05/2026." in texts


def test_pseudonyms_are_stable_across_exports_and_differ_between_bases(base, tmp_path):
    path, ids = base
    first = read_rows(export(path, tmp_path / "un"), "eleves.csv")
    second = read_rows(export(path, tmp_path / "deux"), "eleves.csv")
    assert [row["Pseudonyme"] for row in first] == [row["Pseudonyme"] for row in second]
    other = tmp_path / "autre.db"
    build_base(other)
    assert read_rows(export(other, tmp_path / "trois"), "eleves.csv")[0]["Pseudonyme"] != first[0]["Pseudonyme"]
    with Store.open(path) as store:  # the secret stays in the base, not in the bundle
        secret = store.get_setting("pseudonym_secret")
    assert len(secret) == 64 and secret not in all_text(tmp_path / "un" / next((tmp_path / "un").iterdir()).name)


def test_confidential_notes_leave_only_when_asked(base, tmp_path):
    path, ids = base
    plain = {row["Identifiant"] for row in read_rows(export(path, tmp_path / "a"), "chronologie.csv")}
    assert ids["note0"] not in plain and "Note confidentielle" not in all_text(next((tmp_path / "a").iterdir()))
    included = read_rows(export(path, tmp_path / "b", include_confidential=True), "chronologie.csv")
    [note] = [row for row in included if row["Identifiant"] == ids["note0"]]
    assert note["Confidentielle"] == "oui" and note["Auteur·rice"] == "Inès Garnier"


def test_a_case_reopened_during_a_periode_is_exported_with_it(base, tmp_path):
    path, ids = base
    with Store.open(path) as store:
        store.close_case(TimelineEntry(case_id=ids["team"], kind=EntryKind.CLOTURE, sub_kind="sans_suite",
                                       date="2026-09-26"))
        periods = store.periods_of_year("2026-2027")
        second = periods[1]
        store.add_entry(TimelineEntry(case_id=ids["team"], kind=EntryKind.REOUVERTURE,
                                      date=second.start.isoformat()))
    first_period = {row["Identifiant"] for row in
                    read_rows(export(path, tmp_path / "p1", school_year="2026-2027", period_number=1), "dossiers.csv")}
    second_period = {row["Identifiant"] for row in
                     read_rows(export(path, tmp_path / "p2", school_year="2026-2027", period_number=2), "dossiers.csv")}
    assert ids["team"] in first_period and ids["team"] in second_period  # sent in 1, reopened in 2


def test_selection_by_year_and_open_cases(base, tmp_path):
    path, ids = base
    assert len(read_rows(export(path, tmp_path / "a", school_year="2025-2026"), "dossiers.csv")) == 0
    assert len(read_rows(export(path, tmp_path / "b", school_year="2026-2027", period_number=1), "dossiers.csv")) == 2
    with Store.open(path) as store:
        store.close_case(TimelineEntry(case_id=ids["team"], kind=EntryKind.CLOTURE, sub_kind="sans_suite",
                                       date="2026-10-02"))
    opened = read_rows(export(path, tmp_path / "c", open_only=True), "dossiers.csv")
    assert [row["Identifiant"] for row in opened] == [ids["case0"]]


# -- safe on a USB key -------------------------------------------------------------------------

def test_files_are_owner_only_and_an_interrupted_export_leaves_nothing_that_looks_whole(base, tmp_path,
                                                                                        monkeypatch):
    path, _ = base
    bundle = export(path, tmp_path / "cle")
    if os.name == "posix":
        assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
        assert {stat.S_IMODE(file.stat().st_mode) for file in bundle.iterdir()} == {0o600}
    real_write = export_module.write_csv
    written = []

    def pulled_out(stream, bundle_file, rows, csv_format, on_row=None):
        if len(written) == 5:
            raise OSError(5, "Erreur d'entrée/sortie")
        written.append(bundle_file.name)
        return real_write(stream, bundle_file, rows, csv_format, on_row)

    monkeypatch.setattr(export_module, "write_csv", pulled_out)
    (tmp_path / "cle2").mkdir()
    with pytest.raises(OSError):
        export(path, tmp_path / "cle2")
    assert list((tmp_path / "cle2").iterdir()) == []  # no partial folder left, nothing named like a bundle


def test_a_missing_folder_or_base_is_refused_and_nothing_is_created(base, tmp_path, capsys):
    """A mistyped path, or a USB key not plugged in: never a bundle on the laptop's disk."""
    path, _ = base
    assert main(["export", "--db", str(path), "--out", str(tmp_path / "media" / "CLE")]) == 1
    assert "n'existe pas : la clé USB est-elle branchée" in capsys.readouterr().err
    assert not (tmp_path / "media").exists()
    assert main(["export", "--db", str(tmp_path / "faute.db"), "--out", str(tmp_path)]) == 1
    assert "faute.db n'existe pas" in capsys.readouterr().err and not (tmp_path / "faute.db").exists()


def test_file_system_errors_are_said_in_french_without_the_hidden_name(tmp_path):
    import errno

    from rased_tui.domain.french import french_os_error, os_reason

    error = OSError(errno.EROFS, "Read-only file system", str(tmp_path / "cle" / ".rased-export-x.partiel" / "x.csv"))
    message = french_os_error(error)
    assert "lecture seule" in message and ".partiel" not in message and "Read-only" not in message
    assert os_reason(PermissionError(errno.EPERM, "Operation not permitted")) == "opération non permise"
    assert os_reason(OSError(errno.EBADF, "Bad file descriptor")) == "Bad file descriptor"  # a rare one as it is


def test_export_into_a_file_path_is_refused_in_french(base, tmp_path, capsys):
    path, _ = base
    target = tmp_path / "fichier"
    target.write_text("x")
    assert main(["export", "--db", str(path), "--out", str(target)]) == 1
    assert "n'est pas un dossier" in capsys.readouterr().err


# -- encryption --------------------------------------------------------------------------------

def test_an_encrypted_bundle_is_one_file_that_needs_its_passphrase(base, tmp_path):
    path, ids = base
    bundle = export(path, tmp_path / "cle", passphrase=PASSPHRASE, nominative=True)
    assert bundle.is_file() and bundle.suffix == ".rased" and list((tmp_path / "cle").iterdir()) == [bundle]
    assert b"Diaye" not in bundle.read_bytes() and b"dossiers" not in bundle.read_bytes()
    target = tmp_path / "ien.db"
    with pytest.raises(ImportRefused, match="Phrase de passe incorrecte"):
        import_bundle(target, bundle, passphrase=lambda: "pas la bonne phrase")
    assert not target.exists()  # the base made for the import is removed again
    tampered = tmp_path / "abime.rased"
    data = bytearray(bundle.read_bytes())
    data[-40] ^= 1
    tampered.write_bytes(bytes(data))
    with pytest.raises(ImportRefused, match="altéré"):
        import_bundle(target, tampered, passphrase=lambda: PASSPHRASE)
    report = import_bundle(target, bundle, passphrase=lambda: PASSPHRASE)
    assert report.merge.added["cases"] == 2
    with Store.open(target) as store:
        assert store.get_case(ids["case0"]).pupil.full_name == "Marie-Hélène N'Diaye"


def test_cli_encrypts_with_the_passphrase_variable_and_imports_with_it(base, tmp_path, monkeypatch, capsys):
    path, _ = base
    monkeypatch.setenv("RASED_TUI_PASSPHRASE", PASSPHRASE)
    (tmp_path / "cle").mkdir()
    assert main(["export", "--db", str(path), "--out", str(tmp_path / "cle"), "--chiffrer"]) == 0
    [bundle] = (tmp_path / "cle").iterdir()
    assert main(["import", "--db", str(tmp_path / "ien.db"), str(bundle)]) == 0
    assert "dossiers : 2 ajoutés" in capsys.readouterr().out
    monkeypatch.setenv("RASED_TUI_PASSPHRASE", "une autre phrase de passe")
    assert main(["import", "--db", str(tmp_path / "autre.db"), str(bundle)]) == 1
    assert "Phrase de passe incorrecte" in capsys.readouterr().err


# -- refusals write nothing --------------------------------------------------------------------

@pytest.fixture
def bundle_and_target(base, tmp_path):
    """A bundle, and a base that already holds something to import it into."""
    path, ids = base
    bundle = export(path, tmp_path / "cle", nominative=True)
    target = tmp_path / "ien.db"
    build_base(target, school_uai=valid_uai(760200), pupils=(("Martin", "Léo"),))
    return bundle, target, ids


def refused(target: Path, bundle: Path, message: str) -> None:
    before = dump(target)
    with pytest.raises(ImportRefused, match=message):
        import_bundle(target, bundle)
    assert dump(target) == before


def test_a_tampered_file_is_refused(bundle_and_target):
    bundle, target, _ = bundle_and_target
    rewrite(bundle, "dossiers.csv", lambda text: text.replace("Jules-Ferry", "Jules-Verne"), fix_checksum=False)
    refused(target, bundle, r"dossiers\.csv a été modifié")


def test_a_missing_file_is_refused(bundle_and_target):
    bundle, target, _ = bundle_and_target
    (bundle / "evaluations.csv").unlink()
    refused(target, bundle, r"evaluations\.csv manque")


def test_a_bundle_without_manifest_is_refused(bundle_and_target):
    bundle, target, _ = bundle_and_target
    (bundle / "manifest.json").unlink()
    refused(target, bundle, "manifest.json manque")


def test_a_bundle_from_a_newer_schema_is_refused(bundle_and_target):
    bundle, target, _ = bundle_and_target
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["schema_version"] = 99
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused(target, bundle, "version plus récente")


def test_a_malformed_cell_is_refused_with_its_file_line_and_column(bundle_and_target):
    bundle, target, ids = bundle_and_target
    rewrite(bundle, "dossiers.csv", lambda text: text.replace("21/09/2026", "31/02/2026"))
    refused(target, bundle, r"dossiers\.csv, ligne 2, colonne « Envoyée le » : « 31/02/2026 » n'est pas une date")


def test_a_row_with_missing_cells_is_refused_with_its_line(bundle_and_target):
    bundle, target, _ = bundle_and_target
    rewrite(bundle, "ecoles.csv", lambda text: text.replace(";non;", ";", 1) if ";non;" in text
            else "\r\n".join(text.split("\r\n")[:1] + [text.split("\r\n")[1].rsplit(";", 2)[0]] + text.split("\r\n")[2:]))
    refused(target, bundle, r"ecoles\.csv, ligne 2 : \d+ colonnes au lieu de 9")


def test_a_row_the_database_refuses_stops_everything(bundle_and_target):
    """An aid E given by a psychologist: schema.sql refuses it; the rows before are undone."""
    bundle, target, ids = bundle_and_target
    with Store.open(bundle.parent.parent / "antenne.db") as store:
        psy = store.get_member(ids["psy"])
        maitre_e = store.get_member(ids["maitre_e"])
    rewrite(bundle, "prises_en_charge.csv", lambda text: text.replace(maitre_e.id, psy.id, 1))
    refused(target, bundle, r"prises_en_charge\.csv, ligne 2 : Une aide E est donnée par un maître E")


def test_a_refused_import_into_a_missing_base_leaves_no_file(bundle_and_target, tmp_path, capsys):
    bundle, _, _ = bundle_and_target
    (bundle / "chronologie.csv").write_bytes(b"abime")
    target = tmp_path / "nouvelle" / "ien.db"
    assert main(["import", "--db", str(target), str(bundle)]) == 1
    assert "chronologie.csv a été modifié" in capsys.readouterr().err and not target.exists()


# -- merging -----------------------------------------------------------------------------------

def test_import_creates_the_base_and_importing_again_changes_nothing(base, tmp_path, capsys):
    path, _ = base
    bundle = export(path, tmp_path / "cle")
    target = tmp_path / "neuve" / "ien.db"
    assert main(["import", "--db", str(target), str(bundle)]) == 0
    first = dump(target)
    assert main(["import", "--db", str(target), str(bundle)]) == 0
    assert "Rien n'a changé" in capsys.readouterr().out
    assert dump(target) == first


def test_a_pseudonymised_import_knows_pupils_by_their_pseudonym_until_a_nominative_one(base, tmp_path):
    path, ids = base
    target = tmp_path / "ien.db"
    import_bundle(target, export(path, tmp_path / "a"))
    with Store.open(target) as store:
        pupil = store.get_case(ids["case0"]).pupil
        assert pupil.pseudonymous and pupil.last_name.startswith("ELV-") and pupil.birth_date is None
        assert store.search_case_ids(pupil.last_name.lower()) == [ids["case0"]]
    pseudonym = pupil.last_name
    import_bundle(target, export(path, tmp_path / "b", nominative=True))
    with Store.open(target) as store:
        pupil = store.get_case(ids["case0"]).pupil
        assert pupil.full_name == "Marie-Hélène N'Diaye" and not pupil.pseudonymous
        assert store.search_case_ids("ndiaye") == [ids["case0"]]
    # ...and the pseudonym the IEN knew stays the pupil's in the next exports
    assert read_rows(export(target, tmp_path / "c"), "eleves.csv")[0]["Pseudonyme"] == pseudonym


def test_same_school_and_member_from_two_antennas_are_recognised_and_numbers_kept_apart(tmp_path):
    nord, sud, ien = tmp_path / "nord.db", tmp_path / "sud.db", tmp_path / "ien.db"
    nord_ids = build_base(nord, school_uai=valid_uai(760300), antenna="Rouen Nord", pupils=(("Petit", "Léa"),))
    sud_ids = build_base(sud, school_uai=valid_uai(760300), antenna="Rouen Sud", pupils=(("Roux", "Tom"),))
    ien_ids = build_base(ien, school_uai=valid_uai(760400), pupils=(("Blanc", "Zoé"),))  # the IEN's own cases
    import_bundle(ien, export(nord, tmp_path / "n"))
    report = import_bundle(ien, export(sud, tmp_path / "s")).merge
    assert report.recognised["schools"] == 1 and report.recognised["members"] == 2
    with Store.open(ien) as store:
        connection = store.connection
        assert connection.execute("SELECT count(*) FROM schools WHERE uai = ?", (valid_uai(760300),)).fetchone()[0] == 1
        assert connection.execute("SELECT count(*) FROM members WHERE last_name = 'Lefèvre'").fetchone()[0] == 1
        sud_case = store.get_case(sud_ids["case0"])
        assert sud_case.school_id == nord_ids["school"]  # the reference followed the school recognised
        assert store.list_aids(sud_ids["case0"])[0].member_id == ien_ids["maitre_e"]  # one Anne Lefèvre
        numbers = sorted(row[0] for row in connection.execute("SELECT number FROM cases"))
        assert numbers == ["2026-0001", "2026-0001-ROUENNORD", "2026-0001-ROUENSUD", "2026-0002",
                           "2026-0002-ROUENNORD", "2026-0002-ROUENSUD"]
        assert store.check().ok
        fresh = store.add_case(Case(subject_kind="equipe", team_reference="Cycle 3", levels=["CM1"],
                                    school_id=nord_ids["school"], requester="directeur", date_sent="2026-11-02",
                                    motifs=["comportement"], description="Nouvelle demande."))
        assert store.get_case(fresh.id).number == "2026-0007"  # past the 6 sequences now in 2026-2027


def edit_description(path: Path, case_id: str, text: str) -> None:
    with Store.open(path) as store:
        store.update_case(store.get_case(case_id).model_copy(update={"description": text}))


def test_a_change_on_one_side_is_taken_a_change_on_both_is_a_conflict(base, tmp_path, monkeypatch):
    path, ids = base
    ien = tmp_path / "ien.db"
    import_bundle(ien, export(path, tmp_path / "a", nominative=True))
    monkeypatch.setenv("RASED_TUI_TODAY", "2026-11-22")
    edit_description(path, ids["team"], "Précisé par l'antenne.")
    report = import_bundle(ien, export(path, tmp_path / "b", nominative=True)).merge
    assert report.updated["cases"] == 1 and not report.conflicts
    with Store.open(ien) as store:
        assert store.get_case(ids["team"]).description == "Précisé par l'antenne."
    edit_description(ien, ids["team"], "Précisé par l'IEN.")
    edit_description(path, ids["team"], "Précisé encore par l'antenne.")
    before = dump(ien)
    result = import_bundle(ien, export(path, tmp_path / "c", nominative=True))
    [conflict] = result.merge.conflicts
    assert conflict.what == "dossier 2026-0002" and conflict.file == "dossiers.csv" and not conflict.took_incoming
    lines = result.lines()
    assert any("1 conflit" in line for line in lines) and not any("Rien n'a changé" in line for line in lines)
    assert any("(UTC)" in line for line in lines)  # to the second: the newer one shows
    assert dump(ien) == before  # left untouched, and no trace of an import that changed nothing
    result = import_bundle(ien, next((tmp_path / "c").iterdir()), prefer_newer=True)
    assert result.merge.conflicts[0].took_incoming and result.merge.updated["cases"] == 1
    with Store.open(ien) as store:
        assert store.get_case(ids["team"]).description == "Précisé encore par l'antenne."
        [replaced] = store.connection.execute(
            "SELECT before FROM audit_log WHERE action = 'modification' AND row_id = ? ORDER BY seq DESC LIMIT 1",
            (ids["team"],)).fetchall()
        assert "Précisé par l'IEN." in replaced[0]  # what the import replaced stays in the audit log


def test_the_import_is_audited_once(base, tmp_path):
    path, _ = base
    ien = tmp_path / "ien.db"
    import_bundle(ien, export(path, tmp_path / "a"))
    with Store.open(ien) as store:
        rows = store.connection.execute("SELECT action, after FROM audit_log").fetchall()
        assert store.verify_audit().intact
    assert [row[0] for row in rows] == ["import"]
    summary = json.loads(rows[0][1])["resume"]
    assert "site « rouen-nord »" in summary and "2 ajout" not in summary and "0 conflit" in summary


# -- round trip --------------------------------------------------------------------------------

def test_round_trip_gives_the_same_csv_content(base, tmp_path):
    """Nominative with confidential notes -> an empty base -> exported again: the same files."""
    path, _ = base
    with Store.open(path) as store:  # a second year and an edited step, for good measure
        store.set_setting("antenne", "Rouen Nord")
    first = export(path, tmp_path / "a", nominative=True, include_confidential=True)
    copy = tmp_path / "copie.db"
    import_bundle(copy, first)
    with Store.open(copy) as store:
        store.set_setting("antenne", "Rouen Nord")
    second = export(copy, tmp_path / "b", nominative=True, include_confidential=True)
    for bundle_file in FILES:
        assert (first / bundle_file.name).read_bytes() == (second / bundle_file.name).read_bytes(), bundle_file.name


def test_round_trip_of_a_demo_base(tmp_path):
    from rased_tui.exchange.demo import generate_demo

    path = tmp_path / "demo.db"
    with Store.open(path) as store:
        generate_demo(store, cases=150, seed=3)
    first = export(path, tmp_path / "a", nominative=True, include_confidential=True)
    copy = tmp_path / "copie.db"
    import_bundle(copy, first)
    with Store.open(copy) as store:
        assert store.check().ok
        store.set_setting("antenne", Store.open(path).get_setting("antenne") or "")
    second = export(copy, tmp_path / "b", nominative=True, include_confidential=True)
    for bundle_file in FILES:
        assert (first / bundle_file.name).read_bytes() == (second / bundle_file.name).read_bytes(), bundle_file.name
    assert len(read_rows(first, CASES.name)) == 150


# -- schema version 5 --------------------------------------------------------------------------

def test_migration_to_version_5_keeps_the_data_and_takes_pseudonymous_pupils(base, tmp_path):
    path, ids = base
    downgrade_to_version_4(path)
    with Store.open(path) as store:
        assert store.connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.get_case(ids["case0"]).pupil.full_name == "Marie-Hélène N'Diaye"
        store.connection.execute("INSERT INTO pupils (id, last_name, first_name, birth_date, name_key, created_at,"
                                 " updated_at, pseudonym) VALUES ('00000000-0000-4000-8000-000000000000', 'ELV-X',"
                                 " 'Élève', NULL, 'elv-x eleve', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 'ELV-X')")
        assert store.check().ok


def test_a_pseudonymised_bundle_brings_no_false_conflict_over_notes_it_left_out(base, tmp_path):
    """Meeting notes are left out of a pseudonymised bundle: that is not a change."""
    path, _ = base
    with Store.open(path) as store:
        from rased_tui.domain.models import Meeting
        store.add_meeting(Meeting(school_year="2026-2027", period_number=2, date="2026-11-26", kind="ordinaire",
                                  notes="Léa et Tom : à revoir."))
    ien = tmp_path / "ien.db"
    import_bundle(ien, export(path, tmp_path / "a"))  # the notes stay behind
    report = import_bundle(ien, export(path, tmp_path / "b", nominative=True)).merge
    assert not report.conflicts and report.updated["meetings"] == 1  # a nominative one brings them
    report = import_bundle(ien, export(path, tmp_path / "c")).merge
    assert not report.conflicts and not report.changed_anything


def test_a_bad_uai_in_a_bundle_is_said_in_one_french_line(bundle_and_target, tmp_path):
    bundle, _, _ = bundle_and_target
    uai = read_rows(bundle, "ecoles.csv")[0]["UAI"]
    wrong = uai[:7] + ("A" if uai[7] != "A" else "B")
    rewrite(bundle, "ecoles.csv", lambda text: text.replace(uai, wrong))
    with pytest.raises(ImportRefused) as refusal:
        import_bundle(tmp_path / "neuve.db", bundle)
    assert str(refusal.value).startswith(f"ecoles.csv, ligne 2 : La lettre clé du code UAI {uai[:7]} est {uai[7]}") \
        and "\n" not in str(refusal.value)


# -- from the review of the merge ----------------------------------------------------------------

def test_a_pseudonymised_bundle_lists_pupils_in_an_order_that_says_nothing(tmp_path):
    path = tmp_path / "classe.db"
    build_base(path, pupils=(("Zola", "Émile"), ("Abadie", "Léa"), ("Martin", "Tom")))
    rows = read_rows(export(path, tmp_path / "cle"), "eleves.csv")
    assert [row["Identifiant"] for row in rows] == sorted(row["Identifiant"] for row in rows)  # random ids
    nominative = read_rows(export(path, tmp_path / "nom", nominative=True), "eleves.csv")
    assert [row["Nom"] for row in nominative] == ["Abadie", "Martin", "Zola"]


def test_names_are_found_whatever_their_unicode_form_or_script():
    from rased_tui.exchange.pseudonyms import Scrubber

    assert Scrubber(("Élodie", "Nguyễn"), ())("Vu E\u0301lodie NGUYỄN, Nguyen") == "Vu [élève] [élève], [élève]"
    assert Scrubber(("Иван",), ())("ИВАН lit") == "[élève] lit"
    assert Scrubber(("Léa",), (), "2013-05-31")("née le 31 05 2013, le 31 mai 13") == \
        "née le [date de naissance], le [date de naissance]"


def test_a_pseudonymised_bundle_never_replaces_texts_this_base_holds_with_names(base, tmp_path, monkeypatch):
    path, ids = base
    ien = tmp_path / "ien.db"
    import_bundle(ien, export(path, tmp_path / "a", nominative=True))
    monkeypatch.setenv("RASED_TUI_TODAY", "2026-11-22")
    edit_description(path, ids["case0"], "Marie-Hélène lit mieux.")
    import_bundle(ien, export(path, tmp_path / "b"))  # pseudonymised: "[élève] lit mieux."
    with Store.open(ien) as store:
        assert store.get_case(ids["case0"]).description.startswith("Marie-Hélène : ")


def test_a_nominative_bundle_of_pseudonym_only_pupils_imports_twice_without_change(base, tmp_path):
    path, _ = base
    middle, last = tmp_path / "ien.db", tmp_path / "dsden.db"
    import_bundle(middle, export(path, tmp_path / "a"))
    bundle = export(middle, tmp_path / "b", nominative=True)
    import_bundle(last, bundle)
    before = dump(last)
    assert not import_bundle(last, bundle).merge.changed_anything
    assert dump(last) == before


def test_two_members_of_one_bundle_with_the_same_name_stay_two(tmp_path):
    path = tmp_path / "a.db"
    ids = build_base(path)
    with Store.open(path) as store:  # the same person, two postings
        store.add_member(Member(last_name="Lefèvre", first_name="Anne", role="maitre_e", antenna="Rouen Sud",
                                active_from="2020-09-01", active_to="2024-07-05"))
    report = import_bundle(tmp_path / "ien.db", export(path, tmp_path / "cle")).merge
    assert report.added["members"] == 3 and not report.recognised["members"]
    with Store.open(tmp_path / "ien.db") as store:
        assert store.get_member(ids["maitre_e"]).active_to is None  # each posting keeps its dates


def test_renumbering_takes_only_the_numbers_that_collide(tmp_path):
    ien, nord = tmp_path / "ien.db", tmp_path / "nord.db"
    build_base(ien, school_uai=valid_uai(760500), pupils=(("Blanc", "Zoé"),))  # 2026-0001 and 2026-0002
    build_base(nord, school_uai=valid_uai(760600), pupils=(("Petit", "Léa"), ("Roux", "Tom"), ("Gal", "Ana")))
    report = import_bundle(ien, export(nord, tmp_path / "n")).merge
    assert report.renumbered == [("2026-0001", "2026-0001-ROUENNORD"), ("2026-0002", "2026-0002-ROUENNORD")]
    with Store.open(ien) as store:
        numbers = {row[0] for row in store.connection.execute("SELECT number FROM cases")}
    assert {"2026-0003", "2026-0004"} <= numbers  # the bundle's own numbers that were free


def test_an_id_known_here_under_another_case_is_refused(bundle_and_target, tmp_path):
    bundle, _, ids = bundle_and_target
    target = tmp_path / "autre.db"
    other = build_base(target, school_uai=valid_uai(760700), pupils=(("Martin", "Léo"),))
    rewrite(bundle, "prises_en_charge.csv", lambda text: text.replace(ids["aid0"], other["aid0"]))
    rewrite(bundle, "evaluations.csv", lambda text: text.replace(ids["aid0"], other["aid0"]))
    rewrite(bundle, "chronologie.csv", lambda text: text.replace(ids["aid0"], other["aid0"]))
    refused(target, bundle, r"prises_en_charge\.csv, ligne \d+ : cet identifiant désigne ici une fiche d'un autre dossier")


def test_a_record_twice_in_a_file_is_refused(bundle_and_target):
    bundle, target, _ = bundle_and_target
    lines = (bundle / "ecoles.csv").read_bytes().decode("utf-8-sig").split("\r\n")
    rewrite(bundle, "ecoles.csv", lambda text: "\r\n".join(lines[:2] + [lines[1]] + lines[2:]))
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["ecoles.csv"]["rows"] += 1
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused(target, bundle, r"ecoles\.csv, ligne 3 : cette fiche figure déjà ligne 2")


# -- a base still empty: records added in batches ------------------------------------------------

def content(path: Path) -> list[str]:
    """What a base holds, in the order it was written, but for the audit log's times and hashes
    and the search index's own tables (the searches are compared instead)."""
    lines = [line for line in dump(path) if not line.startswith(('INSERT INTO "audit_log"', 'INSERT INTO "case_search_'))]
    connection = sqlite3.connect(path)
    try:
        audit = connection.execute("SELECT action, table_name, row_id, after FROM audit_log ORDER BY seq").fetchall()
    finally:
        connection.close()
    return lines + [repr(row) for row in audit]


def import_both_ways(bundle: Path, tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """The bundle imported into two new bases: in batches, and record by record."""
    from rased_tui.store import merge

    batches, one_by_one = tmp_path / "par-lots.db", tmp_path / "un-a-un.db"
    first = import_bundle(batches, bundle).merge
    monkeypatch.setattr(merge, "LOAD_EMPTY_TABLES_IN_BATCHES", False)
    second = import_bundle(one_by_one, bundle).merge
    monkeypatch.undo()
    assert first == second
    return batches, one_by_one


@pytest.mark.parametrize("nominative", [True, False])
def test_a_bundle_into_an_empty_base_gives_the_same_base_in_batches_or_record_by_record(tmp_path, monkeypatch,
                                                                                       nominative):
    from rased_tui.exchange.demo import generate_demo

    path = tmp_path / "demo.db"
    with Store.open(path) as store:
        generate_demo(store, cases=120, seed=5)
    bundle = export(path, tmp_path / "cle", nominative=nominative, include_confidential=nominative)
    batches, one_by_one = import_both_ways(bundle, tmp_path, monkeypatch)
    assert content(batches) == content(one_by_one)
    with Store.open(batches) as quick, Store.open(one_by_one) as slow:
        assert quick.check().ok
        for words in ("lecture", "elv", "2026", "famille"):
            assert quick.search_case_ids(words) == slow.search_case_ids(words)


def test_a_number_taken_twice_in_a_bundle_is_renumbered_alike_in_batches(tmp_path, monkeypatch):
    """A bundle changed by hand (its checksum put right) may hold one case number twice."""
    path = tmp_path / "nord.db"
    build_base(path, pupils=(("Petit", "Léa"), ("Roux", "Tom"), ("Gal", "Ana")))
    bundle = export(path, tmp_path / "cle", nominative=True)
    rewrite(bundle, "dossiers.csv", lambda text: text.replace(";2026-0002;2026-2027;2;", ";2026-0001;2026-2027;2;"))
    batches, one_by_one = import_both_ways(bundle, tmp_path, monkeypatch)
    assert content(batches) == content(one_by_one)
    with Store.open(batches) as store:
        numbers = [row[0] for row in store.connection.execute("SELECT number FROM cases ORDER BY rowid")]
    assert numbers[:2] == ["2026-0001", "2026-0001-ROUENNORD"]


def on_line(bundle: Path, name: str, line: int, old: str, new: str) -> None:
    """Replace `old` by `new` on one line of a file of the bundle (1: the header)."""
    def change(text: str) -> str:
        lines = text.split("\r\n")
        assert old in lines[line - 1]
        lines[line - 1] = lines[line - 1].replace(old, new)
        return "\r\n".join(lines)

    rewrite(bundle, name, change)


@pytest.mark.parametrize("batch_rows", [2, 5000])
def test_a_row_refused_in_a_batch_is_told_with_its_line_and_nothing_is_written(tmp_path, monkeypatch, batch_rows):
    """Into a new base: the refusal the record-by-record path meets first, even when the rows
    of a batch are written before their lists."""
    from rased_tui.store import merge

    monkeypatch.setattr(merge, "BATCH_ROWS", batch_rows)
    path = tmp_path / "nord.db"
    ids = build_base(path, pupils=(("Petit", "Léa"), ("Roux", "Tom"), ("Gal", "Ana")))

    def refused_into_a_new_base(change, message: str) -> None:
        bundle = export(path, tmp_path / "cle" / message[:12].replace("\\", ""), nominative=True)
        change(bundle)
        target = tmp_path / "neuve.db"
        with pytest.raises(ImportRefused, match=message):
            import_bundle(target, bundle)
        assert not target.exists()

    refused_into_a_new_base(lambda bundle: on_line(bundle, "prises_en_charge.csv", 4, ids["maitre_e"], ids["psy"]),
                            r"^prises_en_charge\.csv, ligne 4 : Une aide E est donnée par un maître E")
    refused_into_a_new_base(lambda bundle: on_line(bundle, "chronologie.csv", 6, ";01/10/2026;", ";01/09/2026;"),
                            r"^chronologie\.csv, ligne 6 : Cette étape est datée d'avant l'envoi de la demande")
    unknown_member = "00000000-0000-4000-8000-000000000000"

    def a_list_then_a_row(bundle: Path) -> None:  # the list of line 5 is refused before the row of line 6
        on_line(bundle, "chronologie.csv", 5, f";{ids['maitre_e']};", f";{unknown_member};")
        on_line(bundle, "chronologie.csv", 6, ";01/10/2026;", ";01/09/2026;")

    refused_into_a_new_base(a_list_then_a_row, r"^chronologie\.csv, ligne 5 : Enregistrement refusé : il renvoie")
    refused_into_a_new_base(lambda bundle: on_line(bundle, "chronologie.csv", 5, ids["aid1"], ids["aid0"]),
                            r"^chronologie\.csv, ligne 5 : cette étape renvoie à l'aide d'un autre dossier")


@pytest.mark.parametrize("into", ["new", "holding"])
def test_a_wrong_cell_further_in_the_bundle_is_told_before_a_row_the_base_refuses(bundle_and_target, tmp_path, into):
    """As if every file was checked before the merge began: the files are read to their end."""
    bundle, target, ids = bundle_and_target
    with Store.open(bundle.parent.parent / "antenne.db") as store:
        psy = store.get_member(ids["psy"])
    rewrite(bundle, "prises_en_charge.csv", lambda text: text.replace(ids["maitre_e"], psy.id, 1))
    rewrite(bundle, "chronologie.csv", lambda text: text.replace("01/10/2026", "32/10/2026", 1))
    message = r"chronologie\.csv, ligne 2, colonne « Date » : « 32/10/2026 » n'est pas une date"
    if into == "holding":
        refused(target, bundle, message)
    else:
        with pytest.raises(ImportRefused, match=message):
            import_bundle(tmp_path / "neuve.db", bundle)


def test_a_file_not_in_utf8_is_refused_with_its_line(bundle_and_target):
    bundle, target, _ = bundle_and_target
    path = bundle / "chronologie.csv"
    data = path.read_bytes()
    second_line = data.index(b"\r\n") + 2
    path.write_bytes(data[:second_line + 10] + b"\xff" + data[second_line + 10:])
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["chronologie.csv"]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    refused(target, bundle, r"chronologie\.csv, ligne 2 : ce n'est pas du texte UTF-8")


def test_cells_are_read_alike_by_the_quick_readers_and_the_reference(tmp_path):
    """Each column's reader gives what Kind.from_cell gives, and refuses what it refuses."""
    from rased_tui.exchange.spreadsheet import CellError

    samples = ["", "oui", "non", "x", "0", "12", "-3", "1,5", "2.5", "21/11/2026", "31/02/2026", "2026-11-21",
               "2026-2027", "2026-2028", "2026-11-21T14:03:12Z", "2026-11-21T24:03:12Z", "2026-02-30T10:00:00.5Z",
               "2026-11-21T14:03:12.1234567Z", "Petit groupe", "E", "E | G", "G | G", "'=SOMME(1;2)", "''cité",
               "a\x07b", "x" * 101, "00000000-0000-4000-8000-000000000000",
               "00000000-0000-4000-8000-000000000000 | 11111111-1111-4111-8111-111111111111",
               "00000000-0000-4000-8000-000000000000 | 00000000-0000-4000-8000-000000000000"]
    for csv_format in CsvFormat:
        for bundle_file in FILES:
            for column in bundle_file.stored:
                read = column.kind.reader(csv_format)
                for cell in samples * 2:  # twice: what a reader remembers is read alike
                    try:
                        expected = column.kind.from_cell(cell, csv_format)
                    except CellError as error:
                        with pytest.raises(CellError, match=re.escape(str(error))):
                            read(cell)
                    else:
                        assert read(cell) == expected, (column.header, cell)

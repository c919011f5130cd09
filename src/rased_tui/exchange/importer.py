"""Reading an export bundle back: check it whole, then merge it into a database.

`read_bundle(path)` takes a bundle folder or an encrypted `.rased` file (decrypted in memory,
nothing written to disk) and `parse_bundle(files)` checks it before anything is written:
- manifest.json readable, from rased-tui, of a schema and bundle format this version knows;
- every file listed there, present, with its SHA-256 (a file changed by hand, or cut short on a
  USB key, is refused) and its row count;
- every header and every cell (a date, a label, an identifier...), a wrong one reported with
  its file, line and column.
Any refusal is an `ImportRefused` with one French sentence, and the database is not touched.
`import_bundle` then merges (store/merge.py) in one transaction: a row the database refuses
stops it, and nothing at all is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rased_tui.domain.calendar import format_french_date
from rased_tui.domain.french import count, os_reason
from rased_tui.exchange.bundle_spec import (
    BUNDLE_FORMAT,
    CASES,
    ENTRIES,
    FILES,
    FILES_BY_NAME,
    MANIFEST,
    PRIOR_ACTIONS,
    BundleFile,
)
from rased_tui.exchange.spreadsheet import CellError, CsvFormat
from rased_tui.store import Store, StoreError
from rased_tui.store.merge import LABELS, IncomingRow, MergeReport
from rased_tui.store.migrations import SCHEMA_VERSION
from rased_tui.store.opening import remove_database_files

MAX_MANIFEST_BYTES = 1 << 20
# Fields of a row that go to a child table with the record they belong to.
LIST_FIELDS = {CASES.name: ("levels", "motifs"), ENTRIES.name: ("member_ids", "aids_called")}


class ImportRefused(Exception):
    """A bundle that cannot be imported; the message is one French sentence."""


@dataclass
class ParsedBundle:
    manifest: dict[str, Any]
    rows: dict[str, list[IncomingRow]]  # by table, parents first

    @property
    def pseudonymised(self) -> bool:
        return not self.manifest["options"].get("nominative", False)

    @property
    def site(self) -> str:
        return str(self.manifest.get("site") or "")

    @property
    def settings(self) -> dict[str, str]:
        """The sender's circonscription, antenna and zone, where the manifest has them (a
        bundle of an older version has none)."""
        from rased_tui.exchange.export import SHARED_SETTINGS

        given = self.manifest.get("settings")
        if not isinstance(given, dict):
            return {}
        return {key: value.strip() for key, value in given.items()
                if key in SHARED_SETTINGS and isinstance(value, str) and value.strip()}


# -- reading ------------------------------------------------------------------------------

def read_bundle(path: Path, passphrase: Callable[[], str] | None = None) -> dict[str, bytes]:
    """The files of a bundle (folder or encrypted file) by name, read into memory."""
    path = Path(path).expanduser()
    if path.is_dir():
        return _read_folder(path)
    if not path.exists():
        raise ImportRefused(f"{path} n'existe pas.")
    from rased_tui.exchange.sealed import SealError, looks_sealed, unseal

    data = path.read_bytes()
    if not looks_sealed(data[:64]):
        raise ImportRefused(f"{path} n'est ni un dossier d'export ni un export chiffré de rased-tui.")
    if passphrase is None:
        raise ImportRefused("Cet export est chiffré : il faut sa phrase de passe.")
    try:
        return unseal(data, passphrase())
    except SealError as error:
        raise ImportRefused(str(error)) from None


def _read_folder(folder: Path) -> dict[str, bytes]:
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise ImportRefused(f"{folder} n'est pas un export complet de rased-tui : {MANIFEST} manque "
                            "(export interrompu, ou mauvais dossier).")
    files = {MANIFEST: manifest_path.read_bytes()[:MAX_MANIFEST_BYTES + 1]}
    for name in _listed_files(_manifest(files[MANIFEST])):
        file_path = folder / name
        if not file_path.is_file():
            raise ImportRefused(f"Export incomplet : {name} manque dans {folder}. Rien n'a été importé.")
        files[name] = file_path.read_bytes()
    return files


# -- checking -----------------------------------------------------------------------------

def _manifest(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_MANIFEST_BYTES:
        raise ImportRefused(f"{MANIFEST} est anormalement gros : ce n'est pas un export de rased-tui.")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportRefused(f"{MANIFEST} est illisible : l'export est endommagé.") from None
    if not isinstance(manifest, dict) or manifest.get("application") != "rased-tui":
        raise ImportRefused(f"{MANIFEST} ne décrit pas un export de rased-tui.")
    schema = manifest.get("schema_version")
    if not isinstance(schema, int) or schema < 1:
        raise ImportRefused(f"{MANIFEST} : version de schéma absente ou invalide.")
    if schema > SCHEMA_VERSION:
        raise ImportRefused(f"Cet export vient d'une version plus récente de rased-tui (schéma {schema}, "
                            f"celle-ci connaît le schéma {SCHEMA_VERSION}) : mettez le programme à jour.")
    bundle_format = manifest.get("bundle_format")
    if not isinstance(bundle_format, int) or bundle_format > BUNDLE_FORMAT:
        raise ImportRefused(f"Cet export a un format de fichiers inconnu ({bundle_format}) : "
                            "mettez rased-tui à jour.")
    options = manifest.get("options")
    if not isinstance(options, dict) or options.get("format") not in {item.value for item in CsvFormat} \
            or type(options.get("nominative")) is not bool:
        raise ImportRefused(f"{MANIFEST} : options absentes ou invalides (format de CSV, nominatif ou non).")
    _listed_files(manifest)
    return manifest


def _listed_files(manifest: dict[str, Any]) -> list[str]:
    listed = manifest.get("files")
    if not isinstance(listed, dict):
        raise ImportRefused(f"{MANIFEST} ne liste pas les fichiers de l'export.")
    for bundle_file in FILES:
        entry = listed.get(bundle_file.name)
        if not isinstance(entry, dict) or type(entry.get("rows")) is not int \
                or not re.fullmatch(r"[0-9a-f]{64}", str(entry.get("sha256", ""))):
            raise ImportRefused(f"{MANIFEST} ne décrit pas {bundle_file.name} : export incomplet ou altéré.")
    return [bundle_file.name for bundle_file in FILES]


def parse_bundle(files: dict[str, bytes]) -> ParsedBundle:
    """Check the whole bundle and read every row; ImportRefused at the first problem."""
    if MANIFEST not in files:
        raise ImportRefused(f"{MANIFEST} manque : ce n'est pas un export complet de rased-tui.")
    manifest = _manifest(files[MANIFEST])
    csv_format = CsvFormat(manifest["options"]["format"])
    for name in _listed_files(manifest):
        if name not in files:
            raise ImportRefused(f"Export incomplet : {name} manque. Rien n'a été importé.")
        if hashlib.sha256(files[name]).hexdigest() != manifest["files"][name]["sha256"]:
            raise ImportRefused(f"{name} a été modifié ou abîmé depuis l'export (empreinte SHA-256 différente) : "
                                "rien n'a été importé.")
    rows: dict[str, list[IncomingRow]] = {}
    prior_actions: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for bundle_file in FILES:
        parsed = parse_csv(bundle_file, files[bundle_file.name], csv_format)
        expected = manifest["files"][bundle_file.name]["rows"]
        if len(parsed) != expected:
            raise ImportRefused(f"{bundle_file.name} : {len(parsed)} lignes au lieu des {expected} annoncées.")
        if bundle_file is PRIOR_ACTIONS:
            _refuse_duplicates(bundle_file, parsed, key=("case_id", "action"))
            for row in parsed:
                prior_actions[row.values["case_id"]].append((row.values["action"], row.values["detail"]))
            case_ids = {case.values["id"] for case in rows[CASES.table]}
            unknown = next((row for row in parsed if row.values["case_id"] not in case_ids), None)
            if unknown:
                raise ImportRefused(f"{bundle_file.name}, ligne {unknown.line} : ce dossier n'est pas dans l'export.")
            continue
        _refuse_duplicates(bundle_file, parsed)
        rows[bundle_file.table] = parsed
    for case in rows[CASES.table]:
        case.lists["prior_actions"] = prior_actions.get(case.values["id"], [])
    return ParsedBundle(manifest, rows)


def _refuse_duplicates(bundle_file: BundleFile, rows: list[IncomingRow], key: tuple[str, ...] = ("id",)) -> None:
    seen: dict[tuple, int] = {}
    for row in rows:
        value = tuple(row.values[name] for name in key)
        if value in seen:
            raise ImportRefused(f"{bundle_file.name}, ligne {row.line} : cette fiche figure déjà ligne {seen[value]}.")
        seen[value] = row.line


def parse_csv(bundle_file: BundleFile, data: bytes, csv_format: CsvFormat) -> list[IncomingRow]:
    """The rows of one file, each cell read by its column's kind."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise ImportRefused(f"{bundle_file.name}, ligne {line} : ce n'est pas du texte UTF-8.") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=csv_format.delimiter, strict=True)
    try:
        header = next(reader, None)
        if header != bundle_file.headers:
            raise ImportRefused(f"{bundle_file.name} : les colonnes ne sont pas celles d'un export de rased-tui "
                                "(fichier modifié, ou d'une autre version).")
        parsed, line = [], reader.line_num + 1
        for cells in reader:
            parsed.append(_parse_row(bundle_file, cells, line, csv_format))
            line = reader.line_num + 1
    except csv.Error as error:
        reason = "une cellule démesurée" if "field larger" in str(error) else "guillemets ou séparateurs mal placés"
        raise ImportRefused(f"{bundle_file.name}, ligne {reader.line_num} : CSV mal formé ({reason}).") from None
    return parsed


def _parse_row(bundle_file: BundleFile, cells: list[str], line: int, csv_format: CsvFormat) -> IncomingRow:
    if len(cells) != len(bundle_file.columns):
        raise ImportRefused(f"{bundle_file.name}, ligne {line} : {len(cells)} colonnes au lieu de "
                            f"{len(bundle_file.columns)}.")
    values: dict[str, Any] = {}
    for column, cell in zip(bundle_file.columns, cells):
        if column.derived:
            continue
        try:
            values[column.field] = column.kind.from_cell(cell, csv_format)
        except CellError as error:
            raise ImportRefused(f"{bundle_file.name}, ligne {line}, colonne « {column.header} » : {error}.") from None
    if values.get("id", "") is None:
        raise ImportRefused(f"{bundle_file.name}, ligne {line} : identifiant manquant.")
    lists = {name: values.pop(name) for name in LIST_FIELDS.get(bundle_file.name, ())}
    return IncomingRow(bundle_file.name, line, values, lists)


# -- merging ------------------------------------------------------------------------------

@dataclass
class ImportReport:
    bundle: Path
    database: Path
    manifest: dict[str, Any]
    merge: MergeReport

    def lines(self) -> list[str]:
        return import_summary(self)


def import_bundle(database: Path, bundle: Path, *, prefer_newer: bool = False,
                  passphrase: Callable[[], str] | None = None,
                  progress: Callable[[str, int, int, int], None] | None = None) -> ImportReport:
    """Check the bundle, then merge it into `database` (created if missing). ImportRefused
    (nothing written; a database created for the import is removed again) or the report."""
    if passphrase is None:
        from rased_tui.exchange.sealed import passphrase_from_terminal

        def passphrase() -> str:
            return passphrase_from_terminal(confirm=False)

    files = read_bundle_or_refuse(bundle, passphrase)
    parsed = parse_bundle(files)
    database = Path(database).expanduser()
    created = not database.exists()
    try:
        with Store.open(database) as store:
            report = merge_parsed(store, parsed, prefer_newer=prefer_newer, progress=progress)
    except StoreError as error:
        if created:
            remove_database_files(database)
        raise ImportRefused(f"{error} Rien n'a été importé.") from None
    return ImportReport(Path(bundle), database, parsed.manifest, report)


def read_bundle_or_refuse(bundle: Path, passphrase: Callable[[], str] | None) -> dict[str, bytes]:
    """read_bundle, a file system error told in French as an ImportRefused."""
    try:
        return read_bundle(bundle, passphrase)  # a wrong passphrase is already an ImportRefused
    except OSError as error:
        raise ImportRefused(f"Lecture impossible de {error.filename or bundle} : {os_reason(error)}.") from None


def merge_parsed(store: Store, parsed: ParsedBundle, *, prefer_newer: bool = False,
                 progress: Callable[[str, int, int, int], None] | None = None) -> MergeReport:
    tables = list(parsed.rows)

    def table_done(table: str, rows: int) -> None:
        if progress:
            progress(table, tables.index(table) + 1, len(tables), rows)

    from rased_tui.exchange.export import SCRUBBED_TEXTS

    pseudonymised = parsed.pseudonymised
    masked = {bundle_file.table: {column.field for column in bundle_file.stored if column.identity}
              for bundle_file in FILES} if pseudonymised else {}
    scrubbed = {FILES_BY_NAME[name].table: set(fields) for name, fields in SCRUBBED_TEXTS.items()} \
        if pseudonymised else {}
    return store.merge_bundle(parsed.rows, prefer_newer=prefer_newer, masked=masked, scrubbed=scrubbed,
                              site_tag=site_tag(parsed.site), progress=table_done,
                              summary=lambda report: _audit_summary(parsed, report))


SITE_STOP_WORDS = {"rased", "antenne", "de", "du", "des", "la", "le", "les", "d", "l"}


def site_tag(site: str) -> str:
    """The suffix of a case renumbered on import: the exporting site's name in capitals,
    without the words every site shares ('rased-de-maromme' -> 'MAROMME')."""
    words = [word for word in re.split(r"[^a-z0-9]+", site.lower()) if word and word not in SITE_STOP_WORDS]
    return "".join(words).upper()[:10] or "IMPORT"


def _audit_summary(parsed: ParsedBundle, report: MergeReport) -> str:
    added = sum(report.added.values())
    updated = sum(report.updated.values())
    return (f"import de l'export du site « {parsed.site} » créé le {parsed.manifest.get('created_at')} : "
            f"{added} ajout(s), {updated} mise(s) à jour, {len(report.conflicts)} conflit(s)")


def import_summary(result: ImportReport) -> list[str]:
    """What the import did, in French, for the terminal and the screen."""
    report, options = result.merge, result.manifest["options"]
    kind = "nominatif" if options.get("nominative") else "pseudonymisé"
    lines = [f"Import de {result.bundle.name} (site « {result.manifest.get('site')} », {kind}) "
             f"dans {result.database} :"]
    for table, label in LABELS.items():
        feminine = table in FEMININE
        numbers = [(report.added[table], "ajoutée" if feminine else "ajouté"),
                   (report.updated[table], "mise à jour" if feminine else "mis à jour"),
                   (report.unchanged[table], "déjà là"),
                   (report.recognised[table], "reconnue" if feminine else "reconnu")]
        said = [f"{number} {_plural(word, number)}" for number, word in numbers if number]
        if said:
            lines.append(f"  {label}s : " + ", ".join(said))
    for original, number in report.renumbered[:20]:
        lines.append(f"  dossier {original} : numéro déjà pris ici, devient {number}")
    if len(report.renumbered) > 20:
        lines.append(f"  … et {len(report.renumbered) - 20} autres dossiers renumérotés")
    lines.extend(conflict_lines(report))
    if not report.changed_anything and not report.conflicts:
        lines.append("Rien n'a changé : tout ce que contient cet export est déjà dans la base.")
    return lines


FEMININE = {"schools", "periods", "meetings", "aids", "aid_evaluations", "timeline_entries"}


def _plural(word: str, number: int) -> str:
    """'ajoutée' -> 'ajoutées', 'mis à jour' -> 'mis à jour', 'mise à jour' -> 'mises à jour'."""
    if number < 2 or word == "déjà là":
        return word
    first, _, rest = word.partition(" ")
    first = first if first.endswith("s") else first + "s"
    return f"{first} {rest}".strip()


def conflict_lines(report: MergeReport) -> list[str]:
    if not report.conflicts:
        return []
    lines = [count(len(report.conflicts), "conflit") + " (modifié des deux côtés) :"]
    for conflict in report.conflicts[:50]:
        outcome = "version de l'export prise (plus récente)" if conflict.took_incoming else "version d'ici gardée"
        lines.append(f"  {conflict.what} ({conflict.file}, ligne {conflict.line}) : ici {_when(conflict.local_version)}, "
                     f"dans l'export {_when(conflict.incoming_version)} — {outcome}")
    if len(report.conflicts) > 50:
        lines.append(f"  … et {len(report.conflicts) - 50} autres")
    if not any(conflict.took_incoming for conflict in report.conflicts):
        lines.append("  Pour prendre la version la plus récente : rased-tui import --prefer-newer")
    return lines


def _when(version: str | None) -> str:
    """'modifié le 22/11/2026 à 14:03:12 (UTC)': to the second, so that the newer one shows."""
    if not version:
        return "sans date de modification"
    return f"modifié le {format_french_date(version[:10])} à {version[11:19]} (UTC)"

"""The command line: `rased-tui` opens the interface; sub-commands do the headless work.

    rased-tui [--db PATH] [--lecture-seule]            open the interface
    rased-tui [--lecture-seule] EXPORT                 review an export, read-only, in memory
    rased-tui demo   --db PATH [--cases N] [--seed S]  realistic synthetic data in a new base
    rased-tui check  [--db PATH]                       schema, counts, integrity, audit chain
    rased-tui backup [--db PATH] --out FILE            a consistent copy, even while in use
    rased-tui purge  [--db PATH] [--dry-run]           retention: efface expired closed cases
    rased-tui export [--db PATH] --out DIR [--nominatif] [--inclure-confidentiel] [--chiffrer]
                     [--format excel|rfc4180] [--annee AAAA-AAAA [--periode N]] [--ouverts]
    rased-tui import [--db PATH] BUNDLE [--prefer-newer]
    rased-tui stats  [--db PATH] [--annee AAAA-AAAA] [--periode N] [--csv FILE] [--format excel|rfc4180]
                     the bilan d'activité (figures, no names), as text and as a spreadsheet
    rased-tui agenda [--db PATH] --out DIR [--nominatif] [--format excel|rfc4180]
                     the agenda of the pôle's next meeting (CSV and Markdown)
    rased-tui dossier [--db PATH] --eleve ID --out FILE
                     one pupil's file for the family (ID: the pupil's id, or a case number
                     such as 2026-0042), official entries only, as Markdown
    rased-tui --version

Every command exits 0 on success and 1 with one French line on stderr on failure (2 for a
wrong command line). The database path is resolved here, when the command runs: --db, then
RASED_TUI_DB, then the user data folder. Heavy modules (Textual, the demo generator) are
imported only by the command that needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rased_tui import __version__
from rased_tui.domain.calendar import today
from rased_tui.domain.french import count, french_os_error
from rased_tui.store import Store, StoreError, resolve_database_path
from rased_tui.store.opening import DATABASE_VARIABLE


# argparse's own words, in French: argparse looks them up through its module-level `_`
# (gettext) each time it writes help or an error.
ARGPARSE_FRENCH = {
    "usage: ": "usage : ",
    "options": "options",
    "positional arguments": "arguments",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "the following arguments are required: %s": "argument(s) obligatoire(s) : %s",
    "unrecognized arguments: %s": "argument(s) inconnu(s) : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix inconnu : %(value)r (possibles : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "expected one argument": "une valeur est attendue",
    "argument %(argument_name)s: %(message)s": "%(argument_name)s : %(message)s",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s (%(matches)s)",
}


def _french(message: str) -> str:
    return ARGPARSE_FRENCH.get(message, message)


class FrenchArgumentParser(argparse.ArgumentParser):
    """argparse that speaks French and reports a wrong command line in one line."""

    def __init__(self, *args, **kwargs) -> None:
        argparse._ = _french  # type: ignore[attr-defined]
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog} : commande incorrecte ({message}). Voir {self.prog} --help.\n")


class CommandError(Exception):
    """A failure of a command, told to the user in one French line."""


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="rased-tui",
        description="Suivi des demandes d'aide au pôle ressource et des prises en charge du RASED.",
        epilog="rased-tui [--lecture-seule] EXPORT ouvre un export (dossier rased-export-… ou fichier .rased) "
               "en lecture seule, en mémoire, sans rien écrire sur le disque.",
    )
    parser.add_argument("--version", action="version", version=f"rased-tui {__version__}",
                        help="afficher la version et quitter")
    parser.add_argument("--db", type=_path, metavar="FICHIER", help=f"fichier de la base (sinon ${DATABASE_VARIABLE}, sinon le dossier de données)")
    parser.add_argument("--lecture-seule", action="store_true", dest="read_only",
                        help="ouvrir sans rien pouvoir modifier (revue par l'IEN)")
    commands = parser.add_subparsers(dest="command", metavar="COMMANDE", parser_class=FrenchArgumentParser)
    parser.command_names = commands.choices  # filled as each command is added below

    demo = commands.add_parser("demo", help="remplir une base neuve de données fictives réalistes")
    demo.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER",
                      help=f"fichier de la base à créer (obligatoire, ou ${DATABASE_VARIABLE} : "
                           "jamais la base réelle par défaut)")
    demo.add_argument("--cases", type=_positive_int, default=500, metavar="N", help="nombre de dossiers (500)")
    demo.add_argument("--seed", type=_integer, default=1, metavar="S", help="graine du hasard (1) : mêmes données à chaque fois")

    check = commands.add_parser("check", help="vérifier la base : schéma, intégrité, journal d'audit")
    check.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")

    backup = commands.add_parser("backup", help="copier la base dans un fichier de sauvegarde")
    backup.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")
    backup.add_argument("--out", type=_path, required=True, metavar="COPIE", help="fichier de sauvegarde à créer")

    purge = commands.add_parser("purge", help="effacer l'identité et les textes des dossiers clôturés depuis "
                                              "plus longtemps que la durée de conservation (les chiffres restent)")
    purge.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")
    purge.add_argument("--dry-run", action="store_true", dest="dry_run",
                       help="dire seulement ce qui serait effacé, sans rien modifier")
    _add_agenda_command(commands)
    _add_stats_command(commands)
    _add_dossier_command(commands)
    parser.export_parser = _add_exchange_commands(commands)  # its own errors name `export`
    return parser


def _add_exchange_commands(commands) -> argparse.ArgumentParser:
    export = commands.add_parser("export", help="exporter pour une clé USB : fichiers CSV pour tableur, pseudonymisés")
    export.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")
    export.add_argument("--out", type=_path, required=True, metavar="DOSSIER",
                        help="dossier où écrire l'export (la clé USB, par exemple)")
    export.add_argument("--nominatif", action="store_true", dest="nominative",
                        help="inclure les noms et dates de naissance des élèves et les noms des enseignants")
    export.add_argument("--inclure-confidentiel", action="store_true", dest="include_confidential",
                        help="inclure les notes confidentielles des psychologues")
    export.add_argument("--chiffrer", action="store_true", dest="encrypt",
                        help="un seul fichier chiffré, protégé par une phrase de passe")
    export.add_argument("--format", choices=("excel", "rfc4180"),
                        help="excel (« ; », dates JJ/MM/AAAA) ou rfc4180 (« , », dates ISO, pour scripts) ; "
                             "par défaut celui des paramètres, sinon excel")
    export.add_argument("--annee", type=_school_year, metavar="AAAA-AAAA", help="seulement les dossiers de cette année scolaire")
    export.add_argument("--periode", type=_period_number, metavar="N", help="seulement ceux actifs pendant la période N (1 à 5) de --annee")
    export.add_argument("--ouverts", action="store_true", dest="open_only", help="seulement les dossiers ouverts")

    bundle_import = commands.add_parser("import", help="importer un export (dossier ou fichier chiffré) dans la base")
    bundle_import.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER",
                               help="fichier de la base (créé s'il n'existe pas)")
    bundle_import.add_argument("bundle", type=_path, metavar="EXPORT", help="dossier rased-export-… ou fichier .rased")
    bundle_import.add_argument("--prefer-newer", action="store_true", dest="prefer_newer",
                               help="en cas de conflit, garder la version la plus récente")
    return export


def _add_agenda_command(commands) -> None:
    agenda = commands.add_parser("agenda", help="écrire l'ordre du jour de la prochaine réunion du pôle (CSV et Markdown)")
    agenda.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")
    agenda.add_argument("--out", type=_path, required=True, metavar="DOSSIER", help="dossier où écrire l'ordre du jour")
    agenda.add_argument("--nominatif", action="store_true", dest="nominative",
                        help="avec les noms des élèves et des enseignants (sinon le seul numéro des dossiers)")
    agenda.add_argument("--format", choices=("excel", "rfc4180"),
                        help="du fichier CSV : excel (« ; », dates JJ/MM/AAAA) ou rfc4180 (« , », dates ISO) ; "
                             "par défaut celui des paramètres, sinon excel")


def _add_stats_command(commands) -> None:
    stats = commands.add_parser("stats", help="bilan d'activité : chiffres de l'année ou d'une période, sans nom")
    stats.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")
    stats.add_argument("--annee", type=_school_year, metavar="AAAA-AAAA", help="l'année scolaire (par défaut l'année en cours)")
    stats.add_argument("--periode", type=_period_number, metavar="N", help="seulement la période N (1 à 5) de l'année")
    stats.add_argument("--csv", type=_path, metavar="FICHIER", help="écrire aussi le bilan dans ce fichier CSV (pour tableur)")
    stats.add_argument("--format", choices=("excel", "rfc4180"),
                       help="du fichier CSV : excel (« ; ») ou rfc4180 (« , », pour scripts) ; "
                            "par défaut celui des paramètres, sinon excel")


def _add_dossier_command(commands) -> None:
    dossier = commands.add_parser(
        "dossier", help="écrire le dossier d'un élève pour sa famille (droit d'accès) : les étapes officielles, "
                        "sans notes confidentielles ni ce qui concerne d'autres enfants")
    dossier.add_argument("--db", type=_path, default=argparse.SUPPRESS, metavar="FICHIER", help="fichier de la base")
    dossier.add_argument("--eleve", type=_path, required=True, metavar="ID",
                         help="l'identifiant de l'élève, ou le numéro d'un de ses dossiers (2026-0042)")
    dossier.add_argument("--out", type=_path, required=True, metavar="FICHIER",
                         help="fichier Markdown à créer (jamais par-dessus un fichier existant)")


def _school_year(text: str) -> str:
    from rased_tui.domain.calendar import parse_school_year

    try:
        parse_school_year(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None
    return text


def _period_number(text: str) -> int:
    value = _integer(text)
    if not 1 <= value <= 5:
        raise argparse.ArgumentTypeError("une période est numérotée de 1 à 5")
    return value


def _path(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("chemin vide")
    return text


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas un nombre entier") from None


MAX_DEMO_CASES = 500_000


def _positive_int(text: str) -> int:
    value = _integer(text)
    if not 1 <= value <= MAX_DEMO_CASES:
        raise argparse.ArgumentTypeError(f"le nombre doit être entre 1 et {MAX_DEMO_CASES}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    bundle, argv = split_bundle_argument(list(sys.argv[1:] if argv is None else argv), set(parser.command_names))
    arguments = parser.parse_args(argv)
    if bundle is not None:
        if arguments.db:
            parser.error("un export s'ouvre seul : --db ne va pas avec EXPORT")
        return _run_catching_errors(lambda: run_review(Path(bundle)))

    if arguments.command == "demo":
        if arguments.read_only:
            parser.error("--lecture-seule ne va pas avec demo, qui écrit une base")
        if not arguments.db and not os.environ.get(DATABASE_VARIABLE):
            parser.error(f"demo écrit dans la base désignée par --db (ou ${DATABASE_VARIABLE}), jamais dans la base par défaut")
    if arguments.command == "export" and arguments.periode and not arguments.annee:
        parser.export_parser.error("--periode va avec --annee")
    if arguments.command == "purge" and arguments.read_only and not arguments.dry_run:
        parser.error("--lecture-seule ne va pas avec purge, qui efface (pour un essai : --dry-run)")
    if arguments.command == "import" and arguments.read_only:
        parser.error("--lecture-seule ne va pas avec import, qui écrit dans la base")
    command: Callable[[argparse.Namespace], int] = {
        "demo": run_demo, "check": run_check, "backup": run_backup, "purge": run_purge, "stats": run_stats,
        "export": run_export, "import": run_import, "agenda": run_agenda,
        "dossier": run_dossier,
    }.get(arguments.command, run_interface)
    return _run_catching_errors(lambda: command(arguments))


def _run_catching_errors(command: Callable[[], int]) -> int:
    """Run a command: its failures become one French line on stderr and an exit code."""
    try:
        check_frozen_today()
        return command()
    except (StoreError, CommandError) as error:
        print(f"rased-tui : {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the output closed early (`| head`): what was done is done
        return 0
    except OSError as error:
        print(f"rased-tui : {french_os_error(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        _end_progress()
        print("rased-tui : interrompu.", file=sys.stderr)
        return 130
    except Exception as error:  # never a traceback for the user; RASED_TUI_DEBUG=1 shows it
        if os.environ.get("RASED_TUI_DEBUG"):
            raise
        print(f"rased-tui : erreur inattendue ({type(error).__name__}) ; "
              "relancez avec RASED_TUI_DEBUG=1 pour le détail.", file=sys.stderr)
        return 1


def check_frozen_today() -> None:
    """A wrong RASED_TUI_TODAY is said before anything is opened or written."""
    try:
        today()
    except ValueError as error:
        raise CommandError(str(error)) from None


def split_bundle_argument(argv: list[str], commands: set[str]) -> tuple[str | None, list[str]]:
    """`rased-tui [--lecture-seule] EXPORT`: argparse cannot hold a free word beside its
    sub-commands, so the export to open is taken out first — the first word that is neither an
    option, nor the value of --db, nor a command, and that names a path (a word that names
    nothing is left to argparse: most likely a mistyped command). (None, argv) when there is none."""
    after_db = False
    for index, word in enumerate(argv):
        if after_db:
            after_db = False
        elif word.startswith("-"):
            after_db = word == "--db"
        elif word in commands or not _names_a_path(word):
            return None, argv
        else:
            return word, argv[:index] + argv[index + 1:]
    return None, argv


def _names_a_path(word: str) -> bool:
    return os.path.exists(word) or os.sep in word or "/" in word or word.endswith(".rased")


def run_interface(arguments: argparse.Namespace) -> int:
    path = resolve_database_path(arguments.db)
    if arguments.read_only:
        return _run_app(Store.open_snapshot(path))
    return _run_app(Store.open(path), backup_on_start=True)


PASSPHRASE_ATTEMPTS = 3  # typed at a terminal; a passphrase given by the environment is tried once


def run_review(bundle: Path) -> int:
    """An export opened read-only in memory: nothing is written to disk."""
    from rased_tui.store.opening import SQLITE_HEADER

    if bundle.is_file() and _first_bytes(bundle, len(SQLITE_HEADER)) == SQLITE_HEADER:
        raise CommandError(f"{bundle} est une base, pas un export : rased-tui --lecture-seule --db {bundle}")
    reviewed = _open_for_review(bundle)
    return _run_app(reviewed.store, f"{bundle} — {reviewed.describe()}")


def _open_for_review(bundle: Path):
    """The bundle in memory; a mistyped passphrase is asked again, at most three times."""
    from rased_tui.exchange.importer import ImportRefused
    from rased_tui.exchange.review import open_bundle_for_review
    from rased_tui.exchange.sealed import PASSPHRASE_VARIABLE, WRONG_PASSPHRASE, passphrase_from_terminal

    attempts_left = PASSPHRASE_ATTEMPTS if sys.stdin.isatty() and not os.environ.get(PASSPHRASE_VARIABLE) else 1
    while True:
        attempts_left -= 1
        try:
            reviewed = open_bundle_for_review(bundle, passphrase=lambda: passphrase_from_terminal(confirm=False),
                                              progress=_file_progress_printer("Lecture"))
        except ImportRefused as error:
            _end_progress()
            if str(error) == WRONG_PASSPHRASE and attempts_left:
                print("rased-tui : phrase de passe incorrecte, essayez encore.", file=sys.stderr)
                continue
            raise CommandError(str(error).replace("rien n'a été importé", "l'export n'a pas été ouvert")) from None
        _end_progress()
        return reviewed


def _first_bytes(path: Path, size: int) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(size)


def _run_app(store: Store, source: str | None = None, *, backup_on_start: bool = False) -> int:
    """The interface over an open store, which is closed when the interface quits."""
    from rased_tui.app import RasedApp

    app = RasedApp(store, source=source, backup_on_start=backup_on_start)
    try:
        app.run()
    finally:
        store.close()
    return app.return_code or 0


def run_demo(arguments: argparse.Namespace) -> int:
    from rased_tui.exchange.demo import generate_demo

    path = resolve_database_path(arguments.db)
    with Store.open(path) as store:
        if store.counts()["cases"]:
            raise CommandError(f"{path} contient déjà des dossiers : la démonstration s'écrit dans une base neuve.")
        summary = generate_demo(store, cases=arguments.cases, seed=arguments.seed, progress=_progress_printer(
            lambda done, total: f"Génération des dossiers : {done}/{total}"))
    _end_progress()
    print(f"Base de démonstration : {path}")
    print(", ".join([count(summary.cases, "dossier"), count(summary.pupils, "élève"), count(summary.schools, "école"),
                     count(summary.members, "membre du pôle", "membres du pôle"), count(summary.entries, "étape"),
                     count(summary.aids, "aide")]) + ".")
    return 0


def _progress_printer(line: Callable[..., str]) -> Callable[..., None] | None:
    """Progress on stderr, one line rewritten in place (`line` words it from the progress
    values), only when it is a terminal: scripts and logs stay clean."""
    if not sys.stderr.isatty():
        return None

    def show(*progress) -> None:
        print(f"\r{line(*progress)}\033[K", end="", file=sys.stderr, flush=True)

    return show


def _end_progress() -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)


def run_check(arguments: argparse.Namespace) -> int:
    path = resolve_database_path(arguments.db)
    with Store.open(path, read_only=True) as store:
        report = store.check()
    labels = {"schools": "école", "members": "membre", "pupils": "élève", "cases": "dossier",
              "timeline_entries": "étape", "aids": "aide", "aid_evaluations": "évaluation",
              "periods": "période", "meetings": "réunion"}
    print(f"Base : {path}")
    print(f"Schéma : version {report.schema_version}")
    print("Contenu : " + ", ".join(count(report.counts[table], label) for table, label in labels.items()))
    print(f"Intégrité SQLite : {report.integrity}")
    print(f"Clés étrangères : {'ok' if not report.foreign_key_errors else f'{report.foreign_key_errors} erreur(s)'}")
    if report.audit.intact:
        purged = f", dont {report.audit.purged} expurgées" if report.audit.purged else ""
        print(f"Journal d'audit : {count(report.audit.rows, 'ligne')}{purged}, chaîne intacte")
        print(f"Empreinte de tête : {report.audit.head} (à noter ailleurs : elle prouve que rien n'a été retranché)")
    else:
        print(f"Journal d'audit : ROMPU — {report.audit.problem}")
    if not report.ok:
        raise CommandError(_first_problem(report))
    return 0


def _first_problem(report) -> str:
    if report.integrity != "ok":
        return f"la base est endommagée ({report.integrity})."
    if report.foreign_key_errors:
        return f"{report.foreign_key_errors} référence(s) cassée(s) entre les tables."
    return f"journal d'audit rompu : {report.audit.problem}."


def run_backup(arguments: argparse.Namespace) -> int:
    path = resolve_database_path(arguments.db)
    target = Path(arguments.out).expanduser()
    with Store.open(path, read_only=True) as store:
        store.backup_to(target)
    print(f"Sauvegarde écrite : {target}")
    return 0


def run_purge(arguments: argparse.Namespace) -> int:
    from rased_tui.store.retention import purge_report

    path = resolve_database_path(arguments.db)
    if not path.exists():
        raise CommandError(f"{path} n'existe pas : rien à purger.")
    with Store.open(path, read_only=arguments.dry_run) as store:
        plan = store.purge_plan() if arguments.dry_run else store.purge_expired()
    print(purge_report(plan, done=not arguments.dry_run))
    return 0


def run_export(arguments: argparse.Namespace) -> int:
    from rased_tui.exchange.export import ExportError, ExportOptions, export_bundle
    from rased_tui.exchange.sealed import SealError, passphrase_from_terminal
    from rased_tui.exchange.spreadsheet import CsvFormat
    from rased_tui.store.exports import ExportSelection

    path = resolve_database_path(arguments.db)
    if not path.exists():
        raise CommandError(f"{path} n'existe pas : rien à exporter.")
    try:
        passphrase = passphrase_from_terminal(confirm=True) if arguments.encrypt else None
    except SealError as error:
        raise CommandError(str(error)) from None
    selection = ExportSelection(school_year=arguments.annee, period_number=arguments.periode,
                                open_only=arguments.open_only, include_confidential=arguments.include_confidential)
    with Store.open(path, read_only=arguments.read_only) as store:
        options = ExportOptions(selection=selection, nominative=arguments.nominative, passphrase=passphrase,
                                csv_format=CsvFormat(arguments.format or store.settings().export_format))
        try:
            result = export_bundle(store, Path(arguments.out), options, progress=_file_progress_printer("Export"))
        except (ExportError, SealError) as error:
            raise CommandError(str(error)) from None
    _end_progress()
    print(f"Export écrit : {result.path}")
    print(", ".join(count(result.row_counts[name], label) for name, label in
                    (("dossiers.csv", "dossier"), ("chronologie.csv", "étape"), ("prises_en_charge.csv", "aide"))) + ".")
    print("Nominatif : noms et dates de naissance inclus." if arguments.nominative else
          "Pseudonymisé : ni nom ni date de naissance d'élève, ni nom d'enseignant.")
    if arguments.include_confidential:
        print("Notes confidentielles incluses.")
    return 0


def _file_progress_printer(what: str) -> Callable[..., None] | None:
    """Progress of an export or an import, file by file."""
    return _progress_printer(lambda name, done, total, rows:
                             f"{what} : fichier {min(done + 1, total)}/{total} ({name}, {rows} lignes)")


def run_import(arguments: argparse.Namespace) -> int:
    from rased_tui.exchange.importer import ImportRefused, import_bundle

    path = resolve_database_path(arguments.db)
    _backup_before_writing(path)
    try:
        report = import_bundle(path, Path(arguments.bundle), prefer_newer=arguments.prefer_newer,
                               progress=_file_progress_printer("Import"))
    except ImportRefused as error:
        _end_progress()
        raise CommandError(str(error)) from None
    _end_progress()
    for line in report.lines():
        print(line)
    return 0


def _backup_before_writing(path: Path) -> None:
    """A rotating backup of an existing base (store/backups.py); if it cannot be made, say so
    and go on: the write that follows is all-or-nothing anyway."""
    from rased_tui.store.backups import backup_before_writing

    try:
        Store.open(path, read_only=True).close()
    except (StoreError, OSError):
        return  # no base yet, or one the import refuses (or migrates) in its own words
    problem = backup_before_writing(path)
    if problem:
        print(f"rased-tui : sauvegarde automatique impossible ({problem}) ; on continue.", file=sys.stderr)


def run_agenda(arguments: argparse.Namespace) -> int:
    from rased_tui.exchange.agenda import AgendaError, build_agenda, meeting_title, summary_text, write_agenda
    from rased_tui.exchange.spreadsheet import CsvFormat

    path = resolve_database_path(arguments.db)
    if not path.exists():
        raise CommandError(f"{path} n'existe pas : pas d'ordre du jour.")
    with Store.open(path, read_only=arguments.read_only) as store:
        agenda = build_agenda(store, today())
        if agenda is None:
            raise CommandError("aucune réunion du pôle à venir.")
        chosen = arguments.format or store.get_setting("export_format")
        csv_format = CsvFormat(chosen) if chosen in {item.value for item in CsvFormat} else CsvFormat.EXCEL
        try:
            files = write_agenda(agenda, Path(arguments.out), nominative=arguments.nominative,
                                 csv_format=csv_format, written_on=today())
        except AgendaError as error:
            raise CommandError(str(error)) from None
    print(f"Ordre du jour écrit : {files.csv_path} et {files.markdown_path.name}")
    print(f"Réunion du {meeting_title(agenda.meeting)} : {summary_text(agenda)}.")
    print("Nominatif : noms des élèves et des enseignants inclus." if arguments.nominative else
          "Pseudonymisé : ni nom d'élève ni nom d'enseignant, les dossiers par leur numéro.")
    return 0


def run_dossier(arguments: argparse.Namespace) -> int:
    """One pupil's file for the family, written where the user said. The base is only read."""
    from rased_tui.exchange.parents_access import (
        ParentsAccessError,
        build_document,
        find_pupil,
        of_name,
        write_document,
    )

    path = resolve_database_path(arguments.db)
    if not path.exists():
        raise CommandError(f"{path} n'existe pas : aucun dossier d'élève à écrire.")
    with Store.open(path, read_only=True) as store:
        try:
            document = build_document(store, find_pupil(store, arguments.eleve), today())
            target = write_document(document, Path(arguments.out))
        except ParentsAccessError as error:
            raise CommandError(str(error)) from None
    left_out = document.left_out.summary()
    print(f"Dossier {of_name(document.pupil.full_name)} écrit : {target} ({left_out[0].lower()}{left_out[1:-1]}) ; "
          "relisez-le avant de le remettre.")
    return 0


def run_stats(arguments: argparse.Namespace) -> int:
    """The bilan d'activité printed, and written as a CSV file when asked. Read-only."""
    from rased_tui.domain.calendar import school_year_of
    from rased_tui.exchange.spreadsheet import CsvFormat
    from rased_tui.exchange.statistics import build_report, render_text, write_csv

    path = resolve_database_path(arguments.db)
    if not path.exists():
        raise CommandError(f"{path} n'existe pas : aucun chiffre à donner.")
    with Store.open(path, read_only=True) as store:
        settings = store.settings()
        report = build_report(store.activity_statistics(arguments.annee or school_year_of(today()), arguments.periode),
                              settings.circonscription, settings.antenna)
        csv_format = CsvFormat(arguments.format or settings.export_format)
    if arguments.csv:
        target = Path(arguments.csv).expanduser()
        if target.is_dir():
            raise CommandError(f"{target} est un dossier : donnez le nom du fichier CSV à créer.")
        try:
            write_csv(report, target, csv_format)
        except FileExistsError:
            raise CommandError(f"{target} existe déjà : choisissez un autre nom de fichier.") from None
    print(render_text(report), end="")
    if arguments.csv:
        print(f"\nTableau pour tableur écrit : {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

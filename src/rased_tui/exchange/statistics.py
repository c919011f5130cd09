"""The bilan d'activité: the figures of a school year (or a période) as a report, as text and
as a spreadsheet.

`build_report` puts the store's figures (store/statistics.py) in sections, in the order the
IEN reads them: the requests (by subject, requester, school, level, cycle, motif), the cases
by status, the specialised aids (by kind, by modality), the closures by outcome, the delays.
`render_text` writes it for a terminal, with aligned columns and small bars; `write_csv`
writes it for a spreadsheet (exchange/spreadsheet.py: BOM, `;`, CRLF, texts neutralised).

Figures, never lists: no name of a pupil or a teacher ever reaches the report (the labels
are French labels of the enumerations, and the names of the schools).
"""

from __future__ import annotations

import csv
import textwrap
from dataclasses import dataclass
from pathlib import Path

from rased_tui.domain.calendar import format_french_date, today
from rased_tui.exchange.spreadsheet import CsvFormat, neutralise
from rased_tui.store.opening import create_private_file
from rased_tui.store.statistics import ActivityStatistics, Delay, Figure, StatisticsScope

BAR_WIDTH = 16
LINE_WIDTH = 96  # the scope's sentences are wrapped there
MAX_LABEL_WIDTH = 46
EIGHTHS = " ▏▎▍▌▋▊▉"  # a bar's last cell, by eighths
WHOLE_YEAR = "toute l'année"
CSV_HEADER = ("circonscription", "antenne", "année scolaire", "période", "section", "libellé", "nombre", "élèves", "groupes",
              "médiane (jours)", "90e centile (jours)")


@dataclass(frozen=True)
class Section:
    """A part of the report: a count by one criterion (with its total), or the delays."""

    key: str
    title: str
    unit: str  # what its numbers count: "demandes", "dossiers", "aides"
    figures: tuple[Figure, ...] = ()
    total: Figure | None = None
    delays: tuple[Delay, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Report:
    """The bilan d'activité of a school year or of one période, ready to show or write."""

    scope: StatisticsScope
    title: str
    scope_lines: tuple[str, ...]
    sections: tuple[Section, ...]
    # who sends it (the settings' names): the DSDEN gathers the reports of several antennas
    circonscription: str = ""
    antenna: str = ""

    @property
    def period_text(self) -> str:
        """'toute l'année' or the période's number, as the CSV's « période » column says it."""
        return str(self.scope.period.number) if self.scope.period else WHOLE_YEAR


def build_report(statistics: ActivityStatistics, circonscription: str = "", antenna: str = "") -> Report:
    """The sections of the bilan d'activité, from the store's figures, under the names of the
    circonscription and the antenna that send it."""
    scope = statistics.scope
    title = f"Bilan d'activité {scope.school_year}"
    if scope.period:
        title += f" — période {scope.period.number}"
    f = statistics  # short: the lines below name a dozen of its figures
    sections = (
        Section("demandes", "Demandes reçues par objet", "demandes", tuple(f.by_subject), f.requests),
        Section("demandeurs", "Demandes reçues par demandeur", "demandes", tuple(f.by_requester)),
        Section("ecoles", "Demandes reçues par école", "demandes", tuple(f.by_school)),
        Section("niveaux", "Demandes reçues par niveau", "demandes", tuple(f.by_level),
                note="Une demande pour une classe à plusieurs niveaux compte dans chacun."),
        Section("cycles", "Demandes reçues par cycle", "demandes", tuple(f.by_cycle)),
        Section("motifs", "Demandes reçues par motif", "demandes", tuple(f.by_motif),
                note="Une demande compte sous chacun des motifs qu'elle cite."),
        Section("statuts", "Dossiers par état actuel", "dossiers", tuple(f.by_status), f.cases),
        Section("aides", "Aides en cours par type", "aides", tuple(f.aids_by_kind), f.aids,
                note="Un élève aidé deux fois, ou dans deux dossiers, ne compte qu'une fois."),
        Section("modalites", "Aides en cours par modalité", "aides", tuple(f.aids_by_modality)),
        Section("clotures", "Dossiers clôturés par issue", "dossiers", tuple(f.by_outcome), f.closures),
        Section("delais", "Délais en jours", "mesures", delays=tuple(f.delays),
                note="réponse : de 1re ou 2de intention ; médiane : la moitié au plus ; 90 % : neuf sur dix "
                     "au plus"),
    )
    sender = " · ".join(part for part in (f"Circonscription {circonscription}" if circonscription else "",
                                          antenna) if part)
    scope_lines = ((sender,) if sender else ()) + _scope_lines(scope)
    return Report(scope, title, scope_lines, sections, circonscription, antenna)


def _scope_lines(scope: StatisticsScope) -> tuple[str, ...]:
    window = f"du {format_french_date(scope.window[0])} au {format_french_date(scope.window[1])}"
    span = f"du {format_french_date(scope.span[0])} au {format_french_date(scope.span[1])}"
    if scope.period:
        after = " et les jours qui la suivent jusqu'au 31 juillet" if scope.window[1] > scope.span[1] else ""
        dated = (f"Période {scope.period.number} : {span}. Demandes, clôtures et fins d'aide datées {window} "
                 f"(les vacances qui précèdent la période{after} comptent avec elle).")
    else:
        dated = f"Demandes, clôtures et fins d'aide datées {window}."
    return (dated,
            f"Aides spécialisées : celles en cours {span} et déjà commencées, avec l'accord de la famille.",
            "Dossiers : ceux de l'année" + (", actifs pendant la période" if scope.period else "")
            + ", selon leur état au " + format_french_date(today()) + ".",
            "Élèves : chacun compté une fois. Groupes : demandes pour un·e enseignant·e, une équipe ou une classe.")


# -- text ---------------------------------------------------------------------------------------


def bar(value: int, maximum: int, width: int = BAR_WIDTH) -> str:
    """A bar of `width` cells at most, in eighths of a cell; any value above 0 shows."""
    if value <= 0 or maximum <= 0:
        return ""
    eighths = max(1, round(value * width * 8 / maximum))
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def render_text(report: Report) -> str:
    """The report as text: a title, what counts, then each section in aligned columns."""
    width = min(MAX_LABEL_WIDTH, max(len(line) for line in _labels_of(report)))
    lines = [report.title, "=" * len(report.title)]
    lines += [wrapped for line in report.scope_lines for wrapped in textwrap.wrap(line, LINE_WIDTH)]
    for section in report.sections:
        lines += ["", *(_delay_lines(section, width) if section.delays else _figure_lines(section, width))]
    return "\n".join(lines) + "\n"


def _labels_of(report: Report) -> list[str]:
    return [row.label for section in report.sections for row in (*section.figures, *section.delays)] + ["Total"]


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _figure_lines(section: Section, width: int) -> list[str]:
    maximum = max((figure.count for figure in section.figures), default=0)
    lines = [f"{section.title:<{width + BAR_WIDTH + 3}}{section.unit:>9}{'élèves':>9}{'groupes':>9}"]
    if section.note:
        lines.append(f"  ({section.note})")
    for figure in section.figures:
        lines.append(f"  {_cut(figure.label, width):<{width}} {bar(figure.count, maximum):<{BAR_WIDTH}}"
                     f"{figure.count:>9}{figure.pupils:>9}{figure.groups:>9}")
    if section.total is not None:
        total = section.total
        lines.append(f"  {'Total':<{width}} {'':<{BAR_WIDTH}}{total.count:>9}{total.pupils:>9}{total.groups:>9}")
    return lines


def _delay_lines(section: Section, width: int) -> list[str]:
    lines = [f"{section.title:<{width + BAR_WIDTH + 3}}{'mesurés':>9}{'médiane':>9}{'90 %':>9}"]
    if section.note:
        lines.append(f"  ({section.note})")
    longest = max((delay.p90 or 0 for delay in section.delays), default=0)
    for delay in section.delays:
        lines.append(f"  {_cut(delay.label, width):<{width}} {bar(delay.median or 0, longest):<{BAR_WIDTH}}"
                     f"{delay.count:>9}{_days(delay.median):>9}{_days(delay.p90):>9}")
    return lines


def _days(value: int | None) -> str:
    return "—" if value is None else str(value)


# -- spreadsheet --------------------------------------------------------------------------------


def csv_rows(report: Report) -> list[list[str | int]]:
    """The report's lines as spreadsheet rows (header first), texts neutralised."""
    rows: list[list[str | int]] = [list(CSV_HEADER)]
    start = [neutralise(report.circonscription), neutralise(report.antenna), report.scope.school_year,
             report.period_text]
    for section in report.sections:
        title = neutralise(section.title)
        for figure in section.figures:
            rows.append([*start, title, neutralise(figure.label), figure.count, figure.pupils, figure.groups, "", ""])
        if section.total is not None:
            total = section.total
            rows.append([*start, title, "Total", total.count, total.pupils, total.groups, "", ""])
        for delay in section.delays:
            rows.append([*start, title, neutralise(delay.label), delay.count, "", "", _cell(delay.median),
                         _cell(delay.p90)])
    return rows


def _cell(value: int | None) -> int | str:
    return "" if value is None else value


def write_csv(report: Report, path: Path, csv_format: CsvFormat = CsvFormat.EXCEL) -> None:
    """Write the report as one CSV file, readable by its owner only. The file must not exist
    (FileExistsError): a report never overwrites a file."""
    path = Path(path)
    create_private_file(path)
    try:
        with open(path, "w", encoding=csv_format.encoding, newline="") as handle:
            writer = csv.writer(handle, delimiter=csv_format.delimiter, lineterminator="\r\n",
                                quoting=csv.QUOTE_MINIMAL)
            writer.writerows(csv_rows(report))
    except BaseException:
        path.unlink(missing_ok=True)  # ours: created above, never half written
        raise

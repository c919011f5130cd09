"""The "Tableau de bord" screen (`3`): the figures of a school year, or of one of its périodes.

The same sections as the bilan d'activité (`rased-tui stats`, exchange/statistics.py): the
requests by subject, requester, school, level, cycle and motif, the cases by status, the
specialised aids by kind and modality, the closures by outcome, the delays — each line with a
small bar. The year and the période are chosen at the top (`a`, `p`, or `ctrl+f`). `entrée`
on a line lists the cases behind it (FigureCasesScreen), where `entrée` opens a case.

The figures are computed in a thread worker: at 50,000 cases a year takes a second or two,
and the screen stays responsive meanwhile. The screen only reads: it works read-only.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Select, Static
from textual.worker import Worker, WorkerState

from rased_tui.domain.calendar import format_french_date, school_year_of, today
from rased_tui.domain.enums import CaseStatus
from rased_tui.domain.french import count
from rased_tui.exchange.statistics import Report, Section, bar, build_report
from rased_tui.screens.case_table import CaseTableScreen, Row
from rased_tui.store import StoreError
from rased_tui.store.statistics import MAX_LISTED_CASES, Delay, Figure

WHOLE_YEAR = "annee"
STATISTICS = "statistics"  # the worker's group
HEADING_STYLE = "bold reverse"


class DashboardScreen(Screen[None]):
    """The figures of a school year or a période, each line opening the cases behind it."""

    CSS_PATH = "dashboard.tcss"
    HELP = """\
**Tableau de bord** — les chiffres d'une année scolaire, ou d'une de ses périodes : ceux du
bilan d'activité (`rased-tui stats` les écrit aussi pour un tableur, sans aucun nom).

- **Demandes reçues** : selon leur objet (élève, enseignant·e, équipe, classe), le demandeur,
  l'école, le niveau, le cycle et le motif. Une demande compte dans la période où elle a été
  envoyée ; envoyée pendant des vacances, dans la période qui les suit ; après la période 5,
  jusqu'au 31 juillet, dans la période 5.
- **Dossiers** : ceux de l'année (avec une période : ceux actifs pendant celle-ci), selon leur
  état actuel.
- **Aides spécialisées** : celles en cours pendant l'année ou la période et déjà commencées
  (pas celles prévues plus tard), accord de la famille donné, par type (E, G, psychologique)
  et par modalité.
- **Clôtures** : les dossiers clôturés, selon l'issue.
- **Délais** : en jours, de la demande à la première analyse, à la première réponse (de 1re ou
  2de intention), au début de la première aide ; et la durée des aides terminées. Médiane : la
  moitié au plus ; 90 % : neuf sur dix au plus.
- **Élèves** : chacun compté une fois, même aidé deux fois ou dans deux dossiers.
  **Groupes** : les demandes pour un·e enseignant·e, une équipe ou une classe.

| Touche | Action |
|---|---|
| `entrée` | les dossiers derrière le chiffre (puis `entrée` ouvre un dossier) |
| `p` | période suivante (toute l'année, puis 1 à 5) |
| `a` | année scolaire suivante (de la plus récente à la plus ancienne) |
| `ctrl+f` | choisir l'année et la période (`échap` pour revenir au tableau) |
"""
    BINDINGS = [
        Binding("enter", "open_figure", "Dossiers", id="dashboard_open_figure"),
        Binding("p", "next_period", "Période", id="dashboard_next_period"),
        Binding("a", "next_year", "Année", id="dashboard_next_year"),
        Binding("ctrl+f", "filters", "Choisir", id="dashboard_filters"),
        Binding("escape", "back_to_table", "Tableau", show=False, id="dashboard_back_to_table"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.report: Report | None = None
        self.lines: dict[str, tuple[str, Figure | Delay]] = {}  # by row key: what the line is, its figure
        self.options: dict[str, list[str]] = {}  # the values of each Select, by its id
        self._stale = False  # a case was opened from here: it may have changed
        self._asked: tuple[str, int | None] | None = None  # the year and période last computed

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="dashboard-filters"):
            years = self._options("dashboard-year", self._year_options())
            yield Select(years, value=years[0][1], allow_blank=False, compact=True, id="dashboard-year")
            periods = self._options("dashboard-period", self._period_options(years[0][1]))
            yield Select(periods, value=periods[0][1], allow_blank=False, compact=True, id="dashboard-period")
        yield Static(id="dashboard-summary")
        yield Static(id="dashboard-scope")
        yield DataTable(id="dashboard-table", cursor_type="row", show_header=False)  # each section heads its own
        yield Footer()

    def on_mount(self) -> None:
        wide = self.app.size.width >= 110
        table = self.query_one(DataTable)
        for label, width in (("Chiffre", 44 if wide else 30), ("", 20 if wide else 10), ("Nombre", 8),
                             ("Élèves", 8), ("Groupes", 8)):
            table.add_column(label, width=width, key=label or "bar")
        table.focus()
        self.compute()

    # -- the year and the période -------------------------------------------------------------

    def _options(self, select_id: str, options: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """Keep the values a Select offers (for `a` and `p`, which step through them)."""
        self.options[select_id] = [value for _, value in options]
        return options

    def _year_options(self) -> list[tuple[str, str]]:
        """The school years that hold cases and the current one, the newest first."""
        try:
            years = set(self.app.store.school_years())
        except StoreError:
            years = set()
        years.add(school_year_of(today()))
        return [(f"Année {year}", year) for year in sorted(years, reverse=True)]

    def _period_options(self, school_year: str) -> list[tuple[str, str]]:
        options = [("Toute l'année", WHOLE_YEAR)]
        try:
            periods = self.app.store.periods_of_year(school_year)
        except StoreError:
            periods = []
        for span in periods:
            options.append((f"Période {span.number} (du {format_french_date(span.start)} au "
                            f"{format_french_date(span.end)})", str(span.number)))
        return options

    @property
    def school_year(self) -> str:
        return self.query_one("#dashboard-year", Select).value

    @property
    def period_number(self) -> int | None:
        value = self.query_one("#dashboard-period", Select).value
        return None if value in (WHOLE_YEAR, Select.BLANK) else int(value)

    @on(Select.Changed, "#dashboard-year")
    def _year_changed(self) -> None:
        """Another year: its périodes (the same number kept when it has one)."""
        period = self.query_one("#dashboard-period", Select)
        kept = period.value
        options = self._options("dashboard-period", self._period_options(self.school_year))
        with period.prevent(Select.Changed):
            period.set_options(options)
            period.value = kept if kept in {value for _, value in options} else WHOLE_YEAR
        self.compute()

    @on(Select.Changed, "#dashboard-period")
    def _period_changed(self) -> None:
        self.compute()

    def action_next_period(self) -> None:
        self._select_next("dashboard-period")

    def action_next_year(self) -> None:
        self._select_next("dashboard-year")

    def _select_next(self, select_id: str) -> None:
        """The option after the chosen one, back to the first after the last."""
        select, values = self.query_one(f"#{select_id}", Select), self.options[select_id]
        select.value = values[(values.index(select.value) + 1) % len(values)] if select.value in values else values[0]

    def action_filters(self) -> None:
        self.query_one("#dashboard-year", Select).focus()

    def action_back_to_table(self) -> None:
        self.query_one(DataTable).focus()

    # -- computing ----------------------------------------------------------------------------

    def compute(self, *, again: bool = False) -> None:
        """Compute the figures of the year and période chosen, in a thread (the last asked
        wins: a computation still running for an earlier choice is dropped). Once per choice
        unless `again`: both Selects also say "changed" when they are first shown."""
        year, period = self.school_year, self.period_number
        if (year, period) == self._asked and not again:
            return
        self._asked = (year, period)
        self.query_one("#dashboard-summary", Static).update("Calcul en cours…")
        store = self.app.store
        settings = store.settings()
        self.run_worker(lambda: build_report(store.activity_statistics(year, period), settings.circonscription,
                                             settings.antenna), name=f"{year}:{period}",
                        group=STATISTICS, thread=True, exclusive=True, exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group != STATISTICS or worker.name != f"{self.school_year}:{self.period_number}":
            return
        if event.state is WorkerState.SUCCESS:
            self.show(worker.result)
        elif event.state is WorkerState.ERROR:
            message = str(worker.error) if isinstance(worker.error, StoreError) else \
                f"Erreur inattendue ({type(worker.error).__name__}) : les chiffres ne peuvent être calculés."
            self.query_one("#dashboard-summary", Static).update(message)
            self.notify(message, title="Calcul impossible", severity="error")

    def on_screen_resume(self) -> None:
        """Back from a case opened here: what was changed there counts here."""
        if self.is_mounted and self._stale:
            self._stale = False
            self.compute(again=True)

    # -- drawing ------------------------------------------------------------------------------

    def show(self, report: Report) -> None:
        """Draw a report: a heading line per section, then its figures and its total."""
        self.report = report
        table = self.query_one(DataTable)
        kept, kept_row = self.selected_key(), table.cursor_row
        table.clear()
        self.lines = {}
        bar_width = table.columns["bar"].width
        for section in report.sections:
            table.add_row(*_heading_cells(section), key=f"section:{section.key}")
            if section.delays:
                self._add_delays(table, section, bar_width)
            else:
                self._add_figures(table, section, bar_width)
        if kept in table.rows:
            table.move_cursor(row=table.get_row_index(kept))
        elif kept is not None:
            table.move_cursor(row=min(kept_row, table.row_count - 1))
        else:  # the first drawing: on the first figure
            table.move_cursor(row=1)
        self.query_one("#dashboard-summary", Static).update(summary_text(report))
        self.query_one("#dashboard-scope", Static).update(scope_text(report))

    def _add_figures(self, table: DataTable, section: Section, width: int) -> None:
        maximum = max((figure.count for figure in section.figures), default=0)
        for figure in section.figures:
            key = f"figure:{section.key}:{figure.key}"
            self.lines[key] = (f"{section.title} — {figure.label}", figure)
            table.add_row(f"  {figure.label}", Text(bar(figure.count, maximum, width), style="green"),
                          *_numbers(figure.count, figure.pupils, figure.groups), key=key)
        if section.total is not None:
            key = f"total:{section.key}"
            self.lines[key] = (f"{section.title} — Total", section.total)
            table.add_row(Text("  Total", style="bold"), "",
                          *_numbers(section.total.count, section.total.pupils, section.total.groups, style="bold"),
                          key=key)

    def _add_delays(self, table: DataTable, section: Section, width: int) -> None:
        longest = max((delay.p90 or 0 for delay in section.delays), default=0)
        for delay in section.delays:
            key = f"delay:{delay.key}"
            self.lines[key] = (f"{section.title} — {delay.label}", delay)
            table.add_row(f"  {delay.label}", Text(bar(delay.median or 0, longest, width), style="green"),
                          *_numbers(delay.count, _days(delay.median), _days(delay.p90)), key=key)

    # -- the cases behind a figure ------------------------------------------------------------

    def selected_key(self) -> str | None:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    @on(DataTable.RowSelected)
    def action_open_figure(self) -> None:
        line = self.lines.get(self.selected_key() or "")
        if line is None:
            self.notify("Choisissez une ligne de chiffres (sous le titre d'une section).", severity="warning")
            return
        title, figure = line
        if not figure.case_ids:
            self.notify("Aucun dossier derrière ce chiffre.", severity="information")
            return
        self._stale = True
        self.app.push_screen(FigureCasesScreen(title, figure.case_ids))


class FigureCasesScreen(CaseTableScreen):
    """The cases behind one figure of the tableau de bord; `entrée` opens one."""

    CSS_PATH = "dashboard.tcss"
    HELP = """\
**Dossiers derrière un chiffre** du tableau de bord, par numéro : l'élève (ou l'enseignant·e,
l'équipe, la classe), l'école et l'état actuel du dossier. Une aide comptée dans le chiffre
renvoie à son dossier ; un élève aidé deux fois dans un même dossier n'y figure qu'une fois.

| Touche | Action |
|---|---|
| `entrée` | ouvrir le dossier |
| `échap` | revenir au tableau de bord |
"""
    ID_PREFIX = "figure-cases"

    def __init__(self, title: str, case_ids: tuple[str, ...]) -> None:
        super().__init__()
        self.figure_title = title
        self.case_ids = case_ids
        self._shown = 0

    def columns(self) -> list[tuple[str, int]]:
        # the number and the status in full; the names share what is left (4 columns: 8 of padding)
        names = max(30, self.app.size.width - 2 - 8 - 9 - 25 - 2)
        return [("N°", 9), ("Élève / demandeur", names // 2), ("École", names - names // 2), ("Statut", 25)]

    def read_rows(self) -> list[Row]:
        rows = self.app.store.cases_overview(self.case_ids)
        self._shown = len(rows)
        return [(row["id"], (row["number"], row["subject"] or "", row["school"], CaseStatus(row["status"]).label))
                for row in rows]

    def summary(self) -> str:
        title = f"{self.figure_title} : {count(len(self.case_ids), 'dossier')}"
        if self._shown < len(self.case_ids):
            title += f" (les {self._shown} premiers par numéro ; la liste s'arrête à {MAX_LISTED_CASES})"
        return title


def summary_text(report: Report) -> str:
    """'41 demandes (34 élèves, 7 groupes) · 30 aides (28 élèves) · 13 clôtures'."""
    sections = {section.key: section for section in report.sections}
    requests, aids, closures = (sections[key].total for key in ("demandes", "aides", "clotures"))
    return (f"{count(requests.count, 'demande')} ({count(requests.pupils, 'élève')}, "
            f"{count(requests.groups, 'groupe')}) · {count(aids.count, 'aide')} "
            f"({count(aids.pupils, 'élève')}) · {count(closures.count, 'clôture')}")


def scope_text(report: Report) -> str:
    """Which dates count, in one line."""
    window, span = report.scope.window, report.scope.span
    return (f"Demandes, clôtures, fins d'aide du {format_french_date(window[0])} au {format_french_date(window[1])}"
            f" · aides en cours du {format_french_date(span[0])} au {format_french_date(span[1])}")


def _heading_cells(section: Section) -> tuple:
    columns = ("mesurés", "médiane", "90 %") if section.delays else (section.unit, "élèves", "groupes")
    return (Text(section.title, style=HEADING_STYLE), Text("", style=HEADING_STYLE),
            *(Text(column, style=HEADING_STYLE, justify="right") for column in columns))


def _numbers(*values: int | str, style: str = "") -> tuple[Text, ...]:
    return tuple(Text(str(value), style=style, justify="right") for value in values)


def _days(value: int | None) -> str:
    return "—" if value is None else f"{value} j"


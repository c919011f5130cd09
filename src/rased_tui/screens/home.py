"""Home screen ("Accueil"): where the database stands for the current school year.

It reads the figures from the store: requests of the year by status, urgent requests not
yet analysed, open aids by kind, active members of the pôle.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from rased_tui.domain.calendar import school_year_of, today
from rased_tui.domain.enums import AidKind, CaseStatus
from rased_tui.store.store import Overview


class HomeScreen(Screen[None]):
    """The first screen: a summary of the school year in figures."""

    HELP = """\
**Accueil** — l'état de la base pour l'année scolaire en cours : demandes reçues par statut,
demandes urgentes pas encore analysées, aides spécialisées en cours (E, G, psychologique),
membres du pôle en fonction.
"""

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="home-body"):
            yield Static(id="home-title")
            yield Static(id="home-warning")  # first: it must show even on a small terminal
            yield Static(id="home-figures")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_figures()

    def refresh_figures(self) -> None:
        store = self.app.store
        year = school_year_of(today())
        overview = store.overview(year, today())
        circonscription = store.get_setting("circonscription", "")
        heading = f"Année scolaire {year}"
        if circonscription:
            heading += f" — circonscription {circonscription}"
        self.query_one("#home-title", Static).update(heading)
        self.query_one("#home-figures", Static).update(_figures_text(overview))
        warning = self.query_one("#home-warning", Static)
        if overview.urgent_not_analysed:
            plural = "s" if overview.urgent_not_analysed > 1 else ""
            warning.update(f"⚠ {overview.urgent_not_analysed} demande{plural} urgente{plural} "
                           f"pas encore analysée{plural}")
            warning.display = True
        else:
            warning.display = False


LABEL_WIDTH = 36


def _figures_text(overview: Overview) -> str:
    lines = [f"Dossiers de l'année : {overview.cases}   (ouverts : {overview.open_cases})", ""]
    lines += [_figure(status.label, overview.cases_by_status.get(status, 0)) for status in CaseStatus]
    lines += ["", "Aides spécialisées en cours :"]
    lines += [_figure(kind.label, overview.open_aids_by_kind.get(kind, 0)) for kind in AidKind]
    lines += ["", f"Membres du pôle en fonction : {overview.active_members}"]
    return "\n".join(lines)


def _figure(label: str, count: int) -> str:
    return f"  {label:<{LABEL_WIDTH}} {count:>6}"

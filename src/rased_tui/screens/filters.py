"""Filters dialog of the "Dossiers" list (`f`): school year, status, school, member, motif,
urgent only. Returns the new CaseFilter, or None when cancelled."""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Select

from rased_tui.domain.calendar import school_year_of, today
from rased_tui.domain.enums import Motif
from rased_tui.domain.filters import CaseFilter, StatusGroup
from rased_tui.widgets.toggles import TickBox


class FiltersScreen(ModalScreen[CaseFilter | None]):
    """Choose what the list shows; `ctrl+s` or « Appliquer » applies, `escape` cancels."""

    CSS_PATH = "filters.tcss"
    BINDINGS = [
        Binding("ctrl+s", "apply", "Appliquer", id="apply"),
        Binding("escape", "cancel", "Annuler", id="cancel"),
        Binding("ctrl+r", "reset", "Tout effacer", id="reset"),
    ]
    HELP = """\
**Filtres** — choisir l'année scolaire, le statut (ouverts, clôturés, tous), l'école, un
membre du pôle (intervenu dans une étape ou donnant une aide), un motif (parmi tous ceux de
la demande) et, au besoin, les seules demandes urgentes. `ctrl+s` applique, `échap` annule,
`ctrl+r` efface tous les filtres.
"""

    def __init__(self, current: CaseFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        store = self.app.store
        years = sorted({*store.school_years(), school_year_of(today()), self.current.school_year}, reverse=True)
        with VerticalScroll(id="filters-dialog"):
            yield Label("Filtres de la liste", id="filters-title")
            yield Label("Année scolaire")
            yield Select([(year, year) for year in years], value=self.current.school_year,
                         allow_blank=False, compact=True, id="filter-year")
            yield Label("Statut")
            yield Select([(group.label, group) for group in StatusGroup], value=self.current.status,
                         allow_blank=False, compact=True, id="filter-status")
            yield Label("École")
            yield Select([(school.name, school.id) for school in store.list_schools()],
                         value=self.current.school_id or Select.NULL, prompt="Toutes les écoles", compact=True, id="filter-school")
            yield Label("Membre du pôle")
            yield Select([(f"{m.last_name} {m.first_name} — {m.role.label}", m.id) for m in store.list_members()],
                         value=self.current.member_id or Select.NULL, prompt="Tous les membres", compact=True, id="filter-member")
            yield Label("Motif")
            yield Select([(motif.label, motif) for motif in Motif], value=self.current.motif or Select.NULL,
                         prompt="Tous les motifs", compact=True, id="filter-motif")
            yield TickBox("Urgents seulement", value=self.current.urgent_only, compact=True, id="filter-urgent")
            with Horizontal(id="filters-buttons"):
                yield Button("Appliquer", variant="primary", id="filters-apply")
                yield Button("Annuler", id="filters-cancel")

    def chosen(self) -> CaseFilter:
        def value(select_id: str):
            selected = self.query_one(select_id, Select).value
            return None if selected is Select.NULL else selected

        return replace(
            self.current,
            school_year=value("#filter-year"),
            status=value("#filter-status"),
            school_id=value("#filter-school"),
            member_id=value("#filter-member"),
            motif=value("#filter-motif"),
            urgent_only=self.query_one("#filter-urgent", Checkbox).value,
        )

    @on(Button.Pressed, "#filters-apply")
    def action_apply(self) -> None:
        self.dismiss(self.chosen())

    @on(Button.Pressed, "#filters-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_reset(self) -> None:
        self.query_one("#filter-year", Select).value = school_year_of(today())
        self.query_one("#filter-status", Select).value = StatusGroup.TOUS
        for select_id in ("#filter-school", "#filter-member", "#filter-motif"):
            self.query_one(select_id, Select).clear()
        self.query_one("#filter-urgent", Checkbox).value = False

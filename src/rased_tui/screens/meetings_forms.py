"""The dialogs of the "Réunions du pôle" screen (screens/meetings.py):

- `PeriodForm` (`e`): a période's first and last days and its ordinary meeting — the date and
  the deadline for requests, in days before it. Dates typed by hand make the période
  « manuelle »; a meeting only proposed is recorded once its date or deadline changes;
- `AgendaDialog` (`x`): where to write the agenda of the next meeting (CSV and Markdown), in
  which format, and whether with names — asked again, in so many words, before it is written.

Both check every field on `ctrl+s` and show the problems in French by their fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input, Select, Static

from rased_tui.domain.calendar import PeriodSpan, format_french_date, today
from rased_tui.domain.french import os_reason
from rased_tui.domain.meetings import (
    MeetingPlan,
    YearPeriod,
    deadline_problem,
    meeting_problem,
    period_problem,
    weekday_name,
)
from rased_tui.exchange.agenda import Agenda, AgendaError, AgendaFiles, meeting_title, summary_text, write_agenda
from rased_tui.exchange.spreadsheet import CsvFormat
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.export import FOLDER_PLACEHOLDER, FORMATS, LAST_FOLDER_SETTING, PathSuggester
from rased_tui.screens.form_dialog import FormDialog
from rased_tui.store import StoreError
from rased_tui.widgets.form import date_input, field_row, text_input
from rased_tui.widgets.toggles import TickBox

NOMINATIVE_QUESTION = ("Écrire l'ordre du jour AVEC les noms des élèves et des enseignant·es ? Sur une clé USB "
                       "perdue, ils seraient lisibles par qui la trouve.")


class MeetingsForm(FormDialog):
    """The frame of the two dialogs: an introduction under the title."""

    CSS_PATH = "meetings.tcss"
    ID_PREFIX = "meetings"

    def heading(self) -> Iterator[Widget]:
        yield Static(self.intro(), id="meetings-intro", markup=False)

    def intro(self) -> str:
        return ""


class PeriodForm(MeetingsForm):
    """A période of a school year and its ordinary meeting. Closes with True once saved."""

    HELP = """\
**Période et réunion** — les dates de la période (JJ/MM/AAAA) et celle de sa réunion
ordinaire du pôle, avec le délai de dépôt des demandes (en jours avant la réunion).

- Changer les dates de la période la rend « manuelle » ; `o` sur l'écran reprend les dates
  officielles.
- Une période ne chevauche pas ses voisines ; la réunion se tient pendant sa période.
- Une réunion seulement proposée est enregistrée dès que sa date ou son délai change.

`ctrl+s` enregistre, `échap` annule.
"""

    def __init__(self, period: YearPeriod, plan: MeetingPlan, spans: list[PeriodSpan]) -> None:
        super().__init__()
        self.period = period
        self.plan = plan
        self.spans = spans
        span = period.span
        self.title_text = f"Période {span.number} de {span.school_year} et sa réunion"

    def intro(self) -> str:
        origin = {"officiel": f"dates du calendrier officiel (zone {self.period.zone})" if self.period.zone
                  else "dates du calendrier officiel",
                  "manuel": "dates saisies à la main",
                  "approximatif": "dates approximatives (ni zone ni calendrier officiel)"}[self.period.source_label]
        meeting = ("réunion enregistrée" if self.plan.recorded else
                   "réunion proposée (le jeudi de la 4e semaine) : elle sera enregistrée si vous changez sa date "
                   "ou son délai")
        return f"Aujourd'hui : {origin} ; {meeting}."

    def fields(self) -> Iterator[Widget]:
        span = self.period.span
        yield field_row("Début de la période", date_input("period-start", format_french_date(span.start)))
        yield field_row("Fin de la période", date_input("period-end", format_french_date(span.end)))
        yield field_row("Réunion du pôle le", date_input("meeting-date", format_french_date(self.plan.date)))
        yield field_row("Délai de dépôt (jours)", text_input("meeting-deadline", str(self.plan.deadline_days), 3,
                                                            placeholder="jours avant la réunion"))

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[bool, str]] | None:
        start = self.date_field("period-start", "Le début de la période", problems)
        end = self.date_field("period-end", "La fin de la période", problems)
        day = self.date_field("meeting-date", "La date de la réunion", problems)
        deadline = self._deadline(problems)
        if start and end and (wrong := period_problem(self.spans, self.period.span.number, start, end)):
            problems.append((f"period-{wrong[0]}", wrong[1]))
        elif start and end and day and (problem := meeting_problem(self._span(start, end), day)):
            problems.append(("meeting-date", problem))
        elif start and day and deadline is not None and day - timedelta(days=deadline) < start:
            limit = format_french_date(day - timedelta(days=deadline))
            problems.append(("meeting-deadline", f"Avec ce délai, la date limite des demandes ({limit}) tomberait "
                             f"avant le début de la période ({format_french_date(start)})."))
        if problems or None in (start, end, day, deadline):
            return None
        return lambda: self._save(start, end, day, deadline)

    def _span(self, start: date, end: date) -> PeriodSpan:
        return PeriodSpan(self.period.span.school_year, self.period.span.number, start, end)

    def _deadline(self, problems: list[tuple[str | None, str]]) -> int | None:
        text = self.value("meeting-deadline").strip()
        if not text.isdigit():
            problems.append(("meeting-deadline", "Le délai est un nombre de jours (6 d'habitude)."))
            return None
        if problem := deadline_problem(int(text)):
            problems.append(("meeting-deadline", problem))
            return None
        return int(text)

    def _save(self, start: date, end: date, day: date, deadline: int) -> tuple[bool, str]:
        span = self.period.span
        changed = self.app.store.plan_period(span.school_year, span.number, start=start, end=end,
                                             meeting_date=day, deadline_days=deadline)
        if not changed:
            return False, "Rien n'a changé."
        parts = []
        if "période" in changed:
            parts.append(f"période {span.number} du {format_french_date(start)} au {format_french_date(end)}")
        if "réunion" in changed:
            parts.append(f"réunion le {weekday_name(day)} {format_french_date(day)}")
        return True, "Enregistré : " + ", ".join(parts) + "."


class AgendaDialog(MeetingsForm):
    """Where and how to write the agenda. Closes with the files written, None otherwise."""

    NOTHING_DONE = "Rien n'a été écrit"

    HELP = """\
**Écrire l'ordre du jour** — deux fichiers dans le dossier choisi (la clé USB, par exemple) :
`ordre-du-jour-AAAA-MM-JJ.csv` pour un tableur et `ordre-du-jour-AAAA-MM-JJ.md` à lire ou à
imprimer.

- **Pseudonymisé** par défaut : chaque dossier est désigné par son numéro, la demande par sa
  nature (élève, enseignant·e, équipe, classe) ; ni nom d'élève ni nom d'enseignant.
- **Nominatif** : avec les noms ; une confirmation est demandée avant d'écrire.
- Le dossier proposé est celui des exports (paramètres, `8`).

`ctrl+s` écrit, `échap` annule.
"""
    # ctrl+s writes files outside the base, which a base opened read-only allows too: it is
    # named for what it does, not as the frame's "save".
    BINDINGS = [Binding("ctrl+s", "write_agenda", "Écrire", id="agenda_write")]
    CANCELLED = None

    def __init__(self, agenda: Agenda) -> None:
        super().__init__()
        self.agenda = agenda
        self.title_text = "Écrire l'ordre du jour de la prochaine réunion"
        self._nominative_confirmed = False

    def intro(self) -> str:
        return f"Réunion du {meeting_title(self.agenda.meeting)} :\n{summary_text(self.agenda)}."

    def after_mount(self) -> None:
        self.query_one("#meetings-save", Button).label = "Écrire (ctrl+s)"

    def fields(self) -> Iterator[Widget]:
        store = self.app.store
        settings = store.settings()
        chosen_format = settings.export_format
        folder = settings.export_folder or store.get_setting(LAST_FOLDER_SETTING) or ""
        yield field_row("Dossier de destination", Input(folder, compact=True,
                                                        id="agenda-folder", suggester=PathSuggester(bundles=False),
                                                        placeholder=FOLDER_PLACEHOLDER))
        yield field_row("Format du tableur", Select(FORMATS, value=chosen_format, allow_blank=False, compact=True,
                                                    id="agenda-format"))
        yield field_row("Contenu", TickBox("Nominatif (noms des élèves et des enseignants)", compact=True,
                                           id="agenda-nominative"))

    def action_write_agenda(self) -> None:
        self.action_save()

    def action_save(self) -> None:
        """The folder is checked first; then a nominative agenda is confirmed, in so many words."""
        if problems := self._folder_problems():
            self.refuse(problems)
            return
        if not self.value("agenda-nominative") or self._nominative_confirmed:
            super().action_save()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._nominative_confirmed = True
                super(AgendaDialog, self).action_save()

        self.app.push_screen(ConfirmDialog(NOMINATIVE_QUESTION), answered)

    def _folder(self) -> Path:
        return Path(self.value("agenda-folder").strip()).expanduser()

    def _folder_problems(self) -> list[tuple[str | None, str]]:
        if not self.value("agenda-folder").strip():
            return [("agenda-folder", "Indiquez le dossier où écrire l'ordre du jour (la clé USB, par exemple).")]
        if not self._folder().is_dir():
            return [("agenda-folder", f"{self._folder()} n'existe pas ou n'est pas un dossier : la clé USB "
                                      "est-elle branchée ?")]
        return []

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[AgendaFiles, str]] | None:
        problems += self._folder_problems()
        if problems:
            return None
        folder, nominative = self._folder(), bool(self.value("agenda-nominative"))
        return lambda: self._write(folder, CsvFormat(self.value("agenda-format")), nominative)

    def _write(self, folder: Path, csv_format: CsvFormat, nominative: bool) -> tuple[AgendaFiles, str]:
        try:
            files = write_agenda(self.agenda, folder, nominative=nominative, csv_format=csv_format,
                                 written_on=today())
        except AgendaError as error:
            raise StoreError(str(error)) from None  # the frame shows it as a refusal, nothing written
        except OSError as error:
            raise StoreError(f"Écriture impossible dans {error.filename or folder} : {os_reason(error)}. "
                             "Rien n'a été écrit.") from None
        kind = "nominatif" if nominative else "pseudonymisé"
        return files, f"Ordre du jour {kind} écrit : {files.csv_path.name} et {files.markdown_path.name} dans {folder}."

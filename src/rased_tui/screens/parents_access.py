"""The dialog of `x` on the case screen: where to write the pupil's file for the family who
asked for it (RGPD right of access; exchange/parents_access.py builds it).

It asks for the folder (the export folder of the settings by default, as the agenda's `x` on
the meetings screen does), writes `dossier-<nom>-<prénom>-<AAAA-MM-JJ>.md` there, readable by
its owner only and never over another file, and says where. It writes outside the base, so a
base opened read-only allows it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Button, Input

from rased_tui.domain.calendar import today
from rased_tui.domain.french import os_reason
from rased_tui.domain.models import Pupil
from rased_tui.exchange.parents_access import ParentsAccessError, build_document, of_name, write_into_folder
from rased_tui.screens.export import FOLDER_PLACEHOLDER, LAST_FOLDER_SETTING, PathSuggester
from rased_tui.screens.meetings_forms import MeetingsForm
from rased_tui.store import StoreError
from rased_tui.widgets.form import field_row

FOLDER_FIELD = "parents-access-folder"


class ParentsAccessDialog(MeetingsForm):
    """Where to write the pupil's file for the family. Closes with the file written, or None."""

    NOTHING_DONE = "Rien n'a été écrit"

    HELP = """\
**Dossier pour la famille** (droit d'accès, RGPD) — un fichier `dossier-NOM-PRÉNOM-AAAA-MM-JJ.md`
à lire ou à imprimer, écrit dans le dossier choisi, lisible par vous seul·e.

- Il contient tout ce que la base enregistre sur l'élève, dans tous ses dossiers : identité,
  demandes, étapes officielles, aides spécialisées, accords de la famille, évaluations, bilans
  et clôtures.
- Il ne contient pas les notes confidentielles des psychologues, ni ce qui concerne d'autres
  enfants (le nom d'un autre élève de la base est remplacé par « [autre enfant] », le texte
  d'une action commune à plusieurs dossiers n'est pas reproduit), ni les comptes rendus des
  réunions, ni le journal des modifications.
- Relisez-le avant de le remettre : un enfant désigné autrement (un surnom, un enfant qui
  n'est pas dans la base) ne peut pas être repéré.

`ctrl+s` écrit, `échap` annule.
"""
    # ctrl+s writes a file outside the base, which a base opened read-only allows too: it is
    # named for what it does, not as the frame's "save" (as the agenda's dialog does).
    BINDINGS = [Binding("ctrl+s", "write_file", "Écrire", id="parents_access_write")]
    CANCELLED = None

    def __init__(self, pupil: Pupil) -> None:
        super().__init__()
        self.pupil = pupil
        self.title_text = f"Dossier {of_name(pupil.full_name)} pour sa famille"

    def intro(self) -> str:
        return ("Tout ce que la base enregistre sur cet élève, dans tous ses dossiers, à remettre à sa famille : "
                "les étapes officielles seulement, sans les notes confidentielles ni ce qui concerne d'autres "
                "enfants. Un fichier Markdown à lire ou à imprimer ; relisez-le avant de le remettre.")

    def after_mount(self) -> None:
        self.query_one("#meetings-save", Button).label = "Écrire (ctrl+s)"

    def fields(self) -> Iterator[Widget]:
        store = self.app.store
        folder = store.settings().export_folder or store.get_setting(LAST_FOLDER_SETTING) or ""
        yield field_row("Dossier de destination", Input(folder, compact=True, id=FOLDER_FIELD,
                                                        suggester=PathSuggester(bundles=False),
                                                        placeholder=FOLDER_PLACEHOLDER))

    def action_write_file(self) -> None:
        self.action_save()

    def _folder(self) -> Path:
        return Path(self.value(FOLDER_FIELD).strip()).expanduser()

    def build(self, problems: list[tuple[str | None, str]]) -> Callable[[], tuple[Path, str]] | None:
        if not self.value(FOLDER_FIELD).strip():
            problems.append((FOLDER_FIELD, "Indiquez le dossier où écrire le fichier (la clé USB, par exemple)."))
        elif not self._folder().is_dir():
            problems.append((FOLDER_FIELD, f"{self._folder()} n'existe pas ou n'est pas un dossier : la clé USB "
                                           "est-elle branchée ?"))
        if problems:
            return None
        folder = self._folder()
        return lambda: self._write(folder)

    def _write(self, folder: Path) -> tuple[Path, str]:
        try:
            document = build_document(self.app.store, self.pupil, today())
            path = write_into_folder(document, folder)
        except ParentsAccessError as error:
            raise StoreError(str(error)) from None  # the frame shows it as a refusal, nothing written
        except OSError as error:
            raise StoreError(f"Écriture impossible dans {error.filename or folder} : {os_reason(error)}. "
                             "Rien n'a été écrit.") from None
        return path, (f"Dossier pour la famille écrit : {path}. {document.left_out.summary()} "
                      "Relisez-le avant de le remettre.")

"""Help dialog (F1 or ?): the keys of the screen behind it and of the whole application."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Markdown

GENERAL_HELP = """\
## Touches de toute l'application

| Touche | Action |
|---|---|
| `F1` ou `?` | cette aide |
| `1` | dossiers |
| `2` | prises en charge des membres du RASED |
| `3` | tableau de bord (chiffres de l'année ou d'une période) |
| `4` | export pour une clé USB, import d'un export |
| `5` | liste d'attente |
| `6` | annuaire du pôle (membres, écoles) |
| `7` | réunions du pôle : périodes, dates, ordre du jour |
| `8` | paramètres (circonscription, antenne, zone, conservation, export) |
| `ctrl+p` | palette de commandes |
| `échap` | revenir / annuler |
| `q` | quitter |

## En ligne de commande

- `rased-tui --db FICHIER` ouvre une base ; `--lecture-seule` pour la consulter sans rien modifier.
- `rased-tui --lecture-seule EXPORT` ouvre un export reçu (dossier ou fichier `.rased`) en
  lecture seule, en mémoire : rien n'est écrit sur le disque.
- `rased-tui demo --db FICHIER` crée une base de démonstration (données fictives).
- `rased-tui check --db FICHIER` vérifie la base et le journal d'audit.
- `rased-tui backup --db FICHIER --out COPIE` écrit une sauvegarde (l'interface en fait une
  aussi à chaque ouverture, dans `sauvegardes/` à côté de la base : les 7 dernières).
- `rased-tui purge --db FICHIER --dry-run` dit quels dossiers clôturés ont dépassé la durée de
  conservation ; sans `--dry-run`, efface leurs identités et leurs textes (les chiffres restent).
- `rased-tui export --db FICHIER --out DOSSIER` écrit un export pseudonymisé ; `rased-tui import
  --db FICHIER EXPORT` l'importe.
- `rased-tui stats --db FICHIER --annee 2026-2027` écrit le bilan d'activité (`--csv FICHIER`
  pour un tableur) ; `rased-tui agenda --db FICHIER --out DOSSIER` l'ordre du jour de la
  prochaine réunion du pôle.
- `rased-tui dossier --db FICHIER --eleve 2026-0042 --out FICHIER.md` écrit le dossier d'un
  élève pour sa famille (droit d'accès) ; `--eleve` prend le numéro d'un de ses dossiers ou
  l'identifiant de l'élève.
"""


class HelpScreen(ModalScreen[None]):
    """The help of one screen, then the general keys. Closes with escape, F1, ? or q."""

    BINDINGS = [
        Binding("escape", "close", "Fermer", id="close"),
        Binding("f1", "close", "Fermer", show=False, id="close_f1"),
        Binding("question_mark", "close", "Fermer", show=False, id="close_question"),
        Binding("q", "close", "Fermer", show=False, id="close_q"),
    ]

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self._screen_help = getattr(screen, "HELP", "") or ""

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Markdown(f"# Aide\n\n{self._screen_help}\n{GENERAL_HELP}")

    def action_close(self) -> None:
        self.dismiss(None)

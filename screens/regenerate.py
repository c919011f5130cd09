"""Regenerate the gallery: one SVG screenshot per screen of rased-tui, from demo data.

    python screens/regenerate.py            # every picture
    python screens/regenerate.py export     # only those named (without .svg)

Builds a demo database (fixed seed, "today" frozen at 2026-11-21) in a temporary folder,
drives the application headless with Textual's Pilot, and writes each picture next to this
script. Each new screen adds a line to SHOTS.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("RASED_TUI_TODAY", "2026-11-21")

from rased_tui.app import RasedApp  # noqa: E402
from rased_tui.exchange.demo import generate_demo  # noqa: E402
from rased_tui.store import Store  # noqa: E402

GALLERY = Path(__file__).resolve().parent
SIZE = (110, 34)

# Cases worth a picture, found in the demo data by SQL (the first match).
RUNNING_AID = """SELECT a.case_id FROM aids a JOIN aid_evaluations v ON v.aid_id = a.id
                  WHERE a.end_date IS NULL AND a.kind = 'E' GROUP BY a.case_id HAVING count(*) >= 1
                  ORDER BY a.case_id LIMIT 1"""
RECEIVED = """SELECT c.id FROM cases c JOIN case_status s ON s.case_id = c.id
               WHERE s.status = 'recue' AND c.subject_kind = 'eleve' ORDER BY c.number LIMIT 1"""
FIRST_INTENTION = """SELECT c.id FROM cases c JOIN case_status s ON s.case_id = c.id
                      WHERE s.status = 'premiere_intention' AND c.subject_kind = 'eleve' ORDER BY c.number LIMIT 1"""

# (file name without .svg, the case to open first or None for the list, keys pressed then)
SHOTS: list[tuple[str, str | None, list[str]]] = [
    ("dossiers", None, []),
    ("filtres", None, ["f"]),
    ("nouvelle-demande", None, ["n"]),
    ("nouvelle-demande-erreurs", None, ["n", "ctrl+s"]),
    ("aide", None, ["f1"]),
    ("dossier", RUNNING_AID, []),
    ("dossier-demande", RUNNING_AID, ["d"]),
    ("dossier-etapes", RUNNING_AID, ["plus"]),
    ("dossier-journal", "EDITED", ["j"]),
    ("dossier-famille", RUNNING_AID, ["x"]),
    ("etape-analyse", RECEIVED + " OFFSET 1", ["a"]),
    ("etape-aide-specialisee", FIRST_INTENTION, ["s"]),
    ("etape-evaluation", RUNNING_AID, ["v"]),
    ("etape-cloture", RUNNING_AID, ["c"]),
    ("prises-en-charge", None, ["2"]),
    ("tableau-de-bord", None, ["3", "p", "p"]),
    ("liste-attente", None, ["5"]),
    ("annuaire", None, ["6"]),
    ("annuaire-ecoles", None, ["6", "tab"]),
    ("annuaire-membre", None, ["6", "e"]),
    ("annuaire-passation", None, ["6", "down", "down", "p"]),
    ("reunions", None, ["7"]),
    ("parametres", None, ["8"]),
    ("parametres-modifier", None, ["8", "e"]),
    ("parametres-purge", None, ["8", "p"]),
    ("export", None, ["4", "enter", "down", "enter", "tab", "tab", "tab", "tab", "tab", "tab", "space"]),
]


async def take(store: Store, name: str, case_query: str | None, keys: list[str]) -> Path:
    from rased_tui.screens.case import CaseScreen

    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        if case_query is not None:
            [case_id] = store.connection.execute(case_query).fetchone()
            app.push_screen(CaseScreen(case_id))
            await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.3)
        app.save_screenshot(f"{name}.svg", str(GALLERY))
    return GALLERY / f"{name}.svg"


def record_some_steps(store: Store) -> str:
    """A few steps entered and corrected by hand on a received case, so that its journal has
    lines (the demo itself is one bulk load: one summary line in the audit log)."""
    from rased_tui.domain.models import TimelineEntry

    [case_id] = store.connection.execute(RECEIVED).fetchone()
    case = store.get_case(case_id)
    members = [member.id for member in store.list_members()[:2]]
    analysis = store.add_entry(TimelineEntry(case_id=case_id, kind="analyse", date=case.date_sent, member_ids=members,
                                             text="Difficultés d'entrée dans l'écrit"))
    store.update_entry(analysis.model_copy(update={"text": "Difficultés d'entrée dans l'écrit, fatigabilité"}))
    store.add_entry(TimelineEntry(case_id=case_id, kind="premiere_intention", sub_kind="contact",
                                  date=case.date_sent, member_ids=members[:1], text="Appel à l'enseignante."))
    return f"SELECT '{case_id}'"


def main(names: list[str]) -> None:
    unknown = set(names) - {name for name, _, _ in SHOTS}
    if unknown:
        sys.exit(f"Pas de capture de ce nom : {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # the title shows the database path: keep it short and stable
        with Store.open(Path("demo.db")) as store:
            generate_demo(store, cases=400, seed=1)
            edited = record_some_steps(store)
            store.set_setting("export_folder", "/media/rased/CLE-USB")  # the export screen's folder, not $HOME
            for name, case_query, keys in SHOTS:
                if names and name not in names:
                    continue
                case_query = edited if case_query == "EDITED" else case_query
                print(asyncio.run(take(store, name, case_query, keys)))


if __name__ == "__main__":
    main(sys.argv[1:])

"""Regenerate the gallery: one SVG screenshot per screen of rased-tui, from demo data.

    python screens/regenerate.py

Builds a demo database (fixed seed, "today" frozen at 2026-11-21) in a temporary folder,
drives the application headless with Textual's Pilot, and writes each picture next to this
script. Each new screen adds a line to SHOTS.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

os.environ.setdefault("RASED_TUI_TODAY", "2026-11-21")

from rased_tui.app import RasedApp  # noqa: E402
from rased_tui.exchange.demo import generate_demo  # noqa: E402
from rased_tui.store import Store  # noqa: E402

GALLERY = Path(__file__).resolve().parent
SIZE = (110, 34)
# (file name without .svg, keys pressed after the app opens)
SHOTS: list[tuple[str, list[str]]] = [
    ("dossiers", []),
    ("dossier", ["enter"]),
    ("filtres", ["f"]),
    ("nouvelle-demande", ["n"]),
    ("nouvelle-demande-erreurs", ["n", "ctrl+s"]),
    ("aide", ["f1"]),
]


async def take(store: Store, name: str, keys: list[str]) -> Path:
    app = RasedApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
        await pilot.pause(0.3)
        app.save_screenshot(f"{name}.svg", str(GALLERY))
    return GALLERY / f"{name}.svg"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        os.chdir(folder)  # the title shows the database path: keep it short and stable
        with Store.open(Path("demo.db")) as store:
            generate_demo(store, cases=400, seed=1)
            for name, keys in SHOTS:
                print(asyncio.run(take(store, name, keys)))


if __name__ == "__main__":
    main()

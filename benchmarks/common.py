"""What every measurement of the benchmark shares: medians, scratch folders, the environment
of the commands it runs, and the ratio to a floor."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
from pathlib import Path

TODAY = "2026-11-21"  # the demo and the app see the same day at every run


def environment() -> dict[str, str]:
    """The environment of a command run by the benchmark: today frozen."""
    return dict(os.environ, RASED_TUI_TODAY=os.environ.get("RASED_TUI_TODAY", TODAY))


def rased_command(*arguments: str) -> list[str]:
    """`rased-tui ARGUMENTS` run with this interpreter (the installed package)."""
    return [sys.executable, "-m", "rased_tui", *arguments]


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


def median_s(samples: list[float]) -> float:
    return round(statistics.median(samples), 2)


def ratio(samples: list[float], floor: list[float]) -> float:
    return round(statistics.median(samples) / statistics.median(floor), 2)


def fresh_folder(folder: Path) -> Path:
    """An empty folder (emptied if it was there)."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder

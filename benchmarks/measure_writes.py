"""Writing: generating the demo database, and saving one new request.

- demo: `rased-tui demo --cases N` as a whole process, as a person runs it;
- save: `Store.add_case` of a request about a new pupil (three motifs, prior actions), on the
  large database, each in its own transaction with its fsync (synchronous = FULL, as always).
"""

from __future__ import annotations

import subprocess
import time
from datetime import date
from pathlib import Path

from common import environment, rased_command

from rased_tui.domain.models import Case, PriorActionItem, Pupil
from rased_tui.store import Store


def build_demo(path: Path, cases: int) -> float:
    """Seconds for `rased-tui demo --db PATH --cases N` to create the database."""
    start = time.perf_counter()
    subprocess.run(rased_command("demo", "--db", str(path), "--cases", str(cases)), check=True,
                   env=environment(), stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def new_request(school_id: str, number: int) -> Case:
    """A request as the intake form makes it: a new pupil, three motifs, two prior actions."""
    pupil = Pupil(last_name=f"Bench{number}", first_name="Léa", birth_date=date(2018, 5, 3))
    return Case(subject_kind="eleve", pupil=pupil, levels=["CE1"], school_id=school_id, requester="enseignant",
                teacher_name="Mme Martin", date_sent=date(2026, 11, 16), urgent=False,
                description="Déchiffrage lent, compréhension fragile en lecture ; confond b et d.",
                motifs=["lecture", "ecriture", "attention"],
                prior_actions=[PriorActionItem(action="differenciation"), PriorActionItem(action="apc")])


def save_requests(path: Path, saves: int) -> list[float]:
    """Seconds of each `add_case` (validation done before: the form does it as one types)."""
    samples = []
    with Store.open(path) as store:
        school_id = store.list_schools()[0].id
        for number in range(saves):
            request = new_request(school_id, number)
            start = time.perf_counter()
            store.add_case(request)
            samples.append(time.perf_counter() - start)
    return samples

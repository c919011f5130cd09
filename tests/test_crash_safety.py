"""Crash safety: a process killed (SIGKILL) while it writes — creating a base, saving cases,
generating the demo, importing a bundle — leaves a base that passes `check` (integrity, foreign
keys, audit chain), that holds every case announced as saved with its whole timeline, and that
holds an import or a demo whole or not at all. The kill lands at several moments of each run,
some chosen from stdout (after the k-th announced save), some from a first timed run; whatever
the moment, the same invariants hold, so a kill that lands early or late passes too.

A SIGKILL loses what the process held in memory, never what it handed to the system: this
tests the transactions and the order of the writes, not a power cut (synchronous=FULL and the
folder's fsync after a creation are there for that)."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rased_tui.domain.models import School
from rased_tui.store import SCHEMA_VERSION, Store, StoreError
from rased_tui.store.opening import APPLICATION_ID, remove_abandoned_scratch_files
from tests.conftest import valid_uai

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL")

ENTRIES_PER_CASE = 3
SCRATCH = re.compile(r"^\..+\.creation-\d+\.tmp")

# Saves cases in a loop, each with its timeline in one transaction, and prints the id of each
# case once its transaction has returned. argv: base, school id, seconds, keep|reopen, label.
SAVER = """
import sys, time
from pathlib import Path
from rased_tui.domain.enums import EntryKind
from rased_tui.domain.models import Case, Pupil, TimelineEntry
from rased_tui.store import Store

path, school_id, seconds, mode, label = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4], sys.argv[5]
entries = int(sys.argv[6])
kept = Store.open(path) if mode == "keep" else None
deadline = time.monotonic() + seconds
index = 0
while time.monotonic() < deadline:
    store = kept or Store.open(path)
    with store.transaction():
        case = store.add_case(Case(
            subject_kind="eleve", levels=["CE1"], school_id=school_id, requester="enseignant",
            pupil=Pupil(last_name="Flux", first_name=f"{label}{index}", birth_date="2018-05-04"),
            teacher_name="Mme Martin", date_sent="2026-10-05", motifs=["lecture"], description=label))
        for number in range(entries):
            store.add_entry(TimelineEntry(case_id=case.id, kind=EntryKind.NOTE, date="2026-10-06",
                                          text=f"Note {number} de {label}{index}."))
    print(case.id, flush=True)
    if kept is None:
        store.close()
    index += 1
if kept is not None:
    kept.close()
"""

# Creates bases one after the other in a folder, printing the name of each one made.
CREATOR = """
import sys
from pathlib import Path
from rased_tui.store import Store

folder = Path(sys.argv[1])
for index in range(int(sys.argv[2])):
    Store.open(folder / f"base-{index}.db").close()
    print(index, flush=True)
"""

# The demo, with small batches handed to the bulk load's background writer.
DEMO = """
import sys
import rased_tui.store.store as store_module
from rased_tui.cli import main

store_module.FLUSH_EVERY = 1500
sys.exit(main(["demo", "--db", sys.argv[1], "--cases", sys.argv[2]]))
"""


def python(*arguments: str, **options) -> subprocess.Popen:
    """A child Python with this environment (RASED_TUI_TODAY frozen by conftest)."""
    return subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}, **options)


def kill_after(process: subprocess.Popen, *, lines: int = 0, delay: float = 0.0, limit: float = 8.0) -> list[str]:
    """SIGKILL the process after it printed `lines` lines (then after `delay` more seconds),
    or after `limit` seconds whatever it printed; every line it printed, in order."""
    printed: list[str] = []
    deadline = time.monotonic() + limit
    while len(printed) < lines and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        printed.append(line.strip())
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    rest, _ = process.communicate(timeout=10)
    printed += [line.strip() for line in rest.splitlines() if line.strip()]
    return printed


def kill_when_journal_grows(process: subprocess.Popen, path: Path, size: int, limit: float = 8.0) -> None:
    """SIGKILL the process as soon as the base's -wal holds more than `size` bytes (the middle
    of a large commit), or when it ends, or after `limit` seconds."""
    journal = Path(f"{path}-wal")
    deadline = time.monotonic() + limit
    while process.poll() is None and time.monotonic() < deadline:
        try:
            if journal.stat().st_size > size:
                break
        except OSError:
            pass
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=10)


def scratch_files(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if SCRATCH.match(name))


def checked(path: Path) -> dict[str, int]:
    """Open the base as the next session would (journal replayed), check it, count its records."""
    with Store.open(path) as store:
        report = store.check()
        assert report.integrity == "ok", report.integrity
        assert report.foreign_key_errors == 0
        assert report.audit.intact, report.audit.problem
        assert report.schema_version == SCHEMA_VERSION
        assert store.get_setting("search_suspended") is None  # a bulk load is whole or absent
        return report.counts


def timeline_sizes(path: Path) -> dict[str, int]:
    """Case id -> number of timeline entries, for every case of the base."""
    connection = sqlite3.connect(path)
    try:
        return dict(connection.execute(
            "SELECT c.id, (SELECT count(*) FROM timeline_entries e WHERE e.case_id = c.id) FROM cases c"))
    finally:
        connection.close()


# -- saves --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["keep", "reopen"])
def test_every_announced_save_survives_a_kill_with_its_whole_timeline(school_base, mode):
    path, school_id = school_base
    announced: list[str] = []
    # after 0 (during the start), 1, 4, 12 announced saves; then a moment later in a run
    for lines, delay in ((0, 0.3), (1, 0.0), (8, 0.0), (3, 0.013)):
        process = python("-c", SAVER, str(path), school_id, "6", mode, f"K{lines}-", str(ENTRIES_PER_CASE))
        announced += kill_after(process, lines=lines, delay=delay)
        counts = checked(path)
        sizes = timeline_sizes(path)
        assert set(announced) <= set(sizes), "a case announced as saved is missing"
        assert set(sizes.values()) <= {ENTRIES_PER_CASE}, "a case without its whole timeline"
        assert counts["cases"] == len(sizes) and counts["timeline_entries"] == ENTRIES_PER_CASE * len(sizes)
        # the school, then for each case saved: its pupil, itself, each entry — none of a half save
        assert counts["audit_log"] == 1 + counts["cases"] * (2 + ENTRIES_PER_CASE)
    assert len(announced) >= 12
    with Store.open(path) as store:  # and the base goes on taking saves
        assert store.add_school(School(uai=valid_uai(760322), name="École d'après", kind="primaire"))
    assert checked(path)["schools"] == 2


# -- creating a base ----------------------------------------------------------------------------


def test_a_base_killed_while_being_created_is_absent_or_complete(tmp_path):
    folder = tmp_path / "bases"
    folder.mkdir()
    made: list[str] = []
    for lines in (0, 4, 20):
        process = python("-c", CREATOR, str(folder), "10000")
        made += kill_after(process, lines=lines, delay=0.0 if lines else 0.35)
    bases = sorted(folder.glob("base-*.db"))
    assert {f"base-{index}.db" for index in made} <= {base.name for base in bases}
    for base in bases:  # the real name only ever holds a complete base
        connection = sqlite3.connect(f"file:{base}?mode=ro", uri=True)
        try:
            assert connection.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
            assert connection.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        finally:
            connection.close()
        assert checked(base)["audit_log"] == 0
    # What a killed creation left aside: refused in French, or a schema completed, never half usable.
    for name in scratch_files(folder):
        if name.endswith(".tmp"):
            try:
                with Store.open(folder / name) as store:
                    assert store.check().ok
            except StoreError as error:
                assert re.search(r"vide|tronqué|incomplète|n'est pas", str(error)), error
    # The next creation in the folder removes the leftovers of dead processes.
    Store.open(folder / "suivante.db").close()
    assert scratch_files(folder) == []


def test_leftovers_of_a_living_creation_are_left_alone(tmp_path):
    live = tmp_path / f".rased.db.creation-{os.getppid()}.tmp"
    dead = tmp_path / ".rased.db.creation-999999999.tmp"
    for leftover in (live, dead, Path(f"{dead}-wal"), tmp_path / "notes.tmp"):
        leftover.write_bytes(b"")
    remove_abandoned_scratch_files(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted([live.name, "notes.tmp"])


def make_half_schema(path: Path, statements: int) -> None:
    """A rased-tui file whose creation stopped after the first statements of schema.sql, its
    identity and version set (as a creation done by hand, outside one transaction, would)."""
    from rased_tui.store.migrations import _statements, schema_text

    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in _statements(schema_text())[:statements]:
            connection.execute(statement)
        connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        connection.close()


@pytest.mark.parametrize("statements", [2, 8, 20, 40, 55, 60])
def test_a_half_made_schema_is_refused_in_french(tmp_path, statements):
    path = tmp_path / "moitie.db"
    make_half_schema(path, statements)
    before = path.read_bytes()
    for read_only in (False, True):
        with pytest.raises(StoreError, match=r"est une base rased-tui incomplète \(création interrompue \?\) : "
                                             r"il lui manque (table|vue|déclencheur) "):
            Store.open(path, read_only=read_only)
    with pytest.raises(StoreError, match="incomplète"):
        Store.open_snapshot(path)
    assert path.read_bytes() == before


def test_a_schema_stopped_before_its_first_table_is_completed(tmp_path):
    path = tmp_path / "debut.db"
    make_half_schema(path, 1)  # the identity only: no table yet
    assert checked(path)["cases"] == 0


def test_check_names_an_index_or_an_audit_protection_that_was_dropped(tmp_path):
    path = tmp_path / "rased.db"
    Store.open(path).close()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("DROP INDEX cases_by_school")
    connection.execute("DROP TRIGGER audit_log_no_update")
    connection.close()
    with Store.open(path, read_only=True) as store:  # the data is whole: it opens
        report = store.check()
    assert not report.ok
    assert report.integrity == "manque au schéma : index cases_by_school, déclencheur audit_log_no_update"


def test_an_sqlite_file_with_nothing_in_it_gets_the_schema(tmp_path):
    """An empty SQLite file (made by another tool, say, or a creation stopped before its one
    transaction) is completed, not refused."""
    path = tmp_path / "vide.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("CREATE TABLE brouillon (x)")
    connection.execute("DROP TABLE brouillon")
    connection.close()
    assert path.stat().st_size > 0
    assert checked(path)["cases"] == 0


# -- the demo: a new base, filled whole or not at all -----------------------------------------


DEMO_CASES = 200


def test_a_demo_killed_at_any_moment_leaves_no_base_an_empty_one_or_the_whole_demo(tmp_path):
    reference = tmp_path / "reference" / "demo.db"
    started = time.monotonic()
    finished = subprocess.run([sys.executable, "-c", DEMO, str(reference), str(DEMO_CASES)],
                              capture_output=True, text=True, timeout=120)
    duration = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    whole = checked(reference)
    assert whole["cases"] == DEMO_CASES
    outcomes = set()
    # moments of the run, then the middle of its commit (its -wal growing), then after its end
    for moment in (0.35, 0.9, 40_000, 400_000, 1.2):
        path = tmp_path / f"essai-{moment}" / "demo.db"
        demo = python("-c", DEMO, str(path), str(DEMO_CASES))
        if moment > 10:
            kill_when_journal_grows(demo, path, moment)
        else:
            kill_after(demo, delay=duration * moment)
        folder_left = sorted(os.listdir(path.parent)) if path.parent.exists() else []
        if not path.exists():
            outcomes.add("absente")
            if path.parent.exists():
                Store.open(path).close()  # a later creation clears what the killed one left aside
                assert scratch_files(path.parent) == []
            continue
        assert scratch_files(path.parent) == [], folder_left
        counts = checked(path)
        if counts["cases"]:
            outcomes.add("complète")
            assert counts == whole
        else:
            outcomes.add("vide")
            assert set(counts.values()) == {0}, counts  # nothing of the demo, not even its audit row
    assert outcomes  # which ones depends on the machine's speed; each one is checked above


# -- an import: one transaction ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_bundle(tmp_path_factory) -> Path:
    """An export (nominative) of a demo base of a few hundred cases."""
    from rased_tui.exchange.demo import generate_demo
    from tests.test_exchange import export

    folder = tmp_path_factory.mktemp("paquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", "2026-11-21")
        with Store.open(folder / "source.db") as store:
            generate_demo(store, cases=DEMO_CASES, seed=7)
        return export(folder / "source.db", folder / "cle", nominative=True)


def test_an_import_killed_at_any_moment_is_whole_or_absent(school_base, demo_bundle, tmp_path):
    target, school_id = school_base
    saver = python("-c", SAVER, str(target), school_id, "30", "keep", "A", str(ENTRIES_PER_CASE))
    kill_after(saver, lines=3)  # the antenna's own cases, before the import
    before = checked(target)
    original = target.read_bytes()

    reference = tmp_path / "reference.db"
    reference.write_bytes(original)
    started = time.monotonic()
    finished = subprocess.run([sys.executable, "-m", "rased_tui", "import", "--db", str(reference), str(demo_bundle)],
                              capture_output=True, text=True, timeout=120)
    duration = time.monotonic() - started
    assert finished.returncode == 0, finished.stderr
    after = checked(reference)
    assert after["cases"] == before["cases"] + DEMO_CASES

    outcomes = set()
    # moments of the run, then the middle of its commit (its -wal growing), then after its end
    for moment in (0.6, 40_000, 400_000, 1.2):
        path = tmp_path / f"essai-{moment}.db"
        path.write_bytes(original)
        importer = python("-m", "rased_tui", "import", "--db", str(path), str(demo_bundle))
        if moment > 10:
            kill_when_journal_grows(importer, path, moment)
        else:
            kill_after(importer, delay=duration * moment)
        counts = checked(path)
        assert counts in (before, after), counts
        outcomes.add("avant" if counts == before else "après")
        path.unlink()
        for journal in ("-wal", "-shm"):
            Path(f"{path}{journal}").unlink(missing_ok=True)
    assert outcomes


def test_a_base_killed_while_copying_its_journal_into_the_file_is_not_taken_for_truncated(school_base, tmp_path):
    """A checkpoint writes page 1 (the header) first: killed then, the file is shorter than its
    header says, and its -wal holds the rest. Not « tronqué »: SQLite completes it from the journal."""
    path, school_id = school_base
    copy = tmp_path / "copie" / "rased.db"
    copy.parent.mkdir()
    with Store.open(path) as writer:
        with writer.transaction():  # enough to make the base grow
            for index in range(200):
                writer.add_school(School(uai=valid_uai(760500 + index), name=f"École {'longue ' * 12}{index}",
                                         kind="primaire"))
        copy.write_bytes(path.read_bytes())  # the file and its journal as a kill would leave them
        journal = Path(f"{path}-wal").read_bytes()
    Path(f"{copy}-wal").write_bytes(journal)
    page_size = int.from_bytes(journal[8:12], "big")
    frames = [32 + index * (24 + page_size) for index in range((len(journal) - 32) // (24 + page_size))]
    last_first_page = [frame for frame in frames if int.from_bytes(journal[frame:frame + 4], "big") == 1][-1]
    first_page = journal[last_first_page + 24:last_first_page + 24 + page_size]
    with open(copy, "r+b") as handle:  # the checkpoint's first write, and nothing after it
        handle.write(first_page)
    assert copy.stat().st_size < int.from_bytes(first_page[28:32], "big") * page_size
    killed = copy.read_bytes()
    assert checked(copy)["schools"] == 201
    without_journal = tmp_path / "sans-journal.db"
    without_journal.write_bytes(killed)
    with pytest.raises(StoreError, match="est tronqué"):  # without its journal: truncated indeed
        Store.open(without_journal, read_only=True)

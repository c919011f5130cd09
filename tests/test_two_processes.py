"""Two programs on one base at once: the antenna saving (case after case, and a large import)
while the IEN reads the same file (`rased-tui stats`, a read-only store, the snapshot of the
review), and two members saving at the same moment. Whatever the timing: a reader sees each
case with its whole timeline and an import whole or not at all, nobody gets « database is
locked » (the writers wait their turn, at most 5 s, and readers never wait), no save is lost.
Each test runs for a few seconds; its assertions are invariants, not timings."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rased_tui.domain.models import School
from rased_tui.store import Store, StoreError
from tests.conftest import valid_uai
from tests.test_crash_safety import ENTRIES_PER_CASE, SAVER, checked, timeline_sizes

IMPORT_CASES = 1500  # its import holds the write lock for a second or so on a laptop

# Opens the base again and again — a read-only store on the file, then a snapshot in memory —
# and checks what it sees. argv: base, school id of the saved cases, seconds, the import's
# cases and entries. Prints what it saw (JSON); exits 1 with the reason on stderr otherwise.
READER = """
import json, sys, time
from pathlib import Path
from rased_tui.store import Store

path, school_id, seconds = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3])
imported_cases, imported_entries, entries = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
snapshots_only = sys.argv[7] == "instantanés"
seen = {"fichier": 0, "instantané": 0, "import_absent": 0, "import_entier": 0, "dossiers_max": 0}
deadline = time.monotonic() + seconds
kind = "instantané" if snapshots_only else "fichier"
while time.monotonic() < deadline:
    store = Store.open(path, read_only=True) if kind == "fichier" else Store.open_snapshot(path)
    try:
        connection = store.connection
        connection.execute("BEGIN")  # one read transaction: one state of the base
        half = connection.execute(
            "SELECT count(*) FROM cases c WHERE c.school_id = ? AND"
            " (SELECT count(*) FROM timeline_entries e WHERE e.case_id = c.id) != ?", (school_id, entries)).fetchone()[0]
        if half:
            sys.exit(f"{kind} : {half} dossier(s) sans leur chronologie entière")
        other_cases, other_entries = connection.execute(
            "SELECT count(DISTINCT c.id), count(e.id) FROM cases c LEFT JOIN timeline_entries e ON e.case_id = c.id"
            " WHERE c.school_id != ?", (school_id,)).fetchone()
        if (other_cases, other_entries) not in ((0, 0), (imported_cases, imported_entries)):
            sys.exit(f"{kind} : import à moitié visible ({other_cases} dossiers, {other_entries} étapes)")
        if not snapshots_only and not store.verify_audit().intact:
            sys.exit(f"{kind} : chaîne d'audit rompue")
        if kind == "instantané":
            quick = connection.execute("PRAGMA quick_check").fetchone()[0]
            if quick != "ok":
                sys.exit(f"instantané déchiré : {quick}")
        seen["import_absent" if other_cases == 0 else "import_entier"] += 1
        seen["dossiers_max"] = max(seen["dossiers_max"], connection.execute("SELECT count(*) FROM cases").fetchone()[0])
        connection.execute("COMMIT")
    finally:
        store.close()
    seen[kind] += 1
    kind = "instantané" if kind == "fichier" or snapshots_only else "fichier"
print(json.dumps(seen))
"""


def python(*arguments: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def finished(process: subprocess.Popen, timeout: float = 60) -> str:
    """Its stdout, once it ended well: exit code 0 and nothing on stderr (no « locked »)."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0 and err == "", err
    return out


def saver(path: Path, school_id: str, seconds: float, label: str, mode: str = "keep") -> subprocess.Popen:
    return python("-c", SAVER, str(path), school_id, str(seconds), mode, label, str(ENTRIES_PER_CASE))


def reader(path: Path, school_id: str, seconds: float, imported: tuple[int, int] = (0, 0), *,
           snapshots_only: bool = False) -> subprocess.Popen:
    return python("-c", READER, str(path), school_id, str(seconds), str(imported[0]), str(imported[1]),
                  str(ENTRIES_PER_CASE), "instantanés" if snapshots_only else "les deux")


def assert_saved(path: Path, announced: list[str]) -> None:
    sizes = timeline_sizes(path)
    missing = set(announced) - set(sizes)
    assert not missing, f"{len(missing)} saves lost"
    assert all(sizes[case_id] == ENTRIES_PER_CASE for case_id in announced)


@pytest.fixture(scope="module")
def large_bundle(tmp_path_factory) -> tuple[Path, int, int]:
    """An export of a demo base of IMPORT_CASES cases: the bundle, its cases, its timeline entries."""
    from rased_tui.exchange.demo import generate_demo
    from tests.test_exchange import export, read_rows

    folder = tmp_path_factory.mktemp("grand-paquet")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RASED_TUI_TODAY", "2026-11-21")
        with Store.open(folder / "source.db") as store:
            generate_demo(store, cases=IMPORT_CASES, seed=3)
        bundle = export(folder / "source.db", folder / "cle", nominative=True)
    return bundle, len(read_rows(bundle, "dossiers.csv")), len(read_rows(bundle, "chronologie.csv"))


def test_the_ien_reads_while_the_antenna_saves_and_imports(school_base, large_bundle):
    path, school_id = school_base
    bundle, imported_cases, imported_entries = large_bundle
    window = 5.0
    writing = saver(path, school_id, window, "A")
    reading = reader(path, school_id, window, (imported_cases, imported_entries))
    time.sleep(0.8)
    importing = python("-m", "rased_tui", "import", "--db", str(path), str(bundle))
    deadline = time.monotonic() + window - 1.0
    statistics = 0
    while time.monotonic() < deadline or statistics < 2:
        stats = subprocess.run([sys.executable, "-m", "rased_tui", "stats", "--db", str(path)],
                               capture_output=True, text=True, timeout=60)
        assert stats.returncode == 0 and stats.stderr == "", stats.stderr
        assert stats.stdout.strip()
        statistics += 1
    assert f"dossiers : {imported_cases} ajoutés" in finished(importing)
    announced = finished(writing).split()
    seen = json.loads(finished(reading))
    assert seen["fichier"] and seen["instantané"]
    counts = checked(path)
    assert counts["cases"] == len(announced) + imported_cases
    assert_saved(path, announced)


def test_two_members_save_at_the_same_time_and_both_wait_their_turn(school_base):
    path, school_id = school_base
    first, second = saver(path, school_id, 3.0, "A"), saver(path, school_id, 3.0, "B", mode="reopen")
    announced = {label: finished(process).split() for label, process in (("A", first), ("B", second))}
    assert announced["A"] and announced["B"]
    counts = checked(path)
    assert counts["cases"] == len(announced["A"]) + len(announced["B"])
    assert_saved(path, announced["A"] + announced["B"])
    connection = sqlite3.connect(path)
    numbers = [row[0] for row in connection.execute("SELECT sequence FROM cases ORDER BY sequence")]
    connection.close()
    assert numbers == list(range(1, len(numbers) + 1))  # no number given twice, none skipped


def test_a_snapshot_is_never_torn_by_a_writer_that_comes_and_goes(school_base, large_bundle):
    """A writer that opens the base, saves and closes it copies its journal into the file each
    time: the review's snapshot, which reads the file without locks when no -wal is there,
    must notice and copy again (before, it could copy half a case or a « malformed » base),
    and a truncated-looking file in the middle of that copy is not refused as « tronqué »."""
    from rased_tui.exchange.importer import import_bundle

    path, school_id = school_base
    bundle, imported_cases, imported_entries = large_bundle
    import_bundle(path, bundle)  # a base of a few megabytes: its copy takes a while
    writing = saver(path, school_id, 3.0, "R", mode="reopen")
    reading = reader(path, school_id, 3.0, (imported_cases, imported_entries), snapshots_only=True)
    announced = finished(writing).split()
    seen = json.loads(finished(reading))
    assert seen["instantané"] and seen["import_entier"] == seen["instantané"]
    checked(path)
    assert_saved(path, announced)


def test_a_snapshot_with_no_writer_leaves_nothing_beside_the_file(school_base):
    path, _ = school_base
    before = path.read_bytes()
    with Store.open_snapshot(path) as snapshot:
        assert snapshot.read_only and len(snapshot.list_schools()) == 1
    assert sorted(os.listdir(path.parent)) == [path.name] and path.read_bytes() == before


# -- the snapshot's guard, step by step ----------------------------------------------------------


def another_school(number: int) -> School:
    return School(uai=valid_uai(760400 + number), name=f"École {number}", kind="primaire")


def test_a_snapshot_copied_while_a_writer_came_and_went_is_copied_again(school_base, monkeypatch):
    """The writer opened the base during the copy, saved and closed it — its journal copied
    into the file under the copy's eyes: that copy is thrown away."""
    from rased_tui.store import opening

    path, _ = school_base
    copies: list[str] = []
    real_copy = opening._copy_into_memory

    def copy_while_a_writer_saves(source: Path, uri: str) -> sqlite3.Connection:
        snapshot = real_copy(source, uri)
        copies.append(uri)
        if len(copies) == 1:
            with Store.open(source) as writer:
                writer.add_school(another_school(1))
        return snapshot

    monkeypatch.setattr(opening, "_copy_into_memory", copy_while_a_writer_saves)
    with Store.open_snapshot(path) as snapshot:
        assert len(snapshot.list_schools()) == 2 and snapshot.check().ok
    assert len(copies) == 2 and all("immutable=1" in uri for uri in copies)
    assert sorted(os.listdir(path.parent)) == [path.name]  # the writer gone, nothing left beside


def test_a_snapshot_copied_as_a_writer_arrived_is_copied_again_through_its_journal(school_base, monkeypatch):
    from rased_tui.store import opening

    path, _ = school_base
    copies: list[str] = []
    real_copy = opening._copy_into_memory
    writers: list[Store] = []

    def copy_as_a_writer_arrives(source: Path, uri: str) -> sqlite3.Connection:
        snapshot = real_copy(source, uri)
        copies.append(uri)
        if len(copies) == 1:  # the application opens the base during the copy, and stays
            writers.append(Store.open(source))
            writers[0].add_school(another_school(2))  # in its -wal, not yet in the file
        return snapshot

    monkeypatch.setattr(opening, "_copy_into_memory", copy_as_a_writer_arrives)
    try:
        with Store.open_snapshot(path) as snapshot:
            assert len(snapshot.list_schools()) == 2
    finally:
        writers[0].close()
    assert len(copies) == 2 and "immutable=1" not in copies[1]  # the second, through SQLite's locks


def test_a_snapshot_never_settles_on_a_file_that_keeps_changing(school_base, monkeypatch):
    """Through SQLite's locks after a few attempts; where even that is impossible (a folder
    that cannot be written), a French sentence, never a torn copy."""
    from rased_tui.store import opening

    path, _ = school_base
    ticks = iter(range(10_000))
    monkeypatch.setattr(opening, "_file_state", lambda source: (False, next(ticks)))
    with Store.open_snapshot(path) as snapshot:
        assert len(snapshot.list_schools()) == 1
    for journal in ("-wal", "-shm"):  # what reading through the locks left, a writer being "there"
        Path(f"{path}{journal}").unlink(missing_ok=True)
    real_access = os.access
    folder = os.fspath(path.parent)
    monkeypatch.setattr(opening.os, "access", lambda name, mode, *a, **k:
                        False if os.fspath(name) == folder and mode & os.W_OK else real_access(name, mode, *a, **k))
    with pytest.raises(StoreError, match="en train d'être écrit par un autre programme : réessayez"):
        Store.open_snapshot(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX locks: a close releases every lock of the process on the file")
def test_a_second_opening_inside_a_program_keeps_its_locks_on_the_base(school_base):
    """The app opens the base once more to back it up (or to import): if that released the
    app's locks, another program closing the base would take itself for the last one, fold and
    delete the journal the app still writes in, and the app's saves would be lost."""
    from rased_tui.store.backups import rotating_backup

    path, _ = school_base
    with Store.open(path) as app_store:
        app_store.add_school(School(uai=valid_uai(760500), name="École avant", kind="primaire"))
        rotating_backup(path)  # a second opening, in this same program
        Store.open(path, read_only=True).close()
        other = subprocess.run([sys.executable, "-c", "import sys; from rased_tui.store import Store; "
                                "Store.open(sys.argv[1]).close()", str(path)], capture_output=True, text=True)
        assert other.returncode == 0, other.stderr
        assert Path(f"{path}-wal").exists()  # still the app's journal
        app_store.add_school(School(uai=valid_uai(760501), name="École après", kind="primaire"))
        seen = subprocess.run([sys.executable, "-c", "import sys; from rased_tui.store import Store; "
                               "s = Store.open(sys.argv[1], read_only=True); "
                               "print(sorted(x.name for x in s.list_schools()))", str(path)],
                              capture_output=True, text=True)
        assert "École après" in seen.stdout, seen.stdout + seen.stderr
    with Store.open(path, read_only=True) as reopened:
        assert {"École avant", "École après"} <= {school.name for school in reopened.list_schools()}
        assert reopened.check().ok

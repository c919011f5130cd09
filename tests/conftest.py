"""Shared fixtures: a frozen "today", a fresh database per test, small factories of valid records.

The factories build domain models (not saved) with sensible French defaults; pass keyword
arguments to override any field. Save them through the store: `store.add_school(make_school())`.
"""

from __future__ import annotations

import itertools

import pytest

from rased_tui.domain.models import Case, Member, Pupil, School, uai_key_letter
from rased_tui.store import Store

TODAY = "2026-11-21"

_serial = itertools.count()


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """Every test runs on 21/11/2026, and never on the developer's own database."""
    monkeypatch.setenv("RASED_TUI_TODAY", TODAY)
    monkeypatch.delenv("RASED_TUI_DB", raising=False)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "rased.db"


@pytest.fixture
def store(db_path):
    store = Store.open(db_path)
    yield store
    store.close()


def valid_uai(number: int) -> str:
    """A valid UAI code: seven digits and their key letter (0761234D for 761234)."""
    digits = f"{number:07d}"
    return digits + uai_key_letter(digits)


@pytest.fixture
def make_school():
    def make(**fields) -> School:
        n = next(_serial)
        defaults = {"uai": valid_uai(761234 + n), "name": f"École élémentaire Jules-Ferry {n}",
                    "commune": "Rouen", "kind": "elementaire"}
        return School(**{**defaults, **fields})

    return make


@pytest.fixture
def make_member():
    def make(**fields) -> Member:
        defaults = {"last_name": "Lefèvre", "first_name": "Anne", "role": "maitre_e",
                    "antenna": "Rouen Nord", "active_from": "2026-09-01"}
        return Member(**{**defaults, **fields})

    return make


@pytest.fixture
def make_pupil_case():
    """A request about one pupil (cas n°1); `pupil` may be a Pupil or a dict of its fields."""

    def make(school_id: str, pupil: Pupil | dict | None = None, **fields) -> Case:
        if not isinstance(pupil, Pupil):
            pupil = Pupil(**{"last_name": "Dupré", "first_name": "Hélène", "birth_date": "2019-03-14",
                             **(pupil or {})})
        defaults = {"subject_kind": "eleve", "pupil": pupil, "levels": ["CE1"], "school_id": school_id,
                    "requester": "enseignant", "teacher_name": "Mme Martin", "date_sent": "2026-10-05",
                    "description": "Déchiffrage lent, compréhension fragile en lecture.",
                    "motifs": ["lecture"]}
        return Case(**{**defaults, **fields})

    return make


@pytest.fixture
def school_base(tmp_path):
    """(path, school id) of a base in a folder of its own holding one school: for the tests that
    run other processes over a file."""
    path = tmp_path / "antenne" / "rased.db"
    with Store.open(path) as store:
        school = store.add_school(School(uai=valid_uai(760321), name="École du Flux", commune="Rouen",
                                         kind="elementaire"))
    return path, school.id

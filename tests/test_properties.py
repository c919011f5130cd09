"""Bad input at scale, on the domain models and the store (issue 9, point 4).

For arbitrary field values — control characters, NUL, huge texts, odd Unicode (combining
marks, right-to-left, emoji, zero-width, BOM, U+2028, lone surrogates as surrogateescape
leaves them), impossible or far-off dates, numbers out of range — a model is either built or
refused with pydantic's ValidationError, which `french_messages` says in French. What a model
accepts, the store saves and gives back equal (texts identical), and the search never fails
on it; what the store refuses (schema.sql's rules) is a StoreError in French that leaves the
base as it was: same counts, audit chain intact.

The import of a bundle with garbage in its cells: tests/test_properties_import.py.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rased_tui.domain.enums import (
    AidKind,
    ClassLevel,
    EntryKind,
    Motif,
    Requester,
    Role,
    SchoolKind,
    SubjectKind,
)
from rased_tui.domain.models import (
    MAX_TEXT_LENGTH,
    Aid,
    AidEvaluation,
    Case,
    Member,
    Pupil,
    School,
    TimelineEntry,
    french_messages,
)
from rased_tui.domain.settings import Settings
from rased_tui.store import Store, StoreError
from tests.conftest import valid_uai

PROPERTIES = settings(max_examples=60, deadline=None, derandomize=True,
                      suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                             HealthCheck.data_too_large, HealthCheck.large_base_example])

# What an English (or SQL) message gives away; French words like « invalide » do not match.
ENGLISH = re.compile(r"\b(input should|value error|field required|validation errors?|should be|constraint failed|"
                     r"further information|not a valid|invalid|must be|unable to|expected|error)\b", re.IGNORECASE)


def assert_french(message: str) -> None:
    assert message.strip(), "message vide"
    assert not ENGLISH.search(message), message
    assert "Traceback" not in message and "[type=" not in message, message


def assert_french_refusal(error: ValidationError, model) -> None:
    messages = french_messages(error, model)
    assert messages
    for message in messages:
        assert_french(message)


# -- strategies ---------------------------------------------------------------------------------

ODD = ["\x00", "\x01", "\x07", "\x1b", "\x1f", "\x7f", "\x85", "\x9f", "\r", "\r\n", "\n", "\t", "\x0b", "\x0c",
       "\u2028", "\u2029", "\ufeff", "\u200b", "\u200d", "\u202e", "\u061c", "\u00a0", "\u3000", "e\u0301",
       "\u0301", "👩‍👩‍👧", "🇫🇷", "\U0010ffff", "\ufffd", "\udcff", "\ud800", "ß", "ﬁ", "İ", "ᵉ", "²", "١٢",
       "'", '"', ";", ",", "=", "+", "-", "@", "%", "_", "*", "(", ")", ":", "^", "NEAR", "OR", "NOT", " ",
       "Hélène", "Zoë", "N'Diaye", "شريف", "אורי", "李"]
odd_text = st.lists(st.one_of(st.sampled_from(ODD), st.text(max_size=6)), max_size=10).map("".join)
huge_text = st.builds(lambda unit, times, tail: unit * times + tail,
                      st.sampled_from(["a", "é", "👩", " ", "\n", "mot ", "\r\n", "\x00"]),
                      st.sampled_from([99, 100, 101, MAX_TEXT_LENGTH - 1, MAX_TEXT_LENGTH, MAX_TEXT_LENGTH + 1,
                                       100_000]),
                      odd_text)
any_text = st.one_of(odd_text, odd_text, st.text(max_size=30), huge_text)
plain_words = st.lists(st.sampled_from(["Lecture", "lente", "confond", "sons", "Élise", "calcul", "attention"]),
                       min_size=1, max_size=6).map(" ".join)
text_value = st.one_of(plain_words, any_text)

ODD_DATES = ["0001-01-01", "9999-12-31", "30/02/2026", "29/02/2025", "29/02/2024", "2026-13-01", "2026-02-30",
             "00/00/0000", "31/12/9999", "01/01/0001", "1/1/1", "2026-11-21T10:00:00Z", "1763715600", "", " ",
             "21/11/2026", "2026-11-21", "21-11-2026", "21.11.2026", "٢٠٢٦-١١-٢١", "2026-11-21\x00", "\u202e21/11/2026",
             "1989-12-31", "1990-01-01", "2026-11-22", "10000-01-01"]
date_value = st.one_of(
    st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 11, 21)),  # plausible: most are accepted
    st.dates(), st.sampled_from(ODD_DATES), st.sampled_from(ODD_DATES), st.datetimes(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=True, allow_infinity=True), odd_text, st.none())
number_value = st.one_of(st.integers(-5, 300), st.integers(-2**70, 2**70), st.floats(allow_nan=True, allow_infinity=True),
                         st.sampled_from(["12", "1,5", "1.5", "", "abc", "1e3", "١٢", "²", " 7 ", "0x10"]),
                         st.booleans(), st.none())


def enum_value(enum) -> st.SearchStrategy:
    return st.one_of(st.sampled_from([member.value for member in enum]), st.sampled_from(list(enum)), odd_text,
                     st.integers(), st.none())


def maybe(valid: st.SearchStrategy, garbage: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly a valid value (so that models get built and reach the store), sometimes garbage."""
    return st.one_of(valid, valid, valid, garbage)


uai_value = maybe(st.integers(1, 9_999_999).map(valid_uai),
                  st.one_of(odd_text, st.sampled_from(["0761234D", "0761234d", " 0761234d ", "076123４D", "٠٧٦١٢٣٤D",
                                                       "0761234É", "²²²²²²²A", "0761234", "07612345D"])))
name_value = maybe(st.sampled_from(["Dupré", "N'Diaye", "Marie-Hélène", "Zoë", "O'Brien", "Le Gall"]), any_text)
any_value = st.one_of(odd_text, number_value, date_value, st.lists(odd_text, max_size=3), st.none())


# -- a fresh base per example -------------------------------------------------------------------

def fresh_store() -> Store:
    return Store.in_memory("propriétés")


def refused_by_the_store(store: Store, write) -> object | None:
    """Run a write; a refusal must be a French StoreError that changed nothing."""
    counts = store.counts()
    try:
        return write()
    except StoreError as error:
        assert_french(str(error))
        assert store.counts() == counts
        assert store.verify_audit().intact
        return None


def built(model, values: dict):
    try:
        return model(**values)
    except ValidationError as error:
        assert_french_refusal(error, model)
        return None


# -- schools, members, settings -----------------------------------------------------------------

@PROPERTIES
@given(uai=uai_value, name=name_value, commune=maybe(st.just("Évreux"), any_text),
       kind=enum_value(SchoolKind), extra=st.dictionaries(st.sampled_from(["nom", "id", "active", "priority_education"]),
                                                           any_value, max_size=2))
def test_a_school_is_built_or_refused_in_french_and_comes_back_equal(uai, name, commune, kind, extra):
    school = built(School, {"uai": uai, "name": name, "commune": commune, "kind": kind, **extra})
    if school is None:
        return
    with fresh_store() as store:
        if refused_by_the_store(store, lambda: store.add_school(school)) is not None:
            assert store.get_school(school.id) == school


@PROPERTIES
@given(last_name=name_value, first_name=name_value, role=enum_value(Role), antenna=maybe(st.just("Rouen"), any_text),
       active_from=date_value, active_to=maybe(st.none(), date_value), capacity=maybe(st.none(), number_value))
def test_a_member_is_built_or_refused_in_french_and_comes_back_equal(last_name, first_name, role, antenna,
                                                                   active_from, active_to, capacity):
    member = built(Member, {"last_name": last_name, "first_name": first_name, "role": role, "antenna": antenna,
                            "active_from": active_from, "active_to": active_to, "capacity": capacity})
    if member is None:
        return
    with fresh_store() as store:
        if refused_by_the_store(store, lambda: store.add_member(member)) is not None:
            assert store.get_member(member.id) == member
            assert store.list_members() == [member]


@PROPERTIES
@given(values=st.fixed_dictionaries({}, optional={
    "circonscription": maybe(st.just("Rouen Sud"), any_text), "antenna": maybe(st.just("Maromme"), any_text),
    "zone": maybe(st.sampled_from(["A", "B", "C"]), any_value),
    "retention_years": maybe(st.integers(1, 10), number_value),
    "export_folder": maybe(st.just("/media/CLE"), st.one_of(any_text, st.just("/media/cl\udce9"))),
    "export_format": maybe(st.sampled_from(["excel", "rfc4180"]), any_value),
    "export_encrypted": maybe(st.booleans(), any_value), "export_open_only": maybe(st.booleans(), any_value)}))
def test_settings_are_built_or_refused_in_french_and_come_back_equal(values):
    chosen = built(Settings, values)
    if chosen is None:
        return
    with fresh_store() as store:
        if refused_by_the_store(store, lambda: store.save_settings(chosen)) is not None:
            assert store.settings() == chosen


# -- cases, and their texts in the search -------------------------------------------------------

@st.composite
def case_values(draw) -> dict:
    kind = draw(maybe(st.sampled_from([SubjectKind.ELEVE, SubjectKind.ELEVE, *SubjectKind]), enum_value(SubjectKind)))
    values = {
        "subject_kind": kind,
        "levels": draw(maybe(st.lists(st.sampled_from(list(ClassLevel)), min_size=1, max_size=2),
                             st.lists(enum_value(ClassLevel), max_size=3))),
        "requester": draw(maybe(st.sampled_from(list(Requester)), enum_value(Requester))),
        "date_sent": draw(st.one_of(st.dates(date(2020, 1, 1), date(2026, 11, 21)), date_value)),
        "description": draw(text_value),
        "motifs": draw(maybe(st.lists(st.sampled_from(list(Motif)), min_size=1, max_size=3),
                             st.lists(enum_value(Motif), max_size=3))),
    }
    if kind == SubjectKind.ELEVE:
        values["pupil"] = {"last_name": draw(name_value), "first_name": draw(name_value),
                           "birth_date": draw(maybe(st.dates(date(2012, 1, 1), date(2020, 1, 1)), date_value))}
    optional = {"teacher_name": text_value, "team_reference": text_value, "requester_detail": text_value,
                "other_motif": text_value, "date_received": date_value, "parents_informed_on": date_value,
                "urgent": any_value, "handicap": any_value, "dispositif": any_value,
                "prior_actions": st.lists(st.fixed_dictionaries({"action": st.sampled_from(["rased", "x"]),
                                                                  "detail": text_value}), max_size=2)}
    for name in draw(st.sets(st.sampled_from(sorted(optional)), max_size=4)):
        values[name] = draw(optional[name])
    if kind in (SubjectKind.ENSEIGNANT, SubjectKind.CLASSE) and "teacher_name" not in values:
        values["teacher_name"] = "Mme Martin"
    if kind == SubjectKind.EQUIPE and "team_reference" not in values:
        values["team_reference"] = "Cycle 2"
    return values


def school_in(store: Store) -> School:
    return store.add_school(School(uai=valid_uai(761234), name="École Jules-Ferry", kind="elementaire"))


@PROPERTIES
@given(values=case_values(), known_school=st.booleans(), search=st.one_of(odd_text, huge_text, plain_words))
def test_a_case_is_built_or_refused_then_saved_found_and_read_back_identical(values, known_school, search):
    with fresh_store() as store:
        school = school_in(store)
        case = built(Case, {**values, "school_id": school.id if known_school else str(uuid.uuid4())})
        if case is None:
            return
        saved = refused_by_the_store(store, lambda: store.add_case(case))
        assert (saved is None) == (not known_school)  # the only refusal left: an unknown school
        assert isinstance(store.search_case_ids(search), list)
        assert isinstance(store.search_case_ids(case.description), list)
        if saved is None:
            return
        again = store.get_case(case.id)
        assert again == saved and again.description == case.description
        words = [word for word in case.description.split() if re.fullmatch(r"[A-Za-z]{3,}", word)]
        if words:
            assert case.id in store.search_case_ids(words[0])


@PROPERTIES
@given(day=st.one_of(st.dates(), st.dates(max_value=date(1999, 12, 31)), st.sampled_from(ODD_DATES)),
       kind=st.sampled_from(["equipe", "classe"]))
def test_any_request_date_the_model_takes_the_store_takes_and_numbers(day, kind):
    """A year of fewer than 4 digits made a school year « 1-2 » that schema.sql refused in
    SQL words (« CHECK constraint failed »)."""
    with fresh_store() as store:
        school = school_in(store)
        case = built(Case, {"subject_kind": kind, "team_reference": "Cycle 2", "teacher_name": "M. Roux",
                            "levels": ["CP"], "school_id": school.id, "requester": "enseignant", "date_sent": day,
                            "motifs": ["lecture"], "description": "Texte."})
        if case is None:
            return
        saved = store.add_case(case)
        assert store.get_case(case.id) == saved and saved.number.startswith(saved.school_year[:4])


@PROPERTIES
@given(text=st.one_of(huge_text, odd_text))
def test_texts_are_kept_identical_or_refused_in_french(text):
    """A description: exactly what was typed (line breaks made '\\n', ends trimmed), or refused
    in French — never cut, never a crash, NUL and other control characters refused."""
    try:
        case = Case(subject_kind="equipe", team_reference="Cycle 2", levels=["CP"], school_id=str(uuid.uuid4()),
                    requester="enseignant", date_sent="2026-10-05", motifs=["lecture"], description=text)
    except ValidationError as error:
        assert_french_refusal(error, Case)
        normalised = text.replace("\r\n", "\n").replace("\r", "\n")
        assert (len(text) > MAX_TEXT_LENGTH or re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]", normalised)
                or not normalised.strip())
        return
    assert case.description == text.replace("\r\n", "\n").replace("\r", "\n").strip()
    assert "\x00" not in case.description and len(case.description) <= MAX_TEXT_LENGTH


# -- timeline, aids, evaluations ---------------------------------------------------------------

def base_with_a_case(store: Store) -> tuple[Case, Member, Member]:
    school = school_in(store)
    maitre_e = store.add_member(Member(last_name="Lefèvre", first_name="Anne", role="maitre_e", active_from="2025-09-01"))
    psy = store.add_member(Member(last_name="Garnier", first_name="Inès", role="psychologue", active_from="2025-09-01"))
    case = store.add_case(Case(subject_kind="eleve", pupil=Pupil(last_name="Dupré", first_name="Hélène",
                                                                 birth_date="2018-03-14"),
                               levels=["CE1"], school_id=school.id, requester="enseignant", date_sent="2026-09-21",
                               motifs=["lecture"], description="Déchiffrage lent."))
    return case, maitre_e, psy


@PROPERTIES
@given(kind=maybe(st.sampled_from([EntryKind.ANALYSE, EntryKind.NOTE, EntryKind.BILAN, EntryKind.REPORT]),
                  enum_value(EntryKind)),
       day=maybe(st.dates(date(2026, 9, 1), date(2026, 11, 21)), date_value), text=text_value,
       extra=st.dictionaries(st.sampled_from(["sub_kind", "partner", "to_school_year", "confidential", "follow_up",
                                              "aids_called", "interlocutor", "member_ids", "author"]),
                             any_value, max_size=2))
def test_a_step_is_built_or_refused_in_french_and_saved_or_refused_in_french(kind, day, text, extra):
    with fresh_store() as store:
        case, maitre_e, psy = base_with_a_case(store)
        values = {"case_id": case.id, "kind": kind, "date": day, "text": text, **extra}
        if "author" in values:
            values.pop("author")
            values["author_member_id"] = psy.id
        if kind == EntryKind.REPORT and "to_school_year" not in values:
            values["to_school_year"] = "2027-2028"
        entry = built(TimelineEntry, values)
        if entry is None:
            return
        saved = refused_by_the_store(store, lambda: store.add_entry(entry))
        if saved is not None:
            assert store.get_entry(entry.id) == saved
            assert store.list_entries(case.id, include_confidential=True) == [saved]
        assert isinstance(store.search_case_ids(text), list)


@PROPERTIES
@given(kind=maybe(st.sampled_from(list(AidKind)), enum_value(AidKind)), giver=st.sampled_from(["maitre_e", "psy"]),
       values=st.fixed_dictionaries({
           "modality": maybe(st.just("petit_groupe"), any_value),
           "start_date": maybe(st.dates(date(2026, 9, 21), date(2026, 11, 21)), date_value),
           "consent_status": maybe(st.sampled_from(["donne", "en_attente", "refuse"]), any_value),
           "consent_form": maybe(st.sampled_from(["ecrit", "oral", None]), any_value),
       }, optional={"sessions_per_week": number_value, "expected_weeks": number_value, "objectives": text_value,
                    "consent_by": text_value, "consent_date": date_value, "end_date": date_value,
                    "end_reason": any_value, "end_note": text_value}),
       evaluation=st.fixed_dictionaries({
           "date": maybe(st.dates(date(2026, 9, 21), date(2026, 11, 21)), date_value),
           "phase": maybe(st.sampled_from(["debut", "intermediaire", "fin"]), any_value),
           "observations": text_value, "score": maybe(st.integers(0, 10), number_value)}))
def test_an_aid_and_its_evaluation_are_built_saved_and_read_back_or_refused_in_french(kind, giver, values, evaluation):
    with fresh_store() as store:
        case, maitre_e, psy = base_with_a_case(store)
        member = maitre_e if giver == "maitre_e" else psy
        aid = built(Aid, {"case_id": case.id, "member_id": member.id, "kind": kind, **values})
        if aid is None:
            return
        saved = refused_by_the_store(store, lambda: store.add_aid(aid))
        if saved is None:
            return
        assert store.get_aid(aid.id) == aid and store.list_aids(case.id) == [aid]
        made = built(AidEvaluation, {"aid_id": aid.id, **evaluation})
        if made is None:
            return
        if refused_by_the_store(store, lambda: store.add_evaluation(made)) is not None:
            assert store.list_evaluations(aid.id) == [made]


# -- focused regressions for what these properties found ----------------------------------------

@pytest.mark.parametrize("text", ["Texte \udce9crit", "\ud800"])
def test_a_lone_surrogate_is_refused_in_french(text):
    """A path or a paste decoded with surrogateescape: SQLite could not store it. Pydantic
    refuses it; the sentence says why (it said « valeur invalide »)."""
    with pytest.raises(ValidationError) as refusal:
        TimelineEntry(case_id=str(uuid.uuid4()), kind="note", date="2026-10-01", text=text)
    assert french_messages(refusal.value, TimelineEntry) == ["Texte : caractère illisible (mal encodé)"]
    with pytest.raises(ValidationError) as refusal:
        Member(last_name=text, first_name="Anne", role="maitre_e", active_from="2026-09-01")
    assert_french_refusal(refusal.value, Member)


def test_a_folder_name_that_is_not_utf8_is_refused_in_french():
    with pytest.raises(ValidationError) as refusal:
        Settings(export_folder="/media/cl\udce9")
    [message] = french_messages(refusal.value, Settings)
    assert_french(message)
    assert "Dossier d'export" in message


@pytest.mark.parametrize("uai", ["²²²²²²²A", "٠٧٦١٢٣٤D", "076123４D"])
def test_a_uai_in_other_digits_than_ascii_is_refused_in_french(uai):
    with pytest.raises(ValidationError) as refusal:
        School(uai=uai, name="École", kind="elementaire")
    assert french_messages(refusal.value, School) == ["Un code UAI a 7 chiffres et une lettre (exemple : 0761234D)."]


@pytest.mark.parametrize("day", [date(1, 1, 1), "01/01/0001", "1899-12-31"])
def test_a_date_before_1900_is_refused_in_french(day):
    with pytest.raises(ValidationError) as refusal:
        Case(subject_kind="equipe", team_reference="Cycle 2", levels=["CP"], school_id=str(uuid.uuid4()),
             requester="enseignant", date_sent=day, motifs=["lecture"], description="Texte.")
    [message] = french_messages(refusal.value, Case)
    assert_french(message)
    assert "1900" in message


@pytest.mark.parametrize("field", ["commune", "antenna"])
def test_short_texts_are_checked_like_names(field):
    model = School if field == "commune" else Member
    values = {"uai": valid_uai(761234), "name": "École", "kind": "elementaire"} if model is School else \
        {"last_name": "Lefèvre", "first_name": "Anne", "role": "maitre_e", "active_from": "2026-09-01"}
    for bad in ("Rou\x00en", "x" * 101):
        with pytest.raises(ValidationError) as refusal:
            model(**values, **{field: bad})
        assert_french_refusal(refusal.value, model)
    assert getattr(model(**values, **{field: "  Saint-Étienne-du-Rouvray  "}), field) == "Saint-Étienne-du-Rouvray"


def test_a_datetime_or_a_timestamp_is_not_a_date():
    for value in (datetime(2026, 11, 21, 10, 30), 1763715600, "2026-11-21T10:00:00Z"):
        with pytest.raises(ValidationError) as refusal:
            Member(last_name="Lefèvre", first_name="Anne", role="maitre_e", active_from=value)
        assert_french_refusal(refusal.value, Member)


def test_a_rule_of_the_base_is_told_without_sqlite_s_english():
    import sqlite3

    from rased_tui.store.errors import translate_sqlite_error

    error = sqlite3.IntegrityError("CHECK constraint failed: school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9]'")
    message = str(translate_sqlite_error(error))
    assert message == ("Enregistrement refusé : donnée incohérente (règle de la base : "
                       "school_year GLOB '[0-9][0-9][0-9][0-9]-[0-9]').")
    assert_french(message)
    message = str(translate_sqlite_error(sqlite3.IntegrityError("NOT NULL constraint failed: schools.kind")))
    assert message == "Enregistrement refusé : une valeur obligatoire manque (schools.kind)."
    assert_french(message)

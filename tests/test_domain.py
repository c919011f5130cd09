"""The domain rules: status from the timeline, school years, case numbers, périodes, French
dates, and every validation message (in French)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from rased_tui.domain.calendar import (
    PeriodSpan,
    age_in_years,
    approximate_periods,
    case_number,
    format_french_date,
    next_school_year,
    parse_french_date,
    parse_school_year,
    period_of,
    school_year_of,
    school_year_of_case_number,
    today,
)
from rased_tui.domain.enums import (
    AidKind,
    CaseStatus,
    ClassLevel,
    EntryKind,
    LabelledEnum,
    Motif,
    Role,
)
from rased_tui.domain.models import (
    Aid,
    AidEvaluation,
    Case,
    Member,
    Period,
    Pupil,
    School,
    TimelineEntry,
    fold,
    french_messages,
)
from rased_tui.domain.status import derive_status

# -- helpers -------------------------------------------------------------------------------------


def errors_of(model, **fields) -> list[str]:
    """The French messages a model gives for these fields (it must refuse them)."""
    with pytest.raises(ValidationError) as caught:
        model(**fields)
    return french_messages(caught.value, model)


def assert_refused(model, expected: str, **fields) -> None:
    messages = errors_of(model, **fields)
    assert any(expected in message for message in messages), messages


_ids = iter(range(10**6))


def entry(kind: str, day: str, sub_kind: str | None = None, *, at: str = "08:00", **fields) -> TimelineEntry:
    """A timeline entry on `day` (ISO), recorded at `at` (HH:MM, UTC) that day."""
    defaults = {"text": "Problématique : lecture" if kind == "analyse" else ""}
    if kind == "report":
        defaults["to_school_year"] = "2027-2028"
    return TimelineEntry(**{
        "id": f"00000000-0000-4000-8000-{next(_ids):012d}", "case_id": "c" * 36, "kind": kind,
        "sub_kind": sub_kind, "date": day, "created_at": f"{day}T{at}:00.000000Z", **defaults, **fields})


PUPIL = {"last_name": "Dupré", "first_name": "Hélène", "birth_date": "2019-03-14"}
CASE = {"subject_kind": "eleve", "pupil": PUPIL, "levels": ["CE1"], "school_id": "s" * 36,
        "requester": "enseignant", "date_sent": "2026-10-05",
        "description": "Déchiffrage lent.", "motifs": ["lecture"]}
AID = {"case_id": "c" * 36, "member_id": "m" * 36, "kind": "E", "modality": "petit_groupe",
       "start_date": "2026-10-12", "consent_status": "donne", "consent_form": "oral",
       "consent_date": "2026-10-08"}


# -- status derived from the timeline ------------------------------------------------------------


def test_status_recue_without_entries():
    assert derive_status([]) is CaseStatus.RECUE


@pytest.mark.parametrize(("kinds", "expected"), [
    ([("analyse", None)], CaseStatus.EN_ANALYSE),
    ([("analyse", None), ("premiere_intention", "contact")], CaseStatus.PREMIERE_INTENTION),
    ([("analyse", None), ("premiere_intention", "observation_classe"),
      ("seconde_intention", "aide_specialisee")], CaseStatus.SECONDE_INTENTION),
    ([("analyse", None), ("seconde_intention", "formation_ciblee"), ("bilan", None)], CaseStatus.BILAN),
    ([("analyse", None), ("bilan", None), ("cloture", "objectifs_atteints")], CaseStatus.CLOTUREE),
    ([("analyse", None), ("cloture", "sans_suite")], CaseStatus.CLASSEE_SANS_SUITE),
    ([("cloture", "sans_suite")], CaseStatus.CLASSEE_SANS_SUITE),
    ([("analyse", None), ("cloture", "relais_enseignant"), ("reouverture", None)], CaseStatus.ROUVERTE),
])
def test_status_of_each_path(kinds, expected):
    timeline = [entry(kind, f"2026-10-{10 + i:02d}", sub) for i, (kind, sub) in enumerate(kinds)]
    assert derive_status(timeline) is expected


def test_status_is_the_furthest_stage_reached_not_the_latest():
    timeline = [entry("analyse", "2026-10-01"), entry("bilan", "2026-10-20"),
                entry("premiere_intention", "2026-11-02", "contact")]
    assert derive_status(timeline) is CaseStatus.BILAN


def test_reopened_case_counts_only_stages_since_the_reopening():
    before = [entry("analyse", "2026-09-10"), entry("seconde_intention", "2026-09-20", "aide_specialisee"),
              entry("bilan", "2026-10-01"), entry("cloture", "2026-10-02", "objectifs_atteints"),
              entry("reouverture", "2026-10-15")]
    assert derive_status(before) is CaseStatus.ROUVERTE
    after = [*before, entry("premiere_intention", "2026-10-20", "entretien_explicitation")]
    assert derive_status(after) is CaseStatus.PREMIERE_INTENTION


def test_closed_twice_reopened_twice():
    timeline = [entry("cloture", "2026-09-10", "depart_ecole"), entry("reouverture", "2026-09-20"),
                entry("cloture", "2026-10-01", "sans_suite"), entry("reouverture", "2026-10-05"),
                entry("analyse", "2026-10-06")]
    assert derive_status(timeline) is CaseStatus.EN_ANALYSE
    assert derive_status(timeline[:3]) is CaseStatus.CLASSEE_SANS_SUITE


def test_entries_after_a_closure_do_not_change_it():
    timeline = [entry("analyse", "2026-09-10"), entry("cloture", "2026-10-01", "pap_pps"),
                entry("seconde_intention", "2026-10-10", "mutualisation"), entry("bilan", "2026-10-11"),
                entry("note", "2026-10-12", text="Appel de la famille")]
    assert derive_status(timeline) is CaseStatus.CLOTUREE


def test_same_day_entries_are_ordered_by_time_of_recording():
    closure = entry("cloture", "2026-10-01", "objectifs_atteints", at="10:00")
    reopening = entry("reouverture", "2026-10-01", at="09:00")
    # The closure was recorded after the reopening: closed, whatever the order given.
    assert derive_status([closure, reopening]) is CaseStatus.CLOTUREE
    assert derive_status([reopening, closure]) is CaseStatus.CLOTUREE
    reopening_later = entry("reouverture", "2026-10-01", at="11:00")
    assert derive_status([reopening_later, closure]) is CaseStatus.ROUVERTE


def test_date_orders_before_time_of_recording():
    # Entered today about an earlier day: the date decides, not when it was typed in.
    closure = entry("cloture", "2026-10-02", "autre", created_at="2026-10-02T08:00:00.000000Z")
    late_entry = entry("reouverture", "2026-10-01", created_at="2026-11-20T08:00:00.000000Z")
    assert derive_status([late_entry, closure]) is CaseStatus.CLOTUREE


def test_ordered_flag_trusts_the_order_given():
    closure = entry("cloture", "2026-10-02", "autre")
    reopening = entry("reouverture", "2026-10-01")
    assert derive_status([closure, reopening], ordered=True) is CaseStatus.ROUVERTE
    assert derive_status([closure, reopening]) is CaseStatus.CLOTUREE


def test_notes_and_reports_do_not_change_status():
    assert derive_status([entry("note", "2026-10-01", text="RAS"),
                          entry("report", "2026-10-02")]) is CaseStatus.RECUE
    timeline = [entry("analyse", "2026-09-10"), entry("note", "2026-09-11", text="x"),
                entry("report", "2026-09-12")]
    assert derive_status(timeline) is CaseStatus.EN_ANALYSE
    reopened = [entry("cloture", "2026-09-10", "autre"), entry("reouverture", "2026-09-11"),
                entry("note", "2026-09-12", text="x"), entry("report", "2026-09-13")]
    assert derive_status(reopened) is CaseStatus.ROUVERTE


def test_status_reads_plain_rows_with_string_codes():
    """Bulk streams (statistics, export) yield rows with codes, not enum members."""
    rows = [SimpleNamespace(id="a", kind="analyse", sub_kind=None, date="2026-10-01", created_at="x"),
            SimpleNamespace(id="b", kind="cloture", sub_kind="sans_suite", date="2026-10-02", created_at="x")]
    assert derive_status(rows) is CaseStatus.CLASSEE_SANS_SUITE
    rows.append(SimpleNamespace(id="c", kind="reouverture", sub_kind=None, date="2026-10-03", created_at="x"))
    assert derive_status(rows) is CaseStatus.ROUVERTE


def test_open_and_closed_statuses():
    closed = {status for status in CaseStatus if not status.is_open}
    assert closed == {CaseStatus.CLOTUREE, CaseStatus.CLASSEE_SANS_SUITE}


# -- school years, case numbers ------------------------------------------------------------------


@pytest.mark.parametrize(("day", "year"), [
    (date(2026, 9, 1), "2026-2027"),
    (date(2026, 8, 1), "2026-2027"),   # August already belongs to the coming year
    (date(2026, 8, 31), "2026-2027"),
    (date(2026, 7, 31), "2025-2026"),  # July still belongs to the year that ends
    (date(2026, 7, 3), "2025-2026"),
    (date(2027, 1, 1), "2026-2027"),
    (date(2026, 12, 31), "2026-2027"),
])
def test_school_year_of(day, year):
    assert school_year_of(day) == year


def test_school_year_labels():
    assert parse_school_year("2026-2027") == 2026
    assert next_school_year("2026-2027") == "2027-2028"
    for bad in ("2026-2028", "2026/2027", "26-27", "", "2026-2027x"):
        with pytest.raises(ValueError, match="n'est pas une année scolaire"):
            parse_school_year(bad)


def test_case_numbers():
    assert case_number("2026-2027", 1) == "2026-0001"
    assert case_number("2026-2027", 42) == "2026-0042"
    assert case_number("2025-2026", 9999) == "2025-9999"
    assert case_number("2025-2026", 10000) == "2025-10000"  # more than 9999 requests still works
    with pytest.raises(ValueError, match="commence à 1"):
        case_number("2026-2027", 0)
    with pytest.raises(ValueError):
        case_number("2026", 3)


def test_school_year_of_case_number():
    assert school_year_of_case_number("2026-0042") == "2026-2027"
    assert school_year_of_case_number(case_number("2019-2020", 12345)) == "2019-2020"
    for bad in ("2026-42", "26-0042", "2026_0042", "2026-0042a", ""):
        with pytest.raises(ValueError, match="n'est pas un numéro de dossier"):
            school_year_of_case_number(bad)


def test_today_is_frozen_by_the_environment(monkeypatch):
    assert today() == date(2026, 11, 21)
    monkeypatch.setenv("RASED_TUI_TODAY", "2027-03-02")
    assert today() == date(2027, 3, 2)


def test_age_in_years():
    assert age_in_years(date(2019, 3, 14), date(2026, 3, 13)) == 6
    assert age_in_years(date(2019, 3, 14), date(2026, 3, 14)) == 7


# -- périodes ------------------------------------------------------------------------------------


def test_approximate_periods_give_five_ordered_spans():
    spans = approximate_periods("2026-2027")
    assert [span.number for span in spans] == [1, 2, 3, 4, 5]
    assert all(span.school_year == "2026-2027" for span in spans)
    assert spans[0].start.month == 9 and spans[0].start.weekday() == 1  # rentrée: a Tuesday
    assert spans[-1].end.year == 2027 and spans[-1].end.month == 7
    for span in spans:
        assert span.start <= span.end
    for earlier, later in zip(spans, spans[1:]):
        assert earlier.end < later.start  # holidays in between, no overlap
    # The rentrée falls on the first Tuesday of September, whatever the year.
    for year in range(2024, 2031):
        rentree = approximate_periods(f"{year}-{year + 1}")[0].start
        assert rentree.weekday() == 1 and rentree.month == 9 and rentree.day <= 7


def test_period_of():
    spans = approximate_periods("2026-2027")
    assert period_of(date(2026, 9, 15), spans).number == 1
    assert period_of(spans[1].start, spans).number == 2
    assert period_of(spans[1].end, spans).number == 2
    assert period_of(date(2027, 6, 30), spans).number == 5


def test_holidays_map_to_the_next_periode():
    spans = approximate_periods("2026-2027")
    assert period_of(date(2026, 10, 25), spans).number == 2  # Toussaint
    assert period_of(date(2026, 12, 25), spans).number == 3  # Noël
    assert period_of(date(2027, 2, 20), spans).number == 4   # hiver
    assert period_of(date(2026, 8, 25), spans).number == 1   # before the rentrée


def test_period_of_beyond_the_known_periodes():
    spans = approximate_periods("2026-2027")
    assert period_of(date(2027, 7, 10), spans) is None
    assert period_of(date(2026, 10, 1), []) is None


def test_period_of_does_not_depend_on_the_order_given():
    spans = approximate_periods("2026-2027")
    assert period_of(date(2026, 10, 25), list(reversed(spans))).number == 2
    manual = [PeriodSpan("2026-2027", 2, date(2026, 11, 2), date(2026, 12, 18)),
              PeriodSpan("2026-2027", 1, date(2026, 9, 1), date(2026, 10, 16))]
    assert period_of(date(2026, 10, 20), manual).number == 2


# -- French dates --------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("21/11/2026", date(2026, 11, 21)),
    ("1/9/2026", date(2026, 9, 1)),
    ("01.09.2026", date(2026, 9, 1)),
    ("01-09-2026", date(2026, 9, 1)),
    (" 29/02/2028 ", date(2028, 2, 29)),
    ("2026-11-21", date(2026, 11, 21)),
])
def test_parse_french_date(text, expected):
    assert parse_french_date(text) == expected


def test_impossible_date_is_rejected_in_french():
    with pytest.raises(ValueError, match=r"^Le 31/02/2026 n'existe pas dans le calendrier\.$"):
        parse_french_date("31/02/2026")
    with pytest.raises(ValueError, match="n'existe pas"):
        parse_french_date("29/02/2027")
    with pytest.raises(ValueError, match="n'existe pas"):
        parse_french_date("2026-13-01")


@pytest.mark.parametrize("text", ["garbage", "", "21/11/26", "21 novembre 2026", "2026/11/21", "21/11/2026 10:00"])
def test_garbage_date_is_rejected_in_french(text):
    with pytest.raises(ValueError, match="n'est pas une date au format JJ/MM/AAAA"):
        parse_french_date(text)


def test_format_french_date():
    assert format_french_date(date(2026, 9, 1)) == "01/09/2026"
    assert format_french_date("2026-11-21") == "21/11/2026"
    assert format_french_date(None) == ""
    assert format_french_date("") == ""
    assert parse_french_date(format_french_date(date(2027, 2, 28))) == date(2027, 2, 28)


def test_models_accept_french_dates():
    assert Pupil(**{**PUPIL, "birth_date": "14/03/2019"}).birth_date == date(2019, 3, 14)
    assert Member(last_name="A", first_name="B", role="cpc", active_from="01/09/2026",
                  active_to=" ").active_to is None


# -- validation messages -------------------------------------------------------------------------


def test_valid_records_pass():
    case = Case(**CASE)
    assert case.pupil.full_name == "Hélène Dupré"
    assert case.main_motif is Motif.LECTURE
    assert case.request_school_year == "2026-2027"
    assert case.subject_label == "Hélène Dupré"
    Aid(**AID)
    School(uai="0761234D", name="École du Centre", kind="primaire")


def test_birth_date_in_the_future():
    assert_refused(Pupil, "La date de naissance ne peut pas être dans le futur.",
                   **{**PUPIL, "birth_date": "22/11/2026"})
    Pupil(**{**PUPIL, "birth_date": "21/11/2026"})  # today is not the future


def test_birth_date_in_the_future_is_accepted_when_read_back_from_the_database():
    Pupil.model_validate({**PUPIL, "birth_date": "2027-01-01"}, context={"stored": True})


def test_request_dated_before_birth():
    assert_refused(Case, "La demande est datée d'avant la naissance de l'élève.",
                   **{**CASE, "date_sent": "2019-03-13"})


def test_request_sent_in_the_future():
    assert_refused(Case, "La date d'envoi ne peut pas être dans le futur.", **{**CASE, "date_sent": "2026-11-22"})


def test_birth_date_too_old_for_a_primary_pupil():
    assert_refused(Pupil, "Cette date de naissance est trop ancienne pour un élève du premier degré.",
                   **{**PUPIL, "birth_date": "31/12/1989"})


def test_reception_in_the_future():
    assert_refused(Case, "La date de réception ne peut pas être dans le futur.",
                   **{**CASE, "date_received": "2026-11-22"})


def test_parents_informed_in_the_future():
    assert_refused(Case, "La date d'information des parents ne peut pas être dans le futur.",
                   **{**CASE, "parents_informed_on": "2026-12-01"})


def test_evaluation_in_the_future():
    assert_refused(AidEvaluation, "La date de l'évaluation ne peut pas être dans le futur.",
                   aid_id="a" * 36, date="2026-11-23", phase="debut")


def test_reception_before_sending():
    assert_refused(Case, "La date de réception précède la date d'envoi.",
                   **{**CASE, "date_received": "2026-10-04"})


@pytest.mark.parametrize("description", ["", "   ", "\n\t"])
def test_empty_description(description):
    assert_refused(Case, "La description factuelle des difficultés est obligatoire.",
                   **{**CASE, "description": description})


def test_no_motif():
    assert_refused(Case, "Choisissez au moins un motif.", **{**CASE, "motifs": []})


def test_no_motif_given_at_all():
    fields = {key: value for key, value in CASE.items() if key != "motifs"}
    assert_refused(Case, "Choisissez au moins un motif.", **fields)


def test_motifs_keep_their_order_without_repeats():
    case = Case(**{**CASE, "motifs": ["attention", "lecture", "attention"]})
    assert case.motifs == [Motif.ATTENTION, Motif.LECTURE]
    assert case.main_motif is Motif.ATTENTION


def test_other_motif_needs_a_text():
    assert_refused(Case, "Précisez le motif « autre ».", **{**CASE, "motifs": ["lecture", "autre"]})
    Case(**{**CASE, "motifs": ["autre"], "other_motif": "Refus scolaire"})


def test_unknown_class_level():
    assert_refused(Case, "Niveau de classe : valeur inconnue", **{**CASE, "levels": ["CP3"]})
    assert_refused(Case, "Niveau de classe : valeur inconnue", **{**CASE, "levels": ["ULIS"]})


def test_a_pupil_has_exactly_one_level():
    assert_refused(Case, "un seul niveau", **{**CASE, "levels": ["CP", "CE1"]})
    assert_refused(Case, "un seul niveau", **{**CASE, "levels": []})


def test_levels_of_a_mixed_class_are_sorted_and_distinct():
    case = Case(**{**CASE, "subject_kind": "classe", "pupil": None, "teacher_name": "M. Durand",
                   "levels": ["CE1", "CP", "CE1"]})
    assert case.levels == [ClassLevel.CP, ClassLevel.CE1]


def test_subject_rules():
    no_pupil = {**CASE, "pupil": None}
    assert_refused(Case, "doit nommer l'élève", **no_pupil)
    assert_refused(Case, "ne nomme pas d'élève", **{**CASE, "subject_kind": "enseignant", "teacher_name": "M. X"})
    assert_refused(Case, "Indiquez le nom de l'enseignant", **{**no_pupil, "subject_kind": "classe"})
    assert_refused(Case, "référence de l'équipe", **{**no_pupil, "subject_kind": "equipe"})
    assert_refused(Case, "Handicap et AESH", **{**no_pupil, "subject_kind": "enseignant",
                                                 "teacher_name": "M. X", "aesh": True})
    team = Case(**{**no_pupil, "subject_kind": "equipe", "team_reference": "Conseil des maîtres cycle 2"})
    assert team.subject_label == "Conseil des maîtres cycle 2"


def test_bad_uai_key_letter():
    assert_refused(School, "La lettre clé du code UAI 0761234 est D, pas E.",
                   uai="0761234E", name="École", kind="primaire")


@pytest.mark.parametrize("uai", ["761234D", "07612345D", "076123AD", "07612341", "", "0761234-"])
def test_bad_uai_format(uai):
    assert_refused(School, "Un code UAI a 7 chiffres et une lettre (exemple : 0761234D).",
                   uai=uai, name="École", kind="primaire")


def test_uai_is_normalised_to_upper_case():
    assert School(uai=" 0761234d ", name="École", kind="primaire").uai == "0761234D"


def test_psy_aid_needs_written_consent():
    assert_refused(Aid, "sans l'autorisation écrite des parents", **{**AID, "kind": "psy"})
    assert_refused(Aid, "sans l'autorisation écrite des parents", **{**AID, "kind": "psy", "consent_form": None})
    Aid(**{**AID, "kind": "psy", "consent_form": "ecrit"})
    # Consent still awaited: the aid may be recorded, not started under a given oral consent.
    Aid(**{**AID, "kind": "psy", "consent_status": "en_attente", "consent_form": None})


def test_given_consent_needs_its_form():
    assert_refused(Aid, "Précisez si l'accord de la famille est oral ou écrit.", **{**AID, "consent_form": None})


def test_aid_cannot_start_before_consent():
    assert_refused(Aid, "L'aide ne peut commencer avant l'accord de la famille.",
                   **{**AID, "consent_date": "2026-10-13"})


def test_aid_end_before_start():
    assert_refused(Aid, "La fin de l'aide précède son début.",
                   **{**AID, "end_date": "2026-10-11", "end_reason": "objectifs_atteints"})


def test_aid_end_needs_date_and_reason():
    assert_refused(Aid, "Une aide terminée a une date et un motif de fin.", **{**AID, "end_date": "2026-11-01"})
    assert_refused(Aid, "Une aide terminée a une date et un motif de fin.", **{**AID, "end_reason": "fin_annee"})


def test_consent_withdrawal_ends_the_aid():
    assert_refused(Aid, "Un retrait de l'accord met fin à l'aide",
                   **{**AID, "consent_withdrawn_on": "2026-11-02"})
    aid = Aid(**{**AID, "consent_withdrawn_on": "2026-11-02", "end_date": "2026-11-02",
                 "end_reason": "retrait_consentement", "end_note": "La famille retire son accord."})
    assert not aid.is_open


def test_analyse_needs_a_problematique():
    assert_refused(TimelineEntry, "La problématique de la première analyse est obligatoire.",
                   case_id="c" * 36, kind="analyse", date="2026-10-01", text="  ")


def test_closure_needs_an_outcome():
    assert_refused(TimelineEntry, "Précisez l'issue de la clôture.",
                   case_id="c" * 36, kind="cloture", date="2026-10-01")
    assert_refused(TimelineEntry, "Précisez l'issue de la clôture.",
                   case_id="c" * 36, kind="cloture", sub_kind="contact", date="2026-10-01")


def test_response_needs_its_kind():
    assert_refused(TimelineEntry, "Précisez le type de réponse.",
                   case_id="c" * 36, kind="seconde_intention", date="2026-10-01")
    assert_refused(TimelineEntry, "n'a pas de sous-type",
                   case_id="c" * 36, kind="bilan", sub_kind="contact", date="2026-10-01")


def test_report_without_year():
    assert_refused(TimelineEntry, "Un report indique l'année scolaire où le dossier continue.",
                   case_id="c" * 36, kind="report", date="2026-10-01")
    assert_refused(TimelineEntry, "Un report indique l'année scolaire où le dossier continue.",
                   case_id="c" * 36, kind="note", date="2026-10-01", to_school_year="2027-2028")
    assert_refused(TimelineEntry, "n'est pas une année scolaire",
                   case_id="c" * 36, kind="report", date="2026-10-01", to_school_year="2027")


def test_partner_without_orientation():
    assert_refused(TimelineEntry, "Un partenaire ne se précise que pour une orientation.",
                   case_id="c" * 36, kind="seconde_intention", sub_kind="aide_specialisee",
                   partner="cmpp", date="2026-10-01")
    entry_ = TimelineEntry(case_id="c" * 36, kind="seconde_intention", sub_kind="orientation_partenaire",
                           partner="cmpp", date="2026-10-01")
    assert entry_.partner.label == "CMPP"


def test_entry_in_the_future():
    assert_refused(TimelineEntry, "La date de l'étape ne peut pas être dans le futur.",
                   case_id="c" * 36, kind="note", date="2026-11-22")


@pytest.mark.parametrize("name", ["Du\x00pont", "Du\x1b[31mpont", "Du\x07pont", "Dupont\x7f"])
def test_control_characters_in_a_name(name):
    assert_refused(Pupil, "Le texte contient des caractères de contrôle invisibles.", **{**PUPIL, "last_name": name})


def test_control_characters_in_a_text():
    assert_refused(Case, "caractères de contrôle", **{**CASE, "description": "Lecture\x1b[2J lente"})


def test_text_keeps_line_breaks_including_windows_ones():
    assert Case(**{**CASE, "description": "Ligne 1\n\tLigne 2"}).description == "Ligne 1\n\tLigne 2"
    # Pasted from a Windows program: CRLF becomes a plain line break, not a refusal.
    assert Case(**{**CASE, "description": "Ligne 1\r\nLigne 2\r"}).description == "Ligne 1\nLigne 2"


def test_names_are_tidied_and_keep_accents_hyphens_apostrophes():
    pupil = Pupil(**{**PUPIL, "last_name": "  N'Diaye-Lefèvre  ", "first_name": "Zoé\u00a0 Marie"})
    assert pupil.last_name == "N'Diaye-Lefèvre"
    assert pupil.first_name == "Zoé Marie"
    assert_refused(Pupil, "Ce nom est obligatoire.", **{**PUPIL, "first_name": "   "})
    assert_refused(Pupil, "Ce nom dépasse 100 caractères.", **{**PUPIL, "first_name": "A" * 101})


def test_member_dates():
    assert_refused(Member, "La fin de fonction précède le début.", last_name="A", first_name="B",
                   role="maitre_g", active_from="2026-09-01", active_to="2026-08-31")
    member = Member(last_name="A", first_name="B", role="maitre_g", active_from="2026-09-01",
                    active_to="2027-07-04")
    assert member.is_active_on(date(2026, 9, 1)) and member.is_active_on(date(2027, 7, 4))
    assert not member.is_active_on(date(2027, 7, 5)) and not member.is_active_on(date(2026, 8, 31))


def test_period_rules():
    base = {"school_year": "2026-2027", "number": 1, "start_date": "2026-09-01", "end_date": "2026-10-16"}
    Period(**base)
    assert_refused(Period, "La fin de la période précède son début.", **{**base, "end_date": "2026-08-31"})
    assert_refused(Period, "dans l'année scolaire 2026-2027", **{**base, "start_date": "2027-09-01",
                                                                   "end_date": "2027-10-01"})
    assert_refused(Period, "n'est pas une année scolaire", **{**base, "school_year": "2026"})
    assert_refused(Period, "Période : doit être au plus 5", **{**base, "number": 6})


# -- french_messages on pydantic's own errors ----------------------------------------------------


def test_missing_field_gives_its_title():
    messages = errors_of(Pupil, last_name="Dupré", first_name="Hélène")
    assert messages == ["Date de naissance : ce champ est obligatoire"]


def test_bad_date_gives_its_title():
    assert errors_of(Pupil, **{**PUPIL, "birth_date": [2019, 3, 14]}) == [
        "Date de naissance : date invalide (JJ/MM/AAAA)"]


def test_impossible_date_in_a_model_is_french():
    assert errors_of(Pupil, **{**PUPIL, "birth_date": "31/02/2019"}) == [
        "Le 31/02/2019 n'existe pas dans le calendrier."]


def test_pydantic_errors_never_leak_english():
    english = ("should", "Input", "must", "required", "Datetimes", "Extra inputs", "error")
    cases = [
        (Pupil, {**PUPIL, "birth_date": 12}),                 # a number for a date
        (Pupil, {**PUPIL, "birth_date": 1.5}),
        (Case, {**CASE, "levels": "CP"}),                     # a string for a list
        (Case, {**CASE, "urgent": "peut-être"}),
        (Member, {"last_name": "A", "first_name": "B", "role": "chef", "active_from": "2026-09-01"}),
        (Aid, {**AID, "sessions_per_week": 0}),
        (Aid, {**AID, "expected_weeks": "beaucoup"}),
        (School, {"uai": "0761234D", "name": "École", "kind": "primaire", "couleur": "bleu"}),
        (Case, {**CASE, "pupil": {"last_name": "A"}}),       # nested model, missing fields
    ]
    for model, fields in cases:
        messages = errors_of(model, **fields)
        assert messages, (model, fields)
        for message in messages:
            assert not any(word in message for word in english), (model, fields, message)


def test_titles_come_with_pydantic_errors():
    assert errors_of(Member, last_name="A", first_name="B", role="chef", active_from="2026-09-01") == [
        "Fonction : valeur inconnue"]
    assert errors_of(Aid, **{**AID, "sessions_per_week": 0}) == ["Séances par semaine : doit être supérieur à 0"]


def test_french_messages_without_model_gives_bare_text():
    with pytest.raises(ValidationError) as caught:
        Pupil(last_name="A", first_name="B")
    assert french_messages(caught.value) == ["ce champ est obligatoire"]


# -- fold and labels -----------------------------------------------------------------------------


def test_fold():
    assert fold("Hélène  DUPRÉ") == "helene dupre"
    assert fold("  Zoé\tN'Diaye-Çelik ") == "zoe n'diaye-celik"
    assert fold("") == ""


def test_labelled_enums():
    assert Role.PSYCHOLOGUE.label == "Psychologue de l'Éducation nationale"
    assert Role.PSYCHOLOGUE == "psychologue"  # the stored code
    assert Role("maitre_e") is Role.MAITRE_E
    assert Role.from_label("Maître G (aide à dominante rééducative)") is Role.MAITRE_G
    with pytest.raises(ValueError):
        Role.from_label("Maître Z")
    assert CaseStatus.CLASSEE_SANS_SUITE.label == "Classée sans suite"
    assert EntryKind.REPORT.label == "Report sur l'année suivante"
    assert Role.MAITRE_E.is_rased and not Role.CPC.is_rased
    assert AidKind.PSY.role is Role.PSYCHOLOGUE
    assert [level.cycle for level in ClassLevel] == [1, 1, 1, 1, 2, 2, 2, 3, 3]


def test_every_labelled_enum_member_has_a_french_label():
    for enum in LabelledEnum.__subclasses__():
        labels = [member.label for member in enum]
        assert all(isinstance(label, str) and label.strip() for label in labels), enum
        assert len(set(labels)) == len(labels), enum  # from_label must be unambiguous


def test_custom_error_kinds_are_not_pydantic_ones():
    """french_messages() rewrites pydantic's own error types: a custom refusal named like one
    (as 'date_future' once was) would lose its French sentence."""
    import inspect
    import re
    import typing

    from pydantic_core.core_schema import ErrorType

    from rased_tui.domain import models

    kinds = set(re.findall(r'_error\(\s*"([a-z_]+)"', inspect.getsource(models)))
    assert len(kinds) > 20
    assert kinds.isdisjoint(typing.get_args(ErrorType)), kinds & set(typing.get_args(ErrorType))

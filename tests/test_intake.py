"""The intake form "Nouvelle demande" (screens/intake.py), driven through Textual's Pilot.

Each test runs one app and opens the form several times where it can: starting an app costs
more than a scenario.
"""

from __future__ import annotations

from datetime import date

from textual.widgets import Input, Label, RadioButton, Select, SelectionList, Static, TextArea

from rased_tui.app import RasedApp
from rased_tui.domain.enums import (
    CaseStatus,
    ClassLevel,
    Dispositif,
    Motif,
    PriorAction,
    Requester,
    SchoolKind,
    SubjectKind,
)
from rased_tui.domain.filters import CaseFilter
from rased_tui.domain.models import Case, Pupil, School
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.help import HelpScreen
from rased_tui.screens.intake import IntakeScreen, SchoolDialog
from rased_tui.store import Store

UAI = "0761234D"


def new_store(tmp_path) -> tuple[Store, School]:
    store = Store.open(tmp_path / "x.db")
    school = store.add_school(School(uai=UAI, name="École Jules-Ferry", commune="Rouen", kind="elementaire"))
    return store, school


async def open_form(app: RasedApp, pilot, case: Case | None = None) -> tuple[IntakeScreen, list]:
    results: list = []
    app.push_screen(IntakeScreen(case), results.append)
    await pilot.pause()
    assert isinstance(app.screen, IntakeScreen)
    return app.screen, results


def fill(screen: IntakeScreen, **values) -> None:
    """Set fields by id (underscores for dashes): str for Input/TextArea, values for Select,
    lists for SelectionList (checked in that order)."""
    for key, value in values.items():
        widget = screen.query_one(f"#{key.replace('_', '-')}")
        if isinstance(widget, SelectionList):
            widget.deselect_all()
            for item in value:
                widget.select(item)
        elif isinstance(widget, TextArea):
            widget.text = value
        else:
            widget.value = value


def fill_pupil_request(screen: IntakeScreen, school: School, **overrides) -> None:
    values = dict(
        school=school.id, requester=Requester.ENSEIGNANT, last_name="Dupré", first_name="Hélène",
        birth_date="14/03/2019", level=ClassLevel.CE1, pupil_teacher="Mme Martin",
        motifs=[Motif.LECTURE], description="Déchiffrage lent, compréhension fragile.",
    )
    fill(screen, **{**values, **overrides})


async def choose_kind(screen: IntakeScreen, pilot, kind: SubjectKind) -> None:
    if screen.subject_kind is kind:
        return
    screen.query_one(f"#kind-{kind.value}", RadioButton).value = True
    await pilot.pause()
    assert screen.subject_kind is kind


def error_of(screen: IntakeScreen, field: str) -> str:
    label = screen.query_one(f"#{field}-error", Label)
    return str(label.render()) if label.display else ""


def shown(screen, widget_id: str) -> str:
    widget = screen.query_one(f"#{widget_id}", Static)
    return str(widget.render()) if widget.display else ""


RULES = [
    (SubjectKind.ELEVE, {"description": "   "}, "description",
     "La description factuelle des difficultés est obligatoire."),
    (SubjectKind.ELEVE, {"motifs": []}, "motifs", "Choisissez au moins un motif."),
    (SubjectKind.ELEVE, {"motifs": [Motif.AUTRE]}, "other-motif", "Précisez le motif « autre »."),
    (SubjectKind.ELEVE, {"prior_actions": [PriorAction.AUTRE]}, "prior-detail", "Précisez l'action « autre »."),
    (SubjectKind.ELEVE, {"birth_date": "01/01/2027"}, "birth-date",
     "La date de naissance ne peut pas être dans le futur."),
    (SubjectKind.ELEVE, {"birth_date": "14/03/2019", "sent": "01/03/2019", "received": "01/03/2019"},
     "birth-date", "La demande est datée d'avant la naissance de l'élève."),
    (SubjectKind.ELEVE, {"birth_date": "31/12/1985"}, "birth-date",
     "Cette date de naissance est trop ancienne pour un élève du premier degré."),
    (SubjectKind.ELEVE, {"birth_date": "2019-13-01"}, "birth-date",
     "Le 2019-13-01 n'existe pas dans le calendrier."),
    (SubjectKind.ELEVE, {"sent": "10/11/2026", "received": "09/11/2026"}, "received",
     "La date de réception précède la date d'envoi."),
    (SubjectKind.ELEVE, {"sent": "31/02/2026"}, "sent", "Le 31/02/2026 n'existe pas dans le calendrier."),
    (SubjectKind.ELEVE, {"sent": "hier"}, "sent", "« hier » n'est pas une date au format JJ/MM/AAAA."),
    (SubjectKind.ELEVE, {"sent": ""}, "sent", "La date d'envoi est obligatoire."),
    (SubjectKind.ELEVE, {"sent": "22/11/2026", "received": ""}, "sent",
     "La date d'envoi ne peut pas être dans le futur."),
    (SubjectKind.ELEVE, {"parents_informed": "32/01/2026"}, "parents-informed",
     "Le 32/01/2026 n'existe pas dans le calendrier."),
    (SubjectKind.ELEVE, {"school": Select.NULL}, "school", "Choisissez l'école (ou ajoutez-la : ctrl+n)."),
    (SubjectKind.ELEVE, {"requester": Select.NULL}, "requester", "Choisissez le demandeur."),
    (SubjectKind.ELEVE, {"last_name": ""}, "last-name", "Le nom de l'élève est obligatoire."),
    (SubjectKind.ELEVE, {"first_name": " "}, "first-name", "Le prénom de l'élève est obligatoire."),
    (SubjectKind.ELEVE, {"level": Select.NULL}, "level", "Choisissez le niveau de classe de l'élève."),
    (SubjectKind.EQUIPE, {}, "team-reference", "Indiquez la référence de l'équipe d'école."),
    (SubjectKind.CLASSE, {"teacher_name": "M. Leroy"}, "levels", "Cochez le ou les niveaux de la classe."),
    (SubjectKind.ENSEIGNANT, {}, "teacher-name", "Indiquez le nom de l'enseignant·e."),
]

# Every field a rule may change, at a valid value: reset before each rule.
BASELINE = dict(sent="21/11/2026", received="21/11/2026", parents_informed="", prior_actions=[],
                prior_detail="", other_motif="", teacher_name="", team_reference="", levels=[])


async def test_empty_form_then_every_rule_says_what_is_wrong_and_writes_nothing(tmp_path):
    store, school = new_store(tmp_path)
    with store:
        before = store.counts()
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen, results = await open_form(app, pilot)
            assert screen.query_one("#sent", Input).value == "21/11/2026"
            assert screen.query_one("#received", Input).value == "21/11/2026"
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen and results == []
            assert error_of(screen, "school") == "Choisissez l'école (ou ajoutez-la : ctrl+n)."
            assert error_of(screen, "requester") == "Choisissez le demandeur."
            assert error_of(screen, "last-name") == "Le nom de l'élève est obligatoire."
            assert error_of(screen, "first-name") == "Le prénom de l'élève est obligatoire."
            assert error_of(screen, "birth-date") == "La date de naissance est obligatoire."
            assert error_of(screen, "level") == "Choisissez le niveau de classe de l'élève."
            assert error_of(screen, "motifs") == "Choisissez au moins un motif."
            assert error_of(screen, "description") == "La description factuelle des difficultés est obligatoire."
            assert error_of(screen, "sent") == ""
            assert "8 erreurs" in shown(screen, "form-errors")
            assert app.focused is screen.query_one("#school")
            assert any(n.severity == "error" for n in app._notifications)

            for kind, changes, field, message in RULES:  # each from a valid form, on the same screen
                await choose_kind(screen, pilot, SubjectKind.ELEVE)
                fill(screen, **BASELINE)
                fill_pupil_request(screen, school)
                await choose_kind(screen, pilot, kind)
                fill(screen, **changes)
                screen.action_save()  # what ctrl+s does; it reads the widgets, not their messages
                assert results == [] and app.screen is screen, (changes, "was saved")
                assert error_of(screen, field) == message, changes
                assert message in shown(screen, "form-errors"), changes
                assert list(screen._errors) == [field], (changes, screen._errors)
        assert store.counts() == before


async def test_pupil_request_saves_numbered_round_trips_and_edits(tmp_path):
    store, school = new_store(tmp_path)
    with store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen, results = await open_form(app, pilot)
            fill_pupil_request(
                screen, school, sent="05/11/2026", received="07/11/2026", requester=Requester.CONSEIL_CYCLE,
                urgent=True, dispositif=Dispositif.UPE2A.value, handicap="oui", aesh="non",
                motifs=[Motif.ATTENTION, Motif.LECTURE, Motif.AUTRE], other_motif="Absences répétées",
                prior_actions=[PriorAction.APC, PriorAction.AUTRE], prior_detail="Tutorat",
                parents_informed="10/11/2026")
            await pilot.pause()
            assert "Motif principal : Attention" in shown(screen, "main-motif")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert results and isinstance(results[0], Case)
            assert not isinstance(app.screen, IntakeScreen)
            saved = results[0]
            assert saved.number == "2026-0001"
            assert store.case_status(saved.id) is CaseStatus.RECUE
            case = store.get_case(saved.id)
            assert case.subject_kind is SubjectKind.ELEVE
            assert (case.pupil.last_name, case.pupil.first_name, case.pupil.birth_date) == (
                "Dupré", "Hélène", date(2019, 3, 14))
            assert case.levels == [ClassLevel.CE1] and case.dispositif is Dispositif.UPE2A
            assert case.handicap is True and case.aesh is False and case.urgent is True
            assert case.teacher_name == "Mme Martin" and case.school_id == school.id
            assert case.requester is Requester.CONSEIL_CYCLE
            assert (case.date_sent, case.date_received, case.parents_informed_on) == (
                date(2026, 11, 5), date(2026, 11, 7), date(2026, 11, 10))
            assert case.motifs == [Motif.ATTENTION, Motif.LECTURE, Motif.AUTRE]
            assert case.main_motif is Motif.ATTENTION and case.other_motif == "Absences répétées"
            assert {(item.action, item.detail) for item in case.prior_actions} == {
                (PriorAction.APC, ""), (PriorAction.AUTRE, "Tutorat")}
            assert case.description == "Déchiffrage lent, compréhension fragile."

            # e: the same form, loaded from the database
            screen, results = await open_form(app, pilot, case)
            assert "Modifier la demande 2026-0001" in shown(screen, "intake-title")
            assert screen.query_one("#last-name", Input).value == "Dupré"
            assert screen.query_one("#birth-date", Input).value == "14/03/2019"
            assert screen.query_one("#received", Input).value == "07/11/2026"
            assert screen.query_one("#level", Select).value is ClassLevel.CE1
            assert screen.query_one("#dispositif", Select).value == "upe2a"
            assert screen.query_one("#handicap", Select).value == "oui"
            assert screen.query_one("#aesh", Select).value == "non"
            assert screen.query_one("#motifs", SelectionList).selected == [Motif.ATTENTION, Motif.LECTURE,
                                                                         Motif.AUTRE]
            assert screen.query_one("#prior-detail", Input).value == "Tutorat"
            assert screen.query_one("#description", TextArea).text == case.description
            assert shown(screen, "pupil-status") == ""  # its own pupil is not "already known"
            assert not screen.has_changes
            fill(screen, description="Progrès en lecture, attention encore fragile.")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert results and results[0].number == "2026-0001"
        edited = store.get_case(case.id)
        assert edited.number == "2026-0001"
        assert edited.description == "Progrès en lecture, attention encore fragile."
        assert edited.model_dump(exclude={"description"}) == case.model_dump(exclude={"description"})
        assert store.counts()["cases"] == 1


async def test_requests_for_a_team_a_class_and_a_teacher_save(tmp_path):
    store, school = new_store(tmp_path)
    with store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            for kind, fields, expected in [
                (SubjectKind.EQUIPE, {"team_reference": "Équipe du cycle 2"},
                 {"team_reference": "Équipe du cycle 2", "teacher_name": "", "levels": []}),
                (SubjectKind.CLASSE, {"teacher_name": "M. Leroy", "levels": [ClassLevel.CE1, ClassLevel.CP]},
                 {"teacher_name": "M. Leroy", "levels": [ClassLevel.CP, ClassLevel.CE1]}),
                (SubjectKind.ENSEIGNANT, {"teacher_name": "Mme Nguyen"}, {"teacher_name": "Mme Nguyen"}),
            ]:
                screen, results = await open_form(app, pilot)
                await choose_kind(screen, pilot, kind)
                assert not screen.query_one("#pupil-fields").display
                assert screen.query_one("#group-fields").display
                assert screen.query_one("#team-reference-row").display is (kind is SubjectKind.EQUIPE)
                assert screen.query_one("#teacher-name-row").display is (kind is not SubjectKind.EQUIPE)
                fill(screen, school=school.id, requester=Requester.CONSEIL_ECOLE, motifs=[Motif.COMPORTEMENT],
                     description="Climat de classe très tendu.", **fields)
                await pilot.press("ctrl+s")
                await pilot.pause()
                assert results and results[0] is not None, kind
                case = store.get_case(results[0].id)
                assert case.subject_kind is kind and case.pupil is None
                assert case.handicap is None and case.aesh is None and case.dispositif is None
                for name, value in expected.items():
                    assert getattr(case, name) == value
        assert store.counts()["pupils"] == 0 and store.counts()["cases"] == 3


async def test_known_pupil_reused_homonym_is_another_pupil_and_age_warns(tmp_path):
    store, school = new_store(tmp_path)
    with store:
        earlier = store.add_case(Case(
            subject_kind="eleve", pupil=Pupil(last_name="Dupré", first_name="Hélène", birth_date="2019-03-14"),
            levels=["CP"], school_id=school.id, requester="enseignant", date_sent="2025-10-06",
            description="Entrée dans la lecture difficile.", motifs=["lecture"]))
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            # the same pupil, name typed without accents and in capitals
            screen, results = await open_form(app, pilot)
            fill_pupil_request(screen, school, last_name="DUPRE", first_name="helene")
            await pilot.pause()
            status = shown(screen, "pupil-status")
            assert "Élève déjà connu·e" in status and "Hélène Dupré" in status
            assert f"{earlier.number} du 06/10/2025 — Reçue" in status
            await pilot.press("ctrl+s")
            await pilot.pause()
            reused = store.get_case(results[0].id)
            assert reused.pupil.id == earlier.pupil.id
            assert reused.pupil.last_name == "Dupré"  # as recorded, not as typed this time
            assert store.counts()["pupils"] == 1
            assert [c.number for c in store.cases_of_pupil(earlier.pupil.id)] == ["2025-0001", "2026-0001"]

            # a homonym born another day; and CP at 10 years old: a warning, not a refusal
            screen, results = await open_form(app, pilot)
            fill_pupil_request(screen, school, birth_date="02/01/2016", level=ClassLevel.CP)
            await pilot.pause()
            status = shown(screen, "pupil-status")
            assert "Homonyme : autre élève (né·e le 14/03/2019)" in status and "déjà connu" not in status
            assert "Âge inhabituel pour CP : 10 ans au 31/12/2026 (attendu : 6 ans)" in shown(
                screen, "level-warning")
            fill(screen, level=ClassLevel.CM2)  # 10 years: as expected
            await pilot.pause()
            assert shown(screen, "level-warning") == ""
            fill(screen, level=ClassLevel.CM1)  # one year off (held back): no warning either
            await pilot.pause()
            assert shown(screen, "level-warning") == ""
            fill(screen, level=ClassLevel.CP)
            await pilot.pause()
            assert shown(screen, "level-warning")
            await pilot.press("ctrl+s")
            await pilot.pause()
            homonym = store.get_case(results[0].id)
            assert homonym.pupil.id != earlier.pupil.id and homonym.levels == [ClassLevel.CP]
            assert store.counts()["pupils"] == 2


async def test_escape_closes_at_once_when_unchanged_and_asks_after_a_change(tmp_path):
    store, school = new_store(tmp_path)
    with store:
        before = store.counts()
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen, results = await open_form(app, pilot)
            await pilot.press("escape")
            await pilot.pause()
            assert results == [None] and not isinstance(app.screen, (IntakeScreen, ConfirmDialog))

            screen, results = await open_form(app, pilot)
            await pilot.press("tab", "tab")  # to the school list, with the keyboard alone
            assert app.focused is screen.query_one("#school")
            await pilot.press("enter", "down", "enter")  # open it and pick the first school
            await pilot.pause()
            assert screen.query_one("#school", Select).value == school.id
            assert screen.has_changes
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmDialog)
            assert "Abandonner la saisie ? Les modifications seront perdues." in str(
                app.screen.query_one("#confirm-question", Static).render())
            await pilot.press("n")
            await pilot.pause()
            assert app.screen is screen and results == []
            await pilot.press("escape")
            await pilot.pause()
            await pilot.press("o")
            await pilot.pause()
            assert results == [None] and not isinstance(app.screen, (IntakeScreen, ConfirmDialog))
        assert store.counts() == before


async def test_a_school_added_on_the_spot_is_selected_and_help_describes_the_form(tmp_path):
    store, _ = new_store(tmp_path)
    with store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen, _ = await open_form(app, pilot)
            await pilot.press("ctrl+n")
            await pilot.pause()
            dialog = app.screen
            assert isinstance(dialog, SchoolDialog)
            fill(dialog, school_uai="0761235A", school_name="École Pasteur", school_commune="Déville",
                 school_kind=SchoolKind.MATERNELLE)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is dialog
            assert "La lettre clé du code UAI 0761235 est E, pas A." in str(
                dialog.query_one("#school-errors", Static).render())
            fill(dialog, school_uai=UAI)  # already taken
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert "Une école porte déjà ce code UAI." in str(dialog.query_one("#school-errors", Static).render())
            fill(dialog, school_uai="0761235e")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen
            added = next(s for s in store.list_schools() if s.uai == "0761235E")
            assert added.name == "École Pasteur" and added.kind is SchoolKind.MATERNELLE
            assert screen.query_one("#school", Select).value == added.id

            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            assert "motif principal" in app.screen._screen_help


async def test_fits_80_by_24_moves_by_tab_and_checks_a_field_on_leaving_it(tmp_path):
    store, _ = new_store(tmp_path)
    with store:
        app = RasedApp(store)
        async with app.run_test(size=(80, 24)) as pilot:
            screen, _ = await open_form(app, pilot)
            sent = screen.query_one("#sent")
            assert app.focused is sent
            assert 0 < sent.region.y < 23 and sent.region.right <= 80
            footer = screen.query_one("Footer")
            assert footer.region.y == 23 and footer.region.height == 1

            await pilot.press("ctrl+u", *"31/02/2026")  # ctrl+u clears the input
            assert error_of(screen, "sent") == ""
            await pilot.press("tab")
            assert app.focused is screen.query_one("#received")
            assert error_of(screen, "sent") == "Le 31/02/2026 n'existe pas dans le calendrier."
            await pilot.press("shift+tab", "ctrl+u", *"20/11/2026")
            assert error_of(screen, "sent") == ""  # fixed as it is typed
            assert screen.query_one("#received", Input).value == "20/11/2026"  # follows the sending date
            assert app.focused is sent

            # tab goes from field to field in the order of the form, hidden fields skipped
            assert [widget.id for widget in screen.focus_chain] == [
                "sent", "received", "school", "add-school", "requester", "urgent", "subject-kind",
                "last-name", "first-name", "birth-date", "level", "dispositif", "pupil-teacher", "handicap",
                "aesh", "motifs", "description", "prior-actions", "parents-informed"]
            for widget in screen.focus_chain:
                assert widget.region.height > 0 and widget.region.right <= 78, widget.id  # laid out, not cut
            description = screen.query_one("#description")
            assert description.region.y >= 23  # below the fold
            screen.query_one("#motifs").focus()
            await pilot.press("tab")
            await pilot.pause()
            assert app.focused is description  # scrolled to, on screen, above the footer
            assert 0 < description.region.y and description.region.bottom <= 23


async def test_read_only_base_refuses_the_form(tmp_path):
    Store.open(tmp_path / "x.db").close()
    with Store.open(tmp_path / "x.db", read_only=True) as store:
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            results: list = []
            app.push_screen(IntakeScreen(), results.append)
            await pilot.pause()
            assert results == [None] and not isinstance(app.screen, IntakeScreen)
            assert any("lecture seule" in str(n.message) for n in app._notifications)


def pseudonymised_case(tmp_path) -> tuple[Store, Case]:
    """A case exported pseudonymised from another base and imported into a new one: its pupil
    is known by a pseudonym, with no birth date."""
    from rased_tui.exchange.export import ExportOptions, export_bundle
    from rased_tui.exchange.importer import import_bundle

    origin, school = new_store(tmp_path)
    with origin:
        origin.add_case(Case(subject_kind="eleve", pupil=Pupil(last_name="Dupré", first_name="Hélène",
                                                               birth_date="2019-03-14"),
                             levels=["CE1"], school_id=school.id, requester="enseignant", teacher_name="Mme Martin",
                             date_sent="2026-10-05", description="Déchiffrage lent.", motifs=["lecture"]))
        key = tmp_path / "cle"
        key.mkdir()  # the destination must exist
        bundle = export_bundle(origin, key, ExportOptions()).path
    import_bundle(tmp_path / "ien.db", bundle)
    store = Store.open(tmp_path / "ien.db")
    [case] = [store.get_case(row["id"]) for row in store.case_page(CaseFilter(school_year="2026-2027"), 0, 10)]
    return store, case


async def test_an_imported_pseudonymous_pupil_is_kept_without_a_birth_date(tmp_path):
    store, case = pseudonymised_case(tmp_path)
    pupil = case.pupil
    assert pupil.pseudonymous and pupil.birth_date is None and pupil.first_name == "Élève"
    assert pupil.last_name.startswith("ELV-")
    with store:
        pupils_before = store.counts()["pupils"]
        app = RasedApp(store)
        async with app.run_test(size=(120, 40)) as pilot:
            screen, results = await open_form(app, pilot, case)
            assert screen.query_one("#last-name", Input).value == pupil.last_name
            assert screen.query_one("#birth-date", Input).value == ""
            assert "élève connu par son pseudonyme (identité restée à l'antenne)" in \
                shown(screen, "pupil-status").lower()
            # a name changed: a new identity, which needs its birth date
            fill(screen, last_name="Dupont")
            await pilot.pause()
            assert shown(screen, "pupil-status") == ""
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert results == [] and error_of(screen, "birth-date") == "La date de naissance est obligatoire."
            # the pseudonym put back: saved, the same pupil, still without a birth date
            fill(screen, last_name=pupil.last_name, description="Progrès en lecture.")
            await pilot.pause()
            assert error_of(screen, "birth-date") == ""
            assert "pseudonyme" in shown(screen, "pupil-status")
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert results and results[0].id == case.id
            assert not isinstance(app.screen, IntakeScreen)
        edited = store.get_case(case.id)
        assert edited.description == "Progrès en lecture."
        assert edited.pupil == pupil  # same id, pseudonym, no birth date
        assert store.counts()["pupils"] == pupils_before

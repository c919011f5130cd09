"""The pupil's file for the family (exchange/parents_access.py): what it holds and what it never
holds, the file it writes, the `dossier` command, and `x` on the case screen."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from datetime import date

import pytest
from textual.widgets import Input

from rased_tui.cli import main
from rased_tui.domain.enums import EntryKind
from rased_tui.domain.models import Aid, AidEvaluation, Case, Meeting, Pupil, TimelineEntry
from rased_tui.exchange.parents_access import (
    OTHER_CHILD_MARK,
    SHARED_TEXT_MARK,
    FileAlreadyThere,
    OtherChildren,
    ParentsAccessError,
    build_document,
    escape,
    find_pupil,
    of_name,
    write_document,
    write_into_folder,
)
from rased_tui.screens.case import CaseScreen
from rased_tui.screens.confirm import ConfirmDialog
from rased_tui.screens.parents_access import ParentsAccessDialog
from rased_tui.store import Store
from tests.pilot import new_app

DAY = date(2026, 11, 21)
SIZE = (120, 40)
POSIX = os.name == "posix"
SECRET = "Confidentiel : la psychologue note une séparation difficile des parents."
SHARED = "Animation pédagogique pour trois écoles, dont la classe de Zoé Petit."
MEETING_NOTES = "Réunion : Zoé Petit et Lucas Martin évoqués, situation de la famille Petit."
OTHER_CASE_TEXT = "Lucas Martin bouscule ses camarades dans la cour."
CLASS_CASE_TEXT = "Classe de CE1 agitée : Zoé Petit et trois autres élèves."


@dataclass
class Base:
    helene: Case
    lucas: Case
    zoe: Case
    class_case: Case


@pytest.fixture
def base(store, make_school, make_member, make_pupil_case) -> Base:
    """Hélène Dupré's case with its official steps, a confidential note, a shared action, a
    meeting with notes, an aid and its evaluations; two other pupils and a class case."""
    store.set_setting("circonscription", "Rouen Nord")
    store.set_setting("antenne", "RASED de Maromme")
    school = store.add_school(make_school(name="École Jules-Ferry"))
    maitre_e = store.add_member(make_member(last_name="Lefèvre", first_name="Anne", role="maitre_e"))
    psy = store.add_member(make_member(last_name="Bernard", first_name="Claire", role="psychologue"))
    helene = store.add_case(make_pupil_case(school.id, handicap=False, aesh=False,
                                            description="Lecture hésitante ; s'assoit près de Lucas Martin."))
    lucas = store.add_case(make_pupil_case(school.id, {"last_name": "Martin", "first_name": "Lucas",
                                                       "birth_date": "2019-01-02"}, description=OTHER_CASE_TEXT))
    zoe = store.add_case(make_pupil_case(school.id, {"last_name": "Petit", "first_name": "Zoé",
                                                     "birth_date": "2018-06-07"}))
    class_case = store.add_case(Case(subject_kind="classe", teacher_name="Mme Martin", levels=["CE1"],
                                     school_id=school.id, requester="enseignant", date_sent="2026-10-05",
                                     description=CLASS_CASE_TEXT, motifs=["comportement"]))
    meeting = store.add_meeting(Meeting(school_year="2026-2027", period_number=1, date="2026-10-15",
                                        notes=MEETING_NOTES))

    def step(case: Case, kind: EntryKind, day: str, **fields) -> TimelineEntry:
        return store.add_entry(TimelineEntry(case_id=case.id, kind=kind, date=day, **fields))

    step(helene, EntryKind.ANALYSE, "2026-10-15", text="Problématique : entrée dans l'écrit.",
         meeting_id=meeting.id, member_ids=[maitre_e.id, psy.id], aids_called=["E"])
    step(helene, EntryKind.NOTE, "2026-10-16", text=SECRET, confidential=True, author_member_id=psy.id)
    step(helene, EntryKind.NOTE, "2026-10-17", text="Rencontre avec la mère ; ZOÉ PETIT est sa voisine.",
         member_ids=[maitre_e.id])
    for case in (helene, class_case):
        step(case, EntryKind.SECONDE_INTENTION, "2026-10-20", sub_kind="formation_ciblee", action_id="a" * 36,
             text=SHARED)
    aid = Aid(case_id=helene.id, member_id=maitre_e.id, kind="E", modality="petit_groupe", sessions_per_week=2,
              objectives="Décoder les syllabes complexes.", start_date="2026-10-22", expected_weeks=10,
              consent_status="donne", consent_form="oral", consent_date="2026-10-21", consent_by="La mère")
    store.open_aid(aid, TimelineEntry(case_id=helene.id, kind=EntryKind.SECONDE_INTENTION,
                                      sub_kind="aide_specialisee", date="2026-10-22", member_ids=[maitre_e.id]))
    store.add_evaluation(AidEvaluation(aid_id=aid.id, date="2026-10-23", phase="debut", score=3,
                                       observations="Déchiffre lentement les mots de deux syllabes."))
    step(helene, EntryKind.BILAN, "2026-11-18", text="Bilan : progrès nets en décodage.", aid_id=aid.id)
    return Base(helene, lucas, zoe, class_case)


def document_of(store: Store, base: Base) -> str:
    return build_document(store, base.helene.pupil, DAY).markdown


# -- what the document holds --------------------------------------------------------------------


def test_the_document_holds_the_identity_and_the_official_entries(store, base):
    text = document_of(store, base)
    assert text.startswith("# Dossier RASED de Hélène Dupré\n")
    assert "Document établi le 21/11/2026" in text
    assert "circonscription Rouen Nord — antenne RASED de Maromme" in text
    for expected in ("- **Nom** : Dupré", "- **Prénom** : Hélène", "- **Date de naissance** : 14/03/2019",
                     f"## Demande d'aide n° {base.helene.number} (année scolaire 2026-2027)",
                     "- **Demande envoyée le** : 05/10/2026", "- **Enseignant·e** : Mme Martin",
                     "- **École** : École Jules-Ferry (Rouen)", "- **Motifs** : Difficultés en lecture",
                     "- **Élève en situation de handicap** : non",
                     "**15/10/2026 — Première analyse** — réunion du pôle ressource du 15/10/2026 "
                     "(Claire Bernard, psychologue ; Anne Lefèvre, maître E)",
                     "Problématique : entrée dans l'écrit.",
                     "Aides du RASED demandées : aide à dominante pédagogique (E).",
                     "Rencontre avec la mère",
                     "#### Aide à dominante pédagogique (E), par Anne Lefèvre, maître E",
                     "- **Modalité** : Petit groupe, 2 séances par semaine",
                     "- **Accord de la famille** : donné oralement le 21/10/2026 (La mère)",
                     "- **Dates** : depuis le 22/10/2026, durée prévue 10 semaines",
                     "Décoder les syllabes complexes.",
                     "- 23/10/2026 (début, 3/10) : Déchiffre lentement les mots de deux syllabes.",
                     "**18/11/2026 — Bilan** — aide à dominante pédagogique (E)",
                     "Bilan : progrès nets en décodage."):
        assert expected in text, expected


def test_no_confidential_note_nor_other_child_ever_shows(store, base):
    document = build_document(store, base.helene.pupil, DAY)
    text = document.markdown
    for secret in (SECRET, "séparation", SHARED, MEETING_NOTES, OTHER_CASE_TEXT, CLASS_CASE_TEXT,
                   "Lucas", "Zoé", "ZOÉ", "famille Petit", base.lucas.number, base.zoe.number, base.class_case.number):
        assert secret not in text, secret
    assert "s'assoit près de [autre enfant]." in text
    assert f"Rencontre avec la mère ; {OTHER_CHILD_MARK} est sa voisine." in text
    assert SHARED_TEXT_MARK in text
    assert "certains éléments ont été retirés" in text
    assert "audit" not in text.lower() and "journal d" not in text.lower()
    left_out = document.left_out
    assert (left_out.confidential_notes, left_out.shared_texts, left_out.other_children_names) == (1, 1, 2)
    assert left_out.summary() == ("Laissé de côté : 1 note confidentielle, 1 texte commun à plusieurs dossiers, "
                                  "2 noms d'autres enfants.")


def test_a_file_with_nothing_left_out_says_nothing_about_it(store, base):
    document = build_document(store, base.zoe.pupil, DAY)
    assert "certains éléments ont été retirés" not in document.markdown
    assert document.left_out.summary() == "Rien n'a été laissé de côté."
    assert "Hélène" not in document.markdown and "Lucas" not in document.markdown


def test_names_are_found_whole_never_a_single_word():
    own = Pupil(last_name="Dupré", first_name="Hélène", birth_date="2019-03-14")
    others = OtherChildren([("Martin", "Lucas"), ("N'Diaye", "Marie-Lou"), ("Dupré", "Hélène")], own)
    text = "Mme Martin voit Lucas puis MARTIN Lucas, Marie-Lou N'DIAYE et Hélène Dupré."
    assert [text[start:end] for start, end in others.spans(text)] == ["MARTIN Lucas", "Marie-Lou N'DIAYE"]


def test_typed_texts_cannot_make_markdown():
    assert escape("# titre *gras* [lien](x) a|b") == "\\# titre \\*gras\\* \\[lien\\](x) a\\|b"
    assert escape("- tiret\n1. un\nle 1. reste") == "\\- tiret\n1\\. un\nle 1. reste"


def test_the_pupil_is_found_by_id_or_by_case_number(store, base):
    pupil = base.helene.pupil
    assert find_pupil(store, pupil.id).id == pupil.id
    assert find_pupil(store, base.helene.number).id == pupil.id
    with pytest.raises(ParentsAccessError, match="ne concerne pas un élève"):
        find_pupil(store, base.class_case.number)
    with pytest.raises(ParentsAccessError, match="aucun dossier n° 2026-9999"):
        find_pupil(store, "2026-9999")
    with pytest.raises(ParentsAccessError, match="aucun élève d'identifiant"):
        find_pupil(store, "inconnu")


# -- the file -----------------------------------------------------------------------------------


def test_the_file_is_private_and_never_written_over(store, base, tmp_path):
    tmp_path = tmp_path / "cle"
    tmp_path.mkdir()
    document = build_document(store, base.helene.pupil, DAY)
    target = write_document(document, tmp_path / "dossier.md")
    assert target.read_text(encoding="utf-8") == document.markdown
    if POSIX:
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
    target.write_text("autre chose", encoding="utf-8")
    with pytest.raises(FileAlreadyThere, match="existe déjà"):
        write_document(document, target)
    assert target.read_text(encoding="utf-8") == "autre chose"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dossier.md"]  # no hidden file left
    with pytest.raises(ParentsAccessError, match="n'existe pas"):
        write_document(document, tmp_path / "absent" / "dossier.md")


def test_a_folder_gets_a_free_name(store, base, tmp_path):
    document = build_document(store, base.helene.pupil, DAY)
    first = write_into_folder(document, tmp_path)
    second = write_into_folder(document, tmp_path)
    assert (first.name, second.name) == ("dossier-dupre-helene-2026-11-21.md", "dossier-dupre-helene-2026-11-21-2.md")


# -- the command line ---------------------------------------------------------------------------


def run(capsys, *arguments: str) -> tuple[int, str, str]:
    code = main(list(arguments))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_dossier_command_writes_the_file(store, base, db_path, tmp_path, capsys):
    store.close()
    before = db_path.read_bytes()
    out = tmp_path / "pour-la-famille.md"
    code, printed, err = run(capsys, "dossier", "--db", str(db_path), "--eleve", base.helene.number, "--out", str(out))
    assert (code, err) == (0, "")
    assert printed.splitlines() == [f"Dossier de Hélène Dupré écrit : {out} (laissé de côté : 1 note confidentielle, "
                                    "1 texte commun à plusieurs dossiers, 2 noms d'autres enfants) ; relisez-le "
                                    "avant de le remettre."]
    text = out.read_text(encoding="utf-8")
    assert "Problématique : entrée dans l'écrit." in text and SECRET not in text and "Lucas" not in text
    if POSIX:
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert db_path.read_bytes() == before  # opened read-only
    by_id = tmp_path / "par-identifiant.md"
    assert run(capsys, "dossier", "--db", str(db_path), "--eleve", base.helene.pupil.id, "--out", str(by_id))[0] == 0
    assert by_id.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("reference, message", [
    ("inconnu", "aucun élève d'identifiant « inconnu »"),
    ("2026-9999", "aucun dossier n° 2026-9999"),
])
def test_an_unknown_pupil_is_one_french_line(store, base, db_path, tmp_path, capsys, reference, message):
    store.close()
    out = tmp_path / "dossier.md"
    code, printed, err = run(capsys, "dossier", "--db", str(db_path), "--eleve", reference, "--out", str(out))
    assert code == 1 and printed == ""
    assert err.startswith("rased-tui : ") and message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_an_existing_out_file_is_refused(store, base, db_path, tmp_path, capsys):
    store.close()
    out = tmp_path / "dossier.md"
    out.write_text("à garder", encoding="utf-8")
    code, _, err = run(capsys, "dossier", "--db", str(db_path), "--eleve", base.helene.number, "--out", str(out))
    assert code == 1 and "existe déjà" in err and len(err.splitlines()) == 1
    assert out.read_text(encoding="utf-8") == "à garder"


def test_a_class_case_has_no_file_for_a_family(store, base, db_path, tmp_path, capsys):
    store.close()
    code, _, err = run(capsys, "dossier", "--db", str(db_path), "--eleve", base.class_case.number,
                       "--out", str(tmp_path / "dossier.md"))
    assert code == 1 and "ne concerne pas un élève" in err


# -- the case screen ----------------------------------------------------------------------------


async def test_x_on_the_case_screen_writes_the_file_also_read_only(store, base, db_path, tmp_path):
    tmp_path = tmp_path / "cle"
    tmp_path.mkdir()
    store.set_setting("export_folder", str(tmp_path))
    with Store.open(db_path, read_only=True) as reader:
        app = new_app(reader)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(CaseScreen(base.helene.id))
            await pilot.pause()
            screen = app.screen
            await pilot.press("x")
            await pilot.pause()
            assert isinstance(app.screen, ParentsAccessDialog)
            assert app.screen.query_one("#parents-access-folder", Input).value == str(tmp_path)
            await pilot.press("ctrl+s")
            await pilot.pause()
            assert app.screen is screen
            written = tmp_path / "dossier-dupre-helene-2026-11-21.md"
            assert any(f"Dossier pour la famille écrit : {written}." in note.message for note in app._notifications)
    text = written.read_text(encoding="utf-8")
    assert "# Dossier RASED de Hélène Dupré" in text and "Problématique : entrée dans l'écrit." in text
    assert SECRET not in text and "Lucas" not in text
    if POSIX:
        assert stat.S_IMODE(written.stat().st_mode) == 0o600


async def test_the_dialog_asks_for_an_existing_folder_and_a_class_case_has_none(store, base, tmp_path):
    app = new_app(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(CaseScreen(base.helene.id))
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#parents-access-folder", Input).value = str(tmp_path / "absent")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert "n'existe pas" in str(dialog.query_one("#parents-access-folder-error").render())
        await pilot.press("escape")  # the folder was typed: asked first whether to drop it
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        await pilot.press("escape")
        await pilot.pause()
        app.push_screen(CaseScreen(base.class_case.id))
        await pilot.pause()
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, CaseScreen)
        assert any("ne concerne pas un élève" in note.message for note in app._notifications)
    assert not any(path.name.startswith("dossier-") for path in tmp_path.iterdir())


def test_names_take_the_french_elision():
    assert of_name("Anaïs Aubert") == "d'Anaïs Aubert"
    assert of_name("Élodie Roy") == "d'Élodie Roy"
    assert of_name("Nour Huet") == "de Nour Huet"

"""Encrypted export bundles: round trips, wrong passphrases, altered or foreign files, passphrases."""

from __future__ import annotations

import io
import os
import time
import zipfile

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from rased_tui.exchange import sealed
from rased_tui.exchange.sealed import (
    SEALED_SUFFIX,
    SealError,
    check_passphrase,
    looks_sealed,
    passphrase_from_terminal,
    seal,
    unseal,
)

PASSPHRASE = "cerise verte sur le toit"
REAL_LOG2_N = sealed.SCRYPT_LOG2_N
FILES = {
    "manifest.json": b'{"format": 1, "circonscription": "Rouen Nord"}',
    "dossiers.csv": "\ufeffnom;prénom;école\nLefèvre;Hélène;École du Centre\n".encode("utf-8"),
    "aides.csv": "\ufeffdossier;aide\n1;maître E\n".encode("utf-8") * 1000,
    "vide.csv": b"",
}

# Offsets in the header: magic, then version, log2_n, r, p, salt (16), nonce (12).
VERSION_AT = len(sealed.MAGIC)
LOG2_N_AT, R_AT, P_AT = VERSION_AT + 1, VERSION_AT + 2, VERSION_AT + 3
SALT_AT = VERSION_AT + 4
NONCE_AT = SALT_AT + 16


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    """The lowest cost a file may carry, to keep the suite fast (one test uses the real one)."""
    monkeypatch.setattr(sealed, "SCRYPT_LOG2_N", 14)
    monkeypatch.delenv(sealed.PASSPHRASE_VARIABLE, raising=False)


@pytest.fixture(scope="module")
def bundle():
    original, sealed.SCRYPT_LOG2_N = sealed.SCRYPT_LOG2_N, 14
    try:
        return seal(FILES, PASSPHRASE)
    finally:
        sealed.SCRYPT_LOG2_N = original


def altered(data: bytes, at: int, value: int | None = None) -> bytes:
    """`data` with the byte at `at` set to `value`, or flipped."""
    new = data[at] ^ 0x01 if value is None else value
    return data[:at] + bytes([new]) + data[at + 1 :]


def refused(data: bytes, passphrase: str = PASSPHRASE) -> str:
    with pytest.raises(SealError) as caught:
        unseal(data, passphrase)
    return str(caught.value)


# Round trips


def test_round_trip_gives_the_same_files_in_the_same_order(bundle):
    opened = unseal(bundle, PASSPHRASE)
    assert opened == FILES
    assert list(opened) == list(FILES)


def test_round_trip_with_the_real_scrypt_cost(monkeypatch):
    monkeypatch.setattr(sealed, "SCRYPT_LOG2_N", REAL_LOG2_N)
    data = seal(FILES, PASSPHRASE)
    assert data[LOG2_N_AT] == 17
    assert unseal(data, PASSPHRASE) == FILES


def test_no_file_at_all_round_trips():
    assert unseal(seal({}, PASSPHRASE), PASSPHRASE) == {}


def test_two_seals_of_the_same_files_differ_but_both_open():
    first, second = seal(FILES, PASSPHRASE), seal(FILES, PASSPHRASE)
    assert first != second
    assert first[SALT_AT:NONCE_AT] != second[SALT_AT:NONCE_AT]
    assert unseal(first, PASSPHRASE) == unseal(second, PASSPHRASE) == FILES


def test_the_same_files_give_the_same_archive():
    assert sealed._zip(FILES) == sealed._zip(dict(FILES))


def test_looks_sealed_reads_only_the_magic_header(bundle):
    assert looks_sealed(bundle[:18]) and looks_sealed(bundle[:100])
    assert not looks_sealed(bundle[:17])
    for foreign in (b"", os.urandom(100), plain_zip(), "nom;prénom\n".encode()):
        assert not looks_sealed(foreign)


def test_header_layout(bundle):
    assert looks_sealed(bundle)
    assert bundle.startswith(b"RASED-TUI-CHIFFRE\n")
    assert bundle[VERSION_AT] == 1
    assert (bundle[LOG2_N_AT], bundle[R_AT], bundle[P_AT]) == (14, 8, 1)
    assert sealed.HEADER_LENGTH == NONCE_AT + 12
    assert SEALED_SUFFIX == ".rased"


def test_the_passphrase_is_compared_after_unicode_normalisation():
    composed = "phrase ébène très longue"
    data = seal(FILES, composed)
    assert unseal(data, "phrase e\u0301be\u0300ne tre\u0300s longue") == FILES


def test_the_whole_header_is_authenticated(bundle):
    header = bundle[: sealed.HEADER_LENGTH]
    key = sealed._derive_key(PASSPHRASE, bundle[SALT_AT:NONCE_AT], 14, 8, 1)
    nonce, ciphertext = bundle[NONCE_AT : sealed.HEADER_LENGTH], bundle[sealed.HEADER_LENGTH :]
    assert AESGCM(key).decrypt(nonce, ciphertext, header)
    with pytest.raises(InvalidTag):
        AESGCM(key).decrypt(nonce, ciphertext, None)


# Wrong passphrase, altered files


def test_wrong_passphrase(bundle):
    message = refused(bundle, "cerise verte sur le toît")
    assert message == "Phrase de passe incorrecte, ou fichier chiffré altéré : rien n'a été importé."


def test_empty_passphrase_on_opening(bundle):
    assert "phrase de passe" in refused(bundle, "")


@pytest.mark.parametrize(
    "at, value",
    [(-1, None), (-20, None), (sealed.HEADER_LENGTH, None), (SALT_AT, None), (NONCE_AT - 1, None),
     (NONCE_AT, None), (LOG2_N_AT, 15), (R_AT, 9), (P_AT, 2)],
    ids=["tag", "ciphertext end", "ciphertext start", "salt", "salt end", "nonce", "log2_n", "r", "p"],
)
def test_one_altered_byte_is_detected(bundle, at, value):
    assert refused(altered(bundle, at % len(bundle), value)).startswith("Phrase de passe incorrecte, ou fichier chiffré altéré")


@pytest.mark.parametrize("keep", [-1, -16, -100, sealed.HEADER_LENGTH + 16, sealed.HEADER_LENGTH + 15, sealed.HEADER_LENGTH, 10])
def test_truncated_file_is_refused(bundle, keep):
    refused(bundle[:keep])


def test_extra_bytes_at_the_end_are_detected(bundle):
    assert refused(bundle + b"\n").startswith("Phrase de passe incorrecte")


def test_altered_magic_is_not_ours(bundle):
    assert refused(altered(bundle, 3)) == "Ce fichier n'est pas un export chiffré de rased-tui."
    assert not looks_sealed(altered(bundle, 3))


def test_newer_format_version_asks_for_an_update(bundle):
    message = refused(altered(bundle, VERSION_AT, 2))
    assert "format 2" in message and "mettez le programme à jour" in message


def test_version_zero_is_not_ours(bundle):
    assert "n'est pas un export chiffré" in refused(altered(bundle, VERSION_AT, 0))


# Foreign files


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dossiers.csv", "nom;prénom\n")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [b"", b"RASED", sealed.MAGIC, sealed.MAGIC + bytes(40), os.urandom(4096), plain_zip(), "nom;prénom\n".encode() * 100],
    ids=["empty", "short", "magic only", "header cut", "random", "zip", "csv"],
)
def test_foreign_files_are_not_ours(data):
    assert refused(data) == "Ce fichier n'est pas un export chiffré de rased-tui."


@pytest.mark.parametrize(
    "at, value",
    [(LOG2_N_AT, 30), (LOG2_N_AT, 255), (LOG2_N_AT, 13), (LOG2_N_AT, 0), (R_AT, 0), (R_AT, 200), (P_AT, 0), (P_AT, 255)],
)
def test_absurd_scrypt_parameters_are_refused_at_once(bundle, at, value):
    started = time.perf_counter()
    assert "n'est pas un export chiffré" in refused(altered(bundle, at, value))
    assert time.perf_counter() - started < 0.5


def test_scrypt_parameters_using_too_much_memory_are_refused(bundle):
    # Each within its own range, together 2 GiB.
    crafted = altered(altered(bundle, LOG2_N_AT, 20), R_AT, 16)
    assert "n'est pas un export chiffré" in refused(crafted)


def test_authentic_content_that_is_not_a_zip_is_refused():
    data = sealed._encrypt(b"nom;prenom\n", PASSPHRASE)
    assert "illisible" in refused(data)


@pytest.mark.parametrize("name", ["../dossiers.csv", "export/dossiers.csv", "..\\dossiers.csv", "C:dossiers.csv", ".."])
def test_authentic_content_with_a_path_is_refused(name):
    data = sealed._encrypt(sealed._zip({"manifest.json": b"{}", name: b"x"}), PASSPHRASE)
    assert "avec un chemin" in refused(data)


def test_authentic_content_with_a_name_twice_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("dossiers.csv", b"a")
        with pytest.warns(UserWarning):
            archive.writestr("dossiers.csv", b"b")
    assert "en double" in refused(sealed._encrypt(buffer.getvalue(), PASSPHRASE))


def test_sealing_a_name_with_a_path_is_a_programming_error():
    with pytest.raises(ValueError):
        seal({"../dossiers.csv": b""}, PASSPHRASE)


# Passphrases


@pytest.mark.parametrize("weak", ["", "court", "123456789", "e\u0301e\u0301e\u0301e\u0301e\u0301"])
def test_weak_passphrases_are_refused(weak):
    with pytest.raises(SealError, match="au moins 10 caractères"):
        check_passphrase(weak)


def test_sealing_with_a_weak_passphrase_is_refused():
    with pytest.raises(SealError, match="trop courte"):
        seal(FILES, "court")


def test_ten_characters_are_enough():
    check_passphrase("0123456789")


class Terminal:
    def isatty(self) -> bool:
        return True


def typed(monkeypatch, *answers: str) -> list[str]:
    """Make getpass answer `answers` in turn on a terminal; the prompts it got come back."""
    prompts, pending = [], list(answers)

    def fake_getpass(prompt: str) -> str:
        prompts.append(prompt)
        return pending.pop(0)

    monkeypatch.setattr(sealed.sys, "stdin", Terminal())
    monkeypatch.setattr(sealed.getpass, "getpass", fake_getpass)
    return prompts


def test_passphrase_from_the_environment(monkeypatch):
    monkeypatch.setenv("RASED_TUI_PASSPHRASE", PASSPHRASE)
    prompts = typed(monkeypatch)
    assert passphrase_from_terminal(confirm=True) == PASSPHRASE
    assert passphrase_from_terminal(confirm=False) == PASSPHRASE
    assert prompts == []


def test_weak_passphrase_from_the_environment_is_refused_only_to_encrypt(monkeypatch):
    monkeypatch.setenv("RASED_TUI_PASSPHRASE", "court")
    with pytest.raises(SealError, match="trop courte"):
        passphrase_from_terminal(confirm=True)
    assert passphrase_from_terminal(confirm=False) == "court"


def test_typed_twice_the_same(monkeypatch):
    prompts = typed(monkeypatch, PASSPHRASE, PASSPHRASE)
    assert passphrase_from_terminal(confirm=True) == PASSPHRASE
    assert prompts == ["Phrase de passe : ", "Phrase de passe (encore) : "]


def test_typed_twice_differently(monkeypatch):
    typed(monkeypatch, PASSPHRASE, PASSPHRASE + "!")
    with pytest.raises(SealError) as caught:
        passphrase_from_terminal(confirm=True)
    assert str(caught.value) == "Les deux phrases de passe diffèrent."


def test_typed_once_to_open(monkeypatch):
    prompts = typed(monkeypatch, "court")
    assert passphrase_from_terminal(confirm=False) == "court"
    assert prompts == ["Phrase de passe : "]


def test_typed_too_short_to_encrypt(monkeypatch):
    typed(monkeypatch, "court", "court")
    with pytest.raises(SealError, match="trop courte"):
        passphrase_from_terminal(confirm=True)


def test_end_of_input_while_typing(monkeypatch):
    def ctrl_d(prompt: str) -> str:
        raise EOFError

    typed(monkeypatch)
    monkeypatch.setattr(sealed.getpass, "getpass", ctrl_d)
    with pytest.raises(SealError, match="Aucune phrase de passe"):
        passphrase_from_terminal(confirm=False)


def test_no_terminal_and_no_variable(monkeypatch):
    monkeypatch.setattr(sealed.sys, "stdin", io.StringIO(""))
    with pytest.raises(SealError, match="RASED_TUI_PASSPHRASE"):
        passphrase_from_terminal(confirm=False)

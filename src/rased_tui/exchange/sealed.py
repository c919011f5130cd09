"""Encrypted export bundles: several files sealed into one file, opened again with a passphrase.

An export (a few CSV files and manifest.json) carries children's data, often on a USB key, so
it travels as one encrypted file named `*.rased`. Everything happens in memory: nothing is
written to disk, neither when sealing nor when opening (the IEN can read a bundle without
leaving a clear copy behind).

- `seal(files, passphrase)` -> the bytes of the encrypted file;
- `unseal(data, passphrase)` -> the same `{name: content}` dict again;
- `looks_sealed(data_start)` tells an encrypted bundle from anything else by its first bytes;
- `check_passphrase(passphrase)` refuses a passphrase that is too weak to encrypt with;
- `passphrase_from_terminal(confirm=...)` reads it from RASED_TUI_PASSPHRASE or the terminal.

Every failure is a `SealError` whose text is one French sentence for the user.

File format (integers are unsigned bytes):

    magic    18 bytes  b"RASED-TUI-CHIFFRE\\n"
    version   1 byte   1
    log2_n    1 byte   scrypt cost, n = 2 ** log2_n (17 when writing)
    r         1 byte   scrypt block size (8)
    p         1 byte   scrypt parallelism (1)
    salt     16 bytes  random, for scrypt
    nonce    12 bytes  random, for AES-GCM
    then the AES-256-GCM ciphertext of a ZIP archive, its 16-byte tag at the end.

The key is scrypt(passphrase in UTF-8, NFC, salt) on 32 bytes. The whole header (the 50 bytes
before the ciphertext) is the associated data: changing any of its bytes fails authentication.
The ZIP holds one DEFLATE entry per file, dated 1980-01-01, so the same files give the same
archive.
"""

from __future__ import annotations

import getpass
import io
import os
import secrets
import struct
import sys
import unicodedata
import zipfile
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SEALED_SUFFIX = ".rased"
PASSPHRASE_VARIABLE = "RASED_TUI_PASSPHRASE"
MIN_PASSPHRASE_LENGTH = 10

MAGIC = b"RASED-TUI-CHIFFRE\n"
FORMAT_VERSION = 1
SCRYPT_LOG2_N = 17
SCRYPT_R = 8
SCRYPT_P = 1

# version, log2_n, r, p, salt, nonce.
_PARAMETERS = struct.Struct(">BBBB16s12s")
HEADER_LENGTH = len(MAGIC) + _PARAMETERS.size
_TAG_LENGTH = 16
_KEY_LENGTH = 32

# Bounds on the parameters read from a file: a crafted header must not make us spend gigabytes
# of memory or minutes of work before the authentication fails.
_LOG2_N_RANGE = range(14, 21)
_R_RANGE = range(1, 17)
_P_RANGE = range(1, 5)
_MAX_SCRYPT_MEMORY = 512 * 1024 * 1024  # scrypt needs 128 * r * n bytes

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_FORBIDDEN_IN_NAMES = ("/", "\\", ":", "..", "\0")

NOT_SEALED = "Ce fichier n'est pas un export chiffré de rased-tui."
WRONG_PASSPHRASE = "Phrase de passe incorrecte, ou fichier chiffré altéré : rien n'a été importé."


class SealError(Exception):
    """An encrypted bundle cannot be made or opened; str(error) is one French sentence."""


def seal(files: Mapping[str, bytes], passphrase: str) -> bytes:
    """The encrypted bundle of `files` (plain names such as "dossiers.csv" -> content)."""
    check_passphrase(passphrase)
    for name in files:
        if not _is_plain_name(name):
            raise ValueError(f"file name with a path or empty: {name!r}")
    return _encrypt(_zip(files), passphrase)


def _encrypt(archive: bytes, passphrase: str) -> bytes:
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    header = MAGIC + _PARAMETERS.pack(FORMAT_VERSION, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, salt, nonce)
    key = _derive_key(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P)
    return header + AESGCM(key).encrypt(nonce, archive, header)


def unseal(data: bytes, passphrase: str) -> dict[str, bytes]:
    """The files sealed in `data`, in the order they were given to `seal`."""
    if not passphrase:
        raise SealError("Saisissez la phrase de passe choisie lors de l'export chiffré.")
    log2_n, r, p, salt, nonce = _read_header(data)
    header = bytes(data[:HEADER_LENGTH])
    key = _derive_key(passphrase, salt, log2_n, r, p)
    try:
        archive = AESGCM(key).decrypt(nonce, bytes(data[HEADER_LENGTH:]), header)
    except InvalidTag:
        raise SealError(WRONG_PASSPHRASE) from None
    return _unzip(archive)


def looks_sealed(data_start: bytes) -> bool:
    """True if these first bytes of a file are those of an encrypted bundle."""
    return bytes(data_start[: len(MAGIC)]) == MAGIC


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase too short to protect children's data."""
    if len(_normalised(passphrase)) < MIN_PASSPHRASE_LENGTH:
        raise SealError(
            f"Phrase de passe trop courte : il faut au moins {MIN_PASSPHRASE_LENGTH} caractères "
            "(par exemple plusieurs mots)."
        )


def passphrase_from_terminal(*, confirm: bool) -> str:
    """The passphrase from RASED_TUI_PASSPHRASE, else typed (twice if `confirm`, to encrypt)."""
    passphrase = os.environ.get(PASSPHRASE_VARIABLE)
    if not passphrase:
        passphrase = _typed_passphrase(confirm)
    if confirm:
        check_passphrase(passphrase)
    return passphrase


def _typed_passphrase(confirm: bool) -> str:
    if sys.stdin is None or not sys.stdin.isatty():
        raise SealError(
            f"Pas de terminal pour saisir la phrase de passe : définissez la variable {PASSPHRASE_VARIABLE}."
        )
    try:
        passphrase = getpass.getpass("Phrase de passe : ")
        if confirm and getpass.getpass("Phrase de passe (encore) : ") != passphrase:
            raise SealError("Les deux phrases de passe diffèrent.")
    except EOFError:
        raise SealError("Aucune phrase de passe saisie.") from None
    return passphrase


def _read_header(data: bytes) -> tuple[int, int, int, bytes, bytes]:
    if len(data) < HEADER_LENGTH + _TAG_LENGTH or not looks_sealed(data):
        raise SealError(NOT_SEALED)
    version, log2_n, r, p, salt, nonce = _PARAMETERS.unpack_from(data, len(MAGIC))
    if version > FORMAT_VERSION:
        raise SealError(
            f"Ce fichier chiffré est au format {version}, celui d'une version plus récente de "
            "rased-tui : mettez le programme à jour pour l'ouvrir."
        )
    if version != FORMAT_VERSION or not _sane_scrypt(log2_n, r, p):
        raise SealError(NOT_SEALED)
    return log2_n, r, p, salt, nonce


def _sane_scrypt(log2_n: int, r: int, p: int) -> bool:
    return (
        log2_n in _LOG2_N_RANGE
        and r in _R_RANGE
        and p in _P_RANGE
        and 128 * r * 2**log2_n <= _MAX_SCRYPT_MEMORY
    )


def _derive_key(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    kdf = Scrypt(salt=salt, length=_KEY_LENGTH, n=2**log2_n, r=r, p=p)
    return kdf.derive(_normalised(passphrase).encode("utf-8"))


def _normalised(passphrase: str) -> str:
    # The same typed accents may reach us composed or decomposed depending on the system.
    return unicodedata.normalize("NFC", passphrase)


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # otherwise 0 on Windows: the same files, another archive
            archive.writestr(entry, content)
    return buffer.getvalue()


def _unzip(archive: bytes) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as opened:
            names = opened.namelist()
            if len(set(names)) != len(names) or not all(map(_is_plain_name, names)):
                raise SealError(
                    "Le contenu de ce fichier chiffré est suspect (noms de fichiers avec un chemin "
                    "ou en double) : rien n'a été importé."
                )
            return {name: opened.read(name) for name in names}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
        raise SealError("Le contenu de ce fichier chiffré est illisible : rien n'a été importé.") from None


def _is_plain_name(name: str) -> bool:
    return name not in ("", ".") and not any(part in name for part in _FORBIDDEN_IN_NAMES)

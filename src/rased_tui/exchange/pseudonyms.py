"""Pseudonymisation of an export: stable pseudonyms, and names taken out of free texts.

A pupil's pseudonym is a keyed hash (HMAC-SHA256) of the pupil's id with a secret kept in the
database (setting `pseudonym_secret`, made on the first export): the same pupil gets the same
pseudonym in every export of this base, and nobody can compute it, nor go back from it to the
pupil, without the secret. A pupil imported from another base keeps the pseudonym it came with.

Free texts (a request's description, the steps, the objectives...) may name the child or the
teacher: in a pseudonymised export each word of their names is replaced, whatever its case and
accents, by « [élève] » or « [enseignant·e] ». It cannot catch a nickname, a misspelling, or
another child named in the text: README says so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date

from rased_tui.domain.models import fold

SECRET_SETTING = "pseudonym_secret"
PSEUDONYM_PREFIX = "ELV-"
PUPIL_MARK = "[élève]"
TEACHER_MARK = "[enseignant·e]"
BIRTH_MARK = "[date de naissance]"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
CIVILITIES = {"m", "mme", "mlle", "mr", "monsieur", "madame", "mademoiselle", "me", "dr"}


def new_secret() -> str:
    return secrets.token_hex(32)


def pseudonym(secret: str, pupil_id: str) -> str:
    """'ELV-' and ten letters or digits; 32^10 values, so that two pupils hardly ever share one."""
    digest = hmac.new(secret.encode(), pupil_id.encode(), hashlib.sha256).digest()
    return PSEUDONYM_PREFIX + base64.b32encode(digest).decode()[:10]


def age_in_years(birth: str | None, on: str) -> int | None:
    if not birth:
        return None
    born, day = date.fromisoformat(birth), date.fromisoformat(on)
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


class _FoldTable(dict):
    """Each character to its bare lower-case letter, one for one ('É' -> 'e', 'Ễ' -> 'e',
    'И' -> 'и'), worked out the first time it is met: a folded text keeps the positions of the
    original, so a match in one is a match in the other."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold(chr(code))[:1] or chr(code)
        return folded


_FOLD_TABLE = _FoldTable()


def fold_in_place(text: str) -> str:
    return text.translate(_FOLD_TABLE)


def _nfc(text: str) -> str:
    """One Unicode form for names and texts: 'É' typed as E + accent (pasted from a PDF)
    is then the same as 'É'."""
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def _ascii(text: str) -> str:
    """A quick first look (C speed, positions not kept): the text without accents, in lower
    case; only a text where a name shows this way is folded in place and searched."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _name_words(*names: str) -> list[str]:
    """The words of names worth hiding: whole names first ('Marie-Lou', "N'Diaye"), then
    their parts of two letters or more, civilities (Mme, M.) left out."""
    words: list[str] = []
    for name in names:
        for whole in _nfc(name).replace(".", " ").split():
            if fold(whole) in CIVILITIES:
                continue
            words.append(whole)
            words.extend(part for part in re.split(r"[-'’]", whole) if len(part) >= 2)
    unique = list(dict.fromkeys(words))
    return sorted(unique, key=len, reverse=True)


class Scrubber:
    """Replaces the words of given names in texts, ignoring case and accents. Cheap to make:
    the pattern is compiled only for a text that holds one of the words."""

    def __init__(self, pupil_names: tuple[str, ...], teacher_names: tuple[str, ...],
                 birth_date: str | None = None) -> None:
        self._groups = [([fold_in_place(word) for word in words], mark) for words, mark in
                        ((_name_words(*pupil_names), PUPIL_MARK), (_name_words(*teacher_names), TEACHER_MARK))
                        if words]
        self._ascii_words = [_ascii(word) for words, _ in self._groups for word in words]
        self._patterns: dict[str, re.Pattern[str]] = {}
        self._birth = date.fromisoformat(birth_date) if birth_date else None

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = _nfc(text)
        if self._groups and any(word in _ascii(text) for word in self._ascii_words):
            text = self._replace_names(text)
        if self._birth and f"{self._birth.year % 100:02d}" in text:
            text = birth_date_pattern(self._birth).sub(BIRTH_MARK, text)
        return text

    def _replace_names(self, text: str) -> str:
        for words, mark in self._groups:
            folded = fold_in_place(text)
            if any(word in folded for word in words):
                text = self._replace(words, mark, text, folded)
        return text

    def _replace(self, words: list[str], mark: str, text: str, folded: str) -> str:
        pattern = self._patterns.get(mark)
        if pattern is None:
            pattern = self._patterns[mark] = re.compile(
                r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)")
        pieces, last = [], 0
        for match in pattern.finditer(folded):
            pieces.append(text[last:match.start()])
            pieces.append(mark)
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)


def birth_date_pattern(day: date) -> re.Pattern[str]:
    """A birth date as people write it: 04/05/2018, 4/5/18, 04.05.2018, 2018-05-04,
    4 mai 2018, 1er mai 2018 (any case)."""
    d, m, y = day.day, day.month, day.year
    numeric = rf"0?{d}[/.\- ]0?{m}[/.\- ](?:{y}|{y % 100:02d})"
    iso = rf"{y}-{m:02d}-{d:02d}"
    written = rf"{'(?:1er|0?1)' if d == 1 else f'0?{d}'}\s+{MONTHS[m - 1]}\s+(?:{y}|{y % 100:02d})"
    return re.compile(rf"(?<!\d)(?:{numeric}|{iso}|{written})(?!\d)", re.IGNORECASE)

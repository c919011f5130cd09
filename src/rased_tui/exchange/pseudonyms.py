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

import hmac
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date
from functools import lru_cache
from itertools import chain

from rased_tui.domain.models import fold

SECRET_SETTING = "pseudonym_secret"
PSEUDONYM_PREFIX = "ELV-"
PUPIL_MARK = "[élève]"
TEACHER_MARK = "[enseignant·e]"
BIRTH_MARK = "[date de naissance]"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")
CIVILITIES = {"m", "mme", "mlle", "mr", "monsieur", "madame", "mademoiselle", "me", "dr"}
BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # RFC 4648
_EMPTY_FOR_NONE = {None: ""}


def new_secret() -> str:
    return secrets.token_hex(32)


def pseudonym_secret(store) -> tuple[str, bool]:
    """The base's secret, made on the first export. A base opened read-only that has none
    gets a secret for this export only: its pseudonyms will differ from the next export's."""
    secret = store.get_setting(SECRET_SETTING)
    if secret:
        return secret, True
    secret = new_secret()
    if store.read_only:
        return secret, False
    store.set_setting(SECRET_SETTING, secret)
    return secret, True


def pseudonym(secret: str, pupil_id: str) -> str:
    """'ELV-' and ten letters or digits; 32^10 values, so that two pupils hardly ever share one."""
    digest = hmac.digest(secret.encode(), pupil_id.encode(), "sha256")
    # what base64.b32encode(digest)[:10] says, its first 50 bits, quicker (an export makes 40,000)
    bits = int.from_bytes(digest[:7], "big") >> 6
    return PSEUDONYM_PREFIX + "".join(BASE32[(bits >> shift) & 31] for shift in range(45, -1, -5))


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


def _ascii(text: str) -> bytes:
    """A quick first look (C speed, positions not kept): the text without accents, in lower
    case, as bytes; only a text where a name shows this way is folded in place and searched."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").lower()


def _name_words(*names: str) -> list[str]:
    """The words of names worth hiding: whole names first ('Marie-Lou', "N'Diaye"), then
    their parts of two letters or more, civilities (Mme, M.) left out."""
    unique = list(dict.fromkeys(word for name in names for word in _words_of_name(name)))
    return sorted(unique, key=len, reverse=True)


@lru_cache(maxsize=16384)
def _words_of_name(name: str) -> tuple[str, ...]:
    """One name's words worth hiding, in the order of `_name_words`. Kept: an export meets the
    same first names and teachers case after case."""
    words: list[str] = []
    for whole in _nfc(name).replace(".", " ").split():
        if fold(whole) in CIVILITIES:
            continue
        words.append(whole)
        words.extend(part for part in re.split(r"[-'’]", whole) if len(part) >= 2)
    return tuple(words)


@lru_cache(maxsize=16384)
def _bare_words(name: str) -> tuple[bytes, ...]:
    """The words of one name as the quick first look searches them: folded, then bare. A word
    that holds another ('marie-lou' holds 'marie') is left out: where it shows, so does the other."""
    bare = list(dict.fromkeys(_ascii(fold_in_place(word)) for word in _words_of_name(name)))
    return tuple(word for word in bare if not any(other in word for other in bare if other != word))


class Scrubber:
    """Replaces the words of given names in texts, ignoring case and accents. Cheap to make (an
    export makes one per case): the words to replace are listed, and their pattern compiled,
    only for a text that holds one of them."""

    def __init__(self, pupil_names: tuple[str, ...], teacher_names: tuple[str, ...],
                 birth_date: str | None = None) -> None:
        self._names = ((pupil_names, PUPIL_MARK), (teacher_names, TEACHER_MARK))
        self._ascii_words = list(chain.from_iterable(map(_bare_words, (*pupil_names, *teacher_names))))
        self._word_groups: list[tuple[list[str], str]] | None = None
        self._birth = date.fromisoformat(birth_date) if birth_date else None
        # a birth date is only looked for in a text holding its year's last two digits
        self._birth_year_digits = f"{self._birth.year % 100:02d}" if self._birth else None
        self._bare_birth_year_digits = self._birth_year_digits.encode() if self._birth else None

    def __call__(self, text: str | None) -> str | None:
        if not text:
            return text
        text = _nfc(text)
        if self._ascii_words:
            bare = _ascii(text)  # once per text, not once per word: a name is rarely there
            if any(map(bare.__contains__, self._ascii_words)):
                text = self._replace_names(text)
        if self._birth_year_digits and self._birth_year_digits in text:
            text = birth_date_pattern(self._birth).sub(BIRTH_MARK, text)
        return text

    def many(self, texts: list[str | None]) -> list[str | None]:
        """[self(text) for text in texts], after one quick look at all of them at once: most of
        the texts of a case name nobody, and a look costs the same for one text or ten."""
        joined = "\0".join(filter(None, texts))
        if unicodedata.is_normalized("NFC", joined) and self._nothing_in(_ascii(joined), lambda: joined):
            return texts
        return [self(text) for text in texts]

    def _nothing_in(self, bare: bytes, text: Callable[[], str]) -> bool:
        """True only if `self` changes nothing in NFC texts joined by NUL (a character that
        never joins with its neighbours): `bare` is `_ascii` of them, and `text()` gives them,
        asked for only where the bare form holds the birth year's digits (so does the text then)."""
        if self._ascii_words and any(map(bare.__contains__, self._ascii_words)):
            return False
        if self._bare_birth_year_digits and self._bare_birth_year_digits in bare:
            return birth_date_pattern(self._birth).search(text()) is None
        return True

    @property
    def _groups(self) -> list[tuple[list[str], str]]:
        """The folded words of each group of names (pupil, teacher), longest first, with its mark."""
        if self._word_groups is None:
            self._word_groups = [(folded, mark) for names, mark in self._names
                                 if (folded := [fold_in_place(word) for word in _name_words(*names)])]
        return self._word_groups

    def _replace_names(self, text: str) -> str:
        for words, mark in self._groups:
            folded = fold_in_place(text)
            if any(word in folded for word in words):
                text = self._replace(words, mark, text, folded)
        return text

    def _replace(self, words: list[str], mark: str, text: str, folded: str) -> str:
        pieces, last = [], 0
        for match in _names_pattern(tuple(words)).finditer(folded):
            pieces.append(text[last:match.start()])
            pieces.append(mark)
            last = match.end()
        pieces.append(text[last:])
        return "".join(pieces)


def scrub_groups(texts: list[str | None], groups: Iterable[tuple[Scrubber, int, int]]) -> list[str | None]:
    """`texts`, each group texts[first:last] scrubbed by its scrubber: the same as
    `scrubber.many` for each group, with one quick look at all the texts at once (a chunk of an
    export: thousands of texts, hundreds of cases), then a look at each group's part of it."""
    present = list(map(_EMPTY_FOR_NONE.get, texts, texts))
    text = "\0".join(present)
    if text.count("\0") != len(texts) - 1 or not unicodedata.is_normalized("NFC", text):
        return _scrub_each_group(texts, groups)  # a NUL in a text, or a text to normalise
    bare = _ascii(text).split(b"\0")  # NUL stays NUL: these are the texts, bare

    def nothing_in(scrubber: Scrubber, first: int, last: int) -> bool:  # in texts[first:last]
        return scrubber._nothing_in(b"\0".join(bare[first:last]), lambda: "\0".join(present[first:last]))

    scrubbed = texts
    for scrubber, first, last in groups:
        if not nothing_in(scrubber, first, last):  # then the same look, text by text
            if scrubbed is texts:
                scrubbed = list(texts)
            scrubbed[first:last] = [one if nothing_in(scrubber, place, place + 1) else scrubber(one)
                                    for place, one in enumerate(texts[first:last], first)]
    return scrubbed


def _scrub_each_group(texts: list[str | None], groups: Iterable[tuple[Scrubber, int, int]]) -> list[str | None]:
    scrubbed = list(texts)
    for scrubber, first, last in groups:
        scrubbed[first:last] = scrubber.many(texts[first:last])
    return scrubbed


@lru_cache(maxsize=4096)  # a teacher's name comes back case after case, a pupil's with each case
def _names_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Any of the words (folded, longest first), as a whole word."""
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(word) for word in words) + r")(?!\w)")


@lru_cache(maxsize=8192)  # as many as the birth dates of a département's pupils, nearly
def birth_date_pattern(day: date) -> re.Pattern[str]:
    """A birth date as people write it: 04/05/2018, 4/5/18, 04.05.2018, 2018-05-04,
    4 mai 2018, 1er mai 2018 (any case)."""
    d, m, y = day.day, day.month, day.year
    numeric = rf"0?{d}[/.\- ]0?{m}[/.\- ](?:{y}|{y % 100:02d})"
    iso = rf"{y}-{m:02d}-{d:02d}"
    written = rf"{'(?:1er|0?1)' if d == 1 else f'0?{d}'}\s+{MONTHS[m - 1]}\s+(?:{y}|{y % 100:02d})"
    return re.compile(rf"(?<!\d)(?:{numeric}|{iso}|{written})(?!\d)", re.IGNORECASE)

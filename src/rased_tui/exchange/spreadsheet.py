"""How values become spreadsheet cells and come back: the two CSV formats and the column kinds.

- `excel` (the default): UTF-8 with a BOM (Excel then reads the accents right), `;` between
  cells (a French Excel or LibreOffice splits on it), dates JJ/MM/AAAA, decimal comma.
- `rfc4180`, for scripts: no BOM, `,` between cells, ISO dates, decimal point.

Both end lines with CRLF and quote a cell holding the separator, a quote or a line break
(RFC 4180). Booleans are « oui » / « non », enumerations their French label. A text cell that a
spreadsheet would take for a formula (it starts with = + - @, a tab or a carriage return) gets
a leading apostrophe: it shows as text, readable, and is never evaluated; reading the cell back
takes the apostrophe off (a text that itself began with an apostrophe gets a second one).

Each kind says how a cell is written (`writer`) and read (`reader`), as one quick function per
column: an export or an import handles millions of cells. `from_cell` is the reference reading;
a reader only ever takes a shortcut that gives the same value or the same refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, partial
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Callable, Iterable, Sequence

from rased_tui.domain.enums import LabelledEnum
from rased_tui.domain.models import MAX_NAME_LENGTH, MAX_TEXT_LENGTH

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISER = "'"
INERT_STARTS = (*FORMULA_STARTS, NEUTRALISER)  # what gets the apostrophe
LIST_SEPARATOR = " | "
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SCHOOL_YEAR = re.compile(r"(\d{4})-(\d{4})")
FRENCH_DATE = re.compile(r"(\d{2})/(\d{2})/(\d{4})")
ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# A timestamp that needs no further check once its day is a real one (ASCII digits, hours and
# minutes in range): the others go through Timestamp.from_cell.
PLAIN_TIMESTAMP = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?Z")
REMEMBERED_CELLS = 10_000  # per column: dates, labels, years and numbers repeat down a column


class CsvFormat(StrEnum):
    EXCEL = "excel"
    RFC4180 = "rfc4180"

    @property
    def delimiter(self) -> str:
        return ";" if self is CsvFormat.EXCEL else ","

    @property
    def encoding(self) -> str:
        return "utf-8-sig" if self is CsvFormat.EXCEL else "utf-8"


class CellError(ValueError):
    """A cell that cannot be read back; the message is French and names the value."""


def neutralise(text: str) -> str:
    """Make a text inert in a spreadsheet while keeping it readable."""
    return NEUTRALISER + text if text and text[0] in INERT_STARTS else text


def restore(text: str) -> str:
    """The text `neutralise` was given."""
    return text[1:] if text.startswith(NEUTRALISER) else text


@dataclass(frozen=True)
class Kind:
    """How one column's values are written and read. Empty cells are None (text: '')."""

    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str] | None:
        """How a value becomes a cell in one format, as one quick function (an export calls it
        for millions of cells), or None where csv.writer takes the value as it is (an int, a
        text; None as an empty cell)."""
        return None

    def column_writer(self, csv_format: CsvFormat) -> Callable[[Sequence[Any]], Iterable[str]]:
        """How a column of values (a chunk of an export's rows) becomes cells, all texts, in one
        pass. By default: `writer` for each value, or the values as csv.writer writes them."""
        write = self.writer(csv_format)
        return _plain_column if write is None else partial(map, write)

    def reader(self, csv_format: CsvFormat) -> Callable[[str], Any]:
        """How a cell becomes a value in one format, as one quick function (CellError for a
        cell that cannot be read). By default each distinct cell is read once (a refused one
        is never remembered)."""
        return _remembered_cells(lambda cell: self.from_cell(cell, csv_format))

    def from_cell(self, cell: str, csv_format: CsvFormat):
        return None if cell == "" else self.read(cell, csv_format)

    def read(self, cell: str, csv_format: CsvFormat):
        return cell


@dataclass(frozen=True)
class Text(Kind):
    max_length: int = MAX_TEXT_LENGTH

    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        return _text_cell

    def column_writer(self, csv_format: CsvFormat) -> Callable[[Sequence[Any]], Iterable[str]]:
        return _text_column

    def reader(self, csv_format: CsvFormat) -> Callable[[str], str]:
        limit, control = self.max_length, CONTROL_CHARACTERS.search

        def read(cell: str) -> str:
            text = cell[1:] if cell[:1] == NEUTRALISER else cell
            if len(text) > limit or control(text):
                return self.from_cell(cell, csv_format)  # refused, in French
            return text

        return read

    def from_cell(self, cell: str, csv_format: CsvFormat) -> str:
        text = restore(cell)
        if CONTROL_CHARACTERS.search(text):
            raise CellError("le texte contient des caractères de contrôle invisibles")
        if len(text) > self.max_length:
            raise CellError(f"le texte dépasse {self.max_length} caractères")
        return text


NAME = Text(MAX_NAME_LENGTH)


@dataclass(frozen=True)
class Identifier(Kind):
    def reader(self, csv_format: CsvFormat) -> Callable[[str], str | None]:
        match = UUID.fullmatch

        def read(cell: str) -> str | None:
            return cell if match(cell) else self.from_cell(cell, csv_format)  # empty, or refused

        return read

    def read(self, cell: str, csv_format: CsvFormat) -> str:
        if not UUID.fullmatch(cell):
            raise CellError(f"« {_short(cell)} » n'est pas un identifiant")
        return cell


@dataclass(frozen=True)
class IdentifierList(Kind):
    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        return lambda value: LIST_SEPARATOR.join(value) if value else ""

    def column_writer(self, csv_format: CsvFormat) -> Callable[[Sequence[Any]], Iterable[str]]:
        return _list_column(self.writer(csv_format))

    def reader(self, csv_format: CsvFormat) -> Callable[[str], list[str]]:
        remembered = super().reader(csv_format)  # the same few members, list after list
        return lambda cell: list(remembered(cell)) if cell else []  # a list of its own for each row

    def from_cell(self, cell: str, csv_format: CsvFormat) -> list[str]:
        values = [Identifier().read(part.strip(), csv_format) for part in cell.split("|")] if cell else []
        if len(set(values)) != len(values):
            raise CellError("un même identifiant y figure deux fois")
        return values


@dataclass(frozen=True)
class Day(Kind):
    """A date: JJ/MM/AAAA (excel) or AAAA-MM-JJ (rfc4180); ISO strings in the database."""

    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str] | None:
        if csv_format is CsvFormat.RFC4180:
            return None  # the database's ISO text as it is

        def write(value) -> str:  # the database's ISO 'AAAA-MM-JJ', cut and put back in order
            if value is None:
                return ""
            text = value if isinstance(value, str) else value.isoformat()
            return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"

        return _remembered_cells(write)

    def read(self, cell: str, csv_format: CsvFormat) -> str:
        # A pattern and date() rather than strptime: an import reads hundreds of thousands.
        excel = csv_format is CsvFormat.EXCEL
        match = (FRENCH_DATE if excel else ISO_DATE).fullmatch(cell)
        try:
            if match is None:
                raise ValueError
            day, month, year = match.groups() if excel else reversed(match.groups())
            return date(int(year), int(month), int(day)).isoformat()
        except ValueError:
            example = "21/11/2026" if excel else "2026-11-21"
            raise CellError(f"« {_short(cell)} » n'est pas une date (attendu : {example})") from None


@dataclass(frozen=True)
class Timestamp(Kind):
    """A UTC time as stored (ISO with 'Z'), the same in both formats: it identifies a version."""

    def reader(self, csv_format: CsvFormat) -> Callable[[str], str | None]:
        plain, real_day = PLAIN_TIMESTAMP.fullmatch, _remembered_cells(_is_a_day)

        def read(cell: str) -> str | None:
            match = plain(cell)
            return cell if match and real_day(match.group(1)) else self.from_cell(cell, csv_format)

        return read

    def read(self, cell: str, csv_format: CsvFormat) -> str:
        if not TIMESTAMP.fullmatch(cell):
            raise CellError(f"« {_short(cell)} » n'est pas un horodatage (attendu : 2026-11-21T14:03:12Z)")
        try:
            datetime.fromisoformat(cell.replace("Z", "+00:00"))
        except ValueError:
            raise CellError(f"« {_short(cell)} » n'est pas un horodatage valide") from None
        return cell


@dataclass(frozen=True)
class YesNo(Kind):
    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        return _remembered_cells(lambda value: "" if value is None else ("oui" if value else "non"))

    def read(self, cell: str, csv_format: CsvFormat) -> int:
        if cell not in ("oui", "non"):
            raise CellError(f"« {_short(cell)} » : attendu « oui » ou « non »")
        return 1 if cell == "oui" else 0


@dataclass(frozen=True)
class Integer(Kind):
    def read(self, cell: str, csv_format: CsvFormat) -> int:
        if not re.fullmatch(r"-?\d{1,9}", cell):
            raise CellError(f"« {_short(cell)} » n'est pas un nombre entier")
        return int(cell)


@dataclass(frozen=True)
class Decimal(Kind):
    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        point = "," if csv_format is CsvFormat.EXCEL else "."

        def write(value) -> str:  # every digit (repr): the value comes back the same
            return "" if value is None else repr(float(value)).removesuffix(".0").replace(".", point)

        return _remembered_cells(write)

    def read(self, cell: str, csv_format: CsvFormat) -> float:
        text = cell.replace(",", ".") if csv_format is CsvFormat.EXCEL else cell
        if not re.fullmatch(r"\d{1,6}(\.\d{1,17})?", text):
            raise CellError(f"« {_short(cell)} » n'est pas un nombre")
        return float(text)


@dataclass(frozen=True)
class SchoolYear(Kind):
    def read(self, cell: str, csv_format: CsvFormat) -> str:
        match = SCHOOL_YEAR.fullmatch(cell)
        if not match or int(match.group(2)) != int(match.group(1)) + 1:
            raise CellError(f"« {_short(cell)} » n'est pas une année scolaire (exemple : 2026-2027)")
        return cell


@dataclass(frozen=True)
class Label(Kind):
    """An enumeration, written as its French label (or its code, for short ones like E / G)."""

    enums: tuple[type[LabelledEnum], ...]
    by_code: bool = False

    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        cells: dict[str | None, str] = {None: "", **self.cells()}
        return cells.__getitem__  # looked up in C; an unknown code raises, as it always did

    def cells(self) -> dict[str, str]:
        """Each code and the cell that says it."""
        return {member.value: member.value if self.by_code else member.label
                for enum in reversed(self.enums) for member in enum}

    def read(self, cell: str, csv_format: CsvFormat) -> str:
        code = _codes_of(self).get(cell)
        if code is not None:
            return code
        raise CellError(f"« {_short(cell)} » n'est pas une valeur connue ({self._examples()})")

    def _examples(self) -> str:
        values = [member.value if self.by_code else member.label for enum in self.enums for member in enum]
        return "par exemple " + ", ".join(f"« {value} »" for value in values[:3])


@dataclass(frozen=True)
class LabelList(Kind):
    """Several values of one enumeration in one cell, in order, separated by « | »."""

    label: Label

    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        cells = self.label.cells()
        return lambda value: LIST_SEPARATOR.join(cells[item] for item in value) if value else ""

    def column_writer(self, csv_format: CsvFormat) -> Callable[[Sequence[Any]], Iterable[str]]:
        return _list_column(self.writer(csv_format))

    def reader(self, csv_format: CsvFormat) -> Callable[[str], list[str]]:
        remembered = super().reader(csv_format)
        return lambda cell: list(remembered(cell)) if cell else []  # a list of its own for each row

    def from_cell(self, cell: str, csv_format: CsvFormat) -> list[str]:
        if not cell:
            return []
        values = [self.label.read(part.strip(), csv_format) for part in cell.split("|")]
        if len(set(values)) != len(values):
            raise CellError("une même valeur y figure deux fois")
        return values


@cache
def _codes_of(label: Label) -> dict[str, str]:
    """Each cell a Label column may hold, and the code it stands for (the first enum wins)."""
    return {cell: code for code, cell in label.cells().items()}


def _text_cell(value: str | None) -> str:
    """A text's cell: neutralised, '' for none. One call per cell: an export makes a million."""
    return NEUTRALISER + value if value and value[0] in INERT_STARTS else (value or "")


def _text_column(values: Sequence[Any]) -> Sequence[str]:
    """A column of texts as cells: the values themselves, unless one of them is None or needs an
    apostrophe. A look in C at the texts joined by NUL tells (most columns of a chunk need
    nothing): a text that starts with = + - @... follows a NUL there, or starts the whole."""
    try:
        joined = "\0" + "\0".join(values)
    except TypeError:  # a None among them
        return list(map(_text_cell, values))
    if _INERT_START.search(joined) is None:
        return values
    return list(map(_text_cell, values))


_INERT_START = re.compile("\0[" + re.escape("".join(INERT_STARTS)) + "]")


def _plain_column(values: Sequence[Any]) -> Sequence[str]:
    """Values that go as they are (identifiers, times, numbers), as csv.writer writes them: ''
    for None, str() for a number. Which of these a column holds is looked at in C."""
    try:
        "".join(values)
        return values  # texts all
    except TypeError:
        pass
    if set(map(type, values)) <= {str, type(None)}:
        return list(map(_EMPTY_FOR_NONE.get, values, values))
    return list(map(_plain_cell, values))


_EMPTY_FOR_NONE = {None: ""}


def _plain_cell(value: Any) -> str:
    return "" if value is None else str(value)


def _list_column(write: Callable[[Any], str]) -> Callable[[Sequence[Any]], Iterable[str]]:
    """A column of lists as cells, each distinct list written once: the same few levels, motifs
    or members come back row after row."""
    remembered = _remembered_cells(write)

    def column(values: Sequence[Any]) -> list[str]:
        try:
            return list(map(remembered, map(tuple, values)))
        except TypeError:  # a None among them
            return list(map(write, values))

    return column


class _RememberedCells(dict):
    """value -> its cell, each distinct value made once (up to REMEMBERED_CELLS of them), then
    found by a lookup in C: a column of dates or booleans holds few values over many rows."""

    def __init__(self, make: Callable[[Any], str]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, value: Any) -> str:
        cell = self._make(value)
        if len(self) < REMEMBERED_CELLS:
            self[value] = cell
        return cell


def _remembered_cells(make: Callable[[Any], str]) -> Callable[[Any], str]:
    return _RememberedCells(make).__getitem__


def _is_a_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"

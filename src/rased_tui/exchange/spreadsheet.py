"""How values become spreadsheet cells and come back: the two CSV formats and the column kinds.

- `excel` (the default): UTF-8 with a BOM (Excel then reads the accents right), `;` between
  cells (a French Excel or LibreOffice splits on it), dates JJ/MM/AAAA, decimal comma.
- `rfc4180`, for scripts: no BOM, `,` between cells, ISO dates, decimal point.

Both end lines with CRLF and quote a cell holding the separator, a quote or a line break
(RFC 4180). Booleans are « oui » / « non », enumerations their French label. A text cell that a
spreadsheet would take for a formula (it starts with = + - @, a tab or a carriage return) gets
a leading apostrophe: it shows as text, readable, and is never evaluated; reading the cell back
takes the apostrophe off (a text that itself began with an apostrophe gets a second one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from datetime import date, datetime
from enum import StrEnum
from typing import Any, Callable

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

    def from_cell(self, cell: str, csv_format: CsvFormat):
        return None if cell == "" else self.read(cell, csv_format)

    def read(self, cell: str, csv_format: CsvFormat):
        return cell


@dataclass(frozen=True)
class Text(Kind):
    max_length: int = MAX_TEXT_LENGTH

    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        return lambda value: neutralise(value) if value else ""

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
    def read(self, cell: str, csv_format: CsvFormat) -> str:
        if not UUID.fullmatch(cell):
            raise CellError(f"« {_short(cell)} » n'est pas un identifiant")
        return cell


@dataclass(frozen=True)
class IdentifierList(Kind):
    def writer(self, csv_format: CsvFormat) -> Callable[[Any], str]:
        return lambda value: LIST_SEPARATOR.join(value) if value else ""

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

        return write

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
        return lambda value: "" if value is None else ("oui" if value else "non")

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

        return write

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
        cells = self.cells()
        return lambda value: "" if value is None else cells[value]

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


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "…"

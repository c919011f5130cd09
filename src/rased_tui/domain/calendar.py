"""Dates of the French school year: today, school years, périodes, case numbers, JJ/MM/AAAA.

Pure functions. "Today" can be frozen with the environment variable RASED_TUI_TODAY
(ISO date) so that tests, screenshots and demo data do not depend on the day they run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

TODAY_VARIABLE = "RASED_TUI_TODAY"
# A request in August already belongs to the coming school year: the rentrée is early September
# and the previous year ended early July.
FIRST_MONTH_OF_SCHOOL_YEAR = 8

_SCHOOL_YEAR = re.compile(r"^(\d{4})-(\d{4})$")
_CASE_NUMBER = re.compile(r"^(\d{4})-(\d{4,})$")


def today() -> date:
    """Today's date, or the one frozen in RASED_TUI_TODAY."""
    frozen = os.environ.get(TODAY_VARIABLE)
    if frozen:
        return _parse_frozen_day(frozen)
    return date.today()


@lru_cache(maxsize=4)
def _parse_frozen_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{TODAY_VARIABLE}={text} : date attendue au format AAAA-MM-JJ.") from None


def utc_now() -> str:
    """The current UTC time as ISO-8601 with a 'Z', as timestamps are stored."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_french_date(text: str) -> date:
    """Read JJ/MM/AAAA (also J/M/AAAA, with '-' or '.') or ISO AAAA-MM-JJ.

    Raises ValueError with a French message.
    """
    cleaned = text.strip()
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned)
    french = re.fullmatch(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})", cleaned)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif french:
        day, month, year = (int(part) for part in french.groups())
    else:
        raise ValueError(f"« {cleaned} » n'est pas une date au format JJ/MM/AAAA.")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"Le {cleaned} n'existe pas dans le calendrier.") from None


def read_past_date(text: str, what: str = "La date", *, required: bool = True) -> tuple[date | None, str | None]:
    """A date typed in a form, which cannot be in the future: (the date, None), or (None, the
    reason in French). An empty field that is not required gives (None, None)."""
    if not text.strip():
        return None, f"{what} est obligatoire." if required else None
    try:
        day = parse_french_date(text)
    except ValueError as error:
        return None, str(error)
    if day > today():
        return None, f"{what} ne peut pas être dans le futur."
    return day, None


def format_french_date(value: date | str | None) -> str:
    """JJ/MM/AAAA for a date or an ISO string; empty for None."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return value.strftime("%d/%m/%Y")


def school_year_start(day: date) -> int:
    """The calendar year in which the school year holding `day` began."""
    return day.year if day.month >= FIRST_MONTH_OF_SCHOOL_YEAR else day.year - 1


def school_year_of(day: date) -> str:
    """The school year of a date, as '2026-2027'."""
    start = school_year_start(day)
    return f"{start}-{start + 1}"


def parse_school_year(label: str) -> int:
    """The first calendar year of a school year label like '2026-2027'; ValueError otherwise."""
    match = _SCHOOL_YEAR.fullmatch(label.strip())
    if not match or int(match.group(2)) != int(match.group(1)) + 1:
        raise ValueError(f"« {label} » n'est pas une année scolaire (exemple : 2026-2027).")
    return int(match.group(1))


def next_school_year(label: str) -> str:
    start = parse_school_year(label) + 1
    return f"{start}-{start + 1}"


def case_number(school_year: str, sequence: int) -> str:
    """The number people read: the school year's first calendar year and a sequence, '2026-0042'."""
    if sequence < 1:
        raise ValueError("Le numéro d'ordre d'un dossier commence à 1.")
    return f"{parse_school_year(school_year)}-{sequence:04d}"


def school_year_of_case_number(number: str) -> str:
    match = _CASE_NUMBER.fullmatch(number)
    if not match:
        raise ValueError(f"« {number} » n'est pas un numéro de dossier (exemple : 2026-0042).")
    start = int(match.group(1))
    return f"{start}-{start + 1}"


@dataclass(frozen=True)
class PeriodSpan:
    """One période of a school year: number 1 to 5 and its first and last school days."""

    school_year: str
    number: int
    start: date
    end: date


def period_of(day: date, periods: list[PeriodSpan]) -> PeriodSpan | None:
    """The période a date falls in; during holidays, the période that follows them.

    None when the date is after the last période known (or no période is known).
    """
    for span in sorted(periods, key=lambda p: p.start):
        if day <= span.end:
            return span
    return None


def approximate_periods(school_year: str) -> list[PeriodSpan]:
    """A usual split of a school year in five périodes when no official calendar is at hand.

    Rentrée on the first Tuesday of September, then Toussaint, Noël, hiver, printemps and
    summer holidays at their customary places. Real dates come from the official calendar or
    are entered by hand; this only gives a sensible starting point.
    """
    start_year = parse_school_year(school_year)
    september_first = date(start_year, 9, 1)
    rentree = date(start_year, 9, 1 + (1 - september_first.weekday()) % 7)
    boundaries = [
        (rentree, date(start_year, 10, 17)),
        (date(start_year, 11, 3), date(start_year, 12, 19)),
        (date(start_year + 1, 1, 5), date(start_year + 1, 2, 13)),
        (date(start_year + 1, 3, 2), date(start_year + 1, 4, 17)),
        (date(start_year + 1, 5, 4), date(start_year + 1, 7, 3)),
    ]
    return [PeriodSpan(school_year, index + 1, first, last) for index, (first, last) in enumerate(boundaries)]


def age_in_years(birth: date, on: date) -> int:
    """Whole years of age on a given day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))

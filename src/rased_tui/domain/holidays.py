"""The five périodes of a school year from the official calendar of the French school holidays.

The package `vacances-scolaires-france` ships the official holidays of zones A, B and C offline
(its current release goes up to the summer of 2028). From them, for a school year and a zone:

- période 1 starts on the first school day after the summer holidays;
- each période ends on the last school day before the next holidays (Toussaint, Noël, hiver,
  printemps, été), and the next one starts on the first weekday after them. The Pont de
  l'Ascension is a few days off inside période 5, not a boundary.

"Le départ en vacances a lieu après la classe des jours indiqués" (the official calendar): the
package's first day of holidays is that day of departure. When it is a Saturday (nearly always)
the période ends on the Friday before; when it is a weekday (summer 2022 on Thursday 7 July,
summer 2028 on Tuesday 4 July) pupils still have class that day, so the période ends on it.

`official_periods` returns None where the package has no data (2028-2029 and later): the
périodes are then entered by hand, or approximated (calendar.approximate_periods).

Pure: reads only the package's own data file, once (it is parsed when first needed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from rased_tui.domain.calendar import PeriodSpan, parse_school_year
from rased_tui.domain.enums import Zone

SUMMER = "Vacances d'été"
# The holidays that close périodes 1 to 5, in order.
BOUNDARIES = ("Vacances de la Toussaint", "Vacances de Noël", "Vacances d'hiver", "Vacances de printemps", SUMMER)
FRIDAY = 4


@dataclass(frozen=True)
class Holiday:
    """One run of holidays: the day of departure (after class) and the last day off."""

    name: str
    first: date
    last: date


@lru_cache(maxsize=1)
def _package_dates():
    """The package's calendar, read from its CSV file the first time only (it takes a while)."""
    from vacances_scolaires_france import SchoolHolidayDates

    return SchoolHolidayDates()


def holidays(start_year: int, zone: Zone) -> list[Holiday] | None:
    """The holidays of a zone from the summer that opens the school year to the one that closes
    it, in order (Pont de l'Ascension left out); None when the package does not cover them."""
    from vacances_scolaires_france import UnsupportedYearException

    calendar = _package_dates()
    days: dict[date, str] = {}
    try:
        for year in (start_year, start_year + 1):
            for day, row in calendar.holidays_for_year_and_zone(year, Zone(zone).value).items():
                if row["nom_vacances"] in BOUNDARIES:
                    days[day] = row["nom_vacances"]
    except UnsupportedYearException:
        return None
    return _runs(days)


def _runs(days: dict[date, str]) -> list[Holiday]:
    """Consecutive days off of the same name, as runs."""
    runs: list[Holiday] = []
    for day in sorted(days):
        name = days[day]
        if runs and runs[-1].name == name and runs[-1].last == day - timedelta(days=1):
            runs[-1] = Holiday(name, runs[-1].first, day)
        else:
            runs.append(Holiday(name, day, day))
    return runs


@lru_cache(maxsize=64)
def _official_periods(school_year: str, zone: Zone) -> tuple[PeriodSpan, ...] | None:
    start_year = parse_school_year(school_year)
    runs = holidays(start_year, zone)
    if runs is None:
        return None
    summer_before = next((run for run in runs if run.name == SUMMER and run.first.year == start_year), None)
    if summer_before is None:
        return None
    closing = _closing_holidays(runs, summer_before)
    if closing is None:
        return None
    spans, start = [], first_weekday_after(summer_before.last)
    for number, holiday in enumerate(closing, start=1):
        spans.append(PeriodSpan(school_year, number, start, last_school_day(holiday.first)))
        start = first_weekday_after(holiday.last)
    return tuple(spans)


def _closing_holidays(runs: list[Holiday], summer_before: Holiday) -> list[Holiday] | None:
    """The five holidays after the rentrée that end the périodes, or None if one is missing
    (the package's data stops in the middle of the year)."""
    later = [run for run in runs if run.first > summer_before.last]
    closing = []
    for name in BOUNDARIES:
        found = next((run for run in later if run.name == name and (not closing or run.first > closing[-1].last)),
                     None)
        if found is None:
            return None
        closing.append(found)
    return closing


def official_periods(school_year: str, zone: Zone | str) -> list[PeriodSpan] | None:
    """The five périodes of `school_year` ('2026-2027') in `zone`, or None without data."""
    spans = _official_periods(school_year, Zone(zone))
    return list(spans) if spans is not None else None


def first_weekday_after(day: date) -> date:
    """The first Monday-to-Friday after `day`: classes resume the morning after the holidays."""
    day += timedelta(days=1)
    while day.weekday() > FRIDAY:
        day += timedelta(days=1)
    return day


def last_school_day(departure: date) -> date:
    """The last day of class of a période whose holidays start on `departure`, after class:
    that day itself on a weekday, else the Friday before."""
    while departure.weekday() > FRIDAY:
        departure -= timedelta(days=1)
    return departure

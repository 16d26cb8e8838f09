"""What a measure has counted so far: a pure data structure, kept incrementally.

A resource that satisfies a population's criteria contributes to the population's
total and to one stratum of each stratifier (several for a stratifier with several
values, as the reasons of a reduced claim), on the day it counts on (None for
populations without a date, such as the pharmacies registered). A plain population
counts resources per stratum and day; a distinct population (an e-prescription of
several items, a pharmacy with many dispenses) counts values, each once however many
resources carry it: it keeps, per stratum, each value's days with reference counts, so a
value leaves only when its last resource does.

Adding a resource's contribution and taking the contribution of the version it replaced
away keeps the counts exact without reading anything else. Tallies split by Jalali
month (the unit they are stored in) and merge back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

TIMELESS = ""  # the day of contributions without a date
TOTAL = ("", "")  # the (stratifier, value) of a population's total


@dataclass(frozen=True)
class Contribution:
    group: str
    population: str
    strata: tuple[tuple[str, str], ...]  # (stratifier code, value); TOTAL among them
    day: date | None
    distinct: str | None = None  # the value counted once; None: the resource counts


Key = tuple[str, str, str, str]  # group, population, stratifier, value


class Tally:
    def __init__(self) -> None:
        self.counts: dict[Key, dict[str, int]] = {}  # key -> day -> resources
        self.members: dict[Key, dict[str, dict[str, int]]] = {}  # key -> value -> day -> resources

    def add(self, contribution: Contribution, sign: int = 1) -> None:
        """Count a contribution in (sign 1) or take it out (sign -1); never below zero."""
        day = contribution.day.isoformat() if contribution.day else TIMELESS
        for stratifier, value in contribution.strata:
            key = (contribution.group, contribution.population, stratifier, value)
            if contribution.distinct is None:
                _bump(self.counts.setdefault(key, {}), day, sign)
                if not self.counts[key]:
                    del self.counts[key]
            else:
                values = self.members.setdefault(key, {})
                _bump(values.setdefault(contribution.distinct, {}), day, sign)
                if not values[contribution.distinct]:
                    del values[contribution.distinct]
                if not values:
                    del self.members[key]

    def count(self, key: Key, start: date | None = None, end: date | None = None) -> int:
        """Resources (or distinct values) of `key` counted on days start..end (inclusive),
        plus the timeless ones."""
        inside = _within(start, end)
        if key in self.members:
            return sum(1 for days in self.members[key].values() if any(inside(d) for d in days))
        return sum(n for d, n in self.counts.get(key, {}).items() if inside(d))

    def count_by(
        self, key: Key, bucket: Callable[[date], str], start: date | None = None, end: date | None = None
    ) -> dict[str, int]:
        """The dated counts of `key` grouped by `bucket(day)` (a Jalali week, month...)."""
        inside = _within(start, end)
        out: dict[str, int] = {}
        if key in self.members:
            for days in self.members[key].values():
                for label in {bucket(date.fromisoformat(d)) for d in days if d != TIMELESS and inside(d)}:
                    out[label] = out.get(label, 0) + 1
            return out
        for d, n in self.counts.get(key, {}).items():
            if d != TIMELESS and inside(d):
                label = bucket(date.fromisoformat(d))
                out[label] = out.get(label, 0) + n
        return out

    def keys(self) -> set[Key]:
        return set(self.counts) | set(self.members)

    # -- storage: one tally per Jalali month ---------------------------------------------

    def split(self, month_of: Callable[[date], str]) -> dict[str, Tally]:
        """The tally cut by the month of each day (TIMELESS days under TIMELESS)."""
        parts: dict[str, Tally] = {}

        def part(day: str) -> Tally:
            return parts.setdefault(
                TIMELESS if day == TIMELESS else month_of(date.fromisoformat(day)), Tally()
            )

        for key, days in self.counts.items():
            for d, n in days.items():
                part(d).counts.setdefault(key, {})[d] = n
        for key, values in self.members.items():
            for value, days in values.items():
                for d, n in days.items():
                    part(d).members.setdefault(key, {}).setdefault(value, {})[d] = n
        return parts

    @classmethod
    def merged(cls, tallies: Iterable[Tally]) -> Tally:
        """One tally of several that share no day (the months of a period)."""
        out = cls()
        for tally in tallies:
            for key, days in tally.counts.items():
                out.counts.setdefault(key, {}).update(days)
            for key, values in tally.members.items():
                mine = out.members.setdefault(key, {})
                for value, days in values.items():
                    mine.setdefault(value, {}).update(days)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "counts": [[*key, days] for key, days in sorted(self.counts.items())],
            "members": [[*key, values] for key, values in sorted(self.members.items())],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        out = cls()
        out.counts = {(g, p, s, v): days for g, p, s, v, days in data.get("counts") or []}
        out.members = {(g, p, s, v): values for g, p, s, v, values in data.get("members") or []}
        return out


def _bump(days: dict[str, int], day: str, sign: int) -> None:
    found = days.get(day, 0) + sign
    if found > 0:
        days[day] = found
    else:
        days.pop(day, None)


def _within(start: date | None, end: date | None) -> Callable[[str], bool]:
    low = start.isoformat() if start else "0000"
    high = end.isoformat() if end else "9999"

    def inside(day: str) -> bool:
        return day == TIMELESS or low <= day <= high

    return inside

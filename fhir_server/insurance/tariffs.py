"""The tariffs in force: unit prices per insurer and service date (policy data,
`profiles/ir-eprescription/policy/tariffs.json`, loaded with the rest of the policy;
ILLUSTRATIVE, see scripts/build_tariffs.py).

A schedule holds prices (whole rials per unit) for item keys (`generic|00077`,
`irc|...`, `rvu|801001`) and is valid from `validFrom` to `validTo` inclusive (open-ended
without `validTo`). For one insurer, its own schedule valid on the day wins over the
schedules of every insurer (`*`); two schedules of one insurer may not overlap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

EVERY_INSURER = "*"
# The most specific code first: a product's IRC, then its generic code, then a service.
KEY_ORDER = ("irc", "generic", "rvu")


@dataclass(frozen=True)
class Price:
    key: str  # the item key priced
    rials: int  # per unit
    schedule: str  # the schedule's id


@dataclass(frozen=True)
class Schedule:
    id: str
    insurer: str
    valid_from: date
    valid_to: date | None
    prices: Mapping[str, int]

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True)
class Tariffs:
    schedules: tuple[Schedule, ...]
    currency: str = "IRR"

    def price(self, insurer: str | None, keys: Sequence[str], day: date) -> Price | None:
        """The unit price of the first of `keys` (most specific first) priced on `day` for
        `insurer`: from its own schedule, else the schedule for every insurer."""
        ordered = sorted(keys, key=lambda k: _rank(k))
        for owner in (insurer, EVERY_INSURER):
            if owner is None:
                continue
            for schedule in self.schedules:
                if schedule.insurer != owner or not schedule.in_force(day):
                    continue
                for key in ordered:
                    if key in schedule.prices:
                        return Price(key, schedule.prices[key], schedule.id)
        return None


NO_TARIFFS = Tariffs(())


def _rank(key: str) -> int:
    alias = key.split("|", 1)[0]
    return KEY_ORDER.index(alias) if alias in KEY_ORDER else len(KEY_ORDER)


def parse_tariffs(doc: Mapping[str, Any]) -> Tariffs:
    """The tariffs of a data file's content; ValueError for anything that would make a
    price ambiguous or not a whole, positive number of rials."""
    schedules = tuple(_schedule(raw) for raw in doc.get("schedules") or [])
    ids = [s.id for s in schedules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"tariff schedule ids repeat: {sorted(ids)}")
    for n, one in enumerate(schedules):
        for other in schedules[n + 1 :]:
            if one.insurer == other.insurer and _overlap(one, other):
                raise ValueError(f"tariff schedules {one.id} and {other.id} of {one.insurer} overlap")
    return Tariffs(schedules, str(doc.get("currency") or "IRR"))


def _schedule(raw: Mapping[str, Any]) -> Schedule:
    start = date.fromisoformat(str(raw["validFrom"]))
    end = date.fromisoformat(str(raw["validTo"])) if raw.get("validTo") else None
    if end is not None and end < start:
        raise ValueError(f"tariff schedule {raw.get('id')} ends before it starts")
    prices = dict(raw.get("prices") or {})
    for key, value in prices.items():
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"tariff {raw.get('id')}: the price of {key} is not a positive whole rial")
    return Schedule(str(raw["id"]), str(raw["insurer"]), start, end, prices)


def _overlap(a: Schedule, b: Schedule) -> bool:
    a_end, b_end = a.valid_to or date.max, b.valid_to or date.max
    return a.valid_from <= b_end and b.valid_from <= a_end

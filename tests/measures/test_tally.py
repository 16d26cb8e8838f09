"""The tally: plain and distinct counts per stratum and day, taken out exactly as they
went in, never below zero, by period, by bucket, split by month and merged back."""

from __future__ import annotations

from datetime import date

from fhir_server.measures.tally import TOTAL, Contribution, Tally

D1, D2, D3 = date(2026, 11, 20), date(2026, 11, 21), date(2026, 11, 22)
TEHRAN = ("province", "28")
ITEMS = ("g", "items", "", "")


def item(day: date, province: tuple[str, str] = TEHRAN, rx: str | None = None) -> Contribution:
    return Contribution("g", "rx" if rx else "items", (TOTAL, province), day, rx)


def test_plain_counts_by_period_and_stratum() -> None:
    t = Tally()
    for day in (D1, D2, D2, D3):
        t.add(item(day))
    t.add(item(D2, ("province", "12")))
    assert t.count(ITEMS) == 5
    assert t.count(ITEMS, D2, D2) == 3 and t.count(ITEMS, D1, D2) == 4 and t.count(ITEMS, D3) == 1
    assert t.count(("g", "items", "province", "28"), D2, D3) == 3
    assert t.count(("g", "items", "province", "12")) == 1
    assert t.count(("g", "items", "province", "99")) == 0


def test_taking_out_what_went_in() -> None:
    t = Tally()
    t.add(item(D1))
    t.add(item(D1), -1)
    assert t.count(ITEMS) == 0 and t.keys() == set()
    t.add(item(D1), -1)  # a contribution never counted: nothing below zero
    t.add(item(D1))
    assert t.count(ITEMS) == 1


def test_distinct_values_count_once_until_their_last_resource_leaves() -> None:
    t = Tally()
    key = ("g", "rx", "", "")
    for _ in range(3):  # three items of one prescription
        t.add(item(D2, rx="rx-1"))
    t.add(item(D2, rx="rx-2"))
    assert t.count(key) == 2
    t.add(item(D2, rx="rx-1"), -1)
    t.add(item(D2, rx="rx-1"), -1)
    assert t.count(key) == 2  # one item of rx-1 is left
    t.add(item(D2, rx="rx-1"), -1)
    assert t.count(key) == 1


def test_distinct_value_on_several_days() -> None:
    t = Tally()
    key = ("g", "rx", "", "")
    t.add(item(D1, rx="pharmacy-1"))
    t.add(item(D3, rx="pharmacy-1"))
    assert t.count(key) == 1 and t.count(key, D1, D1) == 1 and t.count(key, D2, D2) == 0
    by_day = t.count_by(key, lambda d: d.isoformat())
    assert by_day == {D1.isoformat(): 1, D3.isoformat(): 1}
    assert t.count_by(key, lambda d: "all") == {"all": 1}


def test_timeless_contributions_count_in_every_period() -> None:
    t = Tally()
    t.add(Contribution("g", "registered", (TOTAL,), None))
    assert t.count(("g", "registered", "", ""), D1, D1) == 1
    assert t.count_by(("g", "registered", "", ""), lambda d: "x") == {}


def test_split_by_month_and_merge_back() -> None:
    t = Tally()
    for day in (D1, D2, D3):
        t.add(item(day))
        t.add(item(day, rx="rx-a"))
    t.add(Contribution("g", "registered", (TOTAL,), None))
    parts = t.split(lambda d: "1405-08" if d < D3 else "1405-09")
    assert set(parts) == {"1405-08", "1405-09", ""}
    assert parts["1405-08"].count(ITEMS) == 2 and parts["1405-09"].count(ITEMS) == 1
    again = Tally.merged(Tally.from_json(p.to_json()) for p in parts.values())
    assert again.to_json() == t.to_json()

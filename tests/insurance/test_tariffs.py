"""Tariffs: the price in force on a service date for an insurer, at the exact edges of
each schedule, and the refusals of a data file that would make a price ambiguous."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from fhir_server.eprescription.config import DEFAULT_POLICY
from fhir_server.eprescription.policy import load_policy
from fhir_server.insurance.tariffs import EVERY_INSURER, Price, parse_tariffs

TERMINOLOGY = Path(__file__).resolve().parents[2] / "terminology" / "data"
DOC: dict[str, Any] = {
    "currency": "IRR",
    "schedules": [
        {
            "id": "all-1404",
            "insurer": "*",
            "validFrom": "2025-03-21",
            "validTo": "2026-03-20",
            "prices": {"generic|00077": 20_000, "irc|1234567890123456": 25_000, "rvu|801001": 400_000},
        },
        {
            "id": "all-1405",
            "insurer": "*",
            "validFrom": "2026-03-21",
            "prices": {"generic|00077": 25_000, "rvu|801001": 500_000},
        },
        {
            "id": "salamat-1405",
            "insurer": "SALAMAT",
            "validFrom": "2026-03-21",
            "validTo": "2027-03-20",
            "prices": {"rvu|801001": 450_000},
        },
    ],
}


@pytest.mark.parametrize(
    ("insurer", "keys", "day", "expected"),
    [
        ("TAMIN", ["generic|00077"], date(2026, 3, 20), Price("generic|00077", 20_000, "all-1404")),
        ("TAMIN", ["generic|00077"], date(2026, 3, 21), Price("generic|00077", 25_000, "all-1405")),
        ("TAMIN", ["generic|00077"], date(2025, 3, 21), Price("generic|00077", 20_000, "all-1404")),
        ("TAMIN", ["generic|00077"], date(2025, 3, 20), None),  # before any schedule
        ("TAMIN", ["generic|00077"], date(2099, 1, 1), Price("generic|00077", 25_000, "all-1405")),
        ("SALAMAT", ["rvu|801001"], date(2026, 3, 21), Price("rvu|801001", 450_000, "salamat-1405")),
        ("SALAMAT", ["rvu|801001"], date(2027, 3, 20), Price("rvu|801001", 450_000, "salamat-1405")),
        ("SALAMAT", ["rvu|801001"], date(2027, 3, 21), Price("rvu|801001", 500_000, "all-1405")),
        ("SALAMAT", ["generic|00077"], date(2026, 6, 1), Price("generic|00077", 25_000, "all-1405")),
        ("TAMIN", ["rvu|801001"], date(2026, 6, 1), Price("rvu|801001", 500_000, "all-1405")),
        # the product's IRC is more specific than its generic code, whatever the order given
        (
            "TAMIN",
            ["generic|00077", "irc|1234567890123456"],
            date(2025, 6, 1),
            Price("irc|1234567890123456", 25_000, "all-1404"),
        ),
        (
            "TAMIN",
            ["generic|00077", "irc|1234567890123456"],
            date(2026, 6, 1),
            Price("generic|00077", 25_000, "all-1405"),
        ),
        ("TAMIN", ["generic|99999"], date(2026, 6, 1), None),
        (None, ["generic|00077"], date(2026, 6, 1), Price("generic|00077", 25_000, "all-1405")),
    ],
)
def test_price_in_force(insurer: str | None, keys: list[str], day: date, expected: Price | None) -> None:
    assert parse_tariffs(DOC).price(insurer, keys, day) == expected


def _with(**changes: Any) -> dict[str, Any]:
    first = {**DOC["schedules"][0], **changes}
    return {"schedules": [first, *DOC["schedules"][1:]]}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_with(validTo="2026-03-21"), "overlap"),  # one day into all-1405
        (_with(id="all-1405"), "repeat"),
        (_with(validTo="2025-03-20"), "ends before"),
        (_with(prices={"generic|00077": 20_000.5}), "whole rial"),
        (_with(prices={"generic|00077": 0}), "whole rial"),
        (_with(prices={"generic|00077": "20000"}), "whole rial"),
        (_with(prices={"generic|00077": True}), "whole rial"),
    ],
)
def test_refused_tariff_files(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_tariffs(doc)


def test_the_shipped_tariffs_price_every_drug_and_service_today() -> None:
    tariffs = load_policy(DEFAULT_POLICY).tariffs
    doc = json.loads((DEFAULT_POLICY / "tariffs.json").read_text(encoding="utf-8"))
    assert doc["illustrative"] is True and {s.insurer for s in tariffs.schedules} >= {EVERY_INSURER}
    for system in ("generic", "rvu"):
        concepts = json.loads((TERMINOLOGY / f"CodeSystem-{system}.json").read_text(encoding="utf-8"))[
            "concept"
        ]
        for concept in concepts:
            for insurer in ("TAMIN", "SALAMAT"):
                assert tariffs.price(insurer, [f"{system}|{concept['code']}"], date.today()) is not None

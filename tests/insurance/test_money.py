"""Money in whole rials: known answers and the exact boundaries of rounding and sharing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fhir_server.insurance.money import line_amount, money, quantity_of, split


@pytest.mark.parametrize(
    ("quantity", "unit", "amount"),
    [
        ("10", 18_500, 185_000),
        ("2.5", 18_500, 46_250),
        ("0.5", 1, 1),  # half a rial rounds up
        ("1.5", 1, 2),
        ("2.5", 1, 3),  # half up, not to even
        ("0.49", 1, 0),
        ("0.333", 10, 3),  # 3.33
        ("0.335", 10, 3),  # 3.35 -> 3
        ("0.35", 10, 4),  # 3.5 -> 4
        ("0", 99_999, 0),
        ("3", 0, 0),
        ("1000000", 60_000_000, 60_000_000_000_000),  # no float overflow or rounding at scale
    ],
)
def test_line_amount(quantity: str, unit: int, amount: int) -> None:
    found = line_amount(Decimal(quantity), unit)
    assert found == amount and type(found) is int


def test_line_amount_refuses_a_negative_price() -> None:
    with pytest.raises(ValueError, match="not negative"):
        line_amount(Decimal(1), -1)


@pytest.mark.parametrize(
    ("amount", "percent", "insurer", "patient"),
    [
        (185_000, 70, 129_500, 55_500),
        (46_250, 70, 32_375, 13_875),
        (99, 70, 69, 30),  # 69.3 floored
        (1, 70, 0, 1),  # a rial the insurer cannot split stays with the patient
        (3, 90, 2, 1),  # 2.7 floored
        (10, 90, 9, 1),
        (12_345, 0, 0, 12_345),
        (12_345, 100, 12_345, 0),
        (0, 70, 0, 0),
    ],
)
def test_split(amount: int, percent: int, insurer: int, patient: int) -> None:
    assert split(amount, percent) == (insurer, patient)


@pytest.mark.parametrize(("amount", "percent"), [(100, -1), (100, 101), (-1, 50)])
def test_split_refuses_what_is_not_a_share(amount: int, percent: int) -> None:
    with pytest.raises(ValueError):
        split(amount, percent)


@pytest.mark.parametrize(("value", "exact"), [(2.5, "2.5"), (0.1, "0.1"), (10, "10"), ("7.25", "7.25")])
def test_quantity_of_keeps_what_the_client_wrote(value: object, exact: str) -> None:
    assert quantity_of(value) == Decimal(exact)


@pytest.mark.parametrize("value", [-1, -0.5, float("nan"), float("inf"), "abc", True, None, [1]])
def test_quantity_of_refuses(value: object) -> None:
    with pytest.raises(ValueError):
        quantity_of(value)


def test_money_is_rials() -> None:
    assert money(185_000) == {"value": 185_000, "currency": "IRR"}

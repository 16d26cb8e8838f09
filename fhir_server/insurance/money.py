"""Money in whole rials (IRR): integers from the first multiplication on, never floats.

A line's amount is quantity x unit price, rounded half up to a whole rial (quantities may
be fractional: half a bottle). Sharing an amount between the insurer and the patient
floors the insurer's part to a whole rial and leaves the rest to the patient, so the two
always add up to the amount exactly.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CURRENCY = "IRR"


def quantity_of(value: object) -> Decimal:
    """A FHIR decimal (parsed by JSON as int or float) as an exact, non-negative Decimal.

    A float goes through its shortest text (`2.5`, not 2.5000000000000001...), which is
    what the client wrote."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"not a quantity: {value!r}")
    try:
        found = Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a quantity: {value!r}") from exc
    if not found.is_finite() or found < 0:
        raise ValueError(f"a quantity is a finite number not below 0: {value!r}")
    return found


def line_amount(quantity: Decimal, unit_price: int) -> int:
    """quantity x unit price in whole rials, half up (2.5 x 1 rial = 3 rials)."""
    if unit_price < 0:
        raise ValueError(f"a unit price is not negative: {unit_price}")
    return int((quantity * unit_price).to_integral_value(rounding=ROUND_HALF_UP))


def split(amount: int, insurer_percent: int) -> tuple[int, int]:
    """(insurer's part, patient's part) of `amount`: the insurer's floored to a rial."""
    if not 0 <= insurer_percent <= 100:
        raise ValueError(f"a share is a percent from 0 to 100: {insurer_percent}")
    if amount < 0:
        raise ValueError(f"an amount to share is not negative: {amount}")
    insurer = amount * insurer_percent // 100
    return insurer, amount - insurer


def money(amount: int) -> dict[str, object]:
    """A FHIR Money in rials."""
    return {"value": amount, "currency": CURRENCY}

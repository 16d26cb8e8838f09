"""The few UCUM conversions invariants need (rng-2 compares a Range's low and high;
comparable() asks whether two quantities convert): mass, volume, time and length units
in their common prefixes. Anything else compares only with the same unit."""

from __future__ import annotations

from typing import Any

UCUM = "http://unitsofmeasure.org"

# unit code -> (dimension, factor to the dimension's base unit)
FACTORS: dict[str, tuple[str, float]] = {
    "kg": ("g", 1e3),
    "g": ("g", 1.0),
    "mg": ("g", 1e-3),
    "ug": ("g", 1e-6),
    "ng": ("g", 1e-9),
    "L": ("L", 1.0),
    "dL": ("L", 1e-1),
    "mL": ("L", 1e-3),
    "uL": ("L", 1e-6),
    "s": ("s", 1.0),
    "min": ("s", 60.0),
    "h": ("s", 3600.0),
    "d": ("s", 86400.0),
    "wk": ("s", 604800.0),
    "mo": ("s", 2629800.0),  # UCUM: mean Julian month, 30.4375 days
    "a": ("s", 31557600.0),  # UCUM: mean Julian year, 365.25 days
    "km": ("m", 1e3),
    "m": ("m", 1.0),
    "cm": ("m", 1e-2),
    "mm": ("m", 1e-3),
}


def unit_of(quantity: dict[str, Any]) -> tuple[Any, Any]:
    """(system, code) when coded, else (None, the human unit)."""
    code = quantity.get("code")
    return (quantity.get("system"), code) if code is not None else (None, quantity.get("unit"))


def in_common_units(a: dict[str, Any], b: dict[str, Any]) -> tuple[float, float] | None:
    """The two values in one unit, or None when the units do not convert."""
    va, vb = a.get("value"), b.get("value")
    if not isinstance(va, (int, float)) or not isinstance(vb, (int, float)) or isinstance(va, bool):
        return None
    ua, ub = unit_of(a), unit_of(b)
    if ua == ub:
        return float(va), float(vb)
    if ua[0] == ub[0] == UCUM and ua[1] in FACTORS and ub[1] in FACTORS:
        (da, fa), (db, fb) = FACTORS[ua[1]], FACTORS[ub[1]]
        if da == db:
            return va * fa, vb * fb
    return None

"""Reading prescription items: the quantities dispensing counts against, the codes the
rules look up, the references and markers the workflow follows."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.eprescription import items
from tests.eprescription.cycle_helpers import GENERIC, PRESCRIPTION, RVU, drug, service

IRC = "http://noskhe.ir/fhir/CodeSystem/irc"


@pytest.mark.parametrize(
    ("qty", "repeats", "total"),
    [(20, 0, 20), (10, 1, 20), (10, 3, 40), (2.5, 1, 5), (1, 0, 1), (0, 3, 0)],
)
def test_allowed_total_is_quantity_times_one_plus_repeats(qty: float, repeats: int, total: float) -> None:
    item = drug("00077", qty, repeats)
    assert (items.quantity(item), items.repeats(item), items.allowed_total(item)) == (qty, repeats, total)


def test_missing_quantities() -> None:
    bare = {"resourceType": "MedicationRequest"}
    assert (items.quantity(bare), items.repeats(bare), items.allowed_total(bare)) == (0, 0, 0)
    no_value = {"resourceType": "MedicationRequest", "dispenseRequest": {"quantity": {"unit": "tab"}}}
    assert items.quantity(no_value) == 0
    # a service is one unless it says otherwise
    assert items.quantity({"resourceType": "ServiceRequest"}) == 1
    assert items.quantity(service("801005", qty=3)) == 3
    assert items.allowed_total(service("801005", qty=2)) == 2


def test_code_keys_and_generic_codes() -> None:
    item = drug("00077")
    item["medicationCodeableConcept"]["coding"] += [
        {"system": IRC, "code": "1234567890123456"},
        {"system": "http://www.whocc.no/atc", "code": "J01CA04"},  # not a policy key
        {"system": GENERIC},  # no code
    ]
    assert items.code_keys(item) == ["generic|00077", "irc|1234567890123456"]
    assert items.generic_codes(item) == ["00077"]
    assert items.code_keys(service("801005")) == ["rvu|801005"]
    assert items.generic_codes(service("801005")) == []
    dispensed = {
        "resourceType": "MedicationDispense",
        "medicationCodeableConcept": {"coding": [{"system": GENERIC, "code": "00076"}]},
    }
    assert items.code_keys(dispensed) == ["generic|00076"]
    assert items.code_keys({"resourceType": "ServiceRequest"}) == []
    odd = {
        "resourceType": "MedicationRequest",
        "medicationCodeableConcept": {"coding": [{"system": GENERIC, "code": "0|7|7"}]},
    }
    assert items.generic_codes(odd) == ["0|7|7"]  # a code is opaque: only the key's first bar splits


def test_label_prefers_a_display_then_text_then_code() -> None:
    assert items.label(drug("00077", display="Amoxicillin 500")) == "Amoxicillin 500"
    with_text = drug("00077")
    with_text["medicationCodeableConcept"]["text"] = "آموکسی‌سیلین"
    assert items.label(with_text) == "آموکسی‌سیلین"
    assert items.label(drug("00077")) == "generic|00077"
    assert items.label({"resourceType": "ServiceRequest", "code": {"coding": [{"system": RVU}]}}) == "?"


def test_kind() -> None:
    assert items.kind(drug("00077")) == "drug"
    assert items.kind(service("801005", category="03")) == "03"
    other = service("801005")
    other["category"] = [{"coding": [{"system": "http://example.org", "code": "lab"}]}]
    assert items.kind(other) == "?"
    assert items.kind({"resourceType": "ServiceRequest"}) == "?"


def test_is_eprescription_needs_the_national_prescription_system() -> None:
    assert items.is_eprescription(drug("00077"))
    assert items.is_eprescription(service("801005"))
    hospital = drug("00077")
    hospital["groupIdentifier"] = {"system": "http://hospital.example/orders", "value": "1"}
    assert not items.is_eprescription(hospital)
    assert not items.is_eprescription({"resourceType": "MedicationRequest"})
    assert not items.is_eprescription(
        {"resourceType": "Observation", "groupIdentifier": {"system": PRESCRIPTION}}
    )
    assert not items.is_eprescription(None) and not items.is_eprescription({})


def test_group_of_each_request_type() -> None:
    mr, sr = drug("00077"), service("801005")
    assert (items.group_field(mr), items.group_field(sr)) == ("groupIdentifier", "requisition")
    assert items.group_value(mr) == "new"
    items.set_group(sr, "030815000000007")
    assert sr["requisition"] == {"system": PRESCRIPTION, "value": "030815000000007"}
    assert items.group_value({"resourceType": "ServiceRequest"}) is None
    assert items.group_value({"resourceType": "ServiceRequest", "requisition": {"value": ""}}) is None


def test_identifiers_and_extensions_are_replaced_not_repeated() -> None:
    item: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "identifier": [{"system": "a", "value": "1"}],
    }
    items.set_identifier(item, "b", "2")
    items.set_identifier(item, "b", "3")
    assert item["identifier"] == [{"system": "a", "value": "1"}, {"system": "b", "value": "3"}]
    assert (items.identifier(item, "b"), items.identifier(item, "a"), items.identifier(item, "c")) == (
        "3",
        "1",
        None,
    )
    items.set_extension(item, items.EXT_DISPENSED, "valueDecimal", 5)
    items.set_extension(item, items.EXT_EXPIRY, "valueDate", "2026-04-01")
    items.set_extension(item, items.EXT_DISPENSED, "valueDecimal", 7)
    assert item["extension"] == [
        {"url": items.EXT_EXPIRY, "valueDate": "2026-04-01"},
        {"url": items.EXT_DISPENSED, "valueDecimal": 7},
    ]
    assert items.extension(item, items.EXT_DISPENSED) == 7
    assert items.extension(item, items.EXT_EDITS) is None
    shares = {"url": items.EXT_SHARES, "extension": [{"url": "insurer", "valueDecimal": 70}]}
    assert items.extension({"extension": [shares]}, items.EXT_SHARES) == shares["extension"]


@pytest.mark.parametrize(
    ("ref", "type_", "found"),
    [
        ({"reference": "Patient/pat-1"}, "Patient", "pat-1"),
        ({"reference": "Patient/pat-1/_history/2"}, "Patient", "pat-1"),
        ({"reference": "Patientx/pat-1"}, "Patient", None),
        ({"reference": "Group/pat-1"}, "Patient", None),
        ({"display": "someone"}, "Patient", None),
        ("Patient/pat-1", "Patient", None),
        (None, "Patient", None),
    ],
)
def test_ref_id(ref: Any, type_: str, found: str | None) -> None:
    assert items.ref_id(ref, type_) == found


def test_who_and_what_an_item_points_at() -> None:
    item = drug("00077")
    assert items.patient_id(item) == "pat-1"
    assert items.requester_ref(item) == "Practitioner/dr-1"
    assert items.requester_ref({"resourceType": "MedicationRequest"}) is None
    item["insurance"] = [
        {"reference": "Organization/x"},
        {"reference": "Coverage/cov-2"},
        {"reference": "Coverage/3"},
    ]
    assert items.coverage_id(item) == "cov-2"
    assert items.coverage_id({"resourceType": "MedicationRequest", "insurance": [{"display": "x"}]}) is None


def test_issued_on_is_the_day_of_authored_on() -> None:
    assert items.issued_on({"authoredOn": "2026-03-15T10:00:00+03:30"}) == "2026-03-15"
    assert items.issued_on({"authoredOn": "2026-03-15"}) == "2026-03-15"
    assert items.issued_on({}) == ""

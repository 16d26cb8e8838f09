"""What each kind of write unit claims or writes on MongoDB, listed and compared: units
for distinct patients (or items, or identifiers) share no document, so they never
conflict with each other by design (issue: no cluster-wide serialisation).

Every write command the app sends is recorded (collection and `_id`) by a pymongo
command listener, unit by unit (one request is one unit here).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_server.app import create_app
from fhir_server.config import Settings
from tests.eprescription.cycle_helpers import dispense, drug, people, prescriptions, submission
from tests.storage.conformance.noskhe_test_servers import with_database
from tests.storage.write_ledger import WriteLedger

FHIR = {"Content-Type": "application/fhir+json"}


def person(n: int) -> list[dict[str, Any]]:
    """Patient pat-n with a visit and a coverage (n=1 is cycle_helpers' own)."""
    text = json.dumps(people(national_code=["0018243460", "0451253541", "1531257747"][n - 1]))
    for old in ("pat-1", "enc-1", "cov-1"):
        text = text.replace(f'"{old}"', f'"{old[:-1]}{n}"').replace(f'/{old}"', f'/{old[:-1]}{n}"')
    return [
        r for r in json.loads(text) if n == 1 or r["resourceType"] in ("Patient", "Encounter", "Coverage")
    ]


def for_patient(item: dict[str, Any], n: int) -> dict[str, Any]:
    return json.loads(
        json.dumps(item)
        .replace("Patient/pat-1", f"Patient/pat-{n}")
        .replace("Encounter/enc-1", f"Encounter/enc-{n}")
        .replace("Coverage/cov-1", f"Coverage/cov-{n}")
    )


@pytest.fixture(scope="module")
def ledger() -> Iterator[WriteLedger]:
    with WriteLedger.listening() as found:
        yield found


@pytest.fixture(scope="module")
def api(
    tmp_path_factory: pytest.TempPathFactory, mongo_uri: str, ledger: WriteLedger
) -> Iterator[FlaskClient]:
    url = with_database(mongo_uri, f"noskhe_contention_{uuid.uuid4().hex[:10]}")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOSKHE_ACCEPT_UNSIGNED", "1")
        app = create_app(Settings(data_dir=tmp_path_factory.mktemp("contention"), auth=False, store_url=url))
        client = app.test_client()
        for r in person(1) + person(2):
            assert client.put(f"/fhir/{r['resourceType']}/{r['id']}", json=r, headers=FHIR).status_code in (
                200,
                201,
            )
        yield client


QUANTITIES = iter(range(10, 1000))  # a new quantity each time: never a duplicate item


def prescribe(api: FlaskClient, ledger: WriteLedger, n: int) -> tuple[set[str], dict[str, Any]]:
    with ledger.unit() as written:
        r = api.post(
            "/fhir/MedicationRequest/$prescribe",
            json=submission([for_patient(drug("90043", next(QUANTITIES), 1), n)]),
            headers=FHIR,
        )
    assert r.status_code == 200, r.get_data(as_text=True)
    return written, prescriptions(r.get_json())[0]["items"][0]


def test_prescribing_for_two_patients_shares_no_document(api: FlaskClient, ledger: WriteLedger) -> None:
    one, _ = prescribe(api, ledger, 1)
    two, _ = prescribe(api, ledger, 2)
    print("prescribing for a patient writes:", *sorted(one), sep="\n  ")
    assert one and two and not one & two
    assert {"stamps/patient-items|pat-1"} <= one  # the claim on the patient its rules read
    inputs = ("resources/Patient/", "resources/Encounter/", "resources/Coverage/", "resources/Practitioner")
    assert not any(d.startswith(inputs) for d in one | two)  # read as input, not claimed
    for written in (one, two):  # what made every unit collide before
        assert not any(d.startswith(("counters/", "locks/search:")) for d in written)


def test_dispensing_two_items_shares_no_document(api: FlaskClient, ledger: WriteLedger) -> None:
    _, item1 = prescribe(api, ledger, 1)
    _, item2 = prescribe(api, ledger, 2)
    units = []
    for item in (item1, item2):
        with ledger.unit() as written:
            r = api.post("/fhir/MedicationDispense", json=dispense(item, 1), headers=FHIR)
        assert r.status_code == 201, r.get_data(as_text=True)
        units.append(written)
    print("dispensing an item writes:", *sorted(units[0]), sep="\n  ")
    assert f"resources/MedicationRequest/{item1['id']}" in units[0]  # the claim on the item
    assert not units[0] & units[1]


def conditional_create(
    api: FlaskClient, ledger: WriteLedger, criteria: str, body: dict[str, Any]
) -> set[str]:
    with ledger.unit() as written:
        r = api.post("/fhir/Patient", json=body, headers={**FHIR, "If-None-Exist": criteria})
    assert r.status_code == 201, r.get_data(as_text=True)
    return written


def test_conditional_creates_on_two_identifiers_share_no_document(
    api: FlaskClient, ledger: WriteLedger
) -> None:
    system = "http://example.org/mrn"
    units = [
        conditional_create(
            api,
            ledger,
            f"identifier={system}|{v}",
            {"resourceType": "Patient", "identifier": [{"system": system, "value": v}]},
        )
        for v in ("A-1", "B-2")
    ]
    print("a conditional create on an identifier writes:", *sorted(units[0]), sep="\n  ")
    assert f"locks/identifier|Patient|{system}|A-1" in units[0]
    assert not units[0] & units[1]


def test_conditional_creates_on_other_criteria_serialise_per_type(
    api: FlaskClient, ledger: WriteLedger
) -> None:
    """The one kind of unit that still claims per type (repository.conditional says why)."""
    units = [
        conditional_create(api, ledger, f"name={name}", {"resourceType": "Patient", "name": [{"text": name}]})
        for name in ("Sara", "Reza")
    ]
    assert units[0] & units[1] == {"locks/type|Patient"}


def test_conditional_units_that_could_miss_each_other_share_a_lock(
    api: FlaskClient, ledger: WriteLedger
) -> None:
    """Criteria on an identifier and criteria on a name, both storing a resource that
    carries the identifier: each could match what the other stores, so they must collide."""
    system = "http://example.org/mrn"
    keyed = conditional_create(
        api,
        ledger,
        f"identifier={system}|C-3",
        {
            "resourceType": "Patient",
            "identifier": [{"system": system, "value": "C-3"}],
            "name": [{"text": "Nima"}],
        },
    )
    by_name = conditional_create(
        api,
        ledger,
        "name=Nima-2",
        {
            "resourceType": "Patient",
            "identifier": [{"system": system, "value": "C-3"}],
            "name": [{"text": "Nima-2"}],
        },
    )
    assert keyed & by_name == {f"locks/identifier|Patient|{system}|C-3"}

"""A real FHIR client library (fhirpy) against the real server."""

from __future__ import annotations

import pytest
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import OperationOutcome, ResourceNotFound

from tests.conftest import RunningServer

pytestmark = pytest.mark.e2e


def test_fhirpy_create_read_update_delete(server: RunningServer) -> None:
    client = SyncFHIRClient(server.base)
    patient = client.resource("Patient", name=[{"family": "کریمی", "given": ["زهرا"]}], gender="female")
    patient.save()
    assert patient.id and patient["meta"]["versionId"] == "1"

    fetched = client.reference("Patient", patient.id).to_resource()
    assert fetched["name"][0]["family"] == "کریمی"

    fetched["birthDate"] = "1992-09-23"
    fetched.save()
    assert fetched["meta"]["versionId"] == "2"

    with pytest.raises(OperationOutcome):
        client.resource("Patient", gender="bogus").save()

    fetched.delete()
    with pytest.raises((ResourceNotFound, OperationOutcome)):
        client.reference("Patient", patient.id).to_resource()


def test_fhirpy_count_pages_and_absolute_references(server: RunningServer) -> None:
    """fhirpy's count() sends `_count=0&_totalMethod=count` and reads Bundle.total; its
    references are this server's absolute URLs when built from a fetched resource's url."""
    client = SyncFHIRClient(server.base)
    family = "Shomaresh"
    created = []
    for i in range(12):
        p = client.resource("Patient", name=[{"family": family, "given": [f"n{i}"]}])
        p.save()
        created.append(p.id)
    client.resource("Patient", name=[{"family": "Digari"}]).save()
    search = client.resources("Patient").search(family=family)
    assert search.count() == 12
    assert sorted(p.id for p in search.limit(5).fetch_all()) == sorted(created)

    obs = client.resource(
        "Observation", status="final", code={"text": "weight"}, subject={"reference": f"Patient/{created[0]}"}
    )
    obs.save()
    found = client.resources("Observation").search(subject=f"{server.base}/Patient/{created[0]}").fetch()
    assert [o.id for o in found] == [obs.id]
    assert (
        client.resources("Observation")
        .search(subject=f"http://elsewhere.example/fhir/Patient/{created[0]}")
        .count()
        == 0
    )


def test_fhirpy_merge_style_patch_is_refused_with_the_supported_formats(server: RunningServer) -> None:
    """fhirpy's patch() sends a merge-style object as application/json (Aidbox style): no
    FHIR patch format, so 415 with an OperationOutcome naming the two that are."""
    client = SyncFHIRClient(server.base)
    patient = client.resource("Patient", gender="female")
    patient.save()
    with pytest.raises(OperationOutcome) as err:
        client.patch("Patient", patient.id, gender="male")
    text = str(err.value)
    assert "application/json-patch+json" in text and "application/fhir+json" in text
    assert client.reference("Patient", patient.id).to_resource()["gender"] == "female"

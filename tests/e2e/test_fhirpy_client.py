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

"""Bad input never yields a 5xx: a bounded property-based fuzz of create, update, search,
transaction/batch bodies, operations and query strings. Every answer is below 500, and
every 4xx carries an OperationOutcome. Derandomized (the same examples on every run) and
bounded in time, so CI stays fast and a failure reproduces."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fhir_server.app import create_app
from fhir_server.config import Settings

TYPES = [
    "Patient",
    "MedicationRequest",
    "ServiceRequest",
    "MedicationDispense",
    "Provenance",
    "DiagnosticReport",
    "Observation",
    "AuditEvent",
    "Bundle",
    "Coverage",
    "Encounter",
]
KEYS = [
    "resourceType",
    "id",
    "meta",
    "status",
    "intent",
    "subject",
    "patient",
    "reference",
    "identifier",
    "system",
    "value",
    "code",
    "coding",
    "extension",
    "url",
    "valueReference",
    "valueString",
    "quantity",
    "dispenseRequest",
    "medicationCodeableConcept",
    "groupIdentifier",
    "requisition",
    "authorizingPrescription",
    "basedOn",
    "target",
    "signature",
    "type",
    "entry",
    "request",
    "method",
    "resource",
    "fullUrl",
    "birthDate",
    "name",
    "text",
    "div",
    "contained",
    "performer",
    "actor",
]
PARAMS = [
    "_id",
    "_count",
    "_sort",
    "_include",
    "_revinclude",
    "_summary",
    "_elements",
    "_total",
    "_has:Observation:patient:code",
    "_type",
    "_lastUpdated",
    "identifier",
    "subject",
    "subject:Patient.identifier",
    "patient.name",
    "code",
    "code:in",
    "status:not",
    "date",
    "value-quantity",
    "birthdate",
    "name:exact",
    "_cursor",
    "_format",
    "component-code-value-quantity",
    "prescription",
    "return-of",
    "x",
]
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    TEXT,
    st.sampled_from(TYPES),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS) | TEXT, inner, max_size=5)
    ),
    max_leaves=12,
)
RESOURCE = st.fixed_dictionaries({"resourceType": st.sampled_from(TYPES) | JSON}, optional={}).flatmap(
    lambda base: st.dictionaries(st.sampled_from(KEYS), JSON, max_size=6).map(lambda rest: {**rest, **base})
)
ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "resource": RESOURCE | JSON,
        "request": st.fixed_dictionaries(
            {},
            optional={
                "method": st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]) | JSON,
                "url": st.sampled_from([f"{t}" for t in TYPES] + [f"{t}/x" for t in TYPES] + ["Patient?x=1"])
                | TEXT
                | JSON,
                "ifNoneExist": TEXT,
                "ifMatch": TEXT,
            },
        ),
        "fullUrl": TEXT | JSON,
    },
)
BUNDLE = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle"), "type": st.sampled_from(["transaction", "batch"]) | JSON},
    optional={"entry": st.lists(ENTRY, max_size=4) | JSON},
)
QUERY = st.lists(
    st.tuples(st.sampled_from(PARAMS) | TEXT, TEXT | st.sampled_from(["ge2020", "a|b", "$", "eq1"])),
    max_size=4,
)
OPERATIONS = [
    "MedicationRequest/$prescribe",
    "Provenance/$sign",
    "MedicationDispense/$record-paper",
    "CoverageEligibilityRequest/$eligibility",
    "MedicationRequest/$check-rules",
    "Patient/$validate",
    "CodeSystem/$lookup",
    "ValueSet/$expand",
]
REQUEST = st.one_of(
    st.tuples(st.just("POST"), st.sampled_from(TYPES), RESOURCE | JSON),
    st.tuples(
        st.just("PUT"),
        st.sampled_from([f"{t}/x" for t in TYPES] + [f"{t}?_id=x" for t in TYPES]),
        RESOURCE | JSON,
    ),
    st.tuples(st.just("POST"), st.just(""), BUNDLE | JSON),
    st.tuples(st.just("POST"), st.sampled_from(OPERATIONS), RESOURCE | BUNDLE | JSON),
    st.tuples(st.just("PATCH"), st.sampled_from(["Patient/x", "Observation?_id=x"]), JSON),
    st.tuples(st.just("GET"), st.sampled_from(["", *TYPES, "Patient/x/Observation", "_history"]), QUERY),
)


HEADERS = st.dictionaries(
    st.sampled_from(["Prefer", "If-Match", "If-None-Exist", "If-None-Match", "Accept", "Idempotency-Key"]),
    st.sampled_from(['W/"1"', "return=minimal", "handling=strict", "identifier=x", "*", "application/xml"])
    | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    max_size=2,
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("fuzz"), auth=False))
    client = app.test_client()
    patient = {"resourceType": "Patient", "id": "x", "name": [{"text": "x"}]}
    assert client.put("/fhir/Patient/x", json=patient).status_code in (200, 201)
    return app


def send(app: Flask, method: str, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    client = app.test_client()
    if method == "GET":
        query = "&".join(f"{quote(str(k), safe=':._')}={quote(str(v))}" for k, v in payload)
        return client.get(f"/fhir/{path}?{query}", headers=headers or {})
    content_type = "application/json-patch+json" if method == "PATCH" else "application/fhir+json"
    body = json.dumps(payload, ensure_ascii=False)
    headers = {"Content-Type": content_type, **(headers or {})}
    return client.open(f"/fhir/{path}", method=method, data=body.encode(), headers=headers)


@settings(
    max_examples=int(os.environ.get("NOSKHE_FUZZ_EXAMPLES", "400")),
    deadline=None,
    derandomize=os.environ.get("NOSKHE_FUZZ_RANDOM") != "1",
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(request=REQUEST, headers=HEADERS)
def test_bad_input_is_never_a_5xx(app: Flask, request: tuple[str, str, Any], headers: dict[str, str]) -> None:
    method, path, payload = request
    response = send(app, method, path, payload, headers)
    assert response.status_code < 500, (method, path, payload, headers, response.get_data(as_text=True))
    if 400 <= response.status_code < 500:
        body = response.get_json(silent=True)
        assert body is not None and body.get("resourceType") == "OperationOutcome", (method, path, payload)
        assert body["issue"], body


@pytest.mark.parametrize("type_", ["MedicationRequest", "ServiceRequest"])
def test_known_500s_stay_fixed(app: Flask, type_: str) -> None:
    """`{"resourceType": {}}` to the e-prescription types, and in $prescribe."""
    for path in (type_, f"{type_}/$prescribe"):
        body = (
            {"resourceType": {}}
            if "$" not in path
            else {"resourceType": "Bundle", "entry": [{"resource": {"resourceType": {}}}]}
        )
        response = send(app, "POST", path, body)
        assert 400 <= response.status_code < 500, response.get_data(as_text=True)
        assert response.get_json()["resourceType"] == "OperationOutcome"


def test_fuzz_data_dir_kept_nothing_unexpected(app: Flask, tmp_path: Path) -> None:
    """The fuzz wrote nothing it should not have: no AuditEvent through the API."""
    found = app.test_client().get("/fhir/AuditEvent?_summary=count").get_json()
    assert found["total"] == 0

"""The R4 core CodeSystems and ValueSets (terminology/data/r4-core.json.gz) in the
terminology service and through $lookup, $validate-code and $expand."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from fhir_server import definitions
from terminology import TerminologyError, default_service
from terminology.r4core import CORE_FILE, r4_core

VITALS = "http://hl7.org/fhir/ValueSet/observation-vitalsignresult"
LOINC = "http://loinc.org"
# Required bindings of R4 whose codes no local code system can list: grammar-based or
# external systems (ISO 4217, MIME types, UCUM) and a LOINC answer list R4 does not ship.
NOT_ENUMERABLE = {
    "http://hl7.org/fhir/ValueSet/currencies",
    "http://hl7.org/fhir/ValueSet/mimetypes",
    "http://hl7.org/fhir/ValueSet/ucum-units",
    "http://loinc.org/vs/LL379-9",
}


def _param(body: dict[str, Any], name: str) -> Any:
    for p in body["parameter"]:
        if p["name"] == name:
            return next((v for k, v in p.items() if k.startswith("value")), None)
    return None


def test_the_file_is_a_clean_list_of_code_systems_and_value_sets() -> None:
    data = orjson.loads(gzip.decompress(CORE_FILE.read_bytes()))
    assert data["fhirVersion"] == "4.0.1"
    kinds = {r["resourceType"] for r in data["resources"]}
    assert kinds == {"CodeSystem", "ValueSet"}
    assert len(data["resources"]) == 2378 and not any("text" in r for r in data["resources"])
    assert all(r.get("id") and r.get("url") for r in data["resources"])
    urls = [(r["resourceType"], r["url"]) for r in data["resources"]]
    assert len(set(urls)) == len(urls)


def test_every_required_binding_expands_to_the_codes_the_definitions_list() -> None:
    """Two derivations agree: the service's expansion of each required-bound value set and
    the codes the definitions script computed for validation (valuesets.json)."""
    service = default_service()
    urls = sorted(_required_urls())
    assert len(urls) >= 220
    for url in urls:
        expected = definitions.required_codes_by_system(url)
        if url in NOT_ENUMERABLE:
            assert expected is None
            with pytest.raises(TerminologyError):
                service.expand(url)
            continue
        got: dict[str, set[str]] = {}
        for entry in service.expand(url).entries:
            got.setdefault(entry.system, set()).add(entry.code)
        assert expected is not None and got == {s: set(c) for s, c in expected.items()}, url


def _required_urls() -> set[str]:
    return {
        e.binding for t in definitions.type_names() for e in definitions.element_tree(t).values() if e.binding
    }


def test_snomed_based_value_sets_are_not_silently_empty() -> None:
    """R4 ships a SNOMED CT stub (content not-present): its filters list nothing here,
    which must read as "cannot list", never as an empty value set."""
    service = default_service()
    with pytest.raises(TerminologyError) as err:
        service.expand("http://hl7.org/fhir/ValueSet/condition-code")
    assert "snomed" in err.value.message
    assert (
        service.member("http://hl7.org/fhir/ValueSet/condition-code", "http://snomed.info/sct", "44054006")
        is None
    )


def test_lookup_validate_and_expand_over_http(client: FlaskClient) -> None:
    r = client.get(
        "/fhir/CodeSystem/$lookup?system=http://terminology.hl7.org/CodeSystem/v3-ActCode&code=AMB"
    )
    assert r.status_code == 200 and _param(r.json, "display") == "ambulatory"
    r = client.get("/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=other")
    assert r.status_code == 200 and _param(r.json, "display") == "Other"

    ok = client.get(f"/fhir/ValueSet/$validate-code?url={VITALS}&system={LOINC}&code=8480-6")
    assert ok.status_code == 200 and _param(ok.json, "result") is True
    glucose = client.get(f"/fhir/ValueSet/$validate-code?url={VITALS}&system={LOINC}&code=2339-0")
    assert _param(glucose.json, "result") is False

    r = client.get("/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender")
    assert r.status_code == 200
    assert {c["code"] for c in r.json["expansion"]["contains"]} == {"male", "female", "other", "unknown"}
    # Instance level: the core value set by its id; v3 hierarchy through is-a filters.
    r = client.get("/fhir/ValueSet/observation-vitalsignresult/$expand")
    assert r.status_code == 200 and r.json["expansion"]["total"] == 13
    r = client.get("/fhir/ValueSet/$expand?url=http://terminology.hl7.org/ValueSet/v3-ActEncounterCode")
    assert r.status_code == 200
    assert {"AMB", "EMER", "IMP"} <= {c["code"] for c in r.json["expansion"]["contains"]}
    r = client.get("/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/condition-code")
    assert r.status_code == 422 and r.json["resourceType"] == "OperationOutcome"


def test_the_catalogue_loads_once_and_answers_by_url_and_id() -> None:
    core = r4_core()
    assert core is r4_core()
    by_url = core.get("ValueSet", VITALS)
    assert by_url is not None and core.by_id("ValueSet", "observation-vitalsignresult") is by_url
    assert core.get("ValueSet", VITALS, "4.0.1") is by_url and core.get("ValueSet", VITALS, "3.0.2") is None
    assert "http://hl7.org/fhir/administrative-gender" in core.urls("CodeSystem")

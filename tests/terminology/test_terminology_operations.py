"""The terminology operations over HTTP (Flask test client, the app as create_app wires it):
$lookup, $validate-code, $expand, $translate, $subsumes, $terminology-import."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

BASE = "http://noskhe.ir/fhir"
GENERIC = f"{BASE}/CodeSystem/generic"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def js(response: TestResponse) -> dict[str, Any]:
    data = response.get_json()
    assert isinstance(data, dict)
    return data


def param(body: dict[str, Any], name: str) -> Any:
    for p in body["parameter"]:
        if p["name"] == name:
            return next((v for k, v in p.items() if k.startswith("value")), p.get("part"))
    return None


def test_lookup(client: FlaskClient) -> None:
    r = client.get(f"/fhir/CodeSystem/$lookup?system={GENERIC}&code=00077")
    assert r.status_code == 200
    assert param(js(r), "display") == "Amoxicillin 500 mg capsule"
    fa = client.get(
        f"/fhir/CodeSystem/$lookup?system={GENERIC}&code=00077", headers={"Accept-Language": "fa"}
    )
    assert param(js(fa), "display") == "آموکسی‌سیلین ۵۰۰ میلی‌گرم کپسول"
    missing = client.get(f"/fhir/CodeSystem/$lookup?system={GENERIC}&code=nope")
    assert missing.status_code == 404 and js(missing)["resourceType"] == "OperationOutcome"
    assert client.get("/fhir/CodeSystem/$lookup?code=1").status_code == 400


def test_lookup_post_parameters(client: FlaskClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "coding", "valueCoding": {"system": GENERIC, "code": "00076"}},
            {"name": "property", "valueCode": "atc"},
        ],
    }
    r = client.post("/fhir/CodeSystem/$lookup", json=body, headers=FHIR_JSON)
    assert r.status_code == 200
    props = [p["part"] for p in js(r)["parameter"] if p["name"] == "property"]
    assert props == [[{"name": "code", "valueCode": "atc"}, {"name": "value", "valueCode": "J01CA04"}]]


def test_validate_code_valueset_and_codesystem(client: FlaskClient) -> None:
    r = client.get(f"/fhir/ValueSet/$validate-code?url={BASE}/ValueSet/drugs&system={GENERIC}&code=00077")
    assert param(js(r), "result") is True
    r = client.get(f"/fhir/ValueSet/drugs/$validate-code?system={GENERIC}&code=99999")
    assert param(js(r), "result") is False
    r = client.get(f"/fhir/CodeSystem/$validate-code?url={GENERIC}&code=00078")
    assert param(js(r), "result") is True
    r = client.get("/fhir/CodeSystem/generic/$validate-code?code=00078")
    assert param(js(r), "result") is True


def test_expand_with_filter_and_paging(client: FlaskClient) -> None:
    r = client.get(f"/fhir/ValueSet/$expand?url={BASE}/ValueSet/drugs&filter=آموكسي&count=2")
    assert r.status_code == 200
    expansion = js(r)["expansion"]
    assert expansion["total"] == 7 and len(expansion["contains"]) == 2
    assert expansion["contains"][0]["code"] == "00076"
    page2 = js(client.get("/fhir/ValueSet/drugs/$expand?filter=amox&count=2&offset=2"))["expansion"]
    assert page2["offset"] == 2 and page2["contains"][0]["code"] == "00078"
    fa = js(client.get("/fhir/ValueSet/drugs/$expand?filter=amox&count=1&displayLanguage=fa"))
    assert fa["expansion"]["contains"][0]["display"].startswith("آموکسی")
    assert client.get(f"/fhir/ValueSet/$expand?url={BASE}/ValueSet/nope").status_code == 404
    assert client.get(f"/fhir/ValueSet/$expand?url={BASE}/ValueSet/icd-10").status_code == 422


def test_expand_inline_valueset(client: FlaskClient) -> None:
    vs = {
        "resourceType": "ValueSet",
        "status": "active",
        "compose": {
            "include": [
                {"system": f"{BASE}/CodeSystem/province", "concept": [{"code": "28"}, {"code": "12"}]}
            ]
        },
    }
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": vs}]}
    r = client.post("/fhir/ValueSet/$expand", json=body, headers=FHIR_JSON)
    assert [c["display"] for c in js(r)["expansion"]["contains"]] == ["Tehran", "Isfahan"]


def test_translate(client: FlaskClient) -> None:
    r = client.get(
        f"/fhir/ConceptMap/$translate?system={BASE}/CodeSystem/irc&code=6200077000000001"
        "&targetsystem=http://www.whocc.no/atc"
    )
    assert param(js(r), "result") is True
    match = param(js(r), "match")
    concept = next(p["valueCoding"] for p in match if p["name"] == "concept")
    assert concept["code"] == "J01CA04"
    r = client.get(
        f"/fhir/ConceptMap/irc-to-generic/$translate?system={BASE}/CodeSystem/irc&code=6200077000000001"
    )
    assert param(js(r), "result") is True


def test_subsumes(client: FlaskClient) -> None:
    r = client.get("/fhir/CodeSystem/$subsumes?system=http://www.whocc.no/atc&codeA=J01&codeB=J01CA04")
    assert param(js(r), "outcome") == "subsumes"


def test_import_operation_and_reimport(client: FlaskClient) -> None:
    cs = {
        "resourceType": "CodeSystem",
        "url": f"{BASE}/CodeSystem/generic",
        "version": "1.1.0",
        "name": "Generic",
        "status": "active",
        "content": "complete",
        "concept": [
            {"code": "00076", "display": "Amoxicillin 250 mg capsule"},
            {"code": "00077", "display": "Amoxicillin 500 mg capsule"},
        ],
    }
    r = client.post("/fhir/$terminology-import", json=cs, headers=FHIR_JSON)
    assert r.status_code == 200, js(r)
    text = " ".join(i["diagnostics"] for i in js(r)["issue"])
    assert "new: CodeSystem" in text and "inactive in" in text
    stored = client.get("/fhir/CodeSystem/Generic-1.1.0")
    assert stored.status_code == 200
    assert len(js(stored)["concept"]) > 300  # the old concepts are kept, inactive
    # the app's service sees the new version at once
    r = client.get(f"/fhir/CodeSystem/$validate-code?url={GENERIC}&code=00078")
    assert param(js(r), "result") is True and param(js(r), "inactive") is True
    r = client.post("/fhir/$terminology-import", json=cs, headers=FHIR_JSON)
    assert "unchanged" in js(r)["issue"][0]["diagnostics"]

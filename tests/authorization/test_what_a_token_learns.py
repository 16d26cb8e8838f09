"""A hostile client learns nothing it may not see: every query a token may send gets the
same answer (entries, totals, page sizes, links, nested bundles) from a store holding
other people's records as from a store holding only what the token may see.

Patient A's token (`patient/*.rs`, launch patient A) asks about patient B by national
code, by a guessed diagnosis, through system search, `_type`, `POST _search`, batch and
transaction search entries, compartments, chains, `_has`, includes, `_summary=count`,
paging, history and `$everything`. A lab-only token (`patient/Observation.rs?category=laboratory`)
asks about A's other observations. On both stores.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask import Flask

from tests.authorization.conftest import AppFactory, Client, mint

NC = "http://noskhe.ir/fhir/sid/national-code"
A_CODE, B_CODE = "0018243460", "1531257747"
LAB = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]
}
VITAL = {
    "coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
    ]
}


def patient(id_: str, code: str, name: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": id_,
        "identifier": [{"system": NC, "value": code}],
        "name": [{"text": name}],
        "telecom": [{"system": "phone", "value": "09121234567"}],
    }


def observation(id_: str, who: str, category: dict[str, Any], value: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "identifier": [{"system": "urn:lab", "value": id_}],
        "category": [category],
        "code": {"coding": [{"system": "http://loinc.org", "code": "5196-1"}]},
        "subject": {"reference": f"Patient/{who}"},
        "performer": [{"reference": "Practitioner/dr"}],
        "effectiveDateTime": "2026-01-02",
        "valueString": value,
    }


def prescription(id_: str, who: str, drug: str) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "id": id_,
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": drug},
        "subject": {"reference": f"Patient/{who}"},
        "requester": {"reference": "Practitioner/dr"},
    }


def coverage(id_: str, who: str) -> dict[str, Any]:
    return {
        "resourceType": "Coverage",
        "id": id_,
        "status": "active",
        "beneficiary": {"reference": f"Patient/{who}"},
        "payor": [{"display": "TAMIN"}],
    }


PRACTITIONER = {"resourceType": "Practitioner", "id": "dr", "name": [{"text": "دکتر رضایی"}]}
A_RECORDS = [
    patient("pa", A_CODE, "مریم احمدی"),
    observation("oa-lab", "pa", LAB, "normal"),
    observation("oa-vital", "pa", VITAL, "120/80"),
    prescription("ma", "pa", "amoxicillin"),
    coverage("ca", "pa"),
]
B_RECORDS = [
    patient("pb", B_CODE, "علی رضایی"),
    observation("ob-lab", "pb", LAB, "HIV positive"),
    observation("ob-vital", "pb", VITAL, "150/95"),
    prescription("mb", "pb", "methadone"),
    coverage("cb", "pb"),
]
EVERYTHING = [PRACTITIONER, *A_RECORDS, *B_RECORDS]

B_BY_CODE = f"{NC}|{B_CODE}"
SEARCH_GUESSES = [
    f"?_type=Observation&patient.identifier={B_BY_CODE}&value-string=HIV&_total=accurate",
    f"?_type=Observation&patient.identifier={B_BY_CODE}&_summary=count",
    "?_type=Observation,Patient,MedicationRequest,Coverage&_total=accurate",
    "?_total=accurate",
    "?_type=Observation&_count=1",
    f"Observation?subject:Patient.identifier={B_BY_CODE}&_total=accurate",
    "Observation?value-string=HIV&_total=accurate",
    "Observation?_summary=count",
    "Observation?_count=1&_sort=-date",
    f"MedicationRequest?patient.identifier={B_BY_CODE}&_total=accurate",
    "MedicationRequest?code:text=methadone&_total=accurate",
    "Patient?_has:Observation:patient:value-string=HIV&_total=accurate",
    "Patient?_has:MedicationRequest:subject:code:text=methadone",
    f"Patient?identifier={B_BY_CODE}&_total=accurate",
    "Patient?name=علی&_summary=count",
    "Observation?_include=Observation:subject&_include=Observation:performer&_total=accurate",
    "Patient?_revinclude=Observation:subject&_revinclude=MedicationRequest:subject&_revinclude=Coverage:beneficiary",
    "MedicationRequest?_include=MedicationRequest:subject&_revinclude:iterate=Observation:subject",
    "Patient/pb/Observation?_total=accurate",
    "Patient/pb/MedicationRequest?_summary=count",
    "Observation/_history",
    "Patient/_history",
    "_history",
    "_history?_count=1",
    "Patient/pa/$everything",
    "Patient/pa/$everything?_count=2",
    "Patient/pa/$everything?_type=Observation,MedicationRequest&_count=1",
]
# The same guesses as form posts to `_search` (system and type level).
POSTED_GUESSES = [
    ("_search", f"_type=Observation&patient.identifier={B_BY_CODE}&value-string=HIV&_total=accurate"),
    ("_search", "_total=accurate&_count=3"),
    ("Observation/_search", f"subject:Patient.identifier={B_BY_CODE}&_total=accurate"),
    ("Observation/_search", "value-string=HIV&_summary=count"),
    ("Patient/_search", "_has:Observation:patient:value-string=HIV&_total=accurate"),
    ("MedicationRequest/_search", "_include=MedicationRequest:subject&_count=1"),
]


def answer(client: Client, query: str, form: dict[str, str] | None = None) -> Any:
    """What the client sees of a query (a GET, or a form POST of `form` to `query`): status
    and the normalised body, every page.

    History is ordered by when things were written, and audit records are written in the
    background, so there the pages' sizes and their entries, in any order, are compared."""
    if form is None:
        response = client.get(query)
    else:
        client.settle()
        response = client.form(query, form)
    pages = [_normal(response.status_code, response.get_json())]
    while response.status_code == 200 and len(pages) < 10:
        nxt = [link["url"] for link in response.get_json().get("link", []) if link["relation"] == "next"]
        if not nxt:
            break
        url = urlsplit(nxt[0])
        response = client.get(url.path.removeprefix("/fhir") + "?" + url.query)
        pages.append(_normal(response.status_code, response.get_json()))
    if "_history" in query:
        entries = sorted((e for page in pages for e in page[4]), key=repr)
        return [(*page[:4], len(page[4])) for page in pages], entries
    return pages


def _normal(status: int, body: Any) -> Any:
    """Everything a client could learn from, but ids of bundles and times of writes (and
    the ids of audit records: the patient's own, one per call, time-ordered UUIDs)."""
    if not isinstance(body, dict):
        return status, body
    if body.get("resourceType") != "Bundle":
        return status, body.get("resourceType"), [i.get("code") for i in body.get("issue", [])]
    entries = []
    for entry in body.get("entry", []):
        resource = entry.get("resource") or {}
        nested = _normal(200, resource) if resource.get("resourceType") == "Bundle" else None
        generated = resource.get("resourceType") in ("AuditEvent", "Bundle")
        entries.append(
            (
                (entry.get("search") or {}).get("mode"),
                (entry.get("request") or {}).get("method"),
                (entry.get("response") or {}).get("status"),
                resource.get("resourceType"),
                "*" if generated else resource.get("id"),
                nested,
            )
        )
    relations = sorted(link["relation"] for link in body.get("link", []))
    return status, body.get("type"), body.get("total"), relations, entries


PATIENT_SCOPE = "patient/*.rs"
LAB_SCOPE = "patient/Observation.rs?category=laboratory patient/Patient.rs"
# What each token may not see: the other world holds everything but that.
HIDDEN = {
    PATIENT_SCOPE: [PRACTITIONER, *B_RECORDS],
    LAB_SCOPE: [PRACTITIONER, *B_RECORDS, *(r for r in A_RECORDS if r["id"] not in ("pa", "oa-lab"))],
}


@pytest.fixture(scope="module")
def worlds(world: AppFactory) -> dict[str, tuple[Flask, Flask]]:
    """Per token scope: a store with everything, and one with only what it may see. The
    tests of this module query both in the same order, so the audit records of their
    calls (the patient's own, and visible to them) grow alike in both."""
    full = world(EVERYTHING)
    return {
        scope: (full, world([r for r in EVERYTHING if r not in hidden])) for scope, hidden in HIDDEN.items()
    }


def ask_both(
    worlds: dict[str, tuple[Flask, Flask]], scope: str, query: str, form: dict[str, str] | None = None
) -> list[Any]:
    return [answer(Client(app, mint(app, scope, patient="pa")), query, form) for app in worlds[scope]]


@pytest.mark.parametrize("query", SEARCH_GUESSES)
def test_patient_token_learns_nothing_about_another_patient(
    worlds: dict[str, tuple[Flask, Flask]], query: str
) -> None:
    seen = ask_both(worlds, PATIENT_SCOPE, query)
    assert seen[0] == seen[1]
    assert all(page[0] == 200 for page in (seen[0][0] if "_history" in query else seen[0]))


@pytest.mark.parametrize(("path", "form"), POSTED_GUESSES)
def test_posted_searches_learn_nothing_about_another_patient(
    worlds: dict[str, tuple[Flask, Flask]], path: str, form: str
) -> None:
    seen = ask_both(worlds, PATIENT_SCOPE, path, dict(parse_qsl(form)))
    assert seen[0] == seen[1]
    assert all(page[0] == 200 for page in seen[0])


def test_everything_of_another_patient_is_refused_like_a_read(worlds: dict[str, tuple[Flask, Flask]]) -> None:
    """B's id is refused in the one world and unknown in the other, as GET Patient/pb is."""
    seen = ask_both(worlds, PATIENT_SCOPE, "Patient/pb/$everything")
    assert [pages[0][:2] for pages in seen] == [(403, "OperationOutcome"), (404, "OperationOutcome")]


def test_patient_token_sees_its_own_records(worlds: dict[str, tuple[Flask, Flask]]) -> None:
    """The narrowing is not an empty answer: A's own records count, page and include."""
    app = worlds[PATIENT_SCOPE][0]
    client = Client(app, mint(app, "patient/*.rs", patient="pa"))
    everything = client.get("?_total=accurate&_count=1000").get_json()
    own = [e["resource"] for e in everything["entry"] if e["resource"]["resourceType"] != "AuditEvent"]
    assert {r["id"] for r in own} == {r["id"] for r in A_RECORDS}
    audit = everything["total"] - len(own)  # records of calls about A (A's own among them)
    assert audit >= 1
    pages = answer(client, "Observation?_count=1")
    assert [len(page[4]) for page in pages] == [1, 1]
    included = client.get("Observation?_id=oa-lab&_include=Observation:subject").get_json()
    assert [(e["search"]["mode"], e["resource"]["id"]) for e in included["entry"]] == [
        ("match", "oa-lab"),
        ("include", "pa"),
    ]
    assert (
        client.get("Patient?_has:Observation:patient:value-string=normal").get_json()["entry"][0]["resource"][
            "id"
        ]
        == "pa"
    )
    history = client.get("_history?_count=100").get_json()
    shown = {e["resource"]["id"] for e in history["entry"] if e["resource"]["resourceType"] != "AuditEvent"}
    assert shown == {r["id"] for r in A_RECORDS}
    assert "total" not in history


@pytest.mark.parametrize(
    "query",
    [
        "Observation?_total=accurate",
        "Observation?category=vital-signs&_total=accurate",
        "Observation?value-string=120&_summary=count",
        "?_type=Observation&_total=accurate",
        "?_total=accurate",
        "Patient?_has:Observation:patient:value-string=120&_total=accurate",
        "Patient?_revinclude=Observation:subject",
        "Observation/_history",
        "Observation?_count=1",
        "Patient/pa/$everything",
    ],
)
def test_scope_query_restriction_learns_nothing_outside_it(
    worlds: dict[str, tuple[Flask, Flask]], query: str
) -> None:
    seen = ask_both(worlds, LAB_SCOPE, query)
    assert seen[0] == seen[1]
    assert all(page[0] == 200 for page in (seen[0][0] if "_history" in query else seen[0]))


@pytest.mark.parametrize("method", ["batch", "transaction"])
def test_bundle_search_entries_learn_nothing(worlds: dict[str, tuple[Flask, Flask]], method: str) -> None:
    urls = [
        f"Observation?patient.identifier={B_BY_CODE}&_total=accurate",
        "Observation?value-string=HIV&_summary=count",
        "Patient?_has:Observation:patient:value-string=HIV",
        "Observation?_include=Observation:subject",
    ]
    if method == "batch":
        urls.append("Observation/ob-lab")
    bundle = {
        "resourceType": "Bundle",
        "type": method,
        "entry": [{"request": {"method": "GET", "url": url}} for url in urls],
    }
    seen = []
    for app in worlds[PATIENT_SCOPE]:
        client = Client(app, mint(app, PATIENT_SCOPE, patient="pa"))
        client.settle()
        response = client.post("", bundle)
        seen.append((response.status_code, _normal(200, response.get_json())))
    # In the batch, B's Observation read by id is refused in the one world and unknown in
    # the other, as GET Observation/[id] is: ids are not secrets (a client may choose them,
    # and an update by id tells whether one is taken). Everything searched is equal.
    assert seen[0][0] == seen[1][0] == 200
    first, second = seen[0][1], seen[1][1]
    if method == "batch":
        assert first[4][:-1] == second[4][:-1]
        assert first[4][-1][2] == "403 Forbidden" and second[4][-1][2] == "404 Not Found"
    else:
        assert first == second


def test_a_type_the_token_may_not_search_is_403_and_system_search_is_narrowed(
    worlds: dict[str, tuple[Flask, Flask]],
) -> None:
    app = worlds[PATIENT_SCOPE][0]
    client = Client(app, mint(app, "patient/Observation.rs", patient="pa"))
    assert client.get("?_type=Patient").status_code == 403
    assert client.get("Patient").status_code == 403
    assert client.get("?_type=Observation,MedicationRequest").status_code == 403
    found = client.get("?_total=accurate").get_json()
    assert found["total"] == 2
    assert {e["resource"]["resourceType"] for e in found["entry"]} == {"Observation"}
    # A chain through a type the token may not search matches nothing.
    chained = client.get(f"Observation?subject:Patient.identifier={NC}|{A_CODE}&_total=accurate")
    assert chained.get_json()["total"] == 0


def test_conditional_create_does_not_reveal_another_patients_record(world: AppFactory) -> None:
    """If-None-Exist matches only what the token may see: B's record neither blocks nor shows."""
    statuses = []
    for app in (world(EVERYTHING), world([r for r in EVERYTHING if r not in HIDDEN[PATIENT_SCOPE]])):
        client = Client(app, mint(app, "patient/*.cruds", patient="pa"))
        new = {k: v for k, v in observation("x", "pa", LAB, "new").items() if k != "id"}
        created = client.post("Observation", new, **{"If-None-Exist": "identifier=urn:lab|ob-lab"})
        statuses.append(created.status_code)
        put = client.put("Observation?identifier=urn:lab|ob-vital", {**new, "valueString": "again"})
        statuses.append(put.status_code)
    assert statuses == [201, 201, 201, 201]

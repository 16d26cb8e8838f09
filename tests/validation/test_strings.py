"""R4 string rules: no control characters but tab, LF and CR (400 with the element's
path); no bidirectional overrides or isolates in identifiers and codes."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from fhir_server.outcome import Issue
from fhir_server.validation import validate_resource
from tests.conftest import FHIR_JSON


def errors(resource: dict[str, Any]) -> list[Issue]:
    return [i for i in validate_resource(resource) if i.severity == "error"]


CONTROL = ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f"]


@pytest.mark.parametrize("char", CONTROL, ids=[f"U+{ord(c):04X}" for c in CONTROL])
def test_control_characters_are_refused_in_every_string_type(char: str) -> None:
    cases = [
        ({"resourceType": "Patient", "name": [{"family": f"a{char}b"}]}, "Patient.name[0].family"),
        ({"resourceType": "Patient", "gender": f"male{char}"}, "Patient.gender"),
        ({"resourceType": "Patient", "id": f"p{char}"}, "Patient.id"),
        ({"resourceType": "Patient", "photo": [{"url": f"http://x/{char}"}]}, "Patient.photo[0].url"),
        ({"resourceType": "Patient", "meta": {"source": f"urn:{char}"}}, "Patient.meta.source"),
        (
            {"resourceType": "Communication", "status": "completed", "note": [{"text": f"**{char}**"}]},
            "Communication.note[0].text",
        ),
        ({"resourceType": "Patient", "identifier": [{"value": f"1{char}2"}]}, "Patient.identifier[0].value"),
    ]
    for resource, path in cases:
        found = errors(resource)
        assert [(i.code, i.expression) for i in found] == [("value", (path,))], (resource, found)


def test_control_characters_in_a_narrative_are_refused() -> None:
    div = '<div xmlns="http://www.w3.org/1999/xhtml">a\x01b</div>'
    found = errors({"resourceType": "Patient", "text": {"status": "generated", "div": div}})
    assert [i.expression for i in found] == [("Patient.text.div",)]


def test_tab_line_feed_and_carriage_return_are_allowed() -> None:
    assert errors({"resourceType": "Patient", "name": [{"text": "a\tb\nc\r\nd"}]}) == []


BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]


@pytest.mark.parametrize("char", BIDI, ids=[f"U+{ord(c):04X}" for c in BIDI])
def test_bidirectional_controls_are_refused_in_identifiers_and_codes(char: str) -> None:
    cases = [
        (
            {"resourceType": "Patient", "identifier": [{"value": f"0018{char}243460"}]},
            "Patient.identifier[0].value",
        ),
        (
            {"resourceType": "Patient", "identifier": [{"system": f"http://x/{char}", "value": "1"}]},
            "Patient.identifier[0].system",
        ),
        (
            {
                "resourceType": "Patient",
                "maritalStatus": {"coding": [{"system": "http://x", "code": f"M{char}"}]},
            },
            "Patient.maritalStatus.coding[0].code",
        ),
        ({"resourceType": "Patient", "gender": f"male{char}"}, "Patient.gender"),
    ]
    for resource, path in cases:
        found = errors(resource)
        assert [(i.code, i.expression) for i in found] == [("value", (path,))], (resource, found)


def test_bidirectional_controls_stay_allowed_in_free_text() -> None:
    """Persian and English mixed in a name or a note may need them."""
    text = "\u202bدکتر Karimi\u202c"
    assert errors({"resourceType": "Patient", "name": [{"text": text}]}) == []


def test_create_refuses_control_characters_with_400_and_the_path(client: FlaskClient) -> None:
    body = {"resourceType": "Patient", "name": [{"family": "Rezaei\x00"}]}
    r = client.post("/fhir/Patient", json=body, headers=FHIR_JSON)
    assert r.status_code == 400
    assert r.json["issue"][0]["expression"] == ["Patient.name[0].family"]
    assert client.get("/fhir/Patient").json.get("total", 0) == 0

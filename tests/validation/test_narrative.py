"""Narrative rules (txt-1, txt-2): refused with the key and Narrative.div's path, never rewritten."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.outcome import Issue
from fhir_server.validation import validate_resource

NS = 'xmlns="http://www.w3.org/1999/xhtml"'


def patient(div: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "text": {"status": "generated", "div": div}}


def errors(div: str) -> list[Issue]:
    return [i for i in validate_resource(patient(div)) if i.severity == "error"]


ACCEPTED = [
    f"<div {NS}>Ali Rezaei</div>",
    f'<div {NS}><p>Dr <b>Karimi</b>, <a href="mailto:dr@example.ir">mail</a></p></div>',
    f'<div {NS}><p><a href="tel:+982188">tel</a></p></div>',
    f'<div {NS}><a href="https://example.ir/x">web</a> <a href="#part">part</a></div>',
    f'<div {NS}><a href="Patient/1">relative</a></div>',
    f'<div {NS}><a name="top"/><table border="1"><tr><td colspan="2">cell</td></tr></table></div>',
    f'<div {NS}><img src="#photo" alt="photo"/></div>',  # an image is content
    f'<div {NS}><img src="data:image/png;base64,iVBORw0KGgo=" alt="x"/></div>',
    f'<div {NS} xml:lang="fa" lang="fa" dir="rtl"><span style="color: red">قرمز</span></div>',
    f"<div {NS}><!-- a comment -->text</div>",
    f'<div {NS}><a href="ftp://ftp.ihe.net/TF">IHE</a></div>',
]


@pytest.mark.parametrize("div", ACCEPTED)
def test_allowed_narrative(div: str) -> None:
    assert errors(div) == []


REFUSED = [
    (f"<div {NS}><script>alert(1)</script>x</div>", "<script>"),
    (f'<div {NS}><p onclick="alert(1)">x</p></div>', "onclick"),
    (f'<div {NS}><img src="x" onerror="alert(1)"/></div>', "onerror"),
    (f'<div {NS}><a href="javascript:alert(1)">x</a></div>', "javascript"),
    (f'<div {NS}><a href=" JaVa&#x09;ScRiPt:alert(1)">x</a></div>', "ScRiPt"),
    (f'<div {NS}><a href="&#106;avascript:alert(1)">x</a></div>', "javascript"),
    (f'<div {NS}><a href="data:text/html,&lt;script&gt;">x</a></div>', "data:"),
    (f'<div {NS}><img src="data:text/html;base64,PHNjcmlwdD4="/></div>', "data:"),
    (f'<div {NS}><a href="vbscript:x">x</a></div>', "vbscript"),
    (f'<div {NS}><iframe src="https://x"></iframe>x</div>', "<iframe>"),
    (f'<div {NS}><object data="x"></object>x</div>', "<object>"),
    (f'<div {NS}><embed src="x"/>x</div>', "<embed>"),
    (f'<div {NS}><form action="x"><input name="a"/></form></div>', "<form>"),
    (f'<div {NS}><base href="https://evil"/>x</div>', "<base>"),
    (f'<div {NS}><link rel="stylesheet" href="https://evil/x.css"/>x</div>', "<link>"),
    (f"<div {NS}><style>p {{color: red}}</style>x</div>", "<style>"),
    (f"<div {NS}><head><title>x</title></head>x</div>", "<head>"),
    (f"<div {NS}><body>x</body></div>", "<body>"),
    (f'<div {NS}><frame src="x"/>x</div>', "<frame>"),
    (f'<div {NS}><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>x</div>', "namespace"),
    (f'<div {NS}><span style="background: url(javascript:alert(1))">x</span></div>', "style"),
    (f'<div {NS}><span style="width: expression(alert(1))">x</span></div>', "style"),
    (f'<div {NS}><span style="behavior: url(x.htc)">x</span></div>', "style"),
    (f'<div {NS}><p xmlns:x="http://x" x:href="y">x</p></div>', "attribute"),
    (f"<div {NS}>&nbsp;</div>", "well-formed"),
    (f"<div {NS}><p>unclosed</div>", "well-formed"),
    ('<div xmlns="http://example.org/not-xhtml">x</div>', "XHTML namespace"),
    ("<div>no namespace</div>", "XHTML namespace"),
    (f"<div {NS}><?php echo 1; ?>x</div>", "processing"),
]


@pytest.mark.parametrize(("div", "said"), REFUSED, ids=[r[1] + str(i) for i, r in enumerate(REFUSED)])
def test_refused_narrative(div: str, said: str) -> None:
    found = errors(div)
    assert len(found) == 1, found
    issue = found[0]
    assert issue.diagnostics.startswith("txt-1:") and said in issue.diagnostics
    assert issue.expression == ("Patient.text.div",)


def test_a_doctype_or_entity_declaration_is_refused() -> None:
    for div in (f'<!DOCTYPE div [<!ENTITY x "y">]><div {NS}>&x;</div>', f"<div {NS}><!DOCTYPE x>y</div>"):
        found = errors(div)
        assert [i.expression for i in found] == [("Patient.text.div",)], div


@pytest.mark.parametrize("div", [f"<div {NS}>   </div>", f"<div {NS}><p> </p><br/></div>", f"<div {NS}/>"])
def test_narrative_needs_some_content(div: str) -> None:
    found = errors(div)
    assert [(i.diagnostics.split(":")[0], i.expression) for i in found] == [("txt-2", ("Patient.text.div",))]


def test_narrative_in_a_contained_resource_is_checked_too() -> None:
    bad = {"status": "generated", "div": f"<div {NS}><script>x</script>y</div>"}
    rx = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
        "medicationReference": {"reference": "#m"},
        "contained": [{"resourceType": "Medication", "id": "m", "text": bad}],
    }
    found = [i for i in validate_resource(rx) if i.severity == "error"]
    assert [i.expression for i in found] == [("MedicationRequest.contained[0].text.div",)]


def test_characters_xml_cannot_carry_are_refused_not_a_crash() -> None:
    found = errors(f"<div {NS}>a\ud800b</div>")
    assert [i.expression for i in found] == [("Patient.text.div",)]

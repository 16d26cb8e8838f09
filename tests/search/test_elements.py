from fhir_server.search import apply_elements

P = {
    "resourceType": "Patient",
    "id": "p",
    "meta": {"versionId": "1"},
    "text": {"status": "generated", "div": "<div/>"},
    "name": [{"family": "x"}],
    "deceasedBoolean": False,
    "photo": [{"url": "http://x"}],
    "contact": [{"name": {"family": "y"}}],
}


def _tags(r: dict) -> list[str]:
    return [t["code"] for t in r["meta"].get("tag", [])]


def test_summary_true_keeps_summary_elements_and_choice() -> None:
    out = apply_elements(P, "true", None)
    assert set(out) == {"resourceType", "id", "meta", "name", "deceasedBoolean"}
    assert _tags(out) == ["SUBSETTED"]


def test_summary_text_and_data() -> None:
    assert set(apply_elements(P, "text", None)) == {"resourceType", "id", "meta", "text"}
    assert "text" not in apply_elements(P, "data", None)


def test_elements() -> None:
    out = apply_elements(P, None, ["name", "deceased"])
    assert set(out) == {"resourceType", "id", "meta", "name", "deceasedBoolean"}
    assert P["meta"] == {"versionId": "1"}  # the input is not modified


def test_nothing_asked_returns_same_object() -> None:
    assert apply_elements(P, None, None) is P

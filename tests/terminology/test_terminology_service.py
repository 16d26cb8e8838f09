"""The terminology service over the shipped data: lookup, validate-code, expand with
Persian/Latin filters, translate chains, subsumes."""

from __future__ import annotations

import pytest

from fhir_server.search.normalize import normalize as search_normalize
from terminology import (
    ATC,
    DRUGS_VALUESET,
    GENERIC,
    IRC,
    TerminologyError,
    default_service,
    shipped_resources,
)
from terminology.normalize import normalize
from terminology.service import TerminologyService

BASE = "http://noskhe.ir/fhir"


@pytest.fixture(scope="module")
def svc() -> TerminologyService:
    return default_service()


def codes(svc: TerminologyService, flt: str, count: int = 50) -> list[str]:
    return [e.code for e in svc.expand(DRUGS_VALUESET, filter=flt, count=count).entries]


def test_shipped_data_sizes(svc: TerminologyService) -> None:
    generic = svc.code_system(GENERIC)
    assert generic is not None and len(generic.concepts) >= 300
    real = {c.code for c in generic.concepts.values() if c.property_values("synthetic") == [False]}
    assert real == {"00076", "00077", "00078"}
    atcs = {c.property_values("atc")[0] for c in generic.concepts.values()}
    assert len(atcs) >= 250
    provinces = svc.code_system(f"{BASE}/CodeSystem/province")
    assert provinces is not None and len(provinces.concepts) == 31
    urls = {r["url"] for r in shipped_resources()}
    assert {
        f"{BASE}/CodeSystem/{k}"
        for k in ("irc", "drug-frequency", "drug-instruction", "service-category", "rvu", "insurer")
    } <= urls


def test_amoxicillin_real_codes(svc: TerminologyService) -> None:
    assert svc.lookup(GENERIC, "00076").display == "Amoxicillin 250 mg capsule"
    assert svc.lookup(GENERIC, "00077").display == "Amoxicillin 500 mg capsule"
    assert "suspension" in (svc.lookup(GENERIC, "00078").display or "")
    assert svc.lookup(GENERIC, "00077", language="fa").display == "آموکسی‌سیلین ۵۰۰ میلی‌گرم کپسول"


def test_lookup_unknown(svc: TerminologyService) -> None:
    with pytest.raises(TerminologyError) as err:
        svc.lookup(GENERIC, "nope")
    assert err.value.status == 404
    with pytest.raises(TerminologyError):
        svc.lookup("http://example.org/cs", "x")


@pytest.mark.parametrize(
    "query",
    [
        "amox",
        "AMOX",
        "Amoxi 500",
        "آموکسی",
        "آموكسي",
        "آموکسی‌سیلین",
        "آموکسی سیلین",
        "آموکسی ۵۰۰",
        "آموکسی ٥٠٠",
        "۵۰۰ آموکسی",
    ],
)
def test_filter_persian_latin_and_variants(svc: TerminologyService, query: str) -> None:
    found = codes(svc, query)
    assert "00077" in found
    assert found[0] in ("00076", "00077", "00078")  # generic codes of the ingredient come first
    assert "90001" not in found


def test_filter_strength_narrows(svc: TerminologyService) -> None:
    assert set(codes(svc, "amoxicillin 500")) == {"00077", "6200077000000001"}


def test_filter_arabic_kaf_and_yeh(svc: TerminologyService) -> None:
    persian = codes(svc, "کلونازپام")
    assert persian and codes(svc, "كلونازپام") == persian
    assert codes(svc, "سیتالوپرام") == codes(svc, "سيتالوپرام")


def test_filter_no_match_and_empty(svc: TerminologyService) -> None:
    assert svc.expand(DRUGS_VALUESET, filter="zzzzqq", count=10).total == 0
    assert (
        svc.expand(DRUGS_VALUESET, filter="  ", count=10).total == svc.expand(DRUGS_VALUESET, count=0).total
    )


def test_paging(svc: TerminologyService) -> None:
    whole = svc.expand(DRUGS_VALUESET, filter="tab", count=1000)
    page = svc.expand(DRUGS_VALUESET, filter="tab", offset=10, count=5)
    assert page.total == whole.total > 15
    assert [e.code for e in page.entries] == [e.code for e in whole.entries[10:15]]
    with pytest.raises(TerminologyError):
        svc.expand(DRUGS_VALUESET, offset=-1)


def test_compose_filters(svc: TerminologyService) -> None:
    imaging = {e.code for e in svc.expand(f"{BASE}/ValueSet/imaging-category").entries}
    assert {"03", "04", "05", "06", "07"} <= imaging and "02" not in imaging and "IMG" not in imaging
    labs = svc.expand(f"{BASE}/ValueSet/lab-services").entries
    assert labs and all(e.code.startswith("801") for e in labs)
    basic = {e.code for e in svc.expand(f"{BASE}/ValueSet/basic-insurer").entries}
    assert {"TAMIN", "SALAMAT", "ARMED"} <= basic and "DANA" not in basic
    categories = {e.code for e in svc.expand(f"{BASE}/ValueSet/service-category").entries}
    assert "01" not in categories and "02" in categories  # excluded: drugs


def test_inline_valueset_with_regex_filter(svc: TerminologyService) -> None:
    vs = {
        "resourceType": "ValueSet",
        "compose": {
            "include": [
                {"system": GENERIC, "filter": [{"property": "atc", "op": "regex", "value": "J01C.*"}]}
            ]
        },
    }
    found = {e.code for e in svc.expand(vs).entries}
    assert {"00076", "00077", "00078"} <= found
    assert all(svc.lookup(GENERIC, c).concept.property_values("atc")[0].startswith("J01C") for c in found)


def test_validate_code(svc: TerminologyService) -> None:
    ok = svc.validate_code(valueset=DRUGS_VALUESET, system=GENERIC, code="00077")
    assert ok.result and ok.display == "Amoxicillin 500 mg capsule"
    bad = svc.validate_code(valueset=DRUGS_VALUESET, system=GENERIC, code="99999")
    assert not bad.result and "99999" in (bad.message or "")
    other = svc.validate_code(valueset=DRUGS_VALUESET, system=ATC, code="J01CA04")
    assert not other.result
    assert svc.validate_code(system=IRC, code="6200077000000001").result
    wrong_display = svc.validate_code(system=GENERIC, code="00077", display="Aspirin")
    assert wrong_display.result and "does not match" in (wrong_display.message or "")
    persian_display = svc.validate_code(system=GENERIC, code="00077", display="آموكسي‌سيلين ۵۰۰ ميلي‌گرم كپسول")
    assert persian_display.message is None
    icd = svc.validate_code(
        valueset=f"{BASE}/ValueSet/icd-10", system="http://hl7.org/fhir/sid/icd-10", code="E11"
    )
    assert icd.result and "not available" in (icd.message or "")


def test_member_fast_path(svc: TerminologyService) -> None:
    assert svc.member(DRUGS_VALUESET, GENERIC, "00076") is True
    assert svc.member(DRUGS_VALUESET, GENERIC, "00001") is False
    assert svc.member(f"{BASE}/ValueSet/icd-10", "http://hl7.org/fhir/sid/icd-10", "E11") is None
    assert svc.member("http://example.org/vs", GENERIC, "00076") is None


def test_translate_chain(svc: TerminologyService) -> None:
    direct = svc.translate(system=IRC, code="6200077000000001")
    assert [(m.target_system, m.target_code) for m in direct] == [(GENERIC, "00077")]
    chained = svc.translate(system=IRC, code="6200077000000001", target=ATC)
    assert [(m.target_system, m.target_code) for m in chained] == [(ATC, "J01CA04")]
    reverse = svc.translate(system=GENERIC, code="00078", target=IRC, reverse=True)
    assert {m.target_code for m in reverse} == {"6200078000000001", "6200078000000002"}
    back = svc.translate(system=GENERIC, code="00078", reverse=True)
    assert {(m.target_system, m.target_code) for m in back} == {
        (IRC, "6200078000000001"),
        (IRC, "6200078000000002"),
    }
    assert svc.translate(system=GENERIC, code="nope", target=ATC) == []


def test_subsumes(svc: TerminologyService) -> None:
    assert svc.subsumes(ATC, "N02", "N02BE01") == "subsumes"
    assert svc.subsumes(ATC, "N02BE01", "N") == "subsumed-by"
    assert svc.subsumes(ATC, "N02BE01", "J01CA04") == "not-subsumed"
    assert svc.subsumes(ATC, "J01CA04", "J01CA04") == "equivalent"
    cat = f"{BASE}/CodeSystem/service-category"
    assert svc.subsumes(cat, "IMG", "06") == "subsumes"
    with pytest.raises(TerminologyError):
        svc.subsumes(ATC, "N02", "XXX")


@pytest.mark.parametrize(
    "text", ["آموكسي‌سيلين", "Ámoxicillin  500", "۱۲۳٤٥", "کتاب\u200cها", "ـمـتـن", "ARABIC ك ي ى"]
)
def test_normalize_agrees_with_search(text: str) -> None:
    assert normalize(text) == search_normalize(text) or "٫" in text


def test_register_new_version_invalidates_indexes() -> None:
    svc = TerminologyService()
    cs = {
        "resourceType": "CodeSystem",
        "url": "http://x/cs",
        "version": "1",
        "content": "complete",
        "concept": [{"code": "a", "display": "Alpha"}],
    }
    vs = {
        "resourceType": "ValueSet",
        "url": "http://x/vs",
        "compose": {"include": [{"system": "http://x/cs"}]},
    }
    svc.register(cs)
    svc.register(vs)
    assert [e.code for e in svc.expand("http://x/vs").entries] == ["a"]
    svc.register(dict(cs, version="2", concept=[{"code": "a"}, {"code": "b", "display": "Beta"}]))
    assert [e.code for e in svc.expand("http://x/vs", filter="bet").entries] == ["b"]
    assert svc.code_system("http://x/cs", "1") is not None
    assert svc.lookup("http://x/cs", "b").display == "Beta"
    with pytest.raises(TerminologyError):
        svc.lookup("http://x/cs", "b", version="1")

"""The dashboard's figures, read from MeasureReports (the only source of its numbers)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INITIAL = "initial-population"


def _code(concept: dict[str, Any] | list[dict[str, Any]] | None) -> str:
    if isinstance(concept, list):
        concept = concept[0] if concept else None
    for coding in (concept or {}).get("coding") or []:
        return str(coding.get("code"))
    return ""


def _group(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next((g for g in report.get("group") or [] if _code(g.get("code")) == code), {})


def _counts(populations: list[dict[str, Any]]) -> dict[str, int]:
    return {_code(p.get("code")): int(p.get("count") or 0) for p in populations}


def total(report: dict[str, Any], group: str, population: str = INITIAL) -> int:
    return _counts(_group(report, group).get("population") or []).get(population, 0)


def strata(report: dict[str, Any], group: str, stratifier: str) -> dict[str, dict[str, int]]:
    """stratum value -> population code -> count, in the report's order."""
    for found in _group(report, group).get("stratifier") or []:
        if _code(found.get("code")) == stratifier:
            return {
                str((s.get("value") or {}).get("text")): _counts(s.get("population") or [])
                for s in found.get("stratum") or []
            }
    return {}


def share(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


@dataclass
class Adoption:
    active: int
    registered: int

    @property
    def share(self) -> float:
        return share(self.active, self.registered)


@dataclass
class ProvinceRow:
    code: str
    prescriptions: int = 0
    items: int = 0
    adoption: dict[str, Adoption] = field(default_factory=dict)  # prescribers, pharmacies, paraclinics

    @property
    def mean_share(self) -> float:
        shares = [a.share for a in self.adoption.values() if a.registered]
        return sum(shares) / len(shares) if shares else 0.0


@dataclass
class Figures:
    prescriptions: int
    items: int
    electronic: int
    paper: int
    timeline: list[tuple[str, int]]  # interval label -> prescriptions
    provinces: list[ProvinceRow]
    adoption: dict[str, Adoption]  # nationally
    top_drugs: list[tuple[str, int]]
    claims: dict[str, int]  # submitted, adjudicated, accepted, reduced, denied
    reasons: list[tuple[str, int]]

    @property
    def paper_share(self) -> float:
        return share(self.paper, self.electronic + self.paper)

    @property
    def best(self) -> list[ProvinceRow]:
        ranked = [
            p
            for p in self.provinces
            if p.code != "unknown" and any(a.registered for a in p.adoption.values())
        ]
        return sorted(ranked, key=lambda p: (-p.mean_share, p.code))[:3]


def figures(
    rx: dict[str, Any], adoption: dict[str, Any], claims: dict[str, Any], insurer: str | None
) -> Figures:
    """The figures of the three reports (eprescriptions, adoption, claims) of one period;
    `insurer`: only that insurer's claims (an insurer's own dashboard)."""
    prescriptions = total(rx, "drug-prescriptions") + total(rx, "service-prescriptions")
    sources = strata(rx, "drug-prescriptions", "source")
    paper = sources.get("paper", {}).get(INITIAL, 0)
    timeline: dict[str, int] = {}
    for group in ("drug-prescriptions", "service-prescriptions"):
        for label, counts in strata(rx, group, "interval").items():
            timeline[label] = timeline.get(label, 0) + counts.get(INITIAL, 0)
    provinces: dict[str, ProvinceRow] = {}

    def row(code: str) -> ProvinceRow:
        return provinces.setdefault(code, ProvinceRow(code))

    for group, attribute in (
        ("drug-prescriptions", "prescriptions"),
        ("service-prescriptions", "prescriptions"),
        ("drug-items", "items"),
        ("service-items", "items"),
    ):
        for code, counts in strata(rx, group, "province").items():
            setattr(row(code), attribute, getattr(row(code), attribute) + counts.get(INITIAL, 0))
    national = {}
    for kind in ("prescribers", "pharmacies", "paraclinics"):
        national[kind] = Adoption(total(adoption, kind, "numerator"), total(adoption, kind, "denominator"))
        for code, counts in strata(adoption, kind, "province").items():
            row(code).adoption[kind] = Adoption(counts.get("numerator", 0), counts.get("denominator", 0))
    drugs = strata(rx, "drug-items", "drug")
    top_drugs = sorted(((c, n.get(INITIAL, 0)) for c, n in drugs.items()), key=lambda x: (-x[1], x[0]))[:10]
    return Figures(
        prescriptions=prescriptions,
        items=total(rx, "drug-items") + total(rx, "service-items"),
        electronic=total(rx, "drug-prescriptions") - paper + total(rx, "service-prescriptions"),
        paper=paper,
        timeline=sorted(timeline.items()),
        provinces=sorted(provinces.values(), key=lambda p: (-p.prescriptions, p.code)),
        adoption=national,
        top_drugs=top_drugs,
        claims=_claims(claims, insurer),
        reasons=_reasons(claims, insurer),
    )


def _claims(report: dict[str, Any], insurer: str | None) -> dict[str, int]:
    if insurer is None:
        submitted = total(report, "claims-submitted")
        adjudicated = total(report, "claims-adjudicated")
    else:
        submitted = strata(report, "claims-submitted", "insurer").get(insurer, {}).get(INITIAL, 0)
        adjudicated = strata(report, "claims-adjudicated", "insurer").get(insurer, {}).get(INITIAL, 0)
    results = _of(report, "result", insurer)
    out = {"submitted": submitted, "adjudicated": adjudicated}
    for result in ("accepted", "reduced", "denied"):
        out[result] = results.get(result, {}).get(INITIAL, 0)
    return out


def _reasons(report: dict[str, Any], insurer: str | None) -> list[tuple[str, int]]:
    found = _of(report, "reason", insurer)
    return sorted(((c, n.get(INITIAL, 0)) for c, n in found.items()), key=lambda x: (-x[1], x[0]))[:5]


def _of(report: dict[str, Any], stratifier: str, insurer: str | None) -> dict[str, dict[str, int]]:
    """The adjudications' strata of `stratifier`, all or one insurer's (`insurer-<stratifier>`)."""
    if insurer is None:
        return strata(report, "claims-adjudicated", stratifier)
    found = strata(report, "claims-adjudicated", f"insurer-{stratifier}")
    prefix = f"{insurer}|"
    return {k[len(prefix) :]: v for k, v in found.items() if k.startswith(prefix)}

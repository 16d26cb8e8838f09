"""A Measure resource read into what the evaluation needs, and the contributions of one
resource to it.

Supported: `cohort` and `proportion` scoring; populations whose `criteria` is an
`application/x-fhir-query` (`MedicationRequest?status=active&...`: parameters a
resource's own index entries answer, see `search.in_memory`); stratifiers (and their
components) whose criteria is `text/fhirpath` (`resolve()` allowed). Two IR extensions on
a population: `measure-date` (FHIRPath: the day a resource counts on, in Tehran; without
it the population is counted as of now) and `measure-count-distinct` (FHIRPath: the value
counted once, such as the prescription id of an item). Anything else is refused with a
422 naming it, when the Measure is read.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from fhir_server.measures.expressions import Expression, Lookup
from fhir_server.measures.tally import TOTAL, Contribution
from fhir_server.outcome import FhirError
from fhir_server.search import in_memory, parse_search
from fhir_server.search.entries import IndexEntry
from fhir_server.search.plan import Clause
from fhir_server.tehran import tehran_day

QUERY = "application/x-fhir-query"
FHIRPATH = "text/fhirpath"
EXT = "http://noskhe.ir/fhir/StructureDefinition/"
DATE_EXT = EXT + "measure-date"
DISTINCT_EXT = EXT + "measure-count-distinct"
SCORINGS = ("cohort", "proportion")
POPULATIONS = ("initial-population", "numerator", "denominator")


@dataclass(frozen=True)
class Population:
    code: str  # initial-population | numerator | denominator
    type: str  # the resource type the criteria select
    clauses: tuple[Clause, ...]
    query: tuple[tuple[str, str], ...]  # the criteria's parameters (a store search)
    date: Expression | None
    distinct: Expression | None


@dataclass(frozen=True)
class Stratifier:
    code: str
    parts: tuple[Expression, ...]  # one, or one per component: a stratum per combination of
    # their values, written "value|value"


@dataclass(frozen=True)
class Group:
    code: str
    text: str
    populations: tuple[Population, ...]
    stratifiers: tuple[Stratifier, ...]


@dataclass(frozen=True)
class MeasureSpec:
    id: str
    url: str
    scoring: str
    groups: tuple[Group, ...]
    fingerprint: str  # changes whenever the definition does: the tally is rebuilt then

    @property
    def types(self) -> frozenset[str]:
        return frozenset(p.type for g in self.groups for p in g.populations)


def _code(concept: dict[str, Any] | None, what: str) -> str:
    for coding in (concept or {}).get("coding") or []:
        if coding.get("code"):
            return str(coding["code"])
    if (concept or {}).get("text"):
        return str(concept["text"])  # type: ignore[index]
    raise _refused(f"{what} has no code")


def _extension(element: dict[str, Any], url: str) -> str | None:
    for ext in element.get("extension") or []:
        if ext.get("url") == url and ext.get("valueString"):
            return str(ext["valueString"])
    return None


def _expression(criteria: dict[str, Any] | None, language: str, what: str) -> str:
    criteria = criteria or {}
    if criteria.get("language") != language or not criteria.get("expression"):
        raise _refused(f"{what}: criteria must be {language} (found {criteria.get('language')!r})")
    return str(criteria["expression"])


def _fhirpath(text: str, what: str) -> Expression:
    try:
        return Expression(text)
    except Exception as exc:  # fhirpathpy's parse errors have no common base class
        raise _refused(f"{what}: not FHIRPath ({exc})") from exc


def _population(raw: dict[str, Any], where: str) -> Population:
    code = _code(raw.get("code"), where)
    if code not in POPULATIONS:
        raise _refused(f"{where}: population {code} is not supported (only {', '.join(POPULATIONS)})")
    text = _expression(raw.get("criteria"), QUERY, where)
    type_, _, query = text.partition("?")
    params = tuple((k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p))
    try:
        plan = parse_search(type_, list(params), strict=True)
        in_memory.check(plan.clauses)
    except (FhirError, in_memory.Unsupported) as exc:
        raise _refused(f"{where}: criteria {text!r} cannot be evaluated: {exc}") from exc
    date_text, distinct_text = _extension(raw, DATE_EXT), _extension(raw, DISTINCT_EXT)
    return Population(
        code,
        type_,
        plan.clauses,
        params,
        _fhirpath(date_text, f"{where} measure-date") if date_text else None,
        _fhirpath(distinct_text, f"{where} measure-count-distinct") if distinct_text else None,
    )


def _stratifier(raw: dict[str, Any], where: str) -> Stratifier:
    code = _code(raw.get("code"), where)
    if raw.get("component"):
        parts = tuple(
            _fhirpath(_expression(c.get("criteria"), FHIRPATH, f"{where} component"), where)
            for c in raw["component"]
        )
    else:
        parts = (_fhirpath(_expression(raw.get("criteria"), FHIRPATH, where), where),)
    return Stratifier(code, parts)


def spec_of(measure: dict[str, Any]) -> MeasureSpec:
    """The evaluable form of a Measure; 422 for what cannot be evaluated."""
    scoring = _code(measure.get("scoring"), "Measure.scoring")
    if scoring not in SCORINGS:
        raise _refused(f"scoring {scoring} is not supported (only {', '.join(SCORINGS)})")
    groups = []
    for n, raw in enumerate(measure.get("group") or []):
        where = f"Measure.group[{n}]"
        populations = tuple(
            _population(p, f"{where}.population[{i}]") for i, p in enumerate(raw.get("population") or [])
        )
        if not populations:
            raise _refused(f"{where} has no population")
        stratifiers = tuple(
            _stratifier(s, f"{where}.stratifier[{i}]") for i, s in enumerate(raw.get("stratifier") or [])
        )
        groups.append(
            Group(_code(raw.get("code"), where), str(raw.get("description") or ""), populations, stratifiers)
        )
    if not groups:
        raise _refused("the Measure has no group")
    definition = {k: v for k, v in measure.items() if k not in ("meta", "text")}
    fingerprint = hashlib.sha256(orjson.dumps(definition, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]
    return MeasureSpec(
        str(measure.get("id")), str(measure.get("url") or ""), scoring, tuple(groups), fingerprint
    )


def contributions(
    spec: MeasureSpec,
    resource: dict[str, Any],
    entries: list[IndexEntry],
    lookup: Lookup,
    only: tuple[tuple[str, str], ...] | None = None,
) -> list[Contribution]:
    """What one resource (any version) counts for in every population of the measure
    (`only`: in the populations with these criteria)."""
    found = []
    memo: dict[str, list[str]] = {}  # groups of one type share expressions: each once

    def strings(expression: Expression) -> list[str]:
        if expression.text not in memo:
            memo[expression.text] = expression.strings(resource, lookup)
        return memo[expression.text]

    for group in spec.groups:
        for population in group.populations:
            if population.type != resource.get("resourceType"):
                continue
            if only is not None and population.query != only:
                continue
            if not in_memory.matches(population.clauses, resource, entries):
                continue
            day = None
            if population.date is not None:
                days = strings(population.date)
                day = tehran_day(days[0]) if days else None
                if day is None:
                    continue  # a dated population cannot place a resource without its date
            distinct = None
            if population.distinct is not None:
                values = strings(population.distinct)
                if not values:
                    continue
                distinct = values[0]
            strata = [TOTAL, *_strata(group.stratifiers, strings)]
            found.append(Contribution(group.code, population.code, tuple(strata), day, distinct))
    return found


def _strata(
    stratifiers: tuple[Stratifier, ...], strings: Callable[[Expression], list[str]]
) -> list[tuple[str, str]]:
    out = []
    for stratifier in stratifiers:
        values = [strings(part) for part in stratifier.parts]
        out += [(stratifier.code, "|".join(combination)) for combination in itertools.product(*values)]
    return out


def _refused(text: str) -> FhirError:
    return FhirError.of(422, "not-supported", f"$evaluate-measure: {text}")

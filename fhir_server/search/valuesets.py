"""Token `:in` / `:not-in`: the codes of a ValueSet, from the terminology service.

The app points this at its own terminology service (`use_expander`); without that the
shipped terminology answers (the IR value sets over the R4 core ones). Plans holding an
expansion are not cached (parse.py), so a new ValueSet version takes effect on the next
search. A value set that cannot be listed completely here (it takes in all of SNOMED CT or
LOINC, say) is refused with 400: matching only the codes we could list would silently
miss resources (or, with `:not-in`, find too many).
"""

from __future__ import annotations

from collections.abc import Callable

import terminology
from fhir_server.outcome import FhirError
from fhir_server.search.plan import TokenPred
from terminology.valueset import ExpansionError

Expander = Callable[[str], list[tuple[str, str]]]
# Matches no entry: an empty value set must find nothing (and `:not-in` everything).
NOTHING = TokenPred("urn:noskhe:empty-value-set", "-")
_expander: list[Expander] = []


def use_expander(expander: Expander) -> None:
    _expander[:] = [expander]


def value_set_codes(service: terminology.TerminologyService, url: str) -> list[tuple[str, str]]:
    """(system, code) of every member; TerminologyError when the set cannot be listed."""
    try:
        expansion = service.expansion(url)
    except ExpansionError as exc:
        raise terminology.TerminologyError("not-supported", str(exc)) from exc
    if expansion.open_systems:
        systems = ", ".join(sorted(expansion.open_systems))
        raise terminology.TerminologyError(
            "too-costly", f"it takes in codes of {systems}, which cannot be listed here"
        )
    return [(e.system, e.code) for e in expansion.entries]


def _shipped(url: str) -> list[tuple[str, str]]:
    return value_set_codes(terminology.default_service(), url)


def value_set_preds(name: str, urls: list[str], codes_only: bool = False) -> tuple[TokenPred, ...]:
    """One predicate per member. `codes_only` for parameters on `code` elements
    (`status`, `gender`): they are stored without a system, which their binding implies."""
    expand = _expander[0] if _expander else _shipped
    codes: set[tuple[str, str]] = set()
    for url in urls:
        try:
            codes.update(expand(url))
        except terminology.TerminologyError as exc:
            text = f"{name}: cannot use value set {url!r}: {exc}"
            raise FhirError.of(400, "invalid", text, name) from exc
    if codes_only:
        return tuple(TokenPred(None, code) for code in sorted({c for _, c in codes})) or (NOTHING,)
    return tuple(TokenPred(system, code) for system, code in sorted(codes)) or (NOTHING,)

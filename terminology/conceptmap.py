"""ConceptMap indexes and $translate, including chains of maps (IRC -> generic -> ATC)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MATCHING = frozenset(
    {"relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact"}
)


@dataclass(frozen=True, slots=True)
class Mapping:
    source_system: str
    source_code: str
    target_system: str
    target_code: str
    target_display: str | None
    equivalence: str
    map_url: str | None


class ConceptMapIndex:
    """(source system, code) -> mappings, and the reverse, for one ConceptMap version."""

    def __init__(self, resource: dict[str, Any]) -> None:
        self.url: str | None = resource.get("url")
        self.version: str | None = resource.get("version")
        self.forward: dict[tuple[str, str], list[Mapping]] = {}
        self.reverse: dict[tuple[str, str], list[Mapping]] = {}
        self.systems: set[tuple[str, str]] = set()
        for group in resource.get("group") or []:
            source, target = group.get("source", ""), group.get("target", "")
            self.systems.add((source, target))
            for el in group.get("element") or []:
                for t in el.get("target") or []:
                    m = Mapping(
                        source,
                        el.get("code", ""),
                        target,
                        t.get("code", ""),
                        t.get("display"),
                        t.get("equivalence", "equivalent"),
                        self.url,
                    )
                    self.forward.setdefault((source, m.source_code), []).append(m)
                    self.reverse.setdefault((target, m.target_code), []).append(m)

    def translate(self, system: str, code: str, reverse: bool = False) -> list[Mapping]:
        table = self.reverse if reverse else self.forward
        return list(table.get((system, code), ()))


def translate_chain(
    maps: Iterable[ConceptMapIndex], system: str, code: str, target: str | None, reverse: bool = False
) -> list[Mapping]:
    """Mappings from (system, code); with a target system, follow chains of maps to reach it.

    The result maps the original source to the final target (the equivalence of a chain is
    the last step's unless a step is not an equivalence, then "inexact")."""
    maps = list(maps)
    direct = [m for cm in maps for m in cm.translate(system, code, reverse)]
    if target is None:
        return [_collapse(system, code, [m], reverse) for m in direct]
    # breadth-first over (system, code) so the shortest chain wins
    frontier: deque[tuple[str, str, list[Mapping]]] = deque([(system, code, [])])
    seen = {(system, code)}
    results: list[Mapping] = []
    while frontier:
        sys_, cd, path = frontier.popleft()
        for cm in maps:
            for m in cm.translate(sys_, cd, reverse):
                nxt = (m.source_system, m.source_code) if reverse else (m.target_system, m.target_code)
                if nxt in seen or m.equivalence not in MATCHING:
                    continue
                seen.add(nxt)
                chain = [*path, m]
                if nxt[0] == target:
                    results.append(_collapse(system, code, chain, reverse))
                elif len(chain) < 4:
                    frontier.append((nxt[0], nxt[1], chain))
        if results:
            break
    return results


def _collapse(system: str, code: str, chain: list[Mapping], reverse: bool) -> Mapping:
    last = chain[-1]
    if reverse:
        tsys, tcode, tdisplay = last.source_system, last.source_code, None
    else:
        tsys, tcode, tdisplay = last.target_system, last.target_code, last.target_display
    kinds = {m.equivalence for m in chain}
    equivalence = last.equivalence if len(kinds) == 1 else "inexact"
    via = ", ".join(m.map_url or "" for m in chain)
    return Mapping(system, code, tsys, tcode, tdisplay, equivalence, via)

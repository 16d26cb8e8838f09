"""Walk a resource along a compiled profile and report what the profile forbids."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fhir_server.outcome import Issue

from .compiler import CompiledProfile, Element, Invariant
from .messages import message

# (value set url, system or None, code) -> True / False / None (cannot tell)
Membership = Callable[[str, str | None, str], bool | None]


class ProfileWalker:
    def __init__(self, profile: CompiledProfile, member: Membership, lang: str) -> None:
        self.profile, self.member, self.lang = profile, member, lang
        self.issues: list[Issue] = []
        self.name = profile.url.rsplit("/", 1)[-1]

    def run(self, resource: dict[str, Any]) -> list[Issue]:
        self.resource = resource
        root = self.profile.root
        self._invariants(root, resource, root.id)
        self._children(resource, root, root.id)
        return self.issues

    def _issue(self, severity: str, issue_type: str, msg: str, where: str, /, **values: object) -> None:
        text = message(msg, self.lang, path=where, profile=self.name, **values)
        self.issues.append(Issue(severity, issue_type, text, (where,) if where else ()))

    def _children(self, obj: dict[str, Any], node: Element, path: str) -> None:
        for child in node.children:
            values, label = _values(obj, child)
            where = f"{path}.{label}"
            if child.restrict_types:
                self._types(obj, child, path)
            if child.check_card:
                self._cardinality(child, len(values), where)
            if child.slices:
                self._slices(child, values, where)
            for i, value in enumerate(values):
                self._value(child, value, f"{where}[{i}]" if len(values) > 1 or _many(obj, child) else where)

    def _types(self, obj: dict[str, Any], el: Element, path: str) -> None:
        prefix = el.choice_prefix or el.name
        for key in obj:
            if key.startswith(prefix) and key[len(prefix) :][:1].isupper() and key not in el.keys:
                self._issue(
                    "error",
                    "structure",
                    "type",
                    f"{path}.{prefix}",
                    type=key[len(prefix) :],
                    allowed=", ".join(el.types),
                )

    def _cardinality(self, el: Element, count: int, where: str) -> None:
        if count < el.min:
            self._issue("error", "required", "min", where, min=el.min, count=count)
        elif el.max is not None and count > el.max:
            self._issue("error", "structure", "max", where, max=el.max, count=count)

    def _slices(self, el: Element, values: list[Any], where: str) -> None:
        matched: dict[int, list[tuple[int, Any]]] = {i: [] for i in range(len(el.slices))}
        for n, value in enumerate(values):
            for i, s in enumerate(el.slices):
                if all(_at(value, d) == v for d, v in s.match.items() if v is not None):
                    matched[i].append((n, value))
                    break
            else:
                if el.closed:
                    self._issue("error", "structure", "slice-closed", f"{where}[{n}]")
        for i, s in enumerate(el.slices):
            items = matched[i]
            slice_where = f"{where}.where({_slice_filter(s)})"
            self._cardinality(s, len(items), slice_where)
            for n, value in items:
                self._value(s, value, f"{where}[{n}]")

    def _value(self, el: Element, value: Any, where: str) -> None:
        if el.fixed is not None and value != el.fixed:
            self._issue("error", "value", "fixed", where, expected=_show(el.fixed))
        if el.pattern is not None and not _contains(value, el.pattern):
            self._issue("error", "value", "pattern", where, expected=_show(el.pattern))
        if el.binding is not None:
            self._binding(el, value, where)
        if el.invariants:
            self._invariants(el, value, where)
        if el.children and isinstance(value, dict):
            self._children(value, el, where)

    def _binding(self, el: Element, value: Any, where: str) -> None:
        assert el.binding is not None
        strength, vs = el.binding
        codings: list[tuple[Any, Any]]
        if isinstance(value, str):
            codings = [(None, value)]
        elif (isinstance(value, dict) and "coding" in value) or (isinstance(value, dict) and "text" in value):
            codings = [
                (c.get("system"), c.get("code")) for c in value.get("coding") or [] if isinstance(c, dict)
            ]
        elif isinstance(value, dict):
            codings = [(value.get("system"), value.get("code"))]
        else:
            return
        answers = [self.member(vs, s, c) for s, c in codings if isinstance(c, str)]
        if any(a is not False for a in answers) and answers:
            return
        shown = ", ".join(f"{s}#{c}" if s else str(c) for s, c in codings) or "(no code)"
        severity = "error" if strength == "required" else "warning"
        self._issue(severity, "code-invalid", f"binding-{strength}", where, code=shown, valueset=vs)

    def _invariants(self, el: Element, focus: Any, where: str) -> None:
        for inv in el.invariants:
            ok = self._holds(inv, focus)
            if ok is None:
                continue
            if not ok:
                human = inv.human_fa if self.lang == "fa" else inv.human_en
                self._issue(inv.severity, "invariant", "invariant", where, key=inv.key, human=human)

    def _holds(self, inv: Invariant, focus: Any) -> bool | None:
        if inv.native is not None:
            return inv.native(focus)
        assert inv.evaluate is not None
        try:
            result = inv.evaluate(focus, {"resource": self.resource, "rootResource": self.resource})
        except Exception as exc:  # fhirpathpy raises many kinds; report, do not crash
            self._issue("warning", "processing", "invariant-failed", "", key=inv.key, error=str(exc)[:200])
            return None
        return result != [False]


def _values(obj: dict[str, Any], el: Element) -> tuple[list[Any], str]:
    for key in el.keys:
        if key in obj or "_" + key in obj:
            value = obj.get(key, obj.get("_" + key))
            label = el.label if len(el.keys) == 1 else f"{el.name}.ofType({_type_of(key, el)})"
            return (value if isinstance(value, list) else [value]), label
    return [], el.label


def _type_of(key: str, el: Element) -> str:
    suffix = key[len(el.name) :]
    for t in el.types:
        if t.lower() == suffix.lower():
            return t
    return suffix


def _many(obj: dict[str, Any], el: Element) -> bool:
    return any(isinstance(obj.get(k), list) for k in el.keys)


def _at(value: Any, path: str) -> Any:
    for step in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(step)
    return value


def _slice_filter(s: Element) -> str:
    return " and ".join(f"{d}='{v}'" for d, v in s.match.items() if v is not None) or s.id


def _contains(value: Any, pattern: Any) -> bool:
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(_contains(value.get(k), v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(_contains(v, p) for v in value) for p in pattern)
    return bool(value == pattern)


def _show(value: Any) -> str:
    return value if isinstance(value, str) else str(value)

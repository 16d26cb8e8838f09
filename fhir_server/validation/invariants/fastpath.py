"""A compiler from FHIRPath to Python closures, for the subset the R4 invariants use.

fhirpathpy interprets its syntax tree on every call (20-120 µs for one invariant); the
validator evaluates a few dozen invariants per resource, so the common ones are compiled
here, once, into closures over plain JSON values (about 1 µs). fhirpathpy still parses
the expression: this module only walks the tree it produces.

Two escape hatches keep the semantics honest:

- ``Unsupported`` (compile time): the expression uses something not handled here (type
  operators on FHIR types, date or quantity literals, ...). The caller uses fhirpathpy.
- ``Undecided`` (run time): this input needs what is not handled here (a primitive that
  has only an extension, numbers compared with strings, a quantity comparison, ...). The
  caller evaluates this one input with fhirpathpy.

Collections are Python lists of JSON values: dicts for complex values and resources,
str/int/float/bool for primitives. Date, dateTime and instant values are compared as
times (see ``temporal``), which fhirpathpy does not do when both sides come from data.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fhirpathpy.engine.evaluators import string_literal
from fhirpathpy.parser import parse

from fhir_server import definitions

from .temporal import compare_temporal, looks_temporal
from .ucum import in_common_units

Coll = list[Any]


class Unsupported(Exception):
    """The expression uses FHIRPath this compiler leaves to fhirpathpy."""


class Undecided(Exception):
    """This input needs fhirpathpy's fuller semantics."""


class Env:
    """Evaluation environment: $this and the %variables."""

    __slots__ = ("context", "html_checks", "resource", "root", "this")

    def __init__(self, this: Coll, resource: Any, root: Any, html_checks: Callable[[Any], bool]) -> None:
        self.this = this
        self.resource = resource
        self.root = root
        self.context = this
        self.html_checks = html_checks

    def with_this(self, this: Coll) -> Env:
        env = Env(this, self.resource, self.root, self.html_checks)
        env.context = self.context
        return env


Fn = Callable[[Coll, Env], Coll]
UCUM = "http://unitsofmeasure.org"


def compile_expression(expression: str) -> Fn:
    """Compile an expression (Unsupported if it is outside the subset)."""
    try:
        tree = parse(expression)
    except Exception as exc:  # antlr raises many kinds
        raise Unsupported(f"cannot parse: {exc}") from exc
    return _compile(tree["children"][0])


# --------------------------------------------------------------------------- tree walk


def _compile(node: dict[str, Any]) -> Fn:
    kind = node["type"]
    handler = _HANDLERS.get(kind)
    if handler is None:
        raise Unsupported(kind)
    return handler(node)


def _children(node: dict[str, Any]) -> list[dict[str, Any]]:
    return node.get("children") or []


def _op(node: dict[str, Any]) -> str:
    return str(node["terminalNodeText"][0])


def _passthrough(node: dict[str, Any]) -> Fn:
    return _compile(_children(node)[0])


def _invocation_expression(node: dict[str, Any]) -> Fn:
    left_node, right_node = _children(node)
    left = _compile(left_node)
    right = _invocation(right_node)

    def invoke(focus: Coll, env: Env) -> Coll:
        return right(left(focus, env), env)

    return invoke


def _invocation_term(node: dict[str, Any]) -> Fn:
    return _invocation(_children(node)[0])


def _invocation(node: dict[str, Any]) -> Fn:
    """An invocation applied to the collection it receives (MemberInvocation, ...)."""
    kind = node["type"]
    if kind == "MemberInvocation":
        return _member(_identifier(_children(node)[0]))
    if kind == "FunctionInvocation":
        return _function(_children(node)[0])
    if kind == "ThisInvocation":
        return lambda focus, env: env.this
    raise Unsupported(kind)


def _identifier(node: dict[str, Any]) -> str:
    return str(node["text"]).strip("`").strip('"')


# --------------------------------------------------------------------------- navigation

_CHOICE_BASES: frozenset[str] | None = None


def _choice_bases() -> frozenset[str]:
    """Names of choice elements ("value", "effective"...): their JSON keys carry a type."""
    global _CHOICE_BASES
    if _CHOICE_BASES is None:
        names = set()
        for type_name in definitions.type_names():
            for el in definitions.type_def(type_name).elements.values():
                if el.choices:
                    names.add(el.name)
        _CHOICE_BASES = frozenset(names)
    return _CHOICE_BASES


def _member(name: str) -> Fn:
    if name[:1].isupper():
        return _type_filter(name)
    choice = name in _choice_bases()
    companion = "_" + name

    def member(focus: Coll, env: Env) -> Coll:
        out: Coll = []
        for item in focus:
            if type(item) is not dict:
                continue
            value = item.get(name)
            if value is None:
                if companion in item:
                    raise Undecided  # a primitive with only an extension
                if choice:
                    value = _choice_value(item, name)
                if value is None:
                    continue
            if type(value) is list:
                if None in value:
                    raise Undecided
                out.extend(value)
            else:
                out.append(value)
        return out

    return member


def _choice_value(item: dict[str, Any], name: str) -> Any:
    size = len(name)
    for key, value in item.items():
        if len(key) > size and key.startswith(name) and key[size].isupper():
            return value
        if key[:1] == "_" and key[1:].startswith(name) and key[1 + size : 2 + size].isupper():
            raise Undecided
    return None


def _type_filter(name: str) -> Fn:
    """``Appointment.status``: a type name filters resources by resourceType."""

    def filter_type(focus: Coll, env: Env) -> Coll:
        out = []
        for item in focus:
            if type(item) is not dict or "resourceType" not in item:
                raise Undecided
            if item["resourceType"] == name:
                out.append(item)
        return out

    return filter_type


def _children_of(item: Any) -> Coll:
    if type(item) is not dict:
        return []
    out: Coll = []
    for key, value in item.items():
        if key[:1] == "_" or key == "resourceType":
            continue
        if type(value) is list:
            out.extend(v for v in value if v is not None)
        else:
            out.append(value)
    return out


# --------------------------------------------------------------------------- terms


def _literal_term(node: dict[str, Any]) -> Fn:
    term = _children(node)[0]
    kind = term["type"]
    if kind == "StringLiteral":
        value: Any = string_literal(None, None, term)[0]
    elif kind == "NumberLiteral":
        text = str(term["text"])
        value = float(text) if "." in text else int(text)
    elif kind == "BooleanLiteral":
        value = term["text"] == "true"
    elif kind == "NullLiteral":
        return lambda focus, env: []
    else:
        raise Unsupported(kind)  # dates, times and quantities
    result = [value]
    return lambda focus, env: result


def _external_constant(node: dict[str, Any]) -> Fn:
    constant = _children(node)[0]
    name = _identifier(_children(constant)[0])
    if name == "resource":
        return lambda focus, env: [env.resource]
    if name == "rootResource":
        return lambda focus, env: [env.root]
    if name == "context":
        return lambda focus, env: env.context
    if name == "ucum":
        return lambda focus, env: [UCUM]
    raise Unsupported(f"%{name}")


def _polarity(node: dict[str, Any]) -> Fn:
    operand = _compile(_children(node)[0])
    negate = _op(node) == "-"

    def polarity(focus: Coll, env: Env) -> Coll:
        value = operand(focus, env)
        if len(value) != 1 or not _is_number(value[0]):
            raise Undecided
        return [-value[0]] if negate else value

    return polarity


def _indexer(node: dict[str, Any]) -> Fn:
    coll_node, index_node = _children(node)
    coll, index = _compile(coll_node), _compile(index_node)

    def indexer(focus: Coll, env: Env) -> Coll:
        at = index(focus, env)
        if not at:
            return []
        if len(at) != 1 or type(at[0]) is not int:
            raise Undecided
        items = coll(focus, env)
        return [items[at[0]]] if 0 <= at[0] < len(items) else []

    return indexer


# --------------------------------------------------------------------------- values


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _singleton_bool(coll: Coll) -> bool | None:
    """A collection in a boolean context: empty -> None; one item -> its truth."""
    if not coll:
        return None
    if len(coll) > 1:
        raise Undecided
    value = coll[0]
    return value if type(value) is bool else True


def _equal_items(a: Any, b: Any) -> bool:
    ta, tb = type(a), type(b)
    if ta is bool or tb is bool:
        if ta is not tb:
            raise Undecided
        return bool(a == b)
    if ta in (int, float) and tb in (int, float):
        return bool(a == b)
    if ta is str and tb is str:
        if a != b and len(a) != len(b) and looks_temporal(a) and looks_temporal(b):
            raise Undecided  # dates of different precision: FHIRPath says empty
        return a == b
    if ta is dict and tb is dict:
        return bool(a == b)
    raise Undecided


def _distinct(items: Coll) -> Coll:
    out: Coll = []
    for item in items:
        if not any(_same(item, seen) for seen in out):
            out.append(item)
    return out


def _same(a: Any, b: Any) -> bool:
    try:
        return _equal_items(a, b)
    except Undecided:
        return False if type(a) is not type(b) else bool(a == b)


# --------------------------------------------------------------------------- operators


def _binary(node: dict[str, Any]) -> tuple[Fn, Fn]:
    left, right = _children(node)
    return _compile(left), _compile(right)


def _equality(node: dict[str, Any]) -> Fn:
    op = _op(node)
    if op not in ("=", "!="):
        raise Unsupported(op)  # equivalence (~) is not used by the invariants
    left, right = _binary(node)
    negate = op == "!="

    def equality(focus: Coll, env: Env) -> Coll:
        a, b = left(focus, env), right(focus, env)
        if not a or not b:
            return []
        same = len(a) == len(b) and all(_equal_items(x, y) for x, y in zip(a, b, strict=True))
        return [same != negate]

    return equality


def _inequality(node: dict[str, Any]) -> Fn:
    op = _op(node)
    left, right = _binary(node)
    test: Callable[[int], bool] = {
        "<": lambda c: c < 0,
        "<=": lambda c: c <= 0,
        ">": lambda c: c > 0,
        ">=": lambda c: c >= 0,
    }[op]

    def inequality(focus: Coll, env: Env) -> Coll:
        a, b = left(focus, env), right(focus, env)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1:
            raise Undecided
        order = _compare(a[0], b[0])
        return [] if order is None else [test(order)]

    return inequality


def _compare(a: Any, b: Any) -> int | None:
    """-1, 0, 1, or None when FHIRPath says the result is empty."""
    if _is_number(a) and _is_number(b):
        return (a > b) - (a < b)
    if type(a) is str and type(b) is str:
        temporal_a, temporal_b = looks_temporal(a), looks_temporal(b)
        if temporal_a and temporal_b:
            return compare_temporal(a, b)
        if temporal_a or temporal_b:
            raise Undecided
        return (a > b) - (a < b)
    if type(a) is dict and type(b) is dict and "value" in a and "value" in b:
        values = in_common_units(a, b)
        if values is None:
            return None  # units that do not convert: FHIRPath says empty
        return (values[0] > values[1]) - (values[0] < values[1])
    raise Undecided  # mixed types


def _logic(node: dict[str, Any]) -> Fn:
    op = _op(node)
    left, right = _binary(node)
    combine = _LOGIC.get(op)
    if combine is None:
        raise Unsupported(op)

    def logic(focus: Coll, env: Env) -> Coll:
        result = combine(left, right, focus, env)
        return [] if result is None else [result]

    return logic


def _and(left: Fn, right: Fn, focus: Coll, env: Env) -> bool | None:
    a = _singleton_bool(left(focus, env))
    if a is False:
        return False
    b = _singleton_bool(right(focus, env))
    if b is False:
        return False
    return True if a and b else None


def _or(left: Fn, right: Fn, focus: Coll, env: Env) -> bool | None:
    a = _singleton_bool(left(focus, env))
    if a is True:
        return True
    b = _singleton_bool(right(focus, env))
    if b is True:
        return True
    return False if a is False and b is False else None


def _xor(left: Fn, right: Fn, focus: Coll, env: Env) -> bool | None:
    a = _singleton_bool(left(focus, env))
    b = _singleton_bool(right(focus, env))
    return None if a is None or b is None else a != b


def _implies(left: Fn, right: Fn, focus: Coll, env: Env) -> bool | None:
    a = _singleton_bool(left(focus, env))
    if a is False:
        return True
    b = _singleton_bool(right(focus, env))
    if a is True:
        return b
    return True if b is True else None


_LOGIC: dict[str, Callable[[Fn, Fn, Coll, Env], bool | None]] = {
    "and": _and,
    "or": _or,
    "xor": _xor,
    "implies": _implies,
}


def _membership(node: dict[str, Any]) -> Fn:
    op = _op(node)
    left, right = _binary(node)
    if op == "contains":
        left, right = right, left

    def membership(focus: Coll, env: Env) -> Coll:
        item, coll = left(focus, env), right(focus, env)
        if not item:
            return []
        if len(item) != 1:
            raise Undecided
        return [any(_equal_items(item[0], x) for x in coll)]

    return membership


def _union(node: dict[str, Any]) -> Fn:
    left, right = _binary(node)
    return lambda focus, env: _distinct(left(focus, env) + right(focus, env))


def _additive(node: dict[str, Any]) -> Fn:
    op = _op(node)
    left, right = _binary(node)
    if op == "&":

        def concat(focus: Coll, env: Env) -> Coll:
            return [_text(left(focus, env)) + _text(right(focus, env))]

        return concat
    if op != "+":
        raise Unsupported(op)

    def plus(focus: Coll, env: Env) -> Coll:
        a, b = left(focus, env), right(focus, env)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1:
            raise Undecided
        x, y = a[0], b[0]
        if type(x) is str and type(y) is str:
            return [x + y]
        if _is_number(x) and _is_number(y):
            return [x + y]
        raise Undecided

    return plus


def _text(coll: Coll) -> str:
    if not coll:
        return ""
    if len(coll) != 1 or type(coll[0]) is not str:
        raise Undecided
    return str(coll[0])


# --------------------------------------------------------------------------- functions


def _function(node: dict[str, Any]) -> Fn:
    name_node, *rest = _children(node)
    name = _identifier(name_node)
    params = _children(rest[0]) if rest else []
    builder = _FUNCTIONS.get(name)
    if builder is None:
        raise Unsupported(f"{name}()")
    return builder(params)


def _arity(params: list[dict[str, Any]], *allowed: int) -> None:
    if len(params) not in allowed:
        raise Unsupported(f"arity {len(params)}")


def _plain(fn: Callable[[Coll], Coll]) -> Callable[[list[dict[str, Any]]], Fn]:
    def build(params: list[dict[str, Any]]) -> Fn:
        _arity(params, 0)
        return lambda focus, env: fn(focus)

    return build


def _exists(params: list[dict[str, Any]]) -> Fn:
    _arity(params, 0, 1)
    if not params:
        return lambda focus, env: [bool(focus)]
    where = _where([params[0]])
    return lambda focus, env: [bool(where(focus, env))]


def _not(focus: Coll) -> Coll:
    value = _singleton_bool(focus)
    return [] if value is None else [not value]


def _has_value(focus: Coll) -> Coll:
    return [len(focus) == 1 and type(focus[0]) is not dict]


def _is_distinct(focus: Coll) -> Coll:
    return [len(_distinct(focus)) == len(focus)]


def _to_integer(focus: Coll) -> Coll:
    if len(focus) != 1:
        if not focus:
            return []
        raise Undecided
    value = focus[0]
    if type(value) is int:
        return [value]
    if type(value) is str and re.fullmatch(r"[+-]?[0-9]+", value):
        return [int(value)]
    if type(value) is bool:
        return [int(value)]
    return []


def _descendants(focus: Coll) -> Coll:
    out: Coll = []
    level = focus
    while level:
        level = [child for item in level for child in _children_of(item)]
        out.extend(level)
    return out


def _iterator(params: list[dict[str, Any]]) -> Fn:
    _arity(params, 1)
    return _compile(params[0])


def _where(params: list[dict[str, Any]]) -> Fn:
    criteria = _iterator(params)

    def where(focus: Coll, env: Env) -> Coll:
        out = []
        for item in focus:
            one = [item]
            if _singleton_bool(criteria(one, env.with_this(one))) is True:
                out.append(item)
        return out

    return where


def _all(params: list[dict[str, Any]]) -> Fn:
    criteria = _iterator(params)

    def all_(focus: Coll, env: Env) -> Coll:
        for item in focus:
            one = [item]
            if _singleton_bool(criteria(one, env.with_this(one))) is not True:
                return [False]
        return [True]

    return all_


def _select(params: list[dict[str, Any]]) -> Fn:
    projection = _iterator(params)

    def select(focus: Coll, env: Env) -> Coll:
        out: Coll = []
        for item in focus:
            one = [item]
            out.extend(projection(one, env.with_this(one)))
        return out

    return select


def _argument(params: list[dict[str, Any]]) -> Fn:
    """A non-iterating argument: evaluated against $this, as fhirpathpy does."""
    _arity(params, 1)
    arg = _compile(params[0])
    return lambda focus, env: arg(env.this, env)


def _string_function(test: Callable[[str, str], bool]) -> Callable[[list[dict[str, Any]]], Fn]:
    def build(params: list[dict[str, Any]]) -> Fn:
        arg = _argument(params)

        def run(focus: Coll, env: Env) -> Coll:
            if not focus:
                return []
            if len(focus) != 1 or type(focus[0]) is not str:
                raise Undecided
            value = arg(focus, env)
            if not value:
                return []
            if len(value) != 1 or type(value[0]) is not str:
                raise Undecided
            return [test(focus[0], value[0])]

        return run

    return build


def _matches(value: str, pattern: str) -> bool:
    return re.search(pattern, value, re.DOTALL) is not None


def _substring(params: list[dict[str, Any]]) -> Fn:
    _arity(params, 1, 2)
    start = _compile(params[0])
    length = _compile(params[1]) if len(params) == 2 else None

    def substring(focus: Coll, env: Env) -> Coll:
        if not focus:
            return []
        if len(focus) != 1 or type(focus[0]) is not str:
            raise Undecided
        begin = start(env.this, env)
        if len(begin) != 1 or type(begin[0]) is not int:
            raise Undecided
        text, at = focus[0], begin[0]
        if at < 0 or at >= len(text):
            return []
        if length is None:
            return [text[at:]]
        count = length(env.this, env)
        if len(count) != 1 or type(count[0]) is not int:
            raise Undecided
        return [text[at : at + count[0]]]

    return substring


def _iif(params: list[dict[str, Any]]) -> Fn:
    _arity(params, 2, 3)
    condition, then = _compile(params[0]), _compile(params[1])
    otherwise = _compile(params[2]) if len(params) == 3 else None

    def iif(focus: Coll, env: Env) -> Coll:
        if _singleton_bool(condition(focus, env)) is True:
            return then(focus, env)
        return otherwise(focus, env) if otherwise is not None else []

    return iif


def _html_checks(params: list[dict[str, Any]]) -> Fn:
    _arity(params, 0)

    def html_checks(focus: Coll, env: Env) -> Coll:
        if len(focus) != 1:
            return [] if not focus else [False]
        return [env.html_checks(focus[0])]

    return html_checks


def _intersect(params: list[dict[str, Any]]) -> Fn:
    other = _argument(params)

    def intersect(focus: Coll, env: Env) -> Coll:
        right = other(focus, env)
        return _distinct([x for x in focus if any(_same(x, y) for y in right)])

    return intersect


def _combine(params: list[dict[str, Any]]) -> Fn:
    other = _argument(params)
    return lambda focus, env: focus + other(focus, env)


def _type_name(params: list[dict[str, Any]]) -> str:
    """The resource type a type function names; other types are left to fhirpathpy."""
    _arity(params, 1)
    text = str(params[0].get("text", "")).removeprefix("FHIR.").strip("`")
    if text not in definitions.resource_types():
        raise Unsupported(f"type {text}")
    return text


def _of_type(params: list[dict[str, Any]]) -> Fn:
    name = _type_name(params)
    return lambda focus, env: [x for x in focus if type(x) is dict and x.get("resourceType") == name]


def _is_type(params: list[dict[str, Any]]) -> Fn:
    name = _type_name(params)

    def is_type(focus: Coll, env: Env) -> Coll:
        if len(focus) > 1:
            raise Undecided
        return [type(x) is dict and x.get("resourceType") == name for x in focus]

    return is_type


def _as_type(params: list[dict[str, Any]]) -> Fn:
    name = _type_name(params)

    def as_type(focus: Coll, env: Env) -> Coll:
        if len(focus) > 1:
            raise Undecided
        return [x for x in focus if type(x) is dict and x.get("resourceType") == name]

    return as_type


def _type_expression(node: dict[str, Any]) -> Fn:
    """``x is T`` / ``x as T`` with a resource type T."""
    operand_node, type_node = _children(node)
    operand = _compile(operand_node)
    test = (_is_type if _op(node) == "is" else _as_type)([type_node])
    return lambda focus, env: test(operand(focus, env), env)


def _resolve(params: list[dict[str, Any]]) -> Fn:
    """Local references only (#id, #): a validator reads no store."""
    _arity(params, 0)

    def resolve(focus: Coll, env: Env) -> Coll:
        out: Coll = []
        root = env.root
        for item in focus:
            ref = item.get("reference") if type(item) is dict else item
            if type(ref) is not str or not ref.startswith("#") or type(root) is not dict:
                continue
            if ref == "#":
                out.append(root)
                continue
            contained = root.get("contained")
            for c in contained if type(contained) is list else []:
                if type(c) is dict and c.get("id") == ref[1:]:
                    out.append(c)
        return out

    return resolve


def _trace(params: list[dict[str, Any]]) -> Fn:
    """trace() returns its input and, here, prints nothing (values may be patient data)."""
    _arity(params, 1, 2)
    return lambda focus, env: focus


_FUNCTIONS: dict[str, Callable[[list[dict[str, Any]]], Fn]] = {
    "exists": _exists,
    "empty": _plain(lambda focus: [not focus]),
    "not": _plain(_not),
    "count": _plain(lambda focus: [len(focus)]),
    "hasValue": _plain(_has_value),
    "isDistinct": _plain(_is_distinct),
    "first": _plain(lambda focus: focus[:1]),
    "last": _plain(lambda focus: focus[-1:]),
    "tail": _plain(lambda focus: focus[1:]),
    "toInteger": _plain(_to_integer),
    "children": _plain(lambda focus: [c for item in focus for c in _children_of(item)]),
    "descendants": _plain(_descendants),
    "where": _where,
    "all": _all,
    "select": _select,
    "startsWith": _string_function(str.startswith),
    "endsWith": _string_function(str.endswith),
    "contains": _string_function(lambda value, part: part in value),
    "matches": _string_function(_matches),
    "substring": _substring,
    "iif": _iif,
    "htmlChecks": _html_checks,
    "intersect": _intersect,
    "combine": _combine,
    "trace": _trace,
    "ofType": _of_type,
    "is": _is_type,
    "as": _as_type,
    "resolve": _resolve,
}

_HANDLERS: dict[str, Callable[[dict[str, Any]], Fn]] = {
    "TermExpression": _passthrough,
    "ParenthesizedTerm": _passthrough,
    "InvocationTerm": _invocation_term,
    "InvocationExpression": _invocation_expression,
    "LiteralTerm": _literal_term,
    "ExternalConstantTerm": _external_constant,
    "PolarityExpression": _polarity,
    "IndexerExpression": _indexer,
    "EqualityExpression": _equality,
    "InequalityExpression": _inequality,
    "AndExpression": _logic,
    "OrExpression": _logic,
    "XorExpression": _logic,
    "ImpliesExpression": _logic,
    "MembershipExpression": _membership,
    "UnionExpression": _union,
    "AdditiveExpression": _additive,
    "TypeExpression": _type_expression,
}


# --------------------------------------------------------------------------- predicates

Predicate = Callable[[dict[str, Any]], bool]


def compile_predicate(expression: str) -> Predicate | None:
    """The fastest form, for invariants that only ask which children are present:
    ``name.exists()`` / ``name.empty()`` combined by and, or, xor, implies and not().
    Presence is never empty, so two-valued Python logic is exact and the invariant becomes
    one function of the focus object. None when the expression is anything more."""
    try:
        return _predicate(parse(expression)["children"][0])
    except Exception:  # an expression outside this shape, or one antlr cannot parse
        return None


def _predicate(node: dict[str, Any]) -> Predicate | None:
    kind = node["type"]
    if kind in ("TermExpression", "ParenthesizedTerm"):
        return _predicate(_children(node)[0])
    if kind in ("AndExpression", "OrExpression", "XorExpression", "ImpliesExpression"):
        left, right = (_predicate(c) for c in _children(node))
        if left is None or right is None:
            return None
        return _combine_predicates(_op(node), left, right)
    if kind != "InvocationExpression":
        return None
    target, call = _children(node)
    function = _function_name(call)
    if function == "not":
        inner = _predicate(target)
        return None if inner is None else (lambda item: not inner(item))
    name = _direct_member(target)
    if name is None or function not in ("exists", "empty"):
        return None
    present = _presence(name)
    if function == "exists":
        return present
    return lambda item: not present(item)


def _combine_predicates(op: str, left: Predicate, right: Predicate) -> Predicate | None:
    if op == "and":
        return lambda item: left(item) and right(item)
    if op == "or":
        return lambda item: left(item) or right(item)
    if op == "xor":
        return lambda item: left(item) != right(item)
    if op == "implies":
        return lambda item: not left(item) or right(item)
    return None


def _function_name(node: dict[str, Any]) -> str | None:
    """The name of a parameterless function call, or None."""
    if node["type"] != "FunctionInvocation":
        return None
    functn = _children(node)[0]
    if len(_children(functn)) != 1:
        return None
    return _identifier(_children(functn)[0])


def _direct_member(node: dict[str, Any]) -> str | None:
    """``name`` as the first step of a path (a child of the focus), or None."""
    while node["type"] in ("TermExpression", "ParenthesizedTerm"):
        node = _children(node)[0]
    if node["type"] != "InvocationTerm":
        return None
    member = _children(node)[0]
    if member["type"] != "MemberInvocation":
        return None
    name = _identifier(_children(member)[0])
    return None if name[:1].isupper() else name


def _presence(name: str) -> Predicate:
    """Is the child present (a value, or a primitive's extension-only ``_name``)?"""
    companion = "_" + name
    if name not in _choice_bases():
        return lambda item: name in item or companion in item
    return lambda item: name in item or companion in item or _choice_present(item, name)


def _choice_present(item: dict[str, Any], name: str) -> bool:
    size = len(name)
    return any(
        key.lstrip("_").startswith(name) and key.lstrip("_")[size : size + 1].isupper() for key in item
    )

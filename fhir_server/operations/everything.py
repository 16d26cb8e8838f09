"""Patient/[id]/$everything (R4 patient-everything): the patient, everything in their
compartment and the resources those refer to, as a searchset Bundle paged with `_count`.

It runs through the Repository like a search, type by type (the Patient first), so the
caller's token narrows it exactly as it narrows searches: types it may not search are
left out, and so is whatever its scopes do not let it see. Referenced resources come as
`search.mode = include` (`_include=[type]:*`, limited by the token too). `_since` keeps
resources changed since an instant; `_type` limits the types. A page link carries the
position (type and keyset cursor) of the next page, so pages stay stable while data
changes, as search pages do.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import orjson

from fhir_server import search
from fhir_server.definitions import compartments
from fhir_server.operations.contract import In, Operation, OperationRequest, Out, Text
from fhir_server.outcome import FhirError
from fhir_server.search.dates import date_range
from fhir_server.search.plan import Cursor, Hit, Include, SearchPlan

DEFAULT_COUNT = 50
MAX_COUNT = 1000


def everything(req: OperationRequest) -> dict[str, Any]:
    patient_id = str(req.id)
    server = req.server
    with server.store.session() as s:
        server.repo.read(s, "Patient", patient_id)  # 404, 410 or 403 before anything else
    types = _types(req)
    count = _count(req.text("_count"))
    since = _since(req.text("_since"))
    index, key = _position(req.text("_page"), len(types))
    # One more than a page: a next link only when something really follows.
    collected: list[tuple[int, Hit]] = []
    included: dict[tuple[str, str], Hit] = {}
    while index < len(types) and len(collected) <= count:
        plan = _plan(types[index], patient_id, since, count + 1 - len(collected), key)
        with server.store.session() as s:
            result = server.repo.search(s, plan, "search-type")
        collected += [(index, hit) for hit in result.matches]
        for hit in result.included:
            included.setdefault((hit.type, hit.id), hit)
        if result.next_key is not None and len(collected) <= count:
            key = result.next_key  # the store gave less than asked: the same type goes on
            continue
        index, key = index + 1, None
    page = collected[:count]
    next_position = (page[-1][0], page[-1][1].sort_key) if len(collected) > count else None
    matches = [hit for _, hit in page]
    return _bundle(req, matches, included, next_position)


def _types(req: OperationRequest) -> list[str]:
    linked = sorted(t for t in compartments().get("Patient", {}) if t != "Patient")
    named = [t.strip() for v in req.values("_type") for t in str(v).split(",") if t.strip()]
    for type_ in named:
        if type_ != "Patient" and type_ not in linked:
            raise FhirError.of(400, "invalid", f"_type: {type_} is not in the Patient compartment")
    wanted = ["Patient", *linked] if not named else [t for t in ["Patient", *linked] if t in named]
    access = req.caller.access
    return [t for t in wanted if access is None or access.allows("search-type", t)]


def _count(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_COUNT
    if not raw.isdigit() or int(raw) < 1:
        raise FhirError.of(400, "invalid", "_count must be a positive integer")
    return min(int(raw), MAX_COUNT)


def _since(raw: str | None) -> str | None:
    if raw is not None and (len(raw) < 20 or date_range(raw) is None):
        raise FhirError.of(400, "invalid", f"_since must be a FHIR instant, got {raw!r}")
    return raw


def _plan(
    type_: str, patient_id: str, since: str | None, count: int, key: tuple[object, ...] | None
) -> SearchPlan:
    pairs = [("_lastUpdated", f"ge{since}")] if since else []
    plan = search.parse_search(type_, pairs, compartment=("Patient", patient_id), strict=True)
    return replace(
        plan,
        count=count,
        total="none",
        includes=(Include(type_, "*", None, False),),
        cursor=Cursor(True, key) if key else None,
    )


def _position(token: str | None, n_types: int) -> tuple[int, tuple[object, ...] | None]:
    if token is None:
        return 0, None
    try:
        data = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        index, key = int(data["t"]), tuple(data["k"])
    except (ValueError, KeyError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
        raise FhirError.of(400, "invalid", "Invalid _page") from exc
    if not 0 <= index < n_types:
        raise FhirError.of(400, "invalid", "Invalid _page")
    return index, key or None


def _page_token(position: tuple[int, tuple[object, ...]]) -> str:
    raw = orjson.dumps({"t": position[0], "k": list(position[1])})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _bundle(
    req: OperationRequest,
    matches: list[Hit],
    included: dict[tuple[str, str], Hit],
    next_position: tuple[int, tuple[object, ...]] | None,
) -> dict[str, Any]:
    base = req.server.base_url
    seen = {(h.type, h.id) for h in matches}
    entries = [_entry(base, h, "match") for h in matches]
    entries += [_entry(base, h, "include") for k, h in included.items() if k not in seen]
    url = f"{base}/Patient/{req.id}/$everything"
    params = [(k, v) for k, v in req.query if k != "_page"]
    links = [{"relation": "self", "url": f"{url}?{urlencode(req.query)}" if req.query else url}]
    if next_position is not None:
        links.append(
            {
                "relation": "next",
                "url": f"{url}?{urlencode([*params, ('_page', _page_token(next_position))])}",
            }
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "searchset",
        "link": links,
        "entry": entries,
    }


def _entry(base: str, hit: Hit, mode: str) -> dict[str, Any]:
    return {
        "fullUrl": f"{base}/{hit.type}/{hit.id}",
        "resource": orjson.loads(hit.body or b"{}"),
        "search": {"mode": mode},
    }


OPERATIONS = (
    Operation(
        name="everything",
        id="Patient-everything",
        base="http://hl7.org/fhir/OperationDefinition/Patient-everything",
        title=Text("Everything about a patient", "همهٔ پروندهٔ یک بیمار"),
        description=Text(
            "The patient, every resource in their compartment and the resources those refer to, "
            "narrowed by the caller's token as a search is; paged with _count.",
            "بیمار، همهٔ منابع پرونده‌اش و منابعی که به آن‌ها ارجاع می‌دهند، محدود به دسترسی توکن مانند "
            "جست‌وجو؛ صفحه‌بندی با _count.",
        ),
        levels=("instance",),
        types=("Patient",),
        handler=everything,
        parameters=(
            In(
                "_since",
                "instant",
                "Only resources changed since this instant",
                "فقط منابعی که از این لحظه تغییر کرده‌اند",
            ),
            In(
                "_type",
                "string",
                "Only these resource types (comma-separated)",
                "فقط این نوع منابع (جدا با ویرگول)",
                0,
                "*",
            ),
            In("_count", "integer", "Resources per page (default 50)", "تعداد منابع هر صفحه (پیش‌فرض ۵۰)"),
            Out(
                "return", "Bundle", "A searchset Bundle, paged", "یک Bundle از نوع searchset، صفحه‌بندی‌شده", 1
            ),
        ),
    ),
)

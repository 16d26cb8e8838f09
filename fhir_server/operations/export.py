"""$export (HL7 Bulk Data Access IG 2.0.0): system, Patient and Group/[id] level.

The kick-off checks the request and the caller, stores a job and answers 202 with the
status URL (`[base]/_bulk/<job>`, see api/bulk.py); a background thread runs the job
(`bulk.export`). System and Group exports need a SMART Backend Services token (system
scopes; narrower ones export what they cover); Patient/$export also takes user and
patient tokens. Whatever the token, the export is narrowed exactly as a search is.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson

from fhir_server import search
from fhir_server.bulk.access import access_to_dict
from fhir_server.bulk.jobs import Job, new_job_id
from fhir_server.conformance import CONFORMANCE_TYPES
from fhir_server.definitions import compartments
from fhir_server.operations.contract import Accepted, In, Operation, OperationRequest, Text
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import now_instant
from fhir_server.search.dates import date_range

OUTPUT_FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"


def kick_off(req: OperationRequest) -> Accepted:
    if not req.wants_async:
        raise FhirError.of(400, "invalid", "$export is asynchronous: send Prefer: respond-async")
    fmt = req.text("_outputFormat")
    if fmt is not None and fmt not in OUTPUT_FORMATS:
        raise FhirError.of(400, "not-supported", f"_outputFormat {fmt!r}: only application/fhir+ndjson")
    if req.level != "type" and not _is_backend(req):
        raise FhirError.of(
            403, "forbidden", "System and Group exports need a backend services token (system scopes)"
        )
    patients = _patients(req)
    named = _listed(req.values("_type"))
    types = _types(req, named, patients is not None)
    job = Job(
        id=new_job_id(),
        kind="export",
        request=_request_url(req),
        transaction_time=now_instant(),
        access=access_to_dict(req.caller.access),
        params={
            "types": types,
            "since": _since(req.text("_since")),
            "type_filters": _type_filters(req.values("_typeFilter"), types),
            "patients": patients,
            "with_shipped": bool(set(named) & CONFORMANCE_TYPES),
            "base_url": req.server.base_url,
        },
    )
    runner = req.server.extras["bulk_runner"]
    runner.jobs.create(job)
    runner.start(job)
    return Accepted(f"{req.server.base_url}/_bulk/{job.id}")


def _is_backend(req: OperationRequest) -> bool:
    access = req.caller.access
    return access is None or any(scope.level == "system" for scope in access.scopes.resources)


def _listed(values: list[Any]) -> list[str]:
    out = []
    for value in values:
        if not isinstance(value, str):
            raise FhirError.of(400, "invalid", "_type is a comma-separated list of resource types")
        out += [v.strip() for v in value.split(",") if v.strip()]
    return list(dict.fromkeys(out))


def _types(req: OperationRequest, named: list[str], by_patient: bool) -> list[str]:
    """The types to export: those named (each must be searchable by the caller), else every
    type the caller may search (in the Patient compartment for Patient and Group exports)."""
    known = req.server.resource_types
    in_compartment = set(compartments().get("Patient", {})) | {"Patient"}
    for type_ in named:
        if type_ not in known:
            raise FhirError.of(400, "invalid", f"_type: unknown resource type {type_!r}")
        if by_patient and type_ not in in_compartment:
            raise FhirError.of(400, "invalid", f"_type: {type_} is not in the Patient compartment")
        req.caller.require("search-type", type_)
    if named:
        return named
    candidates = sorted(in_compartment if by_patient else known)
    access = req.caller.access
    return [t for t in candidates if access is None or access.allows("search-type", t)]


def _since(value: str | None) -> str | None:
    if value is None:
        return None
    if len(value) < 20 or date_range(value) is None:  # an instant: to the second, with a zone
        raise FhirError.of(400, "invalid", f"_since must be a FHIR instant, got {value!r}")
    return value


def _type_filters(values: list[Any], types: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for value in values:
        for item in str(value).split(","):
            type_, sep, query = item.strip().partition("?")
            if not sep or type_ not in types:
                raise FhirError.of(
                    400, "invalid", f"_typeFilter {item!r}: write Type?query for an exported type"
                )
            search.parse_search(type_, parse_qsl(query, keep_blank_values=True), strict=True)  # 400 if bad
            out.setdefault(type_, []).append(query)
    return out


def _patients(req: OperationRequest) -> list[str] | str | None:
    """None for a system export; "*" for every patient; else the patients' ids."""
    refs = [_patient_id(v) for v in req.values("patient")]
    if req.level == "system":
        if refs:
            raise FhirError.of(400, "invalid", "patient is for Patient and Group exports")
        return None
    if req.level == "type":
        return refs or "*"
    members = _group_members(req)
    return [m for m in members if m in refs] if refs else members


def _patient_id(value: Any) -> str:
    ref = value.get("reference") if isinstance(value, dict) else value
    type_, _, id_ = str(ref or "").partition("/")
    if type_ != "Patient" or not id_:
        raise FhirError.of(400, "invalid", "patient takes references to Patients (Patient/[id])")
    return id_


def _group_members(req: OperationRequest) -> list[str]:
    """The Group's active Patient members (the Group must be readable by the caller)."""
    with req.server.store.session() as s:
        group = req.server.repo.read(s, "Group", str(req.id))
    body = orjson.loads(group.body or b"{}")
    ids = []
    for member in body.get("member") or []:
        ref = str((member.get("entity") or {}).get("reference") or "")
        if not member.get("inactive") and ref.startswith("Patient/"):
            ids.append(ref.removeprefix("Patient/"))
    return list(dict.fromkeys(ids))


def _request_url(req: OperationRequest) -> str:
    path = "/".join(p for p in (req.type, req.id) if p)
    url = f"{req.server.base_url}/{path + '/' if path else ''}${req.name}"
    return f"{url}?{urlencode(req.query)}" if req.query else url


_INPUTS = (
    In(
        "_outputFormat",
        "string",
        "Format of the files: application/fhir+ndjson (the default and only one)",
        "قالب فایل‌ها: application/fhir+ndjson (پیش‌فرض و تنها قالب)",
    ),
    In(
        "_since",
        "instant",
        "Only resources changed since this instant",
        "فقط منابعی که از این لحظه به بعد تغییر کرده‌اند",
    ),
    In(
        "_type",
        "string",
        "Resource types to export, comma-separated (shipped conformance resources only when named)",
        "نوع منابع برای برون‌بری، جدا با ویرگول (منابع هم‌خوانی همراه کارساز فقط اگر نام برده شوند)",
        0,
        "*",
    ),
    In(
        "_typeFilter",
        "string",
        "Type?query: of that type, only resources matching one of its queries",
        "Type?query: از آن نوع فقط منابعی که با یکی از پرس‌وجوهایش جور باشند",
        0,
        "*",
    ),
)
_PATIENT = In(
    "patient",
    "Reference",
    "Only these patients' compartments",
    "فقط پروندهٔ این بیماران",
    0,
    "*",
)
_DESCRIPTION = (
    "Asynchronous: answers 202 with Content-Location, the status URL to poll (202 with X-Progress "
    "and Retry-After while running, then 200 with the manifest of ndjson files; DELETE cancels). "
)
_DESCRIPTION_FA = (
    "ناهمزمان: پاسخ ۲۰۲ با Content-Location، نشانی وضعیت برای پرسش دوره‌ای (در حین کار ۲۰۲ با X-Progress و "
    "Retry-After، سپس ۲۰۰ با فهرست فایل‌های ndjson؛ DELETE لغو می‌کند). "
)

OPERATIONS = (
    Operation(
        name="export",
        base=BULK + "export",
        title=Text("Export all data", "برون‌بری همهٔ داده‌ها"),
        description=Text(
            _DESCRIPTION + "Every resource the backend token may read, as of the transaction time.",
            _DESCRIPTION_FA + "همهٔ منابعی که توکن سامانه‌ای می‌تواند بخواند، تا لحظهٔ تراکنش.",
        ),
        levels=("system",),
        methods=("GET", "POST"),
        asynchronous=True,
        handler=kick_off,
        parameters=_INPUTS,
    ),
    Operation(
        name="export",
        id="Patient-export",
        base=BULK + "patient-export",
        title=Text("Export patients' data", "برون‌بری دادهٔ بیماران"),
        description=Text(
            _DESCRIPTION + "The Patient compartment of every patient the token may see (a patient's "
            "token: their own).",
            _DESCRIPTION_FA + "پروندهٔ همهٔ بیمارانی که توکن می‌تواند ببیند (توکن بیمار: پروندهٔ خودش).",
        ),
        levels=("type",),
        types=("Patient",),
        methods=("GET", "POST"),
        asynchronous=True,
        handler=kick_off,
        parameters=(*_INPUTS, _PATIENT),
    ),
    Operation(
        name="export",
        id="Group-export",
        base=BULK + "group-export",
        title=Text("Export a cohort's data", "برون‌بری دادهٔ یک گروه"),
        description=Text(
            _DESCRIPTION + "The Patient compartments of the Group's active Patient members.",
            _DESCRIPTION_FA + "پروندهٔ بیمارانِ عضو فعال گروه.",
        ),
        levels=("instance",),
        types=("Group",),
        methods=("GET", "POST"),
        asynchronous=True,
        handler=kick_off,
        parameters=(*_INPUTS, _PATIENT),
    ),
)

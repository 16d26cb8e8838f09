"""$import (system level): bulk import in the "ping and pull" form of the SMART bulk-import
proposal, for registries and migrations.

POST a JSON body (`Content-Type: application/json`, `Prefer: respond-async`):

    {"inputFormat": "application/fhir+ndjson", "inputSource": "https://registry.example",
     "storageDetail": {"type": "https"},
     "input": [{"type": "Patient", "url": "https://registry.example/patients.ndjson"}]}

Input URLs must start with one of the configured prefixes (`NOSKHE_IMPORT_ALLOW`), or be
`file://` URLs under the configured import directory (`NOSKHE_IMPORT_DIR`). The answer is
202 with the status URL; the job pulls each input and writes it through the Repository
(`bulk.imports`). Only an administrator or a backend token with write scopes may import.
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from fhir_server.bulk.access import access_to_dict
from fhir_server.bulk.jobs import Job, new_job_id
from fhir_server.operations.contract import Accepted, In, Operation, OperationRequest, Text
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import now_instant

FORMATS = ("application/fhir+ndjson", "application/ndjson", "ndjson")
WRITE_PERMISSIONS = frozenset({"c", "u"})


def kick_off(req: OperationRequest) -> Accepted:
    if not req.wants_async:
        raise FhirError.of(400, "invalid", "$import is asynchronous: send Prefer: respond-async")
    _check_caller(req)
    body = req.body
    if not isinstance(body, dict) or body.get("resourceType") is not None:
        raise FhirError.of(400, "invalid", "$import takes the ping-and-pull JSON body (inputFormat, input)")
    fmt = body.get("inputFormat", FORMATS[0])
    if fmt not in FORMATS:
        raise FhirError.of(400, "not-supported", f"inputFormat {fmt!r}: only application/fhir+ndjson")
    inputs = body.get("input")
    if not isinstance(inputs, list) or not inputs:
        raise FhirError.of(400, "required", "input lists the files to import: [{type, url}]")
    checked = [_input(req, item) for item in inputs]
    job = Job(
        id=new_job_id(),
        kind="import",
        request=f"{req.server.base_url}/$import",
        transaction_time=now_instant(),
        access=access_to_dict(req.caller.access),
        params={"input": checked, "base_url": req.server.base_url, "source": body.get("inputSource")},
    )
    runner = req.server.extras["bulk_runner"]
    runner.jobs.create(job)
    runner.start(job)
    return Accepted(f"{req.server.base_url}/_bulk/{job.id}")


def _check_caller(req: OperationRequest) -> None:
    access = req.caller.access
    if access is None or access.role == "admin":
        return
    if any(s.level == "system" and s.permissions & WRITE_PERMISSIONS for s in access.scopes.resources):
        return
    raise FhirError.of(
        403, "forbidden", "Only an administrator or a backend token with write scopes may import"
    )


def _input(req: OperationRequest, item: Any) -> dict[str, str]:
    if not isinstance(item, dict) or not isinstance(item.get("url"), str):
        raise FhirError.of(400, "invalid", "Each input needs a url (and a type)")
    type_, url = item.get("type"), item["url"]
    if type_ is not None and type_ not in req.server.resource_types:
        raise FhirError.of(400, "invalid", f"input type {type_!r} is not a resource type")
    settings = req.server.settings
    if url.startswith("file://"):
        _check_file(url, settings.import_dir)
    elif not any(url.startswith(prefix) for prefix in settings.import_allow if prefix):
        raise FhirError.of(403, "forbidden", f"{url} is not on the import allow-list")
    elif urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FhirError.of(400, "invalid", f"{url}: only http(s) and file URLs are pulled")
    return {"type": type_, "url": url} if type_ else {"url": url}


def _check_file(url: str, folder: Path | None) -> None:
    if folder is None:
        raise FhirError.of(403, "forbidden", "file:// inputs need an import directory (NOSKHE_IMPORT_DIR)")
    path = Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path)).resolve()
    if not path.is_relative_to(Path(folder).resolve()):
        raise FhirError.of(403, "forbidden", f"{url} is outside the import directory")
    if not path.is_file():
        raise FhirError.of(400, "not-found", f"{url} does not exist")


OPERATIONS = (
    Operation(
        name="import",
        title=Text("Bulk import", "ورود انبوه داده"),
        description=Text(
            "Pulls ndjson files from allow-listed URLs (or the import directory) and writes every "
            "resource with its own id, validated, as the server (a migration: the e-prescription "
            "workflow rules are off; AuditEvents are not imported). Asynchronous like $export: 202 and "
            "a status URL whose manifest lists an outcome and an error file per input. A re-run "
            "changes nothing.",
            "فایل‌های ndjson را از نشانی‌های مجاز (یا پوشهٔ ورود) می‌خواند و هر منبع را با شناسهٔ خودش، "
            "اعتبارسنجی‌شده و از سوی کارساز می‌نویسد (مهاجرت: قواعد گردش‌کار نسخه خاموش است؛ AuditEvent "
            "وارد نمی‌شود). مانند $export ناهمزمان است: ۲۰۲ و نشانی وضعیت که فهرستش برای هر ورودی یک "
            "نتیجه و یک فایل خطا دارد. اجرای دوباره چیزی را تغییر نمی‌دهد.",
        ),
        levels=("system",),
        affects_state=True,
        methods=("POST",),
        asynchronous=True,
        handler=kick_off,
        parameters=(
            In(
                "inputFormat",
                "code",
                "application/fhir+ndjson (a member of the JSON body)",
                "application/fhir+ndjson (عضوی از بدنهٔ JSON)",
            ),
            In("inputSource", "uri", "Where the data comes from", "منبع داده‌ها"),
            In(
                "input",
                None,
                "A file to import (a member of the JSON body)",
                "فایلی برای ورود (عضوی از بدنهٔ JSON)",
                1,
                "*",
                In("type", "code", "The resource type of its lines", "نوع منابع خطوط آن"),
                In("url", "url", "Where to pull it from", "نشانی دریافت آن", 1),
            ),
        ),
    ),
)

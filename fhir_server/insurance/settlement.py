"""Monthly settlement: one PaymentReconciliation per insurer, provider and Jalali month.

A statement lists every claim of the provider the insurer adjudicated during the month
(ClaimResponse.created inside the month, days counted in Tehran) and not settled before,
each with what the insurer pays (benefit); its paymentAmount is their sum, and its note
gives the totals submitted, eligible, benefit and copay. Each ClaimResponse settled gets
its `payment` (a new version), after which it can no longer be adjusted. A month is
settled only after it ended; settling it again answers the statement made the first
time (its identifier `INSURER|Organization/id|YYYY-MM` is unique in the store).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from fhir_server import authorization
from fhir_server.insurance import responses
from fhir_server.insurance.claims import PROVINCE_EXT
from fhir_server.insurance.money import money
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import new_id, now_instant
from fhir_server.repository.paging import iterate
from fhir_server.storage.base import Store, StoreSession
from fhir_server.tehran import Month, instant

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

SETTLEMENT_SID = "http://noskhe.ir/fhir/sid/settlement"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/payment-type"
PAID_IN_FULL = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"


@dataclass(frozen=True)
class Statement:
    resource: dict[str, Any]  # the PaymentReconciliation
    created: bool  # False: the month was settled before (this is that statement)


def adjudicated(
    repo: Repository, s: StoreSession, month: Month, insurer: str, provider: str | None = None
) -> Iterator[dict[str, Any]]:
    """The insurer's ClaimResponses created during the month (of one provider)."""
    query = [
        ("insurer", insurer),
        ("created", f"ge{instant(month.start)}"),
        ("created", f"lt{instant(month.end)}"),
        ("status", "active"),
    ]
    if provider is not None:
        query.append(("requestor", provider))
    with authorization.as_system():
        yield from iterate(repo, s, "ClaimResponse", query)


def require_ended(month: Month, now: datetime | None = None) -> None:
    """422 unless the month is over in Tehran."""
    if not month.ended(now or datetime.now(UTC)):
        raise FhirError.of(
            422,
            "business-rule",
            f"Month {month} has not ended yet in Tehran (it ends at {instant(month.end)}): "
            f"settle it afterwards (ماه {month} هنوز تمام نشده است)",
        )


def providers(repo: Repository, store: Store, month: Month, insurer: str) -> list[str]:
    """Who the insurer has claims of in the month: those to settle, and those settled
    (settling again answers their statements)."""
    with store.session() as s:
        found = {
            str((r.get("requestor") or {}).get("reference")) for r in adjudicated(repo, s, month, insurer)
        }
    return sorted(found)


def settle(
    repo: Repository, s: StoreSession, month: Month, insurer: str, provider: str, now: datetime | None = None
) -> Statement:
    """The statement of `provider`'s claims with `insurer` for `month`, in session `s`;
    the caller's token must allow creating it (its narrowing: its own insurer)."""
    now = now or datetime.now(UTC)
    require_ended(month, now)
    key = f"{insurer}|{provider}|{month}"
    pr_id = new_id()
    holder = s.claim(f"settlement|{key}", pr_id)
    if holder != pr_id:
        return Statement(_read(repo, s, holder), False)
    authorization.current().require("create", "PaymentReconciliation")
    settled = [r for r in adjudicated(repo, s, month, insurer, provider) if "payment" not in r]
    statement = _statement(key, month, insurer, provider, settled, now)
    with authorization.as_system():
        stored = repo.create(s, "PaymentReconciliation", statement, id_=pr_id).resource or statement
    authorization.current().check(s, "create", stored)
    day = now.date().isoformat()
    with authorization.as_system():
        for response in settled:
            paid = {**response, "payment": _payment(response, day)}
            repo.update(s, "ClaimResponse", response["id"], paid, int(response["meta"]["versionId"]))
    return Statement(stored, True)


def _read(repo: Repository, s: StoreSession, pr_id: str) -> dict[str, Any]:
    import orjson

    rv = repo.read(s, "PaymentReconciliation", pr_id)  # 403 unless the caller may see it
    found: dict[str, Any] = orjson.loads(rv.body or b"{}")
    return found


def _payment(response: dict[str, Any], day: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": PAID_IN_FULL, "code": "complete"}]},
        "date": day,
        "amount": money(responses.total(response, "benefit")),
    }


def _statement(
    key: str, month: Month, insurer: str, provider: str, settled: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    totals = {c: sum(responses.total(r, c) for r in settled) for c in responses.CATEGORIES}
    last = month.end - timedelta(seconds=1)
    note = (
        f"{len(settled)} claims; submitted {totals['submitted']:,}, eligible {totals['eligible']:,}, "
        f"insurer pays {totals['benefit']:,}, patients paid {totals['copay']:,} rials"
    )
    note_fa = (
        f"{len(settled)} ادعا؛ ادعا‌شده {totals['submitted']:,}، قابل پرداخت {totals['eligible']:,}، "
        f"سهم بیمه {totals['benefit']:,}، سهم بیماران {totals['copay']:,} ریال"
    )
    statement: dict[str, Any] = {
        "resourceType": "PaymentReconciliation",
        "identifier": [{"system": SETTLEMENT_SID, "value": key}],
        "status": "active",
        "period": {"start": instant(month.start), "end": instant(last)},
        "created": now_instant(),
        "paymentIssuer": {"reference": insurer},
        "requestor": {"reference": provider},
        "outcome": "complete",
        "disposition": f"Monthly settlement {month} / تسویهٔ ماهانهٔ {month}",
        "paymentDate": now.date().isoformat(),
        "paymentAmount": money(totals["benefit"]),
        "processNote": [
            {"type": "display", "text": note},
            {"type": "display", "text": note_fa},
        ],
    }
    if settled:
        statement["detail"] = [_detail(r, provider) for r in settled]
    province = next(
        (e for r in settled for e in r.get("extension") or [] if e.get("url") == PROVINCE_EXT), None
    )
    if province is not None:
        statement["extension"] = [province]
    return statement


def _detail(response: dict[str, Any], provider: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": PAYMENT_TYPE, "code": "payment"}]},
        "request": response["request"],
        "response": {"reference": f"ClaimResponse/{response['id']}"},
        "submitter": {"reference": provider},
        "payee": {"reference": provider},
        "date": str(response.get("created"))[:10],
        "amount": money(responses.total(response, "benefit")),
    }

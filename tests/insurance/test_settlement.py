"""The monthly settlement, on both stores: `PaymentReconciliation/$settle` with an
insurer's token and `fhir-server claims settle --period`: one statement per provider
with every claim the insurer adjudicated in the Jalali month (days in Tehran), what it
pays for each and the totals; once only; after it, no adjustment; only an ended month;
only the insurer's own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
import pytest

from fhir_server import authorization
from fhir_server.cli import main
from fhir_server.tehran import Month, instant
from tests.eprescription.cycle_helpers import dispense, drug, prescriptions, submission
from tests.insurance.conftest import BOTH_STORES, Claims, tariff

pytestmark = BOTH_STORES
LAST_MONTH = Month.of(Month.of(date.today()).first_day - timedelta(days=1))


def claimed(world: Claims, qty: float, pharmacy: str = "pharmacy-1", user: str = "ph-1") -> dict[str, Any]:
    """A dispense of amoxicillin 500 x `qty` claimed by the pharmacy: its ClaimResponse."""
    item = prescriptions(
        world.api.post("MedicationRequest/$prescribe", submission([drug("00077", qty)]), 200)
    )[0]["items"][0]
    given = world.api.post("MedicationDispense", dispense(item, qty, pharmacy))
    found: dict[str, Any] = world.staff(user).call(
        "POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201
    )
    return found


def adjudicated_on(world: Claims, response: dict[str, Any], moment: str) -> None:
    """Set up: the claim was adjudicated at `moment` (a month ago, say), as the server
    would have written it then."""
    ctx = world.app.extensions["noskhe"]
    with ctx.store.session(write=True) as s, authorization.as_system():
        current = ctx.repo.read(s, "ClaimResponse", response["id"])
        body = orjson.loads(current.body or b"{}")
        ctx.repo.update(s, "ClaimResponse", response["id"], {**body, "created": moment}, current.version)


def settle(world: Claims, user: str, period: str, insurer: str = "ins-tamin", status: int = 200) -> Any:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "period", "valueString": period},
            {"name": "insurer", "valueReference": {"reference": f"Organization/{insurer}"}},
        ],
    }
    return world.staff(user).call("POST", "PaymentReconciliation/$settle", body, status=status)


def statements(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = [p["resource"] for p in answer.get("parameter") or [] if p["name"] == "statement"]
    return {pr["requestor"]["reference"]: pr for pr in found}


def test_month_settled_once_per_provider_with_the_totals(claims_world: Claims) -> None:
    world, price = claims_world, tariff("generic|00077")
    a, b = claimed(world, 10), claimed(world, 7)  # pharmacy-1, TAMIN pays 70 %
    other = claimed(world, 3, "pharmacy-2", "ph-2")
    this_month = claimed(world, 5)  # adjudicated now: not in last month's statement
    start, end = LAST_MONTH.start, LAST_MONTH.end
    adjudicated_on(world, a, instant(start))  # the month's very first second, in Tehran
    adjudicated_on(world, b, instant(end - timedelta(seconds=1)))  # and its last
    adjudicated_on(world, other, instant(start + timedelta(days=3)))

    answer = settle(world, "rev-tamin", str(LAST_MONTH))
    found = statements(answer)
    assert set(found) == {"Organization/pharmacy-1", "Organization/pharmacy-2"}
    mine = found["Organization/pharmacy-1"]
    benefit = [(q * price) * 70 // 100 for q in (10, 7)]
    assert mine["paymentAmount"] == {"value": sum(benefit), "currency": "IRR"}
    assert mine["paymentIssuer"] == {"reference": "Organization/ins-tamin"}
    assert sorted(d["amount"]["value"] for d in mine["detail"]) == sorted(benefit)
    assert {d["response"]["reference"] for d in mine["detail"]} == {
        f"ClaimResponse/{a['id']}",
        f"ClaimResponse/{b['id']}",
    }
    assert mine["period"] == {"start": instant(start), "end": instant(end - timedelta(seconds=1))}
    submitted = 17 * price
    assert f"submitted {submitted:,}" in mine["processNote"][0]["text"]
    assert f"patients paid {submitted - sum(benefit):,}" in mine["processNote"][0]["text"]
    assert found["Organization/pharmacy-2"]["paymentAmount"]["value"] == 3 * price * 70 // 100

    # each settled ClaimResponse says it was paid, and can no longer be adjusted
    paid = world.staff("rev-tamin").call("GET", f"ClaimResponse/{a['id']}", status=200)
    assert paid["payment"]["amount"]["value"] == benefit[0]
    accept = {
        "resourceType": "Parameters",
        "parameter": [{"name": "decision", "valueCode": "accepted"}, {"name": "note", "valueString": "ok"}],
    }
    world.staff("rev-tamin").call("POST", f"ClaimResponse/{a['id']}/$adjust", accept, status=409)
    world.staff("rev-tamin").call("POST", f"ClaimResponse/{this_month['id']}/$adjust", accept, status=200)

    # settling again answers the same statements, writes nothing new
    again = statements(settle(world, "rev-tamin", str(LAST_MONTH)))
    assert {k: v["id"] for k, v in again.items()} == {k: v["id"] for k, v in found.items()}
    assert world.api.get("PaymentReconciliation")["total"] == 2

    # the pharmacy reads its own statement, not the other's
    ph1 = world.staff("ph-1")
    assert ph1.ids("PaymentReconciliation") == {mine["id"]}
    ph1.call("GET", f"PaymentReconciliation/{found['Organization/pharmacy-2']['id']}", status=403)


def test_settlement_refusals(claims_world: Claims) -> None:
    world = claims_world
    response = claimed(world, 10)
    adjudicated_on(world, response, instant(LAST_MONTH.start + timedelta(days=1)))
    # the month in progress is not settled
    settle(world, "rev-tamin", str(Month.of(date.today())), status=422)
    # someone else's insurer, a pharmacy, the ministry
    settle(world, "rev-salamat", str(LAST_MONTH), status=403)
    settle(world, "ph-1", str(LAST_MONTH), status=403)
    settle(world, "moh-1", str(LAST_MONTH), status=403)
    for period in ("1405-13", "2026-11", "۱۴۰۵/۰۸", ""):
        settle(world, "rev-tamin", period, status=400)
    bad = {"resourceType": "Parameters", "parameter": [{"name": "period", "valueString": str(LAST_MONTH)}]}
    world.staff("rev-tamin").call("POST", "PaymentReconciliation/$settle", bad, status=400)
    # nothing was written by any of these
    assert world.api.get("PaymentReconciliation")["total"] == 0
    assert "payment" not in world.api.get(f"ClaimResponse/{response['id']}")


def test_the_command_line_settles_every_insurer(
    claims_world: Claims, tmp_path: Any, store_url: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    world, price = claims_world, tariff("generic|00077")
    response = claimed(world, 10)
    adjudicated_on(world, response, instant(LAST_MONTH.start + timedelta(days=2)))
    store = ["--store", store_url] if store_url else []
    args = ["claims", "settle", "--data", str(tmp_path), *store, "--period", str(LAST_MONTH)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    (line,) = out.splitlines()
    assert "Organization/pharmacy-1\t1 claims\t" + str(10 * price * 70 // 100) + " IRR" in line
    assert "1/1" in err and "#" * 30 in err  # the progress bar, full
    assert main(args) == 0
    assert "(settled before)" in capsys.readouterr().out
    assert main([*args[:-1], "1405-14"]) == 2
    assert main([*args, "--insurer", "NOPE"]) == 2

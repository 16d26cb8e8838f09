"""$evaluate-measure over the store, on both stores: the counts of what the test wrote;
kept incrementally (what changed since the last evaluation: new, changed and deleted
resources) and always equal to counting everything anew; aggregates only, and only for
the roles that may see them."""

from __future__ import annotations

from datetime import date
from typing import Any

from fhir_server.dashboard.figures import strata, total
from fhir_server.measures import engine as tallies
from tests.eprescription.cycle_helpers import dispense, drug, prescriptions, service, submission
from tests.insurance.conftest import BOTH_STORES, Claims, paper

pytestmark = BOTH_STORES
TODAY = date.today().isoformat()
PERIOD = f"periodStart={TODAY}&periodEnd={TODAY}"


def prescribe(world: Claims, *items: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = prescriptions(
        world.api.post("MedicationRequest/$prescribe", submission(list(items)), 200)
    )[0]["items"]
    return found


def report(world: Claims, measure: str, extra: str = "") -> dict[str, Any]:
    found: dict[str, Any] = world.staff("moh-1").call(
        "GET", f"Measure/{measure}/$evaluate-measure?{PERIOD}{extra}", status=200
    )
    return found


def test_counts_what_was_written_incrementally(claims_world: Claims) -> None:
    world = claims_world
    first = prescribe(world, drug("00077", 10), drug("90043", 30))  # one prescription, two drug items
    prescribe(world, service("801001"))
    rx = report(world, "eprescriptions", "&interval=day")
    assert rx["resourceType"] == "MeasureReport" and rx["type"] == "summary"
    assert (total(rx, "drug-items"), total(rx, "drug-prescriptions")) == (2, 1)
    assert (total(rx, "service-items"), total(rx, "service-prescriptions")) == (1, 1)
    assert strata(rx, "drug-items", "drug") == {
        "00077": {"initial-population": 1},
        "90043": {"initial-population": 1},
    }
    assert strata(rx, "drug-prescriptions", "source") == {"electronic": {"initial-population": 1}}
    days = strata(rx, "drug-prescriptions", "interval")
    assert sum(c["initial-population"] for c in days.values()) == 1 and len(days) == 1

    # more writes: a paper prescription (a new prescription, item and dispense), a dispense,
    # an item called off; only these are read by the next evaluation
    world.api.post("MedicationDispense/$record-paper", paper(), 200)
    world.api.post("MedicationDispense", dispense(first[0], 5))
    cancelled = prescribe(world, drug("00076", 10))[0]
    world.api.put(f"MedicationRequest/{cancelled['id']}", {**cancelled, "status": "cancelled"}, 200)
    rx = report(world, "eprescriptions")
    assert (total(rx, "drug-items"), total(rx, "drug-prescriptions")) == (3, 2)
    assert strata(rx, "drug-prescriptions", "source") == {
        "electronic": {"initial-population": 1},
        "paper": {"initial-population": 1},
    }
    assert strata(rx, "drug-prescriptions", "province") == {
        "12": {"initial-population": 1}
    }  # the paper's pharmacy
    adoption = report(world, "adoption")
    assert total(adoption, "pharmacies", "numerator") == 1  # pharmacy-1 (the paper one does not count)
    assert total(adoption, "pharmacies", "denominator") == 2
    assert strata(adoption, "pharmacies", "province")["28"] == {"numerator": 1, "denominator": 1}
    assert total(adoption, "prescribers", "numerator") == 1

    # incremental equals counting anew
    incremental = [report(world, m) for m in engine_measures()]
    forget_tallies(world)
    anew = [report(world, m) for m in engine_measures()]
    assert [strip(r) for r in incremental] == [strip(r) for r in anew]


def test_claims_measure(claims_world: Claims) -> None:
    world = claims_world
    item = prescribe(world, drug("00077", 30, repeats=1))[0]  # 60 in all; TAMIN pays 30 per delivery
    given = world.api.post("MedicationDispense", dispense(item, 40))
    world.staff("ph-1").call("POST", f"MedicationDispense/{given['id']}/$claim", {}, status=201)
    claims = report(world, "claims")
    assert total(claims, "claims-submitted") == 1 and total(claims, "claims-adjudicated") == 1
    assert strata(claims, "claims-adjudicated", "result") == {"reduced": {"initial-population": 1}}
    assert strata(claims, "claims-adjudicated", "reason") == {"max-quantity": {"initial-population": 1}}
    assert strata(claims, "claims-adjudicated", "insurer-result") == {
        "TAMIN|reduced": {"initial-population": 1}
    }


def test_aggregates_only_for_the_roles_that_may(claims_world: Claims) -> None:
    prescribe(claims_world, drug("00077", 10))
    claims_world.staff("ph-1").call("GET", f"Measure/eprescriptions/$evaluate-measure?{PERIOD}", status=403)
    assert claims_world.staff("rev-tamin").call(
        "GET", f"Measure/adoption/$evaluate-measure?{PERIOD}", status=200
    )
    moh = claims_world.staff("moh-1")
    moh.call("GET", f"Measure/eprescriptions/$evaluate-measure?{PERIOD}&subject=Patient/pat-1", status=422)
    moh.call("GET", "Measure/eprescriptions/$evaluate-measure?periodStart=x&periodEnd=y", status=400)
    moh.call("GET", f"Measure/eprescriptions/$evaluate-measure?{PERIOD}&interval=year", status=400)
    moh.call("GET", f"Measure/nope/$evaluate-measure?{PERIOD}", status=404)
    moh.call("GET", "MedicationRequest", status=403)  # no patient-level data


def engine_measures() -> tuple[str, ...]:
    return ("eprescriptions", "adoption", "claims")


def forget_tallies(world: Claims) -> None:
    """Drop every kept tally: the next evaluations count everything anew."""
    store = world.app.extensions["noskhe"].store
    with store.session(write=True) as s:
        for key in s.record_keys(tallies.KIND):
            s.delete_record(tallies.KIND, key)


def strip(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k != "date"}

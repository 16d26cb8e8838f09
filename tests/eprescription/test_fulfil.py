"""Paraclinic fulfilment: a DiagnosticReport based on a ServiceRequest performs it, at most
its quantity; one refusal test per rule with the exact status, issue code and location,
and proof that nothing changed (the running count, the request's status, no report)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fhir_server.eprescription import fulfil
from fhir_server.eprescription.store_access import system_update
from tests.eprescription.conftest import BOTH_STORES, Api
from tests.eprescription.cycle_helpers import prescriptions, service, submission
from tests.eprescription.test_refusals import refused

PERFORMED = "http://noskhe.ir/fhir/StructureDefinition/dispensed-quantity"
EXPIRY = "http://noskhe.ir/fhir/StructureDefinition/prescription-expiry"


def one_service(api: Api, qty: float = 1, code: str = "801005") -> dict[str, Any]:
    result = api.post("MedicationRequest/$prescribe", submission([service(code, qty=qty)]), 200)
    return prescriptions(result)[0]["items"][0]  # type: ignore[no-any-return]


def report(sr: dict[str, Any], status: str = "final", patient: str = "pat-1") -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "status": status,
        "basedOn": [{"reference": f"ServiceRequest/{sr['id']}"}],
        "code": sr["code"],
        "subject": {"reference": f"Patient/{patient}"},
    }


def state(api: Api, sr: dict[str, Any]) -> tuple[str, float, int]:
    """(request status, times performed, number of reports based on it)."""
    stored = api.get(f"ServiceRequest/{sr['id']}")
    done = next((e["valueDecimal"] for e in stored.get("extension", []) if e["url"] == PERFORMED), 0)
    reports = api.get(f"DiagnosticReport?based-on=ServiceRequest/{sr['id']}&_summary=count")["total"]
    return stored["status"], done, reports


@BOTH_STORES
def test_performed_up_to_its_quantity_and_never_beyond(api: Api) -> None:
    sr = one_service(api, qty=2)
    api.post("DiagnosticReport", report(sr))
    assert state(api, sr) == ("active", 1, 1)
    api.post("DiagnosticReport", report(sr, status="preliminary"))  # any performed status counts
    assert state(api, sr) == ("completed", 2, 2)
    text = refused(api.post("DiagnosticReport", report(sr), 409), "business-rule")
    assert text == "This service was already performed (once only)"
    assert state(api, sr) == ("completed", 2, 2)


def test_the_answer_tells_how_many_times_it_was_performed(api: Api) -> None:
    sr = one_service(api, qty=2)
    outcome = api.post("DiagnosticReport", report(sr), 201, Prefer="return=OperationOutcome")
    information = [i for i in outcome["issue"] if i["severity"] == "information"]
    assert information == [
        {
            "severity": "information",
            "code": "informational",
            "diagnostics": f"ServiceRequest/{sr['id']}: performed 1 of 2",
        }
    ]


def test_the_count_is_written_against_the_version_read(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer changes the request between the rule's read and its write (a second
    worker, on MongoDB): the report is refused (412) and nothing is kept."""
    app, api = make_app(accept_unsigned=True)
    sr = one_service(api)
    repo, read = app.extensions["noskhe"].repo, fulfil.read_with_version

    def read_then_another_writer(s: Any, type_: str, id_: str) -> tuple[dict[str, Any], int]:
        request, version = read(s, type_, id_)
        system_update(repo, s, {**request, "note": [{"text": "another writer"}]}, version)
        return request, version

    monkeypatch.setattr(fulfil, "read_with_version", read_then_another_writer)
    api.post("DiagnosticReport", report(sr), 412)
    monkeypatch.undo()
    assert state(api, sr) == ("active", 0, 0)
    assert "note" not in api.get(f"ServiceRequest/{sr['id']}")


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "unknown"])
def test_a_report_not_performed_counts_nothing(api: Api, status: str) -> None:
    sr = one_service(api)
    gone = api.post("DiagnosticReport", report(sr, status=status))
    assert state(api, sr) == ("active", 0, 1)
    api.delete(f"DiagnosticReport/{gone['id']}")
    assert state(api, sr) == ("active", 0, 0)  # and taking it away takes nothing back


def test_a_report_for_another_patient(api: Api) -> None:
    sr = one_service(api)
    api.put("Patient/pat-2", {"resourceType": "Patient", "id": "pat-2"}, None)
    outcome = api.post("DiagnosticReport", report(sr, patient="pat-2"), 422)
    text = refused(outcome, "business-rule", "DiagnosticReport.subject")
    assert text == "The report's subject is not the service request's patient"
    assert state(api, sr) == ("active", 0, 0)


def test_a_report_without_a_patient(api: Api) -> None:
    sr = one_service(api)
    nobody = {k: v for k, v in report(sr).items() if k != "subject"}
    outcome = api.post("DiagnosticReport", nobody, 422)
    text = refused(outcome, "business-rule", "DiagnosticReport.subject")
    assert text == "The report's subject is not the service request's patient"
    assert state(api, sr) == ("active", 0, 0)


def test_a_report_keeps_its_service_request_and_patient(api: Api) -> None:
    first, second = one_service(api), one_service(api, code="801026")
    api.put("Patient/pat-2", {"resourceType": "Patient", "id": "pat-2"}, None)
    given = api.post("DiagnosticReport", report(first))
    moved = {**given, "basedOn": [{"reference": f"ServiceRequest/{second['id']}"}]}
    outcome = api.put(f"DiagnosticReport/{given['id']}", moved, 422)
    text = refused(outcome, "business-rule", "DiagnosticReport.basedOn")
    assert text == "A report cannot move to another service request"
    unbased = {k: v for k, v in given.items() if k != "basedOn"}
    refused(
        api.put(f"DiagnosticReport/{given['id']}", unbased, 422), "business-rule", "DiagnosticReport.basedOn"
    )
    other = {**given, "subject": {"reference": "Patient/pat-2"}}
    outcome = api.put(f"DiagnosticReport/{given['id']}", other, 422)
    refused(outcome, "business-rule", "DiagnosticReport.subject")
    assert state(api, first) == ("completed", 1, 1) and state(api, second) == ("active", 0, 0)
    assert api.get(f"DiagnosticReport/{given['id']}")["meta"]["versionId"] == given["meta"]["versionId"]


def test_a_report_may_be_amended_without_counting_twice(api: Api) -> None:
    sr = one_service(api, qty=2)
    given = api.post("DiagnosticReport", report(sr, status="preliminary"))
    api.put(f"DiagnosticReport/{given['id']}", {**given, "status": "final", "conclusion": "normal"})
    assert state(api, sr) == ("active", 1, 1)


def test_withdrawing_a_report_undoes_it_and_reinstating_counts_again(api: Api) -> None:
    sr = one_service(api)
    given = api.post("DiagnosticReport", report(sr))
    assert state(api, sr) == ("completed", 1, 1)
    withdrawn = api.put(f"DiagnosticReport/{given['id']}", {**given, "status": "entered-in-error"})
    assert state(api, sr) == ("active", 0, 1)
    api.post("DiagnosticReport", report(sr))  # the service is performed again, by another report
    assert state(api, sr) == ("completed", 1, 2)
    # the withdrawn report cannot come back on top of it ...
    text = refused(
        api.put(f"DiagnosticReport/{given['id']}", {**withdrawn, "status": "final"}, 409), "business-rule"
    )
    assert text == "This service was already performed (once only)"
    # ... nor be deleted to free a place (it no longer counts)
    api.delete(f"DiagnosticReport/{given['id']}")
    assert state(api, sr) == ("completed", 1, 1)
    refused(api.post("DiagnosticReport", report(sr), 409), "business-rule")


def test_withdrawing_one_of_two_reports_undoes_one(api: Api) -> None:
    sr = one_service(api, qty=2)
    given = [api.post("DiagnosticReport", report(sr)) for _ in range(2)]
    api.put(f"DiagnosticReport/{given[0]['id']}", {**given[0], "status": "entered-in-error"})
    assert state(api, sr) == ("active", 1, 2)


def test_a_report_created_unperformed_counts_when_it_becomes_final(api: Api) -> None:
    sr = one_service(api)
    api.post("DiagnosticReport", report(sr))
    waiting = api.post("DiagnosticReport", report(sr, status="cancelled"))
    text = refused(
        api.put(f"DiagnosticReport/{waiting['id']}", {**waiting, "status": "final"}, 409), "business-rule"
    )
    assert text == "This service was already performed (once only)"
    api.delete(f"DiagnosticReport/{waiting['id']}")  # never counted: takes nothing back
    assert state(api, sr) == ("completed", 1, 1)


def test_deleting_a_report_undoes_its_performance(api: Api) -> None:
    sr = one_service(api, qty=2)
    given = [api.post("DiagnosticReport", report(sr)) for _ in range(2)]
    api.delete(f"DiagnosticReport/{given[0]['id']}")
    assert state(api, sr) == ("active", 1, 1)  # one undone, not both
    api.delete(f"DiagnosticReport/{given[1]['id']}")
    assert state(api, sr) == ("active", 0, 0)
    api.post("DiagnosticReport", report(sr))
    assert state(api, sr) == ("active", 1, 1)


def test_an_expired_service_request(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    sr = one_service(api, qty=2)
    expiry = date.fromisoformat(next(e["valueDate"] for e in sr["extension"] if e["url"] == EXPIRY))

    def on(day: date) -> None:
        class Fixed(date):
            @classmethod
            def today(cls) -> date:
                return day

        monkeypatch.setattr(fulfil, "date", Fixed)

    on(expiry)  # the last day it is valid
    api.post("DiagnosticReport", report(sr))
    on(expiry + timedelta(days=1))
    text = refused(api.post("DiagnosticReport", report(sr), 422), "business-rule")
    assert text == f"The service request expired on {expiry.isoformat()}"
    assert state(api, sr) == ("active", 1, 1)


@pytest.mark.parametrize("status", ["revoked", "on-hold"])
def test_a_service_request_that_is_not_open(api: Api, status: str) -> None:
    sr = one_service(api)
    current = api.get(f"ServiceRequest/{sr['id']}")
    changed = api.put(f"ServiceRequest/{sr['id']}", {**current, "status": status})
    text = refused(api.post("DiagnosticReport", report(sr), 409), "business-rule")
    assert text == f"The service request is {changed['status']}: it cannot be performed"
    assert state(api, sr) == (changed["status"], 0, 0)


def test_a_report_on_a_request_outside_the_national_system_is_free(api: Api) -> None:
    local = api.post(
        "ServiceRequest",
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "code": {"text": "a local order"},
            "subject": {"reference": "Patient/pat-1"},
        },
    )
    for _ in range(2):
        api.post("DiagnosticReport", report(local))
    assert api.get(f"ServiceRequest/{local['id']}")["status"] == "active"

"""The workflow's reads before the write lock: a prescription item's patient, visit,
coverage and the patient's items (the rules' view) are read in a read session before the
write session, and used there only if still current (a version for a resource, the
`patient-items` change stamp for the view); else they are read again under the lock, so
the rules are as strict as if everything had been read there."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.eprescription import context
from fhir_server.storage.sqlite import SQLiteStore
from tests.eprescription.cycle_helpers import prescriptions, service, submission


def _watch_history(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each load of the rules' view: whether this process's writer had a unit open."""
    store = app.extensions["noskhe"].store
    assert isinstance(store, SQLiteStore)
    loads: list[str] = []
    original = context.patient_history

    def watched(*args: Any) -> Any:
        writer = store._writer
        loads.append("locked" if writer is not None and writer.owner is not None else "free")
        return original(*args)

    monkeypatch.setattr(context, "patient_history", watched)
    return loads


def _outcome(result: dict[str, Any]) -> str:
    outcome = next(p["resource"] for p in result["parameter"] if p["name"] == "outcome")
    return " | ".join(i.get("diagnostics", "") for i in outcome["issue"])


def test_the_rules_view_is_read_before_the_lock(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    app, api = make_app(accept_unsigned=True)
    loads = _watch_history(app, monkeypatch)
    api.post("MedicationRequest/$prescribe", submission([service("801005")]), 200)
    assert loads == ["free"]


def test_a_view_gone_stale_is_read_again_under_the_lock(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An item of the same patient written between the read-ahead and the write session:
    the rules see it (duplicate therapy), because the stamp moved and the view was read
    again in the session."""
    app, api = make_app(accept_unsigned=True)
    loads = _watch_history(app, monkeypatch)
    repo, store = app.extensions["noskhe"].repo, app.extensions["noskhe"].store
    again = service("801005")
    again["quantityQuantity"] = {"value": 2}
    with store.session() as reads:
        prepared = repo.prepare_create("ServiceRequest", again, reads=reads)
    assert prepared is not None and loads == ["free"]
    first = api.post("MedicationRequest/$prescribe", submission([service("801005")]), 200)  # in between
    assert prescriptions(first)
    with app.test_request_context(), store.session(write=True) as s:
        result = repo.create(s, "ServiceRequest", again, prepared=prepared)
    assert loads == ["free", "free", "locked"]  # ahead (stale), the one in between, again under the lock
    assert any("already prescribed" in (w.diagnostics or "") for w in result.warnings)


def test_a_view_still_current_is_used_under_the_lock(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing of the patient's items changed in between: the view read ahead is used, and
    the rules decide the same as with a view read under the lock."""
    app, api = make_app(accept_unsigned=True)
    api.post("MedicationRequest/$prescribe", submission([service("801005")]), 200)
    loads = _watch_history(app, monkeypatch)
    repo, store = app.extensions["noskhe"].repo, app.extensions["noskhe"].store
    again = service("801005")
    again["quantityQuantity"] = {"value": 2}
    with store.session() as reads:
        prepared = repo.prepare_create("ServiceRequest", again, reads=reads)
    with app.test_request_context(), store.session(write=True) as s:
        result = repo.create(s, "ServiceRequest", again, prepared=prepared)
    assert loads == ["free"]
    assert any("already prescribed" in (w.diagnostics or "") for w in result.warnings)

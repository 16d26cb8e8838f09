"""`/dashboard/view` with a signed-in user's token (both stores): the figures of what was
written; when more was written since the tallies were last brought up to date than a
view may replay, the view shows them as they stand, says since when, and they are
brought up to date behind it; no token, or a role without aggregates, is refused."""

from __future__ import annotations

import re

import pytest

from fhir_server.dashboard import view
from fhir_server.measures import engine
from tests.eprescription.cycle_helpers import drug, submission
from tests.insurance.conftest import BOTH_STORES, Claims

pytestmark = BOTH_STORES


def page(world: Claims, user: str | None, status: int = 200) -> str:
    headers = {"Authorization": f"Bearer {world.staff(user).token}"} if user else {}
    r = world.app.test_client().get("/dashboard/view?lang=en&interval=month", headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)
    return r.get_data(as_text=True)


def prescriptions(html: str) -> int:
    found = re.search(r'id="kpi-prescriptions">([^<]*)<', html)
    assert found
    return int(found.group(1).replace(",", ""))


def test_figures_kept_when_catching_up_would_keep_the_reader_waiting(
    claims_world: Claims, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = claims_world
    world.api.post("MedicationRequest/$prescribe", submission([drug("00077", 10)]), 200)
    first = page(world, "moh-1")
    assert prescriptions(first) == 1 and 'id="as-of"' not in first
    monkeypatch.setattr(view, "CATCH_UP", 0)  # any write since is too much to replay in a view
    world.api.post("MedicationRequest/$prescribe", submission([drug("90043", 30)]), 200)
    threads: list[object] = []
    start = engine.catch_up_in_background
    monkeypatch.setattr(engine, "catch_up_in_background", lambda *a: threads.append(start(*a)) or threads[-1])
    kept = page(world, "moh-1")
    assert prescriptions(kept) == 1 and 'id="as-of"' in kept and "Figures as of" in kept
    for thread in threads:
        thread.join(30)  # type: ignore[attr-defined]
    caught_up = page(world, "rev-tamin")
    assert prescriptions(caught_up) == 2 and 'id="as-of"' not in caught_up


def test_who_may_see_it(claims_world: Claims) -> None:
    page(claims_world, None, 401)
    assert "403" not in page(claims_world, "moh-1")
    page(claims_world, "ph-1", 403)
    page(claims_world, "lab-1", 403)

"""Three Noskhe machines on one MongoDB behave as one server (issue 15).

Three `fhir-server serve` processes with different data directories and ports share one
MongoDB database; requests are spread across them. A token issued by one works on the
others and one revocation ends it everywhere; sign-in lock-outs and one-time-code attempts
count across machines; 30 dispenses at once against 20 allowed, spread over the three,
give exactly 20; a SearchParameter posted through one works on the others after the
documented step (`fhir-server reindex`, then a reload of each server); a terminology
import through one is in effect on the others at once; an idempotent retry sent to another
machine gets the first answer. One worker per server keeps it lean."""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from fhir_server.cli import main
from smart_auth.dev_tokens import mint
from smart_auth.sms import OUTBOX_FILE
from smart_auth.store import open_auth_store
from tests.conftest import FHIR_JSON, RunningServer
from tests.e2e.smart_tokens import Site
from tests.e2e.test_prescription_cycle_e2e import APP_SCOPES, PASSWORD, REDIRECT, USERS, load, sign_in, staff
from tests.eprescription.cycle_helpers import dispense, drug, people, prescriptions, submission
from tests.html_forms import form_with
from tests.smart_auth.auth_testkit import Browser, auth_params, authorize_url, pkce
from tests.storage.conformance.noskhe_test_servers import with_database

pytestmark = pytest.mark.e2e
NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code"
ORGANIZATION_TYPE = "http://noskhe.ir/fhir/CodeSystem/organization-type"
ENROL_NC, ENROL_MOBILE = "0018243460", "09127654321"


def outbox(data: Path) -> list[dict[str, str]]:
    path = data / OUTBOX_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [json.loads(line) for line in lines]


@dataclass
class Cluster:
    servers: list[RunningServer]
    dirs: list[Path]
    store: str
    loader: Path
    admin: dict[str, str]
    tokens: dict[str, str]

    def token(self, user: str) -> str:
        if user not in self.tokens:
            self.tokens[user] = sign_in(self.servers[0], user)
        return self.tokens[user]

    def headers(self, user: str, **extra: str) -> dict[str, str]:
        return {**FHIR_JSON, "Authorization": f"Bearer {self.token(user)}", **extra}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory, mongo_uri: str) -> Iterator[Cluster]:
    store = with_database(mongo_uri, f"noskhe_three_{uuid.uuid4().hex[:10]}")
    loader = tmp_path_factory.mktemp("loader")
    load(loader, store, [*people(), *staff(), *enrolling_doctor()])
    cli = ["--data", str(loader), "--store", store]
    assert (
        main(
            [
                "clients",
                "add",
                *cli,
                "--client-id",
                "app",
                "--public",
                "--redirect-uri",
                REDIRECT,
                "--scope",
                APP_SCOPES,
            ]
        )
        == 0
    )
    accounts = {
        **USERS,
        "dr.locked": ("prescriber", "Practitioner/dr-1"),
        "root": ("admin", "Practitioner/dr-1"),
    }
    for username, (role, fhir_user) in accounts.items():
        user = ["users", "add", *cli, "--username", username, "--password", PASSWORD]
        assert main([*user, "--role", role, "--fhir-user", fhir_user]) == 0
    auth = open_auth_store(loader, store)
    admin = {**FHIR_JSON, "Authorization": f"Bearer {mint(auth, 'root', 'user/*.cruds')[0]}"}
    auth.close()
    servers: list[RunningServer] = []
    dirs = [tmp_path_factory.mktemp(f"machine-{n}") for n in range(3)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NOSKHE_ACCEPT_UNSIGNED", "1")
        try:
            for data in dirs:
                servers.append(RunningServer(data, "--store", store, workers=1))
            yield Cluster(servers, dirs, store, loader, admin, {})
        finally:
            for srv in servers:
                srv.stop()


def test_a_token_issued_by_one_works_on_all_and_one_revocation_ends_it(cluster: Cluster) -> None:
    token = sign_in(cluster.servers[0], "dr.rezaei")
    bearer = {"Authorization": f"Bearer {token}"}
    for srv in cluster.servers:
        assert requests.get(f"{srv.base}/Patient/pat-1", headers=bearer, timeout=30).status_code == 200
    keys = [
        requests.get(f"http://127.0.0.1:{srv.port}/auth/jwks", timeout=30).json() for srv in cluster.servers
    ]
    assert keys[0] == keys[1] == keys[2] and keys[0]["keys"]  # one key set everywhere
    revoked = requests.post(
        f"http://127.0.0.1:{cluster.servers[1].port}/auth/revoke",
        data={"token": token, "client_id": "app"},
        timeout=30,
    )
    assert revoked.status_code == 200, revoked.text
    for srv in cluster.servers:
        assert requests.get(f"{srv.base}/Patient/pat-1", headers=bearer, timeout=30).status_code == 401


def test_sign_in_failures_count_across_machines(cluster: Cluster) -> None:
    """Five wrong passwords for one (username, address), spread over the three: locked on all."""
    statuses = []
    for n in range(5):
        site = Site(cluster.servers[n % 3])
        browser = Browser(site)  # type: ignore[arg-type]
        _, challenge = pkce()
        params = auth_params(site, challenge, client_id="app", scope="openid fhirUser user/*.rs")  # type: ignore[arg-type]
        page = browser.open(authorize_url(site, params))  # type: ignore[arg-type]
        statuses.append(browser.sign_in(page, "dr.locked", f"wrong-{n}").status_code)
    assert statuses == [401, 401, 401, 401, 429]
    site = Site(cluster.servers[2])
    browser = Browser(site)  # type: ignore[arg-type]
    _, challenge = pkce()
    page = browser.open(authorize_url(site, auth_params(site, challenge, client_id="app")))  # type: ignore[arg-type]
    assert browser.sign_in(page, "dr.locked", PASSWORD).status_code == 429  # even the right one waits


def enrolling_doctor() -> list[dict[str, Any]]:
    """A prescriber who has no account yet: found by national code and mobile at enrolment."""
    doctor = {
        "resourceType": "Practitioner",
        "id": "dr-new",
        "identifier": [{"system": NATIONAL_CODE, "value": ENROL_NC}],
        "name": [{"text": "دکتر نوید نو"}],
        "telecom": [{"system": "phone", "value": ENROL_MOBILE, "use": "mobile"}],
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": "dr-new-at-clinic-1",
        "practitioner": {"reference": "Practitioner/dr-new"},
        "organization": {"reference": "Organization/clinic-1", "display": "درمانگاه امید"},
        "code": [{"coding": [{"system": ORGANIZATION_TYPE, "code": "clinic"}]}],
    }
    return [doctor, role]


def test_one_time_code_attempts_count_across_machines(cluster: Cluster) -> None:
    """The code is sent by machine 0; five wrong codes typed on 1, 2, 0, 1, 2 void it, so
    the right code then fails on every machine."""
    http = requests.Session()  # one browser: cookies for 127.0.0.1 go to every port
    first = cluster.servers[0]
    page = http.get(f"http://127.0.0.1:{first.port}/auth/enrol", timeout=30)
    form = form_with(page.text, "national_code")
    page = http.post(
        form.target(page.url),
        data=form.data(form.buttons[0], national_code=ENROL_NC, mobile=ENROL_MOBILE),
        allow_redirects=False,
        timeout=30,
    )
    assert page.status_code == 200, page.text[:300]
    sent = [m for m in outbox(cluster.dirs[0]) if m["to"] == ENROL_MOBILE]
    found = re.search(r"\d{6}", sent[-1]["text"])
    assert found
    code = found.group(0)
    wrong = "999999" if code != "999999" else "888888"
    form = form_with(page.text, "code")
    path = urlsplit(form.target(page.url)).path

    def typed(n: int, value: str) -> int:
        srv = cluster.servers[n % 3]
        url = f"http://127.0.0.1:{srv.port}{path}"
        data = form.data(form.buttons[0], code=value)
        return http.post(url, data=data, allow_redirects=False, timeout=30).status_code

    assert [typed(n, wrong) for n in range(1, 6)] == [400, 400, 400, 400, 429]
    assert [typed(n, code) for n in range(3)] == [429, 429, 429]


def test_thirty_dispenses_at_once_against_twenty_allowed_give_twenty(cluster: Cluster) -> None:
    answer = requests.post(
        f"{cluster.servers[0].base}/MedicationRequest/$prescribe",
        json=submission([drug("90043", 10, 1)]),  # 10 x (1 + 1 repeat) = 20
        headers=cluster.headers("dr.rezaei"),
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    item = prescriptions(answer.json())[0]["items"][0]
    pharmacist = cluster.headers("shafa")

    def one(i: int) -> int:
        srv = cluster.servers[i % 3]
        body = dispense(item, 1, "pharmacy-1")
        return requests.post(
            f"{srv.base}/MedicationDispense", json=body, headers=pharmacist, timeout=120
        ).status_code

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(one, range(30)))
    assert statuses.count(201) == 20 and statuses.count(409) == 10, statuses
    stored = requests.get(
        f"{cluster.servers[2].base}/MedicationRequest/{item['id']}", headers=pharmacist, timeout=30
    )
    assert stored.json()["status"] == "completed"


def test_an_idempotent_retry_on_another_machine_gets_the_first_answer(cluster: Cluster) -> None:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = submission([drug("00077", 12)])
    first = requests.post(
        f"{cluster.servers[0].base}/MedicationRequest/$prescribe",
        json=body,
        headers=cluster.headers("dr.rezaei", **key),
        timeout=60,
    )
    again = requests.post(
        f"{cluster.servers[2].base}/MedicationRequest/$prescribe",
        json=body,
        headers=cluster.headers("dr.rezaei", **key),
        timeout=60,
    )
    assert first.status_code == again.status_code == 200, again.text
    assert prescriptions(again.json())[0]["id"] == prescriptions(first.json())[0]["id"]


def test_a_terminology_import_through_one_is_in_effect_on_the_others(cluster: Cluster) -> None:
    """$terminology-import on one machine; the others answer from the new version at once."""
    system = f"http://example.org/fhir/CodeSystem/three-{uuid.uuid4().hex[:6]}"

    def code_system(version: str, display: str) -> dict[str, Any]:
        concept = [{"code": "x1", "display": display}]
        return {
            "resourceType": "CodeSystem",
            "url": system,
            "version": version,
            "status": "active",
            "content": "complete",
            "concept": concept,
        }

    def imported(srv: RunningServer, body: dict[str, Any]) -> None:
        url = f"{srv.base}/$terminology-import"
        answer = requests.post(url, json=body, headers=cluster.admin, timeout=60)
        assert answer.status_code == 200, answer.text

    def display(srv: RunningServer) -> Any:
        found = requests.get(
            f"{srv.base}/CodeSystem/$lookup",
            params={"system": system, "code": "x1"},
            headers=cluster.admin,
            timeout=30,
        )
        assert found.status_code == 200, found.text
        return next(p.get("valueString") for p in found.json()["parameter"] if p["name"] == "display")

    first, second, third = cluster.servers
    imported(second, code_system("1", "Three machines"))
    assert [display(srv) for srv in (first, third)] == ["Three machines"] * 2
    imported(first, code_system("2", "Three machines, one server"))
    assert [display(srv) for srv in (second, third)] == ["Three machines, one server"] * 2


def test_a_search_parameter_posted_through_one_works_on_all_after_reindex_and_reload(
    cluster: Cluster,
) -> None:
    parameter = {
        "resourceType": "SearchParameter",
        "url": "http://noskhe.ir/fhir/SearchParameter/patient-three-nickname",
        "name": "nickname",
        "status": "active",
        "code": "nickname",
        "base": ["Patient"],
        "type": "string",
        "expression": "Patient.name.where(use = 'nickname').given",
        "description": "nickname",
    }
    admin = cluster.admin
    assert (
        requests.post(
            f"{cluster.servers[0].base}/SearchParameter", json=parameter, headers=admin, timeout=30
        ).status_code
        == 201
    )
    patient = {
        "resourceType": "Patient",
        "name": [{"use": "nickname", "given": ["Golnar"]}],
        "gender": "female",
    }
    assert (
        requests.post(
            f"{cluster.servers[2].base}/Patient", json=patient, headers=admin, timeout=30
        ).status_code
        == 201
    )
    assert (
        main(["reindex", "--data", str(cluster.loader), "--store", cluster.store, "--type", "Patient"]) == 0
    )
    for srv in cluster.servers:  # the documented step: a graceful reload of each server
        srv.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 60
    for srv in cluster.servers:
        while True:
            try:  # the workers come back one by one
                found = requests.get(
                    f"{srv.base}/Patient", params={"nickname": "Golnar"}, headers=admin, timeout=30
                )
            except requests.ConnectionError:
                assert srv.proc.poll() is None and time.monotonic() < deadline, "not back after SIGHUP"
                time.sleep(0.5)
                continue
            if (found.status_code == 200 and found.json().get("total") == 1) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert found.status_code == 200 and found.json()["total"] == 1, found.text

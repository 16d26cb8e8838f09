"""A prescription's printout and signature check, asked for by someone who knows only
what a stranger can know (the prescription id printed on the paper, an item's id): the
owner's token prints and verifies; another patient's token gets nothing of it, and a
prescription named by its id is "not known" to them, exactly as an id that was never
issued, so guessing ids tells them nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.eprescription.ids import check_character
from tests.authorization.conftest import mint
from tests.eprescription.cycle_helpers import drug, prescriptions, submission


def never_issued(rx: str) -> str:
    body = rx[:6] + ("00000000" if rx[6:14] != "00000000" else "11111111")
    return body + check_character(body)


def test_a_stranger_learns_nothing_of_a_prescription(make_app: Any, tmp_path: Path) -> None:
    _, api = make_app(accept_unsigned=True)
    rx = prescriptions(api.post("MedicationRequest/$prescribe", submission([drug("00077", 20)]), 200))[0]
    item = rx["items"][0]["id"]
    app = create_app(Settings(data_dir=tmp_path))  # the same store, authorization on
    client = app.test_client()

    def ask(who: str, path: str) -> tuple[int, Any]:
        bearer = {"Authorization": f"Bearer {mint(app, 'patient/*.rs', patient=who)}"}
        response = client.get(f"/fhir/{path}", headers=bearer)
        return response.status_code, response.get_json(silent=True) or response.get_data(as_text=True)

    by_id = [
        f"MedicationRequest/$printout?prescription={rx['id']}",
        f"MedicationRequest/$verify?prescription={rx['id']}",
    ]
    by_item = [f"MedicationRequest/{item}/$printout", f"MedicationRequest/{item}/$verify"]
    for path in by_id + by_item:
        status, body = ask("pat-1", path)  # the patient's own
        assert status == 200, (path, body)
    for path in by_id:
        status, body = ask("pat-2", path)
        unknown = ask("pat-2", path.replace(rx["id"], never_issued(rx["id"])))
        assert status == unknown[0] == 404, (path, body)
        assert str(body).replace(rx["id"], "ID") == str(unknown[1]).replace(never_issued(rx["id"]), "ID")
    for path in by_item:  # an item's id is refused as GET MedicationRequest/[id] is
        status, body = ask("pat-2", path)
        assert status == 403 and body["resourceType"] == "OperationOutcome", (path, body)
        assert "0018243460" not in str(body) and rx["trackingCode"] not in str(body)

"""The validator's lazily built model is safe when many threads validate at once."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import threading
from fhir_server.validation import validate_resource

patient = {"resourceType": "Patient", "name": [{"family": "x", "given": ["y"]}], "gender": "male",
           "contact": [{"name": {"family": "z"}}], "communication": [{"language": {"text": "fa"}}]}
errors = []
barrier = threading.Barrier(16)

def work():
    barrier.wait()
    issues = validate_resource(patient, expected_type="Patient")
    if any(i.severity == "error" for i in issues):
        errors.append(issues)

threads = [threading.Thread(target=work) for _ in range(16)]
[t.start() for t in threads]
[t.join() for t in threads]
print(len(errors))
"""


def test_first_validations_from_many_threads_agree() -> None:
    # A fresh process, so the model is built by the racing threads themselves.
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "0"

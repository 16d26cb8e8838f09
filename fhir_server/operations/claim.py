"""MedicationDispense/[id]/$claim and DiagnosticReport/[id]/$claim: the server builds the
Claim for a delivery from what it recorded, adjudicates it, and answers the ClaimResponse.

The pharmacy or paraclinic that delivered calls it (its token's narrowing:
`Claim.crs?provider=<its organization>`). A delivery is claimed once: calling again
answers the same ClaimResponse (200), the first call 201.
"""

from __future__ import annotations

from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.policy import load_policy
from fhir_server.insurance import claims, deliveries
from fhir_server.operations.contract import Operation, OperationRequest, OperationResult, Out, Text


def claim(req: OperationRequest) -> OperationResult:
    repo, policy = req.server.repo, load_policy(EPrescriptionConfig().policy_dir)
    assert req.type is not None and req.id is not None
    with req.server.store.session(write=True) as s:
        record = claims.stored(repo, s, req.id, req.type)  # 403/404 as the caller's read
        found = deliveries.of_record(repo, s, record)
        payer = claims.payer_of(repo, s, found[0].item)
        built = claims.build(found, payer, claims.province_of(s, found[0].provider), policy)
        recorded = claims.record(repo, s, built, found, payer, policy)
    response = recorded.response
    location = (
        f"{req.server.base_url}/ClaimResponse/{response['id']}/_history/{response['meta']['versionId']}"
    )
    return OperationResult(response, 201 if recorded.created else 200, {"Location": location})


OPERATIONS = (
    Operation(
        name="claim",
        title=Text("Claim a delivery", "ادعای هزینهٔ یک تحویل"),
        description=Text(
            "The server builds the Claim for what it recorded as delivered (a dispense net of its returns, "
            "or the services a report performed), priced from the tariff in force on the service date, "
            "adjudicates it by the insurer's rules and answers the ClaimResponse. A delivery is "
            "claimed once: "
            "calling again answers the same ClaimResponse.",
            "سرور برای آنچه تحویل آن ثبت شده است (تحویل دارو پس از کسر مرجوعی، یا خدمات انجام‌شده در "
            "یک گزارش) "
            "ادعای هزینه را با تعرفهٔ معتبر در تاریخ خدمت می‌سازد، آن را با قواعد بیمه‌گر رسیدگی می‌کند و "
            "ClaimResponse را برمی‌گرداند. هر تحویل یک بار ادعا می‌شود: فراخوانی دوباره همان پاسخ را می‌دهد.",
        ),
        levels=("instance",),
        types=("MedicationDispense", "DiagnosticReport"),
        affects_state=True,
        methods=("POST",),
        handler=claim,
        parameters=(
            Out("return", "ClaimResponse", "The adjudication of the claim", "نتیجهٔ رسیدگی به ادعا", 1),
        ),
    ),
)

"""Claim/$submit: a provider-built Claim, checked against the recorded deliveries it
names (supportingInfo, category delivery), adjudicated at once; answers the
ClaimResponse (201). A delivery already claimed is refused (409)."""

from __future__ import annotations

from fhir_server.eprescription.config import EPrescriptionConfig
from fhir_server.eprescription.policy import load_policy
from fhir_server.insurance import claims
from fhir_server.operations.contract import In, Operation, OperationRequest, OperationResult, Out, Text


def submit(req: OperationRequest) -> OperationResult:
    submitted = req.resource()
    repo, policy = req.server.repo, load_policy(EPrescriptionConfig().policy_dir)
    with req.server.store.session(write=True) as s:
        claim, found, payer = claims.checked(repo, s, submitted)
        recorded = claims.record(repo, s, claim, found, payer, policy, again="refuse")
    response = recorded.response
    location = (
        f"{req.server.base_url}/ClaimResponse/{response['id']}/_history/{response['meta']['versionId']}"
    )
    return OperationResult(response, 201, {"Location": location})


OPERATIONS = (
    Operation(
        name="submit",
        title=Text("Submit a claim", "ارسال ادعای هزینه"),
        description=Text(
            "A pharmacy or paraclinic submits a Claim it built for its own deliveries, each named in "
            "supportingInfo (category delivery): the server checks it against what it recorded (the "
            "provider, "
            "the patient, the quantities net of returns), completes it (insurer, coverage, province), "
            "adjudicates it and answers the ClaimResponse. A delivery claimed before is refused.",
            "داروخانه یا پاراکلینیک ادعایی را که برای تحویل‌های خود ساخته است می‌فرستد و هر تحویل را در "
            "supportingInfo (دستهٔ delivery) نام می‌برد: سرور آن را با آنچه ثبت کرده است (ارائه‌دهنده، بیمار، "
            "مقدار پس از کسر مرجوعی) می‌سنجد، کامل می‌کند (بیمه‌گر، پوشش، استان)، رسیدگی می‌کند و "
            "ClaimResponse را برمی‌گرداند. تحویلی که پیش‌تر ادعا شده است پذیرفته نمی‌شود.",
        ),
        levels=("type",),
        types=("Claim",),
        affects_state=True,
        methods=("POST",),
        handler=submit,
        base="http://hl7.org/fhir/OperationDefinition/Claim-submit",
        parameters=(
            In("resource", "Claim", "The Claim (use claim)", "ادعای هزینه (use برابر claim)", 1),
            Out("return", "ClaimResponse", "The adjudication of the claim", "نتیجهٔ رسیدگی به ادعا", 1),
        ),
    ),
)

"""Synthetic Iranian e-prescription data for the search benchmark (not a test).

`Generator(size, seed)` yields transaction Bundles (dicts) whose entries POST a realistic
mix of resources with `urn:uuid:` fullUrls and references between them:

- Practitioners (about 0.5%): a medical council number (`http://noskhe.ir/fhir/sid/irimc`)
  and a national code; loaded first, in their own bundles.
- Patients (about 10%): a valid national code (10 digits, mod-11 check digit, never one
  digit repeated), a Persian given and family name (about 15% spelt with Arabic ي/ك),
  gender, birth date, phone.
- MedicationRequests (about 60%): a generic drug code (`http://noskhe.ir/fhir/CodeSystem/generic`,
  distinct per patient: the server refuses a duplicate of an open item), a status mix
  (the e-prescription workflow, when on, overrides it), authoredOn spread over the year
  before now at +03:30 (30% in the last 25 days), a groupIdentifier per prescription, the
  patient (`urn:uuid:` of the same bundle) and the prescribing practitioner.
- MedicationDispenses: for active/completed items of the last 25 days only (drug
  prescriptions expire after 30 days and are not dispensed after that),
  `authorizingPrescription` pointing at the MedicationRequest (`urn:uuid:`), subject,
  whenHandedOver.
- ServiceRequests (about 10%): lab orders (service category 02) with LOINC codes.

Everything is derived from a seeded `random.Random`, so two runs with one seed produce the
same data. `python bench/data_gen.py --size 50` prints one patient bundle as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

NATIONAL_CODE = "http://noskhe.ir/fhir/sid/national-code"
IRIMC = "http://noskhe.ir/fhir/sid/irimc"
GENERIC = "http://noskhe.ir/fhir/CodeSystem/generic"
PRESCRIPTION = "http://noskhe.ir/fhir/sid/prescription"
PRESCRIPTION_ITEM = "http://noskhe.ir/fhir/sid/prescription-item"
TZ = dt.timezone(dt.timedelta(hours=3, minutes=30))
NOW = dt.datetime.now(TZ).replace(microsecond=0)
YEAR_START = NOW - dt.timedelta(days=365)  # authoredOn spreads over the year before now
# Drug prescriptions expire after 30 days and the server refuses to dispense an expired
# one: only items of the last DISPENSE_DAYS get dispenses, and RECENT of the
# prescriptions fall in that window (recent activity).
DISPENSE_DAYS = 25
RECENT = 0.3

GIVEN_MALE = [
    "علی",
    "محمد",
    "حسین",
    "رضا",
    "مهدی",
    "امیر",
    "حسن",
    "مصطفی",
    "سعید",
    "مجید",
    "کامران",
    "کیوان",
    "یوسف",
    "یاسر",
    "محسن",
    "جواد",
    "بهرام",
    "کوروش",
    "فرهاد",
    "داریوش",
]
GIVEN_FEMALE = [
    "زهرا",
    "فاطمه",
    "مریم",
    "سارا",
    "نرگس",
    "مینا",
    "لیلا",
    "کبری",
    "یاسمن",
    "شیرین",
    "پریسا",
    "نازنین",
    "الهام",
    "سمیرا",
    "کیمیا",
    "نیلوفر",
    "هانیه",
    "ریحانه",
    "مهسا",
    "آزاده",
]
FAMILY = [
    "محمدی",
    "حسینی",
    "احمدی",
    "رضایی",
    "موسوی",
    "کریمی",
    "جعفری",
    "صادقی",
    "کاظمی",
    "رحیمی",
    "هاشمی",
    "قاسمی",
    "یزدانی",
    "کرمانی",
    "شیرازی",
    "تهرانی",
    "اکبری",
    "نوری",
    "کیانی",
    "یعقوبی",
    "زارعی",
    "عباسی",
    "ملکی",
    "بابایی",
    "سلیمانی",
    "نجفی",
    "کامرانی",
    "فرهادی",
    "مرادی",
    "یوسفی",
]
# Generic codes (5 digits) with display names: the drug mix of outpatient prescriptions.
DRUGS = [
    ("00076", "Amoxicillin 250 mg capsule"),
    ("00077", "Amoxicillin 500 mg capsule"),
    ("00078", "Amoxicillin 250 mg/5 mL suspension"),
    ("01243", "Metformin 500 mg tablet"),
    ("01244", "Metformin 1000 mg tablet"),
    ("00512", "Atorvastatin 20 mg tablet"),
    ("00513", "Atorvastatin 40 mg tablet"),
    ("02101", "Losartan 25 mg tablet"),
    ("02102", "Losartan 50 mg tablet"),
    ("00331", "Omeprazole 20 mg capsule"),
    ("00901", "Ibuprofen 400 mg tablet"),
    ("00902", "Acetaminophen 500 mg tablet"),
    ("01510", "Azithromycin 250 mg capsule"),
    ("01720", "Salbutamol 100 mcg inhaler"),
    ("02230", "Levothyroxine 100 mcg tablet"),
    ("02611", "Cefixime 400 mg capsule"),
    ("00210", "Aspirin 80 mg tablet"),
    ("03012", "Sertraline 50 mg tablet"),
    ("03120", "Amlodipine 5 mg tablet"),
    ("03341", "Pantoprazole 40 mg tablet"),
]
LABS = [
    ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
    ("4548-4", "Hemoglobin A1c"),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma"),
    ("718-7", "Hemoglobin [Mass/volume] in Blood"),
    ("30246-3", "Thyroxine (T4) free"),
    ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    ("58410-2", "CBC panel"),
]
MR_STATUS = (
    ["active"] * 40
    + ["completed"] * 35
    + ["cancelled"] * 10
    + ["stopped"] * 5
    + ["on-hold"] * 5
    + ["draft"] * 5
)
SR_STATUS = ["active"] * 50 + ["completed"] * 40 + ["revoked"] * 5 + ["draft"] * 5
ARABIC = str.maketrans({"ی": "ي", "ک": "ك"})


def national_code(body: int) -> str:
    """The valid 10-digit national code with the 9-digit `body` (check digit appended)."""
    digits = f"{body:09d}"
    s = sum(int(d) * (10 - i) for i, d in enumerate(digits)) % 11
    return digits + str(s if s < 2 else 11 - s)


def is_valid_national_code(code: str) -> bool:
    if len(code) != 10 or not code.isdigit() or len(set(code)) == 1:
        return False
    s = sum(int(code[i]) * (10 - i) for i in range(9)) % 11
    return int(code[9]) == (s if s < 2 else 11 - s)


def _variant(name: str, rng: random.Random) -> str:
    """About 15% of names are typed with Arabic ي/ك (older keyboards, other systems)."""
    return name.translate(ARABIC) if rng.random() < 0.15 else name


def _instant(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


@dataclass
class PatientSample:
    """What the benchmark needs to know about one loaded patient."""

    urn: str
    national_code: str
    family: str
    first_authored: str  # ISO date of one of its MedicationRequests
    server_id: str | None = None


@dataclass
class Generator:
    size: int  # total resources, practitioners included
    seed: int = 20261122
    per_bundle: int = 250  # entries per transaction bundle (approximately: whole patients)
    rng: random.Random = field(init=False)
    practitioners: list[str] = field(default_factory=list)  # server references, once loaded
    samples: list[PatientSample] = field(default_factory=list)
    _body_step: int = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        # National-code bodies from a permutation of 0..10^9-1: unique without a set.
        self._body_step = 387_420_489  # 3^18, coprime to 10^9

    @property
    def n_practitioners(self) -> int:
        return max(5, self.size // 200)

    def national_code_for(self, n: int) -> str:
        body = (n * self._body_step + 123_456_789) % 1_000_000_000
        code = national_code(body)
        if len(set(code)) == 1:  # 1111111111 and the like are refused
            return self.national_code_for(n + 7_000_001)
        return code

    # -- practitioners ----------------------------------------------------------------

    def practitioner_bundles(self) -> Iterator[dict[str, Any]]:
        rng = random.Random(self.seed + 1)
        entries = []
        for i in range(self.n_practitioners):
            female = rng.random() < 0.45
            given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
            family = rng.choice(FAMILY)
            resource = {
                "resourceType": "Practitioner",
                "active": True,
                "identifier": [
                    {"system": IRIMC, "value": str(10000 + i * 7 % 190000)},
                    {"system": NATIONAL_CODE, "value": self.national_code_for(900_000_000 + i)},
                ],
                "name": [
                    {"text": f"دکتر {given} {family}", "family": family, "given": [given], "prefix": ["دکتر"]}
                ],
                "gender": "female" if female else "male",
            }
            entries.append(_post(resource))
            if len(entries) >= self.per_bundle:
                yield _bundle(entries)
                entries = []
        if entries:
            yield _bundle(entries)

    # -- patients and their orders ----------------------------------------------------

    def patient_bundles(self) -> Iterator[tuple[dict[str, Any], list[PatientSample]]]:
        """(bundle, samples of the patients in it) until `size` resources are produced."""
        assert self.practitioners, "load the practitioners first (their server references)"
        remaining = self.size - self.n_practitioners
        n = 0
        entries: list[dict[str, Any]] = []
        samples: list[PatientSample] = []
        while remaining > 0:
            unit, sample = self._patient_unit(n)
            n += 1
            unit = unit[:remaining]
            remaining -= len(unit)
            entries.extend(unit)
            samples.append(sample)
            if len(entries) >= self.per_bundle or remaining <= 0:
                yield _bundle(entries), samples
                entries, samples = [], []

    def _patient_unit(self, n: int) -> tuple[list[dict[str, Any]], PatientSample]:
        rng = self.rng
        female = rng.random() < 0.52
        given = _variant(rng.choice(GIVEN_FEMALE if female else GIVEN_MALE), rng)
        family = _variant(rng.choice(FAMILY), rng)
        code = self.national_code_for(n)
        p_urn = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        birth = dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(0, 90 * 365))
        patient = {
            "resourceType": "Patient",
            "active": True,
            "identifier": [{"system": NATIONAL_CODE, "value": code}],
            "name": [{"text": f"{given} {family}", "family": family, "given": [given]}],
            "telecom": [{"system": "phone", "value": f"09{rng.randrange(10**8, 10**9)}", "use": "mobile"}],
            "gender": "female" if female else "male",
            "birthDate": birth.isoformat(),
            "address": [
                {"city": rng.choice(["تهران", "مشهد", "اصفهان", "شیراز", "تبریز", "کرمان"]), "country": "IR"}
            ],
        }
        unit = [_post(patient, p_urn)]
        ref = {"reference": p_urn, "display": f"{given} {family}"}
        first_authored = ""
        # Distinct drugs and lab tests per patient: the server refuses a duplicate of an open item.
        drugs = rng.sample(DRUGS, len(DRUGS))
        labs = rng.sample(LABS, len(LABS))
        # ~2 prescriptions of ~2.75 items each: ~5.5 MedicationRequests per patient.
        for _ in range(rng.choice([1, 2, 2, 3])):
            if rng.random() < RECENT:
                authored = NOW - dt.timedelta(seconds=rng.randrange(3600, DISPENSE_DAYS * 86400))
            else:
                authored = YEAR_START + dt.timedelta(seconds=rng.randrange(0, 365 * 86400 - 3600))
            dispensable = authored > NOW - dt.timedelta(days=DISPENSE_DAYS)
            first_authored = first_authored or authored.date().isoformat()
            prescriber = rng.choice(self.practitioners)
            group = f"{rng.randrange(10**11, 10**12)}"
            for item in range(rng.choice([1, 2, 3, 3, 4, 4])):
                mr_urn = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                status = rng.choice(MR_STATUS)
                code_, display = drugs.pop()
                unit.append(
                    _post(
                        self._medication_request(
                            ref, prescriber, authored, group, item, status, code_, display
                        ),
                        mr_urn,
                    )
                )
                if dispensable and status in ("completed", "active") and rng.random() < 0.6:
                    handed = min(NOW, authored + dt.timedelta(hours=rng.randrange(1, 72)))
                    unit.append(_post(_dispense(ref, mr_urn, handed, code_, display, status)))
            if rng.random() < 0.45:
                lab, name = labs.pop()
                unit.append(_post(_service_request(ref, prescriber, authored, group, lab, name, rng)))
        return unit, PatientSample(p_urn, code, family, first_authored)

    @staticmethod
    def _medication_request(
        subject: dict[str, str],
        prescriber: str,
        authored: dt.datetime,
        group: str,
        item: int,
        status: str,
        code: str,
        display: str,
    ) -> dict[str, Any]:
        return {
            "resourceType": "MedicationRequest",
            "identifier": [{"system": PRESCRIPTION_ITEM, "value": f"{group}-{item + 1}"}],
            "status": status,
            "intent": "order",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                            "code": "outpatient",
                        }
                    ],
                    "text": "سرپایی",
                }
            ],
            "medicationCodeableConcept": {"coding": [{"system": GENERIC, "code": code, "display": display}]},
            "subject": subject,
            "authoredOn": _instant(authored),
            "requester": {"reference": prescriber},
            "groupIdentifier": {"system": PRESCRIPTION, "value": group},
            "dosageInstruction": [
                {
                    "sequence": 1,
                    "text": "هر ۸ ساعت یک عدد",
                    "timing": {"repeat": {"frequency": 1, "period": 8, "periodUnit": "h"}},
                    "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "عدد"}}],
                }
            ],
            "dispenseRequest": {"numberOfRepeatsAllowed": 0, "quantity": {"value": 21, "unit": "عدد"}},
        }


def _dispense(
    subject: dict[str, str], mr_urn: str, handed: dt.datetime, code: str, display: str, status: str
) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        # The server records a dispense when it happened: always completed (a partial one
        # is a completed dispense of part of the quantity).
        "status": "completed",
        "medicationCodeableConcept": {"coding": [{"system": GENERIC, "code": code, "display": display}]},
        "subject": subject,
        "authorizingPrescription": [{"reference": mr_urn}],
        "quantity": {"value": 21, "unit": "عدد"},
        "whenHandedOver": _instant(handed),
    }


def _service_request(
    subject: dict[str, str],
    prescriber: str,
    authored: dt.datetime,
    group: str,
    code: str,
    name: str,
    rng: random.Random,
) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "status": rng.choice(SR_STATUS),
        "intent": "order",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://noskhe.ir/fhir/CodeSystem/service-category",
                        "code": "02",
                        "display": "آزمایشگاه",
                    },
                    {
                        "system": "http://snomed.info/sct",
                        "code": "108252007",
                        "display": "Laboratory procedure",
                    },
                ]
            }
        ],
        "code": {"coding": [{"system": "http://loinc.org", "code": code, "display": name}]},
        "subject": subject,
        "authoredOn": _instant(authored),
        "requester": {"reference": prescriber},
        "requisition": {"system": PRESCRIPTION, "value": group},
    }


def _post(resource: dict[str, Any], urn: str | None = None) -> dict[str, Any]:
    return {
        "fullUrl": urn or f"urn:uuid:{uuid.uuid4()}",
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"]},
    }


def _bundle(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=50)
    args = ap.parse_args()
    gen = Generator(args.size, per_bundle=10)
    gen.practitioners = ["Practitioner/example"]
    bundle, _ = next(gen.patient_bundles())
    sys.stdout.write(orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    main()

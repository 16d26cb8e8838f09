"""Profile-validation messages in English and Persian, and Accept-Language -> language."""

from __future__ import annotations

LANGUAGES = ("en", "fa")

MESSAGES: dict[str, tuple[str, str]] = {
    "min": (
        "{path}: at least {min} required by {profile}, found {count}",
        "{path}: پروفایل {profile} دست‌کم {min} مورد لازم دارد، {count} مورد یافت شد",
    ),
    "max": (
        "{path}: at most {max} allowed by {profile}, found {count}",
        "{path}: پروفایل {profile} حداکثر {max} مورد مجاز می‌داند، {count} مورد یافت شد",
    ),
    "fixed": ("{path}: the value must be {expected}", "{path}: مقدار باید {expected} باشد"),
    "pattern": ("{path}: the value must match {expected}", "{path}: مقدار باید با {expected} مطابق باشد"),
    "type": (
        "{path}: type {type} is not allowed here; allowed: {allowed}",
        "{path}: نوع {type} در اینجا مجاز نیست؛ مجاز: {allowed}",
    ),
    "binding-required": (
        "{path}: {code} is not in the value set {valueset}",
        "{path}: کد {code} در مجموعه مقادیر {valueset} نیست",
    ),
    "binding-extensible": (
        "{path}: {code} is not in the value set {valueset} (extensible)",
        "{path}: کد {code} در مجموعه مقادیر {valueset} نیست (توسعه‌پذیر)",
    ),
    "slice-closed": (
        "{path}: the item matches no slice of {profile}",
        "{path}: این مورد با هیچ برشی از {profile} مطابق نیست",
    ),
    "invariant": ("{key}: {human}", "{key}: {human}"),
    "invariant-failed": (
        "{key}: the rule could not be evaluated: {error}",
        "{key}: قاعده قابل ارزیابی نبود: {error}",
    ),
    "unknown-profile": (
        "The profile {url} is not known here; the resource was not checked against it",
        "پروفایل {url} در این سرور شناخته نیست و منبع با آن بررسی نشد",
    ),
    "wrong-type": (
        "The profile {url} is for {expected}, not {type}",
        "پروفایل {url} برای {expected} است، نه {type}",
    ),
}


def message(msg: str, lang: str, /, **values: object) -> str:
    en, fa = MESSAGES[msg]
    return (fa if lang == "fa" else en).format(**values)


def language_from_header(header: str | None) -> str:
    """ "fa" when Accept-Language prefers Persian over English, else "en"."""
    best, best_q = "en", -1.0
    for part in (header or "").split(","):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        if lang not in LANGUAGES and lang != "*":
            continue
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang != "*" and q > best_q:
            best, best_q = lang, q
    return best

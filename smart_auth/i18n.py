"""Page text in Persian (default, right-to-left) and English."""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("fa", "en")
DIRECTION = {"fa": "rtl", "en": "ltr"}

TEXT: dict[str, dict[str, str]] = {
    "title": {"fa": "نسخه — ورود", "en": "Noskhe — sign in"},
    "brand": {"fa": "نسخه", "en": "Noskhe"},
    "other_lang": {"fa": "English", "en": "فارسی"},
    "app_asks": {"fa": "برنامهٔ «{app}» این دسترسی‌ها را می‌خواهد:", "en": "The app “{app}” asks for:"},
    "username": {"fa": "نام کاربری", "en": "Username"},
    "password": {"fa": "گذرواژه", "en": "Password"},
    "password2": {"fa": "تکرار گذرواژه", "en": "Repeat password"},
    "signin_allow": {"fa": "ورود و اجازه", "en": "Sign in and allow"},
    "allow": {"fa": "اجازه می‌دهم", "en": "Allow"},
    "deny": {"fa": "اجازه نمی‌دهم", "en": "Deny"},
    "signed_in_as": {"fa": "وارد شده با حساب {user}", "en": "Signed in as {user}"},
    "signout": {"fa": "خروج", "en": "Sign out"},
    "bad_credentials": {"fa": "نام کاربری یا گذرواژه نادرست است.", "en": "Wrong username or password."},
    "too_many": {
        "fa": "تلاش‌های بسیار. کمی بعد دوباره امتحان کنید.",
        "en": "Too many attempts. Please try again later.",
    },
    "enrol_link": {"fa": "ثبت‌نام ارائه‌دهندگان (بار اول)", "en": "Provider enrolment (first time)"},
    "pick_patient": {"fa": "انتخاب بیمار", "en": "Choose a patient"},
    "search": {"fa": "جست‌وجو (نام یا کد ملی)", "en": "Search (name or national code)"},
    "search_button": {"fa": "جست‌وجو", "en": "Search"},
    "choose": {"fa": "انتخاب", "en": "Choose"},
    "no_results": {"fa": "بیماری پیدا نشد.", "en": "No patient found."},
    "error_title": {"fa": "درخواست نامعتبر", "en": "Invalid request"},
    "expired": {
        "fa": "این درخواست منقضی شده است؛ از برنامه دوباره شروع کنید.",
        "en": "This request has expired; start again from the app.",
    },
    "enrol_title": {"fa": "ثبت‌نام ارائه‌دهنده", "en": "Provider enrolment"},
    "national_code": {"fa": "کد ملی", "en": "National code"},
    "mobile": {"fa": "شمارهٔ همراه", "en": "Mobile number"},
    "send_code": {"fa": "دریافت کد یک‌بارمصرف", "en": "Send a one-time code"},
    "bad_national_code": {"fa": "کد ملی معتبر نیست.", "en": "The national code is not valid."},
    "bad_mobile": {"fa": "شمارهٔ همراه معتبر نیست.", "en": "The mobile number is not valid."},
    "code_sent": {
        "fa": "اگر این کد ملی و شمارهٔ همراه در سامانه ثبت باشد، کدی پیامک شد.",
        "en": "If this national code and mobile are registered, a code was sent by SMS.",
    },
    "code": {"fa": "کد یک‌بارمصرف", "en": "One-time code"},
    "check_code": {"fa": "بررسی کد", "en": "Check code"},
    "wrong_code": {"fa": "کد نادرست یا منقضی است.", "en": "Wrong or expired code."},
    "locked": {
        "fa": "به دلیل تلاش‌های نادرست، تا چند دقیقه امکان ادامه نیست.",
        "en": "Too many wrong codes; locked for a while.",
    },
    "choose_account": {"fa": "حساب کاربری (نقش یا محل کار)", "en": "Account (role or workplace)"},
    "create_account": {"fa": "ساخت حساب", "en": "Create account"},
    "password_too_short": {
        "fa": "گذرواژه باید دست‌کم ۱۰ نویسه باشد.",
        "en": "The password must be at least 10 characters.",
    },
    "password_too_common": {"fa": "این گذرواژه بسیار رایج است.", "en": "This password is too common."},
    "password_personal": {
        "fa": "گذرواژه نباید نام کاربری یا کد ملی را در بر داشته باشد.",
        "en": "The password must not contain your username or national code.",
    },
    "password_mismatch": {"fa": "دو گذرواژه یکسان نیستند.", "en": "The passwords differ."},
    "username_taken": {"fa": "این نام کاربری گرفته شده است.", "en": "This username is taken."},
    "bad_username": {
        "fa": "نام کاربری: ۳ تا ۳۲ حرف لاتین، رقم، نقطه، خط تیره.",
        "en": "Username: 3–32 Latin letters, digits, dot, dash, underscore.",
    },
    "enrolled": {
        "fa": "حساب شما ساخته شد. اکنون می‌توانید از برنامه‌ها وارد شوید.",
        "en": "Your account is ready. You can now sign in from your apps.",
    },
    "sms_text": {
        "fa": "نسخه: کد یک‌بارمصرف شما {code} است. این کد را به کسی ندهید.",
        "en": "Noskhe: your one-time code is {code}. Do not share it.",
    },
    "perm_c": {"fa": "ایجاد", "en": "create"},
    "perm_r": {"fa": "خواندن", "en": "read"},
    "perm_u": {"fa": "ویرایش", "en": "update"},
    "perm_d": {"fa": "حذف", "en": "delete"},
    "perm_s": {"fa": "جست‌وجو", "en": "search"},
    "level_patient": {"fa": "پروندهٔ یک بیمار", "en": "one patient's record"},
    "level_user": {"fa": "هرچه شما می‌توانید ببینید", "en": "whatever you can see"},
    "level_system": {"fa": "دسترسی سامانه‌ای", "en": "system access"},
    "scope_openid": {"fa": "هویت شما", "en": "your identity"},
    "scope_offline_access": {"fa": "دسترسی پس از خروج شما", "en": "access while you are away"},
    "scope_online_access": {"fa": "دسترسی تا زمانی که وارد هستید", "en": "access while you are signed in"},
    "all_types": {"fa": "همهٔ منابع", "en": "all resources"},
}


def translator(lang: str) -> Callable[..., str]:
    lang = lang if lang in LANGS else LANGS[0]

    def t(key: str, **values: str) -> str:
        entry = TEXT.get(key)
        text = entry.get(lang, entry["en"]) if entry else key
        return text.format(**values) if values else text

    return t

"""Page text in Persian (default, right-to-left) and English."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta, timezone

LANGS = ("fa", "en")
TEHRAN = timezone(timedelta(hours=3, minutes=30))  # Iran keeps no daylight saving time since 2022
DIRECTION = {"fa": "rtl", "en": "ltr"}

TEXT: dict[str, dict[str, str]] = {
    "title": {"fa": "نسخه — ورود", "en": "Noskhe — sign in"},
    "brand": {"fa": "نسخه", "en": "Noskhe"},
    "other_lang": {"fa": "English", "en": "فارسی"},
    "app_asks": {"fa": "برنامهٔ «{app}» این دسترسی‌ها را می‌خواهد:", "en": "The app “{app}” asks for:"},
    "username": {"fa": "نام کاربری", "en": "Username"},
    "password": {"fa": "گذرواژه", "en": "Password"},
    "password2": {"fa": "تکرار گذرواژه", "en": "Repeat password"},
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
    "enrol_title": {"fa": "ثبت‌نام ارائه‌دهنده", "en": "Provider enrolment"},
    "national_code": {"fa": "کد ملی", "en": "National code"},
    "mobile": {"fa": "شمارهٔ همراه", "en": "Mobile number"},
    "send_code": {"fa": "دریافت کد یک‌بارمصرف", "en": "Send a one-time code"},
    "bad_national_code": {
        "fa": "کد ملی معتبر نیست؛ ۱۰ رقم آن را دوباره بررسی کنید.",
        "en": "The national code is not valid: check its 10 digits again.",
    },
    "bad_mobile": {
        "fa": "شمارهٔ همراه معتبر نیست؛ آن را به شکل ۰۹۱۲۱۲۳۴۵۶۷ بنویسید.",
        "en": "The mobile number is not valid: write it like 09121234567.",
    },
    "code_sent": {
        "fa": "اگر این کد ملی و شمارهٔ همراه در سامانه ثبت باشد، کدی پیامک شد.",
        "en": "If this national code and mobile are registered, a code was sent by SMS.",
    },
    "code": {"fa": "کد یک‌بارمصرف", "en": "One-time code"},
    "check_code": {"fa": "بررسی کد", "en": "Check code"},
    "wrong_code": {"fa": "کد نادرست یا منقضی است.", "en": "Wrong or expired code."},
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
    "scope_fhirUser": {
        "fa": "پروندهٔ کاربری شما به عنوان پزشک، داروساز یا کارمند",
        "en": "your user record as a doctor, pharmacist or staff member",
    },
    "scope_profile": {"fa": "نام شما", "en": "your name"},
    "technical_scopes": {"fa": "دامنه‌های فنی", "en": "Technical scopes"},
    "scope_offline_access": {"fa": "دسترسی پس از خروج شما", "en": "access while you are away"},
    "scope_online_access": {"fa": "دسترسی تا زمانی که وارد هستید", "en": "access while you are signed in"},
    "all_types": {"fa": "همهٔ منابع", "en": "all resources"},
    # sign-in, consent and picker
    "signin_title": {"fa": "ورود به نسخه", "en": "Sign in to Noskhe"},
    "signed_out": {"fa": "از حساب خود خارج شدید.", "en": "You have signed out."},
    "signin_for": {
        "fa": "برنامهٔ «{app}» می‌خواهد با حساب شما در نسخه کار کند.",
        "en": "The app “{app}” wants to work with your Noskhe account.",
    },
    "signin": {"fa": "ورود", "en": "Sign in"},
    "cancel": {"fa": "انصراف و بازگشت به برنامه", "en": "Cancel and go back to the app"},
    "consent_title": {"fa": "اجازه به برنامه", "en": "Allow this app?"},
    "consent_patient": {"fa": "پروندهٔ بیمار: {patient}", "en": "Patient record: {patient}"},
    "consent_remembered": {
        "fa": "این اجازه به خاطر سپرده می‌شود؛ هر زمان می‌توانید آن را در «{page}» پس بگیرید.",
        "en": "This permission is remembered; you can take it back any time on “{page}”.",
    },
    "grants_title": {"fa": "برنامه‌هایی که اجازه داده‌اید", "en": "Apps you have allowed"},
    "grants_none": {"fa": "به هیچ برنامه‌ای اجازه نداده‌اید.", "en": "You have not allowed any app."},
    "grants_since": {"fa": "از {date}", "en": "since {date}"},
    "revoke": {"fa": "پس گرفتن اجازه", "en": "Take back"},
    "revoked": {
        "fa": "اجازهٔ «{app}» پس گرفته شد و توکن‌های آن باطل شد.",
        "en": "The permission of “{app}” was taken back and its tokens revoked.",
    },
    "signin_to_manage": {
        "fa": "برای دیدن برنامه‌هایی که اجازه داده‌اید وارد شوید.",
        "en": "Sign in to see the apps you have allowed.",
    },
    "national_code_short": {"fa": "کد ملی", "en": "National code"},
    "birth": {"fa": "تاریخ تولد", "en": "Born"},
    "infant_of": {
        "fa": "نوزاد بدون شناسنامه؛ مادر: {mother} (کد ملی مادر {code})",
        "en": "Infant without a birth certificate; mother: {mother} (mother's national code {code})",
    },
    "sex": {"fa": "جنس", "en": "Sex"},
    "sex_male": {"fa": "مرد", "en": "male"},
    "sex_female": {"fa": "زن", "en": "female"},
    "sex_other": {"fa": "دیگر", "en": "other"},
    "sex_unknown": {"fa": "نامشخص", "en": "unknown"},
    "age_years": {"fa": "{years} سال", "en": "{years} years"},
    "pick_hint": {
        "fa": "نام یا کد ملی بیمار را بنویسید؛ سپس بیمار را از فهرست انتخاب کنید.",
        "en": "Type the patient's name or national code, then choose the patient from the list.",
    },
    "locked_for": {
        "fa": "به دلیل تلاش‌های نادرست پیاپی، ورود با این نام کاربری از این دستگاه تا {minutes} دقیقهٔ دیگر "
        "(ساعت {time}) ممکن نیست.",
        "en": "Too many wrong attempts: signing in with this username from this device is blocked for "
        "{minutes} more minutes (until {time}).",
    },
    "code_label": {"fa": "کد خطا", "en": "Error code"},
    "back_to_app": {"fa": "بازگشت به برنامه", "en": "Back to the app"},
    # OAuth error pages: heading, what happened, what to do
    "err_invalid_client": {"fa": "این برنامه در نسخه ثبت نشده است", "en": "This app is not registered"},
    "err_invalid_client_text": {
        "fa": "برنامه‌ای که شما را به این صفحه فرستاد برای نسخه شناخته‌شده نیست، پس نمی‌توان به آن اجازه داد. "
        "با پشتیبانی برنامه یا مدیر سامانه تماس بگیرید تا برنامه ثبت شود.",
        "en": "The app that sent you here is not known to Noskhe, so it cannot be given access. "
        "Contact the app's support or your administrator to have it registered.",
    },
    "err_redirect_uri": {
        "fa": "نشانی بازگشت این برنامه ثبت نشده است",
        "en": "This app's return address is not registered",
    },
    "err_redirect_uri_text": {
        "fa": "برنامه خواسته است پس از ورود، شما به نشانی‌ای برگردید که برای آن ثبت نشده است. برای امنیت شما، "
        "نسخه شما را به آن نشانی نمی‌فرستد. این را به پشتیبانی برنامه اطلاع دهید.",
        "en": "The app asked to send you back to an address it has not registered. For your safety Noskhe "
        "will not send you there. Please tell the app's support.",
    },
    "err_invalid_request": {"fa": "درخواست برنامه ناقص است", "en": "The app's request is incomplete"},
    "err_invalid_request_text": {
        "fa": "برنامه درخواست ورود را درست نفرستاده است. از برنامه دوباره شروع کنید؛ اگر تکرار شد، "
        "به پشتیبانی برنامه اطلاع دهید.",
        "en": "The app did not send a correct sign-in request. Start again from the app; if it happens "
        "again, tell the app's support.",
    },
    "err_unauthorized_client": {"fa": "این برنامه اجازهٔ این کار را ندارد", "en": "This app may not do this"},
    "err_unauthorized_client_text": {
        "fa": "این برنامه برای این نوع ورود ثبت نشده است. با پشتیبانی برنامه تماس بگیرید.",
        "en": "This app is not registered for this kind of sign-in. Contact the app's support.",
    },
    "err_invalid_scope": {
        "fa": "حساب شما نمی‌تواند این دسترسی‌ها را بدهد",
        "en": "Your account cannot grant this access",
    },
    "err_invalid_scope_text": {
        "fa": "برنامه دسترسی‌هایی خواسته که نقش شما در نسخه اجازهٔ دادن هیچ‌کدام را ندارد. به برنامه "
        "برگردید یا با حساب دیگری وارد شوید.",
        "en": "The app asks for access that your role in Noskhe cannot grant. Go back to the app or sign "
        "in with another account.",
    },
    "err_expired": {"fa": "این صفحه منقضی شده است", "en": "This page has expired"},
    "err_expired_text": {
        "fa": "این فرم دیگر معتبر نیست (زمان آن گذشته، یا پیش‌تر فرستاده شده است) و چیزی تغییر نکرد. "
        "از برنامه دوباره شروع کنید.",
        "en": "This form is no longer valid (it timed out, or was already sent) and nothing was changed. "
        "Start again from the app.",
    },
    "err_server_error": {"fa": "خطای سامانه", "en": "Something went wrong"},
    "err_server_error_text": {
        "fa": "درخواست انجام نشد. کمی بعد از برنامه دوباره شروع کنید.",
        "en": "The request could not be completed. Start again from the app in a little while.",
    },
    # enrolment polish
    "code_valid_for": {"fa": "کد تا {time} دیگر معتبر است.", "en": "The code is valid for {time} more."},
    "code_expired_resend": {
        "fa": "اعتبار کد تمام شد؛ کد تازه بخواهید.",
        "en": "The code has expired; ask for a new one.",
    },
    "resend": {"fa": "ارسال دوبارهٔ کد", "en": "Send the code again"},
    "resend_wait": {
        "fa": "کد قبلی هنوز {seconds} ثانیه معتبر است؛ پس از آن می‌توانید کد تازه بخواهید.",
        "en": "The last code is valid for {seconds} more seconds; you can ask for a new one after that.",
    },
    "code_resent": {"fa": "کد تازه پیامک شد.", "en": "A new code was sent by SMS."},
    "too_many_codes": {
        "fa": "کد نادرست بیش از حد وارد شد؛ این کد باطل شد. کد تازه بخواهید.",
        "en": "Too many wrong codes: this code is void. Ask for a new one.",
    },
    "locked_today": {
        "fa": "کد نادرست بیش از حد مجاز امروز وارد شد؛ ثبت‌نام با این کد ملی و شمارهٔ همراه تا {hours} "
        "ساعت دیگر (پایان امروز) ممکن نیست.",
        "en": "Too many wrong codes today: enrolment with this national code and mobile is blocked for "
        "{hours} more hours (until the end of the day).",
    },
    "password_rules": {
        "fa": "دست‌کم ۱۰ نویسه، نه از گذرواژه‌های رایج، و بدون نام کاربری، کد ملی یا شمارهٔ همراه.",
        "en": "At least 10 characters, not a common password, and without your username, "
        "national code or mobile number.",
    },
    "username_rules": {
        "fa": "۳ تا ۳۲ حرف لاتین، رقم، نقطه، خط تیره یا زیرخط.",
        "en": "3 to 32 Latin letters, digits, dot, dash or underscore.",
    },
    "national_code_hint": {"fa": "۱۰ رقم", "en": "10 digits"},
    "mobile_hint": {"fa": "مانند ۰۹۱۲۱۲۳۴۵۶۷", "en": "like 09121234567"},
}


def translator(lang: str, isolate: bool = False) -> Callable[..., str]:
    """`t(key, **values)` in `lang`. With `isolate`, each value is a bidi isolate (FSI..PDI),
    so an English app name in a Persian sentence (or the reverse) keeps the sentence's order."""
    lang = lang if lang in LANGS else LANGS[0]

    def t(key: str, **values: object) -> str:
        entry = TEXT.get(key)
        text = entry.get(lang, entry["en"]) if entry else key
        if isolate:
            values = {k: f"\u2068{v}\u2069" for k, v in values.items()}
        return text.format(**values) if values else text

    return t

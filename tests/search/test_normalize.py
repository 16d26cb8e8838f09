from fhir_server.search.normalize import normalize


def test_latin_case_and_accents() -> None:
    assert normalize("  José   MÜLLER ") == "jose muller"


def test_arabic_letters_equal_persian() -> None:
    assert normalize("علي كريمي") == normalize("علی کریمی")
    assert normalize("مصطفى") == normalize("مصطفی")


def test_zwnj_tatweel_and_digits() -> None:
    assert normalize("مهدی\u200cزاده") == normalize("مهدیزاده")
    assert normalize("محـــمد") == "محمد"
    assert normalize("۰۹۱۲") == normalize("٠٩١٢") == "0912"


def test_persian_letters_with_marks_survive() -> None:
    # NFKD splits آ into ا + madda; only Latin marks may be dropped.
    assert normalize("آرش") == "آرش"
    assert normalize("آرش") != normalize("ارش")
    assert normalize("مؤمن") == "مؤمن"


def test_harakat_dropped() -> None:
    assert normalize("مُحَمَّد") == "محمد"

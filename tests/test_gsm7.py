"""GSM-7: what an SMS costs, and French text brought back to one cheap segment."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from handlers.sms.gsm7 import (
    GSM7_BASIC,
    GSM7_EXTENDED,
    fit_encoding,
    is_gsm7,
    length,
    segments,
    transliterate,
)

GSM_TEXT = st.text(alphabet=sorted(GSM7_BASIC | GSM7_EXTENDED), max_size=500)


def test_plain_french_letters_of_gsm7_stay_cheap_and_the_others_cost_ucs2() -> None:
    assert is_gsm7("Père Noël? non: élève à Sète, où ça? Ça!") is False  # ë and ç
    assert is_gsm7("élève à Sète, où? Ça!") is True
    assert is_gsm7("fête") is False and is_gsm7("cœur") is False and is_gsm7("l’été") is False


def test_one_segment_holds_160_gsm7_or_70_ucs2_characters_and_parts_hold_153_or_67() -> None:
    assert segments("a" * 160) == 1 and segments("a" * 161) == 2
    assert segments("a" * 306) == 2 and segments("a" * 307) == 3
    assert segments("ê" * 70) == 1 and segments("ê" * 71) == 2
    assert segments("ê" * 134) == 2 and segments("ê" * 135) == 3
    assert segments("") == 1


def test_the_euro_sign_and_brackets_count_double() -> None:
    assert length("10 €") == 5
    assert segments("€" * 80) == 1 and segments("€" * 81) == 2


def test_an_escaped_character_is_never_cut_between_two_parts() -> None:
    assert segments("a" * 152 + "€" + "a" * 10) == 2
    assert segments("a" * 152 + "€" + "a" * 152) == 3


def test_an_emoji_costs_two_ucs2_units_and_is_never_cut() -> None:
    assert length("😀") == 2
    assert segments("😀" * 35) == 1 and segments("😀" * 36) == 2


def test_french_typography_becomes_its_plain_gsm7_spelling() -> None:
    text = "«\u00a0Fête\u202fde la rentrée\u00a0»\u00a0: Œuvre – ça coûte… l’été — 8h–13h"
    assert transliterate(text) == '" Fete de la rentrée " : OEuvre - ca coute... l\'été - 8h-13h'


def test_emoji_disappear_and_letters_of_other_scripts_leave_a_mark() -> None:
    assert transliterate("Merci 🙏 Zoë 👍🏽") == "Merci  Zoe "
    assert transliterate("Иван") == "????"


def test_a_short_accented_message_keeps_its_accents_in_one_ucs2_segment() -> None:
    short = "Quel est votre prénom ? Répondez « Zoé »."
    assert fit_encoding(short) == short


def test_a_long_accented_message_is_transliterated_into_one_gsm7_segment() -> None:
    long = (
        "Renfort : une place s’est libérée pour Assesseur — bureau de vote n°3, "
        "dim. 7 juil. 8h–13h. La mairie vous répondra par SMS. Bonne journée !"
    )
    fitted = fit_encoding(long)
    assert is_gsm7(fitted) and segments(fitted) == 1
    assert "s'est libérée" in fitted and "n" + "o3" in fitted


@given(st.text(max_size=400))
def test_transliteration_always_yields_gsm7(text: str) -> None:
    result = transliterate(text)
    assert is_gsm7(result)
    assert transliterate(result) == result


@given(GSM_TEXT)
def test_gsm7_text_is_never_changed(text: str) -> None:
    assert transliterate(text) == text
    assert fit_encoding(text) == text


@given(st.text(max_size=400))
def test_the_fitted_text_never_costs_more_than_its_transliteration(text: str) -> None:
    fitted = fit_encoding(text)
    assert is_gsm7(fitted) or length(fitted) <= 70
    assert segments(fitted) <= max(1, segments(transliterate(text)))


@given(GSM_TEXT)
def test_segment_counts_follow_the_septet_length(text: str) -> None:
    septets = length(text)
    if septets <= 160:
        assert segments(text) == 1
    else:
        assert -(-septets // 153) <= segments(text) <= -(-septets // 152)

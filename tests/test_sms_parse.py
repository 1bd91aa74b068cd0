"""Reading SMS the way people really type them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from handlers.sms.parse import (
    Introduction,
    Kind,
    guess_language,
    parse_choices,
    parse_command,
    parse_first_name,
    parse_introduction,
    parse_language,
    parse_number,
    parse_postcode,
    parse_yes_no,
)

LABELS = ["Élections", "Solidarité", "Santé", "Éducation", "Environnement", "Culture", "Sport"]
ACCENTED = {"E": "EÉÈÊË", "A": "AÀÂ", "I": "IÎÏ", "O": "OÔ", "U": "UÙÛ", "C": "CÇ"}


@st.composite
def typed_like_a_person(draw: st.DrawFn, word: str) -> str:
    """`word` in any case, with or without accents, with stray spaces and punctuation."""
    letters = []
    for char in word:
        variant = draw(st.sampled_from(ACCENTED.get(char, char)))
        letters.append(variant.lower() if draw(st.booleans()) else variant)
    spaced = "".join(letters).replace(" ", draw(st.sampled_from([" ", "  ", " \t"])))
    before = draw(st.sampled_from(["", " ", "\n", "  "]))
    after = draw(st.sampled_from(["", " ", ".", "!", " !", "\n"]))
    return before + spaced + after


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("STOP", Kind.STOP),
        ("stop", Kind.STOP),
        ("Arrêt", Kind.STOP),
        ("ARRET", Kind.STOP),
        ("cancel", Kind.STOP),
        ("Unsubscribe", Kind.STOP),
        ("STOPALL", Kind.STOP),
        ("end", Kind.STOP),
        ("quit", Kind.STOP),
        ("START", Kind.START),
        ("unstop", Kind.START),
        ("Oui", Kind.START),
        ("yes", Kind.START),
        ("AIDE", Kind.HELP),
        ("help", Kind.HELP),
        ("Info", Kind.HELP),
        ("?", Kind.HELP),
        ("Missions", Kind.MISSIONS),
        ("mes missions", Kind.MY_MISSIONS),
        ("MY MISSIONS", Kind.MY_MISSIONS),
        ("Mes  Missions !", Kind.MY_MISSIONS),
        ("suite", Kind.MORE),
        ("MORE", Kind.MORE),
        ("annuler", Kind.CANCEL_WITHOUT_NUMBER),
        ("langue", Kind.LANGUAGE),
        ("", Kind.EMPTY),
        ("   ", Kind.EMPTY),
        ("👍", Kind.TEXT),
        ("bonjour", Kind.TEXT),
    ],
)
def test_keywords_are_recognised_in_french_and_english(text: str, kind: Kind) -> None:
    assert parse_command(text).kind == kind


@pytest.mark.parametrize("text", ["ANNULER 2", "annuler 2", "Cancel 2", "annuler n°2", "ANNULER2"])
def test_cancel_with_a_number_cancels_that_mission_and_is_no_opt_out(text: str) -> None:
    command = parse_command(text)
    assert (command.kind, command.number) == (Kind.CANCEL, 2)


def test_a_language_can_follow_the_keyword() -> None:
    assert parse_command("LANG EN").language == "en"
    assert parse_command("langue français").language == "fr"
    assert parse_command("Langue 2").language == "en"


@pytest.mark.parametrize("text", ["1", "1.", " 1 ", "1)", "n°1", "N° 1", "#1", "un", "Une", "one"])
def test_numbers_are_read_as_people_write_them(text: str) -> None:
    assert parse_number(text) == 1
    assert parse_command(text).kind == Kind.NUMBER


@pytest.mark.parametrize("text", ["oui", "OUI", "o", "O", "yes", "Y", "ok", "d'accord", "👍"])
def test_yes_in_all_its_forms(text: str) -> None:
    assert parse_yes_no(text) is True
    assert parse_command(text).yes is True


@pytest.mark.parametrize("text", ["non", "NON", "n", "no", "No."])
def test_no_in_all_its_forms(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        *[("1", "fr"), ("fr", "fr"), ("Français", "fr"), ("francais", "fr"), ("un", "fr")],
        *[("2", "en"), ("EN", "en"), ("english", "en"), ("Anglais", "en"), ("deux", "en")],
    ],
)
def test_a_language_answer(text: str, locale: str) -> None:
    assert parse_language(text) == locale


@pytest.mark.parametrize(
    ("text", "chosen"),
    [
        ("1 3", [1, 3]),
        ("1,3", [1, 3]),
        ("1, 3 et 5", [1, 3, 5]),
        ("135", [1, 3, 5]),
        ("3 1 3", [1, 3]),
        ("tout", [1, 2, 3, 4, 5, 6, 7]),
        ("0", [1, 2, 3, 4, 5, 6, 7]),
        ("sport", [7]),
        ("santé et sport", [3, 7]),
        ("deux", [2]),
    ],
)
def test_several_choices_in_one_answer(text: str, chosen: list[int]) -> None:
    assert parse_choices(text, 7, LABELS) == chosen


@pytest.mark.parametrize("text", ["", "8", "1 banane", "e", "99"])
def test_what_is_not_a_choice_is_refused(text: str) -> None:
    assert parse_choices(text, 7, LABELS) is None


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("camille", "Camille"),
        ("JEAN-PIERRE", "Jean-Pierre"),
        ("  Zoé  ", "Zoé"),
        ("Zoé 😊", "Zoé"),
        ("je m'appelle Zoé", "Zoé"),
        ("Moi c’est Inès", "Inès"),
        ("McKenzie", "McKenzie"),
    ],
)
def test_a_first_name_as_people_send_it(text: str, name: str) -> None:
    assert parse_first_name(text) == name


@pytest.mark.parametrize("text", ["", "1234", "😊", "x" * 41, "je ne sais pas quoi vous dire"])
def test_what_is_no_first_name_is_refused(text: str) -> None:
    assert parse_first_name(text) is None


def test_a_postcode_with_or_without_its_space() -> None:
    assert parse_postcode("52100") == parse_postcode(" 52 100 ") == "52100"
    assert parse_postcode("5210") is None and parse_postcode("Saint-Dizier") is None


@given(st.text(max_size=2000))
def test_any_sms_is_understood_as_something_without_error(text: str) -> None:
    command = parse_command(text)
    assert isinstance(command.kind, Kind)
    if command.kind in (Kind.NUMBER, Kind.CANCEL):
        assert command.number is not None and 0 <= command.number <= 10_000


@given(
    st.sampled_from(["STOP", "ARRET", "UNSUBSCRIBE", "STOPALL", "QUIT", "END"]).flatmap(
        typed_like_a_person
    )
)
def test_stop_words_are_recognised_however_typed(text: str) -> None:
    assert parse_command(text).kind == Kind.STOP


@given(st.sampled_from(["MES MISSIONS", "MY MISSIONS"]).flatmap(typed_like_a_person))
def test_my_missions_is_recognised_however_typed(text: str) -> None:
    assert parse_command(text).kind == Kind.MY_MISSIONS


@given(
    st.integers(min_value=1, max_value=999),
    st.sampled_from(["{}", " {} ", "{}.", "n°{}", "N° {}", "#{}", "{})"]),
)
def test_any_number_is_read_whatever_surrounds_it(number: int, shape: str) -> None:
    assert parse_number(shape.format(number)) == number


@given(st.integers(min_value=1, max_value=999), typed_like_a_person("ANNULER"))
def test_cancel_n_keeps_its_number_however_typed(number: int, word: str) -> None:
    command = parse_command(f"{word.strip(' .!')} {number}")
    assert (command.kind, command.number) == (Kind.CANCEL, number)


@given(
    st.sets(st.integers(min_value=1, max_value=7), min_size=1), st.sampled_from([" ", ",", ", "])
)
def test_choices_come_back_as_given(chosen: set[int], separator: str) -> None:
    text = separator.join(str(n) for n in sorted(chosen))
    assert parse_choices(text, 7, LABELS) == sorted(chosen)


@given(st.text(max_size=300))
def test_a_first_name_is_short_and_has_letters_whatever_was_sent(text: str) -> None:
    name = parse_first_name(text)
    if name is not None:
        assert 0 < len(name) <= 40 and any(c.isalpha() for c in name)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Camille 52100", Introduction("Camille", "52100")),
        ("Je suis Camille, 52100", Introduction("Camille", "52100")),
        ("hi I'm Sam 75011", Introduction("Sam", "75011")),
        ("Bonjour ! Je m’appelle Zoé. 52 100", Introduction("Zoé", "52100")),
        ("52100 camille", Introduction("Camille", "52100")),
        ("Good morning, my name is Jean-Pierre 69001", Introduction("Jean-Pierre", "69001")),
        ("Bonjour", Introduction(None, None)),
        ("Bonjour je veux aider 52100", Introduction(None, "52100")),
        ("Hello, I want to help", Introduction(None, None)),
        ("Camille", Introduction("Camille", None)),
        ("Camille 52100 75011", Introduction("Camille", None)),
        ("Camille 52100 Saint-Dizier", Introduction("Camille", "52100")),
        ("Camille, 52100, Saint-Dizier", Introduction("Camille", "52100")),
        ("Bonjour, 52100 Camille", Introduction("Camille", "52100")),
        ("camille,52100", Introduction("Camille", "52100")),
        ("Zoe\u0301 52100", Introduction("Zoé", "52100")),  # the accent sent apart
        ("Bonjour je m'appelle Camille j'habite 52100 Saint-Dizier", Introduction(None, "52100")),
        ("06 12 34 56 78", Introduction(None, None)),
    ],
)
def test_a_first_name_and_a_postcode_in_one_message(text: str, said: Introduction) -> None:
    assert parse_introduction(text) == said


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("hi", "en"),
        ("Hello!", "en"),
        ("hi I'm Sam 75011", "en"),
        ("HELP", "en"),
        ("I would like to volunteer", "en"),
        ("Bonjour", "fr"),
        ("Je suis Camille, 52100", "fr"),
        ("Salut, je veux aider", "fr"),
        ("Camille 52100", None),
        ("MISSIONS", None),
    ],
)
def test_the_language_is_guessed_from_the_words(text: str, locale: str | None) -> None:
    assert guess_language(text) == locale


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("ENGLISH", "en"),
        ("english", "en"),
        ("Anglais", "en"),
        ("FRANÇAIS", "fr"),
        ("francais", "fr"),
    ],
)
def test_one_word_switches_the_language(text: str, locale: str) -> None:
    command = parse_command(text)
    assert (command.kind, command.language) == (Kind.LANGUAGE, locale)


@pytest.mark.parametrize("text", ["2.1", "2,1", " 2 . 1 ", "2 1"])
def test_a_mission_and_its_slot_in_one_answer(text: str) -> None:
    command = parse_command(text)
    assert (command.kind, command.number, command.slot) == (Kind.SLOT, 2, 1)


@pytest.mark.parametrize("text", ["INTERETS", "intérêts", "Interests"])
def test_the_interests_keyword(text: str) -> None:
    assert parse_command(text).kind == Kind.INTERESTS


@given(st.integers(min_value=1, max_value=999), st.integers(min_value=1, max_value=999))
def test_any_mission_and_slot_numbers_come_back_as_given(mission: int, slot: int) -> None:
    command = parse_command(f"{mission}.{slot}")
    assert (command.kind, command.number, command.slot) == (Kind.SLOT, mission, slot)


@given(st.text(max_size=400))
def test_any_message_is_read_as_an_introduction_without_error(text: str) -> None:
    said = parse_introduction(text)
    assert said.postcode is None or (len(said.postcode) == 5 and said.postcode.isdigit())
    assert said.first_name is None or len(said.first_name.split()) <= 2

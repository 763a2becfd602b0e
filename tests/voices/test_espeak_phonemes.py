"""Pronounced Hangul → espeak-ng phoneme input (forv_tts.voices.espeak_phonemes): pure string tables."""

from __future__ import annotations

import pytest

from forv_tts.voices.espeak_phonemes import Style, decompose, to_phoneme_input, word_phonemes


@pytest.mark.parametrize(
    ("syllable", "parts"),
    [
        ("가", ("ㄱ", "ㅏ", "")),
        ("힣", ("ㅎ", "ㅣ", "ㅎ")),
        ("똠", ("ㄸ", "ㅗ", "ㅁ")),
        ("읽", ("ㅇ", "ㅣ", "ㄺ")),
        ("ㄱ", None),
        ("a", None),
    ],
)
def test_decompose(syllable: str, parts: tuple[str, str, str] | None) -> None:
    assert decompose(syllable) == parts


# Word-initial: the lax stops and ㅈ are voiceless and unaspirated; tense and aspirated are their own.
@pytest.mark.parametrize(
    ("word", "phonemes"),
    [
        ("가", ["ka"]),
        ("까", ["k-a"]),
        ("카", ["kha"]),
        ("다", ["ta"]),
        ("따", ["t-a"]),
        ("타", ["tha"]),
        ("바", ["pa"]),
        ("빠", ["p-a"]),
        ("파", ["pha"]),
        ("자", ["tS;a"]),
        ("짜", ["tS;-a"]),
        ("차", ["tSha"]),
        ("사", ["sa"]),
        ("싸", ["s-a"]),
        ("하", ["ha"]),
        ("나", ["na"]),
        ("마", ["ma"]),
        ("아", ["a"]),
        ("라", ["*a"]),
    ],
)
def test_initial_consonants(word: str, phonemes: list[str]) -> None:
    assert word_phonemes(word) == phonemes


@pytest.mark.parametrize(
    ("vowel_syllable", "phonemes"),
    [
        ("아", "a"),
        ("애", "E"),
        ("야", "ja"),
        ("얘", "jE"),
        ("어", "@"),
        ("에", "e"),
        ("여", "j@"),
        ("예", "je"),
        ("오", "o"),
        ("와", "wa"),
        ("왜", "wE"),
        ("외", "we"),
        ("요", "jo"),
        ("우", "u"),
        ("워", "w@"),
        ("웨", "we"),
        ("위", "wi"),
        ("유", "ju"),
        ("으", "u-"),
        ("의", "u-i"),
        ("이", "i"),
    ],
)
def test_vowels(vowel_syllable: str, phonemes: str) -> None:
    assert word_phonemes(vowel_syllable) == [phonemes]


def test_ui_after_a_consonant_is_i() -> None:
    assert word_phonemes("히망") == ["hi", "maN"]  # g2pk keeps 희 → 히 already; ours agrees for 희 too
    assert word_phonemes("희") == ["hi"]


# Between voiced sounds (a vowel or ㄴ ㄹ ㅁ ㅇ) the lax stops are voiced; after an obstruent coda they
# stay voiceless (g2pk writes the tense consonant there anyway).
@pytest.mark.parametrize(
    ("word", "phonemes"),
    [
        ("아가", ["a", "ga"]),
        ("바다", ["pa", "da"]),
        ("아버지", ["a", "b@", "dZ;i"]),
        ("감기", ["kam", "gi"]),
        ("한자", ["han", "dZ;a"]),
        ("일본", ["il", "bon"]),
        ("공부", ["koN", "bu"]),
        ("악기", ["ak", "ki"]),
        ("아까", ["a", "k-a"]),
        ("아카", ["a", "kha"]),
    ],
)
def test_lax_stops_voice_between_voiced_sounds(word: str, phonemes: list[str]) -> None:
    assert word_phonemes(word) == phonemes


# Codas: seven sounds, unreleased stops; clusters and the rest neutralised as the standard says.
@pytest.mark.parametrize(
    ("syllable", "coda"),
    [
        ("악", "k"),
        ("앆", "k"),
        ("앇", "k"),
        ("앍", "k"),
        ("앜", "k"),
        ("안", "n"),
        ("앉", "n"),
        ("않", "n"),
        ("앋", "t"),
        ("앗", "t"),
        ("았", "t"),
        ("앚", "t"),
        ("앛", "t"),
        ("앝", "t"),
        ("앟", "t"),
        ("알", "l"),
        ("앏", "l"),
        ("앎", "m"),
        ("암", "m"),
        ("압", "p"),
        ("앖", "p"),
        ("앞", "p"),
        ("앙", "N"),
    ],
)
def test_codas(syllable: str, coda: str) -> None:
    assert word_phonemes(syllable) == ["a" + coda]


def test_r_is_a_flap_between_vowels_and_l_after_a_coda_l() -> None:
    assert word_phonemes("나라") == ["na", "*a"]
    assert word_phonemes("실라") == ["sil", "la"]  # 신라 as g2pk gives it
    assert word_phonemes("물") == ["mul"]


# Sound changes as g2pk resolved them (its output for the spelled word on the left, checked with g2pk
# 0.9.4): the mapping spells what g2pk wrote and adds only the allophones.
@pytest.mark.parametrize(
    ("spelled", "g2pk", "phonemes"),
    [
        ("국물", "궁물", ["kuN", "mul"]),  # nasalisation
        ("학교", "학꾜", ["hak", "k-jo"]),  # tensing
        ("좋다", "조타", ["tS;o", "tha"]),  # aspiration
        ("같이", "가치", ["ka", "tShi"]),  # palatalisation
        ("먹어요", "머거요", ["m@", "g@", "jo"]),  # liaison, the stop then voiced
        ("감사합니다", "감사함니다", ["kam", "sa", "ham", "ni", "da"]),
        ("값이", "갑씨", ["kap", "s-i"]),
        ("읽고", "일꼬", ["il", "k-o"]),
    ],
)
def test_follows_g2pk_sound_changes(spelled: str, g2pk: str, phonemes: list[str]) -> None:
    del spelled
    assert word_phonemes(g2pk) == phonemes


def test_style_choices() -> None:
    assert word_phonemes("가", Style(initial_lax="voiced")) == ["ga"]
    assert word_phonemes("각", Style(coda_k="q")) == ["kaq"]
    assert word_phonemes("알", Style(coda_l="L")) == ["kaL"[1:]]


def test_phoneme_input_keeps_clause_punctuation_outside_the_brackets() -> None:
    assert to_phoneme_input("안녕하세요.") == "[['annj@Nhasejo]]."
    assert to_phoneme_input("지금 멷 씨예요?") == "[['tS;igu-m 'mj@t 's-ijejo]]?"
    assert to_phoneme_input("네, 조아요!") == "[['ne]], [['tS;oajo]]!"
    assert to_phoneme_input("네?!") == "[['ne]]?"
    assert to_phoneme_input("...") == ""
    assert to_phoneme_input("가나", Style(stress="none")) == "[[kana]]"
    assert to_phoneme_input("가 나. 다 라", Style(stress="last")) == "[[ka na]]. [[ta '*a]]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Lenis, sonorant or vowel onset: the accentual phrase starts low, its first high is syllable 2.
        ("가세요", "[[ka'sejo]]"),
        ("안녕하세요", "[[an'nj@Nhasejo]]"),
        ("네", "[['ne]]"),  # one syllable: nowhere else to go
        # Aspirated, tense, ㅅ and ㅎ onsets start it high.
        ("카드", "[['khadu-]]"),
        ("따라", "[['t-a*a]]"),
        ("사과", "[['sagwa]]"),
        ("하나", "[['hana]]"),
        ("저는 사과", "[[tS;@'nu-n 'sagwa]]"),
    ],
)
def test_accentual_phrase_stress(text: str, expected: str) -> None:
    assert to_phoneme_input(text, Style(stress="ap")) == expected


def test_remap_replaces_onsets_nuclei_and_codas() -> None:
    style = Style(remap="@=V, u-=W k-=k")
    assert word_phonemes("안녕", style) == ["an", "njVN"]  # the glide stays, the nucleus changes
    assert word_phonemes("그", style) == ["kW"]
    assert word_phonemes("까", style) == ["ka"]
    assert word_phonemes("먹", Style(remap="k=q")) == ["m@q"]  # a coda too
    assert word_phonemes("먹") == ["m@k"]
    with pytest.raises(ValueError, match="old=new"):
        word_phonemes("가", Style(remap="@V"))


@pytest.mark.parametrize(
    ("word", "geminate"),
    [
        ("아빠", ["ap", "p-a"]),
        ("가짜", ["kat", "tS;-a"]),
        ("말씀", ["mals", "s-u-m"]),
        ("학꾜", ["hak", "k-jo"]),  # after an obstruent coda the closure is already there
        ("까치", ["k-a", "tShi"]),  # word-initial: no syllable before to hold it
    ],
)
def test_tense_as_a_long_closure(word: str, geminate: list[str]) -> None:
    assert word_phonemes(word, Style(tense="geminate")) == geminate
    assert word_phonemes("아빠") == ["a", "p-a"]


def test_accentual_phrase_final_rise() -> None:
    # aplh: a secondary mark on the last syllable when it is not next to the first high.
    assert to_phoneme_input("안녕하세요", Style(stress="aplh")) == "[[an'nj@Nhase,jo]]"
    assert to_phoneme_input("가세요", Style(stress="aplh")) == "[[ka'sejo]]"
    assert to_phoneme_input("사과", Style(stress="aplh")) == "[['sagwa]]"

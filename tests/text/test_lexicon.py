"""The user lexicon: format, errors with file and line, whole-word and case-aware matching, merging."""

from __future__ import annotations

from pathlib import Path

import pytest

from forv_tts.errors import InvalidInputError, UsageError
from forv_tts.text import expand, explain, normalize_stages
from forv_tts.text.lexicon import ENV_VAR, Lexicon, LexiconError, load, parse, resolve


def lex(text: str) -> Lexicon:
    return parse(text, source="test.tsv")


@pytest.mark.parametrize(
    ("entries", "text", "expected"),
    [
        ("ForV\t포브", "ForV가 만들었다", "포브가 만들었다"),
        ("GCS\t지씨에스", "GCS에 올려요", "지씨에스에 올려요"),
        ("GCS\t지씨에스", "GCSE 시험", "지씨에스이 시험"),  # whole word: not inside GCSE
        ("forv\t포브", "FORV와 ForV", "포브와 포브"),  # an all-lower-case entry matches any case
        ("삼성\t쌤숭", "삼성이 이겼다", "쌤숭이 이겼다"),  # Hangul: a particle may follow
        ("삼성\t쌤숭", "대삼성", "대삼성"),  # … but not another syllable before it
        ("KTX\t케이티엑스 열차", "KTX를 탔다", "케이티엑스 열차를 탔다"),
        ("3M\t쓰리엠", "3M 테이프", "쓰리엠 테이프"),  # before the number rules
        ("ForV\t포브", "ForV을 써요", "포브를 써요"),  # the particle agrees with the spoken form
        ("ForV\t포브\nForV TTS\t포브 티티에스", "ForV TTS로", "포브 티티에스로"),  # longest first
    ],
)
def test_lexicon_rewrites(entries: str, text: str, expected: str) -> None:
    assert expand(text, lexicon=lex(entries)) == expected


def test_an_entry_with_capitals_matches_only_that_spelling() -> None:
    lexicon = lex("ForV\t포브")
    assert expand("FORV ForV", lexicon=lexicon) == "에프오알브이 포브"


def test_comments_blank_lines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_bytes("\ufeff# team words\n\nForV\t포브\n  \nGCS\t지씨에스\r\n".encode())
    lexicon = load(path)
    assert sorted(lexicon.entries) == ["ForV", "GCS"]
    assert lexicon.entries["GCS"].source == f"{path}:5"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("ForV\n", 1),
        ("ForV\t포브\nGCS 지씨에스\n", 2),
        ("a\tb\tc\n", 1),
        ("\t포브\n", 1),
        ("# x\nForV\t\n", 2),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, text: str, line: int) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconError) as info:
        load(path)
    assert f"{path}:{line}:" in str(info.value)
    assert info.value.line == line and info.value.path == str(path)
    assert isinstance(info.value, UsageError) and isinstance(info.value, InvalidInputError)


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "cp949.tsv"
    path.write_bytes("ForV\t포브\n".encode("cp949"))
    with pytest.raises(LexiconError, match=r"cp949.tsv:1: .*UTF-8"):
        load(path)
    with pytest.raises(LexiconError, match="cannot read lexicon"):
        load(tmp_path / "absent.tsv")


def test_sources_merge_later_wins(tmp_path: Path) -> None:
    voice_dir = tmp_path / "voice_model"
    voice_dir.mkdir()
    (voice_dir / "lexicon.tsv").write_text("ForV\t포브이\nGCS\t지씨에스\n", encoding="utf-8")
    env_file = tmp_path / "env.tsv"
    env_file.write_text("ForV\t포브\nTTS\t티티에스\n", encoding="utf-8")
    option = tmp_path / "option.tsv"
    option.write_text("TTS\t음성 합성\n", encoding="utf-8")
    merged = resolve([option], voice_dir=voice_dir, environ={ENV_VAR: str(env_file)})
    assert merged is not None
    assert expand("ForV TTS GCS", lexicon=merged) == "포브 음성 합성 지씨에스"
    assert resolve([], voice_dir=tmp_path, environ={}) is None  # no lexicon.tsv there: none
    with pytest.raises(LexiconError):
        resolve([], environ={ENV_VAR: str(tmp_path / "absent.tsv")})


def test_stages_show_which_entries_fired() -> None:
    lexicon = lex("ForV\t포브\nGCS\t지씨에스")
    [stage] = normalize_stages("ForV가 좋아요.", lexicon=lexicon)
    assert stage["lexicon"] == [{"written": "ForV", "spoken": "포브", "source": "test.tsv:1"}]
    assert stage["expanded"] == "포브가 좋아요."
    [sentence] = explain("ForV가 좋아요.", lexicon=lexicon)
    assert sentence["rewrites"][0] == {
        "span": "ForV",
        "start": 0,
        "end": 4,
        "rule": "lexicon",
        "reading": "포브",
    }


def test_lexicon_is_picklable_for_batch_workers() -> None:
    import pickle

    lexicon = lex("ForV\t포브")
    expand("ForV", lexicon=lexicon)  # compiled
    again = pickle.loads(pickle.dumps(lexicon))
    assert expand("ForV가", lexicon=again) == "포브가"

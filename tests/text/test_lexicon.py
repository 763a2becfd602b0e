"""The user lexicon: format, errors with file and line, whole-word and case-aware matching, merging."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from forv_tts.errors import InvalidInputError, UsageError
from forv_tts.text import expand, explain, normalize_stages
from forv_tts.text.lexicon import ENV_VAR, Entry, Lexicon, LexiconError, load, parse, resolve


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


def test_resolve_parses_a_file_again_only_when_its_bytes_change(tmp_path: Path) -> None:
    """Every call reads the files; an unchanged set gives the same (already compiled) lexicon, an edit
    applies on the next call, even one of the same size within the same mtime tick."""
    path = tmp_path / "words.tsv"
    path.write_text("forv\t가나\n", encoding="utf-8")
    first = resolve([path], environ={})
    assert first is not None and expand("forv", lexicon=first) == "가나"
    assert resolve([path], environ={}) is first  # not parsed (nor compiled) again
    stat = path.stat()
    path.write_text("forv\t다라\n", encoding="utf-8")  # same size …
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # … and the same mtime
    edited = resolve([path], environ={})
    assert edited is not first and edited is not None and expand("forv", lexicon=edited) == "다라"


def test_a_merged_set_is_cached_and_follows_an_edit_of_any_source(tmp_path: Path) -> None:
    voice_dir = tmp_path / "voices"
    voice_dir.mkdir()
    (voice_dir / "lexicon.tsv").write_text("forv\t가나\nGCS\t지씨에스\n", encoding="utf-8")
    env_file = tmp_path / "env.tsv"
    env_file.write_text("forv\t포브\n", encoding="utf-8")
    environ = {ENV_VAR: str(env_file)}
    merged = resolve(voice_dir=voice_dir, environ=environ)
    assert merged is not None and expand("forv GCS", lexicon=merged) == "포브 지씨에스"
    assert resolve(voice_dir=voice_dir, environ=environ) is merged
    (voice_dir / "lexicon.tsv").write_text("GCS\t구글 스토리지\n", encoding="utf-8")
    again = resolve(voice_dir=voice_dir, environ=environ)
    assert again is not None and expand("forv GCS", lexicon=again) == "포브 구글 스토리지"
    (voice_dir / "lexicon.tsv").unlink()  # the voice directory's file is optional
    only_env = resolve(voice_dir=voice_dir, environ=environ)
    assert only_env is not None and expand("forv GCS", lexicon=only_env) == "포브 지씨에스"


def test_a_file_that_becomes_malformed_is_an_error_until_fixed(tmp_path: Path) -> None:
    """No "last good" copy: the page and the audio must not disagree about a broken file."""
    path = tmp_path / "words.tsv"
    path.write_text("forv\t가나\n", encoding="utf-8")
    assert resolve([path], environ={}) is not None
    path.write_text("forv 가나\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(LexiconError, match=r"words.tsv:1: a lexicon line must be"):
            resolve([path], environ={})
    path.unlink()
    with pytest.raises(LexiconError, match="cannot read lexicon"):
        resolve([path], environ={})
    path.write_text("forv\t마바\n", encoding="utf-8")
    fixed = resolve([path], environ={})
    assert fixed is not None and expand("forv", lexicon=fixed) == "마바"


def test_a_resolved_lexicon_is_shared_so_it_refuses_add(tmp_path: Path) -> None:
    path = tmp_path / "words.tsv"
    path.write_text("forv\t가나\n", encoding="utf-8")
    shared = resolve([path], environ={})
    assert shared is not None
    with pytest.raises(UsageError, match="shared"):
        shared.add(Entry("GCS", "지씨에스", "<memory>"))
    mine = shared.merge(Lexicon.from_mapping({"GCS": "지씨에스"}))
    assert expand("forv GCS", lexicon=mine) == "가나 지씨에스"
    assert resolve([path], environ={}) is shared and len(shared) == 1
    own = load(path)  # load_lexicon: a fresh lexicon of the caller's own
    own.add(Entry("GCS", "지씨에스", "<memory>"))
    assert len(own) == 2

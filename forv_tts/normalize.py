"""Korean text → the sentences a voice is given: clean → split → expand → g2pk.

g2pk knows the sound changes of Korean (같이 → 가치, 국물 → 궁물) but reads what it does not know
badly: digits one by one (20세기 → 이영세기), English through a set-ordered pass, symbols not at all.
So `expand` first writes every number, unit, date, acronym and English word out in Hangul the way a
Korean reader says it, and g2pk (`forv_tts.g2p.pronounce`) only ever sees Hangul and . , ! ?.

Importing this module is cheap: g2pk, mecab and the CMU dictionary load on first use.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

from forv_tts import korean_numbers as kn
from forv_tts.errors import ForvError
from forv_tts.normalize_tables import (
    ABBREVIATIONS,
    CAPS_WORDS,
    CURRENCY_SYMBOLS,
    GREEK_LETTERS,
    JAMO_NAMES,
    JAMO_RUN_SYLLABLES,
    LETTER_NAMES,
    LOANWORDS,
    NATIVE_COUNTERS,
    SINO_COUNTERS,
    UNIT_PREFIXES,
    UNITS,
)

_log = logging.getLogger(__name__)

# A synthesis chunk is at most this many characters of cleaned source text (~10-15 s of speech).
# Glow-TTS handles longer input, but attention quality and memory degrade with length and one bad
# chunk should not spoil a paragraph. Longer sentences are cut after a comma, else at a space.
MAX_SENTENCE_CHARS = 120

# ---------------------------------------------------------------------------------------------------
# Cleaning: Unicode that cannot be spoken, full-width forms, whitespace.

_SURROGATES = re.compile("[\ud800-\udfff]")
_ANSI_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_NEWLINES = re.compile("\r\n|[\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# NFKC would turn compatibility jamo (ㅋ, U+3131..) into conjoining jamo (U+1100..): keep them as is.
_NO_NFKC = re.compile("([\u3130-\u318f\uffa0-\uffdc]+)")
_CHAR_MAP = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "。": ". ",
        "、": ", ",
        "‐": "-",
        "‑": "-",
        "−": "-",
        "・": "·",
        "ㆍ": "·",
        "∼": "~",
        "〜": "~",
    }
)
_KEEP_SYMBOLS = frozenset("°")


def _clean_char(ch: str) -> str:
    category = unicodedata.category(ch)
    if ch == "\n" or ch in _KEEP_SYMBOLS:
        return ch
    if category == "Zs" or ch == "\t":
        return " "
    if category[0] == "C" or category in ("Mn", "Me", "So"):
        # Controls, format characters (ZWJ, BOM, bidi marks), private use, unassigned; combining
        # marks left over after NFKC (variation selectors, keycaps); emoji and pictographs.
        return ""
    if category == "Sk" and "\U0001f3fb" <= ch <= "\U0001f3ff":  # emoji skin tones
        return ""
    if "\u00c0" <= ch <= "\u024f" or "\u1e00" <= ch <= "\u1eff":  # café → cafe
        base = unicodedata.normalize("NFD", ch)[0]
        if base.isascii() and base.isalpha():
            return base
    return ch


def _clean(text: str) -> str:
    """Remove what cannot be spoken, NFKC the rest where safe; newlines are kept as hard breaks."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = _ANSI_ESCAPES.sub("", _SURROGATES.sub("", text))  # terminal colour codes in piped text
    text = _NEWLINES.sub("\n", text)
    text = re.sub("(?<!m)²", " 제곱", re.sub("(?<!m)³", " 세제곱", text))  # x² (m² is a unit: NFKC m2)
    parts = _NO_NFKC.split(text)
    text = "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(parts))
    text = "".join(_clean_char(ch) for ch in text).translate(_CHAR_MAP)
    text = re.sub(r"(?<=\d)\s?[–—]\s?(?=\d)", "~", text)  # 3–5 is a range
    text = re.sub(r"\s*[–—―]+\s*", ", ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ?\n[\n ]*", "\n", text)
    return text.strip()


# ---------------------------------------------------------------------------------------------------
# Sentence splitting.

_TERMINATOR = re.compile(r"[.!?]+[\"')\]」』》〉]*(?=\s|$)")
_CLOSERS = "\"')]」』》〉"
_DATE_BEFORE = re.compile(r"\d{4}\.\s?\d{1,2}\.\s?\d{1,2}$")
_WORD_BEFORE = re.compile(r"([A-Za-z]+(?:\.[A-Za-z]+)*)$")


def _is_boundary(line: str, match: re.Match[str]) -> bool:
    if match.group(0).rstrip(_CLOSERS) != ".":
        return True  # ! ? … and ... end a sentence
    before = line[: match.start()]
    after = line[match.end() :].lstrip()
    if before[-1:].isdigit() and after[:1].isdigit():
        return False  # 2022. 8. 22 / 1. 2. 3.
    if _DATE_BEFORE.search(before):
        return False  # the period after 2022. 8. 22.
    word = _WORD_BEFORE.search(before)
    # Mr. / e.g. / J. K. Rowling
    return not (word and (word.group(1).lower() in ABBREVIATIONS or len(word.group(1)) == 1))


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _TERMINATOR.finditer(line):
        if _is_boundary(line, match):
            pieces.append(line[start : match.end()].strip())
            start = match.end()
    pieces.append(line[start:].strip())
    return [piece for piece in pieces if piece]


def _split_long(sentence: str, cap: int = MAX_SENTENCE_CHARS) -> list[str]:
    """Cut a sentence longer than `cap` after its last comma (else space) in the first `cap` chars."""
    pieces: list[str] = []
    while len(sentence) > cap:
        window = sentence[: cap + 1]
        cut = 0
        for pattern in (r"[,;:]\s", r"\s"):
            ends = [m.end() for m in re.finditer(pattern, window) if m.end() >= cap // 3]
            if ends:
                cut = ends[-1]
                break
        if cut == 0:
            cut = cap
        pieces.append(sentence[:cut].strip())
        sentence = sentence[cut:].strip()
    pieces.append(sentence)
    return [piece for piece in pieces if piece]


def split_sentences(text: str) -> list[str]:
    """Cleaned sentences, each with its end punctuation; newlines always end one; no empty ones.

    A sentence ends at . ! ? … (also 。？！, made ASCII by cleaning) followed by a space or the end,
    except inside dates (2022. 8. 22.), numbered items and Latin abbreviations (Mr., e.g.). Korean
    sentences written without punctuation cannot be told apart reliably; MAX_SENTENCE_CHARS bounds them.
    """
    sentences: list[str] = []
    for line in _clean(text).split("\n"):
        for sentence in _split_line(line):
            sentences.extend(_split_long(sentence))
    return [s for s in sentences if any(ch.isalnum() for ch in s)]


# ---------------------------------------------------------------------------------------------------
# Expansion helpers.

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_N = rf"(?<![\d.,])(?:{_NUM})(?![\d])"  # a whole number token, not the tail of a longer one
_HANGUL = re.compile("[가-힣]")


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first (개월 before 개)."""
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


def _read_sino(number: str) -> str:
    """A written number in Sino-Korean: 15,000 → 만 오천, 3.14 → 삼 점 일사, 007 → 공공칠."""
    number = number.replace(",", "")
    if "." in number:
        whole, fraction = number.split(".", 1)
        return kn.decimal(whole, fraction)
    if len(number) > 20:
        return kn.digits(number, zero="영")
    if len(number) > 1 and number.startswith("0"):
        return kn.digits(number, zero="공")
    return kn.sino(int(number))


def _plain_int(number: str) -> int | None:
    """The value of a number written without decimals or leading zeros, else None."""
    if "." in number or (len(number) > 1 and number.startswith("0")) or len(number) > 20:
        return None
    return int(number.replace(",", ""))


def _read_counted(number: str, counter: str) -> str:
    """A number before a counter, native or Sino-Korean as the counter requires: 3개 → 세 개."""
    value = _plain_int(number)
    if counter == "월" and value is not None:
        return kn.month(value)
    native = counter in NATIVE_COUNTERS
    if counter == "시" and value is not None and not 1 <= value <= 12:
        native = False  # 24-hour clock: 13시 → 십삼 시
    if counter == "대" and value is not None and value % 10 == 0:
        native = False  # age groups: 20대 → 이십 대 (차 3대 → 세 대)
    if native and value is not None and 1 <= value <= 99:
        return f"{kn.native(value)} {counter}"
    return f"{_read_sino(number)} {counter}"


def _spell(letters: str) -> str:
    return "".join(LETTER_NAMES.get(ch, "") for ch in letters.upper())


def _english(token: str) -> str:
    """An English word or acronym in Hangul: table, letter names for capitals, CMU, spelling."""
    if token in CAPS_WORDS:
        return CAPS_WORDS[token]
    lower = token.lower()
    letters = re.sub(r"[^A-Za-z]", "", token)
    if letters.isupper():  # KTX, USB, A (but K-POP is in the table)
        return LOANWORDS[lower] if "-" in token and lower in LOANWORDS else _spell(letters)
    if lower in LOANWORDS:
        return LOANWORDS[lower]
    if "-" in token:
        return " ".join(_english(part) for part in token.split("-") if part)
    if len(letters) == 1:
        return LETTER_NAMES[letters.upper()]
    from forv_tts.g2p import transliterate_english

    try:
        return transliterate_english(token) or _spell(letters)
    except ForvError as exc:  # g2pk cannot load: spell the word rather than fail here
        _log.warning("spelling %r letter by letter: %s", token, exc)
        return _spell(letters)


def _alnum(match: re.Match[str]) -> str:
    """Names mixing letters and digits, read the English way: MP3 → 엠피쓰리, 5G → 파이브지."""
    out: list[str] = []
    for run in re.findall(r"[A-Za-z]+|\d+", match.group(0)):
        if run.isdigit():
            out.append(kn.english_digits(run) if len(run) == 1 else _read_sino(run))
        else:
            out.append(_english(run))
    return "".join(out)


_mecab_tagger: Any = None
_mecab_lock = threading.Lock()


def _hanja_reading(run: str) -> str:
    """Hanja in Hangul from mecab-ko-dic's readings (韓國語 → 한국어); unknown characters are dropped.

    python-mecab-ko (which g2pk requires) ships mecab-ko-dic, whose Hanja entries carry their Hangul
    reading; no separate Hanja library is installed. Only per-word readings are used, so 두음법칙
    and polyphonic characters (金: 김/금) follow the dictionary's most common reading.
    """
    with _mecab_lock:
        try:
            return _hanja_reading_locked(run)
        except Exception as exc:  # a broken mecab install must not stop the rest of the text
            _log.warning("dropped Hanja %s: mecab is unavailable (%s)", run, exc)
            return ""


def _hanja_reading_locked(run: str) -> str:
    global _mecab_tagger
    if _mecab_tagger is None:
        _mecab_tagger = importlib.import_module("mecab").MeCab()

    def reading_of(chars: str) -> str | None:
        for morpheme in _mecab_tagger.parse(chars):
            reading = morpheme.feature.reading
            if morpheme.surface == chars and reading and re.fullmatch("[가-힣]+", reading):
                return str(reading) if len(reading) == len(chars) else None
        return None

    out: list[str] = []
    unknown: list[str] = []
    for morpheme in _mecab_tagger.parse(run):
        whole = reading_of(morpheme.surface)
        if whole is not None:
            out.append(whole)
            continue
        for ch in morpheme.surface:
            single = reading_of(ch)
            if single is None:
                unknown.append(ch)
            else:
                out.append(single)
    if unknown:
        _log.warning("dropped Hanja with no known reading: %s", "".join(unknown))
    return "".join(out)


def _compat_jamo(match: re.Match[str]) -> str:
    """Jamo written alone: ㅋㅋ → 크크, ㅇㅇ → 응응, ㄱ → 기역; vowel runs (ㅠㅠ) are dropped."""
    run = match.group(0)
    if run[0] <= "ㅎ":
        if len(run) == 1:
            return JAMO_NAMES.get(run, "")
        return "".join(JAMO_RUN_SYLLABLES.get(ch, "") for ch in run)
    if len(run) == 1:
        return chr(0xAC00 + 11 * 588 + (ord(run) - 0x314F) * 28)  # ㅏ → 아
    return " "


# ---------------------------------------------------------------------------------------------------
# Expansion rules, in the order they apply: specific patterns first, bare numbers and words last.

_COUNTER_ALT = _alternation(NATIVE_COUNTERS | SINO_COUNTERS)
_UNIT_ALT = _alternation(u for u in UNITS if len(u) > 1)
_SINGLE_UNIT_ALT = _alternation(u for u in UNITS if len(u) == 1)
_CURRENCY_ALT = _alternation(CURRENCY_SYMBOLS)
_BIG = "조|억|만|천|백"


def _phone(match: re.Match[str]) -> str:
    return " ".join(kn.digits(group, zero="공") for group in match.groups() if group)


def _date(match: re.Match[str]) -> str:
    year, month, day = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return match.group(0)
    end = "." if match.group(5) and not match.string[match.end() :].strip() else ""
    return f"{kn.sino(year)} 년 {kn.month(month)} {kn.sino(day)} 일{end}"


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3)) if match.group(3) else 0
    if hour > 24 or minute > 59 or second > 59:
        return f"{kn.sino(hour)} 대 {_read_sino(match.group(2))}"
    words = [_read_counted(str(hour), "시")]
    if minute:
        words.append(f"{kn.sino(minute)} 분")
    if second:
        words.append(f"{kn.sino(second)} 초")
    return " ".join(words)


def _interpunct(match: re.Match[str]) -> str:
    """Named dates like 3·1절 → 삼일절, 6·25 → 육이오, 5·18 → 오일팔, 12·12 → 십이십이."""
    out = []
    for part in re.split("·", match.group(0)):
        value = int(part)
        out.append(kn.digits(part) if value > 12 and value % 10 else kn.sino(value))
    return "".join(out)


def _currency(match: re.Match[str]) -> str:
    symbol, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4) or ""
    words = _read_sino(number) if not big else _read_big(number, big.strip())
    return f"{'마이너스 ' if sign else ''}{words} {CURRENCY_SYMBOLS[symbol]}"


def _read_big(number: str, unit: str) -> str:
    """3천 → 삼천, 5만 → 오만, 1만 → 만, 1억 → 일억, 1.5억 → 일 점 오억."""
    if number == "1" and unit in "천백만":
        return unit
    return _read_sino(number) + unit


def _unit(match: re.Match[str]) -> str:
    number = match.group(1)
    unit = match.group(2) or match.group(3)
    prefix = UNIT_PREFIXES.get(unit, "")
    return f"{prefix} {_read_sino(number)} {UNITS[unit]}".strip()


def _ordinal_th(match: re.Match[str]) -> str:
    value = _plain_int(match.group(1))
    words = kn.ordinal(value) if value is not None and value <= 99 else _read_sino(match.group(1))
    return f"{words} 번째"


def _equals(match: re.Match[str]) -> str:
    before = match.string[: match.start()].rstrip()[-1:]
    if not before or not "가" <= before <= "힣":
        return " "
    return "은 " if (ord(before) - 0xAC00) % 28 else "는 "


_ENGLISH_ORDINALS = (
    "",
    "퍼스트",
    "세컨드",
    "서드",
    "포스",
    "피프스",
    "식스스",
    "세븐스",
    "에잇스",
    "나인스",
    "텐스",
)


def _english_ordinal(match: re.Match[str]) -> str:
    value = _plain_int(match.group(1))
    if value is not None and 1 <= value <= 10:
        return _ENGLISH_ORDINALS[value]
    return _read_sino(match.group(1)) + " 번째"


_ORDINAL_JJAE = {1: "첫", 2: "둘", 3: "셋", 4: "넷"}


def _ordinal_jjae(match: re.Match[str]) -> str:
    value = _plain_int(match.group(1))
    if value is None or value > 99:
        return _read_sino(match.group(1)) + "째"
    return _ORDINAL_JJAE.get(value, kn.native(value)) + "째"


def _range(match: re.Match[str]) -> str:
    counter = match.group(3)
    return f"{_read_counted(match.group(1), counter)}에서 {_read_counted(match.group(2), counter)}"


def _counted(match: re.Match[str]) -> str:
    return _read_counted(match.group(1), match.group(2))


_SYMBOL_WORDS = {
    "&": " 앤드 ",
    "@": " 앳 ",
    "+": " 플러스 ",
    "×": " 곱하기 ",
    "÷": " 나누기 ",
    "%": " 퍼센트 ",
    "±": " 플러스마이너스 ",
    **{letter: f" {name} " for letter, name in GREEK_LETTERS.items()},
}
_PAUSES = {":": ",", ";": ","}
_SPACES = frozenset("#/·-_()[]{}<>「」『』《》〈〉|\\*^~`")

_RULES: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(r"\(주\)"), "주식회사 "),
    # Phone numbers, digit by digit with 0 as 공: 010-1234-5678, 02-123-4567, 1588-1234.
    (re.compile(r"(?<![\d-])(0\d{1,2})[-. ](\d{3,4})[-. ](\d{4})(?![\d-])"), _phone),
    (re.compile(r"(?<![\d-])(01[016789])(\d{3,4})(\d{4})(?!\d)"), _phone),
    (re.compile(r"(?<![\d-])(1[5-9]\d\d)-(\d{4})(?![\d-])"), _phone),
    # Dates: 2022-08-22, 2022.08.22, 2022. 8. 22., 2022/8/22.
    (re.compile(r"(?<![\d.])(\d{4})([-./])\s?(\d{1,2})\2\s?(\d{1,2})(\.?)(?!\d)"), _date),
    # Versions and addresses: 3.5.1 → 삼 점 오 점 일, 192.168.0.1.
    (
        re.compile(r"(?<![\d.,])\d+(?:\.\d+){2,}(?![\d])"),
        lambda m: " 점 ".join(
            kn.sino(int(part)) if len(part) < 20 else kn.digits(part) for part in m.group(0).split(".")
        ),
    ),
    # English ordinal suffixes: 1st → 퍼스트, 21st → 이십일 번째.
    (re.compile(r"(?<![\d.,])(\d+)(st|nd|rd|th)(?![A-Za-z\d])"), _english_ordinal),
    # Clock times 12:30(:15), then scores and ratios 3:2.
    (re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])"), _time),
    (
        re.compile(r"(?<![\d:.,])(\d+)\s?:\s?(\d+)(?![\d:])"),
        lambda m: f"{_read_sino(m.group(1))} 대 {_read_sino(m.group(2))}",
    ),
    (re.compile(r"(?<![\d.,·])\d{1,2}(?:·\d{1,2})+(?![\d·])"), _interpunct),
    # Fractions: 1/2, ½ (NFKC: 1⁄2), 3분의 1.
    (
        re.compile(r"(?<![\d.,/])(\d+)\s?[/⁄]\s?(\d+)(?![\d/])"),
        lambda m: f"{_read_sino(m.group(2))}분의 {_read_sino(m.group(1))}",
    ),
    (
        re.compile(rf"({_N})\s?분의\s?({_N})"),
        lambda m: f"{_read_sino(m.group(1))}분의 {_read_sino(m.group(2))}",
    ),
    # A minus sign (not a hyphen between words or numbers).
    (re.compile(r"(?<![\w.,)\]])-(?=\d)"), "마이너스 "),
    # Ranges: 3~5개 / 3-5개 → 세 개에서 다섯 개; 3~5kg, 3-5kg, 10시~오후 2시 → 3에서 5kg …
    (re.compile(rf"({_N})\s?[~-]\s?({_N})\s?({_COUNTER_ALT})"), _range),
    (
        re.compile(rf"({_N}\s?(?:{_UNIT_ALT}|{_SINGLE_UNIT_ALT}|{_COUNTER_ALT})?)\s?~\s?(?=\S)"),
        r"\1에서 ",
    ),
    (
        re.compile(
            rf"(?<![\d-])(\d{{1,3}})-(?=\d{{1,3}}\s?(?:{_UNIT_ALT}|{_SINGLE_UNIT_ALT})(?![A-Za-z\d]))"
        ),
        r"\1에서 ",
    ),
    # Money written with a symbol: ₩15,000, $3.5, US$100, $5만.
    (re.compile(rf"(?:US)?({_CURRENCY_ALT})\s?(-)?({_NUM})(\s?(?:{_BIG}))?"), _currency),
    # Number + unit symbol: 5km, 36.5°C, 100km/h, 50%, 84m2.
    (re.compile(rf"({_N})(?:\s?({_UNIT_ALT})|({_SINGLE_UNIT_ALT}))(?![A-Za-z\d])"), _unit),
    # 제1회 → 제일 회, 제3장 → 제삼 장.
    (re.compile(rf"(?<![가-힣])제\s?({_N})"), lambda m: f"제{_read_sino(m.group(1))} "),
    # Ordinals: 1번째 → 첫 번째, 2째 → 둘째.
    (re.compile(rf"({_N})\s?번\s?째"), _ordinal_th),
    (re.compile(rf"({_N})째"), _ordinal_jjae),
    # Names mixing letters and digits: MP3, A4, 5G, B2B.
    (
        re.compile(r"(?<![A-Za-z\d])(?=[A-Za-z\d]*[A-Za-z])(?=[A-Za-z\d]*\d)[A-Za-z\d]+(?![A-Za-z\d])"),
        _alnum,
    ),
    # 3천, 5만, 1억 2천만, 1.5억.
    (re.compile(rf"({_N})\s?({_BIG})"), lambda m: _read_big(m.group(1), m.group(2))),
    # Number + counter: 3개 → 세 개, 20세기 → 이십 세기, 6월 → 유월.
    (re.compile(rf"({_N})\s?({_COUNTER_ALT})"), _counted),
    # Any other number, Sino-Korean.
    (re.compile(_N), lambda m: _read_sino(m.group(0))),
    (re.compile(r"\d+"), lambda m: _read_sino(m.group(0))),
    # Web addresses and initials: https://www.naver.com → 더블유더블유더블유 닷 네이버 닷 컴; J. K.
    (re.compile(r"\b(?:https?|ftp)://"), ""),
    (re.compile(r"(?<=[A-Za-z\d])\.(?=[A-Za-z]{2,})"), " 닷 "),
    (re.compile(r"(?<![A-Za-z])([A-Z])\.(?=\s?[A-Z])"), r"\1"),
    # English words and acronyms.
    (re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*"), lambda m: _english(m.group(0))),
    # 1 더하기 1 = 2: "=" reads as the topic particle, 은 after a final consonant, else 는.
    (re.compile(r"\s*=\s*"), _equals),
]


def _symbols(text: str) -> str:
    out: list[str] = []
    dropped: list[str] = []
    for ch in text:
        if "가" <= ch <= "힣" or ch in " .,!?":
            out.append(ch)
        elif ch in _SYMBOL_WORDS:
            out.append(_SYMBOL_WORDS[ch])
        elif ch in _PAUSES:
            out.append(_PAUSES[ch])
        elif ch in _SPACES:
            out.append(" ")
        elif ch.isalnum():
            dropped.append(ch)
    if dropped:
        _log.warning("dropped characters that cannot be read: %s", "".join(dropped)[:80])
    return "".join(out)


def _tidy_punctuation(text: str) -> str:
    def collapse(match: re.Match[str]) -> str:
        run = match.group(0)
        for mark in "?!.":
            if mark in run:
                return mark
        return ","

    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([.,!?])", r"\1", text)
    text = re.sub(r"[.,!?]{2,}", collapse, text)
    text = re.sub(r"^[\s.,!?]+", "", text)
    text = re.sub(r"([.,!?])(?=[가-힣])", r"\1 ", text)
    text = re.sub(r",$", "", text)
    return text.strip()


def expand(text: str) -> str:
    """One sentence → Hangul words and . , ! ? only, ready for g2pk (numbers, units, English …).

    Never raises on odd input: what cannot be read is dropped (letters of other scripts with a
    warning). Loads mecab only for Hanja, g2pk and the CMU dictionary only for an English word its
    table does not know.
    """
    text = _clean(text).replace("\n", " ")
    hanja = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
    if hanja.search(text):
        text = hanja.sub(lambda m: _hanja_reading(m.group(0)), text)
    text = re.sub(r"([ㄱ-ㅎ]+)|[ㅏ-ㅣ]+", _compat_jamo, text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return _tidy_punctuation(_symbols(text))


# ---------------------------------------------------------------------------------------------------
# The pipeline.


def _pronounced(expanded: str) -> str:
    from forv_tts.g2p import pronounce

    spoken = pronounce(expanded)
    # g2pk keeps our character set; anything else would be a g2pk surprise the voice cannot read.
    return _tidy_punctuation(re.sub(r"[^가-힣 .,!?]", "", spoken))


def normalize_stages(text: str) -> list[dict[str, str]]:
    """Per speakable sentence: {"sentence", "expanded", "pronounced"} (for `normalize --json`)."""
    stages: list[dict[str, str]] = []
    for sentence in split_sentences(text):
        expanded = expand(sentence)
        if not _HANGUL.search(expanded):
            continue
        stages.append({"sentence": sentence, "expanded": expanded, "pronounced": _pronounced(expanded)})
    return stages


def normalize(text: str, *, g2p: bool = True) -> list[str]:
    """Exactly the strings handed to the voice, one per sentence; [] if nothing is speakable.

    With g2p=False the expanded spelling is returned instead of g2pk's pronunciation.
    """
    out: list[str] = []
    for sentence in split_sentences(text):
        expanded = expand(sentence)
        if not _HANGUL.search(expanded):
            continue
        out.append(_pronounced(expanded) if g2p else expanded)
    return out

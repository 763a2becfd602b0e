"""Expansion: one sentence → Hangul words and . , ! ? only, the way a careful announcer reads it.

g2pk knows the sound changes of Korean (같이 → 가치, 국물 → 궁물) but reads what it does not know
badly: digits one by one (20세기 → 이영세기), English through a set-ordered pass, symbols not at all.
So every number, unit, date, code, address and English word is written out here first, and g2pk
(`forv_tts.text.g2p.pronounce`) only ever sees Hangul and . , ! ?.

How it works: the rules run in the order of `ORDER` (at the end of this file) over the sentence; each
rewrite is replaced by one private-use placeholder character that no later rule can match inside, and
recorded (rule name, the written span, the reading) for `explain`. After the last rule the particle
after each rewrite is made to agree with its reading (`particles`), then the placeholders are filled
in. Specific patterns come first (lexicon, addresses, phone numbers, dates, times), then fractions,
money, ranges and units, then counters and bare numbers, then words.

How to read this file: one section per kind of thing read (addresses, phone numbers, dates …). In each,
a rule is its reading function with the `@rule` above it that gives its pattern and `needs`: a cheap
necessary condition (a rule whose `needs` finds nothing in the sentence cannot match and is skipped;
most sentences have no digit and no Latin letter). Patterns are compiled on a rule's first use, so
importing this module compiles almost nothing. The numerals themselves (cardinals, native numbers,
counters, amounts, fractions, ordinals, digit by digit) are in `numbers.py`; word lists in `tables.py`.

Conventions written down once (tested in tests/text/):

- Digit strings that identify rather than count (telephone, card, account and serial numbers; a
  number after 번호/코드/비밀번호/끝자리) are read digit by digit with 0 as 공, groups separated by a
  pause, a country code announced as 국가번호: +82 10-1234-5678 → 국가번호 팔이 일공 일이삼사 오육칠팔.
- Numeric dates are Y/M/D when the first field has four digits; else M/D/Y, except D/M/Y when the
  first field cannot be a month (31/01/1999). A bare a/b is a **date** only when context says so: a
  weekday in parentheses or a clock time follows, a date word is near (마감, 일정, 오늘, 까지, 부터 …),
  or it is one side of a range with another a/b; otherwise it is a **fraction** (3/4 → 사분의 삼).
- Ranges (~ 〜 ～ – and - between numbers) are read A에서 B, each side with its own counter or unit:
  3~5개 → 세 개에서 다섯 개, 1990~2000년대 → 천구백구십 년대에서 이천 년대.
- Unit symbols take Sino-Korean numerals (5km → 오 킬로미터); per-units are read with 당 before the
  amount (5L/min → 분당 오 리터), km/h and m/s with 시속/초속.
- 시간 (and h) takes native numerals up to 20 (세 시간, 스무 시간) and Sino-Korean above
  (이십사 시간, 칠십이 시간), as news readers say it.

- Issue 27's rules (service and lot numbers, named dates, offers, scores, 영하, chat, cents, rates,
  hour ranges, arrows) and the ambiguous forms they decide are listed in docs/normalization.md.

Never raises on odd input: what cannot be read is dropped (letters of other scripts with a warning).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from forv_tts.text import english, hanja, particles
from forv_tts.text import numbers as kn
from forv_tts.text.cleaning import clean
from forv_tts.text.tables import (
    CHAT_INITIALISMS,
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    FILE_EXTENSIONS,
    GREEK_LETTERS,
    JAMO_NAMES,
    JAMO_RUN_SYLLABLES,
    LAUGHTER,
    LOWERCASE_CURRENCY_CODES,
    NATIVE_COUNTERS,
    PER_UNITS,
    PLACE_SUFFIXES,
    PLACES,
    RATE_PER,
    SERVICE_NUMBERS,
    SINO_COUNTERS,
    TOP_LEVEL_DOMAINS,
    UNITS,
    WEEKDAYS,
)

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

_log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------------
# The rewrite record and the placeholder machinery.

_PH_BASE = 0xF0000  # Supplementary Private Use Area-A: cleaning removes these from any input
_PH = "[\U000f0000-\U000ffffd]"
_PH_RE = re.compile(_PH)
_ADJACENT = re.compile(f"({_PH})(?={_PH})")


@dataclass(frozen=True)
class Rewrite:
    """One rewrite: the written span (in the cleaned sentence), the rule's name and the reading."""

    rule: str
    span: str
    reading: str
    start: int = -1
    end: int = -1

    def as_dict(self) -> dict[str, object]:
        return {
            "span": self.span,
            "start": self.start,
            "end": self.end,
            "rule": self.rule,
            "reading": self.reading,
        }


@dataclass
class _Expansion:
    """The placeholders handed out while one sentence is expanded."""

    rules: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    readings: list[str] = field(default_factory=list)

    def emit(self, rule: str, source: str, reading: str) -> str:
        index = len(self.readings)
        self.rules.append(rule)
        self.sources.append(source)
        self.readings.append(reading)
        return chr(_PH_BASE + index)

    def index(self, ch: str) -> int:
        return ord(ch) - _PH_BASE

    def source(self, text: str) -> str:
        """The written text behind `text` (placeholders resolved to what they replaced)."""
        return _PH_RE.sub(lambda m: self.source(self.sources[self.index(m.group(0))]), text)

    def fill(self, text: str) -> str:
        text = _ADJACENT.sub(r"\1 ", text)  # 9월3일 → 구월 삼 일: two rewrites are two words
        # A reading may hold other rewrites (서울→부산 around its two sides): filled in turn.
        return _PH_RE.sub(lambda m: self.fill(self.readings[self.index(m.group(0))]), text)

    def spoken_before(self, text: str) -> str:
        """The last spoken character of `text` (a placeholder counts as its reading)."""
        for ch in reversed(text):
            if ch.isspace():
                continue
            if _PH_RE.fullmatch(ch):
                reading = self.readings[self.index(ch)].rstrip()
                return reading[-1:] or ""
            return ch
        return ""


_Callback = Callable[[re.Match[str], _Expansion], str]
_Reading = Callable[[re.Match[str]], str | tuple[str, str] | None]


class LazyPattern:
    """A regular expression compiled on first use (importing this module then compiles nothing).

    For the context patterns the readings consult (date words, score words …): most sentences never
    reach the reading that needs one.
    """

    __slots__ = ("_compiled", "flags", "source")

    def __init__(self, source: str, flags: int = 0) -> None:
        self.source = source
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled.match(text, pos)

    def search(self, text: str) -> re.Match[str] | None:
        return self.compiled.search(text)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self.compiled.sub(repl, text)


class Rule:
    """One reading rule: its pattern, what the sentence must hold for it to be tried, its reading.

    `key` names it in `ORDER`; the rule name `explain` shows is the key up to its first ":"
    ("phone: international" is a `phone` rewrite). `needs` (a regular expression, or None for
    "always") must find something wherever the rule would rewrite anything: a necessary condition,
    never a guess, so skipping a rule whose `needs` finds nothing changes no output (mostly it is
    what `source` cannot match without; a few say what the reading needs, e.g. the decimal point
    of "currency: decimal before a name"). bench/text_identity.py --check-triggers tests it.
    """

    __slots__ = ("_literal", "_pattern", "_trigger", "callback", "flags", "key", "name", "needs", "source")

    def __init__(self, key: str, source: str, callback: _Callback, needs: str | None, flags: int) -> None:
        self.key = key
        self.name = key.partition(":")[0]
        self.source = source
        self.callback = callback
        self.needs = needs
        self.flags = flags
        self._pattern: re.Pattern[str] | None = None
        self._trigger: re.Pattern[str] | None = None
        # A plain string (분기, 24/7, →) is looked for with `in`: nothing to compile, faster to test.
        self._literal = needs if needs is not None and re.escape(needs) == needs else None

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            self._pattern = re.compile(self.source, self.flags)
        return self._pattern

    def applies(self, text: str) -> bool:
        """Whether the rule can match `text` at all (its `needs` finds something)."""
        if self.needs is None:
            return True
        if self._literal is not None:
            return self._literal in text
        if self._trigger is None:
            self._trigger = re.compile(self.needs)
        return self._trigger.search(text) is not None

    def apply(self, text: str, ex: _Expansion) -> str:
        callback = self.callback
        return self.pattern.sub(lambda m: callback(m, ex), text)

    def __repr__(self) -> str:
        return f"Rule({self.key!r})"


_REGISTRY: dict[str, Rule] = {}


def _register(key: str) -> None:
    if key in _REGISTRY:
        raise RuntimeError(f"two rules are registered as {key!r}")


def _whole(rule: str, read: _Reading) -> _Callback:
    """A callback that replaces the whole match by its reading (or leaves it if `read` declines).

    `read` may name a different rule for one match by returning (rule, reading).
    """

    def callback(match: re.Match[str], ex: _Expansion) -> str:
        reading = read(match)
        if reading is None:
            return match.group(0)
        if isinstance(reading, tuple):
            return ex.emit(reading[0], match.group(0), reading[1])
        return ex.emit(rule, match.group(0), reading)

    return callback


def rule(key: str, source: str, *, needs: str | None, flags: int = 0) -> Callable[[_Reading], _Reading]:
    """Register the decorated function as the reading of `source` (see `Rule`).

    The function gets the match and returns the reading of the whole match, None to leave it as
    written, or (rule name, reading) to record it under another name. Stack several for one reading.
    """

    def register(read: _Reading) -> _Reading:
        _register(key)
        _REGISTRY[key] = Rule(key, source, _whole(key.partition(":")[0], read), needs, flags)
        return read

    return register


def raw_rule(key: str, source: str, *, needs: str | None) -> Callable[[_Callback], _Callback]:
    """Like `rule`, for a callback that gets the expansion and returns the replacement text itself."""

    def register(callback: _Callback) -> _Callback:
        _register(key)
        _REGISTRY[key] = Rule(key, source, callback, needs, 0)
        return callback

    return register


# ---------------------------------------------------------------------------------------------------
# Pattern pieces shared by the rules.


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first (개월 before 개)."""
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


def _first_chars(words: Iterable[str]) -> str:
    """A character class of the words' first characters: what a `needs` looks for before an
    alternation of them."""
    return "[" + "".join(re.escape(ch) for ch in sorted({w[0] for w in words})) + "]"


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_N = rf"(?<![\d.,])(?:{_NUM})(?![\d])"  # a whole number token, not the tail of a longer one
_SIGN = r"(?:(?<![\w.,)\]%" + "\U000f0000-\U000ffffd" + r"])-)"  # a minus sign, not a hyphen
_HANGUL = re.compile("[가-힣]")

_COUNTERS = NATIVE_COUNTERS | SINO_COUNTERS
_COUNTER_ALT = _alternation(_COUNTERS)
_UNIT_ALT = _alternation(u for u in UNITS if len(u) > 1)
_SINGLE_UNIT_ALT = _alternation(u for u in UNITS if len(u) == 1)
_ANY_UNIT = rf"(?:(?:{_UNIT_ALT})|(?:{_SINGLE_UNIT_ALT}))(?![A-Za-z\d])"
_QUANTITY = rf"(?:{_ANY_UNIT}|{_COUNTER_ALT})"
_PER_ALT = _alternation(PER_UNITS)
_CURRENCY_ALT = _alternation(CURRENCY_SYMBOLS)
_CODES = [*CURRENCY_CODES, *LOWERCASE_CURRENCY_CODES]
_CODE_ALT = _alternation(_CODES)
_BIG = "조|억|만|천|백"
_LATIN_BIG = r"(?:thousand|million|billion|trillion|bn|[kKmMB])(?![A-Za-z])"
_WEEKDAY = "[월화수목금토일]"
_RANGE_SEP = "[~〜～]"
_RATE_ALT = _alternation(RATE_PER)
_HALF_DAY = "오전|오후|새벽|아침|낮|저녁|밤"
_PARTICLE_ALT = "은|는|이|가|을|를|의|에|에서|로|으로|와|과|도|만|나|이나|부터|까지|이다|입니다|이에요|예요"
_WORD_END = LazyPattern(rf"(?:{_PARTICLE_ALT})?(?=$|[\s.,!?)\]'\"])")


def _read_digits(match: re.Match[str]) -> str:
    """The whole match digit by digit, 0 as 공, groups separated by a pause (phones, cards, codes)."""
    return kn.digit_groups(match.group(0))


# ---------------------------------------------------------------------------------------------------
# Companies and addresses: (주), e-mail, URLs, bare domains, file names.


@rule("company", r"\(주\)", needs=None)
def _company(match: re.Match[str]) -> str:
    return "주식회사 "


@rule("email", r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", needs="@")
def _email(match: re.Match[str]) -> str:
    return english.email(match.group(0))


@rule(
    "url",
    r"(?:\b(?:https?|ftp)://|\bwww\.)[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~%/?#=&+-]*)?(?<![.,!?])",
    flags=re.IGNORECASE,
    needs=r"(?i)://|www\.",
)
@rule(
    "domain",
    rf"(?<![\w@.])[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.(?:{_alternation(TOP_LEVEL_DOMAINS)})(?![A-Za-z0-9])"
    r"(?:/[A-Za-z0-9._~%/?#=&+-]*)?(?<![.,!?])",
    needs=rf"\.{_first_chars(TOP_LEVEL_DOMAINS)}",
)
def _url(match: re.Match[str]) -> str:
    return english.url(match.group(0))


@rule(
    "file name",
    rf"(?<![\w.])([\w가-힣][\w가-힣-]*)((?:\.(?:{_alternation(FILE_EXTENSIONS)}))+)(?![A-Za-z0-9])",
    flags=re.IGNORECASE,
    needs=r"\.\w",  # not the extensions' letters: under IGNORECASE other letters fold to them
)
def _file_name(match: re.Match[str]) -> str:
    return english.file_name(match.group(1), match.group(2))


# ---------------------------------------------------------------------------------------------------
# Telephone numbers, digit by digit with 0 as 공; a country code is announced.


@rule(
    "phone: international",
    r"(?<![\w+])(?:\(\s?)?\+\s?(\d{1,3})(?:\s?\))?((?:\s?\(0\))?(?:[\s.-]?\(?\d{1,5}\)?){1,5})(?![\d])",
    needs=r"\+\s?\d",
)
def _phone_international(match: re.Match[str]) -> str | None:
    country = match.group(1)
    groups = re.findall(r"\d+", re.sub(r"\(0\)", "", match.group(2)))
    if sum(len(g) for g in groups) < 6:
        return None
    return f"국가번호 {kn.digits(country, zero='공')} " + " ".join(kn.digits(g, zero="공") for g in groups)


# (02) 987-6543, 031-123-4567, 777.123.4567, 1588-1234.
rule(
    "phone: area code in parentheses",
    r"(?<![\d)])(?:\(0?\d{1,3}|(?<![\d(])0\d{1,3})\)\s?[-.]?\s?\d{3,4}[-. ]\d{4}(?![\d-])",
    needs=r"\d\)",
)(_read_digits)
rule(
    "phone: area code",
    r"(?<![\d.-])0\d{1,3}([-. ])\d{3,4}\1\d{4}(?![\d-]|\.\d)",
    needs=r"\d{3}[-. ]\d{4}",
)(_read_digits)
rule(
    "phone: north american",
    r"(?<![\d.-])(?:1[-. ])?\d{3}([-.])\d{3}\1\d{4}(?![\d-]|\.\d)",
    needs=r"\d{3}[-.]\d{4}",
)(_read_digits)
rule(
    "phone: 1588",
    r"(?<![\d.,-])1[568]\d\d[-. ]\d{4}(?![\d-]|\.\d)",
    needs=r"\d{4}[-. ]\d{4}",
)(_read_digits)


@rule("phone: mobile without hyphens", r"(?<![\d-])(01[016789])(\d{3,4})(\d{4})(?!\d)", needs=r"01\d{8}")
def _mobile(match: re.Match[str]) -> str:
    return " ".join(kn.digit_groups(g) for g in match.groups())


@rule(
    "phone: local",
    rf"(?<![\d.,-])(\d{{3,4}})-(\d{{4}})(?![\d,-]|\.\d|\s?(?:{_QUANTITY}))",
    needs=r"\d{3}-\d{4}",
)
def _local_phone(match: re.Match[str]) -> str | None:
    first, second = match.group(1), match.group(2)
    if len(first) == 4 and 1000 <= int(first) < int(second) <= 2200:
        return None  # 1990-2000: years, a range
    return kn.digit_groups(match.group(0))


# Korean number plates: 12가 3456 → 일이 가 삼사오육.
@rule(
    "plate",
    r"(?<![\d.,])(\d{2,3})\s?([가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호])"
    r"\s?(\d{4})(?![\d,.])",
    needs=r"\d{4}",
)
def _plate(match: re.Match[str]) -> str:
    return f"{kn.digit_groups(match.group(1))} {match.group(2)} {kn.digit_groups(match.group(3))}"


# ---------------------------------------------------------------------------------------------------
# Card, account and other grouped numbers, and numbers that name rather than count: digit by digit.

rule(
    "digits: card",
    r"(?<![\d.,-])\d{4}([- ])\d{4}\1\d{4}\1\d{2,4}(?![\d-])",
    needs=r"\d{4}[- ]\d{4}",
)(_read_digits)
rule("digits: groups", r"(?<![\d.,-])\d+(?:-\d+){2,}(?![\d-])", needs=r"\d-\d+-\d")(_read_digits)
rule("digits: 로 끝나는", r"(?<![\d.,-])\d{3,4}(?=(?:로|으로)\s?끝나)", needs="끝나")(_read_digits)


# 비밀번호 0415, 끝자리 1234, 뒤 4자리는 5678; 국번 없이 112.
@raw_rule(
    "digits: after a key word",
    r"((?:[가-힣]*번호|코드|PIN|OTP|비번|암호|학번|사번|군번|"
    r"(?i:last|first|final)\s(?:\d|one|two|three|four|five|six)\s?digits?(?:\s(?:are|is))?|"
    r"(?:끝|뒷|뒤|앞|마지막)(?:의|쪽)?\s?(?:\d{1,2}\s?|[한두세네다섯여섯일곱여덟아홉열]{1,2}\s)?자리)"
    r"(?:\s?\d{1,2}\s?자리)?(?:는|은|가|이|를|을|도|만|의)?\s?[:：]?\s?[\[(「'\"]?)"
    rf"(\d{{2,}}(?:[ -]\d{{2,}})*)(?![\d,.]|\s?(?:번|개|명|회|차|위|{_ANY_UNIT}))",
    needs=r"번호|코드|PIN|OTP|비번|암호|학번|사번|군번|(?i:last|first|final)|자리",
)
@raw_rule("digits: 국번 없이", r"((?:국번\s?없이\s?))(\d{3,4})(?!\d)", needs="국번")
def _digits_after_key(match: re.Match[str], ex: _Expansion) -> str:
    return match.group(1) + ex.emit("digits", match.group(2), kn.digit_groups(match.group(2)))


# ---------------------------------------------------------------------------------------------------
# Service numbers: 119 구급차, 화재 시 119, 경찰(112) → 일일구, 일일이 (a count stays a count).

rule(
    "service number: before a call word",
    r"(?<![\d.,])1\d{2,3}(?=(?:에|로|으로|번)?\s?(?:신고|전화|문의|연락|상담))",
    needs="신고|전화|문의|연락|상담",
)(_read_digits)

_SERVICE_AFTER = LazyPattern(
    r"[)\]]?번?(?:에|로|으로|을|를|이나|나|은|는|이|가|도|만)?\s?"
    r"(?:신고|전화|문의|연락|상담|안내|출동|호출|구조|구급|상황실|안전센터|콜센터|센터|번호|"
    r"불러|부르|누르|눌러|걸어|걸면|걸었|걸고|연결|긴급)"
)
_SERVICE_BEFORE = LazyPattern(
    r"(?:경찰|소방|구급|응급|긴급|화재|사고|신고|범죄|실종|위급|재난|구조|콜센터|민원|상담|안내|전화|연락|"
    r"국번)[가-힣]*\s?(?:[가-힣]+\s?){0,2}[:：]?\s?[(\[]?$"
)


@rule(
    "service number: known",
    rf"(?<![\d.,:/-])(?:{_alternation(SERVICE_NUMBERS)})(?![\d]|[.,:/-]\d)",
    needs=r"1[1-3]\d|182",
)
def _service_number(match: re.Match[str]) -> str | None:
    """119 is 일일구 where the words around it say it is a number to call; else a number (백십구)."""
    after = match.string[match.end() :]
    if _SERVICE_AFTER.match(after):
        return kn.digit_groups(match.group(0))
    if _SERVICE_BEFORE.search(match.string[: match.start()]) and _WORD_END.match(after):
        return kn.digit_groups(match.group(0))
    return None


# ---------------------------------------------------------------------------------------------------
# Lot, building and unit numbers: the hyphen is 다시 (123-45번지, 산 12-3, 테헤란로 152-1, 101-1203호).


@rule("lot number: 번지", r"(?<![\d.,-])(산\s?)?(\d{1,5})-(\d{1,5})\s?번지", needs=r"\d-\d")
@rule("lot number: 산", r"(?<![가-힣\d.,-])(산)\s?(\d{1,5})-(\d{1,5})(?![\d-])", needs=r"\d-\d")
def _lot(match: re.Match[str]) -> str:
    mountain = "산 " if match.group(1) else ""
    lot = " 번지" if match.group(0).endswith("번지") else ""
    return f"{mountain}{kn.read_sino(match.group(2))} 다시 {kn.read_sino(match.group(3))}{lot}"


_LOT_BEFORE = LazyPattern(
    r"(?:[가-힣](?<![으에])로|[가-힣]길|[가-힣](?:시|구|군|읍|면)\s[가-힣]+(?:동|리|가))\s?$"
)


@rule(
    "lot number: road",
    rf"(?<![\d.,-])()(\d{{1,5}})-(\d{{1,5}})(?![\d-]|\.\d|\s?(?:{_QUANTITY}))",
    needs=r"\d-\d",
)
def _road_lot(match: re.Match[str]) -> str | None:
    if not _LOT_BEFORE.search(match.string[: match.start()]):
        return None
    return f"{kn.read_sino(match.group(2))} 다시 {kn.read_sino(match.group(3))}"


_HOME_WORDS = LazyPattern(r"(?:아파트|빌라|오피스텔|맨션|주소|빌딩|타워|[가-힣]동|[가-힣]로|[가-힣]길)\s?$")


@rule("lot number: building and unit", r"(?<![\d.,-])(\d{1,4})-(\d{1,4})\s?호(?!선)", needs=r"\d-\d")
def _unit_number(match: re.Match[str]) -> str | None:
    """101-1203호 is building 101, unit 1203 (다시); 301-305호 is a range of rooms unless an address
    word comes before it."""
    left, right = match.group(1), match.group(2)
    address = (
        int(left) >= int(right)
        or (len(right) > len(left) and len(right) >= 3)
        or _HOME_WORDS.search(match.string[: match.start()])
    )
    if not address:
        return None
    return f"{kn.read_sino(left)} 다시 {kn.read_sino(right)} 호"


# Street blocks: 종로3가 → 종로 삼가 (not the particle 가).
@rule("address", r"(?<=[가-힣])(\d{1,2})가(?![가-힣])", needs=r"\d가")
def _street_block(match: re.Match[str]) -> str:
    return f"{kn.read_sino(match.group(1))}가"


# ---------------------------------------------------------------------------------------------------
# Seasons and fiscal years: 2019-2020 시즌 → 이천십구 이천이십 시즌 (one season, not a range).


@rule(
    "season",
    r"(?<![\d.,/-])(\d{4}|\d{2})\s?[-/~]\s?(\d{4}|\d{2})(?=\s?(?:시즌|회계연도|학년도|절기|연도))",
    needs="시즌|학년도|회계연도|연도|절기",
)
def _season(match: re.Match[str]) -> str | None:
    first, second = match.group(1), match.group(2)
    if int(second) % 100 != (int(first) + 1) % 100:
        return None
    return f"{kn.sino(int(first))} {kn.sino(int(second))}"


# ---------------------------------------------------------------------------------------------------
# Codes starting with letters, joined by hyphens: SN-4K2J-9X7P, SM-G991N, COVID-19 (digits one by one).


def _code_part(part: str) -> str:
    """One part of a hyphenated code: GPT-4 → 포 (one digit, English), COVID-19 → 일구."""
    if part.isdigit():
        return kn.english_digits(part) if len(part) == 1 else kn.digit_groups(part)
    return english.alnum(part)


@rule(
    "code",
    r"(?<![A-Za-z\d-])(?=[A-Za-z\d-]*\d)[A-Za-z][A-Za-z\d]*(?:-[A-Za-z\d]+)+(?![A-Za-z\d-])",
    needs=r"[A-Za-z][A-Za-z\d]*-",
)
def _code(match: re.Match[str]) -> str:
    return " ".join(_code_part(p) for p in match.group(0).split("-"))


# Names mixing letters and digits: MP3, A4, 5G, B2B, AB-1234.
@rule(
    "letters and digits",
    r"(?<![A-Za-z\d])(?=[A-Za-z\d-]*[A-Za-z])(?=[A-Za-z\d-]*\d)[A-Za-z\d]+(?:-[A-Za-z\d]+)*(?![A-Za-z\d])",
    needs="[A-Za-z]",
)
def _letters_and_digits(match: re.Match[str]) -> str:
    return " ".join(english.alnum(p) for p in match.group(0).split("-"))


# ---------------------------------------------------------------------------------------------------
# Scores and results: 3-1로 이겼다, 21:19 (before the rules that read a hyphen or a colon), 2대1.

_RESULT_WORDS = (
    "이겼|이기|이긴|졌|패배|패했|패한|승리|꺾|비겼|비긴|무승부|스코어|역전|완승|완패|대승|대패|대파|신승|석패|"
    "앞서|앞선|뒤지|뒤진|뒤졌|리드|동점|점차|골차|득점|실점|승부|격파|제압|눌렀|물리|무릎"
)
_SCORE_CONTEXT = LazyPattern(
    _RESULT_WORDS + "|경기(?!도)|결승|전반|후반|연장|세트|이닝|쿼터|라운드|점수|대회|리그|시즌"
)
_RESULT_CONTEXT = LazyPattern(_RESULT_WORDS)
_CLOCK_CUE_BEFORE = LazyPattern(
    r"(?:오전|오후|새벽|아침|저녁|밤|낮|정오|시각|시간|시작|킥오프)\s?(?:은|는|이|가)?\s?$"
)
_CLOCK_CUE_AFTER = LazyPattern(r"\s?(?:에\s?(?:시작|열|킥오프|개막|개최|출발|도착)|부터|까지|경|쯤|분|시)")
_RESULT_AFTER = LazyPattern(rf"(?:로|으로|의|에서)?\s?(?:[가-힣]+\s)?(?:{_RESULT_WORDS})")
_SCORE_BEFORE = LazyPattern(r"(?:스코어|점수|세트|결과|최종|전적)\s?(?:는|은|가|이|로)?\s?[:：]?\s?$")


@rule(
    "score: hyphen or colon",
    rf"(?<![\d.,:/-])(\d{{1,3}})\s?[-:]\s?(\d{{1,3}})(?![\d:-]|[.,]\d|\s?(?:{_QUANTITY}))",
    needs=r"\d\s?[-:]\s?\d",
)
def _score(match: re.Match[str]) -> str | None:
    """3-1 and 21:19 in a sentence about a result are a score (삼 대 일); 19:30에 시작 stays a time.

    A colon between numbers that can be a clock time (3:30) is a score only right before the result
    (15:13으로 역전승) or after 스코어/점수/세트; elsewhere in a sentence about a game it is the time.
    """
    text = match.string
    before, after = text[: match.start()], text[match.end() :]
    hours, minutes = match.group(1), match.group(2)
    if ":" in match.group(0):
        clock = len(minutes) == 2 and int(hours) <= 24 and int(minutes) <= 59
        if clock and not (_RESULT_AFTER.match(after) or _SCORE_BEFORE.search(before)):
            return None
        context = _RESULT_CONTEXT
    else:
        context = _SCORE_CONTEXT
    if not context.search(text) or _CLOCK_CUE_BEFORE.search(before) or _CLOCK_CUE_AFTER.match(after):
        return None
    return f"{kn.read_sino(hours)} 대 {kn.read_sino(minutes)}"


# 2대1, 3 대 0 → 이 대 일, 삼 대 영 (차 2대 stays 두 대).
@rule(
    "score: 대",
    rf"(?<![\d.,])(\d{{1,3}})\s?대\s?(\d{{1,3}})(?![\d.,]|\s?(?:대|[천만억조백]|{_QUANTITY}))",
    needs=r"\d\s?대\s?\d",
)
# Ratios 3:2 (after clock times).
@rule("ratio", r"(?<![\d:.,])(\d+)\s?:\s?(\d+)(?![\d:])", needs=r"\d\s?:\s?\d")
def _score_dae(match: re.Match[str]) -> str:
    return f"{kn.read_sino(match.group(1))} 대 {kn.read_sino(match.group(2))}"


# ---------------------------------------------------------------------------------------------------
# Dates: 2022-08-22, 2022.08.22, 2022. 8. 22., 2022/8/22, 23.04.09, 11/25/2023, 31/01/1999, Jan 5, 2024.


def _date_words(year: int | None, month: int, day: int, weekday: str | None) -> str | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    words = f"{kn.month(month)} {kn.sino(day)} 일"
    if year is not None:
        words = f"{kn.sino(year)} 년 {words}"
    if weekday:
        words += f" {WEEKDAYS[weekday]}"
    return words


def _end_dot(match: re.Match[str], group: int) -> str:
    """The period after 2022. 6. 10. ends the sentence only if nothing follows."""
    return "." if match.group(group) and not match.string[match.end() :].strip() else ""


@rule(
    "date: y-m-d",
    rf"(?<![\d.])(\d{{4}})([-./])\s?(\d{{1,2}})\2\s?(\d{{1,2}})(\.)?(?!\d)(?:\s?\(({_WEEKDAY})(?:요일)?\))?",
    needs=r"\d{4}[-./]",
)
def _date_ymd(match: re.Match[str]) -> str | None:
    words = _date_words(int(match.group(1)), int(match.group(3)), int(match.group(4)), match.group(6))
    return None if words is None else words + _end_dot(match, 5)


@rule(
    "date: yy.mm.dd",
    rf"(?<![\d.])(\d{{2}})\.(\d{{2}})\.(\d{{2}})(?![\d.])(?:\s?\(({_WEEKDAY})(?:요일)?\))?",
    needs=r"\d\.\d\d\.\d",
)
def _date_yy(match: re.Match[str]) -> str | None:
    return _date_words(int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4))


@rule(
    "date: m-d-y",
    rf"(?<![\d./-])(\d{{1,2}})([/.-])(\d{{1,2}})\2(\d{{4}})(?!\d)(?:\s?\(({_WEEKDAY})(?:요일)?\))?",
    needs=r"[/.-]\d{4}",
)
def _date_mdy(match: re.Match[str]) -> str | None:
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if first > 12 and second <= 12:
        first, second = second, first  # D/M/Y: the first field cannot be a month
    return _date_words(year, first, second, match.group(5))


@rule(
    "date: m.d (weekday)",
    rf"(?<![\d./])(\d{{1,2}})[./](\d{{1,2}})\.?\s?\(({_WEEKDAY})(?:요일)?\)",
    needs=r"\d[./]\d",
)
def _date_md_dotted(match: re.Match[str]) -> str | None:
    return _date_words(None, int(match.group(1)), int(match.group(2)), match.group(3))


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAME = (
    "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    "Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)
_MONTH_NEEDS = "(?i)" + "|".join(_MONTH_NAMES)  # every name starts with its three letters


def _english_date(year: str | None, month_name: str, day: str) -> str | None:
    month = _MONTH_NAMES.index(month_name[:3].lower()) + 1
    return _date_words(int(year) if year else None, month, int(day), None)


@rule(
    "date: english month first",
    rf"(?<![A-Za-z])({_MONTH_NAME})\.?\s(\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])(?:,?\s(\d{{4}}))?(?!\d)",
    flags=re.IGNORECASE,
    needs=_MONTH_NEEDS,
)
def _english_month_first(match: re.Match[str]) -> str | None:
    return _english_date(match.group(3), match.group(1), match.group(2))


@rule(
    "date: english day first",
    rf"(?<![\d.])(\d{{1,2}})(?:st|nd|rd|th)?\s({_MONTH_NAME})\.?,?\s(\d{{4}})(?!\d)",
    flags=re.IGNORECASE,
    needs=_MONTH_NEEDS,
)
def _english_day_first(match: re.Match[str]) -> str | None:
    return _english_date(match.group(3), match.group(2), match.group(1))


# Quarters: 3/4분기 → 삼 사분기 (the third quarter); 2024.3 → 이천이십사 년 삼월.
@rule("date: quarter", r"(?<![\d.,/])([1-4])\s?/\s?4\s?분기", needs="분기")
def _quarter(match: re.Match[str]) -> str:
    return f"{kn.sino(int(match.group(1)))} 사분기"


@rule(
    "date: year.month",
    rf"(?<![\d.,])((?:19|20)\d\d)\.(0?[1-9]|1[0-2])(?![\d.])(?!\s?(?:{_QUANTITY}))",
    needs=r"\d\.\d",
)
def _year_month(match: re.Match[str]) -> str:
    return f"{kn.sino(int(match.group(1)))} 년 {kn.month(int(match.group(2)))}"


# What makes a bare a/b a date (the module docstring's rule; read by the fraction rule).
_DATE_WORDS = (
    "날짜|일정|일시|마감|기한|기간|생일|오늘|내일|어제|모레|개강|개학|출시|발매|예정|접수|신청|시작|종료|"
    "개막|폐막|행사|공연|방송|휴일|휴무|연휴|예약|출발|도착|입국|출국|발표|시험|회의"
)
_DATE_AFTER = LazyPattern(
    rf"\s?(?:{_RANGE_SEP}|\(\s?{_WEEKDAY}|\d{{1,2}}:\d{{2}}|오전|오후|새벽|아침|저녁|밤|까지|부터|마감|일정|"
    r"예정|개강|개학|출시|발매|생일|에\s?(?:만나|출발|도착|시작|열리|개최|마감|예정|방송|공개|오픈)|일자|"
    r"[가-힣]*(?:날|데이|절)(?![가-힣]))"
)
_DATE_BEFORE = LazyPattern(rf"(?:{_DATE_WORDS})[은는이가을를의에도]?\s?[:：]?\s?$")


def _is_date_context(match: re.Match[str]) -> bool:
    """Whether a bare a/b is a date: see the module docstring for the rule."""
    before = match.string[: match.start()]
    after = match.string[match.end() :]
    if _DATE_AFTER.match(after):
        return True
    if _DATE_BEFORE.search(before):
        return True
    # The other side of a range: 3/4~3/8, 3/4 - 3/8.
    if re.search(rf"\d{{1,2}}/\d{{1,2}}\s?(?:{_RANGE_SEP}|-)\s?$", before):
        return True
    return bool(re.search(r"(?:오늘|내일|어제|모레|날짜|일정|마감|기한)\S*\s(?:\S+\s)?$", before))


# ---------------------------------------------------------------------------------------------------
# Named dates: 3·1절 → 삼일절, 6.25 전쟁 → 육이오 전쟁, 5/18 민주화운동, 4.19 당시 (not 3.14, not 평점 4.19).


def _named_date_words(month: int, day: int) -> str:
    """6·25 → 육이오, 9·11 → 구일일, 6·10 → 육십, 12·12 → 십이십이, 10·26 → 십이육."""
    if day < 10 or day % 10 == 0 or day == month:
        return kn.sino(month) + kn.sino(day)
    return kn.sino(month) + kn.digits(str(day))


@rule("named date: interpunct", r"(?<![\d.,·])\d{1,2}(?:·\d{1,2})+(?![\d·])", needs=r"\d·\d")
def _interpunct(match: re.Match[str]) -> str:
    """Named dates like 3·1절 → 삼일절, 6·25 → 육이오, 5·18 → 오일팔, 12·12 → 십이십이."""
    pair = re.fullmatch(r"(\d{1,2})·(\d{1,2})", match.group(0))
    if pair and 1 <= int(pair.group(1)) <= 12 and 1 <= int(pair.group(2)) <= 31:
        return _named_date_words(int(pair.group(1)), int(pair.group(2)))  # 9·11 → 구일일
    out = []
    for part in re.split("·", match.group(0)):
        value = int(part)
        out.append(kn.digits(part) if value > 12 and value % 10 else kn.sino(value))
    return "".join(out)


_NAMED_EVENT = LazyPattern(
    r"\s?(?:절|운동|전쟁|사변|동란|참전|발발|휴전|정전|혁명|민주|항쟁|의거|사태|사건|선언|정신|기념|묘지|묘역|참사|"
    r"테러|공동|선거|대첩|만세|"
    r"유공자|광복|세월호|특별법|희생자|유족|진상|계엄|쿠데타|정변)"
)
# The ones so well known that they are read as a date without the event's name (6.25 당시, 5.18은).
_FAMOUS_DATES = frozenset(("3.1", "4.19", "5.16", "5.18", "6.10", "6.25", "6.29", "8.15", "10.26", "12.12"))
# Standing alone: the end of the sentence or clause, or a particle (5.18은 …); not 3.1 버전.
_NAME_ALONE = LazyPattern(rf"(?:(?:{_PARTICLE_ALT})(?=$|[\s.,!?)\]'\"])|(?=$|[.,!?)\]'\"]))")
_FAMOUS_AFTER = LazyPattern(r"\s?(?:당시|때|이후|이전|직후|직전|세대)")
_QUANTITY_BEFORE = LazyPattern(
    r"(?:평점|평균|지수|점수|수치|비율|금리|환율|시력|버전|약|총|값|기록|배율|성적|학점|평가|무게|길이|키|"
    r"가격|증가|감소|상승|하락|[A-Za-z])\s?(?:은|는|이|가|을|를|의|도|만)?\s?[:：]?\s?$"
)


@rule(
    "named date: dot or slash",
    r"(?<![\d.,/·$€£¥₩])(1[0-2]|[1-9])([./])(3[01]|[12]\d|[1-9])(?![\d.,/]|\.\d)",
    needs=r"\d[./]\d",
)
def _named_date(match: re.Match[str]) -> str | None:
    month, day = int(match.group(1)), int(match.group(3))
    after = match.string[match.end() :]
    key = f"{month}.{day}"
    if _NAMED_EVENT.match(after):
        return _named_date_words(month, day)
    if key not in _FAMOUS_DATES:
        return None
    if _FAMOUS_AFTER.match(after):
        return _named_date_words(month, day)
    quantity = _QUANTITY_BEFORE.search(match.string[: match.start()])
    if match.group(2) == "." and _NAME_ALONE.match(after) and not quantity:
        return _named_date_words(month, day)
    return None


# ---------------------------------------------------------------------------------------------------
# Weekdays: (목) → 목요일, (화~토) → 화요일에서 토요일, 월~금 → 월요일에서 금요일.


@rule(
    "weekday: in parentheses",
    rf"\(\s?{_WEEKDAY}(?:요일)?(?:\s?(?:{_RANGE_SEP}|-|[,·/])\s?{_WEEKDAY}(?:요일)?)*\s?\)",
    needs=rf"\(\s?{_WEEKDAY}",
)
@rule(
    "weekday: range",
    rf"(?<![가-힣\d]){_WEEKDAY}(?:요일)?\s?{_RANGE_SEP}\s?{_WEEKDAY}(?:요일)?(?![가-힣])",
    needs=_RANGE_SEP,
)
def _weekday_group(match: re.Match[str]) -> str:
    days = re.findall(_WEEKDAY, re.sub("요일", "", match.group(0)))
    if re.search(_RANGE_SEP + "|-", match.group(0)) and len(days) == 2:
        return f" {WEEKDAYS[days[0]]}에서 {WEEKDAYS[days[1]]}"
    return " " + ", ".join(WEEKDAYS[d] for d in days)


# ---------------------------------------------------------------------------------------------------
# Versions and floors: v1.2 → 브이 일 점 이, 3.5.1 → 삼 점 오 점 일, 192.168.0.1; B1층 → 지하 일 층.


@rule("version: v", r"(?<![A-Za-z])[vV](\d+(?:\.\d+)+)(?![\d.])", needs=r"[vV]\d")
def _version_v(match: re.Match[str]) -> str:
    return "브이 " + " 점 ".join(kn.read_sino(p) for p in match.group(1).split("."))


@rule("version: dotted", r"(?<![\d.,])\d+(?:\.\d+){2,}(?![\d])", needs=r"\d\.\d+\.\d")
def _version_dotted(match: re.Match[str]) -> str:
    return " 점 ".join(
        kn.sino(int(part)) if len(part) < 20 else kn.digits(part) for part in match.group(0).split(".")
    )


@rule("floor", r"(?<![A-Za-z])B(\d{1,2})\s?층", needs=r"B\d")
def _floor(match: re.Match[str]) -> str:
    return f"지하 {kn.read_sino(match.group(1))} 층"


# ---------------------------------------------------------------------------------------------------
# Ordinals: 1st → 퍼스트, 21st → 이십일 번째; No. 3 → 넘버 삼; 제1회 → 제일 회; 1번째 → 첫 번째, 2째 → 둘째.


@rule("ordinal: english suffix", r"(?<![\d.,])(\d+)(st|nd|rd|th)(?![A-Za-z\d])", needs=r"\d(?:st|nd|rd|th)")
def _english_ordinal(match: re.Match[str]) -> str:
    return kn.english_ordinal(match.group(1))


@rule("ordinal: No.", r"(?<![A-Za-z])No\.\s?(\d+)(?!\d)", needs=r"No\.")
def _number_sign(match: re.Match[str]) -> str:
    return f"넘버 {kn.read_sino(match.group(1))}"


@rule("ordinal: 제", rf"(?<![가-힣])제\s?({_N})", needs=r"제\s?\d")
def _je(match: re.Match[str]) -> str:
    return f"제{kn.read_sino(match.group(1))} "


@rule("ordinal: 번째", rf"({_N})\s?번\s?째", needs=r"번\s?째")
def _ordinal_th(match: re.Match[str]) -> str:
    return kn.ordinal_th(match.group(1))


@rule("ordinal: 째", rf"({_N})째", needs=r"\d째")
def _ordinal_jjae(match: re.Match[str]) -> str:
    return kn.ordinal_jjae(match.group(1))


# ---------------------------------------------------------------------------------------------------
# Times: 9:30 AM → 오전 아홉 시 삼십 분, 3PM → 오후 세 시; 10시 00분 → 열 시; 12:30(:15).


def _am_pm_words(marker: str, hour: int, minute: int) -> str | None:
    if not 0 <= hour <= 12 or minute > 59:
        return None
    words = ["오전" if marker in "Aa" else "오후", kn.read_counted(str(hour), "시")]
    if minute:
        words.append(f"{kn.sino(minute)} 분")
    return " ".join(words)


@rule(
    "time: am pm after",
    r"(?<![\d:.,])(\d{1,2})(?::(\d{2}))?\s?([AaPp])\.?[Mm](?:\.|(?![A-Za-z]))",
    needs=r"[AaPp]\.?[Mm]",
)
def _time_am_pm(match: re.Match[str]) -> str | None:
    return _am_pm_words(match.group(3), int(match.group(1)), int(match.group(2) or 0))


@rule(
    "time: am pm before",
    r"(?<![A-Za-z])([AaPp])\.?[Mm]\.?\s?(\d{1,2})(?::(\d{2}))?(?![\d:])",
    needs=r"[AaPp]\.?[Mm]",
)
def _time_am_pm_before(match: re.Match[str]) -> str | None:
    return _am_pm_words(match.group(1), int(match.group(2)), int(match.group(3) or 0))


@rule("time: 시 00분", r"(?<![\d:.,])(\d{1,2})\s?시\s?00\s?분", needs=r"00\s?분")
def _time_o_clock(match: re.Match[str]) -> str:
    return kn.read_counted(match.group(1), "시")


@rule("time: clock", r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])", needs=r"\d:\d")
def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3)) if match.group(3) else 0
    if hour > 24 or minute > 59 or second > 59:
        return f"{kn.sino(hour)} 대 {kn.read_sino(match.group(2))}"
    before = match.string[: match.start()].rstrip()
    if hour > 12 and re.search("(?:오후|저녁|밤)$", before):
        hour -= 12  # 오후 14:30 → 오후 두 시 삼십 분
    words = [kn.read_counted(str(hour), "시")]
    if minute:
        words.append(f"{kn.sino(minute)} 분")
    if second:
        words.append(f"{kn.sino(second)} 초")
    return " ".join(words)


# Clock hours on both sides of a range in the same numerals (used by ranges and by 부터 … 까지).
_HOUR_VALUES = {kn.native(h): h for h in range(1, 25)} | {kn.sino(h): h for h in range(0, 25)}
_HOUR_READING = LazyPattern(rf"(?:(?P<half>{_HALF_DAY}) )?(?P<hour>\S+) 시(?= |$)")


def _same_clock(left: str, right: str, before: str) -> tuple[str, str]:
    """오전 아홉 시 … 십팔 시 → … 오후 여섯 시; 아홉 시 … 십팔 시 → … 열여덟 시 (one clock per range)."""
    lm, rm = _HOUR_READING.match(left), _HOUR_READING.match(right)
    if not lm or not rm or lm.group("hour") not in _HOUR_VALUES or rm.group("hour") not in _HOUR_VALUES:
        return left, right
    lh, rh = _HOUR_VALUES[lm.group("hour")], _HOUR_VALUES[rm.group("hour")]
    said = re.search(rf"({_HALF_DAY})\s?$", before)
    half = lm.group("half") or (said.group(1) if said else None)
    if half or rm.group("half"):
        if 13 <= rh <= 24 and not rm.group("half"):
            words = kn.native(rh - 12) + " 시"
            prefix = "" if half in ("오후", "저녁", "밤") else "오후 "
            right = prefix + words + right[rm.end() :]
        return left, right
    if 1 <= lh <= 12 and 13 <= rh <= 24:
        right = f"{kn.native(rh)} 시" + right[rm.end() :]
    elif 13 <= lh <= 24 and 1 <= rh <= 12:
        left = f"{kn.native(lh)} 시" + left[lm.end() :]
    return left, right


# ---------------------------------------------------------------------------------------------------
# Offers: 1+1 → 원 플러스 원, 2+1 → 투 플러스 원 (1+1=2 and 1+1은 얼마 are arithmetic).

_OFFER_WORDS = LazyPattern(
    r"행사|증정|이벤트|할인|세일|특가|편의점|기획|상품|제품|구매|혜택|적용|프로모션|덤|묶음|쿠폰|매장|마트|행사가|"
    r"원플|사면|주문|판매|골라|음료|과자|라면"
)
_MATH_WORDS = LazyPattern(r"[=×÷*^]|더하기|빼기|계산|수학|정답|문제|답은|답이|얼마|방정식|산수|덧셈")
_MATH_AFTER = LazyPattern(r"\s?(?:은|는|의|이|가)?\s?(?:\d|얼마|몇)")


@rule("promotion", r"(?<![\d.,+=])([1-9])\+([1-9])(?![\d+=]|\s?=)", needs=r"\d\+\d")
def _offer(match: re.Match[str]) -> str | None:
    """1+1 is an offer (원 플러스 원) unless the sentence is arithmetic (1+1은 얼마?, 3+5는 8).

    Offers give as many or fewer free (1+1, 2+1, 3+2), so 3+5 is always a sum.
    """
    text = match.string
    if int(match.group(2)) > int(match.group(1)):
        return None
    math = _MATH_WORDS.search(text) or _MATH_AFTER.match(text, match.end())
    if math and not _OFFER_WORDS.search(text):
        return None
    return f"{kn.ENGLISH_DIGITS[int(match.group(1))]} 플러스 {kn.ENGLISH_DIGITS[int(match.group(2))]}"


# ---------------------------------------------------------------------------------------------------
# Fractions (negative, mixed, roots, with a unit), and a/b dates by context: 1/2, 1과1/4kg, -2/5m;
# set phrases 24/7 → 이십사 칠, 50/50 → 오십 대 오십.


@rule("number: 24/7", r"(?<![\d/])24/7(?![\d/])", needs="24/7")
def _twenty_four_seven(match: re.Match[str]) -> str:
    return "이십사 칠"


@rule("number: 50/50", r"(?<![\d/])50/50(?![\d/])", needs="50/50")
def _fifty_fifty(match: re.Match[str]) -> str:
    return "오십 대 오십"


@rule(
    "fraction: a/b",
    rf"(?<![\d.,/])(?P<sign>{_SIGN})?(?:(?P<whole>\d+)\s?(?:과|와|\s)\s?)?(?P<num>(?:\d+\s?)?√\s?\d+|\d+)"
    rf"\s?[/⁄]\s?(?P<den>√\s?\d+|\d+)(?![\d/])(?P<unit>\s?{_QUANTITY})?",
    needs="[/⁄]",
)
def _fraction(match: re.Match[str]) -> str | tuple[str, str] | None:
    sign, whole, num, den, unit = (match.group(g) for g in ("sign", "whole", "num", "den", "unit"))
    roots = "√" in num + den
    plain = not sign and not whole and not unit and not roots
    if plain and 1 <= int(num) <= 12 and 1 <= int(den) <= 31 and _is_date_context(match):
        date = _date_words(None, int(num), int(den), None)
        return None if date is None else ("date", date)
    if not roots and int(den) == 0:
        return None
    unit = (unit or "").strip()
    unit_words = UNITS.get(unit, unit)
    if whole and num == "1" and den == "2" and unit_words in NATIVE_COUNTERS and not sign:
        return f"{kn.read_counted(whole, unit_words)} 반"  # 1 1/2컵 → 한 컵 반, 2½시간 → 두 시간 반
    words = kn.fraction(num, den)
    if whole:
        whole_words = kn.read_sino(whole)
        words = f"{whole_words}{particles.agree(whole_words, '과')} {words}"
    words = kn.signed(sign, words)
    if unit:
        words += " " + unit_words
    return words


@rule("fraction: 분의", rf"({_N})\s?분의\s?({_N})", needs="분의")
def _fraction_words(match: re.Match[str]) -> str:
    return f"{kn.read_sino(match.group(1))}분의 {kn.read_sino(match.group(2))}"


_ROOT_NAMES = {"√": "루트", "∛": "세제곱근", "∜": "네제곱근"}


@rule(
    "root",
    rf"(\d+)?\s?([√∛∜])\s?\(?(\d+(?:\.\d+)?|[A-Za-z])\)?(?:(?<=\d)(\s?(?:{_UNIT_ALT})|(?:{_SINGLE_UNIT_ALT}))(?![A-Za-z\d]))?",
    needs="[√∛∜]",
)
def _root(match: re.Match[str]) -> str:
    coefficient, sign, radicand, unit = match.group(1), match.group(2), match.group(3), match.group(4)
    rad = kn.read_sino(radicand) if radicand[0].isdigit() else english.word(radicand)
    words = f"{_ROOT_NAMES[sign]} {rad}"
    if unit:
        words += " " + UNITS[unit.strip()]
    return f"{kn.read_sino(coefficient)} {words}" if coefficient else words


# ---------------------------------------------------------------------------------------------------
# Money: symbols and codes before or after the amount: ₩15,000, US$100, $5만, $3M, KRW 45,000, 30€;
# rates, the per-unit first: 1,000원/kg → 킬로그램당 천 원, $5/month → 월 오 달러.


@rule(
    "rate",
    rf"(?P<amount>(?<![A-Za-z])(?:{_CURRENCY_ALT})\s?(?:{_NUM})(?:\s?(?:{_BIG}))?|(?<![\d.,])(?:{_NUM})"
    rf"(?:\s?(?:{_BIG}))?\s?(?:원|달러|유로|엔|위안|파운드|{_CURRENCY_ALT}|(?:{_CODE_ALT})(?![A-Za-z])))"
    rf"\s?/\s?(?P<per>{_RATE_ALT})(?![A-Za-z\d])",
    needs=rf"/\s?{_first_chars(RATE_PER)}",
)
def _rate(match: re.Match[str]) -> str:
    amount = expand_with_rewrites(match.group("amount"))[0]
    return f"{RATE_PER[match.group('per')]} {amount}"


@rule(
    "currency: symbol range",
    rf"(?<![A-Za-z])({_CURRENCY_ALT})\s?({_NUM})(\s?(?:{_BIG})|{_LATIN_BIG})?\s?{_RANGE_SEP}\s?"
    rf"(\1)?\s?({_NUM})(\s?(?:{_BIG})|{_LATIN_BIG})?",
    needs=_RANGE_SEP,
)
def _currency_symbol_range(match: re.Match[str]) -> str:
    name = CURRENCY_SYMBOLS[match.group(1)]
    left = kn.read_money(match.group(2), match.group(3), name)
    right = kn.read_money(match.group(5), match.group(6), name)
    return f"{left}에서 {right}"


@rule(
    "currency: symbol before",
    rf"(?<![A-Za-z])({_CURRENCY_ALT})\s?(-)?({_NUM})(\s?(?:{_BIG})(?![가-힣])|\s?{_LATIN_BIG}|\s?(?:{_BIG}))?",
    needs=_first_chars(CURRENCY_SYMBOLS),
)
def _currency_symbol(match: re.Match[str]) -> str:
    symbol, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4)
    return kn.signed(sign, kn.read_money(number, big, CURRENCY_SYMBOLS[symbol]))


@rule(
    "currency: code before",
    rf"(?<![A-Za-z])({_CODE_ALT})\s?(-)?({_NUM})(\s?(?:{_BIG})|\s?{_LATIN_BIG})?(?![\d])",
    needs=_first_chars(_CODES),
)
def _currency_code(match: re.Match[str]) -> str:
    code, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4)
    return kn.signed(sign, kn.read_money(number, big, CURRENCY_CODES[code.upper()]))


@rule(
    "currency: after",
    rf"({_SIGN})?(?<![\d.,])({_NUM})(\s?(?:{_BIG})|\s?{_LATIN_BIG})?\s?({_CURRENCY_ALT}|(?:{_CODE_ALT})(?![A-Za-z]))",
    needs=_first_chars([*CURRENCY_SYMBOLS, *_CODES]),
)
def _currency_after(match: re.Match[str]) -> str:
    sign, number, big, symbol = match.group(1), match.group(2), match.group(3), match.group(4)
    name = CURRENCY_SYMBOLS.get(symbol) or CURRENCY_CODES[symbol.upper()]
    return kn.signed(sign, kn.read_money(number, big, name))


@rule(
    "currency: decimal before a name",
    rf"({_SIGN})?(?<![\d.,])({_NUM})(\s?(?:{_BIG}))?\s?((?:(?:미국|호주|캐나다|홍콩|싱가포르|뉴질랜드|대만)\s?)?"
    r"(?:달러|유로|파운드|원|엔|위안))(?!화|래|리|자|본|소|칙|인|형|장)",
    needs=r"\d\.\d",
)
def _currency_word(match: re.Match[str]) -> str | None:
    """3.50달러, 10.00원: a decimal amount before the currency's Korean name (whole ones are counters)."""
    sign, number, big, name = match.group(1), match.group(2), match.group(3), match.group(4)
    if "." not in number:
        return None
    return kn.signed(sign, kn.read_money(number, big, re.sub(r"\s+", " ", name)))


# ---------------------------------------------------------------------------------------------------
# Temperatures below zero: -5도, -12℃ → 영하 오 도, 영하 십이 도 (an angle stays 마이너스).

_TEMPERATURE_UNITS = frozenset(("°C", "°F", "°", "도", "도씨"))
_ANGLE_WORDS = LazyPattern(r"각도|회전|기울|경사|방위|위도|경도|꺾|틀어|돌려|돌리|방향|각이")


def _temperature(sign: str | None, number: str, unit: str | None, text: str) -> str | None:
    """A temperature below zero in words (영하 오 도), or None when it is not one."""
    unit = (unit or "").strip()
    if not sign or unit not in _TEMPERATURE_UNITS:
        return None
    if unit in ("도", "°", "도씨") and _ANGLE_WORDS.search(text):
        return None
    words = f"영하 {kn.read_sino(number)} {'도씨' if unit == '도씨' else '도'}"
    return f"화씨 {words}" if unit == "°F" else words


@rule(
    "temperature",
    rf"(?:영하\s?)?(?<![\w.,)\]%~〜～{_PH[1:-1]}])-\s?(?P<num>\d+(?:\.\d+)?)\s?(?P<u>°C|°F|°|도씨|도)(?![A-Za-z\d])",
    needs=r"-\s?\d",
)
def _temperature_rule(match: re.Match[str]) -> str | None:
    return _temperature("-", match.group("num"), match.group("u"), match.string)


# ---------------------------------------------------------------------------------------------------
# Ranges: 3~5개, 3-5개, 1990~2000년대, -5~5도, 3~4kg: each side with its own counter or unit.

_ESTIMATE_AFTER = LazyPattern(r"\s?(?:정도|쯤|가량|동안|걸려|걸리|걸린|걸릴|소요|내외|남짓|만에|씩|안팎)")


@rule(
    "range: years",
    rf"(?<![\d.,-])(1\d{{3}}|20\d\d)\s?[-~]\s?(1\d{{3}}|20\d\d)(?![\d-])(?!\s?(?:{_QUANTITY}))",
    needs=r"\d\s?[-~]\s?\d",
)
def _year_range(match: re.Match[str]) -> str | None:
    """1990-2000 → 천구백구십에서 이천 (a later year second, else not a range)."""
    if int(match.group(1)) < int(match.group(2)):
        return f"{kn.read_sino(match.group(1))}에서 {kn.read_sino(match.group(2))}"
    return None


@rule(
    "range: with quantities",
    rf"(?P<ls>{_SIGN})?(?<![\d.,])(?P<l>{_NUM})(?P<lq>\s?{_QUANTITY})?\s?(?:{_RANGE_SEP}|-)\s?"
    rf"(?P<rs>-)?(?P<r>{_NUM})(?![\d])\s?(?P<rq>{_QUANTITY})",
    needs=r"[~〜～-]\s?-?\d",
)
def _range(match: re.Match[str]) -> str:
    """3~5개 → 세 개에서 다섯 개: the left side takes the right side's counter when it has none.

    A duration counter (일간, 년간) is said once, after the right side (삼 일에서 사 일간), and two
    neighbouring numbers before it, or before 정도/쯤/걸려 …, are said as one (삼사 일간, 두세 시간 정도).
    """
    right_quantity = (match.group("rq") or "").strip()
    left_quantity = match.group("lq")
    duration = (
        right_quantity.endswith("간")
        and right_quantity != "시간"
        and right_quantity[:-1] in SINO_COUNTERS | NATIVE_COUNTERS
    )
    if not left_quantity:
        left_quantity = right_quantity[:-1] if duration else right_quantity
    l_value, r_value = kn.plain_int(match.group("l")), kn.plain_int(match.group("r"))
    same = left_quantity.strip() in (right_quantity, right_quantity[:-1])
    estimate = duration or _ESTIMATE_AFTER.match(match.string[match.end() :])
    if (
        estimate
        and same
        and not match.group("ls")
        and not match.group("rs")
        and l_value is not None
        and r_value == l_value + 1
        and 1 <= l_value <= 8
        and right_quantity != "월"
        and (right_quantity[:-1] if duration else right_quantity) in SINO_COUNTERS | NATIVE_COUNTERS
    ):
        counter = right_quantity[:-1] if duration else right_quantity
        native = counter in NATIVE_COUNTERS | {"번"}  # 두세 번 정도: 번 counts times here
        return f"{kn.range_pair(l_value, attributive=native)} {right_quantity}"
    text = match.string
    left = _temperature(match.group("ls"), match.group("l"), left_quantity, text) or kn.read_quantity(
        match.group("ls"), match.group("l"), left_quantity
    )
    right = _temperature(match.group("rs"), match.group("r"), right_quantity, text) or kn.read_quantity(
        match.group("rs"), match.group("r"), right_quantity
    )
    if right_quantity == "시":
        left, right = _same_clock(left, right, text[: match.start()])
    return f"{left}에서 {right}"


@raw_rule(
    "range: open",
    rf"({_SIGN})?(?<![\d.,])({_NUM})(?![\d])(?:\s?({_QUANTITY}))?\s?{_RANGE_SEP}\s?(?=\S)",
    needs=_RANGE_SEP,
)
def _range_open(match: re.Match[str], ex: _Expansion) -> str:
    """3시~ (then anything): the left side is read, the range word follows."""
    reading = kn.read_quantity(match.group(1), match.group(2), match.group(3))
    return ex.emit("range", match.group(0).rstrip("~〜～ "), reading) + "에서 "


# A range sign with nothing before it means "until": ~5월 31일 → 오월 삼십일 일까지.
@raw_rule("range: until", rf"(?:^|(?<=[\s(]))[~〜～]\s?((?:{_PH})(?:\s?{_PH})*)", needs=rf"[~〜～]\s?{_PH}")
def _until(match: re.Match[str], ex: _Expansion) -> str:
    """~5월 31일: a range sign with nothing before it reads 까지 after what follows."""
    return match.group(1) + "까지"


# A range sign between two rewrites: 2023.1.1~2023.1.31, 10:00-18:00, (월)~(금).
@raw_rule(
    "range: between",
    rf"(?P<left>{_PH})\s?(?P<sep>{_RANGE_SEP}|-|–)\s?(?P<right>{_PH})",
    needs=rf"{_PH}\s?[~〜～\-–]",
)
def _between(match: re.Match[str], ex: _Expansion) -> str:
    """A range sign between two rewrites (dates, times, weekdays): 에서; hours on one clock."""
    left, right = match.group("left"), match.group("right")
    if match.group("sep") in "-–" and not all(
        ex.rules[ex.index(ch)] in ("date", "time", "weekday") for ch in (left, right)
    ):
        return match.group(0)
    _clock_pair(match, ex)
    return f"{left}에서 {right}"


# 9시부터 18시까지: both hours on one clock (아홉 시부터 열여덟 시까지).
@raw_rule(
    "range: hours on one clock",
    rf"(?P<left>{_PH})\s?(?:부터|에서)\s?(?:(?:{_HALF_DAY})\s?)?(?P<right>{_PH})",
    needs=f"{_PH}\\s?(?:부터|에서)",
)
def _clock_pair(match: re.Match[str], ex: _Expansion) -> str:
    """9시부터 18시까지: the two hour readings are made to use one clock (아홉 시부터 열여덟 시까지)."""
    left, right = ex.index(match.group("left")), ex.index(match.group("right"))
    if all(ex.rules[i] in ("time", "counter") for i in (left, right)):
        ex.readings[left], ex.readings[right] = _same_clock(
            ex.readings[left], ex.readings[right], match.string[: match.start()]
        )
    return match.group(0)


# ---------------------------------------------------------------------------------------------------
# Units: 5km, 36.5°C, 100km/h, 5L/min, 50%, 84m2, 45s, 72h; 1h 30m, 2m 30s; 1080p.

_LENGTHS = frozenset(("km", "m", "cm", "mm", "mi", "ft", "yd"))
_SPEED_PREFIXES = {"h": "시속", "hr": "시속", "hour": "시속", "min": "분속", "s": "초속", "sec": "초속"}


@rule(
    "unit",
    rf"(?P<sign>{_SIGN})?(?<![\d.,A-Za-z])(?P<num>{_NUM})(?![\d])(?:\s?(?P<u>{_UNIT_ALT})|(?P<u1>{_SINGLE_UNIT_ALT})|\s(?P<u2>[gmLWV])(?=[\s.,!?)가-힣]|$))"
    rf"(?:/(?P<per>{_PER_ALT}))?(?![A-Za-z\d])",
    needs=rf"\d\s?{_first_chars([*UNITS, *'gmLWV'])}",
)
def _unit(match: re.Match[str]) -> str:
    sign, number = match.group("sign"), match.group("num")
    unit = match.group("u") or match.group("u1") or match.group("u2")
    per = match.group("per")
    if unit == "s" and re.fullmatch(r"1\d\d0|20\d0", number) and not per:
        return f"{kn.sino(int(number))} 년대"  # 1990s → 천구백구십 년대
    words = kn.read_quantity(sign, number, unit)
    if per and unit in _LENGTHS and per in _SPEED_PREFIXES:
        return f"{_SPEED_PREFIXES[per]} {words}"  # 10km/hr → 시속 십 킬로미터, 3km/s → 초속 삼 킬로미터
    if per:
        return f"{PER_UNITS[per]} {words}"
    return words


@rule("unit: h m", r"(?<![\d.,A-Za-z])(\d+)\s?h\s?(\d+)\s?m(?:in)?(?![A-Za-z\d])", needs=r"h\s?\d")
def _hours_minutes(match: re.Match[str]) -> str:
    return f"{kn.read_counted(match.group(1), '시간')} {kn.sino(int(match.group(2)))} 분"


@rule("unit: m s", r"(?<![\d.,A-Za-z])(\d+)\s?m(?:in)?\s?(\d+)\s?s(?:ec)?(?![A-Za-z\d])", needs=r"\d\s?s")
def _minutes_seconds(match: re.Match[str]) -> str:
    return f"{kn.sino(int(match.group(1)))} 분 {kn.sino(int(match.group(2)))} 초"


@rule(
    "unit: resolution", r"(?<![\d.,A-Za-z])(240|360|480|720|1080|1440|2160|4320)p(?![A-Za-z\d])", needs="0p"
)
def _resolution(match: re.Match[str]) -> str:
    return f"{kn.sino(int(match.group(1)))} 피"


# ---------------------------------------------------------------------------------------------------
# Numbers: 3천, 5만, 1억 2천만, 1.5억; number + counter (3개 → 세 개, 20세기 → 이십 세기, 6월 → 유월,
# 07분 → 칠 분); any other number, Sino-Korean, a minus sign before it.


@rule("number: big", rf"({_N})\s?({_BIG})", needs=rf"\d\s?[{_BIG.replace('|', '')}]")
def _big(match: re.Match[str]) -> str:
    return kn.read_big(match.group(1), match.group(2))


@rule("counter", rf"({_SIGN})?({_N})\s?({_COUNTER_ALT})", needs=rf"\d\s?{_first_chars(_COUNTERS)}")
def _counter(match: re.Match[str]) -> str:
    """Number + counter; 오후 18시 → 오후 여섯 시 (오후 already says which half of the day)."""
    sign, number, counter = match.group(1), match.group(2), match.group(3)
    value = kn.counted_int(number)
    afternoon = re.search("(?:오후|저녁|밤)\\s?$", match.string[: match.start()])
    if counter == "시" and value is not None and 13 <= value <= 24 and afternoon:
        number = str(value - 12)
    return kn.signed(sign, kn.read_counted(number, counter))


@rule("number: signed", rf"({_SIGN})?({_N})", needs=r"\d")
def _number(match: re.Match[str]) -> str:
    return kn.signed(match.group(1), kn.read_sino(match.group(2)))


@rule("number: digits", r"\d+", needs=r"\d")
def _any_digits(match: re.Match[str]) -> str:
    return kn.read_sino(match.group(0))


# ---------------------------------------------------------------------------------------------------
# Letters: R&D → 알앤디, Q & A → 큐앤에이 (KBS & MBC keeps 앤드); C# → 씨샵; A/S; J. K.; English words.


@rule("letters: &", r"(?<![A-Za-z&])([A-Z]{1,3})(\s?)&(\s?)([A-Z]{1,3})(?![A-Za-z&])", needs="&")
def _ampersand(match: re.Match[str]) -> str | None:
    """R&D → 알앤디; KBS & MBC (spaced, longer than one letter a side) keeps 앤드."""
    if (match.group(2) or match.group(3)) and len(match.group(1) + match.group(4)) > 2:
        return None
    return english.spell(match.group(1)) + "앤" + english.spell(match.group(4))


@rule("letters: #", r"(?<![A-Za-z])([A-G])#(?![A-Za-z\d#])", needs="#")
def _sharp(match: re.Match[str]) -> str:
    return english.spell(match.group(1)) + "샵"  # C# → 씨샵


@rule("letters: A/S", r"(?<![A-Za-z/])([A-Z])/([A-Z])(?![A-Za-z/])", needs="[A-Z]/")
def _letter_slash(match: re.Match[str]) -> str:
    return english.spell(match.group(1) + match.group(2))


@raw_rule("letters: initials", r"(?<![A-Za-z])([A-Z])\.(?=\s?[A-Z])", needs=r"[A-Z]\.")
def _initial(match: re.Match[str], ex: _Expansion) -> str:
    return match.group(1)  # J. K. → J K, spelled by the English rule


@rule("english", r"[A-Za-z]+(?:['-][A-Za-z]+)*", needs="[A-Za-z]")
def _english(match: re.Match[str]) -> str:
    return english.word(match.group(0))


# ---------------------------------------------------------------------------------------------------
# Arrows: 서울→부산 → 서울에서 부산까지, 10,000원→8,000원 → 만 원에서 팔천 원으로; 1 더하기 1 = 2.

_VALUE_RULES = frozenset(("number", "currency", "unit", "counter", "fraction", "time", "date", "range"))
_CHANGE_AFTER = LazyPattern(
    r"\s?(?:이동|이사|이전|변경|바뀌|바꾸|전환|인상|인하|상승|하락|증가|감소|늘|줄|올|내려|오르|떨어|조정|개편|확대|축소)"
)
_ROUTE_WORDS = LazyPattern(
    r"항공권|항공편|비행기|비행|노선|열차|기차|KTX|SRT|버스|고속|편도|왕복|구간|이동|출발|도착|경로|여행|운행|직항|"
    r"환승|택시|요금(?!제)|거리|운임|배편|여객선|km|킬로"
)


def _is_place(written: str) -> bool:
    word = re.sub(r"(?:까지|으로|로|에서|에|행)$", "", written.strip())
    return word in PLACES or word.endswith(PLACE_SUFFIXES) or bool(re.fullmatch("[A-Z]{3}", word))


@raw_rule("arrow", r"[^\s→]+(?:\s?→\s?[^\s→]+)+", needs="→")
def _arrow(match: re.Match[str], ex: _Expansion) -> str:
    """A→B between places or values: 에서 … 까지 (a route) or 에서 … 으로 (a change); any other arrow
    (원인 → 결과) is a pause."""
    chain = match.group(0)
    tail = re.search(r"[.,!?]*$", chain).group(0)  # type: ignore[union-attr]
    parts = [p.strip() for p in re.split("→", chain[: len(chain) - len(tail)])]
    if any(not p for p in parts):
        return chain
    last = parts[-1]
    last_placeholders = _PH_RE.findall(last)
    value = bool(last_placeholders) and ex.rules[ex.index(last_placeholders[-1])] in _VALUE_RULES
    spoken = ex.spoken_before(last)
    spaced = bool(re.search(r"\s→|→\s", chain))
    change = not spaced and _CHANGE_AFTER.match(match.string[match.end() :])
    written = [ex.source(part) for part in parts]
    route = any(_is_place(w) for w in written) or _ROUTE_WORDS.search(ex.source(match.string))
    if not (value or change or route):
        return ex.emit("arrow", chain[: len(chain) - len(tail)], ", ".join(parts)) + tail
    if re.search("(?:까지|으로|에|에서|행)$", last) or (
        re.search("로$", last) and (value or change or re.search(f"{_PH}로$", last))
    ):
        suffix = ""
    elif value or change:
        suffix = particles.agree(spoken, "으로")
    else:
        suffix = "까지"
    middle = []
    for part in parts[1:-1]:
        via = "," if value else particles.agree(ex.spoken_before(part), "를") + " 거쳐"
        middle.append(part + via)
    words = " ".join([parts[0] + "에서", *middle, last + suffix])
    return ex.emit("arrow", chain[: len(chain) - len(tail)], words) + tail


@raw_rule("equals", r"\s*=\s*", needs="=")
def _equals(match: re.Match[str], ex: _Expansion) -> str:
    """1 더하기 1 = 2: "=" reads as the topic particle, 은 after a final consonant, else 는."""
    before = ex.spoken_before(match.string[: match.start()])
    if not before or not "가" <= before <= "힣":
        return " "
    return "은 " if particles.final_consonant(before) else "는 "


# ---------------------------------------------------------------------------------------------------
# The rules, in the order they apply: specific forms before the general ones that would take them.

ORDER = (
    "company",
    # Addresses.
    "email",
    "url",
    "domain",
    "file name",
    # Telephone numbers and plates.
    "phone: international",
    "phone: area code in parentheses",
    "phone: area code",
    "phone: north american",
    "phone: mobile without hyphens",
    "plate",
    # Lot numbers and seasons before anything reads their hyphen.
    "lot number: 번지",
    "lot number: 산",
    "lot number: road",
    "lot number: building and unit",
    "season",
    "code",
    "phone: 1588",
    "score: hyphen or colon",
    # Dates, then digit strings.
    "date: y-m-d",
    "date: yy.mm.dd",
    "date: m-d-y",
    "date: m.d (weekday)",
    "date: english month first",
    "date: english day first",
    "digits: card",
    "digits: groups",
    "phone: local",
    "digits: after a key word",
    "digits: 국번 없이",
    "digits: 로 끝나는",
    "service number: before a call word",
    "service number: known",
    "weekday: in parentheses",
    "weekday: range",
    "version: v",
    "floor",
    "range: years",
    "version: dotted",
    "ordinal: english suffix",
    # Times and durations.
    "time: am pm after",
    "time: am pm before",
    "unit: h m",
    "unit: m s",
    "unit: resolution",
    "ordinal: No.",
    "time: 시 00분",
    "time: clock",
    "ratio",
    "named date: interpunct",
    "named date: dot or slash",
    "promotion",
    "score: 대",
    "date: quarter",
    "date: year.month",
    # Fractions, money, ranges, units.
    "number: 24/7",
    "number: 50/50",
    "fraction: a/b",
    "fraction: 분의",
    "root",
    "rate",
    "temperature",
    "currency: symbol range",
    "currency: symbol before",
    "currency: code before",
    "currency: after",
    "currency: decimal before a name",
    "range: with quantities",
    "range: open",
    "unit",
    # Ordinals, counters and bare numbers.
    "ordinal: 제",
    "ordinal: 번째",
    "ordinal: 째",
    "address",
    "letters and digits",
    "number: big",
    "counter",
    "number: signed",
    "number: digits",
    # Between rewrites.
    "range: until",
    "range: between",
    "range: hours on one clock",
    # Words.
    "letters: &",
    "letters: #",
    "letters: A/S",
    "letters: initials",
    "english",
    "arrow",
    "equals",
)
if len(set(ORDER)) != len(ORDER) or set(ORDER) != _REGISTRY.keys():
    raise RuntimeError(f"ORDER and the registered rules differ: {set(ORDER) ^ _REGISTRY.keys()}")
RULES: tuple[Rule, ...] = tuple(_REGISTRY[key] for key in ORDER)

# ---------------------------------------------------------------------------------------------------
# What is left after the rules: symbols, punctuation, particle agreement.

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


def _symbols(text: str) -> str:
    out: list[str] = []
    dropped: list[str] = []
    for ch in text:
        if "가" <= ch <= "힣" or ch in " .,!?" or "\U000f0000" <= ch <= "\U000ffffd":
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


def tidy_punctuation(text: str) -> str:
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


# ---------------------------------------------------------------------------------------------------
# Lone jamo before the rules: chat initialisms and laughter (ㅇㅋ → 오케이, ㅋㅋ → 하하), else names.


def _laughter(run: str) -> str:
    """ㅋㅋㅋㅋ → 하하하, ㅎㅎ → 헤헤: laughter in at most three beats (ㅎ alone is the gentle one)."""
    short, long = LAUGHTER["ㅎ" if set(run) == {"ㅎ"} else "ㅋ"]
    return short if len(run) <= 2 else long


def _chat(run: str) -> tuple[str, str] | None:
    """A run of consonants read as chat: initialisms (ㅇㅋ → 오케이) and laughter (ㅋㅋ → 하하), in
    any sequence (ㅇㅋㅋㅋ → 오케이 하하); None if some part of it is neither."""
    words: list[str] = []
    rules: set[str] = set()
    i = 0
    while i < len(run):
        for size in (4, 3, 2):
            piece = run[i : i + size]
            if len(piece) == size and piece in CHAT_INITIALISMS:
                words.append(CHAT_INITIALISMS[piece])
                rules.add("chat")
                i += size
                break
        else:
            j = i
            while j < len(run) and run[j] in LAUGHTER:
                j += 1
            if j == i:
                return None
            words.append(_laughter(run[i:j]))
            rules.add("laughter")
            i = j
    return ("laughter" if rules == {"laughter"} else "chat"), " ".join(words)


_JAMO_NAMED = LazyPattern(
    r"\s?(?:받침|자음|모음|글자|소리|발음|모양|자로|자\b|자 모양|으로 시작|으로 끝|이 들어|가 들어)"
)


def _read_jamo(match: re.Match[str], ex: _Expansion) -> str:
    """Lone jamo: chat initialisms and laughter first (ㅇㅋ, ㅋㅋ), else their names or syllables."""
    run = match.group(0)
    if match.group(1):
        text = match.string
        alone = not _HANGUL.match(text[match.end() : match.end() + 1]) and not _HANGUL.match(
            text[match.start() - 1 : match.start()] if match.start() else ""
        )
        named = _JAMO_NAMED.match(text, match.end())  # ㅎ 받침, ㄱ자 모양: the letter itself
        chat = None if named else _chat(run) if len(run) > 1 or (alone and run in LAUGHTER) else None
        if chat is not None:
            return ex.emit(chat[0], run, chat[1])
    return ex.emit("jamo", run, _compat_jamo(match))


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
# One sentence, start to end.

_HANJA = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_JAMO = re.compile(r"([ㄱ-ㅎ]+)|[ㅏ-ㅣ]+")
_PARTICLE_AFTER = LazyPattern(rf"({_PH})({particles.PARTICLE})")
_PAREN_PARTICLE = LazyPattern(rf"(?<={_PH})\)(?=(?:{particles.PARTICLE}|에서|에게|에|의|도|만)(?![가-힣]))")


def _agree_particles(text: str, ex: _Expansion) -> str:
    """The particle written right after a rewrite, made to agree with its reading (`particles`)."""

    def fix(match: re.Match[str]) -> str:
        placeholder, particle = match.group(1), match.group(2)
        reading = ex.readings[ex.index(placeholder)]
        if not _HANGUL.search(reading):
            return match.group(0)
        agreed = particles.agree(reading, particle)
        if agreed != particle:
            ex.emit("particle", particle, agreed)  # recorded for explain; the text is rewritten here
        return placeholder + agreed

    return _PARTICLE_AFTER.sub(fix, text)


def expand_with_rewrites(text: str, *, lexicon: Lexicon | None = None) -> tuple[str, list[Rewrite]]:
    """`expand`, plus the top-level rewrites in order of position (for `explain` and `--json`)."""
    text = cleaned = clean(text).replace("\n", " ")
    ex = _Expansion()
    if lexicon is not None:
        text = lexicon.apply(text, lambda source, spoken: ex.emit("lexicon", source, spoken))
    if _HANJA.search(text):
        text = _HANJA.sub(lambda m: ex.emit("hanja", m.group(0), hanja.reading(m.group(0))), text)
    text = _JAMO.sub(lambda m: _read_jamo(m, ex), text)
    for one in RULES:
        if one.applies(text):
            text = one.apply(text, ex)
    text = _PAREN_PARTICLE.sub("", text)  # 경찰(112)에 → 경찰 일일이에, not 일일이 에
    text = _symbols(text)
    text = _agree_particles(text, ex)
    rewrites: list[Rewrite] = []
    cursor = 0
    for placeholder in _PH_RE.findall(text):
        index = ex.index(placeholder)
        if ex.rules[index] == "particle":
            continue
        span = ex.source(ex.sources[index])
        start = cleaned.find(span, cursor)
        end = start + len(span) if start >= 0 else -1
        cursor = end if start >= 0 else cursor
        rewrites.append(Rewrite(ex.rules[index], span, ex.fill(ex.readings[index]).strip(), start, end))
    particle_fixes = [
        Rewrite("particle", ex.sources[i], ex.readings[i])
        for i, name in enumerate(ex.rules)
        if name == "particle"
    ]
    return tidy_punctuation(ex.fill(text)), rewrites + particle_fixes


def expand(text: str, *, lexicon: Lexicon | None = None) -> str:
    """One sentence → Hangul words and . , ! ? only, ready for g2pk (numbers, units, English …).

    Never raises on odd input: what cannot be read is dropped (letters of other scripts with a
    warning). Loads mecab only for Hanja, g2pk and the CMU dictionary only for an English word its
    table does not know.
    """
    return expand_with_rewrites(text, lexicon=lexicon)[0]

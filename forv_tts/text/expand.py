"""Expansion: one sentence → Hangul words and . , ! ? only, the way a careful announcer reads it.

g2pk knows the sound changes of Korean (같이 → 가치, 국물 → 궁물) but reads what it does not know
badly: digits one by one (20세기 → 이영세기), English through a set-ordered pass, symbols not at all.
So every number, unit, date, code, address and English word is written out here first, and g2pk
(`forv_tts.text.g2p.pronounce`) only ever sees Hangul and . , ! ?.

How it works: the rules below run in order over the sentence; each rewrite is replaced by one
private-use placeholder character that no later rule can match inside, and recorded (rule name, the
written span, the reading) for `explain`. After the last rule the particle after each rewrite is made
to agree with its reading (`particles`), then the placeholders are filled in. Specific patterns come
first (lexicon, addresses, phone numbers, dates, times), then fractions, money, ranges and units,
then counters and bare numbers, then words.

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

Never raises on odd input: what cannot be read is dropped (letters of other scripts with a warning).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from forv_tts.text import english, hanja, particles
from forv_tts.text import numbers as kn
from forv_tts.text.cleaning import clean
from forv_tts.text.tables import (
    CURRENCY_CODES,
    CURRENCY_SYMBOLS,
    FILE_EXTENSIONS,
    GREEK_LETTERS,
    JAMO_NAMES,
    JAMO_RUN_SYLLABLES,
    NATIVE_COUNTERS,
    PER_UNITS,
    SINO_COUNTERS,
    TOP_LEVEL_DOMAINS,
    UNIT_PREFIXES,
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
        return _PH_RE.sub(lambda m: self.readings[self.index(m.group(0))], text)

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


def _whole(rule: str, read: Callable[[re.Match[str]], str | tuple[str, str] | None]) -> _Callback:
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


# ---------------------------------------------------------------------------------------------------
# Reading numbers.


def _alternation(words: Iterable[str]) -> str:
    """A regex alternation that tries longer words first (개월 before 개)."""
    return "|".join(re.escape(w) for w in sorted(words, key=lambda w: (-len(w), w)))


_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_N = rf"(?<![\d.,])(?:{_NUM})(?![\d])"  # a whole number token, not the tail of a longer one
_SIGN = r"(?:(?<![\w.,)\]%" + "\U000f0000-\U000ffffd" + r"])-)"  # a minus sign, not a hyphen
_HANGUL = re.compile("[가-힣]")


def read_sino(number: str) -> str:
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


def _signed(sign: str | None, words: str) -> str:
    return f"마이너스 {words}" if sign else words


def _plain_int(number: str) -> int | None:
    """The value of a number written without decimals or leading zeros, else None."""
    if "." in number or (len(number) > 1 and number.startswith("0")) or len(number) > 20:
        return None
    return int(number.replace(",", ""))


def _counted_int(number: str) -> int | None:
    """A number before a counter: also 07분 → 7 (a clock's leading zero is not read)."""
    if re.fullmatch(r"0\d", number):
        return int(number)
    return _plain_int(number)


def read_counted(number: str, counter: str) -> str:
    """A number before a counter, native or Sino-Korean as the counter requires: 3개 → 세 개."""
    value = _counted_int(number)
    if counter == "월" and value is not None:
        return kn.month(value)
    native = counter in NATIVE_COUNTERS
    if counter == "시" and value is not None and not 1 <= value <= 12:
        native = False  # 24-hour clock: 13시 → 십삼 시
    if counter == "시간" and value is not None and value > 20:
        native = False  # 24시간 → 이십사 시간 (news reading); 세 시간, 스무 시간
    if counter == "대" and value is not None and value % 10 == 0:
        native = False  # age groups: 20대 → 이십 대 (차 3대 → 세 대)
    if native and value is not None and 1 <= value <= 99:
        return f"{kn.native(value)} {counter}"
    if value is not None:
        return f"{kn.sino(value)} {counter}"
    return f"{read_sino(number)} {counter}"


def _read_big(number: str, unit: str) -> str:
    """3천 → 삼천, 5만 → 오만, 1만 → 만, 1억 → 일억, 1.5억 → 일 점 오억."""
    if number == "1" and unit in "천백만":
        return unit
    return read_sino(number) + unit


_LATIN_MULTIPLIERS = {
    "k": 10**3,
    "m": 10**6,
    "K": 10**3,
    "M": 10**6,
    "B": 10**9,
    "bn": 10**9,
    "thousand": 10**3,
    "million": 10**6,
    "billion": 10**9,
    "trillion": 10**12,
}


def _read_amount(number: str, big: str | None) -> str:
    """An amount with an optional multiplier: 15,000 / 5만 / 3M (삼백만) / 1.2B (십이억)."""
    big = (big or "").strip()
    if not big:
        return read_sino(number)
    if big in _LATIN_MULTIPLIERS:
        try:
            value = Decimal(number.replace(",", "")) * _LATIN_MULTIPLIERS[big]
        except InvalidOperation:
            return read_sino(number)
        if value == value.to_integral_value():
            return kn.sino(int(value))
        return read_sino(str(value))
    return _read_big(number, big)


def _digits(text: str) -> str:
    """A code digit by digit, groups separated by a space: 010-1234 → 공일공 일이삼사."""
    return " ".join(kn.digits(group, zero="공") for group in re.findall(r"\d+", text))


# ---------------------------------------------------------------------------------------------------
# Alternations.

_COUNTER_ALT = _alternation(NATIVE_COUNTERS | SINO_COUNTERS)
_UNIT_ALT = _alternation(u for u in UNITS if len(u) > 1)
_SINGLE_UNIT_ALT = _alternation(u for u in UNITS if len(u) == 1)
_ANY_UNIT = rf"(?:(?:{_UNIT_ALT})|(?:{_SINGLE_UNIT_ALT}))(?![A-Za-z\d])"
_QUANTITY = rf"(?:{_ANY_UNIT}|{_COUNTER_ALT})"
_PER_ALT = _alternation(PER_UNITS)
_CURRENCY_ALT = _alternation(CURRENCY_SYMBOLS)
_CODE_ALT = _alternation(CURRENCY_CODES)
_BIG = "조|억|만|천|백"
_LATIN_BIG = r"(?:thousand|million|billion|trillion|bn|[kKmMB])(?![A-Za-z])"
_WEEKDAY = "[월화수목금토일]"
_RANGE_SEP = "[~〜～]"
_DATE_WORDS = (
    "날짜|일정|일시|마감|기한|기간|생일|오늘|내일|어제|모레|개강|개학|출시|발매|예정|접수|신청|시작|종료|"
    "개막|폐막|행사|공연|방송|휴일|휴무|연휴|예약|출발|도착|입국|출국|발표|시험|회의"
)
_DATE_AFTER = re.compile(
    rf"\s?(?:{_RANGE_SEP}|\(\s?{_WEEKDAY}|\d{{1,2}}:\d{{2}}|오전|오후|새벽|아침|저녁|밤|까지|부터|마감|일정|"
    r"예정|개강|개학|출시|발매|생일|에\s?(?:만나|출발|도착|시작|열리|개최|마감|예정|방송|공개|오픈)|일자|"
    r"[가-힣]*(?:날|데이|절)(?![가-힣]))"
)
_DATE_BEFORE = re.compile(rf"(?:{_DATE_WORDS})[은는이가을를의에도]?\s?[:：]?\s?$")


def _reading_of_unit(unit: str) -> str:
    return UNITS[unit]


def read_quantity(sign: str | None, number: str, quantity: str | None) -> str:
    """A number with what follows it: a unit symbol, a counter, or nothing."""
    if not quantity:
        return _signed(sign, read_sino(number))
    quantity = quantity.strip()
    if quantity in ("h", "hr", "hrs"):
        return _signed(sign, read_counted(number, "시간"))
    if quantity in UNITS:
        prefix = UNIT_PREFIXES.get(quantity, "")
        words = f"{_signed(sign, read_sino(number))} {UNITS[quantity]}"
        return f"{prefix} {words}".strip()
    return _signed(sign, read_counted(number, quantity))


# ---------------------------------------------------------------------------------------------------
# Rule readings.


def _phone_international(match: re.Match[str]) -> str | None:
    country = match.group(1)
    groups = re.findall(r"\d+", re.sub(r"\(0\)", "", match.group(2)))
    if sum(len(g) for g in groups) < 6:
        return None
    return f"국가번호 {kn.digits(country, zero='공')} " + " ".join(kn.digits(g, zero="공") for g in groups)


def _phone(match: re.Match[str]) -> str:
    return _digits(match.group(0))


def _local_phone(match: re.Match[str]) -> str | None:
    first, second = match.group(1), match.group(2)
    if len(first) == 4 and 1000 <= int(first) < int(second) <= 2200:
        return None  # 1990-2000: years, a range
    return _digits(match.group(0))


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


def _date_ymd(match: re.Match[str]) -> str | None:
    words = _date_words(int(match.group(1)), int(match.group(3)), int(match.group(4)), match.group(6))
    return None if words is None else words + _end_dot(match, 5)


def _date_yy(match: re.Match[str]) -> str | None:
    return _date_words(int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4))


def _date_mdy(match: re.Match[str]) -> str | None:
    first, second, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    if first > 12 and second <= 12:
        first, second = second, first  # D/M/Y: the first field cannot be a month
    return _date_words(year, first, second, match.group(5))


def _date_md_dotted(match: re.Match[str]) -> str | None:
    return _date_words(None, int(match.group(1)), int(match.group(2)), match.group(3))


_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAME = (
    "Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    "Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?"
)


def _english_date(year: str | None, month_name: str, day: str) -> str | None:
    month = _MONTH_NAMES.index(month_name[:3].lower()) + 1
    return _date_words(int(year) if year else None, month, int(day), None)


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


def _fraction_words(numerator: str, denominator: str) -> str:
    root = numerator.startswith("√")
    top = "루트 " + read_sino(numerator[1:].strip()) if root else read_sino(numerator)
    return f"{read_sino(denominator)}분의 {top}"


def _fraction(match: re.Match[str]) -> str | tuple[str, str] | None:
    sign, whole, num, den, unit = (match.group(g) for g in ("sign", "whole", "num", "den", "unit"))
    plain = not sign and not whole and not unit and not num.startswith("√")
    if plain and 1 <= int(num) <= 12 and 1 <= int(den) <= 31 and _is_date_context(match):
        date = _date_words(None, int(num), int(den), None)
        return None if date is None else ("date", date)
    if int(den) == 0:
        return None
    words = _fraction_words(num, den)
    if whole:
        whole_words = read_sino(whole)
        words = f"{whole_words}{particles.agree(whole_words, '과')} {words}"
    words = _signed(sign, words)
    if unit:
        unit = unit.strip()
        words += " " + UNITS.get(unit, unit)
    return words


def _root(match: re.Match[str]) -> str:
    coefficient, radicand = match.group(1), match.group(2)
    rad = read_sino(radicand) if radicand[0].isdigit() else english.word(radicand)
    words = f"루트 {rad}"
    return f"{read_sino(coefficient)} {words}" if coefficient else words


def _time(match: re.Match[str]) -> str:
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3)) if match.group(3) else 0
    if hour > 24 or minute > 59 or second > 59:
        return f"{kn.sino(hour)} 대 {read_sino(match.group(2))}"
    before = match.string[: match.start()].rstrip()
    if hour > 12 and re.search("(?:오후|저녁|밤)$", before):
        hour -= 12  # 오후 14:30 → 오후 두 시 삼십 분
    words = [read_counted(str(hour), "시")]
    if minute:
        words.append(f"{kn.sino(minute)} 분")
    if second:
        words.append(f"{kn.sino(second)} 초")
    return " ".join(words)


def _am_pm_words(marker: str, hour: int, minute: int) -> str | None:
    if not 0 <= hour <= 12 or minute > 59:
        return None
    words = ["오전" if marker in "Aa" else "오후", read_counted(str(hour), "시")]
    if minute:
        words.append(f"{kn.sino(minute)} 분")
    return " ".join(words)


def _time_am_pm(match: re.Match[str]) -> str | None:
    return _am_pm_words(match.group(3), int(match.group(1)), int(match.group(2) or 0))


def _interpunct(match: re.Match[str]) -> str:
    """Named dates like 3·1절 → 삼일절, 6·25 → 육이오, 5·18 → 오일팔, 12·12 → 십이십이."""
    out = []
    for part in re.split("·", match.group(0)):
        value = int(part)
        out.append(kn.digits(part) if value > 12 and value % 10 else kn.sino(value))
    return "".join(out)


def _currency_symbol(match: re.Match[str]) -> str:
    symbol, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4)
    return f"{_signed(sign, _read_amount(number, big))} {CURRENCY_SYMBOLS[symbol]}"


def _currency_symbol_range(match: re.Match[str]) -> str:
    name = CURRENCY_SYMBOLS[match.group(1)]
    left = _read_amount(match.group(2), match.group(3))
    right = _read_amount(match.group(5), match.group(6))
    return f"{left} {name}에서 {right} {name}"


def _currency_after(match: re.Match[str]) -> str:
    sign, number, big, symbol = match.group(1), match.group(2), match.group(3), match.group(4)
    name = CURRENCY_SYMBOLS.get(symbol) or CURRENCY_CODES[symbol]
    return f"{_signed(sign, _read_amount(number, big))} {name}"


def _currency_code(match: re.Match[str]) -> str:
    code, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4)
    return f"{_signed(sign, _read_amount(number, big))} {CURRENCY_CODES[code]}"


def _unit(match: re.Match[str]) -> str:
    sign, number = match.group("sign"), match.group("num")
    unit = match.group("u") or match.group("u1")
    per = match.group("per")
    if unit == "s" and re.fullmatch(r"1\d\d0|20\d0", number) and not per:
        return f"{kn.sino(int(number))} 년대"  # 1990s → 천구백구십 년대
    words = read_quantity(sign, number, unit)
    if per:
        return f"{PER_UNITS[per]} {words}"
    return words


def _range(match: re.Match[str]) -> str:
    """3~5개 → 세 개에서 다섯 개: the left side takes the right side's counter when it has none."""
    right_quantity = match.group("rq")
    left_quantity = match.group("lq") or right_quantity
    left = read_quantity(match.group("ls"), match.group("l"), left_quantity)
    right = read_quantity(match.group("rs"), match.group("r"), right_quantity)
    return f"{left}에서 {right}"


def _range_open(match: re.Match[str], ex: _Expansion) -> str:
    """3시~ (then anything): the left side is read, the range word follows."""
    reading = read_quantity(match.group(1), match.group(2), match.group(3))
    return ex.emit("range", match.group(0).rstrip("~〜～ "), reading) + "에서 "


def _ordinal_th(match: re.Match[str]) -> str:
    value = _plain_int(match.group(1))
    words = kn.ordinal(value) if value is not None and value <= 99 else read_sino(match.group(1))
    return f"{words} 번째"


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
    return read_sino(match.group(1)) + " 번째"


_ORDINAL_JJAE = {1: "첫", 2: "둘", 3: "셋", 4: "넷"}


def _ordinal_jjae(match: re.Match[str]) -> str:
    value = _plain_int(match.group(1))
    if value is None or value > 99:
        return read_sino(match.group(1)) + "째"
    return _ORDINAL_JJAE.get(value, kn.native(value)) + "째"


def _weekday_group(match: re.Match[str]) -> str:
    days = re.findall(_WEEKDAY, re.sub("요일", "", match.group(0)))
    if re.search(_RANGE_SEP + "|-", match.group(0)) and len(days) == 2:
        return f" {WEEKDAYS[days[0]]}에서 {WEEKDAYS[days[1]]}"
    return " " + ", ".join(WEEKDAYS[d] for d in days)


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


def _code_part(part: str) -> str:
    return _digits(part) if part.isdigit() else english.alnum(part)


def _digits_after_key(match: re.Match[str], ex: _Expansion) -> str:
    return match.group(1) + ex.emit("digits", match.group(2), _digits(match.group(2)))


def _equals(match: re.Match[str], ex: _Expansion) -> str:
    before = ex.spoken_before(match.string[: match.start()])
    if not before or not "가" <= before <= "힣":
        return " "
    return "은 " if particles.final_consonant(before) else "는 "


def _between(match: re.Match[str], ex: _Expansion) -> str:
    """A range sign between two rewrites (dates, times, weekdays): 에서."""
    left, right = match.group("left"), match.group("right")
    if match.group("sep") in "-–" and not all(
        ex.rules[ex.index(ch)] in ("date", "time", "weekday") for ch in (left, right)
    ):
        return match.group(0)
    return f"{left}에서 {right}"


# ---------------------------------------------------------------------------------------------------
# The rules, in the order they apply.

_TLD_ALT = _alternation(TOP_LEVEL_DOMAINS)
_EXT_ALT = _alternation(FILE_EXTENSIONS)
_PHONE_SEP = r"[-. ]"

_RULES: list[tuple[str, re.Pattern[str], _Callback]] = [
    ("company", re.compile(r"\(주\)"), _whole("company", lambda m: "주식회사 ")),
    # Addresses: e-mail, URLs, bare domains, file names.
    (
        "email",
        re.compile(r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"),
        _whole("email", lambda m: english.email(m.group(0))),
    ),
    (
        "url",
        re.compile(
            r"(?:\b(?:https?|ftp)://|\bwww\.)[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~%/?#=&+-]*)?(?<![.,!?])",
            re.IGNORECASE,
        ),
        _whole("url", lambda m: english.url(m.group(0))),
    ),
    (
        "domain",
        re.compile(
            rf"(?<![\w@.])[A-Za-z0-9][A-Za-z0-9-]*(?:\.[A-Za-z0-9-]+)*\.(?:{_TLD_ALT})(?![A-Za-z0-9])"
            r"(?:/[A-Za-z0-9._~%/?#=&+-]*)?(?<![.,!?])"
        ),
        _whole("domain", lambda m: english.url(m.group(0))),
    ),
    (
        "file name",
        re.compile(rf"(?<![\w.])([\w가-힣][\w가-힣-]*)((?:\.(?:{_EXT_ALT}))+)(?![A-Za-z0-9])", re.IGNORECASE),
        _whole("file name", lambda m: english.file_name(m.group(1), m.group(2))),
    ),
    # Telephone numbers, digit by digit with 0 as 공; a country code is announced.
    (
        "phone",
        re.compile(
            r"(?<![\w+])(?:\(\s?)?\+\s?(\d{1,3})(?:\s?\))?((?:\s?\(0\))?(?:[\s.-]?\(?\d{1,5}\)?){1,5})(?![\d])"
        ),
        _whole("phone", _phone_international),
    ),
    (
        "phone",
        re.compile(r"(?<![\d)])(?:\(0?\d{1,3}|(?<![\d(])0\d{1,3})\)\s?\d{3,4}[-. ]\d{4}(?![\d-])"),
        _whole("phone", _phone),
    ),
    (
        "phone",
        re.compile(rf"(?<![\d.-])0\d{{1,3}}({_PHONE_SEP})\d{{3,4}}\1\d{{4}}(?![\d-]|\.\d)"),
        _whole("phone", _phone),
    ),
    (
        "phone",
        re.compile(r"(?<![\d.-])(?:1[-. ])?\d{3}([-.])\d{3}\1\d{4}(?![\d-]|\.\d)"),
        _whole("phone", _phone),
    ),
    (
        "phone",
        re.compile(r"(?<![\d-])(01[016789])(\d{3,4})(\d{4})(?!\d)"),
        _whole("phone", lambda m: " ".join(_digits(g) for g in m.groups())),
    ),
    # Korean number plates: 12가 3456 → 일이 가 삼사오육.
    (
        "plate",
        re.compile(
            r"(?<![\d.,])(\d{2,3})\s?([가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주아바사자배하허호])"
            r"\s?(\d{4})(?![\d,.])"
        ),
        _whole("plate", lambda m: f"{_digits(m.group(1))} {m.group(2)} {_digits(m.group(3))}"),
    ),
    # Codes starting with letters, joined by hyphens: SN-4K2J-9X7P, SM-G991N, COVID-19 (digits one by one).
    (
        "code",
        re.compile(r"(?<![A-Za-z\d-])(?=[A-Za-z\d-]*\d)[A-Za-z][A-Za-z\d]*(?:-[A-Za-z\d]+)+(?![A-Za-z\d-])"),
        _whole("code", lambda m: " ".join(_code_part(p) for p in m.group(0).split("-"))),
    ),
    (
        "phone",
        re.compile(r"(?<![\d.,-])1[568]\d\d[-. ]\d{4}(?![\d-]|\.\d)"),
        _whole("phone", _phone),
    ),
    # Dates: 2022-08-22, 2022.08.22, 2022. 8. 22., 2022/8/22, 23.04.09, 11/25/2023, 31/01/1999.
    (
        "date",
        re.compile(
            rf"(?<![\d.])(\d{{4}})([-./])\s?(\d{{1,2}})\2\s?(\d{{1,2}})(\.)?(?!\d)(?:\s?\(({_WEEKDAY})(?:요일)?\))?"
        ),
        _whole("date", _date_ymd),
    ),
    (
        "date",
        re.compile(rf"(?<![\d.])(\d{{2}})\.(\d{{2}})\.(\d{{2}})(?![\d.])(?:\s?\(({_WEEKDAY})(?:요일)?\))?"),
        _whole("date", _date_yy),
    ),
    (
        "date",
        re.compile(
            rf"(?<![\d./-])(\d{{1,2}})([/.-])(\d{{1,2}})\2(\d{{4}})(?!\d)(?:\s?\(({_WEEKDAY})(?:요일)?\))?"
        ),
        _whole("date", _date_mdy),
    ),
    (
        "date",
        re.compile(rf"(?<![\d./])(\d{{1,2}})[./](\d{{1,2}})\.?\s?\(({_WEEKDAY})(?:요일)?\)"),
        _whole("date", _date_md_dotted),
    ),
    # English month names: Jan 5, 2024 / 5 January 2024 / March 3rd.
    (
        "date",
        re.compile(
            rf"(?<![A-Za-z])({_MONTH_NAME})\.?\s(\d{{1,2}})(?:st|nd|rd|th)?(?![\d:])(?:,?\s(\d{{4}}))?(?!\d)",
            re.IGNORECASE,
        ),
        _whole("date", lambda m: _english_date(m.group(3), m.group(1), m.group(2))),
    ),
    (
        "date",
        re.compile(
            rf"(?<![\d.])(\d{{1,2}})(?:st|nd|rd|th)?\s({_MONTH_NAME})\.?,?\s(\d{{4}})(?!\d)", re.IGNORECASE
        ),
        _whole("date", lambda m: _english_date(m.group(3), m.group(2), m.group(1))),
    ),
    # Card, account and other grouped numbers: three or more groups, digit by digit.
    (
        "digits",
        re.compile(r"(?<![\d.,-])\d{4}([- ])\d{4}\1\d{4}\1\d{2,4}(?![\d-])"),
        _whole("digits", _phone),
    ),
    (
        "digits",
        re.compile(r"(?<![\d.,-])\d+(?:-\d+){2,}(?![\d-])"),
        _whole("digits", _phone),
    ),
    (
        "phone",
        re.compile(rf"(?<![\d.,-])(\d{{3,4}})-(\d{{4}})(?![\d,-]|\.\d|\s?(?:{_QUANTITY}))"),
        _whole("phone", _local_phone),
    ),
    # A number that names rather than counts: 비밀번호 0415, 끝자리 1234, 뒤 4자리는 5678, 112에 신고.
    (
        "digits",
        re.compile(
            r"((?:[가-힣]*번호|코드|PIN|OTP|비번|암호|학번|사번|군번|"
            r"(?:끝|뒷|뒤|앞|마지막)\s?(?:\d{1,2}\s?|[한두세네다섯여섯일곱여덟아홉열]{1,2}\s)?자리)"
            r"(?:\s?\d{1,2}\s?자리)?(?:는|은|가|이|를|을|도|만|의)?\s?[:：]?\s?[\[(「'\"]?)"
            rf"(\d{{2,}}(?:[ -]\d{{2,}})*)(?![\d,.]|\s?(?:번|개|명|회|차|위|{_ANY_UNIT}))"
        ),
        _digits_after_key,
    ),
    (
        "digits",
        re.compile(r"((?:국번\s?없이\s?))(\d{3,4})(?!\d)"),
        _digits_after_key,
    ),
    (
        "digits",
        re.compile(r"(?<![\d.,-])\d{3,4}(?=(?:로|으로)\s?끝나)"),
        _whole("digits", _phone),
    ),
    (
        "digits",
        re.compile(r"(?<![\d.,])1\d{2,3}(?=(?:에|로|으로|번)?\s?(?:신고|전화|문의|연락|상담))"),
        _whole("digits", _phone),
    ),
    # Weekdays: (목) → 목요일, (화~토) → 화요일에서 토요일, 월~금 → 월요일에서 금요일.
    (
        "weekday",
        re.compile(rf"\(\s?{_WEEKDAY}(?:요일)?(?:\s?(?:{_RANGE_SEP}|-|[,·/])\s?{_WEEKDAY}(?:요일)?)*\s?\)"),
        _whole("weekday", _weekday_group),
    ),
    (
        "weekday",
        re.compile(rf"(?<![가-힣\d]){_WEEKDAY}(?:요일)?\s?{_RANGE_SEP}\s?{_WEEKDAY}(?:요일)?(?![가-힣])"),
        _whole("weekday", _weekday_group),
    ),
    # v1.2 → 브이 일 점 이; B1층 → 지하 일 층; 1990-2000 → 천구백구십에서 이천.
    (
        "version",
        re.compile(r"(?<![A-Za-z])[vV](\d+(?:\.\d+)+)(?![\d.])"),
        _whole("version", lambda m: "브이 " + " 점 ".join(read_sino(p) for p in m.group(1).split("."))),
    ),
    (
        "floor",
        re.compile(r"(?<![A-Za-z])B(\d{1,2})\s?층"),
        _whole("floor", lambda m: f"지하 {read_sino(m.group(1))} 층"),
    ),
    (
        "range",
        re.compile(
            rf"(?<![\d.,-])(1\d{{3}}|20\d\d)\s?[-~]\s?(1\d{{3}}|20\d\d)(?![\d-])(?!\s?(?:{_QUANTITY}))"
        ),
        _whole(
            "range",
            lambda m: (
                f"{read_sino(m.group(1))}에서 {read_sino(m.group(2))}"
                if int(m.group(1)) < int(m.group(2))
                else None
            ),
        ),
    ),
    # Versions and addresses: 3.5.1 → 삼 점 오 점 일, 192.168.0.1.
    (
        "version",
        re.compile(r"(?<![\d.,])\d+(?:\.\d+){2,}(?![\d])"),
        _whole(
            "version",
            lambda m: " 점 ".join(
                kn.sino(int(part)) if len(part) < 20 else kn.digits(part) for part in m.group(0).split(".")
            ),
        ),
    ),
    # English ordinal suffixes: 1st → 퍼스트, 21st → 이십일 번째.
    (
        "ordinal",
        re.compile(r"(?<![\d.,])(\d+)(st|nd|rd|th)(?![A-Za-z\d])"),
        _whole("ordinal", _english_ordinal),
    ),
    # 9:30 AM → 오전 아홉 시 삼십 분, 3PM → 오후 세 시; 10시 00분 → 열 시.
    (
        "time",
        re.compile(r"(?<![\d:.,])(\d{1,2})(?::(\d{2}))?\s?([AaPp])\.?[Mm](?:\.|(?![A-Za-z]))"),
        _whole("time", _time_am_pm),
    ),
    (
        "time",
        re.compile(r"(?<![A-Za-z])([AaPp])\.?[Mm]\.?\s?(\d{1,2})(?::(\d{2}))?(?![\d:])"),
        _whole("time", lambda m: _am_pm_words(m.group(1), int(m.group(2)), int(m.group(3) or 0))),
    ),
    # Durations in symbols: 1h 30m → 한 시간 삼십 분, 2m 30s → 이 분 삼십 초.
    (
        "unit",
        re.compile(r"(?<![\d.,A-Za-z])(\d+)\s?h\s?(\d+)\s?m(?:in)?(?![A-Za-z\d])"),
        _whole("unit", lambda m: f"{read_counted(m.group(1), '시간')} {kn.sino(int(m.group(2)))} 분"),
    ),
    (
        "unit",
        re.compile(r"(?<![\d.,A-Za-z])(\d+)\s?m(?:in)?\s?(\d+)\s?s(?:ec)?(?![A-Za-z\d])"),
        _whole("unit", lambda m: f"{kn.sino(int(m.group(1)))} 분 {kn.sino(int(m.group(2)))} 초"),
    ),
    # Video resolutions: 1080p → 천팔십 피.
    (
        "unit",
        re.compile(r"(?<![\d.,A-Za-z])(240|360|480|720|1080|1440|2160|4320)p(?![A-Za-z\d])"),
        _whole("unit", lambda m: f"{kn.sino(int(m.group(1)))} 피"),
    ),
    # No. 3 → 넘버 삼.
    (
        "ordinal",
        re.compile(r"(?<![A-Za-z])No\.\s?(\d+)(?!\d)"),
        _whole("ordinal", lambda m: f"넘버 {read_sino(m.group(1))}"),
    ),
    (
        "time",
        re.compile(r"(?<![\d:.,])(\d{1,2})\s?시\s?00\s?분"),
        _whole("time", lambda m: read_counted(m.group(1), "시")),
    ),
    # Clock times 12:30(:15), then scores and ratios 3:2.
    ("time", re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])"), _whole("time", _time)),
    (
        "ratio",
        re.compile(r"(?<![\d:.,])(\d+)\s?:\s?(\d+)(?![\d:])"),
        _whole("ratio", lambda m: f"{read_sino(m.group(1))} 대 {read_sino(m.group(2))}"),
    ),
    (
        "named date",
        re.compile(r"(?<![\d.,·])\d{1,2}(?:·\d{1,2})+(?![\d·])"),
        _whole("named date", _interpunct),
    ),
    # Quarters: 3/4분기 → 삼 사분기 (the third quarter); 2024.3 → 이천이십사 년 삼월.
    (
        "date",
        re.compile(r"(?<![\d.,/])([1-4])\s?/\s?4\s?분기"),
        _whole("date", lambda m: f"{kn.sino(int(m.group(1)))} 사분기"),
    ),
    (
        "date",
        re.compile(rf"(?<![\d.,])((?:19|20)\d\d)\.(0?[1-9]|1[0-2])(?![\d.])(?!\s?(?:{_QUANTITY}))"),
        _whole("date", lambda m: f"{kn.sino(int(m.group(1)))} 년 {kn.month(int(m.group(2)))}"),
    ),
    # Fractions (negative, mixed, roots, with a unit), and a/b dates by context: 1/2, 1과1/4kg, -2/5m.
    (
        "fraction",
        re.compile(
            rf"(?<![\d.,/])(?P<sign>{_SIGN})?(?:(?P<whole>\d+)\s?(?:과|와|\s)\s?)?(?P<num>√\s?\d+|\d+)\s?[/⁄]\s?"
            rf"(?P<den>\d+)(?![\d/])(?P<unit>\s?{_QUANTITY})?"
        ),
        _whole("fraction", _fraction),
    ),
    (
        "fraction",
        re.compile(rf"({_N})\s?분의\s?({_N})"),
        _whole("fraction", lambda m: f"{read_sino(m.group(1))}분의 {read_sino(m.group(2))}"),
    ),
    ("root", re.compile(r"(\d+)?\s?√\s?\(?(\d+(?:\.\d+)?|[A-Za-z])\)?"), _whole("root", _root)),
    # Money: symbols and codes before or after the amount: ₩15,000, US$100, $5만, $3M, KRW 45,000, 30€.
    (
        "currency",
        re.compile(
            rf"(?<![A-Za-z])({_CURRENCY_ALT})\s?({_NUM})(\s?(?:{_BIG})|{_LATIN_BIG})?\s?{_RANGE_SEP}\s?"
            rf"(\1)?\s?({_NUM})(\s?(?:{_BIG})|{_LATIN_BIG})?"
        ),
        _whole("currency", _currency_symbol_range),
    ),
    (
        "currency",
        re.compile(
            rf"(?<![A-Za-z])({_CURRENCY_ALT})\s?(-)?({_NUM})(\s?(?:{_BIG})(?![가-힣])|\s?{_LATIN_BIG}|\s?(?:{_BIG}))?"
        ),
        _whole("currency", _currency_symbol),
    ),
    (
        "currency",
        re.compile(rf"(?<![A-Za-z])({_CODE_ALT})\s?(-)?({_NUM})(\s?(?:{_BIG})|\s?{_LATIN_BIG})?(?![\d])"),
        _whole("currency", _currency_code),
    ),
    (
        "currency",
        re.compile(
            rf"({_SIGN})?(?<![\d.,])({_NUM})(\s?(?:{_BIG})|\s?{_LATIN_BIG})?\s?({_CURRENCY_ALT}|(?:{_CODE_ALT})(?![A-Za-z]))"
        ),
        _whole("currency", _currency_after),
    ),
    # Ranges: 3~5개, 3-5개, 1990~2000년대, -5~5도, 3~4kg: each side with its own counter or unit.
    (
        "range",
        re.compile(
            rf"(?P<ls>{_SIGN})?(?<![\d.,])(?P<l>{_NUM})(?P<lq>\s?{_QUANTITY})?\s?(?:{_RANGE_SEP}|-)\s?"
            rf"(?P<rs>-)?(?P<r>{_NUM})(?![\d])\s?(?P<rq>{_QUANTITY})"
        ),
        _whole("range", _range),
    ),
    (
        "range",
        re.compile(rf"({_SIGN})?(?<![\d.,])({_NUM})(?![\d])(?:\s?({_QUANTITY}))?\s?{_RANGE_SEP}\s?(?=\S)"),
        _range_open,
    ),
    # Number + unit symbol: 5km, 36.5°C, 100km/h, 5L/min, 50%, 84m2, 45s, 72h.
    (
        "unit",
        re.compile(
            rf"(?P<sign>{_SIGN})?(?<![\d.,A-Za-z])(?P<num>{_NUM})(?![\d])(?:\s?(?P<u>{_UNIT_ALT})|(?P<u1>{_SINGLE_UNIT_ALT}))"
            rf"(?:/(?P<per>{_PER_ALT}))?(?![A-Za-z\d])"
        ),
        _whole("unit", _unit),
    ),
    # 제1회 → 제일 회, 제3장 → 제삼 장.
    (
        "ordinal",
        re.compile(rf"(?<![가-힣])제\s?({_N})"),
        _whole("ordinal", lambda m: f"제{read_sino(m.group(1))} "),
    ),
    # Ordinals: 1번째 → 첫 번째, 2째 → 둘째.
    ("ordinal", re.compile(rf"({_N})\s?번\s?째"), _whole("ordinal", _ordinal_th)),
    ("ordinal", re.compile(rf"({_N})째"), _whole("ordinal", _ordinal_jjae)),
    # Street blocks: 종로3가 → 종로 삼가 (not the particle 가).
    (
        "address",
        re.compile(r"(?<=[가-힣])(\d{1,2})가(?![가-힣])"),
        _whole("address", lambda m: f"{read_sino(m.group(1))}가"),
    ),
    # Names mixing letters and digits: MP3, A4, 5G, B2B, AB-1234.
    (
        "letters and digits",
        re.compile(
            r"(?<![A-Za-z\d])(?=[A-Za-z\d-]*[A-Za-z])(?=[A-Za-z\d-]*\d)[A-Za-z\d]+(?:-[A-Za-z\d]+)*(?![A-Za-z\d])"
        ),
        _whole("letters and digits", lambda m: " ".join(english.alnum(p) for p in m.group(0).split("-"))),
    ),
    # 3천, 5만, 1억 2천만, 1.5억.
    (
        "number",
        re.compile(rf"({_N})\s?({_BIG})"),
        _whole("number", lambda m: _read_big(m.group(1), m.group(2))),
    ),
    # Number + counter: 3개 → 세 개, 20세기 → 이십 세기, 6월 → 유월, 07분 → 칠 분.
    (
        "counter",
        re.compile(rf"({_SIGN})?({_N})\s?({_COUNTER_ALT})"),
        _whole("counter", lambda m: _signed(m.group(1), read_counted(m.group(2), m.group(3)))),
    ),
    # Any other number, Sino-Korean; a minus sign before it.
    (
        "number",
        re.compile(rf"({_SIGN})?({_N})"),
        _whole("number", lambda m: _signed(m.group(1), read_sino(m.group(2)))),
    ),
    ("number", re.compile(r"\d+"), _whole("number", lambda m: read_sino(m.group(0)))),
    # A range sign between two rewrites: 2023.1.1~2023.1.31, 10:00-18:00, (월)~(금).
    (
        "range",
        re.compile(rf"(?P<left>{_PH})\s?(?P<sep>{_RANGE_SEP}|-|–)\s?(?P<right>{_PH})"),
        _between,
    ),
    # Initials (J. K.) and English words and acronyms.
    ("letters", re.compile(r"(?<![A-Za-z])([A-Z])\.(?=\s?[A-Z])"), lambda m, ex: m.group(1)),
    (
        "english",
        re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*"),
        _whole("english", lambda m: english.word(m.group(0))),
    ),
    # 1 더하기 1 = 2: "=" reads as the topic particle, 은 after a final consonant, else 는.
    ("equals", re.compile(r"\s*=\s*"), _equals),
]


def _trigger(name: str, callback: _Callback) -> re.Pattern[str] | None:
    """A cheap test that a rule can match at all (most sentences have no digit and no Latin letter)."""
    if callback is _between:
        return _PH_RE
    if name in ("root",):
        return re.compile("√")
    if name in ("company", "equals"):
        return None
    if name == "weekday":
        return re.compile(_WEEKDAY)
    if name in ("code", "email", "url", "domain", "file name", "letters and digits", "letters", "english"):
        return re.compile("[A-Za-z]")
    return re.compile(r"\d")


_TRIGGERS = [_trigger(name, callback) for name, _pattern, callback in _RULES]

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


_HANJA = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_JAMO = re.compile(r"([ㄱ-ㅎ]+)|[ㅏ-ㅣ]+")
_PARTICLE_AFTER = re.compile(rf"({_PH})({particles.PARTICLE})")


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
    text = _JAMO.sub(lambda m: ex.emit("jamo", m.group(0), _compat_jamo(m)), text)
    for (_name, pattern, callback), trigger in zip(_RULES, _TRIGGERS, strict=True):
        if trigger is None or trigger.search(text):
            text = pattern.sub(lambda m, cb=callback: cb(m, ex), text)  # type: ignore[misc]
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
        for i, rule in enumerate(ex.rules)
        if rule == "particle"
    ]
    return tidy_punctuation(ex.fill(text)), rewrites + particle_fixes


def expand(text: str, *, lexicon: Lexicon | None = None) -> str:
    """One sentence → Hangul words and . , ! ? only, ready for g2pk (numbers, units, English …).

    Never raises on odd input: what cannot be read is dropped (letters of other scripts with a
    warning). Loads mecab only for Hanja, g2pk and the CMU dictionary only for an English word its
    table does not know.
    """
    return expand_with_rewrites(text, lexicon=lexicon)[0]

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

- Issue 27's rules (service and lot numbers, named dates, offers, scores, 영하, chat, cents, rates,
  hour ranges, arrows) and the ambiguous forms they decide are listed in docs/normalization.md.

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
    CHAT_INITIALISMS,
    CURRENCY_CODES,
    CURRENCY_SUBUNITS,
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

    _READ_OF[callback] = read
    return callback


_READ_OF: dict[_Callback, Callable[..., object]] = {}  # for `_trigger`: which reading a rule uses


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


def _money(number: str, big: str | None, name: str) -> str:
    """An amount and its currency: $9.99 → 구 달러 구십구 센트, 10.00원 → 십 원, 3.0만 원 → 삼만 원.

    Two decimals in a currency with cents are cents; otherwise trailing zeros after the point are not
    read (they say nothing about the amount) and one decimal stays a decimal ($2.5 → 이 점 오 달러).
    """
    if "." in number and (big or "").strip() not in _LATIN_MULTIPLIERS:
        whole, fraction = number.split(".", 1)
        subunit = next((sub for unit, sub in CURRENCY_SUBUNITS.items() if name.endswith(unit)), None)
        if subunit and len(fraction) == 2 and not (big or "").strip():
            units, cents = int(whole.replace(",", "") or "0"), int(fraction)
            words = [f"{kn.sino(units)} {name}"] if units or not cents else []
            if cents:
                words.append(f"{kn.sino(cents)} {subunit}")
            return " ".join(words)
        fraction = fraction.rstrip("0")
        number = f"{whole}.{fraction}" if fraction else whole
    return f"{_read_amount(number, big)} {name}"


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
_CODE_ALT = _alternation([*CURRENCY_CODES, *LOWERCASE_CURRENCY_CODES])
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
_RATE_ALT = _alternation(RATE_PER)


def _reading_of_unit(unit: str) -> str:
    return UNITS[unit]


def read_quantity(sign: str | None, number: str, quantity: str | None) -> str:
    """A number with what follows it: a unit symbol, a counter, or nothing."""
    if not quantity:
        return _signed(sign, read_sino(number))
    quantity = quantity.strip()
    if quantity in ("h", "hr", "hrs"):
        return _signed(sign, read_counted(number, "시간"))
    if quantity in ("cup", "cups"):
        return _signed(sign, read_counted(number, "컵"))  # 2 cups → 두 컵, as 2컵
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


def _root_words(term: str) -> str:
    """A number that may hold a square root: 3 → 삼, √2 → 루트 이, 3√2 → 삼 루트 이."""
    coefficient, root, radicand = term.partition("√")
    if not root:
        return read_sino(term.strip())
    words = f"루트 {read_sino(radicand.strip())}"
    return f"{read_sino(coefficient.strip())} {words}" if coefficient.strip() else words


def _fraction_words(numerator: str, denominator: str) -> str:
    return f"{_root_words(denominator)}분의 {_root_words(numerator)}"


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
        return f"{read_counted(whole, unit_words)} 반"  # 1 1/2컵 → 한 컵 반, 2½시간 → 두 시간 반
    words = _fraction_words(num, den)
    if whole:
        whole_words = read_sino(whole)
        words = f"{whole_words}{particles.agree(whole_words, '과')} {words}"
    words = _signed(sign, words)
    if unit:
        words += " " + unit_words
    return words


_ROOT_NAMES = {"√": "루트", "∛": "세제곱근", "∜": "네제곱근"}


def _root(match: re.Match[str]) -> str:
    coefficient, sign, radicand, unit = match.group(1), match.group(2), match.group(3), match.group(4)
    rad = read_sino(radicand) if radicand[0].isdigit() else english.word(radicand)
    words = f"{_ROOT_NAMES[sign]} {rad}"
    if unit:
        words += " " + UNITS[unit.strip()]
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
    pair = re.fullmatch(r"(\d{1,2})·(\d{1,2})", match.group(0))
    if pair and 1 <= int(pair.group(1)) <= 12 and 1 <= int(pair.group(2)) <= 31:
        return _named_date_words(int(pair.group(1)), int(pair.group(2)))  # 9·11 → 구일일
    out = []
    for part in re.split("·", match.group(0)):
        value = int(part)
        out.append(kn.digits(part) if value > 12 and value % 10 else kn.sino(value))
    return "".join(out)


def _currency_symbol(match: re.Match[str]) -> str:
    symbol, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4)
    return _signed(sign, _money(number, big, CURRENCY_SYMBOLS[symbol]))


def _currency_symbol_range(match: re.Match[str]) -> str:
    name = CURRENCY_SYMBOLS[match.group(1)]
    left = _money(match.group(2), match.group(3), name)
    right = _money(match.group(5), match.group(6), name)
    return f"{left}에서 {right}"


def _currency_after(match: re.Match[str]) -> str:
    sign, number, big, symbol = match.group(1), match.group(2), match.group(3), match.group(4)
    name = CURRENCY_SYMBOLS.get(symbol) or CURRENCY_CODES[symbol.upper()]
    return _signed(sign, _money(number, big, name))


def _currency_code(match: re.Match[str]) -> str:
    code, sign, number, big = match.group(1), match.group(2), match.group(3), match.group(4)
    return _signed(sign, _money(number, big, CURRENCY_CODES[code.upper()]))


def _currency_word(match: re.Match[str]) -> str | None:
    """3.50달러, 10.00원: a decimal amount before the currency's Korean name (whole ones are counters)."""
    sign, number, big, name = match.group(1), match.group(2), match.group(3), match.group(4)
    if "." not in number:
        return None
    return _signed(sign, _money(number, big, re.sub(r"\s+", " ", name)))


_LENGTHS = frozenset(("km", "m", "cm", "mm", "mi", "ft", "yd"))
_SPEED_PREFIXES = {"h": "시속", "hr": "시속", "hour": "시속", "min": "분속", "s": "초속", "sec": "초속"}


def _unit(match: re.Match[str]) -> str:
    sign, number = match.group("sign"), match.group("num")
    unit = match.group("u") or match.group("u1") or match.group("u2")
    per = match.group("per")
    if unit == "s" and re.fullmatch(r"1\d\d0|20\d0", number) and not per:
        return f"{kn.sino(int(number))} 년대"  # 1990s → 천구백구십 년대
    words = read_quantity(sign, number, unit)
    if per and unit in _LENGTHS and per in _SPEED_PREFIXES:
        return f"{_SPEED_PREFIXES[per]} {words}"  # 10km/hr → 시속 십 킬로미터, 3km/s → 초속 삼 킬로미터
    if per:
        return f"{PER_UNITS[per]} {words}"
    return words


# Two neighbouring numbers said as one (2~3일 정도 → 이삼 일, 3~4개쯤 → 서너 개), as announcers do
# before a word that makes the range an estimate or a duration.
_SINO_PAIRS = ("", "일이", "이삼", "삼사", "사오", "오륙", "육칠", "칠팔", "팔구")
_NATIVE_PAIRS = ("", "한두", "두세", "서너", "네댓", "대여섯", "예닐곱", "일고여덟", "여덟아홉")
_ESTIMATE_AFTER = re.compile(r"\s?(?:정도|쯤|가량|동안|걸려|걸리|걸린|걸릴|소요|내외|남짓|만에|씩|안팎)")


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
    l_value, r_value = _plain_int(match.group("l")), _plain_int(match.group("r"))
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
        pair = _NATIVE_PAIRS[l_value] if native else _SINO_PAIRS[l_value]
        return f"{pair} {right_quantity}"
    text = match.string
    left = _temperature(match.group("ls"), match.group("l"), left_quantity, text) or read_quantity(
        match.group("ls"), match.group("l"), left_quantity
    )
    right = _temperature(match.group("rs"), match.group("r"), right_quantity, text) or read_quantity(
        match.group("rs"), match.group("r"), right_quantity
    )
    if right_quantity == "시":
        left, right = _same_clock(left, right, text[: match.start()])
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


_JAMO_NAMED = re.compile(
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


def _code_part(part: str) -> str:
    """One part of a hyphenated code: GPT-4 → 포 (one digit, English), COVID-19 → 일구."""
    if part.isdigit():
        return kn.english_digits(part) if len(part) == 1 else _digits(part)
    return english.alnum(part)


def _digits_after_key(match: re.Match[str], ex: _Expansion) -> str:
    return match.group(1) + ex.emit("digits", match.group(2), _digits(match.group(2)))


def _equals(match: re.Match[str], ex: _Expansion) -> str:
    before = ex.spoken_before(match.string[: match.start()])
    if not before or not "가" <= before <= "힣":
        return " "
    return "은 " if particles.final_consonant(before) else "는 "


def _until(match: re.Match[str], ex: _Expansion) -> str:
    """~5월 31일: a range sign with nothing before it reads 까지 after what follows."""
    return match.group(1) + "까지"


def _between(match: re.Match[str], ex: _Expansion) -> str:
    """A range sign between two rewrites (dates, times, weekdays): 에서; hours on one clock."""
    left, right = match.group("left"), match.group("right")
    if match.group("sep") in "-–" and not all(
        ex.rules[ex.index(ch)] in ("date", "time", "weekday") for ch in (left, right)
    ):
        return match.group(0)
    _clock_pair(match, ex)
    return f"{left}에서 {right}"


# ---------------------------------------------------------------------------------------------------
# Issue 27: service numbers, lot numbers, named dates, offers and scores, sub-zero temperatures,
# rates, clock ranges, arrows. Each reading function sits above its rule's pattern.

_PARTICLE_ALT = "은|는|이|가|을|를|의|에|에서|로|으로|와|과|도|만|나|이나|부터|까지|이다|입니다|이에요|예요"
_WORD_END = re.compile(rf"(?:{_PARTICLE_ALT})?(?=$|[\s.,!?)\]'\"])")

# --- service numbers: 119, 112 신고, 화재 시 119, 1330 ----------------------------------------------
_SERVICE_ALT = _alternation(SERVICE_NUMBERS)
_SERVICE_AFTER = re.compile(
    r"[)\]]?번?(?:에|로|으로|을|를|이나|나|은|는|이|가|도|만)?\s?"
    r"(?:신고|전화|문의|연락|상담|안내|출동|호출|구조|구급|상황실|안전센터|콜센터|센터|번호|"
    r"불러|부르|누르|눌러|걸어|걸면|걸었|걸고|연결|긴급)"
)
_SERVICE_BEFORE = re.compile(
    r"(?:경찰|소방|구급|응급|긴급|화재|사고|신고|범죄|실종|위급|재난|구조|콜센터|민원|상담|안내|전화|연락|"
    r"국번)[가-힣]*\s?(?:[가-힣]+\s?){0,2}[:：]?\s?[(\[]?$"
)


def _service_number(match: re.Match[str]) -> str | None:
    """119 is 일일구 where the words around it say it is a number to call; else a number (백십구)."""
    after = match.string[match.end() :]
    if _SERVICE_AFTER.match(after):
        return _digits(match.group(0))
    if _SERVICE_BEFORE.search(match.string[: match.start()]) and _WORD_END.match(after):
        return _digits(match.group(0))
    return None


# --- lot, building and unit numbers: 123-45번지, 산 12-3, 테헤란로 152-1, 101-1203호 --------------------


def _lot(match: re.Match[str]) -> str:
    mountain = "산 " if match.group(1) else ""
    lot = " 번지" if match.group(0).endswith("번지") else ""
    return f"{mountain}{read_sino(match.group(2))} 다시 {read_sino(match.group(3))}{lot}"


_LOT_BEFORE = re.compile(
    r"(?:[가-힣](?<![으에])로|[가-힣]길|[가-힣](?:시|구|군|읍|면)\s[가-힣]+(?:동|리|가))\s?$"
)


def _road_lot(match: re.Match[str]) -> str | None:
    if not _LOT_BEFORE.search(match.string[: match.start()]):
        return None
    return f"{read_sino(match.group(2))} 다시 {read_sino(match.group(3))}"


_HOME_WORDS = re.compile(r"(?:아파트|빌라|오피스텔|맨션|주소|빌딩|타워|[가-힣]동|[가-힣]로|[가-힣]길)\s?$")


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
    return f"{read_sino(left)} 다시 {read_sino(right)} 호"


# --- seasons: 2019-2020 시즌, 2019-20 시즌 -------------------------------------------------------------


def _season(match: re.Match[str]) -> str | None:
    first, second = match.group(1), match.group(2)
    if int(second) % 100 != (int(first) + 1) % 100:
        return None
    return f"{kn.sino(int(first))} {kn.sino(int(second))}"


# --- named dates with a dot or a slash: 3.1절, 6.25 전쟁, 5/18 민주화운동 ---------------------------


def _named_date_words(month: int, day: int) -> str:
    """6·25 → 육이오, 9·11 → 구일일, 6·10 → 육십, 12·12 → 십이십이, 10·26 → 십이육."""
    if day < 10 or day % 10 == 0 or day == month:
        return kn.sino(month) + kn.sino(day)
    return kn.sino(month) + kn.digits(str(day))


_NAMED_EVENT = re.compile(
    r"\s?(?:절|운동|전쟁|사변|동란|참전|발발|휴전|정전|혁명|민주|항쟁|의거|사태|사건|선언|정신|기념|묘지|묘역|참사|"
    r"테러|공동|선거|대첩|만세|"
    r"유공자|광복|세월호|특별법|희생자|유족|진상|계엄|쿠데타|정변)"
)
# The ones so well known that they are read as a date without the event's name (6.25 당시, 5.18은).
_FAMOUS_DATES = frozenset(("3.1", "4.19", "5.16", "5.18", "6.10", "6.25", "6.29", "8.15", "10.26", "12.12"))
# Standing alone: the end of the sentence or clause, or a particle (5.18은 …); not 3.1 버전.
_NAME_ALONE = re.compile(rf"(?:(?:{_PARTICLE_ALT})(?=$|[\s.,!?)\]'\"])|(?=$|[.,!?)\]'\"]))")
_FAMOUS_AFTER = re.compile(r"\s?(?:당시|때|이후|이전|직후|직전|세대)")
_QUANTITY_BEFORE = re.compile(
    r"(?:평점|평균|지수|점수|수치|비율|금리|환율|시력|버전|약|총|값|기록|배율|성적|학점|평가|무게|길이|키|"
    r"가격|증가|감소|상승|하락|[A-Za-z])\s?(?:은|는|이|가|을|를|의|도|만)?\s?[:：]?\s?$"
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


# --- offers and scores: 1+1, 2+1 → 원 플러스 원, 투 플러스 원; 3-1로 이겼다, 2대1 → 이 대 일 -------------

_OFFER_WORDS = re.compile(
    r"행사|증정|이벤트|할인|세일|특가|편의점|기획|상품|제품|구매|혜택|적용|프로모션|덤|묶음|쿠폰|매장|마트|행사가|"
    r"원플|사면|주문|판매|골라|음료|과자|라면"
)
_MATH_WORDS = re.compile(r"[=×÷*^]|더하기|빼기|계산|수학|정답|문제|답은|답이|얼마|방정식|산수|덧셈")


_MATH_AFTER = re.compile(r"\s?(?:은|는|의|이|가)?\s?(?:\d|얼마|몇)")


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


_RESULT_WORDS = (
    "이겼|이기|이긴|졌|패배|패했|패한|승리|꺾|비겼|비긴|무승부|스코어|역전|완승|완패|대승|대패|대파|신승|석패|"
    "앞서|앞선|뒤지|뒤진|뒤졌|리드|동점|점차|골차|득점|실점|승부|격파|제압|눌렀|물리|무릎"
)
_SCORE_CONTEXT = re.compile(
    _RESULT_WORDS + "|경기(?!도)|결승|전반|후반|연장|세트|이닝|쿼터|라운드|점수|대회|리그|시즌"
)
_RESULT_CONTEXT = re.compile(_RESULT_WORDS)
_CLOCK_CUE_BEFORE = re.compile(
    r"(?:오전|오후|새벽|아침|저녁|밤|낮|정오|시각|시간|시작|킥오프)\s?(?:은|는|이|가)?\s?$"
)
_CLOCK_CUE_AFTER = re.compile(r"\s?(?:에\s?(?:시작|열|킥오프|개막|개최|출발|도착)|부터|까지|경|쯤|분|시)")


_RESULT_AFTER = re.compile(rf"(?:로|으로|의|에서)?\s?(?:[가-힣]+\s)?(?:{_RESULT_WORDS})")
_SCORE_BEFORE = re.compile(r"(?:스코어|점수|세트|결과|최종|전적)\s?(?:는|은|가|이|로)?\s?[:：]?\s?$")


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
    return f"{read_sino(hours)} 대 {read_sino(minutes)}"


def _score_dae(match: re.Match[str]) -> str:
    return f"{read_sino(match.group(1))} 대 {read_sino(match.group(2))}"


def _ampersand(match: re.Match[str]) -> str | None:
    """R&D → 알앤디; KBS & MBC (spaced, longer than one letter a side) keeps 앤드."""
    if (match.group(2) or match.group(3)) and len(match.group(1) + match.group(4)) > 2:
        return None
    return english.spell(match.group(1)) + "앤" + english.spell(match.group(4))


def _sharp(match: re.Match[str]) -> str:
    return english.spell(match.group(1)) + "샵"  # C# → 씨샵


# --- sub-zero temperatures: -5도, -12℃ → 영하 오 도, 영하 십이 도 ----------------------------------------

_TEMPERATURE_UNITS = frozenset(("°C", "°F", "°", "도", "도씨"))
_ANGLE_WORDS = re.compile(r"각도|회전|기울|경사|방위|위도|경도|꺾|틀어|돌려|돌리|방향|각이")


def _temperature(sign: str | None, number: str, unit: str | None, text: str) -> str | None:
    """A temperature below zero in words (영하 오 도), or None when it is not one."""
    unit = (unit or "").strip()
    if not sign or unit not in _TEMPERATURE_UNITS:
        return None
    if unit in ("도", "°", "도씨") and _ANGLE_WORDS.search(text):
        return None
    words = f"영하 {read_sino(number)} {'도씨' if unit == '도씨' else '도'}"
    return f"화씨 {words}" if unit == "°F" else words


def _temperature_rule(match: re.Match[str]) -> str | None:
    return _temperature("-", match.group("num"), match.group("u"), match.string)


# --- clock hours on both sides of a range in the same numerals --------------------------------------

_HOUR_VALUES = {kn.native(h): h for h in range(1, 25)} | {kn.sino(h): h for h in range(0, 25)}
_HALF_DAY = "오전|오후|새벽|아침|낮|저녁|밤"
_HOUR_READING = re.compile(rf"(?:(?P<half>{_HALF_DAY}) )?(?P<hour>\S+) 시(?= |$)")


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


def _clock_pair(match: re.Match[str], ex: _Expansion) -> str:
    """9시부터 18시까지: the two hour readings are made to use one clock (아홉 시부터 열여덟 시까지)."""
    left, right = ex.index(match.group("left")), ex.index(match.group("right"))
    if all(ex.rules[i] in ("time", "counter") for i in (left, right)):
        ex.readings[left], ex.readings[right] = _same_clock(
            ex.readings[left], ex.readings[right], match.string[: match.start()]
        )
    return match.group(0)


def _counter(match: re.Match[str]) -> str:
    """Number + counter; 오후 18시 → 오후 여섯 시 (오후 already says which half of the day)."""
    sign, number, counter = match.group(1), match.group(2), match.group(3)
    value = _counted_int(number)
    afternoon = re.search("(?:오후|저녁|밤)\\s?$", match.string[: match.start()])
    if counter == "시" and value is not None and 13 <= value <= 24 and afternoon:
        number = str(value - 12)
    return _signed(sign, read_counted(number, counter))


# --- rates: 1,000원/kg → 킬로그램당 천 원, 3만원/월 → 월 삼만 원 --------------------------------------


def _rate(match: re.Match[str]) -> str:
    amount = expand_with_rewrites(match.group("amount"))[0]
    return f"{RATE_PER[match.group('per')]} {amount}"


# --- arrows: 서울→부산 → 서울에서 부산까지, 10,000원→8,000원 → 만 원에서 팔천 원으로 ------------------------

_VALUE_RULES = frozenset(("number", "currency", "unit", "counter", "fraction", "time", "date", "range"))
_CHANGE_AFTER = re.compile(
    r"\s?(?:이동|이사|이전|변경|바뀌|바꾸|전환|인상|인하|상승|하락|증가|감소|늘|줄|올|내려|오르|떨어|조정|개편|확대|축소)"
)


_ROUTE_WORDS = re.compile(
    r"항공권|항공편|비행기|비행|노선|열차|기차|KTX|SRT|버스|고속|편도|왕복|구간|이동|출발|도착|경로|여행|운행|직항|"
    r"환승|택시|요금(?!제)|거리|운임|배편|여객선|km|킬로"
)


def _is_place(written: str) -> bool:
    word = re.sub(r"(?:까지|으로|로|에서|에|행)$", "", written.strip())
    return word in PLACES or word.endswith(PLACE_SUFFIXES) or bool(re.fullmatch("[A-Z]{3}", word))


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
        re.compile(r"(?<![\d)])(?:\(0?\d{1,3}|(?<![\d(])0\d{1,3})\)\s?[-.]?\s?\d{3,4}[-. ]\d{4}(?![\d-])"),
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
    # Lot, building and unit numbers: the hyphen is 다시 (123-45번지, 산 12-3, 테헤란로 152-1, 101-1203호).
    (
        "lot number",
        re.compile(r"(?<![\d.,-])(산\s?)?(\d{1,5})-(\d{1,5})\s?번지"),
        _whole("lot number", _lot),
    ),
    (
        "lot number",
        re.compile(r"(?<![가-힣\d.,-])(산)\s?(\d{1,5})-(\d{1,5})(?![\d-])"),
        _whole("lot number", _lot),
    ),
    (
        "lot number",
        re.compile(rf"(?<![\d.,-])()(\d{{1,5}})-(\d{{1,5}})(?![\d-]|\.\d|\s?(?:{_QUANTITY}))"),
        _whole("lot number", _road_lot),
    ),
    (
        "lot number",
        re.compile(r"(?<![\d.,-])(\d{1,4})-(\d{1,4})\s?호(?!선)"),
        _whole("lot number", _unit_number),
    ),
    # Seasons and fiscal years: 2019-2020 시즌 → 이천십구 이천이십 시즌 (one season, not a range).
    (
        "season",
        re.compile(
            r"(?<![\d.,/-])(\d{4}|\d{2})\s?[-/~]\s?(\d{4}|\d{2})(?=\s?(?:시즌|회계연도|학년도|절기|연도))"
        ),
        _whole("season", _season),
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
    # Issue 27: scores before the rules that read a hyphen or a colon (3-1로 이겼다 → 삼 대 일로).
    (
        "score",
        re.compile(rf"(?<![\d.,:/-])(\d{{1,3}})\s?[-:]\s?(\d{{1,3}})(?![\d:-]|[.,]\d|\s?(?:{_QUANTITY}))"),
        _whole("score", _score),
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
            r"(?i:last|first|final)\s(?:\d|one|two|three|four|five|six)\s?digits?(?:\s(?:are|is))?|"
            r"(?:끝|뒷|뒤|앞|마지막)(?:의|쪽)?\s?(?:\d{1,2}\s?|[한두세네다섯여섯일곱여덟아홉열]{1,2}\s)?자리)"
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
        "service number",
        re.compile(r"(?<![\d.,])1\d{2,3}(?=(?:에|로|으로|번)?\s?(?:신고|전화|문의|연락|상담))"),
        _whole("service number", _phone),
    ),
    # Service numbers: 119 구급차, 화재 시 119, 경찰(112) → 일일구, 일일이 (a count stays a count).
    (
        "service number",
        re.compile(rf"(?<![\d.,:/-])(?:{_SERVICE_ALT})(?![\d]|[.,:/-]\d)"),
        _whole("service number", _service_number),
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
    # Issue 27: 3.1절, 6.25 전쟁, 5/18 민주화운동, 4.19 당시 (not 3.14, not 평점 4.19).
    (
        "named date",
        re.compile(r"(?<![\d.,/·$€£¥₩])(1[0-2]|[1-9])([./])(3[01]|[12]\d|[1-9])(?![\d.,/]|\.\d)"),
        _whole("named date", _named_date),
    ),
    # Offers: 1+1 → 원 플러스 원, 2+1 → 투 플러스 원 (1+1=2 and 1+1은 얼마 are arithmetic).
    (
        "promotion",
        re.compile(r"(?<![\d.,+=])([1-9])\+([1-9])(?![\d+=]|\s?=)"),
        _whole("promotion", _offer),
    ),
    # Scores with 대: 2대1, 3 대 0 → 이 대 일, 삼 대 영 (차 2대 stays 두 대).
    (
        "score",
        re.compile(
            rf"(?<![\d.,])(\d{{1,3}})\s?대\s?(\d{{1,3}})(?![\d.,]|\s?(?:대|[천만억조백]|{_QUANTITY}))"
        ),
        _whole("score", _score_dae),
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
    # Set phrases: 24/7 → 이십사 칠, 50/50 → 오십 대 오십; A/S → 에이에스.
    ("number", re.compile(r"(?<![\d/])24/7(?![\d/])"), _whole("number", lambda m: "이십사 칠")),
    ("number", re.compile(r"(?<![\d/])50/50(?![\d/])"), _whole("number", lambda m: "오십 대 오십")),
    # Fractions (negative, mixed, roots, with a unit), and a/b dates by context: 1/2, 1과1/4kg, -2/5m.
    (
        "fraction",
        re.compile(
            rf"(?<![\d.,/])(?P<sign>{_SIGN})?(?:(?P<whole>\d+)\s?(?:과|와|\s)\s?)?(?P<num>(?:\d+\s?)?√\s?\d+|\d+)"
            rf"\s?[/⁄]\s?(?P<den>√\s?\d+|\d+)(?![\d/])(?P<unit>\s?{_QUANTITY})?"
        ),
        _whole("fraction", _fraction),
    ),
    (
        "fraction",
        re.compile(rf"({_N})\s?분의\s?({_N})"),
        _whole("fraction", lambda m: f"{read_sino(m.group(1))}분의 {read_sino(m.group(2))}"),
    ),
    (
        "root",
        re.compile(
            rf"(\d+)?\s?([√∛∜])\s?\(?(\d+(?:\.\d+)?|[A-Za-z])\)?(?:(?<=\d)(\s?(?:{_UNIT_ALT})|(?:{_SINGLE_UNIT_ALT}))(?![A-Za-z\d]))?"
        ),
        _whole("root", _root),
    ),
    # Issue 27: rates, the per-unit first: 1,000원/kg → 킬로그램당 천 원, $5/month → 월 오 달러.
    (
        "rate",
        re.compile(
            rf"(?P<amount>(?<![A-Za-z])(?:{_CURRENCY_ALT})\s?(?:{_NUM})(?:\s?(?:{_BIG}))?|(?<![\d.,])(?:{_NUM})"
            rf"(?:\s?(?:{_BIG}))?\s?(?:원|달러|유로|엔|위안|파운드|{_CURRENCY_ALT}|(?:{_CODE_ALT})(?![A-Za-z])))"
            rf"\s?/\s?(?P<per>{_RATE_ALT})(?![A-Za-z\d])"
        ),
        _whole("rate", _rate),
    ),
    # Sub-zero temperatures: -5도, -12℃ → 영하 오 도, 영하 십이 도 (an angle stays 마이너스).
    (
        "temperature",
        re.compile(
            rf"(?:영하\s?)?(?<![\w.,)\]%~〜～{_PH[1:-1]}])-\s?(?P<num>\d+(?:\.\d+)?)\s?(?P<u>°C|°F|°|도씨|도)(?![A-Za-z\d])"
        ),
        _whole("temperature", _temperature_rule),
    ),
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
    # Issue 27: decimal amounts before a currency's name: 3.50달러 → 삼 달러 오십 센트, 10.00원 → 십 원.
    (
        "currency",
        re.compile(
            rf"({_SIGN})?(?<![\d.,])({_NUM})(\s?(?:{_BIG}))?\s?((?:(?:미국|호주|캐나다|홍콩|싱가포르|뉴질랜드|대만)\s?)?"
            r"(?:달러|유로|파운드|원|엔|위안))(?!화|래|리|자|본|소|칙|인|형|장)"
        ),
        _whole("currency", _currency_word),
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
            rf"(?P<sign>{_SIGN})?(?<![\d.,A-Za-z])(?P<num>{_NUM})(?![\d])(?:\s?(?P<u>{_UNIT_ALT})|(?P<u1>{_SINGLE_UNIT_ALT})|\s(?P<u2>[gmLWV])(?=[\s.,!?)가-힣]|$))"
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
        _whole("counter", _counter),
    ),
    # Any other number, Sino-Korean; a minus sign before it.
    (
        "number",
        re.compile(rf"({_SIGN})?({_N})"),
        _whole("number", lambda m: _signed(m.group(1), read_sino(m.group(2)))),
    ),
    ("number", re.compile(r"\d+"), _whole("number", lambda m: read_sino(m.group(0)))),
    # A range sign with nothing before it means "until": ~5월 31일 → 오월 삼십일 일까지.
    (
        "range",
        re.compile(rf"(?:^|(?<=[\s(]))[~〜～]\s?((?:{_PH})(?:\s?{_PH})*)"),
        _until,
    ),
    # A range sign between two rewrites: 2023.1.1~2023.1.31, 10:00-18:00, (월)~(금).
    (
        "range",
        re.compile(rf"(?P<left>{_PH})\s?(?P<sep>{_RANGE_SEP}|-|–)\s?(?P<right>{_PH})"),
        _between,
    ),
    # 9시부터 18시까지: both hours on one clock (아홉 시부터 열여덟 시까지).
    (
        "range",
        re.compile(rf"(?P<left>{_PH})\s?(?:부터|에서)\s?(?:(?:{_HALF_DAY})\s?)?(?P<right>{_PH})"),
        _clock_pair,
    ),
    # Issue 27: letters joined by & are one word with 앤 (R&D → 알앤디, Q & A → 큐앤에이); C# → 씨샵.
    (
        "letters",
        re.compile(r"(?<![A-Za-z&])([A-Z]{1,3})(\s?)&(\s?)([A-Z]{1,3})(?![A-Za-z&])"),
        _whole("letters", _ampersand),
    ),
    (
        "letters",
        re.compile(r"(?<![A-Za-z])([A-G])#(?![A-Za-z\d#])"),
        _whole("letters", _sharp),
    ),
    # Initials (J. K.), A/S, and English words and acronyms.
    (
        "letters",
        re.compile(r"(?<![A-Za-z/])([A-Z])/([A-Z])(?![A-Za-z/])"),
        _whole("letters", lambda m: english.spell(m.group(1) + m.group(2))),
    ),
    ("letters", re.compile(r"(?<![A-Za-z])([A-Z])\.(?=\s?[A-Z])"), lambda m, ex: m.group(1)),
    (
        "english",
        re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*"),
        _whole("english", lambda m: english.word(m.group(0))),
    ),
    # Issue 27: arrows between places or values: 서울→부산 → 서울에서 부산까지, 만 원→팔천 원 → … 으로.
    ("arrow", re.compile(r"[^\s→]+(?:\s?→\s?[^\s→]+)+"), _arrow),
    # 1 더하기 1 = 2: "=" reads as the topic particle, 은 after a final consonant, else 는.
    ("equals", re.compile(r"\s*=\s*"), _equals),
]


# What each issue-27 rule needs in the sentence before it is worth running.
_NEEDS: dict[Callable[..., object], str] = {
    _service_number: r"1[1-3]\d|182",
    _lot: "-",
    _road_lot: "-",
    _unit_number: "-",
    _score: r"\d\s?[-:]\s?\d",
    _score_dae: r"\d\s?대\s?\d",
    _season: "시즌|학년도|회계연도|연도|절기",
    _named_date: r"\d[./]\d",
    _offer: r"\d\+\d",
    _rate: r"\S\s?/\s?[A-Za-z가-힣1]",
    _temperature_rule: r"-\s?\d",
    _currency_word: r"\d\.\d",
    _ampersand: "&",
    _sharp: "#",
}


def _trigger(name: str, callback: _Callback) -> re.Pattern[str] | None:
    """A cheap test that a rule can match at all (most sentences have no digit and no Latin letter)."""
    read = _READ_OF.get(callback)
    if read in _NEEDS:
        return re.compile(_NEEDS[read])
    if callback is _clock_pair:
        return re.compile(f"{_PH}\\s?(?:부터|에서)")
    if callback is _between or callback is _until:
        return _PH_RE
    if name == "root":
        return re.compile("[√∛∜]")
    if name == "arrow":
        return re.compile("→")
    if name == "letters":
        return re.compile("[A-Z]")
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
_PAREN_PARTICLE = re.compile(rf"(?<={_PH})\)(?=(?:{particles.PARTICLE}|에서|에게|에|의|도|만)(?![가-힣]))")


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
    for (_name, pattern, callback), trigger in zip(_RULES, _TRIGGERS, strict=True):
        if trigger is None or trigger.search(text):
            text = pattern.sub(lambda m, cb=callback: cb(m, ex), text)  # type: ignore[misc]
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

"""Reading Arabic numerals aloud in Korean, as pure functions (no dependencies).

g2pk only knows a handful of counters and otherwise reads digits one by one (20세기 → 이영세기), so
`forv_tts.text` spells every number out with these before g2pk sees the text. Conventions:

- Sino-Korean cardinals (일, 이, 삼 …) are spaced every four digits, as 한글 맞춤법 제44항 writes them
  (12억 3456만 7898 → 십이억 삼천사백오십육만 칠천팔백구십팔); a leading 1 is silent before 십/백/천/만
  (10 000 → 만) but spoken before 억/조/경 (일억).
- Native cardinals (하나, 둘 …) exist only up to 99. Before a counter the attributive forms are used
  (한, 두, 세, 네, 스무); from 100 on the Sino-Korean reading is used (150명 → 백오십 명).

Two layers: the numerals themselves (`sino`, `native`, `ordinal`, `month`, `digits`, `decimal`: pure
functions of an int or a digit string), then the readings the rules in `forv_tts.text.rules` hand
a written number to (`read_sino` for "15,000" or "007", `read_counted` with a counter, `read_quantity`
with a unit or counter, `read_amount` / `read_money` with a multiplier and a currency, `fraction`,
`digit_groups` for codes, `range_pair` for 이삼 / 두세). Which numeral a counter or unit takes is
looked up in `forv_tts.text.tables`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from forv_tts.text.tables import CURRENCY_SUBUNITS, NATIVE_COUNTERS, UNIT_PREFIXES, UNITS

SINO_DIGITS = "영일이삼사오육칠팔구"
# How phone numbers, codes and serials are read: 0 is 공 there.
PHONE_DIGITS = "공일이삼사오육칠팔구"
ENGLISH_DIGITS = ("제로", "원", "투", "쓰리", "포", "파이브", "식스", "세븐", "에잇", "나인")

_SMALL_UNITS = ("", "십", "백", "천")
_BIG_UNITS = ("", "만", "억", "조", "경")
MAX_SINO = 10**20 - 1  # beyond 경 there is no everyday unit: read such numbers digit by digit

_NATIVE_TENS = ("", "열", "스물", "서른", "마흔", "쉰", "예순", "일흔", "여든", "아흔")
_NATIVE_UNITS = ("", "하나", "둘", "셋", "넷", "다섯", "여섯", "일곱", "여덟", "아홉")
_NATIVE_UNITS_ATTR = ("", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉")
_MONTHS = (
    "",
    "일월",
    "이월",
    "삼월",
    "사월",
    "오월",
    "유월",
    "칠월",
    "팔월",
    "구월",
    "시월",
    "십일월",
    "십이월",
)


def _sino_below_10000(n: int) -> str:
    parts: list[str] = []
    for position in (3, 2, 1, 0):
        digit = n // 10**position % 10
        if digit == 0:
            continue
        name = "" if digit == 1 and position > 0 else SINO_DIGITS[digit]
        parts.append(name + _SMALL_UNITS[position])
    return "".join(parts)


def sino(n: int, *, spaced: bool = True) -> str:
    """Sino-Korean cardinal: 15000 → 만 오천, 100000000 → 일억, 0 → 영, -3 → 마이너스 삼."""
    if n < 0:
        return "마이너스 " + sino(-n, spaced=spaced)
    if n == 0:
        return "영"
    if n > MAX_SINO:
        return digits(str(n), zero="영")
    groups: list[str] = []
    for index in range(len(_BIG_UNITS) - 1, -1, -1):
        value = n // 10 ** (4 * index) % 10000
        if value == 0:
            continue
        words = "" if value == 1 and index == 1 else _sino_below_10000(value)
        groups.append(words + _BIG_UNITS[index])
    return (" " if spaced else "").join(groups)


def native(n: int, *, attributive: bool = True) -> str:
    """Native Korean cardinal for 1..99 (3 → 세 / 셋, 20 → 스무 / 스물); Sino-Korean otherwise."""
    if not 1 <= n <= 99:
        return sino(n)
    tens, units = divmod(n, 10)
    if attributive and n == 20:
        return "스무"
    unit_words = _NATIVE_UNITS_ATTR if attributive else _NATIVE_UNITS
    return _NATIVE_TENS[tens] + unit_words[units]


def ordinal(n: int) -> str:
    """The numeral of a native ordinal before 번째/째: 1 → 첫, 2 → 두, 11 → 열한, 20 → 스무."""
    if n == 1:
        return "첫"
    return native(n)


def month(n: int) -> str:
    """Month names, which are single words with two irregular ones: 6 → 유월, 10 → 시월."""
    if 1 <= n <= 12:
        return _MONTHS[n]
    return sino(n) + " 월"


def digits(text: str, *, zero: str = "영") -> str:
    """Digit by digit (codes, phone numbers, decimals): '010' → 공일공 with zero='공'."""
    return "".join(zero if ch == "0" else SINO_DIGITS[int(ch)] for ch in text if ch.isdigit())


def english_digits(text: str) -> str:
    """Digits as English words, the way they are said inside names like MP3, A4, 5G: 3 → 쓰리."""
    return "".join(ENGLISH_DIGITS[int(ch)] for ch in text if ch.isdigit())


def decimal(integer_part: str, fraction_part: str) -> str:
    """3.14 → 삼 점 일사: the integer part as a cardinal, the fraction digit by digit (0 → 영)."""
    whole = sino(int(integer_part)) if integer_part else "영"
    return f"{whole} 점 {digits(fraction_part, zero='영')}"


# ---------------------------------------------------------------------------------------------------
# Written numbers, as the rules find them ("15,000", "3.14", "007", "07" before 분).


def read_sino(number: str) -> str:
    """A written number in Sino-Korean: 15,000 → 만 오천, 3.14 → 삼 점 일사, 007 → 공공칠."""
    number = number.replace(",", "")
    if "." in number:
        whole, fraction = number.split(".", 1)
        return decimal(whole, fraction)
    if len(number) > 20:
        return digits(number, zero="영")
    if len(number) > 1 and number.startswith("0"):
        return digits(number, zero="공")
    return sino(int(number))


def signed(sign: str | None, words: str) -> str:
    """The reading with 마이너스 before it when a minus sign was written."""
    return f"마이너스 {words}" if sign else words


def plain_int(number: str) -> int | None:
    """The value of a number written without decimals or leading zeros, else None."""
    if "." in number or (len(number) > 1 and number.startswith("0")) or len(number) > 20:
        return None
    return int(number.replace(",", ""))


def counted_int(number: str) -> int | None:
    """A number before a counter: also 07분 → 7 (a clock's leading zero is not read)."""
    if re.fullmatch(r"0\d", number):
        return int(number)
    return plain_int(number)


def digit_groups(text: str) -> str:
    """A code digit by digit, groups separated by a space: 010-1234 → 공일공 일이삼사."""
    return " ".join(digits(group, zero="공") for group in re.findall(r"\d+", text))


# ---------------------------------------------------------------------------------------------------
# Counters, units and amounts.


def read_counted(number: str, counter: str) -> str:
    """A number before a counter, native or Sino-Korean as the counter requires: 3개 → 세 개."""
    value = counted_int(number)
    if counter == "월" and value is not None:
        return month(value)
    is_native = counter in NATIVE_COUNTERS
    if counter == "시" and value is not None and not 1 <= value <= 12:
        is_native = False  # 24-hour clock: 13시 → 십삼 시
    if counter == "시간" and value is not None and value > 20:
        is_native = False  # 24시간 → 이십사 시간 (news reading); 세 시간, 스무 시간
    if counter == "대" and value is not None and value % 10 == 0:
        is_native = False  # age groups: 20대 → 이십 대 (차 3대 → 세 대)
    if is_native and value is not None and 1 <= value <= 99:
        return f"{native(value)} {counter}"
    if value is not None:
        return f"{sino(value)} {counter}"
    return f"{read_sino(number)} {counter}"


def read_quantity(sign: str | None, number: str, quantity: str | None) -> str:
    """A number with what follows it: a unit symbol, a counter, or nothing."""
    if not quantity:
        return signed(sign, read_sino(number))
    quantity = quantity.strip()
    if quantity in ("h", "hr", "hrs"):
        return signed(sign, read_counted(number, "시간"))
    if quantity in ("cup", "cups"):
        return signed(sign, read_counted(number, "컵"))  # 2 cups → 두 컵, as 2컵
    if quantity in UNITS:
        prefix = UNIT_PREFIXES.get(quantity, "")
        words = f"{signed(sign, read_sino(number))} {UNITS[quantity]}"
        return f"{prefix} {words}".strip()
    return signed(sign, read_counted(number, quantity))


def read_big(number: str, unit: str) -> str:
    """3천 → 삼천, 5만 → 오만, 1만 → 만, 1억 → 일억, 1.5억 → 일 점 오억."""
    if number == "1" and unit in "천백만":
        return unit
    return read_sino(number) + unit


LATIN_MULTIPLIERS = {
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


def read_amount(number: str, big: str | None) -> str:
    """An amount with an optional multiplier: 15,000 / 5만 / 3M (삼백만) / 1.2B (십이억)."""
    big = (big or "").strip()
    if not big:
        return read_sino(number)
    if big in LATIN_MULTIPLIERS:
        try:
            value = Decimal(number.replace(",", "")) * LATIN_MULTIPLIERS[big]
        except InvalidOperation:
            return read_sino(number)
        if value == value.to_integral_value():
            return sino(int(value))
        return read_sino(str(value))
    return read_big(number, big)


def read_money(number: str, big: str | None, name: str) -> str:
    """An amount and its currency: $9.99 → 구 달러 구십구 센트, 10.00원 → 십 원, 3.0만 원 → 삼만 원.

    Two decimals in a currency with cents are cents; otherwise trailing zeros after the point are not
    read (they say nothing about the amount) and one decimal stays a decimal ($2.5 → 이 점 오 달러).
    """
    if "." in number and (big or "").strip() not in LATIN_MULTIPLIERS:
        whole, fraction = number.split(".", 1)
        subunit = next((sub for unit, sub in CURRENCY_SUBUNITS.items() if name.endswith(unit)), None)
        if subunit and len(fraction) == 2 and not (big or "").strip():
            units, cents = int(whole.replace(",", "") or "0"), int(fraction)
            words = [f"{sino(units)} {name}"] if units or not cents else []
            if cents:
                words.append(f"{sino(cents)} {subunit}")
            return " ".join(words)
        fraction = fraction.rstrip("0")
        number = f"{whole}.{fraction}" if fraction else whole
    return f"{read_amount(number, big)} {name}"


# ---------------------------------------------------------------------------------------------------
# Fractions, ordinals, ranges.


def root_term(term: str) -> str:
    """A number that may hold a square root: 3 → 삼, √2 → 루트 이, 3√2 → 삼 루트 이."""
    coefficient, root, radicand = term.partition("√")
    if not root:
        return read_sino(term.strip())
    words = f"루트 {read_sino(radicand.strip())}"
    return f"{read_sino(coefficient.strip())} {words}" if coefficient.strip() else words


def fraction(numerator: str, denominator: str) -> str:
    """3/4 → 사분의 삼, √2/2 → 이분의 루트 이: the denominator first, as Korean says it."""
    return f"{root_term(denominator)}분의 {root_term(numerator)}"


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


def english_ordinal(number: str) -> str:
    """1st → 퍼스트 … 10th → 텐스; from 11 on the Korean ordinal: 21st → 이십일 번째."""
    value = plain_int(number)
    if value is not None and 1 <= value <= 10:
        return _ENGLISH_ORDINALS[value]
    return read_sino(number) + " 번째"


def ordinal_th(number: str) -> str:
    """N번째: 1 → 첫 번째, 2 → 두 번째 (native up to 99), 100 → 백 번째."""
    value = plain_int(number)
    words = ordinal(value) if value is not None and value <= 99 else read_sino(number)
    return f"{words} 번째"


_ORDINAL_JJAE = {1: "첫", 2: "둘", 3: "셋", 4: "넷"}


def ordinal_jjae(number: str) -> str:
    """N째: 1 → 첫째, 2 → 둘째, 5 → 다섯째, 100 → 백째."""
    value = plain_int(number)
    if value is None or value > 99:
        return read_sino(number) + "째"
    return _ORDINAL_JJAE.get(value, native(value)) + "째"


# Two neighbouring numbers said as one (2~3일 정도 → 이삼 일, 3~4개쯤 → 서너 개), as announcers do
# before a word that makes the range an estimate or a duration.
_SINO_PAIRS = ("", "일이", "이삼", "삼사", "사오", "오륙", "육칠", "칠팔", "팔구")
_NATIVE_PAIRS = ("", "한두", "두세", "서너", "네댓", "대여섯", "예닐곱", "일고여덟", "여덟아홉")


def range_pair(low: int, *, attributive: bool) -> str:
    """low and low + 1 said as one word (1 ≤ low ≤ 8): 2 → 이삼 / 두세, 3 → 삼사 / 서너."""
    return _NATIVE_PAIRS[low] if attributive else _SINO_PAIRS[low]

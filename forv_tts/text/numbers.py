"""Reading Arabic numerals aloud in Korean, as pure functions (no dependencies).

g2pk only knows a handful of counters and otherwise reads digits one by one (20세기 → 이영세기), so
`forv_tts.text` spells every number out with these before g2pk sees the text. Conventions:

- Sino-Korean cardinals (일, 이, 삼 …) are spaced every four digits, as 한글 맞춤법 제44항 writes them
  (12억 3456만 7898 → 십이억 삼천사백오십육만 칠천팔백구십팔); a leading 1 is silent before 십/백/천/만
  (10 000 → 만) but spoken before 억/조/경 (일억).
- Native cardinals (하나, 둘 …) exist only up to 99. Before a counter the attributive forms are used
  (한, 두, 세, 네, 스무); from 100 on the Sino-Korean reading is used (150명 → 백오십 명).
"""

from __future__ import annotations

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

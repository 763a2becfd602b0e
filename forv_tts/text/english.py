"""Latin script read in Hangul: words, acronyms, letter-digit names, e-mail, domains, URLs, file names.

Words come from the loanword table first (established Korean spellings), capitals are spelled with
letter names, other words go through the CMU dictionary (g2pk's 외래어 표기 rules), and what is in
neither is spelled. Addresses are read the way people dictate them: each label as a word if it is
one (naver → 네이버, gmail → 지메일), else spelled (kbs → 케이비에스); `@` → 골뱅이, `.` → 닷 in
addresses and 점 before a file extension, `/` → 슬래시, `_` → 언더바, `-` → 하이픈; digits one by one
(kim0105 → 킴 공일공오), as in a dictated code.
"""

from __future__ import annotations

import logging
import re

from forv_tts.errors import ForvError
from forv_tts.text import numbers as kn
from forv_tts.text.tables import (
    CAPS_WORDS,
    DOMAIN_LABELS,
    FILE_EXTENSIONS,
    LETTER_NAMES,
    LOANWORDS,
)

_log = logging.getLogger(__name__)

_SEPARATOR_WORDS = {
    ".": "닷",
    "_": "언더바",
    "-": "하이픈",
    "+": "플러스",
    "/": "슬래시",
    "~": "물결",
    "=": "이퀄",
    "?": "물음표",
    "&": "앤드",
    "#": "샵",
    ":": "콜론",
    "%": "퍼센트",
}


def spell(letters: str) -> str:
    """Letter names: KTX → 케이티엑스."""
    return "".join(LETTER_NAMES.get(ch, "") for ch in letters.upper())


# The CMU pronunciations of the letter names, to recognise an entry that is only spelled out (abc,
# cnn, ibm): those are spelled with our letter names, so C is 씨 everywhere (CMU's S IY would be 시).
_LETTER_PHONES = {
    "a": "EY",
    "b": "B IY",
    "c": "S IY",
    "d": "D IY",
    "e": "IY",
    "f": "EH F",
    "g": "JH IY",
    "h": "EY CH",
    "i": "AY",
    "j": "JH EY",
    "k": "K EY",
    "l": "EH L",
    "m": "EH M",
    "n": "EH N",
    "o": "OW",
    "p": "P IY",
    "q": "K Y UW",
    "r": "AA R",
    "s": "EH S",
    "t": "T IY",
    "u": "Y UW",
    "v": "V IY",
    "w": "D AH B AH L Y UW|D AH B AH Y UW",
    "x": "EH K S",
    "y": "W AY",
    "z": "Z IY|Z EH D",
}


def spelled_in_cmu(lower: str) -> bool:
    """Whether the CMU dictionary says `lower` is pronounced letter by letter (abc → EY B IY S IY)."""
    from forv_tts.text.g2p import CMU

    if not lower.isalpha() or not lower.isascii() or lower not in CMU:
        return False
    target = re.compile(" ".join(f"(?:{_LETTER_PHONES[ch]})" for ch in lower))
    return any(target.fullmatch(re.sub(r"\d", "", " ".join(v))) for v in CMU[lower])


def word(token: str) -> str:
    """An English word or acronym in Hangul: table, letter names for capitals, CMU, spelling."""
    if token in CAPS_WORDS:
        return CAPS_WORDS[token]
    lower = token.lower()
    letters = re.sub(r"[^A-Za-z]", "", token)
    if not letters:
        return ""
    if letters.isupper():  # KTX, USB, A (but K-POP is in the table)
        return LOANWORDS[lower] if "-" in token and lower in LOANWORDS else spell(letters)
    if lower in LOANWORDS:
        return LOANWORDS[lower]
    if "-" in token:
        return " ".join(word(part) for part in token.split("-") if part)
    if len(letters) == 1:
        return LETTER_NAMES[letters.upper()]
    from forv_tts.text.g2p import transliterate_english

    try:
        if spelled_in_cmu(lower):
            return spell(letters)
        return transliterate_english(token) or spell(letters)
    except ForvError as exc:  # g2pk cannot load: spell the word rather than fail here
        _log.warning("spelling %r letter by letter: %s", token, exc)
        return spell(letters)


def alnum(text: str, read_number: object = None) -> str:
    """Names mixing letters and digits, read the English way: MP3 → 엠피쓰리, 5G → 파이브지, S23 → 에스이십삼.

    One digit is an English numeral (as in MP3, 5G), two are a Sino-Korean number (G20 → 지이십),
    three or more are read one by one like a model or serial number (A380 → 에이삼팔공).
    """
    out: list[str] = []
    for run in re.findall(r"[A-Za-z]+|\d+", text):
        if not run.isdigit():
            out.append(word(run))
        elif len(run) == 1:
            out.append(kn.english_digits(run))
        elif len(run) == 2 and not run.startswith("0"):
            out.append(kn.sino(int(run)))
        else:
            out.append(kn.digits(run, zero="공"))
    return "".join(out)


def label(text: str) -> str:
    """One part of an address: a word if it is one, else spelled; digits one by one."""
    out: list[str] = []
    for run in re.findall(r"[A-Za-z]+|\d+|[가-힣]+", text):
        lower = run.lower()
        if run.isdigit():
            out.append(kn.digits(run, zero="공"))
        elif "가" <= run[0] <= "힣":
            out.append(run)
        elif lower in DOMAIN_LABELS:
            out.append(DOMAIN_LABELS[lower])
        elif len(run) <= 2 or not re.search("[aeiouy]", lower) or run.isupper():
            out.append(spell(run))
        elif lower in LOANWORDS:
            out.append(LOANWORDS[lower])
        else:
            out.append(word(lower))
    return " ".join(out)


def _joined(text: str, dot: str = "닷") -> str:
    """Labels joined by spoken separators: kim.minsu_01 → 킴 닷 민수(spelled) 언더바 공일."""
    parts: list[str] = []
    for piece in re.split(r"([^A-Za-z0-9가-힣])", text):
        if not piece:
            continue
        if piece == ".":
            parts.append(dot)
        elif piece in _SEPARATOR_WORDS:
            parts.append(_SEPARATOR_WORDS[piece])
        elif re.fullmatch(r"[A-Za-z0-9가-힣]+", piece):
            parts.append(label(piece))
    return " ".join(p for p in parts if p)


def email(address: str) -> str:
    """kim.minsu@naver.com → 킴 닷 엠아이엔에스유 골뱅이 네이버 닷 컴."""
    local, _, domain = address.partition("@")
    return f"{_joined(local)} 골뱅이 {_joined(domain)}"


def url(address: str) -> str:
    """https://www.example.or.kr/board?id=3 → 더블유더블유더블유 닷 이그잼플 … 슬래시 보드 …

    The scheme (https://) is not read, as announcers give addresses; everything else is.
    """
    address = re.sub(r"^(?:https?|ftp)://", "", address, flags=re.IGNORECASE)
    return _joined(address.rstrip("/"))


def file_name(name: str, extension: str) -> str:
    """보고서.docx → 보고서 점 독스; report_v2.pdf → 리포트 언더바 브이투 점 피디에프."""
    ext = " 점 ".join(FILE_EXTENSIONS.get(e.lower()) or spell(e) for e in extension.strip(".").split("."))
    base = name
    parts: list[str] = []
    for piece in re.split(r"([^A-Za-z0-9가-힣]+)", base):
        if not piece:
            continue
        if re.fullmatch(r"[가-힣]+", piece):
            parts.append(piece)
        elif re.fullmatch(r"[A-Za-z]+", piece):
            parts.append(LOANWORDS.get(piece.lower()) or word(piece))
        elif re.fullmatch(r"\d+", piece):
            parts.append(
                kn.sino(int(piece))
                if len(piece) < 5 and not piece.startswith("0")
                else kn.digits(piece, zero="공")
            )
        elif re.fullmatch(r"[A-Za-z0-9]+", piece):
            parts.append(alnum(piece))
        elif re.fullmatch(r"[A-Za-z0-9가-힣]+", piece):
            parts.append(" ".join(label(run) for run in re.findall(r"[가-힣]+|[A-Za-z0-9]+", piece)))
        else:
            spoken = [_SEPARATOR_WORDS.get(ch, "") for ch in piece.strip()]
            parts.append(" ".join(s for s in spoken if s and s != "닷") or "")
    return " ".join(p for p in parts if p) + f" 점 {ext}"

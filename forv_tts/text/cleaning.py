"""Cleaning: drop what cannot be spoken (controls, emoji, bidi marks), NFKC the rest where safe.

The first stage of normalisation, shared by sentence splitting and expansion; pure and cheap.
"""

from __future__ import annotations

import re
import unicodedata

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
        "⇒": "→",
        "⟶": "→",
        "➔": "→",
        "➡": "→",
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


def clean(text: str) -> str:
    """Remove what cannot be spoken, NFKC the rest where safe; newlines are kept as hard breaks."""
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    text = _ANSI_ESCAPES.sub("", _SURROGATES.sub("", text))  # terminal colour codes in piped text
    text = _NEWLINES.sub("\n", text)
    text = re.sub("(?<=\\d)([¼½¾⅐-⅞])", r" \1", text)  # 1½: NFKC would make it 11⁄2
    text = re.sub("(?<![ms])²", " 제곱", re.sub("(?<!m)³", " 세제곱", text))  # x² (m² is a unit: NFKC m2)
    parts = _NO_NFKC.split(text)
    text = "".join(part if i % 2 else unicodedata.normalize("NFKC", part) for i, part in enumerate(parts))
    text = text.translate(_CHAR_MAP)  # before ➡ (a pictograph) would be dropped
    text = re.sub(r"(?<=\S)\s?(?:->|=>)\s?(?=\S)", "→", text)  # ASCII arrows: 서울 -> 부산
    text = "".join(_clean_char(ch) for ch in text).translate(_CHAR_MAP)
    text = re.sub(r"(?<=\d)\s?[–—]\s?(?=\d)", "~", text)  # 3–5 is a range
    text = re.sub(r"\s*[–—―]+\s*", ", ", text)
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r" ?\n[\n ]*", "\n", text)
    return text.strip()

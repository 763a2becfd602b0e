"""Particle agreement: 이/가, 은/는, 을/를, 과/와, 으로/로 chosen by the last syllable actually spoken.

A writer picks the particle after a number or a Latin word by what they see or half-hear (`2을`,
`KTX을`, `1/4이`), but the listener hears the reading: 사분의 이**가**, 케이티엑스**를**. So after every
rewrite the particle that follows it is chosen again from the reading's last syllable (한글 맞춤법 /
표준 문법: 받침 뒤 이·은·을·과·이랑·이나·으로, 모음 뒤 가·는·를·와·랑·나·로; ㄹ 받침 뒤는 로: 일로, 칠로).
"""

from __future__ import annotations

import re

_RIEUL = 8  # the index of ㄹ among the final consonants

# (after a final consonant, after a vowel); the 으로 pair is special-cased for ㄹ.
_PAIRS: tuple[tuple[str, str], ...] = (
    ("이에요", "예요"),
    ("이었다", "였다"),
    ("이었어요", "였어요"),
    ("이라고", "라고"),
    ("이라도", "라도"),
    ("이라는", "라는"),
    ("이라서", "라서"),
    ("이랑", "랑"),
    ("이나", "나"),
    ("이란", "란"),
    ("이야", "야"),
    ("이며", "며"),
    ("이", "가"),
    ("은", "는"),
    ("을", "를"),
    ("과", "와"),
)
_RO_TAILS = ("서", "써", "는", "도", "부터", "만", "의", "")
_CONSONANT_FORM: dict[str, str] = {}
_VOWEL_FORM: dict[str, str] = {}
for _after_consonant, _after_vowel in _PAIRS:
    _CONSONANT_FORM[_after_vowel] = _after_consonant
    _VOWEL_FORM[_after_consonant] = _after_vowel
for _tail in _RO_TAILS:
    _CONSONANT_FORM["로" + _tail] = "으로" + _tail
    _VOWEL_FORM["으로" + _tail] = "로" + _tail

_ALL = sorted(set(_CONSONANT_FORM) | set(_VOWEL_FORM) | set(_CONSONANT_FORM.values()), key=len, reverse=True)
# A particle is only what stands alone up to the next space or punctuation mark.
PARTICLE = "(?:" + "|".join(re.escape(p) for p in _ALL) + r")(?![가-힣])"
_PARTICLE_RE = re.compile(PARTICLE)


def final_consonant(syllable: str) -> int | None:
    """The index of the syllable's final consonant (0: none), or None if it is not a Hangul syllable."""
    if not "가" <= syllable <= "힣":
        return None
    return (ord(syllable) - 0xAC00) % 28


def agree(reading: str, particle: str) -> str:
    """The form of `particle` that follows `reading` (given as written: either form)."""
    last = next((ch for ch in reversed(reading) if not ch.isspace()), "")
    final = final_consonant(last)
    if final is None:
        return particle
    if particle.startswith(("으로", "로")):
        tail = particle[2:] if particle.startswith("으로") else particle[1:]
        return ("로" if final in (0, _RIEUL) else "으로") + tail
    if final == 0:
        return _VOWEL_FORM.get(particle, particle)
    return _CONSONANT_FORM.get(particle, particle)


def match_particle(text: str) -> str | None:
    """The particle `text` starts with, if it is one standing alone (`를 봤다` → 를), else None."""
    match = _PARTICLE_RE.match(text)
    return match.group(0) if match else None

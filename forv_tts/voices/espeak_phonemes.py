"""Pronounced Hangul (g2pk's output) → espeak-ng phoneme input (`[[...]]`) for the built-in voice.

Why: espeak-ng's Korean letter-to-sound rules (ko_rules) are thin. They voice a word-initial ㄱ as [ɡ]
and a medial one as a uvular [q], read every ㄷ as [d], stress the first syllable of each word, and
leave codas and clusters half done. g2pk already resolves the sound changes (tensing, aspiration,
liaison, nasalisation, coda neutralisation), so what is left is a context-free spelling of each
syllable plus the allophones Korean always applies: a lax stop is voiceless at the start of a word and
voiced between voiced sounds, ㄹ is a flap between vowels and [l] in a coda or after one, a coda stop
is unreleased. This module writes that directly in espeak's mnemonics (phsource/ph_korean and the
base tables: `a E @ o u u- i`, `k- t- p- s- tS;-` tense, `kh th ph tSh` aspirated, `*` flap, `N` [ŋ]).

Pure string work, no espeak and no I/O: the mapping is unit-tested table by table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_S_BASE = 0xAC00
_S_LAST = 0xD7A3
_N_MEDIAL = 21
_N_FINAL = 28

# Initials in Unicode order: ㄱ ㄲ ㄴ ㄷ ㄸ ㄹ ㅁ ㅂ ㅃ ㅅ ㅆ ㅇ ㅈ ㅉ ㅊ ㅋ ㅌ ㅍ ㅎ.
INITIALS = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
# Medials: ㅏ ㅐ ㅑ ㅒ ㅓ ㅔ ㅕ ㅖ ㅗ ㅘ ㅙ ㅚ ㅛ ㅜ ㅝ ㅞ ㅟ ㅠ ㅡ ㅢ ㅣ.
MEDIALS = "ㅏㅐㅑㅒㅓㅔㅕㅖㅗㅘㅙㅚㅛㅜㅝㅞㅟㅠㅡㅢㅣ"
# Finals: none, then ㄱ ㄲ ㄳ ㄴ ㄵ ㄶ ㄷ ㄹ ㄺ ㄻ ㄼ ㄽ ㄾ ㄿ ㅀ ㅁ ㅂ ㅄ ㅅ ㅆ ㅇ ㅈ ㅊ ㅋ ㅌ ㅍ ㅎ.
FINALS = " ㄱㄲㄳㄴㄵㄶㄷㄹㄺㄻㄼㄽㄾㄿㅀㅁㅂㅄㅅㅆㅇㅈㅊㅋㅌㅍㅎ"

# Lax stops and the affricate: (voiceless, at the start of a word or after an obstruent; voiced, between
# voiced sounds). g2pk has already written the tensing after an obstruent coda (학교 → 학꾜).
_LAX = {"ㄱ": ("k", "g"), "ㄷ": ("t", "d"), "ㅂ": ("p", "b"), "ㅈ": ("tS;", "dZ;")}
_ONSET = {
    "ㄲ": "k-",
    "ㄴ": "n",
    "ㄸ": "t-",
    "ㅁ": "m",
    "ㅃ": "p-",
    "ㅅ": "s",
    "ㅆ": "s-",
    "ㅇ": "",
    "ㅉ": "tS;-",
    "ㅊ": "tSh",
    "ㅋ": "kh",
    "ㅌ": "th",
    "ㅍ": "ph",
    "ㅎ": "h",
}
_VOWEL = {
    "ㅏ": "a",
    "ㅐ": "E",
    "ㅑ": "ja",
    "ㅒ": "jE",
    "ㅓ": "@",
    "ㅔ": "e",
    "ㅕ": "j@",
    "ㅖ": "je",
    "ㅗ": "o",
    "ㅘ": "wa",
    "ㅙ": "wE",
    "ㅚ": "we",
    "ㅛ": "jo",
    "ㅜ": "u",
    "ㅝ": "w@",
    "ㅞ": "we",
    "ㅟ": "wi",
    "ㅠ": "ju",
    "ㅡ": "u-",
    "ㅢ": "u-i",
    "ㅣ": "i",
}
# The seven coda sounds Korean allows; g2pk leaves only these (plus the odd cluster it keeps before a
# vowel-less ending), and anything else is neutralised the way the standard pronunciation does.
_CODA_CLASS = {
    "ㄱ": "k",
    "ㄲ": "k",
    "ㄳ": "k",
    "ㄺ": "k",
    "ㅋ": "k",
    "ㄴ": "n",
    "ㄵ": "n",
    "ㄶ": "n",
    "ㄷ": "t",
    "ㅅ": "t",
    "ㅆ": "t",
    "ㅈ": "t",
    "ㅊ": "t",
    "ㅌ": "t",
    "ㅎ": "t",
    "ㄹ": "l",
    "ㄼ": "l",
    "ㄽ": "l",
    "ㄾ": "l",
    "ㅀ": "l",
    "ㅁ": "m",
    "ㄻ": "m",
    "ㅂ": "p",
    "ㅄ": "p",
    "ㅍ": "p",
    "ㄿ": "p",
    "ㅇ": "N",
}
_SONORANT_CODAS = frozenset("nlmN")
# The closure a tense onset adds to the syllable before it (`Style.tense == "geminate"`).
_TENSE_CLOSURE = {"ㄲ": "k", "ㄸ": "t", "ㅃ": "p", "ㅆ": "s", "ㅉ": "t"}

# Punctuation that ends or splits a clause; kept outside the [[...]] so espeak still phrases and
# intones by it.
CLAUSE_PUNCTUATION = frozenset(".,?!;:")


@dataclass(frozen=True)
class Style:
    """Choices among espeak's phonemes that the judge decides (bench/intelligibility.py)."""

    coda_k: str = "k"  # unreleased coda ㄱ: "k" or espeak's own "q"
    coda_t: str = "t"  # coda ㄷ class: "t" or espeak's own "d-" / "t-"
    coda_l: str = "l"  # coda ㄹ: clear "l" or dark "L" (espeak's ko_rules)
    flap: str = "*"  # ㄹ between vowels
    initial_lax: str = "voiceless"  # word-initial ㄱㄷㅂㅈ: "voiceless" (k t p tS;) or "voiced" (g d b)
    stress: str = "first"  # where espeak's stress marks go: one of STRESS_MODES (see _render)
    # Mnemonic replacements, "old=new" pairs separated by spaces or commas ("@=V u-=W"), applied to
    # each onset, vowel nucleus and coda: how the bench tries another phoneme table's sounds.
    remap: str = ""
    # Tense ㄲㄸㅃㅆㅉ after a vowel or sonorant: "plain" (espeak's k- t- p- s- tS;-, which in its
    # Korean table are the plain sounds) or "geminate": the long closure that, with no aspiration,
    # is what makes a Korean stop tense between vowels (아빠 [ap.pa]), spelt as a stop coda first.
    tense: str = "plain"

    def replacements(self) -> dict[str, str]:
        """`remap` as a dict; "x=" maps x to nothing."""
        pairs = [p for p in re.split(r"[\s,]+", self.remap) if p]
        out: dict[str, str] = {}
        for pair in pairs:
            old, sep, new = pair.partition("=")
            if not sep or not old:
                raise ValueError(f"remap entry {pair!r} is not old=new")
            out[old] = new
        return out


def decompose(syllable: str) -> tuple[str, str, str] | None:
    """A precomposed Hangul syllable → (initial, medial, final or ''), as compatibility jamo."""
    cp = ord(syllable)
    if not _S_BASE <= cp <= _S_LAST:
        return None
    index = cp - _S_BASE
    initial, rest = divmod(index, _N_MEDIAL * _N_FINAL)
    medial, final = divmod(rest, _N_FINAL)
    return INITIALS[initial], MEDIALS[medial], FINALS[final].strip()


def word_phonemes(word: str, style: Style = Style()) -> list[str]:
    """One word of pronounced Hangul → its syllables as espeak phoneme strings (no stress marks).

    Characters that are not precomposed syllables are skipped (the caller has cleaned the text).
    """
    out: list[str] = []
    swap = style.replacements()
    prev_coda: str | None = None  # coda class of the previous syllable; None at the start of the word
    for ch in word:
        parts = decompose(ch)
        if parts is None:
            continue
        initial, medial, final = parts
        voiced_before = prev_coda is not None and (prev_coda == "" or prev_coda in _SONORANT_CODAS)
        if initial in _LAX:
            voiceless, voiced = _LAX[initial]
            word_initial_voiced = prev_coda is None and style.initial_lax == "voiced"
            onset = voiced if voiced_before or word_initial_voiced else voiceless
        elif initial == "ㄹ":
            onset = "l" if prev_coda == "l" else style.flap
        else:
            onset = _ONSET[initial]
            if initial in _TENSE_CLOSURE and style.tense == "geminate" and voiced_before:
                out[-1] += _TENSE_CLOSURE[initial]  # the closure belongs to the syllable before
        vowel = _VOWEL[medial]
        if medial == "ㅢ" and initial != "ㅇ":
            vowel = "i"  # 희망 [히망]: after a consonant ㅢ is read ㅣ
        coda = _CODA_CLASS[final] if final else ""
        spelled_coda = {"k": style.coda_k, "t": style.coda_t, "l": style.coda_l}.get(coda, coda)
        if swap:
            glide = vowel[0] if vowel[0] in "jw" and len(vowel) > 1 else ""
            nucleus = vowel[len(glide) :]
            onset = swap.get(onset, onset)
            vowel = swap.get(glide, glide) + swap.get(nucleus, nucleus)
            spelled_coda = swap.get(spelled_coda, spelled_coda)
        out.append(onset + vowel + spelled_coda)
        prev_coda = coda
    return out


STRESS_MODES = ("first", "second", "final", "secondary", "all", "none", "last", "ap", "aplh")

# Onsets that start a Seoul Korean accentual phrase high (H H ... L H); any other onset starts it low
# (L H ... L H), so its first high tone falls on the second syllable (Jun 1993, 2000).
HIGH_ONSETS = frozenset("ㄲㄸㅃㅆㅉㅊㅋㅌㅍㅅㅎ")


def _first_initial(word: str) -> str:
    for ch in word:
        parts = decompose(ch)
        if parts is not None:
            return parts[0]
    return ""


def _render(syllables: list[str], mode: str, last_word: bool, high_onset: bool = True) -> str:
    """A word's syllables with espeak stress marks: `'` primary, `,` secondary.

    Korean has no lexical stress, but espeak lengthens and raises stressed syllables and hangs its
    intonation on them, so where the marks go is a prosody choice the judge makes (`Style.stress`).
    "ap" puts the mark where a Seoul accentual phrase has its first high tone: the first syllable
    after an aspirated, tense, ㅅ or ㅎ onset (`high_onset`), else the second; "aplh" adds a
    secondary mark on a longer word's last syllable, its final rise.
    """
    marks = [""] * len(syllables)
    if mode in ("ap", "aplh"):
        first_high = 0 if high_onset else min(1, len(syllables) - 1)
        marks[first_high] = "'"
        if mode == "aplh" and len(syllables) - 1 > first_high + 1:
            marks[-1] = ","  # the phrase-final rise of L H ... L H, as a secondary stress
    elif mode == "first" or (mode == "last" and last_word):
        marks[0] = "'"
    elif mode == "second":
        marks[min(1, len(syllables) - 1)] = "'"
    elif mode == "final":
        marks[-1] = "'"
    elif mode == "secondary":
        marks[0] = ","
    elif mode == "all":
        marks = ["'"] + [","] * (len(syllables) - 1)
    elif mode not in ("none", "last"):
        raise ValueError(f"unknown stress mode {mode!r}; use one of {', '.join(STRESS_MODES)}")
    return "".join(m + syl for m, syl in zip(marks, syllables, strict=True))


def to_phoneme_input(text: str, style: Style = Style()) -> str:
    """A cleaned sentence of pronounced Hangul → espeak input with `[[...]]` phonemes.

    Words become phoneme words inside one `[[...]]` per clause; clause punctuation stays outside the
    brackets, so espeak's phrasing and its statement / question intonation still apply. Returns ''
    when there is no syllable to speak.
    """
    clauses: list[tuple[list[tuple[list[str], bool]], str]] = []
    words: list[tuple[list[str], bool]] = []
    current = ""

    def flush_word() -> None:
        nonlocal current
        if current:
            syllables = word_phonemes(current, style)
            if syllables:
                words.append((syllables, _first_initial(current) in HIGH_ONSETS))
            current = ""

    for ch in text:
        if ch in CLAUSE_PUNCTUATION:
            flush_word()
            if words:
                clauses.append((words, ch))
                words = []
            elif clauses:
                # "?!" or ".." : keep the first mark of a run
                continue
        elif ch.isspace():
            flush_word()
        else:
            current += ch
    flush_word()
    if words:
        clauses.append((words, ""))
    pieces: list[str] = []
    last_clause = len(clauses) - 1
    for ci, (clause_words, mark) in enumerate(clauses):
        rendered = [
            _render(syllables, style.stress, ci == last_clause and wi == len(clause_words) - 1, high)
            for wi, (syllables, high) in enumerate(clause_words)
        ]
        pieces.append("[[" + " ".join(rendered) + "]]" + mark)
    return " ".join(pieces)

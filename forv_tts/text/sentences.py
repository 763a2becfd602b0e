"""Sentence splitting: where one synthesis chunk ends and the next begins."""

from __future__ import annotations

import re

from forv_tts.text.cleaning import clean
from forv_tts.text.tables import ABBREVIATIONS

# A synthesis chunk is at most this many characters of cleaned source text (~10-15 s of speech).
# Glow-TTS handles longer input, but attention quality and memory degrade with length and one bad
# chunk should not spoil a paragraph. Longer sentences are cut after a comma, else at a space.
MAX_SENTENCE_CHARS = 120

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
    for line in clean(text).split("\n"):
        for sentence in _split_line(line):
            sentences.extend(_split_long(sentence))
    return [s for s in sentences if any(ch.isalnum() for ch in s)]

"""The text stages strung together: clean → split → expand (lexicon first) → g2pk."""

from __future__ import annotations

import re
from typing import Any

from forv_tts.text.lexicon import Lexicon
from forv_tts.text.rules import expand_with_rewrites, tidy_punctuation
from forv_tts.text.sentences import split_sentences

_HANGUL = re.compile("[가-힣]")


def pronounced(expanded: str) -> str:
    """g2pk's pronunciation of an expanded sentence, limited to what the voice reads."""
    from forv_tts.text.g2p import pronounce

    spoken = pronounce(expanded)
    # g2pk keeps our character set; anything else would be a g2pk surprise the voice cannot read.
    return tidy_punctuation(re.sub(r"[^가-힣 .,!?]", "", spoken))


# g2pk costs about the same per call whatever the length (400 table rules, mecab's set-up), so the
# sentences of one text go through it in one call, joined by a mark that mecab tags as a symbol and no
# g2pk rule crosses (the same output as one call per sentence on every sentence of tests/text/); the
# split is checked and any doubt falls back to one call per sentence.
_JOIN = " | "


def pronounced_all(expanded: list[str]) -> list[str]:
    """`pronounced` for each sentence, in one g2pk call."""
    if len(expanded) < 2:
        return [pronounced(e) for e in expanded]
    from forv_tts.text.g2p import pronounce

    parts = pronounce(_JOIN.join(expanded)).split("|")
    if len(parts) != len(expanded):
        return [pronounced(e) for e in expanded]
    return [tidy_punctuation(re.sub(r"[^가-힣 .,!?]", "", part)) for part in parts]


def normalize(text: str, *, g2p: bool = True, lexicon: Lexicon | None = None) -> list[str]:
    """Exactly the strings handed to the voice, one per sentence; [] if nothing is speakable."""
    out: list[str] = []
    for sentence in split_sentences(text):
        expanded = expand_with_rewrites(sentence, lexicon=lexicon)[0]
        if _HANGUL.search(expanded):
            out.append(expanded)
    return pronounced_all(out) if g2p else out


def normalize_stages(
    text: str, *, lexicon: Lexicon | None = None, explain: bool = False
) -> list[dict[str, Any]]:
    """Per speakable sentence: {"sentence", "expanded", "pronounced"}, plus with `explain` the
    rewrites ({"span", "start", "end", "rule", "reading"}) and, with a lexicon, the entries that fired.
    """
    stages: list[dict[str, Any]] = []
    for sentence in split_sentences(text):
        expanded, rewrites = expand_with_rewrites(sentence, lexicon=lexicon)
        if not _HANGUL.search(expanded):
            continue
        stage: dict[str, Any] = {"sentence": sentence, "expanded": expanded, "pronounced": ""}
        if explain:
            stage["rewrites"] = [r.as_dict() for r in rewrites]
        if lexicon:
            stage["lexicon"] = [
                {"written": e.written, "spoken": e.spoken, "source": e.source}
                for e in lexicon.fired(sentence)
            ]
        stages.append(stage)
    for stage, spoken in zip(stages, pronounced_all([s["expanded"] for s in stages]), strict=True):
        stage["pronounced"] = spoken
    return stages


def explain(text: str, *, lexicon: Lexicon | None = None) -> list[dict[str, Any]]:
    """Per sentence, why it reads as it does: each rewrite's span, rule name and reading (no g2pk)."""
    out: list[dict[str, Any]] = []
    for sentence in split_sentences(text):
        expanded, rewrites = expand_with_rewrites(sentence, lexicon=lexicon)
        out.append({"sentence": sentence, "expanded": expanded, "rewrites": [r.as_dict() for r in rewrites]})
    return out

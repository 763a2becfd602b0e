"""Korean text → what the voice is given: the stable facade of the text package.

    from forv_tts import text
    text.normalize("KTX 표가 3장에 15,000원이에요")   # ['케이티엑쓰 표가 세 장에 마 노처 눠니에요']
    text.split_sentences("안녕하세요. 반갑습니다!")
    text.normalize_stages("3/4까지 내세요", explain=True)
    text.load_lexicon("lexicon.tsv")

The package, one job per module: `cleaning` (unspeakable Unicode out), `sentences` (splitting),
`rules` (the reading rules behind `expand`), `numbers` (numerals and number readings), `tables` (word lists),
`english` (Latin words, addresses), `hanja`, `particles` (이/가 … agreement), `lexicon` (the
user's TSV), `g2p` (g2pk, offline), `normalizer` (the stages strung together). Importing it loads
no g2pk or mecab; the rule module is imported on first call. No submodule may be named like a
function here: importing a submodule binds its name in the package, replacing the function.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

__all__ = [
    "Lexicon",
    "expand",
    "explain",
    "load_lexicon",
    "normalize",
    "normalize_stages",
    "resolve_lexicon",
    "split_sentences",
]


def normalize(text: str, *, g2p: bool = True, lexicon: Lexicon | None = None) -> list[str]:
    """Exactly the strings handed to the voice, one per sentence; [] if nothing is speakable.

    With g2p=False the expanded spelling (before g2pk) is returned instead of the pronunciation.
    """
    from forv_tts.text.normalizer import normalize as run

    return run(text, g2p=g2p, lexicon=lexicon)


def split_sentences(text: str) -> list[str]:
    """Cleaned sentences, each with its end punctuation; newlines always end one; no empty ones."""
    from forv_tts.text.sentences import split_sentences as run

    return run(text)


def normalize_stages(
    text: str, *, lexicon: Lexicon | None = None, explain: bool = False
) -> list[dict[str, Any]]:
    """Per speakable sentence: {"sentence", "expanded", "pronounced"} (+ "rewrites", "lexicon")."""
    from forv_tts.text.normalizer import normalize_stages as run

    return run(text, lexicon=lexicon, explain=explain)


def explain(text: str, *, lexicon: Lexicon | None = None) -> list[dict[str, Any]]:
    """Per sentence: the expanded text and each rewrite's span, rule name and reading."""
    from forv_tts.text.normalizer import explain as run

    return run(text, lexicon=lexicon)


def expand(text: str, *, lexicon: Lexicon | None = None) -> str:
    """One sentence → Hangul words and . , ! ? (the stage before g2pk)."""
    from forv_tts.text.rules import expand as run

    return run(text, lexicon=lexicon)


def load_lexicon(path: str | os.PathLike[str]) -> Lexicon:
    """A `written<TAB>spoken` TSV file (see `forv_tts.text.lexicon`)."""
    from forv_tts.text.lexicon import load

    return load(path)


def resolve_lexicon(
    paths: Iterable[str | os.PathLike[str]] = (), *, voice_dir: str | os.PathLike[str] | None = None
) -> Lexicon | None:
    """The voice directory's lexicon.tsv, then $FORV_TTS_LEXICON, then `paths` merged (later wins).

    None when there is none. Files are read on every call and parsed again only when their bytes
    changed; the value is shared between callers (extend a `merge` of it, never `add` to it).
    """
    from forv_tts.text.lexicon import resolve

    return resolve(paths, voice_dir=voice_dir)


def __getattr__(name: str) -> Any:
    if name == "Lexicon":
        from forv_tts.text.lexicon import Lexicon

        return Lexicon
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

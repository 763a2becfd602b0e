"""Text to token ids exactly as the member's Coqui release did (0.x legacy tables or coqui-tts 0.28).

Torch-free on purpose: the ONNX engine and discovery use it without importing torch.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forv_tts.errors import NothingToSayError
from forv_tts.voices.base import FORMAT_LEGACY
from forv_tts.voices.layout import config_format

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


TEXT_SYLLABLE = "syllable"  # precomposed Hangul syllables U+AC00..U+D7A3
TEXT_JAMO = "jamo"  # conjoining jamo U+1100..U+11FF (what jamo.h2j produces)
TEXT_COMPAT = "compat"  # compatibility jamo U+3131..U+318E
TEXT_OTHER = "other"  # no Hangul in the character set: text is used as is


def _hangul_class(ch: str) -> str | None:
    cp = ord(ch)
    if 0xAC00 <= cp <= 0xD7A3:
        return TEXT_SYLLABLE
    if 0x1100 <= cp <= 0x11FF or 0xA960 <= cp <= 0xA97F or 0xD7B0 <= cp <= 0xD7FF:
        return TEXT_JAMO
    if 0x3131 <= cp <= 0x318E:
        return TEXT_COMPAT
    return None


def detect_text_form(symbols: list[str] | tuple[str, ...]) -> str:
    """Which Hangul form the model was trained on, decided by its own character set (majority)."""
    counts = {TEXT_SYLLABLE: 0, TEXT_JAMO: 0, TEXT_COMPAT: 0}
    for sym in symbols:
        if len(sym) == 1 and (cls := _hangul_class(sym)) is not None:
            counts[cls] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else TEXT_OTHER


def to_text_form(text: str, form: str) -> str:
    """Hangul text in the form the model reads; never NFC-composes jamo."""
    if form == TEXT_SYLLABLE:
        return unicodedata.normalize("NFC", text)
    if form in (TEXT_JAMO, TEXT_COMPAT):
        import jamo

        # h2j decomposes each syllable on its own; everything else passes through unchanged.
        out = "".join(jamo.h2j(ch) if _hangul_class(ch) == TEXT_SYLLABLE else ch for ch in text)
        return "".join(jamo.j2hcj(ch) for ch in out) if form == TEXT_COMPAT else out
    return text


@dataclass(frozen=True)
class Tokenizer:
    """Text → token ids for one voice, faithful to the Coqui release that trained it."""

    symbols: tuple[str, ...]
    char_to_id: Mapping[str, int]
    num_chars: int
    text_form: str
    blank_id: int | None = None  # intersperse between tokens (config add_blank)
    bos_id: int | None = None  # wrap the sequence (modern enable_eos_bos_chars)
    eos_id: int | None = None
    never_keep: frozenset[str] = frozenset()
    lowercase: bool = False  # every Coqui cleaner lowercases (a no-op for Hangul)

    def ids_for(self, text: str, voice_id: str) -> list[int]:
        """Token ids for `text`; unspeakable characters are dropped with one logged warning (both engines)."""
        return self.owned_ids_for(text, voice_id)[0]

    def owned_ids_for(self, text: str, voice_id: str) -> tuple[list[int], list[int]]:
        """`ids_for` plus each token's word (`encode_words`): what a voice that times words needs."""
        ids, dropped, owners = self.encode_words(text)
        if dropped:
            log.warning(
                "voice %s cannot speak %s; dropped",
                voice_id,
                " ".join(f"{c!r}(U+{ord(c):04X})" for c in dropped),
            )
        return ids, owners

    def encode(self, text: str) -> tuple[list[int], list[str]]:
        """Token ids for `text` plus the input characters that had to be dropped (in order, unique).

        Like Coqui's cleaners we collapse whitespace runs to one space (and also trim the ends:
        input is one normalised sentence), but never apply their Unicode NFC. 0.x's `{ARPAbet}`
        brace syntax is not interpreted (normalised Korean has no braces; they are dropped).
        Raises `NothingToSayError` when no letter or digit survives.
        """
        ids, dropped, _ = self.encode_words(text)
        return ids, dropped

    def encode_words(self, text: str) -> tuple[list[int], list[str], list[int]]:
        """`encode`, plus for each token the word of `text` (split on whitespace) it spells, or -1.

        Spaces, blanks and BOS/EOS belong to no word: a word's time is its own tokens' durations
        (`forv_tts.timing.word_spans`).
        """
        text = " ".join(text.split())
        if self.lowercase:
            text = text.lower()
        if self.text_form == TEXT_SYLLABLE:
            text = unicodedata.normalize("NFC", text)
        ids: list[int] = []
        owners: list[int] = []
        dropped: list[str] = []
        speakable = False
        word = 0
        for ch in text:
            if ch == " ":
                word += 1
            pieces = to_text_form(ch, self.text_form)
            for piece in pieces:
                idx = self.char_to_id.get(piece)
                if idx is None or piece in self.never_keep:
                    if ch not in dropped:
                        dropped.append(ch)
                    continue
                ids.append(idx)
                owners.append(-1 if ch == " " else word)
                speakable = speakable or piece.isalpha() or piece.isdigit()
        if not speakable:
            raise NothingToSayError(f"nothing speakable left in {text!r} for this voice")
        if self.blank_id is not None:
            spaced = [self.blank_id] * (len(ids) * 2 + 1)
            spaced[1::2] = ids
            ids = spaced
            spaced_owners = [-1] * len(spaced)
            spaced_owners[1::2] = owners
            owners = spaced_owners
        if self.bos_id is not None and self.eos_id is not None:
            ids = [self.bos_id, *ids, self.eos_id]
            owners = [-1, *owners, -1]
        return ids, dropped, owners


def legacy_tokenizer(
    characters: Mapping[str, Any], *, add_blank: bool, cleaner: str | None = "basic_cleaners"
) -> Tokenizer:
    """Coqui TTS 0.x (v0.1-v0.5) grapheme tokenisation, reproduced exactly.

    Copied from coqui-ai/TTS `TTS/tts/utils/text/symbols.py::make_symbols` (symbols are
    `[pad, eos, bos] + list(characters)`; no sort, no dedupe, punctuation NOT appended; note the
    original tests `len(bos) > 0` for all three specials) and `TTS/tts/utils/text/__init__.py`
    (`_symbol_to_id = {s: i for i, s in enumerate(symbols)}` so a duplicated character maps to its last
    index; `_should_keep_symbol` drops "~", "^", "_" whatever the specials are; with `add_blank` the
    blank token is id `len(symbols)` interspersed by `intersperse`; graphemes never get eos/bos). The
    model's `num_chars` was `len(symbols) + add_blank` (`BaseTTS.get_characters`).
    """
    chars = characters.get("characters")
    if not isinstance(chars, str) or not chars:
        raise ValueError("legacy config has no characters string")
    pad = characters.get("pad", "_")
    eos = characters.get("eos", "~")
    bos = characters.get("bos", "^")
    symbols = list(chars)
    if bos is not None and len(bos) > 0:
        symbols = [bos, *symbols]
        if eos is not None:
            symbols = [eos, *symbols]
        if pad is not None:
            symbols = [pad, *symbols]
    table = {s: i for i, s in enumerate(symbols)}
    return Tokenizer(
        symbols=tuple(symbols),
        char_to_id=table,
        num_chars=len(symbols) + int(add_blank),
        text_form=detect_text_form(symbols),
        blank_id=len(symbols) if add_blank else None,
        never_keep=frozenset({"~", "^", "_"}),
        lowercase=bool(cleaner),
    )


# coqui-tts 0.28 `TTS/tts/utils/text/characters.py` defaults, used when a modern config omits a field.
_GRAPHEME_DEFAULTS: dict[str, Any] = {
    "characters": "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "punctuations": "!'(),-.:;? ",
    "pad": "<PAD>",
    "eos": "<EOS>",
    "bos": "<BOS>",
    "blank": "<BLNK>",
    "is_unique": False,
    "is_sorted": True,
}


def modern_vocab(characters: Mapping[str, Any] | None) -> tuple[list[str], dict[str, str | None]]:
    """coqui-tts 0.28's vocabulary for a `CharactersConfig` (`BaseCharacters._create_vocab`).

    Order: `[pad, eos, bos, blank] + sorted(characters) + list(punctuations)`, each special only when
    set; or `vocab_dict` verbatim when given (`BaseVocabulary`).
    """
    cfg = dict(_GRAPHEME_DEFAULTS)
    if characters is not None:
        cfg.update({k: characters[k] for k in _GRAPHEME_DEFAULTS if k in characters})
    specials: dict[str, str | None] = {k: cfg[k] for k in ("pad", "eos", "bos", "blank")}
    vocab_dict = characters.get("vocab_dict") if characters is not None else None
    if vocab_dict:
        return [str(s) for s in vocab_dict], specials
    vocab: list[str] = list(cfg["characters"] or "")
    if cfg["is_unique"]:
        vocab = list(set(vocab))
    if cfg["is_sorted"]:
        vocab = sorted(vocab)
    for key in ("blank", "bos", "eos", "pad"):
        special = cfg[key]
        if special is not None and len(special) > 0:
            vocab = [special, *vocab]
    return vocab + list(cfg["punctuations"] or ""), specials


def modern_tokenizer(config: Mapping[str, Any]) -> Tokenizer:
    """coqui-tts 0.28 `TTSTokenizer.text_to_ids` for graphemes, minus the text cleaner."""
    characters = config.get("characters")
    vocab, specials = modern_vocab(characters if isinstance(characters, Mapping) else None)
    table = {s: i for i, s in enumerate(vocab)}

    def special_id(name: str) -> int:
        # BaseVocabulary.{blank,bos,eos}_id: the symbol's id, or len(vocab) when unset.
        sym = specials[name]
        return table[sym] if sym else len(vocab)

    use_eos_bos = bool(config.get("enable_eos_bos_chars", False))
    return Tokenizer(
        symbols=tuple(vocab),
        char_to_id=table,
        num_chars=len(vocab),
        text_form=detect_text_form(vocab),
        blank_id=special_id("blank") if config.get("add_blank", False) else None,
        bos_id=special_id("bos") if use_eos_bos else None,
        eos_id=special_id("eos") if use_eos_bos else None,
        lowercase=bool(config.get("text_cleaner")),
    )


def tokenizer_for(config: Mapping[str, Any], fmt: str | None = None) -> Tokenizer:
    """The tokenizer a Glow-TTS config was trained with ("legacy" or "modern", detected if not given)."""
    if config.get("use_phonemes"):
        raise ValueError("phoneme-based models are not supported (use_phonemes is true)")
    fmt = fmt or config_format(dict(config))
    if fmt == FORMAT_LEGACY:
        chars = config.get("characters")
        if not isinstance(chars, Mapping):
            raise ValueError("legacy config has no characters section")
        return legacy_tokenizer(
            chars, add_blank=bool(config.get("add_blank", False)), cleaner=config.get("text_cleaner")
        )
    return modern_tokenizer(config)

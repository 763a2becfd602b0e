"""Text → sentences → voice → audio: the library's synthesis calls, with no file IO.

    voice = load_voice("3", voice_dir="voice_model")     # None: the built-in voice
    audio = synthesize("안녕하세요", voice, SynthesisConfig(seed=7))
    for chunk in iter_synthesize(long_text, voice):       # one AudioChunk per sentence, as it is made
        ...

Each stage lives in its own module and passes plain values on (text: `forv_tts.text`, voices:
`forv_tts.voices`, audio: `forv_tts.audio`); this module strings them together so the CLI, batch
workers and the service run exactly the same steps. Naming and writing clips is `forv_tts.storage`'s
job, one request end to end (`synthesise → write → upload`) is `forv_tts.jobs.item.run_item`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forv_tts.audio import DEFAULT_PAUSE_S, Audio, AudioChunk, concat
from forv_tts.config import DEFAULT_CONFIG, SynthesisConfig
from forv_tts.errors import (
    CancelledError,
    NoTextError,
    NothingToSayError,
    TextTooLongError,
    UsageError,
    VoiceLoadError,
)
from forv_tts.voices.base import ENGINE_COQUI, Voice, VoiceInfo

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

log = logging.getLogger(__name__)


def max_text_chars() -> int:
    """The cap on one utterance's characters: `$FORV_TTS_MAX_TEXT_CHARS`, else 20,000 (0: no cap).

    Why a cap: one 10 MB line ran for minutes at gigabytes of memory with no error.
    """
    from forv_tts import settings

    value = settings.MAX_TEXT_CHARS.get()
    assert value is not None
    return value


def check_text_length(text: str) -> None:
    """Refuse an utterance over `max_text_chars()` (a clear error for that item, before any work)."""
    cap = max_text_chars()
    if cap and len(text) > cap:
        raise TextTooLongError(
            f"text is {len(text):,} characters, over the limit of {cap:,} for one utterance: split it "
            "(e.g. one paragraph per batch line) or raise FORV_TTS_MAX_TEXT_CHARS",
            chars=len(text),
            limit=cap,
        )


def dropped_characters(text: str) -> list[str]:
    """Characters the normaliser's cleaning removes without a trace (emoji, controls, format marks).

    Reported by the caller, once per utterance (`warn_dropped`): a voice's own unknown characters are
    reported by the voice, but these vanished before it saw them.
    """
    from forv_tts.text.cleaning import _clean_char

    seen: list[str] = []
    for ch in text:
        if ch not in seen and ch != "\n" and _clean_char(ch) == "":
            seen.append(ch)
    return seen


def describe_characters(chars: list[str]) -> str:
    """`'🙂' (U+1F642), U+0007` for a message (controls by code point only)."""
    return ", ".join(
        f"U+{ord(c):04X}" if not c.isprintable() else f"{c!r} (U+{ord(c):04X})" for c in chars[:20]
    ) + (f" and {len(chars) - 20} more" if len(chars) > 20 else "")


def warn_dropped(text: str) -> None:
    """One warning naming what cleaning drops from `text` (nothing when nothing is dropped)."""
    dropped = dropped_characters(text)
    if dropped:
        log.warning(
            "dropped %d character(s) that cannot be spoken: %s", len(dropped), describe_characters(dropped)
        )


def unknown_characters(info: VoiceInfo, sentences: list[str]) -> list[str] | None:
    """Characters of normalised `sentences` that `info`'s voice has no symbol for, from its config only.

    None when the voice takes any text (the built-in espeak-ng voice) or keeps its symbols elsewhere
    (an exported voice). No weights are loaded: the tokenizer is built from the Glow-TTS config.
    """
    if info.engine != ENGINE_COQUI or info.config is None:
        return None
    from forv_tts.voices.coqui.tokenizer import tokenizer_for
    from forv_tts.voices.layout import config_format, read_config_json

    try:
        config = read_config_json(info.config)
        tokenizer = tokenizer_for(config, config_format(config))
    except (OSError, ValueError, TypeError) as exc:
        raise VoiceLoadError(f"cannot read config {info.config}: {exc}") from None
    unknown: list[str] = []
    for sentence in sentences:
        try:
            _, dropped = tokenizer.encode(sentence)
        except NothingToSayError:
            dropped = [ch for ch in sentence if not ch.isspace()]
        unknown.extend(ch for ch in dropped if ch not in unknown)
    return unknown


def lexicon_for(
    config: SynthesisConfig | None, voice_dir: str | os.PathLike[str] | None = None
) -> Lexicon | None:
    """The user lexicon `config` asks for: its own `Lexicon` (or None), or with "auto" (the default)
    what the CLI reads for `voice_dir`.

    That is the voice directory's lexicon.tsv (`voice_dir`, else `$FORV_TTS_VOICE_DIR`, else
    ./voice_model), then each file in `$FORV_TTS_LEXICON`, merged, later wins (`text.resolve_lexicon`:
    the files are read on every call and parsed again only when they changed).
    """
    lexicon = (config or DEFAULT_CONFIG).lexicon
    if not isinstance(lexicon, str):
        return lexicon
    from forv_tts import settings
    from forv_tts.text import resolve_lexicon

    return resolve_lexicon(voice_dir=settings.voice_dir(voice_dir))


def with_lexicon(
    config: SynthesisConfig | None, voice_dir: str | os.PathLike[str] | None = None
) -> SynthesisConfig:
    """`config` with "auto" replaced by `lexicon_for(config, voice_dir)`, so a whole call (every
    sentence of a stream) reads one version; a config that has one, or does not normalise, as it is."""
    config = config or DEFAULT_CONFIG
    if not config.normalize or not isinstance(config.lexicon, str):
        return config
    return dataclasses.replace(config, lexicon=lexicon_for(config, voice_dir))


def prepare_text(
    text: str, config: SynthesisConfig | None = None, *, voice_dir: str | os.PathLike[str] | None = None
) -> list[str]:
    """Turn raw input into the sentences handed to the voice.

    With `config.normalize` the text goes through number reading and g2pk (`forv_tts.text`, the
    user lexicon first: `lexicon_for(config, voice_dir)`); without it the text is only split into
    sentences, for callers who already hand over pronounced Hangul. Raises `NoTextError` for empty
    text, `TextTooLongError` over the cap, `NothingToSayError` when nothing speakable is left.
    """
    config = config or DEFAULT_CONFIG
    check_text(text)
    from forv_tts import text as text_stage

    if config.normalize:
        sentences = list(text_stage.normalize(text, lexicon=lexicon_for(config, voice_dir)))
    else:
        sentences = list(text_stage.split_sentences(text))
    if not sentences:
        raise NothingToSayError(f"nothing speakable in {text[:40]!r}: give Korean text", text=text[:200])
    return sentences


def iter_sentences(
    voice: Voice,
    sentences: Iterable[str],
    config: SynthesisConfig | None = None,
    *,
    parts: bool = False,
) -> Generator[AudioChunk, None, None]:
    """Speak each prepared sentence and yield it as soon as it is made.

    `sentences` may be lazy (`iter_synthesize` normalises each one as it is asked for): the time taken
    to get each is the chunk's `normalize_s`, the voice's its `synthesis_s`. A sentence the voice cannot
    speak at all (e.g. only symbols) is skipped with a warning; if no sentence could be spoken,
    `NothingToSayError` is raised once all were tried. With `parts`, a voice that streams
    (`OnnxVoice.stream`) gives a long sentence in several chunks as they are final (`AudioChunk.part`).
    """
    config = config or DEFAULT_CONFIG
    index = 0
    last_error: NothingToSayError | None = None
    pending = iter(sentences)
    stream = getattr(voice, "stream", None) if parts else None
    while True:
        t0 = time.perf_counter()
        sentence = next(pending, None)
        if sentence is None:
            break
        t1 = time.perf_counter()
        try:
            if stream is not None:
                made = yield from _sentence_parts(stream(sentence, config), index, sentence, t1 - t0, voice)
                index += made
                continue
            audio = voice.synthesize(sentence, config)
        except NothingToSayError as err:
            log.warning("skipped a sentence with nothing speakable: %r", sentence)
            last_error = err
            continue
        yield AudioChunk(
            samples=audio.samples,
            sample_rate=audio.sample_rate,
            index=index,
            sentence=sentence,
            pause_before=DEFAULT_PAUSE_S if index else 0.0,
            words=audio.words,
            normalize_s=t1 - t0,
            synthesis_s=time.perf_counter() - t1,
        )
        index += 1
    if not index:
        raise last_error or NothingToSayError("nothing speakable in the text: give Korean text")


def _sentence_parts(
    pieces: Iterator[Any], index: int, sentence: str, normalize_s: float, voice: Voice
) -> Generator[AudioChunk, None, int]:
    """One sentence's `SentencePart`s as chunks; returns 1 (a sentence spoken). `synthesis_s` counts
    the voice's time only, not the caller's between parts."""
    spent, part = 0.0, 0
    while True:
        t = time.perf_counter()
        piece = next(pieces, None)
        spent += time.perf_counter() - t
        if piece is None:
            return 1
        yield AudioChunk(
            samples=piece.samples,
            sample_rate=voice.sample_rate,
            index=index,
            sentence=sentence,
            pause_before=DEFAULT_PAUSE_S if index and not part else 0.0,
            words=piece.words if piece.last else None,
            normalize_s=0.0 if part else normalize_s,
            synthesis_s=spent,
            part=part,
            last=bool(piece.last),
        )
        part += 1


def synthesize_sentences(
    voice: Voice,
    sentences: list[str],
    config: SynthesisConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Audio:
    """Speak each prepared sentence and join them with a short pause (`audio.DEFAULT_PAUSE_S`).

    `progress(done, total)` is called before the first sentence and after each one (the CLI's bar).
    """
    chunks: list[Audio] = []
    if progress is not None:
        progress(0, len(sentences))
    for chunk in iter_sentences(voice, sentences, config):
        chunks.append(Audio(chunk.samples, chunk.sample_rate))
        if progress is not None:
            progress(chunk.index + 1, len(sentences))
    return concat(chunks)


#: Called before each sentence of a stream with (index, total); returning False stops it there.
BeforeSentence = Callable[[int, int], bool]


def check_text(text: str) -> None:
    """What `prepare_text` and `iter_synthesize` refuse before any work: no text, or over the cap."""
    if not text or not text.strip():
        raise NoTextError("no text given")
    check_text_length(text)


def iter_synthesize(
    text: str,
    voice: Voice,
    config: SynthesisConfig | None = None,
    *,
    before: BeforeSentence | None = None,
    stages: list[dict[str, Any]] | None = None,
    parts: bool = False,
) -> Iterator[AudioChunk]:
    """Yield one `AudioChunk` per sentence of `text`, each normalised just before it is spoken.

    The first sound waits for one sentence's reading, not the whole text's (`normalize` reads sentence
    by sentence, so the strings are `prepare_text`'s); writing each chunk's `silence_before()` and then
    its samples gives exactly `synthesize`'s audio. Bad text (none, over the cap) raises on the first
    `next`; a text with nothing speakable raises `NothingToSayError` once every sentence was tried.

    `before(index, total)` is called before each sentence (`total` sentences as split, before
    normalising): returning False stops the stream with `CancelledError`. Each chunk carries what it
    cost (`normalize_s`, `synthesis_s`). `stages`, when given, receives each sentence's normaliser stage
    (`text.normalize_stages(explain=True)`: as written, its rewrites) just before it is spoken, so the
    last one is the chunk's when it is yielded (`forv_tts.timing.Timer.add`). The user lexicon is
    resolved once, before the first sentence (`with_lexicon`, for the voice's directory).

    `parts=True` lets a long sentence come in parts as soon as each is final (`AudioChunk.part` and
    `last`; the ONNX engine on more than one thread): the first sound of a long sentence waits for
    its first vocoder window, not the whole sentence. Written one after another, the parts are still
    exactly `synthesize`'s samples; `Timer.add_part` times them.
    """
    config = config or DEFAULT_CONFIG
    check_text(text)
    config = with_lexicon(config, voice.info.voice_dir)
    spoken = _sentences_as_spoken(text, config, before, stages)
    yield from iter_sentences(voice, spoken, config, parts=parts)


def _sentences_as_spoken(
    text: str,
    config: SynthesisConfig,
    before: BeforeSentence | None,
    stages: list[dict[str, Any]] | None = None,
) -> Iterator[str]:
    """`text` split, then each piece normalised when it is asked for (after `before` said yes)."""
    from forv_tts import text as text_stage

    pieces = text_stage.split_sentences(text)
    lexicon = lexicon_for(config) if config.normalize else None
    given = 0
    for position, piece in enumerate(pieces):
        if before is not None and not before(position, len(pieces)):
            raise CancelledError(
                f"stopped before sentence {position + 1} of {len(pieces)}",
                index=position,
                total=len(pieces),
            )
        if stages is not None and config.normalize:
            piece_stages = text_stage.normalize_stages(piece, lexicon=lexicon, explain=True)
            given += len(piece_stages)
            for stage in piece_stages:
                stages.append(stage)
                yield stage["pronounced"]
            continue
        sentences = text_stage.normalize(piece, lexicon=lexicon) if config.normalize else [piece]
        given += len(sentences)
        yield from sentences
    if not given:
        raise NothingToSayError(f"nothing speakable in {text[:40]!r}: give Korean text", text=text[:200])


def synthesize(text: str, voice: Voice, config: SynthesisConfig | None = None) -> Audio:
    """Normalise `text`, speak every sentence with `voice` and join them: the whole clip.

    The user lexicon is the config's; by default ("auto") the one the CLI would read for the voice's
    directory (`lexicon_for`).
    """
    return synthesize_sentences(voice, prepare_text(text, config, voice_dir=voice.info.voice_dir), config)


def resolve_voice(
    member: str | None, voice_dir: str | os.PathLike[str] | None = None, step: int | None = None
) -> VoiceInfo:
    """Find a member (or the built-in voice when `member` is None) in the resolved voice directory.

    Reads config files only (no weights). Raises `InvalidInputError` for a malformed id and a
    `VoiceNotFoundError` (`unknown_member`, `incomplete_member`, `voice_dir_not_found`) otherwise.
    """
    from forv_tts import settings
    from forv_tts.voices.layout import find_voice

    return find_voice(member, settings.voice_dir(voice_dir), step=step)


def load_voice(
    member: str | VoiceInfo | None,
    voice_dir: str | os.PathLike[str] | None = None,
    step: int | None = None,
    engine: str | None = None,
) -> Voice:
    """The loaded voice of `member` (None: the built-in voice), from the process's voice registry.

    `member` may also be a `VoiceInfo` already found (`find_voice`, `list_voices`); `voice_dir` and
    `step` then have nothing to select. `engine` (onnx or torch, for a member) defaults to
    `$FORV_TTS_ENGINE`, else ONNX. Loading happens once per voice, engine and process (thread-safe);
    later calls return the same object. `forv_tts.voices.registry.load_voice` is this function.
    """
    from forv_tts.voices.registry import default_registry

    if isinstance(member, VoiceInfo):
        if voice_dir is not None or step is not None:
            raise UsageError(
                "load_voice: voice_dir and step select a member id, not a VoiceInfo (pass engine by keyword)"
            )
        info = member
    else:
        info = resolve_voice(member, voice_dir, step)
    return default_registry().get(info, engine)


def list_voices(voice_dir: str | os.PathLike[str] | None = None) -> list[VoiceInfo]:
    """The built-in voice first, then every member found in the voice directory (loads nothing)."""
    from forv_tts import settings
    from forv_tts.voices.layout import list_voices as run_list

    return run_list(Path(settings.voice_dir(voice_dir)))

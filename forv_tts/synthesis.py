"""The `say` pipeline as library calls: text → normalise → synthesise → Audio → wav file.

Each stage lives in its own module and passes plain values on; this module only strings them together so
that the CLI, batch workers and (later) a queue worker all run exactly the same steps.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forv_tts._process.runtime import fork_call
from forv_tts.audio import Audio, concat
from forv_tts.errors import InvalidInputError, NothingToSayError, TextTooLongError, UsageError
from forv_tts.paths import voice_dir as resolve_voice_dir
from forv_tts.storage import naming
from forv_tts.storage.local import check_writable, write_wav
from forv_tts.voices.base import ENGINE_ESPEAK, Voice, VoiceInfo
from forv_tts.voices.layout import find_voice
from forv_tts.voices.registry import import_for, load_voice

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

log = logging.getLogger(__name__)


def prepare_text(text: str, *, normalize: bool = True, lexicon: Lexicon | None = None) -> list[str]:
    """Turn raw input into the sentences handed to the voice.

    With `normalize` the text goes through number reading and g2pk (`forv_tts.text`, the user `lexicon`
    first); without it the text is only split into sentences, for callers who already hand over
    pronounced Hangul.
    """
    _require_text(text)
    if normalize:
        from forv_tts.text import normalize as run_normalize

        sentences = run_normalize(text, lexicon=lexicon)
    else:
        from forv_tts.text import split_sentences

        sentences = split_sentences(text)
    if not sentences:
        raise NothingToSayError(f"nothing speakable in {text[:40]!r}: give Korean text")
    return sentences


MAX_TEXT_CHARS_ENV = "FORV_TTS_MAX_TEXT_CHARS"
DEFAULT_MAX_TEXT_CHARS = 20_000
#: What `torch.Generator.manual_seed` takes without wrapping (negative seeds alias large ones).
SEED_MAX = 2**64 - 1


def max_text_chars() -> int:
    """The cap on one utterance's characters: `$FORV_TTS_MAX_TEXT_CHARS`, else 20,000 (0: no cap).

    Why a cap: one 10 MB line ran for minutes at gigabytes of memory with no error. Moves to
    `forv_tts.settings` when that module lands.
    """
    raw = os.environ.get(MAX_TEXT_CHARS_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_TEXT_CHARS
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise UsageError(
            f"invalid {MAX_TEXT_CHARS_ENV}={raw!r}: give a number of characters (0 for no limit)"
        )
    return value


def check_text_length(text: str) -> None:
    """Refuse an utterance over `max_text_chars()` (a clear error for that item, before any work)."""
    cap = max_text_chars()
    if cap and len(text) > cap:
        raise TextTooLongError(
            f"text is {len(text):,} characters, over the limit of {cap:,} for one utterance: split it "
            f"(e.g. one paragraph per batch line) or raise {MAX_TEXT_CHARS_ENV}"
        )


def validate_seed(seed: int | None) -> int | None:
    """A seed the generator takes as is: 0 to 2**64 - 1, for members and the built-in voice alike."""
    if seed is not None and not (0 <= seed <= SEED_MAX):
        raise InvalidInputError(f"invalid --seed {seed}: use an integer from 0 to {SEED_MAX} (2**64 - 1)")
    return seed


def _require_text(text: str) -> None:
    if not text or not text.strip():
        raise InvalidInputError("no text given: pass TEXT as an argument or pipe it on stdin")
    check_text_length(text)


def prepare_text_while_importing(
    text: str,
    info: VoiceInfo,
    *,
    normalize: bool = True,
    lexicon: Lexicon | None = None,
    engine: str | None = None,
) -> list[str]:
    """`prepare_text`, run in a forked child while this process imports what loading `info` needs.

    Why: for a member, `import torch` takes 1-2 s of a cold `say` on one core while the other idles,
    and normalising takes 0.1-0.2 s (bench/notes.md). Only for processes forv-tts owns (the CLI):
    `runtime.fork_call` refuses where forking is not safe, and then this is plain `prepare_text`. Bad
    text is still reported as `prepare_text` reports it, once the imports are done.
    """
    _require_text(text)
    worth_it = normalize and info.engine != ENGINE_ESPEAK  # the built-in voice imports next to nothing
    pending = (
        fork_call(functools.partial(prepare_text, text, normalize=normalize, lexicon=lexicon))
        if worth_it
        else None
    )
    if pending is not None:
        try:
            import_for(info, engine)
        finally:
            sentences = pending.result()  # also reaps the child when the import failed
        if sentences is not None:
            log.debug("text normalised in a forked child while the voice's modules were imported")
            return sentences
    return prepare_text(text, normalize=normalize, lexicon=lexicon)


def synthesize_sentences(
    voice: Voice,
    sentences: list[str],
    *,
    seed: int | None = None,
    length_scale: float | None = None,
) -> Audio:
    """Speak each sentence and join them with a short pause.

    A sentence the voice cannot speak at all (e.g. only symbols) is skipped with a warning as long as at
    least one sentence remains; if none does, NothingToSayError propagates.
    """
    clips: list[Audio] = []
    last_error: NothingToSayError | None = None
    for sentence in sentences:
        try:
            clips.append(voice.synthesize(sentence, seed=seed, length_scale=length_scale))
        except NothingToSayError as err:
            log.warning("skipped a sentence with nothing speakable: %r", sentence)
            last_error = err
    if not clips:
        assert last_error is not None
        raise last_error
    return concat(clips)


@dataclass
class SayResult:
    """What one `say` produced; `to_dict` is the `--json` record."""

    member: str
    uuid: str
    created_at: str
    text: str
    sentences: list[str]
    audio: Audio
    seconds: float
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record of the clip (no samples)."""
        return {
            "path": str(self.path) if self.path is not None else None,
            "member": self.member,
            "uuid": self.uuid,
            "created_at": self.created_at,
            "text": self.text,
            "normalized": " ".join(self.sentences),
            "sentences": self.sentences,
            "sample_rate": self.audio.sample_rate,
            "duration": round(self.audio.duration, 3),
            "seconds": round(self.seconds, 3),
            **self.extra,
        }


def resolve_voice(
    member: str | None, voice_dir: str | Path | None = None, step: int | None = None
) -> VoiceInfo:
    """Find a member (or the built-in voice when `member` is None) in the resolved voice directory."""
    if member is not None:
        naming.validate_member_id(member)
    return find_voice(member, resolve_voice_dir(voice_dir), step=step)


def say(
    text: str,
    *,
    member: str | None = None,
    voice_dir: str | Path | None = None,
    step: int | None = None,
    output: Path | None = None,
    write: bool = True,
    uuid: str | None = None,
    created_at: str | None = None,
    seed: int | None = None,
    length_scale: float | None = None,
    normalize: bool = True,
    fork_text: bool = False,
    lexicon: Lexicon | None = None,
    engine: str | None = None,
) -> SayResult:
    """Synthesise `text` with a member's voice (or the built-in one) and write the wav.

    Without `output` the wav goes to `wav_files/<member>/<uuid>_<created_at>_voice.wav` under the current
    directory, the naming the team's storage uses. With `write=False` nothing is written (the caller
    streams `result.audio`). Names are validated before any work starts, so bad input writes nothing.
    `fork_text` (the CLI's own process) normalises while the voice's imports run
    (`prepare_text_while_importing`). `engine` (onnx/torch) for a member: `load_voice`'s.
    """
    t0 = time.perf_counter()
    uuid = naming.validate_uuid(uuid) if uuid is not None else naming.new_uuid()
    created_at = naming.validate_created_at(created_at) if created_at is not None else naming.today()
    if length_scale is not None and not (0.1 <= length_scale <= 10.0):
        raise InvalidInputError(f"invalid --length-scale {length_scale}: use a value between 0.1 and 10")
    validate_seed(seed)
    _require_text(text)
    info = resolve_voice(member, voice_dir, step)
    target = output
    if write and target is None:
        target = Path(naming.clip_name(info.id, uuid, created_at))
    if write and target is not None:
        check_writable(target)  # a bad -o is refused before the voice loads, not after synthesis
    if fork_text:
        sentences = prepare_text_while_importing(
            text, info, normalize=normalize, lexicon=lexicon, engine=engine
        )
    else:
        sentences = prepare_text(text, normalize=normalize, lexicon=lexicon)
    voice = load_voice(info, engine)
    audio = synthesize_sentences(voice, sentences, seed=seed, length_scale=length_scale)
    path = write_wav(audio, target) if write and target is not None else None
    seconds = time.perf_counter() - t0
    log.info("synthesised %.2f s of audio in %.2f s", audio.duration, seconds)
    return SayResult(
        member=info.id,
        uuid=uuid,
        created_at=created_at,
        text=text,
        sentences=sentences,
        audio=audio,
        seconds=seconds,
        path=path,
    )

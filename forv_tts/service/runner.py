"""The one place the service calls the synthesis library: normalise → synthesise → write → upload.

These are the steps `say` and `batch` run (`forv_tts.pipeline`, `forv_tts.audio`, `forv_tts.upload`),
not a second copy. When the public library API (`forv_tts.synthesize`, `iter_synthesize`, the `jobs/`
item runner) lands, this module is what switches to it.

Runs in worker processes only: importing it costs nothing, but its functions load voices (torch and
coqui-tts for a member).
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forv_tts.config import SynthesisConfig
from forv_tts.errors import CredentialsError, InvalidInputError, NothingToSayError, UploadError
from forv_tts.service.settings import ServiceSettings
from forv_tts.storage import naming
from forv_tts.voices.base import ENGINE_ESPEAK, VoiceInfo

log = logging.getLogger(__name__)

#: Called before each sentence with (index, total); returning False stops the job there.
BeforeSentence = Callable[[int, int], bool]

_threads: int | None = None


class Cancelled(Exception):
    """The client went away (a speech stream): stop without an error."""


def set_threads(threads: int) -> None:
    """Threads for this worker process's engine, applied before its first member is loaded."""
    global _threads
    _threads = max(1, threads)


def _ensure_threads(info: VoiceInfo) -> None:
    """Size this worker's pools for its engine (`startup.size_synthesis_threads`) before its first
    member loads; the built-in voice needs none."""
    if _threads is not None and info.engine != ENGINE_ESPEAK:
        from forv_tts._process import startup

        startup.size_synthesis_threads(_threads)


def resolve(member: str | None, settings: ServiceSettings) -> VoiceInfo:
    """The voice of a member id (None or "builtin": the built-in voice); raises VoiceNotFoundError."""
    from forv_tts.synthesis import resolve_voice

    return resolve_voice(None if member in (None, "builtin") else member, settings.voice_dir)


_lexicons: dict[str, Any] = {}


def lexicon_for(settings: ServiceSettings) -> Any:
    """The user lexicon `say` and `batch` would use (the voice directory's lexicon.tsv, then
    $FORV_TTS_LEXICON), read once per worker process."""
    key = str(settings.voice_dir)
    if key not in _lexicons:
        from forv_tts.text import resolve_lexicon

        _lexicons[key] = resolve_lexicon(voice_dir=settings.voice_dir)
    return _lexicons[key]


def seed_for(job_id: str) -> int:
    """Stable per job, so a redelivered job writes the same bytes (and its upload is a no-op)."""
    from forv_tts.jobs.input import derived_seed

    return derived_seed(job_id)


def speed_to_length_scale(speed: float | None) -> float | None:
    """OpenAI's `speed` (1.0 normal, 2.0 twice as fast) as Glow-TTS's length scale."""
    if speed is None or speed == 1.0:
        return None
    if not 0.25 <= speed <= 4.0:
        raise InvalidInputError(f"invalid speed {speed}: use a value between 0.25 and 4.0")
    return 1.0 / speed


def iter_sentences(
    info: VoiceInfo,
    text: str,
    *,
    seed: int | None,
    length_scale: float | None,
    settings: ServiceSettings,
    before: BeforeSentence | None = None,
    timings: list[float] | None = None,
    lazy: bool = False,
    stages: list[dict[str, Any]] | None = None,
) -> Iterator[tuple[list[str], Any]]:
    """Normalise `text`, load the voice (once per process) and yield `(sentences, Audio)` per sentence.

    Sentences the voice cannot speak are skipped as `synthesis.synthesize_sentences` skips them; if none
    is left, NothingToSayError. `before` may stop the job between sentences (raises `Cancelled`).
    With `lazy` (streaming) the text is split first and each sentence is normalised just before it is
    spoken, so the first sound does not wait for g2pk to read the whole text: `normalize` works sentence
    by sentence, so the strings are the same (the sentences yielded so far, in that case).
    `stages` (lazy only), when given, receives each spoken sentence's normaliser stage (written text and
    rewrites: `text.normalize_stages(explain=True)`), for its word times in the written words.
    """
    from forv_tts.synthesis import prepare_text
    from forv_tts.voices.registry import load_voice

    lexicon = lexicon_for(settings)
    if lazy:
        from forv_tts.text import split_sentences

        pieces = split_sentences(text)
        if not pieces:
            raise NothingToSayError(f"nothing speakable in {text[:40]!r}: give Korean text")
    else:
        pieces = prepare_text(text, SynthesisConfig(lexicon=lexicon))
    _ensure_threads(info)
    voice = load_voice(info)
    spoken = 0
    sentences: list[str] = []
    last_error: NothingToSayError | None = None
    for index, piece in enumerate(pieces):
        if before is not None and not before(index, len(pieces)):
            raise Cancelled(f"stopped before sentence {index + 1} of {len(pieces)}")
        if settings.sentence_delay_s > 0:
            time.sleep(settings.sentence_delay_s)
        piece_stages: list[dict[str, Any]] = []
        if lazy and stages is not None:
            from forv_tts import text as text_stage

            piece_stages = text_stage.normalize_stages(piece, lexicon=lexicon, explain=True)
            normalized = [stage["pronounced"] for stage in piece_stages]
            if not normalized:
                last_error = NothingToSayError(f"nothing speakable in {piece[:40]!r}: give Korean text")
                continue
        elif lazy:
            try:
                normalized = prepare_text(piece, SynthesisConfig(lexicon=lexicon))
            except NothingToSayError as err:
                last_error = err
                continue
        else:
            normalized = [piece]
        for position, sentence in enumerate(normalized):
            sentences.append(sentence)
            t0 = time.perf_counter()
            try:
                audio = voice.synthesize(sentence, SynthesisConfig(seed=seed, length_scale=length_scale))
            except NothingToSayError as err:
                log.warning("skipped a sentence with nothing speakable: %r", sentence)
                last_error = err
                continue
            spoken += 1
            if timings is not None:
                timings.append(time.perf_counter() - t0)
            if stages is not None and piece_stages:
                stages.append(piece_stages[position])
            yield (sentences if lazy else pieces), audio
    if not spoken:
        raise last_error or NothingToSayError(f"nothing speakable in {text[:40]!r}: give Korean text")


@dataclass(frozen=True)
class Clip:
    """What one clip job produced."""

    member: str
    path: Path
    object_name: str
    normalized: str
    sentences: int
    duration: float
    sample_rate: int
    sha256: str
    synthesis_s: float
    uri: str | None = None
    url: str | None = None
    upload_status: str | None = None

    def fields(self) -> dict[str, Any]:
        """The job record's fields."""
        return {
            "member": self.member,
            "path": str(self.path),
            "object": self.object_name,
            "normalized": self.normalized,
            "sentences": str(self.sentences),
            "duration": f"{self.duration:.3f}",
            "sample_rate": str(self.sample_rate),
            "sha256": self.sha256,
            "synthesis_s": f"{self.synthesis_s:.3f}",
            "uri": self.uri,
            "gcs_url": self.url,
            "upload_status": self.upload_status,
        }


def write_clip(
    *,
    job_id: str,
    member: str | None,
    text: str,
    created_at: str,
    settings: ServiceSettings,
    before: BeforeSentence | None = None,
) -> Clip:
    """Synthesise one clip and write `<out-dir>/wav_files/<member>/<uuid>_<created_at>_voice.wav`
    atomically (the `say` naming)."""
    from forv_tts.audio import concat, wav_bytes
    from forv_tts.storage.local import atomic_write_bytes

    t0 = time.perf_counter()
    info = resolve(member, settings)
    object_name = naming.clip_name(info.id, job_id, created_at)
    clips = []
    sentences: list[str] = []
    for spoken, audio in iter_sentences(
        info, text, seed=seed_for(job_id), length_scale=None, settings=settings, before=before
    ):
        sentences = spoken
        clips.append(audio)
    audio = concat(clips)
    data = wav_bytes(audio)
    path = atomic_write_bytes(settings.out_dir / object_name, data)
    return Clip(
        member=info.id,
        path=path,
        object_name=object_name,
        normalized=" ".join(sentences),
        sentences=len(clips),
        duration=audio.duration,
        sample_rate=audio.sample_rate,
        sha256=hashlib.sha256(data).hexdigest(),
        synthesis_s=time.perf_counter() - t0,
    )


def upload_clip(
    clip: Clip, settings: ServiceSettings, *, on_retry: Callable[[int, str], None] | None = None
) -> Clip:
    """Upload a written clip under its own name (retried with backoff; the local file is kept)."""
    result = upload_with_retries(clip.path, clip.object_name, settings, on_retry=on_retry)
    return dataclasses.replace(clip, uri=result.uri, url=result.url, upload_status=result.status)


def _permanent(err: UploadError) -> bool:
    # Different bytes already under the name, or no credentials: retrying cannot help.
    return isinstance(err, CredentialsError) or "already exists with different content" in str(err)


def upload_with_retries(
    path: Path,
    object_name: str,
    settings: ServiceSettings,
    *,
    on_retry: Callable[[int, str], None] | None = None,
) -> Any:
    """`upload.upload_file`, tried `upload_attempts` times with doubling backoff; the last error is raised.

    Only the upload is retried: the clip is already written, so a flaky bucket never costs a synthesis.
    """
    from forv_tts.storage.gcs import upload_file

    assert settings.bucket is not None
    delay = settings.upload_backoff_s
    for attempt in range(1, settings.upload_attempts + 1):
        try:
            return upload_file(
                path, bucket=settings.bucket, object_name=object_name, timeout=settings.upload_timeout_s
            )
        except UploadError as err:
            if _permanent(err) or attempt == settings.upload_attempts:
                if attempt > 1:
                    raise UploadError(f"{err} (after {attempt} attempts)") from None
                raise
            log.warning("upload attempt %d of %d failed: %s", attempt, settings.upload_attempts, err)
            if on_retry is not None:
                on_retry(attempt, str(err))
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def speech_chunks(
    *,
    job_id: str,
    member: str | None,
    text: str,
    speed: float | None,
    settings: ServiceSettings,
    before: BeforeSentence | None = None,
    timings: list[float] | None = None,
    spoken: list[dict[str, Any]] | None = None,
) -> Iterator[tuple[int, bytes]]:
    """`(sample_rate, pcm16)` per spoken sentence, with the pause `concat` puts between sentences
    at the start of every chunk after the first, so the chunks joined are the clip `say` would make.
    `spoken`, when given, receives each sentence's timing (`SentenceTiming.to_dict()`, seconds in the
    whole clip) before its chunk is yielded.
    """
    import numpy as np

    from forv_tts.audio import DEFAULT_PAUSE_S, AudioChunk, to_pcm16
    from forv_tts.timing import Timer

    stages: list[dict[str, Any]] | None = [] if spoken is not None else None
    timer = Timer()

    info = resolve(member, settings)
    length_scale = speed_to_length_scale(speed)
    first = True
    for index, (_sentences, audio) in enumerate(
        iter_sentences(
            info,
            text,
            seed=seed_for(job_id),
            length_scale=length_scale,
            settings=settings,
            before=before,
            timings=timings,
            lazy=True,
            stages=stages,
        )
    ):
        samples = audio.samples
        if spoken is not None and stages:
            stage = stages[-1]
            chunk = AudioChunk(
                samples=audio.samples,
                sample_rate=audio.sample_rate,
                index=index,
                sentence=stage["pronounced"],
                pause_before=0.0 if first else DEFAULT_PAUSE_S,
                words=audio.words,
            )
            spoken.append(timer.add(chunk, stage).to_dict())
        if not first:
            gap = np.zeros(round(DEFAULT_PAUSE_S * audio.sample_rate), dtype=np.float32)
            samples = np.concatenate([gap, np.asarray(samples, dtype=np.float32)])
        first = False
        yield audio.sample_rate, to_pcm16(samples)


def warm_up() -> None:
    """Worker-process start-up: the same process settings the CLI and batch workers use."""
    from forv_tts._process import startup

    startup.before_torch_import()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

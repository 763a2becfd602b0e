"""`forv-tts say`: speak one text to a wav file, stdout, or Google Cloud Storage."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from collections.abc import Iterator

    from forv_tts.audio import AudioChunk
    from forv_tts.config import SynthesisConfig
    from forv_tts.timing import SentenceTiming
    from forv_tts.voices.base import VoiceInfo

from forv_tts.cli.errors import EXIT_BROKEN_PIPE, CliUsageError
from forv_tts.cli.options import (
    BucketOption,
    EngineOption,
    KeepLocalOption,
    LengthScaleOption,
    LexiconOption,
    MemberOption,
    NoNormalizeOption,
    OverwriteOption,
    SignedUrlOption,
    StepOption,
    UploadTimeoutOption,
    VoiceDirOption,
    _lexicon,
)
from forv_tts.cli.root import _print_json, _read_text, app


def _is_our_stdout(output: str) -> bool:
    """`-o /dev/stdout` (or /proc/self/fd/1, or a device copy of it) is `-o -`: wav bytes, no path line."""
    import os

    try:
        st, out = os.stat(output), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    from forv_tts.storage.local import is_stream_target

    return is_stream_target(Path(output)) and (st.st_dev, st.st_ino, st.st_rdev) == (
        out.st_dev,
        out.st_ino,
        out.st_rdev,
    )


log = logging.getLogger(__name__)


@app.command()
def say(
    text: Annotated[
        str | None, typer.Argument(help="Korean text; omit or '-' to read stdin.", show_default=False)
    ] = None,
    member: MemberOption = None,
    voice_dir: VoiceDirOption = None,
    step: StepOption = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            help="Output file (its extension picks the format: .mp3, .opus/.ogg, .aac, .flac, .wav, .pcm), "
            "or '-' for the audio on stdout (default: wav_files/<member>/<uuid>_<created_at>_voice.wav).",
            show_default=False,
        ),
    ] = None,
    stream: Annotated[
        bool,
        typer.Option(
            "--stream",
            help="With '-o -': write each sentence as soon as it is made, for '| aplay' or '| ffplay -' "
            "(wav: one header of unknown length, then PCM; every other format playable as it arrives).",
        ),
    ] = False,
    audio_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Audio format: mp3, opus, aac, flac, wav or pcm (raw 16-bit little-endian mono); "
            "overrides -o's extension (default: from the extension, else wav).",
            show_default=False,
        ),
    ] = None,
    uuid: Annotated[
        str | None, typer.Option("--uuid", help="Clip uuid (default: a new uuid4).", show_default=False)
    ] = None,
    created_at: Annotated[
        str | None,
        typer.Option("--created-at", help="Clip date, YYYY-MM-DD (default: today).", show_default=False),
    ] = None,
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed for reproducible output.", show_default=False)
    ] = None,
    length_scale: LengthScaleOption = None,
    no_normalize: NoNormalizeOption = False,
    engine: EngineOption = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="Print one JSON object describing the clip (sentences[].words[] with times)."
        ),
    ] = False,
    captions: Annotated[
        Path | None,
        typer.Option(
            "--captions",
            help="Also write captions of the clip: SRT or WebVTT by the extension (.srt, .vtt).",
            show_default=False,
        ),
    ] = None,
    upload: Annotated[
        bool,
        typer.Option(
            "--upload", help="Upload the clip to GCS under the team naming; print its gs:// URI and URL."
        ),
    ] = False,
    bucket: BucketOption = None,
    keep_local: KeepLocalOption = True,
    upload_timeout: UploadTimeoutOption = None,
    overwrite: OverwriteOption = False,
    signed_url: SignedUrlOption = None,
    lexicon: LexiconOption = None,
) -> None:
    """Speak TEXT and write a clip (wav unless -o's extension or --format says otherwise); print its path.

    With --upload stdout holds one line instead, "<gs:// URI> TAB <URL>[ TAB <signed URL>]"; with --json the
    record gains an "upload" object (uri, url, bucket, object, size, md5, path, ...). '-o -' cannot be
    combined with --upload: the upload needs a file that is kept until the object is confirmed.
    """
    from forv_tts._process import startup
    from forv_tts.config import SynthesisConfig
    from forv_tts.jobs import item
    from forv_tts.storage import naming
    from forv_tts.voices.onnx import resolve_engine

    engine = resolve_engine(engine)  # a bad name is a usage error before any work
    startup.arm_release_graph_pages()  # one utterance, then exit: weight pages need not stay resident
    startup.arm_quick_exit()  # and the process's teardown is not needed once the clip is written

    to_stdout = output == "-" or (output is not None and _is_our_stdout(output))
    if to_stdout and as_json:
        raise CliUsageError("--json prints to stdout, which '-o -' uses for the wav: pick one")
    from forv_tts import encoding

    if audio_format is not None:
        audio_format = encoding.check_format(audio_format)
    elif output is not None and not to_stdout:
        found = encoding.format_for_path(output)
        suffix = Path(output).suffix
        if found is None and suffix:
            # Writing wav bytes under a name that says otherwise would hand the user a file that lies.
            raise CliUsageError(
                f"-o {output}: {suffix!r} is not an audio format's extension: name the file .mp3, .opus "
                f"(.ogg), .aac, .flac, .wav or .pcm, or pass --format ({', '.join(encoding.FORMATS)})"
            )
        audio_format = found or "wav"
    else:
        audio_format = "wav"
    if stream and not to_stdout:
        raise CliUsageError("--stream writes to stdout: add '-o -'")
    if upload and audio_format != "wav":
        raise CliUsageError(
            f"--upload stores the team's wav objects: drop --format {audio_format} (or -o's extension)"
        )
    encoding.require(audio_format)  # encoder_missing (aac without PyAV) before any work
    caption_format: str | None = None
    if captions is not None:
        from forv_tts.storage.local import check_writable
        from forv_tts.timing import caption_format as caption_format_of

        caption_format = caption_format_of(captions)
        check_writable(captions)
    config = SynthesisConfig(
        seed=seed,
        length_scale=length_scale,
        normalize=not no_normalize,
        lexicon=_lexicon(lexicon, voice_dir, normalize=not no_normalize),
        engine=engine,
    )
    spec: item.UploadSpec | None = None
    if upload:
        from forv_tts.storage import gcs

        if to_stdout:
            raise CliUsageError("--upload needs a file: drop '-o -' (or give -o PATH) to upload the clip")
        # Usage errors first (exit 2), then credentials (exit 1): all before any synthesis or writing.
        naming.ClipName.new(_resolve(member, voice_dir, step).id, uuid, created_at)
        spec = item.UploadSpec(
            bucket=gcs.resolve_bucket(bucket),
            timeout=gcs.DEFAULT_TIMEOUT_S if upload_timeout is None else upload_timeout,
            overwrite=overwrite,
            keep_local=keep_local,
            signed_url=gcs.parse_duration(signed_url) if signed_url is not None else None,
        )
        item.check_upload_ready(spec)
    elif signed_url is not None or overwrite or not keep_local or upload_timeout is not None:
        raise CliUsageError(
            "--signed-url, --overwrite, --no-keep-local and --upload-timeout only apply with --upload"
        )
    if to_stdout and sys.stdout.isatty():
        raise CliUsageError("refusing to write wav bytes to a terminal: pipe '-o -' into a player or file")
    if to_stdout:
        spoken = _say_to_stdout(
            _read_text(text), member, voice_dir, step, uuid, created_at, config, stream, audio_format
        )
        if captions is not None and caption_format is not None:
            _write_captions(captions, caption_format, spoken)
        return
    from forv_tts.cli.progress import SayProgress

    feedback = SayProgress()
    try:
        result = item.run_item(
            _read_text(text),
            member=member,
            uuid=uuid,
            created_at=created_at,
            config=config,
            destination=item.Destination(
                path=Path(output) if output is not None else None, upload=spec, format=audio_format
            ),
            voice_dir=voice_dir,
            step=step,
            progress=feedback,
        )
    finally:
        feedback.close()
    if captions is not None and caption_format is not None:
        _write_captions(captions, caption_format, result.spoken)
    if as_json:
        record: dict[str, Any] = {
            "path": result.path,
            "member": result.member,
            "uuid": result.uuid,
            "created_at": result.created_at,
            "text": result.text,
            "normalized": result.normalized,
            "sentences": [s.to_dict() for s in result.spoken],
            "sample_rate": result.sample_rate,
            "duration": round(result.duration, 3),
            "seconds": round(result.timings["total"], 3),
        }
        if result.upload is not None:
            record["upload"] = result.upload
        _print_json(record)
    elif upload:
        fields = [result.uri or "", result.url or ""]
        if result.upload and result.upload.get("signed_url"):
            fields.append(result.upload["signed_url"])
        typer.echo("\t".join(fields))
    else:
        typer.echo(str(result.path))


def _write_captions(path: Path, fmt: str, spoken: list[SentenceTiming]) -> None:
    """The captions file, written atomically (never half-written)."""
    from forv_tts.storage.local import atomic_write_bytes
    from forv_tts.timing import captions

    atomic_write_bytes(path, captions(spoken, fmt).encode("utf-8"))


def _resolve(member: str | None, voice_dir: Path | None, step: int | None) -> VoiceInfo:
    from forv_tts.synthesis import resolve_voice

    return resolve_voice(member, voice_dir, step)


def _say_to_stdout(
    text: str,
    member: str | None,
    voice_dir: Path | None,
    step: int | None,
    uuid: str | None,
    created_at: str | None,
    config: SynthesisConfig,
    stream: bool = False,
    audio_format: str = "wav",
) -> list[SentenceTiming]:
    """`-o -`: the clip on stdout, nothing on disk (names are still checked, as for a file).

    Whole: one complete file of `audio_format`. Streamed: each sentence (after the pause before it), a
    long one in parts, is encoded, written and flushed as soon as it is made
    (`encoding.encode_stream`, `iter_sentences(parts=True)`); a wav stream is one
    header whose sizes are 0xFFFFFFFF ("until end of stream", what sox, ffmpeg and aplay read), then
    exactly the whole clip's PCM. A reader that goes away (broken pipe) stops synthesis: exit 141, nothing on
    stderr, as a process killed by SIGPIPE (sox, ffmpeg) reports it in a shell pipeline.
    """
    import os

    from forv_tts import encoding, synthesis, timing
    from forv_tts.storage import naming
    from forv_tts.voices.registry import default_registry

    info = _resolve(member, voice_dir, step)
    naming.ClipName.new(info.id, uuid, created_at)
    sentences, stages = timing.stages_for(text, config, voice_dir=info.voice_dir)
    voice = default_registry().get(info, config.engine)
    out = sys.stdout.buffer
    timer = timing.Timer(stages)
    spoken: list[SentenceTiming] = []

    def timed(chunks: Iterator[AudioChunk]) -> Iterator[AudioChunk]:
        for chunk in chunks:
            sentence = timer.add_part(chunk)
            if sentence is not None:
                spoken.append(sentence)
            yield chunk

    # Streamed, a long sentence goes out in parts as each is final (the same samples).
    chunks = timed(synthesis.iter_sentences(voice, sentences, config, parts=stream))
    if not stream:
        audio, _ = timing.join_timed((c, spoken[-1]) for c in chunks)
        out.write(encoding.encode(audio, audio_format))
        out.flush()
        return spoken
    parts = encoding.encode_stream(chunks, audio_format)
    try:
        for part in parts:
            out.write(part)
            out.flush()
    except BrokenPipeError:
        parts.close()  # stop synthesising
        # Later flushes (at exit) must not fail again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        raise typer.Exit(EXIT_BROKEN_PIPE) from None
    return spoken

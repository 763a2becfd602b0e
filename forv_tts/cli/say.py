"""`forv-tts say`: speak one text to a wav file, stdout, or Google Cloud Storage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from forv_tts.config import SynthesisConfig
    from forv_tts.voices.base import VoiceInfo

from forv_tts._process.startup import reuse_freed_memory
from forv_tts.cli.errors import CliUsageError
from forv_tts.cli.options import (
    BucketOption,
    KeepLocalOption,
    LengthScaleOption,
    MemberOption,
    NoNormalizeOption,
    OverwriteOption,
    SignedUrlOption,
    StepOption,
    UploadTimeoutOption,
    VoiceDirOption,
)
from forv_tts.cli.root import _print_json, _read_text, app


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
            help="Wav path, or '-' for wav bytes on stdout "
            "(default: wav_files/<member>/<uuid>_<created_at>_voice.wav).",
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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object describing the clip.")
    ] = False,
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
) -> None:
    """Speak TEXT and write a wav (its path is printed on stdout).

    With --upload stdout holds one line instead, "<gs:// URI> TAB <URL>[ TAB <signed URL>]"; with --json the
    record gains an "upload" object (uri, url, bucket, object, size, md5, path, ...). '-o -' cannot be
    combined with --upload: the upload needs a file that is kept until the object is confirmed.
    """
    from forv_tts.config import SynthesisConfig
    from forv_tts.jobs import item
    from forv_tts.storage import naming

    reuse_freed_memory()  # this process is about to synthesise: fewer page faults (runtime.py)

    to_stdout = output == "-"
    if to_stdout and as_json:
        raise CliUsageError("--json prints to stdout, which '-o -' uses for the wav: pick one")
    config = SynthesisConfig(seed=seed, length_scale=length_scale, normalize=not no_normalize)
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
        _say_to_stdout(_read_text(text), member, voice_dir, step, uuid, created_at, config)
        return
    result = item.run_item(
        _read_text(text),
        member=member,
        uuid=uuid,
        created_at=created_at,
        config=config,
        destination=item.Destination(path=Path(output) if output is not None else None, upload=spec),
        voice_dir=voice_dir,
        step=step,
    )
    if as_json:
        record: dict[str, Any] = {
            "path": result.path,
            "member": result.member,
            "uuid": result.uuid,
            "created_at": result.created_at,
            "text": result.text,
            "normalized": result.normalized,
            "sentences": result.sentences,
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
) -> None:
    """`-o -`: the whole wav on stdout, nothing on disk (names are still checked, as for a file)."""
    from forv_tts import synthesis
    from forv_tts.audio import write_wav_to
    from forv_tts.storage import naming
    from forv_tts.voices.registry import default_registry

    info = _resolve(member, voice_dir, step)
    naming.ClipName.new(info.id, uuid, created_at)
    sentences = synthesis.prepare_text(text, config)
    audio = synthesis.synthesize_sentences(default_registry().get(info), sentences, config)
    stream = sys.stdout.buffer
    write_wav_to(audio, stream)
    stream.flush()

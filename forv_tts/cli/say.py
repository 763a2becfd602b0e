"""`forv-tts say`: speak one text to a wav file, stdout, or Google Cloud Storage."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from forv_tts._process.runtime import (
    reuse_freed_memory,
)
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
from forv_tts.errors import InvalidInputError


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
    engine: EngineOption = None,
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
    lexicon: LexiconOption = None,
) -> None:
    """Speak TEXT and write a wav (its path is printed on stdout).

    With --upload stdout holds one line instead, "<gs:// URI> TAB <URL>[ TAB <signed URL>]"; with --json the
    record gains an "upload" object (uri, url, bucket, object, size, md5, path, ...). '-o -' cannot be
    combined with --upload: the upload needs a file that is kept until the object is confirmed.
    """
    from forv_tts.audio import write_wav_to
    from forv_tts.synthesis import resolve_voice
    from forv_tts.synthesis import say as run_say
    from forv_tts.voices.onnx import resolve_engine

    engine = resolve_engine(engine)  # a bad name is a usage error before any work
    reuse_freed_memory()  # this process is about to synthesise: fewer page faults (runtime.py)

    to_stdout = output == "-" or (output is not None and _is_our_stdout(output))
    if to_stdout and as_json:
        raise InvalidInputError("--json prints to stdout, which '-o -' uses for the wav: pick one")
    if upload:
        from forv_tts.storage import gcs, naming

        if to_stdout:
            raise InvalidInputError("--upload needs a file: drop '-o -' (or give -o PATH) to upload the clip")
        # Usage errors first (exit 2), then credentials (exit 1): all before any synthesis or writing.
        if uuid is not None:
            naming.validate_uuid(uuid)
        if created_at is not None:
            naming.validate_created_at(created_at)
        resolve_voice(member, voice_dir, step)  # a malformed or unknown member is a usage error
        target_bucket = gcs.resolve_bucket(bucket)
        timeout = gcs.check_timeout(gcs.DEFAULT_TIMEOUT_S if upload_timeout is None else upload_timeout)
        expiry = gcs.parse_duration(signed_url) if signed_url is not None else None
        gcs.get_client()
        if expiry is not None:
            gcs.check_can_sign()
    elif signed_url is not None or overwrite or not keep_local or upload_timeout is not None:
        raise InvalidInputError(
            "--signed-url, --overwrite, --no-keep-local and --upload-timeout only apply with --upload"
        )
    if to_stdout and sys.stdout.isatty():
        raise InvalidInputError(
            "refusing to write wav bytes to a terminal: pipe '-o -' into a player or file"
        )
    result = run_say(
        _read_text(text),
        member=member,
        voice_dir=voice_dir,
        step=step,
        output=None if output is None or to_stdout else Path(output),
        write=not to_stdout,
        uuid=uuid,
        created_at=created_at,
        seed=seed,
        length_scale=length_scale,
        normalize=not no_normalize,
        lexicon=_lexicon(lexicon, voice_dir, normalize=not no_normalize),
        fork_text=True,  # this process is ours: normalise while torch is imported (pipeline.py)
        engine=engine,
    )
    if upload:
        assert result.path is not None
        uploaded = gcs.upload_file(
            result.path,
            bucket=target_bucket,
            object_name=naming.clip_name(result.member, result.uuid, result.created_at),
            timeout=timeout,
            overwrite=overwrite,
            signed_url=expiry,
            keep_local=keep_local,
        )
        result.extra["upload"] = uploaded.to_dict()
    if to_stdout:
        stream = sys.stdout.buffer
        write_wav_to(result.audio, stream)
        stream.flush()
    elif as_json:
        _print_json(result.to_dict())
    elif upload:
        typer.echo(uploaded.line())
    else:
        typer.echo(str(result.path))

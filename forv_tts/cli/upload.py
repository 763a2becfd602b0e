"""`forv-tts upload`: upload clips made earlier under the team's object names."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

# typer >= 0.25 vendors its own click: its classes (Context, Exit, ClickException) are the ones in play,
# not those of a separately installed click.
from typer import _click as click

from forv_tts.cli.errors import message
from forv_tts.cli.options import (
    BucketOption,
    KeepLocalOption,
    OverwriteOption,
    SignedUrlOption,
    UploadTimeoutOption,
    VoiceDirOption,
)
from forv_tts.cli.root import _print_json, app
from forv_tts.errors import ForvError


@app.command("upload")
def upload_cmd(
    files: Annotated[list[Path], typer.Argument(help="Wav clips to upload.", show_default=False)],
    member: Annotated[
        str,
        typer.Option("--member", "-m", help="Member id the clips belong to (built-in or in the voice dir)."),
    ],
    bucket: BucketOption = None,
    uuid: Annotated[
        str | None,
        typer.Option(
            "--uuid",
            help="Clip uuid, when the file name does not carry it (one file only).",
            show_default=False,
        ),
    ] = None,
    created_at: Annotated[
        str | None,
        typer.Option(
            "--created-at",
            help="Clip date, when the file name does not carry it (one file only).",
            show_default=False,
        ),
    ] = None,
    voice_dir: VoiceDirOption = None,
    keep_local: KeepLocalOption = True,
    upload_timeout: UploadTimeoutOption = None,
    overwrite: OverwriteOption = False,
    signed_url: SignedUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array, one record per file.")] = False,
) -> None:
    """Upload wav clips made earlier as wav_files/<member>/<uuid>_<created_at>_voice.wav.

    uuid and created_at come from each name <uuid>_<created_at>_voice.wav, else from --uuid/--created-at.
    The member must be the built-in voice or have a directory in the voice dir. Every file is checked
    (name, wav header) before the first upload: with several files, one that is not a wav or not named
    so (e.g. `say -o hi.wav`) gets one stderr line and is skipped while the others are uploaded (a name
    is never made up for it: give it --uuid/--created-at alone). Each upload gets one stdout line
    "<gs:// URI> TAB <URL>" (or a JSON record), each failure one stderr line; exit 1 if any file was
    skipped or failed, 2 when the only file given is unusable.
    """
    from forv_tts import settings
    from forv_tts.errors import UploadError
    from forv_tts.jobs.item import UploadSpec, check_upload_ready, upload_clip
    from forv_tts.storage import gcs

    member = gcs.validate_known_member(member, settings.voice_dir(voice_dir))
    spec = UploadSpec(
        bucket=gcs.resolve_bucket(bucket),
        timeout=gcs.DEFAULT_TIMEOUT_S if upload_timeout is None else upload_timeout,
        overwrite=overwrite,
        keep_local=keep_local,
        signed_url=gcs.parse_duration(signed_url) if signed_url is not None else None,
    )
    refused: list[tuple[Path, ForvError]] = []
    if len(files) == 1:
        plan = gcs.plan_uploads(files, member, uuid=uuid, created_at=created_at)
    else:
        plan, refused_names = gcs.plan_each_upload(files, member, uuid=uuid, created_at=created_at)
        refused.extend(refused_names)
    check_upload_ready(spec)

    records: list[dict[str, Any]] = []
    errors: list[ForvError] = []
    for path, refusal in refused:
        click.echo(f"forv-tts: error: {message(refusal)} (not uploaded)", err=True)
        records.append({"path": str(path), "object": None, "error": str(refusal)})
    for path, name in plan:
        try:
            result = upload_clip(path, name, spec)
        except ForvError as err:
            errors.append(err)
            if len(files) > 1:
                click.echo(f"forv-tts: error: {message(err)}", err=True)
            records.append({"path": str(path), "object": name, "error": str(err), "error_code": err.code})
            continue
        records.append(result.to_dict())
        if not as_json:
            typer.echo(result.line())
    if as_json:
        _print_json(records)
    if len(errors) == 1 and len(files) == 1:
        raise errors[0]
    if errors or refused:
        # Exit code 1 through the one error-mapping point, after every file was tried.
        parts = [f"{len(errors)} of {len(plan)} uploads failed"] if errors else []
        if refused:
            parts.append(f"{len(refused)} of {len(files)} files were not uploaded (names above)")
        raise UploadError(
            "; ".join(parts) + "; their local files are kept",
            failed=len(errors),
            refused=len(refused),
            files=len(files),
        )

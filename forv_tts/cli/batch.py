"""`forv-tts batch`: many utterances with a manifest, progress on stderr, Ctrl-C to stop cleanly."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

# typer >= 0.25 vendors its own click: its classes (Context, Exit, ClickException) are the ones in play,
# not those of a separately installed click.
from typer import _click as click

from forv_tts.cli.errors import CliUsageError
from forv_tts.cli.options import (
    BucketOption,
    EngineOption,
    LengthScaleOption,
    LexiconOption,
    NoNormalizeOption,
    OverwriteOption,
    StepOption,
    UploadTimeoutOption,
    VoiceDirOption,
    _lexicon,
)
from forv_tts.cli.root import _print_json, app


class _BatchProgressView:
    """Renders `forv_tts.jobs.batch` progress: a Rich bar on a terminal, else plain lines every 5 s / 10 %."""

    def __init__(self, mode: str) -> None:
        self.mode = mode  # "rich", "plain" or "none"
        self._last_line = 0.0
        self._last_decile = -1
        from forv_tts.cli.progress import progress_interval

        self._interval = progress_interval(5.0)
        self._bar: Any = None
        self._task: Any = None
        if mode == "rich":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._bar = Progress(
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[audio]:.1f} s audio"),
                TextColumn("{task.fields[rate]:.2f} items/s"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[note]}"),
                console=Console(stderr=True),
                transient=False,
            )
            self._task = self._bar.add_task("batch", total=None, audio=0.0, rate=0.0, note="")

    def __enter__(self) -> _BatchProgressView:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def __call__(self, p: Any) -> None:
        processed = p.ok + p.failed
        rate = processed / p.elapsed if p.elapsed > 0 else 0.0
        if self._bar is not None:
            note = "stopping…" if p.stopping else (f"[red]{p.failed} failed" if p.failed else "")
            self._bar.update(
                self._task, total=p.total, completed=p.done, audio=p.audio_seconds, rate=rate, note=note
            )
        elif self.mode == "plain":
            import time

            now = time.monotonic()
            decile = (10 * p.done) // max(1, p.total)
            if now - self._last_line < self._interval and decile == self._last_decile and p.done < p.total:
                return
            if p.done == p.total and self._last_decile == 10:
                return
            self._last_line, self._last_decile = now, decile
            left = p.total - p.done
            eta = f", ETA {left / rate:.0f} s" if rate > 0 and left else ""
            if left and p.since_last >= 5.0 and (rate <= 0 or p.since_last > left / rate):
                eta = f", ETA unknown (no item finished for {p.since_last:.0f} s)"
            typer.echo(
                f"forv-tts: batch {p.done}/{p.total} lines ({100 * p.done // max(1, p.total)}%), "
                f"{p.failed} failed, {p.audio_seconds:.1f} s audio, {rate:.2f} items/s, "
                f"{p.elapsed:.0f} s elapsed{eta}",
                err=True,
            )


@app.command()
def batch(
    source: Annotated[
        str,
        typer.Argument(
            metavar="FILE",
            help="Text (one utterance per line) or JSON Lines requests "
            "({uuid, member_id, text, created_at}); '-' reads stdin.",
            show_default=False,
        ),
    ],
    member: Annotated[
        str | None,
        typer.Option(
            "--member",
            "-m",
            help="Member for lines that name none (default: the built-in voice).",
            show_default=False,
        ),
    ] = None,
    voice_dir: VoiceDirOption = None,
    step: StepOption = None,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out-dir", help="Clips go to OUT_DIR/wav_files/<member>/<uuid>_<created_at>_voice.wav."
        ),
    ] = Path("."),
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            help="Manifest JSON Lines path (default: OUT_DIR/manifest.jsonl).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="The clips' audio format: mp3, opus, aac, flac, wav (default) or pcm; text or jsonl "
            "still set the input format, as --input-format does.",
            show_default=False,
        ),
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option(
            "--input-format", help="Input format: text or jsonl (default: detected).", show_default=False
        ),
    ] = None,
    captions: Annotated[
        str | None,
        typer.Option(
            "--captions", help="Write srt or vtt captions beside each clip (same name).", show_default=False
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Worker processes (default: the available cores).", show_default=False
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue the manifest's run: skip lines done (file present, sha256 ok)."
        ),
    ] = False,
    fail_fast: Annotated[bool, typer.Option("--fail-fast", help="Stop at the first failed line.")] = False,
    seed: Annotated[
        int | None,
        typer.Option(
            "--seed",
            help="Seed for every item (default: one derived from each clip's uuid).",
            show_default=False,
        ),
    ] = None,
    length_scale: LengthScaleOption = None,
    no_normalize: NoNormalizeOption = False,
    engine: EngineOption = None,
    upload: Annotated[
        bool,
        typer.Option(
            "--upload", help="Upload each clip to GCS as it finishes; the manifest records its URI."
        ),
    ] = False,
    bucket: BucketOption = None,
    upload_timeout: UploadTimeoutOption = None,
    overwrite: OverwriteOption = False,
    lexicon: LexiconOption = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no summary unless something failed.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary object instead of the manifest path.")
    ] = False,
) -> None:
    """Synthesise every line of FILE (all cores, a manifest, resumable); prints the manifest path.

    Every input line gets one manifest record (ok, failed or skipped). Exit 0 when all lines succeeded, 1
    when any failed, 130 when interrupted (Ctrl-C finishes the items in flight; rerun with --resume), 143
    on SIGTERM (the same clean stop). A full disk stops the run (exit 1) with the lines not reached left
    for --resume. A rerun on an existing manifest needs --resume (or a new --manifest).
    """
    import signal

    from forv_tts.config import SynthesisConfig
    from forv_tts.jobs import batch as fb
    from forv_tts.jobs.input import parse_input, read_source
    from forv_tts.jobs.item import UploadSpec
    from forv_tts.voices.onnx import ENGINE_ENV, resolve_engine

    # Workers (spawned) and the inline path read the engine from the environment, as every setting.
    if engine is not None:
        os.environ[ENGINE_ENV] = resolve_engine(engine)
    config = SynthesisConfig(
        seed=seed,
        length_scale=length_scale,
        normalize=not no_normalize,
        lexicon=_lexicon(lexicon, voice_dir, normalize=not no_normalize),
        engine=resolve_engine(engine) if engine is not None else None,
    )
    spec: UploadSpec | None = None
    if upload:
        from forv_tts.storage import gcs

        spec = UploadSpec(
            bucket=gcs.resolve_bucket(bucket),
            timeout=gcs.DEFAULT_TIMEOUT_S if upload_timeout is None else upload_timeout,
            overwrite=overwrite,
        )
    elif overwrite or upload_timeout is not None:
        raise CliUsageError("--overwrite and --upload-timeout only apply with --upload")
    from forv_tts import encoding

    audio_format = "wav"
    if fmt is not None and fmt.strip().lower() in ("text", "jsonl"):
        if input_format is not None:
            raise CliUsageError("--format text|jsonl and --input-format both set the input format: use one")
        input_format = fmt
    elif fmt is not None:
        if fmt.strip().lower() not in encoding.FORMATS:
            raise CliUsageError(
                f"invalid --format {fmt!r}: use an audio format ({', '.join(encoding.FORMATS)}) "
                "or an input format (text, jsonl)"
            )
        audio_format = encoding.require(fmt)
    if upload and audio_format != "wav":
        raise CliUsageError(f"--upload stores the team's wav objects: drop --format {audio_format}")
    if captions is not None and captions.strip().lower() not in ("srt", "vtt"):
        raise CliUsageError(f"invalid --captions {captions!r}: use srt or vtt")
    data, name = read_source(source)
    parsed = parse_input(data, fmt=input_format, name=name)
    options = fb.BatchOptions(
        out_dir=out_dir,
        manifest=manifest,
        member=member,
        voice_dir=voice_dir,
        step=step,
        jobs=jobs,
        config=config,
        upload=spec,
        resume=resume,
        fail_fast=fail_fast,
        audio_format=audio_format,
        captions=captions.strip().lower() if captions is not None else None,
    )
    mode = "none" if quiet else "rich" if sys.stderr.isatty() else "plain"
    view = _BatchProgressView(mode)
    runner = fb.BatchRun(parsed, options, progress=view)

    received: list[int] = []

    def on_stop(signum: int, frame: object) -> None:
        # SIGTERM (systemd, Kubernetes, CI) is treated as Ctrl-C: finish the items in flight, record them,
        # print the summary and the resume hint; a second signal abandons the items in flight.
        if runner.stopping and received:
            raise KeyboardInterrupt
        received.append(signum)
        runner.request_stop(terminated=signum == signal.SIGTERM)
        again = "Ctrl-C" if signum == signal.SIGINT else "another SIGTERM"
        click.echo(f"forv-tts: stopping after the items in flight ({again} to abandon them)", err=True)

    previous = {sig: signal.signal(sig, on_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with view:
            summary = runner.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    info = summary.to_dict()
    if as_json:
        _print_json(info)
    else:
        typer.echo(str(summary.manifest))
    if not quiet or summary.exit_code:
        workers = info["workers"]
        typer.echo(
            f"forv-tts: batch: {summary.ok} ok, {summary.failed} failed, {summary.skipped} skipped, "
            f"{summary.resumed} already done, {summary.pending} not reached; "
            f"{info['audio_seconds']:.1f} s of audio in {info['wall_seconds']:.1f} s "
            f"({info['items_per_s']:.2f} items/s, {info['audio_s_per_wall_s']:.2f} audio s per s); "
            f"{summary.jobs} job(s) × {summary.threads_per_worker} thread(s), "
            f"peak RSS per worker {max((w['peak_rss_mb'] for w in workers), default=0):.0f} MB"
            + (f"; {summary.warned} with warnings (see the manifest)" if summary.warned else ""),
            err=True,
        )
    error = summary.error()
    if error is not None:
        raise error  # its exit code (summary.exit_code): 1 failed, 130 interrupted, 143 terminated

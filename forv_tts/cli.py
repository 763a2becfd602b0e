"""The `forv-tts` command line: a thin Typer layer over the library.

Rules this module keeps: data goes to stdout, messages to stderr; library errors (`forv_tts.errors`) are
turned into one line and an exit code in exactly one place (`_ForvGroup.invoke`); nothing prompts; and
nothing heavy (torch, coqui-tts, g2pk, google.cloud) is imported until a command needs it, so
`forv-tts --help` stays instant.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

# typer >= 0.25 vendors its own click: its classes (Context, Exit, ClickException) are the ones in play,
# not those of a separately installed click.
from typer import _click as click
from typer.core import TyperGroup

from forv_tts import __version__
from forv_tts.errors import EXIT_FAILURE, EXIT_USAGE, ForvError, InvalidInputError
from forv_tts.runtime import (
    defer_torch_meta_kernels,
    exit_without_teardown,
    prefer_passive_openmp,
    reuse_freed_memory,
)

log = logging.getLogger("forv_tts")


class _State:
    debug: bool = False


_state = _State()


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"forv-tts: error: {message}", err=True)
    raise typer.Exit(code)


# --- start-up: typer's value coercion without pydantic for the common cases --------------------------
# typer >= 0.28 coerces every non-flag parameter value through a pydantic TypeAdapter, built the first time
# the parameter is processed, even when the option was not given: `say` paid ~0.2 s (0.5 s on a busy
# machine) importing pydantic and building a dozen adapters before doing any work. `_LazyCoercion` answers
# the cases whose result is known without pydantic (option not given; a str for a plain `str`; a
# plain decimal for an unconstrained `int`; a str for a plain `Path`, whose pydantic validation is
# `Path(value)`, checked by typer's own path checks) and hands every other value to typer's own
# coercion, built on first need. With another typer (private API changed) nothing is replaced.
try:
    from typer._coercion import RuntimeParam as _RuntimeParam
    from typer._coercion import build_runtime_param as _build_runtime_param
    from typer._param_types import coerce_cli_path as _coerce_cli_path
    from typer.core import _TyperParameter
except ImportError:  # pragma: no cover - another typer: keep its own coercion
    _LazyCoercion: Any = None
else:
    _PLAIN_INT = re.compile(r"-?[0-9]{1,18}")

    @dataclasses.dataclass(frozen=True)
    class _LazyCoercion(_RuntimeParam):  # type: ignore[no-redef]
        descriptor: Any = None

        def coerce(self, value: Any, param: Any, ctx: click.Context) -> Any:
            if value is None:
                return super().coerce(value, param, ctx)  # None or (), no conversion involved
            info = self.descriptor.parameter_info
            simple = (
                type(value) is str
                and not (param.multiple or param.nargs == -1)
                and info.parser is None
                and self.descriptor.file_annotation is None
            )
            if simple and self.annotation is str:
                return value  # typer: str(value) validated as str
            if (
                simple
                and self.annotation is int
                and info.min is None
                and info.max is None
                and _PLAIN_INT.fullmatch(value)
            ):
                return int(value)
            if simple and self.annotation is Path and info.path_type in (None, Path):
                return _coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
            return self._full().coerce(value, param, ctx)

        def _coerce_value(self, value: Any, param: Any, ctx: click.Context) -> Any:
            return self._full()._coerce_value(value, param, ctx)

        def _full(self) -> Any:
            full = self.__dict__.get("_typer_param")
            if full is None:
                full = _build_runtime_param(self.descriptor)
                object.__setattr__(self, "_typer_param", full)
            return full


def _lazy_coercion(command: click.Command, ctx: click.Context) -> None:
    """Give the command's typer parameters `_LazyCoercion` (once, before they process any value).

    `get_params` includes the `--help` option, which click creates on first use and then caches.
    """
    if _LazyCoercion is None:
        return
    for param in command.get_params(ctx):
        if isinstance(param, _TyperParameter) and getattr(param, "_runtime_param", False) is None:
            desc = param.type_descriptor
            param._runtime_param = _LazyCoercion(
                parameter_info=desc.parameter_info, annotation=desc.annotation, descriptor=desc
            )


class _ForvGroup(TyperGroup):
    """Maps library errors to one stderr line and an exit code, for the console script and CliRunner alike."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for command in (self, *self.commands.values()):
            _lazy_coercion(command, ctx)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except ForvError as err:
            if _state.debug:
                traceback.print_exc()
            _fail(str(err), err.exit_code)
        except KeyboardInterrupt:
            click.echo("forv-tts: interrupted", err=True)
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader went away (e.g. `| head`); nothing useful can be printed.
            sys.stderr.close()
            raise typer.Exit(EXIT_FAILURE) from None
        except Exception as err:
            if _state.debug:
                traceback.print_exc()
            _fail(
                f"unexpected {type(err).__name__}: {err} (rerun with --debug for the traceback)",
                EXIT_FAILURE,
            )


app = typer.Typer(
    cls=_ForvGroup,
    name="forv-tts",
    help="Korean text-to-speech with your team's own Glow-TTS + HiFi-GAN voices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _setup_logging(verbose: bool, debug: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("forv-tts: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_forv_tts", False):
            root.removeHandler(old)
    handler._forv_tts = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("forv_tts").setLevel(level)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"forv-tts {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress (model loading, timings).")
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks and debug logs.", envvar="FORV_TTS_DEBUG")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Korean text-to-speech with your team's own Glow-TTS + HiFi-GAN voices."""
    _state.debug = debug
    _setup_logging(verbose, debug)


def _read_text(text: str | None) -> str:
    """TEXT argument, or stdin when it is omitted or `-`; never waits on an interactive terminal."""
    if text is not None and text != "-":
        return text
    if sys.stdin is None or sys.stdin.isatty():
        raise InvalidInputError("no text given: pass TEXT as an argument or pipe it on stdin")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            "stdin is not UTF-8 text: convert it (e.g. iconv -f cp949 -t utf-8)"
        ) from None


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


VoiceDirOption = Annotated[
    Path | None,
    typer.Option(
        "--voice-dir",
        help="Directory with glow-tts/ and hifigan-v2/ (default: $FORV_TTS_VOICE_DIR, else ./voice_model).",
        show_default=False,
    ),
]
MemberOption = Annotated[
    str | None,
    typer.Option(
        "--member",
        "-m",
        help="Member id whose voice to use (default: the built-in voice).",
        show_default=False,
    ),
]
LengthScaleOption = Annotated[
    float | None,
    typer.Option(
        "--length-scale",
        help="Speaking rate: >1 slower, <1 faster (default: the voice's).",
        show_default=False,
    ),
]
NoNormalizeOption = Annotated[
    bool,
    typer.Option("--no-normalize", help="Hand the text to the voice as is (no number reading, no g2pk)."),
]
StepOption = Annotated[
    int | None,
    typer.Option(
        "--step", help="Checkpoint step to load (default: the highest present).", show_default=False
    ),
]
EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine",
        help="How members are spoken: onnx (exported graphs, no torch) or torch "
        "(default: $FORV_TTS_ENGINE, else onnx).",
        metavar="onnx|torch",
        show_default=False,
    ),
]
# Upload options, shared by `say --upload` and `upload` (see forv_tts.upload).
BucketOption = Annotated[
    str | None,
    typer.Option(
        "--bucket", envvar="FORV_TTS_BUCKET", help="GCS bucket ($FORV_TTS_BUCKET).", show_default=False
    ),
]
KeepLocalOption = Annotated[
    bool,
    typer.Option(
        "--keep-local/--no-keep-local",
        help="Keep the local wav; with --no-keep-local it is deleted only once uploaded.",
    ),
]
UploadTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--upload-timeout",
        help="Give up retrying an upload after this many seconds (default: 30).",
        metavar="SECONDS",
        show_default=False,
    ),
]
OverwriteOption = Annotated[
    bool,
    typer.Option("--overwrite", help="Replace an existing object holding different bytes (default: error)."),
]
SignedUrlOption = Annotated[
    str | None,
    typer.Option(
        "--signed-url",
        help="Also print a V4 signed URL valid this long (15m, 1h, up to 7d); needs a service-account key.",
        metavar="DURATION",
        show_default=False,
    ),
]


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
) -> None:
    """Speak TEXT and write a wav (its path is printed on stdout).

    With --upload stdout holds one line instead, "<gs:// URI> TAB <URL>[ TAB <signed URL>]"; with --json the
    record gains an "upload" object (uri, url, bucket, object, size, md5, path, ...). '-o -' cannot be
    combined with --upload: the upload needs a file that is kept until the object is confirmed.
    """
    from forv_tts.audio import write_wav_to
    from forv_tts.pipeline import resolve_voice
    from forv_tts.pipeline import say as run_say
    from forv_tts.voices.onnx import resolve_engine

    engine = resolve_engine(engine)  # a bad name is a usage error before any work
    reuse_freed_memory()  # this process is about to synthesise: fewer page faults (runtime.py)

    to_stdout = output == "-"
    if to_stdout and as_json:
        raise InvalidInputError("--json prints to stdout, which '-o -' uses for the wav: pick one")
    if upload:
        from forv_tts import naming
        from forv_tts import upload as gcs

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
    (name, wav header) before the first upload; then each gets one stdout line "<gs:// URI> TAB <URL>"
    (or a JSON record) and each failure one stderr line; the exit code is 1 if any failed.
    """
    from forv_tts import upload as gcs
    from forv_tts.errors import UploadError
    from forv_tts.paths import voice_dir as resolve_voice_dir

    member = gcs.validate_known_member(member, resolve_voice_dir(voice_dir))
    target_bucket = gcs.resolve_bucket(bucket)
    timeout = gcs.check_timeout(gcs.DEFAULT_TIMEOUT_S if upload_timeout is None else upload_timeout)
    expiry = gcs.parse_duration(signed_url) if signed_url is not None else None
    plan = gcs.plan_uploads(files, member, uuid=uuid, created_at=created_at)
    gcs.get_client()
    if expiry is not None:
        gcs.check_can_sign()

    records: list[dict[str, Any]] = []
    errors: list[ForvError] = []
    for path, name in plan:
        try:
            result = gcs.upload_file(
                path,
                bucket=target_bucket,
                object_name=name,
                timeout=timeout,
                overwrite=overwrite,
                signed_url=expiry,
                keep_local=keep_local,
            )
        except ForvError as err:
            errors.append(err)
            if len(plan) > 1:
                click.echo(f"forv-tts: error: {err}", err=True)
            records.append({"path": str(path), "object": name, "error": str(err)})
            continue
        records.append(result.to_dict())
        if not as_json:
            typer.echo(result.line())
    if as_json:
        _print_json(records)
    if len(errors) == 1 and len(plan) == 1:
        raise errors[0]
    if errors:
        # Exit code 1 through the one error-mapping point, after every file was tried.
        raise UploadError(f"{len(errors)} of {len(plan)} uploads failed; their local files are kept")


@app.command()
def members(
    voice_dir: VoiceDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the voices: the built-in one and every member found in the voice directory."""
    from forv_tts.models import list_voices
    from forv_tts.paths import voice_dir as resolve_voice_dir

    root = resolve_voice_dir(voice_dir)
    voices = list_voices(root)
    if as_json:
        _print_json([v.to_dict() for v in voices])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "engine", "format", "step", "rate", "checkpoint", "status", box=None)
    for v in voices:
        status = "ok" if v.usable else "missing: " + ", ".join(v.missing)
        table.add_row(
            v.id,
            v.engine,
            v.format,
            "" if v.step is None else str(v.step),
            "" if v.sample_rate is None else str(v.sample_rate),
            "" if v.checkpoint is None else str(v.checkpoint),
            status,
        )
    # Piped output is for grep/awk: never truncate a path to fit an imaginary 80-column screen.
    Console(width=None if sys.stdout.isatty() else 1000).print(table)
    if len(voices) == 1:
        typer.echo(f"no members in {root}: put checkpoints there (see voice_model/README.md)", err=True)


@app.command()
def normalize(
    text: Annotated[
        str | None, typer.Argument(help="Korean text; omit or '-' to read stdin.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print each sentence's stages as JSON.")] = False,
) -> None:
    """Print exactly the text handed to the voice (after g2pk), one line per sentence."""
    from forv_tts import normalize as norm

    raw = _read_text(text)
    if as_json:
        _print_json(norm.normalize_stages(raw))
        return
    sentences = norm.normalize(raw)
    if not sentences:
        raise InvalidInputError("nothing speakable in the text: give Korean text")
    for sentence in sentences:
        typer.echo(sentence)


@app.command("export")
def export_cmd(
    member: Annotated[str, typer.Option("--member", "-m", help="Member id to export.", show_default=False)],
    voice_dir: VoiceDirOption = None,
    step: StepOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Directory to write (default: <voice dir>/onnx/<member>, where say finds it).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON record of the export.")] = False,
) -> None:
    """Export a member's voice to ONNX: a directory that speaks without torch or coqui-tts installed.

    The directory holds encoder.onnx, decoder.onnx, vocoder.onnx and voice.json; `say --voice-dir D`
    speaks it when it sits at D/onnx/<member>. Prints the directory.
    """
    from forv_tts.pipeline import resolve_voice
    from forv_tts.voices.onnx import cache

    info = resolve_voice(member, voice_dir, step)
    target = cache.export_member(info, output)
    if as_json:
        _print_json(cache.describe(target))
    else:
        typer.echo(str(target))


# --- batch -------------------------------------------------------------------------------------------


class _BatchProgressView:
    """Renders `forv_tts.batch` progress: a Rich bar on a terminal, plain lines every 5 s / 10 % otherwise."""

    def __init__(self, mode: str) -> None:
        self.mode = mode  # "rich", "plain" or "none"
        self._last_line = 0.0
        self._last_decile = -1
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
            if now - self._last_line < 5.0 and decile == self._last_decile and p.done < p.total:
                return
            if p.done == p.total and self._last_decile == 10:
                return
            self._last_line, self._last_decile = now, decile
            left = p.total - p.done
            eta = f", ETA {left / rate:.0f} s" if rate > 0 and left else ""
            typer.echo(
                f"forv-tts: batch {p.done}/{p.total} lines ({100 * p.done // max(1, p.total)}%), "
                f"{p.failed} failed, {p.audio_seconds:.1f} s audio, {rate:.2f} items/s{eta}",
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
        typer.Option("--format", help="Input format: text or jsonl (default: detected).", show_default=False),
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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress and no summary unless something failed.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON summary object instead of the manifest path.")
    ] = False,
) -> None:
    """Synthesise every line of FILE (all cores, a manifest, resumable); prints the manifest path.

    Every input line gets one manifest record (ok, failed or skipped). Exit 0 when all lines succeeded, 1
    when any failed, 130 when interrupted (Ctrl-C finishes the items in flight; rerun with --resume). A
    rerun on an existing manifest needs --resume (or a new --manifest).
    """
    import signal

    from forv_tts import batch as fb
    from forv_tts.voices.onnx import ENGINE_ENV, resolve_engine

    # Workers (spawned) and the inline path read the engine from the environment, as every setting.
    os.environ[ENGINE_ENV] = resolve_engine(engine)
    spec: fb.UploadSpec | None = None
    if upload:
        from forv_tts import upload as gcs

        timeout = gcs.check_timeout(gcs.DEFAULT_TIMEOUT_S if upload_timeout is None else upload_timeout)
        spec = fb.UploadSpec(bucket=gcs.resolve_bucket(bucket), timeout=timeout, overwrite=overwrite)
    elif overwrite or upload_timeout is not None:
        raise InvalidInputError("--overwrite and --upload-timeout only apply with --upload")
    data, name = fb.read_source(source)
    parsed = fb.parse_input(data, fmt=fmt, name=name)
    options = fb.BatchOptions(
        out_dir=out_dir,
        manifest=manifest,
        member=member,
        voice_dir=voice_dir,
        step=step,
        jobs=jobs,
        seed=seed,
        length_scale=length_scale,
        normalize=not no_normalize,
        upload=spec,
        resume=resume,
        fail_fast=fail_fast,
    )
    mode = "none" if quiet else "rich" if sys.stderr.isatty() else "plain"
    view = _BatchProgressView(mode)
    runner = fb.BatchRun(parsed, options, progress=view)

    def on_sigint(signum: int, frame: object) -> None:
        if runner.stopping:
            raise KeyboardInterrupt
        runner.request_stop()
        click.echo("forv-tts: stopping after the items in flight (Ctrl-C again to abandon them)", err=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with view:
            summary = runner.run()
    finally:
        signal.signal(signal.SIGINT, previous)

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
        raise error


def main() -> None:
    """Console-script entry point."""
    if os.environ.get("FORV_TTS_DEBUG"):
        _state.debug = True
    # Before any command imports torch (batch workers do the same through the same functions).
    prefer_passive_openmp()
    defer_torch_meta_kernels()
    try:
        app()  # click's standalone mode: always ends in SystemExit
    except BrokenPipeError:
        sys.exit(EXIT_FAILURE)
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            exit_without_teardown(done.code or 0)
        raise


__all__ = ["EXIT_USAGE", "app", "main"]

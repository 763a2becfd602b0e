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
from forv_tts._process.runtime import (
    defer_torch_meta_kernels,
    exit_without_teardown,
    prefer_passive_openmp,
)
from forv_tts.errors import EXIT_FAILURE, EXIT_USAGE, ForvError, InvalidInputError

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


# Registers the commands on `app` (each module's `@app.command`); nothing heavy is imported by them.
from forv_tts.cli import batch, check, export, members, normalize, say, serve, upload, worker  # noqa: E402, F401

__all__ = ["EXIT_USAGE", "app", "main"]

"""The `forv-tts` command line: a thin Typer layer over the library.

Rules this module keeps: data goes to stdout, messages to stderr; library errors (`forv_tts.errors`) are
turned into one line and an exit code in exactly one place (`_ForvGroup.invoke`, through the table in
`forv_tts.cli.errors`); nothing prompts; and nothing heavy (torch, coqui-tts, g2pk, google.cloud) is
imported until a command needs it, so `forv-tts --help` stays instant.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import traceback
from collections.abc import Iterator
from typing import Annotated, Any, NoReturn

import typer

# typer >= 0.25 vendors its own click: its classes (Context, Exit, ClickException) are the ones in play,
# not those of a separately installed click.
from typer import _click as click
from typer.core import TyperGroup

from forv_tts import __version__, settings
from forv_tts._process import startup
from forv_tts.cli import _coercion
from forv_tts.cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, exit_code, message
from forv_tts.errors import ForvError, InvalidInputError, NoTextError

log = logging.getLogger("forv_tts")


class _State:
    debug: bool = False


_state = _State()


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"forv-tts: error: {message}", err=True)
    raise typer.Exit(code)


_GLOBAL_FLAGS = ("-v", "--verbose", "--debug")


def _hoist_global_flags(group: TyperGroup, ctx: click.Context, args: list[str]) -> list[str]:
    """`forv-tts say -v …` means `forv-tts -v say …`: move -v/--verbose/--debug before the subcommand.

    Only where they are flags: not an option's value (`-o -v`), not after `--`, not when the command
    has an option of that name itself.
    """
    index = next((i for i, tok in enumerate(args) if not tok.startswith("-")), None)
    command = group.commands.get(args[index]) if index is not None else None
    if index is None or command is None:
        return args
    own: set[str] = set()
    takes_value: set[str] = set()
    for param in command.get_params(ctx):
        if getattr(param, "param_type_name", None) == "option":  # typer's vendored click has no Option
            names = [*param.opts, *getattr(param, "secondary_opts", [])]
            own.update(names)
            if not getattr(param, "is_flag", False) and not getattr(param, "count", False):
                takes_value.update(names)
    hoisted: list[str] = []
    rest: list[str] = []
    tail = iter(args[index + 1 :])
    for tok in tail:
        if tok == "--":
            rest.extend([tok, *tail])
            break
        if tok in _GLOBAL_FLAGS and tok not in own:
            hoisted.append(tok)
            continue
        rest.append(tok)
        if tok in takes_value:
            value = next(tail, None)  # its value, whatever it looks like
            if value is not None:
                rest.append(value)
    return [*args[:index], *hoisted, args[index], *rest]


class _ForvGroup(TyperGroup):
    """Maps library errors to one stderr line and an exit code, for the console script and CliRunner alike."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        for command in (self, *self.commands.values()):
            _coercion.install(command, ctx)
        return super().parse_args(ctx, _hoist_global_flags(self, ctx, args))

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, click.ClickException):
            raise
        except ForvError as err:
            if _state.debug:
                traceback.print_exc()
            _fail(message(err), exit_code(err))
        except KeyboardInterrupt:
            click.echo("forv-tts: interrupted", err=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
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
    add_completion=True,  # --install-completion / --show-completion (typer loads its completion code lazily)
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
    log.debug("start-up tricks: %s", startup.report() or "none asked for yet")


def _read_text(text: str | None) -> str:
    """TEXT argument, or stdin when it is omitted or `-`; never waits on an interactive terminal."""
    if text is not None and text != "-":
        return text
    if sys.stdin is None or sys.stdin.isatty():
        raise NoTextError("no text given")
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(
            "stdin is not UTF-8 text: convert it (e.g. iconv -f cp949 -t utf-8)"
        ) from None


def _print_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False))


def named_command(args: list[str]) -> str | None:
    """The subcommand a command line names: its first word that is not an option (the root takes
    flags only). None for none, after `--`, or with the completion options."""
    for tok in args:
        if tok == "--" or tok in ("--install-completion", "--show-completion"):
            return None
        if not tok.startswith("-"):
            return tok
    return None


@contextlib.contextmanager
def only_command(name: str | None) -> Iterator[None]:
    """While it lasts, `app` registers the command `name` alone, if it is one of its commands.

    Why: typer builds a click command, with every option and type, for each registered command on
    every run (~40 ms for these nine; bench/notes.md), and a run invokes one. The root's own help, an
    unknown name (click's "No such command", with its suggestions) and completion still see them all.
    """
    from typer.main import get_command_name

    every = app.registered_commands
    chosen = [c for c in every if c.callback and (c.name or get_command_name(c.callback.__name__)) == name]
    if len(chosen) != 1:
        yield
        return
    app.registered_commands = chosen
    try:
        yield
    finally:
        app.registered_commands = every


def main() -> None:
    """Console-script entry point: ends the process (a command that armed `startup.quick_exit`, `say`,
    ends it without the interpreter's teardown once it has succeeded and its output is flushed)."""
    if settings.switch(settings.DEBUG):
        _state.debug = True
    # Before any command imports torch (batch workers do the same through the same call).
    startup.before_torch_import()
    try:
        with only_command(named_command(sys.argv[1:])):
            app()  # click's standalone mode: always ends in SystemExit
    except BrokenPipeError:
        sys.exit(EXIT_FAILURE)
    except SystemExit as done:
        startup.quick_exit(done.code)  # returns unless it ended the process
        raise


# Registers the commands on `app` (each module's `@app.command`); nothing heavy is imported by them.
from forv_tts.cli import batch, check, export, members, normalize, say, serve, upload, worker  # noqa: E402, F401

__all__ = ["EXIT_USAGE", "app", "main"]

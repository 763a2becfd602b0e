"""A start-up trick for the CLI: typer's value coercion without pydantic for the common cases.

typer >= 0.28 coerces every non-flag parameter value through a pydantic TypeAdapter, built the first
time the parameter is processed, even when the option was not given: `say` paid ~0.2 s (0.5 s on a
busy machine) importing pydantic and building a dozen adapters before doing any work. `_LazyCoercion`
answers the cases whose result is known without pydantic (option not given; a str for a plain `str`;
a plain decimal for an unconstrained `int`; a str for a plain `Path`, whose pydantic validation is
`Path(value)`, checked by typer's own path checks) and hands every other value to typer's own
coercion, built on first need.

It reaches into typer's private API, so it is armed only when `FORV_TTS_LAZY_COERCION` is on (the
default) and typer is a release it was measured on (`forv_tts._process.startup.TYPER_VERSIONS`).
With another typer, a missing private name, or a parameter shaped differently than expected, nothing
is replaced (or that one value goes to typer's own coercion): typer's behaviour, only slower.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any

import typer
from typer import _click as click

log = logging.getLogger(__name__)

_LazyCoercion: Any = None
_TyperParameter: Any = None
_ready: bool | None = None


def _prepare() -> bool:
    """Define `_LazyCoercion` once, if the switch, typer's version and its private names allow."""
    global _LazyCoercion, _TyperParameter, _ready
    if _ready is not None:
        return _ready
    _ready = False
    from forv_tts._process import startup

    if not startup.lazy_coercion_allowed(getattr(typer, "__version__", None)):
        return False
    try:
        from typer._coercion import RuntimeParam
        from typer._coercion import build_runtime_param as build_runtime_param
        from typer._param_types import coerce_cli_path
        from typer.core import _TyperParameter as typer_parameter
    except ImportError:
        log.debug("typer's private coercion API is not there: keeping typer's own coercion")
        return False
    plain_int = re.compile(r"-?[0-9]{1,18}")

    @dataclasses.dataclass(frozen=True)
    class LazyCoercion(RuntimeParam):
        descriptor: Any = None

        def coerce(self, value: Any, param: Any, ctx: click.Context) -> Any:
            if value is None:
                return super().coerce(value, param, ctx)  # None or (), no conversion involved
            try:
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
                    and plain_int.fullmatch(value)
                ):
                    return int(value)
                if simple and self.annotation is Path and info.path_type in (None, Path):
                    return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
            except AttributeError:
                pass  # typer's objects changed shape: its own coercion decides
            return self._full().coerce(value, param, ctx)

        def _coerce_value(self, value: Any, param: Any, ctx: click.Context) -> Any:
            return self._full()._coerce_value(value, param, ctx)

        def _full(self) -> Any:
            full = self.__dict__.get("_typer_param")
            if full is None:
                full = build_runtime_param(self.descriptor)
                object.__setattr__(self, "_typer_param", full)
            return full

    _LazyCoercion = LazyCoercion
    _TyperParameter = typer_parameter
    _ready = True
    return True


def install(command: click.Command, ctx: click.Context) -> None:
    """Give the command's typer parameters `_LazyCoercion` (once, before they process any value).

    `get_params` includes the `--help` option, which click creates on first use and then caches.
    Any surprise from typer's internals leaves the remaining parameters as typer made them.
    """
    if not _prepare():
        return
    try:
        for param in command.get_params(ctx):
            if isinstance(param, _TyperParameter) and getattr(param, "_runtime_param", False) is None:
                desc = param.type_descriptor
                param._runtime_param = _LazyCoercion(
                    parameter_info=desc.parameter_info, annotation=desc.annotation, descriptor=desc
                )
    except (AttributeError, TypeError) as exc:
        log.debug("typer changed shape (%s): keeping its own coercion for the rest", exc)


def reset() -> None:
    """Forget the decision (tests switch the trick on and off within one process)."""
    global _ready, _LazyCoercion, _TyperParameter
    _ready, _LazyCoercion, _TyperParameter = None, None, None

"""Every setting forv-tts reads from the environment, in one place, with one rule.

The rule: an explicit value (a CLI option, a keyword argument) wins; else the environment variable, if
set and not blank; else the default. Values are parsed by the setting's own parser (paths are
user-expanded; switches accept 1/0, true/false, yes/no, on/off) and a malformed value raises
`InvalidInputError` naming the variable. Nothing else in the package reads `os.environ` for its own
settings (Google's variables are also read by Google's libraries; the process settings in
`forv_tts._process` read their switches through here).

Values are read when asked for, not cached at import: tests and applications that embed forv-tts may
change the environment between calls, and reading a variable costs nothing next to what it configures.

`SETTINGS` lists them all (the README's table is made from it; `tests/test_settings.py` checks that).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from forv_tts.errors import InvalidInputError

_T = TypeVar("_T")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def parse_switch(text: str) -> bool:
    """1/true/yes/on → True, 0/false/no/off → False (case-insensitive); anything else is an error."""
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("use 1 or 0 (true/false, yes/no, on/off)")


def parse_path(text: str) -> Path:
    """A path, with `~` expanded."""
    return Path(text).expanduser()


def parse_positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError("use a whole number of at least 1")
    return value


def parse_count(text: str) -> int:
    """A whole number of at least 0."""
    try:
        value = int(text.strip())
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError("give a whole number (0 for no limit)")
    return value


def parse_positive_float(text: str) -> float:
    """A number of seconds above 0."""
    try:
        value = float(text.strip())
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ValueError("use a number of seconds above 0")
    return value


def parse_str(text: str) -> str:
    """The value as given, surrounding blanks removed."""
    return text.strip()


@dataclass(frozen=True)
class Setting(Generic[_T]):
    """One environment variable: its parser, its default and what it is for (the README row)."""

    env: str
    parse: Callable[[str], _T]
    default: Callable[[], _T | None]
    doc: str
    option: str | None = None  # the CLI option that overrides it, for the docs

    def raw(self) -> str | None:
        """The variable's value if set and not blank, else None."""
        value = os.environ.get(self.env)
        return value if value is not None and value.strip() else None

    def get(self, option: Any = None) -> _T | None:
        """`option` if given (not None, not ""), else the parsed variable, else the default."""
        if option is not None and option != "":
            return self.parse(str(option)) if isinstance(option, str) else option
        value = self.raw()
        if value is None:
            return self.default()
        try:
            return self.parse(value)
        except ValueError as err:
            raise InvalidInputError.bad_value(self.env, value, str(err) or "malformed value") from None


def _none() -> None:
    return None


def _xdg_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(xdg).expanduser() / "forv-tts" if xdg else Path.home() / ".cache" / "forv-tts"


def _on() -> bool:
    return True


VOICE_DIR = Setting(
    "FORV_TTS_VOICE_DIR",
    parse_path,
    lambda: Path("voice_model"),
    "Where members' checkpoints live (glow-tts/, hifigan-v2/). Default: ./voice_model.",
    option="--voice-dir",
)
CACHE_DIR = Setting(
    "FORV_TTS_CACHE_DIR",
    parse_path,
    _xdg_cache,
    "Derived data built once (weight cache, ONNX exports, cmudict corpus). "
    "Default: $XDG_CACHE_HOME/forv-tts, else ~/.cache/forv-tts.",
)
BUCKET = Setting(
    "FORV_TTS_BUCKET", parse_str, _none, "GCS bucket for uploads. No default.", option="--bucket"
)
DEBUG = Setting(
    "FORV_TTS_DEBUG", parse_switch, lambda: False, "Tracebacks and debug logs on the CLI.", option="--debug"
)
WEIGHT_CACHE = Setting(
    "FORV_TTS_WEIGHT_CACHE",
    parse_switch,
    _on,
    "0 reads every checkpoint instead of its safetensors weight cache. Default: on.",
)
MAX_VOICES = Setting(
    "FORV_TTS_MAX_VOICES",
    parse_positive_int,
    _none,
    "At most this many voices stay loaded per process (least recently used unloaded). Default: no bound.",
)
MAX_TEXT_CHARS = Setting(
    "FORV_TTS_MAX_TEXT_CHARS",
    parse_count,
    lambda: 20_000,
    "At most this many characters in one utterance (0: no limit). Default: 20000.",
)
ENGINE = Setting(
    "FORV_TTS_ENGINE",
    parse_str,
    lambda: "onnx",
    "Engine for members: onnx or torch Default: onnx.",
    option="--engine",
)
ONNX_THREADS = Setting(
    "FORV_TTS_ONNX_THREADS",
    parse_positive_int,
    _none,
    "onnxruntime's threads per process (batch sets it per worker). Default: $OMP_NUM_THREADS, else "
    "one per core.",
)
VOCODER_WINDOWS = Setting(
    "FORV_TTS_VOCODER_WINDOWS",
    parse_switch,
    _on,
    "On more than one thread, the ONNX vocoder runs in overlapping windows side by side (the same "
    "samples). 0: one run on onnxruntime's intra-op threads. Default: on.",
)
LEXICON = Setting(
    "FORV_TTS_LEXICON",
    parse_str,
    _none,
    "User lexicon file(s) (written<TAB>spoken), ':'-separated; after the voice dir's lexicon.tsv "
    "and before --lexicon.",
    option="--lexicon",
)
EMULATOR_HOST = Setting(
    "STORAGE_EMULATOR_HOST", parse_str, _none, "Google's: a GCS emulator's URL (anonymous credentials)."
)
CREDENTIALS = Setting(
    "GOOGLE_APPLICATION_CREDENTIALS",
    parse_str,
    _none,
    "Google's: a service-account key file (also what signs --signed-url).",
)
PROJECT = Setting("GOOGLE_CLOUD_PROJECT", parse_str, _none, "Google's: the project for the storage client.")
# Process settings (forv_tts._process): each is on by default in forv-tts's own processes only.
PASSIVE_OPENMP = Setting(
    "FORV_TTS_PASSIVE_OPENMP",
    parse_switch,
    _on,
    "OMP_WAIT_POLICY=PASSIVE unless you set it: torch's idle threads sleep. 0 turns it off.",
)
LAZY_COERCION = Setting(
    "FORV_TTS_LAZY_COERCION",
    parse_switch,
    _on,
    "Start-up trick: the CLI coerces plain option values without typer's pydantic. 0 turns it off.",
)
RELEASE_GRAPH_PAGES = Setting(
    "FORV_TTS_RELEASE_GRAPH_PAGES",
    parse_switch,
    _on,
    "`say` with the ONNX engine hands back each graph's weight pages once it has run (lower peak "
    "memory). 0 turns it off.",
)
# The service's limits on what a client may send (forv_tts.service.guard) and where `serve`'s embedded
# store keeps its data (forv_tts.service.embedded).
MAX_BODY_BYTES = Setting(
    "FORV_TTS_MAX_BODY_BYTES",
    parse_positive_int,
    lambda: 1_048_576,
    "Service: the largest request body accepted (a larger one is a 413). Default: 1048576 (1 MiB).",
)
HTTP_READ_TIMEOUT = Setting(
    "FORV_TTS_HTTP_READ_TIMEOUT",
    parse_positive_float,
    lambda: 10.0,
    "Service: seconds a request's head, and each piece of its body, may take to arrive before the "
    "connection is closed. Default: 10.",
)
MAX_CONNECTIONS = Setting(
    "FORV_TTS_MAX_CONNECTIONS",
    parse_positive_int,
    lambda: 1000,
    "Service: open connections per API process; one more is answered 503 and closed. Default: 1000.",
)
STATE_DIR = Setting(
    "FORV_TTS_STATE_DIR",
    parse_path,
    _none,
    "Where `serve`'s embedded store keeps queued jobs and records on disk (its append-only file), so "
    "a restart loses nothing. Default: <out-dir>/.forv-tts-state.",
)

SETTINGS: tuple[Setting[Any], ...] = (
    VOICE_DIR,
    CACHE_DIR,
    BUCKET,
    DEBUG,
    WEIGHT_CACHE,
    MAX_VOICES,
    MAX_TEXT_CHARS,
    ENGINE,
    ONNX_THREADS,
    VOCODER_WINDOWS,
    LEXICON,
    EMULATOR_HOST,
    CREDENTIALS,
    PROJECT,
    PASSIVE_OPENMP,
    LAZY_COERCION,
    RELEASE_GRAPH_PAGES,
    MAX_BODY_BYTES,
    HTTP_READ_TIMEOUT,
    MAX_CONNECTIONS,
    STATE_DIR,
)


def resolve_path(option: str | os.PathLike[str] | None, env_var: str, default: Path) -> Path:
    """The one rule for a path setting not declared above (the service's): the option, else `$env_var`
    if set and not blank, else `default`; all user-expanded."""
    setting = Setting(env_var, parse_path, lambda: default.expanduser(), "")
    value = setting.get(os.fspath(option) if option is not None else None)
    assert value is not None
    return Path(value).expanduser()


def voice_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """Where members' checkpoints live: the option, `$FORV_TTS_VOICE_DIR`, `./voice_model`."""
    value = VOICE_DIR.get(os.fspath(option) if option is not None else None)
    assert value is not None
    return value


def cache_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """Where derived data is built once: the option, `$FORV_TTS_CACHE_DIR`, the XDG cache."""
    value = CACHE_DIR.get(os.fspath(option) if option is not None else None)
    assert value is not None
    return value


def bucket(option: str | None = None) -> str | None:
    """The upload bucket: the option, `$FORV_TTS_BUCKET`, or None."""
    return BUCKET.get(option)


def switch(setting: Setting[bool]) -> bool:
    """A switch's value; a malformed one counts as its default (switches are read at start-up, where
    an error could not be reported as one line)."""
    try:
        value = setting.get()
    except InvalidInputError:
        value = setting.default()
    return bool(value)


def max_loaded_voices() -> int | None:
    """`$FORV_TTS_MAX_VOICES`: the default registry's bound, or None."""
    return MAX_VOICES.get()


def markdown_table() -> str:
    """The README's settings table."""
    rows = ["| variable | option | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| `{s.env}` | {f'`{s.option}`' if s.option else ''} | {s.doc} |")
    return "\n".join(rows)

"""Every setting forv-tts reads from the environment, in one place, with one rule.

The rule: an explicit value (a CLI option, a keyword argument) wins; else the environment variable, if
set and not blank; else the default. Values are parsed by the setting's own parser (paths are
user-expanded; switches accept 1/0, true/false, yes/no, on/off) and a malformed value raises
`InvalidInputError` naming the variable. Nothing else in the package reads `os.environ` for its own
settings (Google's variables are also read by Google's libraries; the process settings in
`forv_tts._process` read their switches through here).

Values are read when asked for, not cached at import: tests and applications that embed forv-tts may
change the environment between calls, and reading a variable costs nothing next to what it configures.

The service's variables are declared here too (`group="service"`; `forv_tts.service.settings` is a view
over them), so `serve`, `worker` and the library resolve, validate and reject a value the same way.
A setting may keep an older name (`aliases`): read when the new one is unset, so a deployment that used
it goes on working.

`SETTINGS` lists them all. The README's two settings tables are made from it
(`python -m forv_tts.settings README.md` rewrites them; `tests/test_settings.py` fails when they drift).
This module imports only the standard library and `forv_tts.errors`: `import forv_tts` and
`forv-tts --help` load it.
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


def parse_seconds(text: str) -> float:
    """A number of seconds, 0 or more."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        raise ValueError("use a number of seconds, 0 or more")
    return value


def parse_str(text: str) -> str:
    """The value as given, surrounding blanks removed."""
    return text.strip()


def parse_list(text: str) -> tuple[str, ...]:
    """Comma-separated values, each stripped; empty ones dropped."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


@dataclass(frozen=True)
class Setting(Generic[_T]):
    """One environment variable: its parser, its default and what it is for (the README row)."""

    env: str
    parse: Callable[[str], _T]
    default: Callable[[], _T | None]
    doc: str
    option: str | None = None  # the CLI option that overrides it, for the docs
    group: str = "library"  # the README table it is listed in: "library" or "service"
    aliases: tuple[str, ...] = ()  # older names, read (in order) when `env` is unset

    def source(self) -> tuple[str, str] | None:
        """(variable, value) of the first of `env` and `aliases` that is set and not blank, else None."""
        for name in (self.env, *self.aliases):
            value = os.environ.get(name)
            if value is not None and value.strip():
                return name, value
        return None

    def raw(self) -> str | None:
        """The variable's value (or an alias's) if set and not blank, else None."""
        found = self.source()
        return found[1] if found is not None else None

    def get(self, option: Any = None) -> _T | None:
        """`option` if given (not None, not ""), else the parsed variable, else the default.

        A text or number option goes through the same parser as the variable (an out-of-range
        `--max-text` is refused as `$FORV_TTS_SERVICE_MAX_TEXT_CHARS` would be); other values (paths,
        lists) are the caller's, already typed.
        """
        if option is not None and option != "":
            if isinstance(option, str) or (isinstance(option, int | float) and not isinstance(option, bool)):
                return self._parse(self.option or self.env, str(option))
            return option
        found = self.source()
        if found is None:
            return self.default()
        return self._parse(*found)

    def _parse(self, name: str, value: str) -> _T:
        try:
            return self.parse(value)
        except ValueError as err:
            raise InvalidInputError.bad_value(name, value, str(err) or "malformed value") from None


def _none() -> None:
    return None


def _xdg_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return Path(xdg).expanduser() / "forv-tts" if xdg else Path.home() / ".cache" / "forv-tts"


def _on() -> bool:
    return True


def _omp_threads() -> int | None:
    """OpenMP's own `OMP_NUM_THREADS`, when it is a whole number above 0 (else None: not ours to refuse)."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else None


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
    "At most this many characters in one utterance (0: no limit). Default: 20000. The service's cap "
    "per request is its own, `FORV_TTS_SERVICE_MAX_TEXT_CHARS`.",
)
ENGINE = Setting(
    "FORV_TTS_ENGINE",
    parse_str,
    lambda: "onnx",
    "Engine for members: onnx or torch. Default: onnx.",
    option="--engine",
)
ONNX_THREADS = Setting(
    "FORV_TTS_ONNX_THREADS",
    parse_positive_int,
    _omp_threads,
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
ONNX_SPIN_IN_RUN = Setting(
    "FORV_TTS_ONNX_SPIN_IN_RUN",
    parse_switch,
    _on,
    "With more than one thread, onnxruntime's threads spin between one run's operators and stop at "
    "its end. 0: they sleep between operators too. Default: on.",
)
DECODER_WINDOWS = Setting(
    "FORV_TTS_DECODER_WINDOWS",
    parse_switch,
    _on,
    "A long sentence's ONNX decoder runs in two overlapping pieces, the first covering what the first "
    "vocoder window reads (the same samples, sooner first audio). 0: one run. Default: on.",
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
QUICK_EXIT = Setting(
    "FORV_TTS_QUICK_EXIT",
    parse_switch,
    _on,
    "`say` ends its process without the interpreter's teardown once its output is written and flushed "
    "(exit handlers still run). 0 turns it off.",
)
PROGRESS_INTERVAL = Setting(
    "FORV_TTS_PROGRESS_INTERVAL",
    parse_positive_float,
    _none,
    "Seconds between the plain progress lines `say` and `batch` write to a log (not a terminal). "
    "Default: 10 (`say`), 5 (`batch`).",
)

# The service (`serve`, `worker`; read through forv_tts.service.settings, forv_tts.service.guard and
# forv_tts.service.serve). It also reads the library's settings above: the voice directory, the bucket,
# the cache, the engine, the lexicon, and `FORV_TTS_MAX_TEXT_CHARS` for each utterance in its workers.
BROKER_URL = Setting(
    "FORV_TTS_BROKER_URL",
    parse_str,
    _none,
    "The broker: amqp://USER:PASS@HOST/VHOST (RabbitMQ) or redis://HOST:6379/0. Default: `serve` "
    "starts an embedded one; `worker` needs one.",
    option="--broker",
    group="service",
)
RESULT_BACKEND = Setting(
    "FORV_TTS_RESULT_BACKEND",
    parse_str,
    _none,
    "The result backend every API process can read: redis://HOST:6379/0. Default: the broker when it "
    "is Redis; a `worker` on RabbitMQ may have none (rpc:// replies to `gan_wav` only).",
    option="--result-backend",
    group="service",
)
OUT_DIR = Setting(
    "FORV_TTS_OUT_DIR",
    parse_path,
    lambda: Path("."),
    "Where workers write clips (OUT_DIR/wav_files/<member>/…). Default: . (the current directory).",
    option="--out-dir",
    group="service",
)
API_KEYS = Setting(
    "FORV_TTS_API_KEYS",
    parse_list,
    lambda: (),
    "Keys a client must send as `Authorization: Bearer KEY`, comma-separated. Default: none (no "
    "authentication).",
    option="--api-key",
    group="service",
)
SERVICE_MAX_TEXT_CHARS = Setting(
    "FORV_TTS_SERVICE_MAX_TEXT_CHARS",
    parse_count,
    lambda: 5000,
    "At most this many characters of text in one request; more is a 413 `text_too_long` (0: no limit "
    "but the body's, `FORV_TTS_MAX_BODY_BYTES`). Unset, `FORV_TTS_MAX_TEXT_CHARS` is read, the name "
    "the service used before. Default: 5000.",
    option="--max-text",
    group="service",
    aliases=("FORV_TTS_MAX_TEXT_CHARS",),
)
CORS_ORIGINS = Setting(
    "FORV_TTS_CORS_ORIGINS",
    parse_list,
    lambda: ("*",),
    "Allowed CORS origins, comma-separated. Default: * (any, as the old server).",
    option="--cors-origin",
    group="service",
)
JOB_TIME_LIMIT = Setting(
    "FORV_TTS_JOB_TIME_LIMIT",
    parse_positive_float,
    lambda: 300.0,
    "Seconds one job may run (Celery's soft limit; the hard limit is 30 s later). Default: 300.",
    group="service",
)
MAX_DELIVERIES = Setting(
    "FORV_TTS_MAX_DELIVERIES",
    parse_positive_int,
    lambda: 3,
    "Deliveries of one job before it ends failed (a job that keeps killing its worker). Default: 3.",
    group="service",
)
UPLOAD_ATTEMPTS = Setting(
    "FORV_TTS_UPLOAD_ATTEMPTS",
    parse_positive_int,
    lambda: 3,
    "Upload attempts per clip (the local wav is kept when every one fails). Default: 3.",
    group="service",
)
UPLOAD_TIMEOUT = Setting(
    "FORV_TTS_UPLOAD_TIMEOUT",
    parse_positive_float,
    lambda: 30.0,
    "Seconds an upload may take, all its attempts together (one deadline). Default: 30.",
    group="service",
)
UPLOAD_BACKOFF = Setting(
    "FORV_TTS_UPLOAD_BACKOFF",
    parse_seconds,
    lambda: 1.0,
    "Seconds before the second upload attempt, doubling before each one after. Default: 1.",
    group="service",
)
REQUEST_TIMEOUT = Setting(
    "FORV_TTS_REQUEST_TIMEOUT",
    parse_positive_float,
    lambda: 600.0,
    "Seconds `POST /api/texts` waits for its clip before a 504 with the status URL. Default: 600.",
    group="service",
)
# The service's limits on what a client may send (forv_tts.service.guard) and where `serve`'s embedded
# store keeps its data (forv_tts.service.embedded).
MAX_BODY_BYTES = Setting(
    "FORV_TTS_MAX_BODY_BYTES",
    parse_positive_int,
    lambda: 1_048_576,
    "The largest request body accepted (a larger one is a 413). Default: 1048576 (1 MiB).",
    group="service",
)
HTTP_READ_TIMEOUT = Setting(
    "FORV_TTS_HTTP_READ_TIMEOUT",
    parse_positive_float,
    lambda: 10.0,
    "Seconds a request's head, and each piece of its body, may take to arrive before the connection "
    "is closed. Default: 10.",
    group="service",
)
MAX_CONNECTIONS = Setting(
    "FORV_TTS_MAX_CONNECTIONS",
    parse_positive_int,
    lambda: 1000,
    "Open connections per API process; one more is answered 503 and closed. Default: 1000.",
    group="service",
)
STATE_DIR = Setting(
    "FORV_TTS_STATE_DIR",
    parse_path,
    _none,
    "Where `serve`'s embedded store keeps queued jobs and records on disk (its append-only file), so "
    "a restart loses nothing. Default: <out-dir>/.forv-tts-state.",
    group="service",
)
TEST_SENTENCE_DELAY = Setting(
    "FORV_TTS_TEST_SENTENCE_DELAY",
    parse_seconds,
    lambda: 0.0,
    "Fault tests only: seconds a worker sleeps before each sentence, so a test can kill it mid-job. "
    "Never set in production.",
    group="service",
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
    ONNX_SPIN_IN_RUN,
    DECODER_WINDOWS,
    LEXICON,
    EMULATOR_HOST,
    CREDENTIALS,
    PROJECT,
    PASSIVE_OPENMP,
    LAZY_COERCION,
    RELEASE_GRAPH_PAGES,
    QUICK_EXIT,
    PROGRESS_INTERVAL,
    BROKER_URL,
    RESULT_BACKEND,
    OUT_DIR,
    API_KEYS,
    SERVICE_MAX_TEXT_CHARS,
    CORS_ORIGINS,
    JOB_TIME_LIMIT,
    MAX_DELIVERIES,
    UPLOAD_ATTEMPTS,
    UPLOAD_TIMEOUT,
    UPLOAD_BACKOFF,
    REQUEST_TIMEOUT,
    MAX_BODY_BYTES,
    HTTP_READ_TIMEOUT,
    MAX_CONNECTIONS,
    STATE_DIR,
    TEST_SENTENCE_DELAY,
)
GROUPS = ("library", "service")


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


def markdown_table(group: str = "library") -> str:
    """One of the README's settings tables (`group`: "library" or "service")."""
    rows = ["| variable | option | meaning |", "|---|---|---|"]
    for s in SETTINGS:
        if s.group == group:
            rows.append(f"| `{s.env}` | {f'`{s.option}`' if s.option else ''} | {s.doc} |")
    return "\n".join(rows)


def _markers(group: str) -> tuple[str, str]:
    return f"<!-- settings:{group} (python -m forv_tts.settings README.md) -->", f"<!-- /settings:{group} -->"


def readme_tables(text: str) -> dict[str, str]:
    """The tables between the README's markers, by group (a group without markers is left out)."""
    found: dict[str, str] = {}
    for group in GROUPS:
        start, end = _markers(group)
        if start in text and end in text:
            found[group] = text.split(start, 1)[1].split(end, 1)[0].strip()
    return found


def with_tables(text: str) -> str:
    """`text` (the README) with each marked table regenerated from `SETTINGS`."""
    for group in GROUPS:
        start, end = _markers(group)
        if start not in text or end not in text:
            raise ValueError(f"no {start} … {end} markers")
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{start}\n{markdown_table(group)}\n{end}{tail}"
    return text


if __name__ == "__main__":  # python -m forv_tts.settings README.md: rewrite its settings tables
    import sys

    for name in sys.argv[1:]:
        readme = Path(name)
        readme.write_text(with_tables(readme.read_text(encoding="utf-8")), encoding="utf-8")

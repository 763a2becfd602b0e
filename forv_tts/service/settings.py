"""Every setting of the service, resolved in one place: the option, then the environment variable, then
the default. The API process and the workers read the same dataclass, so a value means the same thing on
both sides.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from forv_tts.errors import InvalidInputError

T = TypeVar("T")

BROKER_ENV = "FORV_TTS_BROKER_URL"
BACKEND_ENV = "FORV_TTS_RESULT_BACKEND"
API_KEYS_ENV = "FORV_TTS_API_KEYS"
OUT_DIR_ENV = "FORV_TTS_OUT_DIR"
BUCKET_ENV = "FORV_TTS_BUCKET"
MAX_TEXT_ENV = "FORV_TTS_MAX_TEXT_CHARS"
CORS_ENV = "FORV_TTS_CORS_ORIGINS"
TIME_LIMIT_ENV = "FORV_TTS_JOB_TIME_LIMIT"
MAX_DELIVERIES_ENV = "FORV_TTS_MAX_DELIVERIES"
UPLOAD_ATTEMPTS_ENV = "FORV_TTS_UPLOAD_ATTEMPTS"
UPLOAD_TIMEOUT_ENV = "FORV_TTS_UPLOAD_TIMEOUT"
UPLOAD_BACKOFF_ENV = "FORV_TTS_UPLOAD_BACKOFF"
REQUEST_TIMEOUT_ENV = "FORV_TTS_REQUEST_TIMEOUT"
#: Fault tests only: seconds a worker sleeps before each sentence, so a test can kill it or hang up
#: mid-job deterministically. Never set in production.
SENTENCE_DELAY_ENV = "FORV_TTS_TEST_SENTENCE_DELAY"

DEFAULT_MAX_TEXT = 5000
DEFAULT_TIME_LIMIT_S = 300.0
DEFAULT_MAX_DELIVERIES = 3
DEFAULT_UPLOAD_ATTEMPTS = 3
DEFAULT_UPLOAD_TIMEOUT_S = 30.0
DEFAULT_UPLOAD_BACKOFF_S = 1.0
DEFAULT_REQUEST_TIMEOUT_S = 600.0
HARD_LIMIT_MARGIN_S = 30.0


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _pick(option: T | None, env: str, parse: Callable[[str], T], default: T) -> T:
    if option is not None:
        return option
    raw = _env(env)
    if raw is None:
        return default
    try:
        return parse(raw)
    except ValueError:
        raise InvalidInputError(f"invalid ${env} {raw!r}: expected a number") from None


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def check_backend(url: str) -> str:
    """The result backend must be readable by every API process: Redis, never `rpc://`."""
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "redis+socket", "unix"):
        return url
    if scheme == "rpc":
        raise InvalidInputError(
            "result backend rpc:// is readable only by the process that sent the task: "
            "give --result-backend redis://HOST:6379/0"
        )
    raise InvalidInputError(f"unsupported result backend {url!r}: give --result-backend redis://HOST:6379/0")


def check_broker(url: str) -> str:
    """RabbitMQ (amqp://) or Redis (redis://, redis+socket://)."""
    scheme = urlsplit(url).scheme
    if scheme in ("amqp", "amqps", "pyamqp", "redis", "rediss", "redis+socket"):
        return url
    raise InvalidInputError(
        f"unsupported broker {url!r}: give --broker amqp://USER:PASS@HOST/VHOST or redis://HOST:6379/0"
    )


@dataclass(frozen=True)
class ServiceSettings:
    """What the API and the workers need; build it with `resolve`."""

    broker_url: str | None = None
    result_backend: str | None = None
    voice_dir: Path = Path("voice_model")
    out_dir: Path = Path(".")
    bucket: str | None = None
    api_keys: tuple[str, ...] = ()
    max_text_chars: int = DEFAULT_MAX_TEXT
    cors_origins: tuple[str, ...] = ("*",)
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    max_deliveries: int = DEFAULT_MAX_DELIVERIES
    upload_attempts: int = DEFAULT_UPLOAD_ATTEMPTS
    upload_timeout_s: float = DEFAULT_UPLOAD_TIMEOUT_S
    upload_backoff_s: float = DEFAULT_UPLOAD_BACKOFF_S
    request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S
    sentence_delay_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hard_time_limit_s(self) -> float:
        """Celery's hard limit: the soft limit plus time to record the failure."""
        return self.time_limit_s + HARD_LIMIT_MARGIN_S

    def with_urls(self, broker_url: str, result_backend: str) -> ServiceSettings:
        """A copy pointing at another broker/backend (the embedded server's socket)."""
        return dataclasses.replace(self, broker_url=broker_url, result_backend=result_backend)

    def to_env(self) -> dict[str, str]:
        """The environment a child worker needs to resolve the same settings."""
        env = {
            OUT_DIR_ENV: str(self.out_dir),
            "FORV_TTS_VOICE_DIR": str(self.voice_dir),
            TIME_LIMIT_ENV: str(self.time_limit_s),
            MAX_DELIVERIES_ENV: str(self.max_deliveries),
            UPLOAD_ATTEMPTS_ENV: str(self.upload_attempts),
            UPLOAD_TIMEOUT_ENV: str(self.upload_timeout_s),
            UPLOAD_BACKOFF_ENV: str(self.upload_backoff_s),
        }
        if self.broker_url:
            env[BROKER_ENV] = self.broker_url
        if self.result_backend:
            env[BACKEND_ENV] = self.result_backend
        if self.bucket:
            env[BUCKET_ENV] = self.bucket
        return env


def resolve(
    *,
    broker_url: str | None = None,
    result_backend: str | None = None,
    voice_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] | None = None,
    bucket: str | None = None,
    api_keys: list[str] | None = None,
    max_text_chars: int | None = None,
    cors_origins: list[str] | None = None,
    time_limit_s: float | None = None,
    max_deliveries: int | None = None,
    upload_attempts: int | None = None,
    upload_timeout_s: float | None = None,
    require_backend: bool = False,
) -> ServiceSettings:
    """Resolve every setting (option, environment, default) and check the URLs.

    A Redis broker doubles as the result backend when none is given. With RabbitMQ, `serve`
    (`require_backend`) needs one (`--result-backend redis://…`), because Celery's `rpc://` results are
    lost to any other process; a worker on RabbitMQ alone answers the old `gan_wav` over rpc://.
    """
    from forv_tts.settings import resolve_path
    from forv_tts.settings import voice_dir as resolve_voice_dir

    broker = broker_url or _env(BROKER_ENV)
    backend = result_backend or _env(BACKEND_ENV)
    if broker:
        check_broker(broker)
        if not backend:
            if urlsplit(broker).scheme.startswith("redis"):
                backend = broker
            elif require_backend:
                raise InvalidInputError(
                    "a RabbitMQ broker needs a result backend every API process can read: "
                    "give --result-backend redis://HOST:6379/0 (or set $FORV_TTS_RESULT_BACKEND)"
                )
    if backend:
        check_backend(backend)
    chosen_bucket = bucket or _env(BUCKET_ENV)
    if chosen_bucket:
        from forv_tts.storage.gcs import validate_bucket

        validate_bucket(chosen_bucket)
    keys = tuple(api_keys) if api_keys else _csv(_env(API_KEYS_ENV) or "")
    settings = ServiceSettings(
        broker_url=broker,
        result_backend=backend,
        voice_dir=resolve_voice_dir(voice_dir),
        out_dir=resolve_path(out_dir, OUT_DIR_ENV, Path(".")),
        bucket=chosen_bucket,
        api_keys=keys,
        max_text_chars=_pick(max_text_chars, MAX_TEXT_ENV, int, DEFAULT_MAX_TEXT),
        cors_origins=tuple(cors_origins) if cors_origins else _csv(_env(CORS_ENV) or "*"),
        time_limit_s=_pick(time_limit_s, TIME_LIMIT_ENV, float, DEFAULT_TIME_LIMIT_S),
        max_deliveries=_pick(max_deliveries, MAX_DELIVERIES_ENV, int, DEFAULT_MAX_DELIVERIES),
        upload_attempts=_pick(upload_attempts, UPLOAD_ATTEMPTS_ENV, int, DEFAULT_UPLOAD_ATTEMPTS),
        upload_timeout_s=_pick(upload_timeout_s, UPLOAD_TIMEOUT_ENV, float, DEFAULT_UPLOAD_TIMEOUT_S),
        upload_backoff_s=_pick(None, UPLOAD_BACKOFF_ENV, float, DEFAULT_UPLOAD_BACKOFF_S),
        request_timeout_s=_pick(None, REQUEST_TIMEOUT_ENV, float, DEFAULT_REQUEST_TIMEOUT_S),
        sentence_delay_s=_pick(None, SENTENCE_DELAY_ENV, float, 0.0),
    )
    if settings.max_text_chars < 1:
        raise InvalidInputError(f"invalid ${MAX_TEXT_ENV} {settings.max_text_chars}: give a positive number")
    if settings.max_deliveries < 1 or settings.upload_attempts < 1:
        raise InvalidInputError("delivery and upload attempts must be at least 1")
    return settings


def redis_client_url(url: str) -> str:
    """The redis-py form of a Celery/kombu Redis URL (`redis+socket:///path` → `unix:///path`)."""
    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        query = f"?{parts.query}" if parts.query else ""
        return f"unix://{parts.path}{query}"
    return url

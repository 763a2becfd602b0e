"""The service's settings as one value: a view over the registry (`forv_tts.settings`, where every
variable the service reads is declared beside the library's, `group="service"`). Each field resolves by
the registry's one rule (the option, then the environment variable, then the default) with its parser,
so a bad value is the same one-line error as anywhere else. The API process and the workers read the
same dataclass, so a value means the same thing on both sides.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from forv_tts import settings as registry
from forv_tts.errors import InvalidInputError

T = TypeVar("T")

BROKER_ENV = registry.BROKER_URL.env
BACKEND_ENV = registry.RESULT_BACKEND.env
HARD_LIMIT_MARGIN_S = 30.0


def _default(setting: registry.Setting[T]) -> T:
    """`setting`'s default, for the dataclass (the registry's, never a second copy)."""
    value = setting.default()
    assert value is not None, setting.env
    return value


def _get(setting: registry.Setting[T], option: Any = None) -> T:
    """`setting.get(option)` for a setting with a default (never None)."""
    value = setting.get(option)
    assert value is not None, setting.env
    return value


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
    """What the API and the workers need; build it with `resolve`. Defaults are the registry's."""

    broker_url: str | None = None
    result_backend: str | None = None
    voice_dir: Path = field(default_factory=lambda: _default(registry.VOICE_DIR))
    out_dir: Path = field(default_factory=lambda: _default(registry.OUT_DIR))
    bucket: str | None = None
    api_keys: tuple[str, ...] = _default(registry.API_KEYS)
    max_text_chars: int = _default(registry.SERVICE_MAX_TEXT_CHARS)  # per request; 0: no cap
    cors_origins: tuple[str, ...] = _default(registry.CORS_ORIGINS)
    time_limit_s: float = _default(registry.JOB_TIME_LIMIT)
    max_deliveries: int = _default(registry.MAX_DELIVERIES)
    upload_attempts: int = _default(registry.UPLOAD_ATTEMPTS)
    upload_timeout_s: float = _default(registry.UPLOAD_TIMEOUT)
    upload_backoff_s: float = _default(registry.UPLOAD_BACKOFF)
    request_timeout_s: float = _default(registry.REQUEST_TIMEOUT)
    sentence_delay_s: float = _default(registry.TEST_SENTENCE_DELAY)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hard_time_limit_s(self) -> float:
        """Celery's hard limit: the soft limit plus time to record the failure."""
        return self.time_limit_s + HARD_LIMIT_MARGIN_S

    def with_urls(self, broker_url: str, result_backend: str) -> ServiceSettings:
        """A copy pointing at another broker/backend (the embedded server's socket)."""
        return dataclasses.replace(self, broker_url=broker_url, result_backend=result_backend)

    def to_env(self) -> dict[str, str]:
        """The environment a child worker needs to resolve the same settings (process plumbing)."""
        env = {
            registry.OUT_DIR.env: str(self.out_dir),
            registry.VOICE_DIR.env: str(self.voice_dir),
            registry.JOB_TIME_LIMIT.env: str(self.time_limit_s),
            registry.MAX_DELIVERIES.env: str(self.max_deliveries),
            registry.UPLOAD_ATTEMPTS.env: str(self.upload_attempts),
            registry.UPLOAD_TIMEOUT.env: str(self.upload_timeout_s),
            registry.UPLOAD_BACKOFF.env: str(self.upload_backoff_s),
        }
        if self.broker_url:
            env[registry.BROKER_URL.env] = self.broker_url
        if self.result_backend:
            env[registry.RESULT_BACKEND.env] = self.result_backend
        if self.bucket:
            env[registry.BUCKET.env] = self.bucket
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
    broker = registry.BROKER_URL.get(broker_url)
    backend = registry.RESULT_BACKEND.get(result_backend)
    if broker:
        check_broker(broker)
        if not backend:
            if urlsplit(broker).scheme.startswith("redis"):
                backend = broker
            elif require_backend:
                raise InvalidInputError(
                    "a RabbitMQ broker needs a result backend every API process can read: "
                    f"give --result-backend redis://HOST:6379/0 (or set ${BACKEND_ENV})"
                )
    if backend:
        check_backend(backend)
    chosen_bucket = registry.bucket(bucket)
    if chosen_bucket:
        from forv_tts.storage.gcs import validate_bucket

        validate_bucket(chosen_bucket)
    return ServiceSettings(
        broker_url=broker,
        result_backend=backend,
        voice_dir=registry.voice_dir(voice_dir),
        out_dir=_get(registry.OUT_DIR, os.fspath(out_dir) if out_dir is not None else None),
        bucket=chosen_bucket,
        api_keys=tuple(api_keys) if api_keys else _get(registry.API_KEYS),
        max_text_chars=_get(registry.SERVICE_MAX_TEXT_CHARS, max_text_chars),
        cors_origins=tuple(cors_origins) if cors_origins else _get(registry.CORS_ORIGINS),
        time_limit_s=_get(registry.JOB_TIME_LIMIT, time_limit_s),
        max_deliveries=_get(registry.MAX_DELIVERIES, max_deliveries),
        upload_attempts=_get(registry.UPLOAD_ATTEMPTS, upload_attempts),
        upload_timeout_s=_get(registry.UPLOAD_TIMEOUT, upload_timeout_s),
        upload_backoff_s=_get(registry.UPLOAD_BACKOFF),
        request_timeout_s=_get(registry.REQUEST_TIMEOUT),
        sentence_delay_s=_get(registry.TEST_SENTENCE_DELAY),
    )


def redis_client_url(url: str) -> str:
    """The redis-py form of a Celery/kombu Redis URL (`redis+socket:///path` → `unix:///path`)."""
    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        query = f"?{parts.query}" if parts.query else ""
        return f"unix://{parts.path}{query}"
    return url

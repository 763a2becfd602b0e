"""The HTTP API (FastAPI): validates, queues jobs on the members' queues, and waits for them without
holding a thread (one Redis subscription wakes every waiting request).

It never synthesises: torch, coqui-tts and g2pk are imported only by workers. A request that cannot
succeed (bad JSON, wrong types, unsafe names, unknown member, nothing speakable, too long) is answered
with a 4xx JSON error naming the field, and nothing is queued. Every error goes through one table
(`service.errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import struct
import time
import uuid as _uuid
from collections.abc import AsyncIterator, Callable, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from forv_tts.errors import ForvError
from forv_tts.service import guard, names
from forv_tts.service.errors import (
    BadRequestError,
    ConflictError,
    JobTimeoutError,
    NotFoundError,
    ServiceError,
    TextTooLongError,
    UnauthorizedError,
    UnavailableError,
    code_for,
    status_for,
)
from forv_tts.service.settings import ServiceSettings, redis_client_url
from forv_tts.service.store import AsyncStore
from forv_tts.storage import naming
from forv_tts.web.routes import is_public, page_router

log = logging.getLogger(__name__)

#: Framing of the chunk list a speech job fills (see `tasks`): kept here as bytes so the API does not
#: import the worker's modules.
CHUNK_AUDIO = b"A"
CHUNK_END = b"E"
MAX_LONG_POLL_S = 60.0
MEMBERS_CACHE_S = 5.0
UNKNOWN_SIZE = 0xFFFFFFFF


# --- request bodies -------------------------------------------------------------------------------


class TextsBody(BaseModel):
    """The old server's request, unchanged."""

    model_config = ConfigDict(extra="ignore")
    uuid: StrictStr
    member_id: StrictInt | StrictStr
    text: StrictStr
    created_at: StrictStr


class JobBody(BaseModel):
    """`POST /v1/jobs`: the same fields; uuid and created_at may be left out."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr
    member_id: StrictInt | StrictStr | None = None
    uuid: StrictStr | None = None
    created_at: StrictStr | None = None


class SpeechBody(BaseModel):
    """OpenAI's `/v1/audio/speech` request; `voice` is a member id (or "builtin")."""

    model_config = ConfigDict(extra="ignore")
    input: StrictStr
    model: StrictStr = "forv-tts"
    voice: StrictStr | StrictInt = names.BUILTIN
    response_format: Literal["wav", "pcm"] = "wav"
    speed: StrictFloat | StrictInt = Field(default=1.0, ge=0.25, le=4.0)
    stream: StrictBool = False
    stream_format: Literal["audio", "sse"] | None = None


# --- helpers --------------------------------------------------------------------------------------


def error_body(code: str, message: str, field_name: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON every error answer carries."""
    err: dict[str, Any] = {"code": code, "message": message}
    if field_name is not None:
        err["field"] = field_name
    return {**extra, "error": err}


def error_response(err: BaseException, **extra: Any) -> JSONResponse:
    """An exception as its status (from the one table) and JSON body."""
    code = code_for(err)
    message = err.message if isinstance(err, ServiceError) else str(err)
    field_name = err.field if isinstance(err, ServiceError) else None
    return JSONResponse(error_body(code, message, field_name, **extra), status_code=status_for(code))


def _field(kind: str, fn: Callable[[str], str], value: str) -> str:
    try:
        return fn(value)
    except ForvError as err:
        raise BadRequestError(str(err).replace("--", ""), field=kind, code="invalid_input") from None


def wav_header(sample_rate: int, data_bytes: int | None) -> bytes:
    """A 16-bit mono PCM WAV header; `None` writes 0xFFFFFFFF sizes (length unknown: a stream)."""
    riff = UNKNOWN_SIZE if data_bytes is None else 36 + data_bytes
    data = UNKNOWN_SIZE if data_bytes is None else data_bytes
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        riff,
        b"WAVE",
        b"fmt ",
        16,
        1,
        1,
        sample_rate,
        sample_rate * 2,
        2,
        16,
        b"data",
        data,
    )


def _float(record: dict[str, str], key: str) -> float | None:
    try:
        return float(record[key])
    except (KeyError, ValueError):
        return None


@dataclass
class Metrics:
    """Prometheus metrics in a private registry (so tests can build many apps)."""

    registry: Any = None
    requests: Any = None
    job_seconds: Any = None
    failures: Any = None
    queue_depth: Any = None
    _built: bool = field(default=False)

    def build(self) -> Metrics:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.registry = CollectorRegistry()
        self.requests = Counter(
            "forv_tts_http_requests", "HTTP requests", ["method", "route", "status"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "forv_tts_job_seconds",
            "Time from queueing a job to its end, as the API saw it",
            ["kind", "state"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.failures = Counter(
            "forv_tts_job_failures",
            "Jobs answered as failed, by error code",
            ["code"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "forv_tts_queue_depth", "Messages waiting in a member's queue", ["queue"], registry=self.registry
        )
        return self


# --- the application ------------------------------------------------------------------------------


class Service:
    """State shared by the handlers: settings, backend store, Celery sender, known members."""

    def __init__(self, settings: ServiceSettings) -> None:
        assert settings.broker_url and settings.result_backend
        self.settings = settings
        self.store = AsyncStore(settings.result_backend)
        self.metrics = Metrics().build()
        self._celery: Any = None
        self._members: tuple[float, list[str]] = (0.0, [])
        self._workers: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self._broker_redis: Any = None

    @property
    def celery(self) -> Any:
        if self._celery is None:
            from forv_tts.service.celery_app import make_celery

            self._celery = make_celery(self.settings, name="forv_tts_api")
        return self._celery

    async def send(self, task: str, job_id: str, request: dict[str, Any], member: str) -> None:
        """Publish a task (kombu is blocking: run it in a worker thread, not on the event loop)."""
        import anyio

        def _send() -> None:
            self.celery.send_task(task, args=[job_id, request], task_id=job_id, queue=names.queue_for(member))

        try:
            await anyio.to_thread.run_sync(_send)
        except Exception as err:
            await self.store.update(
                job_id,
                {
                    "state": names.STATE_FAILED,
                    "error_code": "unavailable",
                    "error": f"could not queue the job: {err}",
                    "finished": repr(time.time()),
                },
            )
            raise UnavailableError(f"the broker is unreachable ({err}): try again shortly") from None

    def voice_dir_members(self) -> list[str]:
        """Members in the API's voice directory (config files only), cached for a few seconds."""
        stamp, members = self._members
        if time.monotonic() - stamp > MEMBERS_CACHE_S:
            from forv_tts.voices.layout import member_ids

            members = [names.BUILTIN, *member_ids(self.settings.voice_dir)]
            self._members = (time.monotonic(), members)
        return members

    async def live_workers(self) -> list[dict[str, Any]]:
        """Workers' heartbeats, re-read at most once a second."""
        stamp, workers = self._workers
        if time.monotonic() - stamp > 1.0:
            workers = await self.store.workers()
            self._workers = (time.monotonic(), workers)
        return workers

    async def known_members(self) -> list[str]:
        """The built-in voice, the API's voice directory, and whatever live workers serve."""
        members = list(self.voice_dir_members())
        for worker in await self.live_workers():
            for member in worker.get("members", ()):
                if member not in members:
                    members.append(member)
        return members

    async def check_member(self, value: Any, field_name: str) -> str:
        """The member id as a string, or 404 naming the ones there are."""
        member = names.BUILTIN if value is None else str(value)
        if member != names.BUILTIN:
            _field(field_name, naming.validate_member_id, member)
        known = await self.known_members()
        if member not in known:
            raise ServiceError(
                f"no member {member!r}: use one of {', '.join(known)} (GET /v1/audio/voices)",
                field=field_name,
                code="voice_not_found",
            )
        return member

    def check_text(self, text: str, field_name: str) -> str:
        """Not empty, under the cap, with something speakable in it."""
        if len(text) > self.settings.max_text_chars:
            raise TextTooLongError(
                f"{field_name} has {len(text)} characters; the limit is {self.settings.max_text_chars}: "
                "split it into several requests",
                field=field_name,
            )
        guard.check_unicode(text, field_name)
        if not text.strip():
            raise BadRequestError(f"{field_name} is empty: give Korean text to speak", field=field_name)
        if not any(ch.isalnum() for ch in text):
            raise ServiceError(
                f"nothing speakable in {field_name} {text[:40]!r}: give Korean text",
                field=field_name,
                code="nothing_to_say",
            )
        return text

    async def submit(self, task: str, job_id: str, request: dict[str, Any], *, kind: str, member: str) -> str:
        """Claim the uuid and queue the job unless it already exists; returns the claim's outcome."""
        outcome, state = await self.store.claim(job_id, request, kind=kind, member=member)
        if outcome == "conflict":
            raise ConflictError(
                f"uuid {job_id} is already used by a different request ({state}): use a new uuid",
                field="uuid",
            )
        if outcome in ("new", "requeued"):
            await self.send(task, job_id, request, member)
        return outcome

    async def wait(self, job_id: str, timeout: float, kind: str) -> dict[str, str]:
        """Wait for a job to end; record its latency and failures."""
        record = await self.store.wait(job_id, timeout)
        state = record.get("state", "")
        if state in names.FINAL_STATES:
            submitted = _float(record, "submitted")
            finished = _float(record, "finished")
            if submitted is not None and finished is not None:
                self.metrics.job_seconds.labels(kind, state).observe(max(0.0, finished - submitted))
            if state == names.STATE_FAILED:
                self.metrics.failures.labels(record.get("error_code", "failed")).inc()
        return record

    async def queue_depths(self) -> dict[str, int]:
        """Messages waiting per member queue (Redis: list lengths; RabbitMQ: passive declares)."""
        members = await self.known_members()
        queues = [names.queue_for(m) for m in members] + [names.LEGACY_QUEUE]
        broker = self.settings.broker_url or ""
        if urlsplit(broker).scheme.startswith("redis"):
            client = self._broker_client()
            pipe = client.pipeline()
            for q in queues:
                pipe.llen(q)
            lengths = await pipe.execute()
            return {q: int(n) for q, n in zip(queues, lengths, strict=True)}
        import anyio

        def _declare() -> dict[str, int]:
            out: dict[str, int] = {}
            with self.celery.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
                channel = conn.default_channel
                for q in queues:
                    try:
                        out[q] = int(channel.queue_declare(queue=q, passive=True).message_count)
                    except Exception:
                        channel = conn.channel()
            return out

        return await anyio.to_thread.run_sync(_declare)

    def _broker_client(self) -> Any:
        if self._broker_redis is None:
            import redis.asyncio as aioredis

            self._broker_redis = aioredis.Redis.from_url(
                redis_client_url(self.settings.broker_url or ""), socket_connect_timeout=2
            )
        return self._broker_redis

    async def broker_ok(self) -> bool:
        """True when the broker accepts a connection."""
        broker = self.settings.broker_url or ""
        if urlsplit(broker).scheme.startswith("redis"):
            try:
                return bool(await asyncio.wait_for(self._broker_client().ping(), timeout=2))
            except Exception:
                return False
        import anyio

        def _check() -> bool:
            try:
                with self.celery.connection_for_write() as conn:
                    conn.ensure_connection(max_retries=1, timeout=2)
                return True
            except Exception:
                return False

        return await anyio.to_thread.run_sync(_check)

    async def close(self) -> None:
        await self.store.close()
        if self._broker_redis is not None:
            await self._broker_redis.aclose()


def job_view(job_id: str, record: dict[str, str], status_url: str | None = None) -> dict[str, Any]:
    """`GET /v1/jobs/{uuid}`'s answer."""
    state = record.get("state", "unknown")
    request: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        request = json.loads(record.get("request", "{}"))
    view: dict[str, Any] = {
        "uuid": job_id,
        "state": state,
        "kind": record.get("kind"),
        "member": record.get("member"),
        "created_at": request.get("created_at"),
        "attempts": int(record.get("attempts", "0") or 0),
        "worker": record.get("worker"),
        "worker_pid": int(record["pid"]) if record.get("pid", "").isdigit() else None,
        "duration": _float(record, "duration"),
        "synthesis_seconds": _float(record, "synthesis_s"),
        "first_chunk_seconds": _float(record, "first_chunk_s"),
        "first_sentence_seconds": _float(record, "first_sentence_s"),
        "sentences": int(record["sentences"]) if record.get("sentences", "").isdigit() else None,
        "sentences_done": int(record["sentences_done"])
        if record.get("sentences_done", "").isdigit()
        else None,
        "normalized": record.get("normalized"),
        "gs_uri": record.get("uri"),
        "url": record.get("gcs_url"),
        "path": record.get("path"),
        "error": None,
    }
    submitted, finished = _float(record, "submitted"), _float(record, "finished")
    view["seconds"] = round(finished - submitted, 3) if submitted and finished else None
    if state in (names.STATE_FAILED, names.STATE_CANCELLED):
        view["error"] = {"code": record.get("error_code", "failed"), "message": record.get("error", "")}
    if status_url:
        view["status_url"] = status_url
    return view


class AuthMetricsMiddleware:
    """Pure ASGI: checks `Authorization: Bearer` (all but /healthz) and counts requests.

    Not `BaseHTTPMiddleware`, which buffers in ways that hide a streaming client's disconnect.
    """

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service
        self.keys = [k.encode() for k in service.settings.api_keys]

    def _allowed(self, scope: dict[str, Any]) -> bool:
        if not self.keys or scope.get("path") == "/healthz" or scope.get("method") == "OPTIONS":
            return True
        if is_public(scope.get("path", "")):  # the page's own files: it must load to ask for the key
            return True
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].strip()
                return any(hmac.compare_digest(token, key) for key in self.keys)
        return False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_holder = {"status": 500}

        async def counting_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        try:
            if not self._allowed(scope):
                err = UnauthorizedError(
                    "missing or wrong API key: send 'Authorization: Bearer <key>'", field="Authorization"
                )
                response = error_response(err)
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, counting_send)
                return
            await self.app(scope, receive, counting_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.service.metrics.requests.labels(
                scope.get("method", ""), path, str(status_holder["status"])
            ).inc()


def create_app(settings: ServiceSettings) -> FastAPI:
    """The FastAPI application for these settings (broker and result backend must be set)."""
    service = Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.store.start()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="forv-tts",
        summary="Korean text-to-speech with your team's own voices",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, err: ServiceError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(ForvError)
    async def _library_error(_request: Request, err: ForvError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, err: Exception) -> JSONResponse:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        if isinstance(err, RedisConnectionError | RedisTimeoutError):
            return error_response(UnavailableError(f"the result backend is unreachable ({err}): try again"))
        log.exception("unexpected error")
        return JSONResponse(
            error_body("internal_error", f"unexpected {type(err).__name__}: {err}; see the server log"), 500
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
        if (unsupported := guard.content_type_error(_request)) is not None:
            return unsupported
        errors = err.errors()
        first = errors[0] if errors else {}
        kind = str(first.get("type", ""))
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field_name = loc[0] if loc else None  # the request's field, not pydantic's union branch
        if kind == "json_invalid":
            return JSONResponse(
                error_body("invalid_json", "the body is not valid JSON: send a JSON object", None), 400
            )
        if kind in ("model_attributes_type", "dict_type") or (field_name is None and kind != "missing"):
            return JSONResponse(
                error_body("invalid_request", "the body must be a JSON object with the documented fields"),
                400,
            )
        if kind == "missing":
            message = f"{field_name or 'body'} is required"
        else:
            message = f"{field_name}: {first.get('msg', 'invalid value')}"
        return JSONResponse(
            error_body("validation_error", f"{message}; see /docs for the request's fields", field_name),
            422,
        )

    # --- endpoints ---

    @app.api_route("/healthz", methods=["GET", "HEAD"])
    async def healthz() -> dict[str, str]:
        """Alive (no dependencies checked)."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Broker and result backend reachable, and at least one live worker per member's queue."""
        broker_ok, backend_ok = await asyncio.gather(service.broker_ok(), service.store.ping())
        workers = await service.store.workers() if backend_ok else []
        served = {q for w in workers for q in w.get("queues", ())}
        # Every member in this API's voice directory needs a consumer; the built-in voice is reported,
        # not required (a GPU box may serve only members), and an API with no voice directory needs
        # at least one live worker.
        members = [m for m in service.voice_dir_members() if m != names.BUILTIN]
        missing = [m for m in members if names.queue_for(m) not in served]
        ready = broker_ok and backend_ok and bool(workers) and not missing
        body = {
            "ready": ready,
            "broker": broker_ok,
            "result_backend": backend_ok,
            "workers": len(workers),
            "members_without_worker": missing,
            "builtin_served": names.queue_for(names.BUILTIN) in served,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format: requests, job latency, queue depth, failures."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        with contextlib.suppress(Exception):
            for queue, depth in (await asyncio.wait_for(service.queue_depths(), timeout=3)).items():
                service.metrics.queue_depth.labels(queue).set(depth)
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/audio/voices")
    async def voices() -> dict[str, Any]:
        """The built-in voice and the members (same discovery as `forv-tts members`), with live workers."""
        from forv_tts.voices.layout import list_voices

        workers = await service.store.workers()
        out = []
        seen = set()
        for info in list_voices(settings.voice_dir):
            seen.add(info.id)
            queue = names.queue_for(info.id)
            out.append(
                {
                    "id": info.id,
                    "engine": info.engine,
                    "sample_rate": info.sample_rate,
                    "usable": info.usable,
                    "queue": queue,
                    "workers": sum(1 for w in workers if queue in w.get("queues", ())),
                }
            )
        for w in workers:
            for member in w.get("members", ()):
                if member not in seen:
                    seen.add(member)
                    queue = names.queue_for(member)
                    count = sum(1 for x in workers if queue in x.get("queues", ()))
                    out.append(
                        {
                            "id": member,
                            "engine": None,
                            "sample_rate": None,
                            "usable": True,
                            "queue": queue,
                            "workers": count,
                        }
                    )
        return {"voices": out}

    async def _clip_request(
        member_value: Any, text: str, uuid_value: str | None, created_value: str | None
    ) -> tuple[str, str, str, dict[str, Any]]:
        job_id = (
            _field("uuid", naming.validate_uuid, uuid_value) if uuid_value is not None else naming.new_uuid()
        )
        created = (
            _field("created_at", naming.validate_created_at, created_value)
            if created_value is not None
            else naming.today()
        )
        service.check_text(text, "text")
        member = await service.check_member(member_value, "member_id")
        request = {"kind": names.KIND_CLIP, "member": member, "text": text, "created_at": created}
        return job_id, member, created, request

    def _clip_url(request: Request, job_id: str, record: dict[str, str]) -> str | None:
        if record.get("gcs_url"):
            return record["gcs_url"]
        if record.get("path"):
            return str(request.url_for("clip_audio", name=f"{job_id}.wav"))
        return None

    @app.post("/api/texts")
    async def api_texts(body: TextsBody, request: Request) -> JSONResponse:
        """The old server's endpoint: queue the clip, answer the moment it is stored."""
        job_id, member, _created, req = await _clip_request(
            body.member_id, body.text, body.uuid, body.created_at
        )
        await service.submit(names.TASK_JOB, job_id, req, kind=names.KIND_CLIP, member=member)
        record = await service.wait(job_id, settings.request_timeout_s, names.KIND_CLIP)
        answer: dict[str, Any] = {
            "uuid": body.uuid,
            "member_id": body.member_id,
            "created_at": body.created_at,
        }
        state = record.get("state")
        if state == names.STATE_DONE:
            url = _clip_url(request, job_id, record)
            if url:
                answer["url"] = url
            if record.get("uri"):
                answer["gs_uri"] = record["uri"]
            return JSONResponse(answer)
        status_url = str(request.url_for("get_job", job_id=job_id))
        if state == names.STATE_FAILED:
            code = record.get("error_code", "failed")
            return JSONResponse(
                error_body(
                    code, record.get("error", "the job failed"), None, **answer, status_url=status_url
                ),
                status_code=status_for(code),
            )
        err = JobTimeoutError(
            f"the job is still {state or 'unknown'} after {settings.request_timeout_s:g} s: "
            f"follow it at {status_url}"
        )
        return error_response(err, **answer, status_url=status_url)

    @app.post("/v1/jobs", status_code=202)
    async def post_job(body: JobBody, request: Request) -> JSONResponse:
        """Queue a clip and answer at once with where to follow it."""
        job_id, member, _created, req = await _clip_request(
            body.member_id, body.text, body.uuid, body.created_at
        )
        outcome = await service.submit(names.TASK_JOB, job_id, req, kind=names.KIND_CLIP, member=member)
        status_url = str(request.url_for("get_job", job_id=job_id))
        record = await service.store.get(job_id)
        view = job_view(job_id, record, status_url)
        view["queued"] = outcome in ("new", "requeued")
        return JSONResponse(view, status_code=202, headers={"Location": status_url})

    @app.get("/v1/jobs/{job_id}", name="get_job")
    async def get_job(
        job_id: str,
        request: Request,
        wait: Annotated[float, Query(ge=0, le=MAX_LONG_POLL_S, description="long-poll seconds")] = 0,
    ) -> JSONResponse:
        """A job's state (queued / running / done / failed), optionally waiting up to `wait` s for its end."""
        job_id = _field("uuid", naming.validate_uuid, job_id)
        record = await service.store.wait(job_id, wait) if wait else await service.store.get(job_id)
        if not record:
            raise NotFoundError(f"no job {job_id}: queue it with POST /v1/jobs", field="uuid")
        view = job_view(job_id, record, str(request.url_for("get_job", job_id=job_id)))
        if record.get("state") == names.STATE_DONE:
            view["url"] = _clip_url(request, job_id, record)
        return JSONResponse(view)

    @app.get("/v1/audio/{name}", name="clip_audio")
    async def clip_audio(name: str) -> Response:
        """A finished clip kept under --out-dir (the set-up without a bucket)."""
        if not name.endswith(".wav"):
            raise NotFoundError(f"no audio {name!r}: ask for /v1/audio/<uuid>.wav", field="uuid")
        job_id = _field("uuid", naming.validate_uuid, name[: -len(".wav")])
        record = await service.store.get(job_id)
        path = Path(record.get("path", "")) if record.get("path") else None
        if record.get("state") != names.STATE_DONE or path is None:
            raise NotFoundError(f"no finished clip for {job_id}: check GET /v1/jobs/{job_id}", field="uuid")
        root = settings.out_dir.resolve()
        resolved = path.resolve()
        if root not in resolved.parents or not resolved.is_file():
            raise NotFoundError(f"the clip of {job_id} is not on this server's disk", field="uuid")
        return FileResponse(resolved, media_type="audio/wav", filename=resolved.name)

    @app.post("/v1/audio/speech")
    async def speech(body: SpeechBody) -> Response:
        """OpenAI-compatible speech: the audio itself; with `stream`, sentence by sentence."""
        text = service.check_text(body.input, "input")
        member = await service.check_member(body.voice, "voice")
        job_id = str(_uuid.uuid4())
        req = {"kind": names.KIND_SPEECH, "member": member, "text": text, "speed": float(body.speed)}
        await service.submit(names.TASK_SPEECH, job_id, req, kind=names.KIND_SPEECH, member=member)
        stream = body.stream or body.stream_format == "audio"
        chunk_wait = settings.request_timeout_s

        async def next_message() -> tuple[bytes, int, bytes]:
            chunk = await service.store.next_chunk(job_id, chunk_wait)
            if chunk is None:
                raise JobTimeoutError(f"no audio within {chunk_wait:g} s: check GET /v1/jobs/{job_id}")
            if chunk[:1] == CHUNK_AUDIO:
                return CHUNK_AUDIO, struct.unpack("<I", chunk[1:5])[0], chunk[5:]
            return CHUNK_END, 0, chunk[1:]

        def failure(payload: bytes) -> JSONResponse:
            end = json.loads(payload or b"{}")
            code = end.get("code") or "failed"
            return JSONResponse(
                error_body(code, end.get("error") or "synthesis failed", None, uuid=job_id),
                status_code=status_for(code),
            )

        try:
            kind, rate, data = await next_message()
        except JobTimeoutError:
            await service.store.cancel(job_id)
            raise
        if kind == CHUNK_END:
            return failure(data)
        media = "audio/wav" if body.response_format == "wav" else "audio/pcm"
        headers = {"X-Job-Id": job_id, "X-Sample-Rate": str(rate)}

        if not stream:
            parts = [data]
            while True:
                kind, _rate, more = await next_message()
                if kind == CHUNK_END:
                    end = json.loads(more or b"{}")
                    if end.get("state") != names.STATE_DONE:
                        return failure(more)
                    break
                parts.append(more)
            pcm = b"".join(parts)
            payload = (wav_header(rate, len(pcm)) + pcm) if body.response_format == "wav" else pcm
            await service.wait(job_id, 0, names.KIND_SPEECH)
            return Response(payload, media_type=media, headers=headers)

        async def audio() -> AsyncIterator[bytes]:
            finished = False
            try:
                yield (wav_header(rate, None) + data) if body.response_format == "wav" else data
                while True:
                    kind, _rate, more = await next_message()
                    if kind == CHUNK_END:
                        finished = True
                        return
                    yield more
            finally:
                if not finished:
                    # The client went away (or the wait ran out): stop the worker at its next sentence.
                    await asyncio.shield(_abandon(job_id))

        return StreamingResponse(audio(), media_type=media, headers=headers)

    async def _abandon(job_id: str) -> None:
        with contextlib.suppress(Exception):
            await service.store.cancel(job_id)
            await service.store.drop_chunks(job_id)

    app.include_router(page_router(service.check_text, settings.voice_dir))  # the page, /v1/normalize
    guard.install(app)  # body and connection limits, every error in our shape (inside the auth middleware)
    # Added last = outermost: CORS headers also go on a 401.
    app.add_middleware(AuthMetricsMiddleware, service=service)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["*"],
        allow_headers=["*"],
    )
    return app

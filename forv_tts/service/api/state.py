"""The state every route shares: settings, the result backend's store, the Celery sender, the members
known to this API and its Prometheus metrics; and the checks every request's text and member go through."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from forv_tts.service import guard, names
from forv_tts.service.api.schemas import check_field, record_float
from forv_tts.service.errors import (
    BadRequestError,
    ConflictError,
    ServiceError,
    TextTooLongError,
    UnavailableError,
)
from forv_tts.service.settings import ServiceSettings, redis_client_url
from forv_tts.service.store import AsyncStore
from forv_tts.storage import naming

MEMBERS_CACHE_S = 5.0


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
        self._celery_lock = threading.RLock()
        self._sent_once = False
        self._members: tuple[float, list[str]] = (0.0, [])
        self._workers: tuple[float, list[dict[str, Any]]] = (0.0, [])
        self._broker_redis: Any = None

    @property
    def celery(self) -> Any:
        if self._celery is None:
            with self._celery_lock:
                if self._celery is None:
                    from forv_tts.service.celery_app import make_celery

                    self._celery = make_celery(self.settings, name="forv_tts_api")
        return self._celery

    def _send_task(self, task: str, job_id: str, request: dict[str, Any], member: str) -> None:
        """Publish, the first time under a lock: Celery and kombu import and build their parts lazily on
        first use, and concurrent first sends from worker threads raised ImportError (partially
        initialised modules) in 19 of 20 fresh API processes."""
        args = {"args": [job_id, request], "task_id": job_id, "queue": names.queue_for(member)}
        if self._sent_once:
            self.celery.send_task(task, **args)
            return
        with self._celery_lock:
            self.celery.send_task(task, **args)
            self._sent_once = True

    async def send(self, task: str, job_id: str, request: dict[str, Any], member: str) -> None:
        """Publish a task (kombu is blocking: run it in a worker thread, not on the event loop)."""
        import anyio

        def _send() -> None:
            self._send_task(task, job_id, request, member)

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
            check_field(field_name, naming.validate_member_id, member)
        known = await self.known_members()
        if member not in known:
            raise ServiceError(
                f"no member {member!r}: use one of {', '.join(known)} (GET /v1/audio/voices)",
                field=field_name,
                code="unknown_member",
            )
        return member

    def check_text(self, text: str, field_name: str) -> str:
        """Not empty, under the cap, with something speakable in it."""
        cap = self.settings.max_text_chars  # 0: no cap but the body's (FORV_TTS_MAX_BODY_BYTES)
        if cap and len(text) > cap:
            raise TextTooLongError(
                f"{field_name} has {len(text)} characters; the limit is {cap}: "
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

    async def clip_request(
        self, member_value: Any, text: str, uuid_value: str | None, created_value: str | None
    ) -> tuple[str, str, dict[str, Any]]:
        """A clip request checked (`/api/texts` and `POST /v1/jobs`): its uuid (a new one when left
        out), member, and the request the worker gets."""
        job_id = (
            check_field("uuid", naming.validate_uuid, uuid_value)
            if uuid_value is not None
            else naming.new_uuid()
        )
        created = (
            check_field("created_at", naming.validate_created_at, created_value)
            if created_value is not None
            else naming.today()
        )
        self.check_text(text, "text")
        member = await self.check_member(member_value, "member_id")
        return job_id, member, names.clip_request(member, text, created)

    async def require_worker(self, member: str, job_id: str | None = None) -> None:
        """A 503 at once when no live worker consumes the member's queue: a request that waits for the
        job would otherwise wait its whole timeout (600 s) for nothing. A job already done needs none."""
        queue = names.queue_for(member)
        if any(queue in w.get("queues", ()) for w in await self.live_workers()):
            return
        if job_id is not None and (await self.store.get(job_id)).get("state") == names.STATE_DONE:
            return
        raise UnavailableError(
            f"no worker serves member {member!r} (queue {queue}) now: start one (forv-tts worker --members "
            f"{member}), or queue the clip with POST /v1/jobs, which waits for a worker",
            code="no_worker",
        )

    def check_no_other_clip(self, job_id: str, request: dict[str, Any]) -> None:
        """A uuid names one clip forever (`jobs.item.check_no_other_clip`, what every worker checks
        too): a clip under this server's --out-dir named by the uuid for another member or date is a
        409 before anything is queued. The same name is the worker's to judge: the same request makes
        the same bytes (a success), other bytes are a 409 from the worker."""
        from forv_tts.jobs.item import check_no_other_clip

        name = naming.ClipName(request["member"], job_id, request["created_at"])
        out_dir = self.settings.out_dir
        check_no_other_clip(name, out_dir, name.path_under(out_dir))

    async def submit(self, task: str, job_id: str, request: dict[str, Any], *, kind: str, member: str) -> str:
        """Claim the uuid and queue the job unless it already exists; returns the claim's outcome."""
        if kind == names.KIND_CLIP and not await self.store.get(job_id):
            self.check_no_other_clip(job_id, request)
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
            submitted = record_float(record, "submitted")
            finished = record_float(record, "finished")
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

"""Job records, audio chunk streams and worker heartbeats, kept in the result backend (Redis).

Why our own record next to Celery's result: Celery's states cannot tell "queued" from "unknown", carry no
duration, URL or error code, and cannot say a job was already done when its message is delivered again.
The record is one hash per job id (the request's uuid), changed by two atomic scripts:

- `claim` (API, or a worker for a legacy `gan_wav` nobody claimed): a new uuid becomes a queued job; the
  same uuid with the same request joins the existing job (never synthesised twice); a different request
  under the uuid is a conflict (unless that job failed `conflict`: refused because the uuid names another
  clip, it never held the uuid); a failed or cancelled job is queued again.
- `begin` (worker, on every delivery): a finished job is skipped; otherwise the delivery count goes up and
  past `max_deliveries` (a job that keeps killing its worker) the job ends failed instead of running.

Every state change is published on one channel, so an API process waits for a job with one subscription
for all its requests instead of polling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from forv_tts.service import names

log = logging.getLogger(__name__)

RECORD_TTL_S = 7 * 24 * 3600
CHUNKS_TTL_S = 600
HEARTBEAT_TTL_S = 15.0
HEARTBEAT_EVERY_S = 3.0
MAX_API_CONNECTIONS = 256
#: The longest single blocking read the API makes (see `AsyncStore.next_chunk`).
BLOCK_SLICE_S = 2.0

CLAIM_LUA = """
local k = KEYS[1]
local req = redis.call('HGET', k, 'request')
if not req then
  redis.call('HSET', k, 'request', ARGV[1], 'state', 'queued', 'submitted', ARGV[2], 'kind', ARGV[3],
             'member', ARGV[4], 'attempts', '0')
  redis.call('EXPIRE', k, tonumber(ARGV[5]))
  return {'new', 'queued'}
end
if req ~= ARGV[1] then
  local was = redis.call('HGET', k, 'state')
  if was == 'failed' and redis.call('HGET', k, 'error_code') == 'conflict' then
    -- refused because the uuid names another clip: that request never held the uuid, this one may
    redis.call('DEL', k)
    redis.call('HSET', k, 'request', ARGV[1], 'state', 'queued', 'submitted', ARGV[2], 'kind', ARGV[3],
               'member', ARGV[4], 'attempts', '0')
    redis.call('EXPIRE', k, tonumber(ARGV[5]))
    return {'new', 'queued'}
  end
  return {'conflict', was}
end
local st = redis.call('HGET', k, 'state')
if st == 'failed' or st == 'cancelled' then
  redis.call('HDEL', k, 'error', 'error_code', 'error_field', 'finished', 'started', 'worker', 'pid')
  redis.call('HSET', k, 'state', 'queued', 'attempts', '0', 'submitted', ARGV[2])
  redis.call('EXPIRE', k, tonumber(ARGV[5]))
  return {'requeued', 'queued'}
end
return {'existing', st}
"""

BEGIN_LUA = """
local k = KEYS[1]
local st = redis.call('HGET', k, 'state')
if not st then return {'missing', '0'} end
if st == 'done' or st == 'failed' or st == 'cancelled' then return {'skip', st} end
local n = redis.call('HINCRBY', k, 'attempts', 1)
if n > tonumber(ARGV[4]) then
  redis.call('HSET', k, 'state', 'failed', 'error_code', 'worker_lost', 'finished', ARGV[3],
    'error', 'the worker running this job was lost ' .. (n - 1) .. ' times (killed, crashed or out of ' ..
    'memory); not retried again: check the worker logs for ' .. (redis.call('HGET', k, 'worker') or '?'))
  return {'poison', tostring(n)}
end
redis.call('HSET', k, 'state', 'running', 'started', ARGV[3], 'worker', ARGV[1], 'pid', ARGV[2])
return {'run', tostring(n)}
"""


def request_json(request: Mapping[str, Any]) -> str:
    """Canonical form of a request: two requests are the same job when these strings are equal."""
    return json.dumps(dict(request), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def decode(raw: Mapping[Any, Any]) -> dict[str, str]:
    """A hash as read by redis-py (bytes) as a str dict."""
    out: dict[str, str] = {}
    for key, value in raw.items():
        k = key.decode() if isinstance(key, bytes) else str(key)
        out[k] = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return out


def _pair(result: Any) -> tuple[str, str]:
    first, second = result
    return (
        first.decode() if isinstance(first, bytes) else str(first),
        second.decode() if isinstance(second, bytes) else str(second),
    )


def _flat(fields: Mapping[str, Any]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items() if v is not None}


class SyncStore:
    """The worker's side (redis-py, blocking)."""

    def __init__(self, url: str) -> None:
        import redis

        from forv_tts.service.settings import redis_client_url

        self.redis = redis.Redis.from_url(
            redis_client_url(url), socket_timeout=10, socket_connect_timeout=5, health_check_interval=15
        )
        self._claim = self.redis.register_script(CLAIM_LUA)
        self._begin = self.redis.register_script(BEGIN_LUA)

    def claim(self, job_id: str, request: Mapping[str, Any], *, kind: str, member: str) -> tuple[str, str]:
        """See the module docstring: ('new'|'requeued'|'existing'|'conflict', state)."""
        result = self._claim(
            keys=[names.job_key(job_id)],
            args=[request_json(request), repr(time.time()), kind, member, RECORD_TTL_S],
        )
        return _pair(result)

    def begin(self, job_id: str, *, worker: str, pid: int, max_deliveries: int) -> tuple[str, int | str]:
        """('run', delivery) / ('skip', state) / ('poison', delivery) / ('missing', 0)."""
        action, value = _pair(
            self._begin(keys=[names.job_key(job_id)], args=[worker, pid, repr(time.time()), max_deliveries])
        )
        self.publish(job_id)
        return action, (int(value) if action in ("run", "poison", "missing") else value)

    def get(self, job_id: str) -> dict[str, str]:
        """The record (empty when unknown)."""
        return decode(self.redis.hgetall(names.job_key(job_id)))

    def update(self, job_id: str, fields: Mapping[str, Any], *, publish: bool = True) -> None:
        """Set fields (JSON-encoding non-strings) and tell waiting API processes."""
        flat = _flat(fields)
        if flat:
            self.redis.hset(names.job_key(job_id), mapping=flat)  # type: ignore[arg-type]
        if publish:
            self.publish(job_id)

    def publish(self, job_id: str) -> None:
        """Wake every API process waiting on this job."""
        self.redis.publish(names.EVENTS_CHANNEL, job_id)

    def push_chunk(self, job_id: str, chunk: bytes) -> None:
        """Append one chunk of a speech job's stream (framed by `names.audio_frame` / `names.end_frame`)."""
        key = names.chunks_key(job_id)
        pipe = self.redis.pipeline()
        pipe.rpush(key, chunk)
        pipe.expire(key, CHUNKS_TTL_S)
        pipe.execute()

    def cancelled(self, job_id: str) -> bool:
        """True once the API marked the job's client as gone."""
        return bool(self.redis.exists(names.cancel_key(job_id)))

    def heartbeat(self, name: str, info: Mapping[str, Any]) -> None:
        """Say this worker is alive and which queues it consumes."""
        payload = json.dumps({**info, "ts": time.time()})
        self.redis.set(names.worker_key(name), payload, ex=int(HEARTBEAT_TTL_S))

    def forget_worker(self, name: str) -> None:
        """Remove this worker's heartbeat at a clean shutdown."""
        self.redis.delete(names.worker_key(name))


class AsyncStore:
    """The API's side (redis.asyncio): no thread is held while a request waits."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        from forv_tts.service.settings import redis_client_url

        self.url = url
        # A blocking pool: under a burst, a request waits for a free connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            redis_client_url(url),
            max_connections=MAX_API_CONNECTIONS,
            timeout=30,
            socket_connect_timeout=5,
            health_check_interval=15,
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self._claim = self.redis.register_script(CLAIM_LUA)
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start the one subscription that wakes waiting requests."""
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen(), name="forv-tts-events")

    async def close(self) -> None:
        """Stop listening and close connections."""
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None
        await self.redis.aclose()

    async def _listen(self) -> None:
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(names.EVENTS_CHANNEL)
                self._wake_all()  # anything that changed while we were not subscribed
                async for message in pubsub.listen():
                    data = message.get("data")
                    job_id = data.decode() if isinstance(data, bytes) else str(data)
                    for event in self._waiters.get(job_id, ()):
                        event.set()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                log.warning("lost the result backend's event channel (%s); reconnecting", err)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _wake_all(self) -> None:
        for events in self._waiters.values():
            for event in events:
                event.set()

    async def ping(self) -> bool:
        """True when the backend answers."""
        try:
            return bool(await asyncio.wait_for(self.redis.ping(), timeout=2))
        except Exception:
            return False

    async def claim(
        self, job_id: str, request: Mapping[str, Any], *, kind: str, member: str
    ) -> tuple[str, str]:
        """See `SyncStore.claim`."""
        result = await self._claim(
            keys=[names.job_key(job_id)],
            args=[request_json(request), repr(time.time()), kind, member, RECORD_TTL_S],
        )
        return _pair(result)

    async def get(self, job_id: str) -> dict[str, str]:
        """The record (empty when unknown)."""
        return decode(await self.redis.hgetall(names.job_key(job_id)))

    async def update(self, job_id: str, fields: Mapping[str, Any]) -> None:
        """Set fields and publish the change."""
        flat = _flat(fields)
        if flat:
            await self.redis.hset(names.job_key(job_id), mapping=flat)  # type: ignore[arg-type]
        await self.redis.publish(names.EVENTS_CHANNEL, job_id)

    async def wait(self, job_id: str, timeout: float) -> dict[str, str]:
        """The record once the job is done, failed or cancelled, or as it is when `timeout` runs out.

        Woken by the worker's event; re-reads once a second too, so a missed event (the backend restarted)
        costs at most a second.
        """
        event = asyncio.Event()
        self._waiters.setdefault(job_id, set()).add(event)
        deadline = time.monotonic() + max(0.0, timeout)
        try:
            while True:
                record = await self.get(job_id)
                left = deadline - time.monotonic()
                if not record or record.get("state") in names.FINAL_STATES or left <= 0:
                    return record
                event.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(event.wait(), timeout=min(left, 1.0))
        finally:
            waiters = self._waiters.get(job_id)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[job_id]

    async def next_chunk(self, job_id: str, timeout: float) -> bytes | None:
        """The next chunk of a speech job's stream, or None after `timeout` seconds with none.

        Blocks in slices of `BLOCK_SLICE_S`, under the client's socket timeout (redis-py's default is
        5 s): one long BLPOP was cut by it, so a wait over 5 s for a sentence answered a false 503 or cut
        the stream. Between slices the job's record is read: a job that ended without its end-of-stream
        chunk (failed before it ran, a worker gone) ends the stream with the record's reason.
        """
        key = names.chunks_key(job_id)
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            left = deadline - time.monotonic()
            result = await self.redis.blpop([key], timeout=max(0.01, min(left, BLOCK_SLICE_S)))
            if result is not None:
                value = result[1]
                return value if isinstance(value, bytes) else str(value).encode()
            record = await self.get(job_id)
            if record.get("state") in names.FINAL_STATES and not await self.redis.llen(key):
                end = {
                    "state": record["state"],
                    "code": record.get("error_code"),
                    "error": record.get("error"),
                }
                return names.end_frame(end)
            if deadline - time.monotonic() <= 0:
                return None

    async def cancel(self, job_id: str) -> None:
        """Tell the worker the client is gone."""
        await self.redis.set(names.cancel_key(job_id), b"1", ex=CHUNKS_TTL_S)

    async def drop_chunks(self, job_id: str) -> None:
        """Forget what a cancelled stream left behind."""
        await self.redis.delete(names.chunks_key(job_id))

    async def workers(self) -> list[dict[str, Any]]:
        """Heartbeats of the workers alive now."""
        out: list[dict[str, Any]] = []
        keys = [key async for key in self.redis.scan_iter(match=names.worker_key("*"), count=100)]
        if not keys:
            return out
        for raw in await self.redis.mget(keys):
            if raw is None:
                continue
            with contextlib.suppress(ValueError):
                out.append(json.loads(raw))
        return out

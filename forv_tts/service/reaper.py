"""Jobs whose worker is gone go back to their queue within seconds, not after the broker's visibility
timeout.

With a Redis broker, kombu keeps a message it handed out in its `unacked` hash and gives it back only
after `visibility_timeout` (an hour here, so a long job is not handed out twice). A worker SIGKILLed
whole (pool and all) never rejects it: its jobs sat "running" for that hour. Workers already beat a
heartbeat (a key with a 15-s TTL) and every job record names the worker running it, so each worker's
heartbeat thread also looks, every few seconds, for unacknowledged messages whose job is running on a
worker with no heartbeat, and restores them with kombu's own `restore_by_tag` (atomic: two reapers
never requeue one message twice). The redelivery then counts against `FORV_TTS_MAX_DELIVERIES` as any
other. RabbitMQ needs none of this: it redelivers the moment the dead worker's connection closes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from typing import Any

from forv_tts.service import names
from forv_tts.service.store import HEARTBEAT_TTL_S, SyncStore

log = logging.getLogger(__name__)

REAP_EVERY_S = 3.0
#: Record fields a worker's main process sets when it receives a job's message (`mark_received`).
HELD_BY = "held_by"
HELD_SINCE = "held_since"
MARK_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'held_by', ARGV[1], 'held_since', ARGV[2])
end
return 0
"""


def mark_received(store: SyncStore, job_id: str, worker: str) -> None:
    """Note which worker holds a job's message before it runs (a prefetched message of a worker that
    dies is otherwise nobody's)."""
    store.redis.eval(MARK_LUA, 1, names.job_key(job_id), worker, repr(time.time()))


#: The record goes back to queued only if it still names the dead worker (a redelivery may have begun).
REQUEUE_LUA = """
local k = KEYS[1]
if redis.call('HGET', k, 'state') == 'running' and redis.call('HGET', k, 'worker') == ARGV[1] then
  redis.call('HSET', k, 'state', 'queued', 'requeued', ARGV[2])
  redis.call('HDEL', k, 'held_by', 'held_since')
  return 1
end
return 0
"""


def _job_id(raw: bytes | str) -> str | None:
    try:
        payload = json.loads(raw)[0]
        return str(payload["headers"]["id"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def reap(channel: Any, store: SyncStore, *, now: float | None = None) -> list[str]:
    """Restore the messages of jobs running on a worker with no heartbeat; the job ids restored."""
    now = time.time() if now is None else now
    client = channel.client
    restored: list[str] = []
    for tag, raw in client.hgetall(channel.unacked_key).items():
        job_id = _job_id(raw)
        if job_id is None:
            continue
        record = store.get(job_id)
        state = record.get("state")
        # Running on a worker, or received by one (prefetched) and not begun yet when it died.
        worker = record.get("worker") if state == names.STATE_RUNNING else record.get(HELD_BY)
        if state not in (names.STATE_RUNNING, names.STATE_QUEUED) or not worker:
            continue
        try:
            since = float(record.get("started" if state == names.STATE_RUNNING else HELD_SINCE, "0"))
        except ValueError:
            since = 0.0
        if now - since < HEARTBEAT_TTL_S or store.redis.exists(names.worker_key(worker)):
            continue
        channel.qos.restore_by_tag(tag, leftmost=True)
        if state == names.STATE_QUEUED:
            store.redis.hdel(names.job_key(job_id), HELD_BY, HELD_SINCE)
            store.publish(job_id)
            log.warning("job %s requeued: worker %s took it and was lost before starting it", job_id, worker)
            restored.append(job_id)
            continue
        reason = f"worker {worker} (pid {record.get('pid', '?')}) lost: its heartbeat stopped"
        store.redis.eval(REQUEUE_LUA, 1, names.job_key(job_id), worker, reason)
        store.publish(job_id)
        log.warning("job %s requeued: %s", job_id, reason)
        restored.append(job_id)
    return restored


class Reaper:
    """One broker connection for a worker's heartbeat thread; `tick` reaps at most every REAP_EVERY_S."""

    def __init__(self, app: Any, store: SyncStore) -> None:
        self.app = app
        self.store = store
        self._conn: Any = None
        self._last = 0.0

    def tick(self) -> None:
        if time.monotonic() - self._last < REAP_EVERY_S:
            return
        self._last = time.monotonic()
        try:
            if self._conn is None:
                self._conn = self.app.connection_for_write()
            reap(self._conn.default_channel, self.store)
        except Exception as err:  # the broker may be restarting: try again next tick
            log.warning("could not look for jobs of lost workers: %s", err)
            self.close()

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.release()
            self._conn = None

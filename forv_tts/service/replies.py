"""Results where the caller looks: `gan_wav` answers on Celery's rpc:// reply queue and in Redis.

A Celery client picks its result backend itself and the task message does not say which one: every
message carries `reply_to` (the client's reply queue) and `correlation_id` (the task id). A client on
`rpc://`, as the old app's `celery_app.py`, declared that queue before sending and polls it; a client on
Redis polls `celery-task-meta-<id>` there. So the legacy task's backend does both:

- the worker's Redis result backend, when it has one (the same store as every other task);
- an rpc reply to `reply_to`, exactly as Celery's own `RPCBackend` sends it, when the broker is RabbitMQ.
  A reply to a client that uses Redis has no queue to land in, and RabbitMQ's default exchange drops an
  unroutable message, so it costs one publish and leaves nothing behind. On a Redis broker no rpc reply
  is sent: kombu's Redis transport would keep it in a list that nobody reads.

Only the worker imports this module (Celery is imported at the top).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from celery.backends.rpc import RPCBackend

AMQP_SCHEMES = ("amqp", "amqps", "pyamqp")


def replies_over_rpc(broker_url: str | None) -> bool:
    """True when rpc:// replies can reach a caller on this broker (RabbitMQ)."""
    return bool(broker_url) and urlsplit(broker_url or "").scheme in AMQP_SCHEMES


class LegacyReplies(RPCBackend):
    """Celery's rpc backend that also stores every result in the app's own backend (Redis), if any.

    The worker's trace calls `store_result` (through `mark_as_done`, `mark_as_failure`, ...) once per
    outcome; both destinations get the same state, so an rpc caller's `.ready()` turns true on success
    and on failure alike.
    """

    def __init__(self, app: Any, *, rpc: bool, store: bool, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._rpc = rpc
        self._store = store

    def store_result(
        self,
        task_id: str,
        result: Any,
        state: str,
        traceback: Any = None,
        request: Any = None,
        **kwargs: Any,
    ) -> Any:
        if self._store:  # the app's backend, resolved in the process that runs the task (after fork)
            self.app.backend.store_result(
                task_id, result, state, traceback=traceback, request=request, **kwargs
            )
        if self._rpc:
            super().store_result(task_id, result, state, traceback=traceback, request=request, **kwargs)
        return result

    def __reduce__(self, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> Any:
        return (_rebuild, (self.app, self._rpc, self._store))


def _rebuild(app: Any, rpc: bool, store: bool) -> LegacyReplies:
    return LegacyReplies(app, rpc=rpc, store=store)


def legacy_backend(app: Any, *, broker_url: str | None, result_backend: str | None) -> LegacyReplies:
    """The backend `gan_wav` answers through on this worker."""
    return LegacyReplies(app, rpc=replies_over_rpc(broker_url), store=bool(result_backend))

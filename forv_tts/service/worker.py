"""`forv-tts worker`: a real Celery worker (prefork pool) consuming per-member queues.

Each pool process loads a member the first time a job needs it and keeps it (the process's voice
registry, as `forv_tts.load_voice`). The main process beats a heartbeat into the result backend every
few seconds naming its queues, which is how `/readyz` knows each member has a consumer. `--members all`
also consumes Celery's default queue, where the old app's `gan_wav` arrives.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from forv_tts.errors import InvalidInputError
from forv_tts.service import names
from forv_tts.service.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerPlan:
    """What a worker consumes."""

    members: tuple[str, ...]
    queues: tuple[str, ...]
    concurrency: int


def cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def plan(settings: ServiceSettings, members: str | None, concurrency: int | None) -> WorkerPlan:
    """Resolve `--members 1,2|all` against the voice directory and `--concurrency` (default: cores)."""
    from forv_tts.voices.layout import member_ids

    wanted = (members or "all").strip()
    if wanted == "all":
        chosen = [names.BUILTIN, *member_ids(settings.voice_dir)]
        queues = [names.queue_for(m) for m in chosen] + [names.LEGACY_QUEUE]
    else:
        chosen = [m.strip() for m in wanted.split(",") if m.strip()]
        if not chosen:
            raise InvalidInputError("--members is empty: give member ids such as 1,2, or all")
        from forv_tts.service.tasks import voice_info

        for member in chosen:
            voice_info(member, settings)  # VoiceNotFoundError naming the available ids
        queues = [names.queue_for(m) for m in chosen]
    n = concurrency if concurrency is not None else cores()
    if n < 1:
        raise InvalidInputError(f"invalid --concurrency {n}: give 1 or more")
    return WorkerPlan(members=tuple(chosen), queues=tuple(queues), concurrency=n)


def _heartbeat(stop: threading.Event, name: str, info: dict[str, Any], backend: str, app: Any = None) -> None:
    """Beat every few seconds; with a Redis broker (`app` given) also requeue lost workers' jobs."""
    from forv_tts.service.reaper import Reaper
    from forv_tts.service.store import HEARTBEAT_EVERY_S, SyncStore

    store = SyncStore(backend)
    reaper = Reaper(app, store) if app is not None else None
    while not stop.is_set():
        try:
            store.heartbeat(name, info)
        except Exception as err:  # the backend may be restarting: keep beating
            log.warning("heartbeat failed: %s", err)
        if reaper is not None:
            reaper.tick()
        stop.wait(min(HEARTBEAT_EVERY_S, 1.0) if reaper is not None else HEARTBEAT_EVERY_S)
    if reaper is not None:
        reaper.close()
    with contextlib.suppress(Exception):
        store.forget_worker(name)


def run(
    settings: ServiceSettings, worker_plan: WorkerPlan, *, loglevel: str = "INFO", name: str | None = None
) -> None:
    """Run the worker in this process until it is told to stop (SIGTERM: warm shutdown)."""
    from celery import signals

    from forv_tts._process import startup
    from forv_tts.service import tasks
    from forv_tts.service.celery_app import make_celery

    if not settings.broker_url:
        raise InvalidInputError(
            "a worker needs a broker: give --broker amqp://… (or set $FORV_TTS_BROKER_URL)"
        )
    if not settings.result_backend:
        # RabbitMQ alone, as the old deployment: the old app's gan_wav is answered over rpc://; what
        # keeps state between processes has nowhere to keep it. Said once, now, not as a crash later.
        log.warning(
            "no --result-backend: serving gan_wav (results over rpc://); /v1 job records, streaming and "
            "/readyz heartbeats need a Redis-compatible store (--result-backend redis://HOST:6379/0)"
        )
    tasks.configure(settings)
    startup.want_synthesis_threads(cores() // worker_plan.concurrency)
    app = make_celery(settings)
    tasks.register(app)
    hostname = name or f"forv-tts@{socket.gethostname()}.{os.getpid()}"
    stop = threading.Event()
    info = {
        "name": hostname,
        "queues": list(worker_plan.queues),
        "members": list(worker_plan.members),
        "concurrency": worker_plan.concurrency,
        "pid": os.getpid(),
    }

    @signals.worker_process_init.connect(weak=False)
    def _child_init(**_: Any) -> None:
        tasks.warm_up()
        tasks.configure(settings)  # a fresh backend connection in each pool process

    redis_broker = urlsplit(settings.broker_url or "").scheme.startswith("redis")

    @signals.worker_ready.connect(weak=False)
    def _ready(**_: Any) -> None:
        if not settings.result_backend:
            return
        threading.Thread(
            target=_heartbeat,
            args=(stop, hostname, info, settings.result_backend, app if redis_broker else None),
            daemon=True,
            name="forv-tts-heartbeat",
        ).start()

    marker: list[Any] = []

    @signals.task_received.connect(weak=False)
    def _received(request: Any = None, **_: Any) -> None:
        if not redis_broker or not settings.result_backend or request is None:
            return
        from forv_tts.service.reaper import mark_received
        from forv_tts.service.store import SyncStore

        try:
            if not marker:
                marker.append(SyncStore(settings.result_backend))
            mark_received(marker[0], str(request.id), hostname)
        except Exception as err:  # the backend may be restarting: the visibility timeout is the backstop
            log.warning("could not mark job %s as received: %s", getattr(request, "id", "?"), err)

    @signals.worker_shutting_down.connect(weak=False)
    def _stopping(**_: Any) -> None:
        stop.set()

    log.info(
        "worker %s consuming %s with %d processes",
        hostname,
        ",".join(worker_plan.queues),
        worker_plan.concurrency,
    )
    app.worker_main(
        [
            "worker",
            "--queues",
            ",".join(worker_plan.queues),
            "--concurrency",
            str(worker_plan.concurrency),
            "--pool",
            "prefork",
            "--hostname",
            hostname,
            "--loglevel",
            loglevel,
            "--without-gossip",
            "--without-mingle",
        ]
    )
    stop.set()

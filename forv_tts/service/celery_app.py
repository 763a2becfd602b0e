"""The Celery app both sides use: the API only sends tasks by name, workers also register them (`tasks`).

The settings that make it safe, and why:

- `task_acks_late` + `task_reject_on_worker_lost`: a message is acknowledged after the job, so a worker
  killed mid-job hands it back to the broker and another delivery runs it (the old app lost it).
- `worker_prefetch_multiplier=1`: a busy worker does not sit on jobs another could run.
- soft/hard time limits: a stuck job ends failed with a reason, then its process is replaced.
- the job record's delivery count (`store.BEGIN_LUA`) bounds redeliveries: a job that keeps killing its
  worker ends failed instead of looping.
- a Redis result backend that every API process can read (never `rpc://`); a worker on RabbitMQ alone
  has none, and answers the old app's `gan_wav` over rpc:// (`replies`).
- `visibility_timeout` (Redis broker) above the hard limit, so a long job is not handed out twice.
- `worker_cancel_long_running_tasks_on_connection_loss`: a job whose message the broker will redeliver
  after a broker restart is stopped rather than run twice at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from forv_tts.service import names
from forv_tts.service.settings import ServiceSettings

if TYPE_CHECKING:
    from celery import Celery


def config(settings: ServiceSettings) -> dict[str, Any]:
    """Celery configuration for these settings (no result backend: a worker on RabbitMQ alone)."""
    assert settings.broker_url
    hard = settings.hard_time_limit_s
    conf: dict[str, Any] = {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "task_acks_on_failure_or_timeout": True,
        "worker_prefetch_multiplier": 1,
        "task_soft_time_limit": settings.time_limit_s,
        "task_time_limit": hard,
        "task_default_queue": names.LEGACY_QUEUE,
        "task_create_missing_queues": True,
        "result_expires": 7 * 24 * 3600,
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "task_publish_retry": True,
        # A broker restart takes RabbitMQ a few seconds: keep trying to publish for about 30 s.
        "task_publish_retry_policy": {
            "max_retries": 40,
            "interval_start": 0.1,
            "interval_step": 0.25,
            "interval_max": 1.0,
        },
        "worker_hijack_root_logger": False,
        "worker_redirect_stdouts": False,
        "worker_send_task_events": False,
        "broker_heartbeat": 10,
    }
    if urlsplit(settings.broker_url).scheme.startswith("redis"):
        conf["broker_transport_options"] = {"visibility_timeout": max(3600, int(2 * hard))}
    conf["result_backend_transport_options"] = {"retry_policy": {"timeout": 30.0}}
    return conf


def make_celery(settings: ServiceSettings, *, name: str = "forv_tts") -> Celery:
    """A Celery app on the settings' broker and backend (tasks are added by `tasks.register`)."""
    from celery import Celery

    app = Celery(name)
    app.conf.update(config(settings))
    return app

"""The HTTP API (FastAPI): validates, queues jobs on the members' queues, and waits for them without
holding a thread (one Redis subscription wakes every waiting request).

It never synthesises: torch, coqui-tts and g2pk are imported only by workers. A request that cannot
succeed (bad JSON, wrong types, unsafe names, unknown member, nothing speakable, too long) is answered
with a 4xx JSON error naming the field, and nothing is queued. Every error goes through one table
(`service.errors`).

Where to look:

- `schemas`: request bodies, the error body, the job view (what goes over the wire).
- `state`: `Service`, what the routes share (settings, store, Celery sender, members, metrics) and the
  checks of a request's text and member.
- `app`: `create_app`, the error handlers and the middleware (API keys, metrics, CORS).
- `routes.health`, `routes.speech`, `routes.clips`, `routes.jobs`: the endpoints by family.
"""

from forv_tts.service.api.app import create_app

__all__ = ["create_app"]

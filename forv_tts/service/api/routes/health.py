"""`/healthz` (alive, dependencies answer), `/readyz` (dependencies and workers), `/metrics` (Prometheus)."""

from __future__ import annotations

import asyncio
import contextlib
import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from forv_tts.service import names
from forv_tts.service.api.state import Service


def router(service: Service) -> APIRouter:
    """The health and metrics routes."""
    routes = APIRouter()

    @routes.api_route("/healthz", methods=["GET", "HEAD"])
    async def healthz() -> JSONResponse:
        """Alive, and the queue and result backend answer (a dead store is a 503, not a silent outage)."""
        broker_ok, backend_ok = await asyncio.gather(service.broker_ok(), service.store.ping())
        ok = broker_ok and backend_ok
        body = {"status": "ok" if ok else "unavailable", "broker": broker_ok, "result_backend": backend_ok}
        return JSONResponse(body, status_code=200 if ok else 503)

    @routes.get("/readyz")
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
        # Local workers (serve's own) write clips under --out-dir: a read-only or missing one fails them all.
        out_dir = service.settings.out_dir
        writable = out_dir.is_dir() and os.access(out_dir, os.W_OK | os.X_OK)
        out_dir_ok = writable or not service.settings.extra.get("local_workers")
        ready = broker_ok and backend_ok and bool(workers) and not missing and out_dir_ok
        body = {
            "ready": ready,
            "broker": broker_ok,
            "result_backend": backend_ok,
            "out_dir_writable": writable,
            "workers": len(workers),
            "members_without_worker": missing,
            "builtin_served": names.queue_for(names.BUILTIN) in served,
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @routes.get("/metrics")
    async def metrics() -> Response:
        """Prometheus text format: requests, job latency, queue depth, failures."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        with contextlib.suppress(Exception):
            for queue, depth in (await asyncio.wait_for(service.queue_depths(), timeout=3)).items():
                service.metrics.queue_depth.labels(queue).set(depth)
        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return routes

"""Jobs a client follows itself: `POST /v1/jobs` (queue a clip, answer at once) and
`GET /v1/jobs/{uuid}` (its state, optionally long-polled)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from forv_tts.service import names
from forv_tts.service.api.schemas import JobBody, check_field, clip_url, job_view
from forv_tts.service.api.state import Service
from forv_tts.service.errors import NotFoundError
from forv_tts.storage import naming

MAX_LONG_POLL_S = 60.0


def router(service: Service) -> APIRouter:
    """The job routes."""
    routes = APIRouter()

    @routes.post("/v1/jobs", status_code=202)
    async def post_job(body: JobBody, request: Request) -> JSONResponse:
        """Queue a clip and answer at once with where to follow it."""
        job_id, member, req = await service.clip_request(
            body.member_id, body.text, body.uuid, body.created_at
        )
        outcome = await service.submit(names.TASK_JOB, job_id, req, kind=names.KIND_CLIP, member=member)
        status_url = str(request.url_for("get_job", job_id=job_id))
        record = await service.store.get(job_id)
        view = job_view(job_id, record, status_url)
        view["queued"] = outcome in ("new", "requeued")
        return JSONResponse(view, status_code=202, headers={"Location": status_url})

    @routes.get("/v1/jobs/{job_id}", name="get_job")
    async def get_job(
        job_id: str,
        request: Request,
        wait: Annotated[float, Query(ge=0, le=MAX_LONG_POLL_S, description="long-poll seconds")] = 0,
    ) -> JSONResponse:
        """A job's state (queued / running / done / failed), optionally waiting up to `wait` s for its end."""
        job_id = check_field("uuid", naming.validate_uuid, job_id)
        record = await service.store.wait(job_id, wait) if wait else await service.store.get(job_id)
        if not record:
            raise NotFoundError(f"no job {job_id}: queue it with POST /v1/jobs", field="uuid")
        view = job_view(job_id, record, str(request.url_for("get_job", job_id=job_id)))
        if record.get("state") == names.STATE_DONE:
            view["url"] = clip_url(request, job_id, record)
        return JSONResponse(view)

    return routes

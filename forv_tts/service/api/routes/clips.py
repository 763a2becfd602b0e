"""The old server's `POST /api/texts` (queue a clip, answer when it is stored) and the finished clips
this server keeps on its disk, `GET /v1/audio/<uuid>.wav`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from forv_tts.service import names
from forv_tts.service.api.schemas import TextsBody, check_field, clip_url, error_body, error_response
from forv_tts.service.api.state import Service
from forv_tts.service.errors import JobTimeoutError, NotFoundError, status_for
from forv_tts.storage import naming


def router(service: Service) -> APIRouter:
    """The clip routes."""
    routes = APIRouter()

    @routes.post("/api/texts")
    async def api_texts(body: TextsBody, request: Request) -> JSONResponse:
        """The old server's endpoint: queue the clip, answer the moment it is stored."""
        job_id, member, req = await service.clip_request(
            body.member_id, body.text, body.uuid, body.created_at
        )
        await service.require_worker(member, job_id)
        await service.submit(names.TASK_JOB, job_id, req, kind=names.KIND_CLIP, member=member)
        record = await service.wait(job_id, service.settings.request_timeout_s, names.KIND_CLIP)
        answer: dict[str, Any] = {
            "uuid": body.uuid,
            "member_id": body.member_id,
            "created_at": body.created_at,
        }
        state = record.get("state")
        if state == names.STATE_DONE:
            url = clip_url(request, job_id, record)
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
                    code,
                    record.get("error", "the job failed"),
                    record.get("error_field"),
                    **answer,
                    status_url=status_url,
                ),
                status_code=status_for(code),
            )
        err = JobTimeoutError(
            f"the job is still {state or 'unknown'} after {service.settings.request_timeout_s:g} s: "
            f"follow it at {status_url}"
        )
        return error_response(err, **answer, status_url=status_url)

    @routes.get("/v1/audio/{name}", name="clip_audio")
    async def clip_audio(name: str) -> Response:
        """A finished clip kept under --out-dir (the set-up without a bucket)."""
        if not name.endswith(".wav"):
            raise NotFoundError(f"no audio {name!r}: ask for /v1/audio/<uuid>.wav", field="uuid")
        job_id = check_field("uuid", naming.validate_uuid, name[: -len(".wav")])
        record = await service.store.get(job_id)
        path = Path(record.get("path", "")) if record.get("path") else None
        if record.get("state") != names.STATE_DONE or path is None:
            raise NotFoundError(f"no finished clip for {job_id}: check GET /v1/jobs/{job_id}", field="uuid")
        root = service.settings.out_dir.resolve()
        resolved = path.resolve()
        if root not in resolved.parents or not resolved.is_file():
            raise NotFoundError(f"the clip of {job_id} is not on this server's disk", field="uuid")
        return FileResponse(resolved, media_type="audio/wav", filename=resolved.name)

    return routes

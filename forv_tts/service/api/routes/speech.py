"""OpenAI's speech API: `POST /v1/audio/speech` (the audio, whole or sentence by sentence) and
`GET /v1/audio/voices` (the voices there are)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid as _uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse

from forv_tts.audio import stream_wav_header, wav_header
from forv_tts.service import guard, names
from forv_tts.service.api.schemas import SpeechBody, error_body
from forv_tts.service.api.state import Service
from forv_tts.service.errors import JobTimeoutError, status_for


def router(service: Service) -> APIRouter:
    """The speech routes."""
    routes = APIRouter()

    @routes.get("/v1/audio/voices")
    async def voices() -> dict[str, Any]:
        """The built-in voice and the members (same discovery as `forv-tts members`), with live workers."""
        from forv_tts.voices.layout import list_voices

        workers = await service.store.workers()
        out = []
        seen = set()
        for info in list_voices(service.settings.voice_dir):
            seen.add(info.id)
            queue = names.queue_for(info.id)
            out.append(
                {
                    "id": info.id,
                    "engine": info.engine,
                    "sample_rate": info.sample_rate,
                    "usable": info.usable,
                    "queue": queue,
                    "workers": sum(1 for w in workers if queue in w.get("queues", ())),
                }
            )
        for w in workers:
            for member in w.get("members", ()):
                if member not in seen:
                    seen.add(member)
                    queue = names.queue_for(member)
                    count = sum(1 for x in workers if queue in x.get("queues", ()))
                    out.append(
                        {
                            "id": member,
                            "engine": None,
                            "sample_rate": None,
                            "usable": True,
                            "queue": queue,
                            "workers": count,
                        }
                    )
        return {"voices": out}

    @routes.post("/v1/audio/speech")
    async def speech(body: SpeechBody) -> Response:
        """OpenAI-compatible speech: the audio itself; with `stream`, sentence by sentence."""
        text = service.check_text(body.input, "input")
        member = await service.check_member(body.voice, "voice")
        await service.require_worker(member)
        job_id = str(_uuid.uuid4())
        req = {"kind": names.KIND_SPEECH, "member": member, "text": text, "speed": float(body.speed)}
        await service.submit(names.TASK_SPEECH, job_id, req, kind=names.KIND_SPEECH, member=member)
        stream = body.stream or body.stream_format == "audio"
        chunk_wait = service.settings.request_timeout_s

        async def next_message() -> tuple[bytes, int, bytes]:
            chunk = await service.store.next_chunk(job_id, chunk_wait)
            if chunk is None:
                raise JobTimeoutError(f"no audio within {chunk_wait:g} s: check GET /v1/jobs/{job_id}")
            return names.read_frame(chunk)

        def failure(payload: bytes) -> JSONResponse:
            end = json.loads(payload or b"{}")
            code = end.get("code") or "failed"
            return JSONResponse(
                error_body(code, end.get("error") or "synthesis failed", None, uuid=job_id),
                status_code=status_for(code),
            )

        try:
            kind, rate, data = await next_message()
        except JobTimeoutError:
            await service.store.cancel(job_id)
            raise
        if kind == names.CHUNK_END:
            return failure(data)
        media = "audio/wav" if body.response_format == "wav" else "audio/pcm"
        headers = {"X-Job-Id": job_id, "X-Sample-Rate": str(rate)}

        if not stream:
            parts = [data]
            while True:
                kind, _rate, more = await next_message()
                if kind == names.CHUNK_END:
                    end = json.loads(more or b"{}")
                    if end.get("state") != names.STATE_DONE:
                        return failure(more)
                    break
                parts.append(more)
            pcm = b"".join(parts)
            payload = (wav_header(rate, len(pcm)) + pcm) if body.response_format == "wav" else pcm
            await service.wait(job_id, 0, names.KIND_SPEECH)
            return Response(payload, media_type=media, headers=headers)

        async def audio() -> AsyncIterator[bytes]:
            finished = False
            try:
                yield (stream_wav_header(rate) + data) if body.response_format == "wav" else data
                while True:
                    kind, _rate, more = await next_message()
                    if kind == names.CHUNK_END:
                        finished = True
                        end = json.loads(more or b"{}")
                        if end.get("state") != names.STATE_DONE:
                            raise guard.StreamAborted(
                                f"speech job {job_id} ended {end.get('state') or 'failed'} mid-stream "
                                f"({end.get('code') or 'failed'}: {end.get('error') or 'no reason given'})"
                            )
                        return
                    yield more
            finally:
                if not finished:
                    # The client went away (or the wait ran out): stop the worker at its next sentence.
                    await asyncio.shield(_abandon(job_id))

        return StreamingResponse(audio(), media_type=media, headers=headers)

    async def _abandon(job_id: str) -> None:
        with contextlib.suppress(Exception):
            await service.store.cancel(job_id)
            await service.store.drop_chunks(job_id)

    return routes

"""OpenAI's speech API: `POST /v1/audio/speech` (the audio in any of OpenAI's six formats, whole,
streamed, or as SSE events), `GET /v1/models`, `GET /v1/audio/voices` (the voices there are); and ours:
`POST /v1/audio/speech/timed` (the clip with its sentence and word times) and `POST /v1/audio/captions`.

Workers push each sentence's 16-bit PCM (and, before it, its timing) to the job's chunk list; this
process encodes (`forv_tts.encoding`, off the event loop) and frames them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import struct
import uuid as _uuid
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import numpy.typing as npt
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse

from forv_tts import encoding
from forv_tts.audio import Audio, stream_wav_header, wav_header
from forv_tts.encoding import CONTENT_TYPES
from forv_tts.errors import EncoderMissingError, UnknownFormatError
from forv_tts.service import guard, names
from forv_tts.service.api.schemas import CaptionsBody, SpeechBody
from forv_tts.service.api.state import Service
from forv_tts.service.errors import BadRequestError, JobFailedError, JobTimeoutError, ServiceError
from forv_tts.timing import CAPTION_TYPES


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

    @routes.get("/v1/models")
    async def models() -> dict[str, Any]:
        """The model name clients send (any is accepted: the voice picks who speaks), as OpenAI lists."""
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": MODEL}]}

    @routes.post("/v1/audio/speech")
    async def speech(body: SpeechBody) -> Response:
        """OpenAI-compatible speech in any of the six formats; streamed as audio or as SSE events."""
        fmt = response_format(body.response_format)
        sse = body.stream_format == "sse"
        stream = body.stream or body.stream_format is not None
        job_id, rate, reader = await start(body)
        headers = {"X-Job-Id": job_id, "X-Sample-Rate": str(rate)}
        if not stream:
            pcm, _spoken = await reader.rest()
            payload = await asyncio.to_thread(encode_pcm, pcm, rate, fmt)
            return Response(payload, media_type=CONTENT_TYPES[fmt], headers=headers)
        if sse:
            headers["X-Audio-Media-Type"] = CONTENT_TYPES[fmt]
            return StreamingResponse(
                events(reader, rate, fmt), media_type="text/event-stream", headers=headers
            )
        return StreamingResponse(audio(reader, rate, fmt), media_type=CONTENT_TYPES[fmt], headers=headers)

    @routes.post("/v1/audio/speech/timed")
    async def timed_speech(body: SpeechBody) -> Response:
        """The clip (base64, in `response_format`) with every sentence's and word's times, as JSON."""
        fmt = response_format(body.response_format)
        job_id, rate, reader = await start(body)
        pcm, spoken = await reader.rest()
        payload = await asyncio.to_thread(encode_pcm, pcm, rate, fmt)
        return JSONResponse(
            {
                "id": job_id,
                "format": fmt,
                "content_type": CONTENT_TYPES[fmt],
                "sample_rate": rate,
                "duration": round(len(pcm) / 2 / rate, 3),
                "audio": base64.b64encode(payload).decode("ascii"),
                "sentences": spoken,
            },
            headers={"X-Job-Id": job_id},
        )

    @routes.post("/v1/audio/captions")
    async def captions(body: CaptionsBody) -> Response:
        """SubRip or WebVTT captions of what `POST /v1/audio/speech` says for the same body.

        A clip's times depend on its text, voice and speed only (the seed changes no duration), so
        these captions fit the clip the same body gets. With `sentences` (the times a clip came with)
        instead of `input`, nothing is synthesised: those times are written as captions.
        """
        if body.sentences is not None:
            if not body.sentences:
                message = "sentences is empty: give the times a clip came with"
                raise BadRequestError(message, field="sentences")
            spoken = [s.model_dump() for s in body.sentences]
        elif body.input is None:
            raise BadRequestError(
                "input is required (or sentences: the times a clip came with)", field="input"
            )
        else:
            _job_id, _rate, reader = await start(body)
            _pcm, spoken = await reader.rest()
        fmt = body.format
        text = captions_text(spoken, fmt)
        return Response(
            text.encode("utf-8"),
            media_type=f"{CAPTION_TYPES[fmt]}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="speech.{fmt}"'},
        )

    async def start(body: SpeechBody) -> tuple[str, int, _Reader]:
        """Queue the speech job and wait for its first sentence (a failure before it is a JSON error)."""
        assert body.input is not None  # (CaptionsBody's is optional; its route checks it)
        text = service.check_text(body.input, "input")
        member = await service.check_member(body.voice, "voice")
        await service.require_worker(member)
        job_id = str(_uuid.uuid4())
        req: dict[str, Any] = {
            "kind": names.KIND_SPEECH,
            "member": member,
            "text": text,
            "speed": float(body.speed),
        }
        if body.seed is not None:
            req["seed"] = body.seed
        await service.submit(names.TASK_SPEECH, job_id, req, kind=names.KIND_SPEECH, member=member)
        reader = _Reader(service, job_id)
        try:
            rate = await reader.first()
        except JobTimeoutError:
            await service.store.cancel(job_id)
            raise
        return job_id, rate, reader

    async def audio(reader: _Reader, rate: int, fmt: str) -> AsyncIterator[bytes]:
        finished = False
        try:
            if fmt in ("wav", "pcm"):  # the samples as the worker made them, behind one open-ended header
                head = stream_wav_header(rate) if fmt == "wav" else b""
                async for pcm in reader.chunks():
                    yield head + pcm
                    head = b""
            else:
                encoder = encoding.stream_encoder(fmt, rate)
                async for pcm in reader.chunks():
                    async for part in encode_parts(encoder, pcm, rate):
                        yield part
                if reader.failure is None:
                    tail = await asyncio.to_thread(encoder.finish)
                    if tail:
                        yield tail
            finished = reader.done
            if reader.failure is not None:
                # Never a clean end with audio missing: the stream is aborted on the wire.
                failure = reader.failure
                raise guard.StreamAborted(
                    f"speech job {reader.job_id} failed mid-stream ({failure['code']}: {failure['message']})"
                )
        finally:
            if not finished:
                # The client went away (or the wait ran out): stop the worker at its next sentence.
                await asyncio.shield(_abandon(reader.job_id))

    async def events(reader: _Reader, rate: int, fmt: str) -> AsyncIterator[bytes]:
        """OpenAI's speech SSE: `speech.audio.delta` events (base64 audio of `fmt`), then
        `speech.audio.done`; ours besides, `forv_tts.sentence` with each sentence's times before its
        audio, and `error` if the job fails mid-way."""
        sent = 0

        def event(data: dict[str, Any]) -> bytes:
            return b"data: " + json.dumps(data, ensure_ascii=False).encode() + b"\n\n"

        try:
            async for part in audio(reader, rate, fmt):
                while sent < len(reader.spoken):
                    yield event({"type": "forv_tts.sentence", "sentence": reader.spoken[sent]})
                    sent += 1
                yield event({"type": "speech.audio.delta", "audio": base64.b64encode(part).decode("ascii")})
        except ServiceError as err:
            yield event({"type": "error", "error": {"code": err.code, "message": err.message}})
            return
        except guard.StreamAborted:
            yield event({"type": "error", "error": reader.failure})  # an SSE stream says so in an event
            return
        usage = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}  # we count no tokens
        yield event({"type": "speech.audio.done", "usage": usage})

    async def _abandon(job_id: str) -> None:
        with contextlib.suppress(Exception):
            await service.store.cancel(job_id)
            await service.store.drop_chunks(job_id)

    return routes


MODEL = "forv-tts"


def response_format(name: str | None) -> str:
    """The request's format (mp3 when unset, as OpenAI); unknown → 422 `unknown_format` listing the six;
    aac on a server without PyAV → 501 `encoder_missing`."""
    if name is None:
        return encoding.DEFAULT_FORMAT
    try:
        return encoding.require(name)
    except UnknownFormatError as err:
        raise BadRequestError(err.message, field="response_format", code=err.code) from None
    except EncoderMissingError as err:
        raise ServiceError(err.message, field="response_format", code=err.code) from None


def encode_pcm(pcm: bytes, rate: int, fmt: str) -> bytes:
    """A whole clip of 16-bit PCM as `fmt` (wav and pcm keep the samples exactly)."""
    if fmt == "pcm":
        return pcm
    if fmt == "wav":
        return wav_header(rate, len(pcm)) + pcm
    return encoding.encode(Audio(_floats(pcm), rate), fmt)


def _floats(pcm: bytes) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / np.float32(32767.0)
    return out


async def encode_parts(encoder: Any, pcm: bytes, rate: int) -> AsyncIterator[bytes]:
    """One sentence's PCM through a stream encoder a quarter second at a time, off the event loop."""
    samples = _floats(pcm)
    step = max(1, round(encoding.FEED_S * rate))
    for start in range(0, len(samples), step):
        part = await asyncio.to_thread(encoder.feed, samples[start : start + step])
        if part:
            yield part


def captions_text(spoken: list[dict[str, Any]], fmt: str) -> str:
    """Captions from the timings the worker sent (`SentenceTiming.to_dict()`s)."""
    from forv_tts.timing import SentenceTiming, WordTiming, captions

    sentences = [
        SentenceTiming(
            index=int(s["index"]),
            text=str(s["text"]),
            spoken=str(s["spoken"]),
            start=float(s["start"]),
            end=float(s["end"]),
            words=tuple(
                WordTiming(w["text"], w["spoken"], float(w["start"]), float(w["end"])) for w in s["words"]
            ),
            estimated=bool(s.get("estimated", False)),
        )
        for s in spoken
    ]
    return captions(sentences, fmt)


class _Reader:
    """A speech job's chunk list as the API reads it: timings collected, PCM handed on, the end checked."""

    def __init__(self, service: Service, job_id: str) -> None:
        self.service = service
        self.job_id = job_id
        self.spoken: list[dict[str, Any]] = []
        self.done = False
        self.failure: dict[str, Any] | None = None
        self._first: bytes | None = None
        self._wait = service.settings.request_timeout_s

    async def _next(self) -> tuple[bytes, bytes]:
        while True:
            chunk = await self.service.store.next_chunk(self.job_id, self._wait)
            if chunk is None:
                raise JobTimeoutError(f"no audio within {self._wait:g} s: check GET /v1/jobs/{self.job_id}")
            kind, rate, data = names.read_frame(chunk)
            if kind == names.CHUNK_TIMING:
                self.spoken.append(json.loads(data))
                continue
            return kind, (struct.pack("<I", rate) + data if kind == names.CHUNK_AUDIO else data)

    def _fail(self, payload: bytes) -> ServiceError:
        end = json.loads(payload or b"{}")
        code = end.get("code") or "failed"
        self.failure = {"code": code, "message": end.get("error") or "synthesis failed"}
        return JobFailedError(self.failure["message"], code=code)

    async def first(self) -> int:
        """The sample rate, once the first sentence is there; a job that failed first raises its error."""
        kind, data = await self._next()
        if kind == names.CHUNK_END:
            raise self._fail(data)
        self._first = data[4:]
        rate: int = struct.unpack("<I", data[:4])[0]
        return rate

    async def chunks(self) -> AsyncIterator[bytes]:
        """Each sentence's PCM (the first one included) until the job's end (failure: `failure` set)."""
        if self._first is not None:
            first, self._first = self._first, None
            yield first
        while True:
            kind, data = await self._next()
            if kind == names.CHUNK_END:
                end = json.loads(data or b"{}")
                if end.get("state") != names.STATE_DONE:
                    self._fail(data)
                self.done = True
                return
            yield data[4:]

    async def rest(self) -> tuple[bytes, list[dict[str, Any]]]:
        """The whole clip's PCM and every sentence's timing; a failed job raises its error."""
        parts = [pcm async for pcm in self.chunks()]
        if self.failure is not None:
            raise JobFailedError(self.failure["message"], code=self.failure["code"])
        await self.service.wait(self.job_id, 0, names.KIND_SPEECH)
        return b"".join(parts), self.spoken

"""What goes over the wire: the request bodies, the error body every failure answers with, and the job
view `GET /v1/jobs/{uuid}` (and `POST /v1/jobs`) answer with."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from forv_tts.config import SEED_MAX, SPEED_MAX, SPEED_MIN
from forv_tts.errors import ForvError
from forv_tts.service import names
from forv_tts.service.errors import BadRequestError, ServiceError, code_for, status_for

# --- request bodies -------------------------------------------------------------------------------


class TextsBody(BaseModel):
    """The old server's request, unchanged."""

    model_config = ConfigDict(extra="ignore")
    uuid: StrictStr
    member_id: StrictInt | StrictStr
    text: StrictStr
    created_at: StrictStr


class JobBody(BaseModel):
    """`POST /v1/jobs`: the same fields; uuid and created_at may be left out."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr
    member_id: StrictInt | StrictStr | None = None
    uuid: StrictStr | None = None
    created_at: StrictStr | None = None


class SpeechBody(BaseModel):
    """OpenAI's `/v1/audio/speech` request; `voice` is a member id (or "builtin").

    `response_format` is one of `forv_tts.encoding.FORMATS` (checked by the route, so an unknown one is
    a 422 listing the six), mp3 when left out as OpenAI's; `instructions` (a voice prompt for OpenAI's
    gpt-4o-mini-tts) is accepted and ignored: our voices have no such control. `seed` (ours) makes a
    clip repeatable: the same text, voice, speed and seed give the same samples (left out, each job has
    its own, derived from its id).
    """

    model_config = ConfigDict(extra="ignore")
    input: StrictStr
    model: StrictStr = "forv-tts"
    voice: StrictStr | StrictInt = names.BUILTIN
    response_format: StrictStr | None = None
    speed: StrictFloat | StrictInt = Field(default=1.0, ge=SPEED_MIN, le=SPEED_MAX)
    stream: StrictBool = False
    stream_format: Literal["audio", "sse"] | None = None
    instructions: StrictStr | None = None
    seed: StrictInt | None = Field(default=None, ge=0, le=SEED_MAX)


class WordTimes(BaseModel):
    """One word's times, as `/v1/audio/speech/timed` and the SSE `forv_tts.sentence` events give them."""

    model_config = ConfigDict(extra="ignore")
    text: StrictStr
    spoken: StrictStr = ""
    start: StrictFloat | StrictInt = Field(ge=0)
    end: StrictFloat | StrictInt = Field(ge=0)


class SentenceTimes(BaseModel):
    """One sentence's times (`SentenceTiming.to_dict()`), as a clip came with them."""

    model_config = ConfigDict(extra="ignore")
    index: StrictInt = 0
    text: StrictStr
    spoken: StrictStr = ""
    start: StrictFloat | StrictInt = Field(ge=0)
    end: StrictFloat | StrictInt = Field(ge=0)
    words: list[WordTimes] = Field(default_factory=list)
    estimated: StrictBool = False


class CaptionsBody(SpeechBody):
    """`POST /v1/audio/captions`: a speech request, and which captions (SubRip or WebVTT).

    Or, instead of `input`, the `sentences` a clip already came with (from `/v1/audio/speech/timed` or
    the SSE `forv_tts.sentence` events): their captions, with nothing synthesised again.
    """

    input: StrictStr | None = None  # type: ignore[assignment]
    sentences: list[SentenceTimes] | None = Field(default=None, max_length=10_000)
    format: Literal["srt", "vtt"] = "vtt"


def check_field(kind: str, fn: Callable[[str], str], value: str) -> str:
    """`fn(value)` (a `storage.naming` validator), its refusal a 400 naming the request's field."""
    try:
        return fn(value)
    except ForvError as err:
        raise BadRequestError(str(err).replace("--", ""), field=kind, code="invalid_input") from None


# --- error answers --------------------------------------------------------------------------------


def error_body(code: str, message: str, field_name: str | None = None, **extra: Any) -> dict[str, Any]:
    """The JSON every error answer carries."""
    err: dict[str, Any] = {"code": code, "message": message}
    if field_name is not None:
        err["field"] = field_name
    return {**extra, "error": err}


def error_response(err: BaseException, **extra: Any) -> JSONResponse:
    """An exception as its status (from the one table) and JSON body."""
    code = code_for(err)
    message = err.message if isinstance(err, ServiceError) else str(err)
    field_name = err.field if isinstance(err, ServiceError) else None
    if isinstance(err, ForvError) and isinstance(err.fields.get("field"), str):
        field_name = err.fields["field"]
    return JSONResponse(error_body(code, message, field_name, **extra), status_code=status_for(code))


# --- job records as answers -----------------------------------------------------------------------


def record_float(record: dict[str, str], key: str) -> float | None:
    """A job record's number field, or None when it is missing or not a number."""
    try:
        return float(record[key])
    except (KeyError, ValueError):
        return None


def job_view(job_id: str, record: dict[str, str], status_url: str | None = None) -> dict[str, Any]:
    """`GET /v1/jobs/{uuid}`'s answer."""
    state = record.get("state", "unknown")
    request: dict[str, Any] = {}
    with contextlib.suppress(ValueError):
        request = json.loads(record.get("request", "{}"))
    view: dict[str, Any] = {
        "uuid": job_id,
        "state": state,
        "kind": record.get("kind"),
        "member": record.get("member"),
        "created_at": request.get("created_at"),
        "attempts": int(record.get("attempts", "0") or 0),
        "worker": record.get("worker"),
        "worker_pid": int(record["pid"]) if record.get("pid", "").isdigit() else None,
        "duration": record_float(record, "duration"),
        "synthesis_seconds": record_float(record, "synthesis_s"),
        "first_chunk_seconds": record_float(record, "first_chunk_s"),
        "first_sentence_seconds": record_float(record, "first_sentence_s"),
        "sentences": int(record["sentences"]) if record.get("sentences", "").isdigit() else None,
        "sentences_done": int(record["sentences_done"])
        if record.get("sentences_done", "").isdigit()
        else None,
        "normalized": record.get("normalized"),
        "gs_uri": record.get("uri"),
        "url": record.get("gcs_url"),
        "path": record.get("path"),
        "error": None,
    }
    submitted, finished = record_float(record, "submitted"), record_float(record, "finished")
    view["seconds"] = round(finished - submitted, 3) if submitted and finished else None
    if state in (names.STATE_FAILED, names.STATE_CANCELLED):
        view["error"] = {"code": record.get("error_code", "failed"), "message": record.get("error", "")}
        if record.get("error_field"):
            view["error"]["field"] = record["error_field"]
    if status_url:
        view["status_url"] = status_url
    return view


def clip_url(request: Request, job_id: str, record: dict[str, str]) -> str | None:
    """Where a finished clip is fetched: its bucket URL, or this server's `/v1/audio/<uuid>.wav`."""
    if record.get("gcs_url"):
        return record["gcs_url"]
    if record.get("path"):
        return str(request.url_for("clip_audio", name=f"{job_id}.wav"))
    return None

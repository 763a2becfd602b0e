"""The tasks a worker runs. Each one is a thin shell: record the job's state, call `runner`, record the
outcome. Errors become data on the record (`errors.code_for`), never a lost job.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import time
from typing import TYPE_CHECKING, Any

from forv_tts.service import names, runner
from forv_tts.service.errors import code_for
from forv_tts.service.settings import ServiceSettings
from forv_tts.service.store import SyncStore

if TYPE_CHECKING:
    from celery import Celery

log = logging.getLogger(__name__)

#: Framing of a speech job's chunk list: b"A" + sample rate (uint32 LE) + PCM16, then b"E" + JSON.
CHUNK_AUDIO = b"A"
CHUNK_END = b"E"
CHUNK_TIMING = b"T"  # + JSON: the next audio chunk's sentence timing (`SentenceTiming.to_dict()`)

_store: SyncStore | None = None
_settings: ServiceSettings | None = None


def configure(settings: ServiceSettings) -> None:
    """The settings this worker process runs jobs with (set before the pool forks)."""
    global _settings, _store
    _settings = settings
    _store = None


def settings() -> ServiceSettings:
    """This worker's settings (resolved from the environment when `configure` was not called)."""
    global _settings
    if _settings is None:
        from forv_tts.service.settings import resolve

        _settings = resolve()
    return _settings


#: Why a task other than `gan_wav` fails on a worker with no result backend (RabbitMQ alone).
NO_STORE = (
    "this worker has no result backend: /v1 jobs and streaming need a Redis-compatible store "
    "(--result-backend redis://HOST:6379/0)"
)


def store() -> SyncStore:
    """One backend connection per worker process (created after the fork)."""
    global _store
    if _store is None:
        backend = settings().result_backend
        if not backend:
            from forv_tts.errors import InvalidInputError

            raise InvalidInputError(NO_STORE)
        _store = SyncStore(backend)
    return _store


def clip_request(member: str, text: str, created_at: str) -> dict[str, Any]:
    """The canonical request of a clip job: the API and legacy `gan_wav` build the same one."""
    return {"kind": names.KIND_CLIP, "member": member, "text": text, "created_at": created_at}


def _fail(job_id: str, err: BaseException, **extra: Any) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(err, SoftTimeLimitExceeded):
        code, message = "time_limit", f"the job ran over its {settings().time_limit_s:g} s time limit"
    else:
        code, message = code_for(err), str(err) or type(err).__name__
        if code == "internal_error":
            log.exception("job %s failed unexpectedly", job_id)
            message = f"unexpected {type(err).__name__}: {message}"
    store().update(
        job_id,
        {
            **extra,
            "state": names.STATE_FAILED,
            "error_code": code,
            "error": message,
            "finished": repr(time.time()),
        },
    )


def _begin(job_id: str, hostname: str, request: dict[str, Any] | None) -> tuple[str, int | str]:
    st = store()
    action, value = st.begin(
        job_id, worker=hostname, pid=os.getpid(), max_deliveries=settings().max_deliveries
    )
    if action == "missing" and request is not None:  # sent by a plain Celery client, not the API
        outcome, _state = st.claim(job_id, request, kind=request["kind"], member=request["member"])
        if outcome == "conflict":
            return "skip", "conflict"
        action, value = st.begin(
            job_id, worker=hostname, pid=os.getpid(), max_deliveries=settings().max_deliveries
        )
    return action, value


def run_clip(job_id: str, request: dict[str, Any], hostname: str) -> dict[str, str]:
    """Synthesise, write and upload one clip; the final record."""
    st = store()
    action, _value = _begin(job_id, hostname, request)
    if action != "run":
        log.info("job %s not run: %s %s", job_id, action, _value)
        return st.get(job_id)
    conf = settings()
    member = request["member"]
    clip: runner.Clip | None = None

    def progress(index: int, total: int) -> bool:
        st.update(job_id, {"sentences_done": str(index), "sentences_total": str(total)}, publish=False)
        return True

    try:
        clip = runner.write_clip(
            job_id=job_id,
            member=member,
            text=request["text"],
            created_at=request["created_at"],
            settings=conf,
            before=progress,
        )
        st.update(job_id, clip.fields(), publish=False)
        if conf.bucket:
            clip = runner.upload_clip(
                clip,
                conf,
                on_retry=lambda attempt, reason: st.update(
                    job_id, {"upload_attempts": str(attempt), "upload_error": reason}
                ),
            )
        st.update(
            job_id,
            {**clip.fields(), "state": names.STATE_DONE, "finished": repr(time.time())},
        )
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        _fail(job_id, err, **(clip.fields() if clip is not None else {}))
    return st.get(job_id)


def run_clip_unrecorded(job_id: str, request: dict[str, Any]) -> runner.Clip:
    """`gan_wav` on a worker with no job store (RabbitMQ alone, as the old deployment had).

    No record says that an earlier delivery already ran, so a redelivered message runs again and lands
    on the same result: the seed comes from the uuid (`runner.seed_for`), so the wav holds the same
    bytes, written atomically under the same name, and an upload of identical bytes is a no-op
    (`upload_file` answers "unchanged": the object keeps its generation). Failures raise, so Celery
    answers the caller with FAILURE.
    """
    conf = settings()
    clip = runner.write_clip(
        job_id=job_id,
        member=request["member"],
        text=request["text"],
        created_at=request["created_at"],
        settings=conf,
    )
    if conf.bucket:
        clip = runner.upload_clip(clip, conf)
    log.info("gan_wav %s: %s (%s)", job_id, clip.uri or clip.path, clip.upload_status or "kept local")
    return clip


def run_speech(job_id: str, request: dict[str, Any], hostname: str) -> dict[str, str]:
    """Synthesise sentence by sentence, pushing each one's PCM for the API to stream."""
    st = store()
    action, value = _begin(job_id, hostname, None)
    if action == "run" and isinstance(value, int) and value > 1:
        # A stream cannot be replayed from the start to a client that already heard part of it.
        st.update(
            job_id,
            {
                "state": names.STATE_FAILED,
                "error_code": "worker_lost",
                "error": "the worker streaming this audio was lost: request it again",
                "finished": repr(time.time()),
            },
        )
        st.push_chunk(job_id, CHUNK_END + json.dumps({"state": names.STATE_FAILED}).encode())
        return st.get(job_id)
    if action != "run":
        return st.get(job_id)
    done = 0

    def before(index: int, total: int) -> bool:
        st.update(job_id, {"sentences_done": str(index), "sentences_total": str(total)}, publish=False)
        return not st.cancelled(job_id)

    timings: list[float] = []
    spoken: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    try:
        for rate, pcm in runner.speech_chunks(
            job_id=job_id,
            member=request["member"],
            text=request["text"],
            speed=request.get("speed"),
            settings=settings(),
            before=before,
            timings=timings,
            spoken=spoken,
        ):
            if spoken:
                st.push_chunk(job_id, CHUNK_TIMING + json.dumps(spoken.pop(), ensure_ascii=False).encode())
            st.push_chunk(job_id, CHUNK_AUDIO + struct.pack("<I", rate) + pcm)
            if not done:  # what the first sound waited for: normalising, loading, the first sentence
                first = {
                    "first_chunk_s": f"{time.perf_counter() - t0:.4f}",
                    "first_sentence_s": f"{timings[0]:.4f}",
                }
                st.update(job_id, first, publish=False)
            done += 1
        st.update(
            job_id, {"state": names.STATE_DONE, "sentences_done": str(done), "finished": repr(time.time())}
        )
        st.push_chunk(job_id, CHUNK_END + json.dumps({"state": names.STATE_DONE}).encode())
    except runner.Cancelled as err:
        log.info("speech job %s: client gone, %s", job_id, err)
        st.update(
            job_id,
            {
                "state": names.STATE_CANCELLED,
                "error_code": "cancelled",
                "error": f"the client disconnected; {err}",
                "sentences_done": str(done),
                "finished": repr(time.time()),
            },
        )
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        _fail(job_id, err, sentences_done=str(done))
        record = st.get(job_id)
        end = {"state": names.STATE_FAILED, "code": record.get("error_code"), "error": record.get("error")}
        st.push_chunk(job_id, CHUNK_END + json.dumps(end).encode())
    return st.get(job_id)


def register(app: Celery) -> None:
    """Add the tasks to `app` (workers only)."""

    @app.task(name=names.TASK_JOB, bind=True)
    def job(self: Any, job_id: str, request: dict[str, Any]) -> dict[str, Any]:
        record = run_clip(job_id, request, self.request.hostname or "worker")
        return {"state": record.get("state"), "error_code": record.get("error_code")}

    @app.task(name=names.TASK_SPEECH, bind=True)
    def speech(self: Any, job_id: str, request: dict[str, Any]) -> dict[str, Any]:
        record = run_speech(job_id, request, self.request.hostname or "worker")
        return {"state": record.get("state"), "error_code": record.get("error_code")}

    from forv_tts.service.replies import legacy_backend

    conf = settings()
    # The old app's caller waits on rpc:// (its reply queue); newer clients on Redis: answer on both.
    replies = legacy_backend(app, broker_url=conf.broker_url, result_backend=conf.result_backend)

    @app.task(name=names.TASK_LEGACY, bind=True, backend=replies)
    def gan_wav(self: Any, uuid: str, member_id: Any, text: str, created_at: str) -> bool:
        """The old worker's task: same name, same positional arguments, True when the clip is stored."""
        from forv_tts.storage import naming

        job_id = naming.validate_uuid(str(uuid))
        member = naming.validate_member_id(str(member_id))
        created = naming.validate_created_at(str(created_at))
        request = clip_request(member, text, created)
        if not settings().result_backend:
            run_clip_unrecorded(job_id, request)
            return True
        record = run_clip(job_id, request, self.request.hostname or "worker")
        if record.get("state") != names.STATE_DONE:
            raise RuntimeError(record.get("error") or f"job {job_id} ended {record.get('state')}")
        return True

"""The tasks a worker runs. Each one is a thin shell over the library: record the job's state, run the
library's steps (`jobs.item.run_item` for a clip, `synthesis.iter_synthesize` for speech), record the
outcome. Errors become data on the record (`errors.code_for`), never a lost job.

Runs in worker processes only: importing it costs nothing, but its tasks load voices.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from forv_tts.service import names
from forv_tts.service.errors import code_for
from forv_tts.service.settings import ServiceSettings
from forv_tts.service.store import SyncStore

if TYPE_CHECKING:
    from celery import Celery

    from forv_tts.config import SynthesisConfig
    from forv_tts.errors import UploadError
    from forv_tts.jobs.item import ItemResult
    from forv_tts.voices.base import VoiceInfo

log = logging.getLogger(__name__)

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


def warm_up() -> None:
    """Worker-process start-up: the same process settings the CLI and batch workers use."""
    from forv_tts._process import startup

    startup.before_torch_import()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def voice_info(member: str | None, conf: ServiceSettings) -> VoiceInfo:
    """The voice of a member id (None or "builtin": the built-in voice); raises VoiceNotFoundError."""
    from forv_tts.synthesis import resolve_voice

    return resolve_voice(None if member in (None, names.BUILTIN) else member, conf.voice_dir)


def job_config(
    job_id: str, conf: ServiceSettings, *, speed: float | None = None, seed: int | None = None
) -> SynthesisConfig:
    """A job's synthesis: its seed stable per uuid (a redelivered job writes the same bytes, so its
    upload is a no-op) unless the request gave one (speech's `seed`: a clip made again, sample for
    sample), and the lexicon as of now (`resolve_lexicon` reads the files per call and parses them
    again only when they changed), so an edited lexicon.tsv applies to the next job, as on the page."""
    from forv_tts.config import SynthesisConfig, length_scale_for_speed
    from forv_tts.jobs.input import derived_seed
    from forv_tts.text import resolve_lexicon

    return SynthesisConfig(
        seed=derived_seed(job_id) if seed is None else seed,
        length_scale=length_scale_for_speed(speed),
        lexicon=resolve_lexicon(voice_dir=conf.voice_dir),
    )


def clip_fields(result: ItemResult) -> dict[str, Any]:
    """A written (and maybe uploaded) clip as its job record's fields."""
    spent = sum(v for k, v in result.timings.items() if k not in ("upload", "total"))
    return {
        "member": result.member,
        "path": result.path,
        "object": result.object_name,
        "normalized": result.normalized,
        "sentences": str(len(result.sentences)),
        "duration": f"{result.duration:.3f}",
        "sample_rate": str(result.sample_rate),
        "sha256": result.sha256,
        "synthesis_s": f"{spent:.3f}",
        "uri": result.uri,
        "gcs_url": result.url,
        "upload_status": (result.upload or {}).get("status"),
    }


def _fail(job_id: str, err: BaseException, **extra: Any) -> None:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(err, SoftTimeLimitExceeded):
        code, message = "time_limit", f"the job ran over its {settings().time_limit_s:g} s time limit"
    else:
        code, message = code_for(err), str(err) or type(err).__name__
        if code == "internal":
            log.exception("job %s failed unexpectedly", job_id)
            message = f"unexpected {type(err).__name__}: {message}"
    fields = getattr(err, "fields", None)
    field = fields.get("field") if isinstance(fields, dict) else None
    store().update(
        job_id,
        {
            **extra,
            "state": names.STATE_FAILED,
            "error_code": code,
            "error": message,
            # The request's field at fault (a used uuid's conflict: "uuid"), as the API's own errors say.
            **({"error_field": field} if isinstance(field, str) else {}),
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


def _pause_for_tests(conf: ServiceSettings) -> None:
    """`FORV_TTS_TEST_SENTENCE_DELAY`: fault tests kill or hang up mid-job at a known moment."""
    if conf.sentence_delay_s > 0:
        time.sleep(conf.sentence_delay_s)


def clip_item(
    job_id: str,
    request: dict[str, Any],
    conf: ServiceSettings,
    *,
    progress: Callable[[int, int], None] | None = None,
    on_upload_retry: Callable[[int, UploadError], None] | None = None,
) -> ItemResult:
    """One clip job through `run_item` (synthesise, write under --out-dir, upload to the bucket with
    the service's retries): what `say` and `batch` run for one item. `progress(done, total)` before
    the first sentence and after each."""
    from forv_tts._process import startup
    from forv_tts.jobs.item import Destination, UploadSpec, run_item

    info = voice_info(request["member"], conf)
    upload = None
    if conf.bucket:
        upload = UploadSpec(
            bucket=conf.bucket,
            timeout=conf.upload_timeout_s,
            attempts=conf.upload_attempts,
            backoff=conf.upload_backoff_s,
        )

    def step(done: int, total: int) -> None:
        if progress is not None:
            progress(done, total)
        if done < total:
            _pause_for_tests(conf)

    startup.size_threads_for(info.engine)
    return run_item(
        request["text"],
        member=info,
        uuid=job_id,
        created_at=request["created_at"],
        config=job_config(job_id, conf),
        destination=Destination(local_dir=conf.out_dir, upload=upload),
        progress=step,
        on_upload_retry=on_upload_retry,
    )


def run_clip(job_id: str, request: dict[str, Any], hostname: str) -> dict[str, str]:
    """Synthesise, write and upload one clip (`clip_item`), recording its progress; the final record."""
    st = store()
    action, _value = _begin(job_id, hostname, request)
    if action != "run":
        log.info("job %s not run: %s %s", job_id, action, _value)
        return st.get(job_id)
    conf = settings()

    def progress(done: int, total: int) -> None:
        st.update(job_id, {"sentences_done": str(done), "sentences_total": str(total)}, publish=False)

    def upload_retried(attempt: int, err: UploadError) -> None:
        st.update(job_id, {"upload_attempts": str(attempt), "upload_error": str(err)})

    try:
        result = clip_item(job_id, request, conf, progress=progress, on_upload_retry=upload_retried)
        st.update(job_id, {**clip_fields(result), "state": names.STATE_DONE, "finished": repr(time.time())})
    except BaseException as err:
        if isinstance(err, KeyboardInterrupt | SystemExit):
            raise
        partial = getattr(err, "partial", None)  # the clip that was written when its upload failed
        _fail(job_id, err, **(clip_fields(partial) if partial is not None else {}))
    return st.get(job_id)


def run_clip_unrecorded(job_id: str, request: dict[str, Any]) -> ItemResult:
    """`gan_wav` on a worker with no job store (RabbitMQ alone, as the old deployment had).

    No record says that an earlier delivery already ran, so a redelivered message runs again and lands
    on the same result: the seed comes from the uuid (`job_config`), so the wav holds the same bytes,
    written atomically under the same name, and an upload of identical bytes is a no-op
    (`upload_file` answers "unchanged": the object keeps its generation). Failures raise, so Celery
    answers the caller with FAILURE.
    """
    result = clip_item(job_id, request, settings())
    status = (result.upload or {}).get("status") or "kept local"
    log.info("gan_wav %s: %s (%s)", job_id, result.uri or result.path, status)
    return result


def run_speech(job_id: str, request: dict[str, Any], hostname: str) -> dict[str, str]:
    """Synthesise sentence by sentence (`iter_synthesize`), pushing each one's PCM for the API to stream."""
    from forv_tts._process import startup
    from forv_tts.errors import CancelledError
    from forv_tts.synthesis import iter_synthesize
    from forv_tts.timing import Timer
    from forv_tts.voices.registry import default_registry

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
        st.push_chunk(job_id, names.end_frame({"state": names.STATE_FAILED}))
        return st.get(job_id)
    if action != "run":
        return st.get(job_id)
    conf = settings()
    done = 0

    def before(index: int, total: int) -> bool:
        st.update(job_id, {"sentences_done": str(index), "sentences_total": str(total)}, publish=False)
        if st.cancelled(job_id):
            return False
        _pause_for_tests(conf)
        return True

    t0 = time.perf_counter()
    try:
        info = voice_info(request["member"], conf)
        config = job_config(job_id, conf, speed=request.get("speed"), seed=request.get("seed"))
        startup.size_threads_for(info.engine)
        voice = default_registry().get(info)
        stages: list[dict[str, Any]] = []
        # A long sentence comes in parts as each is final (the same samples): its first sound does
        # not wait for all of it.
        sentences = iter_synthesize(request["text"], voice, config, before=before, stages=stages, parts=True)
        timer = Timer()
        started = False
        for chunk in sentences:
            # Each sentence's times go before its last part's audio (they need its trimmed length).
            timing = timer.add_part(chunk, stages[-1] if stages else None)
            if timing is not None:
                st.push_chunk(job_id, names.timing_frame(timing.to_dict()))
            st.push_chunk(job_id, names.audio_frame(chunk.sample_rate, chunk.pcm16()))
            if not started:  # what the first sound waited for: loading, normalising, the first part
                started = True
                first = {
                    "first_chunk_s": f"{time.perf_counter() - t0:.4f}",
                    "first_sentence_s": f"{chunk.synthesis_s:.4f}",
                }
                st.update(job_id, first, publish=False)
            if chunk.last:
                done += 1
        st.update(
            job_id, {"state": names.STATE_DONE, "sentences_done": str(done), "finished": repr(time.time())}
        )
        st.push_chunk(job_id, names.end_frame({"state": names.STATE_DONE}))
    except CancelledError as err:
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
        st.push_chunk(job_id, names.end_frame(end))
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
        request = names.clip_request(member, text, created)
        if not settings().result_backend:
            run_clip_unrecorded(job_id, request)
            return True
        record = run_clip(job_id, request, self.request.hostname or "worker")
        if record.get("state") != names.STATE_DONE:
            raise RuntimeError(record.get("error") or f"job {job_id} ended {record.get('state')}")
        return True

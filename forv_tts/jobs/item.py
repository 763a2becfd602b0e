"""The work of one item: normalise, synthesise, write, upload; a failure becomes a failed record.

Runs in a batch worker, or in-process for `--jobs 1`."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import resource
import threading
import time
import uuid as _uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forv_tts._process.runtime import prefer_passive_openmp, reuse_freed_memory
from forv_tts.errors import ForvError
from forv_tts.jobs.manifest import file_sha256
from forv_tts.voices.base import ENGINE_ESPEAK, VoiceInfo

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130

FORMAT_TEXT = "text"
FORMAT_JSONL = "jsonl"
FORMATS = (FORMAT_TEXT, FORMAT_JSONL)
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"
MANIFEST_NAME = "manifest.jsonl"

# Fixed namespace for derived uuids: uuid5(_NAMESPACE, "<input sha256>:<line>").
_NAMESPACE = _uuid.UUID("6f0c8a52-3b1e-5d7a-9c41-2e8f7b6d4a10")
_MAX_POOL_RESTARTS = 3
_TICK_S = 0.25
_MAX_FAILURES_LISTED = 50


@dataclass(frozen=True)
class UploadSpec:
    """Where finished clips go (`upload_file` arguments)."""

    bucket: str
    timeout: float
    overwrite: bool = False


# --- the work of one item (runs in a worker, or in-process for --jobs 1) ------------------------------


@dataclass(frozen=True)
class Task:
    """One item, resolved: everything a worker needs, picklable."""

    record: dict[str, Any]
    info: VoiceInfo
    text: str
    path: str
    object_name: str
    seed: int
    length_scale: float | None
    normalize: bool
    upload: UploadSpec | None
    previous: dict[str, Any] | None = None  # verified clip on disk that only needs uploading
    lexicon: Lexicon | None = None  # the user lexicon (forv_tts.text.lexicon), picklable


_threads_wanted: int | None = None
_threads_set = False
_work_lock = threading.Lock()


def want_torch_threads(threads: int) -> None:
    """The thread count `_ensure_torch_threads` applies before this process's first item."""
    global _threads_wanted
    _threads_wanted = threads


def _ensure_torch_threads() -> None:
    """Size torch's pools before the first model runs (later changes to interop threads are refused)."""
    global _threads_set
    if _threads_set or _threads_wanted is None:
        return
    prefer_passive_openmp()
    reuse_freed_memory()
    from forv_tts.voices.onnx import ENGINE_ONNX, resolve_engine

    if resolve_engine() == ENGINE_ONNX:
        from forv_tts.voices.onnx.voice import THREADS_ENV

        # The same count for onnxruntime's pool: with a seed it is 1, for the same bytes at any --jobs.
        os.environ[THREADS_ENV] = str(_threads_wanted)
        _threads_set = True
        return
    import torch

    torch.set_num_threads(_threads_wanted)
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)
    _threads_set = True


class _WarningCapture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def process_task(task: Task) -> dict[str, Any]:
    """Synthesise (or, for a verified clip, only upload) one item; failures become a failed record.

    Returns `{"record": ..., "pid": ..., "maxrss_kb": ...}`. Never raises for a bad item: the run goes on.
    """
    from forv_tts.audio import wav_bytes
    from forv_tts.storage.local import atomic_write_bytes
    from forv_tts.synthesis import prepare_text, synthesize_sentences
    from forv_tts.voices.registry import load_voice

    t0 = time.perf_counter()
    record = dict(task.record)
    capture = _WarningCapture()
    pkg_log = logging.getLogger("forv_tts")
    pkg_log.addHandler(capture)
    # An item's warnings (e.g. dropped characters) go to its manifest record; thousands of them on stderr
    # would bury the failures. With -v (INFO) they are shown as well.
    propagate = pkg_log.propagate
    pkg_log.propagate = pkg_log.getEffectiveLevel() <= logging.INFO
    path = Path(task.path)
    try:
        if task.previous is not None and file_sha256(path) == task.previous.get("sha256"):
            for key in ("normalized", "duration", "sample_rate", "sha256"):
                record[key] = task.previous.get(key)
        else:
            if task.info.engine != ENGINE_ESPEAK:
                _ensure_torch_threads()
            sentences = prepare_text(task.text, normalize=task.normalize, lexicon=task.lexicon)
            voice = load_voice(task.info)
            audio = synthesize_sentences(voice, sentences, seed=task.seed, length_scale=task.length_scale)
            data = wav_bytes(audio)
            atomic_write_bytes(path, data)
            record.update(
                normalized=" ".join(sentences),
                duration=round(audio.duration, 3),
                sample_rate=audio.sample_rate,
                sha256=hashlib.sha256(data).hexdigest(),
            )
        if task.upload is not None:
            from forv_tts.storage.gcs import upload_file

            result = upload_file(
                path,
                bucket=task.upload.bucket,
                object_name=task.object_name,
                timeout=task.upload.timeout,
                overwrite=task.upload.overwrite,
            )
            record["uri"] = result.uri
        record["status"] = STATUS_OK
    except ForvError as err:
        record.update(status=STATUS_FAILED, error=str(err))
    except Exception as err:
        log.debug("line %s failed", record.get("line"), exc_info=True)
        record.update(status=STATUS_FAILED, error=f"unexpected {type(err).__name__}: {err}")
    finally:
        pkg_log.removeHandler(capture)
        pkg_log.propagate = propagate
    if capture.messages:
        record["warnings"] = capture.messages
    record["seconds"] = round(time.perf_counter() - t0, 3)
    return {
        "record": record,
        "pid": os.getpid(),
        "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }

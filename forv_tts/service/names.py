"""Names the API and the workers must agree on: queues, task names, Redis keys, the request of a clip
job and the framing of a speech job's audio chunks.

No imports beyond the standard library, so the API process can use them freely.
"""

from __future__ import annotations

import json
import struct
from typing import Any

BUILTIN = "builtin"
QUEUE_PREFIX = "tts.member."
#: The old Flask app sent `gan_wav` without a queue, so it lands on Celery's default queue.
LEGACY_QUEUE = "celery"

TASK_JOB = "forv_tts.job"
TASK_SPEECH = "forv_tts.speech"
#: The old app's task name and positional arguments `(uuid, member_id, text, created_at)`.
TASK_LEGACY = "gan_wav"

KEY_PREFIX = "forv-tts:"
EVENTS_CHANNEL = KEY_PREFIX + "events"
WORKERS_KEY = KEY_PREFIX + "workers"

STATE_QUEUED = "queued"
STATE_RUNNING = "running"
STATE_DONE = "done"
STATE_FAILED = "failed"
STATE_CANCELLED = "cancelled"
FINAL_STATES = (STATE_DONE, STATE_FAILED, STATE_CANCELLED)

KIND_CLIP = "clip"  # /api/texts, /v1/jobs, gan_wav: a wav written (and uploaded)
KIND_SPEECH = "speech"  # /v1/audio/speech: audio streamed back through the backend

#: A speech job's chunk list: `CHUNK_AUDIO` + sample rate (uint32 LE) + PCM16 per sentence, each after
#: a `CHUNK_TIMING` + JSON (that sentence's times, `SentenceTiming.to_dict()`), then one `CHUNK_END` +
#: JSON (`{"state": "done"}`, or `"failed"` with its `code` and `error`).
CHUNK_AUDIO = b"A"
CHUNK_END = b"E"
CHUNK_TIMING = b"T"


def clip_request(member: str, text: str, created_at: str) -> dict[str, Any]:
    """The canonical request of a clip job: the API and the legacy `gan_wav` task build the same one."""
    return {"kind": KIND_CLIP, "member": member, "text": text, "created_at": created_at}


def audio_frame(sample_rate: int, pcm: bytes) -> bytes:
    """One sentence's audio as a chunk of the list."""
    return CHUNK_AUDIO + struct.pack("<I", sample_rate) + pcm


def timing_frame(timing: dict[str, Any]) -> bytes:
    """One sentence's times (before its audio), as a chunk of the list."""
    return CHUNK_TIMING + json.dumps(timing, ensure_ascii=False).encode()


def end_frame(end: dict[str, Any]) -> bytes:
    """The chunk that ends the list."""
    return CHUNK_END + json.dumps(end).encode()


def read_frame(frame: bytes) -> tuple[bytes, int, bytes]:
    """`(CHUNK_AUDIO, sample_rate, pcm)`, `(CHUNK_TIMING, 0, json)` or `(CHUNK_END, 0, json)`."""
    if frame[:1] == CHUNK_AUDIO:
        return CHUNK_AUDIO, struct.unpack("<I", frame[1:5])[0], frame[5:]
    if frame[:1] == CHUNK_TIMING:
        return CHUNK_TIMING, 0, frame[1:]
    return CHUNK_END, 0, frame[1:]


def queue_for(member: str | None) -> str:
    """`tts.member.<id>`; the built-in voice has `tts.member.builtin`."""
    return QUEUE_PREFIX + (member or BUILTIN)


def member_of_queue(queue: str) -> str | None:
    """The member a queue serves, or None for a queue that is not a member's."""
    return queue[len(QUEUE_PREFIX) :] if queue.startswith(QUEUE_PREFIX) else None


def job_key(job_id: str) -> str:
    """Hash holding a job's record."""
    return f"{KEY_PREFIX}job:{job_id}"


def chunks_key(job_id: str) -> str:
    """List of audio chunks a speech job pushes for the API to stream."""
    return f"{KEY_PREFIX}chunks:{job_id}"


def cancel_key(job_id: str) -> str:
    """Set when the client of a speech job went away: the worker stops at the next sentence."""
    return f"{KEY_PREFIX}cancel:{job_id}"


def worker_key(name: str) -> str:
    """A worker's heartbeat (its queues and members), expiring when it stops beating."""
    return f"{KEY_PREFIX}worker:{name}"

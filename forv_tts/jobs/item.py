"""One request end to end: normalise → synthesise → write → upload, as a plain function.

`run_item` is the runner every front end shares: `forv-tts say` and `forv-tts batch` (each item, in a
worker process) call it now; the Celery worker and the synchronous HTTP path call it too. It takes
plain values and returns a plain `ItemResult`, or raises a typed `ForvError` (`forv_tts.errors`) whose
`code` says what went wrong; it never prints.

    from forv_tts.jobs.item import Destination, UploadSpec, run_item

    result = run_item(
        "안녕하세요",
        member="3",                                   # or None (built-in voice) or a VoiceInfo
        uuid="022db29c-d0e2-11e5-bb4c-60f81dca7676",  # default: a new uuid4
        created_at="2022-08-22",                      # default: today
        config=SynthesisConfig(seed=7),
        destination=Destination(local_dir=Path("out"), upload=UploadSpec(bucket="forv_bucket")),
    )
    result.path, result.uri, result.url, result.duration, result.sha256, result.timings
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forv_tts.config import DEFAULT_CONFIG, SynthesisConfig
from forv_tts.errors import ClipConflictError, ForvError, InvalidInputError, UploadError
from forv_tts.storage.gcs import DEFAULT_TIMEOUT_S  # imports no Google code
from forv_tts.storage.naming import ClipName
from forv_tts.voices.base import VoiceInfo

if TYPE_CHECKING:
    from forv_tts.storage.gcs import UploadResult
    from forv_tts.timing import SentenceTiming
    from forv_tts.voices.registry import VoiceRegistry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadSpec:
    """Where and how a finished clip is uploaded; checked when made (bucket name, timeout, expiry).

    `overwrite` replaces an object holding different bytes (default: `object_exists` error);
    `keep_local=False` deletes the local file once the upload is confirmed; `signed_url` also makes a
    V4 signed URL valid that long; `attempts` tries (`backoff` seconds apart, doubling) for the errors
    another try can mend (`gcs.upload_file`: the CLI tries once, the service's workers
    `$FORV_TTS_UPLOAD_ATTEMPTS` times).
    """

    bucket: str
    timeout: float = DEFAULT_TIMEOUT_S
    overwrite: bool = False
    keep_local: bool = True
    signed_url: _dt.timedelta | None = None
    attempts: int = 1
    backoff: float = 1.0

    def __post_init__(self) -> None:
        from forv_tts.storage import gcs

        object.__setattr__(self, "bucket", gcs.validate_bucket(self.bucket))
        object.__setattr__(self, "timeout", gcs.check_timeout(self.timeout))
        if self.signed_url is not None:
            gcs.check_expiry(self.signed_url)
        if self.attempts < 1:
            raise InvalidInputError.bad_value("upload_attempts", self.attempts, "use 1 or more")
        if not self.backoff >= 0:
            raise InvalidInputError.bad_value("upload_backoff", self.backoff, "use 0 or more seconds")


@dataclass(frozen=True)
class Destination:
    """Where the clip goes.

    - `local_dir` (default `.`): the clip goes to `wav_files/<member>/<uuid>_<created_at>_voice.wav` under it
      (the team naming, `ClipName`);
    - `path`: an explicit file instead (any name; the object name still follows the team naming);
    - `upload`: also upload it to GCS. With neither `local_dir` nor `path` the clip is written to a
      temporary file for the upload and removed after it (`result.path` is then None).
    - `format`: the file's audio format (`forv_tts.encoding.FORMATS`, default wav); under `local_dir`
      the team name takes its extension (`…_voice.mp3`). Uploads keep the team's wav objects, so an
      upload needs wav.
    """

    local_dir: Path | None = Path(".")
    path: Path | None = None
    upload: UploadSpec | None = None
    format: str = "wav"

    def __post_init__(self) -> None:
        from forv_tts.encoding import check_format

        if self.local_dir is None and self.path is None and self.upload is None:
            raise InvalidInputError("the destination has no local directory, no path and no upload")
        object.__setattr__(self, "format", check_format(self.format))
        if self.upload is not None and self.format != "wav":
            raise InvalidInputError.bad_value(
                "format", self.format, "uploads are the team's wav objects (<uuid>_<created_at>_voice.wav)"
            )


@dataclass
class ItemResult:
    """What one request produced (`to_dict` is JSON-ready). Timings are seconds per stage."""

    member: str
    uuid: str
    created_at: str
    object_name: str
    text: str
    sentences: list[str]
    duration: float
    sample_rate: int
    sha256: str
    size: int
    path: str | None = None
    uri: str | None = None
    url: str | None = None
    upload: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    #: When each sentence and word is spoken in the clip (`forv_tts.timing`; `say --json`, captions).
    spoken: list[SentenceTiming] = field(default_factory=list)

    @property
    def normalized(self) -> str:
        """The sentences as one line (what the manifest and `say --json` call `normalized`)."""
        return " ".join(self.sentences)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "member": self.member,
            "uuid": self.uuid,
            "created_at": self.created_at,
            "object": self.object_name,
            "path": self.path,
            "uri": self.uri,
            "url": self.url,
            "text": self.text,
            "normalized": self.normalized,
            "sentences": self.sentences,
            "duration": round(self.duration, 3),
            "sample_rate": self.sample_rate,
            "sha256": self.sha256,
            "size": self.size,
            "upload": self.upload,
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }


def check_upload_ready(spec: UploadSpec) -> None:
    """Credentials exist (and can sign, when a signed URL is wanted): fail before synthesising."""
    from forv_tts.storage import gcs

    gcs.get_client()
    if spec.signed_url is not None:
        gcs.check_can_sign()


def upload_clip(
    path: Path,
    name: ClipName | str,
    spec: UploadSpec,
    on_retry: Callable[[int, UploadError], None] | None = None,
    started: float | None = None,
) -> UploadResult:
    """Upload an existing clip as `name` (a `ClipName` or an object name) the way `spec` says: what
    `run_item`, batch (clips already on disk) and `forv-tts upload` call. `spec.timeout` is one deadline
    from `started` (`time.monotonic()`, default now) across every try."""
    from forv_tts.storage import gcs

    return gcs.upload_file(
        path,
        bucket=spec.bucket,
        object_name=name.object_name if isinstance(name, ClipName) else name,
        timeout=spec.timeout,
        overwrite=spec.overwrite,
        signed_url=spec.signed_url,
        keep_local=spec.keep_local,
        attempts=spec.attempts,
        backoff=spec.backoff,
        on_retry=on_retry,
        started=started,
    )


def _conflict(name: ClipName, existing: str, why: str) -> ClipConflictError:
    return ClipConflictError(
        f"uuid {name.uuid} already names a clip ({existing}) {why}: use a new uuid; nothing was written",
        field="uuid",
        uuid=name.uuid,
        existing=existing,
    )


def check_no_other_clip(name: ClipName, local_dir: Path, target: Path) -> None:
    """A uuid names one clip forever: a clip under `local_dir` named by this uuid but not `target` (another
    member, date or format) was made by a different request, so this one is refused (before any work)."""
    from forv_tts.storage.naming import clips_named_by

    for found in clips_named_by(local_dir, name.uuid):
        if found != target:
            where = found.relative_to(local_dir) if found.is_relative_to(local_dir) else found
            raise _conflict(name, str(where), "for another member, date or format")


def _same_file(path: Path, digest: str) -> bool | None:
    """True/False: the file holds (not) these bytes (sha256 hex); None: there is no file."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest() == digest
    except FileNotFoundError:
        return None


def check_bucket_object(name: ClipName, spec: UploadSpec, data: bytes) -> None:
    """Before the local write: an object under the clip's name holding other bytes is a clip made by a
    different request, refused before anything is written (one quick look, `gcs.existing_md5`). When
    the bucket cannot be asked, the upload's own precondition (`ifGenerationMatch=0`) still refuses."""
    from forv_tts.storage import gcs

    try:
        remote = gcs.existing_md5(spec.bucket, name.object_name, timeout=spec.timeout)
    except Exception as err:  # unreachable, refused: the upload reports it with its retries
        log.info("could not look at gs://%s/%s before writing (%s)", spec.bucket, name.object_name, err)
        return
    if remote is not None and remote != hashlib.md5(data).hexdigest():
        raise _conflict(name, f"gs://{spec.bucket}/{name.object_name}", "with other audio in the bucket")


def run_item(
    text: str,
    *,
    member: str | VoiceInfo | None = None,
    uuid: str | None = None,
    created_at: str | None = None,
    config: SynthesisConfig | None = None,
    destination: Destination | None = None,
    voice_dir: str | os.PathLike[str] | None = None,
    step: int | None = None,
    registry: VoiceRegistry | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_upload_retry: Callable[[int, UploadError], None] | None = None,
) -> ItemResult:
    """Run one request: check everything, then normalise, synthesise, write, upload.

    Arguments:
        text: the raw text (normalised unless `config.normalize` is False).
        member: a member id, None (or "builtin") for the built-in voice, or a resolved `VoiceInfo`.
        uuid, created_at: the clip's name (`ClipName`); defaults a new uuid4 and today's date.
        config: seed, length scale, normalisation (`SynthesisConfig`; default: all defaults).
        destination: local directory and/or explicit path and/or upload (`Destination`; default: the
            team naming under the current directory, no upload).
        voice_dir, step: where members live and which checkpoint step (only when `member` is an id).
        registry: the voice registry to load from (default: the process's, `default_registry()`).
        progress: `progress(done, total)` before the first sentence and after each (the CLI's
            progress bar, the service's job record).
        on_upload_retry: `on_upload_retry(attempt, err)` after each failed upload try that is retried.

    Returns an `ItemResult` (member, uuid, created_at, object_name, path, uri, url, duration,
    sample_rate, sha256, size, sentences, timings{check, normalize, load, synthesize, write, upload,
    total}).

    A uuid names one clip forever: with the team naming (`local_dir`, no `path`) a clip under it named
    by this uuid for another member, date or format, or the same file with other bytes, is refused
    (`conflict`), as is an object in the bucket holding other bytes (unless `overwrite`); the same
    request again is a success that leaves the file as it is (the same bytes: with a uuid given and no
    seed, the seed comes from the uuid, as in batch and the service). An explicit `path` is the
    caller's file and is replaced.

    Raises (all `ForvError`, nothing written or uploaded unless said): `invalid_input` (bad uuid,
    created_at, member id, bucket, timeout), `conflict` (above), `unknown_member` / `incomplete_member` /
    `voice_dir_not_found`, `no_text`, `nothing_to_say`, `no_credentials` (before any synthesis),
    `voice_load_failed`, `synthesis_failed`; after the clip is written: `upload_failed`,
    `object_exists`, `bucket_not_found`, `upload_unreachable` (the local file is kept and named in
    the error, and `err.partial` is the `ItemResult` of the clip that was written, minus the upload).
    """
    from forv_tts import encoding, synthesis
    from forv_tts import timing as timing_stage
    from forv_tts.storage.local import atomic_write_bytes, check_writable
    from forv_tts.voices.registry import default_registry

    timings: dict[str, float] = {}
    t0 = last = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[stage] = now - last
        last = now

    config = config or DEFAULT_CONFIG
    destination = destination or Destination()
    info = member if isinstance(member, VoiceInfo) else synthesis.resolve_voice(member, voice_dir, step)
    name = ClipName.new(info.id, uuid, created_at)
    spec = destination.upload
    overwrite = spec is not None and spec.overwrite
    scratch: Path | None = None
    team = destination.path is None and destination.local_dir is not None
    if destination.path is not None:
        target = Path(destination.path)
        check_writable(destination.path)  # a bad path is refused before the voice loads
    elif destination.local_dir is not None:
        target = name.path_under(destination.local_dir)
        if destination.format != "wav":
            target = target.with_suffix(encoding.EXTENSIONS[destination.format])
        if not overwrite:
            check_no_other_clip(name, Path(destination.local_dir), target)
        if uuid is not None and config.seed is None:
            # The same request makes the same clip (as batch and the service do): so it is not refused.
            from forv_tts.jobs.input import derived_seed

            config = dataclasses.replace(config, seed=derived_seed(name.uuid))
    else:
        target = Path()  # a temporary file, made after synthesis
    if spec is not None:
        check_upload_ready(spec)
    lap("check")

    sentences, stages = timing_stage.stages_for(text, config, voice_dir=info.voice_dir)
    if config.normalize:
        synthesis.warn_dropped(text)  # once something speakable is known to remain
    lap("normalize")
    voice = (registry or default_registry()).get(info, config.engine)
    lap("load")
    timer = timing_stage.Timer(stages)
    pairs = []
    if progress is not None:
        progress(0, len(sentences))
    for chunk in synthesis.iter_sentences(voice, sentences, config):
        pairs.append((chunk, timer.add(chunk)))
        if progress is not None:
            progress(chunk.index + 1, len(sentences))
    audio, spoken = timing_stage.join_timed(pairs)
    lap("synthesize")

    data = encoding.encode(audio, destination.format)
    digest = hashlib.sha256(data).hexdigest()
    lap("encode")
    kept = False  # the team-named file already holds these bytes: left as it is
    if team:
        same = _same_file(target, digest)
        if same is False and not overwrite:
            raise _conflict(name, str(target), "with other audio (another request made it)")
        kept = bool(same)
    upload_started = time.monotonic()  # the upload's one deadline counts the look at the bucket too
    if spec is not None and not overwrite:
        check_bucket_object(name, spec, data)
    if destination.path is None and destination.local_dir is None:
        scratch = Path(tempfile.mkdtemp(prefix="forv-tts-"))
        target = scratch / name.file_name
    result = ItemResult(
        member=info.id,
        uuid=name.uuid,
        created_at=name.created_at,
        object_name=name.object_name,
        text=text,
        sentences=sentences,
        duration=audio.duration,
        sample_rate=audio.sample_rate,
        sha256=digest,
        size=len(data),
        path=str(target) if scratch is None else None,
        timings=timings,
        spoken=spoken,
    )
    try:
        if not kept:
            try:
                atomic_write_bytes(target, data, replace=not team or overwrite)
            except FileExistsError:  # another writer made it between the look and the write
                if not _same_file(target, digest):
                    raise _conflict(name, str(target), "with other audio (written meanwhile)") from None
        else:
            log.info("%s already holds these bytes: left as it is", target)
        lap("write")
        if spec is not None:
            if scratch is not None and spec.keep_local:
                spec = dataclasses.replace(spec, keep_local=False)
            try:
                uploaded = upload_clip(target, name, spec, on_upload_retry, started=upload_started)
            except ForvError as err:
                err.partial = result  # type: ignore[attr-defined]  # the clip that was written
                raise
            result.uri, result.url, result.upload = uploaded.uri, uploaded.url, uploaded.to_dict()
            if scratch is not None:
                result.upload["path"] = None
            lap("upload")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    timings["total"] = time.perf_counter() - t0
    log.info(
        "item %s: %.2f s of audio in %.2f s%s",
        name.object_name,
        audio.duration,
        timings["total"],
        f", uploaded to {result.uri}" if result.uri else "",
    )
    return result

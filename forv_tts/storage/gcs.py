"""Upload clips to Google Cloud Storage as `wav_files/<member>/<uuid>_<created_at>_voice.wav`.

Why it is shaped this way:

- Nothing is lost: the local wav is only deleted (`keep_local=False`) after the service has reported the
  object back with our size and md5. Every failure raises `UploadError` whose one-line message ends with
  where the local file is.
- Bounded waiting: the client's default retry runs for 120 s against an unreachable service. We pass a
  retry with a deadline (`DEFAULT_TIMEOUT_S`, `--upload-timeout`) and a per-request connect/read timeout of
  the same size, so a CI job fails within about that many seconds, with the reason.
- Never silently replace a different object: uploads carry `ifGenerationMatch=0` (which also makes them
  safe to retry). On a 412 the existing object's md5 is compared: the same bytes count as success
  (idempotent re-runs), different bytes are an error unless `overwrite=True`, which then replaces exactly
  the generation we looked at (`ifGenerationMatch=<that generation>`).
- Credentials the Google way: `STORAGE_EMULATOR_HOST` selects an emulator with anonymous credentials;
  otherwise Application Default Credentials (`GOOGLE_APPLICATION_CREDENTIALS`, gcloud ADC, metadata
  server). V4 signed URLs need a key that can sign locally: a service-account key file.
- Worker-friendly: `google.cloud` is imported lazily and one client is cached per process (and per
  credential environment), so batch workers each build their own on first use.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forv_tts import settings
from forv_tts.errors import (
    BucketNotFoundError,
    CredentialsError,
    InvalidInputError,
    MissingBucketError,
    ObjectExistsError,
    UnknownMemberError,
    UploadError,
    UploadUnreachableError,
)
from forv_tts.storage import naming
from forv_tts.storage.naming import ClipName

if TYPE_CHECKING:
    from google.cloud.storage import Blob, Client

log = logging.getLogger(__name__)

BUCKET_ENV = settings.BUCKET.env
EMULATOR_ENV = settings.EMULATOR_HOST.env
CREDENTIALS_ENV = settings.CREDENTIALS.env
CONTENT_TYPE = "audio/wav"
DEFAULT_TIMEOUT_S = 30.0
"""Retry deadline for one upload: long enough for a few backed-off retries of a transient 5xx/429, short
enough that an unreachable service fails a CI job in seconds rather than the client's 120 s."""
MAX_CONNECT_TIMEOUT_S = 10.0
MAX_SIGNED_URL = _dt.timedelta(days=7)
"""V4 signed URLs are valid for at most 7 days."""

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SCOPES = ("https://www.googleapis.com/auth/devstorage.read_write",)


@dataclass(frozen=True)
class UploadResult:
    """One confirmed object; `to_dict` is the `--json` record.

    `md5` is hex (what `md5sum` prints); `status` is "uploaded", "unchanged" (the same bytes were already
    there) or "overwritten"; `local_kept` is False only when the local file was deleted after confirmation.
    """

    uri: str
    url: str
    bucket: str
    object: str
    size: int
    md5: str
    path: str
    status: str
    generation: int | None
    local_kept: bool
    signed_url: str | None = None
    signed_url_expires: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record."""
        return {
            "uri": self.uri,
            "url": self.url,
            "bucket": self.bucket,
            "object": self.object,
            "size": self.size,
            "md5": self.md5,
            "path": self.path,
            "status": self.status,
            "generation": self.generation,
            "local_kept": self.local_kept,
            "signed_url": self.signed_url,
            "signed_url_expires": self.signed_url_expires,
        }

    def line(self) -> str:
        """The one stdout line for this upload: URI, URL and (when made) the signed URL, tab-separated."""
        fields = [self.uri, self.url]
        if self.signed_url:
            fields.append(self.signed_url)
        return "\t".join(fields)


# --- inputs --------------------------------------------------------------------------------------


_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")


def validate_bucket(name: str) -> str:
    """A GCS bucket name (lower-case letters, digits, '-', '_', '.'); it cannot smuggle a path."""
    if not isinstance(name, str) or not _BUCKET.fullmatch(name) or ".." in name:
        raise InvalidInputError.bad_value(
            "bucket", name, "use 3-222 lower-case letters, digits, '-', '_' or '.'"
        )
    return name


def resolve_bucket(option: str | None) -> str:
    """The bucket given, else `$FORV_TTS_BUCKET` (`forv_tts.settings`), else `MissingBucketError`."""
    value = settings.bucket(option)
    if not value:
        raise MissingBucketError("no bucket given", setting=BUCKET_ENV)
    return validate_bucket(value)


def parse_duration(text: str) -> _dt.timedelta:
    """`90`, `90s`, `15m`, `1h`, `7d` → timedelta; V4 signed URLs allow 1 s to 7 days."""
    match = _DURATION.fullmatch(text or "")
    if not match:
        raise InvalidInputError.bad_value("signed_url", text, "give a duration such as 900, 15m, 1h or 7d")
    delta = _dt.timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])
    try:
        return check_expiry(delta)
    except InvalidInputError:
        raise InvalidInputError.bad_value("signed_url", text, "V4 signed URLs last from 1 s to 7d") from None


def check_expiry(delta: _dt.timedelta) -> _dt.timedelta:
    """A signed URL's lifetime: more than 0, at most 7 days."""
    if delta <= _dt.timedelta(0) or delta > MAX_SIGNED_URL:
        raise InvalidInputError.bad_value("signed_url", str(delta), "V4 signed URLs last from 1 s to 7d")
    return delta


def check_timeout(timeout: float) -> float:
    """An upload deadline must be a positive number of seconds."""
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise InvalidInputError.bad_value("upload_timeout", timeout, "give a positive number of seconds")
    return value


def known_members(voice_dir: Path) -> list[str]:
    """Member ids an upload may name: the built-in voice plus every member folder in the voice dir.

    The same rule as `forv-tts members` (`glow-tts/<id>/` or `hifigan-v2/<id>/`), without requiring the
    checkpoints to be complete: uploading clips made earlier must not need the weights.
    """
    from forv_tts.voices.base import BUILTIN_VOICE_ID
    from forv_tts.voices.layout import member_ids

    return [BUILTIN_VOICE_ID, *member_ids(Path(voice_dir))]


def validate_known_member(member: str, voice_dir: Path) -> str:
    """Reject a malformed or unknown member id before anything is uploaded."""
    member = naming.validate_member_id(member)
    known = known_members(voice_dir)
    if member not in known:
        raise UnknownMemberError(
            f"unknown member {member!r}: not in {voice_dir} (known: {', '.join(known)})",
            member=member,
            voice_dir=str(voice_dir),
            available=known,
        )
    return member


def is_wav(path: Path) -> bool:
    """A RIFF (or RF64) WAVE header: enough to stop a text file or an mp3 being published as a clip."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return len(head) == 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE"


def object_name_for(
    path: Path, member: str, *, uuid: str | None = None, created_at: str | None = None
) -> str:
    """The object name for an existing clip: uuid and created_at as given, else from its file name."""
    return ClipName.from_file(path, member, uuid=uuid, created_at=created_at).object_name


def plan_uploads(
    files: list[Path], member: str, *, uuid: str | None = None, created_at: str | None = None
) -> list[tuple[Path, str]]:
    """Check every clip and name its object before anything is uploaded.

    Each file must be a wav; two files that would land on the same object name are refused, so a
    multi-file upload either starts with a clean plan or does nothing.
    """
    plan, refused = plan_each_upload(files, member, uuid=uuid, created_at=created_at)
    if refused:
        raise refused[0][1]
    return plan


def plan_each_upload(
    files: list[Path], member: str, *, uuid: str | None = None, created_at: str | None = None
) -> tuple[list[tuple[Path, str]], list[tuple[Path, InvalidInputError]]]:
    """`plan_uploads` per file: the clips that can be uploaded, and why each of the others cannot.

    For `upload out/*.wav`: one badly named file (`say -o hi.wav`) must not hold back the others.
    """
    if (uuid is not None or created_at is not None) and len(files) != 1:
        raise InvalidInputError(
            "a uuid or created_at names a single clip: give exactly one file with them", field="uuid"
        )
    plan: list[tuple[Path, str]] = []
    refused: list[tuple[Path, InvalidInputError]] = []
    seen: dict[str, Path] = {}
    for path in files:
        try:
            check_local_wav(path)
            name = object_name_for(path, member, uuid=uuid, created_at=created_at)
            if name in seen:
                raise InvalidInputError(
                    f"{path} and {seen[name]} would both upload as {name}", object_name=name
                )
        except InvalidInputError as err:
            refused.append((path, err))
            continue
        seen[name] = path
        plan.append((path, name))
    return plan, refused


def check_object_name(object_name: str) -> str:
    """Accept only the canonical `wav_files/<member>/<uuid>_<created_at>_voice.wav` (re-validated)."""
    ClipName.parse(object_name)
    return object_name


def check_local_wav(path: Path) -> Path:
    """The file must exist and be a wav; raised before any upload starts."""
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"{path}: no such file", path=str(path))
    if not is_wav(path):
        raise InvalidInputError(
            f"{path} is not a wav file (no RIFF/WAVE header): only wav clips are uploaded", path=str(path)
        )
    return path


# --- client and credentials --------------------------------------------------------------------------


_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Client] = {}


def _client_key() -> tuple[Any, ...]:
    # Keyed on the pid so a forked worker never reuses its parent's connection pool, and on the
    # environment so tests (and long-lived processes) that switch endpoints get a matching client.
    return (os.getpid(), settings.EMULATOR_HOST.get(), settings.CREDENTIALS.get(), settings.PROJECT.get())


def _no_credentials_message(detail: str = "") -> str:
    prefix = f"no usable Google credentials ({detail})" if detail else "no Google credentials found"
    return (
        f"{prefix}: set {CREDENTIALS_ENV} to a service-account key file or run "
        f"'gcloud auth application-default login' (or set {EMULATOR_ENV} for an emulator)"
    )


def get_client() -> Client:
    """The storage client for this process, created on first use.

    Raises `CredentialsError` with what to set when no credentials can be found; the error never carries
    key material.
    """
    key = _client_key()
    with _lock:
        client = _clients.get(key)
        if client is not None:
            return client
        client = _make_client()
        _clients[key] = client
        return client


def _make_client() -> Client:
    from google.cloud import storage

    emulator = settings.EMULATOR_HOST.get()
    if emulator:
        # The library switches to anonymous credentials and the emulator's endpoint by itself.
        log.debug("using the storage emulator at %s", emulator)
        return storage.Client()
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    key_file = settings.CREDENTIALS.get()
    if key_file and not Path(key_file).is_file():
        raise CredentialsError(_no_credentials_message(f"{CREDENTIALS_ENV} names a missing file: {key_file}"))
    # google.auth logs a WARNING per failed source (e.g. "unavailable metadata server"); our error says
    # what to do in one line, so its chatter is only shown with --debug.
    auth_log = logging.getLogger("google.auth")
    previous = auth_log.level
    if not log.isEnabledFor(logging.DEBUG):
        auth_log.setLevel(logging.ERROR)
    try:
        credentials, project = google.auth.default(scopes=list(_SCOPES))
    except DefaultCredentialsError:
        detail = f"{CREDENTIALS_ENV} file {key_file} could not be loaded" if key_file else ""
        raise CredentialsError(_no_credentials_message(detail)) from None
    finally:
        auth_log.setLevel(previous)
    return storage.Client(project=project, credentials=credentials)


def _signing_credentials(client: Client) -> Any:
    """Credentials that can sign a V4 URL locally, or a `CredentialsError` saying what to set."""
    from google.auth.credentials import Signing

    key_file = settings.CREDENTIALS.get()
    if settings.EMULATOR_HOST.get():
        # The emulator client is anonymous; a service-account key named explicitly can still sign.
        if not key_file:
            raise CredentialsError(
                "cannot make a signed URL with the emulator's anonymous credentials: "
                f"set {CREDENTIALS_ENV} to a service-account key file"
            )
        from google.oauth2 import service_account

        try:
            return service_account.Credentials.from_service_account_file(key_file)
        except (OSError, ValueError, KeyError):
            raise CredentialsError(
                f"cannot make a signed URL: {CREDENTIALS_ENV} file {key_file} is not a service-account key"
            ) from None
    credentials = client._credentials
    if isinstance(credentials, Signing):
        return credentials
    raise CredentialsError(
        f"cannot make a signed URL with {type(credentials).__name__} credentials (they cannot sign): "
        f"set {CREDENTIALS_ENV} to a service-account key file"
    )


def check_can_sign() -> None:
    """Fail before uploading when `--signed-url` was asked for but the credentials cannot sign."""
    _signing_credentials(get_client())


# --- upload ------------------------------------------------------------------------------------------


def _md5(path: Path) -> tuple[str, int]:
    digest = hashlib.md5()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _b64_to_hex(value: str | None) -> str | None:
    return base64.b64decode(value).hex() if value else None


def _endpoint(client: Client) -> str:
    return str(getattr(client, "api_endpoint", None) or "https://storage.googleapis.com")


def _causes(err: BaseException) -> list[BaseException]:
    """The exception and everything it wraps (api_core `cause`, urllib3 `reason`, chained, args)."""
    out: list[BaseException] = []
    todo: list[BaseException] = [err]
    while todo:
        current = todo.pop(0)
        if any(current is seen for seen in out):
            continue
        out.append(current)
        for attr in ("cause", "reason", "__cause__", "__context__"):
            nxt = getattr(current, attr, None)
            if isinstance(nxt, BaseException):
                todo.append(nxt)
        todo.extend(a for a in current.args if isinstance(a, BaseException))
    return out


def _reason(err: BaseException) -> str:
    """The innermost useful cause of a transport failure, e.g. "[Errno 111] Connection refused"."""
    causes = _causes(err)
    for cause in reversed(causes):
        if isinstance(cause, OSError) and cause.strerror:
            return f"[Errno {cause.errno}] {cause.strerror}" if cause.errno else str(cause.strerror)
    for cause in reversed(causes):
        if "timeout" in type(cause).__name__.lower() or "timed out" in str(cause).lower():
            return "timed out"
    return type(causes[-1]).__name__


def _describe(
    err: BaseException,
    *,
    client: Client,
    bucket: str,
    object_name: str,
    timeout: float,
    elapsed: float,
    local: Path,
) -> UploadError:
    """The typed error, with one line a user can act on, for any failure the client raises."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc

    uri = f"gs://{bucket}/{object_name}"
    endpoint = _endpoint(client)
    kept = f"; local file kept: {local}"
    common: dict[str, Any] = {"uri": uri, "local_path": str(local)}
    if isinstance(err, gexc.RetryError):
        reason = _reason(err)
        return UploadUnreachableError(
            f"could not reach {endpoint} ({reason}), gave up after {elapsed:.1f} s of retries "
            f"(deadline {timeout:g} s): check the network or {EMULATOR_ENV}{kept}",
            endpoint=endpoint,
            reason=reason,
            timeout=timeout,
            elapsed=round(elapsed, 3),
            **common,
        )
    if isinstance(err, gexc.NotFound):
        return BucketNotFoundError(
            f"bucket {bucket!r} not found at {endpoint} (or not visible to these credentials){kept}",
            bucket=bucket,
            endpoint=endpoint,
            **common,
        )
    if isinstance(err, gexc.Forbidden):
        message = (
            f"permission denied writing {uri}: the credentials need storage.objects.create on {bucket!r}"
        )
    elif isinstance(err, gexc.Unauthorized):
        message = f"the credentials were rejected (401): refresh them or fix {CREDENTIALS_ENV}"
    elif isinstance(err, aexc.RefreshError | aexc.TransportError):
        message = (
            f"could not get an access token ({type(err).__name__}): check the network and {CREDENTIALS_ENV}"
        )
    elif isinstance(err, gexc.GoogleAPICallError):
        detail = str(getattr(err, "message", "") or "").splitlines()[0:1]
        message = f"storage refused {uri} ({err.code}{': ' + detail[0] if detail else ''})"
    elif type(err).__name__ == "DataCorruption":
        message = f"{uri} arrived corrupted (checksum mismatch); nothing was confirmed"
    elif isinstance(err, ConnectionError | TimeoutError | OSError) or "requests" in type(err).__module__:
        reason = _reason(err)
        return UploadUnreachableError(
            f"could not reach {endpoint} ({reason}): check the network or {EMULATOR_ENV}{kept}",
            endpoint=endpoint,
            reason=reason,
            timeout=timeout,
            elapsed=round(elapsed, 3),
            **common,
        )
    else:
        name = type(err).__name__
        message = f"upload of {uri} failed ({name}: {str(err).splitlines()[0] if str(err) else ''})"
    return UploadError(f"{message}{kept}", **common)


#: Upload failures another attempt cannot mend: different bytes under the name, no such bucket, no
#: credentials. Every other `UploadError` (unreachable, refused by the server, corrupted on the way) is
#: tried again when more than one attempt is asked for.
PERMANENT_UPLOAD_ERRORS: tuple[type[UploadError], ...] = (
    ObjectExistsError,
    BucketNotFoundError,
    CredentialsError,
)


#: The least time a try of `upload_file` is given: less cannot even connect.
MIN_TRY_S = 0.05
#: The one look before a write (`existing_md5`): a quick question, not a wait; an upload that follows
#: has its own deadline and precondition.
PROBE_TIMEOUT_S = 5.0


def existing_md5(bucket: str, object_name: str, *, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """The hex md5 of `gs://bucket/object_name`, or None when there is no such object: one request,
    no retries, within a quarter of the upload's `timeout` (at most `PROBE_TIMEOUT_S`). Raises whatever
    the client raises (the caller decides whether not knowing matters)."""
    bucket = validate_bucket(bucket)
    check_object_name(object_name)
    limit = min(PROBE_TIMEOUT_S, check_timeout(timeout) / 4)
    blob = get_client().bucket(bucket).get_blob(object_name, timeout=(limit, limit), retry=None)
    return None if blob is None else _b64_to_hex(blob.md5_hash) or ""


def _before_kept(message: str, said: str) -> str:
    """`message` with `(said)` added before its "; local file kept: …" tail (which stays last)."""
    head, sep, kept = message.partition("; local file kept: ")
    return f"{head} ({said}){sep}{kept}"


def upload_file(
    path: str | os.PathLike[str],
    *,
    bucket: str,
    object_name: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    overwrite: bool = False,
    signed_url: _dt.timedelta | None = None,
    keep_local: bool = True,
    attempts: int = 1,
    backoff: float = 1.0,
    on_retry: Callable[[int, UploadError], None] | None = None,
    started: float | None = None,
) -> UploadResult:
    """Upload one wav as `gs://bucket/object_name` (audio/wav) and confirm it by size and md5.

    Idempotent: if the object already holds the same bytes this is a success ("unchanged"). Different
    bytes under the name raise `UploadError` unless `overwrite`. With `keep_local=False` the local file is
    deleted only after the confirmation. Safe to call from worker processes.

    The one retry loop of every front end (`say`, `upload`, `batch`, the service's workers): up to
    `attempts` tries `backoff` seconds apart, doubling, for the errors not in `PERMANENT_UPLOAD_ERRORS`
    (`on_retry(attempt, err)` after each failed one). The last error is raised as its own class with
    its fields, and `attempts` added when there was more than one.

    `timeout` is one deadline for all of it, counted from `started` (a `time.monotonic()` instant,
    default now: `run_item` starts it at its look at the bucket): each try gets an equal share of what
    is left (its requests' read timeout, and the client's retries within it), no try or backoff starts
    past it, and the error says how long it really took. A stalled service (it accepts, never answers)
    fails after about `timeout` seconds, not `attempts` times that.
    """
    timeout = check_timeout(timeout)
    started = time.monotonic() if started is None else started
    deadline = started + timeout
    delay = backoff
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        share = max(MIN_TRY_S, (deadline - time.monotonic()) / (attempts - attempt + 1))
        try:
            return _upload_once(
                Path(path),
                bucket=bucket,
                object_name=object_name,
                timeout=share,
                overwrite=overwrite,
                signed_url=signed_url,
                keep_local=keep_local,
                started=started,
                deadline_s=timeout,
            )
        except UploadError as err:
            # No backoff, and no try, that would start past the deadline.
            out_of_time = deadline - time.monotonic() - delay < MIN_TRY_S
            if isinstance(err, PERMANENT_UPLOAD_ERRORS) or attempt >= attempts or out_of_time:
                timed = "gave up after" in err.message  # it says the time since `started` already
                if attempt > 1 or (out_of_time and not timed):
                    elapsed = time.monotonic() - started
                    plural = "s" if attempt > 1 else ""
                    said = f"after {attempt} attempt{plural}"
                    if not timed:
                        said += f" in {elapsed:.1f} s (deadline {timeout:g} s)"
                    fields = {**err.fields, "attempts": attempt, "elapsed": round(elapsed, 3)}
                    raise type(err)(_before_kept(err.message, said), **fields) from None
                raise
            log.warning("upload attempt %d of %d failed: %s", attempt, attempts, err)
            if on_retry is not None:
                on_retry(attempt, err)
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")


def _upload_once(
    local: Path,
    *,
    bucket: str,
    object_name: str,
    timeout: float,
    overwrite: bool,
    signed_url: _dt.timedelta | None,
    keep_local: bool,
    started: float,
    deadline_s: float,
) -> UploadResult:
    """One try of `upload_file`, within `timeout` seconds (its share of the deadline: `deadline_s`
    seconds from `started`, which the error messages report)."""
    from google.api_core import exceptions as gexc
    from google.cloud.storage.retry import DEFAULT_RETRY

    check_local_wav(local)
    bucket = validate_bucket(bucket)
    check_object_name(object_name)
    kept = f"local file kept: {local}"
    client = get_client()
    signer = _signing_credentials(client) if signed_url is not None else None
    uri = f"gs://{bucket}/{object_name}"
    try:
        md5_hex, size = _md5(local)
    except OSError as err:
        raise UploadError(
            f"cannot read {local}: {err.strerror or err}", uri=uri, local_path=str(local)
        ) from None

    retry = DEFAULT_RETRY.with_timeout(timeout)
    request_timeout = (min(MAX_CONNECT_TIMEOUT_S, timeout), timeout)
    target = client.bucket(bucket)
    blob: Blob = target.blob(object_name)
    t0 = time.perf_counter()
    status = "uploaded"
    try:
        try:
            blob.upload_from_filename(
                str(local),
                content_type=CONTENT_TYPE,
                if_generation_match=0,
                checksum="md5",
                timeout=request_timeout,
                retry=retry,
            )
        except gexc.PreconditionFailed:
            existing = target.get_blob(object_name, timeout=request_timeout, retry=retry)
            remote_md5 = _b64_to_hex(existing.md5_hash) if existing is not None else None
            if existing is not None and remote_md5 == md5_hex and existing.size == size:
                log.info("%s already holds these bytes (md5 %s): nothing to upload", uri, md5_hex)
                blob = existing
                status = "unchanged"
            elif not overwrite:
                raise ObjectExistsError(
                    f"{uri} already exists with different content (remote md5 {remote_md5 or 'unknown'}, "
                    f"local {md5_hex}); {kept}",
                    uri=uri,
                    remote_md5=remote_md5,
                    local_md5=md5_hex,
                    local_path=str(local),
                ) from None
            else:
                generation = existing.generation if existing is not None else 0
                log.info("replacing %s (generation %s)", uri, generation)
                blob = target.blob(object_name)
                blob.upload_from_filename(
                    str(local),
                    content_type=CONTENT_TYPE,
                    if_generation_match=generation,
                    checksum="md5",
                    timeout=request_timeout,
                    retry=retry,
                )
                status = "overwritten"
    except UploadError:
        raise
    except gexc.PreconditionFailed:
        raise UploadError(
            f"{uri} changed while it was being replaced: try again; {kept}", uri=uri, local_path=str(local)
        ) from None
    except Exception as err:
        log.debug("upload of %s failed", uri, exc_info=True)
        raise _describe(
            err,
            client=client,
            bucket=bucket,
            object_name=object_name,
            timeout=deadline_s,
            elapsed=time.monotonic() - started,
            local=local,
        ) from None

    remote_md5 = _b64_to_hex(blob.md5_hash)
    if remote_md5 != md5_hex or (blob.size is not None and blob.size != size):
        raise UploadError(
            f"{uri} does not match the local file after upload (md5 {remote_md5}, size {blob.size}; "
            f"local md5 {md5_hex}, size {size}): {kept}",
            uri=uri,
            local_path=str(local),
        )
    log.info("%s %s (%d bytes) in %.2f s", status, uri, size, time.perf_counter() - t0)

    signed: str | None = None
    expires: str | None = None
    if signed_url is not None:
        now = _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)
        signed = blob.generate_signed_url(
            version="v4", expiration=signed_url, method="GET", credentials=signer, client=client
        )
        expires = (now + signed_url).isoformat().replace("+00:00", "Z")

    local_kept = True
    if not keep_local:
        try:
            local.unlink()
            local_kept = False
            log.info("deleted %s after the confirmed upload", local)
        except OSError as err:
            log.warning("uploaded, but could not delete %s: %s", local, err.strerror or err)

    return UploadResult(
        uri=uri,
        url=blob.public_url,
        bucket=bucket,
        object=object_name,
        size=size,
        md5=md5_hex,
        path=str(local),
        status=status,
        generation=blob.generation,
        local_kept=local_kept,
        signed_url=signed,
        signed_url_expires=expires,
    )

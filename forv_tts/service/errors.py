"""The one table that turns errors into HTTP statuses and stable codes.

Library errors (`forv_tts.errors`) raised in a worker travel to the API as data, `(code, message)`: the
worker looks its exception up here (`code_for`) and the API turns the code back into a status
(`status_for`). Errors the service itself raises (`ServiceError` and subclasses) carry their code.
"""

from __future__ import annotations

from dataclasses import dataclass

from forv_tts import errors as lib


class ServiceError(Exception):
    """An error the service answers with: a stable `code`, a message that says what to do, and a field."""

    code = "internal_error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code


class BadRequestError(ServiceError):
    """The request is malformed: nothing was queued."""

    code = "invalid_request"


class TextTooLongError(ServiceError):
    """A request's text over the service's cap (`--max-text`)."""

    code = "text_too_long"


class UnauthorizedError(ServiceError):
    """Missing or wrong API key."""

    code = "unauthorized"


class NotFoundError(ServiceError):
    """Unknown job or clip."""

    code = "not_found"


class ConflictError(ServiceError):
    """The uuid is already used by a different request."""

    code = "conflict"


class JobTimeoutError(ServiceError):
    """The job did not finish within the request's wait."""

    code = "timeout"


class UnavailableError(ServiceError):
    """Broker or result backend unreachable, or no worker for the voice."""

    code = "unavailable"


class JobFailedError(ServiceError):
    """A job ended failed; `code` is the worker's error code."""


@dataclass(frozen=True)
class Row:
    """One line of the table."""

    error: type[Exception]
    code: str
    status: int


#: Most specific first: a lookup takes the first row the exception is an instance of.
TABLE: tuple[Row, ...] = (
    Row(lib.VoiceNotFoundError, "voice_not_found", 404),
    # Library errors are data (`err.code`); these rows give each class its row without changing the
    # codes above (a more general row earlier wins): unknown_member & co. answer voice_not_found.
    Row(lib.UnknownMemberError, "unknown_member", 404),
    Row(lib.VoiceDirNotFoundError, "voice_dir_not_found", 404),
    Row(lib.IncompleteMemberError, "incomplete_member", 404),
    Row(lib.NothingToSayError, "nothing_to_say", 422),
    # The library's cap on one utterance ($FORV_TTS_MAX_TEXT_CHARS), beside the service's request cap below.
    Row(lib.TextTooLongError, "utterance_too_long", 413),
    # The server's own --out-dir is not writable or full: the server's fault, not the request's.
    Row(lib.OutputPathError, "output_path", 500),
    Row(lib.DiskFullError, "disk_full", 507),
    Row(lib.VoiceDirError, "voice_dir_unusable", 500),  # the service's voice dir: our configuration
    Row(lib.UnknownFormatError, "unknown_format", 422),
    # aac asked of a server installed without the `aac` extra: the server cannot, the request is fine.
    Row(lib.EncoderMissingError, "encoder_missing", 501),
    Row(lib.InvalidInputError, "invalid_input", 422),
    Row(lib.UsageError, "bad_usage", 400),
    Row(lib.VoiceLoadError, "voice_load_failed", 500),
    Row(lib.SynthesisError, "synthesis_failed", 500),
    Row(lib.CredentialsError, "upload_credentials", 502),
    Row(lib.UploadError, "upload_failed", 502),
    Row(lib.NoTextError, "no_text", 422),
    Row(lib.MissingBucketError, "no_bucket", 422),
    Row(lib.ManifestExistsError, "manifest_exists", 409),
    Row(lib.ManifestMismatchError, "manifest_mismatch", 409),
    Row(lib.ManifestInUseError, "manifest_in_use", 409),
    Row(lib.ObjectExistsError, "object_exists", 502),
    Row(lib.BucketNotFoundError, "bucket_not_found", 502),
    Row(lib.UploadUnreachableError, "upload_unreachable", 502),
    Row(lib.BatchFailedError, "batch_failed", 500),
    Row(lib.BatchTerminatedError, "terminated", 503),
    Row(lib.BatchInterruptedError, "interrupted", 500),
    Row(lib.CancelledError, "cancelled", 499),
    Row(lib.ForvError, "failed", 500),
    Row(BadRequestError, "invalid_request", 400),
    Row(TextTooLongError, "text_too_long", 413),
    Row(UnauthorizedError, "unauthorized", 401),
    Row(NotFoundError, "not_found", 404),
    Row(ConflictError, "conflict", 409),
    Row(JobTimeoutError, "timeout", 504),
    Row(UnavailableError, "unavailable", 503),
)
#: Codes workers produce outside the library's errors.
EXTRA_CODES: dict[str, int] = {
    "time_limit": 504,
    "worker_lost": 500,
    "cancelled": 499,
    "validation_error": 422,
    "internal_error": 500,
    "failed": 500,
    # The HTTP layer's own (forv_tts.service.guard).
    "invalid_json": 400,
    "method_not_allowed": 405,
    "request_timeout": 408,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "too_many_connections": 503,
    "no_worker": 503,  # no live worker consumes the member's queue (forv_tts.service.api.state)
}
_BY_CODE: dict[str, int] = {**EXTRA_CODES, **{row.code: row.status for row in TABLE}}


def code_for(err: BaseException) -> str:
    """The stable code of an exception (a service error's own code first)."""
    if isinstance(err, ServiceError):
        return err.code
    for row in TABLE:
        if isinstance(err, row.error):
            return row.code
    return "internal_error"


def status_for(code: str) -> int:
    """The HTTP status a code is answered with (500 for a code this table does not know)."""
    return _BY_CODE.get(code, 500)

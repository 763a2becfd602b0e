"""The one table from error codes to HTTP statuses, keyed by `err.code`.

Library errors (`forv_tts.errors`) raised in a worker travel to the API as data, `(code, message)`: the
worker takes the exception's own `code` (`code_for`) and the API answers with that code and the status
this table gives it (`status_for`). The code a client sees is the library's, unchanged (as the CLI's
exit codes are keyed by it too, `forv_tts.errors.EXIT_CODES`). Errors the service itself raises
(`ServiceError` and subclasses) carry their own codes; anything else is `internal` (as in `batch`).
"""

from __future__ import annotations

from forv_tts import errors as lib


class ServiceError(Exception):
    """An error the service answers with: a stable `code`, a message that says what to do, and a field."""

    code = "internal"

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
    """A job ended failed; `code` is the worker's error code (its library error's own)."""


#: The HTTP status of every code a client can see. A code missing here answers 500.
STATUS: dict[str, int] = {
    # The library's codes (`forv_tts.errors`, `forv_tts.text.lexicon`).
    "error": 500,
    "bad_usage": 400,
    "invalid_input": 422,
    "no_text": 422,
    "nothing_to_say": 422,
    "text_too_long": 413,  # the library's cap on one utterance, and the service's on a request
    "unknown_member": 404,
    "voice_dir_not_found": 404,
    "incomplete_member": 404,
    "no_bucket": 422,
    "manifest_exists": 409,
    "manifest_mismatch": 409,
    "manifest_in_use": 409,
    "unknown_format": 422,
    # The server's own voice directory, lexicon, --out-dir or encoders: our fault, not the request's.
    "voice_dir_unusable": 500,
    "bad_lexicon": 500,
    "output_path": 500,
    "disk_full": 507,
    # aac asked of a server installed without the `aac` extra: the server cannot, the request is fine.
    "encoder_missing": 501,
    "voice_load_failed": 500,
    "synthesis_failed": 500,
    "upload_failed": 502,
    "object_exists": 502,
    "bucket_not_found": 502,
    "upload_unreachable": 502,
    "no_credentials": 502,
    "batch_failed": 500,
    "interrupted": 500,
    "terminated": 503,
    "cancelled": 499,
    # The service's own.
    "invalid_request": 400,
    "invalid_json": 400,
    "validation_error": 422,
    "unauthorized": 401,
    "not_found": 404,
    "conflict": 409,
    "timeout": 504,
    "unavailable": 503,
    "time_limit": 504,
    "worker_lost": 500,
    "failed": 500,
    "internal": 500,
    # The HTTP layer's own (forv_tts.service.guard).
    "method_not_allowed": 405,
    "request_timeout": 408,
    "body_too_large": 413,
    "unsupported_media_type": 415,
    "too_many_connections": 503,
    "no_worker": 503,  # no live worker consumes the member's queue (forv_tts.service.api.state)
}


def code_for(err: BaseException) -> str:
    """The code a client sees for an exception: a service or library error's own, else `internal`."""
    if isinstance(err, ServiceError | lib.ForvError):
        return err.code
    return "internal"


def status_for(code: str) -> int:
    """The HTTP status a code is answered with (500 for a code this table does not know)."""
    return STATUS.get(code, 500)

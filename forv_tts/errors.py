"""Typed errors raised by the library: data, not CLI output.

Every `ForvError` has a stable `code` (a string callers may switch on; it never changes once released),
a one-line `message` in library terms (no CLI option names: the CLI adds those, see
`forv_tts.cli.errors`), and structured `fields` (`err.fields`, or all three via `err.to_dict()`).
Every table is keyed by the code: exit codes here (`EXIT_CODES`, used by the CLI and by `batch`'s
summary), the CLI's option hints (`forv_tts.cli.errors`), the service's HTTP statuses
(`forv_tts.service.errors`). Errors survive pickling with their fields (batch workers send them
across processes).

Codes (class → code):

=========================  ======================  ===========================================
class                      code                    fields
=========================  ======================  ===========================================
ForvError                  error                   (whatever the raiser gave)
UsageError                 bad_usage
InvalidInputError          invalid_input           field, value, reason (when one value is bad)
NoTextError                no_text
NothingToSayError          nothing_to_say          text
UnknownMemberError         unknown_member          member, voice_dir, available
VoiceDirNotFoundError      voice_dir_not_found     member, voice_dir
IncompleteMemberError      incomplete_member       member, voice_dir, missing
MissingBucketError         no_bucket
ManifestExistsError        manifest_exists         manifest
ManifestMismatchError      manifest_mismatch       manifest, recorded_sha256, input_sha256
ManifestInUseError         manifest_in_use         manifest
VoiceLoadError             voice_load_failed
SynthesisError             synthesis_failed
UploadError                upload_failed           uri, local_path (when known)
ObjectExistsError          object_exists           uri, remote_md5, local_md5, local_path
BucketNotFoundError        bucket_not_found        bucket, endpoint, local_path
UploadUnreachableError     upload_unreachable      endpoint, reason, timeout, elapsed, local_path
CredentialsError           no_credentials
OutputPathError            output_path             (the path, in the message)
DiskFullError              disk_full               path
TextTooLongError           text_too_long           chars, limit
BatchFailedError           batch_failed            manifest, failed, pending, lines
BatchInterruptedError      interrupted             manifest, pending, lines
BatchTerminatedError       terminated              manifest, pending, lines
CancelledError             cancelled               index, total (the sentence it stopped before)
VoiceDirError              voice_dir_unusable
UnknownFormatError         unknown_format          field, value, formats
EncoderMissingError        encoder_missing         format, extra
ClipConflictError          conflict                field, uuid, existing (a path or gs:// URI)
=========================  ======================  ===========================================
"""

from __future__ import annotations

from typing import Any, ClassVar


def _show(value: Any) -> str:
    """How a bad value appears in a message: strings quoted (control characters escaped), numbers bare."""
    return repr(value) if isinstance(value, str) else str(value)


#: How a field is named in a library message, where its name alone would read badly.
_LABELS = {"member": "member id", "created_at": "created_at"}


def _rebuild(cls: type[ForvError], message: str, fields: dict[str, Any]) -> ForvError:
    err = cls.__new__(cls)
    ForvError.__init__(err, message, **fields)
    return err


class ForvError(Exception):
    """Base class: a failure the caller can act on. `code`, `message` and `fields` describe it."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields: dict[str, Any] = fields

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.fields))

    def to_dict(self) -> dict[str, Any]:
        """`{"code", "message", **fields}` with paths and other non-JSON values as strings."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        for key, value in self.fields.items():
            if value is None or isinstance(value, bool | int | float | str):
                out[key] = value
            elif isinstance(value, list | tuple):
                out[key] = [v if isinstance(v, bool | int | float | str) else str(v) for v in value]
            else:
                out[key] = str(value)
        return out


class UsageError(ForvError):
    """Bad usage or bad input: nothing was attempted (the base of `InvalidInputError`)."""

    code = "bad_usage"


class InvalidInputError(UsageError):
    """Bad input: nothing was attempted. With `field`, one named value is bad (see `bad_value`)."""

    code = "invalid_input"

    @classmethod
    def bad_value(
        cls, field: str, value: Any, reason: str, *, context: str | None = None
    ) -> InvalidInputError:
        """`invalid <field> <value>: <reason>` (prefixed by `context`, e.g. the file it came from).

        `field` is the library's name for the parameter (`uuid`, `created_at`, `member`, `length_scale`,
        `bucket`, `upload_timeout`, `signed_url`, `format`); the CLI shows its option name instead.
        """
        label = _LABELS.get(field) or (field.replace("_", " ") if field.islower() else field)
        message = f"invalid {label} {_show(value)}: {reason}"
        if context:
            message = f"{context}: {message}"
        return cls(message, field=field, value=value, reason=reason, context=context)


class NoTextError(InvalidInputError):
    """No text was given at all (empty or only whitespace)."""

    code = "no_text"


class NothingToSayError(InvalidInputError):
    """After normalisation nothing speakable remains in the text."""

    code = "nothing_to_say"


class VoiceNotFoundError(InvalidInputError):
    """The requested member cannot be used from the voice directory (base of the three cases)."""

    code = "unknown_member"


class UnknownMemberError(VoiceNotFoundError):
    """No such member in the voice directory; `available` lists those there are."""

    code = "unknown_member"


class VoiceDirNotFoundError(VoiceNotFoundError):
    """The voice directory itself does not exist."""

    code = "voice_dir_not_found"


class IncompleteMemberError(VoiceNotFoundError):
    """The member's folder exists but files are missing (`missing`)."""

    code = "incomplete_member"


class MissingBucketError(InvalidInputError):
    """An upload was asked for but no bucket was given (argument or `$FORV_TTS_BUCKET`)."""

    code = "no_bucket"


class ManifestExistsError(InvalidInputError):
    """A fresh batch run would append to the manifest of an earlier run."""

    code = "manifest_exists"


class ManifestMismatchError(InvalidInputError):
    """A resumed run was given a manifest written for different input."""

    code = "manifest_mismatch"


class ManifestInUseError(InvalidInputError):
    """Another batch run holds the manifest's lock."""

    code = "manifest_in_use"


class VoiceLoadError(ForvError):
    """A voice's files exist but cannot be loaded (corrupt, incompatible, unsafe)."""

    code = "voice_load_failed"


class SynthesisError(ForvError):
    """The model failed while producing audio."""

    code = "synthesis_failed"


class UploadError(ForvError):
    """Uploading to Google Cloud Storage failed; the local file is kept."""

    code = "upload_failed"


class ObjectExistsError(UploadError):
    """The object exists with different bytes and replacing it was not asked for."""

    code = "object_exists"


class BucketNotFoundError(UploadError):
    """The bucket does not exist (or these credentials cannot see it)."""

    code = "bucket_not_found"


class UploadUnreachableError(UploadError):
    """The storage service could not be reached within the upload's deadline."""

    code = "upload_unreachable"


class CredentialsError(UploadError):
    """No usable Google credentials were found."""

    code = "no_credentials"


class OutputPathError(InvalidInputError):
    """An output path cannot be written (a directory, a parent that is a file, read-only, no permission)."""

    code = "output_path"


class DiskFullError(ForvError):
    """The file system ran out of space (or quota) while writing; nothing half-written is left."""

    code = "disk_full"

    @property
    def path(self) -> object:
        """The path that was being written."""
        return self.fields.get("path")


class TextTooLongError(InvalidInputError):
    """One utterance's text is over the configured cap (`FORV_TTS_MAX_TEXT_CHARS`)."""

    code = "text_too_long"


class BatchFailedError(ForvError):
    """The run finished but some lines failed or were not reached; the manifest says which."""

    code = "batch_failed"


class BatchInterruptedError(ForvError):
    """The run was stopped before every line was done; resuming it finishes it."""

    code = "interrupted"


class BatchTerminatedError(BatchInterruptedError):
    """The run was stopped by SIGTERM; like an interruption, resuming it finishes it."""

    code = "terminated"


class CancelledError(ForvError):
    """A stream was stopped by its caller (`iter_synthesize`'s `before` hook said no): not a fault."""

    code = "cancelled"


def error_classes() -> list[type[ForvError]]:
    """Every error class defined here (for the CLI and service tables and their tests)."""
    out: list[type[ForvError]] = []
    todo: list[type[ForvError]] = [ForvError]
    while todo:
        cls = todo.pop(0)
        if cls not in out:
            out.append(cls)
            todo.extend(cls.__subclasses__())
    return out


class VoiceDirError(InvalidInputError):
    """The voice directory given cannot be used (missing, not a directory, unreadable)."""

    code = "voice_dir_unusable"


class UnknownFormatError(InvalidInputError):
    """An audio format that is not one of `forv_tts.encoding.FORMATS`; `formats` lists them."""

    code = "unknown_format"


class EncoderMissingError(ForvError):
    """A known format whose encoder is not installed (aac without PyAV); `extra` names what installs it."""

    code = "encoder_missing"


class ClipConflictError(ForvError):
    """A uuid names one clip forever: a different request for a clip that already exists (a team-named
    file under the output directory, or the object in the bucket) is refused, nothing written. `existing`
    is where the clip is (a path or a gs:// URI). The same request again (the same bytes) is a success."""

    code = "conflict"


# Exit codes, keyed by `code`: what a program built on the library exits with (the CLI, and what
# `batch --json` reports as `exit_code`). 0 ok, 1 a runtime failure, 2 bad usage or input, 130
# interrupted, 143 terminated. The CLI adds option hints in its own table (`forv_tts.cli.errors`); the
# service maps the same codes to HTTP statuses (`forv_tts.service.errors`).
EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGTERM (systemd, Kubernetes, CI): as if the signal had ended us, after a clean stop.
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for sox or ffmpeg when the reader goes away

EXIT_CODES: dict[str, int] = {
    "error": EXIT_FAILURE,
    "usage": EXIT_USAGE,  # the CLI's own usage errors (`forv_tts.cli.errors.CliUsageError`)
    "bad_usage": EXIT_USAGE,
    "invalid_input": EXIT_USAGE,
    "no_text": EXIT_USAGE,
    "nothing_to_say": EXIT_USAGE,
    "unknown_member": EXIT_USAGE,
    "voice_dir_not_found": EXIT_USAGE,
    "incomplete_member": EXIT_USAGE,
    "no_bucket": EXIT_USAGE,
    "manifest_exists": EXIT_USAGE,
    "manifest_mismatch": EXIT_USAGE,
    "manifest_in_use": EXIT_USAGE,
    "voice_load_failed": EXIT_FAILURE,
    "synthesis_failed": EXIT_FAILURE,
    "upload_failed": EXIT_FAILURE,
    "object_exists": EXIT_FAILURE,
    "bucket_not_found": EXIT_FAILURE,
    "upload_unreachable": EXIT_FAILURE,
    "no_credentials": EXIT_FAILURE,
    "output_path": EXIT_USAGE,
    "disk_full": EXIT_FAILURE,
    "text_too_long": EXIT_USAGE,
    "bad_lexicon": EXIT_USAGE,  # forv_tts.text.lexicon.LexiconError
    "batch_failed": EXIT_FAILURE,
    "interrupted": EXIT_INTERRUPTED,
    "terminated": EXIT_TERMINATED,
    "voice_dir_unusable": EXIT_USAGE,
    "cancelled": EXIT_INTERRUPTED,  # a stream its caller stopped (`iter_synthesize`'s hook)
    "unknown_format": EXIT_USAGE,
    "encoder_missing": EXIT_FAILURE,
    # A uuid names one clip: a used one with another text (or member, date, format) is the user's input.
    "conflict": EXIT_USAGE,
}


def code_in_table(err: ForvError, table: dict[str, Any]) -> str | None:
    """The code under which `table` (keyed by code) knows `err`: its own, else its nearest ancestor's
    (a subclass defined outside the library inherits its parent's row), else None."""
    for cls in type(err).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in table:
            return code
    return None


def exit_code(err: ForvError) -> int:
    """The exit code for `err` (`EXIT_CODES` by its code; 1 for a code the table does not know)."""
    code = code_in_table(err, EXIT_CODES)
    return EXIT_CODES[code] if code is not None else EXIT_FAILURE

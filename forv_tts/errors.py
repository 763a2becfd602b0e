"""Typed errors raised by the library.

Every error carries the exit code the CLI should use and a one-line message that tells the user what to
do. The CLI maps them to output in exactly one place (`forv_tts.cli.main`).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class ForvError(Exception):
    """Base class: a failure the user can act on. Exit code 1 (runtime failure)."""

    exit_code: int = EXIT_FAILURE


class UsageError(ForvError):
    """Bad usage or bad input (exit code 2): nothing was attempted."""

    exit_code = EXIT_USAGE


class VoiceNotFoundError(UsageError):
    """The requested member is not installed in the voice directory."""


class InvalidInputError(UsageError):
    """Input text, a name component or a file is malformed."""


class NothingToSayError(InvalidInputError):
    """After normalisation nothing speakable remains in the text."""


class VoiceLoadError(ForvError):
    """A voice's files exist but cannot be loaded (corrupt, incompatible, unsafe)."""


class SynthesisError(ForvError):
    """The model failed while producing audio."""


class UploadError(ForvError):
    """Uploading to Google Cloud Storage failed; the local file is kept."""


class CredentialsError(UploadError):
    """No usable Google credentials were found."""


class OutputPathError(UsageError):
    """An output path cannot be written (a directory, a parent that is a file, read-only, no permission)."""


class DiskFullError(ForvError):
    """The file system ran out of space (or quota) while writing; nothing half-written is left."""

    def __init__(self, message: str, *, path: object = None) -> None:
        super().__init__(message)
        self.path = path


class TextTooLongError(InvalidInputError):
    """One utterance's text is over the configured cap (`FORV_TTS_MAX_TEXT_CHARS`)."""

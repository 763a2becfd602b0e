"""The CLI's option hints keyed by error code, and the one-line rendering.

Library errors (`forv_tts.errors`) say what is wrong in library terms; the exit code each code gets
(0 ok, 1 runtime failure, 2 bad usage or input, 130 interrupted, 143 terminated) is the library's table,
`forv_tts.errors.EXIT_CODES`, which `batch --json` reports too. Here, where the user fixes an error with
an option, its code gets a hint naming that option. A bad value (`InvalidInputError` with a `field`) is
shown under its option name (`invalid --uuid 'x': ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

from forv_tts.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_CODES,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    ForvError,
    UsageError,
    code_in_table,
    exit_code,
)

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_CODES",
    "EXIT_FAILURE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_TERMINATED",
    "EXIT_USAGE",
    "CliUsageError",
    "Hint",
    "exit_code",
    "hint_for",
    "message",
]


class CliUsageError(UsageError):
    """Options that cannot be combined, or a terminal where a pipe was needed: CLI-only (exit 2)."""

    code = "usage"


@dataclass(frozen=True)
class Hint:
    """What the CLI adds to one code's message, as `<message><join><hint>`."""

    hint: str
    join: str = ": "


HINTS: dict[str, Hint] = {
    "no_text": Hint("pass TEXT as an argument or pipe it on stdin"),
    "unknown_member": Hint("pass --voice-dir where its checkpoints live", "; "),
    "voice_dir_not_found": Hint("(set --voice-dir or $FORV_TTS_VOICE_DIR)", " "),
    "no_bucket": Hint("pass --bucket NAME or set FORV_TTS_BUCKET"),
    "manifest_exists": Hint("add --resume to finish it, or pass --manifest NEW (or remove it) to start over"),
    "manifest_mismatch": Hint("pass --manifest NEW for this input, or remove {manifest}"),
    "object_exists": Hint("pass --overwrite to replace it"),
    "bucket_not_found": Hint("create it or fix --bucket/FORV_TTS_BUCKET"),
    "batch_failed": Hint("then rerun with --resume", ", "),
    "interrupted": Hint("rerun with --resume to finish", "; "),
    "terminated": Hint("rerun with --resume to finish", "; "),
    "conflict": Hint("give a new --uuid (or leave it out)", "; "),
}

#: Library field names → the option that sets them.
OPTIONS: dict[str, str] = {
    "uuid": "--uuid",
    "created_at": "--created-at",
    "member": "--member",
    "length_scale": "--length-scale",
    "seed": "--seed",
    "bucket": "--bucket",
    "upload_timeout": "--upload-timeout",
    "signed_url": "--signed-url",
    "format": "--format",
    "engine": "--engine",
    "captions": "--captions",
}

#: Extra hints for an `invalid_input` error by field.
FIELD_HINTS: dict[str, Hint] = {
    "file_name": Hint("so give --uuid and --created-at", ", "),
}

#: Upload failures end with where the local file is; a hint goes before that tail.
_KEPT = "; local file kept: "


def hint_for(err: ForvError) -> Hint | None:
    """The hint for the code the exit-code table knows `err` by (its own, else its nearest ancestor's),
    or None."""
    code = code_in_table(err, EXIT_CODES)
    field = err.fields.get("field")
    if code == "invalid_input" and isinstance(field, str) and field in FIELD_HINTS:
        return FIELD_HINTS[field]
    return HINTS.get(code) if code is not None else None


def message(err: ForvError) -> str:
    """The one line shown after `forv-tts: error: `: the library's message in the CLI's terms."""
    from forv_tts.errors import _show

    text = err.message
    f = err.fields
    field = f.get("field")
    if isinstance(field, str) and field in OPTIONS and "reason" in f and "value" in f:
        text = f"invalid {OPTIONS[field]} {_show(f['value'])}: {f['reason']}"
        if f.get("context"):
            text = f"{f['context']}: {text}"
    rule = hint_for(err)
    if rule is not None:
        hint = rule.hint.format(**{k: v for k, v in f.items() if isinstance(k, str)})
        local = f.get("local_path")
        tail = f"{_KEPT}{local}"
        if local and text.endswith(tail):
            text = f"{text[: -len(tail)]}{rule.join}{hint}{tail}"
        else:
            text = f"{text}{rule.join}{hint}"
    return " ".join(text.splitlines())

"""The CLI's one table from error codes to exit codes and option hints, and the one-line rendering.

Library errors (`forv_tts.errors`) say what is wrong in library terms; here each code gets the exit
code scripts depend on (0 ok, 1 runtime failure, 2 bad usage or input, 130 interrupted) and, where the
user fixes it with an option, a hint naming that option. A bad value (`InvalidInputError` with a
`field`) is shown under its option name (`invalid --uuid 'x': ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

from forv_tts.errors import ForvError, UsageError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for sox or ffmpeg when the reader goes away


class CliUsageError(UsageError):
    """Options that cannot be combined, or a terminal where a pipe was needed: CLI-only (exit 2)."""

    code = "usage"


@dataclass(frozen=True)
class Rule:
    """What the CLI does with one code: its exit code, and a hint appended as `<message><join><hint>`."""

    exit_code: int
    hint: str | None = None
    join: str = ": "


TABLE: dict[str, Rule] = {
    "error": Rule(EXIT_FAILURE),
    "usage": Rule(EXIT_USAGE),
    "bad_usage": Rule(EXIT_USAGE),
    "invalid_input": Rule(EXIT_USAGE),
    "no_text": Rule(EXIT_USAGE, "pass TEXT as an argument or pipe it on stdin"),
    "nothing_to_say": Rule(EXIT_USAGE),
    "unknown_member": Rule(EXIT_USAGE, "pass --voice-dir where its checkpoints live", "; "),
    "voice_dir_not_found": Rule(EXIT_USAGE, "(set --voice-dir or $FORV_TTS_VOICE_DIR)", " "),
    "incomplete_member": Rule(EXIT_USAGE),
    "no_bucket": Rule(EXIT_USAGE, "pass --bucket NAME or set FORV_TTS_BUCKET"),
    "manifest_exists": Rule(
        EXIT_USAGE, "add --resume to finish it, or pass --manifest NEW (or remove it) to start over"
    ),
    "manifest_mismatch": Rule(EXIT_USAGE, "pass --manifest NEW for this input, or remove {manifest}"),
    "manifest_in_use": Rule(EXIT_USAGE),
    "voice_load_failed": Rule(EXIT_FAILURE),
    "synthesis_failed": Rule(EXIT_FAILURE),
    "upload_failed": Rule(EXIT_FAILURE),
    "object_exists": Rule(EXIT_FAILURE, "pass --overwrite to replace it"),
    "bucket_not_found": Rule(EXIT_FAILURE, "create it or fix --bucket/FORV_TTS_BUCKET"),
    "upload_unreachable": Rule(EXIT_FAILURE),
    "no_credentials": Rule(EXIT_FAILURE),
    "output_path": Rule(EXIT_USAGE),
    "disk_full": Rule(EXIT_FAILURE),
    "text_too_long": Rule(EXIT_USAGE),
    "bad_lexicon": Rule(EXIT_USAGE),  # forv_tts.text.lexicon.LexiconError
    "batch_failed": Rule(EXIT_FAILURE, "then rerun with --resume", ", "),
    "interrupted": Rule(EXIT_INTERRUPTED, "rerun with --resume to finish", "; "),
    # SIGTERM (systemd, Kubernetes, CI): 128 + 15, as if the signal had ended us, after a clean stop.
    "terminated": Rule(EXIT_TERMINATED, "rerun with --resume to finish", "; "),
    "voice_dir_unusable": Rule(EXIT_USAGE),
    "cancelled": Rule(EXIT_INTERRUPTED),  # a stream its caller stopped (`iter_synthesize`'s hook)
    "unknown_format": Rule(EXIT_USAGE),
    "encoder_missing": Rule(EXIT_FAILURE),
    # A uuid names one clip: a used one with another text (or member, date, format) is the user's input.
    "conflict": Rule(EXIT_USAGE, "give a new --uuid (or leave it out)", "; "),
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
FIELD_HINTS: dict[str, Rule] = {
    "file_name": Rule(EXIT_USAGE, "so give --uuid and --created-at", ", "),
}

#: Upload failures end with where the local file is; a hint goes before that tail.
_KEPT = "; local file kept: "


def rule_for(err: ForvError) -> Rule:
    """The table's rule for `err` (its code, else its nearest ancestor's, else exit 1)."""
    for cls in type(err).__mro__:
        code = getattr(cls, "code", None)
        if isinstance(code, str) and code in TABLE:
            rule = TABLE[code]
            field = err.fields.get("field")
            if code == "invalid_input" and isinstance(field, str) and field in FIELD_HINTS:
                return FIELD_HINTS[field]
            return rule
    return TABLE["error"]


def exit_code(err: ForvError) -> int:
    """The exit code for `err`."""
    return rule_for(err).exit_code


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
    rule = rule_for(err)
    if rule.hint:
        hint = rule.hint.format(**{k: v for k, v in f.items() if isinstance(k, str)})
        local = f.get("local_path")
        tail = f"{_KEPT}{local}"
        if local and text.endswith(tail):
            text = f"{text[: -len(tail)]}{rule.join}{hint}{tail}"
        else:
            text = f"{text}{rule.join}{hint}"
    return " ".join(text.splitlines())

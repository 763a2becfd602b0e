"""The team's clip naming: `wav_files/<member_id>/<uuid>_<created_at>_voice.wav`.

These three values end up in a local path and in a GCS object name, so they are validated here before
anything is written: no separators, no `..`, no control characters, no empty values.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid
from pathlib import PurePosixPath

from forv_tts.errors import InvalidInputError

PREFIX = "wav_files"
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def _check_token(kind: str, value: str) -> str:
    if not value or not _TOKEN.fullmatch(value) or ".." in value:
        raise InvalidInputError(
            f"invalid {kind} {value!r}: use letters, digits, '.', '_' or '-' (at most 64, no '..')"
        )
    return value


def validate_member_id(member: str) -> str:
    """A member id is a short token (the team uses integers); it becomes a directory name."""
    return _check_token("member id", str(member))


def validate_uuid(value: str) -> str:
    """Return the canonical lower-case hyphenated form of a UUID, or raise."""
    try:
        return str(_uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise InvalidInputError(
            f"invalid --uuid {value!r}: give a UUID such as 022db29c-d0e2-11e5-bb4c-60f81dca7676"
        ) from None


def validate_created_at(value: str) -> str:
    """`created_at` is a real calendar date, YYYY-MM-DD: it is part of the storage contract (clip names)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InvalidInputError(f"invalid --created-at {value!r}: give a date as YYYY-MM-DD, e.g. {today()}")
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(
            f"invalid --created-at {value!r}: not a real date (give YYYY-MM-DD, e.g. {today()})"
        ) from None
    return value


def new_uuid() -> str:
    """A fresh uuid4, as the old server generated per request."""
    return str(_uuid.uuid4())


def today() -> str:
    """Today's date as YYYY-MM-DD (local time), the default `created_at`."""
    return _dt.date.today().isoformat()


def clip_name(member: str, uuid: str, created_at: str) -> str:
    """The object name and relative path of a clip, after validating every component."""
    member = validate_member_id(member)
    uuid = validate_uuid(uuid)
    created_at = validate_created_at(created_at)
    return str(PurePosixPath(PREFIX, member, f"{uuid}_{created_at}_voice.wav"))

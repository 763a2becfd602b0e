"""The team's clip naming: `wav_files/<member_id>/<uuid>_<created_at>_voice.wav`.

These three values end up in a local path and in a GCS object name, so they are validated here before
anything is written: no separators, no `..`, no control characters, no empty values. `ClipName` is the
value object (valid by construction); the `validate_*` functions are the one definition of each check.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from forv_tts.errors import InvalidInputError

PREFIX = "wav_files"
SUFFIX = "_voice.wav"
_TOKEN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_TOKEN_RULE = "use letters, digits, '.', '_' or '-' (at most 64, no '..')"
_CLIP_FILE = re.compile(r"^(?P<uuid>[^_]+)_(?P<created_at>.+)_voice\.wav$")
#: The audio files a clip can be written as under the team naming (`forv_tts.encoding.EXTENSIONS`'
#: values; kept here so that finding clips imports no encoder): captions beside them are not clips.
CLIP_SUFFIXES = frozenset({".mp3", ".opus", ".aac", ".flac", ".wav", ".pcm"})


def _check_token(field: str, value: str) -> str:
    if not value or not _TOKEN.fullmatch(value) or ".." in value:
        raise InvalidInputError.bad_value(field, value, _TOKEN_RULE)
    return value


def validate_member_id(member: str) -> str:
    """A member id is a short token (the team uses integers); it becomes a directory name."""
    return _check_token("member", str(member))


def validate_uuid(value: str) -> str:
    """Return the canonical lower-case hyphenated form of a UUID, or raise."""
    try:
        return str(_uuid.UUID(value.strip()))
    except (ValueError, AttributeError):
        raise InvalidInputError.bad_value(
            "uuid", value, "give a UUID such as 022db29c-d0e2-11e5-bb4c-60f81dca7676"
        ) from None


def validate_created_at(value: str) -> str:
    """`created_at` is a real calendar date, YYYY-MM-DD: it is part of the storage contract (clip names)."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise InvalidInputError.bad_value("created_at", value, f"give a date as YYYY-MM-DD, e.g. {today()}")
    try:
        _dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError.bad_value(
            "created_at", value, f"not a real date (give YYYY-MM-DD, e.g. {today()})"
        ) from None
    return value


def new_uuid() -> str:
    """A fresh uuid4, as the old server generated per request."""
    return str(_uuid.uuid4())


def today() -> str:
    """Today's date as YYYY-MM-DD (local time), the default `created_at`."""
    return _dt.date.today().isoformat()


@dataclass(frozen=True)
class ClipName:
    """One clip's name: member, uuid (canonical form) and created_at, each validated when made."""

    member: str
    uuid: str
    created_at: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "member", validate_member_id(self.member))
        object.__setattr__(self, "uuid", validate_uuid(self.uuid))
        object.__setattr__(self, "created_at", validate_created_at(self.created_at))

    @classmethod
    def new(cls, member: str, uuid: str | None = None, created_at: str | None = None) -> ClipName:
        """A name with a fresh uuid4 and today's date where they are not given."""
        return cls(
            member,
            uuid if uuid is not None else new_uuid(),
            created_at if created_at is not None else today(),
        )

    @classmethod
    def from_file(
        cls, path: str | Path, member: str, *, uuid: str | None = None, created_at: str | None = None
    ) -> ClipName:
        """An existing clip's name: uuid and created_at as given, else from `<uuid>_<created_at>_voice.wav`.

        Errors carry the file as context (`<path>: invalid uuid ...`).
        """
        match = _CLIP_FILE.fullmatch(Path(path).name)
        uuid = uuid if uuid is not None else (match.group("uuid") if match else None)
        created_at = created_at if created_at is not None else (match.group("created_at") if match else None)
        if uuid is None or created_at is None:
            raise InvalidInputError(
                f"{path}: the name is not <uuid>_<created_at>_voice.wav",
                path=str(path),
                field="file_name",
            )
        try:
            return cls(member, uuid, created_at)
        except InvalidInputError as err:
            f = err.fields
            if "field" in f and "reason" in f:
                raise InvalidInputError.bad_value(
                    f["field"], f["value"], f["reason"], context=str(path)
                ) from None
            raise

    @classmethod
    def parse(cls, object_name: str) -> ClipName:
        """The name behind an object name, which must be exactly the canonical one."""
        parts = object_name.split("/")
        match = _CLIP_FILE.fullmatch(parts[-1]) if len(parts) == 3 and parts[0] == PREFIX else None
        if match is None:
            raise InvalidInputError(
                f"invalid object name {object_name!r}: "
                f"expected {PREFIX}/<member>/<uuid>_<created_at>{SUFFIX}",
                field="object_name",
                value=object_name,
            )
        name = cls(parts[1], match.group("uuid"), match.group("created_at"))
        if str(name) != object_name:
            raise InvalidInputError(
                f"invalid object name {object_name!r}: the canonical form is {str(name)!r}",
                field="object_name",
                value=object_name,
            )
        return name

    @property
    def file_name(self) -> str:
        """`<uuid>_<created_at>_voice.wav`."""
        return f"{self.uuid}_{self.created_at}{SUFFIX}"

    @property
    def object_name(self) -> str:
        """`wav_files/<member>/<uuid>_<created_at>_voice.wav`: the GCS object and the relative path."""
        return str(PurePosixPath(PREFIX, self.member, self.file_name))

    def path_under(self, root: str | Path) -> Path:
        """Where the clip lives under a local directory."""
        return Path(root) / self.object_name

    def __str__(self) -> str:
        return self.object_name


def clip_name(member: str, uuid: str, created_at: str) -> str:
    """The object name and relative path of a clip, after validating every component."""
    return ClipName(member, uuid, created_at).object_name


def clips_named_by(root: str | Path, uuid: str) -> list[Path]:
    """The clips under `root` named by `uuid`, whatever their member, date or format
    (`<root>/wav_files/*/<uuid>_*_voice.<audio extension>`), sorted; a temporary `.part` is not one.

    A uuid names one clip forever (`jobs.item.run_item` refuses a different request for it)."""
    base = Path(root) / PREFIX
    if not base.is_dir():
        return []
    uuid = validate_uuid(uuid)
    return sorted(
        p
        for p in base.glob(f"*/{uuid}_*_voice.*")
        if p.suffix in CLIP_SUFFIXES and p.stem.endswith("_voice") and p.is_file()
    )

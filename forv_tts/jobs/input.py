"""Batch input: a text file (one utterance a line) or JSON Lines, parsed into items with line numbers."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import sys
import uuid as _uuid
from dataclasses import dataclass
from pathlib import Path

from forv_tts.errors import InvalidInputError
from forv_tts.storage import naming

log = logging.getLogger(__name__)

EXIT_INTERRUPTED = 130

FORMAT_TEXT = "text"
FORMAT_JSONL = "jsonl"
FORMATS = (FORMAT_TEXT, FORMAT_JSONL)
STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"
MANIFEST_NAME = "manifest.jsonl"

# Fixed namespace for derived uuids: uuid5(_NAMESPACE, "<input sha256>:<line>").
_NAMESPACE = _uuid.UUID("6f0c8a52-3b1e-5d7a-9c41-2e8f7b6d4a10")
_MAX_POOL_RESTARTS = 3
_TICK_S = 0.25
_MAX_FAILURES_LISTED = 50


# --- input ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """One input line, parsed but not yet resolved against the voice directory."""

    line: int
    text: str = ""
    member: str | None = None
    uuid: str | None = None
    created_at: str | None = None
    blank: bool = False
    error: str | None = None


@dataclass(frozen=True)
class BatchInput:
    """The whole input: its items, the detected format and the sha256 that derived uuids hang on."""

    items: list[Item]
    format: str
    sha256: str
    name: str


def read_source(source: str | os.PathLike[str]) -> tuple[bytes, str]:
    """The input's bytes and a display name; `-` reads stdin (never an interactive terminal)."""
    if str(source) == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InvalidInputError("no input: pass a file, or pipe lines into 'forv-tts batch -'")
        return sys.stdin.buffer.read(), "<stdin>"
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except OSError as err:
        raise InvalidInputError(f"cannot read {path}: {err.strerror or err}") from None


def detect_format(data: bytes, name: str = "") -> str:
    """`.jsonl`/`.ndjson` → jsonl, `.txt` → text; otherwise jsonl when the first non-blank line is `{`."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return FORMAT_JSONL
    if suffix == ".txt":
        return FORMAT_TEXT
    for raw in data.splitlines():
        stripped = raw.strip().lstrip(b"\xef\xbb\xbf")
        if stripped:
            return FORMAT_JSONL if stripped.startswith(b"{") else FORMAT_TEXT
    return FORMAT_TEXT


def _split_lines(data: bytes) -> list[bytes]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final newline ends the last line; it does not start an empty one
    return [line.rstrip(b"\r") for line in lines]


def _parse_jsonl(line: int, text: str) -> Item:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as err:
        return Item(line, text=text, error=f"not valid JSON ({err.msg} at column {err.colno})")
    if not isinstance(record, dict):
        return Item(line, text=text, error=f"expected a JSON object, got {type(record).__name__}")
    utterance = record.get("text")
    if not isinstance(utterance, str):
        return Item(line, text=text, error='no "text" string in the record')
    fields: dict[str, str | None] = {}
    for key in ("member_id", "uuid", "created_at"):
        value = record.get(key)
        if value is None:
            fields[key] = None
        elif isinstance(value, bool) or not isinstance(value, str | int):
            return Item(line, text=utterance, error=f'"{key}" must be a string or an integer, not {value!r}')
        else:
            fields[key] = str(value)
    item = Item(line, text=utterance, member=fields["member_id"], uuid=fields["uuid"])
    try:
        if not utterance.strip():
            raise InvalidInputError('empty "text"')
        if item.member is not None:
            naming.validate_member_id(item.member)
        uuid = naming.validate_uuid(item.uuid) if item.uuid is not None else None
        created_at = fields["created_at"]
        if created_at is not None:
            created_at = naming.validate_created_at(created_at)
    except InvalidInputError as err:
        return dataclasses.replace(item, error=str(err))
    return dataclasses.replace(item, uuid=uuid, created_at=created_at)


def parse_input(data: bytes, *, fmt: str | None = None, name: str = "<input>") -> BatchInput:
    """Parse text (one utterance per line) or the old server's JSONL requests into items.

    A malformed line becomes an item with `error` set (it is recorded as failed, the others go on); blank
    lines become `blank` items (recorded as skipped). Line numbers are 1-based, as editors show them.
    """
    if fmt is not None and fmt not in FORMATS:
        raise InvalidInputError(f"invalid --format {fmt!r}: use text or jsonl")
    fmt = fmt or detect_format(data, name)
    items: list[Item] = []
    for number, raw in enumerate(_split_lines(data), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            items.append(Item(number, error="not UTF-8 (convert the file, e.g. iconv -f cp949 -t utf-8)"))
            continue
        if not text.strip():
            items.append(Item(number, blank=True))
        elif fmt == FORMAT_JSONL:
            items.append(_parse_jsonl(number, text))
        else:
            items.append(Item(number, text=text.strip()))
    if not items:
        raise InvalidInputError(f"{name} has no lines: give one utterance (or JSON request) per line")
    return BatchInput(items, fmt, hashlib.sha256(data).hexdigest(), name)


def derived_uuid(input_sha256: str, line: int) -> str:
    """The uuid of a line that names none: stable for the same input, so a resumed run reuses it."""
    return str(_uuid.uuid5(_NAMESPACE, f"{input_sha256}:{line}"))


def derived_seed(uuid: str) -> int:
    """The seed of an item when `--seed` is not given: stable per clip, so redoing it gives the same bytes."""
    return _uuid.UUID(uuid).int % (2**31)

"""The batch manifest: one JSON Lines record per input line, appended, fsynced, torn tails ignored."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from forv_tts.errors import DiskFullError, ManifestInUseError
from forv_tts.storage.local import atomic_write_bytes

log = logging.getLogger(__name__)

STATUS_OK = "ok"
STATUS_FAILED = "failed"
STATUS_SKIPPED = "skipped"
MANIFEST_NAME = "manifest.jsonl"


# --- manifest -------------------------------------------------------------------------------------


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """Records of a manifest; lines that do not parse (a torn write after kill -9) are skipped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records: list[dict[str, Any]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("%s: ignoring unreadable line %d (a write cut short by a crash?)", path, number)
            continue
        if isinstance(record, dict) and isinstance(record.get("line"), int):
            records.append(record)
    return records


class ManifestWriter:
    """Appends one record per call with a single write + fsync; holds an exclusive lock on the file."""

    def __init__(self, path: Path, keep: list[dict[str, Any]] | None = None) -> None:
        self.path = path
        self._fd = -1
        path.parent.mkdir(parents=True, exist_ok=True)
        guard = -1
        if keep is not None:
            # Lock the old file before replacing it, so a run still writing to it is noticed.
            guard = self._locked(os.open(path, os.O_RDONLY))
            self._rewrite(keep)
        try:
            self._fd = self._locked(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        finally:
            if guard >= 0:
                os.close(guard)

    def _locked(self, fd: int) -> int:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise ManifestInUseError(
                f"{self.path} is in use by another forv-tts batch: wait for it or pick another manifest",
                manifest=str(self.path),
            ) from None
        return fd

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        """Replace the manifest atomically (temp file, fsync, rename): a crash leaves the old or the new."""
        atomic_write_bytes(self.path, b"".join(_encode(r) for r in records))

    def write(self, record: dict[str, Any]) -> None:
        """Append one record durably, whole or not at all: a write cut short (disk full) is undone."""
        data = _encode(record)
        size = os.fstat(self._fd).st_size
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "No space left on device")
            os.fsync(self._fd)
        except OSError as err:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, size)  # no torn record
            if err.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFullError(
                    f"no space left on the device holding {self.path} while recording line "
                    f"{record.get('line')}",
                    path=self.path,
                ) from None
            raise

    def close(self) -> None:
        """Release the lock."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


RECORD_KEYS = (
    "line",
    "status",
    "error",
    "error_code",
    "member",
    "uuid",
    "created_at",
    "text",
    "normalized",
    "path",
    "duration",
    "sample_rate",
    "sha256",
    "uri",
    "seed",
    "length_scale",
    "normalize",
    "seconds",
    "warnings",
    "input_sha256",
    "run_date",
)


def _encode(record: dict[str, Any]) -> bytes:
    """One manifest line: every record has the same keys, in the same order (null when not known)."""
    ordered = {key: record.get(key) for key in RECORD_KEYS}
    ordered.update((k, v) for k, v in record.items() if k not in ordered)
    return (json.dumps(ordered, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def file_sha256(path: Path) -> str | None:
    """sha256 of a file, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()

"""Kept for callers of the first releases: path settings now resolve in `forv_tts.settings`."""

from __future__ import annotations

import os
from pathlib import Path

from forv_tts import settings

VOICE_DIR_ENV = settings.VOICE_DIR.env
CACHE_DIR_ENV = settings.CACHE_DIR.env
DEFAULT_VOICE_DIR = Path("voice_model")


def resolve_path(option: str | os.PathLike[str] | None, env_var: str, default: Path) -> Path:
    """`settings.resolve_path`: the option, else `$env_var` (set, not blank), else `default`."""
    return settings.resolve_path(option, env_var, default)


voice_dir = settings.voice_dir
cache_dir = settings.cache_dir

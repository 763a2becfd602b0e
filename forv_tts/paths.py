"""Path resolution in one place: the option, then the environment variable, then the default."""

from __future__ import annotations

import os
from pathlib import Path

VOICE_DIR_ENV = "FORV_TTS_VOICE_DIR"
CACHE_DIR_ENV = "FORV_TTS_CACHE_DIR"
DEFAULT_VOICE_DIR = Path("voice_model")


def resolve_path(option: str | os.PathLike[str] | None, env_var: str, default: Path) -> Path:
    """Return `option` if given, else `$env_var` if set and non-empty, else `default` (all user-expanded)."""
    if option is not None and str(option) != "":
        return Path(option).expanduser()
    value = os.environ.get(env_var, "")
    if value:
        return Path(value).expanduser()
    return default.expanduser()


def voice_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """Where members' checkpoints live: `--voice-dir`, `$FORV_TTS_VOICE_DIR`, `./voice_model`."""
    return resolve_path(option, VOICE_DIR_ENV, DEFAULT_VOICE_DIR)


def cache_dir(option: str | os.PathLike[str] | None = None) -> Path:
    """Where derived data (the NLTK cmudict corpus) is built once: `$FORV_TTS_CACHE_DIR`, XDG cache."""
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return resolve_path(option, CACHE_DIR_ENV, Path(xdg) / "forv-tts")

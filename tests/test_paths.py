"""Path resolution: option, then environment variable, then default."""

from __future__ import annotations

from pathlib import Path

import pytest

from forv_tts import paths


def test_option_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.VOICE_DIR_ENV, "/from/env")
    assert paths.voice_dir("/from/option") == Path("/from/option")


def test_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.VOICE_DIR_ENV, "/from/env")
    assert paths.voice_dir(None) == Path("/from/env")
    monkeypatch.setenv(paths.VOICE_DIR_ENV, "")
    assert paths.voice_dir(None) == Path("voice_model")
    monkeypatch.delenv(paths.VOICE_DIR_ENV)
    assert paths.voice_dir() == Path("voice_model")


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(paths.CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert paths.cache_dir() == tmp_path / "forv-tts"
    monkeypatch.setenv(paths.CACHE_DIR_ENV, str(tmp_path / "c"))
    assert paths.cache_dir() == tmp_path / "c"

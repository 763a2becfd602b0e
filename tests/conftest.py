"""Shared fixtures.

`voice_dir` (session-scoped): a voice directory in the team layout holding two tiny but real member
voices with the *same* random weights and a conjoining-jamo (U+1100..) character set:

* member "1": Coqui TTS 0.x (legacy) format: 0.x symbol order, `weight_g`/`weight_v` keys, Adam state,
  numpy scalars, a `model_d.*` discriminator next to the `model_g.*` generator;
* member "2": coqui-tts 0.28 (modern) format.

Both speak the same audio for the same text and seed. They are built once per test session by
`tests/voicefactory.py` (a second or two). `built_voices` gives the factory's `BuiltVoice` records
(paths and the in-memory networks) for tests that need them. Treat both as read-only; copy the folder
to `tmp_path` before changing anything.

Every test runs with `$FORV_TTS_CACHE_DIR` pointing at a per-session directory (weight cache).

`runner` is Typer's CliRunner; `in_tmp` makes `tmp_path` the working directory with no voice-dir or
bucket settings leaking in from the environment (CLI tests write `wav_files/...` relative to it).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Caches (weights, cmudict) go to a per-session directory, never the user's ~/.cache."""
    path = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("FORV_TTS_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def built_voices(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Any]:
    """(legacy member "1", modern member "2") as written by `voicefactory.write_pair`."""
    import voicefactory  # lazily: importing it loads torch and coqui-tts

    return voicefactory.write_pair(tmp_path_factory.mktemp("voices"))


@pytest.fixture(scope="session")
def voice_dir(built_voices: tuple[Any, Any]) -> Path:
    """The voice directory holding members "1" (legacy) and "2" (modern); see the module docstring."""
    return Path(built_voices[0].glow_checkpoint).parents[2]


@pytest.fixture
def runner() -> CliRunner:
    """Typer's in-process runner (stdout and stderr kept apart)."""
    return CliRunner()


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`tmp_path` as the working directory, without FORV_TTS_VOICE_DIR / FORV_TTS_BUCKET from outside."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FORV_TTS_VOICE_DIR", raising=False)
    monkeypatch.delenv("FORV_TTS_BUCKET", raising=False)
    return tmp_path


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Any]:
    """A factory for real, tiny file systems: `small_fs(size_kb, readonly=False)` mounts a tmpfs.

    A real full (or read-only) file system, so ENOSPC/EROFS come from the kernel, not a mock. Needs
    root (CI and this machine run tests as root); skipped where `mount` is refused.
    """
    import subprocess

    mounted: list[Path] = []

    def make(size_kb: int, *, readonly: bool = False) -> Path:
        point = tmp_path / f"fs{len(mounted)}"
        point.mkdir()
        opts = f"size={size_kb}k" + (",ro" if readonly else "")
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(point)], capture_output=True)
        if r.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {r.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield make
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)

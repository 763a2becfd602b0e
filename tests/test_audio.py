"""Audio values and atomic wav writing."""

from __future__ import annotations

import os
import stat
import wave
from pathlib import Path

import numpy as np
import pytest

from forv_tts.audio import Audio, concat, read_wav, to_pcm16, wav_bytes
from forv_tts.errors import OutputPathError
from forv_tts.storage import local as audio_mod
from forv_tts.storage.local import atomic_write_bytes, write_wav


def _tone(seconds: float, rate: int = 22050) -> Audio:
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    return Audio((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)


def test_duration() -> None:
    assert _tone(1.5).duration == pytest.approx(1.5, abs=1 / 22050)


def test_concat_inserts_pause() -> None:
    a, b = _tone(0.5), _tone(0.25)
    joined = concat([a, b], pause_s=0.1)
    assert len(joined.samples) == len(a.samples) + len(b.samples) + round(0.1 * 22050)
    gap = joined.samples[len(a.samples) : len(a.samples) + round(0.1 * 22050)]
    assert not gap.any()


def test_concat_rejects_mixed_rates() -> None:
    with pytest.raises(ValueError):
        concat([_tone(0.1, 22050), _tone(0.1, 16000)])


def test_pcm16_clips_instead_of_wrapping() -> None:
    pcm = np.frombuffer(to_pcm16(np.array([2.0, -2.0, 0.5], dtype=np.float32)), dtype="<i2")
    assert pcm.tolist() == [32767, -32767, round(0.5 * 32767)]


def test_write_and_read_round_trip(tmp_path: Path) -> None:
    clip = _tone(0.3)
    path = write_wav(clip, tmp_path / "a" / "b" / "clip.wav")
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert w.getnframes() == len(clip.samples)
    back = read_wav(path)
    assert np.max(np.abs(back.samples - clip.samples)) < 1 / 32767 + 1e-6
    assert path.read_bytes() == wav_bytes(clip)


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_written_wav_has_the_permissions_of_a_plain_open(tmp_path: Path, umask: int) -> None:
    """Not mkstemp's 0600: other users and services read the wavs (the umask still rules)."""
    old = os.umask(umask)
    try:
        path = write_wav(Audio(np.zeros(100, dtype=np.float32), 22050), tmp_path / "a.wav")
        with open(tmp_path / "plain", "w"):
            pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask


def test_interrupted_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "clip.wav"

    def boom(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(audio_mod.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(target, b"RIFF....")
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "clip.wav"
    target.write_bytes(b"old")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(audio_mod.os, "replace", boom)
    with pytest.raises(OutputPathError, match="disk full"):
        atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["clip.wav"]

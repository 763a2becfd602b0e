"""The weight cache: model-only safetensors entries that must load exactly what the checkpoint holds."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from forv_tts.voices.coqui import checkpoint as ck
from forv_tts.voices.coqui import weight_cache
from forv_tts.voices.coqui.voice import CoquiVoice
from forv_tts.voices.layout import member_info

TEXT = "안녕하세요"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(path))
    monkeypatch.delenv(weight_cache.ENV_SWITCH, raising=False)
    return path


@pytest.fixture
def own_voices(tmp_path: Path, voice_dir: Path) -> Path:
    """A private copy of the session's voices (tests here rewrite checkpoints)."""
    return Path(shutil.copytree(voice_dir, tmp_path / "voices"))


@pytest.fixture
def checkpoint_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every checkpoint actually unpickled."""
    reads: list[Path] = []
    real = ck.load_checkpoint

    def spy(path: Path, **kwargs: Any) -> dict[str, Any]:
        reads.append(Path(path))
        return real(path, **kwargs)

    monkeypatch.setattr(ck, "load_checkpoint", spy)
    return reads


def _weights(voice: CoquiVoice) -> dict[str, torch.Tensor]:
    """Both networks' tensors, as loaded (after weight-norm folding)."""
    glow = {f"glow.{k}": v for k, v in voice.glow.state_dict().items()}
    return glow | {f"vocoder.{k}": v for k, v in voice.vocoder.state_dict().items()}


@pytest.mark.parametrize("member", ["1", "2"])  # Coqui 0.x layout, modern layout
def test_second_load_is_from_cache_and_bit_identical(
    member: str, cache: Path, voice_dir: Path, checkpoint_reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    info = member_info(voice_dir, member)
    first = CoquiVoice(info)
    assert not first.from_weight_cache
    assert len(checkpoint_reads) == 2
    entries = sorted(p.name.split("-")[1] for p in (cache / "weights").iterdir())
    assert entries == ["glow.safetensors", "hifigan.safetensors"]

    second = CoquiVoice(info)
    assert second.from_weight_cache
    assert len(checkpoint_reads) == 2  # no checkpoint was unpickled again

    monkeypatch.setenv(weight_cache.ENV_SWITCH, "0")
    plain = CoquiVoice(info)
    assert not plain.from_weight_cache
    assert len(checkpoint_reads) == 4

    want = _weights(plain)
    assert weight_cache.tensors_equal(_weights(second), want)
    assert weight_cache.tensors_equal(_weights(first), want)
    expected = plain.synthesize(TEXT, seed=3).samples
    assert np.array_equal(second.synthesize(TEXT, seed=3).samples, expected)


@pytest.mark.parametrize("member", ["1", "2"])
def test_a_cached_load_adopts_the_entry_and_hands_back_what_folding_replaced(
    member: str, cache: Path, voice_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = member_info(voice_dir, member)
    CoquiVoice(info)  # writes the entries
    read: dict[str, dict[str, torch.Tensor]] = {}
    real_read = weight_cache._read

    def spy_read(entry: Path, stamp: dict[str, str]) -> dict[str, torch.Tensor] | None:
        state = real_read(entry, stamp)
        if state is not None:
            read[stamp["kind"]] = state
        return state

    released: list[int] = []
    events: list[str] = []
    real_release = ck.MappedPages.release

    def spy_release(self: ck.MappedPages, tensor: torch.Tensor) -> None:
        released.append(tensor.data_ptr())
        events.append("release")
        real_release(self, tensor)

    from TTS.tts.layers.glow_tts.glow import CouplingBlock

    real_fold = CouplingBlock.store_inverse

    def spy_fold(self: CouplingBlock) -> None:
        events.append("fold")
        real_fold(self)

    monkeypatch.setattr(weight_cache, "_read", spy_read)
    monkeypatch.setattr(ck.MappedPages, "release", spy_release)
    monkeypatch.setattr(CouplingBlock, "store_inverse", spy_fold)
    voice = CoquiVoice(info)
    assert voice.from_weight_cache and sorted(read) == ["glow", "hifigan"]
    # Flow by flow: pages go back while later flows are still to be folded (bounds the peak).
    assert events.count("fold") > 1 and events.index("release") < len(events) - events[::-1].index("fold")

    replaced_ptrs: set[int] = set()
    for kind, model in (("glow", voice.glow), ("hifigan", voice.vocoder)):
        now = model.state_dict()
        # Every tensor the folded model still has under its entry name is the entry's own (no copy)...
        assert all(now[k].data_ptr() == t.data_ptr() for k, t in read[kind].items() if k in now), kind
        # ...and what it no longer has are weight-norm pairs that folding replaced.
        replaced = {k for k in read[kind] if k not in now}
        assert replaced and all(".parametrizations.weight.original" in k for k in replaced), kind
        replaced_ptrs |= {read[kind][k].data_ptr() for k in replaced}
    assert set(released) == replaced_ptrs  # exactly those pages are handed back, nothing the model uses


def test_a_retrained_checkpoint_is_a_miss(cache: Path, own_voices: Path) -> None:
    info = member_info(own_voices, "2")
    before = CoquiVoice(info)
    assert info.checkpoint is not None
    ckpt = torch.load(info.checkpoint, weights_only=True)
    key = sorted(k for k, v in ckpt["model"].items() if v.is_floating_point())[0]
    ckpt["model"][key] = ckpt["model"][key] + 0.25
    stat = info.checkpoint.stat()
    torch.save(ckpt, info.checkpoint)  # same path, same size: only mtime tells
    assert info.checkpoint.stat().st_mtime_ns != stat.st_mtime_ns

    after = CoquiVoice(info)
    assert not after.from_weight_cache
    assert torch.equal(after.glow.state_dict()[key], ckpt["model"][key])
    assert not torch.equal(before.glow.state_dict()[key], after.glow.state_dict()[key])
    assert CoquiVoice(info).from_weight_cache  # the entry was rewritten for the new file


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_a_damaged_entry_is_rebuilt(
    damage: str, cache: Path, voice_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    info = member_info(voice_dir, "1")
    reference = _weights(CoquiVoice(info))
    assert info.checkpoint is not None
    entry = weight_cache.entry_path(info.checkpoint, "glow")
    data = entry.read_bytes()
    entry.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"\x93NUMPY not a cache" * 64, "empty": b""}[damage]
    )
    with caplog.at_level(logging.WARNING, logger="forv_tts.voices.coqui.weight_cache"):
        voice = CoquiVoice(info)
    assert not voice.from_weight_cache
    assert "is damaged (unreadable" in caplog.text
    assert weight_cache.tensors_equal(_weights(voice), reference)
    again = CoquiVoice(info)
    assert again.from_weight_cache
    assert weight_cache.tensors_equal(_weights(again), reference)


def test_an_older_cache_format_is_a_miss(
    cache: Path, voice_dir: Path, checkpoint_reads: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    info = member_info(voice_dir, "1")
    CoquiVoice(info)
    monkeypatch.setattr(weight_cache, "FORMAT_VERSION", "999")
    assert not CoquiVoice(info).from_weight_cache
    assert len(checkpoint_reads) == 4


def test_an_unwritable_cache_still_loads(
    tmp_path: Path, voice_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(blocker / "cache"))  # mkdir fails, even as root
    monkeypatch.setattr(weight_cache, "_warned_unwritable", False)
    with caplog.at_level(logging.WARNING, logger="forv_tts.voices.coqui.weight_cache"):
        voice = CoquiVoice(member_info(voice_dir, "2"))
        CoquiVoice(member_info(voice_dir, "2"))
    assert not voice.from_weight_cache
    assert caplog.text.count("cannot write the weight cache") == 1
    assert voice.synthesize(TEXT, seed=0).duration > 0.3
    assert not list(tmp_path.rglob("*.part"))


def test_switched_off_writes_nothing(cache: Path, voice_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(weight_cache.ENV_SWITCH, "off")
    assert not CoquiVoice(member_info(voice_dir, "1")).from_weight_cache
    assert not cache.exists()


def test_entries_are_per_checkpoint_and_kind(cache: Path, voice_dir: Path) -> None:
    one, two = member_info(voice_dir, "1"), member_info(voice_dir, "2")
    assert one.checkpoint and two.checkpoint
    names = {
        weight_cache.entry_path(one.checkpoint, "glow"),
        weight_cache.entry_path(one.checkpoint, "hifigan"),
        weight_cache.entry_path(two.checkpoint, "glow"),
    }
    assert len(names) == 3
    assert all(p.parent == cache / "weights" for p in names)


def test_tied_tensors_are_written_and_read_back(cache: Path, tmp_path: Path) -> None:
    shared = torch.arange(6, dtype=torch.float32)
    state = {"a": shared, "b": shared, "c": shared[2:4]}
    source = tmp_path / "x.pth"
    torch.save({"model": state}, source)
    loaded = weight_cache.load_state(source, "glow", lambda p: dict(state))
    assert not loaded.from_cache
    again = weight_cache.load_state(source, "glow", lambda p: pytest.fail("extracted twice"))
    assert again.from_cache
    assert weight_cache.tensors_equal(again.state, state)


def test_entries_of_removed_checkpoints_are_pruned_on_the_next_write(cache: Path, own_voices: Path) -> None:
    one, two = member_info(own_voices, "1"), member_info(own_voices, "2")
    assert one.checkpoint and two.checkpoint and one.vocoder_checkpoint
    CoquiVoice(one)
    old_entry = weight_cache.entry_path(one.checkpoint, "glow")
    assert old_entry.exists()
    # Member 1 retrained: the old step's checkpoint is gone, a new one takes its place.
    newer = one.checkpoint.with_name(one.checkpoint.name.replace("10000", "20000"))
    one.checkpoint.rename(newer)
    CoquiVoice(two)  # any first load (a write) prunes
    assert not old_entry.exists()
    assert weight_cache.entry_path(two.checkpoint, "glow").exists()
    assert weight_cache.entry_path(one.vocoder_checkpoint, "hifigan").exists()  # checkpoint still there


# --- issue 14: damaged tensor data, killed writes ----------------------------------------------------


def _data_start(entry: Path) -> int:
    """Where the tensor bytes begin in a safetensors file (after the 8-byte length and the JSON header)."""
    return 8 + int.from_bytes(entry.read_bytes()[:8], "little")


@pytest.mark.parametrize("damage", ["flip", "zero"])
def test_damaged_tensor_data_is_detected_and_rebuilt(
    damage: str,
    cache: Path,
    voice_dir: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """64 flipped bytes at 50 % (or a zeroed data section) used to load as is: wrong or silent audio."""
    info = member_info(voice_dir, "2")
    CoquiVoice(info)  # writes both entries
    monkeypatch.setenv(weight_cache.ENV_SWITCH, "0")
    expected = CoquiVoice(info).synthesize(TEXT, seed=5).samples
    monkeypatch.delenv(weight_cache.ENV_SWITCH)
    assert info.checkpoint is not None and info.vocoder_checkpoint is not None
    for entry in (
        weight_cache.entry_path(info.checkpoint, "glow"),
        weight_cache.entry_path(info.vocoder_checkpoint, "hifigan"),
    ):
        data = bytearray(entry.read_bytes())
        start = _data_start(entry)
        if damage == "flip":
            middle = start + (len(data) - start) // 2
            data[middle : middle + 64] = bytes(b ^ 0xFF for b in data[middle : middle + 64])
        else:
            data[start:] = bytes(len(data) - start)
        entry.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="forv_tts.voices.coqui.weight_cache"):
        voice = CoquiVoice(info)
    assert not voice.from_weight_cache
    assert caplog.text.count("checksum mismatch") == 2, caplog.text
    assert np.array_equal(voice.synthesize(TEXT, seed=5).samples, expected)
    again = CoquiVoice(info)  # the rebuilt entries are good
    assert again.from_weight_cache
    assert np.array_equal(again.synthesize(TEXT, seed=5).samples, expected)


def test_an_entry_without_checksum_is_rebuilt(cache: Path, tmp_path: Path) -> None:
    from safetensors.torch import save_file

    source = tmp_path / "model.pth"
    source.write_bytes(b"checkpoint")
    state = {"w": torch.arange(6, dtype=torch.float32)}
    weight_cache.load_state(source, "glow", lambda p: state)
    entry = weight_cache.entry_path(source, "glow")
    stamp = weight_cache._stamp(source, "glow")
    save_file({"w": torch.zeros(6)}, str(entry), metadata=stamp)  # a right stamp, no checksum
    loaded = weight_cache.load_state(source, "glow", lambda p: state)
    assert not loaded.from_cache and weight_cache.tensors_equal(loaded.state, state)


_KILLED_WRITER = """
import sys, torch
from pathlib import Path
from forv_tts.voices.coqui import weight_cache
source = Path(sys.argv[1])
state = {f"w{i}": torch.full((4_000_000,), float(i)) for i in range(40)}  # 640 MB: seconds to write
print("writing", flush=True)
weight_cache.load_state(source, "glow", lambda p: state)
"""


def test_a_killed_write_leaves_litter_that_the_next_write_removes(cache: Path, tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    source = tmp_path / "big.pth"
    source.write_bytes(b"checkpoint")
    weights = cache / "weights"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(source)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"writing\n"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if sum(p.stat().st_size for p in weights.glob(".*")) > 1 << 20:
                break  # mid-write: the temporary holds data
            assert proc.poll() is None, "the writer finished before it could be killed"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    litter = [p for p in weights.iterdir() if p.name.startswith(".")]
    assert litter, "a killed write left nothing: the test did not kill it mid-write"
    assert not weight_cache.entry_path(source, "glow").exists()

    other = tmp_path / "small.pth"
    other.write_bytes(b"checkpoint")
    weight_cache.load_state(other, "glow", lambda p: {"w": torch.ones(3)})  # the next write
    assert [p.name for p in weights.iterdir() if p.name.startswith(".")] == []
    assert weight_cache.entry_path(other, "glow").exists()


def test_a_live_writers_temporary_is_kept(cache: Path, tmp_path: Path) -> None:
    import fcntl
    import os

    weights = cache / "weights"
    weights.mkdir(parents=True)
    live = weights / ".someone.abc.part"
    live.write_bytes(b"x" * 100)
    fd = os.open(cache / ".weights.writers.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_SH)  # another process's write in progress (flock is per open file)
    try:
        source = tmp_path / "m.pth"
        source.write_bytes(b"c")
        weight_cache.load_state(source, "glow", lambda p: {"w": torch.ones(3)})
        assert live.exists()
    finally:
        os.close(fd)
    weight_cache.load_state(
        tmp_path / "m2.pth" if (tmp_path / "m2.pth").write_bytes(b"d") else source,
        "glow",
        lambda p: {"w": torch.ones(2)},
    )
    assert not live.exists()

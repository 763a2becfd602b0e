"""The ONNX engine (forv_tts.voices.onnx) against the torch engine, on the tiny real members.

Equivalence: the same weights spoken both ways give identical token ids, the same number of samples and
samples within 1e-4 of full scale (measured: ~4e-7), for legacy and modern members, several texts,
length scales and seeds. The noise is torch's stream bit for bit. An exported voice directory speaks in
a process where torch and coqui-tts cannot be imported. The cache is built once per checkpoint and
rebuilt when a checkpoint changes or a graph is damaged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from forv_tts.cli import app
from forv_tts.config import SynthesisConfig
from forv_tts.errors import VoiceLoadError
from forv_tts.voices.base import ENGINE_EXPORTED
from forv_tts.voices.layout import find_voice, member_info
from forv_tts.voices.onnx import cache, manifest, resolve_engine
from forv_tts.voices.onnx.noise import glow_noise
from forv_tts.voices.onnx.voice import OnnxVoice
from forv_tts.voices.registry import load_voice

TOLERANCE = 1e-4  # of full scale: the samples are peak-normalised to [-1, 1]
TEXTS = ["안녕하세요", "오늘 날씨가 정말 좋네요, 산책 갈까요?", "가", "이천이십이년 팔월 이십이일에 만나요."]
SETTINGS = [(0, None), (42, 1.5), (7, 0.6), (123456789012, 1.0)]


@pytest.mark.parametrize(("channels", "frames"), [(80, 37), (80, 300), (3, 5), (80, 1), (17, 1), (4, 2)])
@pytest.mark.parametrize("seed", [0, 1234, 2**40 + 5])
def test_noise_is_torchs_stream(channels: int, frames: int, seed: int) -> None:
    import torch

    y_mean = torch.zeros(1, frames, channels).transpose(1, 2)  # Glow-TTS's y_mean layout
    expected = torch.randn_like(y_mean, generator=torch.Generator().manual_seed(seed)).numpy()
    got = glow_noise(seed, channels, frames)
    assert got.shape == expected.shape and got.dtype == np.float32
    if frames == 1 and channels * frames >= 16:  # torch's AVX2 float path: its own log/sin/cos
        assert np.abs(got - expected).max() <= 1e-6
    else:
        assert np.array_equal(got, expected)


@pytest.fixture(scope="module")
def engines(voice_dir: Path) -> dict[str, tuple[Any, Any]]:
    """member id → (torch voice, ONNX voice) on the same checkpoints."""
    from forv_tts.voices.coqui.voice import CoquiVoice

    out = {}
    for member in ("1", "2"):
        info = member_info(voice_dir, member)
        out[member] = (CoquiVoice(info), cache.load(info))
    return out


@pytest.mark.parametrize("member", ["1", "2"])
@pytest.mark.parametrize(("seed", "length_scale"), SETTINGS)
def test_onnx_speaks_as_torch(
    engines: dict[str, tuple[Any, Any]], member: str, seed: int, length_scale: Any
) -> None:
    torch_voice, onnx_voice = engines[member]
    for text in TEXTS:
        assert onnx_voice.tokenize(text) == torch_voice.tokenize(text)
        a = torch_voice.synthesize(text, SynthesisConfig(seed=seed, length_scale=length_scale))
        b = onnx_voice.synthesize(text, SynthesisConfig(seed=seed, length_scale=length_scale))
        assert a.sample_rate == b.sample_rate
        assert len(a.samples) == len(b.samples), text
        diff = float(np.abs(a.samples - b.samples).max())
        assert diff <= TOLERANCE, (text, diff)


def test_seed_reproduces_and_differs(engines: dict[str, tuple[Any, Any]]) -> None:
    _, voice = engines["2"]
    first = voice.synthesize(TEXTS[1], SynthesisConfig(seed=5)).samples
    assert np.array_equal(first, voice.synthesize(TEXTS[1], SynthesisConfig(seed=5)).samples)
    assert not np.array_equal(first, voice.synthesize(TEXTS[1], SynthesisConfig(seed=6)).samples)


def test_duration_rule_is_the_voices(tmp_path: Path) -> None:
    """Durations around zero: 0.x's rule drops tokens (fewer frames), 0.28's keeps each for a frame.

    The factory's duration predictor gives `frames_per_token` + 0.0035..0.006 frames with seed 0, so
    -0.0047 puts about half the tokens at or below zero.
    """
    import voicefactory

    from forv_tts.voices.coqui.voice import CoquiVoice

    voicefactory.write_pair(tmp_path, voicefactory.VoiceSpec(frames_per_token=-0.0047))
    lengths = {}
    for member, rule in (("1", manifest.DURATION_CEIL), ("2", manifest.DURATION_CEIL_MIN1)):
        info = member_info(tmp_path, member)
        onnx_voice = cache.load(info)
        assert onnx_voice.duration_rule == rule
        torch_voice = CoquiVoice(info)
        text = TEXTS[3] * 3
        a = torch_voice.synthesize(text, SynthesisConfig(seed=1))
        b = onnx_voice.synthesize(text, SynthesisConfig(seed=1))
        assert len(a.samples) == len(b.samples)
        assert float(np.abs(a.samples - b.samples).max()) <= TOLERANCE
        lengths[member] = len(b.samples)
    assert lengths["1"] < lengths["2"]


def _export(voice_dir: Path, out: Path) -> Path:
    info = member_info(voice_dir, "2")
    return cache.export_member(info, out / "onnx" / "2")


_NO_TORCH = """
import json, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "TTS", "trainer", "coqpit"):
            raise ImportError(f"{name} is blocked in this test")
sys.meta_path.insert(0, Block())
from forv_tts.voices.layout import find_voice
from forv_tts.voices.registry import load_voice
from forv_tts.config import SynthesisConfig
voice = load_voice(find_voice("2", sys.argv[1]))
audio = voice.synthesize("안녕하세요", SynthesisConfig(seed=11))
print(json.dumps({"n": len(audio.samples), "sum": float(abs(audio.samples).sum()),
                  "type": type(voice).__name__, "torch": "torch" in sys.modules,
                  "TTS": "TTS" in sys.modules}))
"""


def test_exported_directory_speaks_without_torch(voice_dir: Path, tmp_path: Path) -> None:
    exported = _export(voice_dir, tmp_path)
    assert sorted(p.name for p in exported.iterdir()) == [
        "decoder.data",
        "decoder.onnx",
        "encoder.data",
        "encoder.onnx",
        "vocoder.onnx",
        "voice.json",
    ]
    env = {**os.environ, "FORV_TTS_CACHE_DIR": str(tmp_path / "empty-cache")}
    proc = subprocess.run(
        [sys.executable, "-c", _NO_TORCH, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    assert got["type"] == "OnnxVoice" and not got["torch"] and not got["TTS"]
    here = cache.load(member_info(voice_dir, "2")).synthesize("안녕하세요", SynthesisConfig(seed=11)).samples
    assert got["n"] == len(here) and got["sum"] == pytest.approx(float(np.abs(here).sum()), rel=1e-6)


def test_exported_only_member_is_discovered(voice_dir: Path, tmp_path: Path) -> None:
    _export(voice_dir, tmp_path)
    info = find_voice("2", tmp_path)
    assert info.engine == ENGINE_EXPORTED and info.usable and info.sample_rate == 22050
    with pytest.raises(Exception, match="exported voice only"):
        load_voice(info, engine="torch")


def _copy_member(voice_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "voices"
    for kind in ("glow-tts", "hifigan-v2"):
        shutil.copytree(voice_dir / kind / "1", target / kind / "1")
    return target


def test_cache_built_once_rebuilt_when_stale_or_damaged(voice_dir: Path, tmp_path: Path) -> None:
    copy = _copy_member(voice_dir, tmp_path)
    info = member_info(copy, "1")
    first = cache.exported_dir(info)
    inode = (first / manifest.MANIFEST).stat().st_ino
    assert cache.exported_dir(info) == first
    assert (first / manifest.MANIFEST).stat().st_ino == inode  # current: not rebuilt
    reference = cache.load(info).synthesize("안녕", SynthesisConfig(seed=3)).samples

    assert info.checkpoint is not None
    os.utime(info.checkpoint)  # a retrained or touched checkpoint
    cache.exported_dir(info)
    assert (first / manifest.MANIFEST).stat().st_ino != inode
    inode = (first / manifest.MANIFEST).stat().st_ino

    encoder = first / "encoder.onnx"
    data = bytearray(encoder.read_bytes())
    data[: len(data) // 2] = b"\xff" * (len(data) // 2)  # same size, garbage: only loading can tell
    encoder.write_bytes(bytes(data))
    voice = cache.load(info)  # rebuilt, not trusted
    assert (first / manifest.MANIFEST).stat().st_ino != inode
    assert np.array_equal(voice.synthesize("안녕", SynthesisConfig(seed=3)).samples, reference)

    (first / "vocoder.onnx").write_bytes(b"truncated")
    assert not cache.current(first, cache.source_stamps(info))
    assert np.array_equal(cache.load(info).synthesize("안녕", SynthesisConfig(seed=3)).samples, reference)


def test_engine_setting_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORV_TTS_ENGINE", raising=False)
    assert resolve_engine() == "onnx"
    monkeypatch.setenv("FORV_TTS_ENGINE", "torch")
    assert resolve_engine() == "torch"
    assert resolve_engine("onnx") == "onnx"
    monkeypatch.setenv("FORV_TTS_ENGINE", "tensorflow")
    with pytest.raises(Exception, match="unknown engine"):
        resolve_engine()


def _samples(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.int32)


def test_cli_export_and_engines(voice_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "exported"
    result = runner.invoke(
        app, ["export", "-m", "2", "--voice-dir", str(voice_dir), "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["member"] == "2" and record["duration_rule"] == manifest.DURATION_CEIL_MIN1
    assert record["size"] == sum(f["size"] + f.get("data_size", 0) for f in record["files"].values())

    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    refused = runner.invoke(
        app, ["export", "-m", "2", "--voice-dir", str(voice_dir), "-o", str(tmp_path / "other")]
    )
    assert refused.exit_code == 2 and "refusing" in refused.stderr
    assert (tmp_path / "other" / "keep.txt").read_text() == "mine"

    wavs = {}
    for engine in ("onnx", "torch"):
        args = ["say", "-m", "1", "--voice-dir", str(voice_dir), "--seed", "9", "--engine", engine]
        done = runner.invoke(app, [*args, "-o", f"{engine}.wav", "안녕하세요"])
        assert done.exit_code == 0, done.stderr
        wavs[engine] = _samples(tmp_path / f"{engine}.wav")
    assert len(wavs["onnx"]) == len(wavs["torch"])
    assert np.abs(wavs["onnx"] - wavs["torch"]).max() <= 2  # 16-bit rounding of samples within 1e-6

    bad = runner.invoke(app, ["say", "-m", "1", "--voice-dir", str(voice_dir), "--engine", "tf", "안녕"])
    assert bad.exit_code == 2 and "unknown engine" in bad.stderr


def test_console_script_env_engine(voice_dir: Path, tmp_path: Path) -> None:
    script = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert script
    logs = {}
    for engine in ("torch", "onnx"):
        env = {**os.environ, "FORV_TTS_ENGINE": engine}
        proc = subprocess.run(
            [
                script,
                "-v",
                "say",
                "-m",
                "2",
                "--voice-dir",
                str(voice_dir),
                "--seed",
                "1",
                "-o",
                "x.wav",
                "안녕",
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        logs[engine] = proc.stderr
    assert "torch engine" in logs["torch"] and "onnx engine" in logs["onnx"]


def test_older_exports_still_speak_and_the_cache_rebuilds_them(voice_dir: Path, tmp_path: Path) -> None:
    import onnx

    copy = _copy_member(voice_dir, tmp_path)
    info = member_info(copy, "1")
    current = cache.exported_dir(info)
    vocoder = onnx.load(str(current / "vocoder.onnx"))
    weights = {i.name: i for i in vocoder.graph.initializer}
    convs = [n for n in vocoder.graph.node if n.op_type == "Conv"]
    assert convs and all(len(weights[n.input[1]].dims) == 4 for n in convs)  # format 4: 2-D convolutions
    reference = cache.load(info).synthesize("안녕", SynthesisConfig(seed=3)).samples

    old = tmp_path / "exported-by-an-older-forv-tts"
    shutil.copytree(current, old)
    data = json.loads((old / manifest.MANIFEST).read_text(encoding="utf-8"))
    data[manifest.FORMAT_KEY] = "3"  # what forv-tts wrote before the 2-D vocoder: same tensors in and out
    (old / manifest.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    spoken = OnnxVoice(info, old).synthesize("안녕", SynthesisConfig(seed=3)).samples
    assert np.array_equal(spoken, reference)
    assert not cache.current(old, cache.source_stamps(info))  # the cache would rebuild it, faster

    data[manifest.FORMAT_KEY] = "2"
    (old / manifest.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(VoiceLoadError, match="exported voice format '2', expected one of 3, 4, 5"):
        OnnxVoice(info, old)

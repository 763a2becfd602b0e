"""HiFi-GAN in windows (forv_tts/voices/onnx/windows.py) and the graph pages handed back (pages.py).

The windows must give the whole run's samples: vocoding a mel in windows side by side (two threads) and
as a stream of growing blocks is compared with one run of the same graph, within 1e-6 of full scale,
for short and long mels of both members; with less context than the graph's reach the samples differ,
so the comparison can fail. Handing back a graph's weight pages leaves the audio unchanged.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from forv_tts.config import SynthesisConfig
from forv_tts.voices.layout import member_info
from forv_tts.voices.onnx import cache, manifest, pages, windows
from forv_tts.voices.onnx.voice import OnnxVoice, WindowSpec, expand

TOLERANCE = 1e-6  # of full scale (the vocoder's tanh output is in [-1, 1])
FRAMES = [3, 40, 157, 300, 611]


def _mel(voice: OnnxVoice, frames: int, seed: int = 0) -> np.ndarray:
    """A mel of `frames` frames in the model's range, as the decoder would give."""
    rng = np.random.default_rng(seed + frames)
    return rng.uniform(-4.0, 4.0, size=(int(voice.tts_audio.num_mels), frames)).astype(np.float32)


@pytest.fixture(scope="module")
def voices(voice_dir: Path) -> dict[str, tuple[OnnxVoice, OnnxVoice]]:
    """member → (one-thread voice, two-thread voice) of the same export."""
    out = {}
    for member in ("1", "2"):
        info = member_info(voice_dir, member)
        directory = cache.exported_dir(info)
        out[member] = (OnnxVoice(info, directory, threads=1), OnnxVoice(info, directory, threads=2))
    return out


def test_the_export_records_the_vocoders_reach(voices: dict[str, tuple[OnnxVoice, OnnxVoice]]) -> None:
    one, _ = voices["1"]
    data = one.manifest["vocoder_windows"]
    found = windows.graph_reach(one.directory / one.manifest["graphs"]["vocoder"]["file"])
    assert found is not None
    rate, reach = found
    assert rate == data["hop"] == len(one.vocode(_mel(one, 10))) // (10 + 2 * data["padding"])
    assert data["context"] == windows.context_frames(reach) and one.windows is not None


@pytest.mark.parametrize("member", ["1", "2"])
@pytest.mark.parametrize("frames", FRAMES)
def test_windows_side_by_side_give_the_whole_runs_samples(
    voices: dict[str, tuple[OnnxVoice, OnnxVoice]], member: str, frames: int
) -> None:
    one, two = voices[member]
    mel = _mel(one, frames)
    whole = one.vocode(mel)
    split = two.vocode(mel)
    assert split.shape == whole.shape
    assert float(np.max(np.abs(split - whole))) <= TOLERANCE


@pytest.mark.parametrize("member", ["1", "2"])
@pytest.mark.parametrize("frames", FRAMES)
@pytest.mark.parametrize("first", [1, 7, 32])
def test_blocks_joined_give_the_whole_runs_samples(
    voices: dict[str, tuple[OnnxVoice, OnnxVoice]], member: str, frames: int, first: int
) -> None:
    one, two = voices[member]
    mel = _mel(one, frames)
    whole = one.vocode(mel)
    for voice in (one, two):
        blocks = list(voice.vocode_blocks(mel, first=first, largest=64))
        joined = np.concatenate(blocks)
        assert joined.shape == whole.shape
        assert float(np.max(np.abs(joined - whole))) <= TOLERANCE
        if frames >= 40:
            assert len(blocks) > 1 and len(blocks[0]) == first * one.windows.hop  # type: ignore[union-attr]


def test_too_little_context_changes_the_samples(voices: dict[str, tuple[OnnxVoice, OnnxVoice]]) -> None:
    one, _ = voices["1"]
    mel = _mel(one, 300)
    whole = one.vocode(mel)
    spec = one.windows
    assert spec is not None
    try:
        one.windows = WindowSpec(context=2, padding=spec.padding, hop=spec.hop)
        joined = np.concatenate(list(one.vocode_blocks(mel, first=16, largest=32)))
    finally:
        one.windows = spec
    assert float(np.max(np.abs(joined - whole))) > 1e-3


def test_short_mels_and_older_exports_vocode_whole(voice_dir: Path, tmp_path: Path) -> None:
    info = member_info(voice_dir, "1")
    old = tmp_path / "format-4"
    shutil.copytree(cache.exported_dir(info), old)
    data = json.loads((old / manifest.MANIFEST).read_text(encoding="utf-8"))
    data[manifest.FORMAT_KEY] = "4"
    del data["vocoder_windows"]
    (old / manifest.MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    voice = OnnxVoice(info, old, threads=2)
    assert voice.windows is None
    mel = _mel(voice, 200)
    assert len(list(voice.vocode_blocks(mel))) == 1
    assert windows.worth_splitting(1000, 19, 2) and not windows.worth_splitting(100, 19, 2)


def test_plan_keeps_every_frame_once() -> None:
    for frames, pad, context in [(1, 5, 19), (10, 5, 19), (500, 5, 19), (64, 0, 3)]:
        total = frames + 2 * pad
        for edges in (windows.even_edges(total, 2), windows.growing_edges(total, 7, 64), [0, total]):
            plan = windows.plan(frames, pad, context, edges)
            assert [a for a, *_ in plan] == edges[:-1] and plan[-1][1] == total
            for a, b, s, e in plan:
                assert 0 <= s < e <= frames
                assert s == 0 or a - s >= pad + context
                assert e == frames or (e + pad) - b >= context
    with pytest.raises(ValueError, match="do not cover"):
        windows.plan(10, 5, 19, [0, 5])


def test_expand_is_the_alignment_product() -> None:
    from forv_tts.voices.onnx.voice import alignment

    rng = np.random.default_rng(3)
    stats = rng.standard_normal((8, 6)).astype(np.float32)
    logs = rng.standard_normal((8, 6)).astype(np.float32)
    for durations in ([1, 0, 3, 2, 0, 4], [0, 0, 5, 0, 0, 1], [2, 2, 2, 2, 2, 2]):
        w = np.asarray(durations, np.float32)
        frames = int(w.sum())
        path = alignment(w, frames)
        means, scales = expand(w, frames, stats, logs)
        assert np.array_equal(means[0], (path.T @ stats.T).T)
        assert np.array_equal(scales[0], (path.T @ logs.T).T)


def test_handing_back_weight_pages_keeps_the_audio(voice_dir: Path, tmp_path: Path) -> None:
    info = member_info(voice_dir, "2")
    directory = cache.exported_dir(info)
    voice = OnnxVoice(info, directory, threads=1)
    config = SynthesisConfig(seed=11)
    reference = voice.synthesize("오늘 날씨가 좋네요.", config).samples
    data = directory / voice.manifest["graphs"]["decoder"]["data"]
    assert pages.clean_mappings(data)  # onnxruntime maps the weights it read
    assert pages.release(data) > 0
    voice.release_pages = True
    again = [voice.synthesize("오늘 날씨가 좋네요.", config).samples for _ in range(2)]
    assert all(np.array_equal(a, reference) for a in again)
    copy = tmp_path / "not-mapped.data"
    copy.write_bytes(b"\0" * 4096)
    assert pages.release(copy) == 0


def test_a_forked_child_vocodes_in_windows_of_its_own(voices: dict[str, tuple[OnnxVoice, OnnxVoice]]) -> None:
    import os

    _, two = voices["1"]
    mel = _mel(two, 400)
    whole = two.vocode(mel)  # the parent's pool now has threads
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        ok = False
        try:
            ok = bool(np.array_equal(two.vocode(mel), whole))
        finally:
            os.write(write, b"1" if ok else b"0")
            os._exit(0)
    os.close(write)
    got = os.read(read, 1)
    os.waitpid(pid, 0)
    assert got == b"1"


# The decoder in windows. The test voices' couplings start as coqui initialises them (the last layer
# zero: each coupling passes its input through), so a mel's frames would not depend on their
# neighbours and any window would pass; `coupled` gives them weights first, so too little context shows.


@pytest.fixture(scope="module")
def coupled(voice_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[OnnxVoice, int]:
    """Member 1 exported with its decoder's couplings given random weights (two threads), and the
    reach of its flows in mel frames counted from the modules."""
    import torch

    from forv_tts.voices.coqui.voice import CoquiVoice
    from forv_tts.voices.onnx.export import export_voice

    info = member_info(voice_dir, "1")
    torch_voice = CoquiVoice(info)
    decoder = torch_voice.glow.decoder
    gen = torch.Generator().manual_seed(5)
    reach = 0
    with torch.no_grad():
        for flow in decoder.flows:
            if hasattr(flow, "end"):
                flow.end.weight.copy_(torch.randn(flow.end.weight.shape, generator=gen) * 0.05)
                flow.end.bias.copy_(torch.randn(flow.end.bias.shape, generator=gen) * 0.05)
                for conv in flow.wn.in_layers:
                    reach += conv.dilation[0] * (conv.kernel_size[0] - 1) // 2
    directory = export_voice(torch_voice, tmp_path_factory.mktemp("coupled"))
    return OnnxVoice(info, directory, threads=2), reach * decoder.num_squeeze


def test_the_export_records_the_decoders_reach(coupled: tuple[OnnxVoice, int]) -> None:
    voice, reach = coupled
    data = voice.manifest["decoder_windows"]
    assert reach > 0 and data["reach"] * data["unit"] == reach and data["unit"] == voice.num_squeeze
    assert data["context"] == windows.context_frames(data["reach"]) * data["unit"]
    assert voice.decoder_windows is not None and voice.decoder_windows.context == data["context"]


def _prior(voice: OnnxVoice, length_scale: float = 4.0) -> Any:
    ids = voice.tokenize("오늘 날씨가 정말 좋네요, 산책 갈까요?")
    return voice.prior(ids, seed=3, length_scale=length_scale)


def test_decoder_windows_give_the_whole_runs_frames(coupled: tuple[OnnxVoice, int]) -> None:
    voice, _ = coupled
    prior = _prior(voice)
    whole = voice.decode(prior)
    length = prior.mel_frames
    assert whole.shape[1] == length > 200
    for start, end in [(0, 2), (0, 40), (40, 120), (100, length), (2, length - 1 - (length - 1) % 2)]:
        part = voice.decode(prior, start, end)
        assert part.shape == (whole.shape[0], end - start)
        assert float(np.max(np.abs(part - whole[:, start:end]))) <= 1e-5, (start, end)
    with pytest.raises(ValueError, match="whole 2-frame steps"):
        voice.decode(prior, 1, 40)


def test_too_little_decoder_context_changes_the_frames(coupled: tuple[OnnxVoice, int]) -> None:
    from forv_tts.voices.onnx.voice import DecoderSpec

    voice, _ = coupled
    prior = _prior(voice)
    whole = voice.decode(prior)
    spec = voice.decoder_windows
    try:
        voice.decoder_windows = DecoderSpec(context=2)
        part = voice.decode(prior, 40, 120)
    finally:
        voice.decoder_windows = spec
    assert float(np.max(np.abs(part - whole[:, 40:120]))) > 1e-3


def test_a_long_streamed_sentence_decodes_its_first_window_first(
    coupled: tuple[OnnxVoice, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream cuts the decoder after what the first vocoder window reads; the parts joined are the
    clip (made with the decoder whole) and the same samples with the cut switched off."""
    voice, _ = coupled
    text, config = "오늘 날씨가 정말 좋네요, 산책 갈까요?", SynthesisConfig(seed=3, length_scale=9.0)
    runs: list[tuple[int, int | None]] = []
    decode = voice.decode

    def counted(prior: Any, start: int = 0, end: int | None = None, **kw: Any) -> np.ndarray:
        runs.append((start, end))
        return decode(prior, start, end, **kw)

    monkeypatch.setattr(voice, "decode", counted)
    clip = voice.synthesize(text, config).samples
    assert len(runs) == 1 and runs[0][0] == 0 and len(clip) > 6.5 * voice.sample_rate
    frames = runs[0][1]
    assert frames is not None
    runs.clear()
    parts = list(voice.stream(text, config))
    assert len(runs) == 2 and runs[0][0] == 0 and runs[1] == (runs[0][1], frames)
    assert runs[0][1] is not None and runs[0][1] < frames // 4
    assert len(parts) > 2 and np.array_equal(np.concatenate([p.samples for p in parts]), clip)
    monkeypatch.setenv("FORV_TTS_DECODER_WINDOWS", "0")
    runs.clear()
    plain = list(voice.stream(text, config))
    assert len(runs) == 1 and np.array_equal(np.concatenate([p.samples for p in plain]), clip)


@pytest.mark.parametrize(("threads", "switch", "spins"), [(1, None, False), (2, None, True), (2, "0", False)])
def test_threads_spin_within_a_run_only_when_there_are_several(
    monkeypatch: pytest.MonkeyPatch, threads: int, switch: str | None, spins: bool
) -> None:
    from forv_tts.voices.onnx.voice import session_options

    if switch is None:
        monkeypatch.delenv("FORV_TTS_ONNX_SPIN_IN_RUN", raising=False)
    else:
        monkeypatch.setenv("FORV_TTS_ONNX_SPIN_IN_RUN", switch)
    opts = session_options(threads)
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == ("1" if spins else "0")
    if spins:  # and the spinning ends with each run, so idle threads never spin between runs
        assert opts.get_session_config_entry("session.force_spinning_stop") == "1"

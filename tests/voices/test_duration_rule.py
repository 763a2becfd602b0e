"""The Glow-TTS duration rule is decided from the files, and each voice speaks with its rule.

Every member below holds the *same* weights (written by tests/voicefactory.py from one network), with a
duration predictor that gives many tokens <= 0 frames, so the two rules give audibly different clips:

* "zero-frames" (Coqui TTS <= 0.3.1, `ceil(w)`): those tokens are dropped;
* "min-one-frame" (>= 0.4.0 and coqui-tts 0.28, `clamp_min(ceil(w), 1)`): the modern voice's audio, which
  test_coqui_voice.py proves equal to coqui 0.28's own `GlowTTS.inference`.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import voicefactory as vf

from forv_tts.config import SynthesisConfig
from forv_tts.errors import VoiceLoadError
from forv_tts.voices import duration_rule as dr
from forv_tts.voices.coqui.voice import CoquiVoice
from forv_tts.voices.layout import discover_members, member_info

TEXT = "안녕하세요, 만나서 반갑습니다."
BASE = vf.VoiceSpec(frames_per_token=0.0, duration_spread=1.0, do_trim_silence=False, seed=7)

# member -> (VoiceSpec changes for a legacy checkpoint, expected rule, words the evidence must contain)
LEGACY_CASES: dict[str, tuple[dict[str, Any], str, str]] = {
    "before": (
        {"date": "September 30, 2021", "legacy_release": "none"},
        dr.ZERO_FRAMES,
        "'September 30, 2021'",
    ),
    "on": (
        {"date": "October 01, 2021", "legacy_release": "none"},
        dr.MIN_ONE_FRAME,
        "on or after 2021-10-01",
    ),
    "after": (
        {"date": "January 05, 2022", "legacy_release": "0.5.0"},
        dr.MIN_ONE_FRAME,
        "'January 05, 2022'",
    ),
    # A date beats config clues: 0.5.0 fields with an (impossible) early date follow the date.
    "before-with-fields": ({"date": "June 21, 2021", "legacy_release": "0.5.0"}, dr.ZERO_FRAMES, "June 21"),
    "fields-0.5": ({"date": None, "legacy_release": "0.5.0"}, dr.MIN_ONE_FRAME, "datasets[].language"),
    "order-0.3": ({"date": None, "legacy_release": "0.3.1"}, dr.ZERO_FRAMES, "<= 0.3.1"),
    "fields-0.4": ({"date": None, "legacy_release": "0.4.2"}, dr.MIN_ONE_FRAME, "ununsed_speakers"),
    "nothing": ({"date": None, "legacy_release": "none"}, dr.MIN_ONE_FRAME, "default"),
}


@pytest.fixture(scope="module")
def rule_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("rules")
    src = vf.write_voice(root, replace(BASE, member="modern", format="modern"))
    for member, (changes, _, _) in LEGACY_CASES.items():
        vf.write_voice(root, replace(BASE, member=member, format="legacy", **changes), source=src)
    # The modern weights told, by the team's override, to use the 0.x rule: the zero-frames reference.
    vf.write_voice(root, replace(BASE, member="modern-zero", format="modern"), source=src)
    write_override(root, "modern-zero", dr.ZERO_FRAMES)
    return root


def write_override(root: Path, member: str, rule: Any) -> Path:
    path = root / "glow-tts" / member / dr.OVERRIDE_FILE
    path.write_text(json.dumps({"duration_rule": rule, "why": "retrained on our 0.3 fork"}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def voices(rule_dir: Path) -> dict[str, CoquiVoice]:
    return {info.id: CoquiVoice(info) for info in discover_members(rule_dir)}


def speak(voice: CoquiVoice) -> np.ndarray:
    return voice.synthesize(TEXT, SynthesisConfig(seed=3)).samples


def test_the_test_voice_has_zero_duration_tokens(voices: dict[str, CoquiVoice]) -> None:
    """Premise: without tokens predicted at <= 0 frames the two rules could not differ."""
    voice = voices["modern"]
    ids = voice.tokenize(TEXT)
    with torch.inference_mode():
        _, _, o_dur_log, _ = voice.glow.encoder(torch.tensor([ids]), torch.tensor([len(ids)]), g=None)
    w = torch.exp(o_dur_log) - 1
    assert 0.2 < float((w <= 0).float().mean()) < 0.8


@pytest.mark.parametrize("member", list(LEGACY_CASES))
def test_rule_and_evidence_per_checkpoint(rule_dir: Path, member: str) -> None:
    _, rule, words = LEGACY_CASES[member]
    info = member_info(rule_dir, member)
    assert info.format == "legacy" and info.usable
    assert info.duration_rule == rule
    assert words in (info.duration_rule_evidence or "")


@pytest.mark.parametrize("member", list(LEGACY_CASES))
def test_each_legacy_voice_speaks_its_rule(voices: dict[str, CoquiVoice], member: str) -> None:
    _, rule, _ = LEGACY_CASES[member]
    voice = voices[member]
    assert voice.duration_rule == rule and voice.zero_length_tokens == (rule == dr.ZERO_FRAMES)
    got = speak(voice)
    min_one, zero = speak(voices["modern"]), speak(voices["modern-zero"])
    assert len(zero) < len(min_one)  # tokens really were dropped
    if rule == dr.MIN_ONE_FRAME:
        assert np.array_equal(got, min_one)  # bit for bit the modern-format voice
    else:
        assert np.array_equal(got, zero)


def test_zero_frames_audio_length_is_ceil_without_clamp(voices: dict[str, CoquiVoice]) -> None:
    """Independent of our inference code: the clip is hop x sum(ceil(w)) frames (decoder-squeezed),
    plus the `inference_padding` frames coqui's HiFi-GAN adds on each side."""
    voice = voices["before"]
    ids = voice.tokenize(TEXT)
    with torch.inference_mode():
        _, _, o_dur_log, _ = voice.glow.encoder(torch.tensor([ids]), torch.tensor([len(ids)]), g=None)
    w = (torch.exp(o_dur_log) - 1).flatten().tolist()
    squeeze = voice.glow.decoder.num_squeeze
    hop, pad = 256, 2 * voice.vocoder.inference_padding
    zero = sum(math.ceil(x) for x in w)
    min_one = sum(max(math.ceil(x), 1) for x in w)
    assert zero < min_one
    assert len(speak(voice)) == hop * (zero // squeeze * squeeze + pad)
    assert len(speak(voices["on"])) == hop * (min_one // squeeze * squeeze + pad)


def test_modern_format_is_min_one_frame(rule_dir: Path) -> None:
    info = member_info(rule_dir, "modern")
    assert info.duration_rule == dr.MIN_ONE_FRAME


def test_override_beats_every_other_evidence(rule_dir: Path, tmp_path: Path) -> None:
    info = member_info(rule_dir, "modern-zero")
    assert info.duration_rule == dr.ZERO_FRAMES and dr.OVERRIDE_FILE in (info.duration_rule_evidence or "")
    # A legacy checkpoint dated before the fix, told by the team it ran the fixed code.
    for kind in ("glow-tts", "hifigan-v2"):
        (tmp_path / kind).mkdir()
        for p in (rule_dir / kind / "before").iterdir():
            (tmp_path / kind / "before").mkdir(exist_ok=True)
            (tmp_path / kind / "before" / p.name).write_bytes(p.read_bytes())
    write_override(tmp_path, "before", dr.MIN_ONE_FRAME)
    overridden = member_info(tmp_path, "before")
    assert overridden.duration_rule == dr.MIN_ONE_FRAME and overridden.usable
    voice = CoquiVoice(overridden)
    assert np.array_equal(speak(voice), speak(CoquiVoice(member_info(rule_dir, "modern"))))


@pytest.mark.parametrize("content", ['{"duration_rule": "zero"}', '{"duration_rule": 1}', "not json", "[]"])
def test_bad_override_is_a_problem_not_a_guess(rule_dir: Path, tmp_path: Path, content: str) -> None:
    for kind in ("glow-tts", "hifigan-v2"):
        src = rule_dir / kind / "on"
        dst = tmp_path / kind / "on"
        dst.mkdir(parents=True)
        for p in src.iterdir():
            if p.name != dr.OVERRIDE_FILE:
                (dst / p.name).write_bytes(p.read_bytes())
    (tmp_path / "glow-tts" / "on" / dr.OVERRIDE_FILE).write_text(content, encoding="utf-8")
    info = member_info(tmp_path, "on")
    assert not info.usable and len(info.problems) == 1
    assert dr.OVERRIDE_FILE in info.problems[0]
    with pytest.raises(VoiceLoadError, match=r"voice\.json"):
        CoquiVoice(info)


def test_date_is_read_without_torch_load(rule_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery reads the date from the pickle record only: no tensor data, no torch.load."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("discovery must not load weights")

    monkeypatch.setattr(torch, "load", refuse)
    dr._read_date_cached.cache_clear()
    assert member_info(rule_dir, "before").duration_rule == dr.ZERO_FRAMES
    assert dr.checkpoint_date(rule_dir / "glow-tts" / "after" / "afterg_checkpoint_10000.pth.tar") == (
        "January 05, 2022"
    )


def test_date_from_pre_zip_torch_files_and_garbage(tmp_path: Path) -> None:
    old = tmp_path / "old.pth.tar"
    state = {"config": {}, "model": {"w": torch.ones(3)}, "step": 1, "date": "July 04, 2021"}
    torch.save(state, old, _use_new_zipfile_serialization=False)
    assert dr.checkpoint_date(old) == "July 04, 2021"
    garbage = tmp_path / "garbage.pth.tar"
    garbage.write_bytes(b"\x00not a checkpoint")
    assert dr.checkpoint_date(garbage) is None
    assert dr.checkpoint_date(tmp_path / "absent.pth.tar") is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("September 30, 2021", (2021, 9, 30)),
        ("October 01, 2021", (2021, 10, 1)),
        ("2022-03-07", (2022, 3, 7)),
        ("9월 30, 2021", None),
        ("", None),
    ],
)
def test_parse_date(text: str, day: tuple[int, int, int] | None) -> None:
    parsed = dr.parse_date(text)
    assert (parsed.timetuple()[:3] if parsed else None) == day


def test_onnx_export_is_stale_when_the_rule_changes(rule_dir: Path, tmp_path: Path) -> None:
    """An override written after an ONNX export must not leave the export speaking the old rule."""
    from forv_tts.voices.onnx import cache as onnx_cache

    for kind in ("glow-tts", "hifigan-v2"):
        shutil.copytree(rule_dir / kind / "on", tmp_path / kind / "on")
    before = onnx_cache.source_stamps(member_info(tmp_path, "on"))
    write_override(tmp_path, "on", dr.ZERO_FRAMES)
    after = onnx_cache.source_stamps(member_info(tmp_path, "on"))
    assert before["duration_rule"] == dr.MIN_ONE_FRAME and after["duration_rule"] == dr.ZERO_FRAMES
    assert before != after

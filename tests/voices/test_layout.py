"""Discovery reads configs only; steps, missing files and lookups behave as the CLI needs."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from forv_tts.errors import InvalidInputError, VoiceNotFoundError
from forv_tts.voices import layout as models
from forv_tts.voices.base import BUILTIN_VOICE_ID, ENGINE_COQUI, VoiceInfo
from forv_tts.voices.layout import discover_members, find_voice, list_voices


def make_member(
    root: Path,
    member: str,
    *,
    steps: tuple[int, ...] = (100,),
    vocoder_steps: tuple[int, ...] = (100,),
    config: dict[str, Any] | None = None,
    vocoder: bool = True,
    glow_config: bool = True,
    vocoder_audio: dict[str, Any] | None = None,
) -> None:
    """A member with garbage checkpoint bytes: discovery must never look inside them."""
    cfg = (
        config
        if config is not None
        else {
            "model": "glow_tts",
            "audio": {"sample_rate": 22050},
            "characters": {"characters_class": "TTS.tts.utils.text.characters.Graphemes", "characters": "가"},
        }
    )
    g = root / "glow-tts" / member
    g.mkdir(parents=True, exist_ok=True)
    if glow_config:
        (g / f"{member}g_config.json").write_text(json.dumps(cfg))
    for step in steps:
        (g / f"{member}g_checkpoint_{step}.pth.tar").write_bytes(b"\x00garbage, not a pickle")
    if vocoder:
        h = root / "hifigan-v2" / member
        h.mkdir(parents=True, exist_ok=True)
        audio = vocoder_audio if vocoder_audio is not None else {"sample_rate": 22050}
        (h / f"{member}h_config.json").write_text(json.dumps({"audio": audio}))
        for step in vocoder_steps:
            (h / f"{member}h_checkpoint_{step}.pth.tar").write_bytes(b"garbage")


@pytest.fixture
def no_torch_load(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to read weights."""
    import torch

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("discovery must not load weights")

    monkeypatch.setattr(torch, "load", refuse)


@pytest.fixture
def fake_builtin(monkeypatch: pytest.MonkeyPatch) -> VoiceInfo:
    """Stand-in for forv_tts.voices.espeak (owned by another module) so these tests only test ours."""
    info = VoiceInfo(id=BUILTIN_VOICE_ID, engine="espeak-ng", format="builtin", sample_rate=22050)
    fake = types.ModuleType("forv_tts.voices.espeak")
    fake.builtin_info = lambda voice_dir=None: dataclasses.replace(info, voice_dir=voice_dir)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "forv_tts.voices.espeak", fake)
    return info


def test_fixture_voices_are_discovered(voice_dir: Path, no_torch_load: None) -> None:
    found = discover_members(voice_dir)
    assert [(v.id, v.format, v.engine, v.sample_rate, v.step, v.vocoder_step) for v in found] == [
        ("1", "legacy", ENGINE_COQUI, 22050, 10000, 10000),
        ("2", "modern", ENGINE_COQUI, 22050, 10000, 10000),
    ]
    assert all(v.usable for v in found)
    assert found[0].checkpoint == voice_dir / "glow-tts" / "1" / "1g_checkpoint_10000.pth.tar"
    assert found[0].vocoder_config == voice_dir / "hifigan-v2" / "1" / "1h_config.json"


def test_highest_step_wins_and_step_can_be_pinned(tmp_path: Path, no_torch_load: None) -> None:
    make_member(tmp_path, "3", steps=(900, 12000, 5000), vocoder_steps=(70, 800))
    (info,) = discover_members(tmp_path)
    assert (info.step, info.vocoder_step) == (12000, 800)
    assert info.checkpoint is not None and info.checkpoint.name == "3g_checkpoint_12000.pth.tar"
    pinned = find_voice("3", tmp_path, step=900)
    assert pinned.step == 900 and pinned.checkpoint is not None
    assert pinned.checkpoint.name == "3g_checkpoint_900.pth.tar"
    assert pinned.vocoder_step == 800  # the vocoder is always its newest checkpoint


def test_garbage_checkpoints_still_list(tmp_path: Path, no_torch_load: None) -> None:
    make_member(tmp_path, "1")
    (info,) = discover_members(tmp_path)
    assert info.usable and info.sample_rate == 22050
    # No date can be read from garbage: the rule falls back to the config (a modern one here).
    assert info.duration_rule == "min-one-frame" and "coqui-tts" in (info.duration_rule_evidence or "")


@pytest.mark.parametrize(
    ("vocoder_audio", "expected"),
    [
        ({"sample_rate": 24000}, ["sample_rate 22050 vs 24000", "mel_fmax 11025 vs 12000"]),
        ({"sample_rate": 22050, "hop_length": 275}, ["hop_length 256 vs 275"]),
        ({"sample_rate": 22050, "frame_shift_ms": 12.5}, ["hop_length 256 vs 275"]),
        ({"sample_rate": 22050, "num_mels": 64}, ["num_mels 80 vs 64"]),
        ({"sample_rate": 22050, "mel_fmin": 50.0}, ["mel_fmin 0 vs 50"]),
        ({"sample_rate": 22050, "mel_fmax": 8000.0}, ["mel_fmax 11025 vs 8000"]),
        ({"sample_rate": 22050, "mel_fmax": 11025, "hop_length": 256}, []),
    ],
)
def test_mismatched_vocoder_is_not_usable(
    tmp_path: Path, no_torch_load: None, vocoder_audio: dict[str, Any], expected: list[str]
) -> None:
    """Issue 14: a vocoder trained on other mel settings is shown as not ok, naming each setting."""
    make_member(tmp_path, "1", vocoder_audio=vocoder_audio)
    (info,) = discover_members(tmp_path)
    if not expected:
        assert info.usable and info.problems == ()
        return
    assert not info.usable and info.missing == ()
    (problem,) = info.problems
    assert problem.startswith("vocoder does not match the acoustic model")
    for item in expected:
        assert item in problem
    assert info.to_dict()["problems"] == [problem]


def test_members_sort_numerically(tmp_path: Path) -> None:
    for member in ("10", "2", "1", "b", "a"):
        make_member(tmp_path, member)
    (tmp_path / "glow-tts" / ".cache").mkdir()
    assert [v.id for v in discover_members(tmp_path)] == ["1", "2", "10", "a", "b"]


def test_incomplete_members_are_listed_with_what_is_missing(tmp_path: Path) -> None:
    make_member(tmp_path, "1", vocoder=False)
    make_member(tmp_path, "2", steps=())
    make_member(tmp_path, "3", glow_config=False)
    (tmp_path / "hifigan-v2" / "4").mkdir(parents=True)
    by_id = {v.id: v for v in discover_members(tmp_path)}
    assert set(by_id) == {"1", "2", "3", "4"}
    assert by_id["1"].missing == ("hifigan-v2/1/1h_checkpoint_<step>.pth.tar", "hifigan-v2/1/1h_config.json")
    assert by_id["2"].missing == ("glow-tts/2/2g_checkpoint_<step>.pth.tar",)
    assert by_id["3"].missing == ("glow-tts/3/3g_config.json",)
    assert by_id["3"].format == "unknown"
    assert len(by_id["4"].missing) == 4
    assert not any(v.usable for v in by_id.values())


def test_pinned_step_that_does_not_exist_is_missing(tmp_path: Path) -> None:
    make_member(tmp_path, "1", steps=(100,))
    with pytest.raises(VoiceNotFoundError, match=r"glow-tts/1/1g_checkpoint_555\.pth\.tar"):
        find_voice("1", tmp_path, step=555)


def test_format_is_read_from_the_config(tmp_path: Path) -> None:
    legacy_cfg = {
        "audio": {"sample_rate": 16000},
        "characters": {"pad": "_", "characters": "가", "unique": True},
    }
    make_member(tmp_path, "1", config=legacy_cfg, vocoder=False)
    (tmp_path / "glow-tts" / "2").mkdir(parents=True)
    (tmp_path / "glow-tts" / "2" / "2g_config.json").write_text("{not json")
    by_id = {v.id: v for v in discover_members(tmp_path)}
    assert by_id["1"].format == "legacy" and by_id["1"].sample_rate == 16000
    assert by_id["2"].format == "unknown"


def test_config_with_comment_lines_is_read(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{\n  // mozilla-era comment\n  "audio": {"sample_rate": 8000}\n}\n')
    assert models.read_config_json(path)["audio"]["sample_rate"] == 8000


def test_unknown_member_names_ids_and_dir(tmp_path: Path) -> None:
    make_member(tmp_path, "1")
    make_member(tmp_path, "7")
    with pytest.raises(VoiceNotFoundError) as err:
        find_voice("5", tmp_path)
    message = str(err.value)
    assert "\n" not in message
    assert "'5'" in message and "1, 7" in message and str(tmp_path) in message


def test_missing_voice_dir_says_so(tmp_path: Path) -> None:
    with pytest.raises(VoiceNotFoundError, match="does not exist"):
        find_voice("1", tmp_path / "nowhere")


def test_incomplete_member_names_the_missing_file(tmp_path: Path) -> None:
    make_member(tmp_path, "1", vocoder=False)
    with pytest.raises(VoiceNotFoundError, match=r"hifigan-v2/1/1h_config\.json"):
        find_voice("1", tmp_path)


@pytest.mark.parametrize("bad", ["../1", "a/b", "", ".."])
def test_member_ids_are_validated(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInputError):
        find_voice(bad, tmp_path)


def test_none_and_builtin_mean_the_builtin_voice(tmp_path: Path, fake_builtin: VoiceInfo) -> None:
    """… asked for from `tmp_path`, whose lexicon.tsv applies to its text (the info records it)."""
    asked = dataclasses.replace(fake_builtin, voice_dir=tmp_path)
    assert find_voice(None, tmp_path) == asked
    assert find_voice(BUILTIN_VOICE_ID, tmp_path) == asked


def test_list_voices_puts_builtin_first(voice_dir: Path, fake_builtin: VoiceInfo) -> None:
    voices = list_voices(voice_dir)
    assert voices[0] == dataclasses.replace(fake_builtin, voice_dir=voice_dir)
    assert [v.id for v in voices[1:]] == ["1", "2"]
    assert {v.voice_dir for v in voices} == {voice_dir}  # members record where they were found


def test_find_voice_on_fixture(voice_dir: Path) -> None:
    info = find_voice("2", voice_dir)
    assert info.format == "modern" and info.usable
    assert info.to_dict()["checkpoint"] == str(voice_dir / "glow-tts" / "2" / "2g_checkpoint_10000.pth.tar")


def test_copied_member_with_more_steps(voice_dir: Path, tmp_path: Path) -> None:
    """A newer step copied next to an old one is picked without touching either file's contents."""
    dst = tmp_path / "voices"
    shutil.copytree(voice_dir, dst)
    glow = dst / "glow-tts" / "2"
    (glow / "2g_checkpoint_10000.pth.tar").rename(glow / "2g_checkpoint_20000.pth.tar")
    (glow / "2g_checkpoint_500.pth.tar").write_bytes(b"old")
    assert find_voice("2", dst).step == 20000

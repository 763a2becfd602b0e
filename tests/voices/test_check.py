"""`forv_tts.voices.check`: the audio judgements on known signals, and the per-member verdicts."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import voicefactory as vf

from forv_tts.errors import NothingToSayError
from forv_tts.voices import check as vc
from forv_tts.voices import duration_rule as dr

RATE = 22050
EXPECTED = (1.0, 5.0)


def tone(seconds: float, level: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


@pytest.mark.parametrize(
    ("samples", "reason"),
    [
        pytest.param(tone(2.0), None, id="speech-like"),
        pytest.param(tone(0.3), "expected 1.00-5.00 s", id="too-short"),
        pytest.param(tone(9.0), "expected 1.00-5.00 s", id="too-long"),
        pytest.param(np.zeros(RATE * 2, dtype=np.float32), "near-silent", id="silent"),
        pytest.param(tone(2.0, 0.001), "near-silent", id="quiet"),
        pytest.param(
            np.concatenate([tone(0.4), np.zeros(RATE * 2, np.float32)]), "silence", id="mostly-silence"
        ),
        pytest.param(np.sign(tone(2.0)).astype(np.float32), "clipped", id="clipped"),
        pytest.param(np.full(RATE * 2, np.nan, dtype=np.float32), "NaN", id="nan"),
    ],
)
def test_judge_audio(samples: np.ndarray, reason: str | None) -> None:
    judged = vc.judge_audio(samples, RATE, EXPECTED)
    if reason is None:
        assert judged["reasons"] == []
        assert judged["peak_dbfs"] == pytest.approx(-6.02, abs=0.05)
        assert judged["silence_share"] == 0.0 and judged["clipped_share"] == 0.0
    else:
        assert any(reason in r for r in judged["reasons"]), judged


def test_expected_duration_grows_with_the_text() -> None:
    assert vc.hangul_syllables("안녕하세요, 반갑습니다.") == 10
    lo, hi = vc.expected_duration(10, 2)
    assert lo == pytest.approx(0.4) and hi == pytest.approx(5.0 + 0.25 + 1.0)


@pytest.fixture(scope="module")
def check_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The members of `voicefactory.write_check_members`."""
    return vf.write_check_members(tmp_path_factory.mktemp("check"))


def test_good_members_pass_with_measurements(check_dir: Path) -> None:
    results = vc.check_voices(check_dir, ["1", "2"], text="값이 얼마예요?")
    assert [r.member for r in results] == ["1", "2"]
    for r in results:
        assert r.ok and r.reasons == [] and r.reason == ""
        assert r.load_s is not None and r.load_s > 0
        assert r.weight_cache in ("hit", "built")
        assert r.files["glow_checkpoint"]["bytes"] > 0
        assert [p.text for p in r.phrases] == [vc.TEST_PHRASE, "값이 얼마예요?"]
        for p in r.phrases:
            assert p.ok and p.finite and p.rtf is not None and p.rtf > 0
            assert p.expected_s is not None and p.expected_s[0] <= p.duration_s <= p.expected_s[1]
    legacy, modern = results
    assert legacy.duration_rule == dr.ZERO_FRAMES and "June 21, 2021" in (legacy.duration_rule_evidence or "")
    assert modern.duration_rule == dr.MIN_ONE_FRAME
    assert any("checkpoint date" in e for e in legacy.release_evidence)
    # Same weights, both rules give >= 1 frame to every token here: the same clip.
    assert legacy.phrases[0].duration_s == modern.phrases[0].duration_s
    # A second check of the same member finds the weight cache written by the first.
    (again,) = vc.check_voices(check_dir, ["2"])
    assert again.weight_cache == "hit"


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ("3", "sample_rate 22050 vs 16000"),
        ("4", "corrupt or truncated"),
        ("5", "missing hifigan-v2/5/5h_config.json"),
        ("6", "produced no audio frames"),
        ("7", "NaN or infinite"),
        ("99", "no member '99'"),
    ],
)
def test_bad_members_fail_with_the_reason(check_dir: Path, member: str, reason: str) -> None:
    (result,) = vc.check_voices(check_dir, [member])
    assert not result.ok and reason in result.reason
    assert not any(p.ok for p in result.phrases)
    record = result.to_dict()
    assert record["ok"] is False and reason in record["reason"]


def test_unspeakable_user_text_is_refused_before_loading(check_dir: Path) -> None:
    with pytest.raises(NothingToSayError):
        vc.check_voices(check_dir, ["1"], text="☃☃")


def test_check_reads_a_copy_without_touching_it(check_dir: Path, tmp_path: Path) -> None:
    """Checking never writes into the voice directory (CI may mount it read-only)."""
    shutil.copytree(check_dir / "glow-tts" / "2", tmp_path / "glow-tts" / "2")
    shutil.copytree(check_dir / "hifigan-v2" / "2", tmp_path / "hifigan-v2" / "2")
    before = sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file())
    (result,) = vc.check_voices(tmp_path)
    assert result.ok
    assert sorted((p.name, p.stat().st_mtime_ns) for p in tmp_path.rglob("*") if p.is_file()) == before

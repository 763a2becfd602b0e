"""`forv-tts check`, the duration rule in `members`, and bad voices in `say`, through the console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import voicefactory as vf
from typer.testing import CliRunner

from forv_tts.cli import app


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    script = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert script, "the forv-tts console script is not installed next to this interpreter"
    env = {k: v for k, v in os.environ.items() if k not in ("FORV_TTS_VOICE_DIR", "FORV_TTS_BUCKET")}
    return subprocess.run(
        [script, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def voices(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The members of `voicefactory.write_check_members`."""
    return vf.write_check_members(tmp_path_factory.mktemp("cli-voices"))


def test_check_passes_for_good_members(voices: Path, tmp_path: Path) -> None:
    r = _run(
        "check", "--voice-dir", str(voices), "-m", "1", "-m", "2", "--text", "값이 얼마예요?", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("ok   1  legacy  zero-frames (date)")
    assert lines[1].startswith("ok   2  modern  min-one-frame (date)")
    for line in lines:
        assert "load " in line and "RTF " in line and "dBFS" in line and "cache " in line
    assert r.stderr == ""
    assert not any(tmp_path.iterdir())  # nothing written


def test_check_fails_with_reasons_and_json_shape(voices: Path, tmp_path: Path) -> None:
    r = _run("check", "--voice-dir", str(voices), "--json", cwd=tmp_path)
    assert r.returncode == 1
    records = [json.loads(line) for line in r.stdout.splitlines()]
    assert [rec["member"] for rec in records] == [str(i) for i in range(1, 8)]
    by_id = {rec["member"]: rec for rec in records}
    for rec in records:
        for key in (
            "ok",
            "reason",
            "reasons",
            "files",
            "format",
            "release_evidence",
            "duration_rule",
            "duration_rule_evidence",
            "load_s",
            "weight_cache",
            "phrases",
        ):
            assert key in rec, key
    assert by_id["1"]["ok"] and by_id["2"]["ok"]
    phrase = by_id["1"]["phrases"][0]
    for key in ("duration_s", "expected_s", "rtf", "peak_dbfs", "silence_share", "clipped_share", "finite"):
        assert key in phrase, key
    assert phrase["finite"] is True and phrase["ok"] is True
    expected = {
        "3": "sample_rate 22050 vs 16000",
        "4": "corrupt or truncated",
        "5": "missing hifigan-v2/5/5h_config.json",
        "6": "produced no audio frames",
        "7": "NaN or infinite",
    }
    for member, reason in expected.items():
        assert by_id[member]["ok"] is False and reason in by_id[member]["reason"], by_id[member]
    assert "Calculated padded" not in r.stdout + r.stderr


def test_check_text_mode_failure_line_and_exit(voices: Path, tmp_path: Path) -> None:
    r = _run("check", "--voice-dir", str(voices), "-m", "3", "-m", "2", cwd=tmp_path)
    assert r.returncode == 1
    first, second = r.stdout.splitlines()
    assert first.startswith("FAIL 3") and "sample_rate 22050 vs 16000" in first
    assert second.startswith("ok   2")
    assert "1 of 2 members failed: 3" in r.stderr


def test_check_with_no_members_fails(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["check", "--voice-dir", str(tmp_path)])
    assert r.exit_code == 1 and "no members" in r.stderr


@pytest.mark.parametrize("engine", ["onnx", "torch"])
@pytest.mark.parametrize(
    ("member", "cause"),
    [("6", "produced no audio frames"), ("7", "NaN or infinite"), ("3", "sample_rate 22050 vs 16000")],
)
def test_say_refuses_bad_voices_in_one_line(
    voices: Path, tmp_path: Path, member: str, cause: str, engine: str
) -> None:
    r = _run(
        "say",
        "안녕하세요",
        "-m",
        member,
        "--engine",
        engine,
        "--voice-dir",
        str(voices),
        "-o",
        "out.wav",
        cwd=tmp_path,
    )
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"forv-tts: error: member {member}") and cause in lines[0]
    assert (
        "Calculated padded" not in r.stderr and "Traceback" not in r.stderr and "onnxruntime" not in r.stderr
    )
    assert not (tmp_path / "out.wav").exists()
    assert not list(tmp_path.iterdir())


def test_members_shows_rule_evidence_and_problems(runner: CliRunner, voices: Path) -> None:
    r = runner.invoke(app, ["members", "--json", "--voice-dir", str(voices)])
    assert r.exit_code == 0, r.output
    by_id = {v["id"]: v for v in json.loads(r.stdout)}
    assert by_id["1"]["duration_rule"] == "zero-frames"
    assert "June 21, 2021" in by_id["1"]["duration_rule_evidence"]
    assert by_id["2"]["duration_rule"] == "min-one-frame"
    assert by_id["3"]["problems"] and "sample_rate 22050 vs 16000" in by_id["3"]["problems"][0]
    assert by_id["1"]["problems"] == [] and by_id["builtin"]["duration_rule"] is None
    text = runner.invoke(app, ["members", "--voice-dir", str(voices)])
    rows = {line.split()[0]: line for line in text.stdout.splitlines()[1:]}
    assert "zero-frames (date)" in rows["1"] and rows["1"].rstrip().endswith("ok")
    assert "not ok: vocoder does not match" in rows["3"]

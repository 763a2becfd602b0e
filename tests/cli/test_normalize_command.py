"""`normalize --lexicon/--explain/--json`, and --lexicon on say and batch (CliRunner and console script)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from forv_tts.cli import app


def _lexicon(tmp_path: Path, text: str = "ForV\t포브\n") -> Path:
    path = tmp_path / "words.tsv"
    path.write_text(text, encoding="utf-8")
    return path


def test_normalize_with_lexicon_and_json(runner: CliRunner, in_tmp: Path) -> None:
    path = _lexicon(in_tmp)
    r = runner.invoke(app, ["normalize", "--lexicon", str(path), "ForV가 3/4까지 보내요."])
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("포브가 사뭘 사 일까지")  # after g2pk: 삼월 → 사뭘
    r = runner.invoke(app, ["normalize", "--json", "--lexicon", str(path), "ForV가 좋아요."])
    [stage] = json.loads(r.stdout)
    assert stage["lexicon"] == [{"written": "ForV", "spoken": "포브", "source": f"{path}:1"}]
    assert stage["rewrites"][0]["rule"] == "lexicon"


def test_normalize_explain_lists_rewrites(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["normalize", "--explain", "2/4이 넘어요"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert lines[0] == "사부늬 이가 너머요"
    assert "'2/4' -> 사분의 이  [fraction]" in lines[1]
    assert "'이' -> 가  [particle]" in lines[2]


def test_voice_dir_and_env_lexicons(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "voice_model").mkdir()
    (in_tmp / "voice_model" / "lexicon.tsv").write_text("ForV\t포브이\nGCS\t지씨에스\n", encoding="utf-8")
    r = runner.invoke(app, ["normalize", "ForV GCS"])
    assert r.stdout.strip() == "포브이 지씨에스"
    env = _lexicon(in_tmp)
    r = runner.invoke(app, ["normalize", "ForV GCS"], env={"FORV_TTS_LEXICON": str(env)})
    assert r.stdout.strip() == "포브 지씨에스"


def test_malformed_lexicon_is_a_usage_error(runner: CliRunner, in_tmp: Path) -> None:
    path = _lexicon(in_tmp, "ForV\t포브\nno tab here\n")
    for args in (["normalize", "안녕"], ["say", "안녕", "-o", "x.wav"]):
        r = runner.invoke(app, [*args, "--lexicon", str(path)])
        assert r.exit_code == 2, r.output
        assert f"{path}:2:" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (in_tmp / "x.wav").exists()


def test_say_and_batch_use_the_lexicon(runner: CliRunner, in_tmp: Path) -> None:
    path = _lexicon(in_tmp)
    r = runner.invoke(app, ["say", "--json", "-o", "a.wav", "--lexicon", str(path), "ForV가 말해요."])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["normalized"].startswith("포브가")
    (in_tmp / "lines.txt").write_text("ForV가 말해요.\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "lines.txt", "-j", "1", "-q", "--lexicon", str(path)])
    assert r.exit_code == 0, r.output
    [record] = [json.loads(line) for line in (in_tmp / "manifest.jsonl").read_text().splitlines()]
    assert record["normalized"].startswith("포브가")


def test_console_script_normalize_lexicon(tmp_path: Path) -> None:
    script = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert script
    bad = _lexicon(tmp_path, "oops\n")
    r = subprocess.run(
        [script, "normalize", "--lexicon", str(bad), "안녕"], capture_output=True, timeout=120, check=False
    )
    assert r.returncode == 2 and f"{bad}:1:".encode() in r.stderr
    good = _lexicon(tmp_path)
    r = subprocess.run(
        [script, "normalize", "ForV"],
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "FORV_TTS_LEXICON": str(good)},
        cwd=tmp_path,
    )
    assert r.returncode == 0 and r.stdout.decode().strip() == "포브"

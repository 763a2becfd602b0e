"""The CLI contract: through Typer's CliRunner and through the installed console script.

Scripts depend on these names, exit codes and on stdout carrying only data.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import wave
from pathlib import Path

import pytest
from typer.testing import CliRunner

from forv_tts.cli import app

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
HEAVY = ("torch", "TTS", "g2pk", "nltk", "mecab", "google.cloud", "numpy", "espeakng_loader")


def _console_script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found, "the forv-tts console script is not installed next to this interpreter"
    return found


def _run(*args: str, stdin: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None):
    return subprocess.run(
        [_console_script(), *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def _wav_info(data: bytes) -> tuple[int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnframes()


# --- help and start-up -------------------------------------------------------------------------


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from forv_tts.cli import app\n"
        "r = CliRunner().invoke(app, ['--help'])\n"
        "assert r.exit_code == 0, r.output\n"
        "for cmd in ('say', 'members', 'normalize', 'check'):\n"
        "    assert CliRunner().invoke(app, [cmd, '--help']).exit_code == 0\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m.startswith('google.cloud')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_console_script_help_and_version() -> None:
    r = _run("--help")
    assert r.returncode == 0
    for cmd in (b"say", b"members", b"normalize"):
        assert cmd in r.stdout
    v = _run("--version")
    assert v.returncode == 0 and v.stdout.startswith(b"forv-tts ")


# --- say with the built-in voice ---------------------------------------------------------------


def test_say_builtin_default_path(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say", "안녕하세요, 반갑습니다.", "--uuid", UUID, "--created-at", "2022-08-22"])
    assert r.exit_code == 0, r.output
    expected = Path("wav_files/builtin") / f"{UUID}_2022-08-22_voice.wav"
    assert r.stdout.strip() == str(expected)
    rate, frames = _wav_info((in_tmp / expected).read_bytes())
    assert rate > 8000 and frames / rate > 0.3


def test_say_refuses_a_used_uuid_with_another_text(runner: CliRunner, in_tmp: Path) -> None:
    """A uuid names one clip: the same say again is fine, another text under it is exit 2, clip kept."""
    args = ["say", "--uuid", UUID, "--created-at", "2022-08-22"]
    assert runner.invoke(app, [*args, "안녕하세요."]).exit_code == 0
    clip = in_tmp / f"wav_files/builtin/{UUID}_2022-08-22_voice.wav"
    data = clip.read_bytes()
    assert runner.invoke(app, [*args, "안녕하세요."]).exit_code == 0
    r = runner.invoke(app, [*args, "다른 글입니다."])
    assert r.exit_code == 2 and f"uuid {UUID} already names a clip" in r.stderr, r.output
    assert "give a new --uuid" in r.stderr and clip.read_bytes() == data
    # -o names the user's own file: replaced, as any CLI does.
    assert runner.invoke(app, ["say", "--uuid", UUID, "-o", "mine.wav", "다른 글입니다."]).exit_code == 0
    assert runner.invoke(app, ["say", "--uuid", UUID, "-o", "mine.wav", "안녕하세요."]).exit_code == 0


def test_say_json_record(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say", "오늘 날씨가 좋네요.", "-o", "out.wav", "--json"])
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    for key in (
        "path",
        "member",
        "uuid",
        "created_at",
        "text",
        "normalized",
        "sample_rate",
        "duration",
        "seconds",
    ):
        assert key in rec, key
    assert rec["path"] == "out.wav" and rec["member"] == "builtin"
    assert rec["text"] == "오늘 날씨가 좋네요."
    rate, frames = _wav_info((in_tmp / "out.wav").read_bytes())
    assert rec["sample_rate"] == rate
    assert rec["duration"] == pytest.approx(frames / rate, abs=0.002)


def test_say_stdin_to_stdout_through_console_script(tmp_path: Path) -> None:
    r = _run("say", "-o", "-", stdin="오늘 날씨가 좋네요".encode(), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout[:4] == b"RIFF" and r.stdout[8:12] == b"WAVE"
    rate, frames = _wav_info(r.stdout)
    assert frames / rate > 0.3
    assert not (tmp_path / "wav_files").exists()
    assert r.stderr == b""


# --- bad input: exit 2, one line, nothing written ----------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["say", "안녕", "--uuid", "../../etc"], "--uuid"),
        (["say", "안녕", "--created-at", "2022/08/22"], "--created-at"),
        (["say", "안녕", "--member", "../1"], "member"),
        (["say", "안녕", "--member", "99"], "99"),
        (["say", "안녕", "--length-scale", "0"], "--length-scale"),
        (["say", "   "], "no text"),
        (["say", "🙂🙂 ~~~"], "nothing speakable"),
    ],
)
def test_bad_input_is_one_line_exit_2(runner: CliRunner, in_tmp: Path, args: list[str], needle: str) -> None:
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forv-tts: error: "), r.stderr
    assert needle in lines[0]
    assert list(in_tmp.iterdir()) == []


def test_console_script_bad_input(tmp_path: Path) -> None:
    r = _run("say", "안녕", "--uuid", "nope", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stdout == b""
    assert r.stderr.decode().count("\n") == 1 and "Traceback" not in r.stderr.decode()
    d = _run("--debug", "say", "안녕", "--uuid", "nope", cwd=tmp_path)
    assert d.returncode == 2 and "Traceback" in d.stderr.decode()
    assert list(tmp_path.iterdir()) == []


def test_console_script_broken_member_after_torch_import(tmp_path: Path, voice_dir: Path) -> None:
    """The failure comes after torch is loaded (the fast-exit path): code and one line survive."""
    voices = Path(shutil.copytree(voice_dir, tmp_path / "voices"))
    ckpt = next((voices / "glow-tts" / "2").glob("*.pth.tar"))
    ckpt.write_bytes(ckpt.read_bytes()[:5000])
    env = {"FORV_TTS_VOICE_DIR": str(voices)}
    r = _run("say", "--member", "2", "안녕", "-o", "x.wav", cwd=tmp_path, env=env)
    assert r.returncode == 1
    assert r.stdout == b""
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("forv-tts: error: cannot read checkpoint"), err
    assert not (tmp_path / "x.wav").exists()


@pytest.mark.parametrize("text", ["!!!", "★"])
def test_console_script_member_with_nothing_to_say(tmp_path: Path, voice_dir: Path, text: str) -> None:
    """Nothing speakable after normalisation: one line, exit 2, nothing written."""
    r = _run("say", "-m", "1", text, "-o", "x.wav", cwd=tmp_path, env={"FORV_TTS_VOICE_DIR": str(voice_dir)})
    assert r.returncode == 2 and r.stdout == b""
    err = r.stderr.decode()
    assert err.count("\n") == 1 and err.startswith("forv-tts: error: nothing speakable"), err
    assert not (tmp_path / "x.wav").exists()


def test_json_with_stdout_wav_is_refused(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say", "안녕", "-o", "-", "--json"])
    assert r.exit_code == 2 and "pick one" in r.stderr


def test_empty_stdin_is_usage_error(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say"], input="")
    assert r.exit_code == 2 and "no text" in r.stderr


# --- members and normalize ---------------------------------------------------------------------


def test_members_json_lists_builtin_and_members(runner: CliRunner, voice_dir: Path) -> None:
    r = runner.invoke(app, ["members", "--json", "--voice-dir", str(voice_dir)])
    assert r.exit_code == 0, r.output
    voices = json.loads(r.stdout)
    ids = [v["id"] for v in voices]
    assert ids[0] == "builtin" and "1" in ids and "2" in ids
    for v in voices:
        for key in ("id", "engine", "checkpoint", "config", "step", "sample_rate", "format", "missing"):
            assert key in v
    formats = {v["id"]: v["format"] for v in voices}
    assert formats["1"] == "legacy" and formats["2"] == "modern"


def test_members_env_var(runner: CliRunner, voice_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORV_TTS_VOICE_DIR", str(voice_dir))
    r = runner.invoke(app, ["members"])
    assert r.exit_code == 0 and "legacy" in r.stdout and "modern" in r.stdout


def test_members_empty_dir_hint(runner: CliRunner, tmp_path: Path) -> None:
    r = runner.invoke(app, ["members", "--voice-dir", str(tmp_path)])
    assert r.exit_code == 0 and "builtin" in r.stdout
    assert "no members" in r.stderr


def test_normalize_prints_one_line_per_sentence(runner: CliRunner) -> None:
    r = runner.invoke(app, ["normalize", "3명이 왔어요. 20세기에 태어났나요?"])
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("세 명")
    assert "이십" in lines[1] and "20" not in lines[1]


def test_normalize_json_stages(runner: CliRunner) -> None:
    r = runner.invoke(app, ["normalize", "--json", "같이 가요."])
    stages = json.loads(r.stdout)
    assert stages[0]["sentence"] == "같이 가요."
    assert "가치" in stages[0]["pronounced"]


# --- member voices -----------------------------------------------------------------------------


def test_say_member_seed_is_reproducible(runner: CliRunner, in_tmp: Path, voice_dir: Path) -> None:
    outs = []
    for name in ("a.wav", "b.wav"):
        r = runner.invoke(
            app, ["say", "-m", "1", "--voice-dir", str(voice_dir), "--seed", "7", "-o", name, "안녕하세요."]
        )
        assert r.exit_code == 0, r.output
        outs.append((in_tmp / name).read_bytes())
    assert outs[0] == outs[1]
    _rate, frames = _wav_info(outs[0])
    assert frames > 0


def test_say_member_length_scale(runner: CliRunner, in_tmp: Path, voice_dir: Path) -> None:
    durations = []
    for scale in ("1.0", "2.0"):
        r = runner.invoke(
            app,
            [
                "say",
                "-m",
                "2",
                "--voice-dir",
                str(voice_dir),
                "--seed",
                "1",
                "--length-scale",
                scale,
                "--json",
                "-o",
                f"s{scale}.wav",
                "반갑습니다.",
            ],
        )
        assert r.exit_code == 0, r.output
        durations.append(json.loads(r.stdout)["duration"])
    assert durations[1] > 1.6 * durations[0]


def test_console_script_member_stdin_stdout(tmp_path: Path, voice_dir: Path) -> None:
    r = _run(
        "say",
        "--member",
        "1",
        "-o",
        "-",
        "--seed",
        "3",
        stdin="오늘 날씨가 좋네요".encode(),
        cwd=tmp_path,
        env={"FORV_TTS_VOICE_DIR": str(voice_dir)},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout[:4] == b"RIFF"
    # Every byte arrives, and the header matches the frames that follow it.
    with wave.open(io.BytesIO(r.stdout)) as w:
        assert w.getnframes() > 0
        assert len(r.stdout) == 44 + 2 * w.getnframes()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (["say", "안녕"], "say"),
        (["-v", "--debug", "members"], "members"),
        (["--help"], None),
        ([], None),
        (["--", "say"], None),
        (["--install-completion"], None),
        (["-v", "sya"], "sya"),
    ],
)
def test_the_command_a_line_names(args: list[str], name: str | None) -> None:
    from forv_tts.cli.root import named_command

    assert named_command(args) == name


def test_a_run_builds_only_the_command_it_invokes() -> None:
    """typer builds every registered command on each run; `main` registers the named one alone, and
    everything else (the root's help, unknown names) still sees them all."""
    from forv_tts.cli.root import only_command

    every = list(app.registered_commands)
    with only_command("say"):
        assert [c.callback.__name__ for c in app.registered_commands] == ["say"]  # type: ignore[union-attr]
        r = CliRunner().invoke(app, ["say", "--help"])
        assert r.exit_code == 0 and "--member" in r.output
    assert app.registered_commands == every
    for name in (None, "sya", "--help"):
        with only_command(name):
            assert app.registered_commands == every
    with only_command("export"):  # registered under another function name (export_cmd)
        assert len(app.registered_commands) == 1


def test_console_script_commands_and_their_errors_with_one_command_built() -> None:
    r = _run("sya")
    assert r.returncode == 2 and b"No such command 'sya'" in r.stderr and b"'say'" in r.stderr
    n = _run("-v", "normalize", "3개")
    assert n.returncode == 0 and n.stdout.decode().strip() == "세 개"
    h = _run("normalize", "--help")
    assert h.returncode == 0 and b"Usage: forv-tts normalize" in h.stdout

"""Issue 14: what a user types or a machine does never replaces a device or ends in "unexpected …"."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forv_tts.cli import app
from forv_tts.cli.errors import exit_code

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
TEXT = "안녕하세요."


def _console_script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found, "the forv-tts console script is not installed next to this interpreter"
    return found


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: bytes = b"", **kw: Any):
    return subprocess.run(
        [_console_script(), *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=300,
        **kw,
    )


def _one_error_line(stderr: str, needle: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forv-tts: error: "), stderr
    assert needle in lines[0], stderr
    assert "unexpected" not in lines[0] and ".part" not in lines[0]
    return lines[0]


# --- -o onto things that are not regular files --------------------------------------------------


def _device(path: Path, minor: int) -> Path:
    """A copy of /dev/null (minor 3) or /dev/full (7): tests never aim `-o` at /dev itself (run against a
    regression as root, that would replace the machine's own devices with wav files)."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs root")
    return path


def test_say_to_a_null_device_keeps_the_device(runner: CliRunner, in_tmp: Path) -> None:
    dev = _device(in_tmp / "null", 3)
    r = runner.invoke(app, ["say", TEXT, "-o", str(dev)])
    assert r.exit_code == 0, r.output
    assert stat.S_ISCHR(os.lstat(dev).st_mode)
    assert [p.name for p in in_tmp.iterdir()] == ["null"]


def test_say_to_a_full_device_is_reported(runner: CliRunner, in_tmp: Path) -> None:
    dev = _device(in_tmp / "full", 7)
    r = runner.invoke(app, ["say", TEXT, "-o", str(dev)])
    assert r.exit_code == 1
    _one_error_line(r.stderr, "no space left")
    assert stat.S_ISCHR(os.lstat(dev).st_mode)


def test_say_to_stdout_by_path_is_wav_bytes_only(tmp_path: Path) -> None:
    (tmp_path / "out").symlink_to("/proc/self/fd/1")  # what /dev/stdout is
    r = _run("say", TEXT, "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout[:4] == b"RIFF" and b"out\n" not in r.stdout[-8:]
    assert (tmp_path / "out").is_symlink() and [p.name for p in tmp_path.iterdir()] == ["out"]


def test_say_through_a_symlink_writes_its_target(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "target.wav").write_bytes(b"old")
    (in_tmp / "link.wav").symlink_to("target.wav")
    r = runner.invoke(app, ["say", TEXT, "-o", "link.wav"])
    assert r.exit_code == 0, r.output
    assert (in_tmp / "link.wav").is_symlink()
    assert (in_tmp / "target.wav").read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize(
    ("make", "out", "needle"),
    [
        (lambda d: (d / "adir").mkdir(), "adir", "is a directory"),
        (lambda d: (d / "afile").write_bytes(b"x"), "afile/out.wav", "afile is a file"),
    ],
)
def test_say_bad_output_path_exit_2(
    runner: CliRunner, in_tmp: Path, make: Any, out: str, needle: str
) -> None:
    make(in_tmp)
    before = sorted(p.name for p in in_tmp.rglob("*"))
    r = runner.invoke(app, ["say", TEXT, "-o", out])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, needle)
    assert sorted(p.name for p in in_tmp.rglob("*")) == before


def test_say_read_only_and_full_file_systems(runner: CliRunner, in_tmp: Path, small_fs: Any) -> None:
    ro = small_fs(64, readonly=True)
    r = runner.invoke(app, ["say", TEXT, "-o", str(ro / "out.wav")])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "read-only")
    full = small_fs(16)
    r = runner.invoke(app, ["say", "안녕하세요. " * 20, "-o", str(full / "out.wav")])
    assert r.exit_code == 1, r.output
    _one_error_line(r.stderr, "no space left")
    assert list(full.iterdir()) == []


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["foo", "2022-8-22", "1.2.3", "2023-02-29", "20220822"])
def test_created_at_only_a_real_date(runner: CliRunner, in_tmp: Path, bad: str) -> None:
    for cmd in (["say", TEXT], ["say", TEXT, "--upload", "--bucket", "b"]):
        r = runner.invoke(app, [*cmd, "--created-at", bad])
        assert r.exit_code == 2, r.output
        _one_error_line(r.stderr, "YYYY-MM-DD")
    assert list(in_tmp.iterdir()) == []


@pytest.mark.parametrize("member", [None, "2"])
@pytest.mark.parametrize("seed", ["1180591620717411303424", "18446744073709551616", "-1"])
def test_seed_out_of_range_exit_2(
    runner: CliRunner, in_tmp: Path, voice_dir: Path, member: Any, seed: str
) -> None:
    args = ["say", TEXT, "--seed", seed, "--voice-dir", str(voice_dir)] + (["-m", member] if member else [])
    r = runner.invoke(app, args)
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "from 0 to 18446744073709551615")
    assert list(in_tmp.iterdir()) == []
    (in_tmp / "l.txt").write_text("안녕\n", encoding="utf-8")
    b = runner.invoke(app, ["batch", "l.txt", "--seed", seed, "--voice-dir", str(voice_dir), "-j", "1"])
    assert b.exit_code == 2, b.output
    _one_error_line(b.stderr, "from 0 to 18446744073709551615")
    assert sorted(p.name for p in in_tmp.iterdir()) == ["l.txt"]


def test_the_largest_seed_works_for_a_member(runner: CliRunner, in_tmp: Path, voice_dir: Path) -> None:
    r = runner.invoke(
        app, ["say", TEXT, "-m", "2", "--voice-dir", str(voice_dir), "--seed", str(2**64 - 1), "-o", "a.wav"]
    )
    assert r.exit_code == 0, r.output


def test_text_cap_for_say(runner: CliRunner, in_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "30")
    r = runner.invoke(app, ["say", "안녕하세요. " * 10])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "70 characters, over the limit of 30")
    assert list(in_tmp.iterdir()) == []
    assert runner.invoke(app, ["say", "안녕하세요.", "-o", "a.wav"]).exit_code == 0
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "lots")
    bad = runner.invoke(app, ["say", "안녕하세요."])
    assert bad.exit_code == 2
    _one_error_line(bad.stderr, "FORV_TTS_MAX_TEXT_CHARS")


def test_default_text_cap_is_20000(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say", "가" * 20_001])
    assert r.exit_code == 2, r.output
    _one_error_line(r.stderr, "over the limit of 20,000")


def test_text_cap_fails_only_that_batch_line(
    runner: CliRunner, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "100")
    Path("lines.txt").write_text("안녕하세요.\n" + "가" * 5000 + "\n고맙습니다.\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "lines.txt", "--jobs", "1"])
    assert r.exit_code == 1, r.output
    records = [json.loads(x) for x in Path("manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["status"] for x in records] == ["ok", "failed", "ok"]
    assert "5,000 characters, over the limit of 100" in records[1]["error"]
    assert len(records[1]["text"]) < 300


@pytest.mark.parametrize(
    ("command", "env", "needle"),
    [
        (
            ["serve", "--port", "0"],
            {"FORV_TTS_JOB_TIME_LIMIT": "soon"},
            "invalid FORV_TTS_JOB_TIME_LIMIT 'soon': ",
        ),
        (
            ["serve", "--port", "0"],
            {"FORV_TTS_SERVICE_MAX_TEXT_CHARS": "-5"},
            "FORV_TTS_SERVICE_MAX_TEXT_CHARS",
        ),
        (["worker"], {"FORV_TTS_UPLOAD_BACKOFF": "later"}, "invalid FORV_TTS_UPLOAD_BACKOFF 'later': "),
        (["say", "안녕하세요."], {"FORV_TTS_PROGRESS_INTERVAL": "often"}, "FORV_TTS_PROGRESS_INTERVAL"),
    ],
)
def test_a_bad_setting_is_one_line_before_any_work(
    tmp_path: Path, command: list[str], env: dict[str, str], needle: str
) -> None:
    """The service's variables and the CLI's progress interval: the registry's error, exit 2."""
    r = _run(*command, cwd=tmp_path, env={"FORV_TTS_BROKER_URL": "", **env})
    assert r.returncode == 2, r.stderr
    _one_error_line(r.stderr.decode(), needle)
    assert list(tmp_path.iterdir()) == []


# --- clear messages for file-system mistakes --------------------------------------------------------


def test_members_explicit_voice_dir_must_exist(runner: CliRunner, in_tmp: Path) -> None:
    (in_tmp / "afile").write_text("x")
    for bad, needle in (("/nonexistent", "does not exist"), ("afile", "is not a directory")):
        r = runner.invoke(app, ["members", "--voice-dir", bad])
        assert r.exit_code == 2, r.output
        _one_error_line(r.stderr, needle)
    r = runner.invoke(app, ["say", TEXT, "-m", "1", "--voice-dir", "afile"])
    assert r.exit_code == 2
    _one_error_line(r.stderr, "afile is not a directory")


def test_a_broken_config_is_reported_once(tmp_path: Path, voice_dir: Path) -> None:
    voices = Path(shutil.copytree(voice_dir, tmp_path / "voices"))
    (voices / "glow-tts" / "2" / "2g_config.json").write_text('{"audio": ', encoding="utf-8")
    r = _run("say", TEXT, "-m", "2", "--voice-dir", str(voices), "-o", "a.wav", cwd=tmp_path)
    assert r.returncode != 0
    err = r.stderr.decode()
    assert err.count("2g_config.json") == 1, err
    _one_error_line(err, "2g_config.json")


def test_a_truncated_checkpoint_says_what_to_do(tmp_path: Path, voice_dir: Path) -> None:
    voices = Path(shutil.copytree(voice_dir, tmp_path / "voices"))
    ckpt = next((voices / "glow-tts" / "2").glob("*.pth.tar"))
    ckpt.write_bytes(ckpt.read_bytes()[: ckpt.stat().st_size // 2])
    env = {"FORV_TTS_WEIGHT_CACHE": "0"}
    r = _run("say", TEXT, "-m", "2", "--voice-dir", str(voices), "-o", "a.wav", cwd=tmp_path, env=env)
    assert r.returncode == 1
    line = _one_error_line(r.stderr.decode(), "corrupt or truncated")
    assert line.endswith("copy it again from where it was trained"), line
    reason = line.split("corrupt or truncated (", 1)[1].rsplit(")", 1)[0]
    assert len(reason) <= 202 and not reason.endswith(("-", " ")), reason


def test_an_unreadable_voice_dir_is_a_usage_error(tmp_path: Path, voice_dir: Path) -> None:
    """A real EACCES: a child process drops root (root reads everything) and lists a 0700 directory."""
    from forv_tts.errors import VoiceDirError
    from forv_tts.voices.layout import find_voice, list_voices

    if os.geteuid() != 0:
        pytest.skip("needs root to drop to another user")
    voices = Path(shutil.copytree(voice_dir, tmp_path / "voices"))
    os.chmod(tmp_path, 0o755)
    os.chmod(voices / "glow-tts", 0o700)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read)
        try:
            os.setgid(65534)
            os.setuid(65534)
            out = []
            for call in (lambda: list_voices(voices), lambda: find_voice("1", voices)):
                try:
                    call()
                    out.append("no error")
                except VoiceDirError as err:
                    out.append(f"{exit_code(err)} {err}")
                except Exception as err:
                    out.append(f"unexpected {type(err).__name__}: {err}")
            os.write(write, "\n".join(out).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as f:
        got = f.read().splitlines()
    os.waitpid(pid, 0)
    assert len(got) == 2, got
    for line in got:
        assert line.startswith("2 cannot read ") and "Permission denied; check its permissions" in line, got


# --- global flags after the subcommand, completion ----------------------------------------------------


def test_verbose_and_debug_after_the_subcommand(tmp_path: Path) -> None:
    r = _run("say", TEXT, "-o", "a.wav", "-v", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert b"INFO: loading voice" in r.stderr  # -v after the subcommand: the library's INFO logs
    d = _run("say", TEXT, "--uuid", "nope", "--debug", cwd=tmp_path)
    assert d.returncode == 2 and b"Traceback" in d.stderr
    # An option's value that looks like a flag stays its value.
    v = _run("say", TEXT, "-o", "-v", cwd=tmp_path)
    assert v.returncode == 0 and (tmp_path / "-v").read_bytes()[:4] == b"RIFF"
    assert b"INFO" not in v.stderr


def test_shell_completion_is_offered(tmp_path: Path) -> None:
    help_text = _run("--help", cwd=tmp_path).stdout
    assert b"--install-completion" in help_text and b"--show-completion" in help_text
    # Typer detects the calling shell (parent processes); its test switch makes the shell an argument.
    r = _run(
        "--show-completion", "bash", cwd=tmp_path, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    )
    assert r.returncode == 0 and b"complete" in r.stdout and b"forv" in r.stdout
    done = _run(
        cwd=tmp_path,
        env={"_FORV_TTS_COMPLETE": "complete_bash", "COMP_WORDS": "forv-tts mem", "COMP_CWORD": "1"},
    )
    assert b"members" in done.stdout


# --- feedback on long work ----------------------------------------------------------------------------

LONG = " ".join(f"오늘은 좋은 날이에요 {i}번." for i in range(40))


def test_say_prints_periodic_lines_in_logs(tmp_path: Path) -> None:
    env = {"FORV_TTS_PROGRESS_INTERVAL": "0.05"}
    r = _run("say", LONG, "-o", "a.wav", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    lines = [x for x in r.stderr.decode().splitlines() if x.startswith("forv-tts: say: ")]
    assert len(lines) >= 2 and all(
        re.match(r"forv-tts: say: \d+/40 sentences, \d+ s elapsed$", x) for x in lines
    )
    short = _run("say", TEXT, "-o", "b.wav", cwd=tmp_path, env=env)
    assert short.returncode == 0 and short.stderr == b""


def test_say_shows_a_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty

    master, slave = pty.openpty()
    try:
        r = subprocess.run(
            [_console_script(), "say", LONG, "-o", "a.wav"],
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=slave,
            env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
            timeout=300,
        )
        os.close(slave)
        slave = -1
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if slave >= 0:
            os.close(slave)
        os.close(master)
    assert r.returncode == 0
    assert b"say" in seen and b"/40" in seen and b"sentences" in seen, seen[-400:]


def test_batch_plain_progress_moves_during_one_long_item(tmp_path: Path) -> None:
    (tmp_path / "lines.txt").write_text("안녕하세요.\n" + LONG * 4 + "\n", encoding="utf-8")
    env = {"FORV_TTS_PROGRESS_INTERVAL": "0.05"}
    r = _run("batch", "lines.txt", "--jobs", "1", cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    during = [x for x in r.stderr.decode().splitlines() if x.startswith("forv-tts: batch 1/2 lines")]
    assert len(during) >= 2, r.stderr  # lines while line 2 was still running, not only when it ended


# --- text dropped silently -------------------------------------------------------------------------


def test_emoji_and_controls_dropped_are_named_once(runner: CliRunner, in_tmp: Path) -> None:
    r = runner.invoke(app, ["say", "안녕 🙂 하세요\x07 🙂", "-o", "a.wav"])
    assert r.exit_code == 0, r.output
    warnings = [x for x in r.stderr.splitlines() if "cannot be spoken" in x]
    assert warnings == [
        "forv-tts: WARNING: dropped 2 character(s) that cannot be spoken: '🙂' (U+1F642), U+0007"
    ]
    n = runner.invoke(app, ["normalize", "안녕 🙂"])
    assert n.exit_code == 0 and "'🙂' (U+1F642)" in n.stderr
    Path("l.txt").write_text("안녕 🙂\n", encoding="utf-8")
    b = runner.invoke(app, ["batch", "l.txt", "-j", "1"])
    assert b.exit_code == 0, b.output
    record = json.loads(Path("manifest.jsonl").read_text(encoding="utf-8"))
    assert any("'🙂' (U+1F642)" in w for w in record["warnings"])


def test_normalize_member_checks_the_voices_characters(tmp_path: Path, voice_dir: Path) -> None:
    voices = Path(shutil.copytree(voice_dir, tmp_path / "voices"))
    config_path = voices / "glow-tts" / "2" / "2g_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["characters"]["characters"] = config["characters"]["characters"].replace(
        "ᄁ", ""
    )  # a voice without ㄲ
    config_path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    weights = voices / "glow-tts" / "2"
    for ckpt in weights.glob("*.pth.tar"):
        ckpt.write_bytes(b"not loaded")  # proof that no weights are read
    bad = _run("normalize", "까치가 울어요", "-m", "2", "--voice-dir", str(voices), cwd=tmp_path)
    assert bad.returncode == 1, bad.stderr
    assert bad.stdout.decode().strip() != ""
    _one_error_line(bad.stderr.decode(), "voice 2 has no symbol for '까' (U+AE4C)")
    good = _run("normalize", "안녕하세요", "-m", "2", "--voice-dir", str(voices), cwd=tmp_path)
    assert good.returncode == 0 and good.stderr == b"", good.stderr
    unknown = _run("normalize", "안녕", "-m", "7", "--voice-dir", str(voices), cwd=tmp_path)
    assert unknown.returncode == 2

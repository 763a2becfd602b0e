"""`forv-tts say` ends its process without the interpreter's teardown (`startup.quick_exit`,
`FORV_TTS_QUICK_EXIT`), and nothing a user sees changes: the same stdout bytes, stderr and exit codes
with the switch on and off. Through the installed console script, real processes, tiny real voices.

Whether the teardown was skipped is seen by a `sitecustomize` on PYTHONPATH: an audit hook that
records `cpython.PyInterpreterState_Clear` (raised only by the interpreter's finalisation), an atexit
handler, and a non-daemon thread that waits for the main thread to finish and then writes late, which
a normal exit waits for.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
import wave
from pathlib import Path

import pytest

pytest.register_assert_rewrite("gcs_emulator")
from gcs_emulator import GcsEmulator  # noqa: E402

pytest_plugins = ["gcs_emulator"]

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
TEXT = "오늘 날씨가 좋네요. 같이 산책하러 가실래요?"

_SITECUSTOMIZE = """
import atexit, os, sys, threading, time

_marks = os.environ.get("QUICK_EXIT_MARKS")
if _marks:
    _fd = os.open(_marks, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _mark(text, _write=os.write, _fd=_fd):
        _write(_fd, text.encode() + b"\\n")

    def _hook(event, args, _mark=_mark):
        if event == "cpython.PyInterpreterState_Clear":
            _mark("finalized")

    sys.addaudithook(_hook)
    atexit.register(_mark, "atexit")

    def _late():
        threading.main_thread().join()  # returns once the exit has begun
        time.sleep(0.3)
        _mark("late thread")

    threading.Thread(target=_late, name="late-writer").start()
"""


def _script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found, "the forv-tts console script is not installed next to this interpreter"
    return found


@pytest.fixture(scope="module")
def hooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the marking `sitecustomize` (put first on PYTHONPATH)."""
    folder = tmp_path_factory.mktemp("sitecustomize")
    (folder / "sitecustomize.py").write_text(textwrap.dedent(_SITECUSTOMIZE), encoding="utf-8")
    return folder


def _say(
    *args: str,
    quick: bool,
    cwd: Path,
    voice_dir: Path,
    hooks: Path | None = None,
    stdout: int | None = subprocess.PIPE,
) -> tuple[subprocess.CompletedProcess[bytes], list[str]]:
    """`forv-tts say ARGS` with the switch on or off; (the process, the marks it left)."""
    env = {**os.environ, "FORV_TTS_QUICK_EXIT": "1" if quick else "0", "FORV_TTS_VOICE_DIR": str(voice_dir)}
    marks = cwd / f"marks-{'on' if quick else 'off'}-{len(list(cwd.glob('marks-*')))}.txt"
    if hooks is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(hooks), env.get("PYTHONPATH", "")) if p)
        env["QUICK_EXIT_MARKS"] = str(marks)
    proc = subprocess.run(
        [_script(), "say", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        cwd=cwd,
        env=env,
        timeout=300,
    )
    found = marks.read_text(encoding="utf-8").splitlines() if marks.exists() else []
    return proc, found


def test_the_teardown_is_skipped_with_the_switch_on_and_run_with_it_off(
    tmp_path: Path, voice_dir: Path, hooks: Path
) -> None:
    args = ("--member", "1", "--seed", "3", "--uuid", UUID, "--created-at", "2024-05-01", "-o", "a.wav", TEXT)
    on, on_marks = _say(*args, quick=True, cwd=tmp_path, voice_dir=voice_dir, hooks=hooks)
    off, off_marks = _say(*args, quick=False, cwd=tmp_path, voice_dir=voice_dir, hooks=hooks)
    assert on.returncode == off.returncode == 0, (on.stderr, off.stderr)
    # The normal exit: threads joined, atexit handlers, then the interpreter's finalisation.
    assert off_marks == ["late thread", "atexit", "finalized"]
    # The quick exit does the first two the same way and skips the third.
    assert on_marks == ["late thread", "atexit"]
    assert on.stdout == off.stdout == b"a.wav\n"
    assert on.stderr == off.stderr == b""


def test_a_tracer_or_profiler_keeps_the_normal_exit(tmp_path: Path, voice_dir: Path) -> None:
    """cProfile, coverage and debuggers report at the end of the interpreter's run: never cut short."""
    code = textwrap.dedent(
        """
        import sys
        sys.argv = ["forv-tts", "say", "--member", "1", "-o", "a.wav", "안녕하세요"]
        sys.setprofile(lambda *a: None)
        from forv_tts.cli import main
        try:
            main()
        except SystemExit as done:
            print("returned", done.code)
        """
    )
    env = {**os.environ, "FORV_TTS_QUICK_EXIT": "1", "FORV_TTS_VOICE_DIR": str(voice_dir)}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, cwd=tmp_path, env=env, timeout=300, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["a.wav", "returned 0"]


def test_json_and_files_are_the_same_with_the_switch_on_and_off(tmp_path: Path, voice_dir: Path) -> None:
    records, clips = [], []
    for quick in (True, False):
        folder = tmp_path / str(quick)
        folder.mkdir()
        proc, _ = _say(
            "--member",
            "2",
            "--seed",
            "5",
            "--uuid",
            UUID,
            "--created-at",
            "2024-05-01",
            "--json",
            "--captions",
            "a.srt",
            "-o",
            "a.wav",
            TEXT,
            quick=quick,
            cwd=folder,
            voice_dir=voice_dir,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == b""
        assert proc.stdout.count(b"\n") == 1 and proc.stdout.endswith(b"\n")
        record = json.loads(proc.stdout)
        record.pop("seconds")  # the only field that is a measurement
        records.append(record)
        clips.append(((folder / "a.wav").read_bytes(), (folder / "a.srt").read_bytes()))
        assert sorted(p.name for p in folder.iterdir()) == ["a.srt", "a.wav"]  # no .part left
    assert records[0] == records[1]
    assert clips[0] == clips[1]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
def test_a_stdout_pipe_gets_every_byte(tmp_path: Path, voice_dir: Path, stream: bool) -> None:
    args = ("--member", "1", "--seed", "7", "-o", "-", *(["--stream"] if stream else []), TEXT)
    on, _ = _say(*args, quick=True, cwd=tmp_path, voice_dir=voice_dir)
    off, _ = _say(*args, quick=False, cwd=tmp_path, voice_dir=voice_dir)
    assert on.returncode == off.returncode == 0, (on.stderr, off.stderr)
    assert on.stdout == off.stdout and on.stderr == off.stderr == b""
    if not stream:
        with wave.open(io.BytesIO(on.stdout)) as w:
            assert len(on.stdout) == 44 + 2 * w.getnframes() > 44
    assert list(tmp_path.glob("*.wav")) == []


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--member", "9", "-o", "a.wav", TEXT), 2),  # no such member: a usage error
        (("--member", "1", "-o", "a.wav", "🙂"), 2),  # nothing speakable, after the voice is loaded
        (("--member", "1", "-o", "a.txt", TEXT), 2),  # not an audio format's extension
        (("--member", "2", "-o", "a.wav", TEXT), 1),  # a truncated checkpoint: a runtime failure
    ],
    ids=["member", "speakable", "extension", "broken"],
)
def test_failures_keep_their_exit_code_and_message(
    tmp_path: Path, voice_dir: Path, args: tuple[str, ...], code: int
) -> None:
    voices = Path(shutil.copytree(voice_dir, tmp_path / "voices"))
    ckpt = next((voices / "glow-tts" / "2").glob("*.pth.tar"))
    ckpt.write_bytes(ckpt.read_bytes()[:5000])
    work = tmp_path / "work"
    work.mkdir()
    on, _ = _say(*args, quick=True, cwd=work, voice_dir=voices)
    off, _ = _say(*args, quick=False, cwd=work, voice_dir=voices)
    assert on.returncode == off.returncode == code
    assert on.stdout == off.stdout == b""
    assert on.stderr == off.stderr and on.stderr.startswith(b"forv-tts: error: ")
    assert on.stderr.count(b"\n") == 1
    assert list(work.iterdir()) == []


def test_a_reader_that_went_away_keeps_its_exit_code(tmp_path: Path, voice_dir: Path) -> None:
    """stdout is a pipe nobody reads any more: the path line cannot be written (the command's own
    broken-pipe handling), with the switch on as with it off."""
    codes = []
    for quick in (True, False):
        read, write = os.pipe()
        os.close(read)
        try:
            proc, _ = _say(
                "--member",
                "1",
                "-o",
                "a.wav",
                TEXT,
                quick=quick,
                cwd=tmp_path,
                voice_dir=voice_dir,
                stdout=write,
            )
        finally:
            os.close(write)
        codes.append((proc.returncode, proc.stderr))
    assert codes[0] == codes[1]
    assert codes[0][0] != 0


def test_an_upload_is_confirmed_and_its_scratch_gone_with_the_switch_on(
    tmp_path: Path, voice_dir: Path, hooks: Path, gcs: GcsEmulator
) -> None:
    """`say --upload --no-keep-local`: the storage client's work (and any thread it left) is done and
    the local clip removed before the quick exit; the printed line is the same as with it off."""
    bucket = gcs.new_bucket()
    lines, marks = [], []
    for quick, uuid in ((True, UUID), (False, UUID.replace("022d", "033d"))):
        proc, found = _say(
            *("--member", "1", "--seed", "3", "--uuid", uuid, "--created-at", "2024-05-01"),
            *("--upload", "--bucket", bucket, "--no-keep-local", TEXT),
            quick=quick,
            cwd=tmp_path,
            voice_dir=voice_dir,
            hooks=hooks,
        )
        assert proc.returncode == 0 and proc.stderr == b"", proc.stderr
        lines.append(proc.stdout.decode().replace(uuid, "UUID"))
        marks.append(found)
    assert lines[0] == lines[1] and lines[0].startswith(f"gs://{bucket}/") and lines[0].count("\n") == 1
    assert marks == [["late thread", "atexit"], ["late thread", "atexit", "finalized"]]
    objects = gcs.objects(bucket)
    assert len(objects) == 2 and len(set(objects.values())) == 1  # both whole, the same bytes
    kept = [p for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith("marks-")]
    assert kept == []  # --no-keep-local: the clip removed once the object was confirmed

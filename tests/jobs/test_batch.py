"""`forv-tts batch`: real voices (the built-in one and the tiny members of `voice_dir`), real processes.

What must hold: one manifest record per input line, failures recorded with their line numbers while the
other lines go on, `--jobs 2` writing the same bytes as `--jobs 1`, and a run killed with SIGKILL or
stopped with Ctrl-C finishing with `--resume` with every line done exactly once.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from forv_tts.cli import app
from forv_tts.jobs import batch as fb
from forv_tts.jobs import input as binput
from forv_tts.jobs import manifest as bmanifest

pytest.register_assert_rewrite("gcs_emulator")
from gcs_emulator import GcsEmulator  # noqa: E402

pytest_plugins = ["gcs_emulator"]

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"


def _console_script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found, "the forv-tts console script is not installed next to this interpreter"
    return found


def _records(manifest: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]


def _by_line(manifest: Path) -> dict[int, dict[str, Any]]:
    records = _records(manifest)
    lines = [r["line"] for r in records]
    assert len(lines) == len(set(lines)), f"a line was recorded twice: {sorted(lines)}"
    return {r["line"]: r for r in records}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _wavs(root: Path) -> dict[str, str]:
    """Relative path → sha256 of every clip under root/wav_files."""
    return {str(p.relative_to(root)): _sha(p) for p in sorted((root / "wav_files").rglob("*.wav"))}


def _parts(root: Path) -> list[Path]:
    return sorted(root.rglob("*.part"))


def _assert_complete(manifest: Path, n_lines: int) -> dict[int, dict[str, Any]]:
    """Every line recorded once; every ok clip present with its recorded sha256; nothing half-written.

    Clip paths are relative to the run's directory, which is the manifest's in these tests.
    """
    records = _by_line(manifest)
    assert sorted(records) == list(range(1, n_lines + 1))
    for r in records.values():
        if r["status"] == "ok":
            assert _sha(manifest.parent / r["path"]) == r["sha256"], r
    assert _parts(manifest.parent) == []
    return records


# --- parsing -----------------------------------------------------------------------------------------


def test_text_input_counts_blank_lines_and_keeps_line_numbers() -> None:
    parsed = binput.parse_input("안녕하세요\n\n  \r\n반갑습니다\r\n".encode(), name="a.txt")
    assert parsed.format == "text"
    assert [(i.line, i.blank, i.text) for i in parsed.items] == [
        (1, False, "안녕하세요"),
        (2, True, ""),
        (3, True, ""),
        (4, False, "반갑습니다"),
    ]


def test_jsonl_records_are_validated_per_line() -> None:
    lines = [
        {"uuid": UUID.upper(), "member_id": 1, "text": "안녕하세요!", "created_at": "2022-08-22"},
        {"text": "기본값"},
        {"uuid": "not-a-uuid", "text": "나쁜 uuid"},
        {"member_id": "../x", "text": "나쁜 멤버"},
        {"created_at": "2022-02-30", "text": "없는 날짜"},
        {"text": "   "},
        {"member_id": True, "text": "불리언"},
        ["not", "an", "object"],
    ]
    data = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{broken\n"
    items = binput.parse_input(data.encode(), name="-").items
    assert binput.detect_format(data.encode()) == "jsonl"
    first = items[0]
    assert (first.uuid, first.member, first.created_at, first.error) == (UUID, "1", "2022-08-22", None)
    assert items[1].error is None and items[1].uuid is None and items[1].member is None
    errors = {i.line: i.error for i in items if i.error}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9]
    assert "uuid" in errors[3] and "member id" in errors[4] and "date" in errors[5]
    assert "empty" in errors[6] and "member_id" in errors[7] and "object" in errors[8]
    assert "not valid JSON" in errors[9]


def test_a_line_that_is_not_utf8_fails_alone() -> None:
    items = binput.parse_input("안녕\n".encode() + "반가워\n".encode("cp949"), fmt="text").items
    assert items[0].error is None
    assert items[1].error is not None and "UTF-8" in items[1].error


def test_derived_uuids_depend_on_input_and_line_only() -> None:
    a = binput.derived_uuid("ab" * 32, 3)
    assert a == binput.derived_uuid("ab" * 32, 3)
    assert a != binput.derived_uuid("ab" * 32, 4) and a != binput.derived_uuid("cd" * 32, 3)


def test_manifest_reader_skips_a_torn_last_line(tmp_path: Path) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"line": 1, "status": "ok"}\n{"line": 2, "status": "skipped"}\n{"line": 3, "sta')
    assert [r["line"] for r in bmanifest.read_manifest(manifest)] == [1, 2]


def test_threads_never_oversubscribe() -> None:
    assert fb.threads_for(1, 16) == 16
    assert fb.threads_for(4, 16) == 4
    assert fb.threads_for(32, 16) == 1
    assert fb.threads_for(1, 16, seeded=True) == 1


# --- runs --------------------------------------------------------------------------------------------


def test_text_batch_with_the_builtin_voice(runner: CliRunner, in_tmp: Path) -> None:
    Path("lines.txt").write_text(
        "안녕하세요.\n\n반갑습니다. 오늘 날씨가 좋네요!\n\n고맙습니다\n", encoding="utf-8"
    )
    r = runner.invoke(app, ["batch", "lines.txt", "--jobs", "1"])
    assert r.exit_code == 0, r.output
    assert r.stdout == "manifest.jsonl\n"
    assert "3 ok, 0 failed, 2 skipped" in r.stderr
    records = _assert_complete(in_tmp / "manifest.jsonl", 5)
    assert [records[n]["status"] for n in range(1, 6)] == ["ok", "skipped", "ok", "skipped", "ok"]
    ok = records[3]
    assert ok["member"] == "builtin" and ok["sample_rate"] == 22050 and ok["duration"] > 0.5
    assert ok["path"] == f"wav_files/builtin/{ok['uuid']}_{ok['created_at']}_voice.wav"
    assert len(_wavs(in_tmp)) == 3


def test_format_and_captions_beside_each_clip_and_resume_keeps_them(runner: CliRunner, in_tmp: Path) -> None:
    webvtt = pytest.importorskip("webvtt")
    Path("lines.txt").write_text("안녕하세요. 반갑습니다.\n오늘 날씨가 좋네요!\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "lines.txt", "--jobs", "1", "--format", "mp3", "--captions", "vtt"])
    assert r.exit_code == 0, r.output
    records = _assert_complete(in_tmp / "manifest.jsonl", 2)
    for record in records.values():
        clip = in_tmp / record["path"]
        assert clip.name.endswith("_voice.mp3") and clip.read_bytes()[:1] == b"\xff"
        assert in_tmp / record["captions"] == clip.with_suffix(".vtt")
        cues = list(webvtt.read(str(in_tmp / record["captions"])))
        assert cues and cues[-1].end_in_seconds <= record["duration"] + 1
    assert [c.text for c in webvtt.read(str(in_tmp / records[1]["captions"]))] == [
        "안녕하세요.",
        "반갑습니다.",
    ]
    # --format text still names the input format; --resume keeps clips and captions that are there.
    (in_tmp / records[2]["captions"]).unlink()
    r = runner.invoke(
        app,
        ["batch", "lines.txt", "--resume", "--format", "mp3", "--captions", "vtt", "--input-format", "text"],
    )
    assert r.exit_code == 0, r.output
    assert "1 already done" in r.stderr and (in_tmp / records[2]["captions"]).is_file()
    bad = runner.invoke(app, ["batch", "lines.txt", "--format", "ogg", "--manifest", "m2.jsonl"])
    assert (
        bad.exit_code == 2 and "mp3, opus, aac, flac, wav, pcm" in bad.stderr and "text, jsonl" in bad.stderr
    )


def test_jsonl_mixed_members_and_malformed_lines(runner: CliRunner, in_tmp: Path, voice_dir: Path) -> None:
    lines = [
        json.dumps({"uuid": UUID, "member_id": 1, "text": "안녕하세요!", "created_at": "2022-08-22"}),
        json.dumps({"member_id": 2, "text": "2022년 8월 22일에 만나요"}),
        json.dumps({"text": "기본 멤버로 말해요."}),
        "",
        json.dumps({"member_id": 9, "text": "없는 멤버"}),
        json.dumps({"uuid": "nope", "text": "나쁜 uuid"}),
        "this is not json",
        json.dumps({"member_id": 1, "text": ""}),
        json.dumps({"member_id": "builtin", "text": "내장 목소리"}),
        json.dumps({"uuid": UUID, "member_id": 1, "text": "같은 이름", "created_at": "2022-08-22"}),
    ]
    Path("requests.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["batch", "requests.jsonl", "-m", "2", "--voice-dir", str(voice_dir), "--jobs", "2", "--json"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    summary = json.loads(r.stdout)
    assert (summary["ok"], summary["failed"], summary["skipped"], summary["pending"]) == (4, 5, 1, 0)
    assert "line 5" in r.stderr and "--resume" in r.stderr
    records = _assert_complete(in_tmp / "manifest.jsonl", len(lines))
    assert records[1]["path"] == f"wav_files/1/{UUID}_2022-08-22_voice.wav"
    assert records[2]["member"] == "2" and records[3]["member"] == "2" and records[9]["member"] == "builtin"
    assert records[2]["normalized"] != records[2]["text"]  # numbers were read out
    assert records[4]["status"] == "skipped"
    failed = {n: rec["error"] for n, rec in records.items() if rec["status"] == "failed"}
    assert sorted(failed) == [5, 6, 7, 8, 10]
    assert "no member '9'" in failed[5] and "uuid" in failed[6] and "JSON" in failed[7]
    assert "empty" in failed[8] and "line 1" in failed[10]
    assert {w["pid"] for w in summary["workers"]} and all(w["peak_rss_mb"] > 50 for w in summary["workers"])


def test_jobs_2_writes_the_same_bytes_as_jobs_1(runner: CliRunner, in_tmp: Path, voice_dir: Path) -> None:
    text = "안녕하세요.\n오늘 날씨가 좋네요. 내일도 좋을까요?\n반갑습니다!\n고맙습니다.\n잘 가요.\n"
    Path("lines.txt").write_text(text, encoding="utf-8")
    made = {}
    for jobs in ("1", "2"):
        args = ["batch", "lines.txt", "-m", "1", "--voice-dir", str(voice_dir), "--seed", "7"]
        r = runner.invoke(app, [*args, "--jobs", jobs, "--out-dir", f"out{jobs}", "--json"])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout)["jobs"] == int(jobs)
        made[jobs] = _wavs(in_tmp / f"out{jobs}")
    assert len(made["1"]) == 5
    assert made["1"] == made["2"]


def test_fail_fast_stops_at_the_first_failure(runner: CliRunner, in_tmp: Path) -> None:
    lines = [
        json.dumps({"text": "안녕하세요"}),
        "{not json",
        *[json.dumps({"text": f"문장 {i}"}) for i in range(8)],
    ]
    Path("r.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "r.jsonl", "--jobs", "1", "--fail-fast", "--json"])
    assert r.exit_code == 1, r.output
    summary = json.loads(r.stdout)
    assert (summary["ok"], summary["failed"], summary["pending"]) == (1, 1, 8)
    assert sorted(_by_line(in_tmp / "manifest.jsonl")) == [1, 2]
    # Without --fail-fast the same input runs to the end.
    r = runner.invoke(app, ["batch", "r.jsonl", "--jobs", "1", "--manifest", "all.jsonl", "--json"])
    assert (json.loads(r.stdout)["ok"], r.exit_code) == (9, 1)


def test_rerun_needs_resume_and_resume_needs_the_same_input(runner: CliRunner, in_tmp: Path) -> None:
    Path("a.txt").write_text("안녕하세요\n반갑습니다\n", encoding="utf-8")
    assert runner.invoke(app, ["batch", "a.txt", "-j", "1", "-q"]).exit_code == 0
    first = _wavs(in_tmp)
    r = runner.invoke(app, ["batch", "a.txt", "-j", "1"])
    assert r.exit_code == 2 and "--resume" in r.stderr
    r = runner.invoke(app, ["batch", "a.txt", "-j", "1", "--resume", "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["resumed"] == 2
    assert _wavs(in_tmp) == first  # same names: the uuids derive from the input and line number
    Path("a.txt").write_text("안녕하세요\n다른 문장\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "a.txt", "-j", "1", "--resume"])
    assert r.exit_code == 2 and "different input" in r.stderr


def test_resume_redoes_a_clip_whose_file_changed(runner: CliRunner, in_tmp: Path) -> None:
    Path("a.txt").write_text("안녕하세요\n반갑습니다\n고맙습니다\n", encoding="utf-8")
    assert runner.invoke(app, ["batch", "a.txt", "-j", "1", "-q"]).exit_code == 0
    records = _by_line(in_tmp / "manifest.jsonl")
    Path(records[2]["path"]).write_bytes(b"RIFF garbage")
    Path(records[3]["path"]).unlink()
    r = runner.invoke(app, ["batch", "a.txt", "-j", "1", "--resume", "--json"])
    summary = json.loads(r.stdout)
    assert (r.exit_code, summary["resumed"], summary["ok"]) == (0, 1, 2)
    after = _assert_complete(in_tmp / "manifest.jsonl", 3)
    assert [after[n]["sha256"] for n in (1, 2, 3)] == [records[n]["sha256"] for n in (1, 2, 3)]


def test_a_uuid_that_names_another_clip_fails_its_line_and_keeps_the_clip(
    runner: CliRunner, in_tmp: Path
) -> None:
    """A new run (its own manifest) whose record names a uuid that already has a clip made from another
    text: that line fails `conflict`, the clip stays; the same request as the clip's is fine."""
    from forv_tts.jobs.item import Destination, run_item

    other = "022db29c-d0e2-11e5-bb4c-60f81dca7677"
    for uuid, text in ((UUID, "먼저 만든 글입니다."), (other, "같은 글입니다.")):
        run_item(text, uuid=uuid, created_at="2022-08-22", destination=Destination(local_dir=in_tmp))
    before = _wavs(in_tmp)
    lines = [
        {"uuid": UUID, "member_id": "builtin", "text": "다른 글입니다.", "created_at": "2022-08-22"},
        {"uuid": other, "member_id": "builtin", "text": "같은 글입니다.", "created_at": "2022-08-22"},
    ]
    Path("r.jsonl").write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), "utf-8")
    r = runner.invoke(app, ["batch", "r.jsonl", "-j", "1", "-q", "--manifest", "new.jsonl"])
    assert r.exit_code == 1, r.output
    records = _by_line(in_tmp / "new.jsonl")
    assert records[1]["status"] == "failed" and records[1]["error_code"] == "conflict", records[1]
    assert records[2]["status"] == "ok"
    assert _wavs(in_tmp) == before


def test_stdin_input_and_clean_stdout(in_tmp: Path) -> None:
    data = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in ("안녕하세요", "반갑습니다")) + "\n"
    p = subprocess.run(
        [_console_script(), "batch", "-", "--jobs", "2", "--manifest", "run.jsonl"],
        input=data.encode(),
        capture_output=True,
        timeout=300,
    )
    assert p.returncode == 0, p.stderr.decode()
    assert p.stdout == b"run.jsonl\n"  # nothing a worker prints may reach stdout
    assert b"forv-tts: batch 2/2 lines (100%)" in p.stderr  # plain progress lines when not a terminal
    records = _assert_complete(in_tmp / "run.jsonl", 2)
    assert {r["status"] for r in records.values()} == {"ok"}


def _start(args: list[str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [_console_script(), *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def _wait_for_records(manifest: Path, proc: subprocess.Popen[bytes], at_least: int) -> None:
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if manifest.exists() and len(manifest.read_bytes().splitlines()) >= at_least:
            return
        assert proc.poll() is None, proc.communicate()[1].decode()
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the batch wrote no manifest records in time")


@pytest.mark.slow
def test_kill_9_then_resume_does_every_line_exactly_once(tmp_path: Path, voice_dir: Path) -> None:
    n = 30
    (tmp_path / "lines.txt").write_text("".join(f"오늘은 좋은 날이에요. 반가워요 {i}\n" for i in range(n)))
    args = ["batch", "lines.txt", "-m", "2", "--voice-dir", str(voice_dir), "--jobs", "2", "-q"]
    manifest = tmp_path / "manifest.jsonl"
    proc = _start(args, tmp_path)
    _wait_for_records(manifest, proc, 3)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    before = _by_line(manifest)
    assert 3 <= len(before) < n, "the run finished before it could be killed: give it more lines"
    # What a kill during a write leaves behind: a torn manifest line and a .part file of a clip in flight.
    with open(manifest, "ab") as f:
        f.write(b'{"line": 99, "status": "o')
    missing = min(set(range(1, n + 1)) - set(before))
    sha = hashlib.sha256((tmp_path / "lines.txt").read_bytes()).hexdigest()
    name = f"{binput.derived_uuid(sha, missing)}_{before[min(before)]['created_at']}_voice.wav"
    (tmp_path / "wav_files" / "2").mkdir(parents=True, exist_ok=True)
    (tmp_path / "wav_files" / "2" / f".{name}.abc123.part").write_bytes(b"RIFF")

    plain = subprocess.run([_console_script(), *args], cwd=tmp_path, capture_output=True, timeout=60)
    assert plain.returncode == 2 and b"--resume" in plain.stderr

    resumed = subprocess.run(
        [_console_script(), *args, "--resume", "--json"], cwd=tmp_path, capture_output=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    summary = json.loads(resumed.stdout)
    assert summary["resumed"] == len(before) and summary["ok"] == n - len(before)
    after = _assert_complete(manifest, n)
    assert {r["status"] for r in after.values()} == {"ok"}
    for line, record in before.items():  # finished work is kept as it was, not redone
        assert after[line] == record
    assert len(_wavs(tmp_path)) == n  # no duplicates under other names


@pytest.mark.slow
def test_ctrl_c_finishes_in_flight_items_and_exits_130(tmp_path: Path, voice_dir: Path) -> None:
    n = 20
    (tmp_path / "lines.txt").write_text("".join(f"안녕하세요. 좋은 아침이에요 {i}\n" for i in range(n)))
    args = ["batch", "lines.txt", "-m", "1", "--voice-dir", str(voice_dir), "--jobs", "2"]
    manifest = tmp_path / "manifest.jsonl"
    proc = _start(args, tmp_path)
    _wait_for_records(manifest, proc, 2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    assert out == b"manifest.jsonl\n"
    assert b"rerun with --resume" in err
    records = _by_line(manifest)
    assert 2 <= len(records) < n
    assert {r["status"] for r in records.values()} == {"ok"}
    for r in records.values():
        assert _sha(tmp_path / r["path"]) == r["sha256"]
    assert _parts(tmp_path) == []
    resumed = subprocess.run([_console_script(), *args, "--resume", "-q"], cwd=tmp_path, capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()
    _assert_complete(manifest, n)


# --- uploads -----------------------------------------------------------------------------------------


def test_upload_as_items_finish_and_resume_uploads_only_what_is_missing(
    runner: CliRunner, in_tmp: Path, gcs: GcsEmulator
) -> None:
    bucket = gcs.new_bucket()
    Path("a.txt").write_text("안녕하세요\n반갑습니다\n\n고맙습니다\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "a.txt", "-j", "1", "-q"])  # first without uploading
    assert r.exit_code == 0, r.output
    mtimes = {p: p.stat().st_mtime_ns for p in (in_tmp / "wav_files").rglob("*.wav")}
    r = runner.invoke(
        app, ["batch", "a.txt", "-j", "2", "--resume", "--upload", "--bucket", bucket, "--json"]
    )
    assert r.exit_code == 0, r.output
    records = _assert_complete(in_tmp / "manifest.jsonl", 4)
    objects = gcs.objects(bucket)
    assert len(objects) == 3
    for rec in records.values():
        if rec["status"] != "ok":
            continue
        object_name = rec["path"]  # out-dir "." → the path is the object name
        assert rec["uri"] == f"gs://{bucket}/{object_name}"
        assert hashlib.sha256(objects[object_name]).hexdigest() == rec["sha256"]
    # The clips were uploaded as they were, not synthesised again.
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    # Everything recorded with its URI: a further resume has nothing to do.
    r = runner.invoke(app, ["batch", "a.txt", "--resume", "--upload", "--bucket", bucket, "--json"])
    assert (r.exit_code, json.loads(r.stdout)["resumed"]) == (0, 3)


def test_upload_in_workers_is_idempotent_after_a_lost_manifest(
    runner: CliRunner, in_tmp: Path, gcs: GcsEmulator
) -> None:
    """A crash between upload and manifest write: the redo writes the same bytes, the upload is a no-op."""
    bucket = gcs.new_bucket()
    Path("a.txt").write_text("안녕하세요\n반갑습니다\n", encoding="utf-8")
    args = ["batch", "a.txt", "-j", "2", "--upload", "--bucket", bucket]
    assert runner.invoke(app, [*args, "-q"]).exit_code == 0
    first = gcs.objects(bucket)
    Path("manifest.jsonl").write_text(Path("manifest.jsonl").read_text().splitlines()[0] + "\n")
    r = runner.invoke(app, [*args, "--resume"])
    assert r.exit_code == 0, r.output
    assert gcs.objects(bucket) == first
    assert all(rec["uri"] for rec in _assert_complete(in_tmp / "manifest.jsonl", 2).values())


def test_a_failed_upload_is_retried_on_resume_without_synthesising_again(
    runner: CliRunner, in_tmp: Path, gcs: GcsEmulator
) -> None:
    bucket = f"forv-late-{os.getpid()}"  # does not exist yet: every upload fails, the clips are kept
    Path("a.txt").write_text("안녕하세요\n반갑습니다\n", encoding="utf-8")
    args = ["batch", "a.txt", "-j", "1", "--upload", "--bucket", bucket, "--upload-timeout", "5"]
    r = runner.invoke(app, args)
    assert r.exit_code == 1, r.output
    failed = _by_line(in_tmp / "manifest.jsonl")
    assert {rec["status"] for rec in failed.values()} == {"failed"}
    mtimes = {p: p.stat().st_mtime_ns for p in (in_tmp / "wav_files").rglob("*.wav")}
    assert len(mtimes) == 2
    gcs.client().create_bucket(bucket)
    r = runner.invoke(app, [*args, "--resume"])
    assert r.exit_code == 0, r.output
    done = _assert_complete(in_tmp / "manifest.jsonl", 2)
    assert all(rec["uri"] and rec["sha256"] == failed[n]["sha256"] for n, rec in done.items())
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert len(gcs.objects(bucket)) == 2


def test_upload_needs_a_bucket_before_any_work(runner: CliRunner, in_tmp: Path) -> None:
    Path("a.txt").write_text("안녕하세요\n", encoding="utf-8")
    r = runner.invoke(app, ["batch", "a.txt", "--upload"])
    assert r.exit_code == 2 and "bucket" in r.stderr
    assert not Path("manifest.jsonl").exists()


def test_the_sigint_handler_is_restored(runner: CliRunner, in_tmp: Path) -> None:
    before = signal.getsignal(signal.SIGINT)
    Path("a.txt").write_text("안녕하세요\n", encoding="utf-8")
    assert runner.invoke(app, ["batch", "a.txt", "-j", "1", "-q"]).exit_code == 0
    assert signal.getsignal(signal.SIGINT) is before

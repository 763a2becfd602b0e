"""Upload to Google Cloud Storage, against a real GCS emulator (fake-gcs-server over HTTP; no mocks).

What is pinned here: the object name and content type the team's apps rely on, bytes and md5 surviving
the round trip, idempotent re-uploads, never replacing different bytes without --overwrite, bounded
failure when the service is down (with the local file kept), name validation before anything is
written, the resumable path for large files, V4 signed URLs, and the CLI contract (stdout data, one
stderr line, exit codes) through CliRunner and the installed console script.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from typer.testing import CliRunner

from forv_tts.cli import app
from forv_tts.errors import (
    BucketNotFoundError,
    CredentialsError,
    InvalidInputError,
    ObjectExistsError,
    UploadError,
    UploadUnreachableError,
)
from forv_tts.storage import gcs as up

sys.path.insert(0, str(Path(__file__).parent))
pytest.register_assert_rewrite("gcs_emulator")
from gcs_emulator import GcsEmulator, free_port  # noqa: E402

pytest_plugins = ["gcs_emulator"]

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
UUID2 = "7d4c1f5e-0b8a-4d3e-9f21-5a6b7c8d9e0f"
UUID3 = "e3b0c442-98fc-4c14-9afb-f4c8996fb924"
DATE = "2022-08-22"


# --- helpers ---------------------------------------------------------------------------------------


def make_wav(path: Path, *, seed: int = 0, frames: int = 4000, rate: int = 22050) -> Path:
    """A real 16-bit mono wav whose samples depend on `seed` (different seeds, different bytes)."""
    data = hashlib.sha256(str(seed).encode()).digest() * (frames * 2 // 32 + 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data[: frames * 2])
    return path


def clip(dirpath: Path, uuid: str = UUID, created_at: str = DATE, *, seed: int = 0) -> Path:
    return make_wav(dirpath / f"{uuid}_{created_at}_voice.wav", seed=seed)


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def obj(member: str = "3", uuid: str = UUID, created_at: str = DATE) -> str:
    return f"wav_files/{member}/{uuid}_{created_at}_voice.wav"


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch cwd with a voice dir that knows member 3 (a folder is enough for `upload`)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "voice_model" / "glow-tts" / "3").mkdir(parents=True)
    monkeypatch.setenv("FORV_TTS_VOICE_DIR", str(tmp_path / "voice_model"))
    monkeypatch.delenv("FORV_TTS_BUCKET", raising=False)
    return tmp_path


@pytest.fixture
def bucket(gcs: GcsEmulator) -> str:
    return gcs.new_bucket()


def invoke(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, list(args), catch_exceptions=False)


def one_error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("forv-tts: error: "), lines[0]
    return lines[0]


def _console_script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found, "the forv-tts console script is not installed next to this interpreter"
    return found


def _no_google_env(home: Path) -> dict[str, str]:
    """An environment with no way to find Google credentials (and no metadata-server probe)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("STORAGE_EMULATOR_HOST", "GOOGLE_APPLICATION_CREDENTIALS", "FORV_TTS_BUCKET")
    }
    env.update(
        HOME=str(home),
        CLOUDSDK_CONFIG=str(home / "gcloud"),
        NO_GCE_CHECK="true",
        GCE_METADATA_HOST="127.0.0.1:9",
        GCE_METADATA_IP="127.0.0.1:9",
    )
    return env


# --- library: round trip, idempotency, conflicts ------------------------------------------------------


def test_round_trip_bytes_md5_name_and_content_type(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    path = clip(tmp_path)
    data = path.read_bytes()
    result = gcs_upload(path, bucket)
    assert result.object == obj() == "wav_files/3/022db29c-d0e2-11e5-bb4c-60f81dca7676_2022-08-22_voice.wav"
    assert result.uri == f"gs://{bucket}/{obj()}"
    assert result.url == f"{gcs.url}/{bucket}/{obj()}"
    assert (result.size, result.md5, result.status, result.path) == (
        len(data),
        md5_hex(data),
        "uploaded",
        str(path),
    )
    remote = gcs.client().bucket(bucket).get_blob(obj())
    assert remote.content_type == "audio/wav"
    assert base64.b64decode(remote.md5_hash).hex() == md5_hex(data)
    assert remote.download_as_bytes() == data
    assert gcs.objects(bucket).keys() == {obj()}
    assert path.read_bytes() == data, "the local file is kept by default"


def gcs_upload(path: Path, bucket: str, **kw: Any) -> up.UploadResult:
    kw.setdefault("object_name", obj())
    return up.upload_file(path, bucket=bucket, **kw)


def test_identical_reupload_is_a_success_and_leaves_the_object_alone(
    gcs: GcsEmulator, bucket: str, tmp_path: Path
) -> None:
    path = clip(tmp_path)
    first = gcs_upload(path, bucket)
    again = gcs_upload(path, bucket)
    assert again.status == "unchanged"
    assert again.generation == first.generation
    assert again.md5 == first.md5


def test_conflicting_reupload_fails_and_keeps_the_remote(
    gcs: GcsEmulator, bucket: str, tmp_path: Path
) -> None:
    original = clip(tmp_path / "a").read_bytes()
    gcs_upload(tmp_path / "a" / f"{UUID}_{DATE}_voice.wav", bucket)
    other = clip(tmp_path / "b", seed=1)
    with pytest.raises(UploadError) as err:
        gcs_upload(other, bucket)
    message = str(err.value)
    assert err.value.code == "object_exists" and err.value.fields["local_path"] == str(other)
    assert "already exists with different content" in message and "--" not in message  # library terms
    assert message.endswith(f"local file kept: {other}")
    assert gcs.objects(bucket)[obj()] == original
    assert other.exists()


def test_overwrite_replaces_different_bytes(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    gcs_upload(clip(tmp_path / "a"), bucket)
    other = clip(tmp_path / "b", seed=1)
    result = gcs_upload(other, bucket, overwrite=True)
    assert result.status == "overwritten"
    assert gcs.objects(bucket)[obj()] == other.read_bytes()


def test_missing_bucket_fails_with_the_bucket_named(gcs: GcsEmulator, tmp_path: Path) -> None:
    path = clip(tmp_path)
    with pytest.raises(UploadError) as err:
        gcs_upload(path, "no-such-bucket", keep_local=False)
    assert "bucket 'no-such-bucket' not found" in str(err.value)
    assert str(err.value).endswith(f"local file kept: {path}")
    assert path.exists(), "a failed upload never deletes the local file, even with keep_local=False"


def test_no_keep_local_deletes_only_after_a_confirmed_upload(
    gcs: GcsEmulator, bucket: str, tmp_path: Path
) -> None:
    path = clip(tmp_path)
    data = path.read_bytes()
    result = gcs_upload(path, bucket, keep_local=False)
    assert not path.exists() and result.local_kept is False
    assert gcs.objects(bucket)[obj()] == data


def test_library_rejects_bad_object_names_and_non_wavs(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    path = clip(tmp_path)
    for name in (
        f"wav_files/../{UUID}_{DATE}_voice.wav",
        f"wav_files/3/x/{UUID}_{DATE}_voice.wav",
        f"other/3/{UUID}_{DATE}_voice.wav",
        f"wav_files/3/{UUID.upper()}_{DATE}_voice.wav",
        "",
    ):
        with pytest.raises(InvalidInputError):
            gcs_upload(path, bucket, object_name=name)
    text = tmp_path / f"{UUID2}_{DATE}_voice.wav"
    text.write_text("not audio")
    with pytest.raises(InvalidInputError, match="is not a wav file"):
        gcs_upload(text, bucket, object_name=obj(uuid=UUID2))
    assert gcs.objects(bucket) == {}


def test_50mb_file_takes_the_resumable_path(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    path = tmp_path / f"{UUID}_{DATE}_voice.wav"
    frames = 25 * 1024 * 1024  # 16-bit mono: 50 MiB of samples
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(os.urandom(frames * 2))
    data = path.read_bytes()
    assert len(data) > 50 * 1024 * 1024
    urls = _record_requests()
    t0 = time.perf_counter()
    result = gcs_upload(path, bucket)
    elapsed = time.perf_counter() - t0
    print(f"\n50 MiB upload to the emulator: {elapsed:.2f} s")
    assert any("uploadType=resumable" in u for u in urls), urls
    assert not any("uploadType=multipart" in u for u in urls), urls
    assert (result.size, result.md5) == (len(data), md5_hex(data))
    remote = gcs.client().bucket(bucket).get_blob(obj())
    assert remote.size == len(data) and base64.b64decode(remote.md5_hash).hex() == md5_hex(data)


def test_small_file_takes_the_single_request_path(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    urls = _record_requests()
    gcs_upload(clip(tmp_path), bucket)
    assert any("uploadType=multipart" in u for u in urls), urls


def _record_requests() -> list[str]:
    """Observe the URLs the code under test requests (a requests response hook on its own session)."""
    urls: list[str] = []
    up.get_client()._http.hooks["response"].append(lambda r, *a, **k: urls.append(r.request.url))
    return urls


def _upload_in_worker(path: str, bucket: str, name: str) -> tuple[int, str]:
    result = up.upload_file(path, bucket=bucket, object_name=name)
    return os.getpid(), result.uri


def test_upload_file_works_from_worker_processes(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    paths = [clip(tmp_path, u, seed=i) for i, u in enumerate((UUID, UUID2))]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        done = list(pool.map(_upload_in_worker, map(str, paths), [bucket] * 2, [obj(), obj(uuid=UUID2)]))
    assert all(pid != os.getpid() for pid, _ in done)
    assert gcs.objects(bucket) == {obj(): paths[0].read_bytes(), obj(uuid=UUID2): paths[1].read_bytes()}


def test_client_is_cached_per_process_and_environment(
    gcs: GcsEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = up.get_client()
    assert up.get_client() is first
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")
    assert up.get_client() is not first


# --- bounded waiting ------------------------------------------------------------------------------------


def test_emulator_down_fails_within_the_deadline_and_keeps_the_file(
    runner: CliRunner, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")
    path = clip(work)
    t0 = time.perf_counter()
    result = invoke(
        runner, "upload", str(path), "-m", "3", "--bucket", "forv_bucket", "--upload-timeout", "3"
    )
    elapsed = time.perf_counter() - t0
    print(f"\nemulator down, --upload-timeout 3: failed after {elapsed:.2f} s")
    assert result.exit_code == 1
    line = one_error_line(result)
    assert "could not reach http://127.0.0.1:" in line and "Connection refused" in line
    assert line.endswith(f"local file kept: {path}")
    assert elapsed < 3 + 3, elapsed
    assert path.exists() and result.stdout == ""


def test_retries_keep_the_error_class_and_its_fields(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one retry loop (say, upload, batch, the service): a transient error is tried again and the
    last one raised as its own class, fields kept and `attempts` added."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")
    path = clip(tmp_path)
    retried: list[tuple[int, str]] = []
    with pytest.raises(UploadUnreachableError) as err:
        gcs_upload(
            path,
            "forv_bucket",
            timeout=0.5,
            attempts=3,
            backoff=0.05,
            on_retry=lambda n, e: retried.append((n, e.code)),
        )
    assert retried == [(1, "upload_unreachable"), (2, "upload_unreachable")]
    assert err.value.fields["attempts"] == 3 and err.value.fields["local_path"] == str(path)
    assert err.value.fields["endpoint"].startswith("http://127.0.0.1:") and "reason" in err.value.fields
    assert "(after 3 attempts" in str(err.value) and path.exists()
    assert str(err.value).endswith(f"local file kept: {path}")


def test_permanent_upload_errors_are_not_retried(gcs: GcsEmulator, bucket: str, tmp_path: Path) -> None:
    gcs_upload(clip(tmp_path / "a"), bucket)
    retried: list[int] = []
    with pytest.raises(ObjectExistsError) as err:
        gcs_upload(clip(tmp_path / "b", seed=1), bucket, attempts=3, on_retry=lambda n, e: retried.append(n))
    assert retried == [] and "attempts" not in err.value.fields
    with pytest.raises(BucketNotFoundError):
        gcs_upload(
            clip(tmp_path / "c"), "no-such-bucket", attempts=3, on_retry=lambda n, e: retried.append(n)
        )
    assert retried == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP port that accepts connections and never answers (a hung service, not a refused one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def test_hung_service_is_bounded_by_the_timeout_too(
    silent_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", silent_server)
    path = clip(tmp_path)
    t0 = time.perf_counter()
    with pytest.raises(UploadError) as err:
        gcs_upload(path, "forv_bucket", timeout=2)
    elapsed = time.perf_counter() - t0
    assert "could not reach" in str(err.value) and "timed out" in str(err.value), err.value
    assert elapsed < 2 * 2 + 3, elapsed  # at most one request timeout past the retry deadline
    assert path.exists()


def test_a_stalled_service_gets_one_deadline_across_every_attempt(
    silent_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's workers try 3 times: against a service that accepts and never answers, the whole
    upload still ends at its deadline (it took ~3x the deadline plus the backoffs, 93 s for 30 s), and
    the message says the time and tries it really took."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", silent_server)
    path = clip(tmp_path)
    t0 = time.monotonic()
    with pytest.raises(UploadUnreachableError) as err:
        gcs_upload(path, "forv_bucket", timeout=3, attempts=3, backoff=0.2)
    elapsed = time.monotonic() - t0
    assert 2.5 < elapsed < 3 + 1.0, elapsed
    message = str(err.value)
    said = re.search(
        r"gave up after ([\d.]+) s of retries \(deadline 3 s\).* \(after (\d+) attempts\)", message
    )
    assert said is not None, message
    assert int(said.group(2)) == err.value.fields["attempts"] >= 2
    assert abs(float(said.group(1)) - elapsed) < 0.3 and "timed out" in message, message
    assert message.endswith(f"local file kept: {path}") and path.exists()


# --- CLI: upload command -----------------------------------------------------------------------------


def test_upload_command_prints_uri_and_url(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    path = clip(work / "out")
    result = invoke(runner, "upload", str(path), "--member", "3", "--bucket", bucket)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"gs://{bucket}/{obj()}\t{gcs.url}/{bucket}/{obj()}\n"
    assert gcs.objects(bucket) == {obj(): path.read_bytes()}


def test_upload_command_several_files_json(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    paths = [clip(work / "out", u, seed=i) for i, u in enumerate((UUID, UUID2, UUID3))]
    result = invoke(runner, "upload", *map(str, paths), "-m", "3", "--bucket", bucket, "--json")
    assert result.exit_code == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["object"] for r in records] == [obj(uuid=u) for u in (UUID, UUID2, UUID3)]
    for record, path in zip(records, paths, strict=True):
        data = path.read_bytes()
        assert record["uri"] == f"gs://{bucket}/{record['object']}"
        assert (record["size"], record["md5"], record["path"], record["bucket"]) == (
            len(data),
            md5_hex(data),
            str(path),
            bucket,
        )
        assert record["url"].startswith(gcs.url) and record["status"] == "uploaded"
    assert len(gcs.objects(bucket)) == 3


def test_upload_command_tries_every_file_and_exits_1_if_one_failed(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    existing = clip(work / "old", UUID2, seed=99)
    assert invoke(runner, "upload", str(existing), "-m", "3", "--bucket", bucket).exit_code == 0
    paths = [clip(work / "out", u, seed=i) for i, u in enumerate((UUID, UUID2, UUID3))]
    result = invoke(runner, "upload", *map(str, paths), "-m", "3", "--bucket", bucket)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"gs://{bucket}/{obj(uuid=u)}\t{gcs.url}/{bucket}/{obj(uuid=u)}" for u in (UUID, UUID3)
    ]
    errors = result.stderr.splitlines()
    assert len(errors) == 2, result.stderr
    assert "already exists with different content" in errors[0] and str(paths[1]) in errors[0]
    assert errors[1] == "forv-tts: error: 1 of 3 uploads failed; their local files are kept"
    remote = gcs.objects(bucket)
    assert remote[obj(uuid=UUID2)] == existing.read_bytes(), "the conflicting object is unchanged"
    assert remote[obj(uuid=UUID3)] == paths[2].read_bytes(), "files after the failure were still uploaded"


def test_cli_conflict_then_overwrite(runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str) -> None:
    first = clip(work / "a")
    assert invoke(runner, "upload", str(first), "-m", "3", "--bucket", bucket).exit_code == 0
    again = invoke(runner, "upload", str(first), "-m", "3", "--bucket", bucket, "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)[0]["status"] == "unchanged"

    second = clip(work / "b", seed=7)
    result = invoke(runner, "upload", str(second), "-m", "3", "--bucket", bucket)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert line == (
        f"forv-tts: error: gs://{bucket}/{obj()} already exists with different content "
        f"(remote md5 {md5_hex(first.read_bytes())}, local {md5_hex(second.read_bytes())}): "
        f"pass --overwrite to replace it; local file kept: {second}"
    )
    assert gcs.objects(bucket)[obj()] == first.read_bytes()

    forced = invoke(runner, "upload", str(second), "-m", "3", "--bucket", bucket, "--overwrite", "--json")
    assert forced.exit_code == 0, forced.stderr
    assert json.loads(forced.stdout)[0]["status"] == "overwritten"
    assert gcs.objects(bucket)[obj()] == second.read_bytes()


def test_cli_missing_bucket(runner: CliRunner, work: Path, gcs: GcsEmulator) -> None:
    path = clip(work)
    result = invoke(runner, "upload", str(path), "-m", "3", "--bucket", "forv_bucket", "--no-keep-local")
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"forv-tts: error: bucket 'forv_bucket' not found at {gcs.url} "
        "(or not visible to these credentials): create it or fix --bucket/FORV_TTS_BUCKET; "
        f"local file kept: {path}"
    )
    assert path.exists()


def test_cli_no_keep_local(runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str) -> None:
    path = clip(work)
    data = path.read_bytes()
    result = invoke(runner, "upload", str(path), "-m", "3", "--bucket", bucket, "--no-keep-local", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)[0]["local_kept"] is False
    assert not path.exists()
    assert gcs.objects(bucket) == {obj(): data}


def test_bucket_from_environment_and_missing_bucket_setting(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = clip(work)
    none = invoke(runner, "upload", str(path), "-m", "3")
    assert none.exit_code == 2
    assert (
        one_error_line(none) == "forv-tts: error: no bucket given: pass --bucket NAME or set FORV_TTS_BUCKET"
    )
    monkeypatch.setenv("FORV_TTS_BUCKET", bucket)
    assert invoke(runner, "upload", str(path), "-m", "3").exit_code == 0
    assert obj() in gcs.objects(bucket)


def test_uuid_and_created_at_options_for_one_unnamed_file(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    loose = make_wav(work / "hello.wav")
    result = invoke(runner, "upload", str(loose), "-m", "3", "--bucket", bucket)
    assert result.exit_code == 2
    assert "the name is not <uuid>_<created_at>_voice.wav, so give --uuid and --created-at" in one_error_line(
        result
    )
    result = invoke(
        runner, "upload", str(loose), "-m", "3", "--bucket", bucket, "--uuid", UUID, "--created-at", DATE
    )
    assert result.exit_code == 0, result.stderr
    assert gcs.objects(bucket) == {obj(): loose.read_bytes()}
    two = invoke(runner, "upload", str(loose), str(clip(work)), "-m", "3", "--bucket", bucket, "--uuid", UUID)
    assert two.exit_code == 2 and "give exactly one file" in one_error_line(two)


BAD_VALUES = ["../3", "3/4", "", "3\n", "a\x00b", "..", "x\x1b[31m"]


@pytest.mark.parametrize("bad", BAD_VALUES)
@pytest.mark.parametrize("option", ["--member", "--uuid", "--created-at"])
def test_upload_rejects_bad_names_before_anything(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str, option: str, bad: str
) -> None:
    path = clip(work / "out")
    args = {"--member": "3", "--uuid": UUID, "--created-at": DATE, option: bad}
    result = invoke(
        runner, "upload", str(path), "--bucket", bucket, "--no-keep-local", *sum(args.items(), ())
    )
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert one_error_line(result).startswith("forv-tts: error: ")
    assert gcs.objects(bucket) == {}
    assert path.exists()


def test_upload_rejects_bad_names_carried_by_file_names(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    for created_at in ("2022\x01", "..", "2022-13-45"):
        path = make_wav(work / "out" / f"{UUID}_{created_at}_voice.wav")
        result = invoke(runner, "upload", str(path), "-m", "3", "--bucket", bucket)
        assert result.exit_code == 2, (created_at, result.stderr)
        assert str(path) in one_error_line(result)
    assert gcs.objects(bucket) == {}


def test_upload_needs_a_known_member(runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str) -> None:
    path = clip(work)
    result = invoke(runner, "upload", str(path), "-m", "7", "--bucket", bucket)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        f"forv-tts: error: unknown member '7': not in {work / 'voice_model'} (known: builtin, 3); "
        "pass --voice-dir where its checkpoints live"
    )
    builtin = invoke(runner, "upload", str(path), "-m", "builtin", "--bucket", bucket)
    assert builtin.exit_code == 0, builtin.stderr
    assert gcs.objects(bucket).keys() == {obj(member="builtin")}


def test_upload_checks_every_file_is_a_wav_and_skips_the_others(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    good = clip(work / "out")
    bad = work / "out" / f"{UUID2}_{DATE}_voice.wav"
    bad.write_bytes(b"ID3\x04 this is an mp3, honest")
    alone = invoke(runner, "upload", str(bad), "-m", "3", "--bucket", bucket)
    assert alone.exit_code == 2
    assert one_error_line(alone) == (
        f"forv-tts: error: {bad} is not a wav file (no RIFF/WAVE header): only wav clips are uploaded"
    )
    missing = invoke(runner, "upload", str(work / "nope.wav"), "-m", "3", "--bucket", bucket)
    assert missing.exit_code == 2 and "no such file" in one_error_line(missing)
    assert gcs.objects(bucket) == {}
    # Issue 14: with several files the good ones are uploaded, the bad one reported, exit 1.
    result = invoke(runner, "upload", str(good), str(bad), "-m", "3", "--bucket", bucket)
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"forv-tts: error: {bad} is not a wav file (no RIFF/WAVE header): only wav clips are uploaded "
        "(not uploaded)"
    )
    assert gcs.objects(bucket) == {obj(): good.read_bytes()}


def test_bad_upload_timeout_and_bucket_names(runner: CliRunner, work: Path, gcs: GcsEmulator) -> None:
    path = clip(work)
    for args in (["--upload-timeout", "0"], ["--upload-timeout", "-1"], ["--bucket", "../etc"]):
        result = invoke(runner, "upload", str(path), "-m", "3", "--bucket", "forv_bucket", *args)
        assert result.exit_code == 2, (args, result.stderr)
        one_error_line(result)


def test_default_deadline_is_documented_in_help(runner: CliRunner) -> None:
    result = invoke(runner, "upload", "--help")
    assert f"(default: {up.DEFAULT_TIMEOUT_S:g})" in " ".join(result.stdout.split())
    assert 0 < up.DEFAULT_TIMEOUT_S <= 60, "a CI job must fail in seconds, not minutes"


# --- credentials and signed URLs ---------------------------------------------------------------------


@pytest.fixture
def service_account_key(tmp_path: Path) -> tuple[Path, str, Any]:
    """A throwaway service-account key file (fresh RSA key, never registered anywhere)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = "forv-tts-test@forv-test.iam.gserviceaccount.com"
    info = {
        "type": "service_account",
        "project_id": "forv-test",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": email,
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path = tmp_path / "sa-key.json"
    path.write_text(json.dumps(info))
    return path, email, key.public_key()


def _verify_v4(url: str, public_key: Any, bucket: str, name: str) -> dict[str, str]:
    """Check a V4 signed URL's form and verify its RSA signature over the canonical request."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert parts.path == f"/{bucket}/{quote(name, safe='/~')}"
    signature = query.pop("X-Goog-Signature")
    assert len(signature) == 512 and all(c in "0123456789abcdef" for c in signature)
    canonical_query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in sorted(query.items()))
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        [
            "GOOG4-RSA-SHA256",
            query["X-Goog-Date"],
            scope,
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    public_key.verify(bytes.fromhex(signature), string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())
    return query


def test_signed_url_with_a_service_account_key(
    runner: CliRunner,
    work: Path,
    gcs: GcsEmulator,
    bucket: str,
    service_account_key: tuple[Path, str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_path, email, public_key = service_account_key
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_path))
    path = clip(work)
    before = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    result = invoke(
        runner, "upload", str(path), "-m", "3", "--bucket", bucket, "--signed-url", "15m", "--json"
    )
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)[0]
    query = _verify_v4(record["signed_url"], public_key, bucket, obj())
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "900"
    assert query["X-Goog-SignedHeaders"] == "host"
    signed_at = dt.datetime.strptime(query["X-Goog-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    assert abs((signed_at - before).total_seconds()) < 60
    assert query["X-Goog-Credential"] == f"{email}/{signed_at:%Y%m%d}/auto/storage/goog4_request"
    expires = dt.datetime.fromisoformat(record["signed_url_expires"].replace("Z", "+00:00"))
    assert abs((expires - (signed_at + dt.timedelta(minutes=15))).total_seconds()) < 60
    key_body = key_path.read_text()
    assert json.loads(key_body)["private_key"].splitlines()[1] not in result.stdout + result.stderr

    text = invoke(runner, "upload", str(path), "-m", "3", "--bucket", bucket, "--signed-url", "7d")
    assert text.exit_code == 0, text.stderr
    uri, url, signed = text.stdout.rstrip("\n").split("\t")
    assert (uri, url) == (f"gs://{bucket}/{obj()}", f"{gcs.url}/{bucket}/{obj()}")
    assert _verify_v4(signed, public_key, bucket, obj())["X-Goog-Expires"] == "604800"


@pytest.mark.parametrize("duration", ["8d", "0", "0s", "15x", "", "-1h", "604801"])
def test_signed_url_duration_limits(runner: CliRunner, work: Path, gcs: GcsEmulator, duration: str) -> None:
    result = invoke(
        runner, "upload", str(clip(work)), "-m", "3", "--bucket", "forv_bucket", "--signed-url", duration
    )
    assert result.exit_code == 2
    assert "--signed-url" in one_error_line(result)


def test_parse_duration_units() -> None:
    assert up.parse_duration("900") == dt.timedelta(seconds=900)
    assert up.parse_duration("15m") == dt.timedelta(minutes=15)
    assert up.parse_duration("1h") == dt.timedelta(hours=1)
    assert up.parse_duration("7d") == dt.timedelta(days=7)


def test_signed_url_needs_a_key_that_can_sign(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    path = clip(work)
    result = invoke(runner, "upload", str(path), "-m", "3", "--bucket", bucket, "--signed-url", "1h")
    assert result.exit_code == 1
    assert one_error_line(result) == (
        "forv-tts: error: cannot make a signed URL with the emulator's anonymous credentials: "
        "set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file"
    )
    assert gcs.objects(bucket) == {}, "refused before uploading"


def test_no_credentials_says_what_to_set(tmp_path: Path) -> None:
    """Through the installed console script, with no credentials anywhere."""
    path = clip(tmp_path)
    env = _no_google_env(tmp_path / "home")
    args = [_console_script(), "upload", str(path), "-m", "builtin", "--bucket", "forv_bucket"]
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == (
        "forv-tts: error: no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a "
        "service-account key file or run 'gcloud auth application-default login' "
        "(or set STORAGE_EMULATOR_HOST for an emulator)\n"
    )
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(tmp_path / "missing.json")
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert proc.returncode == 1
    assert "GOOGLE_APPLICATION_CREDENTIALS names a missing file" in proc.stderr
    assert path.exists()


def test_service_account_credentials_can_sign_without_an_emulator(
    service_account_key: tuple[Path, str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_key[0]))
    up.check_can_sign()  # loads the key locally; no network
    assert up.get_client()._credentials.service_account_email == service_account_key[1]


def test_credentials_error_is_an_upload_error() -> None:
    from forv_tts.cli.errors import exit_code

    assert issubclass(CredentialsError, UploadError) and exit_code(CredentialsError("no key")) == 1


# --- console script ---------------------------------------------------------------------------------------


def test_console_script_uploads(work: Path, gcs: GcsEmulator, bucket: str) -> None:
    path = clip(work)
    env = {**os.environ, "STORAGE_EMULATOR_HOST": gcs.url, "FORV_TTS_BUCKET": bucket}
    proc = subprocess.run(
        [_console_script(), "upload", str(path), "-m", "3", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["uri"] == f"gs://{bucket}/{obj()}"
    assert gcs.objects(bucket) == {obj(): path.read_bytes()}


def test_help_does_not_import_google_cloud() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from forv_tts.cli import app\n"
        "for args in (['--help'], ['upload', '--help'], ['say', '--help']):\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0, (args, r.output)\n"
        "assert not [m for m in sys.modules if m.startswith('google')], sorted(sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


# --- say --upload ---------------------------------------------------------------------------------------


def test_say_upload_json_with_the_builtin_voice(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORV_TTS_BUCKET", bucket)
    result = invoke(runner, "say", "안녕하세요", "--upload", "--json", "--uuid", UUID, "--created-at", DATE)
    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    name = obj(member=record["member"])
    local = Path(record["path"])
    data = local.read_bytes()
    assert record["upload"]["uri"] == f"gs://{bucket}/{name}"
    assert record["upload"]["object"] == name and record["upload"]["bucket"] == bucket
    assert (record["upload"]["size"], record["upload"]["md5"]) == (len(data), md5_hex(data))
    assert record["upload"]["path"] == record["path"]
    with wave.open(io.BytesIO(data)) as w:
        assert w.getnframes() > 0
    assert gcs.objects(bucket) == {name: data}
    remote = gcs.client().bucket(bucket).get_blob(name)
    assert remote.content_type == "audio/wav"


def test_say_upload_text_output_and_no_keep_local(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    result = invoke(
        runner,
        "say",
        "반가워요",
        "--upload",
        "--bucket",
        bucket,
        "--uuid",
        UUID,
        "--created-at",
        DATE,
        "--no-keep-local",
    )
    assert result.exit_code == 0, result.stderr
    uri, url = result.stdout.rstrip("\n").split("\t")
    name = uri.removeprefix(f"gs://{bucket}/")
    assert name.startswith("wav_files/") and name.endswith(f"/{UUID}_{DATE}_voice.wav")
    assert url == f"{gcs.url}/{bucket}/{name}"
    assert not (work / name).exists(), "--no-keep-local deleted the clip after the confirmed upload"
    assert gcs.objects(bucket)[name][:4] == b"RIFF"


def test_say_upload_failure_keeps_the_clip(runner: CliRunner, work: Path, gcs: GcsEmulator) -> None:
    result = invoke(
        runner, "say", "안녕", "--upload", "--bucket", "no-such-bucket", "--uuid", UUID, "--no-keep-local"
    )
    assert result.exit_code == 1
    line = one_error_line(result)
    kept = Path(line.rsplit("local file kept: ", 1)[1])
    assert kept.exists() and kept.name.startswith(UUID)


@pytest.mark.parametrize(
    "args",
    [
        ["--uuid", "../../etc/passwd"],
        ["--uuid", ""],
        ["--created-at", "a/b"],
        ["--created-at", "2022\x00"],
        ["--created-at", ""],
        ["--member", "../3"],
        ["--member", ""],
    ],
)
def test_say_upload_rejects_bad_names_before_anything(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str, args: list[str]
) -> None:
    result = invoke(runner, "say", "안녕", "--upload", "--bucket", bucket, *args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    one_error_line(result)
    assert not (work / "wav_files").exists()
    assert gcs.objects(bucket) == {}


def test_say_upload_usage_errors(runner: CliRunner, work: Path, gcs: GcsEmulator) -> None:
    stdout_wav = invoke(runner, "say", "안녕", "-o", "-", "--upload", "--bucket", "forv_bucket")
    assert stdout_wav.exit_code == 2 and "--upload needs a file" in one_error_line(stdout_wav)
    no_bucket = invoke(runner, "say", "안녕", "--upload")
    assert no_bucket.exit_code == 2 and "no bucket given" in one_error_line(no_bucket)
    stray = invoke(runner, "say", "안녕", "--signed-url", "1h")
    assert stray.exit_code == 2 and "only apply with --upload" in one_error_line(stray)
    assert not (work / "wav_files").exists()


def test_upload_glob_uploads_the_well_named_and_reports_the_others(
    runner: CliRunner, work: Path, gcs: GcsEmulator, bucket: str
) -> None:
    """Issue 14: `upload out/*.wav` with a `say -o hi.wav` among them used to refuse the whole set."""
    good = [clip(work / "out", u, seed=i) for i, u in enumerate((UUID, UUID2))]
    loose = make_wav(work / "out" / "hi.wav")
    not_wav = work / "out" / f"{UUID3}_{DATE}_voice.wav"
    not_wav.write_bytes(b"not a wav")
    files = sorted((work / "out").glob("*.wav"))
    result = invoke(runner, "upload", *map(str, files), "-m", "3", "--bucket", bucket)
    assert result.exit_code == 1
    assert sorted(result.stdout.splitlines()) == sorted(
        f"gs://{bucket}/{obj(uuid=u)}\t{gcs.url}/{bucket}/{obj(uuid=u)}" for u in (UUID, UUID2)
    )
    errors = result.stderr.splitlines()
    assert len(errors) == 3, result.stderr
    assert any(str(loose) in e and "give --uuid and --created-at" in e for e in errors)
    assert any(str(not_wav) in e and "not a wav" in e for e in errors)
    assert (
        errors[-1]
        == "forv-tts: error: 2 of 4 files were not uploaded (names above); their local files are kept"
    )
    assert gcs.objects(bucket) == {
        obj(uuid=u): p.read_bytes() for u, p in zip((UUID, UUID2), good, strict=True)
    }
    as_json = invoke(runner, "upload", *map(str, files), "-m", "3", "--bucket", bucket, "--json")
    assert as_json.exit_code == 1
    records = json.loads(as_json.stdout)
    assert len(records) == 4 and sum(1 for r in records if r.get("error")) == 2

"""The one-item runner: normalise → synthesise → write → upload, plain result or typed error."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import pytest

pytest.register_assert_rewrite("gcs_emulator")
from gcs_emulator import GcsEmulator  # noqa: E402

from forv_tts.config import SynthesisConfig  # noqa: E402
from forv_tts.errors import (  # noqa: E402
    ClipConflictError,
    InvalidInputError,
    NothingToSayError,
    ObjectExistsError,
    UnknownMemberError,
)
from forv_tts.jobs.item import Destination, UploadSpec, run_item  # noqa: E402

pytest_plugins = ["gcs_emulator"]

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"


def test_local_clip_under_the_team_naming(tmp_path: Path) -> None:
    result = run_item(
        "안녕하세요. 반갑습니다.",
        uuid=UUID.upper(),
        created_at="2022-08-22",
        destination=Destination(local_dir=tmp_path),
    )
    expected = tmp_path / "wav_files" / "builtin" / f"{UUID}_2022-08-22_voice.wav"
    assert result.path == str(expected) and result.uuid == UUID
    data = expected.read_bytes()
    assert result.sha256 == hashlib.sha256(data).hexdigest() and result.size == len(data)
    with wave.open(str(expected)) as w:
        assert w.getframerate() == result.sample_rate
        assert result.duration == pytest.approx(w.getnframes() / w.getframerate())
    assert len(result.sentences) == 2 and result.uri is None
    assert set(result.timings) >= {"check", "normalize", "load", "synthesize", "write", "total"}
    assert result.to_dict()["object"] == f"wav_files/builtin/{UUID}_2022-08-22_voice.wav"


def test_member_with_config_is_reproducible(tmp_path: Path, voice_dir: Path) -> None:
    def one(name: str) -> bytes:
        result = run_item(
            "오늘은 3월 25일입니다.",
            member="1",
            voice_dir=voice_dir,
            config=SynthesisConfig(seed=9),
            destination=Destination(path=tmp_path / name),
        )
        return Path(str(result.path)).read_bytes()

    assert one("a.wav") == one("b.wav")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"uuid": "../../etc"}, InvalidInputError),
        ({"created_at": "2022/01/01"}, InvalidInputError),
        ({"member": "../1"}, InvalidInputError),
        ({"member": "77"}, UnknownMemberError),
        ({"text": "🙂🙂"}, NothingToSayError),
    ],
)
def test_bad_requests_raise_before_writing(
    tmp_path: Path, voice_dir: Path, kwargs: dict, error: type
) -> None:
    text = kwargs.pop("text", "안녕")
    with pytest.raises(error):
        run_item(text, voice_dir=voice_dir, destination=Destination(local_dir=tmp_path), **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_upload_only_destination_leaves_no_local_file(
    gcs: GcsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    bucket = gcs.new_bucket()
    spec = UploadSpec(bucket=bucket, timeout=10)
    result = run_item(
        "안녕하세요", uuid=UUID, created_at="2022-08-22", destination=Destination(None, upload=spec)
    )
    assert result.path is None and result.uri == f"gs://{bucket}/{result.object_name}"
    assert gcs.objects(bucket)[result.object_name][:4] == b"RIFF"
    assert list(tmp_path.iterdir()) == []
    # Different bytes under the same name: a uuid names one clip, so it is refused before anything is
    # written here (a worker on another machine keeps no conflicting local copy), the object unchanged.
    before = gcs.objects(bucket)[result.object_name]
    with pytest.raises(ClipConflictError) as err:
        run_item(
            "반갑습니다", uuid=UUID, created_at="2022-08-22", destination=Destination(tmp_path, upload=spec)
        )
    assert err.value.code == "conflict" and err.value.fields["field"] == "uuid"
    assert err.value.fields["existing"] == f"gs://{bucket}/{result.object_name}"
    assert list(tmp_path.iterdir()) == [] and gcs.objects(bucket)[result.object_name] == before
    # The same request again: a success, the object unchanged ("unchanged": it kept its generation).
    again = run_item(
        "안녕하세요", uuid=UUID, created_at="2022-08-22", destination=Destination(tmp_path, upload=spec)
    )
    assert again.upload is not None and again.upload["status"] == "unchanged"


def test_an_upload_refused_after_the_write_keeps_the_local_clip(
    gcs: GcsEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object appears between the look and the upload (another writer): the precondition refuses
    it, the local clip is kept and described."""
    from forv_tts.storage import gcs as gcs_mod

    bucket = gcs.new_bucket()
    spec = UploadSpec(bucket=bucket, timeout=10)
    run_item("안녕하세요", uuid=UUID, created_at="2022-08-22", destination=Destination(None, upload=spec))
    monkeypatch.setattr(gcs_mod, "existing_md5", lambda *a, **k: None)  # the look saw nothing yet
    with pytest.raises(ObjectExistsError) as err:
        run_item(
            "반갑습니다", uuid=UUID, created_at="2022-08-22", destination=Destination(tmp_path, upload=spec)
        )
    kept = Path(err.value.fields["local_path"])
    assert kept.exists() and err.value.partial.sha256 == hashlib.sha256(kept.read_bytes()).hexdigest()  # type: ignore[attr-defined]


def test_a_uuid_names_one_clip_under_the_team_naming(tmp_path: Path, voice_dir: Path) -> None:
    def clip(text: str, created_at: str = "2022-08-22", **kw: object) -> Path:
        result = run_item(
            text, uuid=UUID, created_at=created_at, destination=Destination(local_dir=tmp_path), **kw
        )  # type: ignore[arg-type]
        return Path(str(result.path))

    first = clip("안녕하세요.")
    stat, data = first.stat(), first.read_bytes()
    # The same request again (a redelivered job, a rerun): a success, the file left as it is.
    assert clip("안녕하세요.") == first
    assert (first.stat().st_ino, first.stat().st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    # Another text under the uuid: refused after synthesis compared the bytes, the clip unchanged.
    with pytest.raises(ClipConflictError) as err:
        clip("다른 글입니다.")
    assert err.value.fields == {"field": "uuid", "uuid": UUID, "existing": str(first)}
    # Another date, format or member: refused before any work (the name says it is another request).
    for kwargs in ({"created_at": "2023-01-01"}, {"member": "1", "voice_dir": voice_dir}):
        with pytest.raises(ClipConflictError):
            clip("안녕하세요.", **kwargs)
    with pytest.raises(ClipConflictError):
        run_item(
            "안녕하세요.",
            uuid=UUID,
            created_at="2022-08-22",
            destination=Destination(local_dir=tmp_path, format="flac"),
        )
    assert first.read_bytes() == data
    assert [p.name for p in (tmp_path / "wav_files").rglob("*") if p.is_file()] == [first.name]
    # An explicit path is the caller's own file: replaced, as any CLI's -o does.
    mine = tmp_path / "mine.wav"
    run_item("안녕하세요.", destination=Destination(path=mine))
    run_item("다른 글입니다.", uuid=UUID, created_at="2022-08-22", destination=Destination(path=mine))
    assert mine.read_bytes() != data and first.read_bytes() == data


def test_a_member_clip_with_a_uuid_and_no_seed_is_the_same_clip_again(
    tmp_path: Path, voice_dir: Path
) -> None:
    """Seeds come from the uuid when none is given, so a rerun makes the same bytes (not a conflict)."""
    kwargs = {"member": "1", "voice_dir": voice_dir, "uuid": UUID, "created_at": "2022-08-22"}
    a = run_item("오늘은 3월 25일입니다.", destination=Destination(local_dir=tmp_path), **kwargs)  # type: ignore[arg-type]
    b = run_item("오늘은 3월 25일입니다.", destination=Destination(local_dir=tmp_path), **kwargs)  # type: ignore[arg-type]
    assert a.sha256 == b.sha256 and a.path == b.path


def test_upload_spec_checks_its_values() -> None:
    with pytest.raises(InvalidInputError):
        UploadSpec(bucket="../etc")
    with pytest.raises(InvalidInputError):
        UploadSpec(bucket="forv_bucket", timeout=0)
    with pytest.raises(InvalidInputError):
        Destination(local_dir=None)

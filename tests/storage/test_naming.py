"""Clip naming and validation of the values that end up in paths and object names."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from forv_tts.errors import InvalidInputError, UsageError
from forv_tts.storage import naming


def test_clip_name_is_the_team_layout() -> None:
    name = naming.clip_name("3", "022db29c-d0e2-11e5-bb4c-60f81dca7676", "2022-08-22")
    assert name == "wav_files/3/022db29c-d0e2-11e5-bb4c-60f81dca7676_2022-08-22_voice.wav"


def test_uuid_is_canonicalised() -> None:
    assert (
        naming.validate_uuid("022DB29C-D0E2-11E5-BB4C-60F81DCA7676") == "022db29c-d0e2-11e5-bb4c-60f81dca7676"
    )


def test_new_uuid_and_today() -> None:
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", naming.new_uuid()
    )
    assert naming.today() == dt.date.today().isoformat()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "../etc",
        "a/b",
        "not-a-uuid",
        "022db29c-d0e2-11e5-bb4c",
        "x\n",
        "022db29c/d0e2-11e5-bb4c-60f81dca7676",
    ],
)
def test_bad_uuids(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        naming.validate_uuid(bad)


@pytest.mark.parametrize("good", ["2022-08-22", "2024-02-29", "1999-12-31"])
def test_good_created_at(good: str) -> None:
    assert naming.validate_created_at(good) == good


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "..",
        "../x",
        "a/b",
        "a\\b",
        "2022-02-30",
        "a\x00b",
        "a b",
        ".hidden",
        "x" * 65,
        # Issue 14: only a real YYYY-MM-DD is a clip date (the name is a storage contract).
        "foo",
        "2022-8-22",
        "1.2.3",
        "20220822",
        "2022-08-22T10-11-12",
        "2023-02-29",
        "2022-08-22\n",
    ],
)
def test_bad_created_at(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD") as exc:
        naming.validate_created_at(bad)
    assert "\n" not in str(exc.value).replace("\\n", "")


@pytest.mark.parametrize("bad", ["", "..", "../1", "1/2", "1\t", "-1", "a" * 65])
def test_bad_member_ids(bad: str) -> None:
    with pytest.raises(UsageError):
        naming.validate_member_id(bad)


@pytest.mark.parametrize("good", ["1", "12", "builtin", "kim_3"])
def test_good_member_ids(good: str) -> None:
    assert naming.validate_member_id(good) == good


def test_clips_named_by_a_uuid_in_any_member_date_or_format(tmp_path: Path) -> None:
    from forv_tts.encoding import EXTENSIONS
    from forv_tts.storage.naming import CLIP_SUFFIXES, clips_named_by

    assert set(EXTENSIONS.values()) == CLIP_SUFFIXES  # every format a clip is written in
    uuid = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
    assert clips_named_by(tmp_path, uuid) == []
    made = [
        tmp_path / f"wav_files/1/{uuid}_2022-08-22_voice.wav",
        tmp_path / f"wav_files/builtin/{uuid}_2023-01-01_voice.mp3",
    ]
    others = [
        tmp_path / f"wav_files/1/{uuid}_2022-08-22_voice.srt",  # captions beside a clip
        tmp_path / f"wav_files/1/.{uuid}_2022-08-22_voice.wav.x1.part",  # a writer's temporary
        tmp_path / "wav_files/1/022db29c-d0e2-11e5-bb4c-60f81dca7677_2022-08-22_voice.wav",
    ]
    for path in made + others:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert clips_named_by(tmp_path, uuid.upper()) == sorted(made)

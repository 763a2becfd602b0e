"""Errors as data: stable codes, fields, pickling; the CLI's one table covers every code."""

from __future__ import annotations

import pickle

import pytest

from forv_tts import errors
from forv_tts.cli import errors as cli_errors


def test_every_code_is_distinct_per_meaning_and_in_the_cli_table() -> None:
    classes = errors.error_classes()
    codes = {cls.code for cls in classes}
    assert {
        "unknown_member",
        "nothing_to_say",
        "object_exists",
        "invalid_input",
        "voice_load_failed",
    } <= codes
    assert {"upload_failed", "no_text", "no_credentials", "interrupted", "batch_failed"} <= codes
    for code in codes:
        assert code in cli_errors.TABLE, code
    assert cli_errors.TABLE["usage"].exit_code == 2  # the CLI's own usage errors


@pytest.mark.parametrize(
    ("err", "exit_code"),
    [
        (errors.NothingToSayError("nothing speakable"), 2),
        (errors.UnknownMemberError("no member '9'", member="9"), 2),
        (errors.VoiceLoadError("corrupt"), 1),
        (errors.ObjectExistsError("exists"), 1),
        (errors.BatchInterruptedError("stopped"), 130),
        (errors.ForvError("anything"), 1),
    ],
)
def test_exit_codes_come_from_the_table(err: errors.ForvError, exit_code: int) -> None:
    assert cli_errors.exit_code(err) == exit_code


def test_fields_survive_pickling_and_to_dict_is_json_ready() -> None:
    err = errors.IncompleteMemberError("member '3' is incomplete", member="3", missing=["a", "b"])
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is errors.IncompleteMemberError
    assert back.message == err.message and back.fields == err.fields
    assert back.to_dict() == {
        "code": "incomplete_member",
        "message": "member '3' is incomplete",
        "member": "3",
        "missing": ["a", "b"],
    }


def test_a_bad_value_is_shown_under_its_option_on_the_cli() -> None:
    err = errors.InvalidInputError.bad_value("uuid", "../x", "give a UUID")
    assert str(err) == "invalid uuid '../x': give a UUID"  # library terms
    assert cli_errors.message(err) == "invalid --uuid '../x': give a UUID"
    scoped = errors.InvalidInputError.bad_value("created_at", "x/y", "bad", context="a.wav")
    assert cli_errors.message(scoped) == "a.wav: invalid --created-at 'x/y': bad"


def test_hints_go_before_the_kept_file_tail() -> None:
    err = errors.ObjectExistsError("gs://b/o exists; local file kept: /tmp/a.wav", local_path="/tmp/a.wav")
    assert (
        cli_errors.message(err)
        == "gs://b/o exists: pass --overwrite to replace it; local file kept: /tmp/a.wav"
    )
    assert cli_errors.message(errors.MissingBucketError("no bucket given")) == (
        "no bucket given: pass --bucket NAME or set FORV_TTS_BUCKET"
    )


def test_library_messages_name_no_cli_options() -> None:
    import forv_tts.config as config
    import forv_tts.storage.gcs as gcs
    import forv_tts.storage.naming as naming

    raisers = [
        lambda: naming.validate_uuid("nope"),
        lambda: naming.validate_created_at("2022/01/01"),
        lambda: naming.validate_member_id("../1"),
        lambda: config.SynthesisConfig(length_scale=0),
        lambda: gcs.check_timeout(0),
        lambda: gcs.parse_duration("9y"),
        lambda: gcs.validate_bucket("../etc"),
        lambda: gcs.resolve_bucket(""),
    ]
    for raise_it in raisers:
        with pytest.raises(errors.InvalidInputError) as err:
            raise_it()
        assert "--" not in str(err.value), str(err.value)

"""Errors as data: stable codes, fields, pickling; the library's exit-code table covers every code."""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from forv_tts import errors
from forv_tts.cli import errors as cli_errors


def test_every_code_is_distinct_per_meaning_and_in_the_exit_code_table() -> None:
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
        assert code in errors.EXIT_CODES, code
    assert errors.EXIT_CODES["usage"] == 2  # the CLI's own usage errors
    assert set(cli_errors.HINTS) <= set(errors.EXIT_CODES)  # hints only for codes the table knows


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
    assert errors.exit_code(err) == exit_code
    assert cli_errors.exit_code(err) == exit_code  # the CLI uses the library's table


def test_a_subclass_outside_the_library_inherits_its_parents_row() -> None:
    class Custom(errors.UploadError):
        code = "custom_upload"

    assert errors.exit_code(Custom("x")) == 1
    assert errors.exit_code(errors.BatchTerminatedError("stopped")) == 143


def test_no_library_module_imports_the_cli() -> None:
    package = Path(errors.__file__).parent
    for path in package.rglob("*.py"):
        if (package / "cli") in path.parents or path.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            assert not any(n == "forv_tts.cli" or n.startswith("forv_tts.cli.") for n in names), path


def test_batch_summary_exit_code_needs_no_cli(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from forv_tts.jobs.batch import BatchSummary\n"
        "s = BatchSummary(manifest=Path('m'), input='i', format='text', lines=2, jobs=1,"
        " threads_per_worker=1, ok=1, interrupted=True, terminated=True)\n"
        "cli = any(m.startswith('forv_tts.cli') for m in sys.modules)\n"
        "print(s.exit_code, s.to_dict()['exit_code'], cli)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.split() == ["143", "143", "False"], out.stdout + out.stderr


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

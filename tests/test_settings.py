"""Settings: the option, then the environment variable, then the default; one parsing rule for all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from forv_tts import settings
from forv_tts.errors import InvalidInputError


def test_option_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.VOICE_DIR.env, "/from/env")
    assert settings.voice_dir("/from/option") == Path("/from/option")


def test_env_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.VOICE_DIR.env, "/from/env")
    assert settings.voice_dir(None) == Path("/from/env")
    monkeypatch.setenv(settings.VOICE_DIR.env, "")
    assert settings.voice_dir(None) == Path("voice_model")
    monkeypatch.setenv(settings.VOICE_DIR.env, "   ")
    assert settings.voice_dir(None) == Path("voice_model")
    monkeypatch.delenv(settings.VOICE_DIR.env)
    assert settings.voice_dir() == Path("voice_model")


def test_cache_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(settings.CACHE_DIR.env, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert settings.cache_dir() == tmp_path / "forv-tts"
    monkeypatch.setenv(settings.CACHE_DIR.env, str(tmp_path / "c"))
    assert settings.cache_dir() == tmp_path / "c"


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False)]
)
def test_switches_share_one_rule(monkeypatch: pytest.MonkeyPatch, raw: str, value: bool) -> None:
    for setting in (settings.WEIGHT_CACHE, settings.PASSIVE_OPENMP, settings.LAZY_COERCION):
        monkeypatch.setenv(setting.env, raw)
        assert settings.switch(setting) is value


def test_malformed_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(settings.MAX_VOICES.env, "zero")
    with pytest.raises(InvalidInputError) as err:
        settings.max_loaded_voices()
    assert err.value.fields["field"] == "FORV_TTS_MAX_VOICES" and "FORV_TTS_MAX_VOICES" in str(err.value)
    monkeypatch.setenv(settings.MAX_VOICES.env, "3")
    assert settings.max_loaded_voices() == 3
    monkeypatch.setenv(settings.WEIGHT_CACHE.env, "maybe")
    assert settings.switch(settings.WEIGHT_CACHE) is True  # a malformed switch is its default


README = Path(__file__).parents[1] / "README.md"


def test_the_readme_tables_are_the_registry() -> None:
    readme = README.read_text(encoding="utf-8")
    tables = settings.readme_tables(readme)
    assert set(tables) == set(settings.GROUPS), "README lost a <!-- settings:GROUP --> marker"
    for group, table in tables.items():
        assert table == settings.markdown_table(group), (
            f"run: python -m forv_tts.settings README.md ({group})"
        )
    assert settings.with_tables(readme) == readme
    service = tables["service"]
    for name in ("FORV_TTS_BROKER_URL", "FORV_TTS_SERVICE_MAX_TEXT_CHARS", "FORV_TTS_REQUEST_TIMEOUT"):
        assert f"`{name}`" in service


def test_the_table_follows_the_registry_when_it_changes() -> None:
    """The drift check can fail: a table with a changed row is not the registry's."""
    readme = README.read_text(encoding="utf-8")
    drifted = readme.replace("Default: 600.", "Default: 60.")
    assert settings.readme_tables(drifted)["service"] != settings.markdown_table("service")
    assert settings.with_tables(drifted) == readme


#: FORV_TTS_ names in the docs that are not forv-tts settings: the container tests' and compose's own
#: (compose.yaml substitutes them; forv-tts never reads them).
_NOT_SETTINGS = {
    "FORV_TTS_CONTAINER_TESTS",
    "FORV_TTS_CONTAINER_TESTS_FULL",
    "FORV_TTS_FULL_BUILD_ARGS",
    "FORV_TTS_PODMAN_BUILD_ARGS",
    "FORV_TTS_PORT",
    "FORV_TTS_WORKER_CONCURRENCY",
}


def test_every_variable_the_docs_name_is_declared() -> None:
    import re

    declared = {name for s in settings.SETTINGS for name in (s.env, *s.aliases)}
    root = README.parent
    for doc in [README, *sorted((root / "docs").glob("*.md")), root / "compose.yaml", root / "Dockerfile"]:
        named = set(re.findall(r"FORV_TTS_[A-Z0-9_]*[A-Z0-9]", doc.read_text(encoding="utf-8")))
        unknown = named - declared - _NOT_SETTINGS
        assert not unknown, (doc.name, sorted(unknown))


def _reads_environment(tree: ast.AST) -> list[int]:
    """Lines that read `os.environ`/`os.getenv` (passing the whole mapping on, `**os.environ`, and
    writes, `os.environ[k] = v` / `setdefault`, are process plumbing, not reads of a setting)."""
    lines: list[int] = []
    parents: dict[ast.AST, ast.AST] = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "getenv":
            lines.append(node.lineno)
        if not (isinstance(node, ast.Attribute) and node.attr == "environ"):
            continue
        up = parents.get(node)
        if isinstance(up, ast.Subscript) and isinstance(up.ctx, ast.Store):
            continue
        if isinstance(up, ast.Attribute) and up.attr == "setdefault":
            continue
        if isinstance(up, ast.Dict) and node in up.values:  # {**os.environ, ...}
            continue
        lines.append(node.lineno)
    return sorted(lines)


def test_no_module_reads_the_environment_itself() -> None:
    package = Path(settings.__file__).parent
    found = {}
    for path in package.rglob("*.py"):
        if path == Path(settings.__file__):
            continue
        lines = _reads_environment(ast.parse(path.read_text(encoding="utf-8")))
        if lines:
            found[str(path.relative_to(package))] = lines
    assert not found, f"read these through forv_tts.settings: {found}"


def test_the_environment_check_can_fail() -> None:
    tree = ast.parse(
        "import os\nos.environ.get('A')\nos.getenv('B')\nx = os.environ['C']\n'D' in os.environ\n"
        "os.environ['E'] = '1'\nos.environ.setdefault('F', '1')\nenv = {**os.environ}\n"
    )
    assert _reads_environment(tree) == [2, 3, 4, 5]


def test_service_variables_resolve_by_the_one_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts.service.settings import resolve

    for s in settings.SETTINGS:
        for name in (s.env, *s.aliases):
            monkeypatch.delenv(name, raising=False)
    conf = resolve()
    assert (conf.time_limit_s, conf.max_deliveries, conf.upload_backoff_s, conf.max_text_chars) == (
        300.0,
        3,
        1.0,
        5000,
    )
    monkeypatch.setenv("FORV_TTS_JOB_TIME_LIMIT", " 12.5 ")
    monkeypatch.setenv("FORV_TTS_CORS_ORIGINS", "https://a.example, https://b.example,")
    monkeypatch.setenv("FORV_TTS_OUT_DIR", "~/clips")
    monkeypatch.setenv("FORV_TTS_UPLOAD_BACKOFF", "0")
    conf = resolve(max_deliveries=5)
    assert conf.time_limit_s == 12.5 and conf.max_deliveries == 5 and conf.upload_backoff_s == 0.0
    assert conf.cors_origins == ("https://a.example", "https://b.example")
    assert conf.out_dir == Path("~/clips").expanduser()
    monkeypatch.setenv("FORV_TTS_JOB_TIME_LIMIT", "  ")  # blank is unset, as for every setting
    assert resolve().time_limit_s == 300.0


@pytest.mark.parametrize(
    ("env", "raw"),
    [
        ("FORV_TTS_JOB_TIME_LIMIT", "soon"),
        ("FORV_TTS_JOB_TIME_LIMIT", "0"),
        ("FORV_TTS_MAX_DELIVERIES", "0"),
        ("FORV_TTS_UPLOAD_ATTEMPTS", "2.5"),
        ("FORV_TTS_UPLOAD_BACKOFF", "-1"),
        ("FORV_TTS_REQUEST_TIMEOUT", "inf"),
        ("FORV_TTS_SERVICE_MAX_TEXT_CHARS", "-3"),
        ("FORV_TTS_MAX_TEXT_CHARS", "lots"),  # the old name, read when the new one is unset
    ],
)
def test_a_bad_service_value_is_the_registrys_error(
    monkeypatch: pytest.MonkeyPatch, env: str, raw: str
) -> None:
    from forv_tts.service.settings import resolve

    monkeypatch.delenv("FORV_TTS_SERVICE_MAX_TEXT_CHARS", raising=False)
    monkeypatch.setenv(env, raw)
    with pytest.raises(InvalidInputError) as err:
        resolve()
    assert err.value.fields["field"] == env and err.value.fields["value"] == raw
    assert str(err.value).startswith(f"invalid {env} {raw!r}: "), str(err.value)


def test_the_service_text_cap_has_its_own_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts.service.settings import resolve
    from forv_tts.synthesis import max_text_chars

    monkeypatch.delenv("FORV_TTS_SERVICE_MAX_TEXT_CHARS", raising=False)
    monkeypatch.delenv("FORV_TTS_MAX_TEXT_CHARS", raising=False)
    assert (resolve().max_text_chars, max_text_chars()) == (5000, 20_000)
    monkeypatch.setenv("FORV_TTS_SERVICE_MAX_TEXT_CHARS", "800")
    assert (resolve().max_text_chars, max_text_chars()) == (800, 20_000)  # the library's cap is its own
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "300")
    assert (resolve().max_text_chars, max_text_chars()) == (800, 300)
    monkeypatch.delenv("FORV_TTS_SERVICE_MAX_TEXT_CHARS")
    assert resolve().max_text_chars == 300  # the old name still sets the service's cap
    monkeypatch.setenv("FORV_TTS_SERVICE_MAX_TEXT_CHARS", "0")
    assert resolve().max_text_chars == 0  # 0: no cap, as for the library (it was an error)
    assert resolve(max_text_chars=7).max_text_chars == 7  # the option wins
    with pytest.raises(InvalidInputError, match="--max-text"):
        resolve(max_text_chars=-1)  # an option goes through the same parser


def test_progress_interval_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts.cli.progress import progress_interval

    monkeypatch.delenv("FORV_TTS_PROGRESS_INTERVAL", raising=False)
    assert progress_interval() == 10.0 and progress_interval(5.0) == 5.0
    monkeypatch.setenv("FORV_TTS_PROGRESS_INTERVAL", "0.01")
    assert progress_interval() == 0.05
    monkeypatch.setenv("FORV_TTS_PROGRESS_INTERVAL", "often")
    with pytest.raises(InvalidInputError) as err:
        progress_interval()
    assert err.value.fields["field"] == "FORV_TTS_PROGRESS_INTERVAL"


def test_the_registry_imports_nothing_heavy() -> None:
    import subprocess
    import sys

    code = (
        "import sys, forv_tts.settings, forv_tts.service.settings\n"
        "heavy = {'torch', 'onnxruntime', 'numpy', 'fastapi', 'celery', 'typer', 'google.cloud'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_engine_resolves_option_then_variable_then_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts.voices.onnx import resolve_engine

    monkeypatch.delenv(settings.ENGINE.env, raising=False)
    assert resolve_engine() == "onnx"
    monkeypatch.setenv(settings.ENGINE.env, " Torch ")
    assert resolve_engine() == "torch"
    assert resolve_engine("onnx") == "onnx"
    monkeypatch.setenv(settings.ENGINE.env, "tensorrt")
    with pytest.raises(InvalidInputError, match="unknown engine 'tensorrt'"):
        resolve_engine()


def test_onnx_threads_come_from_the_setting_then_openmp(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts.voices.onnx.voice import _threads

    monkeypatch.delenv(settings.ONNX_THREADS.env, raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert _threads() == 0  # onnxruntime's own default
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert _threads() == 3
    monkeypatch.setenv(settings.ONNX_THREADS.env, "2")
    assert _threads() == 2
    monkeypatch.setenv(settings.ONNX_THREADS.env, "two")
    with pytest.raises(InvalidInputError) as err:
        _threads()
    assert err.value.fields["field"] == "FORV_TTS_ONNX_THREADS"

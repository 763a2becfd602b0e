"""Process-wide settings for the torch runtime, applied before torch is imported (idle OpenMP threads
that sleep, malloc that keeps freed memory, torch's Python meta kernels left for later, work forked off
beside the import), and a fast exit after.

Kept apart from `_compat` (which imports importlib.metadata) so the CLI can call it at start-up for free.
These are settings for a process that forv-tts owns (the CLI, batch workers); the library never applies
them behind an embedding application's back.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
import types
from collections.abc import Callable
from importlib.machinery import ModuleSpec, PathFinder
from typing import TYPE_CHECKING, Any, Generic, NoReturn, TypeVar, cast

if TYPE_CHECKING:
    from importlib.abc import Loader

log = logging.getLogger(__name__)
_T = TypeVar("_T")

#: torch's Python meta kernels (and, through their imports, torch._decomp, _prims and _refs).
DEFERRED_TORCH_MODULE = "torch._meta_registrations"
#: Set to 0 to import torch the ordinary way in forv-tts's own processes.
DEFER_ENV = "FORV_TTS_DEFER_TORCH_META"

#: glibc's `mallopt` parameters (malloc.h) and the values `reuse_freed_memory` sets.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)
TRIM_THRESHOLD = 256 * 1024 * 1024
#: Environment variables through which a user tunes glibc's malloc; if any is set, theirs wins.
_MALLOC_ENV = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")
_malloc_tuned: bool | None = None


def prefer_passive_openmp() -> None:
    """Make idle OpenMP threads sleep instead of spin, unless the user chose otherwise.

    libgomp reads OMP_WAIT_POLICY once, when torch is first imported, so this only acts before that.
    Spinning threads fight every other process for the cores: on a busy 2-core machine a cold
    `say --member` was 1.3-2x slower and a 2-thread batch run fell from 1.35 to 0.37 items/s
    (BENCHMARKS.md, bench/batch_bench.py). Output is unchanged.
    """
    if "torch" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def defer_torch_meta_kernels() -> bool:
    """Let `import torch` skip its Python meta kernels until something asks for them.

    Why: `import torch` runs `torch._meta_registrations`, which imports torch._decomp, _prims and
    _refs and registers ~1,000 Python kernels for the `meta` device and FakeTensor (torch.compile,
    torch.export). Eager CPU inference never dispatches to them, and they are ~0.4 s of a 1.5 s
    `import torch` on this machine, a sixth of a cold `say --member` (bench/notes.md). The module is
    still created, empty, where torch's `__init__` imports it. It runs for real, with all its
    registrations and before anything that could depend on it, the first time anything imports this
    module or a torch submodule torch's `__init__` did not (torch._dynamo, torch._decomp, ...; not the
    config `torch.load` reads), or reads one of its attributes. Until then, tensors on the `meta`
    device lack the Python-only meta kernels, and `torch.Generator()` refuses to run (torch 2.13 sets
    its metaclass in torch._prims): forv-tts makes no meta tensors and takes its generators from
    `new_generator`.

    Only for processes forv-tts owns (the CLI, batch workers), before torch is imported; does nothing
    after, or with FORV_TTS_DEFER_TORCH_META=0. Returns whether the deferral is armed.
    """
    if "torch" in sys.modules or os.environ.get(DEFER_ENV, "1") == "0":
        return False
    if not any(isinstance(finder, _DeferringFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _DeferringFinder())
    return True


def new_generator(seed: int) -> Any:
    """A CPU `torch.Generator` seeded with `seed`, without calling `torch.Generator()`.

    Why: with the meta kernels deferred, torch 2.13's `torch.Generator()` raises until torch._prims
    has run. A clone of the default generator's state, reseeded, is a generator of the same kind (the
    same stream as `torch.Generator().manual_seed(seed)`, tests/test_runtime.py) and leaves the global
    RNG untouched.
    """
    import torch

    return torch.default_generator.clone_state().manual_seed(seed)


def torch_meta_kernels_deferred() -> bool:
    """Whether torch's Python meta kernels are still waiting to be loaded in this process."""
    return isinstance(sys.modules.get(DEFERRED_TORCH_MODULE), _DeferredModule)


def load_torch_meta_kernels() -> None:
    """Run the deferred module now (a no-op when it already ran or was never deferred)."""
    module = sys.modules.get(DEFERRED_TORCH_MODULE)
    if isinstance(module, _DeferredModule):
        _load_deferred(module)


#: torch submodules that torch imports lazily on the inference path (`torch.load` reads its mmap
#: options from them) and that import nothing of torch's own beyond what `import torch` loaded.
_INDEPENDENT = frozenset({"torch.utils.serialization", "torch.utils.serialization.config"})
_load_lock = threading.RLock()


def _load_deferred(module: Any) -> None:
    """Run the deferred module's code in place, once, under a lock (two threads may ask at once)."""
    with _load_lock:
        if not isinstance(module, _DeferredModule):
            return
        spec: Any = module.__spec__
        real_loader = spec.loader_state
        # A plain module again before its code runs: that code imports this module back (torch._decomp).
        module.__class__ = types.ModuleType  # type: ignore[assignment]
        spec.loader = module.__loader__ = real_loader
        _remove_finder()
        log.debug("loading torch's Python meta kernels (%s)", spec.name)
        try:
            real_loader.exec_module(module)
        except BaseException:
            sys.modules.pop(spec.name, None)  # as a failed import leaves it: the next import retries
            raise


def _remove_finder() -> None:
    sys.meta_path[:] = [finder for finder in sys.meta_path if not isinstance(finder, _DeferringFinder)]


class _DeferredModule(types.ModuleType):
    """A module whose code has not run yet: reading any attribute it lacks runs it first."""

    def __getattr__(self, name: str) -> Any:
        _load_deferred(self)
        return getattr(self, name)


class _DeferredSpec(ModuleSpec):
    """A spec whose `_initializing` runs its module: every `import` of a module already in sys.modules
    reads it (CPython's import_ensure_initialized, importlib's _find_and_load)."""

    @property
    def _initializing(self) -> bool:
        module = sys.modules.get(self.name)
        if isinstance(module, _DeferredModule) and module.__spec__ is self:
            _load_deferred(module)
        return bool(self.__dict__.get("_initializing_now", False))

    @_initializing.setter
    def _initializing(self, value: bool) -> None:
        self.__dict__["_initializing_now"] = value


class _DeferringLoader:
    """Creates the deferred module as usual but leaves its code for later."""

    def create_module(self, spec: Any) -> None:
        return None

    def exec_module(self, module: Any) -> None:
        module.__class__ = _DeferredModule
        log.debug("importing torch without its Python meta kernels (%s runs on first use)", module.__name__)


def _torch_imported() -> bool:
    """Whether torch's `__init__` has finished (its spec stops `_initializing` when it has)."""
    torch = sys.modules.get("torch")
    return torch is not None and not getattr(getattr(torch, "__spec__", None), "_initializing", True)


class _LoadFirstLoader:
    """Imports a torch submodule after running the deferred module, as torch's own order would have.

    torch's modules import each other in cycles that only resolve in the order `import torch`
    establishes (torch._dynamo's first import reaches torch._prims through a module torch._prims
    needs back), so every torch submodule imported after torch waits for the deferred one.
    """

    def __init__(self, real_loader: Any) -> None:
        self.real_loader = real_loader
        self.loaded: Any = None
        self.loaded_spec: Any = None

    def create_module(self, spec: Any) -> Any:
        load_torch_meta_kernels()
        self.loaded = sys.modules.get(spec.name)
        if self.loaded is not None:
            self.loaded_spec = self.loaded.__spec__  # the import machinery is about to overwrite it
        return self.loaded  # the module that import just made; None if it did not (a fresh one)

    def exec_module(self, module: Any) -> None:
        if self.loaded is not None and module is self.loaded:
            module.__spec__ = self.loaded_spec
            return
        module.__spec__.loader = module.__loader__ = self.real_loader
        self.real_loader.exec_module(module)


class _DeferringFinder:
    """A `sys.meta_path` entry, removed once the deferred module runs (see `defer_torch_meta_kernels`)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != DEFERRED_TORCH_MODULE and (
            not name.startswith("torch.") or name in _INDEPENDENT or not _torch_imported()
        ):
            return None
        spec = PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return spec
        if name == DEFERRED_TORCH_MODULE:
            spec.loader_state = spec.loader
            spec.loader = cast("Loader", _DeferringLoader())
            spec.__class__ = _DeferredSpec
        elif torch_meta_kernels_deferred():
            spec.loader = cast("Loader", _LoadFirstLoader(spec.loader))
        return spec


class ForkedCall(Generic[_T]):
    """A call running in a forked child: `result()` waits for its value (None if the child failed)."""

    def __init__(self, pid: int, read_fd: int) -> None:
        self.pid = pid
        self._read_fd = read_fd
        self._done = False
        self._value: _T | None = None

    def result(self) -> _T | None:
        """The call's value, with the log records it emitted re-emitted here; None on any failure.

        None means "do the work yourself": the child swallowed its exception, so the caller's own run
        raises it, typed, with a real traceback, and logs its warnings once.
        """
        if self._done:
            return self._value
        self._done = True
        chunks = []
        with os.fdopen(self._read_fd, "rb") as pipe:
            while chunk := pipe.read(1 << 16):
                chunks.append(chunk)
        _, status = os.waitpid(self.pid, 0)
        if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0 or not chunks:
            log.debug("forked call failed (status %#x); running it here", status)
            return None
        import pickle

        value, records = pickle.loads(b"".join(chunks))  # our own child's bytes, nobody else's
        for name, level, message in records:
            logging.getLogger(name).log(level, "%s", message)
        self._value = value
        return value


def fork_call(fn: Callable[[], _T]) -> ForkedCall[_T] | None:
    """Run `fn()` in a forked child while this process goes on; None where that is not safe here.

    Why: a cold `say --member` spends 1-2 s in `import torch` on one core while the other idles; the
    text's normalisation (g2pk's import and ~650 regular expressions compiled on first use, 0.1-0.2 s)
    can run there meanwhile. Forking is only done on Linux, from a process with no other Python
    thread, before torch is imported (torch's thread pools do not survive a fork). The child writes
    to stderr only (its stdout is the parent's data channel), hands its log records to the parent
    instead of printing them, and leaves through `os._exit` (no atexit handlers, no flushing of
    buffers it shares with the parent).
    """
    if (
        not sys.platform.startswith("linux")
        or not hasattr(os, "fork")
        or "torch" in sys.modules
        or threading.active_count() > 1
    ):
        return None
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        log.debug("cannot fork (%s); running the call here", exc)
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # the child: nothing it does may escape this block
        code = 1
        try:
            os.close(read_fd)
            os.dup2(2, 1)
            sys.stdout = sys.stderr  # not flushed: its buffer may hold the parent's unwritten output
            records: list[tuple[str, int, str]] = []

            class Capture(logging.Handler):
                def emit(self, record: logging.LogRecord) -> None:
                    records.append((record.name, record.levelno, record.getMessage()))

            logging.root.handlers[:] = [Capture()]
            value = fn()
            import pickle

            data = pickle.dumps((value, records))
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(data)
            code = 0
        except BaseException:
            pass  # the parent redoes the call, and reports the error with its own traceback
        finally:
            with contextlib.suppress(BaseException):
                sys.stderr.flush()
            os._exit(code)
    os.close(write_fd)
    return ForkedCall(pid, read_fd)


def reuse_freed_memory() -> bool:
    """Let glibc's malloc keep freed memory for the next allocation instead of handing it back at once.

    Why: a synthesis allocates and frees hundreds of activation buffers of a few MB. With glibc's
    defaults each one above the (adaptive) mmap threshold is a fresh `mmap`, and free space at the top
    of the heap is trimmed, so every call faults in tens of thousands of new zeroed pages: 10-75 k page
    faults per sentence on this machine, and ~0.8 s of system time in a cold `say --member`. Serving
    blocks up to 32 MB from the heap and trimming only above 256 MB cut that to 2-4 k faults per
    sentence: a cold `say --member` faulted 117 k pages instead of 170 k and ran ~0.15 s sooner (median
    of 8 interleaved pairs), a 60-line batch spent 1.3-1.6 s of system time instead of 2.3-3.2 s
    (bench/notes.md). PyTorch's CPU tuning guide gets the same effect by preloading jemalloc or
    tcmalloc; this needs no other allocator and no re-exec. The cost is memory a process has freed
    staying mapped to it, bounded by that process's own peak (a loaded member: ~390 MB, not ~365 MB).

    Applied once per process, only with glibc, and not when the user tuned malloc through
    `MALLOC_*_` variables or `GLIBC_TUNABLES`. Returns whether the settings are in effect.
    """
    global _malloc_tuned
    if _malloc_tuned is not None:
        return _malloc_tuned
    _malloc_tuned = False
    if any(name in os.environ for name in _MALLOC_ENV) or "glibc.malloc." in os.environ.get(
        "GLIBC_TUNABLES", ""
    ):
        log.debug("malloc left as the environment configures it")
        return False
    try:
        libc_name = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        libc_name = ""
    if not libc_name.startswith("glibc"):
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    # Setting either turns off glibc's adaptive thresholds; mallopt returns 1 on success.
    _malloc_tuned = (
        mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    )
    log.debug("malloc keeps freed memory for reuse: %s", _malloc_tuned)
    return _malloc_tuned


def exit_without_teardown(code: int) -> NoReturn:
    """End the process like `sys.exit(code)`, minus the interpreter's teardown, when torch is loaded.

    Why: with torch imported, CPython's finalisation (tearing down ~1,000 modules and torch's C++
    state, all of which the OS reclaims anyway) takes 0.4 s on this machine: 13% of a cold
    `say --member` (BENCHMARKS.md). What a normal exit does that matters is done here too: the
    `atexit` handlers run (logging's flush, tempfile cleanup), then stdout and stderr are flushed; a
    reader that went away turns success into exit code 1, as elsewhere. Falls back to a normal exit
    when torch was never imported (nothing to gain) or another non-daemon thread is still running (a
    normal exit would wait for it).
    """
    main = threading.main_thread()
    others_running = any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main)
    if (
        "torch" not in sys.modules
        or threading.current_thread() is not main
        or others_running
        or not hasattr(atexit, "_run_exitfuncs")
    ):
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None and not stream.closed:
                stream.flush()
        except (OSError, ValueError):
            code = code or 1
    os._exit(code)

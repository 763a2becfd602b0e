"""The exit that skips torch's teardown, and malloc keeping freed memory for reuse.

(Passive OpenMP is tested through the CLI in test_perf_equivalence.py.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _python(
    code: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run `code` in a fresh interpreter, without this box's OpenMP, stdio and malloc settings."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OMP_WAIT_POLICY", "PYTHONUNBUFFERED", "GLIBC_TUNABLES") and not k.startswith("MALLOC_")
    }
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        cwd=tmp_path,
        env={**clean, **(env or {})},
        timeout=120,
    )


@pytest.mark.parametrize("code", [0, 3])
def test_fast_exit_keeps_code_output_and_atexit(tmp_path: Path, code: int) -> None:
    r = _python(
        f"""
        import atexit, sys
        import torch
        from forv_tts._process.runtime import exit_without_teardown
        atexit.register(lambda: open("atexit-ran", "w").close())
        sys.stdout.write("x" * 1000)  # stays in the pipe buffer: only a flush delivers it
        sys.stderr.write("last words")
        exit_without_teardown({code})
        raise AssertionError("not reached")
        """,
        tmp_path,
    )
    assert r.returncode == code, r.stderr
    assert r.stdout == b"x" * 1000
    assert r.stderr == b"last words"
    assert (tmp_path / "atexit-ran").exists()


def test_fast_exit_waits_like_a_normal_exit_for_other_threads(tmp_path: Path) -> None:
    r = _python(
        """
        import threading, time
        import torch
        from forv_tts._process.runtime import exit_without_teardown
        def work():
            time.sleep(0.5)
            open("thread-finished", "w").close()
        threading.Thread(target=work).start()
        exit_without_teardown(0)
        """,
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "thread-finished").exists()


def test_without_torch_it_is_sys_exit(tmp_path: Path) -> None:
    r = _python(
        """
        import sys
        from forv_tts._process.runtime import exit_without_teardown
        try:
            exit_without_teardown(4)
        except SystemExit as e:
            print("SystemExit", e.code, "torch" in sys.modules)
        """,
        tmp_path,
    )
    assert r.stdout.split() == [b"SystemExit", b"4", b"False"]


# --- reuse_freed_memory ------------------------------------------------------------------------------

# Prints whether the setting was applied and whether a fresh 24 MB malloc comes from the brk heap (glibc
# serves blocks above its mmap threshold, 128 KB in a fresh process, from a separate mmap instead).
_HEAP_PROBE = """
    import ctypes, sys
    from forv_tts._process import runtime
    applied = [runtime.reuse_freed_memory() for _ in range(2)] if sys.argv[1:] != ["skip"] else [False]
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    ptr = libc.malloc(24 * 1024 * 1024)
    heap = [line.split()[0] for line in open("/proc/self/maps") if line.rstrip().endswith("[heap]")]
    lo, hi = (int(x, 16) for x in heap[0].split("-"))
    print(applied, lo <= ptr < hi)
"""


def _heap_probe(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> str:
    r = _python(_HEAP_PROBE, tmp_path, *args, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.decode().strip()


glibc_only = pytest.mark.skipif(
    not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"), reason="glibc's mallopt"
)


@glibc_only
def test_reuse_freed_memory_serves_large_blocks_from_the_heap(tmp_path: Path) -> None:
    assert _heap_probe(tmp_path, "skip") == "[False] False"  # glibc's default: a separate mmap
    assert _heap_probe(tmp_path) == "[True, True] True"  # applied once, then reported as applied


@glibc_only
@pytest.mark.parametrize(
    "env",
    [
        {"MALLOC_TRIM_THRESHOLD_": "131072"},
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"},
    ],
)
def test_reuse_freed_memory_leaves_a_users_malloc_settings_alone(tmp_path: Path, env: dict[str, str]) -> None:
    assert _heap_probe(tmp_path, env=env) == "[False, False] False"


def test_reuse_freed_memory_does_nothing_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts._process import runtime

    monkeypatch.setattr(runtime, "_malloc_tuned", None)
    monkeypatch.setattr(os, "confstr", lambda name: None)  # what musl/macOS builds answer
    for name in runtime._MALLOC_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    assert runtime.reuse_freed_memory() is False


def test_say_applies_it_before_synthesising(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from forv_tts import cli
    from forv_tts import synthesis as pipeline
    from forv_tts.cli import say as cli_say

    calls: list[str] = []
    monkeypatch.setattr(cli_say, "reuse_freed_memory", lambda: calls.append("malloc") or True)
    real_say = pipeline.say

    def spy_say(*args: object, **kwargs: object) -> object:
        calls.append("say")
        return real_say(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "say", spy_say)
    result = CliRunner().invoke(cli.app, ["say", "안녕하세요", "-o", str(tmp_path / "a.wav")])
    assert result.exit_code == 0, result.output
    assert calls == ["malloc", "say"]


# --- torch's Python meta kernels, deferred -----------------------------------------------------------

# Arms the deferral, imports torch and checks what it left out; the test's code runs after it.
_DEFERRED = """
    import sys
    from forv_tts._process import runtime
    assert runtime.defer_torch_meta_kernels()
    import torch
    import torch.nn.functional as F
    assert runtime.torch_meta_kernels_deferred(), "armed, yet torch ran its meta kernels"
    assert "torch._decomp" not in sys.modules and "torch._prims" not in sys.modules

    def meta_kernel_works():
        # index_select has only a Python meta kernel (torch._meta_registrations) in torch 2.13.
        table, ids = torch.empty(4, 3, device="meta"), torch.zeros(2, dtype=torch.long, device="meta")
        try:
            return F.embedding(ids, table).shape == (2, 3)
        except NotImplementedError:
            return False
"""


def _deferred(code: str, tmp_path: Path) -> list[str]:
    env = {"FORV_TTS_DEFER_TORCH_META": "1"}
    r = _python(textwrap.dedent(_DEFERRED) + textwrap.dedent(code), tmp_path, env=env)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    return r.stdout.decode().split()


def test_deferred_meta_kernels_are_left_out_and_generators_still_work(tmp_path: Path) -> None:
    import torch

    from forv_tts._process.runtime import new_generator

    out = _deferred(
        """
        print(meta_kernel_works())
        print(",".join(repr(x) for x in torch.randn(6, generator=runtime.new_generator(1234)).tolist()))
        print(runtime.torch_meta_kernels_deferred())
        """,
        tmp_path,
    )
    expected = torch.randn(6, generator=torch.Generator().manual_seed(1234)).tolist()
    assert out[0] == "False"  # the thing deferred really is missing until first use
    assert out[1] == ",".join(repr(x) for x in expected)  # same stream as torch.Generator().manual_seed
    assert out[2] == "True"  # drawing numbers does not load them
    before = torch.randn(3, generator=torch.default_generator.clone_state())
    new_generator(99).manual_seed(5)
    assert torch.equal(torch.randn(3), before)  # the global RNG is untouched


@pytest.mark.parametrize(
    "first_use",
    [
        "import torch._meta_registrations",
        "from torch._meta_registrations import meta_index_Tensor",
        "torch._meta_registrations.meta_index_Tensor",
        "import torch._decomp",
        "import torch._refs",
        "import torch._prims",
        "import torch._dynamo",  # reaches torch._prims through a module torch._prims needs back
        "import torch._inductor.config",
        "runtime.load_torch_meta_kernels()",
    ],
)
def test_first_use_runs_them_in_torchs_order(tmp_path: Path, first_use: str) -> None:
    out = _deferred(
        f"""
        {first_use}
        print(runtime.torch_meta_kernels_deferred(), meta_kernel_works())
        torch.Generator().manual_seed(1)  # torch._prims has set its metaclass
        from torch._decomp import core_aten_decompositions
        print(len(core_aten_decompositions()) > 100, runtime.DEFERRED_TORCH_MODULE in str(sys.meta_path))
        """,
        tmp_path,
    )
    assert out == ["False", "True", "True", "False"]


def test_deferral_is_off_once_torch_is_imported_or_when_told(tmp_path: Path) -> None:
    r = _python(
        """
        import os, sys
        from forv_tts._process import runtime
        os.environ["FORV_TTS_DEFER_TORCH_META"] = "0"
        told_off = runtime.defer_torch_meta_kernels()
        del os.environ["FORV_TTS_DEFER_TORCH_META"]
        import torch
        print(told_off, runtime.defer_torch_meta_kernels(), runtime.torch_meta_kernels_deferred())
        print(type(sys.modules[runtime.DEFERRED_TORCH_MODULE]).__name__, "torch._decomp" in sys.modules)
        """,
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [b"False", b"False", b"False", b"module", b"True"]


# --- fork_call: work done in a forked child while this process goes on -------------------------------

_FORK = """
    import logging, os, sys, threading, time
    from forv_tts._process import runtime
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")

    def work():
        print("stray print from the child")  # must not reach stdout, the parent's data channel
        logging.getLogger("forv_tts.x").warning("said in the child %d", 7)
        return {"pid": os.getpid()}

    def broken():
        logging.getLogger("forv_tts.x").warning("said before failing")
        raise ValueError("boom")
"""


def _fork(code: str, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    r = _python(textwrap.dedent(_FORK) + textwrap.dedent(code), tmp_path)
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    return r


def test_fork_call_runs_in_a_child_and_hands_back_value_and_log_records(tmp_path: Path) -> None:
    r = _fork(
        """
        pending = runtime.fork_call(work)
        value = pending.result()
        print("child" if value["pid"] not in (os.getpid(), None) else "same", pending.result() is value)
        """,
        tmp_path,
    )
    assert r.stdout.split() == [b"child", b"True"]
    err = r.stderr.decode()
    assert "stray print from the child" in err  # the child's stdout went to stderr
    assert err.count("forv_tts.x WARNING said in the child 7") == 1  # re-emitted once, by the parent


def test_fork_call_failure_is_none_and_silent(tmp_path: Path) -> None:
    r = _fork("print(runtime.fork_call(broken).result())", tmp_path)
    assert r.stdout.split() == [b"None"]
    assert b"said before failing" not in r.stderr and b"boom" not in r.stderr  # the caller redoes it


@pytest.mark.parametrize(
    "setup",
    [
        "import torch",  # torch's thread pools do not survive a fork
        "threading.Thread(target=time.sleep, args=(2,), daemon=True).start()",
    ],
)
def test_fork_call_refuses_where_forking_is_not_safe(tmp_path: Path, setup: str) -> None:
    r = _fork(f"{setup}\nprint(runtime.fork_call(work))", tmp_path)
    assert r.stdout.split() == [b"None"]

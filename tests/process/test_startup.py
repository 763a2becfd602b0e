"""The process settings of forv_tts._process.startup, each in a fresh interpreter (they act on the
process: its environment before torch is imported). The CLI's own use is in test_perf_equivalence.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

_CODE = """
    import json, os, sys
    {before}
    from forv_tts._process import startup
    startup.before_torch_import()
    print(json.dumps([os.environ.get("OMP_WAIT_POLICY"), startup.report().get("passive_openmp")]))
"""


def _run(env: dict[str, str], before: str = "") -> list[str | None]:
    clean = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "FORV_TTS_PASSIVE_OPENMP")}
    code = textwrap.dedent(_CODE.format(before=before))
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**clean, **env}, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return list(json.loads(proc.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ["PASSIVE", "armed"]),
        ({"OMP_WAIT_POLICY": "ACTIVE"}, ["ACTIVE", "armed"]),  # the user's choice wins
        ({"FORV_TTS_PASSIVE_OPENMP": "0"}, [None, "off (FORV_TTS_PASSIVE_OPENMP)"]),
    ],
)
def test_passive_openmp(env: dict[str, str], expected: list[str | None]) -> None:
    assert _run(env) == expected


def test_passive_openmp_does_nothing_once_torch_is_imported() -> None:
    # libgomp has read OMP_WAIT_POLICY by then: setting it would only mislead whoever reads it.
    assert _run({}, before="import torch") == [None, None]


def test_the_cli_leaves_no_import_hook_and_no_torch() -> None:
    """What the removed tricks used to leave in a CLI process: an entry on sys.meta_path (the deferred
    meta kernels) and torch imported early; now the CLI's start adds neither."""
    code = textwrap.dedent(
        """
        import sys
        before = list(sys.meta_path)
        sys.argv = ["forv-tts", "--version"]
        from forv_tts.cli import main
        try:
            main()
        except SystemExit:
            pass
        from forv_tts._process import startup
        print(sys.meta_path == before, "torch" in sys.modules, sorted(startup.report()))
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "True False ['lazy_coercion', 'passive_openmp']"


@pytest.mark.parametrize(
    ("engine", "expected"),
    [("onnx", "onnx 2 torch-absent"), ("torch", "torch None 2")],
)
def test_worker_threads_are_sized_for_the_engine_without_importing_torch_for_onnx(
    engine: str, expected: str
) -> None:
    """Batch and service workers size their pools through one call: with the ONNX engine it must not
    import torch (220 MB and a second of a worker's start), with torch it sizes torch's pools."""
    code = textwrap.dedent(
        """
        import os, sys
        from forv_tts._process import startup
        startup.size_synthesis_threads(2)
        startup.size_synthesis_threads(5)  # once per process: the first count stays
        from forv_tts.voices.onnx import resolve_engine
        got = sys.modules["torch"].get_num_threads() if "torch" in sys.modules else "torch-absent"
        print(resolve_engine(), os.environ.get("FORV_TTS_ONNX_THREADS"), got)
        """
    )
    env = {k: v for k, v in os.environ.items() if k != "FORV_TTS_ONNX_THREADS"}
    env["FORV_TTS_ENGINE"] = engine
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == expected


def test_graph_pages_are_handed_back_only_where_asked_switched_on_and_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from forv_tts._process import startup

    monkeypatch.delenv("FORV_TTS_RELEASE_GRAPH_PAGES", raising=False)
    monkeypatch.setattr(startup, "_release_pages_asked", False)
    monkeypatch.setattr(startup, "_state", {})
    assert not startup.release_graph_pages("1.32.0")  # a library user's process: never
    startup.arm_release_graph_pages()  # what `forv-tts say` does
    assert startup.release_graph_pages("1.32.0")
    assert startup.report()["release_graph_pages"] == "armed"
    assert not startup.release_graph_pages("1.33.1")
    assert startup.report()["release_graph_pages"] == "disarmed (onnxruntime 1.33.1, measured on 1.32.*)"
    assert not startup.release_graph_pages(None)
    monkeypatch.setenv("FORV_TTS_RELEASE_GRAPH_PAGES", "0")
    assert not startup.release_graph_pages("1.32.0")
    assert startup.report()["release_graph_pages"] == "off (FORV_TTS_RELEASE_GRAPH_PAGES)"


def test_quick_exit_is_asked_for_by_say_only_and_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from forv_tts._process import startup

    monkeypatch.delenv("FORV_TTS_QUICK_EXIT", raising=False)
    monkeypatch.setattr(startup, "_quick_exit_asked", False)
    monkeypatch.setattr(startup, "_state", {})
    startup.quick_exit(0)  # not armed (a library user's process, any other command): returns
    assert "quick_exit" not in startup.report()
    startup.arm_quick_exit()  # what `forv-tts say` does
    assert startup.report()["quick_exit"] == "armed"
    for code in (1, 2, 130, "message"):  # failures keep the normal exit: returns
        startup.quick_exit(code)
    monkeypatch.setenv("FORV_TTS_QUICK_EXIT", "0")
    startup.arm_quick_exit()
    assert startup.report()["quick_exit"] == "off (FORV_TTS_QUICK_EXIT)"
    startup.quick_exit(0)  # switched off: returns


@pytest.mark.parametrize(
    ("before", "expected"),
    [
        ("", "atexit ran\n"),  # the quick exit: atexit handlers run, nothing after main() does
        ("sys.settrace(lambda *a: None)", "returned 0\natexit ran\n"),  # a tracer: the normal exit
        ("threading.Thread(target=main_off_thread).start()", "off thread returned 0\natexit ran\n"),
    ],
    ids=["main", "traced", "thread"],
)
def test_quick_exit_needs_the_main_thread_and_no_tracer(before: str, expected: str) -> None:
    code = textwrap.dedent(
        """
        import atexit, sys, threading
        from forv_tts._process import startup
        atexit.register(lambda: print("atexit ran", flush=True))
        startup.arm_quick_exit()

        def main_off_thread():
            startup.quick_exit(0)
            print("off thread returned 0", flush=True)

        {before}
        if "main_off_thread" not in {before!r}:
            startup.quick_exit(0)
            print("returned 0", flush=True)
        """
    ).format(before=before)
    env = {k: v for k, v in os.environ.items() if k != "FORV_TTS_QUICK_EXIT"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == expected

"""The API's own checks and first moments, through real `serve` processes: `/readyz` with a read-only
--out-dir (a real read-only tmpfs), and a fresh API process whose first requests arrive all at once
(the Celery app's first use from several threads raised ImportError)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit import http_json, service, wait_until


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    ro = tmp_path / "ro"
    ro.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(ro)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a read-only tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield ro
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)


def test_readyz_is_not_ready_with_a_read_only_out_dir(tmp_path: Path, read_only_dir: Path) -> None:
    env = {"FORV_TTS_STATE_DIR": str(tmp_path / "state")}
    with service(read_only_dir, ["--workers", "1"], env, readiness="/healthz", cwd=tmp_path) as svc:
        # Once everything else is ready (broker, store, a live worker serving the built-in voice), the
        # read-only out-dir alone keeps it not ready: before, /readyz then said ready.
        def others_ready() -> tuple[int, dict[str, Any]] | None:
            status, body = http_json(f"{svc.url}/readyz", timeout=10)
            ok = body.get("broker") and body.get("result_backend") and body.get("builtin_served")
            return (status, body) if ok and body.get("workers", 0) >= 1 else None

        found = wait_until(lambda: others_ready() is not None, 90, 0.5)
        assert found, (http_json(f"{svc.url}/readyz", timeout=10), svc.proc.tail())
        status, body = others_ready() or (0, {})
        assert status == 503 and body["ready"] is False, body
        assert body["out_dir_writable"] is False, body


@pytest.mark.parametrize("round_", range(4))  # each a fresh API: the race hit about half of them here
def test_a_fresh_api_takes_concurrent_first_requests(tmp_path: Path, round_: int) -> None:
    with service(tmp_path / str(round_), ["--workers", "0"], readiness="/healthz") as svc:

        def queue(i: int) -> int:
            r = httpx.post(f"{svc.url}/v1/jobs", json={"text": f"첫 요청 {i}"}, timeout=60)
            return r.status_code

        with ThreadPoolExecutor(12) as pool:
            statuses = list(pool.map(queue, range(12)))
        assert statuses == [202] * 12, (statuses, svc.proc.tail())
        assert "ImportError" not in svc.proc.tail(20000)

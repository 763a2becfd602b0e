"""What anyone who reaches the port can send, against a real `forv-tts serve` over real sockets: slow
heads, floods of connections, oversized and trickled bodies, hostile text, and errors in the service's
shape (`forv_tts.service.guard`).

The services here run with `--workers 0` (nothing synthesises): every case is answered by the API process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from gcs_emulator import free_port
from servicekit import Proc, alive, descendants, env_for, start_cli, wait_until


@contextlib.contextmanager
def api(
    tmp: Path, args: list[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[tuple[Proc, int]]:
    """`serve --workers 0`, waited for until it answers at all (it need not be ready)."""
    port = free_port()
    proc = start_cli(
        [
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--out-dir",
            str(tmp),
            "--workers",
            "0",
            *(args or []),
        ],
        tmp,
        env_for(env),
        "serve.log",
    )

    def answers() -> bool:
        if proc.process.poll() is not None:
            return True
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    try:
        assert wait_until(answers, 60, 0.1) and proc.process.poll() is None, proc.tail()
        yield proc, port
    finally:
        tree = descendants(proc.pid)
        proc.stop()
        for pid in tree:
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, 9)


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def post(port: int, path: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", path, body=body, headers={"content-type": "application/json", **(headers or {})})
        r = conn.getresponse()
        return r.status, json.loads(r.read() or b"{}")
    finally:
        conn.close()


def get(port: int, path: str, method: str = "GET") -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


LIMITS = {
    "FORV_TTS_MAX_CONNECTIONS": "60",
    "FORV_TTS_HTTP_READ_TIMEOUT": "2",
    "FORV_TTS_MAX_BODY_BYTES": "65536",
}


def test_slow_heads_are_closed_and_a_flood_stays_bounded(tmp_path: Path) -> None:
    with api(tmp_path, env=LIMITS) as (proc, port):
        assert get(port, "/healthz")[0] == 200
        before_fds = fds(proc.pid)
        before_log = proc.log.stat().st_size
        socks: list[socket.socket] = []
        try:
            for _ in range(600):  # ten times the connection limit
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\n")  # a head that never ends
                socks.append(s)
            peak = fds(proc.pid)
            for _ in range(4):  # trickle: data on the socket must not keep a connection alive
                time.sleep(0.5)
                for s in socks:
                    with contextlib.suppress(OSError):
                        s.sendall(b"X")
                peak = max(peak, fds(proc.pid))
            # The 60 allowed, plus refused ones between their accept and their close (asyncio accepts up
            # to the backlog, 64 here, per loop iteration and closes them on the next ones).
            assert peak <= before_fds + 60 + 3 * 64 + 10 < before_fds + 600, (before_fds, peak)

            def closed(s: socket.socket) -> bool:
                s.settimeout(8)
                try:
                    while data := s.recv(4096):
                        assert data.startswith(b"HTTP/1.1 503") and b"too_many_connections" in data
                    return True
                except (ConnectionResetError, BrokenPipeError):
                    return True
                except TimeoutError:
                    return False

            assert all(closed(s) for s in socks)  # every one closed by the server, none left hanging
        finally:
            for s in socks:
                s.close()
        assert wait_until(lambda: fds(proc.pid) <= before_fds + 5, 10), (before_fds, fds(proc.pid))
        assert get(port, "/healthz")[0] == 200  # and it still serves
        assert proc.log.stat().st_size - before_log < 4000, proc.tail()  # a few rate-limited lines


def test_body_limits(tmp_path: Path) -> None:
    with api(tmp_path, env=LIMITS) as (_proc, port):
        big = json.dumps({"input": "가" * 40_000, "voice": "builtin"}).encode()
        status, body = post(port, "/v1/audio/speech", big)
        assert status == 413 and body["error"]["code"] == "body_too_large", body
        assert "65536" in body["error"]["message"]
        # Chunked (no Content-Length): refused once it passes the limit, not buffered whole.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("POST", "/v1/audio/speech")
        conn.putheader("content-type", "application/json")
        conn.putheader("transfer-encoding", "chunked")
        conn.endheaders()
        with contextlib.suppress(OSError):
            for _ in range(40):
                piece = b"a" * 4096
                conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
        r = conn.getresponse()
        assert r.status == 413 and json.loads(r.read())["error"]["code"] == "body_too_large"
        conn.close()
        # A body that stops arriving: 408 after the read timeout, not a connection held forever.
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        head = b"POST /v1/normalize HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
        s.sendall(head + b"content-length: 100\r\n\r\n{")
        t0 = time.monotonic()
        answer = b""
        while data := s.recv(4096):
            answer += data
        assert answer.startswith(b"HTTP/1.1 408") and b"request_timeout" in answer, answer
        assert time.monotonic() - t0 < 6
        s.close()


def test_every_error_is_in_the_service_shape(tmp_path: Path) -> None:
    with api(tmp_path, env=LIMITS) as (_proc, port):
        status, body = get(port, "/no/such/route")
        assert status == 404 and body["error"]["code"] == "not_found" and "detail" not in body
        status, body = get(port, "/healthz", method="DELETE")
        assert status == 405 and body["error"]["code"] == "method_not_allowed", body
        assert get(port, "/healthz", method="HEAD")[0] == 200
        status, body = post(port, "/v1/audio/speech", b'{"input": "\xff\xfe", "voice": "builtin"}')
        assert status == 400 and body["error"]["code"] == "invalid_json", body
        status, body = post(port, "/v1/audio/speech", b'{"input": "\\ud800", "voice": "builtin"}')
        assert status == 422 and body["error"]["field"] == "input" and "surrogate" in body["error"]["message"]
        status, body = post(port, "/v1/jobs", b'{"text": "\\udc00abc"}')
        assert status == 422 and body["error"]["field"] == "text", body
        status, body = post(port, "/v1/audio/speech", b'{"input": "x"}', {"content-type": "text/plain"})
        assert status == 415 and body["error"]["code"] == "unsupported_media_type", body
        assert "application/json" in body["error"]["message"]
        status, body = get(port, "/v1/jobs/022db29c-d0e2-11e5-bb4c-60f81dca7676?wait=abc")
        assert status == 422 and body["error"]["field"] == "wait", body


def test_the_connection_survives_an_error_answer(tmp_path: Path) -> None:
    # No result backend listening: every store call raises inside the app, answered by its catch-all.
    dead = f"redis://127.0.0.1:{free_port()}/0"
    with api(tmp_path, ["--broker", dead]) as (_proc, port):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for _ in range(3):  # the same keep-alive connection each time
                conn.request(
                    "POST",
                    "/v1/jobs",
                    body='{"text": "안녕"}'.encode(),
                    headers={"content-type": "application/json"},
                )
                r = conn.getresponse()
                body = json.loads(r.read())
                assert r.status == 503 and body["error"]["code"] == "unavailable", body
        finally:
            conn.close()


@pytest.mark.parametrize("value", ["0", "-1", "x"])
def test_a_bad_limit_is_a_one_line_error(tmp_path: Path, value: str) -> None:
    from forv_tts import settings
    from forv_tts.errors import InvalidInputError
    from forv_tts.service.guard import HttpLimits

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.MAX_BODY_BYTES.env, value)
        with pytest.raises(InvalidInputError, match="FORV_TTS_MAX_BODY_BYTES"):
            HttpLimits.resolve()

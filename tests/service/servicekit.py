"""Real processes for the service tests: `forv-tts serve`, `forv-tts worker`, RabbitMQ, all on 127.0.0.1.

Every process is started by the test that needs it, waited for with a bound, and stopped by PID (also when
the test fails). RabbitMQ is Debian's `rabbitmq-server` started unprivileged from a temporary data
directory on free ports (its own epmd too, stopped by PID); tests that need it skip when it is not
installed (`.ci/run` installs it, so CI runs them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gcs_emulator import free_port

from forv_tts.service.embedded import die_with_parent

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
#: Set by .ci/run, which installs rabbitmq-server: there a missing server fails instead of skipping.
REQUIRE_RABBIT_ENV = "FORV_TTS_REQUIRE_RABBITMQ"


def children(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(x) for x in f.read().split())
    return out


def descendants(pid: int) -> list[int]:
    """Every process below `pid`."""
    out: list[int] = []
    todo = [pid]
    while todo:
        for child in children(todo.pop()):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until true or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def http_json(url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """GET a JSON endpoint with the standard library (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


@dataclass
class Proc:
    """A started process with its log."""

    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM, then SIGKILL after `timeout`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def env_for(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test's environment for a child, without settings leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_") or k == "FORV_TTS_CACHE_DIR"}
    env.pop("STORAGE_EMULATOR_HOST", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def start_cli(args: list[str], cwd: Path, env: dict[str, str], log_name: str) -> Proc:
    """`python -m forv_tts ARGS` in `cwd` (the worktree's code, via PYTHONPATH)."""
    log = cwd / log_name
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "forv_tts", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,  # a killed pytest run leaves no serve/worker behind
        )
    return Proc(process, log)


@dataclass
class Service:
    """A running `forv-tts serve`."""

    proc: Proc
    url: str
    out_dir: Path

    def job(self, job_id: str) -> dict[str, Any]:
        return http_json(f"{self.url}/v1/jobs/{job_id}")[1]


def start_service(
    tmp: Path,
    args: list[str] | None = None,
    env: dict[str, str] | None = None,
    *,
    ready_timeout: float = 90.0,
    headers: dict[str, str] | None = None,
    readiness: str = "/readyz",
    cwd: Path | None = None,
) -> Service:
    """Start `forv-tts serve` on a free port and wait for /readyz (workers consuming every queue), or
    for another path that answers 200 when ready (`/healthz`: no worker needed)."""
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    proc = start_cli(
        ["serve", "--host", "127.0.0.1", "--port", str(port), "--out-dir", str(tmp), *(args or [])],
        cwd or tmp,  # where serve runs and its log goes (the out-dir unless it is read-only)
        env_for(env),
        "serve.log",
    )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.process.poll() is not None:
            return True
        request = urllib.request.Request(f"{url}{readiness}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    if not wait_until(ready, ready_timeout, 0.1) or proc.process.poll() is not None:
        log = proc.tail()
        proc.stop()
        pytest.fail(f"forv-tts serve did not become ready:\n{log}")
    return Service(proc, url, tmp)


@contextlib.contextmanager
def service(
    tmp: Path, args: list[str] | None = None, env: dict[str, str] | None = None, **kw: Any
) -> Iterator[Service]:
    """`start_service`, stopped (and its process tree checked for leftovers) on exit."""
    svc = start_service(tmp, args, env, **kw)
    try:
        yield svc
    finally:
        tree = descendants(svc.proc.pid)
        svc.proc.stop()
        for pid in tree:
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)


def pool_pids(worker_pid: int) -> list[int]:
    """The Celery prefork pool processes of a `forv-tts worker` process."""
    return children(worker_pid)


# --- RabbitMQ -------------------------------------------------------------------------------------


@dataclass
class Rabbit:
    """A private RabbitMQ node; `url` is its amqp:// URL (guest works on 127.0.0.1; another user and
    vhost, such as the old app's tts/tts123 on tts_host, are created at the node's first start)."""

    base: Path
    port: int
    dist_port: int
    epmd_port: int
    node: str
    proc: Proc | None = None
    starts: int = field(default=0)
    user: str = "guest"
    password: str = "guest"
    vhost: str = "/"

    @property
    def url(self) -> str:
        return f"amqp://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.vhost.lstrip('/') or '/'}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.base),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "ERL_EPMD_PORT": str(self.epmd_port),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.base / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.base / "rabbit.pid"),
        }

    def start(self, timeout: float = 60.0) -> None:
        (self.base / "enabled_plugins").write_text("[].\n")
        conf = "loopback_users = none\n"
        if (self.user, self.password, self.vhost) != ("guest", "guest", "/"):
            conf += (
                f"default_user = {self.user}\ndefault_pass = {self.password}\ndefault_vhost = {self.vhost}\n"
            )
        (self.base / "rabbitmq.conf").write_text(conf)
        self.starts += 1
        log = self.base / f"server-{self.starts}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [str(RABBIT_BIN)],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # beam.smp is exec'd from this process, so it keeps the parent-death signal: a pytest run
                # killed by a timeout does not leave a node behind (its epmd daemon may stay).
                preexec_fn=die_with_parent,
            )
        self.proc = Proc(process, log)

        def up() -> bool:
            if process.poll() is not None:
                return True
            return "Starting broker... completed" in log.read_text(errors="replace")

        if not wait_until(up, timeout, 0.1) or process.poll() is not None:
            text = self.proc.tail()
            self.stop()
            pytest.fail(f"rabbitmq-server did not start:\n{text}")

    def stop(self) -> None:
        """Stop the node: SIGTERM to the process group this object started (beam and its helpers)."""
        if self.proc is None:
            return
        process = self.proc.process
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self.proc = None

    def stop_epmd(self) -> None:
        """The epmd daemon our node started (found by the port in its environment), stopped by PID."""
        needle = f"ERL_EPMD_PORT={self.epmd_port}".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if b"epmd" not in f.read():
                        continue
                with open(f"/proc/{entry}/environ", "rb") as f:
                    if needle in f.read().split(b"\0"):
                        os.kill(int(entry), signal.SIGTERM)
            except OSError:
                continue


@contextlib.contextmanager
def rabbit_node(
    tmp_path_factory: pytest.TempPathFactory,
    name: str = "",
    *,
    user: str = "guest",
    password: str = "guest",
    vhost: str = "/",
) -> Iterator[Rabbit]:
    """Start a private node (skipped when rabbitmq-server is not installed here), stopped on exit."""
    if not RABBIT_BIN.exists() or shutil.which("erl") is None:
        message = "rabbitmq-server is not installed (apt-get install rabbitmq-server; .ci/run does)"
        if os.environ.get(REQUIRE_RABBIT_ENV):
            pytest.fail(message)
        pytest.skip(message)
    base = tmp_path_factory.mktemp(f"rabbit{name}")
    rabbit = Rabbit(
        base=base,
        port=free_port(),
        dist_port=free_port(),
        epmd_port=free_port(),
        node=f"forvtest{name}{os.getpid()}@localhost",
        user=user,
        password=password,
        vhost=vhost,
    )
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.stop()
        rabbit.stop_epmd()


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rabbit]:
    """A RabbitMQ node for the session; skipped when rabbitmq-server is not installed here."""
    with rabbit_node(tmp_path_factory) as rabbit:
        yield rabbit

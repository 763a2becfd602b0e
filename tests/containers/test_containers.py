"""The Dockerfile and compose.yaml, built and run with podman from a clean clone of this repository.

Opt-in (`FORV_TTS_CONTAINER_TESTS=1`): image builds take minutes and need a machine set up for
containers. On ours: `source ../shared/containers/podman-setup.sh` (it builds the base image
debian:bookworm-slim, since no registry can be reached, and picks a runtime that works here), then

    FORV_TTS_CONTAINER_TESTS=1 FORV_TTS_PODMAN_BUILD_ARGS="${FORV_PODMAN_PIP_ARGS[*]}" \\
        python -m pytest tests/containers

FORV_TTS_PODMAN_BUILD_ARGS are extra `podman build` arguments (there: this machine's pip configuration
and CA bundle, mounted into the build). FORV_TTS_CONTAINER_TESTS_FULL=1 also builds the `full` target
and exports and speaks a checkpoint member in it (FORV_TTS_FULL_BUILD_ARGS: on our machines
`--build-arg TORCH_INDEX=`, since torch's CPU wheel is local and download.pytorch.org is not
reachable). Public images compose.yaml names that cannot be pulled here (RabbitMQ, Valkey) are built
as stand-ins from Debian packages under the same names (`standins/`), unless an image of that name is
already present.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid as _uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gcs_emulator import _binary, free_port

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SWITCH_ENV = "FORV_TTS_CONTAINER_TESTS"
BUILD_ARGS_ENV = "FORV_TTS_PODMAN_BUILD_ARGS"
IMAGE = "localhost/forv-tts:test"
COMPOSE_IMAGE = "localhost/forv-tts:latest"  # what compose.yaml's services run
STANDINS = {"docker.io/library/rabbitmq:3": "rabbitmq", "docker.io/valkey/valkey:8": "valkey"}

pytestmark = pytest.mark.skipif(
    not os.environ.get(SWITCH_ENV),
    reason=f"container tests are opt-in: set {SWITCH_ENV}=1 (README: Deploying)",
)


def run(*args: str, timeout: float = 600, check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    """A command with a bound; its output in the failure message."""
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if check and proc.returncode != 0:
        pytest.fail(
            f"{shlex.join(args)} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc


def podman(*args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    return run("podman", *args, **kw)


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def build(context: Path, tag: str, *more: str) -> float:
    """`podman build` (docker format: OCI images drop HEALTHCHECK); returns the seconds it took."""
    t0 = time.monotonic()
    extra = shlex.split(os.environ.get(BUILD_ARGS_ENV, ""))
    podman("build", "--format", "docker", *extra, *more, "-t", tag, str(context), timeout=3600)
    return time.monotonic() - t0


def wait_http(url: str, timeout: float, ok: Any = lambda r: r.status_code == 200) -> httpx.Response | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            r = httpx.get(url, timeout=3)
            if ok(r):
                return r
        time.sleep(1)
    return None


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean clone of this repository at its HEAD commit (what `docker build .` sees on a fresh machine)."""
    if shutil.which("podman") is None or not image_exists("docker.io/library/debian:bookworm-slim"):
        pytest.fail(
            "podman and the base image debian:bookworm-slim are needed (../shared/containers/podman-setup.sh)"
        )
    dest = tmp_path_factory.mktemp("clone") / "forv-tts"
    head = run("git", "-C", str(ROOT), "rev-parse", "HEAD").stdout.strip()
    run("git", "clone", "--quiet", "--no-local", str(ROOT), str(dest))
    run("git", "-C", str(dest), "checkout", "--quiet", head)
    return dest


@pytest.fixture(scope="module")
def image(clone: Path) -> str:
    seconds = build(clone, IMAGE)
    size = podman("image", "inspect", "--format", "{{.Size}}", IMAGE).stdout.strip()
    print(f"\nbuilt {IMAGE} (default target) in {seconds:.0f} s, {int(size) / 1e6:.0f} MB")
    return IMAGE


def test_image_is_the_cli_runs_as_a_user_and_has_no_torch(image: str) -> None:
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["Entrypoint"] == ["forv-tts"]
    assert config["Cmd"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert config["User"] == "forv"
    healthcheck = inspected.get("Healthcheck") or config.get("Healthcheck")  # podman: top level
    assert healthcheck["Test"][:2] == ["CMD", "python3"]
    env = dict(e.split("=", 1) for e in config["Env"])
    assert (env["FORV_TTS_VOICE_DIR"], env["FORV_TTS_CACHE_DIR"]) == ("/voices", "/cache")
    assert {"/voices", "/cache", "/data"} <= set(config["Volumes"])
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) for m in ('torch', 'TTS')))"
    podman("run", "--rm", "--network", "none", "--entrypoint", "python3", image, "-c", probe)


def test_say_in_the_image_with_no_network(image: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o777)  # the image's user (uid 10001) writes here
    out = podman(
        "run",
        "--rm",
        "--network",
        "none",
        "-v",
        f"{data}:/data",
        image,
        "say",
        "안녕하세요",
        "-o",
        "/data/a.wav",
    )
    assert out.stdout.strip() == "/data/a.wav"
    wav = (data / "a.wav").read_bytes()
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 10_000


def test_serve_in_the_image_answers(image: str) -> None:
    port = free_port()
    name = f"forv-tts-serve-test-{os.getpid()}"
    podman("run", "-d", "--rm", "--name", name, "-p", f"127.0.0.1:{port}:8000", image)
    try:
        url = f"http://127.0.0.1:{port}"
        assert wait_http(url + "/readyz", 120) is not None, podman("logs", name, check=False).stdout
        r = httpx.post(
            url + "/v1/audio/speech",
            json={"model": "forv-tts", "input": "안녕하세요", "voice": "builtin"},
            timeout=60,
        )
        assert r.status_code == 200 and r.content[:4] == b"RIFF", r.text[:300]
        health = podman("healthcheck", "run", name, check=False)
        assert health.returncode == 0, health.stdout + health.stderr
    finally:
        podman("stop", "-t", "20", name, check=False)


FULL_ENV = "FORV_TTS_CONTAINER_TESTS_FULL"


@pytest.mark.skipif(
    not os.environ.get(FULL_ENV), reason=f"the full image takes minutes more: set {FULL_ENV}=1"
)
def test_full_image_exports_and_speaks_a_checkpoint_member(
    clone: Path, voice_dir: Path, tmp_path: Path
) -> None:
    """The `full` target reads training checkpoints: export a member, then speak it with torch."""
    tag = "localhost/forv-tts:test-full"
    seconds = build(
        clone, tag, "--target", "full", *shlex.split(os.environ.get("FORV_TTS_FULL_BUILD_ARGS", ""))
    )
    size = int(podman("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    print(f"\nbuilt {tag} in {seconds:.0f} s, {size / 1e6:.0f} MB")
    voices = tmp_path / "voices"
    shutil.copytree(voice_dir, voices)
    for path in [voices, *voices.rglob("*")]:
        path.chmod(0o777 if path.is_dir() else 0o666)
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o777)
    cache.chmod(0o777)
    mounts = ["-v", f"{voices}:/voices", "-v", f"{cache}:/cache", "-v", f"{voices}:/data"]
    podman("run", "--rm", "--network", "none", *mounts, tag, "export", "--member", "1", timeout=600)
    assert (voices / "onnx" / "1" / "voice.json").is_file()
    out = podman(
        "run", "--rm", "--network", "none", *mounts, tag,
        "say", "--member", "2", "--engine", "torch", "안녕하세요", "-o", "/data/b.wav",
    )  # fmt: skip
    assert out.stdout.strip() == "/data/b.wav" and (voices / "b.wav").read_bytes()[:4] == b"RIFF"


# --- compose.yaml ---------------------------------------------------------------------------------------


@dataclass
class Stack:
    project: str
    files: list[str]
    cwd: Path
    env: dict[str, str]
    api: str
    gcs: str

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        files = [a for f in self.files for a in ("-f", f)]
        return run(
            sys.executable,
            "-m",
            "podman_compose",
            "-p",
            self.project,
            *files,
            *args,
            cwd=self.cwd,
            env=self.env,
            timeout=timeout,
            check=check,
        )

    def containers(self, service: str) -> list[dict[str, Any]]:
        out = podman("ps", "--format", "json", "--filter", f"label=com.docker.compose.project={self.project}")
        found = json.loads(out.stdout or "[]")
        return [c for c in found if c.get("Labels", {}).get("com.docker.compose.service") == service]

    def gcs_client(self) -> Any:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        return storage.Client(
            project="test", credentials=AnonymousCredentials(), client_options={"api_endpoint": self.gcs}
        )


OVERRIDE = """\
# tests/containers: a GCS emulator in the stack (the fake-gcs-server binary of the test extra, mounted
# into the base image), and a pause per sentence so a worker can be killed mid-job.
services:
  gcs:
    image: docker.io/library/debian:bookworm-slim
    command: ["/fake-gcs-server", "-scheme", "http", "-backend", "memory", "-host", "0.0.0.0",
              "-port", "4443", "-public-host", "gcs:4443", "-external-url", "http://gcs:4443"]
    volumes:
      - {binary}:/fake-gcs-server:ro
    ports:
      - "127.0.0.1:{gcs_port}:4443"
  worker:
    environment:
      FORV_TTS_TEST_SENTENCE_DELAY: "1.0"
"""


@pytest.fixture(scope="module")
def stack(clone: Path, image: str, voice_dir: Path) -> Iterator[Stack]:
    for name, folder in STANDINS.items():
        if not image_exists(name):
            seconds = build(HERE / "standins" / folder, name)
            print(f"\nbuilt the stand-in {name} from Debian packages in {seconds:.0f} s")
    podman("tag", image, COMPOSE_IMAGE)
    # Members as the speaking image reads them: exported voices (no torch in it), exported here.
    for member in ("1", "2"):
        out = clone / "voice_model" / "onnx" / member
        run(
            sys.executable,
            "-m",
            "forv_tts",
            "export",
            "--member",
            member,
            "--voice-dir",
            str(voice_dir),
            "-o",
            str(out),
            timeout=300,
        )
    for path in (clone / "voice_model").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (clone / "micro-handler.json").write_text("{}\n")  # the secret file (unused with the emulator)
    gcs_port, api_port = free_port(), free_port()
    (clone / "compose.test.yaml").write_text(OVERRIDE.format(binary=_binary(), gcs_port=gcs_port))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FORV_TTS_", "STORAGE_EMULATOR"))},
        "FORV_TTS_PORT": str(api_port),
        "STORAGE_EMULATOR_HOST": "http://gcs:4443",
    }
    s = Stack(
        project=f"forvtest{os.getpid()}",
        files=["compose.yaml", "compose.test.yaml"],
        cwd=clone,
        env=env,
        api=f"http://127.0.0.1:{api_port}",
        gcs=f"http://127.0.0.1:{gcs_port}",
    )
    try:
        t0 = time.monotonic()
        s.compose("up", "-d", "--no-build", "--scale", "worker=2")
        ready = wait_http(s.api + "/readyz", 240)
        logs = "" if ready else s.compose("logs", check=False).stdout[-6000:]
        assert ready is not None, logs
        print(f"\ncompose up to /readyz in {time.monotonic() - t0:.0f} s")
        s.gcs_client().create_bucket("forv_bucket")
        yield s
    finally:
        # `down` knows only the replicas the file declares, not `--scale`d ones: remove every container
        # of the project by its label first, then let `down` take the network, pod and volumes.
        leftovers = podman(
            "ps", "-aq", "--filter", f"label=com.docker.compose.project={s.project}", check=False
        )
        if leftovers.stdout.split():
            podman("rm", "-f", "--depend", "-t", "10", *leftovers.stdout.split(), check=False, timeout=300)
        s.compose("down", "-v", "-t", "10", check=False, timeout=300)


def test_compose_serves_the_old_request_end_to_end(stack: Stack) -> None:
    assert len(stack.containers("worker")) == 2
    job_id = str(_uuid.uuid4())
    body = {"uuid": job_id, "member_id": 1, "text": "안녕하세요!", "created_at": "2022-08-22"}
    r = httpx.post(stack.api + "/api/texts", json=body, timeout=120)
    assert r.status_code == 200, r.text
    name = f"wav_files/1/{job_id}_2022-08-22_voice.wav"
    assert r.json()["gs_uri"] == f"gs://forv_bucket/{name}"
    # (a fresh blob: the emulator's media links name its in-network host)
    assert stack.gcs_client().bucket("forv_bucket").blob(name).download_as_bytes()[:4] == b"RIFF"


def test_a_worker_killed_mid_job_in_compose_loses_nothing(stack: Stack) -> None:
    text = "일꾼 컨테이너가 죽습니다. 일은 다른 일꾼이 끝냅니다. 세 번째 문장입니다."
    r = httpx.post(stack.api + "/v1/jobs", json={"member_id": 2, "text": text}, timeout=30)
    assert r.status_code == 202, r.text
    job_id = r.json()["uuid"]
    job: dict[str, Any] = {}

    def running() -> bool:
        job.update(httpx.get(f"{stack.api}/v1/jobs/{job_id}", timeout=10).json())
        return job.get("state") == "running" and bool(job.get("worker"))

    deadline = time.monotonic() + 60
    while not running() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert job.get("state") == "running", job
    host = str(job["worker"]).split("@", 1)[1].rsplit(".", 1)[0]
    hostnames = {
        c["Id"]: podman("inspect", "--format", "{{.Config.Hostname}}", c["Id"]).stdout.strip()
        for c in stack.containers("worker")
    }
    victims = [cid for cid, hostname in hostnames.items() if hostname == host]
    assert len(victims) == 1, (host, hostnames)
    podman("kill", victims[0])
    final: dict[str, Any] = {}
    killed_at = time.monotonic()
    while time.monotonic() - killed_at < 180:
        final = httpx.get(f"{stack.api}/v1/jobs/{job_id}", params={"wait": 30}, timeout=60).json()
        if final.get("state") in ("done", "failed"):
            break
    assert final.get("state") == "done", final
    assert final["attempts"] == 2, final  # the killed delivery, then the one that finished it
    objects = [b.name for b in stack.gcs_client().list_blobs("forv_bucket") if job_id in b.name]
    assert objects == [f"wav_files/2/{job_id}_{final['created_at']}_voice.wav"], objects

"""A correctness soak of `forv-tts serve` (a script that prints figures, not a test, and not a timing).

    python bench/soak.py [--minutes 30] [--kill-every 150] [--clients 3] [--json OUT] [--markdown]

Starts `serve --workers 2` on the embedded store (the built-in voice: cheap, so the soak exercises the
service, not the model) and, for MINUTES, runs CLIENTS loops of mixed requests: `POST /api/texts`
(fresh uuid), `POST /v1/jobs` then a long-poll, the same uuid again (same text: the same answer;
different text: must be 409), speech whole, speech streamed to the end, and streams that hang up after
the first chunk. Every KILL_EVERY seconds a worker is SIGKILLed by PID, alternately one pool process
(mid-job when one runs) and the whole worker (main process and pool). The API process's RSS is sampled
every 10 s.

At the end (load stopped, 180 s for queued jobs to finish) it checks what the issue asks: every accepted
job is done or failed with a code and a message; every done clip's file is on disk with the sha256 its
record names, unchanged since it was first seen (no clip lost or replaced); no stream ended cleanly with
its job not done; the API's RSS after warm-up stays flat. Exit status 1 when any check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid as _uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

# The tests' own helpers: one free-port picker and one /proc child walk for tests and bench.
_TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(_TESTS), str(_TESTS / "service")]
from gcs_emulator import free_port  # noqa: E402
from servicekit import children  # noqa: E402

TEXTS = [
    "안녕하세요, 반갑습니다.",
    "오늘 날씨가 정말 좋네요. 산책하러 갈까요?",
    "회의는 내일 오전 열 시에 시작합니다. 늦지 마세요.",
    "이 문장은 조금 더 깁니다. 두 번째 문장도 있습니다. 그리고 세 번째 문장으로 끝납니다.",
    "사과 3개와 배 2개를 샀습니다.",
]


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Tally:
    """What the clients saw."""

    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # job id -> {kind, text}
    answers: dict[str, int] = field(default_factory=dict)  # "kind status" -> count
    lies: list[str] = field(default_factory=list)  # a clean stream end with the job not done, 409 missed, ...
    first_done_sha: dict[str, str] = field(default_factory=dict)
    kills: list[dict[str, Any]] = field(default_factory=list)
    rss: list[tuple[float, float]] = field(default_factory=list)
    hangups: int = 0
    stream_errors: int = 0

    def count(self, key: str) -> None:
        self.answers[key] = self.answers.get(key, 0) + 1


async def clip_texts(c: httpx.AsyncClient, t: Tally, rng: random.Random) -> None:
    job_id = str(_uuid.uuid4())
    text = rng.choice(TEXTS)
    body = {"uuid": job_id, "member_id": "builtin", "text": text, "created_at": "2022-08-22"}
    r = await c.post("/api/texts", json=body)
    t.count(f"api_texts {r.status_code}")
    if r.status_code < 400 or r.json().get("status_url"):
        t.accepted[job_id] = {"kind": "clip", "text": text}
    if r.status_code == 200:
        # Same uuid, same text: the same answer; a different text: 409, never a new clip.
        again = await c.post("/api/texts", json=body)
        if again.status_code != 200 or again.json() != r.json():
            t.lies.append(f"{job_id}: a repeated request answered {again.status_code}")
        other = await c.post("/api/texts", json={**body, "text": text + " 다른 글"})
        t.count(f"conflict {other.status_code}")
        if other.status_code != 409:
            t.lies.append(f"{job_id}: a different text under its uuid answered {other.status_code}")


async def queued_job(c: httpx.AsyncClient, t: Tally, rng: random.Random) -> None:
    text = rng.choice(TEXTS)
    r = await c.post("/v1/jobs", json={"text": text, "created_at": "2022-08-22"})
    t.count(f"jobs {r.status_code}")
    if r.status_code == 202:
        job_id = r.json()["uuid"]
        t.accepted[job_id] = {"kind": "clip", "text": text}
        await c.get(f"/v1/jobs/{job_id}", params={"wait": 30})


async def speech(c: httpx.AsyncClient, t: Tally, rng: random.Random, *, stream: bool, hang_up: bool) -> None:
    text = " ".join(rng.sample(TEXTS, 3))
    body = {"input": text, "voice": "builtin", "stream": stream}
    if not stream:
        r = await c.post("/v1/audio/speech", json=body)
        t.count(f"speech {r.status_code}")
        if r.status_code == 200:
            t.accepted[r.headers["x-job-id"]] = {"kind": "speech", "text": text}
        return
    try:
        async with c.stream("POST", "/v1/audio/speech", json=body) as s:
            t.count(f"stream {s.status_code}")
            if s.status_code != 200:
                await s.aread()
                return
            job_id = s.headers["x-job-id"]
            t.accepted[job_id] = {"kind": "speech", "text": text, "stream": True}
            size = 0
            async for chunk in s.aiter_raw():
                size += len(chunk)
                if hang_up:
                    t.hangups += 1
                    t.accepted[job_id]["hung_up"] = True
                    return
            t.accepted[job_id]["clean_end"] = True
            t.accepted[job_id]["bytes"] = size
    except httpx.HTTPError:
        t.stream_errors += 1  # an aborted stream: the client knows it is incomplete


async def client_loop(url: str, t: Tally, deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=url, timeout=120) as c:
        while time.monotonic() < deadline:
            pick = rng.random()
            try:
                if pick < 0.3:
                    await clip_texts(c, t, rng)
                elif pick < 0.5:
                    await queued_job(c, t, rng)
                elif pick < 0.65:
                    await speech(c, t, rng, stream=False, hang_up=False)
                elif pick < 0.85:
                    await speech(c, t, rng, stream=True, hang_up=False)
                else:
                    await speech(c, t, rng, stream=True, hang_up=True)
            except httpx.HTTPError as err:
                t.count(f"transport {type(err).__name__}")


async def killer(serve_pid: int, url: str, t: Tally, deadline: float, every: float) -> None:
    whole = False
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        while True:
            await asyncio.sleep(every)
            if time.monotonic() > deadline:
                return
            workers = [p for p in children(serve_pid) if b"worker" in Path(f"/proc/{p}/cmdline").read_bytes()]
            if not workers:
                continue
            main = workers[0]
            pool = children(main)
            targets = [main, *pool] if whole else pool[:1]
            for pid in targets:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
            t.kills.append({"at_s": round(time.time(), 1), "whole_worker": whole, "pids": targets})
            print(f"killed {'the whole worker' if whole else 'a pool process'}: {targets}", flush=True)
            whole = not whole
            with contextlib.suppress(httpx.HTTPError):
                await c.get("/healthz")


async def sampler(serve_pid: int, t: Tally, deadline: float, t0: float) -> None:
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            t.rss.append((round(time.monotonic() - t0, 1), round(rss_mb(serve_pid), 1)))
        await asyncio.sleep(10)


async def settle(url: str, out_dir: Path, t: Tally, wait_s: float) -> dict[str, Any]:
    """Wait for every accepted job to end, then check records and files."""
    end = time.monotonic() + wait_s
    states: dict[str, int] = {}
    bad: list[str] = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as c:
        for job_id, info in t.accepted.items():
            while True:
                view = (await c.get(f"/v1/jobs/{job_id}", params={"wait": 10})).json()
                state = view.get("state")
                if state in ("done", "failed", "cancelled") or time.monotonic() > end:
                    break
            states[state or "unknown"] = states.get(state or "unknown", 0) + 1
            if state not in ("done", "failed", "cancelled"):
                bad.append(f"{job_id}: still {state}")
                continue
            if state in ("failed", "cancelled"):
                err = view.get("error") or {}
                if not err.get("code") or not err.get("message"):
                    bad.append(f"{job_id}: {state} without a reason: {view}")
            if info.get("clean_end") and state != "done":
                bad.append(f"{job_id}: the stream ended cleanly but the job is {state}")
            if info["kind"] == "clip" and state == "done":
                path = Path(view.get("path") or "")
                if not path.is_file():
                    bad.append(f"{job_id}: done, but its clip {path} is not on disk")
                    continue
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                if t.first_done_sha.setdefault(job_id, sha) != sha:
                    bad.append(f"{job_id}: its clip changed")
    return {"states": states, "problems": bad}


async def watch_done(url: str, t: Tally, deadline: float) -> None:
    """Record each clip's sha256 when it is first seen done, to notice a replaced file later."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as c:
        while time.monotonic() < deadline:
            for job_id, info in list(t.accepted.items()):
                if info["kind"] != "clip" or job_id in t.first_done_sha:
                    continue
                with contextlib.suppress(httpx.HTTPError, ValueError):
                    view = (await c.get(f"/v1/jobs/{job_id}")).json()
                    if view.get("state") == "done" and view.get("path"):
                        path = Path(view["path"])
                        if path.is_file():
                            t.first_done_sha[job_id] = hashlib.sha256(path.read_bytes()).hexdigest()
            await asyncio.sleep(5)


def start_serve(out: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_") or k == "FORV_TTS_CACHE_DIR"}
    log = open(out / "serve.log", "wb")  # noqa: SIM115 - the child's log for the run
    cmd = [
        sys.executable,
        "-m",
        "forv_tts",
        "serve",
        "--port",
        str(port),
        "--workers",
        "2",
        "--out-dir",
        str(out),
    ]
    return subprocess.Popen(
        cmd, cwd=out, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("serve exited before it was ready")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise SystemExit("serve did not become ready")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--kill-every", type=float, default=150.0, help="seconds between worker kills")
    ap.add_argument("--clients", type=int, default=3)
    ap.add_argument("--settle", type=float, default=180.0, help="seconds for queued jobs to end")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    out = Path(tempfile.mkdtemp(prefix="forv-soak-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_serve(out, port)
    t = Tally()
    try:
        wait_ready(url, proc)
        t0 = time.monotonic()
        deadline = t0 + args.minutes * 60

        async def run() -> dict[str, Any]:
            tasks = [client_loop(url, t, deadline, seed) for seed in range(args.clients)]
            tasks += [killer(proc.pid, url, t, deadline, args.kill_every), sampler(proc.pid, t, deadline, t0)]
            tasks.append(watch_done(url, t, deadline))
            await asyncio.gather(*tasks)
            return await settle(url, out, t, args.settle)

        checks = asyncio.run(run())
        elapsed = time.monotonic() - t0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    warm = [r for at, r in t.rss if at >= 120] or [r for _at, r in t.rss]
    rss = {
        "first_after_warmup_mb": warm[0] if warm else None,
        "last_mb": warm[-1] if warm else None,
        "max_mb": max(warm) if warm else None,
    }
    flat = bool(warm) and warm[-1] - warm[0] <= max(15.0, 0.15 * warm[0])
    problems = t.lies + checks["problems"] + ([] if flat else [f"API RSS grew: {rss}"])
    result = {
        "minutes": round(elapsed / 60, 1),
        "clients": args.clients,
        "accepted_jobs": len(t.accepted),
        "final_states": checks["states"],
        "answers": dict(sorted(t.answers.items())),
        "streams_hung_up": t.hangups,
        "streams_aborted": t.stream_errors,
        "kills": len(t.kills),
        "whole_worker_kills": sum(1 for k in t.kills if k["whole_worker"]),
        "clips_checked": len(t.first_done_sha),
        "api_rss": rss,
        "rss_samples": t.rss,
        "problems": problems,
        "load_after": Path("/proc/loadavg").read_text().strip(),
        "out_dir": str(out),
    }
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.json:
        args.json.write_text(text + "\n")
    if args.markdown:
        print(
            f"| {result['minutes']} min | {result['accepted_jobs']} accepted | {result['final_states']} | "
            f"{result['kills']} kills ({result['whole_worker_kills']} whole) | RSS {rss} | "
            f"{len(problems)} problems |"
        )
    print({k: v for k, v in result.items() if k != "rss_samples"})
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

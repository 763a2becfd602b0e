"""The service against its targets (a script that prints numbers, not a test).

    python bench/service_bench.py [--requests 200] [--clients 32] [--latency 20] [--ttfb 5] [--tiny]
                                  [--voice-dir DIR --member M] [--markdown]

Same voice and texts as bench/batch_bench.py: a production-size member with random weights (Glow-TTS
~28.6 M, HiFi-GAN v2 ~0.93 M parameters; the compute is real, the speech is noise), built once in a temp
directory, unless --voice-dir/--member (your own checkpoints) or --tiny (tests' tiny voice, fast).

1. `POST /api/texts` latency minus the job's own synthesis time (`synthesis_seconds` as the worker
   measured it: normalise, synthesise, write), one client, sequential requests, warm workers.
2. Throughput: REQUESTS `/api/texts` from CLIENTS concurrent clients against `serve --workers 2`, and
   `forv-tts batch --jobs 2` on the same lines, in the same run (the host is shared: read the ratio).
3. Time to first audio byte streaming a ~500-character paragraph from `/v1/audio/speech` (`stream`),
   against the first sentence's synthesis time as the worker measured it.
4. RSS of the API process (the `serve` process itself; workers are separate processes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid as _uuid
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT / "tests"))

import batch_bench  # noqa: E402  (the batch benchmark's lines and voice, so both measure the same work)
import spawn  # noqa: E402

PARAGRAPH = (
    "안녕하세요, 여러분. 오늘은 우리 팀이 새로 만든 음성 합성 서비스를 소개하려고 합니다. "
    "이 서비스는 한국어 문장을 받아서 팀원들의 목소리로 읽어 줍니다. "
    "긴 글을 보내도 첫 문장이 만들어지는 대로 바로 들을 수 있습니다. "
    "예전 서버는 작업이 끝날 때까지 오 초마다 상태를 확인했지만, 이제는 끝나는 순간 답을 보냅니다. "
    "작업자가 갑자기 멈추더라도 일은 사라지지 않고 다른 작업자가 이어서 처리합니다. "
    "업로드가 실패하면 정해진 횟수만큼 다시 시도하고, 그래도 안 되면 이유를 알려 줍니다. "
    "여러 대의 컴퓨터에서 작업자를 나누어 돌릴 수도 있고, 한 대에서 모든 것을 실행할 수도 있습니다. "
    "질문이 있으시면 언제든지 말씀해 주세요. 감사합니다. 좋은 하루 보내세요. "
    "다음 주 월요일 오전 열 시에 다시 만나서 자세한 내용을 이야기해요. "
    "회의실은 삼 층 끝에 있으니 엘리베이터에서 내려서 오른쪽으로 오시면 됩니다. "
    "점심은 회의가 끝난 뒤에 다 같이 먹을 예정입니다. 모두 수고하셨습니다."
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def start_serve(workdir: Path, voice_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_") or k == "FORV_TTS_CACHE_DIR"}
    log = open(workdir / "serve.log", "wb")  # noqa: SIM115 - lives as long as the process
    proc = subprocess.Popen(
        [batch_bench._script(), "serve", "--port", str(port), "--workers", str(workers),
         "--voice-dir", str(voice_dir), "--out-dir", str(workdir / "clips")],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"serve exited: {(workdir / 'serve.log').read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("serve did not become ready")


stop = spawn.stop


def body(member: str, text: str) -> dict[str, Any]:
    return {"uuid": str(_uuid.uuid4()), "member_id": member, "text": text, "created_at": "2022-08-22"}


async def warm(client: Any, member: str, n: int) -> None:
    rs = await asyncio.gather(
        *(client.post("/api/texts", json=body(member, "준비 운동입니다.")) for _ in range(n))
    )
    assert all(r.status_code == 200 for r in rs), [r.text for r in rs if r.status_code != 200]


async def latency(url: str, member: str, lines: list[str], n: int) -> dict[str, float]:
    import httpx

    overheads, totals = [], []
    async with httpx.AsyncClient(base_url=url, timeout=300) as c:
        await warm(c, member, 4)
        for i in range(n):
            b = body(member, lines[i % len(lines)])
            t0 = time.perf_counter()
            r = await c.post("/api/texts", json=b)
            total = time.perf_counter() - t0
            assert r.status_code == 200, r.text
            job = (await c.get(f"/v1/jobs/{b['uuid']}")).json()
            totals.append(total)
            overheads.append(total - job["synthesis_seconds"])
    return {
        "n": n,
        "latency_median_s": statistics.median(totals),
        "overhead_median_ms": 1000 * statistics.median(overheads),
        "overhead_p90_ms": 1000 * sorted(overheads)[int(0.9 * (n - 1))],
    }


async def throughput(url: str, member: str, lines: list[str], clients: int) -> dict[str, float]:
    import httpx

    sem = asyncio.Semaphore(clients)
    errors = 0

    async with httpx.AsyncClient(
        base_url=url, timeout=600, limits=httpx.Limits(max_connections=clients)
    ) as c:
        await warm(c, member, 4)

        async def one(text: str) -> float:
            nonlocal errors
            async with sem:
                r = await c.post("/api/texts", json=body(member, text))
                if r.status_code != 200:
                    errors += 1
                return 0.0

        t0 = time.perf_counter()
        await asyncio.gather(*(one(t) for t in lines))
        wall = time.perf_counter() - t0
    return {"requests": len(lines), "clients": clients, "wall_s": wall, "items_per_s": len(lines) / wall,
            "errors": errors}  # fmt: skip


async def ttfb(url: str, member: str, n: int) -> dict[str, float]:
    import httpx

    rows = []
    async with httpx.AsyncClient(base_url=url, timeout=300) as c:
        await warm(c, member, 2)
        for _ in range(n):
            t0 = time.perf_counter()
            req = {
                "model": "forv-tts",
                "input": PARAGRAPH,
                "voice": member,
                "stream": True,
                "response_format": "wav",
            }
            async with c.stream("POST", "/v1/audio/speech", json=req) as s:
                async for chunk in s.aiter_raw():
                    if chunk:
                        first = time.perf_counter() - t0
                        break
                job_id = s.headers["x-job-id"]
            await asyncio.sleep(0.3)  # the hang-up cancels the rest; let the worker record it
            job = (await c.get(f"/v1/jobs/{job_id}")).json()
            rows.append((first, job["first_sentence_seconds"], job["first_chunk_seconds"]))
            await asyncio.sleep(1.0)
    firsts = [r[0] for r in rows]
    return {
        "n": n,
        "chars": len(PARAGRAPH),
        "ttfb_median_s": statistics.median(firsts),
        "first_sentence_median_s": statistics.median(r[1] for r in rows),
        "worker_first_chunk_median_s": statistics.median(r[2] for r in rows),
        "ttfb_minus_first_sentence_median_ms": 1000 * statistics.median(r[0] - r[1] for r in rows),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--latency", type=int, default=20)
    ap.add_argument("--ttfb", type=int, default=5)
    ap.add_argument("--tiny", action="store_true", help="the tests' tiny voice instead of a real-size one")
    ap.add_argument("--voice-dir", type=Path)
    ap.add_argument("--member", default="2")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="forv-service-bench-") as tmp:
        work = Path(tmp)
        voice_dir = args.voice_dir or batch_bench._build_member(work / "voices", real_size=not args.tiny)
        member = args.member
        text = batch_bench._lines(args.requests)
        lines = text.splitlines()
        (work / "lines.txt").write_text(text)
        load = os.getloadavg()[0]

        batch = batch_bench.run_batch(
            work, work / "lines.txt", 2, ["--voice-dir", str(voice_dir), "-m", member]
        )
        proc, url = start_serve(work, voice_dir, 2)
        try:
            lat = asyncio.run(latency(url, member, lines, args.latency))
            thr = asyncio.run(throughput(url, member, lines, args.clients))
            first = asyncio.run(ttfb(url, member, args.ttfb))
            rss, hwm = rss_mb(proc.pid)
        finally:
            stop(proc)
        batch2 = batch_bench.run_batch(
            work, work / "lines.txt", 2, ["--voice-dir", str(voice_dir), "-m", member]
        )

    batch_self = statistics.mean([batch["items_per_s"], batch2["items_per_s"]])
    batch_cmd = statistics.mean([b["lines"] / b["command_wall_s"] for b in (batch, batch2)])
    result = {
        "voice": "own checkpoints"
        if args.voice_dir
        else ("tiny" if args.tiny else "real-size random weights"),
        "load_average_at_start": load,
        "cpus": len(os.sched_getaffinity(0)),
        "latency": lat,
        "throughput": thr,
        "batch_jobs2_items_per_s_self": batch_self,
        "batch_jobs2_items_per_s_command": batch_cmd,
        "service_vs_batch_self": thr["items_per_s"] / batch_self,
        "service_vs_batch_command": thr["items_per_s"] / batch_cmd,
        "ttfb": first,
        "api_rss_mb": rss,
        "api_peak_rss_mb": hwm,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    report = [
        f"forv-tts service benchmark: {result['voice']} member {member}, {result['cpus']} CPUs, "
        f"load average {load:.2f} at start",
        f"/api/texts latency minus synthesis ({lat['n']} sequential): "
        f"median {lat['overhead_median_ms']:.1f} ms, p90 {lat['overhead_p90_ms']:.1f} ms "
        f"(latency median {lat['latency_median_s']:.3f} s)",
        f"throughput {thr['requests']} requests / {thr['clients']} clients, 2 workers: "
        f"{thr['items_per_s']:.2f} items/s, {thr['errors']} errors",
        f"batch --jobs 2 (before and after): {batch_self:.2f} items/s as it measured itself, "
        f"{batch_cmd:.2f} over the whole command; service/batch "
        f"{result['service_vs_batch_self']:.2f} / {result['service_vs_batch_command']:.2f}",
        f"streaming {first['chars']} chars: first byte median {first['ttfb_median_s']:.3f} s, "
        f"first sentence's synthesis {first['first_sentence_median_s']:.3f} s, difference "
        f"{first['ttfb_minus_first_sentence_median_ms']:.0f} ms "
        f"(worker's first chunk {first['worker_first_chunk_median_s']:.3f} s after it started)",
        f"API process RSS {rss:.1f} MB (peak {hwm:.1f} MB)",
    ]
    print("\n".join(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Interleaved cold `forv-tts say -m 1 <medium sentence> -o w.wav` runs of several trees (issue 28).

    python bench/cold_say_ab.py [--rounds 10] NAME=PYTHONPATH[;VAR=VALUE...] ...

Each arm is a tree put first on PYTHONPATH (a git worktree of another commit, or this one with a
switch set), run through the installed console script; the arms alternate round by round, reversing
the order every other round, after one warm-up run each (page cache, the shared export cache
`--cache-dir`). Prints each arm's median wall time and peak RSS (`/usr/bin/time -f "%e %M"`: 10 ms
resolution) and its ratio to the first arm. Run it under `forv-bench`: it prints the load averages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MEDIUM = "오늘 서울의 낮 기온은 25도까지 오르겠고, 오후부터는 곳곳에 비 소식이 있습니다."


def _arm(spec: str) -> tuple[str, str, dict[str, str]]:
    name, rest = spec.split("=", 1)
    path, *extra = rest.split(";")
    return name, path, dict(kv.split("=", 1) for kv in extra)


def _run(path: str, env: dict[str, str], voice_dir: Path, cache: Path, work: Path) -> tuple[float, float]:
    full = {**os.environ, "PYTHONPATH": path, "FORV_TTS_CACHE_DIR": str(cache), **env}
    with tempfile.NamedTemporaryFile("r") as out:
        cmd = ["/usr/bin/time", "-o", out.name, "-f", "%e %M", "forv-tts", "say", "-m", "1"]
        cmd += ["--voice-dir", str(voice_dir), MEDIUM, "-o", "w.wav"]
        proc = subprocess.run(cmd, env=full, capture_output=True, cwd=work, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{path} {env}: exit {proc.returncode}: {proc.stderr.decode()[-2000:]}")
        wall, rss = out.read().split()
    return float(wall), int(rss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--voice-dir", type=Path, default=ROOT / "bench" / "out" / "voices")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "cold-say-ab-cache")
    parser.add_argument("arms", nargs="+", type=_arm)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in args.arms}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for _, path, env in args.arms:
            _run(path, env, args.voice_dir, args.cache_dir, work)
        for r in range(args.rounds):
            for name, path, env in args.arms if r % 2 == 0 else args.arms[::-1]:
                results[name].append(_run(path, env, args.voice_dir, args.cache_dir, work))
    first = statistics.median(w for w, _ in results[args.arms[0][0]])
    for name, runs in results.items():
        walls, rss = sorted(w for w, _ in runs), sorted(m for _, m in runs)
        print(
            f"{name:14s} wall {statistics.median(walls):.3f} s ({walls[0]:.2f}-{walls[-1]:.2f}), "
            f"x{statistics.median(walls) / first:.3f} of {args.arms[0][0]}; "
            f"peak RSS {statistics.median(rss):.1f} MB ({rss[0]:.1f}-{rss[-1]:.1f}); n={len(runs)}"
        )
        print("    " + " ".join(f"{w:.2f}" for w, _ in runs))


if __name__ == "__main__":
    main()

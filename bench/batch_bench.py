"""Throughput of `forv-tts batch` against `forv-tts say` in a loop (a script that prints numbers, not a test).

    python bench/batch_bench.py [--lines 200] [--say-subset 10] [--jobs 1,2] [--real-size] [--voice-dir DIR]

For each voice (the built-in one, and a member) and each `--jobs`, it runs the installed console script
on LINES Korean lines and reports items/s and seconds of audio per wall second, both over the whole
command (process start, imports, model loads included) and as the batch itself measured them, plus the
peak RSS of each worker. `say` is run once per line on a subset and extrapolated: each call pays the
start-up and the model load again, which is what batch exists to avoid.

The member is a tiny random-weight voice from tests/voicefactory.py unless --real-size (production-size
Glow-TTS ~28.6 M and HiFi-GAN v2 parameters, random weights: the compute is real, the speech is noise)
or --voice-dir (your own checkpoints; pass --member) is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

SENTENCES = [
    "안녕하세요, 만나서 반갑습니다.",
    "오늘 날씨가 정말 좋네요. 산책하러 갈까요?",
    "2022년 8월 22일에 서울역에서 만나요.",
    "커피 두 잔하고 케이크 한 조각 주세요.",
    "내일 아침 아홉 시까지 보고서를 보내 주세요.",
    "이번 주말에는 가족과 함께 바다에 갈 거예요.",
    "지하철 2호선을 타고 강남역에서 내리세요.",
    "고맙습니다. 좋은 하루 보내세요!",
    "회의는 3시 30분에 시작합니다.",
    "이 책은 정말 재미있어서 밤새 읽었어요.",
]


def _script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("forv-tts is not installed next to this interpreter: pip install -e .")
    return found


def _lines(n: int) -> str:
    return "".join(f"{SENTENCES[i % len(SENTENCES)]} {i // len(SENTENCES) + 1}번째.\n" for i in range(n))


def _build_member(root: Path, real_size: bool) -> Path:
    sys.path.insert(0, str(ROOT / "tests"))
    import voicefactory as vf

    spec = vf.VoiceSpec(member="2", format="modern")
    if real_size:
        spec = vf.VoiceSpec(
            member="2",
            format="modern",
            glow=vf.GlowSize.real(),
            vocoder=vf.VocoderSize.real(),
            discriminator="none",
            optimizer_state=False,
        )
    vf.write_voice(root, spec)
    return root


def run_batch(workdir: Path, lines: Path, jobs: int, extra: list[str]) -> dict[str, Any]:
    out = workdir / f"out-{jobs}-{time.monotonic_ns()}"
    cmd = [_script(), "batch", str(lines), "--out-dir", str(out), "--jobs", str(jobs), "--json", "-q", *extra]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"batch failed ({p.returncode}): {p.stderr[-2000:]}")
    summary: dict[str, Any] = json.loads(p.stdout)
    summary["command_wall_s"] = wall
    shutil.rmtree(out, ignore_errors=True)
    return summary


def run_say_loop(workdir: Path, lines: list[str], extra: list[str]) -> dict[str, float]:
    audio = 0.0
    t0 = time.perf_counter()
    for i, text in enumerate(lines):
        out = workdir / f"say-{i}.wav"
        p = subprocess.run(
            [_script(), "say", text, "-o", str(out), "--json", *extra], capture_output=True, text=True
        )
        if p.returncode != 0:
            raise SystemExit(f"say failed ({p.returncode}): {p.stderr[-2000:]}")
        audio += float(json.loads(p.stdout)["duration"])
        out.unlink()
    wall = time.perf_counter() - t0
    return {"items": len(lines), "wall_s": wall, "audio_s": audio}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print one table (and optionally JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--say-subset", type=int, default=10, help="lines spoken by the say loop (extrapolated)")
    ap.add_argument("--jobs", default="1,2", help="comma-separated --jobs values")
    ap.add_argument("--real-size", action="store_true", help="production-size member networks")
    ap.add_argument("--voice-dir", type=Path, default=None, help="use these checkpoints instead of building")
    ap.add_argument("--member", default="2")
    ap.add_argument("--skip-builtin", action="store_true")
    ap.add_argument("--skip-member", action="store_true")
    ap.add_argument("--json", dest="as_json", action="store_true", help="also print the raw results as JSON")
    args = ap.parse_args(argv)
    jobs_list = [int(j) for j in args.jobs.split(",")]

    with tempfile.TemporaryDirectory(prefix="forv-batch-bench-") as tmp:
        work = Path(tmp)
        lines_path = work / "lines.txt"
        lines_path.write_text(_lines(args.lines), encoding="utf-8")
        texts = lines_path.read_text(encoding="utf-8").splitlines()
        voices: list[tuple[str, list[str]]] = []
        if not args.skip_builtin:
            voices.append(("builtin", []))
        if not args.skip_member:
            vdir = args.voice_dir or _build_member(work / "voices", args.real_size)
            size = "own checkpoints" if args.voice_dir else "real-size random" if args.real_size else "tiny"
            voices.append((f"member {args.member} ({size})", ["--voice-dir", str(vdir), "-m", args.member]))

        print(
            f"forv-tts batch benchmark: {args.lines} lines, {os.cpu_count()} CPUs "
            f"(available: {len(os.sched_getaffinity(0))}), python {sys.version.split()[0]}"
        )
        header = (
            f"{'voice':<28} {'how':<22} {'items/s':>8} {'audio s/s':>9} {'items/s*':>8} "
            f"{'audio s/s*':>10} {'wall s':>7} {'peak RSS/worker':>16}"
        )
        print(header)
        print("-" * len(header))
        results: list[dict[str, Any]] = []
        for name, extra in voices:
            for jobs in jobs_list:
                s = run_batch(work, lines_path, jobs, extra)
                n = s["ok"]
                rss = max((w["peak_rss_mb"] for w in s["workers"]), default=0.0)
                row = {
                    "voice": name,
                    "how": f"batch --jobs {jobs}",
                    "items_per_s": n / s["command_wall_s"],
                    "audio_s_per_s": s["audio_seconds"] / s["command_wall_s"],
                    "inner_items_per_s": s["items_per_s"],
                    "inner_audio_s_per_s": s["audio_s_per_wall_s"],
                    "wall_s": s["command_wall_s"],
                    "peak_rss_mb": rss,
                    "threads_per_worker": s["threads_per_worker"],
                }
                results.append(row)
                _print_row(row)
            subset = texts[: args.say_subset]
            loop = run_say_loop(work, subset, extra)
            row = {
                "voice": name,
                "how": f"say loop ({len(subset)} → {args.lines})",
                "items_per_s": loop["items"] / loop["wall_s"],
                "audio_s_per_s": loop["audio_s"] / loop["wall_s"],
                "inner_items_per_s": None,
                "inner_audio_s_per_s": None,
                "wall_s": loop["wall_s"] * args.lines / max(1, loop["items"]),
                "peak_rss_mb": None,
            }
            results.append(row)
            _print_row(row)
        print("items/s, audio s/s: over the whole command (start-up and model loads included);")
        print("* as batch measured itself (after start-up); say-loop wall s is extrapolated to all lines.")
        if args.as_json:
            print(json.dumps(results, indent=2))
    return 0


def _print_row(row: dict[str, Any]) -> None:
    def f(v: float | None, width: int, prec: int = 2) -> str:
        return f"{'-':>{width}}" if v is None else f"{v:>{width}.{prec}f}"

    rss = "-" if row["peak_rss_mb"] is None else f"{row['peak_rss_mb']:.0f} MB"
    inner = f"{f(row['inner_items_per_s'], 8)} {f(row['inner_audio_s_per_s'], 10)}"
    print(
        f"{row['voice']:<28} {row['how']:<22} {f(row['items_per_s'], 8)} {f(row['audio_s_per_s'], 9)} "
        f"{inner} {f(row['wall_s'], 7, 1)} {rss:>16}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())

"""What each start-up trick still buys a cold `forv-tts say --member` (issue 17).

    python bench/tricks_bench.py [--rounds 8] [--json OUT]

Every setting of `forv_tts._process.startup` has a switch (`FORV_TTS_*=0` turns it off). This runs the
same cold `say --member 1 <medium text>` with all of them on and with each one off, interleaved round by
round (the host is shared and its load drifts), on the default engine (ONNX) and on the torch engine,
and prints the median wall and CPU seconds and peak RSS of each, with the difference to all-on. A trick
is worth keeping on a path only where turning it off costs more than the spread of the all-on runs.

Uses the real-size members of bench/voices.py (built on first use) and a private cache directory, filled
once (weight cache and ONNX export) before anything is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

#: (label, environment variable) of each trick; the variable set to 0 turns it off.
#: The three removed after this measured them (commit 3395ac0; BENCHMARKS.md has that run) were
#: FORV_TTS_TUNE_MALLOC, FORV_TTS_FAST_EXIT and FORV_TTS_DEFER_TORCH_META.
TRICKS = (
    ("lazy option coercion", "FORV_TTS_LAZY_COERCION"),
    ("passive OpenMP", "FORV_TTS_PASSIVE_OPENMP"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--engines", default="onnx,torch")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    import onnx_bench
    import probe
    import voices

    vdir = voices.build()
    forv = onnx_bench._script()
    work = Path(tempfile.mkdtemp(prefix="tricks-bench-"))
    base_env = {**os.environ, "FORV_TTS_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(ROOT)}
    for _, var in TRICKS:
        base_env.pop(var, None)
    medium = probe.read_sentences()["medium"]
    engines = args.engines.split(",")

    def say(engine: str, env: dict[str, str]) -> dict[str, Any]:
        cmd = [forv, "say", "-m", "1", "--engine", engine, "--voice-dir", str(vdir), medium, "-o", "w.wav"]
        return onnx_bench.run(cmd, env, work)

    for engine in engines:  # fill the weight cache and the ONNX export before timing
        say(engine, base_env)
    variants = [("all on", None), *list(TRICKS)]
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {e: {v[0]: [] for v in variants} for e in engines}
    res: dict[str, Any] = {"host_load_start": os.getloadavg(), "rounds": args.rounds}
    for r in range(args.rounds):
        for engine in engines:
            for label, var in variants:
                env = dict(base_env) if var is None else {**base_env, var: "0"}
                runs[engine][label].append(say(engine, env))
        print(f"round {r + 1}: load {os.getloadavg()[0]:.2f}", flush=True)

    table: dict[str, Any] = {}
    for engine in engines:
        rows = {}
        ref = statistics.median(x["wall_s"] for x in runs[engine]["all on"])
        for label, got in runs[engine].items():
            wall = [x["wall_s"] for x in got]
            rows[label] = {
                "wall_median": statistics.median(wall),
                "wall_min": min(wall),
                "wall_max": max(wall),
                "cpu_median": statistics.median(x["cpu_s"] for x in got),
                "rss_mb_median": statistics.median(x["rss_mb"] for x in got),
                "delta_wall_vs_all_on": statistics.median(wall) - ref,
            }
        table[engine] = rows
        print(f"\n{engine}: cold say --member 1 (median of {args.rounds})")
        print(f"{'variant':32} {'wall':>7} {'min-max':>13} {'cpu':>6} {'rss':>6} {'Δ wall':>8}")
        for label, row in rows.items():
            off = label if label == "all on" else f"{label} off"
            print(
                f"{off:32} {row['wall_median']:7.3f} {row['wall_min']:6.3f}-{row['wall_max']:.3f}"
                f" {row['cpu_median']:6.3f} {row['rss_mb_median']:6.0f} {row['delta_wall_vs_all_on']:+8.3f}"
            )
    res["engines"] = table
    res["host_load_end"] = os.getloadavg()
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

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

import onnx_bench  # noqa: E402
import report  # noqa: E402

#: (label, environment variable) of each trick; the variable set to 0 turns it off.
#: The three removed after this measured them (commit 3395ac0; BENCHMARKS.md has that run) were
#: FORV_TTS_TUNE_MALLOC, FORV_TTS_FAST_EXIT and FORV_TTS_DEFER_TORCH_META.
TRICKS = (
    ("lazy option coercion", "FORV_TTS_LAZY_COERCION"),
    ("passive OpenMP", "FORV_TTS_PASSIVE_OPENMP"),
    ("vocoder windows side by side", "FORV_TTS_VOCODER_WINDOWS"),
    ("graph weight pages handed back", "FORV_TTS_RELEASE_GRAPH_PAGES"),
    ("exit without teardown (say)", "FORV_TTS_QUICK_EXIT"),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--engines", default="onnx,torch")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write", type=Path, default=None, help="rewrite this file's tricks section")
    parser.add_argument("--from-json", type=Path, default=None, help="render a saved --json result")
    parser.add_argument("--commit", default=None, help="the commit the saved result was measured at")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        saved.setdefault("commit", args.commit or "?")
        _write(saved, args.write)
        return 0

    import probe
    import voices

    vdir = voices.build()
    forv = onnx_bench._script()
    work = Path(tempfile.mkdtemp(prefix="tricks-bench-"))
    base_env = {**os.environ, "FORV_TTS_CACHE_DIR": str(work / "cache"), "PYTHONPATH": str(ROOT)}
    for _, name in TRICKS:
        base_env.pop(name, None)
    medium = probe.read_sentences()["medium"]
    engines = args.engines.split(",")

    def say(engine: str, env: dict[str, str]) -> dict[str, Any]:
        cmd = [forv, "say", "-m", "1", "--engine", engine, "--voice-dir", str(vdir), medium, "-o", "w.wav"]
        return onnx_bench.run(cmd, env, work)

    for engine in engines:  # fill the weight cache and the ONNX export before timing
        say(engine, base_env)
    variants: list[tuple[str, str | None]] = [("all on", None), *TRICKS]
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
    res["engines"] = table
    res["host_load_end"] = os.getloadavg()
    res["commit"] = onnx_bench._commit()
    if args.json:
        args.json.write_text(json.dumps(res, indent=1) + "\n")
    _write(res, args.write)
    shutil.rmtree(work, ignore_errors=True)
    return 0


def render(res: dict[str, Any]) -> str:
    """One table per engine: each setting turned off against all on, from the same interleaved run."""
    lines = [
        "## Start-up settings, each switched off (issue 17)",
        "",
        f"Generated by `bench/tricks_bench.py --write`, measured at {res.get('commit', '?')}:"
        f" cold `say --member 1 <medium text>`, {res['rounds']} interleaved rounds of every variant,"
        f" 1-minute load average {res['host_load_start'][0]:.1f} at the start and"
        f" {res['host_load_end'][0]:.1f} at the end on 2 shared cores. CPU seconds move least with the"
        " load; a difference inside the all-on runs' min-max is no difference.",
    ]
    for engine, rows in res["engines"].items():
        ref = rows["all on"]
        lines += [
            "",
            f"**{engine} engine**",
            "",
            "| variant | wall, median (min-max) | Δ wall | CPU s | Δ CPU | peak RSS |",
            "|---|---|---|---|---|---|",
        ]
        for label, row in rows.items():
            name = label if label == "all on" else f"{label} off"
            lines.append(
                f"| {name} | {row['wall_median']:.3f} s ({row['wall_min']:.3f}-{row['wall_max']:.3f})"
                f" | {row['wall_median'] - ref['wall_median']:+.3f} s | {row['cpu_median']:.3f}"
                f" | {row['cpu_median'] - ref['cpu_median']:+.3f} | {row['rss_mb_median']:.0f} MB |"
            )
    return "\n".join(lines) + "\n"


def _write(res: dict[str, Any], path: Path | None) -> None:
    text = render(res)
    print(text)
    if path is not None:
        name = f"tricks-{str(res.get('commit', 'now'))[:7]}"
        report.write_block(path, name, "bench/tricks_bench.py --write", text)


if __name__ == "__main__":
    raise SystemExit(main())

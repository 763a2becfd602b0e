"""Cold `say` of an earlier commit against this tree, interleaved round by round, with coqui's CLI.

    git worktree add /tmp/base <commit>
    python bench/before_after.py [ROUNDS] [COQUI_RUNS] [--base /tmp/base] [--json OUT]

Each round runs, in fresh processes of the installed console script: the base tree's `say --member 1`
(the base worktree on `PYTHONPATH`), this tree's, this tree's with each issue-28 switch off, the
built-in voice's `say` of both trees, and (for the first COQUI_RUNS rounds) coqui's CLI on member 2
with `OMP_WAIT_POLICY=PASSIVE`. Each tree has its own cache directory under the work directory,
filled (weight cache, ONNX export) before anything is timed. Prints medians with min-max, CPU seconds,
peak RSS, and coqui's time over each member variant's.
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
import probe  # noqa: E402
import voices  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=7)
    parser.add_argument("coqui", type=int, nargs="?", default=3)
    parser.add_argument("--base", type=Path, default=Path("/tmp/base-28"), help="worktree of the base")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="before-after-"))
    forv, vdir = onnx_bench._script(), voices.build()
    medium = probe.read_sentences()["medium"]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_")}

    def env(tree: Path, **extra: str) -> dict[str, str]:
        return {
            **clean,
            "PYTHONPATH": str(tree),
            "FORV_TTS_CACHE_DIR": str(work / f"cache-{tree.name}"),
            **extra,
        }

    member = [forv, "say", "-m", "1", "--voice-dir", str(vdir), medium, "-o", "w.wav"]
    builtin = [forv, "say", medium, "-o", "w.wav"]
    variants: dict[str, tuple[list[str], dict[str, str]]] = {
        "base member": (member, env(args.base)),
        "new member": (member, env(ROOT)),
        "new member, windows off": (member, env(ROOT, FORV_TTS_VOCODER_WINDOWS="0")),
        "new member, page release off": (member, env(ROOT, FORV_TTS_RELEASE_GRAPH_PAGES="0")),
        "base builtin": (builtin, env(args.base)),
        "new builtin": (builtin, env(ROOT)),
    }
    coqui = [PY, str(BENCH / "probe.py"), "coqui-cli", "--", "--text", probe.coqui_jamo_text(medium)]
    for key, path in voices.paths(voices.MODERN_MEMBER).items():
        coqui += [f"--{key}", str(path)]
    coqui += ["--out_path", str(work / "c.wav")]
    coqui_env = {**clean, "PYTHONPATH": str(ROOT), "OMP_WAIT_POLICY": "PASSIVE"}
    for cmd, e in variants.values():
        onnx_bench.run(cmd, e, work)
    runs: dict[str, list[dict[str, Any]]] = {k: [] for k in [*variants, "coqui (passive)"]}
    load_start = os.getloadavg()
    for r in range(args.rounds):
        for name, (cmd, e) in variants.items():
            runs[name].append(onnx_bench.run(cmd, e, work))
        if r < args.coqui:
            runs["coqui (passive)"].append(onnx_bench.run(coqui, coqui_env, work))
        print(f"round {r + 1}, load {os.getloadavg()[0]:.2f}", flush=True)
    out: dict[str, Any] = {"load_start": load_start, "load_end": os.getloadavg(), "results": {}}
    for name, got in runs.items():
        if not got:
            continue
        wall = [x["wall_s"] for x in got]
        out["results"][name] = {
            "wall": onnx_bench.summary(wall),
            "cpu_median": statistics.median(x["cpu_s"] for x in got),
            "rss_mb_median": statistics.median(x["rss_mb"] for x in got),
        }
        row = out["results"][name]
        print(
            f"{name:30s} wall {statistics.median(wall):.3f} s ({min(wall):.3f}-{max(wall):.3f})"
            f" cpu {row['cpu_median']:.3f} s rss {row['rss_mb_median']:.0f} MB"
        )
    if "coqui (passive)" in out["results"]:
        ref = out["results"]["coqui (passive)"]["wall"]["median"]
        for name, row in out["results"].items():
            if "member" in name:
                print(f"  coqui / {name}: {ref / row['wall']['median']:.1f}x")
    print(f"load average {load_start[0]:.2f} -> {out['load_end'][0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)  # the two trees' caches (exports, weight cache)
    return 0


PY = sys.executable

if __name__ == "__main__":
    raise SystemExit(main())

"""What importing the reading rules costs, before and after: import time, cold built-in `say`, normalise.

    git worktree add /tmp/base <commit>
    python bench/text_import_bench.py --base /tmp/base [--rounds 8] [--json OUT]

Interleaved round by round, each tree on `PYTHONPATH` in fresh processes:
- `python -X importtime -c "import forv_tts.text.rules"`: the module's own (self) and cumulative time;
- the built-in voice's cold `forv-tts say <medium sentence> -o w.wav` (bench/sentences.txt), wall time;
- bench/normalize_bench.py (its 500-character paragraph): the first call in a fresh process (import,
  g2pk, every pattern that paragraph needs) and the warm medians of `normalize` and of `expand` alone.

`--warm N` measures only the warm path, more closely: N rounds, each tree in turn, each process expanding
every sentence of tests/text's tables (the Hangul string literals up to 200 characters) once to warm up,
then three timed passes (median per pass).

Two passes: first with no bytecode cache for either tree's own modules (how processes here run,
`PYTHONDONTWRITEBYTECODE=1`: every import compiles the source), then after `compileall` of both
trees' `forv_tts` (as `pip install` leaves an installed package). Prints medians with min-max and the
load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
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

PY = sys.executable


def _importtime(env: dict[str, str], cwd: Path) -> tuple[float, float]:
    done = subprocess.run(
        [PY, "-X", "importtime", "-c", "import forv_tts.text.rules"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    line = next(x for x in done.stderr.splitlines() if x.rstrip().endswith(" forv_tts.text.rules"))
    fields = line.split(":", 1)[1].split("|")  # "import time:  self |  cumulative |  name"
    return int(fields[0]) / 1000, int(fields[1]) / 1000


def _normalize(env: dict[str, str], cwd: Path) -> dict[str, Any]:
    done = subprocess.run(
        [PY, str(BENCH / "normalize_bench.py"), "--rounds", "15"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


_WARM = r"""
import ast, json, pathlib, re, statistics, time
from forv_tts.text import rules
texts = []
for path in sorted(pathlib.Path(ROOT, "tests", "text").glob("test_*.py")):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        v = getattr(node, "value", None)
        if isinstance(node, ast.Constant) and isinstance(v, str) and len(v) <= 200:
            if re.search("[가-힣]", v):
                texts.append(v)
for t in texts:
    rules.expand(t)
passes = []
for _ in range(3):
    started = time.perf_counter()
    for t in texts:
        rules.expand(t)
    passes.append(time.perf_counter() - started)
print(json.dumps({"texts": len(texts), "pass_ms": 1000 * statistics.median(passes)}))
"""


def _warm(trees: dict[str, Path], rounds: int) -> None:
    got: dict[str, list[float]] = {label: [] for label in trees}
    count = 0
    for _ in range(rounds):
        for label, tree in trees.items():
            env = {**os.environ, "PYTHONPATH": str(tree)}
            code = f"ROOT = {str(ROOT)!r}\n" + _WARM
            done = subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True)
            row = json.loads(done.stdout.strip().splitlines()[-1])
            count = row["texts"]
            got[label].append(row["pass_ms"])
    for label, values in got.items():
        s = onnx_bench.summary(values)
        print(
            f"  expand, {count} table sentences, warm pass: {label} {s['median']:.1f} ms"
            f" ({s['min']:.1f}-{s['max']:.1f})"
        )
    print(f"  base/new {statistics.median(got['base']) / statistics.median(got['new']):.3f}x")


def _pycache(tree: Path) -> None:
    for folder in (tree / "forv_tts").rglob("__pycache__"):
        shutil.rmtree(folder)


def _pass(trees: dict[str, Path], rounds: int, work: Path, forv: str, medium: str) -> dict[str, Any]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_")}
    envs = {
        label: {**clean, "PYTHONPATH": str(tree), "FORV_TTS_CACHE_DIR": str(work / f"cache-{label}")}
        for label, tree in trees.items()
    }
    say = [forv, "say", medium, "-o", "w.wav"]
    for env in envs.values():
        onnx_bench.run(say, env, work)  # fill each tree's cache (the built-in voice's session files)
    got: dict[str, dict[str, list[float]]] = {label: {} for label in trees}
    for r in range(rounds):
        for label, env in envs.items():
            rows = got[label]
            own, cumulative = _importtime(env, work)
            rows.setdefault("import self ms", []).append(own)
            rows.setdefault("import cumulative ms", []).append(cumulative)
            rows.setdefault("cold say s", []).append(onnx_bench.run(say, env, work)["wall_s"])
            if r < max(3, rounds // 2):
                n = _normalize(env, work)
                rows.setdefault("normalize first call s", []).append(n["first_call_s"])
                rows.setdefault("normalize warm ms", []).append(n["steady_ms_median"])
                rows.setdefault("expand warm ms", []).append(n["expand_only_ms_median"])
        print(f"  round {r + 1}, load {os.getloadavg()[0]:.2f}", flush=True)
    return {label: {k: onnx_bench.summary(v) for k, v in rows.items()} for label, rows in got.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="worktree of the base commit")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--warm", type=int, default=0, help="only the warm comparison, this many rounds")
    args = parser.parse_args(argv)
    trees = {"base": args.base.resolve(), "new": ROOT}
    if args.warm:
        start = os.getloadavg()
        _warm(trees, args.warm)
        print(f"load average {start[0]:.2f} -> {os.getloadavg()[0]:.2f}")
        return 0
    work = Path(tempfile.mkdtemp(prefix="text-import-"))
    forv, medium = onnx_bench._script(), probe.read_sentences()["medium"]
    out: dict[str, Any] = {"load_start": os.getloadavg(), "passes": {}}
    for name in ("no bytecode cache", "compiled (as installed)"):
        for tree in trees.values():
            _pycache(tree)
            if name.startswith("compiled"):
                subprocess.run([PY, "-m", "compileall", "-q", str(tree / "forv_tts")], check=True)
        print(f"{name}:", flush=True)
        out["passes"][name] = res = _pass(trees, args.rounds, work, forv, medium)
        for key in res["base"]:
            cells = []
            for label in trees:
                s = res[label][key]
                cells.append(f"{label} {s['median']:.3f} ({s['min']:.3f}-{s['max']:.3f})")
            ratio = res["base"][key]["median"] / max(res["new"][key]["median"], 1e-9)
            print(f"  {key:24s} " + "  ".join(cells) + f"  base/new {ratio:.2f}x")
    for tree in trees.values():
        _pycache(tree)
    out["load_end"] = os.getloadavg()
    print(f"load average {out['load_start'][0]:.2f} -> {out['load_end'][0]:.2f}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The ONNX engine against the torch engine and stock coqui, measured in the same run (issue 17).

    python bench/onnx_bench.py [--pairs 7] [--coqui 3] [--rtf-rounds 2] [--batch-lines 200] [--json OUT]

Uses the real-size members of bench/voices.py (built on first use). Every figure is taken in fresh
processes of the installed console script, interleaved (onnx, torch, coqui, onnx, torch, ...) because
the host is shared and its load drifts; medians are reported with min-max and ratios.

* cold `forv-tts say --member 1 <medium text>`: wall seconds and peak RSS (bench/spawn.py) per engine;
  coqui's own `tts` CLI on member 2 (the format it reads), as bench/run.py runs it.
* synthesis RTF on one thread, warm, the texts of bench/sentences.txt (`probe.py forv-rtf` for torch
  and coqui, `onnx-rtf` below for ONNX).
* `forv-tts batch` of N member lines at `--jobs 2`, per engine.
* the first use of a checkpoint with the ONNX engine (the export into the cache), once.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from forv_tts.config import SynthesisConfig

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import report  # noqa: E402
import spawn  # noqa: E402


def _script() -> str:
    found = shutil.which("forv-tts", path=str(Path(PY).parent))
    if not found:
        raise SystemExit("forv-tts is not installed next to this interpreter: pip install -e .")
    return found


def run(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    """Wall and CPU seconds, the child's own peak RSS (MB; bench/spawn.py) and stdout of one process."""
    got = spawn.measure(cmd, env=env, cwd=cwd)
    if got.rc != 0:
        raise SystemExit(f"{' '.join(cmd[:6])} … failed ({got.rc}):\n{got.stderr[-2000:]}")
    return {"wall_s": got.wall_s, "cpu_s": got.cpu_s, "rss_mb": got.rss_mb, "stdout": got.stdout}


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def onnx_rtf(member: str, threads: int, repeats: int) -> dict[str, Any]:
    """Warm ONNX synthesis speed over bench/sentences.txt on `threads` threads (probe.py's method)."""
    import probe
    import voices

    from forv_tts.audio import DEFAULT_PAUSE_S
    from forv_tts.synthesis import prepare_text, synthesize_sentences
    from forv_tts.voices.layout import find_voice
    from forv_tts.voices.onnx import cache
    from forv_tts.voices.onnx.voice import OnnxVoice

    info = find_voice(member, voices.VOICES)
    voice = OnnxVoice(info, cache.exported_dir(info), threads=threads)
    total_audio = total_time = total_cpu = 0.0
    texts = {}
    seeded = SynthesisConfig(seed=1)
    for label, text in probe.read_sentences().items():
        sentences = prepare_text(text)
        audio = synthesize_sentences(voice, sentences, seeded)
        speech_s = audio.duration - (len(sentences) - 1) * DEFAULT_PAUSE_S
        cpu: list[float] = []
        seconds = probe._median_time(lambda s=sentences: synthesize_sentences(voice, s, seeded), repeats, cpu)
        texts[label] = {"audio_s": speech_s, "synth_s": seconds, "rtf": seconds / speech_s}
        total_audio += speech_s
        total_time += seconds
        total_cpu += cpu[0]
    return {
        "rtf": total_time / total_audio,
        "rtf_cpu": total_cpu / total_audio,
        "texts": texts,
        "torch_imported": "torch" in sys.modules,
    }


#: One long sentence (~200 characters, no sentence end inside) for the first-audio figure (issue 28).
LONG_SENTENCE = (
    "오늘 오후 서울 시청 앞 광장에서는 시민 수천 명이 모인 가운데 올해로 스무 번째를 맞는 가을 음악 축제가 "
    "화려하게 막을 올렸으며, 주최 측은 이번 주말까지 이어지는 행사 기간 동안 모두 서른 개가 넘는 공연과 체험 "
    "프로그램을 준비했다고 밝히면서 교통 혼잡이 예상되는 만큼 가급적 대중교통을 이용해 달라고 "
    "시민들에게 거듭 당부했습니다."
)


def onnx_threads(member: str, repeats: int) -> dict[str, Any]:
    """One sentence on 1 and on 2 threads (the same export, interleaved, warm), and the first audio of
    `LONG_SENTENCE`: when its first vocoder block is out (`OnnxVoice.vocode_blocks`) against when its
    first sentence is whole (what a stream gives per sentence), from the start of synthesis."""
    import time

    import numpy as np
    import probe
    import voices

    from forv_tts.synthesis import prepare_text
    from forv_tts.voices.layout import find_voice
    from forv_tts.voices.onnx import cache
    from forv_tts.voices.onnx.voice import OnnxVoice

    info = find_voice(member, voices.VOICES)
    directory = cache.exported_dir(info)
    by_threads = {n: OnnxVoice(info, directory, threads=n) for n in (1, 2)}
    seeded = SynthesisConfig(seed=1)
    medium = prepare_text(probe.read_sentences()["medium"])
    assert len(medium) == 1
    out: dict[str, Any] = {"chars": len(medium[0])}
    wall: dict[int, list[float]] = {1: [], 2: []}
    cpu: dict[int, list[float]] = {1: [], 2: []}
    samples = {}
    for n, voice in by_threads.items():
        samples[n] = voice.synthesize(medium[0], seeded).samples  # warm: first-use costs are not timed
    for _ in range(repeats):
        for n, voice in by_threads.items():
            t, c = time.perf_counter(), time.process_time()
            voice.synthesize(medium[0], seeded)
            wall[n].append(time.perf_counter() - t)
            cpu[n].append(time.process_time() - c)
    out["wall_1"], out["wall_2"] = statistics.median(wall[1]), statistics.median(wall[2])
    out["cpu_1"], out["cpu_2"] = statistics.median(cpu[1]), statistics.median(cpu[2])
    out["speedup"] = out["wall_1"] / out["wall_2"]
    out["max_diff"] = float(np.max(np.abs(samples[1] - samples[2])))
    out["audio_s"] = len(samples[1]) / by_threads[1].sample_rate
    from forv_tts.synthesis import iter_synthesize

    long_sentences = prepare_text(LONG_SENTENCE)
    longest = max(
        long_sentences, key=len
    )  # the sentence cap splits it: the longest piece one voice call gets
    voice = by_threads[2]
    spoken = SynthesisConfig(seed=1, normalize=False)  # synthesis only: the text is normalised already
    first_block, first_sentence = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        chunks = iter_synthesize(longest, voice, spoken, parts=True)  # what say --stream and the service use
        next(chunks)
        first_block.append(time.perf_counter() - t)
        for _chunk in chunks:
            pass
        first_sentence.append(time.perf_counter() - t)
    out["long"] = {
        "chars": len(LONG_SENTENCE),
        "longest": len(longest),
        "pieces": [len(x) for x in long_sentences],
        "first_block_s": statistics.median(first_block),
        "first_sentence_s": statistics.median(first_sentence),
    }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7, help="cold say runs per engine")
    parser.add_argument(
        "--coqui", type=int, default=3, help="coqui CLI runs (interleaved with the first pairs)"
    )
    parser.add_argument("--rtf-rounds", type=int, default=2)
    parser.add_argument("--rtf-repeats", type=int, default=3)
    parser.add_argument("--batch-lines", type=int, default=200)
    parser.add_argument("--batch-rounds", type=int, default=1)
    parser.add_argument("--skip-rtf", action="store_true")
    parser.add_argument("--batch-only", action="store_true", help="only the batch figure (merge by hand)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--write", type=Path, default=None, help="rewrite this file's onnx section")
    parser.add_argument(
        "--from-json", type=Path, default=None, help="render a saved --json result instead of measuring"
    )
    parser.add_argument(
        "--speak-only-venv",
        type=Path,
        default=None,
        help="a virtualenv made with `pip install forv-tts` alone: its size goes into the report",
    )
    parser.add_argument("--onnx-rtf", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--onnx-threads", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads-rounds", type=int, default=2, help="1- vs 2-thread probe processes")
    args = parser.parse_args(argv)
    if args.onnx_rtf:
        print(json.dumps(onnx_rtf("1", args.threads, args.rtf_repeats)))
        return 0
    if args.onnx_threads:
        print(json.dumps(onnx_threads("1", args.rtf_repeats)))
        return 0
    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        if args.speak_only_venv:
            saved["speak_only_venv_mb"] = report.dir_size_mb(args.speak_only_venv)
            saved["full_venv_mb"] = report.dir_size_mb(Path(PY).parent.parent)
        if args.write:
            report.write_block(args.write, "onnx", "bench/onnx_bench.py --write", render(saved))
        print(render(saved))
        return 0

    import probe
    import voices

    vdir = voices.build()
    forv = _script()
    work = Path(tempfile.mkdtemp(prefix="onnx-bench-"))
    cache_dir = work / "cache"
    env = {**os.environ, "FORV_TTS_CACHE_DIR": str(cache_dir), "PYTHONPATH": str(ROOT)}
    env.pop("FORV_TTS_ENGINE", None)
    medium = probe.read_sentences()["medium"]
    res: dict[str, Any] = {"host_load_start": os.getloadavg(), "pairs": args.pairs}
    if args.batch_only:
        args.pairs = args.coqui = 0
        args.skip_rtf = True

    print("first use with the ONNX engine (weight cache + export into the cache)", flush=True)
    first = run([forv, "say", "-m", "1", "--voice-dir", str(vdir), medium, "-o", "w.wav"], env, work)
    res["onnx_first_use_s"] = first["wall_s"]
    run([forv, "say", "-m", "2", "--voice-dir", str(vdir), medium, "-o", "w.wav"], env, work)
    run(
        [forv, "say", "-m", "1", "--engine", "torch", "--voice-dir", str(vdir), medium, "-o", "w.wav"],
        env,
        work,
    )
    print(f"  {first['wall_s']:.1f} s", flush=True)

    # forv-tts as pip installs it: its modules compiled to bytecode (pip writes the .pyc files at install,
    # as it did for coqui's, typer's and every other package in site-packages). A checkout run with
    # PYTHONDONTWRITEBYTECODE=1 (CI, this host) would compile every forv_tts module from source in every
    # cold process, which no installed user pays; "onnx_source" keeps that condition (a copy of the
    # package without bytecode), the one the figures before 2026-12-07's second run were taken in.
    res["bytecode"] = bool(compileall.compile_dir(str(ROOT / "forv_tts"), quiet=1))
    source_tree = work / "source-tree"
    shutil.copytree(ROOT / "forv_tts", source_tree / "forv_tts", ignore=shutil.ignore_patterns("__pycache__"))
    source_env = {**env, "PYTHONPATH": str(source_tree), "PYTHONDONTWRITEBYTECODE": "1"}

    print("cold say --member 1, medium text (interleaved)", flush=True)
    say: dict[str, list[dict[str, Any]]] = {"onnx": [], "onnx_source": [], "torch": [], "coqui": []}
    light: dict[str, list[dict[str, Any]]] = {"help": [], "builtin": [], "coqui_help": []}
    coqui_args = [PY, str(BENCH / "probe.py"), "coqui-cli", "--", "--text", probe.coqui_jamo_text(medium)]
    for key, path in voices.paths(voices.MODERN_MEMBER).items():
        coqui_args += [f"--{key}", str(path)]
    coqui_args += ["--out_path", str(work / "c.wav")]
    # coqui with passive OpenMP waits too (issue 28: "both with passive OpenMP waits"); spinning, its
    # CLI takes seconds longer on a shared host, which would flatter the ratio.
    coqui_env = {**env, "OMP_WAIT_POLICY": "PASSIVE"}
    for i in range(args.pairs):
        for engine in ("onnx", "torch"):
            cmd = [
                forv,
                "say",
                "-m",
                "1",
                "--engine",
                engine,
                "--voice-dir",
                str(vdir),
                medium,
                "-o",
                "w.wav",
            ]
            say[engine].append(run(cmd, env, work))
            if engine == "onnx":
                say["onnx_source"].append(run(cmd, source_env, work))
        light["help"].append(run([forv, "--help"], env, work))
        light["builtin"].append(run([forv, "say", medium, "-o", "w.wav"], env, work))
        if i < args.coqui:
            say["coqui"].append(run(coqui_args, coqui_env, work))
            help_args = [PY, str(BENCH / "probe.py"), "coqui-cli", "--", "--help"]
            light["coqui_help"].append(run(help_args, coqui_env, work))
        print(
            f"  {i + 1}: " + ", ".join(f"{k} {v[-1]['wall_s']:.2f} s" for k, v in say.items() if v),
            flush=True,
        )
    res["say"] = {
        k: {
            "wall": summary([r["wall_s"] for r in v]),
            "cpu": summary([r["cpu_s"] for r in v]),
            "rss_mb": summary([r["rss_mb"] for r in v]),
        }
        for k, v in say.items()
        if v
    }
    res["light"] = {
        k: {"wall": summary([r["wall_s"] for r in v]), "rss_mb": summary([r["rss_mb"] for r in v])}
        for k, v in light.items()
        if v
    }

    print("synthesis RTF, 1 thread, warm (interleaved rounds)", flush=True)
    penv = {**env, "OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": "1"}
    rtf: dict[str, list[float]] = {"onnx": [], "torch": [], "coqui": []}
    rtf_cpu: dict[str, list[float]] = {"onnx": [], "torch": [], "coqui": []}
    rep = ["--repeats", str(args.rtf_repeats)]
    for _ in range(0 if args.skip_rtf else args.rtf_rounds):
        out = run(
            [PY, __file__, "--onnx-rtf", "--threads", "1", "--rtf-repeats", str(args.rtf_repeats)], penv, work
        )
        got = json.loads(out["stdout"])
        rtf["onnx"].append(got["rtf"])
        rtf_cpu["onnx"].append(got["rtf_cpu"])
        tenv = {**penv, "FORV_TTS_ENGINE": "torch"}
        out = run(
            [PY, str(BENCH / "probe.py"), "forv-rtf", "--member", "1", "--threads", "1", *rep], tenv, work
        )
        got = json.loads(out["stdout"].strip().splitlines()[-1])
        rtf["torch"].append(got["rtf"])
        rtf_cpu["torch"].append(got.get("rtf_cpu", float("nan")))
        out = run(
            [PY, str(BENCH / "probe.py"), "coqui-rtf", "--member", "2", "--threads", "1", *rep], penv, work
        )
        got = json.loads(out["stdout"].strip().splitlines()[-1])
        rtf["coqui"].append(got["rtf"])
        rtf_cpu["coqui"].append(got.get("rtf_cpu", float("nan")))
        print("  " + ", ".join(f"{k} {v[-1]:.3f}" for k, v in rtf.items()), flush=True)
    res["rtf_1thread"] = {k: summary(v) for k, v in rtf.items() if v}
    threads_runs = []
    for _ in range(0 if args.skip_rtf else args.threads_rounds):
        out = run([PY, __file__, "--onnx-threads", "--rtf-repeats", str(max(args.rtf_repeats, 5))], env, work)
        threads_runs.append(json.loads(out["stdout"]))
        got = threads_runs[-1]
        print(
            f"  1 vs 2 threads: {got['wall_1']:.3f} / {got['wall_2']:.3f} s,"
            f" first part {got['long']['first_block_s']:.3f} s",
            flush=True,
        )
    if threads_runs:
        res["threads"] = threads_runs
    res["rtf_cpu_1thread"] = {k: summary(v) for k, v in rtf_cpu.items() if v}

    if args.batch_lines:
        import batch_bench

        lines = work / "lines.txt"
        lines.write_text(batch_bench._lines(args.batch_lines), encoding="utf-8")
        print(f"batch {args.batch_lines} member lines --jobs 2 (interleaved)", flush=True)
        batch: dict[str, list[float]] = {"onnx": [], "torch": []}
        batch_cpu: dict[str, list[float]] = {"onnx": [], "torch": []}
        for r in range(args.batch_rounds):
            for engine in ("onnx", "torch"):
                out_dir = work / f"batch-{engine}-{r}"
                cmd = [forv, "batch", str(lines), "-m", "1", "--voice-dir", str(vdir), "--jobs", "2"]
                cmd += ["--engine", engine, "--out-dir", str(out_dir), "-q"]
                got = run(cmd, env, work)
                batch[engine].append(got["wall_s"])
                batch_cpu[engine].append(got["cpu_s"])  # the workers' too: wait4 counts reaped children
                shutil.rmtree(out_dir, ignore_errors=True)
            print("  " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in batch.items()), flush=True)
        res["batch"] = {"lines": args.batch_lines, **{k: summary(v) for k, v in batch.items()}}
        res["batch_cpu"] = {k: summary(v) for k, v in batch_cpu.items()}

    res["host_load_end"] = os.getloadavg()
    res["commit"] = _commit()
    if args.speak_only_venv:
        res["speak_only_venv_mb"] = report.dir_size_mb(args.speak_only_venv)
        res["full_venv_mb"] = report.dir_size_mb(Path(PY).parent.parent)
    text = json.dumps(res, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    if args.write:
        report.write_block(args.write, "onnx", "bench/onnx_bench.py --write", render(res))
    shutil.rmtree(work, ignore_errors=True)
    return 0


def _commit() -> str:
    import subprocess

    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True
        )
    except OSError:
        return "unknown"
    return out.stdout.strip() or "unknown"


def render(res: dict[str, Any]) -> str:
    """The BENCHMARKS.md section: the issue's targets against the ONNX engine, the torch engine and
    coqui, all from the same run."""

    def med(d: dict[str, Any]) -> str:
        return f"{d['median']:.2f} s ({d['min']:.2f}-{d['max']:.2f})"

    say, rtf = res["say"], res.get("rtf_1thread", {})
    rows = [
        "## Summary: the ONNX engine (the default; issues 17, 28)",
        "",
        f"Generated by `bench/onnx_bench.py --write` at {res.get('commit', '?')}: every figure from one run,"
        " fresh processes of the installed console script, interleaved (onnx, torch, coqui, onnx, ...);"
        f" 1-minute load average {res['host_load_start'][0]:.1f} at the start and"
        f" {res['host_load_end'][0]:.1f} at the end on 2 shared cores, so read the ratios. Peak RSS is each"
        " child's own (bench/spawn.py). Member 1 of bench/voices.py (real size, Coqui 0.x format);"
        " coqui's CLI runs the modern copy of the same weights (member 2; it cannot read 0.x)."
        + (
            " forv-tts's modules run from compiled bytecode, as a pip install leaves them (and as"
            " coqui's do); the row without bytecode is the condition of the runs before 2026-12-07's second."
            if res.get("bytecode")
            else ""
        ),
        "",
        "| figure | target | ONNX engine (default) | torch engine | coqui-tts | ONNX vs torch"
        " | ONNX vs coqui |",
        "|---|---|---|---|---|---|---|",
    ]
    o, t, c = say["onnx"], say["torch"], say["coqui"]

    def row(*cells: str) -> None:
        rows.append("| " + " | ".join(cells) + " |")

    def ratio(a: float, b: float, word: str) -> str:
        return f"{a / b:.1f}× {word}"

    n = o["wall"]["n"]
    light = res.get("light", {})
    if "help" in light:
        h, ch = light["help"]["wall"], light.get("coqui_help", {}).get("wall")
        row(
            f"`forv-tts --help` (median, min-max of {h['n']})",
            "≤ 0.3 s, ≥ 15× coqui",
            med(h),
            "—",
            med(ch) if ch else "—",
            "",
            ratio(ch["median"], h["median"], "faster") if ch else "",
        )
        b = light["builtin"]
        row(
            "cold `say`, built-in voice, medium text",
            "≤ 1.0 s",
            f"{med(b['wall'])}, {b['rss_mb']['median']:.0f} MB",
            "—",
            "—",
            "",
            "",
        )
    row(
        f"cold `say --member`, medium text, wall (median, min-max of {n})",
        "≤ 0.8 s; ≥ 8× coqui",
        med(o["wall"]),
        med(t["wall"]),
        med(c["wall"]),
        ratio(t["wall"]["median"], o["wall"]["median"], "faster"),
        ratio(c["wall"]["median"], o["wall"]["median"], "faster"),
    )
    src = say.get("onnx_source")
    if src:
        row(
            "the same, forv-tts's modules without bytecode (the condition of runs before this one)",
            "",
            med(src["wall"]),
            "—",
            "—",
            ratio(t["wall"]["median"], src["wall"]["median"], "faster"),
            ratio(c["wall"]["median"], src["wall"]["median"], "faster"),
        )
    row(
        "the same, CPU seconds (user + system)",
        "",
        *(f"{e['cpu']['median']:.2f} s" for e in (o, t, c)),
        ratio(t["cpu"]["median"], o["cpu"]["median"], "less"),
        ratio(c["cpu"]["median"], o["cpu"]["median"], "less"),
    )
    row(
        "peak RSS of that process",
        "≤ 200 MB",
        *(f"{e['rss_mb']['median']:.0f} MB" for e in (o, t, c)),
        ratio(t["rss_mb"]["median"], o["rss_mb"]["median"], "less"),
        ratio(c["rss_mb"]["median"], o["rss_mb"]["median"], "less"),
    )
    if rtf:
        ro, rt, rc = rtf["onnx"], rtf["torch"], rtf["coqui"]
        rows.append(
            f"| synthesis RTF, 1 thread, warm (median, min-max of {ro['n']} rounds) | ≤ 0.065 |"
            f" {ro['median']:.3f} ({ro['min']:.3f}-{ro['max']:.3f}) |"
            f" {rt['median']:.3f} ({rt['min']:.3f}-{rt['max']:.3f}) |"
            f" {rc['median']:.3f} ({rc['min']:.3f}-{rc['max']:.3f}) |"
            f" {rt['median'] / ro['median']:.2f}× | {rc['median'] / ro['median']:.2f}× |"
        )
    if res.get("threads"):
        runs = res["threads"]
        w1 = statistics.median(r["wall_1"] for r in runs)
        w2 = statistics.median(r["wall_2"] for r in runs)
        diff = max(r["max_diff"] for r in runs)
        row(
            f"one sentence ({runs[0]['audio_s']:.1f} s of audio), warm: 1 thread / 2 threads"
            f" (median of {len(runs)} processes)",
            "2 threads ≥ 1.6× faster",
            f"{w1:.3f} s / {w2:.3f} s: **{w1 / w2:.2f}×** (samples within {diff:.1e})",
            "—",
            "—",
            "",
            "",
        )
        first = statistics.median(r["long"]["first_block_s"] for r in runs)
        whole = statistics.median(r["long"]["first_sentence_s"] for r in runs)
        pieces = runs[0]["long"]["pieces"]
        longest = runs[0]["long"].get("longest", max(pieces))
        row(
            f"first audio of the longest sentence a voice call gets ({longest} characters: the"
            f" {runs[0]['long']['chars']}-character sentence split at the sentence cap into"
            f" {' + '.join(str(p) for p in pieces)}), 2 threads, from the start of synthesis",
            "≤ 0.35 s",
            f"first part (`iter_synthesize(parts=True)`, what a stream writes) **{first:.3f} s**;"
            f" the whole sentence {whole:.3f} s",
            "—",
            "—",
            "",
            "",
        )
    if "batch" in res:
        b = res["batch"]
        rows.append(
            f"| `batch` of {b['lines']} member lines, `--jobs 2` | ≥ 1.3× faster than torch |"
            f" {b['onnx']['median']:.1f} s | {b['torch']['median']:.1f} s | — |"
            f" {b['torch']['median'] / b['onnx']['median']:.2f}× faster | |"
        )
        if "batch_cpu" in res:
            bc = res["batch_cpu"]
            row(
                "the same, CPU seconds of the run and its workers",
                "",
                f"{bc['onnx']['median']:.1f} s",
                f"{bc['torch']['median']:.1f} s",
                "—",
                ratio(bc["torch"]["median"], bc["onnx"]["median"], "less"),
                "",
            )
    if "speak_only_venv_mb" in res:
        row(
            "install size, `pip install forv-tts` (speaks exported voices and the built-in voice)",
            "report",
            f"{res['speak_only_venv_mb']:.0f} MB",
            f"{res['full_venv_mb']:.0f} MB (the `[test]` install: torch, coqui-tts)",
            "",
            ratio(res["full_venv_mb"], res["speak_only_venv_mb"], "smaller"),
            "",
        )
    rows += [
        "",
        f"First use of a checkpoint with the ONNX engine (weight cache + export into the cache, once):"
        f" {res['onnx_first_use_s']:.1f} s.",
    ]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())

# ruff: noqa: E501  (report prose and table rows read better unwrapped)
"""forv-tts against stock coqui-tts on the same checkpoints: start-up, load, synthesis speed, batch, memory.

    python bench/run.py --write BENCHMARKS.md            # the full run (~20-40 min on 2 cores, with the host's load)
    python bench/run.py --quick                           # a fast sanity run (~5 min), printed only
    python bench/run.py --save-baseline bench/baseline.json   # record a "before" column

Every figure is the median of several runs in fresh processes (wall clock from process start to exit;
peak RSS from the kernel's rusage of that child). The voices are real-size random-weight Glow-TTS +
HiFi-GAN v2 networks built once by bench/voices.py (cached in bench/out/, git-ignored). Batch figures
come from bench/batch_bench.py. The prose of BENCHMARKS.md (findings, changes) is bench/notes.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
PY = sys.executable
sys.path.insert(0, str(BENCH))

import probe  # noqa: E402
import spawn  # noqa: E402
import voices  # noqa: E402

#: One child process: wall and CPU seconds, its own peak RSS (MB), exit code, output.
Run = spawn.Measured


def script(name: str) -> str:
    """A console script installed next to this interpreter."""
    found = shutil.which(name, path=str(Path(PY).parent))
    if not found:
        raise SystemExit(f"{name} is not installed next to {PY}")
    return found


def run_child(
    argv: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 900
) -> Run:
    """Run `argv`, returning wall time and the child's own peak RSS (bench/spawn.py says why a launcher)."""
    return spawn.measure(argv, env=env, cwd=cwd, timeout=timeout)


def loadavg() -> float:
    """1-minute load average (noise indicator: other work on this machine)."""
    return os.getloadavg()[0]


@dataclass
class Series:
    """Repeated runs of one command."""

    name: str
    command: str
    walls: list[float]
    cpus: list[float]
    rss: list[float]
    rc: list[int]
    load: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.walls)

    @property
    def rss_max(self) -> float:
        return max(self.rss)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["median"] = self.median
        d["min"] = min(self.walls)
        d["cpu_median"] = statistics.median(self.cpus)
        d["rss_max"] = self.rss_max
        return d


def repeat(
    name: str,
    argv: Sequence[str],
    n: int,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    expect_rc: int | None = 0,
    shown: str | None = None,
    warmup: bool = True,
    check: Callable[[Run], None] | None = None,
) -> Series:
    """`n` timed runs (after one untimed warm-up that fills the page cache)."""
    if warmup:
        run_child(argv, env=env, cwd=cwd)
    s = Series(name, shown or " ".join(argv), [], [], [], [], [])
    for _ in range(n):
        load = loadavg()
        r = run_child(argv, env=env, cwd=cwd)
        if expect_rc is not None and r.rc != expect_rc:
            raise SystemExit(f"{name}: exit {r.rc} (expected {expect_rc}):\n{r.stderr[-3000:]}")
        if check is not None:
            check(r)
        s.walls.append(r.wall_s)
        s.cpus.append(r.cpu_s)
        s.rss.append(r.rss_mb)
        s.rc.append(r.rc)
        s.load.append(load)
    print(
        f"  {name}: median {s.median:.3f} s (min {min(s.walls):.3f}, CPU {statistics.median(s.cpus):.3f}), "
        f"peak RSS {s.rss_max:.0f} MB",
        flush=True,
    )
    return s


def probe_json(args: Sequence[str], *, env: dict[str, str] | None = None) -> tuple[dict[str, Any], Run]:
    """Run bench/probe.py and parse its JSON line."""
    r = run_child([PY, str(BENCH / "probe.py"), *args], env=env)
    if r.rc != 0:
        raise SystemExit(f"probe {' '.join(args)} failed ({r.rc}):\n{r.stderr[-3000:]}")
    line = [ln for ln in r.stdout.splitlines() if ln.startswith("{")][-1]
    data: dict[str, Any] = json.loads(line)
    data["wall_s"] = r.wall_s
    data["rss_mb"] = r.rss_mb
    return data, r


def machine(tree: Path) -> dict[str, Any]:
    """CPU, cores, versions: what the numbers were measured on."""
    cpu = platform.processor()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    code = (
        "import json, torch, importlib.metadata as m\n"
        "print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(),"
        " 'interop': torch.get_num_interop_threads(), 'coqui_tts': m.version('coqui-tts'),"
        " 'typer': m.version('typer'), 'numpy': m.version('numpy'),"
        " 'mkldnn': torch.backends.mkldnn.is_available(),"
        " 'capability': torch.backends.cpu.get_cpu_capability()}))"
    )
    versions = json.loads(subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True).stdout)
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "available_cores": len(os.sched_getaffinity(0)),
        "memory_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        **versions,
        "forv_tts_commit": subprocess.run(
            ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        ).stdout.strip(),
        "forv_tts_dirty": bool(
            subprocess.run(
                ["git", "-C", str(tree), "status", "--porcelain", "--", "forv_tts"],
                capture_output=True,
                text=True,
            ).stdout.strip()
        ),
    }


def gflops_single_thread() -> dict[str, float]:
    """Measured single-thread sgemm GFLOP/s (the ceiling for conv-heavy inference on one core)."""
    code = (
        "import json, time, torch\n"
        "torch.set_num_threads(1)\n"
        "a = torch.randn(1024, 1024); b = torch.randn(1024, 1024)\n"
        "for _ in range(3): a @ b\n"
        "best = 0.0\n"
        "for _ in range(7):\n"
        "    t = time.perf_counter()\n"
        "    for _ in range(10): a @ b\n"
        "    best = max(best, 10 * 2 * 1024**3 / (time.perf_counter() - t) / 1e9)\n"
        "print(json.dumps({'sgemm_gflops_best': best}))\n"
    )
    r = run_child([PY, "-c", code])
    data: dict[str, float] = json.loads(r.stdout)
    return data


def model_flops() -> dict[str, float]:
    """GFLOP per second of audio of each network (torch's FlopCounterMode on the medium text)."""
    code = (
        "import json, sys, torch\n"
        f"sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(BENCH)!r})\n"
        "from torch.utils.flop_counter import FlopCounterMode\n"
        "import voices, probe\n"
        "from forv_tts.voices.coqui import networks as cv\n"
        "from forv_tts.voices.layout import find_voice\n"
        "from forv_tts.voices.registry import load_voice\n"
        "from forv_tts.synthesis import prepare_text\n"
        "v = load_voice(find_voice('1', voices.VOICES))\n"
        "glow = voc = samples = 0\n"
        "for s in prepare_text(probe.read_sentences()['medium']):\n"
        "    ids = v.tokenize(s)\n"
        "    with torch.inference_mode():\n"
        "        f1 = FlopCounterMode(display=False)\n"
        "        with f1:\n"
        "            mel = cv.glow_infer(v.glow, ids, noise_scale=v.noise_scale, length_scale=1.0,\n"
        "                generator=torch.Generator().manual_seed(1), zero_length_tokens=True)\n"
        "        f2 = FlopCounterMode(display=False)\n"
        "        with f2:\n"
        "            out = v.vocoder.inference(mel)\n"
        "    glow += f1.get_total_flops(); voc += f2.get_total_flops(); samples += out.shape[-1]\n"
        "sec = samples / v.sample_rate\n"
        "print(json.dumps({'glow_gflop_per_audio_s': glow / 1e9 / sec,"
        " 'hifigan_gflop_per_audio_s': voc / 1e9 / sec}))\n"
    )
    r = run_child([PY, "-c", code])
    if r.rc != 0:
        raise SystemExit(f"flop count failed:\n{r.stderr[-3000:]}")
    data: dict[str, float] = json.loads(r.stdout.splitlines()[-1])
    return data


def compile_bytecode(tree: Path) -> None:
    """Write `tree`'s forv_tts bytecode, as an installed package (or any earlier run) has it.

    Without it, a box that sets PYTHONDONTWRITEBYTECODE (this one does) compiles forv_tts's modules
    again in every timed process: ~0.04 s of each cold `say`, a cost no user's second run pays.
    """
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree / "forv_tts")], check=True)


def before_tree(commit: str) -> Path:
    """A git worktree of `commit` under bench/out/ (created once): the "before" code for A/B runs."""
    path = OUT / f"before-{commit}"
    if not (path / "forv_tts").is_dir():
        OUT.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--force", str(path), commit],
            check=True,
            capture_output=True,
        )
    return path


def ab_compare(tree: Path, commit: str, plan: Plan) -> dict[str, Any]:
    """Before (`tree`) and after (this checkout) interleaved run by run, so both see the same noise."""
    voices.build()
    compile_bytecode(tree)
    compile_bytecode(ROOT)
    forv = script("forv-tts")
    texts = probe.read_sentences()
    work = Path(tempfile.mkdtemp(prefix="forv-ab-"))
    wav = str(work / "out.wav")
    after = {
        **os.environ,
        "FORV_TTS_VOICE_DIR": str(voices.VOICES),
        "FORV_TTS_CACHE_DIR": str(work / "cache"),
    }
    after.pop("FORV_TTS_DEBUG", None)
    after.pop("FORV_TTS_WEIGHT_CACHE", None)
    before = {**after, "PYTHONPATH": str(tree), "FORV_BENCH_TREE": str(tree)}
    member = voices.LEGACY_MEMBER
    n_fast, n_member = plan.repeats_fast, plan.repeats_member
    commands: list[tuple[str, list[str], int]] = [
        ("`forv-tts --help`", [forv, "--help"], n_fast),
        ("cold `say`, built-in, medium text", [forv, "say", texts["medium"], "-o", wav], n_fast),
        (
            "cold `say --member 1`, medium text",
            [forv, "say", "-m", member, texts["medium"], "-o", wav],
            n_member,
        ),
        (
            "cold `say --member 1`, short text",
            [forv, "say", "-m", member, texts["short"], "-o", wav],
            n_member,
        ),
    ]
    out: dict[str, Any] = {"commit": commit, "rows": [], "load_start": os.getloadavg()}
    print(f"before/after, interleaved (before = {commit})", flush=True)
    for name, argv, n in commands:
        for env in (after, before):
            run_child(argv, env=env, cwd=work)  # warm-up
        walls: dict[str, list[float]] = {"before": [], "after": []}
        rss: dict[str, list[float]] = {"before": [], "after": []}
        for _ in range(n):
            for label, env in (("after", after), ("before", before)):
                r = run_child(argv, env=env, cwd=work)
                if r.rc != 0:
                    raise SystemExit(f"{name} ({label}) exit {r.rc}:\n{r.stderr[-2000:]}")
                walls[label].append(r.wall_s)
                rss[label].append(r.rss_mb)
        row = {
            "what": name,
            "unit": "s",
            "before": statistics.median(walls["before"]),
            "after": statistics.median(walls["after"]),
            "rss_before": max(rss["before"]),
            "rss_after": max(rss["after"]),
            "runs": n,
        }
        out["rows"].append(row)
        print(f"  {name}: before {row['before']:.3f} s, after {row['after']:.3f} s", flush=True)
    penv = {
        "after": {**after, "OMP_WAIT_POLICY": "PASSIVE"},
        "before": {**before, "OMP_WAIT_POLICY": "PASSIVE"},
    }
    probes_ab: list[tuple[str, list[str], list[tuple[str, str]]]] = [
        (
            "member load (fresh process)",
            ["forv-load", "--member", member],
            [
                ("imports", "import_s"),
                ("load after imports", "load_s"),
                ("peak RSS after load", "peak_rss_mb"),
            ],
        ),
        (
            "synthesis, 1 thread, medium text",
            ["forv-rtf", "--member", member, "--threads", "1", "--texts", "medium", "--repeats", "3"],
            [("RTF, 1 thread", "rtf")],
        ),
    ]
    for _name, args, fields in probes_ab:
        got: dict[str, list[dict[str, Any]]] = {"before": [], "after": []}
        for _ in range(plan.repeats_probe):
            for label in ("after", "before"):
                got[label].append(probe_json(args, env=penv[label])[0])
        for what, key in fields:
            row = {
                "what": what,
                "unit": "MB" if key == "peak_rss_mb" else "x" if key == "rtf" else "s",
                "before": statistics.median(g[key] for g in got["before"]),
                "after": statistics.median(g[key] for g in got["after"]),
                "runs": plan.repeats_probe,
            }
            out["rows"].append(row)
            print(f"  {what}: before {row['before']:.3f}, after {row['after']:.3f}", flush=True)
    out["load_end"] = os.getloadavg()
    shutil.rmtree(work, ignore_errors=True)
    return out


def coqui_cli_args(member: str, text: str, wav: str) -> list[str]:
    """Arguments of coqui's `tts` for a cached member."""
    args = ["--text", text]
    for key, path in voices.paths(member).items():
        args += [f"--{key}", str(path)]
    return [*args, "--out_path", wav]


# --------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """How much to measure."""

    repeats_fast: int  # --help, built-in say
    repeats_member: int  # cold say with a member
    repeats_coqui: int  # coqui CLI (slow)
    repeats_probe: int  # load probes
    rtf_repeats: int
    batch_lines: tuple[int, ...]
    say_subset: int
    rtf_texts: str = ""  # comma-separated labels; empty: all


FULL = Plan(9, 5, 3, 3, 3, (200, 1000), 5)
QUICK = Plan(3, 2, 1, 1, 1, (40,), 2, "short,medium")


def measure(
    plan: Plan, *, skip_batch: bool = False, skip_coqui: bool = False, tree: Path | None = None
) -> dict[str, Any]:
    """Everything, in a fixed order; returns the raw results."""
    voices.build()
    compile_bytecode(tree or ROOT)
    vdir = voices.VOICES
    forv = script("forv-tts")
    texts = probe.read_sentences()
    work = Path(tempfile.mkdtemp(prefix="forv-bench-"))
    # A private cache directory: the weight cache starts empty and each series' warm-up run fills it.
    env = {**os.environ, "FORV_TTS_VOICE_DIR": str(vdir), "FORV_TTS_CACHE_DIR": str(work / "cache")}
    env.pop("FORV_TTS_DEBUG", None)
    env.pop("FORV_TTS_WEIGHT_CACHE", None)
    if tree is not None:
        # Measure another checkout's forv_tts (PYTHONPATH wins over the editable install's finder).
        env["PYTHONPATH"] = str(tree)
        env["FORV_BENCH_TREE"] = str(tree)
    res: dict[str, Any] = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": {**machine(tree or ROOT), "bytecode_compiled": True},
        "voices": voices.stamp(),
        "load_start": os.getloadavg(),
        "series": {},
        "probes": {},
    }
    series: dict[str, Any] = res["series"]
    probes: dict[str, Any] = res["probes"]

    def keep(s: Series) -> None:
        series[s.name] = s.to_dict()

    wav = str(work / "out.wav")
    medium = texts["medium"]
    short = texts["short"]
    # In a child, so this process stays small: a forked child's peak RSS starts from its parent's.
    jamo = json.loads(run_child([PY, str(BENCH / "probe.py"), "jamo", "medium"], env=env).stdout)["jamo"]
    res["coqui_text"] = jamo
    print("start-up", flush=True)
    keep(repeat("forv_help", [forv, "--help"], plan.repeats_fast, env=env, cwd=work, shown="forv-tts --help"))
    if not skip_coqui:
        keep(
            repeat(
                "coqui_help_installed",
                [script("tts"), "--help"],
                plan.repeats_coqui,
                env=env,
                cwd=work,
                expect_rc=None,
                shown="tts --help",
            )
        )
        keep(
            repeat(
                "coqui_help",
                [PY, str(BENCH / "probe.py"), "coqui-cli", "--", "--help"],
                plan.repeats_coqui,
                env=env,
                cwd=work,
                shown="python bench/probe.py coqui-cli -- --help",
            )
        )
    print("cold say", flush=True)
    keep(
        repeat(
            "forv_say_builtin_short",
            [forv, "say", short, "-o", wav],
            plan.repeats_fast,
            env=env,
            cwd=work,
            shown=f'forv-tts say "{short}" -o out.wav',
        )
    )
    keep(
        repeat(
            "forv_say_builtin",
            [forv, "say", medium, "-o", wav],
            plan.repeats_fast,
            env=env,
            cwd=work,
            shown=f'forv-tts say "{medium}" -o out.wav',
        )
    )
    for member, label in ((voices.LEGACY_MEMBER, "legacy"), (voices.MODERN_MEMBER, "modern")):
        keep(
            repeat(
                f"forv_say_member_{label}",
                [forv, "say", "--member", member, medium, "-o", wav],
                plan.repeats_member,
                env=env,
                cwd=work,
                shown=f'forv-tts say --member {member} "{medium}" -o out.wav',
            )
        )
    keep(
        repeat(
            "forv_say_member_legacy_nocache",
            [forv, "say", "--member", voices.LEGACY_MEMBER, medium, "-o", wav],
            plan.repeats_member,
            env={**env, "FORV_TTS_WEIGHT_CACHE": "0"},
            cwd=work,
            shown=f'FORV_TTS_WEIGHT_CACHE=0 forv-tts say --member {voices.LEGACY_MEMBER} "{medium}" -o out.wav',
        )
    )
    keep(
        repeat(
            "forv_say_member_legacy_short",
            [forv, "say", "--member", voices.LEGACY_MEMBER, short, "-o", wav],
            plan.repeats_member,
            env=env,
            cwd=work,
            shown=f'forv-tts say --member {voices.LEGACY_MEMBER} "{short}" -o out.wav',
        )
    )
    keep(
        repeat(
            "forv_say_member_modern_jamo",
            [forv, "say", "--member", voices.MODERN_MEMBER, "--no-normalize", jamo, "-o", wav],
            plan.repeats_member,
            env=env,
            cwd=work,
            shown=f'forv-tts say --member {voices.MODERN_MEMBER} --no-normalize "<jamo text>" -o out.wav',
        )
    )
    if not skip_coqui:
        keep(
            repeat(
                "coqui_cli_modern",
                [
                    PY,
                    str(BENCH / "probe.py"),
                    "coqui-cli",
                    "--",
                    *coqui_cli_args(voices.MODERN_MEMBER, jamo, wav),
                ],
                plan.repeats_coqui,
                env=env,
                cwd=work,
                shown="python bench/probe.py coqui-cli -- --text '<jamo text>' --model_path "
                "bench/out/voices/glow-tts/2/2g_checkpoint_10000.pth.tar --config_path …/2g_config.json "
                "--vocoder_path bench/out/voices/hifigan-v2/2/2h_checkpoint_10000.pth.tar "
                "--vocoder_config_path …/2h_config.json --out_path out.wav",
            )
        )
        legacy_args = coqui_cli_args(voices.LEGACY_MEMBER, jamo, wav)
        r = run_child([PY, str(BENCH / "probe.py"), "coqui-cli", "--", *legacy_args], env=env, cwd=work)
        tail = [ln for ln in r.stderr.strip().splitlines() if ln.strip()][-1:] or [""]
        res["coqui_cli_legacy"] = {"rc": r.rc, "wall_s": r.wall_s, "error": tail[0][:300]}
        print(f"  coqui CLI on the legacy checkpoint: exit {r.rc} {tail[0][:120]}", flush=True)

    # In-process probes run with passive OpenMP waits, as `forv-tts` itself sets them (forv_tts.cli.main):
    # the library alone does not, and spinning threads distort every figure on a shared machine.
    penv = {**env, "OMP_WAIT_POLICY": "PASSIVE"}
    print("model load (fresh process: imports, then load)", flush=True)
    for name, args in (
        ("forv_load_legacy", ["forv-load", "--member", voices.LEGACY_MEMBER]),
        ("forv_load_modern", ["forv-load", "--member", voices.MODERN_MEMBER]),
        *([] if skip_coqui else [("coqui_load_modern", ["coqui-load", "--member", voices.MODERN_MEMBER])]),
    ):
        runs = [probe_json(args, env=penv)[0] for _ in range(plan.repeats_probe)]
        probes[name] = {
            "runs": runs,
            "import_s": statistics.median(r["import_s"] for r in runs),
            "load_s": statistics.median(r["load_s"] for r in runs),
            "rss_mb": max(r["rss_mb"] for r in runs),
        }
        print(
            f"  {name}: import {probes[name]['import_s']:.2f} s, load {probes[name]['load_s']:.2f} s, "
            f"RSS {probes[name]['rss_mb']:.0f} MB",
            flush=True,
        )

    print("synthesis speed (warm, in-process)", flush=True)
    legacy_rtf = ["forv-rtf", "--member", voices.LEGACY_MEMBER]
    rtf_runs: list[tuple[str, list[str]]] = []
    for threads in (1, 2):
        rtf_runs.append((f"forv_rtf_{threads}", legacy_rtf))
        rtf_runs.append((f"forv_rtf_{threads}_plainconv", [*legacy_rtf, "--plain-conv"]))
        if not skip_coqui:
            rtf_runs.append((f"coqui_rtf_{threads}", ["coqui-rtf", "--member", voices.MODERN_MEMBER]))
    for name, args in rtf_runs:
        threads = int(name.split("_")[2])
        load = loadavg()
        extra = ["--threads", str(threads), "--repeats", str(plan.rtf_repeats), "--texts", plan.rtf_texts]
        data, _ = probe_json([*args, *extra], env=penv)
        data["load"] = load
        probes[name] = data
        print(f"  {name}: RTF {data['rtf']:.3f}, CPU {data['rtf_cpu']:.3f} (load {load:.1f})", flush=True)
    probes["flops"] = model_flops()
    probes["sgemm"] = gflops_single_thread()
    print(f"  {probes['flops']} {probes['sgemm']}", flush=True)

    if not skip_batch:
        print("batch (bench/batch_bench.py)", flush=True)
        res["batch"] = {}
        for lines in plan.batch_lines:
            cmd = [
                PY,
                str(BENCH / "batch_bench.py"),
                "--lines",
                str(lines),
                "--jobs",
                "1,2",
                "--voice-dir",
                str(vdir),
                "--member",
                voices.LEGACY_MEMBER,
                "--say-subset",
                str(plan.say_subset),
                "--json",
            ]
            load = loadavg()
            r = run_child(cmd, env=env, timeout=7200)
            if r.rc != 0:
                raise SystemExit(f"batch_bench failed ({r.rc}):\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}")
            out = r.stdout
            rows = json.loads(out[out.rindex("\n[") + 1 :])
            res["batch"][str(lines)] = {"rows": rows, "load": load, "wall_s": r.wall_s, "table": out}
            print(out[: out.rindex("\n[")], flush=True)
    res["load_end"] = os.getloadavg()
    res["finished"] = dt.datetime.now().isoformat(timespec="seconds")
    shutil.rmtree(work, ignore_errors=True)
    return res


# --------------------------------------------------------------------------------------------------
# Report

Row = tuple[str, str, "float | None", "float | None", str]


def _fmt_s(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f} s" if v >= 0.1 else f"{v * 1000:.0f} ms"


def _ratio(a: float | None, b: float | None) -> str:
    """How many times smaller `a` is than `b` (b / a)."""
    return "—" if not a or not b else f"{b / a:.1f}×"


def _get(d: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _batch_row(res: dict[str, Any], lines: int, voice_prefix: str, how: str) -> dict[str, Any] | None:
    for row in _get(res, "batch", str(lines), "rows") or []:
        if str(row["voice"]).startswith(voice_prefix) and str(row["how"]).startswith(how):
            found: dict[str, Any] = row
            return found
    return None


def _sum(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else float(a) + float(b)


def summary_rows(res: dict[str, Any]) -> list[Row]:
    """(figure, target, forv-tts value, comparison value, unit) for the headline table."""
    s = res["series"]
    p = res["probes"]

    def med(name: str) -> float | None:
        v = _get(s, name, "median")
        return None if v is None else float(v)

    def load_total(name: str) -> float | None:
        return _sum(_get(p, name, "import_s"), _get(p, name, "load_s"))

    coqui_cli = med("coqui_cli_modern")
    rows: list[Row] = [
        ("`--help`", "≤ 0.3 s, ≥ 15× coqui", med("forv_help"), med("coqui_help"), "s"),
        ("cold `say`, built-in voice, medium text", "≤ 1.0 s", med("forv_say_builtin"), None, "s"),
        ("cold `say`, built-in voice, short text", "", med("forv_say_builtin_short"), None, "s"),
        ("cold `say --member`, 0.x ckpt, medium text", "≤ 2.5 s, ≥ 2× coqui", med("forv_say_member_legacy"), coqui_cli, "s"),
        ("cold `say --member`, modern ckpt, medium text", "", med("forv_say_member_modern"), coqui_cli, "s"),
        ("cold `say --member`, modern ckpt, coqui's jamo text", "", med("forv_say_member_modern_jamo"), coqui_cli, "s"),
        ("cold `say --member`, 0.x ckpt, short text", "", med("forv_say_member_legacy_short"), None, "s"),
        ("cold `say --member`, 0.x ckpt, medium text, weight cache off", "", med("forv_say_member_legacy_nocache"), coqui_cli, "s"),
        ("model load after imports", "", _get(p, "forv_load_legacy", "load_s"), _get(p, "coqui_load_modern", "load_s"), "s"),
        ("imports + model load", "", load_total("forv_load_legacy"), load_total("coqui_load_modern"), "s"),
        ("synthesis RTF, 1 thread", "≤ 0.04", _get(p, "forv_rtf_1", "rtf"), _get(p, "coqui_rtf_1", "rtf"), "x"),
        ("synthesis RTF, 1 thread, coqui's arithmetic (fast_convolutions=False)", "", _get(p, "forv_rtf_1_plainconv", "rtf"), _get(p, "coqui_rtf_1", "rtf"), "x"),
        ("synthesis RTF, 2 threads", "", _get(p, "forv_rtf_2", "rtf"), _get(p, "coqui_rtf_2", "rtf"), "x"),
        ("peak RSS, `say --member` process (load + speak)", "", _get(s, "forv_say_member_legacy", "rss_max"), _get(s, "coqui_cli_modern", "rss_max"), "MB"),
        ("peak RSS, process holding one loaded member", "≤ 450 MB", _get(p, "forv_load_legacy", "rss_mb"), _get(p, "coqui_load_modern", "rss_mb"), "MB"),
    ]  # fmt: skip
    for lines in sorted(int(k) for k in (res.get("batch") or {})):
        for voice, label in (("member", "member 1"), ("builtin", "built-in")):
            j1 = _batch_row(res, lines, voice, "batch --jobs 1")
            j2 = _batch_row(res, lines, voice, "batch --jobs 2")
            loop = _batch_row(res, lines, voice, "say loop")
            if j1 and j2 and loop:
                target = "≥ 30× say loop" if lines == 1000 else ""
                rows.append(
                    (f"batch {lines} lines, {label}, `--jobs 2`", target, j2["wall_s"], loop["wall_s"], "s")
                )
                rows.append(
                    (f"batch {lines} lines, {label}, `--jobs 1`", "", j1["wall_s"], j2["wall_s"], "s")
                )
    return rows


def _val(v: float | None, unit: str) -> str:
    if v is None:
        return "—"
    if unit == "s":
        return _fmt_s(v)
    if unit == "MB":
        return f"{v:.0f} MB"
    return f"{v:.3f}"


def _summary(res: dict[str, Any], baseline: dict[str, Any] | None) -> list[str]:
    out = []
    head = "| figure | target | forv-tts | coqui-tts | forv-tts faster by |"
    if baseline:
        head += " forv-tts before | now vs before |"
    out.append(head)
    out.append("|" + "---|" * (head.count("|") - 1))
    base_rows = {r[0]: r for r in summary_rows(baseline)} if baseline else {}
    for fig, target, forv, other, unit in summary_rows(res):
        ratio = _ratio(forv, other)
        cell = _val(other, unit)
        if fig.startswith("batch") and "`--jobs 2`" in fig:
            cell = f"say in a loop: {cell}"
        elif fig.startswith("batch"):
            cell = f"`--jobs 2`: {cell}"
            ratio = f"jobs 2 is {_ratio(other, forv)} jobs 1"
        elif unit == "MB":
            ratio = "—" if not forv or not other else f"{other / forv:.1f}× less"
        row = f"| {fig} | {target} | {_val(forv, unit)} | {cell} | {ratio} |"
        if baseline:
            b = base_rows.get(fig)
            before = b[2] if b else None
            change = (
                _ratio(forv, before)
                if unit != "MB"
                else ("—" if not before or not forv else f"{before / forv:.2f}× less")
            )
            row += f" {_val(before, unit)} | {change} |"
        out.append(row)
    return out


def render(res: dict[str, Any], baseline: dict[str, Any] | None, command: str) -> str:
    """BENCHMARKS.md."""
    m = res["machine"]
    p = res["probes"]
    s = res["series"]
    v = res["voices"]
    lines: list[str] = []
    add = lines.append
    add("# Benchmarks: forv-tts vs stock coqui-tts")
    add("")
    add(
        f"Regenerate with `{command}` (≈20-40 min on 2 cores); `python bench/run.py --quick` is a fast sanity run."
    )
    add("Generated by bench/run.py (prose: bench/notes.md); do not edit by hand.")
    add("")
    add("## Machine and method")
    add("")
    add(
        f"- {m['cpu']}, {m['cores']} cores ({m['available_cores']} available), {m['memory_gib']} GiB; {m['platform']}"
    )
    add(
        f"- Python {m['python']}, torch {m['torch']} (CPU, {m['capability']}, oneDNN {'on' if m['mkldnn'] else 'off'}; "
        f"default {m['threads']} intra-op / {m['interop']} inter-op threads), coqui-tts {m['coqui_tts']}, "
        f"typer {m['typer']}, numpy {m['numpy']}"
    )
    dirty = " + uncommitted changes" if m["forv_tts_dirty"] else ""
    add(f"- forv-tts commit {m['forv_tts_commit']}{dirty}; run {res['started']} → {res['finished']}")
    loads = [x for ser in s.values() for x in ser["load"]]
    sgemm = (res.get("probes", {}).get("sgemm") or {}).get("sgemm_gflops_best")
    speed = (
        f" This core's best 1-thread sgemm during the run: {sgemm:.0f} GFLOP/s (88-92 on a quiet host), a "
        "measure of what the virtual machine's neighbours left us."
        if sgemm
        else ""
    )
    add(
        f"- **Noise:** a shared virtual machine: 1-minute load average "
        f"{res['load_start'][0]:.1f} at the start, {res['load_end'][0]:.1f} at the end, "
        f"{min(loads, default=0):.1f}-{max(loads, default=0):.1f} at the timed runs, on {m['cores']} cores "
        f"(other work on the box, or the benchmark's own batch workers).{speed} Every figure is a median over "
        "fresh processes; forv-tts and coqui were measured in the same run, so compare ratios rather than "
        "absolute seconds. The 'before' column is another run (same harness, the commit before these "
        "changes), under its own noise."
    )
    add(
        f"- Voices (bench/voices.py; coqui's own classes, random weights): Glow-TTS {v['glow_params'] / 1e6:.2f} M "
        f"parameters, HiFi-GAN v2 generator {v['vocoder_params'] / 1e6:.2f} M, coqui's HiFi-GAN discriminator "
        f"({v['discriminator_numel'] / 1e6:.1f} M) and Adam state inside the checkpoints; member 1 = Coqui 0.x "
        "format, member 2 = modern coqui-tts format, same weights. Files: "
        + ", ".join(f"{k.split('/')[-1]} {b / 1e6:.0f} MB" for k, b in v["files"].items())
        + "."
    )
    rtf1 = p.get("forv_rtf_1", {})
    if "frames_per_token" in rtf1:
        add(
            f"- Speaking rate of these voices: {rtf1['frames_per_token']:.2f} mel frames per jamo token "
            f"({rtf1['ms_per_token']:.0f} ms per jamo, ≈ {3 * rtf1['ms_per_token'] / 1000:.2f} s per 3-jamo "
            "syllable), ordinary Korean speech length, so the timings are those of real speech."
        )
    add(
        "- Wall time is from process start to exit (`os.wait4`), peak RSS is that child's `ru_maxrss`. In-process "
        "probes (load, RTF) run with `OMP_WAIT_POLICY=PASSIVE`, as `forv-tts` sets it; coqui's CLI runs as shipped."
        + (
            " forv_tts's bytecode is compiled before timing (`compileall`; torch's and coqui's come compiled by "
            "pip), as an installed package has it: this box sets PYTHONDONTWRITEBYTECODE."
            if m.get("bytecode_compiled")
            else ""
        )
    )
    add("")
    add("## Summary: the torch engine (bench/run.py)")
    add("")
    lines.extend(_summary(res, baseline))
    add("")
    add(
        "coqui-tts column: `--help` and cold `say` are coqui's own `tts` CLI (how it is run: below), load and RTF "
        "are coqui's `Synthesizer` in-process on the same weights and the same (normalised, jamo) text, RSS is "
        "coqui's CLI / Synthesizer process. Batch rows compare forv-tts with itself."
    )
    add("")
    legacy = res.get("coqui_cli_legacy")
    if legacy:
        add(
            f"coqui's CLI on the Coqui 0.x checkpoint (member 1): exit {legacy['rc']} after {legacy['wall_s']:.1f} s, "
            f"`{legacy['error']}`. coqui is therefore timed on the modern copy of the same weights (member 2)."
        )
        add("")
    inst = s.get("coqui_help_installed")
    if inst:
        add(
            f"The installed `tts` script as is: `tts --help` exits {inst['rc'][0]} after {inst['median']:.2f} s with "
            'coqui\'s "requires the PyTorch and Torchaudio libraries" ImportError: coqui-tts 0.28 refuses to import '
            "without torchaudio and torchcodec, and torchaudio cannot be installed beside the pinned CPU torch. The "
            "coqui CLI figures therefore run coqui's unchanged entry point `TTS.bin.synthesize.main` via "
            "`python bench/probe.py coqui-cli -- ARGS`, which first installs forv-tts's placeholder modules for the "
            "two absent packages (`forv_tts.voices.coqui.compat.ensure_coqui_importable`); nothing else differs."
        )
        add("")
    add("## Start-up and cold `say`")
    add("")
    add("| what | command | median | min | CPU (median) | peak RSS | runs |")
    add("|---|---|---|---|---|---|---|")
    for ser in s.values():
        add(
            f"| {ser['name']} | `{ser['command']}` | {_fmt_s(ser['median'])} | {_fmt_s(ser['min'])} | "
            f"{_fmt_s(ser.get('cpu_median'))} | {ser['rss_max']:.0f} MB | {len(ser['walls'])} |"
        )
    add("")
    add(
        f"The text coqui is given (what forv-tts hands its model for the medium text): `{res.get('coqui_text', '')}`"
    )
    add("")
    add("## Model load")
    add("")
    add(
        "`python bench/probe.py forv-load --member 1` / `coqui-load --member 2` (fresh process: imports, then load)."
    )
    add("")
    add("| what | imports | load | peak RSS |")
    add("|---|---|---|---|")
    for name in ("forv_load_legacy", "forv_load_modern", "coqui_load_modern"):
        if name in p:
            q = p[name]
            add(f"| {name} | {_fmt_s(q['import_s'])} | {_fmt_s(q['load_s'])} | {q['rss_mb']:.0f} MB |")
    add("")
    add("## Synthesis speed")
    add("")
    add(
        "`python bench/probe.py forv-rtf --member 1 --threads N [--plain-conv]` / `coqui-rtf --member 2 --threads N`: "
        "warm, in-process, median of repeats; RTF = synthesis seconds / seconds of speech produced (forv-tts's "
        "pauses between sentences and coqui's 10000-sample padding after each sentence are not counted). "
        "CPU RTF uses process CPU time instead of wall time (less sensitive to other load at 1 thread)."
    )
    add("")
    add(
        "| text | threads | forv-tts RTF | CPU RTF | RTF, plain conv | coqui RTF | coqui CPU RTF | speech s |"
    )
    add("|---|---|---|---|---|---|---|---|")
    nan = float("nan")
    for threads in (1, 2):
        f = p.get(f"forv_rtf_{threads}", {})
        fc = p.get(f"forv_rtf_{threads}_plainconv", {})
        c = p.get(f"coqui_rtf_{threads}", {})
        for label, t in (f.get("texts") or {}).items():
            ct = (c.get("texts") or {}).get(label, {})
            ft = (fc.get("texts") or {}).get(label, {})
            add(
                f"| {label} ({t['chars']} chars) | {threads} | {t['rtf']:.3f} | {t.get('cpu_s', nan) / t['audio_s']:.3f} | "
                f"{ft.get('rtf', nan):.3f} | {ct.get('rtf', nan):.3f} | "
                f"{ct.get('cpu_s', nan) / ct.get('audio_s', nan):.3f} | {t['audio_s']:.1f} |"
            )
        if f:
            add(
                f"| **all** | {threads} | **{f['rtf']:.3f}** | {f.get('rtf_cpu', nan):.3f} | {fc.get('rtf', nan):.3f} | "
                f"**{c.get('rtf', nan):.3f}** | {c.get('rtf_cpu', nan):.3f} | |"
            )
    fl = p.get("flops", {})
    sg = p.get("sgemm", {})
    if fl and sg:
        total = fl["glow_gflop_per_audio_s"] + fl["hifigan_gflop_per_audio_s"]
        best = sg["sgemm_gflops_best"]
        add("")
        add(
            f"**Why RTF 0.04 on one thread is out of reach:** one second of audio costs "
            f"{fl['glow_gflop_per_audio_s']:.2f} GFLOP of Glow-TTS and {fl['hifigan_gflop_per_audio_s']:.2f} GFLOP "
            f"of HiFi-GAN v2 (torch `FlopCounterMode`), {total:.2f} GFLOP in all. RTF 0.04 means {total / 0.04:.0f} "
            f"GFLOP/s sustained on one core; the best this core does on a dense 1024² float32 matrix multiply (its "
            f"easiest workload) is {best:.0f} GFLOP/s, so even at that speed the floor is RTF {total / best:.3f}. "
            "Convolutions over 8-64 channels run well below sgemm speed."
        )
    if res.get("batch"):
        add("")
        add("## Batch")
        add("")
        add(
            "`python bench/batch_bench.py --lines N --jobs 1,2 --voice-dir bench/out/voices --member 1 "
            "--say-subset K --json` (bench/batch_bench.py is the batch engineer's; wall = the whole command, "
            "start-up and model loads included; the say loop runs K lines and is extrapolated to N, as its row says)."
        )
        for lines_n, b in res["batch"].items():
            add("")
            add(f"{lines_n} lines (load average {b['load']:.1f} at the start):")
            add("")
            add("```")
            add(b["table"][: b["table"].rindex("\n[")].rstrip())
            add("```")
    ab = res.get("ab")
    if ab:
        add("")
        add(f"## Before and after, interleaved (before = commit {ab['commit']})")
        add("")
        add(
            "The same commands with the code before these changes (a git worktree of that commit on PYTHONPATH) and "
            "after, alternating run by run so that both see the same background load "
            f"(1-minute load average {ab['load_start'][0]:.1f} → {ab['load_end'][0]:.1f}). This, not the summary's "
            "'before' column (a separate, noisier run), is the fair before/after comparison. The cold "
            "`say --member` gain comes from the load (weight cache, no random initialisation: the `load after "
            "imports` row), torch's Python meta kernels left out of the CLI's `import torch` (~0.4 s), the "
            "text normalised in a forked child while torch is imported, the exit without CPython's teardown "
            "(0.4 s), malloc keeping freed memory (fewer page faults), the upsampling layers run as ordinary "
            "convolutions (no per-length oneDNN set-up) and passive OpenMP waits (large only under load); "
            "`imports` is `import torch` and coqui in the probe's own process, which imports torch whole as "
            "the library does, the same code on both sides. The RTF gain is mostly the vocoder running on "
            "channels-last activations (oneDNN's brgemm convolution, no layout reorders around every "
            "convolution); bench/notes.md has each change's own measurement."
        )
        add("")
        add("| what | before | after | after is | peak RSS before → after | runs each |")
        add("|---|---|---|---|---|---|")
        for row in ab["rows"]:
            unit = row["unit"]
            if unit == "MB":
                change = f"{row['before'] / row['after']:.2f}× less"
            else:
                change = f"{row['before'] / row['after']:.2f}× faster"
            rss = f"{row['rss_before']:.0f} → {row['rss_after']:.0f} MB" if "rss_before" in row else ""
            add(
                f"| {row['what']} | {_val(row['before'], unit)} | {_val(row['after'], unit)} | {change} | {rss} | "
                f"{row['runs']} |"
            )
    notes = BENCH / "notes.md"
    if notes.is_file():
        add("")
        add(notes.read_text(encoding="utf-8").rstrip())
    add("")
    return "\n".join(lines)


def _kept_sections(path: Path) -> str:
    """Blocks between `<!-- NAME:start ... -->` and `<!-- NAME:end -->` markers in the old file."""
    import re

    old = path.read_text(encoding="utf-8") if path.exists() else ""
    found = re.finditer(r"<!-- ([a-z-]+):start.*?<!-- \1:end -->\n?", old, flags=re.S)
    return "".join("\n" + m.group(0) for m in found)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", type=Path, help="write the Markdown report here (e.g. BENCHMARKS.md)")
    ap.add_argument("--quick", action="store_true", help="few repeats, short batch: a sanity run")
    ap.add_argument("--skip-batch", action="store_true")
    ap.add_argument("--skip-coqui", action="store_true")
    ap.add_argument(
        "--baseline", type=Path, default=BENCH / "baseline.json", help="results for the 'before' column"
    )
    ap.add_argument("--save-baseline", type=Path, help="also store the raw results here")
    ap.add_argument("--render-only", type=Path, help="re-render a saved raw results JSON, measure nothing")
    ap.add_argument(
        "--tree", type=Path, help="measure this checkout's forv_tts (e.g. a worktree of an old commit)"
    )
    ap.add_argument(
        "--before",
        default=None,
        help="commit for the interleaved before/after table (default: the baseline's commit; 'none' to skip)",
    )
    ap.add_argument("--ab-only", action="store_true", help="with --render-only: add the before/after table")
    args = ap.parse_args(argv)
    baseline = json.loads(args.baseline.read_text()) if args.baseline and args.baseline.is_file() else None
    before = args.before or (baseline or {}).get("machine", {}).get("forv_tts_commit")
    plan = QUICK if args.quick else FULL
    if args.render_only:
        res = json.loads(args.render_only.read_text())
    else:
        res = measure(plan, skip_batch=args.skip_batch, skip_coqui=args.skip_coqui, tree=args.tree)
    if before and before != "none" and args.tree is None and (not args.render_only or args.ab_only):
        res["ab"] = ab_compare(before_tree(before), before, plan)
    if not args.render_only or args.ab_only:
        OUT.mkdir(parents=True, exist_ok=True)
        raw = OUT / f"results-{res['started'].replace(':', '')}.json"
        raw.write_text(json.dumps(res, indent=1, ensure_ascii=False))
        print(f"raw results: {raw}")
        if args.save_baseline:
            args.save_baseline.write_text(json.dumps(res, indent=1, ensure_ascii=False))
    if args.save_baseline:
        baseline = None
    command = "python bench/run.py --write BENCHMARKS.md"
    text = render(res, baseline, command)
    if args.write:
        text += _kept_sections(args.write)  # sections other scripts own (bench/intelligibility.py)
        args.write.write_text(text, encoding="utf-8")
        print(f"wrote {args.write}")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""First audio of the longest sentence that reaches the voice, a base commit against this tree (issue 28).

    git worktree add /tmp/base-28 <commit>
    python bench/first_audio.py [ROUNDS] [--base /tmp/base-28] [--repeats 3] [--json OUT]

The text is bench/onnx_bench.py's `LONG_SENTENCE` (187 characters); the sentence cap splits it, so
the figure is for its longest piece (what one voice call gets). Each round starts one process per
tree (the tree on `PYTHONPATH`, its own cache directory), alternating base and this tree: member 1 of
bench/voices.py on the ONNX engine, 2 threads, warmed by one synthesis, then `--repeats` timings of
`iter_synthesize` on the already normalised piece (`normalize=False`: synthesis only): seconds to its
first chunk (this tree: `parts=True`, what `say --stream` and the service stream), to the whole
sentence, and the medium sentence's clip (`synthesize`) as a check that clips did not get slower.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def child(repeats: int) -> dict[str, Any]:
    """One tree's figures, in this process (the tree is whatever `forv_tts` imports)."""
    import numpy as np

    sys.path.insert(0, str(BENCH))
    import onnx_bench
    import probe
    import voices

    from forv_tts import synthesis
    from forv_tts.config import SynthesisConfig

    voice = synthesis.load_voice("1", voices.VOICES, engine="onnx")
    pieces = synthesis.prepare_text(onnx_bench.LONG_SENTENCE)
    longest = max(pieces, key=len)
    medium = synthesis.prepare_text(probe.read_sentences()["medium"])[0]
    config = SynthesisConfig(seed=1, normalize=False)
    streams = "parts" in inspect.signature(synthesis.iter_synthesize).parameters
    kwargs = {"parts": True} if streams else {}
    voice.synthesize(longest, config)  # warm: first-use costs are not timed
    first, whole, clip = [], [], []
    samples = None
    for _ in range(repeats):
        t = time.perf_counter()
        chunks = synthesis.iter_synthesize(longest, voice, config, **kwargs)
        got = [next(chunks)]
        first.append(time.perf_counter() - t)
        got.extend(chunks)
        whole.append(time.perf_counter() - t)
        samples = np.concatenate([c.samples for c in got])
        t = time.perf_counter()
        voice.synthesize(medium, config)
        clip.append(time.perf_counter() - t)
    assert samples is not None
    return {
        "chars": len(longest),
        "pieces": [len(p) for p in pieces],
        "audio_s": len(samples) / voice.sample_rate,
        "parts": streams,
        "first_s": first,
        "whole_s": whole,
        "medium_clip_s": clip,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rounds", type=int, nargs="?", default=5)
    parser.add_argument("--base", type=Path, default=Path("/tmp/base-28"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.repeats)))
        return 0
    sys.path.insert(0, str(BENCH))
    import voices

    voices.build()
    work = Path(tempfile.mkdtemp(prefix="first-audio-"))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FORV_TTS_")}
    trees = {"base": args.base, "this tree": ROOT}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name, tree in trees.items():
            env = {**clean, "PYTHONPATH": str(tree), "FORV_TTS_CACHE_DIR": str(work / f"cache-{tree.name}")}
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", "--repeats", str(args.repeats)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
            if out.returncode:
                raise SystemExit(f"{name} failed:\n{out.stderr[-2000:]}")
            got = json.loads(out.stdout.strip().splitlines()[-1])
            runs[name].append(got)
            print(
                f"round {r + 1} {name}: first {min(got['first_s']):.3f} s whole {min(got['whole_s']):.3f} s",
                flush=True,
            )
    print(
        f"\nlongest piece: {runs['base'][0]['chars']} characters of {runs['base'][0]['pieces']}, "
        f"{runs['base'][0]['audio_s']:.2f} s of audio; medians over rounds x repeats (min-max)"
    )
    for key, label in (
        ("first_s", "first audio"),
        ("whole_s", "whole sentence"),
        ("medium_clip_s", "medium clip"),
    ):
        for name in trees:
            values = [v for got in runs[name] for v in got[key]]
            low, high = min(values), max(values)
            print(f"  {label:15} {name:10} {statistics.median(values):.3f} s ({low:.3f}-{high:.3f})")
    if args.json:
        args.json.write_text(json.dumps(runs, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the weight cache's checksum costs on a real-size member (issue 14).

    python bench/cache_checksum.py [VOICE_DIR]   (default: bench/out/voices, built by bench/voices.py)

Builds the member's entries in a private cache, then times, interleaved, a cached load of each network's
weights (`load_state`: map + verify) against the checksum alone and against the same mapping without
verification (safe_open + get_tensor); prints medians. Noisy on a shared host: quote the ratios.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))


def main() -> int:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH / "out" / "voices"
    os.environ["FORV_TTS_CACHE_DIR"] = tempfile.mkdtemp(prefix="forv-bench-cache-")
    from safetensors import safe_open

    from forv_tts.voices.coqui import weight_cache
    from forv_tts.voices.coqui.voice import CoquiVoice
    from forv_tts.voices.layout import member_info

    info = member_info(root, "2")
    CoquiVoice(info)  # writes the entries
    for kind, ckpt in (("glow", info.checkpoint), ("hifigan", info.vocoder_checkpoint)):
        assert ckpt is not None
        entry = weight_cache.entry_path(ckpt, kind)
        size = entry.stat().st_size
        full, plain, only = [], [], []
        for _ in range(7):
            t = time.perf_counter()
            loaded = weight_cache.load_state(ckpt, kind, lambda p: (_ for _ in ()).throw(AssertionError()))
            full.append(time.perf_counter() - t)
            assert loaded.from_cache
            t = time.perf_counter()
            with safe_open(str(entry), framework="pt", device="cpu") as f:
                state = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
            plain.append(time.perf_counter() - t)
            t = time.perf_counter()
            weight_cache.checksum(state)
            only.append(time.perf_counter() - t)
        m = statistics.median
        print(
            f"{kind}: entry {size / 2**20:.1f} MiB; cached load with check {m(full) * 1000:.1f} ms, "
            f"map only {m(plain) * 1000:.1f} ms, checksum {m(only) * 1000:.1f} ms "
            f"({size / 2**30 / m(only):.1f} GiB/s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

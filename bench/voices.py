"""Real-size benchmark voices, built once with coqui's own classes and cached under bench/out/.

    python bench/voices.py [--force]

Writes `bench/out/voices/` in the team layout (see voice_model/README.md) with random weights:

* member "1": the old Coqui TTS 0.x format (weight_g/weight_v keys, 0.x symbol table, Adam state,
  numpy scalars) with coqui's real ~70 M-parameter HiFi-GAN discriminator next to the generator;
* member "2": the same networks in the modern coqui-tts 0.28 format (what coqui's own `tts` CLI can
  read), also with the full discriminator and optimizer state, as real training checkpoints have.

Glow-TTS uses coqui's default config (~28.6 M parameters), the vocoder HiFi-GAN v2 (upsample initial
channel 128, ~0.93 M). The duration predictor is biased to `FRAMES_PER_TOKEN` frames per jamo token
(~5 frames x 11.6 ms = 58 ms per jamo, i.e. ~150 ms per syllable, ordinary Korean speech rate);
`bench/run.py` measures and prints the frames per token actually produced.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
VOICES = OUT / "voices"
STAMP = VOICES / "built.json"
FRAMES_PER_TOKEN = 5.0
LEGACY_MEMBER = "1"
MODERN_MEMBER = "2"
#: Bump when the recipe changes, so stale caches are rebuilt.
RECIPE = 1

for path in (str(ROOT), str(ROOT / "tests")):
    if path not in sys.path:
        sys.path.insert(0, path)


def is_built() -> bool:
    """True when the cached voices exist and were built by this recipe."""
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        return False
    return bool(stamp.get("recipe") == RECIPE)


def build(force: bool = False) -> Path:
    """Build the two members (a few minutes on 2 cores, ~2.5 GB on disk) unless already cached."""
    if is_built() and not force:
        return VOICES
    import voicefactory as vf  # type: ignore[import-not-found]  # tests/voicefactory.py

    started = time.perf_counter()
    VOICES.mkdir(parents=True, exist_ok=True)
    STAMP.unlink(missing_ok=True)
    spec = vf.VoiceSpec(
        glow=vf.GlowSize.real(),
        vocoder=vf.VocoderSize.real(),
        discriminator="full",
        optimizer_state=True,
        frames_per_token=FRAMES_PER_TOKEN,
    )
    legacy = vf.write_voice(VOICES, replace(spec, member=LEGACY_MEMBER, format="legacy"))
    modern = vf.write_voice(VOICES, replace(spec, member=MODERN_MEMBER, format="modern"), source=legacy)
    glow_params = sum(p.numel() for p in legacy.glow.parameters())
    voc_params = sum(p.numel() for p in legacy.vocoder.parameters())
    info = {
        "recipe": RECIPE,
        "glow_params": glow_params,
        "vocoder_params": voc_params,
        "discriminator_numel": legacy.discriminator_numel,
        "frames_per_token": FRAMES_PER_TOKEN,
        "files": {
            str(p.relative_to(VOICES)): p.stat().st_size
            for b in (legacy, modern)
            for p in (b.glow_checkpoint, b.vocoder_checkpoint)
        },
        "build_seconds": round(time.perf_counter() - started, 1),
    }
    STAMP.write_text(json.dumps(info, indent=2))
    return VOICES


def stamp() -> dict[str, object]:
    """What `build` recorded (parameter counts, file sizes)."""
    data: dict[str, object] = json.loads(STAMP.read_text())
    return data


def paths(member: str) -> dict[str, Path]:
    """Checkpoint and config paths of a cached member."""
    glow = VOICES / "glow-tts" / member
    voc = VOICES / "hifigan-v2" / member
    return {
        "model_path": glow / f"{member}g_checkpoint_10000.pth.tar",
        "config_path": glow / f"{member}g_config.json",
        "vocoder_path": voc / f"{member}h_checkpoint_10000.pth.tar",
        "vocoder_config_path": voc / f"{member}h_config.json",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if cached")
    args = parser.parse_args()
    build(force=args.force)
    print(json.dumps(stamp(), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

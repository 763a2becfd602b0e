"""One measurement in a fresh process; prints one JSON object on stdout (bench/run.py calls this).

    python bench/probe.py forv-load  --member 1 [--threads 1]
    python bench/probe.py forv-rtf   --member 1 --threads 1 [--repeats 5]
    python bench/probe.py coqui-load --member 2 [--threads 1]
    python bench/probe.py coqui-rtf  --member 2 --threads 1 [--repeats 5]
    python bench/probe.py coqui-cli  -- <coqui `tts` arguments>
    python bench/probe.py jamo medium   # the text forv-tts hands its model, as coqui gets it

`forv-*` measure forv-tts (import, `load_voice`, synthesis of the texts in bench/sentences.txt);
`coqui-*` do the same with coqui-tts 0.28's own `TTS.utils.synthesizer.Synthesizer` on the modern-format
checkpoint; `coqui-cli` runs coqui's `tts` entry point (`TTS.bin.synthesize.main`) unchanged, after the
placeholder modules of `forv_tts.voices.coqui.compat` have satisfied coqui's import-time
torchaudio/torchcodec check
(the installed `tts` script cannot start without torchaudio; see BENCHMARKS.md).

Timing is `time.perf_counter()`; real-time factor = synthesis seconds / seconds of audio produced.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

T_START = time.perf_counter()
BENCH = Path(__file__).resolve().parent
#: The forv_tts source tree to measure: this checkout, or $FORV_BENCH_TREE (bench/run.py --tree, e.g. a
#: git worktree of an older commit for the "before" column).
ROOT = Path(os.environ.get("FORV_BENCH_TREE") or BENCH.parent)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def read_sentences(path: Path = BENCH / "sentences.txt") -> dict[str, str]:
    """label → text from bench/sentences.txt (tab separated, `#` comments)."""
    out: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        out[label] = text
    return out


def _set_threads(threads: int | None) -> None:
    import torch

    if threads:
        torch.set_num_threads(threads)


def _voice_dir() -> Path:
    sys.path.insert(0, str(BENCH))
    import voices

    return voices.VOICES


def _emit(obj: dict[str, Any]) -> None:
    import resource

    obj["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(obj))


def forv_load(member: str, threads: int | None) -> dict[str, Any]:
    """Cold import + `load_voice` in this process."""
    t0 = time.perf_counter()
    import torch

    _set_threads(threads)
    from forv_tts.voices.layout import find_voice
    from forv_tts.voices.registry import load_voice

    t1 = time.perf_counter()
    info = find_voice(member, _voice_dir())
    load_voice(info)
    t2 = time.perf_counter()
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "threads": torch.get_num_threads(),
        "since_interpreter_s": t2 - T_START,
    }


def _median_time(fn: Any, repeats: int, cpu: list[float] | None = None) -> float:
    """Median wall seconds of `fn()`; with `cpu`, also appends the median process CPU seconds to it."""
    times = []
    cpus = []
    for _ in range(repeats):
        t = time.perf_counter()
        c = time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        times.append(time.perf_counter() - t)
    if cpu is not None:
        cpu.append(statistics.median(cpus))
    return statistics.median(times)


def selected_sentences(labels: list[str] | None) -> dict[str, str]:
    """The benchmark texts, or only those named."""
    all_texts = read_sentences()
    return {k: v for k, v in all_texts.items() if not labels or k in labels}


def forv_rtf(
    member: str, threads: int | None, repeats: int, texts: list[str] | None, plain_conv: bool = False
) -> dict[str, Any]:
    """Warm synthesis speed of each benchmark text (normalised once, outside the timing)."""
    import torch

    _set_threads(threads)
    from forv_tts.audio import DEFAULT_PAUSE_S
    from forv_tts.config import SynthesisConfig
    from forv_tts.synthesis import prepare_text, synthesize_sentences
    from forv_tts.voices.coqui import networks as cnet
    from forv_tts.voices.coqui import voice as cv
    from forv_tts.voices.layout import find_voice
    from forv_tts.voices.registry import load_voice

    info = find_voice(member, _voice_dir())
    # The default (what `say`/`batch` use) runs the vocoder on channels-last activations; --plain-conv
    # keeps coqui's arithmetic (fast_convolutions=False).
    voice = cv.CoquiVoice(info, fast_convolutions=False) if plain_conv else load_voice(info)
    assert isinstance(voice, cv.CoquiVoice)
    out: dict[str, Any] = {"threads": torch.get_num_threads(), "texts": {}, "plain_conv": plain_conv}
    total_audio = total_time = total_cpu = 0.0
    for label, text in selected_sentences(texts).items():
        t = time.perf_counter()
        sentences = prepare_text(text)
        normalize_s = time.perf_counter() - t
        audio = synthesize_sentences(voice, sentences, SynthesisConfig(seed=1))  # warm-up
        # Seconds of speech: the pipeline's pauses between sentences are not synthesis output.
        speech_s = audio.duration - (len(sentences) - 1) * DEFAULT_PAUSE_S
        cpu: list[float] = []
        seconds = _median_time(
            lambda s=sentences: synthesize_sentences(voice, s, SynthesisConfig(seed=1)), repeats, cpu
        )
        out["texts"][label] = {
            "chars": len(text),
            "sentences": len(sentences),
            "audio_s": speech_s,
            "synth_s": seconds,
            "cpu_s": cpu[0],
            "rtf": seconds / speech_s,
            "normalize_first_s": normalize_s,
        }
        total_audio += speech_s
        total_time += seconds
        total_cpu += cpu[0]
    out["rtf"] = total_time / total_audio
    out["rtf_cpu"] = total_cpu / total_audio
    # Frames per token of the acoustic model (speaking rate), over the medium text's sentences.
    tokens = frames = 0
    for sentence in prepare_text(read_sentences()["medium"]):
        ids = voice.tokenize(sentence)
        with torch.inference_mode():
            mel = cnet.glow_infer(
                voice.glow,
                ids,
                noise_scale=voice.noise_scale,
                length_scale=voice.length_scale,
                generator=torch.Generator().manual_seed(1),
                zero_length_tokens=voice.zero_length_tokens,
            )
        tokens += len(ids)
        frames += int(mel.shape[-1])
    out["frames_per_token"] = frames / tokens
    out["ms_per_token"] = 1000 * frames / tokens * 256 / voice.sample_rate
    return out


def coqui_jamo_text(text: str) -> str:
    """What forv-tts hands the model (normalised, g2pk, conjoining jamo), as one string for coqui."""
    from forv_tts.synthesis import prepare_text
    from forv_tts.voices.coqui import tokenizer as ctok

    return " ".join(ctok.to_text_form(s, ctok.TEXT_JAMO) for s in prepare_text(text))


def _coqui_synthesizer(member: str) -> Any:
    from forv_tts.voices.coqui.compat import ensure_coqui_importable

    ensure_coqui_importable()
    sys.path.insert(0, str(BENCH))
    import voices
    from TTS.utils.synthesizer import Synthesizer

    p = voices.paths(member)
    return Synthesizer(
        tts_checkpoint=str(p["model_path"]),
        tts_config_path=str(p["config_path"]),
        vocoder_checkpoint=str(p["vocoder_path"]),
        vocoder_config=str(p["vocoder_config_path"]),
    )


def coqui_load(member: str, threads: int | None) -> dict[str, Any]:
    """Cold import + `Synthesizer(...)` construction, coqui's in-process API."""
    t0 = time.perf_counter()
    import torch

    _set_threads(threads)
    from forv_tts.voices.coqui.compat import ensure_coqui_importable

    ensure_coqui_importable()
    import TTS.utils.synthesizer  # noqa: F401

    t1 = time.perf_counter()
    synth = _coqui_synthesizer(member)
    t2 = time.perf_counter()
    params = sum(p.numel() for p in synth.parameters())
    return {
        "import_s": t1 - t0,
        "load_s": t2 - t1,
        "threads": torch.get_num_threads(),
        "params_built": params,
        "since_interpreter_s": t2 - T_START,
    }


def coqui_rtf(member: str, threads: int | None, repeats: int, texts: list[str] | None) -> dict[str, Any]:
    """Warm `Synthesizer.tts` speed on the same (pre-normalised, jamo) text forv-tts gives its model."""
    import contextlib
    import io
    import logging

    import torch

    _set_threads(threads)
    logging.disable(logging.INFO)
    synth = _coqui_synthesizer(member)
    from TTS.utils.synthesizer import PAD_SILENCE_SAMPLES

    rate = synth.output_sample_rate
    out: dict[str, Any] = {"threads": torch.get_num_threads(), "texts": {}}
    total_audio = total_time = total_cpu = 0.0
    for label, text in selected_sentences(texts).items():
        jamo = coqui_jamo_text(text)
        n_sentences = len(synth.split_into_sentences(jamo))
        with contextlib.redirect_stdout(io.StringIO()):
            torch.manual_seed(1)
            wav = synth.tts(jamo)  # warm-up

            def run(j: str = jamo) -> None:
                torch.manual_seed(1)
                synth.tts(j)

            cpu: list[float] = []
            seconds = _median_time(run, repeats, cpu)
        # Seconds of speech: coqui appends PAD_SILENCE_SAMPLES of silence after every sentence.
        duration = (len(wav) - n_sentences * PAD_SILENCE_SAMPLES) / rate
        out["texts"][label] = {
            "sentences": n_sentences,
            "audio_s": duration,
            "synth_s": seconds,
            "cpu_s": cpu[0],
            "rtf": seconds / duration,
        }
        total_audio += duration
        total_time += seconds
        total_cpu += cpu[0]
    out["rtf"] = total_time / total_audio
    out["rtf_cpu"] = total_cpu / total_audio
    return out


def coqui_cli(args: list[str]) -> None:
    """coqui's own `tts` CLI entry point, unchanged, with the torchaudio/torchcodec import check met."""
    from forv_tts.voices.coqui.compat import ensure_coqui_importable

    ensure_coqui_importable()
    from TTS.bin.synthesize import main

    sys.argv = ["tts", *args]
    main()


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "jamo":
        print(json.dumps({"jamo": coqui_jamo_text(read_sentences()[sys.argv[2]])}, ensure_ascii=False))
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "coqui-cli":
        rest = sys.argv[2:]
        coqui_cli(rest[1:] if rest[:1] == ["--"] else rest)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["forv-load", "forv-rtf", "coqui-load", "coqui-rtf"])
    parser.add_argument("--member", default="1")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--texts", default="", help="comma-separated labels (default: all)")
    parser.add_argument("--plain-conv", action="store_true", help="forv-rtf with fast_convolutions=False")
    args = parser.parse_args()
    if args.threads:
        os.environ["OMP_NUM_THREADS"] = str(args.threads)
    texts = [t for t in args.texts.split(",") if t] or None
    if args.what == "forv-load":
        result = forv_load(args.member, args.threads)
    elif args.what == "forv-rtf":
        result = forv_rtf(args.member, args.threads, args.repeats, texts, args.plain_conv)
    elif args.what == "coqui-load":
        result = coqui_load(args.member, args.threads)
    else:
        result = coqui_rtf(args.member, args.threads, args.repeats, texts)
    _emit(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

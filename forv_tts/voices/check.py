"""`forv-tts check` as a library call: load each member, speak test phrases, judge the audio.

For the team's CI and for a machine that just received voices: a member passes only when its files are
all there and agree (`VoiceInfo.missing` / `problems`), it loads, and every phrase gives audio that is
finite, of a plausible length for its text, not near-silent, not mostly silence and not clipped. A
member that fails says why in one line instead of producing noise. Everything measured is returned as
plain values (`MemberCheck.to_dict`), so the CLI only prints.

Each check loads the member afresh (not through the process-wide voice cache) so the load time and the
weight-cache state are those of this run.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from forv_tts.errors import ForvError, NothingToSayError
from forv_tts.voices import duration_rule
from forv_tts.voices.base import VoiceInfo

log = logging.getLogger(__name__)

#: Spoken by every check: a greeting, a statement and a question (no numbers, so the normaliser's
#: number reading cannot change what is spoken).
TEST_PHRASE = "안녕하세요, 만나서 반갑습니다. 오늘은 날씨가 정말 좋네요. 잘 들리시나요?"
SEED = 0  # the same noise every run, so a check is reproducible

# Plausible speaking rates, in seconds per Hangul syllable of the normalised text: ~25 syllables/s is
# faster than any voice should speak, 2/s slower than any should. Each sentence break adds a pause.
MIN_S_PER_SYLLABLE = 0.04
MAX_S_PER_SYLLABLE = 0.5
SLACK_S = 1.0
SILENCE_DBFS = -40.0  # a 20 ms frame quieter than this (RMS, full scale 1.0) counts as silence
MAX_SILENCE_SHARE = 0.75
MIN_PEAK_DBFS = -40.0  # our output is peak-normalised; below this the raw signal was near-silent
CLIP_LEVEL = 0.999
MAX_CLIPPED_SHARE = 0.01


@dataclass
class PhraseCheck:
    """One phrase spoken by one member and what the audio looked like."""

    text: str
    normalized: str = ""
    syllables: int = 0
    duration_s: float | None = None
    expected_s: tuple[float, float] | None = None
    synth_s: float | None = None
    rtf: float | None = None
    peak_dbfs: float | None = None
    silence_share: float | None = None
    clipped_share: float | None = None
    finite: bool | None = None
    ok: bool = False
    reasons: list[str] = field(default_factory=list)


@dataclass
class MemberCheck:
    """The verdict on one member; `reasons` says why it failed (empty when `ok`)."""

    member: str
    ok: bool = False
    reasons: list[str] = field(default_factory=list)
    files: dict[str, Any] = field(default_factory=dict)
    format: str | None = None
    release_evidence: list[str] = field(default_factory=list)
    duration_rule: str | None = None
    duration_rule_evidence: str | None = None
    sample_rate: int | None = None
    load_s: float | None = None
    weight_cache: str | None = None
    phrases: list[PhraseCheck] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The failure reasons as one line ("" when the member passed)."""
        return "; ".join(self.reasons)

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready object (what `check --json` prints per member)."""
        d = asdict(self)
        d["reason"] = self.reason
        for phrase in d["phrases"]:
            if phrase["expected_s"] is not None:
                phrase["expected_s"] = list(phrase["expected_s"])
        return d


# --- measurements -------------------------------------------------------------------------------------


def _dbfs(value: float) -> float:
    return 20.0 * math.log10(value) if value > 0 else -math.inf


def hangul_syllables(text: str) -> int:
    """Spoken units of normalised text: precomposed syllables, or syllable-initial jamo."""
    return sum(1 for c in text if 0xAC00 <= ord(c) <= 0xD7A3 or 0x1100 <= ord(c) <= 0x1112)


def expected_duration(syllables: int, sentences: int) -> tuple[float, float]:
    """The range of plausible clip lengths, in seconds, for that much text."""
    pauses = 0.25 * max(0, sentences - 1)
    return (
        round(MIN_S_PER_SYLLABLE * syllables, 3),
        round(MAX_S_PER_SYLLABLE * syllables + pauses + SLACK_S, 3),
    )


def judge_audio(
    samples: npt.NDArray[np.float32], sample_rate: int, expected: tuple[float, float]
) -> dict[str, Any]:
    """Level, silence, clipping and length of a clip, and the reasons it is not speech-like."""
    x = np.asarray(samples, dtype=np.float64)
    reasons: list[str] = []
    finite = bool(np.isfinite(x).all())
    duration = len(x) / float(sample_rate)
    out: dict[str, Any] = {"duration_s": round(duration, 3), "finite": finite}
    if not finite:
        reasons.append("NaN or infinite samples")
        out["reasons"] = reasons
        return out
    peak = float(np.max(np.abs(x))) if x.size else 0.0
    frame = max(1, int(0.02 * sample_rate))
    usable = (len(x) // frame) * frame
    if usable:
        rms = np.sqrt(np.mean(x[:usable].reshape(-1, frame) ** 2, axis=1))
        silence = float(np.mean(rms < 10 ** (SILENCE_DBFS / 20)))
    else:
        silence = 1.0
    clipped = float(np.mean(np.abs(x) >= CLIP_LEVEL)) if x.size else 0.0
    out.update(
        peak_dbfs=round(_dbfs(peak), 2) if peak > 0 else None,
        silence_share=round(silence, 3),
        clipped_share=round(clipped, 4),
    )
    lo, hi = expected
    if not lo <= duration <= hi:
        reasons.append(f"{duration:.2f} s of audio, expected {lo:.2f}-{hi:.2f} s for this text")
    if peak == 0 or _dbfs(peak) < MIN_PEAK_DBFS:
        reasons.append(f"near-silent (peak {_dbfs(peak):.1f} dBFS)")
    if silence > MAX_SILENCE_SHARE:
        reasons.append(f"{silence:.0%} silence")
    if clipped > MAX_CLIPPED_SHARE:
        reasons.append(f"clipped ({clipped:.1%} of samples at full scale)")
    out["reasons"] = reasons
    return out


# --- evidence about the files -------------------------------------------------------------------------


def _file(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        size = Path(path).stat().st_size
    except OSError:
        size = None
    return {"path": str(path), "bytes": size}


def release_evidence(info: VoiceInfo) -> list[str]:
    """What the files say about the Coqui release that wrote them (dates, release-only config fields)."""
    from forv_tts.voices.layout import read_config_json

    found: list[str] = []
    for what, ckpt in (("glow-tts", info.checkpoint), ("hifigan-v2", info.vocoder_checkpoint)):
        date = duration_rule.checkpoint_date(ckpt) if ckpt is not None else None
        if date:
            found.append(f"{what} checkpoint date {date!r}")
    if info.config is not None:
        try:
            cfg = read_config_json(info.config)
        except (OSError, ValueError):
            return found
        if duration_rule.config_is_modern(cfg):
            found.append("coqui-tts >= 0.6 character config")
        later = duration_rule.later_release_fields(cfg)
        if later:
            found.append("Coqui TTS >= 0.5.0 config fields: " + ", ".join(later))
        datasets = cfg.get("datasets")
        if isinstance(datasets, list) and any(
            isinstance(d, dict) and "ununsed_speakers" in d for d in datasets
        ):
            found.append("Coqui TTS <= 0.4.2 config field: datasets[].ununsed_speakers")
        if duration_rule.written_before_0_4(cfg):
            found.append("Coqui TTS <= 0.3.1 config key order")
    return found


def _weight_cache_state(info: VoiceInfo, voice: Any, started: float) -> str:
    from forv_tts.voices.coqui import weight_cache

    if not weight_cache.enabled():
        return "off"
    if getattr(voice, "from_weight_cache", False):
        return "hit"
    entries = [
        weight_cache.entry_path(p, kind)
        for p, kind in ((info.checkpoint, "glow"), (info.vocoder_checkpoint, "hifigan"))
        if p is not None
    ]
    try:
        fresh = all(e.stat().st_mtime >= started - 1 for e in entries)
    except OSError:
        fresh = False
    return "built" if fresh else "miss (not writable)"


# --- the check ----------------------------------------------------------------------------------------


def _prepare(texts: Sequence[str]) -> list[tuple[str, list[str]]]:
    from forv_tts.config import SynthesisConfig
    from forv_tts.synthesis import prepare_text

    plain = SynthesisConfig(lexicon=None)  # the voice is checked, not the team's lexicon
    return [(text, prepare_text(text, plain)) for text in texts]


def check_member(info: VoiceInfo, phrases: Sequence[tuple[str, list[str]]]) -> MemberCheck:
    """Load `info` afresh and speak each (text, sentences) pair; never raises for a bad member."""
    result = MemberCheck(
        member=info.id,
        format=info.format,
        duration_rule=info.duration_rule,
        duration_rule_evidence=info.duration_rule_evidence,
        sample_rate=info.sample_rate,
        files={
            "glow_checkpoint": _file(info.checkpoint),
            "glow_config": _file(info.config),
            "vocoder_checkpoint": _file(info.vocoder_checkpoint),
            "vocoder_config": _file(info.vocoder_config),
            "missing": list(info.missing),
        },
    )
    result.release_evidence = release_evidence(info)
    if info.missing:
        result.reasons.append("missing " + ", ".join(info.missing))
        return result
    if info.problems:
        result.reasons.extend(info.problems)
        return result

    from forv_tts.config import SynthesisConfig
    from forv_tts.synthesis import synthesize_sentences
    from forv_tts.voices.onnx import ENGINE_TORCH
    from forv_tts.voices.registry import import_for, load_uncached

    # The checkpoints themselves, through the torch engine (the ONNX engine exports from this voice).
    import_for(info, ENGINE_TORCH)  # torch and coqui's modules are not the member's load time
    started = time.time()
    t0 = time.perf_counter()
    try:
        voice = load_uncached(info, ENGINE_TORCH)
    except ForvError as err:
        result.reasons.append(str(err))
        return result
    result.load_s = round(time.perf_counter() - t0, 3)
    result.weight_cache = _weight_cache_state(info, voice, started)
    result.duration_rule = getattr(voice, "duration_rule", result.duration_rule)
    result.duration_rule_evidence = getattr(voice, "duration_rule_evidence", result.duration_rule_evidence)
    result.sample_rate = voice.sample_rate

    for text, sentences in phrases:
        normalized = " ".join(sentences)
        syllables = hangul_syllables(normalized)
        phrase = PhraseCheck(
            text=text,
            normalized=normalized,
            syllables=syllables,
            expected_s=expected_duration(syllables, len(sentences)),
        )
        result.phrases.append(phrase)
        t1 = time.perf_counter()
        try:
            audio = synthesize_sentences(voice, sentences, SynthesisConfig(seed=SEED))
        except (ForvError, NothingToSayError) as err:
            phrase.reasons.append(str(err))
            continue
        phrase.synth_s = round(time.perf_counter() - t1, 3)
        assert phrase.expected_s is not None
        judged = judge_audio(audio.samples, audio.sample_rate, phrase.expected_s)
        phrase.reasons = judged.pop("reasons")
        for key, value in judged.items():
            setattr(phrase, key, value)
        if phrase.duration_s:
            phrase.rtf = round(phrase.synth_s / phrase.duration_s, 3)
        phrase.ok = not phrase.reasons
    for phrase in result.phrases:
        if not phrase.ok:
            result.reasons.append(f"{phrase.text[:30]!r}: " + "; ".join(phrase.reasons))
    result.ok = not result.reasons
    return result


def check_voices(
    voice_dir: Path, members: Sequence[str] | None = None, text: str | None = None
) -> list[MemberCheck]:
    """Check `members` (default: every member found in `voice_dir`) with the test phrase and `text`.

    An unknown member in `members` is a failed entry ("not found"), not an exception: CI wants the
    whole report. Text that normalises to nothing raises `NothingToSayError` before anything loads.
    """
    from forv_tts.storage.naming import validate_member_id
    from forv_tts.voices.layout import member_ids, member_info

    texts = [TEST_PHRASE] + ([text] if text else [])
    phrases = _prepare(texts)
    found = member_ids(voice_dir)
    wanted = [validate_member_id(m) for m in members] if members else found
    results: list[MemberCheck] = []
    for member in wanted:
        if member not in found:
            results.append(MemberCheck(member=member, reasons=[f"no member {member!r} in {voice_dir}"]))
            continue
        check = check_member(member_info(voice_dir, member), phrases)
        log.info("checked member %s: %s", member, "ok" if check.ok else check.reason)
        results.append(check)
    return results

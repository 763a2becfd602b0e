"""Voices: cheap descriptors until first use, loaded once per process.

A `VoiceInfo` is what `forv-tts members` lists: paths and facts read from config files only, never from
weights. `load_voice` turns one into a `Voice` the first time it is needed and caches it for the life
of the process, so a `say --member 3` loads member 3 and nothing else.
"""

from __future__ import annotations

import functools
import importlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from forv_tts.audio import Audio
from forv_tts.errors import VoiceNotFoundError

log = logging.getLogger(__name__)

BUILTIN_VOICE_ID = "builtin"
ENGINE_COQUI = "glow-tts+hifigan-v2"
ENGINE_ESPEAK = "espeak-ng"
ENGINE_EXPORTED = "onnx-export"  # an exported voice directory only (`forv-tts export`), no checkpoints

#: Team layout: `<voice_dir>/glow-tts/<i>/<i>g_checkpoint_<step>.pth.tar` + `<i>g_config.json`, and
#: `<voice_dir>/hifigan-v2/<i>/<i>h_checkpoint_<step>.pth.tar` + `<i>h_config.json`.
GLOW_DIR = "glow-tts"
VOCODER_DIR = "hifigan-v2"
#: `<voice_dir>/onnx/<i>/voice.json` + graphs: a member exported by `forv-tts export`.
EXPORTED_DIR = "onnx"
FORMAT_LEGACY = "legacy"
FORMAT_MODERN = "modern"
FORMAT_UNKNOWN = "unknown"
_MEMBER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class VoiceInfo:
    """Everything known about a voice without loading it."""

    id: str
    engine: str
    format: str  # "legacy" (Coqui TTS 0.x), "modern" (coqui-tts >= 0.22) or "builtin"
    sample_rate: int | None = None
    checkpoint: Path | None = None
    config: Path | None = None
    step: int | None = None
    vocoder_checkpoint: Path | None = None
    vocoder_config: Path | None = None
    vocoder_step: int | None = None
    missing: tuple[str, ...] = field(default_factory=tuple)

    @property
    def usable(self) -> bool:
        """True when every file the voice needs is present."""
        return not self.missing

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready view (paths as strings)."""
        d = asdict(self)
        for key, value in d.items():
            if isinstance(value, Path):
                d[key] = str(value)
        d["missing"] = list(self.missing)
        return d


class Voice(Protocol):
    """A loaded voice: turns one normalised sentence into audio."""

    info: VoiceInfo
    sample_rate: int

    def synthesize(self, text: str, *, seed: int | None = None, length_scale: float | None = None) -> Audio:
        """Speak one sentence of normalised Hangul text.

        Characters the voice cannot speak are dropped with a logged warning; if nothing speakable is left
        `NothingToSayError` is raised instead of returning silence.
        """
        ...


def _load_uncached(info: VoiceInfo, engine: str) -> Voice:
    if info.engine == ENGINE_ESPEAK:
        from forv_tts.espeak import EspeakVoice

        return EspeakVoice(info)
    from forv_tts.voices.onnx import ENGINE_ONNX

    if info.engine == ENGINE_EXPORTED:
        if engine != ENGINE_ONNX:
            raise VoiceNotFoundError(
                f"member {info.id} is an exported voice only ({info.config}): it has no checkpoints for "
                "the torch engine; use --engine onnx"
            )
        from forv_tts.voices.onnx.voice import OnnxVoice

        assert info.config is not None
        return OnnxVoice(info, info.config.parent)
    if engine == ENGINE_ONNX:
        from forv_tts.voices.onnx import cache

        voice: Voice = cache.load(info)
        return voice
    from forv_tts.coqui_voice import CoquiVoice

    return CoquiVoice(info)


def voice_module(info: VoiceInfo, engine: str | None = None) -> str:
    """The module whose import loading `info` with `engine` needs most (torch's for the torch engine)."""
    from forv_tts.voices.onnx import ENGINE_ONNX, resolve_engine

    if info.engine == ENGINE_ESPEAK:
        return "forv_tts.espeak"
    if info.engine == ENGINE_EXPORTED or resolve_engine(engine) == ENGINE_ONNX:
        return "onnxruntime"
    return "forv_tts.coqui_voice"


def import_for(info: VoiceInfo, engine: str | None = None) -> None:
    """Import the modules loading `info` will need (torch and coqui's code for a member); load nothing.

    Costs nothing when they are already imported; lets a caller overlap them with other work.
    """
    importlib.import_module(voice_module(info, engine))


@functools.cache
def _load_cached(info: VoiceInfo, engine: str) -> Voice:
    t0 = time.perf_counter()
    voice = _load_uncached(info, engine)
    log.info(
        "loaded voice %s (%s, %s engine) in %.2f s", info.id, info.engine, engine, time.perf_counter() - t0
    )
    return voice


class _VoiceLoader:
    """`load_voice`: once per process per descriptor and engine (`cache_clear` forgets them all)."""

    def __call__(self, info: VoiceInfo, engine: str | None = None) -> Voice:
        """Load a voice once per process and log how long it took; `engine` (onnx/torch) for members:
        the option, else `$FORV_TTS_ENGINE`, else ONNX (`forv_tts.voices.onnx.resolve_engine`)."""
        from forv_tts.voices.onnx import resolve_engine

        return _load_cached(info, resolve_engine(engine) if info.engine != ENGINE_ESPEAK else "")

    def cache_clear(self) -> None:
        _load_cached.cache_clear()


load_voice = _VoiceLoader()


# --- discovery (config JSON only; weights are never opened here) ------------------------------------


def read_config_json(path: Path) -> dict[str, Any]:
    """Read a Coqui config file. Mozilla-era and early Coqui configs may carry `//` comment lines."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        stripped = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))
        data = json.loads(stripped)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return data


def config_format(config: dict[str, Any]) -> str:
    """Which Coqui generation wrote a Glow-TTS config: "legacy" (TTS 0.x) or "modern".

    Coqui TTS before 0.6 described the character set as `{pad, eos, bos, characters, punctuations,
    phonemes, unique}` and built the symbol table with `make_symbols` (no sort, punctuation not
    appended). From 0.6 on (and in coqui-tts) it is a `CharactersConfig` with `characters_class`,
    `is_unique`, `is_sorted`, `blank`, `vocab_dict`, tokenised by `BaseCharacters`, which sorts.
    """
    chars = config.get("characters")
    if isinstance(chars, dict):
        modern_keys = ("characters_class", "is_unique", "is_sorted", "blank", "vocab_dict")
        return FORMAT_MODERN if any(k in chars for k in modern_keys) else FORMAT_LEGACY
    return FORMAT_LEGACY if "use_espeak_phonemes" in config else FORMAT_MODERN


def _member_sort_key(member: str) -> tuple[int, int, str]:
    return (0, int(member), member) if member.isdigit() else (1, 0, member)


def _checkpoints(folder: Path, prefix: str) -> dict[int, Path]:
    """`<prefix>_checkpoint_<step>.pth.tar` files in `folder`, by step."""
    pattern = re.compile(rf"^{re.escape(prefix)}_checkpoint_(\d+)\.pth\.tar$")
    found: dict[int, Path] = {}
    if folder.is_dir():
        for path in folder.iterdir():
            m = pattern.match(path.name)
            if m and path.is_file():
                found[int(m.group(1))] = path
    return found


def _pick(
    voice_dir: Path, kind: str, member: str, letter: str, step: int | None, missing: list[str]
) -> tuple[Path | None, Path | None, int | None]:
    folder = voice_dir / kind / member
    prefix = f"{member}{letter}"
    config = folder / f"{prefix}_config.json"
    steps = _checkpoints(folder, prefix)
    if step is not None:
        chosen: int | None = step
        checkpoint: Path | None = steps.get(step)
        if checkpoint is None:
            missing.append(f"{kind}/{member}/{prefix}_checkpoint_{step}.pth.tar")
    elif steps:
        chosen = max(steps)
        checkpoint = steps[chosen]
    else:
        chosen, checkpoint = None, None
        missing.append(f"{kind}/{member}/{prefix}_checkpoint_<step>.pth.tar")
    if not config.is_file():
        missing.append(f"{kind}/{member}/{prefix}_config.json")
        config_path: Path | None = None
    else:
        config_path = config
    return checkpoint, config_path, chosen


def _sample_rate(config: dict[str, Any] | None) -> int | None:
    audio = (config or {}).get("audio")
    rate = audio.get("sample_rate") if isinstance(audio, dict) else None
    return int(rate) if isinstance(rate, int | float) and not isinstance(rate, bool) else None


def _safe_config(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return read_config_json(path)
    except (OSError, ValueError) as exc:
        log.warning("cannot read %s: %s", path, exc)
        return None


def member_info(voice_dir: Path, member: str, step: int | None = None) -> VoiceInfo:
    """Describe one member from its config files; `step` pins the Glow-TTS step (vocoder: highest)."""
    voice_dir = Path(voice_dir)
    missing: list[str] = []
    checkpoint, config, chosen = _pick(voice_dir, GLOW_DIR, member, "g", step, missing)
    voc_checkpoint, voc_config, voc_step = _pick(voice_dir, VOCODER_DIR, member, "h", None, missing)
    glow_cfg = _safe_config(config)
    vocoder_cfg = _safe_config(voc_config)
    fmt = config_format(glow_cfg) if glow_cfg is not None else FORMAT_UNKNOWN
    # The output rate is the vocoder's (as in coqui's Synthesizer); fall back to the acoustic model's.
    rate = _sample_rate(vocoder_cfg) or _sample_rate(glow_cfg)
    return VoiceInfo(
        id=member,
        engine=ENGINE_COQUI,
        format=fmt,
        sample_rate=rate,
        checkpoint=checkpoint,
        config=config,
        step=chosen,
        vocoder_checkpoint=voc_checkpoint,
        vocoder_config=voc_config,
        vocoder_step=voc_step,
        missing=tuple(missing),
    )


def exported_info(voice_dir: Path, member: str) -> VoiceInfo | None:
    """An exported member (`<voice_dir>/onnx/<member>/voice.json`), read from its JSON only; else None."""
    manifest = Path(voice_dir) / EXPORTED_DIR / member / "voice.json"
    if not manifest.is_file():
        return None
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
        rate = int(data["sample_rate"])
        fmt = str(data.get("format", FORMAT_UNKNOWN))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("cannot read %s: %s", manifest, exc)
        return None
    return VoiceInfo(id=member, engine=ENGINE_EXPORTED, format=fmt, sample_rate=rate, config=manifest)


def member_ids(voice_dir: Path) -> list[str]:
    """Member ids that have a folder under `glow-tts/`, `hifigan-v2/` or `onnx/`, sorted numerically."""
    ids: set[str] = set()
    for kind in (GLOW_DIR, VOCODER_DIR, EXPORTED_DIR):
        root = Path(voice_dir) / kind
        if root.is_dir():
            ids.update(p.name for p in root.iterdir() if p.is_dir() and _MEMBER_ID.fullmatch(p.name))
    return sorted(ids, key=_member_sort_key)


def discover_members(voice_dir: Path, *, step: int | None = None) -> list[VoiceInfo]:
    """Every member in `voice_dir`, sorted numerically by id; incomplete members are listed too.

    Reads config JSON only, so listing stays fast and works even when a checkpoint is corrupt.
    """
    return [_member_or_exported(voice_dir, member, step) for member in member_ids(voice_dir)]


def _member_or_exported(voice_dir: Path, member: str, step: int | None) -> VoiceInfo:
    """A member's checkpoints when it has any; an exported voice when that is all there is."""
    info = member_info(voice_dir, member, step)
    has_checkpoints = (Path(voice_dir) / GLOW_DIR / member).is_dir() or (
        Path(voice_dir) / VOCODER_DIR / member
    ).is_dir()
    if not has_checkpoints and step is None:
        exported = exported_info(voice_dir, member)
        if exported is not None:
            return exported
    return info


def list_voices(voice_dir: Path) -> list[VoiceInfo]:
    """The built-in voice first, then the members found in `voice_dir`."""
    from forv_tts.espeak import builtin_info

    return [builtin_info(), *discover_members(voice_dir)]


def find_voice(member: str | None, voice_dir: Path, step: int | None = None) -> VoiceInfo:
    """Resolve `--member` to a usable descriptor: None (or "builtin") is the built-in voice.

    Raises `VoiceNotFoundError` naming the available ids when the member is unknown, or naming the
    missing file when the member is incomplete.
    """
    if member is None or member == BUILTIN_VOICE_ID:
        from forv_tts.espeak import builtin_info

        return builtin_info()
    from forv_tts.naming import validate_member_id

    member = validate_member_id(str(member))
    voice_dir = Path(voice_dir)
    available = member_ids(voice_dir)
    if member not in available:
        if not voice_dir.is_dir():
            where = f"voice dir {voice_dir} does not exist (set --voice-dir or $FORV_TTS_VOICE_DIR)"
            raise VoiceNotFoundError(f"no member {member!r}: {where}")
        ids = ", ".join(available) if available else "none"
        raise VoiceNotFoundError(
            f"no member {member!r} in {voice_dir}; available: {ids} (and {BUILTIN_VOICE_ID!r})"
        )
    info = _member_or_exported(voice_dir, member, step)
    if info.missing:
        raise VoiceNotFoundError(
            f"member {member!r} is incomplete in {voice_dir}: missing {', '.join(info.missing)}"
        )
    return info

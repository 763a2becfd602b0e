"""Discovery in the team's voice tree: `VoiceInfo`s from config JSON (plus the checkpoints' `date`
record and the optional `voice.json` override), never from weights."""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

from forv_tts.errors import (
    IncompleteMemberError,
    UnknownMemberError,
    VoiceDirError,
    VoiceDirNotFoundError,
)
from forv_tts.voices import audio_pair, duration_rule
from forv_tts.voices.base import (
    _MEMBER_ID,
    BUILTIN_VOICE_ID,
    ENGINE_COQUI,
    ENGINE_EXPORTED,
    EXPORTED_DIR,
    FORMAT_LEGACY,
    FORMAT_MODERN,
    FORMAT_UNKNOWN,
    GLOW_DIR,
    VOCODER_DIR,
    VoiceInfo,
)

log = logging.getLogger(__name__)


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


_F = TypeVar("_F", bound=Callable[..., Any])


def _reading(func: _F) -> _F:
    """A voice folder we may not read is the user's to fix (exit 2), not an "unexpected" error."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OSError as err:
            where = err.filename if err.filename else (args[0] if args else "the voice dir")
            raise VoiceDirError(
                f"cannot read {where}: {err.strerror or err}; "
                "check its permissions (or pass another --voice-dir)"
            ) from None

    return cast(_F, wrapper)


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
        # Debug only: loading the voice reads it again and reports the error once, as an error.
        log.debug("cannot read %s: %s", path, exc)
        return None


@_reading
def member_info(voice_dir: Path, member: str, step: int | None = None) -> VoiceInfo:
    """Describe one member from its config files; `step` pins the Glow-TTS step (vocoder: highest).

    Besides the configs only two small things are read: the optional `voice.json` override and the
    Glow-TTS checkpoint's `date` record (`duration_rule.checkpoint_date`, no tensor data).
    """
    voice_dir = Path(voice_dir)
    missing: list[str] = []
    checkpoint, config, chosen = _pick(voice_dir, GLOW_DIR, member, "g", step, missing)
    voc_checkpoint, voc_config, voc_step = _pick(voice_dir, VOCODER_DIR, member, "h", None, missing)
    glow_cfg = _safe_config(config)
    vocoder_cfg = _safe_config(voc_config)
    fmt = config_format(glow_cfg) if glow_cfg is not None else FORMAT_UNKNOWN
    # The output rate is the vocoder's (as in coqui's Synthesizer); fall back to the acoustic model's.
    rate = _sample_rate(vocoder_cfg) or _sample_rate(glow_cfg)
    rule = duration_rule.decide(glow_cfg, checkpoint, voice_dir / GLOW_DIR / member)
    problems = [rule.problem] if rule.problem else []
    if glow_cfg is not None and vocoder_cfg is not None:
        mismatch = audio_pair.mismatch_problem(glow_cfg, vocoder_cfg)
        if mismatch:
            problems.append(mismatch)
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
        duration_rule=rule.rule,
        duration_rule_evidence=rule.evidence,
        problems=tuple(problems),
        voice_dir=voice_dir,
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
    return VoiceInfo(
        id=member,
        engine=ENGINE_EXPORTED,
        format=fmt,
        sample_rate=rate,
        config=manifest,
        voice_dir=Path(voice_dir),
    )


def _member_or_exported(voice_dir: Path, member: str, step: int | None) -> VoiceInfo:
    """A member's checkpoints when it has any; its exported voice when that is all there is."""
    root = Path(voice_dir)
    if (
        step is None
        and not (root / GLOW_DIR / member).is_dir()
        and not (root / VOCODER_DIR / member).is_dir()
    ):
        exported = exported_info(voice_dir, member)
        if exported is not None:
            return exported
    return member_info(voice_dir, member, step)


@_reading
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

    Reads config JSON (and each checkpoint's small `date` record, never its weights), so listing stays
    fast and works even when a checkpoint is corrupt.
    """
    return [_member_or_exported(voice_dir, member, step) for member in member_ids(voice_dir)]


def list_voices(voice_dir: Path) -> list[VoiceInfo]:
    """The built-in voice first, then the members found in `voice_dir`."""
    from forv_tts.voices.espeak import builtin_info

    return [builtin_info(Path(voice_dir)), *discover_members(voice_dir)]


def find_voice(member: str | None, voice_dir: Path, step: int | None = None) -> VoiceInfo:
    """Resolve a member id to a usable descriptor: None (or "builtin") is the built-in voice.

    Raises (all `VoiceNotFoundError`) `UnknownMemberError` naming the available ids,
    `VoiceDirNotFoundError`, or `IncompleteMemberError` naming the missing files.
    """
    if member is None or member == BUILTIN_VOICE_ID:
        from forv_tts.voices.espeak import builtin_info

        return builtin_info(Path(voice_dir))
    from forv_tts.storage.naming import validate_member_id

    member = validate_member_id(str(member))
    voice_dir = Path(voice_dir)
    available = member_ids(voice_dir)
    if member not in available:
        if not voice_dir.is_dir():
            state = "is not a directory" if voice_dir.exists() else "does not exist"
            raise VoiceDirNotFoundError(
                f"no member {member!r}: voice dir {voice_dir} {state}",
                member=member,
                voice_dir=str(voice_dir),
            )
        ids = ", ".join(available) if available else "none"
        raise UnknownMemberError(
            f"no member {member!r} in {voice_dir}; available: {ids} (and {BUILTIN_VOICE_ID!r})",
            member=member,
            voice_dir=str(voice_dir),
            available=[*available, BUILTIN_VOICE_ID],
        )
    info = _member_or_exported(voice_dir, member, step)
    if info.missing:
        raise IncompleteMemberError(
            f"member {member!r} is incomplete in {voice_dir}: missing {', '.join(info.missing)}",
            member=member,
            voice_dir=str(voice_dir),
            missing=list(info.missing),
        )
    return info

"""Which Glow-TTS duration rule a member was trained and heard with, decided from its files.

Coqui TTS computed each token's frame count as `ceil(w)` (a token predicted at <= 0 frames is dropped)
up to v0.3.1; commit 4dbe7ed0 ("Fix all-zero duration case for GlowTTS", 2021-10-01) changed it to
`clamp_min(ceil(w), 1)`, first released in v0.4.0 (2021-10-26) and kept by every later release and by
coqui-tts. The config's *format* does not tell the two apart (the 0.x character-set format lasted until
v0.6.0), so the rule is decided from evidence, strongest first:

1. an explicit override the team commits beside the checkpoints: `glow-tts/<i>/voice.json` with
   `{"duration_rule": "zero-frames" | "min-one-frame"}` (see voice_model/README.md);
2. the checkpoint's `date` (Coqui's `save_model` writes `date.today().strftime("%B %d, %Y")`):
   before 2021-10-01 → zero frames allowed, on or after → at least one;
3. the config's fields: v0.5.0 added `audio.db_level`, `audio.do_rms_norm` and, per dataset,
   `language` and `ignored_speakers` (at least one frame); releases up to v0.3.1 wrote
   `use_speaker_embedding` before `encoder_params` (those keys sat in `BaseTTSConfig` until v0.4.0
   moved them into `GlowTTSConfig`, which changes their place in the saved JSON): zero frames;
4. otherwise at least one frame (what every release since October 2021 does).

Everything here is torch-free and cheap: discovery calls it for every member. The date is read from the
checkpoint's pickle record only (`data.pkl` inside torch's zip file, a few hundred KB for a real member),
with an unpickler that resolves every class to an inert stand-in, so no tensor data is read and no code
named by the file runs.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import logging
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Coqui TTS <= 0.3.1: `w_ceil = torch.ceil(w)`; a token whose predicted duration is <= 0 gets no frames.
ZERO_FRAMES = "zero-frames"
#: Coqui TTS >= 0.4.0 and coqui-tts: `torch.clamp_min(torch.ceil(w), 1)`; every token gets a frame.
MIN_ONE_FRAME = "min-one-frame"
RULES = (ZERO_FRAMES, MIN_ONE_FRAME)

#: The commit date of 4dbe7ed0; no release before it carried the fix.
FIX_DATE = dt.date(2021, 10, 1)
#: The per-member override file, in the member's `glow-tts/<i>/` folder.
OVERRIDE_FILE = "voice.json"
_DATE_FORMAT = "%B %d, %Y"
_NON_ZIP_SCAN = 8 << 20  # pre-1.6 torch files: the record pickle sits before the tensor bytes


@dataclass(frozen=True)
class RuleDecision:
    """A duration rule, the evidence it was decided from, and a problem with the override (if any)."""

    rule: str
    evidence: str
    problem: str | None = None


class OverrideError(ValueError):
    """`voice.json` exists but does not name a known duration rule."""


def read_override(folder: Path) -> tuple[str, Path] | None:
    """The rule set by `<folder>/voice.json`, or None when there is no such file.

    Raises `OverrideError` naming the file when it is unreadable or names no known rule: a team that
    wrote an override means it, so a typo must not silently fall back to the other evidence.
    """
    path = Path(folder) / OVERRIDE_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise OverrideError(f"{path}: not readable JSON ({exc})") from None
    rule = data.get("duration_rule") if isinstance(data, dict) else None
    if rule not in RULES:
        raise OverrideError(f"{path}: duration_rule must be one of {', '.join(RULES)}, found {rule!r}")
    return str(rule), path


class _Inert:
    """Whatever the checkpoint's pickle names (tensors, storages, OrderedDicts, numpy scalars)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


class _RecordUnpickler(pickle.Unpickler):
    """Rebuilds the plain containers and strings of a checkpoint; everything else becomes `_Inert`."""

    def find_class(self, module: str, name: str) -> Any:
        return _Inert

    def persistent_load(self, pid: Any) -> Any:
        return _Inert()


def _record_pickle(path: Path) -> bytes:
    """The pickled top-level record of a torch checkpoint, without the tensor bytes."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"]
            if not names:
                raise ValueError("no data.pkl in the archive")
            return archive.read(names[0])
    with open(path, "rb") as fh:
        return fh.read(_NON_ZIP_SCAN)


def _read_date_uncached(path: Path) -> str | None:
    data = _record_pickle(path)
    stream = io.BytesIO(data)
    if not zipfile.is_zipfile(path):
        # Pre-1.6 torch: magic number, protocol, system info, then the record.
        for _ in range(3):
            _RecordUnpickler(stream).load()
    record = _RecordUnpickler(stream).load()
    if not isinstance(record, dict):
        return None
    date = record.get("date")
    return date if isinstance(date, str) else None


@functools.lru_cache(maxsize=256)
def _read_date_cached(path: str, size: int, mtime_ns: int) -> str | None:
    return _read_date_uncached(Path(path))


def checkpoint_date(path: Path) -> str | None:
    """The checkpoint's `date` string as Coqui wrote it, or None when it has none or cannot be read."""
    try:
        st = Path(path).stat()
        return _read_date_cached(str(path), st.st_size, st.st_mtime_ns)
    except Exception as exc:  # a damaged file is reported by loading, not by discovery
        log.debug("no date read from %s: %s", path, exc)
        return None


def parse_date(text: str) -> dt.date | None:
    """Coqui's `"%B %d, %Y"` (English month names, as Python writes them unless LC_TIME was set)."""
    try:
        return dt.datetime.strptime(text.strip(), _DATE_FORMAT).date()
    except ValueError:
        pass
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        return None


def later_release_fields(config: Mapping[str, Any]) -> list[str]:
    """Fields of `config` that Coqui TTS wrote only from v0.5.0 on (all after the fix)."""
    found: list[str] = []
    audio = config.get("audio")
    if isinstance(audio, Mapping):
        found += [f"audio.{k}" for k in ("db_level", "do_rms_norm") if k in audio]
    datasets = config.get("datasets")
    if isinstance(datasets, list):
        for key in ("language", "ignored_speakers"):
            if any(isinstance(d, Mapping) and key in d for d in datasets):
                found.append(f"datasets[].{key}")
    return found


def written_before_0_4(config: Mapping[str, Any]) -> bool:
    """True when the key order is that of Coqui TTS <= 0.3.1's `GlowTTSConfig.to_dict()`.

    Until v0.3.1 `use_speaker_embedding` was a `BaseTTSConfig` field, so the dataclass (and the JSON it
    saved) listed it before Glow-TTS's own `encoder_params`; v0.4.0 removed it from the base class and it
    moved after them. A hand-edited config may have lost the order; then this says False.
    """
    keys = list(config)
    try:
        return keys.index("use_speaker_embedding") < keys.index("encoder_params")
    except ValueError:
        return False


def decide(
    config: Mapping[str, Any] | None, checkpoint: Path | None, folder: Path | None = None
) -> RuleDecision:
    """The duration rule for a Glow-TTS member, strongest evidence first (module docstring)."""
    problem: str | None = None
    if folder is not None:
        try:
            override = read_override(folder)
        except OverrideError as exc:
            override, problem = None, str(exc)
        if override is not None:
            return RuleDecision(override[0], f"override in {override[1]}")
    if checkpoint is not None:
        text = checkpoint_date(checkpoint)
        day = parse_date(text) if text else None
        if day is not None:
            rule = ZERO_FRAMES if day < FIX_DATE else MIN_ONE_FRAME
            side = "before" if day < FIX_DATE else "on or after"
            return RuleDecision(rule, f"checkpoint date {text!r} ({side} {FIX_DATE.isoformat()})", problem)
    if config is not None:
        if config_is_modern(config):
            return RuleDecision(MIN_ONE_FRAME, "coqui-tts >= 0.6 config (CharactersConfig)", problem)
        later = later_release_fields(config)
        if later:
            return RuleDecision(
                MIN_ONE_FRAME, "config has Coqui TTS >= 0.5.0 fields: " + ", ".join(later), problem
            )
        if written_before_0_4(config):
            return RuleDecision(
                ZERO_FRAMES, "config key order of Coqui TTS <= 0.3.1 (use_speaker_embedding first)", problem
            )
    return RuleDecision(MIN_ONE_FRAME, "no release evidence: default (Coqui TTS >= 0.4.0)", problem)


def config_is_modern(config: Mapping[str, Any]) -> bool:
    """A coqui-tts >= 0.6 `CharactersConfig` (no 0.x release wrote one)."""
    chars = config.get("characters")
    modern_keys = ("characters_class", "is_unique", "is_sorted", "blank", "vocab_dict")
    return isinstance(chars, Mapping) and any(k in chars for k in modern_keys)


def evidence_kind(evidence: str) -> str:
    """A one-word tag for an evidence string (for one-line displays): override, date, config, default."""
    if evidence.startswith("override"):
        return "override"
    if evidence.startswith("checkpoint date"):
        return "date"
    if evidence.startswith(("config", "coqui-tts")):
        return "config"
    return "default"

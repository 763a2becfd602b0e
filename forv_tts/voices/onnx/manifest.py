"""The exported voice directory's `voice.json`: what the graphs need around them, torch-free.

A directory holds `encoder.onnx` (Glow-TTS's text encoder and duration predictor), `decoder.onnx`
(Glow-TTS's inverse flow decoder, squeeze included), both pre-optimised with their weights in
`encoder.data` / `decoder.data`, `vocoder.onnx` (HiFi-GAN v2) and `voice.json`:
the symbol table and text form (so token ids are the torch engine's), the duration rule the loaded
voice used, the noise and length scales, both networks' audio settings, each graph's size (a file of
another size is never trusted), and the stamps of the checkpoints and configs it was made from.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from forv_tts.voices import duration_rule
from forv_tts.voices.coqui.dsp import AudioSettings
from forv_tts.voices.coqui.tokenizer import Tokenizer

FORMAT_KEY = "forv_tts_onnx_voice"
FORMAT_VERSION = "6"  # bump when the graphs or this file's meaning change
#: Versions this runtime still speaks: the graphs take and give the same tensors. 4 stores the vocoder's
#: convolutions as 2-D ones (conv2d.py), faster; 5 records the vocoder's receptive field
#: (`vocoder_windows`, windows.py), so it can run in windows; 6 records the decoder's
#: (`decoder_windows`), so a long sentence's first audio waits for part of its mel only. The cache
#: rebuilds older exports, but a directory someone exported with an older forv-tts keeps working
#: (older ones vocode or decode whole) where there is no checkpoint to rebuild from.
READABLE_VERSIONS = ("3", "4", "5", FORMAT_VERSION)
MANIFEST = "voice.json"
GRAPHS = ("encoder", "decoder", "vocoder")


def graph_files(data: dict[str, Any]) -> list[str]:
    """Every file the manifest's graphs consist of (graphs and their separate weights)."""
    names = []
    for name in GRAPHS:
        entry = data["graphs"][name]
        names.append(str(entry["file"]))
        if "data" in entry:
            names.append(str(entry["data"]))
    return names


#: Coqui TTS <= 0.3.1: `ceil(w)`, a token whose predicted duration is <= 0 gets no frames.
DURATION_CEIL = duration_rule.ZERO_FRAMES
#: Coqui TTS >= 0.4.0, coqui-tts: `clamp_min(ceil(w), 1)`, every token gets at least one frame.
DURATION_CEIL_MIN1 = duration_rule.MIN_ONE_FRAME
DURATION_RULES = (DURATION_CEIL, DURATION_CEIL_MIN1)


class ManifestError(ValueError):
    """voice.json is missing, unreadable, of another version, or does not describe its graphs."""


def tokenizer_to_dict(tok: Tokenizer) -> dict[str, Any]:
    return {
        "symbols": list(tok.symbols),
        "char_to_id": dict(tok.char_to_id),
        "num_chars": tok.num_chars,
        "text_form": tok.text_form,
        "blank_id": tok.blank_id,
        "bos_id": tok.bos_id,
        "eos_id": tok.eos_id,
        "never_keep": sorted(tok.never_keep),
        "lowercase": tok.lowercase,
    }


def tokenizer_from_dict(data: dict[str, Any]) -> Tokenizer:
    return Tokenizer(
        symbols=tuple(str(s) for s in data["symbols"]),
        char_to_id={str(k): int(v) for k, v in data["char_to_id"].items()},
        num_chars=int(data["num_chars"]),
        text_form=str(data["text_form"]),
        blank_id=None if data["blank_id"] is None else int(data["blank_id"]),
        bos_id=None if data["bos_id"] is None else int(data["bos_id"]),
        eos_id=None if data["eos_id"] is None else int(data["eos_id"]),
        never_keep=frozenset(str(s) for s in data["never_keep"]),
        lowercase=bool(data["lowercase"]),
    )


def audio_to_dict(audio: AudioSettings) -> dict[str, Any]:
    return asdict(audio)


def audio_from_dict(data: dict[str, Any]) -> AudioSettings:
    fields = AudioSettings.__dataclass_fields__
    return AudioSettings(**{k: v for k, v in data.items() if k in fields})


def file_stamp(path: Path) -> dict[str, Any]:
    """Size, mtime and inode of a source file: any change means the export is stale (as the weight cache)."""
    st = Path(path).stat()
    return {
        "path": str(Path(path).resolve()),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "inode": st.st_ino,
    }


def read(directory: Path) -> dict[str, Any]:
    """The manifest of an exported voice directory, checked against the graph files beside it."""
    path = Path(directory) / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{directory} is not an exported voice (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise ManifestError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.get(FORMAT_KEY) not in READABLE_VERSIONS:
        found = data.get(FORMAT_KEY) if isinstance(data, dict) else None
        raise ManifestError(
            f"{path}: exported voice format {found!r}, expected one of {', '.join(READABLE_VERSIONS)}"
        )
    if data.get("duration_rule") not in DURATION_RULES:
        raise ManifestError(f"{path}: unknown duration rule {data.get('duration_rule')!r}")
    graphs = data.get("graphs")
    if not isinstance(graphs, dict) or set(graphs) != set(GRAPHS):
        raise ManifestError(f"{path}: expected graphs {', '.join(GRAPHS)}")
    for name in GRAPHS:
        entry = graphs[name]
        file = Path(directory) / str(entry.get("file", ""))
        try:
            size = file.stat().st_size
        except OSError:
            raise ManifestError(f"{directory}: {name} graph {file.name} is missing") from None
        if size != entry.get("size"):
            raise ManifestError(f"{directory}: {file.name} is {size} bytes, expected {entry.get('size')}")
        if "data" in entry:
            weights = Path(directory) / str(entry["data"])
            try:
                data_size = weights.stat().st_size
            except OSError:
                raise ManifestError(f"{directory}: {name} weights {weights.name} are missing") from None
            if data_size != entry.get("data_size"):
                raise ManifestError(
                    f"{directory}: {weights.name} is {data_size} bytes, expected {entry.get('data_size')}"
                )
    return data


def write(directory: Path, data: dict[str, Any]) -> None:
    """Write voice.json (fsynced: it is what makes the directory count as an exported voice)."""
    path = Path(directory) / MANIFEST
    with open(path, "w", encoding="utf-8") as fh:
        json.dump({FORMAT_KEY: FORMAT_VERSION, **data}, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())

"""Exported voices built once per checkpoint, like the weight cache, in `<cache dir>/onnx/`.

One directory per member voice (keyed by both checkpoint paths), its voice.json carrying the size,
mtime and inode of both checkpoints and both configs (the configs decide the tokenizer and the audio
settings, which the export bakes in). Any mismatch, a voice.json of another format, a graph file of
another size than recorded, or a graph onnxruntime cannot load is a miss: the voice is exported again
from the checkpoints (this needs torch and coqui-tts) into a fresh directory that is renamed into
place, so a crash never leaves a half-written export behind a valid name. Builds are serialised by a
lock file, so two batch workers that miss at once export once. Deleting the directory is always safe.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from forv_tts import settings
from forv_tts.errors import VoiceLoadError
from forv_tts.voices.base import VoiceInfo
from forv_tts.voices.onnx import manifest

log = logging.getLogger(__name__)


def replace_dir(new: Path, target: Path) -> None:
    """Put the finished directory `new` at `target`, moving an older `target` aside and deleting it, so
    readers see either the whole old export or the whole new one."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def cache_root() -> Path:
    """`<cache dir>/onnx` (cache dir: `$FORV_TTS_CACHE_DIR`, else the XDG cache)."""
    return settings.cache_dir() / "onnx"


def entry_dir(info: VoiceInfo) -> Path:
    """Where the export of `info`'s two checkpoints lives."""
    key = "\0".join(
        str(Path(p).resolve()) for p in (info.checkpoint, info.vocoder_checkpoint) if p is not None
    )
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return cache_root() / f"{digest}-{info.id}"


def source_stamps(info: VoiceInfo) -> dict[str, Any]:
    """What an export of `info` was made from (raises OSError when a file is gone)."""
    files = {
        "glow_checkpoint": info.checkpoint,
        "glow_config": info.config,
        "vocoder_checkpoint": info.vocoder_checkpoint,
        "vocoder_config": info.vocoder_config,
    }
    stamps: dict[str, Any] = {}
    for name, path in files.items():
        if path is None:
            raise OSError(f"member {info.id} has no {name.replace('_', ' ')}")
        stamps[name] = manifest.file_stamp(path)
    stamps["duration_rule"] = info.duration_rule  # a voice.json override added later rebuilds the export
    return stamps


def current(directory: Path, stamps: dict[str, Any]) -> bool:
    """Whether `directory` holds a complete export made from exactly these files."""
    try:
        data = manifest.read(directory)
    except manifest.ManifestError as exc:
        if (directory / manifest.MANIFEST).exists():
            log.warning("ignoring exported voice %s (%s); rebuilding it", directory, exc)
        return False
    if data.get("source") != stamps:
        log.debug("exported voice %s is stale", directory)
        return False
    if data.get(manifest.FORMAT_KEY) != manifest.FORMAT_VERSION:
        log.info(
            "exported voice %s is format %s; rebuilding it as %s",
            directory,
            data.get(manifest.FORMAT_KEY),
            manifest.FORMAT_VERSION,
        )
        return False
    return True


@contextlib.contextmanager
def _build_lock(directory: Path) -> Any:
    import fcntl

    directory.parent.mkdir(parents=True, exist_ok=True)
    with open(directory.parent / f".{directory.name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fresh_dir(beside: Path) -> Path:
    """An empty directory next to `beside`, with the permissions `mkdir` would give (mkdtemp's are 0700)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{beside.name}.", suffix=".part", dir=beside.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)
    return tmp


def build(info: VoiceInfo, stamps: dict[str, Any], directory: Path) -> Path:
    """Export `info` from its checkpoints (torch, coqui) into `directory`, replacing what is there."""
    t0 = time.perf_counter()
    try:
        from forv_tts.voices.coqui.voice import CoquiVoice
        from forv_tts.voices.onnx.export import export_voice
    except ImportError as exc:
        raise VoiceLoadError(
            f"member {info.id} has no current ONNX export and exporting needs torch and coqui-tts ({exc}): "
            "install forv-tts[checkpoints], or use `forv-tts export` on a machine that has them"
        ) from None
    voice = CoquiVoice(info, fast_convolutions=False)
    tmp = _fresh_dir(directory)
    try:
        export_voice(voice, tmp, source=stamps)
        replace_dir(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info(
        "built the ONNX export of member %s in %.1f s (%s)", info.id, time.perf_counter() - t0, directory
    )
    return directory


def exported_dir(info: VoiceInfo, *, rebuild: bool = False) -> Path:
    """The directory of `info`'s current export, exporting it first when missing, stale or damaged."""
    directory = entry_dir(info)
    try:
        stamps = source_stamps(info)
    except OSError as exc:
        raise VoiceLoadError(f"member {info.id}: {exc}") from None
    if not rebuild and current(directory, stamps):
        return directory
    with _build_lock(directory):
        if not rebuild and current(directory, stamps):  # another process built it meanwhile
            return directory
        return build(info, stamps, directory)


def load(info: VoiceInfo) -> Any:
    """`OnnxVoice` for a member's checkpoints, from the cache (built or rebuilt as needed)."""
    from forv_tts.voices.onnx.voice import OnnxVoice

    directory = exported_dir(info)
    try:
        return OnnxVoice(info, directory)
    except VoiceLoadError as exc:
        log.warning("exported voice %s cannot be loaded (%s); rebuilding it", directory, exc)
    return OnnxVoice(info, exported_dir(info, rebuild=True))


def export_member(info: VoiceInfo, output: Path | None = None) -> Path:
    """Write a self-contained exported voice for `info` to `output` (default `<voice dir>/onnx/<id>`).

    The export comes from the cache (built first if needed) and is copied into a fresh directory beside
    `output`, then renamed into place: an existing exported voice there is replaced, anything else is
    refused (an export never overwrites a directory it did not write).
    """
    from forv_tts.errors import InvalidInputError
    from forv_tts.voices.base import ENGINE_EXPORTED, EXPORTED_DIR

    if info.engine == ENGINE_EXPORTED:
        raise InvalidInputError(
            f"member {info.id} is an exported voice already ({info.config}); nothing to export"
        )
    if info.checkpoint is None:
        raise InvalidInputError(f"member {info.id} has no checkpoints to export")
    if output is None:
        output = Path(info.checkpoint).parents[2] / EXPORTED_DIR / info.id
    output = Path(output)
    if output.exists() and (
        not output.is_dir() or (any(output.iterdir()) and not (output / manifest.MANIFEST).exists())
    ):
        raise InvalidInputError(
            f"refusing to write the export into {output}: it exists and is not an exported voice"
        )
    source = exported_dir(info)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh_dir(output)
    try:
        data = manifest.read(source)
        for file in manifest.graph_files(data):
            shutil.copyfile(source / file, tmp / file)
            with open(tmp / file, "rb") as fh:
                os.fsync(fh.fileno())
        manifest.write(tmp, {k: v for k, v in data.items() if k != manifest.FORMAT_KEY})
        replace_dir(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("exported member %s to %s", info.id, output)
    return output


def describe(directory: Path) -> dict[str, Any]:
    """JSON record of an exported voice directory (for `forv-tts export --json`)."""
    data = manifest.read(directory)
    return {
        "path": str(directory),
        "member": data.get("member"),
        "format": data.get("format"),
        "duration_rule": data.get("duration_rule"),
        "sample_rate": data.get("sample_rate"),
        "files": {name: data["graphs"][name] for name in manifest.GRAPHS},
        "size": sum(int(e["size"]) + int(e.get("data_size", 0)) for e in data["graphs"].values()),
    }

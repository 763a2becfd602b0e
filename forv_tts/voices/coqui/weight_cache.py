"""A cache of the weights a voice needs, picked out of its training checkpoint once, in safetensors.

Why: a Coqui training checkpoint is a pickle of ~3,100 records (the model, the optimizer's moments, a
vocoder's 70 M-parameter GAN discriminator). Even memory-mapped, torch's `weights_only` unpickler walks
every record on every cold start: 0.39 s of a real-size member's load on this 2-core machine, for 741
tensors that are then used. The same tensors, already selected and renamed, map from a safetensors file
in 0.013 s (BENCHMARKS.md). safetensors (a dependency of transformers, which coqui-tts already pulls in)
is the right container: no pickle, so nothing in the cache can run code; memory-mapped, so untouched
bytes are never read; a header we can check before trusting the data.

One file per checkpoint and network kind, `<cache dir>/weights/<hash of the path>-<kind>.safetensors`,
carrying the checkpoint's size, mtime and inode in its metadata, and an xxh3-64 checksum of its tensors,
checked on every load: a damaged entry (flipped bytes, zeroed pages) is logged, deleted and rebuilt from
the checkpoint instead of silently giving wrong audio. Any mismatch (the checkpoint was
retrained, replaced or touched), an unreadable or truncated cache file, or a cache of an older format is
a miss: the checkpoint is read as before and the entry rewritten (fsynced, then renamed into place, so
a crash never leaves a half-written entry behind a valid name). The cache is only an accelerator: when
it cannot be written (read-only home, full disk) loading goes on from the checkpoint and says so once
in the log. `FORV_TTS_WEIGHT_CACHE=0` turns it off; deleting the directory is always safe (a loaded
voice adopts its entry's mapped tensors, and a mapping outlives the file's name).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from forv_tts import paths
from forv_tts.voices.coqui.checkpoint import StateDict

log = logging.getLogger(__name__)

FORMAT_VERSION = "2"  # bump when what goes into an entry changes (key conversion, selection, checksum)
CHECKSUM_KEY = "xxh3_64"  # metadata key: xxh3-64 of every tensor's name, dtype, shape and bytes
ENV_SWITCH = "FORV_TTS_WEIGHT_CACHE"
_OFF = {"0", "off", "false", "no"}
_warned_unwritable = False


def enabled() -> bool:
    """False when `$FORV_TTS_WEIGHT_CACHE` is 0/off/false/no."""
    return os.environ.get(ENV_SWITCH, "").strip().lower() not in _OFF


def weights_dir() -> Path:
    """`<cache dir>/weights` (cache dir: `$FORV_TTS_CACHE_DIR`, else the XDG cache)."""
    return paths.cache_dir() / "weights"


@dataclass(frozen=True)
class Loaded:
    """A state dict and the file its tensors are memory-mapped from (for `MappedPages`)."""

    state: StateDict
    mapped_from: Path
    from_cache: bool


def entry_path(checkpoint: Path, kind: str) -> Path:
    """Where the entry for `checkpoint`'s `kind` network lives (one per checkpoint path and kind)."""
    key = hashlib.sha256(str(Path(checkpoint).resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return weights_dir() / f"{key[:24]}-{kind}.safetensors"


def _stamp(checkpoint: Path, kind: str) -> dict[str, str]:
    st = Path(checkpoint).stat()
    return {
        "forv_tts_weight_cache": FORMAT_VERSION,
        "kind": kind,
        "source": str(Path(checkpoint).resolve()),
        "size": str(st.st_size),
        "mtime_ns": str(st.st_mtime_ns),
        "inode": str(st.st_ino),
    }


def checksum(state: StateDict) -> str:
    """xxh3-64 over every tensor (name, dtype, shape, bytes) in key order: the entry's integrity check.

    Why xxh3: a flipped byte in 120 MB of weights must be caught on every load, and xxh3 reads memory at
    several GB/s where sha256 manages a few hundred MB/s (BENCHMARKS.md); this guards against damage, not
    an attacker (the cache directory is the user's own). Hashing the mapped tensors also faults in the
    pages the first synthesis reads anyway.
    """
    import xxhash

    h = xxhash.xxh3_64()
    for key in sorted(state):
        value = state[key]
        h.update(f"{key}\0{value.dtype}\0{tuple(value.shape)}\0".encode())
        if value.numel():
            h.update(value.detach().contiguous().reshape(-1).view(torch.uint8).numpy().data)
    return h.hexdigest()


def _discard(entry: Path, why: str) -> None:
    log.warning(
        "weight cache %s is damaged (%s): discarding it and rebuilding it from the checkpoint", entry, why
    )
    with contextlib.suppress(OSError):
        entry.unlink()


def _read(entry: Path, stamp: dict[str, str]) -> StateDict | None:
    """The entry's tensors if it exists, was made from exactly this checkpoint file and is intact."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(entry), framework="pt", device="cpu") as f:
            meta = dict(f.metadata() or {})
            recorded = meta.pop(CHECKSUM_KEY, None)
            if meta != stamp:
                log.debug("weight cache %s is stale", entry)
                return None
            state = {key: f.get_tensor(key) for key in f.keys()}  # noqa: SIM118 (safe_open is no Mapping)
    except FileNotFoundError:
        return None
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        _discard(entry, f"unreadable: {exc}")
        return None
    if recorded is None or checksum(state) != recorded:
        _discard(entry, "checksum mismatch" if recorded else "no checksum")
        return None
    return state


def _unshared(state: StateDict) -> StateDict:
    """safetensors refuses tensors that share storage (tied weights) and wants them contiguous: copy those."""
    seen: set[int] = set()
    out: StateDict = {}
    for key, value in state.items():
        ptr = value.untyped_storage().data_ptr()
        out[key] = value.clone() if ptr in seen else value.contiguous()
        seen.add(ptr)
    return out


_LOCK_SUFFIX = ".writers.lock"
_TEMPORARIES = (".*.part", ".tmp*")  # ours (mkstemp), and the one safetensors' save_file renames from


def _remove_stale_temporaries(directory: Path) -> int:
    """Delete the temporaries killed writers left behind; call holding the writers' lock exclusively.

    With the lock held exclusively no writer is live (each holds it shared while it writes), so every
    temporary is litter: one per SIGKILLed write, up to ~120 MB each, that would otherwise stay forever.
    """
    removed = 0
    for pattern in _TEMPORARIES:
        for leftover in directory.glob(pattern):
            with contextlib.suppress(OSError):
                size = leftover.stat().st_size
                leftover.unlink()
                removed += 1
                log.info("removed %s (%d bytes) left by an interrupted weight-cache write", leftover, size)
    return removed


@contextlib.contextmanager
def _writing(directory: Path) -> Iterator[None]:
    """Mark this process as a live writer (a shared lock); first, when no other writer is live, clean up."""
    # Beside the entries' directory, not in it: that directory holds entries (and litter) only.
    fd = os.open(directory.parent / f".{directory.name}{_LOCK_SUFFIX}", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # another writer is live: its temporary is not litter; a later write cleans up
        else:
            _remove_stale_temporaries(directory)
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _write(entry: Path, state: StateDict, stamp: dict[str, str]) -> bool:
    global _warned_unwritable
    from safetensors.torch import save_file

    # Not `audio.atomic_write_bytes`: that takes the bytes in memory, and an entry is ~120 MB that
    # safetensors can stream to the file itself.
    tmp: str | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with _writing(entry.parent):
            fd, tmp = tempfile.mkstemp(prefix=f".{entry.stem}.", suffix=".part", dir=entry.parent)
            os.close(fd)
            data = _unshared(state)
            save_file(data, tmp, metadata={**stamp, CHECKSUM_KEY: checksum(data)})
            with open(tmp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, entry)
            tmp = None
        return True
    except (OSError, ValueError, RuntimeError) as exc:
        if not _warned_unwritable:
            log.warning("cannot write the weight cache in %s (%s); reading checkpoints", entry.parent, exc)
            _warned_unwritable = True
        return False
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def load_state(checkpoint: Path, kind: str, extract: Callable[[Path], StateDict]) -> Loaded:
    """The `kind` network's weights of `checkpoint`: from the cache when it is current, else extracted.

    `extract(checkpoint)` reads the checkpoint the slow way (and raises `VoiceLoadError` on bad input);
    its result is written to the cache for next time and returned as is.
    """
    checkpoint = Path(checkpoint)
    if not enabled():
        return Loaded(extract(checkpoint), checkpoint, from_cache=False)
    try:
        stamp = _stamp(checkpoint, kind)
    except OSError:
        return Loaded(extract(checkpoint), checkpoint, from_cache=False)  # extract names the problem
    entry = entry_path(checkpoint, kind)
    cached = _read(entry, stamp)
    if cached is not None:
        log.debug("%s weights of %s from cache %s", kind, checkpoint, entry)
        return Loaded(cached, entry, from_cache=True)
    state = extract(checkpoint)
    if _write(entry, state, stamp):
        log.info("cached the %s weights of %s in %s", kind, checkpoint.name, entry.parent)
        prune_orphans()
    return Loaded(state, checkpoint, from_cache=False)


def prune_orphans() -> int:
    """Delete entries whose checkpoint no longer exists (a retrained member's old step, a removed voice).

    Runs after each write, i.e. only when a checkpoint is loaded for the first time: each entry is
    ~120 MB, and without this the old steps of every retrained member would stay in the cache forever.
    """
    from safetensors import SafetensorError, safe_open

    removed = 0
    for entry in sorted(weights_dir().glob("*.safetensors")):
        try:
            with safe_open(str(entry), framework="pt", device="cpu") as f:
                source = (f.metadata() or {}).get("source")
        except (SafetensorError, OSError, ValueError, RuntimeError):
            continue  # unreadable: not ours to judge; a load of its checkpoint rebuilds it
        if source and not Path(source).exists():
            with contextlib.suppress(OSError):
                entry.unlink()
                removed += 1
                log.info("removed the weight cache of %s (checkpoint gone)", source)
    return removed


def tensors_equal(a: StateDict, b: StateDict) -> bool:
    """Same keys, dtypes, shapes and bits (for tests and `bench/`)."""
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )

"""Sections of BENCHMARKS.md that a bench script owns, between `<!-- NAME:start (...) -->` and
`<!-- NAME:end -->` markers: each script rewrites its own block in place (or appends it), and
`bench/run.py --write` keeps every such block when it regenerates the rest of the file."""

from __future__ import annotations

import re
from pathlib import Path


def write_block(path: Path, name: str, source: str, body: str) -> None:
    """Replace the `name` block of `path` with `body` (appended at the end if there is none yet)."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    block = f"<!-- {name}:start ({source}) -->\n{body.rstrip()}\n<!-- {name}:end -->\n"
    found = re.search(rf"<!-- {re.escape(name)}:start.*?<!-- {re.escape(name)}:end -->\n?", old, flags=re.S)
    new = old[: found.start()] + block + old[found.end() :] if found else old.rstrip("\n") + "\n\n" + block
    path.write_text(new, encoding="utf-8")


def dir_size_mb(path: Path) -> float:
    """Bytes of the regular files under `path` (what `du --apparent-size` counts), in MB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6

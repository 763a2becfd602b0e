"""The user lexicon: a team's own words and how they are said (`ForV	포브`, `GCS	지씨에스`).

Format: UTF-8 text, one entry per line, `written<TAB>spoken`; blank lines and lines starting with `#`
are ignored; anything else without exactly one tab, or with an empty side, is an error naming the
file and line (`LexiconError`). The spoken side is read as written (Hangul is best; digits and Latin
in it are expanded like any text).

Matching, applied to each sentence before every other rule:
- whole-word: a written form that starts (ends) with a Latin letter or digit does not match inside a
  longer Latin/digit run (`GCS` is not found in `GCSE`); a Hangul written form may be followed by a
  particle (`포브가`) but not preceded by another Hangul syllable;
- case-aware: a written form with a capital letter matches exactly that spelling; an all-lower-case
  written form matches any capitalisation (`forv` matches ForV, FORV);
- longer written forms win over shorter ones at the same place; when several sources define the same
  written form the later one wins (`--lexicon` over `FORV_TTS_LEXICON` over the voice's lexicon.tsv).

Reading: `resolve` (what every entry point calls: the CLI, `forv_tts.synthesize`/`normalize`, the
service's workers and its page) reads each file again on every call and parses it only when its bytes
changed, so an edit applies to the next request in every process while an unchanged file costs one
read. Why the bytes and not (mtime, size): an edit of the same length within one timestamp tick, or on
a mount with coarse or unreliable times, would keep the stale entries; a lexicon is a few KB. A file
that becomes malformed raises `LexiconError` on every call until it is fixed (no "last good" copy: the
page and the audio would then disagree, and what a request reads would depend on the process's past).
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forv_tts import settings
from forv_tts.errors import InvalidInputError, UsageError
from forv_tts.text.cleaning import clean

ENV_VAR = settings.LEXICON.env
VOICE_FILE = "lexicon.tsv"


class LexiconError(InvalidInputError):
    """A lexicon file cannot be read or has a malformed line (exit code 2 on the CLI)."""

    code = "bad_lexicon"

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Entry:
    written: str
    spoken: str
    source: str  # "file:line", or "<memory>"


@dataclass
class Lexicon:
    """Written → spoken entries; `apply` rewrites a sentence and records which entries fired."""

    entries: dict[str, Entry] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = field(default=None, repr=False, compare=False)
    _lookup: dict[str, Entry] = field(default_factory=dict, repr=False, compare=False)
    #: True for the values `resolve` shares between calls (and threads): `add` refuses to change them.
    _shared: bool = field(default=False, repr=False, compare=False)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str], *, source: str = "<memory>") -> Lexicon:
        lexicon = cls()
        for written, spoken in mapping.items():
            lexicon.add(Entry(written, spoken, source))
        return lexicon

    def add(self, entry: Entry) -> None:
        if self._shared:
            raise UsageError(
                "this lexicon is shared by every caller of resolve_lexicon: extend a copy "
                "(lexicon.merge(other)) instead"
            )
        written = clean(entry.written)
        self.entries[written] = Entry(written, entry.spoken.strip(), entry.source)
        self._pattern = None

    def merge(self, other: Lexicon) -> Lexicon:
        """A new lexicon: these entries, then `other`'s (which win)."""
        merged = Lexicon()
        for entry in (*self.entries.values(), *other.entries.values()):
            merged.add(entry)
        return merged

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    def _compile(self) -> re.Pattern[str]:
        # Built in locals and published lookup first, pattern last: a shared lexicon may be compiled by
        # two threads at once, and a reader that sees the pattern must see its whole lookup.
        pattern = self._pattern
        if pattern is None:
            lookup: dict[str, Entry] = {}
            parts: list[str] = []
            for written in sorted(self.entries, key=lambda w: (-len(w), w)):
                entry = self.entries[written]
                exact = written != written.lower()
                key = written if exact else written.lower()
                lookup.setdefault(key, entry)
                body = re.escape(written)
                if not exact:
                    body = f"(?i:{body})"
                before = r"(?<![A-Za-z0-9])" if re.match(r"[A-Za-z0-9]", written) else ""
                if re.match("[가-힣]", written):
                    before = "(?<![가-힣])"
                after = r"(?![A-Za-z0-9])" if re.search(r"[A-Za-z0-9]$", written) else ""
                parts.append(f"{before}{body}{after}")
            pattern = re.compile("|".join(parts)) if parts else re.compile(r"(?!x)x")
            self._lookup = lookup
            self._pattern = pattern
        return pattern

    def find(self, written: str) -> Entry | None:
        self._compile()
        return self._lookup.get(written) or self._lookup.get(written.lower())

    def apply(self, text: str, emit: Callable[[str, str], str]) -> str:
        """Each match replaced by `emit(written_as_found, spoken)` (the expander's placeholder)."""
        if not self.entries:
            return text
        pattern = self._compile()

        def one(match: re.Match[str]) -> str:
            found = match.group(0)
            entry = self.find(found)
            return found if entry is None else emit(found, entry.spoken)

        return pattern.sub(one, text)

    def fired(self, text: str) -> list[Entry]:
        """The entries that `apply` would use on `text`, in order of appearance."""
        if not self.entries:
            return []
        out: list[Entry] = []
        for match in self._compile().finditer(clean(text)):
            entry = self.find(match.group(0))
            if entry is not None and entry not in out:
                out.append(entry)
        return out


def parse(text: str, *, source: str = "<memory>") -> Lexicon:
    """A lexicon from TSV text; `source` names the file in errors."""
    lexicon = Lexicon()
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split("\t")
        if len(fields) != 2 or not fields[0].strip() or not fields[1].strip():
            raise LexiconError(
                f"{source}:{number}: a lexicon line must be 'written<TAB>spoken' (got {line.strip()[:60]!r})",
                path=source,
                line=number,
            )
        lexicon.add(Entry(fields[0].strip(), fields[1].strip(), f"{source}:{number}"))
    return lexicon


def _read(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon {name}: {exc.strerror or exc}", path=name) from exc


def _parse_bytes(data: bytes, name: str) -> Lexicon:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LexiconError(f"{name}:{line}: the lexicon is not UTF-8 text", path=name, line=line) from exc
    return parse(text, source=name)


def load(path: str | os.PathLike[str]) -> Lexicon:
    """A lexicon file, freshly parsed; a missing, unreadable or non-UTF-8 file is a `LexiconError`."""
    name = str(path)
    return _parse_bytes(_read(name), name)


#: How many parsed files and merged combinations `resolve` keeps (the least recently used go first).
CACHE_SIZE = 32
_lock = threading.Lock()
#: (name as given, absolute path) → (the bytes parsed, the lexicon they gave).
_files: OrderedDict[tuple[str, str], tuple[bytes, Lexicon]] = OrderedDict()
#: The sources' keys and bytes, in order → their merged lexicon.
_merged: OrderedDict[tuple[tuple[tuple[str, str], bytes], ...], Lexicon] = OrderedDict()


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    with _lock:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)


def _load_current(name: str) -> tuple[tuple[str, str], bytes, Lexicon]:
    """The file's key, its bytes now, and its lexicon: parsed again only when the bytes changed."""
    key = (name, os.path.abspath(name))
    data = _read(name)
    with _lock:
        hit = _files.get(key)
        if hit is not None and hit[0] == data:
            _files.move_to_end(key)
            return key, data, hit[1]
    lexicon = _parse_bytes(data, name)
    lexicon._shared = True
    _remember(_files, key, (data, lexicon))
    return key, data, lexicon


def sources(
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    voice_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The files `resolve` reads, in merge order (later wins): the voice directory's lexicon.tsv if
    there is one, each file in $FORV_TTS_LEXICON (os.pathsep-separated), then `paths`."""
    named = settings.LEXICON.get() if environ is None else environ.get(ENV_VAR, "")
    found: list[str] = []
    if voice_dir is not None:
        candidate = Path(voice_dir) / VOICE_FILE
        if candidate.is_file():
            found.append(str(candidate))
    found.extend(filter(None, (named or "").split(os.pathsep)))
    found.extend(str(path) for path in paths)
    return found


def resolve(
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    voice_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Lexicon | None:
    """The merged lexicon: the voice directory's lexicon.tsv, then $FORV_TTS_LEXICON, then `paths`.

    Later sources win. `FORV_TTS_LEXICON` may name several files separated by os.pathsep. The voice
    directory's file is optional; a named file that is missing is an error. None if there is none.
    Every file is read on every call and parsed again only when its bytes changed (module docstring);
    the value returned is shared with other callers, so it refuses `add` (extend a `merge` of it).
    """
    loaded = [_load_current(name) for name in sources(paths, voice_dir=voice_dir, environ=environ)]
    if not loaded:
        return None
    if len(loaded) == 1:
        only = loaded[0][2]
        return only or None
    key = tuple((file_key, data) for file_key, data, _ in loaded)
    with _lock:
        merged = _merged.get(key)
        if merged is not None:
            _merged.move_to_end(key)
    if merged is None:
        merged = Lexicon()
        for _, _, lexicon in loaded:
            merged = merged.merge(lexicon)
        merged._shared = True
        _remember(_merged, key, merged)
    return merged or None

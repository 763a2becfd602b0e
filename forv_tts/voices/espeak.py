"""The built-in Korean voice: libespeak-ng (shipped in the `espeakng-loader` wheel) through ctypes.

It exists so that `forv-tts say` speaks Korean on a fresh install with no trained member, no download
and no apt. The quality is that of formant synthesis: robotic, and hard to understand (an offline
Whisper-base judge gets about two characters in three wrong; docs/builtin-voice.md has the measurements).
It is given g2pk's pronunciation spelled in espeak's own phonemes (`espeak_phonemes`), not Hangul.

libespeak-ng keeps its state in process globals, some of which no API resets (pitch-flutter phase, noise
generator), so the same text spoken twice in one process comes out slightly different. To make output a
pure function of text and rate, each utterance gets a freshly loaded library (`_session`: load,
initialise, speak, unload; about a millisecond). Sessions are serialised by one lock, held across
`fork()` so a child never inherits a half-finished synthesis; nothing is loaded at import time.
"""

from __future__ import annotations

import _ctypes
import contextlib
import ctypes
import hashlib
import logging
import math
import os
import shutil
import tempfile
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from forv_tts.audio import Audio
from forv_tts.config import DEFAULT_CONFIG, SynthesisConfig
from forv_tts.errors import InvalidInputError, NothingToSayError, SynthesisError, VoiceLoadError
from forv_tts.voices import espeak_phonemes
from forv_tts.voices.base import BUILTIN_VOICE_ID, ENGINE_ESPEAK, VoiceInfo

log = logging.getLogger(__name__)

# espeak-ng always synthesises at 22050 Hz; `_session` checks this against what espeak_Initialize reports,
# so `builtin_info` can state it without loading the library.
SAMPLE_RATE = 22050
VOICE_NAME = "ko"
DEFAULT_RATE_WPM = 175  # espeakRATE_NORMAL
MIN_RATE_WPM = 80  # espeakRATE_MINIMUM
MAX_RATE_WPM = 450  # espeakRATE_MAXIMUM


@dataclass(frozen=True)
class Tuning:
    """How the built-in voice speaks; each default kept only where bench/intelligibility.py's judge
    scored it better on both its tuning and its held-out sentences (docs/builtin-voice.md).

    Module-level (`TUNING`) so the bench can try alternatives without a second code path.
    """

    phonemes: bool = True  # speak our own phoneme string ([[...]]) instead of letting espeak read Hangul
    rate: int = 150  # espeak "words" per minute at length_scale 1 (its default is 175)
    pitch: int = -1  # espeak's 0-100 base pitch; -1 keeps the voice's
    pitch_range: int = -1  # espeak's 0-100 pitch range; -1 keeps the voice's
    word_gap: int = 0  # extra pause between words, in units of 10 ms at normal speed
    variant: str = "m5"  # an espeak voice variant ("m3", "f2", ...), appended as ko+variant
    # Extra voice-file attributes ("formant 1 90 85 130; stressAdd 10 10 0 0 0 0 -30 -30"), written
    # with lang/ko's into a voice of our own in an overlay of the data directory (`_voice_data`).
    voice: str = ""
    coda_k: str = "k"
    coda_t: str = "t"
    coda_l: str = "l"
    flap: str = "*"
    initial_lax: str = "voiceless"
    stress: str = "ap"  # espeak_phonemes.STRESS_MODES: the accentual phrase's first high tone
    tense: str = "geminate"  # espeak_phonemes.Style.tense: tense stops as a long closure
    remap: str = ""  # espeak_phonemes.Style.remap: mnemonic replacements ("@=V")
    # Silence kept before and after each sentence's speech, in ms (the trim otherwise keeps 20 ms).
    lead_ms: int = 20
    tail_ms: int = 20
    # A directory holding compiled phondata/phonindex/phontab to speak with instead of the wheel's
    # (bench/espeak_phondata.py writes them from an edited phsource/ph_korean); "" keeps espeak's own.
    phondata: str = ""

    def style(self) -> espeak_phonemes.Style:
        """The phoneme-spelling choices, for `espeak_phonemes.to_phoneme_input`."""
        return espeak_phonemes.Style(
            coda_k=self.coda_k,
            coda_t=self.coda_t,
            coda_l=self.coda_l,
            flap=self.flap,
            initial_lax=self.initial_lax,
            stress=self.stress,
            remap=self.remap,
            tense=self.tense,
        )


TUNING = Tuning()

# speak_lib.h constants.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000  # without it a missing data directory calls exit() inside the library
_CHARS_UTF8 = 1
_PHONEME_INPUT = 0x100  # espeakPHONEMES: honour [[...]] in the text
_POS_CHARACTER = 1
_PARAM_RATE = 1
_PARAM_PITCH = 3
_PARAM_RANGE = 4
_PARAM_WORDGAP = 7
_PHONEMES_IPA = 0x02

# Trimming: samples below this magnitude count as silence.
_SILENCE_THRESHOLD = 0.01

_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

# Punctuation espeak uses only for phrasing and intonation (checked: none of these is read aloud; `~`, for
# one, is read as English "tilde" and is therefore not here). Anything else that is not Hangul is dropped:
# espeak would read Latin letters and digits with its Korean letter rules (badly) or not at all.
_PUNCTUATION = frozenset(".,?!;:'\"()[]{}-…·、。，．？！「」『』《》〈〉“”‘’")

# libespeak-ng keeps one word's phonemes in a fixed array (about 200 entries) and overruns it on a longer
# word: 104 syllables of 가 segfault the process. A Hangul syllable is at most 6 phonemes in our spelling
# (`'k-wel`), so words are cut into runs of at most this many characters before espeak sees them.
MAX_WORD_CHARS = 24

# Hangul that the `ko` voice actually pronounces: syllables, modern compatibility jamo (ㄱ..ㅣ), conjoining
# jamo and half-width jamo. Fillers and archaic compatibility jamo are read as English "Chinese letter".
_HANGUL_RANGES = ((0xAC00, 0xD7A3), (0x3131, 0x3163), (0x1100, 0x115E), (0x1161, 0x11FF), (0xFFA1, 0xFFDC))


_lock = threading.Lock()
_checked = False  # the library initialised and found the Korean voice once in this process
_warned_shared = False


def _lock_before_fork() -> None:
    _lock.acquire()


def _unlock_after_fork() -> None:
    _lock.release()


# Hold the lock across fork() so a child never starts with the library mid-synthesis or the lock taken.
os.register_at_fork(
    before=_lock_before_fork, after_in_parent=_unlock_after_fork, after_in_child=_unlock_after_fork
)


def _paths() -> tuple[Path, Path] | None:
    """Library and data directory from espeakng-loader, or None when the wheel is missing or broken."""
    try:
        import espeakng_loader

        return Path(espeakng_loader.get_library_path()), Path(espeakng_loader.get_data_path())
    except (ImportError, RuntimeError):
        return None


def builtin_info(voice_dir: Path | None = None) -> VoiceInfo:
    """Descriptor of the built-in voice; only checks that the files exist, never loads the library.

    `voice_dir`: the voice directory it was asked for from (whose lexicon.tsv applies to its text).
    """
    paths = _paths()
    if paths is None:
        missing: tuple[str, ...] = ("espeakng-loader (libespeak-ng and espeak-ng-data)",)
    else:
        missing = tuple(str(p) for p in paths if not p.exists())
    return VoiceInfo(
        id=BUILTIN_VOICE_ID,
        engine=ENGINE_ESPEAK,
        format="builtin",
        sample_rate=SAMPLE_RATE,
        missing=missing,
        voice_dir=voice_dir,
    )


# Samples delivered by the callback of the session in progress (only ever touched with `_lock` held).
_chunks: list[bytes] = []
# The same session's word events: (audio position in ms, text position, length), in order.
_word_events: list[tuple[int, int, int]] = []
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1


class _Event(ctypes.Structure):
    """speak_lib.h's espeak_EVENT (the union `id` is 8 bytes: an int, a pointer or char[8])."""

    _fields_ = (
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    )


def _on_samples(wav: ctypes._Pointer[ctypes.c_short], n: int, events: int | None) -> int:
    # Called synchronously from inside espeak_Synth on the calling thread.
    if wav and n > 0:
        _chunks.append(ctypes.string_at(wav, n * 2))
    if events:
        listed = ctypes.cast(events, ctypes.POINTER(_Event))
        i = 0
        while listed[i].type != _EVENT_LIST_TERMINATED:
            ev = listed[i]
            if ev.type == _EVENT_WORD:
                _word_events.append((int(ev.audio_position), int(ev.text_position), int(ev.length)))
            i += 1
    return 0


# Module-level so the ctypes thunk lives as long as the process (a collected thunk crashes the library).
_CALLBACK = _SynthCallback(_on_samples)


def _declare(lib: ctypes.CDLL) -> None:
    """Argument and return types of the speak_lib.h functions used here."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.c_uint,
        ctypes.c_void_p,
        ctypes.c_void_p,
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = ctypes.c_int
    lib.espeak_Terminate.argtypes = []
    lib.espeak_Terminate.restype = ctypes.c_int
    lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
    lib.espeak_TextToPhonemes.restype = ctypes.c_char_p


def _unload(lib: ctypes.CDLL, lib_path: Path) -> None:
    """Unload the library so the next session starts from pristine static state."""
    global _warned_shared
    close = getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary", None)
    if close is None:
        return
    close(lib._handle)
    noload = getattr(os, "RTLD_NOLOAD", None)
    if noload is None or _warned_shared:
        return
    try:
        still = ctypes.CDLL(str(lib_path), mode=noload)
    except OSError:
        return  # unloaded, as intended
    close(still._handle)
    _warned_shared = True
    log.warning(
        "libespeak-ng stays loaded by something else in this process; "
        "built-in voice output may vary slightly from run to run"
    )


_OVERLAY_VOICE = "forv-ko"
_OVERLAY_VARIANT = "forv"


_PHONEME_FILES = ("phondata", "phonindex", "phontab")


def _phoneme_digest(phondata: str) -> str:
    """What identifies a compiled phoneme directory in the overlay's name: its files' contents."""
    h = hashlib.sha256(str(phondata).encode())
    for name in _PHONEME_FILES:
        h.update((Path(phondata) / name).read_bytes())
    return h.hexdigest()


def _voice_data(data_path: Path, attributes: str, variant: str, phondata: str = "") -> tuple[Path, str]:
    """A data directory holding our own Korean voice file, and the name to select it by.

    espeak-ng reads voice attributes (formants, stress lengths, intonation, phoneme table) only from
    voice files in its data directory, and the wheel's directory is not ours to write. So the overlay,
    built once under the cache directory and named by its content, links every entry of the wheel's
    directory and adds voices/forv-ko: lang/ko plus `attributes`. A variant (m5) is read after the
    voice and would override what it also sets (its `intonation` line), so with a variant the overlay
    also holds voices/!v/forv: that variant's file plus `attributes` again. With `phondata`, the
    overlay's phondata/phonindex/phontab are copies of that directory's instead of links to the
    wheel's. Where the overlay cannot be built, the stock voice.
    """
    from forv_tts.settings import cache_dir

    extra = "".join(line.strip() + "\n" for line in attributes.split(";") if line.strip())
    body = (data_path / "lang" / "ko").read_text(encoding="utf-8").rstrip("\n") + "\n" + extra
    variant_body = ""
    if variant:
        variant_body = (data_path / "voices" / "!v" / variant).read_text(encoding="utf-8").rstrip("\n")
        variant_body += "\n" + extra
    name = _OVERLAY_VOICE + (f"+{_OVERLAY_VARIANT}" if variant else "")
    phonemes = _phoneme_digest(phondata) if phondata else ""
    digest = hashlib.sha256(f"{data_path}\n{body}\n{variant_body}\n{phonemes}".encode()).hexdigest()[:16]
    root = cache_dir() / f"espeak-ng-data-{digest}"
    if (root / "voices" / _OVERLAY_VOICE).is_file():
        return root, name
    try:
        root.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=root.name + ".", dir=root.parent))
        for entry in data_path.iterdir():
            if entry.name == "voices" or (phondata and entry.name in _PHONEME_FILES):
                continue
            (tmp / entry.name).symlink_to(entry)
        for file in _PHONEME_FILES if phondata else ():
            shutil.copyfile(Path(phondata) / file, tmp / file)
        (tmp / "voices").mkdir()
        for entry in (data_path / "voices").iterdir():
            if not (variant and entry.name == "!v"):
                (tmp / "voices" / entry.name).symlink_to(entry)
        if variant:
            (tmp / "voices" / "!v").mkdir()
            for entry in (data_path / "voices" / "!v").iterdir():
                (tmp / "voices" / "!v" / entry.name).symlink_to(entry)
            (tmp / "voices" / "!v" / _OVERLAY_VARIANT).write_text(variant_body, encoding="utf-8")
        (tmp / "voices" / _OVERLAY_VOICE).write_text(body, encoding="utf-8")
        try:
            tmp.rename(root)
        except OSError:  # another process built it first
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        log.warning(
            "built-in voice: cannot build its voice data under %s (%s); using espeak's own", root, exc
        )
        return data_path, VOICE_NAME + (f"+{variant}" if variant else "")
    return root, name


@contextlib.contextmanager
def _session() -> Iterator[tuple[ctypes.CDLL, int]]:
    """A freshly loaded and initialised libespeak-ng with the Korean voice, unloaded again on exit.

    espeak-ng keeps synthesis state in statics that no API resets (the pitch-flutter phase in wavegen.c,
    its noise generator), so an utterance would depend on every utterance before it in the process.
    Loading the library per utterance costs about a millisecond and makes output a pure function of the
    text and rate, whatever ran before and whichever worker runs it. Caller holds `_lock`.
    """
    global _checked
    paths = _paths()
    if paths is None:
        raise VoiceLoadError("the built-in voice needs the espeakng-loader package; reinstall forv-tts")
    lib_path, data_path = paths
    name = VOICE_NAME + (f"+{TUNING.variant}" if TUNING.variant else "")
    if TUNING.voice or TUNING.phondata:
        data_path, name = _voice_data(data_path, TUNING.voice, TUNING.variant, TUNING.phondata)
    t0 = time.perf_counter()
    try:
        lib = ctypes.CDLL(str(lib_path))
    except OSError as exc:
        raise VoiceLoadError(f"cannot load libespeak-ng from {lib_path}: {exc}") from exc
    try:
        _declare(lib)
        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_path).encode(), _INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise VoiceLoadError(f"libespeak-ng failed to initialise with data from {data_path}")
        try:
            lib.espeak_SetSynthCallback(_CALLBACK)
            if lib.espeak_SetVoiceByName(name.encode()) != 0:
                raise VoiceLoadError(f"espeak-ng has no '{name}' voice in {data_path}")
            if not _checked:
                if rate != SAMPLE_RATE:
                    log.warning("libespeak-ng reports %d Hz, expected %d Hz", rate, SAMPLE_RATE)
                log.info("libespeak-ng loaded (%d Hz) in %.3f s", rate, time.perf_counter() - t0)
                _checked = True
            yield lib, rate
        finally:
            _chunks.clear()
            _word_events.clear()
            lib.espeak_Terminate()
    finally:
        _unload(lib, lib_path)


def _is_hangul(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _HANGUL_RANGES)


def _speakable(ch: str) -> bool:
    """Hangul the voice pronounces, whitespace and phrasing punctuation."""
    return ch.isspace() or ch in _PUNCTUATION or _is_hangul(ch)


def clean_text(text: str) -> str:
    """Drop what espeak's Korean voice cannot speak (logged); raise if no Hangul is left."""
    text = unicodedata.normalize("NFC", text)
    kept = "".join(ch if _speakable(ch) else " " for ch in text)
    dropped = sorted({ch for ch in text if not _speakable(ch)})
    if dropped:
        log.warning("built-in voice: dropping characters it cannot speak: %s", " ".join(map(repr, dropped)))
    kept = " ".join(split_long_words(kept.split()))
    if not any(_is_hangul(ch) for ch in kept):
        raise NothingToSayError(f"nothing speakable (Hangul) in {text!r}")
    return kept


def split_long_words(words: list[str]) -> list[str]:
    """Words of at most `MAX_WORD_CHARS` characters: a longer one is cut into runs (logged), since
    espeak-ng crashes the process on a word with too many phonemes (see `MAX_WORD_CHARS`)."""
    out: list[str] = []
    for word in words:
        if len(word) <= MAX_WORD_CHARS:
            out.append(word)
            continue
        log.warning(
            "built-in voice: a %d-character word is spoken in pieces of %d", len(word), MAX_WORD_CHARS
        )
        out.extend(word[i : i + MAX_WORD_CHARS] for i in range(0, len(word), MAX_WORD_CHARS))
    return out


def espeak_input(cleaned: str) -> str:
    """What espeak is given for a cleaned sentence: our phonemes (`TUNING.phonemes`) or the Hangul.

    Bare jamo and other Hangul that is not a precomposed syllable have no phoneme spelling here, so a
    sentence containing any goes to espeak as text.
    """
    if not TUNING.phonemes:
        return cleaned
    if any(_is_hangul(ch) and espeak_phonemes.decompose(ch) is None for ch in cleaned):
        return cleaned
    return espeak_phonemes.to_phoneme_input(cleaned, TUNING.style())


def _rate_for(length_scale: float | None) -> int:
    """Words per minute for a length scale (2.0 = half speed), clamped to what espeak accepts."""
    base = TUNING.rate
    if length_scale is None:
        return base
    if not math.isfinite(length_scale) or length_scale <= 0:
        raise InvalidInputError(f"length_scale must be a positive number, not {length_scale}")
    wanted = round(base / length_scale)
    rate = min(max(wanted, MIN_RATE_WPM), MAX_RATE_WPM)
    if rate != wanted:
        log.warning("built-in voice: length_scale %.2f is out of range; using %d wpm", length_scale, rate)
    return rate


def _trim(samples: npt.NDArray[np.float32], sample_rate: int) -> npt.NDArray[np.float32]:
    """Cut espeak's leading and trailing silence to `TUNING.lead_ms` / `tail_ms` of it.

    What espeak made is kept as far as it goes (its quiet edges, so onsets stay soft); past that,
    digital silence.
    """
    return _trim_shift(samples, sample_rate)[0]


def _trim_shift(samples: npt.NDArray[np.float32], sample_rate: int) -> tuple[npt.NDArray[np.float32], int]:
    """`_trim`, and how far it moved the samples (an index in the input minus the shift is the output's)."""
    loud = np.flatnonzero(np.abs(samples) > _SILENCE_THRESHOLD)
    if loud.size == 0:
        return samples[:0], 0
    lead = round(TUNING.lead_ms * sample_rate / 1000)
    tail = round(TUNING.tail_ms * sample_rate / 1000)
    start = max(int(loud[0]) - lead, 0)
    stop = min(int(loud[-1]) + tail + 1, samples.size)
    kept = samples[start:stop]
    extra_lead = lead - (int(loud[0]) - start)
    extra_tail = tail - (stop - int(loud[-1]) - 1)
    if extra_lead <= 0 and extra_tail <= 0:
        return kept, start
    padded = np.concatenate(
        [np.zeros(max(extra_lead, 0), np.float32), kept, np.zeros(max(extra_tail, 0), np.float32)]
    )
    return padded, start - max(extra_lead, 0)


def _word_spans(
    events: list[tuple[int, int, int]],
    shift: int,
    samples: npt.NDArray[np.float32],
    sample_rate: int,
    words: int,
) -> tuple[tuple[float, float], ...] | None:
    """Each word's (start, end) seconds from espeak-ng's word events, in the trimmed samples.

    A word starts at its event and ends at its last sound before the next word's event (espeak puts
    its word gap and phrase pauses between them). None when espeak counted other words than the
    sentence has (then the caller estimates).
    """
    if len(events) != words or not words:
        if events:
            log.debug("built-in voice: %d word events for %d words; no word times", len(events), words)
        return None
    n = samples.size
    starts = [min(max(round(ms * sample_rate / 1000) - shift, 0), n) for ms, _pos, _len in events]
    loud = np.abs(samples) > _SILENCE_THRESHOLD
    spans: list[tuple[float, float]] = []
    for i, start in enumerate(starts):
        stop = starts[i + 1] if i + 1 < len(starts) else n
        sounding = np.flatnonzero(loud[start:stop])
        end = start + int(sounding[-1]) + 1 if sounding.size else start
        spans.append((start / sample_rate, end / sample_rate))
    return tuple(spans)


def text_to_phonemes(text: str) -> str:
    """espeak's IPA transcription of `text` as the Korean voice reads it (for comparisons and tests)."""
    data = ctypes.c_char_p(text.encode("utf-8"))  # advanced in place by the library
    parts: list[str] = []
    with _lock, _session() as (lib, _rate):
        while data.value:
            out = lib.espeak_TextToPhonemes(ctypes.byref(data), _CHARS_UTF8, _PHONEMES_IPA)
            if out:
                parts.append(out.decode("utf-8"))
    return " ".join(p.strip() for p in parts if p.strip())


class EspeakVoice:
    """The built-in voice (implements `forv_tts.voices.layout.Voice`); deterministic, so `seed` is ignored."""

    def __init__(self, info: VoiceInfo) -> None:
        if info.engine != ENGINE_ESPEAK:
            raise VoiceLoadError(f"voice {info.id} is not an espeak-ng voice ({info.engine})")
        if info.missing:
            raise VoiceLoadError(
                f"the built-in voice is missing {', '.join(info.missing)}; reinstall forv-tts"
            )
        with _lock, _session() as (_lib, rate):  # fail here, at load time, if the library is unusable
            self.sample_rate = rate
        self.info = info

    def synthesize(self, text: str, config: SynthesisConfig | None = None) -> Audio:
        """Speak one sentence of normalised Hangul; unspeakable characters are dropped with a warning."""
        # espeak-ng has no seedable randomness here: the same text always gives the same samples.
        length_scale = (config or DEFAULT_CONFIG).length_scale
        cleaned = clean_text(text)
        wpm = _rate_for(length_scale)
        data = espeak_input(cleaned).encode("utf-8")
        t0 = time.perf_counter()
        with _lock, _session() as (lib, sample_rate):
            if lib.espeak_SetParameter(_PARAM_RATE, wpm, 0) != 0:
                raise SynthesisError(f"espeak-ng rejected speaking rate {wpm}")
            for param, value in (
                (_PARAM_PITCH, TUNING.pitch),
                (_PARAM_RANGE, TUNING.pitch_range),
                (_PARAM_WORDGAP, TUNING.word_gap),
            ):
                if value >= 0 and lib.espeak_SetParameter(param, value, 0) != 0:
                    raise SynthesisError(f"espeak-ng rejected parameter {param} = {value}")
            flags = _CHARS_UTF8 | _PHONEME_INPUT
            err = lib.espeak_Synth(data, len(data) + 1, 0, _POS_CHARACTER, 0, flags, None, None)
            if err != 0:
                raise SynthesisError(f"espeak-ng failed to synthesise (error {err})")
            if lib.espeak_Synchronize() != 0:
                raise SynthesisError("espeak-ng failed to finish synthesis")
            raw = b"".join(_chunks)
            events = list(_word_events)
        samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0)
        samples, shift = _trim_shift(samples, sample_rate)
        if samples.size == 0:
            raise SynthesisError(f"espeak-ng produced no audio for {cleaned!r}")
        words = _word_spans(events, shift, samples, sample_rate, len(text.split()))
        audio = Audio(samples, sample_rate, words)
        log.debug(
            "built-in voice: %d chars -> %.2f s audio in %.3f s",
            len(cleaned),
            audio.duration,
            time.perf_counter() - t0,
        )
        return audio

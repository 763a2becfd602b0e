"""The causal finishing of a vocoder's output (forv_tts/voices/coqui/dsp.py `Finisher`).

A stream must be the clip's samples exactly, so the trim and the level are decided sample by sample in
the same way whatever blocks the vocoder's output arrives in: checked against one whole feed, and up
to `WHOLE_S` against coqui's rule (trim at `find_endpoint`, then peak to full scale) bit for bit. Real
signals are stand-ins here: noise shaped like speech, with quiet gaps, a quiet tail and late peaks.
"""

from __future__ import annotations

import numpy as np
import pytest

from forv_tts.errors import SynthesisError
from forv_tts.voices.coqui import dsp

SETTINGS = dsp.AudioSettings()
RATE = SETTINGS.sample_rate


def _signal(rng: np.random.Generator, seconds: float, *, tail: float = 0.0, gap: bool = False) -> np.ndarray:
    n = round(seconds * RATE)
    wav = np.tanh(rng.standard_normal(n) * 0.2).astype(np.float32)
    if tail:
        wav[-round(tail * RATE) :] *= np.float32(0.001)
    if gap and n > 3 * RATE:
        start = int(rng.integers(RATE, n - 2 * RATE))
        wav[start : start + round(0.9 * RATE)] *= np.float32(0.0001)  # long enough to trim at
    return wav


def _coqui(wav: np.ndarray) -> np.ndarray:
    return dsp.peak_normalize(wav[: SETTINGS.find_endpoint(wav)])


def _streamed(wav: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    finisher = dsp.Finisher(SETTINGS, dsp.gain_window(len(wav), RATE))
    out, sizes, i = [], [], 0
    while i < len(wav):
        k = int(rng.integers(1, RATE))
        part = finisher.feed(wav[i : i + k])
        out.append(part)
        sizes.append(len(part))
        i += k
    out.append(finisher.finish())
    return np.concatenate(out), sizes


@pytest.mark.parametrize("seed", range(12))
def test_up_to_whole_s_the_clip_is_coquis_and_any_blocks_give_it(seed: int) -> None:
    rng = np.random.default_rng(seed)
    wav = _signal(rng, float(rng.uniform(0.1, dsp.WHOLE_S - 0.1)), tail=1.2 * (seed % 2), gap=seed % 3 == 0)
    whole = dsp.finish_signal(wav, SETTINGS, "1", "x", RATE).samples
    assert np.array_equal(whole, _coqui(wav))
    streamed, _ = _streamed(wav, rng)
    assert np.array_equal(streamed, whole)


@pytest.mark.parametrize("seed", range(12))
def test_a_long_output_streams_the_clips_samples_trimmed_as_coqui_trims(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    wav = _signal(rng, float(rng.uniform(dsp.WHOLE_S + 0.5, 15.0)), tail=1.5 * (seed % 2), gap=seed % 3 == 0)
    wav[int(rng.integers(0, len(wav)))] = np.float32(0.99)  # a peak somewhere, often after the window
    whole = dsp.finish_signal(wav, SETTINGS, "1", "x", RATE).samples
    assert len(whole) == SETTINGS.find_endpoint(wav)
    assert float(np.max(np.abs(whole))) <= 1.0 + 1e-6  # nothing clips
    streamed, sizes = _streamed(wav, rng)
    assert np.array_equal(streamed, whole)
    assert sizes[0] == 0 or sum(sizes[:-1]) > 0  # parts came before the end


def test_the_level_is_the_first_windows_and_a_louder_sample_later_lowers_it() -> None:
    rng = np.random.default_rng(7)
    wav = (_signal(rng, 10.0) * np.float32(0.5)).astype(np.float32)
    window = dsp.gain_window(len(wav), RATE)
    assert window == round(dsp.GAIN_WINDOW_S * RATE)
    first = float(np.max(np.abs(wav[:window])))
    wav[window:] = np.clip(wav[window:], -0.9 * first, 0.9 * first)  # nothing louder until `loud`
    loud = 6 * RATE
    wav[loud] = np.float32(0.9)  # louder than anything before it
    out = dsp.finish_signal(wav, SETTINGS, "1", "x", RATE).samples
    ramp = round(dsp.RAMP_S * RATE)
    before = slice(0, loud - ramp)
    assert np.array_equal(out[before], (wav[before] * (1.0 / first)).astype(np.float32))
    assert abs(float(out[loud]) - 1.0) < 1e-6  # the new peak at full scale, not over it
    gain = out[loud - ramp : loud + 1] / wav[loud - ramp : loud + 1]
    assert np.all(np.diff(gain) <= 1e-6)  # a ramp down, not a step
    after = slice(loud + 1, None)
    assert np.allclose(out[after], wav[after] / 0.9, atol=1e-6)


def test_only_the_tail_is_held_back() -> None:
    rng = np.random.default_rng(3)
    wav = _signal(rng, 10.0)
    finisher = dsp.Finisher(SETTINGS, dsp.gain_window(len(wav), RATE))
    window, ramp = finisher.window, finisher.ramp
    assert finisher.feed(wav[: window - 1]).size == 0  # the level is not decided yet
    got = len(finisher.feed(wav[window - 1 : 2 * RATE]))
    assert 2 * RATE - got <= ramp + int(0.8 * RATE / 4)  # at most the ramp and one trim step held
    rest = finisher.feed(wav[2 * RATE :])
    assert got + len(rest) + len(finisher.finish()) == len(wav)


def test_bad_signals_are_errors() -> None:
    bad = np.zeros(RATE, np.float32)
    bad[10] = np.nan
    with pytest.raises(SynthesisError, match="invalid signal"):
        dsp.finish_signal(bad, SETTINGS, "1", "x", RATE)
    finisher = dsp.Finisher(SETTINGS, RATE, member="1", text="x")
    with pytest.raises(SynthesisError, match="empty signal"):
        finisher.finish()

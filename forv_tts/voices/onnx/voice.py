"""A member voice spoken by ONNX Runtime from an exported voice directory: no torch, no coqui-tts.

Same steps as `CoquiVoice.synthesize`, the networks replaced by three graphs (`export.py`): token ids
from the same tokenizer, durations from the encoder graph, the voice's duration rule and Glow-TTS's
alignment path (`generate_path`) and expansion (`compute_outputs`) in numpy, the seeded noise drawn as
torch draws it (`noise.py`), the decoder graph, the mel re-normalised for the vocoder, the vocoder
graph, silence trimming and peak scaling. tests/test_onnx.py holds it to the torch engine.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from forv_tts import settings
from forv_tts.audio import Audio
from forv_tts.config import DEFAULT_CONFIG, SynthesisConfig
from forv_tts.errors import InvalidInputError, SynthesisError, VoiceLoadError
from forv_tts.voices.base import SentencePart, VoiceInfo
from forv_tts.voices.coqui import dsp
from forv_tts.voices.coqui.dsp import Finisher, gain_window, timed
from forv_tts.voices.onnx import manifest, pages, windows
from forv_tts.voices.onnx.noise import glow_noise

log = logging.getLogger(__name__)

#: `vocode_blocks`' first block and largest block, in padded mel frames (11.6 ms each at 22 kHz).
STREAM_FIRST_FRAMES = 32
STREAM_LARGEST_FRAMES = 256


def _threads() -> int:
    """Threads for each graph: `FORV_TTS_ONNX_THREADS`, else `OMP_NUM_THREADS`, else ORT's default."""
    chosen = settings.ONNX_THREADS.get()  # a malformed value is an error naming the variable
    return chosen if chosen is not None else 0  # 0: onnxruntime's default, one per physical core


def session_options(threads: int | None = None) -> Any:
    """One utterance at a time: sequential graphs, `threads` intra-op threads that sleep between runs.

    Idle threads spin by default in onnxruntime, after a run too; on a shared 2-core machine spinning
    threads fight every other process for the cores (bench/notes.md measured the same for torch's
    OpenMP threads). Within a run they may spin (`settings.ONNX_SPIN_IN_RUN`): Glow-TTS's decoder is
    hundreds of small operators, and a thread that sleeps between them wakes late for each; onnxruntime's
    `force_spinning_stop` ends the spinning with the run.
    """
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = _threads() if threads is None else threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    spin = opts.intra_op_num_threads != 1 and settings.switch(settings.ONNX_SPIN_IN_RUN)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if spin:
        opts.add_session_config_entry("session.force_spinning_stop", "1")
    opts.log_severity_level = 3
    return opts


def alignment(w_ceil: npt.NDArray[np.float32], frames: int) -> npt.NDArray[np.float32]:
    """Glow-TTS's `generate_path` for one utterance: [tokens] durations → [tokens, frames] path.

    Frame j belongs to token i when cum[i-1] <= j < cum[i] (a token of 0 frames owns none); written as
    coqui writes it (a difference of two sequence masks) so odd durations give the same matrix.
    """
    cum = np.cumsum(w_ceil, dtype=np.float32)
    grid = np.arange(frames, dtype=np.float32)[None, :]
    upto = (grid < cum[:, None]).astype(np.float32)
    before = np.concatenate([np.zeros((1, frames), np.float32), upto[:-1]], axis=0)
    return upto - before


class OnnxVoice:
    """A loaded exported voice (implements `forv_tts.voices.base.Voice`)."""

    info: VoiceInfo
    sample_rate: int

    def __init__(self, info: VoiceInfo, directory: Path, *, threads: int | None = None) -> None:
        t0 = time.perf_counter()
        self.info = info
        self.directory = Path(directory)
        try:
            data = manifest.read(self.directory)
            self.tokenizer = manifest.tokenizer_from_dict(data["tokenizer"])
            self.tts_audio = manifest.audio_from_dict(data["tts_audio"])
            self.vocoder_audio = manifest.audio_from_dict(data["vocoder_audio"])
            # The rule is applied here, outside the graphs: a member's current decision (an override
            # committed beside its checkpoints after the export) wins over the one recorded at export.
            self.duration_rule = str(info.duration_rule or data["duration_rule"])
            self.noise_scale = float(data["noise_scale"])
            self.length_scale = float(data["length_scale"])
            self.sample_rate = int(data["sample_rate"])
            self.format = str(data.get("format", "unknown"))
            self.num_squeeze = max(1, int(data.get("num_squeeze", 2)))  # Glow-TTS's default
        except (manifest.ManifestError, KeyError, TypeError, ValueError) as exc:
            raise VoiceLoadError(f"member {info.id}: {exc}") from None
        self.manifest = data
        try:
            import onnxruntime as ort
        except ImportError:
            raise VoiceLoadError(
                "the ONNX engine needs onnxruntime: pip install onnxruntime (or use --engine torch)"
            ) from None
        self._ort = ort
        from forv_tts._process import startup

        self.release_pages = startup.release_graph_pages(getattr(ort, "__version__", None))
        self._threads = threads
        self._by_threads: dict[int, dict[str, Any]] = {}
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._pools_pid = os.getpid()
        self.windows = _window_spec(data.get("vocoder_windows"))
        self.decoder_windows = _decoder_spec(data.get("decoder_windows"), self.num_squeeze)
        self._session_lock = threading.Lock()
        self._sessions = self._sessions_now()  # load now: a damaged graph fails here, not mid-batch
        log.debug("member %s (onnx, %s) ready in %.2f s", info.id, self.directory, time.perf_counter() - t0)

    def _sessions_now(self) -> dict[str, Any]:
        """The three sessions for the thread count asked for now (`threads`, else the environment).

        onnxruntime fixes a session's pool size when it is created; batch sets the count per process
        (`OMP_NUM_THREADS`, `FORV_TTS_ONNX_THREADS`), and with a seed it must be 1 for the same bytes at
        any `--jobs`, so a voice keeps one set of sessions per count it was asked to run with. With more
        than one thread and a vocoder that runs in windows (windows.py), the vocoder's session has one
        thread and the windows run side by side on `threads` Python threads (`_window_pool`) instead.
        """
        threads = self.thread_count()
        with self._session_lock:
            sessions = self._by_threads.get(threads)
            if sessions is None:
                sessions = {}
                for name in manifest.GRAPHS:
                    entry = self.manifest["graphs"][name]
                    path = self.directory / entry["file"]
                    opts = session_options(
                        1 if name == "vocoder" and self._parallel_windows(threads) else threads
                    )
                    if entry.get("optimized"):  # optimised at export: skip the optimiser (export.py)
                        opts.graph_optimization_level = self._ort.GraphOptimizationLevel.ORT_DISABLE_ALL
                    try:
                        sessions[name] = self._ort.InferenceSession(
                            str(path), opts, providers=["CPUExecutionProvider"]
                        )
                    except Exception as exc:  # onnxruntime's own exception types for a damaged graph
                        raise VoiceLoadError(
                            f"member {self.info.id}: cannot load {path} ({type(exc).__name__}: {exc})"
                        ) from None
                self._by_threads[threads] = sessions
            self._sessions = sessions
            return sessions

    def thread_count(self) -> int:
        """The threads this voice runs with now: its own count, else the environment's, else the cores."""
        threads = _threads() if self._threads is None else self._threads
        return threads if threads > 0 else (_cores() or 1)

    def _parallel_windows(self, threads: int) -> bool:
        return threads > 1 and self.windows is not None and settings.switch(settings.VOCODER_WINDOWS)

    def _window_pool(self, threads: int) -> ThreadPoolExecutor:
        """The threads the windows run on; a fresh pool in a forked child (threads do not survive a fork,
        and a prefork worker may inherit a voice its parent has spoken with)."""
        with self._session_lock:
            if self._pools_pid != os.getpid():
                self._pools, self._pools_pid = {}, os.getpid()
            pool = self._pools.get(threads)
            if pool is None:
                pool = self._pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="forv-vocoder")
            return pool

    def tokenize(self, text: str) -> list[int]:
        """Token ids for `text`; unspeakable characters are dropped with one logged warning."""
        return self.tokenizer.ids_for(text, self.info.id)

    def synthesize(self, text: str, config: SynthesisConfig | None = None) -> Audio:
        """Speak one normalised sentence; `config.seed` makes it reproducible, a length scale > 1 slower.

        The joined parts of `stream`: a clip and a stream of the same sentence are the same samples.
        """
        parts = list(self._parts(text, config, early=False))
        samples = np.concatenate([p.samples for p in parts]) if len(parts) > 1 else parts[0].samples
        return Audio(samples, self.sample_rate, parts[-1].words)

    def stream(self, text: str, config: SynthesisConfig | None = None) -> Iterator[SentencePart]:
        """Speak one normalised sentence in parts, each yielded as soon as it is final (`_parts`)."""
        return self._parts(text, config, early=True)

    def _parts(self, text: str, config: SynthesisConfig | None, *, early: bool) -> Iterator[SentencePart]:
        """One normalised sentence in parts, each yielded as soon as it is final.

        A sentence of up to `dsp.WHOLE_S` of audio comes whole (it is levelled by its own peak). A
        longer one, on more than one thread with a windowed vocoder, is vocoded in growing windows
        and finished causally (`dsp.Finisher`): its first part comes after the encoder, the decoder's
        first piece (`_MelSource`, with `early`: a stream's listener waits for it; a clip, made
        whole, saves the decoder's overlap) and the first window, not the whole sentence. The last
        part carries the word times; the parts are the same samples with or without `early`.
        """
        seed, length_scale = (config or DEFAULT_CONFIG).seed, (config or DEFAULT_CONFIG).length_scale
        ids, owners = self.tokenizer.owned_ids_for(text, self.info.id)
        scale = self.length_scale if length_scale is None else float(length_scale)
        if not math.isfinite(scale) or scale <= 0:
            raise InvalidInputError(f"length scale must be a positive number, got {length_scale!r}")
        seed = secrets.randbits(63) if seed is None else int(seed)
        sessions = self._sessions_now()
        durations: list[npt.NDArray[np.float32]] = []
        with self._engine_errors(text):
            prior = self.prior(ids, seed=seed, length_scale=scale, sessions=sessions, durations=durations)
            source = _MelSource(self, prior, sessions)
            blocks, total = self._vocoder_blocks(source, sessions, early=early)
        finisher: Finisher | None = None
        raw = finished = 0
        while True:
            with self._engine_errors(text):
                block = next(blocks, None)
            if block is None:
                break
            if finisher is None:  # the level's window, from the length the vocoder gives
                window = gain_window(total if total is not None else len(block), self.sample_rate)
                finisher = Finisher(self.tts_audio, window, member=self.info.id, text=text)
            raw += len(block)
            out = finisher.feed(block)
            if out.size:
                finished += len(out)
                yield SentencePart(out, last=False)
        if finisher is None:
            raise SynthesisError(f"voice {self.info.id} produced no audio for {text!r}")
        rest = finisher.finish()
        finished += len(rest)
        hop = self.tts_audio.hop_length
        placed = timed(
            Audio(np.zeros(finished, np.float32), self.sample_rate),
            owners,
            durations[0],
            len(text.split()),
            raw,
            source.frames,
            hop,
        )
        yield SentencePart(rest, last=True, words=placed.words)

    @contextmanager
    def _engine_errors(self, text: str) -> Iterator[None]:
        """onnxruntime's own exceptions as `SynthesisError`s naming the voice and the text."""
        try:
            yield
        except Exception as exc:
            if isinstance(exc, InvalidInputError | SynthesisError):
                raise
            raise SynthesisError(f"voice {self.info.id} failed on {text!r}: {exc}") from None

    def _vocoder_blocks(
        self, source: _MelSource, sessions: dict[str, Any], *, early: bool = True
    ) -> tuple[Iterator[npt.NDArray[np.float32]], int | None]:
        """The vocoder's output for `source`'s mel as it comes, and its length when known beforehand.

        Up to `dsp.WHOLE_S` (or on one thread, or a vocoder without windows): `vocode`'s plan, one
        block (today's samples, bit for bit). Longer: growing windows (`vocode_blocks`), the first
        covering the level's window (`dsp.gain_window`) and the finisher's ramp, so the first part
        is out after it. With `early`, the decoder is cut after the frames that first window reads
        (`_MelSource.cut_after`), so the rest of the mel is decoded after the first part is out.
        """
        spec = self.windows
        frames = source.frames
        threads = self.thread_count()
        whole = _lazy(lambda: self._vocode_input(source.upto(frames), sessions))
        if spec is None or not self._parallel_windows(threads):
            return whole, None
        total = (frames + 2 * spec.padding) * spec.hop
        window = gain_window(total, self.sample_rate)
        if window >= total:
            return whole, total
        ramp = round(dsp.RAMP_S * self.sample_rate)
        first = -(-(window + ramp) // spec.hop) + 1
        edges = windows.growing_edges(frames + 2 * spec.padding, first, STREAM_LARGEST_FRAMES)
        plan = windows.plan(frames, spec.padding, spec.context, edges)
        if early:
            source.cut_after(plan[0][3])
        return self._run_windows(sessions["vocoder"], source, edges, threads), total

    def prior(
        self,
        ids: list[int],
        *,
        seed: int,
        length_scale: float,
        sessions: dict[str, Any] | None = None,
        durations: list[npt.NDArray[np.float32]] | None = None,
    ) -> Prior:
        """The encoder, the duration rule, the expansion and the seeded noise: the decoder's inputs."""
        sessions = sessions or self._sessions
        x = np.asarray([ids], dtype=np.int64)
        o_mean, o_log_scale, w = sessions["encoder"].run(
            None, {"ids": x, "length_scale": np.asarray([length_scale], np.float32)}
        )
        self._release("encoder")
        w_ceil = np.ceil(w[0, 0])
        if self.duration_rule == manifest.DURATION_CEIL_MIN1:
            w_ceil = np.maximum(w_ceil, np.float32(1))
        if durations is not None:
            durations.append(w_ceil)
        total = int(float(np.sum(w_ceil, dtype=np.float32)))
        frames = max(total, 1)
        if frames < self.num_squeeze:  # the decoder's squeeze would leave nothing (issue 15)
            rule = "zero-frames" if self.duration_rule == manifest.DURATION_CEIL else "min-one-frame"
            raise SynthesisError(
                f"member {self.info.id} produced no audio frames: its duration predictor gave the "
                f"{len(ids)} tokens {total} frames in total ({rule} rule), fewer than the "
                f"{self.num_squeeze} its decoder needs; the checkpoint may be untrained or the text too "
                "short (run `forv-tts check`)"
            )
        y_mean, y_log_scale = expand(w_ceil, frames, o_mean[0], o_log_scale[0])  # compute_outputs
        noise = glow_noise(seed, y_mean.shape[1], frames)
        return Prior(y_mean, y_log_scale, noise, self.num_squeeze)

    def decode(
        self,
        prior: Prior,
        start: int = 0,
        end: int | None = None,
        *,
        sessions: dict[str, Any] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Frames [start, end) of the model mel [C, T] (all of it by default): the decoder graph.

        A part of the mel is decoded from a window of the decoder's inputs with `decoder_windows`'
        context beyond each edge (windows.py's argument: the flows are convolutional), in whole
        squeezed frames, so its frames are the whole run's. `start` and `end` are multiples of
        `num_squeeze` (or `end` the mel's length).
        """
        sessions = sessions or self._sessions
        frames, unit = prior.frames, prior.num_squeeze
        length = prior.mel_frames
        end = length if end is None else min(int(end), length)
        lo, hi = 0, frames
        if start > 0 or end < length:
            spec = self.decoder_windows
            if spec is None:
                raise ValueError(f"member {self.info.id}'s export cannot decode part of a mel")
            if start % unit or (end % unit and end != length) or not 0 <= start < end:
                raise ValueError(f"decoder window [{start}, {end}) is not in whole {unit}-frame steps")
            lo = max(0, start - spec.context)
            if end + spec.context < length:
                hi = end + spec.context
        feed = {
            "y_mean": np.ascontiguousarray(prior.y_mean[:, :, lo:hi]),
            "y_log_scale": np.ascontiguousarray(prior.y_log_scale[:, :, lo:hi]),
            "noise": np.ascontiguousarray(prior.noise[:, :, lo:hi]),
            "noise_scale": np.asarray([self.noise_scale], np.float32),
        }
        (mel,) = sessions["decoder"].run(None, feed)
        self._release("decoder")
        out: npt.NDArray[np.float32] = mel[0]
        if start == 0 and end == length:  # the whole run
            return out
        return np.ascontiguousarray(out[:, start - lo : end - lo])

    def _release(self, graph: str) -> None:
        """Hand back `graph`'s weight pages if this process asked (`startup.arm_release_graph_pages`)."""
        data = self.manifest["graphs"][graph].get("data")
        if self.release_pages and data:
            pages.release(self.directory / str(data))

    def vocoder_input(self, mel: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Model mel [C, T] → the vocoder's normalised mel [C, T]."""
        voc_in: npt.NDArray[np.float32] = np.ascontiguousarray(
            self.vocoder_audio.normalize(self.tts_audio.denormalize(mel)), np.float32
        )
        return voc_in

    def _vocode_raw(self, session: Any, voc_in: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        (wav,) = session.run(None, {"mel": voc_in[None]})
        out: npt.NDArray[np.float32] = np.atleast_1d(wav.squeeze().astype(np.float32, copy=False))
        return out

    def vocode(
        self, mel: npt.NDArray[np.float32], sessions: dict[str, Any] | None = None
    ) -> npt.NDArray[np.float32]:
        """Model mel [C, T] → waveform, as `CoquiVoice.vocode` (no peak scaling).

        On more than one thread, in as many windows run side by side (windows.py; the same samples
        within float rounding); otherwise in one run.
        """
        return self._vocode_input(self.vocoder_input(mel), sessions or self._sessions)

    def _vocode_input(
        self, voc_in: npt.NDArray[np.float32], sessions: dict[str, Any]
    ) -> npt.NDArray[np.float32]:
        threads = self.thread_count()
        spec = self.windows
        if spec is None or not self._parallel_windows(threads):
            return self._vocode_raw(sessions["vocoder"], voc_in)
        frames = voc_in.shape[1]
        if not windows.worth_splitting(frames, spec.context, threads):
            return self._vocode_raw(sessions["vocoder"], voc_in)
        edges = windows.even_edges(frames + 2 * spec.padding, threads)
        source = _MelSource.complete(voc_in)
        return np.concatenate(list(self._run_windows(sessions["vocoder"], source, edges, threads)))

    def vocode_blocks(
        self,
        mel: npt.NDArray[np.float32],
        *,
        first: int = STREAM_FIRST_FRAMES,
        largest: int = STREAM_LARGEST_FRAMES,
        sessions: dict[str, Any] | None = None,
    ) -> Iterator[npt.NDArray[np.float32]]:
        """`vocode(mel)` in consecutive blocks, each yielded as soon as it is made: `first` padded
        frames, then blocks doubling up to `largest`; joined, the same samples as `vocode` within float
        rounding (tests/voices/test_onnx_windows.py). A vocoder that cannot run in windows (an export
        older than format 5, a resampling vocoder) yields its whole output once."""
        sessions = sessions or self._sessions
        voc_in = self.vocoder_input(mel)
        spec = self.windows
        if spec is None:
            yield self._vocode_raw(sessions["vocoder"], voc_in)
            return
        edges = windows.growing_edges(voc_in.shape[1] + 2 * spec.padding, first, largest)
        threads = self.thread_count() if self._parallel_windows(self.thread_count()) else 1
        yield from self._run_windows(sessions["vocoder"], _MelSource.complete(voc_in), edges, threads)

    def _run_windows(
        self, session: Any, source: _MelSource, edges: list[int], threads: int
    ) -> Iterator[npt.NDArray[np.float32]]:
        """Each window's kept samples in order; with `threads` > 1 up to that many run at once.

        A window that reads frames `source` has not decoded yet waits until every earlier window's
        samples are out (yielded), then the decoder makes them: the first part does not wait for it.
        """
        spec = self.windows
        assert spec is not None
        plan = windows.plan(source.frames, spec.padding, spec.context, edges)

        def one(
            window: tuple[int, int, int, int], voc_in: npt.NDArray[np.float32]
        ) -> npt.NDArray[np.float32]:
            out = self._vocode_raw(session, np.ascontiguousarray(voc_in[:, window[2] : window[3]]))
            kept: npt.NDArray[np.float32] = windows.window_samples(window, out, spec.hop, spec.padding)
            return kept

        if threads <= 1:
            for window in plan:
                yield one(window, source.upto(window[3]))
            return
        pool = self._window_pool(threads)
        pending: deque[Future[npt.NDArray[np.float32]]] = deque()
        try:
            for window in plan:
                if window[3] > source.ready:
                    while pending:
                        yield pending.popleft().result()
                voc_in = source.upto(window[3])  # frames below `ready` are never written again
                pending.append(pool.submit(one, window, voc_in))
                if len(pending) >= threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


@dataclass(frozen=True)
class Prior:
    """The decoder's inputs for one utterance, [1, C, frames] each (`OnnxVoice.prior`)."""

    y_mean: npt.NDArray[np.float32]
    y_log_scale: npt.NDArray[np.float32]
    noise: npt.NDArray[np.float32]
    num_squeeze: int

    @property
    def frames(self) -> int:
        return int(self.y_mean.shape[-1])

    @property
    def mel_frames(self) -> int:
        """The decoder's output length: its squeeze drops the frames past a whole group."""
        return self.frames - self.frames % self.num_squeeze


class _MelSource:
    """One utterance's vocoder input (the model mel, normalised for the vocoder), made as far as the
    vocoder's windows have reached: in one decoder run, or in two (`cut_after`) when the first
    window reads a small part of a long mel, so the first audio waits for that part only."""

    def __init__(
        self,
        voice: OnnxVoice | None,
        prior: Prior | None,
        sessions: dict[str, Any] | None,
        voc_in: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self._voice, self._prior, self._sessions = voice, prior, sessions
        if voc_in is not None:
            self.frames = int(voc_in.shape[1])
            self._voc: npt.NDArray[np.float32] | None = voc_in
            self.ready = self.frames
        else:
            assert prior is not None
            self.frames = prior.mel_frames
            self._voc = None
            self.ready = 0
        self._cuts = [self.frames]

    @classmethod
    def complete(cls, voc_in: npt.NDArray[np.float32]) -> _MelSource:
        return cls(None, None, None, voc_in)

    def cut_after(self, frames: int) -> None:
        """Decode the first `frames` (rounded up to a whole squeeze group) on their own, when that
        piece (with the decoder's context) is under half the mel; the rest follows in one run."""
        voice, prior = self._voice, self._prior
        if voice is None or prior is None or voice.decoder_windows is None or self.ready:
            return
        if not settings.switch(settings.DECODER_WINDOWS):
            return
        unit = prior.num_squeeze
        cut = -(-frames // unit) * unit
        if 2 * (cut + voice.decoder_windows.context) <= self.frames:
            self._cuts = [cut, self.frames]

    def upto(self, end: int) -> npt.NDArray[np.float32]:
        """The vocoder input with at least frames [0, end) made (the whole buffer: later columns may
        not be written yet)."""
        while self.ready < min(end, self.frames):
            voice, prior = self._voice, self._prior
            assert voice is not None and prior is not None
            stop = self._cuts.pop(0)
            mel = voice.decode(prior, self.ready, stop, sessions=self._sessions)
            part = voice.vocoder_input(mel)
            if self._voc is None and stop == self.frames:
                self._voc = part
            else:
                if self._voc is None:
                    self._voc = np.empty((part.shape[0], self.frames), np.float32)
                self._voc[:, self.ready : stop] = part
            self.ready = stop
        assert self._voc is not None
        return self._voc


def _lazy(make: Any) -> Iterator[npt.NDArray[np.float32]]:
    """One block, made when first asked for."""
    yield make()


@dataclass(frozen=True)
class WindowSpec:
    """voice.json's `vocoder_windows` (export.py): context frames, the graph's padding, its hop."""

    context: int
    padding: int
    hop: int


def _window_spec(data: Any) -> WindowSpec | None:
    if not isinstance(data, dict):
        return None
    try:
        spec = WindowSpec(int(data["context"]), int(data["padding"]), int(data["hop"]))
    except (KeyError, TypeError, ValueError):
        return None
    return spec if spec.context > 0 and spec.padding >= 0 and spec.hop > 0 else None


@dataclass(frozen=True)
class DecoderSpec:
    """voice.json's `decoder_windows` (export.py): mel frames of context each side, a whole number of
    squeeze groups."""

    context: int


def _decoder_spec(data: Any, num_squeeze: int) -> DecoderSpec | None:
    if not isinstance(data, dict):
        return None
    try:
        context, unit = int(data["context"]), int(data["unit"])
    except (KeyError, TypeError, ValueError):
        return None
    return DecoderSpec(context) if context > 0 and unit == num_squeeze and context % unit == 0 else None


def expand(
    w_ceil: npt.NDArray[np.float32],
    frames: int,
    o_mean: npt.NDArray[np.float32],
    o_log_scale: npt.NDArray[np.float32],
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Glow-TTS's `compute_outputs` for one utterance: each frame takes its token's statistics.

    `alignment(w_ceil, frames).T @ stats.T` picks one token per frame (a one-hot row: the same value,
    bit for bit, as the product); indexing does it without a matrix product, whose BLAS threads
    otherwise spin beside onnxruntime's (bench/notes.md). A frame no token owns gets zeros.
    """
    cum = np.cumsum(w_ceil, dtype=np.float32)
    owner = np.searchsorted(cum, np.arange(frames, dtype=np.float32), side="right")
    tokens = o_mean.shape[1]
    zero = np.zeros((o_mean.shape[0], 1), np.float32)
    means = np.concatenate([o_mean, zero], axis=1)[:, np.minimum(owner, tokens)]
    scales = np.concatenate([o_log_scale, zero], axis=1)[:, np.minimum(owner, tokens)]
    return np.ascontiguousarray(means[None]), np.ascontiguousarray(scales[None])


def _cores() -> int:
    """CPUs this process may run on (what onnxruntime's default pool is sized from, near enough)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1

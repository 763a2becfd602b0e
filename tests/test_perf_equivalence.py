"""Speed-ups change nothing: optimised paths give the same weights, samples and answers as plain ones.

Each optimisation from bench/ (BENCHMARKS.md) is checked against the straightforward way of doing the
same thing: the voice built without random initialisation against one built and initialised normally
(bit-identical weights and samples), and so on.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from forv_tts.config import SynthesisConfig
from forv_tts.voices.coqui import checkpoint as ck
from forv_tts.voices.coqui import compat as _compat
from forv_tts.voices.coqui import networks as cnet
from forv_tts.voices.coqui import vocoder as cvoc
from forv_tts.voices.coqui.voice import CoquiVoice
from forv_tts.voices.layout import member_info

TEXTS = ["안녕하세요, 만나서 반갑습니다.", "오늘 날씨가 정말 좋네요!"]


def _plain_voice(info: Any, monkeypatch: pytest.MonkeyPatch) -> CoquiVoice:
    """The voice built the straightforward way: random init, file pages kept until the load ends."""
    with monkeypatch.context() as m:
        m.setattr(cnet, "_SkipRandomInit", contextlib.nullcontext)
        m.setattr(ck.MappedPages, "__bool__", lambda self: False)  # keep the file pages resident
        return CoquiVoice(info)


def _state(voice: CoquiVoice) -> dict[str, torch.Tensor]:
    return {
        **{f"glow.{k}": v for k, v in voice.glow.state_dict().items()},
        **{f"vocoder.{k}": v for k, v in voice.vocoder.state_dict().items()},
    }


@pytest.mark.parametrize("member", ["1", "2"], ids=["legacy", "modern"])
def test_skipping_random_init_gives_identical_weights_and_samples(
    voice_dir: Path, member: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = member_info(voice_dir, member)
    fast = CoquiVoice(info)
    plain = _plain_voice(info, monkeypatch)
    a, b = _state(fast), _state(plain)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    for seed, text in enumerate(TEXTS):
        x = fast.synthesize(text, SynthesisConfig(seed=seed)).samples
        y = plain.synthesize(text, SynthesisConfig(seed=seed)).samples
        assert np.array_equal(x, y)


def test_skip_random_init_is_scoped_and_thread_local() -> None:
    torch.manual_seed(0)
    reference = torch.nn.Linear(64, 64).weight.detach().clone()
    seen: list[torch.Tensor] = []

    def other_thread() -> None:
        torch.manual_seed(0)
        seen.append(torch.nn.Linear(64, 64).weight.detach().clone())

    with cnet._SkipRandomInit():
        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        skipped = torch.nn.init.uniform_(torch.full((4,), 7.0))
    assert torch.equal(skipped, torch.full((4,), 7.0))  # left as it was
    assert torch.equal(seen[0], reference)  # another thread initialises normally meanwhile
    torch.manual_seed(0)
    assert torch.equal(torch.nn.Linear(64, 64).weight, reference)  # and so does this one afterwards


def test_import_coqui_scans_package_metadata_once_and_restores_it(tmp_path: Path) -> None:
    code = """
import importlib.metadata as m
original = m.packages_distributions
calls = []
def counting():
    calls.append(1)
    return original()
m.packages_distributions = counting
from forv_tts.voices.coqui.compat import import_coqui
import_coqui()
import TTS, TTS.utils.import_utils as iu
assert m.packages_distributions is counting
assert iu.PACKAGE_DISTRIBUTION_MAPPING == original()
print(len(calls))
"""
    env = {**os.environ, "FORV_TTS_CACHE_DIR": str(tmp_path)}
    scans = []
    for _ in range(2):  # the second process reuses the first one's stored answer
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        scans.append(int(proc.stdout))
    assert scans == [1, 0]


class _CountingScan:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> dict[str, list[str]]:
        self.calls += 1
        return importlib.metadata.packages_distributions()  # type: ignore[return-value]


def test_stored_package_scan_is_reused_until_the_search_path_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(tmp_path / "cache"))
    scan = _CountingScan()
    fresh = dict(importlib.metadata.packages_distributions())
    assert _compat._stored_scan(scan) == fresh and scan.calls == 1
    assert _compat._stored_scan(scan) == fresh and scan.calls == 1  # stored, not scanned

    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))  # a new search path entry
    assert _compat._stored_scan(scan) == fresh and scan.calls == 2
    assert _compat._stored_scan(scan) == fresh and scan.calls == 2
    (site / "newpkg-1.0.dist-info").mkdir()  # an install there changes the directory's mtime
    os.utime(site, ns=(0, site.stat().st_mtime_ns + 1_000_000_000))
    assert _compat._stored_scan(scan) == fresh and scan.calls == 3

    store = tmp_path / "cache" / _compat.PACKAGE_SCAN_FILE
    store.write_text('{"stamp": ')  # damaged
    assert _compat._stored_scan(scan) == fresh and scan.calls == 4
    assert _compat._stored_scan(scan) == fresh and scan.calls == 4


def test_stored_package_scan_keeps_a_few_layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The console script and `python -m` have different search paths; alternating must not rescan."""
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(tmp_path / "cache"))
    scan = _CountingScan()
    layouts = []
    for n in range(_compat._SCAN_LAYOUTS + 1):
        (tmp_path / f"layout{n}").mkdir()
        layouts.append([str(tmp_path / f"layout{n}"), *sys.path])
    for n, layout in enumerate(layouts[:-1]):
        monkeypatch.setattr(sys, "path", layout)
        _compat._stored_scan(scan)
        assert scan.calls == n + 1
    for layout in reversed(layouts[:-1]):  # all of them kept
        monkeypatch.setattr(sys, "path", layout)
        _compat._stored_scan(scan)
    assert scan.calls == _compat._SCAN_LAYOUTS
    monkeypatch.setattr(sys, "path", layouts[-1])  # one more pushes out the oldest
    _compat._stored_scan(scan)
    monkeypatch.setattr(sys, "path", layouts[0])
    _compat._stored_scan(scan)
    assert scan.calls == _compat._SCAN_LAYOUTS + 2


def test_package_scan_without_a_writable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("FORV_TTS_CACHE_DIR", str(blocker / "cache"))
    scan = _CountingScan()
    assert _compat._stored_scan(scan) == dict(importlib.metadata.packages_distributions())
    assert _compat._stored_scan(scan) is not None and scan.calls == 2


# --- CLI: typer's coercion without pydantic for the common cases -------------------------------------


def _coerced(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        return "ok", runtime.coerce(value, param=param, ctx=ctx)
    except Exception as exc:  # the same error, message included
        return type(exc).__name__, str(exc)


def test_lazy_coercion_gives_typers_own_answers() -> None:
    import typer.main
    from typer._coercion import build_runtime_param

    from forv_tts.cli import _coercion
    from forv_tts.cli import root as cli

    group = typer.main.get_command(cli.app)
    ctx = group.make_context("forv-tts", ["say", "x"], resilient_parsing=True)
    values = [None, "", "abc", "12", "-3", "007", "+4", "1.5", " 7", "1_000", "١٢", "9" * 30, "안녕", "-"]
    values += [__file__, str(Path(__file__).parent), "a/../b/", "~/x"]  # a file, a directory, path spellings
    checked = 0
    paths = 0
    for command in (group, *group.commands.values()):  # type: ignore[attr-defined]
        _coercion.install(command, ctx)
        for param in command.get_params(ctx):
            runtime = getattr(param, "_runtime_param", None)
            if not isinstance(runtime, _coercion._LazyCoercion):
                continue
            reference = build_runtime_param(param.type_descriptor)
            for value in values:
                assert _coerced(runtime, value, param, ctx) == _coerced(reference, value, param, ctx), (
                    command.name,
                    param.name,
                    value,
                )
                checked += 1
            paths += runtime.annotation is Path
    assert checked > 200
    assert paths >= 3  # --voice-dir and friends are among the parameters checked


@pytest.mark.parametrize("how", ["switched off", "another typer"])
def test_lazy_coercion_stays_out_when_off_or_on_another_typer(
    how: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import typer
    import typer.main

    from forv_tts.cli import _coercion
    from forv_tts.cli import root as cli

    if how == "switched off":
        monkeypatch.setenv("FORV_TTS_LAZY_COERCION", "0")
    else:
        monkeypatch.setattr(typer, "__version__", "0.30.0")
    _coercion.reset()
    try:
        group = typer.main.get_command(cli.app)
        ctx = group.make_context("forv-tts", ["say", "x"], resilient_parsing=True)
        for command in (group, *group.commands.values()):  # type: ignore[attr-defined]
            _coercion.install(command, ctx)
            for param in command.get_params(ctx):
                assert getattr(param, "_runtime_param", None) is None or _coercion._LazyCoercion is None
        assert _coercion._LazyCoercion is None
        from forv_tts._process import startup

        assert startup.report()["lazy_coercion"].startswith("off" if how == "switched off" else "disarmed")
    finally:
        monkeypatch.undo()
        _coercion.reset()


def test_say_does_not_import_pydantic() -> None:
    code = (
        "import sys\n"
        "import forv_tts.jobs.item as p\n"
        "class R: path = 'x.wav'\n"
        "p.run_item = lambda text, **kw: R()\n"
        "sys.argv = ['forv-tts', 'say', '안녕', '-o', 'x.wav', '--member', '3', '--step', '10',\n"
        "            '--voice-dir', 'voices']\n"
        "from forv_tts.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "print('pydantic' in sys.modules)\n"
    )
    # The code goes on after main(): the quick exit `say` arms would end the process inside it.
    env = {**os.environ, "FORV_TTS_QUICK_EXIT": "0"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == "False"


# --- the vocoder's fast convolutions: channels-last activations, upsampling as convolution -----------


@contextlib.contextmanager
def _threads(n: int) -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("member", ["1", "2"], ids=["legacy", "modern"])
def test_fast_convolutions_stay_within_a_tenth_of_a_16_bit_step(
    voice_dir: Path, member: str, threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = member_info(voice_dir, member)
    plain = CoquiVoice(info, fast_convolutions=False)
    fast = CoquiVoice(info)  # the default
    assert fast.channels_last and not plain.channels_last
    convs = [m for m in fast.vocoder.modules() if isinstance(m.forward, cvoc._Conv1dAs2d)]
    upsampled = [m for m in fast.vocoder.modules() if isinstance(m.forward, cvoc._SubPixelUpsample)]
    assert len(upsampled) == 4  # HiFi-GAN v2's four upsampling layers
    assert len(convs) == 2 + 4 * 3 * 6  # conv_pre, conv_post, 4 stages x 3 resblocks x 6 convolutions
    fast_forwards = (cvoc._Conv1dAs2d, cvoc._SubPixelUpsample)
    assert not any(isinstance(m.forward, fast_forwards) for m in plain.vocoder.modules())
    calls: list[str] = []
    real_conv, real_up = cvoc._Conv1dAs2d.__call__, cvoc._SubPixelUpsample.kernel

    def spy_conv(self: Any, x: torch.Tensor) -> torch.Tensor:
        calls.append(f"conv:{x.dim()}:{x.is_contiguous(memory_format=torch.channels_last)}")
        return real_conv(self, x)

    def spy_up(self: Any) -> Any:
        calls.append("upsample")
        return real_up(self)

    monkeypatch.setattr(cvoc._Conv1dAs2d, "__call__", spy_conv)
    monkeypatch.setattr(cvoc._SubPixelUpsample, "kernel", spy_up)
    with _threads(threads):
        for seed, text in enumerate(TEXTS):
            x = plain.synthesize(text, SynthesisConfig(seed=seed)).samples
            assert not calls  # coqui's own path
            y = fast.synthesize(text, SynthesisConfig(seed=seed)).samples
            # every convolution ran on channels-last [B, C, 1, T], every upsampling layer as a convolution
            assert calls.count("conv:4:True") == len(convs) and calls.count("upsample") == len(upsampled)
            assert len(calls) == len(convs) + len(upsampled)
            calls.clear()
            assert x.shape == y.shape
            np.testing.assert_allclose(y, x, rtol=0, atol=5e-6)  # 1/32767 is one 16-bit step


def _generator(**changes: Any) -> Any:
    """A tiny coqui `HifiganGenerator` (random weights, weight norm folded as at inference)."""
    from forv_tts.voices.coqui.compat import import_coqui

    import_coqui()
    from TTS.vocoder.models.hifigan_generator import HifiganGenerator

    params: dict[str, Any] = {
        "in_channels": 6,
        "out_channels": 1,
        "resblock_type": "1",
        "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]],
        "resblock_kernel_sizes": [3, 7],
        "upsample_kernel_sizes": [8, 4],
        "upsample_initial_channel": 16,
        "upsample_factors": [4, 2],
        **changes,
    }
    torch.manual_seed(7)
    gen = HifiganGenerator(**params).eval()
    gen.remove_weight_norm()
    return gen


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"resblock_type": "2", "resblock_dilation_sizes": [[1, 3], [1, 3]]},
        {"upsample_kernel_sizes": [16, 4], "upsample_factors": [8, 2]},  # HiFi-GAN v2's first layer
        {"conv_post_bias": False},
    ],
    ids=["resblock1", "resblock2", "stride8", "no-post-bias"],
)
def test_channels_last_generator_matches_coquis_forward(changes: dict[str, Any]) -> None:
    gen = _generator(**changes)
    reference = _generator(**changes)
    assert cvoc._channels_last(gen)
    with torch.inference_mode():
        for length in (1, 3, 40):
            mel = torch.randn(2, 6, length)
            want = reference.forward(mel)
            got = gen.forward(cvoc.to_channels_last(mel)).squeeze(2)
            assert got.shape == want.shape
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
            assert torch.equal(gen.forward(mel), want)  # a 3-D input takes every layer's own forward


@pytest.mark.parametrize("length", [1, 5, 22, 23, 40, 61])
def test_vocoder_width_buckets_give_coquis_samples(length: int, monkeypatch: pytest.MonkeyPatch) -> None:
    gen = _generator()
    reference = _generator()
    assert cvoc._channels_last(gen)
    widths: list[int] = []
    real_zero_tail = cvoc._zero_tail

    def spy(out: torch.Tensor, width: int) -> torch.Tensor:
        widths.append(width)
        return real_zero_tail(out, width)

    monkeypatch.setattr(cvoc, "_zero_tail", spy)
    mel = torch.randn(1, 6, length, generator=torch.Generator().manual_seed(length))
    with torch.inference_mode():
        want = reference.inference(mel)
        exact = cvoc.vocode_channels_last(gen, mel, step=1)  # no bucket: every width is the real one
        widths.clear()
        got = cvoc.vocode_channels_last(gen, mel, step=32)
    assert got.shape == exact.shape == want.shape
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got, exact, rtol=1e-6, atol=1e-6)
    padded = length + 2 * gen.inference_padding
    bucket = -(-padded // 32) * 32
    assert set(widths) == {bucket, bucket * 4, bucket * 8}  # each stage ran at the bucketed width
    assert cvoc._valid_widths.table == {}  # nothing left behind for the next call on this thread

    if bucket != padded:  # without the zeroed tails, the padding would leak into the real signal
        monkeypatch.setattr(cvoc, "_zero_tail", lambda out, width: out)
        with torch.inference_mode():
            leaky = cvoc.vocode_channels_last(gen, mel, step=32)
        assert not torch.allclose(leaky, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    "changes",
    [
        {"pre_linear": 6},  # a linear layer before the convolutions
        {"cond_channels": 4},  # a conditioning input
        {"upsample_kernel_sizes": [7, 4]},  # output 4L - 1: not an exact multiple
    ],
    ids=["pre-linear", "conditioning", "inexact-upsampling"],
)
def test_channels_last_leaves_uncovered_generators_alone(changes: dict[str, Any]) -> None:
    gen = _generator(**changes)
    assert not cvoc._channels_last(gen)
    assert not any(isinstance(m.forward, (cvoc._Conv1dAs2d, cvoc._SubPixelUpsample)) for m in gen.modules())


@pytest.mark.parametrize(
    ("layer", "length"),
    [
        (torch.nn.Conv1d(6, 4, 7, padding=3), 64),
        (torch.nn.Conv1d(4, 4, 11, dilation=5, padding=25), 64),
        (torch.nn.Conv1d(4, 6, 3, padding=1, bias=False), 64),
        (torch.nn.Conv1d(4, 6, 5, groups=2, padding=2), 64),
        # narrow and wide: folded into rows of FOLD_ROW samples (one full row, a partial last row)
        (torch.nn.Conv1d(8, 8, 11, dilation=5, padding=25), 2 * cvoc.FOLD_ROW + 7),
        (torch.nn.Conv1d(16, 8, 7, padding=3, groups=2), cvoc.FOLD_ROW + 1),
        (torch.nn.Conv1d(8, 8, 3, padding=1), cvoc.FOLD_ROW),  # exactly one row: not folded
    ],
    ids=["pre", "dilated", "no-bias", "grouped", "folded-dilated", "folded-grouped", "one-row"],
)
def test_conv1d_as_2d_matches_conv1d(layer: torch.nn.Conv1d, length: int) -> None:
    torch.manual_seed(1)
    with torch.inference_mode():
        as_2d = cvoc._Conv1dAs2d(layer)
        x = torch.randn(2, layer.in_channels, length)
        want = layer(x)
        got = as_2d(cvoc.to_channels_last(x))
        assert got.shape == (2, layer.out_channels, 1, length)
        assert got.is_contiguous(memory_format=torch.channels_last) or length > cvoc.FOLD_ROW
        torch.testing.assert_close(got.squeeze(2), want, rtol=1e-5, atol=1e-5)
        assert torch.equal(as_2d(x), want)  # 3-D: the layer's own forward


def test_wide_narrow_convolutions_are_folded_into_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    shapes: list[tuple[int, ...]] = []
    real_conv2d = torch.nn.functional.conv2d

    def spy(x: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        shapes.append(tuple(x.shape))
        return real_conv2d(x, *args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "conv2d", spy)
    narrow = cvoc._Conv1dAs2d(torch.nn.Conv1d(8, 8, 7, padding=3))
    wide = cvoc._Conv1dAs2d(torch.nn.Conv1d(cvoc.FOLD_CHANNELS + 1, 4, 7, padding=3))
    with torch.inference_mode():
        narrow(cvoc.to_channels_last(torch.randn(1, 8, 3 * cvoc.FOLD_ROW - 5)))
        wide(cvoc.to_channels_last(torch.randn(1, cvoc.FOLD_CHANNELS + 1, 3 * cvoc.FOLD_ROW - 5)))
    assert shapes == [(1, 8, 3, cvoc.FOLD_ROW + 6), (1, cvoc.FOLD_CHANNELS + 1, 1, 3 * cvoc.FOLD_ROW - 5)]


# in_channels, out_channels, kernel, stride, padding, bias: HiFi-GAN v1/v2/v3's layers, odd shapes
SUBPIXEL_CASES = [
    (128, 64, 16, 8, 4, True),
    (32, 16, 4, 2, 1, True),
    (512, 256, 16, 8, 4, False),
    (8, 4, 11, 5, 3, True),  # odd kernel: taps reach two frames back and one ahead
    (6, 3, 3, 3, 0, True),  # kernel == stride: one tap per phase, no padding
    (5, 7, 12, 4, 4, True),  # padding of a whole phase
    (4, 3, 13, 3, 5, True),  # padding beyond a phase: taps reach two frames each way
]


@pytest.mark.parametrize(("c_in", "c_out", "kernel", "stride", "padding", "bias"), SUBPIXEL_CASES)
def test_subpixel_upsample_matches_transposed_convolution(
    c_in: int, c_out: int, kernel: int, stride: int, padding: int, bias: bool
) -> None:
    torch.manual_seed(kernel * 100 + stride)
    up = torch.nn.ConvTranspose1d(c_in, c_out, kernel, stride, padding, bias=bias)
    assert cvoc._SubPixelUpsample.applies_to(up)
    sub = cvoc._SubPixelUpsample(up)
    lengths = [1, 2, 7, 50]
    if c_in <= cvoc.FOLD_CHANNELS:
        lengths.append(cvoc.FOLD_ROW + 3)  # the convolution runs folded into rows
    with torch.inference_mode():
        for length in lengths:
            x = torch.randn(2, c_in, length)
            want, got = up(x), sub(cvoc.to_channels_last(x))
            assert got.shape == (2, c_out, 1, length * stride)
            if length <= cvoc.FOLD_ROW:
                assert got.is_contiguous(memory_format=torch.channels_last)  # interleaving was a view
            torch.testing.assert_close(got.squeeze(2), want, rtol=1e-5, atol=1e-5)


def test_subpixel_upsample_follows_weight_changes_and_falls_back() -> None:
    torch.manual_seed(3)
    up = torch.nn.ConvTranspose1d(8, 4, 16, 8, 4)
    sub = cvoc._SubPixelUpsample(up)
    x = torch.randn(1, 8, 9)
    x4 = cvoc.to_channels_last(x)
    with torch.no_grad():
        torch.testing.assert_close(sub(x4).squeeze(2), up(x), rtol=1e-5, atol=1e-5)
        up.weight.mul_(-2.0)  # in place: the equivalent kernel follows
        up.bias.add_(1.0)
        torch.testing.assert_close(sub(x4).squeeze(2), up(x), rtol=1e-5, atol=1e-5)
        up.weight = torch.nn.Parameter(torch.randn_like(up.weight))  # replaced
        torch.testing.assert_close(sub(x4).squeeze(2), up(x), rtol=1e-5, atol=1e-5)
        # What the rewrite does not cover goes to the layer's own forward, bit for bit.
        assert torch.equal(sub(x), up(x))  # 3-D input
        assert torch.equal(sub(x[0]), up(x[0]))  # unbatched input
        assert torch.equal(sub(x, output_size=[1, 4, 72]), up(x, output_size=[1, 4, 72]))


@pytest.mark.parametrize(
    ("layer", "applies"),
    [
        (torch.nn.ConvTranspose1d(4, 4, 16, 8, 3), False),  # output 8L + 2: not an exact multiple
        (torch.nn.ConvTranspose1d(4, 4, 16, 8, 4, output_padding=1), False),
        (torch.nn.ConvTranspose1d(4, 4, 16, 8, 4, groups=2), False),
        (torch.nn.ConvTranspose1d(4, 4, 16, 8, 4, dilation=2), False),
        (torch.nn.ConvTranspose1d(4, 4, 9, 1, 4), True),  # stride 1 with k - 2p == 1 is still exact
    ],
)
def test_subpixel_upsample_applies_only_to_exact_multiples(
    layer: torch.nn.ConvTranspose1d, applies: bool
) -> None:
    assert cvoc._SubPixelUpsample.applies_to(layer) is applies


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_cli_makes_openmp_waits_passive_unless_told_otherwise(given: str | None, expected: str) -> None:
    code = (
        "import os, sys\n"
        "sys.argv = ['forv-tts', '--version']\n"
        "from forv_tts.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(os.environ.get('OMP_WAIT_POLICY'))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().splitlines()[-1] == expected


# --- memory: pages of the memory-mapped checkpoint are handed back once copied -----------------------


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise / /proc are Linux")
def test_released_pages_read_back_the_same_and_leave_rss(tmp_path: Path) -> None:
    path = tmp_path / "big.pth.tar"
    torch.save({"model": {"w": torch.arange(16 * 2**20, dtype=torch.float32)}}, path)  # 64 MB
    tensor = ck.load_checkpoint(path)["model"]["w"]
    pages = ck.MappedPages(path)
    assert pages
    copy = tensor.clone()  # reads every page: now resident
    before = _rss_bytes()
    pages.release(tensor)
    after = _rss_bytes()
    assert before - after > 48 * 2**20
    assert torch.equal(tensor, copy)  # read again from the file: same values


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="madvise / /proc are Linux")
def test_release_leaves_memory_that_is_not_the_files_mapping_alone(tmp_path: Path) -> None:
    path = tmp_path / "small.pth.tar"
    torch.save({"model": {"w": torch.ones(4)}}, path)
    pages = ck.MappedPages(path)
    assert not pages  # not loaded with mmap by this process: nothing mapped, nothing to release
    loaded = ck.load_checkpoint(path)
    pages = ck.MappedPages(path)
    anonymous = torch.randn(4 * 2**20)  # 16 MB of ordinary memory
    expected = anonymous.clone()
    pages.release(anonymous)
    assert torch.equal(anonymous, expected)
    assert torch.equal(loaded["model"]["w"], torch.ones(4))

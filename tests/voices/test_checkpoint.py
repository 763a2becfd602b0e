"""Checkpoint loading is safe (weights_only), tolerant of old formats, and keeps no discriminator."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from forv_tts.errors import VoiceLoadError
from forv_tts.voices.coqui import checkpoint as ck


def make_marker(path: str) -> None:
    """What a malicious checkpoint would run on unpickling: here, only create a file."""
    Path(path).touch()


class Exploit:
    """Unpickling this calls `make_marker`: proof that pickle ran code if the marker appears."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (make_marker, (str(self.marker),))


def test_refuses_pickled_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth.tar"
    torch.save({"model": {"w": torch.zeros(2)}, "payload": Exploit(marker)}, path)
    with pytest.raises(VoiceLoadError) as err:
        ck.load_checkpoint(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and "make_marker" in message
    assert not marker.exists()
    # Control: the same file does run code when loaded the unsafe way.
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_refuses_unlisted_class_even_if_harmless(tmp_path: Path) -> None:
    path = tmp_path / "class.pth.tar"
    torch.save({"model": {}, "date": datetime.date(2021, 6, 1)}, path)  # not on the allow-list
    with pytest.raises(VoiceLoadError, match="datetime"):
        ck.load_checkpoint(path)


def test_numpy_scalars_and_optimizer_state_load(tmp_path: Path) -> None:
    path = tmp_path / "ok.pth.tar"
    opt = torch.optim.Adam([torch.nn.Parameter(torch.ones(3))])
    state = {
        "model": {"w": torch.arange(3.0)},
        "optimizer": opt.state_dict(),
        "model_loss": np.float64(0.25),
        "r": np.int64(2),
        "half": np.float32(1.5),
    }
    torch.save(state, path)
    before = {str(g) for g in torch.serialization.get_safe_globals()}
    loaded = ck.load_checkpoint(path)
    assert loaded["model_loss"] == pytest.approx(0.25) and loaded["r"] == 2
    assert torch.equal(loaded["model"]["w"], torch.arange(3.0))
    # The allow-list is scoped to our call, never left installed process-wide.
    after = {str(g) for g in torch.serialization.get_safe_globals()}
    assert after == before
    assert not any("numpy" in g for g in after)


def test_numpy1_scalar_name_is_accepted(tmp_path: Path) -> None:
    """Checkpoints pickled under numpy 1.x name the scalar type `numpy.core.multiarray.scalar`."""
    path = tmp_path / "np1.pth.tar"
    torch.save({"model": {}, "model_loss": np.float64(0.5)}, path)
    import zipfile

    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        blobs = {n: zf.read(n) for n in names}
    pkl = next(n for n in names if n.endswith("data.pkl"))
    assert b"numpy._core.multiarray" in blobs[pkl]
    blobs[pkl] = blobs[pkl].replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        for n in names:
            zf.writestr(n, blobs[n])
    assert ck.load_checkpoint(path)["model_loss"] == pytest.approx(0.5)


def test_legacy_torch_serialisation_loads_without_mmap(tmp_path: Path) -> None:
    path = tmp_path / "old.pth.tar"
    torch.save({"model": {"w": torch.ones(4)}}, path, _use_new_zipfile_serialization=False)
    assert torch.equal(ck.load_checkpoint(path)["model"]["w"], torch.ones(4))


def test_zip_checkpoints_are_memory_mapped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mmap: tensors stay on disk until touched, so an unused discriminator is never read."""
    path = tmp_path / "big.pth.tar"
    torch.save({"model": {"model_d.w": torch.ones(1000)}}, path)
    calls: list[dict[str, Any]] = []
    real_load = torch.load

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    ck.load_checkpoint(path)
    assert [(c.get("mmap"), c.get("weights_only")) for c in calls] == [(True, True)]


@pytest.mark.parametrize("kind", ["truncated", "garbage", "empty"])
def test_corrupt_file_names_the_file(tmp_path: Path, kind: str) -> None:
    good = tmp_path / "good.pth.tar"
    torch.save({"model": {"w": torch.randn(64, 64)}}, good)
    bad = tmp_path / f"{kind}.pth.tar"
    data = good.read_bytes()
    bad.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"not a checkpoint", "empty": b""}[kind])
    with pytest.raises(VoiceLoadError) as err:
        ck.load_checkpoint(bad)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VoiceLoadError, match="not found"):
        ck.load_checkpoint(tmp_path / "nope.pth.tar")


def test_not_a_dict(tmp_path: Path) -> None:
    path = tmp_path / "list.pth.tar"
    torch.save([torch.ones(1)], path)
    with pytest.raises(VoiceLoadError, match="expected a dict"):
        ck.load_checkpoint(path)


def test_weight_norm_keys_are_converted() -> None:
    g, v, b = torch.ones(4, 1, 1), torch.randn(4, 2, 3), torch.zeros(4)
    out = ck.convert_weight_norm_keys({"ups.0.weight_g": g, "ups.0.weight_v": v, "ups.0.bias": b})
    assert set(out) == {
        "ups.0.parametrizations.weight.original0",
        "ups.0.parametrizations.weight.original1",
        "ups.0.bias",
    }
    assert out["ups.0.parametrizations.weight.original0"] is g
    assert out["ups.0.parametrizations.weight.original1"] is v


@pytest.mark.filterwarnings("ignore:.*torch.nn.utils.weight_norm.*:FutureWarning")
def test_converted_keys_load_into_a_parametrized_module() -> None:
    """The renamed tensors mean the same thing to torch: outputs match the old weight_norm module."""
    torch.manual_seed(0)
    old = torch.nn.utils.weight_norm(torch.nn.Conv1d(3, 5, 3))
    new = torch.nn.utils.parametrizations.weight_norm(torch.nn.Conv1d(3, 5, 3))
    new.load_state_dict(ck.convert_weight_norm_keys(dict(old.state_dict())), strict=True)
    x = torch.randn(1, 3, 20)
    assert torch.allclose(old(x), new(x), atol=1e-6)


GEN = {"conv_pre.weight_g": torch.ones(2), "conv_pre.weight_v": torch.ones(2), "conv_pre.bias": torch.ones(2)}
DISC = {
    "mpd.discriminators.0.convs.0.weight_v": torch.ones(3),
    "msd.discriminators.0.convs.0.weight_orig": torch.ones(3),
}


@pytest.mark.parametrize(
    "ckpt",
    [
        pytest.param(
            {
                "model": {
                    **{f"model_g.{k}": v for k, v in GEN.items()},
                    **{f"model_d.{k}": v for k, v in DISC.items()},
                }
            },
            id="gan-class",
        ),
        pytest.param({"model": dict(GEN), "model_disc": dict(DISC)}, id="split-model-disc"),
        pytest.param({"model": dict(GEN)}, id="bare-generator"),
    ],
)
def test_generator_state_dict_drops_the_discriminator(ckpt: dict[str, Any]) -> None:
    out = ck.generator_state_dict(ckpt, Path("x.pth.tar"))
    assert set(out) == {
        "conv_pre.parametrizations.weight.original0",
        "conv_pre.parametrizations.weight.original1",
        "conv_pre.bias",
    }


def test_state_dict_with_non_tensors_is_rejected() -> None:
    with pytest.raises(VoiceLoadError, match="no usable model"):
        ck.model_state_dict({"model": {"w": 3}}, Path("x.pth.tar"))
    with pytest.raises(VoiceLoadError, match="no usable vocoder"):
        ck.generator_state_dict({"model": None}, Path("x.pth.tar"))


def test_pickle_protocol_of_real_files_is_what_we_parse(built_voices: Any) -> None:
    """The fixture's legacy checkpoints really contain what the loader must cope with."""
    legacy = built_voices[0]
    raw = ck.load_checkpoint(legacy.glow_checkpoint)
    assert isinstance(raw["model_loss"], np.floating)
    assert raw["optimizer"]["state"]
    assert any(k.endswith(".weight_g") for k in raw["model"])
    voc = ck.load_checkpoint(legacy.vocoder_checkpoint)
    assert any(k.startswith("model_d.") for k in voc["model"])
    assert isinstance(voc["optimizer"], list) and len(voc["optimizer"]) == 2

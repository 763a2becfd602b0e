"""Member voices: faithful tokenisation, legacy == modern audio, coqui equivalence, and behaviour."""

from __future__ import annotations

import gc
import json
import logging
import re
import shutil
import subprocess
import sys
import textwrap
import unicodedata
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import jamo
import numpy as np
import pytest
import torch
import voicefactory as vf

from forv_tts.errors import InvalidInputError, NothingToSayError, VoiceLoadError
from forv_tts.voices import base as vbase
from forv_tts.voices import layout as models
from forv_tts.voices import registry
from forv_tts.voices.coqui import checkpoint as ck
from forv_tts.voices.coqui import dsp as cdsp
from forv_tts.voices.coqui import networks as cnet
from forv_tts.voices.coqui import tokenizer as ctok
from forv_tts.voices.coqui import voice as cv
from forv_tts.voices.coqui import weight_cache
from forv_tts.voices.coqui.dsp import AudioSettings
from forv_tts.voices.coqui.voice import CoquiVoice
from forv_tts.voices.layout import member_info

TEXT = "안녕하세요, 만나서 반갑습니다."
TEXTS = [TEXT, "오늘 날씨가 정말 좋네요!", "값이 얼마예요?"]


@pytest.fixture(scope="module")
def legacy_voice(voice_dir: Path) -> CoquiVoice:
    return CoquiVoice(member_info(voice_dir, "1"))


@pytest.fixture(scope="module")
def modern_voice(voice_dir: Path) -> CoquiVoice:
    return CoquiVoice(member_info(voice_dir, "2"))


def copy_member(voice_dir: Path, member: str, dst: Path) -> Path:
    """Copy one member of the session fixture into `dst` (to edit it safely)."""
    for kind in ("glow-tts", "hifigan-v2"):
        shutil.copytree(voice_dir / kind / member, dst / kind / member)
    return dst


def edit_config(path: Path, **changes: Any) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


# --- independent reference of Coqui TTS 0.x grapheme tokenisation -----------------------------------
# Written from coqui-ai/TTS v0.1-v0.5 sources: TTS/tts/utils/text/symbols.py::make_symbols,
# TTS/tts/utils/text/__init__.py::text_to_sequence/_symbols_to_sequence/_should_keep_symbol/intersperse,
# TTS/tts/utils/text/cleaners.py::basic_cleaners (lowercase, then re.sub(r"\s+", " ")).


def ref_make_symbols(
    characters: str,
    phonemes: str | None = None,
    punctuations: str = "!'(),-.:;? ",
    pad: str = "_",
    eos: str = "~",
    bos: str = "^",
    unique: bool = True,
) -> tuple[list[str], None]:
    _symbols = list(characters)
    _symbols = [bos, *_symbols] if len(bos) > 0 and bos is not None else _symbols
    _symbols = [eos, *_symbols] if len(bos) > 0 and eos is not None else _symbols
    _symbols = [pad, *_symbols] if len(bos) > 0 and pad is not None else _symbols
    return _symbols, None


def ref_text_to_sequence(text: str, tp: dict[str, Any], add_blank: bool = False) -> list[int]:
    symbols, _ = ref_make_symbols(**tp)
    symbol_to_id = {s: i for i, s in enumerate(symbols)}
    clean = re.sub(r"\s+", " ", text.lower())
    sequence = [symbol_to_id[s] for s in clean if s in symbol_to_id and s not in ["~", "^", "_"]]
    if add_blank:
        result = [len(symbols)] * (len(sequence) * 2 + 1)
        result[1::2] = sequence
        sequence = result
    return sequence


LEGACY_TP_VARIANTS = [
    pytest.param({}, id="team-config"),
    pytest.param({"characters": vf.JAMO + "!?,. " + vf.JAMO_VOWELS[:3]}, id="duplicates"),
    pytest.param({"characters": " .,?!" + vf.JAMO[::-1], "pad": "P", "eos": "E", "bos": "B"}, id="odd-order"),
]


@pytest.mark.parametrize("override", LEGACY_TP_VARIANTS)
@pytest.mark.parametrize("add_blank", [False, True])
def test_legacy_ids_match_reference_0x(built_voices: Any, override: dict[str, Any], add_blank: bool) -> None:
    cfg = json.loads(Path(built_voices[0].glow_config).read_text(encoding="utf-8"))
    tp = {**cfg["characters"], **override}
    tok = ctok.legacy_tokenizer(tp, add_blank=add_blank, cleaner="basic_cleaners")
    symbols, _ = ref_make_symbols(**tp)
    assert list(tok.symbols) == symbols
    assert tok.num_chars == len(symbols) + add_blank
    for text in [*TEXTS, "밥  먹고_가~요^ ^^", "ㅋㅋ 한글 ABC 123"]:
        jamo_text = jamo.h2j(text)
        ours, _ = tok.encode(text)
        assert ours == ref_text_to_sequence(jamo_text, tp, add_blank), text


def test_legacy_table_is_not_what_coqui_028_builds(built_voices: Any) -> None:
    """The trap: coqui 0.28 sorts the characters and appends punctuation, shuffling every id."""
    from TTS.tts.utils.text.characters import BaseCharacters

    chars = json.loads(Path(built_voices[0].glow_config).read_text(encoding="utf-8"))["characters"]
    coqui = BaseCharacters(
        characters=chars["characters"],
        punctuations=chars["punctuations"],
        pad=chars["pad"],
        eos=chars["eos"],
        bos=chars["bos"],
        is_unique=False,
        is_sorted=True,
    )
    legacy = ctok.legacy_tokenizer(chars, add_blank=False)
    assert coqui.vocab != list(legacy.symbols)
    assert len(coqui.vocab) != legacy.num_chars  # punctuation counted twice: the embedding would not fit
    with pytest.raises(AssertionError, match="duplicate"):
        BaseCharacters(characters=chars["characters"], punctuations=chars["punctuations"], is_unique=True)


@pytest.mark.parametrize("add_blank", [False, True])
@pytest.mark.parametrize("eos_bos", [False, True])
def test_modern_ids_match_coqui_tokenizer(built_voices: Any, add_blank: bool, eos_bos: bool) -> None:
    from TTS.tts.configs.glow_tts_config import GlowTTSConfig
    from TTS.tts.utils.text.tokenizer import TTSTokenizer

    cfg = json.loads(Path(built_voices[1].glow_config).read_text(encoding="utf-8"))
    cfg.update(add_blank=add_blank, enable_eos_bos_chars=eos_bos)
    coqui_tok, _ = TTSTokenizer.init_from_config(GlowTTSConfig.new_from_dict(cfg))
    ours = ctok.modern_tokenizer(cfg)
    assert list(ours.symbols) == vf.modern_symbols(cfg) == coqui_tok.characters.vocab
    for text in TEXTS:
        assert ours.encode(text)[0] == coqui_tok.text_to_ids(jamo.h2j(text))


def test_jamo_text_stays_jamo_the_nfc_trap(modern_voice: CoquiVoice) -> None:
    from TTS.tts.utils.text.cleaners import basic_cleaners

    decomposed = jamo.h2j(TEXT)
    # coqui 0.28's basic_cleaners recompose the jamo into syllables, none of which the voice knows.
    assert basic_cleaners(decomposed) == unicodedata.normalize("NFC", TEXT)
    assert not any(
        ch in modern_voice.tokenizer.char_to_id for ch in basic_cleaners(decomposed) if ch.isalpha()
    )
    ids = modern_voice.tokenize(TEXT)
    spoken = "".join(modern_voice.tokenizer.symbols[i] for i in ids)
    assert spoken == decomposed
    assert all(0x1100 <= ord(c) <= 0x11FF for c in spoken if c.isalpha())


def test_text_forms() -> None:
    assert ctok.detect_text_form(list(vf.JAMO + " .")) == ctok.TEXT_JAMO
    assert ctok.detect_text_form(list(vf.COMPAT_JAMO)) == ctok.TEXT_COMPAT
    assert ctok.detect_text_form(list("가나다라 ")) == ctok.TEXT_SYLLABLE
    assert ctok.detect_text_form(list("abc")) == ctok.TEXT_OTHER
    assert ctok.to_text_form("값!", ctok.TEXT_JAMO) == "\u1100\u1161\u11b9!"
    assert ctok.to_text_form("값!", ctok.TEXT_COMPAT) == "ㄱㅏㅄ!"
    assert ctok.to_text_form(jamo.h2j("값"), ctok.TEXT_SYLLABLE) == "값"


# --- legacy and modern checkpoints of the same weights ---------------------------------------------


def test_legacy_and_modern_give_same_tokens(legacy_voice: CoquiVoice, modern_voice: CoquiVoice) -> None:
    """Same symbols in the same order, and each id selects the same embedding vector."""
    specials = {"_": "<PAD>", "~": "<EOS>", "^": "<BOS>"}
    for text in TEXTS:
        lid, mid = legacy_voice.tokenize(text), modern_voice.tokenize(text)
        assert [
            specials.get(legacy_voice.tokenizer.symbols[i], legacy_voice.tokenizer.symbols[i]) for i in lid
        ] == [modern_voice.tokenizer.symbols[i] for i in mid]
        assert lid != mid  # the tables really differ: 0.x has no blank slot
        lemb = legacy_voice.glow.encoder.emb.weight[lid]
        memb = modern_voice.glow.encoder.emb.weight[mid]
        assert torch.equal(lemb, memb)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("length_scale", [None, 1.3])
def test_legacy_and_modern_give_same_samples(
    legacy_voice: CoquiVoice, modern_voice: CoquiVoice, seed: int, length_scale: float | None
) -> None:
    for text in TEXTS[:2]:
        a = legacy_voice.synthesize(text, seed=seed, length_scale=length_scale)
        b = modern_voice.synthesize(text, seed=seed, length_scale=length_scale)
        assert a.sample_rate == b.sample_rate == 22050
        assert len(a.samples) > 22050 // 2
        assert np.array_equal(a.samples, b.samples)


def test_legacy_voice_uses_0x_durations(
    legacy_voice: CoquiVoice, modern_voice: CoquiVoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = cnet.glow_infer

    def spy(*args: Any, **kwargs: Any) -> torch.Tensor:
        seen.append(kwargs["zero_length_tokens"])
        return real(*args, **kwargs)

    monkeypatch.setattr(cv, "glow_infer", spy)
    legacy_voice.synthesize(TEXT, seed=0)
    modern_voice.synthesize(TEXT, seed=0)
    assert seen == [True, False]


@pytest.mark.slow
def test_add_blank_and_split_vocoder_layout(tmp_path: Path) -> None:
    """Blank-token voices and pre-0.0.15 vocoder checkpoints (`model` + `model_disc`) match too."""
    spec = vf.VoiceSpec(add_blank=True, seed=5)
    legacy = vf.write_voice(tmp_path, replace(spec, member="1", format="legacy", vocoder_layout="split"))
    vf.write_voice(tmp_path, replace(spec, member="2", format="modern"), source=legacy)
    raw = ck.load_checkpoint(legacy.vocoder_checkpoint)
    assert "model_disc" in raw and not any(k.startswith("model_g.") for k in raw["model"])
    a, b = (CoquiVoice(member_info(tmp_path, m)) for m in "12")
    assert a.tokenizer.blank_id == len(a.tokenizer.symbols)  # 0.x: blank is the id after the table
    ids = a.tokenize(TEXT)
    assert ids[0::2] == [a.tokenizer.blank_id] * (len(ids) // 2 + 1)
    assert np.array_equal(a.synthesize(TEXT, seed=2).samples, b.synthesize(TEXT, seed=2).samples)


def _coqui_synthesizer(info: vbase.VoiceInfo) -> Any:
    """coqui's own Synthesizer for the voice; the vocoder generator is attached directly because
    `GAN.load_checkpoint` insists on a full-size discriminator in the checkpoint."""
    from TTS.config import load_config
    from TTS.utils.audio import AudioProcessor
    from TTS.utils.synthesizer import Synthesizer
    from TTS.vocoder.models import setup_generator

    assert info.checkpoint and info.config and info.vocoder_config and info.vocoder_checkpoint
    synth = Synthesizer(tts_checkpoint=str(info.checkpoint), tts_config_path=str(info.config))
    synth.vocoder_config = load_config(str(info.vocoder_config))
    synth.vocoder_ap = AudioProcessor(synth.vocoder_config.audio)
    gen = setup_generator(synth.vocoder_config)
    gen.load_state_dict(
        ck.generator_state_dict(ck.load_checkpoint(info.vocoder_checkpoint), info.vocoder_checkpoint)
    )
    gen.eval()
    gen.remove_weight_norm()
    synth.vocoder_model = gen
    synth.output_sample_rate = synth.vocoder_config.audio["sample_rate"]
    return synth


@pytest.mark.slow
@pytest.mark.parametrize("vocoder_rate", [None, 16000], ids=["same-rate", "interpolated"])
def test_modern_voice_equals_coqui_synthesizer(tmp_path: Path, vocoder_rate: int | None) -> None:
    """End to end against coqui 0.28's Synthesizer (then save_wav's peak scaling)."""
    from TTS.utils import synthesizer as coqui_synth

    spec = vf.VoiceSpec(member="5", format="modern", vocoder_sample_rate=vocoder_rate, seed=3)
    vf.write_voice(tmp_path, spec)
    info = member_info(tmp_path, "5")
    synth = _coqui_synthesizer(info)
    # Coqui's arithmetic exactly; the default's one-thread padding is held to 5e-6 of this path in
    # test_perf_equivalence.py, and is this very path on more threads.
    ours = CoquiVoice(info, fast_convolutions=False)
    for seed, text in [(11, TEXT), (12, TEXTS[1])]:
        torch.manual_seed(seed)
        wav = np.asarray(synth.tts(jamo.h2j(text), split_sentences=False), dtype=np.float32)
        wav = wav[: len(wav) - coqui_synth.PAD_SILENCE_SAMPLES]
        expected = wav / max(0.01, float(np.abs(wav).max()))
        got = ours.synthesize(text, seed=seed)
        assert got.sample_rate == (vocoder_rate or 22050)
        assert len(got.samples) == len(expected)
        np.testing.assert_allclose(got.samples, expected, atol=1e-6)


# --- behaviour ------------------------------------------------------------------------------------


def test_seed_reproduces_regardless_of_call_order(modern_voice: CoquiVoice) -> None:
    first = modern_voice.synthesize(TEXT, seed=1).samples
    other = modern_voice.synthesize(TEXT, seed=2).samples
    torch.manual_seed(999)
    torch.randn(100)
    again = modern_voice.synthesize(TEXT, seed=1).samples
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    unseeded = [modern_voice.synthesize(TEXT).samples for _ in range(2)]
    assert not np.array_equal(unseeded[0], unseeded[1])


def test_global_rng_is_not_consumed(modern_voice: CoquiVoice) -> None:
    torch.manual_seed(5)
    expected = torch.randn(8)
    torch.manual_seed(5)
    modern_voice.synthesize(TEXT, seed=3)
    modern_voice.synthesize(TEXT)
    assert torch.equal(torch.randn(8), expected)


def test_inference_noise_scale_from_config_is_respected(voice_dir: Path, tmp_path: Path) -> None:
    copy_member(voice_dir, "2", tmp_path)
    edit_config(tmp_path / "glow-tts" / "2" / "2g_config.json", inference_noise_scale=0.0)
    quiet = CoquiVoice(member_info(tmp_path, "2"))
    assert quiet.noise_scale == 0.0
    assert np.array_equal(quiet.synthesize(TEXT, seed=1).samples, quiet.synthesize(TEXT, seed=2).samples)


def test_length_scale_changes_duration(modern_voice: CoquiVoice) -> None:
    assert modern_voice.length_scale == 1.0  # from the config
    normal = modern_voice.synthesize(TEXT, seed=4)
    slow = modern_voice.synthesize(TEXT, seed=4, length_scale=2.0)
    fast = modern_voice.synthesize(TEXT, seed=4, length_scale=0.5)
    assert fast.duration < normal.duration < slow.duration
    assert slow.duration == pytest.approx(2 * normal.duration, rel=0.15)
    assert np.array_equal(modern_voice.synthesize(TEXT, seed=4, length_scale=1.0).samples, normal.samples)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_length_scale_is_refused(modern_voice: CoquiVoice, bad: float) -> None:
    with pytest.raises(InvalidInputError):
        modern_voice.synthesize(TEXT, length_scale=bad)


def test_output_is_peak_normalised_like_coqui_save_wav(modern_voice: CoquiVoice) -> None:
    audio = modern_voice.synthesize(TEXT, seed=0)
    assert audio.samples.dtype == np.float32
    assert float(np.abs(audio.samples).max()) == pytest.approx(1.0, abs=1e-6)
    quiet = np.full(10, 0.001, dtype=np.float32)
    assert np.allclose(cdsp.peak_normalize(quiet), 0.1)  # never boosted more than 100x, as save_wav


def test_unspeakable_characters_are_dropped_with_one_warning(
    modern_voice: CoquiVoice, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="forv_tts.voices.coqui.voice"):
        ids = modern_voice.tokenize("안녕 ☃ abc ㅋ")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "\n" not in message
    for ch in ("☃", "a", "b", "c", "ㅋ"):
        assert repr(ch) in message
    # Only the unknown characters go; the spaces around them stay, as in coqui's tokenizer.
    assert "".join(modern_voice.tokenizer.symbols[i] for i in ids) == jamo.h2j("안녕") + "   "
    clean = modern_voice.synthesize("안녕", seed=1)
    assert len(clean.samples) > 0


@pytest.mark.parametrize("text", ["", "   ", "☃☃", "...!?", "~^_"])
def test_nothing_speakable_raises(legacy_voice: CoquiVoice, modern_voice: CoquiVoice, text: str) -> None:
    for voice in (legacy_voice, modern_voice):
        with pytest.raises(NothingToSayError):
            voice.synthesize(text, seed=0)


def test_weight_norm_removal_keeps_output(voice_dir: Path, legacy_voice: CoquiVoice) -> None:
    with_wn = CoquiVoice(member_info(voice_dir, "1"), remove_weight_norm=False)
    assert any("parametrizations" in k for k in with_wn.vocoder.state_dict())
    assert not any("parametrizations" in k for k in legacy_voice.vocoder.state_dict())
    for seed in (0, 1):
        a = with_wn.synthesize(TEXT, seed=seed).samples
        b = legacy_voice.synthesize(TEXT, seed=seed).samples
        assert len(a) == len(b)
        np.testing.assert_allclose(a, b, atol=1e-4)


def _live_tensor_numel() -> int:
    gc.collect()
    total = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # isinstance() on some deprecated torch objects warns
        for obj in gc.get_objects():
            try:
                if isinstance(obj, torch.Tensor):
                    total += obj.numel()
            except ReferenceError:
                continue
    return total


def test_discriminator_is_not_kept(tmp_path: Path) -> None:
    spec = vf.VoiceSpec(member="9", format="legacy", discriminator_width=48, optimizer_state=False)
    built = vf.write_voice(tmp_path, spec)
    expected = sum(t.numel() for t in built.glow.state_dict().values()) + sum(
        t.numel() for t in built.vocoder.state_dict().values()
    )
    disc = built.discriminator_numel
    del built
    assert disc > 2 * expected  # the discriminator outweighs the whole voice
    before = _live_tensor_numel()
    voice = CoquiVoice(member_info(tmp_path, "9"))
    held = _live_tensor_numel() - before
    names = [n for n, _ in voice.vocoder.named_modules()]
    assert not any(n.startswith(("mpd", "msd", "model_d")) for n in names)
    assert type(voice.vocoder).__name__ == "HifiganGenerator"
    # Everything alive after loading is the voice itself (plus the cached 1x1-conv inverses).
    assert voice.parameter_count() <= held < voice.parameter_count() + disc // 10


def test_only_the_requested_member_is_loaded_once(voice_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Every route to weights (checkpoint or weight cache) goes through weight_cache.load_state.
    requested: list[Path] = []
    real = weight_cache.load_state

    def spy(path: Path, kind: str, extract: Any) -> weight_cache.Loaded:
        requested.append(Path(path))
        return real(path, kind, extract)

    monkeypatch.setattr(weight_cache, "load_state", spy)
    registry.load_voice.cache_clear()
    try:
        info = models.find_voice("2", voice_dir)
        first = registry.load_voice(info, "torch")
        second = registry.load_voice(models.find_voice("2", voice_dir), "torch")
    finally:
        registry.load_voice.cache_clear()
    assert first is second
    assert sorted(p.name for p in requested) == ["2g_checkpoint_10000.pth.tar", "2h_checkpoint_10000.pth.tar"]


@pytest.mark.parametrize("charset", ["syllable", "compat"])
def test_other_charsets(tmp_path: Path, charset: vf.Charset) -> None:
    vf.write_voice(tmp_path, vf.VoiceSpec(member="3", format="legacy", charset=charset))
    voice = CoquiVoice(member_info(tmp_path, "3"))
    expected_form = ctok.TEXT_SYLLABLE if charset == "syllable" else ctok.TEXT_COMPAT
    assert voice.tokenizer.text_form == expected_form
    spoken = "".join(voice.tokenizer.symbols[i] for i in voice.tokenize(TEXT))
    assert spoken == (TEXT if charset == "syllable" else jamo.j2hcj(jamo.h2j(TEXT)))
    assert voice.synthesize(TEXT, seed=0).duration > 0.5


def test_legacy_durations_allow_zero_frames(
    modern_voice: CoquiVoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0.x gave a token whose predicted duration is <= 0 no frames; coqui 0.28 gives it one."""
    glow = modern_voice.glow
    real_encoder = glow.encoder.forward
    frames = torch.tensor([5.0, -0.5, 5.0, -0.5, 5.0, 5.0])  # w = exp(log_dur) - 1

    def encoder(x: torch.Tensor, x_lengths: torch.Tensor, g: Any = None) -> Any:
        o_mean, o_log_scale, _, x_mask = real_encoder(x, x_lengths, g=g)
        return o_mean, o_log_scale, torch.log1p(frames).view(1, 1, -1), x_mask

    monkeypatch.setattr(glow.encoder, "forward", encoder)
    ids = modern_voice.tokenize("가나다")
    assert len(ids) == len(frames)
    kwargs: dict[str, Any] = {"noise_scale": 0.0, "length_scale": 1.0, "generator": torch.Generator()}
    with torch.inference_mode():
        legacy = cnet.glow_infer(glow, ids, zero_length_tokens=True, **kwargs)
        modern = cnet.glow_infer(glow, ids, zero_length_tokens=False, **kwargs)
    assert (legacy.shape[-1], modern.shape[-1]) == (20, 22)


def test_our_inference_equals_coqui_glowtts_inference(modern_voice: CoquiVoice) -> None:
    ids = modern_voice.tokenize(TEXT)
    glow = modern_voice.glow
    torch.manual_seed(21)
    ref = glow.inference(
        torch.tensor([ids]),
        aux_input={"x_lengths": torch.tensor([len(ids)]), "d_vectors": None, "speaker_ids": None},
    )["model_outputs"].transpose(1, 2)
    with torch.inference_mode():
        ours = cnet.glow_infer(
            glow,
            ids,
            noise_scale=glow.inference_noise_scale,
            length_scale=glow.length_scale,
            generator=torch.Generator().manual_seed(21),
            zero_length_tokens=False,
        )
    assert glow.inference_noise_scale > 0
    assert torch.equal(ref, ours)


# --- audio processing equals coqui's AudioProcessor ---------------------------------------------------

AUDIO_VARIANTS = [
    pytest.param({}, id="defaults"),
    pytest.param({"symmetric_norm": False}, id="asymmetric"),
    pytest.param({"clip_norm": False, "max_norm": 1.0}, id="no-clip"),
    pytest.param({"signal_norm": False}, id="no-norm"),
    pytest.param({"min_level_db": -80, "ref_level_db": 15, "max_norm": 3}, id="levels"),
    pytest.param({"log_func": "np.log", "trim_db": 60, "spec_gain": 1}, id="natural-log"),
]


@pytest.mark.parametrize("overrides", AUDIO_VARIANTS)
def test_audio_settings_equal_audio_processor(overrides: dict[str, Any]) -> None:
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.utils.audio import AudioProcessor

    cfg = BaseAudioConfig(**overrides)
    ap = AudioProcessor(cfg)
    ours = AudioSettings.from_config({"audio": cfg.to_dict()})
    rng = np.random.default_rng(0)
    db = rng.uniform(-120, 30, size=(80, 50)).astype(np.float32)
    norm = rng.uniform(-5, 5, size=(80, 50)).astype(np.float32)
    np.testing.assert_array_equal(ours.normalize(db), ap.normalize(db))
    np.testing.assert_array_equal(ours.denormalize(norm), ap.denormalize(norm))
    speech = rng.uniform(-0.5, 0.5, size=22050 * 3).astype(np.float32)
    tail = np.concatenate([speech, np.zeros(22050 * 2, dtype=np.float32)])
    for wav in (speech, tail, tail * 1e-3):
        assert ours.find_endpoint(wav) == ap.find_endpoint(wav)
    assert ours.find_endpoint(tail) < len(tail)


def test_interpolation_equals_coqui() -> None:
    from TTS.vocoder.utils.generic_utils import interpolate_vocoder_input

    mel = np.random.default_rng(1).standard_normal((80, 37)).astype(np.float32)
    for scale in (16000 / 22050, 24000 / 22050, 2.0):
        ref = interpolate_vocoder_input([1, scale], mel)
        assert torch.equal(cdsp.interpolate_mel(torch.from_numpy(mel), scale), ref)


# --- failures -----------------------------------------------------------------------------------


def test_corrupt_checkpoint_names_the_file(voice_dir: Path, tmp_path: Path) -> None:
    copy_member(voice_dir, "2", tmp_path)
    ckpt = tmp_path / "hifigan-v2" / "2" / "2h_checkpoint_10000.pth.tar"
    ckpt.write_bytes(ckpt.read_bytes()[:5000])
    info = member_info(tmp_path, "2")
    assert info.usable  # discovery does not notice: it never reads weights
    with pytest.raises(VoiceLoadError, match=re.escape(str(ckpt))):
        CoquiVoice(info)


def test_checkpoint_not_matching_config(voice_dir: Path, tmp_path: Path) -> None:
    copy_member(voice_dir, "1", tmp_path)
    cfg_path = tmp_path / "glow-tts" / "1" / "1g_config.json"
    data = json.loads(cfg_path.read_text(encoding="utf-8"))
    data["characters"]["characters"] += "XYZ"  # three more symbols than the embedding has rows
    cfg_path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(VoiceLoadError, match="does not match its config"):
        CoquiVoice(member_info(tmp_path, "1"))


def test_phoneme_models_are_refused(voice_dir: Path, tmp_path: Path) -> None:
    copy_member(voice_dir, "2", tmp_path)
    edit_config(tmp_path / "glow-tts" / "2" / "2g_config.json", use_phonemes=True)
    with pytest.raises(VoiceLoadError, match="phoneme"):
        CoquiVoice(member_info(tmp_path, "2"))


def test_incomplete_descriptor_is_refused(voice_dir: Path) -> None:
    info = replace(member_info(voice_dir, "2"), missing=("hifigan-v2/2/2h_config.json",))
    with pytest.raises(VoiceLoadError, match=r"2h_config\.json"):
        CoquiVoice(info)


# --- importing coqui without torchaudio ----------------------------------------------------------


def _run(code: str, *extra_path: Path) -> subprocess.CompletedProcess[str]:
    prelude = f"import sys; sys.path[:0] = {[str(p) for p in extra_path]!r}\n"
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        timeout=300,
        check=False,
    )


def test_coqui_imports_with_placeholders() -> None:
    proc = _run(
        """
        import importlib.util
        assert importlib.util.find_spec("torchaudio") is None  # really absent here
        from forv_tts.voices.coqui.compat import ensure_coqui_importable, is_placeholder
        assert ensure_coqui_importable() == ("torchaudio", "torchcodec")
        assert ensure_coqui_importable() == ("torchaudio", "torchcodec")  # idempotent
        import TTS.tts.models.glow_tts, TTS.vocoder.models.hifigan_generator
        import torchaudio, torchaudio.functional
        assert is_placeholder(torchaudio) and is_placeholder(torchaudio.functional)
        assert not hasattr(torchaudio, "__wrapped__")
        try:
            torchaudio.load("x.wav")
        except ImportError as exc:
            assert "torchaudio is not installed" in str(exc), exc
        else:
            raise SystemExit("placeholder attribute access did not raise")
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("ok")


def test_coqui_needs_the_placeholders() -> None:
    """Premise of the above: without them coqui-tts 0.28 refuses to import here."""
    proc = _run("import TTS")
    assert proc.returncode != 0 and "Torchaudio" in proc.stderr


def test_real_package_wins_over_placeholder(tmp_path: Path) -> None:
    fake = tmp_path / "site"
    (fake / "torchaudio").mkdir(parents=True)
    (fake / "torchaudio" / "__init__.py").write_text("REAL = True\n")
    proc = _run(
        """
        from forv_tts.voices.coqui.compat import ensure_coqui_importable, is_placeholder
        assert ensure_coqui_importable() == ("torchcodec",)
        import torchaudio
        assert torchaudio.REAL and not is_placeholder(torchaudio)
        print("ok")
        """,
        fake,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]

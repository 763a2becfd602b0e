"""Build real Glow-TTS + HiFi-GAN v2 member voices, with random weights, in the team's layout.

    python tests/voicefactory.py OUTDIR [--member 1 --format legacy --charset jamo --step 10000 ...]

The networks are coqui-tts 0.28's own classes built from configs, so the files load like the team's
checkpoints do; only the weights are random. Sizes are parameters (`GlowSize`, `VocoderSize`): the
defaults make files of a few hundred KB for tests, `GlowSize.real()` / `VocoderSize.real()` give the
production sizes (Glow-TTS ~28.6 M parameters, HiFi-GAN v2 generator ~0.93 M) for benchmarks.

Two on-disk formats hold the *same* network:

* "modern": what coqui-tts 0.28 + coqui-tts-trainer 0.4 write (`trainer/io.py::save_model`): the
  config's `CharactersConfig` (characters_class, is_unique, is_sorted, blank), parametrized weight
  norm keys (`parametrizations.weight.original0/1`).
* "legacy": what Coqui TTS 0.1-0.5 wrote. Copied from coqui-ai/TTS `TTS/utils/io.py::save_model`
  (keys config/model/optimizer/scaler/step/epoch/date plus `model_loss` from `save_best_model`) and
  `TTS/tts/utils/text/symbols.py::make_symbols` (symbols `[pad, eos, bos] + list(characters)`, not
  sorted, punctuation not appended, so the team put punctuation inside `characters`). It is derived
  from the modern network by permuting the embedding rows into the 0.x symbol order, renaming weight
  norm keys to `weight_g` / `weight_v` (`torch.nn.utils.weight_norm`), adding Adam optimizer state
  and numpy scalars, and, for the vocoder, the GAN discriminator as `model_d.*` next to the generator's
  `model_g.*` (GAN-class checkpoints, `TTS/vocoder/models/gan.py`) or as a separate `model_disc`
  entry (pre-0.0.15 layout).

The discriminator is a tiny stand-in with the real key names by default; `discriminator="full"` writes
coqui's real ~70 M-parameter `HifiganDiscriminator` (what real training checkpoints carry).

The duration predictor's output bias is set so each token lasts about `frames_per_token` frames and
the vocoder's output layer is scaled to a normal speech level, so clips have sensible lengths and are
not removed by coqui's trailing-silence trimming.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from forv_tts.voices.coqui.compat import ensure_coqui_importable  # noqa: E402

Format = Literal["modern", "legacy"]
#: Which Coqui TTS 0.x release a legacy config imitates, in the fields that tell releases apart
#: (coqui-ai/TTS sources, see forv_tts/voices/duration_rule.py): "0.5.0" writes audio.db_level,
#: audio.do_rms_norm and datasets[].language/ignored_speakers; "0.4.2" writes datasets[].ununsed_speakers
#: instead; "0.3.1" also puts use_speaker_embedding/use_d_vector_file/d_vector_dim before
#: encoder_params (they were BaseTTSConfig fields until v0.4.0); "none" writes none of these clues.
LegacyRelease = Literal["0.3.1", "0.4.2", "0.5.0", "none"]
#: `VoiceSpec.date` default: the format's usual date (legacy "June 21, 2021", modern "March 02, 2026").
FORMAT_DATE = "<format default>"
Charset = Literal["jamo", "syllable", "compat"]
Discriminator = Literal["none", "tiny", "full"]
VocoderLayout = Literal["gan", "split"]

# Conjoining jamo, in the order Korean recipes list them: 19 leads, 21 vowels, 27 tails.
JAMO_LEADS = "".join(chr(c) for c in range(0x1100, 0x1113))
JAMO_VOWELS = "".join(chr(c) for c in range(0x1161, 0x1176))
JAMO_TAILS = "".join(chr(c) for c in range(0x11A8, 0x11C3))
JAMO = JAMO_LEADS + JAMO_VOWELS + JAMO_TAILS
COMPAT_JAMO = "".join(chr(c) for c in range(0x3131, 0x3164))


def _ksx1001_syllables() -> str:
    """The 2,350 Hangul syllables of KS X 1001 (EUC-KR), the usual syllable inventory."""
    out = []
    for cp in range(0xAC00, 0xD7A4):
        try:
            chr(cp).encode("euc_kr")
        except UnicodeEncodeError:
            continue
        out.append(chr(cp))
    return "".join(out)


CHARSETS: dict[str, str] = {"jamo": JAMO, "compat": COMPAT_JAMO}
# Coqui's default punctuation string (space included), used by both generations of config.
PUNCTUATIONS = "!'(),-.:;? "


def charset_chars(charset: Charset) -> str:
    """The Hangul characters of a charset (syllables are computed on first use)."""
    if charset == "syllable":
        if "syllable" not in CHARSETS:
            CHARSETS["syllable"] = _ksx1001_syllables()
        return CHARSETS["syllable"]
    return CHARSETS[charset]


@dataclass(frozen=True)
class GlowSize:
    """Glow-TTS architecture knobs (coqui GlowTTSConfig field names)."""

    hidden_channels_enc: int = 16
    hidden_channels_dec: int = 16
    hidden_channels_dp: int = 16
    num_flow_blocks_dec: int = 2
    num_block_layers: int = 2
    encoder_layers: int = 1
    encoder_heads: int = 2
    encoder_ffn: int = 32

    @classmethod
    def real(cls) -> GlowSize:
        """coqui's GlowTTSConfig defaults (~28.6 M parameters with a jamo vocabulary)."""
        return cls(192, 192, 256, 12, 4, 6, 2, 768)


@dataclass(frozen=True)
class VocoderSize:
    """HiFi-GAN v2 generator knobs (v2 = upsample_initial_channel 128, resblock type 1)."""

    upsample_initial_channel: int = 16
    upsample_factors: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))

    @classmethod
    def real(cls) -> VocoderSize:
        """HiFi-GAN v2 as published (~0.93 M generator parameters)."""
        return cls(upsample_initial_channel=128)


@dataclass(frozen=True)
class VoiceSpec:
    """One member voice to write."""

    member: str = "1"
    format: Format = "modern"
    charset: Charset = "jamo"
    step: int = 10000
    vocoder_step: int = 10000
    seed: int = 0
    glow: GlowSize = field(default_factory=GlowSize)
    vocoder: VocoderSize = field(default_factory=VocoderSize)
    sample_rate: int = 22050
    vocoder_sample_rate: int | None = None  # None: same as the acoustic model
    num_mels: int = 80
    add_blank: bool = False
    inference_noise_scale: float = 0.33
    frames_per_token: float = 5.0
    discriminator: Discriminator = "tiny"
    discriminator_width: int = 4  # channels of the tiny stand-in (raise it to make it heavy)
    vocoder_layout: VocoderLayout = "gan"
    optimizer_state: bool = True
    do_trim_silence: bool = True
    legacy_release: LegacyRelease = "0.5.0"
    date: str | None = FORMAT_DATE  # the checkpoints' `date` ("%B %d, %Y"); None: no date key at all
    duration_spread: float = 0.05  # scale of the duration predictor's random weights (variation per token)


def audio_config(sample_rate: int, num_mels: int, *, do_trim_silence: bool = True) -> dict[str, Any]:
    """A Coqui `audio` section (BaseAudioConfig values a 22 kHz Korean recipe would use)."""
    ensure_coqui_importable()
    from TTS.config.shared_configs import BaseAudioConfig

    audio = BaseAudioConfig(
        sample_rate=sample_rate,
        num_mels=num_mels,
        mel_fmin=0.0,
        mel_fmax=8000.0,
        do_trim_silence=do_trim_silence,
    ).to_dict()
    return audio


def modern_glow_config(spec: VoiceSpec) -> dict[str, Any]:
    """coqui-tts 0.28 GlowTTSConfig.to_dict() for the voice."""
    ensure_coqui_importable()
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.tts.configs.glow_tts_config import GlowTTSConfig
    from TTS.tts.configs.shared_configs import CharactersConfig

    g = spec.glow
    cfg = GlowTTSConfig(
        run_name=f"member{spec.member}",
        audio=BaseAudioConfig(
            **audio_config(spec.sample_rate, spec.num_mels, do_trim_silence=spec.do_trim_silence)
        ),
        text_cleaner=None,  # coqui 0.28's basic_cleaners NFC-compose jamo; a jamo team could not use them
        use_phonemes=False,
        add_blank=spec.add_blank,
        characters=CharactersConfig(
            characters_class="TTS.tts.utils.text.characters.Graphemes",
            pad="<PAD>",
            eos="<EOS>",
            bos="<BOS>",
            blank="<BLNK>",
            characters=charset_chars(spec.charset),
            punctuations=PUNCTUATIONS,
            is_unique=True,
            is_sorted=True,
        ),
        hidden_channels_enc=g.hidden_channels_enc,
        hidden_channels_dec=g.hidden_channels_dec,
        hidden_channels_dp=g.hidden_channels_dp,
        num_flow_blocks_dec=g.num_flow_blocks_dec,
        num_block_layers=g.num_block_layers,
        out_channels=spec.num_mels,
        encoder_params={
            "kernel_size": 3,
            "dropout_p": 0.1,
            "num_layers": g.encoder_layers,
            "num_heads": g.encoder_heads,
            "hidden_channels_ffn": g.encoder_ffn,
            "input_length": None,
        },
        inference_noise_scale=spec.inference_noise_scale,
        languages=["ko"],
    )
    out: dict[str, Any] = cfg.to_dict()
    return out


def legacy_glow_config(spec: VoiceSpec) -> dict[str, Any]:
    """The same voice as a Coqui TTS 0.x config: 0.x CharactersConfig (pad/eos/bos/characters/
    punctuations/phonemes/unique) with punctuation inside `characters`, 0.x-only keys, no 0.28 keys."""
    cfg = modern_glow_config(spec)
    for key in ("characters", "languages", "model_args", "phonemizer", "_supports_cloning"):
        cfg.pop(key, None)
    cfg["characters"] = {
        "pad": "_",
        "eos": "~",
        "bos": "^",
        "characters": charset_chars(spec.charset) + PUNCTUATIONS,
        "punctuations": PUNCTUATIONS,
        "phonemes": None,
        "unique": True,
    }
    cfg["text_cleaner"] = "basic_cleaners"
    cfg["use_espeak_phonemes"] = False
    cfg["num_speakers"] = 0
    cfg["num_chars"] = 3 + len(cfg["characters"]["characters"]) + int(spec.add_blank)
    return _as_release(cfg, spec.legacy_release)


def _as_release(cfg: dict[str, Any], release: LegacyRelease) -> dict[str, Any]:
    """Give a legacy config the release clues of `release` (see `LegacyRelease`)."""
    dataset: dict[str, Any] = {"name": "kss", "path": "/data/member", "meta_file_train": "metadata.csv"}
    if release == "0.5.0":
        dataset.update(ignored_speakers=None, language="")
    else:
        for key in ("db_level", "do_rms_norm"):
            cfg["audio"].pop(key, None)
        cfg.pop("use_language_weighted_sampler", None)
        if release != "none":
            dataset["ununsed_speakers"] = None
    dataset.update(meta_file_val="", meta_file_attn_mask="")
    cfg["datasets"] = [dataset]
    if release == "0.3.1":
        moved = ("use_speaker_embedding", "use_d_vector_file", "d_vector_dim")
        values = {k: cfg.pop(k) for k in moved if k in cfg}
        out: dict[str, Any] = {}
        for key, value in cfg.items():
            out[key] = value
            if key == "test_sentences":  # the end of BaseTTSConfig's fields in 0.3.1
                out.update(values)
        return out
    return cfg


def legacy_symbols(characters: dict[str, Any]) -> list[str]:
    """0.x `make_symbols` for graphemes: `[pad, eos, bos] + list(characters)`."""
    return [characters["pad"], characters["eos"], characters["bos"], *characters["characters"]]


def modern_symbols(config: dict[str, Any]) -> list[str]:
    """coqui-tts 0.28's vocabulary for a config, computed by coqui's own `Graphemes` class."""
    ensure_coqui_importable()
    from TTS.tts.utils.text.characters import Graphemes

    c = config["characters"]
    graphemes = Graphemes(
        characters=c["characters"],
        punctuations=c["punctuations"],
        pad=c["pad"],
        eos=c["eos"],
        bos=c["bos"],
        blank=c["blank"],
        is_unique=c["is_unique"],
        is_sorted=c["is_sorted"],
    )
    return list(graphemes.vocab)


def vocoder_config(spec: VoiceSpec) -> dict[str, Any]:
    """coqui HifiganConfig.to_dict() for a HiFi-GAN v2 generator of the given size."""
    ensure_coqui_importable()
    from TTS.config.shared_configs import BaseAudioConfig
    from TTS.vocoder.configs.hifigan_config import HifiganConfig

    v = spec.vocoder
    rate = spec.vocoder_sample_rate or spec.sample_rate
    cfg = HifiganConfig(
        run_name=f"member{spec.member}-hifigan-v2",
        audio=BaseAudioConfig(**audio_config(rate, spec.num_mels, do_trim_silence=spec.do_trim_silence)),
        generator_model_params={
            "upsample_factors": list(v.upsample_factors),
            "upsample_kernel_sizes": list(v.upsample_kernel_sizes),
            "upsample_initial_channel": v.upsample_initial_channel,
            "resblock_kernel_sizes": list(v.resblock_kernel_sizes),
            "resblock_dilation_sizes": [list(d) for d in v.resblock_dilation_sizes],
            "resblock_type": "1",
        },
    )
    out: dict[str, Any] = cfg.to_dict()
    return out


def build_glow_model(config: dict[str, Any], num_chars: int, spec: VoiceSpec) -> torch.nn.Module:
    """A coqui GlowTTS with random weights and ~`frames_per_token` frames per token."""
    from forv_tts.voices.coqui.networks import build_glow

    torch.manual_seed(spec.seed)
    model = build_glow(config, num_chars)
    with torch.no_grad():
        proj = model.encoder.duration_predictor.proj
        proj.weight.mul_(spec.duration_spread)
        # w = exp(log_dur) - 1 frames per token.
        proj.bias.fill_(math.log(1.0 + spec.frames_per_token))
    return model


def build_vocoder_model(config: dict[str, Any], spec: VoiceSpec) -> torch.nn.Module:
    """A coqui HifiganGenerator with random weights and a speech-like output level."""
    from forv_tts.voices.coqui.networks import build_hifigan

    torch.manual_seed(spec.seed + 1)
    model = build_hifigan(config)
    with torch.no_grad():
        # HiFi-GAN initialises convs with N(0, 0.01): raise the output layer's gain (weight norm g)
        # so tanh's output sits around speech level instead of near-silence.
        g = model.conv_post.parametrizations.weight.original0
        g.mul_(40.0)
    return model


def to_legacy_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Parametrized weight norm keys → `torch.nn.utils.weight_norm` keys (`weight_g`, `weight_v`)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(".parametrizations.weight.original0"):
            out[key[: -len(".parametrizations.weight.original0")] + ".weight_g"] = value
        elif key.endswith(".parametrizations.weight.original1"):
            out[key[: -len(".parametrizations.weight.original1")] + ".weight_v"] = value
        else:
            out[key] = value
    return out


def permute_embedding(
    state: dict[str, torch.Tensor], modern: list[str], legacy: list[str], *, add_blank: bool
) -> dict[str, torch.Tensor]:
    """Reorder `encoder.emb.weight` rows from the modern vocabulary into the legacy symbol order.

    Legacy ids: `[pad, eos, bos] + characters`; the legacy blank (when add_blank) is id len(symbols).
    Specials map to the modern specials; a duplicated character keeps the row of the id 0.x used
    (its last occurrence), every earlier copy gets the same row.
    """
    emb = state["encoder.emb.weight"]
    index = {s: i for i, s in enumerate(modern)}
    special = {legacy[0]: "<PAD>", legacy[1]: "<EOS>", legacy[2]: "<BOS>"}
    rows = []
    for pos, sym in enumerate(legacy):
        name = special.get(sym, sym) if pos < 3 else sym
        rows.append(emb[index[name]])
    if add_blank:
        rows.append(emb[index["<BLNK>"]])
    out = dict(state)
    out["encoder.emb.weight"] = torch.stack(rows).clone()
    return out


def adam_state(params: list[torch.Tensor]) -> dict[str, Any]:
    """A real `torch.optim.Adam` state dict (one zero-gradient step) over copies of `params`."""
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    opt = torch.optim.Adam(leaves, lr=1e-3, betas=(0.9, 0.998), weight_decay=1e-6)
    for p in leaves:
        p.grad = torch.zeros_like(p)
    opt.step()
    state: dict[str, Any] = opt.state_dict()
    return state


def tiny_discriminator(seed: int, width: int = 4) -> dict[str, torch.Tensor]:
    """A small stand-in with the key names of coqui's HifiganDiscriminator (MPD + MSD)."""
    gen = torch.Generator().manual_seed(seed)

    def t(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen) * 0.02

    sd: dict[str, torch.Tensor] = {}
    for p in range(5):
        for c in [*(f"convs.{i}" for i in range(5)), "conv_post"]:
            base = f"mpd.discriminators.{p}.{c}"
            sd[f"{base}.bias"] = t(width)
            sd[f"{base}.parametrizations.weight.original0"] = t(width, 1, 1, 1)
            sd[f"{base}.parametrizations.weight.original1"] = t(width, width, 5, 1)
    for d in range(3):
        for c in [*(f"convs.{i}" for i in range(7)), "conv_post"]:
            base = f"msd.discriminators.{d}.{c}"
            sd[f"{base}.bias"] = t(width)
            if d == 0:  # the first scale discriminator uses spectral norm
                sd[f"{base}.weight_orig"] = t(width, width, 5)
                sd[f"{base}.weight_u"] = t(width)
                sd[f"{base}.weight_v"] = t(width * 5)
            else:
                sd[f"{base}.parametrizations.weight.original0"] = t(width, 1, 1)
                sd[f"{base}.parametrizations.weight.original1"] = t(width, width, 5)
    return sd


def discriminator_state(kind: Discriminator, seed: int, width: int = 4) -> dict[str, torch.Tensor]:
    """`model_d` weights: none, the tiny stand-in, or coqui's real HiFi-GAN discriminator."""
    if kind == "none":
        return {}
    if kind == "tiny":
        return tiny_discriminator(seed, width)
    ensure_coqui_importable()
    from TTS.vocoder.models.hifigan_discriminator import HifiganDiscriminator

    torch.manual_seed(seed)
    return {k: v.detach().clone() for k, v in HifiganDiscriminator().state_dict().items()}


@dataclass
class BuiltVoice:
    """Paths written for one member plus the in-memory networks (for tests)."""

    member: str
    format: Format
    glow_checkpoint: Path
    glow_config: Path
    vocoder_checkpoint: Path
    vocoder_config: Path
    glow: torch.nn.Module
    vocoder: torch.nn.Module
    discriminator_numel: int


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=4, ensure_ascii=False), encoding="utf-8")


def write_voice(voice_dir: Path, spec: VoiceSpec, *, source: BuiltVoice | None = None) -> BuiltVoice:
    """Write one member in the team layout; `source` reuses another voice's networks (same weights)."""
    voice_dir = Path(voice_dir)
    member = spec.member
    modern_cfg = modern_glow_config(spec)
    modern_vocab = modern_symbols(modern_cfg)
    voc_cfg = vocoder_config(spec)
    if source is None:
        glow = build_glow_model(modern_cfg, len(modern_vocab), spec)
        vocoder = build_vocoder_model(voc_cfg, spec)
    else:
        glow, vocoder = source.glow, source.vocoder
    glow_state = {k: v.detach().clone() for k, v in glow.state_dict().items()}
    gen_state = {k: v.detach().clone() for k, v in vocoder.state_dict().items()}
    disc_state = discriminator_state(spec.discriminator, spec.seed + 2, spec.discriminator_width)

    glow_dir = voice_dir / "glow-tts" / member
    voc_dir = voice_dir / "hifigan-v2" / member
    glow_ckpt = glow_dir / f"{member}g_checkpoint_{spec.step}.pth.tar"
    glow_cfg_path = glow_dir / f"{member}g_config.json"
    voc_ckpt = voc_dir / f"{member}h_checkpoint_{spec.vocoder_step}.pth.tar"
    voc_cfg_path = voc_dir / f"{member}h_config.json"
    glow_dir.mkdir(parents=True, exist_ok=True)
    voc_dir.mkdir(parents=True, exist_ok=True)

    if spec.format == "legacy":
        cfg = legacy_glow_config(spec)
        legacy = legacy_symbols(cfg["characters"])
        glow_state = to_legacy_keys(
            permute_embedding(glow_state, modern_vocab, legacy, add_blank=spec.add_blank)
        )
        gen_state = to_legacy_keys(gen_state)
        disc_state = to_legacy_keys(disc_state)
        date: str | None = "June 21, 2021"
    else:
        cfg = modern_glow_config(spec)
        date = "March 02, 2026"
    if spec.date != FORMAT_DATE:
        date = spec.date

    glow_payload: dict[str, Any] = {
        "config": cfg,
        "model": glow_state,
        "optimizer": adam_state(list(glow_state.values())) if spec.optimizer_state else None,
        "scaler": None,
        "step": spec.step,
        "epoch": spec.step // 100,
        "date": date,
    }
    if date is None:
        del glow_payload["date"]
    if spec.format == "legacy":
        # 0.x `save_best_model` passed the running loss, a numpy scalar, as `model_loss`.
        glow_payload["model_loss"] = np.float64(0.4321)
        glow_payload["r"] = np.int64(1)
    else:
        glow_payload["scheduler"] = None
        glow_payload["model_loss"] = {"train_loss": 0.4321}
    torch.save(glow_payload, glow_ckpt)
    _write_json(glow_cfg_path, cfg)

    if spec.vocoder_layout == "split":
        voc_model: dict[str, torch.Tensor] = gen_state
    else:
        voc_model = {f"model_g.{k}": v for k, v in gen_state.items()}
        voc_model.update({f"model_d.{k}": v for k, v in disc_state.items()})
    voc_payload: dict[str, Any] = {
        "config": voc_cfg,
        "model": voc_model,
        "optimizer": (
            [adam_state(list(gen_state.values())), adam_state(list(disc_state.values()))]
            if spec.optimizer_state
            else None
        ),
        "scaler": None,
        "step": spec.vocoder_step,
        "epoch": spec.vocoder_step // 100,
        "date": date,
    }
    if date is None:
        del voc_payload["date"]
    if spec.vocoder_layout == "split":
        voc_payload["model_disc"] = disc_state
    if spec.format == "legacy":
        voc_payload["model_loss"] = np.float32(1.25)
    torch.save(voc_payload, voc_ckpt)
    _write_json(voc_cfg_path, voc_cfg)

    return BuiltVoice(
        member=member,
        format=spec.format,
        glow_checkpoint=glow_ckpt,
        glow_config=glow_cfg_path,
        vocoder_checkpoint=voc_ckpt,
        vocoder_config=voc_cfg_path,
        glow=glow,
        vocoder=vocoder,
        discriminator_numel=sum(v.numel() for v in disc_state.values()),
    )


def write_pair(voice_dir: Path, spec: VoiceSpec | None = None) -> tuple[BuiltVoice, BuiltVoice]:
    """The standard test pair: legacy member "1" and modern member "2" holding the same weights."""
    base = spec or VoiceSpec()
    legacy = write_voice(voice_dir, replace(base, member="1", format="legacy"))
    modern = write_voice(voice_dir, replace(base, member="2", format="modern"), source=legacy)
    return legacy, modern


def write_check_members(voice_dir: Path) -> Path:
    """The members `forv-tts check` is tested on (its library and its command alike):
    1, 2: good (legacy dated 2021-06, modern, same weights); 3: vocoder at 16 kHz (mismatched pair);
    4: truncated checkpoint; 5: vocoder config missing; 6: untrained (every token predicted at <= 0
    frames, under the 0.x rule its date calls for); 7: NaN vocoder weights."""
    legacy = write_voice(voice_dir, VoiceSpec(member="1", format="legacy"))
    write_voice(voice_dir, VoiceSpec(member="2", format="modern"), source=legacy)
    write_voice(voice_dir, VoiceSpec(member="3", vocoder_sample_rate=16000))
    write_voice(voice_dir, VoiceSpec(member="4"))
    ckpt = voice_dir / "glow-tts" / "4" / "4g_checkpoint_10000.pth.tar"
    ckpt.write_bytes(ckpt.read_bytes()[:20000])
    write_voice(voice_dir, VoiceSpec(member="5"))
    (voice_dir / "hifigan-v2" / "5" / "5h_config.json").unlink()
    write_voice(voice_dir, VoiceSpec(member="6", format="legacy", frames_per_token=-0.9))
    nan = write_voice(voice_dir, VoiceSpec(member="7"))
    payload = torch.load(nan.vocoder_checkpoint, weights_only=False)
    for key, value in payload["model"].items():
        if key.startswith("model_g.conv_post"):
            value.fill_(float("nan"))
    torch.save(payload, nan.vocoder_checkpoint)
    return voice_dir


def main(argv: list[str] | None = None) -> int:
    """CLI: write one member (or the standard legacy/modern pair) into OUTDIR."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument(
        "--member", default=None, help="member id (default: write the pair 1=legacy, 2=modern)"
    )
    parser.add_argument("--format", choices=["modern", "legacy"], default="modern")
    parser.add_argument("--charset", choices=["jamo", "syllable", "compat"], default="jamo")
    parser.add_argument("--step", type=int, default=10000)
    parser.add_argument("--vocoder-step", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--real-size", action="store_true", help="production-size Glow-TTS and HiFi-GAN v2")
    parser.add_argument("--discriminator", choices=["none", "tiny", "full"], default="tiny")
    parser.add_argument("--vocoder-layout", choices=["gan", "split"], default="gan")
    parser.add_argument("--no-optimizer", action="store_true", help="omit optimizer state")
    parser.add_argument("--add-blank", action="store_true")
    parser.add_argument("--legacy-release", choices=["0.3.1", "0.4.2", "0.5.0", "none"], default="0.5.0")
    parser.add_argument("--date", default=FORMAT_DATE, help='checkpoint date, e.g. "June 21, 2021"')
    parser.add_argument("--no-date", action="store_true", help="write no date key")
    args = parser.parse_args(argv)
    spec = VoiceSpec(
        format=args.format,
        charset=args.charset,
        step=args.step,
        vocoder_step=args.vocoder_step,
        seed=args.seed,
        glow=GlowSize.real() if args.real_size else GlowSize(),
        vocoder=VocoderSize.real() if args.real_size else VocoderSize(),
        discriminator=args.discriminator,
        vocoder_layout=args.vocoder_layout,
        optimizer_state=not args.no_optimizer,
        add_blank=args.add_blank,
        legacy_release=args.legacy_release,
        date=None if args.no_date else args.date,
    )
    if args.member is None:
        built = list(write_pair(args.outdir, spec))
    else:
        built = [write_voice(args.outdir, replace(spec, member=args.member))]
    for b in built:
        print(f"member {b.member} ({b.format}): {b.glow_checkpoint} {b.vocoder_checkpoint}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

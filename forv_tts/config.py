"""`SynthesisConfig`: what one synthesis asks for, as one value instead of loose keywords.

A frozen dataclass, so it is hashable, picklable (batch workers get it in their task) and safe to share
between threads. Its values are checked when it is made: a config that exists is a valid one, and every
stage after it (voices, the item runner, the CLI) trusts it. New fields (as `lexicon` and `engine`
were) are added with defaults, so existing callers keep working.
"""

from __future__ import annotations

import math
import operator
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from forv_tts.errors import InvalidInputError

if TYPE_CHECKING:
    from forv_tts.text.lexicon import Lexicon

#: The speaking-rate range every voice accepts (1 is the voice's own rate, 2 twice as slow).
LENGTH_SCALE_MIN = 0.1
LENGTH_SCALE_MAX = 10.0
#: What `torch.Generator.manual_seed` takes without wrapping (negative seeds alias large ones).
SEED_MAX = 2**64 - 1
ENGINES = ("onnx", "torch")
#: OpenAI's `speed` range (1 normal, 2 twice as fast): what `/v1/audio/speech` accepts.
SPEED_MIN = 0.25
SPEED_MAX = 4.0
#: `SynthesisConfig.lexicon`'s default: resolve the user lexicon as the CLI does, from the voice's own
#: directory (`forv_tts.synthesis.with_lexicon`). None is "no lexicon", a `Lexicon` is used as given.
LEXICON_AUTO: Literal["auto"] = "auto"


def check_length_scale(value: float) -> float:
    """A length scale must be a finite number in [LENGTH_SCALE_MIN, LENGTH_SCALE_MAX]."""
    try:
        scale = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError.bad_value("length_scale", value, "give a number") from None
    if not math.isfinite(scale) or not LENGTH_SCALE_MIN <= scale <= LENGTH_SCALE_MAX:
        raise InvalidInputError.bad_value(
            "length_scale", value, f"use a value between {LENGTH_SCALE_MIN:g} and {LENGTH_SCALE_MAX:g}"
        )
    return scale


def length_scale_for_speed(speed: float | None) -> float | None:
    """OpenAI's `speed` as a length scale (None for the voice's own rate, speed 1)."""
    if speed is None or speed == 1.0:
        return None
    if not SPEED_MIN <= speed <= SPEED_MAX:
        raise InvalidInputError.bad_value(
            "speed", speed, f"use a value between {SPEED_MIN:g} and {SPEED_MAX:g}"
        )
    return 1.0 / speed


@dataclass(frozen=True)
class SynthesisConfig:
    """How to speak: `seed` (None: fresh randomness each call; 0 to 2**64 - 1), `length_scale` (None: the
    voice's own rate; >1 slower), `normalize` (False hands the text over as pronounced Hangul, only split
    into sentences), `lexicon` ("auto": the voice directory's lexicon.tsv and `$FORV_TTS_LEXICON`, read
    when the text is normalised, as the CLI does; a `forv_tts.text.Lexicon` to use exactly that one; None
    for none), `engine` ("onnx" or "torch" for a member; None: `$FORV_TTS_ENGINE`, else ONNX)."""

    seed: int | None = None
    length_scale: float | None = None
    normalize: bool = True
    lexicon: Lexicon | Literal["auto"] | None = field(default=LEXICON_AUTO, compare=False)
    engine: str | None = None

    def __post_init__(self) -> None:
        if self.seed is not None:
            try:
                if isinstance(self.seed, bool):
                    raise TypeError
                object.__setattr__(self, "seed", operator.index(self.seed))
            except TypeError:
                raise InvalidInputError.bad_value("seed", self.seed, "give an integer") from None
            if not 0 <= self.seed <= SEED_MAX:
                raise InvalidInputError.bad_value(
                    "seed", self.seed, f"use an integer from 0 to {SEED_MAX} (2**64 - 1)"
                )
        if self.engine is not None:
            engine = str(self.engine).strip().lower()
            if engine not in ENGINES:
                raise InvalidInputError.bad_value("engine", self.engine, f"use {' or '.join(ENGINES)}")
            object.__setattr__(self, "engine", engine)
        if self.length_scale is not None:
            object.__setattr__(self, "length_scale", check_length_scale(self.length_scale))
        if isinstance(self.lexicon, (str, os.PathLike)) and self.lexicon != LEXICON_AUTO:
            raise InvalidInputError.bad_value(
                "lexicon",
                self.lexicon,
                "give a forv_tts.text.Lexicon (forv_tts.text.load_lexicon reads a file), 'auto' or None",
            )


DEFAULT_CONFIG = SynthesisConfig()

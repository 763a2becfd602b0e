"""Compile espeak-ng phoneme data with forv-tts's own Korean phoneme table (issue 19).

    python bench/espeak_phondata.py --source SRC --table my_ph_korean --out /tmp/variant  # an attempt
    python bench/intelligibility.py --set phondata=/tmp/variant --label "my ph_korean"      # judge it
    python bench/espeak_phondata.py --source SRC --table stock --out /tmp/stock   # the wheel's, rebuilt

espeak-ng reads phonemes only from its compiled phondata/phonindex/phontab, and the Korean table
(phsource/ph_korean) gives ㅓ a rounded [ɔ] and imports plain sounds for the tense consonants. An
edited copy replaces it in a copy of espeak-ng's phsource/ tree, and libespeak-ng's own compiler
(espeak_ng_CompilePhonemeDataPath, from the espeakng-loader wheel) writes the three files into
--out, which `Tuning.phondata` points the built-in voice's data overlay at (forv_tts/voices/espeak.py).
Nothing compiled ships today: no edit tried was better on both splits (docs/builtin-voice.md). Were
one to ship, its output would be committed and tests/CI would never need the source.

The source: Debian's espeak-ng 1.52.0 source package (the version of the wheel's library), e.g.
`apt-get source --download-only espeak-ng` with a bookworm deb-src line gives 1.51 whose orig tarball
the mirror here lacks; the 1.52.0 one is at
http://deb.debian.org/debian/pool/main/e/espeak-ng/espeak-ng_1.52.0+dfsg.orig.tar.gz
(sha256 d2a886bae3547a15c52801cb37e415230834a7ee7f9a57352b98d60454d97cea). Compiled unchanged,
it reproduces the wheel's three files byte for byte (checked with --table stock).

espeak-ng and its data are GPL-3.0-or-later; so are ph_korean and the files compiled from it.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

FILES = ("phondata", "phonindex", "phontab")
RATE = 22050


def compile_phondata(phsource: Path, out: Path) -> str:
    """Compile `phsource` into `out` with the wheel's libespeak-ng; returns the compiler's log."""
    import espeakng_loader

    lib = ctypes.CDLL(espeakng_loader.get_library_path())
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    if lib.espeak_Initialize(2, 0, espeakng_loader.get_data_path().encode(), 0x8000) != RATE:
        raise SystemExit("libespeak-ng did not initialise at 22050 Hz")
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    log_path = out / "compile.log"
    log = libc.fopen(str(log_path).encode(), b"w")  # the compiler closes it
    fn = lib.espeak_ng_CompilePhonemeDataPath
    fn.argtypes = [ctypes.c_long, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p, ctypes.c_void_p]
    status = fn(RATE, str(phsource).encode(), str(out).encode(), log, None)
    text = log_path.read_text(errors="replace")
    log_path.unlink()
    (out / "phondata-manifest").unlink(missing_ok=True)
    if status != 0 or " 0 errors" not in text:
        raise SystemExit(f"espeak-ng's phoneme compiler failed (status {status}):\n{text}")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", type=Path, required=True, help="espeak-ng's unpacked source tree")
    p.add_argument("--table", required=True, help="the ph_korean to compile, or 'stock' for espeak's own")
    p.add_argument("--out", type=Path, required=True, help="where phondata, phonindex, phontab go")
    args = p.parse_args(argv)
    if not (args.source / "phsource" / "phonemes").is_file():
        raise SystemExit(f"{args.source} has no phsource/phonemes: unpack espeak-ng's source there")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        phsource = Path(tmp) / "phsource"
        shutil.copytree(args.source / "phsource", phsource)
        if args.table != "stock":
            shutil.copyfile(args.table, phsource / "ph_korean")
        compile_phondata(phsource, Path(tmp))
        for name in FILES:
            shutil.copyfile(Path(tmp) / name, args.out / name)
    for name in FILES:
        digest = hashlib.sha256((args.out / name).read_bytes()).hexdigest()[:16]
        print(f"{args.out / name}  {digest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

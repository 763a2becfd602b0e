"""Which private mappings of a file hold no written page (/proc/self/maps + /proc/self/pagemap), checked
against /proc/self/smaps's counts (the method it replaced, kept here as the oracle), on mappings made
here with mmap and on the ones onnxruntime makes for a real exported voice. Linux only."""

from __future__ import annotations

import ctypes
import logging
import mmap
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from forv_tts.voices.onnx import pages

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and madvise are Linux")

PAGE = mmap.PAGESIZE


def smaps_clean(path: Path) -> list[tuple[int, int]]:
    """The oracle: private mappings of `path` whose smaps `Anonymous:` and `Swap:` are both 0 kB."""
    st = path.stat()
    found: list[tuple[int, int]] = []
    current: tuple[int, int] | None = None
    dirty = 0
    with open("/proc/self/smaps", encoding="ascii", errors="replace") as smaps:
        for line in smaps:
            head = line.split(" ", 1)[0]
            if "-" in head and ":" not in head:  # a mapping's first line
                if current is not None and dirty == 0:
                    found.append(current)
                fields = line.split(maxsplit=5)
                major, minor = (int(x, 16) for x in fields[3].split(":"))
                current = None
                if (
                    fields[1][3] == "p"
                    and int(fields[4]) == st.st_ino
                    and (major, minor) == (os.major(st.st_dev), os.minor(st.st_dev))
                ):
                    lo, hi = (int(x, 16) for x in head.split("-"))
                    current, dirty = (lo, hi), 0
            elif current is not None and line.startswith(("Anonymous:", "Swap:")):
                dirty += int(line.split()[1])
    if current is not None and dirty == 0:
        found.append(current)
    return found


def _address(m: mmap.mmap) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(m))


@pytest.fixture
def mapped(tmp_path: Path) -> Iterator[tuple[Path, dict[str, mmap.mmap]]]:
    """A 16-page file mapped privately (read-write, as onnxruntime maps its weights) three times: one
    mapping with one byte written, one only read, one never touched."""
    path = tmp_path / "weights.data"
    path.write_bytes(bytes(range(256)) * (16 * PAGE // 256))
    with open(path, "rb+") as f:
        maps = {
            name: mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_WRITE)
            for name in ("written", "read", "untouched")
        }
    maps["written"][5 * PAGE + 7] = 0xAB  # one page becomes this process's own copy
    assert sum(maps["read"][i] for i in range(0, 16 * PAGE, PAGE)) >= 0  # every page read, resident
    yield path, maps
    for m in maps.values():
        m.close()


def test_a_mapping_with_a_written_page_is_left_alone(mapped: tuple[Path, dict[str, mmap.mmap]]) -> None:
    path, maps = mapped
    ranges = {name: (_address(m), _address(m) + len(m)) for name, m in maps.items()}
    assert set(pages.private_mappings(path)) >= set(ranges.values())
    clean = pages.clean_mappings(path)
    assert ranges["written"] not in clean
    assert ranges["read"] in clean and ranges["untouched"] in clean
    assert sorted(clean) == sorted(smaps_clean(path))  # the smaps method's answer
    # Released: the read mapping reads the file again, the written one keeps its byte.
    assert pages.release(path) == 2 * 16 * PAGE
    assert maps["read"][5 * PAGE + 7] == (5 * PAGE + 7) % 256
    assert maps["written"][5 * PAGE + 7] == 0xAB
    assert maps["written"][5 * PAGE + 8] == (5 * PAGE + 8) % 256


def test_the_answer_is_smaps_on_a_real_voice(voice_dir: Path) -> None:
    """onnxruntime's own mappings of an exported voice's weights (rw-p, partly read by a run)."""
    from forv_tts.config import SynthesisConfig
    from forv_tts.voices.layout import member_info
    from forv_tts.voices.onnx import cache
    from forv_tts.voices.onnx.voice import OnnxVoice

    info = member_info(voice_dir, "1")
    directory = cache.exported_dir(info)
    voice = OnnxVoice(info, directory, threads=1)
    voice.synthesize("오늘 날씨가 좋네요.", SynthesisConfig(seed=1))
    checked = 0
    for graph in voice.manifest["graphs"].values():
        data = graph.get("data")
        if data is None:
            continue
        path = directory / str(data)
        clean = pages.clean_mappings(path)
        assert sorted(clean) == sorted(smaps_clean(path))
        checked += len(pages.private_mappings(path))
    assert checked  # onnxruntime did map the weights


def test_any_error_releases_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=pages.__name__):
        assert pages.release(tmp_path / "missing.data") == 0
    assert "not releasing the mapped pages" in caplog.text
    unmapped = tmp_path / "unmapped.data"
    unmapped.write_bytes(b"\0" * PAGE)
    assert pages.clean_mappings(unmapped) == [] and pages.release(unmapped) == 0

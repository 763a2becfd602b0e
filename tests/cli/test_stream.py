"""`say -o - --stream`: one wav header of unknown length, then PCM per sentence as it is made; a
reader that goes away stops synthesis quietly; every other format by -o's extension or --format, whole
and streamed. Through the installed console script."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

TEXT = " ".join(["오늘은 날씨가 정말 좋네요.", "같이 산책하러 가실래요?", "공원에 꽃이 많이 피었어요."] * 4)


def _script() -> str:
    found = shutil.which("forv-tts", path=str(Path(sys.executable).parent))
    assert found
    return found


def _say(*args: str, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([_script(), "say", *args], capture_output=True, cwd=cwd, timeout=300)


def test_stream_is_one_header_then_the_same_pcm(tmp_path: Path) -> None:
    whole = _say("-o", "-", TEXT, cwd=tmp_path)
    streamed = _say("-o", "-", "--stream", TEXT, cwd=tmp_path)
    pcm = _say("-o", "-", "--stream", "--format", "pcm", TEXT, cwd=tmp_path)
    assert whole.returncode == streamed.returncode == pcm.returncode == 0, streamed.stderr
    head = streamed.stdout[:44]
    assert head[:4] == b"RIFF" and head[8:16] == b"WAVEfmt " and head[36:40] == b"data"
    assert struct.unpack("<I", head[4:8])[0] == 0xFFFFFFFF == struct.unpack("<I", head[40:44])[0]
    assert struct.unpack("<I", head[24:28])[0] == struct.unpack("<I", whole.stdout[24:28])[0]  # rate
    assert streamed.stdout.count(b"RIFF") == 1  # never a header per chunk
    assert streamed.stdout[44:] == whole.stdout[44:] == pcm.stdout  # the same samples, whole or streamed
    assert streamed.stderr == b""


def test_first_sentence_arrives_before_the_rest_is_made_and_a_closed_pipe_stops_quietly(
    tmp_path: Path,
) -> None:
    sentences = TEXT.count(".") + TEXT.count("?")
    proc = subprocess.Popen(
        [_script(), "--debug", "say", "-o", "-", "--stream", TEXT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.read(44 + 4096)  # the header and the start of sentence 1
    assert first[:4] == b"RIFF" and len(first) == 44 + 4096
    # One sentence is ~1.5 s of 16-bit audio (> 64 KiB): with nobody reading, the writer blocks in the
    # pipe long before the last sentence is made. Closing our end breaks its pipe.
    proc.stdout.close()
    err = proc.stderr.read().decode()
    code = proc.wait(timeout=120)
    assert code == 141, err[-2000:]
    assert "Traceback" not in err and "error" not in err.lower(), err[-2000:]
    streamed = err.count("streamed sentence")
    assert streamed < sentences, err[-2000:]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--stream", "-o", "x.wav"], "add '-o -'"),
        (
            ["--format", "ogg", "-o", "-"],
            "unknown audio format 'ogg': use one of mp3, opus, aac, flac, wav, pcm",
        ),
        (["--format", "mp3", "--upload", "--bucket", "b"], "--upload stores the team's wav objects"),
    ],
)
def test_stream_usage_errors(tmp_path: Path, args: list[str], needle: str) -> None:
    r = _say(*args, "안녕", cwd=tmp_path)
    assert r.returncode == 2 and needle in r.stderr.decode() and r.stdout == b""
    assert list(tmp_path.iterdir()) == []


def _decoded_seconds(data: bytes) -> float:
    import io

    av = pytest.importorskip("av")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        n = sum(frame.samples for frame in container.decode(stream))
        return n / stream.codec_context.sample_rate


def test_the_extension_picks_the_format_and_format_overrides_it(tmp_path: Path) -> None:
    text = "안녕하세요. 반갑습니다."
    wav = _say("-o", "clip.wav", text, cwd=tmp_path)
    mp3 = _say("-o", "clip.mp3", text, cwd=tmp_path)
    assert wav.returncode == mp3.returncode == 0, mp3.stderr
    seconds = _decoded_seconds((tmp_path / "clip.wav").read_bytes())
    assert (tmp_path / "clip.mp3").read_bytes()[:1] == b"\xff"  # an MPEG frame, no ID3 tag
    mp3_seconds = _decoded_seconds((tmp_path / "clip.mp3").read_bytes())
    assert abs(mp3_seconds - seconds) <= 576 / 22050
    flac = _say("-o", "clip.mp3", "--format", "flac", text, cwd=tmp_path)
    assert flac.returncode == 0 and flac.stdout.decode().strip() == "clip.mp3"
    assert (tmp_path / "clip.mp3").read_bytes()[:4] == b"fLaC"  # --format won over the extension
    named = _say("--format", "opus", text, cwd=tmp_path)
    assert named.returncode == 0, named.stderr
    path = tmp_path / named.stdout.decode().strip()
    assert path.name.endswith("_voice.opus") and path.read_bytes()[:4] == b"OggS"
    assert abs(_decoded_seconds(path.read_bytes()) - seconds) < 0.05


def test_an_unknown_extension_is_refused_unless_format_is_given(tmp_path: Path) -> None:
    from forv_tts.encoding import FORMATS

    refused = _say("-o", "a.xyz", TEXT, cwd=tmp_path)
    assert refused.returncode == 2 and refused.stdout == b"", refused.stderr
    lines = refused.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("forv-tts: error: "), lines
    assert "'.xyz'" in lines[0] and "--format" in lines[0] and all(f in lines[0] for f in FORMATS), lines
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a default-named clip
    forced = _say("-o", "a.xyz", "--format", "wav", TEXT, cwd=tmp_path)
    assert forced.returncode == 0 and (tmp_path / "a.xyz").read_bytes()[:4] == b"RIFF", forced.stderr
    bare = _say("-o", "clip", TEXT, cwd=tmp_path)  # no extension at all: wav, as before
    assert bare.returncode == 0 and (tmp_path / "clip").read_bytes()[:4] == b"RIFF", bare.stderr


@pytest.mark.parametrize(("fmt", "magic"), [("opus", b"OggS"), ("mp3", b"\xff"), ("flac", b"fLaC")])
def test_any_format_streams_to_stdout(tmp_path: Path, fmt: str, magic: bytes) -> None:
    whole = _say("-o", "-", TEXT, cwd=tmp_path)
    streamed = _say("-o", "-", "--stream", "--format", fmt, TEXT, cwd=tmp_path)
    assert streamed.returncode == 0 and streamed.stderr == b"", streamed.stderr
    assert streamed.stdout.startswith(magic)
    seconds = (len(whole.stdout) - 44) / 2 / struct.unpack("<I", whole.stdout[24:28])[0]
    assert abs(_decoded_seconds(streamed.stdout) - seconds) < 0.1  # mp3: LAME's delay, no tag to trim it


def test_json_has_word_times_and_captions_go_beside(tmp_path: Path) -> None:
    import json

    srt = pytest.importorskip("srt")
    r = _say("--json", "--captions", "c.srt", "-o", "c.mp3", "사과 3개 주세요. 고맙습니다!", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    record = json.loads(r.stdout)
    first, second = record["sentences"]
    assert first["text"] == "사과 3개 주세요." and first["spoken"] == "사과 세 개 주세요."
    assert [w["text"] for w in first["words"]] == ["사과", "3개", "주세요."]
    assert first["words"][1]["spoken"] == "세 개"
    assert 0 <= first["start"] < first["words"][0]["end"] <= first["end"] < second["start"]
    assert second["end"] == pytest.approx(record["duration"], abs=1e-3)
    subs = list(srt.parse((tmp_path / "c.srt").read_text(encoding="utf-8")))
    assert [s.content for s in subs] == ["사과 3개 주세요.", "고맙습니다!"]
    assert subs[1].start.total_seconds() == pytest.approx(second["start"], abs=1e-3)
    streamed = _say(
        "-o", "-", "--stream", "--format", "opus", "--captions", "s.vtt", "고맙습니다!", cwd=tmp_path
    )
    assert streamed.returncode == 0 and (tmp_path / "s.vtt").read_text().startswith("WEBVTT")
    bad = _say("--captions", "c.txt", "안녕", cwd=tmp_path)
    assert bad.returncode == 2 and "invalid --captions 'c.txt'" in bad.stderr.decode()


def test_a_members_long_sentence_streams_in_parts_as_the_clips_pcm(tmp_path: Path, voice_dir: Path) -> None:
    text = (
        "오늘 오후 서울 시청 앞 광장에서는 시민 수천 명이 모인 가운데 올해로 스무 번째를 맞는 가을 음악 "
        "축제가 화려하게 막을 올렸습니다."
    )
    args = ["-m", "1", "--voice-dir", str(voice_dir), "--seed", "4", "-o", "-", "--format", "pcm"]
    whole = _say(*args, text, cwd=tmp_path)
    streamed = _say(*args, "--stream", text, cwd=tmp_path)
    assert whole.returncode == streamed.returncode == 0, streamed.stderr
    assert len(whole.stdout) > 2 * 6 * 16000  # longer than one part (dsp.WHOLE_S) at the voice's rate
    assert streamed.stdout == whole.stdout

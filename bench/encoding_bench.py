"""What the response formats cost (a script that prints numbers, not a test).

    python bench/encoding_bench.py [--repeat 5] [--ttfb 7] [--no-service]

1. Encoding cost per second of audio for each format (`forv_tts.encoding`), whole and streamed, on a
   ~20 s clip of the built-in voice (median of REPEAT runs, one thread, in-process).
2. First streamed byte of `POST /v1/audio/speech` (`stream: true`) for mp3 and opus against wav, in
   the same run against one `forv-tts serve --workers 1` (built-in voice, a three-sentence text;
   requests interleaved wav, mp3, opus so load drifts hit all three alike; TTFB medians and the
   difference to wav). The goal: mp3/opus within 30 ms of wav.

Run through /work/bin/forv-bench on the shared host; it prints the load averages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests"))

TEXT = (
    "오늘은 날씨가 정말 좋네요. 같이 산책하러 가실래요? 공원에 꽃이 많이 피었어요. "
    "점심은 김밥을 먹을까요? 내일은 비가 온다고 하니 우산을 챙기세요. "
    "기차는 세 시 십오 분에 떠납니다. 늦지 않게 역에 도착해 주세요."
)
FIRST = "안녕하세요. 오늘은 날씨가 정말 좋네요. 내일 다시 만나요."
FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")


def encoding_costs(repeat: int) -> dict[str, Any]:
    import forv_tts
    from forv_tts import encoding, synthesis

    voice = forv_tts.load_voice(None)
    chunks = list(synthesis.iter_synthesize(TEXT, voice))
    audio = forv_tts.synthesize(TEXT, voice)
    out: dict[str, Any] = {"audio_seconds": round(audio.duration, 2)}
    for fmt in FORMATS:
        whole, streamed, size = [], [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            data = encoding.encode(audio, fmt)
            whole.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for _part in encoding.encode_stream(chunks, fmt):
                pass
            streamed.append(time.perf_counter() - t0)
            size = len(data)
        out[fmt] = {
            "whole_ms_per_audio_s": round(1000 * statistics.median(whole) / audio.duration, 2),
            "stream_ms_per_audio_s": round(1000 * statistics.median(streamed) / audio.duration, 2),
            "kbit_per_s": round(size * 8 / audio.duration / 1000, 1),
        }
    return out


def first_bytes(n: int) -> dict[str, Any]:
    import httpx
    import service_bench

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "voices").mkdir()
        proc, url = service_bench.start_serve(workdir, workdir / "voices", 1)
        try:
            rows: dict[str, list[float]] = {"wav": [], "mp3": [], "opus": []}
            with httpx.Client(base_url=url, timeout=120) as client:
                for i in range(n + 1):  # the first round warms the worker up, not counted
                    for fmt in rows:
                        body = {"input": FIRST, "voice": "builtin", "response_format": fmt, "stream": True}
                        t0 = time.perf_counter()
                        with client.stream("POST", "/v1/audio/speech", json=body) as r:
                            chunks = r.iter_raw()
                            first = next(chunks)
                            elapsed = time.perf_counter() - t0
                            for _rest in chunks:
                                pass
                        assert r.status_code == 200 and first, fmt
                        if i:
                            rows[fmt].append(elapsed)
        finally:
            service_bench.stop(proc)
    medians = {fmt: statistics.median(v) for fmt, v in rows.items()}
    return {
        "requests_per_format": n,
        "ttfb_median_ms": {fmt: round(1000 * m, 1) for fmt, m in medians.items()},
        "minus_wav_ms": {
            fmt: round(1000 * (m - medians["wav"]), 1) for fmt, m in medians.items() if fmt != "wav"
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--ttfb", type=int, default=7, help="streamed requests per format")
    ap.add_argument("--no-service", action="store_true", help="only the in-process encoding costs")
    args = ap.parse_args(argv)
    result: dict[str, Any] = {"encoding": encoding_costs(args.repeat)}
    if not args.no_service:
        result["first_byte"] = first_bytes(args.ttfb)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

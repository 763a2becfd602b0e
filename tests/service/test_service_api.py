"""The HTTP API through real processes: `forv-tts serve` (uvicorn, the embedded valkey, real Celery
workers) on 127.0.0.1, driven by httpx and the official openai client.

One service for the module (built-in voice plus the tiny members "1" and "2" from tests/voicefactory.py);
tests that need other settings start their own.
"""

from __future__ import annotations

import asyncio
import io
import json
import struct
import uuid as _uuid
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from servicekit import Service, descendants, service

UUID = "022db29c-d0e2-11e5-bb4c-60f81dca7676"
HEAVY = ("torch", "TTS", "g2pk", "coqui_tts_trainer", "trainer")


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory, voice_dir: Path) -> Iterator[Service]:
    with service(tmp_path_factory.mktemp("svc"), ["--workers", "2", "--voice-dir", str(voice_dir)]) as s:
        yield s


@pytest.fixture
def client(svc: Service) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=svc.url, timeout=60) as c:
        yield c


def texts(client: httpx.Client, **body: Any) -> httpx.Response:
    payload = {
        "uuid": str(_uuid.uuid4()),
        "member_id": "builtin",
        "text": "안녕하세요!",
        "created_at": "2022-08-22",
    }
    payload.update(body)
    return client.post("/api/texts", json=payload)


def test_api_texts_old_contract_and_clip(client: httpx.Client, svc: Service) -> None:
    r = client.post(
        "/api/texts",
        json={"uuid": UUID, "member_id": 1, "text": "안녕하세요!", "created_at": "2022-08-22"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body)[:3] == ["uuid", "member_id", "created_at"]
    assert body["uuid"] == UUID and body["member_id"] == 1 and body["created_at"] == "2022-08-22"
    path = svc.out_dir / f"wav_files/1/{UUID}_2022-08-22_voice.wav"
    assert path.is_file()
    audio = client.get(body["url"])
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    assert audio.content == path.read_bytes()
    with wave.open(io.BytesIO(audio.content)) as w:
        assert w.getnframes() > 0
    job = client.get(f"/v1/jobs/{UUID}").json()
    assert job["state"] == "done" and job["attempts"] == 1 and job["member"] == "1"
    assert job["duration"] > 0


def test_repeated_request_is_the_same_job(client: httpx.Client, svc: Service) -> None:
    job_id = str(_uuid.uuid4())
    first = texts(client, uuid=job_id, text="같은 요청은 한 번만 합성합니다.")
    assert first.status_code == 200
    path = svc.out_dir / f"wav_files/builtin/{job_id}_2022-08-22_voice.wav"
    stat = path.stat()
    record = client.get(f"/v1/jobs/{job_id}").json()
    again = texts(client, uuid=job_id, text="같은 요청은 한 번만 합성합니다.")
    assert again.status_code == 200 and again.json() == first.json()
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_ino == stat.st_ino
    after = client.get(f"/v1/jobs/{job_id}").json()
    assert after["attempts"] == 1 and after["seconds"] == record["seconds"]
    other = texts(client, uuid=job_id, text="다른 글")
    assert other.status_code == 409 and other.json()["error"]["field"] == "uuid"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"uuid": "../../etc"}, 422, "uuid"),
        ({"created_at": "../x"}, 422, "created_at"),
        ({"created_at": "2022-02-30"}, 422, "created_at"),
        ({"member_id": 7}, 404, "member_id"),
        ({"member_id": "../1"}, 422, "member_id"),
        ({"member_id": 1.5}, 422, "member_id"),
        ({"text": 3}, 422, "text"),
        ({"text": ""}, 400, "text"),
        ({"text": "   "}, 400, "text"),
        ({"text": "!!! ... ???"}, 422, "text"),
        ({"text": "가" * 5001}, 413, "text"),
        ({"uuid": None}, 422, "uuid"),
    ],
)
def test_bad_requests_are_4xx_json_and_queue_nothing(
    client: httpx.Client, body: dict[str, Any], status: int, field: str
) -> None:
    job_id = str(_uuid.uuid4())
    payload = {"uuid": job_id, **body}
    r = texts(client, **payload)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["message"] and error["code"]
    assert client.get(f"/v1/jobs/{job_id}").status_code == 404  # nothing was claimed or queued


def test_missing_field_and_invalid_json(client: httpx.Client) -> None:
    r = client.post("/api/texts", json={"uuid": UUID, "member_id": 1, "created_at": "2022-08-22"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "text"
    assert "required" in r.json()["error"]["message"]
    r = client.post("/api/texts", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_json"
    r = client.post("/api/texts", json=["a list"])
    assert r.status_code == 400


def test_jobs_endpoint_and_long_poll(client: httpx.Client) -> None:
    r = client.post("/v1/jobs", json={"member_id": 2, "text": "세 번째 문장입니다."})
    assert r.status_code == 202
    body = r.json()
    assert body["state"] in ("queued", "running", "done") and r.headers["location"] == body["status_url"]
    done = client.get(body["status_url"], params={"wait": 30}).json()
    assert done["state"] == "done" and done["member"] == "2" and done["url"].endswith(".wav")
    assert client.get(f"/v1/jobs/{_uuid.uuid4()}").status_code == 404
    assert client.get("/v1/jobs/..%2F..%2Fetc").status_code in (404, 422)


def _parse_wav(data: bytes) -> tuple[int, bytes]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.readframes(w.getnframes())


def test_speech_wav_pcm_and_stream(client: httpx.Client) -> None:
    text = "안녕하세요. 오늘은 날씨가 좋네요. 내일 만나요."
    r = client.post(
        "/v1/audio/speech",
        json={"model": "forv-tts", "input": text, "voice": "builtin", "response_format": "wav"},
    )
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    rate, pcm = _parse_wav(r.content)
    assert rate == 22050 and len(pcm) > 1000
    raw = client.post(
        "/v1/audio/speech", json={"model": "x", "input": text, "voice": "builtin", "response_format": "pcm"}
    )
    assert raw.status_code == 200 and raw.content == pcm
    with client.stream(
        "POST",
        "/v1/audio/speech",
        json={"model": "x", "input": text, "voice": "builtin", "stream": True, "response_format": "wav"},
    ) as s:
        assert s.status_code == 200
        data = b"".join(s.iter_bytes())
    riff, size, wave_id = struct.unpack("<4sI4s", data[:12])
    assert riff == b"RIFF" and wave_id == b"WAVE" and size == 0xFFFFFFFF
    assert struct.unpack("<I", data[40:44])[0] == 0xFFFFFFFF
    assert data[44:] == pcm  # the same samples as the whole clip
    clip = texts(client, text=text)  # sentence-by-sentence normalising speaks what the clip job speaks
    assert _parse_wav(client.get(clip.json()["url"]).content)[1] == pcm
    bad = client.post("/v1/audio/speech", json={"model": "x", "input": text, "response_format": "ogg"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "response_format"
    assert bad.json()["error"]["code"] == "unknown_format"
    assert "mp3, opus, aac, flac, wav, pcm" in bad.json()["error"]["message"]
    unknown = client.post("/v1/audio/speech", json={"model": "x", "input": text, "voice": "alloy"})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "voice"


def test_openai_client(svc: Service) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{svc.url}/v1", api_key="unused", max_retries=0)
    response = client.audio.speech.create(
        model="forv-tts", voice="1", input="오픈에이아이 클라이언트입니다.", response_format="wav"
    )
    rate, pcm = _parse_wav(response.read())
    assert rate > 0 and len(pcm) > 0
    with client.audio.speech.with_streaming_response.create(
        model="forv-tts", voice="builtin", input="스트리밍입니다. 두 번째 문장.", response_format="pcm"
    ) as streamed:
        assert len(b"".join(streamed.iter_bytes())) > 0


def test_openai_client_every_format_streamed_default_mp3_and_sse(svc: Service) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{svc.url}/v1", api_key="unused", max_retries=0)
    for fmt in ("mp3", "opus", "aac", "flac"):
        with client.audio.speech.with_streaming_response.create(
            model="tts-1", voice="builtin", input="스트리밍입니다. 두 번째 문장.", response_format=fmt
        ) as streamed:
            samples, rate = _decode(b"".join(streamed.iter_bytes()))
            assert len(samples) / rate > 1.0 and float(abs(samples).max()) > 0.1
    default = client.audio.speech.create(model="tts-1", voice="builtin", input="기본 형식입니다.")
    assert default.response.headers["content-type"] == "audio/mpeg"
    sse = client.audio.speech.create(
        model="tts-1", voice="builtin", input="이벤트입니다.", stream_format="sse", instructions="calm"
    )
    assert b"speech.audio.done" in sse.read()


def _decode(data: bytes) -> tuple[Any, int]:
    import numpy as np

    av = pytest.importorskip("av")
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])
        return samples, stream.codec_context.sample_rate


FRAMES = {"mp3": 576 * 4, "opus": 960, "aac": 2048 + 1024, "flac": 4096}  # a frame (+ priming, streamed)


@pytest.mark.parametrize("fmt", ["mp3", "opus", "aac", "flac"])
def test_speech_in_every_format_whole_and_streamed(client: httpx.Client, fmt: str) -> None:
    text = "안녕하세요. 오늘은 날씨가 좋네요."
    body = {"model": "tts-1", "input": text, "voice": "builtin", "response_format": fmt}
    wav = client.post("/v1/audio/speech", json={**body, "response_format": "wav"})
    rate, pcm = _parse_wav(wav.content)
    seconds = len(pcm) / 2 / rate
    whole = client.post("/v1/audio/speech", json=body)
    assert whole.status_code == 200, whole.text
    assert (
        whole.headers["content-type"]
        == {
            "mp3": "audio/mpeg",
            "opus": "audio/ogg",
            "aac": "audio/aac",
            "flac": "audio/flac",
        }[fmt]
    )
    with client.stream("POST", "/v1/audio/speech", json={**body, "stream": True}) as s:
        assert s.status_code == 200 and s.headers["content-type"] == whole.headers["content-type"]
        streamed = b"".join(s.iter_bytes())
    for data in (whole.content, streamed):
        samples, decoded_rate = _decode(data)
        assert abs(len(samples) / decoded_rate - seconds) <= FRAMES[fmt] / decoded_rate, fmt
        assert float(abs(samples).max()) > 0.1  # loud: speech, not silence


def test_no_format_is_mp3_and_instructions_are_ignored(client: httpx.Client) -> None:
    r = client.post(
        "/v1/audio/speech",
        json={
            "model": "gpt-4o-mini-tts",
            "input": "안녕하세요.",
            "voice": "builtin",
            "instructions": "cheerful",
        },
    )
    assert r.status_code == 200 and r.headers["content-type"] == "audio/mpeg"
    assert r.content[:1] == b"\xff"
    models = client.get("/v1/models").json()
    assert models["object"] == "list" and [m["id"] for m in models["data"]] == ["forv-tts"]


def _sse_events(lines: Iterator[str]) -> list[dict[str, Any]]:
    """A plain SSE reader (the text/event-stream framing: `data:` lines, a blank line ends an event)."""
    events, data = [], []
    for line in lines:
        if line == "":
            if data:
                events.append(json.loads("\n".join(data)))
            data = []
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())
    if data:
        events.append(json.loads("\n".join(data)))
    return events


def test_sse_stream_carries_audio_deltas_sentence_times_then_done(client: httpx.Client) -> None:
    import base64

    text = "안녕하세요. 3개 주세요!"
    body = {
        "model": "x",
        "input": text,
        "voice": "builtin",
        "stream_format": "sse",
        "response_format": "opus",
    }
    with client.stream("POST", "/v1/audio/speech", json=body) as s:
        assert s.status_code == 200 and s.headers["content-type"].startswith("text/event-stream")
        assert s.headers["x-audio-media-type"] == "audio/ogg"
        events = _sse_events(s.iter_lines())
    kinds = [e["type"] for e in events]
    assert kinds[-1] == "speech.audio.done" and "usage" in events[-1]
    assert kinds.count("forv_tts.sentence") == 2 and kinds[0] == "forv_tts.sentence"
    # Each sentence's times come before its audio.
    assert kinds.index("forv_tts.sentence", 1) > kinds.index("speech.audio.delta")
    audio = b"".join(base64.b64decode(e["audio"]) for e in events if e["type"] == "speech.audio.delta")
    samples, rate = _decode(audio)
    second = [e["sentence"] for e in events if e["type"] == "forv_tts.sentence"][1]
    assert second["text"] == "3개 주세요!" and [w["text"] for w in second["words"]] == ["3개", "주세요!"]
    assert abs(len(samples) / rate - second["end"]) < 0.1


def test_timed_speech_and_captions(client: httpx.Client) -> None:
    import base64

    srt = pytest.importorskip("srt")
    webvtt = pytest.importorskip("webvtt")
    body = {"input": "사과 3개 주세요. 고맙습니다!", "voice": "builtin", "response_format": "wav"}
    timed = client.post("/v1/audio/speech/timed", json=body).json()
    assert timed["format"] == "wav" and timed["content_type"] == "audio/wav"
    rate, pcm = _parse_wav(base64.b64decode(timed["audio"]))
    assert timed["duration"] == pytest.approx(len(pcm) / 2 / rate, abs=1e-3)
    first, second = timed["sentences"]
    assert [w["text"] for w in first["words"]] == ["사과", "3개", "주세요."]
    assert first["words"][1]["spoken"] == "세 개" and second["end"] == pytest.approx(
        timed["duration"], abs=1e-3
    )
    vtt = client.post("/v1/audio/captions", json={**body, "format": "vtt"})
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt")
    cues = list(webvtt.from_buffer(io.StringIO(vtt.text)))
    assert [c.text for c in cues] == ["사과 3개 주세요.", "고맙습니다!"]
    subs = list(srt.parse(client.post("/v1/audio/captions", json={**body, "format": "srt"}).text))
    assert subs[1].start.total_seconds() == pytest.approx(second["start"], abs=1e-3)


def test_captions_from_a_clips_own_times_and_a_seed_repeats_a_clip(client: httpx.Client) -> None:
    """The page's two needs: captions of the times it already has (no second synthesis), and a
    download in another format that holds the very clip it played (`seed`)."""
    import base64

    webvtt = pytest.importorskip("webvtt")
    body = {"input": "사과 3개 주세요. 고맙습니다!", "voice": "2", "response_format": "wav", "seed": 7}
    timed = client.post("/v1/audio/speech/timed", json=body)
    assert timed.status_code == 200, timed.text
    sentences = timed.json()["sentences"]
    vtt = client.post("/v1/audio/captions", json={"sentences": sentences, "format": "vtt"})
    assert vtt.status_code == 200 and vtt.headers["content-type"].startswith("text/vtt"), vtt.text
    cues = list(webvtt.from_buffer(io.StringIO(vtt.text)))
    assert [c.text for c in cues] == ["사과 3개 주세요.", "고맙습니다!"]
    h, m, sec = cues[1].start.split(":")
    assert int(h) * 3600 + int(m) * 60 + float(sec) == pytest.approx(sentences[1]["start"], abs=1e-3)
    # ... and the same captions the service makes when it speaks the text itself.
    spoken = client.post("/v1/audio/captions", json={**body, "format": "srt"}).text
    assert client.post("/v1/audio/captions", json={"sentences": sentences, "format": "srt"}).text == spoken
    for bad, field in (({"sentences": []}, "sentences"), ({"format": "vtt"}, "input")):
        r = client.post("/v1/audio/captions", json=bad)
        assert r.status_code == 400 and r.json()["error"]["field"] == field, r.text
    r = client.post("/v1/audio/captions", json={"sentences": [{"text": "x", "start": -1, "end": 1}]})
    assert r.status_code == 422 and r.json()["error"]["field"] == "sentences"

    # A member's noise differs per job; with the same seed, the same samples.
    pcm = _parse_wav(base64.b64decode(timed.json()["audio"]))[1]
    again = client.post("/v1/audio/speech", json=body)
    assert again.status_code == 200 and _parse_wav(again.content)[1] == pcm
    other = client.post("/v1/audio/speech", json={**body, "seed": 8})
    assert _parse_wav(other.content)[1] != pcm
    assert client.post("/v1/audio/speech", json={**body, "seed": -1}).status_code == 422


def test_voices_health_ready_metrics(client: httpx.Client) -> None:
    voices = {v["id"]: v for v in client.get("/v1/audio/voices").json()["voices"]}
    assert set(voices) >= {"builtin", "1", "2"} and all(v["workers"] >= 1 for v in voices.values())
    assert client.get("/healthz").json()["status"] == "ok"
    ready = client.get("/readyz").json()
    assert ready["ready"] and ready["broker"] and ready["result_backend"]
    texts(client)
    metrics = client.get("/metrics").text
    for name in ("forv_tts_http_requests_total", "forv_tts_job_seconds_bucket", "forv_tts_queue_depth"):
        assert name in metrics
    assert 'forv_tts_queue_depth{queue="tts.member.1"}' in metrics
    r = client.options(
        "/api/texts", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    )
    assert r.headers.get("access-control-allow-origin") in ("*", "https://app.example")


def test_hundred_concurrent_requests(svc: Service) -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=svc.url, timeout=120) as c:
            payloads = [
                {
                    "uuid": str(_uuid.uuid4()),
                    "member_id": "builtin",
                    "text": f"{i}번 요청입니다.",
                    "created_at": "2022-08-22",
                }
                for i in range(100)
            ]
            return await asyncio.gather(*(c.post("/api/texts", json=p) for p in payloads))

    responses = asyncio.run(run())
    assert [r.status_code for r in responses] == [200] * 100, [
        r.text for r in responses if r.status_code != 200
    ][:3]
    names = {r.json()["uuid"] for r in responses}
    assert len(names) == 100
    for r in responses:
        assert (svc.out_dir / f"wav_files/builtin/{r.json()['uuid']}_2022-08-22_voice.wav").is_file()


def test_api_process_imports_no_torch(client: httpx.Client, svc: Service) -> None:
    texts(client)
    client.get("/v1/audio/voices")
    maps = Path(f"/proc/{svc.proc.pid}/maps").read_text()
    assert "libtorch" not in maps and "libespeak" not in maps
    # Workers, by contrast, are separate processes (the ones that did load a member map libtorch).
    assert descendants(svc.proc.pid)


def test_api_module_imports_probe(voice_dir: Path, tmp_path: Path) -> None:
    """In-process probe: every endpoint's imports, without a worker, load nothing heavy."""
    import subprocess
    import sys

    code = f"""
import sys, asyncio, json
import httpx
from forv_tts.service.embedded import EmbeddedServer
from forv_tts.service.settings import resolve
from forv_tts.service.api import create_app
with EmbeddedServer() as server:
    settings = resolve(broker_url=server.url, voice_dir={str(voice_dir)!r}, out_dir={str(tmp_path)!r})
    app = create_app(settings)
    async def go():
        async with app.router.lifespan_context(app):
            t = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=t, base_url="http://x") as c:
                for path in ("/healthz", "/readyz", "/metrics", "/v1/audio/voices", "/docs", "/openapi.json"):
                    await c.get(path)
                await c.post("/v1/jobs", json={{"text": "안녕", "member_id": 1}})
                await c.post("/api/texts", json={{"uuid": "x"}})
    asyncio.run(go())
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print(json.dumps(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_api_keys(tmp_path: Path) -> None:
    with (
        service(tmp_path, ["--workers", "1", "--api-key", "k1"], headers={"Authorization": "Bearer k1"}) as s,
        httpx.Client(base_url=s.url, timeout=30) as c,
    ):
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 401
        r = texts(c)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        assert texts(c, uuid=UUID).status_code == 401
        wrong = c.get("/v1/audio/voices", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = c.post(
            "/api/texts",
            json={"uuid": UUID, "member_id": "builtin", "text": "열쇠", "created_at": "2022-08-22"},
            headers={"Authorization": "Bearer k1"},
        )
        assert good.status_code == 200
        assert c.get("/metrics", headers={"Authorization": "Bearer k1"}).status_code == 200


def test_workers_use_the_user_lexicon(tmp_path: Path) -> None:
    lexicon = tmp_path / "words.tsv"
    lexicon.write_text("코끼리\t바나나\n", encoding="utf-8")
    env = {"FORV_TTS_LEXICON": str(lexicon)}
    with (
        service(tmp_path / "svc", ["--workers", "1"], env) as s,
        httpx.Client(base_url=s.url, timeout=60) as c,
    ):
        job_id = str(_uuid.uuid4())
        assert texts(c, uuid=job_id, text="코끼리가 왔어요.").status_code == 200
        normalized = c.get(f"/v1/jobs/{job_id}").json()["normalized"]
    assert "바나나" in normalized and "코끼리" not in normalized


def test_workers_read_an_edited_lexicon_as_the_page_does(tmp_path: Path) -> None:
    """The voice directory's lexicon.tsv applies to clips and speech as to /v1/normalize, and an edit
    applies to the next job in the same worker process (workers check it per job, not once per
    process), even one of the same size and mtime; a file made malformed fails page and jobs alike with
    bad_lexicon until it is fixed."""
    import base64
    import os

    voices = tmp_path / "voices"
    voices.mkdir()
    lexicon = voices / "lexicon.tsv"
    lexicon.write_text("forv\t가나\n", encoding="utf-8")
    args, env = ["--workers", "1", "--voice-dir", str(voices)], {"FORV_TTS_LEXICON": ""}
    with (
        service(tmp_path / "svc", args, env) as s,
        httpx.Client(base_url=s.url, timeout=60) as c,
    ):
        pids: set[int] = set()

        def clip_reading() -> str:
            r = texts(c, text="forv 입니다.")
            assert r.status_code == 200, r.text
            job = c.get(f"/v1/jobs/{r.json()['uuid']}").json()
            pids.add(job["worker_pid"])
            return str(job["normalized"])

        def speech_reading() -> str:
            body = {"input": "forv 입니다.", "voice": "builtin", "response_format": "wav"}
            timed = c.post("/v1/audio/speech/timed", json=body).json()
            assert base64.b64decode(timed["audio"])
            return " ".join(sentence["spoken"] for sentence in timed["sentences"])

        def page_reading() -> str:
            return str(
                c.post("/v1/normalize", json={"text": "forv 입니다."}).json()["sentences"][0]["pronounced"]
            )

        first = page_reading()
        assert "가나" in first and clip_reading() == first and speech_reading() == first
        stat = lexicon.stat()
        lexicon.write_text("forv\t다라\n", encoding="utf-8")
        os.utime(lexicon, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
        edited = page_reading()
        assert "다라" in edited and clip_reading() == edited and speech_reading() == edited

        lexicon.write_text("forv 다라\n", encoding="utf-8")
        page = c.post("/v1/normalize", json={"text": "forv 입니다."})
        assert page.status_code == 500 and page.json()["error"]["code"] == "bad_lexicon"
        clip = texts(c, text="forv 입니다.")
        assert clip.status_code == 500 and clip.json()["error"]["code"] == "bad_lexicon", clip.text
        lexicon.write_text("forv\t마바\n", encoding="utf-8")
        fixed = page_reading()
        assert "마바" in fixed and clip_reading() == fixed
        assert len(pids) == 1  # one worker process read every version


def test_the_request_cap_is_its_own_setting_and_0_is_no_cap(tmp_path: Path) -> None:
    """`FORV_TTS_SERVICE_MAX_TEXT_CHARS` caps a request's text; `FORV_TTS_MAX_TEXT_CHARS`, the name the
    service read before, still does when the new one is unset; 0 is "no cap" (serve refused it before)."""
    api_only = ["--workers", "0"]  # the cap is checked before anything is queued: no worker needed
    env = {"FORV_TTS_SERVICE_MAX_TEXT_CHARS": "10", "FORV_TTS_MAX_TEXT_CHARS": "0"}
    with (
        service(tmp_path / "a", api_only, env, readiness="/healthz") as svc,
        httpx.Client(base_url=svc.url) as c,
    ):
        over = c.post("/v1/jobs", json={"member_id": "builtin", "text": "가" * 11})
        assert over.status_code == 413 and over.json()["error"]["code"] == "text_too_long", over.text
        assert "the limit is 10" in over.json()["error"]["message"]
        assert c.post("/v1/jobs", json={"member_id": "builtin", "text": "가" * 10}).status_code == 202
    with service(tmp_path / "b", api_only, {"FORV_TTS_MAX_TEXT_CHARS": "0"}, readiness="/healthz") as svc:
        r = httpx.post(f"{svc.url}/v1/jobs", json={"member_id": "builtin", "text": "가나다라마. " * 1200})
        assert r.status_code == 202, r.text  # 8,400 characters: over the old default of 5,000

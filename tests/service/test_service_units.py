"""The service's pure parts: the error table, settings resolution, queue names, the streaming WAV header,
and the embedded server's private socket."""

from __future__ import annotations

import io
import os
import stat
import wave

import pytest

from forv_tts import errors as lib
from forv_tts.service import names
from forv_tts.service.errors import (
    STATUS,
    ConflictError,
    TextTooLongError,
    UnauthorizedError,
    code_for,
    status_for,
)
from forv_tts.service.settings import redis_client_url, resolve


@pytest.mark.parametrize(
    ("err", "code", "status"),
    [
        (lib.UnknownMemberError("x"), "unknown_member", 404),
        (lib.IncompleteMemberError("x"), "incomplete_member", 404),
        (lib.NothingToSayError("x"), "nothing_to_say", 422),
        (lib.InvalidInputError("x"), "invalid_input", 422),
        (lib.UsageError("x"), "bad_usage", 400),
        (lib.VoiceLoadError("x"), "voice_load_failed", 500),
        (lib.SynthesisError("x"), "synthesis_failed", 500),
        (lib.CredentialsError("x"), "no_credentials", 502),
        (lib.UploadError("x"), "upload_failed", 502),
        (lib.UploadUnreachableError("x"), "upload_unreachable", 502),
        (lib.ForvError("x"), "error", 500),
        (TextTooLongError("x"), "text_too_long", 413),
        (lib.TextTooLongError("x"), "text_too_long", 413),
        (lib.DiskFullError("x"), "disk_full", 507),
        (UnauthorizedError("x"), "unauthorized", 401),
        (ConflictError("x"), "conflict", 409),
        (RuntimeError("x"), "internal", 500),
    ],
)
def test_error_table(err: Exception, code: str, status: int) -> None:
    assert code_for(err) == code and status_for(code) == status


def test_every_raised_error_answers_with_its_own_code() -> None:
    """What a client sees (the JSON body the API renders, the code a worker records) is the code the
    library raised, and every such code has its own row."""
    import json

    from forv_tts.service.api.schemas import error_response
    from forv_tts.text.lexicon import LexiconError

    classes = [c for c in lib.error_classes() if not c.__module__.startswith("forv_tts.cli")]
    assert LexiconError in classes and lib.CancelledError in classes
    for cls in classes:
        err = cls.__new__(cls)
        lib.ForvError.__init__(err, "x")
        response = error_response(err)
        body = json.loads(bytes(response.body))
        assert body["error"]["code"] == cls.code == code_for(err), cls
        assert cls.code in STATUS and response.status_code == STATUS[cls.code], cls


def test_settings_option_env_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("FORV_TTS_"):
            monkeypatch.delenv(key)
    s = resolve()
    assert s.broker_url is None and s.max_text_chars == 5000 and s.cors_origins == ("*",) and not s.api_keys
    monkeypatch.setenv("FORV_TTS_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("FORV_TTS_API_KEYS", "a, b")
    monkeypatch.setenv("FORV_TTS_MAX_TEXT_CHARS", "10")
    s = resolve()
    assert s.result_backend == "redis://127.0.0.1:1/0"  # a Redis broker is its own backend
    assert s.api_keys == ("a", "b") and s.max_text_chars == 10
    s = resolve(broker_url="redis://h:2/0", api_keys=["k"], max_text_chars=3)
    assert s.broker_url == "redis://h:2/0" and s.api_keys == ("k",) and s.max_text_chars == 3


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"broker_url": "amqp://u:p@h//", "result_backend": "rpc://"}, "rpc://"),
        ({"broker_url": "amqp://u:p@h//", "require_backend": True}, "--result-backend"),
        ({"broker_url": "sqs://x"}, "unsupported broker"),
        ({"bucket": "Bad/Bucket"}, "bucket"),
        ({"max_text_chars": -1}, "--max-text"),  # 0 is no cap, as for the library
        ({"max_deliveries": 0}, "at least 1"),
        ({"upload_timeout_s": -2.0}, "above 0"),
    ],
)
def test_settings_refuse_what_cannot_work(kwargs: dict[str, object], needle: str) -> None:
    with pytest.raises(lib.InvalidInputError, match=needle.replace("/", ".").replace("-", ".")):
        resolve(**kwargs)  # type: ignore[arg-type]


def test_names_and_urls() -> None:
    assert names.queue_for("3") == "tts.member.3" and names.queue_for(None) == "tts.member.builtin"
    assert names.member_of_queue("tts.member.3") == "3" and names.member_of_queue("celery") is None
    assert redis_client_url("redis+socket:///tmp/x.sock") == "unix:///tmp/x.sock"
    assert redis_client_url("redis://h:1/2") == "redis://h:1/2"


def test_streaming_wav_header_is_a_valid_wav_prefix() -> None:
    from forv_tts.audio import UNKNOWN_SIZE, wav_header

    pcm = b"\x01\x00" * 100
    with wave.open(io.BytesIO(wav_header(16000, len(pcm)) + pcm)) as w:
        assert (w.getframerate(), w.getnframes(), w.getsampwidth()) == (16000, 100, 2)
    head = wav_header(16000, None)
    assert len(head) == 44 and head[4:8] == head[40:44] == UNKNOWN_SIZE.to_bytes(4, "little")


def test_embedded_server_private_socket_and_cleanup() -> None:
    import redis

    from forv_tts.service.embedded import EmbeddedServer

    server = EmbeddedServer().start()
    try:
        assert stat.S_IMODE(server.directory.stat().st_mode) == 0o700
        assert stat.S_IMODE(server.socket_path.stat().st_mode) & 0o077 == 0
        client = redis.Redis(unix_socket_path=str(server.socket_path))
        assert client.ping() and client.config_get("port")["port"] == "0"  # no TCP port at all
        client.close()
        pid = server.process.pid if server.process else 0
    finally:
        server.stop()
    assert not server.directory.exists()
    from servicekit import alive

    assert not alive(pid)

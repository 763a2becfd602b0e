"""`forv-tts serve`: the HTTP API; with no broker also the embedded queue and local workers
(`forv_tts.service.serve`). Only typer is imported here; the service loads when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from forv_tts.cli.options import VoiceDirOption
from forv_tts.cli.root import app

BrokerOption = Annotated[
    str | None,
    typer.Option(
        "--broker",
        help="Broker URL: amqp://USER:PASS@HOST/VHOST or redis://HOST:6379/0 ($FORV_TTS_BROKER_URL).",
        show_default=False,
    ),
]
BackendOption = Annotated[
    str | None,
    typer.Option(
        "--result-backend",
        help="Result backend every API process can read: redis://HOST:6379/0 ($FORV_TTS_RESULT_BACKEND; "
        "default: a Redis broker itself).",
        show_default=False,
    ),
]
BucketOption = Annotated[
    str | None,
    typer.Option("--bucket", help="Upload clips to this GCS bucket ($FORV_TTS_BUCKET).", show_default=False),
]
OutDirOption = Annotated[
    Path | None,
    typer.Option(
        "--out-dir",
        help="Clips are written to OUT_DIR/wav_files/<member>/<uuid>_<created_at>_voice.wav "
        "($FORV_TTS_OUT_DIR, default .).",
        show_default=False,
    ),
]


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on.")] = 8000,
    broker: BrokerOption = None,
    result_backend: BackendOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            min=0,
            help="Local worker processes (default: the cores; 0: API only, jobs go to the broker).",
            show_default=False,
        ),
    ] = None,
    voice_dir: VoiceDirOption = None,
    bucket: BucketOption = None,
    out_dir: OutDirOption = None,
    api_key: Annotated[
        list[str] | None,
        typer.Option(
            "--api-key",
            help="Require 'Authorization: Bearer KEY' (repeatable; $FORV_TTS_API_KEYS, comma-separated).",
            show_default=False,
        ),
    ] = None,
    max_text: Annotated[
        int | None,
        typer.Option(
            "--max-text",
            min=0,
            help="Most characters of text in one request ($FORV_TTS_SERVICE_MAX_TEXT_CHARS, default 5000; "
            "0: no limit but the body's).",
            show_default=False,
        ),
    ] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin", help="Allowed CORS origin (repeatable; default any: '*').", show_default=False
        ),
    ] = None,
) -> None:
    """Run the HTTP API; with no broker, also an embedded queue and local workers (nothing to install)."""
    import logging

    from forv_tts.service import serve as serve_mod
    from forv_tts.service.settings import resolve

    settings = resolve(
        broker_url=broker,
        result_backend=result_backend,
        voice_dir=voice_dir,
        out_dir=out_dir,
        bucket=bucket,
        api_keys=api_key,
        max_text_chars=max_text,
        cors_origins=cors_origin,
        require_backend=True,
    )
    level = logging.getLogger("forv_tts").getEffectiveLevel()
    loglevel = "debug" if level <= logging.DEBUG else "info" if level <= logging.INFO else "warning"
    serve_mod.run(settings, host=host, port=port, workers=workers, loglevel=loglevel)

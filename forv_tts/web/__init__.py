"""The page to try the voices, served by `forv-tts serve` at `/`.

- `routes`: the `APIRouter` (`GET /`, the page's static files, `POST /v1/normalize`) the service app
  includes, and `PUBLIC_PATHS`, the paths its API-key check lets through.
- `normalizer`: normalisation in a child process, so the API process never imports g2pk.
- `static/`: the page itself (HTML, CSS, one script; no build step, nothing loaded from elsewhere).
"""

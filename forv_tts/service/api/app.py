"""The application: `create_app` wires the shared `Service`, the error handlers (every error answers
with the one JSON body, its status from `service.errors`), the routes by family, the page, and the
middleware (API keys, request metrics, CORS)."""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from forv_tts.errors import ForvError
from forv_tts.service import guard
from forv_tts.service.api.routes import clips, health, jobs, speech
from forv_tts.service.api.schemas import error_body, error_response
from forv_tts.service.api.state import Service
from forv_tts.service.errors import ServiceError, UnauthorizedError, UnavailableError
from forv_tts.service.settings import ServiceSettings
from forv_tts.web.routes import is_public, page_router

log = logging.getLogger(__name__)


class AuthMetricsMiddleware:
    """Pure ASGI: checks `Authorization: Bearer` (all but /healthz) and counts requests.

    Not `BaseHTTPMiddleware`, which buffers in ways that hide a streaming client's disconnect.
    """

    def __init__(self, app: Any, service: Service) -> None:
        self.app = app
        self.service = service
        self.keys = [k.encode() for k in service.settings.api_keys]

    def _allowed(self, scope: dict[str, Any]) -> bool:
        if not self.keys or scope.get("path") == "/healthz" or scope.get("method") == "OPTIONS":
            return True
        if is_public(scope.get("path", "")):  # the page's own files: it must load to ask for the key
            return True
        for name, value in scope.get("headers", ()):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                token = value[7:].strip()
                return any(hmac.compare_digest(token, key) for key in self.keys)
        return False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status_holder = {"status": 500}

        async def counting_send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        try:
            if not self._allowed(scope):
                err = UnauthorizedError(
                    "missing or wrong API key: send 'Authorization: Bearer <key>'", field="Authorization"
                )
                response = error_response(err)
                response.headers["WWW-Authenticate"] = "Bearer"
                await response(scope, receive, counting_send)
                return
            await self.app(scope, receive, counting_send)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.service.metrics.requests.labels(
                scope.get("method", ""), path, str(status_holder["status"])
            ).inc()


def create_app(settings: ServiceSettings) -> FastAPI:
    """The FastAPI application for these settings (broker and result backend must be set)."""
    service = Service(settings)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.store.start()
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="forv-tts",
        summary="Korean text-to-speech with your team's own voices",
        lifespan=lifespan,
    )
    app.state.service = service

    @app.exception_handler(ServiceError)
    async def _service_error(_request: Request, err: ServiceError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(ForvError)
    async def _library_error(_request: Request, err: ForvError) -> JSONResponse:
        return error_response(err)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, err: Exception) -> JSONResponse:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        if isinstance(err, RedisConnectionError | RedisTimeoutError):
            return error_response(UnavailableError(f"the result backend is unreachable ({err}): try again"))
        log.exception("unexpected error")
        return JSONResponse(
            error_body("internal_error", f"unexpected {type(err).__name__}: {err}; see the server log"), 500
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, err: RequestValidationError) -> JSONResponse:
        if (unsupported := guard.content_type_error(_request)) is not None:
            return unsupported
        errors = err.errors()
        first = errors[0] if errors else {}
        kind = str(first.get("type", ""))
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
        field_name = loc[0] if loc else None  # the request's field, not pydantic's union branch
        if kind == "json_invalid":
            return JSONResponse(
                error_body("invalid_json", "the body is not valid JSON: send a JSON object", None), 400
            )
        if kind in ("model_attributes_type", "dict_type") or (field_name is None and kind != "missing"):
            return JSONResponse(
                error_body("invalid_request", "the body must be a JSON object with the documented fields"),
                400,
            )
        if kind == "missing":
            message = f"{field_name or 'body'} is required"
        else:
            message = f"{field_name}: {first.get('msg', 'invalid value')}"
        return JSONResponse(
            error_body("validation_error", f"{message}; see /docs for the request's fields", field_name),
            422,
        )

    # Registered in the order of the one file they came from: `/v1/audio/voices` before the clips'
    # `/v1/audio/{name}`.
    app.include_router(health.router(service))
    app.include_router(speech.router(service))
    app.include_router(clips.router(service))
    app.include_router(jobs.router(service))
    app.include_router(page_router(service.check_text, settings.voice_dir))  # the page, /v1/normalize
    guard.install(app)  # body and connection limits, every error in our shape (inside the auth middleware)
    # Added last = outermost: CORS headers also go on a 401.
    app.add_middleware(AuthMetricsMiddleware, service=service)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_origins),
        allow_methods=["*"],
        allow_headers=["*"],
    )
    return app

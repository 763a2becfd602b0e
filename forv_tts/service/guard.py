"""What anyone who can reach the port may send, bounded, and every answer in the service's error shape.

- Connections: at most `FORV_TTS_MAX_CONNECTIONS` open at once (one more is answered a canned 503 and
  closed, so the API never runs out of file descriptors), and a request's head must arrive within
  `FORV_TTS_HTTP_READ_TIMEOUT` seconds of the connection being idle (a slow-header client is closed;
  uvicorn alone waits forever). Both live in `GuardedH11`, uvicorn's h11 protocol with two timers.
- Bodies: at most `FORV_TTS_MAX_BODY_BYTES` (a larger Content-Length is refused before it is read, a
  chunked body once it passes the limit: JSON 413, connection closed), each piece within the read timeout.
- Errors: an unexpected exception is answered by the app's own handler and the connection stays usable
  (Starlette's outer error middleware re-raises, and uvicorn then drops the keep-alive connection);
  routing errors (404, 405), unreadable bodies and non-JSON content types answer `{"error": {...}}`.
- Refusals are logged once per `LOG_EVERY_S` with a count, so a flood cannot flood the log.

`install(app)` wires the ASGI parts into the app; `uvicorn_options()` gives `serve` the protocol.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from forv_tts import settings as lib_settings

log = logging.getLogger(__name__)

LOG_EVERY_S = 10.0
_REFUSED_BODY = (
    b'{"error":{"code":"too_many_connections","message":"the server has too many open connections: '
    b'try again shortly"}}'
)
#: The answer to a connection over the limit, written without parsing anything.
REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"retry-after: 1\r\ncontent-length: " + str(len(_REFUSED_BODY)).encode() + b"\r\n\r\n" + _REFUSED_BODY
)

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class HttpLimits:
    """The HTTP limits, resolved from forv_tts.settings (variable, then default)."""

    max_body_bytes: int
    read_timeout_s: float
    max_connections: int

    @classmethod
    def resolve(cls) -> HttpLimits:
        body = lib_settings.MAX_BODY_BYTES.get()
        timeout = lib_settings.HTTP_READ_TIMEOUT.get()
        connections = lib_settings.MAX_CONNECTIONS.get()
        assert body is not None and timeout is not None and connections is not None
        return cls(max_body_bytes=body, read_timeout_s=timeout, max_connections=connections)


class RateLimitedLog:
    """Counts an event and logs it at most once per `LOG_EVERY_S` (with how many happened)."""

    def __init__(self, message: str) -> None:
        self.message = message
        self.count = 0
        self._last = 0.0
        self._pending = 0

    def note(self) -> None:
        self.count += 1
        self._pending += 1
        now = time.monotonic()
        if now - self._last >= LOG_EVERY_S:
            log.warning("%s (%d since the last report)", self.message, self._pending)
            self._last = now
            self._pending = 0


REFUSED_LOG = RateLimitedLog("connection refused: FORV_TTS_MAX_CONNECTIONS connections are open")
SLOW_LOG = RateLimitedLog("closed a connection whose request head did not arrive within the read timeout")


def guarded_protocol(limits: HttpLimits) -> type:
    """uvicorn's h11 protocol with a connection cap and a deadline for each request's head."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11(H11Protocol):
        _head_timer: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(self, transport: Any) -> None:
            if len(self.connections) >= limits.max_connections:
                self._refused = True
                self.transport = transport
                REFUSED_LOG.note()
                transport.write(REFUSED)
                transport.close()
                return
            super().connection_made(transport)
            self._arm_head()

        def _arm_head(self) -> None:
            self._cancel_head()
            self._head_timer = self.loop.call_later(limits.read_timeout_s, self._head_timeout)

        def _cancel_head(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_timeout(self) -> None:
            self._head_timer = None
            if not self.transport.is_closing():
                SLOW_LOG.note()
                self.transport.close()

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a request head arrived
                self._cancel_head()

        def on_response_complete(self) -> None:
            self._arm_head()  # the next head must come in time too (a pipelined one cancels it at once)
            super().on_response_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head()
            if self._refused:
                return
            super().connection_lost(exc)

    return GuardedH11


#: File descriptors the API process needs beside its HTTP connections (backend pool, logs, pipes).
FD_RESERVE = 400


def _raise_fd_limit(connections: int) -> None:
    """Lift the soft descriptor limit to the hard one (a 1024 soft limit is common), and warn when the
    connection cap still does not fit under it."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and connections + FD_RESERVE > soft:
        log.warning(
            "FORV_TTS_MAX_CONNECTIONS=%d does not fit the descriptor limit %d: lower it to %d, or raise "
            "ulimit -n",
            connections,
            soft,
            max(1, soft - FD_RESERVE),
        )


def uvicorn_options(limits: HttpLimits | None = None) -> dict[str, Any]:
    """uvicorn.Config keywords for these limits (`serve` passes them)."""
    limits = limits or HttpLimits.resolve()
    _raise_fd_limit(limits.max_connections)
    return {
        "http": guarded_protocol(limits),
        "timeout_keep_alive": min(5.0, limits.read_timeout_s),
        "backlog": min(2048, max(64, limits.max_connections)),
    }


# --- ASGI -----------------------------------------------------------------------------------------


def error_json(code: str, message: str, field_name: str | None = None) -> dict[str, Any]:
    """The service's error body (as `api.error_body`, without importing the API module here)."""
    err: dict[str, Any] = {"code": code, "message": message}
    if field_name is not None:
        err["field"] = field_name
    return {"error": err}


async def _send_json(send: Send, status: int, body: dict[str, Any], *, close: bool = False) -> None:
    import json

    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _body_too_large(limit: int) -> Any:
    from starlette.exceptions import HTTPException

    return HTTPException(413, f"the request body is over {limit} bytes (FORV_TTS_MAX_BODY_BYTES)")


class BodyGuard:
    """Pure ASGI: a body over the limit is a 413 (before reading, when Content-Length says so), and a
    body that stops arriving for the read timeout is a 408; both close the connection."""

    def __init__(self, app: Any, limits: HttpLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limits.max_body_bytes
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = -1
                if declared > limit:
                    body = error_json("body_too_large", _body_too_large(limit).detail)
                    await _send_json(send, 413, body, close=True)
                    return
                if declared < 0:
                    body = error_json("invalid_request", "the Content-Length header is not a number")
                    await _send_json(send, 400, body, close=True)
                    return
        seen = 0
        complete = False

        async def guarded_receive() -> Message:
            nonlocal seen, complete
            if complete:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.limits.read_timeout_s)
            except asyncio.TimeoutError:
                from starlette.exceptions import HTTPException

                SLOW_LOG.note()
                raise HTTPException(
                    408, f"the request body stopped arriving for {self.limits.read_timeout_s:g} s"
                ) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _body_too_large(limit)
                complete = not message.get("more_body", False)
            else:
                complete = True
            return message

        await self.app(scope, guarded_receive, send)


class StreamAborted(Exception):
    """A streamed response cannot be completed (its job failed after the first bytes were sent): the
    connection is closed without the final chunk, so every client sees an error, never a clean end
    with audio missing."""


class ErrorBoundary:
    """Pure ASGI, inside the app's middleware: an unexpected exception before the response started is
    answered by `handler` (the app's own catch-all) and not re-raised, so uvicorn keeps the connection.
    After the response started it is re-raised: uvicorn aborts the connection, and the client sees an
    error instead of a clean end."""

    def __init__(self, app: Any, handler: Callable[[Any, Exception], Awaitable[Any]]) -> None:
        self.app = app
        self.handler = handler

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except StreamAborted as err:
            # Returning with the response unfinished makes uvicorn close the connection (one log line,
            # no traceback per aborted stream).
            log.warning("aborted a streamed response: %s", err)
            if not started:
                raise
        except Exception as err:
            if started:
                raise
            from starlette.requests import Request

            response = await self.handler(Request(scope, receive), err)
            await response(scope, receive, send)


#: Codes for the HTTP errors Starlette and FastAPI raise themselves.
HTTP_CODES = {
    400: "invalid_json",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "body_too_large",
}


def http_error_response(request: Any, err: Any) -> Any:
    """A Starlette HTTPException (unknown route, wrong method, unreadable body, limits) in our shape."""
    from fastapi.responses import JSONResponse

    status = int(err.status_code)
    code = HTTP_CODES.get(status, "invalid_request" if status < 500 else "internal_error")
    message = str(err.detail)
    headers = dict(getattr(err, "headers", None) or {})
    if status == 404:
        message = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
    elif status == 405:
        allowed = headers.get("Allow") or headers.get("allow")
        message = f"{request.method} is not allowed on {request.url.path}" + (
            f": use {allowed}" if allowed else ""
        )
    elif status == 400 and message == "There was an error parsing the body":
        message = "the body is not valid UTF-8 JSON: send a JSON object encoded as UTF-8"
    if status in (408, 413):
        headers["connection"] = "close"
    return JSONResponse(error_json(code, message), status_code=status, headers=headers)


def content_type_error(request: Any) -> Any:
    """A 415 for a body sent as something other than JSON (FastAPI then sees bytes, not an object, and
    the validation error would say the fields are wrong); None when the type is JSON or absent."""
    from fastapi.responses import JSONResponse

    value = request.headers.get("content-type")
    if not value or request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    kind = value.split(";", 1)[0].strip().lower()
    if kind == "application/json" or kind.endswith("+json"):
        return None
    message = f"the body is {kind}: send JSON with 'Content-Type: application/json'"
    return JSONResponse(error_json("unsupported_media_type", message, "Content-Type"), status_code=415)


def check_unicode(text: str, field_name: str) -> str:
    """Refuse a lone surrogate (JSON's "\\ud800" escapes decode to one): it cannot be UTF-8 encoded, so
    it would fail later, in the queue, as a 500."""
    from forv_tts.service.errors import ServiceError

    for index, ch in enumerate(text):
        if "\ud800" <= ch <= "\udfff":
            raise ServiceError(
                f"{field_name} has a lone surrogate (U+{ord(ch):04X}) at character {index}: "
                "send valid Unicode (pair the surrogates, or drop it)",
                field=field_name,
                code="invalid_input",
            )
    return text


def install(app: Any, limits: HttpLimits | None = None) -> None:
    """Wire the ASGI guards and error shapes into `app`; call before the outer middleware is added (the
    boundary must sit inside the auth/metrics middleware, so a 500 is counted as one)."""
    from starlette.exceptions import HTTPException

    limits = limits or HttpLimits.resolve()
    handler = app.exception_handlers.get(Exception)
    if handler is not None:
        app.add_middleware(ErrorBoundary, handler=handler)
    app.add_middleware(BodyGuard, limits=limits)

    async def _http_error(request: Any, err: Any) -> Any:
        return http_error_response(request, err)

    app.add_exception_handler(HTTPException, _http_error)

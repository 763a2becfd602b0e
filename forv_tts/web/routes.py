"""The page's routes, as an `APIRouter` the service app includes with one line.

- `GET /` and `GET /ui/<file>`: the page, static files shipped inside the package (no build step, nothing
  fetched from elsewhere: the Content-Security-Policy allows this origin only).
- `POST /v1/normalize`: `{"text": ...}` -> `{"sentences": [...]}`, the list `forv-tts normalize --json`
  prints (sentence, expanded, pronounced, rewrites, lexicon entries; the voice directory's lexicon.tsv
  and $FORV_TTS_LEXICON apply), computed in a child process (`web.normalizer`).

The page and its files are public (`PUBLIC_PATHS`) even when API keys are set: they hold no data, and the
page must load to ask for the key. `/v1/normalize` is an API call like any other and needs the key.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, StrictStr

from forv_tts.errors import NothingToSayError
from forv_tts.service.errors import BadRequestError, NotFoundError, UnavailableError
from forv_tts.web.normalizer import Normalizer, NormalizerUnavailableError

#: Files under `forv_tts/web/static/` the page is made of, and their media types.
STATIC_FILES: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "page.js": "text/javascript; charset=utf-8",
    "page.css": "text/css; charset=utf-8",
}
UI_PREFIX = "/ui/"
#: Paths served without an API key.
PUBLIC_PATHS: frozenset[str] = frozenset({"/", *(UI_PREFIX + name for name in STATIC_FILES)})

#: This origin only (`blob:`: the WAV the page builds for its download link); no inline script or style.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' blob:; "
    "img-src 'self' data:; media-src 'self' blob:; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Small files: always revalidate, so an upgraded service never runs yesterday's script.
    "Cache-Control": "no-cache",
}


class NormalizeBody(BaseModel):
    """`POST /v1/normalize`'s request."""

    model_config = ConfigDict(extra="forbid")
    text: StrictStr


class Rewrite(BaseModel):
    """One rule that changed the text: the span (characters start..end of the sentence) and its reading."""

    span: str
    start: int
    end: int
    rule: str
    reading: str


class LexiconEntry(BaseModel):
    """A user lexicon entry that applied to the sentence, and the file it came from."""

    written: str
    spoken: str
    source: str


class Stage(BaseModel):
    """One sentence as the voice reads it: as written, numbers and symbols spelled out, as pronounced."""

    sentence: str
    expanded: str
    pronounced: str
    rewrites: list[Rewrite]
    #: Present only when a lexicon is configured (as in `normalize --json`).
    lexicon: list[LexiconEntry] | None = None


class NormalizeAnswer(BaseModel):
    """`POST /v1/normalize`'s answer: the speakable sentences in order."""

    sentences: list[Stage]


def is_public(path: str) -> bool:
    """True for the page's own files, which the API-key check lets through."""
    return path in PUBLIC_PATHS


@lru_cache(maxsize=len(STATIC_FILES))
def static_file(name: str) -> bytes:
    """A file of the page (one of `STATIC_FILES`), read once from the installed package."""
    return (resources.files("forv_tts.web") / "static" / name).read_bytes()


def _default_check(text: str, field_name: str) -> str:
    if not text.strip():
        raise BadRequestError(f"{field_name} is empty: give Korean text to normalise", field=field_name)
    return text


def page_router(
    check_text: Callable[[str, str], str] | None = None, voice_dir: Path | str | None = None
) -> APIRouter:
    """The routes; `check_text(text, field)` is the service's own text check (emptiness, length cap),
    `voice_dir` where the lexicon.tsv the normaliser applies is looked for."""
    check = check_text or _default_check
    normalizer = Normalizer(voice_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            normalizer.close()

    router = APIRouter(lifespan=lifespan)

    def _file(name: str) -> Response:
        if name not in STATIC_FILES:
            raise NotFoundError(f"no page file {name!r}: open / for the page", field="path")
        return Response(static_file(name), media_type=STATIC_FILES[name], headers=HEADERS)

    @router.get("/", include_in_schema=False)
    async def page() -> Response:
        """The page to try the voices."""
        return _file("index.html")

    @router.get(UI_PREFIX + "{name}", include_in_schema=False)
    async def page_file(name: str) -> Response:
        """The page's script and style sheet."""
        return _file(name)

    @router.post("/v1/normalize", response_model=NormalizeAnswer, response_model_exclude_unset=True)
    async def normalize(body: NormalizeBody) -> dict[str, Any]:
        """The text as the voice will read it, sentence by sentence (`forv-tts normalize --json`)."""
        text = check(body.text, "text")
        try:
            stages = await normalizer.stages(text)
        except NormalizerUnavailableError as err:
            raise UnavailableError(str(err), field="text") from None
        if not stages:
            raise NothingToSayError(f"nothing speakable in text {text[:40]!r}: give Korean text")
        return {"sentences": stages}

    return router

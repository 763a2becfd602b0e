"""The page's routes over real HTTP against `forv-tts serve`: the public page files, and
`POST /v1/normalize` giving exactly what `forv-tts normalize --json` prints."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pagekit import API_KEY, cli_normalize_json
from servicekit import Service

from forv_tts.web.routes import CONTENT_SECURITY_POLICY, PUBLIC_PATHS

pytestmark = pytest.mark.slow


@pytest.fixture
def client(page_service: Service) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=page_service.url, timeout=60, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as c:
        yield c


@pytest.mark.parametrize(
    "text",
    [
        "안녕하세요!",
        "오늘은 2024년 3월 1일입니다. 사과 3개와 배 2개를 샀어요.",
        "회의는 오전 10시 30분에 시작합니다.\n참석자는 12명입니다!",
        "포브 팀의 KTX 표는 15,000원이에요.",
    ],
)
def test_normalize_is_the_cli_json(client: httpx.Client, page_voice_dir: Path, text: str) -> None:
    r = client.post("/v1/normalize", json={"text": text})
    assert r.status_code == 200, r.text
    assert r.json() == {"sentences": cli_normalize_json(text, page_voice_dir)}


def test_normalize_applies_the_voice_dirs_lexicon(client: httpx.Client) -> None:
    (stage,) = client.post("/v1/normalize", json={"text": "포브 팀입니다."}).json()["sentences"]
    assert stage["expanded"].startswith("뽀브")
    assert [(e["written"], e["spoken"]) for e in stage["lexicon"]] == [("포브", "뽀브")]
    assert stage["rewrites"][0]["span"] == "포브"


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        ({"text": ""}, 400, "invalid_request", "text"),
        ({"text": "   "}, 400, "invalid_request", "text"),
        ({"text": "?!…"}, 422, "nothing_to_say", "text"),
        ({"text": "가" * 5001}, 413, "text_too_long", "text"),
        ({"text": 3}, 422, "validation_error", "text"),
        ({}, 422, "validation_error", "text"),
        ({"text": "안녕", "extra": 1}, 422, "validation_error", "extra"),
    ],
)
def test_normalize_errors_are_json_naming_the_field(
    client: httpx.Client, body: dict[str, object], status: int, code: str, field: str
) -> None:
    r = client.post("/v1/normalize", json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    assert error.get("field") == field
    assert error["message"]


def test_normalize_needs_the_key_the_page_does_not(page_service: Service) -> None:
    with httpx.Client(base_url=page_service.url, timeout=30) as anonymous:
        refused = anonymous.post("/v1/normalize", json={"text": "안녕하세요"})
        assert refused.status_code == 401
        assert refused.json()["error"]["code"] == "unauthorized"
        assert anonymous.get("/v1/audio/voices").status_code == 401
        for path in sorted(PUBLIC_PATHS):
            r = anonymous.get(path)
            assert r.status_code == 200, path
            assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert r.headers["x-content-type-options"] == "nosniff"
        page = anonymous.get("/")
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert anonymous.get("/ui/page.js").headers["content-type"].startswith("text/javascript")
        assert anonymous.get("/ui/page.css").headers["content-type"].startswith("text/css")
        # Nothing else under /ui/ is public, nor is a file outside the page's list served.
        assert anonymous.get("/ui/../service/api.py").status_code in (401, 404)
    with httpx.Client(
        base_url=page_service.url, timeout=30, headers={"Authorization": f"Bearer {API_KEY}"}
    ) as c:
        assert c.get("/ui/routes.py").status_code == 404
        assert c.get("/ui/nothing.js").status_code == 404


def test_page_references_only_its_own_origin(page_service: Service) -> None:
    html = httpx.get(page_service.url + "/", timeout=30).text
    assert "http://" not in html and "https://" not in html
    assert 'src="/ui/page.js"' in html and 'href="/ui/page.css"' in html

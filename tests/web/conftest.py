"""One `forv-tts serve` for the page tests (real uvicorn, the embedded valkey, one real worker), with an
API key, the built-in voice, one tiny member at 16 kHz (so the page's other-sample-rate path runs) and
a lexicon.tsv, and one headless Chromium.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The service tests' process kit (tests/service/servicekit.py): start `forv-tts serve`, stop it by PID.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
pytest.register_assert_rewrite("servicekit", "pagekit", "gcs_emulator")
from pagekit import API_KEY, LEXICON, MEMBER, MEMBER_RATE, chromium  # noqa: E402
from servicekit import Service, service  # noqa: E402


@pytest.fixture(scope="session")
def page_voice_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A voice directory with one tiny real member (tests/voicefactory.py) at 16 kHz and a lexicon.tsv."""
    import voicefactory  # lazily: it imports torch

    root = tmp_path_factory.mktemp("page-voices")
    voicefactory.write_voice(root, voicefactory.VoiceSpec(member=MEMBER, sample_rate=MEMBER_RATE))
    (root / "lexicon.tsv").write_text(LEXICON, encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def page_service(tmp_path_factory: pytest.TempPathFactory, page_voice_dir: Path) -> Iterator[Service]:
    """`forv-tts serve` on 127.0.0.1 with one worker and an API key; stopped by PID at the end."""
    args = ["--workers", "1", "--voice-dir", str(page_voice_dir), "--api-key", API_KEY]
    headers = {"Authorization": f"Bearer {API_KEY}"}
    env = {"FORV_TTS_LEXICON": ""}  # only the voice directory's lexicon
    with service(tmp_path_factory.mktemp("page-service"), args, env, headers=headers) as svc:
        yield svc


@pytest.fixture(scope="session")
def driver() -> Iterator[Any]:
    """A headless Chromium in a phone-sized window."""
    with chromium() as d:
        yield d

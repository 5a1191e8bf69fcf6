"""What the normalise tests share: settings, a clock, and the fixtures in
tests/data/normalise read as the file reader reads them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from scofeed import sources
from scofeed.model import Entry, Release
from scofeed.normalise import Settings, normalise

FIXTURES = Path(__file__).parent / "data" / "normalise"
SETTINGS = Settings(
    authority="test.example,2026",
    base_url="http://127.0.0.1:8080/",
    author="SCO Secretariat",
    language="en",
    timezone="Asia/Shanghai",
)
NOW = datetime(2026, 1, 1, tzinfo=UTC)
FILE_DATE = datetime(2021, 7, 5, 9, 0, tzinfo=UTC)  # stands in for the file's mtime


def release(name: str, **changes: Any) -> Release:
    path = FIXTURES / name
    found = sources.read(name, path.suffix, path.read_bytes(), FILE_DATE, 1_000_000)
    assert len(found) == 1
    return replace(found[0], **changes)


def entry(name: str, **changes: Any) -> Entry:
    return normalise(release(name, **changes), SETTINGS, NOW)


def local(entry: Entry) -> str:
    return entry.published.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()

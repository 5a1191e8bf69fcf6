"""The plain-text release layout: first non-empty line is the title, then paragraphs."""

from __future__ import annotations

from datetime import datetime

from scofeed.model import Release


def read_text(origin: str, text: str, context: datetime | None) -> list[Release]:
    return [Release(origin=origin, text=text, context_date=context)]

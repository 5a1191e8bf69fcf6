"""The plain-text release layout: first non-empty line is the title, then paragraphs."""

from __future__ import annotations

import importlib
from datetime import datetime

from scofeed.model import Release
from scofeed.normalise.text import SENTENCE_ENDS


def read_text(origin: str, text: str, context: datetime | None) -> list[Release]:
    return [Release(origin=origin, text=without_furniture_at_end(text), context_date=context)]


def without_furniture_at_end(text: str) -> str:
    """``furniture.without_trailing``, asked only of a release (or Markdown source)
    whose last line ends otherwise than a sentence: that module (lxml.html, its
    patterns) costs ~6 ms to import, a one-shot build of the seed ~100 ms in all."""
    if text.rstrip().endswith(SENTENCE_ENDS):
        return text
    return importlib.import_module("scofeed.sources.furniture").without_trailing(text)

"""Ways a release arrives. Each reader turns bytes into ``Release`` records.

``READERS`` maps a file extension to its reader; ``files.scan`` walks sources/ and
uses it, as do ``scofeed add`` and the remote pollers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from scofeed.errors import RejectedInput
from scofeed.model import Release
from scofeed.sources.htmlpage import read_html
from scofeed.sources.jsonfile import read_json
from scofeed.sources.markdown import read_markdown
from scofeed.sources.text import read_text

# reader(origin, text, context_date) -> releases
Reader = Callable[[str, str, datetime | None], list[Release]]

READERS: dict[str, Reader] = {
    ".txt": read_text,
    ".html": read_html,  # a release page saved from the SCO website
    ".htm": read_html,
    ".md": read_markdown,
    ".json": read_json,
}


def decode(origin: str, data: bytes, max_bytes: int) -> str:
    """Bytes of a release as text, or RejectedInput saying why not."""
    if len(data) > max_bytes:
        raise RejectedInput(origin, f"too large ({len(data)} bytes, limit {max_bytes})")
    if not data.strip():
        raise RejectedInput(origin, "empty file")
    if b"\x00" in data[:8192]:
        raise RejectedInput(origin, "binary content (NUL bytes), not a text release")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RejectedInput(
            origin, f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read(
    origin: str, suffix: str, data: bytes, context: datetime | None, max_bytes: int
) -> list[Release]:
    reader = READERS.get(suffix.lower())
    if reader is None:
        raise RejectedInput(origin, f"unknown file type {suffix or '(none)'!r}")
    return reader(origin, decode(origin, data, max_bytes), context)

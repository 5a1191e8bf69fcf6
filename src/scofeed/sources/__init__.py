"""Ways a release arrives. Each reader turns bytes into ``Release`` records.

``READERS`` maps a file extension to the module and function of its reader, and
``reader(suffix)`` returns that function; ``files.scan`` walks sources/ and uses it, as
do ``scofeed add`` and the remote pollers.

Readers are imported by name (``importlib``) the first time a file of their type is
read, on purpose: the Markdown reader pulls in markdown-it and PyYAML, the HTML one
lxml.html and cssselect, and a sources/ folder of .txt files (the usual case) should not
pay for them on every ``scofeed build`` (issue #9, start-up).
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Callable
from datetime import datetime

from scofeed.errors import RejectedInput
from scofeed.model import Release

# reader(origin, text, context_date) -> releases
Reader = Callable[[str, str, datetime | None], list[Release]]

# extension -> (module under scofeed.sources, reader function in it)
READERS: dict[str, tuple[str, str]] = {
    ".txt": ("text", "read_text"),
    ".html": ("newslist", "read_html"),  # a release page saved from the SCO website
    ".htm": ("newslist", "read_html"),
    ".md": ("markdown", "read_markdown"),
    ".json": ("jsonfile", "read_json"),
}


_LOADED: dict[str, Reader] = {}  # suffix -> its reader, once imported


def reader(suffix: str) -> Reader | None:
    """The reader for files ending in ``suffix`` (e.g. ".md"), or None if there is none."""
    found = _LOADED.get(suffix)
    if found is not None:  # a cold build asks once a file: ~10x cheaper than importing
        return found
    where = READERS.get(suffix.lower())
    if where is None:
        return None
    found = getattr(importlib.import_module(f"scofeed.sources.{where[0]}"), where[1])
    _LOADED[suffix] = found
    return found


_META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_-]+)", re.IGNORECASE)
# labels a browser reads as another charset (WHATWG Encoding): a page whose <meta> can
# be read as ASCII is not UTF-16, and "latin1" pages hold windows-1252's curly quotes
_AS_BROWSERS_READ = {
    **dict.fromkeys(("utf-16", "utf-16le", "utf-16be", "unicode"), "utf-8"),
    **dict.fromkeys(
        ("iso-8859-1", "iso8859-1", "latin1", "l1", "ascii", "us-ascii", "cp819"), "cp1252"
    ),
    # the legacy East Asian labels name their supersets (WHATWG's GBK decoder is its
    # gb18030's): Python's strict gb2312 refused, or made U+FFFD of, characters of GBK
    # that Chinese pages labelled gb2312 hold (the 镕 of 朱镕基)
    **dict.fromkeys(
        "gb2312 gb_2312 gb_2312-80 csgb2312 csiso58gb231280 iso-ir-58 chinese gbk x-gbk "
        "cp936 windows-936".split(),
        "gb18030",
    ),
    **dict.fromkeys(("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"), "big5hkscs"),
    **dict.fromkeys(
        ("shift_jis", "shift-jis", "sjis", "ms_kanji", "csshiftjis", "x-sjis", "windows-31j"),
        "cp932",
    ),
    **dict.fromkeys(
        "euc-kr ks_c_5601-1987 ks_c_5601-1989 ksc5601 ksc_5601 korean iso-ir-149 "
        "csksc56011987 cseuckr windows-949".split(),
        "cp949",
    ),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5"), "cp1254"),
    **dict.fromkeys(("tis-620", "iso-8859-11", "iso8859-11"), "cp874"),
}


def charset_label(label: str) -> str:
    """A charset label as a browser reads it (WHATWG): ``utf-16`` on a page is UTF-8,
    ``iso-8859-1`` windows-1252, ``gb2312`` GB18030 (and the others of
    ``_AS_BROWSERS_READ``), and one of a charset that does not read ASCII as ASCII
    (EBCDIC's ``ibm037``, ``cp500``; ``utf-7``, ``utf-32``), which no browser reads a
    page in, UTF-8 (Python's codecs knew them: a page of windows-1251 bytes saying
    ``ibm037`` was published as ``ÇÈ_%ÇÁ/À_ÁÈ``); any other as it is."""
    lower = label.strip().lower()
    known = _AS_BROWSERS_READ.get(lower)
    if known is not None:
        return known
    return label if _reads_ascii(lower) else "utf-8"


@functools.lru_cache(maxsize=64)  # keyed by what pages say: at most so many kept
def _reads_ascii(label: str) -> bool:
    """Whether the codec ``label`` names reads ASCII bytes as ASCII (True for a label
    Python does not know: the reader says so when it decodes)."""
    try:
        return _PROBE.decode(label) == _PROBE.decode("ascii")  # UTF-7 reads "+-" as "+"
    except LookupError:
        return True
    except (UnicodeDecodeError, ValueError):
        return False


_PROBE = b'<meta charset="x"> Az09+-/'
AS_UTF8 = "not UTF-8: save it as UTF-8"


def wide_codec(head: bytes) -> str | None:
    """The UTF-32 or UTF-16 codec of text with no byte order mark, told by where its
    NUL bytes fall (the high bytes of its units: two in four in UTF-32, every other one
    on one side in UTF-16 for Latin text), None where they fall as in no such text
    (binary content; a file decoded by it may still fail: the caller tries)."""
    n = len(head) // 4 * 4
    if n < 16:
        return None
    nuls = [head[i:n:4].count(0) for i in range(4)]
    units = n // 4
    if nuls[2] > units * 0.9 and nuls[3] > units * 0.9:
        return "utf-32-le"
    if nuls[0] > units * 0.9 and nuls[1] > units * 0.9:
        return "utf-32-be"
    even, odd, pairs = nuls[0] + nuls[2], nuls[1] + nuls[3], n // 2
    if max(even, odd) < pairs * 0.3 or min(even, odd) > pairs * 0.05:
        return None
    return "utf-16-le" if odd > even else "utf-16-be"


def _unmarked(head: bytes) -> str | None:
    """ "UTF-16" or "UTF-32" when ``head`` is such text with no byte order mark."""
    codec = wide_codec(head)
    try:
        head[: len(head) // 4 * 4].decode(codec or "", "strict")
    except (UnicodeDecodeError, LookupError):
        return None
    return codec[:6].upper() if codec else None


def meta_charset(data: bytes) -> str | None:
    """The charset a page's ``<meta charset>`` (or ``http-equiv`` Content-Type) names,
    as a browser reads it; None when it names none."""
    m = _META_CHARSET.search(data[:4096])
    return charset_label(m.group(1).decode("ascii")) if m else None


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode(origin: str, data: bytes, max_bytes: int, page: bool = False) -> str:
    """Bytes of a release as text, or RejectedInput saying why not. UTF-8, but for a
    saved page (``page``) whose bytes are not and whose ``<meta>`` names the charset
    they are in (a page of the SCO's Russian site in windows-1251)."""
    if len(data) > max_bytes:  # read up to max_bytes + 1 (add, stdin): not its size
        raise RejectedInput(origin, f"too large (over {max_bytes} bytes, limit {max_bytes})")
    if not data or data.isspace():  # as ``not data.strip()``, without copying the bytes
        raise RejectedInput(origin, "empty file")
    if data.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")):  # NULs, not binary
        width = 32 if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")) else 16
        mark = data[: width // 8].hex(" ").upper()
        raise RejectedInput(origin, f"UTF-{width} text (byte order mark {mark}), {AS_UTF8}")
    if b"\x00" in data[:8192]:
        if wide := _unmarked(data[:8192]):
            raise RejectedInput(origin, f"{wide} text (no byte order mark), {AS_UTF8}")
        raise RejectedInput(origin, "binary content (NUL bytes), not a text release")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        said = meta_charset(data) if page else None
        if said is not None:
            try:
                return data.decode(said)
            except (LookupError, UnicodeDecodeError):
                pass  # a charset Python does not know, or not the one the bytes are in
        raise RejectedInput(
            origin, f"not UTF-8 (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read(
    origin: str, suffix: str, data: bytes, context: datetime | None, max_bytes: int
) -> list[Release]:
    read_one = reader(suffix)
    if read_one is None:
        raise RejectedInput(origin, f"unknown file type {suffix or '(none)'!r}")
    page = suffix.lower() in (".html", ".htm")
    return read_one(origin, decode(origin, data, max_bytes, page), context)

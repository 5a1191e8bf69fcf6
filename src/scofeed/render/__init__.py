"""Entry list -> feed bytes. Pure: the same entries and config give the same bytes.

Atom and RSS are written by feedgen (``render/xmlfeeds.py``), JSON Feed 1.1 by
``render/jsonfeed.py``. Entries come newest first and stay in that order. Relative
links inside content are resolved against each entry's link (``render/links.py``).
"""

from __future__ import annotations

import functools
import importlib
import logging
from collections.abc import Sequence
from pathlib import Path

from lxml.etree import LXML_VERSION

import scofeed
from scofeed import languages
from scofeed.config import Config
from scofeed.digest import code_hash
from scofeed.errors import RenderError
from scofeed.model import Entry
from scofeed.render import catalog
from scofeed.render.catalog import Head
from scofeed.render.jsonfeed import render_json
from scofeed.render.links import published

CONTENT_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}

__all__ = ["CONTENT_TYPES", "Head", "code_version", "render"]


@functools.cache
def code_version() -> str:
    """What writes the bytes: a hash of this package's source, scofeed's version and
    feedgen's and lxml's versions. It is part of every published file's key
    (``publish.plan``), so a new scofeed's rendering reaches every file once after an
    upgrade: the package version alone, which does not move with each change, left
    files in the old bytes for good (RSS titles kept "&amp;" after the change to
    "&#x26;")."""
    # the version too: the feeds name it (<generator>), and a release that changed no
    # rendering code left them naming the one before
    feedgen_version = importlib.import_module("feedgen.version").version_str  # see _RENDERERS
    versions = f"scofeed {scofeed.__version__} feedgen {feedgen_version} lxml {LXML_VERSION}"
    parts = [versions.encode()]
    sources = sorted(Path(__file__).parent.glob("*.py"))
    # and the language tags' module: Atom and RSS write its extlang forms
    for path in [*sources, Path(languages.__file__)]:
        if path.exists():
            parts.append(path.name.encode() + b"\0" + path.read_bytes())
    if not sources:  # installed without its source (a zip, bytecode only)
        log.warning("render_code_unknown: an upgrade re-renders the feeds only as they change")
    return code_hash(b"\0".join(parts))


log = logging.getLogger(__name__)

# Atom and RSS are feedgen's (``render/xmlfeeds.py``), loaded by name at the first such
# document: what only shows entries (``scofeed show``, the pages, a webhook's body) loads
# this package for ``links.py`` and needs no feedgen (~40 ms of imports)
_RENDERERS = {"atom": "render_atom", "rss": "render_rss"}


def render(
    fmt: str,
    entries: Sequence[Entry],
    cfg: Config,
    withdrawn: Sequence[Entry] = (),
    head: Head | None = None,
) -> bytes:
    """One document: the main subscription feed unless ``head`` says otherwise (another
    set's feed or an archive page, ``render.catalog``). ``withdrawn`` entries become
    RFC 6721 tombstones in Atom (the other formats have none: a withdrawn entry is only
    absent)."""
    if fmt != "json" and fmt not in _RENDERERS:
        raise RenderError(f"unknown feed format {fmt!r}")
    if head is None:
        head = catalog.head(cfg, catalog.main_set(cfg), fmt)
    shown = [published(e) for e in entries]
    if fmt == "json":
        return render_json(shown, cfg, head)
    renderer = getattr(importlib.import_module("scofeed.render.xmlfeeds"), _RENDERERS[fmt])
    if fmt == "atom" and withdrawn:
        return renderer(shown, cfg, head, withdrawn)
    return renderer(shown, cfg, head)

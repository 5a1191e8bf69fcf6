"""What a request's path names: an entry's slug, a page number, a tag's page, a
published feed file (looked up, never mapped onto the filesystem), an archive month.
Pure, but for ``newest_month``, which lists an archive's months."""

from __future__ import annotations

import json
import re
from pathlib import Path

from scofeed.config import FEED_FILES, tag_slug

SLUG = re.compile(r"[A-Za-z0-9_-]{1,64}")
PAGE = re.compile(r"/page/([1-9][0-9]{0,8})")
# a path segment after its first letter or digit: anything but a control character, '/',
# '.' or '\' (a space is taken: "/tags/Foreign%20Ministers/" is a tag written as its
# name is, redirected to its slug). A tag's slug keeps the marks of its letters
# (Devanagari's vowel signs: "हिन्दी"), which re's \w does not take; what a segment names
# is looked up (a stored tag, a file the publisher recorded), never mapped onto the
# filesystem
_REST = r"[^\x00-\x1f\x7f/.\\]"
# a tag's page: /tags/<slug>/, /tags/<slug>/page/<n> (and /tags/<slug>, redirected)
TAG_PAGE = re.compile(rf"/tags/([^\W_]{_REST}{{0,63}})(/(?:page/([1-9][0-9]{{0,8}}))?)?")
# a feed path: up to three folders, each a letter or digit (any script) and more, then a
# file name; never '.', '..' or an empty segment. Served only when the publisher recorded
# it.
_FEED_PATH = re.compile(rf"(?:[^\W]{_REST}{{0,63}}/){{0,3}}(?:atom\.xml|rss\.xml|feed\.json)")
FORMAT_OF = {name: fmt for fmt, name in FEED_FILES.items()}


def tag_named(tags: str, slug: str) -> str:
    """The tag of this slug in a stored tags column (a JSON list), as a release gave it."""
    return next(t for t in json.loads(tags) if tag_slug(t) == slug)


def canonical_tag_file(rel: str) -> str | None:
    """The path a published file under tags/ has when ``rel`` spells its tag otherwise
    (``tags/Security/atom.xml``: ``tags/security/atom.xml``), else None."""
    top, _, under = rel.partition("/")
    folder, _, name = under.partition("/")
    if top != "tags" or not name:
        return None
    wanted = tag_slug(folder)
    return f"tags/{wanted}/{name}" if wanted and wanted != folder else None


def decoded(path: str) -> str:
    """The request path as text: WSGI hands it as latin-1 text of its bytes, and a tag
    folder in another script is UTF-8 underneath ("" when it is not UTF-8)."""
    try:
        return path.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return ""


def published_path(path: str) -> str | None:
    """The path under feeds/ a request names, or None when it cannot be a feed."""
    rel = decoded(path).removeprefix("/")
    return rel if _FEED_PATH.fullmatch(rel) and ".." not in rel else None


def newest_month(page: Path, month: str) -> bool:
    """Whether an archive page is its set's newest (it still grows with new releases)."""
    try:
        months = [p.name for p in page.parent.parent.iterdir() if p.name[:1].isdigit()]
    except OSError:
        return True
    return not months or month.rstrip("/") >= max(months)

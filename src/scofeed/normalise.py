"""Release -> Entry. Pure functions: no I/O, no clock (``now`` is passed in).

The plain-text layout: the first non-empty line is the title, then paragraphs
separated by blank lines. Lines that are only punctuation or space count as blank,
hard-wrapped lines are joined, a paragraph repeated back to back is kept once, and a
title repeated as the first paragraph is dropped from the body.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import nh3

from scofeed.dates import aware, find_date, midnight
from scofeed.errors import NormaliseError
from scofeed.model import Entry, Release

log = logging.getLogger(__name__)

SUMMARY_MAX = 600
TITLE_MAX = 200

_XML_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_PARA_BREAK = re.compile(r"\n\s*\n")
_BLANKISH = re.compile(r"^[\s\W_]*$", re.UNICODE)
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_CJK = re.compile(r"[\u3400-\u4DBF\u4E00-\u9FFF\uF900-\uFAFF]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")


@dataclass(frozen=True)
class Settings:
    """The parts of the configuration normalise needs; built once from Config."""

    authority: str
    base_url: str
    author: str
    language: str
    timezone: str
    tags: tuple[tuple[str, tuple[str, ...]], ...] = ()


def settings_from(cfg: object) -> Settings:
    site = cfg.site  # type: ignore[attr-defined]
    tags = tuple(sorted((k, tuple(v)) for k, v in cfg.tags.items()))  # type: ignore[attr-defined]
    return Settings(
        authority=site.id_authority,
        base_url=site.base_url,
        author=site.author,
        language=site.language,
        timezone=site.timezone,
        tags=tags,
    )


# -- text ------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """BOM, CRLF/CR, Unicode form, trailing spaces and punctuation-only lines."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    text = xml_safe(text)
    lines = [ln.rstrip() for ln in text.split("\n")]
    return "\n".join("" if _BLANKISH.match(ln) else ln for ln in lines)


def xml_safe(text: str) -> str:
    """Drop what XML 1.0 cannot carry: control characters (but tab and newline),
    lone surrogates and the two non-characters U+FFFE/U+FFFF."""
    return _XML_UNSAFE.sub("", text)


def collapse(s: str) -> str:
    """Runs of whitespace become one space; ends trimmed."""
    return " ".join(s.split())


def blocks(text: str, cleaned: bool = False) -> list[str]:
    """Paragraphs of the plain-text layout: blank-line separated, hard wraps joined."""
    out: list[str] = []
    for block in _PARA_BREAK.split(text if cleaned else clean_text(text)):
        para = collapse(block)
        if para:
            out.append(para)
    return out


def _key(s: str) -> str:
    """Comparison key: letters and digits only, case-folded."""
    return "".join(filter(str.isalnum, s.casefold()))


def _same_start(a: str, b: str) -> bool:
    """Cheap test first: could the comparison keys of a and b be equal at all?"""
    ka, kb = _key(a[:40]), _key(b[:40])
    return ka.startswith(kb) or kb.startswith(ka)


def _dedupe(paras: list[str]) -> list[str]:
    """A paragraph repeated back to back (whatever its spacing or case) is kept once."""
    out: list[str] = []
    for p in paras:
        if out:
            prev = out[-1]
            if p == prev:
                continue
            # only paragraphs of about the same length can be one repeated
            near = abs(len(p) - len(prev)) <= max(8, len(p) // 5)
            if near and _same_start(p, prev) and _key(p) == _key(prev):
                continue
        out.append(p)
    return out


def split_title(release: Release) -> tuple[str, list[str]]:
    """The title and the body paragraphs of a release."""
    text = clean_text(release.text)
    if release.title and collapse(xml_safe(release.title)):
        title = collapse(xml_safe(release.title))
        paras = blocks(text, cleaned=True)
    else:
        lines = [ln for ln in text.split("\n")]
        first = next((i for i, ln in enumerate(lines) if ln.strip()), None)
        if first is None:
            raise NormaliseError(f"{release.origin}: no title (the release is empty)")
        title = collapse(lines[first])
        paras = blocks("\n".join(lines[first + 1 :]), cleaned=True)
    paras = _dedupe(paras)
    if paras and _key(paras[0]) == _key(title):
        paras = paras[1:]
    if not _key(title):
        raise NormaliseError(f"{release.origin}: no title")
    return shorten(title, TITLE_MAX), paras


def shorten(s: str, limit: int) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    if len(s) <= limit:
        return s
    cut = s[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + "…"


# -- html ------------------------------------------------------------------------------

_ALLOWED_TAGS = {
    "p", "br", "a", "em", "strong", "b", "i", "u", "blockquote", "ul", "ol", "li",
    "h2", "h3", "h4", "h5", "h6", "pre", "code", "table", "thead", "tbody", "tr", "th", "td",
    "img", "figure", "figcaption", "sup", "sub", "hr",
}  # fmt: skip
_ALLOWED_ATTRS = {"a": {"href", "title"}, "img": {"src", "alt", "title"}}


def sanitise(fragment: str) -> str:
    """Only harmless markup survives: no script, no event handlers, no javascript: URLs."""
    return nh3.clean(
        xml_safe(fragment),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRS,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    ).strip()


def paragraphs_html(paras: list[str]) -> str:
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paras)


# -- facts -----------------------------------------------------------------------------


def detect_language(text: str, default: str) -> str:
    """'ru' or 'zh' for text written mostly in Cyrillic or Chinese script, else default.
    The first few thousand characters tell."""
    text = text[:4000]
    if not _CYRILLIC.search(text) and not _CJK.search(text):
        return default
    cyr = len(_CYRILLIC.findall(text))
    cjk = len(_CJK.findall(text))
    lat = len(_LATIN.findall(text))
    total = cyr + cjk + lat
    if total == 0:
        return default
    if cjk * 3 >= total:  # one ideograph carries a word's worth of letters
        return "zh"
    if cyr * 2 > total:
        return "ru"
    return default


def match_tags(text: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    folded = text.casefold()
    tags = []
    for tag, words in rules:
        for w in words:
            if re.search(r"(?<!\w)" + re.escape(w.casefold()) + r"(?!\w)", folded):
                tags.append(tag)
                break
    return tags


def fingerprint(title: str, first_paragraph: str) -> str:
    """Same release, whatever its spacing, punctuation or case."""
    return hashlib.sha256((_key(title) + "\n" + _key(first_paragraph)).encode()).hexdigest()[:32]


def mint_id(authority: str, identity: str) -> str:
    """A tag: URI (RFC 4151). Minted once per entry; the store keeps it thereafter."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:20]
    return f"tag:{authority}:release/{digest}"


def id_slug(entry_id: str) -> str:
    """The last part of an entry id, used in /entries/<slug> page addresses."""
    return entry_id.rsplit("/", 1)[-1]


def entry_page(base_url: str, entry_id: str) -> str:
    return base_url.rstrip("/") + "/entries/" + id_slug(entry_id)


def adopt_id(entry: Entry, entry_id: str, base_url: str) -> Entry:
    """The entry under an id the store already knows; a link to our own page follows it."""
    if entry_id == entry.id:
        return entry
    link = entry.url or entry_page(base_url, entry_id)
    return replace(entry, id=entry_id, link=link)


_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|yclid|mc_[a-z]+)$")


def canonical_url(url: str) -> str:
    """One spelling per address: https, lower-case host without trailing dot or default
    port, no fragment, no tracking parameters, no trailing slash."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)])
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    scheme = "https" if parts.scheme in ("http", "https") else parts.scheme.lower()
    return urlunsplit((scheme, host, path, query, ""))


def content_hash(fields: Mapping[str, object]) -> str:
    blob = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _published(
    release: Release, paras: list[str], title: str, tz: str, now: datetime
) -> tuple[datetime, str]:
    if release.published is not None:
        return aware(release.published, tz), "metadata"
    context = release.context_date
    ctx_day = aware(context, tz).astimezone(ZoneInfo(tz)).date() if context else None
    for text in [*paras[:6], title]:
        found = find_date(text, ctx_day, max_year=now.year + 1)
        if found is not None:
            return midnight(found.day, tz), "text"
    if context is not None:
        log.info("date_fallback origin=%s source=mtime", release.origin)
        return aware(context, tz), "mtime"
    raise NormaliseError(f"{release.origin}: no date in metadata or text, and no file date")


def normalise(release: Release, settings: Settings, now: datetime) -> Entry:
    """Turn one release into one entry. Raises NormaliseError when it cannot."""
    title, paras = split_title(release)
    if release.html is not None:
        content = sanitise(release.html)
    else:
        content = paragraphs_html(paras)
    if not paras and not content:
        raise NormaliseError(f"{release.origin}: the release has a title but no body")
    summary = shorten(paras[0], SUMMARY_MAX) if paras else title
    published, date_source = _published(release, paras, title, settings.timezone, now)
    updated = aware(release.updated, settings.timezone) if release.updated else published
    updated = max(updated, published)
    body_text = " ".join(paras)
    language = release.lang or detect_language(title + " " + body_text, settings.language)
    tags = list(dict.fromkeys([*release.tags, *match_tags(title + " " + body_text, settings.tags)]))
    fp = fingerprint(title, paras[0] if paras else "")
    identity = (
        f"key:{release.key}"
        if release.key
        else f"url:{canonical_url(release.url)}"
        if release.url
        else f"fp:{fp}"
    )
    entry_id = mint_id(settings.authority, identity)
    link = release.url or entry_page(settings.base_url, entry_id)
    facts = {
        "title": title,
        "summary": summary,
        "content": content,
        "published": published.isoformat(),
        "url": release.url,
        "tags": tags,
        "language": language,
    }
    return Entry(
        id=entry_id,
        title=title,
        summary=summary,
        content_html=content,
        published=published,
        updated=updated,
        author=settings.author,
        language=language,
        link=link,
        url=release.url,
        tags=tuple(tags),
        content_hash=content_hash(facts),
        fingerprint=fp,
        origin=release.origin,
        date_source=date_source,
        paragraphs=tuple(paras),
    )

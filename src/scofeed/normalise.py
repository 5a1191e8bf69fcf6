"""Release -> Entry. Pure functions: no I/O, no clock (``now`` is passed in).

The plain-text layout: the first non-empty line is the title, then paragraphs
separated by blank lines. Lines that are only punctuation or space count as blank,
hard-wrapped lines are joined, a paragraph repeated back to back is kept once, and a
title repeated as the first paragraph is dropped from the body.

Real releases are messier. Leading page chrome (a date line, a breadcrumb, "Press
release", a line in another script) is skipped to find the headline, and its dates
still count; when the first real line is body text (long, several sentences, a
wrapped line, or opening "On 3 June 2020, ...") the headline is missing and the
first sentence, shortened, stands in. Short paragraphs in another script than the
release (captions, navigation) are dropped.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import nh3

from scofeed.dates import aware, date_from_url, find_date, is_date_line, midnight
from scofeed.errors import NormaliseError
from scofeed.model import Entry, Release

log = logging.getLogger(__name__)

SUMMARY_MAX = 600
TITLE_MAX = 200
HEADLINE_MAX = 110  # a headline made from the first sentence
HEADLINE_MAX_CJK = 40
FOREIGN_MAX = 300  # a paragraph in another script this short is a caption or navigation
FAR_DAYS = 60  # a text date further than this from the URL date is not the publication date

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
    if text.isascii():  # the same deletion, made in C
        return text.encode("ascii").translate(None, _XML_UNSAFE_ASCII).decode("ascii")
    return _XML_UNSAFE.sub("", text)


_XML_UNSAFE_ASCII = bytes(b for b in range(128) if _XML_UNSAFE.match(chr(b)))


def collapse(s: str) -> str:
    """Runs of whitespace become one space; ends trimmed."""
    # Text whose only white space is single spaces between words is already collapsed
    # (a paragraph kept on one line, as most are): checked in C, faster than re-joining
    # it. In ASCII text the other white space characters are the few bytes deleted
    # here; elsewhere every one of them is unprintable.
    if "  " not in s and s[:1] != " " and s[-1:] != " ":
        if s.isascii():
            raw = s.encode("ascii")
            if len(raw.translate(None, _ASCII_SPACES_BUT_SPACE)) == len(raw):
                return s
        elif s.isprintable():
            return s
    return " ".join(s.split())


_ASCII_SPACES_BUT_SPACE = b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"


def _blocks(cleaned: str) -> list[str]:
    """Paragraphs of cleaned plain text: blank-line separated, hard wraps joined."""
    out: list[str] = []
    for block in _PARA_BREAK.split(cleaned):
        para = collapse(block.strip())  # the same, and mostly already collapsed then
        if para:
            out.append(para)
    return out


_ASCII_NOT_ALNUM = bytes(b for b in range(128) if not chr(b).isalnum())


def _key(s: str) -> str:
    """Comparison key: letters and digits only, case-folded."""
    if s.isascii():  # the same key, made in C
        return s.lower().encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return "".join(filter(str.isalnum, s.casefold()))


def _same_start(a: str, b: str) -> bool:
    """Cheap test first: could the comparison keys of a and b be equal at all?"""
    ka, kb = _key(a[:40]), _key(b[:40])
    return ka.startswith(kb) or kb.startswith(ka)


def _opens_alike(a: str, b: str) -> bool:
    """Cheaper still: False when a and b open with ASCII letters or digits that differ
    but for case, for those are then the first characters of their keys."""
    x, y = a[:1], b[:1]
    if x == y or not (x + y).isascii() or not (x + y).isalnum():
        return True
    return x.lower() == y.lower()


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
            if near and _opens_alike(p, prev) and _same_start(p, prev) and _key(p) == _key(prev):
                continue
        out.append(p)
    return out


_ASCII_LETTERS = string.ascii_letters.encode()


def _letter_counts(text: str) -> tuple[int, int, int]:
    """How many Latin, Cyrillic and CJK characters ``text`` holds. ASCII text (most
    releases) is counted in C by deleting its letters, not by a regex per letter."""
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_LETTERS)), 0, 0
    return len(_LATIN.findall(text)), len(_CYRILLIC.findall(text)), len(_CJK.findall(text))


def script_of(text: str) -> str | None:
    """'latin', 'cyrillic' or 'cjk' when one writes most of ``text``, else None."""
    latin, cyrillic, cjk = _letter_counts(text)
    counts = {
        "latin": latin,
        "cyrillic": cyrillic,
        "cjk": 3 * cjk,  # one ideograph carries a word's worth
    }
    total = sum(counts.values())
    if total == 0:
        return None
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] >= 0.7 * total else None


def _dominant_script(text: str) -> str | None:
    """The script the release is written in, judged by its longer paragraphs."""
    if text.isascii() and _long_ascii_line_with_letter(text):
        # that line's paragraph is long and holds a letter, and ASCII letters are all
        # Latin: the full reckoning below would say "latin" too
        return "latin"
    long = [p for p in _blocks(text) if len(p) >= 80]
    return script_of(" ".join(long)) if long else script_of(text)


def _long_ascii_line_with_letter(text: str) -> bool:
    """Some line, whitespace collapsed, is 80 or more characters long and holds a
    letter. Its paragraph (a superset of its words) is then one of the long ones."""
    for line in text.split("\n"):
        if len(line) >= 80 and len(collapse(line)) >= 80 and _letter_counts(line)[0]:
            return True
    return False


def _foreign(text: str, dominant: str | None) -> bool:
    if dominant is None or len(text) > FOREIGN_MAX:
        return False
    if dominant == "latin" and text.isascii():
        return False  # ASCII letters are all Latin: script_of would say "latin" or None
    own = script_of(text)
    return own is not None and own != dominant


_CRUMB_GLYPH = re.compile(r"\s?[»›]\s?")  # only breadcrumbs use these
_CRUMB_ASCII = re.compile(r"\s[>|/]\s")  # "Home > News > Item": also in headlines, so 3 parts
# each pattern, the parts a breadcrumb has at least, the characters the pattern needs
_CRUMBS = ((_CRUMB_GLYPH, 2, "»›"), (_CRUMB_ASCII, 3, ">|/"))
_CHROME_WORDS = {
    _key(w)
    for w in (
        "press release", "press releases", "news", "home", "print", "share", "back",
        "latest news", "secretariat news", "пресс-релиз", "новости", "главная",
        "新闻", "首页", "新闻发布", "秘书处新闻",
    )
}  # fmt: skip
_DATE_LEAD = re.compile(r"^(?:(?:on|in|from)\s+|в\s+|于)?", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"«“]?[A-ZА-ЯЁ])|(?<=[。！？])")
_ABBREV = {"mr", "mrs", "ms", "dr", "st", "no", "jr", "sr", "prof", "gen", "col", "lt", "vs"}


def _is_chrome(line: str, dominant: str | None) -> bool:
    """Page furniture before the headline: a date, a breadcrumb, a section name."""
    text = collapse(line)
    if is_date_line(text) or _key(text) in _CHROME_WORDS:
        return True
    if len(text) <= 120:
        for pattern, least, marks in _CRUMBS:
            if not any(mark in text for mark in marks):
                continue  # the pattern cannot match: one part only
            parts = [p for p in pattern.split(text) if p.strip()]
            if len(parts) >= least and all(len(p.split()) <= 4 for p in parts):
                return True
    return len(text) < 120 and _foreign(text, dominant)


def _date_lead_end(line: str) -> int | None:
    """Where "On 3 June 2020," ends when a line opens with a date and a comma."""
    lead = _DATE_LEAD.match(line)
    start = lead.end() if lead else 0
    found = find_date(line, date(2000, 1, 1))
    if found is None or found.position != start:
        return None
    after = re.match(r"\s*[,，、]\s*", line[start + len(found.text) :])
    return start + len(found.text) + after.end() if after else None


def _looks_like_body(line: str, next_line: str | None) -> bool:
    """The first real line is body text, not a headline."""
    text = collapse(line)
    words = len(text.split())
    if len(text) > 160:
        return True
    if _date_lead_end(text) is not None and len(text) > 40:
        return True
    if len(text) > 100 and _sentence_breaks(text):
        return True
    if text.endswith((".", "。")) and (words >= 15 or len(_CJK.findall(text)) >= 40):
        return True
    return bool(next_line and next_line.strip()[:1].islower())


def _sentence_breaks(text: str) -> list[int]:
    out = []
    for m in _SENTENCE_END.finditer(text):
        before = text[: m.start()].rstrip()
        word = before.rsplit(None, 1)[-1].rstrip(".!?").casefold() if before.split() else ""
        if len(word) <= 1 or word in _ABBREV or "." in word:
            continue
        out.append(m.start())
    return out


def headline_from(paragraph: str) -> str:
    """A stand-in headline: the first sentence, without a leading date clause, shortened."""
    text = collapse(paragraph)
    breaks = _sentence_breaks(text)
    sentence = text[: breaks[0]] if breaks else text
    lead = _date_lead_end(sentence)
    if lead is not None and len(sentence) - lead > 20:
        sentence = sentence[lead:]
        sentence = sentence[:1].upper() + sentence[1:]
    sentence = sentence.strip().rstrip(".。").strip()
    limit = HEADLINE_MAX_CJK if script_of(sentence) == "cjk" else HEADLINE_MAX
    return shorten(sentence, limit)


def split_release(release: Release) -> tuple[str, list[str], list[str]]:
    """The title, the body paragraphs, and the chrome lines skipped before the headline
    (kept for their dates)."""
    text = clean_text(release.text)
    dominant = _dominant_script(text)
    preamble: list[str] = []
    meta_title = collapse(xml_safe(release.title or ""))
    if meta_title:
        title = meta_title
        paras = _blocks(text)
    else:
        lines = text.split("\n")
        filled = [i for i, ln in enumerate(lines) if ln.strip()]
        if not filled:
            raise NormaliseError(f"{release.origin}: no title (the release is empty)")
        first = filled[0]
        for i in filled[:6]:
            if not _is_chrome(lines[i], dominant):
                first = i
                break
            preamble.append(collapse(lines[i]))
        else:
            preamble = []  # nothing but chrome: read it as the plain layout
        nxt = lines[first + 1] if first + 1 < len(lines) else None
        if _looks_like_body(lines[first], nxt):
            paras = _blocks("\n".join(lines[first:]))
            title = headline_from(paras[0]) if paras else ""
        else:
            title = collapse(lines[first])
            paras = _blocks("\n".join(lines[first + 1 :]))
    paras = _dedupe([p for p in paras if not _foreign(p, dominant)])
    if paras and _key(paras[0]) == _key(title):
        paras = paras[1:]
    if not _key(title):
        raise NormaliseError(f"{release.origin}: no title")
    return shorten(title, TITLE_MAX), paras, preamble


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
    if text.isascii() or (not _CYRILLIC.search(text) and not _CJK.search(text)):
        return default
    lat, cyr, cjk = _letter_counts(text)
    total = cyr + cjk + lat
    if total == 0:
        return default
    if cjk * 3 >= total:  # one ideograph carries a word's worth of letters
        return "zh"
    if cyr * 2 > total:
        return "ru"
    return default


def match_tags(text: str, rules: tuple[tuple[str, tuple[str, ...]], ...]) -> list[str]:
    if not rules:
        return []
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
    """The entry under an id the store already knows (its link follows when it is ours)."""
    if entry_id == entry.id:
        return entry
    link = entry.url or entry_page(base_url, entry_id)
    return replace(entry, id=entry_id, link=link)


_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|yclid|msclkid|igshid|mc_[a-z]+|_ga|_gl|spm|"
    r"from|ref_src|share|mkt_tok)$",
    re.IGNORECASE,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


_URL_EDGES = re.compile(r"^[\s\x00-\x20]+|[\s\x00-\x20]+$")


def canonical_url(url: str) -> str:
    """One spelling per address: https, lower-case host without trailing dot or default
    port, no fragment, no tracking parameters (the rest sorted), no trailing slash,
    no empty path segments. An address that cannot be parsed is only trimmed."""
    raw = _URL_EDGES.sub("", url)  # what urlsplit would strip, and all white space
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode(sorted((k, v) for k, v in pairs if not _TRACKING.match(k)))
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    if scheme in _DEFAULT_PORTS:
        scheme = "https"
    # an empty query or fragment can leave white space at the end: one spelling still
    return _URL_EDGES.sub("", urlunsplit((scheme, host, path, query, "")))


# what json.dumps(sort_keys=True, ensure_ascii=False, default=str) builds on every call
_HASH_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def content_hash(fields: Mapping[str, object]) -> str:
    blob = _HASH_JSON.encode(fields)
    return hashlib.sha256(blob.encode()).hexdigest()


def _published(
    release: Release,
    texts: list[str],
    tz: str,
    now: datetime,
) -> tuple[datetime, str]:
    """Metadata, else the first date in the text (relative dates resolved against the
    URL's or file's date), unless it lies far from the URL's date; then the URL's date,
    then the file's date."""
    if release.published is not None:
        return aware(release.published, tz), "metadata"
    url_day = date_from_url(release.url)
    context = release.context_date
    ctx_day = aware(context, tz).astimezone(ZoneInfo(tz)).date() if context else None
    anchor = url_day or ctx_day
    for text in texts:
        found = find_date(text, anchor, max_year=now.year + 1, reference=anchor)
        if found is None:
            continue
        if url_day is not None and abs((found.day - url_day).days) > FAR_DAYS:
            log.info("date_far origin=%s text=%s url=%s", release.origin, found.day, url_day)
            return midnight(url_day, tz), "url"
        if found.at is not None:
            return datetime.combine(found.day, found.at, tzinfo=ZoneInfo(tz)), "text"
        return midnight(found.day, tz), "text"
    if url_day is not None:
        return midnight(url_day, tz), "url"
    if context is not None:
        log.info("date_fallback origin=%s source=mtime", release.origin)
        return aware(context, tz), "mtime"
    raise NormaliseError(f"{release.origin}: no date in metadata, URL or text, and no file date")


def normalise(release: Release, settings: Settings, now: datetime) -> Entry:
    """Turn one release into one entry. Raises NormaliseError when it cannot."""
    title, paras, preamble = split_release(release)
    if release.html is not None:
        content = sanitise(release.html)
    else:
        content = paragraphs_html(paras)
    if not paras and not content:
        raise NormaliseError(f"{release.origin}: the release has a title but no body")
    summary = shorten(paras[0], SUMMARY_MAX) if paras else title
    texts = [*preamble, *paras[:6], title]
    published, date_source = _published(release, texts, settings.timezone, now)
    updated = aware(release.updated, settings.timezone) if release.updated else published
    updated = max(updated, published)
    body_text = " ".join(paras)
    language = release.lang or detect_language(title + " " + body_text, settings.language)
    tags = list(dict.fromkeys([*release.tags, *match_tags(title + " " + body_text, settings.tags)]))
    fp = fingerprint(title, paras[0] if paras else "")
    if release.key:
        identity = f"key:{release.key}"
    elif release.url:
        identity = f"url:{canonical_url(release.url)}"
    else:
        identity = f"fp:{fp}"
    entry_id = mint_id(settings.authority, identity)
    link = release.url or entry_page(settings.base_url, entry_id)
    facts = {
        "title": title,
        "summary": summary,
        "content": content,
        "published": published.isoformat(),
        "url": canonical_url(release.url) if release.url else None,
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

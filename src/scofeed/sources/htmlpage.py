"""Release pages in HTML (a saved SCO page, or one fetched by a poller) -> ``Release``.

Parsing is safe: lxml's HTML parser with no network access and no huge trees, an
inline DTD (where XXE and "billion laughs" payloads live) cut off before parsing,
and script, style, navigation and page furniture dropped. What survives is a title,
a date, a language, plain-text paragraphs and the article's HTML (sanitised later by
normalise). A date stated without a zone (a date-only one, or the date in the URL)
is left naive: normalise puts it in the configured zone (``site.timezone``).

Selectors are XPath when they start with ``/``, ``./`` or ``(``, CSS otherwise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html

from scofeed.config.redact import logged
from scofeed.dates import (
    FoundDate,
    date_from_url,
    parse_stamp,
)
from scofeed.errors import PageGone, RejectedInput
from scofeed.markup import (
    MAX_ATTRIBUTES,
    MAX_ELEMENTS,
    TOO_MANY_ATTRIBUTES,
    holds,
    most_attributes,
    paragraph_containers,
    too_many_elements,
)
from scofeed.model import Release
from scofeed.normalise.ids import web_address
from scofeed.normalise.text import collapse, compare_key, join_wraps
from scofeed.selectors import compile_selector
from scofeed.sources import charset_label, furniture, is_utf8, meta_charset
from scofeed.sources.blocks import Running, holding_words, row_text, text_blocks
from scofeed.sources.notfound import NOT_FOUND_FILE, SOFT_404, title_says_not_found
from scofeed.sources.pagedates import element_stamp, without_date

log = logging.getLogger(__name__)

# /20220125/813122.html, /news/20170217/220257.html, /20230421/-Some-Slug-939274.html
SCO_ARTICLE = r"^/(?:[a-z]{2,3}/)?(?:news/)?(?:19|20)\d{6}/[^/]+\.html?$"
# what names an SCO article whatever its slug: the day and the number ending the path
# (/20230421/-SCO-Digital-Forum-939274.html is /20230421/-SCO-Digital-Forum-opens-939274.html
# after a corrected headline, and /news/20230421/939274.html)
SCO_NUMBER = r"/(?P<day>(?:19|20)\d{6})/(?:[^/]*[-_])?(?P<number>\d{5,})\.html?$"
_HOST_LANG = {"eng": "en", "rus": "ru", "chn": "zh"}
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[.*?\]\s*>", re.IGNORECASE | re.DOTALL)
_FURNITURE = (
    "script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
    "iframe", "object", "embed", "button", "select", "input", "textarea", "svg", "canvas",
)  # fmt: skip
# " - Site", " | Site", " — Site"
_SITE_SUFFIX = re.compile(r"^(?P<head>.+?)\s+[-|–—:]\s+(?P<site>[^-|–—]{1,60})$")
# a Chinese site's name glued on: "..._上海合作组织", "...－上海合作组织"; only the whole
# name, after the last separator ("中国—上海合作组织环境保护合作中心" is a title of its own)
_GLUED_SITE = re.compile(
    r"^(?P<head>.+)\s*[_－—｜|]\s*(?P<site>上海合作组织(?:秘书处)?|上合组织(?:秘书处)?)$"
)
_SCO_NAMES = (
    "sco", "шос", "上合", "上海合作组织", "shanghai cooperation", "шанхайская организация",
)  # fmt: skip


@dataclass(frozen=True)
class Selectors:
    """Where a page's parts are. Each field lists candidates, the first that matches wins."""

    items: tuple[str, ...] = ("//a[@href]",)  # links on a listing page
    link_pattern: str | None = None  # regex the link's path must match
    title: tuple[str, ...] = ("h1",)
    date: tuple[str, ...] = ("time[datetime]", "time")
    body: tuple[str, ...] = ("article", "main", "[role=main]", "#content", ".content", "body")
    # page furniture inside the body (share bars, breadcrumbs...), dropped before reading,
    # beside the generic rules of ``sources.furniture``
    furniture: tuple[str, ...] = ()
    # a regex on an article's path whose ``day`` and ``number`` name the article, so a
    # page moved to another address on its host is still known (``article_number``)
    number: str | None = None


PRESETS: dict[str, Selectors] = {
    # The SCO Secretariat site (eng./rus./chn.sectsco.org): every article link carries
    # its date in the path, and the article sits in a news container.
    "sco": Selectors(
        items=("//a[@href]",),
        link_pattern=SCO_ARTICLE,
        number=SCO_NUMBER,
        title=("h1", ".news-title", ".article-title"),
        date=("time[datetime]", ".news-date", ".date", "time"),
        body=(
            ".news-detail", ".news_detail", ".news-text", ".article-body", ".article",
            "article", "main", "#content", ".content", "body",
        ),
        furniture=(
            ".news-share", ".share-block", ".ya-share2", ".addthis_toolbox", ".likely",
            ".news-print", ".print-version", ".bread-crumbs", ".breadcrumb",
            ".news-back", ".all-news", ".news-photo-source", ".photo-author", ".img-source",
            ".news-related", ".related-news", ".other-news", ".news-tags-share",
        ),
    ),
}  # fmt: skip
DEFAULT = Selectors()


def select(root: lxml.html.HtmlElement, candidates: Sequence[str]) -> list:  # type: ignore[type-arg]
    """The elements the first of ``candidates`` (CSS selectors) that finds any finds."""
    for sel in candidates:
        found = [e for e in compile_selector(sel)(root) if isinstance(e, lxml.html.HtmlElement)]
        if found:
            return found
    return []


LIBXML_DEPTH = 256  # elements open at once that libxml2 builds without XML_PARSE_HUGE


def parse(data: bytes | str) -> lxml.html.HtmlElement:
    """A document tree, parsed safely; RejectedInput-free: callers check for content."""
    return parse_whole(data)[0]


# what XML cannot carry and libxml2's HTML parser keeps in a text, written out or as a
# character reference ("&#1;"): lxml refuses such a text back, so dropping an element
# beside it (furniture, a date stamp) raised ValueError and rejected the whole page (a
# form feed copied from a word processor). A vertical tab or form feed is HTML white
# space, a space; the rest is left out
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_CHAR_REF = re.compile(r"&#(?:[xX]([0-9A-Fa-f]+)|([0-9]+));?")


def _xml_ref(m: re.Match[str]) -> str:
    """A character reference as it was when XML can carry its character; else a space
    (a vertical tab, a form feed) or nothing."""
    digits = m[1] or m[2]
    code = int(digits, 16 if m[1] else 10) if len(digits) <= 8 else -1
    if code in (9, 10, 13) or 0x20 <= code < 0xD800 or 0xE000 <= code < 0xFFFE:
        return m[0]
    if 0x10000 <= code <= 0x10FFFF:
        return m[0]
    return " " if code in (0x0B, 0x0C) else ""


def xml_text(text: str) -> str:
    """``text`` (HTML) without what XML cannot carry, as a character or a reference."""
    if _NOT_XML.search(text):
        text = _NOT_XML.sub(lambda m: " " if m[0] in "\x0b\x0c" else "", text)
    if "&#" in text:
        text = _CHAR_REF.sub(_xml_ref, text)
    return text


def parse_whole(data: bytes | str, cleaned: bool = False) -> tuple[lxml.html.HtmlElement, bool]:
    """``parse``, and whether the page is nested deeper than ``LIBXML_DEPTH``: what lies
    deeper is then not in the tree (its body read as empty). ``cleaned``: the text is
    ``xml_text``'s already (``read_page`` counted its attributes on it)."""
    if isinstance(data, str) and not cleaned:
        data = xml_text(data)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    raw = _DOCTYPE_SUBSET.sub(b"<!DOCTYPE html>", raw, count=1)
    if isinstance(data, str):
        raw = re.sub(rb"^\s*<\?xml[^>]*\?>", b"", raw)
    parser = lxml.html.HTMLParser(
        encoding="utf-8" if isinstance(data, str) else None,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    root = lxml.html.document_fromstring(raw, parser=parser)
    return root, any("Excessive depth" in e.message for e in parser.error_log)


def decode_html(
    data: bytes, charset: str | None, guess: Callable[[bytes], str | None] | None = None
) -> str:
    """Bytes of a page as text: a UTF-8 byte-order mark, else the HTTP charset, else a
    <meta> charset, else UTF-8; bytes that name no charset and are not UTF-8 are read in
    the one ``guess`` finds, if any (a page in windows-1251 that says nothing), and so
    are bytes said to be UTF-8 that mostly are not (a CMS that declares UTF-8 and
    writes windows-1251: each Cyrillic letter would be U+FFFD)."""
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        charset = "utf-8"  # the mark beats the header (HTML's encoding sniffing)
    elif not charset:
        charset = meta_charset(data)
    else:
        charset = charset_label(charset)
    if not charset:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            charset = (guess(data) if guess else None) or "utf-8"
    elif charset.lower() in ("utf-8", "utf8"):
        if guess and not bom and mostly_not_utf8(data):
            charset = guess(data) or charset
    elif not data.isascii() and is_utf8(data):
        # said to be windows-1251 (a template's leftover <meta>, a server's default) and
        # written in UTF-8: text in a legacy charset is almost never valid UTF-8 past
        # ASCII, so its multi-byte sequences say what it is (it was read as mojibake).
        # (charset_label made a UTF-16 or UTF-32 label UTF-8 already, as browsers do)
        charset = "utf-8"
    try:
        return data.decode(charset, errors="replace").lstrip("\ufeff")
    except LookupError:
        return data.decode("utf-8", errors="replace").lstrip("\ufeff")


def mostly_not_utf8(data: bytes) -> bool:
    """Whether most of the bytes above ASCII are not in UTF-8 sequences (one broken
    character in a UTF-8 page is not enough)."""
    if is_utf8(data):
        return False
    high = len(data) - len(data.decode("ascii", errors="ignore"))
    return data.decode("utf-8", errors="replace").count("\ufffd") * 2 > high


# -- facts -----------------------------------------------------------------------------


def _meta(root: lxml.html.HtmlElement, *names: str) -> str | None:
    for name in names:
        for attr in ("property", "name", "itemprop"):
            for el in root.iter("meta"):
                if (el.get(attr) or "").lower() == name and (el.get("content") or "").strip():
                    return str(el.get("content")).strip()
    return None


def host_language(url: str | None) -> str | None:
    try:
        host = (urlsplit(url).hostname or "") if url else ""
    except ValueError:  # "http://[::1/": no host to tell a language by
        return None
    return _HOST_LANG.get(host.rstrip(".").split(".", 1)[0])


def _strip_site(title: str, site_name: str | None) -> str:
    glued = _GLUED_SITE.match(title)
    if glued:
        return glued.group("head").strip()
    m = _SITE_SUFFIX.match(title)
    if not m:
        return title
    site = m.group("site").strip().casefold()
    if (site_name and site == site_name.strip().casefold()) or any(n in site for n in _SCO_NAMES):
        return m.group("head").strip()
    return title


def _visible_text(el: lxml.html.HtmlElement) -> str:
    """``el``'s text without what a script, a style or other furniture inside it holds
    (the title is read before the body's furniture is dropped), a line break read as
    the space between the words it parts ("Secretary-General<br>meets" was read
    "Secretary-Generalmeets")."""
    if not holds(el, (*_FURNITURE, "br")):
        return collapse(el.text_content())
    copy = deepcopy(el)
    for d in [d for d in copy.iterdescendants() if isinstance(d.tag, str) and d.tag in _FURNITURE]:
        if d.getparent() is not None:
            d.drop_tree()
    for br in copy.iter("br"):
        br.tail = " " + (br.tail or "")
    return collapse(copy.text_content())


def _title(root: lxml.html.HtmlElement, sel: Selectors) -> str | None:
    """The headline: in the article's container first, then on the page, but for a
    site's name in its header or logo (``<h1 class="logo">Shanghai Cooperation
    Organisation</h1>`` above the article was every such page's title); then any;
    then the page's ``og:title``, then its ``<title>`` less the site's name."""
    container = next(iter(select(root, sel.body)), None)
    found = select(container, sel.title) if container is not None else []
    page = select(root, sel.title)
    for el in [*(el for el in [*found, *page] if not _masthead(el)), *page]:
        text = without_date(_visible_text(el))
        if text:
            return text
    og = without_date(collapse(_meta(root, "og:title", "twitter:title") or ""))
    if og:
        return og
    t = root.find(".//title")
    if t is not None and collapse(t.text_content()):
        named = _strip_site(collapse(t.text_content()), _meta(root, "og:site_name"))
        return without_date(named) or None  # only a date: the text's headline stands
    return None


_MASTHEAD = re.compile(r"logo|brand|masthead|site-?(?:name|title)", re.IGNORECASE)


def _masthead(el: lxml.html.HtmlElement) -> bool:
    """Whether a heading is the site's own name: in a ``<header>`` or ``<nav>``, or it
    or an element around it is classed or named as a logo; a ``<header>`` inside an
    ``<article>`` is the article's own (it holds its headline), and ``<body>``'s and ``<html>``'s
    classes say nothing (WordPress gives every page's body ``wp-custom-logo``)."""
    in_header = False
    for up in (el, *el.iterancestors()):
        if up.tag in ("body", "html"):
            break
        if up.tag == "article":  # its <header> is the article's own, and its classes
            return False  # name its tags and categories ("tag-logo"), not a logo
        if _MASTHEAD.search(f"{up.get('class') or ''} {up.get('id') or ''}") is not None:
            return True  # a logo, in an article or not
        in_header = in_header or up.tag in ("header", "nav")
    return in_header


def _date_elements(
    scope: lxml.html.HtmlElement, sel: Selectors, body: lxml.html.HtmlElement | None
) -> list:  # type: ignore[type-arg]
    """The page's date elements under ``scope``: those of the first of ``sel.date`` that
    finds any not in running text of the article ``body`` (a ``<time>`` in a sentence
    of it is part of the sentence, often the event it announces, never the page's date)."""
    running = None
    for candidates in sel.date:
        found = [el for el in select(scope, (candidates,)) if el is not body]
        if found and body is not None:
            running = running or Running(body)
            found = [el for el in found if not running.in_sentence(el)]
        if found:
            return found
    return []


def _published(root: lxml.html.HtmlElement, sel: Selectors) -> datetime | None:
    stamp = _meta(root, "article:published_time", "datepublished", "date", "dc.date", "pubdate")
    if stamp and (found := parse_stamp(stamp)):
        return found
    for el in _date_elements(root, sel, next(iter(select(root, sel.body)), None)):
        value = el.get("datetime") or el.get("content")
        if value and (found := parse_stamp(value)):
            return found
    return None


def _updated(root: lxml.html.HtmlElement) -> datetime | None:
    stamp = _meta(root, "article:modified_time", "datemodified")
    return parse_stamp(stamp) if stamp else None


# what Chrome, Edge and Internet Explorer write at the top of a page they save (the "mark
# of the web"): the address it was saved from, after its length in four digits
_SAVED_FROM = re.compile(r"<!-- saved from url=\((\d{4})\)(https?://[^\s<>\"]+) -->")
SAVED_FROM_WITHIN = 1024  # characters of the file's start it is looked for in


def saved_from(text: str) -> str | None:
    """The address a browser says it saved the page from, when its length is the one
    it states (a cut or edited comment is not trusted); None when there is none."""
    found = _SAVED_FROM.search(text, 0, SAVED_FROM_WITHIN)
    if found is None or int(found[1]) != len(found[2]):
        return None
    return found[2]


def _own_url(root: lxml.html.HtmlElement) -> str | None:
    """The address the page gives itself (``og:url``, else its canonical link): one
    that is no web address ("http://[::1/") is passed over, as a cut "saved from"
    comment is, not a reason to refuse the release."""
    og = _meta(root, "og:url")
    if og and web_address(og) is not None:
        return og
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rel and web_address(href) is not None:
            return href
    return None


def _language(root: lxml.html.HtmlElement, url: str | None) -> str | None:
    lang = (
        root.get("lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    ).strip()
    if re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,8})*", lang):
        return lang.replace("_", "-")  # the whole tag: normalise keeps its script and region
    return host_language(url)


# -- body ------------------------------------------------------------------------------


def _drop(el: lxml.html.HtmlElement) -> None:
    el.drop_tree()


_PARTED = "\u2029"  # PARAGRAPH SEPARATOR: where two line breaks in a row part a block


def _take_stamps(container: lxml.html.HtmlElement, context: date | None) -> list[FoundDate]:
    """Date-stamp lines out of the article: the first and the last element holding text
    when that text is only a date ("12.03.2025", "2025-03-12 10:30"). The outermost
    element holding just that text goes. Returns their dates, in page order."""
    worded = holding_words(container)
    leaves = [
        el
        for el in container.iter()
        if isinstance(el.tag, str)
        and el is not container
        and el in worded
        and not any(isinstance(c.tag, str) and c in worded for c in el)
    ]
    found = []
    for leaf in {id(x): x for x in (leaves[:1] + leaves[-1:])}.values():
        text = collapse(leaf.text_content())
        stamp = element_stamp(text, context)
        if stamp is None:
            continue
        outer = leaf
        parent = outer.getparent()
        while (
            parent is not None
            and parent is not container
            and collapse(parent.text_content()) == text
        ):
            outer, parent = parent, parent.getparent()
        if outer.getparent() is not None:
            _drop(outer)
            found.append(stamp)
    return found


def _body(
    root: lxml.html.HtmlElement,
    sel: Selectors,
    title: str | None,
    base: str | None,
    context: date | None = None,
) -> tuple[list[str], str, list[FoundDate]]:
    container = next(iter(select(root, sel.body)), None)
    if container is None:
        return [], "", []
    for el in list(container.iter(*_FURNITURE)):
        if el is not container:
            _drop(el)
    dated = _date_elements(container, sel, container)
    # the first date element's text (".news-date": "14.03.2024") is the page's date stamp
    first = element_stamp(collapse(dated[0].text_content()), context) if dated else None
    for candidates in (sel.title, ("h1",)):
        for el in select(container, candidates):
            if el is not container and el.getparent() is not None:
                _drop(el)
    for el in dated:  # a <time> in running text is part of its sentence: it stays
        if el.getparent() is not None:
            _drop(el)
    stamps = [first] if first is not None else []
    stamps += _take_stamps(container, context)  # the page's dates first: a stamp may be a link
    furniture.strip(container, sel.furniture)
    if base:
        container.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    paras: list[str] = []
    blocks = text_blocks(container)
    if not blocks and paragraph_containers(container):  # its paragraphs are <div>s
        blocks = text_blocks(container)
    elif blocks and paragraph_containers(container, _reads_as_sentence):
        # a paragraph written as a <div> among the <p>s (a lead before them) was in the
        # content, which the sanitiser gives as a <p>, and not in the text: its date
        # ("On 3 June 2021, ...") went unread. A date line, "News | Views: 57", a
        # caption or a byline left beside the paragraphs is no sentence, and stays out
        blocks = text_blocks(container)
    if blocks:
        # a line break is a space between the words it parts ("green<br>energy" read
        # "greenenergy"), in the text only: the fragment keeps its markup as it was
        # and two in a row part paragraphs, as a CMS writes them ("...<br><br>...": the
        # whole article was one paragraph, its summary and first paragraph all of it)
        breaks = [(br, br.tail) for br in container.iter("br")]
        for br, tail in breaks:
            after = br.getnext()
            apart = after is not None and after.tag == "br" and not (tail or "").strip()
            br.tail = _PARTED if apart else " " + (tail or "")
        for el in blocks:
            if el.tag == "tr":
                text = row_text(el)
                paras += [text] if text else []
                continue
            for part in el.text_content().split(_PARTED):
                text = collapse(join_wraps(part))
                if text:
                    paras.append(text)
        for br, tail in breaks:
            br.tail = tail
    else:
        for br in container.iter("br"):
            br.tail = "\n\n" + (br.tail or "")
        chunks = re.split(r"\n\s*\n", container.text_content())
        paras = [collapse(b) for b in chunks if collapse(b) and not furniture.is_furniture_line(b)]
    if title and paras and compare_key(paras[0]) == compare_key(title):
        paras = paras[1:]
        first = blocks[0] if blocks else None
        if first is not None and first.getparent() is not None:
            _drop(first)
    fragment = "".join(
        lxml.html.tostring(child, encoding="unicode")
        for child in container
        if isinstance(child, lxml.html.HtmlElement)
    )
    lead = collapse(container.text or "")
    if not blocks and not fragment.strip():
        fragment = "".join(f"<p>{_esc(p)}</p>" for p in paras)
    elif lead:
        fragment = f"<p>{_esc(lead)}</p>" + fragment
    return paras, fragment, stamps


# a sentence's end: a full stop, question or exclamation mark (Latin, CJK, Arabic),
# maybe followed by closing quotes or brackets. Not ``normalise.text.SENTENCE_ENDS``,
# the summary's, which takes a closing bracket alone as one: a credit line in
# brackets, "(Photo: SCO Secretariat press service)", is no paragraph of the text
_SENTENCE_END = re.compile(r"[.!?。！？؟][\"'”’»)）]*$")


def _reads_as_sentence(el: lxml.html.HtmlElement) -> bool:
    """Whether ``el``'s text is written as a sentence: it ends as one, in four words or
    more (twelve characters or more in a script written without spaces)."""
    text = collapse(el.text_content())
    if not _SENTENCE_END.search(text):
        return False
    return len(text.split()) >= 4 or (not text.isascii() and len(text) >= 12)


def _midnight(day: date) -> datetime:
    """A date-only value: naive, for normalise to put in the configured zone."""
    return datetime.combine(day, time(0, 0))


def _esc(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- readers ---------------------------------------------------------------------------


def read_page(
    origin: str,
    text: str,
    url: str | None = None,
    selectors: Selectors | None = None,
    context: datetime | None = None,
    source: str = "local",
) -> list[Release]:
    """One release page -> one Release. Metadata (<time>, meta tags) beats the page's
    date-stamp line (a date alone at the top or bottom of the article, taken out; its
    time of day kept) when it agrees with the URL's date, then the URL's date; whatever
    date normalise finds in the text comes after."""
    sel = selectors or DEFAULT
    if not text.strip():
        raise RejectedInput(origin, "empty page")
    text = xml_text(text)  # as parse_whole gives it to lxml: the count reads the same
    if most_attributes(text) > MAX_ATTRIBUTES:  # before lxml spends minutes on them
        raise RejectedInput(origin, TOO_MANY_ATTRIBUTES)
    try:
        root, deep = parse_whole(text, cleaned=True)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise RejectedInput(origin, f"not an HTML page ({exc})") from None
    if deep:
        raise RejectedInput(origin, f"HTML nested deeper than {LIBXML_DEPTH} elements")
    if text.count("<") > MAX_ELEMENTS:  # an ordinary page: one str.count, no walk
        elements = sum(1 for _ in root.iter())
        if elements > MAX_ELEMENTS:
            raise RejectedInput(origin, too_many_elements(elements))
    if title_says_not_found(root):
        raise PageGone(origin, 404, SOFT_404 if "://" in origin else NOT_FOUND_FILE)
    # a page saved by a browser with neither: the address it says it was saved from,
    # so that its root-relative links lead to the SCO site, not into ours
    own = url or _own_url(root) or saved_from(text)
    title = _title(root, sel)
    published = _published(root, sel)
    day = date_from_url(own) or date_from_url(_own_url(root))
    base = links_base(root, own)
    for el in list(root.iter("base")):  # read once, above: lxml would apply it again to
        el.drop_tree()  # the body's links, and raise ValueError on a malformed one
    paras, fragment, stamps = _body(root, sel, title, base, day or (context and context.date()))
    stamp = stamps[0] if stamps else None
    if published is None and stamp is not None and (day is None or stamp.day == day):
        published = datetime.combine(stamp.day, stamp.at or time(0, 0))  # the page's stamp
    if published is None and day is not None:
        published = _midnight(day)
    if not paras and not fragment.strip():
        raise RejectedInput(origin, "no article text found in the page")
    log.debug("page_read origin=%s title=%r paragraphs=%d", logged(origin), title, len(paras))
    return [
        Release(
            origin=origin,
            text="\n\n".join(paras),
            title=title,
            html=fragment or None,
            published=published,
            updated=_updated(root),
            url=own,
            lang=_language(root, own),
            context_date=_midnight(day) if day else context,
            source=source,
        )
    ]


def fragment_text(fragment: str) -> str:
    """An HTML fragment (a feed item's content) as blank-line separated paragraphs."""
    if not fragment.strip():
        return ""
    root = parse("<html><body>" + fragment + "</body></html>")
    body = root.find("body")
    if body is None:
        return ""
    paras, _html, _stamps = _body(body, Selectors(title=(), date=(), body=("body",)), None, None)
    return "\n\n".join(paras)


def links_base(root: lxml.html.HtmlElement, url: str | None) -> str | None:
    """What a page's relative links are relative to: its ``<base href>`` (itself relative
    to the page's address) when that is a web address, else the page's address."""
    for el in root.iter("base"):
        href = (el.get("href") or "").strip()
        if href:
            try:
                joined = urljoin(url, href) if url else href
                parts = urlsplit(joined)
            except ValueError:  # "http://[::1": not an address
                return url
            return joined if parts.scheme in ("http", "https") and parts.hostname else url
    return url

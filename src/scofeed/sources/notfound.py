"""A site's "page not found" page answered with a 200 (a soft 404): told by its
``<title>``, its headline, or a short body that says so, in English, Russian or Chinese.
Such a page is never a release, nor a correction of one (``htmlpage.read_page`` and
``remote.found`` refuse it as ``PageGone``)."""

from __future__ import annotations

import re

import lxml.html

from scofeed.model import Release
from scofeed.normalise.text import collapse

# the headline of a site's "page not found" page (its 404 page, answered with a 200),
# beside one that is nothing but the message (``_TITLE_NOT_FOUND``: "404", "Error 404")
_NOT_FOUND = re.compile(
    r"\bpage\s+not\s+found\b|^not\s+found$|страница\s+не\s+найдена"
    r"|页面不存在|页面未找到|找不到(?:该)?页面|网页不存在",
    re.IGNORECASE,
)


SOFT_404 = "a 'page not found' page (answered with a 200)"
NOT_FOUND_FILE = "a 'page not found' page, not a release"  # a saved one in sources/
# what a page's <title> joins the page's name and the site's with ("Page not found | SCO")
_TITLE_PARTS = re.compile(r"\s+[|\-–—·:]{1,2}\s+")


# a part of a <title> that is nothing but the not-found message ("404", "Error 404 - Not
# Found", "Page not found", "Страница не найдена", "页面不存在"): "404 companies signed
# up" is a release's title
_TITLE_NOT_FOUND = re.compile(
    r"(?:(?:error|http|ошибка)\s*)?404(?:\s*[-:–—]?\s*(?:error|(?:page\s+)?not\s+found|"
    r"страница\s+не\s+найдена))?[.!]?"
    r"|(?:error\s*[-:]?\s*)?(?:the\s+)?(?:page|file|document)\s+(?:was\s+|is\s+)?not\s+found[.!]?"
    r"|not\s+found[.!]?|страница\s+не\s+найдена[.!]?|ошибка\s+404"
    r"|页面不存在|页面未找到|找不到(?:该)?页面|网页不存在",
    re.IGNORECASE,
)


def title_says_not_found(root: lxml.html.HtmlElement) -> bool:
    """Whether the page's ``<title>`` (in its head), or a part of it ("Page not found |
    SCO"), is the not-found message, whatever its headline and body say (a CMS that
    keeps the site's headline and fills the page with its menus and latest news)."""
    t = root.find("head/title")
    text = collapse(t.text_content()) if t is not None else ""
    parts = _TITLE_PARTS.split(text) if text else []
    return any(_TITLE_NOT_FOUND.fullmatch(part.strip()) for part in parts)


# the message of a "page not found" page's body, when its headline stays the site's
# ("News", the site's name): only ever looked for in a short body (``NOT_FOUND_BODY``)
_NOT_FOUND_MESSAGE = re.compile(
    r"^\W*not\s+found\W*$"
    r"|\b(?:page|article|document|news\s+item)\s+(?:was\s+|is\s+)?not\s+found\b|\bno\s+such\s+page\b"
    r"|\bpage\b[^.!?\n]{0,60}?\b(?:(?:could\s*n['’]t|can['’]t|(?:could|can)\s*not)\s+be\s+found"
    r"|(?:does|did)\s*(?:not|n['’]t)\s+exist|no\s+longer\s+exists?|(?:has\s+been|was)\s+(?:removed|deleted))"
    r"|страниц[аы]\s+не\s+(?:найдена|существует)|(?:такой|этой)\s+страницы\s+(?:не\s+существует|нет)"
    r"|(?:запрашиваемая|запрошенная)\s+страница\s+(?:не\s+|была\s+удалена|удалена)"
    r"|页面不存在|页面未找到|找不到(?:该|您要的|您访问的|您要访问的)?(?:页面|网页)|网页不存在"
    r"|(?:页面|网页)已(?:被)?删除|您(?:所)?(?:要)?访问的(?:页面|网页)(?:不存在|已)",
    re.IGNORECASE | re.MULTILINE,
)
# a 404 named in a short body ("Error 404", a block that is only "404"): a not-found
# page's message under the site's own headline, but a release's own headline may stand
# over a short text that names one ("an 'Error 404' themed hackathon")
_NOT_FOUND_CODE = re.compile(
    r"^\W*(?:(?:error|http|ошибка)\s*)?404[\s\W]*$"  # a block that is only "404", "Error 404"
    r"|\b404\s+(?:error|not\s+found)\b|\b(?:error|http|ошибка)\s+404\b",
    re.IGNORECASE | re.MULTILINE,
)
# a body this short (in characters, paragraphs joined) holding that message is the
# not-found page itself; a release that mentions a 404 or a missing page is longer
NOT_FOUND_BODY = 300
# a site's own headline kept over its not-found message ("News", "Новости", "新闻", the
# site's name) is this short: a release's headline says what happened
SITE_HEADLINE = 20


def not_found_page(releases: list[Release]) -> bool:
    """Whether a page read as a release is a site's "page not found" page: a CMS that
    answers a page it took down with that page and a 200 (a soft 404). Its headline
    says so ("Page not found", "404", "404 - Seite nicht gefunden", "Страница не
    найдена", "页面不存在"), or its short body (``NOT_FOUND_BODY`` characters at most)
    does ("The page you requested does not exist"), or names a 404 ("Ошибка 404") under
    the site's own headline (a few words: "News"): a release's own headline over a
    short text that mentions an "Error 404" is a release."""
    return any(
        (r.title and _headline_says_not_found(r.title))
        or (
            len(r.text) <= NOT_FOUND_BODY
            and bool(
                _NOT_FOUND_MESSAGE.search(r.text)
                or (_site_headline(r.title) and _NOT_FOUND_CODE.search(r.text))
            )
        )
        for r in releases
    )


def _headline_says_not_found(title: str) -> bool:
    """Page not found, 404, Error 404 - Not Found, 404 - Seite nicht gefunden: not 404
    companies join the SCO Business Council."""
    text = collapse(title)
    return bool(
        _NOT_FOUND.search(text) or _TITLE_NOT_FOUND.fullmatch(text) or _CODE_THEN.match(text)
    )


# a headline opening with the code and a separator, in any language ("404 - Seite
# nicht gefunden", "404 | Not Found"): "404 companies..." has none
_CODE_THEN = re.compile(r"(?:(?:error|http|ошибка)\s*)?404\s*[-:–—|]", re.IGNORECASE)


def _site_headline(title: str | None) -> bool:
    """A headline that may be the site's own, kept over a not-found message: none, or
    a few words (``SITE_HEADLINE`` characters at most)."""
    return not title or (len(title) <= SITE_HEADLINE and len(title.split()) <= 3)

"""Page furniture inside an article's container, taken out before the text is read.

An article page holds more than the article: share and print bars ("Share: Telegram
VK WhatsApp"), breadcrumbs ("Home / News / ..."), "Back to news" links, photo
credits ("Photo: ...", "Фото: ..."), related-news blocks. ``strip`` drops them from
the container, in this order:

1. elements a preset names (``Selectors.furniture``);
2. elements whose class or id says what they are (a word such as ``share``,
   ``social``, ``breadcrumb``, ``print``, ``related``, ``credit`` in it);
3. block elements whose whole text is furniture: a short run of link text only,
   a share/print bar, a breadcrumb, a back link, a photo credit, a related-news
   heading (with the link-only blocks after it), the lines naming the release before
   and after this one ("上一篇：" or "Previous article:" and a link to it).

A rule looks at an element's *whole* text, so a paragraph that mentions "share" or
holds a link inside a sentence is never touched. Date-only lines are left to
``normalise`` (they are the page's date stamp, read there).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import lxml.html

from scofeed.markup import Texts
from scofeed.normalise.text import collapse, view_counter
from scofeed.selectors import compile_selector

# class / id words naming furniture ("news-share", "social_links", "breadcrumbs")
_NAME_WORDS = frozenset(
    "share shares sharing social socials sns breadcrumb breadcrumbs crumbs print "
    "printer related relatedposts see-also credit credits photo-credit back-link "
    "backlink pager pagination".split()
)
_NAME_SPLIT = re.compile(r"[\s_-]+")
_NAMED_MAX = 1500  # characters: a named block longer than this is not furniture
# blocks whose whole text may be furniture; inline elements (a, span) are never judged
_JUDGED = ("p", "div", "li", "ul", "ol", "section", "h2", "h3", "h4", "h5", "h6", "figcaption")
_DOCUMENT = re.compile(r"\.(pdf|docx?|odt|rtf|xlsx?|pptx?|zip)(?:[?#]|$)", re.I)
_LINK_ONLY_MAX = 40  # characters: "Back to news", "All news", "Next", a lone link label

# words a share/print bar is made of, in the three languages of the SCO site
_BAR_WORDS = frozenset(
    """share shared print printer version for email e-mail mail telegram vk vkontakte
    whatsapp facebook twitter x ok odnoklassniki linkedin weibo wechat qq viber
    поделиться поделитесь печать печати распечатать версия для вконтакте одноклассники
    телеграм почта закрыть 分享 分享到 打印 微信 微博 朋友圈 qq空间 转发 关闭 关闭窗口
    this""".split()
)
_BAR_LABEL = re.compile(r"^(share|print|поделиться|поделитесь|печать|分享|分享到|打印)\b", re.I)
_SEPARATORS = r"/>»›→|\\"
_BREADCRUMB = re.compile(
    rf"^(home|main page|main|главная|главная страница|首页|主页|网站首页)\s*[{_SEPARATORS}]",
    re.I,
)
_BACK_WORDS = (
    r"(back|back to (the )?(news|list|news list|all news|top)|all news|more news|"
    r"go back|return to news|назад|назад к (списку )?новост\w+|вернуться( к [\w ]{1,30})?|"
    r"все новости|ко всем новостям|返回|返回列表|返回首页|更多新闻|所有新闻)"
)
_BACK = re.compile(r"^[←«<\s]*" + _BACK_WORDS + r"[\s→»>.]*$", re.I)
_BACK_START = re.compile(r"^[←«<\s]*" + _BACK_WORDS, re.I)  # what a long text may open with
_ARROWS = ("←", "«", "<")  # what may stand before a back link's words, as many as it likes
_CREDIT = re.compile(
    r"^(photo|photos|photo credit|photograph|фото|фотографии|фото предоставлено|摄影|图片|"
    r"照片|图片来源|图)\s*[:：]",
    re.I,
)
_CREDIT_MAX = 120
# a source or editor credit: a name, no sentence ("Source: SCO Press Service"; "Source:
# the agreement was drafted by ..." is text)
_SOURCE = re.compile(r"^(source|источник|来源|责任编辑|编辑|editor)\s*[:：]", re.I)
_SOURCE_MAX = 120
_SOURCE_SHORT = 40  # a credit this short may end with a full stop ("Source: Xinhua.")
# a page's tag line ("Tags: SCO, culture", "Теги: ...", "标签：...") and a Chinese
# release's end mark ("（完）") or print/close bar in brackets ("【打印】【关闭】")
_TAG_LINE = re.compile(r"^(tags|теги|метки|ключевые слова|标签|关键词|关键字)\s*[:：]", re.I)
_TAG_LINE_MAX = 200
# a Chinese release's end mark, and a bar of bracketed buttons: print, close, back,
# favourites, type size ("【打印文章】【关闭窗口】", "【加入收藏】", "【大】【中】【小】")
_END_MARK = re.compile(
    r"^[（(]\s*(完|终)\s*[）)]$"
    r"|^(?:【(?:打印|关闭|窗口|文章|本页|我要|返回|列表|顶部|加入|收藏|分享|字体|大|中|小)+】\s*)+$"
)
_RELATED = re.compile(
    r"^(related( news| articles| stories)?|see also|read also|more on (this|the) topic|"
    r"похожие новости|читайте также|смотрите также|другие новости|по теме|"
    r"相关新闻|相关阅读|相关报道|延伸阅读)\s*[:：]?$",
    re.I,
)
_WORDS = re.compile(r"[\w-]+", re.UNICODE)
# the labels of the lines under a release naming the one before and after it
_NEIGHBOUR_LABEL = (
    r"(previous|prev|next|(previous|next) (article|news|post|story|release|item)"
    r"|предыдущ(ая|ий|ее)( новость| статья| материал| запись)?"
    r"|следующ(ая|ий|ее)( новость| статья| материал| запись)?"
    r"|上一篇|下一篇|上一条|下一条|上一则|下一则|上篇|下篇)"
)
# "没有了" ("none left"): what a Chinese site prints in place of the link on its first
# and last release
_NO_NEIGHBOUR = r"(没有了|没有|无)"
_NEIGHBOUR = rf"{_NEIGHBOUR_LABEL}(?: {_NO_NEIGHBOUR})?"
# one such line, or both in one block: its text outside its links is the labels alone
_NEIGHBOURS = re.compile(rf"^{_NEIGHBOUR}(?P<second> {_NEIGHBOUR})?$", re.I)
# a label of one word, no noun: a line only with a colon, an arrow or a bar after it
# ("Next:", "Next »", "Previous <a>…</a> | Next <a>…</a>"), not "Next <a>SCO summit</a>"
_BARE_LABEL = re.compile(r"previous|prev|next|предыдущ(ая|ий|ее)|следующ(ая|ий|ее)", re.I)
_MARKS = (":", "：", "»", "›", "→", "«", "‹", "←", "|")
# what such a line's text opens with (after an arrow, maybe): asked first, as most
# blocks are not one
_NEIGHBOUR_START = re.compile(rf"[\s{_SEPARATORS}«‹←]*{_NEIGHBOUR_LABEL}", re.I)


def strip(container: lxml.html.HtmlElement, selectors: Sequence[str] = ()) -> int:
    """Drop page furniture inside ``container`` (never the container itself or what
    holds it); returns how many elements went."""
    dropped = 0
    for sel in selectors:
        inside = _Inside(container)  # a selector finds elements in document order
        for el in compile_selector(sel)(container):
            dropped += _drop(el, inside)
    texts = Texts(container)
    whole = texts.length(container)
    inside = _Inside(container)
    for el in list(container.iter()):
        if isinstance(el, lxml.html.HtmlElement) and _named_furniture(el):
            # a name is a hint, not proof: a wrapper holding most of the text stays
            if texts.length(el) <= min(_NAMED_MAX, whole // 2):
                dropped += _drop(el, inside)
    after_related = False
    texts, inside = Texts(container), _Inside(container)
    for el in list(container.iter(*_JUDGED)):
        if not inside(el):  # else, what is in it is as it was when the texts were made
            continue
        length = texts.length(el)
        if not length:
            continue
        text = texts.text(el) if length <= _LONG else None  # None: too long to be a line
        if text is not None and _RELATED.match(text):
            after_related = True
            dropped += _drop(el, inside)
        elif (
            _link_only(el, length, after_related)
            or _furniture_line(text, texts, el)
            or (text is not None and _NEIGHBOUR_START.match(text) and _neighbour_line(el))
        ):
            dropped += _drop(el, inside)
        else:
            after_related = False
    return dropped


_LONG = 300  # characters: longer, a block is furniture only as a back link or breadcrumb


def _furniture_line(text: str | None, texts: Texts, el: lxml.html.HtmlElement) -> bool:
    """``is_furniture_line`` of ``el``'s text (``text``, or None when it is long), the
    text of a long block made only when its start could begin a back link or a
    breadcrumb: making it for every block made it again at every level around it."""
    if text is None:
        head = texts.text(el, _LONG)
        if not (head.startswith(_ARROWS) or _BACK_START.match(head) or _BREADCRUMB.match(head)):
            return False
        text = texts.text(el)
    return is_furniture_line(text)


def without_trailing(text: str) -> str:
    """A text release (or Markdown's source) without the lines of page furniture that
    end it, copied with the page ("Share: Telegram VK", "Print", "Все новости",
    "返回列表", a photo credit): the text path dropped such lines only above the
    headline, and every feed showed them as the release's last paragraphs. The first
    two lines of text (a headline and a paragraph), and the block of the second,
    always stay. Judged a block at a time (lines between blank lines), each of whose
    lines must be furniture: a paragraph's last line, wrapped, can read as a back link
    ("вернуться к этому вопросу.")."""
    lines = text.rstrip().split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    keep = filled[1] + 1 if len(filled) > 1 else len(lines)  # a headline and a line,
    while keep < len(lines) and lines[keep].strip():  # and the rest of that line's block
        keep += 1
    cut = len(lines)
    while cut > keep:
        end = cut
        while end > keep and not lines[end - 1].strip():
            end -= 1  # the blank lines above what was cut
        start = end
        while start > keep and lines[start - 1].strip():
            start -= 1  # the block's first line
        if start == end or not all(is_furniture_line(line) for line in lines[start:end]):
            break
        cut = start
    return text if cut == len(lines) else "\n".join(lines[:cut]).rstrip() + "\n"


def is_furniture_line(text: str) -> bool:
    """A line that is page chrome whatever holds it: a share/print bar, a breadcrumb,
    a back link, a photo, source or editor credit, a tag line, a view counter, a
    Chinese release's end mark ("（完）", "【打印】【关闭】")."""
    line = collapse(text)
    if not line:
        return False
    if _BACK.match(line) or (_BREADCRUMB.match(line) and _crumbs(line)):
        return True
    if _CREDIT.match(line) and len(line) <= _CREDIT_MAX:
        return True
    if (_TAG_LINE.match(line) and len(line) <= _TAG_LINE_MAX) or _END_MARK.match(line):
        return True
    if _SOURCE.match(line) and len(line) <= _SOURCE_MAX:
        if len(line) <= _SOURCE_SHORT or not line.endswith((".", "。")):
            return True
    return view_counter(line) or _share_bar(line)


_CRUMB_MAX = 40  # characters of each step but the last ("Home", "News", "Events")
_LAST_CRUMB_MAX = 160  # the last step may be the page's title, never its text


def _crumbs(line: str) -> bool:
    """A breadcrumb trail is short steps, the last maybe a title: not a sentence. A
    block that opens with a trail and goes on with the article is content."""
    *steps, last = (step.strip() for step in re.split(f"[{_SEPARATORS}]", line))
    return (
        all(len(step) <= _CRUMB_MAX for step in steps)
        and len(last) <= _LAST_CRUMB_MAX
        and not last.endswith((".", "!", "?", "。", "！", "？"))
    )


def _share_bar(line: str) -> bool:
    if len(line) > 120:
        return False
    words = [w.casefold() for w in _WORDS.findall(line)]
    if not words:
        return False
    if not all(w in _BAR_WORDS for w in words):
        return False
    return len(words) >= 2 or bool(_BAR_LABEL.match(line))  # "Telegram" alone is a word


def _named_furniture(el: lxml.html.HtmlElement) -> bool:
    for attr in ("class", "id"):
        value = (el.get(attr) or "").casefold()
        if not value:
            continue
        for token in value.split():
            if token in _NAME_WORDS or any(w in _NAME_WORDS for w in _NAME_SPLIT.split(token)):
                return True
    return False


def _link_only(el: lxml.html.HtmlElement, length: int, after_related: bool) -> bool:
    """Made only of link text (and separators): short (``length``: of its text), or a
    list item under a related-news heading. Linear in the block: a page of 200 nested
    blocks around 20,000 links took minutes when each link's text was cut out of the
    block's."""
    if not after_related and length > _LINK_ONLY_MAX:
        return False
    links = [a for a in el.iter("a") if a.get("href") is not None]
    if not links or any(_DOCUMENT.search(a.get("href", "")) for a in links):
        return False  # a link to a document (the declaration's PDF) is content
    return not _NOT_TEXT.sub("", _outside_links(el))


_NOT_TEXT = re.compile(rf"[\s{_SEPARATORS}·•,;:：.()\[\]–—-]+")


def _neighbour_line(el: lxml.html.HtmlElement) -> bool:
    """A line naming the release before or after this one: a label ("上一篇：",
    "Previous article:", "Следующая новость:") and one link to another page, its text
    outside the link the label alone; or "上一篇：没有了", no link (two such lines in one
    block: two labels). A one-word label ("Next") needs a colon or an arrow. A sentence
    that opens with the word, a label with no link, a link within the page and a link
    to a document are text."""
    links = [a.get("href", "") for a in el.iter("a") if a.get("href") is not None]
    if len(links) > 2 or any(_DOCUMENT.search(h) or h.startswith("#") for h in links):
        return False
    outside = _outside_links(el)
    label = _NOT_TEXT.sub(" ", outside).strip()
    found = _NEIGHBOURS.match(label)
    if found is None:
        return False
    if _BARE_LABEL.fullmatch(found[1]) and not any(m in outside for m in _MARKS):
        return False
    labels = 2 if found.group("second") else 1
    return len(links) == labels - len(re.findall(_NO_NEIGHBOUR, label))


def _outside_links(el: lxml.html.HtmlElement) -> str:
    """The text of ``el`` that is in no ``<a href>`` (a comment's is no text)."""
    linked: dict[object, bool] = {}
    pieces: list[str] = []
    for node in el.iter():
        parent = node.getparent() if node is not el else None
        in_parent = linked.get(parent, False)
        linked[node] = in_parent or (node.tag == "a" and node.get("href") is not None)
        if not linked[node] and isinstance(node.tag, str) and isinstance(node.text, str):
            pieces.append(node.text)
        if node is not el and not in_parent and isinstance(node.tail, str):
            pieces.append(node.tail)
    return " ".join(pieces)


class _Inside:
    """Whether an element is still below ``container`` as furniture is taken out, asked
    of elements in document order. What is learnt of each element on the way up is
    kept for those asked after it (below it), so each element is walked past once:
    walking up to the container from every element took ~2.7 s for 48,000 paragraphs
    in 60 nested layout tables."""

    def __init__(self, container: lxml.html.HtmlElement) -> None:
        self._known: dict[object, bool] = {container: True}  # element -> still inside

    def __call__(self, el: lxml.html.HtmlElement) -> bool:
        passed = []
        parent = el.getparent()
        while parent is not None and parent not in self._known:
            passed.append(parent)
            parent = parent.getparent()
        inside = parent is not None and self._known[parent]
        for one in passed:
            self._known[one] = inside
        return inside

    def dropped(self, el: lxml.html.HtmlElement) -> None:
        self._known[el] = False  # what is below it went with it


def _drop(el: object, inside: _Inside) -> int:
    if not isinstance(el, lxml.html.HtmlElement) or not inside(el):
        return 0  # the container itself or what holds it, or it went with an ancestor
    el.drop_tree()
    inside.dropped(el)
    return 1

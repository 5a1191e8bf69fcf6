"""What a delivery carries: the Standard Webhooks JSON event, or a Slack or Discord
message. Pure functions: an entry in, the exact body bytes out.

A ``release.withdrawn`` event carries the entry's id, title, links, dates and the
withdrawal (``withdrawn: {at, reason}``) but not its text (``summary`` and
``content_html`` are null): a release withdrawn because it was published by mistake
is not sent again. Chat messages say "Withdrawn: title" with the reason, or
"Restored: title" (``release.restored``, the full entry again). A ``release.updated``
event names what the correction changed (``changed``, ``Entry.changed``), a chat
message too: "Corrected (title, date): title".

The standard payload stays under ``MAX_BYTES``: above it ``content_html`` is left out
(``content_omitted: true``) and the url carries the text; where the feeds of many
stated tags alone do not fit, the last ones are left out of ``feeds.tags`` instead.
Slack and Discord bodies respect those services' field limits.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from scofeed.config import FEED_FILES, Config
from scofeed.graphemes import clip, ellipsized
from scofeed.model import Entry, Withdrawal
from scofeed.render.catalog import sets_of
from scofeed.render.links import published, shown_url

MAX_BYTES = 20_000
# Slack: a section block's text holds 3000 characters, the fallback text we keep short
SLACK_SECTION_MAX = 3000
SLACK_TEXT_MAX = 300
SLACK_LINK_ROOM = 100  # characters of the section kept for the summary past the link
# Discord: content 2000, embed title 256, description 4096, footer 2048, embed total 6000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
DISCORD_TOTAL_MAX = 6000


def _dumps(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def stamp(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def event_data(entry: Entry, cfg: Config) -> dict[str, Any]:
    entry = published(entry)  # as the feeds show it: no trackers, no relative links
    return {
        "id": entry.id,
        "title": entry.title,
        "url": entry.url or entry.link,
        "published": entry.published.isoformat(),
        "updated": entry.updated.isoformat(),
        "event_date": entry.event_date.isoformat() if entry.event_date else None,
        "summary": entry.summary,
        "content_html": entry.content_html,
        "tags": list(entry.tags),
        "language": entry.language,
        "revision": entry.revision,
        "feeds": feeds_of(entry, cfg),
    }


def feeds_of(entry: Entry, cfg: Config) -> dict[str, Any]:
    """The feeds an entry is in: the main ones by format (``atom``, ``rss``, ``json``),
    its language's (``language``) and each of its tags' that has feeds (``tags``)."""
    formats = [fmt for fmt in FEED_FILES if fmt in cfg.feeds.formats]
    main, lang, *tags = sets_of(cfg, entry.language, entry.tags)
    out: dict[str, Any] = {fmt: main.url(cfg, fmt) for fmt in formats}
    out["language"] = {fmt: lang.url(cfg, fmt) for fmt in formats}
    out["tags"] = {fs.tag: {fmt: fs.url(cfg, fmt) for fmt in formats} for fs in tags}
    return out


# a chat message's words, in the release's language where scofeed has them (the SCO's
# three: English, Russian, Chinese), else English: the event's label, what it calls a
# changed field (the summary goes with the text it is of), a withdrawal's text when no
# reason was given, and the label's punctuation
LABELS = {
    "en": {"release.updated": "Corrected", "release.withdrawn": "Withdrawn",
           "release.restored": "Restored"},
    "ru": {"release.updated": "Исправлено", "release.withdrawn": "Отозвано",
           "release.restored": "Восстановлено"},
    "zh": {"release.updated": "更正", "release.withdrawn": "撤回", "release.restored": "恢复"},
    "zh-Hant": {"release.updated": "更正", "release.withdrawn": "撤回",
                "release.restored": "恢復"},
}  # fmt: skip
CHANGE_WORDS = {
    "en": {"title": "title", "url": "link", "published": "date", "event_date": "event date",
           "summary": "text", "content_html": "text", "tags": "tags", "language": "language"},
    "ru": {"title": "заголовок", "url": "ссылка", "published": "дата",
           "event_date": "дата события", "summary": "текст", "content_html": "текст",
           "tags": "теги", "language": "язык"},
    "zh": {"title": "标题", "url": "链接", "published": "日期", "event_date": "事件日期",
           "summary": "正文", "content_html": "正文", "tags": "标签", "language": "语言"},
    "zh-Hant": {"title": "標題", "url": "連結", "published": "日期", "event_date": "事件日期",
                "summary": "正文", "content_html": "正文", "tags": "標籤", "language": "語言"},
}  # fmt: skip
WITHDRAWN_TEXT = {
    "en": "This release was withdrawn.",
    "ru": "Этот пресс-релиз отозван.",
    "zh": "本新闻稿已撤回。",
    "zh-Hant": "本新聞稿已撤回。",
}
# (opening, between two words, closing, after the label)
_MARKS = {"zh": ("（", "、", "）", "："), "other": (" (", ", ", ")", ": ")}
# Traditional script: said, or a region that writes it (unless Simplified is said)
_ZH_HANT = re.compile(r"-(?:hant|tw|hk|mo)(?:-|$)", re.IGNORECASE)
_ZH_HANS = re.compile(r"-hans(?:-|$)", re.IGNORECASE)


def _words_language(entry: Entry) -> str:
    code = entry.language.split("-", 1)[0].lower()
    if code == "zh" and _ZH_HANT.search(entry.language) and not _ZH_HANS.search(entry.language):
        return "zh-Hant"
    return code if code in LABELS else "en"


def chat_label(event: str, entry: Entry) -> str:
    """What a chat message's title opens with, in the release's language: "Corrected:
    ", "Corrected (title, date): " when the correction's changes are known."""
    lang = _words_language(entry)
    label = LABELS[lang].get(event)
    if label is None:
        return ""
    opening, between, closing, after = _MARKS.get(lang[:2], _MARKS["other"])
    words = dict.fromkeys(CHANGE_WORDS[lang][name] for name in entry.changed)
    if event == "release.updated" and words:
        return f"{label}{opening}{between.join(words)}{closing}{after}"
    return label + after


def _blurb(event: str, entry: Entry) -> str:
    """The text under the title in a chat message: the reason of a withdrawal."""
    w = entry.withdrawal
    if event == "release.withdrawn" and w is not None:
        return w.reason or WITHDRAWN_TEXT[_words_language(entry)]
    return entry.summary


def standard(event: str, entry: Entry, cfg: Config, at: float) -> bytes:
    data = event_data(entry, cfg)
    w = entry.withdrawal
    if event == "release.withdrawn" and w is not None:
        data["summary"] = data["content_html"] = None
        data["withdrawn"] = {"at": stamp(w.at.timestamp()), "reason": w.reason or None}
    if event == "release.updated":  # null when not known (a backfill, a body made again)
        data["changed"] = list(entry.changed) or None
    doc: dict[str, Any] = {"type": event, "timestamp": stamp(at), "data": data}
    body = _dumps(doc)
    content = data["content_html"]
    if len(body) > MAX_BYTES and content is not None:
        body = _without_content(doc)
        if len(body) > MAX_BYTES:  # not the text: the tag feeds, which no text makes fit
            data["content_html"] = content
            del data["content_omitted"]
            body = _dumps(doc)
    # many stated tags with feeds (feeds.metadata_tags), each URL percent-encoded: the
    # last ones' feeds are left out (every tag is still in "tags"), then the text
    tag_feeds = data["feeds"]["tags"]
    dropped = []
    while len(body) > MAX_BYTES and tag_feeds:
        dropped.append(tag_feeds.popitem())
        body = _dumps(doc)
    if len(body) > MAX_BYTES and data["content_html"] is not None:
        body = _without_content(doc)
        while dropped:  # the room the text leaves takes back what tag feeds fit in it
            tag, urls = dropped.pop()
            tag_feeds[tag] = urls
            fitted = _dumps(doc)
            if len(fitted) > MAX_BYTES:
                del tag_feeds[tag]
                break
            body = fitted
    while len(body) > MAX_BYTES and data["summary"] and len(data["summary"]) > 1:
        data["summary"] = ellipsized(data["summary"], len(data["summary"]) // 2)  # pathological
        body = _dumps(doc)
    return body


def carried(body: bytes, stored: Entry) -> Entry | None:
    """The entry as a standard body (``standard``) carried it: its title, link, dates,
    text, tags, language, revision, the changes it named and its withdrawal, over
    ``stored`` (the entry as stored now, for what a body does not carry). None for a
    body of another format: a chat message holds too little of the entry to make
    another from. What a delivery queued before its entry moved on (another revision,
    withdrawn or restored since) is made again from, in another format."""
    try:
        doc = json.loads(body)
        data = doc["data"]
        withdrawn = data.get("withdrawn")
        return replace(
            stored,
            title=data["title"],
            url=data["url"],
            link=data["url"],
            published=datetime.fromisoformat(data["published"]),
            updated=datetime.fromisoformat(data["updated"]),
            summary=data["summary"] or "",
            content_html=data["content_html"] or "",
            tags=tuple(data["tags"]),
            language=data["language"],
            revision=data["revision"],
            changed=tuple(data.get("changed") or ()),
            withdrawal=None
            if withdrawn is None
            else Withdrawal(datetime.fromisoformat(withdrawn["at"]), withdrawn["reason"] or ""),
        )
    except (ValueError, TypeError, KeyError, AttributeError):  # not a standard body
        return None


def _without_content(doc: dict[str, Any]) -> bytes:
    doc["data"]["content_html"] = None
    doc["data"]["content_omitted"] = True
    return _dumps(doc)


_URL_SAFE = "!#$%&'()*+,/:;=?@[]~-._"  # reserved and unreserved: kept as they are


def link_of(entry: Entry) -> str:
    """The entry's link for a chat message: path, query and fragment percent-encoded
    where they hold what no URL may (``|``, ``<``, ``>``, a space, non-ASCII), so Slack's
    ``<url|text>`` cannot end early and Discord gets a well-formed URL."""
    url = shown_url(entry.url or entry.link)
    parts = urlsplit(url)
    if all(
        c.isascii() and (c.isalnum() or c in _URL_SAFE) for c in url.replace(parts.netloc, "", 1)
    ):
        return url
    q = partial(quote, safe=_URL_SAFE)
    return urlunsplit(
        (parts.scheme, parts.netloc, q(parts.path), q(parts.query), q(parts.fragment))
    )


# "@channel", "@here", "@everyone", "@all" written out as words (not in an address):
# Slack itself notifies only for "<!channel>" (escaped below), but Slack-compatible
# receivers of these messages (Mattermost's incoming webhooks) notify a whole channel
# for the plain words, and Zulip's (a section's text read as Zulip markdown, a Slack
# *bold* as **bold**) a stream for "@**all**", a group for "@*group*", a user for
# "@**Name**": an "@" before "*" or "_" too. A zero-width space after the "@" leaves
# them as they read. After a full stop too: Mattermost parts a word at ".", "-" and ":",
# and "Astana.@channel" (no space after a sentence, as scraped text often has) notified
# the whole channel
_GROUP_MENTION = re.compile(r"(?<![\w@])@(?=[*_]|(?:everyone|here|channel|all)\b)", re.IGNORECASE)


def _slack_escape(s: str) -> str:
    """Text for Slack's mrkdwn: its control characters escaped, no group mention."""
    s = _GROUP_MENTION.sub("@\u200b", s)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(event: str, entry: Entry, cfg: Config, at: float) -> bytes:
    link = link_of(entry)
    label = chat_label(event, entry)
    title = _slack_escape(ellipsized(label + entry.title, 200)).replace("|", "¦")
    head = f"*<{link}|{title}>*\n"
    if len(head) > SLACK_SECTION_MAX - SLACK_LINK_ROOM:  # a URL too long to link whole:
        head = f"*{title}*\n"  # cut, it would leave the "<" open; the title alone
    blurb = _blurb(event, entry)
    # clipped to fit once escaped ("&" grows fivefold), never cut inside an "&amp;"
    room = SLACK_SECTION_MAX - len(head)
    limit = room - 50
    shown = _slack_escape(ellipsized(blurb, limit)) if limit > 1 else ""
    while len(shown) > room and limit > 1:
        limit -= len(shown) - room
        shown = _slack_escape(ellipsized(blurb, max(limit, 1)))
    text = head + shown
    return _dumps(
        {
            # the notification text is mrkdwn too: unescaped, "<!channel>" in a title
            # would ping a whole channel
            "text": _slack_escape(ellipsized(label + entry.title, SLACK_TEXT_MAX)),
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": clip(text, SLACK_SECTION_MAX)},
                }
            ],
            "unfurl_links": False,
        }
    )


# A release's text is plain, an embed's title and description are Discord markdown:
# "[words](url)" was a masked link (the words shown, an official-looking address,
# leading elsewhere), "||words||" a spoiler hiding them, "~~words~~" struck out, "*",
# "_" and "`" restyled them, "<@id>", "<#id>" and "<t:...>" a mention, a channel, a
# time; a line opening
# with ">", "#", "-", "+" or "2023." a quote, a heading or a list. A backslash before
# each such character (every backslash doubled first) shows the text as it is written,
# as Discord reads a backslash before any character but a letter, digit or space. A web
# address is left whole: Discord links it as written, a backslash in it breaks it.
_DISCORD_MARK = re.compile(r"[\\\[*_~`|<]")
_DISCORD_LINE_MARK = re.compile(r"^([ \t]*)([>#+-])", re.MULTILINE)
_DISCORD_NUMBERED = re.compile(r"^([ \t]*\d+)\.", re.MULTILINE)
_WEB_ADDRESS = re.compile(r"https?://[^\s<]+", re.IGNORECASE)


def _discord_marks(s: str) -> str:
    return _DISCORD_MARK.sub(r"\\\g<0>", s)


def _discord_text(s: str) -> str:
    parts, last = [], 0
    for m in _WEB_ADDRESS.finditer(s):
        # a "<" right after an address: Discord's own link rule takes the backslash that
        # escapes it into the address, and the "<t:...:R>" after it was a live token; a
        # hair space (white space to Discord, barely seen) ends the address there
        end = "\u200a" if s[m.end() : m.end() + 1] == "<" else ""
        parts += [_discord_marks(s[last : m.start()]), m.group() + end]
        last = m.end()
    parts.append(_discord_marks(s[last:]))
    text = _DISCORD_LINE_MARK.sub(r"\1\\\2", "".join(parts))
    return _DISCORD_NUMBERED.sub(r"\1\\.", text)


def _discord_fit(text: str, limit: int) -> str:
    """``text`` escaped (``_discord_text``) and clipped to fit ``limit`` once escaped (a
    character at most doubles: each step cuts half the excess), never cut between a
    backslash and what it escapes."""
    cut = limit
    shown = _discord_text(ellipsized(text, cut))
    while len(shown) > limit and cut > 1:
        cut = max(cut - (len(shown) - limit + 1) // 2, 1)
        shown = _discord_text(ellipsized(text, cut))
    return shown


def discord(event: str, entry: Entry, cfg: Config, at: float) -> bytes:
    label = chat_label(event, entry)
    # the title is Discord markdown too ("**", "__", "~~", "||", "`" and escapes render
    # there): a headline with "*" or "_" in it was restyled, "||" hid its words. The
    # footer renders none (and site.title holds no markup): left as it is
    title = _discord_fit(label + entry.title, DISCORD_TITLE_MAX)
    footer = clip(cfg.site.title, 200)  # never inside an emoji's sequence
    limit = min(DISCORD_DESCRIPTION_MAX, DISCORD_TOTAL_MAX - len(title) - len(footer))
    description = _discord_fit(_blurb(event, entry), limit)
    w = entry.withdrawal
    # the time an embed shows is the event's: a withdrawal's own, not the release's
    when = w.at if event == "release.withdrawn" and w is not None else entry.updated
    link = link_of(entry)
    embed: dict[str, Any] = {"title": title, "url": link, "description": description,
                             "timestamp": when.isoformat(), "footer": {"text": footer}}  # fmt: skip
    if not _discord_linkable(link):
        # Discord refuses a whole message whose embed links to a host with no dot
        # (http://scofeed:8080/...: a site on an intranet), and a chat 400 is final
        del embed["url"]
    return _dumps({"embeds": [embed], "allowed_mentions": {"parse": []}})


def _discord_linkable(url: str) -> bool:
    """Whether Discord takes ``url`` as an embed's link: a host with a dot, or an IP
    address (``localhost``, ``scofeed`` are refused with a 400, as gitea and grafana
    found)."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".")  # "scofeed." has no dot in it
    except ValueError:  # "http://[::1/": no link Discord takes either
        return False
    return "." in host or ":" in host


BUILDERS = {"standard": standard, "slack": slack, "discord": discord}


def build(fmt: str, event: str, entry: Entry, cfg: Config, at: float) -> bytes:
    return BUILDERS[fmt](event, entry, cfg, at)


def ping(fmt: str, name: str, cfg: Config, at: float) -> bytes:
    """The body of ``scofeed webhook test``: a ``ping`` event, or a chat message."""
    message = f"scofeed test delivery to {name} from {cfg.site.title}"
    if fmt == "slack":
        return _dumps({"text": _slack_escape(message)})
    if fmt == "discord":
        return _dumps({"content": message[:2000], "allowed_mentions": {"parse": []}})
    data = {"endpoint": name, "message": message}
    return _dumps({"type": "ping", "timestamp": stamp(at), "data": data})

"""The pure parts of delivery: signing, payloads, the retry policy, the address check,
and the [[webhooks]] configuration."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import random
import re
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook

from conftest import SECRET, SECRET_OLD, webhook_toml
from scofeed import config as config_mod
from scofeed.deliver import payload, policy, sender, signing
from scofeed.errors import ConfigError
from scofeed.model import Entry, Withdrawal, changes
from scofeed.render import render
from scofeed.store import Store
from scofeed.store import deliveries as rows


def entry(**kw) -> Entry:
    base = dict(
        id="tag:test.example,2026:release/abc",
        title="SCO meets <partners> & friends",
        summary="A summary.",
        content_html="<p>Body.</p>",
        published=datetime(2020, 6, 3, tzinfo=UTC),
        updated=datetime(2020, 6, 3, tzinfo=UTC),
        author="SCO Secretariat",
        language="en",
        link="http://127.0.0.1:8080/entries/abc",
        url="https://eng.sectsco.org/news/1",
    )
    base.update(kw)
    return Entry(**base)


# -- signing ---------------------------------------------------------------------------


@given(text=st.text(max_size=500), stamp=st.integers(0, 2**33))
def test_signatures_match_the_standardwebhooks_library(text, stamp):
    ours = signing.signature(SECRET, "msg_x", stamp, text.encode("utf-8"))
    theirs = Webhook(SECRET).sign("msg_x", datetime.fromtimestamp(stamp, UTC), text)
    assert ours == theirs


def test_every_secret_signs_and_each_verifies():
    body = b'{"type":"release.published"}'
    now = int(datetime.now(UTC).timestamp())
    headers = signing.headers([SECRET, SECRET_OLD], "msg_1", now, body)
    assert headers["webhook-signature"].count("v1,") == 2
    for s in (SECRET, SECRET_OLD):
        Webhook(s).verify(body, headers)
        assert signing.verify(s, headers, body, now) == "msg_1"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"body": b"tampered"}, "no v1 signature matches"),
        ({"secret": "whsec_" + "QUJD" * 8}, "no v1 signature matches"),
        ({"skew": 400}, "s away from now"),
        ({"drop": "webhook-id"}, "missing header(s): webhook-id"),
    ],
)
def test_verify_says_why_a_request_fails(change, reason):
    body = b'{"a":1}'
    now = 1_800_000_000
    headers = signing.headers([SECRET], "msg_1", now, body)
    headers.pop(change.get("drop", ""), None)
    with pytest.raises(signing.BadSignature, match=reason.replace("(", r"\(").replace(")", r"\)")):
        signing.verify(
            change.get("secret", SECRET),
            headers,
            change.get("body", body),
            now + change.get("skew", 0),
        )


def test_webhook_ids_are_stable_per_entry_revision_and_endpoint():
    a = rows.webhook_id("hub", "tag:x", 1, "release.published")
    assert a == rows.webhook_id("hub", "tag:x", 1, "release.published")
    assert a.startswith("msg_")
    others = {
        rows.webhook_id("other", "tag:x", 1, "release.published"),
        rows.webhook_id("hub", "tag:x", 2, "release.updated"),
        rows.webhook_id("hub", "tag:y", 1, "release.published"),
    }
    assert a not in others and len(others) == 3


# -- payloads --------------------------------------------------------------------------


def test_a_huge_entry_leaves_the_content_out_under_20kb(site):
    cfg = site.config()
    big = entry(content_html="<p>" + "x" * 50_000 + "</p>")
    body = payload.standard("release.published", big, cfg, 0)
    assert len(body) <= payload.MAX_BYTES
    data = json.loads(body)["data"]
    assert data["content_html"] is None and data["content_omitted"] is True
    assert data["url"] == "https://eng.sectsco.org/news/1"
    small = json.loads(payload.standard("release.published", entry(), cfg, 0))["data"]
    assert small["content_html"] == "<p>Body.</p>" and "content_omitted" not in small


def test_a_payloads_content_holds_the_links_the_feeds_hold(site):
    """A Markdown or JSON release's relative links (``/20220124/other.html``,
    ``img/p.png``) were resolved against the entry's link in the feeds but sent as
    written to webhooks, where a receiver has no base to resolve them against. The
    payload now holds the JSON Feed's very ``content_html``: absolute, untracked."""
    cfg = site.config()
    rel = entry(
        link="https://eng.sectsco.org/20251005/12345.html",
        url="https://eng.sectsco.org/20251005/12345.html",
        content_html='<p>See <a href="/20220124/other.html?utm_source=x">this</a> '
        '<img src="img/p.png" alt="pic"></p>',
    )
    data = json.loads(payload.standard("release.published", rel, cfg, 0))["data"]
    html = data["content_html"]
    assert 'href="https://eng.sectsco.org/20220124/other.html"' in html, html
    assert 'src="https://eng.sectsco.org/20251005/img/p.png"' in html, html
    feed = json.loads(render("json", [rel], cfg))
    assert html == feed["items"][0]["content_html"]


def test_a_release_with_many_tag_feeds_stays_under_20kb_and_keeps_its_text(site):
    """With ``feeds.metadata_tags``, each tag a release states adds its three feed URLs to
    ``feeds.tags``: 20 tags of 60 Cyrillic letters (each URL percent-encoded, 6 bytes a
    letter) made a body of 30 kB, over the 20 KB the docs promise, and it left the
    release's short text out for nothing. The tag feeds that do not fit are left out
    instead (the first ones kept, every tag still in ``tags``), the text kept."""
    cfg = site.config("feeds.metadata_tags=true")
    tags = tuple(f"{i:02d} " + "Безопасность" * 5 for i in range(20))
    many = entry(tags=tags, language="ru", content_html="<p>Короткий текст.</p>")
    for event in ("release.published", "release.updated", "release.restored"):
        body = payload.standard(event, many, cfg, 0)
        assert len(body) <= payload.MAX_BYTES, (event, len(body))
        data = json.loads(body)["data"]
        assert data["content_html"] == "<p>Короткий текст.</p>" and "content_omitted" not in data
        assert data["tags"] == list(tags)
        kept = list(data["feeds"]["tags"])
        assert 0 < len(kept) < len(tags) and kept == list(tags[: len(kept)])
    gone = dataclasses.replace(
        many, withdrawal=Withdrawal(at=datetime(2026, 1, 1, tzinfo=UTC), reason="Ошибка")
    )
    body = payload.standard("release.withdrawn", gone, cfg, 0)
    assert len(body) <= payload.MAX_BYTES and json.loads(body)["data"]["withdrawn"]
    # a long text with those tags: both left out as needed, still under the cap
    both = dataclasses.replace(many, content_html="<p>" + "Текст. " * 5_000 + "</p>")
    body = payload.standard("release.published", both, cfg, 0)
    assert len(body) <= payload.MAX_BYTES
    data = json.loads(body)["data"]
    assert data["content_omitted"] is True and data["summary"] == many.summary
    kept = list(data["feeds"]["tags"])
    assert 0 < len(kept) < len(tags) and kept == list(tags[: len(kept)])
    # a few tags: the text goes first, as before, every tag feed is listed
    few = dataclasses.replace(both, tags=tags[:3])
    data = json.loads(payload.standard("release.published", few, cfg, 0))["data"]
    assert data["content_omitted"] is True and list(data["feeds"]["tags"]) == list(tags[:3])


def test_slack_and_discord_shapes_respect_their_limits(site):
    cfg = site.config()
    e = entry(title="T" * 500, summary="S" * 10_000)
    slack = json.loads(payload.slack("release.updated", e, cfg, 0))
    section = slack["blocks"][0]["text"]["text"]
    assert len(section) <= 3000 and section.startswith("*<https://eng.sectsco.org/news/1|Corrected")
    assert len(slack["text"]) <= 300
    escaped = json.loads(payload.slack("release.published", entry(), cfg, 0))
    assert "&lt;partners&gt; &amp; friends" in escaped["blocks"][0]["text"]["text"]
    loud = json.loads(
        payload.slack("release.published", entry(title="Hi <!channel> & all"), cfg, 0)
    )
    assert loud["text"] == "Hi &lt;!channel&gt; &amp; all"  # no mention in the notification
    assert "<!channel>" not in json.dumps(loud)
    embed = json.loads(payload.discord("release.published", e, cfg, 0))["embeds"][0]
    assert len(embed["title"]) <= 256 and len(embed["description"]) <= 4096
    assert len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"]) <= 6000
    assert embed["url"] == "https://eng.sectsco.org/news/1"


def test_a_discord_embed_links_no_host_without_a_dot(site):
    """Discord refuses a whole message whose embed links to http://scofeed:8080/...
    (gitea, grafana found so), and a chat 400 is final: a site on an intranet lost
    every release with no URL of its own. The link is left out there."""
    cfg = site.config()
    for link, kept in (("http://scofeed:8080/entries/x", False), ("http://localhost/x", False),
                       ("http://scofeed.:8080/entries/x", False),
                       ("http://10.0.0.5:8080/entries/x", True), ("http://[::1]/x", True),
                       ("https://feeds.example.org/entries/x", True)):  # fmt: skip
        e = entry(url=None, link=link)
        embed = json.loads(payload.discord("release.published", e, cfg, 0))["embeds"][0]
        assert ("url" in embed) is kept, link


# Mattermost's reading: a word parted at ".", "-", ":" (an address, press@here.org, not)
_MENTION = re.compile(r"(?<![\w@])@(everyone|here|channel|all)\b", re.IGNORECASE)


def test_a_slack_message_never_holds_a_group_mention(site):
    """ "@everyone", "@here", "@channel" and "@all" in a title, a summary or a withdrawal's
    reason reached Slack-format receivers as words: Mattermost's incoming webhooks (which
    take these messages) notify the whole channel for them. They now read the same with
    a zero-width space after the "@"; an address (press@here.org) is left alone."""
    cfg = site.config()
    loud = entry(
        title="@everyone: SCO summit, @Here and (@channel) now",
        summary="@all members. Contact press@here.org or @herepath. Closed.@channel",
    )
    for event in ("release.published", "release.updated"):
        body = json.loads(payload.slack(event, loud, cfg, 0))
        for text in (body["text"], body["blocks"][0]["text"]["text"]):
            assert not _MENTION.search(text), text
            assert "@\u200beveryone: SCO summit, @\u200bHere and (@\u200bchannel) now" in text
        section = body["blocks"][0]["text"]["text"]
        assert "@\u200ball members. Contact press@here.org or @herepath." in section
        assert "Closed.@\u200bchannel" in section  # Mattermost parts a word at "."
    reason = "Sent to @everyone by mistake"
    withdrawn = dataclasses.replace(
        loud, withdrawal=Withdrawal(at=datetime(2026, 1, 1, tzinfo=UTC), reason=reason)
    )
    section = json.loads(payload.slack("release.withdrawn", withdrawn, cfg, 0))["blocks"][0]
    assert "Sent to @\u200beveryone by mistake" in section["text"]["text"]
    assert not _MENTION.search(section["text"]["text"])
    cfg = dataclasses.replace(cfg, site=dataclasses.replace(cfg.site, title="News @here"))
    assert json.loads(payload.ping("slack", "chat", cfg, 0))["text"].endswith("News @\u200bhere")


@pytest.mark.parametrize(
    "text",
    [
        "SCO summit: @**all** members invited",  # Zulip's wildcard mention
        "@**everyone** and @**stream** and @**topic**",
        "Meeting of @*admins* today",  # a Zulip user group
        "Contact @**Zhang Ming** for details",  # a Zulip user
        "Bold @*all* in Slack's syntax",  # Zulip turns *x* into **x**: @**all**
        "Silent @_**all**, italic @_all_",
    ],
)
def test_a_slack_message_never_holds_a_zulip_mention(site, text):
    """Zulip takes these messages too (its Slack-compatible incoming webhook renders a
    section's text as Zulip markdown, a Slack *bold* as **bold**): "@**all**" in a
    release notified a whole stream, "@*group*" a group, "@**Name**" a user. An "@"
    followed by "*" or "_" gets a zero-width space after it, as a group word does."""
    cfg = site.config()
    for event in ("release.published", "release.updated"):
        body = json.loads(payload.slack(event, entry(title=text, summary=text), cfg, 0))
        for shown in (body["text"], body["blocks"][0]["text"]["text"]):
            assert not re.search(r"@[*_]", shown), shown
            assert "@\u200b" in shown
            assert text in shown.replace("\u200b", "")  # reads as it did


def test_a_discord_description_shows_a_markdown_link_as_the_text_it_is(site):
    """A release's summary is plain text, but an embed's description is Discord
    markdown: "[words](url)" in it became a link showing the words and leading to the
    url (a mirror's item could show an official address and send readers elsewhere).
    Every "[" is escaped, the backslashes before one doubled, so the text reads as it
    is written; the description still fits once escaped."""
    cfg = site.config()
    text = r"See [sectsco.org/statement](https://evil.example/x) and \[1] [2]."
    embed = json.loads(payload.discord("release.published", entry(summary=text), cfg, 0))
    description = embed["embeds"][0]["description"]
    assert description == r"See \[sectsco.org/statement](https://evil.example/x) and \\\[1] \[2]."
    reason = "Copied from [the agency](https://evil.example/y)"
    gone = entry(withdrawal=Withdrawal(at=datetime(2026, 1, 1, tzinfo=UTC), reason=reason))
    embed = json.loads(payload.discord("release.withdrawn", gone, cfg, 0))["embeds"][0]
    assert embed["description"] == r"Copied from \[the agency](https://evil.example/y)"
    crowded = entry(summary="[" * 10_000)
    embed = json.loads(payload.discord("release.published", crowded, cfg, 0))["embeds"][0]
    assert len(embed["description"]) <= payload.DISCORD_DESCRIPTION_MAX
    assert embed["description"].startswith("\\[\\[") and embed["description"].endswith("…")
    plain = entry(summary="No brackets here.")
    embed = json.loads(payload.discord("release.published", plain, cfg, 0))["embeds"][0]
    assert embed["description"] == "No brackets here."


# Discord's markdown escape (simple-markdown's rule): a backslash before any character
# but a letter, a digit or white space shows that character as it is
def discord_shows(text: str) -> str:
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text)


_WEB = re.compile(r"https?://[^\s<]+")
# a markdown character with no backslash before it (or an escaped backslash)
_LIVE_MARK = re.compile(r"(?<!\\)(?:\\\\)*[*_~`|<\[]")


@pytest.mark.parametrize(
    "text",
    [
        "Talks on *trade* and __security__, ~~postponed~~ ||hidden|| and `code`",
        "Meeting with <@123456789> in <#987654321> at <t:1710713341:F> <:sco:42>",
        "> quoted",
        "# Heading",
        "-# small print",
        "- listed",
        "2023. The year of the summit",
        r"A back\slash, \*an escaped star\* and \\ two",
        "See https://eng.sectsco.org/a_b_c/~d/*x* and _this_",
    ],
)
def test_a_discord_description_shows_the_text_as_written(site, text):
    """A release's summary is plain text, an embed's description Discord markdown:
    "||words||" hid the words behind a spoiler, "~~words~~" struck them out, "*", "_"
    and "`" restyled them, "<@id>" and "<t:...>" showed as a mention and a time, and a
    summary opening with ">", "#", "-" or "2023." as a quote, a heading or a list. Each
    such character is escaped (a web address left whole: Discord links it as it is,
    and a backslash would break it), so Discord shows the text as written."""
    embed = json.loads(payload.discord("release.published", entry(summary=text), site.config(), 0))
    description = embed["embeds"][0]["description"]
    assert discord_shows(description) == text
    assert not _LIVE_MARK.search(_WEB.sub("", description)), description
    assert not re.match(r"\s*([>#+-]|\d+\.)", description), description
    for url in _WEB.findall(text):
        assert url in description


def test_a_discord_withdrawal_is_shown_at_the_time_it_was_withdrawn(site):
    """The embed's timestamp (shown under it, "Withdrawn: ..." on 3 June 2020) was the
    release's last update: a withdrawal made today read as one made years ago. It is the
    withdrawal's time; a correction's is its update, as before."""
    cfg = site.config()
    at = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    gone = entry(withdrawal=Withdrawal(at=at, reason="Published by mistake"))
    embed = json.loads(payload.discord("release.withdrawn", gone, cfg, 0))["embeds"][0]
    assert embed["title"].startswith("Withdrawn: ")
    assert datetime.fromisoformat(embed["timestamp"]) == at
    fixed = entry(updated=datetime(2024, 5, 6, tzinfo=UTC))
    embed = json.loads(payload.discord("release.updated", fixed, cfg, 0))["embeds"][0]
    assert datetime.fromisoformat(embed["timestamp"]) == datetime(2024, 5, 6, tzinfo=UTC)


def test_a_slack_section_full_of_escaped_characters_is_never_cut_inside_one(site):
    """ "&", "<" and ">" grow five- and fourfold when escaped: the section is clipped so
    that it fits escaped, not cut afterwards inside an "&amp;"."""
    for char in "&<>":
        e = entry(summary=("a" + char) * 2_000)
        section = json.loads(payload.slack("release.published", e, site.config(), 0))
        text = section["blocks"][0]["text"]["text"]
        assert len(text) <= 3000 and text.endswith("…"), text[-20:]


# Slack's link syntax as its clients read it: "<", the URL up to the first "|" or ">",
# then the text up to ">"
SLACK_LINK = re.compile(r"<([^|>]*)(?:\|([^>]*))?>")


@pytest.mark.parametrize(
    "url",
    [
        "https://sco.example/news?a=1&b=x|y",
        "https://sco.example/news/a>b<c",
        "https://sco.example/новости/1?тег=经济 и",
    ],
)
def test_a_chat_link_with_what_no_url_may_hold_stays_one_link(site, url):
    """A ``|`` in the URL ended Slack's URL early (the rest became the link text), a
    ``>`` ended the link; the URL is sent percent-encoded, the same address."""
    cfg = site.config()
    e = entry(url=url, title="Title & <more>")
    text = json.loads(payload.slack("release.published", e, cfg, 0))["blocks"][0]["text"]["text"]
    m = SLACK_LINK.search(text)
    assert m is not None and text.startswith("*<") and text[m.end()] == "*"
    assert unquote(m.group(1)) == url
    assert m.group(2) == "Title &amp; &lt;more&gt;"
    embed = json.loads(payload.discord("release.published", e, cfg, 0))["embeds"][0]
    assert unquote(embed["url"]) == url
    assert all(c.isascii() and not c.isspace() and c not in "|<>" for c in embed["url"])


def test_a_url_too_long_for_the_slack_section_never_leaves_a_link_open(site):
    """The section was cut at 3000 characters after the link: a long URL left "<"
    open and the rest of the message as part of the URL."""
    e = entry(url="https://sco.example/news?q=" + "x" * 2990, title="Long & short")
    text = json.loads(payload.slack("release.published", e, site.config(), 0))["blocks"][0]
    text = text["text"]["text"]
    assert len(text) <= 3000 and text.count("<") == text.count(">") == 0
    assert text.startswith("*Long &amp; short*\n") and "A summary." in text


# -- policy ----------------------------------------------------------------------------

SCHEDULE = (0, 5, 300)


def decide(attempt, result, now=1000.0, seed=1):
    return policy.decide(attempt, result, now, SCHEDULE, random.Random(seed), 600)


@pytest.mark.parametrize("seed", range(20))
def test_jitter_never_retries_early_and_stays_within_20_percent(seed):
    d = decide(1, policy.Result(500), seed=seed)
    assert d.outcome == "retry" and 1005 <= d.next_attempt <= 1006


@pytest.mark.parametrize(
    ("attempt", "result", "outcome"),
    [
        (1, policy.Result(204), "delivered"),
        (1, policy.Result(410), "gone"),
        (1, policy.Result(302), "retry"),
        (1, policy.Result(404), "retry"),
        (1, policy.Result(None, "connection refused"), "retry"),
        (1, policy.Result(None, "refused: x", blocked=True), "failed"),
        (3, policy.Result(500), "failed"),
        (3, policy.Result(200), "delivered"),
    ],
)
def test_outcomes(attempt, result, outcome):
    assert decide(attempt, result).outcome == outcome


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(400, "failed"), (401, "paused"), (403, "paused"), (404, "paused"), (410, "paused")]
    + [(429, "retry"), (500, "retry"), (302, "retry"), (200, "delivered")],
)
def test_a_chat_services_final_answers(status, outcome):
    d = policy.decide(1, policy.Result(status), 1000.0, SCHEDULE, random.Random(1), chat=True)
    assert d.outcome == outcome
    assert d.next_attempt == (1000.0 if outcome == "paused" else d.next_attempt)


def test_an_empty_rate_limit_bucket_holds_the_endpoint_whatever_the_outcome():
    def hold(result):
        return policy.decide(1, result, 1000.0, SCHEDULE, random.Random(1), 600).hold

    assert hold(policy.Result(204, bucket_reset="1.25")) == 1001.25
    assert hold(policy.Result(500, bucket_reset="3")) == 1003
    assert hold(policy.Result(204, bucket_reset="99999")) == 1600  # retry_after_max
    for bad in (None, "", "0", "-1", "nan", "soon"):
        assert hold(policy.Result(204, bucket_reset=bad)) is None


def test_retry_after_is_honoured_and_capped_for_429_and_503_only():
    assert decide(1, policy.Result(429, retry_after="30")).next_attempt == 1030
    assert decide(1, policy.Result(503, retry_after="9999")).next_attempt == 1600
    assert 1005 <= decide(1, policy.Result(500, retry_after="30")).next_attempt <= 1006
    now = datetime(2026, 1, 1, tzinfo=UTC)
    date = (now + timedelta(seconds=45)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert policy.retry_after_seconds(date, now.timestamp()) == 45
    assert policy.retry_after_seconds("soon", 0) is None
    assert decide(1, policy.Result(429, retry_after="1.5")).next_attempt == 1001.5  # Discord
    # a 503's shorter than the schedule's is the least wait, not a shorter schedule: the
    # attempts of a receiver answering 503 "Retry-After: 2" were all spent in seconds
    for attempt, least in ((1, 1005), (2, 1300)):
        for hint in ("2", "0"):
            again = decide(attempt, policy.Result(503, retry_after=hint)).next_attempt
            assert least <= again <= least + (least - 1000) * policy.JITTER, (attempt, hint)
    for bad in ("-5", "nan", "inf", ""):
        assert policy.retry_after_seconds(bad, 0) is None


def test_an_endpoint_whose_head_waits_for_its_retry_is_not_due(tmp_path):
    """Only the head may go next: a delivery queued behind a head in back-off is due by
    its own time, but the endpoint is not (the daemon's tick would hand it to a worker
    that sends nothing, and say so at INFO every tick)."""
    store = Store(tmp_path / "state.db")
    try:
        with store.transaction() as db:
            for name in ("hub", "other"):
                rows.ensure_endpoint(db, name, 0.0)
            rows.enqueue(db, "hub", "tag:a", 1, "release.published", b"{}", 100.0)
            rows.enqueue(db, "other", "tag:a", 1, "release.published", b"{}", 150.0)
            rows.enqueue(db, "hub", "tag:b", 1, "release.published", b"{}", 200.0)
            rows.hold(db, "hub", 1000.0)  # the head waits, as a retry would make it
        assert rows.due_endpoints(store.db, 300.0) == ["other"]
        assert rows.due_endpoints(store.db, 1000.0) == ["hub", "other"]  # by head, oldest first
    finally:
        store.close()


# -- address guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("64:ff9b::a01:203", False),  # NAT64 of 10.1.2.3
        ("2002:c0a8:1::1", False),  # 6to4 of 192.168.0.1
        ("64:ff9b::808:808", True),  # NAT64 of 8.8.8.8
        ("::127.0.0.1", False),  # IPv4-compatible (Python calls it global)
        ("::a01:203", False),  # IPv4-compatible 10.1.2.3
        ("::", False),
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1 (Python calls it global)
        ("::ffff:0:808:808", True),  # IPv4-translated 8.8.8.8
        ("64:ff9b:1::a00:1", False),  # local-use NAT64 of 10.0.0.1 (global to Python 3.11)
        ("fec0::1", False),  # site-local (global to Python 3.11)
        ("3fff::1", False),  # documentation
        ("5f00::1", False),  # SRv6 SIDs
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
    ],
)
def test_address_allowed(address, allowed):
    assert sender.address_allowed(ipaddress.ip_address(address)) is allowed


# -- configuration ---------------------------------------------------------------------


def test_webhook_defaults(site):
    site.write_config(webhook_toml("hub", "https://example.org/h", secret=SECRET))
    (hook,) = site.config().webhooks
    assert hook.events == (
        "release.published", "release.updated", "release.withdrawn", "release.restored"
    )  # fmt: skip
    assert hook.retry_schedule == (0, 5, 300, 1800, 7200, 18000, 36000, 36000)
    assert hook.timeout == 15.0 and hook.format == "standard" and hook.allow_private is True
    assert [s.value for s in hook.secrets] == [SECRET]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"secrett": SECRET}, "webhooks[0].secrett: unknown key"),
        ({"secret": "whsec_not base64!"}, "webhooks[0].secret: expected 'whsec_'"),
        ({"secret": [SECRET, "oops"]}, "webhooks[0].secret[1]: expected 'whsec_'"),
        (
            {"secret": "env:SCOFEED_TEST_UNSET"},
            "environment variable SCOFEED_TEST_UNSET is not set",
        ),
        ({"format": "teams"}, "webhooks[0].format: expected one of"),
        ({"events": ["release.deleted"]}, "webhooks[0].events: expected a non-empty list"),
        ({"title_pattern": "("}, "webhooks[0].title_pattern: not a valid regular expression"),
        ({"timeout": 0}, "webhooks[0].timeout: expected a number of seconds"),
        ({"retry_schedule": []}, "webhooks[0].retry_schedule: expected a non-empty list"),
    ],
)
def test_webhook_config_errors_name_the_dotted_key(site, extra, message):
    site.write_config(webhook_toml("hub", "https://example.org/h", **extra))
    with pytest.raises(ConfigError) as err:
        site.config().require_secrets()  # a secret not readable here: where one is used
    assert message in str(err.value)
    assert SECRET[6:] not in str(err.value) and "not base64" not in str(err.value)


def test_urls_must_be_http_and_names_distinct(site):
    site.write_config(webhook_toml("hub", "ftp://example.org/h"))
    with pytest.raises(ConfigError, match=r"webhooks\[0\]\.url: expected an http"):
        site.config()
    site.write_config(webhook_toml("hub", "https://a.example/") + webhook_toml("hub", "https://b/"))
    with pytest.raises(ConfigError, match=r"webhooks\[1\]\.name: 'hub' is already the name"):
        site.config()
    twice = [webhook_toml(n, f"https://{i}.example/") for i, n in enumerate("abab")]
    site.write_config("".join(twice))
    with pytest.raises(ConfigError) as err:  # both, not the first, each on its line
        site.config()
    assert str(err.value).splitlines() == [
        "webhooks[2].name: 'a' is already the name of a webhook",
        "webhooks[3].name: 'b' is already the name of a webhook",
    ]


def test_config_show_redacts_inline_secrets(site, monkeypatch):
    monkeypatch.setenv("HOOK_SECRET", SECRET_OLD)
    site.write_config(
        webhook_toml("hub", "https://example.org/h", secret=[SECRET, "env:HOOK_SECRET"])
    )
    shown = config_mod.show(site.config())
    assert 'secret = ["***", "env:HOOK_SECRET"]' in shown
    assert SECRET[6:] not in shown and SECRET_OLD[6:] not in shown
    assert repr(site.config().webhooks) == "(Webhook('hub'),)"


@given(
    title=st.text(min_size=1, max_size=300),
    summary=st.text(max_size=3000),
    content=st.text(max_size=60_000),
    tags=st.lists(st.text(max_size=100), max_size=20),
    metadata_tags=st.booleans(),
)
def test_any_standard_payload_stays_under_20kb_and_is_json(
    site_config, tagged_config, title, summary, content, tags, metadata_tags
):
    body = payload.standard(
        "release.updated",
        entry(title=title, summary=summary, content_html=content, tags=tuple(tags)),
        tagged_config if metadata_tags else site_config,
        0,
    )
    assert len(body) <= payload.MAX_BYTES
    assert json.loads(body)["data"]["title"] == title


@pytest.fixture(scope="module")
def site_config():
    return config_mod.load(None)


@pytest.fixture(scope="module")
def tagged_config():
    return config_mod.load(None, ["feeds.metadata_tags=true"])


def test_a_binary_secret_file_is_a_config_error_that_does_not_show_it(site, tmp_path):
    key = bytes(range(0x80, 0xA0))  # raw key bytes, not whsec_ text
    (tmp_path / "hub.key").write_bytes(key)
    site.write_config(webhook_toml("hub", "https://hooks.example/x", secret="file:hub.key"))
    with pytest.raises(ConfigError) as err:
        site.config()
    message = str(err.value)
    assert "webhooks[0].secret" in message and "not UTF-8 text" in message
    assert "\\x80" not in message and "0x80" not in message


def test_the_slack_ping_is_escaped_as_every_slack_message(site):
    # the test message names the site: "<!channel>" in its title pinged the channel
    # from `scofeed webhook test`, "&" and "<" in it were read as Slack's own syntax
    cfg = site.config()
    cfg = dataclasses.replace(
        cfg, site=dataclasses.replace(cfg.site, title="News <!channel> & more")
    )
    text = json.loads(payload.ping("slack", "chat", cfg, 0))["text"]
    assert text == "scofeed test delivery to chat from News &lt;!channel&gt; &amp; more"
    content = json.loads(payload.ping("discord", "chat", cfg, 0))["content"]
    assert content.endswith("News <!channel> & more")  # Discord: no such syntax, no pings


@pytest.mark.parametrize(
    "title",
    [
        "SCO *Secretary-General* meets __students__ of the ~~old~~ ||new|| `Academy`",
        "Meeting with <@123456789> in <#987654321>",
        "# Heading-like title",
        r"A back\slash and \*an escaped star\*",
        "2023. The year of the summit",
    ],
)
def test_a_discord_title_shows_the_headline_as_written(site, title):
    """An embed's title is Discord markdown as its description is: a headline with
    "*", "__", "~~" or "||" in it was shown bold, underlined, struck out or hidden.
    Escaped with the description's rule, Discord shows it as written; it still fits."""
    for event, label in (("release.published", ""), ("release.updated", "Corrected: ")):
        embed = json.loads(payload.discord(event, entry(title=title), site.config(), 0))
        shown = embed["embeds"][0]["title"]
        assert discord_shows(shown) == label + title
        assert not _LIVE_MARK.search(shown), shown
        assert not re.match(r"\s*([>#+-]|\d+\.)", shown), shown
    crowded = json.loads(
        payload.discord("release.published", entry(title="*" * 500), site.config(), 0)
    )
    shown = crowded["embeds"][0]["title"]
    assert len(shown) <= payload.DISCORD_TITLE_MAX and shown.startswith("\\*\\*")
    assert shown.endswith("…")


def test_what_a_correction_changed_is_named_by_field():
    """``changes`` names each field a reader is shown that the revision before said
    otherwise, as the payload names them; a date stated in another zone is a change of
    what is shown, a field only stored (the paragraphs, the origin) is not."""
    before = entry(paragraphs=("Body.",), origin="a.txt")
    assert changes(before, entry(paragraphs=("Other.",), origin="b.txt")) == ()
    after = entry(
        title="New title",
        summary="Another summary.",
        content_html="<p>Another body.</p>",
        published=datetime(2020, 6, 3, 8, tzinfo=timezone(timedelta(hours=8))),
        tags=("economy",),
        url=None,
    )
    assert changes(before, after) == (
        "title", "url", "published", "summary", "content_html", "tags",
    )  # fmt: skip


def test_a_chat_message_says_what_a_correction_changed(site):
    cfg = site.config()
    fixed = entry(changed=("summary", "content_html", "published", "event_date"))
    slack = json.loads(payload.slack("release.updated", fixed, cfg, 0))
    assert slack["text"].startswith("Corrected (text, date, event date): SCO meets")
    embed = json.loads(payload.discord("release.updated", fixed, cfg, 0))["embeds"][0]
    assert discord_shows(embed["title"]).startswith("Corrected (text, date, event date): ")
    # not known (a backfill's, a body made again): as before, and null in the payload
    unknown = json.loads(payload.slack("release.updated", entry(), cfg, 0))
    assert unknown["text"].startswith("Corrected: SCO meets")
    doc = json.loads(payload.standard("release.updated", entry(), cfg, 0))
    assert doc["data"]["changed"] is None
    doc = json.loads(payload.standard("release.updated", fixed, cfg, 0))
    assert doc["data"]["changed"] == ["summary", "content_html", "published", "event_date"]
    news = json.loads(payload.standard("release.published", fixed, cfg, 0))
    assert "changed" not in news["data"]


@pytest.mark.parametrize(
    ("language", "corrected", "withdrawn"),
    [
        ("ru", "Исправлено (заголовок, дата): ", ("Отозвано: ", "Этот пресс-релиз отозван.")),
        ("zh-CN", "更正（标题、日期）：", ("撤回：", "本新闻稿已撤回。")),
        ("zh-Hant-TW", "更正（標題、日期）：", ("撤回：", "本新聞稿已撤回。")),
        ("zh-Hans-HK", "更正（标题、日期）：", ("撤回：", "本新闻稿已撤回。")),
        ("uz", "Corrected (title, date): ", ("Withdrawn: ", "This release was withdrawn.")),
    ],
)
def test_a_chat_message_speaks_the_releases_language(site, language, corrected, withdrawn):
    """A channel of Russian or Chinese releases was told "Corrected:" and "Withdrawn:"
    in English above each headline; a language scofeed has no words for stays English."""
    cfg = site.config()
    fixed = entry(language=language, title="T", changed=("title", "published"))
    slack = json.loads(payload.slack("release.updated", fixed, cfg, 0))
    assert slack["text"] == corrected + "T"
    gone = entry(language=language, title="T", withdrawal=Withdrawal(datetime.now(UTC)))
    embed = json.loads(payload.discord("release.withdrawn", gone, cfg, 0))["embeds"][0]
    assert (embed["title"], embed["description"]) == (withdrawn[0] + "T", withdrawn[1])


@pytest.mark.parametrize("schedule", [(60, 60, 60), (0, 60, 60), (5,)])
def test_a_schedule_spent_on_time_ends_at_its_last_attempt(schedule):
    """The span a delivery is tried over runs from its first attempt: the schedule's
    first delay comes before that attempt. Counting it too gave a schedule of
    (60, 60, 60) a fourth attempt, and (5,) a second."""
    rng = random.Random(1)
    begun = 1_000.0
    now = begun
    for attempt in range(1, len(schedule) + 1):
        d = policy.decide(attempt, policy.Result(500), now, schedule, rng, begun=begun)
        if attempt < len(schedule):
            assert d.outcome == policy.RETRY
            now = d.next_attempt
    tries = "1 attempt" if len(schedule) == 1 else f"{len(schedule)} attempts"
    assert d.outcome == policy.FAILED and d.reason.endswith(f"gave up after {tries}")


# Discord's own link rule (simple-markdown's): what it takes for a web address
_DISCORD_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")


def test_a_discord_address_right_before_a_tag_keeps_the_tags_escape(site):
    """ "...2.html<t:1720656000:R>": the "<" escaped as "\\<" after an address, Discord's
    link rule took the backslash into the address, and the time token was live."""
    summary = "In Russian at https://rus.sectsco.org/20240711/2.html<t:1720656000:R> today."
    body = payload.discord("release.published", entry(summary=summary), site.config(), 0)
    description = json.loads(body)["embeds"][0]["description"]
    links = _DISCORD_URL.findall(description)
    assert links == ["https://rus.sectsco.org/20240711/2.html"], links
    rest = description.split(links[0], 1)[1]
    assert "\\<t:1720656000:R>" in rest and "<t:" not in rest.replace("\\<t:", "")


@pytest.mark.parametrize("fmt", ["slack", "discord"])
def test_a_chat_message_made_from_a_standard_body_is_the_one_made_from_its_entry(site, fmt):
    """A delivery queued as standard for an endpoint whose format is fixed later is made
    again from what its body says (``payload.carried``), over the entry as it is stored
    by then (another revision, withdrawn again for another reason): the message is the
    one its own entry made, the correction's changes and the withdrawal's reason too."""
    cfg = site.config()
    now = entry(
        title="A later headline",
        summary="Later text.",
        revision=3,
        withdrawal=Withdrawal(at=datetime(2026, 11, 2, tzinfo=UTC), reason="Another reason"),
    )
    cases = [
        ("release.published", entry()),
        ("release.updated", entry(revision=2, changed=("title", "published"), language="ru")),
        (
            "release.withdrawn",
            entry(withdrawal=Withdrawal(at=datetime(2026, 11, 1, tzinfo=UTC), reason="Mistake")),
        ),
        ("release.withdrawn", entry(withdrawal=Withdrawal(at=datetime(2026, 11, 1, tzinfo=UTC)))),
    ]
    for event, sent in cases:
        body = payload.standard(event, sent, cfg, 0)
        remade = payload.carried(body, now)
        assert remade is not None
        assert payload.build(fmt, event, remade, cfg, 0) == payload.build(fmt, event, sent, cfg, 0)
    chat = payload.build(fmt, "release.published", entry(), cfg, 0)
    assert payload.carried(chat, now) is None  # too little of the entry to make another

"""Feed items as releases: links that are not web addresses never become entry links,
and relative links inside item content are made absolute against the feed's URL."""

from __future__ import annotations

import json

from scofeed.sources.feed import read_feed

FEED_URL = "https://agency.example/sco/rss.xml"

RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://agency.example/</link>
<description>d</description>
<item><title>Hostile link</title><link>javascript:alert(1)</link><guid>g1</guid>
<description>Body one.</description></item>
<item><title>Data link</title><link>data:text/html,hi</link>
<description>Body two.</description></item>
<item><title>Relative</title><link>/sco/3.html</link>
<description>See &lt;a href="/sco/other.html"&gt;this&lt;/a&gt; and
&lt;img src="pic.png" alt="p"&gt;.</description></item>
</channel></rss>"""


def test_rss_item_links_that_are_not_web_addresses_are_dropped():
    one, two, three = read_feed(FEED_URL, RSS, FEED_URL)
    assert one.url is None and "javascript" not in one.origin
    assert one.key == "g1"  # the guid identifies it instead
    assert two.url is None and not two.origin.startswith("data:")
    assert three.url == "https://agency.example/sco/3.html"


def test_relative_links_in_item_content_are_made_absolute():
    *_, three = read_feed(FEED_URL, RSS, FEED_URL)
    assert 'href="https://agency.example/sco/other.html"' in three.html
    assert 'src="https://agency.example/sco/pic.png"' in three.html


def test_json_feed_item_url_must_be_a_web_address():
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "x",
        "items": [
            {"id": "a", "url": "javascript:alert(1)", "title": "A", "content_text": "Text a."},
            {
                "id": "b",
                "url": "javascript:void(0)",
                "external_url": "https://mirror.example/b",
                "title": "B",
                "content_text": "Text b.",
            },
        ],
    }
    a, b = read_feed(FEED_URL, json.dumps(doc).encode(), FEED_URL)
    assert a.url is None and a.key == "a"
    assert b.url == "https://mirror.example/b"

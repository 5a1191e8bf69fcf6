"""Promises the module docstrings make that no test held them to: each was found by
mutation testing (a change to the code that every test still passed), and each test
here fails under that change. Real parts: lxml and json read what is rendered, a real
HTTP server on 127.0.0.1 answers the webhook sender."""

from __future__ import annotations

import base64
import http.server
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree

from scofeed import render
from scofeed.activitypub.httpsig import load_public
from scofeed.config import load
from scofeed.config.push import Webhook
from scofeed.deliver import policy, sender, signing
from scofeed.deliver.runner import DeliveryPool
from scofeed.errors import BadSignature
from scofeed.model import Entry
from scofeed.normalise.sanitise import sanitise
from scofeed.render import catalog
from scofeed.serve.answers import accepts_gzip, not_modified
from servers import serve

ATOM = "{http://www.w3.org/2005/Atom}"


def entry(n: int = 1, **changes: object) -> Entry:
    day = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(days=n)
    fields: dict[str, object] = dict(
        id=f"tag:test.example,2026:release/{n}", title="SCO statement", summary="Summary.",
        content_html="<p>Body.</p>", published=day, updated=day, author="SCO Secretariat",
        language="en", link=f"http://127.0.0.1:8080/entries/{n}", url=None, tags=("economy",),
    )  # fmt: skip
    fields.update(changes)
    return Entry(**fields)  # type: ignore[arg-type]


# -- render ----------------------------------------------------------------------------


def test_an_rss_summary_reaches_readers_as_text_never_as_markup():
    """RSS readers show <description> as HTML: a summary's "<script>" must arrive
    escaped (xmlfeeds says so; dropping the escape passed every test)."""
    cfg = load(None)
    data = render.render("rss", [entry(summary="Use <script>alert(1)</script> now")], cfg)
    description = etree.fromstring(data).find("channel/item/description").text
    assert description == "Use &lt;script&gt;alert(1)&lt;/script&gt; now"


def test_a_json_feed_item_keeps_every_tag_and_its_original_address():
    cfg = load(None)
    e = entry(tags=("economy", "security"), url="https://eng.sectsco.org/20250302/1.html")
    (item,) = json.loads(render.render("json", [e], cfg))["items"]
    assert item["tags"] == ["economy", "security"]
    assert item["external_url"] == "https://eng.sectsco.org/20250302/1.html"


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_an_archive_page_advertises_no_hub(fmt):
    """A closed month's page never changes: a WebSub hub link there invites
    subscriptions that never hear anything (JSON Feed's archive pages held to it too)."""
    cfg = load(None, ["websub.enabled=true"])
    fs = catalog.main_set(cfg)
    head = catalog.archive_head(cfg, fs, fmt, "2025-03", None, None)
    archive = etree.fromstring(render.render(fmt, [entry()], cfg, head=head))
    live = etree.fromstring(render.render(fmt, [entry()], cfg))
    hubs = f".//{ATOM}link[@rel='hub']"
    assert live.findall(hubs) and not archive.findall(hubs)


# -- sanitise --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        # no data: addresses (a page of its own, script included, in some browsers)
        ('<p><a href="data:text/html,x">x</a></p>', "<p>x</p>"),
        ('<p>a<img src="data:image/svg+xml,x" alt="y">b</p>', "<p>ab</p>"),
        # mailto: the press service's address is kept
        ('<p><a href="mailto:press@sectsco.org">press</a></p>',
         '<p><a href="mailto:press@sectsco.org" rel="noopener noreferrer">press</a></p>'),
        # no target: a link opens where the reader opens it; noopener always
        ('<p><a href="https://a.org/" target="_blank">x</a></p>',
         '<p><a href="https://a.org/" rel="noopener noreferrer">x</a></p>'),
        ("<p>CO<sub>2</sub> and m<sup>2</sup></p>", "<p>CO<sub>2</sub> and m<sup>2</sup></p>"),
        # a link or an image whose address was taken out is no link, no broken image
        ('<p><a href="javascript:alert(1)" title="t">read</a> <a name="n">on</a></p>',
         "<p>read on</p>"),
        ('<p>x <img src="javascript:1" alt="Bad" title="t"> <img> y</p>', "<p>x y</p>"),
        # an address taken out by the second cleaning (a character dropped after nh3)
        ('<p><a href="java&#0;script:alert(1)">x</a></p>', "<p>x</p>"),
        ('<p>a<img src="java&#0;script:x" alt="y">b</p>', "<p>ab</p>"),
        # an attribute's value naming the address does not hide it is gone
        ('<p><a href="javascript:alert(1)" title="see href=x">read</a> on</p>',
         "<p>read on</p>"),
        ('<p><img src="javascript:1" alt="a src=b"> y</p>', "<p>y</p>"),
        # one with another attribute kept (dir), and links nesting through a table
        ('<p><a href="javascript:x" dir="rtl">R</a> <img src="javascript:x" dir="rtl"> ok</p>',
         "<p>R ok</p>"),
        ('<a href="javascript:x"><table><tr><td><a href="https://ok.org/">good</a> after'
         "</td></tr></table>rest</a>",
         '<table><tbody><tr><td><a href="https://ok.org/" rel="noopener noreferrer">good</a>'
         " after</td></tr></tbody></table>rest"),
    ],
)  # fmt: skip
def test_the_sanitisers_link_policy(dirty, clean):
    assert sanitise(dirty) == clean


# -- webhooks --------------------------------------------------------------------------


SECRET = "whsec_" + base64.b64encode(b"k" * 24).decode()


@pytest.mark.parametrize("skew", [-301, 301])
def test_verify_refuses_a_timestamp_too_far_either_side_of_now(skew):
    """A request signed for the future stayed replayable long after the tolerance when
    only the past was checked."""
    sent = signing.headers([SECRET], "msg_1", 10_000, b"{}")
    assert signing.verify(SECRET, sent, b"{}", 10_000 + 300) == "msg_1"
    with pytest.raises(BadSignature, match="away from now"):
        signing.verify(SECRET, sent, b"{}", 10_000 + skew)


@pytest.fixture
def eastern_clock(monkeypatch) -> Iterator[None]:
    """This process's local time zone 8 hours east of UTC (Beijing), where the tests'
    usual UTC could not tell a zone-less date read as local from one read as UTC."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_an_asctime_retry_after_is_utc_whatever_the_hosts_zone(eastern_clock):
    when = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC).timestamp()
    assert policy.retry_after_seconds("Sun Nov  6 08:49:37 1994", when - 120) == 120


def test_an_asctime_if_modified_since_is_utc_whatever_the_hosts_zone(eastern_clock):
    mtime = int(datetime(2025, 3, 2, 12, 0, 0, tzinfo=UTC).timestamp())
    asked = {"HTTP_IF_MODIFIED_SINCE": "Sun Mar  2 11:00:00 2025"}  # an hour before it
    assert not not_modified(asked, ['"x"'], mtime)
    assert not_modified({"HTTP_IF_MODIFIED_SINCE": "Sun Mar  2 12:00:00 2025"}, ['"x"'], mtime)
    # and another form at the very second of the file: not modified either
    rfc850 = {"HTTP_IF_MODIFIED_SINCE": "Sunday, 02-Mar-25 12:00:00 GMT"}
    assert not_modified(rfc850, ['"x"'], mtime)


def test_if_none_match_star_and_x_gzip():
    assert not_modified({"HTTP_IF_NONE_MATCH": "*"}, ['"abc"'], 0)
    assert accepts_gzip("x-gzip") and accepts_gzip("deflate, x-gzip;q=0.5")


def test_a_lease_outlasts_the_worst_attempt_twice():
    """Two senders never hold one delivery (one webhook-id sent twice at once): the
    lease is longer than an attempt that runs its whole timeout, twice."""
    hook = Webhook("h", "https://hooks.example/", timeout=10.0)
    assert DeliveryPool().lease_for(hook) > 2 * hook.timeout


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str]]
    answer: dict[str, str]

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.seen.append((self.command, self.path))
        self.send_response(204)
        for name, value in self.answer.items():
            self.send_header(name, value)
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[type[_Recorder]]:
    made: list[http.server.ThreadingHTTPServer] = []

    def start(answer: dict[str, str] | None = None) -> tuple[str, list[tuple[str, str]]]:
        handler = type("Handler", (_Recorder,), {"seen": [], "answer": answer or {}})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        serve(server)
        made.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/hook", handler.seen

    yield start  # type: ignore[misc]
    for server in made:
        server.shutdown()
        server.server_close()


def test_a_push_never_goes_through_a_proxy_named_in_the_environment(recorder, monkeypatch):
    """A daemon started with HTTP_PROXY set sent signed payloads (and chat tokens in
    their URLs) through that proxy, where the address guard checked the proxy."""
    proxy_url, through_proxy = recorder()
    hook_url, at_hook = recorder()
    monkeypatch.setenv("HTTP_PROXY", proxy_url.removesuffix("/hook"))
    monkeypatch.setenv("http_proxy", proxy_url.removesuffix("/hook"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    sent = sender.post(sender.session(allow_private=True), hook_url, b"{}", {}, 10.0)
    assert sent.result.status == 204
    assert at_hook == [("POST", "/hook")] and through_proxy == []


@pytest.mark.parametrize(("remaining", "held"), [("4", None), ("0", "2")])
def test_only_an_empty_rate_limit_bucket_holds_an_endpoint(recorder, remaining, held):
    """Discord sends its bucket's headers on every answer: only an empty one (remaining
    0) holds the endpoint until it resets, or every chat delivery waited."""
    url, _seen = recorder({"X-RateLimit-Remaining": remaining, "X-RateLimit-Reset-After": "2"})
    sent = sender.post(sender.session(allow_private=True), url, b"{}", {}, 10.0)
    assert sent.result.bucket_reset == held


# -- ActivityPub -----------------------------------------------------------------------


def test_a_follower_key_under_1024_bits_is_refused():
    """A key that can be factored lets anyone sign in that follower's name."""
    # an odd 512-bit modulus: cryptography makes no key that short, but takes one given
    weak = rsa.RSAPublicNumbers(65537, (1 << 511) + 12345).public_key()
    pem = weak.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(BadSignature):
        load_public(pem.decode())
    strong = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    good = strong.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert load_public(good.decode()).key_size == 2048

"""WebSub end to end: `scofeed run` as a real subprocess; a subscriber on 127.0.0.1 (our
own, and flask-websub's) discovers the hub from the feed, subscribes, is verified, and
receives the new feed body, signed, after a new release file is dropped in sources/.
Also the hub endpoint's answers to hostile requests, over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest
import requests

import forkserver
from conftest import Site, free_port, run_cli
from scofeed.daemon import OTHER_BODY
from servers import serve
from test_daemon import wait_for
from websub_subscriber import Subscriber

NEW_TITLE = "Secretariat hosts WebSub test briefing"


@dataclass
class Daemon:
    proc: subprocess.Popen[bytes]
    base: str
    err: Path

    def log(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def daemon(site: Site) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(
        extra: str = "", command: str = "run", base: str | None = None, schedule: str = ""
    ) -> Daemon:
        """``scofeed run`` (or ``command``) on a new port; ``base`` is the site's
        base_url (default: that port's); ``schedule``: more keys of [schedule]."""
        site.write_config(
            "\n[schedule]\nscan_interval = 60\ndeliver_interval = 1\n"
            + schedule
            + "\n[websub]\nallow_private = true\n"
            + extra
        )
        port = free_port()
        base = base or f"http://127.0.0.1:{port}/"
        err = site.root / f"err-{port}.txt"
        with open(err, "wb") as e:
            proc = forkserver.Popen(
                [sys.executable, "-m", "scofeed", "--config", str(site.config_path), command,
                 "--port", str(port), "--set", f'site.base_url="{base}"'],
                stdout=subprocess.DEVNULL, stderr=e, cwd=site.root,
            )  # fmt: skip
        own = f"http://127.0.0.1:{port}/"
        d = Daemon(proc, own, err)
        started.append(d)

        def up() -> bool:
            # every format: the first build writes them in turn, and a test that read
            # rss.xml as soon as atom.xml was there found none (a busy machine)
            try:
                return all(
                    requests.get(own + name, timeout=2).status_code == 200
                    for name in ("atom.xml", "rss.xml", "feed.json")
                )
            except requests.RequestException:
                return False

        wait_for(up, 30, "the daemon to publish its feeds")
        return d

    yield start
    for d in started:
        if d.proc.poll() is None:
            d.proc.send_signal(signal.SIGTERM)
            try:
                d.proc.wait(20)
            except subprocess.TimeoutExpired:
                d.proc.kill()


def drop_release(site: Site) -> None:
    text = f"{NEW_TITLE}\n\n2026-03-02\n\nThe SCO Secretariat held a briefing on feeds.\n"
    tmp = site.sources / ".new.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.rename(site.sources / "websub-new.txt")


def test_a_subscriber_discovers_subscribes_and_gets_the_new_release_signed(site, daemon):
    d = daemon()
    sub = Subscriber()
    try:
        # discovery: the Link header and the feed itself name the hub and the topic
        resp = requests.get(d.base + "atom.xml", timeout=5)
        hub_url, topic = resp.links["hub"]["url"], resp.links["self"]["url"]
        feed = feedparser.parse(resp.content).feed
        assert [x.href for x in feed.links if x.rel == "hub"] == [hub_url]
        assert [x.href for x in feed.links if x.rel == "self"] == [topic] == [d.base + "atom.xml"]

        secret = "a-subscriber-secret"
        answer = requests.post(hub_url, timeout=5, data={
            "hub.mode": "subscribe", "hub.topic": topic, "hub.callback": sub.url,
            "hub.secret": secret, "hub.lease_seconds": "3600"})  # fmt: skip
        assert answer.status_code == 202, answer.text
        sub.wait("verifications")
        assert sub.verifications[0]["hub.lease_seconds"] == "3600"
        listed = lambda: "127.0.0.1" in _cli(site, "websub", "list").stdout  # noqa: E731
        wait_for(listed, 20, "the subscription to be active")

        drop_release(site)  # the watcher wakes the scan; the scan wakes the hub
        wait_for(lambda: any(NEW_TITLE.encode() in p.body for p in sub.posts), 30, "the push")
        post = next(p for p in sub.posts if NEW_TITLE.encode() in p.body)
        expected = "sha256=" + hmac.new(secret.encode(), post.body, hashlib.sha256).hexdigest()
        assert post.headers["x-hub-signature"] == expected
        assert post.headers["content-type"].startswith("application/atom+xml")
        assert post.body == requests.get(topic, timeout=5).content
        assert f'<{topic}>; rel="self"' in post.headers["link"]

        health = requests.get(d.base + "healthz", timeout=5).json()
        assert health["websub"]["subscriptions"] == 1
        assert "a-subscriber-secret" not in d.log()
    finally:
        sub.close()


def test_scofeed_serve_takes_hub_requests_for_the_run_daemon_and_503_without_one(site, daemon):
    """`scofeed serve` serves the feeds `scofeed run` builds (a second process, or a
    read-only host): the hub those feeds advertise answers there too. A request is
    recorded for the daemon's websub job, which verifies it; while no daemon runs on the
    store, a 503 says why (it was a 405 "method not allowed" to every subscriber)."""
    assert _cli(site, "build").returncode == 0
    served = daemon(command="serve")
    sub = Subscriber()
    try:
        hub_url = requests.get(served.base + "atom.xml", timeout=5).links["hub"]["url"]
        topic = hub_url.rsplit("/", 1)[0] + "/atom.xml"
        form = {"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": sub.url}
        refused = requests.post(served.base + "websub", data=form, timeout=5)
        assert refused.status_code == 503, refused.text
        assert "scofeed run" in refused.text and str(site.root) not in refused.text
        assert int(refused.headers["Retry-After"]) > 0
        assert "answers 503 until `scofeed run` runs" in served.log()
        assert "127.0.0.1" not in _cli(site, "websub", "list").stdout  # nothing recorded

        # the daemon shares the store and the base URL (it serves the same site)
        daemon(base=served.base)
        accepted = requests.post(served.base + "websub", data=form, timeout=5)
        assert accepted.status_code == 202, accepted.text
        sub.wait("verifications")  # by the daemon's websub job, not by `serve`
        listed = lambda: "127.0.0.1" in _cli(site, "websub", "list").stdout  # noqa: E731
        wait_for(listed, 20, "the subscription to be active")
    finally:
        sub.close()


def _cli(site: Site, *args: str) -> subprocess.CompletedProcess[str]:
    return forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
        capture_output=True, text=True, cwd=site.root, timeout=60,
    )  # fmt: skip


def test_flask_websub_subscriber_gets_the_new_feed(site, daemon, tmp_path):
    flask = pytest.importorskip("flask")
    fw = pytest.importorskip("flask_websub.subscriber")
    from werkzeug.serving import make_server

    d = daemon()
    port = free_port()
    app = flask.Flask("reader")
    app.config["SERVER_NAME"] = f"127.0.0.1:{port}"
    subscriber = fw.Subscriber(
        fw.SQLite3SubscriberStorage(str(tmp_path / "subs.db")),
        fw.SQLite3TempSubscriberStorage(str(tmp_path / "temp.db")),
    )
    app.register_blueprint(subscriber.build_blueprint(url_prefix="/callbacks"))
    got: list[bytes] = []
    subscriber.add_listener(lambda topic, callback_id, body: got.append(body))
    confirmed: list[str] = []
    subscriber.add_success_handler(lambda topic, callback_id, mode: confirmed.append(mode))
    server = make_server("127.0.0.1", port, app, threaded=True)
    serve(server)
    try:
        with app.app_context():
            found = fw.discover(d.base + "rss.xml")
            assert found == {"hub_url": d.base + "websub", "topic_url": d.base + "rss.xml"}
            subscriber.subscribe(**found)
        wait_for(lambda: confirmed == ["subscribe"], 20, "flask-websub to confirm")
        drop_release(site)
        wait_for(lambda: any(NEW_TITLE.encode() in b for b in got), 30, "the push to flask-websub")
        parsed = feedparser.parse(next(b for b in got if NEW_TITLE.encode() in b))
        assert parsed.entries[0].title == NEW_TITLE
    finally:
        server.shutdown()


def test_a_pubsubhubbub_0_3_subscriber_like_newsblur_subscribes_and_gets_the_push(site, daemon):
    """NewsBlur's reader (apps/push): finds the hub with feedparser, POSTs hub.verify
    twice (async, sync) and a hub.verify_token, and its callback answers 404 to a
    verification without that token. It was refused with a 400 (hub.verify given more
    than once); with the token not echoed it could not have subscribed either."""
    d = daemon()
    token = "subscribe" + "0123456789abcdef" * 2
    sub = Subscriber(token=token)
    try:
        feed = feedparser.parse(requests.get(d.base + "rss.xml", timeout=5).content).feed
        hub_url = next(x.href for x in feed.links if x.rel == "hub")
        topic = next(x.href for x in feed.links if x.rel == "self")
        answer = requests.post(hub_url, timeout=5, data={
            "hub.mode": "subscribe", "hub.callback": sub.url, "hub.topic": topic,
            "hub.verify": ["async", "sync"], "hub.verify_token": token,
            "hub.lease_seconds": 2592000})  # fmt: skip
        assert answer.status_code == 202, answer.text
        sub.wait("verifications")
        assert sub.verifications[0]["hub.verify_token"] == token
        listed = lambda: "127.0.0.1" in _cli(site, "websub", "list").stdout  # noqa: E731
        wait_for(listed, 20, "the subscription to be active")
        drop_release(site)
        wait_for(lambda: any(NEW_TITLE.encode() in p.body for p in sub.posts), 30, "the push")
    finally:
        sub.close()


def test_the_daemon_retries_a_ping_an_external_hub_refused(site, daemon):
    """`scofeed run` with an external hub in `hubs`: the hub answers the first ping with
    a 503; the daemon pings that topic again on retry_schedule (it was dropped)."""
    external = Subscriber(statuses=(503,))
    try:
        daemon(f'hubs = ["{external.url}"]\nretry_schedule = [0, 1]\n')
        wait_for(lambda: len(external.posts) >= 9, 30, "the first pings")  # 3 sets x 3
        wait_for(lambda: len(external.posts) >= 10, 30, "the refused ping made again")
        once_more = Counter(p.body for p in external.posts).most_common(1)[0]
        assert once_more[1] == 2 and b"hub.mode=publish" in once_more[0]
    finally:
        external.close()


def test_a_reload_raising_the_hubs_max_body_applies_at_once(site, daemon):
    """``websub.max_body`` raised past the largest any route took at the start (the
    inbox's 256 KiB) by a reload: the server still refused such a body with its own 413
    until a restart, while the reload said the config was taken."""
    d = daemon("max_body = 2048\n")
    body = b"hub.mode=subscribe&x=" + b"a" * 300_000

    def post() -> requests.Response:
        return requests.post(
            d.base + "websub", data=body, timeout=10,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )  # fmt: skip

    assert post().status_code == 413
    site.write_config(
        "\n[schedule]\nscan_interval = 60\ndeliver_interval = 1\n"
        "\n[websub]\nallow_private = true\nmax_body = 400000\n"
    )
    reloaded = run_cli(site, "reload")
    assert reloaded.returncode == 0, reloaded.stderr
    answer = post()  # read by the hub, which finds no topic in it
    assert answer.status_code == 400 and "hub." in answer.text, answer.text
    body = b"hub.mode=subscribe&x=" + b"a" * (400_000 - 21)  # the limit, to the byte
    assert len(body) == 400_000 and post().status_code == 400
    body += b"a"
    answer = post()
    assert answer.status_code == 413, answer.text
    assert answer.text == "the body is larger than this path takes (400000 bytes)\n"


def test_a_chunked_body_is_held_to_its_own_bytes_not_its_framing(site, daemon):
    """A chunked body was counted with its chunk sizes and line ends: 1,500 bytes in
    one-byte chunks got "larger than this path takes (2048 bytes)", and one chunk of
    exactly the limit a 413. Its own bytes count: the limit is taken, one more is not."""
    d = daemon("max_body = 2048\n")
    port = int(d.base.rsplit(":", 1)[1].strip("/"))

    def status(body: bytes, size: int) -> bytes:
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
            for i in range(0, len(body), size)
        )
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST /websub HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n"
                b"\r\n" + chunks + b"0\r\n\r\n"
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        return answer.split(b" ", 2)[1]

    body = b"hub.mode=subscribe&x=" + b"a" * (2048 - 21)
    assert status(body, 1) == status(body, 2048) == b"400"  # read: the hub wants a topic
    assert status(body + b"a", 2049) == b"413"
    # the framing is held too: a chunk-size line that never ends was read to 2 MiB, at
    # any path (waitress joins it anew at each read: seconds of CPU a connection)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /atom.xml HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;"
            + b"a" * (8 * OTHER_BODY + 8192)
        )
        assert sock.recv(12)[9:] == b"413"


def test_hub_endpoint_refuses_hostile_requests_over_http(site, daemon):
    d = daemon("rate = 6\nmax_body = 2048\n")
    hub_url = d.base + "websub"
    topic = d.base + "atom.xml"

    def post(data: object, **kw: object) -> requests.Response:
        return requests.post(hub_url, data=data, timeout=5, **kw)  # type: ignore[arg-type]

    bad = post({"hub.mode": "subscribe", "hub.topic": topic, "hub.callback": "nope"})
    assert bad.status_code == 400 and "hub.callback" in bad.text
    assert bad.headers["content-type"].startswith("text/plain")
    secret = post({"hub.mode": "subscribe", "hub.topic": topic,
                   "hub.callback": "http://example.org/cb", "hub.secret": "s" * 200})  # fmt: skip
    assert secret.status_code == 400 and "200 bytes" in secret.text
    big = post(b"hub.mode=subscribe&x=" + b"a" * 5000,
               headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert big.status_code == 413
    typed = post(b"{}", headers={"Content-Type": "application/json"})
    assert typed.status_code == 415
    # a body announced larger than any route takes (the inbox's 256 KiB) is refused
    # before it is sent: waitress took up to 1 GB of it into a temporary file first
    port = int(d.base.rsplit(":", 1)[1].strip("/"))
    for path, limit in ((b"/websub", 2048), (b"/atom.xml", OTHER_BODY)):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(
                b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 500000000\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\n" + b"a" * 1000
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
            head, body = answer.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 413"), path
            # one line, naming the most its path takes (waitress's ran over five, and
            # named the largest any route takes, the inbox's, 128 times the hub's)
            assert body == f"the body is larger than this path takes ({limit} bytes)\n".encode()
    assert requests.get(hub_url, timeout=5).status_code == 405
    statuses = [post({"hub.mode": "x"}).status_code for _ in range(4)]
    assert statuses[-1] == 429, statuses  # the 7th request within a minute
    assert d.proc.poll() is None


def test_hub_requests_while_another_process_holds_the_store_leave_the_feeds_served(site, daemon):
    """Four subscription requests while another process holds the store's write lock (a
    long build, a sqlite3 shell) each held one of the server's four workers for the
    whole ``limits.store_wait`` (30 s), and every feed and /healthz waited as long. Two
    at a time now take the store, each waiting for its lock at most ``WRITE_WAIT``
    (2 s), the others a turn as long: all answer 503 with Retry-After, soon, and the
    feeds are served meanwhile."""
    d = daemon()
    topic = d.base + "atom.xml"
    held = sqlite3.connect(site.config().paths.state, timeout=10, isolation_level=None)
    held.execute("BEGIN IMMEDIATE")
    answers: list[requests.Response] = []
    try:

        def subscribe(n: int) -> None:
            form = {"hub.mode": "subscribe", "hub.topic": topic,
                    "hub.callback": f"http://127.0.0.1:9/cb{n}"}  # fmt: skip
            answers.append(requests.post(d.base + "websub", data=form, timeout=60))

        posts = [threading.Thread(target=subscribe, args=(n,)) for n in range(4)]
        for t in posts:
            t.start()
        # meanwhile, the feeds and /healthz (the store is read, not written: WAL)
        for name in ("atom.xml", "rss.xml", "healthz"):
            assert requests.get(d.base + name, timeout=20).status_code == 200, name
        for t in posts:
            t.join(60)
        assert sorted(a.status_code for a in answers) == [503] * 4, [a.text for a in answers]
        assert all(int(a.headers["Retry-After"]) > 0 for a in answers)
        assert all("busy" in a.text for a in answers)
        assert "http_store_busy" in d.log()
    finally:
        held.execute("ROLLBACK")
        held.close()

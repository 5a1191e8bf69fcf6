"""Who a request is counted against (``serve.clients``): the peer, or behind a trusted
reverse proxy the client its header names. Over HTTP against the hub's request rate
(the server on 127.0.0.1, the requests sent with the headers a proxy would add), and
the header's reading on its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from scofeed.config import Config
from scofeed.errors import ConfigError
from scofeed.serve import App, HttpServer
from scofeed.serve.clients import client_address
from scofeed.store import Store
from tests.conftest import Site


@pytest.fixture
def hub_url(site: Site) -> Iterator[tuple[list[Config], str]]:
    """The hub served on 127.0.0.1 with a rate of 2 a minute; ``cfgs[0]`` is its config."""
    cfgs = [site.config("websub.rate=2")]
    store = Store(cfgs[0].paths.state)
    server = HttpServer(App(lambda: cfgs[0], store, on_hub_request=lambda: None), "127.0.0.1", 0)
    server.start()
    try:
        host, port = server.addresses[0][:2]
        yield cfgs, f"http://{host}:{port}{cfgs[0].websub.hub_path}"
    finally:
        server.stop()
        store.close()


def limited(url: str, **headers: str) -> bool:
    """Whether the hub answered this request 429 (any other answer: it was counted)."""
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return requests.post(url, data=b"hub.mode=x", headers=headers, timeout=10).status_code == 429


def test_behind_a_trusted_proxy_each_client_has_its_own_rate(site: Site, hub_url) -> None:
    """All requests came from the proxy's address: one abuser's requests used up the
    allowance of every client behind the same proxy."""
    cfgs, url = hub_url
    cfgs[0] = site.config("websub.rate=2", 'serve.trusted_proxies=["127.0.0.1/32", "10.0.0.0/8"]')
    abuser = "198.51.100.7"
    assert [limited(url, **{"X-Forwarded-For": abuser}) for _ in range(3)] == [False, False, True]
    assert not limited(url, **{"X-Forwarded-For": "198.51.100.8"})  # another client
    # what the abuser writes itself is left of its own address: never read
    forged = {"X-Forwarded-For": f"203.0.113.{5}, {abuser}"}
    assert limited(url, **forged)
    # a chain of trusted proxies: the rightmost address no trusted proxy has
    assert limited(url, **{"X-Forwarded-For": f"{abuser}, 10.1.2.3"})
    assert not limited(url, **{"X-Forwarded-For": "192.0.2.1, 10.1.2.3"})


def test_a_peer_that_is_no_trusted_proxy_is_the_client_whatever_it_sends(
    site: Site, hub_url
) -> None:
    cfgs, url = hub_url
    cfgs[0] = site.config("websub.rate=2", 'serve.trusted_proxies=["10.0.0.0/8"]')
    spoofed = [limited(url, **{"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(3)]
    assert spoofed == [False, False, True]  # all counted against 127.0.0.1
    assert limited(url, Forwarded="for=192.0.2.9")
    cfgs[0] = site.config("websub.rate=2")  # no trusted proxy at all (the default)
    assert limited(url, **{"X-Forwarded-For": "192.0.2.10"})


def test_only_the_header_the_proxies_set_is_read(site: Site, hub_url) -> None:
    """A proxy that sets Forwarded passes an X-Forwarded-For the client wrote through
    untouched (and the reverse): reading it, a client chose its own address."""
    cfgs, url = hub_url
    cfgs[0] = site.config("websub.rate=2", 'serve.trusted_proxies=["127.0.0.1"]',
                          "serve.client_header=Forwarded")  # fmt: skip
    one = {"Forwarded": 'for="[2001:db8::1]:4711";proto=https'}
    assert [limited(url, **one) for _ in range(3)] == [False, False, True]
    both = {**one, "X-Forwarded-For": "192.0.2.77"}
    assert limited(url, **both)  # counted as 2001:db8::1, not as 192.0.2.77
    assert not limited(url, Forwarded="for=192.0.2.78")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("198.51.100.1:4711", "198.51.100.1"),
        ("[2001:db8::1]:80", "2001:db8::1"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
        ("junk, 198.51.100.1", "198.51.100.1"),
        ("198.51.100.1, 10.0.0.1", "198.51.100.1"),
        ("10.0.0.2, 10.0.0.1", "10.0.0.2"),  # all trusted: the first
        ("198.51.100.1, unknown", "127.0.0.1"),  # the proxy knew no address: its own
        ("", "127.0.0.1"),
    ],
)
def test_x_forwarded_for_is_read_from_the_right(site: Site, header: str, expected: str) -> None:
    cfg = site.config('serve.trusted_proxies=["127.0.0.1", "10.0.0.0/8"]')
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": header}
    assert client_address(cfg, environ) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("for=198.51.100.1", "198.51.100.1"),
        ('For="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
        ("for=192.0.2.43, for=198.51.100.17", "198.51.100.17"),
        ("for=_hidden", "127.0.0.1"),
        ("proto=https", "127.0.0.1"),
    ],
)
def test_forwarded_is_read_as_rfc_7239_writes_it(site: Site, header: str, expected: str) -> None:
    cfg = site.config('serve.trusted_proxies=["127.0.0.1"]', "serve.client_header=Forwarded")
    environ = {"REMOTE_ADDR": "127.0.0.1", "HTTP_FORWARDED": header}
    assert client_address(cfg, environ) == expected


@pytest.mark.parametrize("bad", ["10.0.0.1/8", "localhost", "10.0.0.0/33", ""])
def test_a_trusted_proxy_that_is_no_address_or_network_is_refused(site: Site, bad: str) -> None:
    with pytest.raises(ConfigError) as caught:
        site.config(f'serve.trusted_proxies=["{bad}"]')
    assert "serve.trusted_proxies" in str(caught.value) and "10.0.0.0/8" in str(caught.value)


@pytest.mark.parametrize("proxy", ["::ffff:127.0.0.1", "::ffff:127.0.0.0/104"])
def test_a_proxy_written_as_an_ipv4_mapped_address_is_trusted(site: Site, proxy: str) -> None:
    """A dual-stack server logs its IPv4 peers as ``::ffff:127.0.0.1``: the proxy listed
    so was never trusted (every peer and hop is read as IPv4)."""
    cfg = site.config(f'serve.trusted_proxies=["{proxy}"]')
    for peer in ("::ffff:127.0.0.1", "127.0.0.1"):
        environ = {"REMOTE_ADDR": peer, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
        assert client_address(cfg, environ) == "198.51.100.1"
    untrusted = {"REMOTE_ADDR": "::ffff:192.0.2.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_address(cfg, untrusted) == "::ffff:192.0.2.1"

"""What the per-host limits count a host as (``scofeed.hostkey``): its registrable domain
by the Public Suffix List that ``publicsuffixlist`` bundles, an IPv4 address however
spelled, an IPv6 address's /64."""

from __future__ import annotations

import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import requests

from scofeed.hostkey import address_key, authority, host_key, url_host


@pytest.mark.parametrize(
    ("host", "key"),
    [
        # a subscriber's wildcard DNS: every name it makes up is one domain
        ("a.evil.example", "evil.example"),
        ("b.c.evil.example", "evil.example"),
        ("evil.example", "evil.example"),
        # the list's private section: two people's sites on one provider stay apart
        ("x.github.io", "x.github.io"),
        ("deep.x.github.io", "x.github.io"),
        ("y.github.io", "y.github.io"),
        ("bucket.s3.amazonaws.com", "bucket.s3.amazonaws.com"),
        # public suffixes of more than one label
        ("a.b.co.uk", "b.co.uk"),
        ("shop.example.com.au", "example.com.au"),
        ("city.kawasaki.jp", "city.kawasaki.jp"),  # an exception to *.kawasaki.jp
        ("a.b.kawasaki.jp", "a.b.kawasaki.jp"),  # under the wildcard
        # no more than a public suffix, or one label: the name itself
        ("co.uk", "co.uk"),
        ("github.io", "github.io"),
        ("com", "com"),
        ("localhost", "localhost"),
        # spelled otherwise, the same name to the resolver
        ("A.Evil.EXAMPLE", "evil.example"),
        ("a.evil.example.", "evil.example"),
        ("a.evil.example..", "evil.example"),
        ("a.evil%2Eexample", "evil.example"),  # the client decodes it: "a.evil.example"
        ("x%2eevil.example", "evil.example"),
        ("LOCALHOST.", "localhost"),
        # IDNA: Unicode and Punycode are one key, in Punycode
        ("a.bücher.example", "xn--bcher-kva.example"),
        ("b.XN--BCHER-KVA.example", "xn--bcher-kva.example"),
        ("a.BÜCHER.example", "xn--bcher-kva.example"),
        ("a.例え.jp", "xn--r8jz45g.jp"),
        # IDNA 2008, as the client: ß and ς are letters of their own, not "ss" and "σ"
        ("a.straße.example", "xn--strae-oqa.example"),
        ("a.strasse.example", "strasse.example"),
        ("ς.example", "xn--3xa.example"),
        # a name the client refuses to send a request to: its own key, no one else's
        ("a\u3002evil\uff0eexample", "a\u3002evil\uff0eexample"),
        ("\uff41.\uff45\uff56\uff49\uff4c.example", "\uff41.\uff45\uff56\uff49\uff4c.example"),
        ("a\u200db.evil.example", "a\u200db.evil.example"),
        ("公司.cn", "xn--55qx5d.cn"),  # a public suffix in Unicode
        ("a.b.公司.cn", "b.xn--55qx5d.cn"),
        # addresses: IPv4 by itself, however the resolver would read it
        ("192.0.2.7", "192.0.2.7"),
        ("127.1", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("127%2E0.0.1", "127.0.0.1"),
        # IPv6 by its /64; IPv4 inside IPv6 by the IPv4 address
        ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
        ("[2001:DB8:1:2:ffff::1]", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::5", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("2002:c000:207::1", "192.0.2.7"),  # 6to4
        ("", ""),
    ],
)
def test_host_key(host, key):
    assert host_key(host) == key


@pytest.mark.parametrize(
    "host",
    ["a.evil%2Eexample", "A.B%2ec.evil.example", "a.straße.example", "a.BÜCHER.example",
     "ς.example", "127%2E1", "0x7f.0.0.1", "a.evil.example.", "a.evil.example\\.victim.example"],
)  # fmt: skip
def test_a_name_is_keyed_as_the_name_the_client_connects_to(host):
    """The key of a host is the key of the name ``requests`` connects to for it."""
    sent = urlsplit(requests.Request("GET", f"http://{host}/").prepare().url).hostname
    assert host_key(host) == host_key(sent)


def test_names_that_only_look_like_numbers_are_names():
    assert host_key("1.2.3.4.5") == "4.5"  # five parts: no address to the resolver
    assert host_key("0x7f.example") == "0x7f.example"
    assert host_key("08.0.0.1") == "0.1"  # 08 is no octal number: a name


@pytest.mark.parametrize("text", ["example.org", "", "1.2.3.4.5", "[::1", "::g"])
def test_address_key_of_what_is_no_address_is_none(text):
    assert address_key(text) is None


def test_the_list_is_read_from_the_package_never_fetched():
    """The bundled list alone: with every socket refused, the keys are worked out."""
    code = (
        "import socket\n"
        "def refuse(*a, **k): raise OSError('no network here')\n"
        "socket.socket.connect = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "socket.create_connection = refuse\n"
        "from scofeed.hostkey import host_key\n"
        "print(host_key('a.evil.example'), host_key('x.github.io'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["evil.example", "x.github.io"]


@pytest.mark.parametrize(
    "url",
    ["http://a.evil.example\\@victim.example/inbox", "https://a.evil.example:8443\\.victim.example/",
     "http://u:p@A.Evil%2Eexample:80/x", "http://[2001:db8::1]:8080/x", "https://straße.example/"],
)  # fmt: skip
def test_the_host_of_a_url_is_the_one_the_client_sends_to(url):
    """``url_host`` reads a URL as ``requests`` does (``urllib.parse`` read the first two
    as on ``victim.example``: a server of evil.example counted as one of victim's)."""
    sent = urlsplit(requests.Request("GET", url).prepare().url).hostname
    assert url_host(url) is not None
    assert host_key(url_host(url)) == host_key(sent) != "victim.example"


@pytest.mark.parametrize(
    ("url", "server"),
    [("https://Remote.Example./inbox", "remote.example"),
     ("https://remote.example:443/inbox", "remote.example"),
     ("http://remote.example:443/inbox", "remote.example:443"),
     ("http://u:p@remote.example.:8080/x", "remote.example:8080"),
     ("http://a.evil.example\\@victim.example/inbox", "a.evil.example"),
     ("https://[2001:DB8::1]:443/x", "[2001:db8::1]"),
     ("http://remote.example:99999/x", None)],
)  # fmt: skip
def test_an_authority_is_named_one_way_however_its_urls_spell_it(url, server):
    assert authority(url) == server

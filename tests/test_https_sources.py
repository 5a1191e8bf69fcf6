"""HTTPS for polling and ``scofeed add URL`` (issue #13, point 10), against a real TLS
server on 127.0.0.1 whose certificate comes from a throwaway CA (trustme): verified
when the CA is trusted (``REQUESTS_CA_BUNDLE`` or ``SSL_CERT_FILE``), refused with one
clear line naming the URL when it is not, or when the certificate names another host."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from datetime import UTC, datetime

import feedparser
import pytest
import trustme

import forkserver
from scofeed.poll import poll_due
from scofeed.store import sources as source_rows
from servers import HTTPServer
from test_remote import add_source, serve_site

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
ARTICLE = "/20220125/813122.html"
CA_ENV = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE")


@pytest.fixture(params=["127.0.0.1", "wrong-host"])
def tls_web(request, tmp_path):
    """The SCO test site over HTTPS; with "wrong-host" its certificate names another
    host (from the same CA)."""
    ca = trustme.CA()
    name = "127.0.0.1" if request.param == "127.0.0.1" else "feeds.example.org"
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(ctx)
    server = HTTPServer(host="127.0.0.1", ssl_context=ctx)
    server.start()
    serve_site(server)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    server.bundle = bundle  # type: ignore[attr-defined]
    server.good = request.param == "127.0.0.1"  # type: ignore[attr-defined]
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def no_ca_env(monkeypatch):
    for key in CA_ENV:
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


@pytest.mark.parametrize("env", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_page_list_over_https(site, tls_web, no_ca_env, env):
    url = tls_web.url_for("/news/")
    assert url.startswith("https://")
    no_ca_env.setenv(env, str(tls_web.bundle))
    add_source(site, url)
    (result,) = poll_due(site.config(), site.store(), NOW).results
    if tls_web.good:
        assert (result.status, result.new) == ("ok", 3)
        atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
        links = {e.link for e in atom.entries}
        assert tls_web.url_for(ARTICLE) in links
        assert sum(link.startswith("https://127.0.0.1:") for link in links) == 3
        return
    assert result.status != "ok" and result.new == 0
    state = source_rows.state(site.store().db, "sco-en")
    assert state is not None and state.last_error is not None
    assert "\n" not in state.last_error
    assert "TLS certificate not accepted: " in state.last_error, state.last_error
    assert "127.0.0.1" in state.last_error.split("accepted: ", 1)[1]  # names the mismatch


def test_an_untrusted_certificate_is_refused_when_polling(site, tls_web, no_ca_env):
    url = tls_web.url_for("/news/")
    add_source(site, url)
    (result,) = poll_due(site.config(), site.store(), NOW).results
    assert result.status != "ok" and result.new == 0
    state = source_rows.state(site.store().db, "sco-en")
    assert state is not None and state.last_error is not None
    assert "TLS certificate not accepted: " in state.last_error, state.last_error
    assert "\n" not in state.last_error


def add(site, url: str, bundle: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in CA_ENV}
    if bundle:
        env["SSL_CERT_FILE"] = bundle
    return forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(site.config_path), "add", url],
        capture_output=True,
        text=True,
        cwd=site.root,
        env=env,
        timeout=60,
    )


def test_add_an_https_url(site, tls_web):
    url = tls_web.url_for(ARTICLE)
    done = add(site, url, str(tls_web.bundle))
    if tls_web.good:
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("added tag:")
        atom = feedparser.parse((site.feeds / "atom.xml").read_bytes())
        assert url in [e.link for e in atom.entries]
        return
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert url in line and "TLS certificate not accepted" in line, line


def test_add_refuses_an_untrusted_certificate_in_one_line(site, tls_web):
    url = tls_web.url_for(ARTICLE)
    done = add(site, url, None)
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert url in line and "TLS certificate not accepted" in line, line
    assert not list(site.sources.glob("2022-*"))

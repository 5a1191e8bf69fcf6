"""Webhook delivery over HTTPS to a real TLS receiver on 127.0.0.1 whose certificate
comes from a throwaway CA (trustme): verified when the CA is trusted
(REQUESTS_CA_BUNDLE), refused with one clear line when it is not."""

from __future__ import annotations

import http.server
import ssl
from datetime import UTC, datetime

import pytest
import trustme

from conftest import webhook_toml
from scofeed.build import build as build_feeds
from scofeed.deliver import runner
from scofeed.store import deliveries as rows
from servers import serve


class _Ok(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def tls(tmp_path):
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    serve(srv)
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    yield f"https://127.0.0.1:{srv.server_address[1]}/hook", bundle
    srv.shutdown()
    srv.server_close()


def send(site, url):
    site.write_config(webhook_toml("tls", url))
    cfg, store = site.config(), site.store()
    build_feeds(cfg, store, datetime.now(UTC))
    report = runner.run_due(cfg, store)
    (d,) = rows.listing(store.db)
    return report, d


def test_a_certificate_from_a_trusted_ca_is_verified(site, tls, monkeypatch):
    url, bundle = tls
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    report, d = send(site, url)
    assert (report.delivered, d.status, d.last_status) == (1, "delivered", 204)


def test_an_untrusted_certificate_is_refused_with_a_clear_line(site, tls, monkeypatch):
    url, _bundle = tls
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    report, d = send(site, url)
    assert report.delivered == 0 and d.status == "pending"
    assert d.last_error is not None
    assert d.last_error.startswith("TLS certificate not accepted: "), d.last_error
    assert "127.0.0.1" not in d.last_error  # never the URL

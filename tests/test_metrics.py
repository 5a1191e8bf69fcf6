"""``/metrics``: the store's figures for Prometheus, read by Prometheus's own parser,
from the daemon as a subprocess; only to a request that carries the token."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families
from werkzeug import Response

import test_daemon
from conftest import free_port, run_cli, webhook_toml
from scofeed.serve import App, HttpServer
from scofeed.store import Store

start = test_daemon.start  # the daemon as a subprocess (a fixture)
wait_for = test_daemon.wait_for

TOKEN = "s3cret-token-for-prometheus"
SERVE = f'\n[serve]\nmetrics_token = "{TOKEN}"\n'


def scraped(d: test_daemon.Running) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics, as Prometheus's parser reads them."""
    r = d.get("/metrics", Authorization=f"Bearer {TOKEN}")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def test_the_figures_follow_the_store_and_need_the_token(start, site, httpserver):
    httpserver.expect_request("/hook").respond_with_response(Response("ok", 200))
    dead = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: it keeps retrying
    hooks = webhook_toml("good", httpserver.url_for("/hook")) + webhook_toml("dead", dead)
    d = start(extra=SERVE + hooks)
    (site.sources / "b.txt").write_text(
        "SCO meets envoys\n\nOn 5 January 2026, the SCO met envoys in Astana.\n", "utf-8"
    )

    def delivered() -> dict | None:
        figures = scraped(d)
        good = (("endpoint", "good"), ("status", "delivered"))
        return figures if figures.get(("scofeed_webhook_deliveries", good)) == 2 else None

    figures = wait_for(delivered, timeout=30, what="both releases delivered to the good endpoint")
    assert figures[("scofeed_entries", (("state", "published"),))] == 2
    assert figures[("scofeed_entries", (("state", "withdrawn"),))] == 0
    pending = ("scofeed_webhook_deliveries", (("endpoint", "dead"), ("status", "pending")))
    assert figures[pending] == 2
    state = "scofeed_webhook_endpoint_state"
    assert figures[(state, (("endpoint", "good"), ("state", "active")))] == 1
    assert figures[(state, (("endpoint", "dead"), ("state", "retrying")))] == 1
    assert figures[(state, (("endpoint", "dead"), ("state", "active")))] == 0
    scan = (("job", "scan"),)
    assert figures[("scofeed_job_consecutive_failures", scan)] == 0
    assert figures[("scofeed_job_last_success_timestamp_seconds", scan)] > 1.7e9
    (info,) = [k for k in figures if k[0] == "scofeed_info"]
    assert dict(info[1])["schema"].isdigit()

    withdrawn = run_cli(site, "withdraw", run_cli(site, "list").stdout.split()[0])
    assert withdrawn.returncode == 0, withdrawn.stderr
    figures = scraped(d)  # read from the store at each scrape
    assert figures[("scofeed_entries", (("state", "withdrawn"),))] == 1

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        refused = d.get("/metrics", **headers)
        assert refused.status_code == 401, headers
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "scofeed_entries" not in refused.text
    served = "scofeed_http_requests_total"  # the serving process's own count
    figures = scraped(d)
    assert figures[(served, (("code", "401"), ("route", "metrics")))] == 3
    assert figures[(served, (("code", "200"), ("route", "healthz")))] >= 1  # start's wait
    assert d.stop() == 0


def test_without_a_token_there_is_no_such_route(start, site):
    d = start()
    assert d.get("/metrics", Authorization=f"Bearer {TOKEN}").status_code == 404
    assert d.stop() == 0


def test_a_token_that_cannot_be_read_or_is_short_stops_the_server_at_start(site):
    site.write_config('\n[serve]\nmetrics_token = "file:missing.token"\n')
    port = str(free_port())
    served = run_cli(site, "serve", "--port", port)
    assert served.returncode == 2
    assert "serve.metrics_token: cannot read secret file" in served.stderr
    assert "missing.token" in served.stderr
    site.write_config('\n[serve]\nmetrics_token = "short"\n')
    checked = run_cli(site, "config", "check")
    assert checked.returncode == 2 and "serve.metrics_token" in checked.stderr
    assert "short" not in checked.stderr  # a secret is never shown
    try:
        requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
    except requests.ConnectionError:
        pass  # nothing was left listening
    else:  # pragma: no cover - the failure this test exists for
        raise AssertionError("a server answered")


def test_a_token_that_is_not_ascii_is_compared_as_the_bytes_sent(site):
    """Prometheus sends its credentials file's bytes (UTF-8); WSGI hands the header on
    as Latin-1: a token with an "é" in it was never matched, a 401 for ever."""
    token = "clé-de-métriques-0123456789"
    store = Store(site.config().paths.state)
    server = HttpServer(App(lambda: site.config(f"serve.metrics_token={token}"), store),
                        "127.0.0.1", 0)  # fmt: skip
    server.start()
    try:
        host, port = server.addresses[0][:2]
        url = f"http://{host}:{port}/metrics"
        sent = {"Authorization": f"Bearer {token}".encode()}
        assert requests.get(url, headers=sent, timeout=10).status_code == 200
        wrong = {"Authorization": f"Bearer {token}".encode("latin-1")}
        assert requests.get(url, headers=wrong, timeout=10).status_code == 401
    finally:
        server.stop()
        store.close()


def test_a_reload_turns_metrics_on_and_keeps_the_address(start, site):
    """A reload applies every key but serve.host and serve.port (configuration.md): a
    ``metrics_token`` added and reloaded turns /metrics on, and a new ``trusted_proxies``
    applies. The daemon kept the whole ``[serve]`` table as it started instead, /metrics
    stayed a 404, and the log said only "restart to listen elsewhere"."""
    d = start()
    assert d.get("/metrics", Authorization=f"Bearer {TOKEN}").status_code == 404
    config = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(
        config + SERVE + 'trusted_proxies = ["127.0.0.1"]\n', encoding="utf-8"
    )
    assert run_cli(site, "reload").returncode == 0
    wait_for(lambda: "reloaded config=" in d.log(), what="the reload")
    scraped(d)  # the token is asked for, and opens the route
    assert d.get("/metrics").status_code == 401
    assert "serve_address_unchanged" not in d.log()
    assert d.stop() == 0

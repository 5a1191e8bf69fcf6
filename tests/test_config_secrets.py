"""Secrets are never shown: every config error path is fed a secret and secret-bearing URLs,
and everything printed or logged is searched for them (issue 13, finding 5)."""

from __future__ import annotations

import base64
import logging
import os
import resource
import subprocess
import sys
import tomllib
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from werkzeug import Response

import forkserver
from scofeed.added import add_url
from scofeed.cli import main
from scofeed.config import load, redact_url, safe_url, show
from scofeed.config.redact import got, logged, secret_key
from scofeed.daemon import Daemon
from scofeed.errors import ConfigError
from scofeed.poll import poll_due
from scofeed.recheck import recheck_due
from scofeed.store import Store

SECRET = "whsec_" + base64.b64encode(b"LEAKEDSECRETLEAKEDSECRET").decode()  # a valid secret
BAD_SECRET = "not-a-whsec-LEAKEDSECRETBAD"  # refused by the check, must not be echoed
TOKEN_URL = "https://hooks.slack.com/services/T0/B0/LEAKTOKENPATH"
CRED_URL = "ftp://leakuser:LEAKPASS@example.org/hook?token=LEAKTOKENQUERY#LEAKFRAG"
# what must never appear: the secrets, the URL credentials, tokens in paths and queries
MARKERS = (
    SECRET,
    SECRET.removeprefix("whsec_"),
    "LEAKEDSECRET",
    "leakuser",
    "LEAKPASS",
    "LEAKTOKEN",
    "LEAKFRAG",
)


def hook(**keys: object) -> str:
    """One [[webhooks]] table, valid unless ``keys`` say otherwise."""
    fields: dict[str, object] = {"name": q("chat"), "url": q(TOKEN_URL), "secret": q(SECRET)}
    fields.update(keys)
    lines = ["", "[[webhooks]]"]
    lines += [f"{k} = {v}" for k, v in fields.items() if v is not None]
    return "\n".join(lines) + "\n"


def q(v: str) -> str:
    return '"' + v + '"'


def quoted(**keys: str | None) -> dict[str, str | None]:
    return {k: (q(v) if v is not None else None) for k, v in keys.items()}


# (case id, config text, environment, the dotted key the message must name)
CASES = [
    (
        "webhooks-as-one-table",
        f'\n[webhooks]\nname = "chat"\nurl = {q(TOKEN_URL)}\nsecret = {q(SECRET)}\n',
        {},
        "webhooks: expected a list of tables, got a table; write [[webhooks]]",
    ),
    ("webhook-url-bad-scheme", hook(**quoted(url=CRED_URL)), {}, "webhooks[0].url: expected"),
    (
        "webhook-url-no-scheme",
        hook(**quoted(url="leakuser:LEAKPASS@hooks.slack.com/LEAKTOKEN")),
        {},
        "webhooks[0].url: expected an http:// or https:// URL (value not shown)",
    ),
    (
        "webhook-url-a-list",
        hook(url=f"[{q(TOKEN_URL)}]"),
        {},
        "webhooks[0].url: expected a string, got a list",
    ),
    (
        "webhook-url-a-table",
        hook(url=f"{{ href = {q(TOKEN_URL)} }}"),
        {},
        "webhooks[0].url: expected a string, got a table",
    ),
    ("secret-not-whsec", hook(**quoted(secret=BAD_SECRET)), {}, "webhooks[0].secret: expected"),
    (
        "secret-a-number",
        hook(secret="12345"),
        {},
        "webhooks[0].secret: expected a secret",
    ),
    (
        "secret-a-table",
        hook(secret=f"{{ value = {q(SECRET)} }}"),
        {},
        "webhooks[0].secret: expected a secret",
    ),
    (
        "secret-list-with-a-bad-one",
        hook(secret=f"[{q(SECRET)}, {q(BAD_SECRET)}]"),
        {},
        "webhooks[0].secret[1]: expected",
    ),
    (
        "secret-list-with-a-number",
        hook(secret=f"[{q(SECRET)}, 5]"),
        {},
        "webhooks[0].secret[1]: expected a secret",
    ),
    (
        "secret-under-a-wrong-key",
        hook(secret=None, secrets=q(SECRET)),
        {},
        "webhooks[0].secrets: unknown key",
    ),
    (
        "secret-pasted-as-the-name",
        hook(**quoted(name=SECRET + "+/")),
        {},
        "webhooks[0].name: expected a name",
    ),
    (
        "secret-pasted-as-the-format",
        hook(**quoted(format=SECRET)),
        {},
        "webhooks[0].format: expected one of",
    ),
    (
        "secret-from-env-refused",
        hook(**quoted(secret="env:SCOFEED_TEST_LEAK")),
        {"SCOFEED_TEST_LEAK": BAD_SECRET},
        "webhooks[0].secret: expected 'whsec_'",
    ),
    (
        "secret-from-file-refused",
        hook(**quoted(secret="file:leak.key")),
        {},
        "webhooks[0].secret: expected 'whsec_'",
    ),
    (
        "secret-file-not-text",
        hook(**quoted(secret="file:leak.bin")),
        {},
        "webhooks[0].secret: secret file",
    ),
    (
        "secret-breaks-the-toml",
        hook(secret=SECRET),  # unquoted: not a TOML value
        {},
        "not valid TOML",
    ),
    (
        "duplicate-webhook-names",
        hook() + hook(),
        {},
        "webhooks[1].name: 'chat' is already the name of a webhook",
    ),
    (
        "source-url-bad-scheme",
        f'\n[[sources]]\nname = "s"\nkind = "feed"\nurl = {q(CRED_URL)}\n',
        {},
        "sources[0].url: expected an http:// or https:// URL, got 'ftp://***@example.org/hook?***#***'",
    ),
    (
        "sources-as-one-table",
        f'\n[sources]\nname = "s"\nkind = "feed"\nurl = {q(CRED_URL)}\n',
        {},
        "sources: expected a list of tables, got a table; write [[sources]]",
    ),
    (
        "base-url-bad-scheme",
        f"\n[site]\nbase_url = {q(CRED_URL)}\n",
        {},
        "site.base_url: expected an http:// or https:// URL, got 'ftp://***@example.org/hook?",
    ),
    (
        "tags-as-a-secret",
        f"\n[tags]\neconomy = {q(SECRET)}\n",
        {},
        "tags.economy: expected a list of strings (value not shown)",
    ),
    (
        "metrics-token-a-number",
        "\n[serve]\nmetrics_token = 12345678901234567890\n",
        {},
        "serve.metrics_token: expected a secret: the value as a string, 'env:NAME' or",
    ),
    (
        "metrics-token-file-not-text",
        '\n[serve]\nmetrics_token = "file:leak.bin"\n',
        {},
        "serve.metrics_token: secret file",
    ),
    (
        "log-level-a-secret",
        f"\n[log]\nlevel = {q(SECRET)}\n",
        {},
        "log.level: expected one of",
    ),
]


def write_site(root: Path, text: str) -> Path:
    (root / "sources").mkdir(exist_ok=True)
    (root / "leak.key").write_text(BAD_SECRET + "\n", encoding="utf-8")
    (root / "leak.bin").write_bytes(b"\xffLEAKEDSECRET\xfe")
    path = root / "config.toml"
    path.write_text('[paths]\nstate = "state/test.sqlite3"\n' + text, encoding="utf-8")
    return path


def assert_clean(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, f"{marker!r} shown in:\n{text}"


@pytest.mark.parametrize(
    ("text", "env", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_config_errors_name_the_key_and_never_the_secret(tmp_path, monkeypatch, text, env, message):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = write_site(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert_clean(str(err.value))
    if "webhooks" not in message:  # a webhook's secret is 'whsec_' + base64; no other is
        assert "whsec_" not in str(err.value)


@pytest.mark.parametrize(("text", "env"), [c[1:3] for c in CASES], ids=[c[0] for c in CASES])
def test_every_command_keeps_config_errors_secret(tmp_path, monkeypatch, capsys, text, env):
    """In process, logging at DEBUG to the captured stderr: check, show, build, status, run."""
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    path = write_site(tmp_path, text)
    monkeypatch.chdir(tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level  # main() configures logging afresh
    try:
        for command in (["config", "check"], ["config", "show"], ["build"], ["status"], ["run"]):
            assert main(["-vv", "--config", str(path), *command]) == 2, command
    finally:
        root.handlers[:], root.level = handlers, level
    out = capsys.readouterr()
    assert out.err.count("scofeed: ") == 5
    assert_clean(out.out + out.err)


def test_overrides_never_echo_a_value(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(None, [SECRET])  # KEY=VALUE with the '=' forgotten: it may be a secret
    assert "--set: expected KEY=VALUE" in str(err.value)
    for item in (f"site.base_url={CRED_URL}", f"log.level={q(SECRET)}", f"webhooks={SECRET}"):
        with pytest.raises(ConfigError) as err:
            load(None, [item])
        assert_clean(str(err.value))


def scofeed(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    proc = forkserver.run(
        [sys.executable, "-m", "scofeed", "-vv", "--config", str(root / "config.toml"), *args],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"


SUBPROCESS_CASES = (
    "webhooks-as-one-table",
    "webhook-url-bad-scheme",
    "secret-from-env-refused",
    "source-url-bad-scheme",
)


@pytest.mark.parametrize(
    ("text", "env"),
    [c[1:3] for c in CASES if c[0] in SUBPROCESS_CASES],
    ids=[c[0] for c in CASES if c[0] in SUBPROCESS_CASES],
)
def test_a_real_scofeed_keeps_config_errors_secret(tmp_path, text, env):
    write_site(tmp_path, text)
    for command in (["config", "check"], ["config", "show"], ["build"], ["status"], ["run"]):
        output = scofeed(tmp_path, *command, env=env)
        assert output.startswith("rc=2\n") and "scofeed: " in output, output
        assert_clean(output)


def test_a_failed_reload_logs_the_key_not_the_secret(site, caplog):
    cfg = site.config()
    daemon = Daemon(cfg, lambda: load(site.config_path), schedule=False)
    site.write_config(f'\n[webhooks]\nname = "chat"\nurl = {q(TOKEN_URL)}\nsecret = {q(SECRET)}\n')
    with caplog.at_level(logging.ERROR):
        daemon.reload()
    assert daemon.cfg is cfg
    assert "reload_failed" in caplog.text and "webhooks: expected a list of tables" in caplog.text
    assert_clean(caplog.text)


VALID = (
    f'\n[[webhooks]]\nname = "chat"\nformat = "slack"\nurl = {q(TOKEN_URL)}\nsecret = {q(SECRET)}\n'
    '\n[[webhooks]]\nname = "rotating"\nurl = "https://leakuser:LEAKPASS@example.org/"\n'
    'secret = ["env:SCOFEED_TEST_SECRET", "file:good.key"]\n'
    '\n[[sources]]\nname = "feed"\nkind = "feed"\n'
    'url = "https://leakuser:LEAKPASS@example.org/feed.xml?key=LEAKTOKENQUERY"\n'
    # an external hub's URL, a list of them: shown as every other URL (it was in full)
    '\n[websub]\nhubs = ["https://leakuser:LEAKPASS@hub.example.org/?apikey=LEAKTOKENQUERY"]\n'
)


def test_config_show_redacts_secrets_and_urls(tmp_path):
    write_site(tmp_path, VALID)
    (tmp_path / "good.key").write_text(SECRET + "\n", encoding="utf-8")
    output = scofeed(tmp_path, "config", "show", env={"SCOFEED_TEST_SECRET": SECRET})
    assert output.startswith("rc=0\n"), output
    assert_clean(output)
    shown = tomllib.loads(output.split("\n", 1)[1].rsplit("\n", 2)[0])
    chat, rotating = shown["webhooks"]
    assert chat["url"] == "https://hooks.slack.com/***" and chat["secret"] == "***"
    assert rotating["url"] == "https://***@example.org/"
    assert rotating["secret"] == ["env:SCOFEED_TEST_SECRET", "file:good.key"]
    assert shown["sources"][0]["url"] == "https://***@example.org/feed.xml?***"
    assert shown["websub"]["hubs"] == ["https://***@hub.example.org/?***"]
    (tmp_path / "state").mkdir()
    Store(tmp_path / "state" / "test.sqlite3").close()  # what status reads: a store
    for command in (["config", "check"], ["status"]):
        output = scofeed(tmp_path, *command, env={"SCOFEED_TEST_SECRET": SECRET})
        assert output.startswith("rc=0\n"), output
        assert_clean(output)


def test_loaded_config_objects_do_not_show_secrets_or_credentials(tmp_path, monkeypatch):
    monkeypatch.setenv("SCOFEED_TEST_SECRET", SECRET)
    (tmp_path / "good.key").write_text(SECRET + "\n", encoding="utf-8")
    cfg = load(write_site(tmp_path, VALID))
    assert_clean(repr(cfg.webhooks) + repr(cfg.sources) + str(cfg.webhooks[1].secrets))
    assert_clean(show(cfg))


def test_redaction_rules():
    assert redact_url("https://example.org/") == "https://example.org/"
    assert redact_url("https://u:p@example.org") == "https://***@example.org"
    assert redact_url("https://discord.com/api/webhooks/1/tok") == "https://discord.com/***"
    assert redact_url("hooks.slack.com/services/x") == "***"
    assert safe_url("http://[::1]:8080/a?b=c") == "http://[::1]:8080/a?***"
    assert safe_url("http://[::1") == "***"
    # a fragment names a feed's item (FEED#ID, as `scofeed status` shows it): it was
    # masked, and the rejected items of one feed were logged alike
    assert logged("https://u:p@example.org/a.xml?token=x#75a11da") == (
        "https://***@example.org/a.xml?***#75a11da"
    )
    # found by review: a "#" inside the credentials is no fragment; none of it shows
    assert logged("https://user:pa#ss@example.org/x") == "https://***"
    assert logged("https://user:1234#ss@example.org/x") == "https://***"
    # a page's path with spaces and quotes (a listing's link) is one field too
    spaced = "http://h.example/a b reason='x' c.html"
    assert logged(spaced) == f'"{spaced}"'
    assert logged("HTTP://example.org/news/") == "http://example.org/news/"
    assert logged("2024-05-02-trade.md") == "2024-05-02-trade.md"  # a file's name as it is
    assert logged("<stdin>") == "<stdin>"
    # one field, on one line: a name with spaces, quotes or "=" could pass for several
    forged = "x.txt reason='fixed' kept_last_good=tag:x y.txt"
    assert logged(forged) == repr(forged)
    assert logged("a\nb.txt") == "a\\nb.txt"
    assert logged("новости 1.txt") == "'новости 1.txt'"
    # a control character is escaped once, quoted or not (repr doubled its backslash)
    assert logged('forged\n{"level": "ERROR"}') == """'forged\\n{"level": "ERROR"}'"""
    assert got("many") == ", got 'many'"
    assert got(("atom", "rdf")) == ", got ['atom', 'rdf']"
    assert got({"secret": SECRET}) == ", got a table"
    assert got([SECRET]) == ", got a list"
    assert got(SECRET) == " (value not shown)"
    assert got("x", "hidden") == " (value not shown)"
    for key in ("webhooks[0].secret", "websub.hub_secret", "x.api_key", "a.private_key", "token"):
        assert secret_key(key), key
    for key in ("webhooks[0].allow_private", "site.id_authority", "sources[0].max_items"):
        assert not secret_key(key), key


def test_log_lines_show_fetched_and_added_pages_without_their_query(site, web, caplog):
    """A feed's or a page's address may carry a token in its query (``?key=...``): the
    INFO lines of a poll, an ``add URL`` and a recheck show it as ``?***`` (safe_url)."""
    now = datetime.now(UTC).replace(microsecond=0)
    day = now - timedelta(days=3)  # recent: the added page is rechecked
    item = web.url_for("/item.html")
    rss = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<link>{item}</link><description>d</description><item><title>SCO meets envoy</title>"
        f"<link>{item}</link><pubDate>{format_datetime(day)}</pubDate>"
        "<description>The SCO Secretary-General met the envoy.</description></item>"
        "</channel></rss>"
    )
    web.expect_request("/feed.xml").respond_with_data(rss, content_type="application/rss+xml")
    feed = web.url_for("/feed.xml") + "?key=LEAKTOKENQUERY"
    site.write_config(f'\n[[sources]]\nname = "feedy"\nkind = "feed"\nurl = "{feed}"\ndelay = 0\n')
    cfg, store = site.config(), site.store()

    text = f"SCO Council meets\n\nOn {day:%d %B %Y} the SCO Council met in Beijing.\n"
    served = {"page": text}
    web.expect_request("/page.txt").respond_with_handler(
        lambda request: Response(served["page"], content_type="text/plain")
    )
    added = web.url_for("/page.txt") + "?token=LEAKTOKENADD"
    with caplog.at_level(logging.DEBUG, logger="scofeed"):  # fetch, feed_read: DEBUG
        assert poll_due(cfg, store, now).results[0].new == 1
        add_url(cfg, store, added, now)
        served["page"] = text.replace("Beijing", "Tashkent")
        assert recheck_due(cfg, store, now, force=True).updated == 1
    # ours only: the test server (werkzeug) logs the requests it got, query and all
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("scofeed"))
    assert_clean(logged)
    masked_feed = web.url_for("/feed.xml") + "?***"
    masked_page = web.url_for("/page.txt") + "?***"
    for line in (
        f"fetch url={masked_feed} status=200",
        f"feed_read origin={masked_feed} format=rss20 items=1",
        f"fetch url={masked_page} status=200",
        f"add_written origin={masked_page} path=",
        f"recheck_corrected url={masked_page} entry=",
        f"add_refreshed url={masked_page} path=",
    ):
        assert line in logged, line


def test_a_secret_reference_naming_nothing_says_so(tmp_path, monkeypatch):
    """'env:' said "environment variable  is not set" (two spaces, no name); 'file:'
    read the config's own folder: "cannot read secret file /the/folder (Is a
    directory)"; a variable set but empty was "not set"."""
    monkeypatch.setenv("SCOFEED_EMPTY_SECRET", "")
    for ref, error in (
        ("env:", "webhooks[0].secret: 'env:' names no variable (expected env:NAME)"),
        ("file:", "webhooks[0].secret: 'file:' names no file (expected file:PATH)"),
        (
            "env:SCOFEED_EMPTY_SECRET",
            "webhooks[0].secret: environment variable SCOFEED_EMPTY_SECRET is empty",
        ),
    ):
        path = tmp_path / "config.toml"
        path.write_text(
            f'[[webhooks]]\nname = "a"\nurl = "https://x.example/h"\nsecret = "{ref}"\n',
            encoding="utf-8",
        )
        with pytest.raises(ConfigError) as err:
            load(path).require_secrets()  # an empty variable: unread where it is used
        assert str(err.value) == error, ref


def test_a_secret_not_readable_here_stops_only_the_commands_that_sign(site):
    """An env: (or unreadable file:) secret the daemon reads from its own environment
    (systemd's Environment=) stopped every command run from a shell without it:
    `scofeed status`, `list`, `config show`, and `reload`, which then sent no SIGHUP.
    Only `run`, `deliver`, `webhook test` and `config check` need it."""
    site.write_config(
        '[[webhooks]]\nname = "p"\nurl = "https://x.example/h"\n'
        'secret = "env:SCOFEED_TEST_UNSET_SECRET"\n'
    )
    env = {k: v for k, v in os.environ.items() if k != "SCOFEED_TEST_UNSET_SECRET"}

    def scofeed(*args: str) -> subprocess.CompletedProcess[str]:
        return forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(site.config_path), *args],
            capture_output=True, text=True, cwd=site.root, env=env, timeout=60,
        )  # fmt: skip

    for args in (["build"], ["list"], ["status"], ["config", "show"], ["webhook", "list"]):
        done = scofeed(*args)
        assert done.returncode == 0, (args, done.stderr)
    said = (
        "scofeed: webhooks[0].secret: environment variable SCOFEED_TEST_UNSET_SECRET is not set\n"
    )
    for args in (["deliver"], ["webhook", "test", "p"], ["config", "check"], ["run"]):
        done = scofeed(*args)
        assert (done.returncode, done.stderr) == (2, said), args


def test_a_secret_file_that_never_ends_is_one_config_error_line(tmp_path):
    """``secret = "file:/dev/zero"`` (a slip for another path) read until memory ran
    out, every command: a secret file is read up to 64 kB, and a larger one is refused
    naming the key. Found by fuzzing config.toml. (The command runs with 1 GB of address
    space, so that without the bound it fails quickly, not the machine.)"""
    path = tmp_path / "config.toml"
    path.write_text(
        '[[webhooks]]\nname = "a"\nurl = "https://x.example/h"\nsecret = "file:/dev/zero"\n',
        encoding="utf-8",
    )

    def little_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    ran = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(path), "config", "check"],
        capture_output=True, text=True, timeout=60, preexec_fn=little_memory,
    )  # fmt: skip
    assert (ran.returncode, ran.stderr) == (
        2,
        "scofeed: webhooks[0].secret: secret file /dev/zero is a character device, not a "
        "regular file\n",
    )

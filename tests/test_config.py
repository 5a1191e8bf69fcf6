"""config.toml: validated once, errors name the dotted key, secrets never shown."""

from __future__ import annotations

import dataclasses
import sys
import tomllib
from pathlib import Path

import pytest

import forkserver
from scofeed import config as config_mod
from scofeed.cli import main
from scofeed.config import Secret, load
from scofeed.config.show import _toml_value
from scofeed.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_repository_config_is_valid_and_matches_the_defaults():
    repo = Path(__file__).resolve().parents[1]
    cfg = load(repo / "config.toml")
    defaults = load(None)
    assert cfg.site == defaults.site and cfg.feeds == defaults.feeds
    assert cfg.paths.sources == repo / "sources"
    for section in ("limits", "schedule", "recheck", "serve", "log", "websub", "activitypub"):
        assert getattr(cfg, section) == getattr(defaults, section), section


def test_repository_config_shows_every_key_of_its_sections():
    """It says "what is shown is the default": a key left out (limits.reject_ttl was)
    is one an operator reading it never learns of."""
    text = (Path(__file__).resolve().parents[1] / "config.toml").read_text()
    raw = tomllib.loads(text)
    for section in ("site", "paths", "feeds", "limits", "schedule", "recheck", "serve", "log"):
        fields = {f.name for f in dataclasses.fields(getattr(config_mod.Config(), section))}
        fields -= {"languages"}  # shown commented out: a table per language
        # a key off by default (none) is shown commented out, with an example value
        fields -= {name for name in fields if f"\n# {name} = " in text}
        assert sorted(fields - set(raw[section])) == [], section


def test_the_repository_configs_language_example_loads_once_uncommented(tmp_path):
    """The commented [feeds.languages.ru] table sat above feeds.tombstone_days, so an
    operator uncommenting it moved that key into it: "unknown key", exit 2."""
    text = (Path(__file__).resolve().parents[1] / "config.toml").read_text(encoding="utf-8")
    lines, inside = [], False
    for line in text.splitlines():
        inside = line.startswith("# [feeds.languages.ru]") or (inside and line.startswith("# "))
        lines.append(line[2:] if inside else line)
    assert "\n[feeds.languages.ru]\n" in "\n".join(lines)
    cfg = load(write(tmp_path, "\n".join(lines) + "\n"))
    assert cfg.feeds.languages["ru"].path == "ru" and cfg.feeds.tombstone_days == 30


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[site]\ntitel = 'x'\n", "site.titel: unknown key"),
        ("bogus = 1\n", "bogus: unknown key"),
        ("[feeds]\nentries = 'ten'\n", "feeds.entries: expected a whole number, got 'ten'"),
        ("[feeds]\nentries = -1\n", "feeds.entries: expected a number above 0, got -1"),
        # accepted, then every build (and every scan of the daemon) ended in a traceback:
        # a date out of range, a float infinity to an int, setitimer's time_t overflowed
        ("[feeds]\ntombstone_days = 1000000\n", "feeds.tombstone_days: expected a number of days"),
        ("[limits]\nstore_wait = inf\n", "limits.store_wait: expected a number of seconds above"),
        ("[limits]\nfile_seconds = 1e20\n", "limits.file_seconds: expected a number of seconds"),
        ("[limits]\nfile_seconds = nan\n", "limits.file_seconds: expected a number of seconds"),
        ("[schedule]\nstop_seconds = inf\n", "schedule.stop_seconds: expected a number of seconds"),
        ("[limits]\ndelivered_days = 99999999\n", "limits.delivered_days: expected a number of"),
        ("[feeds]\nformats = ['atom', 'rdf']\n", "feeds.formats: expected a non-empty list"),
        ("[site]\nbase_url = 'ftp://x/'\n", "site.base_url: expected an http:// or https:// URL"),
        # urlsplit's ValueError was a traceback, for every command
        ("[site]\nbase_url = 'http://[::1/'\n", "site.base_url: expected an http:// or https"),
        ("[[sources]]\nname = 'a'\nkind = 'feed'\nurl = 'http://[x/'\n", "sources[0].url:"),
        ("[site]\nbase_url = 'http://x:99999/'\n", "site.base_url: expected an http:// or https"),
        ("[site]\nbase_url = 'http://x:0/'\n", "site.base_url: expected an http:// or https"),
        # a space went into every link of every feed
        ("[site]\nbase_url = 'http://x/my feeds/'\n", "site.base_url: expected an http:// or"),
        ("[site]\nid_authority = 'example.org,2026-13'\n", "site.id_authority: expected a tag"),
        ("[site]\ntimezone = 'Mars/Olympus'\n", "site.timezone: expected an IANA time zone"),
        # a feed's title is text: the W3C validator warned "title should not contain HTML"
        ("[site]\ntitle = 'SCO <b>news</b>'\n", "site.title: expected plain text, without HTML"),
        ("[site]\ndescription = 'A &amp; B'\n", "site.description: expected plain text"),
        # the HTML a release title loses is refused too, left unclosed or not
        ("[site]\ntitle = 'SCO <h1> Forum'\n", "site.title: expected plain text, without HTML"),
        ("[site]\ntitle = 'SCO <img src=x onerror=alert(1)//'\n", "site.title: expected plain"),
        # empty or blank: accepted, then every build stopped with a traceback (feedgen)
        ("[site]\ntitle = ''\n", "site.title: expected plain text, not empty"),
        ("[site]\ndescription = '  '\n", "site.description: expected plain text, not empty"),
        ("[site]\nauthor = ''\n", "site.author: expected plain text, not empty"),
        # a language's feed title and description are feed text too
        ("[feeds.languages.ru]\ntitle = ''\n", "feeds.languages.ru.title: expected plain text"),
        ("[feeds.languages.ru]\ndescription = 'A <b>B</b>'\n", "feeds.languages.ru.description"),
        # config show wrote it raw: a file config check then refused as TOML
        ('[site]\ntitle = "SCO\\u0007"\n', "site.title: expected plain text, without control"),
        ("[site]\nid_authority = 'example.org'\n", "site.id_authority: expected a tag: authority"),
        # an email authority of characters no tag URI holds: every id was invalid
        ("[site]\nid_authority = 'a<b>@c,2026'\n", "site.id_authority: expected a tag"),
        ("[site]\nid_authority = 'a/b@example.org,2026'\n", "site.id_authority: expected a tag"),
        ("[serve]\nport = 70000\n", "serve.port: expected a port number"),
        # passed `config check`, then `scofeed run` could not listen / wrote a feed twice
        ("[serve]\nhost = '999.1.1.1'\n", "serve.host: expected an IP address"),
        ("[serve]\nhost = 'bad host'\n", "serve.host: expected an IP address"),
        ("[feeds]\nformats = ['atom', 'atom']\n", "feeds.formats: expected a non-empty list"),
        ("[log]\nlevel = 'LOUD'\n", "log.level: expected one of"),
        ("[tags]\neconomy = 'trade'\n", "tags.economy: expected a list of strings"),
        # a blank keyword tagged every release
        ("[tags]\neverything = ['trade', ' ']\n", "tags: expected keywords that are not blank"),
        ("site = 3\n", "site: expected a table"),
        ("[site\n", "not valid TOML"),
    ],
)
def test_errors_name_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert message in str(err.value)
    assert "\n" not in str(err.value)
    assert err.value.exit_code == 2


def test_every_problem_is_named_at_once(tmp_path):
    """One run of `scofeed config check` lists every problem, one a line, each naming
    its key (fixing them one run at a time was the only way before)."""
    path = write(
        tmp_path,
        "[site]\nbase_url = 'ftp://x/'\ntimezone = 'Mars/Olympus'\n"
        "[serve]\nhots = 'x'\nport = 70000\n[[webhooks]]\nurl = 'ftp://a'\n"
        # the second item of a list of tables too (only the first one's were listed)
        "[[webhooks]]\nurl = 'ftp://b'\n"
        # a secret that is no Standard Webhooks secret, a bad pattern: said beside the URL
        "[[webhooks]]\nname = 'c'\nurl = 'ftp://c'\nsecret = 'nope'\ntitle_pattern = '('\n",
    )
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(err.value).splitlines() == [
        "site.base_url: expected an http:// or https:// URL, got 'ftp://x/'",
        "site.timezone: expected an IANA time zone name such as 'Asia/Shanghai', got "
        "'Mars/Olympus'",
        "serve.hots: unknown key (expected one of: access_log, client_header, host, metrics_token, "
        "port, trusted_proxies)",
        "serve.port: expected a port number from 0 to 65535, got 70000",
        "webhooks[0].name: required key is missing",
        "webhooks[0].url: expected an http:// or https:// URL, got 'ftp://a'",
        # the table's own check too: said only once the other keys were right
        "webhooks[0].secret: required key is missing (make one: docs/webhooks.md, Adding "
        "an endpoint)",
        "webhooks[1].name: required key is missing",
        "webhooks[1].url: expected an http:// or https:// URL, got 'ftp://b'",
        "webhooks[1].secret: required key is missing (make one: docs/webhooks.md, Adding "
        "an endpoint)",
        "webhooks[2].url: expected an http:// or https:// URL, got 'ftp://c'",
        "webhooks[2].secret: expected 'whsec_' followed by base64 of 16 to 128 bytes, or that "
        "base64 alone (from inline; value not shown)",
        "webhooks[2].title_pattern: not a valid regular expression (missing ), unterminated "
        "subpattern at position 0)",
    ]
    check = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(path), "config", "check"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert check.returncode == 2 and check.stdout == ""
    lines = check.stderr.splitlines()
    assert len(lines) == 13 and all(line.startswith("scofeed: ") for line in lines)


def test_a_title_in_angle_brackets_is_prose_not_html(tmp_path):
    """As in release titles, a bare word in angle brackets is prose: "SCO <Digital>
    Forum" was refused with the HTML, and stopped the daemon after an upgrade."""
    path = write(tmp_path, "[site]\ntitle = 'SCO <Digital> Forum'\ndescription = 'x<y, R&D'\n")
    assert load(path).site.title == "SCO <Digital> Forum"


def test_a_config_written_with_a_byte_order_mark_is_read(tmp_path):
    """Notepad's UTF-8 starts with a BOM: 'not valid TOML (Invalid statement (at line 1,
    column 1))' named nothing a user could see."""
    path = tmp_path / "config.toml"
    path.write_bytes(b"\xef\xbb\xbf[site]\ntitle = 'SCO releases'\n")
    assert load(path).site.title == "SCO releases"


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "nope.toml")


def test_relative_paths_follow_the_config_file(tmp_path):
    cfg = load(write(tmp_path, "[paths]\nfeeds = 'out'\n"))
    assert cfg.paths.feeds == tmp_path / "out"
    assert cfg.paths.sources == tmp_path / "sources"


def test_overrides_beat_the_file(tmp_path):
    cfg = load(
        write(tmp_path, "[serve]\nport = 9000\n"), ["serve.port=9100", "site.title=Hi there"]
    )
    assert cfg.serve.port == 9100 and cfg.site.title == "Hi there"
    with pytest.raises(ConfigError, match="serve.port: expected a whole number"):
        load(None, ["serve.port='x'"])
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        load(None, ["serve.port"])


def test_secrets_resolve_and_are_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("SCO_SECRET", "whsec_c2VjcmV0LWZyb20tZW52")
    (tmp_path / "key").write_text("whsec_ZnJvbS1hLWZpbGU=\n", encoding="utf-8")
    base = tmp_path
    env = config_mod.resolve_secret("env:SCO_SECRET", "k", base)
    from_file = config_mod.resolve_secret("file:key", "k", base)
    inline = config_mod.resolve_secret("whsec_aW5saW5l", "k", base)
    assert env.value == "whsec_c2VjcmV0LWZyb20tZW52" and from_file.value == "whsec_ZnJvbS1hLWZpbGU="
    for s in (env, from_file, inline):
        assert "whsec" not in repr(s) and "whsec" not in str(s) and "whsec" not in f"{s}"
    assert _toml_value(inline) == '"***"'
    assert _toml_value(env) == '"env:SCO_SECRET"'
    monkeypatch.delenv("SCO_SECRET")
    with pytest.raises(ConfigError, match="k: environment variable SCO_SECRET is not set"):
        config_mod.resolve_secret("env:SCO_SECRET", "k", base)
    with pytest.raises(ConfigError, match="cannot read secret file"):
        config_mod.resolve_secret("file:missing", "k", base)
    assert Secret("a", "inline") == Secret("a", "env:X")


def test_show_round_trips_through_toml(tmp_path):
    import tomllib

    cfg = load(write(tmp_path, "[tags]\n'two words' = ['a b']\n"))
    shown = tomllib.loads(config_mod.show(cfg))
    assert shown["tags"] == {"two words": ["a b"]}
    assert shown["feeds"]["formats"] == ["atom", "rss", "json"]


def test_webhook_urls_are_shown_without_their_token(tmp_path):
    cfg = load(
        write(
            tmp_path,
            '[[webhooks]]\nname = "chat"\nformat = "slack"\n'
            'secret = "whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"\n'
            'url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET"\n',
        )
    )
    shown = config_mod.show(cfg)
    assert "XXXXSECRET" not in shown and "c2VjcmV0c2VjcmV0c2VjcmV0" not in shown
    assert 'url = "https://hooks.slack.com/***"' in shown
    assert config_mod.redact_url("https://example.org/") == "https://example.org/"


def test_global_options_work_after_the_command(tmp_path):
    from scofeed.cli import parse

    args = parse(["config", "show", "--set", "serve.port=9001", "-v"])
    assert args.overrides == ["serve.port=9001"] and args.verbose == 1
    args = parse(["--set", "a.b=1", "build", "--set", "c.d=2", "--config", "x"])
    assert args.overrides == ["a.b=1", "c.d=2"] and args.config == "x"
    args = parse(["build"])
    assert args.overrides == [] and args.config is None and args.verbose == 0


def test_the_loader_reads_the_field_types_typing_would():
    import dataclasses
    import typing

    from scofeed.config import schema
    from scofeed.config.load import field_types

    sections = [c for c in vars(schema).values() if dataclasses.is_dataclass(c)]
    assert len(sections) >= 14
    for cls in sections:
        typed = typing.get_type_hints(cls)
        assert field_types(cls) == {f: typed[f] for f in cls.__dataclass_fields__}, cls


def test_the_default_stop_budget_outlasts_a_default_webhook_attempt():
    """A webhook attempt in flight when the daemon is stopped should end by its own
    deadline: cut at the stop (10 s against a 15 s timeout), it was sent again after the
    restart, and Slack or Discord, which keep no webhook-id, posted it twice."""
    timeout = next(f.default for f in dataclasses.fields(config_mod.Webhook) if f.name == "timeout")
    assert load(None, []).schedule.stop_seconds > timeout


def test_a_config_file_not_in_utf8_names_the_byte_and_line(tmp_path):
    """It was "cannot read config file ('utf-8' codec can't decode byte 0xe9 in position
    24: invalid continuation byte)": Python's words, a byte offset to count by hand."""
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[site]\ntitle = "caf\xe9"\n')
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(err.value) == f"{path}: not UTF-8 (byte 0xe9 on line 2); a config file is UTF-8 text"


def test_config_show_says_when_no_file_was_read(tmp_path, monkeypatch, capsys):
    """With a config file it names the file in its first line; with none it began with
    `sources = []`, leaving the operator to guess whether a file was read at all."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCOFEED_CONFIG", raising=False)
    assert main(["config", "show"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "# effective configuration: the built-in defaults (no config file)"


# -- checks across keys: folders, sources, webhook filters --------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # ru's feeds were written over en's, and feeds.opml listed en/atom.xml twice
        ("[feeds.languages.ru]\npath = 'en'\n",
         "feeds.languages.ru.path: 'en' is the folder of the 'en' language's feeds; "
         "pick a name that is no language code (not 2 or 3 letters)"),
        # a language not configured has its code as folder, and any code may come
        ("[feeds.languages.ru]\npath = 'fr'\n", "feeds.languages.ru.path: 'fr' is the folder"),
        ("[feeds.languages.ru]\npath = 'eng'\n", "feeds.languages.ru.path: 'eng' is the folder"),
        ("[feeds.languages.ru]\npath = 'x'\n[feeds.languages.zh]\npath = 'x'\n",
         "feeds.languages.zh.path: 'x' is already the folder of feeds.languages.ru"),
        ("[feeds.languages.ru]\npath = 'zh-hans'\n[feeds.languages.zh-hans]\ntitle = 'x'\n",
         "feeds.languages.ru.path: 'zh-hans' is"),
        ("[site]\nlanguage = 'en-gb'\n[feeds.languages.ru]\npath = 'en-gb'\n",
         "feeds.languages.ru.path: 'en-gb' is the folder of site.language's feeds"),
        # it said "expected a folder name of lower-case letters, digits, '-' or '_'", which
        # 'tags' is
        ("[feeds.languages.ru]\npath = 'tags'\n",
         "feeds.languages.ru.path: expected a folder name other than the reserved 'archive', "
         "'tags', 'entries', 'page', 'websub', 'healthz', got 'tags'"),
        ("[feeds.languages.ru]\npath = 'Ru'\n",
         "feeds.languages.ru.path: expected a folder name of lower-case letters"),
    ],
)  # fmt: skip
def test_a_language_folder_is_its_own(tmp_path, text, message):
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_a_language_may_keep_its_code_or_take_a_name(tmp_path):
    text = "[feeds.languages.ru]\npath = 'ru'\n[feeds.languages.zh]\npath = 'chinese'\n"
    cfg = load(write(tmp_path, text))
    assert (cfg.feeds.languages["ru"].path, cfg.feeds.languages["zh"].path) == ("ru", "chinese")


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        # every build after the first refused its own atom.xml... and exited 1
        ("feeds = 'sources'", "paths.feeds: expected a folder outside paths.sources ({s}), "
                              "got {s}: every build would read its own feeds as releases"),
        ("feeds = 'sources/out'", "paths.feeds: expected a folder outside paths.sources ({s}), "
                                  "got {s}/out"),
        ("sources = 'feeds/in'", "paths.feeds: expected a folder that does not hold "
                                 "paths.sources ({t}/feeds/in), got {t}/feeds"),
        # each scan refused the store, its -wal, -shm and publish.lock as releases
        ("state = 'sources/db/s.sqlite3'", "paths.state: expected a file outside paths.sources "
                                           "({s}), got {s}/db/s.sqlite3"),
        ("feeds = 'linked'", "paths.feeds: expected a folder outside paths.sources ({s}), "
                             "got {s}"),
        # nginx serving feeds/ (docs/operations.md) would have served the store
        ("state = 'feeds/s.sqlite3'", "paths.state: expected a file outside paths.feeds "
                                      "({t}/feeds), got {t}/feeds/s.sqlite3"),
    ],
)  # fmt: skip
def test_the_sources_folder_holds_only_releases(tmp_path, paths, message):
    (tmp_path / "sources").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "sources")  # compared resolved
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, f"[paths]\n{paths}\n"))
    real = tmp_path.resolve()
    assert str(err.value).startswith(message.format(s=real / "sources", t=real))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    ("websub", "message"),
    [
        # lease_seconds, which was not set, was blamed
        ("lease_min = 100\nlease_max = 50", "websub.lease_min: expected at most lease_max (50), "
                                            "got 100"),
        ("lease_seconds = 10", "websub.lease_seconds: expected a value from lease_min (300) to "
                               "lease_max (2592000), got 10"),
    ],
)  # fmt: skip
def test_websub_lease_bounds_name_the_key_to_mend(tmp_path, websub, message):
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, f"[websub]\n{websub}\n"))
    assert str(err.value) == message


def test_a_state_path_that_is_a_folder_is_refused_naming_the_key(tmp_path):
    """`paths.state = "state"` (the folder, not its file) passed config check; every
    command then failed to open the store, exit 1, which systemd restarts for ever."""
    (tmp_path / "state").mkdir()
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, "[paths]\nstate = 'state'\n"))
    assert str(err.value) == (
        "paths.state: expected the store's file (such as state/scofeed.sqlite3), got a "
        f"folder: {tmp_path.resolve() / 'state'}"
    )
    assert load(write(tmp_path, "[paths]\nstate = 'state/s.sqlite3'\n")).paths.state.name


def test_a_state_folder_this_user_may_not_look_into_is_left_to_the_store(tmp_path, monkeypatch):
    """`config check` run by an operator on a site whose state/ is the daemon's, mode
    0700: asking whether paths.state is a folder raised PermissionError, a traceback.
    What cannot be looked at is not judged here; opening the store says what it is."""
    real_is_dir = Path.is_dir

    def forbidden(self):
        if self.name == "s.sqlite3":
            raise PermissionError(13, "Permission denied", str(self))
        return real_is_dir(self)

    monkeypatch.setattr(Path, "is_dir", forbidden)
    cfg = load(write(tmp_path, "[paths]\nstate = 'state/s.sqlite3'\n"))
    assert cfg.paths.state.name == "s.sqlite3"


def test_the_activitypub_key_is_not_in_the_sources_folder(tmp_path):
    text = (
        "[site]\nbase_url = 'https://sco.example/'\n"
        "[activitypub]\nenabled = true\nkey = 'sources/ap.pem'\n"
    )
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert str(err.value).startswith(
        f"activitypub.key: expected a file outside paths.sources ({tmp_path.resolve()}/sources)"
    )
    with pytest.raises(ConfigError) as err:  # where a static web server would serve it
        load(write(tmp_path, text.replace("sources/ap.pem", "feeds/ap.pem")))
    assert str(err.value).startswith(
        f"activitypub.key: expected a file outside paths.feeds ({tmp_path.resolve()}/feeds)"
    )
    cfg = load(write(tmp_path, text.replace("sources/ap.pem", "state/ap.pem")))
    assert cfg.activitypub.key == tmp_path / "state" / "ap.pem"
    # the store itself, or its files: config check said ok, then `scofeed run` exit 2
    for name in ("scofeed.sqlite3", "scofeed.sqlite3-wal", "scofeed.sqlite3.lock"):
        with pytest.raises(ConfigError) as err:
            load(write(tmp_path, text.replace("sources/ap.pem", f"state/{name}")))
        assert str(err.value).startswith(
            "activitypub.key: expected a file other than the state store"
        ), name


SOURCE = "\n[[sources]]\nname = '{}'\nkind = 'feed'\nurl = '{}'\n"


def test_a_source_with_both_cron_and_interval_is_one_error_naming_it(tmp_path):
    """cron won and interval was ignored without a word."""
    text = (
        SOURCE.format("a", "https://sco.example/rss")
        + SOURCE.format("b", "https://sco.example/atom")
        + "cron = '*/30 * * * *'\ninterval = 60\n"
    )
    path = write(tmp_path, text)
    check = forkserver.run(
        [sys.executable, "-m", "scofeed", "--config", str(path), "config", "check"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (check.returncode, check.stdout) == (2, "")
    assert check.stderr == (
        "scofeed: sources[1].cron: interval is set too (cron replaces it): keep one of them\n"
    )
    for alone in ("cron = '*/30 * * * *'\n", "interval = 60\n"):  # either one is fine
        (source,) = load(write(tmp_path, SOURCE.format("b", "https://s.example/") + alone)).sources
        assert (source.cron, source.interval) in (("*/30 * * * *", 3600), (None, 60))


@pytest.mark.parametrize(
    "second",
    [
        "https://sco.example/rss",
        "HTTPS://SCO.example/rss",
        "https://sco.example:443/rss#top",
    ],
)
def test_two_sources_of_one_url_are_refused(tmp_path, second):
    """The second was answered 304 with the first's validators (the HTTP cache is kept
    by URL) and reported "unchanged" at every poll, taking nothing in."""
    text = SOURCE.format("first", "https://sco.example/rss") + SOURCE.format("second", second)
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert str(err.value) == (
        "sources[1].url: source 'second' has the URL of source 'first' (sources[0]); "
        "poll each URL from one source"
    )


def test_every_source_name_or_url_used_twice_is_listed(tmp_path):
    """config check named the first duplicate only: the next run found the next."""
    text = "".join(
        SOURCE.format(name, url)
        for name, url in [("a", "https://x.example/1"), ("b", "https://x.example/1"),
                          ("a", "https://x.example/2"), ("i", "https://y.example"),
                          ("j", "https://y.example/")]
    )  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert str(err.value).splitlines() == [
        "sources[1].url: source 'b' has the URL of source 'a' (sources[0]); "
        "poll each URL from one source",
        "sources[2].name: 'a' is already the name of a source",
        "sources[4].url: source 'j' has the URL of source 'i' (sources[3]); "
        "poll each URL from one source",
    ]


def test_duplicates_are_listed_with_the_other_problems_in_one_run(tmp_path):
    """The duplicate names and URLs of [[sources]] and [[webhooks]] were checked only
    once every item was valid: one item with a problem of its own hid them all until
    the next run of config check (or of the daemon). Every problem is listed in one run,
    one a line with its key, an item's own first, then the duplicates among the items
    (those with problems included, as far as they could be read)."""
    hook = "[[webhooks]]\nname = '{}'\nurl = '{}'\nsecret = '{}'\n"
    good = HOOK.split("secret = '")[1].split("'")[0]
    path = write(
        tmp_path,
        SOURCE.format("a", "https://x.example/1")
        + SOURCE.format("a", "https://x.example/1") + "interval = 0\n"
        + SOURCE.format("local", "https://x.example/2")  # refused by the item's validate
        + SOURCE.format("b", "https://X.example:443/2")
        + SOURCE.format("c", "ftp://x.example/1")
        + SOURCE.format("c", "https://y.example/")
        + SOURCE.format("d", "https://y.example") + "preset = 'sco'\n"
        + "[[sources]]\nname = 7\nkind = 'feed'\nurl = 'https://z.example/'\n"
        + SOURCE.format("e", "https://z.example/")
        + hook.format("w", "https://hooks.example/1", good)
        + hook.format("w", "ftp://hooks.example/2", good)
        + hook.format("v", "https://hooks.example/3", "whsec_short")
        + hook.format("v", "https://hooks.example/4", good)
        + hook.format("w", "https://hooks.example/5", good),
    )  # fmt: skip
    with pytest.raises(ConfigError) as err:
        load(path)
    expected = [
        "sources[1].interval: expected a number of seconds above 0 and at most 31536000, got 0",
        "sources[2].name: 'local' names sources/ and scofeed add; pick another",
        "sources[4].url: expected an http:// or https:// URL, got 'ftp://x.example/1'",
        "sources[6].preset: only page-list sources take preset",
        "sources[7].name: expected a string, got 7",
        "sources[1].name: 'a' is already the name of a source",
        "sources[1].url: source 'a' has the URL of source 'a' (sources[0]); "
        "poll each URL from one source",
        "sources[3].url: source 'b' has the URL of source 'local' (sources[2]); "
        "poll each URL from one source",
        "sources[5].name: 'c' is already the name of a source",
        "sources[6].url: source 'd' has the URL of source 'c' (sources[5]); "
        "poll each URL from one source",
        "sources[8].url: source 'e' has the URL of a source (sources[7]); "
        "poll each URL from one source",
        "webhooks[1].url: expected an http:// or https:// URL, got 'ftp://hooks.example/***'",
        "webhooks[2].secret: expected 'whsec_' followed by base64 of 16 to 128 bytes, or "
        "that base64 alone (from inline; value not shown)",
        "webhooks[1].name: 'w' is already the name of a webhook",
        "webhooks[3].name: 'v' is already the name of a webhook",
        "webhooks[4].name: 'w' is already the name of a webhook",
    ]
    assert str(err.value).splitlines() == expected
    for command in (["config", "check"], ["run", "--port", "0"]):  # and the daemon's start
        ran = forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(path), *command],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert ran.returncode == 2, command
        assert ran.stderr.splitlines() == ["scofeed: " + line for line in expected], command


def test_an_empty_path_is_the_root(tmp_path):
    text = SOURCE.format("a", "https://sco.example") + SOURCE.format("b", "https://sco.example/")
    with pytest.raises(ConfigError, match="sources\\[1\\].url: source 'b' has the URL of"):
        load(write(tmp_path, text))
    text = SOURCE.format("a", "https://sco.example/rss") + SOURCE.format(
        "b", "https://sco.example/rss?lang=ru"
    )
    assert [s.name for s in load(write(tmp_path, text)).sources] == ["a", "b"]


HOOK = "[[webhooks]]\nname = 'w'\nurl = 'https://hooks.example/x'\nsecret = '{}'\n".format(
    "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # an entry's language is never 'EN' or 'english': the endpoint got nothing
        ("languages = ['en', 'EN']",
         "webhooks[0].languages: expected language tags like 'en' in lower case "
         "('en', not 'EN'), got ['en', 'EN']"),
        ("languages = ['english']",
         "webhooks[0].languages: expected language tags like 'en', an ISO 639 code of 2 or 3 "
         "letters (not 'english'), got ['english']"),
        ("tags = ['economy', '--']",
         "webhooks[0].tags: expected tag names with a letter or digit (not '--'), "
         "got ['economy', '--']"),
    ],
)  # fmt: skip
def test_webhook_filters_name_what_they_could_match(tmp_path, line, message):
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, HOOK + line + "\n"))
    assert str(err.value) == message


def test_site_language_in_upper_case_gets_the_same_hint(tmp_path):
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, "[site]\nlanguage = 'EN-GB'\n"))
    assert str(err.value) == (
        "site.language: expected a language tag like 'en' in lower case ('en-GB', not 'EN-GB'), "
        "got 'EN-GB'"
    )


@pytest.mark.parametrize(
    "text,message",
    [
        ("[site]\nlanguage = 'rus'\n",
         "site.language: expected a language tag as entries carry it ('ru', not 'rus'), got 'rus'"),
        ("[site]\nlanguage = 'iw'\n",
         "site.language: expected a language tag as entries carry it ('he', not 'iw'), got 'iw'"),
        ("[site]\nlanguage = 'zh-yue-HK'\n",
         "site.language: expected a language tag as entries carry it ('yue-HK', not 'zh-yue-HK'), "
         "got 'zh-yue-HK'"),
        ("[feeds.languages.chi]\ntitle = 'x'\n",
         "feeds.languages: expected language codes as entries carry them as table names "
         "('zh', not 'chi'), got a table"),
    ],
)  # fmt: skip
def test_a_language_entries_never_carry_is_refused(tmp_path, text, message):
    """An entry stating 'rus', 'iw' or 'zh-yue' carries 'ru', 'he' or 'yue': site.language
    'rus' put the entries guessed to be in it in feeds of their own, apart from those
    that stated it, and a [feeds.languages.chi] table named feeds no entry was in."""
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, text))
    assert str(err.value) == message


@pytest.mark.parametrize("language", ["en", "en-gb", "pt-BR", "zh-hans", "yue", "cmn-Hans"])
def test_a_language_in_the_form_entries_carry_loads(tmp_path, language):
    cfg = load(write(tmp_path, f"[site]\nlanguage = '{language}'\n"))
    assert cfg.site.language == language


def test_webhook_tags_not_configured_are_taken(tmp_path):
    """A tag may come from a release's metadata: one no [tags] names is no mistake."""
    cfg = load(write(tmp_path, HOOK + "tags = ['Security']\nlanguages = ['pt-BR']\n"))
    assert cfg.webhooks[0].tags == ("Security",) and cfg.webhooks[0].languages == ("pt-BR",)


def test_an_override_names_a_table_of_a_list_as_the_errors_do(tmp_path):
    # `sources[0]: unknown key (expected one of: ... sources ...)` told the operator who
    # wrote back the key an error had named that `sources` did not exist
    path = write(
        tmp_path,
        "[[sources]]\nname = 'a'\nkind = 'feed'\nurl = 'https://a.example/feed.xml'\n"
        "[[sources]]\nname = 'b'\nkind = 'feed'\nurl = 'https://b.example/feed.xml'\n",
    )
    cfg = load(path, ["sources[1].enabled=false", "sources[0].interval=60"])
    assert [(s.name, s.enabled, s.interval) for s in cfg.sources] == [
        ("a", True, 60),
        ("b", False, 3600),
    ]
    with pytest.raises(ConfigError, match=r"sources\[1\]\.interval: expected a number of sec"):
        load(path, ["sources[1].interval=0"])
    with pytest.raises(ConfigError) as err:
        load(path, ["sources[2].enabled=false"])
    assert str(err.value) == (
        "--set sources[2].enabled: the config has 2 [[sources]] table(s) "
        "(sources[0] to sources[1]); --set changes a key of one, it does not add one"
    )
    with pytest.raises(ConfigError, match=r"has 0 \[\[webhooks\]\] table\(s\) \(none\)"):
        load(path, ["webhooks[0].url=https://x.example/"])
    with pytest.raises(ConfigError, match=r"--set site\[0\]\.title: site is not a list"):
        load(path, ["site[0].title=x"])


def test_a_chat_endpoint_without_a_secret_is_told_it_needs_one_too(tmp_path):
    # "webhooks[0].secret: required key is missing" left the operator who pasted a
    # Slack URL wondering what secret a Slack webhook has
    hook = "[[webhooks]]\nname = 'chat'\nurl = 'https://hooks.slack.example/T/B/X'\n"
    with pytest.raises(ConfigError) as err:
        load(write(tmp_path, hook + "format = 'slack'\n"))
    assert str(err.value) == (
        "webhooks[0].secret: required key is missing: a slack endpoint's requests are "
        "signed too (make one: docs/webhooks.md, Adding an endpoint)"
    )
    with pytest.raises(ConfigError, match=r"missing \(make one: docs/webhooks\.md"):
        load(write(tmp_path, hook))


def test_a_path_no_file_can_have_is_one_config_error_line(tmp_path):
    """A path holding a NUL character ("\\u0000" is valid TOML), or starting with
    ``~name`` for a user this machine does not know, was a traceback from every
    command (ValueError: embedded null byte; RuntimeError: Could not determine home
    directory), a secret's ``file:`` reference too. Found by fuzzing config.toml."""
    nobody = "~scofeed-no-such-user-4b1d"
    cases = {
        'paths.sources = "a\\u0000b"': "paths.sources: 'a\\x00b' holds a NUL character, "
        "which no path can",
        f'paths.state = "{nobody}/s.sqlite3"': f"paths.state: '{nobody}/s.sqlite3' starts "
        f"with {nobody}, and no such user is known",
        f'webhooks.secret = "file:{nobody}/secret"': "webhooks[0].secret: the secret file's "
        f"path starts with {nobody}, and no such user is known",
        'webhooks.secret = "file:a\\u0000b"': "webhooks[0].secret: the secret file's path "
        "holds a NUL character, which no path can",
    }
    for line, message in cases.items():
        table, _dot, key_value = line.partition(".")
        header = "[[webhooks]]\nname = 'w'\nurl = 'https://x.example/h'"
        path = write(tmp_path, f"{header if table == 'webhooks' else '[paths]'}\n{key_value}\n")
        ran = forkserver.run(
            [sys.executable, "-m", "scofeed", "--config", str(path), "config", "check"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert (ran.returncode, ran.stderr) == (2, f"scofeed: {message}\n"), line


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "::1", "[::1]", "0.0.0.0", "::", "localhost", "feeds.example.org"]
)
def test_serve_host_takes_addresses_and_host_names(host, tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(f"[serve]\nhost = '{host}'\n", encoding="utf-8")
    assert load(cfg, []).serve.host == host


def test_a_log_level_in_lower_case_is_taken_and_an_unknown_one_quoted_as_written():
    """`level = "debug"` was refused ("one of 'DEBUG', ..."), though Python's logging
    names read the same in any case; an unknown one is quoted as it was written."""
    assert load(None, ['log.level="debug"']).log.level == "DEBUG"
    assert load(None, ['log.level="Warning"']).log.level == "WARNING"
    with pytest.raises(ConfigError, match=r"^log.level: expected one of .*, got 'loud'$"):
        load(None, ['log.level="loud"'])


@pytest.mark.parametrize(
    "authority",
    [
        "example.org,2026",
        "me@example.org,2026-11",
        "Me@Example.org,2026",
        "first.last_1@a,2026",
        "me+feeds@example.org,2026",
    ],
)
def test_an_email_authority_of_rfc_4151_is_taken(tmp_path, authority):
    path = tmp_path / "config.toml"
    path.write_text(f"[site]\nid_authority = '{authority}'\n", encoding="utf-8")
    assert config_mod.load(path).site.id_authority == authority


def test_every_problem_of_the_tag_rules_is_listed(tmp_path):
    """configuration.md: every problem in the file is listed, one a line; [tags] said
    its first alone, and each fix took another run of `config check`."""
    path = tmp_path / "config.toml"
    path.write_text(
        '[tags]\n"Foreign Ministers" = ["x"]\n"foreign-ministers" = ["y"]\nempty = [""]\n'
        '"!!!" = ["z"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load(path)
    assert str(err.value).splitlines() == [
        "tags: expected tag names that differ as feed folders ('Foreign Ministers' and "
        "'foreign-ministers')",
        "tags: expected keywords that are not blank (tag 'empty' has one)",
        "tags: expected tag names with a letter or digit (not '!!!')",
    ]

"""The schema of a new state store, made in one transaction (``Store``), where replaying
every migration, one transaction each, took twice as long: the SQL text SQLite keeps
(``sqlite_master``) of a store that ``schema.MIGRATIONS[:FRESH_VERSION]`` made, in the
order it was made. A new store then takes the migrations past ``FRESH_VERSION`` as usual.

Written by ``python tests/test_store_schema.py`` (``make schema``); never edited by hand.
tests/test_store_schema.py checks that it makes what the migrations make.
"""

from __future__ import annotations

FRESH_VERSION = 43
FRESH = """\
CREATE TABLE entries (
        id           TEXT PRIMARY KEY,
        identity     TEXT NOT NULL,          -- key:/url:/fp: material the id was minted from
        url_key      TEXT,                   -- canonical URL of the release, when known
        fingerprint  TEXT NOT NULL,
        title        TEXT NOT NULL,
        summary      TEXT NOT NULL,
        content_html TEXT NOT NULL,
        published    TEXT NOT NULL,          -- RFC 3339 with the offset it was stated in
        published_ts REAL NOT NULL,          -- epoch seconds, for ordering
        updated      TEXT NOT NULL,
        updated_ts   REAL NOT NULL,
        author       TEXT NOT NULL,
        language     TEXT NOT NULL,
        link         TEXT NOT NULL,
        url          TEXT,
        tags         TEXT NOT NULL,          -- JSON list
        content_hash TEXT NOT NULL,
        revision     INTEGER NOT NULL,
        origin       TEXT NOT NULL,          -- the input that last set the content
        date_source  TEXT NOT NULL,
        first_seen   REAL NOT NULL
    , event_date TEXT, withdrawn_at REAL, withdrawn_reason TEXT, withdrawn_by TEXT, authority \
TEXT, announced INTEGER NOT NULL DEFAULT 1, restored_at REAL, folded TEXT, stated_tags TEXT);

CREATE INDEX entries_by_fp ON entries (fingerprint);

CREATE TABLE entry_origins (
        origin       TEXT PRIMARY KEY,
        entry_id     TEXT NOT NULL REFERENCES entries (id),
        content_hash TEXT NOT NULL
    , kind TEXT, seen REAL, mirror INTEGER NOT NULL DEFAULT 0, name_kind TEXT, name_of TEXT);

CREATE INDEX entry_origins_by_entry ON entry_origins (entry_id);

CREATE TABLE files (
        path     TEXT PRIMARY KEY,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256   TEXT NOT NULL,
        status   TEXT NOT NULL,              -- ok | rejected
        reason   TEXT
    );

CREATE TABLE rejects (
        origin TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        at     REAL NOT NULL,
        kept   TEXT                           -- entry id whose last good version stays published
    , since REAL, tries INTEGER NOT NULL DEFAULT 0);

CREATE TABLE sources (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        last_poll   REAL,
        next_poll   REAL,
        last_result TEXT,
        last_error  TEXT
    , entries INTEGER NOT NULL DEFAULT 0, schedule TEXT, failures INTEGER NOT NULL DEFAULT 0, \
catch_up REAL, catch_up_held INTEGER NOT NULL DEFAULT 0);

CREATE TABLE http_cache (
        url           TEXT PRIMARY KEY,
        etag          TEXT,
        last_modified TEXT,
        fetched_at    REAL NOT NULL,
        status        INTEGER
    );

CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );

CREATE TABLE webhook_endpoints (
        name            TEXT PRIMARY KEY,
        first_seen      REAL NOT NULL,
        disabled_at     REAL,
        disabled_reason TEXT,
        lease_until     REAL,
        lease_owner     TEXT
    , hold_until REAL, format TEXT, events TEXT);

CREATE TABLE deliveries (
        id            INTEGER PRIMARY KEY,
        webhook_id    TEXT NOT NULL UNIQUE,  -- msg_...: the same for every attempt
        endpoint      TEXT NOT NULL,
        entry_id      TEXT NOT NULL,
        revision      INTEGER NOT NULL,
        event         TEXT NOT NULL,
        body          BLOB NOT NULL,         -- the exact bytes signed and sent
        created       REAL NOT NULL,
        status        TEXT NOT NULL,         -- pending | delivered | failed
        attempts      INTEGER NOT NULL DEFAULT 0,  -- attempts since it was (re)queued
        next_attempt  REAL,                  -- epoch seconds; NULL once settled
        last_status   INTEGER,               -- HTTP status of the last attempt
        last_error    TEXT,
        settled_at    REAL
    );

CREATE INDEX deliveries_due ON deliveries (status, next_attempt);

CREATE INDEX deliveries_by_endpoint ON deliveries (endpoint, status, id);

CREATE TABLE delivery_attempts (
        delivery_id INTEGER NOT NULL REFERENCES deliveries (id),
        number      INTEGER NOT NULL,
        at          REAL NOT NULL,
        status      INTEGER,                 -- HTTP status, NULL when none came back
        outcome     TEXT NOT NULL,           -- delivered | retry | failed | gone
        error       TEXT,
        response    TEXT,                    -- the response body, truncated
        duration    REAL NOT NULL,
        PRIMARY KEY (delivery_id, number)
    );

CREATE TABLE websub_subscriptions (
        id            INTEGER PRIMARY KEY,
        topic         TEXT NOT NULL,
        callback      TEXT NOT NULL,
        host          TEXT NOT NULL,          -- the callback's host, for the per-host limit
        secret        TEXT,                   -- HMAC key from hub.secret; never logged
        lease_seconds INTEGER NOT NULL,
        created       REAL NOT NULL,
        renewed       REAL NOT NULL,
        expires       REAL NOT NULL,
        last_delivery REAL,                   -- last 2xx distribution
        last_status   INTEGER,
        last_error    TEXT, topic_given TEXT, domain TEXT,
        UNIQUE (topic, callback)
    );

CREATE INDEX websub_subscriptions_by_expiry ON websub_subscriptions (expires);

CREATE TABLE websub_intents (
        id            INTEGER PRIMARY KEY,
        mode          TEXT NOT NULL,          -- subscribe | unsubscribe | denied
        topic         TEXT NOT NULL,
        callback      TEXT NOT NULL,
        host          TEXT NOT NULL,
        secret        TEXT,
        lease_seconds INTEGER NOT NULL,
        reason        TEXT,                   -- hub.reason of a denial
        challenge     TEXT NOT NULL,
        created       REAL NOT NULL,
        next_attempt  REAL NOT NULL, verify_token TEXT, topic_given TEXT, domain TEXT,
        UNIQUE (topic, callback)
    );

CREATE TABLE websub_contents (
        id           INTEGER PRIMARY KEY,
        topic        TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        content_type TEXT NOT NULL,
        body         BLOB NOT NULL,
        created      REAL NOT NULL
    );

CREATE INDEX websub_contents_by_topic ON websub_contents (topic, id);

CREATE TABLE websub_distributions (
        subscription_id INTEGER PRIMARY KEY
            REFERENCES websub_subscriptions (id) ON DELETE CASCADE,
        content_id      INTEGER NOT NULL REFERENCES websub_contents (id),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt    REAL NOT NULL,
        last_status     INTEGER,
        last_error      TEXT
    , first_attempt REAL);

CREATE INDEX websub_distributions_due ON websub_distributions (next_attempt);

CREATE TABLE ap_followers (
        actor        TEXT PRIMARY KEY,
        inbox        TEXT NOT NULL,
        shared_inbox TEXT,
        follow_id    TEXT NOT NULL,          -- the id of their Follow (echoed in our Accept)
        since        REAL NOT NULL
    , server TEXT, domain TEXT);

CREATE INDEX ap_followers_by_target ON ap_followers (COALESCE(shared_inbox, inbox));

CREATE TABLE ap_seen (
        activity_id TEXT PRIMARY KEY,
        at          REAL NOT NULL
    );

CREATE TABLE ap_keys (
        key_id     TEXT PRIMARY KEY,
        owner      TEXT NOT NULL,
        pem        TEXT NOT NULL,
        fetched_at REAL NOT NULL
    , used_at REAL);

CREATE TABLE ap_hosts (
        host        TEXT PRIMARY KEY,
        lease_until REAL,
        lease_owner TEXT
    );

CREATE TABLE ap_deliveries (
        id           INTEGER PRIMARY KEY,
        activity_id  TEXT NOT NULL,
        kind         TEXT NOT NULL,          -- Create | Update | Delete | Accept
        entry_id     TEXT,
        inbox        TEXT NOT NULL,
        host         TEXT NOT NULL,          -- the inbox's host[:port], the ordering unit
        body         BLOB NOT NULL,          -- the exact bytes signed and sent
        created      REAL NOT NULL,
        status       TEXT NOT NULL,          -- pending | delivered | failed
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL,
        last_status  INTEGER,
        last_error   TEXT,
        settled_at   REAL, first_attempt REAL,
        UNIQUE (activity_id, inbox)
    );

CREATE INDEX ap_deliveries_due ON ap_deliveries (status, host, id);

CREATE INDEX entries_withdrawn ON entries (withdrawn_at) WHERE withdrawn_at IS NOT NULL;

CREATE TABLE page_checks (
        url         TEXT PRIMARY KEY,         -- the page's address, as fetched
        source      TEXT NOT NULL,            -- the page-list source's name, or 'add'
        origin      TEXT NOT NULL,            -- the input the entry knows: the URL, or the
                                              -- file in sources/ that `add` wrote
        entry_id    TEXT NOT NULL,
        published   REAL NOT NULL,            -- rechecked while this is recent enough
        next_check  REAL NOT NULL,
        last_check  REAL,
        last_status INTEGER,                  -- 200, 304, 404, 410, or NULL on no answer
        last_error  TEXT,
        gone_since  REAL                      -- the first 404/410 of a run of them
    , format TEXT);

CREATE INDEX page_checks_due ON page_checks (next_check);

CREATE INDEX entries_live_by_date
        ON entries (published_ts DESC, id, withdrawn_at) WHERE withdrawn_at IS NULL;

CREATE TABLE feed_files (
        path TEXT PRIMARY KEY,
        key  TEXT NOT NULL
    , empty_since REAL, stamp TEXT);

CREATE INDEX entries_by_month ON entries (substr(published, 1, 7), published_ts DESC, id DESC);

CREATE TABLE entry_months (
        month   TEXT PRIMARY KEY,                 -- substr(published, 1, 7)
        live    INTEGER NOT NULL,                 -- entries not withdrawn
        version INTEGER NOT NULL                  -- never reused for another content
    ) WITHOUT ROWID;

CREATE TABLE entry_tag_lists (
        tags TEXT PRIMARY KEY,                    -- the entries' tags column (a JSON list)
        live INTEGER NOT NULL
    ) WITHOUT ROWID;

CREATE TRIGGER entries_counted_in AFTER INSERT ON entries BEGIN
        INSERT INTO entry_months VALUES (substr(NEW.published, 1, 7), NEW.withdrawn_at IS NULL, 1)
            ON CONFLICT (month) DO UPDATE SET live = live + excluded.live, version = version + 1;
        INSERT INTO entry_tag_lists SELECT NEW.tags, 1
            WHERE NEW.withdrawn_at IS NULL AND NEW.tags != '[]'
            ON CONFLICT (tags) DO UPDATE SET live = live + 1;
    END;

CREATE TRIGGER entries_counted_out AFTER DELETE ON entries BEGIN
        UPDATE entry_months SET live = live - (OLD.withdrawn_at IS NULL), version = version + 1
            WHERE month = substr(OLD.published, 1, 7);
        UPDATE entry_tag_lists SET live = live - 1
            WHERE tags = OLD.tags AND OLD.withdrawn_at IS NULL;
        DELETE FROM entry_tag_lists WHERE live <= 0;
    END;

CREATE TRIGGER entries_shown_moved AFTER UPDATE ON entries WHEN
        (OLD.withdrawn_at IS NULL) != (NEW.withdrawn_at IS NULL)
        OR OLD.published IS NOT NEW.published OR OLD.updated IS NOT NEW.updated
        OR OLD.revision IS NOT NEW.revision OR OLD.content_hash IS NOT NEW.content_hash
        OR OLD.link IS NOT NEW.link OR OLD.author IS NOT NEW.author
        OR OLD.event_date IS NOT NEW.event_date
    BEGIN
        UPDATE entry_months SET live = live - (OLD.withdrawn_at IS NULL), version = version + 1
            WHERE month = substr(OLD.published, 1, 7);
        INSERT INTO entry_months VALUES (substr(NEW.published, 1, 7), NEW.withdrawn_at IS NULL, 1)
            ON CONFLICT (month) DO UPDATE SET live = live + excluded.live, version = version + 1;
    END;

CREATE TRIGGER entries_tags_moved AFTER UPDATE ON entries WHEN
        OLD.tags IS NOT NEW.tags OR (OLD.withdrawn_at IS NULL) != (NEW.withdrawn_at IS NULL)
    BEGIN
        UPDATE entry_tag_lists SET live = live - 1
            WHERE tags = OLD.tags AND OLD.withdrawn_at IS NULL;
        INSERT INTO entry_tag_lists SELECT NEW.tags, 1
            WHERE NEW.withdrawn_at IS NULL AND NEW.tags != '[]'
            ON CONFLICT (tags) DO UPDATE SET live = live + 1;
        DELETE FROM entry_tag_lists WHERE live <= 0;
    END;

CREATE INDEX entries_live_by_language
        ON entries (language, published_ts DESC, id DESC, withdrawn_at) WHERE withdrawn_at IS NULL;

CREATE INDEX entries_by_url ON entries (url_key) WHERE url_key IS NOT NULL;

CREATE INDEX entries_by_identity ON entries (identity) WHERE substr(identity, 1, 3) != 'fp:';

CREATE TABLE websub_pings (
        hub          TEXT NOT NULL,
        topic        TEXT NOT NULL,
        queued       REAL NOT NULL,          -- when the change was seen (a newer one resets)
        attempts     INTEGER NOT NULL DEFAULT 0,
        next_attempt REAL NOT NULL,
        last_status  INTEGER,
        last_error   TEXT,
        PRIMARY KEY (hub, topic)
    );

CREATE INDEX websub_pings_due ON websub_pings (next_attempt);

CREATE TABLE files_left (path TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE INDEX files_rejected ON files (path) WHERE status = 'rejected';

CREATE INDEX deliveries_to_prune ON deliveries (status, settled_at)
        WHERE status = 'delivered' AND length(body) > 0;

CREATE INDEX ap_deliveries_delivered ON ap_deliveries (status, settled_at)
        WHERE status = 'delivered';

CREATE INDEX ap_deliveries_accepts ON ap_deliveries (host, id)
        WHERE status = 'pending' AND kind = 'Accept';

CREATE INDEX entries_restored ON entries (restored_at) WHERE restored_at IS NOT NULL;

CREATE INDEX ap_keys_used ON ap_keys (used_at);

CREATE INDEX entries_by_folded ON entries (folded) WHERE folded IS NOT NULL;

CREATE INDEX websub_subscriptions_by_domain ON websub_subscriptions (domain);

CREATE INDEX websub_intents_by_domain ON websub_intents (domain) WHERE mode = 'subscribe';

CREATE INDEX ap_followers_by_domain ON ap_followers (domain, server);

CREATE INDEX ap_deliveries_rejects ON ap_deliveries (host)
        WHERE status = 'pending' AND kind = 'Reject';

CREATE INDEX deliveries_by_entry ON deliveries (entry_id, endpoint, revision);

CREATE TABLE departures (
        language TEXT NOT NULL,
        tags     TEXT NOT NULL,              -- the entry's tags as stored (a JSON list)
        month    TEXT NOT NULL,              -- YYYY-MM of its published date, as stored
        at       REAL NOT NULL,              -- the edit's updated (epoch seconds)
        PRIMARY KEY (language, tags, month)
    );

"""

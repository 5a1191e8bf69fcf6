"""Schema migrations: an append-only list, applied in order, tracked by PRAGMA user_version.

Never edit a migration that has shipped; add a new one at the end.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from scofeed.store.mending import drop_not_xml, drop_user_parts, rekey_escapes

MIGRATIONS: list[str] = [
    # 1: entries, where each came from, rejected inputs, per-source state, HTTP cache
    """
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
    );
    CREATE INDEX entries_by_date ON entries (published_ts DESC, id);
    CREATE INDEX entries_by_url ON entries (url_key);
    CREATE INDEX entries_by_fp ON entries (fingerprint);
    CREATE INDEX entries_by_identity ON entries (identity);

    -- every input (file path relative to sources/, file#n for list files, or URL) that
    -- produced an entry, with the content hash it last contributed
    CREATE TABLE entry_origins (
        origin       TEXT PRIMARY KEY,
        entry_id     TEXT NOT NULL REFERENCES entries (id),
        content_hash TEXT NOT NULL
    );
    CREATE INDEX entry_origins_by_entry ON entry_origins (entry_id);

    -- the scan index: size and mtime first, the raw bytes' hash only when those change
    CREATE TABLE files (
        path     TEXT PRIMARY KEY,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256   TEXT NOT NULL,
        status   TEXT NOT NULL,              -- ok | rejected
        reason   TEXT
    );

    -- every rejected input, local or remote: the quarantine
    CREATE TABLE rejects (
        origin TEXT PRIMARY KEY,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        at     REAL NOT NULL,
        kept   TEXT                           -- entry id whose last good version stays published
    );

    CREATE TABLE sources (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL,
        last_poll   REAL,
        next_poll   REAL,
        last_result TEXT,
        last_error  TEXT
    );

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
    """,
    # 2: webhook outbox: endpoints (first seen, disabled, lease), deliveries, attempts
    """
    -- one row per configured endpoint name; an endpoint only gets entries created or
    -- revised after first_seen; lease_until/lease_owner: who is sending to it right now
    CREATE TABLE webhook_endpoints (
        name            TEXT PRIMARY KEY,
        first_seen      REAL NOT NULL,
        disabled_at     REAL,
        disabled_reason TEXT,
        lease_until     REAL,
        lease_owner     TEXT
    );

    -- the outbox: one row per (entry revision, endpoint), written in the entry's transaction
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
    """,
    # 3: how many new entries each remote source has brought in (scofeed status)
    """
    ALTER TABLE sources ADD COLUMN entries INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: the schedule (interval or cron) next_poll was computed from: a changed one in
    # the config moves next_poll at the next start or reload
    """
    ALTER TABLE sources ADD COLUMN schedule TEXT;
    """,
    # 5: WebSub hub: subscriptions (with their secrets), intents awaiting verification,
    # each topic's last distributed content, and one pending distribution per subscription
    """
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
        last_error    TEXT,
        UNIQUE (topic, callback)
    );
    CREATE INDEX websub_subscriptions_by_expiry ON websub_subscriptions (expires);

    -- a subscribe/unsubscribe request awaiting its verification of intent, or a denial
    -- to tell; the latest request for a (topic, callback) replaces an earlier one
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
        next_attempt  REAL NOT NULL,
        UNIQUE (topic, callback)
    );

    -- the feed body last distributed for each topic (change detection survives restarts)
    CREATE TABLE websub_contents (
        id           INTEGER PRIMARY KEY,
        topic        TEXT NOT NULL,
        sha256       TEXT NOT NULL,
        content_type TEXT NOT NULL,
        body         BLOB NOT NULL,
        created      REAL NOT NULL
    );
    CREATE INDEX websub_contents_by_topic ON websub_contents (topic, id);

    -- at most one pending distribution per subscription: a newer body replaces an
    -- older one not yet delivered (WebSub sends the whole feed, the latest is enough)
    CREATE TABLE websub_distributions (
        subscription_id INTEGER PRIMARY KEY
            REFERENCES websub_subscriptions (id) ON DELETE CASCADE,
        content_id      INTEGER NOT NULL REFERENCES websub_contents (id),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt    REAL NOT NULL,
        last_status     INTEGER,
        last_error      TEXT
    );
    CREATE INDEX websub_distributions_due ON websub_distributions (next_attempt);
    """,
    # 6: ActivityPub: followers, seen inbox activities, fetched keys, the delivery outbox
    """
    -- one row per following actor; deliveries go to COALESCE(shared_inbox, inbox)
    CREATE TABLE ap_followers (
        actor        TEXT PRIMARY KEY,
        inbox        TEXT NOT NULL,
        shared_inbox TEXT,
        follow_id    TEXT NOT NULL,          -- the id of their Follow (echoed in our Accept)
        since        REAL NOT NULL
    );
    CREATE INDEX ap_followers_by_target ON ap_followers (COALESCE(shared_inbox, inbox));

    -- inbox activity ids already handled: a repeat is answered, not acted on again
    CREATE TABLE ap_seen (
        activity_id TEXT PRIMARY KEY,
        at          REAL NOT NULL
    );

    -- remote public keys by keyId, refreshed when a signature fails to verify with them
    CREATE TABLE ap_keys (
        key_id     TEXT PRIMARY KEY,
        owner      TEXT NOT NULL,
        pem        TEXT NOT NULL,
        fetched_at REAL NOT NULL
    );

    -- per-host lease: one sender at a time per remote host, in order
    CREATE TABLE ap_hosts (
        host        TEXT PRIMARY KEY,
        lease_until REAL,
        lease_owner TEXT
    );

    -- the outbox: one row per (activity, target inbox), written in the entry's transaction
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
        settled_at   REAL,
        UNIQUE (activity_id, inbox)
    );
    CREATE INDEX ap_deliveries_due ON ap_deliveries (status, host, id);
    """,
    # 7: event date (YYYY-MM-DD, NULL when unknown): the day of what a release reports,
    # kept apart from its publication date
    "ALTER TABLE entries ADD COLUMN event_date TEXT",
    # 8: withdrawals (issue 14): an entry withdrawn leaves every feed and the index; its
    # Atom tombstone lasts feeds.tombstone_days after withdrawn_at
    """
    -- withdrawn_at: epoch seconds, NULL while published; withdrawn_by: cli | metadata
    ALTER TABLE entries ADD COLUMN withdrawn_at REAL;
    ALTER TABLE entries ADD COLUMN withdrawn_reason TEXT;
    ALTER TABLE entries ADD COLUMN withdrawn_by TEXT;
    CREATE INDEX entries_withdrawn ON entries (withdrawn_at) WHERE withdrawn_at IS NOT NULL;
    """,
    # 9: official pages re-fetched while recent (a page-list source's article pages and
    # `scofeed add URL` pages), so an edit on the site becomes a correction
    """
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
    );
    CREATE INDEX page_checks_due ON page_checks (next_check);
    """,
    # 10: the index pages (issue 10): the published entries newest first, and the
    # languages present, each read from an index of the live entries only, so a page deep
    # in 30,000 entries and the language list cost a few index probes, not a table scan
    """
    -- withdrawn_at (always NULL here) makes each index covering for its queries
    CREATE INDEX IF NOT EXISTS entries_live_by_date
        ON entries (published_ts DESC, id, withdrawn_at) WHERE withdrawn_at IS NULL;
    CREATE INDEX IF NOT EXISTS entries_live_by_language
        ON entries (language, withdrawn_at) WHERE withdrawn_at IS NULL;
    """,
    # 11: provenance (docs/provenance.md): the authority of the input that made or last
    # revised each entry (local | official | other; NULL for an entry stored before, judged
    # from its origin), and per input its kind, when it last came and whether it is held
    # only as a mirror. URL keys lose a leading "www." on a host that keeps a dot after it
    # (normalise.ids.url_key); ids and identities stay as they were minted
    """
    ALTER TABLE entries ADD COLUMN authority TEXT;
    ALTER TABLE entry_origins ADD COLUMN kind TEXT;
    ALTER TABLE entry_origins ADD COLUMN seen REAL;
    ALTER TABLE entry_origins ADD COLUMN mirror INTEGER NOT NULL DEFAULT 0;
    UPDATE entries SET url_key = 'https://' || substr(url_key, 13)
        WHERE url_key LIKE 'https://www.%'
        AND instr(substr(url_key, 13), '/') > 0
        AND instr(substr(url_key, 13, instr(substr(url_key, 13), '/') - 1), '.') > 0;
    """,
    # 12: feed files (issue 10): every published feed and archive page, relative to feeds/,
    # with the key of what it shows; a file is rendered again only when its key changes
    """
    CREATE TABLE feed_files (
        path TEXT PRIMARY KEY,
        key  TEXT NOT NULL
    );
    -- an archive page's entries (the month of the published date as stated), and a
    -- language feed's newest, read without sorting the table
    CREATE INDEX entries_by_month ON entries (substr(published, 1, 7), published_ts DESC, id DESC);
    CREATE INDEX entries_by_language ON entries (language, published_ts DESC, id DESC);
    """,
    # 13: an entry stored already withdrawn (its first input said `withdrawn: true`) was
    # never announced: its restore is its first publication (release.published)
    "ALTER TABLE entries ADD COLUMN announced INTEGER NOT NULL DEFAULT 1",
    # 14: what the feed plan asks of the whole store, kept up to date by triggers as
    # entries change, so that planning costs the same at 30,000 entries as at 100: per
    # archive month its live entries and a version that moves whenever one of them shows
    # differently (the stamp of store.entries), and per distinct tags list its live entries
    """
    CREATE TABLE entry_months (
        month   TEXT PRIMARY KEY,                 -- substr(published, 1, 7)
        live    INTEGER NOT NULL,                 -- entries not withdrawn
        version INTEGER NOT NULL                  -- never reused for another content
    ) WITHOUT ROWID;
    INSERT INTO entry_months
        SELECT substr(published, 1, 7), sum(withdrawn_at IS NULL), 1 FROM entries GROUP BY 1;
    CREATE TABLE entry_tag_lists (
        tags TEXT PRIMARY KEY,                    -- the entries' tags column (a JSON list)
        live INTEGER NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO entry_tag_lists
        SELECT tags, count(*) FROM entries WHERE withdrawn_at IS NULL AND tags != '[]' GROUP BY 1;

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
    -- only when what a feed shows moved (the stamp of store.entries) or the entry was
    -- withdrawn or restored: the daemon's bookkeeping updates leave the months alone
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
    """,
    # 15: fewer index writes per entry (a cold build wrote nine index entries per row):
    # entries_by_date served no query (entries_live_by_date serves every newest-first
    # read); the two language indexes become one, partial, in the order a language feed
    # reads (its withdrawn_at, always NULL, lets SQLite list the languages from the index
    # alone, as the old one did); a URL key and an identity are looked up only when there
    # is one, and never a fingerprint's identity ("fp:...", store.matching.find_match):
    # those rows are left out of their indexes
    """
    DROP INDEX entries_by_date;
    DROP INDEX entries_by_language;
    DROP INDEX entries_live_by_language;
    CREATE INDEX entries_live_by_language
        ON entries (language, published_ts DESC, id DESC, withdrawn_at) WHERE withdrawn_at IS NULL;
    DROP INDEX entries_by_url;
    CREATE INDEX entries_by_url ON entries (url_key) WHERE url_key IS NOT NULL;
    DROP INDEX entries_by_identity;
    CREATE INDEX entries_by_identity ON entries (identity) WHERE substr(identity, 1, 3) != 'fp:';
    """,
    # 16: entries stored with a character XML cannot carry (an HTML character reference
    # such as "&#1;" that the sanitiser wrote out as the character, before it cleaned
    # its output too): lxml refused every feed holding one, so no build published
    # anything from then on; those texts lose the character
    drop_not_xml(),
    # 17: URL keys compare percent-escapes whatever their case, and an escaped unreserved
    # character as that character (normalise.ids.url_key); ids and identities stay
    rekey_escapes(),
    # 18: an entry's url and link never hold a user name and password: a page-list
    # source's URL with credentials gave them to every article link, published in every
    # feed, page and push (normalise.ids.web_address leaves them out since)
    drop_user_parts(),
    # 19: the release format `scofeed add URL --format F` named, so a recheck reads the
    # page as the add did (NULL: the response's Content-Type decides, as before)
    """
    ALTER TABLE page_checks ADD COLUMN format TEXT;
    """,
    # 20: the hub.verify_token of a subscription request (PubSubHubbub 0.3), echoed in
    # its verification of intent: NewsBlur refuses a verification without it; and the
    # publish pings to external hubs still to make, retried like a distribution (a ping
    # lost to a hub's 503 left its subscribers without the change until the next one)
    """
    ALTER TABLE websub_intents ADD COLUMN verify_token TEXT;
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
    """,
    # 21: polls that failed in a row, per source: each one waits longer than the last
    # (poll_times.backoff), so a site that is down is not asked at every interval for days
    """
    ALTER TABLE sources ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
    """,
    # 22: an article page refused for a passing reason (a 403 from a firewall, a 5xx):
    # since when and how many times in a row, so each retry waits longer and a page
    # refused for a week is given up (poll.PAGE_GIVE_UP) instead of asked for ever; and
    # since when a page-list source's catch-up through its listing's next pages has been
    # cut short (a next page failing for now), so the next poll goes on with it
    """
    ALTER TABLE rejects ADD COLUMN since REAL;
    ALTER TABLE rejects ADD COLUMN tries INTEGER NOT NULL DEFAULT 0;
    UPDATE rejects SET since = at, tries = 1 WHERE reason LIKE 'temporary: %';
    ALTER TABLE sources ADD COLUMN catch_up REAL;
    """,
    # 23: the other names an input goes by, told apart from its copies (`scofeed show`
    # listed them as copies): an alias (a feed item's id kept beside its link) or a
    # former name (a moved page's old address, a renamed file, a list item's old name, a
    # feed item's old link), with the name of the input it stands for
    # (store.origins.continue_origin). A stored alias row is one named FEED#ID that holds
    # exactly what a row of its entry named by a link holds (each reading of the item
    # copied it over); former names stored before are not known
    """
    ALTER TABLE entry_origins ADD COLUMN name_kind TEXT;  -- NULL | alias | former
    ALTER TABLE entry_origins ADD COLUMN name_of TEXT;    -- the input's name it stands for
    UPDATE entry_origins SET name_of = (
        SELECT o.origin FROM entry_origins o
        WHERE o.entry_id = entry_origins.entry_id AND o.origin != entry_origins.origin
        AND o.origin LIKE '%://%' AND instr(o.origin, '#') = 0
        AND o.seen = entry_origins.seen AND o.content_hash = entry_origins.content_hash
        AND o.kind IS entry_origins.kind AND o.mirror = entry_origins.mirror
        ORDER BY o.origin LIMIT 1
    ) WHERE name_kind IS NULL AND origin LIKE '%://%#%' AND seen IS NOT NULL;
    UPDATE entry_origins SET name_kind = 'alias' WHERE name_kind IS NULL AND name_of IS NOT NULL;
    """,
    # 24: a feed with no entry and no withdrawal to be dated by (an empty store's, a tag's
    # that no entry has) is dated by when it was first published so, kept with its file
    # (it said 2000-01-01); NULL for a feed with entries (publish.plan)
    """
    ALTER TABLE feed_files ADD COLUMN empty_since REAL;
    """,
    # 25: the files that have left sources/ (``files.forget``), so that a build finds the
    # entry of a file renamed with its title or first paragraph corrected
    # (``renames.Renames``) without reading every input (~25 ms at 30,000 entries); a
    # name back in sources/ may stay listed (the build checks). Those that left before
    # are the inputs of ours the files index no longer holds
    """
    CREATE TABLE files_left (path TEXT PRIMARY KEY) WITHOUT ROWID;
    INSERT OR IGNORE INTO files_left SELECT origin FROM entry_origins
        WHERE instr(origin, '://') = 0 AND instr(origin, '#') = 0
        AND origin NOT IN (SELECT path FROM files);
    """,
    # 26: the files rejected, which every scan and build asks for (``files.Index``): a
    # read of the whole index without it (~15 ms at 30,000 files, of a one-new-file build)
    """
    CREATE INDEX files_rejected ON files (path) WHERE status = 'rejected';
    """,
    # 27: the delivered deliveries still holding what ``outbox.prune`` drops, by when they
    # were delivered: without them each prune (hourly, and every `scofeed deliver`) read
    # every delivered webhook delivery ever kept
    """
    CREATE INDEX deliveries_to_prune ON deliveries (status, settled_at)
        WHERE status = 'delivered' AND length(body) > 0;
    CREATE INDEX ap_deliveries_delivered ON ap_deliveries (status, settled_at)
        WHERE status = 'delivered';
    """,
    # 28: an endpoint's empty rate-limit bucket (its answer's X-RateLimit-Remaining: 0):
    # held on the endpoint, so a delivery queued after the one that emptied it waits too
    """
    ALTER TABLE webhook_endpoints ADD COLUMN hold_until REAL;
    """,
    # 29: a follower's Accept goes before the host's other deliveries (a Create waiting
    # for its retry held it for hours, the follow shown as "requested"): found by host
    """
    CREATE INDEX ap_deliveries_accepts ON ap_deliveries (host, id)
        WHERE status = 'pending' AND kind = 'Accept';
    """,
    # 30: each published file's size, mtime and inode as it was left: a file on disk that
    # is not the one recorded (a store restored from a backup beside newer feeds, a file
    # another program changed) is rendered again, not trusted by its key alone
    """
    ALTER TABLE feed_files ADD COLUMN stamp TEXT;
    """,
    # 31: a WebSub topic as the subscriber spelled it (``HTTP://Host:80/atom.xml``), when
    # not as the hub keeps it (its own URL, the same once normalised): the verification
    # and a denial give hub.topic back as it was given (WebSub 5.2, 5.3)
    """
    ALTER TABLE websub_intents ADD COLUMN topic_given TEXT;
    ALTER TABLE websub_subscriptions ADD COLUMN topic_given TEXT;
    """,
    # 32: when a withdrawn entry was last restored: its sets' feeds are dated no earlier
    # (scofeed.publish), as by a withdrawal; without it a restore of an entry older than
    # the subscription feeds took their date back, though its tombstone had left them
    """
    ALTER TABLE entries ADD COLUMN restored_at REAL;
    CREATE INDEX entries_restored ON entries (restored_at) WHERE restored_at IS NOT NULL;
    """,
    # 33: when each cached remote key was last used to check a signature: past
    # ``activitypub.max_keys`` the least recently used go (a flood of validly signed
    # requests, each with a keyId of its own, grew the cache without bound)
    """
    ALTER TABLE ap_keys ADD COLUMN used_at REAL;
    UPDATE ap_keys SET used_at = fetched_at;
    CREATE INDEX ap_keys_used ON ap_keys (used_at);
    """,
    # 34: the fingerprint with Unicode forms and ё/е folded (normalise.folded_fingerprint)
    # where it is not the fingerprint, so that two copies of one release that differ
    # only so are one entry; the fingerprint (ids are minted from it) is kept. Stored
    # entries get theirs from ``scofeed.refold`` (Python: SQLite has no NFKC)
    """
    ALTER TABLE entries ADD COLUMN folded TEXT;
    CREATE INDEX entries_by_folded ON entries (folded) WHERE folded IS NOT NULL;
    """,
    # 35: what the per-host limit counts a callback's host as (``hostkey.host_key``: its
    # registrable domain, so ``a.evil.example`` and ``b.evil.example`` are one), kept
    # with each subscription and request: counted by the exact host name, a subscriber
    # with wildcard DNS had a limit per name it made up. Rows from before (NULL) get
    # theirs from ``store.websub.rekey`` (Python: SQLite has no Public Suffix List), as
    # do all of them when another version's list would count them otherwise
    """
    ALTER TABLE websub_subscriptions ADD COLUMN domain TEXT;
    ALTER TABLE websub_intents ADD COLUMN domain TEXT;
    CREATE INDEX websub_subscriptions_by_domain ON websub_subscriptions (domain);
    CREATE INDEX websub_intents_by_domain ON websub_intents (domain) WHERE mode = 'subscribe';
    """,
    # 36: each follower's server (its actor's host) and the registrable domain it counts
    # as (``hostkey.host_key``), for ``activitypub.max_servers_per_domain``: with wildcard
    # DNS, one domain's made-up servers (``a.evil.example``, ``b.evil.example``, ...)
    # filled the followers and each took a delivery worker. The index counts a domain's
    # servers one seek each, whatever the followers of one server. Rows from before
    # (NULL) get theirs from ``store.activitypub.rekey``, as do all of them when another
    # version's list would count them otherwise
    """
    ALTER TABLE ap_followers ADD COLUMN server TEXT;
    ALTER TABLE ap_followers ADD COLUMN domain TEXT;
    CREATE INDEX ap_followers_by_domain ON ap_followers (domain, server);
    """,
    # 37: pending Rejects by host, counted (a domain's, all) by ``outbox.queue_reject``
    """
    CREATE INDEX ap_deliveries_rejects ON ap_deliveries (host)
        WHERE status = 'pending' AND kind = 'Reject';
    """,
    # 38: an entry's deliveries, by endpoint and revision: whether a version was queued
    # for an endpoint already (``deliveries.enqueue``: its webhook-id names its content,
    # which may change without a new revision), and the endpoints an entry went to
    """
    CREATE INDEX deliveries_by_entry ON deliveries (entry_id, endpoint, revision);
    """,
    # 39: when an ActivityPub delivery, or a WebSub distribution of its body, was first
    # tried (NULL before; a newer body for the subscription starts it again): the retry
    # schedule runs out no sooner than its span after it (``deliver.policy``), as a
    # webhook's does from its attempts' history. Rows from before (NULL, some attempts
    # made) count from their next attempt (or give up then, as before, if spent)
    """
    ALTER TABLE ap_deliveries ADD COLUMN first_attempt REAL;
    ALTER TABLE websub_distributions ADD COLUMN first_attempt REAL;
    """,
    # 40: when an entry last left a set's feeds or a month's archive page by an edit
    # (its language, tags or month corrected), per language, tag list and month, as
    # ``withdrawals`` gives a withdrawal's: the feeds' date never goes back before it
    # (it went back to the newest entry left, years back at times, and told readers
    # the feed had not changed)
    """
    CREATE TABLE departures (
        language TEXT NOT NULL,
        tags     TEXT NOT NULL,              -- the entry's tags as stored (a JSON list)
        month    TEXT NOT NULL,              -- YYYY-MM of its published date, as stored
        at       REAL NOT NULL,              -- the edit's updated (epoch seconds)
        PRIMARY KEY (language, tags, month)
    );
    """,
    # 41: the tags an entry's release states itself (a JSON list; NULL: stored before
    # they were kept). A [tags] rule removed took a stated tag it also gave with it:
    # once merged, the two could not be told apart
    """
    ALTER TABLE entries ADD COLUMN stated_tags TEXT;
    """,
    # 42: each endpoint's format and events as last configured (NULL: not configured
    # since they were kept): an endpoint taken out of the config is still sent the
    # withdrawals and corrections of what it has, queued for its return (it missed them)
    """
    ALTER TABLE webhook_endpoints ADD COLUMN format TEXT;
    ALTER TABLE webhook_endpoints ADD COLUMN events TEXT;
    """,
    # 43: a source's catch-up held back once: a next listing page asked it to wait
    # (Retry-After), so its next poll takes the first page's articles before it reads a
    # next page again (one answering 429 at every poll took them all, for good)
    """
    ALTER TABLE sources ADD COLUMN catch_up_held INTEGER NOT NULL DEFAULT 0;
    """,
]


def statements(script: str) -> Iterator[str]:
    """The statements of a migration, one at a time (each runs inside the migration's
    transaction, which ``executescript`` would commit): split at each ``;`` that ends a
    whole statement, so a trigger's body stays in one piece."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()

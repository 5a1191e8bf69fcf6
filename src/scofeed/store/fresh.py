"""The schema of a new state store, made in one transaction (``Store``), where replaying
every migration, one transaction each, took twice as long: the SQL text SQLite keeps
(``sqlite_master``) of a store that ``schema.MIGRATIONS[:FRESH_VERSION]`` made, in the
order it was made. A new store then takes the migrations past ``FRESH_VERSION`` as usual.

``FRESH_IMAGE`` is the file of a new store that ``FRESH`` made (zlib, then base64), in
WAL mode, which ``store.making`` writes in place of running ``FRESH`` (~8 ms of CPU a
store); a store found at version 0 (an empty database) still runs ``FRESH``.

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
FRESH_IMAGE = """\
eNrt3E1sHNmB2HG2PtgSJVnWeuW2Tc/so8c0u1dNSRyNPJZkeUyRJYozFKlpNiMJE2+72P3ILrO7
qqeqmhSzswlao5n9iIEccgiQaw6LBbJAkAQ5BNgg1wC+BciekjWQQy6bQxAgCLAIkFevqruruqub
8kcWns7/Z1PsevXq1ft+r7pob3+4YflS7Dlu0/TFrakvT506NfVDIaampk6pn9JU3z31cyZ2nFE/
16bGOzV1vZo5G1x4+a+D4weX/+by/7r8P8IDAAAAAADw/8Sdu+qfb99Q/+TeVP989cqlIPTLVAwA
AAAAAJNshud/AAAAAAB4/gcAAAAAAF94/P0/AAAAAACTj/f/AAAAAADw/A8AAAAAAL74+Pt/AAAA
AAAmH+//AQAAAACYfLz/BwAAAABg8vH+HwAAAACAycf7fwAAAAAAJh/v/wEAAAAAmHy8/wcAAAAA
YPLx/h8AAAAAgMnH+38AAAAAACYf7/8BAAAAAJh8vP8HAAAAAGDy8f4fAAAAAIDJx/t/AAAAAAAm
H+//AQAAAACYfJcu/++pK5lnUzN/efk/zLw8/+bM2rk/z3587uXZ/5N9cOblme3TzdPfO/WzU/8s
8yxzdern6j+/Rrd+ezq3NpeZsuyafOF93LB8WTHbv97yZR+cfeMXvkjVycqveN+Xj65kczduZF69
55u7DXkkd+uOc1CRdq3lWLbvDQX81krJWC4borz8YMMQQ6dFfkZEbLMpRUzZeFYWT0rrj5dLz8UH
xvNiL+ae5Xp+xZPSDo/VHTbE5lZZbO5sbPSj1SwvyGOtYvq9aClnXWl6jq1v1z/bUIGy0rZ9q5Fy
bXjWObKl28uqPlkUdadRi67T14g9x22qDOjkhTyUQaGDg8LCl6dz964OdhPf0ceVpvTNylLw75Wf
XM7mrl7NdN7VVR4EBT9fTlRsEBKrywN5PLYGD81GW4bnu/WmzxVufSmt73YzVff9VqVqVuuystT/
fLlTvZTNzc1lPr2ic9g/0//0pURu++GxPLfdxmu1virpfjJerGFM1TGaTs3as2Rt4Nye9NUNu71h
RJ/xfNNve92j9c2ysWaUwqpZvDidW54dVTWe03ar0qssRR8uvXxxIZubnc18tqYrJQqOfl1MVEcU
OGIsjK6JA3XrRKzh8ugKaTmNxlAftuWLEWf0Na702g0/rXql6zpuos+rPu1aKv9RdfWyIVaNh8s7
G2Vxsyi8oO7bDRkNhD3TarTdE66pmqrFKu1WNJK6h5W6bNTGXFh4+eC8rvpXH+mqd+VPZNX3ol8z
iaqPAmNV77jWvmWPqfWwtUZVeGw2STkbm4lSzh7Ilt9tytEWF3WFHwurJo7qjid1s4h9x6mJQ+l6
lrq96sbHnmi1dxuWp+o9aifPslXGw8o8qcUKizPjuntUb5Wl6MOFl1/KZnO5XObT39d1vmepLq//
OZeobx0Uq+2W6ddP6OWe9fdkfDSmVFzTt5qyYntjonh18+3b3x09UHoDP3l+qOqdA/FJ1Guieo21
emxUFArnpnP3c6PqT9dDZUn/Ou9MZ3N3FjKdC/qcbtxK2A29yu5xRQckQrNRna5vrhrPRPoFYmsz
eUbkw0OrVnj5nTPZ3MJC5tUF3ViJaImDs4nGG0hucMicOHFHtx+er1SffGiUjM0VY7s3meRVPvvX
Vh3bV2cqddOrp6xbxXAuDOcWvTEIe3nT0pPVuEkmmGorsav1sbMXrtF3zk7nHi+MasRkxS8lDqe3
T0/nFmYzXq9NVaGCxtlrRQdnhhqxF6Pbdroe9ix7X7otV22XCn/sZPTM9o9v9xpOxYl+nRpqLCsx
1qzaa62vVk1davnHKctKYiSoPcbdG2rRvntjr3VXqD2OdC2zIXy1qAczk+mp2leNVhN7rtOMr/KV
cHfSXbzTp7iqaTu2VVUJ7pQ2hGqPIF1X6p1XUc17qokPbLUDi20Ke9U0cpCrYjXkCSum1242Tfd4
bJxeb/SbjVFxepPvCdVYergibt26dUccWWoqDErp7O150heWrysxmJhUIpY9nHJFLVzJpSS5SrSc
al2NBpXbmqc3omqk1lQr2fv95mjVdPLjShvFCe42culSg6LuuCftRez9trkvx8ax7ANxQgslNorJ
DYraGnojLk9UzfvbaoSpSvRfY4KJr+2Hll5ex69Gw9Nheib0SLFbbV99UhsDvYoHDR+ER9npP62o
Foj2mCPrJfFYlGin7j4tePqoBElFIy/ocjXXPLKDTXE4Y/aD4s9FseDd4ygobPJgooiObdtpqw3G
mK3ZUlHVoec7brgN7z4gNWqyN3f7YVcL2lHPwIunxm1DurPmUvThtHpEPaef/4OfzPWpy39x0bv4
gwt/eeHH57917q/O/s3Zf3n2rVP/9NSPMtenX02/OvFx9/S/nfpHv0Hfanxmfj2bu3078yey+/Tt
tXcr6serXv6LzJ/98k/1xTezuWvXMq8ux9ON+qA3cDg3+EQfPzlquel2idQVx3daVvWkabm7f3uN
adk/bo3cn+86teNerh5sbD1IS0d1/d6kODyQCvfemM5tFUb1yahGrLBCKkvJY/HZ9DezuUIh88dr
8bq2ElUdHf1OWk1b4yt6fE2rR2MpXmeC1H3KtXal2u227fiR2h1YsZ1vou1GNozZaOya1YOxkdSj
jC9OSkmtZq70Rzz8629lovVuzPzc26yftAept3evR5HVBsTURTcb/VLVVbGkPX5BS/SlUaunfhY3
fV82gwfAgSVdPdNZe8cV3zmQ3dlYV3pl3zrshdScpmkNfom1s7n+4Y4h8jp6sdcKhbAXdy7OZnPr
tzOdBd1v45OJa7V8tc6FDxMvWpZ7nHb2zcQGdvz1wY42LYZ6KAnOS6+w9o3p3Ee3TxhUydSX0kLf
GDNJduOkhX0zbbAN5PWXGXJ/OwNkaGPRTXHB09eF27/gREu6izqlhtW0/HEDK31QPHq8vKK/Xwy2
9XqIhJfeU71YdVXRcPb3Y/PD6w7K1xonrrRVe54QKepQ4yPpb7JqsqGGkOqc4UYktbh6V/b2ixfB
98Vqi7HbDrpCMpneVwdR6dK/LxO/zrG7/LXp3M6NUYOlW67ulKJGylDQ7Kt7Of1N/h/N62EyFGEo
4BuJATJ0OjY6eueslL1g7FE/ijf8tG+3m7vRV+tjuowZGw2v8XVut3VSO3W5/CSKXAyzqZ8w1SNo
MJKaUgR139/gt/2q05Rjh2GQalQ+1WGDr4yC72Q+0V986oB9lXa/z3b7yNCipnpyS809ctyo7I75
XtxgkxN8xae242b8a6pa2zX96AFmRI3F5jCRjzVkMWqUqAO2v5rN3ZnLdN7QPa7fkOHXT+HLnX7o
1xMrRXrsYIWId4hueLHXLqqLyKtq76Rue2nwtrW27B99bdTtVKzB23QTjy/BhfQ3eAPDSz939D9f
/XztK/otyE+fxweUOtP/9NtpQ2jMlzTjV5buyzRr+CuGaPoo6q7R9PYr169fv6v7iBf05mAtkHrm
i0oc+44uao1xC1Hii7zXelgeM4r1Q+lJ62Ni1z6wbR8cBfKFWfXF7rGv6tWz9m012ky7Jrz44/Rr
rTbJd0EjBrq6aUtVmmXv671xf8CHAz02WUXTZGp1xL+QDJLsxQ6/so++Csq7svBxW7ZjyQ7vHIvp
bwzi3wXdC+/pBEl70vfj+Uxf0cbOmN1v5/RSOdihUpbA2J5D3zv2Ri5a3X5r3Oo29A5Z7wOTQV/h
7/8BAAAAAJh8PP8DAAAAADD5+P//BwAAAABg8vH+HwAAAACAycf7fwAAAAAAJh/v/wEAAAAA4Pkf
AAAAAAB88fH3/wAAAAAATD7e/wMAAAAAMPl4/w8AAAAAwOTj/T8AAAAAAJOP9/8AAAAAAPz/8fx/
JbM2dfnzS//u0ncv/PWFf3Xh+syfz/z98//8/B+c+2/n/s3Zf3L2757572eczNqF8tSfTD1W/xnt
zPrUf57Ymvr8m9eyuYWFzD888s3dhjRblZpsWIfStaRnfj5/I5t7663MT6/oky1zX1aqdVk98GIf
b62UjOWyIcrLDzYMETsh8jMi0nYb3Y+ibDwriyel9cfLpefiA+N5sXdmcVH4damTWPCEWau50vOK
wvTEnvRVmrVeep7Tdqsylt7mlvrZ2djoJ5ZMb7FheX50mUrbNpuyKBxXLKi7LPSSdVxr37JfM1nL
brV9/UnavnssDmznyLurA3ZKGzp19XlG/EJU2ntWI0g8yqx3Q6Vi+uLHKqM/Fkeu4/eT1PetWLXh
7PaitNq7quSq6tRn1UwbI0vkSt1oKuJRPciAX7c8of6rwtVt1K2c9n69l6wtX/hhKw8m24vSML1E
lIEznm/6bU+sb5aNNaNUTK2Jt2/eLIpbN98pinf0P0s3da0G9xGOLWxHmLZ3JN1kytJ1VSRdIf17
7ju2rHiWHXQaneFRtR80357lqs6i7nlD3VI4e8IUbtsOPqizTZ1mUew5blO1S3CbwifXs7kbs5nO
PcuuyRdBs6jRUzmy/HrNNY/sKODtaKCsb64az8RQLLG12Q0U+V5oxfQL4ukjo2SIeJhY3+7VeXNR
3X0h07mi754YwZVaOzmklxJ5GIob5CERKPJhQxVF3fH8orBqhTvF6dzjhcyUvpv3ccPyZcVs+44+
riSTXEoc3hw72cQPbiTmlIEc9Ro17PmRqCclZpZeTLPqW4eWHw6WEUPlQBUgOUmljBXVQ1ZcafpS
fCJ2WrXww6psSP1huVqVLT91fA70R8vedV6k36wXJ6jx18lQOBmp9NTEFlzz0d2W4/o/KuoTjltT
1Wbvi7Zt9XO269SOe0k82Nh6MCZp1aWqvtg99lXde9a+raYIU9WUp0rXS6+q6ySqvhETQjTiTyxO
S9q1IMOfiKjRVbqfiD1TzUr9BcD0fdls+V6i6bvpiVXj4fLORlncLCZnrOiqMfNRb0JKnVMGGtGT
vq8yFQzHaI4Lp44R99nZXP9wxxD5WGcshg1X0HEKN353OrfyxpiRFbRuOKj0p+udrxSyuTfeyHSO
u+NJh3d/Lw6OIh0aG0DxHja0LPdrQJqerLRt32oM1pw+46gZztXXh8VYzE/nlmfHFONAHoelCD4U
O1sL2dzsbOZlu1uIIDj6dW2wCEFgrATqMD7A0gsQZnDcUGvJ5gmDMdqBBG2d6N/RatD2+ucKi985
oQI8KW1dAcGH3/0H87r8nZ1u+YPQ6FdhsPxBYKz88YltdAWY/XkkJfeFzqlvZ3N35jOdW90VZM9p
NBy1snqV3eOKb7r70o+H5gdXkZT40VLSOyPyK1vLG8b2ipH36qYa1BXd9bsjoPDuW9O5D+bHVFr/
Hkvxo4WXa9/K5ubnM68+7NZf71z883cGazKWs3h1Ou7JI+J1Zu94IQfmjfDOqRu34Ym9Fu07LFc8
1NeJvNqqOWpSVHtEtUWMFp1C/8bhLmdUaxfVtOUeRgO2KGpO01QJ6W1M5+xcNnf/dqYzryv9SO56
7d1KTe2cXWu37VuOrTcJaeHziR4x6sqgT6SdE/n49Fz41BDZ3O3bmc8XdYumXZEW9laihdPv06+l
9q5Xda1WEB60RMr2IbF1LxkP1R5sc8XY7qYcT0GlrHZGQfFWjQ1D5WFleXtledXot3nVsX21YnYn
q+E1a/gG0SVh2sX0pe+XWf3E+D17bJ0evxhGnbe7Hx5a+Qovfkd1p2uZztV4d+qWSs8UTsuqDoR/
K60nDV0U60n9atJn9B6Vv/8HAAAAAGDy8ff/AAAAAABMPt7/AwAAAADA8z8AAAAAAPji4+//AQAA
AACYfLz/BwAAAABg8vH+HwAAAACAycf7fwAAAAAAJh/v/wEAAAAAmHy8/wcAAAAAYPLx/h8AAAAA
gMnH+38AAAAAAHj+BwAAAAAAPP8DAAAAAIDffPzv/wEAAAAAmHy8/wcAAAAAgOd/AAAAAADA8z8A
AAAAAPjNx//+HwAAAACAycf7fwAAAAAAJt+lC/9i6sLUrakLxxe+PnN8/r+c/7Pz387+Vfbs2W+c
rk/duvSzS1cv/unFuQs/v/Dz3iWfv303O3tr9txP53zX2t+XrrTVB+lVvLpzZFeazqGsRUErJWO5
bIhyaX1tzSiJlIhi+WFZndl5shpE3NrsxhFPHxmbMyKS39pYvX5k+fWaa6orTV+sb4vNnY2Ngpi7
L/KbxtP0s70EtkoiSKLV3m1YXl3dNoixVRbBlf3AKFa7VTP9ZJwoaDA9Vx5anuXY8ai9sChO1bF9
VahK3fTq8Xjx8MF0G5Z9EI+rj6NzZtuvO278bBgymIY8DFIPsh2P2w/V8R8Ya+v9ao5aIWiCY9U8
tl/3xLZRFg3rUIr74a/FMY1RFIfS1WW/3/t0TSz10g+odi0ZQieuYnntXc9384m2KYqloni3cK93
2frmtlEqq1/lrWTe/s7yxo6xLfJRKonGjFIpilGdQ0UoJHKmOt/K1ubDjfWVssjrOxTE6la3Ugbr
4ZqQL6qNdk3WrgfHI4oeFsLYXP30xh09aD6fHRg0Vaet+kGt4rT98YMmFjEaNKvGhpEcNF+I5kxk
yzf3Kyqen5aztDup+J6KEdxBf1zeXBWjCtC/ZVRTD0tbj4fuG6arb/n9++Jmv8Xq38vOLs2e+8PL
I1rMsl+vwSw7aq+oH49sry98P08vRLyJN4yVcB4KGq+Y2sKjyqGbuntpMO0vfPSjhdEFC2KNL1d/
cHaevpvNXbuWeSl9c7chB7I9cPj9bnMvP9gY7sX5Xo50NsvGs7J4Ulp/vFx6Lj4wnhdFisVF4ddl
t1MshFdWnUa7aYu8Kd7fVgULUu83oy6BqmIj6G96alcVpM8WxNP18qOtnbIobT1dX3354LvZ3Px8
5tVarGRhr4p/vpdSpqjv9QsUDnLxGmVSBYq66mA3TZZAd5dkIVIT6w4X2/FFr2v0kup2w8GkUiva
VgugK1zZ9tQCv6fWUVMlWldB0XKcVomdU7ezucXZTGfdsmvyRXd870Z1FB3fjepwfXPVeCYGI8VH
fX5E5RRFL6SiutKqsb1SFFZNfyjcemc6tzaXmdJZ8D5uWL6sqIXf0ceVPamu2bMa6o5L/c/f63zt
VjY3N5fp/L5u/v6Z/qd3E03fD481fMtU+R9q9d7pA3kcdYpETywK2Wz5xxXPsqtSqJuotvV8s9nS
cQudN97O5m6rSj1KVGrQL4JKC3YoUdh3Uys2HnEmNgP0Kjm1LosiPrUUoiknbbr5vaXp3LW3Mn+g
c9cy92WlWpfVA69Sa8vY4e1E5gbiBfmJBYm8LV/44UHh9s3p3Ppbo9ozntBS7OCdqakzT3hqAfDr
wPt/AAAAAAB4/gcAAAAAADz/AwAAAAAAnv8BAAAAAADP/wAAAAAAgOd/AAAAAADwq7vE8z8AAAAA
ABOP9/8AAAAAAEy+S6ffm/pq5nDq0s8uXb34pxfnZj6def/8fz3/6flvnvOz/zF7ffpfT8uz//Os
PPOfzpin//3ptczh6Rlq7Vf16ZWtbG5uLvNZ0zd3G7ImW6brt13p9T99uFIylsuGKC8/2DBEP1zk
Z0SkYdr7bXNfirLxrCw2t9TPzsZGsXfeN/c9/SF5XiQsLgq/LoW0ffd4wQuvMT3h+Y4rayJvive3
tzZFw/L8Qi/hpmP79ddI+Lmy+PixcPaE5Xui1d5V6dRVsjXTl8X+bXoJm370QZV946Qc1yxfZbjd
ChJTOZUtp1oXnqw6ds3r5/VJaf3xcum5+MB4LvLdGivqchbDgoRxC7eeTOfW5jJTll2TL7yPG5Yv
K2bbd/Rxpd8AlaX+55Jqy3NBgx5tZnO35jKdBR27JhvWoXQtFXn3uKKrth/0JGrY9c1V45lIiSpU
ffeDVcGCwIpVK6pGqrVUfvyicOWh5VmOXei8+Tibe3ch0znQdzZblViKrvyJrPpeInArcfvU+EEG
EidEvu7E2//pI6NkqLYz/bYn7ouFlsqYZe8viOXNVRFkJAgs6cQWvI1s7s58pnO1m789p9FwjqSr
C1xzmqZlx0M3B/OXEj/KYO+MyIfhRdX8rspyoXPxg2zufiHTeU/f9Ujueu3diqo5VZexdJLhjxN3
HnVNcO/kue7dC1G9NJ2aDCpARfGqrrUrFzoX3s/m1m9nOvPx7ETnW75qx+FMJc5upGVtxPWxDCZi
9LLZWs/mbsxmOm/pzAS9K+p9qj5rai4KAz5I3HIoVnCXKFDkw6Bu+aMI69u9Afz40XRufjZjdbvA
gTz2Km1P1qLP7w+2eS9C1NLBscgHARXTL7xYy+YWVQFuJwqghqOeTKLj9dT8dyMlst8NDNKOyhAL
ihek862H4WjzUkabWa3K1sBoezRmtEXxR4y2orBqv+CIW9YJLnTeNLK5eyqT+ymZjD7qqu8Hr43J
Zu+KlIyGGQqGne83wgocmeVeOgud+VU9W748PThb+k6l5bZt2Q96OGq27EYdnC1/uSzpemxIe9+v
53ed2nFB/EDclCvZXCGX6eR0NvesRm+KlDV9ZCQyl4wQ5EuHiHzLVIvM0M27ERd+74HeC3Syei8Q
pqJ++/1Pq4m9QD88TDpchWPrnLrXevnR1k5ZlLaerq/KZTVc1Ax8Nj75tFTvUW3blvHjlbRpphcz
NrHoMJG35QtfVbAvmy2/8O4Pp3MfzI9aPxOJLcWPlj+dfS+bm5/PfHasKyB+Lv75h4lKSGak18L1
9m5/ozBqW+S0rOoJcT5uy7Zqw/GbEbUROapLW+9GqnW1tZDiKNjTSBWmNk62KoorHNVF1Wwi/die
JKqycHO2vlk21oxS7wZi1Xi4vLNRFjf72YlX9EB2YrtBz69E3aub6MBZ6bqOGxW6mL5DUhVYDGso
2hZ1Tv9ADVY12xqDy4UVTLWWfxwFvTdqwejGS8y53cDeuFBLle/2gotiqShuFcScGih7rbsLjftq
KKpMzA1mou02oqMfjLq/ipK4tToOFpTunaPDxDT/zvfV9mE28/KNxO2CySJIsLuLjMLvp954MHKv
uuNZ6e9He3vjiuoWq8b2SjD/Rx+OLL9ec80jO7ZAxcN01lW2Xy3dy84uzZ77ozmV/P6+mtiivASb
3UrTOewtjt2hVFpfC7recDyx/LCsTuw8WQ3ixbKs7r7ZL8rG6nX9wNCtO+NpeLxVEvngZFoudaPm
g6ipZ3XiD4y19f5tolyE+2CVfiV4GvHEtlEWQS2ryVT/WhRLM/HnhLCidH7u97MaTPSjsnavd/36
5rZRKgfDaCvlvhvGSr+wxdTbjiqfvn+vnoLu/dGPFhLXq8pe2dp8uLGu7pEPYhXE6la3DgbLfE0s
9TO9qjKm4jwsbT0eynSYK33N9++Lm+FFxuYq7/8BAAAAAJh8PP8DAAAAAMDzPwAAAAAA4PkfAAAA
AADw/A8AAAAAAHj+BwAAAAAAPP8DAAAAAACe/wEAAAAAAM//AAAAAACA538AAAAAAHj+BwAAAAAA
PP8DAAAAAACe/wEAAAAAAM//AAAAAADgb8Mlnv8BAAAAAJh4vP8HAAAAAGDy/V9x1Cuz
"""

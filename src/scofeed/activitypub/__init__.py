"""ActivityPub: scofeed as a followable fediverse actor (``@releases@host``).

One module per job:

    documents   pure: WebFinger, NodeInfo, host-meta, the actor, Notes, activities
    httpsig     pure: HTTP signatures (draft-cavage with Digest; RFC 9421 accepted)
    keys        the RSA key pair file (0600), made once
    remote      signed, guarded GETs of other servers' actors and keys (cached)
    inbox       POSTs from other servers: verified, then Follow / Undo / Delete
    delivery    the outbox: Create / Update / Delete / Accept, per-host, with retries
    routes      the HTTP surface, for serve to mount
    outbox      queueing activities for ingest (no network: the build imports it)
    service     ``Service.open(cfg, store)`` ties them together for the daemon and
                serve; ``counts`` for /healthz

This ``__init__`` imports nothing on purpose: the build plans through ``outbox`` and
must not load the HTTP client and the rest (issue #9, start-up).
"""

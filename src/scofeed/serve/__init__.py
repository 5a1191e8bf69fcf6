"""The HTTP side: the feed files, an index page, one page per entry, and health.

A plain WSGI app (``app.App``) served by waitress on its own thread (``server.HttpServer``);
the HTML pages are pure functions (``pages``). Only the routes below exist: no request path
is ever mapped onto the filesystem, so path traversal has nowhere to go and gets the same
404 as any unknown path.

    /atom.xml /rss.xml /feed.json   the published feed files (configured formats)
    /                               index: newest entries, every feed, OPML link
    /page/<n>                       older entries, 50 a page (404 past the last)
    /tags/<slug>/ (/page/<n>)       the releases with a tag, paged the same way
    /entries/<slug>                 one entry (the link of releases without a URL)
    /healthz                        JSON; 503 when the last scan failed
    /websub ([websub] hub_path)     POST: WebSub subscription requests (verified by
                                    `scofeed run`; `scofeed serve` answers 503 while
                                    no daemon runs on its store)

With ``[activitypub] enabled``, the ActivityPub routes (``activitypub.routes``: WebFinger,
NodeInfo, the actor, its collections and inboxes) are asked first, and an entry's URL
answers ActivityPub clients with its Note (``Vary: Accept``).
"""

from __future__ import annotations

from scofeed.serve.answers import accepts_gzip
from scofeed.serve.app import App, HealthExtras
from scofeed.serve.clients import trusted_peer
from scofeed.serve.limits import raise_fd_limit
from scofeed.serve.server import HttpServer

__all__ = ["App", "HealthExtras", "HttpServer", "accepts_gzip", "raise_fd_limit", "trusted_peer"]

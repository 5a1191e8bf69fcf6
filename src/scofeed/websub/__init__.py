"""WebSub (W3C Recommendation, 2018): the built-in hub and the publisher side.

- ``hub``: the rules, pure (topics, request validation, leases, signatures, rate);
- ``intake``: a subscription request in, its verification queued;
- ``send``: verification GETs, distribution POSTs, pings, behind the address guard;
- ``runner``: ``Hub``, the daemon's tick: leases, denials, changes, workers.

The HTTP route lives in serve; the tables and their SQL in ``store/websub.py``.
"""

from scofeed.websub.hub import RateLimiter, Topic, link_header, topics
from scofeed.websub.intake import Refusals, drop, receive
from scofeed.websub.runner import Hub, HubReport, counts, ping_hubs

__all__ = [
    "Hub",
    "HubReport",
    "RateLimiter",
    "Refusals",
    "Topic",
    "counts",
    "drop",
    "link_header",
    "ping_hubs",
    "receive",
    "topics",
]

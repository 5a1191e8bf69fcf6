"""HTTP servers for tests that stop at once.

``socketserver``'s ``serve_forever`` looks for a stop request every ``poll_interval``
seconds, 0.5 by default, and ``shutdown()`` waits for it: each test that stopped its own
server (a source, a subscriber, a receiver) waited up to half a second for nothing, ~95 s
of the suite's waiting. Here the loop looks every ``STOP_POLL`` seconds.
"""

from __future__ import annotations

import socketserver
import threading

import pytest_httpserver

STOP_POLL = 0.02  # seconds between two looks for a stop request: idle, a few wake-ups


class HTTPServer(pytest_httpserver.HTTPServer):
    """``pytest_httpserver.HTTPServer``, whose ``stop()`` returns within ``STOP_POLL``."""

    def thread_target(self) -> None:
        assert self.server is not None
        self.server.serve_forever(poll_interval=STOP_POLL)


def serve(server: socketserver.BaseServer) -> threading.Thread:
    """``server`` serving in a daemon thread of its own (started), whose
    ``shutdown()`` returns within ``STOP_POLL``."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": STOP_POLL}, daemon=True
    )
    thread.start()
    return thread

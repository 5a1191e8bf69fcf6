"""The HTTP server: waitress on its own thread, started and stopped by the daemon."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import waitress
from waitress import wasyncore

from scofeed.errors import ServeError

log = logging.getLogger(__name__)


class HttpServer:
    """waitress on its own thread, stoppable from another one."""

    def __init__(self, app: Callable[..., Any], host: str, port: int, threads: int = 4) -> None:
        self._map: dict[int, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            self._server = waitress.create_server(
                app, map=self._map, host=host, port=port, threads=threads, ident="scofeed"
            )
        except OSError as exc:
            raise ServeError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
        listen = getattr(self._server, "effective_listen", None)
        if listen is None:
            listen = [(self._server.effective_host, self._server.effective_port)]
        self.addresses: list[tuple[str, int]] = [(str(h), int(p)) for h, p in listen]

    def base_urls(self) -> list[str]:
        urls = []
        for host, port in self.addresses:
            shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
            shown = f"[{shown}]" if ":" in shown else shown
            urls.append(f"http://{shown}:{port}/")
        return urls

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="http", daemon=True)
        self._thread.start()
        log.info("serving addresses=%s", ",".join(self.base_urls()))

    def _loop(self) -> None:
        while not self._stop.is_set():
            wasyncore.loop(timeout=1.0, map=self._map, use_poll=True, count=1)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, let running requests finish (bounded), close every socket.
        Sockets are closed here, after the loop thread has ended, never under it."""
        self._stop.set()
        for dispatcher in list(self._map.values()):
            pull = getattr(dispatcher, "pull_trigger", None)
            if pull is not None:  # wake the loop from its poll() at once
                try:
                    pull()
                except OSError:
                    pass
                break
        if self._thread is not None:
            self._thread.join(timeout)
        self._server.task_dispatcher.shutdown(timeout=timeout)
        wasyncore.close_all(self._map, ignore_all=True)

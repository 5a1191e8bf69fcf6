"""Name resolution is inside a webhook attempt's deadline (issue #13, point 6). A
resolver that does not answer cannot be made on this machine without changing its
system files, so this is the one stand-in: ``socket.getaddrinfo`` held for one test
host name (conftest's ``slow_resolver``; every other name resolves as usual). The
receiver is real (127.0.0.1)."""

from __future__ import annotations

import pytest

from conftest import SLOW
from scofeed.deliver import sender
from scofeed.errors import EndpointUnreachable


@pytest.mark.parametrize("allow_private", [True, False])
def test_a_resolver_that_does_not_answer_ends_at_the_deadline(
    receivers, slow_resolver, allow_private
):
    hook = receivers([200])
    with sender.session(allow_private) as s:
        with pytest.raises(EndpointUnreachable) as err:
            sender.post(s, f"http://{SLOW}:{hook.port}/hook", b"{}", {}, timeout=1)
    # the attempt came back while the resolver was still busy
    assert slow_resolver["calls"] == 1 and not slow_resolver["answered"].is_set()
    assert str(err.value) in (
        "cannot resolve the host name within 1s",
        "timeout: no response within 1s",  # the watchdog's word, when it comes first
    )
    assert hook.received == []


def test_names_that_resolve_in_time_still_work(receivers):
    """The resolution moved into its own thread: "localhost" (maybe ::1 first, where
    nothing listens) still reaches the receiver on 127.0.0.1."""
    hook = receivers([200])
    with sender.session(True) as s:
        sent = sender.post(s, f"http://localhost:{hook.port}/hook", b"{}", {}, timeout=5)
    assert sent.result.status == 200 and len(hook.received) == 1

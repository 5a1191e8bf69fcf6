"""The retry policy, pure: attempt number + outcome + now -> what happens next.

- 2xx: delivered.
- 410 Gone: the delivery fails and the endpoint is disabled.
- a chat service's answers (``chat=True``: Slack and Discord webhooks), which never change
  on a retry: 400 (the body is refused: Slack ``invalid_payload``, Discord "Invalid Form
  Body") fails the delivery at once, so the endpoint's later deliveries are not held
  behind it for the whole schedule; 401, 403, 404 and 410 (the webhook was removed or
  revoked, the channel archived: Slack ``no_service``, ``invalid_token``,
  ``channel_is_archived``, Discord "Unknown Webhook") pause the endpoint: it is disabled
  and the delivery stays pending, first in line when it is enabled again.
- refused by the address guard: fails at once (retrying cannot help).
- 429 and 503: the next attempt waits for ``Retry-After`` (seconds, whole or not, or an
  HTTP date), capped at ``retry_after_max``. A 429's is a rate limit's reset and is
  kept as it is (Discord's are fractions of a second). A 503's shorter than the
  schedule's next delay is the least wait (RFC 9110 10.2.3), not a shorter schedule:
  each answer counts an attempt, and a receiver in maintenance answering
  ``Retry-After: 2`` spent the whole schedule in 20 seconds and lost the delivery.
- anything else (3xx, other 4xx and 5xx, timeouts, connection errors): the next delay
  of the schedule, plus up to 20% jitter from the injected random generator.
- after the last attempt of the schedule: failed, a dead letter that stays visible;
  but not before the schedule's whole span (the sum of its delays after the first) has
  passed since the first attempt (``begun``, when the caller knows it): until then it
  is retried after the schedule's last delay (or at the span's end, when sooner), a
  ``Retry-After`` only lengthening that wait. 429s answered with a short
  ``Retry-After`` spent the whole schedule in seconds (eight attempts two seconds
  apart) and lost the delivery.
- ``refusals_final`` (ActivityPub): a 4xx other than 401, 408 and 429, or a 501, fails
  at once, as Mastodon's DeliveryWorker has it ("unsalvageable"): the receiver refused
  the activity and would refuse it again.

Whatever the outcome, an answer saying the endpoint's rate-limit bucket is exhausted
(``X-RateLimit-Remaining: 0`` with ``X-RateLimit-Reset-After``, as Discord sends on every
answer) holds the endpoint's next request until the bucket resets (``Decision.hold``):
Discord asks senders not to spend an exhausted bucket, and counts 429s against them. A
retry of this one waits for the reset too (it went out into the empty bucket).
"""

from __future__ import annotations

import email.utils
import math
import random
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC

from scofeed.store import deliveries as rows

DELIVERED, RETRY, FAILED, GONE = "delivered", "retry", "failed", "gone"
PAUSED = "paused"  # the endpoint is disabled, the delivery kept pending for when it is back
# the status an attempt with each outcome leaves its outbox row in (webhooks and
# ActivityPub alike): a retry stays pending, a gone endpoint or inbox has failed
STORED = {
    DELIVERED: rows.DELIVERED,
    RETRY: rows.PENDING,
    FAILED: rows.FAILED,
    GONE: rows.FAILED,
    PAUSED: rows.PENDING,
}
CHAT_REFUSED = frozenset({400})
CHAT_GONE = frozenset({401, 403, 404, 410})
JITTER = 0.2
RETRIED_4XX = (401, 408, 429)  # the 4xx Mastodon's deliveries retry; others are final


@dataclass(frozen=True)
class Result:
    """What one request came back with (status None: no HTTP answer at all)."""

    status: int | None
    error: str | None = None
    retry_after: str | None = None  # the raw header
    blocked: bool = False  # refused by the address guard before connecting
    bucket_reset: str | None = None  # X-RateLimit-Reset-After, when the bucket is empty


@dataclass(frozen=True)
class Decision:
    outcome: str  # delivered | retry | failed | gone | paused
    next_attempt: float | None  # epoch seconds, for retry
    reason: str
    hold: float | None = None  # epoch seconds before which the endpoint gets no request


@dataclass
class Tally:
    """Attempts counted by the outcome ``decide`` gave them, added by several workers at
    once (each push's report is one); ``gone`` lists the targets an answer disabled."""

    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    gone: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, outcome: str, target: str) -> None:
        with self._lock:
            self.attempted += 1
            if outcome == DELIVERED:
                self.delivered += 1
            elif outcome in (RETRY, PAUSED):
                self.retrying += 1
            else:
                self.failed += 1
            if outcome in (GONE, PAUSED):
                self.gone.append(target)

    def counted(self) -> str:
        return (
            f"attempted={self.attempted} delivered={self.delivered} "
            f"retrying={self.retrying} failed={self.failed}"
        )


def retry_after_seconds(value: str | None, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    try:  # delta-seconds; chat services (Discord) may send a fraction such as "1.5"
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # an hour 10**20: not a date
        return None
    if when.tzinfo is None:
        # only the asctime form has no zone ("Sun Nov  6 08:49:37 1994"), and it is UTC
        # (RFC 9110 5.6.7: a recipient accepts all three forms); email.utils reads a
        # date with "-0000" so too, which says no more of its zone than asctime does
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def bucket_wait(value: str | None, cap: float) -> float | None:
    """Seconds until an exhausted rate-limit bucket resets (``X-RateLimit-Reset-After``,
    decimals allowed), at most ``cap``; None when there is nothing to wait for."""
    try:
        seconds = float(value) if value else 0.0
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return min(seconds, cap)


def describe(result: Result) -> str:
    if result.status is None:
        return result.error or "no response"
    return f"HTTP {result.status}"


def decide(
    attempt: int,
    result: Result,
    now: float,
    schedule: tuple[int, ...],
    rng: random.Random,
    retry_after_max: int = 3600,
    chat: bool = False,
    refusals_final: bool = False,
    begun: float | None = None,
) -> Decision:
    """``attempt`` counts the attempts made so far, this one included (1 = the first);
    ``chat``: the endpoint is a Slack or Discord webhook; ``refusals_final``: an
    ActivityPub inbox; ``begun``: when the first attempt was made (see the module text)."""
    decision = _decide(
        attempt, result, now, schedule, rng, retry_after_max, chat, refusals_final, begun
    )
    wait = bucket_wait(result.bucket_reset, float(retry_after_max))
    if wait is None:
        return decision
    hold = now + wait
    if decision.outcome == RETRY and decision.next_attempt is not None:
        return replace(decision, hold=hold, next_attempt=max(decision.next_attempt, hold))
    return replace(decision, hold=hold)


def begun(first_attempt: float | None, attempts: int, now: float) -> float | None:
    """``decide``'s ``begun`` for a delivery that keeps when it was first tried: that,
    or ``now`` for its first attempt; None for one tried before that was kept (a row
    from before migration 39), which then ends when its schedule is spent, as before
    (given ``now``, one on its last attempt at the upgrade got a whole span more)."""
    if first_attempt is not None:
        return first_attempt
    return now if attempts == 0 else None


def _decide(  # decide's verdict on the answer alone (its arguments, in its order)
    attempt: int, result: Result, now: float, schedule: tuple[int, ...], rng: random.Random,
    retry_after_max: int, chat: bool, refusals_final: bool, begun: float | None,
) -> Decision:  # fmt: skip
    status = result.status
    if status is not None and 200 <= status < 300:
        return Decision(DELIVERED, None, describe(result))
    if chat and status in CHAT_GONE:
        return Decision(PAUSED, now, f"HTTP {status}: the chat webhook no longer takes messages")
    if chat and status in CHAT_REFUSED:
        refused = f"HTTP {status}: the chat service refuses this message (not retried)"
        return Decision(FAILED, None, refused)
    if status == 410:
        return Decision(GONE, None, "HTTP 410 Gone")  # each kind of push says what it does
    if result.blocked:
        return Decision(FAILED, None, result.error or "address refused")
    reason = describe(result)
    if refusals_final and status is not None and _refused(status):
        return Decision(FAILED, None, f"{reason}: refused, not retried")
    if status is not None and 300 <= status < 400:
        reason += " (redirects are not followed)"
    over = attempt >= len(schedule)  # the schedule is spent
    # the span runs from the first attempt: the schedule's first delay comes before it
    span_end = begun + sum(schedule[1:]) if begun is not None else now
    if over and now >= span_end:
        tries = "1 attempt" if attempt == 1 else f"{attempt} attempts"
        return Decision(FAILED, None, f"{reason}; gave up after {tries}")
    if over:  # spent sooner than its span (short Retry-After hints): its last delay
        delay = min(schedule[-1] * (1 + JITTER * rng.random()), span_end - now)
    else:
        delay = schedule[attempt] * (1 + JITTER * rng.random())
    if status in (429, 503):
        hinted = retry_after_seconds(result.retry_after, now)
        if hinted is not None:
            hint = min(hinted, float(retry_after_max))
            delay = hint if status == 429 and not over else max(delay, hint)
            capped = " (capped)" if hinted > retry_after_max else ""
            reason += f"; Retry-After {hinted:g}s{capped}"
    return Decision(RETRY, now + delay, reason)


def _refused(status: int) -> bool:
    return status == 501 or (400 <= status < 500 and status not in RETRIED_4XX)

"""deliver, and the webhook group: webhook
list|deliveries|redeliver|test|verify|enable|forget.

``scofeed deliveries`` and ``scofeed redeliver`` stay as aliases of the webhook ones.
The commands that send or queue (deliver, redeliver, test) load the senders and the
payloads (requests, the renderer) themselves: listing and managing the endpoints
reads the store only, and loads neither (issue 9).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from scofeed.cli.common import (
    Subparsers,
    command,
    count,
    counted,
    load_config,
    note,
    open_store,
    read_stdin,
    table,
    when,
)
from scofeed.cli.status import endpoint_state
from scofeed.config import Config, Webhook, resolve_secret
from scofeed.config.push import WHSEC, is_whsec
from scofeed.deliver import signing
from scofeed.errors import ConfigError, StoreError, UsageError, shown
from scofeed.store import Store
from scofeed.store import deliveries as rows
from scofeed.store import outbox as outbox_rows
from scofeed.store import status as status_rows
from scofeed.store.lock import running


def _deliveries_parser(sub: Subparsers, name: str, help: str) -> None:  # type: ignore[type-arg]
    p = command(sub, name, help)
    p.add_argument("--failed", action="store_true", help="only failed deliveries (dead letters)")
    p.add_argument("--endpoint", metavar="NAME", help="only this endpoint")
    p.add_argument("--limit", type=count, default=50, help="at most this many (default 50)")
    p.set_defaults(func=cmd_deliveries)


def _redeliver_parser(sub: Subparsers, name: str, help: str) -> None:  # type: ignore[type-arg]
    p = command(
        sub,
        name,
        help,
        description="Queue deliveries again: one by id, every failed one, or the "
        "entries updated since a date (a backfill).",
    )
    p.add_argument("delivery_id", nargs="?", type=int, help="the delivery's number")
    p.add_argument("--failed", action="store_true", help="every failed delivery")
    p.add_argument("--since", metavar="DATE", help="entries updated since DATE (backfill)")
    p.add_argument("--endpoint", metavar="NAME", help="only this endpoint")
    p.set_defaults(func=cmd_redeliver)


def register(sub: Subparsers) -> None:  # type: ignore[type-arg]
    p = command(sub, "deliver", "send the webhook deliveries that are due, wait, exit")
    p.set_defaults(func=cmd_deliver)
    _deliveries_parser(sub, "deliveries", "same as `webhook deliveries`")
    _redeliver_parser(sub, "redeliver", "same as `webhook redeliver`")

    p = command(sub, "webhook", "list, test and manage the webhook endpoints")
    wsub = p.add_subparsers(dest="webhook_command", metavar="ACTION", required=True)
    w = command(wsub, "list", "each endpoint: host, events, filters, state, counts")
    w.set_defaults(func=cmd_webhook_list)
    _deliveries_parser(wsub, "deliveries", "list webhook deliveries with their attempts")
    _redeliver_parser(wsub, "redeliver", "queue deliveries again (id, --failed, --since)")
    w = command(wsub, "test", "send a signed ping event to an endpoint, show the answer")
    w.add_argument("name", help="the endpoint's name in config.toml")
    w.set_defaults(func=cmd_webhook_test)
    w = command(
        wsub,
        "verify",
        "check the signature of a received request",
        description="Check a received request's Standard Webhooks signature. The request is "
        "a file holding the HTTP headers, one per line, then a blank line, then the body "
        "exactly as received (a request line such as 'POST /hook HTTP/1.1' first is allowed). "
        "Or give --headers and --body as two files.",
    )
    w.add_argument("--secret", required=True, help="whsec_..., env:NAME or file:PATH")
    w.add_argument("request", nargs="?", help="the request file ('-' or none: standard input)")
    w.add_argument("--headers", metavar="FILE", help="a file of 'Name: value' lines")
    w.add_argument("--body", metavar="FILE", help="a file holding the body bytes")
    w.add_argument(
        "--tolerance",
        type=count,  # a negative one refused every signature as "N s away (limit -5 s)"
        default=signing.TOLERANCE,
        help=f"accepted clock skew, seconds (default {signing.TOLERANCE})",
    )
    w.set_defaults(func=cmd_webhook_verify)
    w = command(wsub, "enable", "resume an endpoint its answer disabled (410, chat 404)")
    w.add_argument("name", help="the endpoint's name in config.toml")
    w.set_defaults(func=cmd_webhook_enable)
    w = command(wsub, "forget", "drop an endpoint out of the config, and its deliveries")
    w.add_argument("name", help="the endpoint's name, no longer in config.toml")
    w.set_defaults(func=cmd_webhook_forget)


def _filters(hook: Webhook) -> str:
    parts = []
    if hook.tags:
        parts.append("tags=" + ",".join(hook.tags))
    if hook.languages:
        parts.append("languages=" + ",".join(hook.languages))
    if hook.title_pattern is not None:
        parts.append(f"title~{hook.title_pattern!r}")
    return " ".join(parts) or "-"


def cmd_webhook_list(args: argparse.Namespace) -> int:
    cfg, store = open_store(args, existing=True)
    hooks = {h.name: h for h in cfg.webhooks}
    endpoints = status_rows.endpoints(store.db, list(hooks))
    if not endpoints:
        note("no webhooks configured ([[webhooks]] in config.toml)")
        return 0
    table_rows = [["NAME", "HOST", "EVENTS", "FILTERS", "PENDING", "FAILED", "STATE"]]
    for ep in endpoints:
        hook = hooks.get(ep.name)
        table_rows.append(
            [
                ep.name,
                urlsplit(hook.url).netloc.rpartition("@")[2] if hook else "-",
                ",".join(hook.events) if hook else "-",
                _filters(hook) if hook else "-",
                str(ep.pending),
                str(ep.failed),
                endpoint_state(ep),
            ]
        )
    table(table_rows)
    return 0


def cmd_deliver(args: argparse.Namespace) -> int:
    from scofeed.deliver import runner  # see the module docstring

    cfg, store = open_store(args, existing=True)
    cfg.require_secrets()
    report = runner.run_due(cfg, store)
    c = runner.counts(store)
    print(f"{report.line()} pending={c['pending']} failed_total={c['failed']}")
    # as the daemon does every hour (schedule.prune_job), for a site run from cron
    days = cfg.limits.delivered_days
    hooks, activities = outbox_rows.prune(store, time.time(), days)
    if hooks or activities:
        print(
            f"dropped what deliveries delivered over {counted(days, 'day')} ago held "
            f"(limits.delivered_days): {counted(hooks, 'webhook body', 'webhook bodies')}, "
            f"{counted(activities, 'ActivityPub delivery', 'ActivityPub deliveries')}",
            file=sys.stderr,
        )
    for name in report.disabled:
        why = rows.endpoint(store.db, name).disabled_reason or "its answer"
        print(f"endpoint {name} is disabled ({why}); its deliveries wait", file=sys.stderr)
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    cfg, store = open_store(args, existing=True)
    if (
        args.endpoint is not None
        and args.endpoint not in {h.name for h in cfg.webhooks}
        and not rows.listing(store.db, False, args.endpoint, 1)
    ):  # a typo listed nothing and exited 0; a removed endpoint's deliveries still list
        raise UsageError(f"--endpoint {args.endpoint}: no such webhook in the config or the store")
    for hook in cfg.webhooks:
        ep = rows.endpoint(store.db, hook.name)
        if ep.disabled_at is not None and args.endpoint in (None, hook.name):
            print(
                f"endpoint {hook.name} is disabled since {when(ep.disabled_at)} "
                f"({shown(ep.disabled_reason or '')}); `scofeed webhook enable {hook.name}` "
                "resumes it",
                file=sys.stderr,
            )
    items = rows.listing(store.db, args.failed, args.endpoint, args.limit)
    for d in items:
        last = d.last_error or (f"HTTP {d.last_status}" if d.last_status else "")
        made = rows.attempts(store.db, d.id)
        # attempts counts those of the schedule running (a redeliver starts a new one);
        # the lines below list every attempt: say both when there are more of those (a
        # delivery pruned after limits.delivered_days has none left to list)
        tried = f"{d.attempts}" + (f" ({len(made)} in all)" if len(made) > d.attempts else "")
        print(
            f"{d.id}\t{d.status}\t{d.endpoint}\t{d.event}\t{d.entry_id} rev {d.revision}\t"
            f"{d.webhook_id}\tattempts={tried}\tnext={when(d.next_attempt)}\t{shown(last)}"
        )
        for a in made:
            status = a.status if a.status is not None else "-"
            error = f" {shown(a.error)}" if a.error else ""
            print(f"    #{a.number} {when(a.at)} {status} {a.outcome} {a.duration:.2f}s{error}")
    if not items and args.limit:  # --limit 0 asked for none: there may be some
        note("no deliveries")
    return 0


def _parse_since(value: str, tz: str) -> datetime:
    try:
        since = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--since {value!r}: expected a date like 2024-01-31") from None
    return since if since.tzinfo else since.replace(tzinfo=ZoneInfo(tz))


def cmd_redeliver(args: argparse.Namespace) -> int:
    from scofeed.deliver import outbox  # see the module docstring

    chosen = [args.delivery_id is not None, args.failed, args.since is not None]
    if sum(chosen) != 1:
        raise UsageError("redeliver: give exactly one of DELIVERY_ID, --failed, --since DATE")
    cfg, store = open_store(args, existing=True)
    if args.endpoint and args.endpoint not in {h.name for h in cfg.webhooks}:
        raise UsageError(f"--endpoint {args.endpoint}: no such webhook in the config")
    now = datetime.now(UTC)
    if args.since is not None:
        since = _parse_since(args.since, cfg.site.timezone)
        n = outbox.backfill(cfg, store, since, now, args.endpoint)
        print(f"queued {counted(n, 'delivery', 'deliveries')}; {_sender(cfg)}")
        _warn_disabled(store, [h.name for h in cfg.webhooks if args.endpoint in (None, h.name)])
        return 0
    if args.delivery_id is not None:
        with store.transaction() as db:  # a prune cannot come between refill and requeue
            d = rows.get(db, args.delivery_id)
            why = outdated = None
            if d is not None and not d.body:  # dropped after limits.delivered_days
                why = outbox.refill(cfg, db, d, now.timestamp())
            elif d is not None:
                outdated = outbox.stale(db, d)
                if outdated is None:  # in the format its endpoint has now
                    outbox.reformat_for_endpoint(cfg, db, d)
            n = rows.requeue(db, [d.id], now.timestamp()) if d and not (why or outdated) else 0
        if d is None:  # as `show` of an unknown id: exit 1, not a usage error
            print(f"scofeed: no delivery with id {args.delivery_id}", file=sys.stderr)
            return 1
        if why is not None:
            print(
                f"scofeed: delivery {d.id} was delivered {when(d.settled_at)} and its body "
                f"dropped since (limits.delivered_days); it cannot be made again: {why}",
                file=sys.stderr,
            )
            return 1
        if outdated is not None:
            print(_not_again(d, outdated), file=sys.stderr)
            return 1
        names = [d.endpoint]
    else:
        with store.transaction() as db:
            failed = [d for i in rows.failed_ids(db, args.endpoint) if (d := rows.get(db, i))]
            outdated_by = {d.id: why for d in failed if (why := outbox.stale(db, d))}
            again = [d for d in failed if d.id not in outdated_by]
            for d in again:  # in the format its endpoint has now
                outbox.reformat_for_endpoint(cfg, db, d)
            n = rows.requeue(db, [d.id for d in again], now.timestamp())
        for d in failed:
            if d.id in outdated_by:
                print(_not_again(d, outdated_by[d.id]), file=sys.stderr)
        names = sorted({d.endpoint for d in failed if d.id not in outdated_by})
    print(f"queued {counted(n, 'delivery', 'deliveries')} again (same webhook-id); {_sender(cfg)}")
    _warn_disabled(store, names)
    return 0


def _sender(cfg: Config) -> str:
    """Who sends what was queued: a daemon on the store does, at its next round (the
    message named `scofeed deliver` only, which an operator then ran beside it)."""
    try:
        daemon = running(cfg.paths.state)
    except StoreError:  # its lock cannot be read: whether one runs cannot be told
        daemon = None
    if daemon is None:
        return "`scofeed deliver` sends them (no daemon runs on this store)"
    pid = f" (pid {daemon.pid})" if daemon.pid is not None else ""
    every = f"{cfg.schedule.deliver_interval:g}"
    return f"the daemon{pid} sends them within schedule.deliver_interval ({every} s)"


def _not_again(d: rows.Delivery, why: str) -> str:
    return (
        f"scofeed: delivery {d.id} ({d.event}, revision {d.revision}, to {d.endpoint}) "
        f"is not sent again: {why}"
    )


def _warn_disabled(store: Store, names: list[str]) -> None:
    """Queued deliveries to a disabled endpoint wait until it is enabled: say so."""
    for name in names:
        if rows.endpoint(store.db, name).disabled_at is not None:
            print(
                f"endpoint {name} is disabled: its deliveries wait until "
                f"`scofeed webhook enable {name}`",
                file=sys.stderr,
            )


def _hook(cfg: Config, name: str) -> Webhook:
    for h in cfg.webhooks:
        if h.name == name:
            return h
    raise UsageError(f"no webhook named {name!r} in the config")


def cmd_webhook_test(args: argparse.Namespace) -> int:
    from scofeed.deliver import payload, policy, sender  # see the module docstring

    cfg = load_config(args)  # sends a ping, stores nothing: made a store where there was none
    hook = _hook(cfg, args.name)
    problems = hook.secret_problems()
    if problems:
        raise ConfigError("\n".join(problems))
    stamp = int(time.time())
    # its own id each time: receivers de-duplicate on webhook-id, and two tests within
    # one second (a second try after fixing the receiver) are two messages
    msg_id = f"msg_ping_{stamp}_{uuid.uuid4().hex[:12]}"
    body = payload.ping(hook.format, hook.name, cfg, stamp)
    with sender.session_for(hook) as session:
        sent = sender.sign_and_post(session, hook, msg_id, body, stamp)
    r = sent.result
    print(f"{hook.name}: {policy.describe(r)} in {sent.duration:.2f}s (webhook-id {msg_id})")
    if sent.response:  # the receiver's words, each line marked as theirs (one could pass
        # for scofeed's own, or a log line's) and an ANSI escape in them escaped
        print("\n".join(f"  > {shown(line)}" for line in sent.response[:2000].splitlines()))
    ok = r.status is not None and 200 <= r.status < 300
    return 0 if ok else 1


def _read_request(args: argparse.Namespace) -> tuple[dict[str, str], bytes]:
    if args.headers or args.body:
        if not (args.headers and args.body) or args.request:
            raise UsageError("webhook verify: give --headers and --body, or one request file")
        text = _read(args.headers).decode("utf-8", "replace")
        return _parse_headers(text, args.headers), _read(args.body)
    if args.request in (None, "-"):
        raw = read_stdin()
        if raw is None:
            raise UsageError("stdin: cannot read standard input (closed); give the request file")
    else:
        raw = _read(args.request)
    head, sep, body = _split(raw)
    if not sep:
        origin = args.request or "stdin"
        raise UsageError(f"{origin}: no blank line between the headers and the body")
    return _parse_headers(head.decode("utf-8", "replace"), args.request or "stdin"), body


def _split(raw: bytes) -> tuple[bytes, bytes, bytes]:
    """Headers, the blank line, the body: at the first blank line, CRLF or LF."""
    found = [(i, sep) for sep in (b"\r\n\r\n", b"\n\n") if (i := raw.find(sep)) >= 0]
    if not found:
        return raw, b"", b""
    i, sep = min(found)
    return raw[:i], sep, raw[i + len(sep) :]


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror})") from None


def _parse_headers(text: str, origin: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.upper().startswith(("POST ", "PUT ", "HTTP/")):
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise UsageError(f"{origin}: not a header line: {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers


def cmd_webhook_verify(args: argparse.Namespace) -> int:
    try:
        given = resolve_secret(args.secret, "--secret", Path.cwd())
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    if not is_whsec(given.value):  # a usage error (2), not an invalid signature (1)
        raise UsageError(f"--secret: expected {WHSEC} (from {given.reference}; value not shown)")
    secret = given.value
    headers, body = _read_request(args)
    try:
        msg_id = signing.verify(secret, headers, body, time.time(), args.tolerance)
    except signing.BadSignature as exc:
        print(f"signature INVALID: {exc}")
        return 1
    age = int(time.time()) - int(headers["webhook-timestamp"])
    print(f"signature valid: webhook-id {msg_id}, signed {age} s ago, body {len(body)} bytes")
    return 0


def cmd_webhook_enable(args: argparse.Namespace) -> int:
    cfg = load_config(args)
    hook = _hook(cfg, args.name)
    _cfg, store = open_store(args, cfg, existing=True)
    with store.transaction() as db:
        changed = rows.enable(db, hook.name)
    print(f"{hook.name}: {'enabled again' if changed else 'was not disabled'}")
    return 0


def cmd_webhook_forget(args: argparse.Namespace) -> int:
    """An endpoint removed for good: what it had pending, and what is queued for its
    return (``outbox``: the withdrawals and corrections it misses), is dropped."""
    cfg = load_config(args)
    if any(h.name == args.name for h in cfg.webhooks):
        raise UsageError(
            f"{args.name!r} is in the config: take it out first, or it is sent to again"
        )
    _cfg, store = open_store(args, cfg, existing=True)
    with store.transaction() as db:
        if not rows.known(db, args.name):
            raise UsageError(f"no endpoint named {args.name!r} in the store")
        total, pending = rows.forget(db, args.name)
    print(f"{args.name}: forgotten, with {total} deliveries ({pending} pending)")
    try:
        daemon = running(cfg.paths.state)
    except StoreError:  # its lock cannot be read: whether one runs cannot be told
        daemon = None
    if daemon is not None:  # its config may not be this file's yet
        note(
            f"note: a daemon runs on this store: unless it was reloaded since {args.name} "
            "left config.toml, `scofeed reload` it, or it sends to it again"
        )
    return 0

"""Ingest: the one way a release enters the store, whichever source it came from.

``ingest_one`` matches a normalised release to an existing entry (same input, id
material, URL key or fingerprint), decides new / updated / duplicate / mirror /
unchanged, and writes the entry revision and its outbound deliveries (through the
``Planner`` it is given) in the caller's transaction. ``ingest`` does that for a few
releases in one transaction of its own.

Authority (docs/provenance.md): every input is local (a file in sources/, ``scofeed
add``), official (an official page) or other. An input below the one that made or last
revised an entry never changes it: it is kept as a mirror, and nothing is delivered.
An input above it takes the entry over as a correction.

Withdrawal by metadata (``withdrawn: true``) is a switch the input holds: a release
that says so withdraws its entry (``release.withdrawn``), and the same input saying
``withdrawn: false`` or no longer saying it restores an entry its metadata withdrew
(``release.restored``). An entry withdrawn with ``scofeed withdraw`` stays withdrawn,
whatever its input says, until ``scofeed restore``; an edit of it is stored (a restore
shows the latest text) but sent nowhere. A release seen for the first time already
withdrawn is stored withdrawn and sent nowhere. Nothing here withdraws an entry whose
input disappeared: a deleted file never retracts a release.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from scofeed import shown
from scofeed.config import Config, SiteConfig, host_in
from scofeed.config.redact import logged
from scofeed.dates import find_dates
from scofeed.frozen import frozen
from scofeed.model import Entry, Planner, Release, Withdrawal, changes
from scofeed.normalise import (
    Settings,
    adopt_id,
    clean_reason,
    identity_of,
    mint_id,
    normalise,
    read_alike,
    redated,
    settings_from,
    with_language,
)
from scofeed.normalise.dating import AHEAD, FAR_DAYS
from scofeed.normalise.text import plain
from scofeed.patterns import Article, article_of
from scofeed.pool import within_budget
from scofeed.refold import refold, rekey
from scofeed.relink import relink
from scofeed.renames import Renames, corrected_of
from scofeed.retag import restate, retag
from scofeed.store import Store
from scofeed.store import entries as entry_rows
from scofeed.store import matching as match_rows
from scofeed.store import origins as origin_rows
from scofeed.store import withdrawals as withdrawal_rows
from scofeed.store.matching import Known, Match


@frozen(many=True)
class Change:
    """What storing one release did to its entry."""

    entry: Entry
    kind: str  # new | updated | duplicate | mirror | unchanged | withdrawn | restored


log = logging.getLogger(__name__)

RANK = {"other": 1, "official": 2, "local": 3}  # operator's files > official pages > others
OFFICIAL_HOSTS = SiteConfig().official_hosts


def official_article(url_key: str | None, official_hosts: tuple[str, ...]) -> Article | None:
    """The SCO article a release's address names by day and number, on one of the
    official hosts (an agency's link to ``/20261125/1001200.html`` is the page at
    ``/20261125/-SCO-Forum-1001200.html``), or None."""
    if url_key is None or not host_in(url_key, official_hosts):
        return None
    return article_of(url_key)


def stored_authority(match: Match, official_hosts: tuple[str, ...]) -> str:
    """The authority an entry holds: as stored, else (an entry stored before provenance
    was kept) judged from the input that last set it: a URL on an official host is
    official, another URL other, a file local."""
    if match.authority is not None:
        return match.authority
    if "://" not in match.origin:
        return "local"
    return "official" if host_in(match.origin, official_hosts) else "other"


def _renamed_away(
    db: sqlite3.Connection,
    origin: str,
    match: Match,
    in_sources: Callable[[str], bool] | None,
) -> str | None:
    """The name the file ``origin`` was renamed to, when ``match`` found ``origin`` as a
    former name of its entry and that file is still in sources/ (so ``origin`` is now
    another file's); else None. A file (not a URL, not a list's item) in a build only."""
    if match.former_of is None or in_sources is None or "://" in origin or "#" in origin:
        return None
    live = origin_rows.live_name(db, match.former_of)
    return live if in_sources(live) else None


def _left_for_a_copy(
    db: sqlite3.Connection,
    origin: str,
    entry: Entry,
    match: Match,
    in_sources: Callable[[str], bool] | None,
) -> str | None:
    """The file that holds the entry's release now, when the file ``origin``, its own
    input, holds another release (neither its fingerprint, folded or not, nor, on its
    day, its title or first paragraph) and another file of sources/ matched the entry
    (a copy, maybe touched up): a file renamed and a new release written under the old
    name, seen in that order (the new file settling later). Else None: an edit of the
    entry."""
    if (
        match.by != "origin"
        or in_sources is None
        or "://" in origin
        or "#" in origin
        or entry.content_hash == match.content_hash
    ):
        return None
    found = match_rows.as_near(db, match.entry_id)
    if (
        found is None
        or entry.fingerprint in found[1]
        or entry.folded in found[1]  # the same, but for Unicode form or ё/е
        or corrected_of([found[0]], entry)
    ):
        return None
    copies = origin_rows.copies(db, match.entry_id, origin)
    return next((c for c in copies if "://" not in c and "#" not in c and in_sources(c)), None)


class Tally(Protocol):
    new: int
    updated: int
    duplicates: int


def _tag_grown(entry: Entry, match: Match) -> bool:
    """The release is its entry but for its language, which names the script or region
    the entry's was stored without ('zh' is now 'zh-CN', 'az' is 'az-Arab': tags lost
    them before scofeed kept them). That is no new version of the release: the tag is
    stored, nothing is delivered (a page of the SCO's Chinese site, fetched again, was
    otherwise a correction)."""
    return _hash_before_tags_grew(entry) == match.content_hash != entry.content_hash


def _hash_before_tags_grew(entry: Entry) -> str:
    """The content hash of ``entry`` as scofeed stored it before tags kept their script
    and region (its language cut to its code: 'zh-CN' was 'zh')."""
    code = entry.language.partition("-")[0]
    return entry.content_hash if code == entry.language else with_language(entry, code).content_hash


def tally(counts: Tally, kind: str) -> None:
    """Count one change by its kind (an unchanged release counts nowhere)."""
    if kind == "new":
        counts.new += 1
    elif kind == "updated":
        counts.updated += 1
    elif kind in ("duplicate", "mirror"):
        counts.duplicates += 1


def in_step(db: sqlite3.Connection, cfg: Config, settings: Settings, now: datetime) -> int:
    """In the caller's transaction, before a build or an ingest stores anything: the
    stored entries brought in step with what changed since the last one (``retag``: the
    [tags] rules; ``relink``: the site's address and author; ``refold``: entries stored
    before copies were compared folded; ``rekey``: URL keys made before the trackers
    they leave out grew), a new store beside feeds it did not publish said first
    (``shown.new_store_beside_feeds``). How many entries were re-tagged."""
    shown.new_store_beside_feeds(cfg, db)  # a build's, a poll's, an add's: before any is stored
    retagged = retag(db, settings.tags, now)
    relink(db, cfg.site.base_url, cfg.site.author)
    refold(db)
    rekey(db)
    return retagged


def ingest_one(
    db: sqlite3.Connection,
    release: Release,
    entry: Entry,
    settings: Settings,
    now: datetime,
    planner: Planner | None = None,
    force_update: bool = False,
    known: Known | None = None,
    pending: entry_rows.Pending | None = None,
    authority: str = "local",
    official_hosts: tuple[str, ...] = OFFICIAL_HOSTS,
    in_sources: Callable[[str], bool] | None = None,
    renames: Renames | None = None,
    reread: bool = False,
) -> tuple[Change, int]:
    """Store one normalised release; returns the change and how many deliveries it queued.
    ``known`` (for a large batch) spares the lookups of a release that cannot match;
    with ``pending`` (and no planner) a new entry's rows are written in batches.
    ``authority`` is this input's kind (local | official | other); ``official_hosts``
    judge an entry stored before authorities were kept. ``in_sources`` (a build's)
    tells whether a file, or the list file of an item, is still in sources/; ``renames``
    (a build's) finds the file a new file of ours that matches nothing else was.
    ``reread``: the input was read again, unchanged, by this version (``scofeed build
    --reread``): a new reading of the input that set its entry's text revises it, as an
    edit does; a copy's new reading is only noted (the copy never took the entry over)."""
    identity, url_key = identity_of(release, entry.fingerprint)
    article = official_article(url_key, official_hosts)
    day = match_rows.stated_day(entry)  # (a copy from another authority is a copy)
    passed: list[str] = []  # entries of this text passed over: another day's release
    match = match_rows.find_match(
        db, release.origin, identity, url_key, entry.fingerprint, known, pending, entry.id,
        folded=entry.folded, day=day, passed=passed, authority=authority, article=article,
    )  # fmt: skip
    if (
        match is not None
        and not force_update
        and _holds_another(db, release, match, identity, entry)
    ):
        # a file of ours that now states another release's id or address, and shares
        # neither text nor day with its entry: matched as any new input is, and the
        # entry it held stays as it was (as a deleted file's does)
        match = match_rows.find_match(
            db, release.origin, identity, url_key, entry.fingerprint, None, pending, entry.id,
            by_origin=False, folded=entry.folded, day=day, passed=passed, authority=authority,
            article=article,
        )  # fmt: skip
    taken = _renamed_away(db, release.origin, match, in_sources) if match else None
    if match is not None and taken is None and not reread:  # a file read again was not renamed
        taken = _left_for_a_copy(db, release.origin, entry, match, in_sources)
    if match is not None and taken is not None:
        # the name a file of ours had before it was renamed, taken by another release
        # while the renamed file is there (``taken``): that is not the renamed file's
        # input (it would overwrite that release), it is matched as any other file is;
        # the renamed entry's input goes by its new name (the old one is this file's)
        origin_rows.rename_origin(db, match.entry_id, release.origin, taken)
        match = match_rows.find_match(
            db, release.origin, identity, url_key, entry.fingerprint, None, pending, entry.id,
            by_origin=False, folded=entry.folded, day=day, passed=passed, authority=authority,
            article=article,
        )  # fmt: skip
    if match is None and renames is not None and authority == "local":
        match = renames.take(db, release, entry)
    if match is None and entry.id in passed:
        # the words of an entry of another day, whose id the fingerprint minted: this
        # release's id is minted from the fingerprint and its own day; an entry holding
        # that id already is this release, edited since (this is a copy of its first
        # version, as ``find_match``'s ``entry_id`` finds one)
        identity = f"{identity}@{day}"
        own_id = mint_id(settings.authority, identity)
        if pending is not None:
            pending.flush(db)
        match = match_rows.match_of(db, own_id, "fingerprint")
        if match is None:
            log.info(
                "same_words_apart origin=%s day=%s other=%s: another release in the same "
                "words", logged(release.origin), day, entry.id,
            )  # fmt: skip
            entry = adopt_id(entry, own_id, settings.base_url)
    stamp = now.timestamp()
    if match is None and pending is not None and planner is None and not release.withdrawn:
        pending.add(db, release.origin, entry, identity, url_key, stamp, authority)
        return Change(entry, "new"), 0
    if pending is not None:
        pending.flush(db)
    if match is None:
        entry_rows.insert(db, entry, identity, url_key, stamp, authority)
        origin_rows.link_origin(db, release.origin, entry.id, entry.content_hash, authority, stamp)
        if release.withdrawn:  # never published: stored withdrawn, nothing to retract
            why = clean_reason(release.withdrawn_reason)
            w = Withdrawal(now.replace(microsecond=0), why, "metadata")
            withdrawal_rows.withdraw(db, entry.id, w, announced=False)
            return Change(replace(entry, withdrawal=w), "withdrawn"), 0
        queued = planner(db, entry, "release.published") if planner else 0
        return Change(entry, "new"), queued
    entry = adopt_id(entry, match.entry_id, settings.base_url)
    entry_rows.note_folded(db, match.entry_id, entry)  # stored before it was kept
    if entry.date_source in UNSTATED or entry.day_guessed:
        entry = _first_date_kept(db, match.entry_id, entry)
    elif entry.year_guessed:
        entry = _year_of_known_version(db, match.entry_id, entry)
    elif entry.date_source == "text" and entry.content_hash != match.content_hash:
        entry = _stated_before_keeps_date(db, match.entry_id, entry)
    if entry.event_guessed:
        entry = _first_event_kept(db, match.entry_id, entry)
    entry = _not_after_first_seen(entry, match.first_seen, settings.timezone)
    if match.authority is None and match.by == "origin":
        # stored before authorities were kept, and this is its own input: the entry is
        # this input's (its URL says nothing of the source that brought it)
        held = RANK[authority]
    else:
        held = RANK[stored_authority(match, official_hosts)]
    rank = RANK[authority]
    same = entry.content_hash == match.content_hash
    stored: Entry | None = None  # the entry as stored, read once if needed
    if not same:
        stored = entry_rows.get(db, match.entry_id)
        same = read_alike(stored, entry)  # stored by an older reading of the same text
    # whatever follows, this input now belongs to the matched entry, with what it holds
    origin_rows.link_origin(
        db, release.origin, match.entry_id, entry.content_hash, authority, stamp, rank < held
    )
    if url_key is not None and match.by != "url":
        # an entry known so far without an address (a file of ours) learns this copy's:
        # a later copy at that address, with other text, is then this release too
        entry_rows.note_url_key(db, match.entry_id, url_key)
    if identity.startswith("key:") and match.by != "identity" and rank >= held:
        # an entry minted from its text whose input now states an id goes by it from
        # now on. Ids 1 and 2 given to a list's items (named by place then): a new item
        # at its head moved each name one on, and each entry took its neighbour's text
        entry_rows.note_identity(db, match.entry_id, identity)
    if reread and match.by == "origin" and match.origin != release.origin and not same:
        return Change(entry, "duplicate"), 0
    if rank < held:
        # a copy below the entry's authority: kept as a mirror; it never revises, re-dates,
        # withdraws or restores the entry, and nothing is delivered
        if same:
            return Change(replace(entry, revision=match.revision), "unchanged"), 0
        return Change(entry, "mirror"), 0
    # a file of ours matching an entry whose own file has left sources/ is that file
    # renamed or moved (and maybe edited on the way): it continues the entry, and the
    # name it had is a former name of it (so is one matched by its id)
    # (by the name that input goes by now: a file renamed unchanged leaves the entry's
    # input under its old name, and a copy matched after that was taken for the file
    # renamed once more, revised the entry, and left the real file a second entry)
    # whether a file is in sources/, when the entry's input and this one are both files
    # of ours (a build's: it knows them); the name the entry's input goes by now
    ours = in_sources if rank == held == RANK["local"] and "://" not in match.origin else None
    named_by = ("fingerprint", "identity", "renamed")
    other = origin_rows.live_name(db, match.origin) if ours and match.by in named_by else None
    renamed = ours is not None and other is not None and not ours(other)
    if renamed:
        origin_rows.note_former(db, match.origin, release.origin)
        origin_rows.rename_origin(db, match.entry_id, match.origin, release.origin)
    elif (
        ours is not None
        and other is not None
        and not same
        and match.by == "identity"
        and other != release.origin
        and ours(other)
    ):
        # two files of ours stating one id (a translation given its original's): each
        # edit of either revises the entry, which then flips between them; said, as
        # nothing else shows it
        log.warning(
            "id_in_two_files origin=%s other=%s entry=%s",
            logged(release.origin), logged(other), match.entry_id,
        )  # fmt: skip
    moved = renamed and match.by in ("fingerprint", "renamed")
    # an entry without a URL of its own may hold a copy's URL key (note_url_key): a
    # match by it is a copy's, not this release's own address
    by_url = match.by == "url" and match.url is not None
    same_input = moved or by_url or match.by in ("origin", "identity")
    # its own input: the tags it states, where the store does not know them (stored
    # before it kept them), and any of them a removed [tags] rule took away, back
    if same_input and entry_rows.note_stated_tags(db, match.entry_id, entry):
        restate(db, match.entry_id, entry.stated or (), settings.tags, now)
    takeover = rank > held  # a higher authority's version of an entry a lower one made
    if not same and (same_input or takeover or force_update) and _tag_grown(entry, match):
        # only an input that may revise the entry stores its tag grown: a copy (matched
        # by its text, or read again in a reread) changes nothing, not even the tag; it
        # made the entry say what the copy says ('en' was 'en-AU', the file's 'en' kept)
        entry_rows.set_language(db, entry)
        same = True
    if same and (same_input or takeover or force_update):
        # its event date, when the store has none: stored before scofeed read them
        entry_rows.note_event_date(db, match.entry_id, entry)
    flip = _flip(release, match.withdrawn_by) if same_input or force_update or takeover else None
    # what this input held when last seen: under its name, or under the name of the file
    # it is renamed unchanged (its very bytes), whatever key matched it
    held_before = match.input_hash if match.by == "origin" else None
    if held_before is None and renames is not None and not same:
        held_before = renames.held_before(db, release.origin, match.entry_id)
    if (
        held_before is not None
        and not same
        and not takeover
        and not force_update
        and held_before in (entry.content_hash, _hash_before_tags_grew(entry))
    ):
        # this input holds what it held when last seen, and the entry has moved on (an
        # input of the same rank edited it since): read again, not edited (a cold
        # re-read, a copy put back, a feed serving its item again, a file renamed
        # unchanged after its copy was edited; the same with its language tag grown,
        # see ``_tag_grown``). It does not take the entry back to its text; its
        # withdrawn switch still counts.
        if flip is None:
            return Change(entry, "duplicate"), 0
        entry, same = entry_rows.get(db, match.entry_id), True
    if same and flip is None:
        if takeover:  # the same text: the entry is the higher input's from now on
            entry_rows.set_authority(db, match.entry_id, authority, release.origin)
        return Change(replace(entry, revision=match.revision), "unchanged"), 0
    if not takeover and not same_input and not force_update:
        # the same release from another input: one entry, the first version stands
        return Change(entry, "duplicate"), 0
    if same:
        # the entry as stored: its revision and the ``updated`` of that revision (the
        # input read now says its first version's: a withdrawal by the flag sent that)
        stored = stored or entry_rows.get(db, match.entry_id)
        revised = replace(entry, revision=stored.revision, updated=stored.updated)
        if takeover:
            entry_rows.set_authority(db, match.entry_id, authority, release.origin)
    else:
        # entry.updated is release.updated made timezone-aware (a reader's date may be
        # naive); a stated time no later than the entry's (a key nobody bumped, a feed
        # item's unchanged <updated>) cannot be this edit's: it is the time it was seen,
        # in whole seconds like every date scofeed gives (a stated one is kept as stated)
        later = release.updated and entry.updated.timestamp() > match.updated_ts
        # and after the version it revises, even with the clock set back since (by
        # hand, a VM restored): a reader comparing dates kept the older version
        after = datetime.fromtimestamp(math.floor(match.updated_ts) + 1, UTC)
        # stated in the zone the entry's date is (the site's, for a date scofeed took):
        # a revised entry showed "updated" in UTC beside "published" in +08:00
        zone = entry.published.tzinfo
        seen = max(now.replace(microsecond=0), after).astimezone(zone)
        revised = entry_rows.with_revision(
            entry, match.revision + 1, entry.updated if later else seen
        )
        entry_rows.update(db, revised, url_key, authority)
        if stored is not None:  # read above, as the text differs: what the pushes name
            revised = replace(revised, changed=changes(stored, revised))
    kind, event = "updated", "release.updated"
    if flip == "withdraw":
        why = clean_reason(release.withdrawn_reason)
        w = Withdrawal(now.replace(microsecond=0), why, "metadata")
        withdrawal_rows.withdraw(db, revised.id, w)
        revised = replace(revised, withdrawal=w)
        kind, event = "withdrawn", "release.withdrawn"
    elif flip == "restore":
        # never announced (first): this publishes it
        revised, first = withdrawal_rows.restore(db, revised, now.replace(microsecond=0))
        kind, event = "restored", "release.published" if first else "release.restored"
    elif match.withdrawn_by is not None:  # an edit of a withdrawn entry: kept, sent nowhere
        return Change(revised, "updated"), 0
    queued = planner(db, revised, event) if planner else 0
    return Change(revised, kind), queued


# date sources that say when a version was seen (its file written, its page read), not
# when the release was published
UNSTATED = frozenset({"mtime", "now"})


def _first_date_kept(db: sqlite3.Connection, entry_id: str, entry: Entry) -> Entry:
    """A version that states no date of its own keeps the entry's publication date: an
    edited file's time is when it was edited, not when the release came out, and a
    correction must not move the release up the feed; a version the same but for that
    time (the other items of an edited list file) is unchanged. A stated date
    (metadata, page, URL, text) still moves it: that is the release's own date,
    corrected."""
    stored = entry_rows.get(db, entry_id)
    return redated(entry, stored.published, stored.date_source)


def _stated_before_keeps_date(db: sqlite3.Connection, entry_id: str, entry: Entry) -> Entry:
    """A version dated by a date its text states, of an entry an earlier reading dated by
    its file's time though its text stated that date already (then after the file's time:
    "will be held on 20 June 2025" in a file of April): the file's time has moved (a
    touch, a copy, a file put back, a fresh clone read by ``build --reread``), not the
    release. It keeps the entry's date: nothing was corrected (a reading that differs
    otherwise, a cleaner title, is still a correction). A day the stored text did not
    state is the release's own date, corrected, and moves it."""
    stored = entry_rows.get(db, entry_id)
    if stored.date_source not in UNSTATED:
        return entry
    day, was = entry.published.date(), stored.published.date()
    if day <= was:  # not a day passed over for being after the file's time: a correction
        return entry
    texts = (stored.title, plain(stored.content_html))
    if any(f.day == day for text in texts for f in find_dates(text, was)):
        return redated(entry, stored.published, stored.date_source)
    return entry


def _first_event_kept(db: sqlite3.Connection, entry_id: str, entry: Entry) -> Entry:
    """A version whose event date is a relative date ("yesterday", "on Thursday") read
    by its file's time keeps the entry's event date: that time moves with an edit, a
    copy or a fresh clone read again, the release's event does not. One that had none
    keeps none ("Yesterday, ..." added by an edit ten days on was an event after the
    publication date the entry kept)."""
    stored = entry_rows.get(db, entry_id).event_date
    if stored == entry.event_date:
        return entry
    return replace(entry, event_date=stored)  # (not in the content hash)


def _not_after_first_seen(entry: Entry, first_seen: float | None, tz: str) -> Entry:
    """``entry``, a version of an entry first stored at ``first_seen``, dated as a
    reading then would have dated it: a time less than a day after that moment is that
    moment (``normalise.dating``). A stated time still ahead when first seen ("On 4
    December, 15:00" read at 08:00) was the moment it was seen; read again once that time
    had passed (``build --reread``, an edit of another item of its list file), it was
    that time, and the release nobody changed was sent out as corrected. A date further
    on, an edit's, is the release's own, corrected."""
    if first_seen is None:
        return entry
    seen_at = math.floor(first_seen)
    if not seen_at < entry.published.timestamp() <= first_seen + AHEAD.total_seconds():
        return entry
    return redated(entry, datetime.fromtimestamp(seen_at, ZoneInfo(tz)), entry.date_source)


_NEAR_STORED = timedelta(days=FAR_DAYS)  # a day this near the stored date takes its year


def _year_of_known_version(db: sqlite3.Connection, entry_id: str, entry: Entry) -> Entry:
    """A version dated by a day its text states without a year, which took its file's
    year (the latest such day on or before the file's time), takes the year that puts
    that day nearest the stored entry's date when that is earlier: the store read an
    earlier version of the release, and a file written (an edit, a copy, a fresh clone
    read again) within 60 days after the anniversary of its day read it a year late. The
    file's time only bounds the date from above, so the earlier reading holds; a day
    corrected by the edit ("5 March" for "3 March") is kept, in that year. A day then
    still over 60 days from the stored date ("3 September" for "3 March") is no evidence
    of a year: it stays as read. The event date, read by the same file's time, moves
    back with it."""
    stored = entry_rows.get(db, entry_id).published.astimezone(entry.published.tzinfo)
    best = None
    for year in (stored.year - 1, stored.year, stored.year + 1):
        try:
            candidate = entry.published.replace(year=year)
        except ValueError:  # 29 February
            continue
        if best is None or abs(candidate - stored) < abs(best - stored):
            best = candidate
    if best is None or best >= entry.published or abs(best - stored) > _NEAR_STORED:
        return entry  # later, or far from what the store read: no evidence of its year
    event = entry.event_date
    if event is not None and event > best.date():
        back = entry.published.year - best.year
        try:
            event = event.replace(year=event.year - back)
        except ValueError:
            event = None
    return replace(redated(entry, best, entry.date_source), event_date=event)


def _holds_another(
    db: sqlite3.Connection, release: Release, match: Match, identity: str, entry: Entry
) -> bool:
    """Whether the input that made ``match`` (matched by it) now holds another release:
    it states another id or address of the same kind (``states_another``), and its
    text is not the entry's with a corrected title or first paragraph (the same
    fingerprint, or the same day and the same title or first paragraph:
    ``corrected_of``). A page re-saved from an address the site changed, or a URL
    corrected in front matter, is still its entry's."""
    if match.by != "origin" or not match_rows.states_another(
        release.origin, match.identity, identity
    ):
        return False
    held = match_rows.as_near(db, match.entry_id)
    if held is None:
        return False
    near, fingerprints = held
    if entry.fingerprint in fingerprints or entry.folded in fingerprints:
        return False
    return corrected_of([near], entry) is None


def _flip(release: Release, withdrawn_by: str | None) -> str | None:
    """What an input's metadata does to its entry: withdraw a published one, restore
    one that metadata withdrew (never one withdrawn by ``scofeed withdraw``)."""
    if withdrawn_by is None:
        return "withdraw" if release.withdrawn else None
    if withdrawn_by == "metadata" and not release.withdrawn:
        return "restore"
    return None


def ingest(
    cfg: Config,
    store: Store,
    releases: Sequence[Release],
    now: datetime,
    planner: Planner | None = None,
    force_update: bool = False,
    moved: Mapping[str, str] | None = None,
) -> list[Change]:
    """Normalise and store releases from any source (add, pollers) in one transaction.
    Deliveries are queued only through ``planner`` (none: nothing is queued). ``moved``
    maps a release's origin to the input it continues (a page at a new address): an
    origin not known yet becomes that input's, so its release revises that entry. A
    release's ``alias`` (a feed item's id beside its link) is kept with its origin: an
    item whose link changed (with its title) is found by it, as an input moved."""
    settings = settings_from(cfg)
    # each within the per-file time budget, as a build's files are: a polled item or a
    # page read again was normalised with none (a feed item of 120,000 list lines held
    # the daemon's poll job for ~50 s at every poll), refused here as one is there
    seconds = cfg.limits.file_seconds
    prepared = [
        (r, within_budget(seconds, r.origin, normalise, r, settings, now)) for r in releases
    ]
    hosts = cfg.site.official_hosts
    changes = []
    with store.transaction() as db:
        # stored entries as these releases will be (a page read again is not an edit
        # for the [tags] rules changed, the site moved or copies compared anew)
        in_step(db, cfg, settings, now)
        for origin, former in (moved or {}).items():
            origin_rows.continue_origin(db, origin, former)
        for release, entry in prepared:
            if release.alias is not None:
                origin_rows.continue_origin(db, release.origin, release.alias)
            change, _queued = ingest_one(
                db, release, entry, settings, now, planner, force_update,
                authority=cfg.authority_of(release.source), official_hosts=hosts,
            )  # fmt: skip
            if release.alias is not None:
                origin_rows.continue_origin(db, release.alias, release.origin, replace=True)
            changes.append(change)
    return changes

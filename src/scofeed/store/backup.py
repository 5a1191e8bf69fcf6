"""``scofeed backup``: a copy of the state store, made while the daemon runs, without
the ``sqlite3`` shell (not on every machine).

The copy is the store as one read transaction sees it (SQLite's online backup API,
through ``copy_store``: read only, never upgraded), whatever the daemon writes
meanwhile. It is one self-contained file (journal mode DELETE: no ``-wal`` beside it),
readable by its owner alone from the moment it exists (the store holds the WebSub
subscribers' secrets; the ActivityPub actor's private key is a file of its own, not
in it), checked (``PRAGMA quick_check``) before it takes its name, and never written
over an existing file: an interrupted backup leaves nothing that looks like one, and
what it leaves (a hidden temporary file) is removed by the next backup there.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from scofeed.errors import StoreError, StoreUnusable, UsageError
from scofeed.frozen import frozen
from scofeed.store import DAMAGED, WAIT, copy_store, not_a_folder
from scofeed.store.lock import still_names

log = logging.getLogger(__name__)


@frozen
class Backup:
    """What a backup holds: where it is, the store's schema version, its entries."""

    path: Path
    schema: int
    entries: int
    size: int


def default_name(now: datetime, n: int = 1) -> str:
    """``scofeed-20261202T130501Z.sqlite3``, sorting by time; the ``n``-th backup of
    one second ``scofeed-20261202T130501Z_2.sqlite3`` (after the first: "_" > ".")."""
    more = f"_{n}" if n > 1 else ""
    return f"scofeed-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}{more}.sqlite3"


def free_name(folder: Path, now: datetime) -> Path:
    """The first ``default_name`` of ``now`` in ``folder`` that no file (nor a backup
    under way) holds: two backups in one second failed the second, exit 2, which a
    cron job or a timer took for a usage error."""
    n = 1
    while (name := folder / default_name(now, n)).exists() or _tmp_of(name).exists():
        n += 1
    return name


def _tmp_of(target: Path) -> Path:
    """The hidden temporary file a backup to ``target`` is written in, then named."""
    return target.parent / f".{target.name}.tmp"


def backup(
    store: Path, target: Path, now: datetime, wait: float = WAIT, folder: bool = False
) -> Backup:
    """Copy the store at ``store`` to ``target``: a new file, or a folder (``folder``,
    or a path there is a folder at or without a suffix; made, owner only, when missing)
    to hold one named by the time (``free_name``). A store kept busy by another
    connection is waited for ``wait`` seconds (``limits.store_wait``)."""
    if not store.is_file():
        raise StoreError(f"{store}: no state store here to back up")
    if store.stat().st_size == 0:  # what SQLite makes of a path opened and never written
        raise StoreError(f"{store}: the state store is empty (0 bytes): nothing to back up")
    named = folder or target.is_dir() or not target.suffix  # a folder: we name the file
    if named and target.is_dir():
        _remove_left(target)
    chosen = free_name(target, now) if named else target
    for _ in range(NAME_TRIES):
        claim = _claimed(chosen, retry=named)
        if claim is not None:
            break
        # another backup of this second took the name between our look and our claim
        chosen = free_name(target, now)
    else:
        raise StoreError(f"{target}: cannot write the backup (no free name for {now:%H:%M:%S})")
    target, into = chosen, chosen.parent
    tmp, held = claim
    try:
        copy_store(store, tmp, shown=target, wait=wait)
        made = _checked(tmp, target, store)
        _durable(tmp)
        _take_name(tmp, target)
        _durable(into)
    except FileExistsError:
        raise UsageError(f"{target}: exists; a backup never writes over a file") from None
    except OSError as exc:
        raise StoreError(f"{target}: cannot write the backup ({exc.strerror})") from None
    finally:
        tmp.unlink(missing_ok=True)
        os.close(held)  # its lock goes with it
    return Backup(target, made[0], made[1], target.stat().st_size)


NAME_TRIES = 100  # backups in one second racing for a name (``_claimed``)


def _claimed(target: Path, retry: bool) -> tuple[Path, int] | None:
    """Claim ``target`` for a backup by making its hidden temporary file (owner only),
    which no other backup may then take: that file's path, and a descriptor holding an
    exclusive lock on it while the backup is under way. A temporary file no backup
    holds so is an interrupted one's (killed: a timeout, the OOM killer): removed, and
    the name taken (it stayed, and a backup to that name was refused for good). None,
    with ``retry``, when another backup holds the name already (take the next);
    otherwise a backup to a name taken is an error."""
    if target.exists():
        if retry:
            return None
        raise UsageError(f"{target}: exists; a backup never writes over a file")
    into, tmp = target.parent, _tmp_of(target)
    for _ in range(2):  # again once an interrupted backup's file is removed
        try:
            into.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            why = exc.strerror
            if isinstance(exc, (FileExistsError, NotADirectoryError)) and not into.is_dir():
                why = not_a_folder(target)  # a path through a file: "(File exists)" said nothing
            elif isinstance(exc, FileExistsError):  # "(File exists)" of a target not there
                if _removed_if_left(tmp):
                    continue
                if retry:
                    return None
                why = (
                    f"{tmp} exists: a backup to this name is under way, or was interrupted "
                    "less than a minute ago (then it is removed by a backup after that)"
                )
            raise StoreError(f"{target}: cannot write the backup ({why})") from None
        fcntl.flock(fd, fcntl.LOCK_EX)  # made with O_EXCL just now: no backup holds it
        if still_names(tmp, fd):
            return tmp, fd
        # another backup took it for a leftover between our making and locking it
        # (only one older than LEFT_AGE is, so hardly ever): the name is not ours
        os.close(fd)
        if retry:
            return None
        raise StoreError(f"{target}: cannot write the backup ({tmp}: another backup took it)")
    raise StoreError(f"{target}: cannot write the backup ({tmp} keeps coming back)")


LEFT_PATTERN = ".scofeed-*.sqlite3.tmp"  # a temporary file of a backup named by its time


def _remove_left(folder: Path) -> None:
    """Remove what interrupted backups left in ``folder`` (their temporary files, as
    big as the store, which no later backup used: a nightly backup killed now and then
    filled the disk)."""
    try:
        left = list(folder.glob(LEFT_PATTERN))
    except OSError:
        return
    for tmp in left:
        _removed_if_left(tmp)


LEFT_AGE = 60  # seconds a temporary file no backup holds must be old to be a leftover


def _removed_if_left(tmp: Path) -> bool:
    """Remove ``tmp`` (and its journal) when no backup holds it (its lock is free) and
    it is older than ``LEFT_AGE`` (one a backup has only just made, and not locked yet,
    is its own): whether it was so."""
    try:
        fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if time.time() - os.fstat(fd).st_mtime < LEFT_AGE:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a backup under way holds it
        if not still_names(tmp, fd):
            return False  # removed, or made again, since we opened it
        for path in (tmp, tmp.with_name(tmp.name + "-journal")):
            path.unlink(missing_ok=True)
    finally:
        os.close(fd)
    log.warning("backup_leftover_removed path=%s (an interrupted backup's)", tmp)
    return True


def _checked(copy: Path, target: Path, store: Path) -> tuple[int, int]:
    """Make the copy one file and check it: (its schema version, its entries). A copy
    with no ``entries`` table was no scofeed store (another program's database at
    ``paths.state``): "cannot write the backup" blamed the target."""
    db = sqlite3.connect(copy)
    try:
        db.execute("PRAGMA journal_mode=DELETE")  # the store's WAL mode came with its pages
        (check,) = db.execute("PRAGMA quick_check").fetchone()
        if check != "ok":
            raise _damaged(store, check)
        (schema,) = db.execute("PRAGMA user_version").fetchone()
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'entries'").fetchone() is None:
            raise StoreError(f"{store}: not a scofeed state store (no entries); no backup made")
        (entries,) = db.execute("SELECT count(*) FROM entries").fetchone()
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code in DAMAGED:  # the store's pages, copied as they are: "cannot write" misled
            raise _damaged(store, str(exc)) from None
        raise StoreError(f"{target}: cannot write the backup ({exc})") from None
    finally:
        db.close()
    return schema, entries


def _damaged(store: Path, why: str) -> StoreUnusable:
    """The copy failed its check: it holds the store's own pages, so the store is what
    is damaged, said as every command says it (exit 2), not the target (a full backup
    disk was looked at for a damaged store)."""
    return StoreUnusable(
        f"{store}: the state store is damaged ({why}); no backup made (a copy holds the "
        "same damaged pages). Restore it from an earlier backup, or move it aside to start "
        "a new one from sources/ (docs/operations.md, backups)"
    )


# what link(2) answers on a file system without hard links: vfat and exFAT (EPERM),
# some SMB and FUSE mounts (EOPNOTSUPP, ENOSYS)
NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS}


def _take_name(tmp: Path, target: Path) -> None:
    """Give the checked copy its name, never over a file made meanwhile: a hard link
    where the file system has them (a rename would replace such a file); where it has
    none, the name is claimed by an empty file made exclusively, and the copy renamed
    over it at once."""
    try:
        os.link(tmp, target)
        return
    except OSError as exc:
        if exc.errno not in NO_LINKS:
            raise
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        os.replace(tmp, target)
    except OSError:
        # the empty file claiming the name is no backup: left, it looked like one (and
        # the next backup to that name was refused as over a file)
        if target.stat().st_size == 0:
            target.unlink()
        raise


def _durable(path: Path) -> None:
    """fsync a file or a folder: the backup is on the disk when the command says so. A
    folder some file systems cannot sync (EINVAL: some network and FUSE mounts) holds
    the backup all the same: that is not a failed backup."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if not (path.is_dir() and exc.errno in (errno.EINVAL, *NO_LINKS)):
            raise
    finally:
        os.close(fd)

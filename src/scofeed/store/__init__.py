"""The SQLite state store: stdlib sqlite3, WAL mode, one connection per thread.

``Store`` owns the file and the schema; the queries live beside it by subject
(entries, files and rejects, source state). Writes that must land together use
``with store.transaction() as db:``.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from scofeed.errors import StoreBusy, StoreError, StoreUnusable
from scofeed.store.fresh import FRESH, FRESH_VERSION
from scofeed.store.lock import running
from scofeed.store.making import make_whole, refuse_foreign, refuse_not_ours
from scofeed.store.schema import MIGRATIONS, statements
from scofeed.store.trouble import DAMAGED as DAMAGED  # re-exported: the store's API
from scofeed.store.trouble import (
    NO_ROOM,
    TAILS,
    WAIT,
    beside,
    cannot_write,
    disk_full,
    on_read_only_mount,
    refuse_unwritable,
    whose_folder,
    writable,
)
from scofeed.store.trouble import busy as busy
from scofeed.store.trouble import not_a_folder as not_a_folder
from scofeed.store.trouble import store_trouble as store_trouble
from scofeed.store.trouble import unusable as unusable

log = logging.getLogger(__name__)
BULK_CACHE_KIB = 16 * 1024  # SQLite page cache while a cold build stores its rows

# a write transaction that has waited this long for the store's write lock says so (one
# WARNING line naming who holds it, at most once a minute): `scofeed add` beside an
# operator's `sqlite3` shell holding BEGIN EXCLUSIVE sat silent for 30 s, then failed
BUSY_SAID_MS = 2000
BUSY_SAID_EVERY = 60.0


def copy_store(path: Path, target: Path, shown: Path | None = None, wait: float = WAIT) -> None:
    """A copy of the store at ``path``, as one transaction sees it (others may write
    meanwhile: the SQLite backup API), in the new file ``target``; the store is read
    only, not upgraded (no ``Store`` is opened on it). No store there: no copy. A store
    on a read-only disk is read as ``Store`` reads it there (``read_only``). What keeps
    the copy from being written (no room on its disk) names ``target`` (or ``shown``: the
    name it is to take), not the store:
    "cannot read the state store (database or disk is full)" sent the operator of a
    full backup disk to look at a healthy store.

    It leaves nothing beside the store (``build --dry-run``, ``backup``): a read-only
    connection makes the store's ``-wal`` and ``-shm`` files when they are not there,
    and cannot remove them when it closes, so an empty ``-wal`` and a ``-shm`` stayed
    beside a store that had none. With neither there (no connection open, the store
    wholly checkpointed) the copy reads through a read-write connection, which removes
    them as the last one to close (``_leaving_nothing``); with them there, they are
    another connection's, and read-only it touches nothing. A store this user cannot
    write, with neither there, is read as it is (``read_only``): a read-write connection
    to it is read-only, and made them as well."""
    if not path.exists():
        return
    quiet = nothing_beside(path) and writable(path)
    try:
        source = _leaving_nothing(path, wait) if quiet else read_only(path, wait)
    except sqlite3.Error as exc:
        raise unusable(path, exc, "read", wait=wait) from None
    try:
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        # the store is only read, and was read already: a full disk is the copy's
        if code == sqlite3.SQLITE_FULL or code in NO_ROOM and disk_full(target):
            raise StoreError(
                f"{shown or target}: cannot write the copy of the state store (no space left on "
                f"the disk of {target.parent})"
            ) from None
        raise unusable(path, exc, "read", wait=wait) from None
    finally:
        source.close()


def _leaving_nothing(path: Path, wait: float = WAIT) -> sqlite3.Connection:
    """A connection that only reads the store at ``path`` (``copy_store``) and, the last
    to close, takes away the -wal and -shm files it made: read-write, as a read-only
    one cannot. Where it cannot write (the file's mode, a read-only disk), as
    ``read_only`` reads."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=wait)
    try:
        conn.execute("PRAGMA user_version")
    except sqlite3.OperationalError:
        conn.close()
        return read_only(path, wait)
    return conn


def read_only(path: Path, wait: float = WAIT) -> sqlite3.Connection:
    """A connection to the store at ``path`` that never writes, the store opened (its
    header read). SQLite reads a WAL store read-only through its -shm file, which it
    makes (and the -wal) when they are not there and the folder can be written, but
    cannot remove when it closes. Where neither is there (the store closed cleanly: no
    connection has it open), or cannot be made (a read-only mount), it is read as it is
    (``immutable``): no one is writing it, as a writer would have made the -wal file
    (``Store._read_only`` reasons the same)."""
    uri = path.resolve().as_uri()
    if nothing_beside(path):
        return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=wait)
    conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=wait)
    try:
        conn.execute("PRAGMA user_version")
    except sqlite3.OperationalError as exc:
        conn.close()
        code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
        if code not in _CANNOT_WRITE or path.with_name(path.name + "-wal").exists():
            raise
        conn = sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, timeout=wait)
    return conn


def nothing_beside(path: Path) -> bool:
    """Neither a -wal nor a -shm file beside the store: no connection has it open."""
    return not any(beside(path, tail).exists() for tail in TAILS)


def schema_of(copy: Path) -> int | None:
    """The schema version of a store file nothing else has open (a copy); None: none."""
    if not copy.is_file():
        return None
    with contextlib.closing(sqlite3.connect(copy)) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def get_meta(db: sqlite3.Connection, key: str) -> str | None:
    """The ``meta`` table's value for ``key``, or None."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def put_meta(db: sqlite3.Connection, *pairs: tuple[str, str]) -> None:
    """Set ``(key, value)`` rows of the ``meta`` table."""
    db.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        pairs,
    )


def rollback(db: sqlite3.Connection) -> None:
    """Roll back the transaction under way, if SQLite has not already: after an I/O
    error or a full disk it rolls back by itself, and a ROLLBACK then would raise
    "no transaction is active" in place of the error that says what happened."""
    if db.in_transaction:
        db.execute("ROLLBACK")


def _wal(conn: sqlite3.Connection, wait: float) -> None:
    """Switch to WAL, trying again up to ``wait`` seconds in all: on a fresh file another
    process may be switching it at the same moment, and SQLite answers "database is
    locked" at once. (A store held in exclusive locking mode made each try wait the busy
    timeout: 300 tries, 2.5 hours.)"""
    deadline = time.monotonic() + wait
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            locked = "locked" in str(exc) or "busy" in str(exc)
            if not locked or time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


# what SQLite answers when the store (or the folder its -shm file goes in) cannot be
# written by this user: opened read-only instead (``Store.read_only``)
_CANNOT_WRITE = (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN)


class Store:
    def __init__(
        self,
        path: Path | str,
        read_only_ok: bool = True,
        immutable_ok: bool = True,
        daemon: bool = False,
        scratch: bool = False,
        wait: float = WAIT,
        upgrade: bool = True,
    ) -> None:
        """``read_only_ok``: a store this user cannot write (a read-only folder or file,
        a replica) is opened read-only, so the commands that only read (list, show,
        status, serve) work and a write fails with its reason; it was "attempt to write
        a readonly database" at the open, for every command. The daemon (``scofeed
        run``) opens it for writing or not at all: a connection opened read-only while
        its folder was remounted so would have stayed so once it was writable again.
        ``immutable_ok``: where SQLite can read it read-only only as a file no one
        writes (``_read_only``); for a one-shot command, not for ``scofeed serve``,
        which lives on while its owner may build (its reads would then disagree).
        ``daemon``: this process holds the daemon's lock (``scofeed run``); any other
        leaves a store that needs an upgrade alone while a daemon runs on it.
        ``scratch``: a copy to be thrown away (``scofeed build --dry-run``): its upgrade
        is not announced, the store it copies is still to be upgraded.
        ``wait``: seconds a statement waits for a lock another process holds before it
        fails (``limits.store_wait``). ``upgrade``: False for a command that only reads
        (list, show, status): a store of an older schema is refused, not upgraded (an
        upgrade cannot be undone but by a backup, and ``scofeed status`` right after a
        ``git pull`` made one before the operator's backup)."""
        self.path = Path(path)
        self.wait = wait
        self._busy_ms = max(1, round(wait * 1000))
        self.daemon = daemon
        self.scratch = scratch
        self.upgrade = upgrade
        self._local = threading.local()
        self.read_only_ok = read_only_ok
        self.immutable_ok = immutable_ok
        self.read_only = False  # the last connection opened was read-only
        self.read_only_because = "this user cannot write it or its folder: opened read-only"
        self._busy_said = -BUSY_SAID_EVERY  # monotonic time of the last store_busy line
        try:
            if not read_only_ok:  # before SQLite opens it, or makes anything beside it
                refuse_unwritable(self.path)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            make_whole(self.path)  # a new one, when none is there
            refuse_not_ours(self.path, wait)  # before this process holds a connection to it
            self._migrate(self.db)
        except (OSError, sqlite3.Error) as exc:
            raise unusable(self.path, exc, "open", self.wait) from None

    @property
    def db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()  # each new one tries to write first
            self._local.conn = conn
        return conn

    def _connect(self) -> sqlite3.Connection:
        if self.read_only_ok and self.path.is_file() and not writable(self.path):
            # SQLite would open it read-only without a word, and its reads then made
            # the -wal and -shm files, of the store's mode (0444), which it cannot take
            # away: left beside the store, they kept every writer out once the store
            # was writable again ("attempt to write a readonly database")
            why = cannot_write(self.path) or "this user cannot write it"
            return self._read_only(why)
        conn = sqlite3.connect(self.path, timeout=self.wait, isolation_level=None)
        try:
            _wal(conn, self.wait)
        except sqlite3.OperationalError as exc:
            conn.close()
            code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
            full = code in NO_ROOM and disk_full(self.path)
            if not self.read_only_ok or not (code in _CANNOT_WRITE or full):
                raise
            if not self.path.is_file():
                raise
            if full:  # what `status` and `list` are run to see, a write says why not
                return self._read_only(f"no space left on the disk of {self.path.parent}", full)
            return self._read_only(f"{exc}: {whose_folder(self.path)}")
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        return conn

    def _read_only(self, why: str, full: bool = False) -> sqlite3.Connection:
        """A connection that never writes (``why``: what keeps this one from writing,
        said by a write). SQLite reads a WAL store read-only through its -shm file: one
        there already (a connection has the store open), or one it makes, with the
        -wal, in a folder it can write, and cannot take away when it closes. Where
        neither file is there (the store closed cleanly) it reads the file as it is
        (``immutable``), making nothing: no one is writing it, as a writer would have
        made the -wal and -shm files; ``scofeed serve`` (``immutable_ok`` false) says
        it cannot, instead. On a full disk (``full``) an empty -wal file, made by a try
        that found no room for the -shm file, holds nothing to read either."""
        uri = self.path.resolve().as_uri()
        kept = f"{uri}?mode=ro&immutable=1"
        if self.immutable_ok and nothing_beside(self.path):
            conn = sqlite3.connect(kept, uri=True, timeout=self.wait, isolation_level=None)
        elif nothing_beside(self.path) and writable(self.path.parent):
            raise StoreError(
                f"{self.path}: cannot open the state store to serve it ({why}, or a `scofeed "
                "run` must have it open: read-only, SQLite would leave -wal and -shm files "
                "beside it, read-only as it is, that keep it from being written later)"
            )
        elif nothing_beside(self.path) and not self.immutable_ok and on_read_only_mount(self.path):
            raise StoreError(
                f"{self.path}: cannot open the state store to serve it ({why}, and no "
                "`scofeed run` has it open)"
            )
        else:
            conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, timeout=self.wait,
                                   isolation_level=None)  # fmt: skip
            try:
                conn.execute("PRAGMA user_version")
            except sqlite3.OperationalError as exc:
                conn.close()
                wal = beside(self.path, "-wal")
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                made = full and code in NO_ROOM and wal.is_file() and not wal.stat().st_size
                cannot = code in _CANNOT_WRITE and not wal.exists()  # a read-only mount
                if not self.immutable_ok or not (cannot or made):
                    raise
                conn = sqlite3.connect(kept, uri=True, timeout=self.wait, isolation_level=None)
        log.info("store_read_only path=%s reason=%r", self.path, why)
        self.read_only = True
        self.read_only_because = why
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        return conn

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring the schema up to date, one migration per exclusive transaction; a new
        store (version 0) gets the schema of ``FRESH_VERSION`` migrations in one go
        (``store.fresh``, half the time of replaying them), then the migrations past it.
        The version is read again inside each transaction: two processes opening a fresh
        store at once (two ``scofeed build``) queue on the lock (busy timeout), and the
        second finds the work done instead of creating the tables twice.

        A store already up to date is only read, without the lock: a command that
        reads (``scofeed list``, ``status``) must not wait for a write transaction
        another process holds (WAL lets it read meanwhile); it waited up to the busy
        timeout and failed with "database is locked"."""
        if self._version(db) == len(MIGRATIONS):
            return
        if self._version(db) == 0:
            refuse_foreign(self.path, db)
        if self.read_only:
            raise StoreError(
                f"{self.path}: the state store cannot be written here and needs an upgrade "
                f"to schema {len(MIGRATIONS)}: run scofeed once where it can write it"
            )
        holder = running(self.path) if not self.daemon and self._version(db) > 0 else None
        if holder is not None and holder.schema != len(MIGRATIONS):
            # an older daemon would go on writing by its own rules into the new schema
            # (what a migration keeps up to date, it would not): upgraded under it by
            # any `scofeed status` in the window between `git pull` and its restart. A
            # daemon of this version (its lock says its schema) is upgrading it itself
            # or has: this command queues for the store's lock as ever
            raise StoreError(
                f"{self.path}: the state store needs an upgrade to schema {len(MIGRATIONS)} "
                f"and a scofeed daemon (pid {holder[0] or 'unknown'}) is running on it: "
                "restart the daemon with this version (it upgrades the store), then run "
                "this command again"
            )
        if not self.upgrade and self._version(db) > 0:  # after the older daemon's: restart it
            raise StoreError(
                f"{self.path}: the state store is of an older scofeed (schema "
                f"{self._version(db)}; this one makes {len(MIGRATIONS)}) and this command "
                "only reads: back it up first (`scofeed backup`), then `scofeed build` or "
                "the daemon upgrades it (an upgrade cannot be undone but by that backup)"
            )
        start = None
        while True:
            db.execute("BEGIN EXCLUSIVE")
            try:
                version = self._version(db)
                if version == len(MIGRATIONS):
                    db.execute("COMMIT")
                    if start == 0:  # a new store: made, nothing upgraded
                        log.info("store_created path=%s version=%d", self.path, version)
                    elif start is not None:  # one line for the whole upgrade, a warning:
                        # a one-shot command says so too (it cannot be undone)
                        log.log(
                            logging.DEBUG if self.scratch else logging.WARNING,
                            "store_migrated path=%s from=%d to=%d",
                            self.path,
                            start,
                            version,
                        )
                    return
                start = version if start is None else start
                if version == 0 and FRESH_VERSION:
                    script, version = FRESH, FRESH_VERSION
                else:
                    script, version = MIGRATIONS[version], version + 1
                for statement in statements(script):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {version}")
                db.execute("COMMIT")
            except BaseException:
                rollback(db)
                raise

    def _version(self, db: sqlite3.Connection) -> int:
        """The store's schema version; one from a newer scofeed is refused."""
        version: int = db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise StoreUnusable(
                f"{self.path}: schema version {version} is newer than this scofeed "
                f"({len(MIGRATIONS)}); upgrade scofeed, or restore the backup taken before "
                "the upgrade"
            )
        return version

    def set_wait(self, wait: float) -> None:
        """Wait up to ``wait`` seconds for the write lock from the next transaction on
        (a daemon's reload of ``limits.store_wait``: each transaction sets it)."""
        self.wait = wait
        self._busy_ms = max(1, round(wait * 1000))

    @contextlib.contextmanager
    def waiting_at_most(
        self, seconds: float, turns: threading.BoundedSemaphore | None = None
    ) -> Iterator[None]:
        """In this thread, each transaction waits at most ``seconds`` for its turn among
        ``turns`` (as many such writers at once as it holds; ``StoreBusy`` past the
        wait), then as long for the write lock (less than ``limits.store_wait``): an
        HTTP request that writes (a WebSub subscription, an ActivityPub inbox) answers
        503 soon rather than hold one of the server's few workers for the whole wait."""
        before = getattr(self._local, "wait_ms", None), getattr(self._local, "turns", None)
        self._local.wait_ms = max(1, round(seconds * 1000))
        self._local.turns = turns
        try:
            yield
        finally:
            self._local.wait_ms, self._local.turns = before

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        if self.read_only:  # said plainly, before any work: not "attempt to write a..."
            raise StoreError(
                f"{self.path}: cannot write the state store ({self.read_only_because})"
            )
        turns = getattr(self._local, "turns", None)
        if turns is not None and not turns.acquire(timeout=self._local.wait_ms / 1000):
            raise StoreBusy(f"{self.path}: other requests are writing to the state store")
        try:
            self._begin(db)
            try:
                yield db
            except BaseException:
                rollback(db)
                raise
            else:
                db.execute("COMMIT")
        finally:
            if turns is not None:
                turns.release()

    def _begin(self, db: sqlite3.Connection) -> None:
        """BEGIN IMMEDIATE, waiting for the write lock up to the busy timeout as ever,
        but saying so once it has waited ``BUSY_SAID_MS``: who holds it (the daemon, by
        its pid, or another process) and how much longer this one waits. At most
        ``waiting_at_most``'s wait, in a thread that set one."""
        wait = min(self._busy_ms, getattr(self._local, "wait_ms", None) or self._busy_ms)
        said = min(BUSY_SAID_MS, wait)
        db.execute(f"PRAGMA busy_timeout={said}")
        try:
            db.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not busy(exc) or said == wait:  # not the lock, or the whole wait is over
                raise
        finally:
            db.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        now = time.monotonic()
        # the daemon's jobs wait on each other (a delivery on a big scan) as a matter of
        # course: said at INFO there, where a one-shot command warns (it sat silent)
        loud = logging.INFO if self.daemon else logging.WARNING
        level = loud if now - self._busy_said >= BUSY_SAID_EVERY else logging.DEBUG
        if level == loud:
            self._busy_said = now
        left = (wait - said) // 1000
        log.log(
            level,
            "store_busy path=%s holder=%r waiting=%ds more",
            self.path, self._lock_holder(), left,
        )  # fmt: skip
        db.execute(f"PRAGMA busy_timeout={wait - said}")
        try:
            db.execute("BEGIN IMMEDIATE")
        finally:
            db.execute(f"PRAGMA busy_timeout={self._busy_ms}")

    def _lock_holder(self) -> str:
        """Who may hold the store's write lock, as far as this process can tell."""
        if self.daemon:
            return "a job of this daemon, or another process (scofeed build, a sqlite3 shell)"
        try:
            holder = running(self.path)
        except StoreError:
            holder = None
        if holder is not None:
            return f"the scofeed daemon (pid {holder.pid or 'unknown'}) or another process"
        return "another process (scofeed build or add, a sqlite3 shell)"

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[Checkpointer]:
        """A large batch of writes (a cold build): no WAL checkpoint at each commit while
        it runs. SQLite's automatic one, every 1,000 pages, copied and synced the growing
        file ten times in a cold build of 10,000 releases, each time in the middle of a
        commit (~30% of its time); the WAL grows meanwhile (about the size of the new
        rows). The caller may call ``committed()`` on what this yields after each commit:
        a thread of its own then copies what was committed into the database while the
        caller goes on (see ``Checkpointer``); what is left is copied at the end. The page
        cache is ``BULK_CACHE_KIB`` meanwhile: the default 2 MB could not hold the
        entries' indexes, whose keys (ids, fingerprints) land in random places, and the
        inserts kept reading their pages back (~15% of the inserts' time).

        Statement journals are kept in memory meanwhile (``temp_store=MEMORY``): an
        insert into ``entries`` fires a trigger (migration 14), so SQLite journals the
        pages each insert changes (the row's and one in each index, ~60 KB), to undo
        that statement alone if a step of it fails. Past 64 KB (an index page splitting)
        the journal moved to a temporary file for the rest of the transaction, and each
        row then cost ~30 ``pwrite`` calls (338,000 in a cold build of 10,000 releases,
        45,000 without): half the inserts' CPU time. What is journaled stays the same;
        only where the journal lives changes."""
        db = self.db
        (pages,) = db.execute("PRAGMA wal_autocheckpoint").fetchone()
        (cache,) = db.execute("PRAGMA cache_size").fetchone()
        (temp,) = db.execute("PRAGMA temp_store").fetchone()
        db.execute("PRAGMA wal_autocheckpoint=0")
        db.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        db.execute("PRAGMA temp_store=MEMORY")
        checkpointer = Checkpointer(self)
        try:
            yield checkpointer
        finally:
            checkpointer.stop()
            db.execute(f"PRAGMA temp_store={int(temp)}")
            db.execute(f"PRAGMA cache_size={int(cache)}")
            db.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
            db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def get_meta(self, key: str) -> str | None:
        return get_meta(self.db, key)

    def set_meta(self, key: str, value: str) -> None:
        put_meta(self.db, (key, value))


class Checkpointer:
    """During a bulk load, copies committed pages from the WAL into the database in a
    thread of its own (with its own connection), so that the bulk load's writer goes on
    meanwhile: a checkpoint waits on the disk (it syncs the WAL, then the database;
    ~0.3 s at the end of a cold build of 10,000 releases, two thirds of it waiting),
    and done once at the end that wait came after everything else. Passive
    checkpoints (``PRAGMA wal_checkpoint(PASSIVE)``) never block the writer, nor wait
    for it. The WAL still grows during the load as before (the writer's next
    transaction has begun before a copy ends, so SQLite cannot start the WAL over);
    what changes is that its pages are in the database by the time the load ends.

    The thread starts at the first ``committed()``, not before: a cold build forks its
    worker processes first, and fork is only safe while this process has one thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # what stopped the thread, if anything

    def committed(self) -> None:
        """A commit happened: copy it into the database soon (a call while a copy is
        under way asks for one more after it)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="scofeed-checkpoint", daemon=True
            )
            self._thread.start()
        self._wanted.set()

    def stop(self) -> None:
        """Wait for the copy under way, if any, and end the thread."""
        if self._thread is None:
            return
        self._stopping = True
        self._wanted.set()
        self._thread.join()
        self._thread = None
        if self.error is not None:
            log.warning("checkpoint_failed path=%s error=%r", self._store.path, self.error)

    def _run(self) -> None:
        try:
            db = self._store.db  # this thread's own connection
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except (sqlite3.Error, OSError) as exc:  # the final checkpoint does it all then
            self.error = exc
        finally:
            self._store.close()

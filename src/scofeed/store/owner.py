"""Whose files a site's are: root working on another user's store and feeds.

A command run as root (``sudo scofeed build``) on a site another user owns made its new
files and folders root's: a feed folder for a new tag or month, a store made anew, a
release ``scofeed add`` wrote. The daemon, running as that user, then could not write
them, and every scan failed until someone ran ``chown``. So root is refused there, in
one line naming the owner and the command to run instead (``sudo -u OWNER ...``), as
other tools that keep a user's files do (Nextcloud's ``occ``, PostgreSQL): the
alternative, giving each new file to the folder's owner, has to be right at every
place a file is made (SQLite's own ``-wal`` and ``-shm``, temporary files renamed into
place, folders made on the way, the lock file, the ActivityPub key), and one missed is
the same trouble again. Root working on its own site (its store root's: its daemon runs
as root) is left alone, whoever owns its feeds or sources.
"""

from __future__ import annotations

import os
import pwd
import shlex
import stat
from collections.abc import Iterable
from pathlib import Path

from scofeed.errors import UsageError, shown


def _owned_by(path: Path) -> tuple[Path, int] | None:
    """The path, or the nearest folder above it that exists (where it would be made),
    with its owner's uid; None when nothing on the way can be looked at."""
    for candidate in (path, *path.absolute().parents):
        try:
            return candidate, candidate.stat().st_uid
        except OSError:
            continue
    return None


def user_name(uid: int) -> str:
    """The user's name, or ``#uid`` (as ``sudo -u`` takes it) for a uid with none."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"#{uid}"


def refuse_root_on_others(store: Path, others: Iterable[Path], command: str) -> None:
    """Raise ``UsageError`` when this process runs as root and the store or one of
    ``others`` (feeds/, sources/; or where each would be made) belongs to another user.
    A store that is root's, or is to be made in a folder only root may write, is root's
    site, whoever owns the others (a web server's feeds folder, an editor's sources/):
    its daemon runs as root, the one user that can write that store.
    ``command``: the command line to show after ``sudo -u OWNER``."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return
    found = _owned_by(store)
    if found is not None and found[1] == 0:
        where = found[0]
        try:  # a folder anyone may write (/tmp) says nothing of whose the store is to be
            if where == store or not where.stat().st_mode & stat.S_IWOTH:
                return
        except OSError:
            pass
    for path in (store, *others):
        found = _owned_by(path)
        if found is None or found[1] == 0:
            continue
        where, uid = found
        owner = user_name(uid)
        raise UsageError(
            f"{shown(str(where))} belongs to the user {owner}, and scofeed runs as root: "
            f"what it wrote would be root's, and a daemon run as {owner} could not write "
            f"it. Run it as {owner}: sudo -u {shlex.quote(owner)} {shown(command)}"
        )

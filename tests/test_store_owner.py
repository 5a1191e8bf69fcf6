"""Root on a site another user owns (``store/owner.py``): ``sudo scofeed build`` on the
daemon's site made root's files and folders in feeds/ (and a root store), which the
daemon, run as its own user, could not write. Refused now in one line naming the owner
and the command to run instead; nothing is made. Real subprocesses, real owners: the
tests run as root (skipped otherwise) and give the site to ``nobody``."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest

from conftest import run_cli

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root: it is about root"
)


def give(root: Path, uid: int, gid: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.chown(path, uid, gid, follow_symlinks=False)


def not_owned_by(root: Path, uid: int) -> list[str]:
    return [str(p) for p in [root, *root.rglob("*")] if p.lstat().st_uid != uid]


def refused(proc: subprocess.CompletedProcess[str], where: Path, owner: str, *args: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith(f"scofeed: {where} belongs to the user {owner}, "), proc.stderr
    assert proc.stderr.rstrip().endswith(f"sudo -u {' '.join(args)}"), proc.stderr


def test_root_on_a_site_nobody_owns_is_refused_and_makes_nothing(site):
    nobody = pwd.getpwnam("nobody")
    config = str(site.config_path)
    give(site.root, nobody.pw_uid, nobody.pw_gid)
    for command in (["build"], ["add", str(site.sources / "000_8062ea63522097a7.txt")]):
        proc = run_cli(site, *command)
        refused(proc, site.root, "nobody", "nobody", "scofeed", "--config", config, *command)
    assert not_owned_by(site.root, nobody.pw_uid) == []  # no feeds/, no state/: nothing
    assert not (site.root / "feeds").exists() and not (site.root / "state").exists()


def test_root_on_a_built_site_nobody_owns_is_refused_by_every_command_that_opens_it(site):
    """The daemon's site, built and then given to its user: the store is named; a
    command that only reads is refused as well (opening the store may upgrade it and
    make files beside it), and so is the daemon, before it opens anything."""
    nobody = pwd.getpwnam("nobody")
    config = str(site.config_path)
    assert run_cli(site, "build").returncode == 0
    give(site.root, nobody.pw_uid, nobody.pw_gid)
    (site.sources / "new.txt").write_text(
        "SCO Secretary-General meets students\n\nOn 21 April 2023 he met students.\n",
        encoding="utf-8",
    )
    os.chown(site.sources / "new.txt", nobody.pw_uid, nobody.pw_gid)
    store = site.config().paths.state
    for command in (
        ["build"],
        ["build", "--dry-run"],
        ["list"],
        ["backup"],
        ["run", "--port", "0"],
    ):
        proc = run_cli(site, *command)
        refused(proc, store, "nobody", "nobody", "scofeed", "--config", config, *command)
    assert not_owned_by(site.root, nobody.pw_uid) == []


def test_root_on_a_site_of_a_user_without_a_name_names_its_uid_as_sudo_takes_it(site):
    """A site of a uid with no user name (a container's): the store is named, and
    ``sudo -u '#uid'`` quoted (a bare # starts a comment in a shell)."""
    uid = next(n for n in range(40000, 60000) if not _named(n))
    assert run_cli(site, "build").returncode == 0
    give(site.root, uid, uid)
    proc = run_cli(site, "build")
    refused(
        proc,
        site.config().paths.state,
        f"#{uid}",
        f"'#{uid}'",
        "scofeed",
        "--config",
        str(site.config_path),
        "build",
    )


def test_root_on_its_own_store_with_feeds_and_sources_of_other_users_is_not_refused(site):
    """A store of root's is root's site, its daemon run as root (no other user could
    write that store): feeds/ given to the web server's user and sources/ to an editor's
    do not make it another user's. Refused, the daemon of such a site no longer started
    after the upgrade."""
    nobody = pwd.getpwnam("nobody")
    uid = next(n for n in range(40000, 60000) if not _named(n))
    assert run_cli(site, "build").returncode == 0
    give(site.feeds, nobody.pw_uid, nobody.pw_gid)
    give(site.sources, uid, uid)
    (site.sources / "new.txt").write_text(
        "SCO Secretary-General meets students\n\nOn 21 April 2023 he met students.\n",
        encoding="utf-8",
    )
    proc = run_cli(site, "build")
    assert proc.returncode == 0 and "new=1" in proc.stdout, proc.stderr


def test_root_on_its_own_site_is_not_refused(site):
    """Every path root's (a server where root runs it all): nothing changes."""
    proc = run_cli(site, "build")
    assert proc.returncode == 0 and "new=1" in proc.stdout, proc.stderr


def _named(uid: int) -> bool:
    try:
        pwd.getpwuid(uid)
    except KeyError:
        return False
    return True


def test_root_making_its_own_store_with_feeds_of_another_user_is_not_refused(site):
    """The first build of a root daemon's site: the store to be made in a folder only
    root writes, feeds/ already the web server's. Root's site, not refused."""
    nobody = pwd.getpwnam("nobody")
    site.feeds.mkdir(exist_ok=True)
    give(site.feeds, nobody.pw_uid, nobody.pw_gid)
    assert not site.config().paths.state.exists()
    proc = run_cli(site, "build")
    assert proc.returncode == 0 and "new=1" in proc.stdout, proc.stderr
    assert site.config().paths.state.stat().st_uid == 0

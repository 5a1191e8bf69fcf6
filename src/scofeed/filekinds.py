"""What a path that is not a regular file is, in words, for one-line refusals."""

from __future__ import annotations

import stat

_KINDS = {
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def special_kind(mode: int) -> str:
    """``a FIFO``, ``a socket``...: the kind of file ``mode`` (an ``st_mode``) is."""
    return _KINDS.get(stat.S_IFMT(mode), "a special file")

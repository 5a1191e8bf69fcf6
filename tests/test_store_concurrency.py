"""Several processes on one fresh state store at once (finding 8): the migrations run
under an exclusive lock, so every process opens the store and none creates a table
twice or gives up on a lock. Real processes, real SQLite files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from scofeed.store.schema import MIGRATIONS

OPEN = "import sys; from scofeed.store import Store; Store(sys.argv[1]).close()"


def test_processes_opening_a_fresh_store_at_once_all_succeed(tmp_path):
    for round_ in range(6):
        path = tmp_path / f"s{round_}.sqlite3"
        procs = [
            subprocess.Popen([sys.executable, "-c", OPEN, str(path)], stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        errors = [p.communicate()[1].decode() for p in procs]
        assert [p.returncode for p in procs] == [0] * 4, errors
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.close()

"""npm packages for the tests that run a third-party JavaScript library with node (the
feed parsers of tests/test_readers.py, Fedify in tests/test_activitypub_fedify.py).

They are installed once per set of pinned versions into a cache folder outside the
repository (``SCOFEED_NPM_CACHE``, else ``~/.cache/scofeed-tests``), under a lock for the
test processes that ask at once; a test is skipped, with the reason, where node or npm is
missing or the install fails (offline)."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

NODE, NPM = shutil.which("node"), shutil.which("npm")


def node_modules(packages: tuple[str, ...]) -> Path:
    """The ``node_modules`` folder holding ``packages`` (``name@version`` each), installed
    now if they were not; skips the test when they cannot be."""
    if NODE is None or NPM is None:
        pytest.skip("node and npm are not installed (apt-get install nodejs npm)")
    name = hashlib.sha256(" ".join(packages).encode()).hexdigest()[:12]
    cache = Path(os.environ.get("SCOFEED_NPM_CACHE", Path.home() / ".cache" / "scofeed-tests"))
    folder = cache / f"npm-{name}"
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"npm-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if folder.is_dir():  # renamed into place only once the install succeeded
            return folder / "node_modules"
        tmp = cache / f"npm-{name}.part"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        try:
            done = subprocess.run(
                [NPM, "install", "--prefix", str(tmp), "--no-audit", "--no-fund", "--no-save"]
                + ["--fetch-retries=0", "--fetch-timeout=20000", *packages],
                capture_output=True,
                text=True,
                timeout=90,
            )
            said = [line for line in done.stderr.splitlines() if " code " in line][:1]
        except subprocess.TimeoutExpired:
            done, said = None, ["no answer in 90 s"]
        if done is None or done.returncode != 0:
            shutil.rmtree(tmp, ignore_errors=True)
            why = said[0] if said else "it failed"
            pytest.skip(f"npm could not install {' '.join(packages)} (offline?): {why}")
        tmp.rename(folder)
    return folder / "node_modules"

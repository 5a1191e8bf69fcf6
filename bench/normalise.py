"""Normalise alone, in one process: CPU time per release on four corpora.

    python bench/normalise.py [-n 5000] [--rounds 3]

- the build bench's synthetic English releases (``bench/build.py``), with the settings
  the build bench uses (no tags), and with this repository's config.toml (its tags);
- the same releases with typographic quotes (’ “ ”), and with a no-break space after
  every sixth word of the body (``synthetic(..., nbsp=True)``, as the seed has one after
  many short words): text that is not ASCII, as real English releases are;
- the fixtures in tests/data and the seed (SCO pages, feeds, Russian and Chinese text),
  each case timed alone: the median.

Each figure is the best of ``--rounds`` (CPU time, which moves less than wall time on a
busy machine). To compare with another checkout, run it with ``PYTHONPATH=that/src``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from scofeed import sources
from scofeed.config import load
from scofeed.errors import ScofeedError
from scofeed.normalise import Settings, normalise, settings_from

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from build import synthetic  # noqa: E402
from normalise_same import NOW, SETTINGS, fixtures  # noqa: E402

BUILD_NOW = datetime(2026, 11, 27, tzinfo=UTC)


def best(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def per_release(releases: list, settings: Settings, rounds: int) -> float:
    def run() -> None:
        for r in releases:
            normalise(r, settings, BUILD_NOW)

    run()  # warm: patterns compiled on first use, caches
    return best(run, rounds) / len(releases) * 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rng = random.Random(1)
    plain = []
    quoted = []
    spaced = []
    texts = [synthetic(i, rng) for i in range(args.n)]
    rng = random.Random(1)  # the same words, a no-break space after every sixth
    for i in range(args.n):
        nbsp = synthetic(i, rng, nbsp=True)
        spaced += sources.read(f"{i}.txt", ".txt", nbsp.encode(), BUILD_NOW, 10**7)
    for i, text in enumerate(texts):
        plain += sources.read(f"{i}.txt", ".txt", text.encode(), BUILD_NOW, 10**7)
        typographic = text.replace(" member states ", " member states’ ").replace(
            "council", "“council”"
        )
        quoted += sources.read(f"{i}.txt", ".txt", typographic.encode(), BUILD_NOW, 10**7)
    bench = settings_from(load(None, []))
    repo = settings_from(load(ROOT / "config.toml", []))
    print(f"normalise, CPU time per release (best of {args.rounds} rounds, {args.n} releases)")
    rows = [
        ("bench releases, no tags (bench/build.py)", plain, bench),
        (f"bench releases, config.toml ({len(repo.tags)} tags)", plain, repo),
        ("bench releases with typographic quotes", quoted, bench),
        ("bench releases with no-break spaces, as the seed has", spaced, bench),
    ]
    for label, releases, settings in rows:
        print(f"  {label:52s} {per_release(releases, settings, args.rounds):7.1f} us")
    cases = []
    for _name, r in fixtures():
        try:
            normalise(r, SETTINGS, NOW)
        except ScofeedError:
            continue
        cases.append(r)
    each = [best(lambda r=r: [normalise(r, SETTINGS, NOW) for _ in range(20)], args.rounds) / 20
            for r in cases]  # fmt: skip
    median = statistics.median(each) * 1e6
    print(f"  {f'tests/data fixtures and seed, median of {len(cases)}':52s} {median:7.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())

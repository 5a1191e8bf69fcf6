"""Benchmark the HTML index at scale: the time to render page 1, a middle page and the
last page of the index, with 30,000 entries against 100, in one run.

    .venv/bin/python bench/index.py [-n 30000] [--rounds 20]

Entries go straight into a temporary store (no build: the index reads only the
store). Each figure is the median over the rounds of one GET through the WSGI app
(count, the page's rows, the languages present, markup, ETag), with its ratio to the
same page of a 100-entry store. Page 1 and the last page cost what they do with 100
entries; a page walks its offset in the entries_live_by_date index (rowids only) from the
nearer end, so the middle page is the dearest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scofeed.config import load
from scofeed.model import Entry
from scofeed.serve import App
from scofeed.serve.pages import PAGE_SIZE
from scofeed.store import Store
from scofeed.store import entries as entry_rows

CONFIG = """
[site]
base_url = "http://127.0.0.1:8080/"
id_authority = "bench.example,2026"

[paths]
sources = "sources"
feeds = "feeds"
state = "state.sqlite3"

[tags]
security = ["security"]
economy = ["economy"]
"""
LANGS = ("en", "ru", "zh")
TEXT = {
    "en": "The Secretary-General met the delegation to discuss regional security. " * 6,
    "ru": "Генеральный секретарь встретился с делегацией по вопросам безопасности. " * 6,
    "zh": "秘书长会见代表团，双方就地区安全合作交换意见。" * 8,
}


def make_store(root: Path, n: int) -> App:
    root.mkdir()
    (root / "config.toml").write_text(CONFIG, encoding="utf-8")
    cfg = load(root / "config.toml", [])
    store = Store(cfg.paths.state)
    start = datetime(2006, 1, 1, tzinfo=UTC)
    with store.transaction() as db:
        for i in range(n):
            lang = LANGS[i % 3]
            when = start + timedelta(hours=6 * i)
            e = Entry(
                id=f"tag:bench.example,2026:{i:020d}",
                title=f"Release {i} on cooperation",
                summary=TEXT[lang],
                content_html=f"<p>{TEXT[lang]}</p>",
                published=when,
                updated=when,
                author="SCO Secretariat",
                language=lang,
                link="",
                url=None,
                tags=("security",) if i % 2 else (),
                content_hash=f"h{i}",
                fingerprint=f"fp{i}",
                revision=1,
                origin=f"bench/{i}.txt",
                date_source="text",
            )
            entry_rows.insert(db, e, f"id{i}", None, 0.0)
    return App(lambda: cfg, store)


def get(app: App, path: str) -> float:
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path}
    began = time.perf_counter()
    body = b"".join(app(environ, lambda status, headers: None))
    took = time.perf_counter() - began
    assert b"<article" in body, path
    return took


def measure(app: App, path: str, rounds: int) -> float:
    get(app, path)  # warm the page cache
    return statistics.median(get(app, path) for _ in range(rounds))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=30_000)
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        small = make_store(Path(tmp) / "small", 100)
        big = make_store(Path(tmp) / "big", args.n)
        last = -(-args.n // PAGE_SIZE)
        print(f"index pages, {args.n} entries against 100 (median of {args.rounds})")
        for label, path_big, path_small in (
            ("page 1 (/)", "/", "/"),
            (f"middle page (/page/{last // 2})", f"/page/{last // 2}", "/page/2"),
            (f"last page (/page/{last})", f"/page/{last}", "/page/2"),
        ):
            t_big = measure(big, path_big, args.rounds)
            t_small = measure(small, path_small, args.rounds)
            print(
                f"  {label:28} {t_big * 1000:7.2f} ms   100 entries {t_small * 1000:6.2f} ms"
                f"   ratio {t_big / t_small:4.2f}"
            )
        small.store.close()
        big.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ingest benchmark: releases per second for each local file format.

For every format (txt, md with TOML and with YAML front matter, json, and a json list
holding all releases in one file) it writes N synthetic releases into a fresh temporary
site and times a cold ``scofeed.build.build`` (read, normalise, store, render,
publish). The plain-text build is the core's per-file cost; every other row is printed
as a ratio of it, so the figures compare within one run on one machine.

A measurement is a function ``(count, workdir) -> Measurement`` listed in
``MEASUREMENTS``; a remote-poll measurement (N article pages from a local server,
first poll and an all-304 second poll) is added by appending another such function.

    .venv/bin/python bench/ingest.py [--count 3000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from scofeed import config as config_mod
from scofeed.build import build as build_feeds
from scofeed.store import Store

NOW = datetime(2026, 1, 1, tzinfo=UTC)
BASELINE = "txt"


@dataclass(frozen=True)
class Measurement:
    name: str
    releases: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.releases / self.seconds if self.seconds else float("inf")

    @property
    def per_release_ms(self) -> float:
        return 1000 * self.seconds / self.releases if self.releases else 0.0


def synthetic(i: int) -> tuple[str, date, list[str]]:
    """Title, date and paragraphs of the i-th synthetic release (all distinct)."""
    day = date(2015, 1, 1) + timedelta(days=i % 3000)
    title = f"SCO Secretary-General meets delegation number {i}"
    paras = [
        f"On {day.day} {day:%B} {day.year}, SCO Secretary-General met delegation {i} "
        "at the SCO Secretariat in Beijing.",
        "The sides discussed cooperation in trade, the digital economy, e-commerce and "
        "connectivity within the SCO space, and the agenda of the coming summit.",
        f"The meeting, the {i}th of its kind, took place in a warm and friendly atmosphere.",
    ]
    return title, day, paras


def write_txt(folder: Path, count: int) -> None:
    for i in range(count):
        title, _day, paras = synthetic(i)
        (folder / f"r{i:06d}.txt").write_text(title + "\n\n" + "\n\n".join(paras) + "\n", "utf-8")


def write_md(folder: Path, count: int, yaml: bool = False) -> None:
    """TOML front matter (``+++``), or with ``yaml`` the same keys in YAML (``---``)."""
    for i in range(count):
        title, day, paras = synthetic(i)
        if yaml:
            front = f"---\ntitle: '{title}'\ndate: {day.isoformat()}\ntags: [bench]\n---\n"
        else:
            front = f'+++\ntitle = "{title}"\ndate = {day.isoformat()}\ntags = ["bench"]\n+++\n'
        body = "\n\n".join(p.replace("SCO Secretariat", "**SCO Secretariat**") for p in paras)
        (folder / f"r{i:06d}.md").write_text(front + body + "\n", "utf-8")


def write_md_yaml(folder: Path, count: int) -> None:
    write_md(folder, count, yaml=True)


def _json_item(i: int) -> dict[str, object]:
    title, day, paras = synthetic(i)
    return {"title": title, "date": day.isoformat(), "text": "\n\n".join(paras), "id": f"b{i}"}


def write_json(folder: Path, count: int) -> None:
    for i in range(count):
        (folder / f"r{i:06d}.json").write_text(json.dumps(_json_item(i)), "utf-8")


def write_json_list(folder: Path, count: int) -> None:
    items = [_json_item(i) for i in range(count)]
    (folder / "all.json").write_text(json.dumps(items), "utf-8")


def cold_build(
    name: str, writer: Callable[[Path, int], None]
) -> Callable[[int, Path], Measurement]:
    def measure(count: int, workdir: Path) -> Measurement:
        site = workdir / name
        (site / "sources").mkdir(parents=True)
        (site / "config.toml").write_text(
            '[site]\nid_authority = "bench.example,2026"\n'
            "[limits]\nmax_file_bytes = 200000000\nsettle = 0\n",
            encoding="utf-8",
        )
        writer(site / "sources", count)
        cfg = config_mod.load(site / "config.toml")
        store = Store(cfg.paths.state)
        start = time.perf_counter()
        report = build_feeds(cfg, store, NOW)
        seconds = time.perf_counter() - start
        store.close()
        assert report.new == count and not report.rejected, report.line()
        return Measurement(name, count, seconds)

    return measure


def remote_polls(count: int, workdir: Path) -> list[Measurement]:
    """N article pages from a local server (bench/ingest_remote.py): the first poll
    fetches and ingests them all, the second finds the listing unchanged (one 304)."""
    from ingest_remote import measure_polls  # bench/ is on sys.path when run as a script

    site = workdir / "remote"
    site.mkdir()
    pages = min(count, 1000)  # every page is a real HTTP request
    f = measure_polls(pages, site)
    assert f.new == pages and f.second_requests == 1, f
    return [
        Measurement("html-poll", pages, f.first_seconds),
        Measurement("html-304", pages, f.second_seconds),
    ]


def as_list(
    measure: Callable[[int, Path], Measurement],
) -> Callable[[int, Path], list[Measurement]]:
    return lambda count, workdir: [measure(count, workdir)]


MEASUREMENTS: list[Callable[[int, Path], list[Measurement]]] = [
    as_list(cold_build("txt", write_txt)),
    as_list(cold_build("md", write_md)),
    as_list(cold_build("md-yaml", write_md_yaml)),
    as_list(cold_build("json", write_json)),
    as_list(cold_build("json-list", write_json_list)),
    remote_polls,
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=3000, help="releases per format (default 3000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="scofeed-bench-") as tmp:
        results = [m for measure in MEASUREMENTS for m in measure(args.count, Path(tmp))]
    base = next(r for r in results if r.name == BASELINE)
    print(f"cold build of {args.count} releases per format (baseline: {BASELINE}, the core build);")
    print("html-poll: article pages polled from a local server; html-304: the same site unchanged")
    print(f"{'format':<10} {'seconds':>8} {'releases/s':>11} {'ms/release':>11} {'vs txt':>7}")
    for r in results:
        if r.name == "html-304":  # one 304 and nothing ingested: no rate per release
            print(f"{r.name:<10} {r.seconds:>8.2f} {'-':>11} {'-':>11} {'-':>7}  (one request)")
            continue
        ratio = r.per_release_ms / base.per_release_ms if base.per_release_ms else float("nan")
        print(
            f"{r.name:<10} {r.seconds:>8.2f} {r.per_second:>11.0f} "
            f"{r.per_release_ms:>11.3f} {ratio:>6.2f}x"
        )
    if args.count > 1000:
        print(f"(html-poll: {min(args.count, 1000)} pages, each a real HTTP request)")


if __name__ == "__main__":
    main()

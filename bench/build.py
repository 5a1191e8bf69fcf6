"""Build benchmark: cold build, no-change rebuild, one-new-file rebuild, three baselines.

    python bench/build.py [-n 10000] [--rounds 5] [--set KEY=VALUE ...]
    python bench/build.py --incremental [--small 100] [--large 30000] [--rounds 5]

Makes N synthetic English releases in a temporary folder (with the seed's no-break
spaces after some words, as real SCO releases have; ``--ascii`` for plain ASCII, as
figures before 2026-12-01 were measured) and prints, from one run, each
timing with its ratio: the median of a few rounds, each round a cold build into an
empty store, the two rebuilds, then the baselines (alternating, so that a busy spell
on a shared machine does not land on one side only). Targets: a no-change rebuild
costs at most 5% of a cold build, a rebuild after one new file at most 10% (issue 2);
a cold build at most 1.5x the naive baseline (a short script that re-reads every file
and renders with feedgen each time what the build's feeds hold: everything, or with
``feeds.archives = false`` the newest ``feeds.entries``; issue 2) and at most 2x the 30-line
script of issue 9 (reads every file, finds an English date with one regex, renders
the newest 50). A third, the 30-line script that also keeps every release in a SQLite
file (no target), shows how much of the gap keeping a record is. The baselines run in
this process, like the build (no start-up on either side). Peak memory is the
process's high-water mark after the first round's scofeed phases, before the baselines
first run. The CPU time (this process and the
build's workers) of the cold build and of the 30-line script is printed too: on a busy
shared machine it moves less than the wall time. On a virtual machine, the CPU time
stolen by the host during each cold build is shown too: the cold build uses every
core, the baselines one, so steal weighs on it more.

``--set`` passes config settings to the builds: ``--set feeds.archives=false --set
"feeds.formats=['atom','rss']"`` gives them the 30-line script's job (the newest 50, Atom
and RSS), without the archive pages and JSON Feed.

``--incremental`` (issue 10): releases in three languages (en, ru, zh) with tags, so
every kind of feed and the monthly archive pages exist; a store of ``--small`` and one
of ``--large`` releases are built once, then each round adds one new release to each
and times that build (each under a new name), wall and CPU time (the whole process's,
reaped). Target: one new file at 30,000 entries costs within 2x of one at 100.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgen.feed import FeedGenerator

from scofeed.build import build as build_feeds
from scofeed.config import load
from scofeed.store import Store

WORDS = (
    "cooperation security economy member states Secretariat meeting delegation summit "
    "dialogue partners development investment culture youth energy transport digital "
    "council ministers agreement regional stability trade education health tourism"
).split()
MONTHS = "January February March April May June July August September October November December"


LAST_DAY = datetime(2015, 1, 1) + timedelta(days=3649)  # the corpus's newest day


def synthetic(i: int, rng: random.Random, nbsp: bool = False, day: datetime | None = None) -> str:
    """A release shaped like the seed: a title, a dated first paragraph, four more. With
    ``nbsp``, every sixth word of the body is followed by a no-break space, as the SCO's
    site sets one after short words (the seed holds 60 in 2.4 KB): the text is then not
    ASCII, as real releases are not. The words drawn are the same either way. Dated
    ``day``, else by ``i`` over ten years (2015-2024)."""
    day = day or datetime(2015, 1, 1) + timedelta(days=i % 3650)
    date = f"{day.day} {MONTHS.split()[day.month - 1]} {day.year}"
    title = " ".join(rng.choice(WORDS) for _ in range(7)).capitalize() + f" ({i})"

    def words(n: int) -> str:
        drawn = [rng.choice(WORDS) for _ in range(n)]
        if not nbsp:
            return " ".join(drawn)
        return "".join(w + ("\xa0" if k % 6 == 5 else " ") for k, w in enumerate(drawn))[:-1]

    paras = [f"On {date}, " + words(40) + ".", *(words(60) + "." for _ in range(4))]
    return title + "\n\n" + "\n\n".join(paras) + "\n"


RU_WORDS = "сотрудничество безопасность экономика государства Секретариат встреча делегация".split()
ZH_WORDS = "合作 安全 经济 成员国 秘书处 会议 代表团 峰会 对话 发展 投资 文化 青年 能源".split()


def multilingual(i: int, rng: random.Random, day: datetime | None = None) -> str:
    """A release in en, ru or zh (by i), dated in metadata (``day``, else by ``i`` over
    2015-2024), with a tag now and then."""
    lang = ("en", "ru", "zh")[i % 3]
    day = day or datetime(2015, 1, 1) + timedelta(days=(i * 7) % 3650)
    words = {"en": WORDS, "ru": RU_WORDS, "zh": ZH_WORDS}[lang]
    tags = ["security"] if i % 5 == 0 else ["economy"] if i % 7 == 0 else []
    title = " ".join(rng.choice(words) for _ in range(7)) + f" ({i})"
    body = "\n\n".join(" ".join(rng.choice(words) for _ in range(50)) for _ in range(4))
    front = f"---\ntitle: '{title}'\ndate: {day:%Y-%m-%d}\nlang: {lang}\ntags: {tags}\n---\n"
    return front + body + "\n"


def incremental(args: argparse.Namespace) -> int:
    """One new release at --small entries vs at --large (see the module docstring)."""
    now = datetime(2026, 11, 27, tzinfo=UTC)
    rng = random.Random(7)
    sites = {}
    with tempfile.TemporaryDirectory(prefix="scofeed-bench-") as tmp:
        for n in (args.small, args.large):
            root = Path(tmp) / str(n)
            sources = root / "sources"
            sources.mkdir(parents=True)
            for i in range(n):
                (sources / f"{i:06d}.md").write_text(multilingual(i, rng), encoding="utf-8")
            sets = [f"paths.sources='{sources}'", f"paths.feeds='{root / 'feeds'}'",
                    f"paths.state='{root / 'state.sqlite3'}'", "limits.settle=0"]  # fmt: skip
            cfg = load(None, sets)
            store = Store(cfg.paths.state)
            cold = timed(lambda cfg=cfg, store=store: build_feeds(cfg, store, now))
            files = sum(1 for p in (root / "feeds").rglob("*") if p.is_file())
            print(f"{n:>6} releases: cold build {cold:.1f} s, {files} feed files")
            sites[n] = (cfg, store, sources, sets)
        times: dict[int, list[float]] = {n: [] for n in sites}
        whole: dict[int, list[float]] = {n: [] for n in sites}
        # CPU seconds of the same builds: on a shared machine they move less than the wall
        times_cpu: dict[int, list[float]] = {n: [] for n in sites}
        whole_cpu: dict[int, list[float]] = {n: [] for n in sites}
        written: dict[int, int] = {}
        for r in range(args.rounds):
            for n, (cfg, store, sources, sets) in sites.items():
                new = sources / f"new{r}.md"  # a new name: an old origin would match
                # dated after every other, on both sides: the newest, in the subscription
                # feeds (a release dated by its number landed mid-history at 30,000, in
                # a month page of ~250, and in the newest feeds at 100: not one job)
                fresh = LAST_DAY + timedelta(days=1 + r)
                new.write_text(multilingual(3 * 10**6 + r, rng, fresh), encoding="utf-8")
                start, used = time.perf_counter(), cpu_seconds()
                report = build_feeds(cfg, store, now)
                times[n].append(time.perf_counter() - start)
                times_cpu[n].append(cpu_seconds() - used)
                assert report.new == 1, report.line()
                written[n] = len(report.written)
                # the same, as the issue measured it: a whole `scofeed build` process
                (sources / f"new{r}-cli.md").write_text(
                    multilingual(4 * 10**6 + r, rng, fresh), encoding="utf-8"
                )
                argv = [sys.executable, "-m", "scofeed", *(a for s in sets for a in ("--set", s))]
                # in the site's folder, with no SCOFEED_CONFIG: the built-in defaults, as
                # the in-process build has them (run from the repository, the process read
                # its config.toml: other [tags] rules, so each build re-tagged the store)
                env = {k: v for k, v in os.environ.items() if k != "SCOFEED_CONFIG"}
                start, used = time.perf_counter(), cpu_seconds()
                out = subprocess.run(
                    [*argv, "build"],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=sources.parent,
                    env=env,
                )
                whole[n].append(time.perf_counter() - start)
                whole_cpu[n].append(cpu_seconds() - used)  # the process, reaped by run()
                assert " new=1 " in out.stdout, out.stdout + out.stderr
        for label, runs, cpus in (
            ("in-process build()", times, times_cpu),
            ("whole `scofeed build`", whole, whole_cpu),
        ):
            small, large = (statistics.median(runs[n]) for n in (args.small, args.large))
            cpu_small, cpu_large = (statistics.median(cpus[n]) for n in (args.small, args.large))
            print(f"{label}:")
            for n, secs, cpu in ((args.small, small, cpu_small), (args.large, large, cpu_large)):
                print(f"  one new file at {n:>6}: {secs * 1000:8.1f} ms   CPU {cpu * 1000:8.1f} ms")
            print(
                f"  ratio {large / small:.2f}x (CPU {cpu_large / cpu_small:.2f}x)   "
                f"(target <= 2x), median of {args.rounds} rounds"
            )
        print(f"files written per new release: {written[args.small]} and {written[args.large]}")
        for _cfg, store, _src, _sets in sites.values():
            store.close()
    return 0


def naive(root: Path, newest: int | None = None) -> None:
    """What a hand-rolled script would do: read everything, render everything, every
    time; with ``newest``, render only that many (by file time), as the build's feeds
    hold when it writes no archive pages: the same job as the build's, not 200 times
    more (a feed of all 10,000 against the build's 50 made the ratio read 1.75x where a
    like-for-like baseline gives ~6.5x)."""
    fg = FeedGenerator()
    fg.id("tag:bench.example,2026:feed")
    fg.title("bench")
    fg.link(href="http://127.0.0.1/", rel="alternate")
    fg.description("bench")
    read = []
    for path in sorted(root.iterdir()):
        stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        read.append((stamp, path.stem, path.read_text(encoding="utf-8")))
    if newest is not None:
        read = sorted(read, reverse=True)[:newest]
    for stamp, stem, text in read:
        title, _, body = text.partition("\n\n")
        fe = fg.add_entry(order="append")
        fe.id("tag:bench.example,2026:" + stem)
        fe.title(title.strip())
        fe.content("".join(f"<p>{p}</p>" for p in body.split("\n\n")), type="html")
        # the summary beside the content (``description()`` without isSummary replaced
        # the Atom content: the baseline wrote no release's body, ~14% less work)
        fe.summary(body.split("\n\n")[0])
        fe.updated(stamp)
        fe.published(stamp)
    out = root.parent / "naive"
    out.mkdir(exist_ok=True)
    (out / "atom.xml").write_bytes(fg.atom_str(pretty=True))
    (out / "rss.xml").write_bytes(fg.rss_str(pretty=True))


ENGLISH_DATE = re.compile(rf"\b(\d{{1,2}}) ({MONTHS.replace(' ', '|')}) (\d{{4}})\b")


def _dated(root: Path) -> list[tuple[datetime, str, str]]:
    """The 30-line script's reading: every .txt file, its date by one English regex."""
    months = {m: i for i, m in enumerate(MONTHS.split(), 1)}
    found = []
    for path in root.iterdir():
        if path.suffix != ".txt":
            continue
        text = path.read_text(encoding="utf-8")
        m = ENGLISH_DATE.search(text)
        if m:
            day = datetime(int(m[3]), months[m[2]], int(m[1]), tzinfo=UTC)
            found.append((day, path.stem, text))
    assert len(found) == len(list(root.glob("*.txt"))), "the script's date regex missed some"
    return found


def _newest(found: list[tuple[datetime, str, str]], out: Path) -> None:
    """The 30-line script's rendering: the newest 50, Atom and RSS, with feedgen."""
    fg = FeedGenerator()
    fg.id("tag:bench.example,2026:feed")
    fg.title("bench")
    fg.link(href="http://127.0.0.1/", rel="alternate")
    fg.description("bench")
    for day, stem, text in sorted(found, reverse=True)[:50]:
        title, _, body = text.partition("\n\n")
        fe = fg.add_entry(order="append")
        fe.id("tag:bench.example,2026:" + stem)
        fe.title(title.strip())
        fe.content("".join(f"<p>{p}</p>" for p in body.split("\n\n")), type="html")
        fe.updated(day)
    out.mkdir(exist_ok=True)
    (out / "atom.xml").write_bytes(fg.atom_str(pretty=True))
    (out / "rss.xml").write_bytes(fg.rss_str(pretty=True))


def script(root: Path) -> None:
    """The 30-line script of issue 9: read every .txt file, find an English date with one
    regex, render the newest 50 with feedgen to Atom and RSS."""
    _newest(_dated(root), root.parent / "script")


def stored(root: Path) -> None:
    """The 30-line script, and every release kept in a SQLite file as it goes (one row
    each: id, title, date, the body as HTML; WAL, a commit every 1,000, as the build
    commits): what keeping a record of every release adds to the script's job. Not a
    target of issue 9; it shows how much of the cold build's time the store is."""
    found = _dated(root)
    path = root.parent / "stored.sqlite3"
    for leftover in root.parent.glob("stored.sqlite3*"):
        leftover.unlink()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE releases (id TEXT PRIMARY KEY, title TEXT, published TEXT, html TEXT)")
    for start in range(0, len(found), 1000):
        rows = []
        for day, stem, text in found[start : start + 1000]:
            title, _, body = text.partition("\n\n")
            html = "".join(f"<p>{p}</p>" for p in body.split("\n\n"))
            rows.append((stem, title.strip(), day.isoformat(), html))
        db.execute("BEGIN")
        db.executemany("INSERT INTO releases VALUES (?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    _newest(found, root.parent / "stored")


def steal_seconds() -> float:
    """CPU time the hypervisor gave to others (Linux /proc/stat), 0 where unknown."""
    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


CPU: dict[str, list[float]] = {"cold": [], "script": []}  # user + system seconds


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the build's workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def timed(fn, cpu: str | None = None) -> float:
    start, used = time.perf_counter(), cpu_seconds()
    fn()
    if cpu is not None:
        CPU[cpu].append(cpu_seconds() - used)
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10_000, help="number of releases (default 10000)")
    ap.add_argument(
        "--rounds", type=int, default=5, help="rounds, each from an empty store (default 5)"
    )
    ap.add_argument(
        "--incremental",
        action="store_true",
        help="one new file at --small vs --large releases, three languages",
    )
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config setting for the builds, e.g. feeds.archives=false (repeatable)",
    )
    ap.add_argument(
        "--ascii",
        action="store_true",
        help="releases in plain ASCII, without the seed's no-break spaces (earlier figures)",
    )
    ap.add_argument("--small", type=int, default=100)
    ap.add_argument("--large", type=int, default=30_000)
    args = ap.parse_args()
    if args.incremental:
        return incremental(args)
    rng = random.Random(42)
    times: dict[str, list[float]] = {
        "cold": [],
        "unchanged": [],
        "one_new": [],
        "baseline": [],
        "script": [],
        "stored": [],
    }
    peak_mb = 0.0
    steal: list[float] = []  # during each cold build
    with tempfile.TemporaryDirectory(prefix="scofeed-bench-") as tmp:
        root = Path(tmp)
        sources = root / "sources"
        sources.mkdir()
        for i in range(args.n):
            text = synthetic(i, rng, nbsp=not args.ascii)
            (sources / f"{i:06d}.txt").write_text(text, encoding="utf-8")
        # the newest of all: a one-new-file rebuild renders the subscription feeds (one
        # dated mid-corpus reached none of them, and measured a no-change rebuild)
        extra = synthetic(args.n, rng, nbsp=not args.ascii, day=LAST_DAY + timedelta(days=1))
        now = datetime(2026, 11, 27, tzinfo=UTC)
        for n in range(args.rounds):
            state = root / f"state{n}.sqlite3"  # every round starts from an empty store
            cfg = load(
                None,
                [
                    f"paths.sources='{sources}'",
                    f"paths.feeds='{root / f'feeds{n}'}'",
                    f"paths.state='{state}'",
                    "limits.settle=0",  # files written just now: build them at once
                    *args.set,
                ],
            )
            store = Store(cfg.paths.state)
            reports = []

            def run(cfg=cfg, store=store, reports=reports) -> None:
                reports.append(build_feeds(cfg, store, now))

            stolen = steal_seconds()
            times["cold"].append(timed(run, "cold"))
            steal.append(steal_seconds() - stolen)
            assert reports[-1].new == args.n, reports[-1].line()
            times["unchanged"].append(timed(run))
            assert reports[-1].new == 0 and not reports[-1].written
            (sources / "new.txt").write_text(extra, encoding="utf-8")
            times["one_new"].append(timed(run))
            assert reports[-1].new == 1
            if n == 0:  # before the baseline has run at all
                peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            (sources / "new.txt").unlink()
            store.close()
            for leftover in root.glob(f"state{n}.sqlite3*"):  # the next round starts clean
                leftover.unlink()
            shutil.rmtree(root / f"feeds{n}")
            # the build's feeds hold every entry (archive pages) or the newest N
            newest = None if cfg.feeds.archives else cfg.feeds.entries
            times["baseline"].append(timed(lambda newest=newest: naive(sources, newest)))
            times["script"].append(timed(lambda: script(sources), "script"))
            times["stored"].append(timed(lambda: stored(sources)))

    cold, unchanged, one_new, baseline, script_time, stored_time = (
        statistics.median(times[k]) for k in times
    )
    rounds = [c / b for c, b in zip(times["cold"], times["baseline"], strict=True)]
    by_script = [c / b for c, b in zip(times["cold"], times["script"], strict=True)]

    def row(name: str, secs: float, ratio: str) -> None:
        print(f"{name:<28}{secs * 1000:>10.1f} ms   {ratio}")

    corpus = "plain ASCII" if args.ascii else "no-break spaces as in the seed"
    layout = " ".join(args.set) or "the default layout (archives, JSON Feed, tag feeds)"
    print(
        f"scofeed build benchmark, {args.n} releases ({corpus}), median of {args.rounds} "
        f"rounds (python {sys.version.split()[0]}); settings: {layout}"
    )
    row("cold build", cold, f"{cold / baseline:.2f}x naive baseline   (target <= 1.5x)")
    row("", cold, f"{cold / script_time:.2f}x 30-line script    (target <= 2x)")
    pad = " " * 12
    row("rebuild, no change", unchanged, f"{unchanged / cold:.1%} of cold{pad}(target <= 5%)")
    row("rebuild, one new file", one_new, f"{one_new / cold:.1%} of cold{pad}(target <= 10%)")
    rendered = "all" if newest is None else f"the newest {newest}"
    row("naive baseline", baseline, f"re-read all + render {rendered} with feedgen")
    row("30-line script", script_time, "read all, one date regex, render newest 50")
    row("the script + SQLite", stored_time, "the same, every release kept in SQLite too")
    print(
        f"cold build / the script + SQLite {cold / stored_time:.2f}x "
        f"(no target: how much of the gap keeping a record of every release is)"
    )
    print(f"cold / baseline by round     {' '.join(f'{r:.2f}x' for r in rounds)}")
    print(f"cold / script by round       {' '.join(f'{r:.2f}x' for r in by_script)}")
    cpu_cold, cpu_script = (statistics.median(CPU[k]) for k in ("cold", "script"))
    print(
        f"CPU time (user + system)     cold build {cpu_cold:.2f}s, script {cpu_script:.2f}s: "
        f"{cpu_cold / cpu_script:.2f}x (the build uses every core, the script one)"
    )
    print(f"cpu steal during cold builds {' '.join(f'{x:.2f}s' for x in steal)}")
    print(f"peak memory (max RSS)        {peak_mb:>10.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

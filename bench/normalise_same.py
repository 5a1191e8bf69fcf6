"""Does normalise (and the date search) still give the same bytes? A digest per case.

    python bench/normalise_same.py --write before.txt     # with the code to compare against
    python bench/normalise_same.py --check before.txt     # with the changed code

Every fixture in tests/data (files, SCO pages, feeds), the seed and variants of it, the
bench's synthetic releases (also typed as real English releases are: no-break spaces,
typographic quotes and dashes, now and then a character that only looks like one of
them), and a seeded corpus of releases stitched from their lines and from many date
forms, each normalised (with and without a file date, a title, a URL), plus the date
search, ``is_date_line`` and ``date_stamp`` on every line: each case's every field (or
its error) and its log lines go into one digest line. A speed-up must leave every line
the same. Run it against an unchanged checkout with ``PYTHONPATH=that/src``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

from scofeed import sources
from scofeed.dates import date_stamp, find_dates, is_date_line
from scofeed.errors import ScofeedError
from scofeed.model import Release
from scofeed.normalise import Settings, normalise
from scofeed.sources.feed import read_feed
from scofeed.sources.htmlpage import DEFAULT, PRESETS, read_page

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from build import multilingual, synthetic  # noqa: E402

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
FILE_DATE = datetime(2021, 7, 5, 9, 0, tzinfo=UTC)
SETTINGS = Settings(
    authority="test.example,2026",
    base_url="http://127.0.0.1:8080/",
    author="SCO Secretariat",
    language="en",
    timezone="Asia/Shanghai",
    tags=(
        ("economy", ("e-commerce", "digital economy", "trade")),
        ("security", ("security", "безопасность", "安全")),
        ("space", ("outer space",)),
    ),
)
DATE_FORMS = [
    "3 June 2020", "3 June, 2020", "On 3 June", "8-9 June 2017", "30 June - 1 July 2021",
    "June 3, 2020", "June 8-9, 2017", "June 3", "2020-06-03", "03.06.2020", "3.6.2020",
    "3 июня 2020 года", "3-4 июня", "30 июня – 1 июля 2021 г.", "2020年6月3日", "6月3日",
    "二〇二〇年六月三日", "２０２０年６月３日", "8 and 9 June", "June 30 to July 1, 2021",
    "December 30 - January 2, 2021", "3 June 202010:30", "March 12, 2025 at 10:30",
    "today", "yesterday", "tomorrow", "on Thursday", "last Monday", "next Friday",
    "сегодня", "вчера", "в четверг", "今天", "昨天", "周四", "上星期一", "Wed, 3 Jun 2020",
    "1st of May", "Sept. 9", "29 February", "31 April 2020", "12.03.2025", "2025-03-12 10:30",
    "12 марта 2025", "2025年3月12日", "Updated: 3 June 2020", "Published 2020-06-03",
    "1989-01-01", "2101-01-01", "May 2020", "Monday, 3 June 2020", "3rd June 2020",
    "Press release", "Home > News > Item", "Главная » Новости", "新闻", "Share", "Print",
]  # fmt: skip
URLS = [
    None, "https://eng.sectsco.org/20220125/813122.html", "http://www.sectsco.org/news/20200603",
    "https://sectsco.org/2021/07/05/x?utm_source=a&b=2#f", "https://x.org/2020-06-03-item",
    "https://x.org/a b/é", "ftp://x.org/", "https://x.org/20201340/",
]  # fmt: skip


def read_files(folder: Path) -> Iterator[tuple[str, Release]]:
    for path in sorted(folder.iterdir()):
        for ctx in (FILE_DATE, None):
            try:
                found = sources.read(path.name, path.suffix, path.read_bytes(), ctx, 10**7)
            except ScofeedError as exc:
                yield f"read {path.name}", Release(origin=f"error {exc}", text="")
                continue
            for i, r in enumerate(found):
                yield f"{path.relative_to(ROOT)} ctx={ctx is not None} #{i}", r


def fixtures() -> Iterator[tuple[str, Release]]:
    data = ROOT / "tests" / "data"
    yield from read_files(data / "normalise")
    yield from read_files(data / "dates")
    yield from read_files(ROOT / "sources")
    for page in sorted((data / "sco").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        for url in (None, "https://eng.sectsco.org/20220125/813122.html"):
            for preset, selectors in (("sco", PRESETS["sco"]), ("default", DEFAULT)):
                try:
                    found = read_page(page.name, text, url=url, selectors=selectors)
                except ScofeedError as exc:
                    yield f"page {page.name}", Release(origin=f"error {exc}", text="")
                    continue
                for i, r in enumerate(found):
                    yield f"{page.name} url={url} preset={preset} #{i}", r
    for feed in sorted((data / "sco").glob("feed.*")):
        for i, r in enumerate(read_feed(feed.name, feed.read_bytes(), "https://sectsco.org/")):
            yield f"{feed.name} #{i}", r


# What real English releases carry beyond ASCII: the no-break space (the seed has one
# after many short words), typographic quotes and dashes. And characters that look like
# them but are not among them (the narrow and thin spaces, the ellipsis, guillemets, the
# non-breaking hyphen), letters and digits past ASCII, a C1 control, a line separator.
TYPOGRAPHIC = ["\xa0", "’", "‘", "“", "”", "–", "—"]
LOOKALIKES = ["\u202f", "\u2009", "\u2007", "…", "«", "»", "\u2011", "é", "İ", "К", "月",
              "٣", "\x85", "\u2028", "\ufeff", "\u200b"]  # fmt: skip
TYPED_DATES = [
    "3\xa0June\xa02020", "On\xa03 June", "8–9 June 2017", "8\xa0–\xa09\xa0June\xa02017",
    "30 June – 1 July 2021", "30\xa0June\xa0—\xa01\xa0July 2021", "June\xa03,\xa02020",
    "June 8–9, 2017", "June\xa030 – July\xa01, 2021", "on\xa0Thursday", "last\xa0Monday",
    "today\xa0", "“3 June 2020”", "‘June 3’", "2020–06–03", "2020-06-03\xa010:30",
    "03.06.2020\xa0", "3\u202fJune 2020", "3\u2011June", "Wednesday,\xa03\xa0June\xa02020",
]  # fmt: skip


def typed(i: int, rng: random.Random) -> str:
    """A synthetic release as English releases are typed: a no-break space after some
    words (or before a line end, or alone on a line), words in typographic quotes, dashes,
    dates written with them; one in four also holds a lookalike character."""
    lines = synthetic(i, rng).split("\n")
    if rng.random() < 0.5:  # a dated line in the body
        lines.insert(rng.randint(1, len(lines)), f"On {rng.choice(TYPED_DATES)}, the talks began.")
    out = []
    for line in lines:
        words = line.split(" ")
        typed_line = ""
        for w in words:
            pick = rng.random()
            if pick < 0.05:
                w = f"“{w}”"
            elif pick < 0.08:
                w = f"‘{w}’"
            elif pick < 0.11:
                w += "’s"
            elif pick < 0.13:
                w = rng.choice(TYPED_DATES)
            elif pick < 0.15:
                w = rng.choice(["–", "—", "\xa0–", "—\xa0"])
            gap = rng.random()
            typed_line += w + ("\xa0" if gap < 0.15 else " \xa0" if gap < 0.17 else " ")
        typed_line = typed_line.rstrip(" ")
        if rng.random() < 0.2:
            typed_line += rng.choice(["\xa0", " \xa0", "\xa0\xa0"])
        out.append(typed_line)
        if rng.random() < 0.1:
            out.append(rng.choice(["\xa0", "\xa0 \xa0", "—", "“”", "\xa0–\xa0"]))
    text = rng.choice(["\n", "\r\n"]).join(out)
    if rng.random() < 0.25:
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(LOOKALIKES) + text[at:]
    return text


def stitched(count: int, lines: list[str], rng: random.Random) -> Iterator[tuple[str, Release]]:
    """Releases made of random lines of the other cases and date forms, in random
    layouts: chrome first or not, blank lines or not, a title or a URL or not."""
    for i in range(count):
        parts = []
        for _ in range(rng.randint(1, 12)):
            pick = rng.random()
            if pick < 0.25:
                parts.append(rng.choice(DATE_FORMS))
            elif pick < 0.35:
                parts.append(rng.choice(lines) + " " + rng.choice(DATE_FORMS) + ".")
            else:
                parts.append(rng.choice(lines))
        sep = rng.choice(["\n\n", "\n", "\r\n\r\n", "\n \n"])
        text = sep.join(parts)
        ctx = rng.choice([FILE_DATE, None, datetime(2020, 6, 5), datetime(1980, 1, 1)])
        title = rng.choice([None, None, None, rng.choice(lines)])
        url = rng.choice(URLS)
        published = rng.choice([None, None, None, datetime(2020, 6, 3, 10), NOW])
        lang = rng.choice([None, None, "ru", "zh-CN", "en"])
        tags = rng.choice([(), ("a  b", ""), ("security",)])
        yield (
            f"stitched {i}",
            Release(
                origin=f"s{i}.txt",
                text=text,
                title=title,
                url=url,
                context_date=ctx,
                published=published,
                lang=lang,
                tags=tags,
            ),
        )


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()}")


def digest(fn: Callable[[], object], log: Lines) -> str:
    log.lines.clear()
    try:
        out = repr(fn())
    except ScofeedError as exc:
        out = f"{type(exc).__name__}: {exc}"
    blob = out + "\n" + "\n".join(log.lines)
    return hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def cases() -> Iterator[tuple[str, Callable[[], object]]]:
    base = list(fixtures())
    rng = random.Random(20261201)
    bench = [
        (f"synthetic {i}", Release(origin=f"{i}.txt", text=synthetic(i, rng), context_date=NOW))
        for i in range(2000)
    ]
    for i in range(300):
        text = multilingual(i, rng)
        for r in sources.read(f"m{i}.md", ".md", text.encode(), FILE_DATE, 10**7):
            bench.append((f"multilingual {i}", r))
    for i in range(2000):
        text = typed(i, rng)
        title = rng.choice([None, None, None, "SCO\xa0Secretary-General meets “Jingdong”\xa0"])
        ctx = rng.choice([NOW, FILE_DATE, None])
        tags = rng.choice([(), ("“security”",), ("a\xa0b",)])
        release = Release(origin=f"t{i}.txt", text=text, title=title, context_date=ctx, tags=tags)
        bench.append((f"typed {i}", release))
    seed = (ROOT / "sources" / "000_8062ea63522097a7.txt").read_text(encoding="utf-8")
    for j, variant in enumerate(
        [
            seed.replace("\xa0", " "),  # the seed without its no-break spaces
            seed.replace("\xa0", "\xa0\xa0"),
            seed.replace("\n", "\xa0\n"),
            seed.replace("\n\n", "\n\xa0\n"),
            "\xa0" + seed.replace(" ", "\xa0"),
            seed.replace('"', "“", 1).replace('"', "”", 1).replace("'", "’"),
            seed.replace("On 3 June 2020", "On 3\xa0June\xa02020"),
            seed.replace("On 3 June 2020", "On 3–4 June 2020").replace("\xa0", "\u202f"),
            "Press\xa0release\n3\xa0June\xa02020\n" + seed,
            "Home\xa0>\xa0News\xa0>\xa0Item\n\xa0\n" + seed,
            seed.replace("\xa0", "\xa0", 5).replace("\xa0", "\u2028", 1),
        ]
    ):
        for ctx in (NOW, None):
            r = Release(origin=f"seed{j}.txt", text=variant, context_date=ctx)
            bench.append((f"seed variant {j} ctx={ctx is not None}", r))
    everything = base + bench
    lines = sorted({ln for _n, r in everything for ln in r.text.splitlines() if ln.strip()})
    corpus = everything + list(stitched(3000, lines, random.Random(9)))
    for name, r in corpus:
        yield name, lambda r=r: normalise(r, SETTINGS, NOW)
    for name, r in base:
        yield name + " +url", lambda r=r: normalise(replace(r, url=URLS[1]), SETTINGS, NOW)
        yield name + " +title", lambda r=r: normalise(replace(r, title="T"), SETTINGS, NOW)
    ctx = date(2021, 7, 5)
    every_line = sorted({ln for _n, r in corpus for ln in r.text.splitlines()} | set(DATE_FORMS))
    for ln in every_line:
        yield (
            f"find {ln!r}",
            lambda ln=ln: (
                find_dates(ln),
                find_dates(ln, ctx, max_year=2027, reference=ctx),
                find_dates(ln, ctx, reference=ctx, windowed=False),
                is_date_line(ln),
                date_stamp(ln, ctx),
            ),
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", type=Path)
    mode.add_argument("--check", type=Path)
    args = ap.parse_args()
    log = Lines()
    root = logging.getLogger("scofeed")
    root.addHandler(log)
    root.setLevel(logging.DEBUG)
    root.propagate = False
    out = [f"{name}\t{digest(fn, log)}" for name, fn in cases()]
    if args.write:
        args.write.write_text("\n".join(out) + "\n", encoding="utf-8")
        print(f"{len(out)} cases written to {args.write}")
        return 0
    want = args.check.read_text(encoding="utf-8").splitlines()
    diff = [(a, b) for a, b in zip(want, out, strict=False) if a != b]
    if len(want) != len(out):
        print(f"case count differs: {len(want)} before, {len(out)} now")
    for a, b in diff[:20]:
        print(f"DIFFERS: {a}\n    now: {b}")
    print(f"{len(out)} cases, {len(diff)} differ")
    return 1 if diff or len(want) != len(out) else 0


if __name__ == "__main__":
    sys.exit(main())

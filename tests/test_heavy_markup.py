"""Inputs whose markup alone costs seconds to read (Markdown of long bracket, emphasis or
list-marker runs, HTML of hundreds of thousands of elements) are refused before the
parsers spend their time on them, with the limit in the reason; a long ordinary
release is read as before. Found by fuzzing (round 2, second pass): 0.4-2 MB of such
markup used up the whole per-file budget (5 s) before being refused."""

from __future__ import annotations

import json

import feedparser
import pytest

from conftest import run_cli as cli

# just over the limits (50,000 marks, 50,000 elements: sources.markdown.MAX_MARKS,
# markup.MAX_ELEMENTS): cheap enough to be accepted before, in the budget
MARKS = 51_000
ELEMENTS = 51_000

HEAVY = {
    # markdown-it's link-label rule ran through the rest of the line at every "[": the
    # shape that cost most a byte
    "images.md": "# Images\n\n" + "![" * (MARKS // 2),
    "bullets.md": "# Bullets\n\n" + "- - a\n" * (MARKS // 3),
    "table.md": "# Table\n\n|a|b|\n|-|-|\n" + "|x|y|\n" * (MARKS // 4),
    "paragraphs.html": "<html><body><h1>Paragraphs</h1>" + "<p>a" * ELEMENTS + "</body></html>",
    "items.json": json.dumps({"title": "Items", "html": "<ul>" + "<li>a</li>" * ELEMENTS}),
}


def test_heavy_markup_is_refused_with_its_limit_and_the_rest_publishes(site):
    for name, text in HEAVY.items():
        (site.sources / name).write_text(text, encoding="utf-8")
    proc = cli(site, "build")
    assert proc.returncode == 1, proc.stderr  # rejections, not a crash
    assert "Traceback" not in proc.stderr
    lines = sorted(proc.stderr.splitlines())
    assert len(lines) == len(HEAVY), proc.stderr
    for line, name in zip(lines, sorted(HEAVY), strict=True):
        assert line.startswith(f"rejected {name}: "), line
        if name.endswith(".md"):
            assert "markup characters and line breaks (limit 50,000;" in line, line
        else:
            assert " elements (limit 50,000;" in line, line
    feed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert len(feed.entries) == 1  # the seed release, published as ever


def test_the_reasons_count_what_the_file_holds(site):
    (site.sources / "images.md").write_text(HEAVY["images.md"], encoding="utf-8")
    (site.sources / "items.json").write_text(HEAVY["items.json"], encoding="utf-8")
    proc = cli(site, "build")
    marks = HEAVY["images.md"].count("!") + HEAVY["images.md"].count("[") + 3  # "#", "\n\n"
    assert f"rejected images.md: Markdown with {marks:,} markup characters" in proc.stderr
    assert f"rejected items.json: HTML of {ELEMENTS + 1:,} elements" in proc.stderr


@pytest.mark.parametrize(
    ("name", "text"),
    [
        # a long release with links, emphasis, a table: far under both limits
        (
            "long.md",
            "# Declaration\n\n"
            + "The **Council** met in [Astana](https://sco.example/a) on 4 July 2024.\n\n" * 2_000
            + "|member|share|\n|-|-|\n"
            + "|x|1|\n" * 200,
        ),
        (
            "long.html",
            "<html><body><h1>Declaration</h1>"
            + '<p>The <b>Council</b> met in <a href="/a">Astana</a> on 4 July 2024.</p>' * 5_000
            + "</body></html>",
        ),
    ],
)
def test_a_long_ordinary_release_is_read_as_before(site, name, text):
    (site.sources / name).write_text(text, encoding="utf-8")
    proc = cli(site, "build")
    assert proc.returncode == 0, proc.stderr
    feed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert "Declaration" in [e.title for e in feed.entries]

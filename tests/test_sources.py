"""Drop-in formats: .md (TOML or YAML front matter) and .json beside the seed's .txt."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import lxml.html
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed import sources
from scofeed.build import build as build_feeds
from scofeed.config import load
from scofeed.errors import RejectedInput
from scofeed.normalise import normalise, settings_from
from scofeed.sources import files, markdown
from scofeed.sources.feed import read_feed
from scofeed.sources.meta import html_paragraphs
from scofeed.store import files as file_rows
from tests.normalise_cases import SETTINGS

NOW = datetime(2026, 1, 1, tzinfo=UTC)

MD_TOML = """+++
title = "SCO Secretary-General meets students"
date = 2023-04-21
updated = 2023-04-22T09:00:00+08:00
url = "https://eng.sectsco.org/20230421/939274.html"
tags = ["education", "youth"]
lang = "en"
id = "sco-939274"
+++
On 2 February 2023, SCO Secretary-General **Zhang Ming** met students of the Academy.

* history of the Organisation
* its current agenda
"""

MD_YAML = """---
title: "Генеральный секретарь ШОС встретился со студентами"
date: 2023-04-21
tags: [education]
---
21 апреля 2023 года Генеральный секретарь ШОС Чжан Мин встретился со студентами.
"""


def read(name: str, data: str | bytes, max_bytes: int = 1_000_000):
    raw = data.encode() if isinstance(data, str) else data
    suffix = "." + name.rsplit(".", 1)[-1]
    return sources.read(name, suffix, raw, NOW, max_bytes)


def test_markdown_with_toml_front_matter():
    [r] = read("a.md", MD_TOML)
    assert r.title == "SCO Secretary-General meets students"
    assert r.published == datetime(2023, 4, 21)
    assert r.updated is not None and r.updated.isoformat() == "2023-04-22T09:00:00+08:00"
    assert r.url == "https://eng.sectsco.org/20230421/939274.html"
    assert (r.tags, r.lang, r.key) == (("education", "youth"), "en", "sco-939274")
    assert "<strong>Zhang Ming</strong>" in (r.html or "")
    # the plain-text paragraphs are always there: summary, dates and fingerprint use them
    assert r.text.split("\n\n") == [
        "On 2 February 2023, SCO Secretary-General Zhang Ming met students of the Academy.",
        "history of the Organisation",
        "its current agenda",
    ]


def test_a_tables_row_is_one_paragraph_of_its_cells():
    """Each cell was a paragraph: a table of three rows took six of the paragraphs the
    date is looked for in (the release was dated by the file's time), and a table
    opening the release made its summary its first cell."""
    text = (
        "# Outcome of the SCO Heads of Government meeting\n\nThe Council met in Moscow.\n\n"
        "| Country | Head |\n|---|---|\n| Russia | Mishustin |\n| China | Li Qiang |\n\n"
        "The meeting took place on 28 November 2025.\n"
    )
    [r] = read("t.md", text.encode())
    assert r.text.split("\n\n") == [
        "The Council met in Moscow.",
        "Country | Head",
        "Russia | Mishustin",
        "China | Li Qiang",
        "The meeting took place on 28 November 2025.",
    ]
    assert "<td>Mishustin</td>" in (r.html or "")  # the content keeps its table
    # a cell holding paragraphs of its own is parted by them (no stray "|" paragraph)
    cells = "<table><tr><td><p>a</p></td><td><p>b</p></td><td>c</td></tr></table>"
    assert html_paragraphs(cells) == ["a", "b", "c"]
    late = datetime(2026, 11, 1, tzinfo=UTC)  # a file copied long after
    e = normalise(replace(r, context_date=late), SETTINGS, datetime(2026, 11, 2, tzinfo=UTC))
    assert (e.published.date().isoformat(), e.date_source) == ("2025-11-28", "text")


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.md", "SCO plain md headline\n\nOn 12 March 2025, the SCO met.\n"),
        ("heading.md", "# SCO plain md headline\n\nOn 12 March 2025, the SCO met.\n"),
        ("item.json", '{"title": "SCO plain md headline", "date": "2025-03-12", "html": '
         '"<h1>SCO plain md headline</h1><p>On 12 March 2025, the SCO met.</p>"}'),
    ],
)  # fmt: skip
def test_the_title_said_again_atop_the_content_is_left_out(name, data):
    """The body's text dropped a first line repeating the title, its HTML kept it: the
    title showed twice in readers (a Markdown release's first line, a JSON item's h1)."""
    [r] = read(name, data.encode())
    e = normalise(r, SETTINGS, NOW)
    assert e.title == "SCO plain md headline"
    assert e.content_html == "<p>On 12 March 2025, the SCO met.</p>"
    # the title alone (a feed item whose description is its title), or with a photo:
    # it stays, else the item had no body and was refused
    for html in (
        "<p>SCO plain md headline</p>",
        '<p><b>SCO plain md headline</b><img src="https://x/p.jpg"></p><p>More.</p>',
    ):
        item = json.dumps({"title": "SCO plain md headline", "date": "2025-03-12", "html": html})
        [r] = read("only.json", item.encode())
        assert normalise(r, SETTINGS, NOW).content_html.startswith("<p>")
        assert "SCO plain md headline" in normalise(r, SETTINGS, NOW).content_html
    # a release whose only paragraph is its title too keeps it as its body
    [r] = read("one.md", b"On 12 March 2025, the SCO met in Astana.\n")
    assert (
        normalise(r, SETTINGS, NOW).content_html
        == "<p>On 12 March 2025, the SCO met in Astana.</p>"
    )


def test_markdown_with_yaml_front_matter_and_crlf():
    [r] = read("b.md", MD_YAML.replace("\n", "\r\n"))
    assert r.title == "Генеральный секретарь ШОС встретился со студентами"
    assert r.published == datetime(2023, 4, 21)
    assert r.tags == ("education",)


def test_markdown_without_front_matter_takes_its_opening_heading_as_title():
    [r] = read("c.md", "# SCO *meets* envoy\n\nThe envoy came on 3 June 2020.\n")
    assert r.title == "SCO meets envoy"
    assert r.text == "The envoy came on 3 June 2020."
    assert "<h1>" not in (r.html or "")


@pytest.mark.parametrize(
    "label", ["## Press release", "### Пресс-релиз", "## News in brief", "## Press release No. 45"]
)
def test_a_label_heading_over_the_opening_heading_is_not_the_title(label):
    """ "## Press release" over "# SCO Secretary-General visits Tashkent" was the title,
    and the headline went into the body as a sub-heading."""
    text = f"{label}\n\n# SCO Secretary-General visits Tashkent\n\nOn 2 June 2025 he came.\n"
    [r] = read("l.md", text)
    assert r.title == "SCO Secretary-General visits Tashkent"
    assert r.text == "On 2 June 2025 he came." and "<h" not in (r.html or "")
    # a sub-heading first, with no heading under it, is still the title
    [alone] = read("m.md", "## SCO meets envoy\n\nThe envoy came on 3 June 2020.\n")
    assert alone.title == "SCO meets envoy"


def test_a_date_heading_over_the_opening_heading_dates_the_release():
    """ "## 12 March 2025" over the "# heading" is the release's date, not a label: left
    out with the labels, a copied file was dated by its time (the top of every feed)."""
    text = "## 12 March 2025\n\n# SCO Secretary-General meets envoy\n\nThe envoy came.\n"
    [r] = read("d.md", text)
    assert r.title == "SCO Secretary-General meets envoy"
    late = datetime(2026, 11, 20, tzinfo=UTC)
    entry = normalise(replace(r, context_date=late), settings_from(load(None, [])), late)
    assert (entry.published.date().isoformat(), entry.date_source) == ("2025-03-12", "page")
    assert "12 March" not in entry.content_html  # the stamp is out of the text
    # a dateline is the release's date too (it was dropped as a label)
    lined = "## Beijing, 12 March 2025\n\n# SCO Secretary-General meets envoy\n\nThe envoy came.\n"
    [d] = read("b.md", lined)
    dated = normalise(replace(d, context_date=late), settings_from(load(None, [])), late)
    assert dated.published.date().isoformat() == "2025-03-12"


def test_a_heading_of_a_markdown_body_stays_a_heading_below_the_title():
    """With a ``title`` key, a ``# heading`` in the body was an h1, which the HTML
    allow-list does not keep (the page's title is its one h1): its words ran into the
    text as a bare line. It is a sub-heading, h2."""
    text = "---\ntitle: SCO meets envoy\n---\n# Talks on trade\n\nThe envoy came.\n"
    [r] = read("d.md", text)
    assert r.html is not None and "<h2>Talks on trade</h2>" in r.html and "<h1>" not in r.html
    entry = normalise(r, settings_from(load(None, [])), datetime(2026, 1, 1, tzinfo=UTC))
    assert "<h2>Talks on trade</h2>" in entry.content_html


def test_json_object_and_list():
    obj = {"title": "A", "date": "2020-06-03", "text": "Para one.\n\nPara two.", "id": 7}
    [r] = read("one.json", json.dumps(obj))
    assert (r.origin, r.title, r.key, r.html) == ("one.json", "A", "7", None)
    assert r.text == "Para one.\n\nPara two."
    items = [obj, {"title": "B", "html": "<p>x <b>y</b></p><ul><li>z</li></ul>"}]
    rs = read("many.json", json.dumps(items))
    # by id, else by a hash of the title and date stated
    assert rs[0].origin == "many.json#7"
    assert re.fullmatch(r"many\.json#[0-9a-f]{20}", rs[1].origin)
    assert rs[1].text == "x y\n\nz"


def test_json_list_items_are_named_by_id_or_url_only_where_that_name_is_theirs():
    def item(**name: object) -> dict[str, object]:
        return {"title": "T", "date": "2020-06-03", "text": "x", **name}

    items = [
        item(id="sco-1"),
        item(url="https://sco.int/2"),
        item(id="twice"),
        item(id="twice"),  # given twice: both by place
        item(id=2),  # a number another item is named by: by place
        item(),  # no id or URL: its title and date
        {"title": "U", "text": "x"},  # the same title and date twice: by place
        {"title": "U", "text": "y"},
        {"text": "V\n\nOn 3 June 2020."},  # no title stated: its first line
    ]
    rs = read("l.json", json.dumps(items))
    names = [r.origin.removeprefix("l.json#") for r in rs]
    assert names[:5] == ["sco-1", "https://sco.int/2", "3", "4", "5"]
    assert names[6:8] == ["7", "8"]
    assert all(re.fullmatch("[0-9a-f]{20}", n) for n in (names[5], names[8]))
    assert names[5] != names[8]
    # the text is not part of the name: an edit of it is the same item
    edited = [{**items[5], "text": "edited"}, items[8]]
    assert [r.origin for r in read("l.json", json.dumps(edited))] == [rs[5].origin, rs[8].origin]


def test_html_paragraphs_skip_scripts_and_comments():
    html = "<p>a<br>b</p><script>alert(1)</script><!-- c --><style>p{}</style><div>d<p>e</p></div>"
    assert html_paragraphs(html) == ["a b", "d", "e"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("t.md", "---\nx: !!python/object/apply:os.system [ls]\n---\nbody", "YAML tags"),
        ("a.md", "---\na: &a [x, x]\nb: [*a, *a]\n---\nbody", "anchors and aliases"),
        ("u.md", "+++\ntitle = 'x'\nbody", "never closed"),
        ("v.md", "+++\ntitle = \n+++\nbody", "not valid TOML"),
        ("w.md", "---\n[a, b\n---\nbody", "not valid YAML"),
        ("y.md", "---\nx: " + "[" * 40 + "]" * 40 + "\n---\nbody", "nested too deeply (limit"),
        ("l.md", "---\n- a\n- b\n---\nbody", "must be a table"),
        ("h.md", "---\ntitle: x\npad: '" + "y" * 70_000 + "'\n---\nbody", "front matter too large"),
        ("d.md", "---\ntitle: x\ndate: soon\n---\nbody", "'date' must be a date"),
        # dates YAML reads as dates that cannot be: the key named, the JSON path's words
        ("z3.md", "---\ntitle: x\ndate: 2023-02-30\n---\nbody", "'date' must be a date like"),
        ("z4.md", "---\ntitle: x\ndate: 2023-02-01T25:00:00\n---\nb", "'date' must be a date"),
        ("z5.md", "---\ntitle: x\nupdated: 2023-13-01\n---\nbody", "'updated' must be a date"),
        ("r.md", "---\ntitle: x\nurl: javascript:alert(1)\n---\nbody", "'url' must be an http"),
        ("g.md", "---\ntitle: x\ntags: 5\n---\nbody", "'tags' must be a list"),
        ("k.md", "---\ntitle: x\nlang: English!\n---\nbody", "'lang' must be a language tag"),
        ("e.md", "\n\n", "empty file"),
        ("j.json", "{not json", "not valid JSON"),
        ("u.json", '{"title": "x', "not valid JSON (Unterminated string starting at line 1)"),
        ("n.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ("s.json", '"just a string"', "expected a release object"),
        ("b.json", '{"title": "x"}', "no body"),
        ("i.json", '[{"title": "x", "text": "y"}, {"title": [], "text": "y"}]', "item 2: 'title'"),
        ("z.json", "[]", "empty list"),
        (
            "f.json",
            '{"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": []}',
            "a JSON Feed, not a release: poll it as a [[sources]]",
        ),
        ("big.json", '{"title": "x", "text": "' + "y" * 2000 + '"}', "too large"),
        ("x.xml", "<x/>", "unknown file type"),
    ],
)
def test_bad_and_hostile_inputs_are_refused_with_a_reason(name, data, reason):
    with pytest.raises(RejectedInput) as info:
        read(name, data, max_bytes=1000 if name == "big.json" else 1_000_000)
    assert reason in info.value.reason
    assert info.value.origin == name


@pytest.mark.parametrize(
    ("stated", "lang"), [("EN", "en"), ("Ru", "ru"), ("EN-us", "en-us"), ("zh-Hans", "zh-Hans")]
)
def test_a_stated_language_is_read_in_any_case(stated, lang):
    """BCP 47 tags are case-insensitive: "EN" rejected the whole release."""
    data = json.dumps({"title": "SCO case", "date": "2025-07-01", "lang": stated, "text": "Body."})
    (release,) = read("c.json", data)
    assert release.lang == lang


@pytest.mark.parametrize(
    ("stated", "language"),
    [("en-US-x-sco", "en-US"), ("de-DE-u-co-phonebk", "de-DE"), ("en-a-bbb", "en")],
)
@pytest.mark.parametrize("name", ["r.md", "r.json"])
def test_a_stated_language_with_an_extension_is_read_as_a_pages_lang_is(name, stated, language):
    """A tag with an extension or private use ("en-US-x-sco") rejected a Markdown or
    JSON release, where the same tag in a page's ``lang`` is read without them."""
    if name.endswith(".md"):
        data = f"---\ntitle: SCO tags\ndate: 2025-07-01\nlang: {stated}\n---\nBody.\n"
    else:
        data = json.dumps({"title": "SCO tags", "date": "2025-07-01", "lang": stated, "text": "B."})
    (release,) = read(name, data)
    entry = normalise(release, SETTINGS, datetime(2026, 1, 1, tzinfo=UTC))
    assert entry.language == language


def test_an_impossible_yaml_date_is_rejected_like_the_same_text_in_json(site):
    """PyYAML takes ``2023-02-30`` for a date and fails to make one: the rejection names
    the file and the key in the words the JSON path uses, not an internal ValueError."""
    (site.sources / "z3.md").write_text("---\ntitle: x\ndate: 2023-02-30\n---\nbody\n")
    (site.sources / "z3.json").write_text('{"title": "x", "date": "2023-02-30", "text": "b"}')
    report = build_feeds(site.config(), site.store(), NOW)
    reasons = {r.origin: r.reason for r in report.rejected}
    assert reasons["z3.md"] == reasons["z3.json"], reasons
    assert reasons["z3.md"].startswith("'date' must be a date like 2020-06-03")


def test_yaml_front_matter_is_read_by_libyaml_when_pyyaml_has_it():
    """PyYAML's pure-Python parser took twice as long as normalising the release; its
    wheels carry libyaml, and the loader (with its date and integer rules) runs on it."""
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml")
    assert issubclass(markdown._Loader, yaml.CSafeLoader)
    [r] = read("c.md", "---\ntitle: x\ndate: 2023-02-03\nn: " + "1" * 5000 + "\n---\nbody")
    assert (r.title, r.published) == ("x", datetime(2023, 2, 3))


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ('x: "\\U00110000"', "not valid YAML"),  # past U+10FFFF: a ValueError in PyYAML
        ("x: !!binary aGk=", "YAML tags"),
        ("a: &a [x]\nb: *a", "anchors and aliases"),
        ("x: " + "[" * 33 + "]" * 33, "nested too deeply (limit"),
    ],
)
def test_without_libyaml_the_same_front_matter_is_refused(monkeypatch, front, reason):
    """A PyYAML built without libyaml parses in Python: the same checks, the same
    RejectedInput, never a ValueError from its parser."""
    monkeypatch.setattr(markdown, "_Loader", yaml.SafeLoader)
    with pytest.raises(RejectedInput, match=re.escape(reason)):
        markdown.parse_front_matter("p.md", "---", front)


def test_a_key_scofeed_does_not_read_may_hold_a_value_yaml_cannot_make():
    """Unknown keys are ignored whatever they hold: an impossible date, an integer past
    Python's 4,300 digits, in a list too."""
    text = "---\ntitle: x\ndate: 2023-02-03\nseen: [2023-02-30, 5]\nn: " + "1" * 5000
    [r] = read("ok.md", text + "\n---\nbody")
    assert (r.title, r.published) == ("x", datetime(2023, 2, 3))


def test_every_format_is_published_and_hostile_markup_is_neutralised(site):
    (site.sources / "a.md").write_text(
        MD_TOML + '\n<script>alert("md")</script>\n\n[x](javascript:alert(1)) '
        '<img src="https://x.org/i.png" onerror="alert(2)"> <a href="javascript:alert(3)">y</a>\n',
        encoding="utf-8",
    )
    (site.sources / "b.md").write_text(MD_YAML, encoding="utf-8")
    (site.sources / "c.json").write_text(
        json.dumps(
            [
                {
                    "title": "SCO forum on trade",
                    "date": "2022-05-01",
                    "html": '<p onmouseover="x()">Forum opened.</p><script>alert(4)</script>',
                },
                {"title": "SCO forum closes", "text": "On 3 May 2022 the forum closed."},
            ]
        ),
        encoding="utf-8",
    )
    (site.sources / "bad.md").write_text("---\nx: !!binary aGk=\n---\nbody", encoding="utf-8")
    cfg = site.config()
    store = site.store()
    report = build_feeds(cfg, store, NOW)
    assert (report.entries, report.new) == (5, 5)
    assert [(r.origin, r.reason) for r in report.rejected] == [
        ("bad.md", "YAML tags (!...) are not allowed in front matter")
    ]
    [row] = file_rows.rejects(store.db)
    assert (row["origin"], row["source"]) == ("bad.md", "local")
    parsed = feedparser.parse((site.feeds / "atom.xml").read_bytes())
    assert not parsed.bozo
    assert len(parsed.entries) == 5
    bodies = [e.content[0].value for e in parsed.entries]
    bodies += [e.content[0].value for e in feedparser.parse(site.feeds / "rss.xml").entries]
    doc = json.loads((site.feeds / "feed.json").read_text(encoding="utf-8"))
    bodies += [item["content_html"] for item in doc["items"]]
    for body in bodies:
        tree = lxml.html.fragment_fromstring(body, create_parent="div")
        assert not tree.xpath("//script | //iframe")
        assert not [a for el in tree.iter() for a in el.attrib if a.startswith("on")]
        assert not [h for h in tree.xpath("//@href | //@src") if not h.startswith("https://")]
        assert "alert(2)" not in body and "alert(4)" not in body and 'alert("md")' not in body
    by_title = {e.title: e for e in parsed.entries}
    md = by_title["SCO Secretary-General meets students"]
    assert md.link == "https://eng.sectsco.org/20230421/939274.html"
    assert md.published.startswith("2023-04-21T00:00:00+08:00")  # metadata beats the text
    assert md.updated.startswith("2023-04-22T09:00:00.")  # Atom: + a sub-second offset
    assert md.updated.endswith("+08:00")
    assert {t.term for t in md.tags} >= {"education", "youth"}
    assert by_title["SCO forum closes"].published.startswith("2022-05-03")
    assert by_title["Генеральный секретарь ШОС встретился со студентами"].get("language") in (
        None,
        "ru",
    )


def test_control_characters_never_reach_the_feeds(site):
    (site.sources / "ctl.md").write_text(
        '---\ntitle: "SCO\\x01 meets\\x0b envoy"\ntags: ["a\\x02b"]\n---\n'
        "On 3 June 2020\x01 the envoy\x7f came. <b>bold\x08</b>\n",
        encoding="utf-8",
    )
    (site.sources / "ctl.json").write_text(
        json.dumps({"title": "Forum\x01", "date": "2022-05-01", "html": "<p>x\x0c y</p>"}),
        encoding="utf-8",
    )
    report = build_feeds(site.config(), site.store(), NOW)
    assert (report.entries, report.rejected) == (3, [])
    for name in ("atom.xml", "rss.xml"):
        parsed = feedparser.parse((site.feeds / name).read_bytes())
        assert not parsed.bozo, parsed.bozo_exception
    titles = {e.title for e in feedparser.parse(site.feeds / "atom.xml").entries}
    assert {"SCO meets envoy", "Forum"} < titles


@pytest.mark.parametrize("size", [0, 10, files.READ_STEP * 3 + 7])
def test_a_file_is_read_whole_with_the_size_and_mtime_of_what_was_read(tmp_path, size):
    path = tmp_path / "r.txt"
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path.write_bytes(data)
    os.utime(path, ns=(5, 1_234_567_890))
    got = files.read_bytes(str(path), files.READ_STEP * 4)
    assert got == (data, hashlib.sha256(data).hexdigest(), None, size, 1_234_567_890)
    cap = max(size - 1, 0)
    if size:  # over the cap: refused unread, with its size
        assert files.read_bytes(str(path), cap) == (
            None, "", f"too large ({size} bytes, limit {cap})", size, 1_234_567_890
        )  # fmt: skip


@pytest.mark.skipif(not os.path.exists("/proc/version"), reason="needs Linux /proc")
def test_a_file_whose_stat_size_is_wrong_is_read_to_its_end_or_one_byte_past_the_cap():
    """/proc files say they are empty: the reader goes on until the end or the cap."""
    with open("/proc/version", "rb") as fh:
        whole = fh.read()
    assert os.stat("/proc/version").st_size == 0 and len(whole) > 20
    assert files.read_bytes("/proc/version", 10_000).data == whole
    assert files.read_bytes("/proc/version", 20).data == whole[:21]  # then refused as too large


def test_temporary_files_are_left_alone_in_any_case(site):
    """A Windows tool's X.TMP was quarantined as "unknown file type '.TMP'"; so were an
    Emacs autosave (#x.txt#), a backup (.bak), patch's leftovers (.orig, .rej), and a
    build exited 1 while an editor held unsaved changes."""
    names = ("a.txt.tmp", "B.TMP", "c.Part", "d.txt.SWP", "e.txt~", "#f.txt#", "g.txt.bak",
             "h.md.orig", "i.md.rej", "j.txt.swo", "k.json.crdownload")  # fmt: skip
    for name in names:
        (site.sources / name).write_text("SCO\n\nOn 3 June 2020 the SCO met.\n", "utf-8")
    report = build_feeds(site.config(), site.store(), NOW)
    assert (report.new, report.rejected) == (1, [])  # the seed alone


def test_a_fifo_or_socket_in_sources_is_refused_by_name_never_opened(site):
    """Opening a FIFO would wait for a writer forever: it is never opened. It was left
    out without a word, so a release saved as a named pipe (or a socket left in the
    folder) was missing with nothing saying why: now each is refused, once, naming what
    it is, like any other input that cannot be read."""
    os.mkfifo(site.sources / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(site.sources / "socket.md"))
    (site.sources / "linked.txt").symlink_to("pipe.txt")
    result = []
    build = lambda: result.append(build_feeds(site.config(), site.store(), NOW))  # noqa: E731
    worker = threading.Thread(target=build, daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert result and result[0].new == 1  # the seed
    refused = [
        ("linked.txt", "unreadable (a FIFO, not a regular file)"),
        ("pipe.txt", "unreadable (a FIFO, not a regular file)"),
        ("socket.md", "unreadable (a socket, not a regular file)"),
    ]
    assert sorted((r.origin, r.reason) for r in result[0].rejected) == refused
    assert result[0].fresh_rejects == 3
    again = build_feeds(site.config(), site.store(), NOW)  # still refused, not tried again
    assert sorted((r.origin, r.reason) for r in again.rejected) == refused
    assert again.fresh_rejects == 0
    sock.close()


def test_a_fifo_read_in_place_of_a_file_is_refused_without_waiting(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    got = files.read_bytes(str(tmp_path / "pipe.txt"), 1000).error
    assert got == "a FIFO, not a regular file"


LEASE_HOLDER = """
import fcntl, os, signal, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_WRLCK)
def give_up(signum, frame):  # the kernel asks the holder to give the lease up
    fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
    print("released", flush=True)
    sys.exit(0)
signal.signal(signal.SIGIO, give_up)
print("holding", flush=True)
time.sleep(30)
"""


@pytest.mark.skipif(not hasattr(fcntl, "F_SETLEASE"), reason="needs Linux leases")
def test_a_file_under_another_programs_lease_is_read_once_the_lease_is_given_up(tmp_path):
    """Samba and NFS servers hold leases; a non-blocking open of such a file fails, so
    the reader opens it the usual way and waits for the holder to give the lease up."""
    path = tmp_path / "leased.txt"
    path.write_bytes(b"Title\n\nOn 3 June 2020, text.\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", LEASE_HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        got = files.read_bytes(str(path), 1000)
        assert holder.stdout.readline() == "released\n"
    finally:
        holder.kill()
        holder.wait()
    assert got.error is None and got.data == path.read_bytes()


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=8)
    | st.lists(st.sampled_from(list(b" \t\n\x0b\x0c\r\x1c\xa0\x85a"))).map(bytes)
)
def test_a_file_of_white_space_alone_is_empty_as_strip_tells(data):
    # decode asks isspace() (no copy of the bytes); the rule stays "nothing but strip()"
    try:
        sources.decode("x.txt", data, 10**6)
    except RejectedInput as exc:
        assert (exc.reason == "empty file") == (not data.strip())
    else:
        assert data.strip()


def test_readers_are_found_again_by_suffix():
    assert sources.reader(".txt") is sources.reader(".txt") is sources.reader(".TXT")
    assert sources.reader(".nope") is None


def test_a_feeds_or_a_pages_language_keeps_its_script_and_region():
    """A remote feed's ``<language>`` and a saved page's ``lang`` lost everything after
    the code ("uz-Arab" was "uz"): normalise now keeps the script and region."""
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        b"<link>https://x.org/</link><description>d</description><language>uz-arab</language>"
        b"<item><title>A</title><link>https://x.org/a</link><description>b</description>"
        b"<pubDate>Mon, 02 Jun 2025 00:00:00 GMT</pubDate></item></channel></rss>"
    )
    assert [r.lang for r in read_feed("f", rss, "https://x.org/")] == ["uz-arab"]
    item = {"id": "1", "url": "https://x.org/b", "title": "B", "content_text": "b",
            "date_published": "2025-06-02T00:00:00Z", "language": "pa-Arab-PK"}  # fmt: skip
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "t", "items": [item]}
    assert [r.lang for r in read_feed("j", json.dumps(doc).encode(), "https://x.org/")] == [
        "pa-Arab-PK"
    ]
    page = (
        '<!doctype html><html lang="sd_Arab"><head><title>T</title></head><body><article>'
        "<h1>سنڌي عنوان</h1><p>On 3 June 2025 the SCO met.</p></article></body></html>"
    ).encode()
    assert [r.lang for r in sources.read("p.html", ".html", page, None, 10**6)] == ["sd-Arab"]


@pytest.mark.parametrize(
    ("said", "withdrawn", "reason"),
    [("false", False, ""), ("No", False, ""), ("0", False, ""), ("off", False, ""),
     ("true", True, ""), ("yes", True, ""), ("Issued in error", True, "Issued in error")],
)  # fmt: skip
def test_withdrawn_said_as_text_is_read_as_meant(said, withdrawn, reason):
    """A pipeline writing every value as text: "withdrawn": "false" withdrew the
    release, with the reason "false"."""
    doc = {"title": "SCO forum", "date": "2022-05-01", "withdrawn": said, "text": "It met."}
    [r] = read("w.json", json.dumps(doc))
    assert (r.withdrawn, r.withdrawn_reason) == (withdrawn, reason)


@pytest.mark.parametrize(
    ("written", "key"),
    [("0012", "0012"), ("0x1F", "0x1F"), ("12", "12"), ("2024.5", "2024.5"), ("1e3", "1e3")],
)
def test_a_front_matter_id_is_the_id_as_written(written, key):
    """YAML 1.1 read ``id: 0012`` as the octal 10, the id of another release (which it
    then revised), ``0x1F`` as 31, and ``2024.5`` as a float, refused as an id."""
    [r] = read("a.md", f"---\ntitle: T\ndate: 2022-05-01\nid: {written}\n---\nBody.\n")
    assert r.key == key


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<main>Short lead.</main><main>The ministers met.</main>",
         "Short lead.\n\nThe ministers met."),
        ("<p>Facts.</p><dl><dt>Venue</dt><dd>Beijing</dd></dl>", "Facts.\n\nVenue\n\nBeijing"),
        ("<details><summary>Background</summary>The council met.</details>",
         "Background\n\nThe council met."),
        ("<center>One.</center><address>Two.</address>", "One.\n\nTwo."),
    ],
)  # fmt: skip
def test_the_text_of_a_json_release_parts_at_every_block(html, text):
    """The text the summary and dates are read from ran "Short lead.The ministers met."
    together at main, center, address, details, summary and dl."""
    [r] = read("b.json", json.dumps({"title": "T", "date": "2022-05-01", "html": html}))
    assert r.text == text


def test_an_empty_date_is_none_as_an_empty_url_is():
    """ "date": "" refused the release while "url": "" and "id": "" counted as absent."""
    doc = {"title": "SCO forum", "date": "", "url": "", "text": "On 3 June 2020 it met."}
    [r] = read("e.json", json.dumps(doc))
    assert r.published is None and r.url is None


RAW_TEXT_WORDS = {
    "inline": "On 3 March 2025, the engineers said the <script> tag is banned.",
    "textarea": "On 3 March 2025, the <textarea> element joined the feedback form.",
    "title": "On 3 March 2025, the page's <title> was made shorter.",
    "block": "<style> and <script> elements are no longer allowed in submissions.",
}


@pytest.mark.parametrize("case", sorted(RAW_TEXT_WORDS))
def test_markdown_raw_text_tag_written_as_a_word_keeps_the_rest(case):
    """ "the <script> tag is banned" in a Markdown release, a tag nothing closes, took the
    rest of the release with it (nh3 left it out, or showed "&lt;/p&gt;" for <textarea>),
    and a line opening with <style> made the rest of the document one HTML block. The tag
    is shown as written, as in a .txt release. Found by a content-fidelity review."""
    text = (
        "# Portal rules\n\nOn 3 March 2025, the Secretariat set rules.\n\n"
        f"{RAW_TEXT_WORDS[case]}\n\nThe **second** rule follows.\n\n- one item\n"
    )
    [r] = read("rules.md", text)
    content = normalise(r, SETTINGS, NOW).content_html
    shown = RAW_TEXT_WORDS[case].replace("<", "&lt;").replace(">", "&gt;")
    assert f"<p>{shown}</p>" in content
    assert "<p>The <strong>second</strong> rule follows.</p>" in content
    assert "<li>one item</li>" in content


def test_markdown_script_that_is_closed_is_still_taken_out():
    text = (
        "# Portal rules\n\nOn 3 March 2025, the Secretariat <script>alert(1)</script> met.\n\n"
        "<script>\nsteal()\n</script>\n\nAfter the <style>p{}</style> script.\n\n"
        "```\n<script>kept as code\n```\n"
    )
    [r] = read("rules.md", text)
    content = normalise(r, SETTINGS, NOW).content_html
    assert "alert" not in content and "steal" not in content and "p{}" not in content
    assert "<p>On 3 March 2025, the Secretariat met.</p>" in content
    assert "<p>After the script.</p>" in content
    assert "&lt;script&gt;kept as code" in content

"""HTML release pages: what is read from them, what is left out, what is neutralised."""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import lxml.html
import pytest

from scofeed.build import build as build_feeds
from scofeed.errors import RejectedInput
from scofeed.ingest import ingest
from scofeed.normalise import normalise, settings_from
from scofeed.sources import decode, htmlpage, newslist, reader
from scofeed.sources.htmlpage import PRESETS, decode_html, read_page
from scofeed.sources.listing import listing_links
from scofeed.store import files as file_rows
from scofeed.store import published as published_rows
from tests.normalise_cases import SETTINGS

SCO = Path(__file__).resolve().parent / "data" / "sco"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def page(name: str) -> str:
    return (SCO / name).read_text(encoding="utf-8")


def test_english_article_title_date_from_url_and_clean_body():
    url = "https://eng.sectsco.org/20220125/813122.html"
    (r,) = read_page(url, page("article_en.html"), url=url, selectors=PRESETS["sco"])
    assert r.title == "SCO Secretary-General meets with Ambassador of Pakistan"
    assert r.published == datetime(2022, 1, 25)  # no zone: normalise puts it in site.timezone
    assert r.url == url
    assert r.lang == "en"
    paras = r.text.split("\n\n")
    assert len(paras) == 2  # the repeated headline and the date line are gone
    assert paras[0].startswith("On 24 January 2022, SCO Secretary-General Zhang Ming met")
    for furniture in ("Home", "Latest news", "Another release", "Beijing", "tracker", "inline"):
        assert furniture not in r.text
        assert furniture not in (r.html or "")
    assert '<a href="https://eng.sectsco.org/documents/charter.html">' in (r.html or "")
    assert "<script" not in (r.html or "")


def test_russian_article_metadata_beats_the_url_date():
    url = "http://rus.sectsco.org./news/20170101/220257.html"
    (r,) = read_page(url, page("article_ru.html"), url=url, selectors=PRESETS["sco"])
    assert r.published == datetime(2017, 2, 17, 10, 30, tzinfo=SHANGHAI)
    assert r.title == "Генеральный секретарь ШОС встретился с делегацией"
    assert r.lang == "ru"
    assert r.text.startswith("16 февраля 2017 года Генеральный секретарь ШОС")


def test_chinese_article_date_from_time_element():
    (r,) = read_page("zh.html", page("article_zh.html"), selectors=PRESETS["sco"])
    assert r.published == datetime(2023, 4, 21)
    assert r.lang == "zh-CN"  # <html lang="zh-CN">: the whole tag (feeds: the zh ones)
    assert r.title == "上海合作组织秘书长出席数字论坛"
    assert r.text.split("\n\n") == [
        "2023年4月20日，上海合作组织秘书长张明出席数字经济论坛并致辞。",
        "张明表示，各成员国应加强数字经济领域的合作。",
    ]


def test_title_falls_back_to_og_title_then_title_without_site_suffix():
    og = '<html><head><meta property="og:title" content="From OG"><title>T - SCO</title>'
    (r,) = read_page("a.html", og + "</head><body><p>Body text.</p></body></html>")
    assert r.title == "From OG"
    bare = "<html><head><title>Ministers meet - SCO</title></head><body><p>Body.</p></body></html>"
    assert read_page("b.html", bare)[0].title == "Ministers meet"
    dashed = "<html><head><title>Talks - results</title></head><body><p>Body.</p></body></html>"
    assert read_page("c.html", dashed)[0].title == "Talks - results"  # not a site name


@pytest.mark.parametrize(
    ("h1", "title"),
    [
        ('<span class="date">02.09.2025</span> SCO meets envoys', "SCO meets envoys"),
        ("12 марта 2025 г. | Генсек ШОС встретился с послом", "Генсек ШОС встретился с послом"),
        ("14.03.2025", "Talks in Astana"),  # only a date: no headline, the page's <title>
        # a date that is part of the headline, or none with its year, stays
        ("2025年3月12日，上合组织秘书长会见印度大使", "上合组织秘书长会见印度大使"),
        ("12.03.2025 г. Генсек ШОС встретился с послом", "Генсек ШОС встретился с послом"),
        ("12.03.2025. SCO meets envoys", "SCO meets envoys"),
        ("12.03.2025 Summit", "12.03.2025 Summit"),
        # the date is the headline's own: it opens the sentence the headline is
        ("12 марта 2025 года в Пекине прошла встреча",) * 2,
        ("15 June 2001: the day the SCO was founded",) * 2,
        ("2025 SCO Summit in Tianjin", "2025 SCO Summit in Tianjin"),
        ("12 March: SCO Day", "12 March: SCO Day"),
    ],
)  # fmt: skip
def test_a_date_stamp_in_the_heading_is_no_part_of_the_title(h1, title):
    """A page printing its date in the heading opened every feed's title with it
    ("02.09.2025 SCO Secretary-General meets ..."), and a heading that was only a
    date was the title."""
    head = "<head><title>Talks in Astana - SCO</title></head>"
    body = "<p>On 12 March 2025, the SCO Secretary-General met the Ambassador in Beijing.</p>"
    (r,) = read_page("a.html", f"<html>{head}<body><h1>{h1}</h1>{body}</body></html>")
    assert r.title == title


@pytest.mark.parametrize(
    ("line", "published"),
    [
        ("12.03.2025 | Views: 57", datetime(2025, 3, 12)),
        ("12.03.2025 | Просмотров: 57", datetime(2025, 3, 12)),
        ("Новости · 12.03.2025", datetime(2025, 3, 12)),
        ("12 March 2025 | 10:15", datetime(2025, 3, 12, 10, 15)),  # the time kept too
        ("12.03.2025 | 14:30 | Views: 57", datetime(2025, 3, 12, 14, 30)),
        ("10:15 · 12.03.2025", datetime(2025, 3, 12, 10, 15)),
        # no date, or a part as long as a sentence: not the page's date line
        ("News | Views: 57", None),
        ("12.03.2025 | The Secretariat held a long meeting on energy in Beijing", None),
    ],
)  # fmt: skip
def test_a_date_line_with_a_view_counter_or_a_section_beside_the_date_dates_the_page(
    line, published
):
    """A line "12.03.2025 | Views: 57" was no date line: dropped as furniture with its
    date, and the release dated by the file's time (an old release at the top of every
    feed)."""
    body = "<p>The SCO Secretariat held an expert meeting on energy.</p><p>They met.</p>"
    page_text = f'<html><body><div class="date">{line}</div><h1>SCO meeting</h1>{body}'
    (r,) = read_page("a.html", page_text + "</body></html>")
    assert r.published == published
    assert r.text.startswith("The SCO Secretariat held")


@pytest.mark.parametrize(
    ("lead", "published"),
    [
        ("On 3 June 2021, the SCO Secretary-General met the envoy of Pakistan in Beijing.",
         date(2021, 6, 3)),
        ("2021年6月3日，上海合作组织秘书长在北京会见了巴基斯坦特使。", date(2021, 6, 3)),
        ("<span>On 3 June 2021</span>, the Secretary-General <b>met</b> the envoy.",
         date(2021, 6, 3)),
    ],
)  # fmt: skip
def test_a_lead_written_as_a_div_before_the_paragraphs_is_in_the_text(lead, published):
    """A lead paragraph written as a <div> before the <p>s was in the content (the
    sanitiser makes it a <p>) and not in the text: the release lost the date it states
    (dated by the file's time) and its summary began at the second paragraph."""
    body = f"<div>{lead}</div><p>The parties discussed trade.</p><p>They agreed to meet.</p>"
    page = f"<html><body><h1>SCO envoy talks</h1>{body}</body></html>"
    (r,) = read_page("a.html", page)
    first = lxml.html.fragment_fromstring(f"<div>{lead}</div>").text_content()
    assert r.text.split("\n\n") == [first, "The parties discussed trade.", "They agreed to meet."]
    e = normalise(r, SETTINGS, NOW)
    assert (e.published.date(), e.date_source) == (published, "text")
    assert e.summary.startswith(first[:12])


@pytest.mark.parametrize(
    "line",
    ["Photo: SCO Secretariat", "14.03.2024", "By the press service", "Share: Telegram, VK",
     "Views: 57.", "(Photo: SCO Secretariat press service)"],
)  # fmt: skip
def test_a_div_beside_the_paragraphs_that_is_no_sentence_stays_out_of_the_text(line):
    """A caption, a date line, a byline or a share bar left in a <div> beside the
    paragraphs is not read as one: only a <div> written as a sentence is."""
    body = f"<div>{line}</div><p>On 3 June 2021, the envoy met the Secretary-General.</p>"
    page = f"<html><body><h1>SCO envoy talks</h1>{body}<p>They agreed.</p></body></html>"
    (r,) = read_page("a.html", page)
    assert line not in r.text
    assert r.text.startswith("On 3 June 2021")


@pytest.mark.parametrize(
    ("h1", "title"),
    [
        ("SCO Secretary-General<br>meets envoys", "SCO Secretary-General meets envoys"),
        ("Talks in Astana<br/>\n  on energy", "Talks in Astana on energy"),
        ("Talks<br><script>var x;</script>in Astana", "Talks in Astana"),
    ],
)  # fmt: skip
def test_a_line_break_in_the_headline_parts_its_words(h1, title):
    """Read as the space between the words it parts, as in the body: "Secretary-General
    <br>meets" was read "Secretary-Generalmeets" in every feed's title."""
    body = "<p>On 12 March 2025, the SCO Secretary-General met the Ambassador in Beijing.</p>"
    (r,) = read_page("a.html", f"<html><body><h1>{h1}</h1>{body}</body></html>")
    assert r.title == title


LOGO_PAGES = {
    "container": '<div class="top-menu"><a href="/">Home</a></div><h1 class="logo">'
    'Shanghai Cooperation Organisation</h1><div class="news-detail"><h1>{h}</h1>{p}</div>',
    "header": "<header><h1>Shanghai Cooperation Organisation</h1></header><h1>{h}</h1>{p}",
    "logo-link": '<div id="site-logo"><h1><a href="/">SCO</a></h1></div><h1>{h}</h1>{p}',
    # an article's own <header> holds its headline; an aside's heading is not it
    "article-header": '<article><header class="entry-header"><h1>{h}</h1></header>{p}'
    "</article><aside><h1>Latest news</h1></aside>",
    # an article's classes name its tags ("tag-logo"): no logo of the site
    "article-class": '<header class="site-header"><h1 class="site-title">Shanghai Cooperation '
    'Organisation</h1></header><main><article class="post hentry tag-logo"><header '
    'class="entry-header"><h1 class="entry-title">{h}</h1></header>{p}</article></main>',
    # a logo inside the <article> wrapping the whole page is still the site's
    "logo-in-article": '<article class="page"><header class="site-header"><div class="logo">'
    "<h1>Shanghai Cooperation Organisation</h1></div></header><h1>{h}</h1>{p}</article>",
}


@pytest.mark.parametrize("shape", sorted(LOGO_PAGES))
def test_the_sites_name_in_a_logo_heading_is_not_the_title(shape):
    """The first ``<h1>`` of the page was the title: a site whose logo is one titled
    every release "Shanghai Cooperation Organisation". The article's own heading is."""
    headline = "В Секретариате ШОС прошел семинар"
    para = "<p>31 марта 2025 года в Секретариате ШОС прошел семинар по энергетике.</p>"
    page = LOGO_PAGES[shape].format(h=headline, p=para)
    (r,) = read_page("a.html", f"<html><body>{page}</body></html>")
    assert r.title == headline
    # a class on <body> (WordPress: "wp-custom-logo") marks no heading as the site's
    (wp,) = read_page("w.html", f'<html><body class="wp-custom-logo">{page}</body></html>')
    assert wp.title == headline
    # a page whose one heading is in its header still has that for its title
    (alone,) = read_page("b.html", f"<html><body><header><h1>{headline}</h1></header>{para}")
    assert alone.title == headline


@pytest.mark.parametrize(
    "title",
    [
        "Генсек ШОС посетил Шанхай — Шанхайская организация сотрудничества",
        "上合组织秘书长访问上海 - 上海合作组织",  # "上合" is no part of the full name
        "上合组织秘书长访问上海_上海合作组织",  # glued, as Chinese sites write it
        "上合组织秘书长访问上海－上海合作组织",
    ],
)
def test_the_sites_full_russian_or_chinese_name_leaves_the_title(title):
    page = f"<html><head><title>{title}</title></head><body><p>Текст. 文本。</p></body></html>"
    head = title.split(" — ")[0].split(" - ")[0].split("_")[0].split("－")[0]
    assert read_page("z.html", page)[0].title == head
    for kept in (
        "中俄_合作",
        "中国—上海合作组织环境保护合作中心举行会议",
        "中国－上合组织地方经贸合作示范区",
    ):
        glued = f"<html><head><title>{kept}</title></head><body><p>文本。</p></body></html>"
        assert read_page("g.html", glued)[0].title == kept  # a China–SCO body's name stays


def test_a_page_whose_paragraphs_are_divs_keeps_them_apart():
    """With no <p> in the article, its text was read whole: "...a delegation.The sides
    discussed security." in the content and the summary."""
    page = (
        '<html lang="en"><head><title>SCO Secretary-General receives delegation</title></head>'
        '<body><div class="news-detail"><h1>SCO Secretary-General receives delegation</h1>\n'
        "<div>On 15 June 2025, the SCO Secretary-General received a delegation.</div>"
        "<div>The sides discussed <b>security</b>.</div></div></body></html>"
    )
    (r,) = read_page("p.html", page)
    e = normalise(r, SETTINGS, NOW)
    assert e.paragraphs == (
        "On 15 June 2025, the SCO Secretary-General received a delegation.",
        "The sides discussed security.",
    )
    assert e.content_html == (
        "<p>On 15 June 2025, the SCO Secretary-General received a delegation.</p>"
        "<p>The sides discussed <b>security</b>.</p>"
    )


@pytest.mark.parametrize(
    ("label", "stamp"),
    [("Press releases", "Published: 12.03.2025 10:30"),
     ("Пресс-релизы", "Дата публикации: 12.03.2025 10:30"),
     ("新闻稿", "发布时间：2025-03-12 10:30　来源：上合组织秘书处")],
)  # fmt: skip
def test_a_section_label_above_a_saved_pages_headline_is_chrome(label, stamp):
    """The label kept above the h1 was the first paragraph and the summary, and the date
    line under the h1, no longer the first, stayed in the content."""
    page = (
        f'<html><head><title>X</title></head><body><div class="news-detail"><p>{label}</p>'
        f"<h1>SCO envoys meet in Beijing</h1><p>{stamp}</p>"
        "<p>The envoys met in Beijing to discuss security.</p></div></body></html>"
    )
    (r,) = read_page("s.html", page)
    e = normalise(r, SETTINGS, NOW)
    assert e.summary == "The envoys met in Beijing to discuss security."
    assert e.content_html == "<p>The envoys met in Beijing to discuss security.</p>"
    assert (e.published.isoformat(), e.date_source) == ("2025-03-12T10:30:00+08:00", "page")


@pytest.mark.parametrize(
    ("body", "paragraphs"),
    [
        (
            "<p>The Council met in Moscow.</p><table><tr><th>Country</th><th>Head</th></tr>"
            "<tr><td>Russia</td><td><b>Mishustin</b></td></tr><tr><td>China</td><td></td></tr>"
            "</table><p>The meeting took place on 28 November 2025.</p>",
            ["The Council met in Moscow.", "Country | Head", "Russia | Mishustin", "China",
             "The meeting took place on 28 November 2025."],
        ),
        # a layout table, its cells holding the article's paragraphs: those stay paragraphs
        (
            "<table><tr><td><p>Photo gallery</p></td><td><p>On 12 March 2025, a round table "
            "was held.</p><p>The sides discussed cooperation.</p></td></tr></table>",
            ["Photo gallery", "On 12 March 2025, a round table was held.",
             "The sides discussed cooperation."],
        ),
    ],
)  # fmt: skip
def test_a_tables_row_is_one_paragraph_of_a_saved_page(body, paragraphs):
    """Each cell was a paragraph (the header's not at all): a table of a few rows took
    the paragraphs the date is looked for in; a row is one now, as in Markdown."""
    page = f"<html><head><title>Council - SCO</title></head><body><article>{body}</article>"
    (r,) = read_page("t.html", page + "</body></html>")
    assert r.text.split("\n\n") == paragraphs
    html = r.html or ""  # the content keeps its table, as it was
    assert "</table>" in html and ("<td><b>Mishustin</b></td>" in html) == ("Mishustin" in body)


def test_url_from_og_url_or_canonical_and_language_from_host():
    html = (
        '<html><head><link rel="canonical" href="https://chn.sectsco.org./20230421/1.html">'
        "</head><body><h1>标题</h1><p>正文。</p></body></html>"
    )
    (r,) = read_page("saved.html", html)
    assert r.url == "https://chn.sectsco.org./20230421/1.html"
    assert r.published == datetime(2023, 4, 21)
    assert r.lang == "zh"  # no <html lang>: the chn. host says Chinese


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Shanghai", "2022-01-25T00:00:00+08:00"),
        ("Europe/Moscow", "2022-01-25T00:00:00+03:00"),
    ],
)
def test_a_date_without_a_zone_takes_the_configured_one(zone, expected):
    url = "https://eng.sectsco.org/20220125/813122.html"
    (r,) = read_page(url, page("article_en.html"), url=url, selectors=PRESETS["sco"])
    settings = replace(settings_from(_cfg()), timezone=zone)
    assert normalise(r, settings, NOW).published.isoformat() == expected


def test_hostile_page_is_neutralised():
    (r,) = read_page("hostile.html", page("hostile.html"), selectors=PRESETS["sco"])
    assert "root:" not in r.text and "lollol" not in r.text  # no XXE, no billion laughs
    assert len(r.text) < 1000
    assert "injected" not in r.text
    cfg_settings = settings_from(_cfg())
    entry = normalise(r, cfg_settings, NOW)
    html = entry.content_html
    for bad in ("<script", "javascript:", "onclick", "onmouseover", "onerror", "iframe", "steal"):
        assert bad not in html.lower(), bad
    assert '<a href="https://eng.sectsco.org/20210310/1.html"' in html
    assert entry.title == "SCO holds security consultations"
    # the safe parse: no DTD leftovers in the tree either
    root = htmlpage.parse(page("hostile.html"))
    assert "ENTITY" not in lxml.html.tostring(root, encoding="unicode")


def test_empty_and_bodyless_pages_are_rejected():
    with pytest.raises(RejectedInput, match="empty page"):
        read_page("x.html", "  \n")
    with pytest.raises(RejectedInput, match="no article text"):
        read_page("y.html", "<html><head><title>Only a title</title></head><body></body></html>")


def test_listing_links_pick_articles_only():
    base = "https://eng.sectsco.org./news/"
    links = listing_links(page("listing.html"), base, PRESETS["sco"])
    assert links == [
        "https://eng.sectsco.org./20220125/813122.html",
        "https://eng.sectsco.org./news/20170217/220257.html",
        "https://eng.sectsco.org./20230421/-SCO-Digital-Forum-939274.html",
    ]


def test_custom_xpath_and_css_selectors():
    html = (
        '<html><body><div id="t">Custom title</div><span class="d" content="2021-05-06"></span>'
        '<section class="txt"><p>Para one.</p></section><p>Outside.</p></body></html>'
    )
    sel = htmlpage.Selectors(title=("//div[@id='t']",), date=(".d",), body=("section.txt",))
    (r,) = read_page("c.html", html, selectors=sel)
    assert (r.title, r.text) == ("Custom title", "Para one.")
    assert r.published == datetime(2021, 5, 6)
    with pytest.raises(ValueError, match="not a valid"):
        htmlpage.compile_selector("div[[")


def test_html_is_a_registered_drop_in_format(site):
    assert reader(".html") is reader(".htm") is newslist.read_html
    shutil.copy(SCO / "article_zh.html", site.sources / "zh.html")
    (site.sources / "hostile.htm").write_text(page("hostile.html"), encoding="utf-8")
    (site.sources / "junk.html").write_text("<html><body></body></html>", encoding="utf-8")
    cfg = site.config()
    store = site.store()
    report = build_feeds(cfg, store, NOW)
    assert report.new == 3  # the seed, the Chinese page and the neutralised hostile page
    assert [(r.origin, r.reason) for r in report.rejected] == [
        ("junk.html", "no article text found in the page")
    ]
    titles = {e.title: e for e in published_rows.latest(store.db)}
    zh = titles["上海合作组织秘书长出席数字论坛"]
    assert zh.language == "zh-CN" and zh.date_source == "metadata"
    assert "<script" not in titles["SCO holds security consultations"].content_html
    assert [r["origin"] for r in file_rows.rejects(store.db)] == ["junk.html"]


def test_same_release_under_two_spellings_of_its_url_is_one_entry(site):
    cfg = site.config()
    store = site.store()
    text = page("article_en.html")
    edited = text.replace("and cooperation in trade", "and closer cooperation in trade")
    a = read_page("a", text, url="http://eng.sectsco.org./20220125/813122.html")
    b = read_page("b", edited, url="https://eng.sectsco.org/20220125/813122.html")
    first = ingest(cfg, store, a, NOW)
    second = ingest(cfg, store, b, NOW)
    assert [c.kind for c in first] == ["new"]
    assert second[0].entry.id == first[0].entry.id
    assert published_rows.count(store.db) == 1


def _cfg():
    from scofeed import config

    return config.load(None)


@pytest.mark.parametrize(
    ("lang", "stamp", "lead"),
    [
        ("en", '<div class="date">14.03.2024</div>', "On 13 March 2024, the SG received students."),
        ("en", '<div class="news-date">March 14, 2024</div>', "On 13 March, the SG met them."),
        ("ru", '<div class="news-date">14 марта 2024 года</div>', "13 марта Генсек принял их."),
        ("zh", '<span class="date">2024年3月14日</span>', "3月13日，秘书长会见了学生。"),
    ],
)
def test_a_saved_page_is_dated_by_its_date_element(site, lang, stamp, lead):
    # the sco preset names where a page's date is (.news-date, .date); without a
    # datetime attribute its text is the page's date stamp, not thrown away
    (site.sources / "saved.html").write_text(
        f'<html lang="{lang}"><head><title>Students - SCO</title></head><body>'
        f'<div class="news-detail"><h1>SCO Secretary-General receives students</h1>{stamp}'
        f"<p>{lead}</p><p>They spoke about the SCO.</p></div></body></html>",
        encoding="utf-8",
    )
    build_feeds(site.config(), store := site.store(), NOW)
    [entry] = [e for e in published_rows.latest(store.db) if e.origin == "saved.html"]
    assert entry.published.isoformat() == "2024-03-14T00:00:00+08:00"
    assert entry.event_date is not None and entry.event_date.isoformat() == "2024-03-13"
    assert "14" not in entry.content_html.replace("2024", "")


@pytest.mark.parametrize("meta", ['<meta charset="windows-1251">',
    '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'])  # fmt: skip
def test_a_saved_page_in_the_charset_its_meta_names_is_read_in_it(site, meta):
    """A page saved from the SCO's Russian site in windows-1251, saying so in its <meta>,
    was refused as "not UTF-8", though the same bytes polled were read: the docs say a
    saved page is read the way a polled one is. Bytes that name no charset and are not
    UTF-8 are still refused with that reason."""
    page = (
        f'<html lang="ru"><head>{meta}<title>ШОС</title></head><body>'
        '<div class="news-detail"><h1>Генеральный секретарь ШОС принял студентов</h1>'
        "<p>14 марта 2024 года Генеральный секретарь принял студентов.</p></div></body></html>"
    )
    (site.sources / "saved.html").write_bytes(page.encode("windows-1251"))
    (site.sources / "bare.html").write_bytes(page.replace(meta, "").encode("windows-1251"))
    report = build_feeds(site.config(), store := site.store(), NOW)
    assert [(r.origin, r.reason.split(" (")[0]) for r in report.rejected] == [
        ("bare.html", "not UTF-8")
    ]
    [entry] = [e for e in published_rows.latest(store.db) if e.origin == "saved.html"]
    assert entry.title == "Генеральный секретарь ШОС принял студентов"


@pytest.mark.parametrize("header", ["windows-1251", None])
def test_a_page_said_to_be_windows_1251_and_written_in_utf8_is_read_as_utf8(header):
    """A fetched page declaring windows-1251 (in its Content-Type, or only in a <meta>
    a template left behind) and written in UTF-8 was published as mojibake ("Р’
    РђСЃС‚Р°РЅРµ"): bytes past ASCII that are valid UTF-8 say what they are. A page
    really in windows-1251 is read in it, as ever."""
    page = (
        '<html lang="ru"><head><meta charset="windows-1251"></head><body>'
        "<h1>В Астане открылся форум ШОС</h1><p>Просмотров: 123</p></body></html>"
    )
    assert "В Астане открылся форум ШОС" in decode_html(page.encode("utf-8"), header)
    assert "В Астане открылся форум ШОС" in decode_html(page.encode("windows-1251"), header)
    latin = "<p>Caf\u00e9 \u201cSCO\u201d</p>"  # not UTF-8 past ASCII: as declared
    assert decode_html(latin.encode("windows-1252"), "windows-1252") == latin


def test_a_meta_charset_label_is_read_as_browsers_read_it():
    """A page saying "iso-8859-1" holds windows-1252's curly quotes (0x93, 0x94), and one
    saying "utf-16" whose <meta> could be read at all is no UTF-16: browsers read
    those labels so (WHATWG Encoding), and C1 controls or CJK were published."""

    latin = b'<html><head><meta charset="iso-8859-1"></head><body>\x93SCO\x94 caf\xe9</body>'
    assert "\u201cSCO\u201d caf\u00e9" in decode("p.html", latin, 10**6, page=True)
    wrong = b'<html><head><meta charset="utf-16"></head><body>caf\xe9</body>'
    with pytest.raises(RejectedInput, match="not UTF-8"):
        decode("w.html", wrong, 10**6, page=True)
    # a charset that does not read ASCII as ASCII (EBCDIC, UTF-7) no browser reads a
    # page in: windows-1251 bytes under "ibm037" were published as "ÇÈ_%ÇÁ/À_ÁÈ"
    cyrillic = "<p>Генеральный секретарь</p>".encode("windows-1251")
    for label in ("ibm037", "cp500", "utf-7", "utf-32"):
        odd = f'<html><head><meta charset="{label}"></head><body>'.encode() + cyrillic
        with pytest.raises(RejectedInput, match="not UTF-8"):
            decode("e.html", odd, 10**6, page=True)
        # fetched, such a label is no word at all: the bytes' own charset is found
        polled = htmlpage.decode_html(odd, label, lambda data: "windows-1251")
        assert "Генеральный секретарь" in polled, label


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("gb2312", "gbk", "上合组织秘书长会见朱镕基基金会代表"),  # 镕: GBK, not GB2312
        ("GB_2312-80", "gbk", "朱镕基"),
        ("big5", "big5hkscs", "香港特別行政區"),
        ("shift_jis", "cp932", "上海協力機構①"),  # ①: Windows-31J, not Shift_JIS
        ("euc-kr", "cp949", "상하이협력기구"),
    ],
)
def test_a_legacy_east_asian_label_is_read_as_browsers_read_it(label, codec, text):
    """WHATWG reads "gb2312" as GBK (GB18030), "big5" as Big5-HKSCS, "shift_jis" as
    Windows-31J: Python's strict codecs of those names refused a saved page holding a
    character of the superset, or made a fetched one's U+FFFD (朱F基)."""
    page = f'<html><head><meta charset="{label}"><title>t</title></head><body><p>{text}</p>'
    data = page.encode(codec)
    assert text in decode("p.html", data, 10**6, page=True)
    assert text in htmlpage.decode_html(data, label)


def test_a_saved_page_nested_too_deep_is_refused_for_that_reason(site):
    """libxml2 leaves out what lies deeper than 256 elements: a page nested deeper was
    refused as "the release has a title but no body", which sent its owner looking
    for a missing body. It says why; one nested 200 deep is read."""
    for name, depth in (("deep.html", 300), ("fine.html", 200)):
        (site.sources / name).write_text(
            f"<html><body><h1>SCO forum opens in {name}</h1>" + "<div>" * depth
            + "<p>On 3 March 2024 the forum opened.</p>" + "</div>" * depth + "</body></html>",
            encoding="utf-8",
        )  # fmt: skip
    report = build_feeds(site.config(), store := site.store(), NOW)
    assert [(r.origin, r.reason) for r in report.rejected] == [
        ("deep.html", "HTML nested deeper than 256 elements")
    ]
    assert "SCO forum opens in fine.html" in {e.title for e in published_rows.latest(store.db)}


@pytest.mark.parametrize("preset", ["sco", None])
def test_a_time_inside_a_paragraph_stays_in_its_sentence(preset):
    """A <time> in running text ("will open on <time>4 July</time>") is part of the
    sentence: it stays in the text; a date element standing alone is the page's date
    stamp and leaves the text."""
    html = (
        "<html><body><article><h1>Summit to open in Astana</h1>"
        '<div class="date"><time datetime="2025-03-01">1 March 2025</time></div>'
        '<p>The summit will open on <time datetime="2025-07-04">4 July</time> in Astana.</p>'
        "<p>Delegations are expected from all member states.</p></article></body></html>"
    )
    sel = PRESETS[preset] if preset else None
    (r,) = read_page("summit.html", html, selectors=sel)
    assert r.text.split("\n\n") == [
        "The summit will open on 4 July in Astana.",
        "Delegations are expected from all member states.",
    ]
    assert "4 July" in (r.html or "") and "1 March 2025" not in (r.html or "")
    assert r.published == datetime(2025, 3, 1)


@pytest.mark.parametrize(
    ("stamp", "published"),
    [
        ('<div class="date">14.03.2024</div>', datetime(2024, 3, 14)),  # the page's stamp
        ("", None),  # no stamp: normalise dates it from the text, as any release
    ],
)
def test_a_time_inside_a_sentence_never_dates_the_page(stamp, published):
    """The one ``<time datetime>`` of a page is the event a sentence announces ("will
    open on <time datetime=2024-07-04>4 July</time>"): it is text, not the page's date,
    which the date element (else the text) gives. It dated the release to the event."""
    html = (
        '<html lang="en"><body><div class="news-detail"><h1>Summit to open in Astana</h1>'
        f'{stamp}<p>The summit will open on <time datetime="2024-07-04">4 July</time> '
        "in Astana.</p><p>Delegations are expected.</p></div></body></html>"
    )
    (r,) = read_page("summit.html", html, selectors=PRESETS["sco"])
    assert r.published == published
    assert r.text.startswith("The summit will open on 4 July in Astana.")


def test_a_line_break_parts_the_words_of_a_paragraph_in_the_text():
    """ "green<br>energy" read "greenenergy" in the text (summary, date search, tags);
    the content keeps its <br>."""
    page = (
        "<html><head><title>SCO forum - SCO</title></head><body><article><h1>SCO forum</h1>"
        "<p>On 3 June 2021 the forum opened with green<br>energy talks.</p></article></body></html>"
    )
    [r] = read_page("forum.html", page)
    assert r.text == "On 3 June 2021 the forum opened with green energy talks."
    assert r.html is not None and "green<br>energy" in r.html


SAVED = "https://eng.sectsco.org/20220125/813122.html"


def saved_by_a_browser(url: str, length: int | None = None) -> str:
    """A page as Chrome saves it: its "saved from" line, no og:url or canonical, and
    root-relative links in the article."""
    mark = f"<!-- saved from url=({length if length is not None else len(url):04d}){url} -->"
    return (
        f"<!DOCTYPE html>\n{mark}\n<html><head><title>Talks held - SCO</title></head><body>"
        '<div class="news-detail"><h1>Talks held</h1><p>On 24 January 2022, talks were '
        'held (<a href="/about/">about the SCO</a>; <img src="img/photo.jpg" alt="">).</p>'
        "</div></body></html>"
    )


def test_a_page_saved_by_a_browser_has_the_address_it_was_saved_from():
    (r,) = read_page("saved.html", saved_by_a_browser(SAVED), selectors=PRESETS["sco"])
    assert r.url == SAVED
    assert r.published == datetime(2022, 1, 25)  # the address's date
    assert r.lang == "en"  # the eng. host
    # its relative links lead to the SCO site, where they did on the page
    assert 'href="https://eng.sectsco.org/about/"' in (r.html or "")
    assert 'src="https://eng.sectsco.org/20220125/img/photo.jpg"' in (r.html or "")


def test_a_saved_from_line_whose_length_is_not_the_addresss_is_not_trusted():
    (r,) = read_page("cut.html", saved_by_a_browser(SAVED, length=12), selectors=PRESETS["sco"])
    assert r.url is None and "eng.sectsco.org" not in (r.html or "")


def test_the_pages_own_canonical_address_comes_before_the_saved_from_line():
    page = saved_by_a_browser(SAVED + "?utm_source=x").replace(
        "<head>", '<head><link rel="canonical" href="https://eng.sectsco.org/20220125/1.html">'
    )
    (r,) = read_page("both.html", page, selectors=PRESETS["sco"])
    assert r.url == "https://eng.sectsco.org/20220125/1.html"


def test_date_stamp_lines_are_found_with_each_text_read_a_few_times(monkeypatch):
    """The first and last elements holding text were found by asking every element
    whether each child held any, making the child's whole text each time: a text was
    made again at every level around it (1 MB of words in 250 nested blocks: ~2.5 s of
    the 5 s budget). The stamps found and taken out are the same."""
    made = 0
    text_of = lxml.html.HtmlElement.text_content

    def counted(self):
        nonlocal made
        text = text_of(self)
        made += len(text)
        return text

    words = "<p>" + "The ministers met and adopted a statement. " * 200 + "</p>"
    page = "<div>" * 100 + "<p><span>12.03.2025</span></p>" + words + "</div>" * 100
    container = lxml.html.fragment_fromstring(page + "<p>14.03.2025</p>", create_parent="div")
    size = len(container.text_content())
    monkeypatch.setattr(lxml.html.HtmlElement, "text_content", counted)
    stamps = htmlpage._take_stamps(container, None)
    assert [s.day.day for s in stamps] == [12, 14]
    assert "12.03.2025" not in text_of(container) and "adopted" in text_of(container)
    assert made <= 4 * size, (made, size)  # made at every level: 869,670 for 8,620


def test_two_line_breaks_in_a_row_part_paragraphs():
    """A CMS writing paragraphs as "...<br><br>..." in one block: the whole article
    (its sign-off too) was its first paragraph, so the summary and the fingerprint
    were all of it. One line break stays a space between words."""
    text = (
        "1 августа 2025 года Генсек ШОС встретился с послом.<br><br>Стороны обсудили "
        "вопросы<br>сотрудничества.<br> <br>\n<br>По итогам подписан меморандум."
    )
    page = f'<html><body><article><h1>Встреча</h1><div class="news-text">{text}</div>'
    (r,) = read_page("a.html", page + "</article></body></html>")
    assert r.text.split("\n\n") == [
        "1 августа 2025 года Генсек ШОС встретился с послом.",
        "Стороны обсудили вопросы сотрудничества.",
        "По итогам подписан меморандум.",
    ]
    assert "<br><br>" in (r.html or "")  # the markup as it was


def test_a_page_whose_heading_and_title_are_only_its_date_is_named_by_its_text():
    """Its <h1> and <title> both "14.03.2025": the entry was titled "14.03.2025". The
    headline under it (an <h2>) is the title now, and not repeated in the content."""
    page = (
        '<html lang="en"><head><title>14.03.2025 - SCO</title></head><body><div>'
        "<h1>14.03.2025</h1><h2>SCO Secretary-General meets Ambassador of Egypt</h2>"
        "<p>On 14 March 2025, the Secretary-General met the Ambassador of Egypt.</p>"
        "<p>They discussed dialogue partnership.</p></div></body></html>"
    )
    (r,) = read_page("h.html", page)
    assert r.title is None
    e = normalise(r, SETTINGS, NOW)
    assert e.title == "SCO Secretary-General meets Ambassador of Egypt"
    assert e.summary.startswith("On 14 March 2025") and "Egypt</h2>" not in e.content_html

"""normalise.headline: the title and the body, page chrome before the headline, and a
stand-in headline when there is none."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scofeed.dates import LINE_CONTEXT, find_dates, is_date_line
from scofeed.errors import NormaliseError
from scofeed.model import Release
from scofeed.normalise import (
    collapse,
    compare_key,
    headline_from,
    normalise,
    script_of,
    split_release,
)
from scofeed.normalise.headline import (
    _CHROME_WORDS,
    _CRUMB_ASCII,
    _CRUMB_GLYPH,
    _is_chrome,
)
from scofeed.sources import read
from tests.normalise_cases import NOW, SETTINGS, entry, local


def test_headline_after_breadcrumb_date_line_and_section_name():
    e = entry("headline_after_chrome.txt")
    assert e.title == "SCO Secretary-General meets with Jingdong vice-president"
    assert e.paragraphs[0].startswith("SCO Secretary-General Vladimir Norov met")
    assert len(e.paragraphs) == 2
    # the date line before the headline is the page's date stamp, time included
    assert local(e) == "2020-06-03T10:30:00+08:00"
    assert e.date_source == "page"


def test_missing_headline_becomes_the_first_sentence_without_its_date_clause():
    e = entry("headline_missing.txt")
    assert e.title.startswith("SCO Secretary-General Vladimir Norov met with Jingdong")
    assert e.title.endswith("…")  # shortened at a word boundary
    assert len(e.title) <= 110
    assert "On 3 June" not in e.title
    # nothing is lost: the lead paragraph stays in the body, wrapped lines joined
    assert e.paragraphs[0].startswith("On 3 June 2020, SCO Secretary-General")
    assert e.paragraphs[0].endswith("friendly atmosphere.")
    assert local(e) == "2020-06-03T00:00:00+08:00"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        (
            "12 марта 2025 года в Пекине состоялась встреча Генерального секретаря ШОС с "
            "Послом Индии.\n\nСтороны обсудили вопросы сотрудничества.\n",
            "В Пекине состоялась встреча Генерального секретаря ШОС с Послом Индии",
        ),
        (
            "2025年3月12日，上合组织秘书长在北京会见印度驻华大使。\n\n双方讨论了合作问题。\n",
            "上合组织秘书长在北京会见印度驻华大使",
        ),
        (
            "On 12 March 2025 in Beijing the Secretary-General met the Ambassador of India."
            "\n\nThe sides discussed cooperation.\n",
            "In Beijing the Secretary-General met the Ambassador of India",
        ),
        (
            "12 марта 2025 г.\n\n12 марта 2025 года в Секретариате ШОС состоялся круглый "
            "стол.\n\nУчастники обсудили проекты.\n",
            "В Секретариате ШОС состоялся круглый стол",
        ),
    ],
)
def test_a_short_first_sentence_opening_with_its_date_stays_in_the_body(text, title):
    """A date lead before a lower-case word ("12 марта 2025 года в Пекине", "On 12
    March 2025 in Beijing") or a short Chinese sentence was taken for the headline:
    the release's first sentence left its content and its summary."""
    e = normalise(Release(origin="lead.txt", text=text), SETTINGS, NOW)
    assert e.title == title
    lead = next(p for p in text.split("\n\n") if len(p) > 20)  # past a date-only line
    assert e.paragraphs[0] == lead
    assert e.summary.startswith(e.paragraphs[0][:20]) and local(e).startswith("2025-03-12")


@pytest.mark.parametrize(
    "headline",
    [
        "1 декабря 2025 года в Бишкеке откроется заседание Совета глав правительств ШОС",
        "On 9 May 2025 the SCO Secretariat marked the 80th anniversary of Victory",
        "15 июня 2025 г. в Секретариате ШОС отметили День ШОС",
    ],
)
def test_a_headline_opening_with_its_date_and_no_full_stop_stays_the_headline(headline):
    """A date lead before a lower-case word counts as a sentence's only in a line that
    ends as one: a headline has no full stop."""
    text = f"{headline}\n\nThe meeting will be held in the capital of the chairing country.\n"
    e = normalise(Release(origin="h.txt", text=text), SETTINGS, NOW)
    assert e.title == headline
    assert e.paragraphs[0].startswith("The meeting will be held")


def test_missing_headline_in_chinese_is_the_first_sentence_shortened():
    e = entry("headline_missing_zh.txt")
    assert e.title.startswith("上海合作组织秘书长弗拉基米尔")
    assert len(e.title) <= 40
    assert e.language == "zh"
    assert len(e.paragraphs) == 2
    assert local(e) == "2020-06-03T00:00:00+08:00"


LONG = "In June 2025 the Secretariat of the SCO met the envoys of all its member states in Beijing"


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("On 14 June 2025, the SCO met.\n", "On 14 June 2025, the SCO met"),
        ("\U0001f389\U0001f389\n\nOn 14 June 2025, the SCO met.\n", "On 14 June 2025, the SCO met"),
        # a sentence of 15 words is body text: it was dropped as its own title's repeat
        (f"{LONG}.\n", LONG),
    ],
)
def test_a_release_of_one_sentence_opening_with_a_date_is_its_title_and_body(text, title):
    """A short line opening "On <date>," may be a headline when a body follows it; as the
    whole release it is the body, and a stand-in title is made from it: it was taken for
    a headline (or, longer, dropped from the body as its title's repeat), and the
    release rejected as 'a title but no body'."""
    assert split_release(Release("x", text))[:2] == (title, [text.strip().splitlines()[-1]])
    e = normalise(Release("x.txt", text, context_date=NOW), SETTINGS, NOW)
    assert (e.title, e.summary) == (title, text.strip().splitlines()[-1])


def test_short_headline_followed_by_its_body_is_still_the_headline():
    release = Release("x", "SCO meets envoy\nThe envoy came to the SCO.\n")
    title, paras, _preamble = split_release(release)
    assert title == "SCO meets envoy"
    assert paras == ["The envoy came to the SCO."]


def test_headline_from_keeps_abbreviations_inside_the_sentence():
    para = "Mr. Norov met Dr. Xu Feng at the SCO Secretariat in Beijing. They spoke."
    assert headline_from(para) == "Mr. Norov met Dr. Xu Feng at the SCO Secretariat in Beijing"


@pytest.mark.parametrize(
    ("headline", "title"),
    [
        ("Title & <b>bold</b>", "Title & bold"),  # a plain-text title carries no markup
        ("Trade > 5% growth", "Trade > 5% growth"),
        ("Norov meets Wang Yi | Beijing", "Norov meets Wang Yi | Beijing"),
        ("SCO / BRICS forum", "SCO / BRICS forum"),
    ],
)
def test_headlines_with_separator_characters_are_not_page_furniture(headline, title):
    e = normalise(Release("h.txt", f"{headline}\n\nOn 6 May 2021 text here.\n"), SETTINGS, NOW)
    assert e.title == title
    assert e.paragraphs == ("On 6 May 2021 text here.",)


def test_two_part_breadcrumbs_with_breadcrumb_glyphs_are_still_furniture():
    text = "Home › News\n\nSCO holds forum\n\nOn 6 May 2021 the forum met.\n"
    assert normalise(Release("c.txt", text), SETTINGS, NOW).title == "SCO holds forum"


@pytest.mark.parametrize(
    ("chrome", "headline", "body"),
    [
        ("Пресс-релизы", "Генсек ШОС встретился с Послом Ирана",
         "18 июня 2025 года Генеральный секретарь ШОС встретился с Послом Ирана."),
        ("Последние новости\n\nПечать", "Генсек ШОС встретился с Послом Ирана",
         "18 июня 2025 года Генеральный секретарь ШОС встретился с Послом Ирана."),
        ("新闻稿\n\n打印", "上合组织秘书长会见伊朗大使",
         "2025年6月18日，上合组织秘书长会见伊朗驻华大使。"),
        ("最新消息", "上合组织秘书长会见伊朗大使",
         "2025年6月18日，上合组织秘书长会见伊朗驻华大使。"),
        # a breadcrumb of two section names (three parts were needed)
        ("Home > News", "SCO Secretary-General meets young diplomats",
         "On 25 November 2025, SCO Secretary-General met young diplomats."),
        ("Главная / Новости", "Генсек ШОС встретился с Послом Ирана",
         "18 июня 2025 года Генеральный секретарь ШОС встретился с Послом Ирана."),
    ],
)  # fmt: skip
def test_russian_and_chinese_page_chrome_before_the_headline_is_left_out(chrome, headline, body):
    """The English "Press releases", "Print", "Latest news" were skipped, their Russian
    and Chinese words became the title."""
    e = normalise(Release("c.txt", f"{chrome}\n\n{headline}\n\n{body}\n"), SETTINGS, NOW)
    assert (e.title, e.paragraphs) == (headline, (body,))


@pytest.mark.parametrize(
    "line",
    [
        "Published: 16.06.2025 10:30",
        "Дата публикации: 16.06.2025 10:30",
        "发布时间：2025-06-16 10:30    来源：上合组织秘书处",
        "2025/06/16 10:30",  # slashes: it became the title
        "2025.06.16 10:30",
    ],
)
def test_a_labelled_date_line_under_the_headline_is_the_pages_date(line):
    """Only the English labels were read: "Дата публикации:" and "发布时间：" stayed in
    the text and became its summary."""
    text = f"SCO envoys meet\n\n{line}\n\nThe envoys met in Beijing to discuss security.\n"
    e = normalise(Release("d.txt", text, context_date=NOW), SETTINGS, NOW)
    assert e.summary == "The envoys met in Beijing to discuss security."
    assert (local(e), e.date_source) == ("2025-06-16T10:30:00+08:00", "page")


def test_a_release_of_chrome_only_has_no_body():
    with pytest.raises(NormaliseError, match="no body"):
        normalise(Release("x.txt", "Home > News\n"), SETTINGS, NOW)


# -- the chrome test's quick checks ----------------------------------------------------


def _is_chrome_slow(line: str, dominant: str | None) -> bool:
    """_is_chrome as first written, without its quick checks."""
    text = collapse(line)
    if is_date_line(text) or compare_key(text) in _CHROME_WORDS:
        return True
    if len(text) <= 120:
        for pattern, least in ((_CRUMB_GLYPH, 2), (_CRUMB_ASCII, 3)):
            parts = [p for p in pattern.split(text) if p.strip()]
            if len(parts) >= least and all(len(p.split()) <= 4 for p in parts):
                return True
            if len(parts) == 2 and all(compare_key(p) in _CHROME_WORDS for p in parts):
                return True  # "Home > News" (added since: two section names)
    if len(text) < 120 and dominant is not None:
        own = script_of(text)
        return own is not None and own != dominant
    return False


chrome_words = ["Home", "News", "»", "›", ">", "|", "/", " ", "  ", "3 June 2020", "новости"]
chrome_words += ["新闻", "a", "Пекин", "北京"]
chrome_lines = st.lists(st.sampled_from(chrome_words), max_size=10).map("".join)


@settings(max_examples=500, deadline=None)
@given(
    line=st.one_of(chrome_lines, st.text(max_size=40)),
    dominant=st.sampled_from([None, "latin", "cyrillic", "cjk"]),
)
def test_chrome_quick_checks_agree_with_the_slow_form(line, dominant):
    text = collapse(line)
    hits = find_dates(text, LINE_CONTEXT)
    assert _is_chrome(text, dominant, hits) == _is_chrome_slow(line, dominant)


@pytest.mark.parametrize(
    ("dateline", "day"),
    [
        ("Beijing, 12 March 2025", "2025-03-12"),
        ("12 March 2025, Beijing", "2025-03-12"),
        ("New Delhi – 12 March 2025", "2025-03-12"),
        ("Пекин, 12 марта 2025 г.", "2025-03-12"),
        ("北京，2025年3月12日", "2025-03-12"),
        # an agency's city in capitals is a place, not an acronym
        ("BEIJING, March 12, 2025", "2025-03-12"),
        ("NEW DELHI, 12 March 2025", "2025-03-12"),
        ("ПЕКИН, 12 марта 2025 г.", "2025-03-12"),
        # a dash or a colon after the date, leading into the text below (it was the title)
        ("Пекин, 12 марта 2025 г. –", "2025-03-12"),
        ("Beijing, 12 March 2025 –", "2025-03-12"),
        ("Beijing, 12 March 2025:", "2025-03-12"),
        ("Astana, 4 July 2025 —", "2025-07-04"),
    ],
)
def test_a_dateline_before_the_headline_is_not_the_title(dateline, day):
    """A place and a date on the first line, then the headline: the dateline was the
    title and the headline was taken for the first paragraph. It is furniture, and
    its date dates the release; "SCO Day, 15 June 2025" stays a headline."""
    headline = "SCO Secretary-General meets the Ambassador of India"
    text = f"{dateline}\n\n{headline}\n\nThe Secretary-General met the Ambassador.\n"
    e = normalise(Release(origin="d.txt", text=text), SETTINGS, NOW)
    assert e.title == headline
    assert e.summary == "The Secretary-General met the Ambassador."
    assert local(e)[:10] == day
    # a headline of that shape stays one: an acronym or an event's name, or nothing
    # headline-like below it (a body alone, or a sentence)
    for first, below in (
        ("SCO Day, 15 June 2025", "The member states marked SCO Day in Beijing.\n\nMore."),
        ("BRICS, 15 June 2025", "Leaders met in Kazan\n\nThey signed a declaration."),
        ("Victory Day, 9 May 2025", "SCO congratulates the veterans\n\nThe SG spoke."),
        ("Astana Summit, 4 July 2024", "Leaders met\n\nThey signed a declaration."),
        ("Beijing, 12 March 2025", "The Secretary-General met the Ambassador."),
        ("Beijing, 12 March 2025", "The SG met the envoy.\n\nThey talked."),
    ):
        e = normalise(Release(origin="t.txt", text=f"{first}\n\n{below}\n"), SETTINGS, NOW)
        assert e.title == first, (first, below)


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("8 июня 2020 года Генеральный секретарь ШОС принял посла Индии в Пекине.",
         "Генеральный секретарь ШОС принял посла Индии в Пекине"),
        ("On 12 March 2025 SCO Secretary-General Zhang Ming met the Ambassador of India.",
         "SCO Secretary-General Zhang Ming met the Ambassador of India"),
        # no "On", no "года": the date is the sentence's subject, and stays
        ("12 March 2025 marks the twentieth anniversary of the signing of the Charter.",
         "12 March 2025 marks the twentieth anniversary of the signing of the Charter"),
        ("From 1 July 2025 Uzbekistan chairs the Shanghai Cooperation Organisation.",
         "From 1 July 2025 Uzbekistan chairs the Shanghai Cooperation Organisation"),
    ],
)  # fmt: skip
def test_a_stand_in_title_drops_a_leading_date_clause_without_its_comma(sentence, title):
    """The leading date clause was dropped only when a comma followed it: the usual
    Russian opening ("8 июня 2020 года Генеральный...") kept its date in the title."""
    assert headline_from(sentence) == title


@pytest.mark.parametrize(
    "tail",
    [
        ' <a href="https://x.example/">the link text</a> and more words after it',
        ' <b class="x">bold</b> and more words after it',
        " &amp;nbsp; and more words after it",
    ],
)
@pytest.mark.parametrize("stated", [False, True])
def test_a_long_title_is_cut_after_its_markup_is_out(tail, stated):
    """A headline over ``TITLE_MAX`` is cut at a word, and a tag holds spaces: cut
    first, it kept "... <a…" (or "<b…"), which no pattern takes for markup, and every
    reader showed it as text. The title is plain text first, then cut."""
    head = "W" * 290 + tail
    text = "On 3 June 2020, the body of the release.\n"
    if stated:
        e = normalise(Release("x.json", text, title=head, context_date=NOW), SETTINGS, NOW)
    else:
        e = normalise(Release("x.txt", head + "\n\n" + text, context_date=NOW), SETTINGS, NOW)
    assert len(e.title) <= 300 and e.title.endswith("…")
    assert "<" not in e.title and "&" not in e.title, e.title
    assert e.title.startswith("W" * 290 + " ")


def test_a_stand_in_headline_is_cut_after_its_markup_is_out():
    body = "On 3 June 2020, " + "word " * 20 + '<a href="https://x.example/">link text</a> ' * 5
    e = normalise(Release("x.txt", body.strip() + ".\n", context_date=NOW), SETTINGS, NOW)
    assert "<" not in e.title and e.title.endswith("…"), e.title


BODY = "On 2 April 2025, the SCO Secretariat hosted a Navruz celebration.\n\nDiplomats attended."


@pytest.mark.parametrize(
    "tail",
    [
        "Share: Telegram VK WhatsApp\n\nPrint",
        "Share: Telegram VK WhatsApp\nPrint",  # no blank line between them
        "Поделиться: ВКонтакте Telegram\n\nПечать\n\nВсе новости",
        "分享到：微信 微博\n\n打印\n\n返回列表",
        "Back to news",
        "Photo: SCO Secretariat\n",
    ],
)
@pytest.mark.parametrize("suffix", [".txt", ".md"])
def test_page_furniture_ending_a_text_release_leaves_it(tail, suffix):
    """A release copied from a page with its share bar, "Print" and back link: the
    text path dropped such lines only above the headline, and every feed ended the
    release with "<p>Share: Telegram VK WhatsApp</p><p>Print</p>"."""
    text = f"SCO Secretariat hosts Navruz celebration\n\n{BODY}\n\n{tail}\n"
    if suffix == ".md":
        text = "---\ntitle: SCO Secretariat hosts Navruz celebration\n---\n" + f"{BODY}\n\n{tail}\n"
    (release,) = read("navruz" + suffix, suffix, text.encode(), None, 100_000)
    got = normalise(release, SETTINGS, NOW)
    assert got.paragraphs[-1] == "Diplomats attended."
    assert got.content_html.endswith("<p>Diplomats attended.</p>"), got.content_html


@pytest.mark.parametrize("suffix", [".txt", ".md"])
@pytest.mark.parametrize(
    ("first", "last"),
    [
        (  # wrapped, its last line reads as a back link ("вернуться к ...")
            "2 апреля 2025 года в Секретариате ШОС отметили праздник Навруз.",
            "Стороны договорились\nвернуться к этому вопросу.",
        ),
        (BODY, "The envoy said he was glad to come\nback."),
    ],
)
def test_a_wrapped_last_paragraph_is_no_furniture_whatever_its_last_line(suffix, first, last):
    """Judged a line at a time, a paragraph's wrapped last line went with the share
    bar below it ("...договорились" was left of the sentence)."""
    body = f"{first}\n\n{last}\n\nShare: Telegram VK WhatsApp\n"
    text = f"Navruz at the SCO Secretariat\n\n{body}"
    if suffix == ".md":
        text = "---\ntitle: Navruz at the SCO Secretariat\n---\n" + body
    (release,) = read("navruz" + suffix, suffix, text.encode(), None, 100_000)
    got = normalise(release, SETTINGS, NOW)
    assert got.paragraphs[-1] == last.replace("\n", " ")


def test_a_release_that_is_only_a_headline_and_a_furniture_line_keeps_both():
    """The first two lines stay whatever they are: a release is never emptied."""
    (release,) = read("print.txt", ".txt", b"SCO meets envoys\n\nShare: Telegram VK\n", None, 99)
    assert release.text == "SCO meets envoys\n\nShare: Telegram VK\n"


def test_a_markdown_body_opening_with_an_image_and_its_credit_is_summed_up_by_its_text():
    """The credit under an opening image was the summary (and RSS description) and the
    first paragraph; the content keeps it, under its image."""
    text = (
        "---\ntitle: Forum opens\ndate: 2025-07-01\n---\n"
        "![Forum opening](https://sco.example/a.jpg)\n\n*Photo: SCO Secretariat*\n\n"
        "On 1 July 2025, the forum opened in Tianjin.\n\nIt ends on Friday.\n"
    )
    (release,) = read("forum.md", ".md", text.encode(), None, 100_000)
    got = normalise(release, SETTINGS, NOW)
    assert got.summary == "On 1 July 2025, the forum opened in Tianjin."
    assert got.paragraphs == ("On 1 July 2025, the forum opened in Tianjin.", "It ends on Friday.")
    assert "<em>Photo: SCO Secretariat</em>" in got.content_html


def test_a_markdown_release_that_is_only_a_credit_keeps_it():
    (release,) = read("c.md", ".md", b"---\ntitle: Photo\n---\nPhoto: SCO Secretariat\n", None, 99)
    assert release.text == "Photo: SCO Secretariat"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("SCO Secretary-General holds talks with the Minister of Foreign Affairs of the",
         "Republic of Belarus on the eve of the Council of Foreign Ministers meeting"),
        ("Генеральный секретарь ШОС провел встречу с",
         "министром иностранных дел Республики Беларусь"),
        ("SCO Secretariat hosts round table on trade,", "transport and energy cooperation"),
        ("SCO Secretary-General holds talks with", "Foreign Minister of the Kyrgyz Republic"),
        ("SCO Secretary-General meets Ambassador of Pakistan to",
         "the People's Republic of China"),
        # a Chinese one on its comma, joined with no space between the characters
        ("上合组织秘书长会见哈萨克斯坦、", "吉尔吉斯斯坦两国外长"),
        ("上合组织秘书长会见哈萨克斯坦外长，", "并出席招待会"),
    ],
)  # fmt: skip
def test_a_headline_copied_across_two_lines_is_one_title(first, second):
    """Copied from a page, a long headline comes as two lines: the title was the first,
    cut on "of the", and the second was the summary."""
    body = "On 6 April 2025, the Secretary-General held talks in Beijing."
    joined = f"{first} {second}"
    if "上合" in first:
        body, joined = "2025年4月6日，上合组织秘书长在北京会见两国外长。", first + second
    elif not first.isascii():
        body = "6 апреля 2025 года Генеральный секретарь ШОС провел переговоры в Пекине."
    e = normalise(Release("w.txt", f"{first}\n{second}\n\n{body}\n"), SETTINGS, NOW)
    assert (e.title, e.summary) == (joined, body)


@pytest.mark.parametrize(
    "second",
    ["12 March 2025", "The talks were held in Beijing.", "Views: 345"],
)
def test_a_line_under_a_headline_that_ends_whole_is_not_joined_to_it(second):
    """A date, a sentence, or a headline that ends on a full word: the lines stay apart."""
    first = "SCO Secretary-General holds talks with the Minister of Foreign Affairs"
    body = "On 6 April 2025, the Secretary-General held talks in Beijing."
    e = normalise(Release("w.txt", f"{first}\n{second}\n\n{body}\n"), SETTINGS, NOW)
    assert e.title == first
    dated = "SCO Secretary-General holds talks with the"  # a date below: never joined
    e = normalise(Release("d.txt", f"{dated}\n12 March 2025\n\n{body}\n"), SETTINGS, NOW)
    assert e.title == dated


@pytest.mark.parametrize(
    ("facts", "day"),
    [
        ("18.03.2025 15:20\nViews: 345", "2025-03-18T15:20:00+08:00"),
        ("\nDushanbe, 18 March 2025", "2025-03-18T00:00:00+08:00"),
        ("Dushanbe, 18 March 2025", "2025-03-18T00:00:00+08:00"),
        ("18 марта 2025 г.\nМосква", "2025-03-18T00:00:00+08:00"),
        ("Views: 345\nDushanbe, 18 March 2025", "2025-03-18T00:00:00+08:00"),
    ],
)
def test_the_date_or_dateline_under_a_headline_is_no_body_text(facts, day):
    """ "18.03.2025 15:20" / "Views: 345" under the headline were one paragraph: the
    date was no stamp (the release went by its file's date) and the whole was its
    first paragraph. A dateline under the headline was its first paragraph too: it is
    read as one above it is."""
    title = "SCO Secretariat hosts a cultural evening"
    body = "On 18 March the SCO Secretariat hosted a cultural evening for diplomats."
    if not facts.isascii():
        title = "В Секретариате ШОС прошел культурный вечер"
        body = "18 марта в Секретариате ШОС прошел культурный вечер для дипломатов."
    text = f"{title}\n{facts}\n\n{body}\n\nMore."
    e = normalise(Release("f.txt", text, context_date=datetime(2025, 12, 1)), SETTINGS, NOW)
    assert local(e) == day and e.date_source in ("page", "text")
    assert "18" not in e.content_html.partition(body)[0]  # no date line above the body
    assert "Views" not in e.content_html  # a view counter is no text of the release
    assert e.summary == body


@pytest.mark.parametrize(
    ("line", "title", "day"),
    [
        ("SCO Secretary-General meets Ambassador of Iran 14.03.2025",
         "SCO Secretary-General meets Ambassador of Iran", "2025-03-14"),
        ("SCO Secretary-General meets Ambassador of Iran | 2025-03-14 10:30",
         "SCO Secretary-General meets Ambassador of Iran", "2025-03-14"),
        ("10:30 SCO Secretary-General opens photo exhibition",
         "SCO Secretary-General opens photo exhibition", "2025-05-03"),
        ("SCO Day, 15 June 2025", "SCO Day, 15 June 2025", "2025-06-15"),  # in words: stays
        ("Summit 14.03.2025", "Summit 14.03.2025", "2025-03-14"),  # too little left
        # the headline's own date (a communiqué's): kept, with the word it hangs on
        ("Joint communiqué of the meeting of SCO Foreign Ministers of 14.03.2025",
         "Joint communiqué of the meeting of SCO Foreign Ministers of 14.03.2025",
         "2025-03-14"),
        # as Russian writes a date: "г." after the year
        ("Генсек ШОС встретился с послом Ирана 14.03.2025 г.",
         "Генсек ШОС встретился с послом Ирана", "2025-03-14"),
        # a Chinese headline of 15 characters: most are 10 to 20
        ("上合组织秘书长会见伊朗驻华大使 2025-03-14", "上合组织秘书长会见伊朗驻华大使",
         "2025-03-14"),
        ("上合组织峰会 2025-03-14", "上合组织峰会 2025-03-14", "2025-03-14"),  # too little left
    ],
)  # fmt: skip
def test_a_stamp_in_figures_at_a_headlines_end_or_a_time_at_its_start_goes(line, title, day):
    """A page's list item copied whole kept its date stamp (or time) in every feed's
    title; the date still dates the release."""
    body = "On 3 May 2025 the Secretary-General met guests in Beijing."
    if "June" in line:
        body = "The member states marked SCO Day in Beijing on 15 June 2025."
    elif "03" in line:
        body = "The Secretary-General met the Ambassador in Beijing."
        if not line.isascii():
            body = "双方交换了意见。" if "上合" in line else "Стороны обменялись мнениями."
    e = normalise(Release("s.txt", f"{line}\n\n{body}\n"), SETTINGS, NOW)
    assert (e.title, local(e)[:10]) == (title, day)


@pytest.mark.parametrize(
    ("first", "deck"),
    [
        ("SCO Secretary-General: the future we work for",
         "Remarks at the Valdai Discussion Club"),
        ("Tianjin Summit: the SCO family Kazakhstan believes in",
         "Interview with Kazakh Ambassador"),
    ],
)  # fmt: skip
def test_a_headline_ending_on_a_preposition_keeps_its_deck_apart(first, deck):
    """An English headline may end on "for" or "in": the deck under it was glued on."""
    body = "On 12 March 2025, SCO Secretary-General spoke at the club."
    e = normalise(Release("k.txt", f"{first}\n{deck}\n\n{body}\n"), SETTINGS, NOW)
    assert e.title == first


def test_a_view_counter_alone_under_a_headline_is_no_text():
    text = (
        "SCO Secretary-General meets students of Beijing universities\nViews: 345\n\n"
        "On 18 March 2025 the Secretary-General met students of Beijing universities.\n"
    )
    e = normalise(Release("v.txt", text), SETTINGS, NOW)
    assert "Views" not in e.content_html and e.summary.startswith("On 18 March 2025")


@pytest.mark.parametrize(
    ("facts", "title", "body"),
    [
        ("25 November 2025 | Views: 57", "SCO Secretary-General meets Ambassador of Iran",
         "The Secretary-General met the Ambassador in Beijing."),
        ("25 ноября 2025 г. | Просмотров: 57", "Генсек ШОС встретился с послом Ирана",
         "Генеральный секретарь ШОС встретился с послом Ирана в Пекине."),
        ("2025年11月25日 | 浏览次数：57", "上合组织秘书长会见伊朗驻华大使",
         "双方就上合组织框架内合作交换了意见。"),
    ],
)  # fmt: skip
def test_a_date_and_view_count_line_over_the_headline_is_no_title(facts, title, body):
    """A page's "date | views" line copied above the headline was the title, in every
    language; it dates the release, as a date line above the headline does."""
    e = normalise(Release("v.txt", f"{facts}\n\n{title}\n\n{body}\n"), SETTINGS, NOW)
    assert (e.title, local(e)[:10]) == (title, "2025-11-25")
    assert "57" not in e.content_html

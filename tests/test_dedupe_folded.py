"""One release, one entry, whatever its copies' Unicode: copies that differ only in
Unicode form (full-width letters and digits, decomposed letters) or in "ё"
written "е" are one entry, in a store made now and in one made before scofeed folded
them (migration 34). The published text is never folded. Real folders, a real SQLite
file."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from conftest import entry_of, rewind
from scofeed.build import Tuning
from scofeed.build import build as run_build
from scofeed.normalise import compare_key, fingerprint, fold_key, folded_fingerprint
from scofeed.normalise.ids import fingerprints
from scofeed.normalise.text import keys_of

T0 = datetime(2026, 1, 1, tzinfo=UTC)

RU = (
    "Генеральный секретарь ШОС провёл встречу с Послом Беларуси\n\n"
    "12 марта 2025 года Генеральный секретарь ШОС Нурлан Ермекбаев провёл встречу с "
    "Чрезвычайным и Полномочным Послом Республики Беларусь в КНР.\n\n"
    "Стороны обсудили подготовку к заседанию Совета министров иностранных дел, её "
    "повестку и объём предстоящей работы.\n"
)
ZH = (
    "上合组织秘书长会见白俄罗斯驻华大使\n\n"
    "２０２５年３月１２日，上合组织秘书长叶尔梅克巴耶夫会见白俄罗斯驻华特命全权大使。\n\n"
    "双方讨论了外交部长理事会会议的筹备工作。\n"
)
EN = (  # typed with a Chinese input method: full-width letters and digits
    "ＳＣＯ Secretary-General meets officials of the Council of Foreign Ministers\n\n"
    "On 12 March 2025, ＳＣＯ Secretary-General Nurlan Yermekbayev met officials to "
    "discuss the preparations for the meeting of the Council of Foreign Ministers.\n\n"
    "The parties discussed the agenda.\n"
)
COPIES = {
    "ru-yo": (RU, RU.replace("ё", "е")),
    "ru-yo-back": (RU.replace("ё", "е"), RU),
    "zh-fullwidth": (ZH, unicodedata.normalize("NFKC", ZH)),
    "en-fullwidth": (EN, unicodedata.normalize("NFKC", EN)),
}


def build(site, now=T0):
    return run_build(site.config(), site.store(), now)


@pytest.mark.parametrize(("first", "copy"), COPIES.values(), ids=COPIES)
def test_copies_differing_only_in_unicode_or_yo_are_one_entry(site, first, copy):
    (site.sources / "a.txt").write_text(first, encoding="utf-8")
    build(site)
    (site.sources / "b.txt").write_text(copy, encoding="utf-8")
    report = build(site, T0 + timedelta(hours=1))
    assert (report.new, report.duplicates, report.entries) == (0, 1, 2)
    a = entry_of(site, "a.txt")
    assert entry_of(site, "b.txt").id == a.id
    assert a.title == first.split("\n")[0]  # as the first copy wrote it: never folded


@pytest.mark.parametrize("cold", [False, True], ids=["small", "cold"])
@pytest.mark.parametrize(("first", "copy"), COPIES.values(), ids=COPIES)
def test_both_copies_in_one_build_are_one_entry(site, first, copy, cold):
    """``cold``: as a cold build of many files does it, in worker processes, every
    stored key loaded first (``Known``)."""
    (site.sources / "a.txt").write_text(first, encoding="utf-8")
    (site.sources / "b.txt").write_text(copy, encoding="utf-8")
    tuning = Tuning(pool_min_files=1, known_min_files=1) if cold else Tuning()
    report = run_build(site.config(), site.store(), T0, tuning=tuning)
    assert (report.new, report.entries) == (2, 2)  # the seed and the release
    assert entry_of(site, "a.txt").id == entry_of(site, "b.txt").id


LONG = RU.replace("в КНР.", "в КНР. " + "Собеседники отметили её роль в работе ШОС. " * 20)


@pytest.mark.parametrize(
    ("first", "copy"),
    [(RU, RU.replace("ё", "е")), (LONG, LONG.replace("ё", "е")), (ZH, COPIES["zh-fullwidth"][1])],
    ids=["ru", "ru-first-paragraph-past-the-summary", "zh"],
)
def test_a_store_made_before_folding_matches_a_copy_to_its_entry(site, first, copy):
    """An entry stored before migration 34 has no folded fingerprint: the upgrade works it
    out from its title and first paragraph (the summary, or the content's first
    paragraph when the summary was cut), and its id stays the one it was minted with."""
    (site.sources / "a.txt").write_text(first, encoding="utf-8")
    build(site)
    before = entry_of(site, "a.txt")
    store = site.store()
    with store.transaction() as db:
        rewind(db, 33)  # as scofeed left it before folding
    store.close()

    (site.sources / "b.txt").write_text(copy, encoding="utf-8")
    report = build(site, T0 + timedelta(days=1))

    assert (report.new, report.duplicates, report.entries) == (0, 1, 2)
    after = entry_of(site, "b.txt")
    assert after.id == before.id and after.title == before.title
    assert after.revision == before.revision and after.published == before.published


def test_a_copy_matched_by_its_fingerprint_tells_a_stored_entry_its_folded_one(site):
    """An entry whose folded fingerprint the upgrade could not work out (its stored text
    no longer makes its fingerprint) learns it from a copy with its fingerprint, so a
    copy spelled with "е" then matches it."""
    (site.sources / "a.txt").write_text(RU, encoding="utf-8")
    build(site)
    a = entry_of(site, "a.txt")
    with site.store().transaction() as db:
        db.execute("UPDATE entries SET folded = NULL, summary = 'cut' WHERE id = ?", (a.id,))
    (site.sources / "b.txt").write_text(RU.replace("объём", "обьём"), encoding="utf-8")
    build(site, T0 + timedelta(hours=1))  # the same fingerprint: no letter changed
    (site.sources / "c.txt").write_text(RU.replace("ё", "е"), encoding="utf-8")
    report = build(site, T0 + timedelta(hours=2))
    assert (report.new, entry_of(site, "c.txt").id) == (0, a.id)


def test_the_fold_key_folds_what_only_spells_a_letter_otherwise():
    composed = "Пётр Ә ＳＣＯ ２０２５ №５"
    decomposed = unicodedata.normalize("NFD", composed)
    assert fold_key(decomposed) == fold_key(composed) == fold_key("петр ә SCO 2025 No5")
    assert compare_key(decomposed) != compare_key(composed)  # the id's key is unfolded
    assert fold_key("SCO meets, envoy!") == compare_key("SCO meets, envoy!")
    assert fold_key("Всё") != fold_key("Все кто")  # folding is no fuzzy match


def test_an_edit_that_only_spells_yo_otherwise_is_an_edit_while_a_copy_is_there(site):
    """The entry's own file edited to write "е" for "ё", with a copy of the release in
    another file: the edit was taken for a new release written under the file's name
    (its fingerprint is another), the copy became the entry's input and the edit was
    dropped as a copy of it."""
    (site.sources / "a.txt").write_text(RU, encoding="utf-8")
    build(site)
    (site.sources / "b.txt").write_text(RU.replace("объём", "объем"), encoding="utf-8")
    build(site, T0 + timedelta(hours=1))
    (site.sources / "a.txt").write_text(RU.replace("ё", "е"), encoding="utf-8")
    report = build(site, T0 + timedelta(hours=2))
    a = entry_of(site, "a.txt")
    assert (report.new, report.updated, a.revision) == (0, 1, 2)
    assert a.title == RU.replace("ё", "е").split("\n")[0] and a.origin == "a.txt"


@pytest.mark.parametrize(
    "text",
    [
        RU,
        RU.upper(),
        unicodedata.normalize("NFD", RU),
        ZH,
        EN,
        "SCO meets, envoy!",
        "SCO “meets” the envoy\xa0— at last…",
        "№５ ＳＣＯ ﬁnal x² Ⅻ",
        "",
    ],
)
def test_both_fingerprints_made_at_once_are_the_two_made_alone(text):
    """normalise makes both from one reading of each text (``fingerprints``): the same
    two that ``fingerprint`` and ``folded_fingerprint`` make, whatever the text."""
    title, _, first = text.partition("\n\n")
    assert fingerprints(title, first) == (
        fingerprint(title, first),
        folded_fingerprint(title, first),
    )
    assert keys_of(first) == (compare_key(first), fold_key(first))

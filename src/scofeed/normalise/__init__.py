"""Release -> Entry. Pure functions: no I/O, no clock (``now`` is passed in).

    text       line ends, Unicode form, white space, paragraphs, the comparison key
    language   which script writes a text; other-script captions; the declared language
    headline   the title and body of a release, skipping page chrome before the headline
    sanitise   HTML content: given markup sanitised (nh3), or built from paragraphs
    ids        identity (key, URL, fingerprint), entry ids, canonical URLs, content hash
    dating     the publication date and the event date; date-stamp lines out of the text
    entry      ``normalise`` itself: the parts put together

Dates found in the text come from ``scofeed.dates``.
"""

from __future__ import annotations

from scofeed.normalise.entry import (
    Rules,
    Settings,
    match_tags,
    normalise,
    read_alike,
    redated,
    retagged_tags,
    settings_from,
    with_language,
    with_tags,
)
from scofeed.normalise.headline import headline_from, split_release
from scofeed.normalise.ids import (
    adopt_id,
    canonical_url,
    content_hash,
    entry_page,
    fingerprint,
    folded_fingerprint,
    id_slug,
    identity_of,
    mint_id,
    url_key,
)
from scofeed.normalise.language import (
    detect_language,
    direction,
    language_code,
    language_tag,
    script_of,
)
from scofeed.normalise.sanitise import paragraphs_html, sanitise
from scofeed.normalise.text import (
    clean_reason,
    clean_text,
    collapse,
    compare_key,
    fold_key,
    shorten,
    xml_safe,
)

__all__ = [
    "Rules",
    "Settings",
    "adopt_id",
    "canonical_url",
    "clean_reason",
    "clean_text",
    "collapse",
    "compare_key",
    "content_hash",
    "detect_language",
    "direction",
    "entry_page",
    "fingerprint",
    "fold_key",
    "folded_fingerprint",
    "headline_from",
    "id_slug",
    "identity_of",
    "language_code",
    "language_tag",
    "match_tags",
    "mint_id",
    "normalise",
    "paragraphs_html",
    "redated",
    "retagged_tags",
    "sanitise",
    "script_of",
    "settings_from",
    "shorten",
    "read_alike",
    "url_key",
    "with_language",
    "with_tags",
    "split_release",
    "xml_safe",
]

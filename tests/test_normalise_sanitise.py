"""normalise.sanitise: only harmless markup survives."""

from __future__ import annotations

import pytest

from scofeed.errors import NormaliseError
from scofeed.normalise import sanitise
from scofeed.normalise.sanitise import MAX_DEPTH, nesting_depth


def test_sanitise_neutralises_scripts_handlers_and_javascript_links():
    dirty = (
        '<p onclick="steal()">Hi <a href="javascript:alert(1)">x</a>'
        '<img src="https://x.org/a.png" onerror="alert(1)"></p><script>alert(1)</script>'
        '<iframe src="https://evil.example"></iframe><a href="https://ok.org/">ok</a>'
    )
    clean = sanitise(dirty)
    for bad in ("script", "onclick", "onerror", "javascript", "iframe", "alert"):
        assert bad not in clean.lower()
    assert 'href="https://ok.org/"' in clean
    assert 'src="https://x.org/a.png"' in clean


def test_markup_nested_past_the_limit_is_refused_before_the_sanitiser():
    deep = "<div>" * 5000 + "text" + "</div>" * 5000
    assert nesting_depth(deep) == MAX_DEPTH + 1  # the scan stops once past the limit
    with pytest.raises(NormaliseError, match="nested deeper"):
        sanitise(deep)
    ok = "<div>" * 100 + "<p>text<br>more<img src='https://x.example/a.png'/></p>" + "</div>" * 100
    assert nesting_depth(ok) == 101
    assert "text" in sanitise(ok)
    # closing tags and void elements keep a long flat document shallow
    assert nesting_depth("<p>a</p>" * 10000 + "<br>" * 10000) == 1

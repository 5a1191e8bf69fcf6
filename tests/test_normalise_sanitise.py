"""normalise.sanitise: only harmless markup survives."""

from __future__ import annotations

from scofeed.normalise import sanitise


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

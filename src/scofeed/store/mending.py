"""The SQL of the migrations that rewrite stored data (``schema.MIGRATIONS`` 16, 17
and 18), built here: each is a few hundred statements, written out by code rather than
by hand. Like the migrations, never changed once shipped.
"""

from __future__ import annotations

# the characters XML 1.0 cannot carry that a stored text can hold (a lone surrogate
# never reaches the store: it is not UTF-8); NUL is left out (SQLite's char() and GLOB
# end a text there)
_NOT_XML = [*range(1, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF]


def drop_not_xml() -> str:
    """The entries holding a character of ``_NOT_XML`` (one look at the table), then one
    UPDATE of those rows per character (nesting ~30 replace() calls overflows SQLite's
    parser)."""
    chars = f"char({', '.join(map(str, _NOT_XML))})"
    steps = [
        "CREATE TEMP TABLE not_xml AS SELECT rowid AS r FROM entries "
        f"WHERE title || summary || content_html GLOB '*[' || {chars} || ']*';"
    ]
    for code in _NOT_XML:
        c = f"char({code})"
        steps.append(
            f"UPDATE entries SET title = replace(title, {c}, ''), "
            f"summary = replace(summary, {c}, ''), content_html = replace(content_html, {c}, '') "
            "WHERE rowid IN (SELECT r FROM temp.not_xml);"
        )
    steps.append("DROP TABLE temp.not_xml;")
    return "\n".join(steps)


_HEX = "0123456789ABCDEF"
_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"


def rekey_escapes() -> str:
    """URL keys with their percent-escapes in upper case, those of unreserved characters
    decoded (normalise.ids.url_key): the keys holding a "%" (one look at the table),
    then one UPDATE of those rows per escape (nested replace() calls overflow SQLite's
    parser)."""
    steps = [
        "CREATE TEMP TABLE escaped AS SELECT rowid AS r FROM entries WHERE instr(url_key, '%') > 0;"
    ]
    for a in _HEX:
        for b in _HEX:
            upper = f"%{a}{b}"
            for lower in sorted({f"%{a.lower()}{b}", f"%{a}{b.lower()}", upper.lower()} - {upper}):
                steps.append(_rekey(lower, upper))
    for char in _UNRESERVED:
        steps.append(_rekey(f"%{ord(char):02X}", char))
    steps.append("DROP TABLE temp.escaped;")
    return "\n".join(steps)


def _rekey(old: str, new: str) -> str:
    return (
        f"UPDATE entries SET url_key = replace(url_key, '{old}', '{new}') "
        f"WHERE rowid IN (SELECT r FROM temp.escaped) AND instr(url_key, '{old}') > 0;"
    )


def drop_user_parts() -> str:
    """Entries' url and link without a user name and password (normalise.ids.web_address):
    the authority (between "://" and the first "/") loses what comes before its "@";
    twice, for an unescaped "@" inside the user part. An authority holding "?" or "#"
    (no path: the "@" may be the query's) is left as it is."""

    def rest(col: str) -> str:
        return f"substr({col}, instr({col}, '://') + 3)"

    def auth(col: str) -> str:
        return f"substr({rest(col)}, 1, instr({rest(col)} || '/', '/') - 1)"

    def has(col: str) -> str:
        a = auth(col)
        return (
            f"({col} LIKE 'http%://%@%' AND instr({a}, '@') > 0 "
            f"AND instr({a}, '?') = 0 AND instr({a}, '#') = 0)"
        )

    def strip(col: str) -> str:
        return (
            f"CASE WHEN {has(col)} THEN substr({col}, 1, instr({col}, '://') + 2) "
            f"|| substr({rest(col)}, instr({auth(col)}, '@') + 1) ELSE {col} END"
        )

    step = (
        f"UPDATE entries SET url = {strip('url')}, link = {strip('link')} "
        f"WHERE {has('url')} OR {has('link')};"
    )
    return "\n".join([step, step])

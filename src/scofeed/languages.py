"""Facts of the IANA Language Subtag Registry (BCP 47, File-Date 2024-05-16) that
scofeed's language tags need, and the two forms of a tag it writes. Pure data.

A release may state its language in an older or a newer form of one tag: Cantonese is
``yue`` (ISO 639-3, the canonical form of RFC 5646 section 4.5) or ``zh-yue`` (the
"extlang form", an extended language subtag after its macrolanguage). RFC 5646 makes
them equivalent. Entries keep the canonical form (``language_tag`` in
``normalise.language``: what JSON Feed and the pages say); Atom and RSS are written
in the extlang form (``extlang_form``), which a reader that knows only the ISO 639-1
and 639-2 codes of RFC 3066 (the language tags of 2005, when Atom was published and
RSS 2.0 named "values defined by the W3C") reads as Chinese, and which the W3C Feed
Validator accepts (it refuses ``yue`` and ``cmn``).
"""

from __future__ import annotations

# the extended language subtags, by the one prefix each takes (registry records of
# Type: extlang, whose Preferred-Value is always the subtag itself)
_EXTLANGS = {
    "ar": (
        "aao abh abv acm acq acw acx acy adf aeb aec afb ajp apc apd arb arq ars ary arz "
        "auz avl ayh ayl ayn ayp bbz pga shu ssh "
    ),
    "kok": "gom knn",
    "lv": "ltg lvs",
    "ms": (
        "bjn btj bve bvu coa dup hji jak jax kvb kvr kxd lce lcf liw max meo mfa mfb min "
        "mqg msi mui orn ors pel pse tmw urk vkk vkt xmm zlm zmi zsm "
    ),
    "sgn": (
        "ads aed aen afg ajs ase asf asp asq asw bfi bfk bog bqn bqy bvl bzs cds csc csd "
        "cse csf csg csl csn csq csr csx doq dse dsl dsz ecs ehs esl esn eso eth fcs fse "
        "fsl fss gds gse gsg gsm gss gus hab haf hds hks hos hps hsh hsl icl iks ils inl "
        "ins ise isg isr jcs jhs jks jls jos jsl jus kgi kvk lbs lgs lls lsb lsc lsg lsl "
        "lsn lso lsp lst lsv lsw lsy lws mdl mfs mre msd msr mzc mzg mzy nbs ncs nsi nsl "
        "nsp nsr nzs okl pgz pks prl prz psc psd psg psl pso psp psr pys rib rms rnb rsi "
        "rsl rsm rsn sdl sfb sfs sgg sgx slf sls sqk sqs sqx ssp ssr svk swl syy szs tse "
        "tsm tsq tss tsy tza ugn ugy ukl uks vgt vsi vsl vsv wbs xki xml xms yds ygs yhs "
        "ysl ysm zib zsl "
    ),
    "sw": "swc swh",
    "uz": "uzn uzs",
    "zh": "cdo cjy cmn cnp cpx csp czh czo gan hak hsn lzh mnp nan wuu yue",
}
EXTLANG_PREFIX = {sub: prefix for prefix, subs in _EXTLANGS.items() for sub in subs.split()}

# two-letter primary language subtags deprecated with a Preferred-Value: Indonesian,
# Hebrew, Yiddish, Javanese, Moldavian (the three-letter ones with a Preferred-Value,
# retired ISO 639-3 codes, are left as stated)
DEPRECATED = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro"}


def extlang_form(tag: str) -> str:
    """``tag`` (a canonical tag, ``language_tag``'s) in the extlang form: a language
    that has an extended language subtag after its prefix (``zh-yue-HK`` for
    ``yue-HK``, ``zh-cmn-Hans`` for ``cmn-Hans``, ``ar-arz`` for ``arz``, ``sgn-ase``
    for ``ase``); any other tag as it is."""
    prefix = EXTLANG_PREFIX.get(tag.partition("-")[0].lower())
    return f"{prefix}-{tag}" if prefix else tag

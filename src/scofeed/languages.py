"""Facts of the IANA Language Subtag Registry (BCP 47, File-Date 2024-05-16) that
scofeed's language tags need, the canonical form a stated tag is read in, and the two
forms of a tag it writes. Pure.

A release may state its language in an older or a newer form of one tag: Cantonese is
``yue`` (ISO 639-3, the canonical form of RFC 5646 section 4.5) or ``zh-yue`` (the
"extlang form", an extended language subtag after its macrolanguage). RFC 5646 makes
them equivalent. Entries keep the canonical form (``language_tag``: what JSON Feed and
the pages say; the config's tags are held to it too); Atom and RSS are written
in the extlang form (``extlang_form``), which a reader that knows only the ISO 639-1
and 639-2 codes of RFC 3066 (the language tags of 2005, when Atom was published and
RSS 2.0 named "values defined by the W3C") reads as Chinese, and which the W3C Feed
Validator accepts (it refuses ``yue`` and ``cmn``).
"""

from __future__ import annotations

import functools
import re

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

# the three-letter ISO 639-2 codes of the languages that have a two-letter ISO 639-1
# one, terminological and bibliographic ('rus', 'zho' and 'chi', 'fas' and 'per'): the
# registry has only the two-letter code (RFC 5646 section 2.2.1), so a source stating
# 'rus' means 'ru', and its entries belong in the Russian feeds, not in feeds of their own
_ALPHA3 = (
    "aar:aa abk:ab afr:af aka:ak alb:sq amh:am ara:ar arg:an arm:hy asm:as ava:av ave:ae "
    "aym:ay aze:az bak:ba bam:bm baq:eu bel:be ben:bn bih:bh bis:bi bod:bo bos:bs bre:br "
    "bul:bg bur:my cat:ca ces:cs cha:ch che:ce chi:zh chu:cu chv:cv cor:kw cos:co cre:cr "
    "cym:cy cze:cs dan:da deu:de div:dv dut:nl dzo:dz ell:el eng:en epo:eo est:et eus:eu "
    "ewe:ee fao:fo fas:fa fij:fj fin:fi fra:fr fre:fr fry:fy ful:ff geo:ka ger:de gla:gd "
    "gle:ga glg:gl glv:gv gre:el grn:gn guj:gu hat:ht hau:ha heb:he her:hz hin:hi hmo:ho "
    "hrv:hr hun:hu hye:hy ibo:ig ice:is ido:io iii:ii iku:iu ile:ie ina:ia ind:id ipk:ik "
    "isl:is ita:it jav:jv jpn:ja kal:kl kan:kn kas:ks kat:ka kau:kr kaz:kk khm:km kik:ki "
    "kin:rw kir:ky kom:kv kon:kg kor:ko kua:kj kur:ku lao:lo lat:la lav:lv lim:li lin:ln "
    "lit:lt ltz:lb lub:lu lug:lg mac:mk mah:mh mal:ml mao:mi mar:mr may:ms mkd:mk mlg:mg "
    "mlt:mt mon:mn mri:mi msa:ms mya:my nau:na nav:nv nbl:nr nde:nd ndo:ng nep:ne nld:nl "
    "nno:nn nob:nb nor:no nya:ny oci:oc oji:oj ori:or orm:om oss:os pan:pa per:fa pli:pi "
    "pol:pl por:pt pus:ps que:qu roh:rm ron:ro rum:ro run:rn rus:ru sag:sg san:sa sin:si "
    "slk:sk slo:sk slv:sl sme:se smo:sm sna:sn snd:sd som:so sot:st spa:es sqi:sq srd:sc "
    "srp:sr ssw:ss sun:su swa:sw swe:sv tah:ty tam:ta tat:tt tel:te tgk:tg tgl:tl tha:th "
    "tib:bo tir:ti ton:to tsn:tn tso:ts tuk:tk tur:tr twi:tw uig:ug ukr:uk urd:ur uzb:uz "
    "ven:ve vie:vi vol:vo wel:cy wln:wa wol:wo xho:xh yid:yi yor:yo zha:za zho:zh zul:zu "
)
ALPHA3 = dict(pair.split(":") for pair in _ALPHA3.split())

# grandfathered tags (RFC 5646 2.2.8) with a Preferred-Value, whole tags in any case:
# read subtag by subtag, 'zh-min-nan' (Min Nan) was 'zh', 'i-klingon' no tag at all
GRANDFATHERED = {
    "art-lojban": "jbo", "i-ami": "ami", "i-bnn": "bnn", "i-hak": "hak", "i-klingon": "tlh",
    "i-lux": "lb", "i-navajo": "nv", "i-pwn": "pwn", "i-tao": "tao", "i-tay": "tay",
    "i-tsu": "tsu", "no-bok": "nb", "no-nyn": "nn", "sgn-be-fr": "sfb", "sgn-be-nl": "vgt",
    "sgn-ch-de": "sgg", "zh-guoyu": "cmn", "zh-hakka": "hak", "zh-min-nan": "nan",
    "zh-xiang": "hsn",
}  # fmt: skip


def extlang_form(tag: str) -> str:
    """``tag`` (a canonical tag, ``language_tag``'s) in the extlang form: a language
    that has an extended language subtag after its prefix (``zh-yue-HK`` for
    ``yue-HK``, ``zh-cmn-Hans`` for ``cmn-Hans``, ``ar-arz`` for ``arz``, ``sgn-ase``
    for ``ase``); any other tag as it is."""
    prefix = EXTLANG_PREFIX.get(tag.partition("-")[0].lower())
    return f"{prefix}-{tag}" if prefix else tag


# a BCP 47 tag (RFC 5646) as a language is kept: its language (an ISO 639 code of 2 or 3
# letters, which names its feeds' folder), its script (4 letters) and its region (2
# letters or 3 digits), in the canonical form of RFC 5646 section 4.5: a registered
# extended language stands for its prefix ('zh-yue-HK' is 'yue-HK'), a deprecated code
# is the one that replaced it ('iw' is 'he': ``DEPRECATED``), a three-letter code the
# two-letter one ('rus' is 'ru': ``ALPHA3``). Any other subtag (an extended language
# not registered after that prefix, whose region was lost with it; a variant, an
# extension, private use) is well formed but not kept. It names
# xml:lang and lang attributes (Atom and RSS write its extlang form, ``extlang_form``),
# and the script decides the direction text runs in (``direction``)
_SUBTAG = re.compile(r"[A-Za-z0-9]{1,8}")
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}")
_EXTLANG = re.compile(r"[A-Za-z]{3}")
_SCRIPT = re.compile(r"[A-Za-z]{4}")
_REGION = re.compile(r"[A-Za-z]{2}|[0-9]{3}")


# the same few values (the site's language, a source's) are asked for at each release:
# a pure function of one string, answered once per value
@functools.lru_cache(maxsize=256)
def language_tag(value: str | None) -> str | None:
    """The language tag ``value`` states, in its canonical form: 'en', 'pt-BR',
    'az-Arab', 'zh-Hant-TW', 'sr-Latn' ('AZ-arab' is 'az-Arab'; 'de-DE-1996' is 'de-DE':
    a variant or extension is not kept; 'zh-yue-HK' is 'yue-HK', 'iw' is 'he',
    'rus' is 'ru', 'zh-min-nan' is 'nan'), else
    None: a source's stated language (a remote feed's ``<language>``, a page's
    ``lang``...) is only a claim, and a value that is no tag ('../x', 'english',
    'en_GB') is not one."""
    if not value:
        return None
    value = GRANDFATHERED.get(value.lower(), value)
    parts = value.split("-")
    if not _LANGUAGE.fullmatch(parts[0]) or not all(_SUBTAG.fullmatch(p) for p in parts):
        return None
    primary = parts[0].lower()
    primary = DEPRECATED.get(primary) or ALPHA3.get(primary, primary)
    rest = parts[1:]
    if rest and EXTLANG_PREFIX.get(rest[0].lower()) == primary:  # 'zh-yue': 'yue'
        primary = rest.pop(0).lower()
    kept = [primary]
    for _ in range(3):  # other extended language subtags: left out, what follows kept
        if rest and _EXTLANG.fullmatch(rest[0]):
            rest.pop(0)
    if rest and _SCRIPT.fullmatch(rest[0]):
        kept.append(rest.pop(0).title())
    if rest and _REGION.fullmatch(rest[0]):
        kept.append(rest.pop(0).upper())
    return "-".join(kept)

"""The normaliser: every rule, Python and SQL in step, and corpus spellings finding each other."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.text.normalize import article_forms, normalize, without_article

pytestmark = pytest.mark.compat


@pytest.mark.parametrize(
    "raw, folded",
    [
        ("أحمد", "احمد"),
        ("إيران", "ايران"),
        ("آكار", "اكار"),
        ("ٱلله", "الله"),  # alef variants
        ("مدرسة", "مدرسه"),  # ta marbuta
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("مؤتمر", "موتمر"),
        ("رئيس", "رييس"),  # hamza on waw and ya
        ("\u0622\u06a9\u0627\u0631", "اكار"),  # آکار: keheh as kaf (migration 0023)
        ("\u0639\u06cc\u0633\u06cc", "عيسي"),  # عیسی: Farsi yeh as yeh
        ("سُوتْشِي", "سوتشي"),
        ("قسدٌ", "قسد"),
        ("نَعُدُّ", "نعد"),  # tashkeel
        ("ميليشيـــات", "ميليشيات"),  # tatweel
        ("٢٢ تشرين ۱۵۰", "22 تشرين 150"),  # Arabic-Indic and Persian digits
        ("ﻻ", "لا"),
        ("ＳＤＦ", "sdf"),  # NFKC: presentation forms, full width
        ("Hulusi AKAR", "hulusi akar"),  # Latin case
        ("Recep Tayyip Erdoğan", "recep tayyip erdogan"),  # Latin diacritics (migration 0021)
        ("Mevlüt Çavuşoğlu", "mevlut cavusoglu"),
        ("Türk Silahlı Kuvvetleri", "turk silahli kuvvetleri"),  # dotless ı, which has no NFD
        ("Élysée", "elysee"),
        ("Ele\u0301onore", "eleonore"),  # a mark sent apart from its letter
        ("Łódź Ørsted Đaković", "lodz orsted dakovic"),
        ("  قسد \t\n  SDF  ", "قسد sdf"),  # whitespace
    ],
)
def test_rules(raw, folded):
    assert normalize(raw) == folded


@given(st.text())
def test_idempotent(text):
    assert normalize(normalize(text)) == normalize(text)


# Characters whose case mapping or NFKC form does not depend on the Unicode or libc version:
# Arabic, its marks and digits, Latin with the diacritics of Turkish and French names, spaces.
ALPHABET = st.sampled_from(
    [chr(c) for c in range(0x0610, 0x06FF) if c not in (0x061C,)]
    + list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \t\n")
    + list("çğıöşüÇĞÖŞÜéèêàÉ«»“”\"'.,-")
)


def generated(strategy: st.SearchStrategy[str], examples: int) -> list[str]:
    """``examples`` strings ``strategy`` draws (hypothesis, not run as a test of its own)."""
    samples: list[str] = []

    @settings(max_examples=examples, database=None)
    @given(strategy)
    def collect(text):
        samples.append(text)

    collect()
    return samples


def sql_mismatches(database_url: str, function: str, python, samples: list[str]) -> list:
    """The samples on which SQL ``function`` (of one text) and ``python`` disagree, each with
    both answers (an array from SQL as a list)."""

    async def in_sql() -> list[object]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(f"SELECT {function}(t) FROM unnest($1::text[]) t", samples)
            return [list(r[0]) if isinstance(r[0], list) else r[0] for r in rows]
        finally:
            await conn.close()

    from_sql = asyncio.run(in_sql())
    return [
        (s, p, q) for s, p, q in zip(samples, map(python, samples), from_sql, strict=True) if p != q
    ]


def test_sql_function_is_the_python_function(database_url):
    """One IMMUTABLE SQL function mirrors the Python normaliser, on many generated strings."""
    samples = generated(st.text(alphabet=ALPHABET, max_size=40), 400)
    samples += ["خلوصي آكار", "ميليشيات قسد", "Türkiye", "ﻻ", "ＳＤＦ"]
    mismatches = sql_mismatches(database_url, "claimdesk_normalize", normalize, samples)
    assert not mismatches, mismatches[:5]


@pytest.mark.parametrize(
    "normalised, bare",
    [
        ("الصعوبات", "صعوبات"),
        ("وبالانسحاب للمنطقه", "انسحاب منطقه"),  # وبال, لل
        ("فالجيش والقوات كالعاده", "جيش قوات عاده"),  # فال, وال, كال
        ("الله التي الي", "الله التي الي"),  # fewer than three letters left
        ("بانسحاب ولبنان", "بانسحاب ولبنان"),  # no article: as written
        ("x الجيش (الجيش-الوطني)", "x جيش (جيش-وطني)"),  # after anything but a word's
        ("aالجيش 2الجيش", "aالجيش 2الجيش"),  # inside a word
        ("الجيش،الصعوبات؟", "جيش،صعوبات؟"),  # Arabic punctuation is not of a word
    ],
)
def test_the_article_comes_off_words(normalised, bare):
    assert without_article(normalised) == bare


# Words of Arabic letters (and a few others) of every length, most with a prefix, so that
# the article, what comes before it and the letters left after it meet (migration 0024).
_PREFIXED_WORD = st.tuples(
    st.sampled_from(["", "ال", "وال", "فال", "بال", "كال", "وبال", "لل", "ولل", "و", "ب", "ل"]),
    st.text(
        alphabet=st.sampled_from([chr(c) for c in range(0x0621, 0x064B)] + ["\u06a9", "\u067e"]),
        max_size=6,
    ),
).map("".join)
PREFIXED = st.lists(
    st.tuples(
        st.sampled_from([" ", "-", "(", "\u060c", "\u061f", "a", "2", "\u064e", ""]),
        _PREFIXED_WORD,
    ).map("".join),
    max_size=6,
).map("".join)


def test_sql_takes_the_article_off_as_python_does(database_url):
    """``claimdesk_without_article`` (migration 0024) and ``without_article``, on many
    generated strings of normalised text."""
    samples = [normalize(text) for text in generated(PREFIXED, 500)]
    mismatches = sql_mismatches(database_url, "claimdesk_without_article", without_article, samples)
    assert not mismatches, mismatches[:5]
    assert sum(s != without_article(s) for s in samples) > 100  # the article met often


def test_sql_gives_a_query_word_the_forms_python_does(database_url):
    """``claimdesk_article_forms`` (migration 0024) and ``article_forms``: a word typed
    without the article, and without the first ل of لل, on many generated words."""
    samples = [normalize(word) for word in generated(_PREFIXED_WORD, 500)]
    samples += ["للاجيين", "وللوزير", "الله", "لل", "bال"]
    mismatches = sql_mismatches(database_url, "claimdesk_article_forms", article_forms, samples)
    assert not mismatches, mismatches[:5]
    assert article_forms("للاجيين") == ["اجيين", "لاجيين"]
    assert sum(bool(article_forms(s)) for s in samples) > 100

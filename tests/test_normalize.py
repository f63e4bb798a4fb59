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


def test_sql_function_is_the_python_function(database_url):
    """One IMMUTABLE SQL function mirrors the Python normaliser, on many generated strings."""
    samples: list[str] = []

    @settings(max_examples=400, database=None)
    @given(st.text(alphabet=ALPHABET, max_size=40))
    def collect(text):
        samples.append(text)

    collect()
    samples += ["خلوصي آكار", "ميليشيات قسد", "Türkiye", "ﻻ", "ＳＤＦ"]

    async def in_sql() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT claimdesk_normalize(t) FROM unnest($1::text[]) t", samples
            )
            return [r[0] for r in rows]
        finally:
            await conn.close()

    from_sql = asyncio.run(in_sql())
    mismatches = [
        (s, p, q)
        for s, p, q in zip(samples, map(normalize, samples), from_sql, strict=True)
        if p != q
    ]
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
    samples: list[str] = []

    @settings(max_examples=500, database=None)
    @given(PREFIXED)
    def collect(text):
        samples.append(normalize(text))

    collect()

    async def in_sql() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT claimdesk_without_article(t) FROM unnest($1::text[]) t", samples
            )
            return [r[0] for r in rows]
        finally:
            await conn.close()

    from_sql = asyncio.run(in_sql())
    mismatches = [
        (s, p, q)
        for s, p, q in zip(samples, map(without_article, samples), from_sql, strict=True)
        if p != q
    ]
    assert not mismatches, mismatches[:5]
    assert sum(s != without_article(s) for s in samples) > 100  # the article met often


def test_sql_gives_a_query_word_the_forms_python_does(database_url):
    """``claimdesk_article_forms`` (migration 0024) and ``article_forms``: a word typed
    without the article, and without the first ل of لل, on many generated words."""
    samples: list[str] = []

    @settings(max_examples=500, database=None)
    @given(_PREFIXED_WORD)
    def collect(word):
        samples.append(normalize(word))

    collect()
    samples += ["للاجيين", "وللوزير", "الله", "لل", "bال"]

    async def in_sql() -> list[list[str]]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT claimdesk_article_forms(w) FROM unnest($1::text[]) w", samples
            )
            return [list(r[0]) for r in rows]
        finally:
            await conn.close()

    from_sql = asyncio.run(in_sql())
    mismatches = [
        (s, p, q)
        for s, p, q in zip(samples, map(article_forms, samples), from_sql, strict=True)
        if p != q
    ]
    assert not mismatches, mismatches[:5]
    assert article_forms("للاجيين") == ["اجيين", "لاجيين"]
    assert sum(bool(article_forms(s)) for s in samples) > 100

"""Snippets mark the original characters of what matched on normalised text (``highlight``)."""

from __future__ import annotations

import unicodedata

import pytest

from service import demo_data
from service.text import highlight
from service.text.highlight import (
    ELLIPSIS,
    _fold_char,
    phrases_of,
    plain,
    shorten,
    snippet,
    spans,
    terms_of,
)


def spans_walked(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """``spans`` as it was: every character folded and mapped back one at a time."""
    folded, origin = [], []
    for i, ch in enumerate(text):
        for c in _fold_char(ch):
            folded.append(c)
            origin.append(i)
    haystack = "".join(folded)
    found = []
    for term in terms:
        start = haystack.find(term)
        while start != -1:
            end = start + len(term)
            if not highlight.at_word(haystack, start, end):
                start = haystack.find(term, start + 1)
                continue
            found.append((origin[start], origin[end - 1] + 1))
            start = haystack.find(term, end)
    merged: list[tuple[int, int]] = []
    for s, e in sorted(found):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def with_harakat(text: str) -> str:
    """A fatha after each Arabic letter: marks that fold to nothing."""
    return "".join(ch + "\u064e" if "\u0621" <= ch <= "\u064a" else ch for ch in text)


def with_astral(text: str) -> str:
    """Mathematical bold A and B (they fold to ``ab``) at each end and in the middle: beyond
    the Basic Multilingual Plane, folded through the table filled as they come."""
    middle = len(text) // 2
    return "\U0001d400\U0001d401 " + text[:middle] + "\U0001d400" + text[middle:] + " \U0001d401"


def texts() -> list[str]:
    found = []
    for claim in demo_data.CLAIMS:
        found.append(claim["text"])
        found += [t["text"] for t in claim.get("translations", [])]
    return found


@pytest.mark.parametrize(
    "variant",
    [
        lambda t: t,
        with_harakat,
        lambda t: t.replace(" ", "\t\n "),  # whitespace folds to one space each
        lambda t: "ﻻ " + t + " ﷺ",  # ligatures fold to several characters
        lambda t: unicodedata.normalize("NFD", t),
        lambda t: with_astral(with_harakat(t)),
    ],
    ids=["as written", "harakat", "whitespace", "ligatures", "decomposed", "astral"],
)
def test_marks_are_where_the_walked_text_puts_them(variant):
    """Every word of every demo claim and translation, found in each variant of its text, is
    marked on the same original characters as when the text was folded character by
    character (the fast path folds the whole text at once)."""
    checked = 0
    for text in texts():
        varied = variant(text)
        terms = terms_of(text)
        assert spans(varied, terms) == spans_walked(varied, terms), varied
        checked += len(spans(varied, terms))
    assert checked > 100


def test_stop_words_are_marked_only_when_the_query_has_nothing_else():
    """A phrase keeps its stop words for the search, not for the marks: every `the` and `on`
    of a text was marked, and the snippet began at the first of them (a walkthrough's
    finding: `"on the safe zone"` began at "On 22 October")."""
    text = "On 22 October the presidents met. Later, in the safe zone, the patrols began."
    assert terms_of('"on the safe zone"') == ["safe", "zone"]
    marked = snippet(text, terms_of('"on the safe zone"'), width=40)
    assert marked is not None and marked.count("<mark>") == 2, marked
    assert marked.startswith(f"{ELLIPSIS}Later, in the <mark>safe</mark> <mark>zone</mark>,")
    assert terms_of('"عن ثقته"') == ["ثقته"]
    assert terms_of('"من في"') == ["من", "في"]  # nothing else: a name may be made of them
    assert terms_of("the iş") == ["is"]  # Turkish iş is no stop word, though it folds to one


def test_a_mark_covers_the_original_characters_of_the_match():
    # the mark takes the last letter's harakat with it
    assert snippet("قالَ أَكارُ إنّ", terms_of("اكار")) == "قالَ <mark>أَكارُ</mark> إنّ"
    assert snippet("ﻻ يوجد آكار", terms_of("اكار")) == "ﻻ يوجد <mark>آكار</mark>"
    assert snippet("ﻻ يوجد", terms_of("لا")) == "<mark>ﻻ</mark> يوجد"
    assert snippet("nothing here", terms_of("اكار")) is None


def test_every_character_of_the_plane_folds_as_alone():
    """The table made ahead for the Basic Multilingual Plane holds each character's fold (its
    own code where it folds to itself), and its pattern finds exactly the characters that
    fold to none or to several."""
    table, finder = highlight.plane()
    uneven = 0
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        folded = table[code]
        assert (ch if isinstance(folded, int) else folded) == _fold_char(ch), hex(code)
        assert (finder.fullmatch(ch) is not None) == (len(_fold_char(ch)) != 1), hex(code)
        uneven += finder.fullmatch(ch) is not None
    assert uneven > 100  # harakat, Quranic marks, ligatures


def test_news_text_is_folded_a_byte_a_character_as_the_table_folds_it():
    """A text of Arabic and English news text's characters is folded by the codecs' loops
    (``_ByteFold``), not ``str.translate``: the same text as the table makes, character by
    character and for all of them together; a text with any other character is left to the
    table (None)."""
    folding = highlight.byte_fold()
    table, _ = highlight.plane()
    taken = [ch for ch in highlight._NEWS if folding.fold(ch) is not None]
    assert len(taken) > 200  # ASCII, the Arabic letters, harakat, digits, punctuation
    for ch in taken:
        assert folding.fold(ch) == ch.translate(table), hex(ord(ch))
    every = "".join(taken)
    assert folding.fold(every) == every.translate(table)
    assert folding.fold(every[::-1]) == every[::-1].translate(table)
    assert folding.fold("أَكارُ،\u00a0Ankara") == "اكار، ankara"
    for other in ("Erdoğan", "ﻻ", "é", "\u2026", "\u202e"):  # folded by the table instead
        assert folding.fold(f"قال {other}") is None
    assert snippet("قال Erdoğan إنّ", terms_of("erdogan")) == "قال <mark>Erdoğan</mark> إنّ"


def test_a_snippet_is_escaped_html_whichever_character_calls_for_it():
    """A snippet is HTML a page inserts as it is: each of the characters ``html.escape``
    changes is escaped, before, inside and after a mark, alone in a text or with the
    others (a text with none of them is taken as it is)."""
    escapes = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;"}
    for ch, escaped in escapes.items():
        marked = snippet(f"a{ch}b قسد{ch} c{ch}", terms_of("قسد"))
        assert marked == f"a{escaped}b <mark>قسد</mark>{escaped} c{escaped}", ch
    assert snippet('<b>قسد</b> & "x"', terms_of("قسد")) == (
        "&lt;b&gt;<mark>قسد</mark>&lt;/b&gt; &amp; &quot;x&quot;"
    )
    assert snippet("قالت قسد اليوم", terms_of("قسد")) == "قالت <mark>قسد</mark> اليوم"


def test_a_full_fold_table_is_emptied_and_marks_stay_right(monkeypatch):
    """The table of folded characters beyond the plane's is emptied when full (at most
    ``LIMIT`` characters and one text's worth more), between texts: the marks are still the
    walked text's."""
    table = highlight._FoldTable()
    monkeypatch.setattr(highlight, "_FOLD_TABLE", table)
    monkeypatch.setattr(highlight._FoldTable, "LIMIT", 8)
    emptied, held = 0, 0
    for text in texts():
        varied = with_astral(with_harakat(text))
        terms = terms_of(text)
        assert spans(varied, terms) == spans_walked(varied, terms), varied
        assert len(table) <= 8 + len(varied)
        emptied += len(table) < held
        held = len(table)
    assert emptied > 5, emptied


def test_a_term_is_marked_where_a_word_starts_not_inside_another():
    """``من`` was marked inside ``المنطقة`` and ``in`` inside ``providing``, ``safe`` inside
    ``unsafe`` (a new user's walkthrough): a term starts a word, or follows one proclitic
    letter (``ومن``: and from); it may run on into the word (``forces`` for ``force``)."""
    assert snippet("انسحبت ومن المنطقة من منبج", ["من"]) == (
        "انسحبت و<mark>من</mark> المنطقة <mark>من</mark> منبج"
    )
    assert snippet("Kobani unsafe; safe havens; the forces", ["safe", "force"]) == (
        "Kobani unsafe; <mark>safe</mark> havens; the <mark>force</mark>s"
    )
    assert snippet("providing, coming in", ["in"]) == "providing, coming <mark>in</mark>"
    # after the prefixes Arabic writes onto a word, which the search's stemmer takes off
    assert snippet("بالمنطقة وللمنطقة منطقة", terms_of("منطقة")) == (
        "بال<mark>منطقة</mark> ولل<mark>منطقة</mark> <mark>منطقة</mark>"
    )
    assert snippet("واستمنطقة", terms_of("منطقة")) is None  # not a prefix Arabic has


def test_texts_are_cut_between_words():
    """A snippet, a text shown without a match and a claim hit's title were cut where their
    width ended, mid-word (`منط…`, `Turk…`; a new user's walkthrough): now at the last space
    before it, unless a single word is longer than ``WORD_SLACK``."""
    text = "القوات التركية تقوم بدوريات في المنطقة الآمنة " * 10
    cut = plain(text, 50)
    assert cut.endswith(ELLIPSIS) and len(cut) <= 51
    assert text.startswith(cut[:-1] + " ")  # whole words, the space before the cut dropped
    assert shorten("Turkey says some SDF elements remain", 15) == "Turkey says…"
    assert shorten("Turkey says", 15) == "Turkey says"  # short enough: as it is
    assert shorten("Turkey says some", 11) == "Turkey says…"  # at a space: no word cut
    long_word = "https://example.org/" + "a" * 60
    assert shorten(long_word, 30) == long_word[:30] + ELLIPSIS  # no space near: at the width
    marked = snippet(
        "قال " + "كلمة " * 60 + "آكار " + "في النهاية " * 20, terms_of("اكار"), width=40
    )
    assert marked is not None and marked.startswith(ELLIPSIS) and marked.endswith(ELLIPSIS)
    shown = marked.replace("<mark>", "").replace("</mark>", "").strip(ELLIPSIS)
    assert all(word in {"كلمة", "آكار", "في", "النهاية"} for word in shown.split()), shown


def test_a_cut_keeps_what_goes_with_a_character_and_says_only_real_cuts():
    """From a review: a cut found only the plain space (`word\nword` was cut mid-word), split
    a letter from its harakat or an emoji from its skin tone in a word longer than the
    slack, and put an ellipsis after trailing white space, or where nothing was left out."""
    assert shorten("word\nword\nwordwordword", 12) == "word\nword…"
    assert shorten("Turkey\xa0says\xa0something", 12) == "Turkey\xa0says…"
    word = "بِسْمِاللَّهِالرَّحْمَنِالرَّحِيمِ" * 2
    cut = shorten(word, 27)[:-1]
    assert not unicodedata.combining(word[len(cut)]) and word.startswith(cut)
    assert shorten("👍🏽" * 30, 21) == "👍🏽" * 10 + ELLIPSIS  # not 👍 without its tone
    assert shorten("Turkey says ", 11) == "Turkey says"  # nothing left out: no ellipsis
    marked = snippet("target word " + " " * 300, ["target"], width=20)
    assert marked == "<mark>target</mark> word", marked
    marked = snippet("target word " + "more " * 100, ["target"], width=20)
    assert marked == "<mark>target</mark> word more…", marked


def test_a_window_starts_between_words_and_marks_a_letter_with_its_harakat():
    """From a new user's walkthrough: a window started after the last plain space only (so
    mid-word in lines or tabs), put an ellipsis before leading white space alone, and closed
    a mark between a letter and its harakat (`<mark>نَعُد</mark>ُّ`)."""
    lines = "\n".join(f"linexx{i:02}" for i in range(20)) + "\nwombatfish end"
    marked = snippet(lines, ["wombatfish"], width=60)
    assert marked is not None and marked.startswith(ELLIPSIS + "linexx"), marked
    assert snippet(" " * 70 + "gnuhorse grazes", ["gnuhorse"], width=40) == (
        "<mark>gnuhorse</mark> grazes"
    )
    assert snippet("نَعُدُّ الأيام", terms_of("نعد")) == "<mark>نَعُدُّ</mark> الأيام"


def test_a_word_with_the_article_marks_the_word_without_it():
    """A search for ``الصعوبات`` also finds ``صعوبات`` (migration 0024), and marks it; a word
    without the article is kept as typed (``بيان`` is not also ``يان``)."""
    assert terms_of("الصعوبات بيان") == ["الصعوبات", "بيان", "صعوبات"]
    assert snippet("وجود صعوبات في التنفيذ", terms_of("الصعوبات")) == (
        "وجود <mark>صعوبات</mark> في التنفيذ"
    )
    assert snippet("صدر بيان وكيان", terms_of("بيان")) == "صدر <mark>بيان</mark> وكيان"


def marked(text: str, query: str) -> str | None:
    """The snippet of ``text`` for ``query`` as search makes it."""
    return snippet(text, terms_of(query), phrases=phrases_of(query))


def test_a_phrase_is_marked_where_its_words_are_side_by_side():
    """`"safe zone"` marked every safe and every zone of a text, and the snippet began at
    the first of them, where the text did not say the phrase (left in notes for several
    sessions): its words are marked where they are side by side, as the search matched
    them; a word the query also has on its own is marked everywhere."""
    text = "The safe road led to the zone. Later, in the safe zone, the patrols began again."
    assert marked(text, '"safe zone"') == (
        "The safe road led to the zone. Later, in the <mark>safe</mark> <mark>zone</mark>, "
        "the patrols began again."
    )
    assert marked(text, '"safe zone" zone').count("<mark>zone</mark>") == 2
    assert marked(text, "safe zone").count("<mark>") == 4  # no phrase: every word
    # a stop word in a phrase holds its place, any word filling it
    assert marked("The city is calm; the city of Raqqa too.", '"city of Raqqa"') == (
        "The city is calm; the <mark>city</mark> of <mark>Raqqa</mark> too."
    )
    assert marked("The city in Raqqa.", '"city of Raqqa"') == (
        "The <mark>city</mark> in <mark>Raqqa</mark>."
    )
    # two phrases, each where it is
    either = marked("A safe zone, and a buffer zone.", '"safe zone" or "buffer zone"')
    assert either.count("<mark>") == 4, either


def test_a_phrase_marks_its_arabic_words_with_a_prefix_or_without_the_article():
    text = "قالت المنطقة وحدها لا تكفي، ثم دخلنا بالمنطقة الآمنة قبل المنطقة الشرقية"
    assert marked(text, '"المنطقة الآمنة"') == (
        "قالت المنطقة وحدها لا تكفي، ثم دخلنا ب<mark>المنطقة</mark> <mark>الآمنة</mark> "
        "قبل المنطقة الشرقية"
    )
    assert marked("في منطقة آمنة", '"المنطقة الآمنة"') == (
        "في <mark>منطقة</mark> <mark>آمنة</mark>"
    )


def test_a_phrase_the_text_does_not_hold_side_by_side_marks_its_words():
    """The search matched the phrase through a reading the marks do not follow (stems, or
    words split otherwise than here): its words are marked one by one, as before, rather
    than nothing."""
    assert marked("The zones that were safe.", '"safe zone"') == (
        "The <mark>zone</mark>s that were <mark>safe</mark>."
    )
    assert phrases_of("safe zone") is None and phrases_of('"safe"') is None
    assert phrases_of('"the safe"') is None  # one word worth marking: no phrase


def test_a_phrase_counts_the_places_postgresql_counts():
    """Punctuation or an emoji between a phrase's words takes no place (PostgreSQL gives it
    none), a hyphenated word two; a term that starts with punctuation is in the word after
    it (a review's findings: `"safe 🙂 zone"` marked a safe and a zone apart)."""
    text = "the safe zone and later safe road zone"
    for query in ('"safe 🙂 zone"', '"safe - zone"', '"safe & zone"'):
        assert marked(text, query) == (
            "the <mark>safe</mark> <mark>zone</mark> and later safe road zone"
        ), query
    assert marked("The al-Assad forces, and forces of al-Assad", '"al-Assad forces"') == (
        "The <mark>al-Assad</mark> <mark>forces</mark>, and forces of al-Assad"
    )
    assert marked("the #safe zone and #safe place zone", '"#safe zone"') == (
        "the <mark>#safe</mark> <mark>zone</mark> and #safe place zone"
    )


def test_phrases_with_or_mark_the_one_the_text_holds():
    """With `or` between phrases, the words of the one a text does not hold were marked one
    by one, and the snippet could begin at one of them (a review's finding): once a text
    holds one of the query's phrases, words that the query has only in phrases are marked
    only where a phrase is."""
    assert marked("buffer zone and safe zone, zone area", '"safe zone" or "buffer area"') == (
        "buffer zone and <mark>safe</mark> <mark>zone</mark>, zone area"
    )
    assert marked("a safe zone, a zone", '"safe zone" or "buffer zone"') == (
        "a <mark>safe</mark> <mark>zone</mark>, a zone"
    )


def test_a_word_typed_twice_is_looked_for_once():
    """`zz zz ... zz` searched a text once for every time it was typed (a review: 1.3 s a
    snippet of a long text)."""
    assert terms_of("zz " * 60) == ["zz"]
    assert terms_of('"safe zone" safe') == ["safe", "zone"]
    assert len(phrases_of('"safe zone" or "safe zone"').each) == 1


def test_the_bidirectional_controls_are_found_alike_in_text_and_in_utf8():
    """The search route looks for them in the encoded page, then mends its snippets with the
    text pattern: the two must agree on every character of the plane, and on a page."""
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        text = f"a{ch}b"
        found = highlight.BIDI_CONTROL.search(text) is not None
        assert found == (highlight.BIDI_CONTROL_UTF8.search(text.encode()) is not None), hex(code)
        assert found == (0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069), hex(code)

"""Stop words: the lists, and queries without them (the search itself: test_search.py)."""

from __future__ import annotations

import asyncio
import re

import asyncpg
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.text import stopwords
from service.text.normalize import normalize
from service.text.stopwords import ARABIC, ENGLISH, STOP_WORDS, is_stop, search_words
from tests.test_normalize import generated

pytestmark = pytest.mark.compat


def test_the_lists_are_written_as_the_normaliser_writes():
    """Matched against normalised words, so على must be listed as علي, إلى as الي."""
    for word in STOP_WORDS:
        assert normalize(word) == word and " " not in word, word
    assert {"من", "في", "علي", "الي", "عن", "ان", "ما", "لا", "هذا", "هذه", "التي"} <= ARABIC
    assert {"the", "and", "of", "or"} <= ENGLISH


async def test_the_english_list_is_the_english_configurations(conn):
    """Every English stop word is one PostgreSQL's ``english`` configuration drops too."""
    kept = await conn.fetch(
        "SELECT w FROM unnest($1::text[]) AS w WHERE to_tsvector('english', w) <> ''",
        sorted(ENGLISH),
    )
    assert kept == []
    # less who, which is also the WHO
    assert "who" not in ENGLISH and await conn.fetchval("SELECT to_tsvector('english', 'who') = ''")


@pytest.mark.parametrize(
    "query, left, excluded",
    [
        ("the Kurdish", "Kurdish", ()),
        ("قال من", "قال", ()),
        ("قالَ مِنْ", "قال", ()),  # stop words in any spelling, the rest as typed but for marks
        ("وصل الوفد إلى موسكو", "وصل الوفد موسكو", ()),
        ("على", "", ()),
        ("من في the OF", "", ()),
        ("من، قسد.", "قسد.", ()),
        ('"قال من" القوات', '"قال من" القوات', ()),  # a phrase keeps its stop words
        ("iş birliği", "iş birliği", ()),  # Turkish iş (work) folds to `is`, yet is no stop word
        ("ön cephe IS", "ön cephe", ()),
        ("the İŞ", "İŞ", ()),
        ('"من في"', "", ()),  # unless it has nothing else
        ('"the safe zone', '"the safe zone"', ()),  # an unclosed quote runs to the end
        ("the or قسد", "قسد", ()),
        ("قسد or the", "قسد", ()),
        ("قسد or من or روسيا", "قسد or روسيا", ()),
        ("...", "", ()),
        ("WHO", "WHO", ()),
        # exclusions apart, wherever they stand, however the minus is written
        ('قسد -"من جهته"', "قسد", ('"من جهته"',)),
        ("-قسد", "", ()),  # only words to exclude: nothing to look for
        ("-قسد -the روسيا", "روسيا", ("قسد",)),
        ("مجلس -الصعوبات", "مجلس", ("الصعوبات",)),
        ("قسد or -روسيا", "قسد", ("روسيا",)),
        ('safe - "the regime', "safe", ('"the regime"',)),
        ("safe - zone", "safe", ("zone",)),
        ("4242 (-danger)", "4242", ("danger",)),
        ("4242 \uff0ddanger", "4242", ("danger",)),  # a full-width minus, normalised to -
        ("قسد \u0640-روسيا", "قسد", ("روسيا",)),  # a tatweel, which normalising leaves out
        ('safe "zone"-patrols', 'safe "zone"', ("patrols",)),
        ("safe --zone", "safe zone", ()),  # not not
        ("safe -. zone", "safe zone", ()),  # a minus before no word excludes nothing
        ("safe -zone -zone -the", "safe", ("zone",)),
        # a minus inside a word is the word's; operators separate words; words of letters
        # joined by hyphens are a phrase of those words (found written either way)
        ("the-wall", '"the wall"', ()),
        ("-safe-zone patrols", "patrols", ('"safe zone"',)),
        ("COVID-19 2019-11-24", "COVID-19 2019-11-24", ()),  # digits: PostgreSQL's tokens
        ('"the safe-zone plan"', '"the safe-zone plan"', ()),  # inside quotes, as typed
        ('safe-"zone"', 'safe- "zone"', ()),
        ("4242 or(4243", "4242 or 4243", ()),
        ("\u0640 -Turkey", "", ()),  # a tatweel alone is no word to look for
        # what normalises to white space or an operator separates as it will (a review's
        # finding: `´-قسد` was one word as typed, `-قسد` normalised, and found every claim)
        ("\u00b4-قسد", "", ()),  # an acute accent: a space and a mark
        ("council \u00b4-patrol", "council", ("patrol",)),
        ("council \ufe7c-patrol", "council", ("patrol",)),  # an isolated shadda
        ("council \u226e-patrol", "council", ("patrol",)),  # not less than: <
        ("council \U0001f110-patrol", "council", ("patrol",)),  # (a): a stop word
        ("council -10:30", "council", ("10:30",)),  # a colon does not end a word here
        # a minus leaves out the one word after it: brackets do not group (README says so)
        ("zone -(amber cobalt)", "zone cobalt", ("amber",)),
        ("zone -amber -cobalt", "zone", ("amber", "cobalt")),
    ],
)
def test_search_words(query, left, excluded):
    assert search_words(query)[:2] == (left, excluded)


def test_an_empty_phrase_is_dropped():
    # found by the property below: an unclosed quote at the end left `""` after an `or`
    assert search_words('قسد or "').words == "قسد"
    assert search_words('"" قال').words == "قال"
    # and `or` before a phrase stays (found by the property, too strict at first)
    assert search_words('قسد or " قسد').words == 'قسد or "قسد"'
    assert search_words('safe -"" zone')[:2] == ("safe zone", ())  # the minus went with it


def test_names_are_matched_against_the_query_without_its_exclusions():
    """Names do not go through the stop words, and an excluded word is no name to look for."""
    assert search_words("من").named == "من"
    assert search_words("Akar -Hulusi -من").named == "Akar"
    assert search_words("-Lavrov").named == ""
    assert search_words('"Hulusi Akar" or -x').named == '"Hulusi Akar"'  # or between two


def test_a_token_is_a_stop_word_only_when_all_its_words_are():
    assert is_stop("من") and is_stop("(the") and is_stop("-من")
    assert not is_stop("منبج") and not is_stop("the-wall") and not is_stop("...")


QUERY = st.lists(
    st.sampled_from(
        [
            *["من", "في", "the", "of", "or", "OR", "قسد", "Kurdish", "-قسد", "-the", '"', "قال"],
            *["،", "-", "\uff0d", "\u0640", "(", ")", "!", "|", "&", "<", "\uff02", "a-b"],
            *["\u2474", "\u00b4", "\ufe7c", "\u226e", "\u3200", ":", "x:-y", "\u00a0-"],
        ]
    ),
    max_size=8,
).map(" ".join)


@given(QUERY)
def test_what_is_left_has_a_word_to_look_for_and_no_stop_word_outside_quotes(query):
    words, excluded, _ = search_words(query)
    assert search_words(words)[:2] == (words, ())
    for exclusion in excluded:  # each as it would be searched for
        assert search_words(exclusion)[:2] == (exclusion, ())
    if not words:
        assert not excluded
        return
    outside = [t for i, part in enumerate(words.split('"')) if not i % 2 for t in part.split()]
    assert not any(is_stop(t) for t in outside if t.lower() != "or")
    # `or` only between two things to look for (a quoted phrase counts as one)
    tokens = re.findall(r'"[^"]*"?|\S+', words)
    assert tokens[0].lower() != "or" and tokens[-1].lower() != "or"


@given(st.lists(QUERY, min_size=1, max_size=20))
def test_a_full_table_of_characters_is_emptied_and_reads_as_before(queries):
    """The table of what each character of a query becomes is filled as characters are met
    and emptied once it holds ``LIMIT`` (at most that and one query's more): a query reads the
    same through a table emptied every few characters as through one that never is."""
    small = stopwords._Structure()
    small.LIMIT = 8
    for query in queries:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(stopwords, "_STRUCTURE", small)
            read = search_words(query)
        assert read == search_words(query), query
        assert len(small) <= 8 + len(query)


def test_postgresql_reads_no_exclusion_in_what_is_left(database_url):
    """The words to look for and each exclusion, as typed and normalised, hold no operator
    PostgreSQL's websearch syntax reads as "not": the readings of a query (the Arabic stemmer's
    of the text as typed, the others' of the normalised text) see the same words, and an
    exclusion is the query's whole (``claimdesk_tsquery``)."""
    samples = generated(QUERY, 300)
    texts = []
    for query in samples:
        words, excluded, named = search_words(query)
        for text in [words, *excluded, named]:
            texts += [text, normalize(text)]

    async def negated() -> list[str]:
        conn = await asyncpg.connect(database_url)
        try:
            rows = await conn.fetch(
                "SELECT t FROM unnest($1::text[]) AS t"
                " WHERE websearch_to_tsquery('simple', t)::text LIKE '%!%'",
                texts,
            )
            return [r[0] for r in rows]
        finally:
            await conn.close()

    assert asyncio.run(negated()) == []

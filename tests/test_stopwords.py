"""Stop words: the lists, and queries without them (the search itself: test_search.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.text.normalize import normalize
from service.text.stopwords import ARABIC, ENGLISH, STOP_WORDS, is_stop, without_stop_words

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
    "query, left",
    [
        ("the Kurdish", "Kurdish"),
        ("قال من", "قال"),
        ("قالَ مِنْ", "قالَ"),  # stop words in any spelling, the rest as typed
        ("وصل الوفد إلى موسكو", "وصل الوفد موسكو"),
        ("على", ""),
        ("من في the OF", ""),
        ("من، قسد.", "قسد."),
        ('"قال من" القوات', '"قال من" القوات'),  # a phrase keeps its stop words
        ("iş birliği", "iş birliği"),  # Turkish iş (work) folds to `is`, yet is no stop word
        ("ön cephe IS", "ön cephe"),
        ("the İŞ", "İŞ"),
        ('"من في"', ""),  # unless it has nothing else
        ('"the safe zone', '"the safe zone"'),  # an unclosed quote runs to the end
        ('قسد -"من جهته"', 'قسد -"من جهته"'),
        ("the or قسد", "قسد"),
        ("قسد or the", "قسد"),
        ("قسد or من or روسيا", "قسد or روسيا"),
        ("-قسد", ""),  # only words to exclude: nothing to look for
        ("-قسد -the روسيا", "-قسد روسيا"),
        ("...", ""),
        ("WHO", "WHO"),
    ],
)
def test_without_stop_words(query, left):
    assert without_stop_words(query) == left


def test_an_empty_phrase_is_dropped():
    # found by the property below: an unclosed quote at the end left `""` after an `or`
    assert without_stop_words('قسد or "') == "قسد"
    assert without_stop_words('"" قال') == "قال"
    # and `or` before a phrase stays (found by the property, too strict at first)
    assert without_stop_words('قسد or " قسد') == 'قسد or "قسد"'


def test_a_token_is_a_stop_word_only_when_all_its_words_are():
    assert is_stop("من") and is_stop("(the") and is_stop("-من")
    assert not is_stop("منبج") and not is_stop("the-wall") and not is_stop("...")


QUERY = st.lists(
    st.sampled_from(
        ["من", "في", "the", "of", "or", "OR", "قسد", "Kurdish", "-قسد", "-the", '"', "قال", "،"]
    ),
    max_size=8,
).map(" ".join)


@given(QUERY)
def test_what_is_left_has_a_word_to_look_for_and_no_stop_word_outside_quotes(query):
    left = without_stop_words(query)
    assert without_stop_words(left) == left
    if not left:
        return
    outside = [t for i, part in enumerate(left.split('"')) if not i % 2 for t in part.split()]
    assert not any(is_stop(t) for t in outside if t.lower() != "or")
    # `or` only between two things to look for (a quoted phrase counts as one)
    tokens = re.findall(r'-?"[^"]*"?|\S+', left)
    assert tokens[0].lower() != "or" and tokens[-1].lower() != "or"

"""Stop words: the words too common to search for, and the query with them left out.

PostgreSQL's ``arabic`` configuration has no stop words and the ``simple`` one (words as
written) has none either, so ``من`` or ``the`` alone would match a third of all claims and
ranking them is what made search slow. The search query leaves them out of its full-text part
(``search_words``); the index keeps them, so a quoted phrase (``"قال من"``), which keeps
its words, still finds exactly that phrase.

The lists are written in the form ``normalize`` produces (``على`` is ``علي``, ``إلى`` is ``الي``,
``أن`` and ``إن`` are ``ان``); a test holds them to it. One consequence: ``علي`` is also the
name Ali. Searched alone it finds actors by name (names do not go through this list) but no
claims; ``"علي حسن"`` in quotes, or with another word, does.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from service.text.normalize import WORD, CharTable, fold, has_letter_or_digit, normalize

ARABIC = frozenset(
    """
    من في علي الي عن مع حتي منذ عند لدي بين حول نحو ضد خلال بعد قبل دون تحت فوق
    و او ام ثم بل لكن ان انه انها لان كي لا لم لن ما ماذا هل قد لقد اذا اذ كما الا اما
    هذا هذه ذلك تلك هولاء هناك هنا الذي التي الذين اللذين اللتين اللواتي اللاتي
    هو هي هم هما هن انا نحن انت انتم
    كان كانت يكون تكون ليس ليست
    كل بعض غير اي ايضا
    وفي ومن وعلي والي وعن ومع وان وقد ولا وما وهو وهي وكان وكانت
    """.split()
)

# PostgreSQL's ``english`` configuration's list (Snowball's english.stop), less ``who``, which
# is also the WHO. The ``english`` stems leave these out already; the ``simple`` words do not.
ENGLISH = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which whom this
    that these those am is are was were be been being have has had having do does did doing a
    an the and but if or because as until while of at by for with about against between into
    through during before after above below to from up down in out on off over under again
    further then once here there when where why how all any both each few more most other some
    such no nor not only own same so than too very s t can will just don should now
    """.split()
)

STOP_WORDS = ARABIC | ENGLISH


def is_stop(token: str) -> bool:
    """Whether every word of ``token`` (as typed; punctuation and a leading ``-`` aside) is a
    stop word. A token with no word at all is not: it is left for PostgreSQL to ignore; nor is
    one whose Latin letters lose a diacritic to normalisation: Turkish `iş` (work) and `ön`
    (front) are not English `is` and `on`."""
    words = WORD.findall(normalize(token))
    return bool(words) and all(w in STOP_WORDS for w in words) and not _loses_a_diacritic(token)


def _loses_a_diacritic(token: str) -> bool:
    """Whether a letter of ``token`` folds to a different ASCII letter than its lower case:
    a Latin letter with a diacritic (`ş`, `ö`, `İ`) or one of ı ø ł đ."""
    return not token.isascii() and any(
        (f := fold(c)).isascii() and f.isalpha() and f != c.lower() for c in token
    )


class SearchWords(NamedTuple):
    """A query as full-text search reads it (``search_words``)."""

    words: str
    """What to look for, in websearch syntax (words, ``"phrases"``, ``or``), stop words left
    out; empty when nothing is left to look for."""
    excluded: tuple[str, ...] = ()
    """Each word or ``"phrase"`` to leave out, as typed, without its ``-``: a match holds
    none of them in any form (``claimdesk_tsquery``)."""
    named: str = ""
    """The query without its exclusions, stop words kept: what names are matched against
    (names do not go through the stop words) and snippets mark when ``words`` is empty."""

    def exclusions(self) -> tuple[list[str] | None, list[str] | None]:
        """``claimdesk_tsquery``'s last two parameters: the exclusions normalised, and as
        typed (the Arabic stemmer's reading); NULL for none."""
        if not self.excluded:
            return None, None
        return [normalize(e) for e in self.excluded], list(self.excluded)


def search_words(query: str) -> SearchWords:
    """``query`` (websearch syntax: words, ``"phrases"``, ``-not``, ``or``) with its stop words
    left out, as typed otherwise (``the Kurdish`` -> ``Kurdish``, ``قال من`` -> ``قال``), and
    its exclusions apart: a word or a quoted phrase after ``-`` (``-قسد``, ``-"من جهته"``,
    ``- قسد``, ``(-قسد``) leaves out whatever holds it, wherever it stands in the query
    (``قسد or -روسيا`` is ``قسد`` without ``روسيا``). A ``-`` inside a word is part of it
    (words of letters so joined, ``safe-zone``, are the phrase ``"safe zone"``, which finds
    them written either way), and PostgreSQL's operators between words (``( ) ! & | <``)
    separate them, as its ``websearch_to_tsquery`` reads them; so does anything that
    normalises to white space or to one of them (``´`` is a space and a mark, ``－`` a
    minus). What is left holds none:
    the readings of a query, as typed and normalised, see the same words, and no ``-`` left in
    them excludes anything in one reading alone. (Unlike PostgreSQL, a ``:`` inside a word
    does not end it: ``-10:30`` excludes texts that say 10 and 30, not 10 alone.)

    A quoted phrase keeps all its words (they must be adjacent, so the others narrow it) unless
    every one of them is a stop word. ``or`` stays between what remains. An excluded stop word
    excludes nothing, as a stop word looked for looks for nothing. ``words`` is empty when
    nothing is left to look for: only stop words, or only words to exclude (``-قسد`` alone
    would match nearly every claim); a word is something left once normalised (not a lone
    tatweel).
    """
    tokens: list[str] = []
    excluded: list[str] = []
    named: list[str] = []
    dashes = 0
    for found in _TOKEN.finditer(_STRUCTURE.translate(query)):
        part = found.group()
        if part == "-":
            dashes += 1
            continue
        if dashes % 2 == 0:
            named.append(part)
        if part.startswith('"'):  # an unclosed quote runs to the end, as in PostgreSQL
            phrase = part.strip('"').strip()
            part = f'"{phrase}"' if phrase and not is_stop(phrase) else ""
        elif is_stop(part) and (dashes % 2 or part.lower() != "or"):
            part = ""
        elif _HYPHENATED.fullmatch(normalize(part)):
            # `safe-zone`: its words side by side, written with the hyphen or without
            # (PostgreSQL reads it as the compound and then its parts, which a text that
            # writes `safe zone` does not hold)
            part = '"' + part.replace("-", " ") + '"'
        if part:
            (excluded if dashes % 2 else tokens).append(part)
        dashes = 0
    kept, names = _between(tokens), " ".join(_between(named))
    if not any(has_letter_or_digit(normalize(t)) and t.lower() != "or" for t in kept):
        return SearchWords("", named=names)
    exclusions = tuple(e for e in dict.fromkeys(excluded) if has_letter_or_digit(normalize(e)))
    return SearchWords(" ".join(kept), exclusions, names)


def _between(tokens: list[str]) -> list[str]:
    """``tokens`` with ``or`` only between two others: not first, last or twice in a row
    (``قسد or -روسيا`` is ``قسد``)."""
    kept: list[str] = []
    for token in tokens:
        if token.lower() == "or" and (not kept or kept[-1].lower() == "or"):
            continue
        kept.append(token)
    while kept and kept[-1].lower() == "or":
        kept.pop()
    return kept


# Words of letters joined by hyphens (not digits: `COVID-19`, `2019-11-24` are PostgreSQL's
# own tokens)
_HYPHENATED = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)+")
# PostgreSQL's operators between words in websearch syntax. A token is a minus, a quoted
# phrase (to the end when unclosed), or a word: what is between them (white space, the
# operators) separates them.
_OPERATORS = "!&|()<"
_TOKEN = re.compile(rf'-|"[^"]*"?|[^\s"{re.escape(_OPERATORS)}-][^\s"{re.escape(_OPERATORS)}]*')
_STRUCTURAL = frozenset('-"' + _OPERATORS)


class _Structure(CharTable):
    """The query as its words and operators will be once normalised: a character whose
    normalised form holds white space, an operator, a quote or a minus becomes that form (``´``
    a space, ``－`` a minus, ``⑴`` ``(1)``); a mark or a tatweel, which normalising leaves out,
    nothing (``ـ-قسد`` is an exclusion); any other stays as typed (the Arabic stemmer reads
    the query as typed)."""

    def value(self, typed: str) -> str:
        folded = fold(typed)
        structural = not folded or any(c.isspace() or c in _STRUCTURAL for c in folded)
        return folded if structural else typed


_STRUCTURE = _Structure()

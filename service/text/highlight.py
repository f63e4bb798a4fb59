"""Snippets: the original text around what matched, HTML-escaped, matches in ``<mark>``.

Matching happens on normalised text (so ``اكار`` marks ``آكار``), folded a character at a time
so that the marks can be placed on the original characters they came from.
"""

from __future__ import annotations

import codecs
import functools
import html
import re
import unicodedata
from bisect import bisect_right
from typing import NamedTuple, Protocol

from service.text.normalize import WORD, CharTable, article_forms, fold, normalize
from service.text.stopwords import is_stop

ELLIPSIS = "…"


def _fold_char(ch: str) -> str:
    """The character as normalised text writes it (once a character, through ``plane`` or
    ``_FOLD_TABLE``: a search marks some twenty texts of hundreds of characters each, from an
    alphabet of a few dozen)."""
    if ch.isspace():
        return " "
    return fold(ch)


def terms_of(query: str) -> list[str]:
    """The words of a query worth marking (normalised; quotes and operators dropped), and
    each without the Arabic article as the search looks for it too (``الصعوبات`` marks
    ``صعوبات``). Stop words only when the query has nothing else: a phrase keeps them for
    the search (``"on the safe zone"``), but marked they marked every ``the`` of a text, and
    a snippet began at the first."""
    tokens = query.replace('"', " ").split()
    words = normalize(" ".join([t for t in tokens if not is_stop(t)] or tokens)).split(" ")
    terms = list(  # once each: a word typed again is not looked for again
        dict.fromkeys(w.lstrip("-") for w in words if len(w.lstrip("-")) >= 2 and w.lower() != "or")
    )
    forms = [form for term in terms for form in article_forms(term)]
    return terms + [form for form in dict.fromkeys(forms) if form not in terms]


class Phrases(NamedTuple):
    """A query's quoted phrases of two or more words worth marking (``phrases_of``)."""

    each: tuple[tuple[tuple[int, frozenset[str]], ...], ...]
    """Each phrase: its words worth marking, each as (position in the phrase, the terms that
    mark it: the word and its forms without the article); a stop word holds its place."""
    only: frozenset[str]
    """The terms that the query has only inside phrases: marked only where one of their
    phrases is, in a text that holds it."""


_QUOTED_OR_WORD = re.compile(r'"([^"]*)"?|(\S+)')


def phrases_of(query: str) -> Phrases | None:
    """The quoted phrases of ``query`` (``search_words``'s ``words``) for ``snippet``: a
    phrase's words are found side by side, and a word of it alone elsewhere in a text is no
    match of the query (``"safe zone"`` marked every safe and every zone). None when the
    query has no phrase of two words worth marking."""
    each: list[tuple[tuple[int, frozenset[str]], ...]] = []
    loose: set[str] = set()
    for found in _QUOTED_OR_WORD.finditer(query):
        phrase, word = found.groups()
        if word is not None:
            loose.update(terms_of(word) if not is_stop(word) else ())
            continue
        words: list[tuple[int, frozenset[str]]] = []
        place = 0  # a token takes as many places as it has words (punctuation none)
        for token in (phrase or "").split():
            normalised = normalize(token)
            term = normalised.lstrip("-")  # as terms_of has it
            if not is_stop(token) and len(term) >= 2 and " " not in term:
                words.append((place, frozenset([term, *article_forms(term)])))
            place += len(WORD.findall(normalised))
        if len(words) >= 2:
            each.append(tuple(words))
    if not each:
        return None
    each = list(dict.fromkeys(each))
    only = frozenset(t for phrase in each for _, terms in phrase for t in terms) - loose
    return Phrases(tuple(each), only)


def _finder(characters: list[str]) -> re.Pattern[str]:
    """A pattern that finds any of ``characters`` (the ones that fold to none or to several)."""
    return re.compile("[" + "".join(map(re.escape, characters)) + "]")


class _FoldTable(CharTable):
    """The table of ``_fold_char`` for texts with a character beyond the Basic Multilingual
    Plane (``plane`` has the rest); notes the characters that do not fold to exactly one
    (marks fold to none, ligatures to several). Emptied between texts (``translate``): a text
    is read through it, then its uneven characters looked for."""

    def __init__(self) -> None:
        super().__init__()
        self.uneven: set[str] = set()
        self._finder: re.Pattern[str] | None = None

    def value(self, ch: str) -> str:
        folded = _fold_char(ch)
        if len(folded) != 1:  # noted before the table has it: no text sees it unmarked
            self.uneven.add(ch)
            self._finder = None
        return folded

    def empty(self) -> None:
        super().empty()
        self.uneven.clear()
        self._finder = None

    def finder(self) -> re.Pattern[str]:
        """A pattern that finds the uneven characters noted so far."""
        if self._finder is None:
            self._finder = _finder(sorted(self.uneven))
        return self._finder


_FOLD_TABLE = _FoldTable()


@functools.cache
def plane() -> tuple[tuple[int | str, ...], re.Pattern[str]]:
    """``str.translate``'s table of every character of the Basic Multilingual Plane (a
    character that folds to itself: its own code), and a pattern that finds those that fold to
    none or to several. Made once a process (about 0.1 s): by a worker as it starts
    (``service.asgi``), otherwise on the first snippet. A tuple is read by ``str.translate``
    in about half the time of ``_FOLD_TABLE``, and a search folds some twenty texts."""
    table: list[int | str] = []
    uneven = []
    for code in range(0x10000):
        ch = chr(code)
        folded = ch if 0xD800 <= code <= 0xDFFF else _fold_char(ch)  # no lone surrogate
        table.append(code if folded == ch else folded)
        if len(folded) != 1:
            uneven.append(ch)
    return tuple(table), _finder(uneven)


# The characters of Arabic and English news text (the Arabic letters, harakat, tatweel and
# punctuation, Arabic-Indic and Persian digits, the Persian letters, typographic quotes and
# dashes, the direction marks and joiners), with ASCII: at most 256, so that a text of them
# is folded a byte a character by the codecs' C loops (``_ByteFold``).
_NEWS = (
    [chr(c) for c in range(0x80)]
    + [chr(c) for c in range(0x0621, 0x063B)]
    + [chr(c) for c in range(0x0640, 0x066A)]
    + [chr(c) for c in range(0x06F0, 0x06FA)]
    + list("\u060c\u061b\u061f\u0670\u0671\u067e\u0686\u0698\u06a9\u06af\u06c1\u06cc\u06d2")
    + list("\u00a0\u00ab\u00bb\u00b7\u200c\u200d\u200e\u200f\u2013\u2014\u2018\u2019\u201c\u201d")
)


class _ByteFold:
    """Folds a text of ``_NEWS``'s characters as ``plane``'s table does, character by
    character, without ``str.translate``, which looks every character up through Python's
    mapping protocol (some 40 ns a character: a third of a snippet's time): the text is
    encoded a byte a character (``codecs.charmap_encode``), the bytes folded by
    ``bytes.translate`` (a character's fold, or none), and decoded back. A character is
    taken only if it folds to none or to one that is taken too; ``fold`` is None for a text
    with any other, which is then read through the table."""

    def __init__(self, characters: list[str]) -> None:
        fold_of = {ch: _fold_char(ch) for ch in characters}
        taken = {ch for ch, folded in fold_of.items() if len(folded) <= 1}
        while shut := {ch for ch in taken if fold_of[ch] and fold_of[ch] not in taken}:
            taken -= shut
        alphabet = sorted(taken)
        assert len(alphabet) <= 256
        self._decoding = "".join(alphabet).ljust(256, "\ufffe")  # U+FFFE: no character
        self._encoding = codecs.charmap_build(self._decoding)
        slot = {ch: i for i, ch in enumerate(alphabet)}
        folds = bytearray(range(256))
        for ch in alphabet:
            if fold_of[ch]:
                folds[slot[ch]] = slot[fold_of[ch]]
        self._folds = bytes(folds)
        self._none = bytes(slot[ch] for ch in alphabet if not fold_of[ch])

    def fold(self, text: str) -> str | None:
        try:
            encoded, _ = codecs.charmap_encode(text, "strict", self._encoding)
        except UnicodeEncodeError:
            return None
        folded = encoded.translate(self._folds, self._none)
        return codecs.charmap_decode(folded, "strict", self._decoding)[0]


@functools.cache
def byte_fold() -> _ByteFold:
    """Made once a process, with ``plane``."""
    return _ByteFold(_NEWS)


# A character beyond the Basic Multilingual Plane: rare in news text, and the plane's table
# stops short of them (a million code points); a text with one is folded through _FOLD_TABLE.
_ASTRAL = re.compile("[^\u0000-\uffff]")


class _Table(Protocol):
    def __getitem__(self, code: int, /) -> int | str: ...


class _Uneven:
    """Where a folded text's characters come from, for a text with characters that fold to
    none or to several: only those characters are listed (a few harakat in a text of
    hundreds), each with where its folding starts and ends in the folded text; between them,
    original and folded characters pair one to one, shifted."""

    __slots__ = ("ends", "origins", "shifts", "starts")

    def __init__(self, text: str, table: _Table, finder: re.Pattern[str]) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.origins: list[int] = []
        self.shifts = [0]  # original index minus folded index after each uneven character
        shift = 0
        for found in finder.finditer(text):
            i = found.start()
            start = i - shift
            folded = table[ord(text[i])]
            length = 1 if isinstance(folded, int) else len(folded)
            self.starts.append(start)
            self.ends.append(start + length)
            self.origins.append(i)
            shift += 1 - length
            self.shifts.append(shift)

    def origin(self, position: int) -> int:
        """The index of the original character the folded character at ``position`` came
        from."""
        k = bisect_right(self.ends, position)  # uneven characters wholly before it
        if k < len(self.starts) and self.starts[k] <= position:
            return self.origins[k]  # one of the several a ligature folds to
        return position + self.shifts[k]


def _folded(text: str) -> tuple[str, _Uneven | None]:
    """``text`` as normalised text writes it, character by character, and where its
    characters came from (None when each folds to one: a folded character then has the index
    of its original)."""
    haystack = byte_fold().fold(text)
    if haystack is not None:  # no character of it folds to several
        if len(haystack) == len(text):
            return haystack, None  # nor to none
        table, finder = plane()
        return haystack, _Uneven(text, table, finder)
    if _ASTRAL.search(text) is None:
        table, finder = plane()
        uneven = _Uneven(text, table, finder)
        return text.translate(table), uneven if uneven.starts else None
    haystack = _FOLD_TABLE.translate(text)
    if _FOLD_TABLE.uneven.isdisjoint(text):
        return haystack, None
    return haystack, _Uneven(text, _FOLD_TABLE, _FOLD_TABLE.finder())


# What Arabic writes onto a word before it: a conjunction (و, ف), then a preposition (ب, ل, ك)
# and the article (ال; ل with it is لل). A term after such a prefix starts a word all the same
# (ومن: and from; بالمنطقة: in the zone), as the Arabic stemmer the search uses takes them off.
_PREFIX = re.compile(r"[وف]?(?:[بك]?ال|لل|[بلك])?")
# A term this short is marked only as a whole word: a longer one may run on into the word it
# starts (``force`` in ``forces``: stems match so).
WHOLE_WORD = 3


def at_word(haystack: str, start: int, end: int) -> bool:
    """Whether the match ``haystack[start:end]`` (folded text) is where the search matched a
    word, not a piece of another (``من`` in ``المنطقة`` or ``منبج``, ``safe`` in
    ``unsafe``): it begins a word, or follows a prefix Arabic writes onto one, and a short
    term ends it."""
    if end - start <= WHOLE_WORD and end < len(haystack) and haystack[end].isalnum():
        return False
    word = start
    while word > 0 and haystack[word - 1].isalnum() and start - word <= 4:
        word -= 1
    if word > 0 and haystack[word - 1].isalnum():
        return False  # more letters before than any prefix has
    return _PREFIX.fullmatch(haystack, word, start) is not None


def spans(text: str, terms: list[str], phrases: Phrases | None = None) -> list[tuple[int, int]]:
    """Where in ``text`` the terms occur, as [start, end) indexes into the original; a term
    that ``phrases`` has only inside phrases, only where one of them is (``_in_phrases``).

    The text is folded by ``str.translate`` and a match mapped back through the few
    characters that do not fold to one (``_Uneven``), not by walking the text in Python (a
    search's twenty snippets took a tenth of its time that way, and a fifth when every
    character's folded length was counted to map a text with harakat)."""
    haystack, uneven = _folded(text)
    hits: list[tuple[int, int, str]] = []
    for term in terms:
        start = haystack.find(term)
        while start != -1:
            end = start + len(term)
            if not at_word(haystack, start, end):
                start = haystack.find(term, start + 1)
                continue
            hits.append((start, end, term))
            start = haystack.find(term, end)
    if phrases is not None:
        hits = _in_phrases(haystack, hits, phrases)
    if uneven is None:
        found = [(start, end) for start, end, _ in hits]
    else:  # the original characters that folded into haystack[start:end]
        found = [(uneven.origin(start), uneven.origin(end - 1) + 1) for start, end, _ in hits]
    merged: list[tuple[int, int]] = []
    for s, e in sorted(found):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def _in_phrases(
    haystack: str, hits: list[tuple[int, int, str]], phrases: Phrases
) -> list[tuple[int, int, str]]:
    """``hits`` (folded start, end, term) without those of a term the query has only in
    phrases that are not part of one of its phrases: the phrase's words in words side by
    side (a stop word's place held by any word), as PostgreSQL matches a phrase. A text
    that holds none of the query's phrases so (their words matched through their stems, or
    split otherwise than here) keeps every hit: some mark is better than none."""
    if not any(term in phrases.only for _, _, term in hits):
        return hits
    starts = [word.start() for word in WORD.finditer(haystack)]
    at: dict[int, set[str]] = {}  # word index: the terms found in it
    words = []
    for start, end, term in hits:
        first = WORD.search(haystack, start, end)  # a term may begin with punctuation
        word = bisect_right(starts, first.start() if first else start) - 1
        words.append(word)
        at.setdefault(word, set()).add(term)
    inside: set[tuple[int, str]] = set()  # (word index, term) in a phrase found
    for phrase in phrases.each:
        (first_place, _), *_ = phrase
        for word in list(at):
            begin = word - first_place
            if all(at.get(begin + place, set()) & marks for place, marks in phrase):
                inside.update(
                    (begin + place, term)
                    for place, marks in phrase
                    for term in at[begin + place] & marks
                )
    if not inside:
        return hits
    return [
        hit
        for hit, word in zip(hits, words, strict=True)
        if hit[2] not in phrases.only or (word, hit[2]) in inside
    ]


def snippet(
    text: str, terms: list[str], width: int = 200, phrases: Phrases | None = None
) -> str | None:
    """A window of ``text`` around its first match with every match marked (``spans``);
    None if none."""
    marks = spans(text, terms, phrases)
    if not marks:
        return None
    first = marks[0][0]
    start = word_start(text, max(0, first - width // 4), first)
    end = word_end(text, start + width, start)
    out = [ELLIPSIS] if _NOT_SPACE.search(text, 0, start) else []  # more than space before
    escape = html.escape if _needs_escaping(text) else str  # (str of a str: the same str)
    cursor = start
    for s, e in marks:
        if e <= start or s >= end:
            continue
        while e < len(text) and _joins_the_one_before(text[e]):  # a letter's harakat with it
            e += 1
        s, e = max(s, start, cursor), min(e, end)
        out += [escape(text[cursor:s]), "<mark>", escape(text[s:e]), "</mark>"]
        cursor = e
    out.append(escape(text[cursor:end].rstrip()))
    if cut_off(text, end):
        out.append(ELLIPSIS)
    return "".join(out)


def _needs_escaping(text: str) -> bool:
    """Whether ``text`` holds a character ``html.escape`` changes (most Arabic texts hold
    none: five searches of the text in C, against three escapes of its pieces a snippet)."""
    return "&" in text or "<" in text or ">" in text or '"' in text or "'" in text


def plain(text: str, width: int = 200) -> str:
    """The start of ``text``, escaped, when nothing in it matched."""
    return html.escape(shorten(text, width))


# Unicode's bidirectional embeddings, overrides and isolates, and their ends: a snippet is a
# piece of a text cut anywhere, so one it opens may not be closed in it, and a snippet is
# inserted into a page as it is (HTML). An override left open there turned the page's text
# after it backwards (a CMS developer's walkthrough). Left out of snippets (the search
# route), the text keeps its order; the marks (LRM, RLM, ALM) have no extent and stay.
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The same characters in UTF-8, as an encoded page holds them: looked for in a page's bytes
# at once (some 4 µs a page, against 24 for a search in each of its twenty snippets), and
# only a page that holds one is mended.
BIDI_CONTROL_UTF8 = re.compile(b"\xe2(?:\x80[\xaa-\xae]|\x81[\xa6-\xa9])")


# How far back from a cut a space is looked for, so that a cut falls between words: a word
# longer than this (a URL, say) is cut where the width ends.
WORD_SLACK = 20


def word_end(text: str, end: int, start: int = 0) -> int:
    """Where to cut ``text`` at most ``end`` characters in, after ``start``: at the last white
    space within ``WORD_SLACK`` characters before ``end``, not inside a word; in a longer
    word, not between a character and the marks or modifiers that go with it."""
    if end >= len(text) or text[end].isspace():
        return min(end, len(text))
    space = _last_space(text, end, start + 1)
    if space != -1:
        return space
    while end > start + 1 and _joins_the_one_before(text[end]):
        end -= 1
    return end


def word_start(text: str, start: int, first: int) -> int:
    """Where to start a window of ``text`` at about ``start``, before ``first`` (its first
    match): after the last white space within ``WORD_SLACK`` characters before it, else not
    between a character and its marks; past white space, up to ``first``."""
    if start:
        space = _last_space(text, start, 0)
        if space != -1:
            start = space + 1
        else:
            while start > 0 and _joins_the_one_before(text[start]):
                start -= 1
    while start < first and text[start].isspace():
        start += 1
    return start


def _last_space(text: str, before: int, floor: int) -> int:
    """The last white space of ``text`` before ``before``, within ``WORD_SLACK`` characters of
    it and not before ``floor``; -1 if there is none."""
    for i in range(before - 1, max(floor, before - WORD_SLACK) - 1, -1):
        if text[i].isspace():
            return i
    return -1


def _joins_the_one_before(ch: str) -> bool:
    """A combining mark (harakat, accents), a zero-width joiner, a variation selector or a
    skin-tone modifier: shown as part of the character before it."""
    return bool(
        unicodedata.combining(ch)
        or unicodedata.category(ch) in ("Mn", "Me")
        or ch == "\u200d"
        or "\ufe00" <= ch <= "\ufe0f"
        or "\U0001f3fb" <= ch <= "\U0001f3ff"
    )


_NOT_SPACE = re.compile(r"\S")


def cut_off(text: str, end: int) -> bool:
    """Whether cutting ``text`` at ``end`` leaves out anything but white space."""
    return _NOT_SPACE.search(text, end) is not None


def shorten(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` characters between words, with an ellipsis if
    anything was left out (which makes it ``width`` + 1 at most)."""
    if len(text) <= width:
        return text
    end = word_end(text, width)
    return text[:end].rstrip() + (ELLIPSIS if cut_off(text, end) else "")

"""Arabic-aware text normalisation: the one place spellings are folded, for indexing and for
querying alike. ``claimdesk_normalize(text)`` in PostgreSQL (migration 0003, Latin
diacritics since migration 0021) does the same, step for step; a test holds the two
together.

Steps: Unicode NFKC (presentation forms, ligatures, full-width letters); lower case; NFD
(canonical decomposition: a letter and its marks apart); drop the combining diacritical
marks (U+0300-U+036F: `ğ` is `g`, `é` is `e`), tashkeel (harakat, tanween, shadda, sukun,
superscript alef, Quranic marks, and the hamza and madda marks that decomposing أ إ آ ؤ ئ
leaves) and tatweel; fold alef wasla ٱ (and any precomposed alef variant) to ا, ta marbuta ة
to ه, alef maqsura ى to ي, hamza on waw ؤ to و and on ya ئ to ي, Persian keheh and Farsi yeh
(what a Persian keyboard types for kaf and yeh; migration 0023) to ك and ي, Turkish dotless ı to i and
ø ł đ to o l d; Arabic-Indic and Persian digits to ASCII; runs of whitespace to one space.
"""

from __future__ import annotations

import re
import unicodedata

# U+0300-U+036F combining diacritical marks (Latin, also Greek and Cyrillic accents),
# U+0610-U+061A Quranic signs, U+064B-U+065F harakat (and the hamza and madda marks),
# U+0670 superscript alef, U+06D6-U+06ED Quranic annotation marks, U+0640 tatweel.
_MARKS = re.compile("[\u0300-\u036f\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans(
    "أإآٱؤئى\u06cc\u06a9ةıøłđ٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹",  # (U+06CC Farsi yeh, U+06A9 keheh)
    "ااااوييي\u0643هiold01234567890123456789",  # (U+0643 kaf)
)
_SPACE = re.compile("[ \t\n\r\f\v]+")


def fold(text: str) -> str:
    """Every step but white space's: ``text`` as normalised text spells it."""
    lowered = unicodedata.normalize("NFKC", text).lower()
    return _MARKS.sub("", unicodedata.normalize("NFD", lowered)).translate(_FOLD)


def normalize(text: str) -> str:
    return _SPACE.sub(" ", fold(text)).strip(" ")


# The Arabic article on a word (migration 0024): ال, with و or ف and then ب or ك before it (ل
# with the article is لل), where three letters or more are left, at the start of a word
# (nothing of a word before it). A query looks for its words with it and without it
# (``الصعوبات`` is also ``صعوبات``); and for a word that begins with لل without its first ل
# too (``للاجئين`` is ل and ``اللاجئين``, the article's ل written once with the word's).
# ``claimdesk_without_article`` and ``claimdesk_article_forms`` in PostgreSQL do the same;
# tests hold them together.
_ARABIC_LETTER = "\u0621-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06fa-\u06fc"
_ARTICLE = re.compile(
    # nothing of a word before: an Arabic letter or mark, an ASCII letter or digit
    f"(?<![{_ARABIC_LETTER}\u0610-\u061a\u0640\u064b-\u065f\u0670\u06d6-\u06ed0-9a-z])"
    "[\u0648\u0641]?(?:[\u0628\u0643]?\u0627\u0644|\u0644\u0644)"  # [وف]?(?:[بك]?ال|لل)
    f"(?=[{_ARABIC_LETTER}]{{3}})"
)
_LAM_BEFORE_LAM = re.compile(f"^[\u0648\u0641]?\u0644(?=\u0644[{_ARABIC_LETTER}]{{2}})")
_ARABIC_WORD = re.compile(f"[{_ARABIC_LETTER}]+")


def without_article(normalised: str) -> str:
    """Normalised text without the article on its words (``بالانسحاب`` is ``انسحاب``)."""
    return _ARTICLE.sub("", normalised)


def article_forms(word: str) -> list[str]:
    """A query's word (normalised) without its article, as the search also looks for it:
    none for a word with no article or of other letters."""
    if not _ARABIC_WORD.fullmatch(word):
        return []
    forms = {without_article(word), _LAM_BEFORE_LAM.sub("", word)} - {word}
    return sorted(forms)


# A word of normalised text, as the service reads words: letters and digits (names' words,
# stop words, a phrase's places in snippets).
WORD = re.compile(r"[^\W_]+")


def has_letter_or_digit(normalised: str) -> bool:
    """Whether normalised text holds a letter or a digit: something a search or a name
    filter can look for (not only punctuation, marks or white space)."""
    return WORD.search(normalised) is not None  # a word's first letter or digit


class CharTable(dict[int, str]):
    """``str.translate``'s table of ``value`` (what a character becomes), filled as characters
    are met: text is folded a character at a time where the whole text cannot be (a snippet
    maps its marks back, a query keeps its words as typed). ``translate`` empties it first once
    it holds ``LIMIT`` characters (and so never while a text is read through it), so that
    stored text or queries cannot grow it to all of Unicode."""

    LIMIT = 65536

    def value(self, ch: str) -> str:
        raise NotImplementedError

    def __missing__(self, code: int) -> str:
        self[code] = value = self.value(chr(code))
        return value

    def translate(self, text: str) -> str:
        if len(self) >= self.LIMIT:
            self.empty()
        return text.translate(self)

    def empty(self) -> None:
        self.clear()

"""Arabic-aware text normalisation: the one place spellings are folded, for indexing and for
querying alike. ``claimdesk_normalize(text)`` in PostgreSQL (migration 0003) does the same,
step for step; a test holds the two together.

Steps: Unicode NFKC (presentation forms, ligatures, full-width letters); lower case; drop
tashkeel (harakat, tanween, shadda, sukun, superscript alef, Quranic marks) and tatweel; fold
alef variants (أ إ آ ٱ) to ا, ta marbuta ة to ه, alef maqsura ى to ي, hamza on waw ؤ to و
and on ya ئ to ي; Arabic-Indic and Persian digits to ASCII; runs of whitespace to one space.
"""

from __future__ import annotations

import re
import unicodedata

# U+0610-U+061A Quranic signs, U+064B-U+065F harakat, U+0670 superscript alef,
# U+06D6-U+06ED Quranic annotation marks, U+0640 tatweel.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans(
    "أإآٱؤئىة٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹",
    "ااااوييه01234567890123456789",
)
_SPACE = re.compile("[ \t\n\r\f\v]+")


def normalize(text: str) -> str:
    folded = _MARKS.sub("", unicodedata.normalize("NFKC", text).lower()).translate(_FOLD)
    return _SPACE.sub(" ", folded).strip(" ")


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def has_letter_or_digit(normalised: str) -> bool:
    """Whether normalised text holds a letter or a digit: something a search or a name
    filter can look for (not only punctuation, marks or white space)."""
    return _LETTER_OR_DIGIT.search(normalised) is not None

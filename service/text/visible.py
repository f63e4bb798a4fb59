"""What text a person reads must hold: a character that shows.

``\\S`` was the rule, and lets through text of only invisible characters (a zero-width
space, a soft hyphen, a bidi mark: a name that shows as nothing) and control characters (a
newline in an actor's name or an API key's name breaks every list that shows it on a line).

- :data:`TEXT_PATTERN` (claim text, notes): somewhere a character that is neither white
  space, a control character, nor invisible; line breaks are allowed.
- :data:`LINE_PATTERN` (names, titles, roles, labels, questions): that, and no control
  character or line break anywhere. Written so that no input makes it backtrack: the
  classes on either side of the visible character do not overlap it.

Both are searched by Python's ``re`` (msgspec) and, as the OpenAPI document writes them, by
ECMA-262 engines: only ``\\s``, ``\\xHH`` and ``\\uHHHH`` escapes, and ``\\Z`` as the end
(the document writes it ``$``, ``service.openapi``).
"""

from __future__ import annotations

# C0 and C1 controls, DEL
_CONTROLS = r"\x00-\x1F\x7F-\x9F"
# Characters that draw nothing (Unicode's default-ignorable ones in the BMP that fonts show
# as nothing: soft hyphen, combining grapheme joiner, Arabic letter mark, Hangul fillers,
# Khmer and Mongolian vowel separators and variation selectors, zero-width spaces and
# joiners, bidi marks, embeddings and isolates, word joiner and invisible operators,
# variation selectors, the byte order mark)
_INVISIBLE = (
    r"\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E"
    r"\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0"
)
# White space that is not a control character or a line break
_SPACES = r" \u00A0\u1680\u2000-\u200A\u202F\u205F\u3000"
_VISIBLE = rf"[^\s{_CONTROLS}{_INVISIBLE}]"

TEXT_PATTERN = _VISIBLE
LINE_PATTERN = rf"^[{_SPACES}{_INVISIBLE}]*{_VISIBLE}[^{_CONTROLS}\u2028\u2029]*\Z"

# What a problem says instead of quoting them (service.errors)
IN_WORDS = {
    TEXT_PATTERN: "Expected text with a visible character (not only white space or "
    "invisible characters such as U+200B)",
    LINE_PATTERN: "Expected one line of text with a visible character (no control "
    "characters or line breaks; not only white space or invisible characters such as U+200B)",
}

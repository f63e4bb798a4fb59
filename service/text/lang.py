"""BCP 47 language tags: the pattern the API accepts and the canonical case it stores."""

from __future__ import annotations

# A well-formed tag as RFC 5646 section 2.1 has it: a language (2-3 letters and up to three
# extended language subtags), then an optional script (4 letters), an
# optional region (2 letters or 3 digits), variants (5-8 letters or digits, or a digit and
# 3 more), extensions (a singleton other than x, then subtags of 2-8) and private use (x,
# then subtags of 1-8); or private use alone. Subtags in that order only: "ar-SY",
# "zh-Hant-TW", "sr-Latn-RS", "de-CH-1996", "en-US-u-ca-gregory", "x-whatever". The
# irregular grandfathered tags (i-klingon, en-GB-oed, i-default...), which the grammar only
# lists by name, are refused. Whether a subtag is registered is not checked, but for the
# language's length: the grammar also lets a language be 4 letters (reserved) or 5-8
# (registered ones only, and IANA's registry holds none), and `arabic` or `English` typed
# for `ar` or `en` went through and was stored, found by no `lang=ar` filter and shown left
# to right on the dispute card (a fact-checker's walkthrough). The end is
# ``\Z``: Python's ``$`` also matches before a final newline (the OpenAPI document writes
# ``$``, ECMA-262's end: ``service.openapi``).
_LANGTAG = (
    r"[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
)
LANG_PATTERN = rf"^(?:{_LANGTAG}|[Xx](?:-[A-Za-z0-9]{{1,8}})+)\Z"


def canonical_lang(tag: str) -> str:
    """``AR-sy`` -> ``ar-SY``, ``zh-hant-tw`` -> ``zh-Hant-TW`` (RFC 5646 section 2.1.1 casing).

    It checks nothing: a tag sent is checked by its type's pattern (``LangTag``) before it
    gets here, and a tag read back from storage to be stored again (a PATCH keeps a claim's
    translations) may be one an older, looser pattern let in, which must stay as it is,
    cased the same way, not fail the write."""
    parts = tag.split("-")
    out = [parts[0].lower()]
    singleton = len(parts[0]) == 1  # private use alone: x-...
    for part in parts[1:]:
        if singleton or len(part) == 1:
            singleton = True  # extensions and private use stay lower case
            out.append(part.lower())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        elif len(part) == 4 and part.isalpha():
            out.append(part.title())
        else:
            out.append(part.lower())
    return "-".join(out)

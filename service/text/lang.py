"""BCP 47 language tags: the pattern the API accepts and the canonical case it stores."""

from __future__ import annotations

import re

# language (2-3 letters, or 4-8 registered), then script / region / variant / extension subtags.
LANG_PATTERN = r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"
_LANG = re.compile(LANG_PATTERN)


def canonical_lang(tag: str) -> str:
    """``AR-sy`` -> ``ar-SY``, ``zh-hant-tw`` -> ``zh-Hant-TW`` (RFC 5646 section 2.1.1 casing)."""
    if not _LANG.match(tag):
        raise ValueError(f"not a BCP 47 language tag: {tag!r}")
    parts = tag.split("-")
    out = [parts[0].lower()]
    singleton = False
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

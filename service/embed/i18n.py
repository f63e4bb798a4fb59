"""The card's own words in each language it speaks, dates as readers write them, and which way
a language's script runs."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Final

from service import negotiation

DEFAULT_LANG: Final = "en"

# Languages whose usual script runs right to left (ISO 639 codes), and right-to-left scripts
# (ISO 15924), which win over the language when a tag names one (`az-Arab`, `ku-Latn`).
RTL_LANGUAGES: Final = frozenset(
    {"ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "lrc", "mzn", "nqo", "pnb", "ps"}
    | {"sd", "syr", "ug", "ur", "yi"}
)
RTL_SCRIPTS: Final = frozenset({"Adlm", "Arab", "Hebr", "Mand", "Nkoo", "Rohg", "Syrc", "Thaa"})


def direction(lang: str | None) -> str:
    """``rtl`` or ``ltr`` for a BCP 47 tag; ``auto`` (the text decides) when it is unknown."""
    if not lang or lang.lower() in {"und", "mul", "zxx"}:
        return "auto"
    parts = lang.split("-")
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            return "rtl" if part.title() in RTL_SCRIPTS else "ltr"
    return "rtl" if parts[0].lower() in RTL_LANGUAGES else "ltr"


def primary(lang: str | None) -> str:
    return (lang or "").split("-")[0].lower()


# Every string the card writes itself. Placeholders are filled with escaped HTML.
STRINGS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "kicker": "Dispute",
        "status.open": "Open",
        "status.resolved": "Resolved",
        "status.dismissed": "Dismissed",
        "side.affirms": "Affirms",
        "side.denies": "Denies",
        "side.questions": "Questions",
        "verbatim": "Quote",
        "paraphrase": "Paraphrase",
        "translation": "Translation",
        "via": "as relayed by {name}",
        "undated": "Undated",
        "source": "Source",
        "sources": "Sources",
        "fact_check": "Fact-check",
        "review": "{reviewer}: {label}",
        "verdict": "Verdict",
        "verdict.affirmed": "Affirmed: the evidence supports the affirming claims.",
        "verdict.denied": "Denied: the evidence supports the denying claims.",
        "verdict.mixed": "Mixed: the evidence supports parts of both sides.",
        "verdict.unproven": "Unproven: the evidence settles neither side.",
        "resolved_on": "Resolved {date}",
        "dismissed": "Dismissed",
        "dismissed_on": "Dismissed {date}",
        "updated": "Updated {date}",
        "provider": "claimdesk",
        "title": "Dispute: {title}",
        "iframe_title": "Dispute: {title}",
    },
    "ar": {
        "kicker": "نزاع",
        "status.open": "مفتوح",
        "status.resolved": "محسوم",
        "status.dismissed": "مستبعد",
        "side.affirms": "يؤكّد",
        "side.denies": "ينفي",
        "side.questions": "يشكّك",
        "verbatim": "اقتباس",
        "paraphrase": "بتصرّف",
        "translation": "ترجمة",
        "via": "نقلاً عن {name}",
        "undated": "بلا تاريخ",
        "source": "المصدر",
        "sources": "المصادر",
        "fact_check": "تدقيق",
        "review": "{reviewer}: {label}",
        "verdict": "الحكم",
        "verdict.affirmed": "مؤكَّد: الأدلة تدعم الأقوال المؤكِّدة.",
        "verdict.denied": "منفيّ: الأدلة تدعم الأقوال النافية.",
        "verdict.mixed": "مختلط: الأدلة تدعم جوانب من الطرفين.",
        "verdict.unproven": "غير مثبت: الأدلة لا تحسم لأيّ من الطرفين.",
        "resolved_on": "حُسم في {date}",
        "dismissed": "استُبعد",
        "dismissed_on": "استُبعد في {date}",
        "updated": "آخر تحديث {date}",
        "provider": "claimdesk",
        "title": "نزاع: {title}",
        "iframe_title": "نزاع: {title}",
    },
}
SUPPORTED: Final = tuple(STRINGS)

MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "ar": (
        "يناير",
        "فبراير",
        "مارس",
        "أبريل",
        "مايو",
        "يونيو",
        "يوليو",
        "أغسطس",
        "سبتمبر",
        "أكتوبر",
        "نوفمبر",
        "ديسمبر",
    ),
}


def text(lang: str, key: str) -> str:
    return STRINGS.get(lang, STRINGS[DEFAULT_LANG])[key]


def format_date(day: date, precision: str | None, lang: str) -> str:
    """A date as precise as it is known: "24 November 2019", "November 2019", "2019"."""
    months = MONTHS.get(lang, MONTHS[DEFAULT_LANG])
    if precision == "year":
        return str(day.year)
    if precision == "month":
        return f"{months[day.month - 1]} {day.year}"
    return f"{day.day} {months[day.month - 1]} {day.year}"


def machine_date(day: date, precision: str | None) -> str:
    """The ``datetime`` attribute of ``<time>``: ``2019``, ``2019-11`` or ``2019-11-24``."""
    if precision == "year":
        return f"{day.year:04d}"
    if precision == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return day.isoformat()


def negotiate(asked: str | None, accept_language: str | None) -> str:
    """The card's language: ``?lang=`` when the card speaks it, else the best of the reader's
    ``Accept-Language`` it speaks, else English. Only the primary subtag counts (``ar-SY`` is
    Arabic)."""
    if asked:
        return primary(asked) if primary(asked) in STRINGS else DEFAULT_LANG
    best, best_q = DEFAULT_LANG, 0.0
    for tag, q in itertools.islice(negotiation.weighted(accept_language or ""), 32):
        lang = primary(tag)
        # of equal weights, the first listed wins
        if lang in STRINGS and q > best_q:
            best, best_q = lang, q
    return best

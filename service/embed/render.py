"""The dispute card as one self-contained HTML document: inline CSS, no script but the
JSON-LD data block, nothing loaded from anywhere.

Built with plain string building: every piece of stored text goes through :func:`esc`
(``html.escape``, quotes included) and sits in an element of its own carrying its ``lang``
and ``dir`` (``dir`` makes an element bidi-isolated, so a stray U+202E in a claim cannot
reorder the text around it); names inline are ``<bdi>``. Text whose language is not stored
(a dispute's title, a role) gets ``dir="auto"``: its first strong character decides.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime
from typing import Final
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from service.claims.schemas import Claim
from service.disputes.queries import STANCES
from service.embed import i18n
from service.embed.queries import ActorNames, Card
from service.reviews.jsonld import claim_reviews

# Names in the reader's language, best first by kind (an abbreviation only when nothing else).
_KIND_ORDER: Final = ("official", "transliteration", "translation", "common", "abbreviation")
# Characters that reorder text and cannot be isolated where no markup is allowed (<title>,
# attribute values): dropped there, kept (and isolated) in the body.
_BIDI_CONTROLS: Final = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
_PARAGRAPHS: Final = re.compile(r"\n[ \t]*\n\s*")


def esc(value: str) -> str:
    return html.escape(value, quote=True)


def fill(lang: str, key: str, **parts: str) -> str:
    """The card's string ``key`` escaped, its ``{placeholders}`` replaced in one pass by the
    HTML given (so a name holding "{label}" stays a name)."""
    template = esc(i18n.text(lang, key))
    return re.sub(r"\{(\w+)\}", lambda m: parts.get(m.group(1), m.group(0)), template)


def plain(value: str) -> str:
    """Text for a place without markup: bidi controls dropped, white space folded, escaped."""
    return esc(" ".join(_BIDI_CONTROLS.sub("", value).split()))


def attrs(lang: str | None, direction: str | None = None) -> str:
    """`` lang="…" dir="…"`` for text in ``lang`` (dir from the language when not given)."""
    out = f' lang="{esc(lang)}"' if lang else ""
    direction = direction or i18n.direction(lang)
    return out + f' dir="{direction}"'


def paragraphs(text: str) -> str:
    """Blank lines part paragraphs; a single line break stays one."""
    parts = [p.strip() for p in _PARAGRAPHS.split(text.strip()) if p.strip()]
    return "".join("<p>" + "<br>".join(esc(line) for line in p.split("\n")) + "</p>" for p in parts)


def safe_href(url: str | None) -> str | None:
    """Only http(s) URLs become links."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in {"http", "https"} else None


def json_ld_text(data: object) -> str:
    """JSON for a ``<script type="application/ld+json">`` block: ``<``, ``>`` and ``&`` written
    as ``\\u`` escapes (the same JSON to a parser), so no text inside can close the element
    (``</script>``) or open a comment."""
    raw = msgspec.json.encode(data).decode()
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Names:
    """Actor names as the card shows them: in the card's language when the actor has such a
    name, else the display name; each with the language it is in, when known."""

    def __init__(self, actors: dict[UUID, ActorNames], lang: str) -> None:
        self.actors = actors
        self.lang = lang

    def pick(self, actor_id: UUID, fallback: str) -> tuple[str, str | None]:
        actor = self.actors.get(actor_id)
        if actor is None:
            return fallback, None
        mine = [n for n in actor.names if i18n.primary(n.lang) == self.lang]
        for name in mine:
            if name.value == actor.name:
                return name.value, name.lang
        if mine:
            best = min(
                mine,
                key=lambda n: _KIND_ORDER.index(n.kind) if n.kind in _KIND_ORDER else 99,
            )
            return best.value, best.lang
        same = next((n for n in actor.names if n.value == actor.name), None)
        return actor.name, same.lang if same else None

    def html(self, actor_id: UUID, fallback: str, css: str = "") -> str:
        value, lang = self.pick(actor_id, fallback)
        cls = f' class="{css}"' if css else ""
        return f"<bdi{cls}{attrs(lang, None if lang else 'auto')}>{esc(value)}</bdi>"


def _date(day: date, precision: str | None, lang: str, css: str = "") -> str:
    cls = f' class="{css}"' if css else ""
    return (
        f'<time{cls} datetime="{i18n.machine_date(day, precision)}">'
        f"{esc(i18n.format_date(day, precision, lang))}</time>"
    )


def _instant(at: datetime, lang: str, key: str) -> str:
    day = (at.astimezone(UTC) if at.tzinfo is not None else at).date()
    label = fill(lang, key, date=esc(i18n.format_date(day, "day", lang)))
    return f'<time datetime="{esc(at.isoformat())}">{label}</time>'


def _translation(claim: Claim, lang: str) -> str:
    if i18n.primary(claim.lang) == lang:
        return ""
    found = next((t for t in claim.translations if i18n.primary(t.lang) == lang), None)
    if found is None:
        return ""
    return (
        f'<div class="translation"><span class="tl-label">{esc(i18n.text(lang, "translation"))}'
        f'</span><div class="tl-text"{attrs(found.lang)}>{paragraphs(found.text)}</div></div>'
    )


def _claim(claim: Claim, card: Card, names: _Names, lang: str) -> str:
    mode = "verbatim" if claim.verbatim else "paraphrase"
    parts = [
        '<li class="claim">',
        f'<blockquote class="text {mode}"{attrs(claim.lang)}>{paragraphs(claim.text)}</blockquote>',
        _translation(claim, lang),
    ]
    who = names.html(claim.speaker_id, claim.speaker.name, "speaker")
    role = claim.speaker.role
    if role is not None:
        pieces = []
        if role.role:
            pieces.append(f'<bdi dir="auto">{esc(role.role)}</bdi>')
        pieces.append(names.html(role.organization_id, role.organization_name))
        separator = "، " if lang == "ar" else ", "
        who += f'<span class="role">{separator}{separator.join(pieces)}</span>'
    if claim.relayed_by is not None:
        relay = names.html(claim.relayed_by.id, claim.relayed_by.name)
        via = fill(lang, "via", name=relay)
        who += f' <span class="via">({via})</span>'
    parts.append(f'<p class="who">{who}</p>')

    meta = [
        _date(claim.stated_on, claim.stated_on_precision, lang)
        if claim.stated_on is not None
        else f'<span class="undated">{esc(i18n.text(lang, "undated"))}</span>',
        f'<span class="mode">{esc(i18n.text(lang, mode))}</span>',
    ]
    parts.append(f'<p class="meta">{" · ".join(meta)}</p>')

    sources = []
    seen: set[UUID] = set()
    for appearance in claim.appearances:
        if appearance.source_id in seen:
            continue
        seen.add(appearance.source_id)
        source = appearance.source
        info = card.sources.get(appearance.source_id)
        source_lang = info.lang if info else None
        title_attrs = attrs(source_lang, None if source_lang else "auto")
        href = safe_href(source.url)
        if href is not None:
            title = (
                f'<a class="source-title" href="{esc(href)}" target="_blank" '
                f'rel="noopener noreferrer"{title_attrs}>{esc(source.title)}</a>'
            )
        else:
            title = f'<cite class="source-title"{title_attrs}>{esc(source.title)}</cite>'
        details = []
        if info and info.publisher and info.publisher_id:
            # in the card's language, as a speaker is (the Arabic card said "Awtan Post" of
            # a publisher named أوطان بوست in Arabic: a walkthrough)
            details.append(names.html(info.publisher_id, info.publisher, "publisher"))
        if info and info.published_on:
            details.append(_date(info.published_on, "day", lang))
        tail = f'<span class="pub">{" · ".join(details)}</span>' if details else ""
        sources.append(f"<li>{title}{tail}</li>")
    if sources:
        label = i18n.text(lang, "source" if len(sources) == 1 else "sources")
        parts.append(
            f'<div class="sources"><span class="src-label">{esc(label)}</span>'
            f"<ul>{''.join(sources)}</ul></div>"
        )

    for review in claim.reviews:
        reviewer = names.html(review.reviewer.id, review.reviewer.name)
        rating = f'<bdi class="rating" dir="auto">{esc(review.rating.label)}</bdi>'
        href = safe_href(review.url)
        if href is not None:
            rating = f'<a href="{esc(href)}" target="_blank" rel="noopener noreferrer">{rating}</a>'
        line = fill(lang, "review", reviewer=reviewer, label=rating)
        parts.append(
            f'<p class="review"><span class="rv-label">{esc(i18n.text(lang, "fact_check"))}'
            f"</span> {line}</p>"
        )
    parts.append("</li>")
    return "".join(parts)


def _outcome(card: Card, lang: str) -> str:
    dispute = card.dispute
    if dispute.resolution is not None:
        r = dispute.resolution
        return (
            '<section class="outcome resolved" aria-label="'
            f'{plain(i18n.text(lang, "verdict"))}">'
            f'<h2 class="outcome-head">{esc(i18n.text(lang, "verdict"))}</h2>'
            f'<p class="verdict verdict-{r.verdict}">'
            f"{esc(i18n.text(lang, 'verdict.' + r.verdict))}</p>"
            f'<div class="note" dir="auto">{paragraphs(r.note)}</div>'
            f'<p class="outcome-date">{_instant(r.resolved_at, lang, "resolved_on")}</p>'
            "</section>"
        )
    if dispute.dismissal is not None:
        d = dispute.dismissal
        return (
            '<section class="outcome dismissed" aria-label="'
            f'{plain(i18n.text(lang, "dismissed"))}">'
            f'<h2 class="outcome-head">{esc(i18n.text(lang, "dismissed"))}</h2>'
            f'<div class="note" dir="auto">{paragraphs(d.note)}</div>'
            f'<p class="outcome-date">{_instant(d.dismissed_at, lang, "dismissed_on")}</p>'
            "</section>"
        )
    return ""


def _json_ld(card: Card) -> str:
    reviews = [
        review
        for stance in STANCES
        for position in getattr(card.dispute.sides, stance)
        for review in claim_reviews(position.claim)
    ]
    if not reviews:
        return ""
    return f'<script type="application/ld+json">{json_ld_text(reviews)}</script>'


CSS: Final = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:#fff;color:#1c2230;font:15px/1.5 system-ui,-apple-system,"Segoe UI",
Roboto,"Helvetica Neue","Noto Sans","Noto Sans Arabic","Noto Naskh Arabic","DejaVu Sans",Tahoma,
Arial,sans-serif}
.card{border:1px solid #d9dee7;border-radius:10px;padding:18px 20px 12px;background:#fff}
.kicker{display:flex;align-items:center;gap:8px;margin:0 0 8px;font-size:12px;font-weight:700;
letter-spacing:.08em;text-transform:uppercase;color:#b42318}
.kicker:lang(ar){letter-spacing:0}
.status{border-radius:999px;padding:1px 9px;font-size:11px;letter-spacing:.04em;
background:#fff1cc;color:#7a4d00}
.status-resolved .status{background:#dcf2e4;color:#11633a}
.status-dismissed .status{background:#eceef2;color:#485062}
h1{margin:0 0 4px;font-size:21px;line-height:1.3;font-weight:800;color:#111722}
.question{margin:0 0 16px;font-size:16px;color:#454e60}
.sides{display:grid;grid-template-columns:repeat(auto-fit,minmax(230px,1fr));gap:16px 20px}
.side{border-top:4px solid var(--accent);padding-top:8px;min-width:0}
.affirms{--accent:#1f5fa8}.denies{--accent:#c2410c}.questions{--accent:#6a58b0;grid-column:1/-1}
.side-name{margin:0 0 10px;font-size:13px;font-weight:800;letter-spacing:.06em;
text-transform:uppercase;color:var(--accent)}
.side-name:lang(ar){letter-spacing:0;font-size:15px}
.claims{list-style:none;margin:0;padding:0}
.claim{margin:0 0 12px;padding:0 0 12px;border-bottom:1px solid #edf0f4}
.claim:last-child{margin-bottom:0;border-bottom:0}
.text{margin:0 0 8px;font-size:16px;line-height:1.6;color:#111722}
.text:lang(ar){font-size:17px;line-height:1.85}
.text p,.tl-text p,.note p{margin:0 0 .45em}
.text p:last-child,.tl-text p:last-child,.note p:last-child{margin-bottom:0}
.verbatim{border-inline-start:3px solid var(--accent);padding-inline-start:10px}
.paraphrase{padding-inline-start:13px}
.translation{margin:0 0 8px;padding-inline-start:13px;font-size:14px;color:#454e60}
.tl-label,.src-label,.rv-label{display:block;font-size:11px;font-weight:700;letter-spacing:.05em;
text-transform:uppercase;color:#7b8496}
.tl-label:lang(ar),.src-label:lang(ar),.rv-label:lang(ar){letter-spacing:0;font-size:12px}
.rv-label{display:inline}
.who{margin:6px 0 2px;font-size:14px}
.speaker{font-weight:700;color:#111722}
.role,.via{color:#5a6374}
.meta{margin:0;font-size:13px;color:#6b7487}
.sources{margin:6px 0 0;font-size:13px;color:#6b7487}
.sources ul{margin:0;padding:0;list-style:none}
.sources li{margin:2px 0}
.pub{display:block;font-size:12px}
.sources a,.review a{color:#1d4f8c;text-decoration:underline;text-underline-offset:2px}
.source-title{font-style:normal;color:#2c3445}
.review{margin:6px 0 0;font-size:13px;color:#454e60}
.rating{font-weight:700}
.outcome{margin:0 0 16px;padding:10px 14px;border-radius:8px;background:#eef7f1;
border-inline-start:4px solid #11633a}
.outcome.dismissed{background:#f2f3f6;border-color:#6b7280}
.outcome-head{margin:0 0 2px;font-size:12px;font-weight:800;letter-spacing:.06em;
text-transform:uppercase;color:#11633a}
.dismissed .outcome-head{color:#485062}
.verdict{margin:0 0 4px;font-weight:700}
.note{font-size:14px;color:#2c3445}
.outcome-date{margin:4px 0 0;font-size:12px;color:#6b7487}
.foot{display:flex;flex-wrap:wrap;justify-content:space-between;gap:4px 12px;margin-top:14px;
padding-top:10px;border-top:1px solid #edf0f4;font-size:12px;color:#7b8496}
.brand{font-weight:800;color:#454e60;letter-spacing:.02em}
@media (max-width:420px){.card{padding:14px 14px 10px}h1{font-size:19px}}
"""


def card_html(card: Card, *, lang: str, card_url: str, oembed_url: str) -> str:
    """The card in the reader's language ``lang`` (one of :data:`i18n.SUPPORTED`)."""
    dispute = card.dispute
    names = _Names(card.actors, lang)
    direction = i18n.direction(lang)
    title_text = i18n.text(lang, "title").replace("{title}", dispute.title)  # escaped by plain()
    sides = []
    for stance in STANCES:
        positions = getattr(dispute.sides, stance)
        if not positions and stance == "questions":
            continue
        claims = "".join(_claim(p.claim, card, names, lang) for p in positions)
        sides.append(
            f'<section class="side {stance}" aria-labelledby="side-{stance}">'
            f'<h2 class="side-name" id="side-{stance}">{esc(i18n.text(lang, "side." + stance))}'
            f'</h2><ol class="claims">{claims}</ol></section>'
        )
    updated = _instant(dispute.updated_at, lang, "updated")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}" dir="{direction}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="strict-origin-when-cross-origin">\n'
        f"<title>{plain(title_text)}</title>\n"
        f'<link rel="canonical" href="{esc(card_url)}">\n'
        f'<link rel="alternate" type="application/json+oembed" href="{esc(oembed_url)}" '
        f'title="{plain(title_text)}">\n'
        f"<style>{CSS}</style>\n"
        f"{_json_ld(card)}\n"
        "</head>\n<body>\n"
        f'<article class="card status-{dispute.status}" aria-labelledby="dispute-title">\n'
        '<header class="head">'
        f'<p class="kicker"><span>{esc(i18n.text(lang, "kicker"))}</span>'
        f'<span class="status">{esc(i18n.text(lang, "status." + dispute.status))}</span></p>'
        f'<h1 id="dispute-title" dir="auto">{esc(dispute.title)}</h1>'
        f'<p class="question" dir="auto">{esc(dispute.question)}</p>'
        "</header>\n"
        f"{_outcome(card, lang)}"
        f'<div class="sides">{"".join(sides)}</div>\n'
        f'<footer class="foot"><span class="brand">{esc(i18n.text(lang, "provider"))}</span>'
        f"{updated}</footer>\n"
        "</article>\n</body>\n</html>\n"
    )


def estimated_height(card: Card, width: int, lang: str) -> int:
    """About how tall the card is at ``width`` CSS pixels, for the iframe oEmbed hands out:
    the two sides side by side when each gets 230 px (stacked otherwise), the questioning
    claims below them across the card; lines of text from their length (an average glyph of
    0.5 em, Arabic in a larger size)."""
    dispute = card.dispute
    inner = max(width - 42, 120)

    def lines(text: str, size: float, column: int) -> int:
        per_line = max(int(column / (size * 0.5)), 10)
        return sum(-(-len(p) // per_line) for p in text.split("\n") if p.strip()) or 1

    def side(stance: str, column: int) -> int:
        height = 34
        for position in getattr(dispute.sides, stance):
            claim = position.claim
            arabic = i18n.primary(claim.lang) == "ar"
            height += lines(claim.text, 17 if arabic else 16, column - 13) * (31 if arabic else 26)
            translation = next(
                (t for t in claim.translations if i18n.primary(t.lang) == lang), None
            )
            if translation is not None and i18n.primary(claim.lang) != lang:
                height += 24 + lines(translation.text, 14, column - 13) * 21
            sources = sum(lines(a.source.title, 13, column) for a in claim.appearances)
            height += 22 + 20 + 40 + 20 * sources + 22 * len(claim.reviews)
        return height

    two = inner >= 2 * 230 + 20
    column = (inner - 20) // 2 if two else inner
    affirms, denies = side("affirms", column), side("denies", column)
    sides = max(affirms, denies) if two else affirms + denies + 16
    if dispute.sides.questions:
        sides += 16 + side("questions", inner)
    header = 36 + 28 * lines(dispute.title, 21, inner) + 24 * lines(dispute.question, 16, inner)
    outcome = 0
    closed = dispute.resolution or dispute.dismissal
    if closed is not None:
        outcome = 90 + 21 * lines(closed.note, 14, inner - 18)
    return int(header + outcome + sides + 62)

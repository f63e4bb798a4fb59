"""Stop words: the words too common to search for, and the query with them left out.

PostgreSQL's ``arabic`` configuration has no stop words and the ``simple`` one (words as
written) has none either, so ``من`` or ``the`` alone would match a third of all claims and
ranking them is what made search slow. The search query leaves them out of its full-text part
(``without_stop_words``); the index keeps them, so a quoted phrase (``"قال من"``), which keeps
its words, still finds exactly that phrase.

The lists are written in the form ``normalize`` produces (``على`` is ``علي``, ``إلى`` is ``الي``,
``أن`` and ``إن`` are ``ان``); a test holds them to it. One consequence: ``علي`` is also the
name Ali. Searched alone it finds actors by name (names do not go through this list) but no
claims; ``"علي حسن"`` in quotes, or with another word, does.
"""

from __future__ import annotations

import re

from service.text.normalize import fold, normalize

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

_WORD = re.compile(r"[^\W_]+")


def is_stop(token: str) -> bool:
    """Whether every word of ``token`` (as typed; punctuation and a leading ``-`` aside) is a
    stop word. A token with no word at all is not: it is left for PostgreSQL to ignore; nor is
    one whose Latin letters lose a diacritic to normalisation: Turkish `iş` (work) and `ön`
    (front) are not English `is` and `on`."""
    words = _WORD.findall(normalize(token))
    return bool(words) and all(w in STOP_WORDS for w in words) and not _loses_a_diacritic(token)


def _loses_a_diacritic(token: str) -> bool:
    """Whether a letter of ``token`` folds to a different ASCII letter than its lower case:
    a Latin letter with a diacritic (`ş`, `ö`, `İ`) or one of ı ø ł đ."""
    return not token.isascii() and any(
        (f := fold(c)).isascii() and f.isalpha() and f != c.lower() for c in token
    )


def without_stop_words(query: str) -> str:
    """``query`` (websearch syntax: words, ``"phrases"``, ``-not``, ``or``) with its stop words
    left out, as typed otherwise: ``the Kurdish`` -> ``Kurdish``, ``قال من`` -> ``قال``.

    A quoted phrase keeps all its words (they must be adjacent, so the others narrow it) unless
    every one of them is a stop word. ``or`` stays between what remains. The result is empty
    when nothing is left to look for: only stop words, or only words to exclude (``-قسد``
    alone would match nearly every claim).
    """
    tokens: list[str] = []
    negate = ""
    for i, part in enumerate(query.split('"')):
        if i % 2:  # inside quotes (an unclosed quote runs to the end, as in PostgreSQL)
            if part.strip() and not is_stop(part):  # an empty phrase looks for nothing
                tokens.append(f'{negate}"{part.strip()}"')
            continue
        words = part.split()
        negate = "-" if words and words[-1].endswith("-") and part[-1:] == "-" else ""
        if negate:  # -"a phrase": the phrase is excluded
            words[-1] = words[-1][:-1]
        tokens += [t for t in words if t and (t.lower() == "or" or not is_stop(t))]
    kept: list[str] = []
    for token in tokens:
        if token.lower() == "or" and (not kept or kept[-1].lower() == "or"):
            continue
        kept.append(token)
    while kept and kept[-1].lower() == "or":
        kept.pop()
    if not any(_WORD.search(t) and not t.startswith("-") and t.lower() != "or" for t in kept):
        return ""
    return " ".join(kept)

"""The weights (``q``) of the content negotiation headers, ``Accept``, ``Accept-Encoding`` and
``Accept-Language`` (RFC 9110 section 12.4.2), read one way for all three."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


def qvalue(parameters: Iterable[str]) -> float:
    """The ``q`` among one listed item's parameters, 1 when it has none; a value that is not
    a qvalue (0 to 1) is read as 0, not as a yes."""
    weight = 1.0
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value) if 0 <= float(value) <= 1 else 0.0
            except ValueError:
                weight = 0.0
    return weight


def weighted(header: str) -> Iterator[tuple[str, float]]:
    """Each item ``header`` lists, in its order: its name (lower case) and its ``q``."""
    for item in header.split(","):
        name, *parameters = item.split(";")
        yield name.strip().lower(), qvalue(parameters)


def weight(header: str, ranks: dict[str, int]) -> float:
    """The ``q`` ``header`` gives the most specific of the names in ``ranks`` it lists (a
    higher rank is more specific: ``text/html`` 2, ``text/*`` 1, ``*/*`` 0; of equal ranks,
    the first listed), 0 when it lists none."""
    best, found = -1, 0.0
    for name, q in weighted(header):
        rank = ranks.get(name, -1)
        if rank > best:
            best, found = rank, q
    return found

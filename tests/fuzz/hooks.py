"""Schemathesis hooks for tests/fuzz/run.py (loaded through ``SCHEMATHESIS_HOOKS``).

One custom check: every error this service answers (4xx, 5xx) is an RFC 9457 problem, with
media type ``application/problem+json`` and a body holding at least ``type``, ``title``,
``status`` (equal to the response's status) and ``detail``. The document says so for the
statuses it lists; this holds the service to it for every status, listed or not (a 404 for an
unknown path, a 405 for an unknown method, ...).

And one generation hook: path ids are drawn half of the time from the demo data's ids
(``CLAIMDESK_FUZZ_IDS``, a JSON object of parameter name -> ids, set by run.py), so that
operations on one resource get past their 404s.
"""

from __future__ import annotations

import json
import os
from typing import Any

import schemathesis
from hypothesis import strategies as st

PROBLEM_MEDIA_TYPE = "application/problem+json"
KNOWN_IDS: dict[str, list[str]] = json.loads(os.environ.get("CLAIMDESK_FUZZ_IDS") or "{}")


@schemathesis.hook
def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    """The drawn path parameters, or the same with known ids in place of the drawn ones."""
    if not path_parameters:
        return st.just(path_parameters)
    known = {name: KNOWN_IDS[name] for name in path_parameters if KNOWN_IDS.get(name)}
    if not known:
        return st.just(path_parameters)
    replaced = st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in known.items()})
    return st.one_of(st.just(path_parameters), replaced.map(lambda ids: path_parameters | ids))


@schemathesis.check
def problem_json_errors(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx or 5xx response is problem+json with the RFC 9457 members."""
    status = response.status_code
    if status < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type != PROBLEM_MEDIA_TYPE:
        raise AssertionError(
            f"{status} answered with Content-Type {content_type or '(none)'!r}, "
            f"not {PROBLEM_MEDIA_TYPE}"
        )
    if case.method.upper() == "HEAD":
        return None  # no body to look into
    try:
        body = json.loads(response.content)
    except ValueError as exc:
        raise AssertionError(f"{status} problem body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise AssertionError(f"{status} problem body is not a JSON object")
    missing = [k for k in ("type", "title", "status", "detail") if k not in body]
    if missing:
        raise AssertionError(f"{status} problem body lacks {', '.join(missing)}")
    if body["status"] != status:
        raise AssertionError(f"problem body says status {body['status']}, the response {status}")
    return None

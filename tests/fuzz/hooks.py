"""Schemathesis hooks for tests/fuzz/run.py (loaded through ``SCHEMATHESIS_HOOKS``).

One custom check: every error this service answers (4xx, 5xx) is an RFC 9457 problem, with
media type ``application/problem+json`` and a body holding at least ``type``, ``title``,
``status`` (equal to the response's status) and ``detail``. The document says so for the
statuses it lists; this holds the service to it for every status, listed or not (a 404 for an
unknown path, a 405 for an unknown method, ...).

And two generation hooks: half of the time, the ids in a request's path and body (and a
problem slug) are drawn from what exists (``CLAIMDESK_TEST_FUZZ_IDS``, a JSON object of parameter
name -> values, set by run.py from the demo data), so that requests get past their 404s and
their "no actor with id ..." 422s to the code that reads and writes.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import schemathesis
from hypothesis import strategies as st

PROBLEM_MEDIA_TYPE = "application/problem+json"
KNOWN_IDS: dict[str, list[str]] = json.loads(os.environ.get("CLAIMDESK_TEST_FUZZ_IDS") or "{}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Body fields that refer to another resource, by the path parameter naming its kind.
BODY_REFERENCES = {
    "speaker_id": "actor_id",
    "relayed_by_id": "actor_id",
    "actor_id": "actor_id",
    "publisher_id": "actor_id",
    "organization_id": "actor_id",
    "reviewer_id": "actor_id",
    "source_id": "source_id",
    "claim_id": "claim_id",
}


def _replaceable(value: Any, kind: str) -> bool:
    """Whether ``value`` may become a known value of ``kind``: only a valid one may, so that a
    value made invalid on purpose (a negative test) stays invalid."""
    if not KNOWN_IDS.get(kind) or not isinstance(value, str):
        return False
    return kind == "slug" or UUID.fullmatch(value) is not None


def _with_known_ids(value: Any) -> Any:
    """A strategy for ``value`` with every valid reference in it set to an existing id."""
    if isinstance(value, dict):
        return st.fixed_dictionaries(
            {
                key: st.sampled_from(KNOWN_IDS[BODY_REFERENCES[key]])
                if key in BODY_REFERENCES and _replaceable(item, BODY_REFERENCES[key])
                else _with_known_ids(item)
                for key, item in value.items()
            }
        )
    if isinstance(value, list):
        return st.tuples(*(_with_known_ids(item) for item in value)).map(list)
    return st.just(value)


@schemathesis.hook
def flatmap_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
    """The drawn path parameters, or the same with known ids in place of the drawn ones."""
    if not path_parameters:
        return st.just(path_parameters)
    known = {
        name: KNOWN_IDS[name]
        for name, value in path_parameters.items()
        if _replaceable(value, name)
    }
    if not known:
        return st.just(path_parameters)
    replaced = st.fixed_dictionaries({name: st.sampled_from(ids) for name, ids in known.items()})
    return st.one_of(st.just(path_parameters), replaced.map(lambda ids: path_parameters | ids))


@schemathesis.hook
def flatmap_body(ctx: Any, body: Any) -> Any:
    """The drawn body, or the same with existing ids in its reference fields."""
    if not isinstance(body, dict | list):
        return st.just(body)
    return st.one_of(st.just(body), _with_known_ids(body))


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

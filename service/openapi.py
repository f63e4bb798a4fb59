"""The OpenAPI document as bytes: what ``/schema/openapi.json`` serves and what
``claimdesk openapi`` commits to ``openapi/openapi.json`` — one function for both."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import inspect
import sys
from pathlib import Path
from typing import Any, cast, get_args

import litestar._openapi.plugin
import msgspec
from litestar import Litestar, Request, Response
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import (
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)
from litestar.openapi.spec import Parameter as OpenAPIParameter
from litestar.params import FromPath

from service import auth, etag, idempotency, negotiation
from service.actors.schemas import NameKind
from service.claims.schemas import ClaimKind, DisputeStatus, Precision, Stance, TargetRole
from service.disputes.schemas import Verdict
from service.errors import problem_content
from service.keys.schemas import KeyStatus, Scope
from service.ratelimit import EXEMPT_PATHS
from service.schemas import ActorKind, Input
from service.sources.schemas import SourceKind
from service.webhooks.schemas import EventType, WebhookDeliveryStatus


def document_from_schema(schema: dict[str, Any]) -> bytes:
    """Stable, reviewable bytes: indented, keys in generation order, a final newline."""
    document = _named_enums(_ecma_patterns(schema))
    return msgspec.json.format(msgspec.json.encode(document), indent=2) + b"\n"


# The value sets the API uses in more than one place, each one component schema that every
# use refers to. msgspec and Litestar write a Literal inline at each use, so a generated
# client had a type of its own for each (ActorKind, ActorCreateKind, ActorUpdateKind,
# ListActorsKind...), not assignable to one another: `ActorUpdate(kind=actor.kind)` failed
# a strict type check.
NAMED_ENUMS: dict[str, Any] = {
    "ActorKind": ActorKind,
    "NameKind": NameKind,
    "SourceKind": SourceKind,
    "ClaimKind": ClaimKind,
    "Precision": Precision,
    "TargetRole": TargetRole,
    "Stance": Stance,
    "DisputeStatus": DisputeStatus,
    "Verdict": Verdict,
    "Scope": Scope,
    "KeyStatus": KeyStatus,
    "EventType": EventType,
    "WebhookDeliveryStatus": WebhookDeliveryStatus,
}
# What may stand beside an enum for it to become a reference (a property's own words).
_BESIDE_ENUM = frozenset({"enum", "type", "description", "default", "title", "examples"})


def _named_enums(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with each inline enum of a :data:`NAMED_ENUMS` value set (in any order)
    a ``$ref`` to its component, keeping its description and default beside the reference
    (as OpenAPI 3.1 allows), and those components added."""
    named = {frozenset(get_args(values)): name for name, values in NAMED_ENUMS.items()}
    if len(named) != len(NAMED_ENUMS):
        raise RuntimeError("two of NAMED_ENUMS hold the same values: a use could be either")
    used: set[str] = set()

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        values = node.get("enum")
        name = named.get(frozenset(values)) if isinstance(values, list) else None
        if (
            name is not None
            and node.keys() <= _BESIDE_ENUM
            and node.get("type", "string") == "string"
        ):
            used.add(name)
            beside = {k: v for k, v in node.items() if k not in ("enum", "type")}
            return {"$ref": f"#/components/schemas/{name}", **beside}
        return {key: visit(value) for key, value in node.items()}

    result = visit(document)
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    for name in NAMED_ENUMS:
        if name in used:
            schemas[name] = {"type": "string", "enum": list(get_args(NAMED_ENUMS[name]))}
    return cast(dict[str, Any], result)


def _ecma_patterns(node: Any) -> Any:
    """``node`` with each ``pattern``'s final ``\\Z`` written ``$``.

    The service's patterns are Python's (msgspec checks them with ``re``), where ``$`` also
    matches before a final newline, so ``^[a-z0-9]+$`` took ``"safe-zone\\n"`` for a topic;
    they end in ``\\Z``, the end of the value. JSON Schema's patterns are ECMA-262's, which
    has no ``\\Z`` and whose ``$`` is the end of the value: the same pattern, written so."""
    if isinstance(node, dict):
        return {
            key: (
                value[:-2] + "$"
                if key == "pattern" and isinstance(value, str) and value.endswith("\\Z")
                else _ecma_patterns(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_ecma_patterns(item) for item in node]
    return node


def document(app: Litestar) -> bytes:
    return document_from_schema(app.openapi_schema.to_schema())


# What takes gzip in ``Accept-Encoding``: its names, else ``*``.
_GZIP = {"gzip": 1, "x-gzip": 1, "*": 0}


class IndentedJsonRenderPlugin(JsonRenderPlugin):
    """Serves ``/schema/openapi.json`` as :func:`document_from_schema` writes it.

    The document does not change while the app runs: its bytes (790 kB) are made once, with
    their gzip (about a tenth) for a client that accepts it, and a tag that ``If-None-Match``
    is answered a 304 for (a client generator's pipeline fetching it on every build). The
    tag is weak: the two encodings share it, as representations equal in all but their
    encoding may (RFC 9110 section 8.8.1).
    """

    def __init__(self) -> None:
        super().__init__()
        self._made: tuple[bytes, bytes, str] | None = None

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> Any:
        if self._made is None:
            body = document_from_schema(openapi_schema)
            digest = hashlib.sha256(body).hexdigest()[:16]
            self._made = (body, gzip.compress(body, mtime=0), f'W/"{digest}"')
        body, zipped, tag = self._made
        headers = {"ETag": tag, "Vary": "Accept-Encoding", "Cache-Control": "no-cache"}
        condition = etag.read("If-None-Match", request.scope["headers"])
        if condition is not None and condition.matches_weakly(tag.removeprefix("W/")):
            return Response(b"", status_code=304, headers=headers)
        if negotiation.weight(request.headers.get("accept-encoding", ""), _GZIP) > 0:
            headers["Content-Encoding"] = "gzip"
            body = zipped
        return Response(body, media_type=self.media_type, headers=headers)


def _structs(cls: type[msgspec.Struct]) -> list[type[msgspec.Struct]]:
    found: list[type[msgspec.Struct]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_structs(sub)]
    return found


def service_structs() -> list[type[msgspec.Struct]]:
    """Every msgspec Struct this service defines (their names are OpenAPI component names)."""
    return [
        c
        for c in _structs(msgspec.Struct)
        if c.__module__.startswith("service.")
        # defined in the module under its name (not one Litestar made at run time)
        and getattr(sys.modules[c.__module__], c.__name__, None) is c
    ]


# Representations as the service returned them for the reference article (the demo data):
# what a reader of the document sees as each resource's example.
EXAMPLES_FILE = Path(__file__).with_name("openapi_examples.json")


def read_examples() -> dict[str, Any]:
    examples: dict[str, Any] = msgspec.json.decode(EXAMPLES_FILE.read_bytes())
    return examples


def tidy_openapi(app: Litestar) -> None:
    """Make the document say exactly what the service does, where Litestar's generator does not.

    Component schemas of our msgspec Structs (with an example from the reference article for
    each resource) are msgspec's own JSON Schema: it is what
    validates the requests, so constraints inside lists (a topic's pattern), fields that may
    be left out (``UNSET``) and ``additionalProperties: false`` (``forbid_unknown_fields``)
    are stated as enforced. And Litestar documents a JSON 400 for any handler with
    parameters; this service answers bad parameters with problem+json 422 (or 404 for a path
    id), and 400 only for a body that is not JSON, which handlers taking a body declare.
    Header parameters are strings (never null), ``If-Match`` and ``If-None-Match`` with the
    pattern the service holds them to, a 304 documents the ETag it carries and a
    308 the Location it points to.
    Operations that need an API key document the 401 (and, for changes, the 403) that
    ``service.auth`` answers before their handler runs.
    Every operation but health and readiness documents the rate limit fields and its 429.
    Every POST takes an ``Idempotency-Key`` (see :mod:`service.idempotency`).
    """
    document = app.openapi_schema
    schemas = document.components.schemas if document.components else None
    if schemas:
        ours = {
            c.__name__: c for c in _structs(msgspec.Struct) if c.__module__.startswith("service.")
        }
        present = [ours[name] for name in schemas if name in ours]
        _, components = msgspec.json.schema_components(
            present, ref_template="#/components/schemas/{name}"
        )
        for struct in present:
            if struct.__doc__ and "description" in components[struct.__name__]:
                # as msgspec 0.23 writes a docstring (0.22 kept its lines' indentation): the
                # same document whichever is installed
                components[struct.__name__]["description"] = inspect.cleandoc(struct.__doc__)
            config = struct.__struct_config__
            if not issubclass(struct, Input) and not config.omit_defaults:
                # sent in answers only, every field always written (a default too: an
                # error's `location`), so every field is there for a client to read
                components[struct.__name__]["required"] = list(struct.__struct_encode_fields__)
        for name, example in read_examples().items():
            # Raw: Litestar drops null members of plain dicts, and the nulls are the point.
            components[name]["examples"] = [msgspec.Raw(msgspec.json.encode(example))]
        schemas.update(components)  # plain dicts serialise as they are
    needs = _declared(app, "scope")
    conditions = _declared(app, etag.CONDITION)
    open_query = _declared(app, auth.OPEN_QUERY)
    for path_item in (document.paths or {}).values():
        for method in ("get", "post", "patch", "put", "delete"):
            operation = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            needed = needs.get(operation.operation_id or "", "read" if method == "get" else "write")
            if needed is None:
                operation.security = []  # Litestar writes an empty list as "absent"
            else:
                operation.description = (
                    (operation.description or "").rstrip() + f"\n\nNeeds the `{needed}` scope."
                ).lstrip()
                operation.responses["401"] = _auth_problem(
                    "No valid API key: send `Authorization: Bearer <key>`."
                )
                if needed != "read":
                    operation.responses["403"] = _auth_problem(
                        "The API key lacks the scope this operation needs."
                    )
                operation.responses = dict(sorted(operation.responses.items()))
            if operation.request_body is not None and "415" not in operation.responses:
                operation.responses["415"] = _problem_response(
                    "The body is not sent as JSON (`Content-Type: application/json`)."
                )
                operation.responses = dict(sorted(operation.responses.items()))
            if method != "get" and operation.operation_id not in conditions:
                # a write to what has no entity tag evaluates the conditions all the same
                # (service.input_guard): only 412s and 422s of their own, no headers listed
                if "412" not in operation.responses:
                    operation.responses["412"] = _problem_response(
                        "A condition this resource cannot meet: it has no entity tag, so an "
                        "`If-Match` listing tags never matches, and `If-None-Match: *` fails "
                        "because it exists (a collection a `POST` adds to always does). "
                        "Nothing was changed."
                    )
                if "422" not in operation.responses:
                    operation.responses["422"] = _problem_response(
                        "A malformed `If-Match` or `If-None-Match` header; `errors` names it."
                    )
                operation.responses = dict(sorted(operation.responses.items()))
            # read from the request, not Litestar parameters
            for condition in conditions.get(operation.operation_id or "", ()):
                operation.parameters = [
                    *(operation.parameters or []),
                    OpenAPIParameter(
                        name=condition,
                        param_in="header",
                        description=etag.DESCRIPTIONS[condition, method != "get"],
                        required=False,
                        deprecated=False,
                    ),
                ]
            content = getattr(operation.responses.get("400"), "content", None) or {}
            if "application/json" in content:
                del operation.responses["400"]
            for parameter in operation.parameters or []:
                if isinstance(parameter, OpenAPIParameter) and parameter.param_in == "header":
                    # A header is absent or a string; Litestar writes `str | None` as "or null".
                    # A condition header is a 422 unless it is `*` or a list of entity tags.
                    pattern = (
                        etag.CONDITION_PATTERN if parameter.name in etag.HEADER_NAMES else None
                    )
                    parameter.schema = Schema(type=OpenAPIType.STRING, pattern=pattern)
                elif isinstance(parameter, OpenAPIParameter) and parameter.param_in == "query":
                    _not_null(parameter)
            for response in operation.responses.values():
                if isinstance(response, OpenAPIResponse) and response.headers:
                    # Litestar gathers a handler's response headers in a set: in name order,
                    # the document is the same bytes in every process.
                    response.headers = dict(sorted(response.headers.items()))
            # A 304 carries the ETag its 200 would have carried.
            ok, not_modified = operation.responses.get("200"), operation.responses.get("304")
            if isinstance(ok, OpenAPIResponse) and isinstance(not_modified, OpenAPIResponse):
                tag = (ok.headers or {}).get("ETag")
                if tag is not None:
                    not_modified.headers = {"ETag": tag}
            redirect = operation.responses.get("308")
            if isinstance(redirect, OpenAPIResponse):
                redirect.headers = {"Location": _LOCATION}
            operation_id = operation.operation_id or ""
            if "422" not in operation.responses and operation_id not in open_query:
                operation.responses["422"] = _problem_response(
                    "A query parameter this operation does not take; `errors` names it."
                )
            if "503" not in operation.responses and operation_id not in _NO_DATABASE:
                operation.responses["503"] = _problem_response(
                    "The database could not be reached or did not answer in time, or the "
                    "change collided with a concurrent one and was rolled back: nothing was "
                    "done. Try again after `Retry-After` seconds.",
                    {"Retry-After": _RETRY_AFTER},
                )
            operation.responses = dict(sorted(operation.responses.items()))
    idempotency.document(document)
    document_rate_limits(document)
    document.webhooks = {"change": _DELIVERY}


# What a subscription's URL receives (OpenAPI 3.1's ``webhooks``): a generated client has a
# type for the body (``WebhookEvent``) where the delivery log's ``payload`` was any object.
_DELIVERY = PathItem(
    post=Operation(
        operation_id="receive_change",
        tags=["webhooks"],
        summary="A change, POSTed to a webhook's URL",
        description="Sent for each change event of the types a subscription names, signed "
        "as Standard Webhooks says: verify `webhook-signature` (HMAC-SHA256 with the "
        "subscription's secret over `{webhook-id}.{webhook-timestamp}.{body}`) before "
        "reading the body, and drop a `webhook-id` handled already.",
        parameters=[
            OpenAPIParameter(
                name=name,
                param_in="header",
                required=True,
                description=description,
                schema=Schema(type=OpenAPIType.STRING),
            )
            for name, description in (
                ("webhook-id", "The delivery's id (`msg_...`), the same on every retry."),
                ("webhook-timestamp", "Unix seconds of this attempt."),
                (
                    "webhook-signature",
                    "`v1,` and the base64 HMAC; during a secret rotation two, space-separated.",
                ),
            )
        ],
        request_body=RequestBody(
            required=True,
            content={
                "application/json": OpenAPIMediaType(
                    schema=Reference(ref="#/components/schemas/WebhookEvent")
                )
            },
        ),
        responses={
            "2XX": OpenAPIResponse(
                description="Received (within 10 seconds); anything else is retried."
            ),
            "410": OpenAPIResponse(
                description="Gone: the receiver wants no more; the subscription is disabled."
            ),
        },
    )
)


# Operations that answer without the database: no 503 (readiness declares its own).
_NO_DATABASE = frozenset({"health", "get_problem_type"})
_NULL = OpenAPIType.NULL
_RETRY_AFTER = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
    description="Seconds to wait before trying again.",
    required=True,
)


def _not_null(parameter: OpenAPIParameter) -> None:
    """An optional query parameter (``str | None``, ``ActorKind | None``) is a value when
    present: a query string cannot carry a null. Litestar writes "X or null" (as a ``oneOf``,
    or a type list with ``null`` in the enum), which generated clients take for a nullable
    value (`cursor?: string | null`, one enum type for each form of a kind), and which
    tripped schemathesis's coverage phase (a SystemError in its generator)."""
    schema = parameter.schema
    if not isinstance(schema, Schema):
        return
    if schema.one_of:
        kept = [s for s in schema.one_of if not (isinstance(s, Schema) and s.type == _NULL)]
        if len(kept) == 1 and isinstance(kept[0], Schema) and len(kept) < len(schema.one_of):
            # the value's schema, with what Litestar put beside the oneOf (a description, a
            # maxLength that generators ignore there)
            value = dataclasses.replace(kept[0])
            for field in dataclasses.fields(schema):
                given = getattr(schema, field.name)
                if field.name != "one_of" and given is not None:
                    setattr(value, field.name, given)
            parameter.schema = value
        return
    if isinstance(schema.type, list) and _NULL in schema.type:
        types = [t for t in schema.type if t != _NULL]
        schema.type = types[0] if len(types) == 1 else types
        if schema.enum is not None:
            schema.enum = [v for v in schema.enum if v is not None]


_INTEGER = Schema(type=OpenAPIType.INTEGER, minimum=0)
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": OpenAPIHeader(
        schema=_INTEGER,
        description="Requests this client (its API key, or without one its address) may make "
        "at once: the size of its bucket, which refills steadily "
        "(draft-ietf-httpapi-ratelimit-headers). Absent when rate limits are off.",
    ),
    "RateLimit-Remaining": OpenAPIHeader(
        schema=_INTEGER,
        description="Requests that may still follow at once; 0 on a 429.",
    ),
    "RateLimit-Reset": OpenAPIHeader(
        schema=_INTEGER,
        description="Seconds until the bucket is full again (`RateLimit-Remaining` back at "
        "`RateLimit-Limit`).",
    ),
    "RateLimit-Policy": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING),
        description="`<limit>;w=<seconds>`: the bucket's size and the seconds an empty bucket "
        "takes to refill, e.g. `100;w=10` for 100 at once and 600 a minute.",
    ),
}


def _ref(name: str) -> Reference:
    return Reference(ref=f"#/components/headers/{name}")


def document_rate_limits(document: OpenAPI) -> None:
    """The ``RateLimit-*`` fields on every response, and a 429 ``rate-limited`` problem with
    ``Retry-After``, for every operation the limits apply to (not health and readiness)."""
    document.components.headers = {**(document.components.headers or {}), **RATE_LIMIT_HEADERS}
    fields: dict[str, OpenAPIHeader | Reference] = {name: _ref(name) for name in RATE_LIMIT_HEADERS}
    for path, path_item in (document.paths or {}).items():
        if path in EXEMPT_PATHS:
            continue
        for method in ("get", "post", "patch", "put", "delete"):
            operation = getattr(path_item, method, None)
            if operation is None:
                continue
            operation.responses = operation.responses or {}
            for response in operation.responses.values():
                if isinstance(response, OpenAPIResponse):
                    response.headers = {**(response.headers or {}), **fields}
            operation.responses["429"] = OpenAPIResponse(
                description="Too many requests from this client: nothing was done. Wait "
                "`Retry-After` seconds.",
                headers={
                    "Retry-After": OpenAPIHeader(
                        schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
                        description="Seconds until a request of this client fits again.",
                        required=True,
                    ),
                    **fields,
                },
                content=problem_content(),
            )


def _declared(app: Litestar, key: str) -> dict[str, Any]:
    """operation id -> what its handler declares as ``key`` in its ``opt``, where it does
    (``scope``: the scope it needs; ``etag.CONDITION``: the condition headers it reads)."""
    declared: dict[str, Any] = {}
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if key in handler.opt and isinstance(handler.operation_id, str):
                declared[handler.operation_id] = handler.opt[key]
    return declared


def _problem_response(
    description: str, headers: dict[str, OpenAPIHeader | Reference] | None = None
) -> OpenAPIResponse:
    return OpenAPIResponse(description=description, headers=headers, content=problem_content())


def _auth_problem(description: str) -> OpenAPIResponse:
    challenge = OpenAPIHeader(
        schema=Schema(type=OpenAPIType.STRING),
        description="The Bearer challenge (RFC 6750), with the error and the scope needed.",
    )
    return _problem_response(description, {"WWW-Authenticate": challenge})


_LOCATION = OpenAPIHeader(
    schema=Schema(type=OpenAPIType.STRING),
    required=True,
    description="The same URL with the merged actor's id replaced by the survivor's "
    "(`/v1/actors/{merged_into_id}`).",
)


def _schema_path_not_found(path: FromPath[str] = "/") -> Response[Any]:
    raise NotFoundException


# Litestar answers an unknown path under /schema with an HTML page of its own; every 404 of
# this service is problem+json. Its OpenAPI router looks the handler up when the app is
# created, so this must run before ``create_app`` (service.app imports this module).
litestar._openapi.plugin.handle_schema_path_not_found = _schema_path_not_found

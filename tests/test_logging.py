"""The access log: one line a request, in JSON as structlog's chain writes the other lines."""

from __future__ import annotations

import json
import logging
import os
import random
from datetime import datetime

import structlog
import structlog.testing

from service.logging import access_log, configure, unconfigure


async def test_an_access_line_in_json(anonymous, admin_key, capsys):
    configure("info", "json")
    try:
        capsys.readouterr()
        await anonymous.get(
            "/v1/actors", headers={"Authorization": f"Bearer {admin_key}", "X-Request-ID": "r-1"}
        )
        await anonymous.get("/health")
        # the same line as structlog's chain writes it
        structlog.contextvars.bind_contextvars(request_id="r-2")
        access_log.info(
            "request", method="GET", path="/health", status=200, client="10.0.0.1", duration_ms=0.1
        )
        structlog.contextvars.clear_contextvars()
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    finally:
        unconfigure()
    keyed, health, chain = [line for line in lines if line["event"] == "request"]
    key_id = keyed.pop("api_key_id")
    assert len(key_id) == 36
    assert {k: v for k, v in keyed.items() if k not in ("duration_ms", "timestamp")} == {
        "method": "GET",
        "path": "/v1/actors",
        "status": 200,
        "client": "testclient",  # the test client's address (ASGI's scope["client"])
        "event": "request",
        "request_id": "r-1",
        "level": "info",
    }
    assert isinstance(keyed["duration_ms"], float) and keyed["duration_ms"] >= 0
    assert list(health) == list(chain)  # the same keys, in the same order
    for line in (keyed, health, chain):
        assert line["timestamp"].endswith("Z")
        assert datetime.fromisoformat(line["timestamp"]).utcoffset().total_seconds() == 0


async def test_a_request_no_route_takes_has_its_id_and_access_line(anonymous, capsys):
    """A 404 for a path no route has, a 405 for a method none takes: answered by the router
    before any route's middleware, they carry the request id too (problem and header) and
    are logged (the id was a route's middleware until a new user found them without)."""
    configure("info", "json")
    try:
        capsys.readouterr()
        missing = await anonymous.get("/v1/nowhere", headers={"X-Request-ID": "r-404"})
        refused = await anonymous.request("TRACE", "/v1/claims", headers={"X-Request-ID": "r-405"})
        head = await anonymous.head("/health", headers={"X-Request-ID": "r-head"})
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    finally:
        unconfigure()
    for response, status, request_id in ((missing, 404, "r-404"), (refused, 405, "r-405")):
        assert response.status_code == status
        assert response.headers["x-request-id"] == request_id
        assert response.json()["request_id"] == request_id
    logged = [
        (line["method"], line["path"], line["status"], line["request_id"])
        for line in lines
        if line["event"] == "request"
    ]
    # a HEAD is routed as GET (service.methods) and logged as what the client sent
    assert head.status_code == 200 and head.headers["x-request-id"] == "r-head"
    assert logged == [
        ("GET", "/v1/nowhere", 404, "r-404"),
        ("TRACE", "/v1/claims", 405, "r-405"),
        ("HEAD", "/health", 200, "r-head"),
    ]


async def test_no_access_line_above_info_and_a_console_one_in_the_console_format(anonymous, capsys):
    configure("warning", "json")
    try:
        capsys.readouterr()
        await anonymous.get("/health")
        assert capsys.readouterr().out == ""
        configure("info", "console")
        await anonymous.get("/health")
        out = capsys.readouterr().out
    finally:
        unconfigure()
    assert "request" in out and "/health" in out and not out.startswith("{")


def test_request_ids_differ_in_forked_workers():
    """Request ids come from the random module, which a forked worker (granian, uvicorn)
    must not share with its parent: Python reseeds it in the child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never back into the test run
        try:
            os.write(write, f"{random.getrandbits(128):032x}".encode())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert len(child) == 32 and child != f"{random.getrandbits(128):032x}"


async def test_access_lines_follow_structlog_set_up_otherwise(anonymous, capsys):
    """Set up since ``configure`` by something else (a test capturing logs), structlog gets
    the access line, not the stream ``configure`` was given."""
    configure("info", "json")
    try:
        capsys.readouterr()
        with structlog.testing.capture_logs() as captured:
            await anonymous.get("/health")
        out = capsys.readouterr().out
    finally:
        unconfigure()
    assert '"event":"request"' not in out  # (httpx's own line goes through logging)
    (line,) = [c for c in captured if c["event"] == "request"]
    assert (line["path"], line["status"]) == ("/health", 200)


def test_webhook_urls_stay_out_of_the_log(capsys):
    """httpx logs each request's URL at INFO: a webhook receiver's token in its query string
    went into the worker's log (found by an operator's walkthrough)."""
    configure("info", "json")
    try:
        logging.getLogger("httpx").info(
            'HTTP Request: POST http://r.example/hook?token=S3CRET "200"'
        )
        logging.getLogger("service.webhooks.worker").info("still_logged")
    finally:
        unconfigure()
    written = capsys.readouterr()
    assert "still_logged" in written.out + written.err
    assert "S3CRET" not in written.out + written.err

"""The application as a production server imports it: ``service.asgi:app_factory``.

``claimdesk serve`` resolves the database (starting the embedded server when none is
configured), migrates, makes the first key, puts the resolved URL in
``CLAIMDESK_DATABASE_URL`` and then hands this factory to uvicorn or granian, which call it
once in each worker process. Settings come from the environment, as everywhere else.
"""

from __future__ import annotations

import functools
import gc
import ipaddress
import os
from typing import Any

from litestar import Litestar

from service import migrate
from service.app import create_app
from service.logging import configure
from service.settings import Settings
from service.text import highlight


def app_factory() -> Litestar:
    settings = Settings.from_env()
    configure(settings.log_level, settings.log_format)
    app = create_app(settings)
    app.on_startup.append(_freeze_startup_objects)
    return app


def granian_app_factory() -> Forwarded:
    """The app as granian serves it. granian reads no ``X-Forwarded-*`` header itself, where
    uvicorn takes the client's address and scheme from a proxy it trusts: every reader
    behind a proxy shared one rate-limit bucket, and cards named ``http://`` behind TLS
    (found by an operator's walkthrough). :class:`Forwarded` does what uvicorn does, for the
    addresses uvicorn's ``FORWARDED_ALLOW_IPS`` lists (default ``127.0.0.1``)."""
    return Forwarded(app_factory(), os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))


class Forwarded:
    """ASGI middleware: from a peer listed in ``trusted`` (addresses, networks, ``*``, or
    other literals such as ``unix:``, comma-separated, as uvicorn reads
    ``FORWARDED_ALLOW_IPS``), the client is the nearest address of ``X-Forwarded-For`` that
    is not itself trusted, and the scheme ``X-Forwarded-Proto``'s. granian ships such a
    wrapper (``granian.utils.proxies``), but it parses the peer's address on every request:
    6 to 12 µs a request against 2.5 to 3 for this one, timed alternately on this project's
    machine in a slow hour (a GET claim takes 150 to 700 µs of CPU); here each address is
    judged once (a bounded cache)."""

    def __init__(self, app: Any, trusted: str) -> None:
        self.app = app
        listed = [item.strip() for item in trusted.split(",") if item.strip()]
        self.everyone = "*" in listed
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.literals: set[str] = set()
        for item in listed:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.literals.add(item)
        self.trusts = functools.lru_cache(maxsize=4096)(self._trusts)

    def _trusts(self, host: str) -> bool:
        if self.everyone or host in self.literals:
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        # a plain call handing back the app's coroutine: no frame of its own to await
        client = scope.get("client")
        if scope["type"] != "lifespan" and client and self.trusts(client[0]):
            hosts: list[str] = []
            proto = None
            for key, value in scope["headers"]:
                if key == b"x-forwarded-for":
                    hosts += [h.strip() for h in value.decode("latin-1").split(",")]
                elif key == b"x-forwarded-proto" and proto is None:
                    proto = value.decode("latin-1").strip().lower()
            hosts = [h for h in hosts if h]
            if hosts:
                nearest = next((h for h in reversed(hosts) if not self.trusts(h)), hosts[0])
                scope["client"] = (nearest, 0)
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        return self.app(scope, receive, send)


def _freeze_startup_objects() -> None:
    """Leave what start-up built out of every later garbage collection.

    The application (its routes, signature models, the OpenAPI document), the pool and the
    imported modules are hundreds of thousands of objects that live as long as the process.
    Without this, each full collection walks them all, a pause of milliseconds in whichever
    request is running: the benchmark's p99 for GET claim went from 50-90 ms to 15-25 ms at 32
    connections with it, and its throughput up by a tenth. Objects made later are collected
    as usual. The snippets' fold tables are made first, so that no search waits for them, and
    the newest migration's id read, which ``/ready`` compares with the database's: it imports
    alembic and SQLAlchemy, some 37,000 objects. Read on the first ``/ready`` instead, after
    the freeze, they stayed in the collector's oldest generation, and each full collection of
    that worker took 20-48 ms instead of 1.5-5 (the benchmark calls ``/ready`` until it first
    answers, a load balancer's probe every few seconds).
    """
    highlight.plane()
    highlight.byte_fold()
    migrate.head()
    migrate.known()
    gc.collect()
    gc.freeze()

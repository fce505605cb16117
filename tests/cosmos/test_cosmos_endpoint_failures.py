"""An endpoint that dies, refuses or goes silent ends a Cosmos run fast, with exit 3 and one line.

Store level: the call that finds the endpoint down, and every later one, raise
``EndpointUnavailable`` (a ``StoreUnavailable``) without sending anything, so neither the SDK's
retries nor the coordinator's can stretch the failure out.  CLI level: ``claimcheck run`` on
``--store cosmos`` exits 3 within seconds of the embedded server's death, or of connecting to a
silent or refusing account, with one line on stderr and no traceback.

The time bounds below are generous limits on a subprocess (10 s, against about 0.1 s for a dead
server and 5 s, the read timeout, for a silent one), not measurements.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from stores import StoreUnavailable
from stores.cosmos import READ_TIMEOUT
from stores.cosmos import CosmosStore
from stores.cosmos import EndpointUnavailable
from stores.cosmos import FaultyTransport
from stores.cosmos import scripted
from stores.emulator import EmulatorHandle
from stores.emulator import start_emulator

from ._drive import drive
from ._endpoints import closed_port
from ._endpoints import silent_endpoint

KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
ROOT = Path(__file__).resolve().parents[2]


def wait_for_exit(emulator: EmulatorHandle) -> str:
    deadline = time.monotonic() + 10
    while (reason := emulator.exit_reason()) is None:
        assert time.monotonic() < deadline, "the killed server did not exit within 10 s"
        time.sleep(0.01)
    return reason


# -- the store ----------------------------------------------------------------------------------


def test_store_on_a_server_that_died_raises_endpoint_unavailable_without_sending(
    tmp_path: Path, pk: str
) -> None:
    transports: list[FaultyTransport] = []

    def record(inner: Any) -> FaultyTransport:
        transports.append(FaultyTransport(inner, scripted([])))  # records every exchange
        return transports[-1]

    log = tmp_path / "server.log"
    with start_emulator(log_path=log) as emulator:
        store = CosmosStore.for_emulator(emulator, database="dies", transport_wrapper=record)
        with store:
            drive(store.create("a", pk, {}))
            os.kill(emulator.pid, signal.SIGKILL)
            wait_for_exit(emulator)
            sent = len(transports[0].exchanges)
            for _ in range(3):
                with pytest.raises(EndpointUnavailable) as info:
                    drive(store.get("a", pk))
            # Neither the SDK nor its retries were asked: nothing reached the transport.
            assert len(transports[0].exchanges) == sent
    message = str(info.value)
    assert isinstance(info.value, StoreUnavailable)  # nothing was written
    assert message.startswith("the embedded Cosmos endpoint exited (code -9) while in use at ")
    assert message.endswith(f"; see {log}")
    assert "\n" not in message


def test_silent_endpoint_is_one_read_timeout_then_down_for_good() -> None:
    with silent_endpoint() as silent:
        with pytest.raises(EndpointUnavailable) as info:
            CosmosStore(endpoint=silent.url, key=KEY, database="d", container="c")
        # One request reached the endpoint; the SDK's three retries of its account read (with
        # read timeouts of 5, 25 and 65 s by default) failed without a connection.
        assert len(silent.accepted) == 1
    message = str(info.value)
    assert message.startswith(
        f"Cosmos endpoint {silent.url} did not answer within {READ_TIMEOUT} s (read timeout): "
        "failed connect in d/c;"
    )
    assert KEY not in message


def test_purge_partition_removes_documents_and_tombstones_of_that_partition_only(
    cosmos_store: CosmosStore, pk: str
) -> None:
    other = f"{pk}-other"
    for id in ("a", "b", "c"):
        drive(cosmos_store.create(id, pk, {}))
    drive(cosmos_store.create("a", other, {}))
    assert drive(cosmos_store.delete("c", pk))  # leaves a tombstone
    assert cosmos_store.purge_partition(pk) == 3
    assert drive(cosmos_store.list_partition(pk)) == []
    assert drive(cosmos_store.get("a", pk)) is None
    assert [d.id for d in drive(cosmos_store.list_partition(other))] == ["a"]
    assert cosmos_store.purge_partition(pk) == 0


# -- the command --------------------------------------------------------------------------------


def claimcheck(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
    )


def finish(proc: subprocess.Popen[str], within: float) -> tuple[int, str]:
    """Exit status and stderr of ``proc``, which must end within ``within`` seconds."""
    try:
        _, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"claimcheck was still running {within:g} s later")
    return proc.returncode, err


def node_child(pid: int, within: float = 30) -> int:
    """The pid of the ``node`` child of process ``pid`` (Linux /proc), once it exists."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if parent == pid and name == "node":
                return int(entry.name)
        time.sleep(0.05)
    pytest.fail(f"no node child of {pid} within {within:g} s")


def one_line(err: str) -> str:
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.rstrip("\n")


def test_run_whose_embedded_server_is_killed_mid_run_exits_3_within_seconds(
    tmp_path: Path,
) -> None:
    # Exhaustive multi-job runs for over a minute: long enough to be killed mid-run.
    proc = claimcheck(
        "run", "--store", "cosmos", "--scenario", "multi-job", "--scheduler", "exhaustive",
        env={"TMPDIR": str(tmp_path)},
    )  # fmt: skip
    try:
        node_child(proc.pid)
        time.sleep(3)  # the endpoint is up and schedules are running
        assert proc.poll() is None, proc.communicate()
        # Looked up again now: a short-lived node child (a version probe, say) may have been
        # the first one seen; the server is the one still there after the wait.
        os.kill(node_child(proc.pid), signal.SIGKILL)
    except BaseException:
        proc.kill()
        proc.communicate()
        raise
    status, err = finish(proc, within=10)
    assert status == 3, err
    line = one_line(err)
    match = re.fullmatch(
        r"claimcheck: infrastructure failure: the embedded Cosmos endpoint exited \(code -9\) "
        r"while in use at https://127\.0\.0\.1:\d+/ \(killed by SIGKILL; [^)]*\); see (\S+)",
        line,
    )
    assert match is not None, line
    log = Path(match.group(1))
    assert log.parent == tmp_path
    assert log.exists()  # kept, since the server did not end cleanly


def test_run_on_a_cosmos_account_that_never_answers_exits_3_naming_the_read_timeout() -> None:
    with silent_endpoint() as silent:
        proc = claimcheck(
            "run", "--store", "cosmos", "--scenario", "claim-race",
            env={"COSMOS_ENDPOINT": silent.url, "COSMOS_KEY": KEY},
        )  # fmt: skip
        status, err = finish(proc, within=10)
    assert status == 3, err
    line = one_line(err)
    assert line.startswith(
        f"claimcheck: infrastructure failure: Cosmos endpoint {silent.url} did not answer "
        f"within {READ_TIMEOUT} s (read timeout): failed connect in claimcheck/harness;"
    )
    assert KEY not in err


def test_run_on_a_cosmos_account_that_refuses_exits_3_saying_so() -> None:
    url = f"http://127.0.0.1:{closed_port()}/"
    proc = claimcheck(
        "run", "--store", "cosmos", "--scenario", "claim-race",
        env={"COSMOS_ENDPOINT": url, "COSMOS_KEY": KEY},
    )  # fmt: skip
    status, err = finish(proc, within=10)
    assert status == 3, err
    assert one_line(err).startswith(
        f"claimcheck: infrastructure failure: Cosmos endpoint {url} refused the connection: "
        "failed connect in claimcheck/harness;"
    )


def test_a_clean_cosmos_run_leaves_no_log_behind(tmp_path: Path) -> None:
    proc = claimcheck(
        "run", "--store", "cosmos", "--scenario", "claim-race", "--scheduler", "random",
        "--budget", "5",
        env={"TMPDIR": str(tmp_path)},
    )  # fmt: skip
    status, err = finish(proc, within=120)
    assert status == 0, err
    assert list(tmp_path.iterdir()) == []  # the child's TMPDIR: its emulator log is gone

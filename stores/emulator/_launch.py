"""Start and stop the embedded Cosmos endpoint (``@vercel/cosmosdb-server`` under Node).

The server runs in a child ``node`` process started from ``launch.mjs`` beside this file, which
uses the npm package's library API with HTTP keep-alive on, listens on ``127.0.0.1`` on a port the
OS chooses, and reports its endpoint as one JSON line on stdout.  Its stderr goes to a log file.

Failure is always loud and bounded: a missing ``node``, a missing npm package, a crash or a slow
start raises :class:`EmulatorError` with one line that says what to run; nothing here hangs past
``timeout`` and nothing skips.  A server that exits while in use is reported by
:meth:`EmulatorHandle.exit_reason` (the Cosmos store asks it before every request), and its log
is kept; the temporary log of a server that ends cleanly is removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import attrs

__all__ = [
    "EMULATOR_KEY",
    "PACKAGE",
    "PACKAGE_VERSION",
    "EmulatorError",
    "EmulatorHandle",
    "start_emulator",
]

#: The npm package (and exact version, pinned by package-lock.json at the repository root).
PACKAGE = "@vercel/cosmosdb-server"
PACKAGE_VERSION = "1.0.1"

#: Microsoft's published, well-known emulator key.  The embedded server accepts any key; this one
#: is public and grants nothing anywhere else.
EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)

_MIN_NODE_MAJOR = 20
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_LAUNCHER = Path(__file__).resolve().with_name("launch.mjs")
_FIX = "run `npm ci` in {root} (`make test` bootstraps it)"


class EmulatorError(RuntimeError):
    """The embedded Cosmos endpoint could not be started; the message is one line saying why,
    what to run, and where the log is."""


@attrs.define(eq=False)
class EmulatorHandle:
    """A running embedded Cosmos endpoint.  Use as a context manager, or call :meth:`stop`.

    ``endpoint`` is ``https://127.0.0.1:PORT/``; ``key`` is :data:`EMULATOR_KEY`;
    ``tls_fingerprint`` is the SHA-256 of the server's self-signed certificate, which the Cosmos
    store pins instead of verifying a chain (the package's certificate is self-signed and
    expired, so no CA check can pass).

    ``log_path`` holds the server's stderr.  A log that :func:`start_emulator` made up itself
    (``owns_log``) is removed by :meth:`stop` when the server ends cleanly, i.e. it was running
    until asked to stop and then exited with status 0; otherwise it is kept, and every message
    about the server names it.
    """

    endpoint: str
    key: str = attrs.field(repr=False)
    tls_fingerprint: str = attrs.field(repr=False)
    keep_alive: bool
    log_path: Path
    _process: subprocess.Popen[bytes] = attrs.field(repr=False, alias="process")
    owns_log: bool = False
    #: Set by ``stop()``: from then on an exit is expected, not a failure.
    _stopping: bool = attrs.field(default=False, init=False, repr=False)
    #: What ``exit_reason()`` says once the server has exited before ``stop()`` asked it to.
    _died: str | None = attrs.field(default=None, init=False, repr=False)

    @property
    def pid(self) -> int:
        """The server's process id (for CPU accounting in benchmarks)."""
        return self._process.pid

    def is_running(self) -> bool:
        return self._process.poll() is None

    def exit_reason(self) -> str | None:
        """One line saying that the server exited on its own (status, signal, what its log says,
        where the log is), or ``None`` while it runs or once :meth:`stop` was called first.

        Cheap (one non-blocking ``waitpid``), thread-safe, and final: once it has said the
        server exited it says so every time.  The Cosmos store asks it before every request.
        """
        if self._died is None and not self._stopping:
            status = self._process.poll()
            if status is not None and not self._stopping:
                self._died = (
                    f"the embedded Cosmos endpoint exited (code {status}) while in use at "
                    f"{self.endpoint} ({_exit_cause(status)}; {_last_line(self.log_path)}); "
                    f"see {self.log_path}"
                )
        return self._died

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the server (idempotent): close its stdin, then terminate, then kill.

        Removes the log if ``owns_log`` and the server ends cleanly (see the class docstring).
        """
        process = self._process
        if not self._stopping:
            # Did it exit on its own before we asked?  Then that exit is a failure to report.
            self.exit_reason()
            self._stopping = True
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()  # the launcher exits on end-of-file
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None and not process.stdout.closed:
            process.stdout.close()
        if self.owns_log and self._died is None and process.returncode == 0:
            self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_emulator(
    log_path: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    *,
    keep_alive: bool = True,
) -> EmulatorHandle:
    """Start an embedded Cosmos endpoint on a free loopback port and wait until it listens.

    ``log_path`` receives the server's stderr (a new temporary file when ``None``).
    ``keep_alive=False`` reproduces the package CLI's ``connection: close`` behaviour; it exists
    for the benchmark's reference figure.  Raises :class:`EmulatorError` within ``timeout``
    seconds if the server cannot be started.
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    log = _log_file(log_path)
    # A log made up here is ours to remove once the server has ended cleanly (see stop()); one
    # that failed to start keeps it, since the error names it.
    node = _find_node(log, timeout)
    package_dir = _find_package(log)
    fingerprint = _certificate_fingerprint(package_dir, log)
    command = [node, str(_LAUNCHER), "--package", str(package_dir)]
    if not keep_alive:
        command.append("--no-keep-alive")
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_file,
            cwd=_PROJECT_ROOT,
        )
    try:
        ready = _wait_ready(process, timeout, log)
    except BaseException:
        _kill(process)
        raise
    return EmulatorHandle(
        endpoint=ready,
        key=EMULATOR_KEY,
        tls_fingerprint=fingerprint,
        keep_alive=keep_alive,
        log_path=log,
        process=process,
        owns_log=log_path is None,
    )


def _log_file(log_path: str | os.PathLike[str] | None) -> Path:
    if log_path is not None:
        path = Path(log_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return path
    fd, name = tempfile.mkstemp(prefix="claimcheck-cosmos-emulator-", suffix=".log")
    os.close(fd)
    return Path(name)


def _find_node(log: Path, timeout: float) -> str:
    node = shutil.which("node")
    if node is None:
        raise EmulatorError(
            f"cannot start the embedded Cosmos endpoint: `node` (Node.js {_MIN_NODE_MAJOR}+) is "
            f"not on PATH; install Node.js with npm, then {_FIX.format(root=_PROJECT_ROOT)}; "
            f"log: {log}"
        )
    try:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, timeout=timeout, check=True
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        raise EmulatorError(
            f"cannot start the embedded Cosmos endpoint: `{node} --version` failed ({exc}); "
            f"install Node.js {_MIN_NODE_MAJOR}+; log: {log}"
        ) from exc
    match = re.fullmatch(r"v(\d+)\..*", version)
    if match is None or int(match.group(1)) < _MIN_NODE_MAJOR:
        raise EmulatorError(
            f"cannot start the embedded Cosmos endpoint: {node} is Node.js {version!r}, "
            f"{PACKAGE} needs {_MIN_NODE_MAJOR}+; install a newer Node.js, then "
            f"{_FIX.format(root=_PROJECT_ROOT)}; log: {log}"
        )
    return node


def _find_package(log: Path) -> Path:
    package_dir = _PROJECT_ROOT / "node_modules" / PACKAGE
    try:
        version = json.loads((package_dir / "package.json").read_text("utf-8"))["version"]
    except (OSError, ValueError, KeyError, TypeError):
        version = None
    if version != PACKAGE_VERSION:
        found = "is not installed" if version is None else f"is at {version!r}"
        npm = "" if shutil.which("npm") else " (`npm` is not on PATH: install Node.js with npm)"
        raise EmulatorError(
            f"cannot start the embedded Cosmos endpoint: {PACKAGE} {PACKAGE_VERSION} {found} in "
            f"{package_dir.parent.parent}; {_FIX.format(root=_PROJECT_ROOT)}{npm}; log: {log}"
        )
    return package_dir


def _certificate_fingerprint(package_dir: Path, log: Path) -> str:
    try:
        pem = (package_dir / "cert.pem").read_text("ascii")
        der = ssl.PEM_cert_to_DER_cert(pem)
    except (OSError, ValueError) as exc:
        raise EmulatorError(
            f"cannot start the embedded Cosmos endpoint: cannot read {package_dir / 'cert.pem'} "
            f"({exc}); {_FIX.format(root=_PROJECT_ROOT)}; log: {log}"
        ) from exc
    return hashlib.sha256(der).hexdigest()


def _wait_ready(process: subprocess.Popen[bytes], timeout: float, log: Path) -> str:
    """Read the launcher's one JSON line, never waiting past ``timeout``."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EmulatorError(
                f"the embedded Cosmos endpoint did not report ready within {timeout:g} s "
                f"(node {_LAUNCHER.name}); see the log {log}; if {PACKAGE} is broken, "
                f"{_FIX.format(root=_PROJECT_ROOT)}"
            )
        readable, _, _ = select.select([fd], [], [], min(remaining, 0.5))
        if not readable:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:  # end of file: the launcher exited
            status = process.wait()
            raise EmulatorError(
                f"the embedded Cosmos endpoint exited with status {status} before listening "
                f"({_last_line(log)}); see the log {log}; {_FIX.format(root=_PROJECT_ROOT)}"
            )
        buffer += chunk
    line = buffer.split(b"\n", 1)[0]
    try:
        endpoint = json.loads(line)["endpoint"]
        if not isinstance(endpoint, str):
            raise TypeError(type(endpoint).__name__)
    except (ValueError, KeyError, TypeError) as exc:
        raise EmulatorError(
            f"the embedded Cosmos endpoint printed {line[:200]!r} instead of its ready line; "
            f"see the log {log}"
        ) from exc
    return endpoint


def _last_line(log: Path) -> str:
    try:
        lines = [line.strip() for line in log.read_text("utf-8", "replace").splitlines()]
    except OSError:
        return "no log"
    lines = [line for line in lines if line]
    # Prefer the launcher's own message, then a JavaScript error line, over a stack frame.
    for wanted in ("claimcheck cosmos emulator:", "Error"):
        for line in lines:
            if wanted in line:
                return f"log says: {line[:200]}"
    return f"log says: {lines[-1][:200]}" if lines else "empty log"


def _exit_cause(status: int) -> str:
    if status >= 0:
        return f"exit status {status}"
    try:
        name = signal.Signals(-status).name
    except ValueError:
        name = f"signal {-status}"
    return f"killed by {name}"


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None and not stream.closed:
            stream.close()

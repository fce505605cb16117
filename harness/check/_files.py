"""``claimcheck check-history``: check recorded histories from files, one verdict per file.

The argparse-free core of the command: the CLI parses ``FILE... --format F [--model NAME]
[--timeout S]`` and calls :func:`check_history_files`, which prints and returns the exit code.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import TextIO

from models import CasRegisterModel
from models import EtcdRegisterModel
from models import KvModel
from models import Model

from .._exit import ExitCode
from ._checker import CheckResult
from ._checker import check_operations
from ._jsonl import read_jsonl
from ._operation import HistoryFormatError
from ._operation import Operation
from ._porcupine import read_porcupine_etcd
from ._porcupine import read_porcupine_kv

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_LINEARIZABLE",
    "EXIT_NOT_LINEARIZABLE",
    "EXIT_UNDECIDED",
    "HISTORY_FORMATS",
    "HISTORY_MODELS",
    "check_history_files",
]

#: Model names accepted by ``--model`` and by the ``"model"`` of a JSON Lines header.
HISTORY_MODELS: Final[Mapping[str, Callable[[], Model[Any, Any, Any]]]] = {
    "cas-register": CasRegisterModel,
    "etcd-register": EtcdRegisterModel,
    "kv": KvModel,
}

#: ``--format`` values, each with the model its files are meant for (None: the file says).
HISTORY_FORMATS: Final[Mapping[str, str | None]] = {
    "jsonl": None,
    "porcupine-etcd": "etcd-register",
    "porcupine-kv": "kv",
}

# Exit codes from the one table (``harness._exit``).
EXIT_LINEARIZABLE: Final = ExitCode.OK
EXIT_NOT_LINEARIZABLE: Final = ExitCode.FINDING
EXIT_BAD_INPUT: Final = ExitCode.USAGE
EXIT_UNDECIDED: Final = ExitCode.UNDECIDED


def _load(
    path: str, fmt: str, model_name: str | None, models: Mapping[str, Callable[[], Any]]
) -> tuple[str, list[Operation[Any, Any]]]:
    """The model name to use and the operations of one file; raises HistoryFormatError."""
    if fmt == "jsonl":
        history = read_jsonl(path)
        name = model_name or history.model
        if name not in models:
            raise HistoryFormatError(
                path,
                1,
                f"the header names model {history.model!r}, which is not one of "
                f"{', '.join(sorted(models))}; pass --model NAME",
            )
        return name, list(history.operations)
    reader = read_porcupine_etcd if fmt == "porcupine-etcd" else read_porcupine_kv
    return model_name or HISTORY_FORMATS[fmt] or "", reader(path)


def _summary(result: CheckResult) -> str:
    parts = f"{result.partitions} partition{'s' if result.partitions != 1 else ''}"
    head = f"{result.operations} operations, {parts}, {result.elapsed:.3f} s"
    if result.verdict == "linearizable":
        return f"linearizable ({head})"
    if result.verdict == "undecided":
        return (
            f"UNDECIDED ({head}): time limit hit with {result.partitions_checked} of "
            f"{result.partitions} partitions decided; not a pass"
        )
    v = result.violation
    assert v is not None
    return f"NOT linearizable ({head}): {v.summary}"


def check_history_files(
    paths: Sequence[str | os.PathLike[str]],
    fmt: str,
    model_name: str | None,
    timeout: float | None,
    out: TextIO,
    *,
    explain: bool = False,
) -> int:
    """Check each file and print one verdict line per file, then a line with the total time.

    ``fmt`` is one of :data:`HISTORY_FORMATS`; ``model_name`` one of :data:`HISTORY_MODELS` or
    ``None`` (the format's model, or the JSON Lines header's).  ``timeout`` bounds each file's
    check.  ``explain`` adds the checker's full explanation, indented, under each violation.

    Returns the exit code: 2 if any file could not be read (its line names the file and line,
    with no traceback), else 1 if any history is not linearizable, else 4 if any check was
    undecided, else 0.  A bad file does not stop the others from being checked.
    """
    if fmt not in HISTORY_FORMATS:
        print(
            f"error: unknown history format {fmt!r}; choose one of {', '.join(HISTORY_FORMATS)}",
            file=out,
        )
        return EXIT_BAD_INPUT
    if model_name is not None and model_name not in HISTORY_MODELS:
        print(
            f"error: unknown model {model_name!r}; choose one of {', '.join(HISTORY_MODELS)}",
            file=out,
        )
        return EXIT_BAD_INPUT
    wanted = HISTORY_FORMATS[fmt]
    if model_name is not None and wanted is not None and model_name != wanted:
        print(
            f"error: --format {fmt} histories are checked with model {wanted!r}, not "
            f"{model_name!r}",
            file=out,
        )
        return EXIT_BAD_INPUT
    started = time.monotonic()
    checking = 0.0
    counts = {"linearizable": 0, "not_linearizable": 0, "undecided": 0, "bad": 0}
    for raw_path in paths:
        path = os.fspath(raw_path)
        try:
            name, operations = _load(path, fmt, model_name, HISTORY_MODELS)
        except HistoryFormatError as exc:
            counts["bad"] += 1
            print(f"{exc.path}:{exc.line}: error: {exc.message}", file=out)
            continue
        except (OSError, UnicodeDecodeError) as exc:
            counts["bad"] += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            print(f"{path}: error: cannot read: {reason}", file=out)
            continue
        result = check_operations(HISTORY_MODELS[name](), operations, timeout=timeout)
        checking += result.elapsed
        counts[result.verdict] += 1
        print(f"{path}: {_summary(result)}", file=out)
        if explain and result.violation is not None:
            for line in result.explanation.splitlines():
                print(f"    {line}", file=out)
    total = time.monotonic() - started
    print(
        f"{len(paths)} file{'s' if len(paths) != 1 else ''}: {counts['linearizable']} "
        f"linearizable, {counts['not_linearizable']} not linearizable, "
        f"{counts['undecided']} undecided, {counts['bad']} unreadable; checking took "
        f"{checking:.3f} s ({total:.3f} s with reading)",
        file=out,
    )
    if counts["bad"]:
        return EXIT_BAD_INPUT
    if counts["not_linearizable"]:
        return EXIT_NOT_LINEARIZABLE
    if counts["undecided"]:
        return EXIT_UNDECIDED
    return EXIT_LINEARIZABLE

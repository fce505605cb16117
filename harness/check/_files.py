"""``claimcheck check-history``: check recorded histories from files, one verdict per file.

The argparse-free core of the command: the CLI parses ``FILE... --format F [--model NAME]
[--timeout S]`` and calls :func:`check_history_files`, which prints and returns the exit code.

A history file is input from anywhere, so every way it can be wrong must end as bad input
(exit 2) on one line that names the file and line, and must not stop the other files from
being checked: the readers raise :class:`HistoryFormatError` for everything they refuse, and
this module adds what only the chosen model can say (which values are its operations, and
which output answers which input).  A model replays values without checking them, so anything
that reaches ``check_operations`` must already be known to fit.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import TextIO

from models import CasRegisterModel
from models import EtcdCas
from models import EtcdCasResult
from models import EtcdRead
from models import EtcdRegisterModel
from models import EtcdValue
from models import EtcdWrite
from models import EtcdWritten
from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvModel
from models import KvPut
from models import KvValue
from models import Model
from models import RegCas
from models import RegCasResult
from models import RegGet
from models import RegPut
from models import RegValue
from models import RegWritten

from .._exit import ExitCode
from ._checker import CheckResult
from ._checker import check_operations
from ._jsonl import JsonlHistory
from ._jsonl import read_jsonl
from ._operation import HistoryFormatError
from ._operation import Operation
from ._operation import show
from ._porcupine import read_porcupine_etcd
from ._porcupine import read_porcupine_kv

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_LINEARIZABLE",
    "EXIT_NOT_LINEARIZABLE",
    "EXIT_UNDECIDED",
    "HISTORY_FORMATS",
    "HISTORY_MODELS",
    "HISTORY_OPERATIONS",
    "check_history_files",
]

#: Model names accepted by ``--model`` and by the ``"model"`` of a JSON Lines header.
HISTORY_MODELS: Final[Mapping[str, Callable[[], Model[Any, Any, Any]]]] = {
    "cas-register": CasRegisterModel,
    "etcd-register": EtcdRegisterModel,
    "kv": KvModel,
}

#: Each model's operations: the input classes it replays, each with the output class of a call
#: that returned.  Same keys as :data:`HISTORY_MODELS`.
HISTORY_OPERATIONS: Final[Mapping[str, Mapping[type, type]]] = {
    "cas-register": {RegGet: RegValue, RegPut: RegWritten, RegCas: RegCasResult},
    "etcd-register": {EtcdRead: EtcdValue, EtcdWrite: EtcdWritten, EtcdCas: EtcdCasResult},
    "kv": {KvGet: KvValue, KvPut: KvDone, KvAppend: KvDone},
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
                history.model_line,
                f"the header names model {show(history.model)}, which is not one of "
                f"{', '.join(sorted(models))}; pass --model NAME",
            )
        whose = (
            "given by --model"
            if model_name
            else f"named by the header on line {history.model_line}"
        )
        _check_operation_types(history, name, whose)
        return name, list(history.operations)
    # The Porcupine readers build their format's own model's values, so there is nothing to
    # check: check_history_files refuses a --model that is not the format's.
    reader = read_porcupine_etcd if fmt == "porcupine-etcd" else read_porcupine_kv
    return model_name or HISTORY_FORMATS[fmt] or "", reader(path)


def _check_operation_types(history: JsonlHistory, name: str, whose: str) -> None:
    """Refuse an input the model does not know, or an output that does not answer its input.

    Both are bad input, not violations: ``EtcdWritten`` returned by a read says the file is
    wrong, not the store, and an ``EtcdRead`` under the CAS register model would crash it.
    """
    answers = HISTORY_OPERATIONS[name]
    inputs: dict[int, tuple[int, type]] = {}  # op_id -> (line, input class)
    for event, line in zip(history.events, history.lines, strict=True):
        if event.kind == "invoke":
            cls = type(event.input)
            if cls not in answers:
                raise HistoryFormatError(
                    history.path,
                    line,
                    f"input {cls.__name__} is not an operation of model {name!r} ({whose}), "
                    f"whose inputs are {', '.join(c.__name__ for c in answers)}; the values "
                    "and the model must agree: fix the header's model or pass --model NAME",
                )
            inputs[event.op_id] = (line, cls)
        elif event.kind == "ok":
            call_line, cls = inputs[event.op_id]
            want = answers[cls]
            if not isinstance(event.output, want):
                raise HistoryFormatError(
                    history.path,
                    line,
                    f"output {type(event.output).__name__} does not answer the "
                    f"{cls.__name__} invoked on line {call_line}: model {name!r} answers it "
                    f"with {want.__name__}",
                )


def _printable_path(path: str) -> str:
    # A file name need not be UTF-8: Python hands its undecodable bytes over as lone
    # surrogates, which printing to a UTF-8 stream refuses.  Show them as \x escapes instead.
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def _error(err: TextIO, message: str) -> None:
    # One line whatever the message holds: a value from the file may contain line breaks.
    print(f"claimcheck: error: {' '.join(message.splitlines())}", file=err)


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
    err: TextIO | None = None,
    explain: bool = False,
) -> int:
    """Check each file and print one verdict line per file, then a line with the total time.

    ``fmt`` is one of :data:`HISTORY_FORMATS`; ``model_name`` one of :data:`HISTORY_MODELS` or
    ``None`` (the format's model, or the JSON Lines header's).  ``timeout`` bounds each file's
    check.  ``explain`` adds the checker's full explanation, indented, under each violation.

    Verdicts and the total go to ``out``; what is wrong with the input goes to ``err`` (default
    ``sys.stderr``), one line each, ``claimcheck: error: FILE:LINE: message``, so that a
    script reading the verdicts never mistakes an error for one.

    Returns the exit code: 2 if any file could not be read (its line names the file and line,
    with no traceback), else 1 if any history is not linearizable, else 4 if any check was
    undecided, else 0.  A bad file does not stop the others from being checked.
    """
    if err is None:
        err = sys.stderr
    if fmt not in HISTORY_FORMATS:
        _error(err, f"unknown history format {fmt!r}; choose one of {', '.join(HISTORY_FORMATS)}")
        return EXIT_BAD_INPUT
    if model_name is not None and model_name not in HISTORY_MODELS:
        _error(err, f"unknown model {model_name!r}; choose one of {', '.join(HISTORY_MODELS)}")
        return EXIT_BAD_INPUT
    wanted = HISTORY_FORMATS[fmt]
    if model_name is not None and wanted is not None and model_name != wanted:
        _error(
            err,
            f"--format {fmt} histories are checked with model {wanted!r}, not {model_name!r}; "
            "drop --model",
        )
        return EXIT_BAD_INPUT
    started = time.monotonic()
    checking = 0.0
    counts = {"linearizable": 0, "not_linearizable": 0, "undecided": 0, "bad": 0}
    for raw_path in paths:
        path = os.fspath(raw_path)
        shown = _printable_path(path)
        try:
            name, operations = _load(path, fmt, model_name, HISTORY_MODELS)
        except HistoryFormatError as exc:
            counts["bad"] += 1
            _error(err, f"{shown}:{exc.line}: {exc.message}")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            counts["bad"] += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _error(err, f"{shown}: cannot read: {reason}")
            continue
        result = check_operations(HISTORY_MODELS[name](), operations, timeout=timeout)
        checking += result.elapsed
        counts[result.verdict] += 1
        print(f"{shown}: {_summary(result)}", file=out)
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

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

import json
import os
import sys
import time
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import Final
from typing import TextIO

from models import Model

from .._exit import ExitCode
from ._checker import CheckResult
from ._checker import check_operations
from ._jepsen import EDN_MODELS
from ._jepsen import read_jepsen_edn
from ._jsonl import JsonlHistory
from ._jsonl import read_jsonl
from ._models import DEPRECATED_NAMES
from ._models import NAMED_MODELS
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

#: Model names accepted by ``--model`` and by the ``"model"`` of a JSON Lines header, each with
#: a factory of the model at its default initial state (:data:`NAMED_MODELS` has the rest).
HISTORY_MODELS: Final[Mapping[str, Callable[[], Model[Any, Any, Any]]]] = {
    name: named.make for name, named in NAMED_MODELS.items()
}

#: Each model's operations: the input classes it replays, each with the output class of a call
#: that returned.  Same keys as :data:`HISTORY_MODELS`.
HISTORY_OPERATIONS: Final[Mapping[str, Mapping[type, type]]] = {
    name: named.operations for name, named in NAMED_MODELS.items()
}

#: ``--format`` values, each with the models its files can be checked with (the first is the
#: default; ``None``: any, the file's header says which).
_FORMAT_MODELS: Final[Mapping[str, tuple[str, ...] | None]] = {
    "jsonl": None,
    "jepsen-edn": tuple(EDN_MODELS),
    "porcupine-etcd": ("etcd-register",),
    "porcupine-kv": ("kv",),
}

#: ``--format`` values, each with its default model (None: the file says).
HISTORY_FORMATS: Final[Mapping[str, str | None]] = {
    fmt: models[0] if models else None for fmt, models in _FORMAT_MODELS.items()
}

# Exit codes from the one table (``harness._exit``).
EXIT_LINEARIZABLE: Final = ExitCode.OK
EXIT_NOT_LINEARIZABLE: Final = ExitCode.FINDING
EXIT_BAD_INPUT: Final = ExitCode.USAGE
EXIT_UNDECIDED: Final = ExitCode.UNDECIDED


class _Loaded:
    """One file as read: the model to check it with, its operations, its initial state."""

    __slots__ = ("initial", "name", "operations")

    def __init__(
        self, name: str, operations: list[Operation[Any, Any]], initial: tuple[()] | tuple[object]
    ) -> None:
        self.name = name
        self.operations = operations
        self.initial = initial


def _load(
    path: str,
    fmt: str,
    model_name: str | None,
    initial: tuple[()] | tuple[object],
    note: Callable[[str], None],
) -> _Loaded:
    """The model, operations and initial state of one file; raises HistoryFormatError."""
    if fmt != "jsonl":
        # The other readers build their format's own model's values, so there is nothing to
        # check: check_history_files refuses a --model that is not one of the format's.
        name = model_name or HISTORY_FORMATS[fmt] or ""
        if fmt == "jepsen-edn":
            operations = read_jepsen_edn(path, name)
        else:
            reader = read_porcupine_etcd if fmt == "porcupine-etcd" else read_porcupine_kv
            operations = reader(path)
        _check_initial(path, 1, name, initial, "--initial")
        return _Loaded(name, operations, initial)
    history = read_jsonl(path)
    name = model_name or history.model
    if name not in NAMED_MODELS:
        raise HistoryFormatError(
            path,
            history.model_line,
            f"the header names model {show(history.model)}, which is not one of "
            f"{', '.join(sorted(NAMED_MODELS))}; pass --model NAME",
        )
    if (
        not model_name
        and name in DEPRECATED_NAMES
        and _holds_values_of(history, DEPRECATED_NAMES[name])
    ):
        old, name = name, DEPRECATED_NAMES[name]
        note(
            f"{_printable_path(path)}:{history.model_line}: model {old!r} for these values is "
            f"deprecated: they are {name!r} values, so name {name!r} in the header"
        )
    whose = (
        "given by --model" if model_name else f"named by the header on line {history.model_line}"
    )
    _check_operation_types(history, name, whose)
    if not initial:
        _check_initial(path, history.model_line, name, history.initial, 'the header\'s "initial"')
        initial = history.initial
    else:
        _check_initial(path, history.model_line, name, initial, "--initial")
    return _Loaded(name, list(history.operations), initial)


def _holds_values_of(history: JsonlHistory, name: str) -> bool:
    """Whether the file's first operation is one of model ``name``'s."""
    first = next((event.input for event in history.events if event.kind == "invoke"), None)
    return type(first) in NAMED_MODELS[name].operations


def _check_initial(
    path: str, line: int, name: str, initial: tuple[()] | tuple[object], given: str
) -> None:
    """Refuse an initial state the model does not take, naming where it was given."""
    if not initial:
        return
    parse = NAMED_MODELS[name].parse_initial
    if parse is None:
        raise HistoryFormatError(
            path, line, f"{given}: model {name!r} takes no initial state; drop it"
        )
    try:
        parse(initial[0])
    except ValueError as exc:
        raise HistoryFormatError(path, line, f"{given}: {exc}") from None


def _check_operation_types(history: JsonlHistory, name: str, whose: str) -> None:
    """Refuse an input the model does not know, or an output that does not answer its input.

    Both are bad input, not violations: ``EtcdWritten`` returned by a read says the file is
    wrong, not the store, and an ``EtcdRead`` under the CAS register model would crash it.
    """
    answers = NAMED_MODELS[name].operations
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


def _note(err: TextIO, message: str) -> None:
    print(f"claimcheck: note: {' '.join(message.splitlines())}", file=err)


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
    initial: str | None = None,
    jobs: int = 1,
) -> int:
    """Check each file and print one verdict line per file, then a line with the total time.

    ``fmt`` is one of :data:`HISTORY_FORMATS`; ``model_name`` one of :data:`HISTORY_MODELS` or
    ``None`` (the format's model, or the JSON Lines header's).  ``timeout`` bounds each file's
    check.  ``explain`` adds the checker's full explanation, indented, under each violation.
    ``initial`` is the model's initial state as JSON text (``--initial``); it overrides a JSON
    Lines header's ``"initial"``.  ``jobs`` processes check a history's partitions in
    parallel (``check_operations(workers=...)``).

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
    allowed = _FORMAT_MODELS[fmt]
    if model_name is not None and allowed is not None and model_name not in allowed:
        _error(
            err,
            f"--format {fmt} histories are checked with model {' or '.join(map(repr, allowed))}, "
            f"not {model_name!r}",
        )
        return EXIT_BAD_INPUT
    try:
        start: tuple[()] | tuple[object] = () if initial is None else (json.loads(initial),)
    except (ValueError, RecursionError) as exc:
        _error(err, f"--initial must be JSON (e.g. 0 or '{{\"x\": 0}}'): {exc}")
        return EXIT_BAD_INPUT
    started = time.monotonic()
    checking = 0.0
    counts = {"linearizable": 0, "not_linearizable": 0, "undecided": 0, "bad": 0}
    for raw_path in paths:
        path = os.fspath(raw_path)
        shown = _printable_path(path)
        try:
            loaded = _load(path, fmt, model_name, start, lambda text: _note(err, text))
        except HistoryFormatError as exc:
            counts["bad"] += 1
            _error(err, f"{shown}:{exc.line}: {exc.message}")
            continue
        except (OSError, UnicodeDecodeError) as exc:
            counts["bad"] += 1
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            _error(err, f"{shown}: cannot read: {reason}")
            continue
        model = NAMED_MODELS[loaded.name].build(loaded.initial)
        result = check_operations(model, loaded.operations, timeout=timeout, workers=jobs)
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

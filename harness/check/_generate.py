"""Generated kv histories for benchmarks and tests: ``claimcheck gen-history``.

:func:`generate_kv_history` simulates ``clients`` sequential clients calling ``get`` and
``append`` on ``keys`` keys (Porcupine's kv workload: appended values are unique, ``"x 3 17
y"``).  Every call lasts 1 to 10 time units after a pause of 0 to 3, and takes effect at a
random instant strictly inside its interval; replaying the calls in the order of those instants
gives every get its answer.  So the history is linearizable by construction, with about
``clients`` calls in flight at any time.

``broken=True`` then makes one get read a *stale* value: one its key held before an append
that had returned before the get was called.  Appended values are unique and strings only
grow, so no linearization can produce it: the history is not linearizable, by construction
too.  Everything is drawn from one ``random.Random(seed)``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from typing import Any
from typing import Final

from models import KvAppend
from models import KvDone
from models import KvGet
from models import KvValue

from ._jsonl import write_jsonl
from ._operation import HistoryMisuse
from ._operation import Operation
from ._operation import events_from_operations

__all__ = ["GENERATED_FORMATS", "generate_kv_history", "write_generated"]

#: Formats :func:`write_generated` writes: JSON Lines, or Porcupine's kv EDN (which
#: ``--format porcupine-kv`` and ``--format jepsen-edn --model kv`` both read).
GENERATED_FORMATS: Final = ("jsonl", "porcupine-kv")


def generate_kv_history(
    *, ops: int, clients: int, keys: int, seed: int, broken: bool = False
) -> list[Operation[Any, Any]]:
    """``ops`` kv operations by ``clients`` clients on ``keys`` keys (see the module docstring)."""
    for name, value in (("ops", ops), ("clients", clients), ("keys", keys)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise HistoryMisuse(f"{name} must be an int >= 1, got {value!r}.")
    rng = random.Random(seed)
    free = [rng.randrange(4) for _ in range(clients)]  # when each client may call next
    calls: list[tuple[float, int, int, int, Any]] = []  # (instant, call, return, client, input)
    for seq in range(ops):
        client = min(range(clients), key=lambda c: (free[c], c))
        call = free[client]
        ret = call + rng.randint(1, 10)
        free[client] = ret + rng.randint(0, 3)
        key = str(rng.randrange(keys))
        inp: Any = (
            KvGet(key=key) if rng.random() < 0.4 else KvAppend(key=key, value=f"x {client} {seq} y")
        )
        # Strictly inside: an instant never ties with a call or a return, so the replay
        # order below is consistent with real time whatever the tie rule.
        calls.append((call + rng.uniform(0.001, 0.999) * (ret - call), call, ret, client, inp))
    state: dict[str, str] = {}
    history: list[tuple[int, int, int, Any, Any]] = []
    for _, call, ret, client, inp in sorted(calls, key=lambda c: c[0]):
        if isinstance(inp, KvGet):
            out: Any = KvValue(value=state.get(inp.key, ""))
        else:
            state[inp.key] = state.get(inp.key, "") + inp.value
            out = KvDone()
        history.append((call, ret, client, inp, out))
    if broken:
        _break_one_get(rng, history)
    history.sort(key=lambda h: (h[0], h[2]))
    return [
        Operation(client_id=client, input=inp, output=out, call=call, return_=ret, outcome="ok")
        for call, ret, client, inp, out in history
    ]


def _break_one_get(rng: random.Random, history: list[tuple[int, int, int, Any, Any]]) -> None:
    """Give one get a value its key held before an append that returned before the get's call.

    ``history`` is in linearization order; the get chosen is the latest one that can be made
    stale (the search must go deep to refute it).
    """
    states: dict[str, list[tuple[int, str]]] = {}  # key -> (return of the append, value before)
    value: dict[str, str] = {}
    candidates = []
    for index, (call, _, _, inp, _) in enumerate(history):
        if isinstance(inp, KvGet):
            stale = [old for ret, old in states.get(inp.key, []) if ret < call]
            if stale:
                candidates.append((index, stale[-1]))
        else:
            states.setdefault(inp.key, []).append((history[index][1], value.get(inp.key, "")))
            value[inp.key] = value.get(inp.key, "") + inp.value
    if not candidates:
        raise HistoryMisuse(
            "no get can be made stale in so short a history; generate more operations."
        )
    index, old = candidates[-1 - rng.randrange(min(3, len(candidates)))]
    call, ret, client, inp, _ = history[index]
    history[index] = (call, ret, client, inp, KvValue(value=old))


def _edn_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_generated(
    path: str | os.PathLike[str], operations: Sequence[Operation[Any, Any]], fmt: str
) -> None:
    """Write kv ``operations`` in ``fmt``, one of :data:`GENERATED_FORMATS`."""
    if fmt == "jsonl":
        write_jsonl(path, operations, model="kv")
        return
    if fmt != "porcupine-kv":
        raise HistoryMisuse(f"fmt must be one of {GENERATED_FORMATS}, got {fmt!r}.")
    lines = []
    for event in events_from_operations(operations):
        inp = event.input if event.kind == "invoke" else operations[event.op_id].input
        f = "get" if isinstance(inp, KvGet) else "append"
        if event.kind == "invoke":
            value = "nil" if isinstance(inp, KvGet) else _edn_string(inp.value)
        else:
            value = _edn_string(event.output.value) if f == "get" else _edn_string(inp.value)
        lines.append(
            f"{{:process {event.client}, :type :{event.kind}, :f :{f}, :key "
            f"{_edn_string(inp.key)}, :value {value}}}"
        )
    with open(path, "w", encoding="utf-8", newline="\n") as f_out:
        f_out.write("\n".join(lines) + "\n")

"""Independent pieces of a check, run side by side when the backend spends its time waiting.

A check that explores many schedules splits them into fixed pieces (a range of seeds, one
scenario, one workload), each on stores of its own.  :class:`Pool` runs the pieces on daemon
threads and answers in piece order, as if they had run one after the other: the first piece
(in order, not in time) that fails or finds something decides, and pieces after it are not
started.  The split depends on the seed and the budget only, never on the number of threads,
so a seed gives the same verdict, the same counterexample and the same counts with one thread
or sixteen.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from collections.abc import Sequence
from typing import Generic
from typing import TypeVar

__all__ = ["Pool", "pieces"]

T = TypeVar("T")
R = TypeVar("R")


def pieces(total: int, size: int) -> list[tuple[int, int]]:
    """``total`` items cut into ``(start, count)`` pieces of ``size`` (the last may be smaller)."""
    return [(start, min(size, total - start)) for start in range(0, total, size)]


class _Outcome(Generic[R]):
    __slots__ = ("done", "error", "value")

    def __init__(self) -> None:
        self.done = False
        self.value: R | None = None
        self.error: BaseException | None = None


class Pool:
    """Runs the pieces of a check on up to ``workers`` daemon threads (inline for one).

    Daemon threads, not ``concurrent.futures``: an executor's threads are joined when the
    interpreter exits, so one piece stuck in a hung store call would keep the process alive.
    """

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def map(
        self,
        fn: Callable[[T], R],
        items: Sequence[T],
        *,
        stop: Callable[[R], bool] = lambda _: False,
    ) -> list[R]:
        """``[fn(item) for item in items]``, up to the first result for which ``stop`` is true.

        An exception is raised as the sequential loop would raise it: the earliest piece's.
        """
        if self.workers == 1 or len(items) <= 1:
            out: list[R] = []
            for item in items:
                out.append(fn(item))
                if stop(out[-1]):
                    break
            return out
        outcomes: list[_Outcome[R]] = [_Outcome() for _ in items]
        lock = threading.Lock()
        state = {"next": 0, "last": len(items) - 1}

        def work() -> None:
            while True:
                with lock:
                    index = state["next"]
                    if index > state["last"]:
                        return
                    state["next"] = index + 1
                outcome = outcomes[index]
                try:
                    outcome.value = fn(items[index])
                    decided = stop(outcome.value)
                except BaseException as error:  # handed to the caller's thread below
                    outcome.error, decided = error, True
                outcome.done = True
                if decided:
                    with lock:
                        state["last"] = min(state["last"], index)

        threads = [
            threading.Thread(target=work, daemon=True, name=f"claimcheck-piece-{n}")
            for n in range(min(self.workers, len(items)))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        results: list[R] = []
        for outcome in outcomes[: state["last"] + 1]:
            if outcome.error is not None:
                raise outcome.error
            assert outcome.done
            results.append(outcome.value)  # type: ignore[arg-type]
            if stop(results[-1]):
                break
        return results

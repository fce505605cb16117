"""Hypothesis-driven scheduling: every choice is drawn from Hypothesis, so it shrinks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:  # imported lazily: `import harness` must not load Hypothesis (and through
    # trio's Hypothesis plugin, pytest)
    from hypothesis import strategies as st

from ._protocol import SchedulerBase

__all__ = ["HypothesisScheduler"]


class HypothesisScheduler(SchedulerBase):
    """Draws each scheduling and data choice from a Hypothesis ``data`` object.

    Hypothesis shrinks integers towards 0, and choice 0 is the lowest-numbered enabled actor, so
    a shrunk schedule runs actors as sequentially as the failure allows: the printed
    counterexample has the fewest context switches Hypothesis could find, together with the
    smallest workload (the state machine draws both from the same ``data``).
    """

    name = "hypothesis"

    def __init__(self, data: st.DataObject) -> None:
        self._data = data

    def next_actor(self, enabled: Sequence[int], pending: Sequence[Any], step: int) -> int:
        from hypothesis import strategies as st

        index = self._data.draw(st.integers(0, len(enabled) - 1), label=f"step {step}")
        return enabled[index]

    def next_int(self, bound: int, ordinary: int = 1) -> int:
        from hypothesis import strategies as st

        return self._data.draw(st.integers(0, bound - 1))

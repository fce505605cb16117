"""The report layer: JSON and self-contained HTML reports of a run, and the progress line.

Depends on ``explore`` (counterexamples and timelines).
"""

from ._report import (
    MAX_BARS,
    MAX_COUNTEREXAMPLES,
    MAX_TRACE_LINES,
    Progress,
    explored_schedules,
    write_report,
)

__all__ = [
    "MAX_BARS",
    "MAX_COUNTEREXAMPLES",
    "MAX_TRACE_LINES",
    "Progress",
    "explored_schedules",
    "write_report",
]

"""The report layer: JSON and self-contained HTML reports of a run.

Layout: ``_report`` (the JSON document and the HTML page), ``assets/`` (the page's CSS and
script, real files inlined into every page).  Depends on ``explore`` (counterexamples and
timelines).
"""

from ._report import MAX_BARS
from ._report import MAX_COUNTEREXAMPLES
from ._report import MAX_TRACE_LINES
from ._report import ReportRow
from ._report import write_report

__all__ = [
    "MAX_BARS",
    "MAX_COUNTEREXAMPLES",
    "MAX_TRACE_LINES",
    "ReportRow",
    "write_report",
]

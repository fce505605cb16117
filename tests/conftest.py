"""Shared test configuration."""

import os

pytest_plugins = ["pytester"]

# The failure database replays saved findings first: tests must not share one through the
# working tree (their verdicts would depend on which test ran before).  Tests of the database
# give it a directory of their own; commands run in subprocesses inherit this.
os.environ["CLAIMCHECK_DATABASE"] = "off"

"""``claimcheck replay``, and the user's coordinator of ``run``/``replay`` (``--coordinator``)."""

from __future__ import annotations

import argparse
from typing import Any
from typing import TextIO

from .._exit import ExitCode

__all__ = ["cmd_replay", "default_budget", "user_coordinator"]


def default_budget(strategy: str, coordinator: Any) -> int | None:
    """Schedules per exploration without ``--budget``: exhaustive runs to the end, except on
    a user's coordinator, whose asyncio steps are dependent on everything (it stops after the
    main job's cap and says so: "first N schedules")."""
    from ..explore import EXHAUSTIVE_CAP

    if strategy != "exhaustive":
        return 1000
    return EXHAUSTIVE_CAP if coordinator is not None else None


def user_coordinator(spec: str | None) -> Any:
    from ..explore import load_coordinator

    return None if spec is None else load_coordinator(spec, try_it=True)


def cmd_replay(args: argparse.Namespace, out: TextIO) -> int:
    import attrs

    from ..conformance import DEFAULT_TIMEOUT
    from ..conformance import load_factory
    from ..conformance import probe_factory
    from ..explore import replay

    factory = None
    if args.factory:
        make = load_factory(args.factory)
        # The same first call as conformance makes: a factory that exits, hangs or returns no
        # store is bad input (exit 2), before anything is replayed.
        probe_factory(make, label=args.factory, timeout=DEFAULT_TIMEOUT)
        factory = lambda wrap: wrap(make())  # noqa: E731
    from ..runtime.schedulers import ScheduleDiverged

    try:
        counterexample = replay(
            args.token, factory=factory, coordinator=user_coordinator(args.coordinator)
        )
    except ScheduleDiverged as error:
        if args.coordinator:
            raise
        # The token does not say which coordinator ran: the likeliest cause, named.
        raise ScheduleDiverged(
            f"{error}; if it was found on your own coordinator, pass the same "
            "--coordinator MODULE:FACTORY"
        ) from None
    if counterexample is None:
        print(f"replayed {args.token}: no violation", file=out)
        return ExitCode.OK
    if args.factory:
        # The printed reproducer must name the factory too, or pasting it replays nothing.
        counterexample = attrs.evolve(counterexample, factory_spec=args.factory)
    print(counterexample.render(), file=out)
    return ExitCode.FINDING

"""The ``claimcheck`` command.

Exit codes: 0 all as expected; 1 a finding (a correct store failed, a control was not caught,
or a focused run found a violation); 2 bad usage or input; 3 infrastructure failure (a backend
that cannot start or be reached); 4 undecided (a history check that ran out of time).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Any
from typing import NoReturn
from typing import TextIO
from typing import cast

from .._exit import ExitCode
from ._errors import UsageError
from ._errors import failure
from ._output import Quiet
from ._replay import cmd_replay
from ._replay import default_budget
from ._replay import user_coordinator

if TYPE_CHECKING:
    from ..conformance import ConformanceCheck
    from ..explore import CheckRow

# Each command imports what it needs when it runs (``claimcheck --help`` and ``check-history``
# must start in well under 100 ms; the exploration layers and trio alone take more).

__all__ = ["EXIT_FINDING", "EXIT_INFRA", "EXIT_OK", "EXIT_UNDECIDED", "EXIT_USAGE", "main"]

# The one table (``harness._exit``), under the short names this module has always used.
EXIT_OK = ExitCode.OK
EXIT_FINDING = ExitCode.FINDING
EXIT_USAGE = ExitCode.USAGE
EXIT_INFRA = ExitCode.INFRA
EXIT_UNDECIDED = ExitCode.UNDECIDED


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, not a usage dump: say what is wrong and where to look.
        self.exit(EXIT_USAGE, f"claimcheck: error: {message} (see `{self.prog} --help`)\n")


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a whole number; pass e.g. 42 or 0x2a"
        ) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be more than 0 seconds")
    return value


def _positive(text: str) -> int:
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be at least 1")
    return value


def _natural(text: str) -> int:
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more")
    return value


def _run_arguments(run: argparse.ArgumentParser) -> None:
    from ..backends import backend_names
    from ..explore import STRATEGIES
    from ..explore import scenario_names

    run.add_argument("--store", action="append", help=f"one of {', '.join(backend_names())}")
    run.add_argument("--scenario", action="append", help=f"one of {', '.join(scenario_names())}")
    run.add_argument("--scheduler", action="append", help=f"one of {', '.join(STRATEGIES)}")
    run.add_argument("--budget", type=_positive, help="schedules per exploration (default 1000)")
    run.add_argument("--seed", type=_int, help="base seed (default 0, or $HARNESS_SEED)")
    run.add_argument("--size", type=_positive, help="actors in the scenario (default: its own)")
    run.add_argument(
        "--fault-budget",
        type=_natural,
        help="exhaustive: faults per schedule to enumerate on a fault backend (default 1)",
    )
    run.add_argument(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where the main job writes main-job.json and main-job.html (default reports/)",
    )
    run.add_argument(
        "--check-determinism",
        action="store_true",
        help="run every schedule twice and fail on the first divergent step",
    )
    run.add_argument(
        "--shard",
        metavar="K/N",
        help="explore part K of N disjoint parts of each exploration (run N of them, anywhere)",
    )
    run.add_argument(
        "--no-shrink",
        action="store_true",
        help="print findings as first found, not shrunk",
    )
    run.add_argument(
        "--coordinator",
        metavar="MODULE:FACTORY",
        help="check your own coordinator (FACTORY(store, clock) -> coordinator) instead of "
        "fleet.Coordinator; default store: memory",
    )
    run.add_argument(
        "--no-database",
        action="store_true",
        help="do not replay or save failures (.claimcheck/failures, or $CLAIMCHECK_DATABASE)",
    )


#: The commands, for finding which one a command line runs before building its parser.
_COMMANDS = ("run", "replay", "conformance", "check-history", "gen-history", "scenarios", "stores")


def _command(argv: Sequence[str]) -> str | None:
    """The command ``argv`` runs: its first word that names one (no top-level flag takes a value)."""
    return next((word for word in argv if word in _COMMANDS), None)


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s own arguments are built (their help imports its layers)."""
    parser = _Parser(
        prog="claimcheck",
        description="Property-based concurrency verification of claim/lease coordinators.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    run = sub.add_parser(
        "run",
        help="the main job, or a focused exploration when a store/scenario/scheduler is given",
        description="With no selection: every check on every default store (correct stores must "
        "pass, controls must be caught). With --store/--scenario/--scheduler: explore those and "
        "exit 1 on the first violation, after printing its reproducer.",
    )
    if command == "run":
        _run_arguments(run)

    rep = sub.add_parser("replay", help="replay a schedule token printed by a finding")
    rep.add_argument("token")
    rep.add_argument(
        "--factory", metavar="MODULE:FACTORY", help="the store factory (conformance findings)"
    )
    rep.add_argument(
        "--coordinator", metavar="MODULE:FACTORY", help="the coordinator the token was found on"
    )

    conf = sub.add_parser(
        "conformance",
        help="run the store conformance suite on a backend: claimcheck conformance MODULE:FACTORY",
        description="Exit 0 conforms, 1 a finding, 2 the factory cannot be imported or called, "
        "3 the backend's infrastructure failed.",
    )
    conf.add_argument("factory", metavar="MODULE:FACTORY")
    conf.add_argument("--seed", type=_int, help="base seed (default 0, or $HARNESS_SEED)")
    conf.add_argument("--budget", type=_positive, default=200, help="schedules per check")
    conf.add_argument("--faults", action="store_true", help="also run the fault scenarios")
    conf.add_argument("--timeout", type=_seconds, default=10.0, help="per-operation hang limit (s)")
    conf.add_argument("--report-dir", default="reports", metavar="DIR")

    hist = sub.add_parser(
        "check-history",
        help="check saved histories for linearizability",
        description="Prints one verdict line per file and the total checking time on stdout, "
        "and one line per unreadable file on stderr (naming file and line); a bad file does not "
        "stop the others. Exit 0 all linearizable, 1 any not, 2 any bad input, 4 any undecided.",
    )
    if command == "check-history":
        from ._history import history_arguments

        history_arguments(hist)
    gen = sub.add_parser(
        "gen-history",
        help="write a generated kv history (linearizable by construction, or broken)",
        description="Clients call get/append on a few keys; each call takes effect at a random "
        "instant inside its interval, so the history is linearizable. --broken makes one get "
        "read a value the key held before a write that had already returned (a stale read).",
    )
    if command == "gen-history":
        from ._history import gen_arguments

        gen_arguments(gen)

    sub.add_parser("scenarios", help="list the scenarios shipped with the harness")
    sub.add_parser("stores", help="list the named store backends")
    return parser


#: Names of other layers that tests replace on this module; :func:`_lazy` imports them.
_LAZY = {
    "DEFAULT_STORES": "..explore",
    "DEFAULT_COORDINATORS": "..explore",
    "write_report": "..report",
}


def _lazy(name: str) -> Any:
    """A name of another layer, imported on first use (or as a test replaced it here)."""
    if name not in globals():
        globals()[name] = getattr(importlib.import_module(_LAZY[name], __package__), name)
    return globals()[name]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return _lazy(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _seed(given: int | None) -> int:
    if given is not None:
        return given
    env = os.environ.get("HARNESS_SEED")
    if env is None:
        return 0
    try:
        return int(env, 0)
    except ValueError:
        raise UsageError(
            f"HARNESS_SEED={env!r} is not a whole number; unset it or set e.g. HARNESS_SEED=42"
        ) from None


def _check_report_dir(path: str) -> None:
    """Fail fast (exit 2) on a report directory that cannot be written, before any work."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".claimcheck-write-test-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise UsageError(
            f"--report-dir {path!r} is not a writable directory ({reason}); pass a directory "
            "you can write to."
        ) from None


def _write_report_after_verdict(out: TextIO, rows: Sequence[Any], **report: Any) -> None:
    """Write the report; the verdict is already printed, so a failure here only warns."""
    write_report = _lazy("write_report")

    try:
        json_path, html_path = write_report(rows, **report)
    except OSError as error:
        print(f"claimcheck: warning: the report could not be written: {error}", file=sys.stderr)
        return
    print(f"report: {html_path} (data: {json_path})", file=out)


def _run_main_job(args: argparse.Namespace, out: TextIO, seed: int) -> int:
    """``claimcheck run`` with no focus: every check on every default store, and the table."""
    import datetime
    import shutil

    DEFAULT_STORES = _lazy("DEFAULT_STORES")
    coordinators = _lazy("DEFAULT_COORDINATORS")
    from ..explore import main_job
    from ..explore import planned_checks
    from ..explore import render_table
    from ._progress import Progress

    _check_report_dir(args.report_dir)
    started = time.perf_counter()
    when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    print(
        f"claimcheck main job: stores {', '.join(DEFAULT_STORES)}; coordinators "
        f"{', '.join(spec for _, spec, _ in coordinators)} on memory; seed {seed}",
        file=out,
    )
    counts = {"done": 0, "schedules": 0, "findings": 0}
    with Progress(sys.stderr, planned_checks(DEFAULT_STORES, coordinators)) as progress:

        def on_row(row: CheckRow) -> None:
            counts["done"] += 1
            counts["schedules"] += row.schedules or 0
            counts["findings"] += not row.as_expected
            progress.update(
                checks_done=counts["done"],
                schedules=counts["schedules"],
                findings=counts["findings"],
            )

        rows = main_job(DEFAULT_STORES, seed=seed, on_row=on_row, coordinators=coordinators)
    width = shutil.get_terminal_size((110, 20)).columns
    print(render_table(rows, width=max(width, 100)), file=out)
    bad = [r for r in rows if not r.as_expected]
    example = next((r.counterexample for r in rows if r.counterexample and r.control), None)
    if example is not None:
        print("\nexample counterexample (the control's, as a finding would print it):", file=out)
        print(example.render(), file=out)
    for row in bad:
        print(f"\nUNEXPECTED: {row.store} / {row.check}: {row.verdict}", file=out)
        if row.counterexample is not None:
            print(row.counterexample.render(), file=out)
    took = time.perf_counter() - started
    passed = sum(r.as_expected for r in rows)
    # The verdict first: nothing that happens to the report can lose it.
    print(
        f"\n{passed}/{len(rows)} checks as expected in {took:.1f}s: "
        + ("correct stores pass, controls caught." if not bad else f"{len(bad)} unexpected."),
        file=out,
    )
    _write_report_after_verdict(
        out,
        rows,
        name="main-job",
        directory=args.report_dir,
        title=f"claimcheck main job (seed {seed})",
        meta={
            "command": "claimcheck run",
            "seed": seed,
            "started": when,
            "elapsed": round(took, 2),
            "stores": list(DEFAULT_STORES),
            "coordinators": [spec for _, spec, _ in coordinators],
        },
    )
    return EXIT_FINDING if bad else EXIT_OK


def _cmd_run(args: argparse.Namespace, out: TextIO) -> int:

    from ..backends import get_backend

    DEFAULT_STORES = _lazy("DEFAULT_STORES")
    from ..explore import STRATEGIES
    from ..explore import UnknownStrategy
    from ..explore import explore
    from ..explore import get_scenario
    from ..explore import scenario_names

    seed = _seed(args.seed)
    focused = (
        args.store or args.scenario or args.scheduler or args.budget or args.size or args.shard
    ) or (args.fault_budget is not None or args.coordinator)
    if not focused and not args.check_determinism:
        return _run_main_job(args, out, seed)
    coordinator = user_coordinator(args.coordinator)  # before any store is opened
    stores = args.store or (["memory"] if coordinator else list(DEFAULT_STORES))
    scenarios = args.scenario or scenario_names()
    strategies = args.scheduler or list(STRATEGIES)
    for name in stores:
        get_backend(name)
    for name in scenarios:
        scenario = get_scenario(name)
        if args.size is not None and not scenario.min_size <= args.size <= scenario.max_size:
            raise UsageError(
                f"--size {args.size} is out of range for scenario {name!r} "
                f"({scenario.min_size} to {scenario.max_size})"
            )
    for name in strategies:
        if name not in STRATEGIES:
            raise UnknownStrategy(
                f"unknown scheduler {name!r}; choose one of: {', '.join(STRATEGIES)}."
            )
    from ..explore import default_database
    from ..runtime import Shard

    shard = Shard.parse(args.shard) if args.shard else None
    database = None if args.no_database else default_database()
    found = False
    for store in stores:
        with get_backend(store).open() as factory:
            for scenario_name in scenarios:
                for strategy in strategies:
                    budget = args.budget or default_budget(strategy, coordinator)
                    result = explore(
                        scenario_name,
                        store,
                        strategy,
                        seed=seed,
                        budget=budget,
                        size=args.size,
                        factory=factory,
                        check_determinism=args.check_determinism,
                        fault_budget=args.fault_budget,
                        shard=shard,
                        shrink=not args.no_shrink,
                        database=database,
                        coordinator=coordinator,
                    )
                    head = f"{store} {scenario_name} {strategy}:"
                    if shard is not None:
                        head = f"{store} {scenario_name} {strategy} (part {args.shard}):"
                    if result.counterexample is not None:
                        found = True
                        print(f"{head} FINDING at schedule #{result.schedules}", file=out)
                        print(result.counterexample.render(), file=out)
                    else:
                        bound = f", {result.bound}" if result.bound else ""
                        extra = f" (complete{bound})" if result.complete else ""
                        print(f"{head} {result.schedules} schedules{extra}, no violation", file=out)
    return EXIT_FINDING if found else EXIT_OK


def _cmd_conformance(args: argparse.Namespace, out: TextIO) -> int:
    from ..conformance import factory_name
    from ..conformance import load_factory
    from ..conformance import run_store_conformance
    from ..explore import CheckRow
    from ..report import write_report

    # A bad factory (FactoryError, exit 2) is found before any check runs, by the import here
    # and by run_store_conformance's first call of the factory: then stdout stays empty and
    # main() prints one line on stderr.
    make = load_factory(args.factory)
    # From module and factory alike: every mypkg:make_store writing one report would not do.
    name = factory_name(args.factory)
    header = [f"conformance of {args.factory} (seed {_seed(args.seed)}):"]

    def show(check: ConformanceCheck) -> None:
        while header:
            print(header.pop(), file=out)
        verdict = "pass" if check.passed else ("INFRA" if check.infrastructure else "FAIL")
        print(f"  {check.name:<23} {verdict:<5} {check.seconds:6.2f}s  {check.evidence}", file=out)

    result = run_store_conformance(
        make,
        name=name,
        factory_spec=args.factory,
        seed=_seed(args.seed),
        budget=args.budget,
        faults=args.faults,
        timeout=args.timeout,
        raise_on_failure=False,
        on_check=show,
    )
    for check in result.failures:
        # A schedule's counterexample, or the commands and program that show the failure again.
        if check.counterexample is not None or check.reproducer:
            print("", file=out)
            print(check.render_reproducer(), file=out)
    rows = [
        CheckRow(
            store=name,
            control=False,
            check=c.name,
            failed=not c.passed,
            evidence=c.evidence,
            counterexample=c.counterexample,
            schedules=c.schedules,
            reproducer=c.reproducer,
        )
        for c in result.checks
    ]
    json_path, html_path = write_report(
        rows,
        name=f"conformance-{name}",
        directory=args.report_dir,
        title=f"claimcheck conformance of {args.factory}",
        meta={"command": f"claimcheck conformance {args.factory}", "seed": _seed(args.seed)},
    )
    print(f"report: {html_path} (data: {json_path})", file=out)
    if result.conforms:
        made = f"the factory made {result.stores_made} stores, {result.stores_released} closed"
        print(f"{args.factory} conforms ({len(result.checks)} checks; {made}).", file=out)
        return EXIT_OK
    print(f"{args.factory} does NOT conform: {len(result.failures)} check(s) failed.", file=out)
    if result.infrastructure_failed and all(c.infrastructure for c in result.failures):
        return EXIT_INFRA
    return EXIT_FINDING


def _cmd_scenarios(out: TextIO) -> int:
    from ..explore import get_scenario
    from ..explore import scenario_names

    for name in scenario_names():
        s = get_scenario(name)
        print(
            f"{name:<22} size {s.default_size} ({s.min_size}-{s.max_size})  {s.description}",
            file=out,
        )
    return EXIT_OK


def _cmd_stores(out: TextIO) -> int:
    from ..backends import backend_names
    from ..backends import get_backend

    for name in backend_names():
        b = get_backend(name)
        kind = "control (must fail)" if b.control else "correct"
        print(f"{name:<14} {kind:<20} {b.description}", file=out)
    return EXIT_OK


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    quiet = Quiet(out or sys.stdout)
    out = cast(TextIO, quiet)
    words = sys.argv[1:] if argv is None else argv
    args = _parser(_command(words)).parse_args(words)
    if args.command in ("run", "replay", "conformance"):
        import logging

        # The Cosmos SDK logs endpoint-health warnings on its own; findings are what we print.
        logging.getLogger("azure").setLevel(logging.ERROR)
    try:
        if args.command == "run":
            return _cmd_run(args, out)
        if args.command == "replay":
            return cmd_replay(args, out)
        if args.command == "conformance":
            return _cmd_conformance(args, out)
        if args.command == "check-history":
            from ..check import check_history_files

            return check_history_files(
                args.files,
                args.format,
                args.model,
                args.timeout,
                out,
                err=sys.stderr,
                explain=args.explain,
                initial=args.initial,
                jobs=args.jobs,
            )
        if args.command == "gen-history":
            from ._history import cmd_gen_history

            return cmd_gen_history(args, out)
        if args.command == "scenarios":
            return _cmd_scenarios(out)
        return _cmd_stores(out)
    except BrokenPipeError:
        # Before the OSError handler, which would call this an infrastructure failure.  Only
        # a write to stderr gets here (stdout is a Quiet writer): nothing left to say.
        return EXIT_INFRA
    except KeyboardInterrupt:
        print("claimcheck: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as error:
        return failure(error)


if __name__ == "__main__":
    raise SystemExit(main())

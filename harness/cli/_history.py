"""``claimcheck check-history`` and ``gen-history``: their arguments, and gen-history itself.

Imported only when one of them runs (``claimcheck --help`` stays fast); the check itself is
:func:`harness.check.check_history_files`.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from .._exit import ExitCode
from ._main import _int
from ._main import _positive
from ._main import _seconds

__all__ = ["cmd_gen_history", "gen_arguments", "history_arguments"]


def history_arguments(hist: argparse.ArgumentParser) -> None:
    from ..check import HISTORY_FORMATS
    from ..check import HISTORY_MODELS

    hist.add_argument("files", nargs="+", metavar="FILE")
    hist.add_argument(
        "--format",
        choices=list(HISTORY_FORMATS),
        default="jsonl",
        help="jsonl (claimcheck's), jepsen-edn (Jepsen/Knossos EDN; model cas-register unless "
        "--model says), porcupine-etcd, porcupine-kv",
    )
    hist.add_argument(
        "--model",
        choices=list(HISTORY_MODELS),
        default=None,
        help="default: the JSON Lines header's, or the format's",
    )
    hist.add_argument(
        "--initial",
        metavar="JSON",
        help="the model's initial state, e.g. 0 or '{\"x\": 0, \"y\": 0}' (overrides a header's)",
    )
    hist.add_argument("--timeout", type=_seconds, default=None, help="seconds per file")
    hist.add_argument("--explain", action="store_true", help="print each violation in full")
    hist.add_argument(
        "--jobs",
        type=_positive,
        default=1,
        help="processes checking a history's partitions in parallel (default 1)",
    )


def gen_arguments(gen: argparse.ArgumentParser) -> None:
    from ..check import GENERATED_FORMATS

    gen.add_argument("output", metavar="FILE")
    gen.add_argument("--ops", type=_positive, default=1000, help="operations (default 1000)")
    gen.add_argument("--clients", type=_positive, default=10, help="concurrent clients (10)")
    gen.add_argument("--keys", type=_positive, default=10, help="keys (default 10)")
    gen.add_argument("--seed", type=_int, default=0, help="random seed (default 0)")
    gen.add_argument("--broken", action="store_true", help="make it not linearizable")
    gen.add_argument("--format", choices=list(GENERATED_FORMATS), default="jsonl")


def cmd_gen_history(args: argparse.Namespace, out: TextIO) -> int:
    from ..check import generate_kv_history
    from ..check import write_generated

    ops = generate_kv_history(
        ops=args.ops, clients=args.clients, keys=args.keys, seed=args.seed, broken=args.broken
    )
    write_generated(args.output, ops, args.format)
    kind = "broken (a stale read)" if args.broken else "linearizable by construction"
    print(
        f"{args.output}: {len(ops)} kv operations, {args.clients} clients, {args.keys} keys, "
        f"seed {args.seed}, {kind}",
        file=out,
    )
    return ExitCode.OK

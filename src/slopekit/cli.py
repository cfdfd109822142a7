"""The ``slopekit`` command: ``main(argv) -> int`` for tests, ``entrypoint()`` for the console script."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

LECTURE_POINTS = (-10.0, 0.0, 10.0)


LECTURE_ORDER = ("sigmoid", "tanh", "relu", "leaky_relu")
G_PRIME = "g'(z)"


class UsageError(Exception):
    """A mistake on the command line: reported in one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit status 2), not the usage block."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _activations(specs: Sequence[str] | None) -> list:
    from . import activations

    if not specs:
        rest = sorted(set(activations.names()) - set(LECTURE_ORDER))
        return [activations.get(name) for name in (*LECTURE_ORDER, *rest)]
    try:
        return [activations.parse(spec) for spec in specs]
    except (ValueError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def _number(x: float) -> str:
    return f"{x:11.4e}" if x != 0 and (abs(x) < 1e-3 or abs(x) >= 1e4) else f"{x:11.6f}"


def lecture_table(activations: Sequence) -> str:
    """The lecture's values of g, g' from z and g' from the cached a, at z = -10, 0, 10."""
    lines = [
        "The lecture's values: g(z), its slope g'(z) from z, and the same slope from the cached a = g(z)",
        "",
        f"{'activation':<38} {'z':>5} {'g(z)':>11} {G_PRIME:>11} {'from a':>11}",
    ]
    for g in activations:
        for z in LECTURE_POINTS:
            a = float(g(z))
            from_a = _number(float(g.derivative_from_output(a))) if g.has_derivative_from_output else f"{'-':>11}"
            lines.append(f"{g!r:<38} {z:>5g} {_number(a)} {_number(float(g.derivative(z)))} {from_a}")
    return "\n".join(lines)


def slope_table(activations: Sequence) -> tuple[str, bool]:
    """Analytic against numerical slopes, per dtype; and whether all passed."""
    import numpy as np

    from .numerical import check_slopes

    by_dtype = {dt: check_slopes(activations, dtype=dt) for dt in (np.float32, np.float64)}
    lines = [
        'Analytic slopes against the numerical "height over width of a small triangle",',
        "on 2001 points of [-10, 10] away from the kinks (worst gap / tolerance):",
        "",
        f"{'activation':<38} {'float32':>21} {'float64':>21}  status",
    ]
    ok = True
    for row in zip(*by_dtype.values()):
        passed = all(r.passed for r in row)
        ok &= passed
        cells = " ".join(f"{r.worst_gap:9.2e} / {r.tolerance:8.1e}  " for r in row)
        lines.append(f"{row[0].activation!r:<38} {cells}{'ok' if passed else 'FAIL'}")
    return "\n".join(lines), ok


def _check(args: argparse.Namespace) -> int:
    chosen = _activations(args.activation)
    print(lecture_table(chosen))
    print()
    table, ok = slope_table(chosen)
    print(table)
    print()
    print("all slopes agree" if ok else "some slopes disagree with their numerical estimate")
    return 0 if ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The command line's parser."""
    parser = _Parser(
        prog="slopekit",
        description="Activation functions and their slopes, after the lecture on their derivatives.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    check = sub.add_parser(
        "check",
        help="print the lecture's table and check every slope against its numerical estimate",
        description="Print g, g' from z and g' from a at z = -10, 0, 10, and compare each analytic slope "
        "with the numerical one. Exit status 1 if any slope disagrees.",
    )
    check.add_argument(
        "--activation", "-a", action="append", metavar="NAME[:PARAM=VALUE,...]",
        help="an activation to check, e.g. relu:at_zero=1 or leaky_relu:slope=0.001 (repeatable; default: all)",
    )
    check.set_defaults(run=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its one-line error or the help
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as exc:
        print(f"slopekit {args.command}: error: {exc}", file=sys.stderr)
        return 2


def entrypoint() -> None:
    """The console script ``slopekit``."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (``slopekit check | head``): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    sys.exit(status)

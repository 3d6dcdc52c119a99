"""``python -m bench methods``: time to a 1% gap and to the optimum, per method, on public instances.

    python -m bench methods [--methods highs,cpsat,lagrangian] [--only pmed1,scp] [--time-limit 30]

Each (instance, method) is solved twice through `optimizer.solve_tables` (as in
``bench correctness``): with ``mip_gap`` 0.01, then with ``mip_gap`` 0.

- *to 1% s*: wall seconds of the 0.01 run when it stopped with a proven gap <= 1% (status
  ``optimal`` at that gap), else "—";
- *to opt s*: wall seconds of the 0 run when it ended ``optimal`` with the known value, else "—";
- *end*: the 0 run's objective (the checker's figure), status, and proven gap to its bound.

A run of the 0.01 pass that ends without any plan is not repeated at gap 0 (a tighter gap
cannot find a plan the looser one did not in the same time; the row says so). The
``lagrangian`` backend has no branch and bound: it is ``optimal`` only when its Lagrangian bound
meets its plan, so its *end gap* is the figure to read; it gives no plan for models with
assignment variables (p-median, UFLP, CFLP), only a bound.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from bench.cases import cflp_cases, pmed_cases, scp_cases, sjc_cases, uflp_cases
from bench.correctness import Row, run_case
from bench.instances import Case

METHODS = "highs,cpsat,lagrangian"
ONE_PERCENT = 0.01


def default_cases() -> list[Case]:
    """pmed1-10, cap71-74 (UFLP and CFLP), every SCP, SJC LSCP at both radii and SJC MCLP at p=4."""
    sjc = [c for c in sjc_cases() if c.family == "LSCP" or c.name.endswith(" p=4")]
    caps = ("cap71", "cap72", "cap73", "cap74")
    return pmed_cases(tuple(range(1, 11))) + uflp_cases(caps) + cflp_cases(caps) + scp_cases() + sjc


@dataclass(frozen=True)
class Pair:
    """The two runs of one (instance, method)."""

    loose: Row
    exact: Row | None
    load1: float

    @property
    def end(self) -> Row:
        """The gap-0 run, or the 1% run where the gap-0 run was skipped."""
        return self.exact if self.exact is not None else self.loose


def run_pair(case: Case, method: str, time_limit_s: float) -> Pair:
    """The 1% run, then (if it found a plan) the gap-0 run."""
    load1 = os.getloadavg()[0]
    loose = run_case(case, method, time_limit_s, mip_gap=ONE_PERCENT)
    exact = run_case(case, method, time_limit_s, mip_gap=0.0) if loose.ours is not None else None
    return Pair(loose, exact, load1)


def _gap_text(row: Row) -> str:
    if row.ours is None:
        return "—"
    if row.status == "optimal":
        return "0" if row.gap is None else f"{100 * row.gap:.2f}%"
    return "—" if row.gap is None else f"{100 * row.gap:.2f}%"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3f}"


def table(pairs: list[Pair]) -> str:
    """Markdown: one line per (instance, method)."""
    lines = ["| family | instance | known | method | to 1% s | to opt s | end objective | end status | end gap "
             "| load |", "|---|---|---:|---|---:|---:|---:|---|---:|---:|"]
    for p in pairs:
        lo, end = p.loose, p.end
        to1 = f"{lo.seconds:.2f}" if lo.ours is not None and lo.status == "optimal" else "—"
        toopt = f"{end.seconds:.2f}" if p.exact is not None and p.exact.proven_match else "—"
        status = end.status if p.exact is not None else f"{end.status} (1% run; gap-0 run skipped)"
        if end.note:
            status += f": {end.note}"
        objective = _num(end.ours) + ("" if end.ours is None or end.match else " ≠")
        lines.append(f"| {end.family} | {end.instance} | {_num(end.known)} | {end.backend} | {to1} | {toopt} | "
                     f"{objective} | {status} | {_gap_text(end)} | {p.load1:.1f} |")
    return "\n".join(lines)


def summary(pairs: list[Pair]) -> str:
    """Per method: how many reached 1% and the optimum, and their seconds."""
    parts = []
    for method in dict.fromkeys(p.loose.backend for p in pairs):
        mine = [p for p in pairs if p.loose.backend == method]
        one = [p for p in mine if p.loose.ours is not None and p.loose.status == "optimal"]
        opt = [p for p in mine if p.exact is not None and p.exact.proven_match]
        parts.append(f"{method}: ≤1% {len(one)}/{len(mine)} ({sum(p.loose.seconds for p in one):.0f} s), "
                     f"optimal {len(opt)}/{len(mine)} ({sum(p.end.seconds for p in opt):.0f} s)")
    total = sum(p.loose.seconds + (p.exact.seconds if p.exact else 0.0) for p in pairs)
    return "; ".join(parts) + f" — {total:.0f} s of runs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``python -m bench methods``."""
    parser.add_argument("--methods", default=METHODS, help="comma-separated backends")
    parser.add_argument("--time-limit", type=float, default=30.0, help="seconds per run (default 30)")
    parser.add_argument("--only", default="",
                        help="comma-separated substrings of 'family instance' (default: pmed1-10, cap71-74, "
                             "SCP, SJC LSCP, SJC MCLP p=4)")
    parser.add_argument("--out", default="", help="also write the markdown table to this file")


def run_methods(args: argparse.Namespace) -> int:
    """Every case x method; the table is printed at the end (and re-written to --out after each)."""
    from pathlib import Path

    from bench.cases import full_cases

    cases = default_cases()
    if args.only:
        words = args.only.split(",")
        cases = [c for c in full_cases() if any(w in f"{c.family} {c.name}" for w in words)]
    pairs: list[Pair] = []
    for case in cases:
        for method in args.methods.split(","):
            pairs.append(run_pair(case, method, args.time_limit))
            p = pairs[-1]
            print(f"{case.family:9} {case.name:22} {method:10} 1%: {p.loose.seconds:6.2f} s {p.loose.status:22} "
                  f"end: {p.end.seconds:6.2f} s {p.end.status:22} {_num(p.end.ours):>12} gap {_gap_text(p.end)}"
                  f"  load {p.load1:.1f}", flush=True)
            if args.out:
                Path(args.out).write_text(table(pairs) + "\n\n" + summary(pairs) + "\n", encoding="utf-8")
    print(table(pairs) + "\n\n" + summary(pairs))
    return 0

"""``python -m bench correctness|methods|scale|phased|pmedian|pcenter``: public benchmarks, time per
method, the comparison with spopt, phased plans and beds at scale, p-median and p-center."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench import methods, pcenter, phased, pmedian, scale
from bench.cases import full_cases, quick_cases
from bench.correctness import run_case, summary, table

# The commands besides `correctness`: name, help, and the module with `add_arguments` and its run function.
_COMMANDS = (
    ("methods", "time to a 1%% gap and to the optimum per backend on public instances", methods, methods.run_methods),
    ("scale", "synthetic cities: our backends against PySAL spopt", scale, scale.run_scale),
    ("phased", "synthetic city over three years, and with beds, against one year", phased, phased.run_phased),
    ("pmedian", "the p-median engine on pmed1-40 and a synthetic city (own processes)", pmedian, pmedian.run_pmedian),
    ("pcenter", "least radius on Swain 55 and SJC324 against an exact reference", pcenter, pcenter.run_pcenter),
)


def _correctness(args: argparse.Namespace) -> int:
    cases = quick_cases() if args.quick else full_cases()
    if args.only:
        cases = [c for c in cases if any(word in f"{c.family} {c.name}" for word in args.only.split(","))]
    rows = []
    for case in cases:
        rows.append(run_case(case, args.backend, args.time_limit, args.mip_gap))
        r = rows[-1]
        print(f"{r.family:9} {r.instance:22} known {r.known:>16,.3f}  ours {r.ours if r.ours is not None else '—':>16}"
              f"  {'match' if r.match else 'MISMATCH'}  {r.seconds:7.2f} s  {r.status} {r.note}", flush=True)
    text = table(rows) + "\n\n" + summary(rows) + "\n"
    print(text)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    return 0 if all(r.proven_match for r in rows) else 1


def main(argv: list[str] | None = None) -> int:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    corr = sub.add_parser("correctness", help="solve public instances and compare with known optima")
    corr.add_argument("--quick", action="store_true", help="pmed1-5, cap71-74, scp41, Swain, SJC324")
    corr.add_argument("--backend", default="highs", help="highs | cpsat | lagrangian | pulp:CBC")
    corr.add_argument("--time-limit", type=float, default=None,
                      help="seconds per instance (default: 60, 120 for pmed26-40 and capa/b/c)")
    corr.add_argument("--mip-gap", type=float, default=None, help="relative gap (default 0)")
    corr.add_argument("--only", default="", help="comma-separated substrings of 'family instance' to run")
    corr.add_argument("--out", default="", help="also write the markdown table to this file")
    corr.set_defaults(run=_correctness)
    for name, help_text, module, run in _COMMANDS:
        command = sub.add_parser(name, help=help_text)
        module.add_arguments(command)
        command.set_defaults(run=run)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())

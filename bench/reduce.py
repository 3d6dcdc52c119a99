"""What the exact reductions (optimizer.model.reduce) remove on a synthetic city, and how long they take.

    python -m bench.synthetic --units 20000 --sites 3000 --out /tmp/city20k_red
    python -m bench.reduce /tmp/city20k_red/scenario.json [--lscp-radius 1500] [--solve]

Two models of the same city: the four-type plan of `bench.synthetic`, and a pure location set
covering problem (one type, every unit covered, no co-location or counts). Per type: the model's
size, what each reduction removed (and the share), and the seconds. With ``--solve`` both models
are also solved with and without reductions (objective and seconds).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from optimizer.model.reduce import reduce_model
from optimizer.plan import Prepared, prepare, solve_prepared
from optimizer.scenario.format import Scenario, load_scenario


def lscp(scenario: Scenario, radius_m: float) -> Scenario:
    """The city as a pure LSCP: stations within `radius_m` of every unit, least cost."""
    station = scenario.facility_types["station"].model_copy(
        update={"radius_m": radius_m, "serves": None, "colocate": {}, "capacity": None})
    doc = scenario.model_dump(mode="json")
    doc["facility_types"] = {"station": station.model_dump(mode="json")}
    doc["targets"] = [{"kind": "coverage", "facility": "station", "min_share": 1.0}]
    doc["sites"]["cost"] = {"station": doc["sites"]["cost"]["station"]}
    doc["sites"]["existing"] = doc["sites"]["allowed"] = None   # every site, none open yet
    return Scenario.model_validate(doc)


def measure(name: str, prep: Prepared) -> dict[str, Any]:
    """Run `reduce_model` on the unreduced model of `prep`; print and return its figures."""
    began = time.perf_counter()
    _, red = reduce_model(prep.model, prep.scenario, prep.region, prep.reach)
    seconds = time.perf_counter() - began
    print(f"\n{name}: {prep.model.milp.n_vars:,} variables x {prep.model.milp.n_rows:,} rows, "
          f"reduced in {seconds:.2f} s ({red.passes} passes)")
    print(f"{'type':<16}{'x vars':>9}{'merged':>16}{'C3a rows':>10}{'dropped':>16}{'satisfied':>12}"
          f"{'y vars':>8}{'closed':>15}{'forced':>8}")
    for t, size in red.sizes.items():
        print(f"{t:<16}{size['coverage_vars']:>9,}{_share(red.units_merged[t], size['coverage_vars']):>16}"
              f"{size['cover_rows']:>10,}{_share(red.rows_dropped[t], size['cover_rows']):>16}"
              f"{red.rows_satisfied[t]:>12,}{size['open_vars']:>8,}"
              f"{_share(red.sites_dropped[t], size['open_vars']):>15}{red.sites_forced[t]:>8,}")
    for note in red.notes:
        print(f"  note: {note}")
    return red.as_dict() | {"seconds": seconds}


def _share(n: int, total: int) -> str:
    return f"{n:,} ({100 * n / max(total, 1):.1f}%)"


def solve_both(name: str, scenario: Scenario, base: Path) -> None:
    """Solve with and without reductions; print status, objective and seconds."""
    for reduce in (False, True):
        began = time.perf_counter()
        result = solve_prepared(prepare(scenario, base, reduce=reduce))
        cost = result.checked.cost["total"] if result.checked is not None else float("nan")
        phase = result.solution.phase("cost")
        bound = phase.result.bound if phase is not None and phase.result.bound is not None else float("nan")
        solver = sum(p.result.seconds for p in result.solution.phases)
        print(f"  {name} reduce={reduce}: {result.status}, cost {cost:,.0f}, bound {bound:,.0f} "
              f"(gap {abs(cost - bound) / max(abs(cost), 1e-9):.2%}), solver {solver:.1f} s, "
              f"total {time.perf_counter() - began:.1f} s")


def main() -> None:
    """CLI: measure both models of one synthetic city."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", type=Path)
    parser.add_argument("--lscp-radius", type=float, default=1500.0)
    parser.add_argument("--solve", action="store_true", help="also solve with and without reductions")
    args = parser.parse_args()
    scenario, base = load_scenario(args.scenario)
    covering = lscp(scenario, args.lscp_radius)
    for name, sc in (("four-type plan", scenario), (f"LSCP {args.lscp_radius:.0f} m", covering)):
        began = time.perf_counter()
        prep = prepare(sc, base, reduce=False)
        print(f"\n[{name}] prepared (region, reach, model) in {time.perf_counter() - began:.1f} s")
        measure(name, prep)
        if args.solve:
            solve_both(name, sc, base)


if __name__ == "__main__":
    main()

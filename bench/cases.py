"""The benchmark case lists: every instance with its known optimum, and the quick subset.

Files are read lazily (inside each case's `build`), so listing the cases costs nothing.
"""

from __future__ import annotations

from functools import partial

from bench import coverdata, instances
from bench.coverdata import SJC_LSCP, SJC_MCLP, SWAIN_LSCP, SWAIN_MCLP
from bench.instances import Case, Tables
from bench.orlib import (
    SCP_OPTIMA,
    benchmarks_dir,
    read_cap,
    read_capopt,
    read_pmed,
    read_pmedopt,
    read_scp,
    read_uncapopt,
)

LARGE_S = 120.0
"""Default limit of the large instances (pmed26-40, capa/b/c); the others get 60 s."""

QUICK_PMED = (1, 2, 3, 4, 5)
QUICK_CAP = ("cap71", "cap72", "cap73", "cap74")


def _pmed(name: str, backend: str, limit: float) -> Tables:
    return instances.pmedian_tables(read_pmed(benchmarks_dir() / "orlib_pmed" / f"{name}.txt"), backend, limit)


def _cap(name: str, capacity: float | None, backend: str, limit: float) -> Tables:
    inst = read_cap(benchmarks_dir() / "orlib_cap" / f"{name}.txt")
    return instances.warehouse_tables(inst, capacity, backend, limit)


def _scp(name: str, backend: str, limit: float) -> Tables:
    return instances.setcover_tables(read_scp(benchmarks_dir() / "orlib_scp" / f"{name}.txt"), backend, limit)


def _points(name: str) -> coverdata.Points:
    if name == "swain55":
        return coverdata.read_swain(benchmarks_dir() / "swain55" / "swain.txt")
    return coverdata.read_sjc(benchmarks_dir() / "sjc_lorena", int(name.removeprefix("SJC")))


def _lscp(name: str, radius: float, backend: str, limit: float) -> Tables:
    return instances.lscp_tables(_points(name), radius, backend, limit)


def _mclp(name: str, radius: float, p: int, backend: str, limit: float) -> Tables:
    return instances.mclp_tables(_points(name), radius, p, backend, limit)


def pmed_cases(numbers: tuple[int, ...] = tuple(range(1, 41))) -> list[Case]:
    """OR-Library p-median pmedN with pmedopt's optima."""
    opt = read_pmedopt(benchmarks_dir() / "orlib_pmed" / "pmedopt.txt")
    return [Case("p-median", f"pmed{k}", opt[f"pmed{k}"], "distance", partial(_pmed, f"pmed{k}"),
                 LARGE_S if k > 25 else 60.0) for k in numbers]


def uflp_cases(names: tuple[str, ...] | None = None) -> list[Case]:
    """Uncapacitated warehouse location: the instances of uncapopt.txt."""
    opt = read_uncapopt(benchmarks_dir() / "orlib_cap" / "uncapopt.txt")
    return [Case("UFLP", name, value, "money", partial(_cap, name, None),
                 LARGE_S if name in ("capa", "capb", "capc") else 60.0)
            for name, value in opt.items() if names is None or name in names]


def cflp_cases(names: tuple[str, ...] | None = None) -> list[Case]:
    """Multi-source capacitated warehouse location: capopt.txt, capa/b/c at each capacity."""
    opt = read_capopt(benchmarks_dir() / "orlib_cap" / "capopt.txt")
    cases = []
    for (name, capacity), value in opt.items():
        if names is not None and name not in names:
            continue
        label = name if capacity is None else f"{name}@{capacity:g}"
        # The small files carry their capacities (NaN: keep them); capa/b/c get Beasley's Table 1 value.
        fill = float("nan") if capacity is None else capacity
        cases.append(Case("CFLP", label, value, "money", partial(_cap, name, fill),
                          LARGE_S if capacity is not None else 60.0))
    return cases


def scp_cases(names: tuple[str, ...] = tuple(SCP_OPTIMA)) -> list[Case]:
    """OR-Library weighted set covering with Beasley's optima."""
    return [Case("SCP", name, SCP_OPTIMA[name], "cost", partial(_scp, name)) for name in names]


def swain_cases() -> list[Case]:
    """Swain 55: LSCP for every S of the table, MCLP for every (S, p) of the table."""
    cases = [Case("LSCP", f"swain55 S={s}", float(v), "cost", partial(_lscp, "swain55", float(s)))
             for s, v in SWAIN_LSCP.items()]
    cases += [Case("MCLP", f"swain55 S={s} p={p}", float(v), "coverage", partial(_mclp, "swain55", float(s), p))
              for s, values in SWAIN_MCLP.items() for p, v in enumerate(values, start=1)]
    return cases


def sjc_cases(sizes: tuple[int, ...] = (324, 402, 500, 708, 818)) -> list[Case]:
    """SJC (Lorena): LSCP and MCLP at S = 800 and 1200, reference values computed with an exact MILP."""
    cases = [Case("LSCP", f"SJC{n} S={s}", float(v), "cost", partial(_lscp, f"SJC{n}", float(s)))
             for (n, s), v in SJC_LSCP.items() if n in sizes]
    cases += [Case("MCLP", f"SJC{n} S={s} p={p}", float(v), "coverage", partial(_mclp, f"SJC{n}", float(s), p))
              for (n, s), table in SJC_MCLP.items() if n in sizes for p, v in table.items()]
    return cases


def quick_cases() -> list[Case]:
    """The subset the test suite runs: pmed1-5, cap71-74 (UFLP and CFLP), scp41, Swain, SJC324."""
    return (pmed_cases(QUICK_PMED) + uflp_cases(QUICK_CAP) + cflp_cases(QUICK_CAP) + scp_cases(("scp41",))
            + swain_cases() + sjc_cases((324,)))


def full_cases() -> list[Case]:
    """Every instance with a known value."""
    return pmed_cases() + uflp_cases() + cflp_cases() + scp_cases() + swain_cases() + sjc_cases()

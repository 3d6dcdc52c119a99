"""CP-SAT and PuLP backends on tiny models with known optima, and their status mapping.

Process rules: ortools and highspy cannot share a process, and ``import pulp`` imports
highspy. So nothing here imports ortools, pulp or highspy at module level, and the CP-SAT
cases come first: run alone, this file loads ortools before pulp (pulp then silently loses its
HiGHS solver, CBC is unaffected). When highspy is already loaded (another test module ran
first), the CP-SAT cases are skipped; the registry runs CP-SAT in a subprocess.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace

import numpy as np
import numpy.typing as npt
import pytest
import scipy.sparse as sp

from optimizer.errors import BackendError
from optimizer.model.milp import CONTINUOUS, IMPLIED_INTEGER, INTEGER, Block, Milp
from optimizer.solvers.base import Backend, SolveOptions, SolveResult, Status
from optimizer.solvers.cpsat import CpSatBackend, map_status
from optimizer.solvers.pulp import PulpBackend

# Evaluated when each test runs, not at collection: highspy may be imported in between.
CPSAT = pytest.mark.skipif(
    "'highspy' in sys.modules",
    reason="highspy is loaded in this process; CP-SAT (ortools) needs a process of its own",
)
BACKENDS = [
    pytest.param("cpsat", marks=CPSAT),
    "pulp:CBC",
    "pulp:HiGHS",
]
INF = np.inf
OPTIONS = SolveOptions(time_limit_s=30.0, mip_gap=1e-6, threads=2)


def make_backend(key: str) -> Backend:
    """Return the backend called `key`; skip PuLP solvers not available in this process."""
    if key == "cpsat":
        return CpSatBackend()
    import pulp

    solver = key.removeprefix("pulp:")
    if solver not in ("CBC", *pulp.listSolvers(onlyAvailable=True)):
        pytest.skip(f"PuLP solver {solver} is not available in this process")
    return PulpBackend(solver)


def make_milp(
    c: list[float],
    rows: list[list[float]],
    row_bounds: tuple[list[float], list[float]],
    *,
    ub: list[float] | None = None,
    integrality: list[int] | None = None,
    offset: float = 0.0,
) -> Milp:
    """Build a `Milp` from dense lists: variables from 0 to `ub` (1), INTEGER by default."""
    n = len(c)
    return Milp(
        c=np.asarray(c, dtype=np.float64),
        offset=offset,
        lb=np.zeros(n),
        ub=np.ones(n) if ub is None else np.asarray(ub, dtype=np.float64),
        integrality=np.asarray(integrality or [INTEGER] * n, dtype=np.int8),
        A=sp.csr_array(np.asarray(rows, dtype=np.float64)),
        row_lb=np.asarray(row_bounds[0], dtype=np.float64),
        row_ub=np.asarray(row_bounds[1], dtype=np.float64),
    )


def random_cover(n_elements: int, n_sets: int, density: float, seed: int) -> Milp:
    """Seeded weighted set cover: ``min c @ y  s.t.  A @ y >= 1,  y binary``.

    Every element lies in at least one set, so the model is feasible.
    """
    rng = np.random.default_rng(seed)
    member = rng.random((n_elements, n_sets)) < density
    member[np.arange(n_elements), rng.integers(0, n_sets, n_elements)] = True
    cost = rng.integers(1, 20, n_sets).astype(np.float64)
    return Milp(
        c=cost,
        offset=0.0,
        lb=np.zeros(n_sets),
        ub=np.ones(n_sets),
        integrality=np.full(n_sets, INTEGER, dtype=np.int8),
        A=sp.csr_array(member.astype(np.float64)),
        row_lb=np.ones(n_elements),
        row_ub=np.full(n_elements, INF),
    )


def set_cover_5x5() -> Milp:
    """Five elements, five sets; the optimum is {S0, S2, S4} at cost 7.

    S0={e0,e1,e2} costs 4, S1={e0,e3} 2, S2={e1,e4} 2, S3={e2,e3,e4} 4, S4={e3} 1.
    e2 needs S0 or S3. With S3 (4): e0 needs S1 or S0 and e1 needs S2 or S0, so at least
    4 + 4 = 8. Without S3: S0 (4), e4 needs S2 (2), e3 needs S4 (1) or S1 (2): 7 is best,
    and only {S0, S2, S4} reaches it.
    """
    return make_milp(
        [4, 2, 2, 4, 1],
        [
            [1, 1, 0, 0, 0],
            [1, 0, 1, 0, 0],
            [1, 0, 0, 1, 0],
            [0, 1, 0, 1, 1],
            [0, 0, 1, 1, 0],
        ],
        ([1] * 5, [INF] * 5),
    )


def budget_knapsack() -> Milp:
    """Budget row with fractional costs that exactly admits y0 + y1; optimum -7 + 10 = 3.

    Costs 0.4*469153 = 187661.2, 0.3*250000 = 75000, 0.25*600000 = 150000; budget is
    187661.2 + 75000 exactly. Values 5, 2, 4 (maximised, so c = -values), offset 10.
    Feasible pairs: {y0, y1} (value 7) and {y1, y2} (6); {y0, y2} costs 337661.2 > budget.
    CP-SAT must scale the row by 10 and keep the exact fit feasible.
    """
    costs = [0.4 * 469153, 0.3 * 250000, 0.25 * 600000]
    return make_milp([-5, -2, -4], [costs], ([-INF], [costs[0] + costs[1]]), offset=10.0)


def two_sided(sign: float) -> Milp:
    """``2 <= y0 + y1 + y2 + y3 <= 3`` with costs ``sign * [1, 2, 3, 4]``.

    sign=+1 hits the lower side: the two cheapest, y0 + y1, cost 3.
    sign=-1 hits the upper side: the three most valuable, y1 + y2 + y3, cost -9.
    """
    return make_milp([sign * k for k in (1, 2, 3, 4)], [[1, 1, 1, 1]], ([2], [3]))


def coverage_with_implied_integer() -> Milp:
    """Choose p = 1 of 2 sites to cover most weight; optimum covers demands 0 and 1 (8).

    Variables y0, y1 (sites, INTEGER) and x0, x1, x2 (covered, IMPLIED_INTEGER in [0, 1]).
    Demand weights 5, 3, 4; N(0) = {site 0}, N(1) = {0, 1}, N(2) = {1}.
    Rows: x_i - sum_{s in N(i)} y_s <= 0, and y0 + y1 = 1.
    Site 0 covers 5 + 3 = 8, site 1 covers 3 + 4 = 7: y = (1, 0), x = (1, 1, 0), objective -8.
    """
    return make_milp(
        [0, 0, -5, -3, -4],
        [
            [-1, 0, 1, 0, 0],
            [-1, -1, 0, 1, 0],
            [0, -1, 0, 0, 1],
            [1, 1, 0, 0, 0],
        ],
        ([-INF, -INF, -INF, 1], [0, 0, 0, 1]),
        integrality=[INTEGER, INTEGER, IMPLIED_INTEGER, IMPLIED_INTEGER, IMPLIED_INTEGER],
    )


def decimal_shortfall_weights() -> Milp:
    """Elastic shortfall level with decimal weights: optimum s = (0, 2) at exactly 1.0.

    ``min 0.018868 s0 + 0.5 s1  s.t.  s0 + 26.5 s1 >= 53``, s0 in [0, 53], s1 in [0, 2],
    integer. s1 = 2 costs 1.0; s1 = 1 needs s0 >= 27 (1.009436); s1 = 0 needs s0 = 53
    (53 * 0.018868 = 1.000004). Weights as `optimizer.model.build.penalties` makes them (elastic
    seed 74 of tests/test_reduce.py random_tables). Passed as floats, CP-SAT scaled them by
    2**17 itself, 0.018868 to 2473, so 53 units (131069) looked cheaper than 1.0 (131072).
    """
    return make_milp([0.018868, 0.5], [[1, 26.5]], ([53], [INF]), ub=[53, 2])


def unbounded_integer() -> Milp:
    """``min z  s.t.  2 z >= 5,  z >= 0`` integer with no upper bound: z = 3."""
    return make_milp([1], [[2]], ([5], [INF]), ub=[INF])


def integer_infeasible() -> Milp:
    """``y0 + y1 >= 3`` with binaries: proven infeasible."""
    return make_milp([1, 1], [[1, 1]], ([3], [INF]))


def assert_solution(result: SolveResult, objective: float, x: npt.ArrayLike) -> None:
    """Optimal, with this objective and (to 1e-6) this plan."""
    assert result.status is Status.OPTIMAL, result
    assert result.time_limited is False
    assert result.objective == pytest.approx(objective)
    np.testing.assert_allclose(result.x, x, atol=1e-6)


# --- Shared behaviour, CP-SAT first (see the module docstring) ---------------------------


@pytest.mark.parametrize("key", BACKENDS)
def test_weighted_set_cover_picks_the_unique_cheapest_cover(key: str) -> None:
    result = make_backend(key).solve(set_cover_5x5(), OPTIONS)
    assert_solution(result, 7.0, [1, 0, 1, 0, 1])
    assert result.gap == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("key", BACKENDS)
def test_fractional_budget_row_admits_the_exact_fit(key: str) -> None:
    result = make_backend(key).solve(budget_knapsack(), OPTIONS)
    assert_solution(result, 3.0, [1, 1, 0])


@pytest.mark.parametrize(("sign", "objective", "x"), [(1, 3, [1, 1, 0, 0]), (-1, -9, [0, 1, 1, 1])])
@pytest.mark.parametrize("key", BACKENDS)
def test_two_sided_row_binds_on_either_side(
    key: str, sign: float, objective: float, x: list[float]
) -> None:
    result = make_backend(key).solve(two_sided(sign), OPTIONS)
    assert_solution(result, objective, x)


@pytest.mark.parametrize("key", BACKENDS)
def test_implied_integer_coverage_counts_covered_weight(key: str) -> None:
    result = make_backend(key).solve(coverage_with_implied_integer(), OPTIONS)
    assert_solution(result, -8.0, [1, 0, 1, 1, 0])


@pytest.mark.parametrize("key", BACKENDS)
def test_integer_variable_without_upper_bound_rounds_up(key: str) -> None:
    result = make_backend(key).solve(unbounded_integer(), OPTIONS)
    assert_solution(result, 3.0, [3])


@pytest.mark.parametrize("key", BACKENDS)
def test_decimal_weights_reach_the_exact_least_level(key: str) -> None:
    result = make_backend(key).solve(decimal_shortfall_weights(), OPTIONS)
    assert_solution(result, 1.0, [0, 2])


@pytest.mark.parametrize("key", BACKENDS)
def test_infeasible_model_reports_infeasible_without_a_plan(key: str) -> None:
    result = make_backend(key).solve(integer_infeasible(), OPTIONS)
    assert result.status is Status.INFEASIBLE
    assert result.x is None
    assert result.objective is None
    assert result.time_limited is False


@pytest.mark.parametrize("key", BACKENDS)
def test_start_solution_is_accepted_and_optimum_unchanged(key: str) -> None:
    options = SolveOptions(time_limit_s=30.0, start=np.array([1.0, 1.0, 0.0, 1.0, 0.0]))
    result = make_backend(key).solve(set_cover_5x5(), options)
    assert_solution(result, 7.0, [1, 0, 1, 0, 1])
    assert any("start" in note for note in result.notes)  # used, or said why not


# --- CP-SAT only --------------------------------------------------------------------------


@CPSAT
def test_cpsat_refuses_continuous_variable_naming_its_block() -> None:
    model = make_milp([1, 1], [[1, 1]], ([1], [INF]), integrality=[INTEGER, CONTINUOUS])
    model = replace(model, var_blocks=(Block("y", 0, 1), Block("slack", 1, 2)))
    with pytest.raises(BackendError, match=r"variable 1 \('slack' #0\): is continuous"):
        CpSatBackend().solve(model, OPTIONS)


@CPSAT
def test_cpsat_refuses_row_without_power_of_ten_scale() -> None:
    model = make_milp([1, 1], [[1, 1], [1 / 3, 1]], ([1, 0], [INF, 1]))
    model = replace(model, row_blocks=(Block("cover", 0, 1), Block("share", 1, 2)))
    with pytest.raises(BackendError, match=r"row 1 \('share' #0\): has no integer scale"):
        CpSatBackend().solve(model, OPTIONS)


@CPSAT
def test_cpsat_reports_row_scaling_and_declared_integers() -> None:
    budget = CpSatBackend().solve(budget_knapsack(), OPTIONS)
    assert "1 of 1 rows scaled to integer coefficients (largest scale 10)" in budget.notes
    coverage = CpSatBackend().solve(coverage_with_implied_integer(), OPTIONS)
    assert "3 implied-integer variables declared integer" in coverage.notes
    unbounded = CpSatBackend().solve(unbounded_integer(), OPTIONS)
    assert "1 infinite variable bounds replaced by +-2**40" in unbounded.notes


@CPSAT
def test_cpsat_bound_includes_offset_and_closes_on_optimum() -> None:
    result = CpSatBackend().solve(budget_knapsack(), OPTIONS)
    assert result.bound == pytest.approx(3.0)
    assert result.gap == pytest.approx(0.0)
    assert result.native_status == "OPTIMAL"


@CPSAT
def test_cpsat_scales_a_decimal_objective_and_unscales_the_bound() -> None:
    model = replace(decimal_shortfall_weights(), offset=2.0)
    result = CpSatBackend().solve(model, OPTIONS)
    assert "fractional objective scaled by 1000000 to integer coefficients" in result.notes
    assert result.objective == pytest.approx(3.0, abs=1e-12)
    assert result.bound == pytest.approx(3.0, abs=1e-12)


@CPSAT
def test_cpsat_passes_a_non_decimal_objective_as_floats() -> None:
    for costs, x in (([1 / 3, 1], [1, 0]), ([1e-10, 1], [1, 0])):
        model = make_milp(costs, [[1, 1]], ([1], [INF]))
        result = CpSatBackend().solve(model, OPTIONS)
        assert any(n.startswith("fractional objective: CP-SAT scales") for n in result.notes)
        assert_solution(result, costs[0], x)


@CPSAT
def test_cpsat_proves_random_300x150_cover_optimal_with_lp_subsolver() -> None:
    """CP-SAT closes the gap on a covering model in well under a second.

    With linearization_level=2 and max_lp this takes ~0.1 s; with default settings CP-SAT
    still sat at bound 72 against 358 after 20 s.
    """
    options = SolveOptions(time_limit_s=20.0, mip_gap=1e-4, threads=2)
    result = CpSatBackend().solve(random_cover(300, 150, 0.03, seed=1), options)
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(358.0)
    assert result.bound == pytest.approx(358.0)
    assert result.seconds < 5.0


@CPSAT
def test_cpsat_time_limit_with_incumbent_is_labelled_not_optimal() -> None:
    options = SolveOptions(time_limit_s=1.0, mip_gap=1e-6, threads=2)
    model = random_cover(800, 400, 0.02, seed=1)
    result = CpSatBackend().solve(model, options)
    assert result.status is Status.TIME_LIMIT_FEASIBLE
    assert result.time_limited is True
    assert result.bound < result.objective
    assert result.gap > 0
    assert np.all(model.activity(result.x) >= 1)


@pytest.mark.parametrize(
    ("native", "seconds", "expected"),
    [
        ("OPTIMAL", 0.1, (Status.OPTIMAL, False)),
        ("FEASIBLE", 10.0, (Status.TIME_LIMIT_FEASIBLE, True)),
        ("INFEASIBLE", 0.1, (Status.INFEASIBLE, False)),
        ("MODEL_INVALID", 0.0, (Status.ERROR, False)),
        ("UNKNOWN", 10.0, (Status.TIME_LIMIT_NO_SOLUTION, True)),
        ("UNKNOWN", 0.5, (Status.UNKNOWN, False)),
        ("SOMETHING_NEW", 10.0, (Status.UNKNOWN, False)),
    ],
)
def test_cpsat_status_table_is_explicit(
    native: str, seconds: float, expected: tuple[Status, bool]
) -> None:
    assert map_status(native, seconds, limit_s=10.0) == expected


# --- PuLP only ----------------------------------------------------------------------------


def test_pulp_cbc_time_limit_with_incumbent_is_not_reported_optimal() -> None:
    """A CBC run stopped on time with a plan is TIME_LIMIT_FEASIBLE.

    PuLP 3.3.2 says status Optimal here; sol_status 2 (integer feasible) is the truth.
    CBC needs well over 30 s to prove this 800 x 400 cover optimal.
    """
    model = random_cover(800, 400, 0.02, seed=1)
    result = PulpBackend("CBC").solve(model, SolveOptions(time_limit_s=1.0, mip_gap=1e-6))
    assert result.native_status == "status=1 sol_status=2"
    assert result.status is Status.TIME_LIMIT_FEASIBLE
    assert result.time_limited is True
    assert result.bound is None
    assert result.gap is None
    assert np.all(model.activity(result.x) >= 1)


def test_pulp_keeps_continuous_variables_continuous() -> None:
    """Solve ``min x + y  s.t.  x + y >= 1.5``, x continuous in [0, 1], y integer in [0, 5].

    y = 1, x = 0.5, objective 1.5 (y = 2 costs 2).
    """
    integrality = [CONTINUOUS, INTEGER]
    model = make_milp([1, 1], [[1, 1]], ([1.5], [INF]), ub=[1, 5], integrality=integrality)
    assert_solution(PulpBackend().solve(model, OPTIONS), 1.5, [0.5, 1])


def test_pulp_cbc_alias_names_the_bundled_solver() -> None:
    assert PulpBackend("CBC").name == "pulp:PULP_CBC_CMD"
    assert PulpBackend().name == "pulp:PULP_CBC_CMD"


def test_pulp_unknown_solver_lists_available_ones() -> None:
    with pytest.raises(BackendError, match=r"solver: unknown PuLP solver 'GLOP'.*PULP_CBC_CMD"):
        PulpBackend("GLOP").solve(set_cover_5x5(), OPTIONS)


def test_pulp_rejects_start_of_wrong_length() -> None:
    options = SolveOptions(start=np.zeros(3))
    with pytest.raises(BackendError, match=r"options.start: has shape \(3,\)"):
        PulpBackend().solve(set_cover_5x5(), options)


def test_pulp_status_codes_match_pulp_constants() -> None:
    import pulp

    from optimizer.solvers import pulp as backend

    ours_to_pulp = {
        "LP_STATUS_NOT_SOLVED": "LpStatusNotSolved",
        "LP_STATUS_OPTIMAL": "LpStatusOptimal",
        "LP_STATUS_INFEASIBLE": "LpStatusInfeasible",
        "LP_STATUS_UNBOUNDED": "LpStatusUnbounded",
        "LP_SOLUTION_NO_SOLUTION_FOUND": "LpSolutionNoSolutionFound",
        "LP_SOLUTION_OPTIMAL": "LpSolutionOptimal",
        "LP_SOLUTION_INTEGER_FEASIBLE": "LpSolutionIntegerFeasible",
        "LP_SOLUTION_INFEASIBLE": "LpSolutionInfeasible",
        "LP_SOLUTION_UNBOUNDED": "LpSolutionUnbounded",
    }
    ours = {name: getattr(backend, name) for name in ours_to_pulp}
    theirs = {name: getattr(pulp, pulp_name) for name, pulp_name in ours_to_pulp.items()}
    assert ours == theirs


@pytest.mark.parametrize(
    ("codes", "seconds", "expected"),
    [
        ((1, 1), 0.1, (Status.OPTIMAL, False)),
        ((1, 2), 10.0, (Status.TIME_LIMIT_FEASIBLE, True)),
        ((-1, -1), 0.1, (Status.INFEASIBLE, False)),
        ((-1, 0), 0.1, (Status.INFEASIBLE, False)),
        ((-2, -2), 0.1, (Status.UNBOUNDED, False)),
        ((0, 0), 10.0, (Status.TIME_LIMIT_NO_SOLUTION, True)),
        ((0, 0), 0.5, (Status.UNKNOWN, False)),
        ((-3, 0), 10.0, (Status.UNKNOWN, False)),
        ((0, -1), 10.0, (Status.UNKNOWN, False)),
    ],
)
def test_pulp_status_table_reads_both_codes(
    codes: tuple[int, int], seconds: float, expected: tuple[Status, bool]
) -> None:
    from optimizer.solvers.pulp import map_status as pulp_map_status

    assert pulp_map_status(*codes, seconds, limit_s=10.0) == expected


def test_backends_declare_their_native_libraries() -> None:
    assert CpSatBackend.native_family == "ortools"
    highspy_installed = importlib.util.find_spec("highspy") is not None
    assert PulpBackend.native_family == ("highspy" if highspy_installed else "")

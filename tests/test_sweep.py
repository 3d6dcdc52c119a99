"""Budget sweep: a monotone frontier of checked plans, the least sufficient budget, resume, workers, Dask;
phased plans: one year's budget (--year) or every year's scaled (--scale-years).

The example scenario's least capital meeting every target is 21,566,579 yuan (pinned by
tests/test_infeasible.py through the budget-free re-solve); below it no plan meets the
targets as stated. Every level here solves to optimality in well under a second.
"""

from __future__ import annotations

import csv
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimizer.check.plan import check_plan
from optimizer.check.years import check_phased
from optimizer.cli.main import app
from optimizer.errors import ScenarioError
from optimizer.inputs.geodata import load_region
from optimizer.plan import decode_pairs, weighted_coverage
from optimizer.scenario.format import load_scenario, parse_scenario
from optimizer.sweep.frontier import finish_rows, saturation
from optimizer.sweep.levels import at_budget, better_start, capital_solve, prepare_sweep, run_level
from optimizer.sweep.run import SweepEvent, SweepSettings, parse_budgets, sweep, sweep_file
from optimizer.sweep.warm import greedy_fill
from tests.conftest import SHARED, scenario_doc

LEAST_CAPITAL = 21_566_579
EXAMPLE = SHARED / "scenario.json"
cli = CliRunner()


def _levels_by_budget(frontier_rows: list[dict[str, Any]]) -> dict[float, dict[str, Any]]:
    return {row["budget"]: row for row in frontier_rows}


def _recheck(scenario_path: Path, plan: dict[str, Any]) -> Any:
    """The independent checker on a level's plan.json, at that level's own budget."""
    scenario, base_dir = load_scenario(scenario_path)
    budget = scenario.budget.model_copy(update={"capital": plan["budget"]["capital"]})
    scenario = scenario.model_copy(update={"budget": budget})
    region = load_region(scenario, base_dir)
    return check_plan(scenario, region, base_dir, [(f["site"], f["type"]) for f in plan["facilities"]])


@pytest.fixture(scope="module")
def example_sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, list[SweepEvent]]:
    """One sequential sweep of the example, 10 to 60 million in steps of 10 million."""
    out = tmp_path_factory.mktemp("sweep")
    events: list[SweepEvent] = []
    settings = SweepSettings(out, budgets=parse_budgets("10e6:60e6:10e6"))
    return sweep_file(EXAMPLE, settings, on_event=events.append), events


def test_budget_option_takes_a_range_with_stop_included_or_a_list() -> None:
    assert parse_budgets("10e6:60e6:5e6") == tuple(10e6 + 5e6 * k for k in range(11))
    assert parse_budgets("30e6, 40e6,50e6") == (30e6, 40e6, 50e6)
    for bad in ("10e6:5e6:1e6", "1:2:0", "ten", "-5e6", ""):
        with pytest.raises(ScenarioError, match="--budgets"):
            parse_budgets(bad)


def test_frontier_is_monotone_and_marks_the_least_sufficient_budget(example_sweep: tuple[Any, Any]) -> None:
    frontier, _ = example_sweep
    rows = frontier.rows
    assert [r["budget"] for r in rows] == [10e6, 20e6, LEAST_CAPITAL, 30e6, 40e6, 50e6, 60e6]
    least = frontier.document["least_sufficient"]
    assert least["capital"] == pytest.approx(LEAST_CAPITAL, abs=1) and least["proven"]
    marked = [r for r in rows if r["least_sufficient"]]
    assert len(marked) == 1 and marked[0]["budget"] == LEAST_CAPITAL and marked[0]["targets_met"]
    below = [r for r in rows if r["budget"] < LEAST_CAPITAL]
    assert all(r["status"] == "infeasible" and r["coverage"] is None for r in below)
    solved = [r for r in rows if r["coverage"] is not None]
    assert all(r["status"] == "optimal" and r["targets_met"] for r in solved)
    coverage = [r["coverage"] for r in solved]
    assert coverage == sorted(coverage) and coverage[-1] > coverage[0]
    assert frontier.monotone and all(r["monotone"] for r in rows)
    # A step that bought more coverage has a positive marginal price; past saturation, none.
    for low, high in itertools.pairwise(solved):
        marginal = high["marginal_cny_per_covered"]
        assert marginal > 0 if high["coverage"] > low["coverage"] else marginal is None
    assert rows[-1]["coverage"] == rows[-2]["coverage"], "50 and 60 million both buy everything"


def test_each_level_plan_respects_its_budget_by_the_independent_checker(example_sweep: tuple[Any, Any]) -> None:
    frontier, _ = example_sweep
    for row in frontier.rows:
        plan = json.loads((frontier.out_dir / row["plan"]).read_text(encoding="utf-8"))
        assert plan["budget"]["capital"] == row["budget"]
        if row["coverage"] is None:
            assert plan["status"] == "infeasible" and plan["facilities"] == []
            assert plan["explanation"]["budget"]["least_capital"] == pytest.approx(LEAST_CAPITAL, abs=1)
            continue
        checked = _recheck(EXAMPLE, plan)
        assert checked.violations == [] and checked.targets_met
        assert checked.cost["capital"] <= row["budget"]
        assert checked.cost["capital"] == pytest.approx(row["capital"])
        assert plan["objective"] == pytest.approx(row["coverage"])


def test_frontier_files_hold_every_level(example_sweep: tuple[Any, Any]) -> None:
    frontier, _ = example_sweep
    out = frontier.out_dir
    document = json.loads((out / "frontier.json").read_text(encoding="utf-8"))
    assert document["complete"] and document["weight"] == "elderly" and len(document["levels"]) == 7
    with (out / "frontier.csv").open(encoding="utf-8") as handle:
        records = list(csv.DictReader(handle))
    assert [float(r["budget"]) for r in records] == [r["budget"] for r in document["levels"]]
    for column in ("capital", "annual", "coverage", "targets_met", "status", "gap", "seconds",
                   "covered_station_urban", "share_meal_point_rural", "marginal_cny_per_covered"):
        assert column in records[0]
    assert (out / "frontier.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert all((out / r["plan"]).is_file() for r in document["levels"])


def test_levels_start_from_lower_plans_and_find_the_cold_optimum(example_sweep: tuple[Any, Any]) -> None:
    """Warm-started levels reach what a cold solve of the same budget reaches."""
    frontier, events = example_sweep
    scenario, base_dir = load_scenario(EXAMPLE)
    prep = prepare_sweep(scenario, base_dir, elastic=False)
    by_budget = _levels_by_budget(frontier.rows)
    for budget in (30e6, 50e6):
        cold = run_level(prep, budget, None, greedy=False)
        assert cold.document["objective"] == pytest.approx(by_budget[budget]["coverage"])
    started = [e.running[-1] for e in events if e.kind == "started"]
    assert started == sorted(started), "levels are solved upward"


def test_levels_the_unlimited_plan_fits_are_written_from_it_not_solved(example_sweep: tuple[Any, Any]) -> None:
    """50 and 60 million both buy the plan of an unlimited budget: proven once, written twice, never re-solved,
    and exactly what a cold solve of each budget gives."""
    frontier, events = example_sweep
    unlimited = frontier.document["unlimited"]
    assert unlimited["proven"] and unlimited["capital"] <= 50e6
    reused = [r for r in frontier.rows if r["reused"]]
    assert [r["budget"] for r in reused] == [b for b in (30e6, 40e6, 50e6, 60e6) if b >= unlimited["capital"]]
    assert 60e6 in [r["budget"] for r in reused]
    assert not {e.running[-1] for e in events if e.kind == "started"} & {r["budget"] for r in reused}
    prep = prepare_sweep(*load_scenario(EXAMPLE), elastic=False)
    for row in reused:
        cold = run_level(prep, row["budget"], None, greedy=False).document
        assert cold["objective"] == pytest.approx(row["coverage"])
        assert cold["cost"]["total"] == pytest.approx(row["total"])
        plan = json.loads((frontier.out_dir / row["plan"]).read_text(encoding="utf-8"))
        assert plan["reused"] and plan["status"] == "optimal" and plan["budget"]["capital"] == row["budget"]
        assert any("not solved again" in note for note in plan["notes"])


def test_saturation_is_the_least_capital_buying_the_most_coverage(example_sweep: tuple[Any, Any]) -> None:
    frontier, _ = example_sweep
    rows, saturation = frontier.rows, frontier.document["saturation"]
    most = max(r["coverage"] for r in rows if r["coverage"] is not None)
    assert saturation["coverage"] == pytest.approx(most) and saturation["coverage_proven_most"]
    saturated = [r for r in rows if r["saturated"]]
    assert saturated[-1] is rows[-1] and len(saturated) >= 2   # 60 million buys no more than 50
    assert saturation["capital"] == pytest.approx(min(r["capital"] for r in saturated))
    assert saturation["budget"] == saturated[0]["budget"] and saturation["budget"] < rows[-1]["budget"]
    # the level below saturation is proven (by its coverage bound) to buy less
    below = rows[rows.index(saturated[0]) - 1]
    assert saturation["capital_at_least"] == below["budget"] and below["bound"] < most


def test_a_top_level_buying_no_more_than_a_cheaper_one_is_not_called_saturation() -> None:
    """The default county's first sweep: the top level (105.04 M) covered no more than the 61.48 M level,
    which spent 57.30 M; an unproven unlimited solve had spent 105.04 M on the same coverage."""
    def row(budget: float, capital: float, coverage: float, bound: float) -> dict[str, Any]:
        return {"budget": budget, "capital": capital, "coverage": coverage, "bound": bound, "status": "optimal"}

    rows = [row(40.0e6, 39.9e6, 900.0, 900.0), row(61.48e6, 57.30e6, 1000.0, 1000.0),
            row(105.04e6, 105.04e6, 1000.0, 1000.0)]
    unlimited = {"capital": 105.04e6, "coverage": 1000.0, "proven": False, "coverage_bound": 1000.0}
    found = saturation(rows, unlimited)
    assert found is not None
    assert found["capital"] == 57.30e6 and found["budget"] == 61.48e6 and found["capital_at_least"] == 40.0e6
    assert [r["saturated"] for r in rows] == [False, True, True]
    assert "57,300,000" in found["note"] and "61,480,000" in found["note"]


def test_greedy_top_up_spends_the_new_budget_without_losing_coverage() -> None:
    scenario, base_dir = load_scenario(EXAMPLE)
    prep = prepare_sweep(scenario, base_dir, elastic=False)
    least = capital_solve(prep, "least", None)
    assert least.x is not None
    level = at_budget(prep, 40e6)
    filled = greedy_fill(level, least.x, 40e6)
    before = check_plan(level.scenario, level.region, base_dir, decode_pairs(level, level.model, least.x))
    after = check_plan(level.scenario, level.region, base_dir, decode_pairs(level, level.model, filled))
    assert after.violations == [] and after.targets_met
    assert before.cost["capital"] < after.cost["capital"] <= 40e6
    assert weighted_coverage(level, after) > weighted_coverage(level, before)


def test_warm_level_skips_presolve_in_its_first_phase_only_and_says_so() -> None:
    """A level started from a feasible plan runs its coverage phase without presolve (noted in
    plan.json), its cost phase with it; a level without a start presolves; both prove the optimum."""
    scenario, base_dir = load_scenario(EXAMPLE)
    prep = prepare_sweep(scenario, base_dir, elastic=False)
    least = capital_solve(prep, "least", None)
    warm = run_level(prep, 40e6, least.x).document
    cold = run_level(prep, 40e6, None, greedy=False).document
    note = "presolve off (started from a feasible plan)"
    assert [p["phase"] for p in warm["solver"]["phases"]] == ["coverage", "cost"]
    assert note in warm["solver"]["phases"][0]["notes"] and note not in warm["solver"]["phases"][1]["notes"]
    assert all(note not in p["notes"] for p in cold["solver"]["phases"])
    assert warm["status"] == cold["status"] == "optimal"
    assert warm["objective"] == pytest.approx(cold["objective"])


def test_a_level_not_started_from_a_level_plan_takes_the_better_of_two_starts() -> None:
    """The least-capital plan topped up, or the greedy plan of optimizer.search.greedy at the level's
    budget, whichever covers more; the first when the greedy plan finds nothing."""
    scenario, base_dir = load_scenario(EXAMPLE)
    prep = prepare_sweep(scenario, base_dir, elastic=False)
    least = capital_solve(prep, "least", None)
    level = at_budget(prep, 30e6)
    filled = greedy_fill(level, least.x, 30e6)
    chosen = better_start(level, filled)
    assert chosen is not None and level.model.milp.is_feasible(chosen)
    coverage = level.model.coverage_c
    assert coverage @ chosen < coverage @ filled, "the greedy plan covers more here"
    assert better_start(level, None) is not None
    tight = at_budget(prep, LEAST_CAPITAL)   # the greedy plan finds nothing at the least budget
    start = greedy_fill(tight, least.x, LEAST_CAPITAL)
    assert better_start(tight, start) is start
    fresh = run_level(prep, 30e6, least.x, fresh=True).document
    assert fresh["status"] == "optimal" and fresh["objective"] == pytest.approx(
        run_level(prep, 30e6, least.x).document["objective"])


def test_resume_solves_only_the_levels_not_yet_written(tmp_path: Path) -> None:
    settings = SweepSettings(tmp_path, budgets=(25e6, 35e6, 45e6))
    first = sweep_file(EXAMPLE, settings)
    (tmp_path / "levels" / "budget_35000000" / "level.json").unlink()   # as if stopped there
    events: list[SweepEvent] = []
    again = sweep_file(EXAMPLE, replace(settings, resume=True), on_event=events.append)
    assert [e.running[-1] for e in events if e.kind == "started"] == [35e6]
    assert [r["coverage"] for r in again.rows] == [r["coverage"] for r in first.rows]
    # Another scenario in the same folder: nothing is taken over.
    doc = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    doc["budget"]["annual"] = 6_000_000
    changed, _ = parse_scenario(doc, base_dir=SHARED)
    events.clear()
    redone = sweep(changed, SHARED, replace(settings, resume=True), on_event=events.append)
    # three levels and the least sufficient one, each solved again or written from this run's unlimited plan
    started = {e.running[-1] for e in events if e.kind == "started"}
    reused = {r["budget"] for r in redone.rows if r["reused"]}
    assert len(started) + len(reused) == 4 and not started & reused


def test_automatic_levels_run_from_least_sufficient_to_saturation(tmp_path: Path) -> None:
    frontier = sweep_file(EXAMPLE, SweepSettings(tmp_path, levels=3))
    rows, saturation = frontier.rows, frontier.document["saturation"]
    assert len(rows) == 3 and rows[0]["budget"] == LEAST_CAPITAL and rows[0]["least_sufficient"]
    assert rows[-1]["budget"] == pytest.approx(saturation["capital"], abs=1)
    # Beyond the saturation budget more money buys nothing: its level already covers the most.
    more = run_level(prepare_sweep(*load_scenario(EXAMPLE), elastic=False), rows[-1]["budget"] * 2, None)
    assert more.document["objective"] == pytest.approx(rows[-1]["coverage"])


def _small_elastic_doc() -> dict[str, Any]:
    """Four villages on a line 1 km apart, one site at each; a home (1.1 km reach) costs 1 million.

    Covering all four needs two homes (sites 1 and 2 cover 0-1-2 and 1-2-3 and each other's
    neighbours): least capital 2 million. One million covers three villages.
    """
    units = [{"id": f"V{k}", "kind": "rural", "zone": "Z", "pop": 100 + k, "xy": (1000.0 * k, 0.0)}
             for k in range(4)]
    sites = [{"id": f"S{k}", "zone": "Z", "allowed": "home", "existing": "", "xy": (1000.0 * k, 0.0)}
             for k in range(4)]
    types = {"home": {"radius_m": 1100, "capital_cost": 1_000_000, "annual_cost": 10_000}}
    targets = [{"kind": "coverage", "facility": "home", "min_share": 1.0}]
    return scenario_doc(units, sites, types, targets)


def test_elastic_sweep_runs_from_cheapest_facility_to_least_sufficient(tmp_path: Path) -> None:
    scenario, _ = parse_scenario(_small_elastic_doc(), base_dir=tmp_path)
    frontier = sweep(scenario, tmp_path, SweepSettings(tmp_path / "out", levels=2, elastic=True))
    rows = frontier.rows
    assert [r["budget"] for r in rows] == [1_000_000, 2_000_000]
    assert rows[0]["coverage"] == pytest.approx(101 + 102 + 103) and not rows[0]["targets_met"]
    assert rows[1]["coverage"] == pytest.approx(100 + 101 + 102 + 103) and rows[1]["targets_met"]
    assert rows[1]["least_sufficient"] and frontier.document["elastic"]


def test_time_limited_level_covering_less_is_marked_not_monotone() -> None:
    def row(budget: float, coverage: float, capital: float) -> dict[str, Any]:
        return {"budget": budget, "coverage": coverage, "capital": capital, "status": "time_limit_feasible",
                "time_limited": True}

    rows = finish_rows([row(30e6, 900.0, 29e6), row(20e6, 800.0, 19e6), row(40e6, 850.0, 39e6)], None)
    assert [r["monotone"] for r in rows] == [True, True, False]
    assert rows[1]["marginal_cny_per_covered"] == pytest.approx(10e6 / 100.0)
    assert rows[2]["marginal_cny_per_covered"] is None


def test_local_workers_give_the_same_frontier(tmp_path: Path, example_sweep: tuple[Any, Any]) -> None:
    frontier, _ = example_sweep
    budgets = (30e6, 40e6, 50e6)
    parallel = sweep_file(EXAMPLE, SweepSettings(tmp_path, budgets=budgets, workers=2))
    expected = _levels_by_budget(frontier.rows)
    for row in parallel.rows:
        assert row["coverage"] == pytest.approx(expected[row["budget"]]["coverage"])
    assert parallel.monotone


def test_dask_cluster_solves_levels_with_the_scenario_scattered_once_per_worker(
        tmp_path: Path, example_sweep: tuple[Any, Any]) -> None:
    distributed = pytest.importorskip("distributed")
    from optimizer.sweep.levels import LevelTask
    from optimizer.sweep.runners import DaskRunner

    frontier, _ = example_sweep
    expected = _levels_by_budget(frontier.rows)
    cluster_options = {"n_workers": 2, "threads_per_worker": 1, "processes": True, "dashboard_address": None}
    with distributed.LocalCluster(**cluster_options) as cluster, distributed.Client(cluster) as client:
        scenario, base_dir = load_scenario(EXAMPLE)
        runner = DaskRunner(prepare_sweep(scenario, base_dir, elastic=False), client)
        key = runner.prepared.key
        assert len(client.who_has([runner.prepared])[key]) == 2   # one copy on each worker
        futures = [runner.submit(LevelTask("level", b)) for b in (30e6, 40e6)]
        outcomes = [f.result() for f in futures]
        keys = [f.key for f in futures]
        deps = client.run_on_scheduler(lambda dask_scheduler: [
            [d.key for d in dask_scheduler.tasks[k].dependencies] for k in keys])
        assert deps == [[key], [key]], "levels refer to the scattered scenario, never carry it"
        assert [o.document["objective"] for o in outcomes] == [
            pytest.approx(expected[30e6]["coverage"]), pytest.approx(expected[40e6]["coverage"])]
        runner.close()
        remote = sweep_file(EXAMPLE, SweepSettings(tmp_path, budgets=(30e6, 40e6), dask=client))
    assert [r["coverage"] for r in remote.rows] == [
        pytest.approx(expected[b]["coverage"]) for b in (LEAST_CAPITAL, 30e6, 40e6)]


def test_cli_sweep_writes_the_frontier_and_exits_0(tmp_path: Path) -> None:
    result = cli.invoke(app, ["sweep", str(EXAMPLE), "--budgets", "20e6:40e6:10e6", "--out", str(tmp_path)],
                        env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    table = result.output[result.output.index("cost–coverage frontier"):result.output.index("least budget")]
    assert "…" not in table and max(map(len, table.splitlines())) <= 80   # fits, nothing cut off
    assert "optimal" in table
    output = " ".join(result.output.split())
    assert "least budget meeting every target: 21,566,579 yuan (proven least)" in output
    assert (tmp_path / "frontier.csv").is_file() and (tmp_path / "levels" / "budget_30000000" / "plan.json").is_file()
    # the level plans by name, not a placeholder
    packed = "".join(result.output.split())
    assert "<yuan>" not in output and "4levelplans" in packed
    for budget in ("20000000", "40000000"):   # the first and the last of the four
        assert str(tmp_path / "levels" / f"budget_{budget}" / "plan.json") in packed


def test_cli_sweep_refuses_bad_options_naming_them(tmp_path: Path) -> None:
    result = cli.invoke(app, ["sweep", str(EXAMPLE), "--budgets", "60e6:10e6:5e6", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--budgets" in result.output
    result = cli.invoke(app, ["sweep", str(EXAMPLE), "--levels", "3", "--workers", "2", "--dask",
                              "tcp://127.0.0.1:1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--workers/--dask" in " ".join(result.output.split())


# --- phased plans (optimizer.sweep.phased): the shared extended example, three years ---------------

EXTENDED = Path(__file__).resolve().parents[2] / "shared" / "example-extended" / "scenario.json"
needs_extended = pytest.mark.skipif(not EXTENDED.exists(), reason="../shared/example-extended is not beside the repo")
FAST = {"time_limit_s": 8, "mip_gap": 0.01}


def _recheck_phased(plan: dict[str, Any]) -> Any:
    """The phased checker on a level's plan.json, with that level's yearly caps."""
    scenario, base_dir = load_scenario(EXTENDED)
    budget = scenario.budget.model_copy(update={"capital": plan["budget"]["capital"],
                                                "capital_by_year": plan["budget"]["capital_by_year"]})
    scenario = scenario.model_copy(update={"budget": budget})
    return check_phased(scenario, load_region(scenario, base_dir), base_dir,
                        [(f["site"], f["type"], f["year"]) for f in plan["facilities"] if f["new"]],
                        [(a["site"], a["action"], a["beds"], a["year"]) for a in plan["bed_actions"]])


@needs_extended
def test_phased_sweep_varies_one_years_capital_budget(tmp_path: Path) -> None:
    scenario, _ = load_scenario(EXTENDED)
    caps = dict(scenario.budget.capital_by_year or {})
    frontier = sweep_file(EXTENDED, SweepSettings(tmp_path, budgets=(14e6, 20e6), year=2025), solver=FAST)
    assert frontier.document["phased"] | {"coverage": None} == {"years": [2024, 2025, 2026], "year": 2025,
                                                                "scale_years": False, "coverage": None}
    least = frontier.document["least_sufficient"]["budget"]
    assert [r["budget"] for r in frontier.rows] == sorted([14e6, 20e6, least])   # with the least sufficient
    for row in frontier.rows:
        assert row["capital_by_year"] == caps | {"2025": row["budget"]}
        plan = json.loads((tmp_path / row["plan"]).read_text(encoding="utf-8"))
        assert plan["objective_kind"] == "max_coverage" and plan["budget"]["capital_by_year"] == row["capital_by_year"]
        assert plan["status"] in ("optimal", "time_limit_feasible") and plan["all_targets_met"]
        assert plan["years"]["2025"]["capital"] <= row["budget"] + 1e-6
        assert row["capital_spent_by_year"]["2025"] == plan["years"]["2025"]["capital"]
        # the objective is coverage summed over the years, as the solver's: an optimal level's gap is within mip_gap
        assert plan["objective"] == pytest.approx(sum(e["weighted_coverage"] for e in plan["years"].values()))
        assert plan["status"] != "optimal" or plan["gap"] <= FAST["mip_gap"] + 1e-9
        again = _recheck_phased(plan)
        assert again.feasible and not again.violations
        assert again.cost["total"] == pytest.approx(plan["cost"]["total"])
    assert (tmp_path / "frontier.png").is_file() and (tmp_path / "frontier.csv").is_file()
    assert any("2025's capital cap" in note for note in frontier.document["notes"])


@needs_extended
def test_phased_sweep_scales_every_years_budget_to_the_total(tmp_path: Path) -> None:
    scenario, _ = load_scenario(EXTENDED)
    caps = dict(scenario.budget.capital_by_year or {})
    base = sum(caps.values())
    budgets = (0.8 * base, 1.2 * base)
    frontier = sweep_file(EXTENDED, SweepSettings(tmp_path, budgets=budgets, scale_years=True), solver=FAST)
    rows = [r for r in frontier.rows if not r["least_sufficient"]]
    assert len(rows) == 2 and rows[0]["budget"] == pytest.approx(budgets[0])
    for row in rows:
        scaled = row["capital_by_year"]
        assert sum(scaled.values()) == pytest.approx(row["budget"])
        assert all(scaled[y] == pytest.approx(caps[y] * row["budget"] / base) for y in caps)
        plan = json.loads((tmp_path / row["plan"]).read_text(encoding="utf-8"))
        assert plan["budget"]["capital"] == pytest.approx(row["budget"])
        if plan["status"] == "infeasible":
            continue
        assert all(plan["years"][y]["capital"] <= scaled[y] + 1e-6 for y in caps)
        assert plan["cost"]["capital"] <= row["budget"] + 1e-6
        again = _recheck_phased(plan)
        assert again.feasible and not again.violations
    assert rows[1]["coverage"] is not None and rows[1]["targets_met"]
    if rows[0]["coverage"] is not None and rows[1]["status"] == "optimal":
        assert rows[1]["coverage"] >= rows[0]["coverage"] - 1e-6


@needs_extended
def test_cli_phased_sweep_refuses_what_it_cannot_do_with_exit_2(tmp_path: Path) -> None:
    def run(*options: str) -> str:
        result = cli.invoke(app, ["sweep", str(EXTENDED), "--out", str(tmp_path), *options])
        assert result.exit_code == 2, result.output
        return " ".join(result.output.split())

    assert "--year/--scale-years" in run("--budgets", "10e6,20e6")
    assert "--year/--scale-years" in run("--budgets", "10e6,20e6", "--year", "2025", "--scale-years")
    assert "2030 is not a planning year" in run("--budgets", "10e6", "--year", "2030")


@needs_extended
def test_phased_sweep_finds_its_least_sufficient_budget_and_automatic_levels_and_resumes(tmp_path: Path) -> None:
    """--year 2025 with --levels: the least 2025 capital meeting every target (the other years' caps kept),
    levels from it upward, coverage counted as covered elderly-years; a resumed run solves only what is missing."""
    settings = SweepSettings(tmp_path, levels=3, year=2025)
    events: list[SweepEvent] = []
    frontier = sweep_file(EXTENDED, settings, solver=FAST, on_event=events.append)
    document, rows = frontier.document, frontier.rows
    least = document["least_sufficient"]
    assert least["capital"] is not None and document["phased"]["year"] == 2025
    assert rows[0]["least_sufficient"] and rows[0]["budget"] == least["budget"] and len(rows) >= 2
    assert [r["budget"] for r in rows] == sorted(r["budget"] for r in rows)
    for row in rows:
        plan = json.loads((tmp_path / row["plan"]).read_text(encoding="utf-8"))
        assert plan["budget"]["capital_by_year"]["2025"] == pytest.approx(row["budget"])
        if row["coverage"] is None:
            continue
        assert row["coverage"] == pytest.approx(sum(e["weighted_coverage"] for e in plan["years"].values()))
        assert plan["years"]["2025"]["capital"] <= row["budget"] + 1e-6
        again = _recheck_phased(plan)
        assert again.feasible and not again.violations
    assert rows[0]["targets_met"]
    # below the least sufficient budget (its proven bound) no 2025 budget meets every target
    if least["proven"]:
        below = run_level(prepare_sweep(*load_scenario(EXTENDED), elastic=False), least["capital"] * 0.9, None,
                          bounds=_bounds_2025()).document
        assert below["status"] == "infeasible" or not below["all_targets_met"]
    (tmp_path / rows[-1]["plan"]).with_name("level.json").unlink()   # as if stopped before the top level
    events.clear()
    sweep_file(EXTENDED, replace(settings, resume=True), solver=FAST, on_event=events.append)
    started = [e.running[-1] for e in events if e.kind == "started"]
    assert started in ([rows[-1]["budget"]], [])   # the top level alone, or written from the unlimited plan


def _bounds_2025() -> Any:
    from optimizer.sweep.phased import budget_rows

    prep = prepare_sweep(*load_scenario(EXTENDED), elastic=False)
    return budget_rows(prep.scenario, prep.model, year=2025, scale_years=False)


def test_cli_year_options_are_refused_on_a_one_year_scenario(tmp_path: Path) -> None:
    result = cli.invoke(app, ["sweep", str(EXAMPLE), "--budgets", "30e6", "--year", "2025", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--year/--scale-years" in " ".join(result.output.split())


def test_phased_sweep_refuses_beds_without_years_naming_years(tmp_path: Path) -> None:
    from optimizer.sweep.phased import check_phased_options

    scenario, _ = load_scenario(EXAMPLE)
    beds_only = scenario.model_copy(update={"bed_actions": {}})
    with pytest.raises(ScenarioError, match="years"):
        check_phased_options(beds_only, year=None, scale_years=True)

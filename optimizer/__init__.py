"""Elder-care facility-location and budget optimizer: scenario in, checked plan out.

Python API for notebooks::

    from optimizer import load_scenario, solve
    scenario, base_dir = load_scenario("scenarios/example/scenario.json")
    result = solve(scenario, base_dir)
    result.checked.cost, result.checked.targets
"""

from optimizer.plan import PlanResult, prepare, prepare_tables, solve, solve_file, solve_tables
from optimizer.scenario.format import Scenario, load_scenario, parse_scenario

__all__ = ["PlanResult", "Scenario", "load_scenario", "parse_scenario", "prepare", "prepare_tables", "solve",
           "solve_file", "solve_tables"]

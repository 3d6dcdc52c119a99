"""Report: plan.json, the plan contract, every figure taken from the checker.

`document` writes the plan document (facilities, cost, targets, coverage, solver status, bound
and gap); `network` adds its section on walking reach. `atomic` writes every output file (here,
in export and in sweep) whole or not at all; `outdir` checks an output folder before a run.

Flow: check → **report** (beside export) → sweep and cli, which write and read plan.json.
"""

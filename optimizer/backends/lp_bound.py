"""A lower bound from the LP relaxation, solved by interior point beside a MIP run.

On large covering models HiGHS's branch-and-cut may spend its whole time limit in the root
LP (dual simplex, highly degenerate) and report only a trivial bound; measured on a
20,000 x 3,000 four-type city: bound -468,150,000 after 120 s, while interior point solved
the same LP to 157,651,765 in 41 s. So large models get the relaxation solved by interior
point in a second process, and the better of the two proven bounds is reported.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor

import numpy as np

from optimizer.milp import Milp

# Below this many variables the MIP's own root LP is quick; a second process only costs.
LP_RACE_MIN_VARS = 20_000
# Above this many nonzeros a second copy of the model costs too much memory (seen: 5.4 GB
# beside a 7.9 GB MIP at 100,000 x 10,000 p-median); the MIP's own bound is reported.
LP_RACE_MAX_NNZ = 3_000_000


def wants_lp_race(model: Milp) -> bool:
    """Whether a model is large enough to gain from the race and small enough to afford it."""
    return model.n_vars >= LP_RACE_MIN_VARS and model.A.nnz <= LP_RACE_MAX_NNZ


_POOL: ProcessPoolExecutor | None = None


def start_lp_bound(model: Milp, time_limit_s: float) -> Future[float | None]:
    """Solve the LP relaxation of `model` in a worker process; the future yields its optimum."""
    global _POOL
    if _POOL is None:
        _POOL = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _POOL.submit(lp_relaxation_bound, model, time_limit_s)


def collect(future: Future[float | None] | None, wait_s: float) -> float | None:
    """The LP bound if the worker finished within `wait_s` more seconds, else None."""
    if future is None:
        return None
    try:
        return future.result(timeout=wait_s)
    except Exception:  # a late or failed auxiliary bound is simply not used
        future.cancel()
        return None


def lp_relaxation_bound(model: Milp, time_limit_s: float) -> float | None:
    """Optimum of the LP relaxation (interior point + crossover), or None if not proven in time.

    Slightly lowered (relative 1e-9) so solver tolerances never make it exceed the true bound.
    """
    import highspy

    from optimizer.backends.highs import _highs_lp

    lp = _highs_lp(highspy, model)
    lp.integrality_ = []
    h = highspy.Highs()
    for key, value in (("output_flag", False), ("solver", "ipm"), ("threads", 1),
                       ("time_limit", float(time_limit_s))):
        h.setOptionValue(key, value)
    h.passModel(lp)
    h.run()
    if h.getModelStatus().name != "kOptimal":
        return None
    value = float(h.getInfo().objective_function_value)
    return value - 1e-9 * max(1.0, abs(value)) if np.isfinite(value) else None

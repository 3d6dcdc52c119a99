"""One solver interface: options in, a typed result out, statuses mapped explicitly."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from optimizer.model.milp import Milp
from optimizer.tuning import TUNING, Tuning

# What a backend can do (`Backend.capabilities`). Code asks for a capability, never a backend's name.
MIP = "mip"                    # integer variables
CONTINUOUS = "continuous"      # continuous variables as such (CP-SAT scales them to integers)
START = "start"                # starts from a given plan
BOUND = "bound"                # reports a proven bound
HEURISTIC = "heuristic"        # plans without branch and bound: its status is `heuristic` with a gap
BRANCH_AND_BOUND = "branch_and_bound"   # proves optimality by search; large models get a start and a polish
SLOW_SET_UP = "slow_set_up"    # sets a large model up without heeding its time limit (HiGHS presolve,
                               # CP-SAT model building): such models go to a search strategy instead


class Status(enum.StrEnum):
    """What a solver run established, in our words (mapped per backend by a table)."""

    OPTIMAL = "optimal"                      # proven optimal within the relative gap asked for
    TIME_LIMIT_FEASIBLE = "time_limit_feasible"  # stopped by the limit with a plan, not proven
    HEURISTIC = "heuristic"                  # a plan from heuristics, with a proven bound and gap
    TIME_LIMIT_NO_SOLUTION = "time_limit_no_solution"  # stopped by the limit, no plan found
    INFEASIBLE = "infeasible"                # proven: no plan satisfies the rows
    UNBOUNDED = "unbounded"
    UNKNOWN = "unknown"                      # anything a backend reports that we did not map
    ERROR = "error"

    @property
    def has_solution(self) -> bool:
        """Whether a solution vector comes with this status."""
        return self in (Status.OPTIMAL, Status.TIME_LIMIT_FEASIBLE, Status.HEURISTIC)


@dataclass(frozen=True)
class SolveOptions:
    """How to run a backend.

    Attributes
    ----------
    time_limit_s : float
        Wall-clock limit for the solver call.
    mip_gap : float
        Relative gap at which the run may stop and call the plan optimal.
    threads : int
        Worker threads the solver may use.
    start : float array or None
        A feasible (or nearly feasible) solution to start from, length ``n_vars``.
    presolve : bool
        Let the solver presolve the model (default). False skips presolve (HiGHS; the other
        backends ignore it): for a run that starts from a feasible plan on a model whose
        presolve alone takes longer than the time limit (see `optimizer.sweep.levels.run_level`).
    tuning : Tuning
        Time shares, sizes and step rules of the search and the bounds (`optimizer.tuning`).
    on_incumbent : callable or None
        Called with (objective, bound) of the minimisation, including ``Milp.offset``, as the
        solver finds better plans and bounds (None where it has none yet); HiGHS reports from
        its search, other backends not at all. For progress displays: it must return quickly.
    """

    time_limit_s: float = 60.0
    mip_gap: float = 1e-4
    threads: int = 2
    start: npt.NDArray[np.float64] | None = None
    presolve: bool = True
    tuning: Tuning = TUNING
    on_incumbent: Callable[[float | None, float | None], None] | None = None


@dataclass(frozen=True)
class SolveResult:
    """A backend's answer, as it is: never a status better than what the solver proved.

    Attributes
    ----------
    status : Status
    x : float array or None
        Variable values (``n_vars``) when ``status.has_solution``.
    objective : float or None
        Objective of `x` including ``Milp.offset``.
    bound : float or None
        Best proven lower bound (minimisation), including the offset.
    gap : float or None
        ``|objective - bound| / max(|objective|, 1e-9)``; 0 when proven optimal.
    seconds : float
        Wall time of the solver call.
    nodes : int or None
        Branch-and-bound nodes, where the backend reports them.
    time_limited : bool
        True when the run stopped on its time limit.
    backend : str
        Name of the backend that produced this.
    native_status : str
        The solver's own status text, for the report.
    notes : tuple of str
        Anything the user should know (integer scaling applied, isolation in a subprocess...).
    """

    status: Status
    x: npt.NDArray[np.float64] | None
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    nodes: int | None
    time_limited: bool
    backend: str
    native_status: str = ""
    notes: tuple[str, ...] = field(default=())


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """Relative MIP gap as HiGHS defines it: ``|obj - bound| / max(|obj|, tiny)``."""
    if objective is None or bound is None or not np.isfinite(bound):
        return None
    return float(abs(objective - bound) / max(abs(objective), 1e-9))


def gap_goal(bound: float, mip_gap: float) -> float:
    """Return the highest objective whose `relative_gap` to `bound` is within `mip_gap`.

    A search (minimisation) can stop there. The gap is relative to the objective, not the
    bound, so for a negative bound (maximal covering) ``bound + mip_gap * |bound|`` lies just
    outside the gap and a plan stopped there would be reported unproven; the goal is
    ``bound / (1 + mip_gap)`` instead.
    """
    if not np.isfinite(bound):
        return bound
    if bound >= 0:
        return bound / (1.0 - mip_gap) if mip_gap < 1.0 else np.inf
    return bound / (1.0 + mip_gap)


class Backend(ABC):
    """A solver behind the common interface.

    Subclasses set `name`, `capabilities` and `native_family` and implement `solve`.
    ``native_family`` names the compiled library a backend loads; two backends with
    conflicting families cannot share a process (see `optimizer.solvers.registry`).
    """

    name: str = ""
    capabilities: frozenset[str] = frozenset()
    native_family: str = ""

    @classmethod
    @abstractmethod
    def is_available(cls) -> bool:
        """Whether the backend's library can be imported here."""

    @abstractmethod
    def solve(self, model: Milp, options: SolveOptions) -> SolveResult:
        """Solve `model` and map the outcome to a `SolveResult`."""

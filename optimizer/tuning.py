"""Every tuning value of the engine in one documented record: time shares, sizes, step rules.

The search and the bounds read their values from a `Tuning` (the default is `TUNING`); a caller
can pass another through `SolveOptions.tuning`. Each field says what it trades and why it has its
value. Values tied to a machine's speed (the seconds estimates) come from the benchmarks named in
their notes; `bench/RESULTS.md` holds the figures, the machine and the commands that give them.
Nothing here changes what a plan means, only how fast a good plan and a tight bound are found.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    """Time shares, sizes and step rules of the search and the bounds.

    Shares are fractions of the time named in each note. Fields are grouped by the step of the
    flow that reads them.
    """

    # -- model: independent parts and adjacency ---------------------------------------------
    part_min_vars: int = 2_000
    """A model with fewer variables is solved whole: splitting it buys nothing."""
    part_own_share: float = 0.05
    """A part holding at least this share of the nonzeros is solved on its own; the small rest
    goes together, since a solver call per tiny part costs more than it saves."""
    components_compiled_nnz: int = 2_000_000
    """From this many nonzeros the independent parts are found by the compiled union-find;
    below, by SciPy (no compilation: a fresh install's first solve of a small model does not
    wait for numba)."""
    local_row_factor: float = 20.0
    """A row longer than this many times the median live row is region-wide (a count, a share,
    a budget): windows and blocks do not grow through it, or every window would be the map."""
    local_row_min: int = 64
    """... and a row this short is always local, however short the median."""
    reduce_max_passes: int = 5
    """Exact reductions repeat until nothing changes, at most this many passes (later passes
    find little and each costs a pass over the model)."""

    # -- phases: branch-and-bound solvers on large models ------------------------------------
    greedy_start_size: int = 5_000
    """From this size (variables + rows) a branch-and-bound solver gets the greedy plan as its
    start and a polish after it: on large covering models it otherwise spends its time finding a
    first plan; below it, solvers find plans at once."""
    greedy_start_swap_share: float = 0.1
    """Of a phase's time, the greedy start's swaps."""
    polish_share: float = 0.5
    """Of a large model's phase, the share held back from the solver for the polish (core and
    window MIPs, `optimizer.search.polish`): the solver reaches its plan early and the polish's
    LP ranking then pays more than more branching (the synthetic city, `python -m bench.synthetic`;
    see bench/RESULTS.md)."""
    phased_polish_share: float = 0.75
    """... on a large model planned over several years (`optimizer.search.phased_start` gives
    its start): there the solver rarely finishes its root LP and gains little on the start, while
    the first-order LP's bound climbs with its time (the three-year city, `python -m bench
    phased`; see bench/RESULTS.md)."""
    bound_lp_share: float = 0.95
    """Of the polish's time on a model outside the covering heuristics (phased, beds), the LP that
    runs for its bound beside the window search (stopped at this share if need be); the rest
    reads the bound off its duals before the deadline."""
    useful_gap: float = 0.05
    """A time-limited solver's own bound beyond this gap counts as useless: the covering dual
    ascent's bound is then computed and kept when better."""
    covering_bound_share: float = 0.15
    """Of the time limit, the covering dual ascent and its block re-solves after a solver left
    no useful bound (out of the time held back for the polish)."""
    covering_adjust_share: float = 0.2
    """Of that covering-bound time, the dual adjustment (at most `covering_adjust_max_s`)."""
    covering_adjust_max_s: float = 5.0
    """Seconds, at most, for that dual adjustment."""
    covering_blocks_share: float = 0.8
    """Of that covering-bound time, the block re-solves."""
    later_phases_share: float = 0.2
    """Of the time left when a phase other than the last starts, the share kept for the phases after
    it (their solver, bound and polish). Without it a large model's first phase polished to the end
    of the limit and the cost phase then ran past it by its minimum solver time and its bound
    (a 5,000-unit city sweep level took 32 s against a 30 s limit)."""
    polish_lp_share: float = 0.5
    """Of the polish's time, the most the LP relaxation that ranks its core may be expected to
    take; beyond it the core is ranked by reduced costs."""
    polish_core_share: float = 0.5
    """Of the polish's time left after the LP, core MIPs; windows get the rest."""
    set_up_seconds: float = 2.4
    """HiGHS's and CP-SAT's set-up of a large model with a start, which no time limit
    interrupts, is estimated as ``set_up_seconds * (nonzeros / 1e6) ** set_up_power``, from
    synthetic-city runs (`python -m bench.synthetic`) of about one and about fifteen million
    nonzeros on the machine described in bench/RESULTS.md; a faster machine needs less."""
    set_up_power: float = 1.5
    """See `set_up_seconds`."""
    set_up_share: float = 0.5
    """A model whose expected set-up exceeds this share of the solver's time is planned by the
    search strategy instead (`optimizer.search.phases`), whose MIPs are small."""
    hint_gap: float = 0.01
    """A branch-and-bound solver stopped further than this from its bound on a large covering
    model gets a hint naming the lagrangian backend."""

    # -- sweep levels (`optimizer.sweep.levels`) ----------------------------------------------
    level_finish_share: float = 0.1
    """Of a sweep level's time limit, the share kept for what follows the solve (the independent
    check and the plan document) and for solver calls that overrun their limit: the level's start,
    its phases and that share fit the limit (5,000-unit synthetic city, bench/RESULTS.md, budget
    sweep: the check and document take well under a second, HiGHS's set-up a little more)."""

    # -- the lagrangian strategy (`optimizer.search.lagrangian`) -----------------------------
    swap_share: float = 0.1
    """Of the time limit, the first plan's swaps (twice this with two threads, where the dual
    runs beside them); of the search time, later swaps."""
    bound_share: float = 0.5
    """Of the time left after the first plan, the bound (on one thread); the rest: the search."""
    adjust_share: float = 0.04
    """Of the time limit, the dual ascent's adjustment (at least one second)."""
    lp_share: float = 0.6
    """Of the time limit, the latest the whole LP relaxation may be expected to end: beyond it
    the search would be left too little."""
    core_share: float = 0.5
    """Of the search time after its swaps, core MIPs when the LP ranked the sites (small cores
    first); windows get the rest and still gain after small cores."""
    full_core_share: float = 0.75
    """... and when the first core is full size (no LP): one MIP that needs most of its time,
    and windows after it rarely gain."""
    first_bound_blocks_share: float = 0.85
    """Of the bound's first time, the block re-solves; the subgradient gets the rest."""
    subgradient_trial_share: float = 1 / 3
    """While the blocks still gain, the subgradient's trial share of its time; it keeps the rest
    only if it gained on the blocks."""

    # -- search: greedy, windows, cores, row weighting ---------------------------------------
    swap_chunk: int = 64
    """Candidate swaps evaluated per compiled call of the greedy's local search."""
    stall_kicks: int = 3
    """The greedy's local search stops after this many fruitless kicks per open facility."""
    window_first_size: int = 100
    """Integer variables in the first windows of window search."""
    window_grow: float = 1.5
    """A window that HiGHS solved to optimality grows by this factor (more room to improve)."""
    window_shrink: float = 0.7
    """A window HiGHS did not finish shrinks by this factor."""
    window_seconds: float = 2.0
    """Time limit of one window's solve, or a twentieth of the search when that is longer."""
    core_grow: float = 1.5
    """A core MIP solved to optimality grows the next core's closed sites by this factor."""
    core_shrink: float = 0.7
    """A core MIP not finished shrinks the next core's closed sites by this factor."""
    core_small_first: float = 0.5
    """With small cores first: the first core's share of the plan's open sites, and each MIP's
    share of the time left."""
    weighting_first_chunk: int = 1_000
    """Row weighting: steps before the first deadline check ..."""
    weighting_chunk_s: float = 0.1
    """... then as many steps as take about this many seconds between checks."""
    weighting_stall_steps: int = 50_000
    """Row weighting stalls after this many steps without a gain (and at least as many as it
    took to reach the last gain)."""

    # -- bounds: LP relaxation, dual ascent, subgradient, blocks -----------------------------
    interior_seconds: float = 1.4
    """HiGHS's interior point on the LP relaxation is estimated at ``interior_seconds *
    (binding nonzeros / 1e5) ** interior_power`` seconds, from the LPs of `python -m bench
    methods` and the synthetic city on the machine described in bench/RESULTS.md."""
    interior_power: float = 1.3
    """See `interior_seconds`."""
    first_order_seconds: float = 1.2
    """HiGHS's first-order LP (PDLP, one thread) is estimated at this many seconds per 1e5
    binding nonzeros to come within about 0.1% of the LP bound."""
    first_order_gain: float = 2.0
    """The first-order LP runs instead of the interior point where it is expected to be at least
    this many times faster (it returns what it has when stopped; the interior point returns
    nothing)."""
    interior_risk: float = 1.5
    """The interior point runs only where it fits with this factor to spare: it has overrun its
    estimate by about this much."""
    subgradient_patience: int = 30
    """Subgradient steps without a new best bound before the step factor is halved (Beasley)."""
    subgradient_overshoot: float = 0.05
    """The subgradient step aims this share of |target| beyond the target (Beasley)."""
    ascent_search_rounds: int = 12
    """Golden-section rounds of the dual ascent's step-size search."""
    ascent_range: float = 10.0
    """The dual ascent's step-size search spans this factor either side of its first scale."""
    adjust_passes: int = 5
    """Passes of the dual adjustment over the rows."""
    adjust_chunk: int = 4_096
    """Rows adjusted per compiled call of the dual adjustment."""
    rank_tie_weight: float = 1e-6
    """Weight of the unmoved reduced costs in the dual ascent's site ranking (breaks ties at 0)."""
    block_rows: int = 1_000
    """Rows in the first blocks of block re-solves (each a small LP)."""
    block_min_rows: int = 50
    """Blocks never shrink below this many rows."""
    block_trial: int = 4
    """Blocks of each size tried before the two sizes are compared by bound gained per second."""
    block_share: float = 1 / 8
    """Of the block re-solves' time, the most one block's LP may take: a slower block is too
    large, so sizes shrink."""
    neighbour_row_limit: int = 200
    """Rows holding more facilities than this (counts, budgets) give the greedy no neighbours."""

    # -- the p-median engine (`optimizer.search.pmedian`) -------------------------------------
    pmedian_seed: int = 20_260_101
    """Seed of the interchange's candidate orders: runs repeat exactly (unless cut by time)."""
    pmedian_chunk: int = 50
    """Subgradient steps between fixing rounds and Lagrangian-heuristic interchanges."""
    pmedian_seeds_per_chunk: int = 2
    """Of each chunk's better subproblem choices, the last this many seed the interchange (more
    find better plans early, but each costs a full local search)."""
    pmedian_overshoot: float = 0.01
    """The p-median step aims this share of the incumbent beyond it: the incumbent from the
    interchange is usually within a fraction of a per cent of the optimum, so aiming far
    beyond it overshoots."""
    pmedian_min_step: float = 0.005
    """The ascent stops (and fixes what it can) once the step factor halves below this."""
    pmedian_refix_step: float = 0.1
    """After fixing changed the relaxation, the ascent resumes with this step factor."""
    pmedian_closer: str = "both"
    """What closes a gap the root bound leaves: "tree" (Lagrangian branch and bound,
    `optimizer.search.pmedian_tree`), "radius" (the radius formulation on HiGHS), or "both"
    (the tree for `pmedian_tree_share` of the time left, then the radius formulation)."""
    pmedian_tree_share: float = 0.5
    """With `pmedian_closer` "both", the tree's share of the time left after the root."""
    pmedian_node_steps: int = 50
    """Subgradient steps at most per branch-and-bound node (warm from its parent's multipliers)."""
    pmedian_node_step: float = 0.5
    """A node's first step factor: its parent's multipliers are near, so smaller steps than the
    root's 2 (0.25 and 0.5 prove pmed36 in about the same number of nodes; 0.5 in fewer steps)."""
    pmedian_node_patience: int = 10
    """A node halves its step factor after this many steps without a better bound."""
    pmedian_node_improve: float = 1.02
    """A node's subproblem choice within this factor of the incumbent is improved by the
    interchange (nearer ones more often lead to a better plan; each costs a local search)."""
    radius_cost_share: float = 0.2
    """Of the time, what the least-radius phase leaves to the cost phase after it when there are
    costs to weigh."""
    radius_lp_share: float = 0.25
    """Of the least-radius phase's time after its first plan, the most the LP relaxations may take
    to raise the proven lower end (they usually need a few seconds in all)."""
    pmedian_cost_share: float = 0.2
    """Of the time left, what a p-median distance phase leaves to a cost phase that follows with
    costs to weigh (a cost phase without costs keeps the distance plan at no cost)."""
    pmedian_radius_max_nnz: int = 500_000
    """The radius formulation goes to HiGHS only up to this many nonzeros: HiGHS's set-up of a
    larger one is not interrupted by its time limit and takes far more memory (the 20,000-unit
    city's overran its limit by 6 s at 1.8 GB); the 5,000-unit city's (about 16,000 columns) is
    solved in a second."""


TUNING = Tuning()
"""The defaults every solve uses unless `SolveOptions.tuning` says otherwise."""

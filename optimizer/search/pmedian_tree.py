"""Lagrangian branch and bound for the p-median (Beasley 1985), on the sites left free by fixing.

Each node holds the sites' states (free, fixed closed, fixed open) and the multipliers of its
parent. It re-runs a short subgradient ascent from them, is pruned once its bound shows nothing
better than the incumbent, fixes sites by its reduced costs, and otherwise branches on the free
site its subproblem opens with the most negative reduced sum: opened first (depth first), then
closed. Each subproblem choice is valued as a plan and improved by the interchange when it comes
close to the incumbent. While nodes remain, the proven bound is the least bound among them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from optimizer.bounds.pmedian_lagrangian import (
    CLOSED,
    FREE,
    OPEN,
    LagrangianState,
    PMedianData,
    ascend,
    beyond_one,
    evaluate,
    fix_by_reduced_costs,
)
from optimizer.search.pmedian_interchange import Interchange, Outcome
from optimizer.tuning import Tuning

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Node:
    """A subtree: its sites' states and count, and its parent's multipliers and bound."""

    state: npt.NDArray[np.int8]
    p_min: int
    p_max: int
    lam: FloatArray
    bound: float


def lagrangian_tree(data: PMedianData, lam: FloatArray, bound: float, search: Interchange, out: Outcome,
                    deadline: float, tuning: Tuning) -> int:
    """Search the tree below `data`'s fixings until it is exhausted or `deadline`; sets
    `out.bound` to what it proves. Returns the number of nodes solved."""
    stack = [Node(data.state.copy(), data.p_min, data.p_max, lam, bound)]
    nodes = 0
    while stack and time.perf_counter() < deadline:
        node = stack.pop()
        if beyond_one(data, node.bound, out.value):
            continue
        children = _solve_node(data, node, search, out, deadline, tuning)
        if children is None:   # cut by the deadline: it stays open
            stack.append(node)
            break
        nodes += 1
        stack.extend(children)
    open_bounds = [n.bound for n in stack if not beyond_one(data, n.bound, out.value)]
    out.bound = max(out.bound, min([out.value, *open_bounds]))
    return nodes


def _solve_node(data: PMedianData, node: Node, search: Interchange, out: Outcome, deadline: float,
                tuning: Tuning) -> list[Node] | None:
    """The node's children (none when pruned or a leaf); None when the deadline cut it."""
    sub = replace(data, state=node.state.copy(), p_min=node.p_min, p_max=node.p_max)
    if int(np.count_nonzero(sub.state == FREE)) < sub.p_min or sub.p_max < 0:
        return []
    value, rho, chosen = evaluate(sub, node.lam)
    st = LagrangianState(node.lam.copy(), node.lam.copy(), value, rho, chosen, tuning.pmedian_node_step)
    ascend(sub, st, out.value, deadline, iterations=tuning.pmedian_node_steps, patience=tuning.pmedian_node_patience,
           overshoot=tuning.pmedian_overshoot, min_step=tuning.pmedian_min_step)
    if time.perf_counter() >= deadline and not beyond_one(sub, st.bound, out.value):
        return None
    _try_plan(st.chosen, search, out, deadline, tuning.pmedian_node_improve)
    if beyond_one(sub, st.bound, out.value):
        return []
    st.bound, st.rho, st.chosen = evaluate(sub, st.best_lam)
    fix_by_reduced_costs(sub, st, out.value)
    st.bound, st.rho, st.chosen = evaluate(sub, st.best_lam)
    if beyond_one(sub, st.bound, out.value):
        return []
    free_chosen = np.flatnonzero(st.chosen & (sub.state == FREE))
    free = np.flatnonzero(sub.state == FREE)
    if len(free) == 0:
        return []   # a leaf: its one plan was valued above
    pick = free_chosen if len(free_chosen) else free
    site = int(pick[np.argmin(st.rho[pick])])
    closed_state, open_state = sub.state.copy(), sub.state.copy()
    closed_state[site], open_state[site] = CLOSED, OPEN
    return [Node(closed_state, sub.p_min, sub.p_max, st.best_lam, st.bound),
            Node(open_state, max(0, sub.p_min - 1), sub.p_max - 1, st.best_lam, st.bound)]


def _try_plan(chosen: npt.NDArray[np.bool_], search: Interchange, out: Outcome, deadline: float,
              near: float) -> None:
    """Value the subproblem's choice as a plan; improve it when within `near` times the incumbent."""
    value = search.value(chosen)
    if value < near * out.value:
        plan, value = search.improve(chosen, deadline)
        if value < out.value - 1e-9 * max(1.0, out.value):
            out.is_open, out.value = plan, value

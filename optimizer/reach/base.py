"""The reach record every source fills, and the helpers they share.

``Reach.by_type[t]`` is a CSR array (demand x site) whose stored entries are the pairs within
the type's limit and whose values are the distances (metres) or times (minutes). Explicit zero
distances are kept as entries: a unit standing on a site is within reach.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimizer.inputs.geodata import Region
from optimizer.reach.network import NetworkSummary
from optimizer.scenario.fields import FacilityType
from optimizer.scenario.format import Scenario

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Reach:
    """Per facility type (scenario order): CSR demand x site of distances within the limit.

    Attributes
    ----------
    by_type : tuple of csr_array
    unit : str
        ``"m"`` or ``"min"``: what the stored values and the limits measure.
    limits : tuple of float
        Each type's limit in `unit`.
    source : str
        ``"straight_line"``, ``"table"`` or ``"network"``.
    network : NetworkSummary or None
        Network mode: access distances, graph size, cache use (the plan's `network` section).
    """

    by_type: tuple[sp.csr_array, ...]
    unit: str
    limits: tuple[float, ...]
    source: str
    network: NetworkSummary | None = None


def served_mask(ftype: FacilityType, group: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_]:
    """``[i]``: unit i belongs to a group the type serves (all units if `serves` is omitted)."""
    if ftype.serves is None:
        return np.ones(len(group), dtype=bool)
    return np.isin(group, np.array(ftype.serves, dtype=object))


def pairs_to_csr(rows: IntArray, cols: IntArray, values: FloatArray,
                 shape: tuple[int, int]) -> sp.csr_array:
    """CSR from (row, col, value) triplets keeping explicit zeros; pairs must be unique."""
    order = np.lexsort((cols, rows))
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    return sp.csr_array((values[order], cols[order].astype(np.int64), indptr), shape=shape)


def served_and_candidates(scenario: Scenario, region: Region, t: int) -> tuple[IntArray, IntArray]:
    """Indices of the units type t serves and of the sites that may host it."""
    ftype = scenario.facility_types[region.type_names[t]]
    rows = np.flatnonzero(served_mask(ftype, region.demand.group))
    cols = np.flatnonzero(region.sites.candidate[:, t])
    return rows, cols

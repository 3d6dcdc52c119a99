"""Precomputed distances or travel times, long form: one row per (demand, site) pair.

Read once with the region (`optimizer.inputs.geodata.load_region`); reach filters the pairs by each
type's limit, and the checker looks up open facilities in the same pairs with its own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import GeodataError
from optimizer.inputs.drivers import TABLE_READERS, checked_input, input_format
from optimizer.scenario.fields import DistanceTableSpec

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DistancePairs:
    """Pairs ``(demand[k], site[k]) -> value[k]`` as positions into the region's arrays."""

    demand: IntArray
    site: IntArray
    value: FloatArray
    unit: str


def read_table_file(path: Path, where: str = "distances.path") -> pd.DataFrame:
    """A CSV (all columns as text) or Parquet file as a DataFrame, read only as its name says."""
    input_format(path, where, readers=TABLE_READERS)   # a URL or /vsi… path is refused first
    if not path.exists():
        raise GeodataError(f"file not found: {path}; paths are relative to the scenario file", where)
    fmt = checked_input(path, where, readers=TABLE_READERS)
    try:
        if fmt.driver == "Parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas/pyarrow parse errors
        raise GeodataError(f"cannot read {path.name}: {exc}", where) from None


def distance_pairs(frame: pd.DataFrame, spec: DistanceTableSpec, demand_ids: npt.NDArray[np.object_],
                   site_ids: npt.NDArray[np.object_]) -> DistancePairs:
    """Check a long-form table and map its ids to positions; every id must be known."""
    for where, column in (("demand", spec.demand), ("site", spec.site), ("value", spec.value)):
        if column not in frame.columns:
            raise GeodataError(f"no column '{column}' in the distance table; columns: "
                               f"{', '.join(map(str, frame.columns))}", f"distances.{where}")
    i = _index_of(frame[spec.demand], demand_ids, "distances.demand", "demand")
    s = _index_of(frame[spec.site], site_ids, "distances.site", "site")
    value = pd.to_numeric(frame[spec.value], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(value) | (value < 0)
    if bad.any():
        raise GeodataError(f"column '{spec.value}' must hold finite, non-negative numbers (data row "
                           f"{int(np.flatnonzero(bad)[0]) + 1})", "distances.value")
    key = i * len(site_ids) + s
    if len(np.unique(key)) != len(key):
        raise GeodataError("a (demand, site) pair appears twice; give one value per pair", "distances.path")
    return DistancePairs(i, s, value, spec.unit)


def _index_of(column: pd.Series, ids: npt.NDArray[np.object_], where: str, name: str) -> IntArray:
    """Positions of the table's ids among the layer's ids (compared as text)."""
    lookup = pd.Index(pd.Series(ids).astype(str))
    pos = lookup.get_indexer(pd.Index(column.astype(str)))
    if (pos < 0).any():
        unknown = pd.unique(column[pos < 0].astype(str))[:5]
        raise GeodataError(f"{name} ids not in the {name} layer: {', '.join(unknown)}", where)
    return pos.astype(np.int64)

"""Load demand units and sites from files or inline GeoJSON into projected arrays.

Polygons count by their centroid (or a point on their surface with ``demand.point:
"surface"``); lon/lat data is projected to the scenario CRS, or to the UTM zone of the data.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from optimizer.errors import GeodataError, Problem, ScenarioError, raise_if
from optimizer.inputs.coordinates import coordinate_problems
from optimizer.inputs.distance_table import DistancePairs, distance_pairs, read_table_file
from optimizer.inputs.drivers import TABLE_READERS, checked_input, input_format, layer_names, read_vector
from optimizer.scenario.fields import (
    MAX_CAPACITY,
    MAX_YUAN,
    DemandSpec,
    DistanceTableSpec,
    LandTarget,
    LayerSpec,
    SitesSpec,
)
from optimizer.scenario.format import Scenario, zone_problems

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Demand:
    """Demand units as arrays, index ``i``.

    ``ids`` keep the values the user gave; ``group`` and ``zone`` are strings
    (``""`` when the scenario names no such attribute).
    """

    ids: ObjArray
    xy: FloatArray
    group: ObjArray
    zone: ObjArray
    weights: dict[str, FloatArray]
    frame: pd.DataFrame
    names: ObjArray | None = None

    @property
    def n(self) -> int:
        """Number of demand units."""
        return len(self.ids)


@dataclass(frozen=True)
class Sites:
    """Candidate and existing sites as arrays, index ``s``; type axis ``t`` in scenario order.

    ``allowed[s, t]`` and ``existing[s, t]`` are booleans; ``capex_cny[s, t]`` is the capital
    cost of a new facility before co-location factors; ``capacity[s, t]`` its capacity (NaN for
    an uncapacitated type).
    """

    ids: ObjArray
    xy: FloatArray
    zone: ObjArray
    allowed: BoolArray
    existing: BoolArray
    capex_cny: FloatArray
    capacity: FloatArray
    frame: pd.DataFrame
    beds: dict[str, FloatArray] = field(default_factory=dict)
    land_m2: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    names: ObjArray | None = None

    @property
    def n(self) -> int:
        """Number of sites."""
        return len(self.ids)

    @property
    def candidate(self) -> BoolArray:
        """``[s, t]``: the site may host, or already hosts, type t."""
        return self.allowed | self.existing


@dataclass(frozen=True)
class Region:
    """Everything geographic a scenario refers to, projected to one metric CRS."""

    demand: Demand
    sites: Sites
    crs: str
    type_names: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    distances: DistancePairs | None = None


def load_region(scenario: Scenario, base_dir: Path) -> Region:
    """Read, check and project the demand and site layers of `scenario`.

    Raises `GeodataError` listing every problem found, each naming the feature or field.
    """
    demand_frame = read_layer(scenario.demand, base_dir, "demand")
    sites_frame = read_layer(scenario.sites, base_dir, "sites")
    table = None
    if scenario.distances is not None:
        if scenario.distances.path is None:
            raise GeodataError("give the distance table's `path`", "distances.path")
        input_format(scenario.distances.path, "distances.path", readers=TABLE_READERS)
        table = read_table_file(base_dir / scenario.distances.path)
    return region_from_frames(scenario, demand_frame, sites_frame, table)


def region_from_frames(scenario: Scenario, demand_frame: pd.DataFrame, sites_frame: pd.DataFrame,
                       distances: pd.DataFrame | None = None) -> Region:
    """A `Region` from in-memory tables: the Python API for data that has no files.

    GeoDataFrames are projected like files; plain DataFrames (no geometry) need a distance
    table, since there is nothing to measure straight lines on. `distances` is long form with
    the columns named in `scenario.distances` (defaults: demand_id, site_id, distance).
    """
    notes: list[str] = []
    geo = isinstance(demand_frame, gpd.GeoDataFrame) and isinstance(sites_frame, gpd.GeoDataFrame)
    if not geo and distances is None:
        raise GeodataError("tables without geometry need a distance table (`distances`)", "distances")
    crs = scenario.crs or "none"
    if geo:
        assert isinstance(demand_frame, gpd.GeoDataFrame) and isinstance(sites_frame, gpd.GeoDataFrame)
        _check_coordinates(scenario, demand_frame, sites_frame, scenario.crs)
        crs = scenario.crs or _utm_crs(demand_frame, sites_frame, notes)
        demand_frame = _project(demand_frame, crs, "demand", scenario.crs, notes)
        sites_frame = _project(sites_frame, crs, "sites", scenario.crs, notes)
        _check_coordinates(scenario, demand_frame, sites_frame, crs, stage=f" after projection to {crs}")
    types = tuple(scenario.facility_types)
    demand = _demand_arrays(demand_frame.reset_index(drop=True), scenario.demand, notes)
    sites = _site_arrays(sites_frame.reset_index(drop=True), scenario, types)
    pairs = None
    if distances is not None:
        spec = scenario.distances or DistanceTableSpec()
        pairs = distance_pairs(distances, spec, demand.ids, sites.ids)
    raise_if(zone_problems(scenario, set(demand.zone.astype(str)) | set(sites.zone.astype(str))), ScenarioError)
    return Region(demand, sites, crs, types, tuple(notes), pairs)


def land_need(target: LandTarget, weights: dict[str, FloatArray]) -> FloatArray:
    """Per unit, the land it asks for: per capita x population, or per 100 households / 100 x households."""
    if target.households is not None and target.per_100_households_m2 is not None:
        return target.per_100_households_m2 / 100.0 * weights[target.households]
    assert target.population is not None and target.per_capita_m2 is not None
    return target.per_capita_m2 * weights[target.population]


def grown_weights(scenario: Scenario, demand: Demand, year: int) -> dict[str, FloatArray]:
    """Every named weight in planning `year`: w x (1 + g)^(year - base_year), g per weight or per group.

    Without `years` (year 0) or growth, the weights as counted.
    """
    growth = scenario.demand.growth
    if not scenario.years or not growth:
        return dict(demand.weights)
    base = scenario.demand.base_year if scenario.demand.base_year is not None else scenario.years[0]
    out = dict(demand.weights)
    for name, rate in growth.items():
        if isinstance(rate, dict):
            per_unit = pd.Series(demand.group).map(rate).fillna(0.0).to_numpy(dtype=np.float64)
        else:
            per_unit = np.full(demand.n, float(rate))
        out[name] = demand.weights[name] * (1.0 + per_unit) ** (year - base)
    return out


def read_layer(spec: LayerSpec, base_dir: Path, name: str) -> gpd.GeoDataFrame:
    """One layer as a GeoDataFrame, from a file or inline features; never empty."""
    if spec.features is None and spec.path is None:
        raise GeodataError("give `path` (a file) or `features` (inline GeoJSON)", f"{name}.path")
    if spec.features is not None:
        frame = _inline_frame(spec.features, name)
    else:
        frame = _file_frame(base_dir, str(spec.path), spec.layer, name)
    if len(frame) == 0:
        raise GeodataError(f"the {name} layer has no features; check the file and `layer`", f"{name}.path")
    return frame.reset_index(drop=True)


def _file_frame(base_dir: Path, text: str, layer: str | None, name: str) -> gpd.GeoDataFrame:
    """The layer file `text` (relative to `base_dir`), read only as the format its name says."""
    where = f"{name}.path"
    input_format(text, where)   # a URL or /vsi… path is refused before anything looks for it
    path = base_dir / text
    if not path.exists():
        raise GeodataError(f"file not found: {path}; paths are relative to the scenario file", where)
    fmt = checked_input(path, where)
    if layer is not None:
        layers = layer_names(path, fmt, where)
        if layer not in layers:
            raise GeodataError(f"no layer '{layer}' in {path.name}; layers: {', '.join(layers)}",
                               f"{name}.layer")
    return read_vector(path, fmt, where, layer=layer)


def _inline_frame(features: dict[str, Any], name: str) -> gpd.GeoDataFrame:
    if features.get("type") != "FeatureCollection" or not isinstance(features.get("features"), list):
        raise GeodataError("inline features must be a GeoJSON FeatureCollection", f"{name}.features")
    try:
        return gpd.GeoDataFrame.from_features(features["features"], crs="EPSG:4326")
    except Exception as exc:  # shapely/geopandas errors on malformed GeoJSON
        raise GeodataError(f"malformed GeoJSON feature: {exc}", f"{name}.features") from None


def _check_coordinates(scenario: Scenario, demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame,
                       crs: str | None, *, stage: str = "") -> None:
    """Raise naming every feature whose coordinates are not finite or lie outside its CRS's valid
    area (`optimizer.inputs.coordinates`); a layer without a CRS is read in `crs` when given."""
    problems = []
    for frame, spec, name in ((demand, scenario.demand, "demand"), (sites, scenario.sites, "sites")):
        layer_crs = frame.crs or crs
        if layer_crs is not None:
            problems += coordinate_problems(frame, layer_crs, spec.id, name, stage=stage)
    raise_if(problems, GeodataError)


def _utm_crs(demand: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, notes: list[str]) -> str:
    frames = [f for f in (demand, sites) if f.crs is not None]
    if not frames:
        raise GeodataError("the layers have no CRS and the scenario gives none; set `crs` (a "
                           "projected CRS such as 'EPSG:32650') or give the files a CRS", "crs")
    bounds = frames[0].to_crs("EPSG:4326").total_bounds
    lon, lat = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
    zone = int(np.floor((lon + 180) / 6)) % 60 + 1
    crs = f"EPSG:{(32600 if lat >= 0 else 32700) + zone}"
    notes.append(f"no `crs` given: distances measured in {crs} (UTM zone {zone} of the data)")
    return crs


def _project(frame: gpd.GeoDataFrame, crs: str, name: str, given: str | None,
             notes: list[str]) -> gpd.GeoDataFrame:
    if frame.crs is None:
        notes.append(f"the {name} layer has no CRS; its coordinates are taken to be in {crs}")
        return frame.set_crs(crs)
    return frame.to_crs(crs)


def representative_xy(frame: pd.DataFrame, ids: ObjArray, name: str,
                      *, surface: bool = False) -> FloatArray:
    """``(n, 2)`` coordinates: points as they are, polygons by centroid (or surface point);
    NaN for a table without geometry."""
    if not isinstance(frame, gpd.GeoDataFrame):
        return np.full((len(frame), 2), np.nan)
    geoms = frame.geometry
    kinds = geoms.geom_type.to_numpy()
    bad = geoms.isna().to_numpy() | geoms.is_empty.to_numpy()
    bad |= ~np.isin(kinds, ["Point", "Polygon", "MultiPolygon"])
    if bad.any():
        listed = ", ".join(f"'{i}' ({k or 'no geometry'})" for i, k in zip(ids[bad][:5], kinds[bad][:5]))
        raise GeodataError(f"{int(bad.sum())} feature(s) are not points or polygons: {listed}; "
                           "give each a Point or Polygon geometry", f"{name} layer")
    points = geoms.representative_point() if surface else geoms.centroid
    return np.column_stack([points.x.to_numpy(), points.y.to_numpy()]).astype(np.float64)


def _ids(frame: pd.DataFrame, field_name: str, name: str) -> ObjArray:
    column = _column(frame, field_name, f"{name}.id", name)
    missing = column.isna().to_numpy()
    if missing.any():
        rows = np.flatnonzero(missing)[:5].tolist()
        raise GeodataError(f"features at rows {rows} have no id in '{field_name}'", f"{name}.id")
    ids = column.to_numpy(dtype=object)
    dup = column.duplicated(keep=False).to_numpy()
    if dup.any():
        raise GeodataError(f"duplicate ids in '{field_name}': "
                           f"{', '.join(map(str, pd.unique(ids[dup])[:5]))}; ids must be unique",
                           f"{name}.id")
    return ids


def _column(frame: pd.DataFrame, field_name: str, where: str, name: str) -> pd.Series:
    if field_name not in frame.columns:
        fields = ", ".join(c for c in frame.columns if c != frame.geometry.name)
        raise GeodataError(f"the {name} layer has no attribute '{field_name}'; its attributes are: "
                           f"{fields}", where)
    return frame[field_name]


def _labels(frame: pd.DataFrame, field_name: str | None, where: str, name: str,
            ids: ObjArray) -> ObjArray:
    """String labels (group, zone) of every feature; ``""`` when no attribute is named."""
    if field_name is None:
        return np.full(len(frame), "", dtype=object)
    column = _column(frame, field_name, where, name)
    missing = column.isna().to_numpy() | (column.astype(str).str.strip() == "").to_numpy()
    if missing.any():
        raise GeodataError(f"{int(missing.sum())} feature(s) have no value in '{field_name}': "
                           f"{_some(ids[missing])}", where)
    return column.astype(str).str.strip().to_numpy(dtype=object)


def numeric_column(frame: pd.DataFrame, field_name: str, where: str, name: str,
                   ids: ObjArray, *, allow_null: bool = False, maximum: float = np.inf) -> FloatArray:
    """A finite, non-negative numeric attribute, at most `maximum`; NaN for nulls when `allow_null`."""
    column = _column(frame, field_name, where, name)
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)
    null = column.isna().to_numpy()
    problems = []
    if (not allow_null) and null.any():
        problems.append(Problem(where, f"{int(null.sum())} feature(s) have no value in "
                                f"'{field_name}': {_some(ids[null])}"))
    text = np.isnan(values) & ~null
    if text.any():
        problems.append(Problem(where, f"'{field_name}' is not a number for {_some(ids[text])} "
                                f"(e.g. {column[text].iloc[0]!r})"))
    negative = values < 0
    if negative.any():
        problems.append(Problem(where, f"'{field_name}' is negative for {_some(ids[negative])}"))
    infinite = np.isinf(values)
    if infinite.any():
        problems.append(Problem(where, f"'{field_name}' is infinite for {_some(ids[infinite])}; give a finite number"))
    above = np.isfinite(values) & (values > maximum)
    if above.any():
        problems.append(Problem(where, f"'{field_name}' is above {maximum:g} for {_some(ids[above])} "
                                f"(e.g. {values[above][0]:g})"))
    raise_if(problems, GeodataError)
    return values


def _some(ids: ObjArray) -> str:
    shown = ", ".join(f"'{i}'" for i in ids[:5])
    return shown + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")


def _demand_arrays(frame: pd.DataFrame, spec: DemandSpec, notes: list[str]) -> Demand:
    ids = _ids(frame, spec.id, "demand")
    xy = representative_xy(frame, ids, "demand", surface=spec.point == "surface")
    if isinstance(frame, gpd.GeoDataFrame) and (~frame.geom_type.isin(["Point"])).any():
        notes.append(f"polygon demand units count by their {spec.point} point")
    weights = {name: numeric_column(frame, attr, f"demand.weights.{name}", "demand", ids)
               for name, attr in spec.weights.items()}
    group = _labels(frame, spec.group, "demand.group", "demand", ids)
    zone = _labels(frame, spec.zone, "demand.zone", "demand", ids)
    return Demand(ids, xy, group, zone, weights, frame, feature_names(frame, spec, "demand"))


def _site_arrays(frame: pd.DataFrame, scenario: Scenario, types: tuple[str, ...]) -> Sites:
    spec: SitesSpec = scenario.sites
    ids = _ids(frame, spec.id, "sites")
    xy = representative_xy(frame, ids, "sites")
    zone = _labels(frame, spec.zone, "sites.zone", "sites", ids)
    if spec.allowed is None:
        allowed = np.ones((len(ids), len(types)), dtype=bool)
    else:
        allowed = _type_sets(frame, spec.allowed, "sites.allowed", ids, types)
    existing = (np.zeros_like(allowed) if spec.existing is None
                else _type_sets(frame, spec.existing, "sites.existing", ids, types))
    capex = np.array([scenario.facility_types[t].capital_cost for t in types], dtype=np.float64)
    capex_cny = np.repeat(capex[None, :], len(ids), axis=0)
    for t, attr in ((types.index(name), attr) for name, attr in spec.cost.items()):
        values = numeric_column(frame, attr, f"sites.cost.{types[t]}", "sites", ids, allow_null=True,
                                maximum=MAX_YUAN)
        capex_cny[:, t] = np.where(np.isnan(values), capex_cny[:, t], values)
    beds = {kind: np.nan_to_num(numeric_column(frame, attr, f"sites.beds.{kind}", "sites", ids, allow_null=True))
            for kind, attr in spec.beds.items()}
    land = np.array([scenario.facility_types[t].land_m2 for t in types], dtype=np.float64)
    land_m2 = np.repeat(land[None, :], len(ids), axis=0)
    for name, attr in spec.land_m2.items():
        t = types.index(name)
        values = numeric_column(frame, attr, f"sites.land_m2.{name}", "sites", ids, allow_null=True)
        land_m2[:, t] = np.where(np.isnan(values), land_m2[:, t], values)
    return Sites(ids, xy, zone, allowed, existing, capex_cny, _capacities(frame, scenario, types, ids), frame,
                 beds, land_m2, feature_names(frame, spec, "sites"))


def feature_names(frame: pd.DataFrame, spec: LayerSpec, layer: str) -> ObjArray | None:
    """Each feature's name (None where empty) from `spec.name`, else a ``name`` column; None without either."""
    if spec.name is None and "name" not in frame.columns:
        return None
    column = _column(frame, spec.name or "name", f"{layer}.name", layer)
    text = column.astype(object).where(column.notna(), None).to_numpy(dtype=object)
    return np.array([None if value is None or not str(value).strip() else str(value).strip() for value in text],
                    dtype=object)


def _capacities(frame: pd.DataFrame, scenario: Scenario, types: tuple[str, ...], ids: ObjArray) -> FloatArray:
    """``[s, t]`` capacity: the site attribute if given, else the type's; NaN = uncapacitated."""
    default = np.array([np.nan if scenario.facility_types[t].capacity is None
                        else scenario.facility_types[t].capacity for t in types], dtype=np.float64)
    capacity = np.repeat(default[None, :], len(ids), axis=0)
    for name, attr in scenario.sites.capacity.items():
        t = types.index(name)
        values = numeric_column(frame, attr, f"sites.capacity.{name}", "sites", ids, allow_null=True,
                                maximum=MAX_CAPACITY)
        capacity[:, t] = np.where(np.isnan(values), capacity[:, t], values)
    return capacity


def _type_sets(frame: pd.DataFrame, field_name: str, where: str, ids: ObjArray,
               types: tuple[str, ...]) -> BoolArray:
    """Parse a comma-separated type list per site into a boolean ``[s, t]`` table."""
    column = _column(frame, field_name, where, "sites").fillna("").astype(str)
    tokens = column.str.split(",").explode().str.strip()
    tokens = tokens[tokens != ""]
    rows = tokens.index.to_numpy()
    star = (tokens == "*").to_numpy()
    table = np.zeros((len(frame), len(types)), dtype=bool)
    table[rows[star], :] = True
    named = tokens[~star]
    known = named.isin(types).to_numpy()
    if not known.all():
        bad = named[~known]
        first = bad.iloc[0]
        close = difflib.get_close_matches(first, types, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"types are: {', '.join(types)}"
        raise GeodataError(f"unknown facility type '{first}' at site '{ids[bad.index[0]]}' "
                           f"({len(bad)} unknown in all); {hint}", where)
    col = named.map({name: t for t, name in enumerate(types)}).to_numpy(dtype=np.int64)
    table[named.index.to_numpy(), col] = True
    return table

"""The sections of a scenario document, format 1: pydantic models of its layers, facility types,
targets, budget and solver options (`optimizer.scenario.format` assembles them into one document)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMAT_VERSION = 1

# Sane limits of the numbers a scenario gives: past them a value is a typing error (an extra zero
# run, a unit mix-up), never a plan. Every number must also be finite (no NaN, no Infinity: JSON
# 1e400 parses as infinity). Each field's description states its limit.
MAX_YUAN = 1e12            # one trillion yuan: above any county's or city's elder-care spending
MAX_RADIUS_M = 20_000_000.0   # 20,000 km: no two points on Earth are farther apart (a distance
                              # table may hold another unit, e.g. the OR-Library's costs)
MAX_MINUTES = 1440.0       # a day's walk
MAX_SPEED_M_PER_MIN = 500.0  # running pace is about 300 m/min
MAX_COUNT = 1_000_000      # facilities (or people per facility: `MAX_CAPACITY`)
MAX_CAPACITY = 1e9
MAX_LAND_M2 = 1e8          # 100 km² for one facility
MAX_M2_PER_PERSON = 10_000.0
MAX_YEARS = 100.0
MAX_TIME_LIMIT_S = 604_800.0   # one week per solve
MAX_THREADS = 1024         # and never more than the machine's cores (`optimizer.plan` caps, with a note)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class LayerSpec(_Strict):
    """Where a layer of features comes from."""

    path: str | None = Field(None, description="GeoJSON (.geojson, .json), GeoPackage (.gpkg), Shapefile (.shp) "
                             "or FlatGeobuf (.fgb), relative to the scenario file; read only as the format its "
                             "name says. No URLs or GDAL /vsi… paths.")
    layer: str | None = Field(None, description="Layer name inside a GeoPackage (or other multi-layer file).")
    features: dict[str, Any] | None = Field(None, description="Inline GeoJSON FeatureCollection instead of `path`.")
    id: str = Field("id", description="Attribute holding each feature's unique id.")
    zone: str | None = Field(None, description="Attribute naming the admin unit (street / township).")
    name: str | None = Field(None, description="Attribute with each feature's name (e.g. 西桥口村村委会用房), reported "
                             "beside its id in the plan, tables and maps; omitted: the `name` attribute when the "
                             "layer has one.")

    @model_validator(mode="after")
    def _one_source(self) -> LayerSpec:
        if self.path is not None and self.features is not None:
            raise ValueError("give one of `path` (a file) or `features` (inline GeoJSON), not both")
        return self


class DemandSpec(LayerSpec):
    """Residential communities and villages."""

    group: str | None = Field(None, description="Attribute classifying units, e.g. 'urban' / 'rural'.")
    weights: dict[str, str] = Field(
        default_factory=dict,
        description="Named weights -> numeric attributes, e.g. {'elderly': 'pop60'}. The first is the "
        "coverage weight of `max_coverage`.",
    )
    base_year: int | None = Field(
        None, description="Year the weights were counted (phased plans); default: the first planning year.")
    growth: dict[str, float | dict[str, float]] = Field(
        default_factory=dict, description="Named weight -> yearly growth rate, or {demand group: rate}: "
        "the weight in year y is weight x (1 + rate)^(y - base_year). Rates are above -1.")
    point: Literal["centroid", "surface"] = Field(
        "centroid",
        description="Which point of a polygon unit counts for distances: its centroid (default, as the "
        "format defines) or a point guaranteed on its surface.",
    )


class SitesSpec(LayerSpec):
    """Candidate and existing sites."""

    allowed: str | None = Field(
        None, description="Attribute: comma-separated facility types the site may host ('*' = all). "
        "Omitted: every site may host every type.")
    existing: str | None = Field(
        None, description="Attribute: comma-separated facility types already open there (fixed open).")
    cost: dict[str, str] = Field(
        default_factory=dict, description="Facility type -> attribute with a per-site capital cost.")
    capacity: dict[str, str] = Field(
        default_factory=dict, description="Facility type -> attribute with a per-site capacity "
        "(overrides the type's `capacity`; empty values fall back to it).")
    beds: dict[str, str] = Field(
        default_factory=dict, description="Bed kind -> attribute with the beds of that kind the site has "
        "(0 when absent).")
    land_m2: dict[str, str] = Field(
        default_factory=dict, description="Facility type -> attribute with the land of that type at the site, "
        "m² (overrides the type's `land_m2`; empty values fall back to it).")


class NetworkSpec(_Strict):
    """A road/path network for walking distances (see README, "`network`")."""

    path: str = Field(description="OpenStreetMap .osm.pbf, or a line layer (GeoPackage, Shapefile, "
                      "GeoJSON), relative to the scenario file.")
    layer: str | None = Field(None, description="Layer name inside a GeoPackage; not for .osm.pbf.")
    walk_speed_m_per_min: float = Field(
        67.0, gt=0, le=MAX_SPEED_M_PER_MIN, description="Walking speed of older people, m/min (at most 500); "
        "turns `walk_minutes` into metres. "
        "67 m/min = 1.12 m/s: 15 minutes = 1 km (see README for the gait-speed sources).")
    suspicious_access_m: float = Field(
        300.0, gt=0, le=MAX_RADIUS_M, description="Units and sites farther than this (m, straight line, at most "
        "20,000 km) from the nearest walkable way are listed in the plan's `network` section.")
    cache_dir: str | None = Field(
        ".eldercare-cache", description="Folder (relative to the scenario file) caching walking reach "
        "by a hash of its inputs; null: no cache. Safe to delete.")


class BoundariesSpec(_Strict):
    """Zone polygons (street / township boundaries) drawn on maps and written to GIS layers."""

    path: str = Field(description="Polygon layer (GeoPackage, Shapefile, GeoJSON), relative to the scenario file.")
    layer: str | None = Field(None, description="Layer name inside a GeoPackage.")
    zone: str = Field("zone", description="Attribute holding the zone name used by `demand.zone` / `sites.zone`.")


class DistanceTableSpec(_Strict):
    """Precomputed travel distances or times, long form: one row per (demand, site) pair."""

    path: str | None = Field(None, description="CSV or Parquet file, relative to the scenario file "
                             "(the Python API may pass the table itself instead).")
    demand: str = Field("demand_id", description="Column with demand ids.")
    site: str = Field("site_id", description="Column with site ids.")
    value: str = Field("distance", description="Column with the distance or time.")
    unit: Literal["m", "min"] = Field("m", description="'m': compared with radius_m; 'min': with walk_minutes.")


class FacilityType(_Strict):
    """One kind of facility."""

    label: str | None = Field(None, description="What planners call the type, e.g. 老年助餐点; shown in the "
                              "plan, tables and maps beside the type id (omitted: a preset's label for the type, "
                              "else the id).")
    radius_m: float | None = Field(None, gt=0, le=MAX_RADIUS_M, description="Service radius in metres "
                                   "(at most 20,000 km, half the Earth's circumference).")
    walk_minutes: float | None = Field(None, gt=0, le=MAX_MINUTES, description="Service limit in minutes "
                                       "(time tables, networks; at most 1440).")
    serves: list[str] | None = Field(None, description="Demand groups served; omitted = all groups.")
    capital_cost: float = Field(0.0, ge=0, le=MAX_YUAN, description="Capital cost of a new facility, yuan "
                                "(at most 10^12).")
    annual_cost: float = Field(0.0, ge=0, le=MAX_YUAN, description="Operating cost per year of any open "
                               "facility, yuan (at most 10^12).")
    capacity: float | None = Field(
        None, ge=0, le=MAX_CAPACITY, description="People (meals, seats) one facility can serve (at most 10^9); "
        "makes the type capacitated: "
        "units are assigned to open facilities in reach, and count as covered only for the assigned share.")
    capacity_weight: str | None = Field(
        None, description="Named weight that demand for capacity is measured in (omitted: 1 per unit).")
    uptake: float = Field(1.0, ge=0, le=1, description="Share of the capacity weight that uses the facility.")
    single_source: bool = Field(False, description="Capacitated: each unit is served by one facility only.")
    land_m2: float = Field(0.0, ge=0, le=MAX_LAND_M2, description="Land area of one facility, m² (land target; "
                           "at most 10^8).")
    colocate: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Host type -> capital cost factor when opened at a site where that type is open.")
    beds: dict[str, Annotated[int, Field(ge=0, le=MAX_CAPACITY)]] = Field(
        default_factory=dict, description="Bed kind -> beds a newly opened facility of this type brings.")

    @model_validator(mode="after")
    def _has_limit(self) -> FacilityType:
        if self.radius_m is None and self.walk_minutes is None:
            raise ValueError("give `radius_m` (metres) or `walk_minutes`")
        return self


class _TargetCommon(_Strict):
    """What every target kind takes: where and when it holds, "more than", and where it comes from."""

    zone: str | None = Field(None, description="The target holds in this zone only.")
    zones: list[str] | None = Field(None, description="The target holds in each of these zones on its own.")
    strict: bool = Field(False, description="'More than' instead of 'at least' (a share must exceed "
                         "`min_share`, a count must exceed `min`).")
    year: int | None = Field(None, description="Phased plans: the target holds in this planning year and every "
                             "later one (omitted: in the last year).")
    label: str | None = None
    preset: str | None = Field(None, description="Set by presets: `<preset>/<target id>` this target comes from.")
    source: str | None = Field(None, description="Where the target comes from (document, clause, quote); "
                               "presets fill it in.")


class CoverageTarget(_TargetCommon):
    """Share of demand (units or a weight) within reach of an open facility of a type."""

    kind: Literal["coverage"]
    facility: str
    group: str | None = Field(None, description="Demand group; omitted = every group the type serves.")
    measure: str = Field("units", description="'units' or a named weight.")
    min_share: float = Field(ge=0, le=1)
    per_zone: bool = Field(False, description="Require the share in every zone separately.")


class CountTarget(_TargetCommon):
    """Number of open facilities of a type, overall or in every zone with demand."""

    kind: Literal["count"]
    facility: str
    per_zone: bool = False
    new_only: bool = False
    min: int | None = Field(None, ge=0, le=MAX_COUNT, description="At least this many (at most 10^6).")
    max: int | None = Field(None, ge=0, le=MAX_COUNT, description="At most this many (at most 10^6).")

    @model_validator(mode="after")
    def _has_bound(self) -> CountTarget:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is above `max` ({self.max})")
        return self


class LandTarget(_TargetCommon):
    """Land of open facilities >= per_capita_m2 x total of a named weight (or per 100 households)."""

    kind: Literal["land"]
    per_capita_m2: float | None = Field(None, ge=0, le=MAX_M2_PER_PERSON,
                                        description="m² per person (at most 10^4).")
    population: str | None = Field(None, description="Named weight counted as population.")
    per_100_households_m2: float | None = Field(
        None, ge=0, le=MAX_M2_PER_PERSON * 100,
        description="Land per 100 households, m², instead of `per_capita_m2` (at most 10^6).")
    households: str | None = Field(None, description="Named weight holding household counts.")
    per_zone: bool = Field(False, description="Require the land in every zone with demand units separately.")


    @model_validator(mode="after")
    def _one_norm(self) -> LandTarget:
        per_capita = self.per_capita_m2 is not None or self.population is not None
        per_households = self.per_100_households_m2 is not None or self.households is not None
        if per_capita == per_households:
            raise ValueError("give `per_capita_m2` with `population`, or `per_100_households_m2` with "
                             "`households`")
        if per_capita and (self.per_capita_m2 is None or self.population is None):
            raise ValueError("`per_capita_m2` and `population` go together; give both")
        if per_households and (self.per_100_households_m2 is None or self.households is None):
            raise ValueError("`per_100_households_m2` and `households` go together; give both")
        return self


class BedsTarget(_TargetCommon):
    """Beds of some kinds: a count (`min`) or a share (`min_share`) of the kinds in `of`."""

    kind: Literal["beds"]
    bed: str | list[str] = Field(description="Bed kind, or kinds summed.")
    min: int | None = Field(None, ge=0, le=MAX_CAPACITY, description="Least number of beds (at most 10^9).")
    min_share: float | None = Field(None, ge=0, le=1, description="Least share of the beds of the kinds in `of`.")
    of: list[str] | None = Field(None, description="Kinds the share is taken of (they include `bed`).")
    per_zone: bool = Field(False, description="In every zone with demand units separately.")

    @property
    def kinds(self) -> list[str]:
        """The bed kinds summed."""
        return [self.bed] if isinstance(self.bed, str) else list(self.bed)

    @model_validator(mode="after")
    def _count_or_share(self) -> BedsTarget:
        if (self.min is None) == (self.min_share is None):
            raise ValueError("give one of `min` (a number of beds) or `min_share` (with `of`)")
        if self.min_share is not None and not self.of:
            raise ValueError("`min_share` needs `of`: the bed kinds the share is taken of")
        if self.of is not None and self.min_share is None:
            raise ValueError("`of` goes with `min_share`")
        if self.of is not None and not set(self.kinds) <= set(self.of):
            missing = sorted(set(self.kinds) - set(self.of))
            raise ValueError(f"`of` must include the kinds of `bed`; add {', '.join(missing)}")
        return self


class BedAction(_Strict):
    """Beds added (or converted from another kind) at sites hosting one of the `at` types."""

    at: list[str] = Field(min_length=1, description="Facility types at least one of which must be open at the site.")
    adds: str = Field(description="Bed kind added.")
    removes: str | None = Field(None, description="Bed kind removed, one per bed added (a conversion).")
    capital_per_bed: float = Field(0.0, ge=0, le=MAX_YUAN, description="Capital per bed, yuan, in the year taken.")
    annual_per_bed: float = Field(0.0, ge=0, le=MAX_YUAN,
                                  description="Annual cost per bed, yuan, from the year taken on.")
    max_per_site: int = Field(ge=0, le=MAX_CAPACITY,
                              description="Most beds this action takes at one site, over all years.")

    @model_validator(mode="after")
    def _two_kinds(self) -> BedAction:
        if self.removes is not None and self.removes == self.adds:
            raise ValueError(f"a conversion turns one kind into another; `removes` equals `adds` ('{self.adds}')")
        return self


Target = Annotated[CoverageTarget | CountTarget | LandTarget | BedsTarget, Field(discriminator="kind")]


class PresetTargets(_Strict):
    """Every target of a policy preset (`eldercare presets`), expanded into ordinary targets at parse time."""

    preset: str = Field(description="Preset name, e.g. 'liaocheng-2026' (`eldercare presets` lists them).")
    facilities: dict[str, str] = Field(
        default_factory=dict, description="Preset facility name -> this scenario's facility type; "
        "names not mapped are used as they are.")
    groups: dict[str, str] = Field(
        default_factory=dict, description="Preset demand group -> this scenario's group (default: same name).")
    weights: dict[str, str] = Field(
        default_factory=dict, description="Preset weight (e.g. 'residents') -> this scenario's named weight.")
    level: Literal["county", "city"] = Field(
        "county", description="What the scenario covers: 'county' takes figures set per county (e.g. '1 per "
        "county'), 'city' the citywide totals; targets for any region are always taken.")
    skip: list[str] = Field(default_factory=list, description="Ids of preset targets to leave out.")
    replace: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Preset target id -> fields to change, e.g. "
        "{'happiness-homes': {'min_share': 0.6}}.")


class MinDistanceSpec(_Strict):
    """What `min_distance` minimises: weighted distance to the assigned open facility."""

    facilities: list[str] | None = Field(None, description="Facility types whose distance counts; "
                                         "omitted = every type.")
    weight: str | None = Field(None, description="'units' or a named weight; omitted = the first named "
                               "weight (units when none is named).")
    yuan_per_unit: float | None = Field(
        None, ge=0, le=MAX_YUAN, description="Cost of one weighted distance unit (e.g. yuan per person-metre "
        "over the horizon; at most 10^12). Given: minimise total cost + yuan_per_unit x weighted distance "
        "(facility location). Omitted: minimise weighted distance first, then cost (p-median with count "
        "targets).")


class Budget(_Strict):
    """Money limits."""

    capital: float | None = Field(None, ge=0, le=MAX_YUAN, description="Cap on capital cost, yuan (at most 10^12).")
    annual: float | None = Field(None, ge=0, le=MAX_YUAN, description="Cap on annual operating cost, yuan "
                                 "(at most 10^12).")
    horizon_years: float = Field(
        3.0, ge=0, le=MAX_YEARS, description="Years of operating cost in the total cost, counted from the first "
        "planning year; default 3, or with `years` last - first + 1 (at most 100).")
    capital_by_year: dict[str, Annotated[float, Field(ge=0, le=MAX_YUAN)]] | None = Field(
        None, description="Phased plans: planning year -> cap on the capital spent in that year, yuan "
        "(at most 10^12 each).")


class SolverSpec(_Strict):
    """Which backend, and how long."""

    backend: str = Field("highs", description="'highs' | 'cpsat' | 'lagrangian' (heuristic plan + proven bound, "
                         "for very large models) | 'pulp:CBC' | 'pulp:<any PuLP solver>'")
    time_limit_s: float = Field(60.0, gt=0, le=MAX_TIME_LIMIT_S,
                                description="Wall-clock seconds per solve (at most one week, 604800).")
    mip_gap: float = Field(1e-4, ge=0, lt=1, description="Relative gap at which a plan counts as optimal, "
                           "in [0, 1).")
    threads: int = Field(2, ge=1, le=MAX_THREADS, description="Solver threads (at most 1024); more than the "
                         "machine's cores are capped at its cores, with a note in the plan.")


def json_path(loc: tuple[Any, ...]) -> str:
    """``('targets', 2, 'min_share')`` -> ``targets[2].min_share``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"

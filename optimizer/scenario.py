"""The scenario document, format 1: pydantic models, loading, and readable validation errors.

Field meanings are in README.md ("Scenario reference") and ../shared/SCENARIO_FORMAT.md.
"""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from optimizer.errors import Problem, ScenarioError, raise_if

FORMAT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LayerSpec(_Strict):
    """Where a layer of features comes from."""

    path: str | None = Field(None, description="GeoJSON / GeoPackage / Shapefile, relative to the scenario file.")
    layer: str | None = Field(None, description="Layer name inside a GeoPackage (or other multi-layer file).")
    features: dict[str, Any] | None = Field(None, description="Inline GeoJSON FeatureCollection instead of `path`.")
    id: str = Field("id", description="Attribute holding each feature's unique id.")
    zone: str | None = Field(None, description="Attribute naming the admin unit (street / township).")

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


class NetworkSpec(_Strict):
    """A road/path network for walking distances (see README, "`network`")."""

    path: str = Field(description="OpenStreetMap .osm.pbf, or a line layer (GeoPackage, Shapefile, "
                      "GeoJSON), relative to the scenario file.")
    layer: str | None = Field(None, description="Layer name inside a GeoPackage; not for .osm.pbf.")
    walk_speed_m_per_min: float = Field(
        67.0, gt=0, description="Walking speed of older people, m/min; turns `walk_minutes` into metres. "
        "67 m/min = 1.12 m/s: 15 minutes = 1 km (see README for the gait-speed sources).")
    suspicious_access_m: float = Field(
        300.0, gt=0, description="Units and sites farther than this (m, straight line) from the nearest "
        "walkable way are listed in the plan's `network` section.")
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

    radius_m: float | None = Field(None, gt=0, description="Service radius in metres.")
    walk_minutes: float | None = Field(None, gt=0, description="Service limit in minutes (time tables, networks).")
    serves: list[str] | None = Field(None, description="Demand groups served; omitted = all groups.")
    capital_cost: float = Field(0.0, ge=0, description="Capital cost of a new facility, yuan.")
    annual_cost: float = Field(0.0, ge=0, description="Operating cost per year of any open facility, yuan.")
    capacity: float | None = Field(
        None, ge=0, description="People (meals, seats) one facility can serve; makes the type capacitated: "
        "units are assigned to open facilities in reach, and count as covered only for the assigned share.")
    capacity_weight: str | None = Field(
        None, description="Named weight that demand for capacity is measured in (omitted: 1 per unit).")
    uptake: float = Field(1.0, ge=0, le=1, description="Share of the capacity weight that uses the facility.")
    single_source: bool = Field(False, description="Capacitated: each unit is served by one facility only.")
    land_m2: float = Field(0.0, ge=0, description="Land area of one facility, m² (land target).")
    colocate: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict,
        description="Host type -> capital cost factor when opened at a site where that type is open.")

    @model_validator(mode="after")
    def _has_limit(self) -> FacilityType:
        if self.radius_m is None and self.walk_minutes is None:
            raise ValueError("give `radius_m` (metres) or `walk_minutes`")
        return self


class CoverageTarget(_Strict):
    """Share of demand (units or a weight) within reach of an open facility of a type."""

    kind: Literal["coverage"]
    facility: str
    group: str | None = Field(None, description="Demand group; omitted = every group the type serves.")
    measure: str = Field("units", description="'units' or a named weight.")
    min_share: float = Field(ge=0, le=1)
    per_zone: bool = Field(False, description="Require the share in every zone separately.")
    label: str | None = None
    preset: str | None = Field(None, description="Set by presets: `<preset>/<target id>` this target comes from.")
    source: str | None = Field(None, description="Where the target comes from (document, clause, quote); "
                               "presets fill it in.")


class CountTarget(_Strict):
    """Number of open facilities of a type, overall or in every zone with demand."""

    kind: Literal["count"]
    facility: str
    per_zone: bool = False
    new_only: bool = False
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    label: str | None = None
    preset: str | None = Field(None, description="Set by presets: `<preset>/<target id>` this target comes from.")
    source: str | None = Field(None, description="Where the target comes from (document, clause, quote); "
                               "presets fill it in.")

    @model_validator(mode="after")
    def _has_bound(self) -> CountTarget:
        if self.min is None and self.max is None:
            raise ValueError("give `min`, `max` or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"`min` ({self.min}) is above `max` ({self.max})")
        return self


class LandTarget(_Strict):
    """Land of open facilities >= per_capita_m2 x total of a named weight."""

    kind: Literal["land"]
    per_capita_m2: float = Field(ge=0)
    population: str = Field(description="Named weight counted as population.")
    label: str | None = None
    preset: str | None = Field(None, description="Set by presets: `<preset>/<target id>` this target comes from.")
    source: str | None = Field(None, description="Where the target comes from (document, clause, quote); "
                               "presets fill it in.")


Target = Annotated[CoverageTarget | CountTarget | LandTarget, Field(discriminator="kind")]


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
        None, ge=0, description="Cost of one weighted distance unit (e.g. yuan per person-metre over the "
        "horizon). Given: minimise total cost + yuan_per_unit x weighted distance (facility location). "
        "Omitted: minimise weighted distance first, then cost (p-median with count targets).")


class Budget(_Strict):
    """Money limits."""

    capital: float | None = Field(None, ge=0, description="Cap on capital cost, yuan.")
    annual: float | None = Field(None, ge=0, description="Cap on annual operating cost, yuan.")
    horizon_years: float = Field(3.0, ge=0, description="Years of operating cost in the total cost.")


class SolverSpec(_Strict):
    """Which backend, and how long."""

    backend: str = Field("highs", description="'highs' | 'cpsat' | 'lagrangian' (heuristic plan + proven bound, "
                         "for very large models) | 'pulp:CBC' | 'pulp:<any PuLP solver>'")
    time_limit_s: float = Field(60.0, gt=0)
    mip_gap: float = Field(1e-4, ge=0, lt=1)
    threads: int = Field(2, ge=1)


class Scenario(_Strict):
    """A planning scenario, format 1."""

    format: Literal[1] = 1
    name: str = "scenario"
    description: str | None = None
    crs: str | None = Field(None, description="Projected CRS for distances; omitted = UTM zone of the data.")
    demand: DemandSpec
    sites: SitesSpec
    network: NetworkSpec | None = None
    distances: DistanceTableSpec | None = Field(None, description="Precomputed distance/time table.")
    boundaries: BoundariesSpec | None = Field(
        None, description="Zone polygons for maps and the GeoPackage `zones` layer; omitted: each zone is "
        "sketched as the hull of its units and sites.")
    facility_types: dict[str, FacilityType]
    targets: list[Target] = Field(default_factory=list, description="Targets, and `{\"preset\": ...}` "
                                  "entries that expand into the targets of a policy preset.")
    budget: Budget = Field(default_factory=Budget)
    objective: Literal["min_cost", "max_coverage", "min_distance"] = "min_cost"
    min_distance: MinDistanceSpec | None = Field(None, description="Options of the `min_distance` objective.")
    elastic: bool = False
    solver: SolverSpec = Field(default_factory=SolverSpec)

    @field_validator("targets", mode="before", json_schema_input_type=list[Target | PresetTargets])
    @classmethod
    def _expand_presets(cls, value: Any, info: ValidationInfo) -> Any:
        """``{"preset": ...}`` entries become the preset's targets (see `optimizer.presets`)."""
        from optimizer.presets import expand_entries, is_preset_entry

        if not isinstance(value, list) or not any(is_preset_entry(entry) for entry in value):
            return value
        demand = info.data.get("demand")
        return expand_entries(value, info.data.get("facility_types"), None if demand is None else demand.weights)

    @model_validator(mode="after")
    def _one_reach_source(self) -> Scenario:
        if self.network is not None and self.distances is not None:
            raise ValueError("give at most one of `network` and `distances`")
        return self


def parse_scenario(document: Any, *, base_dir: Path | None = None) -> tuple[Scenario, Path]:
    """Validate a scenario document (already parsed JSON).

    Returns the scenario and the folder its relative paths refer to. Raises `ScenarioError`
    listing every problem, each with its JSON path.
    """
    if not isinstance(document, dict):
        raise ScenarioError("a scenario is a JSON object", "(document)")
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        raise ScenarioError([p for err in exc.errors() for p in _problems(err, document)]) from None
    raise_if(_reference_problems(scenario), ScenarioError)
    return scenario, (base_dir or Path.cwd()).resolve()


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read and validate a scenario file; paths inside it are relative to its folder."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read the scenario file: {exc.strerror or exc}", str(path)) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(
            f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", str(path)
        ) from None
    return parse_scenario(document, base_dir=path.parent)


def json_path(loc: tuple[Any, ...]) -> str:
    """``('targets', 2, 'min_share')`` -> ``targets[2].min_share``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(document)"


def _problems(err: Any, document: dict[str, Any]) -> list[Problem]:
    """A pydantic error as problems: preset expansion reports its own, each at its place."""
    error = (err.get("ctx") or {}).get("error")
    if isinstance(getattr(error, "problems", None), list):
        return list(error.problems)
    return [_problem(err, document)]


def _problem(err: dict[str, Any], document: dict[str, Any]) -> Problem:
    loc = tuple(p for p in err["loc"] if not _is_union_tag(p))
    if err["type"] == "extra_forbidden":
        return Problem(json_path(loc), _unknown_field_message(loc, document))
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        message = "this field is required"
    elif "input" in err and err["type"] not in ("model_type", "dict_type"):
        message += f" (got {json.dumps(err['input'], ensure_ascii=False, default=str)[:80]})"
    return Problem(json_path(loc), message)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and part in ("coverage", "count", "land", "float", "str")


def _unknown_field_message(loc: tuple[Any, ...], document: dict[str, Any]) -> str:
    name = str(loc[-1])
    known = _known_fields(loc[:-1], document)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"; did you mean `{close[0]}`?" if close else f"; known fields: {', '.join(sorted(known))}"
    return f"unknown field `{name}`{hint}"


def _known_fields(parent: tuple[Any, ...], document: dict[str, Any]) -> list[str]:
    model: type[BaseModel] = Scenario
    node: Any = document
    for part in parent:
        node = node[part] if isinstance(node, (dict, list)) else None
        model = _child_model(model, part, node)
    return list(model.model_fields)


_TARGET_MODELS: dict[str, type[BaseModel]] = {
    "coverage": CoverageTarget, "count": CountTarget, "land": LandTarget,
}
_FIELD_MODELS: dict[str, type[BaseModel]] = {
    "demand": DemandSpec, "sites": SitesSpec, "network": NetworkSpec, "distances": DistanceTableSpec,
    "budget": Budget, "solver": SolverSpec, "min_distance": MinDistanceSpec, "boundaries": BoundariesSpec,
}


def _child_model(model: type[BaseModel], part: Any, node: Any) -> type[BaseModel]:
    if model is Scenario and part in _FIELD_MODELS:
        return _FIELD_MODELS[part]
    if model is Scenario and part == "facility_types":
        return _Mapping
    if model is _Mapping:
        return FacilityType
    if model is Scenario and part == "targets":
        return _Sequence
    if model is _Sequence and isinstance(node, dict):
        return _TARGET_MODELS.get(str(node.get("kind")), CoverageTarget)
    return model


class _Mapping(BaseModel):
    """Marker: a dict of named models."""


class _Sequence(BaseModel):
    """Marker: a list of targets."""


def scenario_json_schema() -> dict[str, Any]:
    """The published JSON Schema of format 1 (`scenarios/schema.json`)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Elder-care facility-location scenario, format 1"
    return schema


def _reference_problems(scenario: Scenario) -> list[Problem]:
    """Cross-field checks: every name used must be defined somewhere."""
    problems = _crs_problems(scenario.crs)
    types = scenario.facility_types
    weights = scenario.demand.weights
    for name, ftype in types.items():
        where = f"facility_types.{name}"
        problems += _name_problems(f"{where}.colocate", ftype.colocate, types, "facility type")
        if name in ftype.colocate:
            problems.append(Problem(f"{where}.colocate.{name}", "a type cannot be its own host"))
        if ftype.capacity_weight is not None and ftype.capacity_weight not in weights:
            problems.append(Problem(f"{where}.capacity_weight",
                                    _unknown("named weight", ftype.capacity_weight, weights)))
        if ftype.serves and scenario.demand.group is None:
            problems.append(Problem(f"{where}.serves", "`serves` needs `demand.group`, the "
                                    "attribute that classifies demand units; add it"))
    problems += _name_problems("sites.cost", scenario.sites.cost, types, "facility type")
    problems += _name_problems("sites.capacity", scenario.sites.capacity, types, "facility type")
    problems += _min_distance_problems(scenario)
    for k, target in enumerate(scenario.targets):
        found = _target_problems(f"targets[{k}]", target, scenario)
        problems += [Problem(p.location, f"(preset target {target.preset}) {p.message}") if target.preset else p
                     for p in found]
    return problems


def _min_distance_problems(scenario: Scenario) -> list[Problem]:
    spec = scenario.min_distance
    if spec is None:
        return []
    problems = _name_problems("min_distance.facilities", spec.facilities or [], scenario.facility_types,
                              "facility type")
    weights = scenario.demand.weights
    if spec.weight is not None and spec.weight != "units" and spec.weight not in weights:
        problems.append(Problem("min_distance.weight", _unknown("weight", spec.weight, ["units", *weights])))
    return problems


def _target_problems(where: str, target: Target, scenario: Scenario) -> list[Problem]:
    weights = scenario.demand.weights
    if isinstance(target, LandTarget):
        if target.population not in weights:
            return [Problem(f"{where}.population", _unknown("named weight", target.population, weights))]
        return []
    ftype = scenario.facility_types.get(target.facility)
    if ftype is None:
        return [Problem(f"{where}.facility",
                        _unknown("facility type", target.facility, scenario.facility_types))]
    problems = []
    if target.per_zone and (scenario.demand.zone is None or
                            (isinstance(target, CountTarget) and scenario.sites.zone is None)):
        problems.append(Problem(f"{where}.per_zone", "a per-zone target needs `demand.zone`"
                                + ("" if isinstance(target, CoverageTarget) else " and `sites.zone`")
                                + ": name the attribute holding each feature's street/township"))
    if isinstance(target, CoverageTarget):
        if target.measure != "units" and target.measure not in weights:
            problems.append(Problem(f"{where}.measure",
                                    _unknown("measure", target.measure, ["units", *weights])))
        if target.group is not None and ftype.serves is not None and target.group not in ftype.serves:
            problems.append(Problem(f"{where}.group", f"group '{target.group}' is not served by "
                                    f"'{target.facility}' (serves: {', '.join(ftype.serves)}); add it "
                                    "to `serves` or target another group"))
        if target.group is not None and scenario.demand.group is None:
            problems.append(Problem(f"{where}.group", "a group target needs `demand.group`"))
    return problems


def _name_problems(where: str, names: Any, known: Any, what: str) -> list[Problem]:
    return [Problem(f"{where}.{name}", _unknown(what, name, known)) for name in names if name not in known]


def _unknown(what: str, name: str, known: Any) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(map(str, known)) or 'none'}"
    return f"unknown {what} '{name}'; {hint}"


def _crs_problems(crs: str | None) -> list[Problem]:
    if crs is None:
        return []
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        return [Problem("crs", f"'{crs}' is not a coordinate reference system pyproj knows; "
                        "give e.g. 'EPSG:32650'")]
    if not parsed.is_projected:
        return [Problem("crs", f"'{crs}' is geographic (degrees); distances need a projected CRS in "
                        "metres, e.g. the UTM zone 'EPSG:326xx', or omit `crs` to choose it from the data")]
    return []

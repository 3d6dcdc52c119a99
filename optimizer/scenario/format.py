"""The scenario document, format 1: pydantic models, loading, and readable validation errors.

Field meanings are in README.md ("Scenario reference") and ../shared/SCENARIO_FORMAT.md.
"""

from __future__ import annotations

import difflib
import json
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator, model_validator

from optimizer.errors import Problem, ScenarioError, raise_if
from optimizer.scenario.fields import (
    BedAction,
    BedsTarget,
    BoundariesSpec,
    Budget,
    CountTarget,
    CoverageTarget,
    DemandSpec,
    DistanceTableSpec,
    FacilityType,
    LandTarget,
    MinDistanceSpec,
    NetworkSpec,
    PresetTargets,
    SitesSpec,
    SolverSpec,
    Target,
    _Strict,
    json_path,
)
from optimizer.scenario.presets import expand_entries, fit_preset_years, is_preset_entry, preset_type_labels


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
    years: list[int] | None = Field(
        None, min_length=1, description="Planning years, ascending: a phased plan opens each new facility "
        "in one of them (see SCENARIO_FORMAT.md, Extensions).")
    bed_actions: dict[str, BedAction] = Field(
        default_factory=dict, description="Named bed actions: beds added or converted at sites hosting an "
        "`at` type.")

    @property
    def extended(self) -> bool:
        """Whether any extension (years, beds, sharper targets) is used: the phased model plans it."""
        return bool(self.years or self.bed_actions or self.sites.beds or self.sites.land_m2
                    or any(f.beds for f in self.facility_types.values())
                    or any(_sharper(t) for t in self.targets))

    def type_label(self, name: str) -> str:
        """Return what planners call facility type `name`: its `label`, else the type id."""
        ftype = self.facility_types.get(name)
        return (ftype.label if ftype is not None else None) or name

    @property
    def type_labels(self) -> dict[str, str]:
        """Facility type -> its label (the id when it has none), in scenario order."""
        return {name: self.type_label(name) for name in self.facility_types}

    def _labels_from_presets(self) -> None:
        """Types without a `label` take the one their preset gives the role mapped onto them."""
        unlabelled = [name for name, ftype in self.facility_types.items() if ftype.label is None]
        if not unlabelled or not any(t.preset is not None for t in self.targets):
            return
        found = preset_type_labels(self.targets)
        self.facility_types = {name: ftype.model_copy(update={"label": found[name]})
                               if ftype.label is None and name in found else ftype
                               for name, ftype in self.facility_types.items()}

    @property
    def planning_years(self) -> list[int]:
        """The planning years; one (0) when the scenario is not phased."""
        return list(self.years) if self.years else [0]

    @field_validator("targets", mode="before", json_schema_input_type=list[Target | PresetTargets])
    @classmethod
    def _expand_presets(cls, value: Any, info: ValidationInfo) -> Any:
        """``{"preset": ...}`` entries become the preset's targets (see `optimizer.scenario.presets`)."""
        if not isinstance(value, list) or not any(is_preset_entry(entry) for entry in value):
            return value
        demand = info.data.get("demand")
        return expand_entries(value, info.data.get("facility_types"), None if demand is None else demand.weights)

    @model_validator(mode="after")
    def _one_reach_source(self) -> Scenario:
        if self.network is not None and self.distances is not None:
            raise ValueError("give at most one of `network` and `distances`")
        if any(t.preset is not None and t.year is not None for t in self.targets):
            self.targets = fit_preset_years(self.targets, self.years)
        self._labels_from_presets()
        if self.years and "horizon_years" not in self.budget.model_fields_set:
            self.budget = self.budget.model_copy(update={"horizon_years": float(self.years[-1] - self.years[0] + 1)})
        return self


def _sharper(target: Target) -> bool:
    """Tell whether a target uses a sharper-target field (zone, strict, year, land norms) or is of kind `beds`."""
    if isinstance(target, BedsTarget):
        return True
    sharp = bool(target.zone or target.zones or target.strict or target.year is not None)
    return sharp or (isinstance(target, LandTarget) and (target.per_zone or target.households is not None))


def parse_scenario(document: Any, *, base_dir: Path | None = None) -> tuple[Scenario, Path]:
    """Validate a scenario document (already parsed JSON).

    Parameters
    ----------
    document : dict
        The scenario, format 1, as parsed from JSON.
    base_dir : Path, optional
        The folder its relative paths refer to (default: the working directory).

    Returns
    -------
    scenario : Scenario
    base_dir : Path
        The folder its relative paths refer to, absolute.

    Raises
    ------
    ScenarioError
        Listing every problem, each with its JSON path.
    """
    if not isinstance(document, dict):
        raise ScenarioError("a scenario is a JSON object", "(document)")
    try:
        scenario = Scenario.model_validate(document)
    except ValidationError as exc:
        raise ScenarioError([p for err in exc.errors() for p in _problems(err, document)]) from None
    except RecursionError:
        raise ScenarioError("the scenario is nested too deeply", "(document)") from None
    raise_if(_reference_problems(scenario), ScenarioError)
    return scenario, (base_dir or Path.cwd()).resolve()


def load_scenario(path: str | Path) -> tuple[Scenario, Path]:
    """Read and validate a scenario file; paths inside it are relative to its folder.

    Returns
    -------
    scenario : Scenario
    base_dir : Path
        The file's folder, absolute.

    Raises
    ------
    ScenarioError
        For an unreadable or binary file, invalid or too deeply nested JSON, or every problem of
        the document (`parse_scenario`).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ScenarioError(f"cannot read the scenario file: {exc.strerror or exc}", str(path)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"not a text file (byte {exc.start} is not UTF-8): a scenario is a JSON "
                            "document in UTF-8", str(path)) from None
    return parse_scenario(parse_json(text, str(path)), base_dir=path.parent)


def parse_json(text: str, where: str) -> Any:
    """Parse a scenario's JSON text; `ScenarioError` at `where` for anything that is not sane JSON.

    Besides syntax errors: nesting deeper than Python's recursion allows (100,000 ``[``) and
    numbers too long to convert (Python's limit on integer digits).
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", where) from None
    except RecursionError:
        raise ScenarioError("the JSON is nested too deeply to be a scenario", where) from None
    except ValueError:   # an integer with more digits than Python converts (4300)
        raise ScenarioError("not valid JSON for a scenario: a number has thousands of digits", where) from None




def solver_with(solver: SolverSpec, overrides: dict[str, Any], *,
                names: dict[str, str] | None = None) -> SolverSpec:
    """`solver` with `overrides` applied (None values are ignored), checked by the rules of `SolverSpec`.

    The command line's ``--backend``, ``--time-limit``, ``--gap`` and ``--threads`` pass through
    here, so that they obey exactly the rules of the scenario's ``solver`` fields.

    Parameters
    ----------
    solver : SolverSpec
        The scenario's solver settings.
    overrides : dict
        Field name -> new value (``time_limit_s``, ``mip_gap``, ``threads``, ``backend``).
    names : dict, optional
        Field name -> where the value came from, e.g. ``{"time_limit_s": "--time-limit"}``;
        default ``solver.<field>``.

    Raises
    ------
    ScenarioError
        Every bad value, each located at its name.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return SolverSpec.model_validate(solver.model_dump() | given)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else ""
            got = f" (got {given[field]!r})" if field in given else ""
            problems.append(Problem((names or {}).get(field, f"solver.{field}"), err["msg"] + got))
        raise ScenarioError(problems) from None


def _problems(err: Any, document: dict[str, Any]) -> list[Problem]:
    """Turn a pydantic error into problems; preset expansion reports its own, each at its place."""
    error: Any = (err.get("ctx") or {}).get("error")
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
    return isinstance(part, str) and part in ("coverage", "count", "land", "beds", "float", "str", "list[str]",
                                              "dict[str,float]")


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
    "coverage": CoverageTarget, "count": CountTarget, "land": LandTarget, "beds": BedsTarget,
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
    if model is Scenario and part == "bed_actions":
        return _ActionMapping
    if model is _ActionMapping:
        return BedAction
    if model is _Mapping:
        return FacilityType
    if model is Scenario and part == "targets":
        return _Sequence
    if model is _Sequence and isinstance(node, dict):
        return _TARGET_MODELS.get(str(node.get("kind")), CoverageTarget)
    return model


class _Mapping(BaseModel):
    """Marker: a dict of named models."""


class _ActionMapping(BaseModel):
    """Marker: a dict of named bed actions."""


class _Sequence(BaseModel):
    """Marker: a list of targets."""


def scenario_json_schema() -> dict[str, Any]:
    """Return the published JSON Schema of format 1 (`scenarios/schema.json`)."""
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
    problems += _name_problems("sites.land_m2", scenario.sites.land_m2, types, "facility type")
    problems += _min_distance_problems(scenario)
    problems += _year_problems(scenario)
    problems += _bed_problems(scenario)
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


def _year_problems(scenario: Scenario) -> list[Problem]:
    """Planning years ascending; growth names known weights and groups; yearly budgets name planned years."""
    years = scenario.years or []
    problems = []
    if any(b <= a for a, b in pairwise(years)):
        problems.append(Problem("years", f"planning years must be ascending without repeats (got {years})"))
    demand = scenario.demand
    for name, rate in demand.growth.items():
        where = f"demand.growth.{name}"
        if name not in demand.weights:
            problems.append(Problem(where, _unknown("named weight", name, demand.weights)))
        rates = rate if isinstance(rate, dict) else {"": rate}
        if isinstance(rate, dict) and demand.group is None:
            problems.append(Problem(where, "a growth rate per group needs `demand.group`"))
        problems += [Problem(f"{where}.{g}" if g else where, f"a growth rate must be above -1 (-100%); got {r}")
                     for g, r in rates.items() if r <= -1]
    if demand.growth and not years:
        problems.append(Problem("demand.growth", "growth needs `years`, the planning years"))
    by_year = scenario.budget.capital_by_year or {}
    if by_year and not years:
        problems.append(Problem("budget.capital_by_year", "yearly capital budgets need `years`, the planning years"))
    problems += [Problem(f"budget.capital_by_year.{key}", f"'{key}' is not a planning year; planning years: "
                         f"{', '.join(map(str, years))}") for key in by_year if years and key not in map(str, years)]
    for k, target in enumerate(scenario.targets):
        if target.year is not None and target.year not in years:
            problems.append(Problem(f"targets[{k}].year", f"{target.year} is not a planning year"
                                    + (f"; planning years: {', '.join(map(str, years))}" if years
                                       else "; give `years` to date targets")))
    return problems


def bed_kinds(scenario: Scenario) -> list[str]:
    """Every bed kind the scenario knows: of sites, facility types and bed actions' `adds`."""
    kinds = dict.fromkeys(scenario.sites.beds)
    for ftype in scenario.facility_types.values():
        kinds |= dict.fromkeys(ftype.beds)
    for action in scenario.bed_actions.values():
        kinds |= dict.fromkeys([action.adds])
    return list(kinds)


def _bed_problems(scenario: Scenario) -> list[Problem]:
    kinds = bed_kinds(scenario)
    problems = []
    for name, action in scenario.bed_actions.items():
        where = f"bed_actions.{name}"
        problems += [Problem(f"{where}.at", _unknown("facility type", t, scenario.facility_types))
                     for t in action.at if t not in scenario.facility_types]
        if action.removes is not None and action.removes not in kinds:
            problems.append(Problem(f"{where}.removes", _unknown("bed kind", action.removes, kinds)))
    for k, target in enumerate(scenario.targets):
        if isinstance(target, BedsTarget):
            problems += [Problem(f"targets[{k}].bed", _unknown("bed kind", b, kinds))
                         for b in target.kinds if b not in kinds]
            problems += [Problem(f"targets[{k}].of", _unknown("bed kind", b, kinds))
                         for b in target.of or [] if b not in kinds]
    return problems


def zone_problems(scenario: Scenario, known: set[str]) -> list[Problem]:
    """Targets naming a zone the data do not have (checked once the data are loaded)."""
    problems = []
    for k, target in enumerate(scenario.targets):
        names = ([target.zone] if target.zone else []) + list(target.zones or [])
        field_name = "zone" if target.zone else "zones"
        problems += [Problem(f"targets[{k}].{field_name}", _unknown("zone", z, sorted(known)))
                     for z in names if z not in known]
    return problems


def _zone_field_problems(where: str, target: Target, scenario: Scenario) -> list[Problem]:
    problems = []
    if (target.zone or target.zones) and (scenario.demand.zone is None or scenario.sites.zone is None):
        problems.append(Problem(f"{where}.{'zone' if target.zone else 'zones'}", "a target in named zones needs "
                                "`demand.zone` and `sites.zone`: name the attribute holding each feature's "
                                "street/township"))
    if target.zone and target.zones:
        problems.append(Problem(f"{where}.zone", "give `zone` or `zones`, not both"))
    if target.per_zone and (target.zone or target.zones):
        problems.append(Problem(f"{where}.per_zone", "give `per_zone` or named zones, not both"))
    return problems


def _site_target_problems(where: str, target: BedsTarget | LandTarget, scenario: Scenario) -> list[Problem]:
    """Land and beds targets: weights named, zones to count in."""
    problems = []
    weights = scenario.demand.weights
    for field_name in ("population", "households"):
        name = getattr(target, field_name, None)
        if name is not None and name not in weights:
            problems.append(Problem(f"{where}.{field_name}", _unknown("named weight", name, weights)))
    if target.per_zone and (scenario.demand.zone is None or scenario.sites.zone is None):
        problems.append(Problem(f"{where}.per_zone", "a per-zone target needs `demand.zone` and `sites.zone`"))
    return problems


def _target_problems(where: str, target: Target, scenario: Scenario) -> list[Problem]:
    weights = scenario.demand.weights
    problems = _zone_field_problems(where, target, scenario)
    if isinstance(target, BedsTarget | LandTarget):
        return problems + _site_target_problems(where, target, scenario)
    ftype = scenario.facility_types.get(target.facility)
    if ftype is None:
        return [*problems, Problem(f"{where}.facility",
                                   _unknown("facility type", target.facility, scenario.facility_types))]
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

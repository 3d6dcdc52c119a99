"""The scenario document (optimizer.scenario.format, .fields): a valid document parses into typed
records; every problem is reported at its JSON field path, all at once; preset entries expand
into ordinary targets in place."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from optimizer.errors import ScenarioError
from optimizer.scenario.fields import CountTarget, CoverageTarget, LandTarget, json_path
from optimizer.scenario.format import load_scenario, parse_scenario
from tests.conftest import scenario_doc, write_scenario

UNITS = [{"id": "u1", "xy": (0, 0), "kind": "urban", "zone": "Z1", "pop": 10},
         {"id": "u2", "xy": (400, 0), "kind": "rural", "zone": "Z2", "pop": 20}]
SITES = [{"id": "A", "xy": (100, 0), "zone": "Z1", "allowed": "*", "existing": ""}]
TYPES = {"station": {"radius_m": 600, "serves": ["urban"], "capital_cost": 100, "annual_cost": 10,
                     "land_m2": 300},
         "meal": {"radius_m": 900, "capital_cost": 50, "annual_cost": 5, "colocate": {"station": 0.4}}}
TARGETS = [{"kind": "coverage", "facility": "station", "group": "urban", "min_share": 0.6},
           {"kind": "count", "facility": "meal", "per_zone": True, "min": 1},
           {"kind": "land", "per_capita_m2": 0.2, "population": "elderly"}]


def _doc(**extra: Any) -> dict[str, Any]:
    return copy.deepcopy(scenario_doc(UNITS, SITES, TYPES, TARGETS, **extra))


def _problems(doc: dict[str, Any]) -> dict[str, str]:
    """Location -> message of every problem the parser reports."""
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    return {p.location: p.message for p in info.value.problems}


def test_a_valid_document_parses_into_typed_records() -> None:
    scenario, base_dir = parse_scenario(_doc(), base_dir=Path("/tmp"))
    assert base_dir == Path("/tmp").resolve()
    assert scenario.crs == "EPSG:32650"
    assert list(scenario.facility_types) == ["station", "meal"]
    assert scenario.facility_types["meal"].colocate == {"station": 0.4}
    assert scenario.facility_types["meal"].serves is None          # omitted: every group
    assert [type(t) for t in scenario.targets] == [CoverageTarget, CountTarget, LandTarget]
    assert scenario.targets[0].measure == "units"                  # the default measure
    assert scenario.demand.weights == {"elderly": "pop"}
    assert scenario.budget.horizon_years == 3
    assert (scenario.solver.backend, scenario.solver.mip_gap) == ("highs", 0.0)


def test_defaults_fill_every_optional_section() -> None:
    doc = _doc()
    for key in ("budget", "solver", "objective", "elastic", "name", "crs"):
        doc.pop(key)
    scenario, _ = parse_scenario(doc)
    assert scenario.crs is None and scenario.objective == "min_cost" and scenario.elastic is False
    assert (scenario.budget.capital, scenario.budget.annual, scenario.budget.horizon_years) == (None, None, 3.0)
    assert (scenario.solver.backend, scenario.solver.time_limit_s, scenario.solver.threads) == ("highs", 60.0, 2)


@pytest.mark.parametrize(("where", "wrong", "right", "path"), [
    ((), "objectiv", "objective", "objectiv"),
    (("demand",), "wieghts", "weights", "demand.wieghts"),
    (("facility_types", "station"), "radius", "radius_m", "facility_types.station.radius"),
    (("targets", 0), "min_shar", "min_share", "targets[0].min_shar"),
    (("budget",), "capitol", "capital", "budget.capitol"),
])
def test_an_unknown_field_is_named_at_its_path_with_the_closest_known_field(
        where: tuple[Any, ...], wrong: str, right: str, path: str) -> None:
    doc = _doc()
    node: Any = doc
    for part in where:
        node = node[part]
    node[wrong] = node[right]          # a misspelt copy beside the real field: one problem
    with pytest.raises(ScenarioError, match=rf"^{re.escape(path)}: unknown field `{wrong}`; "
                                            rf"did you mean `{right}`\?$"):
        parse_scenario(doc)


def test_an_unknown_field_without_a_close_match_lists_the_known_fields() -> None:
    doc = _doc()
    doc["budget"]["zzz"] = 1
    assert _problems(doc) == {
        "budget.zzz": "unknown field `zzz`; known fields: annual, capital, capital_by_year, horizon_years"}


def test_a_target_naming_an_unknown_facility_type_suggests_the_closest() -> None:
    doc = _doc()
    doc["targets"][1]["facility"] = "meals"
    with pytest.raises(ScenarioError, match=r"^targets\[1\]\.facility: unknown facility type 'meals'; "
                                            r"did you mean 'meal'\?$"):
        parse_scenario(doc)


def test_a_target_group_the_type_does_not_serve_is_named() -> None:
    doc = _doc()
    doc["targets"][0]["group"] = "rural"
    assert list(_problems(doc)) == ["targets[0].group"]
    with pytest.raises(ScenarioError, match=r"targets\[0\]\.group: group 'rural' is not served by 'station' "
                                            r"\(serves: urban\)"):
        parse_scenario(doc)


@pytest.mark.parametrize(("crs", "message"), [
    ("EPSG:4326", r"^crs: 'EPSG:4326' is geographic \(degrees\); distances need a projected CRS in metres"),
    ("EPSG:999999", r"^crs: 'EPSG:999999' is not a coordinate reference system pyproj knows"),
    ("not a crs", r"^crs: 'not a crs' is not a coordinate reference system"),
])
def test_a_crs_that_cannot_measure_metres_is_rejected_at_crs(crs: str, message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario(_doc(crs=crs))


def test_a_projected_crs_is_accepted() -> None:
    scenario, _ = parse_scenario(_doc(crs="EPSG:3857"))
    assert scenario.crs == "EPSG:3857"


def test_network_and_distances_together_are_refused() -> None:
    doc = _doc(network={"path": "roads.gpkg"}, distances={"path": "times.csv"})
    with pytest.raises(ScenarioError, match=r"^distances: give at most one of `network` and `distances`"):
        parse_scenario(doc)


def test_a_layer_with_both_path_and_features_is_refused_at_the_layer() -> None:
    doc = _doc()
    doc["sites"]["path"] = "sites.geojson"
    with pytest.raises(ScenarioError, match=r"^sites: give one of `path` \(a file\) or `features`"):
        parse_scenario(doc)


def test_every_problem_is_reported_at_once() -> None:
    doc = _doc(crs="EPSG:4326")
    doc["budget"]["capital"] = -1
    doc["solver"]["mip_gap"] = 2
    doc["facility_types"]["station"].pop("radius_m")
    problems = _problems(doc)
    assert set(problems) == {"budget.capital", "solver.mip_gap", "facility_types.station"}
    assert problems["budget.capital"] == "Input should be greater than or equal to 0 (got -1)"
    assert problems["facility_types.station"].startswith("give `radius_m` (metres) or `walk_minutes`")
    # Reference checks run once the fields validate; then they too are all reported together.
    doc = _doc(crs="EPSG:4326")
    doc["targets"][1]["facility"] = "meals"
    doc["facility_types"]["meal"]["colocate"] = {"statoin": 0.4}
    assert set(_problems(doc)) == {"crs", "targets[1].facility", "facility_types.meal.colocate.statoin"}


def test_a_count_target_with_min_above_max_is_named_at_the_target() -> None:
    doc = _doc()
    doc["targets"][1] |= {"min": 3, "max": 1}
    with pytest.raises(ScenarioError, match=r"^targets\[1\]: `min` \(3\) is above `max` \(1\)"):
        parse_scenario(doc)


def test_a_missing_required_field_says_so() -> None:
    doc = _doc()
    doc.pop("facility_types")
    assert _problems(doc) == {"facility_types": "this field is required"}


def test_a_type_cannot_be_its_own_colocation_host() -> None:
    doc = _doc()
    doc["facility_types"]["meal"]["colocate"] = {"meal": 0.5}
    assert _problems(doc) == {"facility_types.meal.colocate.meal": "a type cannot be its own host"}


def test_preset_entries_expand_in_place_into_labelled_targets() -> None:
    """pingyin-2021 (county level) has four targets; three skipped, the first's share replaced."""
    doc = _doc()
    preset = {"preset": "pingyin-2021", "skip": ["street-and-town-centres", "county-centre", "existing-compounds-land"],
              "replace": {"community-radius": {"min_share": 0.8}}}
    doc["targets"] = [TARGETS[1], preset, TARGETS[2]]
    scenario, _ = parse_scenario(doc)
    kinds = [t.kind for t in scenario.targets]
    assert kinds == ["count", "coverage", "land"]
    expanded = scenario.targets[1]
    assert isinstance(expanded, CoverageTarget)
    assert (expanded.facility, expanded.group, expanded.measure) == ("station", "urban", "units")
    assert expanded.min_share == 0.8
    assert expanded.preset == "pingyin-2021/community-radius"
    assert expanded.label is not None and expanded.label.endswith("（已调整）")
    assert expanded.source is not None and 'changed by the scenario: {"min_share": 0.8}' in expanded.source
    assert scenario.targets[0].preset is None and scenario.targets[2].preset is None


def test_preset_roles_map_onto_the_scenarios_facility_types() -> None:
    doc = _doc()
    doc["targets"] = [{"preset": "pingyin-2021", "facilities": {"centre": "meal", "institution": "station"},
                       "skip": ["existing-compounds-land"]}]   # its land norm needs a households weight
    scenario, _ = parse_scenario(doc)
    assert [(t.kind, t.facility, t.preset) for t in scenario.targets] == [
        ("coverage", "station", "pingyin-2021/community-radius"),
        ("count", "meal", "pingyin-2021/street-and-town-centres"),
        ("count", "station", "pingyin-2021/county-centre")]


def test_an_unmapped_preset_role_names_the_mapping_to_add() -> None:
    doc = _doc()
    doc["targets"] = [{"preset": "pingyin-2021", "skip": ["street-and-town-centres"]}]
    with pytest.raises(ScenarioError, match=r"^targets\[0\]\.facilities\.institution: preset 'pingyin-2021' needs "
                                            r"a facility type for 'institution'.*\"skip\": \[\"county-centre\"\]"):
        parse_scenario(doc)


def test_an_unknown_preset_suggests_the_closest_name() -> None:
    doc = _doc()
    doc["targets"] = [TARGETS[0], {"preset": "pingyin-2012"}]
    with pytest.raises(ScenarioError, match=r"^targets\[1\]\.preset: unknown preset 'pingyin-2012'; "
                                            r"did you mean 'pingyin-2021'\?"):
        parse_scenario(doc)


def test_load_scenario_reads_paths_relative_to_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "plans"
    folder.mkdir()
    scenario, base_dir = load_scenario(write_scenario(folder, _doc()))
    assert base_dir == folder.resolve()
    assert scenario.name == "test"


def test_load_scenario_names_line_and_column_of_broken_json(tmp_path: Path) -> None:
    path = tmp_path / "scenario.json"
    path.write_text('{"format": 1,\n  "name": }', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"scenario\.json: not valid JSON at line 2, column 11"):
        load_scenario(path)


def test_a_document_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"^\(document\): a scenario is a JSON object$"):
        parse_scenario(json.loads("[1, 2]"))


def test_json_path_reads_like_the_document() -> None:
    assert json_path(("targets", 2, "min_share")) == "targets[2].min_share"
    assert json_path(("facility_types", "station", "colocate", "meal")) == "facility_types.station.colocate.meal"
    assert json_path(()) == "(document)"

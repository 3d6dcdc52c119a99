"""Policy presets: one per seed plan, quotes verbatim, expansion into labelled targets, each solves on Pingyin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from optimizer.cli.main import app
from optimizer.errors import ScenarioError
from optimizer.plan import solve
from optimizer.scenario.format import parse_scenario
from optimizer.scenario.presets import load_preset, preset_names

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
PINGYIN = ROOT / "scenarios" / "pingyin-2026.json"
SEED_OF = {"liaocheng-2026": "000", "pingyin-2021": "001", "jinan-shizhong-2020": "002",
           "sucheng-2025": "003", "yantai-2024": "004"}
#: How the presets' facility names map onto geodata/pingyin's types (see the presets' notes).
MAPPING = {"sucheng-2025": {"regional_centre": "centre", "mutual_aid_point": "happiness_home"}}
#: Entries that fit a preset to geodata/pingyin: Sucheng's three named towns become three Pingyin towns.
FIT = {"sucheng-2025": {"replace": {"regional-centres": {"zones": ["东阿镇", "孝直镇", "洪范池镇"]}}}}
BED_KINDS = ["nursing", "ordinary", "dementia"]


def pingyin_doc(targets: list[Any]) -> dict[str, Any]:
    """The default Pingyin scenario with the county-level types (`allowed_all`), the synthetic existing
    institutions and their beds (`existing_all`, `beds_*`), households, two bed actions and `targets`."""
    doc = json.loads(PINGYIN.read_text(encoding="utf-8"))
    doc["demand"]["weights"] |= {"households": "hh"}
    doc["sites"] |= {"allowed": "allowed_all", "existing": "existing_all",
                     "beds": {kind: f"beds_{kind}" for kind in BED_KINDS}}
    doc["sites"]["cost"] |= {"institution": "cost_institution", "dementia_centre": "cost_dementia_centre"}
    doc["facility_types"] |= {
        "institution": {"radius_m": 30000, "capital_cost": 30e6, "annual_cost": 3e6, "land_m2": 10000,
                        "beds": {"nursing": 160, "ordinary": 40}},
        "dementia_centre": {"radius_m": 30000, "capital_cost": 5e6, "annual_cost": 8e5, "land_m2": 3000,
                            "beds": {"dementia": 40}}}
    doc["bed_actions"] = {
        "convert_to_nursing": {"at": ["institution"], "adds": "nursing", "removes": "ordinary",
                               "capital_per_bed": 12000, "annual_per_bed": 3000, "max_per_site": 200},
        "add_dementia": {"at": ["institution"], "adds": "dementia", "capital_per_bed": 50000,
                         "annual_per_bed": 9000, "max_per_site": 30}}
    doc["targets"] = targets
    doc["solver"] |= {"mip_gap": 0.01}
    return doc


def _parse(targets: list[Any]) -> Any:
    return parse_scenario(pingyin_doc(targets), base_dir=PINGYIN.parent)


def _problems(targets: list[Any]) -> str:
    with pytest.raises(ScenarioError) as info:
        _parse(targets)
    return " ".join(" ".join(str(p) for p in info.value.problems).split())


def test_one_preset_per_seed_plan() -> None:
    assert preset_names() == sorted(SEED_OF)
    for name, number in SEED_OF.items():
        assert Path(load_preset(name).file).name.startswith(f"{number}_")


@pytest.mark.parametrize("name", sorted(SEED_OF))
def test_every_quote_is_verbatim_in_its_plan(name: str) -> None:
    preset = load_preset(name)
    if not SEEDS.is_dir():
        pytest.skip(f"the seed plans are not at {SEEDS}")
    text = (SEEDS.parent / preset.file).read_text(encoding="utf-8")
    quotes = [q for t in preset.targets for q in t.quote]
    quotes += [item.quote for item in (*preset.out_of_scope, *preset.guidance)]
    assert quotes and [q for q in quotes if q not in text] == []
    assert preset.out_of_scope, "every plan has figures no facility-location target expresses"


@pytest.mark.parametrize("name", sorted(SEED_OF))
def test_each_preset_solves_on_pingyin_with_every_target_met(name: str) -> None:
    """County level, the document's own figures (bed shares included); Sucheng's towns mapped onto Pingyin's."""
    scenario, base_dir = _parse([{"preset": name, "facilities": MAPPING.get(name, {})} | FIT.get(name, {})])
    preset = load_preset(name)
    expected = [f"{name}/{t.id}" for t in preset.targets if t.applies_to in ("any", "county")]
    assert [t.preset for t in scenario.targets] == expected
    assert (name == "pingyin-2021") == (not any(t.kind == "beds" for t in scenario.targets))   # 001 has no bed figure
    result = solve(scenario, base_dir)
    assert result.checked is not None and result.all_targets_met, result.explanation
    for target in result.checked.targets:
        assert target["preset"].startswith(f"{name}/") and preset.file in target["source"]


#: County-scale stand-ins for citywide figures, set with `replace` (the presets keep the documents' figures).
COUNTY_SCALE = {
    "liaocheng-2026": {"beds-citywide": {"min": 1300}, "dementia-beds-citywide": {"min": 60},
                       "happiness-canteens-citywide": {"min": 10}},
    "yantai-2024": {"dementia-institutions-citywide": {"min": 1}, "meal-demonstration-citywide": {"min": 10}},
}


@pytest.mark.parametrize("name", sorted(COUNTY_SCALE))
def test_city_presets_solve_on_pingyin_with_their_bed_totals_at_county_scale(name: str) -> None:
    """City level: every target of the plan, bed totals included, on the Pingyin data.

    The presets state the documents' citywide figures (Liaocheng: 25,000 beds, 1,200 dementia beds,
    100 new canteens; Yantai: 20 dementia institutions, 100 meal points). A county cannot meet those,
    so this test sets county-scale figures with `replace`: 1,300 beds (Pingyin's synthetic 1,140
    existing beds plus one new institution or dementia beds), 60 dementia beds (Liaocheng's
    1,200 / 25,000 = 4.8% of that), 10 new canteens / meal points, 1 dementia institution. Shares
    (nursing 78%; 70% and 80%) are the documents' own.
    """
    replace = COUNTY_SCALE[name]
    scenario, base_dir = _parse([{"preset": name, "level": "city", "replace": replace}])
    kinds = {t.preset.split("/")[1]: t for t in scenario.targets}
    assert set(replace) <= set(kinds) and all(kinds[k].min == v["min"] for k, v in replace.items())
    assert any(t.kind == "beds" and t.min_share for t in scenario.targets)
    result = solve(scenario, base_dir)
    assert result.checked is not None and result.all_targets_met, result.explanation
    beds = [t for t in result.checked.targets if t["kind"] == "beds"]
    assert beds and all(t["met"] for t in beds)


def test_expanded_targets_carry_label_and_quoted_source() -> None:
    scenario, _ = _parse([{"preset": "jinan-shizhong-2020"}])
    homes = next(t for t in scenario.targets if t.preset == "jinan-shizhong-2020/happiness-homes")
    assert (homes.kind, homes.facility, homes.group, homes.min_share) == ("coverage", "happiness_home", "rural", 0.5)
    assert homes.label == "农村幸福院覆盖率超过50%" and homes.strict   # 超过: more than
    assert "seeds/002_30f2adab84a5d6cc.txt" in homes.source
    assert "「到 2022 年年底, 农村幸福院覆盖率超过 50%」" in homes.source


def test_presets_mix_with_ordinary_targets_in_one_list() -> None:
    scenario, _ = _parse([{"kind": "count", "facility": "station", "min": 1}, {"preset": "yantai-2024"},
                          {"kind": "coverage", "facility": "meal_point", "min_share": 0.5}])
    assert [(t.kind, getattr(t, "facility", None), t.preset) for t in scenario.targets] == [
        ("count", "station", None), ("count", "institution", "yantai-2024/public-institution"),
        ("beds", None, "yantai-2024/nursing-share-2025"), ("beds", None, "yantai-2024/nursing-share-2030"),
        ("coverage", "meal_point", None)]


def test_skip_replace_and_level_shape_the_expansion() -> None:
    scenario, _ = _parse([{"preset": "liaocheng-2026", "level": "city", "skip": ["land-per-capita"],
                           "replace": {"urban-community-facilities": {"min_share": 0.95}}}])
    ids = [t.preset.split("/")[1] for t in scenario.targets]
    assert ids == ["township-centres", "urban-community-facilities", "beds-citywide", "dementia-beds-citywide",
                   "nursing-share", "happiness-canteens-citywide"]
    assert scenario.targets[1].min_share == 0.95 and '"min_share": 0.95' in scenario.targets[1].source


def test_bed_targets_quote_their_figures() -> None:
    scenario, _ = _parse([{"preset": "liaocheng-2026", "level": "city"}])
    beds = {t.preset: t for t in scenario.targets if t.kind == "beds"}
    assert beds["liaocheng-2026/beds-citywide"].min == 25000 and beds["liaocheng-2026/beds-citywide"].bed == BED_KINDS
    assert beds["liaocheng-2026/dementia-beds-citywide"].min == 1200
    share = beds["liaocheng-2026/nursing-share"]
    assert (share.bed, share.min_share, share.of) == ("nursing", 0.78, BED_KINDS)
    assert "「到2025年年底，养老机构护理型床位占比达到78%」" in share.source
    for name, figures in (("jinan-shizhong-2020", [0.6]), ("sucheng-2025", [0.7]), ("yantai-2024", [0.7, 0.8])):
        expanded, _ = _parse([{"preset": name, "facilities": MAPPING.get(name, {})} | FIT.get(name, {})])
        assert [t.min_share for t in expanded.targets if t.kind == "beds"] == figures


def test_preset_years_pass_to_a_phased_scenario_and_drop_without_years() -> None:
    """A preset year becomes the first planning year not before it (2022 -> 2024; 2030 -> none: the last year)."""
    entries = [{"preset": "liaocheng-2026", "level": "city"}, {"preset": "jinan-shizhong-2020"},
               {"preset": "yantai-2024", "level": "city"}]
    plain, _ = _parse(entries)
    assert all(t.year is None for t in plain.targets)
    doc = pingyin_doc(entries) | {"years": [2024, 2025, 2026]}
    phased, _ = parse_scenario(doc, base_dir=PINGYIN.parent)
    years = {t.preset: t.year for t in phased.targets}
    assert years["liaocheng-2026/happiness-canteens-citywide"] == 2024
    assert years["liaocheng-2026/nursing-share"] == 2025 and years["liaocheng-2026/beds-citywide"] == 2026
    assert years["liaocheng-2026/land-per-capita"] is None
    assert years["jinan-shizhong-2020/happiness-homes"] == 2024
    assert years["yantai-2024/nursing-share-2025"] == 2025 and years["yantai-2024/nursing-share-2030"] is None
    replaced, _ = parse_scenario(pingyin_doc([{"preset": "yantai-2024", "replace": {
        "nursing-share-2030": {"year": 2026}}}]) | {"years": [2024, 2025, 2026]}, base_dir=PINGYIN.parent)
    assert [t.year for t in replaced.targets] == [None, 2025, 2026]


def test_sucheng_regional_centres_are_counted_in_its_three_named_towns() -> None:
    preset = load_preset("sucheng-2025")
    centres = next(t for t in preset.targets if t.id == "regional-centres")
    assert centres.target.zones == ["龙河镇", "屠园镇", "耿车镇"] and centres.target.min == 1
    scenario, base_dir = _parse([{"preset": "sucheng-2025", "facilities": MAPPING["sucheng-2025"]}])
    with pytest.raises(ScenarioError) as info:   # not zones of Pingyin: each named when the data is read
        solve(scenario, base_dir)
    text = " ".join(str(p) for p in info.value.problems)
    assert all(f"unknown zone '{town}'" in text for town in ("龙河镇", "屠园镇", "耿车镇"))


def test_missing_facility_type_names_the_preset_the_type_and_the_fix() -> None:
    doc = json.loads(PINGYIN.read_text(encoding="utf-8"))
    doc["targets"] = [{"preset": "sucheng-2025"}]
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc)
    text = " ".join(str(p) for p in info.value.problems)
    assert "targets[0].facilities.regional_centre: preset 'sucheng-2025' needs a facility type for " \
           "'regional_centre'" in text
    assert "targets[0].facilities.institution" in text and '"skip": ["demonstration-institution"]' in text


@pytest.mark.parametrize(("entry", "expected"), [
    ({"preset": "liaocheng-2025"}, ["targets[0].preset", "did you mean 'liaocheng-2026'"]),
    ({"preset": "yantai-2024", "facilitys": {}}, ["targets[0].facilitys", "did you mean `facilities`"]),
    ({"preset": "yantai-2024", "skip": ["nothing"]}, ["targets[0].skip", "no target 'nothing'"]),
    ({"preset": "yantai-2024", "replace": {"public-institution": {"facility": "centre"}}},
     ["targets[0].replace.public-institution.facility", "map the preset's facility"]),
    ({"preset": "yantai-2024", "replace": {"public-institution": {"min": -1}}},
     ["targets[0].replace.public-institution.min", "greater than or equal to 0"]),
    ({"preset": "yantai-2024", "facilities": {"institution": "hospital"}},
     ["targets[0].facilities.institution", "mapped to 'hospital'"]),
    ({"preset": "jinan-shizhong-2020", "groups": {"rural": "village"}},
     ["(preset target jinan-shizhong-2020/happiness-homes) group 'village' is not served"]),
], ids=["unknown", "misspelled-field", "skip", "replace-facility", "replace-value", "mapped-type", "group"])
def test_bad_preset_entries_name_the_place_and_the_fix(entry: dict[str, Any], expected: list[str]) -> None:
    text = _problems([entry])
    for part in expected:
        assert part in text


def test_cli_lists_presets_and_shows_one_with_quotes_and_out_of_scope() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["presets"])
    assert listing.exit_code == 0 and all(name in listing.output for name in SEED_OF)
    shown = runner.invoke(app, ["presets", "pingyin-2021"])
    flat = "".join(shown.output.split())
    assert shown.exit_code == 0 and "「确保养老服务设施覆盖半径不大于1000米」" in flat
    assert "outofscope" in flat and "「不能自理特困人员集中供养率要达到55%以上」" in flat
    unknown = runner.invoke(app, ["presets", "pingyin"])
    assert unknown.exit_code == 2 and "unknown preset 'pingyin'" in unknown.output


def test_sucheng_counts_only_new_demonstration_points() -> None:
    """建成10个示范性社区助餐点 and 建成…互助养老睦邻点20个: points the plan builds, so existing meal
    points (28 in Sucheng's case) do not meet them."""
    targets = {t.id: t.target for t in load_preset("sucheng-2025").targets}
    assert targets["demonstration-meal-points"].new_only and targets["mutual-aid-points"].new_only

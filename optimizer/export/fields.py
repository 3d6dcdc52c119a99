"""Field names of the exported layers with their Chinese aliases and English descriptions.

Field names stay short ASCII (plus the scenario's own type and weight names) so every GIS reads
them; the alias (别名) is what QGIS shows in attribute tables and forms. README lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# name -> (Chinese alias, description)
_STATIC: dict[str, tuple[str, str]] = {
    "site": ("站点编号", "site id as in the sites layer"),
    "type": ("设施类型", "facility type (scenario `facility_types` key)"),
    "new": ("是否新建", "1 = new facility, 0 = existing (kept open)"),
    "capital_cost": ("建设投资（元）", "capital cost after co-location factors, yuan (0 if existing)"),
    "annual_cost": ("年运营费用（元）", "operating cost per year, yuan"),
    "land_m2": ("用地面积（平方米）", "land of the facility, m²"),
    "capacity": ("服务容量", "capacity of the facility (empty: uncapacitated)"),
    "zone": ("所属街道/乡镇", "street / township"),
    "bed_capital": ("床位改造投资（元）", "capital of the plan's bed actions at the site, yuan, all years"),
    "bed_annual": ("床位年运营费用（元）", "annual cost of the beds the actions add at the site, yuan (last year)"),
    "served_units": ("服务社区数", "demand units whose nearest open facility of this type in reach is this one"),
    "id": ("社区/村编号", "demand unit id as in the demand layer"),
    "group": ("社区类别", "demand group (e.g. urban / rural)"),
    "coverage": ("覆盖状况", "covered / partly / uncovered by the types serving the unit; not_served"),
    "radius_m": ("服务半径（米）", "service radius of the type, metres"),
    "method": ("生成方法", "how the polygon was made (straight_line_buffer, reach_hull)"),
    "units_in_reach": ("可达社区数", "demand units served by the type within reach of this facility"),
    "units": ("社区数", "demand units in the zone"),
    "achievement": ("目标达成度", "worst achieved / required over the per-zone targets (1 = met)"),
    "all_met": ("片区目标是否全部达成", "1 when every per-zone target is met in this zone"),
    "target_class": ("达成等级", "met / near (>= 90%) / partial (50-90%) / short (< 50%) / none"),
    "boundary": ("边界来源", "how the zone polygon was made (not an official boundary)"),
    "index": ("目标序号", "target index in the scenario's `targets`"),
    "kind": ("目标类型", "coverage / count / land"),
    "facility": ("设施类型", "facility type of the target"),
    "label": ("目标名称", "the target's label"),
    "required": ("要求值", "required share, count or m²"),
    "achieved": ("实际值", "achieved share, count or m² (overall: the worst zone for per-zone targets)"),
    "met": ("是否达成", "1 when the target is met"),
    "shortfall": ("差额", "required minus achieved, when short"),
    "covered": ("已覆盖量", "covered measure (coverage targets)"),
    "total": ("总量", "total measure (coverage targets)"),
    "key": ("项目", "plan property"),
    "value": ("值", "its value"),
}
# Fields whose meaning depends on the layer: layer -> name -> (Chinese alias, description).
_BY_LAYER: dict[str, dict[str, tuple[str, str]]] = {
    "facilities": {"name": ("站点名称", "site name as in the sites layer (empty: none given)"),
                   "label": ("设施类型名称", "what planners call the facility type (its `label`)"),
                   "action": ("建设方式", "new / renovation (bed actions at an existing facility) / existing")},
    "demand": {"name": ("社区/村名称", "demand unit name as in the demand layer (empty: none given)")},
    "service_areas": {"name": ("站点名称", "site name"), "label": ("设施类型名称", "facility type label")},
}
_TARGET = re.compile(r"^t(\d+)_(req|ach|met)$")
_TARGET_PART = {"req": ("要求值", "required"), "ach": ("实际值", "achieved"), "met": ("是否达成", "met (1/0)")}


def _prefixed(column: str, weights: list[str], unit_label: tuple[str, str],
              labels: dict[str, str]) -> tuple[str, str] | None:
    """Aliases of the fields named after a facility type (by its label) or a weight."""
    def label(rest: str) -> str:
        return labels.get(rest, rest)

    prefixes: dict[str, Callable[[str], tuple[str, str]]] = {
        "served_": lambda rest: (f"服务人口（{rest}）", f"sum of weight `{rest}` over the units served"),
        "cov_": lambda rest: (f"{label(rest)}是否覆盖",
                              f"1 covered by `{rest}`, 0 not, empty: `{rest}` does not serve it"),
        "dist_": lambda rest: (f"至最近{label(rest)}{unit_label[0]}",
                               f"{unit_label[1]} to the nearest open `{rest}` (empty: none open)"),
        "open_": lambda rest: (f"{label(rest)}数量", f"open `{rest}` facilities in the zone"),
        "new_": lambda rest: (f"新建{label(rest)}数量", f"new `{rest}` facilities in the zone"),
        "covshare_": lambda rest: (f"{label(rest)}覆盖率",
                                   f"share of the zone's units served by `{rest}` that it covers"),
        "beds_added_": lambda rest: (f"新增{rest}床位", f"`{rest}` beds the plan's bed actions add at the site (net of "
                                     "conversions out), all years"),
    }
    for prefix, make in prefixes.items():
        if column.startswith(prefix):
            return make(column.removeprefix(prefix))
    if column in weights:
        return f"{column}（权重）", f"named weight `{column}`"
    return None


def field_aliases(columns: list[str], *, weights: list[str], distance_unit: str,
                  targets: dict[int, str], layer: str | None = None,
                  labels: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """Column -> (Chinese alias, English description) for the columns of one layer.

    Parameters
    ----------
    columns : list of str
        The layer's attribute columns (geometry excluded).
    weights : list of str
        The scenario's named weights.
    distance_unit : str
        ``"m"`` or ``"min"``: what ``dist_*`` fields measure.
    targets : dict
        Target index -> a one-line description, for the ``t<k>_*`` zone fields.
    layer : str, optional
        The layer's name, for fields whose meaning depends on it (``name``, ``label``).
    labels : dict, optional
        Facility type -> its label, used in the Chinese aliases of the per-type fields.
    """
    unit_label = ("时间（分钟）", "minutes") if distance_unit == "min" else ("距离（米）", "metres")
    out = {}
    own = _BY_LAYER.get(layer or "", {})
    for column in columns:
        if column in own:
            out[column] = own[column]
        elif column in _STATIC:
            out[column] = _STATIC[column]
        elif match := _TARGET.match(column):
            k, part = int(match.group(1)), match.group(2)
            zh, en = _TARGET_PART[part]
            out[column] = (f"目标{k}{zh}", f"target {k} ({targets.get(k, '')}) in this zone: {en}")
        elif (found := _prefixed(column, weights, unit_label, labels or {})) is not None:
            out[column] = found
    return out


def _where(target: Any) -> str:
    """Where and when a target holds: per zone, named zones, from a year."""
    zones = [target.zone] if getattr(target, "zone", None) else list(getattr(target, "zones", None) or [])
    text = " per zone" if getattr(target, "per_zone", False) else (f" in {', '.join(zones)}" if zones else "")
    return text + (f" from {target.year}" if getattr(target, "year", None) is not None else "")


def target_descriptions(targets: list[Any]) -> dict[int, str]:
    """Target index -> short text, e.g. ``coverage station urban >= 100%``."""
    out = {}
    for k, target in enumerate(targets):
        if target.kind == "coverage":
            scope = f" {target.group}" if target.group else ""
            text = f"coverage {target.facility}{scope} ({target.measure}) >= {100 * target.min_share:g}%"
        elif target.kind == "count":
            bounds = " ".join(p for p in (f">= {target.min}" if target.min is not None else "",
                                          f"<= {target.max}" if target.max is not None else "") if p)
            text = f"count {'new ' if target.new_only else ''}{target.facility} {bounds}"
        elif target.kind == "beds":
            kinds = "+".join(target.kinds)
            text = (f"beds {kinds} >= {target.min}" if target.min is not None
                    else f"beds {kinds} >= {100 * target.min_share:g}% of {'+'.join(target.of or [])}")
        elif target.households is not None:
            text = f"land >= {target.per_100_households_m2:g} m² per 100 {target.households}"
        else:
            text = f"land >= {target.per_capita_m2:g} m² per {target.population}"
        if getattr(target, "strict", False):
            text = text.replace(">=", ">")
        out[k] = (target.label + ": " if target.label else "") + text + _where(target)
    return out

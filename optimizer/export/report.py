"""report.html: the plan as a document for the bureau meeting, Chinese first with English beside it.

One self-contained page (inline CSS, the map and the frontier chart as data: URIs, nothing
from another origin) that prints to A4; `optimizer.export.pdf` prints it to report.pdf.
Sections: what was asked (targets with their policy clauses, budget), the answer (cost,
status and proven gap in words), the map, the build list by township (plan.json's
``build_list``), each target required against achieved (per year when phased), communities
left uncovered and why, the cost–coverage frontier when the plan belongs to a sweep, the
data's provenance (synthetic data said so), a method note. Every figure is the checker's or
plan.json's; nothing is recomputed here but sums for display.
"""

from __future__ import annotations

import base64
import html
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from optimizer.export.bundle import PlanBundle
from optimizer.export.charts import year_rows
from optimizer.export.fields import target_descriptions
from optimizer.export.labels import type_label

STATUS_WORDS = {
    "optimal": ("已求得最优方案", "optimal"),
    "time_limit_feasible": ("在时间限制内求得可行方案（未证明最优）", "feasible, stopped by the time limit"),
    "infeasible": ("目标无法在约束内全部满足", "the targets cannot all be met within the limits"),
    "time_limit_no_solution": ("时间限制内未找到方案", "no plan found within the time limit"),
}
ACTION_WORDS = {"new": "新建 new", "renovation": "改造 renovation", "existing": "保留 existing"}
MAP_CAPTION = ("圆点新建，方块现有；底色为片区目标达成情况。",
               "Circles new, squares existing; zone shading: per-zone target achievement.")
ALL_COVERED = ("所有社区均被服务它的各类设施覆盖。", "Every community is covered by every type serving it.")
NO_PROVENANCE = ("数据旁未找到来源说明（PROVENANCE）文件；使用前请核实数据来源。",
                 "No PROVENANCE file beside the data: confirm where it comes from before use.")
METHOD = ("以混合整数规划在候选站点中选址：每类设施只服务其服务半径（或步行时间）内的社区；"
          "在满足各项规划目标与预算的前提下使目标函数最优。方案由独立校核程序根据原始数据重新计算覆盖、目标与费用后才输出。",
          "Sites are chosen among the candidates by mixed-integer programming: a facility serves the communities "
          "within its service radius or walking time; the objective ({objective}) is optimised subject to every "
          "target and budget. An independent checker recomputes coverage, targets and cost from the raw data before "
          "the plan is shown. Reach: {reach}; solver: {backend}, {seconds} s.")
UNCOVERED_ROWS = 400   # a city's long tail goes to plan.xlsx; the printed list stays readable
SWEEP_DEPTH = 2   # a sweep's level plans sit at <sweep>/levels/budget_<yuan>/plan.json
CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", sans-serif;
       font-size: 10.5pt; color: #1a1a1a; line-height: 1.45; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 18pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 6mm 0 2mm; border-bottom: 1px solid #999; }
h3 { font-size: 11pt; margin: 4mm 0 1mm; }
.en { color: #555; font-weight: normal; } .sub { color: #444; margin: 0 0 3mm; }
table { border-collapse: collapse; width: 100%; font-size: 9pt; margin: 1mm 0 3mm; page-break-inside: auto; }
th, td { border: 1px solid #bbb; padding: 1px 4px; text-align: left; vertical-align: top; }
th { background: #eef1f4; } tr { page-break-inside: avoid; } thead { display: table-header-group; }
table.build { table-layout: fixed; } table.build th:nth-child(1) { width: 25%; }
table.build th:nth-child(2) { width: 14%; } table.build th:nth-child(3) { width: 9%; }
table.build th:nth-child(4) { width: 6%; } table.build th:nth-child(8) { width: 8%; }
table.build td:first-child { word-break: break-all; }
table.asked { table-layout: fixed; } table.asked th:nth-child(1) { width: 6%; }
table.asked th:nth-child(2) { width: 30%; } table.asked th:nth-child(3) { width: 20%; }
table.asked th:nth-child(4) { width: 10%; } table.asked td { word-break: break-word; }
td.num { text-align: right; white-space: nowrap; } th.num { text-align: right; }
.ok { color: #1a7f37; font-weight: 600; } .bad { color: #c0392b; font-weight: 600; }
.box { border: 1px solid #999; padding: 2mm 3mm; margin: 2mm 0; background: #fafafa; }
.warn { border: 2px solid #c0392b; padding: 2mm 3mm; margin: 2mm 0; background: #fff4f2; }
img { max-width: 100%; } figure { margin: 2mm 0; page-break-inside: avoid; }
figcaption { font-size: 9pt; color: #555; } .small { font-size: 8.5pt; color: #555; }
"""


def _e(value: Any) -> str:
    return html.escape("–" if value is None else str(value))


def _yuan(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f}"


def _both(chinese: str, english: str) -> str:
    """Chinese first, English beside it (escaped)."""
    return f'{_e(chinese)} <span class="en">{_e(english)}</span>'


def _table(headers: list[tuple[str, str]], rows: list[list[str]], numeric: set[int] | None = None,
           css: str = "") -> str:
    """A table with bilingual headers; cells are HTML already; `numeric` columns align right."""
    numeric = numeric or set()
    head = "".join(f'<th{" class=num" if k in numeric else ""}>{_both(*h)}</th>' for k, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td{" class=num" if k in numeric else ""}>{cell}</td>'
                                    for k, cell in enumerate(row)) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _site_names(bundle: PlanBundle) -> dict[str, str]:
    """Site id -> name, from plan.json's facilities (names the results step writes)."""
    return {str(f["site"]): str(f["name"]) for f in bundle.plan.get("facilities") or [] if f.get("name")}


def _unit_names(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, str]:
    demand = layers["demand"]
    if "name" not in demand.columns:
        return {}
    return {str(i): str(n) for i, n in zip(demand["id"], demand["name"]) if pd.notna(n)}


# -- sections ----------------------------------------------------------------------------------

def _title(bundle: PlanBundle) -> str:
    scenario = bundle.scenario
    zones = sorted({str(z["zone"]) for z in bundle.plan.get("zones") or [] if z.get("zone")})
    years = bundle.plan.get("years") or {}
    period = f"{min(years)}–{max(years)}" if years else ""
    region = f"{len(zones)} 个街道/乡镇 townships and streets: {'、'.join(zones)}" if zones else ""
    return (f"<h1>{_e(scenario.name)}</h1>"
            f'<p class="sub">{_both("养老服务设施布局规划方案", "Elder-care facility plan")}'
            f"{' · ' + _e(period) if period else ''}<br>{_e(region)}</p>"
            + (f'<p class="small">{_e(scenario.description)}</p>' if scenario.description else ""))


def _asked(bundle: PlanBundle) -> str:
    descriptions = target_descriptions(bundle.scenario.targets)
    rows = []
    for k, spec in enumerate(bundle.scenario.targets):
        rows.append([f"T{k}", _e(spec.label or descriptions[k]), _e(descriptions[k].split(": ", 1)[-1]),
                     _target_year(bundle, getattr(spec, "year", None)), _e(getattr(spec, "source", None) or "—")])
    table = _table([("序号", "#"), ("目标", "target"), ("口径", "measure"), ("年份", "year"),
                    ("政策依据", "policy clause")], rows, css="asked")
    return f"<h2>{_both('一、规划要求', 'What was asked')}</h2>{table}{_budget(bundle)}"


def _target_year(bundle: PlanBundle, year: int | None) -> str:
    """When a target holds: from its year on; without one, the last planning year (phased plans)."""
    if year is not None:
        return _both(f"{year}年起", f"from {year}")
    last = _last_year(bundle)
    return "—" if last is None else _both(f"{last}年（末年）", "last year")


def _budget(bundle: PlanBundle) -> str:
    budget = bundle.plan.get("budget") or {}
    parts = []
    if budget.get("capital") is not None:
        parts.append(f"{_both('建设投资上限', 'capital budget')}：{_yuan(budget['capital'])} 元 yuan")
    for year, cap in (budget.get("capital_by_year") or {}).items():
        parts.append(f"{_e(year)} 年 {_both('当年投资上限', 'capital cap')}：{_yuan(cap)} 元")
    if budget.get("annual") is not None:
        parts.append(f"{_both('年运营费用上限', 'annual budget')}：{_yuan(budget['annual'])} 元/年")
    if budget.get("horizon_years") is not None:
        parts.append(f"{_both('运营费用计算年限', 'years of operating cost counted')}：{budget['horizon_years']:g}")
    if not parts:
        parts.append(_both("未设预算上限：求最低总成本", "no budget cap: the least total cost is sought"))
    return '<div class="box">' + "<br>".join(parts) + "</div>"


def _answer(bundle: PlanBundle) -> str:
    plan, cost = bundle.plan, bundle.checked.cost
    chinese, english = STATUS_WORDS.get(str(plan.get("status")), (str(plan.get("status")), str(plan.get("status"))))
    gap, bound = plan.get("gap"), plan.get("bound")
    if gap is not None and bound is not None:
        proof = (f"最优性差距 {100 * gap:.3f}%：没有任何满足全部目标的方案的目标值低于 {_yuan(bound)}。"
                 f'<br><span class="en">Proven gap {100 * gap:.3f}%: no plan meeting the targets scores below '
                 f"{_yuan(bound)} (objective {_e(plan.get('objective_kind'))}).</span>")
    else:
        proof = _both("未给出下界：方案未证明最优。", "No bound: the plan is not proven optimal.")
    met = (f'<span class="ok">{_both("全部规划目标达成", "every target met")}</span>' if plan.get("all_targets_met")
           else f'<span class="bad">{_both("规划目标未全部达成", "targets NOT all met")}</span>')
    new = sum(1 for f in bundle.checked.facilities if f["new"])
    rows = [[_both("建设投资", "capital"), _yuan(cost["capital"])],
            [_both("年运营费用", "annual operating cost"), _yuan(cost["annual"])],
            [_both("总成本（含运营年限）", "total cost over the horizon"), _yuan(cost["total"])]]
    return (f"<h2>{_both('二、方案结论', 'The answer')}</h2>"
            f'<div class="box"><b>{_both(chinese, english)}</b> · {met}<br>{proof}<br>'
            f"{_both('设施', 'facilities')}：{len(bundle.checked.facilities)}（{_both('新建', 'new')} {new}）</div>"
            + _table([("项目", "item"), ("金额（元）", "yuan")], rows, {1}) + _by_year(bundle))


def _by_year(bundle: PlanBundle) -> str:
    years = bundle.plan.get("years") or {}
    if not years:
        return ""
    rows = []
    for year, entry in years.items():
        targets = entry.get("targets") or []
        rows.append([_e(year), _yuan(entry.get("capital")), _yuan(entry.get("annual")),
                     _e(entry.get("facilities_open")), f"{sum(bool(t.get('met')) for t in targets)} / {len(targets)}"])
    return (f"<h3>{_both('分年度', 'By year')}</h3>"
            + _table([("年份", "year"), ("当年投资（元）", "capital"), ("年运营（元）", "annual"),
                      ("在运营设施", "open"), ("当年考核目标达成", "targets met")], rows, {1, 2, 3, 4}))


def _map(map_png: bytes) -> str:
    return (f"<h2>{_both('三、布局图', 'The map')}</h2><figure><img alt=\"map\" src=\"{_data_uri(map_png)}\">"
            f"<figcaption>{_both(*MAP_CAPTION)}</figcaption></figure>")


def _build_list(bundle: PlanBundle) -> str:
    rows = bundle.plan.get("build_list")
    if rows is None:   # a plan written before build lists: its facilities, by township
        rows = _facility_rows(bundle)
    by_zone: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_zone[str(row.get("zone") or "—")].append(row)
    weights = bool(rows) and any(row.get("elderly_served") is not None for row in rows)
    out = [f"<h2>{_both('四、建设清单（按街道/乡镇）', 'Build list by township')}</h2>"]
    if not rows:
        out.append(f"<p>{_both('方案不新建、不改造、不保留任何设施。', 'No facility to build, renovate or keep.')}</p>")
    for zone, zone_rows in by_zone.items():
        capital = sum(float(r.get("capital") or 0.0) for r in zone_rows)
        out.append(f"<h3>{_e(zone)} <span class=\"en\">· {len(zone_rows)} · {_yuan(capital)} 元 capital</span></h3>")
        table_rows = [[_e(r.get("name") or r["site"]) + f'<br><span class="small">{_e(r["site"])}</span>',
                       _e(r.get("label") or type_label(bundle, str(r["type"]))),
                       _e(ACTION_WORDS.get(str(r.get("action")), r.get("action"))), _e(r.get("year") or "—"),
                       _yuan(r.get("capital")), _yuan(r.get("annual")), _yuan(r.get("land_m2")), _beds(r.get("beds")),
                       _e(r.get("units_served")) + (f" / {_yuan(r.get('elderly_served'))}" if weights else "")]
                      for r in zone_rows]
        out.append(_table([("站点", "site"), ("设施", "facility"), ("方式", "action"), ("年份", "year"),
                           ("投资（元）", "capital"), ("年运营（元）", "annual"), ("用地m²", "land"),
                           ("床位", "beds"), ("服务社区/老人", "units / elderly served")],
                          table_rows, {4, 5, 6, 8}, "build"))
    return "".join(out)


def _facility_rows(bundle: PlanBundle) -> list[dict[str, Any]]:
    names = _site_names(bundle)
    rows = [{"zone": f.get("zone"), "site": f["site"], "name": f.get("name") or names.get(str(f["site"])),
             "type": f["type"], "action": "new" if f["new"] else "existing", "year": f.get("year"),
             "capital": f.get("capital_cost"), "annual": f.get("annual_cost"), "land_m2": f.get("land_m2")}
            for f in bundle.checked.facilities]
    return sorted(rows, key=lambda r: (str(r["zone"] or ""), r["year"] or 0, str(r["name"] or r["site"])))


def _beds(beds: Any) -> str:
    if not beds:
        return "–"
    return _e(", ".join(f"{kind} {count}" for kind, count in dict(beds).items()))


def _targets(bundle: PlanBundle) -> str:
    descriptions = target_descriptions(bundle.scenario.targets)
    rows = []
    for target in bundle.checked.targets:
        k = target["index"]
        mark = '<span class="ok">✓ 达成 met</span>' if target["met"] else '<span class="bad">✗ 未达成 short</span>'
        label = bundle.scenario.targets[k].label or descriptions[k]
        rows.append([f"T{k}", _e(label), _value(bundle, k, target.get("required")),
                     _value(bundle, k, target.get("achieved")), mark])
        for zone in target.get("zones") or []:
            if zone.get("year") not in (None, _last_year(bundle)):
                continue
            rows.append(["", "　· " + _e(zone.get("zone")), _value(bundle, k, zone.get("required")),
                         _value(bundle, k, zone.get("achieved")),
                         '<span class="ok">✓</span>' if zone["met"] else '<span class="bad">✗</span>'])
    out = [f"<h2>{_both('五、目标要求与实际达成', 'Targets: required against achieved')}</h2>",
           _table([("序号", "#"), ("目标", "target"), ("要求", "required"), ("实际", "achieved"), ("结果", "met")],
                  rows, {2, 3})]
    if bundle.plan.get("years"):
        names, grid = year_rows(bundle)
        cells = [[_e(label)] + ["—" if c is None else _e(c[2]) + ("" if c[1] else ' <span class="bad">✗</span>')
                                for c in row] for label, row in grid]
        out.append(f"<h3>{_both('分年度达成（实际 / 要求）', 'By year (achieved / required)')}</h3>"
                   + _table([("目标", "target")] + [(f"{n}年", n) for n in names], cells,
                            set(range(1, len(names) + 1))))
    return "".join(out)


def _last_year(bundle: PlanBundle) -> int | None:
    years = bundle.scenario.years or []
    return int(years[-1]) if years else None


def _value(bundle: PlanBundle, index: int, value: Any) -> str:
    if value is None:
        return "–"
    spec = bundle.scenario.targets[index]
    if spec.kind == "coverage" or (spec.kind == "beds" and getattr(spec, "min_share", None) is not None):
        return f"{100 * float(value):.1f}%"
    return f"{float(value):,.0f} m²" if spec.kind == "land" else f"{float(value):,.0f}"


def _uncovered(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame]) -> str:
    """Units a serving type leaves uncovered, with the reason: no site in reach, or not needed."""
    names = _unit_names(layers)
    unreachable = {(str(u["demand"]), str(u["facility"])): u for u in bundle.plan.get("uncoverable") or []}
    demand = layers["demand"]
    counts: Counter[tuple[str, str, str]] = Counter()
    listed: list[list[str]] = []
    for _, unit in demand.iterrows():
        for name in bundle.region.type_names:
            covered = unit.get(f"cov_{name}")
            if covered is None or pd.isna(covered) or covered != 0:   # covered (1) or not served by this type (NA)
                continue
            far = unreachable.get((str(unit["id"]), name))
            reason = ("reach", "附近无可选站点", "no candidate site within reach") if far else \
                     ("targets", "在服务范围内但目标不要求覆盖", "within reach, not needed for the targets")
            counts[(str(unit["zone"]), type_label(bundle, name), reason[0])] += 1
            if unit.get("coverage") == "uncovered":
                distance = f"{far['nearest_site_m']:,.0f} m" if far and far.get("nearest_site_m") is not None else ""
                listed.append([_e(unit["zone"]), _e(names.get(str(unit["id"]), unit["id"]))
                               + f'<br><span class="small">{_e(unit["id"])}</span>',
                               _e(type_label(bundle, name)),
                               _both(reason[1], reason[2]) + (f"（{distance}）" if distance else "")])
    out = [f"<h2>{_both('六、未覆盖的社区与原因', 'Communities left uncovered, and why')}</h2>"]
    if not counts:
        return out[0] + f"<p>{_both(*ALL_COVERED)}</p>"
    summary = [[_e(zone), _e(label), _both("附近无可选站点", "no site within reach") if why == "reach"
                else _both("目标不要求", "not needed for the targets"), str(n)]
               for (zone, label, why), n in sorted(counts.items())]
    out.append(_table([("街道/乡镇", "township"), ("设施", "facility"), ("原因", "why"), ("社区数", "units")],
                      summary, {3}))
    if listed:
        more = len(listed) - UNCOVERED_ROWS
        out.append(f"<h3>{_both('完全未覆盖的社区', 'Communities covered by no type serving them')}</h3>"
                   + _table([("街道/乡镇", "township"), ("社区", "community"), ("设施", "facility"),
                             ("原因", "why")], listed[:UNCOVERED_ROWS])
                   + (f"<p>{_both(f'另有 {more} 条，见 plan.xlsx 社区表', f'{more} more in plan.xlsx')}</p>"
                      if more > 0 else ""))
    return "".join(out)


def sweep_frontier(out_dir: Path, bundle: PlanBundle) -> tuple[dict[str, Any], Path] | None:
    """The frontier.json of the sweep this plan belongs to (this folder or up to two above), if any.

    Only a frontier of the same scenario counts: a plan exported into an unrelated folder does
    not pick up a stranger's sweep.
    """
    for folder in [out_dir, *list(out_dir.resolve().parents)[:SWEEP_DEPTH]]:
        path = folder / "frontier.json"
        if not path.is_file():
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        if isinstance(document, dict) and document.get("scenario") == bundle.scenario.name:
            return document, path
    return None


def _frontier(found: tuple[dict[str, Any], Path] | None) -> str:
    if found is None:
        return ""
    document, path = found
    rows = [[_yuan(r.get("budget")), _yuan(r.get("capital")),
             "–" if r.get("coverage_share") is None else f"{100 * r['coverage_share']:.1f}%",
             _yuan(r.get("marginal_cny_per_covered"))] for r in document.get("levels") or []]
    least = (document.get("least_sufficient") or {}).get("budget")
    chart = path.parent / "frontier.png"
    image = (f'<figure><img alt="frontier" src="{_data_uri(chart.read_bytes())}"></figure>' if chart.is_file() else "")
    return (f"<h2>{_both('七、投资与覆盖率关系', 'Cost–coverage frontier')}</h2>"
            + (f"<p>{_both('满足全部目标的最低投资', 'least budget meeting every target')}：{_yuan(least)} 元</p>"
               if least is not None else "") + image
            + _table([("投资上限（元）", "budget"), ("实际投资（元）", "capital"), ("覆盖率", "coverage"),
                      ("每多覆盖一人的投资（元）", "yuan per extra covered")], rows, {0, 1, 2, 3}))


def _provenance(bundle: PlanBundle) -> str:
    files = _provenance_files(bundle)
    texts = {path: path.read_text(encoding="utf-8", errors="replace") for path in files}
    described = " ".join([bundle.scenario.name, bundle.scenario.description or "", *texts.values()]).lower()
    synthetic = "synthetic" in described or "合成" in described or "虚构" in described
    out = [f"<h2>{_both('八、数据来源', 'Data provenance')}</h2>"]
    if synthetic:
        out.append('<div class="warn"><b>本方案所用数据含合成（虚构）数据，不能作为真实统计数据或实际规划依据。</b><br>'
                   '<span class="en">Synthetic data: this plan is computed on generated data (see below). Do not read '
                   "its figures as statistics of the region or use it as an actual plan.</span></div>")
    for path, text in texts.items():
        out.append(f"<h3>{_e(path.name)} <span class=\"en\">{_e(path.parent.name)}</span></h3>"
                   f"<p class=\"small\">{_e(_lead(text))}</p>")
    if not files:
        out.append(f"<p>{_both(*NO_PROVENANCE)}</p>")
    digests = ((bundle.plan.get("source") or {}).get("sha256") or {}).items()
    out.append(_table([("文件", "file"), ("SHA-256", "digest")], [[_e(name), f"<code class=small>{_e(d)}</code>"]
                                                                    for name, d in digests]))
    return "".join(out)


def _provenance_files(bundle: PlanBundle) -> list[Path]:
    specs = [bundle.scenario.demand, bundle.scenario.sites, bundle.scenario.network, bundle.scenario.boundaries]
    folders = {(bundle.base_dir / str(spec.path)).resolve().parent
               for spec in specs if spec is not None and getattr(spec, "path", None)}
    return sorted(folder / "PROVENANCE.md" for folder in folders if (folder / "PROVENANCE.md").is_file())


def _lead(markdown: str, limit: int = 1200) -> str:
    """The title and first paragraphs of a PROVENANCE.md, as plain text, up to `limit` characters."""
    lines = [line.strip() for line in markdown.splitlines() if not line.startswith("|")]
    text = " ".join(line.lstrip("#").replace("**", "").strip() for line in lines if line)
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _method(bundle: PlanBundle) -> str:
    solver = bundle.plan.get("solver") or {}
    reach = bundle.plan.get("reach")
    english = METHOD[1].format(objective=bundle.plan.get("objective_kind"), reach=reach,
                               backend=solver.get("backend"), seconds=solver.get("seconds"))
    heading = _both("九、方法说明", "Method")
    return f'<h2>{heading}</h2><p>{_e(METHOD[0])}<br><span class="en">{_e(english)}</span></p>'


def report_html(bundle: PlanBundle, layers: dict[str, gpd.GeoDataFrame], map_png: bytes, out_dir: Path) -> str:
    """The report as one self-contained HTML page.

    Parameters
    ----------
    bundle : PlanBundle
        The checked plan.
    layers : dict
        `plan_layers` (the demand layer's coverage and names).
    map_png : bytes
        map.png of the plan, embedded as a data: URI.
    out_dir : Path
        The output folder: a sweep's frontier is looked up from here.
    """
    body = "".join([_title(bundle), _asked(bundle), _answer(bundle), _map(map_png), _build_list(bundle),
                    _targets(bundle), _uncovered(bundle, layers), _frontier(sweep_frontier(out_dir, bundle)),
                    _provenance(bundle), _method(bundle)])
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            'img-src data:">'
            f"<title>{_e(bundle.scenario.name)}</title><style>{CSS}</style></head><body>{body}</body></html>")

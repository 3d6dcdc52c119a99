"""Policy presets: the spatial targets of a planning document, expanded into ordinary targets.

A preset (``scenarios/presets/<name>.json``) lists a plan's targets in its own words: each with
the clause it comes from, the quoted Chinese original, and how the figure becomes a target.
Its targets name *roles* ("station", "centre", ...); a scenario maps them onto its facility
types, demand groups and named weights. A scenario uses one in its target list::

    {"preset": "liaocheng-2026", "facilities": {"dementia_centre": "institution"},
     "skip": ["land-per-capita"], "replace": {"urban-community-facilities": {"min_share": 0.95}}}

`expand_entries` replaces every such entry by the preset's targets while the scenario is
parsed: the rest of the engine sees ordinary targets, each carrying its `label`, `preset`
(``<preset>/<target id>``) and `source` (file, clause and quote). Targets a facility-location
model cannot express are kept in the preset's ``out_of_scope`` list with their quotes.

Dates: a preset target's `year` (the year the document sets) passes to the expanded target
when the scenario is phased (has `years`): it becomes the first planning year not before it
(a deadline already past holds from the first planning year; one after the last planning year
holds in the last year, as an undated target does). Without `years` the year is dropped and
the target holds in the plan's one year, as before. `replace` may set `year` itself.
Bed kinds (`nursing`, `ordinary`, `dementia`) are used by name, not mapped: the scenario's
`sites.beds`, facility types' `beds` and bed actions must know them.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from optimizer.errors import Problem, ScenarioError
from optimizer.scenario.fields import FacilityType, PresetTargets, Target, json_path

PRESET_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "presets"
#: Fields of a preset target that `replace` may change (kind and facility are mapped, not replaced).
REPLACEABLE = frozenset({"group", "measure", "min_share", "per_zone", "new_only", "min", "max",
                         "per_capita_m2", "population", "households", "per_100_households_m2",
                         "zone", "zones", "strict", "year", "label"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PresetTarget(_Strict):
    """One target of a plan, with the clause it comes from."""

    id: str = Field(description="Stable id within the preset, used by `skip` and `replace`.")
    label: str = Field(description="Short Chinese label shown in plans.")
    applies_to: Literal["any", "county", "city"] = Field(
        "any", description="'county': a figure per county (e.g. '各县1处'); 'city': a citywide total; 'any': both.")
    year: int | None = Field(None, description="Year the plan sets for the figure.")
    target: Target = Field(description="The target, naming roles (see the preset's `facilities`).")
    clause: str = Field(description="Where in the document.")
    quote: list[str] = Field(min_length=1, description="The clause, verbatim.")
    reading: str = Field(description="How the figure becomes this target.")


class Quoted(_Strict):
    """A figure of the plan that no target expresses, with the reason."""

    clause: str
    quote: str
    why: str


class Guidance(_Strict):
    """A clause that shapes how to model (sites, co-location) without a figure."""

    clause: str
    quote: str
    note: str


class Preset(_Strict):
    """A planning document's targets (``scenarios/presets/<id>.json``)."""

    id: str
    title: str
    issuer: str
    document: str
    issued: str
    region: str
    level: Literal["city", "county", "district"]
    horizon: str
    file: str = Field(description="The document in the seed collection (../shared/seeds/).")
    facilities: dict[str, str] = Field(description="Role -> what the plan calls it.")
    labels: dict[str, str] = Field(default_factory=dict, description="Role -> the type's short label (e.g. "
                                   "老年助餐点): the label of the scenario type a role maps onto, when that "
                                   "type has none.")
    groups: dict[str, str] = Field(default_factory=dict, description="Demand group role -> meaning.")
    weights: dict[str, str] = Field(default_factory=dict, description="Weight role -> meaning.")
    beds: dict[str, str] = Field(default_factory=dict, description="Bed kind -> what the plan calls it "
                                 "(used by name: the scenario's beds must use these kinds).")
    targets: list[PresetTarget]
    out_of_scope: list[Quoted] = Field(default_factory=list)
    guidance: list[Guidance] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


class PresetError(ValueError):
    """Problems of preset entries in a scenario's targets, each with its JSON location."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def preset_names() -> list[str]:
    """Names of the shipped presets, sorted."""
    return sorted(path.stem for path in PRESET_DIR.glob("*.json"))


@functools.cache
def load_preset(name: str) -> Preset:
    """Read and validate ``scenarios/presets/<name>.json``.

    Raises
    ------
    ScenarioError
        Unknown name (with the closest known one), or a preset file that does not validate.
    """
    if name not in preset_names():   # only the shipped files: a name is never a path
        raise ScenarioError(_unknown_preset(name), "preset")
    path = PRESET_DIR / f"{name}.json"
    try:
        return Preset.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (ValidationError, json.JSONDecodeError) as exc:
        raise ScenarioError(f"preset file {path} is not valid: {exc}", "preset") from None


def _unknown_preset(name: str) -> str:
    names = preset_names()
    if not names:
        return f"no presets found in {PRESET_DIR} (they ship with the repository: pip install -e .)"
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown preset '{name}'; {hint}presets: {', '.join(names)} (`eldercare presets` lists them)"


def is_preset_entry(entry: Any) -> bool:
    """True for a target-list entry that names a preset."""
    return isinstance(entry, Mapping) and "preset" in entry


def expand_entries(entries: list[Any], facility_types: Mapping[str, FacilityType] | None,
                   weights: Mapping[str, str] | None) -> list[Any]:
    """Replace every ``{"preset": ...}`` entry of a target list by the preset's targets (dicts).

    `facility_types` and `weights` are the scenario's (None when they failed validation: the
    mapping is then not checked). Raises `PresetError` listing every problem.
    """
    out: list[Any] = []
    problems: list[Problem] = []
    for k, entry in enumerate(entries):
        if not is_preset_entry(entry):
            out.append(entry)
            continue
        targets, found = _expand_one(entry, f"targets[{k}]", facility_types, weights)
        out += targets
        problems += found
    if problems:
        raise PresetError(problems)
    return out


def _expand_one(raw: Any, where: str, facility_types: Mapping[str, FacilityType] | None,
                weights: Mapping[str, str] | None) -> tuple[list[dict[str, Any]], list[Problem]]:
    try:
        entry = PresetTargets.model_validate(raw)
    except ValidationError as exc:
        return [], [_entry_problem(where, err) for err in exc.errors()]
    try:
        preset = load_preset(entry.preset)
    except ScenarioError as exc:
        return [], [Problem(f"{where}.preset", p.message) for p in exc.problems]
    chosen = [t for t in preset.targets if t.applies_to in ("any", entry.level) and t.id not in entry.skip]
    problems = _name_problems(where, entry, preset)
    problems += _mapping_problems(where, entry, preset, chosen, facility_types, weights)
    if problems:
        return [], problems
    built = [_built(where, entry, preset, t) for t in chosen]
    return [target for target, _ in built], [p for _, found in built for p in found]


def _entry_problem(where: str, err: Any) -> Problem:
    loc = json_path(tuple(err["loc"]))
    path = f"{where}.{loc}" if err["loc"] else where
    if err["type"] == "extra_forbidden":
        known = list(PresetTargets.model_fields)
        close = difflib.get_close_matches(str(err["loc"][-1]), known, n=1, cutoff=0.6)
        hint = f"did you mean `{close[0]}`?" if close else f"known fields: {', '.join(known)}"
        return Problem(path, f"unknown field `{err['loc'][-1]}`; {hint}")
    return Problem(path, "this field is required" if err["type"] == "missing" else err["msg"])


def _name_problems(where: str, entry: PresetTargets, preset: Preset) -> list[Problem]:
    """`skip`, `replace` and the mappings may only name what the preset has."""
    ids = [t.id for t in preset.targets]
    problems = [Problem(f"{where}.skip", _not_in(preset, "target", name, ids))
                for name in entry.skip if name not in ids]
    problems += [Problem(f"{where}.replace.{name}", _not_in(preset, "target", name, ids))
                 for name in entry.replace if name not in ids]
    for field, what, known in (("facilities", "facility", preset.facilities), ("groups", "group", preset.groups),
                               ("weights", "weight", preset.weights)):
        problems += [Problem(f"{where}.{field}.{name}", _not_in(preset, what, name, known))
                     for name in getattr(entry, field) if name not in known]
    for name, fields in entry.replace.items():
        problems += [Problem(f"{where}.replace.{name}.{field}", _not_replaceable(field))
                     for field in fields if field not in REPLACEABLE]
    return problems


def _not_in(preset: Preset, what: str, name: str, known: Any) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"its {what} names: {', '.join(known) or 'none'}"
    return f"preset '{preset.id}' has no {what} '{name}'; {hint}"


def _not_replaceable(field: str) -> str:
    if field in ("kind", "facility"):
        return f"`{field}` cannot be replaced; map the preset's facility onto yours with `facilities`"
    return f"unknown target field `{field}`; replaceable: {', '.join(sorted(REPLACEABLE))}"


def _mapping_problems(where: str, entry: PresetTargets, preset: Preset, chosen: list[PresetTarget],
                      facility_types: Mapping[str, FacilityType] | None,
                      weights: Mapping[str, str] | None) -> list[Problem]:
    """Every role the chosen targets use must map onto a facility type / named weight of the scenario."""
    problems = []
    for field, known, roles in (("facilities", facility_types, _roles(chosen, "facility")),
                                ("weights", weights, _roles(chosen, "measure", "population", "households"))):
        if known is None:
            continue
        mapping = getattr(entry, field)
        for role, ids in roles.items():
            name = mapping.get(role, role)
            if name not in known:
                problems.append(Problem(f"{where}.{field}.{role}", _missing(preset, field, role, name, ids, known)))
    return problems


def _roles(chosen: list[PresetTarget], *fields: str) -> dict[str, list[str]]:
    """Role name -> ids of the chosen targets that use it (``units`` is not a role)."""
    roles: dict[str, list[str]] = {}
    for t in chosen:
        for field in fields:
            value = getattr(t.target, field, None)
            if value is not None and value != "units":
                roles.setdefault(value, []).append(t.id)
    return roles


def _missing(preset: Preset, field: str, role: str, name: str, ids: list[str], known: Mapping[str, Any]) -> str:
    what = "facility type" if field == "facilities" else "named weight"
    meaning = (preset.facilities if field == "facilities" else preset.weights).get(role, "")
    mapped = f"'{role}' is mapped to '{name}', which" if name != role else f"'{role}'"
    return (f"preset '{preset.id}' needs a {what} for '{role}' ({meaning}), used by its target(s) "
            f"{', '.join(ids)}; {mapped} is not a {what} of this scenario ({', '.join(known) or 'none'}). "
            f"Map it: \"{field}\": {{\"{role}\": \"<your {what}>\"}}, or leave the target(s) out: "
            f"\"skip\": {json.dumps(ids, ensure_ascii=False)}")


def _built(where: str, entry: PresetTargets, preset: Preset,
           t: PresetTarget) -> tuple[dict[str, Any], list[Problem]]:
    """The ordinary target for preset target `t`: roles mapped, `replace` applied, origin recorded."""
    doc = t.target.model_dump(exclude_unset=True)
    for field, mapping in (("facility", entry.facilities), ("group", entry.groups),
                           ("measure", entry.weights), ("population", entry.weights),
                           ("households", entry.weights)):
        if field in doc and doc[field] is not None:
            doc[field] = mapping.get(doc[field], doc[field])
    changed = entry.replace.get(t.id, {})
    note = f" — changed by the scenario: {json.dumps(changed, ensure_ascii=False)}" if changed else ""
    label = t.label + ("（已调整）" if changed and "label" not in changed else "")   # "changed"
    doc |= {"label": label, "preset": f"{preset.id}/{t.id}", "source": source_text(preset, t) + note}
    if t.year is not None:
        doc["year"] = t.year   # fitted to the planning years, or dropped, by `fit_preset_years`
    doc |= changed
    try:
        TypeAdapter(Target).validate_python(doc)
    except ValidationError as exc:
        return doc, [Problem(f"{where}.replace.{t.id}" + (f".{json_path(tuple(e['loc'][1:]))}" if len(e["loc"]) > 1
                                                          else ""), e["msg"]) for e in exc.errors()]
    return doc, []


def fit_preset_years(targets: list[Any], years: list[int] | None) -> list[Any]:
    """Preset targets' years fitted to the scenario's planning `years` (see the module docstring).

    Only targets expanded from a preset (`preset` set) change; a year set by `replace` is fitted
    the same way.
    """
    out = []
    for target in targets:
        year = getattr(target, "year", None)
        if getattr(target, "preset", None) is None or year is None or (years and year in years):
            out.append(target)
            continue
        later = [y for y in years or [] if y >= year]
        fitted = None if not years else (later[0] if later else None)
        out.append(target.model_copy(update={"year": fitted}))
    return out


def preset_type_labels(targets: list[Any]) -> dict[str, str]:
    """Facility type -> the label a preset gives the role mapped onto it (first preset target wins)."""
    out: dict[str, str] = {}
    for target in targets:
        origin, facility = getattr(target, "preset", None), getattr(target, "facility", None)
        if origin is None or facility is None or facility in out:
            continue
        preset_id, _, target_id = origin.partition("/")
        preset = load_preset(preset_id)
        role = next((getattr(t.target, "facility", None) for t in preset.targets if t.id == target_id), None)
        if role is not None and role in preset.labels:
            out[facility] = preset.labels[role]
    return out


def source_text(preset: Preset, t: PresetTarget) -> str:
    """``<file> <clause>: 「quote」 …`` — where a preset target comes from."""
    quotes = " … ".join(f"「{q}」" for q in t.quote)
    return f"{preset.title}（{preset.document}）, {preset.file}, {t.clause}: {quotes}"


def describe_target(target: Any) -> str:
    """One line, e.g. ``coverage station [urban] >= 100% of units`` or ``count centre >= 1 per zone``."""
    where = (" per zone" if target.per_zone else f" in {target.zone}" if target.zone
             else f" in each of {', '.join(target.zones)}" if target.zones else "")
    at = ">" if target.strict else ">="
    if target.kind == "land":
        if target.per_100_households_m2 is not None:
            return f"land {at} {target.per_100_households_m2:g} m² per 100 x {target.households}{where}"
        return f"land {at} {target.per_capita_m2:g} m² x {target.population}{where}"
    if target.kind == "beds":
        bed = "+".join(target.bed) if isinstance(target.bed, list) else target.bed
        if target.min_share is not None:
            return f"beds {bed} {at} {100 * target.min_share:g}% of {'+'.join(target.of or [])}{where}"
        return f"beds {bed} {at} {target.min}{where}"
    zone = where
    if target.kind == "coverage":
        group = f" [{target.group}]" if target.group else ""
        return f"coverage {target.facility}{group} {at} {100 * target.min_share:g}% of {target.measure}{zone}"
    new = " new" if target.new_only else ""
    bounds = " and ".join(f"{op} {v}" for op, v in ((at, target.min), ("<=", target.max)) if v is not None)
    return f"count{new} {target.facility} {bounds}{zone}"

"""Presets: the policy presets shipped with the optimizer, as ``eldercare presets`` shows them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, status

from api.routes.responses import errors
from api.schemas import PresetList, PresetSummary, PresetTargetSummary
from optimizer.scenario import presets

router = APIRouter(prefix="/presets", tags=["presets"])


def _catalogue() -> Any:
    """The preset catalogue, `optimizer.scenario.presets`."""
    return presets


@router.get("", response_model=PresetList, summary="Policy presets")
def list_presets() -> PresetList:
    """Every preset (one per planning document) with its targets; a scenario uses one as an entry of its
    target list: ``{"preset": "<id>"}``."""
    catalogue = _catalogue()
    summaries = []
    for name in catalogue.preset_names() if catalogue else []:
        preset = catalogue.load_preset(name)
        targets = [PresetTargetSummary(id=t.id, label=t.label, target=catalogue.describe_target(t.target), year=t.year,
                                       applies_to=t.applies_to, clause=t.clause) for t in preset.targets]
        summaries.append(PresetSummary(id=preset.id, title=preset.title, document=preset.document,
                                       issued=preset.issued, region=preset.region, level=preset.level,
                                       horizon=preset.horizon, facilities=preset.facilities, targets=targets,
                                       out_of_scope=len(preset.out_of_scope)))
    return PresetList(presets=summaries)


@router.get("/{name}", responses=errors(404, 422), summary="One preset in full")
def read_preset(name: Annotated[str, Path(max_length=100, examples=["pingyin-2021"])]) -> dict[str, Any]:
    """The preset file: every target with its clause, the quoted original and how it is read; what is
    out of scope and why; guidance."""
    catalogue = _catalogue()
    names = catalogue.preset_names() if catalogue else []
    if name not in names:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no preset '{name[:100]}'; presets: {', '.join(names)}")
    result: dict[str, Any] = catalogue.load_preset(name).model_dump(mode="json")
    return result

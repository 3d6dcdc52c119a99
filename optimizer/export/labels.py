"""Names a reader understands: a facility type's label (社区养老服务站) for its id (station).

The `results` step writes the labels into plan.json (``facility_types.<t>.label``) and the
scenario (``facility_types.<t>.label``); readers here fall back to the id when neither has one.
"""

from __future__ import annotations

from optimizer.export.bundle import PlanBundle


def type_label(bundle: PlanBundle, type_id: str) -> str:
    """The facility type's label: plan.json's ``facility_types``, the scenario's, else its id."""
    from_plan = ((bundle.plan.get("facility_types") or {}).get(type_id) or {}).get("label")
    return str(from_plan or bundle.scenario.type_label(type_id))

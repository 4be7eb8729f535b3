"""Repairing a draft within a tolerance (the plan editor's "容差内修复"): grid_layers.repair on
the plan's grids as one logged edit, so undo puts every grid back; the same repair that
`gis-service import grids --repair` makes, with the same default tolerance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from gis_service.auth.service import Principal
from gis_service.plans.drafts import as_record
from gis_service.plans.edits import Edit
from gis_service.plans.models import Plan
from gis_service.plans.schemas import RepairRead
from gis_service.plans.service import editable
from grid_layers.repair import RepairOutcome, repair_hierarchy


def repair_plan(session: Session, *, principal: Principal, plan_id: int, if_match: str | None,
                tolerance_m: float, now: datetime) -> tuple[Plan, RepairOutcome]:
    """Repair the draft's grids; one edit when anything changed (the version moves only
    then); committed."""
    plan = editable(session, principal=principal, plan_id=plan_id, if_match=if_match)
    edit = Edit(session, plan, actor=principal.username, now=now,
                scope=principal.scope_code)
    records = [as_record(g) for g in edit.grids.values()]
    outcome = repair_hierarchy(records, tolerance_m)
    changed = [new for old, new in zip(records, outcome.records, strict=True)
               if new.geometry is not old.geometry]
    if not changed:
        return plan, outcome
    for record in changed:
        edit.put(record.code, record.geometry)
    edit.finish("repair", {"tolerance_m": tolerance_m, "grids": [r.code for r in changed],
                           "repairs": [RepairRead.of(r).summary() for r in outcome.repairs]})
    session.commit()
    return plan, outcome

"""Admin API of the distribution engine: run it by hand (SPEC §4, §8.1). Staff with MFA only.

Domain modules are imported inside the views: `api` is an installed app, so this module loads while
the app registry is still being populated.
"""
from __future__ import annotations

import uuid

from django.http import HttpRequest
from ninja import Router

from api.auth import staff_auth
from api.schemas.distribution import DistributeOut
from hotlead.distribution.selectors.runs import distribution_run_summary
from hotlead.distribution.services.engine import lead_distribute_manual
from hotlead.leads.selectors import lead_by_public_id

router = Router(auth=staff_auth)


@router.post("/leads/{lead_id}/distribute", response=DistributeOut,
             summary="Distribute an approved or unsold lead now; 409 in any other status",
             description="Runs the engine synchronously and returns the lead's outcome and the run's trace. "
                         "Audit-logged.")
def lead_distribute_now(request: HttpRequest, lead_id: uuid.UUID):
    lead = lead_by_public_id(public_id=lead_id)
    run = lead_distribute_manual(lead=lead, actor=request.auth)
    lead.refresh_from_db(fields=["status", "buyers_count"])
    return {"id": lead.public_id, "status": lead.status, "buyers_count": lead.buyers_count,
            "run": distribution_run_summary(run=run)}

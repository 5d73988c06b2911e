"""Distribution's answers to other apps' signals (connected in apps.py)."""
from __future__ import annotations

from hotlead.distribution.enums import RunTrigger
from hotlead.distribution.job_paths import LEAD_DISTRIBUTE
from hotlead.ops.jobs import job_enqueue


def lead_approved_distribute(sender, *, lead, **kwargs) -> None:
    """An approved lead is sold by a job, queued when the approval commits."""
    job_enqueue(LEAD_DISTRIBUTE, lead.pk, trigger=RunTrigger.APPROVAL)

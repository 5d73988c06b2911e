"""Jobs of the operations app (scheduled in hotlead/ops/schedules.py)."""
from __future__ import annotations

import logging

from hotlead.ops.services import dead_letter_cleanup as _dead_letter_cleanup
from hotlead.ops.services import worker_heartbeat_beat

logger = logging.getLogger("hotlead.jobs")


def worker_heartbeat() -> None:
    """Runs every minute through the scheduler, the broker and a worker: proof the whole path works."""
    worker_heartbeat_beat()


def dead_letter_cleanup() -> int:
    deleted = _dead_letter_cleanup()
    logger.info("dead letters cleaned up", extra={"deleted": deleted})
    return deleted

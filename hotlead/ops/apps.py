import logging

from django.apps import AppConfig

logger = logging.getLogger("hotlead.jobs")


def _worker_spawned(sender, proc_name=None, **kwargs) -> None:
    """A job worker process started: record a heartbeat at once (the schedule keeps it fresh)."""
    # lazy: apps.py loads before the models, which ops.services imports
    from hotlead.ops.services import worker_heartbeat_beat

    try:
        worker_heartbeat_beat()
    except Exception:  # noqa: BLE001 - a worker must start even when the database is briefly away
        logger.warning("worker heartbeat failed at spawn", exc_info=True)


class OpsConfig(AppConfig):
    name = "hotlead.ops"
    label = "ops"
    verbose_name = "Operations"

    def ready(self) -> None:
        # in ready(): django_q's signals and the collectors import models: not loadable before the apps are
        from django_q.signals import post_spawn

        from hotlead.core.metrics import scrape_collector_add
        from hotlead.ops.metrics import QueueCollector

        post_spawn.connect(_worker_spawned, dispatch_uid="hotlead.ops.worker_spawned")
        scrape_collector_add(QueueCollector())

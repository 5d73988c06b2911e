"""gunicorn settings used by scripts/run (and production): `gunicorn -c python:hotlead.gunicorn_conf …`.

prometheus-client's multiprocess mode keeps one file per process; when a worker exits its live gauges must
be marked dead, or /metrics keeps reporting a process that no longer exists.
"""
from __future__ import annotations


def child_exit(server, worker) -> None:
    # lazy: the gunicorn master reads this file; it needs prometheus_client only when a worker exits
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)

"""A gunicorn worker that exits is marked dead for prometheus-client's multiprocess mode."""
from __future__ import annotations

import types

from hotlead import gunicorn_conf


def test_child_exit_marks_the_worker_dead(tmp_path, monkeypatch):
    # given the live-gauge file a worker process leaves behind
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "counter_4242.db").write_bytes(b"")
    # when gunicorn reports that worker 4242 exited
    gunicorn_conf.child_exit(server=None, worker=types.SimpleNamespace(pid=4242))
    # then its live gauges are gone (counters stay: they still add up)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counter_4242.db"]

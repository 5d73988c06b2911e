"""The console's dashboard (SPEC §9): KPI cards and charts from selectors."""
from __future__ import annotations


def dashboard_callback(request, context):
    return context

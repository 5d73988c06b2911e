"""The one NinjaAPI, mounted at /api/v1 (SPEC §8); only `hotlead/urls.py` imports it."""
from __future__ import annotations

from api import errors
from api.openapi import HotLeadAPI
from api.routers import (
    admin_bad_leads,
    admin_distribution,
    admin_lead_sources,
    admin_leads,
    admin_money,
    admin_providers,
    admin_queues,
    admin_reports,
    auth,
    leads,
    provider_account,
    provider_bad_leads,
    provider_leads,
    provider_money,
    provider_reports,
    provider_webhook,
    webhooks,
    webhooks_email,
)

api = HotLeadAPI(  # adds the SPEC §8 error responses to every operation (api/openapi.py)
    title="Hot Lead API",
    version="1.0.0",
    urls_namespace="api-v1",
    description=(
        "The public, provider and admin API of Hot Lead. Errors always have the body "
        '`{"error": {"code", "message", "details"}}`. Money is integer cents; timestamps are ISO 8601 UTC.'
    ),
    docs_url="/docs",
    openapi_url="/openapi.json",
)
errors.install(api)

# Public
api.add_router("/", leads.router, tags=["Public: leads"])
api.add_router("/auth", auth.router, tags=["Auth"])
api.add_router("/webhooks", webhooks.router, tags=["Webhooks"])
api.add_router("/webhooks", webhooks_email.router, tags=["Webhooks"])
# Provider
api.add_router("/provider", provider_account.router, tags=["Provider: account"])
api.add_router("/provider", provider_money.router, tags=["Provider: money and subscriptions"])
api.add_router("/provider", provider_leads.router, tags=["Provider: leads"])
api.add_router("/provider", provider_bad_leads.router, tags=["Provider: bad leads"])
api.add_router("/provider", provider_webhook.router, tags=["Provider: webhook"])
api.add_router("/provider", provider_reports.router, tags=["Provider: reports"])
# Admin
api.add_router("/admin", admin_leads.router, tags=["Admin: leads"])
api.add_router("/admin", admin_distribution.router, tags=["Admin: distribution"])
api.add_router("/admin", admin_providers.router, tags=["Admin: providers"])
api.add_router("/admin", admin_money.router, tags=["Admin: levels and money"])
api.add_router("/admin", admin_bad_leads.router, tags=["Admin: bad leads"])
api.add_router("/admin", admin_queues.router, tags=["Admin: queues"])
api.add_router("/admin", admin_reports.router, tags=["Admin: reports"])
api.add_router("/admin", admin_lead_sources.router, tags=["Admin: lead sources"])

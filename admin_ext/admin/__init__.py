"""Admin classes, one module per domain; imported by the admin's autodiscovery."""
from admin_ext.admin import (
    accounts,  # noqa: F401
    billing,  # noqa: F401
    categories,  # noqa: F401
    core,  # noqa: F401
    distribution,  # noqa: F401
    leads,  # noqa: F401
    levels,  # noqa: F401
    mfa,  # noqa: F401
    notifications,  # noqa: F401
    ops,  # noqa: F401
    providers,  # noqa: F401
    refunds,  # noqa: F401
    reports,  # noqa: F401
    simulator,  # noqa: F401
    sources,  # noqa: F401  lead sources, rate-limit overrides (issue 15)
    webhooks,  # noqa: F401
)

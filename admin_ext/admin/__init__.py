"""Admin classes, one module per domain; imported by the admin's autodiscovery."""
from admin_ext.admin import core  # noqa: F401
from admin_ext.admin import mfa  # noqa: F401
from admin_ext.admin import refunds  # noqa: F401
from admin_ext.admin import leads  # noqa: F401
from admin_ext.admin import ops  # noqa: F401
from admin_ext.admin import notifications  # noqa: F401
from admin_ext.admin import providers  # noqa: F401
from admin_ext.admin import accounts  # noqa: F401
from admin_ext.admin import distribution  # noqa: F401
from admin_ext.admin import levels  # noqa: F401
from admin_ext.admin import billing  # noqa: F401

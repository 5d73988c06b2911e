"""`hotlead.settings` is the environment-driven base (SPEC §12); `hotlead.settings.test` extends it.

The package only loads the base when it is itself the settings module, so that importing
`hotlead.settings.test` can prepare the environment first.
"""
import os

if os.environ.get("DJANGO_SETTINGS_MODULE", "hotlead.settings") == "hotlead.settings":
    from .base import *  # noqa: F401,F403

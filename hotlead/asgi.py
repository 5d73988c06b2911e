import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotlead.settings")
application = get_asgi_application()

from hotlead.core.checks import signing_keys_enforce  # noqa: E402

signing_keys_enforce()  # DEBUG=0 never serves with the development key or a short one (issue 15)

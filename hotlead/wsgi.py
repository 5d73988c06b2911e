import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotlead.settings")
application = get_wsgi_application()

from hotlead.core.checks import signing_keys_enforce  # noqa: E402

signing_keys_enforce()  # DEBUG=0 never serves with the development key or a short one (issue 15)

#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotlead.settings")
    # A developer's checkout with no configuration behaves like the demo (DEBUG, SQLite, dev key).
    # Production always sets SECRET_KEY, so this never applies there; the WSGI/ASGI entry points
    # keep refusing to start without one.
    if not os.environ.get("SECRET_KEY") and "DEBUG" not in os.environ:
        os.environ["DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()

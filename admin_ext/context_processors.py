"""Gives two-factor's pages (login, enrolment, account security) the console's look.

Those views are not admin views, so they lack the admin site's context (unfold's colours, site
title, form classes). Only their URL namespace pays for it.
"""
from __future__ import annotations

from django.contrib import admin

CONSOLE_CHROME_NAMESPACES = {"two_factor"}


def console_chrome(request) -> dict:
    match = getattr(request, "resolver_match", None)
    if match is None or match.namespace not in CONSOLE_CHROME_NAMESPACES:
        return {}

    return admin.site.each_context(request)

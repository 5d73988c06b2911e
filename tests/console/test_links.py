"""The one console-link helper: a URL or an <a> for a registered page, the label alone for a missing one."""
from __future__ import annotations

from admin_ext.links import admin_link, admin_url


def test_a_registered_page_is_a_url_with_its_query_and_an_escaped_link():
    assert admin_url("admin:leads_lead_change", 7) == "/admin/leads/lead/7/change/"
    assert admin_url("admin:leads_lead_changelist", status__exact="pending_review") == \
        "/admin/leads/lead/?status__exact=pending_review"
    assert admin_link("admin:providers_provider_change", 3, label="A & B") == \
        '<a href="/admin/providers/provider/3/change/">A &amp; B</a>'


def test_a_page_that_is_not_registered_gives_no_url_and_the_bare_label():
    assert admin_url("admin:nothing_here_changelist") is None
    assert admin_link("admin:nothing_here_change", 3, label="Acme") == "Acme"

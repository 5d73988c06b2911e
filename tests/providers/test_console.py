"""The console's provider pages: list, edit, suspend / reinstate with a reason, service-area import."""
from __future__ import annotations

import re

import pytest
from django.contrib import admin as django_admin
from django.core.files.uploadedfile import SimpleUploadedFile

from hotlead.core.models import AuditLog
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider, ServiceArea
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/providers/provider/"


def test_the_list_shows_status_balance_categories_areas_and_last_lead(staff_console, django_assert_max_num_queries):
    # given
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    busy = ProviderFactory(company_name="Busy Roofs", balance_cents=12345, categories=[roofing],
                           areas=["94110", "941*"])
    make_assignment(provider=busy)
    for _ in range(10):
        ProviderFactory(categories=[roofing], areas=["10001"])
    # when
    with django_assert_max_num_queries(25):
        response = staff_console.get(CHANGELIST)
    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "Busy Roofs" in body and "$123.45" in body and "Roofing" in body
    assert "never" in body  # providers without a lead


def test_a_provider_cannot_open_the_console(client):
    provider = ProviderFactory()
    client.force_login(provider.user)
    response = client.get(CHANGELIST)
    assert response.status_code in (302, 403)


def test_editing_validates_and_saves_through_the_service(staff_console, staff_user):
    # given
    plumbing = CategoryFactory(slug="plumbing", name="Plumbing")
    provider = ProviderFactory(areas=["94110"])
    url = f"{CHANGELIST}{provider.pk}/change/"
    form = {
        "company_name": "Edited Co", "contact_name": "Ed", "phone": "+1 415 555 0177", "timezone": "America/Denver",
        "categories": [plumbing.pk], "notify_assignments": "off", "low_balance_threshold": "7.00",
        "webhook_url": "",
        "service_areas-TOTAL_FORMS": "1", "service_areas-INITIAL_FORMS": "1", "service_areas-MIN_NUM_FORMS": "0",
        "service_areas-MAX_NUM_FORMS": "1000",
        "service_areas-0-id": str(provider.service_areas.get().pk), "service_areas-0-provider": str(provider.pk),
        "service_areas-0-kind": "code", "service_areas-0-value": "94110",
    }
    # when: a bad time zone
    bad = staff_console.post(url, {**form, "timezone": "Nowhere/Land"})
    # then
    assert bad.status_code == 200 and b"Unknown time zone" in bad.content
    provider.refresh_from_db()
    assert provider.company_name != "Edited Co"
    # when: valid, with the area edited to a lower-case code with a space
    response = staff_console.post(url, {**form, "service_areas-0-value": "k1a 0b1"})
    # then
    assert response.status_code == 302
    provider.refresh_from_db()
    assert provider.company_name == "Edited Co" and provider.phone == "+14155550177"
    assert provider.notify_assignments == "off" and provider.low_balance_threshold_cents == 700
    assert list(provider.categories.values_list("slug", flat=True)) == ["plumbing"]
    assert list(provider.service_areas.values_list("value", flat=True)) == ["K1A0B1"]
    assert AuditLog.objects.filter(action="provider.profile_updated", actor=staff_user).count() == 1
    assert AuditLog.objects.filter(action="provider.service_areas_updated", changes__channel="console").count() == 1


@pytest.mark.parametrize("change, field", [
    ({"categories": "retired"}, "categories"),
    ({"low_balance_threshold": "1000000.01"}, "low_balance_threshold"),
])
def test_editing_with_a_value_the_service_refuses_shows_the_form_error_not_a_500(staff_console, change, field):
    # given: a retired category (the services accept active ones only) and the provider still holding it
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    retired = CategoryFactory(slug="retired", name="Retired", active=False)
    provider = ProviderFactory(company_name="Before", categories=[roofing, retired], areas=[])
    url = f"{CHANGELIST}{provider.pk}/change/"
    form = {
        "company_name": "Edited Co", "contact_name": "Ed", "phone": "+1 415 555 0177", "timezone": "UTC",
        "categories": [roofing.pk], "notify_assignments": "off", "low_balance_threshold": "7.00",
        "webhook_url": "", "service_areas-TOTAL_FORMS": "0", "service_areas-INITIAL_FORMS": "0",
        "service_areas-MIN_NUM_FORMS": "0", "service_areas-MAX_NUM_FORMS": "1000",
    }
    if change.get("categories") == "retired":
        change = {"categories": [roofing.pk, retired.pk]}
    # when
    response = staff_console.post(url, {**form, **change})
    # then
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    provider.refresh_from_db()
    assert provider.company_name == "Before"
    # and the retired category is not offered; saving without it drops it
    assert b'value="%d"' % retired.pk not in staff_console.get(url).content
    assert staff_console.post(url, form).status_code == 302
    assert list(provider.categories.values_list("slug", flat=True)) == ["roofing"]


def test_an_inline_area_that_duplicates_an_existing_one_is_a_form_error_not_a_500(staff_console):
    # given: the provider has 94110 (e.g. on another page of the inline); staff add "94 110"
    provider = ProviderFactory(company_name="Before", areas=["94110"])
    url = f"{CHANGELIST}{provider.pk}/change/"
    form = {
        "company_name": "Edited Co", "contact_name": "Ed", "phone": "+1 415 555 0177", "timezone": "UTC",
        "categories": [], "notify_assignments": "off", "low_balance_threshold": "7.00", "webhook_url": "",
        "service_areas-TOTAL_FORMS": "1", "service_areas-INITIAL_FORMS": "0", "service_areas-MIN_NUM_FORMS": "0",
        "service_areas-MAX_NUM_FORMS": "1000", "service_areas-0-provider": str(provider.pk),
        "service_areas-0-kind": "code", "service_areas-0-value": "94 110",
    }
    # when
    response = staff_console.post(url, form)
    # then
    assert response.status_code == 200 and b"94110 is already one of this provider" in response.content
    provider.refresh_from_db()
    assert provider.company_name == "Before"
    assert list(provider.service_areas.values_list("kind", "value")) == [("code", "94110")]
    # and the same value as a prefix is a different area
    response = staff_console.post(url, {**form, "service_areas-0-kind": "prefix"})
    assert response.status_code == 302
    assert sorted(provider.service_areas.values_list("kind", "value")) == [("code", "94110"), ("prefix", "94110")]


def test_suspend_asks_for_a_reason_and_confirmation_then_reinstate(staff_console, staff_user):
    # given
    provider = ProviderFactory(company_name="Risky Co")
    url = f"{CHANGELIST}{provider.pk}/suspend/"
    # when: the confirmation page
    page = staff_console.get(url)
    # then
    assert page.status_code == 200 and b"Suspend Risky Co?" in page.content
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.ACTIVE
    # when: confirmed without a reason
    missing = staff_console.post(url, {"confirm": "yes", "reason": " "})
    assert missing.status_code == 200 and b"A reason is required." in missing.content
    assert Provider.objects.get(pk=provider.pk).status == ProviderStatus.ACTIVE
    # when: confirmed with a reason
    done = staff_console.post(url, {"confirm": "yes", "reason": "Chargebacks"})
    # then
    assert done.status_code == 302
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.SUSPENDED and provider.suspended_reason == "Chargebacks"
    assert AuditLog.objects.get(action="provider.suspended").actor_id == staff_user.pk
    # when: reinstated
    staff_console.post(f"{CHANGELIST}{provider.pk}/reinstate/", {"confirm": "yes", "reason": "Resolved"})
    provider.refresh_from_db()
    assert provider.status == ProviderStatus.ACTIVE and provider.suspended_reason == ""


def _csv_format_index(staff_console) -> str:
    page = staff_console.get("/admin/providers/servicearea/import/").content.decode()
    match = re.search(r'<option value="(\d+)"[^>]*>\s*csv\s*</option>', page, re.IGNORECASE)
    assert match, "the import page offers CSV"
    return match.group(1)


def test_service_area_import_previews_row_errors_and_imports_nothing_until_fixed(staff_console):
    # given
    provider = ProviderFactory(areas=["94110"])
    csv = (f"provider_id,postal_code,kind\n{provider.pk},94103,code\n{provider.pk},sw1*,\n"
           f"{provider.pk},bad code!,code\n999999,94105,code\n{provider.pk},94110,code\n").encode()
    fmt = _csv_format_index(staff_console)
    # when
    response = staff_console.post("/admin/providers/servicearea/import/", {
        "resource": "0", "format": fmt, "import_file": SimpleUploadedFile("areas.csv", csv, "text/csv"),
    })
    # then: a preview with the two bad rows named, nothing written
    body = response.content.decode()
    assert response.status_code == 200
    assert "is not a postal code" in body and "No provider with id" in body
    assert sorted(ServiceArea.objects.filter(provider=provider).values_list("value", flat=True)) == ["94110"]


def test_service_area_import_confirms_and_is_audited(staff_console, staff_user):
    # given
    provider = ProviderFactory(areas=["94110"])
    csv = f"provider_id,postal_code,kind\n{provider.pk},94103,\n{provider.pk},sw1*,\n{provider.pk},94110,code\n"
    fmt = _csv_format_index(staff_console)
    preview = staff_console.post("/admin/providers/servicearea/import/", {
        "resource": "0", "format": fmt, "import_file": SimpleUploadedFile("areas.csv", csv.encode(), "text/csv"),
    })
    body = preview.content.decode()
    assert preview.status_code == 200 and "process_import" in body
    hidden = dict(re.findall(r'name="(import_file_name|original_file_name|format|resource)" value="([^"]*)"', body))
    # when
    done = staff_console.post("/admin/providers/servicearea/process_import/", hidden)
    # then
    assert done.status_code == 302
    assert sorted(ServiceArea.objects.filter(provider=provider).values_list("kind", "value")) == [
        ("code", "94103"), ("code", "94110"), ("prefix", "SW1")]
    entry = AuditLog.objects.get(action="provider.service_areas_imported")
    assert entry.actor_id == staff_user.pk and entry.changes.get("new") == 2


def test_provider_admin_is_registered_with_unfold():
    from unfold.admin import ModelAdmin

    assert isinstance(django_admin.site._registry[Provider], ModelAdmin)

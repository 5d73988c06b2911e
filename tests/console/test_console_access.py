"""No console page without a verified TOTP device; never for providers (SPEC §1, §9; issue #2 item 10).

Every URL of the admin site is enumerated from the site itself, so admin classes that other
modules add later are covered without touching this file.
"""
from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from admin_ext.site import OTPAdminSite
from hotlead.core.services import audit_record
from hotlead.distribution.models import DistributionRun
from hotlead.notifications.models import EmailEvent
from hotlead.ops.models import DeadLetter
from hotlead.refunds.models import BadLeadReport
from tests.factories.accounts import StaffFactory, UserFactory, totp_device_for
from tests.factories.distribution import make_assignment
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

CONVERTER = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name


def _model_for(route: str):
    parts = route.split("/")
    if len(parts) >= 2:
        try:
            return apps.get_model(parts[0], parts[1])
        except (LookupError, ValueError):
            return None
    return None


def _concrete(route: str) -> str:
    """A real path for an admin route: real object ids where a pk is needed."""
    model = _model_for(route)
    obj = model._default_manager.order_by("pk").first() if model is not None else None
    pk = str(obj.pk) if obj is not None else "999999"

    def converter(match):
        return pk

    def regex_group(match):
        body = match.group("body")
        if re.fullmatch(r"[\w|]+", body):  # an alternation of literals, e.g. the app labels
            return body.split("|")[0]
        return "no-such-page" if match.group("name") == "url" else pk

    path = CONVERTER.sub(converter, route)
    path = REGEX_GROUP.sub(regex_group, path)
    return "/admin/" + path.lstrip("^").rstrip("$")


def console_paths() -> list[tuple[str, str | None]]:
    return sorted({(_concrete(route), name) for route, name in _walk(admin.site.get_urls())})


@pytest.fixture
def world(db):
    """At least one row for the models the console shows, so pk routes resolve to real objects."""
    assignment = make_assignment()
    BadLeadReport.objects.create(assignment=assignment, provider=assignment.provider, reason="other", details="x")
    DistributionRun.objects.create(lead=assignment.lead, trigger="approval", trace={"levels": []})
    now = timezone.now()
    DeadLetter.objects.create(func="hotlead.ops.jobs.job_run", first_failed_at=now, last_failed_at=now, attempts=5)
    EmailEvent.objects.create(template="welcome", to="someone@example.org", subject="Welcome")
    audit_record(action="test.seed", object_type="test", object_id="1")
    someone = StaffFactory()
    totp_device_for(someone)
    StaticDevice.objects.create(user=someone, name="backup")
    Group.objects.create(name="Reviewers")
    return assignment


def _staff_without_device() -> Client:
    client = Client()
    client.force_login(StaffFactory())
    return client


def test_the_admin_site_is_the_mfa_site():
    # unfold's default AppConfig would swap admin.site for a plain UnfoldAdminSite without MFA
    assert isinstance(admin.site, OTPAdminSite)


def test_every_console_page_refuses_staff_without_a_verified_device(world):
    # given: staff logged in with a password only, with and without a device
    no_device = _staff_without_device()
    with_device_unverified = Client()
    staff = StaffFactory()
    totp_device_for(staff)
    with_device_unverified.force_login(staff)
    paths = console_paths()
    assert len(paths) > 40  # the enumeration really found the site's pages
    # when / then
    reached = []
    for path, name in paths:
        if name in ("login", "logout", "signout"):
            continue  # the way in and the ways out (tested below and in the login-flow tests)
        for client in (no_device, with_device_unverified):
            for method in ("get", "post"):
                response = getattr(client, method)(path)
                # refused before the view runs: the admin site's guard sends the request to its login,
                # so a custom view or action that forgot the guard (and acted, then redirected) shows up here
                if response.status_code != 302 or not response["Location"].startswith("/admin/login/?next="):
                    reached.append((method, path, response.status_code, response.get("Location")))
    assert reached == []


def test_anonymous_visitors_are_sent_to_the_two_factor_login(world):
    client = Client()
    for path, _name in console_paths():
        response = client.get(path)
        assert response.status_code in (302, 404, 405), path
        if response.status_code == 302:
            location = response["Location"]
            # logout sends an anonymous visitor to the index, which sends them to the login
            assert location.startswith(("/admin/login/", "/account/login/")) or location == "/admin/", (path, location)


def test_a_verified_staff_user_opens_the_dashboard_and_every_list(staff_console, world):
    # given: a staff user who logged in with a TOTP code (fixture)
    # when / then
    index = staff_console.get("/admin/")
    assert index.status_code == 200
    changelists = [path for path, name in console_paths() if name and name.endswith("_changelist")]
    assert "/admin/leads/lead/" in changelists or len(changelists) >= 5
    failures = [(path, status) for path in changelists if (status := staff_console.get(path).status_code) != 200]
    assert failures == []


def test_a_verified_staff_user_opens_every_object_page(staff_console, world):
    # the change (or read-only view) page of one real object of each registered model
    failures = []
    for model, model_admin in admin.site._registry.items():
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/{obj.pk}/change/"
        status = staff_console.get(path).status_code
        if status != 200:
            failures.append((path, status))
    assert failures == []


def test_a_provider_never_reaches_the_console_even_with_a_verified_device(world):
    # given: a provider who has a confirmed TOTP device and a verified session
    from django_otp import DEVICE_ID_SESSION_KEY

    provider = ProviderFactory()
    device = totp_device_for(provider.user)
    client = Client()
    client.force_login(provider.user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    # when / then
    for path, name in console_paths():
        if name == "signout":
            continue
        response = client.get(path)
        assert response.status_code != 200, path
        assert response.status_code < 500, path
    refused = client.get("/admin/login/?next=/admin/")
    assert refused.status_code == 403
    assert b"No access to the console" in refused.content


@pytest.mark.parametrize("change", [{"is_staff": False}, {"is_active": False}, {"role": "provider", "is_staff": False}])
def test_accounts_that_are_not_active_ops_staff_are_refused(change):
    from django_otp import DEVICE_ID_SESSION_KEY

    user = StaffFactory()
    device = totp_device_for(user)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    type(user).objects.filter(pk=user.pk).update(**change)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/leads/lead/").status_code == 302


def test_a_plain_user_account_is_refused():
    client = Client()
    client.force_login(UserFactory())
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_device_admin_never_shows_secrets_nor_adds_devices(staff_console, staff_user):
    device = TOTPDevice.objects.get(user=staff_user)
    page = staff_console.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/")
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    assert staff_console.get("/admin/otp_totp/totpdevice/add/").status_code == 403

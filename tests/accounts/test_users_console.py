"""Staff accounts in the console (unfold): create staff, set a password (revokes tokens), providers stay providers."""
from __future__ import annotations

import pytest

from hotlead.accounts.models import Role, User
from hotlead.core.models import AuditLog
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db

USERS = "/admin/accounts/user/"


def test_the_users_list_renders(staff_console, staff_user):
    response = staff_console.get(USERS)
    assert response.status_code == 200 and staff_user.email.encode() in response.content


def test_creating_a_user_here_makes_a_staff_account(staff_console):
    # when
    response = staff_console.post(f"{USERS}add/", {
        "email": "New.Ops@HotLead.test", "full_name": "New Ops",
        "password1": "ops-team-passphrase-2026", "password2": "ops-team-passphrase-2026",
    })
    # then
    assert response.status_code == 302
    user = User.objects.get(email__iexact="new.ops@hotlead.test")
    assert user.role == Role.STAFF and user.is_staff is True and user.check_password("ops-team-passphrase-2026")
    assert AuditLog.objects.filter(action="accounts.staff_created", object_id=str(user.pk)).count() == 1


def test_setting_a_password_here_revokes_the_users_tokens(staff_console):
    # given
    provider = ProviderFactory()
    version = provider.user.token_version
    # when
    response = staff_console.post(f"{USERS}{provider.user.pk}/password/", {
        "password1": "reset-by-support-2026!", "password2": "reset-by-support-2026!",
    })
    # then
    assert response.status_code == 302
    provider.user.refresh_from_db()
    assert provider.user.check_password("reset-by-support-2026!")
    assert provider.user.token_version == version + 1
    assert AuditLog.objects.filter(action="auth.password_set_by_staff").count() == 1


def test_a_provider_account_cannot_be_made_staff_here(staff_console):
    # given
    provider = ProviderFactory()
    page = staff_console.get(f"{USERS}{provider.user.pk}/change/")
    # then: the staff flags are read-only for providers
    assert page.status_code == 200
    assert b'name="is_staff"' not in page.content and b'name="is_active"' in page.content

"""Bearer-token authentication for the API's provider and admin routers (SPEC §8).

No token → 401; a provider token on an admin endpoint → 403; a suspended provider's tokens stop
working (401); a token issued before a password change stops working (401).
"""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from ninja.security import HttpBearer

from hotlead.accounts.tokens import token_decode
from hotlead.core.exceptions import AccountSuspended, EmailNotVerified, Forbidden, MfaSetupRequired, NotAuthenticated
from hotlead.core.request_context import user_id_var
from hotlead.providers.enums import ProviderStatus
from hotlead.providers.models import Provider


def _user_from_token(token: str):
    claims = token_decode(token, expected_type="access")
    if not str(claims["sub"]).isdigit():
        raise NotAuthenticated("The token is not valid.")
    User = get_user_model()
    user = User.objects.filter(pk=int(claims["sub"]), is_active=True).first()
    if user is None or claims.get("ver") != user.token_version:
        raise NotAuthenticated("The token is no longer valid.")
    return user, claims


class ProviderAuth(HttpBearer):
    """request.auth is the Provider.

    A provider still pending e-mail verification is refused (403). When HOTLEAD_REQUIRE_PROVIDER_MFA is on,
    a token issued without a TOTP check only reaches the MFA set-up endpoints (`allow_mfa_setup`).
    """

    def __init__(self, *, allow_mfa_setup: bool = False):
        super().__init__()
        self.allow_mfa_setup = allow_mfa_setup

    def __call__(self, request):
        if not request.headers.get("Authorization"):
            raise NotAuthenticated()
        return super().__call__(request)

    def authenticate(self, request, token):
        user, claims = _user_from_token(token)
        if user.role != "provider":
            raise Forbidden()
        provider = Provider.objects.select_related("user").filter(user=user).first()
        if provider is None:
            raise Forbidden()
        if provider.status == ProviderStatus.SUSPENDED:
            raise AccountSuspended()
        if provider.status != ProviderStatus.ACTIVE:
            raise EmailNotVerified()
        if settings.HOTLEAD_REQUIRE_PROVIDER_MFA and not claims.get("mfa") and not self.allow_mfa_setup:
            raise MfaSetupRequired("Two-factor authentication is required: set it up with /provider/mfa/setup, "
                                   "then sign in with a code.")
        request.user = user
        user_id_var.set(user.pk)
        return provider


class StaffAuth(HttpBearer):
    """request.auth is the staff User; the token must have been issued after a TOTP check."""

    def __call__(self, request):
        if not request.headers.get("Authorization"):
            raise NotAuthenticated()
        return super().__call__(request)

    def authenticate(self, request, token):
        user, claims = _user_from_token(token)
        if user.role != "staff" or not user.is_staff:
            raise Forbidden()
        if not claims.get("mfa"):
            raise Forbidden("Staff tokens require MFA at login.")
        request.user = user
        user_id_var.set(user.pk)
        return user


provider_auth = ProviderAuth()
provider_auth_mfa_setup = ProviderAuth(allow_mfa_setup=True)
staff_auth = StaffAuth()

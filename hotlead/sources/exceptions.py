"""The errors of lead sources (partner API keys)."""
from __future__ import annotations

from hotlead.core.exceptions import NotAuthenticated


class InvalidApiKey(NotAuthenticated):
    code = "invalid_api_key"
    default_message = "The API key is not valid."


class ApiKeyRevoked(NotAuthenticated):
    code = "api_key_revoked"
    default_message = "This API key was revoked."

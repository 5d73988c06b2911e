"""Helpers for the auth and provider API tests: JSON calls, TOTP codes."""
from __future__ import annotations

import json

from django.test import Client
from django_otp.oath import TOTP

API = "/api/v1"


def totp_code(device, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


class Api:
    """JSON calls on Django's test client; `.json` of the response is parsed."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client()

    def call(self, method: str, path: str, data=None, token: str | None = None, **extra):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
        headers.update(extra)
        if method == "get":
            return self.client.get(f"{API}{path}", data=data, **headers)
        body = json.dumps(data) if data is not None else None
        return getattr(self.client, method)(f"{API}{path}", data=body, content_type="application/json", **headers)

    def post(self, path, data=None, **kw):
        return self.call("post", path, data, **kw)

    def get(self, path, **kw):
        return self.call("get", path, **kw)

    def put(self, path, data=None, **kw):
        return self.call("put", path, data, **kw)

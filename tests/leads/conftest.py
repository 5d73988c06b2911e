"""Helpers for the lead intake tests: a valid submission, the code and link from the sent e-mail."""
from __future__ import annotations

import re

import pytest
from django.core import mail

from tests.factories.leads import CategoryFactory

API = "/api/v1"


def valid_payload(**overrides) -> dict:
    payload = {
        "name": "  Pat   Submitter ",
        "email": " Pat.Submitter@Example.ORG ",
        "phone": "(415) 867-5309",
        "postal_code": " 94 110 ",
        "category": "roofing",
        "description": "The roof leaks over the kitchen.",
        "budget_cents": 250000,
        "timeline": "asap",
        "consent": True,
        "source": "web",
        "utm_source": "newsletter",
        "utm_medium": "email",
        "utm_campaign": "spring",
    }
    payload.update(overrides)
    return {key: value for key, value in payload.items() if value is not ...}


@pytest.fixture
def roofing(db):
    return CategoryFactory(slug="roofing", name="Roofing")


@pytest.fixture
def api_post(client, django_capture_on_commit_callbacks):
    """POST JSON to the API and run what was queued after commit (e-mails), as production would."""

    def _post(path: str, body: dict, **extra):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(f"{API}{path}", body, content_type="application/json", **extra)

    return _post


def verification_emails() -> list:
    return [m for m in mail.outbox if "Your Hot Lead code" in m.subject]


def last_code() -> str:
    return re.search(r"code: (\d{6})$", verification_emails()[-1].subject).group(1)


def last_link_token() -> str:
    return re.search(r"#lead=[0-9a-f-]+&token=([A-Za-z0-9_\-]+)", verification_emails()[-1].body).group(1)


def wrong_code(right: str) -> str:
    return f"{(int(right) + 1) % 1_000_000:06d}"


@pytest.fixture
def submitted(roofing, api_post):
    """A lead that was just submitted: (lead_id, code)."""
    response = api_post("/leads", valid_payload())
    assert response.status_code == 202, response.content
    return response.json()["id"], last_code()


@pytest.fixture
def verified(submitted, api_post):
    """A verified lead: (lead_id, confirm_token)."""
    lead_id, code = submitted
    response = api_post("/leads/verify", {"lead_id": lead_id, "code": code})
    assert response.status_code == 200, response.content
    return lead_id, response.json()["confirm_token"]

"""POST /api/v1/webhooks/email-events: a signed bounce marks the e-mail and the lead, and the bad-lead rule fires."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook

from hotlead.distribution.enums import AssignmentStatus
from hotlead.leads.models import Lead
from hotlead.notifications.models import EmailEvent, EmailStatus
from hotlead.refunds.enums import AutoRule
from hotlead.refunds.models import BadLeadReport
from hotlead.webhooks.models import WebhookEvent
from hotlead.webhooks.services import webhook_endpoint_configure
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.levels import LevelFactory
from tests.refunds.conftest import report_url, rules  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/email-events"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.HOTLEAD_EMAIL_EVENTS_SECRET = SECRET


def bounce_body(to: str, *, bounce_type: str = "Permanent", tags: dict | None = None) -> bytes:
    """Resend's email.bounced event."""
    return json.dumps({
        "type": "email.bounced",
        "created_at": "2026-11-22T23:41:12.126Z",
        "data": {
            "created_at": "2026-11-22T23:41:11.894719+00:00",
            "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "from": "Hot Lead <no-reply@hotlead.local>",
            "to": [to],
            "subject": "We received your request",
            "bounce": {"message": "The recipient's mailbox does not exist.", "subType": "General",
                       "type": bounce_type},
            **({"tags": tags} if tags else {}),
        },
    }).encode()


def signed(body: bytes, *, secret: str = SECRET, at: datetime | None = None, prefix: str = "webhook") -> dict:
    msg_id = f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    return {f"HTTP_{prefix.upper()}_ID": msg_id, f"HTTP_{prefix.upper()}_TIMESTAMP": str(int(at.timestamp())),
            f"HTTP_{prefix.upper()}_SIGNATURE": Webhook(secret).sign(msg_id, at, body.decode())}


def post(client, body: bytes, headers: dict):
    return client.post(URL, body, content_type="application/json", **headers)


def test_a_bounce_marks_the_lead_and_the_auto_approval_rule_approves_its_report(client, provider, provider_headers,
                                                                                 rules):  # noqa: F811
    # given a sold lead whose address we e-mailed
    lead = LeadFactory(status="distributed", email="gone@example.com")
    assignment = make_assignment(provider=provider, lead=lead, level=LevelFactory(price_cents=2700))
    sent = EmailEvent.objects.create(template="lead_outcome", to="gone@example.com", status=EmailStatus.SENT,
                                     related_type="leads.lead", related_id=str(lead.pk))
    webhook_endpoint_configure(provider=provider, url="https://crm.example.com/hooks")
    # when the e-mail provider reports a permanent bounce
    response = post(client, bounce_body("Gone@Example.com"), signed(bounce_body("Gone@Example.com")))
    # then
    assert response.status_code == 200, response.content
    assert response.json() == {"received": True, "type": "email.bounced", "bounced": True, "leads_marked": 1}
    lead.refresh_from_db()
    sent.refresh_from_db()
    assert lead.email_bounced is True and sent.status == EmailStatus.BOUNCED
    assert "mailbox does not exist" in sent.error
    # and the provider's report is approved and refunded by the rule
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact"}, content_type="application/json",
                           **provider_headers)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved" and body["auto_rule"] == AutoRule.EMAIL_BOUNCED
    assert body["refund_cents"] == 2700
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REFUNDED
    # and the refund was sent to the provider's webhook as lead.refunded
    event = json.loads(WebhookEvent.objects.get(type="lead.refunded").body)
    assert (event["data"]["assignment_id"], event["data"]["amount_cents"], event["data"]["lead_id"]) == (
        assignment.pk, 2700, str(lead.public_id))


def test_without_the_bounce_the_same_report_waits_for_staff(client, provider, provider_headers, rules):  # noqa: F811
    lead = LeadFactory(status="distributed", email="fine@example.com")
    assignment = make_assignment(provider=provider, lead=lead, level=LevelFactory(price_cents=2700))
    post(client, bounce_body("someone-else@example.com"), signed(bounce_body("someone-else@example.com")))
    response = client.post(report_url(assignment.pk), {"reason": "wrong_contact"}, content_type="application/json",
                           **provider_headers)
    assert response.json()["status"] == "pending"
    assert Lead.objects.get(pk=lead.pk).email_bounced is False


def test_a_transient_bounce_marks_nothing(client):
    lead = LeadFactory(email="full@example.com")
    body = bounce_body("full@example.com", bounce_type="Transient")
    response = post(client, body, signed(body))
    assert response.status_code == 200 and response.json()["bounced"] is False
    assert Lead.objects.get(pk=lead.pk).email_bounced is False


def test_the_tag_names_the_email_event_and_svix_headers_are_accepted(client):
    older = EmailEvent.objects.create(template="lead_code", to="a@example.com", status=EmailStatus.SENT)
    EmailEvent.objects.create(template="lead_outcome", to="a@example.com", status=EmailStatus.SENT)
    body = bounce_body("a@example.com", tags={"hotlead_email_event": str(older.pk)})
    response = post(client, body, signed(body, prefix="svix"))
    assert response.status_code == 200, response.content
    assert list(EmailEvent.objects.filter(status=EmailStatus.BOUNCED).values_list("pk", flat=True)) == [older.pk]


@pytest.mark.parametrize("headers", [
    {},
    "wrong secret",
    "stale",
    "tampered",
])
def test_an_unsigned_or_badly_signed_event_is_refused_and_marks_nothing(client, headers):
    lead = LeadFactory(email="x@example.com")
    body = bounce_body("x@example.com")
    if headers == "wrong secret":
        headers = signed(body, secret="whsec_" + "B" * 43 + "=")
    elif headers == "stale":
        headers = signed(body, at=datetime.now(UTC) - timedelta(minutes=6))
    elif headers == "tampered":
        headers = signed(bounce_body("y@example.com"))
    response = post(client, body, headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_signature"
    assert Lead.objects.get(pk=lead.pk).email_bounced is False


def test_no_secret_configured_is_a_503(client, settings):
    settings.HOTLEAD_EMAIL_EVENTS_SECRET = ""
    body = bounce_body("x@example.com")
    response = post(client, body, signed(body))
    assert response.status_code == 503 and response.json()["error"]["code"] == "webhook_not_configured"


def test_other_event_types_are_acknowledged(client):
    body = json.dumps({"type": "email.delivered", "data": {"to": ["x@example.com"]}}).encode()
    response = post(client, body, signed(body))
    assert response.status_code == 200 and response.json()["bounced"] is False


def test_malformed_bodies(client):
    body = b"{not json"
    assert post(client, body, signed(body)).json()["error"]["code"] == "malformed_json"
    body = json.dumps({"type": "email.bounced", "data": {"to": "nobody"}}).encode()
    response = post(client, body, signed(body))
    assert response.status_code == 422


def test_documented_in_openapi(client):
    doc = client.get("/api/v1/openapi.json").json()
    operation = doc["paths"]["/api/v1/webhooks/email-events"]["post"]
    assert "Standard Webhooks" in operation["description"]
    assert {p["name"] for p in operation["parameters"]} >= {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert "/api/v1/provider/webhook/deliveries/{delivery_id}/replay" in doc["paths"]


def test_no_sale_can_be_out_of_the_buyers_areas_so_the_area_rule_is_gone():
    assert "out_of_area_at_sale" not in AutoRule.values
    assert BadLeadReport._meta.get_field("auto_rule").choices == list(AutoRule.choices)

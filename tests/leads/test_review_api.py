"""Admin API for review: list (filters, cursor pages), detail (history, sales, traces), approve, reject, access."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_q.models import Task
from prometheus_client import REGISTRY

from hotlead.accounts.tokens import access_token_encode
from hotlead.core.exceptions import Conflict
from hotlead.core.models import AuditLog
from hotlead.distribution.job_paths import LEAD_DISTRIBUTE
from hotlead.distribution.models import DistributionRun
from hotlead.leads.models import Lead, LeadEvent
from hotlead.leads.services.lifecycle import lead_approve
from hotlead.notifications.models import EmailEvent
from tests.conftest import bearer
from tests.factories.accounts import StaffFactory
from tests.factories.distribution import make_assignment
from tests.factories.leads import CategoryFactory, LeadFactory
from tests.factories.levels import LevelFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db
ADMIN = "/api/v1/admin"


def post(client, path, body=None, **headers):
    return client.post(f"{ADMIN}{path}", body or {}, content_type="application/json", **headers)


def metric(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# --- approve ---------------------------------------------------------------------------------------

def test_approve_moves_a_lead_in_review_and_audits_it(client, staff_user, staff_headers):
    lead = LeadFactory(status="pending_review")

    response = post(client, f"/leads/{lead.public_id}/approve", **staff_headers)

    assert response.status_code == 200
    assert response.json() == {"id": str(lead.public_id), "status": "approved"}
    lead.refresh_from_db()
    assert (lead.status, lead.reviewed_by, lead.reject_reason) == ("approved", staff_user, "")
    assert lead.approved_at is not None and lead.reviewed_at is not None
    event = LeadEvent.objects.get(lead=lead)
    assert (event.action, event.from_status, event.to_status, event.actor) == (
        "approved", "pending_review", "approved", staff_user)
    audit = AuditLog.objects.get(action="lead.approve")
    assert (audit.actor, audit.object_type, audit.object_id) == (staff_user, "leads.lead", str(lead.pk))
    assert audit.changes["status"] == ["pending_review", "approved"]
    assert EmailEvent.objects.filter(template="lead_approved", to=lead.email).count() == 1


def test_approval_queues_distribution_and_emails_the_submitter_after_commit(
        client, staff_headers, django_capture_on_commit_callbacks):
    lead = LeadFactory(status="pending_review", email="dana@example.org")
    approved_before = metric("hotlead_leads_approved_total")

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, f"/leads/{lead.public_id}/approve", **staff_headers)

    assert response.status_code == 200
    # the distribution job ran through the job runner with the lead and the trigger
    jobs = [task.args for task in Task.objects.filter(func="hotlead.ops.jobs.job_run")
            if task.args and task.args[0] == LEAD_DISTRIBUTE]
    assert [(args[1], args[2]) for args in jobs] == [([lead.pk], {"trigger": "approval"})]
    assert [(m.to, m.subject) for m in mail.outbox if "approved" in m.subject] == [
        (["dana@example.org"], "Your request for Roofing was approved")]
    assert metric("hotlead_leads_approved_total") == approved_before + 1


@pytest.mark.parametrize("status", ["pending_verification", "verified", "approved", "rejected", "distributed",
                                    "unsold", "expired"])
def test_approve_outside_review_is_a_conflict(client, staff_headers, status):
    lead = LeadFactory(status=status)

    response = post(client, f"/leads/{lead.public_id}/approve", **staff_headers)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert Lead.objects.get(pk=lead.pk).status == status
    assert not AuditLog.objects.filter(action="lead.approve").exists()
    assert not LeadEvent.objects.filter(lead=lead).exists()
    assert not EmailEvent.objects.exists()


# --- reject ----------------------------------------------------------------------------------------

def test_reject_records_reason_and_note_and_audits_it(client, staff_user, staff_headers):
    lead = LeadFactory(status="pending_review")
    rejected_before = metric("hotlead_leads_rejected_total", reason="spam")

    with_callbacks = post(client, f"/leads/{lead.public_id}/reject", {"reason": "spam", "note": "bot traffic"},
                          **staff_headers)

    assert with_callbacks.status_code == 200
    assert with_callbacks.json() == {"id": str(lead.public_id), "status": "rejected"}
    lead.refresh_from_db()
    assert (lead.status, lead.reject_reason, lead.review_note, lead.reviewed_by) == (
        "rejected", "spam", "bot traffic", staff_user)
    assert LeadEvent.objects.get(lead=lead).data == {"reason": "spam"}
    audit = AuditLog.objects.get(action="lead.reject")
    assert (audit.changes["reason"], audit.changes["note"], audit.actor) == ("spam", "bot traffic", staff_user)
    # issue 14: the submitter is told, once, in plain words (the staff note stays internal)
    [email] = EmailEvent.objects.all()
    assert (email.template, email.to, email.dedupe_key) == ("lead_rejected", lead.email, f"lead_rejected:{lead.pk}")
    assert email.context["reference"] == lead.reference and "bot traffic" not in str(email.context)
    # the metric moves only after commit, which this test never reaches
    assert metric("hotlead_leads_rejected_total", reason="spam") == rejected_before


def test_reject_counts_the_reason_after_commit(client, staff_headers, django_capture_on_commit_callbacks):
    lead = LeadFactory(status="pending_review")
    before = metric("hotlead_leads_rejected_total", reason="out_of_area")

    with django_capture_on_commit_callbacks(execute=True):
        post(client, f"/leads/{lead.public_id}/reject", {"reason": "out_of_area"}, **staff_headers)

    assert metric("hotlead_leads_rejected_total", reason="out_of_area") == before + 1


@pytest.mark.parametrize(("body", "field"), [
    ({}, "reason"),
    ({"reason": "boring"}, "reason"),
    ({"reason": "spam", "note": "n" * 2001}, "note"),
    ({"reason": "spam", "status": "approved"}, "status"),
])
def test_reject_with_bad_input_is_a_422_and_changes_nothing(client, staff_headers, body, field):
    lead = LeadFactory(status="pending_review")

    response = post(client, f"/leads/{lead.public_id}/reject", body, **staff_headers)

    assert response.status_code == 422
    assert field in [f["field"] for f in response.json()["error"]["details"]["fields"]]
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"
    assert not AuditLog.objects.filter(action="lead.reject").exists()


@pytest.mark.parametrize("status", ["verified", "approved", "rejected", "distributed", "expired"])
def test_reject_outside_review_is_a_conflict(client, staff_headers, status):
    lead = LeadFactory(status=status)

    response = post(client, f"/leads/{lead.public_id}/reject", {"reason": "test"}, **staff_headers)

    assert response.status_code == 409
    assert Lead.objects.get(pk=lead.pk).status == status


def test_unknown_or_malformed_lead_ids(client, staff_headers):
    assert post(client, f"/leads/{uuid.uuid4()}/approve", **staff_headers).status_code == 404
    assert client.get(f"{ADMIN}/leads/{uuid.uuid4()}", **staff_headers).json()["error"]["code"] == "not_found"
    assert post(client, "/leads/42/approve", **staff_headers).status_code == 422


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once_make_one_decision():
    lead = LeadFactory(status="pending_review")
    reviewers = [StaffFactory(), StaffFactory()]
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def approve(user) -> None:
        try:
            barrier.wait()
            lead_approve(lead_id=lead.pk, actor=user)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in reviewers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["approved", "conflict"]
    assert AuditLog.objects.filter(action="lead.approve").count() == 1
    assert LeadEvent.objects.filter(lead=lead, action="approved").count() == 1


# --- list --------------------------------------------------------------------------------------------

def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_list_pages_newest_first_with_a_cursor(client, staff_headers):
    leads = [LeadFactory() for _ in range(5)]
    expected = [str(lead.public_id) for lead in reversed(leads)]

    first = client.get(f"{ADMIN}/leads?limit=2", **staff_headers)
    second = client.get(f"{ADMIN}/leads?limit=2&cursor={first.json()['next_cursor']}", **staff_headers)
    third = client.get(f"{ADMIN}/leads?limit=2&cursor={second.json()['next_cursor']}", **staff_headers)

    assert ids(first) + ids(second) + ids(third) == expected
    assert third.json()["next_cursor"] is None
    row = first.json()["items"][0]
    assert set(row) == {"id", "status", "name", "email", "phone", "postal_code", "category", "source",
                        "possible_duplicate", "duplicate_of", "created_at"}


def test_list_filters(client, staff_headers):
    roofing = CategoryFactory(slug="roofing", name="Roofing")
    plumbing = CategoryFactory(slug="plumbing", name="Plumbing")
    review = LeadFactory(category=roofing, status="pending_review", email="a@example.org", postal_code="94110")
    original = LeadFactory(category=plumbing, status="approved", phone="+14158675309")
    dup = LeadFactory(category=plumbing, status="pending_review", possible_duplicate=True, duplicate_of=original,
                      postal_code="10001")
    old = LeadFactory(category=roofing, status="rejected")
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    since = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")

    def listed(query: str) -> set[str]:
        return set(ids(client.get(f"{ADMIN}/leads?{query}", **staff_headers)))

    assert listed("status=pending_review") == {str(review.public_id), str(dup.public_id)}
    assert listed("category=plumbing") == {str(original.public_id), str(dup.public_id)}
    assert listed("possible_duplicate=true") == {str(dup.public_id)}
    assert listed(f"created_from={since}") == {str(lead.public_id) for lead in (review, original, dup)}
    assert listed(f"created_to={since}") == {str(old.public_id)}
    assert listed("q=A@EXAMPLE.org") == {str(review.public_id)}
    assert listed("q=8675309") == {str(original.public_id)}
    assert listed("q=10001") == {str(dup.public_id)}
    assert listed(f"q={dup.public_id}") == {str(dup.public_id)}
    dup_row = client.get(f"{ADMIN}/leads?possible_duplicate=true", **staff_headers).json()["items"][0]
    assert dup_row["duplicate_of"] == str(original.public_id)


@pytest.mark.parametrize(("query", "field"), [("limit=201", "limit"), ("limit=0", "limit"),
                                              ("cursor=garbage", "cursor"), ("status=lost", "status"),
                                              ("created_from=yesterday", "created_from")])
def test_list_rejects_bad_parameters(client, staff_headers, query, field):
    response = client.get(f"{ADMIN}/leads?{query}", **staff_headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == field


# --- detail ----------------------------------------------------------------------------------------

def test_detail_shows_history_sales_and_the_distribution_trace(client, staff_user, staff_headers):
    # given: an approved lead sold to one provider, with one run of the engine
    lead = LeadFactory(status="pending_review", utm_source="ads", consent_ip="203.0.113.1")
    lead_approve(lead_id=lead.pk, actor=staff_user)
    provider = ProviderFactory(company_name="Roof Bros")
    level = LevelFactory(slug="exclusive", price_cents=12000)
    assignment = make_assignment(lead=lead, provider=provider, level=level)
    DistributionRun.objects.create(lead=lead, trigger="approval", outcome="distributed", buyers=1, trace={
        "levels": [{"level": "exclusive", "considered": 3, "skipped": {"area": 1, "balance": 1},
                    "chosen": [provider.pk], "why": "least recently served"}],
    })

    # when
    response = client.get(f"{ADMIN}/leads/{lead.public_id}", **staff_headers)

    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["category"], body["email"]) == (
        str(lead.public_id), "approved", "roofing", lead.email)
    assert body["consent"]["ip"] == "203.0.113.1" and body["consent"]["text_version"] == "2026-01"
    assert body["source"]["utm_source"] == "ads"
    assert [(h["action"], h["to_status"], h["actor"]) for h in body["history"]] == [
        ("approved", "approved", staff_user.email)]
    assert [(a["id"], a["provider"], a["level"], a["price_cents"], a["status"]) for a in body["assignments"]] == [
        (assignment.pk, "Roof Bros", "exclusive", 12000, "assigned")]
    assert body["distribution"]["runs"][0]["levels"] == [
        {"level": "exclusive", "considered": 3, "skipped": {"area": 1, "balance": 1}, "chosen": [provider.pk],
         "why": "least recently served"}]
    assert body["distribution"]["runs"][0]["trigger"] == "approval"


# --- access ----------------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/leads"),
    ("get", "/leads/{id}"),
    ("post", "/leads/{id}/approve"),
    ("post", "/leads/{id}/reject"),
    ("get", "/categories"),
    ("post", "/categories"),
    ("put", "/categories/roofing"),
]


def call(client, method, path, lead, **headers):
    url = f"{ADMIN}{path.format(id=lead.public_id)}"
    if method == "get":
        return client.get(url, **headers)
    return getattr(client, method)(url, {"reason": "spam"} if "reject" in path else {},
                                   content_type="application/json", **headers)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_admin_endpoints_need_a_token(client, method, path):
    lead = LeadFactory(status="pending_review")

    response = call(client, method, path, lead)

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_admin_endpoints_refuse_a_provider(client, provider_headers, method, path):
    lead = LeadFactory(status="pending_review")

    response = call(client, method, path, lead, **provider_headers)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"


def test_a_staff_token_without_mfa_is_refused(client, staff_user):
    lead = LeadFactory(status="pending_review")
    token, _ = access_token_encode(user=staff_user, mfa=False)

    response = post(client, f"/leads/{lead.public_id}/approve", **bearer(token))

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"

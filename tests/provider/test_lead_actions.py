"""GET /provider/leads/{id} (contact data, "sold to N of M") and the accept / reject transitions."""
from __future__ import annotations

import threading

import pytest
from django.db import connection

from hotlead.billing.models import LedgerEntry
from hotlead.billing.selectors import balance_cents, ledger_sum
from hotlead.core.exceptions import Conflict
from hotlead.core.models import AuditLog
from hotlead.distribution.models import Assignment
from hotlead.distribution.services.assignments import assignment_accept, assignment_reject
from tests.factories.distribution import make_assignment
from tests.factories.leads import LeadFactory
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def lead_url(assignment_id, action: str = "") -> str:
    return f"/api/v1/provider/leads/{assignment_id}" + (f"/{action}" if action else "")


def test_lead_page_shows_contact_data_and_sold_to_n_of_m(client, provider, provider_headers, shared_level):
    # given: a lead sold to me and to one other provider at a level of up to 3 buyers
    lead = LeadFactory(status="distributed", name="Dana Roof", email="dana@example.org", phone="+14155550111",
                       budget_cents=500000, timeline="asap", description="Leaking skylight")
    mine = make_assignment(lead=lead, provider=provider, level=shared_level)
    make_assignment(lead=lead, provider=ProviderFactory(), level=shared_level)

    # when
    response = client.get(lead_url(mine.pk), **provider_headers)

    # then
    assert response.status_code == 200
    body = response.json()
    assert body["assignment_id"] == mine.pk
    assert body["lead_id"] == str(lead.public_id)
    assert (body["status"], body["level"], body["price_cents"]) == ("assigned", "semi-exclusive", 6000)
    assert (body["buyers_count"], body["max_buyers"]) == (2, 3)
    assert body["bad_lead_report"] is None and body["reject_reason"] is None
    assert body["lead"] == {
        "name": "Dana Roof",
        "email": "dana@example.org",
        "phone": "+14155550111",
        "postal_code": "94110",
        "category": "roofing",
        "description": "Leaking skylight",
        "budget_cents": 500000,
        "timeline": "asap",
        "created_at": body["lead"]["created_at"],
    }


def test_accept_moves_assigned_to_accepted_and_audits(client, provider, provider_headers, shared_level):
    assignment = make_assignment(provider=provider, level=shared_level)

    response = client.post(lead_url(assignment.pk, "accept"), **provider_headers)

    assert response.status_code == 200
    assert response.json() == {"assignment_id": assignment.pk, "status": "accepted"}
    assignment.refresh_from_db()
    assert assignment.status == "accepted" and assignment.accepted_at is not None
    audit = AuditLog.objects.get(action="assignment.accept")
    assert (audit.object_id, audit.actor_id) == (str(assignment.pk), provider.user_id)


def test_reject_needs_a_reason_and_moves_no_money(client, provider, provider_headers, shared_level):
    # given
    provider_funded = ProviderFactory(balance_cents=10000)
    assignment = make_assignment(provider=provider_funded, level=shared_level)
    headers = {"HTTP_AUTHORIZATION": _token_header(provider_funded)}
    entries_before = LedgerEntry.objects.filter(account_id=provider_funded.pk).count()

    # when: no reason, a blank reason, then a real one
    missing = client.post(lead_url(assignment.pk, "reject"), {}, content_type="application/json", **headers)
    blank = client.post(lead_url(assignment.pk, "reject"), {"reason": "   "}, content_type="application/json",
                        **headers)
    ok = client.post(lead_url(assignment.pk, "reject"), {"reason": "Customer wants a different service"},
                     content_type="application/json", **headers)

    # then
    assert missing.status_code == 422 and blank.status_code == 422
    assert blank.json()["error"]["details"]["fields"][0]["field"] == "reason"
    assert ok.status_code == 200 and ok.json() == {"assignment_id": assignment.pk, "status": "rejected"}
    assignment.refresh_from_db()
    assert assignment.status == "rejected" and assignment.reject_reason == "Customer wants a different service"
    assert LedgerEntry.objects.filter(account_id=provider_funded.pk).count() == entries_before
    assert balance_cents(provider_id=provider_funded.pk) == 10000 == ledger_sum(provider_id=provider_funded.pk)


def test_reject_refuses_unknown_fields(client, provider, provider_headers, shared_level):
    assignment = make_assignment(provider=provider, level=shared_level)

    response = client.post(lead_url(assignment.pk, "reject"), {"reason": "x", "status": "refunded"},
                           content_type="application/json", **provider_headers)

    assert response.status_code == 422
    assignment.refresh_from_db()
    assert assignment.status == "assigned"


@pytest.mark.parametrize("reason", ["Too\x00far", "\x00"])
def test_a_nul_character_in_the_reason_is_a_422_and_nothing_changes(client, provider, provider_headers,
                                                                  shared_level, reason):
    assignment = make_assignment(provider=provider, level=shared_level)

    response = client.post(lead_url(assignment.pk, "reject"), {"reason": reason}, content_type="application/json",
                           **provider_headers)

    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "reason"
    assignment.refresh_from_db()
    assert (assignment.status, assignment.reject_reason) == ("assigned", "")


def test_the_reject_service_itself_refuses_a_nul_character(provider, shared_level):
    from hotlead.core.exceptions import ValidationFailed

    assignment = make_assignment(provider=provider, level=shared_level)

    with pytest.raises(ValidationFailed):
        assignment_reject(provider=provider, assignment_id=assignment.pk, reason="Too\x00far")
    assignment.refresh_from_db()
    assert assignment.status == "assigned"


@pytest.mark.parametrize(
    ("start", "action", "allowed"),
    [
        ("assigned", "accept", True),
        ("assigned", "reject", True),
        ("accepted", "accept", False),
        ("accepted", "reject", False),
        ("rejected", "accept", False),
        ("rejected", "reject", False),
        ("refunded", "accept", False),
        ("refunded", "reject", False),
    ],
)
def test_transitions(client, provider, provider_headers, shared_level, start, action, allowed):
    # given
    assignment = make_assignment(provider=provider, level=shared_level, status=start)

    # when
    response = client.post(lead_url(assignment.pk, action), {"reason": "Not my kind of job"},
                           content_type="application/json", **provider_headers)

    # then
    assignment.refresh_from_db()
    if allowed:
        assert response.status_code == 200
        assert assignment.status == {"accept": "accepted", "reject": "rejected"}[action]
    else:
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"
        assert response.json()["error"]["details"] == {"status": start}
        assert assignment.status == start
        assert not AuditLog.objects.filter(action=f"assignment.{action}").exists()


def test_an_unknown_or_absurd_id_is_404_not_500(client, provider_headers):
    for assignment_id in (999999, 2**63, 10**30):
        for method, action in (("get", ""), ("post", "accept")):
            response = getattr(client, method)(lead_url(assignment_id, action), **provider_headers)
            assert response.status_code == 404, (assignment_id, action, response.content)
            assert response.json()["error"]["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
def test_concurrent_accept_and_reject_let_exactly_one_win(shared_level):
    # given
    provider = ProviderFactory()
    assignment = make_assignment(provider=provider, level=shared_level)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def act(fn, **kwargs):
        try:
            barrier.wait()
            fn(provider=provider, assignment_id=assignment.pk, **kwargs)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=act, args=(assignment_accept,)),
               threading.Thread(target=act, args=(assignment_reject,), kwargs={"reason": "Too far"})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then
    assert sorted(outcomes) == ["conflict", "ok"]
    final = Assignment.objects.get(pk=assignment.pk)
    assert final.status in ("accepted", "rejected")
    assert AuditLog.objects.filter(object_id=str(assignment.pk), action__startswith="assignment.").count() == 1


def _token_header(provider) -> str:
    from hotlead.accounts.tokens import access_token_encode

    token, _ = access_token_encode(user=provider.user, mfa=False)
    return f"Bearer {token}"

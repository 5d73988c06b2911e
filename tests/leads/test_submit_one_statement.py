"""A submission as production runs it: autocommit, the ORM broker queueing for real workers (docs/performance.md,
"Lead intake"). One round trip — one statement that checks for a duplicate and writes the lead, its history, its
code, its e-mail, the e-mail's queued job and the attempt's count, their ids drawn before in blocks — and nothing
half-written."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from hotlead.core import rows
from hotlead.core.models import RateLimitCounter
from hotlead.leads.models import Lead, LeadEvent, LeadVerification
from hotlead.leads.selectors import DUPLICATE_EVENT_DATA, DUPLICATE_FLAG, DUPLICATE_OF_ID
from hotlead.notifications.models import EmailEvent, EmailStatus
from tests.factories.leads import LeadFactory
from tests.leads.conftest import API, valid_payload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queued_for_workers(monkeypatch, settings):
    """Jobs queued in the ORM broker's table for real workers (tests otherwise run them inline)."""
    monkeypatch.setattr(Conf, "SYNC", False)
    settings.HOTLEAD = {**settings.HOTLEAD, "RATE_LIMITS": {**settings.HOTLEAD["RATE_LIMITS"],
                                                             "lead_submit_ip": "2/3600"}}


def _post(client, **overrides):
    return client.post(f"{API}/leads", valid_payload(**overrides), content_type="application/json",
                       REMOTE_ADDR="198.51.100.20")


def test_a_submission_is_one_round_trip_and_writes_every_row_with_its_job(client, roofing, queued_for_workers,
                                                                          monkeypatch):
    # given: an earlier submission with the same phone (also builds this process's statements and caches, and draws
    # a new block of ids)
    monkeypatch.setattr(rows, "_blocks", {})
    earlier = Lead.objects.get(public_id=_post(client, email="earlier@example.org").json()["id"])
    # when
    with CaptureQueriesContext(connection) as queries:
        response = _post(client)
    # then: one statement (tests read the categories and the console's limits every time; production caches them)
    assert response.status_code == 202
    statements = [q for q in queries if not q["sql"] or not any(
        table in q["sql"] for table in ('"leads_category"', '"core_ratelimitoverride"'))]
    assert len(statements) == 1, [q["sql"] for q in queries]
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.possible_duplicate and lead.duplicate_of_id == earlier.pk
    event = LeadEvent.objects.get(lead=lead)
    assert event.action == "submitted" and event.data == {"duplicate_of": str(earlier.public_id)}
    # and the statement computed what the same values in Python (the SQLite demo's) give
    found = (earlier.pk, earlier.public_id)
    assert (DUPLICATE_FLAG.python(found), DUPLICATE_OF_ID.python(found), DUPLICATE_EVENT_DATA.python(found)) == (
        lead.possible_duplicate, lead.duplicate_of_id, event.data)
    verification = LeadVerification.objects.get(lead=lead)
    email = EmailEvent.objects.get(related_id=str(lead.pk))
    assert (email.template, email.status, email.to) == ("lead_verification", EmailStatus.QUEUED, lead.email)
    assert email.dedupe_key == f"lead_verification:{verification.pk}"
    # the e-mail's delivery job is queued for the workers, naming that e-mail
    tasks = [SignedPackage.loads(job.payload) for job in OrmQ.objects.order_by("id")]
    assert tasks[-1]["func"] == "hotlead.ops.jobs.job_run"
    assert tasks[-1]["args"][:2] == ("hotlead.notifications.tasks.email_deliver", [email.pk])
    assert RateLimitCounter.objects.get().count == 2


def test_a_first_submission_is_no_duplicate_by_the_statement_as_by_python(client, roofing, queued_for_workers):
    # when: nothing like it stored
    response = _post(client, email="first@example.org", phone="+14155550123")
    # then
    assert response.status_code == 202
    lead = Lead.objects.get(public_id=response.json()["id"])
    event = LeadEvent.objects.get(lead=lead)
    assert (lead.possible_duplicate, lead.duplicate_of_id, event.data) == (False, None, {})
    assert (DUPLICATE_FLAG.python(None), DUPLICATE_OF_ID.python(None), DUPLICATE_EVENT_DATA.python(None)) == (
        False, None, {})


def test_over_the_limit_nothing_but_the_count_is_written(client, roofing, queued_for_workers):
    # given: the two submissions the address may make
    assert _post(client, email="one@example.org").status_code == 202
    assert _post(client, email="two@example.org").status_code == 202
    # when
    response = _post(client, email="three@example.org")
    # then
    assert response.status_code == 429 and response.json()["error"]["code"] == "rate_limited"
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["one@example.org", "two@example.org"]
    assert LeadEvent.objects.count() == LeadVerification.objects.count() == EmailEvent.objects.count() == 2
    assert OrmQ.objects.count() == 2
    assert RateLimitCounter.objects.get().count == 3


def test_a_reference_clash_is_drawn_again_without_a_transaction_around_it(client, roofing, queued_for_workers,
                                                                          monkeypatch):
    # given: the first reference drawn is taken
    taken = LeadFactory(category=roofing, reference="HL-33333")
    monkeypatch.setattr("hotlead.leads.services.intake.reference_generate", lambda: taken.reference)
    # when
    response = _post(client)
    # then: stored once, with one e-mail and one job; the failed try counted nothing
    assert response.status_code == 202
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.reference not in ("", taken.reference)
    assert Lead.objects.count() == 2 and EmailEvent.objects.count() == 1 and OrmQ.objects.count() == 1
    assert RateLimitCounter.objects.get().count == 1


def test_a_drawn_id_already_used_is_drawn_again_and_the_lead_stored(client, roofing, queued_for_workers,
                                                                   monkeypatch):
    # given: this process holds a block of lead ids whose next one is taken (as after a restore set the sequence back)
    monkeypatch.setattr(rows, "_blocks", {})
    assert _post(client, email="first@example.org").status_code == 202
    block = next(ids for key, ids in rows._blocks.items() if key[-1] is Lead)
    taken = LeadFactory(category=roofing, id=block[0])
    # when
    response = _post(client, email="second@example.org")
    # then: stored under an id drawn afresh, with its e-mail and job; nothing of the failed try
    assert response.status_code == 202
    lead = Lead.objects.get(public_id=response.json()["id"])
    assert lead.pk != taken.pk and Lead.objects.count() == 3
    assert EmailEvent.objects.count() == 2 and OrmQ.objects.count() == 2 and LeadVerification.objects.count() == 2


@pytest.fixture
def counters_in_redis(settings):
    """Rate-limit counters in Redis, as production with REDIS_URL (each test its own key prefix)."""
    import uuid

    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server answers at 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url,
                                   "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    settings.HOTLEAD = {**settings.HOTLEAD, "RATE_LIMITS": {**settings.HOTLEAD["RATE_LIMITS"],
                                                             "lead_submit_ip": "2/3600"}}


def test_with_counters_in_redis_the_attempt_is_counted_first_and_nothing_is_written_over_the_limit(
        client, roofing, counters_in_redis, mailoutbox):
    # given: the two submissions the address may make, stored with their e-mails (jobs run inline in tests)
    assert _post(client, email="one@example.org").status_code == 202
    assert _post(client, email="two@example.org").status_code == 202
    # when
    response = _post(client, email="three@example.org")
    # then
    assert response.status_code == 429
    assert sorted(Lead.objects.values_list("email", flat=True)) == ["one@example.org", "two@example.org"]
    assert EmailEvent.objects.count() == 2 and len(mailoutbox) == 2
    assert not RateLimitCounter.objects.exists()  # the table counter is not used beside Redis

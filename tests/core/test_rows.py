"""hotlead/core/rows.py: new rows of several tables in one statement, ids drawn in blocks; the preparing cursor."""
from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime

import psycopg._queries
import pytest
from django.apps import apps
from django.db import IntegrityError, connection, connections
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django_q.models import OrmQ

from hotlead.core import rows
from hotlead.core.models import RateLimitCounter
from hotlead.core.prepared import prepared_cursor
from hotlead.core.ratelimit import rate_limit_count
from hotlead.core.rows import ID_BLOCK, FromRead, Row, ids_draw, rows_insert
from hotlead.core.rows import _as_is as rows_as_is
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead, LeadEvent, LeadVerification
from hotlead.notifications.models import EmailEvent
from tests.factories.leads import CategoryFactory, LeadFactory


def _rows(category, *, reference="HL-ROWS1"):
    lead_id, verification_id = ids_draw(Lead, LeadVerification)
    lead = Lead(pk=lead_id, reference=reference, name="Pat Rows", email="pat@example.org", phone="+14155550100",
                postal_code="94110", category=category, description="A leak.", budget_cents=250000,
                consent_text_version="2026-01", consent_at=timezone.now(), consent_ip="203.0.113.9",
                status=LeadStatus.PENDING_VERIFICATION, status_changed_at=timezone.now(), possible_duplicate=True)
    event = LeadEvent(lead=lead, to_status=LeadStatus.PENDING_VERIFICATION, action="submitted",
                      data={"duplicate_of": "x", "nested": [1, None, True]})
    verification = LeadVerification(pk=verification_id, lead=lead, code_hash="c" * 64, link_token_hash="l" * 64,
                                    expires_at=timezone.now())
    return lead, event, verification


def _stored(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


@pytest.mark.django_db
def test_rows_of_three_tables_are_written_by_one_statement_with_the_values_save_would_store():
    # given
    lead, event, verification = _rows(CategoryFactory())
    # when
    with CaptureQueriesContext(connection) as queries:
        rows_insert([lead, event, verification])
    # then: one round trip (logged with its text), and every column as the instances hold it (timestamps set as
    # save() sets them)
    assert len(queries) == 1 and queries[0]["sql"].startswith("WITH row_0 AS (INSERT INTO")
    assert lead.created_at is not None and event.created_at is not None
    assert _stored(Lead.objects.get(pk=lead.pk)) == _stored(lead)
    assert _stored(LeadVerification.objects.get(pk=verification.pk)) == _stored(verification)
    assert _stored(LeadEvent.objects.get(lead=lead)) == _stored(event) | {"id": LeadEvent.objects.get().id}
    # and the instances behave as saved ones: a later save() updates the row
    lead.name = "Pat Renamed"
    lead.save(update_fields=["name"])
    assert Lead.objects.get(pk=lead.pk).name == "Pat Renamed"


@pytest.mark.django_db
def test_drawn_ids_are_new_and_the_table_keeps_counting_past_them():
    # given
    existing = LeadFactory()
    # when
    first, second = ids_draw(Lead, Lead)
    later = LeadFactory()
    # then: never an id the table gave or gives (a block is reserved from its sequence), and in order in a process
    assert first < second and existing.pk not in (first, second)
    assert later.pk > second


@pytest.mark.django_db
def test_ids_are_drawn_a_block_at_a_time_for_every_table_short_of_them(monkeypatch):
    # given: the sequences' names looked up (once per process), and no block in this process yet
    ids_draw(Lead, EmailEvent)
    monkeypatch.setattr(rows, "_blocks", {})
    # when: two blocks' worth of ids
    with CaptureQueriesContext(connection) as queries:
        drawn = [ids_draw(Lead, EmailEvent) for _ in range(2 * ID_BLOCK)]
    # then: two round trips (both tables in each), every id new, in order
    assert len(queries) == 2 and all("generate_series" in q["sql"] for q in queries)
    leads, emails = [pair[0] for pair in drawn], [pair[1] for pair in drawn]
    assert len(set(leads)) == len(set(emails)) == 2 * ID_BLOCK
    assert leads == sorted(leads) and emails == sorted(emails)


@pytest.mark.django_db(transaction=True)
def test_threads_drawing_at_once_never_get_the_same_id():
    # given: threads of one process (one block per table, shared), each with its own connection
    drawn: list[list[int]] = []
    start = threading.Barrier(4)

    def draw():
        start.wait()
        try:
            drawn.append([ids_draw(LeadVerification)[0] for _ in range(3 * ID_BLOCK)])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=draw) for _ in range(4)]
    # when
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then
    ids = [i for ids in drawn for i in ids]
    assert len(drawn) == 4 and len(ids) == len(set(ids)) == 12 * ID_BLOCK


_FOUND = FromRead("COALESCE((SELECT reference FROM found), 'none')", lambda row: row[1] if row else "none")
_FLAG = FromRead("EXISTS (SELECT 1 FROM found)", lambda row: row is not None)


@pytest.mark.django_db
def test_a_read_goes_with_the_rows_and_their_values_from_it_are_computed_by_the_statement():
    # given: a stored lead to find, and a new lead whose flag and whose event's action come from the read
    category = CategoryFactory()
    stored = LeadFactory(category=category, reference="HL-FOUND")
    reading = ("SELECT id, reference FROM leads_lead WHERE reference = %s", ["HL-FOUND"])
    lead, _, _ = _rows(category)
    lead.possible_duplicate = _FLAG
    event = Row(LeadEvent, {"lead_id": lead.pk, "action": _FOUND})
    # when
    with CaptureQueriesContext(connection) as queries:
        written = rows_insert([lead, event], read=reading)
    # then: one round trip; the row found told; the values computed by the statement, the instance's too
    assert len(queries) == 1
    assert written == (None, (stored.pk, "HL-FOUND"))
    assert LeadEvent.objects.get(lead_id=lead.pk).action == "HL-FOUND"
    assert Lead.objects.get(pk=lead.pk).possible_duplicate is True and lead.possible_duplicate is True


@pytest.mark.django_db(transaction=True)
def test_a_read_that_finds_nothing_gives_the_values_for_nothing_and_goes_with_a_gate():
    # given: a read that finds no row, and a gate
    category = CategoryFactory()
    count = rate_limit_count(scope="lead_submit_ip", key="198.51.100.2", rule="5/3600")
    lead, _, _ = _rows(category)
    lead.possible_duplicate = _FLAG
    reading = ("SELECT id, reference FROM leads_lead WHERE reference = %s", ["HL-NOPE"])
    # when
    written = rows_insert([lead, Row(LeadEvent, {"lead_id": lead.pk, "action": _FOUND})], gate=count.gate,
                          read=reading)
    # then
    assert written == (1, None)
    assert LeadEvent.objects.get(lead_id=lead.pk).action == "none"
    assert Lead.objects.get(pk=lead.pk).possible_duplicate is False and lead.possible_duplicate is False


@pytest.mark.django_db
def test_a_value_from_a_read_without_a_read_is_refused():
    category = CategoryFactory()
    lead, _, _ = _rows(category)
    lead.possible_duplicate = _FLAG
    with pytest.raises(ValueError, match="a value from a read, and no read"):
        rows_insert([lead])
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_a_row_nobody_points_to_takes_its_id_from_the_table():
    # given: no id drawn for the queue row
    job = OrmQ(key="hotlead-test", payload="p", lock=timezone.now())
    # when
    rows_insert([job])
    # then
    assert OrmQ.objects.get().payload == "p"


@pytest.mark.django_db(transaction=True)
def test_a_gate_over_its_limit_writes_only_its_own_statement():
    # given: a limit of one attempt
    category = CategoryFactory()
    first = rate_limit_count(scope="lead_submit_ip", key="198.51.100.1", rule="1/3600")
    # when: the first attempt passes, the second does not
    passed, _ = rows_insert(list(_rows(category, reference="HL-GATE1")), gate=first.gate)
    second = rate_limit_count(scope="lead_submit_ip", key="198.51.100.1", rule="1/3600")
    refused, _ = rows_insert(list(_rows(category, reference="HL-GATE2")), gate=second.gate)
    # then: each attempt counted, the rows of the refused one not written (not even partly)
    assert (passed, refused) == (1, 2)
    assert list(Lead.objects.values_list("reference", flat=True)) == ["HL-GATE1"]
    assert LeadEvent.objects.count() == 1 and LeadVerification.objects.count() == 1
    assert RateLimitCounter.objects.get().count == 2


@pytest.mark.django_db(transaction=True)
def test_a_statement_that_fails_writes_none_of_its_rows():
    # given: the last row clashes with a stored reference
    category = CategoryFactory()
    LeadFactory(category=category, reference="HL-TAKEN")
    lead, event, verification = _rows(category, reference="HL-TAKEN")
    # when
    with pytest.raises(IntegrityError, match="reference"):
        rows_insert([event, verification, lead])
    # then
    assert Lead.objects.count() == 1 and not LeadEvent.objects.exists() and not LeadVerification.objects.exists()


@pytest.mark.django_db
def test_the_preparing_cursor_prepares_and_converts_its_text_once():
    # given: a statement over psycopg's own cache limits (4 KB or 50 parameters)
    sql = "SELECT " + ", ".join(["%s::integer"] * 60)
    psycopg._queries._query2pg.cache_clear()
    # when
    for _ in range(3):
        with prepared_cursor() as cursor:
            cursor.execute(sql, list(range(60)))
            assert cursor.fetchone()[59] == 59
    # then: prepared once on the server (Django opens connections with preparing off) and parsed once here
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE 'SELECT $1::integer%%'")
        assert cursor.fetchone()[0] == 1
    cache = psycopg._queries._query2pg.cache_info()
    assert (cache.misses, cache.hits) == (1, 2)


@pytest.mark.django_db
def test_a_model_with_save_receivers_is_refused_rather_than_its_receivers_skipped():
    # given
    def receiver(**kwargs):
        pass

    post_save.connect(receiver, sender=OrmQ)
    try:
        # when / then
        with pytest.raises(ValueError, match="save signal receivers"):
            rows_insert([OrmQ(key="k", payload="p", lock=timezone.now())])
    finally:
        post_save.disconnect(receiver, sender=OrmQ)
    assert not OrmQ.objects.exists()


_SAMPLES = {str: ["", "Pat", "ü\u202e"], int: [0, -7, 2**40], bool: [True, False], uuid.UUID: [uuid.uuid4()],
            datetime: [datetime(2026, 1, 31, 12, 30, tzinfo=UTC), timezone.now()]}


def test_every_value_written_as_it_is_is_what_the_field_would_have_written():
    # given every concrete field of every model, with a value of each type rows_insert writes without the field
    checked = 0
    for model in apps.get_models():
        for field in model._meta.local_concrete_fields:
            kinds, typed = rows_as_is(field)
            for kind in kinds:
                for value in [*_SAMPLES[kind], None]:
                    # then the field's own conversion gives what rows_insert writes (same value, same type)
                    prepared = field.get_db_prep_save(value, connection)
                    written = value if typed is None or value is None else typed(value)
                    assert prepared == written and type(prepared) is type(written), (model, field.name, value)
                    checked += 1
    # and the table is in use: the lead's own columns are among those checked
    assert {f.name for f in Lead._meta.local_concrete_fields if rows_as_is(f)[0]} >= {
        "id", "name", "email", "status", "category", "possible_duplicate", "public_id", "consent_at"}
    assert checked > 500


@pytest.mark.django_db
def test_a_value_of_another_type_still_goes_through_the_field():
    # given a lead whose budget is text, a naive datetime and a lazy text (not written as they are)
    category = CategoryFactory()
    lead, event, verification = _rows(category)
    lead.budget_cents = "125000"
    lead.name = gettext_lazy("Pat Lazy")
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        verification.expires_at = datetime(2026, 1, 31, 12, 30)  # noqa: DTZ001 - naive on purpose
        # when they are written
        rows_insert([lead, event, verification])
    # then each was converted by its field as save() converts it
    stored = Lead.objects.get(pk=lead.pk)
    assert stored.budget_cents == 125000 and stored.name == "Pat Lazy"
    assert LeadVerification.objects.get(pk=verification.pk).expires_at.tzinfo is not None


@pytest.mark.django_db
def test_a_row_given_by_its_values_is_stored_as_save_would_store_the_same_object():
    # given a lead, and an event of it given once as a Row (values by attribute, defaults left out)
    category = CategoryFactory()
    lead, _, _ = _rows(category)
    rows_insert([lead])
    before = timezone.now()
    rows_insert([Row(LeadEvent, {"lead_id": lead.pk, "action": "code_resent", "data": {"n": [1, None]}})])
    # and once as an object saved by Django
    saved = LeadEvent(lead=lead, action="code_resent", data={"n": [1, None]})
    saved.save()
    # then both rows hold the same values: the defaults, the data, and now as the creation time
    written = LeadEvent.objects.exclude(pk=saved.pk).get()
    differing = {name for name, value in _stored(written).items() if value != _stored(saved)[name]}
    assert differing == {"id", "created_at"}
    assert before <= written.created_at <= saved.created_at


@pytest.mark.django_db
def test_a_row_naming_a_column_the_model_does_not_have_is_refused_and_nothing_is_written():
    category = CategoryFactory()
    lead, _, _ = _rows(category)
    with pytest.raises(ValueError, match="leads.LeadEvent has no column lead"):
        rows_insert([lead, Row(LeadEvent, {"lead": lead, "action": "submitted"})])
    assert not Lead.objects.exists()

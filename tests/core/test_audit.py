"""The audit log: one service to write it, a database that refuses to change it, a read-only console page."""
import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from hotlead.core.middleware import origin_of
from hotlead.core.models import AuditLog
from hotlead.core.origin import origin_bound
from hotlead.core.request_context import request_id_var
from hotlead.core.services import audit_record
from tests.factories.ops import DeadLetterFactory

pytestmark = pytest.mark.django_db


def test_audit_record_stores_actor_object_changes_and_request_facts(staff_user):
    # given
    dead = DeadLetterFactory()
    request = RequestFactory().post("/admin/x", HTTP_USER_AGENT="Mozilla/5.0 (test)", REMOTE_ADDR="203.0.113.9")
    request.request_id = "req-audit-1"
    request.user = staff_user
    # when
    with origin_bound(origin_of(request)):
        entry = audit_record(action="dead_letter.resolved", actor=request.user, obj=dead,
                             changes={"status": ["open", "resolved"]})
    # then
    entry.refresh_from_db()
    assert entry.actor == staff_user and entry.actor_label == staff_user.email
    assert entry.action == "dead_letter.resolved"
    assert entry.object_type == "ops.deadletter" and entry.object_id == str(dead.pk)
    assert entry.changes == {"status": ["open", "resolved"]}
    assert entry.ip == "203.0.113.9" and entry.user_agent == "Mozilla/5.0 (test)"
    assert entry.request_id == "req-audit-1" and entry.created_at is not None


def test_audit_record_without_a_request_is_the_system_with_the_current_request_id():
    token = request_id_var.set("job-42")
    try:
        entry = audit_record(action="reconciliation.corrected", object_type="billing.account", object_id=7)
    finally:
        request_id_var.reset(token)
    assert entry.actor is None and entry.actor_label == "system"
    assert entry.object_type == "billing.account" and entry.object_id == "7"
    assert entry.ip is None and entry.user_agent == "" and entry.request_id == "job-42"


def test_audit_record_truncates_a_long_user_agent(staff_user):
    request = RequestFactory().get("/", HTTP_USER_AGENT="x" * 1000)
    request.user = staff_user
    assert len(audit_record(action="a", actor=request.user, origin=origin_of(request)).user_agent) == 400


def test_audit_record_joins_the_callers_transaction(staff_user):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="lead.approved", actor=staff_user)
        raise RuntimeError("the approval failed")
    assert not AuditLog.objects.exists()


@pytest.mark.parametrize("statement", [
    "UPDATE core_auditlog SET action = 'tampered' WHERE id = %s",
    "DELETE FROM core_auditlog WHERE id = %s",
])
def test_the_database_refuses_to_change_or_delete_an_entry(staff_user, statement):
    # given
    entry = audit_record(action="deposit.recorded", actor=staff_user)
    # when / then: raw SQL, bypassing the ORM, is refused by the trigger
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.action == "deposit.recorded"
    assert AuditLog.objects.count() == 1


def test_the_orm_cannot_change_an_entry_either(staff_user):
    entry = audit_record(action="deposit.recorded", actor=staff_user)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).update(action="tampered")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditLog.objects.filter(pk=entry.pk).delete()
    assert AuditLog.objects.get().action == "deposit.recorded"


def test_the_console_lists_entries_read_only(staff_console, staff_user):
    # given
    entry = audit_record(action="dead_letter.retried", actor=staff_user, object_type="ops.deadletter", object_id=9)
    # when
    listing = staff_console.get("/admin/core/auditlog/")
    detail = staff_console.get(f"/admin/core/auditlog/{entry.pk}/change/")
    # then
    assert listing.status_code == 200 and b"dead_letter.retried" in listing.content
    assert detail.status_code == 200
    assert b'name="_save"' not in detail.content
    assert staff_console.get("/admin/core/auditlog/add/").status_code == 403
    assert staff_console.post(f"/admin/core/auditlog/{entry.pk}/change/", {"action": "x"}).status_code == 403
    assert staff_console.get(f"/admin/core/auditlog/{entry.pk}/delete/").status_code == 403
    assert staff_console.post("/admin/core/auditlog/", {"action": "delete_selected",
                                                        "_selected_action": [entry.pk], "post": "yes"}).status_code \
        in (200, 302)
    entry.refresh_from_db()
    assert AuditLog.objects.get().action == "dead_letter.retried"

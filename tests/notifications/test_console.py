"""The e-mail events page: read-only list with filters; failed ones can be sent again, with confirmation."""
import pytest
from django.core import mail

from hotlead.notifications.models import EmailEvent, EmailStatus

pytestmark = pytest.mark.django_db
LIST = "/admin/notifications/emailevent/"


def _event(**fields):
    values = {"template": "test_notice", "to": "jane@example.com", "context": {"name": "Jane", "order": "A-1"},
              "status": EmailStatus.SENT, "attempts": 1}
    return EmailEvent.objects.create(**{**values, **fields})


def test_the_list_filters_by_status_and_template(staff_console):
    # given
    failed = _event(status=EmailStatus.FAILED, attempts=5, error="SMTPServerDisconnected: closed", to="f@example.com")
    _event(to="sent@example.com")
    _event(template="welcome", status=EmailStatus.QUEUED, to="w@example.com")
    # when
    only_failed = staff_console.get(LIST, {"status__exact": "failed"})
    only_welcome = staff_console.get(LIST, {"template": "welcome"})
    # then
    assert only_failed.status_code == 200
    assert list(only_failed.context["cl"].result_list) == [failed]
    assert [e.to for e in only_welcome.context["cl"].result_list] == ["w@example.com"]
    assert b"SMTPServerDisconnected" in only_failed.content


def test_the_page_is_read_only(staff_console):
    event = _event()
    assert staff_console.get(f"{LIST}add/").status_code == 403
    detail = staff_console.get(f"{LIST}{event.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert staff_console.get(f"{LIST}{event.pk}/delete/").status_code == 403


def test_sealed_values_are_not_shown(staff_console):
    event = _event(context={"name": "Jane", "code_sealed": "gAAAAB-secret-ciphertext"})
    detail = staff_console.get(f"{LIST}{event.pk}/change/")
    assert b"gAAAAB-secret-ciphertext" not in detail.content and b"(sealed)" in detail.content


def test_resend_asks_first_then_sends_a_failed_email(staff_console, django_capture_on_commit_callbacks):
    # given
    event = _event(status=EmailStatus.FAILED, attempts=5, error="SMTPServerDisconnected: closed")
    # when
    confirm = staff_console.get(f"{LIST}{event.pk}/resend-row/")
    # then
    assert confirm.status_code == 200 and b"Yes, send again" in confirm.content and mail.outbox == []
    # when
    with django_capture_on_commit_callbacks(execute=True):
        done = staff_console.post(f"{LIST}{event.pk}/resend-row/", {"confirm": "yes"})
    # then
    assert done.status_code == 302
    event.refresh_from_db()
    assert event.status == EmailStatus.SENT and event.attempts == 6 and len(mail.outbox) == 1


def test_bulk_resend_skips_emails_that_did_not_fail(staff_console, django_capture_on_commit_callbacks):
    failed = _event(status=EmailStatus.FAILED, attempts=5)
    sent = _event()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_console.post(LIST, {"action": "resend_selected", "_selected_action": [failed.pk, sent.pk],
                                             "confirm": "yes"}, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert f"Queued again: #{failed.pk}." in messages
    assert any(f"#{sent.pk}: Only a failed e-mail can be sent again." in m for m in messages)
    assert len(mail.outbox) == 1

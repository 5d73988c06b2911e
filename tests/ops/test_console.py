"""The console's operations pages: dead letters with confirmed retry/resolve, django-q2's pages in unfold."""
import pytest
from django.contrib import admin
from django.utils import timezone
from django_q.models import Failure, OrmQ, Schedule, Success
from unfold.admin import ModelAdmin

from hotlead.core.models import AuditLog
from hotlead.ops.models import DeadLetter, DeadLetterStatus
from tests.factories.ops import DeadLetterFactory
from tests.ops import jobs

pytestmark = pytest.mark.django_db
LIST = "/admin/ops/deadletter/"


def test_the_dead_letter_list_shows_failures_read_only(staff_console):
    dead = DeadLetterFactory(func="tests.ops.jobs.always_fails", task_name="always_fails")
    response = staff_console.get(LIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "always_fails" in html and "RuntimeError: the peer did not answer" in html
    assert f"{LIST}{dead.pk}/retry-row/" in html and f"{LIST}{dead.pk}/resolve-row/" in html
    assert staff_console.get(f"{LIST}add/").status_code == 403
    detail = staff_console.get(f"{LIST}{dead.pk}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert f"{LIST}{dead.pk}/retry/".encode() in detail.content


def test_a_row_retry_asks_first_then_runs_the_job(staff_console, staff_user, django_capture_on_commit_callbacks):
    # given
    dead = DeadLetterFactory(args=["row"])
    # when: the link only shows a confirmation page
    confirm = staff_console.get(f"{LIST}{dead.pk}/retry-row/")
    # then
    assert confirm.status_code == 200 and b"Yes, retry" in confirm.content
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN and jobs.calls == []
    # when: confirmed
    with django_capture_on_commit_callbacks(execute=True):
        done = staff_console.post(f"{LIST}{dead.pk}/retry-row/", {"confirm": "yes"})
    # then
    assert done.status_code == 302 and done["Location"] == LIST
    assert jobs.calls == [(("row",), {})]
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.RESOLVED and dead.retry_count == 1
    assert AuditLog.objects.filter(action="dead_letter.retried", actor=staff_user).count() == 1


def test_a_detail_resolve_keeps_the_note(staff_console):
    dead = DeadLetterFactory()
    response = staff_console.post(f"{LIST}{dead.pk}/resolve/", {"confirm": "yes", "note": "Customer told by phone"})
    assert response.status_code == 302 and response["Location"] == f"{LIST}{dead.pk}/change/"
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.RESOLVED and dead.note == "Customer told by phone"


def test_bulk_resolve_confirms_then_resolves_and_reports_what_it_could_not(staff_console):
    # given
    first, second = DeadLetterFactory(), DeadLetterFactory()
    already = DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now())
    selected = [first.pk, second.pk, already.pk]
    # when: the bulk action shows the confirmation page
    confirm = staff_console.post(LIST, {"action": "resolve_selected", "_selected_action": selected})
    # then
    assert confirm.status_code == 200 and b"Resolve 3 failed jobs?" in confirm.content
    assert DeadLetter.objects.filter(status=DeadLetterStatus.OPEN).count() == 2
    # when: confirmed
    done = staff_console.post(LIST, {"action": "resolve_selected", "_selected_action": selected, "confirm": "yes",
                                     "note": "bulk"}, follow=True)
    # then
    assert not DeadLetter.objects.filter(status=DeadLetterStatus.OPEN).exists()
    messages = [str(m) for m in done.context["messages"]]
    assert f"Resolved: #{first.pk}, #{second.pk}." in messages
    assert any(f"#{already.pk}: This failed job is already resolved." in m for m in messages)
    assert AuditLog.objects.filter(action="dead_letter.resolved").count() == 2


def test_bulk_retry_runs_each_job(staff_console, django_capture_on_commit_callbacks):
    letters = [DeadLetterFactory(args=[n]) for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        staff_console.post(LIST, {"action": "retry_selected", "_selected_action": [d.pk for d in letters],
                                  "confirm": "yes"})
    assert sorted(call[0][0] for call in jobs.calls) == [0, 1, 2]


def test_a_staff_member_without_the_permission_sees_no_actions(client, django_capture_on_commit_callbacks):
    # given: staff (with MFA) who may only view failed jobs
    from django.contrib.auth.models import Permission
    from django_otp import DEVICE_ID_SESSION_KEY

    from tests.factories.accounts import StaffFactory, totp_device_for

    viewer = StaffFactory(is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_deadletter"))
    device = totp_device_for(viewer)
    client.force_login(viewer)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    dead = DeadLetterFactory()
    # when
    listing = client.get(LIST)
    attempt = client.post(f"{LIST}{dead.pk}/retry-row/", {"confirm": "yes"})
    # then
    assert listing.status_code == 200 and b"retry-row" not in listing.content
    assert attempt.status_code == 403
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN and jobs.calls == []


@pytest.mark.parametrize("model", [Schedule, Success, Failure, OrmQ])
def test_django_q2_pages_are_in_unfold_style(staff_console, model):
    assert isinstance(admin.site._registry[model], ModelAdmin)
    url = f"/admin/django_q/{model._meta.model_name}/"
    assert staff_console.get(url).status_code == 200


def test_the_schedule_page_lists_our_schedules(staff_console):
    from hotlead.ops.services import schedules_sync

    schedules_sync()
    response = staff_console.get("/admin/django_q/schedule/")
    assert b"hotlead.ops.dead_letter_cleanup" in response.content

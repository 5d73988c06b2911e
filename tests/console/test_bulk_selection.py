"""A bulk action's selection comes from the form: a hand-made value gets a message, never a server error."""
from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages

from hotlead.leads.models import Lead
from tests.factories.leads import LeadFactory

pytestmark = pytest.mark.django_db

BAD_VALUES = ["x", "1 OR 1=1", "", "1.5", "\x00"]


@pytest.mark.parametrize("bad", BAD_VALUES, ids=["letters", "sql", "empty", "decimal", "nul"])
@pytest.mark.parametrize(("changelist", "action"), [
    ("/admin/leads/lead/", "approve_selected"),
    ("/admin/leads/lead/", "reject_selected"),
    ("/admin/refunds/badleadreport/", "approve_selected"),
    ("/admin/ops/deadletter/", "retry_selected"),
    ("/admin/notifications/emailevent/", "resend_selected"),
])
def test_a_selection_that_is_not_an_id_is_refused_with_a_message(staff_console, changelist, action, bad):
    lead = LeadFactory(status="pending_review")

    response = staff_console.post(changelist, {"action": action, "index": "0", ACTION_CHECKBOX_NAME: [lead.pk, bad]})

    # then: back to the list with the reason, and nothing was done to the valid row either
    assert response.status_code == 302 and response["Location"] == changelist
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The selection is not valid: choose the rows again."]
    assert Lead.objects.get(pk=lead.pk).status == "pending_review"


def test_a_valid_selection_still_reaches_the_action(staff_console):
    lead = LeadFactory(status="pending_review")
    response = staff_console.post("/admin/leads/lead/", {"action": "approve_selected", "index": "0",
                                                          ACTION_CHECKBOX_NAME: [lead.pk]})
    assert response.status_code == 200 and "Approve 1 lead?" in response.content.decode()


def test_an_id_beyond_any_row_selects_nothing_more(staff_console):
    lead = LeadFactory(status="pending_review")
    response = staff_console.post("/admin/leads/lead/", {"action": "approve_selected", "index": "0",
                                                          ACTION_CHECKBOX_NAME: [lead.pk, "99999999999999999999"]})
    assert response.status_code == 200 and "Approve 1 lead?" in response.content.decode()

"""The lead lifecycle of SPEC §3: every allowed move works and writes history; every other one is a 409."""
from __future__ import annotations

import pytest

from hotlead.core.exceptions import Conflict
from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Lead, LeadEvent
from hotlead.leads.services.lifecycle import lead_transition
from tests.factories.leads import LeadFactory

pytestmark = pytest.mark.django_db

# Written out from SPEC §3, not read from the code under test.
SPEC_MOVES = {
    ("pending_verification", "verified"),
    ("pending_verification", "expired"),
    ("verified", "pending_review"),
    ("pending_review", "approved"),
    ("pending_review", "rejected"),
    ("approved", "distributed"),
    ("approved", "unsold"),
    ("unsold", "distributed"),
    ("unsold", "unsold"),
}
ALL_PAIRS = [(a, b) for a in LeadStatus.values for b in LeadStatus.values]


@pytest.mark.parametrize(("from_status", "to_status"), sorted(SPEC_MOVES))
def test_an_allowed_move_changes_the_status_and_writes_history(staff_user, from_status, to_status):
    lead = LeadFactory(status=from_status)

    lead_transition(lead_id=lead.pk, to_status=to_status, action="test_move", actor=staff_user, note="why")

    lead.refresh_from_db()
    assert lead.status == to_status and lead.status_changed_at is not None
    assert list(LeadEvent.objects.filter(lead=lead).values_list("from_status", "to_status", "action", "actor",
                                                                 "note")) == [
        (from_status, to_status, "test_move", staff_user.pk, "why")]


@pytest.mark.parametrize(("from_status", "to_status"), sorted(set(ALL_PAIRS) - SPEC_MOVES))
def test_any_other_move_is_a_conflict_and_changes_nothing(from_status, to_status):
    lead = LeadFactory(status=from_status)

    with pytest.raises(Conflict) as raised:
        lead_transition(lead_id=lead.pk, to_status=to_status, action="test_move")

    assert raised.value.http_status == 409
    assert raised.value.details == {"status": from_status, "requested": to_status}
    assert Lead.objects.get(pk=lead.pk).status == from_status
    assert not LeadEvent.objects.filter(lead=lead).exists()


def test_transition_can_set_further_fields_with_the_status(db):
    lead = LeadFactory(status="approved")

    lead_transition(lead_id=lead.pk, to_status="distributed", action="distributed", changes={"buyers_count": 2})

    assert Lead.objects.values_list("status", "buyers_count").get(pk=lead.pk) == ("distributed", 2)

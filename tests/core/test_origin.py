"""Request facts reach the domain as an Origin: built once per request by the middleware, empty elsewhere."""
import pytest

from hotlead.core.models import AuditLog
from hotlead.core.origin import Origin, current_origin, origin_bound
from hotlead.core.services import audit_record
from tests.factories.ops import DeadLetterFactory


def test_outside_a_request_the_origin_is_empty():
    assert current_origin() == Origin(client_ip="", user_agent="", request_id="")


def test_a_bound_origin_is_read_inside_the_block_and_forgotten_after():
    origin = Origin(client_ip="198.51.100.7", user_agent="job", request_id="r-1")
    with origin_bound(origin):
        assert current_origin() is origin
        with origin_bound(Origin(request_id="inner")):
            assert current_origin().request_id == "inner"
        assert current_origin() is origin
    assert current_origin() == Origin()


def test_an_origin_cannot_be_changed():
    with pytest.raises(AttributeError):
        Origin().client_ip = "1.2.3.4"


@pytest.mark.django_db
def test_an_action_through_the_api_audits_the_requests_address_agent_and_id(client, staff_headers, staff_user,
                                                                             settings):
    # given: one proxy in front of the app
    settings.HOTLEAD_PROXY_COUNT = 1
    dead = DeadLetterFactory(args=["again"])
    # when
    response = client.post(f"/api/v1/admin/queues/dlq/{dead.pk}/retry", REMOTE_ADDR="10.0.0.2",
                           HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7", HTTP_USER_AGENT="ops-cli/1.0",
                           HTTP_X_REQUEST_ID="req-origin-1", **staff_headers)
    # then: the entry carries the request's facts; after the request nothing is left bound
    assert response.status_code == 200
    audit = AuditLog.objects.get(action="dead_letter.retried")
    assert (audit.actor, audit.ip, audit.user_agent, audit.request_id) == (
        staff_user, "198.51.100.7", "ops-cli/1.0", "req-origin-1")
    assert current_origin() == Origin()


@pytest.mark.django_db
def test_an_explicit_origin_wins_over_the_bound_one():
    with origin_bound(Origin(client_ip="10.0.0.1", request_id="bound")):
        entry = audit_record(action="x", obj=DeadLetterFactory(), origin=Origin(client_ip="unknown", user_agent="a"))
    assert (entry.ip, entry.user_agent, entry.request_id) == (None, "a", "")

"""A NUL character in the address is a 400 on every page (PostgreSQL cannot compare text holding it)."""
import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("query", ["status=%00", "status__exact=pending%00", "q=a%00b", "%00=1"])
def test_a_console_filter_with_a_nul_character_is_a_400_not_a_500(staff_console, query):
    staff_console.raise_request_exception = False
    response = staff_console.get(f"/admin/leads/lead/?{query}")
    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_a_path_with_a_nul_character_is_a_400(staff_console):
    staff_console.raise_request_exception = False
    assert staff_console.get("/admin/leads/lead/1%00/change/").status_code == 400
    assert staff_console.get("/portal/leads/%00/").status_code == 400


def test_ordinary_addresses_are_untouched(staff_console):
    assert staff_console.get("/admin/leads/lead/?status=pending_review&q=jane").status_code == 200


def test_the_api_answers_for_itself_with_the_spec_body(client, staff_headers):
    response = client.get("/api/v1/admin/leads?q=%00", **staff_headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["type"] == "null_character"

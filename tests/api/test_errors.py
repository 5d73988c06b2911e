"""Every error status through the real API (URLconf, middleware, parser, handlers): the SPEC §8 body.

Real endpoints where one raises the error (the admin queues API); the test-only probes of
tests/api/probe.py for an unexpected exception (500) and a rate limit (429).
"""
import json
import logging

import pytest

from hotlead.core.logging import JsonFormatter, RequestContextFilter
from hotlead.ops.enums import DeadLetterStatus
from tests.factories.ops import DeadLetterFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


def assert_error_body(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


# --- 400 ------------------------------------------------------------------------------------------

def test_400_for_a_domain_rule(client, staff_headers):
    # given: a failed job whose function was removed in a later release
    dead = DeadLetterFactory(func="hotlead.gone.tasks.old_job")
    # when
    response = client.post(f"{API}/admin/queues/dlq/{dead.pk}/retry", **staff_headers)
    # then
    error = assert_error_body(response, 400, "task_unknown")
    assert error["details"] == {"func": "hotlead.gone.tasks.old_job"}


@pytest.mark.parametrize("raw", [b"{not json", b'{"note": "unterminated', b"\xff\xfe", b"[1, 2"])
def test_400_for_malformed_json(client, staff_headers, raw):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/admin/queues/dlq/{dead.pk}/resolve", raw, content_type="application/json",
                           **staff_headers)
    assert_error_body(response, 400, "malformed_json")
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN


# --- 401 / 403 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer not-a-jwt"},
                                     {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}])
def test_401_without_a_valid_token(client, headers):
    response = client.get(f"{API}/admin/queues", **headers)
    assert_error_body(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


def test_403_for_a_provider_on_an_admin_endpoint(client, provider_headers):
    assert_error_body(client.get(f"{API}/admin/queues", **provider_headers), 403, "forbidden")


# --- 404 / 405 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/no-such-endpoint", "/admin/queues/nope", "/", "/admin/queues/dlq/abc/x/y"])
def test_404_for_an_unknown_path_under_the_api(client, path):
    assert_error_body(client.get(f"{API}{path}"), 404, "not_found")


def test_404_for_a_missing_object(client, staff_headers):
    error = assert_error_body(client.get(f"{API}/admin/queues/dlq/987654321", **staff_headers), 404, "not_found")
    assert error["message"] == "No such failed job."


def test_405_for_a_wrong_method_on_a_known_path(client, staff_headers):
    response = client.delete(f"{API}/admin/queues", **staff_headers)
    assert_error_body(response, 405, "method_not_allowed")
    assert response["Allow"] == "GET"
    response = client.get(f"{API}/admin/queues/dlq/1/retry", **staff_headers)
    assert_error_body(response, 405, "method_not_allowed")
    assert response["Allow"] == "POST"


# --- 409 ------------------------------------------------------------------------------------------

def test_409_for_a_transition_the_state_does_not_allow(client, staff_headers):
    from django.utils import timezone

    dead = DeadLetterFactory(status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now())
    assert_error_body(client.post(f"{API}/admin/queues/dlq/{dead.pk}/retry", **staff_headers), 409, "conflict")
    assert_error_body(client.post(f"{API}/admin/queues/dlq/{dead.pk}/resolve", **staff_headers), 409, "conflict")


# --- 415: a body that is not JSON -----------------------------------------------------------------

@pytest.mark.parametrize("content_type, body", [
    ("text/plain", '{"note": "looks like JSON"}'),
    ("application/x-www-form-urlencoded", "note=hello"),
    ("application/xml", "<note>hello</note>"),
])
def test_415_for_a_body_in_another_media_type(client, staff_headers, content_type, body):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/admin/queues/dlq/{dead.pk}/resolve", body, content_type=content_type,
                           **staff_headers)
    error = assert_error_body(response, 415, "unsupported_media_type")
    assert error["details"] == {"content_type": content_type, "expected": "application/json"}
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN and dead.note == ""


def test_json_with_a_charset_or_a_json_suffix_is_accepted(client, staff_headers):
    first, second = DeadLetterFactory(), DeadLetterFactory()
    ok = client.post(f"{API}/admin/queues/dlq/{first.pk}/resolve", '{"note": "a"}',
                     content_type="application/json; charset=utf-8", **staff_headers)
    ok_suffix = client.post(f"{API}/admin/queues/dlq/{second.pk}/resolve", '{"note": "b"}',
                            content_type="application/merge-patch+json", **staff_headers)
    assert ok.status_code == 200 and ok_suffix.status_code == 200


# --- 422 ------------------------------------------------------------------------------------------

def test_422_lists_each_bad_field(client, staff_headers):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/admin/queues/dlq/{dead.pk}/resolve",
                           json.dumps({"note": 12, "priority": "high"}), content_type="application/json",
                           **staff_headers)
    error = assert_error_body(response, 422, "validation_error")
    fields = {f["field"]: f["message"] for f in error["details"]["fields"]}
    assert fields == {"note": "Input should be a valid string", "priority": "Extra inputs are not permitted"}


def test_422_for_a_bad_path_parameter(client, staff_headers):
    error = assert_error_body(client.get(f"{API}/admin/queues/dlq/abc", **staff_headers), 422, "validation_error")
    assert [f["field"] for f in error["details"]["fields"]] == ["dead_letter_id"]


def test_422_for_a_json_value_of_the_wrong_shape(client, staff_headers):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/admin/queues/dlq/{dead.pk}/resolve", "[1, 2]", content_type="application/json",
                           **staff_headers)
    assert_error_body(response, 422, "validation_error")


# --- 413 and other requests Django refuses while reading them --------------------------------------

def test_413_for_a_body_over_the_upload_limit(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post(f"{API}/leads", json.dumps({"description": "x" * 2000}), content_type="application/json")
    error = assert_error_body(response, 413, "payload_too_large")
    assert error["details"] == {"max_bytes": 1000}
    from hotlead.leads.models import Lead

    assert not Lead.objects.exists()


def test_400_for_more_query_fields_than_django_reads(client, staff_headers, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    query = "&".join(f"f{i}=1" for i in range(11))
    assert_error_body(client.get(f"{API}/admin/leads?{query}", **staff_headers), 400, "bad_request")


# --- the NUL character: PostgreSQL cannot store or compare it, so it must never reach a query ----

@pytest.mark.parametrize("body, field", [
    ({"note": "done\u0000"}, "note"),
    ({"note": "ok", "tags": ["a", "\u0000"]}, "tags.1"),
    ({"note\u0000": "x"}, "note\u0000"),
])
def test_422_for_a_nul_character_in_the_body(client, staff_headers, body, field):
    dead = DeadLetterFactory()
    response = client.post(f"{API}/admin/queues/dlq/{dead.pk}/resolve", json.dumps(body),
                           content_type="application/json", **staff_headers)
    error = assert_error_body(response, 422, "validation_error")
    assert error["details"]["fields"] == [
        {"field": field, "message": "Must not contain the NUL character.", "type": "null_character"}]
    dead.refresh_from_db()
    assert dead.status == DeadLetterStatus.OPEN and dead.note == ""


@pytest.mark.parametrize("query", ["q=%00", "q=jane%00doe", "category=roofing%00", "status=approved&q%00=1"])
def test_422_for_a_nul_character_in_the_query_string(client, staff_headers, query):
    error = assert_error_body(client.get(f"{API}/admin/leads?{query}", **staff_headers), 422, "validation_error")
    assert [f["type"] for f in error["details"]["fields"]] == ["null_character"]


@pytest.mark.parametrize("path", ["/admin/categories/%00", "/admin/categories/roofing%00x", "/no%00such"])
def test_404_for_a_nul_character_in_the_path(client, staff_headers, path):
    response = client.put(f"{API}{path}", json.dumps({"name": "Roofing"}), content_type="application/json",
                          **staff_headers)
    assert_error_body(response, 404, "not_found")


# --- 429 ------------------------------------------------------------------------------------------

def test_429_with_retry_after_when_over_the_limit(client):
    # given: the probe allows 2 calls an hour
    assert client.get(f"{API}/_probe/limited").status_code == 200
    assert client.get(f"{API}/_probe/limited").status_code == 200
    # when
    response = client.get(f"{API}/_probe/limited")
    # then
    error = assert_error_body(response, 429, "rate_limited")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 3600
    assert error["details"] == {"retry_after": retry_after}


# --- 500 ------------------------------------------------------------------------------------------

class _JsonLines(logging.Handler):
    """The production formatter and filter, writing to a list: what the log would contain."""

    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def api_log():
    handler = _JsonLines()
    logger = logging.getLogger("hotlead.api")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


@pytest.mark.parametrize("debug", [False, True])
def test_500_has_no_traceback_and_names_the_request_id(client, settings, api_log, debug):
    # given
    settings.DEBUG = debug
    # when
    response = client.get(f"{API}/_probe/boom", HTTP_X_REQUEST_ID="req-500-check")
    # then: the body is the SPEC body with the request id and nothing of the exception
    error = assert_error_body(response, 500, "internal_error")
    assert error["details"] == {"request_id": "req-500-check"}
    assert response["X-Request-ID"] == "req-500-check"
    raw = response.content.decode()
    for leak in ("Traceback", "RuntimeError", "duplicate key", "jane", "probe.py", "File \""):
        assert leak not in raw
    # and the log has one JSON line with the request id, the traceback, and no personal data
    [line] = [entry for entry in api_log if entry["message"] == "unhandled API error"]
    assert line["level"] == "ERROR" and line["request_id"] == "req-500-check"
    assert line["route"] == "api/v1/_probe/boom" and line["error"] == "RuntimeError"
    assert "Traceback" in line["exc_info"] and "RuntimeError" in line["exc_info"]
    assert "j***@example.com" in line["exc_info"] and "***00" in line["exc_info"]
    assert "jane.doe" not in json.dumps(line) and "555 0100" not in json.dumps(line)


def test_a_500_django_answers_itself_under_the_api_gets_the_body_too(settings, rf):
    # given: Django's own DEBUG error page (a traceback) for an error outside ninja's handlers
    from django.http import HttpResponseServerError

    from api.errors import ApiErrorBodyMiddleware

    settings.DEBUG = True

    def django_debug_page(request):
        return HttpResponseServerError("<html>Traceback (most recent call last): secret</html>")

    # when
    response = ApiErrorBodyMiddleware(django_debug_page)(rf.get(f"{API}/anything"))
    # then
    assert response.status_code == 500 and response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert body["error"]["code"] == "internal_error" and set(body["error"]["details"]) == {"request_id"}
    assert "Traceback" not in response.content.decode()


def test_errors_outside_the_api_are_left_alone(client):
    response = client.get("/no-such-page-anywhere/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")

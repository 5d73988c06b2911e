"""The request id: honoured from X-Request-ID when safe, generated otherwise, echoed, in every log line."""
import json
import logging
import re

import pytest

from hotlead.core.logging import JsonFormatter, RequestContextFilter

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/health/live", "/api/v1/no-such-endpoint", "/admin/login/"])
def test_a_safe_request_id_is_echoed(client, path):
    response = client.get(path, HTTP_X_REQUEST_ID="edge-7f3a.9:b_c-1")
    assert response["X-Request-ID"] == "edge-7f3a.9:b_c-1"


@pytest.mark.parametrize("unsafe", [
    "has space", "quote\"inside", "new\nline-forged-log", "<script>", "x" * 129, "",
])
def test_an_unsafe_request_id_is_replaced_by_a_generated_one(client, unsafe):
    response = client.get("/health/live", HTTP_X_REQUEST_ID=unsafe)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_a_request_id_is_generated_when_none_is_sent(client):
    first, second = client.get("/health/live"), client.get("/health/live")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


class _JsonLines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[dict] = []
        self.setFormatter(JsonFormatter())
        self.addFilter(RequestContextFilter())

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def http_log():
    handler = _JsonLines()
    logger = logging.getLogger("hotlead.http")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_the_access_log_line_carries_request_id_user_id_and_route_not_path(staff_console, staff_user, http_log):
    # when
    response = staff_console.get("/admin/ops/deadletter/?q=jane.doe@example.com", HTTP_X_REQUEST_ID="req-log-1")
    # then
    assert response.status_code == 200
    [line] = [entry for entry in http_log if entry["request_id"] == "req-log-1"]
    assert line["message"] == "request" and line["user_id"] == staff_user.pk
    assert line["method"] == "GET" and line["status"] == 200 and line["route"] == "admin/ops/deadletter/"
    assert "jane" not in json.dumps(line)


def test_an_api_request_logs_the_token_user(client, staff_headers, staff_user, http_log):
    client.get("/api/v1/admin/queues", HTTP_X_REQUEST_ID="req-log-2", **staff_headers)
    [line] = [entry for entry in http_log if entry["request_id"] == "req-log-2"]
    assert line["user_id"] == staff_user.pk and line["route"] == "api/v1/admin/queues"

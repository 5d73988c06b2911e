"""A real HTTP receiver on 127.0.0.1 (a threading http.server) that records what it is sent."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from api.routers.provider_webhook import router  # noqa: F401 - the API loads
from hotlead.accounts.tokens import access_token_encode
from tests.conftest import bearer
from tests.distribution.conftest import exclusive, roofing  # noqa: F401 - fixtures of the sale


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    requests: list[Received] = field(default_factory=list)
    # (status, headers, body) answered in turn; when empty, `default`
    answers: list[tuple[int, dict, bytes]] = field(default_factory=list)
    default: tuple[int, dict, bytes] = (200, {}, b"ok")

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/hotlead"

    def answer(self, status: int, body: bytes = b"", headers: dict | None = None, times: int = 1) -> None:
        self.answers.extend([(status, headers or {}, body)] * times)


def _start() -> Receiver:
    holder: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            receiver = holder["receiver"]
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, answer = receiver.answers.pop(0) if receiver.answers else receiver.default
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = holder["receiver"] = Receiver(server=server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver


@pytest.fixture
def receiver(settings):
    """A receiver the delivery may call: its host:port is in HOTLEAD_WEBHOOK_ALLOWED_HOSTS."""
    receiver = _start()
    settings.HOTLEAD_WEBHOOK_ALLOWED_HOSTS = [f"127.0.0.1:{receiver.port}"]
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def stranger():
    """A second receiver that is NOT allowed (a redirect target, an internal service)."""
    receiver = _start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def headers_for(provider) -> dict:
    token, _ = access_token_encode(user=provider.user, mfa=False)
    return bearer(token)

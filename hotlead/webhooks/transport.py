"""One HTTP POST to an address a provider typed, safely (SSRF, STACK.md trap 17).

- The host is resolved here, at delivery time, and every address it resolves to must be global:
  loopback, private, link-local (169.254.0.0/16, the cloud metadata service), shared, reserved and
  multicast addresses are refused — unless the host (or host:port) is in HOTLEAD_WEBHOOK_ALLOWED_HOSTS.
- The connection goes to the address checked (pinned), so a second DNS answer cannot differ (rebinding);
  TLS still verifies the certificate of the host name.
- Redirects are never followed (a 3xx is a failed attempt); 3 s to connect, about 10 s in all; at most
  4 KB of the answer is read.
"""
from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from hotlead.webhooks.enums import AttemptOutcome

CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0
MAX_BODY = 4096
USER_AGENT = "HotLead-Webhooks/1.0"


@dataclass(frozen=True)
class PostResult:
    outcome: str
    status_code: int | None
    latency_ms: int
    error: str
    body: str


class Refused(Exception):
    """The target may not be called (its address is internal, or the URL is not acceptable)."""


def _resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to now (tests replace this to simulate DNS)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def allowed_hosts() -> set[str]:
    return {h.strip().lower() for h in getattr(settings, "HOTLEAD_WEBHOOK_ALLOWED_HOSTS", []) if h.strip()}


def host_allowed(host: str, port: int) -> bool:
    allowed = allowed_hosts()
    return host.lower() in allowed or f"{host.lower()}:{port}" in allowed


def address_is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def target_check(url: str) -> tuple[str, int, str, str]:
    """(scheme, port, host, address to connect to) or Refused."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").rstrip(".").lower(), parts.port
    except ValueError:
        raise Refused("The URL is malformed.")
    if scheme not in ("http", "https") or not host:
        raise Refused("The URL must be an http(s) URL.")
    port = port or (443 if scheme == "https" else 80)
    allowed = host_allowed(host, port)
    if scheme != "https" and not allowed:
        raise Refused("Only https:// URLs are called.")
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"The host name does not resolve ({type(exc).__name__}).")
    if not addresses:
        raise Refused("The host name does not resolve.")
    if not allowed:
        internal = [a for a in addresses if not address_is_public(a)]
        if internal:
            raise Refused(f"The host resolves to a non-public address ({internal[0]}); refused.")
    return scheme, port, host, addresses[0]


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to a checked address, with the URL's host name in Host and TLS SNI."""

    def __init__(self, host: str, port: int, *, address: str, tls: bool):
        super().__init__(host, port, timeout=CONNECT_TIMEOUT)
        self._address, self._tls = address, tls

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), timeout=CONNECT_TIMEOUT)
        if self._tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def post(*, url: str, body: bytes, headers: dict[str, str]) -> PostResult:
    """POST body to url; never raises for a network problem (the result says what happened)."""
    started = time.monotonic()

    def elapsed_ms() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, port, host, address = target_check(url)
    except Refused as exc:
        return PostResult(AttemptOutcome.REFUSED, None, elapsed_ms(), str(exc)[:300], "")
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn = _PinnedConnection(host, port, address=address, tls=scheme == "https")
    deadline = started + TOTAL_TIMEOUT

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("The total timeout was reached.")
        return left

    try:
        conn.connect()
        sock = conn.sock  # the response reads from it after the connection object lets go
        sock.settimeout(remaining())
        conn.request("POST", path, body=body, headers={
            **headers, "Content-Type": "application/json", "User-Agent": USER_AGENT,
        })
        sock.settimeout(remaining())
        response = conn.getresponse()
        chunks, size = [], 0
        while size < MAX_BODY:
            sock.settimeout(remaining())
            chunk = response.read1(MAX_BODY - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        text = b"".join(chunks)[:MAX_BODY].decode("utf-8", errors="replace")
        status = response.status
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        message = "Timed out." if isinstance(exc, TimeoutError | socket.timeout) else f"{type(exc).__name__}: {exc}"
        return PostResult(AttemptOutcome.NETWORK_ERROR, None, elapsed_ms(), message[:300], "")
    finally:
        conn.close()
    if 200 <= status < 300:
        return PostResult(AttemptOutcome.SUCCESS, status, elapsed_ms(), "", text)
    error = f"HTTP {status}"
    if 300 <= status < 400:
        error += " (redirects are not followed)"
    return PostResult(AttemptOutcome.HTTP_ERROR, status, elapsed_ms(), error, text)

"""One mail connection per worker process, reused by every e-mail job it runs (SPEC §11).

Opening an SMTP connection (TCP, TLS, AUTH) costs far more than sending one message over it: a worker that
opened one per message could not keep up with a burst of "new lead" e-mails. The connection is kept open
between jobs; after IDLE_CHECK_SECONDS without use it is probed with NOOP (servers drop idle clients) and
opened again if the probe fails. Any failure while sending discards it, so the retry starts clean.
"""
from __future__ import annotations

import logging
import os
import time

from django.conf import settings
from django.core.mail import get_connection

logger = logging.getLogger("hotlead.mail")

IDLE_CHECK_SECONDS = 30

_state: dict = {"key": None, "connection": None, "used_at": 0.0}


def mail_connection():
    """This process's open connection to the mail backend (opened on first use, probed when idle)."""
    key = (os.getpid(), settings.EMAIL_BACKEND)
    connection = _state["connection"]
    if _state["key"] != key or connection is None:
        if _state["key"] is not None and _state["key"][0] == key[0]:
            mail_connection_discard()  # the backend changed (tests): close the old one
        connection = get_connection(fail_silently=False)
        connection.open()
        _state.update(key=key, connection=connection)
    elif time.monotonic() - _state["used_at"] > IDLE_CHECK_SECONDS and not _alive(connection):
        mail_connection_discard()
        connection = get_connection(fail_silently=False)
        connection.open()
        _state.update(key=key, connection=connection)
    _state["used_at"] = time.monotonic()
    return connection


def _alive(connection) -> bool:
    smtp = getattr(connection, "connection", None)  # smtplib.SMTP on the SMTP backend; others have none
    if smtp is None:
        return True
    try:
        return smtp.noop()[0] == 250
    except Exception:  # noqa: BLE001 - any failure means: open a new one
        return False


def mail_connection_discard() -> None:
    """Close and forget the connection (after a failure; the next message opens a new one)."""
    connection, _state["connection"], _state["key"] = _state["connection"], None, None
    if connection is not None:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - a broken connection may fail to close; it is dropped anyway
            logger.debug("mail connection close failed")

"""Metrics the alert rules need: billing operations by outcome, the worker heartbeat's age."""
import math

import pytest
from prometheus_client.parser import text_string_to_metric_families

from hotlead.billing.metrics import BILLING_OPERATIONS, operation_timed
from hotlead.billing.services.ledger import charge_post
from hotlead.core.exceptions import ValidationFailed
from hotlead.ops.services import worker_heartbeat_beat
from tests.factories.providers import ProviderFactory

pytestmark = pytest.mark.django_db


def _value(operation: str, outcome: str) -> float:
    return BILLING_OPERATIONS.labels(operation=operation, outcome=outcome)._value.get()


def test_billing_operations_are_counted_ok_refused_or_error():
    before = {o: _value("charge", o) for o in ("ok", "refused", "error")}
    provider = ProviderFactory()
    # a business refusal (no money) is "refused", not a failure
    with pytest.raises(Exception) as refused:
        charge_post(provider_id=provider.pk, amount_cents=500, key="charge:test:1")
    assert refused.value.__class__.__name__ == "InsufficientBalance"
    # an unexpected error is "error"
    with pytest.raises(RuntimeError), operation_timed("charge"):
        raise RuntimeError("database went away")
    with pytest.raises(ValidationFailed), operation_timed("charge"):
        raise ValidationFailed("no")
    with operation_timed("charge"):
        pass
    assert _value("charge", "refused") - before["refused"] == 2
    assert _value("charge", "error") - before["error"] == 1
    assert _value("charge", "ok") - before["ok"] == 1


def _heartbeat_age(client) -> float:
    text = client.get("/metrics").content.decode()
    families = {f.name: f.samples for f in text_string_to_metric_families(text)}
    return families["hotlead_worker_heartbeat_age_seconds"][0].value


def test_heartbeat_age_is_infinite_without_a_worker_and_small_after_a_beat(client):
    assert math.isinf(_heartbeat_age(client))
    worker_heartbeat_beat()
    assert 0 <= _heartbeat_age(client) < 5

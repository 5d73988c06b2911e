import pytest


@pytest.mark.django_db
def test_health_live(client):
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_staff_console_reaches_the_dashboard(staff_console):
    response = staff_console.get("/admin/")
    assert response.status_code == 200


def test_fixtures_make_a_funded_provider(db):
    from hotlead.billing.selectors import balance_cents, ledger_sum
    from tests.factories.providers import ProviderFactory

    provider = ProviderFactory(balance_cents=1000)
    assert balance_cents(provider_id=provider.pk) == 1000 == ledger_sum(provider_id=provider.pk)


def test_make_assignment_charges_through_the_ledger(db):
    from hotlead.billing.selectors import balance_cents, ledger_sum
    from tests.factories.distribution import make_assignment

    assignment = make_assignment()
    assert assignment.charge_entry.amount_cents == -assignment.price_cents
    assert balance_cents(provider_id=assignment.provider_id) == 0 == ledger_sum(provider_id=assignment.provider_id)

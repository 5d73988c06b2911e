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

import factory
from django.utils import timezone as dj_timezone

from hotlead.billing.models import Account
from hotlead.providers.enums import AreaKind, ProviderStatus
from hotlead.providers.models import Provider, ServiceArea
from tests.factories.accounts import UserFactory


class ProviderFactory(factory.django.DjangoModelFactory):
    """An active, e-mail-verified provider with an account (balance_cents=…, default 0)."""

    class Meta:
        model = Provider
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    company_name = factory.Sequence(lambda n: f"Pro Company {n}")
    contact_name = "Alex Pro"
    phone = "+14155550100"
    timezone = "America/Los_Angeles"
    status = ProviderStatus.ACTIVE
    email_verified_at = factory.LazyFunction(dj_timezone.now)

    @factory.post_generation
    def balance_cents(obj, create, extracted, **kwargs):
        """Fund through the ledger so the balance always equals the ledger sum."""
        if not create:
            return
        Account.objects.get_or_create(provider=obj)
        if extracted:
            from hotlead.billing.services.ledger import deposit_post

            deposit_post(provider_id=obj.pk, amount_cents=extracted, key=f"factory-deposit:{obj.pk}")

    @factory.post_generation
    def categories(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.categories.set(extracted)

    @factory.post_generation
    def areas(obj, create, extracted, **kwargs):
        """areas=["94110", "941*"]: exact codes, or prefixes ending in *."""
        if create and extracted:
            for value in extracted:
                kind = AreaKind.PREFIX if value.endswith("*") else AreaKind.CODE
                ServiceArea.objects.create(provider=obj, kind=kind, value=value.rstrip("*"))

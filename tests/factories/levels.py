import factory

from hotlead.levels.models import CompetitionLevel, Subscription
from tests.factories.providers import ProviderFactory


class LevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CompetitionLevel
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Level {n}")
    slug = factory.Sequence(lambda n: f"level-{n}")
    rank = factory.Sequence(lambda n: n + 1)
    price_cents = 2500
    max_recipients = 1
    active = True


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    provider = factory.SubFactory(ProviderFactory)
    level = factory.SubFactory(LevelFactory)
    filters = factory.LazyFunction(list)

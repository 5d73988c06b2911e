import factory
from django.utils import timezone

from hotlead.leads.enums import LeadStatus
from hotlead.leads.models import Category, Lead


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    active = True


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    # unique by construction: random references could collide among the thousands of leads some tests make
    reference = factory.Sequence(lambda n: f"HL-T{n:07d}")
    name = "Pat Submitter"
    email = factory.Sequence(lambda n: f"submitter{n}@example.org")
    phone = factory.Sequence(lambda n: f"+1415555{n % 10000:04d}")
    postal_code = "94110"
    category = factory.SubFactory(CategoryFactory, slug="roofing", name="Roofing")
    description = "The roof leaks over the kitchen."
    consent_text_version = "2026-01"
    consent_at = factory.LazyFunction(timezone.now)
    status = LeadStatus.PENDING_REVIEW

from __future__ import annotations

import factory
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from supportai.api_keys import api_key_create
from supportai.models import EndUser, Membership, Role, Tenant


def api_client(tenant: Tenant) -> APIClient:
    """A DRF test client that authenticates with a new API key of ``tenant``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_create(tenant=tenant, name='ci').raw_key}")
    return client


class TenantFactory(factory.django.DjangoModelFactory[Tenant]):
    class Meta:
        model = Tenant

    name = factory.Sequence(lambda n: f"Tenant {n}")
    slug = factory.Sequence(lambda n: f"tenant-{n}")
    allowed_origins = factory.LazyAttribute(lambda t: [f"https://{t.slug}.example.com"])
    timezone = "Europe/Paris"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.AGENT


class EndUserFactory(factory.django.DjangoModelFactory[EndUser]):
    class Meta:
        model = EndUser

    tenant = factory.SubFactory(TenantFactory)
    external_id = factory.Sequence(lambda n: f"cust-{n}")
    email = factory.Sequence(lambda n: f"customer{n}@example.org")
    full_name = factory.Faker("name")

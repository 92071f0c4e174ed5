import factory
from django.utils import timezone

from claims.models import Case, CaseKind, Output
from members.models import Organisation, OrganisationKind, Role, User, Work

DEFAULT_PASSWORD = "test-pass-2026"


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.MEMBER
    name_en = factory.Sequence(lambda n: f"Studio {n}")
    name_ja = factory.Sequence(lambda n: f"スタジオ{n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class MemberFactory(OrganisationFactory):
    kind = OrganisationKind.MEMBER


class ProviderFactory(OrganisationFactory):
    kind = OrganisationKind.PROVIDER
    name_en = factory.Sequence(lambda n: f"Provider {n}")
    name_ja = factory.Sequence(lambda n: f"プロバイダー{n}")


class AssociationFactory(OrganisationFactory):
    kind = OrganisationKind.ASSOCIATION
    name_en = factory.Sequence(lambda n: f"Association {n}")
    name_ja = factory.Sequence(lambda n: f"協会{n}")


ORG_FACTORY_FOR_ROLE = {
    Role.MEMBER_ADMIN: MemberFactory,
    Role.MEMBER_LEGAL: MemberFactory,
    Role.PROVIDER_ADMIN: ProviderFactory,
    Role.PROVIDER_AGENT: ProviderFactory,
    Role.ASSOCIATION_ADMIN: AssociationFactory,
    Role.ASSOCIATION_ANALYST: AssociationFactory,
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    full_name = factory.Faker("name")
    role = Role.MEMBER_LEGAL
    language = "en"
    organisation = factory.LazyAttribute(lambda o: ORG_FACTORY_FOR_ROLE[o.role]())
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class WorkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Work

    owner = factory.SubFactory(MemberFactory)
    title_ja = factory.Sequence(lambda n: f"作品{n}")
    title_en = factory.Sequence(lambda n: f"Work {n}")


class CaseFactory(factory.django.DjangoModelFactory):
    """A draft case written directly; use ``file_case`` to go through the service."""

    class Meta:
        model = Case

    reference = factory.Sequence(lambda n: f"CL-2026-{900000 + n:06d}")
    kind = CaseKind.CLAIM
    claimant = factory.SubFactory(MemberFactory)
    respondent = factory.SubFactory(ProviderFactory)
    filed_by = factory.LazyAttribute(lambda o: UserFactory(role=Role.MEMBER_LEGAL, organisation=o.claimant))
    title = factory.Sequence(lambda n: f"Output resembling our character {n}")
    description = "The output reproduces our character's design."


class OutputFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Output

    case = factory.SubFactory(CaseFactory)
    position = factory.Sequence(lambda n: n + 1)
    product = "VidGen"
    model_name = "vg-3"
    url = factory.Sequence(lambda n: f"https://vidgen.example/v/{n}")
    seen_at = factory.LazyFunction(timezone.now)


# --- Payloads for the transition service -------------------------------------------------------


def respond_payload(case, *, outcome="removed", **overrides):
    """Return a substantive response to every output of the case."""
    payload = {
        "summary": "We removed the outputs and blocked the prompts.",
        "contact_name": "Sato Hanako",
        "contact_email": "sato@provider.test",
        "items": [
            {"output": output.pk, "outcome": outcome, "rationale": "It reproduces the character."}
            for output in case.outputs.order_by("position")
        ],
    }
    payload.update(overrides)
    return payload


DISPUTE_PAYLOAD = {"reasons": ["generic_text", "no_action"], "note": "The reply ignores the outputs."}

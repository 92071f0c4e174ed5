from django.db.models import QuerySet

from members.models import Organisation, User


def organisation_users(*, organisation: Organisation) -> QuerySet[User]:
    return organisation.users.order_by("email")


def providers_active() -> QuerySet[Organisation]:
    return Organisation.objects.providers().filter(is_active=True).order_by("name_en")


def counterparties_for(*, user) -> QuerySet[Organisation]:
    """Organisations the user's cases can be filtered by."""
    org = user.organisation
    if org is None:
        return Organisation.objects.none()
    if org.is_member:
        return Organisation.objects.providers()
    if org.is_provider:
        return Organisation.objects.members()
    return Organisation.objects.exclude(kind="association")

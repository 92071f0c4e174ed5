from django.db import transaction
from django.utils.translation import gettext as _

from members.errors import ApplicationError
from members.models import ROLES_BY_KIND, OrganisationKind, User


def user_add_to_organisation(*, actor, email: str, full_name: str, role: str, language: str, password: str) -> User:
    """Let an organisation admin add a colleague to their own organisation."""
    if not actor.is_org_admin or actor.organisation_id is None:
        raise ApplicationError(_("Only an organisation administrator may add users."), code="not_permitted", status_code=403)
    organisation = actor.organisation
    allowed = ROLES_BY_KIND[OrganisationKind(organisation.kind)]
    errors = {}
    if role not in allowed:
        errors["role"] = [_("Choose a role of your organisation.")]
    email = (email or "").strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        errors["email"] = [_("A user with this email address already exists.")]
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)
    with transaction.atomic():
        return User.objects.create_user(
            email=email, password=password, full_name=full_name, role=role, language=language, organisation=organisation
        )

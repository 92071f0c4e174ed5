from functools import partial

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from members.errors import ApplicationError
from members.models import ROLES_BY_KIND, OrganisationKind, User

LANGUAGES = {code for code, _label in User._meta.get_field("language").choices}


def _check_org_admin(actor) -> None:
    if not actor.is_org_admin or actor.organisation_id is None:
        raise ApplicationError(
            _("Only an organisation administrator may manage users."), code="not_permitted", status_code=403
        )


def _check_same_organisation(actor, user) -> None:
    # Another organisation's user is not shown to the actor at all, so it is "not found".
    if user.organisation_id != actor.organisation_id:
        raise ApplicationError(_("No such user in your organisation."), code="not_found", status_code=404)


def user_add_to_organisation(
    *, actor, email: str, full_name: str, role: str, language: str, password: str | None = None
) -> User:
    """Let an organisation admin add a colleague to their own organisation.

    Without a password the colleague gets an unusable one and, once the transaction commits, an
    invitation email with a link to choose a password.
    """
    _check_org_admin(actor)
    organisation = actor.organisation
    allowed = ROLES_BY_KIND[OrganisationKind(organisation.kind)]
    errors = {}
    if role not in allowed:
        errors["role"] = [_("Choose a role of your organisation.")]
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    else:
        if User.objects.filter(email__iexact=email).exists():
            errors["email"] = [_("A user with this email address already exists.")]
    if language not in LANGUAGES:
        errors["language"] = [_("Choose Japanese or English.")]
    if errors:
        raise ApplicationError(_("Please correct the errors below."), fields=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                full_name=(full_name or "").strip(),
                role=role,
                language=language,
                organisation=organisation,
            )
            if password is None:
                transaction.on_commit(partial(invitation_send, user_id=user.pk, inviter_id=actor.pk))
    except (IntegrityError, ValidationError):
        # Another admin added the same address a moment ago.
        raise ApplicationError(
            _("Please correct the errors below."),
            fields={"email": [_("A user with this email address already exists.")]},
        ) from None
    return user


def user_invitation_resend(*, actor, user: User) -> None:
    """Send a colleague who has not chosen a password yet a fresh invitation link."""
    _check_org_admin(actor)
    _check_same_organisation(actor, user)
    if user.has_usable_password() or not user.is_active:
        raise ApplicationError(
            _("%(user)s has already chosen a password or is deactivated.") % {"user": user},
            code="invitation_not_needed",
            status_code=409,
        )
    transaction.on_commit(partial(invitation_send, user_id=user.pk, inviter_id=actor.pk))


def invitation_send(*, user_id: int, inviter_id: int) -> None:
    """Email the invitation with a set-password link; run after commit (it leaves the process).

    The link is Django's password-reset link (``default_token_generator``): it works once, and
    stops working when the password is set or after ``PASSWORD_RESET_TIMEOUT``.
    """
    user = User.objects.select_related("organisation").filter(pk=user_id, is_active=True).first()
    inviter = User.objects.filter(pk=inviter_id).first()
    if user is None or user.has_usable_password():
        return
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    context = {
        "user": user,
        "inviter": inviter,
        "organisation": user.organisation,
        "set_password_url": settings.SITE_URL.rstrip("/") + path,
        "login_url": settings.SITE_URL.rstrip("/") + reverse("login"),
    }
    # The email speaks the invited colleague's language, not the inviting admin's.
    with translation.override(user.language):
        PasswordResetForm().send_mail(
            subject_template_name="members/invitation_subject.txt",
            email_template_name="members/invitation_email.txt",
            context=context,
            from_email=None,
            to_email=user.email,
        )


def user_deactivate(*, actor, user: User) -> User:
    """Stop a colleague from signing in; their cases, messages and events stay as they were."""
    _check_org_admin(actor)
    _check_same_organisation(actor, user)
    if user.pk == actor.pk:
        raise ApplicationError(
            _("You cannot deactivate your own account; ask another administrator."), code="not_permitted"
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.is_active:
            locked.is_active = False
            locked.save(update_fields=["is_active"])
    return locked

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class OrganisationKind(models.TextChoices):
    MEMBER = "member", _("Member")
    PROVIDER = "provider", _("Provider")
    ASSOCIATION = "association", _("Association")


class Role(models.TextChoices):
    MEMBER_ADMIN = "member_admin", _("Member administrator")
    MEMBER_LEGAL = "member_legal", _("Member legal staff")
    PROVIDER_ADMIN = "provider_admin", _("Provider administrator")
    PROVIDER_AGENT = "provider_agent", _("Provider agent")
    ASSOCIATION_ADMIN = "association_admin", _("Association administrator")
    ASSOCIATION_ANALYST = "association_analyst", _("Association analyst")


ROLES_BY_KIND = {
    OrganisationKind.MEMBER: (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL),
    OrganisationKind.PROVIDER: (Role.PROVIDER_ADMIN, Role.PROVIDER_AGENT),
    OrganisationKind.ASSOCIATION: (Role.ASSOCIATION_ADMIN, Role.ASSOCIATION_ANALYST),
}
ADMIN_ROLES = frozenset({Role.MEMBER_ADMIN, Role.PROVIDER_ADMIN, Role.ASSOCIATION_ADMIN})


class OrganisationQuerySet(models.QuerySet):
    def members(self):
        return self.filter(kind=OrganisationKind.MEMBER)

    def providers(self):
        return self.filter(kind=OrganisationKind.PROVIDER)


class Organisation(models.Model):
    kind = models.CharField(_("kind"), max_length=16, choices=OrganisationKind.choices)
    name_ja = models.CharField(_("name (Japanese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["kind", "name_en"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"
            ),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self):
        """Return the name in the active language."""
        return self.name_ja if (get_language() or "ja").startswith("ja") else self.name_en

    @property
    def is_member(self):
        return self.kind == OrganisationKind.MEMBER

    @property
    def is_provider(self):
        return self.kind == OrganisationKind.PROVIDER

    @property
    def is_association(self):
        return self.kind == OrganisationKind.ASSOCIATION


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices, blank=True)
    language = models.CharField(
        _("language"), max_length=8, choices=[("ja", "日本語"), ("en", "English")], default="ja"
    )
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        constraints = [
            # Only a platform superuser (created with createsuperuser) may stand outside
            # every organisation; everybody else has exactly one organisation and one role.
            models.CheckConstraint(
                condition=models.Q(is_superuser=True)
                | (models.Q(organisation__isnull=False) & ~models.Q(role="")),
                name="user_has_organisation_and_role",
            ),
        ]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.organisation_id and self.role:
            allowed = ROLES_BY_KIND[OrganisationKind(self.organisation.kind)]
            if self.role not in allowed:
                raise ValidationError({"role": _("This role does not exist in this kind of organisation.")})

    @property
    def is_org_admin(self):
        return self.role in ADMIN_ROLES

    @property
    def is_member_side(self):
        return self.role in (Role.MEMBER_ADMIN, Role.MEMBER_LEGAL)

    @property
    def is_provider_side(self):
        return self.role in (Role.PROVIDER_ADMIN, Role.PROVIDER_AGENT)

    @property
    def is_association_side(self):
        return self.role in (Role.ASSOCIATION_ADMIN, Role.ASSOCIATION_ANALYST)


class WorkKind(models.TextChoices):
    CHARACTER = "character", _("Character")
    FILM = "film", _("Film")
    SERIES = "series", _("Series")
    GAME = "game", _("Game")
    SONG = "song", _("Song")
    ARTWORK = "artwork", _("Artwork")
    OTHER = "other", _("Other")


class Work(models.Model):
    """A work a member owns; its identifiers, reference images and grants live in ``members.registry``."""

    owner = models.ForeignKey(
        Organisation, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="works"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=WorkKind.choices, default=WorkKind.OTHER)
    title_ja = models.CharField(_("title (Japanese)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300, blank=True)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(
        _("location"),
        max_length=500,
        blank=True,
        help_text=_(
            "Where the work is published on your website, as a path pattern, e.g. /characters/neko/*. "
            "The published reservations (TDMRep, aipref) name it."
        ),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Indexed: the providers' feed takes its ETag from the newest change.
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("work")
        verbose_name_plural = _("works")
        ordering = ["title_ja"]

    def __str__(self):
        if (get_language() or "ja").startswith("ja") or not self.title_en:
            return self.title_ja
        return self.title_en


class ApiTokenQuerySet(models.QuerySet):
    def of_organisation(self, organisation):
        """Return the tokens of the organisation's users, newest first, with what the list shows."""
        return (
            self.filter(user__organisation=organisation)
            .select_related("user", "created_by", "revoked_by")
            .order_by("-created_at", "-pk")
        )


class ApiToken(models.Model):
    """A machine client's credential, acting as its user.

    Only the public prefix and the SHA-256 of the whole token are stored; the plaintext is
    shown once, when the token is issued.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=8, unique=True)
    token_hash = models.CharField(_("token hash"), max_length=64)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} (rdk_{self.prefix}_…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    def is_expired(self, now=None):
        return self.expires_at is not None and self.expires_at <= (now or timezone.now())

    @property
    def state(self):
        """Return "revoked", "expired" or "active" (revocation wins: it was a deliberate act)."""
        if self.is_revoked:
            return "revoked"
        if self.is_expired():
            return "expired"
        return "active"


class IdempotencyRecord(models.Model):
    """The first answer to a POST that carried an Idempotency-Key, replayed to its retries."""

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    completed = models.BooleanField(_("completed"), default=False)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    response_body = models.BinaryField(_("response body"), default=b"")
    response_headers = models.JSONField(_("response headers"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    started_at = models.DateTimeField(_("started"), default=timezone.now)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_record_user_key_unique"),
            models.CheckConstraint(
                condition=models.Q(completed=False) | models.Q(status_code__isnull=False),
                name="idempotency_record_completed_has_status",
            ),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_record_created")]

    def __str__(self):
        return f"{self.user_id}:{self.key}"


# The registry models live in their own module; importing them here registers them with the app.
from members.registry.models import (  # noqa: E402, F401
    Grant,
    GrantUse,
    IdentifierScheme,
    WorkIdentifier,
    WorkImage,
)

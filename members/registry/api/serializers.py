"""Input and output serializers of the registry endpoints (works, grants, the check, the feed)."""

from datetime import UTC

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from claims.api.serializers import (
    OrganisationRefSerializer,
    PersonRefSerializer,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
    StrictSlugField,
    WorkRefSerializer,
)
from members.models import Work, WorkKind
from members.registry.models import Grant, GrantUse, IdentifierScheme, WorkIdentifier, WorkImage
from members.registry.services import TERMS_MAX_LENGTH

MAX_ID = 2**63 - 1


class UtcDateTimeField(serializers.DateTimeField):
    """An ISO 8601 date-time that must have a UTC equivalent the database can store."""

    default_error_messages = {"out_of_range": _("This date and time is out of range.")}

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="ISO 8601")
        parsed = super().to_internal_value(value)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            self.fail("out_of_range")


# --- Input ------------------------------------------------------------------------------------


class IdentifierInputSerializer(StrictInputSerializer):
    scheme = serializers.ChoiceField(choices=IdentifierScheme.choices)
    value = StrictCharField(max_length=100)


class WorkInputSerializer(StrictInputSerializer):
    kind = serializers.ChoiceField(choices=WorkKind.choices, default=WorkKind.OTHER)
    title_ja = StrictCharField(max_length=300)
    title_en = StrictCharField(max_length=300, required=False, allow_blank=True, default="")
    description = StrictCharField(required=False, allow_blank=True, default="")
    location = StrictCharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("A path pattern on the member's website, e.g. /characters/neko/*."),
    )
    identifiers = IdentifierInputSerializer(many=True, default=list)


class GrantInputSerializer(StrictInputSerializer):
    provider = StrictSlugField(max_length=64, help_text=_("Slug of the provider the grant is made to."))
    use = serializers.ChoiceField(choices=GrantUse.choices)
    work = StrictIntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("Id of one of your works; null (the default) grants all of them."),
    )
    terms = StrictCharField(max_length=TERMS_MAX_LENGTH, required=False, allow_blank=True, default="")
    valid_from = UtcDateTimeField(required=False, allow_null=True, default=None, help_text=_("Default: now."))
    valid_until = UtcDateTimeField(
        required=False, allow_null=True, default=None, help_text=_("Exclusive; null: until revoked.")
    )


class GrantRevokeInputSerializer(StrictInputSerializer):
    reason = StrictCharField(max_length=TERMS_MAX_LENGTH)
    effective_at = UtcDateTimeField(
        required=False, allow_null=True, default=None, help_text=_("Default: now; never in the past.")
    )


class WorkListQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text=_("Text in the Japanese or English title."),
    )


class GrantListQuerySerializer(serializers.Serializer):
    use = serializers.ChoiceField(choices=GrantUse.choices, required=False)
    work = serializers.IntegerField(
        min_value=1, max_value=MAX_ID, required=False, help_text=_("Id of a work.")
    )


class GrantCheckQuerySerializer(serializers.Serializer):
    provider = serializers.SlugField(max_length=64, help_text=_("Slug of the provider."))
    work = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("Id of the work."))
    use = serializers.ChoiceField(choices=GrantUse.choices)
    at = UtcDateTimeField(required=False, help_text=_("The moment asked about (ISO 8601); default now."))


# --- Output -----------------------------------------------------------------------------------


class IdentifierSerializer(serializers.ModelSerializer):
    class Meta:
        model = WorkIdentifier
        fields = ["scheme", "value"]
        read_only_fields = fields


class WorkSerializer(serializers.ModelSerializer):
    owner = OrganisationRefSerializer(read_only=True)
    identifiers = IdentifierSerializer(many=True, read_only=True)

    class Meta:
        model = Work
        fields = [
            "id",
            "owner",
            "kind",
            "title_ja",
            "title_en",
            "description",
            "location",
            "identifiers",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WorkImageInputSerializer(StrictInputSerializer):
    image = serializers.FileField(help_text=_("PNG, JPEG, WebP or GIF; its type is read from its bytes."))


class WorkImageSerializer(serializers.ModelSerializer):
    uploaded_by = PersonRefSerializer(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = WorkImage
        fields = [
            "id",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, image) -> str:
        path = reverse("api:work_image_download", kwargs={"work_id": image.work_id, "image_id": image.pk})
        return self.context["request"].build_absolute_uri(path)


class GrantSerializer(serializers.ModelSerializer):
    member = OrganisationRefSerializer(source="grantor", read_only=True)
    provider = OrganisationRefSerializer(source="grantee", read_only=True)
    work = WorkRefSerializer(read_only=True, allow_null=True, help_text=_("Null: all of the member's works."))
    all_works = serializers.BooleanField(source="covers_all_works", read_only=True)
    revokes = serializers.IntegerField(
        source="revokes_id", read_only=True, allow_null=True, help_text=_("Set on a revocation row.")
    )
    revoked_by = serializers.SerializerMethodField(help_text=_("The revocation of this grant, if any."))
    revoked_from = serializers.SerializerMethodField(help_text=_("When the revocation takes effect."))
    created_by = PersonRefSerializer(read_only=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "member",
            "provider",
            "use",
            "work",
            "all_works",
            "terms",
            "valid_from",
            "valid_until",
            "revokes",
            "reason",
            "revoked_by",
            "revoked_from",
            "created_by",
            "created_at",
        ]
        read_only_fields = fields

    @staticmethod
    def _revocation(grant):
        try:
            return grant.revocation
        except Grant.DoesNotExist:
            return None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_revoked_by(self, grant):
        revocation = self._revocation(grant)
        return revocation.pk if revocation else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_revoked_from(self, grant):
        revocation = self._revocation(grant)
        return serializers.DateTimeField().to_representation(revocation.valid_from) if revocation else None


class DecisionSerializer(serializers.Serializer):
    permitted = serializers.BooleanField(read_only=True)
    reason = serializers.CharField(read_only=True, help_text=_('"no grant: not permitted" when denied.'))
    provider = serializers.SlugField(read_only=True)
    work = WorkRefSerializer(read_only=True)
    use = serializers.ChoiceField(choices=GrantUse.choices, read_only=True)
    at = serializers.DateTimeField(read_only=True)
    grant = GrantSerializer(
        read_only=True, allow_null=True, help_text=_("The deciding grant; null when denied.")
    )


class FeedIdentifierSerializer(serializers.Serializer):
    scheme = serializers.ChoiceField(choices=IdentifierScheme.choices, read_only=True)
    value = serializers.CharField(read_only=True)


class FeedWorkSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.ChoiceField(choices=WorkKind.choices, read_only=True)
    title_ja = serializers.CharField(read_only=True)
    title_en = serializers.CharField(read_only=True)
    location = serializers.CharField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    identifiers = FeedIdentifierSerializer(many=True, read_only=True)


class FeedMemberSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name_ja = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    tdmrep = serializers.URLField(read_only=True)
    aipref = serializers.URLField(read_only=True)
    works = FeedWorkSerializer(many=True, read_only=True)


class FeedGrantSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    member = serializers.SlugField(read_only=True)
    use = serializers.ChoiceField(choices=GrantUse.choices, read_only=True)
    work = serializers.IntegerField(read_only=True, allow_null=True)
    all_works = serializers.BooleanField(read_only=True)
    terms = serializers.CharField(read_only=True)
    valid_from = serializers.DateTimeField(read_only=True)
    valid_until = serializers.DateTimeField(read_only=True, allow_null=True)
    revokes = serializers.IntegerField(read_only=True, allow_null=True)
    revoked_from = serializers.DateTimeField(read_only=True, allow_null=True)
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class FeedSerializer(serializers.Serializer):
    provider = serializers.SlugField(read_only=True)
    default = serializers.ChoiceField(choices=[("reserved", "reserved")], read_only=True)
    uses = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text=_("The uses a grant can permit: training, generation."),
    )
    members = FeedMemberSerializer(many=True, read_only=True)
    grants = FeedGrantSerializer(many=True, read_only=True)

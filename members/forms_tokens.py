"""The form an organisation admin fills in to issue an API token."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.utils.translation import gettext_lazy as _

from members.forms import ServiceErrorsMixin
from members.models import ApiToken

# Validity ends at a day's end in the association's time zone, whatever the server's zone is.
TOKYO = ZoneInfo("Asia/Tokyo")


class ColleagueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.full_name} <{obj.email}>" if obj.full_name else obj.email


class ApiTokenForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=_("What the token is for, e.g. the system that will use it."),
    )
    user = ColleagueChoiceField(
        label=_("Acts as"),
        queryset=None,
        help_text=_("The token can do exactly what this user can do, and nothing more."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The token stops working at the end of this day (Japan time). Leave empty for no expiry."
        ),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = organisation.users.filter(is_active=True).order_by("email")

    def expires_at(self) -> datetime | None:
        """Return the moment the token stops working: midnight after the chosen day, in Tokyo."""
        day = self.cleaned_data.get("valid_until")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time.min, tzinfo=TOKYO)

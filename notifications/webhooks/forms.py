"""Forms for webhook endpoints: they check the shape; the services decide the rules."""

from django import forms
from django.utils.translation import gettext_lazy as _

from claims.templatetags.rightsdesk import EVENT_LABELS
from members.forms import ServiceErrorsMixin
from notifications.webhooks.services import WEBHOOK_EVENT_TYPES


class WebhookEndpointForm(ServiceErrorsMixin, forms.Form):
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("Your receiver's address. RightsDesk sends each event there as a signed HTTP POST."),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What the receiver is, so that colleagues recognise it."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("Events"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only events of cases your organisation may see are sent."),
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("An inactive endpoint receives no events. Enabling it again resets its failure count."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = [
            (event_type, EVENT_LABELS.get(event_type, event_type)) for event_type in WEBHOOK_EVENT_TYPES
        ]
        if not editing:
            # A new endpoint starts active; the switch matters only when changing one.
            del self.fields["is_active"]

"""The association's verdict form."""

from django import forms
from django.utils.translation import gettext_lazy as _

from claims.forms import ServiceErrorsMixin
from claims.models import Sincerity
from claims.sincerity.services import NOTE_MAX_LENGTH


class AdjudicationForm(ServiceErrorsMixin, forms.Form):
    verdict = forms.ChoiceField(
        label=_("Verdict"),
        choices=[(Sincerity.SINCERE, _("Sincere")), (Sincerity.INSINCERE, _("Insincere"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a verdict of insincere; both parties will read it."),
    )

    def __init__(self, *args, response, **kwargs):
        kwargs.setdefault("prefix", f"adjudicate-{response.pk}")
        super().__init__(*args, **kwargs)
        self.response = response

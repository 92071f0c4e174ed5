"""Forms for managing the users of one's own organisation.

The forms check the shape of what was typed; ``members.services`` decides the rules, and its
ApplicationError is shown beside the fields.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import ROLES_BY_KIND, OrganisationKind, User


class ServiceErrorsMixin:
    """Show an ApplicationError from a service beside the fields it names."""

    def add_service_error(self, exc) -> None:
        if not exc.fields:
            self.add_error(None, exc.message)
        for name, messages in exc.fields.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class UserAddForm(ServiceErrorsMixin, forms.Form):
    """Invite a colleague: they receive an email with a link to choose their password."""

    email = forms.EmailField(label=_("Email address"), max_length=254)
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    role = forms.ChoiceField(label=_("Role"), widget=forms.RadioSelect)
    language = forms.ChoiceField(
        label=_("Language"),
        choices=User._meta.get_field("language").choices,
        help_text=_("The language of the invitation email and of the pages the colleague sees."),
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the roles of the admin's own kind of organisation can be chosen: a member company
        # cannot create a provider agent or an association analyst.
        roles = ROLES_BY_KIND[OrganisationKind(organisation.kind)]
        self.fields["role"].choices = [(role.value, role.label) for role in roles]
        self.fields["role"].initial = roles[-1].value

"""Forms for the case list and the case page: filters, actions, messages and evidence.

The forms only check the shape of what was typed; the services decide the business rules and
their ApplicationError is shown beside the fields through ``ServiceErrorsMixin``.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from claims.models import CaseKind, CaseState, CloseOutcome, DisputeReason, Outcome, Priority
from claims.selectors import CASE_LIST_DEFAULT_SORT, CASE_LIST_SORTS, case_outputs
from claims.sla.selectors import CLOCK_FILTERS
from members.selectors import counterparties_for

TEXT_MAX = 20000


def _blank_first(choices, label):
    return [("", label), *choices]


class ServiceErrorsMixin:
    """Show an ApplicationError from a service on the form.

    ``exc.fields`` maps field names to messages; names the form does not have, or that
    ``service_field_name`` cannot translate, become errors of the whole form.
    """

    def service_field_name(self, name: str) -> str | None:
        return name if name in self.fields else None

    def add_service_error(self, exc) -> None:
        # The service's message heads the form; its field messages go beside their fields.
        self.add_error(None, exc.message)
        for name, messages in (exc.fields or {}).items():
            field = self.service_field_name(name)
            for message in messages:
                self.add_error(field, message)


# --- The case list ----------------------------------------------------------------------------


CLOCK_FILTER_LABELS = {
    "due_24h": _("Due within 24 h"),
    "warning": _("Warning"),
    "breached": _("Breached"),
}
# A filter the selector learns without a label here fails at import, not on the page.
CLOCK_FILTER_CHOICES = [(value, CLOCK_FILTER_LABELS[value]) for value in CLOCK_FILTERS]

SORT_CHOICES = [(key, key) for key in CASE_LIST_SORTS] + [(f"-{key}", f"-{key}") for key in CASE_LIST_SORTS]


class CaseFilterForm(forms.Form):
    """The filters and sort order of the case list; a value that does not validate is ignored."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Reference, title or text")}),
    )
    state = forms.ChoiceField(label=_("State"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    counterparty = forms.ModelChoiceField(label=_("Counterparty"), required=False, queryset=None)
    priority = forms.ChoiceField(label=_("Priority"), required=False)
    clock = forms.ChoiceField(
        label=_("Deadline"), required=False, choices=_blank_first(CLOCK_FILTER_CHOICES, _("Any deadline"))
    )
    sort = forms.ChoiceField(required=False, choices=SORT_CHOICES, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = _blank_first(CaseState.choices, _("All states"))
        self.fields["kind"].choices = _blank_first(CaseKind.choices, _("All kinds"))
        self.fields["priority"].choices = _blank_first(Priority.choices, _("All priorities"))
        counterparty = self.fields["counterparty"]
        counterparty.queryset = counterparties_for(user=user).order_by("kind", "name_en")
        counterparty.empty_label = _("All counterparties")
        organisation = user.organisation
        if organisation is not None and organisation.is_member:
            counterparty.label, counterparty.empty_label = _("Provider"), _("All providers")
        elif organisation is not None and organisation.is_provider:
            counterparty.label, counterparty.empty_label = _("Member"), _("All members")

    def _valid(self, name):
        self.is_valid()
        return self.cleaned_data.get(name)

    def filters(self) -> dict:
        """Return the valid filters for ``claims.selectors.case_list``."""
        counterparty = self._valid("counterparty")
        return {
            "q": self._valid("q") or "",
            "state": self._valid("state") or "",
            "kind": self._valid("kind") or "",
            "priority": self._valid("priority") or "",
            "clock": self._valid("clock") or "",
            "counterparty": counterparty.pk if counterparty else None,
        }

    def ordering(self) -> str:
        return self._valid("sort") or CASE_LIST_DEFAULT_SORT

    def has_filters(self) -> bool:
        return any(value for value in self.filters().values())


# --- Actions on a case ------------------------------------------------------------------------


def _textarea(rows=4, **attrs):
    return forms.Textarea(attrs={"rows": rows, **attrs})


class ActionForm(ServiceErrorsMixin, forms.Form):
    """The form of one action; ``payload()`` is what ``case_transition`` receives."""

    action = ""
    success_message = ""
    help_text = ""
    button_class = "btn-primary"

    def __init__(self, *args, case, **kwargs):
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)
        self.case = case

    def payload(self) -> dict:
        return dict(self.cleaned_data)


class SubmitForm(ActionForm):
    action = "submit"
    success_message = _("The case was submitted to the provider.")
    help_text = _("Send the draft to the provider. The response clocks start now.")


class AcknowledgeForm(ActionForm):
    action = "acknowledge"
    success_message = _("You acknowledged the case.")
    help_text = _("Confirm that you received the case. A note is posted to the thread.")

    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(3))


class RequestInfoForm(ActionForm):
    action = "request_info"
    success_message = _("Your question was sent to the claimant.")
    help_text = _("The response clock pauses until the claimant answers.")
    button_class = "btn-secondary"

    question = forms.CharField(label=_("Question"), max_length=TEXT_MAX, widget=_textarea())


class ProvideInfoForm(ActionForm):
    action = "provide_info"
    success_message = _("Your answer was sent to the provider.")
    help_text = _("Answer the provider's question; the response clock runs again.")

    answer = forms.CharField(label=_("Answer"), max_length=TEXT_MAX, widget=_textarea())


class RespondForm(ActionForm):
    """A substantive response: a summary, a named contact and an outcome for every output.

    The per-output fields are named ``output_<id>_outcome`` and so on; the service receives
    them as ``items`` in the order of the outputs, so its ``items.<index>.<field>`` errors
    find their way back to the right row.
    """

    action = "respond"
    success_message = _("Your response was sent to the claimant.")
    help_text = _("Give an outcome and its rationale for every output; a named contact is required.")

    summary = forms.CharField(label=_("Summary"), max_length=TEXT_MAX, widget=_textarea(4))
    contact_name = forms.CharField(label=_("Contact name"), max_length=200)
    contact_email = forms.EmailField(label=_("Contact email"), max_length=254)

    ITEM_FIELDS = ("outcome", "rationale", "measures")

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        self.outputs = list(case_outputs(case=case))
        for output in self.outputs:
            self.fields[self._item_field(output, "outcome")] = forms.ChoiceField(
                label=_("Outcome"), choices=_blank_first(Outcome.choices, "—")
            )
            self.fields[self._item_field(output, "rationale")] = forms.CharField(
                label=_("Rationale"), max_length=TEXT_MAX, widget=_textarea(2)
            )
            self.fields[self._item_field(output, "measures")] = forms.CharField(
                label=_("Measures taken"), required=False, max_length=TEXT_MAX, widget=_textarea(2)
            )

    @staticmethod
    def _item_field(output, name):
        return f"output_{output.pk}_{name}"

    def item_rows(self):
        """Return (output, {field name: bound field}) per output, for the template."""
        return [
            (output, {name: self[self._item_field(output, name)] for name in self.ITEM_FIELDS})
            for output in self.outputs
        ]

    def service_field_name(self, name):
        parts = name.split(".")
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
            index, item_field = int(parts[1]), parts[2]
            if index < len(self.outputs):
                return self._item_field(
                    self.outputs[index], "outcome" if item_field == "output" else item_field
                )
            return None
        return super().service_field_name(name)

    def payload(self):
        data = self.cleaned_data
        return {
            "summary": data["summary"],
            "contact_name": data["contact_name"],
            "contact_email": data["contact_email"],
            "items": [
                {
                    "output": output.pk,
                    "outcome": data[self._item_field(output, "outcome")],
                    "rationale": data[self._item_field(output, "rationale")],
                    "measures": data[self._item_field(output, "measures")],
                }
                for output in self.outputs
            ],
        }


class AcceptForm(ActionForm):
    action = "accept"
    success_message = _("You accepted the response; the case is resolved.")
    help_text = _("Accept the provider's response and resolve the case.")

    note = forms.CharField(label=_("Note"), required=False, max_length=TEXT_MAX, widget=_textarea(3))


class DisputeForm(ActionForm):
    action = "dispute"
    success_message = _("You disputed the response; the provider must respond again.")
    help_text = _(
        "Say why the response is not sincere. A second dispute escalates the case to the association."
    )
    button_class = "btn-warning"

    reasons = forms.MultipleChoiceField(
        label=_("Reasons"), choices=DisputeReason.choices, widget=forms.CheckboxSelectMultiple
    )
    note = forms.CharField(label=_("Explanation"), max_length=TEXT_MAX, widget=_textarea())


class WithdrawForm(ActionForm):
    action = "withdraw"
    success_message = _("The case was withdrawn.")
    help_text = _("Withdraw the case. This cannot be undone.")
    button_class = "btn-danger"

    reason = forms.CharField(label=_("Reason"), required=False, max_length=TEXT_MAX, widget=_textarea(3))


class EscalateForm(ActionForm):
    action = "escalate"
    success_message = _("The case was escalated to the association.")
    help_text = _("Take the case over for adjudication by the association.")
    button_class = "btn-warning"

    reason = forms.CharField(label=_("Reason"), max_length=TEXT_MAX, widget=_textarea(3))


class CloseForm(ActionForm):
    action = "close"
    success_message = _("The case was closed.")
    help_text = _("Record the association's outcome and close the case.")

    outcome = forms.ChoiceField(label=_("Outcome"), choices=_blank_first(CloseOutcome.choices, "—"))
    note = forms.CharField(label=_("Closing note"), max_length=TEXT_MAX, widget=_textarea())


ACTION_FORMS = {
    form.action: form
    for form in (
        SubmitForm,
        AcknowledgeForm,
        RequestInfoForm,
        ProvideInfoForm,
        RespondForm,
        AcceptForm,
        DisputeForm,
        WithdrawForm,
        EscalateForm,
        CloseForm,
    )
}


# --- Thread and evidence ----------------------------------------------------------------------


class MessageForm(ServiceErrorsMixin, forms.Form):
    body = forms.CharField(
        label=_("Message"),
        max_length=TEXT_MAX,
        widget=_textarea(4, placeholder=_("Write to the other party…")),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "message")
        super().__init__(*args, **kwargs)


class EvidenceUploadForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(label=_("File"))
    output = forms.ModelChoiceField(label=_("Output"), required=False, queryset=None)
    description = forms.CharField(label=_("Description"), required=False, max_length=500)

    def __init__(self, *args, case, **kwargs):
        kwargs.setdefault("prefix", "evidence")
        super().__init__(*args, **kwargs)
        self.fields["output"].queryset = case_outputs(case=case)
        self.fields["output"].empty_label = _("The whole case")
        self.fields["output"].label_from_instance = lambda output: f"#{output.position} {output.product}"

    def add_service_error(self, exc):
        # The checks on the file itself (type, size, emptiness) name no field: they are about the file.
        if not exc.fields and exc.code.startswith("evidence_"):
            self.add_error("file", exc.message)
            return
        super().add_service_error(exc)

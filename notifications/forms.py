"""The notification settings page: one inbox and one email checkbox per event type."""

from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from members.errors import ApplicationError
from notifications.models import EventType
from notifications.selectors import Channels

# How the settings page groups the event types, in the order a case lives through them.
EVENT_TYPE_GROUPS = (
    (
        _("Case activity"),
        (
            EventType.SUBMIT,
            EventType.ACKNOWLEDGE,
            EventType.REQUEST_INFO,
            EventType.PROVIDE_INFO,
            EventType.RESPOND,
            EventType.ACCEPT,
            EventType.DISPUTE,
            EventType.WITHDRAW,
            EventType.ESCALATE,
            EventType.CLOSE,
            EventType.ACCEPT_BY_DEFAULT,
        ),
    ),
    (_("Deadlines"), (EventType.SLA_WARNING, EventType.SLA_BREACHED, EventType.SLA_REMINDER)),
    (_("Digest"), (EventType.DIGEST,)),
)


def _help_texts() -> dict[str, str]:
    # Built per request: the digest's hour and window are settings, read after start-up.
    return {
        EventType.SLA_WARNING: _("When half and most of the time to a deadline is used."),
        EventType.SLA_BREACHED: _("When a deadline passes unmet. At least one channel stays on."),
        EventType.SLA_REMINDER: _("When the time to review the provider's response runs short."),
        EventType.DIGEST: _(
            "Every morning at %(hour)02d:00 (Japan time): the deadlines of your organisation's cases "
            "in the next %(hours)d hours. Not sent when nothing falls due."
        )
        % {"hour": settings.DIGEST_HOUR, "hours": settings.DIGEST_WINDOW_HOURS},
    }


@dataclass
class PreferenceRow:
    event_type: str
    label: str
    help_text: str
    inbox: forms.BoundField
    email: forms.BoundField
    errors: list[str]


@dataclass
class PreferenceGroup:
    label: str
    rows: list[PreferenceRow]


class NotificationPreferencesForm(forms.Form):
    """Two checkboxes per event type the user can receive: ``<event_type>-inbox`` and ``-email``."""

    def __init__(self, *args, current: dict[str, Channels], event_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.event_types = [event_type for event_type in EventType.values if event_type in set(event_types)]
        self.row_errors: dict[str, list[str]] = {}
        for event_type in self.event_types:
            label = EventType(event_type).label
            self.fields[f"{event_type}-inbox"] = forms.BooleanField(
                required=False, initial=current[event_type].inbox, label=label
            )
            self.fields[f"{event_type}-email"] = forms.BooleanField(
                required=False, initial=current[event_type].email, label=label
            )

    def choices(self) -> dict[str, Channels]:
        """Return the channels chosen for each event type on the page."""
        return {
            event_type: Channels(
                inbox=self.cleaned_data[f"{event_type}-inbox"], email=self.cleaned_data[f"{event_type}-email"]
            )
            for event_type in self.event_types
        }

    def add_application_error(self, error: ApplicationError) -> None:
        """Show a refusal of the service: its message above the grid, its details beside their rows."""
        self.add_error(None, error.message)
        for event_type, messages in error.fields.items():
            self.row_errors.setdefault(event_type, []).extend(messages)

    def groups(self) -> list[PreferenceGroup]:
        """Return the grid's rows, grouped for the page; groups with no row for this user are left out."""
        help_texts = _help_texts()
        groups = []
        for label, event_types in EVENT_TYPE_GROUPS:
            rows = [
                PreferenceRow(
                    event_type=event_type,
                    label=str(EventType(event_type).label),
                    help_text=str(help_texts.get(event_type, "")),
                    inbox=self[f"{event_type}-inbox"],
                    email=self[f"{event_type}-email"],
                    errors=self.row_errors.get(event_type, []),
                )
                for event_type in event_types
                if event_type in self.event_types
            ]
            if rows:
                groups.append(PreferenceGroup(label=str(label), rows=rows))
        return groups

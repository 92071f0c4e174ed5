"""Presentation helpers for RightsDesk templates: Tokyo times, state labels, timeline summaries."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django import template
from django.template.defaultfilters import filesizeformat
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from claims.models import CaseState, CloseOutcome, DisputeReason, Outcome, Priority, Remedy
from claims.services.transitions import ACTIONS
from claims.sla.models import BUSINESS_DAY, ClockKind, TimeBasis

register = template.Library()

# The association works in Tokyo; every time is shown there, with its zone, whatever the viewer's.
TOKYO = ZoneInfo("Asia/Tokyo")

# What each timeline entry is called: the past tense of the action that wrote it.
EVENT_LABELS = {
    "created": gettext_lazy("Created"),
    "submit": gettext_lazy("Submitted"),
    "acknowledge": gettext_lazy("Acknowledged"),
    "request_info": gettext_lazy("Information requested"),
    "provide_info": gettext_lazy("Information provided"),
    "respond": gettext_lazy("Responded"),
    "accept": gettext_lazy("Response accepted"),
    "dispute": gettext_lazy("Response disputed"),
    "withdraw": gettext_lazy("Withdrawn"),
    "escalate": gettext_lazy("Escalated"),
    "close": gettext_lazy("Closed"),
    "accept_by_default": gettext_lazy("Accepted by default"),
    "evidence_added": gettext_lazy("Evidence added"),
    "message_posted": gettext_lazy("Message posted"),
    "outputs_added": gettext_lazy("Outputs added"),
    "sla_warning": gettext_lazy("Deadline warning"),
    "sla_breached": gettext_lazy("Deadline breached"),
    "sla_reminder": gettext_lazy("Review reminder"),
    "response_adjudicated": gettext_lazy("Response adjudicated"),
    "evidence_linked": gettext_lazy("Same output found in another case"),
}

EVENT_DATA_LABELS = {
    "note": gettext_lazy("Note"),
    "question": gettext_lazy("Question"),
    "answer": gettext_lazy("Answer"),
    "reason": gettext_lazy("Reason"),
    "reasons": gettext_lazy("Reasons"),
    "outcome": gettext_lazy("Outcome"),
    "outcomes": gettext_lazy("Outcomes"),
    "contact": gettext_lazy("Contact"),
    "outputs": gettext_lazy("Outputs"),
    "count": gettext_lazy("Outputs added"),
    "respondent": gettext_lazy("Respondent"),
    "name": gettext_lazy("File"),
    "type": gettext_lazy("Type"),
    "size": gettext_lazy("Size"),
    "sha256": gettext_lazy("SHA-256"),
    "dispute_number": gettext_lazy("Dispute number"),
    "clock": gettext_lazy("Clock"),
    "threshold": gettext_lazy("Time used"),
    "due_at": gettext_lazy("Due"),
    "at": gettext_lazy("At"),
    "verdict": gettext_lazy("Verdict"),
    "response": gettext_lazy("Response"),
    "match": gettext_lazy("Match"),
    "distance": gettext_lazy("Differing bits"),
}
# What a clock shows (claims.sla.selectors.ClockView.state): the clock's status, sharpened by
# how much of its target is used.
CLOCK_STATE_LABELS = {
    "running": pgettext_lazy("clock state", "Running"),
    "warning": pgettext_lazy("clock state", "Warning"),
    "breached": pgettext_lazy("clock state", "Breached"),
    "paused": pgettext_lazy("clock state", "Paused"),
    "met": pgettext_lazy("clock state", "Met"),
    "met_late": pgettext_lazy("clock state", "Met late"),
    "stopped": pgettext_lazy("clock state", "Stopped"),
}

# Ids of rows shown elsewhere on the page; they mean nothing to a reader of the timeline.
EVENT_DATA_HIDDEN = frozenset({"message", "response"})
SUMMARY_MAX = 120
DESCENDING_FIRST = ("created", "priority")


def _label(choices, value):
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def tokyo(value, with_seconds=False):
    """Format an aware datetime in Asia/Tokyo with its zone, e.g. ``2026-11-25 14:03 JST``."""
    if not isinstance(value, datetime):
        return ""
    fmt = "%Y-%m-%d %H:%M:%S %Z" if with_seconds else "%Y-%m-%d %H:%M %Z"
    return value.astimezone(TOKYO).strftime(fmt)


@register.filter
def tokyo_date(value):
    if not isinstance(value, datetime):
        return ""
    return value.astimezone(TOKYO).strftime("%Y-%m-%d")


@register.filter
def tokyo_time(value):
    """Format the time of day in Asia/Tokyo with its zone, e.g. ``14:03 JST``."""
    if not isinstance(value, datetime):
        return ""
    return value.astimezone(TOKYO).strftime("%H:%M %Z")


@register.filter
def state_label(value):
    return _label(CaseState, value) if value else ""


@register.filter
def remedy_labels(values):
    """Return the translated names of a case's remedies."""
    return [_label(Remedy, value) for value in values or []]


@register.filter
def sha_short(value, length=12):
    return (value or "")[:length]


@register.simple_tag
def state_badge(state):
    return format_html('<span class="badge state-{}">{}</span>', state, state_label(state))


@register.simple_tag
def priority_badge(priority):
    return format_html(
        '<span class="priority priority-{}">{}</span>',
        priority,
        _label(Priority, priority) if priority else "",
    )


@register.filter
def clock_state_label(state):
    return str(CLOCK_STATE_LABELS.get(state, state))


@register.simple_tag
def clock_badge(state):
    return format_html('<span class="badge clock-{}">{}</span>', state, clock_state_label(state))


def _duration_parts(amount: timedelta, basis: str) -> list[str]:
    """Return the two largest units of a non-negative duration, e.g. ["1 business day", "3 h"]."""
    business = basis == TimeBasis.BUSINESS
    days, rest = divmod(amount, BUSINESS_DAY if business else timedelta(days=1))
    hours, rest = divmod(rest, timedelta(hours=1))
    minutes = rest // timedelta(minutes=1)
    parts = []
    if days and business:
        parts.append(ngettext("%(count)d business day", "%(count)d business days", days) % {"count": days})
    elif days:
        parts.append(ngettext("%(count)d day", "%(count)d days", days) % {"count": days})
    if hours:
        parts.append(_("%(count)d h") % {"count": hours})
    # Minutes matter only within the last day; beside days they are noise.
    if minutes and not days:
        parts.append(_("%(count)d min") % {"count": minutes})
    return parts


@register.filter
def sla_duration(value, basis=TimeBasis.CALENDAR):
    """Format a clock's time in its basis: "1 business day 3 h", "2 days 4 h", "overdue by 5 h".

    Business days are the association's nine-hour working days; a negative duration is overdue.
    """
    if not isinstance(value, timedelta):
        return ""
    overdue = value < timedelta(0)
    parts = _duration_parts(abs(value), basis)
    text = " ".join(parts) if parts else _("less than a minute")
    return _("overdue by %(duration)s") % {"duration": text} if overdue else text


@register.filter
def event_label(action):
    """Return the translated name of a timeline entry."""
    if action in EVENT_LABELS:
        return str(EVENT_LABELS[action])
    if action in ACTIONS:
        return str(ACTIONS[action].label)
    return action.replace("_", " ")


def _event_value(key, value):
    if key == "reasons" and isinstance(value, list):
        return ", ".join(_label(DisputeReason, reason) for reason in value)
    if key == "outcome" and isinstance(value, str):
        return _label(CloseOutcome, value)
    if key == "outcomes" and isinstance(value, dict):
        return ", ".join(f"#{position} {_label(Outcome, outcome)}" for position, outcome in value.items())
    if key == "clock" and isinstance(value, str):
        return _label(ClockKind, value)
    if key == "threshold" and isinstance(value, int):
        return f"{value}%"
    if key in ("due_at", "at") and isinstance(value, str):
        moment = parse_datetime(value)
        return tokyo(moment) if moment else value
    if key == "sha256" and isinstance(value, str):
        return value[:12]
    if key == "size" and isinstance(value, int):
        return filesizeformat(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    text = str(value)
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


@register.filter
def event_summary(data):
    """Return (label, value) pairs that summarise an event's data for the timeline."""
    if not isinstance(data, dict):
        return []
    return [
        (str(EVENT_DATA_LABELS.get(key, key.replace("_", " "))), _event_value(key, value))
        for key, value in data.items()
        if key not in EVENT_DATA_HIDDEN and value not in (None, "", [], {})
    ]


@register.inclusion_tag("claims/partials/sort_header.html", takes_context=True)
def sort_header(context, key, label):
    """Render a column heading that sorts the case list by ``key``, toggling the direction."""
    current = context.get("sort") or ""
    active = current.removeprefix("-") == key
    descending = current.startswith("-")
    if active:
        next_sort = key if descending else f"-{key}"
    else:
        # Dates and priorities are most useful newest or most urgent first.
        next_sort = f"-{key}" if key in DESCENDING_FIRST else key
    # Keep the filters chosen (not the page: a new order starts at the first page).
    chosen = {
        name: [value for value in values if value]
        for name, values in context["request"].GET.lists()
        if name not in ("page", "sort")
    }
    params = sorted((name, values) for name, values in chosen.items() if values)
    params.append(("sort", [next_sort]))
    direction = ("descending" if descending else "ascending") if active else "none"
    return {
        "url": "?" + urlencode(params, doseq=True),
        "label": label,
        "active": active,
        "descending": descending,
        "aria_sort": direction,
        "title": _("Sort by %(column)s") % {"column": label},
    }

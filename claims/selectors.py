"""Reads of cases, always scoped to what the user's organisation may see."""

from django.db.models import Case as SqlCase
from django.db.models import Count, F, IntegerField, OrderBy, Prefetch, Q, QuerySet, Value, When
from django.http import Http404

from claims.models import (
    CLOSED_STATES,
    PRIORITY_ORDER,
    Case,
    CaseEvent,
    CaseState,
    Evidence,
    Message,
    Output,
    Response,
    ResponseItem,
)
from claims.sla.selectors import CLOCK_FILTERS, cases_annotate_clocks, cases_filter_by_clock
from members.models import OrganisationKind

# The order in which a case moves through its life; sorting by state follows it rather than the
# alphabet, so "submitted" comes before "responded" and the closed states come last.
STATE_ORDER = {state: index for index, state in enumerate(CaseState)}

# Sort keys the case list accepts, and the columns each one sorts by (ascending).
CASE_LIST_SORTS = {
    "created": ("created_at",),
    "reference": ("reference",),
    "priority": ("priority_rank",),
    "state": ("state_rank",),
    "title": ("title",),
    "due": ("next_due_at",),
}
CASE_LIST_DEFAULT_SORT = "-created"


def cases_visible_to(*, user) -> QuerySet[Case]:
    """Return the cases the user's organisation may see.

    A member sees the cases it filed (drafts included); a provider the submitted cases
    addressed to it; the association every submitted case. Drafts stay with their author's
    organisation, and so does a draft withdrawn before it was ever submitted.
    """
    never_sent = Q(state=CaseState.DRAFT) | Q(state=CaseState.WITHDRAWN, submitted_at__isnull=True)
    if not user.is_authenticated or user.organisation_id is None:
        return Case.objects.none()
    kind = user.organisation.kind
    if kind == OrganisationKind.MEMBER:
        return Case.objects.filter(claimant_id=user.organisation_id)
    if kind == OrganisationKind.PROVIDER:
        return Case.objects.filter(respondent_id=user.organisation_id).exclude(never_sent)
    if kind == OrganisationKind.ASSOCIATION:
        return Case.objects.exclude(never_sent)
    return Case.objects.none()


def case_get_for_user(*, user, reference: str) -> Case:
    """Return the case by reference, or raise Http404 when this user may not see it."""
    try:
        return (
            cases_visible_to(user=user)
            .select_related("claimant", "respondent", "filed_by")
            .get(reference=reference)
        )
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def _rank(field: str, ranks: dict) -> SqlCase:
    return SqlCase(
        *(When(**{field: value}, then=Value(rank)) for value, rank in ranks.items()),
        default=Value(len(ranks)),
        output_field=IntegerField(),
    )


def case_list_sort_columns(ordering: str) -> list[OrderBy]:
    """Translate a sort key such as ``"-priority"`` into order_by terms; unknown keys sort by default.

    Cases without a value (no running clock, so no due time) come last in either direction.
    """
    key = ordering.removeprefix("-")
    if key == "created_at":  # the column name is accepted as well as the key
        key = "created"
    if key not in CASE_LIST_SORTS:
        return case_list_sort_columns(CASE_LIST_DEFAULT_SORT)
    descending = ordering.startswith("-")
    # A stable tie-break keeps pagination from repeating or skipping rows with equal sort values.
    columns = [*CASE_LIST_SORTS[key], "id"]
    if descending:
        return [F(column).desc(nulls_last=True) for column in columns]
    return [F(column).asc(nulls_last=True) for column in columns]


def case_list(*, user, filters: dict | None = None, ordering: str = CASE_LIST_DEFAULT_SORT) -> QuerySet[Case]:
    """Return the user's visible cases, filtered and sorted for the case list.

    ``filters`` may hold ``state``, ``kind``, ``priority``, ``counterparty`` (an organisation
    id), ``clock`` (one of ``CLOCK_FILTERS``) and ``q`` (text in the reference, title or
    description). ``ordering`` is one of ``CASE_LIST_SORTS``, prefixed with ``-`` for
    descending order. Each case carries ``next_due_at`` and ``clock_breached`` for its deadline.
    """
    filters = filters or {}
    qs = cases_visible_to(user=user).select_related("claimant", "respondent")
    if filters.get("state"):
        qs = qs.filter(state=filters["state"])
    if filters.get("kind"):
        qs = qs.filter(kind=filters["kind"])
    if filters.get("priority"):
        qs = qs.filter(priority=filters["priority"])
    if filters.get("counterparty"):
        counterparty = filters["counterparty"]
        qs = qs.filter(Q(claimant_id=counterparty) | Q(respondent_id=counterparty))
    if filters.get("clock") in CLOCK_FILTERS:
        qs = cases_filter_by_clock(qs, filters["clock"])
    text = (filters.get("q") or "").strip()
    if text:
        qs = qs.filter(
            Q(reference__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        )
    qs = qs.annotate(
        output_count=Count("outputs", distinct=True),
        priority_rank=_rank("priority", PRIORITY_ORDER),
        state_rank=_rank("state", STATE_ORDER),
    )
    qs = cases_annotate_clocks(qs)
    return qs.order_by(*case_list_sort_columns(ordering))


def case_outputs(*, case: Case) -> QuerySet[Output]:
    return case.outputs.order_by("position")


def case_evidence(*, case: Case) -> QuerySet[Evidence]:
    return case.evidence.select_related("uploaded_by", "uploaded_by__organisation", "output").order_by(
        "uploaded_at", "id"
    )


def case_responses(*, case: Case) -> QuerySet[Response]:
    items = ResponseItem.objects.select_related("output").order_by("output__position")
    return (
        case.responses.select_related("author", "author__organisation")
        .prefetch_related(Prefetch("items", queryset=items))
        .order_by("created_at", "id")
    )


def case_messages(*, case: Case) -> QuerySet[Message]:
    return case.messages.select_related("author", "author__organisation").order_by("created_at", "id")


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor", "actor__organisation").order_by("seq")


def case_accepts_contributions_from(*, case: Case, user) -> bool:
    """Return whether the user may post messages and evidence to the case now.

    Mirrors the check ``message_post`` and ``evidence_add`` make, so the page only offers
    the forms that would be accepted; the services still decide.
    """
    if case.state in CLOSED_STATES or user.organisation_id is None:
        return False
    if user.organisation_id == case.claimant_id:
        return user.is_member_side
    if user.organisation_id == case.respondent_id:
        return user.is_provider_side and case.state != CaseState.DRAFT
    return False


def evidence_get_for_user(*, user, reference: str, evidence_id: int) -> Evidence:
    case = case_get_for_user(user=user, reference=reference)
    try:
        return case.evidence.get(pk=evidence_id)
    except Evidence.DoesNotExist:
        raise Http404("No such file.") from None

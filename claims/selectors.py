"""Reads of cases, always scoped to what the user's organisation may see."""

from django.db.models import Q, QuerySet
from django.http import Http404

from claims.models import Case, CaseEvent, CaseState, Evidence
from members.models import OrganisationKind


def cases_visible_to(*, user) -> QuerySet[Case]:
    """Return the cases the user's organisation may see.

    A member sees the cases it filed (drafts included); a provider the submitted cases
    addressed to it; the association every submitted case. Drafts stay with their author's
    organisation.
    """
    if not user.is_authenticated or user.organisation_id is None:
        return Case.objects.none()
    kind = user.organisation.kind
    if kind == OrganisationKind.MEMBER:
        return Case.objects.filter(claimant_id=user.organisation_id)
    if kind == OrganisationKind.PROVIDER:
        return Case.objects.filter(respondent_id=user.organisation_id).exclude(state=CaseState.DRAFT)
    if kind == OrganisationKind.ASSOCIATION:
        return Case.objects.exclude(state=CaseState.DRAFT)
    return Case.objects.none()


def case_get_for_user(*, user, reference: str, for_update: bool = False) -> Case:
    """Return the case by reference, or raise Http404 when this user may not see it."""
    try:
        return (
            cases_visible_to(user=user)
            .select_related("claimant", "respondent", "filed_by")
            .get(reference=reference)
        )
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def case_list(*, user, filters: dict | None = None, ordering: str = "-created_at") -> QuerySet[Case]:
    """Return the user's visible cases, filtered and sorted for the case list."""
    from django.db.models import Count

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
    if filters.get("q"):
        text = filters["q"].strip()
        qs = qs.filter(
            Q(reference__icontains=text) | Q(title__icontains=text) | Q(description__icontains=text)
        )
    qs = qs.annotate(output_count=Count("outputs", distinct=True))
    return qs.order_by(ordering, "-id")


def case_events(*, case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("actor", "actor__organisation").order_by("seq")


def evidence_get_for_user(*, user, reference: str, evidence_id: int) -> Evidence:
    case = case_get_for_user(user=user, reference=reference)
    try:
        return case.evidence.get(pk=evidence_id)
    except Evidence.DoesNotExist:
        raise Http404("No such file.") from None

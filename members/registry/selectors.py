"""Reads of the registry, always scoped to what the user's organisation may see.

A member sees its own works and the grants it made; a provider the grants made to it (and no
work pages: it learns of works through its grants and its feed); the association everything,
read-only. Anything else is a 404, exactly like something that does not exist.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from members.models import Organisation, OrganisationKind, Work
from members.registry.models import Grant, GrantUse, WorkIdentifier, WorkImage
from members.registry.resolution import GrantDecision, grant_decide

SEARCH_MAX_LENGTH = 200


def _kind(user) -> str | None:
    if not user.is_authenticated or user.organisation_id is None:
        return None
    return user.organisation.kind


def works_visible_to(*, user) -> QuerySet[Work]:
    kind = _kind(user)
    if kind == OrganisationKind.MEMBER:
        return Work.objects.filter(owner_id=user.organisation_id)
    if kind == OrganisationKind.ASSOCIATION:
        return Work.objects.all()
    return Work.objects.none()


def works_search(*, user, query: str = "") -> QuerySet[Work]:
    """Return the visible works whose Japanese or English title contains ``query`` (any case)."""
    works = works_visible_to(user=user).select_related("owner")
    text = (query or "").replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
    if text:
        works = works.filter(Q(title_ja__icontains=text) | Q(title_en__icontains=text))
    return works.prefetch_related(
        Prefetch("identifiers", queryset=WorkIdentifier.objects.order_by("scheme", "value"))
    )


def work_get_for_user(*, user, work_id) -> Work:
    """Return the work with its identifiers and images, or raise Http404 when the user may not see it."""
    try:
        return (
            works_visible_to(user=user)
            .select_related("owner")
            .prefetch_related(
                Prefetch("identifiers", queryset=WorkIdentifier.objects.order_by("scheme", "value")),
                Prefetch("images", queryset=WorkImage.objects.order_by("uploaded_at", "id")),
            )
            .get(pk=work_id)
        )
    except (Work.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such work.") from None


def work_images(*, work: Work) -> QuerySet[WorkImage]:
    """Return a work the caller may see's reference images, with who uploaded them."""
    return WorkImage.objects.filter(work=work).select_related("uploaded_by__organisation")


def work_image_get_for_user(*, user, work_id, image_id) -> WorkImage:
    try:
        return WorkImage.objects.get(pk=image_id, work__in=works_visible_to(user=user).filter(pk=work_id))
    except (WorkImage.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such image.") from None


def user_may_edit_work(*, user, work: Work) -> bool:
    return user.is_member_side and work.owner_id == user.organisation_id


def grants_visible_to(*, user) -> QuerySet[Grant]:
    kind = _kind(user)
    if kind == OrganisationKind.MEMBER:
        return Grant.objects.filter(grantor_id=user.organisation_id)
    if kind == OrganisationKind.PROVIDER:
        return Grant.objects.filter(grantee_id=user.organisation_id)
    if kind == OrganisationKind.ASSOCIATION:
        return Grant.objects.all()
    return Grant.objects.none()


def grant_ledger(*, user, filters: dict | None = None) -> QuerySet[Grant]:
    """Return the visible ledger rows, newest first, with what a row shows."""
    grants = grants_visible_to(user=user).with_parties().ledger_order()
    for name, value in (filters or {}).items():
        if value not in (None, ""):
            grants = grants.filter(**{name: value})
    return grants


def grant_get_for_user(*, user, grant_id) -> Grant:
    try:
        return grants_visible_to(user=user).with_parties().get(pk=grant_id)
    except (Grant.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("No such grant.") from None


def providers_for_grants() -> QuerySet[Organisation]:
    return Organisation.objects.providers().filter(is_active=True).order_by("name_en")


def checkable_providers(*, user) -> QuerySet[Organisation]:
    """The providers the user may ask about: itself for a provider, every provider for the others."""
    providers = Organisation.objects.providers().order_by("name_en")
    if _kind(user) == OrganisationKind.PROVIDER:
        return providers.filter(pk=user.organisation_id)
    if _kind(user) in (OrganisationKind.MEMBER, OrganisationKind.ASSOCIATION):
        return providers
    return providers.none()


def checkable_works(*, user) -> QuerySet[Work]:
    """The works the user may ask about: its own for a member; every work for a provider and the association.

    A provider asks only about itself, and every work's reservation is public (TDMRep), so
    knowing that a work id exists tells it nothing it could not read there.
    """
    if _kind(user) == OrganisationKind.PROVIDER:
        return Work.objects.all()
    return works_visible_to(user=user)


# --- Deciding ---------------------------------------------------------------------------------


def _ledger_rows_for(*, provider_id: int, owner_ids, uses=None, work_ids=None) -> list[Grant]:
    rows = Grant.objects.filter(grantee_id=provider_id, grantor_id__in=list(owner_ids))
    if uses is not None:
        rows = rows.filter(use__in=list(uses))
    if work_ids is not None:
        rows = rows.filter(Q(work_id__in=list(work_ids)) | Q(work__isnull=True))
    return list(rows.select_related("work", "grantor", "grantee"))


def grant_check(*, provider: Organisation, work: Work, use: str, at: datetime) -> GrantDecision:
    """Answer "may ``provider`` use ``work`` for ``use`` at ``at``?" with the deciding grant.

    See ``members.registry.resolution`` for the rule and its precedence.
    """
    rows = _ledger_rows_for(
        provider_id=provider.pk, owner_ids=[work.owner_id], uses=[use], work_ids=[work.pk]
    )
    return grant_decide(
        rows, provider_id=provider.pk, work_id=work.pk, owner_id=work.owner_id, use=use, at=at
    )


@dataclass(frozen=True)
class CaseWorkDecision:
    """The decision for one work of a case and one use, at one or more moments outputs were seen."""

    work: Work
    use: str
    at: datetime
    decision: GrantDecision
    positions: tuple[int, ...]


def case_registry_decisions(*, case, outputs, works) -> list[CaseWorkDecision]:
    """Decide, for each work of the case and each use, whether the respondent was permitted.

    The moment is when the outputs were seen: one line per work and use at the earliest
    ``seen_at``, and one more for each later ``seen_at`` whose decision differs. Two queries.
    """
    works = list(works)
    seen = sorted({output.seen_at for output in outputs if output.seen_at is not None})
    if not works or not seen:
        return []
    positions = {at: tuple(sorted(o.position for o in outputs if o.seen_at == at)) for at in seen}
    rows = _ledger_rows_for(
        provider_id=case.respondent_id,
        owner_ids={work.owner_id for work in works},
        work_ids=[w.pk for w in works],
    )
    lines = []
    for work in works:
        for use in GrantUse.values:
            previous = None
            for at in seen:
                decision = grant_decide(
                    rows,
                    provider_id=case.respondent_id,
                    work_id=work.pk,
                    owner_id=work.owner_id,
                    use=use,
                    at=at,
                )
                key = (decision.permitted, getattr(decision.grant, "pk", None))
                if key != previous:
                    lines.append(CaseWorkDecision(work, use, at, decision, positions[at]))
                    previous = key
                else:
                    last = lines[-1]
                    lines[-1] = CaseWorkDecision(
                        last.work, use, last.at, last.decision, last.positions + positions[at]
                    )
    return lines

"""Reads of case links, shaped by who is looking.

For a viewer of case A linked to case B:

- B is a case the viewer may see (``cases_visible_to``): the link is shown in full (B's
  reference, title, parties). So the association sees both submitted cases; a member its own
  other case; a provider B when B is also addressed to it.
- the viewer is A's claimant and B, filed by another member, has been submitted: the member
  learns only that another claim concerns the same output (no reference, claimant or title).
- otherwise (a provider whose B is addressed to another provider; anyone while B is another
  organisation's draft) the link is not shown at all.
"""

from dataclasses import dataclass
from datetime import datetime

from claims.models import Case, Evidence
from claims.selectors import cases_visible_to

from .models import CaseLink


@dataclass(frozen=True)
class LinkView:
    """One link of a case as one viewer may see it; ``other_case`` is None when withheld."""

    link: CaseLink
    kind: str
    distance: int
    frames_matched: int
    created_at: datetime
    evidence: Evidence  # the file of the case being viewed that matched
    other_case: Case | None

    @property
    def disclosed(self) -> bool:
        return self.other_case is not None


def case_links_for(*, user, case: Case) -> list[LinkView]:
    """Return the links of ``case`` (which ``user`` may see) that ``user`` may know of, oldest first."""
    links = list(
        CaseLink.objects.of_case(case.pk)
        .select_related(
            "case_a__claimant",
            "case_a__respondent",
            "case_b__claimant",
            "case_b__respondent",
            "evidence_a",
            "evidence_b",
        )
        .order_by("created_at", "id")
    )
    if not links:
        return []
    others = {link.case_b_id if link.case_a_id == case.pk else link.case_a_id for link in links}
    visible = set(cases_visible_to(user=user).filter(pk__in=others).values_list("pk", flat=True))
    is_claimant = user.is_member_side and user.organisation_id == case.claimant_id
    views = []
    for link in links:
        ours_first = link.case_a_id == case.pk
        other = link.case_b if ours_first else link.case_a
        if other.pk in visible:
            shown = other
        elif is_claimant and other.submitted_at is not None:
            shown = None
        else:
            continue
        views.append(
            LinkView(
                link=link,
                kind=link.kind,
                distance=link.distance,
                frames_matched=link.frames_matched,
                created_at=link.created_at,
                evidence=link.evidence_a if ours_first else link.evidence_b,
                other_case=shown,
            )
        )
    return views

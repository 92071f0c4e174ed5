"""Deciding whether a provider may use a work: a pure function over ledger rows, no database.

``grant_decide`` is the one rule; ``members.registry.selectors.grant_check`` loads the rows that
can matter and calls it, and so do the case page and the published files. Keeping it pure lets
the property tests (hypothesis) run it over thousands of generated ledgers.

The rule, for provider P, work W (owned by member M), use U and instant T:

1. A grant *covers* the question when it is not itself a revocation, was made by M to P for U,
   names W or names no work (all of M's works), and T lies in its validity window: from
   ``valid_from`` inclusive to ``valid_until`` exclusive (open-ended when null).
2. A covering grant is *in force* unless a revocation of it takes effect at or before T
   (the revocation's ``valid_from``); from then on it permits nothing.
3. No grant in force: **not permitted** (default deny).
4. Otherwise permitted, and the deciding grant is, by precedence: a grant naming W before an
   all-works grant; then the one valid from the latest instant; then the latest recorded (id).
   Precedence only chooses which grant to cite: any grant in force permits.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

NOT_PERMITTED = "no grant: not permitted"
PERMITTED_WORK = "permitted by a grant for this work"
PERMITTED_ALL_WORKS = "permitted by a grant for all of the member's works"


@dataclass(frozen=True)
class GrantDecision:
    """The answer to "may provider P use work W for use U at time T?"."""

    permitted: bool
    grant: Any | None
    reason: str


def revocations_by_grant(rows) -> dict[int, datetime]:
    """Map each revoked grant's id to the instant its revocation takes effect."""
    return {row.revokes_id: row.valid_from for row in rows if row.revokes_id is not None}


def grant_in_force(grant, *, at: datetime, revoked_from: dict[int, datetime]) -> bool:
    """Return whether the (non-revocation) grant permits at ``at``: in its window and not yet revoked."""
    if grant.revokes_id is not None:
        return False
    if at < grant.valid_from or (grant.valid_until is not None and at >= grant.valid_until):
        return False
    revoked_at = revoked_from.get(grant.pk)
    return revoked_at is None or at < revoked_at


def grant_decide(
    rows, *, provider_id: int, work_id: int, owner_id: int, use: str, at: datetime
) -> GrantDecision:
    """Decide from ledger ``rows`` (grants and revocations, any superset of the relevant ones)."""
    rows = list(rows)
    revoked_from = revocations_by_grant(rows)
    in_force = [
        row
        for row in rows
        if row.grantee_id == provider_id
        and row.grantor_id == owner_id
        and row.use == use
        and (row.work_id is None or row.work_id == work_id)
        and grant_in_force(row, at=at, revoked_from=revoked_from)
    ]
    if not in_force:
        return GrantDecision(permitted=False, grant=None, reason=NOT_PERMITTED)
    deciding = max(in_force, key=lambda row: (row.work_id is not None, row.valid_from, row.pk))
    reason = PERMITTED_WORK if deciding.work_id is not None else PERMITTED_ALL_WORKS
    return GrantDecision(permitted=True, grant=deciding, reason=reason)
